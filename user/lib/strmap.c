// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strmap.h"

/*
 * Eight bytes at a time, each word multiplied in; struct hashmap mixes the
 * result again. Keys are names and paths: this runs for every event a rule sees.
 */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (len) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 29;
	}
	return h;
}

static struct strmap_entry *find(const struct strmap *m, uint64_t h, const char *key, size_t len)
{
	struct strmap_entry *e;

	for (e = hashmap_get(&m->map, h); e; e = e->next)
		if (e->len == len && !memcmp(e->key, key, len))
			return e;
	return NULL;
}

void *strmap_get(const struct strmap *m, const char *key, size_t len)
{
	struct strmap_entry *e = find(m, hash_bytes(key, len), key, len);

	return e ? e->value : NULL;
}

const char *strmap_key(const struct strmap *m, const char *key, size_t len)
{
	struct strmap_entry *e = find(m, hash_bytes(key, len), key, len);

	return e ? e->key : NULL;
}

int strmap_put(struct strmap *m, const char *key, size_t len, void *value, void **old)
{
	uint64_t h = hash_bytes(key, len);
	struct strmap_entry *e = find(m, h, key, len), *head;
	int err;

	*old = NULL;
	if (e) {
		*old = e->value;
		e->value = value;
		return 0;
	}
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->len = len;
	e->value = value;
	head = hashmap_get(&m->map, h);
	e->next = head;
	err = hashmap_put(&m->map, h, e, (void **)&head);
	if (err) {
		free(e);
		return err;
	}
	m->len++;
	return 0;
}

void *strmap_remove(struct strmap *m, const char *key, size_t len)
{
	uint64_t h = hash_bytes(key, len);
	struct strmap_entry *head = hashmap_get(&m->map, h), **pp, *e;
	void *value, *old;

	for (pp = &head; (e = *pp); pp = &e->next) {
		if (e->len != len || memcmp(e->key, key, len))
			continue;
		*pp = e->next;
		if (head)
			hashmap_put(&m->map, h, head, &old); /* replaces: cannot fail */
		else
			hashmap_remove(&m->map, h);
		value = e->value;
		free(e);
		m->len--;
		return value;
	}
	return NULL;
}

struct strmap_entry *strmap_next(const struct strmap *m, struct strmap_iter *it)
{
	uint64_t h;
	void *head;

	if (it->entry && it->entry->next)
		return it->entry = it->entry->next;
	if (!hashmap_next(&m->map, &it->slot, &h, &head))
		return it->entry = NULL;
	return it->entry = head;
}

void strmap_clear(struct strmap *m, void (*fn)(void *value))
{
	size_t slot = 0;
	uint64_t h;
	void *head;

	while (hashmap_next(&m->map, &slot, &h, &head)) {
		struct strmap_entry *e = head, *next;

		for (; e; e = next) {
			next = e->next;
			if (fn)
				fn(e->value);
			free(e);
		}
	}
	hashmap_clear(&m->map);
	m->len = 0;
}
