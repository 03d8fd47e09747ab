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

#endif /* CUSTOS_HASHMAP_H */
