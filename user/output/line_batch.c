// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/line_batch.h"

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

int line_batch_add(struct line_batch *b, const char *line, size_t len, uint64_t seq)
{
	size_t start;

	if (!len || line[len - 1] != '\n')
		return -EINVAL;
	start = line_batch_begin(b);
	jsonw_raw(&b->text, line, len);
	return line_batch_end(b, start, seq);
}

size_t line_batch_begin(struct line_batch *b)
{
	jsonw_line(&b->text);
	return b->text.len;
}

int line_batch_end(struct line_batch *b, size_t start, uint64_t seq)
{
	int err = jsonw_error(&b->text);

	if (!err && b->n == b->n_cap)
		err = grow_lines(b);
	if (err) {
		b->text.len = start;
		return err;
	}
	b->seqs[b->n] = seq;
	b->ends[b->n] = b->text.len;
	b->n++;
	return 0;
}

void line_batch_reset(struct line_batch *b)
{
	jsonw_reset(&b->text);
	b->n = 0;
}

void line_batch_free(struct line_batch *b)
{
	jsonw_free(&b->text);
	free(b->seqs);
	free(b->ends);
	*b = (struct line_batch){0};
}
