/* SPDX-License-Identifier: GPL-2.0 */
/* Text for a terminal's columns: widths, byte sizes and counts made short. */
#ifndef CUSTOS_TERMTEXT_H
#define CUSTOS_TERMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Display columns of len bytes of UTF-8 text with no control byte: by
 * wcwidth() in a UTF-8 locale (a wide character takes two), else a column
 * a character.
 */
size_t text_columns(const char *s, size_t len, bool utf8);
/* The longest start of s (len bytes) that takes at most width columns: its length. */
size_t text_fit(const char *s, size_t len, size_t width, bool utf8);
/* 1023 B, 1.5 KiB, 12.3 MiB, 123 GiB. */
const char *text_bytes(uint64_t v, char out[24]);
/* The number, or when it is wider than width, 1.2k, 12.3M, 123G... */
const char *text_count(uint64_t v, int width, char out[24]);

#endif /* CUSTOS_TERMTEXT_H */
