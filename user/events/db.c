// SPDX-License-Identifier: GPL-2.0
/*
 * Database client calls into statements: one event per statement executed,
 * with its (redacted) text, tables, rows, duration and connection. The
 * kernel reports each library call as it returns; here they are paired:
 * a connection's user and database from its connect call, libpq's
 * asynchronous sends with their results, prepared statements with their
 * executions, MySQL queries with their result sets, SQLite statements with
 * the rows stepped until their reset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/dbprobe.h"
#include "encode/scrub.h"
#include "encode/sql.h"

#include "common.h"

#define PENDING_TIMEOUT_NS (2ULL * 1000000000ULL) /* a MySQL query with no result call after it */
#define PGRES_FATAL_ERROR  7
#define PGRES_COMMAND_OK   1
#define PGRES_TUPLES_OK	   2

/* A connection (PGconn, MYSQL) or an SQLite database. */
struct db_conn {
	enum dbprobe_system system;
	char *user;
	char *name; /* database, or the SQLite file */
	char *host;
	char *port;
	char *socket;
};

/* A statement whose text is known and whose outcome is awaited, or kept to be executed again. */
struct db_stmt {
	enum dbprobe_system system;
	uint64_t conn; /* its connection or database */
	char *text;
	size_t len;
	bool truncated;
	char *name; /* a libpq prepared statement's name */
	/* The execution in flight (async libpq, MySQL). */
	struct custos_task task;
	uint64_t start_ns;
	int64_t rows;
	int64_t affected;
	bool failed;
	char *error;
	bool executing;
};

struct db_state {
	struct pairmap conns;	/* (tgid, conn/db) -> struct db_conn */
	struct pairmap pending; /* (tgid, conn) -> struct db_stmt being executed (libpq, MySQL) */
	struct pairmap
	    prepared; /* (tgid, MySQL/SQLite stmt, or conn ^ name hash) -> struct db_stmt */
};

static const enum dbprobe_system func_system[CUSTOS_DB_FUNC_MAX] = {
    [CUSTOS_DB_PQ_CONNECTDB... CUSTOS_DB_PQ_GET_RESULT] = DBPROBE_POSTGRESQL,
    [CUSTOS_DB_MY_REAL_CONNECT... CUSTOS_DB_MY_CLOSE] = DBPROBE_MYSQL,
    [CUSTOS_DB_SQ_OPEN... CUSTOS_DB_SQ_LOCK_AND_PREPARE] = DBPROBE_SQLITE,
};

static const enum sql_dialect dialects[DBPROBE_SYSTEMS] = {
    [DBPROBE_POSTGRESQL] = SQL_POSTGRESQL,
    [DBPROBE_MYSQL] = SQL_MYSQL,
    [DBPROBE_SQLITE] = SQL_SQLITE,
};

static void conn_free(void *p)
{
	struct db_conn *c = p;

	if (!c)
		return;
	free(c->user);
	free(c->name);
	free(c->host);
	free(c->port);
	free(c->socket);
	free(c);
}

static void stmt_free(void *p)
{
	struct db_stmt *s = p;

	if (!s)
		return;
	free(s->text);
	free(s->name);
	free(s->error);
	free(s);
}

void events_db_free(struct events *e)
{
	if (!e->db)
		return;
	pairmap_clear(&e->db->conns, conn_free);
	pairmap_clear(&e->db->pending, stmt_free);
	pairmap_clear(&e->db->prepared, stmt_free);
	free(e->db);
	e->db = NULL;
}

/* The strings of a record: str(rec, i) or NULL. */
static const char *rec_str(const struct custos_db_call *rec, int i)
{
	size_t off = 0;
	int j;

	if (!rec->str_len[i])
		return NULL;
	for (j = 0; j < i; j++)
		off += rec->str_len[j];
	return rec->data + off;
}

static char *dup_str(const struct custos_db_call *rec, int i)
{
	const char *s = rec_str(rec, i);

	return s && *s ? strndup(s, rec->str_len[i]) : NULL;
}

