/* SPDX-License-Identifier: GPL-2.0 */
/* What the events modules share: the state behind struct events, and the helpers of common.c. */
#ifndef CUSTOS_EVENTS_COMMON_H
#define CUSTOS_EVENTS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>
#include "encode/encode.h"
#include "encode/event.h"
#include "events/events.h"
#include "lib/blockdev.h"
#include "lib/hashmap.h"
#include "lib/proc.h"
#include "lib/users.h"

#define JOINED_PATH_MAX (CUSTOS_PATH_MAX + 8)

/* One process's use of an open watched file, as reported so far. */
struct file_user {
	struct custos_io reported;
	struct custos_task task; /* who, for summaries the kernel does not attribute (flush) */
};

/* A watched file (or a socket to a watched endpoint) open now, as the agent knows it. */
struct open_state {
	uint64_t open_id;
	bool socket;	      /* a socket: net holds its ends, path and file are empty */
	struct event_net net; /* a socket's */
	uint64_t sock_ino;    /* a socket's inode; an accepted unix socket's client's: */
	uint64_t peer_ino;
	struct custos_task opener;
	char *path;
	const struct event_rule *rule; /* as at open time */
	struct event_egress
	    egress;		/* rule->egress: the read it followed (read_rule NULL: unknown) */
	struct event_file file; /* file.* of its events; path is st->path */
	struct hashmap users;	/* tgid -> struct file_user: the opener and others who used it */
	uint32_t missing_sweeps;
	uint32_t sweep_seen;
	struct wire_conn *wire; /* a parsed socket's protocol state, from its first message */
};

/*
 * Where the last renames took files (path.c): the identity a rename event
 * showed, for a later change of the new name (an unlink) once the file is
 * gone and cannot be looked at.
 */
#define RENAMED_MAX 64
struct renamed {
	char *path; /* the new name; NULL: free */
	uint32_t dev;
	uint64_t ino;
};

/* A thread's identity as its events show it, shared while nothing in it changes. */
struct who_cache {
	struct event_who who;
	uint64_t proc_generation;
	int64_t used_ns;
};

struct events {
	char *hostname;
	events_emit_fn emit;
	void *emit_ctx;
	events_exec_fn on_exec;
	void *exec_ctx;
	const struct config *cfg;
	const struct watch_set *watches;
	struct proc_table procs;
	struct users users;
	struct blockdevs blockdevs; /* removable disks, for egress files */
	struct hashmap opens;	    /* open_id -> struct open_state */
	struct hashmap whos;	    /* tid -> struct who_cache */
	struct hashmap rules;	    /* rule id -> struct event_rule, of every config seen */
	struct db_state *db;	    /* database client calls being paired into statements */
	struct renamed renamed[RENAMED_MAX]; /* a ring: renamed_next is the oldest */
	size_t renamed_next;
	struct encode_clock clock;
	uint64_t seq;
	uint32_t sweep;
	struct events_stats stats;
	const struct event_agent_id *agent_id; /* agent.* of every event; NULL: none */
	const char *chain; /* custos.chain until the line is sealed; NULL: no chain */
};

/* Checks that a record fits, with var bytes after its fixed part. */
static inline bool record_fits(size_t size, size_t fixed, size_t var)
{
	return size >= fixed && var <= size - fixed;
}

/* common.c: what every kind of event shares */
void events_whos_clear(struct events *e, int64_t older_than_ns);
void events_rule_free(struct event_rule *rule);
/* The rule of a rule id; one with a NULL name if the id is unknown, or egress. */
const struct event_rule *events_rule(const struct events *e, uint32_t rule_id);
/* An egress event's cause from its record's egress_read_*, or NULL if st is no egress. */
const struct event_egress *events_egress(struct events *e, struct event_egress *out,
					 const struct event_rule *rule, uint32_t read_rule,
					 uint64_t read_boot_ns);
/* Who task is, as its events show it; NULL when it cannot be built (no memory). */
const struct event_who *events_who(struct events *e, const struct custos_task *task);
/* A new event of kind at boot_ns (CLOCK_BOOTTIME) with its event.* fields. */
void events_event_init(const struct events *e, struct event *ev, enum event_kind kind,
		       uint64_t boot_ns, const char *category, const char *type, const char *action,
		       const char *outcome);
/* Numbers the event and hands it to emit. */
void events_emit(struct events *e, struct event *ev);
char *events_join_path(const char *names, const struct custos_path_info *info, size_t *len);
void events_path_flags(struct event_file *f, const struct custos_path_info *info);
/* event.action of a change (enum custos_change_op), NULL if unknown. */
const char *events_change_action(uint32_t op);

/* file.c: opens, summaries, other processes' use, mmap, changes through an fd */
int events_file_open(struct events *e, const struct custos_file_open *rec, size_t size);
int events_file_close(struct events *e, const struct custos_file_close *rec, size_t size);
int events_file_shared(struct events *e, const struct custos_file_shared *rec, size_t size);
int events_file_mmap(struct events *e, const struct custos_file_mmap *rec, size_t size);
int events_file_change(struct events *e, const struct custos_file_change *rec, size_t size);
void events_open_state_free(struct open_state *st);
struct open_state *events_open_state_new(struct events *e, uint64_t open_id,
					 const struct custos_task *opener, uint32_t rule);

/* net.c: sockets to watched endpoints */
int events_net_connect(struct events *e, const struct custos_net_connect *rec, size_t size);

int events_net_connected(struct events *e, const struct custos_net_connected *rec, size_t size);

/* wire.c: database protocol messages of parsed sockets */
int events_wire(struct events *e, const struct custos_wire_msg *rec, size_t size);
/* The socket is released: statements still awaiting an outcome are reported, at boot_ns. */
void events_wire_end(struct events *e, struct open_state *st, uint64_t boot_ns);
void events_wire_free(struct wire_conn *w);
/* The "protocol" of a parsed socket's events for a config's enum config_wire; NULL: none. */
const char *wire_protocol_name(int parse);

/* A statement to report, from a client library call or from the wire. */
struct db_report {
	int system;	  /* enum dbprobe_system */
	const char *text; /* NULL: unknown */
	size_t len;
	bool truncated;
	const char *prepared_name;
	int64_t rows, affected;
	bool failed, incomplete;
	const char *error_code, *error; /* the server's code (SQLSTATE) and message */
	uint64_t start_ns, end_ns;
	const char *user, *namespace, *host, *port, *socket;
	const char *source;		   /* custos.db.source */
	const struct event_net *net;	   /* the socket it went through (wire), else NULL */
	const struct event_rule *endpoint; /* and its endpoint */
	uint64_t open_id;
	const struct custos_task *task;
};

/* db.c: database client calls into statements */
void events_db_report(struct events *e, const struct db_report *r);
int events_db_call(struct events *e, const struct custos_db_call *rec, size_t size);
void events_db_tick(struct events *e, uint64_t now_ns);
void events_db_free(struct events *e);

/* path.c: what the kernel sends by name (refused opens, changes by name) */
int events_file_denied(struct events *e, const struct custos_file_denied *rec, size_t size);
int events_path_change(struct events *e, const struct custos_path_change *rec, size_t size);

#endif /* CUSTOS_EVENTS_COMMON_H */
