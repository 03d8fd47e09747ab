// SPDX-License-Identifier: GPL-2.0
/*
 * The detection engine: each access event is matched against every rule's
 * where (or steps), and the rule's state for the event's group is brought
 * forward. Thresholds keep a sliding window in WINDOW_BUCKETS buckets;
 * sequences keep one partial match per group, the oldest still in time;
 * first_seen remembers keys (first_seen.c); match rules only suppress.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode/encode.h"
#include "rules/facts.h"
#include "rules/rules_priv.h"

#define WINDOW_BUCKETS	     60		 /* a threshold's window slides in steps of 1/60 of it */
#define MATCH_WINDOW_DEFAULT (10LL * 60) /* match rules: one alert per group in this */
#define NS		     1000000000LL

struct window {
	struct group g;
	int64_t bucket_id[WINDOW_BUCKETS];
	int64_t bucket_first_ns[WINDOW_BUCKETS]; /* the time of its first event */
	uint64_t sum[WINDOW_BUCKETS], count[WINDOW_BUCKETS];
	struct groups distinct; /* values in the window: their last use */
	bool has_distinct;
	uint64_t evidence[EVENT_ALERT_EVIDENCE_MAX]; /* the latest seqs, a ring */
	int64_t evidence_ns[EVENT_ALERT_EVIDENCE_MAX];
	size_t n_evidence;
	int64_t alerted_ns;
	uint64_t suppressed;
};

struct sequence {
	struct group g;
	size_t next; /* the step awaited; 0: none under way */
	int64_t start_ns;
	uint64_t seqs[CONFIG_DETECT_STEPS_MAX];
	int64_t alerted_ns;
	uint64_t suppressed;
};

struct suppression {
	struct group g;
	int64_t alerted_ns;
	uint64_t suppressed;
	uint64_t count;
};

const char *rules_take_warning(struct rules *r)
{
	if (!r || !r->has_warning)
		return NULL;
	r->has_warning = false;
	return r->warning;
}

static void release_window(struct group *g)
{
	struct window *w = (struct window *)g;

	if (w->has_distinct)
		groups_clear(&w->distinct);
}

static const char *kind_name(enum config_detect_kind kind)
{
	static const char *const names[] = {
	    [CONFIG_DETECT_THRESHOLD] = "threshold",
	    [CONFIG_DETECT_FIRST_SEEN] = "first_seen",
	    [CONFIG_DETECT_MATCH] = "match",
	    [CONFIG_DETECT_SEQUENCE] = "sequence",
	};
	return names[kind];
}

/* rule.description of a rule that has none of its own. */
static const char *default_description(enum config_detect_kind kind)
{
	static const char *const text[] = {
	    [CONFIG_DETECT_THRESHOLD] = "What one group's matching events add up to within the "
					"window reached the rule's threshold",
	    [CONFIG_DETECT_FIRST_SEEN] = "A key the rule had not seen before",
	    [CONFIG_DETECT_MATCH] = "An event matched the rule",
	    [CONFIG_DETECT_SEQUENCE] = "Events of one group matched the rule's steps, in order, "
				       "within its time",
	};
	return text[kind];
}

static int64_t window_ns(const struct rule *r)
{
	if (r->cfg->kind == CONFIG_DETECT_MATCH && !r->cfg->window_s)
		return MATCH_WINDOW_DEFAULT * NS;
	return r->cfg->window_s * NS;
}

/* Rules that group by the same fields share the slot their key is computed in. */
static int assign_key_slots(struct rules *rs)
{
	size_t i, j, n = 0;

	rs->key_slots = calloc(rs->n_rules + 1, sizeof(*rs->key_slots));
	if (!rs->key_slots)
		return -ENOMEM;
	rs->key_scratch = &rs->key_slots[rs->n_rules];
	for (i = 0; i < rs->n_rules; i++) {
		const struct config_detect_rule *c = rs->rules[i].cfg;

		for (j = 0; j < i; j++) {
			const struct config_detect_rule *o = rs->rules[j].cfg;

			if (o->n_group_by == c->n_group_by &&
			    !memcmp(o->group_by, c->group_by,
				    c->n_group_by * sizeof(c->group_by[0])))
				break;
		}
		rs->rules[i].key_slot = j < i ? rs->rules[j].key_slot : n++;
	}
	return 0;
}

