// SPDX-License-Identifier: GPL-2.0
/*
 * The MySQL/MariaDB client/server protocol of one connection, from the
 * packets the kernel forwards. The server answers each command in order,
 * so the client's commands wait in a queue: a COM_QUERY is answered by an
 * OK, an ERR, or a result set whose end the kernel forwards with the rows
 * it counted; a status with SERVER_MORE_RESULTS_EXISTS says another answer
 * of the same command follows (several statements in one, a procedure's
 * results). A COM_STMT_PREPARE's OK gives the statement's id, which the
 * COM_STMT_EXECUTEs name; COM_STMT_CLOSE has no answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mywire.h"

#define PREPARED_MAX 256  /* statements kept per connection: a client that prepares more */
			  /* loses the oldest (its executions are reported without text) */
#define PENDING_MAX  4096 /* commands sent and not answered */

#define MY_COM_INIT_DB	    0x02
#define MY_COM_QUERY	    0x03
#define MY_COM_STATISTICS   0x09
#define MY_COM_STMT_PREPARE 0x16
#define MY_COM_STMT_EXECUTE 0x17
#define MY_COM_STMT_CLOSE   0x19
#define MY_COM_STMT_FETCH   0x1c
#define MY_COM_QUIT	    0x01
#define MY_OK		    0x00
#define MY_EOF		    0xfe
#define MY_ERR		    0xff

#define MY_CLIENT_DEPRECATE_EOF (1U << 24)
#define MY_STATUS_MORE_RESULTS	0x0008
#define MY_STATUS_LAST_ROW_SENT 0x0080
#define MY_PROGRESS		0xffff /* MariaDB: an ERR packet that is a progress report */

enum my_cmd_kind { CMD_QUERY, CMD_PREPARE, CMD_EXECUTE, CMD_INIT_DB, CMD_OTHER };

/* A command sent and not yet answered (in full). */
struct my_cmd {
	enum my_cmd_kind kind;
	char *text; /* NULL: not seen */
	size_t len;
	bool truncated;
	char prepared_name[12]; /* EXECUTE: the statement's id */
	uint32_t stmt_id;
	bool cursor; /* EXECUTE: its rows come in COM_STMT_FETCH answers */
	int64_t rows, affected;
	bool failed, library;
	char *error_code, *error;
	uint64_t start_ns;
	struct custos_task task;
};

struct my_prepared {
	uint32_t id;
	char *text;
	size_t len;
	bool truncated;
};

struct mywire {
	char *user, *database;
	uint32_t caps;
	struct my_prepared prepared[PREPARED_MAX];
	size_t n_prepared;
	struct wire_queue pending;
	uint64_t dropped;
};

