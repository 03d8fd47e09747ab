// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include <custos/hashmap.h>

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
