/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An output's backlog: event lines in order, in segment files of a
 * directory (kept across restarts) or, without one, in memory. Lines are
 * read from a read position; they leave the spool only when committed (the
 * receiver has them), so a broken connection rewinds to the first line not
 * committed and sends again: at least once, never lost silently.
 */
#ifndef CUSTOS_SPOOL_H
#define CUSTOS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_LINE_MAX (1U << 20) /* a longer line is refused as too large */

struct spool;

/* Lines the spool could not keep: how many, and their seqs when known (0 if not). */
struct spool_loss {
	uint64_t count;
	uint64_t first_seq, last_seq;
};

/* A place in the spool: a segment and an offset in it. */
struct spool_pos {
	uint64_t seg;
	uint64_t off;
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
 * Appends one line (ending in '\n'). -ENOBUFS: the bound was hit and this
 * line was dropped; -E2BIG: too long; other -errno: the disk refused it.
 * With drop_oldest, older lines may be dropped instead (added to *lost,
 * the call then returns 0).
 */
int spool_append(struct spool *s, const char *line, size_t len, struct spool_loss *lost);

/* Copies whole lines from the read position into buf (at most cap bytes); returns the bytes. */
size_t spool_peek(struct spool *s, char *buf, size_t cap, size_t *lines);
/* The read position moves past bytes peeked; returns where it is now. */
struct spool_pos spool_advance(struct spool *s, size_t bytes);
/* Everything before pos is delivered: it leaves the spool. */
void spool_commit(struct spool *s, struct spool_pos pos);
/* Back to the first line not committed: it is read again. */
void spool_rewind(struct spool *s);

/* custos.seq of an event line, 0 if it has none. */
uint64_t spool_line_seq(const char *line, size_t len);

uint64_t spool_bytes(const struct spool *s);  /* not committed */
uint64_t spool_unread(const struct spool *s); /* bytes from the read position on */

#endif /* CUSTOS_SPOOL_H */
