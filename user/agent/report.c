// SPDX-License-Identifier: GPL-2.0
/* What the agent says of itself: agent-start, heartbeats, and a gap event for every loss. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/agent_priv.h"
#include "encode/encode.h"
#include "lib/log.h"
#include "lib/version.h"

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
				      (json_int_t)reader_ring_used(&a->reader)));
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
		json_object_set_new(queue_lost, name,
				    json_integer(reader_queue_drops(&a->reader, i)));
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
	json_object_set_new(stats, "wire_lost", json_integer(st->wire_lost));
	json_object_set_new(stats, "wire_dropped", json_integer(st->wire_dropped));
	json_object_set_new(stats, "open_files", json_integer(events_open_count(a->events)));
	json_object_set_new(stats, "open_files_tracked",
			    json_integer(loader_open_files_tracked(a->loader)));
	reader_queue_stats(&a->reader, &qs);
	json_object_set_new(stats, "queue_drops", json_integer(qs.dropped));
	json_object_set_new(stats, "queue_drops_by_type", queue_lost);
	json_object_set_new(stats, "queue_peak_bytes", json_integer(qs.peak_bytes));
	json_object_set_new(stats, "watched_inodes", json_integer(a->watches.n_items));
	add_process_figures(a, stats);
	if (a->sinks)
		json_object_set_new(stats, "outputs", sinks_stats(a->sinks));
	if (a->rules) {
		const struct rules_stats *rs = rules_stats(a->rules);

		json_object_set_new(
		    stats, "rules",
		    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "rules",
			      (json_int_t)rules_count(a->rules), "events", (json_int_t)rs->events,
			      "alerts", (json_int_t)rs->alerts, "suppressed",
			      (json_int_t)rs->suppressed, "evicted", (json_int_t)rs->evicted,
			      "groups", (json_int_t)rs->groups, "state_errors",
			      (json_int_t)rs->state_errors));
	}
	return stats;
}

void agent_emit_stats(struct agent *a, const char *action)
{
	events_emit_agent(a->events, action, "success", json_pack("{s:o}", "stats", stats_json(a)));
}

/* custos.gap of a loss: its cause and count, and the seq range when it is known. */
static json_t *gap_json(const char *reason, uint64_t count, uint64_t first_seq, uint64_t last_seq)
{
	json_t *gap = json_pack("{s:s, s:I}", "reason", reason, "count", (json_int_t)count);

	if (first_seq)
		json_object_set_new(gap, "first_seq", json_integer(first_seq));
	if (last_seq)
		json_object_set_new(gap, "last_seq", json_integer(last_seq));
	return gap;
}

static void emit_gap(struct agent *a, json_t *gap)
{
	events_emit_agent(a->events, "gap", "failure", json_pack("{s:o}", "gap", gap));
}

void agent_emit_output_gap(void *ctx, const char *output, const char *reason, uint64_t count,
			   uint64_t first_seq, uint64_t last_seq)
{
	struct agent *a = ctx;
	json_t *gap = gap_json(reason, count, first_seq, last_seq);

	json_object_set_new(gap, "output", json_string(output));
	log_warn("output %s: %llu events dropped (%s)", output, (unsigned long long)count, reason);
	emit_gap(a, gap);
}

/* Records the kernel could not put in the ring buffer since the last gap event, by CPU. */
static void emit_ring_gap(struct agent *a)
{
	int cpu, n = loader_nr_cpus(a->loader);
	uint64_t total = 0;
	json_t *per_cpu = json_array(), *gap;

	for (cpu = 0; cpu < n; cpu++) {
		uint64_t d = a->losses.ring_by_cpu[cpu] - a->losses.ring_by_cpu_reported[cpu];

		total += d;
		json_array_append_new(per_cpu, json_integer(d));
		a->losses.ring_by_cpu_reported[cpu] = a->losses.ring_by_cpu[cpu];
	}
	if (!total) {
		json_decref(per_cpu);
		return;
	}
	gap = gap_json("ringbuf_full", total, 0, 0);
	json_object_set_new(gap, "source", json_string("kernel"));
	json_object_set_new(gap, "per_cpu", per_cpu);
	emit_gap(a, gap);
}

