// SPDX-License-Identifier: GPL-2.0
/* The names custos report meets, each stored once, and sets of them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_priv.h"

#define BLOCK	     (1 << 20) /* names are copied into blocks this large */
#define NAMES_ID_MAX (UINT32_MAX / 4)

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static int names_reindex(struct names *t, uint32_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots)), id, i;

	if (!slots)
		return -ENOMEM;
	for (id = 1; id < t->n; id++) {
		for (i = t->v[id].hash & (n_slots - 1); slots[i]; i = (i + 1) & (n_slots - 1))
			;
		slots[i] = id;
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = n_slots;
	return 0;
}

static char *add_block(struct names *t, size_t size)
{
	char **blocks = realloc(t->blocks, (t->n_blocks + 1) * sizeof(*blocks));
	char *p;

	if (!blocks)
		return NULL;
	t->blocks = blocks;
	p = malloc(size);
	if (p)
		t->blocks[t->n_blocks++] = p;
	return p;
}

/* A copy of len bytes and a NUL: in the current block, a new one, or one of its own if long. */
static char *names_copy(struct names *t, const char *s, size_t len)
{
	size_t need = len + 1;
	char *p;

	if (need > BLOCK / 4) {
		p = add_block(t, need);
	} else {
		if (need > t->block_left) {
			t->block = add_block(t, BLOCK);
			t->block_left = t->block ? BLOCK : 0;
			if (!t->block)
				return NULL;
		}
		p = t->block;
		t->block += need;
		t->block_left -= need;
	}
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

uint32_t names_id(struct names *t, const char *s, size_t len)
{
	uint32_t h, i, id;
	struct name *v;

	if (len > UINT32_MAX)
		return 0;
	h = hash_bytes(s, len);
	for (i = t->n_slots ? h & (t->n_slots - 1) : 0; t->n_slots && t->slots[i];
	     i = (i + 1) & (t->n_slots - 1)) {
		id = t->slots[i];
		if (t->v[id].hash == h && t->v[id].len == len && !memcmp(t->v[id].s, s, len))
			return id;
	}
	if (t->n == 0)
		t->n = 1; /* id 0 is none */
	if (t->n >= NAMES_ID_MAX)
		return 0;
	if (t->n >= t->cap) {
		v = realloc(t->v, (t->cap ? 2 * (size_t)t->cap : 1024) * sizeof(*v));
		if (!v)
			return 0;
		t->v = v;
		t->cap = t->cap ? 2 * t->cap : 1024;
	}
	if (2 * (t->n + 1) > t->n_slots && names_reindex(t, t->n_slots ? 2 * t->n_slots : 4096))
		return 0;
	t->v[t->n] = (struct name){.s = names_copy(t, s, len), .len = len, .hash = h};
	if (!t->v[t->n].s)
		return 0;
	for (i = h & (t->n_slots - 1); t->slots[i]; i = (i + 1) & (t->n_slots - 1))
		;
	t->slots[i] = t->n;
	return t->n++;
}

void names_free(struct names *t)
{
	size_t i;

	for (i = 0; i < t->n_blocks; i++)
		free(t->blocks[i]);
	free(t->blocks);
	free(t->slots);
	free(t->v);
	*t = (struct names){};
}

static uint32_t id_slot(uint32_t id, uint32_t cap)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static int idset_grow(struct idset *s)
{
	uint32_t cap = s->cap ? 2 * s->cap : 8, i, j;
	uint32_t *slots;

	if (cap < s->cap)
		return -ENOMEM;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < s->cap; i++) {
		if (!s->slots[i])
			continue;
		for (j = id_slot(s->slots[i], cap); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = slots;
	s->cap = cap;
	return 0;
}

int idset_add(struct idset *s, uint32_t id)
{
	uint32_t i;

	for (i = s->cap ? id_slot(id, s->cap) : 0; s->cap && s->slots[i];
	     i = (i + 1) & (s->cap - 1))
		if (s->slots[i] == id)
			return 0;
	if (2 * (s->n + 1) > s->cap) {
		if (idset_grow(s))
			return -ENOMEM;
		for (i = id_slot(id, s->cap); s->slots[i]; i = (i + 1) & (s->cap - 1))
			;
	}
	s->slots[i] = id;
	s->n++;
	return 1;
}

void idset_free(struct idset *s)
{
	free(s->slots);
	*s = (struct idset){};
}

static int by_name(const void *a, const void *b, void *names)
{
	const struct names *t = names;
	const struct name *x = &t->v[*(const uint32_t *)a];
	const struct name *y = &t->v[*(const uint32_t *)b];
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

uint32_t *idset_sorted(const struct idset *s, const struct names *t, size_t *n)
{
	uint32_t *ids = s->n ? malloc(s->n * sizeof(*ids)) : NULL, i;

	*n = 0;
	if (!ids)
		return NULL;
	for (i = 0; i < s->cap; i++)
		if (s->slots[i])
			ids[(*n)++] = s->slots[i];
	qsort_r(ids, *n, sizeof(*ids), by_name, (void *)t);
	return ids;
}
