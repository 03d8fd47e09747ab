// SPDX-License-Identifier: GPL-2.0
/*
 * custos-reportbench: how fast `custos report` reads stored events. It writes
 * a stream of MB megabytes (10^6 bytes) in DIR, lines as the agent writes them
 * (the shapes of a real run's open, close, query and network summary events,
 * with 40 humans, 2,000 files, 30 tables, 8 programs and 5 endpoints), and a
 * gzip copy (level 6, as rotation writes them), then runs the command on
 * each, the report written to /dev/null, and times its CPU (user + system,
 * from wait4) and the wall clock. Each figure is the best of ROUNDS: the run
 * least disturbed by whatever else runs. Numbers, never pass/fail; the
 * requirement is 1 GB of events a minute on one core (16.7 MB/s).
 *
 *   custos-reportbench -a build/custos [-d DIR] [-m MB] [-r ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#define N_USERS	    40
#define N_FILES	    2000
#define N_TABLES    30
#define N_ENDPOINTS 5

static const char *const programs[][2] = {
    {"cat", "/usr/bin/cat"},
    {"python3", "/usr/bin/python3.11"},
    {"psql", "/usr/lib/postgresql/15/bin/psql"},
    {"sqlite3", "/usr/bin/sqlite3"},
    {"dd", "/usr/bin/dd"},
    {"rsync", "/usr/bin/rsync"},
    {"java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"},
    {"curl", "/usr/bin/curl"},
};
#define N_PROGRAMS (sizeof(programs) / sizeof(programs[0]))

/* A line's moving parts. */
struct gen {
	unsigned long long seq, open_id, ns; /* ns since 2026-12-01T00:00:00Z */
	unsigned int rng;
};

static unsigned int next(struct gen *g)
{
	g->rng = g->rng * 1103515245u + 12345u;
	return g->rng >> 8;
}

static void stamp(const struct gen *g, char out[40])
{
	unsigned long long s = g->ns / 1000000000ULL;

	snprintf(out, 40, "2026-12-%02lluT%02llu:%02llu:%02llu.%09lluZ", 1 + s / 86400 % 28,
		 s / 3600 % 24, s / 60 % 60, s % 60, g->ns % 1000000000ULL);
}

/* "process": ..., "user": ..., "group": ... of one of the humans and programs. */
static void who(FILE *f, int user, int prog, unsigned int pid, const char *arg)
{
	fprintf(
	    f,
	    "\"process\":{\"pid\":%u,\"thread\":{\"id\":%u},\"name\":\"%s\",\"executable\":\"%s\","
	    "\"args\":[\"%s\",\"%s\"],\"args_count\":2,\"start\":\"2026-12-01T00:00:00."
	    "000000000Z\","
	    "\"parent\":{\"pid\":%u},\"session_id\":%d},\"user\":{\"id\":\"0\",\"name\":\"root\","
	    "\"effective\":{\"id\":\"0\",\"name\":\"root\"},\"audit\":{\"id\":\"%d\",\"name\":"
	    "\"user%02d\"}},\"group\":{\"id\":\"0\",\"name\":\"root\",\"effective\":{\"id\":\"0\"}}"
	    ","
	    "\"host\":{\"name\":\"db-host-1\"},",
	    pid, pid, programs[prog][0], programs[prog][1], programs[prog][0], arg, pid - 1,
	    200 + user, 1000 + user, user);
}

