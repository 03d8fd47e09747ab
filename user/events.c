// SPDX-License-Identifier: GPL-2.0
/* Records to events: lifecycle, dispatch, and what every kind of event shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/chain.h>

#include "events_priv.h"

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
	e->host = json_pack("{s:s}", "name", hostname);
	proc_table_init(&e->procs);
	proc_seed(&e->procs);
	encode_clock_sync(&e->clock);
	return e;
}

static void who_cache_free(struct who_cache *w)
{
	if (!w)
		return;
	json_decref(w->who);
	json_decref(w->custos);
	free(w);
}

static void whos_clear(struct events *e, int64_t older_than_ns)
{
	struct who_cache *w;
	uint64_t tid;
	size_t i = 0;

	while (hashmap_next(&e->whos, &i, &tid, (void **)&w)) {
		if (w->used_ns < older_than_ns) {
			hashmap_remove(&e->whos, tid);
			who_cache_free(w);
		}
	}
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
	whos_clear(e, INT64_MAX);
	hashmap_clear(&e->whos);
	i = 0;
	while (hashmap_next(&e->flags, &i, NULL, &st))
		json_decref(st);
	hashmap_clear(&e->flags);
	i = 0;
	while (hashmap_next(&e->rules, &i, NULL, &st))
		json_decref(st);
	hashmap_clear(&e->rules);
	events_db_free(e);
	proc_table_free(&e->procs);
	users_clear(&e->users);
	json_decref(e->host);
	json_decref(e->chain_placeholder);
	free(e->hostname);
	free(e);
}

/*
 * Records name rules by id (generation and index), so a record made before a
 * reload keeps the name of the rule that matched it: every config's names
 * are kept.
 */
void events_set_config(struct events *e, const struct config *cfg, const struct watch_set *set)
{
	size_t i, t;

	e->cfg = cfg;
	e->watches = set;
	encode_set_raw_sql(cfg->databases.raw_text);
	for (i = 0; i < cfg->n_rules; i++) {
		uint64_t id = set->generation << CUSTOS_RULE_INDEX_BITS | i;
		const struct config_rule *r = &cfg->rules[i];
		json_t *info, *old = NULL;

		if (hashmap_get(&e->rules, id))
			continue;
		info = json_pack("{s:s, s:[]}", "rule", r->name, "tags");
		for (t = 0; info && t < r->n_tags; t++)
			json_array_append_new(json_object_get(info, "tags"),
					      json_string(r->tags[t]));
		if (info && !hashmap_put(&e->rules, id, info, (void **)&old))
			json_decref(old);
		else
			json_decref(info);
	}
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
	whos_clear(e, now - (int64_t)PROC_KEEP_NS);
}

void events_forget_names(struct events *e)
{
	whos_clear(e, INT64_MAX);
	users_clear(&e->users);
}

void events_set_chained(struct events *e, bool chained)
{
	json_decref(e->chain_placeholder);
	e->chain_placeholder = chained ? json_string(CHAIN_PLACEHOLDER) : NULL;
}

void events_emit(struct events *e, json_t *ev)
{
	json_t *custos;

	if (!ev)
		return;
	json_object_set(ev, "host", e->host);
	custos = encode_obj(ev, "custos");
	json_object_set_new(custos, "seq", json_integer(++e->seq));
	json_object_set_new(custos, "schema_version", json_integer(CUSTOS_SCHEMA_VERSION));
	if (e->chain_placeholder)
		json_object_set(custos, "chain", e->chain_placeholder);
	e->stats.emitted++;
	e->emit(ev, e->emit_ctx);
	json_decref(ev);
}

json_t *events_agent_event(struct events *e, const char *action, const char *type,
			   const char *outcome)
{
	return encode_event(&e->clock, encode_clock_now_boot(), "process", type, action, outcome,
			    "custos.agent");
}

/* {"rule": name, "tags": [...]} of a rule id; "rule" null if it is unknown. */
json_t *events_rule_json(const struct events *e, uint32_t rule_id)
{
	json_t *info = hashmap_get(&e->rules, rule_id);

	return info ? json_incref(info) : json_pack("{s:n, s:[]}", "rule", "tags");
}

