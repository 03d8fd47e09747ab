// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>

#include "agent/queue.h"

#include "test.h"

struct seen {
	uint32_t next;
	bool in_order;
};

static void check_record(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;
	uint32_t v;

	memcpy(&v, data, sizeof(v));
	if (size != 100 + v % 50 || v != s->next)
		s->in_order = false;
	s->next++;
}

TEST(queue_order_across_chunks)
{
	struct seen s = {.in_order = true};
	unsigned char buf[256] = {0};
	struct queue q;
	uint32_t i;

	if (!ASSERT_OK(queue_init(&q, 64 << 20), "init"))
		return;
	for (i = 0; i < 50000; i++) {
		memcpy(buf, &i, sizeof(i));
		if (!ASSERT_OK(queue_push(&q, buf, 100 + i % 50), "push"))
			break;
	}
	while (queue_drain(&q, check_record, &s))
		;
	ASSERT_EQ(s.next, 50000, "records drained");
	ASSERT_TRUE(s.in_order, "same order and sizes");
	ASSERT_EQ(q.bytes, 0, "empty");
	queue_destroy(&q);
}

TEST(queue_bound_counts_drops)
{
	struct seen s = {.in_order = true};
	unsigned char buf[128] = {0};
	struct queue q;
	uint32_t i, kept = 0;

	if (!ASSERT_OK(queue_init(&q, 4096), "init"))
		return;
	for (i = 0; i < 100; i++) {
		memcpy(buf, &i, sizeof(i));
		if (queue_push(&q, buf, 100 + i % 50) == 0)
			kept++;
	}
	ASSERT_TRUE(kept > 0 && kept < 100, "some kept, some refused");
	ASSERT_EQ(q.dropped, 100 - kept, "refusals counted");
	ASSERT_TRUE(q.peak_bytes <= 4096, "bound respected");
	while (queue_drain(&q, check_record, &s))
		;
	ASSERT_EQ(s.next, kept, "what was kept comes out");
	queue_destroy(&q);
}
