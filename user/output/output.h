/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where events go: one JSON object per line, or, for an operator at a
 * terminal, one human-readable line per access, both from typed events. An
 * optional filter keeps only the accesses of one process, name or user.
 */
#ifndef CUSTOS_OUTPUT_H
#define CUSTOS_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "encode/event.h"

enum output_format {
	OUTPUT_JSON,
	OUTPUT_HUMAN,
};

struct output_filter {
	uint32_t pid;	  /* 0: any */
	const char *comm; /* NULL: any */
	const char *user; /* NULL: any; a name or a uid, matched against user and login user */
};

struct output;

struct output *output_new(FILE *f, enum output_format format, const struct output_filter *filter);
void output_free(struct output *o);

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
