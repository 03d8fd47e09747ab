/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding the database client code to probe: libpq, libmariadb /
 * libmysqlclient and libsqlite3 in the library directories and in what
 * every process maps (also in other mount namespaces, through
 * /proc/PID/root), and programs that carry a client library inside them
 * (the mariadb CLI exports the API itself). Each file is probed once, by
 * identity, for every process that maps it, now or later.
 */
#ifndef CUSTOS_DBPROBE_H
#define CUSTOS_DBPROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "kernel/loader.h"

enum dbprobe_system {
	DBPROBE_POSTGRESQL,
	DBPROBE_MYSQL,
	DBPROBE_SQLITE,
	DBPROBE_TLS, /* libssl: the plaintext of parsed connections that turned to TLS */
	DBPROBE_SYSTEMS,
};

struct dbprobe_options {
	bool enabled[DBPROBE_SYSTEMS];
	bool sqlite_rows; /* a probe per SQLite row, to count rows returned */
};

struct dbprobe;

struct dbprobe *dbprobe_new(struct loader *loader, const struct dbprobe_options *opts);
void dbprobe_free(struct dbprobe *p);

/* Library directories, programs on the usual PATH, and what running processes map. */
void dbprobe_scan(struct dbprobe *p);
/*
 * A process of tgid executed exe (a path in its mount namespace): the program
 * is probed now, the libraries it loads at the next dbprobe_tick().
 */
void dbprobe_exec(struct dbprobe *p, uint32_t tgid, const char *exe);
void dbprobe_tick(struct dbprobe *p);

/* What is probed: [{"path", "system", "functions"}], and warnings (strings). */
json_t *dbprobe_report(const struct dbprobe *p);
/* New warnings since the last call (a statically linked client without symbols...), or NULL. */
char *dbprobe_next_warning(struct dbprobe *p);

const char *dbprobe_system_name(enum dbprobe_system system);

/* Calls fn for every function probed (enum custos_db_func), and whether its return is. */
void dbprobe_each_function(void (*fn)(uint32_t func, bool at_return, void *ctx), void *ctx);

#endif /* CUSTOS_DBPROBE_H */
