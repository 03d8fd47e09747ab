// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include <custos/agent.h>
#include <custos/chain.h>
#include <custos/dbprobe.h>
#include <custos/events.h>
#include <custos/loader.h>
#include <custos/log.h>
#include <custos/notify.h>
#include <custos/queue.h>
#include <custos/sink.h>
#include <custos/trust.h>
#include <custos/version.h>
#include <custos/watch.h>

#define TICK_MS		  100 /* timers (flush, stats, rescan) run on this tick */
#define READER_POLL_MS	  50  /* the ring is drained at least this often */
#define DRAIN_CHUNKS	  16  /* queue chunks turned into events between looks at signals */
#define TICKS_PER_SEC	  (1000 / TICK_MS)
#define RESCAN_SECONDS	  10   /* globs and missing paths are resolved again this often */
#define SINKS_DEADLINE_MS 5000 /* to deliver what is queued at stop or reload */

struct agent {
	struct agent_options *opts;
	struct config *cfg;
	struct watch_set watches;
	struct loader *loader;
	struct ring_buffer *ring;
	struct events *events;
	struct output *out;
	struct sinks *sinks; /* custos run's outputs; NULL: the stream of out */
	struct chain *chain; /* seals the JSON lines; NULL: no chain */
	char host[256];
	struct watch_maps maps;
	struct notify *notify;	 /* directories of the configured paths */
	struct dbprobe *dbprobe; /* database client libraries; NULL when none is to be probed */
	bool rescan_pending;	 /* they changed: resolve again at the next tick */
	struct queue queue;
	/* Records the queue had no room for, by type (written by the reader thread). */
	atomic_uint_fast64_t queue_drops[CUSTOS_REC_TYPE_MAX];
	uint64_t queue_drops_reported; /* in gap events */
	pthread_t reader;
	bool reader_running;
	atomic_bool reader_stop;
	bool reader_pushed; /* reader thread only */
	int wake_fd;	    /* the reader tells the main thread there are records */
	uint64_t drops_reported;
	uint64_t *ring_by_cpu, *ring_by_cpu_reported; /* ring-buffer losses, for gap events */
	uint32_t generation;			      /* of the config: bumped by each reload */
	int output_error;
	bool kernel_unsupported; /* the loader says this kernel cannot run the agent */
	bool stop;
};

static void on_event(json_t *ev, void *ctx)
{
	struct agent *a = ctx;
	int err = output_event(a->out, ev);

	if (err && !a->output_error) {
		a->output_error = err;
		a->stop = true;
		if (err != -EPIPE)
			log_error("cannot write events: %s", strerror(-err));
	}
}

/* Reader thread: copy each record out of the ring, nothing more. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct agent *a = ctx;

	if (queue_push(&a->queue, data, size) == 0) {
		a->reader_pushed = true;
	} else if (size >= sizeof(struct custos_rec_hdr)) {
		uint16_t type = ((const struct custos_rec_hdr *)data)->type;

		atomic_fetch_add_explicit(&a->queue_drops[type < CUSTOS_REC_TYPE_MAX ? type : 0], 1,
					  memory_order_relaxed);
	}
	return 0;
}

static void *reader_main(void *arg)
{
	struct agent *a = arg;
	uint64_t one = 1;
	bool last = false;

	while (!last) {
		last = atomic_load(&a->reader_stop);
		a->reader_pushed = false;
		/* Records come without wakeups (see bpf/record.bpf.h): poll, then take what is
		 * there. */
		if (!last)
			ring_buffer__poll(a->ring, READER_POLL_MS);
		ring_buffer__consume(a->ring);
		if (a->reader_pushed && write(a->wake_fd, &one, sizeof(one)) < 0)
			log_debug("cannot wake the main thread: %s", strerror(errno));
	}
	return NULL;
}

static void handle_record(void *ctx, const void *data, size_t size)
{
	struct agent *a = ctx;

	events_record(a->events, data, size);
}

static bool queue_busy(struct agent *a)
{
	struct queue_stats qs;

	queue_stats(&a->queue, &qs);
	return qs.bytes != 0;
}

static struct config *load_config(const struct agent_options *opts)
{
	struct config_error err;
	char msg[1024];
	struct config *cfg;

