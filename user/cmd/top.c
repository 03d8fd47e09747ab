// SPDX-License-Identifier: GPL-2.0
/*
 * custos top: a full-screen view, redrawn every second, of who reads
 * customer data right now (top.h). The events come from `custos trace
 * --json`, run as a child: the running agent's stream when one runs, else
 * trace's own hooks; or from a stored stream (--file).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "output/stream_read.h"
#include "top/top.h"

#define TOP_LINE_MAX (1 << 20) /* longer lines are not events */

enum top_status {
	TOP_OK = 0,
	TOP_INCOMPLETE = 1, /* the source failed, or lines were skipped */
	TOP_USAGE = 2,
};

static volatile sig_atomic_t stop_requested, resized;

static void top_usage(FILE *f)
{
	fprintf(f,
		"USAGE\n"
		"  custos top [--path PATH]... [--config FILE] [--user USER] [--comm NAME]\n"
		"             [--socket PATH] [--interval S] [--batch]\n"
		"  custos top --file FILE [--batch]\n"
		"\n"
		"Who is reading customer data right now, full screen, redrawn every second:\n"
		"per human (the login user, which sudo does not change; else the user) and\n"
		"program, the files opened, rows returned, bytes read (from watched files and\n"
		"received from watched endpoints) and statements, in the last minute and\n"
		"since top started; the busiest watch rules, endpoints and tables; the latest\n"
		"alerts; the events the agent lost. Works in a plain 80x24 terminal. Keys: q\n"
		"quits. The events come from `custos trace --json`: the running agent's when\n"
		"one runs, else trace's own hooks (root needed either way).\n"
		"Exit status 0; 1 if the events could not be read (or lines were skipped);\n"
		"2 on a usage error.\n"
		"\n"
		"OPTIONS\n"
		"  -p, --path PATH    watch PATH (repeat for more)\n"
		"  -c, --config FILE  watch what FILE configures\n"
		"  -u, --user USER    only accesses by USER\n"
		"  -C, --comm NAME    only accesses by processes named NAME\n"
		"  --socket PATH      the running agent's control socket\n"
		"                     (these five go to custos trace as they are)\n"
		"  -f, --file FILE    a stored stream instead (plain or gzip, \"-\": stdin); the\n"
		"                     last minute is the one before its last event\n"
		"  -d, --interval S   seconds between screens (1 to 60, default 1)\n"
		"  -b, --batch        no full screen: print one screen (80x24) on stdout and\n"
		"                     exit, after S seconds, or at the end of the FILE\n"
		"  -h, --help         this help\n"
		"\n"
		"EXAMPLES\n"
		"  sudo custos top\n"
		"  custos top --file /var/log/custos/events.ndjson --batch\n");
}

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool utf8_locale(void)
{
	const char *codeset = nl_langinfo(CODESET);

	return codeset && !strcmp(codeset, "UTF-8");
}

/* ---------------------------------------------------------------- the terminal */

struct terminal {
	bool full; /* the alternate screen, keys read one by one */
	struct termios saved;
	unsigned width, height;
};

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else
		stop_requested = 1;
}

static void terminal_size(struct terminal *t)
{
	struct winsize ws;

	t->width = 80;
	t->height = 24;
	if (t->full && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		t->width = ws.ws_col;
		t->height = ws.ws_row;
	}
}

static int terminal_open(struct terminal *t, bool batch)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct termios raw;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	t->full = !batch;
	if (t->full) {
		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) ||
		    tcgetattr(STDIN_FILENO, &t->saved)) {
			fprintf(stderr,
				"custos top: stdin and stdout are not a terminal: use --batch\n");
			return -1;
		}
		raw = t->saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		fputs("\033[?1049h\033[?25l", stdout); /* the alternate screen, no cursor */
	}
	terminal_size(t);
	return 0;
}

static void terminal_close(struct terminal *t)
{
	if (!t->full)
		return;
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
}

static void draw(struct terminal *term, const struct top *t, const char *source)
{
	char host[256] = "";
	struct top_screen_opts o = {.width = term->width,
				    .height = term->height,
				    .utf8 = utf8_locale(),
				    .source = source,
				    .host = host};
	char *screen, *line, *nl;

	gethostname(host, sizeof(host) - 1);
	screen = top_screen(t, &o);
	if (!screen)
		return;
	if (!term->full) {
		fputs(screen, stdout);
	} else {
		fputs("\033[H", stdout);
		for (line = screen; (nl = strchr(line, '\n')); line = nl + 1) {
			fwrite(line, 1, (size_t)(nl - line), stdout);
			/* no newline after the last line: the screen would scroll */
			fputs(nl[1] ? "\033[K\r\n" : "\033[K", stdout);
		}
		fputs("\033[J", stdout);
	}
	fflush(stdout);
	free(screen);
}

