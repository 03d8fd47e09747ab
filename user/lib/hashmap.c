// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include "lib/hashmap.h"

static size_t hash64(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return key;
}

static struct hashmap_slot *find(const struct hashmap *map, uint64_t key)
{
	size_t i, mask = map->cap - 1;

	if (!map->cap)
		return NULL;
	for (i = hash64(key) & mask;; i = (i + 1) & mask) {
		struct hashmap_slot *slot = &map->slots[i];

		if (!slot->value && !slot->tombstone)
			return NULL;
		if (slot->value && slot->key == key)
			return slot;
	}
}

void *hashmap_get(const struct hashmap *map, uint64_t key)
{
	struct hashmap_slot *slot = find(map, key);

	return slot ? slot->value : NULL;
}

static int grow(struct hashmap *map)
{
	size_t cap = map->cap ? map->cap * 2 : 64, i;
	struct hashmap_slot *old = map->slots, *slots;
	size_t old_cap = map->cap;

	/* Rehash in place of growing when tombstones, not entries, fill the table. */
	if (map->cap && map->len * 2 < map->cap)
		cap = map->cap;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	map->slots = slots;
	map->cap = cap;
	map->len = 0;
	map->used = 0;
	for (i = 0; i < old_cap; i++)
		if (old[i].value)
			hashmap_put(map, old[i].key, old[i].value, NULL);
	free(old);
	return 0;
}

int hashmap_put(struct hashmap *map, uint64_t key, void *value, void **old)
{
	struct hashmap_slot *slot = find(map, key);
	size_t i, mask;

	if (old)
		*old = slot ? slot->value : NULL;
	if (slot) {
		slot->value = value;
		return 0;
	}
	if ((map->used + 1) * 4 > map->cap * 3) {
		int err = grow(map);

		if (err)
			return err;
	}
	mask = map->cap - 1;
	for (i = hash64(key) & mask; map->slots[i].value; i = (i + 1) & mask)
		;
	if (!map->slots[i].tombstone)
		map->used++;
	map->slots[i] = (struct hashmap_slot){.key = key, .value = value};
	map->len++;
	return 0;
}

void *hashmap_remove(struct hashmap *map, uint64_t key)
{
	struct hashmap_slot *slot = find(map, key);
	void *value;

	if (!slot)
		return NULL;
	value = slot->value;
	slot->value = NULL;
	slot->tombstone = true;
	map->len--;
	return value;
}

void hashmap_clear(struct hashmap *map)
{
	free(map->slots);
	*map = (struct hashmap){0};
}

bool hashmap_next(const struct hashmap *map, size_t *iter, uint64_t *key, void **value)
{
	while (*iter < map->cap) {
		struct hashmap_slot *slot = &map->slots[(*iter)++];

		if (slot->value) {
			if (key)
				*key = slot->key;
			if (value)
				*value = slot->value;
			return true;
		}
	}
	return false;
}

struct pair_node {
	uint32_t tgid;
	uint64_t addr;
	void *value;
	struct pair_node *next;
};

static uint64_t pair_key(uint32_t tgid, uint64_t addr)
{
	return addr ^ ((uint64_t)tgid * 0x9e3779b97f4a7c15ULL);
}

static struct pair_node *pair_find(const struct pairmap *m, uint32_t tgid, uint64_t addr)
{
	struct pair_node *n = hashmap_get(&m->map, pair_key(tgid, addr));

	while (n && (n->tgid != tgid || n->addr != addr))
		n = n->next;
	return n;
}

void *pairmap_get(const struct pairmap *m, uint32_t tgid, uint64_t addr)
{
	struct pair_node *n = pair_find(m, tgid, addr);

	return n ? n->value : NULL;
}

int pairmap_put(struct pairmap *m, uint32_t tgid, uint64_t addr, void *value, void **old)
{
	struct pair_node *n = pair_find(m, tgid, addr), *head;
	uint64_t key = pair_key(tgid, addr);
	int err;

	if (old)
		*old = n ? n->value : NULL;
	if (n) {
		n->value = value;
		return 0;
	}
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	head = hashmap_get(&m->map, key);
	*n = (struct pair_node){.tgid = tgid, .addr = addr, .value = value, .next = head};
	err = hashmap_put(&m->map, key, n, NULL);
	if (err)
		free(n);
	return err;
}

void *pairmap_remove(struct pairmap *m, uint32_t tgid, uint64_t addr)
{
	uint64_t key = pair_key(tgid, addr);
	struct pair_node *head = hashmap_get(&m->map, key), **link = &head, *n;
	void *value;

	for (n = head; n && (n->tgid != tgid || n->addr != addr); n = n->next)
		link = &n->next;
	if (!n)
		return NULL;
	*link = n->next;
	if (head)
		hashmap_put(&m->map, key, head, NULL);
	else
		hashmap_remove(&m->map, key);
	value = n->value;
	free(n);
	return value;
}

void pairmap_clear(struct pairmap *m, void (*fn)(void *value))
{
	struct pair_node *n;
	size_t i = 0;

	while (hashmap_next(&m->map, &i, NULL, (void **)&n)) {
		while (n) {
			struct pair_node *next = n->next;

			if (fn)
				fn(n->value);
			free(n);
			n = next;
		}
	}
	hashmap_clear(&m->map);
}

/*
 * Snapshot iteration: the first call collects the entries (the map may then
 * change under the caller); *iter holds the snapshot, freed at the end.
 */
struct pair_iter {
	size_t n, i;
	struct pair_node entries[];
};

bool pairmap_next(const struct pairmap *m, void **iter, uint32_t *tgid, uint64_t *addr,
		  void **value)
{
	struct pair_iter *it = *iter;
	struct pair_node *n;
	size_t slot = 0, count = 0;

	if (!it) {
		while (hashmap_next(&m->map, &slot, NULL, (void **)&n))
			for (; n; n = n->next)
				count++;
		it = malloc(sizeof(*it) + count * sizeof(it->entries[0]));
		if (!it)
			return false;
		it->n = 0;
		it->i = 0;
		slot = 0;
		while (hashmap_next(&m->map, &slot, NULL, (void **)&n))
			for (; n && it->n < count; n = n->next)
				it->entries[it->n++] = *n;
		*iter = it;
	}
	if (it->i == it->n) {
		free(it);
		*iter = NULL;
		return false;
	}
	n = &it->entries[it->i++];
	*tgid = n->tgid;
	*addr = n->addr;
	*value = n->value;
	return true;
}
