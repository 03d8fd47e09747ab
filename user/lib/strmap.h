/* SPDX-License-Identifier: GPL-2.0 */
/* A map from byte strings to pointers, on struct hashmap with chaining. */
#ifndef CUSTOS_STRMAP_H
#define CUSTOS_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/hashmap.h"

struct strmap_entry {
	struct strmap_entry *next; /* of the same hash */
	void *value;
	size_t len;
	char key[]; /* len bytes and a NUL */
};

struct strmap {
	struct hashmap map;
	size_t len;
};

void *strmap_get(const struct strmap *m, const char *key, size_t len);
/* The map's own copy of key (NUL-terminated), valid while it holds it; NULL if absent. */
const char *strmap_key(const struct strmap *m, const char *key, size_t len);
/* Stores value (not NULL) under a copy of key; returns the value it replaced through *old. */
int strmap_put(struct strmap *m, const char *key, size_t len, void *value, void **old);
void *strmap_remove(struct strmap *m, const char *key, size_t len);
struct strmap_iter {
	size_t slot;
	struct strmap_entry *entry;
};

/* Iterate: struct strmap_iter it = {0}; while ((e = strmap_next(m, &it))) ... (no removal) */
struct strmap_entry *strmap_next(const struct strmap *m, struct strmap_iter *it);
/* Calls fn (if not NULL) on every value, then empties the map. */
void strmap_clear(struct strmap *m, void (*fn)(void *value));

#endif /* CUSTOS_STRMAP_H */
