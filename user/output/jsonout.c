// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "output/jsonout.h"
#include "encode/jsonstr.h"

static int grow(struct jsonout *o, size_t more)
{
	size_t cap = o->cap ? o->cap : 4096;
	char *buf;

	while (cap < o->len + more)
		cap *= 2;
	buf = realloc(o->buf, cap);
	if (!buf)
		return -ENOMEM;
	o->buf = buf;
	o->cap = cap;
	return 0;
}

static inline int reserve(struct jsonout *o, size_t more)
{
	return o->len + more <= o->cap ? 0 : grow(o, more);
}

static inline int put(struct jsonout *o, const char *s, size_t n)
{
	if (reserve(o, n))
		return -ENOMEM;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return 0;
}

/* JSON needs escapes for the quote, the backslash and C0 controls; UTF-8 passes as it is. */
static const unsigned char needs_escape[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
};

/*
 * One pass: copies runs of plain bytes, escapes what JSON needs escaped, and
 * checks each multi-byte sequence is valid UTF-8 (what jansson strings
 * hold; anything else is refused rather than written as a corrupt line).
 */
static int put_string(struct jsonout *o, const char *str, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	char *p;

	if (reserve(o, n * 6 + 2))
		return -ENOMEM;
	o->buf[o->len++] = '"';
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			size_t seq = utf8_sequence_len(s + i, n - i);

			if (!seq)
				return -EINVAL;
			i += seq;
			continue;
		}
		if (!needs_escape[c]) {
			i++;
			continue;
		}
		memcpy(o->buf + o->len, s + run, i - run);
		o->len += i - run;
		run = ++i;
		p = o->buf + o->len;
		p[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			p[1] = c;
			break;
		case '\n':
			p[1] = 'n';
			break;
		case '\t':
			p[1] = 't';
			break;
		case '\r':
			p[1] = 'r';
			break;
		case '\b':
			p[1] = 'b';
			break;
		case '\f':
			p[1] = 'f';
			break;
		default:
			memcpy(p + 1, "u00", 3);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 0xf];
			o->len += 4;
		}
		o->len += 2;
	}
	memcpy(o->buf + o->len, s + run, n - run);
	o->len += n - run;
	o->buf[o->len++] = '"';
	return 0;
}

static int put_integer(struct jsonout *o, json_int_t v)
{
	char tmp[24];
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	return put(o, tmp + i, sizeof(tmp) - i);
}

/* Microsecond precision is all a figure here needs; JSON has no NaN or infinity. */
static int put_real(struct jsonout *o, double v)
{
	char buf[64];
	int n;

	if (!isfinite(v))
		return put(o, "null", 4);
	n = snprintf(buf, sizeof(buf), "%.6f", v);
	return n > 0 && n < (int)sizeof(buf) ? put(o, buf, n) : -EINVAL;
}

int jsonout_value(struct jsonout *o, json_t *v)
{
	const char *key;
	json_t *member;
	size_t i;
	int ret;
	void *it;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if ((ret = put(o, "{", 1)))
			return ret;
		for (it = json_object_iter(v), i = 0; it; it = json_object_iter_next(v, it), i++) {
			key = json_object_iter_key(it);
			member = json_object_iter_value(it);
			if ((i && (ret = put(o, ",", 1))) ||
			    (ret = put_string(o, key, json_object_iter_key_len(it))) ||
			    (ret = put(o, ":", 1)) || (ret = jsonout_value(o, member)))
				return ret;
		}
		return put(o, "}", 1);
	case JSON_ARRAY:
		if ((ret = put(o, "[", 1)))
			return ret;
		json_array_foreach(v, i, member)
		{
			if ((i && (ret = put(o, ",", 1))) || (ret = jsonout_value(o, member)))
				return ret;
		}
		return put(o, "]", 1);
	case JSON_STRING:
		return put_string(o, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return put_integer(o, json_integer_value(v));
	case JSON_TRUE:
		return put(o, "true", 4);
	case JSON_FALSE:
		return put(o, "false", 5);
	case JSON_NULL:
		return put(o, "null", 4);
	case JSON_REAL:
		return put_real(o, json_real_value(v));
	}
	return -EINVAL;
}

int jsonout_char(struct jsonout *o, char c)
{
	return put(o, &c, 1);
}

void jsonout_reset(struct jsonout *o)
{
	o->len = 0;
}

void jsonout_free(struct jsonout *o)
{
	free(o->buf);
	*o = (struct jsonout){0};
}
