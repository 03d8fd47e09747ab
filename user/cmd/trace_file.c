// SPDX-License-Identifier: GPL-2.0
/*
 * custos trace --file: a stored stream (plain, gzip, or stdin) shown as the
 * live view shows events, through the same filter. No BPF, no root.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/trace.h"
#include "encode/decode.h"
#include "output/stream_read.h"

#define LINE_MAX_BYTES (16 << 20) /* longer lines are skipped, as custos report does */
#define MESSAGES_MAX   10	  /* skipped lines told one by one; then only counted */

struct replay {
	const struct trace_options *opts;
	struct output *out;
	uint64_t lines, shown, malformed, backwards;
	int64_t last_ns;
	int error;
};

/* A message about a line (its text may quote the line: escaped for the terminal). */
static void tell(struct replay *r, uint64_t n, const struct stream_where *where, const char *what)
{
	char safe[4 * 320 + 16];

	output_safe_text(safe, sizeof(safe), 0, what, strlen(what));
	if (n <= MESSAGES_MAX)
		fprintf(stderr, "custos trace: %s:%llu: %s\n",
			strcmp(where->file, "-") ? where->file : "stdin",
			(unsigned long long)where->line, safe);
	if (n == MESSAGES_MAX)
		fprintf(stderr, "custos trace: (no more such messages; they are counted)\n");
}

static int on_line(void *ctx, char *line, size_t len, enum stream_line_end end,
		   const struct stream_where *where)
{
	struct replay *r = ctx;
	struct decoded d;
	char why[256], msg[320];
	int ret;

	r->lines++;
	if (end == STREAM_LINE_NEWLINE || end == STREAM_LINE_EOF)
		ret = decode_event(line, len, &d, why, sizeof(why));
	else {
		snprintf(why, sizeof(why), "%s",
			 end == STREAM_LINE_LONG ? "longer than 16 MiB"
						 : "cut short (gzip data ends)");
		memset(&d, 0, sizeof(d));
		ret = -EINVAL;
	}
	if (ret == -ENOMEM) {
		decoded_release(&d);
		return -ENOMEM;
	}
	if (ret) {
		snprintf(msg, sizeof(msg), "skipped: %s", why);
		tell(r, ++r->malformed, where, msg);
		decoded_release(&d);
		return 0;
	}
	if (r->lines > 1 && d.ev.time_ns < r->last_ns) {
		snprintf(msg, sizeof(msg),
			 "time goes back %.3f s (lines are shown in the file's order)",
			 (r->last_ns - d.ev.time_ns) / 1e9);
		tell(r, ++r->backwards, where, msg);
	}
	r->last_ns = d.ev.time_ns;
	if (r->opts->json) {
		/* The line as stored, if the filter keeps it. */
		if (event_filter_keep(&r->opts->filter, &d.ev)) {
			fwrite(line, 1, len, stdout);
			fputc('\n', stdout);
			r->shown++;
		}
		ret = ferror(stdout) ? -EIO : 0;
	} else {
		ret = output_event(r->out, &d.ev);
	}
	decoded_release(&d);
	return ret;
}

int trace_file(const struct trace_options *opts)
{
	struct replay r = {.opts = opts};
	struct stream_reader reader;
	int ret;

	r.out = output_new(stdout, OUTPUT_HUMAN, &opts->filter);
	if (!r.out) {
		fprintf(stderr, "custos trace: %s\n", strerror(errno));
		return 1;
	}
	output_set_color(r.out, opts->color);
	stream_reader_init(&reader, LINE_MAX_BYTES, false);
	ret = stream_read_file(&reader, opts->file, on_line, &r);
	if (!ret)
		ret = stream_read_end(&reader, on_line, &r);
	if (ret && reader.error[0])
		fprintf(stderr, "custos trace: %s\n", reader.error);
	else if (ret == -ENOMEM)
		fprintf(stderr, "custos trace: out of memory\n");
	stream_reader_release(&reader);
	if (output_drain(r.out) || fflush(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "custos trace: cannot write: %s\n", strerror(errno));
		ret = ret ?: -EIO;
	}
	output_free(r.out);
	if (r.backwards > MESSAGES_MAX)
		fprintf(stderr, "custos trace: %s: time goes back at %llu lines\n",
			strcmp(opts->file, "-") ? opts->file : "stdin",
			(unsigned long long)r.backwards);
	if (r.malformed)
		fprintf(stderr,
			"custos trace: %s: %llu of %llu lines skipped: not events as custos run "
			"writes them\n",
			strcmp(opts->file, "-") ? opts->file : "stdin",
			(unsigned long long)r.malformed, (unsigned long long)r.lines);
	return ret || r.malformed ? 1 : 0;
}
