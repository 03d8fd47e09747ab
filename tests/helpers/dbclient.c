// SPDX-License-Identifier: GPL-2.0
/*
 * dbclient: calls exactly the database client functions it is told to, so
 * an integration test knows which API path ran each statement: the paths the
 * CLIs and the Python modules do not take (PQexecParams, prepared statements,
 * libpq's asynchronous calls, MySQL's statement API, an SQLite statement
 * reset and stepped again). Each argument is one operation; each prints one
 * line, "OP rows=N affected=N" or "OP error=MESSAGE". The first operation
 * that fails ends it with status 1; with "-k" first the others still run
 * and the status is 0. Status 2: usage; 3: cannot connect. "-w MS" waits
 * before connecting (a library must be found by the agent first).
 *
 *   dbclient [-k] [-w MS] pg CONNINFO OP...
 *     exec SQL                PQexec
 *     params SQL N P1..PN     PQexecParams (text parameters)
 *     prepare NAME SQL        PQprepare
 *     execprep NAME N P1..PN  PQexecPrepared
 *     send SQL                PQsendQuery, then PQgetResult until NULL
 *     sendparams SQL N P..    PQsendQueryParams, then PQgetResult until NULL
 *     sendprep NAME SQL       PQsendPrepare, then PQgetResult until NULL
 *     sendexecprep NAME N P.. PQsendQueryPrepared, then PQgetResult until NULL
 *     abandon SQL             PQsendQuery, then PQfinish with the result unread
 *   dbclient [-k] [-w MS] my HOST|/SOCKET PORT USER DB OP...
 *     query SQL               mysql_real_query, then mysql_store_result
 *                             (or mysql_affected_rows for no result set)
 *     stmt SQL                mysql_stmt_prepare, mysql_stmt_execute,
 *                             mysql_stmt_store_result
 *     abandon SQL             mysql_send_query, then mysql_close, result unread
 *   dbclient [-k] [-w MS] sqlite FILE OP...
 *     exec SQL                sqlite3_prepare_v3, step until done, finalize
 *     exec2 SQL               the same with sqlite3_prepare_v2
 *     exec1 SQL               the same with sqlite3_prepare (the legacy one)
 *     stale SQL OTHER         sqlite3_prepare_v3 SQL; OTHER on a second
 *                             connection (a schema change makes the first
 *                             step prepare SQL again); step SQL, finalize
 *     rerun SQL N             sqlite3_prepare_v3 once, then N times: step
 *                             until done, sqlite3_reset
 *   any of them: sleep MS
 *
 * SQL is the argument's bytes, or with "@PATH" the bytes of the file PATH
 * (a statement too long for a command line, or one whose literals must not
 * show in the process's arguments).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <mysql.h>
#include <sqlite3.h>

static int keep_going;
static int failed; /* an operation failed: the exit status, unless keep_going */

static void usage(void)
{
	fprintf(stderr, "usage: dbclient [-k] [-w MS] pg CONNINFO OP...\n"
			"       dbclient [-k] [-w MS] my HOST|/SOCKET PORT USER DB OP...\n"
			"       dbclient [-k] [-w MS] sqlite FILE OP...\n"
			"(see tests/helpers/dbclient.c for the operations)\n");
	exit(2);
}

