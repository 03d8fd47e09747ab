// SPDX-License-Identifier: GPL-2.0
/*
 * The database part of custos-bench suite: what the agent's uprobes on the
 * client libraries cost the statements they watch. Numbers, never pass/fail.
 *
 *   libpq   point queries (PQexec) over one connection per phase, to the
 *           PostgreSQL server --pg names (scripts/bench.sh runs one on a
 *           unix socket in the bench directory)
 *   SQLite  point lookups (prepare, step, finalize) and full scans of a
 *           100,000-row table, in memory in the bench itself
 *
 * Each round measures them without the agent, with the agent on the suite's
 * config (the databases at their defaults: "sqlite_rows" counts rows with a
 * uprobe on every sqlite3_step), then SQLite again with "sqlite_rows": false.
 * The agent's query events from this process are counted against the
 * statements the bench ran while the agent listened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "bench.h"

#define PG_ROWS	      1000   /* the PostgreSQL table */
#define LITE_ROWS     100000 /* the SQLite table */
#define LITE_SCANS    5	     /* timed scans per phase, after one more to warm up */
#define POINT_QUERY   "SELECT id, email FROM customers WHERE id = %ld"
#define NOROWS_CONFIG "custos-norows.json"

#define CUSTOMERS_TABLE \
	"CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL, name text NOT NULL)"
#define CUSTOMERS_ROW "'customer' || i || '@example.com', 'Customer ' || i"

static const char pg_schema[] =
    "SET client_min_messages TO warning; DROP TABLE IF EXISTS customers; " CUSTOMERS_TABLE ";"
    "INSERT INTO customers SELECT i, " CUSTOMERS_ROW
    " FROM generate_series(1, 1000) i; ANALYZE customers";
static const char lite_schema[] =
    CUSTOMERS_TABLE "; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < "
		    "100000) INSERT INTO customers SELECT i, " CUSTOMERS_ROW " FROM n";

enum { DB_PG, DB_LOOKUP, DB_SCAN, DB_WORKLOADS };
/* Without the agent, with it (rows counted), with it and "sqlite_rows": false. */
enum { WITHOUT, ROWS, NO_ROWS, PHASES };

/* What one agent saw, against what the bench ran while it listened. */
struct db_run {
	struct db_counts sent, seen;
	uint64_t drops;
	bool have_stop;
	double cpu; /* the agent's, while the bench measured */
};

struct db_round {
	double t[PHASES][DB_WORKLOADS]; /* µs per query; ns per row for the scans */
	struct db_run run[PHASES];	/* ROWS, NO_ROWS */
	bool others;			/* another custos ran during the round */
};

struct dbb {
	const struct suite *s;
	char norows[PATH_MAX + 32]; /* the agent's config without row counting */
	const char *pg;		    /* libpq conninfo, or NULL: no libpq workload */
	int pg_version;
	sqlite3 *lite;
	long n, warm;
	struct db_counts sent; /* statements run since the last reset */
	struct db_round rounds[ROUNDS_MAX];
};

/* "\"process\":{\"pid\":N," of the bench: its own events only. */
static char own_pid[48];

/* A query event (count_line in the reader thread): counted if it is the bench's. */
void db_count_query(struct counter *k, char *line, size_t n)
{
	uint64_t rows;

	line[n] = '\0'; /* the '\n': count_line's buffer always has room */
	if (!own_pid[0] || !strstr(line, own_pid))
		return;
	if (strstr(line, "\"system\":\"postgresql\"")) {
		k->db.pg++;
	} else if (strstr(line, "\"system\":\"sqlite\"")) {
		k->db.sqlite++;
		if (find_u64(line, "\"response\":", "\"returned_rows\":", &rows))
			k->db.sqlite_rows += rows;
	}
}

/* ---- libpq ------------------------------------------------------------------------------ */

static PGconn *pg_connect(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK)
		fail("PostgreSQL (%s): %s", conninfo, PQerrorMessage(c));
	return c;
}

static void pg_setup(struct dbb *d)
{
	PGconn *c = pg_connect(d->pg);
	PGresult *r = PQexec(c, pg_schema);

	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail("PostgreSQL: creating the table: %s", PQerrorMessage(c));
	PQclear(r);
	d->pg_version = PQserverVersion(c);
	PQfinish(c);
}