static void file_event(FILE *f, struct gen *g, bool close)
{
	int user = next(g) % N_USERS, prog = next(g) % N_PROGRAMS, file = next(g) % N_FILES;
	unsigned int pid = 10000 + next(g) % 50000, bytes = next(g) % 1000000;
	char ts[40], path[64];

	stamp(g, ts);
	snprintf(path, sizeof(path), "/srv/crm/export/customers-%04d.csv", file);
	fprintf(
	    f,
	    "{\"@timestamp\":\"%s\",\"event\":{\"kind\":\"event\",\"category\":\"file\","
	    "\"type\":[\"access\"],\"action\":\"%s\",\"outcome\":\"success\"},\"file\":{\"path\":"
	    "\"%s\",\"name\":\"customers-%04d.csv\",\"directory\":\"/srv/crm/export\",\"inode\":"
	    "\"%d\",\"device\":\"254:0\",\"type\":\"file\",\"mode\":\"0640\",\"uid\":\"0\",\"gid\":"
	    "\"0\",\"owner\":\"root\",\"group\":\"root\"%s},",
	    ts, close ? "close" : "open", path, file, 11000000 + file,
	    close ? "" : ",\"size\":1000000");
	who(f, user, prog, pid, path);
	if (close)
		fprintf(f,
			"\"custos\":{\"rule\":\"crm\",\"tags\":[\"pii\"],\"open_id\":%llu,\"io\":{"
			"\"bytes_read\":%u,\"read_calls\":%u,\"bytes_written\":0,\"write_calls\":0,"
			"\"total_bytes_read\":%u,\"total_bytes_written\":0},\"close\":{\"reason\":"
			"\"close\",\"final\":true},\"process\":{\"cgroup_id\":1},\"seq\":%llu,"
			"\"schema_version\":1}}\n",
			g->open_id, bytes, bytes / 4096 + 1, bytes, g->seq);
	else
		fprintf(
		    f,
		    "\"custos\":{\"rule\":\"crm\",\"tags\":[\"pii\"],\"open_id\":%llu,\"open\":{"
		    "\"flags\":[\"O_RDONLY\"],\"fd\":3},\"process\":{\"cgroup_id\":1},\"seq\":%llu,"
		    "\"schema_version\":1}}\n",
		    ++g->open_id, g->seq);
}

static void query_event(FILE *f, struct gen *g)
{
	int user = next(g) % N_USERS, table = next(g) % N_TABLES;
	unsigned int pid = 10000 + next(g) % 50000, rows = next(g) % 5000;
	char ts[40];

	stamp(g, ts);
	fprintf(
	    f,
	    "{\"@timestamp\":\"%s\",\"event\":{\"kind\":\"event\",\"category\":\"database\","
	    "\"type\":[\"access\"],\"action\":\"query\",\"outcome\":\"success\",\"duration\":%u},",
	    ts, 10000 + rows * 7);
	who(f, user, 2, pid, "-c");
	fprintf(f,
		"\"db\":{\"system\":\"postgresql\",\"query\":{\"text\":\"select id, name, email, "
		"phone from crm.customers_%02d c join crm.orders o on o.customer_id = c.id where "
		"c.region = ? and o.created_at > ?\"},\"operation\":{\"name\":\"SELECT\"},"
		"\"collection\":{\"name\":\"crm.customers_%02d\"},\"namespace\":\"crm\",\"user\":"
		"\"app\",\"response\":{\"returned_rows\":%u}},\"server\":{\"address\":\"10.1.2.3\","
		"\"port\":5432},\"custos\":{\"tags\":[\"customer-data\"],\"db\":{\"source\":"
		"\"library\",\"tables\":[\"crm.customers_%02d\",\"crm.orders\"],\"customer_data\":"
		"true},\"process\":{\"cgroup_id\":1},\"seq\":%llu,\"schema_version\":1}}\n",
		table, table, rows, table, g->seq);
}

static void net_event(FILE *f, struct gen *g)
{
	int user = next(g) % N_USERS, endpoint = next(g) % N_ENDPOINTS;
	unsigned int pid = 10000 + next(g) % 50000, in = next(g) % 100000, out = next(g) % 2000;
	char ts[40];

	stamp(g, ts);
	fprintf(f,
		"{\"@timestamp\":\"%s\",\"event\":{\"kind\":\"event\",\"category\":\"network\","
		"\"type\":[\"connection\",\"end\"],\"action\":\"close\",\"outcome\":\"success\"},",
		ts);
	who(f, user, 7, pid, "https://crm-api/export");
	fprintf(
	    f,
	    "\"source\":{\"ip\":\"10.0.0.7\",\"port\":%u},\"destination\":{\"ip\":\"10.1.2.%d\","
	    "\"port\":443},\"network\":{\"transport\":\"tcp\",\"type\":\"ipv4\",\"direction\":"
	    "\"egress\"},\"custos\":{\"rule\":\"crm-api-%d\",\"tags\":[\"customer-data\"],"
	    "\"open_id\":%llu,\"io\":{\"bytes_sent\":%u,\"send_calls\":2,\"bytes_received\":%u,"
	    "\"recv_calls\":9,\"total_bytes_sent\":%u,\"total_bytes_received\":%u},\"close\":{"
	    "\"reason\":\"close\",\"final\":true},\"process\":{\"cgroup_id\":1},\"seq\":%llu,"
	    "\"schema_version\":1}}\n",
	    30000 + pid % 30000, endpoint, endpoint, ++g->open_id, out, in, out, in, g->seq);
}

