/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The MySQL/MariaDB client/server protocol of one connection, as the kernel
 * forwards it (bpf/wire.bpf.h): the login's user and schema, commands
 * (COM_QUERY, COM_STMT_PREPARE/EXECUTE/CLOSE, COM_INIT_DB) paired with the
 * server's answers (OK, ERR, the end of a result set with the rows the
 * kernel counted). It reads only what it is given; a message it does not
 * understand changes nothing.
 */
#ifndef CUSTOS_MYWIRE_H
#define CUSTOS_MYWIRE_H

#include "wire_proto.h"

struct mywire;

struct mywire *mywire_new(void);
/* Commands still awaiting their answer are emitted as incomplete, at end_ns. */
void mywire_free(struct mywire *c, uint64_t end_ns, wire_emit_fn emit, void *ctx);
void mywire_message(struct mywire *c, const struct wire_msg *m, wire_emit_fn emit, void *ctx);

/* From the login (the schema also from COM_INIT_DB): NULL until seen. */
const char *mywire_user(const struct mywire *c);
const char *mywire_database(const struct mywire *c);
/* Commands sent while too many waited for their answers: not reported. */
uint64_t mywire_dropped(const struct mywire *c);

#endif /* CUSTOS_MYWIRE_H */
