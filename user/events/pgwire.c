// SPDX-License-Identifier: GPL-2.0
/*
 * The PostgreSQL v3 protocol of one connection, from the messages the kernel
 * forwards. The server answers in order, so the client's executions wait in
 * a queue: a simple Query is answered by one CommandComplete per statement
 * in it and ends at ReadyForQuery; an Execute ends at its CommandComplete,
 * PortalSuspended (a cursor fetched in parts, continued by the next Execute
 * of its portal) or ErrorResponse; after an error the server skips every
 * message up to the next Sync, so executions still queued when ReadyForQuery
 * comes never ran. Row messages were counted in the kernel: each message
 * carries those of its stream since the previous one, and they belong to
 * the execution at the head of the queue.
 */
#include <stdlib.h>
#include <string.h>

#include "pgwire.h"

#define PREPARED_MAX 256  /* statements kept per connection: a client that prepares more */
#define PORTALS_MAX  64	  /* loses the oldest (reported as unknown text) */
#define PENDING_MAX  4096 /* executions sent and not answered */

#define PG_PROTOCOL_3(code) ((code) >> 16 == 3)

/* A statement's text, as sent (NULL: not seen). */
struct pg_text {
	char *text;
	size_t len;
	bool truncated;
};

struct pg_prepared {
	char *name;
	struct pg_text t;
};

/* What waits for the server's answer (a Parse: in case it is refused). */
enum pg_exec_kind { EXEC_QUERY, EXEC_PARSE, EXEC_EXECUTE, EXEC_SYNC };

/* An execution sent and not yet answered (or a Sync). */
struct pg_exec {
	enum pg_exec_kind kind;
	struct pg_text t;
	char *prepared_name;
	char *portal;
	int64_t rows, affected;
	bool failed, library;
	char *sqlstate, *error;
	uint64_t start_ns;
	struct custos_task task;
};

struct pg_portal {
	char *name;
	char *prepared_name;
	struct pg_text t;
	struct pg_exec *suspended; /* fetched in part: the next Execute continues it */
};

struct pgwire {
	char *user, *database;
	struct pg_prepared prepared[PREPARED_MAX];
	size_t n_prepared;
	struct pg_portal portals[PORTALS_MAX];
	size_t n_portals;
	struct wire_queue pending;
	uint64_t dropped; /* executions not followed: PENDING_MAX were waiting */
};

/* A NUL-terminated string at *off of body, or NULL if it does not end inside it. */
static const char *take_cstr(const uint8_t *body, size_t len, size_t *off)
{
	const char *s = (const char *)body + *off;
	const uint8_t *nul;

	if (*off >= len)
		return NULL;
	nul = memchr(body + *off, '\0', len - *off);
	if (!nul)
		return NULL;
	*off = (size_t)(nul - body) + 1;
	return s;
}

static void text_free(struct pg_text *t)
{
	free(t->text);
	memset(t, 0, sizeof(*t));
}

static void text_copy(struct pg_text *to, const struct pg_text *from)
{
	memset(to, 0, sizeof(*to));
	if (!from->text)
		return;
	to->text = malloc(from->len + 1);
	if (!to->text)
		return;
	memcpy(to->text, from->text, from->len);
	to->text[from->len] = '\0';
	to->len = from->len;
	to->truncated = from->truncated;
}