/* ---------------------------------------------------------------- a stored stream */

static int add_stored_line(void *ctx, char *line, size_t len, enum stream_line_end end,
			   const struct stream_where *where)
{
	struct top *t = ctx;

	if (end == STREAM_LINE_LONG || end == STREAM_LINE_CUT)
		top_skip_line(t);
	else
		top_add_line(t, line, len);
	return 0;
}

static int show_file(struct top *t, const char *path, bool batch)
{
	struct stream_reader r;
	struct terminal term = {};
	struct top_stats s;
	struct pollfd key = {.fd = STDIN_FILENO, .events = POLLIN};
	char c;
	int ret;

	stream_reader_init(&r, TOP_LINE_MAX, false);
	ret = stream_read_file(&r, path, add_stored_line, t);
	if (ret == 0)
		ret = stream_read_end(&r, add_stored_line, t);
	if (ret < 0)
		fprintf(stderr, "custos top: %s\n", r.error[0] ? r.error : strerror(-ret));
	stream_reader_release(&r);
	if (ret < 0 && !r.bytes)
		return TOP_INCOMPLETE;
	if (terminal_open(&term, batch || !strcmp(path, "-")))
		return TOP_USAGE;
	draw(&term, t, path);
	while (term.full && !stop_requested) {
		if (resized) {
			resized = 0;
			terminal_size(&term);
			draw(&term, t, path);
		}
		if (poll(&key, 1, 200) == 1 && read(STDIN_FILENO, &c, 1) == 1 &&
		    (c == 'q' || c == 'Q'))
			break;
	}
	terminal_close(&term);
	top_stats(t, &s);
	if (s.skipped)
		fprintf(stderr, "custos top: %llu lines were not events custos wrote: skipped\n",
			(unsigned long long)s.skipped);
	return ret < 0 || s.skipped ? TOP_INCOMPLETE : TOP_OK;
}

/* ---------------------------------------------------------------- live */

struct source {
	pid_t pid;
	int out, err; /* trace's stdout and stderr */
	char *buf;    /* a line being read */
	size_t len;
	bool overlong; /* the rest of a line too long is skipped */
	bool started;  /* trace wrote its first line */
	char errbuf[2048];
	size_t errlen;
};

/* custos trace's command line: at most TRACE_ARGS_MAX of top's options go to it. */
#define TRACE_ARGS_MAX 64

struct trace_args {
	char *argv[TRACE_ARGS_MAX + 4];
	int argc;
};

static int trace_arg(struct trace_args *a, const char *opt, char *value)
{
	if (a->argc + 2 > TRACE_ARGS_MAX) {
		fprintf(stderr, "custos top: more than %d options for custos trace\n",
			TRACE_ARGS_MAX / 2);
		return -1;
	}
	a->argv[a->argc++] = (char *)opt;
	a->argv[a->argc++] = value;
	return 0;
}

/* The custos trace option of one of top's. */
static const char *trace_option(int c)
{
	switch (c) {
	case 'p':
		return "--path";
	case 'c':
		return "--config";
	case 'u':
		return "--user";
	case 'C':
		return "--comm";
	}
	return "--socket";
}

