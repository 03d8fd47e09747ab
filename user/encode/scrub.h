/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A process's arguments scrubbed of what one of its SQL statements
 * revealed. The statement's text is redacted before it goes out
 * (sql.h); the same literals must not go out through process.args, where
 * the statement may stand whole (psql -c "..."), inside a script
 * (perl -e, bash -c, python -c) or spelled with other escapes. Works on
 * bytes and never fails on hostile input.
 */
#ifndef CUSTOS_SCRUB_H
#define CUSTOS_SCRUB_H

#include <stdbool.h>
#include <stddef.h>

#include "encode/sql.h"

/*
 * Literals shorter than this (in the matching form below) are not looked
 * for on their own: replacing every "1" or "ab" of the arguments would
 * leave nothing readable. The statement, whole, still is.
 */
#define SCRUB_LITERAL_MIN 3

/* Rounds of replacement before an argument is given up and written as ?. */
#define SCRUB_ROUNDS_MAX 4

/*
 * Each argument of argv (NUL-separated, len bytes) with, replaced by ?:
 *  - the statement, where it stands whole in the argument: its redacted
 *    text instead (when that differs);
 *  - every literal of the statement (sql_literals(): strings, numbers,
 *    comments) of at least SCRUB_LITERAL_MIN bytes, wherever it occurs;
 *    a number only where no digit touches it.
 * Both are matched in a form that forgives how a program spells them:
 * ASCII case ignored, backslashes dropped, a doubled quote ('' or "") as
 * one. What a replacement makes match again is replaced in the next
 * round; an argument still changing after SCRUB_ROUNDS_MAX rounds becomes
 * ? whole. No literal so matched survives.
 *
 * Returns 1 with *out (malloc'd, NUL-separated, *out_len bytes) when an
 * argument changed, 0 when none did, -ENOMEM.
 */
int scrub_args(enum sql_dialect dialect, const char *stmt, size_t stmt_len, const char *args,
	       size_t len, char **out, size_t *out_len);

/*
 * The matching form of s into out (n bytes at most): lower-case ASCII,
 * no backslashes, doubled quotes single. from[k], to[k] (when not NULL):
 * the span of s that out[k] came from. Returns its length.
 */
size_t scrub_fold(const char *s, size_t n, char *out, size_t *from, size_t *to);

#endif /* CUSTOS_SCRUB_H */
