/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event lines handed from the events to the outputs: whole lines back to
 * back, each ending in '\n', with each line's custos.seq and where it ends.
 * Whoever drops a line (a full queue, a full spool, a disk error, a line too
 * large) says which one from here, without reading the line.
 */
#ifndef CUSTOS_LINE_BATCH_H
#define CUSTOS_LINE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "encode/jsonw.h"

struct line_batch {
	struct jsonw text; /* the lines: text.buf, text.len bytes */
	size_t n, n_cap;   /* lines, and slots allocated in seqs and ends */
	uint64_t *seqs;	   /* seqs[i]: custos.seq of line i */
	size_t *ends;	   /* ends[i]: the offset just past line i's '\n' */
};

/*
 * Appends one line of len bytes ending in '\n', with its seq. -EINVAL if it
 * does not end so, -ENOMEM; either way the batch is as it was.
 */
int line_batch_add(struct line_batch *b, const char *line, size_t len, uint64_t seq);

/*
 * A line written in place: line_batch_begin() readies b->text for one JSON
 * value at its end (the lines before stay); the caller writes it and its
 * '\n', then line_batch_end() keeps it with seq, or drops what was written
 * if the writer failed. 0, or the writer's error (-ENOMEM, -EINVAL).
 */
size_t line_batch_begin(struct line_batch *b);
int line_batch_end(struct line_batch *b, size_t start, uint64_t seq);
/* Empty again; the memory stays for the next lines. */
void line_batch_reset(struct line_batch *b);
/* Frees what b holds (b itself is the caller's); b is then empty. */
void line_batch_free(struct line_batch *b);

/* Where line i starts in text.buf. */
static inline size_t line_batch_start(const struct line_batch *b, size_t i)
{
	return i ? b->ends[i - 1] : 0;
}

/* The bytes of lines from..to-1. */
static inline size_t line_batch_bytes(const struct line_batch *b, size_t from, size_t to)
{
	return to > from ? b->ends[to - 1] - line_batch_start(b, from) : 0;
}

#endif /* CUSTOS_LINE_BATCH_H */