static int source_start(struct source *s, struct trace_args *a)
{
	int out[2], err[2];

	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (s->pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, STDIN_FILENO);
		execv("/proc/self/exe", a->argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	s->out = out[0];
	s->err = err[0];
	fcntl(s->out, F_SETFL, O_NONBLOCK);
	fcntl(s->err, F_SETFL, O_NONBLOCK);
	s->buf = malloc(TOP_LINE_MAX);
	return s->buf ? 0 : -ENOMEM;
}

/* Reads what trace wrote; false at its end. */
static bool source_read(struct source *s, struct top *t)
{
	ssize_t n;
	char *nl, *p;

	while ((n = read(s->out, s->buf + s->len, TOP_LINE_MAX - s->len)) > 0) {
		s->len += (size_t)n;
		p = s->buf;
		while ((nl = memchr(p, '\n', s->len - (size_t)(p - s->buf)))) {
			s->started = true;
			if (!s->overlong)
				top_add_line(t, p, (size_t)(nl - p));
			s->overlong = false;
			p = nl + 1;
		}
		s->len -= (size_t)(p - s->buf);
		memmove(s->buf, p, s->len);
		if (s->len == TOP_LINE_MAX) { /* a line too long: skipped */
			top_skip_line(t);
			s->overlong = true;
			s->len = 0;
		}
	}
	return n != 0;
}

/* What trace says on stderr: the first of it kept (to show if it fails), the rest read and dropped.
 */
static void source_read_err(struct source *s)
{
	char scratch[512];
	size_t room;
	ssize_t n;

	for (;;) {
		room = sizeof(s->errbuf) - 1 - s->errlen;
		n = room ? read(s->err, s->errbuf + s->errlen, room)
			 : read(s->err, scratch, sizeof(scratch));
		if (n <= 0)
			break;
		if (room)
			s->errlen += (size_t)n;
	}
	s->errbuf[s->errlen] = '\0';
}

/* Stops trace; its exit status. */
static int source_stop(struct source *s)
{
	int status = 0;

	if (s->pid > 0) {
		kill(s->pid, SIGINT);
		waitpid(s->pid, &status, 0);
	}
	close(s->out);
	close(s->err);
	free(s->buf);
	return status;
}

static int show_live(struct top *t, struct trace_args *a, int interval_s, bool batch)
{
	struct terminal term = {};
	struct source s = {};
	struct pollfd fds[3];
	int64_t next, now;
	bool running = true;
	char c;
	int ret, status;

	if (terminal_open(&term, batch))
		return TOP_USAGE;
	ret = source_start(&s, a);
	if (ret) {
		terminal_close(&term);
		fprintf(stderr, "custos top: cannot run custos trace: %s\n", strerror(-ret));
		return TOP_INCOMPLETE;
	}
	top_set_now(t, wall_ns());
	if (term.full)
		draw(&term, t, "starting custos trace");
	next = wall_ns() + (int64_t)interval_s * 1000000000LL;
	while (running && !stop_requested) {
		fds[0] = (struct pollfd){.fd = s.out, .events = POLLIN};
		fds[1] = (struct pollfd){.fd = s.err, .events = POLLIN};
		fds[2] = (struct pollfd){.fd = term.full ? STDIN_FILENO : -1, .events = POLLIN};
		now = wall_ns();
		poll(fds, 3, now < next ? (int)((next - now) / 1000000) + 1 : 0);
		if (fds[0].revents)
			running = source_read(&s, t);
		if (fds[1].revents)
			source_read_err(&s);
		if (fds[2].revents && read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			break;
		if (resized) {
			resized = 0;
			terminal_size(&term);
			next = 0;
		}
		if (wall_ns() >= next) {
			top_set_now(t, wall_ns());
			if (batch)
				break;
			draw(&term, t, s.started ? "live" : "starting custos trace");
			next = wall_ns() + (int64_t)interval_s * 1000000000LL;
		}
	}
	if (batch && (running || s.started)) /* not a screen of nothing when trace failed */
		draw(&term, t, "live");
	terminal_close(&term);
	source_read_err(&s);
	status = source_stop(&s);
	if (running || stop_requested)
		return TOP_OK;
	/* trace ended by itself: not an agent stopping, a failure; say why. */
	fprintf(stderr, "custos top: custos trace exited (status %d)%s%s", WEXITSTATUS(status),
		s.errlen ? ":\n" : "\n", s.errbuf);
	return TOP_INCOMPLETE;
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},	{"path", required_argument, NULL, 'p'},
	    {"config", required_argument, NULL, 'c'},	{"user", required_argument, NULL, 'u'},
	    {"comm", required_argument, NULL, 'C'},	{"socket", required_argument, NULL, 'S'},
	    {"interval", required_argument, NULL, 'd'}, {"batch", no_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},		{},
	};
	struct trace_args trace = {.argv = {"custos", "trace", "--json"}, .argc = 3};
	const char *file = NULL;
	bool batch = false;
	int interval = 1, c, ret;
	struct top *t;
	char *end;
	long v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:p:c:u:C:d:bh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'c':
		case 'u':
		case 'C':
		case 'S':
			if (trace_arg(&trace, trace_option(c), optarg))
				return TOP_USAGE;
			break;
		case 'f':
			file = optarg;
			break;
		case 'd':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 60) {
				fprintf(stderr, "custos top: --interval %.32s: 1 to 60 seconds\n",
					optarg);
				return TOP_USAGE;
			}
			interval = (int)v;
			break;
		case 'b':
			batch = true;
			break;
		case 'h':
			top_usage(stdout);
			return TOP_OK;
		default:
			top_usage(stderr);
			return TOP_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "custos top: unexpected argument \"%.64s\"\n", argv[optind]);
		top_usage(stderr);
		return TOP_USAGE;
	}
	if (!(t = top_new())) {
		fprintf(stderr, "custos top: out of memory\n");
		return TOP_USAGE;
	}
	if (file && trace.argc > 3) {
		fprintf(stderr, "custos top: --file shows the stored stream: no --path, --config, "
				"--user, --comm or --socket\n");
		top_free(t);
		return TOP_USAGE;
	}
	ret = file ? show_file(t, file, batch) : show_live(t, &trace, interval, batch);
	top_free(t);
	return ret;
}