struct rules *rules_new(const struct config *cfg, const char *state_dir, rules_alert_fn alert,
			void *ctx)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	size_t i, j;

	if (!rs)
		return NULL;
	rs->alert = alert;
	rs->ctx = ctx;
	rs->rules = calloc(cfg->n_detect ? cfg->n_detect : 1, sizeof(*rs->rules));
	if (!rs->rules)
		goto err_free;
	for (i = 0; i < cfg->n_detect; i++) {
		const struct config_detect_rule *c = &cfg->detect[i];
		struct rule *r;

		if (c->disabled)
			continue;
		r = &rs->rules[rs->n_rules++];
		r->cfg = c;
		r->technique = c->technique ? attack_technique(c->technique) : NULL;
		snprintf(r->id, sizeof(r->id), "custos.%s", c->name);
		groups_init(&r->groups,
			    c->kind == CONFIG_DETECT_FIRST_SEEN ? RULES_KEYS_MAX : RULES_GROUPS_MAX,
			    c->kind == CONFIG_DETECT_THRESHOLD ? release_window : NULL);
		rule_where_init(&r->where, &c->where, &rs->tags);
		for (j = 0; j < c->n_steps && j < CONFIG_DETECT_STEPS_MAX; j++)
			rule_where_init(&r->steps[j], &c->steps[j].where, &rs->tags);
		if (c->kind == CONFIG_DETECT_THRESHOLD)
			r->bucket_ns = (c->window_s * NS + WINDOW_BUCKETS - 1) / WINDOW_BUCKETS;
	}
	if (assign_key_slots(rs))
		goto err_free;
	if (state_dir && asprintf(&rs->state_file, "%s/first_seen.json", state_dir) < 0) {
		rs->state_file = NULL;
		goto err_free;
	}
	first_seen_load(rs, encode_clock_now_real());
	return rs;
err_free:
	rules_free(rs);
	errno = ENOMEM;
	return NULL;
}

void rules_free(struct rules *rs)
{
	size_t i;

	if (!rs)
		return;
	if (rs->state_dirty)
		first_seen_save(rs);
	for (i = 0; i < rs->n_rules; i++)
		groups_clear(&rs->rules[i].groups);
	free(rs->rules);
	free(rs->key_slots);
	free(rs->state_file);
	free(rs);
}

size_t rules_count(const struct rules *r)
{
	return r ? r->n_rules : 0;
}

const struct rules_stats *rules_stats(const struct rules *rs)
{
	size_t i;
	struct rules_stats *st = &((struct rules *)rs)->stats;

	st->groups = 0;
	st->evicted = 0;
	for (i = 0; i < rs->n_rules; i++) {
		st->groups += rs->rules[i].groups.map.len;
		st->evicted += rs->rules[i].groups.evicted;
	}
	return st;
}

/*
 * The group of an event: its values of the rule's fields, each with its length
 * (4 bytes) in front so that no value can pass for two. table: which of a
 * statement's tables a custos.db.tables field takes. false: the event lacks one.
 */
static bool group_key(const struct rule *r, const struct rule_facts *f, size_t table, char *buf,
		      size_t *len)
{
	size_t i, at = 0;

	for (i = 0; i < r->cfg->n_group_by; i++) {
		enum config_field field = r->cfg->group_by[i];
		const char *s = f->field[field].s;
		size_t n = f->field[field].len;
		uint32_t n32;

		if (field == CONFIG_FIELD_TABLE && s) {
			s = rule_facts_table(f, table);
			n = strlen(s);
		}
		if (!s || at + sizeof(n32) + n > KEY_MAX)
			return false;
		n32 = (uint32_t)n;
		memcpy(buf + at, &n32, sizeof(n32));
		at += sizeof(n32);
		memcpy(buf + at, s, n);
		at += n;
	}
	*len = at;
	return true;
}

/*
 * The key of an event's group for rule r, computed once per event for all
 * the rules that group by the same fields. NULL: the event lacks a field.
 */
static const char *rule_key(struct rules *rs, const struct rule *r, const struct rule_facts *f,
			    size_t table, size_t *len)
{
	struct rule_key_slot *slot = &rs->key_slots[r->key_slot];

	if (table) {
		slot = rs->key_scratch;
		slot->stamp = 0;
	} else if (slot->stamp == rs->stamp) {
		*len = slot->len;
		return slot->ok ? slot->buf : NULL;
	} else {
		slot->stamp = rs->stamp;
	}
	slot->ok = group_key(r, f, table, slot->buf, &slot->len);
	*len = slot->len;
	return slot->ok ? slot->buf : NULL;
}

