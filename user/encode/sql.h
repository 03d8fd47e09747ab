/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SQL text as the database clients send it, made safe and useful for an
 * audit trail: literals redacted (the monitor must not become the next
 * leak), the operation and the tables it names picked out. Works on bytes
 * (any encoding, invalid UTF-8, NULs) and never fails on hostile input.
 */
#ifndef CUSTOS_SQL_H
#define CUSTOS_SQL_H

#include <stdbool.h>
#include <stddef.h>

enum sql_dialect {
	SQL_POSTGRESQL,
	SQL_MYSQL,
	SQL_SQLITE,
};

#define SQL_TABLES_MAX 16
#define SQL_NAME_MAX   128

struct sql_info {
	char operation[32]; /* first keyword, upper case: SELECT, INSERT, WITH... */
	char tables[SQL_TABLES_MAX][SQL_NAME_MAX]; /* as written, unquoted: "public.customers" */
	size_t n_tables;
	bool more_tables; /* more than SQL_TABLES_MAX */
};

/*
 * One pass over text that gives both of what follows: the redacted text in
 * out, as sql_redact writes it (none when out is NULL or cap is 0), and the
 * description in info, as sql_describe fills it (none when info is NULL).
 * Returns the length of the redacted text (0 without one). The text is lexed
 * once, and nothing is allocated. out must not overlap text; its bytes past
 * the NUL, up to cap, may be written.
 */
size_t sql_scan(enum sql_dialect dialect, const char *text, size_t len, char *out, size_t cap,
		struct sql_info *info);

/*
 * Writes text with every literal replaced by ?: quoted strings (with the
 * dialect's escapes: '', \', E'...', $tag$...$tag$, X'..', B'..'), numbers,
 * and comments removed; IN (?, ?, ...) lists collapse to IN (?). At most
 * cap - 1 bytes and a NUL; returns the length written, never more than
 * len (cap = len + 1 always fits). Identifiers,
 * keywords and operators are kept (quoted identifiers too). sql_scan
 * without info.
 */
/* What a statement does with data. */
enum sql_effect {
	SQL_EFFECT_NONE,  /* neither (BEGIN, SET, COMMIT...), or unknown */
	SQL_EFFECT_READ,  /* SELECT, WITH, SHOW, TABLE, FETCH, VALUES, COPY ... TO */
	SQL_EFFECT_WRITE, /* every other statement: INSERT, UPDATE, DELETE, DDL, COPY ... FROM */
};

/* By its first keyword op ("" when unknown) and, for COPY, its text (NULL: unknown). */
enum sql_effect sql_effect(const char *op, const char *text, size_t len);

size_t sql_redact(enum sql_dialect dialect, const char *text, size_t len, char *out, size_t cap);

/*
 * The operation and the tables named after FROM, JOIN, INTO, UPDATE, TABLE,
 * DELETE FROM... sql_scan without out.
 */
void sql_describe(enum sql_dialect dialect, const char *text, size_t len, struct sql_info *info);

/*
 * What sql_redact replaces, for those who must find it elsewhere: for each
 * literal, in order, fn(ctx, start, end, number) with the span of its
 * value in text (a quoted string's bytes between its quotes, as written,
 * escapes included; a number; the text of a comment, without the
 * whitespace around it; what follows the
 * quote of an unterminated quoted identifier). Empty ones are left out.
 */
typedef void (*sql_literal_fn)(void *ctx, size_t start, size_t end, bool number);
void sql_literals(enum sql_dialect dialect, const char *text, size_t len, sql_literal_fn fn,
		  void *ctx);

/*
 * Does a table name match a pattern from the config? Patterns are
 * schema-qualified or not and may use globs: "customers" matches
 * "customers" and "public.customers"; "crm.*" matches "crm.orders".
 * "public.customers" also matches an unqualified "customers", which the
 * server may resolve to it. Case-insensitive, quotes ignored.
 */
bool sql_table_matches(const char *pattern, const char *table);

#endif /* CUSTOS_SQL_H */
