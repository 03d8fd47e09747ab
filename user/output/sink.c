// SPDX-License-Identifier: GPL-2.0
/*
 * One thread per output: lines come in through a bounded list, go into the
 * output's spool (on disk for network receivers, else in memory) and are
 * sent from there. A failed send closes the connection, rewinds the spool to
 * the first line not known to be received and retries with backoff.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

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

/* Event lines handed over together, in order. */
struct batch {
	struct batch *next;
	size_t len, lines;
	uint64_t first_seq, last_seq;
	char data[];
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
	struct transport *t;
	struct spool *spool;
	bool on_disk; /* the spool outlives the agent */
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct batch *head, *tail; /* waiting for the thread */
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
	char *batch;
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

void sinks_write(struct sinks *s, const struct line_batch *batch)
{
	const char *lines = batch->buf;
	size_t len = batch->len, n_lines = batch->n, i;
	uint64_t first_seq, last_seq;

	if (!n_lines)
		return;
	first_seq = batch->seqs[0];
	last_seq = batch->seqs[n_lines - 1];
	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];
		struct batch *b = malloc(sizeof(*b) + len);
		bool was_empty;

		pthread_mutex_lock(&k->lock);
		k->in += n_lines;
		while (k->drop_oldest && k->head && k->queued_bytes + len > k->queue_max) {
			struct batch *old = k->head;

			k->head = old->next;
			if (!k->head)
				k->tail = NULL;
			k->queued_bytes -= old->len;
			count_gap(k, SINK_GAP_QUEUE_FULL, old->lines, old->first_seq,
				  old->last_seq);
			free(old);
		}
		if (!b || k->queued_bytes + len > k->queue_max) {
			count_gap(k, SINK_GAP_QUEUE_FULL, n_lines, first_seq, last_seq);
			pthread_mutex_unlock(&k->lock);
			free(b);
			continue;
		}
		*b = (struct batch){
		    .len = len, .lines = n_lines, .first_seq = first_seq, .last_seq = last_seq};
		memcpy(b->data, lines, len);
		was_empty = !k->head;
		if (k->tail)
			k->tail->next = b;
		else
			k->head = b;
		k->tail = b;
		k->queued_bytes += len;
		/* A thread with work queued is awake already, or wakes within WAIT_MS. */
		if (was_empty)
			pthread_cond_signal(&k->wake);
		pthread_mutex_unlock(&k->lock);
	}
}

/* One line into the spool; what a bound or the disk refuses is counted. */
static void spool_line(struct sink *k, const char *line, size_t len)
{
	struct spool_loss lost = {0};
	int r = spool_append(k->spool, line, len, &lost);
	enum sink_gap_reason reason = r == -ENOBUFS ? SINK_GAP_SPOOL_FULL
				      : r == -E2BIG ? SINK_GAP_TOO_LARGE
						    : SINK_GAP_SPOOL_WRITE;
	uint64_t seq;

	if (!r && !lost.count)
		return;
	seq = r ? spool_line_seq(line, len) : 0;
	pthread_mutex_lock(&k->lock);
	if (lost.count)
		count_gap(k, SINK_GAP_SPOOL_FULL, lost.count, lost.first_seq, lost.last_seq);
	if (r)
		count_gap(k, reason, 1, seq, seq);
	pthread_mutex_unlock(&k->lock);
}

/* Moves what came in into the spool, line by line. */
static void take_lines(struct sink *k)
{
	struct batch *b, *next;

	pthread_mutex_lock(&k->lock);
	b = k->head;
	k->head = k->tail = NULL;
	k->queued_bytes = 0;
	pthread_mutex_unlock(&k->lock);
	for (; b; b = next) {
		size_t off = 0;

		next = b->next;
		while (off < b->len) {
			const char *nl = memchr(b->data + off, '\n', b->len - off);
			size_t n = nl ? (size_t)(nl - (b->data + off)) + 1 : b->len - off;

			spool_line(k, b->data + off, n);
			off += n;
		}
		free(b);
	}
}

static void set_state(struct sink *k, bool up, const char *why)
{
	pthread_mutex_lock(&k->lock);
	if (k->up != up) {
		if (up)
			log_info("output %s: delivering", k->name);
		else
			log_warn("output %s: %s; keeping events until it is back", k->name, why);
	}
	k->up = up;
	if (why)
		snprintf(k->last_error, sizeof(k->last_error), "%s", why);
	k->spool_bytes = spool_bytes(k->spool);
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
	uint64_t skipped = k->t->skipped;
	struct spool_pos end;
	int r;

	*sent = n;
	if (!n)
		return 0;
	r = k->t->ops->send(k->t, k->batch, n);
	if (r)
		return r;
	end = spool_advance(k->spool, n);
	if (k->t->acked)
		spool_commit(k->spool, end);
	else
		remember_sent(k, end);
	pthread_mutex_lock(&k->lock);
	k->out += lines - (k->t->skipped - skipped);
	if (k->t->skipped != skipped)
		count_gap(k, SINK_GAP_TOO_LARGE, k->t->skipped - skipped, 0, 0);
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

static void *sink_main(void *arg)
{
	struct sink *k = arg;
	uint64_t retry_at = 0, backoff = BACKOFF_MIN_MS;
	bool connected = false;
	size_t sent;
	int r;

	for (;;) {
		take_lines(k);
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
	k->queue_max = o->queue_bytes;
	k->drop_oldest = o->drop_oldest;
	k->batch = malloc(BATCH_BYTES);
	if (!k->name || !k->batch || pthread_mutex_init(&k->lock, NULL) ||
	    pthread_cond_init(&k->wake, NULL)) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	k->t = make_transport(o, host, err, len);
	if (!k->t)
		return -EINVAL;
	k->on_disk = k->t->spooled && cfg->spool.dir && cfg->spool.dir[0];
	if (k->on_disk)
		spool_dir(dir, sizeof(dir), cfg->spool.dir, o->name);
	k->spool =
	    spool_open(k->on_disk ? dir : NULL, k->on_disk ? cfg->spool.max_bytes : o->queue_bytes,
		       o->drop_oldest, err, len);
	if (!k->spool)
		return -EIO;
	if (pthread_create(&k->thread, NULL, sink_main, k)) {
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

	curl_global_init(CURL_GLOBAL_DEFAULT);
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
	json_t *all = json_object();
	size_t i;
	int r;

	for (i = 0; i < s->n; i++) {
		struct sink *k = &s->v[i];
		json_t *o = json_object(), *dropped = json_object();

		pthread_mutex_lock(&k->lock);
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
		json_object_set_new(all, k->name, o);
	}
	return all;
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
