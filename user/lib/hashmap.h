/* SPDX-License-Identifier: GPL-2.0 */
/* A map from 64-bit keys to pointers: open addressing, linear probing. */
#ifndef CUSTOS_HASHMAP_H
#define CUSTOS_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashmap_slot {
	uint64_t key;
	void *value; /* NULL: empty slot */
	bool tombstone;
};

struct hashmap {
	struct hashmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t len;
	size_t used; /* len + tombstones */
};

void *hashmap_get(const struct hashmap *map, uint64_t key);
/* Stores value (not NULL) under key; returns the value it replaced, or NULL. -ENOMEM as errno. */
int hashmap_put(struct hashmap *map, uint64_t key, void *value, void **old);
/* Removes key; returns its value, or NULL. */
void *hashmap_remove(struct hashmap *map, uint64_t key);
void hashmap_clear(struct hashmap *map);

/* Iterate: for (i = 0; hashmap_next(map, &i, &key, &value);) ... (removal of the current key is
 * safe) */
bool hashmap_next(const struct hashmap *map, size_t *iter, uint64_t *key, void **value);

/*
 * A map from (process, address in it) to pointers: the handles a client
 * library gives out (connections, statements) are addresses, unique only
 * within their process. Built on struct hashmap, with chaining.
 */
struct pairmap {
	struct hashmap map;
};

void *pairmap_get(const struct pairmap *m, uint32_t tgid, uint64_t addr);
/* Stores value (not NULL), replacing and returning any old one through *old. */
int pairmap_put(struct pairmap *m, uint32_t tgid, uint64_t addr, void *value, void **old);
void *pairmap_remove(struct pairmap *m, uint32_t tgid, uint64_t addr);
/* Iterate: for (it = NULL; pairmap_next(m, &it, &tgid, &addr, &value);) (removing the current one
 * is safe) */
bool pairmap_next(const struct pairmap *m, void **iter, uint32_t *tgid, uint64_t *addr,
		  void **value);
/* Calls fn on every value (for freeing), then empties the map. */
void pairmap_clear(struct pairmap *m, void (*fn)(void *value));

#endif /* CUSTOS_HASHMAP_H */