/* The text at *off: up to its NUL, or to the end of what was forwarded (then cut). */
static void text_take(struct pg_text *t, const struct wire_msg *m, size_t off)
{
	size_t n = off < m->len ? m->len - off : 0;
	const uint8_t *nul = n ? memchr(m->body + off, '\0', n) : NULL;

	memset(t, 0, sizeof(*t));
	if (nul)
		n = (size_t)(nul - (m->body + off));
	t->text = malloc(n + 1);
	if (!t->text)
		return;
	memcpy(t->text, m->body + off, n);
	t->text[n] = '\0';
	t->len = n;
	t->truncated = !nul;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void exec_free(struct pg_exec *x)
{
	if (!x)
		return;
	text_free(&x->t);
	free(x->prepared_name);
	free(x->portal);
	free(x->sqlstate);
	free(x->error);
	free(x);
}

static void exec_emit(const struct pg_exec *x, uint64_t end_ns, bool incomplete, wire_emit_fn emit,
		      void *ctx)
{
	struct wire_statement s = {
	    .text = x->t.text,
	    .len = x->t.len,
	    .truncated = x->t.truncated,
	    .prepared_name = x->prepared_name,
	    .rows = x->rows,
	    .affected = x->affected,
	    .failed = x->failed,
	    .incomplete = incomplete,
	    .sqlstate = x->sqlstate,
	    .error = x->error,
	    .library = x->library,
	    .start_ns = x->start_ns,
	    .end_ns = end_ns,
	    .task = &x->task,
	};

	if (emit)
		emit(ctx, &s);
}

/* x waits for its answer; lost (freed) if it cannot be queued. */
static void push(struct pgwire *c, struct pg_exec *x)
{
	if (!wire_queue_push(&c->pending, x)) {
		c->dropped++;
		exec_free(x);
	}
}

static struct pg_exec *pop(struct pgwire *c)
{
	return wire_queue_pop(&c->pending);
}

static struct pg_exec *exec_new(struct pgwire *c, enum pg_exec_kind kind, const struct wire_msg *m)
{
	struct pg_exec *x;

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

static struct pg_prepared *find_prepared(struct pgwire *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_prepared; i++)
		if (!strcmp(c->prepared[i].name, name))
			return &c->prepared[i];
	return NULL;
}

static struct pg_portal *find_portal(struct pgwire *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_portals; i++)
		if (!strcmp(c->portals[i].name, name))
			return &c->portals[i];
	return NULL;
}

static void forget_prepared(struct pgwire *c, struct pg_prepared *p)
{
	free(p->name);
	text_free(&p->t);
	*p = c->prepared[--c->n_prepared];
}

/* A portal's end: a cursor fetched in part is reported with the rows it gave. */
static void forget_portal(struct pgwire *c, struct pg_portal *p, uint64_t end_ns, wire_emit_fn emit,
			  void *ctx)
{
	if (p->suspended && !p->suspended->library)
		exec_emit(p->suspended, end_ns, false, emit, ctx);
	exec_free(p->suspended);
	free(p->name);
	free(p->prepared_name);
	text_free(&p->t);
	*p = c->portals[--c->n_portals];
}

static void on_startup(struct pgwire *c, const struct wire_msg *m)
{
	const char *key, *value;
	size_t off = 0;

	if (!PG_PROTOCOL_3(m->code))
		return;
	while ((key = take_cstr(m->body, m->len, &off)) && *key &&
	       (value = take_cstr(m->body, m->len, &off))) {
		if (!strcmp(key, "user")) {
			free(c->user);
			c->user = strdup(value);
		} else if (!strcmp(key, "database")) {
			free(c->database);
			c->database = strdup(value);
		}
	}
	if (!c->database && c->user)
		c->database = strdup(c->user); /* the server's default */
}

static void on_parse(struct pgwire *c, const struct wire_msg *m)
{
	size_t off = 0;
	const char *name = take_cstr(m->body, m->len, &off);
	struct pg_prepared *p;
	struct pg_exec *x;

	if (!name)
		return;
	/* Its answer: ParseComplete, or the error that says why the statement never ran. */
	x = exec_new(c, EXEC_PARSE, m);
	if (x) {
		text_take(&x->t, m, off);
		if (*name)
			x->prepared_name = strdup(name);
		push(c, x);
	}
	p = find_prepared(c, name);
	if (p) {
		text_free(&p->t);
	} else {
		if (c->n_prepared == PREPARED_MAX)
			forget_prepared(c, &c->prepared[0]);
		p = &c->prepared[c->n_prepared];
		p->name = strdup(name);
		if (!p->name)
			return;
		c->n_prepared++;
	}
	text_take(&p->t, m, off);
}

static void on_bind(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	size_t off = 0;
	const char *portal = take_cstr(m->body, m->len, &off);
	const char *stmt = take_cstr(m->body, m->len, &off);
	struct pg_prepared *p;
	struct pg_portal *q;

	if (!portal)
		return;
	q = find_portal(c, portal);
	if (q)
		forget_portal(c, q, m->time_ns, emit, ctx);
	if (c->n_portals == PORTALS_MAX)
		forget_portal(c, &c->portals[0], m->time_ns, emit, ctx);
	q = &c->portals[c->n_portals];
	memset(q, 0, sizeof(*q));
	q->name = strdup(portal);
	if (!q->name)
		return;
	c->n_portals++;
	p = stmt ? find_prepared(c, stmt) : NULL;
	if (p)
		text_copy(&q->t, &p->t);
	if (stmt && *stmt)
		q->prepared_name = strdup(stmt);
}

