/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The outputs of "outputs": each event line goes to every one, each in its
 * own thread with a bounded queue, so a slow or dead output never holds up
 * the agent or the others. Local outputs (stdout, file) write the batches
 * from the queue; network outputs keep a spool on disk and deliver it, in
 * order, when the receiver is back. What no bound can hold is dropped and
 * counted by seq, for gap events: nothing is lost silently.
 */
#ifndef CUSTOS_SINK_H
#define CUSTOS_SINK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "output/line_batch.h"

enum sink_gap_reason {
	SINK_GAP_QUEUE_FULL,
	SINK_GAP_SPOOL_FULL,
	SINK_GAP_SPOOL_WRITE,
	SINK_GAP_TOO_LARGE,
	SINK_GAP_REASONS,
};

struct sinks;

/* The outputs of cfg (stdout when it names none). NULL with err filled on failure. */
struct sinks *sinks_new(const struct config *cfg, const char *host, char *err, size_t len);
/* Delivers what it can within deadline_ms, spools the rest, and frees everything. */
void sinks_stop(struct sinks *s, int deadline_ms);

/*
 * Queues a copy of b's lines, with their seqs, for every output whose
 * "format" is format (the lines are in that schema); never blocks.
 */
void sinks_write(struct sinks *s, enum config_output_format format, const struct line_batch *b);
/* The formats the outputs want: a bit (1 << CONFIG_FORMAT_...) for each. */
unsigned int sinks_formats(const struct sinks *s);

/* Calls fn for each output's drops since the last call. */
void sinks_take_gaps(struct sinks *s,
		     void (*fn)(void *ctx, const char *output, const char *reason, uint64_t count,
				uint64_t first_seq, uint64_t last_seq),
		     void *ctx);

/*
 * [{"name", "in", "out", "dropped", "queued_bytes", "spool_bytes", "state", "last_error"}]: an
 * array, one object per output (their names have dots, which Elasticsearch would split as keys);
 * queued_bytes: what waits in memory (for a local output, all it holds); spool_bytes: what a
 * network output's spool holds, not yet delivered (0 for a local output: it has none).
 */
json_t *sinks_stats(struct sinks *s);
/* The outputs' names, for agent-start. */
json_t *sinks_names(struct sinks *s);

/* stdout's reader went away (EPIPE): the agent has nobody left to talk to. */
bool sinks_stdout_closed(struct sinks *s);

#endif /* CUSTOS_SINK_H */
