// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/jsonstr.h"
#include "encode/jsonw.h"

static int grow(struct jsonw *w, size_t more)
{
	size_t cap = w->cap ? w->cap : 4096;
	char *buf;

	while (cap < w->len + more)
		cap *= 2;
	buf = realloc(w->buf, cap);
	if (!buf)
		return w->err = -ENOMEM;
	w->buf = buf;
	w->cap = cap;
	return 0;
}

static inline int reserve(struct jsonw *w, size_t more)
{
	if (w->err)
		return w->err;
	return w->len + more <= w->cap ? 0 : grow(w, more);
}

static inline void put(struct jsonw *w, const char *s, size_t n)
{
	if (reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	jsonw_line(w);
}

void jsonw_line(struct jsonw *w)
{
	w->err = 0;
	w->depth = 0;
	w->empty[0] = true;
	w->n_escaped = 0;
}

void jsonw_free(struct jsonw *w)
{
	free(w->buf);
	*w = (struct jsonw){0};
}

void jsonw_char(struct jsonw *w, char c)
{
	put(w, &c, 1);
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	put(w, s, n);
}

/* JSON needs escapes for the quote, the backslash and C0 controls; UTF-8 passes as it is. */
static const unsigned char needs_escape[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
};

/*
 * One pass: copies runs of plain bytes, escapes what JSON needs escaped and
 * checks each multi-byte sequence. Returns false, writing nothing more, at
 * the first byte that is not valid UTF-8.
 */
static bool put_utf8(struct jsonw *w, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, run = 0;
	char *p;

	if (reserve(w, n * 6 + 2))
		return true;
	w->buf[w->len++] = '"';
	while (i < n) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			size_t seq = utf8_sequence_len(s + i, n - i);

			if (!seq)
				return false;
			i += seq;
			continue;
		}
		if (!needs_escape[c]) {
			i++;
			continue;
		}
		memcpy(w->buf + w->len, s + run, i - run);
		w->len += i - run;
		run = ++i;
		p = w->buf + w->len;
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
			w->len += 4;
		}
		w->len += 2;
	}
	memcpy(w->buf + w->len, s + run, n - run);
	w->len += n - run;
	w->buf[w->len++] = '"';
	return true;
}

/* The escaped form of jsonstr.h: invalid bytes as \xNN, backslashes doubled, as a JSON string. */
static void put_escaped_bytes(struct jsonw *w, const unsigned char *s, size_t n)
{
	char *tmp = malloc(n * 4 + 1);

	if (!tmp) {
		w->err = -ENOMEM;
		return;
	}
	put_utf8(w, (const unsigned char *)tmp, jsonstr_escape((const char *)s, n, tmp));
	free(tmp);
}

/* The separator and the key of the next member or element. */
static void begin(struct jsonw *w, const char *key)
{
	if (w->err)
		return;
	if (!w->empty[w->depth])
		put(w, ",", 1);
	w->empty[w->depth] = false;
	if (key) {
		put(w, "\"", 1);
		put(w, key, strlen(key));
		put(w, "\":", 2);
	}
}

static void open_nested(struct jsonw *w, const char *key, char c)
{
	begin(w, key);
	if (w->depth + 1 >= JSONW_DEPTH_MAX) {
		w->err = w->err ?: -EINVAL;
		return;
	}
	put(w, &c, 1);
	w->depth++;
	w->empty[w->depth] = true;
	w->closer[w->depth] = c == '{' ? '}' : ']';
}

void jsonw_object(struct jsonw *w, const char *key)
{
	open_nested(w, key, '{');
}

void jsonw_array(struct jsonw *w, const char *key)
{
	open_nested(w, key, '[');
}

void jsonw_end(struct jsonw *w)
{
	if (w->err || w->depth == 0)
		return;
	put(w, &w->closer[w->depth], 1);
	w->depth--;
}

void jsonw_stringn(struct jsonw *w, const char *key, const char *s, size_t n)
{
	size_t start;

	begin(w, key);
	start = w->len;
	if (!w->err && !put_utf8(w, (const unsigned char *)s, n)) {
		w->len = start;
		w->err = -EINVAL;
	}
}

void jsonw_string(struct jsonw *w, const char *key, const char *s)
{
	jsonw_stringn(w, key, s, strlen(s));
}

/* The decimal digits of u end at end; returns where they start. */
static char *digits(char *end, uint64_t u)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

void jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	char tmp[24], *p = digits(tmp + sizeof(tmp), v < 0 ? 0ULL - (uint64_t)v : (uint64_t)v);

	if (v < 0)
		*--p = '-';
	begin(w, key);
	put(w, p, tmp + sizeof(tmp) - p);
}

void jsonw_id(struct jsonw *w, const char *key, uint64_t id)
{
	char tmp[24], *p;

	tmp[sizeof(tmp) - 1] = '"';
	p = digits(tmp + sizeof(tmp) - 1, id);
	*--p = '"';
	begin(w, key);
	put(w, p, tmp + sizeof(tmp) - p);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	begin(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	begin(w, key);
	put(w, "null", 4);
}

void jsonw_mark_escaped(struct jsonw *w, const char *field)
{
	size_t i;

	for (i = 0; i < w->n_escaped; i++)
		if (w->escaped[i] == field || !strcmp(w->escaped[i], field))
			return;
	if (w->n_escaped < JSONW_ESCAPED_MAX)
		w->escaped[w->n_escaped++] = field;
}

void jsonw_bytes(struct jsonw *w, const char *key, const char *field, const char *data, size_t len)
{
	size_t start;

	begin(w, key);
	start = w->len;
	if (w->err || put_utf8(w, (const unsigned char *)data, len))
		return;
	w->len = start;
	put_escaped_bytes(w, (const unsigned char *)data, len);
	jsonw_mark_escaped(w, field);
}

void jsonw_bytes_escaped(struct jsonw *w, const char *key, const char *data, size_t len)
{
	begin(w, key);
	put_escaped_bytes(w, (const unsigned char *)data, len);
}

/* Microsecond precision is all a figure here needs; JSON has no NaN or infinity. */
static void put_real(struct jsonw *w, double v)
{
	char buf[64];
	int n;

	if (!isfinite(v)) {
		put(w, "null", 4);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.6f", v);
	if (n > 0 && n < (int)sizeof(buf))
		put(w, buf, n);
	else
		w->err = w->err ?: -EINVAL;
}

void jsonw_value(struct jsonw *w, const char *key, json_t *v)
{
	const char *k;
	json_t *member;
	size_t i;
	void *it;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jsonw_object(w, key);
		for (it = json_object_iter(v); it && !w->err; it = json_object_iter_next(v, it)) {
			k = json_object_iter_key(it);
			member = json_object_iter_value(it);
			/* Keys of the agent's own figures may come from outside (output names). */
			begin(w, NULL);
			if (!w->err &&
			    !put_utf8(w, (const unsigned char *)k, json_object_iter_key_len(it)))
				w->err = -EINVAL;
			put(w, ":", 1);
			w->empty[w->depth] = true; /* the value follows the key, no comma */
			jsonw_value(w, NULL, member);
		}
		jsonw_end(w);
		return;
	case JSON_ARRAY:
		jsonw_array(w, key);
		json_array_foreach(v, i, member) jsonw_value(w, NULL, member);
		jsonw_end(w);
		return;
	case JSON_STRING:
		jsonw_stringn(w, key, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		jsonw_int(w, key, json_integer_value(v));
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		jsonw_bool(w, key, json_is_true(v));
		return;
	case JSON_NULL:
		jsonw_null(w, key);
		return;
	case JSON_REAL:
		begin(w, key);
		put_real(w, json_real_value(v));
		return;
	}
	w->err = w->err ?: -EINVAL;
}

int jsonw_take_fragment(struct jsonw *w, struct jsonw_fragment *f)
{
	size_t i;

	if (w->err)
		return w->err;
	f->text = w->buf;
	f->len = w->len;
	f->n_escaped = w->n_escaped;
	for (i = 0; i < w->n_escaped; i++)
		f->escaped[i] = w->escaped[i];
	*w = (struct jsonw){0};
	jsonw_reset(w);
	return 0;
}

void jsonw_fragment_free(struct jsonw_fragment *f)
{
	free(f->text);
	f->text = NULL;
	f->len = 0;
}

void jsonw_paste(struct jsonw *w, const struct jsonw_fragment *f)
{
	size_t i;

	if (!f->len)
		return;
	begin(w, NULL);
	put(w, f->text, f->len);
	for (i = 0; i < f->n_escaped; i++)
		jsonw_mark_escaped(w, f->escaped[i]);
}