/* The statement an argument stands for: itself, or the contents of @FILE. */
static char *sql_arg(const char *arg, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0, got;
	FILE *f;

	if (arg[0] != '@') {
		*len = strlen(arg);
		return strdup(arg);
	}
	f = fopen(arg + 1, "rb");
	if (!f) {
		fprintf(stderr, "dbclient: %s: %s\n", arg + 1, strerror(errno));
		exit(2);
	}
	do {
		if (n + 65536 + 1 > cap) {
			cap = (cap ? cap * 2 : 1 << 20) + 65536;
			buf = realloc(buf, cap);
			if (!buf) {
				fprintf(stderr, "dbclient: out of memory\n");
				exit(2);
			}
		}
		got = fread(buf + n, 1, 65536, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void sleep_ms(const char *arg)
{
	long ms = strtol(arg, NULL, 10);
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void op_failed(const char *op, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	printf("%s error=%.*s\n", op, (int)n, msg);
	fflush(stdout);
	failed = 1;
	if (!keep_going)
		exit(1);
}

/* Number arguments: how many follow (N), and a check that they are there. */
static int count_arg(int argc, char **argv, int i)
{
	int n;

	if (i >= argc)
		usage();
	n = atoi(argv[i]);
	if (n < 0 || n > 64 || i + n >= argc)
		usage();
	return n;
}

/* libpq */

static void pg_report(const char *op, PGresult *res, long *rows, long *affected, int *bad)
{
	ExecStatusType st = PQresultStatus(res);
	const char *tuples = PQcmdTuples(res);

	if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR) {
		*bad = 1;
		return;
	}
	if (st == PGRES_TUPLES_OK)
		*rows = (*rows < 0 ? 0 : *rows) + PQntuples(res);
	if (tuples && *tuples)
		*affected = (*affected < 0 ? 0 : *affected) + atol(tuples);
}

static void pg_done(const char *op, PGconn *conn, PGresult *res)
{
	long rows = -1, affected = -1;
	int bad = 0;

	if (!res) {
		op_failed(op, PQerrorMessage(conn));
		return;
	}
	pg_report(op, res, &rows, &affected, &bad);
	if (bad) {
		op_failed(op, PQresultErrorMessage(res));
		PQclear(res);
		return;
	}
	PQclear(res);
	printf("%s rows=%ld affected=%ld\n", op, rows, affected);
	fflush(stdout);
}

/* After a PQsend*: every result until NULL, summed. */
static void pg_results(const char *op, PGconn *conn)
{
	long rows = -1, affected = -1;
	char *err = NULL;
	PGresult *res;
	int bad = 0;

	while ((res = PQgetResult(conn))) {
		int b = 0;

		pg_report(op, res, &rows, &affected, &b);
		if (b && !err)
			err = strdup(PQresultErrorMessage(res));
		bad |= b;
		PQclear(res);
	}
	if (bad) {
		op_failed(op, err ? err : "error");
		free(err);
		return;
	}
	printf("%s rows=%ld affected=%ld\n", op, rows, affected);
	fflush(stdout);
}

static int run_pg(int argc, char **argv, int i)
{
	PGconn *conn;

	if (i >= argc)
		usage();
	conn = PQconnectdb(argv[i++]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "dbclient: connect: %s", PQerrorMessage(conn));
		return 3;
	}
	while (i < argc) {
		const char *op = argv[i++];
		const char *params[64];
		char *sql = NULL;
		size_t len;
		int n, k;

		if (!strcmp(op, "sleep") && i < argc) {
			sleep_ms(argv[i++]);
		} else if (!strcmp(op, "exec") && i < argc) {
			sql = sql_arg(argv[i++], &len);
			pg_done(op, conn, PQexec(conn, sql));
		} else if ((!strcmp(op, "params") || !strcmp(op, "sendparams")) && i < argc) {
			sql = sql_arg(argv[i++], &len);
			n = count_arg(argc, argv, i++);
			for (k = 0; k < n; k++)
				params[k] = argv[i++];
			if (!strcmp(op, "params")) {
				pg_done(op, conn,
					PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0));
			} else if (!PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0)) {
				op_failed(op, PQerrorMessage(conn));
			} else {
				pg_results(op, conn);
			}
		} else if ((!strcmp(op, "prepare") || !strcmp(op, "sendprep")) && i + 1 < argc) {
			const char *name = argv[i++];

			sql = sql_arg(argv[i++], &len);
			if (!strcmp(op, "prepare"))
				pg_done(op, conn, PQprepare(conn, name, sql, 0, NULL));
			else if (!PQsendPrepare(conn, name, sql, 0, NULL))
				op_failed(op, PQerrorMessage(conn));
			else
				pg_results(op, conn);
		} else if ((!strcmp(op, "execprep") || !strcmp(op, "sendexecprep")) && i < argc) {
			const char *name = argv[i++];

			n = count_arg(argc, argv, i++);
			for (k = 0; k < n; k++)
				params[k] = argv[i++];
			if (!strcmp(op, "execprep"))
				pg_done(op, conn,
					PQexecPrepared(conn, name, n, params, NULL, NULL, 0));
			else if (!PQsendQueryPrepared(conn, name, n, params, NULL, NULL, 0))
				op_failed(op, PQerrorMessage(conn));
			else
				pg_results(op, conn);
		} else if (!strcmp(op, "send") && i < argc) {
			sql = sql_arg(argv[i++], &len);
			if (!PQsendQuery(conn, sql))
				op_failed(op, PQerrorMessage(conn));
			else
				pg_results(op, conn);
		} else if (!strcmp(op, "abandon") && i < argc) {
			sql = sql_arg(argv[i++], &len);
			if (!PQsendQuery(conn, sql)) {
				op_failed(op, PQerrorMessage(conn));
			} else {
				PQfinish(conn);
				printf("%s sent\n", op);
				fflush(stdout);
				return failed;
			}
		} else {
			usage();
		}
		free(sql);
	}
	PQfinish(conn);
	return failed;
}

