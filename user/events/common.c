// SPDX-License-Identifier: GPL-2.0
/* What every kind of event shares: emitting, who did it, rules, paths, changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/chain.h"

#include "common.h"

static const char *const change_actions[] = {
    [CUSTOS_CHANGE_TRUNCATE] = "truncate", [CUSTOS_CHANGE_CHMOD] = "chmod",
    [CUSTOS_CHANGE_CHOWN] = "chown",	   [CUSTOS_CHANGE_UNLINK] = "unlink",
    [CUSTOS_CHANGE_RENAME] = "rename",
};

void events_who_cache_free(struct who_cache *w)
{
	if (!w)
		return;
	json_decref(w->who);
	json_decref(w->custos);
	free(w);
}

void events_whos_clear(struct events *e, int64_t older_than_ns)
{
	struct who_cache *w;
	uint64_t tid;
	size_t i = 0;

	while (hashmap_next(&e->whos, &i, &tid, (void **)&w)) {
		if (w->used_ns < older_than_ns) {
			hashmap_remove(&e->whos, tid);
			events_who_cache_free(w);
		}
	}
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
			events_who_cache_free(w);
			encode_task(ev, &e->clock, task, proc, &e->users);
			return;
		}
		events_who_cache_free(old);
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

/* custos.change.* for truncate, chmod, chown. */
void events_encode_change(json_t *ev, uint32_t op, uint64_t arg, uint32_t arg2)
{
	json_t *change = encode_obj(ev, "custos.change");
	char mode[16];

	switch (op) {
	case CUSTOS_CHANGE_TRUNCATE:
		json_object_set_new(change, "length", json_integer((json_int_t)arg));
		break;
	case CUSTOS_CHANGE_CHMOD:
		snprintf(mode, sizeof(mode), "%04o", (unsigned int)(arg & 07777));
		json_object_set_new(change, "mode", json_string(mode));
		break;
	case CUSTOS_CHANGE_CHOWN:
		/* (uid_t)-1 leaves the owner (or group) as it is. */
		if ((uint32_t)arg != UINT32_MAX)
			json_object_set_new(change, "uid", json_integer((uint32_t)arg));
		if (arg2 != UINT32_MAX)
			json_object_set_new(change, "gid", json_integer(arg2));
		break;
	}
}

const char *events_change_action(uint32_t op)
{
	return op && op <= CUSTOS_CHANGE_RENAME ? change_actions[op] : NULL;
}
