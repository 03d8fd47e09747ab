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
#include "sources.h"

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

#endif /* CUSTOS_CONFIG_INCLUDE_H */