/* MySQL / MariaDB */

static int run_my(int argc, char **argv, int i)
{
	const char *host, *sock = NULL, *user, *db;
	unsigned int port;
	MYSQL *my;

	if (i + 3 >= argc)
		usage();
	host = argv[i++];
	port = strtoul(argv[i++], NULL, 10);
	user = argv[i++];
	db = argv[i++];
	if (host[0] == '/') {
		sock = host;
		host = NULL;
	}
	my = mysql_init(NULL);
	if (!my || !mysql_real_connect(my, host, user, NULL, *db ? db : NULL, port, sock, 0)) {
		fprintf(stderr, "dbclient: connect: %s\n", my ? mysql_error(my) : "out of memory");
		return 3;
	}
	while (i < argc) {
		const char *op = argv[i++];
		char *sql = NULL;
		size_t len;

		if (!strcmp(op, "sleep") && i < argc) {
			sleep_ms(argv[i++]);
		} else if (!strcmp(op, "query") && i < argc) {
			MYSQL_RES *res;

			sql = sql_arg(argv[i++], &len);
			if (mysql_real_query(my, sql, len)) {
				op_failed(op, mysql_error(my));
			} else if ((res = mysql_store_result(my))) {
				printf("%s rows=%llu affected=-1\n", op,
				       (unsigned long long)mysql_num_rows(res));
				mysql_free_result(res);
			} else if (mysql_field_count(my)) {
				op_failed(op, mysql_error(my));
			} else {
				printf("%s rows=-1 affected=%llu\n", op,
				       (unsigned long long)mysql_affected_rows(my));
			}
		} else if (!strcmp(op, "stmt") && i < argc) {
			MYSQL_STMT *st = mysql_stmt_init(my);

			sql = sql_arg(argv[i++], &len);
			if (!st || mysql_stmt_prepare(st, sql, len) || mysql_stmt_execute(st) ||
			    mysql_stmt_store_result(st)) {
				op_failed(op, st ? mysql_stmt_error(st) : "out of memory");
			} else {
				printf("%s rows=%lld affected=%lld\n", op,
				       mysql_stmt_field_count(st)
					   ? (long long)mysql_stmt_num_rows(st)
					   : -1LL,
				       mysql_stmt_field_count(st)
					   ? -1LL
					   : (long long)mysql_stmt_affected_rows(st));
			}
			if (st)
				mysql_stmt_close(st);
		} else if (!strcmp(op, "abandon") && i < argc) {
			sql = sql_arg(argv[i++], &len);
			if (mysql_send_query(my, sql, len)) {
				op_failed(op, mysql_error(my));
			} else {
				mysql_close(my);
				printf("%s sent\n", op);
				fflush(stdout);
				free(sql);
				return failed;
			}
		} else {
			usage();
		}
		fflush(stdout);
		free(sql);
	}
	mysql_close(my);
	return failed;
}

