/* SPDX-License-Identifier: GPL-2.0 */
/* What this binary is: its version, and how and from what it was built. */
#ifndef CUSTOS_VERSION_H
#define CUSTOS_VERSION_H

#include <stdio.h>

/* "0.1.0": CUSTOS_VERSION of the Makefile. */
const char *version_string(void);

/*
 * "custos VERSION" and, one per line, the git commit, build date, compiler,
 * libbpf (as kernel_libbpf_version() says it) and the kernel this runs on.
 */
void version_print(FILE *f, const char *libbpf);

#endif /* CUSTOS_VERSION_H */
