// SPDX-License-Identifier: GPL-2.0
/*
 * custos-bench: what the agent costs the processes it watches, and whether it
 * keeps up with a busy one. It prints numbers, never pass/fail.
 *
 *   custos-bench openclose PATH N         open(2)+close(2) of PATH, N times
 *   custos-bench read FILE N              one open(2) of FILE, then N read(2)s of
 *                                         4 KiB, lseek(2) back to 0 at its end
 *   custos-bench rate PATH RATE SECONDS   open+close PATH RATE times a second
 *   custos-bench count                    counts the agent's JSON lines on stdin
 *   custos-bench suite [OPTIONS]          what `make bench` prints (scripts/bench.sh)
 *
 * PATH may be a directory: its file "open.dat" is used (and created). The
 * single-workload commands print one line of key=value pairs.
 *
 * The suite compares runs without and with the agent in the same run, round
 * by round (the VM is noisy: only ratios measured close in time mean
 * something), then runs the agent against a steady stream of watched opens
 * and counts what it wrote. It starts the agent itself, reads its stdout in a
 * thread (counting lines, storing none) so that the agent never waits for its
 * reader, and stops it on every exit path: SIGINT/SIGTERM/SIGHUP to the bench,
 * a failure, or the death of the bench (PR_SET_PDEATHSIG). Its database part,
 * the cost of the probes on the client libraries, is in dbbench.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <dirent.h>
#include <sched.h>

#include "bench.h"

#define READ_SIZE	4096
#define DATA_SIZE	(1 << 20)  /* the watched file the read workload reads */
#define OPEN_FILE	"open.dat" /* the file the open/close workloads open */
#define DATA_FILE	"data.bin" /* the 1 MiB watched file */
#define PIPE_SIZE	(1 << 20)  /* the agent's stdout pipe */
#define READER_BUF	(1 << 20)  /* longest line the counter sees whole */
#define LAST_LINE_MAX	65536	   /* the agent-stop event is about 700 bytes */
#define READY_TIMEOUT_S 60	   /* attaching every hook takes about 1 s */
#define STOP_TIMEOUT_S	60	   /* the agent drains its ring buffer first */
#define SETTLE_MS	300	   /* after agent-start, before measuring */
#define RATE_BATCH_NS	1000000ULL /* the rate test sleeps once per ~1 ms batch */
#define DEFAULT_DIR	"/tmp/custos-bench"
#define DEFAULT_AGENT	"build/custos"
#define DEFAULT_ROUNDS	5
#define DEFAULT_N	500000
#define DEFAULT_RATE	100000
#define DEFAULT_SECONDS 5
#define ACTION_KEY	"\"action\":\""
#define DROPS_BY_TYPE	"\"ringbuf_drops_by_type\":"

enum { W_UNWATCHED_OPEN, W_WATCHED_READ, W_WATCHED_OPEN, W_UNWATCHED_SEND, W_COUNT };

static const struct {
	const char *name;
	double target;	    /* the bound for with/without */
	double bare_target; /* the bound for custos against the bare monitor */
} workloads[W_COUNT] = {
    [W_UNWATCHED_OPEN] = {"unwatched open/close", 1.25, 1.05},
    [W_WATCHED_READ] = {"watched 4 KiB reads", 1.35, 1.05},
    [W_WATCHED_OPEN] = {"watched open/close", 1.60, 1.20},
    [W_UNWATCHED_SEND] = {"unwatched send+recv", 1.25, 1.05},
};

/* The agent the bench runs, for the signal handler and failure paths. */
static volatile sig_atomic_t agent_pid;
static char pid_file[PATH_MAX + 32];

/* The CPUs the bench may use before --cpu pins it: the agent and the reader get them all. */
static cpu_set_t all_cpus;
static bool pinned;

/*
 * What the file workloads are timed by: by default the measuring thread's
 * CPU time (its syscalls and the hooks that run in them), so the agent's
 * own threads and the bench's reader, competing for the CPUs, show in the
 * agent's CPU column rather than as preemption of the measuring thread;
 * --wall: the wall clock, preemption included.
 */
static clockid_t workload_clock = CLOCK_THREAD_CPUTIME_ID;