/* Each string present lies inside the record and ends with its NUL. */
static bool rec_valid(const struct custos_db_call *rec, size_t size)
{
	size_t off = 0;
	int i;

	if (size < sizeof(*rec) || (rec->func & CUSTOS_DB_FUNC_MASK) >= CUSTOS_DB_FUNC_MAX)
		return false;
	for (i = 0; i < CUSTOS_DB_STRS; i++) {
		if (!rec->str_len[i])
			continue;
		if (off + rec->str_len[i] > size - sizeof(*rec) ||
		    rec->data[off + rec->str_len[i] - 1] != '\0')
			return false;
		off += rec->str_len[i];
	}
	return true;
}

/* libpq hashes a prepared statement's name into its key (the connection's, xor). */
static uint64_t name_key(uint64_t conn, const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	while (name && *name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ULL;
	return conn ^ h;
}

static void on_connect(struct events *e, const struct custos_db_call *rec, enum dbprobe_system sys)
{
	struct db_conn *c = calloc(1, sizeof(*c)), *old = NULL;
	char port[16];

	if (!c)
		return;
	c->system = sys;
	c->user = dup_str(rec, 0);
	c->name = dup_str(rec, 1);
	c->host = dup_str(rec, 2);
	if (sys == DBPROBE_MYSQL) {
		/* MySQL: arguments as passed; host NULL or "localhost" means the unix socket. */
		if (!c->host || !strcmp(c->host, "localhost")) {
			c->socket = dup_str(rec, 3);
		} else if (rec->arg) {
			snprintf(port, sizeof(port), "%u", rec->arg);
			c->port = strdup(port);
		}
		if (!c->host)
			c->host = strdup("localhost");
	} else {
		c->port = dup_str(rec, 3);
	}
	/* libpq: a host that is a directory is the unix socket's. */
	if (sys == DBPROBE_POSTGRESQL && c->host && c->host[0] == '/') {
		c->socket = c->host;
		c->host = NULL;
	}
	if (pairmap_put(&e->db->conns, rec->task.tgid, rec->handle, c, (void **)&old))
		conn_free(c);
	else
		conn_free(old);
}

static void on_sqlite_open(struct events *e, const struct custos_db_call *rec)
{
	struct db_conn *c, *old = NULL;

	if (rec->ret != 0 || !rec->handle)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->system = DBPROBE_SQLITE;
	c->name = dup_str(rec, 1);
	if (pairmap_put(&e->db->conns, rec->task.tgid, rec->handle, c, (void **)&old))
		conn_free(c);
	else
		conn_free(old);
}

static struct db_stmt *stmt_new(enum dbprobe_system sys, uint64_t conn, const char *text,
				size_t len, bool truncated)
{
	struct db_stmt *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->system = sys;
	s->conn = conn;
	s->rows = -1;
	s->affected = -1;
	if (text) {
		s->text = strndup(text, len);
		s->len = s->text ? strnlen(s->text, len) : 0;
	}
	s->truncated = truncated;
	return s;
}

static struct db_stmt *stmt_copy(const struct db_stmt *from)
{
	struct db_stmt *s =
	    stmt_new(from->system, from->conn, from->text, from->len, from->truncated);

	if (s && from->name)
		s->name = strdup(from->name);
	return s;
}

/*
 * The server's error message quotes the values it refused ("Key (email)=(a@b.com)
 * already exists"): unless raw text is asked for, only its first line is kept, with
 * what is quoted in it replaced by ?. Returns a buffer to free, its length in *len.
 */
static char *error_text(const char *msg, bool raw, size_t *len)
{
	size_t i, n = 0, first = strcspn(msg, "\n");
	char quote = 0, *out;

	if (raw) {
		*len = strlen(msg);
		return strdup(msg);
	}
	out = malloc(2 * first + 2); /* "" becomes "?" */
	if (!out)
		return NULL;
	for (i = 0; i < first; i++) {
		char c = msg[i];

		if (quote) {
			if (c != quote)
				continue; /* a quoted value: left out */
			out[n++] = '?';
			quote = 0;
		} else if (c == '"' || c == '\'') {
			quote = c;
		}
		out[n++] = c;
	}
	if (quote)
		out[n++] = '?';
	*len = n;
	return out;
}

/* Statements whose rows sqlite3_changes() counts. */
static bool sqlite_changes_rows(const char *operation)
{
	return !strcmp(operation, "INSERT") || !strcmp(operation, "UPDATE") ||
	       !strcmp(operation, "DELETE") || !strcmp(operation, "REPLACE");
}

/* Does the statement name a customer-data table of the config? */
static bool names_customer_table(const struct config_databases *cfg, const struct sql_info *info)
{
	size_t i, j;

	for (i = 0; i < info->n_tables; i++)
		for (j = 0; j < cfg->n_tables; j++)
			if (sql_table_matches(cfg->tables[j], info->tables[i]))
				return true;
	return false;
}

/*
 * The literals of a statement leave the arguments of the process that ran
 * it (scrub.h), before its event and for every later one: its events show
 * its arguments from the process table. Events before it went out as
 * they were.
 */
static void scrub_process_args(struct events *e, const struct db_report *r)
{
	const struct proc_info *p;
	size_t len;
	char *args;

	if (!r->task || !r->text)
		return;
	p = proc_get(&e->procs, r->task->tgid, r->task->start_ns, r->task->ppid);
	if (!p || !p->args)
		return;
	if (scrub_args(dialects[r->system], r->text, r->len, p->args, p->args_len, &args, &len) > 0)
		proc_scrub_args(&e->procs, p->tgid, p->start_ns, args, len);
}

/*
 * event.type of a statement: error when it failed, change when it may have
 * written (INSERT, UPDATE, DELETE, DDL...: sql_effect()), access otherwise.
 */
static const char *statement_type(const struct db_report *r, const struct event_db *db)
{
	if (r->failed)
		return "error";
	if (db->info && sql_effect(db->info->operation, db->text, db->text_len) == SQL_EFFECT_WRITE)
		return "change";
	return "access";
}

/* The event of one statement executed (unless the config leaves its tables out). */
void events_db_report(struct events *e, const struct db_report *r)
{
	const struct config_databases *cfg = &e->cfg->databases;
	char *redacted = NULL, *error = NULL;
	struct sql_info info;
	struct event ev;
	struct event_db *db = &ev.db;

	events_event_init(e, &ev, EVENT_DB_STATEMENT, r->start_ns, "database", "access", "query",
			  r->incomplete ? "unknown"
			  : r->failed	? "failure"
					: "success");
	/* One pass describes the statement and, unless raw text is asked for, redacts it. */
	if (r->text) {
		redacted = cfg->raw_text ? NULL : malloc(r->len + 1);
		db->text_len = sql_scan(dialects[r->system], r->text, r->len, redacted,
					redacted ? r->len + 1 : 0, &info);
		db->text = redacted;
		db->info = &info;
		db->customer_data = names_customer_table(cfg, &info);
		if (cfg->raw_text) {
			db->text = r->text;
			db->text_len = r->len;
		}
	}
	if (!cfg->raw_text)
		scrub_process_args(e, r);
	ev.type = statement_type(r, db);
	if (cfg->only_tables && !db->customer_data) {
		e->stats.db_untagged++;
		free(redacted);
		return;
	}
	db->system = dbprobe_system_name(r->system);
	db->truncated = r->truncated;
	db->tags = cfg->tags;
	db->n_tags = cfg->n_tags;
	db->namespace = r->namespace;
	db->user = r->user;
	db->host = r->host;
	db->port = r->port;
	db->socket = r->socket;
	db->rows = r->rows;
	db->affected = r->affected;
	/* SQLite counts changes of these only: another statement leaves the count as it was. */
	if (r->system == DBPROBE_SQLITE && !(db->info && sqlite_changes_rows(db->info->operation)))
		db->affected = -1;
	db->prepared_name = r->prepared_name;
	db->duration_ns = r->end_ns > r->start_ns ? r->end_ns - r->start_ns : 0;
	db->source = r->source;
	db->incomplete = r->incomplete;
	if (r->error) {
		error = error_text(r->error, cfg->raw_text, &ev.error_message_len);
		ev.error_message = error;
	}
	ev.error_code = r->error_code;
	ev.net = r->net;
	ev.rule = r->endpoint;
	ev.open_id = r->open_id;
	ev.who = events_who(e, r->task);
	events_emit(e, &ev);
	free(redacted);
	free(error);
}

/* A library statement's event, with its connection's user, database and server. */
static void emit_statement(struct events *e, const struct db_stmt *s,
			   const struct custos_task *task, uint64_t end_ns)
{
	struct db_conn *c = pairmap_get(&e->db->conns, task->tgid, s->conn);
	struct db_report r = {
	    .system = s->system,
	    .text = s->text,
	    .len = s->len,
	    .truncated = s->truncated,
	    .prepared_name = s->name,
	    .rows = s->rows,
	    .affected = s->affected,
	    .failed = s->failed,
	    .error = s->error,
	    .start_ns = s->start_ns,
	    .end_ns = end_ns,
	    .source = "library",
	    .task = task,
	};

	if (c) {
		r.namespace = c->name;
		r.user = c->user;
		r.host = c->host;
		r.port = c->port;
		r.socket = c->socket;
	}
	events_db_report(e, &r);
}

/* "UPDATE 3", "INSERT 0 3", "DELETE 3": the rows a command changed. */
static int64_t pg_affected(const char *cmd_status)
{
	const char *last;

	if (!cmd_status || (strncmp(cmd_status, "UPDATE", 6) && strncmp(cmd_status, "INSERT", 6) &&
			    strncmp(cmd_status, "DELETE", 6) && strncmp(cmd_status, "MERGE", 5) &&
			    strncmp(cmd_status, "COPY", 4)))
		return -1;
	last = strrchr(cmd_status, ' ');
	return last ? strtoll(last + 1, NULL, 10) : -1;
}

/* A PGresult's rows, status and error into the statement it belongs to. */
static void pg_result_into(struct db_stmt *s, const struct custos_db_call *rec)
{
	const char *cmd = rec_str(rec, 2), *err = rec_str(rec, 3);
	int64_t affected = pg_affected(cmd);

	if (!rec->handle2)
		return;
	if (rec->status == PGRES_TUPLES_OK && rec->rows >= 0)
		s->rows = (s->rows < 0 ? 0 : s->rows) + rec->rows;
	if (affected >= 0)
		s->affected = (s->affected < 0 ? 0 : s->affected) + affected;
	if (rec->status == PGRES_FATAL_ERROR) {
		s->failed = true;
		if (err && !s->error)
			s->error = strndup(err, rec->str_len[3]);
	}
}

/* The statement a libpq call names: its text, or the prepared statement it executes. */
static struct db_stmt *pg_statement(struct events *e, const struct custos_db_call *rec,
				    bool prepared)
{
	const char *name = rec_str(rec, 1), *text = rec_str(rec, 0);
	struct db_stmt *known;

	if (!prepared)
		return stmt_new(DBPROBE_POSTGRESQL, rec->handle, text, rec->str_len[0],
				rec->sql_truncated);
	known = pairmap_get(&e->db->prepared, rec->task.tgid, name_key(rec->handle, name));
	if (known)
		return stmt_copy(known);
	/* Prepared before the agent started: the name is all there is. */
	known = stmt_new(DBPROBE_POSTGRESQL, rec->handle, NULL, 0, false);
	if (known && name)
		known->name = strdup(name);
	return known;
}

static void pg_remember_prepared(struct events *e, const struct custos_db_call *rec)
{
	const char *name = rec_str(rec, 1);
	struct db_stmt *s = stmt_new(DBPROBE_POSTGRESQL, rec->handle, rec_str(rec, 0),
				     rec->str_len[0], rec->sql_truncated),
		       *old = NULL;

	if (!s)
		return;
	s->name = strdup(name ? name : "");
	if (pairmap_put(&e->db->prepared, rec->task.tgid, name_key(rec->handle, name), s,
			(void **)&old))
		stmt_free(s);
	else
		stmt_free(old);
}

/* A statement sent; its outcome comes later (libpq async, MySQL). The one before it is done. */
static void start_pending(struct events *e, struct db_stmt *s, const struct custos_db_call *rec)
{
	struct db_stmt *old = NULL;

	if (!s)
		return;
	s->task = rec->task;
	s->start_ns = rec->start_ns;
	s->executing = true;
	if (pairmap_put(&e->db->pending, rec->task.tgid, rec->handle, s, (void **)&old)) {
		stmt_free(s);
		return;
	}
	if (old && old->executing)
		emit_statement(e, old, &old->task, rec->start_ns);
	stmt_free(old);
}

static void finish_pending(struct events *e, uint32_t tgid, uint64_t conn, uint64_t end_ns)
{
	struct db_stmt *s = pairmap_remove(&e->db->pending, tgid, conn);

	if (s && s->executing && s->text)
		emit_statement(e, s, &s->task, end_ns);
	stmt_free(s);
}

static void on_pg_call(struct events *e, const struct custos_db_call *rec, uint32_t func)
{
	struct db_stmt *s, *p;

	switch (func) {
	case CUSTOS_DB_PQ_EXEC:
	case CUSTOS_DB_PQ_EXEC_PARAMS:
	case CUSTOS_DB_PQ_EXEC_PREPARED:
		s = pg_statement(e, rec, func == CUSTOS_DB_PQ_EXEC_PREPARED);
		if (!s)
			return;
		s->start_ns = rec->start_ns;
		if (!rec->handle2)
			s->failed = true;
		pg_result_into(s, rec);
		emit_statement(e, s, &rec->task, rec->hdr.ktime_ns);
		stmt_free(s);
		break;
	case CUSTOS_DB_PQ_PREPARE:
		pg_remember_prepared(e, rec);
		break;
	case CUSTOS_DB_PQ_SEND_QUERY:
	case CUSTOS_DB_PQ_SEND_QUERY_PARAMS:
	case CUSTOS_DB_PQ_SEND_QUERY_PREPARED:
		if (rec->ret != 1)
			return;
		start_pending(e, pg_statement(e, rec, func == CUSTOS_DB_PQ_SEND_QUERY_PREPARED),
			      rec);
		break;
	case CUSTOS_DB_PQ_SEND_PREPARE:
		if (rec->ret == 1)
			pg_remember_prepared(e, rec);
		break;
	case CUSTOS_DB_PQ_GET_RESULT:
		p = pairmap_get(&e->db->pending, rec->task.tgid, rec->handle);
		if (!rec->handle2)
			finish_pending(e, rec->task.tgid, rec->handle, rec->hdr.ktime_ns);
		else if (p)
			pg_result_into(p, rec);
		break;
	case CUSTOS_DB_PQ_FINISH:
		finish_pending(e, rec->task.tgid, rec->handle, rec->hdr.ktime_ns);
		conn_free(pairmap_remove(&e->db->conns, rec->task.tgid, rec->handle));
		break;
	}
}

/* What sqlite3_errstr() says of the primary result codes a prepare or a step fails with. */
static const char *sqlite_errstr(int rc)
{
	switch (rc & 0xff) {
	case 1:
		return "SQL logic error";
	case 5:
		return "database is locked";
	case 6:
		return "database table is locked";
	case 7:
		return "out of memory";
	case 11:
		return "database disk image is malformed";
	case 14:
		return "unable to open database file";
	case 18:
		return "string or blob too big";
	case 19:
		return "constraint failed";
	case 21:
		return "bad parameter or other API misuse";
	case 23:
		return "authorization denied";
	case 26:
		return "file is not a database";
	default:
		return "unknown error";
	}
}

/*
 * A statement the library refused to prepare (no such table, a syntax error):
 * it never ran, but it was tried, as a failing statement of the other paths.
 */
static void emit_refused(struct events *e, const struct custos_db_call *rec,
			 enum dbprobe_system sys, uint64_t conn, const char *error)
{
	struct db_stmt *s;

	if (!rec->str_len[0])
		return;
	s = stmt_new(sys, conn, rec_str(rec, 0), rec->str_len[0], rec->sql_truncated);
	if (!s)
		return;
	s->start_ns = rec->start_ns;
	s->failed = true;
	s->error = error ? strdup(error) : NULL;
	emit_statement(e, s, &rec->task, rec->hdr.ktime_ns);
	stmt_free(s);
}

static void on_mysql_call(struct events *e, const struct custos_db_call *rec, uint32_t func)
{
	struct db_stmt *s, *old = NULL;
	struct db_conn *c;

	switch (func) {
	case CUSTOS_DB_MY_SELECT_DB:
		c = pairmap_get(&e->db->conns, rec->task.tgid, rec->handle);
		if (c && rec->ret == 0) {
			free(c->name);
			c->name = dup_str(rec, 1);
		}
		break;
	case CUSTOS_DB_MY_REAL_QUERY:
	case CUSTOS_DB_MY_SEND_QUERY:
		s = stmt_new(DBPROBE_MYSQL, rec->handle, rec_str(rec, 0), rec->str_len[0],
			     rec->sql_truncated);
		if (s)
			s->failed = rec->ret != 0;
		start_pending(e, s, rec);
		break;
	case CUSTOS_DB_MY_READ_QUERY_RESULT:
		s = pairmap_get(&e->db->pending, rec->task.tgid, rec->handle);
		if (s && rec->ret != 0)
			s->failed = true;
		break;
	case CUSTOS_DB_MY_STORE_RESULT:
	case CUSTOS_DB_MY_USE_RESULT:
		/* A result set ends the statement; none (an UPDATE) waits for its affected rows. */
		s = pairmap_get(&e->db->pending, rec->task.tgid, rec->handle);
		if (!s || !rec->handle2)
			break;
		if (rec->rows >= 0 && func == CUSTOS_DB_MY_STORE_RESULT)
			s->rows = rec->rows;
		finish_pending(e, rec->task.tgid, rec->handle, rec->hdr.ktime_ns);
		break;
	case CUSTOS_DB_MY_AFFECTED_ROWS:
		s = pairmap_get(&e->db->pending, rec->task.tgid, rec->handle);
		if (!s)
			break;
		if (rec->ret != (uint64_t)-1)
			s->affected = rec->ret;
		finish_pending(e, rec->task.tgid, rec->handle, rec->hdr.ktime_ns);
		break;
	case CUSTOS_DB_MY_STMT_PREPARE:
		if ((int)rec->ret != 0) {
			emit_refused(e, rec, DBPROBE_MYSQL, 0, NULL);
			return;
		}
		s = stmt_new(DBPROBE_MYSQL, 0, rec_str(rec, 0), rec->str_len[0],
			     rec->sql_truncated);
		if (s &&
		    !pairmap_put(&e->db->prepared, rec->task.tgid, rec->handle, s, (void **)&old))
			stmt_free(old);
		else
			stmt_free(s);
		break;
	case CUSTOS_DB_MY_STMT_EXECUTE:
		old = pairmap_get(&e->db->prepared, rec->task.tgid, rec->handle);
		if (!old)
			return;
		s = stmt_copy(old);
		if (!s)
			return;
		s->start_ns = rec->start_ns;
		s->failed = rec->ret != 0;
		emit_statement(e, s, &rec->task, rec->hdr.ktime_ns);
		stmt_free(s);
		break;
	case CUSTOS_DB_MY_CLOSE:
		finish_pending(e, rec->task.tgid, rec->handle, rec->hdr.ktime_ns);
		conn_free(pairmap_remove(&e->db->conns, rec->task.tgid, rec->handle));
		break;
	}
}

static void on_sqlite_call(struct events *e, const struct custos_db_call *rec, uint32_t func)
{
	struct db_stmt *s, *old = NULL;

	switch (func) {
	case CUSTOS_DB_SQ_PREPARE_V2:
	case CUSTOS_DB_SQ_PREPARE_V3:
	case CUSTOS_DB_SQ_LOCK_AND_PREPARE:
		if ((int)rec->ret != 0)
			emit_refused(e, rec, DBPROBE_SQLITE, rec->handle, sqlite_errstr(rec->ret));
		if ((int)rec->ret != 0 || !rec->handle2)
			return;
		s = stmt_new(DBPROBE_SQLITE, rec->handle, rec_str(rec, 0), rec->str_len[0],
			     rec->sql_truncated);
		if (s && !e->cfg->databases.sqlite_rows) {
			/* Steps are not probed: the statement is reported once, as it is prepared.
			 */
			s->start_ns = rec->start_ns;
			emit_statement(e, s, &rec->task, rec->hdr.ktime_ns);
			stmt_free(s);
		} else if (s && !pairmap_put(&e->db->prepared, rec->task.tgid, rec->handle2, s,
					     (void **)&old))
			stmt_free(old);
		else
			stmt_free(s);
		break;
	case CUSTOS_DB_SQ_RESET:
	case CUSTOS_DB_SQ_FINALIZE:
		s = pairmap_get(&e->db->prepared, rec->task.tgid, rec->handle);
		if (s) {
			s->start_ns = rec->start_ns;
			s->rows = rec->rows;
			/* A step failed (a constraint...): status is its result code. */
			s->failed = rec->status > 0;
			s->error = s->failed ? strdup(sqlite_errstr(rec->status)) : NULL;
			/* sqlite3_changes() after its last step: an INSERT, UPDATE, DELETE's own.
			 */
			s->affected = rec->handle2 && !s->failed ? (int64_t)(rec->handle2 - 1) : -1;
			emit_statement(e, s, &rec->task, rec->hdr.ktime_ns);
			s->rows = -1;
			s->affected = -1;
			s->failed = false;
			free(s->error);
			s->error = NULL;
		}
		if (func == CUSTOS_DB_SQ_FINALIZE)
			stmt_free(pairmap_remove(&e->db->prepared, rec->task.tgid, rec->handle));
		break;
	case CUSTOS_DB_SQ_CLOSE:
		conn_free(pairmap_remove(&e->db->conns, rec->task.tgid, rec->handle));
		break;
	}
}

int events_db_call(struct events *e, const struct custos_db_call *rec, size_t size)
{
	uint32_t func;
	enum dbprobe_system sys;

	if (!rec_valid(rec, size))
		return -EINVAL;
	if (!e->db) {
		e->db = calloc(1, sizeof(*e->db));
		if (!e->db)
			return -ENOMEM;
	}
	func = rec->func & CUSTOS_DB_FUNC_MASK;
	sys = func_system[func];
	switch (func) {
	case CUSTOS_DB_PQ_CONNECTDB:
	case CUSTOS_DB_PQ_CONNECTDB_PARAMS:
	case CUSTOS_DB_PQ_CONNECT_START:
	case CUSTOS_DB_PQ_CONNECT_START_PARAMS:
	case CUSTOS_DB_PQ_SETDB_LOGIN:
		if (rec->handle)
			on_connect(e, rec, DBPROBE_POSTGRESQL);
		return 0;
	case CUSTOS_DB_MY_REAL_CONNECT:
		if (rec->ret)
			on_connect(e, rec, DBPROBE_MYSQL);
		return 0;
	case CUSTOS_DB_SQ_OPEN:
	case CUSTOS_DB_SQ_OPEN_V2:
		on_sqlite_open(e, rec);
		return 0;
	}
	if (sys == DBPROBE_POSTGRESQL)
		on_pg_call(e, rec, func);
	else if (sys == DBPROBE_MYSQL)
		on_mysql_call(e, rec, func);
	else
		on_sqlite_call(e, rec, func);
	return 0;
}

/* Statements whose outcome never came (a client that did not ask for its results). */
void events_db_tick(struct events *e, uint64_t now_ns)
{
	struct db_stmt *s;
	uint64_t conn;
	uint32_t tgid;
	void *it = NULL;

	if (!e->db)
		return;
	while (pairmap_next(&e->db->pending, &it, &tgid, &conn, (void **)&s))
		if (s->executing && s->start_ns + PENDING_TIMEOUT_NS < now_ns)
			finish_pending(e, tgid, conn, now_ns);
}
