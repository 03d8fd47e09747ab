// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per output; batches of lines come in through a bounded list.
 * A local output (stdout, file) writes each batch as it came, straight from
 * the list: a batch leaves the list once written, and a failed write is
 * retried with backoff while new batches wait behind it, within the list's
 * bound. A network output (syslog, http) appends each batch to its spool
 * (on disk with spool.dir, else in memory) and sends from there; a failed
 * send closes the connection, rewinds the spool to the first line not known
 * to be received and retries with backoff. Every batch carries its lines'
 * seqs, so whatever is dropped on the way is reported by seq.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "output/sink.h"
#include "output/spool.h"

#include "sink_priv.h"

#define BATCH_BYTES    SPOOL_LINE_MAX
#define WAIT_MS	       100
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define REPLAY_MS      5000 /* sent, unacknowledged lines are sent again within this window */
#define REPLAY_SLOTS   4096

/* Event lines handed over together, in order: a copy of what sinks_write got. */
struct batch {
	struct batch *next;
	struct line_batch lines; /* its arrays are in the same allocation, after it */
};

struct gap {
	uint64_t count, first_seq, last_seq;
};

/* A send not acknowledged by the receiver, kept until REPLAY_MS has passed. */
struct sent {
	struct spool_pos end;
	uint64_t at_ms;
};

struct sink {
	char *name;
	enum config_output_format format; /* the lines it takes */
	struct transport *t;
	struct spool *spool; /* a network output's; NULL for a local one */
	bool on_disk;	     /* the spool outlives the agent */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct batch *head, *tail; /* waiting for the thread */
	/* the list's bytes, and those of the batches the thread took and has not written or
	 * spooled yet */
	uint64_t queued_bytes, queue_max;
	bool drop_oldest;
	bool stopping;
	uint64_t deadline_ms;
	/* under lock: what heartbeats and gap events report */
	uint64_t in, out, dropped[SINK_GAP_REASONS];
	struct gap gaps[SINK_GAP_REASONS];
	uint64_t spool_bytes;
	bool up;
	char last_error[640];
	/* the thread's own */
	struct sent replay[REPLAY_SLOTS];
	size_t replay_head, replay_n;
	char *batch; /* what one send takes: read from the spool, or batches put together */
};

struct sinks {
	struct sink *v;
	size_t n;
};