static bool groups_by_table(const struct rule *r)
{
	size_t i;

	for (i = 0; i < r->cfg->n_group_by; i++)
		if (r->cfg->group_by[i] == CONFIG_FIELD_TABLE)
			return true;
	return false;
}

struct alert_params {
	bool has_value;
	uint64_t value;
	int64_t start_ns;
	const uint64_t *evidence;
	size_t n_evidence;
	uint64_t evidence_count;
	uint64_t suppressed;
	bool about_one_event; /* the alert carries the event's process, file and socket */
};

static void send_alert(struct rules *rs, const struct rule *r, const struct rule_facts *f,
		       size_t table, const struct alert_params *p)
{
	char values[CONFIG_DETECT_GROUP_MAX][KEY_MAX];
	struct event_alert_field group[CONFIG_DETECT_GROUP_MAX];
	const struct event *src = f->ev;
	struct event ev;
	size_t i;

	for (i = 0; i < r->cfg->n_group_by; i++) {
		enum config_field field = r->cfg->group_by[i];
		const char *s = f->field[field].s;
		size_t n = f->field[field].len;

		if (field == CONFIG_FIELD_TABLE) {
			s = rule_facts_table(f, table);
			n = strlen(s);
		}
		n = n < KEY_MAX - 1 ? n : KEY_MAX - 1;
		memcpy(values[i], s, n);
		values[i][n] = '\0';
		group[i].name = rule_field_name(field);
		group[i].value = values[i];
	}
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENT_ALERT;
	ev.ecs_kind = "alert";
	ev.time_ns = src->time_ns;
	ev.category = src->category;
	ev.type = "info";
	ev.action = "alert";
	if (p->about_one_event) {
		ev.who = src->who;
		ev.file = src->file;
		ev.net = src->net;
		ev.rule = src->rule;
		ev.open_id = src->open_id;
	}
	ev.alert_info = (struct event_alert){
	    .rule_name = r->cfg->name,
	    .rule_id = r->id,
	    .description = r->cfg->description ?: default_description(r->cfg->kind),
	    .severity = r->cfg->severity,
	    .rule_kind = kind_name(r->cfg->kind),
	    .technique_id = r->cfg->technique,
	    .technique_name = r->technique ? r->technique->name : NULL,
	    .tactic_id = r->technique ? r->technique->tactic_id : NULL,
	    .tactic_name = r->technique ? r->technique->tactic_name : NULL,
	    .start_ns = p->start_ns,
	    .end_ns = src->time_ns,
	    .window = r->cfg->window_text,
	    .has_value = p->has_value,
	    .value = p->value,
	    .threshold = r->cfg->at_least,
	    .group = group,
	    .n_group = r->cfg->n_group_by,
	    .evidence = p->evidence,
	    .n_evidence = p->n_evidence,
	    .evidence_count = p->evidence_count,
	    .suppressed = p->suppressed,
	};
	rs->stats.alerts++;
	rs->alert(&ev, rs->ctx);
}

/* One alert per group per window: true when this one is to be sent. */
static bool may_alert(struct rules *rs, int64_t *alerted_ns, uint64_t *suppressed, int64_t now_ns,
		      int64_t window)
{
	if (*alerted_ns && now_ns - *alerted_ns < window) {
		++*suppressed;
		rs->stats.suppressed++;
		return false;
	}
	*alerted_ns = now_ns;
	return true;
}

/* The window's total (or its count of events), from the buckets still inside it. */
static uint64_t window_total(const struct window *w, int64_t id, bool count)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < WINDOW_BUCKETS; i++)
		if (w->bucket_id[i] > id - WINDOW_BUCKETS && w->bucket_id[i] <= id)
			total += count ? w->count[i] : w->sum[i];
	return total;
}

/* The time of the oldest event still in the window. */
static int64_t window_start(const struct window *w, int64_t id)
{
	int64_t start = INT64_MAX;
	size_t i;

	for (i = 0; i < WINDOW_BUCKETS; i++)
		if (w->bucket_id[i] > id - WINDOW_BUCKETS && w->bucket_id[i] <= id && w->count[i] &&
		    w->bucket_first_ns[i] < start)
			start = w->bucket_first_ns[i];
	return start;
}

