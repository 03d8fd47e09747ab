// SPDX-License-Identifier: GPL-2.0
/* Stored event streams read back line by line (see stream_read.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "output/stream_read.h"

#define CHUNK (256 << 10) /* read at once */

void stream_reader_init(struct stream_reader *r, size_t line_max, bool span_files)
{
	*r = (struct stream_reader){.line_max = line_max, .span_files = span_files};
}

void stream_reader_release(struct stream_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
}

static gzFile open_stream(const char *path)
{
	int fd;
	gzFile gz;

	if (strcmp(path, "-"))
		return gzopen(path, "rbe");
	fd = dup(STDIN_FILENO);
	if (fd < 0)
		return NULL;
	gz = gzdopen(fd, "rb");
	if (!gz)
		close(fd);
	return gz;
}

/* Room for another CHUNK after what buf holds. */
static int reserve(struct stream_reader *r)
{
	size_t cap = r->cap ? r->cap : 4 * CHUNK;
	char *buf;

	while (cap < r->len + CHUNK)
		cap *= 2;
	if (cap == r->cap)
		return 0;
	buf = realloc(r->buf, cap);
	if (!buf)
		return -ENOMEM;
	r->buf = buf;
	r->cap = cap;
	return 0;
}

/*
 * Hands fn the whole lines in buf, the first scanned bytes of which hold no
 * newline; keeps the beginning of the next one, or hands it as too long.
 */
static int take_lines(struct stream_reader *r, size_t scanned, const char *path, uint64_t *lineno,
		      stream_line_fn fn, void *ctx)
{
	char *line = r->buf, *end = r->buf + r->len, *nl;
	int ret;

	while ((nl = memchr(line + scanned, '\n', end - line - scanned))) {
		size_t len = nl - line;

		if (r->skipping) {
			r->skipping = false; /* the end of a line handed as too long */
		} else {
			ret = fn(ctx, line, len,
				 len > r->line_max ? STREAM_LINE_LONG : STREAM_LINE_NEWLINE,
				 &r->start);
			if (ret)
				return ret;
		}
		line = nl + 1;
		scanned = 0;
		r->start = (struct stream_where){.file = path, .line = ++*lineno};
	}
	r->len = r->skipping ? 0 : end - line;
	memmove(r->buf, line, r->len);
	if (r->len <= r->line_max)
		return 0;
	r->skipping = true;
	ret = fn(ctx, r->buf, r->len, STREAM_LINE_LONG, &r->start);
	r->len = 0;
	return ret;
}

/* gzip data that ends early: what came of the line being read is all there is of it. */
static int cut_short(struct stream_reader *r, const char *path, uint64_t lineno, stream_line_fn fn,
		     void *ctx)
{
	size_t len = r->skipping ? 0 : r->len;

	if (len == 0)
		r->start = (struct stream_where){.file = path, .line = lineno};
	r->len = 0;
	r->skipping = false;
	return fn(ctx, r->buf, len, STREAM_LINE_CUT, &r->start);
}

int stream_read_end(struct stream_reader *r, stream_line_fn fn, void *ctx)
{
	size_t len = r->len;

	r->len = 0;
	r->skipping = false;
	return len ? fn(ctx, r->buf, len, STREAM_LINE_EOF, &r->start) : 0;
}

int stream_read_file(struct stream_reader *r, const char *path, stream_line_fn fn, void *ctx)
{
	gzFile gz = open_stream(path);
	uint64_t lineno = 1;
	size_t scanned;
	int n, ret = 0, zerr;

	if (!gz) {
		ret = errno ?: ENOMEM; /* zlib itself fails only without memory */
		snprintf(r->error, sizeof(r->error), "%s: cannot open: %s", path, strerror(ret));
		return -ret;
	}
	gzbuffer(gz, CHUNK);
	r->files++;
	if (r->len == 0 && !r->skipping)
		r->start = (struct stream_where){.file = path, .line = 1};
	while (ret == 0) {
		ret = reserve(r);
		if (ret) {
			snprintf(r->error, sizeof(r->error), "%s: line %llu: out of memory", path,
				 (unsigned long long)lineno);
			break;
		}
		n = gzread(gz, r->buf + r->len, CHUNK);
		if (n < 0) {
			const char *msg = gzerror(gz, &zerr);

			snprintf(r->error, sizeof(r->error), "%s: cannot read line %llu: %s", path,
				 (unsigned long long)lineno,
				 zerr == Z_ERRNO ? strerror(errno) : msg);
			ret = -EIO;
		}
		if (n <= 0)
			break;
		r->bytes += n;
		scanned = r->len;
		r->len += n;
		ret = take_lines(r, scanned, path, &lineno, fn, ctx);
	}
	if (ret == 0 && (gzerror(gz, &zerr), zerr == Z_BUF_ERROR))
		ret = cut_short(r, path, lineno, fn, ctx);
	gzclose_r(gz);
	if (ret < 0) {
		r->len = 0;
		r->skipping = false;
	} else if (ret == 0 && !r->span_files) {
		ret = stream_read_end(r, fn, ctx);
	}
	return ret;
}