#define FLAG_SETS_MAX 256

/* custos.open.flags: the same few combinations over and over, so built once each. */
json_t *events_open_flags(struct events *e, uint32_t flags)
{
	json_t *names = hashmap_get(&e->flags, flags);

	if (names)
		return json_incref(names);
	names = encode_open_flags(flags);
	if (e->flags.len < FLAG_SETS_MAX && !hashmap_put(&e->flags, flags, names, NULL))
		json_incref(names);
	return names;
}

void events_add_rule(json_t *ev, json_t *rule)
{
	json_object_update(encode_obj(ev, "custos"), rule);
}

/*
 * Shares src's members into dst, an object of ev (values are referenced,
 * not copied); an "escaped" list is merged into ev's custos.escaped.
 */
void events_share_members(json_t *ev, json_t *dst, json_t *src)
{
	const char *key;
	json_t *value;
	void *it;

	for (it = json_object_iter(src); it; it = json_object_iter_next(src, it)) {
		key = json_object_iter_key(it);
		value = json_object_iter_value(it);
		if (!strcmp(key, "escaped")) {
			size_t i;

			for (i = 0; i < json_array_size(value); i++)
				encode_mark_escaped(ev,
						    json_string_value(json_array_get(value, i)));
			continue;
		}
		json_object_set(dst, key, value);
	}
}

static struct who_cache *who_build(struct events *e, const struct custos_task *task,
				   const struct proc_info *proc)
{
	struct who_cache *w = calloc(1, sizeof(*w));
	const char *container;

	if (!w)
		return NULL;
	w->task = *task;
	w->proc_generation = proc ? proc->generation : 0;
	w->who = json_object();
	encode_task(w->who, &e->clock, task, proc, &e->users);
	container = proc_cgroup_container(&e->procs, task->cgroup_id, encode_clock_now_boot());
	if (container)
		json_object_set_new(encode_obj(w->who, "container"), "id", json_string(container));
	/* custos.* is the event's own object: keep what the task brings to it apart. */
	w->custos = json_incref(json_object_get(w->who, "custos"));
	json_object_del(w->who, "custos");
	return w;
}

/* process.*, user.*, group.*, container.* of task, built once per identity. */
void events_encode_who(struct events *e, json_t *ev, const struct custos_task *task)
{
	const struct proc_info *proc = proc_get(&e->procs, task->tgid, task->start_ns, task->ppid);
	struct who_cache *w = hashmap_get(&e->whos, task->tid), *old = NULL;

	if (!w || memcmp(&w->task, task, sizeof(*task)) ||
	    w->proc_generation != (proc ? proc->generation : 0)) {
		w = who_build(e, task, proc);
		if (!w || hashmap_put(&e->whos, task->tid, w, (void **)&old)) {
			who_cache_free(w);
			encode_task(ev, &e->clock, task, proc, &e->users);
			return;
		}
		who_cache_free(old);
	}
	w->used_ns = encode_clock_now_boot();
	events_share_members(ev, ev, w->who);
	if (w->custos)
		events_share_members(ev, encode_obj(ev, "custos"), w->custos);
}

char *events_join_path(const char *names, const struct custos_path_info *info, size_t *len)
{
	char *buf = malloc(JOINED_PATH_MAX);

	if (!buf)
		return NULL;
	*len = encode_join_path(names, info->len, info->flags & CUSTOS_PATH_TRUNCATED, buf,
				JOINED_PATH_MAX);
	return buf;
}

void events_add_path_flags(json_t *ev, const struct custos_path_info *info)
{
	if (info->flags & CUSTOS_PATH_TRUNCATED)
		json_object_set_new(encode_obj(ev, "custos.file"), "path_truncated", json_true());
	if (info->flags & CUSTOS_PATH_DELETED)
		json_object_set_new(encode_obj(ev, "custos.file"), "deleted", json_true());
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