static uint64_t workload_ns(void)
{
	struct timespec ts;

	clock_gettime(workload_clock, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Stops the agent: SIGINT, then SIGKILL if it has not exited after
 * STOP_TIMEOUT_S. Async-signal-safe: the signal handler calls it.
 */
static void kill_agent(void)
{
	const struct timespec tick = {.tv_nsec = 10000000};
	pid_t pid = agent_pid;
	int i;

	if (pid <= 0)
		return;
	kill(pid, SIGINT);
	for (i = 0; i < STOP_TIMEOUT_S * 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			goto gone;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
gone:
	agent_pid = 0;
	if (pid_file[0])
		unlink(pid_file);
}

static void on_signal(int sig)
{
	static const char msg[] = "custos-bench: interrupted: stopping the agent\n";

	if (agent_pid > 0) {
		ssize_t r = write(2, msg, sizeof(msg) - 1);

		(void)r;
	}
	kill_agent();
	signal(sig, SIG_DFL);
	raise(sig);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("custos-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	kill_agent();
	exit(1);
}

static long parse_long(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		fail("%s: \"%s\" is not a number from %ld to %ld", what, s, min, max);
	return v;
}

/* Creates PATH with SIZE bytes (not all zero, so no filesystem can elide them). */
static void make_file(const char *path, size_t size)
{
	static char block[READ_SIZE];
	size_t done = 0, i;
	int fd;

	for (i = 0; i < sizeof(block); i++)
		block[i] = 'a' + i % 26;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("cannot create %s: %s", path, strerror(errno));
	while (done < size) {
		size_t n = size - done < sizeof(block) ? size - done : sizeof(block);

		if (write(fd, block, n) != (ssize_t)n)
			fail("cannot write %s: %s", path, strerror(errno));
		done += n;
	}
	close(fd);
}

/* PATH itself, or PATH/open.dat (created if missing) when PATH is a directory. */
static void open_target(const char *path, char *out, size_t cap)
{
	struct stat st;

	if (stat(path, &st))
		fail("%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		snprintf(out, cap, "%s", path);
		return;
	}
	if ((size_t)snprintf(out, cap, "%s/%s", path, OPEN_FILE) >= cap)
		fail("%s: path too long", path);
	if (access(out, R_OK))
		make_file(out, READ_SIZE);
}

/* ---- the workloads ---------------------------------------------------------------------- */

static long warmup_of(long n)
{
	return n / 10 + 1000;
}

static inline void open_close(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
	close(fd);
}

/* open(2)+close(2) of PATH N times after a warm-up; returns ns per open+close. */
static double bench_openclose(const char *path, long n, uint64_t *opens)
{
	long i, warm = warmup_of(n);
	uint64_t t0;

	for (i = 0; i < warm; i++)
		open_close(path);
	t0 = workload_ns();
	for (i = 0; i < n; i++)
		open_close(path);
	*opens = warm + n;
	return (double)(workload_ns() - t0) / n;
}

/* One open of PATH, then N reads of 4 KiB after a warm-up; returns ns per read. */
static double bench_read(const char *path, long n, uint64_t *bytes)
{
	static char buf[READ_SIZE] __attribute__((aligned(READ_SIZE)));
	long i, warm = warmup_of(n);
	off_t off = 0, size;
	struct stat st;
	uint64_t t0 = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		fail("%s: %s", path, strerror(errno));
	size = st.st_size - st.st_size % READ_SIZE;
	if (size < READ_SIZE)
		fail("%s: smaller than %d bytes", path, READ_SIZE);
	for (i = -warm; i < n; i++) {
		if (i == 0)
			t0 = workload_ns();
		if (off == size) {
			if (lseek(fd, 0, SEEK_SET) != 0)
				fail("lseek %s: %s", path, strerror(errno));
			off = 0;
		}
		if (read(fd, buf, READ_SIZE) != READ_SIZE)
			fail("read %s: short read or %s", path, strerror(errno));
		off += READ_SIZE;
	}
	t0 = workload_ns() - t0;
	close(fd);
	*bytes = (uint64_t)(warm + n) * READ_SIZE;
	return (double)t0 / n;
}

/* send(2) and recv(2) of 64 bytes over a unix socket pair N times; returns ns per pair. */
static double bench_sendrecv(long n)
{
	long i, warm = warmup_of(n);
	char buf[64] = {0};
	uint64_t t0 = 0;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		fail("socketpair: %s", strerror(errno));
	for (i = -warm; i < n; i++) {
		if (i == 0)
			t0 = workload_ns();
		if (send(sv[0], buf, sizeof(buf), 0) != sizeof(buf) ||
		    recv(sv[1], buf, sizeof(buf), 0) != sizeof(buf))
			fail("send/recv: short or %s", strerror(errno));
	}
	t0 = workload_ns() - t0;
	close(sv[0]);
	close(sv[1]);
	return (double)t0 / n;
}

struct rate_result {
	uint64_t opens;
	double seconds;
	double max_lag_ms; /* how far behind schedule the loop fell at worst */
};

/*
 * open+close PATH RATE times a second for SECONDS: batches of about 1 ms, each
 * followed by clock_nanosleep to the batch's absolute deadline, so that a late
 * batch is made up by the next ones instead of lowering the rate.
 */
static void bench_rate(const char *path, long rate, long seconds, struct rate_result *r)
{
	uint64_t batch = (uint64_t)rate * RATE_BATCH_NS / NSEC_PER_SEC;
	uint64_t total = (uint64_t)rate * seconds, done = 0, start, deadline, now, k;
	uint64_t lag = 0;
	struct timespec ts;

	if (batch == 0)
		batch = 1;
	start = deadline = now_ns();
	while (done < total) {
		for (k = 0; k < batch && done < total; k++, done++)
			open_close(path);
		deadline = start + done * NSEC_PER_SEC / rate;
		now = now_ns();
		if (now > deadline) {
			if (now - deadline > lag)
				lag = now - deadline;
			continue;
		}
		ts.tv_sec = deadline / NSEC_PER_SEC;
		ts.tv_nsec = deadline % NSEC_PER_SEC;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
	}
	r->opens = done;
	r->seconds = (double)(now_ns() - start) / NSEC_PER_SEC;
	r->max_lag_ms = (double)lag / 1e6;
}

/* ---- counting the agent's output -------------------------------------------------------- */

static void counter_init(struct counter *k, const char *track)
{
	memset(k, 0, sizeof(*k));
	k->buf = malloc(READER_BUF);
	k->last = malloc(LAST_LINE_MAX);
	if (!k->buf || !k->last)
		fail("out of memory");
	k->last[0] = '\0';
	k->track = track;
	atomic_init(&k->ready, false);
}

void counter_free(struct counter *k)
{
	free(k->buf);
	free(k->last);
	k->buf = k->last = NULL;
}

/* The unsigned number after KEY in S (after AFTER first, if given). */
bool find_u64(const char *s, const char *after, const char *key, uint64_t *v)
{
	char *end;

	if (after) {
		s = strstr(s, after);
		if (!s)
			return false;
	}
	s = strstr(s, key);
	if (!s)
		return false;
	s += strlen(key);
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && end != s;
}

static void count_line(struct counter *k, char *s, size_t n)
{
	const char *a = memmem(s, n, ACTION_KEY, strlen(ACTION_KEY));
	size_t rest = 0;

	k->lines++;
	if (a) {
		a += strlen(ACTION_KEY);
		rest = n - (a - s);
	}
	if (rest >= 5 && !memcmp(a, "open\"", 5)) {
		k->opens++;
		return;
	}
	if (rest >= 6 && !memcmp(a, "close\"", 6)) {
		k->closes++;
		if (k->track && memmem(s, n, k->track, strlen(k->track))) {
			s[n] = '\0'; /* the '\n' */
			k->track_seen =
			    find_u64(s, "\"io\":", "\"total_bytes_read\":", &k->track_total);
		}
		return;
	}
	if (rest >= 6 && !memcmp(a, "query\"", 6)) {
		db_count_query(k, s, n);
		return;
	}
	k->other++;
	k->last_len = n < LAST_LINE_MAX - 1 ? n : LAST_LINE_MAX - 1;
	memcpy(k->last, s, k->last_len);
	k->last[k->last_len] = '\0';
	if (rest >= 12 && !memcmp(a, "agent-start\"", 12))
		atomic_store(&k->ready, true);
}

/* Reads once from FD and counts the complete lines; returns what read(2) returned. */
static ssize_t counter_read(struct counter *k, int fd)
{
	char *p, *nl, *end;
	ssize_t r;

	/* One byte stays free so that count_line can terminate a line in place. */
	r = read(fd, k->buf + k->len, READER_BUF - 1 - k->len);
	if (r <= 0) {
		if (r == 0 && k->len) { /* a last line without '\n' */
			count_line(k, k->buf, k->len);
			k->len = 0;
		}
		return r;
	}
	k->bytes += r;
	p = k->buf;
	end = k->buf + k->len + r;
	while ((nl = memchr(p, '\n', end - p))) {
		count_line(k, p, nl - p);
		p = nl + 1;
	}
	k->len = end - p;
	memmove(k->buf, p, k->len);
	if (k->len == READER_BUF - 1) { /* a monster line: count it in pieces */
		count_line(k, k->buf, k->len);
		k->len = 0;
	}
	return r;
}

static void print_counts(const struct counter *k)
{
	uint64_t v;

	printf("lines=%llu open_events=%llu close_events=%llu other=%llu bytes=%llu",
	       (unsigned long long)k->lines, (unsigned long long)k->opens,
	       (unsigned long long)k->closes, (unsigned long long)k->other,
	       (unsigned long long)k->bytes);
	if (strstr(k->last, "\"action\":\"agent-stop\"") &&
	    find_u64(k->last, NULL, "\"ringbuf_drops\":", &v))
		printf(" ringbuf_drops=%llu", (unsigned long long)v);
	printf("\n");
}

/* ---- running the agent ------------------------------------------------------------------ */

static void *reader_main(void *arg)
{
	struct agent *a = arg;
	ssize_t r;

	if (pinned)
		sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
	while ((r = counter_read(&a->out, a->fd)) != 0) {
		if (r < 0 && errno != EINTR) {
			a->read_errno = errno;
			break;
		}
	}
	atomic_store(&a->eof, true);
	return NULL;
}

/* The last lines of the agent's stderr, to explain a failure. */
static void show_log(const struct suite *s)
{
	char line[1024], lines[8][1024];
	int n = 0, i;
	FILE *f = fopen(s->log, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		snprintf(lines[n++ % 8], sizeof(lines[0]), "%s", line);
	fclose(f);
	fprintf(stderr, "custos-bench: the agent's stderr (%s) ends with:\n", s->log);
	for (i = n > 8 ? n - 8 : 0; i < n; i++)
		fprintf(stderr, "  %s", lines[i % 8]);
}

static void exec_agent(const struct suite *s, const char *config, int out, pid_t parent)
{
	int in = open("/dev/null", O_RDONLY),
	    err = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	sigset_t none;

	/* Its own process group: a Ctrl-C reaches the bench, which stops it in order. */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(126);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (pinned)
		sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
	if (in < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	execl(s->agent, s->agent, "run", "--config", config, (char *)NULL);
	dprintf(2, "custos-bench: cannot run %s: %s\n", s->agent, strerror(errno));
	_exit(127);
}

/* Starts the agent and returns once it has printed agent-start (every hook attached). */
void agent_start(struct agent *a, const struct suite *s, const char *config, const char *track)
{
	pid_t parent = getpid();
	sigset_t all, old;
	uint64_t deadline;
	int fds[2];
	FILE *f;

	memset(a, 0, sizeof(*a));
	counter_init(&a->out, track);
	atomic_init(&a->eof, false);
	if (pipe2(fds, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
	/* Room for bursts while the reader thread waits for a CPU; best effort. */
	fcntl(fds[0], F_SETPIPE_SZ, PIPE_SIZE);
	fflush(NULL);
	a->pid = fork();
	if (a->pid < 0)
		fail("fork: %s", strerror(errno));
	if (a->pid == 0)
		exec_agent(s, config, fds[1], parent);
	setpgid(a->pid, a->pid);
	agent_pid = a->pid;
	close(fds[1]);
	a->fd = fds[0];
	f = fopen(pid_file, "w");
	if (f) {
		fprintf(f, "%d\n", a->pid);
		fclose(f);
	}
	/* The reader never takes the bench's signals: it must keep draining while we stop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	errno = pthread_create(&a->reader, NULL, reader_main, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (errno)
		fail("pthread_create: %s", strerror(errno));

	deadline = now_ns() + READY_TIMEOUT_S * NSEC_PER_SEC;
	while (!atomic_load(&a->out.ready)) {
		if (atomic_load(&a->eof)) {
			show_log(s);
			fail("the agent exited before agent-start");
		}
		if (now_ns() > deadline) {
			show_log(s);
			fail("no agent-start from the agent after %d s", READY_TIMEOUT_S);
		}
		sleep_ns(5000000);
	}
	sleep_ns(SETTLE_MS * 1000000ULL);
}

/* SIGINT, wait for the agent to drain and exit, then for the reader to see EOF. */
void agent_stop(struct agent *a)
{
	uint64_t t0 = now_ns(), deadline = t0 + STOP_TIMEOUT_S * NSEC_PER_SEC;
	pid_t r;

	kill(a->pid, SIGINT);
	while ((r = wait4(a->pid, &a->status, WNOHANG, &a->ru)) == 0) {
		if (now_ns() > deadline) {
			fprintf(stderr,
				"custos-bench: the agent ignored SIGINT for %d s: SIGKILL\n",
				STOP_TIMEOUT_S);
			kill(a->pid, SIGKILL);
			r = wait4(a->pid, &a->status, 0, &a->ru);
			break;
		}
		sleep_ns(2000000);
	}
	if (r != a->pid)
		fail("wait for the agent: %s", strerror(errno));
	a->stop_seconds = (double)(now_ns() - t0) / NSEC_PER_SEC;
	agent_pid = 0;
	unlink(pid_file);
	pthread_join(a->reader, NULL);
	close(a->fd);
}

double tv_sec(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* utime and stime of PID from /proc/PID/stat, in seconds. */
bool proc_cpu(pid_t pid, double *user, double *sys)
{
	char path[64], buf[4096], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	/* Fields 3 (state) to 13, then utime and stime. */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return false;
	*user = (double)ut / sysconf(_SC_CLK_TCK);
	*sys = (double)st / sysconf(_SC_CLK_TCK);
	return true;
}

/*
 * Other custos processes (an integration test, a developer's agent) add their
 * hooks to both sides of the comparison and compete for the CPUs. Returns how
 * many run besides the bench's own agent; *first is one of them.
 */
static int other_agents(long *first)
{
	char path[300], comm[64];
	struct dirent *d;
	DIR *proc = opendir("/proc");
	int n = 0;
	FILE *f;

	if (!proc)
		return 0;
	while ((d = readdir(proc))) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9' || atol(d->d_name) == agent_pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "custos\n") && n++ == 0)
			*first = atol(d->d_name);
		fclose(f);
	}
	closedir(proc);
	return n;
}

/* Whether another custos runs now; says so the first time. */
bool check_others(void)
{
	static bool warned;
	long pid = 0;

	if (!other_agents(&pid))
		return false;
	if (!warned)
		fprintf(stderr,
			"custos-bench: warning: another custos (pid %ld) is running: it skews the "
			"numbers (rounds marked *)\n",
			pid);
	warned = true;
	return true;
}

/* ---- the suite -------------------------------------------------------------------------- */

struct round {
	double ns[3][W_COUNT]; /* [0] without the agent, [1] with it, [2] with the bare monitor */
	bool bare;	       /* the bare monitor ran: ns[2] holds its figures */
	uint64_t watched_opens, read_bytes;
	uint64_t open_events, close_events, drops, read_total;
	bool read_seen, have_stop;
	bool others; /* another custos ran during the round */
	double cpu;
};

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

double median(double *v, long n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void measure_all(const struct suite *s, double *ns, struct round *r)
{
	uint64_t opens;

	ns[W_UNWATCHED_OPEN] = bench_openclose(s->unwatched, s->n, &opens);
	ns[W_WATCHED_READ] = bench_read(s->data, s->n, &r->read_bytes);
	ns[W_WATCHED_OPEN] = bench_openclose(s->watched, s->n, &opens);
	r->watched_opens = 1 + opens; /* the data file, then the open/close workload */
	ns[W_UNWATCHED_SEND] = bench_sendrecv(s->n);
}

/* The agent's config at PATH: the watched directory, and DATABASES if not NULL. */
void write_config(const struct suite *s, const char *path, const char *databases)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail("cannot write %s: %s", path, strerror(errno));
	fprintf(f, "{\"watch\": [{\"name\": \"bench\", \"paths\": [\"%s/watched\"]}]", s->dir);
	if (databases)
		fprintf(f, ",\n \"databases\": %s", databases);
	fprintf(f, "}\n");
	if (fclose(f))
		fail("cannot write %s: %s", path, strerror(errno));
}

static void setup(struct suite *s)
{
	char sub[PATH_MAX + 16];
	const char *c;

	for (c = s->dir; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			fail("--dir %s: quotes, backslashes and control characters are not "
			     "supported",
			     s->dir);
	if (mkdir(s->dir, 0755) && errno != EEXIST)
		fail("mkdir %s: %s", s->dir, strerror(errno));
	/* Both directories on the same filesystem, the same depth, the same file names. */
	snprintf(sub, sizeof(sub), "%s/watched", s->dir);
	if (mkdir(sub, 0755) && errno != EEXIST)
		fail("mkdir %s: %s", sub, strerror(errno));
	snprintf(sub, sizeof(sub), "%s/unwatched", s->dir);
	if (mkdir(sub, 0755) && errno != EEXIST)
		fail("mkdir %s: %s", sub, strerror(errno));
	snprintf(s->watched, sizeof(s->watched), "%s/watched/" OPEN_FILE, s->dir);
	snprintf(s->unwatched, sizeof(s->unwatched), "%s/unwatched/" OPEN_FILE, s->dir);
	snprintf(s->data, sizeof(s->data), "%s/watched/" DATA_FILE, s->dir);
	snprintf(s->config, sizeof(s->config), "%s/custos.json", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/agent.log", s->dir);
	snprintf(pid_file, sizeof(pid_file), "%s/agent.pid", s->dir);
	make_file(s->watched, READ_SIZE);
	make_file(s->unwatched, READ_SIZE);
	make_file(s->data, DATA_SIZE);
	unlink(s->log);
	write_config(s, s->config, NULL);
	if (access(s->agent, X_OK))
		fail("%s: %s (make builds it)", s->agent, strerror(errno));
}

static void teardown(const struct suite *s)
{
	char sub[PATH_MAX + 16];

	unlink(s->watched);
	unlink(s->unwatched);
	unlink(s->data);
	unlink(s->config);
	unlink(s->log);
	snprintf(sub, sizeof(sub), "%s/watched", s->dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/unwatched", s->dir);
	rmdir(sub);
	rmdir(s->dir);
}

/* The ring-buffer drops its agent-stop event reports (false: none); says if it failed. */
bool agent_summary(const struct agent *a, uint64_t *drops)
{
	if (!WIFEXITED(a->status) || WEXITSTATUS(a->status))
		fprintf(stderr, "custos-bench: the agent exited with status 0x%x\n", a->status);
	if (a->read_errno)
		fprintf(stderr, "custos-bench: reading the agent's output: %s\n",
			strerror(a->read_errno));
	return strstr(a->out.last, "\"action\":\"agent-stop\"") &&
	       find_u64(a->out.last, NULL, "\"ringbuf_drops\":", drops);
}

static void agent_results(struct agent *a, struct round *r)
{
	r->open_events = a->out.opens;
	r->close_events = a->out.closes;
	r->read_seen = a->out.track_seen;
	r->read_total = a->out.track_total;
	r->have_stop = agent_summary(a, &r->drops);
	r->cpu = tv_sec(a->ru.ru_utime) + tv_sec(a->ru.ru_stime);
}

/* The median over the rounds of num/den, phases of ns (0 none, 1 custos, 2 bare). */
static double median_ratio(const struct suite *s, struct round *rounds, int w, int num, int den)
{
	double v[ROUNDS_MAX];
	long i, n = 0;

	for (i = 0; i < s->rounds; i++)
		if (rounds[i].bare || (num != 2 && den != 2))
			v[n++] = rounds[i].ns[num][w] / rounds[i].ns[den][w];
	return n ? median(v, n) : 0;
}

/*
 * custos next to a bare monitor on the same hooks (one lookup each), in the
 * same rounds: the hooks' own cost is the bare column, custos's work above
 * it the last.
 */
static void print_against_bare(const struct suite *s, struct round *rounds)
{
	long i, n = 0;
	int w;

	for (i = 0; i < s->rounds; i++)
		n += rounds[i].bare;
	if (!n) {
		printf("\n(no bare-monitor figures: it did not load)\n");
		return;
	}
	printf("\n%-22s %10s %12s %15s %8s\n", "workload", "custos", "bare hooks", "custos / bare",
	       "target");
	for (w = 0; w < W_COUNT; w++)
		printf("%-22s %9.2fx %11.2fx %14.2fx %4s%.2fx\n", workloads[w].name,
		       median_ratio(s, rounds, w, 1, 0), median_ratio(s, rounds, w, 2, 0),
		       median_ratio(s, rounds, w, 1, 2), "<= ", workloads[w].bare_target);
	printf("custos and bare hooks: ratio to no monitor; custos / bare: per round, custos's "
	       "ns/op over the bare monitor's; medians of %ld rounds\n",
	       n);
}

static void print_overhead(const struct suite *s, struct round *rounds)
{
	double v[ROUNDS_MAX], ratio[ROUNDS_MAX], without, with, lo, hi;
	char range[32];
	long i, w, others = 0;

	printf("\n%-22s %13s %13s %7s %14s %8s\n", "workload", "ns/op without", "ns/op with",
	       "ratio", "(min-max)", "target");
	for (w = 0; w < W_COUNT; w++) {
		for (i = 0; i < s->rounds; i++)
			v[i] = rounds[i].ns[0][w];
		without = median(v, s->rounds);
		for (i = 0; i < s->rounds; i++)
			v[i] = rounds[i].ns[1][w];
		with = median(v, s->rounds);
		for (i = 0; i < s->rounds; i++)
			ratio[i] = rounds[i].ns[1][w] / rounds[i].ns[0][w];
		lo = hi = ratio[0];
		for (i = 1; i < s->rounds; i++) {
			lo = ratio[i] < lo ? ratio[i] : lo;
			hi = ratio[i] > hi ? ratio[i] : hi;
		}
		snprintf(range, sizeof(range), "(%.2f-%.2f)", lo, hi);
		printf("%-22s %13.1f %13.1f %6.2fx %14s %4s%.2fx\n", workloads[w].name, without,
		       with, median(ratio, s->rounds), range, "<= ", workloads[w].target);
	}
	printf("ns/op: medians over %ld rounds of the measuring thread's %s; ratio: median of the "
	       "%ld per-round with/without ratios\n",
	       s->rounds, workload_clock == CLOCK_MONOTONIC ? "wall-clock time" : "CPU time",
	       s->rounds);
	print_against_bare(s, rounds);

	printf("\nper round: ns/op without -> with (ratio)\n%5s", "round");
	for (w = 0; w < W_COUNT; w++)
		printf("   %-*s", w < W_COUNT - 1 ? 29 : 0, workloads[w].name);
	printf("\n");
	for (i = 0; i < s->rounds; i++) {
		printf("%4ld%c", i + 1, rounds[i].others ? '*' : ' ');
		others += rounds[i].others;
		for (w = 0; w < W_COUNT; w++)
			printf("   %7.1f -> %7.1f (%5.2f)", rounds[i].ns[0][w], rounds[i].ns[1][w],
			       rounds[i].ns[1][w] / rounds[i].ns[0][w]);
		printf("\n");
	}
	if (others)
		printf("* another custos was running during the round: its numbers are skewed\n");

	printf("\nthe agent in each round's with-agent phase (its opens include the warm-ups)\n");
	printf("%5s %13s %12s %12s %12s %13s %11s\n", "round", "watched opens", "open events",
	       "close events", "ringbuf_drops", "bytes counted", "agent CPU");
	for (i = 0; i < s->rounds; i++) {
		struct round *r = &rounds[i];
		char drops[32] = "?", counted[32] = "no summary";

		if (r->have_stop)
			snprintf(drops, sizeof(drops), "%llu", (unsigned long long)r->drops);
		if (r->read_seen)
			snprintf(counted, sizeof(counted), "%.2f%%",
				 100.0 * r->read_total / r->read_bytes);
		printf("%5ld %13llu %12llu %12llu %13s %13s %10.2fs\n", i + 1,
		       (unsigned long long)r->watched_opens, (unsigned long long)r->open_events,
		       (unsigned long long)r->close_events, drops, counted, r->cpu);
	}
	printf("bytes counted: total_bytes_read in the agent's close summary of the 1 MiB file,\n"
	       "against what the read workload read; agent CPU: user+sys over its whole life\n");
}

/* Prints the flat JSON object after KEY in S as "name value, name value". */
static void print_object(const char *title, const char *s, const char *key)
{
	const char *p = strstr(s, key);

	if (!p)
		return;
	printf("%s", title);
	for (p += strlen(key); *p && *p != '}'; p++) {
		if (*p == ':')
			putchar(' ');
		else if (*p == ',')
			printf(", ");
		else if (*p != '"')
			putchar(*p);
	}
	printf("\n");
}

static void run_drop_test(const struct suite *s)
{
	double user0 = 0, sys0 = 0, user, sys, cpu, wall;
	uint64_t drops = 0, drop_open = 0, drop_close = 0, drop_unknown = 0;
	bool have_stop, have_mark, by_type, others;
	struct rate_result rr;
	struct agent a;

	printf("\ndrops at %ld watched opens/s for %ld s (a fresh agent; its stdout is counted, "
	       "not stored)\n",
	       s->rate, s->seconds);
	fflush(stdout);
	others = check_others();
	agent_start(&a, s, s->config, NULL);
	have_mark = proc_cpu(a.pid, &user0, &sys0);
	bench_rate(s->watched, s->rate, s->seconds, &rr);
	others |= check_others();
	agent_stop(&a);

	have_stop = strstr(a.out.last, "\"action\":\"agent-stop\"") &&
		    find_u64(a.out.last, NULL, "\"ringbuf_drops\":", &drops);
	by_type = have_stop && find_u64(a.out.last, DROPS_BY_TYPE, "\"file_open\":", &drop_open) &&
		  find_u64(a.out.last, DROPS_BY_TYPE, "\"file_close\":", &drop_close);
	/* Records of no known type: should not exist, but they are drops too. */
	if (by_type)
		find_u64(a.out.last, DROPS_BY_TYPE, "\"unknown\":", &drop_unknown);
	user = tv_sec(a.ru.ru_utime);
	sys = tv_sec(a.ru.ru_stime);

	printf("  opens done             %llu in %.2f s = %.0f/s (at worst %.1f ms behind "
	       "schedule)\n",
	       (unsigned long long)rr.opens, rr.seconds, rr.opens / rr.seconds, rr.max_lag_ms);
	printf("  open events written    %llu (%.2f%% of the opens)\n",
	       (unsigned long long)a.out.opens, 100.0 * a.out.opens / rr.opens);
	printf("  close summaries        %llu (%.2f%%)\n", (unsigned long long)a.out.closes,
	       100.0 * a.out.closes / rr.opens);
	if (have_stop) {
		printf("  ringbuf_drops          %llu\n", (unsigned long long)drops);
		print_object("    by record type       ", a.out.last, DROPS_BY_TYPE "{");
		print_object("  records received       ", a.out.last, "\"records\":{");
		if (by_type) {
			/* Each open+close makes an open record and a close record. */
			long long lost = 2 * (long long)rr.opens - (long long)a.out.opens -
					 (long long)a.out.closes - (long long)drop_open -
					 (long long)drop_close - (long long)drop_unknown;

			printf("  unaccounted for        %lld of the %llu open and close records "
			       "(neither written nor dropped)%s\n",
			       lost, 2 * (unsigned long long)rr.opens,
			       lost > 0 ? "  <- lost silently" : "");
			if (drop_unknown)
				printf("  %llu drops are counted under type \"unknown\"  <- agent "
				       "bug\n",
				       (unsigned long long)drop_unknown);
		}
	} else {
		printf(
		    "  ringbuf_drops          unknown: no agent-stop event (last line: %.200s)\n",
		    a.out.last);
	}
	printf("  agent output           %llu lines, %.1f MB\n", (unsigned long long)a.out.lines,
	       a.out.bytes / 1e6);
	printf("  agent stop (drain)     %.2f s from SIGINT to exit\n", a.stop_seconds);
	if (have_mark) {
		cpu = user - user0 + sys - sys0;
		wall = rr.seconds + a.stop_seconds;
		printf(
		    "  agent CPU, test+drain  %.2f s user + %.2f s sys = %.2f s in %.2f s (%.0f%% "
		    "of one CPU)\n",
		    user - user0, sys - sys0, cpu, wall, 100.0 * cpu / wall);
	}
	printf("  agent CPU, lifetime    %.2f s user + %.2f s sys (start-up included)\n", user,
	       sys);
	if (!WIFEXITED(a.status) || WEXITSTATUS(a.status))
		printf("  the agent exited with status 0x%x\n", a.status);
	if (others)
		printf("  another custos was running during the test: it competed for the CPUs\n");
	counter_free(&a.out);
}

static void usage(FILE *f)
{
	fprintf(f,
		"USAGE\n"
		"  custos-bench openclose PATH N          open+close PATH N times\n"
		"  custos-bench read FILE N               N reads of 4 KiB from one open FILE\n"
		"  custos-bench rate PATH RATE SECONDS    open+close PATH RATE times a second\n"
		"  custos-bench count                     count the agent's JSON lines on stdin\n"
		"  custos-bench suite [--agent PATH] [--dir DIR] [--rounds R] [--n N]\n"
		"                     [--rate RATE] [--seconds S] [--cpu CPU] [--wall]\n"
		"                     [--no-db | [--db-only] [--pg CONNINFO] [--pg-tls CONNINFO]\n"
		"                     [--db-rounds R] [--db-queries Q]]\n"
		"PATH may be a directory (its file " OPEN_FILE " is used). The suite (root) runs\n"
		"the agent (default " DEFAULT_AGENT ") and compares each workload without and\n"
		"with it over R rounds (default %d, N=%d), then counts what the agent writes\n"
		"at RATE watched opens a second (default %d for %d s). --cpu pins the\n"
		"measuring thread (default: not pinned). The file workloads are timed by\n"
		"the measuring thread's CPU time (--wall: the wall clock, preemption by the\n"
		"agent's threads included). Then its database part: Q queries\n"
		"(default %d) through libpq to the PostgreSQL server CONNINFO names (none\n"
		"without --pg), over TLS to the one --pg-tls names, and through SQLite, over\n"
		"--db-rounds rounds (default R);\n"
		"--db-only runs that part alone.\n",
		DEFAULT_ROUNDS, DEFAULT_N, DEFAULT_RATE, DEFAULT_SECONDS, DB_DEFAULT_QUERIES);
}

/* Pins the measuring thread only: not the agent, not the thread reading its output. */
static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	if (sched_getaffinity(0, sizeof(all_cpus), &all_cpus))
		fail("sched_getaffinity: %s", strerror(errno));
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fail("cannot pin to CPU %d: %s", cpu, strerror(errno));
	pinned = true;
}

/* The suite's options into S; false on a usage error. */
static bool parse_suite(int argc, char **argv, struct suite *s, const char **dir)
{
	static const struct option longopts[] = {
	    {"agent", required_argument, NULL, 'a'},
	    {"dir", required_argument, NULL, 'd'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"n", required_argument, NULL, 'n'},
	    {"rate", required_argument, NULL, 'R'},
	    {"seconds", required_argument, NULL, 's'},
	    {"cpu", required_argument, NULL, 'c'},
	    {"wall", no_argument, NULL, 'w'},
	    {"no-db", no_argument, NULL, 'x'},
	    {"db-only", no_argument, NULL, 'o'},
	    {"pg", required_argument, NULL, 'p'},
	    {"pg-tls", required_argument, NULL, 'T'},
	    {"db-rounds", required_argument, NULL, 'D'},
	    {"db-queries", required_argument, NULL, 'Q'},
	    {},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "a:d:r:n:R:s:c:w", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			s->agent = optarg;
			break;
		case 'd':
			*dir = optarg;
			break;
		case 'r':
			s->rounds = parse_long(optarg, "--rounds", 1, ROUNDS_MAX);
			break;
		case 'n':
			s->n = parse_long(optarg, "--n", 1000, 1000000000);
			break;
		case 'R':
			s->rate = parse_long(optarg, "--rate", 1, 10000000);
			break;
		case 's':
			s->seconds = parse_long(optarg, "--seconds", 1, 3600);
			break;
		case 'c':
			s->cpu = parse_long(optarg, "--cpu", 0, CPU_SETSIZE - 1);
			break;
		case 'w':
			workload_clock = CLOCK_MONOTONIC;
			break;
		case 'x':
			s->db = false;
			break;
		case 'o':
			s->db_only = true;
			break;
		case 'p':
			s->pg = optarg;
			break;
		case 'T':
			s->pg_tls = optarg;
			break;
		case 'D':
			s->db_rounds = parse_long(optarg, "--db-rounds", 1, ROUNDS_MAX);
			break;
		case 'Q':
			s->db_queries = parse_long(optarg, "--db-queries", 100, 100000000);
			break;
		default:
			return false;
		}
	}
	if (!s->db_rounds)
		s->db_rounds = s->rounds;
	return optind == argc && !(s->db_only && !s->db);
}

static int cmd_suite(int argc, char **argv)
{
	struct suite s = {.agent = DEFAULT_AGENT,
			  .rounds = DEFAULT_ROUNDS,
			  .n = DEFAULT_N,
			  .rate = DEFAULT_RATE,
			  .seconds = DEFAULT_SECONDS,
			  .cpu = -1,
			  .db = true,
			  .db_queries = DB_DEFAULT_QUERIES};
	const char *dir = DEFAULT_DIR;
	struct sigaction sa = {.sa_handler = on_signal};
	struct round rounds[ROUNDS_MAX] = {0};
	struct utsname u;
	uint64_t t0 = now_ns(), t;
	struct bare_bpf *bare;
	struct agent a;
	long i;

	if (!parse_suite(argc, argv, &s, &dir)) {
		usage(stderr);
		return 2;
	}
	if (geteuid())
		fail("the suite runs the agent, which loads BPF programs: run as root");
	if ((size_t)snprintf(s.dir, sizeof(s.dir), "%s", dir) >= sizeof(s.dir) - 64)
		fail("%s: path too long", dir);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	setup(&s);
	pin(s.cpu);

	uname(&u);
	if (s.db_only)
		printf("custos bench: kernel %s, %ld CPUs, the database part only, agent %s, "
		       "measuring thread %s\n",
		       u.release, sysconf(_SC_NPROCESSORS_ONLN), s.agent,
		       s.cpu < 0 ? "not pinned" : "pinned");
	else
		printf("custos bench: kernel %s, %ld CPUs, %ld rounds, N=%ld per workload, agent "
		       "%s, measuring thread %s\n",
		       u.release, sysconf(_SC_NPROCESSORS_ONLN), s.rounds, s.n, s.agent,
		       s.cpu < 0 ? "not pinned" : "pinned");
	fflush(stdout);

	for (i = 0; i < s.rounds && !s.db_only; i++) {
		t = now_ns();
		rounds[i].others = check_others();
		measure_all(&s, rounds[i].ns[0], &rounds[i]);
		rounds[i].others |= check_others();
		bare = bare_start();
		if (bare) {
			measure_all(&s, rounds[i].ns[2], &rounds[i]);
			bare_stop(bare);
			rounds[i].bare = true;
		}
		agent_start(&a, &s, s.config, "\"name\":\"" DATA_FILE "\"");
		measure_all(&s, rounds[i].ns[1], &rounds[i]);
		rounds[i].others |= check_others();
		agent_stop(&a);
		agent_results(&a, &rounds[i]);
		counter_free(&a.out);
		fprintf(stderr, "  round %ld/%ld: %.1f s\n", i + 1, s.rounds,
			(double)(now_ns() - t) / NSEC_PER_SEC);
	}
	if (!s.db_only) {
		print_overhead(&s, rounds);
		run_drop_test(&s);
	}
	if (s.db)
		db_bench(&s);
	printf("\ntotal %.0f s\n", (double)(now_ns() - t0) / NSEC_PER_SEC);
	teardown(&s);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char path[PATH_MAX];

	if (!strcmp(cmd, "openclose") && argc == 4) {
		long n = parse_long(argv[3], "N", 1, LONG_MAX);
		uint64_t opens;
		double ns;

		open_target(argv[2], path, sizeof(path));
		ns = bench_openclose(path, n, &opens);
		printf("workload=openclose path=%s n=%ld ns_per_op=%.1f\n", path, n, ns);
		return 0;
	}
	if (!strcmp(cmd, "read") && argc == 4) {
		long n = parse_long(argv[3], "N", 1, LONG_MAX);
		uint64_t bytes;
		double ns = bench_read(argv[2], n, &bytes);

		printf("workload=read path=%s n=%ld bytes_read=%llu ns_per_op=%.1f\n", argv[2], n,
		       (unsigned long long)bytes, ns);
		return 0;
	}
	if (!strcmp(cmd, "rate") && argc == 5) {
		long rate = parse_long(argv[3], "RATE", 1, 10000000);
		long seconds = parse_long(argv[4], "SECONDS", 1, 3600);
		struct rate_result r;

		open_target(argv[2], path, sizeof(path));
		bench_rate(path, rate, seconds, &r);
		printf("workload=rate path=%s opens=%llu seconds=%.3f opens_per_s=%.0f "
		       "max_lag_ms=%.1f\n",
		       path, (unsigned long long)r.opens, r.seconds, r.opens / r.seconds,
		       r.max_lag_ms);
		return 0;
	}
	if (!strcmp(cmd, "count") && argc == 2) {
		struct counter k;
		ssize_t r;

		counter_init(&k, NULL);
		while ((r = counter_read(&k, 0)) != 0)
			if (r < 0 && errno != EINTR)
				fail("read: %s", strerror(errno));
		print_counts(&k);
		counter_free(&k);
		return 0;
	}
	if (!strcmp(cmd, "suite"))
		return cmd_suite(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