static void on_execute(struct pgwire *c, const struct wire_msg *m)
{
	size_t off = 0;
	const char *portal = take_cstr(m->body, m->len, &off);
	struct pg_portal *q = portal ? find_portal(c, portal) : NULL;
	struct pg_exec *x;

	if (q && q->suspended) {
		/* The next part of a cursor: the same execution goes on. */
		x = q->suspended;
		q->suspended = NULL;
		push(c, x);
		return;
	}
	x = exec_new(c, EXEC_EXECUTE, m);
	if (!x)
		return;
	if (q) {
		text_copy(&x->t, &q->t);
		x->prepared_name = dup_or_null(q->prepared_name);
	}
	x->portal = dup_or_null(portal);
	push(c, x);
}

static void on_close(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	size_t off = 1;
	const char *name;
	struct pg_prepared *p;
	struct pg_portal *q;

	if (m->len < 1 || !(name = take_cstr(m->body, m->len, &off)))
		return;
	if (m->body[0] == 'S' && (p = find_prepared(c, name)))
		forget_prepared(c, p);
	else if (m->body[0] == 'P' && (q = find_portal(c, name)))
		forget_portal(c, q, m->time_ns, emit, ctx);
}

static void on_frontend(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct pg_exec *x;

	switch (m->type) {
	case 0:
		on_startup(c, m);
		break;
	case 'Q':
		x = exec_new(c, EXEC_QUERY, m);
		if (!x)
			return;
		text_take(&x->t, m, 0);
		push(c, x);
		break;
	case 'P':
		on_parse(c, m);
		break;
	case 'B':
		on_bind(c, m, emit, ctx);
		break;
	case 'E':
		on_execute(c, m);
		break;
	case 'C':
		on_close(c, m, emit, ctx);
		break;
	case 'S':
		x = exec_new(c, EXEC_SYNC, m);
		if (x)
			push(c, x);
		break;
	}
}

/* "UPDATE 3", "INSERT 0 3", "DELETE 3", "MERGE 3", "COPY 3": the rows a command changed. */
static int64_t tag_affected(const char *tag)
{
	static const char *const changing[] = {"UPDATE ", "INSERT ", "DELETE ", "MERGE ", "COPY "};
	const char *last;
	int64_t n = 0;
	size_t i;

	for (i = 0; i < sizeof(changing) / sizeof(changing[0]); i++)
		if (!strncmp(tag, changing[i], strlen(changing[i])))
			break;
	if (i == sizeof(changing) / sizeof(changing[0]))
		return -1;
	last = strrchr(tag, ' ');
	if (!last[1])
		return -1;
	for (last++; *last; last++) {
		if (*last < '0' || *last > '9' || n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*last - '0');
	}
	return n;
}

static void on_complete(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct pg_exec *x = wire_queue_head(&c->pending);
	const char *tag;
	size_t off = 0;
	int64_t n;

	if (!x || (x->kind != EXEC_QUERY && x->kind != EXEC_EXECUTE) ||
	    !(tag = take_cstr(m->body, m->len, &off)))
		return;
	n = tag_affected(tag);
	if (n >= 0)
		x->affected = (x->affected < 0 ? 0 : x->affected) + n;
	if ((!strncmp(tag, "SELECT ", 7) || !strncmp(tag, "FETCH ", 6)) && x->rows < 0)
		x->rows = 0;
	if (x->kind == EXEC_EXECUTE) {
		pop(c);
		if (!x->library)
			exec_emit(x, m->time_ns, false, emit, ctx);
		exec_free(x);
	}
}

/* An SQLSTATE is five digits or upper-case letters: anything else a server sends is not kept. */
static bool sqlstate_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 5; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return s[5] == '\0';
}

