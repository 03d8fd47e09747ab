/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parsers of database wire protocols (pgwire.c, mywire.c) are
 * given, whole messages as the kernel forwards them, and what they give
 * back: the statements a connection executed, with their outcomes.
 */
#ifndef CUSTOS_WIRE_PROTO_H
#define CUSTOS_WIRE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>

/* One whole message as forwarded (body: the part the kernel forwards). */
struct wire_msg {
	uint8_t stream; /* CUSTOS_WIRE_FRONTEND, CUSTOS_WIRE_BACKEND */
	uint8_t type;	/* 0: untyped (PostgreSQL's startup, SSLRequest; MySQL's login) */
	uint32_t code;	/* untyped: which; MySQL: the capabilities, a prepared statement's id */
	const uint8_t *body;
	size_t len;
	bool truncated; /* the message is longer than body */
	bool library;	/* sent inside a probed client library call */
	uint32_t rows;	/* the stream's row messages since its previous message */
	uint64_t time_ns;
	const struct custos_task *task; /* who sent or received it */
};

/* A statement executed on the connection, with its outcome. */
struct wire_statement {
	const char *text; /* NULL: prepared where the agent did not see it */
	size_t len;
	bool truncated;
	const char *prepared_name; /* a named prepared statement's name (MySQL: id), else NULL */
	int64_t rows;		   /* row messages of its result; -1: no result set */
	int64_t affected;	   /* from its command tag or OK packet; -1: none */
	bool failed;
	bool incomplete; /* the connection ended before its outcome came */
	/* failed: the server's code (PostgreSQL: SQLSTATE, 5 of 0-9A-Z; MySQL: the error number) */
	const char *sqlstate, *error;
	bool library; /* a probed client library reports it: not again */
	uint64_t start_ns, end_ns;
	const struct custos_task *task; /* who sent it */
};

typedef void (*wire_emit_fn)(void *ctx, const struct wire_statement *s);

/*
 * What a connection sent and awaits the answer to, first in first out
 * (the servers answer in order): a ring of pointers that grows.
 */
struct wire_queue {
	void **items;
	size_t first, n, cap;
};

/* false: out of memory (x is not queued). */
bool wire_queue_push(struct wire_queue *q, void *x);
/* The oldest, taken out; NULL if empty. */
void *wire_queue_pop(struct wire_queue *q);
/* The oldest and the newest, left in; NULL if empty. */
void *wire_queue_head(const struct wire_queue *q);
void *wire_queue_tail(const struct wire_queue *q);
void wire_queue_free(struct wire_queue *q);

#endif /* CUSTOS_WIRE_PROTO_H */
