// SPDX-License-Identifier: GPL-2.0
/*
 * A scanner that finds where a key or value is in JSON text. It trusts the
 * text to be valid JSON (jansson has parsed it) but never reads past len,
 * and it skips nested values without recursion.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "json_locate.h"

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p is at the opening quote; returns the byte after the closing one. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static bool is_delimiter(char c)
{
	return c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' ||
	       c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* p is at the first byte of a value; returns the byte after its end. */
static const char *skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	if (p == end || *p == ',' || *p == ':' || *p == ']' || *p == '}')
		return NULL;
	do {
		p = skip_ws(p, end);
		if (p == end)
			return NULL;
		switch (*p) {
		case '{':
		case '[':
			depth++;
			p++;
			break;
		case '}':
		case ']':
			if (depth == 0)
				return NULL;
			depth--;
			p++;
			break;
		case ',':
		case ':':
			p++;
			break;
		case '"':
			p = skip_string(p, end);
			if (!p)
				return NULL;
			break;
		default: /* a number, true, false or null */
			while (p < end && !is_delimiter(*p))
				p++;
		}
	} while (depth > 0);
	return p;
}

static int hex4(const char *p, const char *end)
{
	int v = 0, i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t utf8_encode(uint32_t cp, unsigned char *buf)
{
	if (cp < 0x80) {
		buf[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = 0xc0 | cp >> 6;
		buf[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = 0xe0 | cp >> 12;
		buf[1] = 0x80 | (cp >> 6 & 0x3f);
		buf[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	buf[0] = 0xf0 | cp >> 18;
	buf[1] = 0x80 | (cp >> 12 & 0x3f);
	buf[2] = 0x80 | (cp >> 6 & 0x3f);
	buf[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* Decodes the escape at *p (a backslash) into buf; returns its length, 0 if malformed. */
static size_t decode_escape(const char **p, const char *end, unsigned char *buf)
{
	const char *s = *p + 1;
	int cp, lo;

	if (s == end)
		return 0;
	*p = s + 1;
	switch (*s) {
	case '"':
	case '\\':
	case '/':
		buf[0] = *s;
		return 1;
	case 'b':
		buf[0] = '\b';
		return 1;
	case 'f':
		buf[0] = '\f';
		return 1;
	case 'n':
		buf[0] = '\n';
		return 1;
	case 'r':
		buf[0] = '\r';
		return 1;
	case 't':
		buf[0] = '\t';
		return 1;
	case 'u':
		break;
	default:
		return 0;
	}
	cp = hex4(s + 1, end);
	if (cp < 0)
		return 0;
	*p = s + 5;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* a surrogate pair: \uD83D\uDE00 */
		if (end - *p < 6 || (*p)[0] != '\\' || (*p)[1] != 'u')
			return 0;
		lo = hex4(*p + 2, end);
		if (lo < 0xdc00 || lo > 0xdfff)
			return 0;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		*p += 6;
	} else if (cp >= 0xdc00 && cp <= 0xdfff) {
		return 0;
	}
	return utf8_encode(cp, buf);
}

/* Whether the string at p (its opening quote) decodes to key. */
static bool string_equals(const char *p, const char *end, const char *key)
{
	const unsigned char *k = (const unsigned char *)key;
	unsigned char buf[4];
	size_t n, i;

	for (p++; p < end && *p != '"';) {
		if (*p == '\\') {
			n = decode_escape(&p, end, buf);
			if (!n)
				return false;
		} else {
			buf[0] = *p++;
			n = 1;
		}
		for (i = 0; i < n; i++, k++)
			if (*k != buf[i]) /* also stops at the end of key */
				return false;
	}
	return p < end && *k == '\0';
}

/* Moves *p from an object's '{' to the value of member key (or to key itself with at_key). */
static int find_member(const char **p, const char *end, const char *key, bool at_key)
{
	const char *s = *p + 1, *k;
	bool match;

	for (;;) {
		s = skip_ws(s, end);
		if (s == end)
			return -EINVAL;
		if (*s == '}')
			return -ENOENT;
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s != '"')
			return -EINVAL;
		k = s;
		match = string_equals(s, end, key);
		s = skip_ws(skip_string(s, end) ?: end, end);
		if (s == end || *s != ':')
			return -EINVAL;
		s = skip_ws(s + 1, end);
		if (match) {
			*p = at_key ? k : s;
			return 0;
		}
		s = skip_value(s, end);
		if (!s)
			return -EINVAL;
	}
}

/* Moves *p from an array's '[' to its element at index. */
static int find_element(const char **p, const char *end, size_t index)
{
	const char *s = *p + 1;
	size_t i = 0;

	for (;;) {
		s = skip_ws(s, end);
		if (s == end)
			return -EINVAL;
		if (*s == ']')
			return -ENOENT;
		if (*s == ',') {
			s++;
			continue;
		}
		if (i == index) {
			*p = s;
			return 0;
		}
		s = skip_value(s, end);
		if (!s)
			return -EINVAL;
		i++;
	}
}

int json_locate(const char *text, size_t len, const struct json_step *path, size_t n, bool at_key,
		struct json_pos *pos)
{
	const char *p, *end = text + len;
	size_t i;
	int r;

	if (at_key && (n == 0 || !path[n - 1].key))
		return -EINVAL;
	p = skip_ws(text, end);
	for (i = 0; i < n; i++) {
		if (p == end)
			return -EINVAL;
		if (path[i].key)
			r = *p == '{' ? find_member(&p, end, path[i].key, at_key && i == n - 1)
				      : -ENOENT;
		else
			r = *p == '[' ? find_element(&p, end, path[i].index) : -ENOENT;
		if (r < 0)
			return r;
	}
	if (p == end)
		return -EINVAL;
	json_locate_offset(text, len, p - text, pos);
	return 0;
}

void json_locate_offset(const char *text, size_t len, size_t offset, struct json_pos *pos)
{
	size_t i;

	if (offset > len)
		offset = len;
	pos->offset = offset;
	pos->line = 1;
	pos->column = 1;
	for (i = 0; i < offset; i++) {
		unsigned char c = text[i];

		if (c == '\n') {
			pos->line++;
			pos->column = 1;
		} else if ((c & 0xc0) != 0x80) { /* not a continuation byte */
			pos->column++;
		}
	}
}

size_t json_locate_invalid_utf8(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n, j;
	uint32_t cp, min;

	while (i < len) {
		unsigned char c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return i;
		}
		if (len - i < n)
			return i;
		for (j = 1; j < n; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n;
	}
	return len;
}
