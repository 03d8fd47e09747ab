// SPDX-License-Identifier: GPL-2.0
/* The queue of what a parsed connection awaits answers to (wire_proto.h). */
#include <stdlib.h>

#include "wire_proto.h"

bool wire_queue_push(struct wire_queue *q, void *x)
{
	size_t cap, i;
	void **grown;

	if (q->n == q->cap) {
		cap = q->cap ? 2 * q->cap : 16;
		grown = malloc(cap * sizeof(*grown));
		if (!grown)
			return false;
		for (i = 0; i < q->n; i++)
			grown[i] = q->items[(q->first + i) % q->cap];
		free(q->items);
		q->items = grown;
		q->first = 0;
		q->cap = cap;
	}
	q->items[(q->first + q->n++) % q->cap] = x;
	return true;
}

void *wire_queue_pop(struct wire_queue *q)
{
	void *x;

	if (!q->n)
		return NULL;
	x = q->items[q->first];
	q->first = (q->first + 1) % q->cap;
	q->n--;
	return x;
}

void *wire_queue_head(const struct wire_queue *q)
{
	return q->n ? q->items[q->first] : NULL;
}

void *wire_queue_tail(const struct wire_queue *q)
{
	return q->n ? q->items[(q->first + q->n - 1) % q->cap] : NULL;
}

void wire_queue_free(struct wire_queue *q)
{
	free(q->items);
	*q = (struct wire_queue){0};
}