static const char *const gap_names[SINK_GAP_REASONS] = {
    [SINK_GAP_QUEUE_FULL] = "queue_full",
    [SINK_GAP_SPOOL_FULL] = "spool_full",
    [SINK_GAP_SPOOL_WRITE] = "spool_write_failed",
    [SINK_GAP_TOO_LARGE] = "too_large",
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Under lock. */
static void count_gap(struct sink *k, enum sink_gap_reason r, uint64_t n, uint64_t first,
		      uint64_t last)
{
	struct gap *g = &k->gaps[r];

	k->dropped[r] += n;
	if (!g->count || (first && (!g->first_seq || first < g->first_seq)))
		g->first_seq = first;
	if (last > g->last_seq)
		g->last_seq = last;
	g->count += n;
}

/* Under lock. */
static void count_batch(struct sink *k, enum sink_gap_reason r, const struct line_batch *b,
			size_t from, size_t to)
{
	if (to > from)
		count_gap(k, r, to - from, b->seqs[from], b->seqs[to - 1]);
}

/* A copy of b in one allocation: the lines, their seqs and ends. NULL when out of memory. */
static struct batch *batch_copy(const struct line_batch *b)
{
	size_t seqs = b->n * sizeof(*b->seqs), ends = b->n * sizeof(*b->ends);
	struct batch *q = malloc(sizeof(*q) + seqs + ends + b->text.len);
	char *p;

	_Static_assert(sizeof(struct batch) % _Alignof(uint64_t) == 0, "seqs follow the batch");
	_Static_assert(sizeof(uint64_t) % _Alignof(size_t) == 0, "ends follow the seqs");
	if (!q)
		return NULL;
	p = (char *)(q + 1);
	q->next = NULL;
	q->lines = (struct line_batch){
	    .text = {.buf = p + seqs + ends, .len = b->text.len, .cap = b->text.len},
	    .n = b->n,
	    .n_cap = b->n,
	    .seqs = (uint64_t *)p,
	    .ends = (size_t *)(p + seqs),
	};
	memcpy(q->lines.seqs, b->seqs, seqs);
	memcpy(q->lines.ends, b->ends, ends);
	memcpy(q->lines.text.buf, b->text.buf, b->text.len);
	return q;
}

void sinks_write(struct sinks *s, enum config_output_format format, const struct line_batch *b)
{
	size_t i;

	if (!b->n)
		return;
	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];
		struct batch *q;
		bool was_empty;

		if (k->format != format)
			continue;
		q = batch_copy(b);

		pthread_mutex_lock(&k->lock);
		k->in += b->n;
		while (k->drop_oldest && k->head && k->queued_bytes + b->text.len > k->queue_max) {
			struct batch *old = k->head;

			k->head = old->next;
			if (!k->head)
				k->tail = NULL;
			k->queued_bytes -= old->lines.text.len;
			count_batch(k, SINK_GAP_QUEUE_FULL, &old->lines, 0, old->lines.n);
			free(old);
		}
		if (!q || k->queued_bytes + b->text.len > k->queue_max) {
			count_batch(k, SINK_GAP_QUEUE_FULL, b, 0, b->n);
			pthread_mutex_unlock(&k->lock);
			free(q);
			continue;
		}
		was_empty = !k->head;
		if (k->tail)
			k->tail->next = q;
		else
			k->head = q;
		k->tail = q;
		k->queued_bytes += b->text.len;
		/* A thread with work queued is awake already, or wakes within WAIT_MS. */
		if (was_empty)
			pthread_cond_signal(&k->wake);
		pthread_mutex_unlock(&k->lock);
	}
}

/* A network output's batch into its spool; what a bound or the disk refuses is counted. */
static void spool_batch(struct sink *k, const struct line_batch *b)
{
	size_t i = 0, taken, refused;

	while (i < b->n) {
		struct spool_loss lost = {0};
		int r = spool_append(k->spool, b, i, &taken, &lost);
		enum sink_gap_reason reason = r == -ENOBUFS ? SINK_GAP_SPOOL_FULL
					      : r == -E2BIG ? SINK_GAP_TOO_LARGE
							    : SINK_GAP_SPOOL_WRITE;

		i += taken;
		/* A line too large goes alone; after a full spool or a disk error, the rest. */
		refused = !r ? 0 : r == -E2BIG ? 1 : b->n - i;
		if (lost.count || refused) {
			pthread_mutex_lock(&k->lock);
			if (lost.count)
				count_gap(k, SINK_GAP_SPOOL_FULL, lost.count, lost.first_seq,
					  lost.last_seq);
			count_batch(k, reason, b, i, i + refused);
			pthread_mutex_unlock(&k->lock);
		}
		if (!r)
			break;
		i += refused;
	}
}

/* Moves what came in into the spool, a batch at a time; it is queued until spooled. */
static void take_batches(struct sink *k)
{
	struct batch *b, *next;

	pthread_mutex_lock(&k->lock);
	b = k->head;
	k->head = k->tail = NULL;
	pthread_mutex_unlock(&k->lock);
	for (; b; b = next) {
		next = b->next;
		spool_batch(k, &b->lines);
		pthread_mutex_lock(&k->lock);
		k->queued_bytes -= b->lines.text.len;
		k->spool_bytes = spool_bytes(k->spool);
		pthread_mutex_unlock(&k->lock);
		free(b);
	}
}

/* Under lock. */
static void set_state_locked(struct sink *k, bool up, const char *why)
{
	if (k->up != up) {
		if (up)
			log_info("output %s: delivering", k->name);
		else
			log_warn("output %s: %s; keeping events until it is back", k->name, why);
	}
	k->up = up;
	if (why)
		snprintf(k->last_error, sizeof(k->last_error), "%s", why);
	if (k->spool)
		k->spool_bytes = spool_bytes(k->spool);
}