	if (!opts->config_path)
		return config_load_default();
	if (file_trusted(opts->config_path, "config file", 0, msg, sizeof(msg))) {
		log_error("%s", msg);
		return NULL;
	}
	cfg = config_load_file(opts->config_path, &err);
	if (!cfg) {
		config_error_format(&err, msg, sizeof(msg));
		log_error("%s", msg);
	}
	return cfg;
}

static void log_warnings(const struct watch_set *set)
{
	size_t i;

	for (i = 0; i < set->n_warnings; i++)
		log_warn("%s", set->warnings[i]);
}

static uint64_t ring_drops(const struct custos_drops *d)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < CUSTOS_REC_TYPE_MAX; i++)
		sum += d->ringbuf_full[i];
	return sum;
}

/* The agent's own cost: CPU time, memory, and how full the kernel's ring buffer is. */
static void add_process_figures(struct agent *a, json_t *stats)
{
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &ru);
	json_object_set_new(stats, "cpu_seconds",
			    json_pack("{s:f, s:f}", "user",
				      ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, "system",
				      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6));
	json_object_set_new(stats, "rss_bytes", json_integer(rss * sysconf(_SC_PAGESIZE)));
	json_object_set_new(stats, "ringbuf",
			    json_pack("{s:I, s:I}", "size_bytes",
				      (json_int_t)a->cfg->ring_buffer_mb << 20, "used_bytes",
				      (json_int_t)loader_ring_used(a->loader)));
}

static json_t *stats_json(struct agent *a)
{
	const struct events_stats *st = events_stats(a->events);
	json_t *stats = json_object(), *records = json_object(), *lost = json_object();
	json_t *queue_lost = json_object();
	struct custos_drops drops = {0};
	struct queue_stats qs;
	int i;

	loader_read_drops(a->loader, &drops, NULL);
	for (i = 0; i < CUSTOS_REC_TYPE_MAX; i++) {
		const char *name = custos_record_type_name(i);

		if (i)
			json_object_set_new(records, name, json_integer(st->records[i]));
		json_object_set_new(lost, name, json_integer(drops.ringbuf_full[i]));
		json_object_set_new(
		    queue_lost, name,
		    json_integer(atomic_load_explicit(&a->queue_drops[i], memory_order_relaxed)));
	}
	json_object_set_new(stats, "records", records);
	json_object_set_new(stats, "ringbuf_drops", json_integer(ring_drops(&drops)));
	json_object_set_new(stats, "ringbuf_drops_by_type", lost);
	json_object_set_new(stats, "path_unreadable", json_integer(drops.path_unreadable));
	json_object_set_new(stats, "args_unreadable", json_integer(drops.args_unreadable));
	json_object_set_new(stats, "malformed_records", json_integer(st->malformed));
	json_object_set_new(stats, "events", json_integer(st->emitted));
	json_object_set_new(stats, "denied_unwatched", json_integer(st->denied_unwatched));
	json_object_set_new(stats, "changes_unwatched", json_integer(st->changes_unwatched));
	json_object_set_new(stats, "db_untagged", json_integer(st->db_untagged));
	json_object_set_new(stats, "evicted", json_integer(st->evicted));
	json_object_set_new(stats, "open_files", json_integer(events_open_count(a->events)));
	json_object_set_new(stats, "open_files_tracked",
			    json_integer(loader_open_files_tracked(a->loader)));
	queue_stats(&a->queue, &qs);
	json_object_set_new(stats, "queue_drops", json_integer(qs.dropped));
	json_object_set_new(stats, "queue_drops_by_type", queue_lost);
	json_object_set_new(stats, "queue_peak_bytes", json_integer(qs.peak_bytes));
	json_object_set_new(stats, "watched_inodes", json_integer(a->watches.n_items));
	add_process_figures(a, stats);
	if (a->sinks)
		json_object_set_new(stats, "outputs", sinks_stats(a->sinks));
	return stats;
}

static void emit_stats(struct agent *a, const char *action, const char *type)
{
	json_t *ev = events_agent_event(a->events, action, type, "success");

	json_object_set_new(encode_obj(ev, "custos"), "stats", stats_json(a));
	events_emit(a->events, ev);
}

static json_t *gap_event(struct agent *a, const char *reason, uint64_t count)
{
	json_t *ev = events_agent_event(a->events, "gap", "info", "failure");
	json_t *gap = encode_obj(ev, "custos.gap");

	json_object_set_new(encode_obj(ev, "event"), "kind", json_string("alert"));
	json_object_set_new(gap, "reason", json_string(reason));
	json_object_set_new(gap, "count", json_integer(count));
	return ev;
}

