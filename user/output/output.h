/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where events go: one JSON object per line, or, for an operator at a
 * terminal, one human-readable line per access, both from typed events. An
 * optional filter (filter.h) keeps only some of them.
 */
#ifndef CUSTOS_OUTPUT_H
#define CUSTOS_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "encode/event.h"
#include "output/filter.h"

enum output_format {
	OUTPUT_JSON,
	OUTPUT_HUMAN,
};

/* Colours of human lines: auto is on when the stream is a terminal. */
enum output_color {
	OUTPUT_COLOR_AUTO,
	OUTPUT_COLOR_ALWAYS,
	OUTPUT_COLOR_NEVER,
};

struct output;

/* filter: copied; NULL keeps everything (its strings are borrowed). */
struct output *output_new(FILE *f, enum output_format format, const struct event_filter *filter);
void output_free(struct output *o);

void output_set_color(struct output *o, enum output_color color);

/*
 * Human lines are held up to window_ns and written in time order (0, the
 * default: at once, in the order they come). output_flush() writes those
 * older than the window, output_drain() all of them.
 */
void output_set_reorder(struct output *o, int64_t window_ns);
int output_drain(struct output *o);

/* Writes ev if the filter keeps it. 0, or -errno when the stream failed (-EPIPE: reader gone). */
int output_event(struct output *o, const struct event *ev);
int output_flush(struct output *o);
/* Human lines with "→" (true) or "->": the locale of whoever reads them (custos trace attached). */
void output_set_utf8(struct output *o, bool utf8);

/*
 * Events that could not be written (serialized, or batched for want of
 * memory) since the last call: their count and seq range. false if none.
 */
bool output_take_unwritable(struct output *o, uint64_t *count, uint64_t *first_seq,
			    uint64_t *last_seq);

struct sinks;
/* JSON lines go to these outputs (custos run) rather than to the stream. */
void output_set_sinks(struct output *o, struct sinks *sinks);

struct chain;
/*
 * Each JSON line is sealed with chain (see chain.h) as it is written; NULL:
 * none. OCSF lines are sealed by a chain of their own under the same key
 * (custos verify checks either stream); a new chain (SIGHUP) goes on from
 * where the old one of each stream is, as chain_continue says.
 */
void output_set_chain(struct output *o, struct chain *chain);

/*
 * Appends len bytes of s to buf at o (NUL-terminated), escaping what a
 * terminal would interpret: C0 controls, DEL and bytes that are not UTF-8
 * as \xNN, C1 controls and bidi overrides as \uXXXX. Stops short of cap
 * (more than o + 8); 4 * len + 9 bytes from o hold it all. Returns the new
 * length.
 */
size_t output_safe_text(char *buf, size_t cap, size_t o, const char *s, size_t len);

/* The human-readable line for an event (no newline); terminal control bytes are escaped. */
void output_human_line(const struct event *ev, bool utf8, char *buf, size_t cap);

#endif /* CUSTOS_OUTPUT_H */