/* Records the agent's queue had no room for since the last gap event, by record type. */
static void emit_queue_gap(struct agent *a, uint64_t dropped)
{
	json_t *by_type, *gap;
	int i;

	if (dropped <= a->losses.queue_reported)
		return;
	gap = gap_json("record_queue_full", dropped - a->losses.queue_reported, 0, 0);
	a->losses.queue_reported = dropped;
	json_object_set_new(gap, "source", json_string("agent"));
	by_type = json_object();
	for (i = 0; i < CUSTOS_REC_TYPE_MAX; i++) {
		uint64_t n = reader_queue_drops(&a->reader, i);

		if (n)
			json_object_set_new(by_type, custos_record_type_name(i), json_integer(n));
	}
	json_object_set_new(gap, "since_start_by_type", by_type);
	emit_gap(a, gap);
}

/* Events the output could not write (serialize) since the last gap event. */
static void emit_unwritable_gap(struct agent *a)
{
	uint64_t count, first_seq, last_seq;
	json_t *gap;

	if (!output_take_unwritable(a->out, &count, &first_seq, &last_seq))
		return;
	gap = gap_json("unwritable", count, first_seq, last_seq);
	json_object_set_new(gap, "source", json_string("agent"));
	log_warn("%llu events could not be written", (unsigned long long)count);
	emit_gap(a, gap);
}

/*
 * Reports records and events that could not be kept (ring buffer, queue,
 * output), as soon as they happen: a gap event for each cause.
 */
void agent_check_losses(struct agent *a)
{
	struct custos_drops drops;
	struct queue_stats qs;
	uint64_t ring, queued;

	emit_unwritable_gap(a);
	if (loader_read_drops(a->loader, &drops, a->losses.ring_by_cpu))
		return;
	emit_ring_gap(a);
	ring = ring_drops(&drops);
	reader_queue_stats(&a->reader, &qs);
	queued = qs.dropped;
	emit_queue_gap(a, queued);
	if (ring + queued <= a->losses.reported)
		return;
	log_warn("records lost since start: %llu with the ring buffer full (raise ring_buffer_mb), "
		 "%llu with the queue full (raise queue_mb)",
		 (unsigned long long)ring, (unsigned long long)queued);
	a->losses.reported = ring + queued;
	agent_emit_stats(a, "agent-heartbeat");
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

/* Who the agent is and what it runs with: agent-start's custos.agent, and custos status's. */
static json_t *agent_json(struct agent *a)
{
	json_t *agent = json_object();
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
	json_object_set_new(agent, "egress_window", json_integer(a->cfg->egress_window_s));
	add_hooks(a, agent);
	json_object_set_new(agent, "warnings", warnings);
	if (a->dbprobe)
		json_object_set_new(agent, "db_probes", dbprobe_report(a->dbprobe));
	return agent;
}

void agent_emit_start(struct agent *a)
{
	events_emit_agent(a->events, "agent-start", "success",
			  json_pack("{s:o}", "agent", agent_json(a)));
}

/*
 * custos status: agent-start's figures and a heartbeat's, as they are now,
 * with the uptime and what bounds the spool, from which the command judges
 * the agent's health.
 */
json_t *agent_status_json(struct agent *a)
{
	json_t *agent = agent_json(a), *spool;
	struct timespec now;
	char started[40];
	double up;

	clock_gettime(CLOCK_MONOTONIC, &now);
	up = (now.tv_sec - a->started.tv_sec) + (now.tv_nsec - a->started.tv_nsec) / 1e9;
	encode_time((uint64_t)a->started_real.tv_sec * 1000000000ULL + a->started_real.tv_nsec,
		    started);
	json_object_set_new(agent, "started", json_string(started));
	json_object_set_new(agent, "uptime_seconds", json_real(up));
	json_object_set_new(agent, "config_generation", json_integer(a->generation));
	spool = json_pack("{s:s, s:I}", "dir", a->cfg->spool.dir ? a->cfg->spool.dir : "",
			  "max_bytes", (json_int_t)a->cfg->spool.max_bytes);
	return json_pack("{s:s, s:o, s:o, s:o}", "control", "status", "agent", agent, "stats",
			 stats_json(a), "spool", spool);
}

int agent_losses_init(struct agent *a)
{
	a->losses.ring_by_cpu = calloc(loader_nr_cpus(a->loader), sizeof(uint64_t));
	a->losses.ring_by_cpu_reported = calloc(loader_nr_cpus(a->loader), sizeof(uint64_t));
	return a->losses.ring_by_cpu && a->losses.ring_by_cpu_reported ? 0 : -ENOMEM;
}

void agent_losses_free(struct agent *a)
{
	free(a->losses.ring_by_cpu);
	free(a->losses.ring_by_cpu_reported);
}