static void emit_output_gap(void *ctx, const char *output, const char *reason, uint64_t count,
			    uint64_t first_seq, uint64_t last_seq)
{
	struct agent *a = ctx;
	json_t *ev = gap_event(a, reason, count), *gap = encode_obj(ev, "custos.gap");

	json_object_set_new(gap, "output", json_string(output));
	if (first_seq)
		json_object_set_new(gap, "first_seq", json_integer(first_seq));
	if (last_seq)
		json_object_set_new(gap, "last_seq", json_integer(last_seq));
	log_warn("output %s: %llu events dropped (%s)", output, (unsigned long long)count, reason);
	events_emit(a->events, ev);
}

/* Records the kernel could not put in the ring buffer since the last gap event, by CPU. */
static void emit_ring_gap(struct agent *a)
{
	int cpu, n = loader_nr_cpus(a->loader);
	uint64_t total = 0;
	json_t *per_cpu = json_array(), *ev;

	for (cpu = 0; cpu < n; cpu++) {
		uint64_t d = a->ring_by_cpu[cpu] - a->ring_by_cpu_reported[cpu];

		total += d;
		json_array_append_new(per_cpu, json_integer(d));
		a->ring_by_cpu_reported[cpu] = a->ring_by_cpu[cpu];
	}
	if (!total) {
		json_decref(per_cpu);
		return;
	}
	ev = gap_event(a, "ringbuf_full", total);
	json_object_set_new(encode_obj(ev, "custos.gap"), "source", json_string("kernel"));
	json_object_set_new(encode_obj(ev, "custos.gap"), "per_cpu", per_cpu);
	events_emit(a->events, ev);
}

/* Records the agent's queue had no room for since the last gap event, by record type. */
static void emit_queue_gap(struct agent *a, uint64_t dropped)
{
	json_t *by_type, *ev;
	int i;

	if (dropped <= a->queue_drops_reported)
		return;
	ev = gap_event(a, "record_queue_full", dropped - a->queue_drops_reported);
	a->queue_drops_reported = dropped;
	json_object_set_new(encode_obj(ev, "custos.gap"), "source", json_string("agent"));
	by_type = json_object();
	for (i = 0; i < CUSTOS_REC_TYPE_MAX; i++) {
		uint64_t n = atomic_load_explicit(&a->queue_drops[i], memory_order_relaxed);

		if (n)
			json_object_set_new(by_type, custos_record_type_name(i), json_integer(n));
	}
	json_object_set_new(encode_obj(ev, "custos.gap"), "since_start_by_type", by_type);
	events_emit(a->events, ev);
}

/* Events the output could not write (serialize) since the last gap event. */
static void emit_unwritable_gap(struct agent *a)
{
	uint64_t count, first_seq, last_seq;
	json_t *ev, *gap;

	if (!output_take_unwritable(a->out, &count, &first_seq, &last_seq))
		return;
	ev = gap_event(a, "unwritable", count);
	gap = encode_obj(ev, "custos.gap");
	json_object_set_new(gap, "source", json_string("agent"));
	if (first_seq)
		json_object_set_new(gap, "first_seq", json_integer(first_seq));
	if (last_seq)
		json_object_set_new(gap, "last_seq", json_integer(last_seq));
	log_warn("%llu events could not be written", (unsigned long long)count);
	events_emit(a->events, ev);
}

/*
 * Reports records and events that could not be kept (ring buffer, queue,
 * output), as soon as they happen: a gap event for each cause.
 */
static void check_drops(struct agent *a)
{
	struct custos_drops drops;
	struct queue_stats qs;
	uint64_t ring, queued;

	emit_unwritable_gap(a);
	if (loader_read_drops(a->loader, &drops, a->ring_by_cpu))
		return;
	emit_ring_gap(a);
	ring = ring_drops(&drops);
	queue_stats(&a->queue, &qs);
	queued = qs.dropped;
	emit_queue_gap(a, queued);
	if (ring + queued <= a->drops_reported)
		return;
	log_warn("records lost since start: %llu with the ring buffer full (raise ring_buffer_mb), "
		 "%llu with the queue full (raise queue_mb)",
		 (unsigned long long)ring, (unsigned long long)queued);
	a->drops_reported = ring + queued;
	emit_stats(a, "agent-heartbeat", "info");
}

