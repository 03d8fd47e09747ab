// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "kernel/ring.h"

struct ring {
	struct ring_buffer *rb;
	ring_record_fn fn;
	void *ctx;
	int map_fd;
	const volatile uint64_t *positions; /* consumer and producer pages, mapped on first use */
	long page;
};

static int on_sample(void *ctx, void *data, size_t size)
{
	struct ring *r = ctx;

	r->fn(r->ctx, data, size);
	return 0;
}

struct ring *ring_open(struct loader *loader, ring_record_fn fn, void *ctx)
{
	struct ring *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fn = fn;
	r->ctx = ctx;
	r->map_fd = loader_map_fd(loader, LOADER_MAP_EVENTS);
	r->page = sysconf(_SC_PAGESIZE);
	r->rb = ring_buffer__new(r->map_fd, on_sample, r, NULL);
	if (!r->rb) {
		int err = errno;

		free(r);
		errno = err;
		return NULL;
	}
	return r;
}

void ring_close(struct ring *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	if (r->positions)
		munmap((void *)r->positions, 2 * r->page);
	free(r);
}

void ring_poll(struct ring *r, int timeout_ms)
{
	ring_buffer__poll(r->rb, timeout_ms);
}

void ring_consume(struct ring *r)
{
	ring_buffer__consume(r->rb);
}

/* The producer position (second page) less the consumer's (first page). */
uint64_t ring_used(struct ring *r)
{
	if (!r->positions) {
		void *p = mmap(NULL, 2 * r->page, PROT_READ, MAP_SHARED, r->map_fd, 0);

		if (p == MAP_FAILED)
			return 0;
		r->positions = p;
	}
	return r->positions[r->page / sizeof(*r->positions)] - r->positions[0];
}
