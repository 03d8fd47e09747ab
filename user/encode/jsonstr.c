// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "encode/jsonstr.h"

size_t utf8_sequence_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t need, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0; /* continuation byte, overlong lead (c0, c1) or beyond U+10FFFF */
	if (avail < need)
		return 0;
	for (i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong 3- and 4-byte forms, UTF-16 surrogates, and beyond U+10FFFF. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return need;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence_len(p + i, len - i);

		if (!n)
			return false;
		i += n;
	}
	return true;
}

size_t jsonstr_escape(const char *data, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = utf8_sequence_len(p + i, len - i);

		if (n == 1 && p[i] == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (n) {
			memcpy(out + o, p + i, n);
			o += n;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 0xf];
			n = 1;
		}
		i += n;
	}
	return o;
}

json_t *jsonstr_bytes_escaped(const char *data, size_t len)
{
	char *buf = malloc(len * 4 + 1);
	json_t *out;

	if (!buf)
		return NULL;
	out = json_stringn_nocheck(buf, jsonstr_escape(data, len, buf));
	free(buf);
	return out;
}

json_t *jsonstr_bytes(const char *data, size_t len, bool *escaped)
{
	bool valid = utf8_valid(data, len);

	if (escaped)
		*escaped = !valid;
	return valid ? json_stringn_nocheck(data, len) : jsonstr_bytes_escaped(data, len);
}

json_t *jsonstr_cstr(const char *s, size_t max, bool *escaped)
{
	return jsonstr_bytes(s, strnlen(s, max), escaped);
}
