// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>

#include <custos/version.h>
#include "version.h" /* generated in build/ by scripts/version.sh */

#ifdef __clang__
#define COMPILER "clang " __clang_version__
#else
#define COMPILER "gcc " __VERSION__
#endif

const char *version_string(void)
{
	return CUSTOS_VERSION;
}

void version_print(FILE *f)
{
	struct utsname u;

	fprintf(f, "custos %s\n", CUSTOS_VERSION);
	fprintf(f, "commit:   %s\n", CUSTOS_GIT_COMMIT);
	fprintf(f, "built:    %s\n", CUSTOS_BUILD_DATE);
	fprintf(f, "compiler: %s\n", COMPILER);
	fprintf(f, "libbpf:   %u.%u (built against %d.%d)\n", libbpf_major_version(),
		libbpf_minor_version(), LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	if (uname(&u) == 0)
		fprintf(f, "kernel:   %s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
}