/* The stream, of at least mb 10^6 bytes: 35% opens, 35% closes, 20% statements, 10% network. */
static int write_stream(const char *path, unsigned long long mb)
{
	struct gen g = {.rng = 42};
	FILE *f = fopen(path, "we");
	unsigned int kind;

	if (!f)
		return -errno;
	while ((unsigned long long)ftell(f) < mb * 1000000ULL) {
		g.seq++;
		g.ns += 1000000 + next(&g) % 1000000;
		kind = next(&g) % 20;
		if (kind < 7)
			file_event(f, &g, false);
		else if (kind < 14)
			file_event(f, &g, true);
		else if (kind < 18)
			query_event(f, &g);
		else
			net_event(f, &g);
	}
	return fclose(f) ? -errno : 0;
}

static int gzip_copy(const char *from, const char *to)
{
	char buf[1 << 16];
	FILE *in = fopen(from, "re");
	gzFile out = gzopen(to, "wb6e");
	size_t n;
	int ret = 0;

	if (!in || !out) {
		ret = -EIO;
		goto close;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (gzwrite(out, buf, n) != (int)n)
			ret = -EIO;
close:
	if (in)
		fclose(in);
	if (out && gzclose(out) != Z_OK)
		ret = -EIO;
	return ret;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs custos report ARGS FILE > /dev/null; its CPU seconds and wall seconds; -1 if it failed. */
static int time_report(const char *agent, const char *by, const char *file, double *cpu,
		       double *secs)
{
	struct rusage ru;
	double t0 = wall();
	int status, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(127);
		execl(agent, agent, "report", "--json", "--by", by, file, (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	*secs = wall() - t0;
	*cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
	return 0;
}

int main(int argc, char **argv)
{
	const char *agent = NULL, *dir = "/tmp/custos-reportbench";
	unsigned long long mb = 256;
	int rounds = 3, opt, i, j;
	char plain[4096], zipped[4096];
	struct stat st;
	struct {
		const char *what, *by, *file;
	} runs[] = {
	    {"plain, --by user", "user", plain},
	    {"plain, --by table", "table", plain},
	    {"gzip, --by user", "user", zipped},
	};

	while ((opt = getopt(argc, argv, "a:d:m:r:")) != -1) {
		switch (opt) {
		case 'a':
			agent = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'm':
			mb = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			agent = NULL;
			optind = argc;
			break;
		}
	}
	if (!agent || mb == 0 || rounds < 1) {
		fprintf(stderr, "usage: custos-reportbench -a build/custos [-d DIR] [-m MB] [-r "
				"ROUNDS]\n");
		return 2;
	}
	snprintf(plain, sizeof(plain), "%s/events.ndjson", dir);
	snprintf(zipped, sizeof(zipped), "%s/events.ndjson.gz", dir);
	if ((mkdir(dir, 0700) && errno != EEXIST) || write_stream(plain, mb) ||
	    gzip_copy(plain, zipped) || stat(plain, &st)) {
		fprintf(stderr, "custos-reportbench: cannot write the stream in %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	printf("custos report: %.0f MB of events (%s), best of %d rounds\n", st.st_size / 1e6,
	       plain, rounds);
	printf("  %-20s %8s %8s %10s %12s\n", "", "CPU s", "wall s", "MB/s CPU", "GB/min CPU");
	for (i = 0; i < (int)(sizeof(runs) / sizeof(runs[0])); i++) {
		double best_cpu = 1e30, best_wall = 1e30, cpu, secs;

		for (j = 0; j < rounds; j++) {
			if (time_report(agent, runs[i].by, runs[i].file, &cpu, &secs)) {
				fprintf(stderr, "custos-reportbench: %s report %s failed\n", agent,
					runs[i].file);
				return 1;
			}
			if (cpu < best_cpu)
				best_cpu = cpu;
			if (secs < best_wall)
				best_wall = secs;
		}
		printf("  %-20s %8.2f %8.2f %10.1f %12.2f\n", runs[i].what, best_cpu, best_wall,
		       st.st_size / best_cpu / 1e6, st.st_size / best_cpu * 60 / 1e9);
	}
	unlink(plain);
	unlink(zipped);
	rmdir(dir);
	return 0;
}
