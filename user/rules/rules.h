/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Detection over typed events: the config's detection rules ("rules", with
 * the built-in pack) see every access event, keep bounded state per group
 * (sliding windows, partial sequences, keys seen), and hand each alert, a
 * typed event of kind EVENT_ALERT, to a callback that puts it in the same
 * stream. first_seen rules keep what they learned in a state directory.
 */
#ifndef CUSTOS_RULES_H
#define CUSTOS_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "encode/event.h"

/* Receives each alert; only valid during the call. */
typedef void (*rules_alert_fn)(struct event *alert, void *ctx);

struct rules_stats {
	uint64_t events;       /* access events the rules looked at */
	uint64_t alerts;       /* alerts sent */
	uint64_t suppressed;   /* alerts not sent: one per rule and group per window */
	uint64_t evicted;      /* groups and values forgotten to stay within bounds */
	uint64_t groups;       /* groups and keys held now */
	uint64_t state_errors; /* first_seen state that could not be read or written */
};

#define RULES_GROUPS_MAX   10000  /* per rule: groups, partial sequences */
#define RULES_DISTINCT_MAX 10000  /* per threshold group: distinct values in the window */
#define RULES_KEYS_MAX	   100000 /* per first_seen rule: keys remembered */

struct rules;

/*
 * Rules from cfg->detect (borrowed: the config must outlive them). state_dir
 * holds first_seen state (NULL: nothing persisted). NULL with errno set;
 * a state file that cannot be read is not an error: its message is in
 * rules_take_warning and learning starts again.
 */
struct rules *rules_new(const struct config *cfg, const char *state_dir, rules_alert_fn alert,
			void *ctx);
/* Saves first_seen state, then frees. */
void rules_free(struct rules *r);

/* One event: access events are matched; alerts and the agent's own events are not. */
void rules_event(struct rules *r, const struct event *ev);

/* Forgets what left the windows, and saves first_seen state if it changed; about every second. */
void rules_tick(struct rules *r, int64_t now_ns);

size_t rules_count(const struct rules *r);
const struct rules_stats *rules_stats(const struct rules *r);

/* A message about state that could not be read or written, once; NULL if none. */
const char *rules_take_warning(struct rules *r);

#endif /* CUSTOS_RULES_H */
