/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Include files: the config's "include_dir" (by default conf.d next to the
 * config file), each *.json in it read in name order and merged into the
 * config: the arrays watch, endpoints, outputs and rules are joined, in
 * file order; any other top-level key may be set in one file only. The
 * merged config is then checked as one, and an error about a value names
 * the file it came from, with its line and column (sources_map).
 */
#ifndef CUSTOS_CONFIG_INCLUDE_H
#define CUSTOS_CONFIG_INCLUDE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
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

struct parser;

enum include_flags {
	INCLUDE_READ = 1 << 0,	  /* read them (a config from a file; a string's are not read) */
	INCLUDE_TRUSTED = 1 << 1, /* the directory and each file must be ones only root can change
				     (lib/trust.h) */
};

/*
 * Reads the include files of root (the main file's parsed text, source 0 of
 * src), merging each into root. dir_default: the include directory when
 * root names none (NULL: none). 0, or -errno with the error in p->err
 * (naming the include file).
 */
int sources_include(struct parser *p, struct sources *src, json_t *root, const char *dir_default,
		    unsigned int flags);

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

#endif /* CUSTOS_CONFIG_INCLUDE_H */
