// SPDX-License-Identifier: GPL-2.0
/*
 * custos trace, attached: the events of the running agent through its
 * control socket, filtered and formatted by the agent as trace would, rather
 * than a second copy of every hook.
 */
#include <errno.h>
#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd/client.h"

#define ATTACH_TIMEOUT_MS 5000
#define ATTACH_LINE_MAX	  (16 << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* A line of the agent's own: dropped events, an error. false: the end of the stream. */
static bool control_line(const char *line, size_t len, bool human)
{
	json_t *msg = json_loadb(line, len, 0, NULL);
	const char *kind = json_string_value(json_object_get(msg, "control"));
	json_int_t count = json_integer_value(json_object_get(msg, "count"));
	bool go_on = true;

	if (kind && !strcmp(kind, "dropped")) {
		if (human)
			printf("# %lld events dropped: this trace did not keep up with the agent\n",
			       (long long)count);
		fflush(stdout);
		fprintf(stderr,
			"custos trace: the agent dropped %lld events for this trace: it did not "
			"read them fast enough\n",
			(long long)count);
	} else if (kind && !strcmp(kind, "error")) {
		fprintf(stderr, "custos trace: the agent refused: %s\n",
			json_string_value(json_object_get(msg, "error")) ?: "?");
		go_on = false;
	}
	json_decref(msg);
	return go_on;
}

int trace_attach(const char *socket_path, const struct trace_options *t)
{
	static struct control_request req; /* large: the filter's lists */
	const char *codeset = nl_langinfo(CODESET);
	struct sigaction sa = {.sa_handler = on_signal};
	struct client_reader r = {0};
	bool human = !t->json, stopped = false;
	char err[512];
	json_t *hello;
	int fd, ret = 1;
	long n;

	memset(&req, 0, sizeof(req));
	req.op = CONTROL_OP_SUBSCRIBE;
	req.format = human ? OUTPUT_HUMAN : OUTPUT_JSON;
	req.utf8 = codeset && !strcmp(codeset, "UTF-8");
	req.color = t->color == OUTPUT_COLOR_ALWAYS ||
		    (t->color == OUTPUT_COLOR_AUTO && isatty(STDOUT_FILENO));
	req.filter = t->filter; /* its strings stay trace's: the request is not freed */
	fd = client_connect(socket_path, &req, err, sizeof(err));
	if (fd == -ENOENT || fd == -ECONNREFUSED)
		return TRACE_NO_AGENT;
	if (fd < 0) {
		fprintf(stderr,
			"custos trace: cannot attach to the agent: %s (--standalone loads "
			"trace's own hooks)\n",
			err);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	n = client_read_line(fd, &r, ATTACH_TIMEOUT_MS, ATTACH_LINE_MAX);
	hello = n > 0 ? json_loadb(r.buf, n, 0, NULL) : NULL;
	if (!hello ||
	    strcmp(json_string_value(json_object_get(hello, "control")) ?: "", "subscribed")) {
		if (hello)
			control_line(r.buf, n, human);
		else
			fprintf(stderr, "custos trace: the agent at %s did not answer (%s)\n",
				socket_path, n < 0 ? strerror(-n) : "not JSON");
		goto out;
	}
	if (human)
		printf("# attached to the agent (pid %lld, %s)\n",
		       (long long)json_integer_value(json_object_get(hello, "pid")), socket_path);
	else
		fprintf(stderr, "custos trace: attached to the agent (pid %lld, %s)\n",
			(long long)json_integer_value(json_object_get(hello, "pid")), socket_path);
	fflush(stdout);
	while (!stop) {
		n = client_read_line(fd, &r, -1, ATTACH_LINE_MAX);
		if (n == -EINTR)
			continue;
		if (n < 0)
			break;
		if (!strncmp(r.buf, "{\"control\":", 11)) {
			if (!control_line(r.buf, n, human))
				goto out;
			continue;
		}
		stopped = strstr(r.buf, human ? "# agent-stop" : "\"agent-stop\"") != NULL;
		r.buf[n] = '\n';
		fwrite(r.buf, 1, n + 1, stdout);
		/* Out at once unless more lines are already here. */
		if (!memchr(r.buf + r.line_end, '\n', r.len - r.line_end) && fflush(stdout))
			break;
	}
	ret = 0;
	if (ferror(stdout) && errno != EPIPE)
		ret = 1;
	if (!stop && n == -ENODATA && !stopped) {
		fprintf(stderr,
			"custos trace: the agent closed the connection (it was killed, or "
			"this trace read nothing for %d s)\n",
			CONTROL_STALL_S);
		ret = 1;
	} else if (!stop && n < 0 && n != -ENODATA) {
		fprintf(stderr, "custos trace: reading from the agent: %s\n", strerror(-n));
		ret = 1;
	}
out:
	json_decref(hello);
	close(fd);
	client_reader_free(&r);
	return ret;
}
