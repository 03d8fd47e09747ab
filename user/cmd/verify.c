// SPDX-License-Identifier: GPL-2.0
/* custos verify: checks the hash chain of stored events (see chain.h). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "output/chain.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "encode/jsonstr.h"
#include "output/stream_read.h"

#define DEFAULT_CONFIG "/etc/custos/custos.json"
#define DEFAULT_KEY    "/etc/custos/chain.key" /* the one make install and the package make */
#define KEYS_MAX       16
#define OPT_PARTIAL    256 /* --partial: no short form */

enum verify_status {
	VERIFY_INTACT = 0,
	VERIFY_PROBLEM = 1,
	VERIFY_ERROR = 2,
};

struct verify {
	struct chain_verifier *v;
	struct stream_reader reader; /* the files as one stream */
	char error[1024];	     /* why the stream or the key cannot be read */
};

static const char *const problem_names[] = {
    [CHAIN_OK] = "ok",
    [CHAIN_EDITED] = "edited",
    [CHAIN_MISSING] = "missing",
    [CHAIN_REORDERED] = "reordered",
    [CHAIN_RESTARTED] = "restarted",
    [CHAIN_TRUNCATED] = "truncated",
    [CHAIN_TOO_LONG] = "too_long",
    [CHAIN_NOT_JSON] = "not_json",
    [CHAIN_NO_SEQ] = "no_seq",
    [CHAIN_NO_CHAIN] = "no_chain",
};
_Static_assert(CHAIN_NO_CHAIN + 1 == sizeof(problem_names) / sizeof(problem_names[0]),
	       "every problem needs a name");

static void verify_usage(FILE *f)
{
	fprintf(f,
		"USAGE\n"
		"  custos verify [--key FILE]... [--config FILE] [--partial] [--json] FILE...\n"
		"\n"
		"Checks the hash chain of stored events (custos.chain, see \"Tamper evidence\"\n"
		"in README.md). The FILEs, plain or gzip (\"-\" is stdin), are read in the\n"
		"order given as one stream: give rotated files oldest first. Every record is\n"
		"checked against the key and the record before it; the first problem is named\n"
		"with its file, line and seq: a record edited, missing, reordered or\n"
		"duplicated, a chain restarted without agent-start, a truncated or foreign\n"
		"line. Lines of an OCSF output (\"format\": \"ocsf\") carry the chain as\n"
		"unmapped.custos.chain and are verified alike, one stream per format.\n"
		"A line identical to one verified before (sent twice by a network\n"
		"output) is skipped and counted. A run without agent-stop at its end is a\n"
		"warning: the agent was killed or is still running, or the run was cut.\n"
		"With --partial, the stream may begin inside a run (its older files were\n"
		"deleted by rotation): its first record is taken as it is, without checking\n"
		"its own chain value, and everything after it is verified as usual.\n"
		"Exit status 0 if intact, 1 if a problem is found, 2 if a file or the key\n"
		"cannot be read.\n"
		"\n"
		"OPTIONS\n"
		"  -k, --key FILE     the chain key; repeat it for keys changed by SIGHUP, in\n"
		"                     any order (default: \"chain\".\"key_file\" of the config,\n"
		"                     else " DEFAULT_KEY ")\n"
		"  -c, --config FILE  the config naming the key (default " DEFAULT_CONFIG ")\n"
		"  --partial          the stream may begin inside a run: the MAC of its first\n"
		"                     record is not checked (it is named in the result)\n"
		"  -j, --json         the result as one JSON object\n"
		"  -h, --help         this help\n"
		"\n"
		"EXAMPLES\n"
		"  sudo custos verify /var/log/custos/events.ndjson\n"
		"  sudo custos verify --key /etc/custos/chain.key $(ls -tr "
		"/var/log/custos/events.ndjson*)\n"
		"  zcat events.ndjson.2.gz | sudo custos verify --key /etc/custos/chain.key --json "
		"-\n"
		"  sudo custos verify --partial /var/log/custos/events.ndjson.*.gz "
		"/var/log/custos/events.ndjson\n");
}