static void window_add(struct window *w, int64_t id, int64_t now_ns, uint64_t amount, uint64_t seq)
{
	size_t b = (size_t)(id % WINDOW_BUCKETS), e = w->n_evidence++ % EVENT_ALERT_EVIDENCE_MAX;

	if (w->bucket_id[b] != id) {
		w->bucket_id[b] = id;
		w->bucket_first_ns[b] = now_ns;
		w->sum[b] = w->count[b] = 0;
	}
	w->sum[b] += amount;
	w->count[b]++;
	w->evidence[e] = seq;
	w->evidence_ns[e] = now_ns;
}

/* The latest seqs of events still in the window (from start on), oldest first. */
static size_t window_evidence(const struct window *w, int64_t start, uint64_t *out)
{
	size_t n = w->n_evidence < EVENT_ALERT_EVIDENCE_MAX ? w->n_evidence
							    : EVENT_ALERT_EVIDENCE_MAX,
	       first = w->n_evidence - n, i, k = 0;

	for (i = 0; i < n; i++) {
		size_t e = (first + i) % EVENT_ALERT_EVIDENCE_MAX;

		if (w->evidence_ns[e] >= start)
			out[k++] = w->evidence[e];
	}
	return k;
}

static uint64_t distinct_add(const struct rule *r, struct window *w, const struct rule_facts *f,
			     int64_t now_ns)
{
	const struct rule_value *v = &f->field[r->cfg->distinct_field];

	if (!w->has_distinct) {
		groups_init(&w->distinct, RULES_DISTINCT_MAX, NULL);
		w->has_distinct = true;
	}
	groups_expire(&w->distinct, now_ns - r->cfg->window_s * NS);
	if (v->s)
		groups_get(&w->distinct, v->s, v->len, sizeof(struct group), now_ns);
	return w->distinct.map.len;
}

static void threshold_event(struct rules *rs, struct rule *r, const struct rule_facts *f,
			    size_t table)
{
	const struct config_detect_rule *c = r->cfg;
	int64_t now = f->ev->time_ns, id = now / r->bucket_ns;
	uint64_t amount = rule_facts_measure(f, c->measure), value;
	const char *key;
	struct window *w;
	size_t len;

	if (c->measure == CONFIG_MEASURE_DISTINCT ? !f->field[c->distinct_field].s : !amount)
		return;
	if (!(key = rule_key(rs, r, f, table, &len)))
		return;
	w = (struct window *)groups_get(&r->groups, key, len, sizeof(*w), now);
	if (!w)
		return;
	window_add(w, id, now, amount, f->ev->seq);
	value = c->measure == CONFIG_MEASURE_DISTINCT ? distinct_add(r, w, f, now)
						      : window_total(w, id, false);
	if (value < c->at_least ||
	    !may_alert(rs, &w->alerted_ns, &w->suppressed, now, window_ns(r)))
		return;
	{
		uint64_t evidence[EVENT_ALERT_EVIDENCE_MAX];
		int64_t start = window_start(w, id);
		struct alert_params p = {
		    .has_value = true,
		    .value = value,
		    .start_ns = start,
		    .evidence = evidence,
		    .n_evidence = window_evidence(w, start, evidence),
		    .evidence_count = window_total(w, id, true),
		    .suppressed = w->suppressed,
		};

		send_alert(rs, r, f, table, &p);
		w->suppressed = 0;
	}
}

static void match_event(struct rules *rs, struct rule *r, const struct rule_facts *f, size_t table)
{
	int64_t now = f->ev->time_ns;
	struct suppression *s;
	const char *key;
	size_t len;
	uint64_t seq = f->ev->seq;

	if (!(key = rule_key(rs, r, f, table, &len)))
		return;
	s = (struct suppression *)groups_get(&r->groups, key, len, sizeof(*s), now);
	if (!s)
		return;
	s->count++;
	if (may_alert(rs, &s->alerted_ns, &s->suppressed, now, window_ns(r))) {
		struct alert_params p = {
		    .start_ns = now,
		    .evidence = &seq,
		    .n_evidence = 1,
		    .evidence_count = 1,
		    .suppressed = s->suppressed,
		    .about_one_event = true,
		};

		send_alert(rs, r, f, table, &p);
		s->suppressed = 0;
	}
}