/* The hooks in place, those that are not (and why), and the fallbacks this kernel needs. */
static void add_hooks(struct agent *a, json_t *agent)
{
	const struct loader_report *r = loader_report(a->loader);
	json_t *hooks = json_array(), *off = json_array(), *fallbacks = json_array();
	size_t i;

	for (i = 0; i < r->n_hooks; i++) {
		const struct loader_hook *h = &r->hooks[i];

		if (h->attached) {
			json_array_append_new(hooks, json_string(h->def->attach));
			continue;
		}
		if (h->unused)
			continue;
		json_array_append_new(
		    off, json_pack("{s:s, s:s, s:s}", "hook", h->def->attach, "capability",
				   hook_cap(h->def->cap)->name, "reason",
				   h->why_not[0] ? h->why_not : "nothing to place it on yet"));
	}
	for (i = 0; i < KERNEL_NEED_COUNT; i++)
		if (!r->needs[i].available)
			json_array_append_new(fallbacks, json_pack("{s:s, s:s}", "helper",
								   kernel_need(i)->name, "instead",
								   kernel_need(i)->fallback));
	json_object_set_new(agent, "bpf_object", json_string(r->object));
	json_object_set_new(agent, "hooks", hooks);
	json_object_set_new(agent, "hooks_unavailable", off);
	json_object_set_new(agent, "fallbacks", fallbacks);
}

static void emit_start(struct agent *a)
{
	json_t *ev = events_agent_event(a->events, "agent-start", "start", "success");
	json_t *agent = encode_obj(ev, "custos.agent");
	json_t *warnings = json_array();
	size_t i;

	for (i = 0; i < a->watches.n_warnings; i++)
		json_array_append_new(warnings, json_string(a->watches.warnings[i]));
	json_object_set_new(agent, "mode", json_string(a->opts->mode));
	json_object_set_new(agent, "version", json_string(version_string()));
	if (a->cfg->digest[0])
		json_object_set_new(agent, "config_digest", json_string(a->cfg->digest));
	if (a->sinks)
		json_object_set_new(agent, "outputs", sinks_names(a->sinks));
	json_object_set_new(agent, "pid", json_integer(getpid()));
	json_object_set_new(agent, "config", json_string(a->cfg->source));
	json_object_set_new(agent, "rules", json_integer(a->cfg->n_rules));
	json_object_set_new(agent, "watched_inodes", json_integer(a->watches.n_items));
	add_hooks(a, agent);
	json_object_set_new(agent, "warnings", warnings);
	if (a->dbprobe)
		json_object_set_new(agent, "db_probes", dbprobe_report(a->dbprobe));
	events_emit(a->events, ev);
}

static void log_db_warnings(struct agent *a)
{
	char *w;

	while ((w = dbprobe_next_warning(a->dbprobe))) {
		log_warn("%s", w);
		free(w);
	}
}

static void on_exec(uint32_t tgid, const char *exe, void *ctx)
{
	struct agent *a = ctx;

	dbprobe_exec(a->dbprobe, tgid, exe);
}

/* Probes the database clients the config asks for, in the files there are now. */
static void start_db_probes(struct agent *a)
{
	const struct config_databases *db = &a->cfg->databases;
	struct dbprobe_options o = {
	    .enabled = {[DBPROBE_POSTGRESQL] = db->postgresql,
			[DBPROBE_MYSQL] = db->mysql,
			[DBPROBE_SQLITE] = db->sqlite},
	    .sqlite_rows = db->sqlite_rows,
	};

	if (!db->postgresql && !db->mysql && !db->sqlite)
		return;
	a->dbprobe = dbprobe_new(a->loader, &o);
	if (!a->dbprobe) {
		log_error("cannot set up the database probes: out of memory");
		return;
	}
	dbprobe_scan(a->dbprobe);
	log_db_warnings(a);
	events_set_exec_hook(a->events, on_exec, a);
}

static void watches_changed(struct agent *a)
{
	uint32_t files = 0;
	size_t i;

	for (i = 0; i < a->watches.n_items; i++)
		files += a->watches.items[i].kind == CUSTOS_WATCH_FILE;
	loader_watches_changed(a->loader, files, a->watches.n_comms, a->watches.n_uids,
			       a->watches.n_exes);
}

