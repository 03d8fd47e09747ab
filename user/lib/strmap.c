// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strmap.h"

/* FNV-1a, 64 bits; struct hashmap mixes it again. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
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