static void first_seen_event(struct rules *rs, struct rule *r, const struct rule_facts *f,
			     size_t table)
{
	int64_t now = f->ev->time_ns;
	uint64_t seq = f->ev->seq;
	struct group *g;
	const char *key;
	size_t len;

	if (!(key = rule_key(rs, r, f, table, &len)))
		return;
	if (groups_get(&r->groups, key, len, 0, now))
		return; /* seen before: now more recently */
	g = groups_get(&r->groups, key, len, sizeof(*g), now);
	if (!g)
		return;
	rs->state_dirty = true;
	if (now >= r->learn_until_ns) {
		struct alert_params p = {
		    .start_ns = now,
		    .evidence = &seq,
		    .n_evidence = 1,
		    .evidence_count = 1,
		    .about_one_event = true,
		};

		send_alert(rs, r, f, table, &p);
	}
}

static void sequence_event(struct rules *rs, struct rule *r, const struct rule_facts *f)
{
	const struct config_detect_rule *c = r->cfg;
	int64_t now = f->ev->time_ns, within = c->window_s * NS;
	struct sequence *s;
	const char *key;
	size_t len;
	bool first = rule_where_matches(&r->steps[0], f), later = false;
	size_t k;

	for (k = 1; k < c->n_steps && !later; k++)
		later = rule_where_matches(&r->steps[k], f);
	if ((!first && !later) || !(key = rule_key(rs, r, f, 0, &len)))
		return;
	s = (struct sequence *)groups_find(&r->groups, key, len);
	if (s && s->next && now - s->start_ns > within)
		s->next = 0; /* too late: start again */
	if (s && s->next && rule_where_matches(&r->steps[s->next], f)) {
		s->seqs[s->next++] = f->ev->seq;
		s->g.used_ns = now;
		if (s->next < c->n_steps)
			return;
		s->next = 0;
		if (may_alert(rs, &s->alerted_ns, &s->suppressed, now, within)) {
			struct alert_params p = {
			    .start_ns = s->start_ns,
			    .evidence = s->seqs,
			    .n_evidence = c->n_steps,
			    .evidence_count = c->n_steps,
			    .suppressed = s->suppressed,
			    .about_one_event = true,
			};

			send_alert(rs, r, f, 0, &p);
			s->suppressed = 0;
		}
		return;
	}
	if (!first || (s && s->next))
		return;
	s = (struct sequence *)groups_get(&r->groups, key, len, sizeof(*s), now);
	if (!s)
		return;
	s->next = 1;
	s->start_ns = now;
	s->seqs[0] = f->ev->seq;
}

static void rule_event(struct rules *rs, struct rule *r, const struct rule_facts *f)
{
	size_t table, n_tables = 1;

	if (r->cfg->kind == CONFIG_DETECT_SEQUENCE) {
		sequence_event(rs, r, f);
		return;
	}
	if (!rule_where_matches(&r->where, f))
		return;
	/* Grouped by table, a statement counts for each table it names. */
	if (groups_by_table(r)) {
		n_tables = rule_facts_tables(f);
		if (!n_tables)
			return;
	}
	for (table = 0; table < n_tables; table++) {
		switch (r->cfg->kind) {
		case CONFIG_DETECT_THRESHOLD:
			threshold_event(rs, r, f, table);
			break;
		case CONFIG_DETECT_MATCH:
			match_event(rs, r, f, table);
			break;
		case CONFIG_DETECT_FIRST_SEEN:
			first_seen_event(rs, r, f, table);
			break;
		default:
			break;
		}
	}
}

void rules_event(struct rules *rs, const struct event *ev)
{
	struct rule_facts f;
	size_t i;

	if (!rs || !rs->n_rules || !rule_facts_init(&f, ev))
		return;
	rs->stats.events++;
	rs->stamp++;
	rule_facts_tag_bits(&f, &rs->tags);
	for (i = 0; i < rs->n_rules; i++)
		rule_event(rs, &rs->rules[i], &f);
}

void rules_tick(struct rules *rs, int64_t now_ns)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->n_rules; i++) {
		struct rule *r = &rs->rules[i];

		if (r->cfg->kind != CONFIG_DETECT_FIRST_SEEN)
			groups_expire(&r->groups, now_ns - window_ns(r));
	}
	if (rs->state_dirty)
		first_seen_save(rs);
}
