// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <sys/utsname.h>

#include "lib/version.h"
#include "build_info.h" /* generated in build/ by scripts/version.sh */

#ifdef __clang__
#define COMPILER "clang " __clang_version__
#else
#define COMPILER "gcc " __VERSION__
#endif

const char *version_string(void)
{
	return CUSTOS_VERSION;
}

void version_print(FILE *f, const char *libbpf)
{
	struct utsname u;

	fprintf(f, "custos %s\n", CUSTOS_VERSION);
	fprintf(f, "commit:   %s\n", CUSTOS_GIT_COMMIT);
	fprintf(f, "built:    %s\n", CUSTOS_BUILD_DATE);
	fprintf(f, "compiler: %s\n", COMPILER);
	fprintf(f, "libbpf:   %s\n", libbpf);
	if (uname(&u) == 0)
		fprintf(f, "kernel:   %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
}
