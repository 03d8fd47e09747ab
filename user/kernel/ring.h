/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's ring buffer of records (struct custos_rec_hdr and what
 * follows): waits for records and hands each to a function, in the order
 * the kernel wrote them.
 */
#ifndef CUSTOS_RING_H
#define CUSTOS_RING_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/loader.h"

struct ring;

/* Called for each record; data is valid only during the call. */
typedef void (*ring_record_fn)(void *ctx, const void *data, size_t size);

/* NULL with errno set. */
struct ring *ring_open(struct loader *loader, ring_record_fn fn, void *ctx);
void ring_close(struct ring *ring);

/* Waits up to timeout_ms for records, then hands over those there. */
void ring_poll(struct ring *ring, int timeout_ms);
/* Hands over the records there, without waiting. */
void ring_consume(struct ring *ring);

/* Bytes the ring holds now, not yet handed over. */
uint64_t ring_used(struct ring *ring);

#endif /* CUSTOS_RING_H */