/* Applies a newly resolved set; on failure the maps keep the old one. */
static int install_watches(struct agent *a, struct watch_set *next)
{
	int ret;

	if (next->n_items > loader_map_max_entries(a->loader, LOADER_MAP_WATCH_INODES)) {
		log_error("%zu watched inodes exceed the table of %u: restart the agent to grow it",
			  next->n_items,
			  loader_map_max_entries(a->loader, LOADER_MAP_WATCH_INODES));
		return -E2BIG;
	}
	ret = watch_apply(&a->maps, next, &a->watches);
	if (ret) {
		log_error("cannot update the watch maps: %s", strerror(-ret));
		watch_apply(&a->maps, &a->watches, next);
		return ret;
	}
	watch_set_free(&a->watches);
	a->watches = *next;
	watches_changed(a);
	events_set_config(a->events, a->cfg, &a->watches);
	return 0;
}

static bool same_watches(const struct watch_set *x, const struct watch_set *y)
{
	size_t i;

	if (x->n_items != y->n_items || x->n_exes != y->n_exes)
		return false;
	for (i = 0; i < x->n_items; i++)
		if (x->items[i].dev != y->items[i].dev || x->items[i].ino != y->items[i].ino ||
		    x->items[i].rule != y->items[i].rule || x->items[i].kind != y->items[i].kind)
			return false;
	for (i = 0; i < x->n_exes; i++)
		if (x->exes[i].dev != y->exes[i].dev || x->exes[i].ino != y->exes[i].ino ||
		    x->exes[i].mask != y->exes[i].mask)
			return false;
	return true;
}

/* Globs may match new files, missing paths may appear, replaced files get new inodes. */
static void rescan(struct agent *a)
{
	struct watch_set next;

	if (watch_resolve(a->cfg, &next))
		return;
	next.generation = a->generation;
	if (same_watches(&next, &a->watches) || install_watches(a, &next))
		watch_set_free(&next);
	else
		log_info("rescan: now watching %zu inodes", a->watches.n_items);
}

/* The chain key of cfg, when it has one and events are JSON lines. */
static int open_chain(struct agent *a, const struct config *cfg, struct chain **chain)
{
	char err[1024];
	int r;

	*chain = NULL;
	if (!cfg->chain.key_file || a->opts->format != OUTPUT_JSON)
		return 0;
	*chain = chain_open(cfg->chain.key_file, err, sizeof(err));
	if (*chain)
		return 0;
	r = -errno;
	log_error("%s", err);
	return r;
}

/*
 * The chain key of a reloaded config: a new key seals the records from the
 * next one on, and the chain goes on. Turning the chain on or off takes a
 * restart: a run is chained from its agent-start to its agent-stop.
 */
static int reload_chain(struct agent *a, const struct config *cfg)
{
	struct chain *next;
	int r;

	if (!a->chain) {
		if (cfg->chain.key_file && a->opts->format == OUTPUT_JSON)
			log_warn("SIGHUP: \"chain\" takes effect at restart");
		return 0;
	}
	if (!cfg->chain.key_file) {
		log_warn("SIGHUP: removing \"chain\" takes effect at restart; the key is kept");
		return 0;
	}
	r = open_chain(a, cfg, &next);
	if (r)
		return r;
	chain_continue(next, a->chain);
	chain_free(a->chain);
	a->chain = next;
	output_set_chain(a->out, next);
	return 0;
}

static void reload_failed(struct agent *a, const char *why)
{
	log_error("SIGHUP: %s; keeping the running configuration", why);
	events_emit(a->events, events_agent_event(a->events, "agent-reload", "change", "failure"));
}

/*
 * The outputs of a reloaded config. The old ones deliver or spool what they
 * hold first: one file or receiver never has two writers. If the new ones
 * cannot start, the old ones start again.
 */
static int replace_sinks(struct agent *a, const struct config *cfg)
{
	char err[768];
	struct sinks *next;

	sinks_take_gaps(a->sinks, emit_output_gap, a);
	output_flush(a->out);
	sinks_stop(a->sinks, SINKS_DEADLINE_MS);
	next = sinks_new(cfg, a->host, err, sizeof(err));
	if (!next) {
		log_error("SIGHUP: %s", err);
		a->sinks = sinks_new(a->cfg, a->host, err, sizeof(err));
		if (!a->sinks) {
			log_error("the outputs cannot start again: %s", err);
			a->stop = true;
		}
		output_set_sinks(a->out, a->sinks);
		return -EINVAL;
	}
	a->sinks = next;
	output_set_sinks(a->out, next);
	return 0;
}

