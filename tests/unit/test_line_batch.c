// SPDX-License-Identifier: GPL-2.0
/* Batches of event lines: each line with its seq and where it ends. */
#include <errno.h>
#include <string.h>

#include "output/line_batch.h"

#include "test.h"

TEST(line_batch_add_reset)
{
	struct line_batch b = {0};
	char *buf;

	ASSERT_EQ(line_batch_add(&b, "no newline", 10, 1), -EINVAL, "a line ends in a newline");
	ASSERT_EQ(b.n, 0, "the batch is as it was");
	ASSERT_OK(line_batch_add(&b, "a\n", 2, 7), "add");
	ASSERT_OK(line_batch_add(&b, "bcd\n", 4, 9), "add");
	ASSERT_EQ(b.n, 2, "lines");
	ASSERT_EQ(b.text.len, 6, "bytes");
	ASSERT_EQ(b.seqs[1], 9, "seq of line 1");
	ASSERT_EQ(line_batch_start(&b, 1), 2, "start of line 1");
	ASSERT_EQ(b.ends[1], 6, "end of line 1");
	ASSERT_EQ(line_batch_bytes(&b, 0, 2), 6, "bytes of both");
	buf = b.text.buf;
	line_batch_reset(&b);
	ASSERT_EQ(b.n + b.text.len, 0, "empty after reset");
	ASSERT_OK(line_batch_add(&b, "e\n", 2, 10), "add after reset");
	ASSERT_TRUE(b.text.buf == buf && !memcmp(b.text.buf, "e\n", 2), "the memory is kept");
	line_batch_free(&b);
	ASSERT_TRUE(!b.text.buf && !b.n, "empty after free");
}
