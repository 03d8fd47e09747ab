/* SPDX-License-Identifier: GPL-2.0 */
/*
 * custos top: event lines in (as the agent writes them), out a screen of who
 * reads customer data right now. Per human (user.audit.name, else
 * user.name, else user.id) and program (process.name): files opened, rows
 * returned, bytes read (from files and received from endpoints) and
 * statements, over the last minute and since the first line; the busiest
 * watch rules and endpoints (custos.rule) and tables; the latest alerts;
 * and what the agent said it lost (gap events).
 *
 * "Now" is the latest time top was given (its clock, or the stream's time
 * when it is later). State is bounded: TOP_ROWS_MAX rows and TOP_NAMES_MAX
 * rules and tables, the least recently active forgotten first (counted).
 * A line that is not an object of the schema's types is skipped and
 * counted, never shown.
 */
#ifndef CUSTOS_TOP_H
#define CUSTOS_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOP_WINDOW_S  60
#define TOP_ROWS_MAX  2048
#define TOP_NAMES_MAX 2048
#define TOP_ALERTS    16 /* the latest alerts kept */

/* What a row, rule or table adds up. */
struct top_counts {
	uint64_t files, rows, bytes, statements;
};

struct top;

struct top *top_new(void);
void top_free(struct top *t);

/* One line without its newline. 0 when counted or ignored (not an access), 1 when skipped. */
int top_add_line(struct top *t, const char *line, size_t len);
/* A line the caller could not read whole (cut short, too long): skipped. */
void top_skip_line(struct top *t);
/* Moves "now" forward to real_ns (never back); the last minute is the minute before it. */
void top_set_now(struct top *t, int64_t real_ns);

/* The screen, width x height (at least 40 x 10), as height lines each ending in '\n'. */
struct top_screen_opts {
	unsigned width, height;
	bool utf8;	    /* names may be shown as UTF-8; else non-ASCII is escaped */
	const char *source; /* what the lines come from, for the status line */
	const char *host;
};
/* malloc'd text; NULL without memory. No byte a terminal interprets but the newlines. */
char *top_screen(const struct top *t, const struct top_screen_opts *o);

/* Totals, for tests and --batch. */
struct top_stats {
	uint64_t lines, accesses, alerts, gaps, lost, skipped, forgotten;
	struct top_counts total;
};
void top_stats(const struct top *t, struct top_stats *s);

#endif /* CUSTOS_TOP_H */
