/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The files a config was read from: the main one, then its include files
 * (include.h), and which file gave each top-level key of the merged config,
 * so that an error about a value names the file it is in, with its line and
 * column (sources_map).
 */
#ifndef CUSTOS_CONFIG_SOURCES_H
#define CUSTOS_CONFIG_SOURCES_H

#include <stddef.h>

#include "json_locate.h"

/* One file of the config: the main one first, then its include files. */
struct source {
	char *name; /* its path, as messages name it */
	char *text; /* comment lines blanked, NUL-terminated */
	size_t len;
};

/* Which files gave a top-level key of the merged config, and how many elements each. */
struct origin {
	char *key;
	size_t *files;	/* indexes into sources.files */
	size_t *counts; /* for an array: its elements from each file */
	size_t n;
};

struct sources {
	struct source *files;
	size_t n_files;
	struct origin *keys;
	size_t n_keys;
	/* what the digest is of: the main file's text, then each include file's name, a NUL
	 * and its text */
	char *all;
	size_t all_len;
};

/*
 * The file holding the value at path (n steps into the merged config), and
 * path turned into its place in that file (an array index of a joined array
 * becomes the index in that file's array).
 */
size_t sources_map(const struct sources *src, struct json_step *path, size_t n);

/* Adds a file: takes text (malloc'd). 0 or -ENOMEM. */
int sources_add(struct sources *src, const char *name, char *text, size_t len);
/* Adds a file's text (after its name and a NUL; name NULL: the main file) to src->all. */
int sources_digest_add(struct sources *src, const char *name, const char *text, size_t len);
void sources_free(struct sources *src);

/* Which files gave key; NULL: none yet. */
struct origin *origin_of(const struct sources *src, const char *key);
/* Records that file gave key (count: its elements, for an array). 0 or -ENOMEM. */
int origin_add(struct sources *src, const char *key, size_t file, size_t count);

#endif /* CUSTOS_CONFIG_SOURCES_H */
