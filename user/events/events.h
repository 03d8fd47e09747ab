/* SPDX-License-Identifier: GPL-2.0 */
/*
 * From kernel records to events: decodes and checks each record, keeps the
 * state of watched files open now (to report byte counts as differences and
 * to name the file in its summaries), enriches with process and user
 * information, and hands each typed event (encode/event.h) to an emit
 * callback.
 */
#ifndef CUSTOS_EVENTS_H
#define CUSTOS_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>
#include "config/config.h"
#include "encode/encode.h"
#include "encode/event.h"
#include "kernel/watch.h"

struct events;

/* Receives each finished event; it is only valid during the call. */
typedef void (*events_emit_fn)(const struct event *event, void *ctx);

struct events_stats {
	uint64_t records[CUSTOS_REC_TYPE_MAX]; /* by type; [0] counts unknown types */
	uint64_t malformed;		       /* records that failed validation */
	uint64_t emitted;		       /* events handed to emit */
	uint64_t denied_unwatched;	       /* refused opens of files nobody watches */
	uint64_t changes_unwatched;	       /* changes by name to files nobody watches */
	uint64_t db_untagged;		       /* statements left out (databases.only_tables) */
	uint64_t evicted;		       /* open files lost from the kernel table */
	uint64_t wire_lost;		       /* parsed connections the kernel stopped following */
	uint64_t wire_dropped; /* statements sent while too many awaited their answers */
};

struct events *events_new(const char *hostname, events_emit_fn emit, void *ctx);
void events_free(struct events *e);

/* The rules events are named after, and the resolved watches (both borrowed). */
void events_set_config(struct events *e, const struct config *cfg, const struct watch_set *set);

/* Handles one ring-buffer record. 0, or -EINVAL for a malformed record (counted). */
int events_record(struct events *e, const void *data, size_t size);

/*
 * Reports what was read from watched files still open since their last
 * summary ("flush"): begin, then each entry of the kernel's open-file table
 * and of its table of other processes' use, then end. With judge_lost (no
 * records waiting to be handled), open files missing from the table twice
 * in a row were lost without a summary and are reported as closed with
 * reason "evicted".
 */
void events_flush_begin(struct events *e);
void events_flush_opener(struct events *e, const struct custos_open_file *of);
void events_flush_reader(struct events *e, const struct custos_reader_key *key,
			 const struct custos_reader *reader);
void events_flush_end(struct events *e, bool judge_lost);

/* Called after each program execution, with the program's path in the process's namespace. */
typedef void (*events_exec_fn)(uint32_t tgid, const char *exe, void *ctx);
void events_set_exec_hook(struct events *e, events_exec_fn fn, void *ctx);

/*
 * Emits an event of the agent itself (agent-start, agent-heartbeat,
 * agent-reload, agent-stop, gap; event.kind, .category and .type follow
 * from the action): custos holds its custos.* members (taken; may be NULL).
 */
void events_emit_agent(struct events *e, const char *action, const char *outcome, json_t *custos);
/* Emits an alert of the rules (kind EVENT_ALERT), in the same sequence and chain. */
void events_emit_alert(struct events *e, struct event *ev);
/* Every event gets custos.chain = CHAIN_PLACEHOLDER, for the output to seal (see chain.h). */
void events_set_chained(struct events *e, bool chained);

/* agent.* of every event from now on (borrowed). */
void events_set_agent_id(struct events *e, const struct event_agent_id *id);

/* Re-reads the clock offset and forgets exited processes; call every second or so. */
void events_tick(struct events *e);
void events_forget_names(struct events *e);

const struct events_stats *events_stats(const struct events *e);
size_t events_open_count(const struct events *e);

#endif /* CUSTOS_EVENTS_H */
