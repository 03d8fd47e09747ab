// SPDX-License-Identifier: GPL-2.0
/*
 * custos-sinkbench: how many events a second the outputs sustain on one
 * core, with and without the hash chain. Each event is a real file-open
 * event (about 1.3 KB of JSON) serialized, sealed (with a chain), and handed
 * to the outputs exactly as the agent does (output_event); the clock stops
 * when the output has delivered the last one. Everything of the agent's side
 * runs pinned to CPU 0; the TCP receiver, a child process, on CPU 1.
 *
 *   custos-sinkbench [-n EVENTS] [-d DIR]
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

#include "output/chain.h"
#include "config/config.h"
#include "lib/log.h"
#include "output/output.h"
#include "output/sink.h"

static const char event_template[] =
    "{\"@timestamp\":\"2026-11-28T12:00:00.123456789Z\",\"event\":{\"kind\":\"event\","
    "\"category\":[\"file\"],\"type\":[\"access\"],\"action\":\"open\",\"outcome\":\"success\"},"
    "\"file\":{\"path\":\"/srv/customer-data/exports/2026-11/customers-eu-west.csv\","
    "\"inode\":1234567,\"device\":\"253:1\",\"type\":\"file\"},\"process\":{\"pid\":4242,"
    "\"parent\":{\"pid\":4200},\"name\":\"python3\",\"executable\":\"/usr/bin/python3.11\","
    "\"args\":[\"/usr/bin/python3\",\"/home/alice/bin/export_customers.py\",\"--region\","
    "\"eu-west\",\"--out\",\"/tmp/x.csv\"],\"args_count\":6,\"start\":\"2026-11-28T11:59:58."
    "000000000Z\",\"tty\":{\"name\":\"pts/3\"},\"session_leader\":{\"pid\":4100},\"thread\":{"
    "\"id\":4242}},\"user\":{\"id\":\"1000\",\"name\":\"alice\",\"effective\":{\"id\":\"1000\","
    "\"name\":\"alice\"},\"audit\":{\"id\":\"1000\",\"name\":\"alice\"}},\"group\":{\"id\":"
    "\"1000\",\"name\":\"alice\",\"effective\":{\"id\":\"1000\"}},\"host\":{\"name\":"
    "\"support-ws-17.example.internal\"},\"custos\":{\"rule\":\"customer-data\",\"tags\":["
    "\"customer-data\",\"pii\"],\"open_id\":\"4242-17-1732795200123456789\",\"open\":{\"flags\":["
    "\"O_RDONLY\",\"O_CLOEXEC\"],\"mode\":\"read\"},\"process\":{\"cgroup_id\":4321},"
    "\"schema_version\":1,\"seq\":0}}";

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
	json_t *st = sinks_stats(s);
	uint64_t out = json_integer_value(json_object_get(json_object_get(st, name), "out"));

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

/* Events a second through one output, and CPU seconds per 100k events. */
static void measure(const char *label, struct config_output *o, const char *spool, long n,
		    bool hmac)
{
	struct config cfg = {.outputs = o, .n_outputs = 1, .spool = {.dir = (char *)spool}};
	static const unsigned char key[32] = "custos-sinkbench-key-0123456789";
	json_error_t jerr;
	json_t *ev = json_loads(event_template, 0, &jerr), *custos, *seq;
	struct chain *chain = hmac ? chain_new(key, sizeof(key)) : NULL;
	struct output *out = output_new(stdout, OUTPUT_JSON, NULL);
	char err[512];
	struct sinks *s;
	uint64_t t0, t1;
	double c0, c1;
	long i;

	cfg.spool.max_bytes = 8ULL << 30;
	s = sinks_new(&cfg, "bench", err, sizeof(err));
	if (!ev || !out || !s || (hmac && !chain)) {
		fprintf(stderr, "custos-sinkbench: %s\n", s ? "setup failed" : err);
		exit(1);
	}
	custos = json_object_get(ev, "custos");
	if (hmac)
		json_object_set_new(custos, "chain", json_string(CHAIN_PLACEHOLDER));
	output_set_sinks(out, s);
	output_set_chain(out, chain);
	c0 = cpu_seconds();
	t0 = now_ns();
	for (i = 1; i <= n; i++) {
		seq = json_integer(i);
		json_object_set_new(custos, "seq", seq);
		output_event(out, ev);
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
	sinks_stop(s, 5000);
	output_free(out);
	chain_free(chain);
	json_decref(ev);
}

int main(int argc, char **argv)
{
	char dir[256] = "/tmp/custos-sinkbench", path[512], spool[512], url[64], cmd[600];
	long n = 300000;
	int opt, port;
	pid_t receiver;

	while ((opt = getopt(argc, argv, "n:d:")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 'd')
			snprintf(dir, sizeof(dir), "%s", optarg);
		else
			return fprintf(stderr, "usage: custos-sinkbench [-n EVENTS] [-d DIR]\n"), 2;
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
	       n, strlen(event_template) + 1);
	for (int hmac = 0; hmac < 2; hmac++) {
		struct config_output file = {.type = CONFIG_OUTPUT_FILE,
					     .name = "file",
					     .path = path,
					     .queue_bytes = 1ULL << 30,
					     .rotate_bytes = 100ULL << 20,
					     .keep = 2,
					     .mode = 0600};
		struct config_output tcp = {.type = CONFIG_OUTPUT_SYSLOG,
					    .name = "syslog",
					    .url = url,
					    .facility = 10,
					    .queue_bytes = 1ULL << 30};

		measure(hmac ? "file, HMAC chain" : "file", &file, spool, n, hmac);
		measure(hmac ? "syslog over TCP (spooled), HMAC chain"
			     : "syslog over TCP (spooled)",
			&tcp, spool, n, hmac);
	}
	kill(receiver, SIGTERM);
	waitpid(receiver, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? 1 : 0;
}