static void pg_query(PGconn *c, long i)
{
	char sql[sizeof(POINT_QUERY) + 24];
	PGresult *r;

	snprintf(sql, sizeof(sql), POINT_QUERY, i % PG_ROWS + 1);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		fail("PostgreSQL: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* The point queries over a fresh connection, after a warm-up; µs per query. */
static double bench_pg(struct dbb *d)
{
	PGconn *c = pg_connect(d->pg);
	uint64_t t0 = 0;
	long i;

	for (i = 0; i < d->warm + d->n; i++) {
		if (i == d->warm)
			t0 = now_ns();
		pg_query(c, i);
	}
	t0 = now_ns() - t0;
	PQfinish(c);
	d->sent.pg += d->warm + d->n;
	return t0 / 1e3 / d->n;
}

/* ---- SQLite ----------------------------------------------------------------------------- */

static void lite_setup(struct dbb *d)
{
	char *err = NULL;

	if (sqlite3_open(":memory:", &d->lite) != SQLITE_OK)
		fail("SQLite: cannot open a database in memory");
	if (sqlite3_exec(d->lite, lite_schema, NULL, NULL, &err) != SQLITE_OK)
		fail("SQLite: creating the table: %s", err);
}

static sqlite3_stmt *lite_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail("SQLite: %s: %s", sql, sqlite3_errmsg(db));
	return st;
}

static void lite_lookup(struct dbb *d, long i)
{
	char sql[sizeof(POINT_QUERY) + 24];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), POINT_QUERY, i % LITE_ROWS + 1);
	st = lite_prepare(d->lite, sql);
	if (sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_text(st, 1) ||
	    sqlite3_step(st) != SQLITE_DONE)
		fail("SQLite: %s: %s", sql, sqlite3_errmsg(d->lite));
	sqlite3_finalize(st);
	d->sent.sqlite++;
	d->sent.sqlite_rows++;
}

/* Every row, reading its columns as an application would. */
static void lite_scan(struct dbb *d)
{
	sqlite3_stmt *st = lite_prepare(d->lite, "SELECT id, email, name FROM customers");
	long rows = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) <= 0 || !sqlite3_column_text(st, 1) ||
		    !sqlite3_column_text(st, 2))
			break;
		rows++;
	}
	if (rc != SQLITE_DONE || rows != LITE_ROWS)
		fail("SQLite: the scan stopped after %ld rows: %s", rows, sqlite3_errmsg(d->lite));
	sqlite3_finalize(st);
	d->sent.sqlite++;
	d->sent.sqlite_rows += rows;
}

/* The point lookups after a warm-up; µs per lookup. */
static double bench_lookup(struct dbb *d)
{
	uint64_t t0 = 0;
	long i;

	for (i = 0; i < d->warm + d->n; i++) {
		if (i == d->warm)
			t0 = now_ns();
		lite_lookup(d, i);
	}
	return (now_ns() - t0) / 1e3 / d->n;
}

/* LITE_SCANS scans after one to warm up; ns per row. */
static double bench_scan(struct dbb *d)
{
	uint64_t t0 = 0;
	int i;

	for (i = 0; i <= LITE_SCANS; i++) {
		if (i == 1)
			t0 = now_ns();
		lite_scan(d);
	}
	return (double)(now_ns() - t0) / ((double)LITE_SCANS * LITE_ROWS);
}

/* ---- the rounds ------------------------------------------------------------------------- */

static void measure(struct dbb *d, double *t, bool pg)
{
	if (pg && d->pg)
		t[DB_PG] = bench_pg(d);
	t[DB_LOOKUP] = bench_lookup(d);
	t[DB_SCAN] = bench_scan(d);
}

/* One phase with the agent on CONFIG: the times into T, what it saw into RUN. */
static void with_agent(struct dbb *d, const char *config, double *t, bool pg, struct db_run *run)
{
	double user0 = 0, sys0 = 0, user = 0, sys = 0;
	bool mark;
	struct agent a;

	agent_start(&a, d->s, config, NULL);
	mark = proc_cpu(a.pid, &user0, &sys0);
	memset(&d->sent, 0, sizeof(d->sent));
	measure(d, t, pg);
	run->sent = d->sent;
	if (mark)
		mark = proc_cpu(a.pid, &user, &sys);
	agent_stop(&a);
	run->seen = a.out.db;
	run->have_stop = agent_summary(&a, &run->drops);
	run->cpu = mark ? user - user0 + sys - sys0 : -1;
	counter_free(&a.out);
}