static void describe(const struct chain_verify_result *res, char *buf, size_t len)
{
	const struct chain_report *p = &res->problem;

	switch (p->kind) {
	case CHAIN_OK:
		snprintf(buf, len, "intact");
		break;
	case CHAIN_EDITED:
		snprintf(buf, len, "edited (HMAC mismatch)%s",
			 p->first_record ? ", or not sealed with this key" : "");
		break;
	case CHAIN_MISSING:
		snprintf(buf, len, "missing records seq %lld..%lld%s", (long long)p->first_missing,
			 (long long)p->last_missing,
			 p->first_record && !res->partial_start.seq
			     ? " (the stream begins inside a run: give its earlier files first, or "
			       "--partial if they are gone)"
			     : "");
		break;
	case CHAIN_REORDERED:
		snprintf(buf, len, "reordered or duplicated (seq %lld after %lld)",
			 (long long)p->seq, (long long)p->other_seq);
		break;
	case CHAIN_RESTARTED:
		snprintf(buf, len, "chain restarted without agent-start");
		break;
	case CHAIN_TRUNCATED:
		snprintf(buf, len, "truncated line");
		break;
	case CHAIN_TOO_LONG:
		snprintf(buf, len, "line longer than %d MiB", CHAIN_LINE_MAX >> 20);
		break;
	case CHAIN_NOT_JSON:
		snprintf(buf, len, "not JSON: %s", p->detail);
		break;
	case CHAIN_NO_SEQ:
		snprintf(buf, len, "no seq field (custos.seq)");
		break;
	case CHAIN_NO_CHAIN:
		snprintf(buf, len, "no chain field (custos.chain)");
		break;
	}
}

static const enum chain_line_end chain_end[] = {
    [STREAM_LINE_NEWLINE] = CHAIN_LINE_NEWLINE,
    [STREAM_LINE_EOF] = CHAIN_LINE_EOF,
    [STREAM_LINE_CUT] = CHAIN_LINE_EOF, /* what follows in the next file cannot continue it */
    [STREAM_LINE_LONG] = CHAIN_LINE_LONG,
};

static int verify_line(void *ctx, char *line, size_t len, enum stream_line_end end,
		       const struct stream_where *where)
{
	struct verify *vr = ctx;
	struct chain_where at = {.file = where->file, .line = where->line};

	return chain_verify_line(vr->v, line, len, chain_end[end], &at);
}

/* The files as one stream: 0 when it is read through, 1 at a problem, or -errno. */
static int verify_stream(struct verify *vr, char *const *files, size_t n_files)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n_files && r == 0; i++)
		r = stream_read_file(&vr->reader, files[i], verify_line, vr);
	if (r == 0)
		r = stream_read_end(&vr->reader, verify_line, vr);
	if (r == 0)
		r = chain_verify_end(vr->v);
	if (r < 0)
		snprintf(vr->error, sizeof(vr->error), "%s",
			 vr->reader.error[0] ? vr->reader.error
			 : r == -ENOMEM	     ? "out of memory"
					     : strerror(-r));
	return r;
}

/*
 * The keys of --key; without, the key the agent uses: the one the config
 * names (--config, else DEFAULT_CONFIG when it exists), else DEFAULT_KEY
 * when the default config names none or does not exist.
 */