static void set_state(struct sink *k, bool up, const char *why)
{
	pthread_mutex_lock(&k->lock);
	set_state_locked(k, up, why);
	pthread_mutex_unlock(&k->lock);
}

/* Commits the sends older than the replay window (all of them when force). */
static void commit_sent(struct sink *k, bool force)
{
	uint64_t now = now_ms();

	while (k->replay_n) {
		struct sent *s = &k->replay[k->replay_head];

		if (!force && now - s->at_ms < REPLAY_MS && k->replay_n < REPLAY_SLOTS)
			break;
		spool_commit(k->spool, s->end);
		k->replay_head = (k->replay_head + 1) % REPLAY_SLOTS;
		k->replay_n--;
	}
}

static void remember_sent(struct sink *k, struct spool_pos end)
{
	if (k->replay_n == REPLAY_SLOTS)
		commit_sent(k, false); /* full: the oldest is committed early */
	k->replay[(k->replay_head + k->replay_n) % REPLAY_SLOTS] =
	    (struct sent){.end = end, .at_ms = now_ms()};
	k->replay_n++;
}

static void lost_connection(struct sink *k)
{
	k->t->ops->close(k->t, false);
	k->replay_n = 0;
	spool_rewind(k->spool);
}

/* One batch from the spool; -errno when the receiver failed. */
static int send_batch(struct sink *k, size_t *sent)
{
	size_t lines, n = spool_peek(k->spool, k->batch, BATCH_BYTES, &lines);
	uint64_t first = 0, last = 0;
	struct spool_pos end;
	int r;

	*sent = n;
	if (!n)
		return 0;
	k->t->skipped = 0;
	r = k->t->ops->send(k->t, k->batch, n);
	if (r)
		return r;
	if (k->t->skipped) {
		first = spool_seq(k->spool, k->t->skipped_first);
		last = spool_seq(k->spool, k->t->skipped_last);
	}
	end = spool_advance(k->spool, n, lines);
	if (k->t->acked)
		spool_commit(k->spool, end);
	else
		remember_sent(k, end);
	pthread_mutex_lock(&k->lock);
	k->out += lines - k->t->skipped;
	if (k->t->skipped)
		count_gap(k, SINK_GAP_TOO_LARGE, k->t->skipped, first, last);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static bool should_stop(struct sink *k, bool connected)
{
	bool stopping;
	uint64_t deadline;

	pthread_mutex_lock(&k->lock);
	stopping = k->stopping && !k->head;
	deadline = k->deadline_ms;
	pthread_mutex_unlock(&k->lock);
	if (!stopping)
		return false;
	return now_ms() >= deadline || (connected && !spool_unread(k->spool)) ||
	       (!connected && k->on_disk);
}

static void wait_for_work(struct sink *k, int ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&k->lock);
	if (!k->head)
		pthread_cond_timedwait(&k->wake, &k->lock, &until);
	pthread_mutex_unlock(&k->lock);
}

/* When to try a failed receiver again: the backoff doubles up to BACKOFF_MAX_MS. */
static uint64_t retry_after(uint64_t *backoff)
{
	uint64_t at = now_ms() + *backoff;

	*backoff = *backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : *backoff * 2;
	return at;
}

/* A network output: batches into the spool, and from the spool to the receiver. */
static void *net_main(void *arg)
{
	struct sink *k = arg;
	uint64_t retry_at = 0, backoff = BACKOFF_MIN_MS;
	bool connected = false;
	size_t sent;
	int r;

	for (;;) {
		take_batches(k);
		if (should_stop(k, connected))
			break;
		if (!connected) {
			if (now_ms() < retry_at) {
				wait_for_work(k, WAIT_MS);
				continue;
			}
			r = k->t->ops->open(k->t);
			if (r) {
				set_state(k, false, k->t->why);
				retry_at = retry_after(&backoff);
				continue;
			}
			connected = true;
		}
		r = send_batch(k, &sent);
		if (r && atomic_load(&k->t->gone))
			break;
		if (r) {
			lost_connection(k);
			connected = false;
			set_state(k, false, k->t->why);
			retry_at = retry_after(&backoff);
			continue;
		}
		backoff = BACKOFF_MIN_MS;
		commit_sent(k, false);
		set_state(k, true, NULL);
		if (!sent)
			wait_for_work(k, WAIT_MS);
	}
	/* A receiver that saw the connection close in order has everything sent. */
	if (connected && k->t->ops->close(k->t, true) == 0)
		commit_sent(k, true);
	pthread_mutex_lock(&k->lock);
	k->spool_bytes = spool_bytes(k->spool);
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

/* Under lock: waits for a batch, a stop, or until at (ms, CLOCK_MONOTONIC's). */
static void wait_locked(struct sink *k, uint64_t at)
{
	uint64_t now = now_ms(), ms = at > now ? at - now : 0;
	struct timespec until;

	if (!ms)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&k->wake, &k->lock, &until);
}

