/* SPDX-License-Identifier: GPL-2.0 */
/* Inside custos report: the names it met, the groups it sums into, the alerts it lists. */
#ifndef CUSTOS_REPORT_PRIV_H
#define CUSTOS_REPORT_PRIV_H

#include "lib/hashmap.h"
#include "report/report.h"

/* A name met in the stream (a user, program, path, rule, table...), copied once. */
struct name {
	const char *s; /* NUL-terminated; may hold NUL itself (from \u0000) */
	uint32_t len;
	uint32_t hash;
};

/* Every name met, each with an id from 1 on; 0 stands for none. */
struct names {
	struct name *v; /* by id */
	uint32_t n;	/* ids 1..n-1 are taken */
	uint32_t cap;
	uint32_t *slots; /* the index: ids, 0 free */
	uint32_t n_slots;
	char *block; /* where the next name is copied */
	size_t block_left;
	char **blocks; /* every block, to free */
	size_t n_blocks;
};

/* Returns the id of len bytes of s, adding them if new; 0 without memory. */
uint32_t names_id(struct names *t, const char *s, size_t len);
void names_free(struct names *t);

/* A set of ids: what makes "distinct" counts. */
struct idset {
	uint32_t *slots; /* 0: free */
	uint32_t cap;	 /* a power of two, or 0 */
	uint32_t n;
};

/* 1 if id is new to the set, 0 if it was there, -ENOMEM. */
int idset_add(struct idset *s, uint32_t id);
void idset_free(struct idset *s);
/* The ids of the set, sorted by their names (malloc'd; NULL and *n 0 when empty or no memory). */
uint32_t *idset_sorted(const struct idset *s, const struct names *t, size_t *n);

/* A list of ids, kept from line to line for its room. */
struct idbuf {
	uint32_t *v;
	size_t n, cap;
};

/* What a group (and the totals) sums. */
struct group {
	uint32_t key; /* its name's id; 0: the events without one */
	uint64_t events, denied, statements, alerts;
	uint64_t bytes_read, bytes_sent, rows; /* each at most INT64_MAX */
	int64_t first_ns, last_ns;	       /* of its events; first > last while none */
	struct idset files, tables, endpoints, programs, users;
	uint64_t stamp; /* the last line added to it: a line counts once in a group */
};

/* A number as the stream had it. */
struct report_num {
	bool set, is_int;
	int64_t i;
	double d;
};

struct report_alert {
	int64_t time_ns;
	uint32_t rule, rule_id, human, category, kind, window; /* name ids, 0: none */
	struct report_num value, threshold;
	uint64_t suppressed;
	struct report_num evidence; /* custos.alert.evidence.count */
};

/* Counts by a name: alerts by rule, gaps by reason. */
struct tally {
	uint64_t n, sum;
};

struct report {
	struct report_options opt;
	struct names names;
	struct group total;
	struct group **groups;
	size_t n_groups, cap_groups;
	uint32_t *group_of; /* by key id: the group's index + 1, 0 if none yet */
	size_t n_group_of;
	uint32_t no_key; /* the group of the events without a key: index + 1, 0 if none yet */
	uint64_t stamp;	 /* lines given */
	struct report_input in;
	struct report_skip_note skips[REPORT_SKIP_N];
	struct idbuf tables, keys; /* a line's tables, and its keys by the grouping */
	uint64_t runs;
	struct idset hosts;
	uint64_t suppressed;
	struct hashmap alerts_by_rule; /* rule name id -> struct tally (n) */
	struct report_alert *alerts;   /* listed, in the stream's order */
	size_t n_alerts, cap_alerts;
	uint64_t gaps, lost;
	struct hashmap gaps_by_reason; /* reason id -> struct tally (n gaps, sum lost) */
};

/* a + b, at most INT64_MAX. */
static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s < a || s > INT64_MAX ? INT64_MAX : s;
}

/* The groups in the report's order: most data first. malloc'd; NULL without memory. */
struct group **report_sorted_groups(const struct report *r);

#endif /* CUSTOS_REPORT_PRIV_H */
