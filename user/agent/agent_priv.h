/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's parts and the state they share. agent.c: the lifecycle (start,
 * the main loop, stop); reader.c: the thread that empties the kernel's ring;
 * reload.c: the config and what follows from it (watches, chain, outputs,
 * database probes), at start and on SIGHUP; report.c: what the agent says
 * of itself (agent-start, heartbeats, gap events for every loss).
 */
#ifndef CUSTOS_AGENT_PRIV_H
#define CUSTOS_AGENT_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/control.h"
#include "agent/notify.h"
#include "agent/reader.h"
#include "events/events.h"
#include "kernel/dbprobe.h"
#include "kernel/loader.h"
#include "kernel/watch.h"
#include "output/chain.h"
#include "output/sink.h"
#include "rules/rules.h"

#define TICK_MS		  100 /* timers (flush, stats, rescan) run on this tick */
#define DRAIN_CHUNKS	  16  /* queue chunks turned into events between looks at signals */
#define TICKS_PER_SEC	  (1000 / TICK_MS)
#define RESCAN_SECONDS	  10   /* globs and missing paths are resolved again this often */
#define SINKS_DEADLINE_MS 5000 /* to deliver what is queued at stop or reload */

/* What was lost and what of it the agent already reported (report.c). */
struct agent_losses {
	uint64_t reported;			      /* ring and queue drops announced on stderr */
	uint64_t queue_reported;		      /* queue drops in gap events */
	uint64_t *ring_by_cpu, *ring_by_cpu_reported; /* ring-buffer losses, for gap events */
};

struct agent {
	struct agent_options *opts;
	struct config *cfg;
	struct watch_set watches;
	struct loader *loader;
	struct events *events;
	struct output *out;
	struct sinks *sinks; /* custos run's outputs; NULL: the stream of out */
	struct chain *chain; /* seals the JSON lines; NULL: no chain */
	char host[256];
	struct event_agent_id id; /* agent.* of every event (identity.c) */
	struct watch_maps maps;
	struct notify *notify;	 /* directories of the configured paths */
	struct dbprobe *dbprobe; /* database client libraries; NULL when none is to be probed */
	struct rules *rules;	 /* detection rules; NULL when there are none */
	bool rescan_pending;	 /* they changed: resolve again at the next tick */
	struct reader reader;
	bool reader_ready; /* reader_init done */
	int wake_fd;	   /* the reader tells the main thread there are records */
	struct agent_losses losses;
	uint32_t generation; /* of the config: bumped by each reload */
	int output_error;
	bool kernel_unsupported; /* the loader says this kernel cannot run the agent */
	bool stop;
	struct control *control; /* the control socket (custos run); NULL: none */
	struct timespec started; /* CLOCK_MONOTONIC, for the uptime */
	struct timespec started_real;
};

/* identity.c: agent.id (kept in the state directory), agent.ephemeral_id. 0 or -errno. */
int agent_identity_init(struct agent *a);

/* reload.c */
struct config *agent_load_config(const struct agent_options *opts);
void agent_log_watch_warnings(const struct watch_set *set);
int agent_preflight(const struct agent *a, const struct config *cfg);
int agent_open_chain(struct agent *a, const struct config *cfg, struct chain **chain);
void agent_watches_changed(struct agent *a);
void agent_start_db_probes(struct agent *a);
void agent_log_db_warnings(struct agent *a);
void agent_rescan(struct agent *a);
void agent_reload(struct agent *a);
int agent_start_rules(struct agent *a);
void agent_tick_rules(struct agent *a);

/* report.c */
int agent_losses_init(struct agent *a);
void agent_losses_free(struct agent *a);
void agent_emit_start(struct agent *a);
/* What custos status shows: {"control": "status", "agent": {...}, "stats": {...}}. */
json_t *agent_status_json(struct agent *a);
void agent_emit_stats(struct agent *a, const char *action);
void agent_emit_output_gap(void *ctx, const char *output, const char *reason, uint64_t count,
			   uint64_t first_seq, uint64_t last_seq);
void agent_check_losses(struct agent *a);

#endif /* CUSTOS_AGENT_PRIV_H */
