// SPDX-License-Identifier: GPL-2.0
/* custos report: how much customer data each human accessed, from stored events (report.h). */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "encode/jsonstr.h"
#include "output/stream_read.h"
#include "report/report.h"
#include "report/when.h"

enum report_status {
	REPORT_OK = 0,
	REPORT_INCOMPLETE = 1, /* a file unreadable, lines skipped: what was read is reported */
	REPORT_USAGE = 2,
};

enum {
	OPT_SINCE = 256,
	OPT_UNTIL,
	OPT_BY,
};

/* A file that could not be read, or not to its end. */
struct unreadable {
	char *message; /* "FILE: why" */
};

struct reading {
	struct report *report;
	struct stream_reader reader;
	struct unreadable *bad;
	size_t n_bad;
	int fatal; /* -ENOMEM */
};

static void report_usage(FILE *f)
{
	fprintf(
	    f, "USAGE\n"
	       "  custos report [--since T] [--until T] [--by user|process|rule|table] [--json]\n"
	       "                [FILE...]\n"
	       "\n"
	       "How much customer data each human accessed, from stored events: the FILEs,\n"
	       "plain or gzip (rotated files), or stdin (no FILE, or \"-\"). For each human\n"
	       "(the login user, which sudo does not change; else the user): bytes read from\n"
	       "watched files and received from watched endpoints, bytes sent to them, rows\n"
	       "returned to SQL statements, statements, distinct files, tables and endpoints,\n"
	       "the programs, the first and last event, most data first; then the alerts of\n"
	       "the detection rules, and the events the agent lost (its gap events). Times\n"
	       "are UTC. A line that is not an event custos wrote (not JSON, a field of the\n"
	       "wrong type, cut short) is skipped, and said on stderr.\n"
	       "Exit status 0; 1 if a FILE cannot be read (to its end) or lines were\n"
	       "skipped, the rest being reported; 2 on a usage error (or without memory).\n"
	       "\n"
	       "OPTIONS\n"
	       "  --since T          only what happened at T or later: RFC 3339\n"
	       "                     (2026-12-01T08:00:00Z), a date (2026-12-01: midnight UTC),\n"
	       "                     or a time ago (30s, 10m, 2h, 7d, 1w)\n"
	       "  --until T          only what happened before T (the same forms)\n"
	       "  --by WHAT          group by user (the default), process (the program), rule\n"
	       "                     (the watch rule or endpoint), or table (a statement counts\n"
	       "                     for each table it names)\n"
	       "  -j, --json         the report as one JSON document (README.md, \"Reports\")\n"
	       "  -h, --help         this help\n"
	       "\n"
	       "EXAMPLES\n"
	       "  sudo custos report /var/log/custos/events.ndjson\n"
	       "  sudo custos report --since 7d /var/log/custos/events.ndjson*\n"
	       "  sudo custos report --by table --since 2026-12-01 --until 2026-12-02 \\\n"
	       "       /var/log/custos/events.ndjson.*.gz\n"
	       "  journalctl -u custos -o cat --since today | custos report --by process --json\n");
}

static int fail_usage(bool json, const char *msg)
{
	json_t *o;

	if (!json) {
		fprintf(stderr, "custos report: %s (try custos report --help)\n", msg);
		return REPORT_USAGE;
	}
	o = json_pack("{s:o}", "error", jsonstr_cstr(msg, SIZE_MAX, NULL));
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return REPORT_USAGE;
}