/*
 * Under lock: the oldest batches, as many as one write takes (up to
 * BATCH_BYTES, or one larger batch), off the list. Returns the first; *last
 * ends the chain.
 */
static struct batch *take_written(struct sink *k, struct batch **last, size_t *bytes, size_t *lines)
{
	struct batch *first = k->head, *b = first;

	*bytes = b->lines.text.len;
	*lines = b->lines.n;
	while (b->next && *bytes + b->next->lines.text.len <= BATCH_BYTES) {
		b = b->next;
		*bytes += b->lines.text.len;
		*lines += b->lines.n;
	}
	k->head = b->next;
	if (!k->head)
		k->tail = NULL;
	b->next = NULL;
	*last = b;
	return first;
}

/* One write for the chain: a single batch as it is, several copied together. */
static int send_batches(struct sink *k, struct batch *first, struct batch *last, size_t bytes)
{
	struct batch *b;
	size_t o = 0;

	if (first == last)
		return k->t->ops->send(k->t, first->lines.text.buf, bytes);
	for (b = first; b; b = b->next) {
		memcpy(k->batch + o, b->lines.text.buf, b->lines.text.len);
		o += b->lines.text.len;
	}
	return k->t->ops->send(k->t, k->batch, o);
}

static void free_batches(struct batch *first)
{
	struct batch *b, *next;

	for (b = first; b; b = next) {
		next = b->next;
		free(b);
	}
}

/*
 * A local output: the oldest batches are written as they came, several in
 * one write when they are queued together, and leave the list once written. While the transport
 * fails, the batch goes back to the head of the list, and what comes after waits behind it, within
 * the list's bound (sinks_write drops what does not fit, or the oldest).
 */
static void *local_main(void *arg)
{
	struct sink *k = arg;
	uint64_t retry_at = 0, backoff = BACKOFF_MIN_MS;
	struct batch *first, *last;
	size_t bytes, lines;
	bool open = false;
	int r;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		uint64_t now = now_ms();

		if (k->stopping && (!k->head || now >= k->deadline_ms))
			break;
		if (!k->head) {
			wait_locked(k, now + WAIT_MS);
			continue;
		}
		if (now < retry_at) {
			wait_locked(k, k->stopping && k->deadline_ms < retry_at ? k->deadline_ms
										: retry_at);
			continue;
		}
		/* Off the list while written (still in queued_bytes): not dropped meanwhile. */
		first = take_written(k, &last, &bytes, &lines);
		pthread_mutex_unlock(&k->lock);

		r = open ? 0 : k->t->ops->open(k->t);
		open = !r;
		if (!r)
			r = send_batches(k, first, last, bytes);
		if (r && open) {
			k->t->ops->close(k->t, false);
			open = false;
		}

		pthread_mutex_lock(&k->lock);
		if (!r) {
			k->queued_bytes -= bytes;
			k->out += lines;
			free_batches(first);
			backoff = BACKOFF_MIN_MS;
			set_state_locked(k, true, NULL);
			continue;
		}
		last->next = k->head;
		k->head = first;
		if (!k->tail)
			k->tail = last;
		set_state_locked(k, false, k->t->why);
		if (atomic_load(&k->t->gone))
			break;
		retry_at = retry_after(&backoff);
	}
	pthread_mutex_unlock(&k->lock);
	if (open)
		k->t->ops->close(k->t, true);
	return NULL;
}

