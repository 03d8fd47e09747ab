/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A map from byte-string keys to states (lru.c), such as a rule's state by
 * group or top's counts by human:
 * bounded, the least recently used group forgotten first.
 */
#ifndef CUSTOS_LIB_LRU_H
#define CUSTOS_LIB_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strmap.h"

/* The head of every group's state; state structs start with it. */
struct group {
	struct group *prev, *next; /* most recently used first */
	const char *key;	   /* owned by the map */
	size_t len;
	int64_t used_ns;
};

struct groups {
	struct strmap map;
	struct group lru; /* the list's anchor */
	size_t max;
	uint64_t evicted;
	void (*release)(struct group *g); /* frees what a state holds besides itself; may be NULL */
};

void groups_init(struct groups *gs, size_t max, void (*release)(struct group *g));
/*
 * The group of key, marked used at now_ns; created zeroed with size bytes
 * when missing (the least recently used group is forgotten when full).
 * NULL: missing and not created, or no memory.
 */
struct group *groups_get(struct groups *gs, const char *key, size_t len, size_t size,
			 int64_t now_ns);
struct group *groups_find(struct groups *gs, const char *key, size_t len);
void groups_remove(struct groups *gs, struct group *g);
/* Forgets the groups not used since before_ns. */
void groups_expire(struct groups *gs, int64_t before_ns);
/* The least recently used group first: for (g = groups_oldest(gs); g; g = groups_newer(gs, g)) */
struct group *groups_oldest(struct groups *gs);
struct group *groups_newer(struct groups *gs, struct group *g);
void groups_clear(struct groups *gs);

#endif /* CUSTOS_LIB_LRU_H */
