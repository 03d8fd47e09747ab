/* SPDX-License-Identifier: GPL-2.0 */
/* Inside custos top: what the model keeps, for the screen to lay out. */
#ifndef CUSTOS_TOP_PRIV_H
#define CUSTOS_TOP_PRIV_H

#include "lib/lru.h"
#include "top/top.h"

/* Counts over the last minute, a slot a second, and since the first line. */
struct top_meter {
	struct top_counts total;
	struct top_counts sec[TOP_WINDOW_S];
	int64_t sec_of[TOP_WINDOW_S]; /* the second each slot holds */
};

/* A human and program's row, a rule's or a table's: its key is the name (row: human NUL program).
 */
struct top_entry {
	struct group g;
	struct top_meter m;
	int64_t last_sec;
};

struct top_alert {
	int64_t time_ns;
	char rule[64], human[64], value[32]; /* as the line had them, cut; escaped when shown */
};

struct top {
	struct groups rows, rules, tables;
	struct top_meter all;
	int64_t now_ns;
	struct top_alert alerts[TOP_ALERTS]; /* a ring; the latest at n_alerts - 1 */
	uint64_t n_alerts;
	struct top_stats stats;
};

/* The counts of the minute before now_sec. */
void top_minute(const struct top_meter *m, int64_t now_sec, struct top_counts *out);

#endif /* CUSTOS_TOP_PRIV_H */
