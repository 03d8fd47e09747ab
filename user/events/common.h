/* SPDX-License-Identifier: GPL-2.0 */
/* What the events modules share: the state behind struct events, and the helpers of common.c. */
#ifndef CUSTOS_EVENTS_COMMON_H
#define CUSTOS_EVENTS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>
#include "encode/encode.h"
#include "events/events.h"
#include "lib/hashmap.h"
#include "lib/proc.h"
#include "lib/users.h"

#define JOINED_PATH_MAX (CUSTOS_PATH_MAX + 8)

/* One process's use of an open watched file, as reported so far. */
struct file_user {
	struct custos_io reported;
	struct custos_task task; /* who, for summaries the kernel does not attribute (flush) */
};

/* A watched file open now, as the agent knows it. */
struct open_state {
	uint64_t open_id;
	struct custos_task opener;
	char *path;
	size_t path_len;
	json_t *rule;	      /* {"rule": name, "tags": [...]}, as at open time */
	json_t *file;	      /* file.*, shared by its events */
	json_t *file_custos;  /* the custos.* members file.* brings (escaped, file), or NULL */
	struct hashmap users; /* tgid -> struct file_user: the opener and others who used it */
	uint64_t ino;
	uint32_t dev;
	uint32_t mode;
	uint32_t owner_uid;
	uint32_t owner_gid;
	uint32_t missing_sweeps;
	uint32_t sweep_seen;
};

/*
 * The encoded identity of a thread (process.*, user.*, group.*, container.*),
 * shared by its events while nothing in it changes: building it is most of
 * the cost of an event.
 */
struct who_cache {
	struct custos_task task;
	uint64_t proc_generation;
	int64_t used_ns;
	json_t *who;	/* top-level members to share into each event */
	json_t *custos; /* custos.* members it brings (escaped, process) */
};

struct events {
	char *hostname;
	json_t *host; /* host.*, shared by every event */
	events_emit_fn emit;
	void *emit_ctx;
	events_exec_fn on_exec;
	void *exec_ctx;
	const struct config *cfg;
	const struct watch_set *watches;
	struct proc_table procs;
	struct users users;
	struct hashmap opens; /* open_id -> struct open_state */
	struct hashmap whos;  /* tid -> struct who_cache */
	struct hashmap flags; /* open(2) flags -> their names, shared */
	struct hashmap rules; /* rule id -> {"rule": name, "tags": [...]} of every config seen */
	struct db_state *db;  /* database client calls being paired into statements */
	struct encode_clock clock;
	uint64_t seq;
	uint32_t sweep;
	struct events_stats stats;
	json_t *chain_placeholder; /* custos.chain until the line is sealed; NULL: no chain */
};

/* Checks that a record fits, with var bytes after its fixed part. */
static inline bool record_fits(size_t size, size_t fixed, size_t var)
{
	return size >= fixed && var <= size - fixed;
}

/* common.c: what every kind of event shares */
void events_who_cache_free(struct who_cache *w);
/* Forgets the identities not used since older_than_ns. */
void events_whos_clear(struct events *e, int64_t older_than_ns);
json_t *events_rule_json(const struct events *e, uint32_t rule_id);
json_t *events_open_flags(struct events *e, uint32_t flags);
void events_add_rule(json_t *ev, json_t *rule);
void events_share_members(json_t *ev, json_t *dst, json_t *src);
void events_encode_who(struct events *e, json_t *ev, const struct custos_task *task);
char *events_join_path(const char *names, const struct custos_path_info *info, size_t *len);
void events_add_path_flags(json_t *ev, const struct custos_path_info *info);
/* event.action of a change (enum custos_change_op), NULL if unknown; custos.change.* of it. */
const char *events_change_action(uint32_t op);
void events_encode_change(json_t *ev, uint32_t op, uint64_t arg, uint32_t arg2);

/* file.c: opens, summaries, other processes' use, mmap, changes through an fd */
int events_file_open(struct events *e, const struct custos_file_open *rec, size_t size);
int events_file_close(struct events *e, const struct custos_file_close *rec, size_t size);
int events_file_shared(struct events *e, const struct custos_file_shared *rec, size_t size);
int events_file_mmap(struct events *e, const struct custos_file_mmap *rec, size_t size);
int events_file_change(struct events *e, const struct custos_file_change *rec, size_t size);
void events_open_state_free(struct open_state *st);

/* db.c: database client calls into statements */
int events_db_call(struct events *e, const struct custos_db_call *rec, size_t size);
void events_db_tick(struct events *e, uint64_t now_ns);
void events_db_free(struct events *e);

/* path.c: what the kernel sends by name (refused opens, changes by name) */
int events_file_denied(struct events *e, const struct custos_file_denied *rec, size_t size);
int events_path_change(struct events *e, const struct custos_path_change *rec, size_t size);

#endif /* CUSTOS_EVENTS_COMMON_H */