static int load_keys(char *const *key_files, size_t n, const char *config_path, struct chain **keys,
		     size_t *n_keys, char *err, size_t len)
{
	const char *path = config_path ?: DEFAULT_CONFIG;
	static char *default_key[] = {DEFAULT_KEY};
	struct config_error cerr;
	struct config *cfg = NULL;
	int r = 0;

	if (n == 0 && (config_path || access(path, F_OK) == 0)) {
		cfg = config_load_file(path, &cerr);
		if (!cfg) {
			config_error_format(&cerr, err, len);
			return -EINVAL;
		}
		if (cfg->chain.key_file) {
			key_files = &cfg->chain.key_file;
			n = 1;
		} else if (config_path) {
			snprintf(err, len, "%s has no \"chain\" key file: give --key FILE", path);
			config_free(cfg);
			return -ENOENT;
		}
	}
	if (n == 0) {
		if (access(DEFAULT_KEY, F_OK)) {
			snprintf(err, len,
				 "no key: give --key FILE, or --config FILE with a \"chain\" key "
				 "file (no %s naming one, and no %s)",
				 path, DEFAULT_KEY);
			config_free(cfg);
			return -ENOENT;
		}
		key_files = default_key;
		n = 1;
	}
	for (*n_keys = 0; *n_keys < n; (*n_keys)++) {
		keys[*n_keys] = chain_open(key_files[*n_keys], err, len);
		if (!keys[*n_keys]) {
			r = -errno;
			break;
		}
	}
	config_free(cfg);
	return r;
}

static json_t *where_json(json_t *o, const struct chain_where *w)
{
	json_object_set_new(o, "file", jsonstr_cstr(w->file, PATH_MAX, NULL));
	json_object_set_new(o, "line", json_integer(w->line));
	return o;
}

static json_t *warnings_json(const struct chain_verify_result *res)
{
	json_t *warnings = json_array();
	size_t i;

	if (res->lines == 0)
		json_array_append_new(warnings, json_string("no records"));
	for (i = 0; i < res->n_cut_runs; i++)
		json_array_append_new(
		    warnings,
		    json_sprintf("a run ends without agent-stop at seq %lld (%s:%llu): the agent "
				 "was killed, or the end of the run was removed",
				 (long long)res->cut_runs[i].seq, res->cut_runs[i].where.file,
				 (unsigned long long)res->cut_runs[i].where.line));
	if (res->last_run.seq && !res->last_run.stopped)
		json_array_append_new(warnings,
				      json_sprintf("last run ends without agent-stop at seq %lld: "
						   "cut off, or the agent is still running",
						   (long long)res->last_run.seq));
	return warnings;
}

/* --partial: where the stream begins inside a run, or null. */
static json_t *partial_start_json(const struct chain_verify_result *res)
{
	const struct chain_record_at *start = &res->partial_start;

	if (!start->seq)
		return json_null();
	return where_json(json_pack("{s:I}", "seq", (json_int_t)start->seq), &start->where);
}

static void print_json(const struct chain_verify_result *res, uint64_t files)
{
	const struct chain_report *p = &res->problem;
	json_t *o, *problem = json_null(), *last = json_null();
	char text[256];

	if (p->kind != CHAIN_OK) {
		describe(res, text, sizeof(text));
		problem = where_json(
		    json_pack("{s:s, s:s}", "kind", problem_names[p->kind], "message", text),
		    &p->where);
		json_object_set_new(problem, "seq", p->seq ? json_integer(p->seq) : json_null());
		if (p->kind == CHAIN_MISSING)
			json_object_update_new(problem, json_pack("{s:I, s:I}", "first_missing",
								  (json_int_t)p->first_missing,
								  "last_missing",
								  (json_int_t)p->last_missing));
		if (p->kind == CHAIN_REORDERED)
			json_object_set_new(problem, "after_seq", json_integer(p->other_seq));
	} else if (res->last_run.seq) {
		last = where_json(json_pack("{s:I, s:b}", "seq", (json_int_t)res->last_run.seq,
					    "agent_stop", res->last_run.stopped),
				  &res->last_run.where);
	}
	o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "intact",
		      p->kind == CHAIN_OK, "files", (json_int_t)files, "lines",
		      (json_int_t)res->lines, "runs", (json_int_t)res->runs, "records_verified",
		      (json_int_t)res->records, "duplicates_skipped", (json_int_t)res->duplicates,
		      "partial_start", partial_start_json(res), "problem", problem, "last_run",
		      last, "warnings", p->kind == CHAIN_OK ? warnings_json(res) : json_array());
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

