// SPDX-License-Identifier: GPL-2.0
/* custos run and custos trace: the two front ends of the agent. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "cmd/client.h"
#include "cmd/cmd.h"
#include "lib/log.h"

#define TRACE_PATHS_MAX 256

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
	fprintf(f, "USAGE\n"
		   "  custos trace [--path PATH]... [--user USER] [--comm NAME] [--pid PID]\n"
		   "               [--json] [--config FILE] [--socket PATH | --standalone] [-v]\n"
		   "\n"
		   "Shows accesses live, one line each:\n"
		   "  TIME LOGIN-USER->USER PID PROCESS ACTION BYTES PATH\n"
		   "TIME is UTC; LOGIN-USER is who logged in (it survives sudo and su); BYTES is\n"
		   "what was read since the last line for that open file (\"-\" at open). SQL\n"
		   "statements sent through PostgreSQL, MySQL and SQLite client libraries show as\n"
		   "  TIME LOGIN-USER->USER PID PROCESS query ROWS SYSTEM: STATEMENT\n"
		   "with literals redacted. When an agent runs (custos run), trace attaches to\n"
		   "it through its control socket and shows what the agent watches (under\n"
		   "--path, if given), without loading hooks of its own; otherwise, or with\n"
		   "--standalone or --config, it loads its own, and without --path or --config\n"
		   "watches what the built-in config watches. Needs root.\n"
		   "\n"
		   "OPTIONS\n"
		   "  -p, --path PATH    watch PATH (a file, a directory and all below it, or a\n"
		   "                     glob); repeat for more\n"
		   "  -u, --user USER    only accesses by USER (name or uid; user or login user)\n"
		   "  -C, --comm NAME    only accesses by processes named NAME\n"
		   "  -P, --pid PID      only accesses by process PID\n"
		   "  -j, --json         JSON lines, as custos run writes them\n"
		   "  -c, --config FILE  watch what FILE configures instead of --path\n"
		   "  --socket PATH      the running agent's control socket\n"
		   "                     (default " CONTROL_SOCKET_DEFAULT ")\n"
		   "  --standalone       load trace's own hooks even when an agent runs\n"
		   "  -v, --verbose      debug output on stderr\n"
		   "  -h, --help         this help\n"
		   "\n"
		   "EXAMPLES\n"
		   "  sudo custos trace --path /srv/crm\n"
		   "  sudo custos trace --path '/srv/exports/*.csv' --user alice\n"
		   "  sudo custos trace --path /var/lib/postgresql --comm cp --json | jq .\n"
		   "  sudo custos trace --standalone --path /tmp/export\n");
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

/*
 * Attached to the running agent when one serves socket_path (and neither
 * --standalone nor --config asks for trace's own hooks): its exit status;
 * otherwise TRACE_NO_AGENT, and trace loads its own hooks.
 */
static int trace_attached(const char *socket_path, bool standalone, struct agent_options *opts,
			  char **paths, size_t n_paths)
{
	if (standalone || opts->config_path)
		return TRACE_NO_AGENT;
	return trace_attach(socket_path ?: CONTROL_SOCKET_DEFAULT, opts, paths, n_paths);
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

int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"path", required_argument, NULL, 'p'},
	    {"user", required_argument, NULL, 'u'},
	    {"comm", required_argument, NULL, 'C'},
	    {"pid", required_argument, NULL, 'P'},
	    {"json", no_argument, NULL, 'j'},
	    {"config", required_argument, NULL, 'c'},
	    {"socket", required_argument, NULL, TRACE_OPT_SOCKET},
	    {"standalone", no_argument, NULL, TRACE_OPT_STANDALONE},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct agent_options opts = {.mode = "trace", .format = OUTPUT_HUMAN};
	char *paths[TRACE_PATHS_MAX];
	const char *socket_path = NULL;
	bool standalone = false;
	size_t n_paths = 0;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:u:C:P:jc:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (n_paths == TRACE_PATHS_MAX) {
				fprintf(stderr, "custos trace: at most %d --path\n",
					TRACE_PATHS_MAX);
				return 2;
			}
			if (optarg[0] != '/') {
				fprintf(stderr,
					"custos trace: --path %s: expected an absolute path\n",
					optarg);
				return 2;
			}
			paths[n_paths++] = optarg;
			break;
		case 'u':
			opts.filter.user = optarg;
			break;
		case 'C':
			opts.filter.comm = optarg;
			break;
		case 'P':
			if (parse_pid(optarg, &opts.filter.pid)) {
				fprintf(stderr, "custos trace: --pid %s: expected a process id\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			opts.format = OUTPUT_JSON;
			break;
		case 'c':
			opts.config_path = optarg;
			break;
		case TRACE_OPT_SOCKET:
			socket_path = optarg;
			break;
		case TRACE_OPT_STANDALONE:
			standalone = true;
			break;
		case 'v':
			opts.verbose = true;
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			trace_usage(stdout);
			return 0;
		default:
			trace_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "custos trace: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (n_paths && opts.config_path) {
		fprintf(stderr, "custos trace: use --path or --config, not both\n");
		return 2;
	}
	if (need_root("trace"))
		return 1;
	ret = trace_attached(socket_path, standalone, &opts, paths, n_paths);
	if (ret != TRACE_NO_AGENT)
		return ret;
	log_debug("no agent serves its control socket: trace loads its own hooks");
	if (n_paths) {
		opts.config = config_from_paths(paths, n_paths);
		if (!opts.config) {
			fprintf(stderr, "custos trace: %s\n", strerror(errno));
			return 1;
		}
	}
	return agent_run(&opts);
}
