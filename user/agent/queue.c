// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/queue.h"

#define CHUNK_SIZE (1 << 20)

struct queue_chunk {
	struct queue_chunk *next;
	size_t used;
	_Alignas(8) unsigned char data[CHUNK_SIZE];
};

/* Each record: its size, then its bytes, padded to 8. */
struct record_hdr {
	uint32_t size;
	uint32_t pad;
};

static size_t record_space(size_t size)
{
	return sizeof(struct record_hdr) + ((size + 7) & ~(size_t)7);
}

int queue_init(struct queue *q, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_bytes = max_bytes;
	return pthread_mutex_init(&q->lock, NULL) ? -ENOMEM : 0;
}

static void free_chunks(struct queue_chunk *c)
{
	while (c) {
		struct queue_chunk *next = c->next;

		free(c);
		c = next;
	}
}

void queue_destroy(struct queue *q)
{
	free_chunks(q->head);
	pthread_mutex_destroy(&q->lock);
}

int queue_push(struct queue *q, const void *data, size_t size)
{
	size_t need = record_space(size);
	struct record_hdr hdr = {.size = size};
	struct queue_chunk *c;
	int ret = 0;

	if (need > CHUNK_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&q->lock);
	if (q->bytes + need > q->max_bytes) {
		q->dropped++;
		ret = -ENOSPC;
		goto out_unlock;
	}
	c = q->tail;
	if (!c || c->used + need > CHUNK_SIZE) {
		c = malloc(sizeof(*c));
		if (!c) {
			q->dropped++;
			ret = -ENOMEM;
			goto out_unlock;
		}
		c->next = NULL;
		c->used = 0;
		if (q->tail)
			q->tail->next = c;
		else
			q->head = c;
		q->tail = c;
	}
	memcpy(c->data + c->used, &hdr, sizeof(hdr));
	memcpy(c->data + c->used + sizeof(hdr), data, size);
	c->used += need;
	q->bytes += need;
	if (q->bytes > q->peak_bytes)
		q->peak_bytes = q->bytes;
out_unlock:
	pthread_mutex_unlock(&q->lock);
	return ret;
}

size_t queue_drain(struct queue *q, void (*fn)(void *ctx, const void *data, size_t size), void *ctx)
{
	struct queue_chunk *c;
	size_t n = 0, off = 0;

	/* One chunk at a time: the caller gets control back between chunks. */
	pthread_mutex_lock(&q->lock);
	c = q->head;
	if (c) {
		q->head = c->next;
		if (q->tail == c)
			q->tail = NULL;
		q->bytes -= c->used;
	}
	pthread_mutex_unlock(&q->lock);
	if (!c)
		return 0;
	while (off < c->used) {
		struct record_hdr hdr;

		memcpy(&hdr, c->data + off, sizeof(hdr));
		fn(ctx, c->data + off + sizeof(hdr), hdr.size);
		off += record_space(hdr.size);
		n++;
	}
	free(c);
	return n;
}

void queue_stats(struct queue *q, struct queue_stats *out)
{
	pthread_mutex_lock(&q->lock);
	out->bytes = q->bytes;
	out->peak_bytes = q->peak_bytes;
	out->dropped = q->dropped;
	pthread_mutex_unlock(&q->lock);
}
