// SPDX-License-Identifier: GPL-2.0
/*
 * custos-sinkbench: how many events a second the outputs sustain on one
 * core, with and without the hash chain. Each event is a typed file-open
 * event, as the agent makes it, encoded to JSON, sealed (with a chain), and
 * handed to the outputs exactly as the agent does (output_event); the clock stops
 * when the output has delivered the last one. Everything of the agent's side
 * runs pinned to CPU 0; the TCP receiver, a child process, on CPU 1.
 *
 *   custos-sinkbench [-n EVENTS] [-d DIR] [-o file|syslog]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "encode/encode.h"
#include "events/events.h"
#include "lib/proc.h"
#include "lib/users.h"
#include "output/chain.h"
#include "lib/log.h"
#include "output/output.h"
#include "output/sink.h"
#include "rules/rules.h"

/* A typical open of a customer-data file, as the agent's typed event. */
struct sample {
	struct event ev;
	struct event_file file;
	struct event_who who;
	struct event_rule rule;
	struct users users;
};

static void sample_init(struct sample *s, bool chained)
{
	static char args[] = "/usr/bin/python3\0/home/alice/bin/export_customers.py\0--region\0"
			     "eu-west\0--out\0/tmp/x.csv";
	static char *tags[] = {"customer-data", "pii"};
	static const char path[] = "/srv/customer-data/exports/2026-11/customers-eu-west.csv";
	struct custos_task task = {.tgid = 4242,
				   .tid = 4242,
				   .ppid = 4200,
				   .uid = 1000,
				   .euid = 1000,
				   .auid = 1000,
				   .gid = 1000,
				   .egid = 1000,
				   .sessionid = 3,
				   .tty_dev = 136 << 20 | 3,
				   .cgroup_id = 4321,
				   .start_ns = 1000};
	struct proc_info proc = {.tgid = 4242,
				 .exe = "/usr/bin/python3.11",
				 .exe_len = 19,
				 .args = args,
				 .args_len = sizeof(args) - 1};
	struct encode_clock clock = {.boot_to_real_ns = 1764331200000000000LL};

	memset(s, 0, sizeof(*s));
	memcpy(task.comm, "python3", 8);
	if (encode_who(&s->who, &clock, &task, &proc, NULL, NULL, &s->users)) {
		fprintf(stderr, "custos-sinkbench: out of memory\n");
		exit(1);
	}
	s->file = (struct event_file){.path = path,
				      .path_len = sizeof(path) - 1,
				      .has_identity = true,
				      .ino = 1234567,
				      .dev = 253 << 20 | 1,
				      .mode = 0100640,
				      .has_owner = true,
				      .owner_uid = 0,
				      .owner_gid = 0,
				      .has_size = true,
				      .size = 52000};
	s->rule = (struct event_rule){.name = "customer-data", .tags = tags, .n_tags = 2};
	s->ev = (struct event){
	    .kind = EVENT_FILE_OPEN,
	    .time_ns = 1764331200123456789LL,
	    .category = "file",
	    .type = "access",
	    .action = "open",
	    .outcome = "success",
	    .host = "support-ws-17.example.internal",
	    .chain = chained ? CHAIN_PLACEHOLDER : NULL,
	    .who = &s->who,
	    .rule = &s->rule,
	    .file = &s->file,
	    .open_id = 281474976710657ULL,
	    .open = {.has_flags = true, .flags = O_RDONLY | O_CLOEXEC, .has_fd = true, .fd = 3}};
}

static void sample_free(struct sample *s)
{
	encode_who_free(&s->who);
	users_clear(&s->users);
}

static size_t sample_bytes(void)
{
	struct sample s;
	struct jsonw w = {0};
	size_t n;

	sample_init(&s, false);
	jsonw_reset(&w);
	encode_event(&w, &s.ev);
	n = w.len + 1;
	jsonw_free(&w);
	sample_free(&s);
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("sched_setaffinity");
}

/* A receiver that reads and throws away, until its connection closes. */
static pid_t start_receiver(int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	pid_t pid;

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 8) ||
	    getsockname(ls, (struct sockaddr *)&sa, &len)) {
		perror("receiver");
		exit(1);
	}
	*port = ntohs(sa.sin_port);
	pid = fork();
	if (pid == 0) {
		static char buf[1 << 16];

		pin(1);
		for (;;) {
			int c = accept(ls, NULL, NULL);

			if (c < 0)
				_exit(0);
			while (read(c, buf, sizeof(buf)) > 0)
				;
			close(c);
		}
	}
	close(ls);
	return pid;
}

