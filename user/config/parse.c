// SPDX-License-Identifier: GPL-2.0
/*
 * The framework of the config parser, under its grammars (config.c,
 * outputs.c): errors that name file, line and column, and the checks every
 * object gets.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"
#include "parse.h"

/* s appended at o of buf (size bytes), cut to fit; the new end. */
static size_t append(char *buf, size_t size, size_t o, const char *s)
{
	size_t n = strlen(s);

	if (o + 1 >= size)
		return o;
	if (n > size - 1 - o)
		n = size - 1 - o;
	memcpy(buf + o, s, n);
	buf[o + n] = '\0';
	return o + n;
}

void where_child(struct where *child, const struct where *parent, const char *key, size_t index)
{
	char brackets[24] = "";
	size_t o;

	assert(parent->depth + 1 + (index != NO_INDEX) <= WHERE_DEPTH_MAX);
	memset(child, 0, sizeof(*child));
	memcpy(child->path, parent->path, parent->depth * sizeof(*child->path));
	child->depth = parent->depth;
	child->path[child->depth++] = JSON_KEY(key);
	if (index != NO_INDEX) {
		child->path[child->depth++] = JSON_INDEX(index);
		snprintf(brackets, sizeof(brackets), "[%zu]", index);
	}
	o = append(child->dotted, sizeof(child->dotted), 0, parent->dotted);
	if (o)
		o = append(child->dotted, sizeof(child->dotted), o, ".");
	o = append(child->dotted, sizeof(child->dotted), o, key);
	append(child->dotted, sizeof(child->dotted), o, brackets);
	append(child->label, sizeof(child->label), 0, child->dotted);
}

void parse_error_init(struct config_error *err, const char *source)
{
	memset(err, 0, sizeof(*err));
	snprintf(err->source, sizeof(err->source), "%s", source);
}

void parse_error_source(struct config_error *err, const char *source)
{
	if ((size_t)snprintf(err->source, sizeof(err->source), "%s", source) >= sizeof(err->source))
		memcpy(err->source + sizeof(err->source) - 4, "...", 4);
}

static int verror(struct parser *p, int r, const struct json_pos *pos, const char *fmt, va_list ap)
{
	p->err->line = pos ? pos->line : 0;
	p->err->column = pos ? pos->column : 0;
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	return r;
}

