/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Function offsets in ELF files, for uprobes. libbpf 1.1 refuses to attach
 * by name when a library exports a name twice (libmariadb exports each
 * function under two symbol versions at the same address), so custos finds
 * the offsets itself: exported (.dynsym) first, then .symtab if the file
 * has one.
 */
#ifndef CUSTOS_ELFSYM_H
#define CUSTOS_ELFSYM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * For each of n names, its file offset in offsets[i] (0 when absent).
 * Returns how many were found, or -errno if the file is not a readable ELF.
 */
int elfsym_find(const char *path, const char *const *names, size_t n, uint64_t *offsets);

/* Does the ELF file at path need (DT_NEEDED) a library whose name starts with prefix? */
bool elfsym_needs(const char *path, const char *prefix);

/* Does the file contain the bytes of marker (a string a library always carries)? */
bool elfsym_contains(const char *path, const char *marker);

#endif /* CUSTOS_ELFSYM_H */
