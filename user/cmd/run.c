// SPDX-License-Identifier: GPL-2.0
/* custos run and custos trace: the two front ends of the agent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "cmd/client.h"
#include "cmd/cmd.h"
#include "cmd/trace.h"
#include "lib/log.h"
#include "report/when.h"

/* Long-only options of trace: where its events come from. */
enum {
	TRACE_OPT_SOCKET = 0x100,
	TRACE_OPT_STANDALONE,
};

static void run_usage(FILE *f)
{
	fprintf(f, "USAGE\n"
		   "  custos run [--config FILE] [-v]\n"
		   "\n"
		   "Runs the agent. Prints one JSON event per line on stdout: an \"agent-start\"\n"
		   "event once every hook is attached, then every open of a watched file and a\n"
		   "summary (bytes and read calls) when it is closed, when its process exits or\n"
		   "execs, and every flush_interval seconds while it stays open. SIGHUP reloads\n"
		   "the config (a broken one is refused and the running one kept); SIGINT and\n"
		   "SIGTERM flush and exit 0. Needs root.\n"
		   "\n"
		   "OPTIONS\n"
		   "  -c, --config FILE  JSON config (default: the built-in one, see README.md)\n"
		   "  -v, --verbose      libbpf and agent debug output on stderr\n"
		   "  -h, --help         this help\n"
		   "\n"
		   "EXAMPLES\n"
		   "  sudo custos run\n"
		   "  sudo custos run --config /etc/custos/custos.json >> /var/log/custos.jsonl\n"
		   "  sudo kill -HUP $(pidof custos)    # reload the config\n");
}

static void trace_usage(FILE *f)
{
	fprintf(
	    f,
	    "USAGE\n"
	    "  custos trace [--path PATH]... [--config FILE] [FILTER]... [--json]\n"
	    "               [--color auto|always|never] [--socket PATH | --standalone] [-v]\n"
	    "  custos trace --file FILE [FILTER]... [--json] [--color auto|always|never]\n"
	    "\n"
	    "Shows accesses live (or those of a stored stream, with --file), one line each:\n"
	    "  TIME LOGIN-USER->USER PID PROCESS ACTION BYTES PATH\n"
	    "TIME is UTC; LOGIN-USER is who logged in (it survives sudo and su); BYTES is\n"
	    "what was read since the last line for that open file, READ/WRITTEN if it\n"
	    "wrote (\"-\" at open); a truncate shows the new length, a chmod the mode, a\n"
	    "chown the owner (UID, UID:GID or :GID), a rename \"FROM -> TO\" as PATH. SQL\n"
	    "statements sent through PostgreSQL, MySQL and SQLite client libraries show as\n"
	    "  TIME LOGIN-USER->USER PID PROCESS query ROWS SYSTEM: STATEMENT\n"
	    "with literals redacted. When an agent runs (custos run), trace attaches to\n"
	    "it through its control socket and shows what the agent watches (filtered),\n"
	    "without loading hooks of its own; otherwise, or with --standalone or\n"
	    "--config, it loads its own, and without --path or --config watches what\n"
	    "the built-in config watches. Live lines are held %d ms to go out in time order.\n"
	    "Live, it needs root; --file needs neither root nor BPF.\n"
	    "\n"
	    "OPTIONS\n"
	    "  -p, --path PATH    watch PATH (a file, a directory and all below it, or a\n"
	    "                     glob) and show only the file events there; repeat for\n"
	    "                     more. With --file, only the filter: the same glob,\n"
	    "                     matching what is below a match too\n"
	    "  -c, --config FILE  watch what FILE configures instead of --path\n"
	    "  -f, --file FILE    show a stream custos run stored (plain or gzip; \"-\":\n"
	    "                     stdin), in the file's order; skipped lines are told on\n"
	    "                     stderr and make the exit status 1\n"
	    "  -u, --user USER    only accesses by USER (name or uid; user or login user)\n"
	    "  -C, --comm NAME    only accesses by processes named NAME (at most 15 bytes)\n"
	    "  -P, --pid PID      only accesses by process PID\n"
	    "  -s, --since T      only events at or after T: an RFC 3339 time, a date, or\n"
	    "                     a time ago (30s, 10m, 2h, 7d, 1w)\n"
	    "  -o, --only KINDS   only these kinds, separated by commas: file, db, net,\n"
	    "                     alert (the agent's own notes always show)\n"
	    "  -j, --json         JSON lines, as custos run writes them\n"
	    "  --color WHEN       auto (on a terminal, the default), always or never\n"
	    "  --socket PATH      the running agent's control socket\n"
	    "                     (default " CONTROL_SOCKET_DEFAULT ")\n"
	    "  --standalone       load trace's own hooks even when an agent runs\n"
	    "  -v, --verbose      debug output on stderr\n"
	    "  -h, --help         this help\n"
	    "Filters are the same live and with --file; --user, --comm and --path repeat\n"
	    "(any of them matches); different filters must all match.\n"
	    "\n"
	    "EXAMPLES\n"
	    "  sudo custos trace --path /srv/crm\n"
	    "  sudo custos trace --path '/srv/exports/*.csv' --user alice --user bob\n"
	    "  sudo custos trace --path /var/lib/postgresql --comm cp --json | jq .\n"
	    "  custos trace --file /var/log/custos/events.ndjson.1.gz --since 2h --only file\n"
	    "  zcat /var/log/custos/*.gz | custos trace --file - --path /srv/crm --color never\n"
	    "  sudo custos trace --standalone --path /tmp/export\n",
	    TRACE_REORDER_MS);
}