static uint64_t delivered(struct sinks *s, const char *name)
{
	json_t *st = sinks_stats(s), *o;
	uint64_t out = 0;
	size_t i;

	json_array_foreach(st, i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n && !strcmp(n, name))
			out = json_integer_value(json_object_get(o, "out"));
	}
	json_decref(st);
	return out;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Events a second the encoder alone turns into JSON lines, on one core. */
static void measure_encoding(long n)
{
	struct sample sample;
	struct jsonw w = {0};
	uint64_t t0, t1;
	size_t bytes = 0;
	long i;

	sample_init(&sample, false);
	t0 = now_ns();
	for (i = 1; i <= n; i++) {
		jsonw_reset(&w);
		sample.ev.seq = i;
		encode_event(&w, &sample.ev);
		jsonw_char(&w, '\n');
		bytes += w.len;
	}
	t1 = now_ns();
	printf("%-34s %10.0f events/s   %6.0f MB/s\n", "encoding only (typed event -> line)",
	       n / ((t1 - t0) / 1e9), bytes / ((t1 - t0) / 1e3));
	jsonw_free(&w);
	sample_free(&sample);
}

static void to_output(const struct event *ev, void *ctx)
{
	output_event(ctx, ev);
}

/*
 * The agent's CPU per statement from record to line: a SQLite statement
 * (about 940 bytes, literals in it) decoded, described, redacted, encoded
 * and written (to /dev/null), as events_record() does it for the kernel's.
 */
static void measure_statements(long n, const char *part, size_t max)
{
	static char buf[sizeof(struct custos_db_call) + 1024];
	struct custos_db_call *rec = (struct custos_db_call *)buf;
	FILE *null = fopen("/dev/null", "w");
	struct output *out = null ? output_new(null, OUTPUT_JSON, NULL) : NULL;
	struct events *e = out ? events_new("bench", to_output, out) : NULL;
	struct config cfg = {0};
	struct watch_set set = {0};
	size_t len = 0;
	double c0, c1;
	long i;

	if (!e) {
		fprintf(stderr, "custos-sinkbench: setup failed\n");
		exit(1);
	}
	while (len + strlen(part) < max) {
		memcpy(rec->data + len, part, strlen(part));
		len += strlen(part);
	}
	rec->data[len] = '\0';
	rec->hdr.type = CUSTOS_REC_DB_CALL;
	rec->hdr.size = sizeof(*rec) + len + 1;
	rec->task = (struct custos_task){.tgid = 4242, .tid = 4242, .ppid = 1, .start_ns = 1000};
	memcpy(rec->task.comm, "python3", 8);
	rec->func = CUSTOS_DB_SQ_PREPARE_V2;
	rec->handle = 1;
	rec->handle2 = 2;
	rec->str_len[0] = len + 1;
	events_set_config(e, &cfg, &set);
	c0 = cpu_seconds();
	for (i = 0; i < n; i++) {
		rec->hdr.ktime_ns = rec->start_ns = 2000 + i;
		events_record(e, rec, rec->hdr.size);
	}
	output_flush(out);
	c1 = cpu_seconds();
	printf("%-34s %10.2f us of CPU per statement (%zu bytes of SQL)\n",
	       "statement, record -> line", (c1 - c0) * 1e6 / n, len);
	events_free(e);
	output_free(out);
	fclose(null);
}

static void count_alert(struct event *alert, void *ctx)
{
	(void)alert;
	++*(long *)ctx;
}

/*
 * Events a second through one output, and CPU seconds per 100k events; with
 * rules, each event also goes through the detection rules of the built-in
 * config, as in the agent.
 */
