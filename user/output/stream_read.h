/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stored event streams read back line by line: files plain or gzip (one gzip
 * member after another, as a rotated file or several such files piped
 * together), "-" for stdin. The reader of custos verify and custos report.
 *
 * A line is handed to the caller without its newline, with the file and line
 * number where it begins. A line longer than line_max is handed once
 * (STREAM_LINE_LONG, with at least line_max of its bytes) and the rest of it
 * is skipped, so memory stays bounded whatever the input.
 */
#ifndef CUSTOS_STREAM_READ_H
#define CUSTOS_STREAM_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum stream_line_end {
	STREAM_LINE_NEWLINE, /* a whole line */
	STREAM_LINE_EOF,     /* the stream (or, for a reader per file, the file) ends inside it */
	STREAM_LINE_CUT,     /* the file's gzip data ends early: what came of the line (maybe 0) */
	STREAM_LINE_LONG,    /* longer than line_max: its beginning; the rest is skipped */
};

/* Where a line begins: the caller's name for its file (borrowed), the line number there. */
struct stream_where {
	const char *file;
	uint64_t line;
};

/*
 * Called with each line (changeable: only while the call lasts). 0 to go on;
 * anything else stops the reading and is returned by stream_read_file() or
 * stream_read_end(); the reader can then only be released.
 */
typedef int (*stream_line_fn)(void *ctx, char *line, size_t len, enum stream_line_end end,
			      const struct stream_where *where);

struct stream_reader {
	size_t line_max;
	bool span_files; /* a line may go on from one file into the next */
	bool skipping;	 /* the rest of a line handed as STREAM_LINE_LONG */
	char *buf;	 /* the line being read, and what follows it */
	size_t len, cap;
	struct stream_where start; /* where the line in buf begins */
	uint64_t files;		   /* opened */
	uint64_t bytes;		   /* read (after decompression) */
	char error[1024];	   /* why a file cannot be read */
};

/*
 * span_files: the files are one stream cut anywhere (custos verify), a line
 * left unfinished at the end of a file goes on in the next one; otherwise
 * each file ends its last line (STREAM_LINE_EOF).
 */
void stream_reader_init(struct stream_reader *r, size_t line_max, bool span_files);
void stream_reader_release(struct stream_reader *r);

/*
 * Reads path ("-": stdin) and hands fn its lines. 0 at its end; what fn
 * returned if not 0; or -errno when the file cannot be opened or read, with
 * r->error naming the file (and the line). After a read error the line
 * being read is dropped.
 */
int stream_read_file(struct stream_reader *r, const char *path, stream_line_fn fn, void *ctx);
/* No more files: hands fn the unfinished last line, if any (STREAM_LINE_EOF). */
int stream_read_end(struct stream_reader *r, stream_line_fn fn, void *ctx);

#endif /* CUSTOS_STREAM_READ_H */
