/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the ECS encoder (encode.c) and the OCSF one (ocsf.c) share: the same
 * values, written once by the same code, whichever schema a line is in.
 */
#ifndef CUSTOS_ENCODE_PRIV_H
#define CUSTOS_ENCODE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encode/encode.h"

struct proc_info;
struct users;

/* A process's argv as written: each argument redacted and escaped as the rules say. */
struct encode_args {
	char *text;   /* the arguments back to back, each valid UTF-8 */
	size_t *ends; /* ends[i]: where argument i ends in text */
	size_t count;
	bool escaped;  /* argv was not UTF-8: every argument is in escaped form */
	bool redacted; /* an argument's SQL literals were redacted */
	char *tmp;
};

int encode_args(const struct proc_info *proc, struct encode_args *args);
void encode_args_free(struct encode_args *args);

/* "pts/3" for a tty's numbers; NULL for majors it does not name. */
const char *encode_tty_name(uint32_t major, uint32_t minor, char buf[32]);
/* An RFC 3339 time with nanoseconds, as key. */
void encode_write_time(struct jsonw *w, const char *key, int64_t real_ns);
/* A statement's tables are all escaped when one of them is not UTF-8. */
bool encode_tables_escaped(const struct sql_info *info);
/* object: {"name": the one table info names}; nothing unless it names exactly one. */
void encode_only_table(struct jsonw *w, const char *object, const struct sql_info *info,
		       bool escape);
/* file.extension: what a name has after its last dot ("gz" of a.tar.gz; none for ".bashrc"), its
 * length. */
size_t encode_file_extension(const char *name, size_t len, const char **ext);
/* A socket end the kernel gave an address or port. */
bool encode_net_end_known(const uint8_t addr[16], uint16_t port);
/* ECS network.* of a socket. */
void encode_network(struct jsonw *w, const struct event_net *n);
/* "name": the last component of a parent's program (parent->exe, known), escaped if need be. */
void encode_parent_name(struct jsonw *w, const struct proc_info *parent);
/* agent.*: the agent that wrote the event (nothing without ev->agent_id). */
void encode_agent(struct jsonw *w, const struct event *ev);
/* process.* of the agent's own events: the agent is their process; nothing for others. */
void encode_agent_process(struct jsonw *w, const struct event *ev);
/* The custos object: custos.seq, .chain, .rule, .tags, .io, ... and .escaped (last). */
void encode_custos(struct jsonw *w, const struct event *ev, bool tables_escape);

/* The ECS members of who: process.*, user.*, group.*, container.*, custos.process. 0 or -ENOMEM. */
int encode_who_ecs(struct event_who *who, const struct encode_clock *clock,
		   const struct custos_task *task, const struct proc_info *proc,
		   const struct proc_info *parent, const struct encode_args *a,
		   const char *container_id, struct users *users);
/* The OCSF members of who (ocsf.c): its actor's, and what OCSF has no place for. */
int ocsf_who(struct event_who *who, const struct encode_clock *clock, const struct proc_info *proc,
	     const struct proc_info *parent, const struct encode_args *args,
	     const char *container_id, struct users *users);

#endif /* CUSTOS_ENCODE_PRIV_H */
