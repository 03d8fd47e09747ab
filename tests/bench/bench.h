/* SPDX-License-Identifier: GPL-2.0 */
/* What bench.c (the suite, the agent) and dbbench.c (its database part) share. */
#ifndef CUSTOS_BENCH_H
#define CUSTOS_BENCH_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>

#define NSEC_PER_SEC	   1000000000ULL
#define ROUNDS_MAX	   101
#define DB_DEFAULT_QUERIES 10000

/* The bench's own database statements: as executed, or as the agent's events show them. */
struct db_counts {
	uint64_t pg;	      /* statements through libpq */
	uint64_t sqlite;      /* SQLite statements stepped */
	uint64_t sqlite_rows; /* the rows they returned */
};

struct counter {
	uint64_t bytes, lines, opens, closes, other;
	char *last; /* the last line that is neither an open, a close nor a query */
	size_t last_len;
	const char *track; /* if set, a close line containing it is remembered */
	uint64_t track_total;
	bool track_seen;
	struct db_counts db; /* query events of the bench's own process */
	atomic_bool ready;   /* saw "agent-start" */
	char *buf;
	size_t len;
};

struct suite {
	const char *agent;
	char dir[PATH_MAX], config[PATH_MAX + 32], log[PATH_MAX + 32];
	char unwatched[PATH_MAX + 32], watched[PATH_MAX + 32], data[PATH_MAX + 32];
	long rounds, n, rate, seconds;
	int cpu;      /* pin the measuring thread to it, or -1 */
	bool db;      /* run the database part */
	bool db_only; /* and nothing else */
	long db_rounds, db_queries;
	const char *pg;	    /* libpq connection string of the server to query, or NULL */
	const char *pg_tls; /* the same server over TCP and TLS, or NULL */
};

struct agent {
	pid_t pid;
	int fd; /* the read end of its stdout */
	pthread_t reader;
	struct counter out;
	atomic_bool eof;
	int read_errno;
	int status;
	struct rusage ru;
	double stop_seconds; /* from SIGINT to its exit: the drain */
};

/* bench.c */
uint64_t now_ns(void);
void __attribute__((format(printf, 1, 2), noreturn)) fail(const char *fmt, ...);
double median(double *v, long n);
double tv_sec(struct timeval tv);
bool check_others(void);
bool find_u64(const char *s, const char *after, const char *key, uint64_t *v);
bool proc_cpu(pid_t pid, double *user, double *sys);
void write_config(const struct suite *s, const char *path, const char *databases);
void agent_start(struct agent *a, const struct suite *s, const char *config, const char *track);
void agent_stop(struct agent *a);
bool agent_summary(const struct agent *a, uint64_t *drops);
void counter_free(struct counter *k);

/* bare.c: the bare monitor (bare.bpf.c), loaded into this process; NULL on failure, said. */
struct bare_bpf;
struct bare_bpf *bare_start(void);
void bare_stop(struct bare_bpf *bare);

/*
 * probecost.c: what a probe hit costs (empty programs on a trivial function),
 * the agent's database probes counted (run_cnt) and their sites copied.
 */
#define PRICE_TARGETS_MAX 2  /* trivial functions: one per kind of first instruction */
#define PROG_SET_MAX	  64 /* the agent's database programs (compat: one per function) */
#define SITES_MAX	  64 /* the agent's uprobe_multi links */

/* ns per call: the bare call, then what an entry probe, a return probe, both add. */
enum { PRICE_CALL, PRICE_ENTRY, PRICE_RETURN, PRICE_BOTH, PRICES };

/* Probe programs whose runs are counted: fd[0] run at entries, fd[1] at returns. */
struct prog_set {
	int fd[2][PROG_SET_MAX];
	int n[2];
};

/* run_cnt of a prog_set's entry and return programs, and their run_time_ns. */
struct prog_counts {
	uint64_t hits[2];
	uint64_t run_ns;
};

/* One of the agent's uprobe_multi links: a file, offsets in it, at entry or at return. */
struct probe_site {
	char *path;
	uint64_t *offsets;
	uint32_t n;
	bool at_return;
};

struct probe_sites {
	struct probe_site s[SITES_MAX];
	size_t n;
};

struct probecost;
struct probecost *probecost_open(void); /* NULL: said why on stderr */
void probecost_close(struct probecost *p);
int probecost_targets(void);
const char *probecost_label(int t);
int probecost_price(struct probecost *p, int t, double ns[PRICES]);
int probecost_copy(struct probecost *p, const struct probe_sites *sites);
void probecost_uncopy(struct probecost *p);
const struct prog_set *probecost_progs(const struct probecost *p);
int agent_probes_find(pid_t pid, struct prog_set *progs, struct probe_sites *sites);
void progs_read(const struct prog_set *progs, struct prog_counts *c);
void progs_free(struct prog_set *progs);
void probe_sites_free(struct probe_sites *sites);

/* dbbench.c */
void db_count_query(struct counter *k, char *line, size_t n);
void db_bench(const struct suite *s);

#endif