/* A length-encoded integer at *off of body; false if it does not fit in it. */
static bool take_lenenc(const uint8_t *body, size_t len, size_t *off, uint64_t *v)
{
	size_t n, i;
	uint8_t first;

	if (*off >= len)
		return false;
	first = body[(*off)++];
	if (first < 0xfb) {
		*v = first;
		return true;
	}
	n = first == 0xfc ? 2 : first == 0xfd ? 3 : first == 0xfe ? 8 : 0;
	if (!n || len - *off < n)
		return false;
	*v = 0;
	for (i = 0; i < n; i++)
		*v |= (uint64_t)body[*off + i] << (8 * i);
	*off += n;
	return true;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static char *copy_text(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void cmd_free(struct my_cmd *x)
{
	if (!x)
		return;
	free(x->text);
	free(x->error_code);
	free(x->error);
	free(x);
}

static bool reported(const struct my_cmd *x)
{
	return (x->kind == CMD_QUERY || x->kind == CMD_EXECUTE ||
		(x->kind == CMD_PREPARE && x->failed)) &&
	       !x->library;
}

static void cmd_emit(const struct my_cmd *x, uint64_t end_ns, bool incomplete, wire_emit_fn emit,
		     void *ctx)
{
	struct wire_statement s = {
	    .text = x->text,
	    .len = x->len,
	    .truncated = x->truncated,
	    .prepared_name = x->prepared_name[0] ? x->prepared_name : NULL,
	    .rows = x->rows,
	    .affected = x->affected,
	    .failed = x->failed,
	    .incomplete = incomplete,
	    .sqlstate = x->error_code,
	    .error = x->error,
	    .library = x->library,
	    .start_ns = x->start_ns,
	    .end_ns = end_ns,
	    .task = &x->task,
	};

	if (emit && reported(x))
		emit(ctx, &s);
}

/* x waits for its answer; lost (freed) if it cannot be queued. */
static void push(struct mywire *c, struct my_cmd *x)
{
	if (!wire_queue_push(&c->pending, x)) {
		c->dropped++;
		cmd_free(x);
	}
}

static struct my_cmd *pop(struct mywire *c)
{
	return wire_queue_pop(&c->pending);
}

/* The head command is answered in full: reported, and gone. */
static void finish(struct mywire *c, uint64_t end_ns, wire_emit_fn emit, void *ctx)
{
	struct my_cmd *x = pop(c);

	if (!x)
		return;
	cmd_emit(x, end_ns, false, emit, ctx);
	cmd_free(x);
}

static struct my_cmd *cmd_new(struct mywire *c, enum my_cmd_kind kind, const struct wire_msg *m)
{
	struct my_cmd *x;

	if (c->pending.n >= PENDING_MAX) {
		c->dropped++;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->kind = kind;
	x->rows = -1;
	x->affected = -1;
	x->library = m->library;
	x->start_ns = m->time_ns;
	if (m->task)
		x->task = *m->task;
	return x;
}

static struct my_prepared *find_prepared(struct mywire *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->n_prepared; i++)
		if (c->prepared[i].id == id)
			return &c->prepared[i];
	return NULL;
}

static void forget_prepared(struct mywire *c, struct my_prepared *p)
{
	free(p->text);
	*p = c->prepared[--c->n_prepared];
}

/* The login: the user, then the schema if the client named one. */
static void on_login(struct mywire *c, const struct wire_msg *m)
{
	const uint8_t *nul = m->len ? memchr(m->body, '\0', m->len) : NULL;
	size_t user_len, rest;
	const uint8_t *schema, *end;

	c->caps = m->code;
	if (!nul)
		return;
	user_len = (size_t)(nul - m->body);
	free(c->user);
	c->user = user_len ? copy_text(m->body, user_len) : NULL;
	schema = nul + 1;
	rest = m->len - user_len - 1;
	end = rest ? memchr(schema, '\0', rest) : NULL;
	if (end && end > schema) {
		free(c->database);
		c->database = copy_text(schema, (size_t)(end - schema));
	}
}

static void on_execute(struct mywire *c, const struct wire_msg *m)
{
	struct my_prepared *p;
	struct my_cmd *x;

	if (m->len < 4 || !(x = cmd_new(c, CMD_EXECUTE, m)))
		return;
	x->stmt_id = le32(m->body);
	snprintf(x->prepared_name, sizeof(x->prepared_name), "%u", x->stmt_id);
	p = find_prepared(c, x->stmt_id);
	if (p && p->text) {
		x->text = copy_text((const uint8_t *)p->text, p->len);
		x->len = p->len;
		x->truncated = p->truncated;
	}
	push(c, x);
}

/* COM_STMT_FETCH: a cursor opened by the EXECUTE still waiting goes on giving rows. */
static void on_fetch(struct mywire *c, const struct wire_msg *m)
{
	struct my_cmd *x = wire_queue_tail(&c->pending);

	if (m->len >= 4 && x && x->kind == CMD_EXECUTE && x->stmt_id == le32(m->body))
		x->cursor = true;
}

static void on_frontend(struct mywire *c, const struct wire_msg *m)
{
	enum my_cmd_kind kind = CMD_OTHER;
	struct my_prepared *p;
	struct my_cmd *x;

	switch (m->type) {
	case 0:
		on_login(c, m);
		return;
	case MY_COM_QUIT:
	case MY_COM_STATISTICS: /* its answer is not forwarded */
		return;
	case MY_COM_STMT_EXECUTE:
		on_execute(c, m);
		return;
	case MY_COM_STMT_FETCH:
		on_fetch(c, m);
		return;
	case MY_COM_STMT_CLOSE:
		if (m->len >= 4 && (p = find_prepared(c, le32(m->body))))
			forget_prepared(c, p);
		return;
	case MY_COM_QUERY:
		kind = CMD_QUERY;
		break;
	case MY_COM_STMT_PREPARE:
		kind = CMD_PREPARE;
		break;
	case MY_COM_INIT_DB:
		kind = CMD_INIT_DB;
		break;
	}
	x = cmd_new(c, kind, m);
	if (!x)
		return;
	if (kind != CMD_OTHER && m->len) {
		x->text = copy_text(m->body, m->len);
		x->len = x->text ? m->len : 0;
		x->truncated = m->truncated;
	}
	push(c, x);
}

/* COM_STMT_PREPARE's OK: the id its executions name. */
static void on_prepared(struct mywire *c, const struct wire_msg *m)
{
	struct my_cmd *x = pop(c);
	struct my_prepared *p = find_prepared(c, m->code);

	if (p) {
		free(p->text);
	} else {
		if (c->n_prepared == PREPARED_MAX)
			forget_prepared(c, &c->prepared[0]);
		p = &c->prepared[c->n_prepared++];
	}
	p->id = m->code;
	p->text = x->text;
	p->len = x->len;
	p->truncated = x->truncated;
	x->text = NULL;
	cmd_free(x);
}

/* The status flags of an OK packet (also the end of rows without EOF packets). */
static unsigned ok_status(const struct wire_msg *m, uint64_t *affected)
{
	uint64_t insert_id;
	size_t off = 0;

	if (!take_lenenc(m->body, m->len, &off, affected) ||
	    !take_lenenc(m->body, m->len, &off, &insert_id) || m->len - off < 2)
		return 0;
	return m->body[off] | m->body[off + 1] << 8;
}

static void on_ok(struct mywire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct my_cmd *x = wire_queue_head(&c->pending);
	uint64_t affected = 0;
	unsigned status;

	if (x->kind == CMD_PREPARE) {
		on_prepared(c, m);
		return;
	}
	status = ok_status(m, &affected);
	if (x->kind == CMD_INIT_DB && x->text) {
		free(c->database);
		c->database = strdup(x->text);
	}
	if ((x->kind == CMD_QUERY || x->kind == CMD_EXECUTE) && affected <= INT64_MAX)
		x->affected = (x->affected < 0 ? 0 : x->affected) + (int64_t)affected;
	if (!(status & MY_STATUS_MORE_RESULTS))
		finish(c, m->time_ns, emit, ctx);
}

/* ERR: the error number, the SQLSTATE after '#' (protocol 4.1), the message. */
static void on_err(struct mywire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct my_cmd *x = wire_queue_head(&c->pending);
	unsigned code;
	size_t off = 2;
	char num[8];

	if (m->len < 2)
		return;
	code = m->body[0] | m->body[1] << 8;
	if (code == MY_PROGRESS)
		return;
	if (m->len >= 8 && m->body[2] == '#')
		off = 8;
	x->failed = true;
	snprintf(num, sizeof(num), "%u", code);
	free(x->error_code);
	x->error_code = strdup(num);
	free(x->error);
	x->error = copy_text(m->body + off, m->len - off);
	finish(c, m->time_ns, emit, ctx);
}

/* The end of a result set's rows: an EOF packet, or an OK one without them. */
static void on_end_of_rows(struct mywire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct my_cmd *x = wire_queue_head(&c->pending);
	uint64_t affected = 0;
	unsigned status = 0;

	if (x->rows < 0 && (x->kind == CMD_QUERY || x->kind == CMD_EXECUTE))
		x->rows = 0;
	if (c->caps & MY_CLIENT_DEPRECATE_EOF)
		status = ok_status(m, &affected);
	else if (m->len >= 4)
		status = m->body[2] | m->body[3] << 8;
	if (status & MY_STATUS_MORE_RESULTS)
		return;
	if (x->cursor && !(status & MY_STATUS_LAST_ROW_SENT))
		return; /* more rows to fetch */
	finish(c, m->time_ns, emit, ctx);
}

static void on_backend(struct mywire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct my_cmd *x = wire_queue_head(&c->pending);

	if (!x)
		return;
	if (m->rows && (x->kind == CMD_QUERY || x->kind == CMD_EXECUTE))
		x->rows = (x->rows < 0 ? 0 : x->rows) + m->rows;
	switch (m->type) {
	case MY_OK:
		on_ok(c, m, emit, ctx);
		break;
	case MY_ERR:
		on_err(c, m, emit, ctx);
		break;
	case MY_EOF:
		on_end_of_rows(c, m, emit, ctx);
		break;
	}
}

struct mywire *mywire_new(void)
{
	return calloc(1, sizeof(struct mywire));
}

void mywire_message(struct mywire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	if (m->stream == CUSTOS_WIRE_FRONTEND)
		on_frontend(c, m);
	else
		on_backend(c, m, emit, ctx);
}

void mywire_free(struct mywire *c, uint64_t end_ns, wire_emit_fn emit, void *ctx)
{
	struct my_cmd *x;

	if (!c)
		return;
	while ((x = pop(c))) {
		cmd_emit(x, end_ns, true, emit, ctx);
		cmd_free(x);
	}
	while (c->n_prepared)
		forget_prepared(c, &c->prepared[c->n_prepared - 1]);
	wire_queue_free(&c->pending);
	free(c->user);
	free(c->database);
	free(c);
}

const char *mywire_user(const struct mywire *c)
{
	return c->user;
}

const char *mywire_database(const struct mywire *c)
{
	return c->database;
}

uint64_t mywire_dropped(const struct mywire *c)
{
	return c->dropped;
}
