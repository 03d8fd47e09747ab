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
 *
 * Where the overhead goes (probecost.c): with BPF_STATS_RUN_TIME on, the
 * run_cnt of the agent's database programs counts the probe hits of each
 * timed loop, and their run_time_ns the time in them. Each round then runs
 * the workloads again with empty programs on a copy of the agent's probe
 * sites (its uprobe_multi links, read from the kernel) and no agent: what
 * the same hits cost without the agent's work. And it prices one hit: the
 * empty programs on a trivial function of the bench, called in a loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "bench.h"

#define PG_ROWS	      1000   /* the PostgreSQL table */
#define LITE_ROWS     100000 /* the SQLite table */
#define LITE_SCANS    5	     /* timed scans per phase, after one more to warm up */
#define POINT_QUERY   "SELECT id, email FROM customers WHERE id = %ld"
#define NOROWS_CONFIG "custos-norows.json"
#define WIRE_CONFIG   "custos-wire.json"
#define BULK_QUERY    "SELECT i, 'customer' || i || '@example.com' FROM generate_series(1, 100000) i"
#define BULK_ROWS     100000
#define BULK_QUERIES  3 /* timed per phase, after one more to warm up */

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

enum { DB_PG, DB_LOOKUP, DB_SCAN, DB_PG_BULK, DB_PG_TLS, DB_WORKLOADS };
/*
 * Without the agent, with it (rows counted), with it and "sqlite_rows": false,
 * then the empty probes on a copy of the sites of the agent of ROWS, of NO_ROWS;
 * then with the agent parsing PostgreSQL's protocol on the server's socket
 * (an endpoint with "parse", the libpq probes off: the wire reports them).
 */
enum { WITHOUT, ROWS, NO_ROWS, EMPTY, EMPTY_NO_ROWS, WIRE, PHASES };

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
	bool ran[PHASES];		/* EMPTY*: the copy of the agent's probes was attached */
	bool counted[PHASES];		/* the phase's probe programs were found and counted */
	struct prog_counts used[PHASES][DB_WORKLOADS]; /* their runs in each timed loop */
	bool priced;
	double price[PRICE_TARGETS_MAX][PRICES]; /* ns per call, by trivial function */
};