static int need_root(const char *mode)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr, "custos %s: must run as root (it loads BPF programs)\n", mode);
	return 1;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct agent_options opts = {.mode = "run", .format = OUTPUT_JSON};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			opts.config_path = optarg;
			break;
		case 'v':
			opts.verbose = true;
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "custos run: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (need_root("run"))
		return 1;
	return agent_run(&opts);
}

static int parse_pid(const char *s, uint32_t *pid)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > 4194304)
		return -EINVAL;
	*pid = v;
	return 0;
}

static int parse_color(const char *s, enum output_color *color)
{
	if (!strcmp(s, "auto"))
		*color = OUTPUT_COLOR_AUTO;
	else if (!strcmp(s, "always"))
		*color = OUTPUT_COLOR_ALWAYS;
	else if (!strcmp(s, "never"))
		*color = OUTPUT_COLOR_NEVER;
	else
		return -EINVAL;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* custos trace's options into t (and the live agent's into a): 0, or the exit status. */
static int trace_parse(int argc, char **argv, struct trace_options *t, struct agent_options *a)
{
	static const struct option longopts[] = {
	    {"path", required_argument, NULL, 'p'},
	    {"user", required_argument, NULL, 'u'},
	    {"comm", required_argument, NULL, 'C'},
	    {"pid", required_argument, NULL, 'P'},
	    {"since", required_argument, NULL, 's'},
	    {"only", required_argument, NULL, 'o'},
	    {"file", required_argument, NULL, 'f'},
	    {"color", required_argument, NULL, 'K'},
	    {"json", no_argument, NULL, 'j'},
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, TRACE_OPT_SOCKET},
	    {"standalone", no_argument, NULL, TRACE_OPT_STANDALONE},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct event_filter *f = &t->filter;
	char err[512] = "";
	int opt, ret = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:u:C:P:s:o:f:jc:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			ret = event_filter_add_path(f, optarg, err, sizeof(err));
			break;
		case 'u':
			ret = event_filter_add_user(f, optarg, err, sizeof(err));
			break;
		case 'C':
			ret = event_filter_add_comm(f, optarg, err, sizeof(err));
			break;
		case 'P':
			if (parse_pid(optarg, &f->pid)) {
				snprintf(err, sizeof(err), "--pid %s: expected a process id",
					 optarg);
				ret = -EINVAL;
			}
			break;
		case 's':
			if (when_parse_arg(optarg, now_ns(), &f->since_ns) || !f->since_ns) {
				snprintf(
				    err, sizeof(err),
				    "--since %s: expected an RFC 3339 time "
				    "(2026-12-01T08:00:00Z), a date (2026-12-01) or a time ago "
				    "(30s, 10m, 2h, 7d, 1w)",
				    optarg);
				ret = -EINVAL;
			}
			break;
		case 'o':
			ret = event_filter_set_only(f, optarg, err, sizeof(err));
			break;
		case 'f':
			t->file = optarg;
			break;
		case 'K':
			if (parse_color(optarg, &t->color)) {
				snprintf(err, sizeof(err),
					 "--color %s: expected auto, always or never", optarg);
				ret = -EINVAL;
			}
			break;
		case 'j':
			t->json = true;
			break;
		case 'c':
			a->config_path = optarg;
			break;
		case TRACE_OPT_SOCKET:
			t->socket = optarg;
			break;
		case TRACE_OPT_STANDALONE:
			t->standalone = true;
			break;
		case 'v':
			a->verbose = true;
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			trace_usage(stdout);
			return -1;
		default:
			trace_usage(stderr);
			return 2;
		}
		if (ret) {
			fprintf(stderr, "custos trace: %s\n", err);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "custos trace: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (f->n_paths && a->config_path) {
		fprintf(stderr, "custos trace: use --path or --config, not both\n");
		return 2;
	}
	if (t->file && a->config_path) {
		fprintf(stderr,
			"custos trace: --file shows a stored stream: --config has no use\n");
		return 2;
	}
	return 0;
}

/*
 * Attached to the running agent when one serves the socket (and neither
 * --standalone nor --config asks for trace's own hooks): its exit status;
 * otherwise TRACE_NO_AGENT, and trace loads its own hooks.
 */
static int trace_attached(const struct trace_options *t, const struct agent_options *a)
{
	if (t->standalone || a->config_path)
		return TRACE_NO_AGENT;
	return trace_attach(t->socket ?: CONTROL_SOCKET_DEFAULT, t);
}

int cmd_trace(int argc, char **argv)
{
	static struct trace_options t; /* large: the filter's lists */
	struct agent_options opts = {.mode = "trace", .format = OUTPUT_HUMAN};
	int ret;

	memset(&t, 0, sizeof(t));
	ret = trace_parse(argc, argv, &t, &opts);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (t.file)
		return trace_file(&t);
	if (need_root("trace"))
		return 1;
	ret = trace_attached(&t, &opts);
	if (ret != TRACE_NO_AGENT)
		return ret;
	log_debug("no agent serves its control socket: trace loads its own hooks");
	if (t.filter.n_paths) {
		opts.config = config_from_paths((char **)t.filter.paths, t.filter.n_paths);
		if (!opts.config) {
			fprintf(stderr, "custos trace: %s\n", strerror(errno));
			return 1;
		}
	}
	opts.format = t.json ? OUTPUT_JSON : OUTPUT_HUMAN;
	opts.filter = t.filter;
	opts.color = t.color;
	opts.reorder_ns = (int64_t)TRACE_REORDER_MS * 1000000;
	return agent_run(&opts);
}
