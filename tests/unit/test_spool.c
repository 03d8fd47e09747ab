// SPDX-License-Identifier: GPL-2.0
/*
 * The spool: order, commit and rewind, bounds and what they drop (by seq,
 * from the batches, never read back from the lines), and restarts on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* One line as a batch of its own. */
static int append_line(struct spool *s, const char *line, size_t len, uint64_t seq,
		       struct spool_loss *lost)
{
	struct line_batch b = {0};
	size_t taken;
	int r = line_batch_add(&b, line, len, seq);

	if (!r)
		r = spool_append(s, &b, 0, &taken, lost);
	line_batch_free(&b);
	return r;
}

static bool append(struct spool *s, uint64_t seq, size_t len, struct spool_loss *lost)
{
	char line[4096];

	return ASSERT_OK(append_line(s, line, make_line(line, seq, len), seq, lost),
			 "spool_append");
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
		end = spool_advance(s, len, lines);
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
	spool_advance(s, len, lines);
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
	static char big[SPOOL_LINE_MAX + 1];
	struct spool *s = spool_open(NULL, 1000, false, err, sizeof(err));
	struct spool_loss lost = {0};
	uint64_t seqs[16];
	int i;

	for (i = 1; i <= 10; i++)
		append(s, i, 100, &lost);
	ASSERT_EQ(append_line(s, line, make_line(line, 11, 100), 11, &lost), -ENOBUFS,
		  "full: the newest is refused");
	ASSERT_EQ(lost.count, 0, "nothing older dropped");
	ASSERT_EQ(drain(s, seqs, 16, true), 10, "the first ten are kept");
	ASSERT_EQ(seqs[9], 10, "the last kept");
	memset(big, 'x', sizeof(big));
	big[SPOOL_LINE_MAX] = '\n';
	ASSERT_EQ(append_line(s, big, sizeof(big), 12, &lost), -E2BIG, "too large");
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
	spool_commit(s, spool_advance(s, len, lines));
	len = spool_peek(s, buf, 400, &lines);
	spool_advance(s, len, lines);
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

/*
 * Lines that are not JSON, each with a decoy "seq" in its text; their seqs
 * come in runs of 7 with jumps between (lines dropped on the way), so the
 * spool's seqs can only come from the batches.
 */
#define LINE_LEN 64

static uint64_t seq_of(size_t i)
{
	return 1000 + i + (i / 7) * 5;
}

static void make_batch(struct line_batch *b, size_t from, size_t n)
{
	char line[LINE_LEN + 1];
	size_t i;

	line_batch_reset(b);
	for (i = from; i < from + n; i++) {
		int w = snprintf(line, sizeof(line), "plain text %08zu \"seq\":999 ", i);

		memset(line + w, '.', LINE_LEN - 1 - w);
		line[LINE_LEN - 1] = '\n';
		if (line_batch_add(b, line, LINE_LEN, seq_of(i)))
			abort();
	}
}

/* The index a line of make_batch has in its text. */
static size_t line_index(const char *line)
{
	return strtoull(line + strlen("plain text "), NULL, 10);
}

/* Reads everything left, committing; checks each line's text and spool_seq. Returns the lines. */
static size_t drain_plain(struct spool *s, size_t first, const char *what)
{
	size_t n = 0, lines, len, i;
	bool ok = true;

	while (ok && (len = spool_peek(s, buf, BUF, &lines)) > 0) {
		for (i = 0; i < lines && ok; i++, n++) {
			ok = ASSERT_EQ(line_index(buf + i * LINE_LEN), first + n, what) &&
			     ASSERT_EQ(spool_seq(s, i), seq_of(first + n), what);
		}
		spool_commit(s, spool_advance(s, len, lines));
	}
	return n;
}

TEST(spool_batch_bound_newest_by_seq)
{
	char err[256];
	struct spool *s = spool_open(NULL, 25 * LINE_LEN, false, err, sizeof(err));
	struct spool_loss lost = {0};
	struct line_batch b = {0};
	size_t taken = 0;

	make_batch(&b, 0, 40);
	ASSERT_EQ(spool_append(s, &b, 0, &taken, &lost), -ENOBUFS, "the bound refuses the rest");
	ASSERT_EQ(taken, 25, "the lines that fit went in");
	ASSERT_EQ(b.seqs[taken], seq_of(25), "the first refused: its seq from the batch");
	ASSERT_EQ(lost.count, 0, "nothing older dropped");
	ASSERT_EQ(spool_bytes(s), 25 * LINE_LEN, "bytes held");
	ASSERT_EQ(drain_plain(s, 0, "kept lines and their seqs"), 25, "lines kept");
	/* Delivered: room again, from where the batch was refused. */
	ASSERT_OK(spool_append(s, &b, 25, &taken, &lost), "the rest of the batch");
	ASSERT_EQ(taken, 15, "the rest went in");
	ASSERT_EQ(drain_plain(s, 25, "the rest and their seqs"), 15, "lines of the rest");
	line_batch_free(&b);
	spool_close(s);
}

TEST(spool_batch_drop_oldest_by_seq)
{
	char err[256];
	/* 16 KiB: segments of 4 KiB, 64 lines each. */
	struct spool *s = spool_open(NULL, 16384, true, err, sizeof(err));
	struct spool_loss lost = {0};
	struct line_batch b = {0};
	size_t taken, lines, len;

	/* One batch far larger than the bound: its own first lines make room for its last. */
	make_batch(&b, 0, 1000);
	ASSERT_OK(spool_append(s, &b, 0, &taken, &lost), "spool_append");
	ASSERT_EQ(taken, 1000, "every line went in");
	ASSERT_TRUE(spool_bytes(s) <= 16384, "within the bound");
	ASSERT_EQ(lost.count, 1000 - spool_bytes(s) / LINE_LEN, "dropped and kept add up");
	ASSERT_EQ(lost.first_seq, seq_of(0), "the first dropped is the oldest");
	ASSERT_EQ(lost.last_seq, seq_of(lost.count - 1),
		  "the last dropped comes just before the kept");
	ASSERT_EQ(drain_plain(s, lost.count, "kept lines and their seqs"), 1000 - lost.count,
		  "lines kept");
	spool_close(s);

	/* Lines sent but not committed are with the receiver: not counted as dropped. */
	s = spool_open(NULL, 16384, true, err, sizeof(err));
	make_batch(&b, 0, 256);
	lost = (struct spool_loss){0};
	ASSERT_OK(spool_append(s, &b, 0, &taken, &lost), "fills the bound");
	ASSERT_EQ(lost.count, 0, "exactly full: nothing dropped");
	len = spool_peek(s, buf, 10 * LINE_LEN, &lines);
	ASSERT_EQ(lines, 10, "ten lines peeked");
	ASSERT_EQ(spool_seq(s, 9), seq_of(9), "the seq of a peeked line");
	spool_advance(s, len, lines);
	make_batch(&b, 256, 1);
	ASSERT_OK(spool_append(s, &b, 0, &taken, &lost), "one more line");
	ASSERT_EQ(lost.count, 54, "the first segment's lines not sent");
	ASSERT_EQ(lost.first_seq, seq_of(10), "the first line not sent");
	ASSERT_EQ(lost.last_seq, seq_of(63), "the first segment's last line");
	ASSERT_EQ(drain_plain(s, 64, "lines after the dropped segment"), 193, "lines kept");
	line_batch_free(&b);
	spool_close(s);
}

/* The disk takes half a batch (RLIMIT_FSIZE): the whole lines in it stay, the cut one goes. */
TEST(spool_batch_write_fails_whole_lines)
{
	char err[256], *dir = tmpdir(), seg[128];
	struct spool *s = spool_open(dir, 1 << 20, false, err, sizeof(err));
	struct spool_loss lost = {0};
	struct line_batch b = {0};
	struct rlimit old, small;
	void (*old_handler)(int);
	size_t taken = 0;
	int r;

	if (!ASSERT_TRUE(s, err))
		goto out;
	make_batch(&b, 0, 30);
	getrlimit(RLIMIT_FSIZE, &old);
	small = (struct rlimit){.rlim_cur = 1000, .rlim_max = old.rlim_max};
	old_handler = signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &small);
	r = spool_append(s, &b, 0, &taken, &lost);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_handler);
	ASSERT_EQ(r, -EFBIG, "the disk refused the batch");
	ASSERT_EQ(taken, 1000 / LINE_LEN, "the whole lines that fit in 1000 bytes");
	ASSERT_EQ(b.seqs[taken], seq_of(taken), "the first refused: its seq from the batch");
	snprintf(seg, sizeof(seg), "%s/0000000000000001.ndjson", dir);
	{
		struct stat st;

		ASSERT_OK(stat(seg, &st), seg);
		ASSERT_EQ(st.st_size, taken * LINE_LEN, "the segment holds whole lines only");
	}
	ASSERT_OK(spool_append(s, &b, taken, &taken, &lost), "the rest, once the disk takes it");
	ASSERT_EQ(drain_plain(s, 0, "every line once, in order"), 30, "lines");
	spool_close(s);
