// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel bytes to JSON strings, through jsonstr (jansson values) and through
 * the event writer (jsonw_bytes). Properties: the string is valid UTF-8
 * that jansson writes and reads back unchanged; valid UTF-8 input is kept
 * as it is; otherwise decoding \xNN and \\ gives back the original bytes
 * exactly; the writer's text is one JSON string on one line, listed as
 * escaped exactly when the input is not valid UTF-8.
 */
#include <stdint.h>

#include "fuzz.h"
#include <stdlib.h>
#include <string.h>

#include "encode/jsonstr.h"
#include "encode/jsonw.h"

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The bytes an escaped value stands for; its length, or -1 if it is not well formed. */
static long unescape(const char *s, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (s[i] != '\\') {
			out[o++] = s[i++];
		} else if (i + 1 < len && s[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
		} else if (i + 3 < len && s[i + 1] == 'x' && hex(s[i + 2]) >= 0 &&
			   hex(s[i + 3]) >= 0) {
			out[o++] = (char)(hex(s[i + 2]) << 4 | hex(s[i + 3]));
			i += 4;
		} else {
			return -1;
		}
	}
	return o;
}

static void check(json_t *j, const uint8_t *data, size_t size, bool escaped)
{
	const char *value = json_string_value(j);
	size_t len = json_string_length(j);
	json_t *back;
	char *text, *out;
	long n;

	if (!value || !utf8_valid(value, len))
		abort();
	if (!escaped &&
	    (len != size || memcmp(value, data, size) || !utf8_valid((const char *)data, size)))
		abort();
	if (escaped) {
		out = malloc(len + 1);
		n = unescape(value, len, out);
		if (n != (long)size || memcmp(out, data, size))
			abort();
		free(out);
	}
	text = json_dumps(j, JSON_ENCODE_ANY);
	back = text ? json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : NULL;
	if (!back || !json_equal(back, j))
		abort();
	json_decref(back);
	free(text);
}

/* The event writer's text for data parses back to what jsonstr gives: same value, same rule. */
static void check_writer(const uint8_t *data, size_t size)
{
	struct jsonw w = {0};
	json_t *back;
	bool escaped;

	jsonw_reset(&w);
	jsonw_bytes(&w, NULL, "f", (const char *)data, size);
	if (jsonw_error(&w)) {
		jsonw_free(&w);
		return; /* out of memory */
	}
	escaped = w.n_escaped == 1;
	if (escaped == utf8_valid((const char *)data, size) || memchr(w.buf, '\n', w.len))
		abort();
	back = json_loadb(w.buf, w.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!back)
		abort();
	check(back, data, size, escaped);
	json_decref(back);
	jsonw_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_writer(data, size);
	bool escaped = false;
	json_t *j = jsonstr_bytes((const char *)data, size, &escaped);

	if (!j)
		return 0;
	check(j, data, size, escaped);
	json_decref(j);
	j = jsonstr_bytes_escaped((const char *)data, size);
	if (j)
		check(j, data, size, true);
	json_decref(j);
	return 0;
}
