// SPDX-License-Identifier: GPL-2.0
/* Records to events: lifecycle, and each record to the module of its kind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/chain.h"

#include "common.h"

#define PROC_KEEP_NS (30ULL * 1000000000ULL) /* remember exited processes this long */

struct events *events_new(const char *hostname, events_emit_fn emit, void *ctx)
{
	struct events *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->hostname = strdup(hostname);
	if (!e->hostname) {
		free(e);
		return NULL;
	}
	e->emit = emit;
	e->emit_ctx = ctx;
	proc_table_init(&e->procs);
	proc_seed(&e->procs);
	encode_clock_sync(&e->clock);
	return e;
}

void events_free(struct events *e)
{
	void *st;
	size_t i = 0;

	if (!e)
		return;
	while (hashmap_next(&e->opens, &i, NULL, &st))
		events_open_state_free(st);
	hashmap_clear(&e->opens);
	events_whos_clear(e, INT64_MAX);
	hashmap_clear(&e->whos);
	i = 0;
	while (hashmap_next(&e->rules, &i, NULL, &st))
		events_rule_free(st);
	hashmap_clear(&e->rules);
	events_db_free(e);
	for (i = 0; i < RENAMED_MAX; i++)
		free(e->renamed[i].path);
	proc_table_free(&e->procs);
	users_clear(&e->users);
	blockdevs_clear(&e->blockdevs);
	free(e->hostname);
	free(e);
}

/*
 * Records name rules by id (generation and index), so a record made before a
 * reload keeps the name of the rule that matched it: every config's names
 * are kept.
 */
static void add_rule(struct events *e, uint64_t id, const char *name, char *const *tags,
		     size_t n_tags, bool endpoint, const char *unix_path, const char *parse)
{
	struct event_rule *rule;
	size_t t;
	bool ok;

	if (hashmap_get(&e->rules, id))
		return;
	rule = calloc(1, sizeof(*rule));
	if (!rule)
		return;
	rule->endpoint = endpoint;
	rule->parse = parse;
	rule->name = strdup(name);
	rule->tags = calloc(n_tags ? n_tags : 1, sizeof(*rule->tags));
	ok = rule->name && rule->tags;
	if (ok && unix_path) {
		rule->unix_path = strdup(unix_path);
		ok = rule->unix_path != NULL;
	}
	for (t = 0; ok && t < n_tags; t++) {
		rule->tags[t] = strdup(tags[t]);
		ok = rule->tags[t] != NULL;
		rule->n_tags += ok;
	}
	if (!ok || hashmap_put(&e->rules, id, rule, NULL))
		events_rule_free(rule);
}

void events_set_config(struct events *e, const struct config *cfg, const struct watch_set *set)
{
	uint64_t gen = (uint64_t)set->generation << CUSTOS_RULE_INDEX_BITS;
	size_t i;

	e->cfg = cfg;
	e->watches = set;
	encode_set_raw_sql(cfg->databases.raw_text);
	for (i = 0; i < cfg->n_rules; i++)
		add_rule(e, gen | i, cfg->rules[i].name, cfg->rules[i].tags, cfg->rules[i].n_tags,
			 false, NULL, NULL);
	/* Endpoints are the rules after the watch rules (config.h). */
	for (i = 0; i < cfg->n_endpoints; i++)
		add_rule(e, gen | (cfg->n_rules + i), cfg->endpoints[i].name,
			 cfg->endpoints[i].tags, cfg->endpoints[i].n_tags, true,
			 cfg->endpoints[i].unix_path, wire_protocol_name(cfg->endpoints[i].parse));
}

void events_set_exec_hook(struct events *e, events_exec_fn fn, void *ctx)
{
	e->on_exec = fn;
	e->exec_ctx = ctx;
}

const struct events_stats *events_stats(const struct events *e)
{
	return &e->stats;
}

size_t events_open_count(const struct events *e)
{
	return e->opens.len;
}

void events_tick(struct events *e)
{
	int64_t now = encode_clock_now_boot();

	encode_clock_sync(&e->clock);
	events_db_tick(e, now);
	proc_gc(&e->procs, now, PROC_KEEP_NS);
	events_whos_clear(e, now - (int64_t)PROC_KEEP_NS);
}

