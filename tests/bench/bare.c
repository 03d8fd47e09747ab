// SPDX-License-Identifier: GPL-2.0
/* Loads and attaches the bare monitor of bare.bpf.c, and takes it away. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bare.skel.h"
#include "bench.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

struct bare_bpf *bare_start(void)
{
	struct bare_bpf *bare;

	libbpf_set_print(quiet);
	bare = bare_bpf__open_and_load();
	if (!bare) {
		fprintf(stderr, "custos-bench: cannot load the bare monitor: %s\n",
			strerror(errno));
		return NULL;
	}
	if (bare_bpf__attach(bare)) {
		fprintf(stderr, "custos-bench: cannot attach the bare monitor: %s\n",
			strerror(errno));
		bare_bpf__destroy(bare);
		return NULL;
	}
	return bare;
}

void bare_stop(struct bare_bpf *bare)
{
	bare_bpf__destroy(bare);
}