static struct transport *make_transport(const struct config_output *o, const char *host, char *err,
					size_t len)
{
	switch (o->type) {
	case CONFIG_OUTPUT_STDOUT:
		return transport_stdout();
	case CONFIG_OUTPUT_FILE:
		return transport_file(o, err, len);
	case CONFIG_OUTPUT_SYSLOG:
		return transport_syslog(o, host, err, len);
	case CONFIG_OUTPUT_HTTP:
		return transport_http(o, host, err, len);
	}
	snprintf(err, len, "unknown output type");
	return NULL;
}

/* The spool directory of an output: its name, with anything but [A-Za-z0-9._-] as '_'. */
static void spool_dir(char *buf, size_t size, const char *root, const char *name)
{
	size_t o = snprintf(buf, size, "%s/", root), i;

	for (i = 0; name[i] && o + 1 < size; i++)
		buf[o++] =
		    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-",
			   name[i])
			? name[i]
			: '_';
	buf[o] = '\0';
}

static int sink_init(struct sink *k, const struct config_output *o, const struct config *cfg,
		     const char *host, char *err, size_t len)
{
	char dir[4096];

	k->name = strdup(o->name);
	k->format = o->format;
	k->queue_max = o->queue_bytes;
	k->drop_oldest = o->drop_oldest;
	if (!k->name || pthread_mutex_init(&k->lock, NULL) || pthread_cond_init(&k->wake, NULL)) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	k->t = make_transport(o, host, err, len);
	if (!k->t)
		return -EINVAL;
	k->batch = malloc(BATCH_BYTES);
	if (!k->batch) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	if (k->t->spooled) {
		k->on_disk = cfg->spool.dir && cfg->spool.dir[0];
		if (k->on_disk)
			spool_dir(dir, sizeof(dir), cfg->spool.dir, o->name);
		k->spool = spool_open(k->on_disk ? dir : NULL,
				      k->on_disk ? cfg->spool.max_bytes : o->queue_bytes,
				      o->drop_oldest, err, len);
		if (!k->spool)
			return -EIO;
	}
	if (pthread_create(&k->thread, NULL, k->spool ? net_main : local_main, k)) {
		snprintf(err, len, "cannot start the thread of output %s", o->name);
		return -ENOMEM;
	}
	k->started = true;
	return 0;
}

static void sink_free(struct sink *k)
{
	struct batch *b, *next;

	for (b = k->head; b; b = next) {
		next = b->next;
		free(b);
	}
	spool_close(k->spool);
	if (k->t)
		k->t->ops->destroy(k->t);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->lock);
	free(k->batch);
	free(k->name);
}

struct sinks *sinks_new(const struct config *cfg, const char *host, char *err, size_t len)
{
	static const struct config_output stdout_only = {
	    .type = CONFIG_OUTPUT_STDOUT,
	    .name = "stdout",
	    .queue_bytes = CONFIG_OUTPUT_QUEUE_DEFAULT,
	};
	const struct config_output *outs = cfg->n_outputs ? cfg->outputs : &stdout_only;
	size_t n = cfg->n_outputs ? cfg->n_outputs : 1, i;
	struct sinks *s = calloc(1, sizeof(*s));

	if (s)
		s->v = calloc(n, sizeof(*s->v));
	if (!s || !s->v) {
		free(s);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char why[512] = "";

		s->n++;
		if (sink_init(&s->v[i], &outs[i], cfg, host, why, sizeof(why))) {
			snprintf(err, len, "output %s: %s", outs[i].name, why);
			sinks_stop(s, 0);
			return NULL;
		}
	}
	return s;
}

/* Drops after the last gap event cannot be reported in the stream any more: stderr says. */
static void log_unreported_gaps(struct sink *k)
{
	int r;

	for (r = 0; r < SINK_GAP_REASONS; r++)
		if (k->gaps[r].count)
			log_error("output %s: %llu events dropped (%s), seq %llu..%llu, after the "
				  "last gap event",
				  k->name, (unsigned long long)k->gaps[r].count, gap_names[r],
				  (unsigned long long)k->gaps[r].first_seq,
				  (unsigned long long)k->gaps[r].last_seq);
}

