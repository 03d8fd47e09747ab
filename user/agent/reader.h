/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reader: a thread that copies every record out of the kernel's ring
 * buffer into the queue, nothing more, so the ring never fills while the
 * main thread turns records into events. It wakes the main thread (an
 * eventfd) when it queued something, and counts by record type what the
 * queue had no room for.
 */
#ifndef CUSTOS_READER_H
#define CUSTOS_READER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <custos/abi.h>

#include "agent/queue.h"
#include "kernel/loader.h"
#include "kernel/ring.h"

struct reader {
	struct ring *ring;
	struct queue queue;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	bool pushed; /* the reader thread's own: queued something this round */
	int wake_fd;
	atomic_uint_fast64_t queue_drops[CUSTOS_REC_TYPE_MAX]; /* by record type */
};

/* Sets up the queue (queue_bytes) and the ring; the thread starts with reader_start. */
int reader_init(struct reader *r, struct loader *loader, size_t queue_bytes, int wake_fd);
int reader_start(struct reader *r);
/* Stops the thread after it took everything left in the ring. */
void reader_stop(struct reader *r);
void reader_destroy(struct reader *r);

/*
 * Hands the oldest queued records (one chunk) to fn, in the caller's
 * thread. Returns how many; 0 when the queue is empty.
 */
size_t reader_drain(struct reader *r, void (*fn)(void *ctx, const void *data, size_t size),
		    void *ctx);
bool reader_busy(struct reader *r);

/* Records the queue had no room for, since the start: of each type, and in all. */
uint64_t reader_queue_drops(struct reader *r, int type);
void reader_queue_stats(struct reader *r, struct queue_stats *stats);
uint64_t reader_ring_used(struct reader *r);

#endif /* CUSTOS_READER_H */
