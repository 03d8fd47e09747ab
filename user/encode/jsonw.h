/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON line written straight into one growing buffer, member after
 * member: how events become text without building a tree first. Output is
 * what jansson's compact dump writes for the same values (tests check it by
 * parsing the text back with jansson). Errors are sticky: after the first
 * (-ENOMEM, or -EINVAL for a string that is not valid UTF-8 where only
 * UTF-8 may go) every call does nothing and jsonw_error() says what failed.
 *
 * Kernel bytes (paths, names, arguments, SQL) go through jsonw_bytes():
 * valid UTF-8 as it is, anything else as the escaped form of jsonstr.h,
 * with the field listed for custos.escaped.
 */
#ifndef CUSTOS_JSONW_H
#define CUSTOS_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_DEPTH_MAX	  16
#define JSONW_ESCAPED_MAX 16

struct jsonw {
	char *buf;
	size_t len, cap;
	int err;
	int depth;
	bool empty[JSONW_DEPTH_MAX];  /* no member yet in the object or array at this depth */
	char closer[JSONW_DEPTH_MAX]; /* '}' or ']' */
	/* Dotted names of the fields written in escaped form, for custos.escaped. */
	const char *escaped[JSONW_ESCAPED_MAX];
	size_t n_escaped;
};

void jsonw_reset(struct jsonw *w);
/* Ready for a new value after what w holds (kept): nesting, error and escaped list reset. */
void jsonw_line(struct jsonw *w);
void jsonw_free(struct jsonw *w);
static inline int jsonw_error(const struct jsonw *w)
{
	return w->err;
}

/*
 * Each call writes one member of the object being written (key) or one
 * element of the array being written (key NULL). Keys are custos's own
 * ASCII names.
 */
void jsonw_object(struct jsonw *w, const char *key);
void jsonw_array(struct jsonw *w, const char *key);
void jsonw_end(struct jsonw *w); /* of the innermost object or array */

void jsonw_string(struct jsonw *w, const char *key, const char *s); /* valid UTF-8 */
void jsonw_stringn(struct jsonw *w, const char *key, const char *s, size_t n);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);
/* A number as a string, as ECS keeps ids: "1000". */
void jsonw_id(struct jsonw *w, const char *key, uint64_t id);
/* Any jansson value (the agent's own figures). */
void jsonw_value(struct jsonw *w, const char *key, json_t *v);

/* Kernel bytes; field (dotted) is listed as escaped if they are not valid UTF-8. */
void jsonw_bytes(struct jsonw *w, const char *key, const char *field, const char *data, size_t len);
/* Always the escaped form, for one of several values that must decode alike. */
void jsonw_bytes_escaped(struct jsonw *w, const char *key, const char *data, size_t len);
void jsonw_mark_escaped(struct jsonw *w, const char *field);

/*
 * Members written before, as text ("a":1,"b":{...}), pasted into the object
 * being written; the fields they had escaped are listed again.
 */
struct jsonw_fragment {
	char *text;
	size_t len;
	const char *escaped[JSONW_ESCAPED_MAX];
	size_t n_escaped;
};

/* What w holds, as a fragment (w's buffer is taken over and w reset). */
int jsonw_take_fragment(struct jsonw *w, struct jsonw_fragment *f);
void jsonw_fragment_free(struct jsonw_fragment *f);
void jsonw_paste(struct jsonw *w, const struct jsonw_fragment *f);

/* A bare character outside any object (the line's '\n'), or bytes as they are. */
void jsonw_char(struct jsonw *w, char c);
void jsonw_raw(struct jsonw *w, const char *s, size_t n);

#endif /* CUSTOS_JSONW_H */