static void run_round(struct dbb *d, struct db_round *r)
{
	r->others = check_others();
	measure(d, r->t[WITHOUT], true);
	r->others |= check_others();
	with_agent(d, d->s->config, r->t[ROWS], true, &r->run[ROWS]);
	with_agent(d, d->norows, r->t[NO_ROWS], false, &r->run[NO_ROWS]);
	r->others |= check_others();
}

/* ---- the report ------------------------------------------------------------------------- */

static const struct {
	const char *name, *unit;
	int w, phase;
} table[] = {
    {"libpq point query", "us/query", DB_PG, ROWS},
    {"SQLite point lookup", "us/query", DB_LOOKUP, ROWS},
    {"  sqlite_rows false", "us/query", DB_LOOKUP, NO_ROWS},
    {"SQLite scan", "ns/row", DB_SCAN, ROWS},
    {"  sqlite_rows false", "ns/row", DB_SCAN, NO_ROWS},
};

static void print_header(const struct dbb *d)
{
	printf("\ndatabase clients, %ld rounds: without the agent, with it (default config: every "
	       "engine,\nsqlite_rows true), with it and sqlite_rows false (SQLite only)\n",
	       d->s->db_rounds);
	if (d->pg)
		printf(
		    "  libpq   %ld point queries (PQexec), one connection, PostgreSQL %d.%d on a "
		    "unix socket\n",
		    d->n, d->pg_version / 10000, d->pg_version % 10000);
	else
		printf("  libpq   not measured (no --pg)\n");
	printf("  SQLite  %s in memory: %ld point lookups (prepare, step, finalize), %d scans of "
	       "%d rows\n",
	       sqlite3_libversion(), d->n, LITE_SCANS, LITE_ROWS);
	printf("  each after a warm-up of %ld queries or 1 scan, not timed\n", d->warm);
}

static void print_overhead(const struct dbb *d)
{
	double without[ROUNDS_MAX], with[ROUNDS_MAX], diff[ROUNDS_MAX], ratio[ROUNDS_MAX];
	long rounds = d->s->db_rounds, i;
	double lo, hi;
	char range[32];
	size_t k;

	printf("\n%-22s %-9s %9s %9s %9s %7s %14s\n", "workload", "unit", "without", "with",
	       "overhead", "ratio", "(min-max)");
	for (k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
		if (table[k].w == DB_PG && !d->pg)
			continue;
		for (i = 0; i < rounds; i++) {
			const struct db_round *r = &d->rounds[i];

			without[i] = r->t[WITHOUT][table[k].w];
			with[i] = r->t[table[k].phase][table[k].w];
			diff[i] = with[i] - without[i];
			ratio[i] = with[i] / without[i];
		}
		lo = hi = ratio[0];
		for (i = 1; i < rounds; i++) {
			lo = ratio[i] < lo ? ratio[i] : lo;
			hi = ratio[i] > hi ? ratio[i] : hi;
		}
		snprintf(range, sizeof(range), "(%.2f-%.2f)", lo, hi);
		printf("%-22s %-9s %9.2f %9.2f %+9.2f %6.2fx %14s\n", table[k].name, table[k].unit,
		       median(without, rounds), median(with, rounds), median(diff, rounds),
		       median(ratio, rounds), range);
	}
	printf("without, with: medians over %ld rounds; overhead, ratio: medians of the per-round\n"
	       "with-without and with/without\n",
	       rounds);
}

/* "without -> with (ratio)", then " | with (ratio)" for sqlite_rows false. */
static void print_times(const struct db_round *r, int w, bool norows)
{
	printf("   %8.2f -> %8.2f (%5.2f)", r->t[WITHOUT][w], r->t[ROWS][w],
	       r->t[ROWS][w] / r->t[WITHOUT][w]);
	if (norows)
		printf(" | %8.2f (%5.2f)", r->t[NO_ROWS][w], r->t[NO_ROWS][w] / r->t[WITHOUT][w]);
}