/* ErrorResponse: fields by their type byte; the code and the message are kept. */
static void on_error(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct pg_exec *x = wire_queue_head(&c->pending);
	const char *value;
	size_t off = 0;
	uint8_t field;

	if (!x || x->kind == EXEC_SYNC || x->failed)
		return;
	x->failed = true;
	while (off < m->len && (field = m->body[off++]) != 0 &&
	       (value = take_cstr(m->body, m->len, &off))) {
		if (field == 'C' && !x->sqlstate && sqlstate_valid(value))
			x->sqlstate = strdup(value);
		else if (field == 'M' && !x->error)
			x->error = strdup(value);
	}
	if (x->kind != EXEC_QUERY) {
		pop(c);
		if (!x->library)
			exec_emit(x, m->time_ns, false, emit, ctx);
		exec_free(x);
	}
}

/* PortalSuspended: the rows so far wait in the portal for the next Execute. */
static void on_suspended(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct pg_exec *x = wire_queue_head(&c->pending);
	struct pg_portal *q;

	if (!x || x->kind != EXEC_EXECUTE)
		return;
	pop(c);
	if (x->rows < 0)
		x->rows = 0;
	q = x->portal ? find_portal(c, x->portal) : NULL;
	if (!q) {
		if (!x->library)
			exec_emit(x, m->time_ns, false, emit, ctx);
		exec_free(x);
		return;
	}
	exec_free(q->suspended);
	q->suspended = x;
}

/* ReadyForQuery: everything up to the client's Sync (or its Query) is answered. */
static void on_ready(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct pg_exec *x;

	while ((x = pop(c))) {
		enum pg_exec_kind kind = x->kind;

		if (kind == EXEC_QUERY && !x->library)
			exec_emit(x, m->time_ns, false, emit, ctx);
		exec_free(x); /* a Parse or Execute unanswered here was skipped after an error */
		if (kind == EXEC_QUERY || kind == EXEC_SYNC)
			break;
	}
	/* Idle: the transaction ended, and with it every portal. */
	if (m->len >= 1 && m->body[0] == 'I')
		while (c->n_portals)
			forget_portal(c, &c->portals[c->n_portals - 1], m->time_ns, emit, ctx);
}

static void on_backend(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	struct pg_exec *x = wire_queue_head(&c->pending);

	if (m->rows && x && (x->kind == EXEC_QUERY || x->kind == EXEC_EXECUTE))
		x->rows = (x->rows < 0 ? 0 : x->rows) + m->rows;
	switch (m->type) {
	case 'C':
		on_complete(c, m, emit, ctx);
		break;
	case 'E':
		on_error(c, m, emit, ctx);
		break;
	case 's':
		on_suspended(c, m, emit, ctx);
		break;
	case 'I':
		if (x && x->kind == EXEC_EXECUTE)
			exec_free(pop(c)); /* an empty statement: nothing ran */
		break;
	case '1':
		if (x && x->kind == EXEC_PARSE)
			exec_free(pop(c));
		break;
	case 'Z':
		on_ready(c, m, emit, ctx);
		break;
	}
}

struct pgwire *pgwire_new(void)
{
	return calloc(1, sizeof(struct pgwire));
}

void pgwire_message(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx)
{
	if (m->stream == CUSTOS_WIRE_FRONTEND)
		on_frontend(c, m, emit, ctx);
	else
		on_backend(c, m, emit, ctx);
}

void pgwire_free(struct pgwire *c, uint64_t end_ns, wire_emit_fn emit, void *ctx)
{
	struct pg_exec *x;

	if (!c)
		return;
	while ((x = pop(c))) {
		if ((x->kind == EXEC_QUERY || x->kind == EXEC_EXECUTE) && !x->library)
			exec_emit(x, end_ns, true, emit, ctx);
		exec_free(x);
	}
	while (c->n_portals)
		forget_portal(c, &c->portals[c->n_portals - 1], end_ns, emit, ctx);
	while (c->n_prepared)
		forget_prepared(c, &c->prepared[c->n_prepared - 1]);
	wire_queue_free(&c->pending);
	free(c->user);
	free(c->database);
	free(c);
}

const char *pgwire_user(const struct pgwire *c)
{
	return c->user;
}

const char *pgwire_database(const struct pgwire *c)
{
	return c->database;
}

uint64_t pgwire_dropped(const struct pgwire *c)
{
	return c->dropped;
}
