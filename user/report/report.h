/* SPDX-License-Identifier: GPL-2.0 */
/*
 * custos report: stored event lines in; out, per human (or per program,
 * watch rule or table), how much customer data was accessed, through which
 * programs and when, the alerts raised and the events lost.
 *
 * Each line is parsed on its own. A line the report cannot use is skipped
 * and counted by reason, the first of each reason kept with where it is and
 * why: not JSON (or not UTF-8), not an object; a field the report reads
 * with another type than the schema's, or a count below 0; no @timestamp it
 * can read; cut short, or too long. Sums stop at INT64_MAX. Nothing is
 * printed but by report_print_text(), to the stream it is given.
 */
#ifndef CUSTOS_REPORT_H
#define CUSTOS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define REPORT_LINE_MAX	  (16 << 20) /* longer lines are not events */
#define REPORT_ALERTS_MAX 10000	     /* alerts listed; the others are counted */

enum report_by {
	REPORT_BY_USER,	   /* user.audit.name, else user.name, else user.id */
	REPORT_BY_PROCESS, /* process.executable, else process.name */
	REPORT_BY_RULE,	   /* custos.rule: the watch rule or endpoint */
	REPORT_BY_TABLE,   /* each of custos.db.tables */
};

enum report_skip {
	REPORT_SKIP_NOT_JSON,  /* not JSON, not UTF-8, or not an object */
	REPORT_SKIP_BAD_FIELD, /* a field it reads has another type, or a count is negative */
	REPORT_SKIP_NO_TIME,   /* no @timestamp, or not an RFC 3339 time of 1678 to 2261 */
	REPORT_SKIP_TRUNCATED, /* the file ends inside the line */
	REPORT_SKIP_TOO_LONG,  /* longer than REPORT_LINE_MAX */
	REPORT_SKIP_N,
};

struct report_options {
	enum report_by by;
	int64_t since_ns, until_ns; /* lines at or after since and before until count */
};

/* What became of the lines. */
struct report_input {
	uint64_t lines;
	uint64_t events;   /* file, database and network events counted */
	uint64_t alerts;   /* rule alerts counted */
	uint64_t gaps;	   /* the agent's gap events counted */
	uint64_t agent;	   /* the agent's other events (agent-start...) */
	uint64_t ignored;  /* empty lines, objects of other kinds */
	uint64_t filtered; /* outside --since/--until */
	uint64_t skipped;
	uint64_t skipped_by[REPORT_SKIP_N];
};

/* The first line skipped for a reason. */
struct report_skip_note {
	const char *file; /* the caller's name for it (borrowed); NULL: none skipped */
	uint64_t line;
	char detail[200];
};

/* Sums over every group (the totals), and the report's other counts. */
struct report_sums {
	uint64_t events, denied, statements, alerts;
	uint64_t bytes_read, bytes_sent, rows;
	uint64_t files, tables, endpoints, programs, users; /* distinct */
	uint64_t groups;
	uint64_t gaps, events_lost, alerts_suppressed, runs, hosts;
};

struct report;

/* NULL with errno set. */
struct report *report_new(const struct report_options *opt);
void report_free(struct report *r);

/*
 * A line of the stream, without its newline; file and line say where it
 * is (file borrowed until the report is freed). 0 when it is used,
 * filtered or ignored, 1 when it is skipped, -ENOMEM.
 */
int report_add_line(struct report *r, const char *line, size_t len, const char *file,
		    uint64_t line_no);
/* A line the caller could not read whole (REPORT_SKIP_TRUNCATED or _TOO_LONG): skipped. */
void report_skip_line(struct report *r, enum report_skip why, const char *file, uint64_t line_no);

const struct report_input *report_input(const struct report *r);
const struct report_skip_note *report_skip_note(const struct report *r, enum report_skip why);
/* "not_json", "bad_field"...: the reason's name in --json. */
const char *report_skip_name(enum report_skip why);
/* The reason in words, for a message: "not JSON", "a field of the wrong type"... */
const char *report_skip_text(enum report_skip why);
void report_sums(const struct report *r, struct report_sums *sums);

/* The report as one JSON object (docs: README, "Reports"); NULL without memory. */
json_t *report_json(const struct report *r);
/* The report as text for a terminal, 80 columns; names with control bytes escaped. */
void report_print_text(const struct report *r, FILE *f, bool utf8);

#endif /* CUSTOS_REPORT_H */