/* Batches still queued at stop (a local output that could not write): lost with the agent. */
static void log_undelivered(struct sink *k)
{
	uint64_t n = 0, first = 0, last = 0, bytes = 0;
	struct batch *b;

	for (b = k->head; b; b = b->next) {
		if (!n)
			first = b->lines.seqs[0];
		last = b->lines.seqs[b->lines.n - 1];
		n += b->lines.n;
		bytes += b->lines.text.len;
	}
	if (n)
		log_error(
		    "output %s: %llu events (%llu bytes) not delivered at stop, seq %llu..%llu",
		    k->name, (unsigned long long)n, (unsigned long long)bytes,
		    (unsigned long long)first, (unsigned long long)last);
}

void sinks_stop(struct sinks *s, int deadline_ms)
{
	uint64_t deadline = now_ms() + deadline_ms;
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];

		if (!k->started)
			continue;
		pthread_mutex_lock(&k->lock);
		k->stopping = true;
		k->deadline_ms = deadline;
		pthread_cond_signal(&k->wake);
		pthread_mutex_unlock(&k->lock);
	}
	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];

		if (k->started)
			pthread_join(k->thread, NULL);
		log_unreported_gaps(k);
		log_undelivered(k);
		if (k->spool && !k->on_disk && spool_unread(k->spool))
			log_error("output %s: %llu bytes of events not delivered at stop", k->name,
				  (unsigned long long)spool_unread(k->spool));
		else if (k->spool && spool_bytes(k->spool))
			log_warn("output %s: %llu bytes of events spooled for the next start",
				 k->name, (unsigned long long)spool_bytes(k->spool));
		sink_free(k);
	}
	free(s->v);
	free(s);
}

void sinks_take_gaps(struct sinks *s,
		     void (*fn)(void *ctx, const char *output, const char *reason, uint64_t count,
				uint64_t first_seq, uint64_t last_seq),
		     void *ctx)
{
	size_t i;
	int r;

	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];
		struct gap gaps[SINK_GAP_REASONS];

		pthread_mutex_lock(&k->lock);
		memcpy(gaps, k->gaps, sizeof(gaps));
		memset(k->gaps, 0, sizeof(k->gaps));
		pthread_mutex_unlock(&k->lock);
		for (r = 0; r < SINK_GAP_REASONS; r++)
			if (gaps[r].count)
				fn(ctx, k->name, gap_names[r], gaps[r].count, gaps[r].first_seq,
				   gaps[r].last_seq);
	}
}

json_t *sinks_stats(struct sinks *s)
{
	json_t *all = json_array();
	size_t i;
	int r;

	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];
		json_t *o = json_object(), *dropped = json_object();

		pthread_mutex_lock(&k->lock);
		json_object_set_new(o, "name", json_string(k->name));
		json_object_set_new(o, "in", json_integer(k->in));
		json_object_set_new(o, "out", json_integer(k->out));
		for (r = 0; r < SINK_GAP_REASONS; r++)
			json_object_set_new(dropped, gap_names[r], json_integer(k->dropped[r]));
		json_object_set_new(o, "dropped", dropped);
		json_object_set_new(o, "queued_bytes", json_integer(k->queued_bytes));
		json_object_set_new(o, "spool_bytes", json_integer(k->spool_bytes));
		json_object_set_new(o, "state", json_string(k->up ? "up" : "down"));
		if (k->last_error[0])
			json_object_set_new(o, "last_error", json_string(k->last_error));
		pthread_mutex_unlock(&k->lock);
		json_array_append_new(all, o);
	}
	return all;
}

unsigned int sinks_formats(const struct sinks *s)
{
	unsigned int formats = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		formats |= 1U << s->v[i].format;
	return formats;
}

json_t *sinks_names(struct sinks *s)
{
	json_t *names = json_array();
	size_t i;

	for (i = 0; i < s->n; i++)
		json_array_append_new(names, json_string(s->v[i].name));
	return names;
}

bool sinks_stdout_closed(struct sinks *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (atomic_load(&s->v[i].t->gone))
			return true;
	return false;
}
