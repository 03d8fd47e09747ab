// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>

#include "lib/hashmap.h"

#include "test.h"

TEST(hashmap_put_get_remove)
{
	struct hashmap map = {0};
	void *old = (void *)1;
	uint64_t i;

	ASSERT_NULL(hashmap_get(&map, 42), "empty get");
	for (i = 1; i <= 10000; i++)
		if (!ASSERT_OK(hashmap_put(&map, i * 7919, (void *)(uintptr_t)i, NULL), "put"))
			goto cleanup;
	ASSERT_EQ(map.len, 10000, "len");
	for (i = 1; i <= 10000; i++)
		ASSERT_EQ((uintptr_t)hashmap_get(&map, i * 7919), i, "get");
	ASSERT_OK(hashmap_put(&map, 7919, (void *)99, &old), "replace");
	ASSERT_EQ((uintptr_t)old, 1, "old value");
	for (i = 1; i <= 10000; i += 2)
		ASSERT_EQ((uintptr_t)hashmap_remove(&map, i * 7919), i == 1 ? 99 : i, "remove");
	ASSERT_EQ(map.len, 5000, "len after remove");
	ASSERT_NULL(hashmap_get(&map, 7919), "removed");
	ASSERT_EQ((uintptr_t)hashmap_get(&map, 2 * 7919), 2, "kept");
cleanup:
	hashmap_clear(&map);
}

/* Many puts and removes of different keys must not fill the table with tombstones. */
TEST(hashmap_churn)
{
	struct hashmap map = {0};
	uint64_t i;

	for (i = 1; i <= 200000; i++) {
		hashmap_put(&map, i, (void *)1, NULL);
		if (i > 10)
			hashmap_remove(&map, i - 10);
	}
	ASSERT_EQ(map.len, 10, "len");
	ASSERT_TRUE(map.cap <= 1024, "table stayed small");
	hashmap_clear(&map);
}

TEST(hashmap_iterate_and_remove)
{
	struct hashmap map = {0};
	size_t it = 0, seen = 0;
	uint64_t key;
	void *v;

	for (key = 0; key < 100; key++)
		hashmap_put(&map, key, (void *)(uintptr_t)(key + 1), NULL);
	while (hashmap_next(&map, &it, &key, &v)) {
		ASSERT_EQ((uintptr_t)v, key + 1, "value");
		if (key % 2)
			hashmap_remove(&map, key);
		seen++;
	}
	ASSERT_EQ(seen, 100, "visited all");
	ASSERT_EQ(map.len, 50, "half removed");
	hashmap_clear(&map);
}

static int freed;

static void count_free(void *value)
{
	freed += value != NULL;
}

/* Handles are addresses unique per process: the same address in two processes is two keys. */
TEST(pairmap_keys_chains_iteration)
{
	struct pairmap m = {0};
	uint32_t tgid, seen = 0;
	uint64_t addr, collide;
	void *it = NULL, *value, *old;
	uint32_t t;
	uint64_t a;

	for (t = 1; t <= 50; t++)
		for (a = 0; a < 40; a++)
			if (!ASSERT_OK(pairmap_put(&m, t, 0x1000 + a * 8,
						   (void *)(uintptr_t)(t * 1000 + a), NULL),
				       "put"))
				goto cleanup;
	ASSERT_EQ((uintptr_t)pairmap_get(&m, 7, 0x1000 + 3 * 8), 7003, "get");
	ASSERT_NULL(pairmap_get(&m, 51, 0x1000), "other process");
	ASSERT_NULL(pairmap_get(&m, 7, 0x1004), "other address");
	ASSERT_OK(pairmap_put(&m, 7, 0x1000, (void *)1, &old), "replace");
	ASSERT_EQ((uintptr_t)old, 7000, "replaced value");
	ASSERT_EQ((uintptr_t)pairmap_remove(&m, 7, 0x1000), 1, "remove");
	ASSERT_NULL(pairmap_remove(&m, 7, 0x1000), "removed twice");
	ASSERT_EQ((uintptr_t)pairmap_get(&m, 8, 0x1000), 8000, "same address, other process kept");
	/* (100, collide) lands on the slot of (1, 0x1000): they share a chain. */
	collide = 0x1000 ^ 0x9e3779b97f4a7c15ULL ^ (100 * 0x9e3779b97f4a7c15ULL);
	ASSERT_OK(pairmap_put(&m, 100, collide, (void *)5, NULL), "put colliding");
	ASSERT_EQ((uintptr_t)pairmap_get(&m, 1, 0x1000), 1000, "first of the chain");
	ASSERT_EQ((uintptr_t)pairmap_get(&m, 100, collide), 5, "second of the chain");
	ASSERT_EQ((uintptr_t)pairmap_remove(&m, 1, 0x1000), 1000, "remove the older one");
	ASSERT_EQ((uintptr_t)pairmap_get(&m, 100, collide), 5, "the other stays");
	ASSERT_OK(pairmap_put(&m, 1, 0x1000, (void *)1000, NULL), "put it back");
	/* Removing the entry being visited is allowed. */
	while (pairmap_next(&m, &it, &tgid, &addr, &value)) {
		seen++;
		if (tgid % 2 == 0)
			pairmap_remove(&m, tgid, addr);
	}
	ASSERT_EQ(seen, 50 * 40, "visited once each");
	ASSERT_NULL(it, "iterator freed at the end");
	ASSERT_NULL(pairmap_get(&m, 2, 0x1000), "removed while iterating");
	ASSERT_EQ((uintptr_t)pairmap_get(&m, 3, 0x1008), 3001, "odd processes kept");
cleanup:
	freed = 0;
	pairmap_clear(&m, count_free);
	ASSERT_EQ(freed, 25 * 40 - 1, "clear frees every value left");
	ASSERT_NULL(pairmap_get(&m, 3, 0x1008), "empty after clear");
}
