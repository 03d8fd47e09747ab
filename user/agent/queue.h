/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Records between the thread that drains the kernel's ring buffer and the
 * thread that turns them into events. Draining is a copy, so the ring never
 * fills while formatting is busy; the queue absorbs bursts up to its bound,
 * and what does not fit is counted, never silently dropped.
 */
#ifndef CUSTOS_QUEUE_H
#define CUSTOS_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct queue_chunk;

struct queue {
	pthread_mutex_t lock;
	struct queue_chunk *head, *tail;
	size_t bytes;	  /* queued now */
	size_t max_bytes; /* bound */
	size_t peak_bytes;
	uint64_t dropped; /* records that did not fit */
};

struct queue_stats {
	size_t bytes;
	size_t peak_bytes;
	uint64_t dropped;
};

int queue_init(struct queue *q, size_t max_bytes);
void queue_destroy(struct queue *q);

/* Copies a record in; -ENOSPC (counted in dropped) when the queue is full. */
int queue_push(struct queue *q, const void *data, size_t size);

/*
 * Calls fn for the oldest records (one chunk of them), oldest first,
 * without holding the lock during fn. Returns how many; 0 if it was empty.
 */
size_t queue_drain(struct queue *q, void (*fn)(void *ctx, const void *data, size_t size),
		   void *ctx);

void queue_stats(struct queue *q, struct queue_stats *out);

#endif /* CUSTOS_QUEUE_H */
