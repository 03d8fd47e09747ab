/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Positions in JSON text. jansson does not remember where a parsed value
 * came from, so error messages about a value scan the raw text again to
 * find its line and column.
 *
 * Lines and columns are 1-based and, as in jansson's json_error_t, a column
 * counts characters (UTF-8 sequences), not bytes; a tab is one column.
 */
#ifndef CUSTOS_JSON_LOCATE_H
#define CUSTOS_JSON_LOCATE_H

#include <stdbool.h>
#include <stddef.h>

/* One step down a JSON document: the member named key, or (key NULL) the element at index. */
struct json_step {
	const char *key;
	size_t index;
};

#define JSON_KEY(k)   ((struct json_step){.key = (k)})
#define JSON_INDEX(i) ((struct json_step){.index = (i)})

struct json_pos {
	size_t offset; /* in bytes */
	int line;
	int column;
};

/*
 * Where the value reached by path (n steps from the top-level value) starts,
 * or with at_key where the key of the last step (which must be a key) starts.
 * text must be valid JSON, e.g. already accepted by jansson; keys are matched
 * after decoding escapes. Returns 0, -ENOENT when the path is not in text, or
 * -EINVAL when the text turns out not to be JSON.
 */
int json_locate(const char *text, size_t len, const struct json_step *path, size_t n, bool at_key,
		struct json_pos *pos);

/* The line and column of the byte at offset (at most len). */
void json_locate_offset(const char *text, size_t len, size_t offset, struct json_pos *pos);

/*
 * The offset of the first byte that does not start a valid UTF-8 sequence
 * (by jansson's rules: no overlong forms, surrogates or code points above
 * U+10FFFF), or len when the text is valid UTF-8.
 */
size_t json_locate_invalid_utf8(const char *text, size_t len);

#endif /* CUSTOS_JSON_LOCATE_H */