/* SIGHUP: a new config (from its file, if there is one) and its watches, or nothing at all. */
static void reload(struct agent *a)
{
	struct config *cfg = a->opts->config_path ? load_config(a->opts) : NULL;
	struct config *old = a->cfg;
	struct watch_set next;
	json_t *ev;

	if (a->opts->config_path && !cfg) {
		reload_failed(a, "the new configuration is refused");
		return;
	}
	if (cfg && cfg->ring_buffer_mb != old->ring_buffer_mb)
		log_warn("SIGHUP: ring_buffer_mb takes effect at restart");
	if (cfg && (cfg->databases.postgresql != old->databases.postgresql ||
		    cfg->databases.mysql != old->databases.mysql ||
		    cfg->databases.sqlite != old->databases.sqlite ||
		    cfg->databases.sqlite_rows != old->databases.sqlite_rows))
		log_warn("SIGHUP: the database clients probed change at restart");
	if (cfg && reload_chain(a, cfg)) {
		config_free(cfg);
		reload_failed(a, "the chain key is refused");
		return;
	}
	if (cfg && a->sinks && replace_sinks(a, cfg)) {
		config_free(cfg);
		reload_failed(a, "the new outputs cannot start");
		return;
	}
	if (watch_resolve(cfg ?: old, &next)) {
		config_free(cfg);
		reload_failed(a, "out of memory");
		return;
	}
	log_warnings(&next);
	next.generation = a->generation + 1;
	if (cfg)
		a->cfg = cfg;
	if (install_watches(a, &next)) {
		a->cfg = old;
		config_free(cfg);
		watch_set_free(&next);
		events_set_config(a->events, a->cfg, &a->watches);
		reload_failed(a, "the new watches do not fit");
		return;
	}
	a->generation++;
	if (cfg)
		config_free(old);
	notify_set(a->notify, a->cfg);
	events_forget_names(a->events);
	ev = events_agent_event(a->events, "agent-reload", "change", "success");
	json_object_set_new(encode_obj(ev, "custos.agent"), "watched_inodes",
			    json_integer(a->watches.n_items));
	events_emit(a->events, ev);
	log_info("configuration reloaded from %s", a->cfg->source);
}

static int setup_fds(struct agent *a, int *epfd, int *sigfd, int *timerfd)
{
	struct itimerspec tick = {.it_interval = {0, TICK_MS * 1000000L},
				  .it_value = {0, TICK_MS * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	*sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	*timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	*epfd = epoll_create1(EPOLL_CLOEXEC);
	if (*sigfd < 0 || *timerfd < 0 || *epfd < 0 || timerfd_settime(*timerfd, 0, &tick, NULL))
		return -errno;
	ev.data.fd = *sigfd;
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, *sigfd, &ev))
		return -errno;
	ev.data.fd = *timerfd;
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, *timerfd, &ev))
		return -errno;
	ev.data.fd = a->wake_fd;
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, a->wake_fd, &ev))
		return -errno;
	ev.data.fd = notify_fd(a->notify);
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	return 0;
}

static void handle_signal(struct agent *a, int sigfd)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(a);
		else
			a->stop = true;
		break;
	}
}

static void flush_opener(const struct custos_open_file *of, void *events)
{
	events_flush_opener(events, of);
}

static void flush_reader(const struct custos_reader_key *key, const struct custos_reader *r,
			 void *events)
{
	events_flush_reader(events, key, r);
}

/* Interim summaries of the watched files open now (events_flush_begin). */
static void flush_open_files(struct agent *a, bool judge_lost)
{
	events_flush_begin(a->events);
	if (loader_each_open_file(a->loader, flush_opener, a->events) ||
	    loader_each_file_reader(a->loader, flush_reader, a->events))
		judge_lost = false; /* a table not walked whole is no proof of a loss */
	events_flush_end(a->events, judge_lost);
}

