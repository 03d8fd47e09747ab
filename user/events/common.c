// SPDX-License-Identifier: GPL-2.0
/* What every kind of event shares: emitting, who did it, rules, paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char *const change_actions[] = {
    [CUSTOS_CHANGE_TRUNCATE] = "truncate", [CUSTOS_CHANGE_CHMOD] = "chmod",
    [CUSTOS_CHANGE_CHOWN] = "chown",	   [CUSTOS_CHANGE_UNLINK] = "unlink",
    [CUSTOS_CHANGE_RENAME] = "rename",
};

static void who_cache_free(struct who_cache *w)
{
	if (!w)
		return;
	encode_who_free(&w->who);
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
			who_cache_free(w);
		}
	}
}

void events_event_init(const struct events *e, struct event *ev, enum event_kind kind,
		       uint64_t boot_ns, const char *category, const char *type, const char *action,
		       const char *outcome)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->time_ns = encode_clock_real(&e->clock, boot_ns);
	ev->category = category;
	ev->type = type;
	ev->action = action;
	ev->outcome = outcome;
}

void events_emit(struct events *e, struct event *ev)
{
	ev->seq = ++e->seq;
	ev->host = e->hostname;
	ev->agent_id = e->agent_id;
	ev->chain = e->chain;
	e->stats.emitted++;
	e->emit(ev, e->emit_ctx);
}

void events_emit_alert(struct events *e, struct event *ev)
{
	events_emit(e, ev);
}

/*
 * How ECS classes the agent's own events: the agent is the process of
 * process.*, and ECS allows these pairs of category and type.
 */
static const struct agent_class {
	const char *action, *kind, *category, *type;
} agent_classes[] = {
    {"agent-start", NULL, "process", "start"},
    {"agent-stop", NULL, "process", "end"},
    {"agent-heartbeat", "metric", "process", "info"},
    {"agent-reload", NULL, "configuration", "change"},
    {"gap", "alert", "process", "info"},
    {NULL, NULL, "process", "info"}, /* any other */
};

static const struct agent_class *agent_class(const char *action)
{
	size_t i;

	for (i = 0; agent_classes[i].action; i++)
		if (!strcmp(agent_classes[i].action, action))
			break;
	return &agent_classes[i];
}

void events_emit_agent(struct events *e, const char *action, const char *outcome, json_t *custos)
{
	const struct agent_class *c = agent_class(action);
	struct event ev;

	events_event_init(e, &ev, EVENT_AGENT, encode_clock_now_boot(), c->category, c->type,
			  action, outcome);
	ev.dataset = "custos.agent";
	ev.ecs_kind = c->kind;
	ev.agent = custos;
	events_emit(e, &ev);
	json_decref(custos);
}

void events_rule_free(struct event_rule *rule)
{
	size_t i;

	if (!rule)
		return;
	for (i = 0; i < rule->n_tags; i++)
		free(rule->tags[i]);
	free(rule->tags);
	free(rule->name);
	free(rule->unix_path);
	free(rule);
}

const struct event_rule *events_rule(const struct events *e, uint32_t rule_id)
{
	static const struct event_rule unknown, egress = {.egress = true};
	const struct event_rule *rule;

	if (CUSTOS_RULE_INDEX(rule_id) == CUSTOS_RULE_EGRESS)
		return &egress;
	rule = hashmap_get(&e->rules, rule_id);
	return rule ? rule : &unknown;
}

const struct event_egress *events_egress(struct events *e, struct event_egress *out,
					 const struct event_rule *rule, uint32_t read_rule,
					 uint64_t read_boot_ns)
{
	if (!rule->egress)
		return NULL;
	out->read_rule = read_boot_ns ? events_rule(e, read_rule) : NULL;
	out->read_ns = read_boot_ns ? encode_clock_real(&e->clock, read_boot_ns) : 0;
	return out;
}

static struct who_cache *who_build(struct events *e, const struct custos_task *task,
				   const struct proc_info *proc)
{
	struct who_cache *w = calloc(1, sizeof(*w));
	const char *container;

	if (!w)
		return NULL;
	w->proc_generation = proc ? proc->generation : 0;
	container = proc_cgroup_container(&e->procs, task->cgroup_id, encode_clock_now_boot());
	if (encode_who(&w->who, &e->clock, task, proc,
		       proc_parent(&e->procs, task->ppid, task->start_ns), container, &e->users)) {
		free(w);
		return NULL;
	}
	return w;
}

const struct event_who *events_who(struct events *e, const struct custos_task *task)
{
	const struct proc_info *proc = proc_get(&e->procs, task->tgid, task->start_ns, task->ppid);
	struct who_cache *w = hashmap_get(&e->whos, task->tid), *old = NULL;

	if (!w || memcmp(&w->who.task, task, sizeof(*task)) ||
	    w->proc_generation != (proc ? proc->generation : 0)) {
		w = who_build(e, task, proc);
		if (!w || hashmap_put(&e->whos, task->tid, w, (void **)&old)) {
			who_cache_free(w);
			return NULL;
		}
		who_cache_free(old);
	}
	w->used_ns = encode_clock_now_boot();
	return &w->who;
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

void events_path_flags(struct event_file *f, const struct custos_path_info *info)
{
	f->path_truncated = info->flags & CUSTOS_PATH_TRUNCATED;
	f->deleted = info->flags & CUSTOS_PATH_DELETED;
}

const char *events_change_action(uint32_t op)
{
	return op && op <= CUSTOS_CHANGE_RENAME ? change_actions[op] : NULL;
}
