/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PostgreSQL frontend/backend protocol (v3) of one connection, as the
 * kernel forwards it (bpf/wire.bpf.h): statements sent (simple Query, and
 * Parse/Bind/Execute with their names) paired with their outcomes
 * (CommandComplete, PortalSuspended, ErrorResponse, ReadyForQuery) and the
 * row messages the kernel counted. It reads only what it is given; a
 * message it does not understand changes nothing.
 */
#ifndef CUSTOS_PGWIRE_H
#define CUSTOS_PGWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>

/* One whole message as forwarded (body: the part the kernel forwards). */
struct pgwire_msg {
	uint8_t stream; /* CUSTOS_WIRE_FRONTEND, CUSTOS_WIRE_BACKEND */
	uint8_t type;	/* 0: untyped (startup, SSLRequest...), code says which */
	uint32_t code;
	const uint8_t *body;
	size_t len;
	bool truncated; /* the message is longer than body */
	bool library;	/* sent inside a probed client library call */
	uint32_t rows;	/* the stream's row messages since its previous message */
	uint64_t time_ns;
	const struct custos_task *task; /* who sent or received it */
};

/* A statement executed on the connection, with its outcome. */
struct pgwire_statement {
	const char *text; /* NULL: prepared where the agent did not see it */
	size_t len;
	bool truncated;
	const char *prepared_name; /* a named prepared statement's name, else NULL */
	int64_t rows;		   /* row messages of its result; -1: no result set */
	int64_t affected;	   /* from its command tag; -1: none */
	bool failed;
	bool incomplete;	      /* the connection ended before its outcome came */
	const char *sqlstate, *error; /* failed: the server's code (5 of 0-9A-Z) and message */
	bool library;		      /* a probed client library reports it: not again */
	uint64_t start_ns, end_ns;
	const struct custos_task *task; /* who sent it */
};

typedef void (*pgwire_emit_fn)(void *ctx, const struct pgwire_statement *s);

struct pgwire;

struct pgwire *pgwire_new(void);
/* Statements still awaiting their outcome are emitted as incomplete, at end_ns. */
void pgwire_free(struct pgwire *c, uint64_t end_ns, pgwire_emit_fn emit, void *ctx);
void pgwire_message(struct pgwire *c, const struct pgwire_msg *m, pgwire_emit_fn emit, void *ctx);

/* From the startup packet: NULL until seen. */
const char *pgwire_user(const struct pgwire *c);
const char *pgwire_database(const struct pgwire *c);
/* Statements sent while too many waited for their answers: not followed, so not reported. */
uint64_t pgwire_dropped(const struct pgwire *c);

#endif /* CUSTOS_PGWIRE_H */