static void on_tick(struct agent *a, uint64_t tick)
{
	uint64_t sec = tick / TICKS_PER_SEC;

	/* At most one rescan a tick, however busy the directories are. */
	if (a->rescan_pending) {
		a->rescan_pending = false;
		rescan(a);
	}
	if (a->dbprobe) {
		dbprobe_tick(a->dbprobe);
		log_db_warnings(a);
	}
	if (tick % TICKS_PER_SEC)
		return;
	events_tick(a->events);
	check_drops(a);
	if (a->sinks) {
		sinks_take_gaps(a->sinks, emit_output_gap, a);
		if (sinks_stdout_closed(a->sinks)) {
			a->output_error = -EPIPE;
			a->stop = true;
		}
	}
	if (sec % a->cfg->flush_interval_s == 0)
		flush_open_files(a, !queue_busy(a));
	if (a->cfg->heartbeat_interval_s && sec % a->cfg->heartbeat_interval_s == 0)
		emit_stats(a, "agent-heartbeat", "info");
	if (sec % RESCAN_SECONDS == 0) {
		rescan(a);
		if (a->dbprobe)
			dbprobe_scan(a->dbprobe);
	}
}

static void drain(struct agent *a, int max_chunks)
{
	while (max_chunks-- != 0 && queue_drain(&a->queue, handle_record, a))
		;
}

static int loop(struct agent *a)
{
	int epfd = -1, sigfd = -1, timerfd = -1, ret;
	struct epoll_event evs[4];
	uint64_t ticks = 0, count;

	ret = setup_fds(a, &epfd, &sigfd, &timerfd);
	if (ret) {
		log_error("cannot set up the event loop: %s", strerror(-ret));
		goto out_close;
	}
	emit_start(a);
	output_flush(a->out);
	while (!a->stop) {
		/* A backlog keeps the loop turning; signals and timers are looked at in between. */
		int i, n = epoll_wait(epfd, evs, 4, queue_busy(a) ? 0 : -1);

		if (n < 0 && errno != EINTR) {
			ret = -errno;
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == sigfd) {
				handle_signal(a, sigfd);
			} else if (evs[i].data.fd == a->wake_fd) {
				if (read(a->wake_fd, &count, sizeof(count)) < 0)
					continue;
			} else if (evs[i].data.fd == notify_fd(a->notify)) {
				/* A name changed where configured paths live: resolve them soon. */
				a->rescan_pending |= notify_drain(a->notify);
			} else if (evs[i].data.fd == timerfd &&
				   read(timerfd, &count, sizeof(count)) == sizeof(count)) {
				while (count--)
					on_tick(a, ++ticks);
			}
		}
		drain(a, DRAIN_CHUNKS);
		output_flush(a->out);
	}
	/* Take everything left in the ring and the queue, then report files still open. */
	atomic_store(&a->reader_stop, true);
	pthread_join(a->reader, NULL);
	a->reader_running = false;
	drain(a, -1);
	flush_open_files(a, true);
	check_drops(a);
	if (a->sinks)
		sinks_take_gaps(a->sinks, emit_output_gap, a);
	emit_stats(a, "agent-stop", "end");
	output_flush(a->out);
out_close:
	if (epfd >= 0)
		close(epfd);
	if (sigfd >= 0)
		close(sigfd);
	if (timerfd >= 0)
		close(timerfd);
	return ret;
}

