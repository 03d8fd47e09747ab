/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The config parser's framework (parse.c), which its grammars (config.c,
 * outputs.c) use: where an object is in the text, and errors that name
 * file, line and column.
 */
#ifndef CUSTOS_CONFIG_PARSE_H
#define CUSTOS_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
#include "json_locate.h"

#define STR_(x) #x
#define STR(x)	STR_(x)

#define NO_INDEX	((size_t)-1)
#define QUOTE_MAX	96 /* a quoted string in a message, with its NUL */
/* The deepest object checked: rules[2].steps[1].where (fail() adds a key and an index). */
#define WHERE_DEPTH_MAX 6

struct sources;

struct parser {
	const char *text;
	size_t len;
	struct config_error *err;
	/* the files of a config with include files: positions are looked up in the file a
	 * value came from (include.h); NULL: text is the whole config */
	const struct sources *src;
};

/* An object being checked: where it is in the text, and how messages name it. */
struct where {
	struct json_step path[WHERE_DEPTH_MAX];
	size_t depth;
	char dotted[64]; /* "", "exclude", "watch[3]", "watch[3].exclude", "rules[2].steps[1].where"
			  */
	char label[160]; /* "the top level", "exclude", "watch[3] (\"crm\")", "watch[3].exclude" */
};

/*
 * child: the member key of parent, or (index not NO_INDEX) the element index
 * of that array member; labelled by its dotted path. The depth must fit.
 */
void where_child(struct where *child, const struct where *parent, const char *key, size_t index);

void parse_error_init(struct config_error *err, const char *source);
/* The file errors name from now on (cut to fit). */
void parse_error_source(struct config_error *err, const char *source);
/* An error without a position; returns r. */
int __attribute__((format(printf, 3, 4))) fail_nopos(struct parser *p, int r, const char *fmt, ...);
/* An error at a byte offset of the text; returns -EINVAL. */
int __attribute__((format(printf, 3, 4)))
fail_offset(struct parser *p, size_t offset, const char *fmt, ...);
/*
 * An error at the object w, or at the value of its member key, or at element
 * index of that (or of w itself when key is NULL); with at_key, at the key
 * rather than its value. Returns -EINVAL.
 */
int __attribute__((format(printf, 6, 7)))
fail(struct parser *p, const struct where *w, const char *key, size_t index, bool at_key,
     const char *fmt, ...);
int fail_nomem(struct parser *p);
/*
 * "FILE:LINE:COLUMN" of the value of w's member key (of w itself when key is
 * NULL) into *at, for messages about it after loading (a file output that
 * cannot be written). 0, or -ENOMEM through fail_nomem().
 */
int where_at(struct parser *p, const struct where *w, const char *key, char **at);

/* "an object", "a string"... for messages. */
const char *type_name(const json_t *v);
/* s in quotes for a message, with control characters escaped and cut if long. */
const char *quote(char buf[QUOTE_MAX], const char *s);
/* A key of w as messages name it: "paths" of watch[0] ("crm"), or "flush_interval". */
const char *key_label(char *buf, size_t size, const struct where *w, const char *key);
/* An element of an array member of w: watch[0].paths[2], exclude.uid[1]; or chain.key_file. */
const char *item_label(char *buf, size_t size, const struct where *w, const char *key,
		       size_t index);
/* An unknown key of obj is an error that lists the keys expected. */
int check_keys(struct parser *p, const struct where *w, json_t *obj, const char *const *keys);
bool has_control(const char *s);
/* An optional true/false member key of obj. */
int parse_bool(struct parser *p, const struct where *w, json_t *obj, const char *key, bool *value);

/*
 * One config file's text as JSON (text.c): refused when blank, with a NUL
 * or a byte order mark; comment lines blanked into *plain (malloc'd, where
 * positions are looked up: p->text is set to it), then parsed into *root.
 * 0, or -errno with the error (a syntax error at its position) in p->err.
 */
int config_parse_text(struct parser *p, const char *text, size_t len, char **plain, json_t **root);
#define FILE_MAX_MB 16
/* A config file's bytes (at most FILE_MAX_MB MiB), NUL-terminated (text.c). 0 or -errno. */
int config_read_text(const char *path, char **ret, size_t *ret_len);

/* Frees n strings and their array (NULL: nothing). */
void strv_free(char **strv, size_t n);

#endif /* CUSTOS_CONFIG_PARSE_H */
