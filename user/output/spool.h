/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A network output's backlog: event lines in order, in segment files of a
 * directory (kept across restarts) or, without one, in memory. Lines are
 * read from a read position; they leave the spool only when committed (the
 * receiver has them), so a broken connection rewinds to the first line not
 * committed and sends again: at least once, never lost silently. The spool
 * keeps the seq of each line it was given (as runs, not per line), so the
 * lines it drops are reported by seq without reading them.
 */
#ifndef CUSTOS_SPOOL_H
#define CUSTOS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output/line_batch.h"

#define SPOOL_LINE_MAX (1U << 20) /* a longer line is refused as too large */

struct spool;

/*
 * Lines the spool could not keep: how many, and the seqs of the first and
 * last of them; 0 for lines a previous run left, whose seqs were that run's.
 */
struct spool_loss {
	uint64_t count;
	uint64_t first_seq, last_seq;
};

/* A place in the spool: a segment, an offset in it, and the lines before that offset. */
struct spool_pos {
	uint64_t seg;
	uint64_t off;
	uint64_t line; /* not counted in a segment a previous run left */
};

/*
 * dir NULL: in memory. Otherwise dir is created (0700) if missing and what a
 * previous run left there is read first. NULL with err filled on failure.
 */
struct spool *spool_open(const char *dir, uint64_t max_bytes, bool drop_oldest, char *err,
			 size_t len);
/* Commits nothing more; on disk, what is not committed stays for the next run. */
void spool_close(struct spool *s);

/*
 * Appends lines from.. of b, in few writes; *taken is how many went in, all
 * of them when it returns 0. Otherwise line from + *taken was refused:
 * -ENOBUFS, the bound was hit; -E2BIG, it is too long; another -errno, the
 * disk (or memory) refused it. Whole lines only: what went in of one cut
 * short is taken back. With drop_oldest, older lines are dropped to make
 * room instead (added to *lost), as long as there are any.
 */
int spool_append(struct spool *s, const struct line_batch *b, size_t from, size_t *taken,
		 struct spool_loss *lost);

/* Copies whole lines from the read position into buf (at most cap bytes); returns the bytes. */
size_t spool_peek(struct spool *s, char *buf, size_t cap, size_t *lines);
/* The seq of the i-th line from the read position (of those peeked); 0 if a previous run's. */
uint64_t spool_seq(const struct spool *s, size_t i);
/* The read position moves past bytes and lines peeked; returns where it is now. */
struct spool_pos spool_advance(struct spool *s, size_t bytes, size_t lines);
/* Everything before pos is delivered: it leaves the spool. */
void spool_commit(struct spool *s, struct spool_pos pos);
/* Back to the first line not committed: it is read again. */
void spool_rewind(struct spool *s);

uint64_t spool_bytes(const struct spool *s);  /* not committed */
uint64_t spool_unread(const struct spool *s); /* bytes from the read position on */

#endif /* CUSTOS_SPOOL_H */