/* SQLite */

/* Steps st until it is done; the rows it returned, or -1 (message in *err). */
static long sqlite_steps(sqlite3 *db, sqlite3_stmt *st, const char **err)
{
	long rows = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		rows++;
	if (rc != SQLITE_DONE) {
		*err = sqlite3_errmsg(db);
		return -1;
	}
	return rows;
}

/* sql on a connection of its own to file (prepare, step, finalize); non-zero if it failed. */
static int sqlite_exec_other(const char *file, const char *sql)
{
	sqlite3_stmt *st = NULL;
	const char *err;
	sqlite3 *other;
	int rc;

	if (sqlite3_open(file, &other) != SQLITE_OK)
		return -1;
	rc = sqlite3_prepare_v3(other, sql, -1, 0, &st, NULL);
	if (rc == SQLITE_OK && sqlite_steps(other, st, &err) < 0)
		rc = -1;
	sqlite3_finalize(st);
	sqlite3_close(other);
	return rc;
}

static int run_sqlite(int argc, char **argv, int i)
{
	const char *file;
	sqlite3 *db;

	if (i >= argc)
		usage();
	file = argv[i++];
	if (sqlite3_open(file, &db) != SQLITE_OK) {
		fprintf(stderr, "dbclient: open: %s\n", sqlite3_errmsg(db));
		return 3;
	}
	while (i < argc) {
		const char *op = argv[i++], *err = NULL;
		sqlite3_stmt *st = NULL;
		char *sql = NULL;
		long rows, runs = 1, k;
		size_t len;
		int rc;

		if (!strcmp(op, "sleep") && i < argc) {
			sleep_ms(argv[i++]);
			continue;
		}
		if ((strcmp(op, "exec") && strcmp(op, "exec2") && strcmp(op, "exec1") &&
		     strcmp(op, "rerun") && strcmp(op, "stale")) ||
		    i >= argc)
			usage();
		sql = sql_arg(argv[i++], &len);
		if (!strcmp(op, "rerun")) {
			if (i >= argc)
				usage();
			runs = atol(argv[i++]);
		}
		if (!strcmp(op, "stale") && i >= argc)
			usage();
		if (!strcmp(op, "exec2"))
			rc = sqlite3_prepare_v2(db, sql, (int)len, &st, NULL);
		else if (!strcmp(op, "exec1"))
			rc = sqlite3_prepare(db, sql, (int)len, &st, NULL);
		else
			rc = sqlite3_prepare_v3(db, sql, (int)len, 0, &st, NULL);
		if (!strcmp(op, "stale") && sqlite_exec_other(file, argv[i++]))
			op_failed(op, "the second connection's statement failed");
		if (rc != SQLITE_OK || !st) {
			op_failed(op, rc != SQLITE_OK ? sqlite3_errmsg(db) : "empty statement");
			free(sql);
			continue;
		}
		for (k = 0; k < runs; k++) {
			rows = sqlite_steps(db, st, &err);
			if (rows < 0) {
				op_failed(op, err);
				break;
			}
			printf("%s rows=%ld affected=%d\n", op, rows, sqlite3_changes(db));
			fflush(stdout);
			if (k + 1 < runs)
				sqlite3_reset(st);
		}
		sqlite3_finalize(st);
		free(sql);
	}
	sqlite3_close(db);
	return failed;
}

int main(int argc, char **argv)
{
	int i = 1, status = 2;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-k"))
			keep_going = 1;
		else if (!strcmp(argv[i], "-w") && i + 1 < argc)
			sleep_ms(argv[++i]);
		else
			usage();
	}
	if (i >= argc)
		usage();
	if (!strcmp(argv[i], "pg"))
		status = run_pg(argc, argv, i + 1);
	else if (!strcmp(argv[i], "my"))
		status = run_my(argc, argv, i + 1);
	else if (!strcmp(argv[i], "sqlite"))
		status = run_sqlite(argc, argv, i + 1);
	else
		usage();
	return status == 1 && keep_going ? 0 : status;
}