out:
	line_batch_free(&b);
	rm_dir(dir);
}

/* What a previous run left is counted when dropped, but its seqs (that run's) are not reported. */
TEST(spool_leftover_dropped_without_seqs)
{
	char err[256], *dir = tmpdir();
	struct spool *s = spool_open(dir, 16384, false, err, sizeof(err));
	struct spool_loss lost = {0};
	struct line_batch b = {0};
	size_t taken, lines;

	if (!ASSERT_TRUE(s, err))
		goto out;
	make_batch(&b, 0, 128); /* two segments */
	ASSERT_OK(spool_append(s, &b, 0, &taken, &lost), "the first run's lines");
	spool_close(s);

	s = spool_open(dir, 16384, true, err, sizeof(err));
	if (!ASSERT_TRUE(s, err))
		goto out;
	ASSERT_EQ(spool_peek(s, buf, LINE_LEN, &lines), LINE_LEN, "a line of the last run");
	ASSERT_EQ(spool_seq(s, 0), 0, "its seq is not this run's");
	make_batch(&b, 1000, 192);
	ASSERT_OK(spool_append(s, &b, 0, &taken, &lost), "this run's lines");
	ASSERT_EQ(lost.count, 64, "the older segment of the last run dropped");
	ASSERT_EQ(lost.first_seq, 0, "no seq for it");
	ASSERT_EQ(lost.last_seq, 0, "no seq for it");
	spool_close(s);
out:
	line_batch_free(&b);
	rm_dir(dir);
}
