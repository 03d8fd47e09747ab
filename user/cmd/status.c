// SPDX-License-Identifier: GPL-2.0
/* custos status: the running agent's health, from its control socket. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/client.h"
#include "cmd/cmd.h"

#define STATUS_TIMEOUT_MS 5000
#define STATUS_REPLY_MAX  (64 << 20)
#define SPOOL_FULL_PCT	  50 /* a spool this full says its output is far behind */

static void status_usage(FILE *f)
{
	fprintf(f,
		"USAGE\n"
		"  custos status [--json] [--socket PATH | --config FILE]\n"
		"\n"
		"Asks the running agent (custos run) through its control socket how it is:\n"
		"uptime, hooks attached and unavailable, events in and out of each output,\n"
		"what was dropped (ring buffer, queue, outputs), spool and ring-buffer use,\n"
		"detection rules. Needs root.\n"
		"\n"
		"EXIT STATUS\n"
		"  0  the agent runs and is healthy\n"
		"  1  the agent runs, degraded: records or events dropped since it started, an\n"
		"     output not delivering, a spool more than "
		"50"
		"%% full\n"
		"  2  usage error\n"
		"  3  no agent is running (nothing serves the socket)\n"
		"  4  the agent could not be asked (permission denied, no answer)\n"
		"\n"
		"OPTIONS\n"
		"  -j, --json         the agent's figures as one JSON object, with \"health\"\n"
		"  -s, --socket PATH  the agent's control socket (default " CONTROL_SOCKET_DEFAULT
		")\n"
		"  -c, --config FILE  the control socket that FILE configures\n"
		"  -h, --help         this help\n"
		"\n"
		"EXAMPLES\n"
		"  sudo custos status\n"
		"  sudo custos status --json | jq .stats.outputs\n"
		"  sudo custos status >/dev/null || echo 'custos needs attention'\n");
}

static json_int_t num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static void reason(json_t *reasons, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(json_t *reasons, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_array_append_new(reasons, json_string(buf));
}

/* An output's name in custos.stats.outputs, an array of {name, in, out, ...}. */
static const char *output_name(json_t *o)
{
	json_t *name = json_object_get(o, "name");

	return json_is_string(name) ? json_string_value(name) : "?";
}

/* Why the agent is degraded, one sentence each; none: healthy. */
static json_t *judge(json_t *st)
{
	json_t *stats = json_object_get(st, "stats"), *outputs, *o, *d;
	json_int_t max = num(json_object_get(st, "spool"), "max_bytes");
	json_t *reasons = json_array();
	const char *k;
	size_t i;

	if (num(stats, "ringbuf_drops"))
		reason(reasons,
		       "%lld records lost with the kernel's ring buffer full since start "
		       "(raise ring_buffer_mb)",
		       (long long)num(stats, "ringbuf_drops"));
	if (num(stats, "queue_drops"))
		reason(reasons,
		       "%lld records lost with the agent's queue full since start (raise "
		       "queue_mb)",
		       (long long)num(stats, "queue_drops"));
	outputs = json_object_get(stats, "outputs");
	json_array_foreach(outputs, i, o)
	{
		const char *name = output_name(o);
		json_int_t dropped = 0, spool = num(o, "spool_bytes");
		json_t *state = json_object_get(o, "state");
		json_t *last = json_object_get(o, "last_error");

		json_object_foreach(json_object_get(o, "dropped"), k, d) dropped +=
		    json_is_integer(d) ? json_integer_value(d) : 0;
		if (dropped)
			reason(reasons, "output %s dropped %lld events since start", name,
			       (long long)dropped);
		if (json_is_string(state) && strcmp(json_string_value(state), "up"))
			reason(reasons, "output %s is not delivering%s%s", name,
			       json_is_string(last) ? ": " : "",
			       json_is_string(last) ? json_string_value(last) : "");
		if (max && spool * 100 / max >= SPOOL_FULL_PCT)
			reason(reasons,
			       "the spool of output %s is %lld%% full (%lld of %lld bytes)", name,
			       (long long)(spool * 100 / max), (long long)spool, (long long)max);
	}
	return reasons;
}

static void human_bytes(json_int_t b, char out[32])
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, 32, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
}

static const char *str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : "-";
}

#define ROW "%-13s "