static void print_text(const struct chain_verify_result *res, uint64_t files)
{
	const struct chain_report *p = &res->problem;
	json_t *warnings;
	char text[256];
	size_t i;

	if (p->kind != CHAIN_OK) {
		describe(res, text, sizeof(text));
		printf("%s:%llu: ", p->where.file, (unsigned long long)p->where.line);
		if (p->seq)
			printf("seq %lld: ", (long long)p->seq);
		printf("%s\n", text);
	}
	printf("%s: files %llu, lines %llu, runs %llu, records verified %llu, duplicates skipped "
	       "%llu\n",
	       p->kind == CHAIN_OK ? "OK" : "FAILED", (unsigned long long)files,
	       (unsigned long long)res->lines, (unsigned long long)res->runs,
	       (unsigned long long)res->records, (unsigned long long)res->duplicates);
	if (res->partial_start.seq)
		printf("started inside a run at seq %lld (%s:%llu): that record's MAC is not "
		       "checked\n",
		       (long long)res->partial_start.seq, res->partial_start.where.file,
		       (unsigned long long)res->partial_start.where.line);
	if (p->kind != CHAIN_OK)
		return;
	if (res->last_run.stopped)
		printf("last run ends with agent-stop at seq %lld\n", (long long)res->last_run.seq);
	warnings = warnings_json(res);
	for (i = 0; i < json_array_size(warnings); i++)
		printf("warning: %s\n", json_string_value(json_array_get(warnings, i)));
	json_decref(warnings);
}

static int fail_error(bool json, const char *msg)
{
	json_t *o;

	if (!json) {
		fprintf(stderr, "custos verify: %s\n", msg);
		return VERIFY_ERROR;
	}
	o = json_pack("{s:o}", "error", jsonstr_cstr(msg, SIZE_MAX, NULL));
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
	return VERIFY_ERROR;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"config", required_argument, NULL, 'c'},
	    {"partial", no_argument, NULL, OPT_PARTIAL},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct chain *keys[KEYS_MAX];
	char *key_files[KEYS_MAX];
	const char *config_path = NULL;
	struct verify vr = {};
	size_t n_key_files = 0, n_keys = 0, i;
	bool json = false, partial = false;
	int opt, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "k:c:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			if (n_key_files == KEYS_MAX)
				return fail_error(json, "too many --key (at most 16)");
			key_files[n_key_files++] = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case OPT_PARTIAL:
			partial = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			verify_usage(stdout);
			return 0;
		default:
			verify_usage(stderr);
			return VERIFY_ERROR;
		}
	}
	if (optind == argc) {
		verify_usage(stderr);
		return VERIFY_ERROR;
	}
	r = load_keys(key_files, n_key_files, config_path, keys, &n_keys, vr.error,
		      sizeof(vr.error));
	if (r == 0) {
		vr.v = chain_verifier_new(keys, n_keys);
		r = vr.v ? 0 : -ENOMEM;
	}
	if (r == 0) {
		chain_verifier_set_partial(vr.v, partial);
		stream_reader_init(&vr.reader, CHAIN_LINE_MAX, true);
		r = verify_stream(&vr, argv + optind, argc - optind);
	}
	if (r < 0) {
		r = fail_error(json, vr.error[0] ? vr.error : strerror(-r));
	} else if (json) {
		print_json(chain_verifier_result(vr.v), vr.reader.files);
	} else {
		print_text(chain_verifier_result(vr.v), vr.reader.files);
	}
	chain_verifier_free(vr.v);
	for (i = 0; i < n_keys; i++)
		chain_free(keys[i]);
	stream_reader_release(&vr.reader);
	return r;
}
