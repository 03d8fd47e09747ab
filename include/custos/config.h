/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's configuration: JSON, parsed with jansson. Every error names
 * the source, line and column and says what was expected. A default
 * configuration is compiled in.
 */
#ifndef CUSTOS_CONFIG_H
#define CUSTOS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits a config must respect. */
#define CONFIG_RULES_MAX     63 /* one bit each in the kernel's exclusion masks */
#define CONFIG_RULE_NAME_MAX 64
#define CONFIG_COMM_MAX	     15 /* the kernel keeps 15 bytes of a process name */

#define CONFIG_FLUSH_INTERVAL_DEFAULT 30  /* seconds */
#define CONFIG_STATS_INTERVAL_DEFAULT 300 /* seconds; 0 turns periodic stats off */
#define CONFIG_RING_BUFFER_MB_DEFAULT 16
#define CONFIG_QUEUE_MB_DEFAULT	      256

struct config_exclude {
	char **comms; /* process names (comm), exact */
	size_t n_comms;
	char **exes; /* absolute paths or globs of executables */
	size_t n_exes;
	uint32_t *uids;
	size_t n_uids;
};

struct config_rule {
	char *name;
	char **tags;
	size_t n_tags;
	char **paths; /* absolute paths or globs; a directory covers its subtree */
	size_t n_paths;
	struct config_exclude exclude; /* applies to this rule only */
};

/* Database client probes (issue: every SQL statement, with the human behind it). */
struct config_databases {
	bool postgresql, mysql, sqlite; /* which client libraries to probe */
	bool sqlite_rows;		/* count SQLite rows: a probe per row */
	bool raw_text;			/* query text as sent: literals not redacted */
	bool only_tables;		/* report only statements on the tables below */
	char **tables;			/* customer-data tables: names or globs, schema or not */
	size_t n_tables;
	char **tags; /* tags of statements on those tables */
	size_t n_tags;
};

struct config {
	char *source; /* file name, "<built-in>" or "<command line>" (trace --path) */
	struct config_rule *rules;
	size_t n_rules;
	struct config_exclude exclude; /* applies to every rule */
	uint32_t flush_interval_s;     /* summaries of files held open this long */
	uint32_t stats_interval_s;
	uint32_t ring_buffer_mb; /* a power of two, 1..1024 */
	uint32_t queue_mb;	 /* records waiting to become events, 1..65536 */
	struct config_databases databases;
};

struct config_error {
	char source[256];
	int line;   /* 1-based; 0 when the error has no position (e.g. unreadable file) */
	int column; /* 1-based */
	char message[512];
};

/* "source:line:column: message", or "source: message" without a position. */
void config_error_format(const struct config_error *err, char *buf, size_t len);

/* Parse and validate; NULL with *err filled (and errno set) on failure. */
struct config *config_load_file(const char *path, struct config_error *err);
struct config *config_load_string(const char *text, const char *source, struct config_error *err);

/* The compiled-in configuration, and its text (documented in README.md). */
const char *config_default_text(void);
struct config *config_load_default(void);

/* A one-rule config named "trace" watching paths, for `custos trace --path`. */
struct config *config_from_paths(char *const *paths, size_t n_paths);

void config_free(struct config *cfg);

#endif /* CUSTOS_CONFIG_H */