static void print_text(json_t *st, json_t *reasons)
{
	json_t *agent = json_object_get(st, "agent"), *stats = json_object_get(st, "stats");
	json_t *ring = json_object_get(stats, "ringbuf"), *v, *o;
	json_t *rules = json_object_get(stats, "rules"), *clients = json_object_get(st, "clients");
	json_int_t up = (json_int_t)json_number_value(json_object_get(agent, "uptime_seconds"));
	char a[32], b[32];
	size_t i, width = 6;

	printf(ROW "running, pid %lld, up %lldd %02lld:%02lld:%02lld (since %s)\n", "agent",
	       (long long)num(agent, "pid"), (long long)up / 86400, (long long)up / 3600 % 24,
	       (long long)up / 60 % 60, (long long)up % 60, str(agent, "started"));
	printf(ROW "%s\n", "version", str(agent, "version"));
	printf(ROW "%s%s%s\n", "config", str(agent, "config"),
	       json_object_get(agent, "config_digest") ? ", sha256 " : "",
	       json_object_get(agent, "config_digest") ? str(agent, "config_digest") : "");
	if (!json_array_size(reasons)) {
		printf(ROW "ok\n", "health");
	} else {
		printf(ROW "degraded\n", "health");
		json_array_foreach(reasons, i, v) printf(ROW "  %s\n", "", json_string_value(v));
	}
	printf(ROW "%zu attached, %zu unavailable (%s object)\n", "hooks",
	       json_array_size(json_object_get(agent, "hooks")),
	       json_array_size(json_object_get(agent, "hooks_unavailable")),
	       str(agent, "bpf_object"));
	json_array_foreach(json_object_get(agent, "hooks_unavailable"), i, v)
	    printf(ROW "  %s: %s\n", "", str(v, "hook"), str(v, "reason"));
	printf(ROW "%lld events, %lld watched inodes, %lld files open\n", "events",
	       (long long)num(stats, "events"), (long long)num(stats, "watched_inodes"),
	       (long long)num(stats, "open_files"));
	human_bytes(num(ring, "used_bytes"), a);
	human_bytes(num(ring, "size_bytes"), b);
	printf(ROW "%lld records dropped; %s of %s in use\n", "ring buffer",
	       (long long)num(stats, "ringbuf_drops"), a, b);
	human_bytes(num(stats, "queue_peak_bytes"), a);
	printf(ROW "%lld records dropped; peak %s\n", "queue", (long long)num(stats, "queue_drops"),
	       a);
	json_array_foreach(json_object_get(stats, "outputs"), i,
			   o) if (strlen(output_name(o)) > width) width = strlen(output_name(o));
	if (json_array_size(json_object_get(stats, "outputs")))
		printf(ROW "%-*s %5s %12s %12s %10s %10s %10s\n", "outputs", (int)width, "NAME",
		       "STATE", "IN", "OUT", "DROPPED", "QUEUED", "SPOOL");
	json_array_foreach(json_object_get(stats, "outputs"), i, o)
	{
		const char *name = output_name(o);
		json_int_t dropped = 0;
		const char *k;
		char q[32], s[32];

		json_object_foreach(json_object_get(o, "dropped"), k, v) dropped +=
		    json_is_integer(v) ? json_integer_value(v) : 0;
		human_bytes(num(o, "queued_bytes"), q);
		human_bytes(num(o, "spool_bytes"), s);
		printf(ROW "%-*s %5s %12lld %12lld %10lld %10s %10s\n", "", (int)width, name,
		       str(o, "state"), (long long)num(o, "in"), (long long)num(o, "out"),
		       (long long)dropped, q, s);
	}
	if (rules)
		printf(ROW "%lld detection rules, %lld events seen, %lld alerts, %lld suppressed\n",
		       "rules", (long long)num(rules, "rules"), (long long)num(rules, "events"),
		       (long long)num(rules, "alerts"), (long long)num(rules, "suppressed"));
	if (clients)
		printf(ROW
		       "%lld connected, %lld subscribed, %lld events dropped for slow clients\n",
		       "clients", (long long)num(clients, "connected"),
		       (long long)num(clients, "subscribers"),
		       (long long)num(clients, "events_dropped"));
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"socket", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct control_request req = {.op = CONTROL_OP_STATUS};
	const char *socket_path = NULL, *config_path = NULL;
	struct client_reader r = {0};
	char err[512], buf[256];
	json_t *st = NULL, *reasons;
	json_error_t jerr;
	bool json = false;
	int opt, fd, ret;
	long n;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "js:c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'h':
			status_usage(stdout);
			return 0;
		default:
			status_usage(stderr);
			return STATUS_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "custos status: unexpected argument \"%s\"\n", argv[optind]);
		return STATUS_EXIT_USAGE;
	}
	if (socket_path && config_path) {
		fprintf(stderr, "custos status: use --socket or --config, not both\n");
		return STATUS_EXIT_USAGE;
	}
	if (!socket_path)
		socket_path = client_socket_of(config_path, buf, sizeof(buf));
	if (!socket_path)
		return STATUS_EXIT_USAGE;
	fd = client_connect(socket_path, &req, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "custos status: %s\n", err);
		return fd == -ENOENT || fd == -ECONNREFUSED ? STATUS_EXIT_NO_AGENT
							    : STATUS_EXIT_UNKNOWN;
	}
	n = client_read_line(fd, &r, STATUS_TIMEOUT_MS, STATUS_REPLY_MAX);
	close(fd);
	if (n >= 0)
		st = json_loadb(r.buf, n, 0, &jerr);
	ret = STATUS_EXIT_UNKNOWN;
	if (n < 0) {
		fprintf(stderr, "custos status: no answer from the agent at %s: %s\n", socket_path,
			n == -ENODATA ? "it closed the connection" : strerror(-n));
	} else if (!json_is_object(st) || !json_is_string(json_object_get(st, "control"))) {
		fprintf(stderr,
			"custos status: the agent at %s answered something else than "
			"JSON\n",
			socket_path);
	} else if (!strcmp(json_string_value(json_object_get(st, "control")), "error")) {
		fprintf(stderr, "custos status: the agent at %s refused: %s\n", socket_path,
			str(st, "error"));
	} else {
		reasons = judge(st);
		ret = json_array_size(reasons) ? STATUS_EXIT_DEGRADED : STATUS_EXIT_OK;
		if (json) {
			json_object_del(st, "control");
			json_object_set_new(st, "health",
					    json_pack("{s:s, s:O}", "status",
						      ret ? "degraded" : "ok", "reasons", reasons));
			json_dumpf(st, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			putchar('\n');
		} else {
			print_text(st, reasons);
		}
		json_decref(reasons);
	}
	json_decref(st);
	client_reader_free(&r);
	return fflush(stdout) && ret == STATUS_EXIT_OK ? STATUS_EXIT_UNKNOWN : ret;
}