int __attribute__((format(printf, 3, 4))) fail_nopos(struct parser *p, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r = verror(p, r, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int __attribute__((format(printf, 3, 4)))
fail_offset(struct parser *p, size_t offset, const char *fmt, ...)
{
	struct json_pos pos;
	va_list ap;
	int r;

	json_locate_offset(p->text, p->len, offset, &pos);
	va_start(ap, fmt);
	r = verror(p, -EINVAL, &pos, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * Where path (n steps) is: in p's text, or with include files in the file
 * the value came from, whose name then becomes the error's source.
 */
static int locate(struct parser *p, struct json_step *path, size_t n, bool at_key,
		  struct json_pos *pos, const char **source)
{
	const struct source *f;

	*source = p->err->source;
	if (!p->src)
		return json_locate(p->text, p->len, path, n, at_key, pos);
	f = &p->src->files[sources_map(p->src, path, n)];
	*source = f->name;
	return json_locate(f->text, f->len, path, n, at_key, pos);
}

int __attribute__((format(printf, 6, 7)))
fail(struct parser *p, const struct where *w, const char *key, size_t index, bool at_key,
     const char *fmt, ...)
{
	struct json_step path[WHERE_DEPTH_MAX + 2];
	struct json_pos pos;
	const char *source;
	size_t n = w->depth, merged_index;
	va_list ap;
	int r;

	memcpy(path, w->path, n * sizeof(*path));
	if (key)
		path[n++] = JSON_KEY(key);
	if (index != NO_INDEX)
		path[n++] = JSON_INDEX(index);
	merged_index = n >= 2 && path[0].key && !path[1].key ? path[1].index : NO_INDEX;
	va_start(ap, fmt);
	r = locate(p, path, n, at_key, &pos, &source);
	if (source != p->err->source)
		parse_error_source(p->err, source);
	if (r == 0)
		r = verror(p, -EINVAL, &pos, fmt, ap);
	else
		r = verror(p, -EINVAL, NULL, fmt, ap); /* cannot happen on text jansson accepted */
	va_end(ap);
	/* A joined array's index counts every file's elements: say which one it is in this file. */
	if (merged_index != NO_INDEX && path[1].index != merged_index) {
		size_t len = strlen(p->err->message);

		snprintf(p->err->message + len, sizeof(p->err->message) - len,
			 " (%s[%zu] of all files is %s[%zu] of this one)", path[0].key,
			 merged_index, path[0].key, path[1].index);
	}
	return r;
}

int where_at(struct parser *p, const struct where *w, const char *key, char **at)
{
	struct json_step path[WHERE_DEPTH_MAX + 1];
	struct json_pos pos = {0};
	const char *source;
	size_t n = w->depth;
	int r;

	memcpy(path, w->path, n * sizeof(*path));
	if (key)
		path[n++] = JSON_KEY(key);
	free(*at);
	if (locate(p, path, n, false, &pos, &source) == 0)
		r = asprintf(at, "%s:%d:%d", source, pos.line, pos.column);
	else
		r = asprintf(at, "%s", source);
	if (r < 0) {
		*at = NULL;
		return fail_nomem(p);
	}
	return 0;
}

int fail_nomem(struct parser *p)
{
	return fail_nopos(p, -ENOMEM, "out of memory");
}

const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "a number";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "an unknown type";
}

const char *quote(char buf[QUOTE_MAX], const char *s)
{
	const unsigned char *c = (const unsigned char *)s;
	size_t o = 0, n, i;
	char esc[8];

	buf[o++] = '"';
	while (*c) {
		n = 1;
		if (*c == '"' || *c == '\\') {
			snprintf(esc, sizeof(esc), "\\%c", *c);
		} else if (*c == '\n') {
			strcpy(esc, "\\n");
		} else if (*c == '\t') {
			strcpy(esc, "\\t");
		} else if (*c < 0x20 || *c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *c);
		} else if (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f) { /* a C1 control */
			snprintf(esc, sizeof(esc), "\\u%04x", c[1]);
			n = 2;
		} else {
			/* one character, whole: jansson has checked that it is UTF-8 */
			n = *c >= 0xf0 ? 4 : *c >= 0xe0 ? 3 : *c >= 0xc0 ? 2 : 1;
			for (i = 0; i < n && c[i]; i++)
				esc[i] = c[i];
			n = i;
			esc[n] = '\0';
		}
		if (o + strlen(esc) + sizeof("...\"") > QUOTE_MAX) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, esc, strlen(esc));
		o += strlen(esc);
		c += n;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *key_label(char *buf, size_t size, const struct where *w, const char *key)
{
	if (w->depth == 0)
		snprintf(buf, size, "\"%s\"", key);
	else
		snprintf(buf, size, "\"%s\" of %s", key, w->label);
	return buf;
}

const char *item_label(char *buf, size_t size, const struct where *w, const char *key, size_t index)
{
	size_t n = snprintf(buf, size, "%s%s%s", w->dotted, w->dotted[0] ? "." : "", key);

	if (index != NO_INDEX && n < size)
		snprintf(buf + n, size - n, "[%zu]", index);
	return buf;
}

bool has_control(const char *s)
{
	const unsigned char *c = (const unsigned char *)s;

	for (; *c; c++)
		if (*c < 0x20 || *c == 0x7f || (*c == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f))
			return true;
	return false;
}

int check_keys(struct parser *p, const struct where *w, json_t *obj, const char *const *keys)
{
	char expected[256] = "", q[QUOTE_MAX];
	const char *key;
	size_t i, o = 0;
	void *it;

	for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		key = json_object_iter_key(it);
		for (i = 0; keys[i]; i++)
			if (!strcmp(key, keys[i]))
				break;
		if (keys[i])
			continue;
		for (i = 0; keys[i]; i++)
			o += snprintf(expected + o, sizeof(expected) - o, "%s%s", i ? ", " : "",
				      keys[i]);
		return fail(p, w, key, NO_INDEX, true, "unknown key %s %s %s (expected one of: %s)",
			    quote(q, key), w->depth ? "in" : "at", w->label, expected);
	}
	return 0;
}

int parse_bool(struct parser *p, const struct where *w, json_t *obj, const char *key, bool *value)
{
	json_t *v = json_object_get(obj, key);
	char label[192];

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(p, w, key, NO_INDEX, false, "%s must be true or false, not %s",
			    key_label(label, sizeof(label), w, key), type_name(v));
	*value = json_is_true(v);
	return 0;
}

void strv_free(char **strv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(strv[i]);
	free(strv);
}