static void measure(const char *label, struct config_output *o, const char *spool, long n,
		    bool hmac, bool with_rules)
{
	struct config *defaults = with_rules ? config_load_default() : NULL;
	long alerts = 0;
	struct rules *rules = defaults ? rules_new(defaults, NULL, count_alert, &alerts) : NULL;
	struct config cfg = {.outputs = o, .n_outputs = 1, .spool = {.dir = (char *)spool}};
	static const unsigned char key[32] = "custos-sinkbench-key-0123456789";
	struct sample sample;
	struct chain *chain = hmac ? chain_new(key, sizeof(key)) : NULL;
	struct output *out = output_new(stdout, OUTPUT_JSON, NULL);
	char err[512];
	struct sinks *s;
	uint64_t t0, t1;
	double c0, c1;
	long i;

	cfg.spool.max_bytes = 8ULL << 30;
	if (o->path) {
		/* Each measure starts from an empty file: no rotation of the last one's lines. */
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s'.*", o->path, o->path);
		if (system(cmd))
			exit(1);
	}
	s = sinks_new(&cfg, "bench", err, sizeof(err));
	sample_init(&sample, hmac);
	if (!out || !s || (hmac && !chain) || (with_rules && !rules)) {
		fprintf(stderr, "custos-sinkbench: %s\n", s ? "setup failed" : err);
		exit(1);
	}
	output_set_sinks(out, s);
	output_set_chain(out, chain);
	c0 = cpu_seconds();
	t0 = now_ns();
	for (i = 1; i <= n; i++) {
		sample.ev.seq = i;
		output_event(out, &sample.ev);
		rules_event(rules, &sample.ev);
		/* The queue is the agent's buffer, not the output: do not outrun the measure. */
		if (i % 10000 == 0)
			while (i - (long)delivered(s, o->name) > 100000)
				usleep(1000);
	}
	output_flush(out);
	while ((long)delivered(s, o->name) < n)
		usleep(1000);
	t1 = now_ns();
	c1 = cpu_seconds();
	printf("%-34s %10.0f events/s   %6.2f CPU s per 100k events\n", label,
	       n / ((t1 - t0) / 1e9), (c1 - c0) * 100000.0 / n);
	if (rules)
		printf("%-34s %10zu rules, %ld alerts\n", "", rules_count(rules), alerts);
	sinks_stop(s, 5000);
	output_free(out);
	chain_free(chain);
	sample_free(&sample);
	rules_free(rules);
	config_free(defaults);
}

int main(int argc, char **argv)
{
	char dir[256] = "/tmp/custos-sinkbench", path[512], spool[512], url[64], cmd[600];
	const char *only = NULL;
	long n = 300000;
	int opt, port;
	pid_t receiver;

	while ((opt = getopt(argc, argv, "n:d:o:")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 'o')
			only = optarg;
		else if (opt == 'd')
			snprintf(dir, sizeof(dir), "%s", optarg);
		else
			return fprintf(stderr, "usage: custos-sinkbench [-n EVENTS] [-d DIR] [-o "
					       "file|syslog]\n"),
			       2;
	}
	log_set_level(LOG_LEVEL_WARN);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd))
		return 1;
	snprintf(path, sizeof(path), "%s/events.ndjson", dir);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	receiver = start_receiver(&port);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
	pin(0);
	printf("outputs on one core (CPU 0), %ld events of %zu bytes each; TCP receiver on CPU 1\n",
	       n, sample_bytes());
	measure_encoding(n);
	measure_statements(n / 3, "SELECT id, email FROM customers WHERE id = 42", 64);
	measure_statements(
	    n / 3,
	    "SELECT c.id, c.email, o.total FROM public.customers c JOIN orders o ON "
	    "o.cid = c.id WHERE c.email = 'someone@example.com' AND o.created > "
	    "'2024-01-01 00:00:00' AND o.status IN (1, 2, 3, 4) AND c.name LIKE 'Jo%' "
	    "/* report */ LIMIT 100;\n",
	    1024);
	for (int hmac = 0; hmac < 2; hmac++) {
		struct config_output file = {.type = CONFIG_OUTPUT_FILE,
					     .name = "file",
					     .path = path,
					     .queue_bytes = 1ULL << 30,
					     .rotate_bytes = CONFIG_FILE_ROTATE_DEFAULT,
					     .keep = 2,
					     .mode = 0600};
		struct config_output tcp = {.type = CONFIG_OUTPUT_SYSLOG,
					    .name = "syslog",
					    .url = url,
					    .facility = 10,
					    .queue_bytes = 1ULL << 30};

		if (!only || !strcmp(only, "file"))
			measure(hmac ? "file, HMAC chain" : "file", &file, spool, n, hmac, false);
		if ((!only || !strcmp(only, "file")) && !hmac)
			measure("file, built-in rules", &file, spool, n, false, true);
		if (!only || !strcmp(only, "syslog"))
			measure(hmac ? "syslog over TCP (spooled), HMAC chain"
				     : "syslog over TCP (spooled)",
				&tcp, spool, n, hmac, false);
	}
	kill(receiver, SIGTERM);
	waitpid(receiver, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? 1 : 0;
}
