// SPDX-License-Identifier: GPL-2.0
/* The spool: order, commit and rewind, bounds and what they drop, and restarts on disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/spool.h"

#include "test.h"

#define BUF (SPOOL_LINE_MAX + 1)

static char buf[BUF];

/* {"custos":{"seq":N},"pad":"xxx..."}\n, len bytes in all. */
static size_t make_line(char *out, uint64_t seq, size_t len)
{
	size_t n =
	    snprintf(out, len, "{\"custos\":{\"seq\":%llu},\"pad\":\"", (unsigned long long)seq);

	while (n < len - 3)
		out[n++] = 'x';
	memcpy(out + n, "\"}\n", 3);
	return len;
}

static bool append(struct spool *s, uint64_t seq, size_t len, struct spool_loss *lost)
{
	char line[4096];

	return ASSERT_OK(spool_append(s, line, make_line(line, seq, len), lost), "spool_append");
}

/* Reads and sends everything left; returns the seqs seen, in order, in seqs. */
static size_t drain(struct spool *s, uint64_t *seqs, size_t max, bool commit)
{
	size_t n = 0, lines, len, i;

	while ((len = spool_peek(s, buf, BUF, &lines)) > 0) {
		struct spool_pos end;

		for (i = 0; i < len; i++)
			if ((i == 0 || buf[i - 1] == '\n') && n < max)
				seqs[n++] = strtoull(strstr(buf + i, "\"seq\":") + 6, NULL, 10);
		end = spool_advance(s, len);
		if (commit)
			spool_commit(s, end);
	}
	return n;
}

static char *tmpdir(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/custos-spool-XXXXXX");
	return mkdtemp(dir);
}

static void rm_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		perror("rm");
}

TEST(spool_memory_order_commit_rewind)
{
	char err[256];
	struct spool *s = spool_open(NULL, 1 << 20, false, err, sizeof(err));
	struct spool_loss lost = {0};
	uint64_t seqs[16];
	size_t i, lines, len;

	if (!ASSERT_TRUE(s, err))
		return;
	for (i = 1; i <= 5; i++)
		append(s, i, 100, &lost);
	ASSERT_EQ(spool_bytes(s), 500, "bytes held");
	/* Sent but not committed: a rewind sends them again. */
	len = spool_peek(s, buf, BUF, &lines);
	ASSERT_EQ(len, 500, "peeked bytes");
	ASSERT_EQ(lines, 5, "peeked lines");
	spool_advance(s, len);
	ASSERT_EQ(spool_unread(s), 0, "nothing unread after advance");
	spool_rewind(s);
	ASSERT_EQ(drain(s, seqs, 16, true), 5, "lines after rewind");
	for (i = 0; i < 5; i++)
		ASSERT_EQ(seqs[i], i + 1, "order");
	ASSERT_EQ(spool_bytes(s), 0, "bytes after commit");
	/* A peek into a small buffer takes whole lines only. */
	append(s, 6, 100, &lost);
	append(s, 7, 100, &lost);
	len = spool_peek(s, buf, 150, &lines);
	ASSERT_EQ(len, 100, "whole lines only");
	ASSERT_EQ(lines, 1, "one line fits");
	ASSERT_EQ(lost.count, 0, "nothing lost");
	spool_close(s);
}

TEST(spool_bound_drops_newest)
{
	char err[256], line[4096];
	struct spool *s = spool_open(NULL, 1000, false, err, sizeof(err));
	struct spool_loss lost = {0};
	uint64_t seqs[16];
	int i;

	for (i = 1; i <= 10; i++)
		append(s, i, 100, &lost);
	ASSERT_EQ(spool_append(s, line, make_line(line, 11, 100), &lost), -ENOBUFS,
		  "full: the newest is refused");
	ASSERT_EQ(lost.count, 0, "nothing older dropped");
	ASSERT_EQ(drain(s, seqs, 16, true), 10, "the first ten are kept");
	ASSERT_EQ(seqs[9], 10, "the last kept");
	ASSERT_EQ(spool_append(s, line, SPOOL_LINE_MAX + 1, &lost), -E2BIG, "too large");
	spool_close(s);
}

TEST(spool_bound_drops_oldest_on_disk)
{
	char err[256], *dir = tmpdir();
	/* 1 MiB bound: segments of 64 KiB, each 16 lines of 4000 bytes. */
	struct spool *s = spool_open(dir, 1 << 20, true, err, sizeof(err));
	struct spool_loss lost = {0};
	static uint64_t seqs[1024];
	size_t n, i;

	if (!ASSERT_TRUE(s, err))
		goto out;
	for (i = 1; i <= 400; i++)
		append(s, i, 4000, &lost);
	ASSERT_TRUE(lost.count > 0, "old lines dropped");
	ASSERT_EQ(lost.first_seq, 1, "the first dropped is the oldest");
	ASSERT_EQ(lost.last_seq, lost.count, "dropped ones are contiguous from the start");
	ASSERT_TRUE(spool_bytes(s) <= 1 << 20, "within the bound");
	n = drain(s, seqs, 1024, true);
	ASSERT_EQ(n + lost.count, 400, "kept and dropped add up");
	ASSERT_EQ(seqs[0], lost.last_seq + 1, "the first kept follows the last dropped");
	ASSERT_EQ(seqs[n - 1], 400, "the newest is kept");
	spool_close(s);
out:
	rm_dir(dir);
}

TEST(spool_disk_survives_restart)
{
	char err[256], *dir = tmpdir(), seg[128];
	struct spool *s = spool_open(dir, 1 << 20, false, err, sizeof(err));
	struct spool_loss lost = {0};
	uint64_t seqs[64];
	size_t lines, len, i, n;
	int fd;

	if (!ASSERT_TRUE(s, err))
		goto out;
	for (i = 1; i <= 10; i++)
		append(s, i, 200, &lost);
	/* Three delivered and committed, two sent but not known to be received. */
	len = spool_peek(s, buf, 600, &lines);
	spool_commit(s, spool_advance(s, len));
	len = spool_peek(s, buf, 400, &lines);
	spool_advance(s, len);
	spool_close(s);
	/* A crash cut the last line short. */
	snprintf(seg, sizeof(seg), "%s/0000000000000001.ndjson", dir);
	fd = open(seg, O_WRONLY | O_APPEND);
	ASSERT_EQ(write(fd, "{\"custos\":{\"seq\":11", 19), 19, "half a line");
	close(fd);

	s = spool_open(dir, 1 << 20, false, err, sizeof(err));
	if (!ASSERT_TRUE(s, err))
		goto out;
	append(s, 12, 200, &lost);
	n = drain(s, seqs, 64, true);
	ASSERT_EQ(n, 8, "uncommitted lines of the last run, then the new one");
	ASSERT_EQ(seqs[0], 4, "from the first line not committed");
	ASSERT_EQ(seqs[6], 10, "the last whole line of the last run");
	ASSERT_EQ(seqs[7], 12, "the half line is skipped");
	spool_close(s);
	s = spool_open(dir, 1 << 20, false, err, sizeof(err));
	ASSERT_EQ(spool_unread(s), 0, "everything committed stays delivered");
	spool_close(s);
out:
	rm_dir(dir);
}