static int start(struct agent *a)
{
	struct loader_options lopts = {
	    .agent_tgid = getpid(),
	    .ring_buffer_mb = a->cfg->ring_buffer_mb,
	    .verbose = a->opts->verbose,
	};
	char err[512], host[256] = "localhost";
	sigset_t mask;
	int ret;

	/* Before any thread starts: signals are for the main loop's signalfd only. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	gethostname(host, sizeof(host) - 1);
	ret = open_chain(a, a->cfg, &a->chain);
	if (ret)
		return ret;
	a->notify = notify_new();
	if (!a->notify) {
		log_error("cannot set up inotify: %s", strerror(errno));
		return -errno;
	}
	notify_set(a->notify, a->cfg);
	a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->wake_fd < 0 || queue_init(&a->queue, (size_t)a->cfg->queue_mb << 20)) {
		log_error("cannot set up the record queue: %s", strerror(errno));
		return -ENOMEM;
	}
	if (watch_resolve(a->cfg, &a->watches)) {
		log_error("out of memory resolving the watches");
		return -ENOMEM;
	}
	log_warnings(&a->watches);
	a->watches.generation = a->generation = 1;
	lopts.watch_inodes_max = watch_map_size(&a->watches);
	a->loader = loader_start(&lopts, err, sizeof(err));
	if (!a->loader) {
		ret = -errno;
		log_error("%s", err);
		if ((ret == -EPERM || ret == -EACCES) && geteuid() != 0)
			log_error("custos %s needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)",
				  a->opts->mode);
		a->kernel_unsupported = ret == -EOPNOTSUPP;
		return ret;
	}
	a->maps = (struct watch_maps){
	    .inodes = loader_map_fd(a->loader, LOADER_MAP_WATCH_INODES),
	    .devs = loader_map_fd(a->loader, LOADER_MAP_WATCH_DEVS),
	    .comms = loader_map_fd(a->loader, LOADER_MAP_EXCLUDE_COMMS),
	    .uids = loader_map_fd(a->loader, LOADER_MAP_EXCLUDE_UIDS),
	    .exes = loader_map_fd(a->loader, LOADER_MAP_EXCLUDE_EXES),
	    .file_dirs = loader_map_fd(a->loader, LOADER_MAP_FILE_WATCH_DIRS),
	};
	if (watch_apply(&a->maps, &a->watches, NULL)) {
		log_error("cannot write the watch maps: %s", strerror(errno));
		return -EIO;
	}
	watches_changed(a);
	ret = loader_seed_open_files(a->loader);
	if (ret)
		log_warn("cannot look for watched files open before the agent started: %s",
			 strerror(-ret));
	a->events = events_new(host, on_event, a);
	a->out = output_new(stdout, a->opts->format, &a->opts->filter);
	snprintf(a->host, sizeof(a->host), "%s", host);
	a->ring_by_cpu = calloc(loader_nr_cpus(a->loader), sizeof(uint64_t));
	a->ring_by_cpu_reported = calloc(loader_nr_cpus(a->loader), sizeof(uint64_t));
	if (!a->ring_by_cpu || !a->ring_by_cpu_reported)
		return -ENOMEM;
	/* custos run writes to its outputs; trace to the terminal. */
	if (a->out && a->opts->format == OUTPUT_JSON && !strcmp(a->opts->mode, "run")) {
		a->sinks = sinks_new(a->cfg, host, err, sizeof(err));
		if (!a->sinks) {
			log_error("%s", err);
			return -EINVAL;
		}
		output_set_sinks(a->out, a->sinks);
	}
	a->ring = ring_buffer__new(loader_map_fd(a->loader, LOADER_MAP_EVENTS), on_record, a, NULL);
	if (!a->events || !a->out || !a->ring) {
		log_error("cannot set up event handling: %s", strerror(errno));
		return -ENOMEM;
	}
	if (a->chain) {
		output_set_chain(a->out, a->chain);
		events_set_chained(a->events, true);
	}
	events_set_config(a->events, a->cfg, &a->watches);
	start_db_probes(a);
	if (pthread_create(&a->reader, NULL, reader_main, a)) {
		log_error("cannot start the ring buffer reader thread");
		return -ENOMEM;
	}
	a->reader_running = true;
	return 0;
}

int agent_run(struct agent_options *opts)
{
	struct agent a = {.opts = opts};
	int ret;

	a.cfg = opts->config ? opts->config : load_config(opts);
	opts->config = NULL;
	if (!a.cfg)
		return 1;
	ret = start(&a);
	if (ret == 0)
		ret = loop(&a);
	if (a.reader_running) {
		atomic_store(&a.reader_stop, true);
		pthread_join(a.reader, NULL);
	}
	ring_buffer__free(a.ring);
	queue_destroy(&a.queue);
	notify_free(a.notify);
	dbprobe_free(a.dbprobe);
	if (a.wake_fd >= 0)
		close(a.wake_fd);
	if (a.out)
		output_flush(a.out);
	sinks_stop(a.sinks, SINKS_DEADLINE_MS);
	output_free(a.out);
	chain_free(a.chain);
	events_free(a.events);
	free(a.ring_by_cpu);
	free(a.ring_by_cpu_reported);
	loader_stop(a.loader);
	watch_set_free(&a.watches);
	config_free(a.cfg);
	if (a.output_error == -EPIPE)
		return 0;
	if (a.kernel_unsupported)
		return AGENT_EXIT_KERNEL;
	return ret || a.output_error ? 1 : 0;
}
