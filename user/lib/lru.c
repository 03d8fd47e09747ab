// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "lib/lru.h"

void groups_init(struct groups *gs, size_t max, void (*release)(struct group *g))
{
	memset(gs, 0, sizeof(*gs));
	gs->lru.prev = gs->lru.next = &gs->lru;
	gs->max = max;
	gs->release = release;
}

static void unlink_group(struct group *g)
{
	g->prev->next = g->next;
	g->next->prev = g->prev;
}

static void push_front(struct groups *gs, struct group *g)
{
	g->next = gs->lru.next;
	g->prev = &gs->lru;
	gs->lru.next->prev = g;
	gs->lru.next = g;
}

static void destroy(struct groups *gs, struct group *g)
{
	if (gs->release)
		gs->release(g);
	free(g);
}

void groups_remove(struct groups *gs, struct group *g)
{
	unlink_group(g);
	strmap_remove(&gs->map, g->key, g->len);
	destroy(gs, g);
}

struct group *groups_find(struct groups *gs, const char *key, size_t len)
{
	return strmap_get(&gs->map, key, len);
}

struct group *groups_get(struct groups *gs, const char *key, size_t len, size_t size,
			 int64_t now_ns)
{
	struct group *g = strmap_get(&gs->map, key, len);
	void *old;

	if (g) {
		unlink_group(g);
		push_front(gs, g);
		g->used_ns = now_ns;
		return g;
	}
	if (!size)
		return NULL;
	if (gs->map.len >= gs->max && gs->lru.prev != &gs->lru) {
		groups_remove(gs, gs->lru.prev);
		gs->evicted++;
	}
	g = calloc(1, size);
	if (!g)
		return NULL;
	if (strmap_put(&gs->map, key, len, g, &old)) {
		free(g);
		return NULL;
	}
	/* The map keeps its own copy of the key; the group borrows it. */
	g->key = strmap_key(&gs->map, key, len);
	g->len = len;
	g->used_ns = now_ns;
	push_front(gs, g);
	return g;
}

void groups_expire(struct groups *gs, int64_t before_ns)
{
	while (gs->lru.prev != &gs->lru && gs->lru.prev->used_ns < before_ns)
		groups_remove(gs, gs->lru.prev);
}

struct group *groups_oldest(struct groups *gs)
{
	return gs->lru.prev == &gs->lru ? NULL : gs->lru.prev;
}

struct group *groups_newer(struct groups *gs, struct group *g)
{
	return g->prev == &gs->lru ? NULL : g->prev;
}

void groups_clear(struct groups *gs)
{
	while (gs->lru.next != &gs->lru) {
		struct group *g = gs->lru.next;

		unlink_group(g);
		destroy(gs, g);
	}
	strmap_clear(&gs->map, NULL);
}
