// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "agent/reader.h"
#include "lib/log.h"

#define READER_POLL_MS 50 /* the ring is drained at least this often */

static void on_record(void *ctx, const void *data, size_t size)
{
	struct reader *r = ctx;

	if (queue_push(&r->queue, data, size) == 0) {
		r->pushed = true;
	} else if (size >= sizeof(struct custos_rec_hdr)) {
		uint16_t type = ((const struct custos_rec_hdr *)data)->type;

		atomic_fetch_add_explicit(&r->queue_drops[type < CUSTOS_REC_TYPE_MAX ? type : 0], 1,
					  memory_order_relaxed);
	}
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint64_t one = 1;
	bool last = false;

	while (!last) {
		last = atomic_load(&r->stop);
		r->pushed = false;
		/* Records come without wakeups (see bpf/record.bpf.h): poll, then take what is
		 * there. */
		if (!last)
			ring_poll(r->ring, READER_POLL_MS);
		ring_consume(r->ring);
		if (r->pushed && write(r->wake_fd, &one, sizeof(one)) < 0)
			log_debug("cannot wake the main thread: %s", strerror(errno));
	}
	return NULL;
}

int reader_init(struct reader *r, struct loader *loader, size_t queue_bytes, int wake_fd)
{
	int i;

	memset(r, 0, sizeof(*r));
	r->wake_fd = wake_fd;
	atomic_init(&r->stop, false);
	for (i = 0; i < CUSTOS_REC_TYPE_MAX; i++)
		atomic_init(&r->queue_drops[i], 0);
	if (queue_init(&r->queue, queue_bytes))
		return -ENOMEM;
	r->ring = ring_open(loader, on_record, r);
	if (!r->ring) {
		int err = -errno;

		queue_destroy(&r->queue);
		return err;
	}
	return 0;
}

int reader_start(struct reader *r)
{
	if (pthread_create(&r->thread, NULL, reader_main, r))
		return -EAGAIN;
	r->running = true;
	return 0;
}

void reader_stop(struct reader *r)
{
	if (!r->running)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	r->running = false;
}

void reader_destroy(struct reader *r)
{
	reader_stop(r);
	ring_close(r->ring);
	r->ring = NULL;
	queue_destroy(&r->queue);
}

size_t reader_drain(struct reader *r, void (*fn)(void *ctx, const void *data, size_t size),
		    void *ctx)
{
	return queue_drain(&r->queue, fn, ctx);
}

bool reader_busy(struct reader *r)
{
	struct queue_stats qs;

	queue_stats(&r->queue, &qs);
	return qs.bytes != 0;
}

uint64_t reader_queue_drops(struct reader *r, int type)
{
	return atomic_load_explicit(&r->queue_drops[type], memory_order_relaxed);
}

void reader_queue_stats(struct reader *r, struct queue_stats *stats)
{
	queue_stats(&r->queue, stats);
}

uint64_t reader_ring_used(struct reader *r)
{
	return r->ring ? ring_used(r->ring) : 0;
}