struct dbb {
	const struct suite *s;
	char norows[PATH_MAX + 32]; /* the agent's config without row counting */
	char wire[PATH_MAX + 32];   /* the agent's config parsing the server's socket */
	const char *pg;		    /* libpq conninfo, or NULL: no libpq workload */
	const char *pg_tls;	    /* the same over TCP and TLS, or NULL */
	int pg_version;
	sqlite3 *lite;
	long n, warm;
	struct db_counts sent; /* statements run since the last reset */
	struct db_round rounds[ROUNDS_MAX];
	struct probecost *pc;		  /* the empty probes, or NULL: not loaded */
	bool stats;			  /* BPF_STATS_RUN_TIME is on: run_cnt counts */
	struct probe_sites sites[PHASES]; /* ROWS, NO_ROWS: where their agent probed */
	const struct prog_set *count;	  /* the programs to count in the timed loops, or NULL */
	struct prog_counts *used;	  /* where to put their counts, by workload */
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

/* ---- counting the probe programs' runs -------------------------------------------------- */

/* The counted programs' runs so far, just before a timed loop starts. */
static void count_start(const struct dbb *d, struct prog_counts *c)
{
	if (d->count)
		progs_read(d->count, c);
}

/* The runs since count_start, just after the timed loop of workload w ended. */
static void count_stop(const struct dbb *d, int w, const struct prog_counts *c0)
{
	struct prog_counts c;

	if (!d->count)
		return;
	progs_read(d->count, &c);
	d->used[w].hits[0] = c.hits[0] - c0->hits[0];
	d->used[w].hits[1] = c.hits[1] - c0->hits[1];
	d->used[w].run_ns = c.run_ns - c0->run_ns;
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

/* The point queries over a fresh connection (to conninfo), after a warm-up; µs per query. */
static double bench_pg(struct dbb *d, const char *conninfo, int workload)
{
	PGconn *c = pg_connect(conninfo);
	struct prog_counts c0;
	uint64_t t0 = 0;
	long i;

	for (i = 0; i < d->warm + d->n; i++) {
		if (i == d->warm) {
			count_start(d, &c0);
			t0 = now_ns();
		}
		pg_query(c, i);
	}
	t0 = now_ns() - t0;
	count_stop(d, workload, &c0);
	PQfinish(c);
	d->sent.pg += d->warm + d->n;
	return t0 / 1e3 / d->n;
}

/* The 100,000-row SELECT, BULK_QUERIES times after a warm-up; ns per row. */
static double bench_pg_bulk(struct dbb *d)
{
	PGconn *c = pg_connect(d->pg);
	struct prog_counts c0;
	uint64_t t0 = 0;
	PGresult *r;
	int i;

	for (i = 0; i < 1 + BULK_QUERIES; i++) {
		if (i == 1) {
			count_start(d, &c0);
			t0 = now_ns();
		}
		r = PQexec(c, BULK_QUERY);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != BULK_ROWS)
			fail("PostgreSQL: %s: %s", BULK_QUERY, PQerrorMessage(c));
		PQclear(r);
	}
	t0 = now_ns() - t0;
	count_stop(d, DB_PG_BULK, &c0);
	PQfinish(c);
	d->sent.pg += 1 + BULK_QUERIES;
	return (double)t0 / BULK_QUERIES / BULK_ROWS;
}

/*
 * The config of the WIRE phase: the server's unix socket an endpoint to
 * parse, and its TCP port (over TLS: read through libssl's probes).
 */
static void write_wire_config(struct dbb *d)
{
	PGconn *c = pg_connect(d->pg), *t = d->pg_tls ? pg_connect(d->pg_tls) : NULL;
	FILE *f = fopen(d->wire, "w");

	if (!f)
		fail("cannot write %s: %s", d->wire, strerror(errno));
	fprintf(f,
		"{\"watch\": [{\"name\": \"bench\", \"paths\": [\"%s/watched\"]}],\n"
		" \"databases\": {\"postgresql\": false},\n"
		" \"endpoints\": [{\"name\": \"bench-db\", \"unix\": \"%s/.s.PGSQL.%s\", "
		"\"parse\": \"postgresql\"}",
		d->s->dir, PQhost(c), PQport(c));
	if (t)
		fprintf(f,
			",\n   {\"name\": \"bench-db-tls\", \"address\": \"%s\", \"port\": %s, "
			"\"parse\": \"postgresql\"}",
			PQhost(t), PQport(t));
	fprintf(f, "]}\n");
	PQfinish(c);
	if (t)
		PQfinish(t);
	if (fclose(f))
		fail("cannot write %s: %s", d->wire, strerror(errno));
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
	struct prog_counts c0;
	uint64_t t0 = 0;
	long i;

	for (i = 0; i < d->warm + d->n; i++) {
		if (i == d->warm) {
			count_start(d, &c0);
			t0 = now_ns();
		}
		lite_lookup(d, i);
	}
	t0 = now_ns() - t0;
	count_stop(d, DB_LOOKUP, &c0);
	return t0 / 1e3 / d->n;
}

/* LITE_SCANS scans after one to warm up; ns per row. */
static double bench_scan(struct dbb *d)
{
	struct prog_counts c0;
	uint64_t t0 = 0;
	int i;

	for (i = 0; i <= LITE_SCANS; i++) {
		if (i == 1) {
			count_start(d, &c0);
			t0 = now_ns();
		}
		lite_scan(d);
	}
	t0 = now_ns() - t0;
	count_stop(d, DB_SCAN, &c0);
	return (double)t0 / ((double)LITE_SCANS * LITE_ROWS);
}

/* ---- the rounds ------------------------------------------------------------------------- */

static void measure(struct dbb *d, double *t, bool pg)
{
	if (pg && d->pg) {
		t[DB_PG] = bench_pg(d, d->pg, DB_PG);
		t[DB_PG_BULK] = bench_pg_bulk(d);
		if (d->pg_tls)
			t[DB_PG_TLS] = bench_pg(d, d->pg_tls, DB_PG_TLS);
	}
	t[DB_LOOKUP] = bench_lookup(d);
	t[DB_SCAN] = bench_scan(d);
}

/* Says once why a part of the split of the overhead is missing. */
static void say_once(bool *said, const char *what, int err)
{
	if (*said)
		return;
	fprintf(stderr, "custos-bench: %s: %s\n", what, strerror(-err));
	*said = true;
}

/*
 * Phase p, with the agent on CONFIG: the times into r->t[p], what it saw
 * into r->run[p], its probe programs' runs into r->used[p], and where it
 * probed into d->sites[p].
 */
static void with_agent(struct dbb *d, const char *config, struct db_round *r, int p, bool pg)
{
	static bool said_sites, said_progs;
	double user0 = 0, sys0 = 0, user = 0, sys = 0;
	struct db_run *run = &r->run[p];
	struct prog_set progs;
	bool mark;
	struct agent a;
	int err;

	agent_start(&a, d->s, config, NULL);
	probe_sites_free(&d->sites[p]);
	err = agent_probes_find(a.pid, &progs, &d->sites[p]);
	if (err)
		say_once(&said_sites, "the agent's probe sites (no copy of them)", err);
	if (!progs.n[0])
		say_once(&said_progs, "the agent's database probe programs (no hit counts)",
			 -ENOENT);
	r->counted[p] = d->stats && progs.n[0];
	d->count = r->counted[p] ? &progs : NULL;
	d->used = r->used[p];
	mark = proc_cpu(a.pid, &user0, &sys0);
	memset(&d->sent, 0, sizeof(d->sent));
	measure(d, r->t[p], pg);
	run->sent = d->sent;
	if (mark)
		mark = proc_cpu(a.pid, &user, &sys);
	d->count = NULL;
	progs_free(&progs);
	agent_stop(&a);
	run->seen = a.out.db;
	run->have_stop = agent_summary(&a, &run->drops);
	run->cpu = mark ? user - user0 + sys - sys0 : -1;
	counter_free(&a.out);
}

/* Phase p: the empty programs on a copy of the sites of the agent of phase from, no agent. */
static void with_copy(struct dbb *d, struct db_round *r, int p, int from, bool pg)
{
	if (!d->pc || !d->sites[from].n || probecost_copy(d->pc, &d->sites[from]))
		return;
	r->ran[p] = true;
	r->counted[p] = d->stats;
	d->count = d->stats ? probecost_progs(d->pc) : NULL;
	d->used = r->used[p];
	measure(d, r->t[p], pg);
	d->count = NULL;
	probecost_uncopy(d->pc);
}

/* The price of a hit on each trivial function. */
static void price(struct dbb *d, struct db_round *r)
{
	static bool said;
	int t, err;

	if (!d->pc)
		return;
	for (t = 0; t < probecost_targets(); t++) {
		err = probecost_price(d->pc, t, r->price[t]);
		if (err) {
			say_once(&said, "the empty probes on the trivial functions", err);
			return;
		}
	}
	r->priced = true;
}

static void run_round(struct dbb *d, struct db_round *r)
{
	r->others = check_others();
	measure(d, r->t[WITHOUT], true);
	r->others |= check_others();
	with_agent(d, d->s->config, r, ROWS, true);
	with_agent(d, d->norows, r, NO_ROWS, false);
	r->others |= check_others();
	with_copy(d, r, EMPTY, ROWS, true);
	with_copy(d, r, EMPTY_NO_ROWS, NO_ROWS, false);
	if (d->pg)
		with_agent(d, d->wire, r, WIRE, true);
	price(d, r);
	r->others |= check_others();
}

/* ---- the report ------------------------------------------------------------------------- */

static const struct {
	const char *name, *unit;
	int w, phase, empty; /* the phase with the agent, the one with the copy of its probes */
	double ns;	     /* ns in the unit's time */
} table[] = {
    {"libpq point query", "us/query", DB_PG, ROWS, EMPTY, 1e3},
    {"SQLite point lookup", "us/query", DB_LOOKUP, ROWS, EMPTY, 1e3},
    {"  sqlite_rows false", "us/query", DB_LOOKUP, NO_ROWS, EMPTY_NO_ROWS, 1e3},
    {"SQLite scan", "ns/row", DB_SCAN, ROWS, EMPTY, 1},
    {"  sqlite_rows false", "ns/row", DB_SCAN, NO_ROWS, EMPTY_NO_ROWS, 1},
    {"libpq 100,000-row SELECT", "ns/row", DB_PG_BULK, ROWS, EMPTY, 1},
    {"point query, wire", "us/query", DB_PG, WIRE, WIRE, 1e3},
    {"100,000 rows, wire", "ns/row", DB_PG_BULK, WIRE, WIRE, 1},
    {"point query, wire, TLS", "us/query", DB_PG_TLS, WIRE, WIRE, 1e3},
};

/* Was workload w run (the PostgreSQL ones need their server)? */
static bool measured(const struct dbb *d, int w)
{
	if (w == DB_PG_TLS)
		return d->pg_tls != NULL;
	return d->pg || (w != DB_PG && w != DB_PG_BULK);
}

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
	if (d->pg_tls)
		printf("          and over TCP and TLS (sslmode=require) to the same server\n");
	if (!d->pg)
		printf("  libpq   not measured (no --pg)\n");
	printf("  SQLite  %s in memory: %ld point lookups (prepare, step, finalize), %d scans of "
	       "%d rows\n",
	       sqlite3_libversion(), d->n, LITE_SCANS, LITE_ROWS);
	printf("  each after a warm-up of %ld queries or 1 scan, not timed\n", d->warm);
	printf("then each round runs them with empty programs on a copy of the agent's probe "
	       "sites, no\nagent, and prices a probe hit; BPF_STATS_RUN_TIME is %s for the whole "
	       "part (every\nBPF program's run is timed: two clock reads)\n",
	       d->stats ? "on" : "off (it failed)");
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
		if (!measured(d, table[k].w))
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

/* The statements (the rows for the scans) of workload w's timed loop. */
static double units(const struct dbb *d, int w)
{
	if (w == DB_PG_BULK)
		return (double)BULK_QUERIES * BULK_ROWS;
	return w == DB_SCAN ? (double)LITE_SCANS * LITE_ROWS : (double)d->n;
}

/* The median of the prices of trivial function t, kind k, over the rounds that have them. */
static double median_price(const struct dbb *d, int t, int k)
{
	double v[ROUNDS_MAX];
	long i, n = 0;

	for (i = 0; i < d->s->db_rounds; i++)
		if (d->rounds[i].priced)
			v[n++] = d->rounds[i].price[t][k];
	return n ? median(v, n) : NAN;
}

static void print_prices(const struct dbb *d)
{
	double v[ROUNDS_MAX], lo, hi;
	long i, n = 0;
	char range[48];
	int t;

	for (i = 0; i < d->s->db_rounds; i++)
		n += d->rounds[i].priced;
	if (!n) {
		printf("\n(no price of a probe hit: the empty probes could not be attached)\n");
		return;
	}
	printf("\none probe hit on this kernel: the empty programs of probecost.bpf.c on a trivial "
	       "function\nof the bench called in loops of about 100 ms (each round: the median of "
	       "3), through\nuprobe_multi links as the agent's; ns per call, medians of %ld "
	       "rounds\n",
	       n);
	printf("%-26s %7s %9s %10s %9s %13s %19s\n", "first instruction", "call", "uprobe",
	       "uretprobe", "both", "return added", "uprobe (min-max)");
	for (t = 0; t < probecost_targets(); t++) {
		for (i = n = 0; i < d->s->db_rounds; i++)
			if (d->rounds[i].priced)
				v[n++] = d->rounds[i].price[t][PRICE_ENTRY];
		lo = hi = v[0];
		for (i = 1; i < n; i++) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
		snprintf(range, sizeof(range), "(%.0f-%.0f)", lo, hi);
		printf("%-26s %7.1f %9.0f %10.0f %9.0f %13.0f %19s\n", probecost_label(t),
		       median_price(d, t, PRICE_CALL), median_price(d, t, PRICE_ENTRY),
		       median_price(d, t, PRICE_RETURN), median_price(d, t, PRICE_BOTH),
		       median_price(d, t, PRICE_BOTH) - median_price(d, t, PRICE_ENTRY), range);
	}
	printf(
	    "call: without a probe; uprobe, uretprobe: what one of them alone adds (a uretprobe\n"
	    "traps at the entry too); both: the two on the function, as the agent probes most;\n"
	    "return added: both - uprobe, a return hit's price next to an entry hit. The return\n"
	    "goes through the kernel's trampoline whatever the first instruction: the first "
	    "row\nmeasures it best\n");
}

/* The median over the rounds of f(round); NAN when no round has it. */
static double median_of(const struct dbb *d, size_t k,
			double (*f)(const struct dbb *d, const struct db_round *r, size_t k))
{
	double v[ROUNDS_MAX], x;
	long i, n = 0;

	for (i = 0; i < d->s->db_rounds; i++) {
		x = f(d, &d->rounds[i], k);
		if (!isnan(x))
			v[n++] = x;
	}
	return n ? median(v, n) : NAN;
}

static double overhead_of(const struct dbb *d, const struct db_round *r, size_t k)
{
	return r->t[table[k].phase][table[k].w] - r->t[WITHOUT][table[k].w];
}

static double empty_of(const struct dbb *d, const struct db_round *r, size_t k)
{
	if (!r->ran[table[k].empty])
		return NAN;
	return r->t[table[k].empty][table[k].w] - r->t[WITHOUT][table[k].w];
}

/* Hits of the agent's entry (side 0) or return (side 1) programs per unit; of the copy's: 2, 3. */
static double hits_of(const struct dbb *d, const struct db_round *r, size_t k, int side)
{
	int p = side < 2 ? table[k].phase : table[k].empty;

	if (!r->counted[p])
		return NAN;
	return r->used[p][table[k].w].hits[side % 2] / units(d, table[k].w);
}

static double entries_of(const struct dbb *d, const struct db_round *r, size_t k)
{
	return hits_of(d, r, k, 0);
}

static double returns_of(const struct dbb *d, const struct db_round *r, size_t k)
{
	return hits_of(d, r, k, 1);
}

static double copy_entries_of(const struct dbb *d, const struct db_round *r, size_t k)
{
	return hits_of(d, r, k, 2);
}

static double copy_returns_of(const struct dbb *d, const struct db_round *r, size_t k)
{
	return hits_of(d, r, k, 3);
}

/* The time in the agent's programs per unit, in the unit's time. */
static double programs_of(const struct dbb *d, const struct db_round *r, size_t k)
{
	if (!r->counted[table[k].phase])
		return NAN;
	return r->used[table[k].phase][table[k].w].run_ns / units(d, table[k].w) / table[k].ns;
}

/* "%.Nf" of v into buf, or "-" for NAN; sign: "%+.Nf". */
static const char *num(char *buf, size_t cap, double v, int decimals, bool sign)
{
	if (isnan(v))
		snprintf(buf, cap, "-");
	else
		snprintf(buf, cap, sign ? "%+.*f" : "%.*f", decimals, v);
	return buf;
}

/*
 * The overhead per statement split: the agent's hits, their price on the
 * trivial functions, the same hits with the empty probes at the agent's
 * sites, the time in the agent's programs, and the rest.
 */
static void print_split(const struct dbb *d)
{
	double over, e, r, empty, prog, lo = NAN, hi = NAN, stepped = NAN, ce, cr, step_ns;
	char b[7][32], cost[48];
	int last = probecost_targets() - 1;
	bool differ = false;
	size_t k;

	/* What an entry hit stepped out of line costs above an emulated one. */
	step_ns = median_price(d, last, PRICE_ENTRY) - median_price(d, 0, PRICE_ENTRY);
	printf("\nwhere the overhead goes, per statement (scans: per row)\n");
	printf("%-22s %-9s %9s %8s %8s %17s %8s %8s %9s %9s\n", "workload", "unit", "overhead",
	       "entries", "returns", "hits x price", "empty", "stepped", "programs", "rest");
	for (k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
		if (!measured(d, table[k].w))
			continue;
		over = median_of(d, k, overhead_of);
		e = median_of(d, k, entries_of);
		r = median_of(d, k, returns_of);
		empty = median_of(d, k, empty_of);
		prog = median_of(d, k, programs_of);
		ce = median_of(d, k, copy_entries_of);
		cr = median_of(d, k, copy_returns_of);
		if (!isnan(ce) && (fabs(ce - e) > 0.01 * e || fabs(cr - r) > 0.01 * r))
			differ = true;
		lo = (e * median_price(d, 0, PRICE_ENTRY) +
		      r * (median_price(d, 0, PRICE_BOTH) - median_price(d, 0, PRICE_ENTRY))) /
		     table[k].ns;
		/* A return hit costs the same after an entry stepped out of line. */
		hi = (e * median_price(d, last, PRICE_ENTRY) +
		      r * (median_price(d, 0, PRICE_BOTH) - median_price(d, 0, PRICE_ENTRY))) /
		     table[k].ns;
		if (last > 0)
			stepped = (empty - lo) / (step_ns / table[k].ns);
		if (isnan(lo))
			snprintf(cost, sizeof(cost), "-");
		else if (last > 0)
			snprintf(cost, sizeof(cost), "%.2f-%.2f", lo, hi);
		else
			snprintf(cost, sizeof(cost), "%.2f", lo);
		printf("%-22s %-9s %9s %8s %8s %17s %8s %8s %9s %9s\n", table[k].name,
		       table[k].unit, num(b[0], sizeof(b[0]), over, 2, true),
		       num(b[1], sizeof(b[1]), e, 2, false), num(b[2], sizeof(b[2]), r, 2, false),
		       cost, num(b[3], sizeof(b[3]), empty, 2, false),
		       num(b[4], sizeof(b[4]), stepped, 1, false),
		       num(b[5], sizeof(b[5]), prog, 2, false),
		       num(b[6], sizeof(b[6]), over - empty - prog, 2, true));
	}
	printf("overhead: as above. entries, returns: the agent's probe hits (run_cnt of its "
	       "programs\nin the timed loops). hits x price: entries x uprobe + returns x return "
	       "added%s.\nempty: what the same hits cost, measured: the workload again, with the "
	       "empty programs on\na copy of the agent's probe sites and no agent, minus without. "
	       "stepped: how many of the\nentries that takes to be stepped out of line, the rest "
	       "emulated. programs: the time in\nthe agent's programs (run_time_ns). rest: "
	       "overhead - empty - programs: the agent's\nprocess, its ring buffer, the caches. "
	       "Medians of the per-round values.\n",
	       last > 0 ? ", from every\nentry emulated (first row of prices) to every entry "
			  "stepped out of line (second row)"
			: "");
	if (differ)
		printf("! the empty copy took other hits than the agent's programs (by more than "
		       "1%%): the\nagent's count other processes' calls too, and sites it added "
		       "after the bench read them\n");
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
	int stats_fd, p;
	uint64_t t;
	long i;

	d.s = s;
	d.pg = s->pg;
	d.pg_tls = s->pg ? s->pg_tls : NULL;
	d.n = s->db_queries;
	d.warm = s->db_queries / 10;
	snprintf(own_pid, sizeof(own_pid), "\"process\":{\"pid\":%d,", getpid());
	snprintf(d.norows, sizeof(d.norows), "%s/" NOROWS_CONFIG, s->dir);
	write_config(s, d.norows, "{\"sqlite_rows\": false}");
	snprintf(d.wire, sizeof(d.wire), "%s/" WIRE_CONFIG, s->dir);
	if (d.pg) {
		pg_setup(&d);
		write_wire_config(&d);
	}
	lite_setup(&d);
	/* run_cnt and run_time_ns count only while statistics are on: for the whole part. */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		fprintf(stderr, "custos-bench: BPF_STATS_RUN_TIME: %s: no hit counts\n",
			strerror(errno));
	d.stats = stats_fd >= 0;
	d.pc = probecost_open();
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
	print_prices(&d);
	print_split(&d);
	probecost_close(d.pc);
	for (p = 0; p < PHASES; p++)
		probe_sites_free(&d.sites[p]);
	if (stats_fd >= 0)
		close(stats_fd);
	sqlite3_close(d.lite);
	unlink(d.norows);
	unlink(d.wire);
}
