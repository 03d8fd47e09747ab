/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel bytes (paths, process names, arguments, SQL) as JSON strings.
 *
 * Valid UTF-8 is kept as it is; jansson escapes quotes and control bytes
 * when it writes the line. If the bytes are not valid UTF-8, every invalid
 * byte becomes the four characters \xNN and every backslash becomes \\, so
 * the original bytes can be recovered exactly; the caller lists such fields
 * in custos.escaped so a reader knows to decode them.
 */
#ifndef CUSTOS_JSONSTR_H
#define CUSTOS_JSONSTR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s[0] starts none. */
size_t utf8_sequence_len(const unsigned char *s, size_t avail);
bool utf8_valid(const char *s, size_t len);

/* The escaped form of len bytes into out (room for 4 * len bytes); returns its length. */
size_t jsonstr_escape(const char *data, size_t len, char *out);

/* A new JSON string for len bytes of data; *escaped is set if they were escaped. NULL on ENOMEM. */
json_t *jsonstr_bytes(const char *data, size_t len, bool *escaped);
/*
 * Always the escaped form (invalid bytes as \xNN, backslashes doubled), for
 * a value that must be decoded like its siblings: the elements of an array
 * listed in custos.escaped.
 */
json_t *jsonstr_bytes_escaped(const char *data, size_t len);
/* The same for a NUL-terminated string of at most max bytes. */
json_t *jsonstr_cstr(const char *s, size_t max, bool *escaped);

#endif /* CUSTOS_JSONSTR_H */
