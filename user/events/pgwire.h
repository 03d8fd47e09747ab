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

#include "wire_proto.h"

struct pgwire;

struct pgwire *pgwire_new(void);
/* Statements still awaiting their outcome are emitted as incomplete, at end_ns. */
void pgwire_free(struct pgwire *c, uint64_t end_ns, wire_emit_fn emit, void *ctx);
void pgwire_message(struct pgwire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx);

/* From the startup packet: NULL until seen. */
const char *pgwire_user(const struct pgwire *c);
const char *pgwire_database(const struct pgwire *c);
/* Statements sent while too many waited for their answers: not followed, so not reported. */
uint64_t pgwire_dropped(const struct pgwire *c);

#endif /* CUSTOS_PGWIRE_H */