static int parse_by(const char *s, enum report_by *by)
{
	static const char *const names[] = {
	    [REPORT_BY_USER] = "user",
	    [REPORT_BY_PROCESS] = "process",
	    [REPORT_BY_RULE] = "rule",
	    [REPORT_BY_TABLE] = "table",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*by = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int note_unreadable(struct reading *rd, const char *msg)
{
	struct unreadable *v = realloc(rd->bad, (rd->n_bad + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	rd->bad = v;
	rd->bad[rd->n_bad].message = strdup(msg);
	return rd->bad[rd->n_bad++].message ? 0 : -ENOMEM;
}

static int take_line(void *ctx, char *line, size_t len, enum stream_line_end end,
		     const struct stream_where *where)
{
	struct reading *rd = ctx;
	char msg[PATH_MAX + 100];
	int ret;

	switch (end) {
	case STREAM_LINE_NEWLINE:
	case STREAM_LINE_EOF: /* a last line without its newline: used if it is whole */
		ret = report_add_line(rd->report, line, len, where->file, where->line);
		break;
	case STREAM_LINE_CUT:
		snprintf(msg, sizeof(msg), "%s: the compressed data ends early, in line %llu",
			 where->file, (unsigned long long)where->line);
		ret = note_unreadable(rd, msg);
		if (ret == 0 && len)
			ret = report_add_line(rd->report, line, len, where->file, where->line);
		break;
	case STREAM_LINE_LONG:
	default:
		report_skip_line(rd->report, REPORT_SKIP_TOO_LONG, where->file, where->line);
		ret = 0;
		break;
	}
	if (ret < 0)
		rd->fatal = ret;
	return ret < 0 ? ret : 0;
}

/* Reads every file; a file that cannot be read is noted, and the others read. */
static int read_files(struct reading *rd, char *const *files, size_t n_files)
{
	char *const stdin_only[] = {"-"};
	size_t i;
	int ret;

	if (n_files == 0) {
		files = stdin_only;
		n_files = 1;
	}
	for (i = 0; i < n_files; i++) {
		rd->reader.error[0] = '\0';
		ret = stream_read_file(&rd->reader, files[i], take_line, rd);
		if (rd->fatal)
			return rd->fatal;
		if (ret < 0 && note_unreadable(rd, rd->reader.error))
			return -ENOMEM;
	}
	return 0;
}

/* On stderr: the files not read, and the lines skipped, each reason with its first line. */
static void say_problems(const struct reading *rd)
{
	const struct report_input *in = report_input(rd->report);
	size_t i;

	for (i = 0; i < rd->n_bad; i++)
		fprintf(stderr, "custos report: %s\n", rd->bad[i].message);
	if (!in->skipped)
		return;
	fprintf(stderr, "custos report: skipped %llu of %llu lines:\n",
		(unsigned long long)in->skipped, (unsigned long long)in->lines);
	for (i = 0; i < REPORT_SKIP_N; i++) {
		const struct report_skip_note *note = report_skip_note(rd->report, i);

		if (!in->skipped_by[i])
			continue;
		fprintf(stderr, "custos report:   %llu %s, the first at %s:%llu: %s\n",
			(unsigned long long)in->skipped_by[i], report_skip_text(i), note->file,
			(unsigned long long)note->line, note->detail);
	}
}

static int print_json(const struct reading *rd)
{
	json_t *doc = report_json(rd->report), *input, *bad = json_array();
	size_t i;
	int ret = 0;

	input = json_object_get(doc, "input");
	for (i = 0; bad && i < rd->n_bad; i++)
		if (json_array_append_new(bad, jsonstr_cstr(rd->bad[i].message, SIZE_MAX, NULL)))
			ret = -ENOMEM;
	if (!input || !bad || ret ||
	    json_object_set_new(input, "files", json_integer(rd->reader.files)) ||
	    json_object_set_new(input, "bytes", json_integer(rd->reader.bytes)) ||
	    json_object_set_new(input, "unreadable", bad)) {
		json_decref(doc);
		return -ENOMEM;
	}
	json_dumpf(doc, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(doc);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"until", required_argument, NULL, OPT_UNTIL},
	    {"by", required_argument, NULL, OPT_BY},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct report_options opt = {
	    .by = REPORT_BY_USER, .since_ns = INT64_MIN, .until_ns = INT64_MAX};
	const char *since = NULL, *until = NULL, *by = NULL, *codeset;
	struct reading rd = {};
	int64_t now = now_ns();
	bool json = false;
	int c, ret;
	size_t i;
	char msg[200];

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SINCE:
			since = optarg;
			break;
		case OPT_UNTIL:
			until = optarg;
			break;
		case OPT_BY:
			by = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			report_usage(stdout);
			return REPORT_OK;
		default:
			report_usage(stderr);
			return REPORT_USAGE;
		}
	}
	if (since && when_parse_arg(since, now, &opt.since_ns)) {
		snprintf(msg, sizeof(msg),
			 "--since %.64s: not a time (2026-12-01T08:00:00Z, 2026-12-01, 10m, 2h, "
			 "7d)",
			 since);
		return fail_usage(json, msg);
	}
	if (until && when_parse_arg(until, now, &opt.until_ns)) {
		snprintf(msg, sizeof(msg),
			 "--until %.64s: not a time (2026-12-01T08:00:00Z, 2026-12-01, 10m, 2h, "
			 "7d)",
			 until);
		return fail_usage(json, msg);
	}
	if (opt.since_ns >= opt.until_ns)
		return fail_usage(json, "--since is not before --until: an empty period");
	if (by && parse_by(by, &opt.by)) {
		snprintf(msg, sizeof(msg), "--by %.64s: user, process, rule or table", by);
		return fail_usage(json, msg);
	}
	if (optind == argc && isatty(STDIN_FILENO))
		return fail_usage(json, "no FILE, and stdin is a terminal: give the stored events");
	rd.report = report_new(&opt);
	if (!rd.report)
		return fail_usage(json, "out of memory");
	stream_reader_init(&rd.reader, REPORT_LINE_MAX, false);
	ret = read_files(&rd, argv + optind, argc - optind);
	if (ret == 0) {
		say_problems(&rd);
		if (json) {
			ret = print_json(&rd);
		} else {
			codeset = nl_langinfo(CODESET);
			report_print_text(rd.report, stdout, codeset && !strcmp(codeset, "UTF-8"));
		}
	}
	if (ret < 0)
		ret = fail_usage(json, "out of memory");
	else if (rd.n_bad || report_input(rd.report)->skipped)
		ret = REPORT_INCOMPLETE;
	else
		ret = REPORT_OK;
	for (i = 0; i < rd.n_bad; i++)
		free(rd.bad[i].message);
	free(rd.bad);
	stream_reader_release(&rd.reader);
	report_free(rd.report);
	return ret;
}
