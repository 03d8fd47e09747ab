// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>

#include <custos/hashmap.h>

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
