/* SPDX-License-Identifier: GPL-2.0 */
/* The engine's state, shared by rules.c (matching, windows, alerts) and first_seen.c. */
#ifndef CUSTOS_RULES_PRIV_H
#define CUSTOS_RULES_PRIV_H

#include "rules/attack.h"
#include "rules/facts.h"
#include "lib/lru.h"
#include "rules/rules.h"

#define KEY_MAX 8192 /* a group's key: its values with their lengths */

/* The key of the event being matched, for the rules that group by the same fields. */
struct rule_key_slot {
	uint64_t stamp; /* rules.stamp of the event it was computed for */
	bool ok;	/* the event has every field */
	size_t len;
	char buf[KEY_MAX];
};

struct rule {
	const struct config_detect_rule *cfg;
	const struct attack_technique *technique;
	char id[80];		/* rule.id */
	struct groups groups;	/* threshold windows, sequences, keys seen, suppression */
	int64_t bucket_ns;	/* threshold: the width of one of a window's buckets */
	int64_t learn_until_ns; /* first_seen: keys seen before this are learned silently */
	int64_t learn_since_ns; /* first_seen: when learning began (persisted) */
	size_t key_slot;	/* rules.key_slots[]: shared by rules of the same group_by */
	struct rule_where where;
	struct rule_where steps[CONFIG_DETECT_STEPS_MAX];
};

struct rules {
	struct rule *rules;
	size_t n_rules;
	char *state_file; /* first_seen state; NULL: none */
	bool state_dirty;
	char warning[512];
	bool has_warning;
	struct rule_key_slot *key_slots,
	    *key_scratch; /* scratch: keys of a statement's nth table */
	uint64_t stamp;	  /* events matched so far */
	struct rule_tags tags;
	rules_alert_fn alert;
	void *ctx;
	struct rules_stats stats;
};

/* first_seen.c */
void first_seen_load(struct rules *rs, int64_t now_ns);
void first_seen_save(struct rules *rs);

#endif /* CUSTOS_RULES_PRIV_H */
