// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/line_batch.h"

#define BYTES_MIN 4096
#define LINES_MIN 64

static int grow_lines(struct line_batch *b)
{
	size_t cap = b->n_cap ? b->n_cap * 2 : LINES_MIN;
	uint64_t *seqs = realloc(b->seqs, cap * sizeof(*seqs));
	size_t *ends;

	if (!seqs)
		return -ENOMEM;
	b->seqs = seqs;
	ends = realloc(b->ends, cap * sizeof(*ends));
	if (!ends)
		return -ENOMEM;
	b->ends = ends;
	b->n_cap = cap;
	return 0;
}

static int grow_bytes(struct line_batch *b, size_t need)
{
	size_t cap = b->cap ? b->cap : BYTES_MIN;
	char *buf;

	while (cap < need)
		cap *= 2;
	buf = realloc(b->buf, cap);
	if (!buf)
		return -ENOMEM;
	b->buf = buf;
	b->cap = cap;
	return 0;
}

int line_batch_add(struct line_batch *b, const char *line, size_t len, uint64_t seq)
{
	if (!len || line[len - 1] != '\n')
		return -EINVAL;
	if (b->n == b->n_cap && grow_lines(b))
		return -ENOMEM;
	if (b->len + len > b->cap && grow_bytes(b, b->len + len))
		return -ENOMEM;
	memcpy(b->buf + b->len, line, len);
	b->len += len;
	b->seqs[b->n] = seq;
	b->ends[b->n] = b->len;
	b->n++;
	return 0;
}

void line_batch_reset(struct line_batch *b)
{
	b->len = b->n = 0;
}

void line_batch_free(struct line_batch *b)
{
	free(b->buf);
	free(b->seqs);
	free(b->ends);
	*b = (struct line_batch){0};
}