void events_forget_names(struct events *e)
{
	events_whos_clear(e, INT64_MAX);
	users_clear(&e->users);
}

void events_set_chained(struct events *e, bool chained)
{
	e->chain = chained ? CHAIN_PLACEHOLDER : NULL;
}

void events_set_agent_id(struct events *e, const struct event_agent_id *id)
{
	e->agent_id = id;
}

static int on_proc_exec(struct events *e, const struct custos_proc_exec *rec, size_t size)
{
	size_t exe_len;
	char *exe;

	if (!record_fits(size, sizeof(*rec), (size_t)CUSTOS_PATH_MAX + rec->args_len) ||
	    rec->exe.len > CUSTOS_PATH_MAX)
		return -EINVAL;
	exe = events_join_path(rec->data, &rec->exe, &exe_len);
	if (!exe)
		return -ENOMEM;
	proc_exec(&e->procs, rec->task.tgid, rec->task.start_ns, exe, exe_len,
		  rec->data + CUSTOS_PATH_MAX, rec->args_len, rec->args_truncated);
	if (e->on_exec)
		e->on_exec(rec->task.tgid, exe, e->exec_ctx);
	free(exe);
	return 0;
}

static int on_cgroup_mkdir(struct events *e, const struct custos_cgroup_mkdir *rec, size_t size)
{
	if (!record_fits(size, sizeof(*rec), rec->path_len) || rec->path_len == 0 ||
	    rec->path[rec->path_len - 1] != '\0')
		return -EINVAL;
	proc_cgroup_learn(&e->procs, rec->cgroup_id, rec->path);
	return 0;
}

static int on_proc_exit(struct events *e, const struct custos_proc_exit *rec, size_t size)
{
	if (size < sizeof(*rec))
		return -EINVAL;
	proc_exit(&e->procs, rec->task.tgid, rec->hdr.ktime_ns);
	return 0;
}

int events_record(struct events *e, const void *data, size_t size)
{
	const struct custos_rec_hdr *hdr = data;
	int ret;

	if (size < sizeof(*hdr) || hdr->size > size || hdr->size < sizeof(*hdr)) {
		e->stats.malformed++;
		return -EINVAL;
	}
	size = hdr->size;
	e->stats.records[hdr->type < CUSTOS_REC_TYPE_MAX ? hdr->type : 0]++;
	switch (hdr->type) {
	case CUSTOS_REC_FILE_OPEN:
		ret = events_file_open(e, data, size);
		break;
	case CUSTOS_REC_FILE_CLOSE:
		ret = events_file_close(e, data, size);
		break;
	case CUSTOS_REC_FILE_SHARED:
		ret = events_file_shared(e, data, size);
		break;
	case CUSTOS_REC_FILE_MMAP:
		ret = events_file_mmap(e, data, size);
		break;
	case CUSTOS_REC_FILE_CHANGE:
		ret = events_file_change(e, data, size);
		break;
	case CUSTOS_REC_FILE_DENIED:
		ret = events_file_denied(e, data, size);
		break;
	case CUSTOS_REC_PATH_CHANGE:
		ret = events_path_change(e, data, size);
		break;
	case CUSTOS_REC_DB_CALL:
		ret = events_db_call(e, data, size);
		break;
	case CUSTOS_REC_NET_CONNECT:
		ret = events_net_connect(e, data, size);
		break;
	case CUSTOS_REC_WIRE:
		ret = events_wire(e, data, size);
		break;
	case CUSTOS_REC_NET_CONNECTED:
		ret = events_net_connected(e, data, size);
		break;
	case CUSTOS_REC_PROC_EXEC:
		ret = on_proc_exec(e, data, size);
		break;
	case CUSTOS_REC_PROC_EXIT:
		ret = on_proc_exit(e, data, size);
		break;
	case CUSTOS_REC_CGROUP_MKDIR:
		ret = on_cgroup_mkdir(e, data, size);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret == -EINVAL)
		e->stats.malformed++;
	return ret;
}