static void print_rounds(const struct dbb *d)
{
	long i;

	printf(
	    "\nper round: without -> with (ratio); SQLite: ... | with sqlite_rows false (ratio)\n");
	printf("%5s", "round");
	if (d->pg)
		printf("   %-29s", "libpq us/query");
	printf("   %-46s   %s\n", "SQLite lookup us/query", "SQLite scan ns/row");
	for (i = 0; i < d->s->db_rounds; i++) {
		const struct db_round *r = &d->rounds[i];

		printf("%4ld%c", i + 1, r->others ? '*' : ' ');
		if (d->pg)
			print_times(r, DB_PG, false);
		print_times(r, DB_LOOKUP, true);
		print_times(r, DB_SCAN, true);
		printf("\n");
	}
}

/* "seen/sent", marked when they differ. */
static const char *fraction(char *buf, size_t cap, uint64_t seen, uint64_t sent)
{
	snprintf(buf, cap, "%llu/%llu%s", (unsigned long long)seen, (unsigned long long)sent,
		 seen == sent ? "" : " !");
	return buf;
}

static void print_events(const struct dbb *d)
{
	char pg[48], on[48], rows[48], off[48], drops[48], cpu[48];
	long i;

	printf("\nthe agent's query events for the bench's statements: events/statements run "
	       "while it listened\n");
	printf("%5s %16s %16s %22s %16s %14s %15s\n", "round", "postgresql", "sqlite",
	       "sqlite returned_rows", "sqlite, rows off", "ringbuf_drops", "agent CPU");
	for (i = 0; i < d->s->db_rounds; i++) {
		const struct db_run *r = &d->rounds[i].run[ROWS], *o = &d->rounds[i].run[NO_ROWS];

		if (r->have_stop && o->have_stop)
			snprintf(drops, sizeof(drops), "%llu | %llu", (unsigned long long)r->drops,
				 (unsigned long long)o->drops);
		else
			snprintf(drops, sizeof(drops), "?");
		snprintf(cpu, sizeof(cpu), "%.2f | %.2f s", r->cpu, o->cpu);
		printf("%5ld %16s %16s %22s %16s %14s %15s\n", i + 1,
		       fraction(pg, sizeof(pg), r->seen.pg, r->sent.pg),
		       fraction(on, sizeof(on), r->seen.sqlite, r->sent.sqlite),
		       fraction(rows, sizeof(rows), r->seen.sqlite_rows, r->sent.sqlite_rows),
		       fraction(off, sizeof(off), o->seen.sqlite, o->sent.sqlite), drops, cpu);
	}
	printf(
	    "warm-ups included; ! marks a difference. returned_rows: the sum of\n"
	    "db.response.returned_rows against the rows stepped. ringbuf_drops, agent CPU (while\n"
	    "the bench measured): with the default config | with sqlite_rows false\n");
}

void db_bench(const struct suite *s)
{
	static struct dbb d;
	uint64_t t;
	long i;

	d.s = s;
	d.pg = s->pg;
	d.n = s->db_queries;
	d.warm = s->db_queries / 10;
	snprintf(own_pid, sizeof(own_pid), "\"process\":{\"pid\":%d,", getpid());
	snprintf(d.norows, sizeof(d.norows), "%s/" NOROWS_CONFIG, s->dir);
	write_config(s, d.norows, "{\"sqlite_rows\": false}");
	if (d.pg)
		pg_setup(&d);
	lite_setup(&d);
	print_header(&d);
	fflush(stdout);

	for (i = 0; i < s->db_rounds; i++) {
		t = now_ns();
		run_round(&d, &d.rounds[i]);
		fprintf(stderr, "  database round %ld/%ld: %.1f s\n", i + 1, s->db_rounds,
			(double)(now_ns() - t) / NSEC_PER_SEC);
	}
	print_overhead(&d);
	print_rounds(&d);
	print_events(&d);
	for (i = 0; i < s->db_rounds; i++)
		if (d.rounds[i].others) {
			printf("* another custos was running during the round: its numbers are "
			       "skewed\n");
			break;
		}
	sqlite3_close(d.lite);
	unlink(d.norows);
}
