// SPDX-License-Identifier: GPL-2.0
/* custos top's model: event lines summed by human and program, rule and table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "report/when.h"
#include "top/top_priv.h"

#define NS 1000000000LL

struct top *top_new(void)
{
	struct top *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	groups_init(&t->rows, TOP_ROWS_MAX, NULL);
	groups_init(&t->rules, TOP_NAMES_MAX, NULL);
	groups_init(&t->tables, TOP_NAMES_MAX, NULL);
	return t;
}

void top_free(struct top *t)
{
	if (!t)
		return;
	groups_clear(&t->rows);
	groups_clear(&t->rules);
	groups_clear(&t->tables);
	free(t);
}

void top_set_now(struct top *t, int64_t real_ns)
{
	if (real_ns > t->now_ns)
		t->now_ns = real_ns;
}

static void counts_add(struct top_counts *a, const struct top_counts *b)
{
	a->files += b->files;
	a->rows += b->rows;
	a->bytes += b->bytes;
	a->statements += b->statements;
}

static void meter_add(struct top_meter *m, int64_t sec, int64_t now_sec, const struct top_counts *c)
{
	size_t slot = (size_t)(sec % TOP_WINDOW_S + TOP_WINDOW_S) % TOP_WINDOW_S;

	counts_add(&m->total, c);
	if (sec <= now_sec - TOP_WINDOW_S)
		return; /* older than the last minute: only in the totals */
	if (m->sec_of[slot] != sec) {
		m->sec_of[slot] = sec;
		m->sec[slot] = (struct top_counts){};
	}
	counts_add(&m->sec[slot], c);
}

void top_minute(const struct top_meter *m, int64_t now_sec, struct top_counts *out)
{
	size_t i;

	*out = (struct top_counts){};
	for (i = 0; i < TOP_WINDOW_S; i++)
		if (m->sec_of[i] > now_sec - TOP_WINDOW_S && m->sec_of[i] <= now_sec)
			counts_add(out, &m->sec[i]);
}

static void entry_add(struct top *t, struct groups *gs, const char *key, size_t len, int64_t sec,
		      const struct top_counts *c)
{
	uint64_t evicted = gs->evicted;
	struct top_entry *e =
	    (struct top_entry *)groups_get(gs, key, len, sizeof(struct top_entry), sec * NS);

	t->stats.forgotten += gs->evicted - evicted;
	if (!e)
		return;
	meter_add(&e->m, sec, t->now_ns / NS, c);
	if (sec > e->last_sec)
		e->last_sec = sec;
}

/* ---------------------------------------------------------------- fields */

/* The value at a dotted path of objects, or NULL. */
static json_t *field(json_t *root, const char *path)
{
	char part[32];
	const char *dot;
	size_t n;

	while (root && (dot = strchr(path, '.'))) {
		n = (size_t)(dot - path);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		root = json_object_get(root, part);
		path = dot + 1;
	}
	return json_object_get(root, path);
}

/* A string field: its text, or NULL when absent or null; *bad when it has another type. */
static const char *str(json_t *root, const char *path, size_t *len, bool *bad)
{
	json_t *v = field(root, path);

	*len = 0;
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	*len = json_string_length(v);
	return *len ? json_string_value(v) : NULL;
}

/* A string or, as ECS allows for categories, an array of them: the first. */
static const char *str_or_first(json_t *root, const char *path, bool *bad)
{
	json_t *v = field(root, path);

	if (json_is_array(v) && json_array_size(v))
		v = json_array_get(v, 0);
	if (!v || json_is_null(v) || json_is_array(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

/* A count field: 0 when absent; *bad when not a non-negative integer. */
static uint64_t count(json_t *root, const char *path, bool *bad)
{
	json_t *v = field(root, path);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*bad = true;
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

/* Who: the human, else the user, else the uid; "?" for none. */
static const char *human_of(json_t *root, size_t *len, bool *bad)
{
	static const char *const fields[] = {"user.audit.name", "user.name", "user.id"};
	const char *s;
	size_t i;

	for (i = 0; i < 3; i++)
		if ((s = str(root, fields[i], len, bad)))
			return s;
	*len = 1;
	return "?";
}

/* ---------------------------------------------------------------- lines */

/* What a file, database or network event adds. */
static struct top_counts access_counts(json_t *root, const char *category, const char *action,
				       bool *bad)
{
	bool summary = !strcmp(action, "close") || !strcmp(action, "flush");
	json_t *outcome = field(root, "event.outcome");
	bool failed = json_is_string(outcome) && !strcmp(json_string_value(outcome), "failure");
	struct top_counts c = {};

	if (!strcmp(category, "file")) {
		c.files = !strcmp(action, "open") && !failed;
		if (summary)
			c.bytes = count(root, "custos.io.bytes_read", bad);
	} else if (!strcmp(category, "network")) {
		if (summary)
			c.bytes = count(root, "custos.io.bytes_received", bad);
	} else {
		c.statements = !strcmp(action, "query");
		c.rows = count(root, "db.response.returned_rows", bad);
	}
	return c;
}

static void take_access(struct top *t, json_t *root, int64_t sec, const struct top_counts *c,
			bool *bad)
{
	size_t hlen, plen, rlen, i;
	const char *human = human_of(root, &hlen, bad);
	const char *program = str(root, "process.name", &plen, bad);
	const char *rule = str(root, "custos.rule", &rlen, bad);
	json_t *tables = field(root, "custos.db.tables"), *v;
	char key[512];

	if (tables && !json_is_array(tables))
		*bad = true;
	if (*bad)
		return;
	if (!program) {
		program = "?";
		plen = 1;
	}
	hlen = hlen < 255 ? hlen : 255;
	plen = plen < 255 ? plen : 255;
	memcpy(key, human, hlen);
	key[hlen] = '\0';
	memcpy(key + hlen + 1, program, plen);
	entry_add(t, &t->rows, key, hlen + 1 + plen, sec, c);
	if (rule)
		entry_add(t, &t->rules, rule, rlen, sec, c);
	json_array_foreach(tables, i, v) if (json_is_string(v) && json_string_length(v))
	    entry_add(t, &t->tables, json_string_value(v), json_string_length(v), sec, c);
	meter_add(&t->all, sec, t->now_ns / NS, c);
	t->stats.accesses++;
	counts_add(&t->stats.total, c);
}

static void copy_cut(char *out, size_t cap, const char *s, size_t len)
{
	len = len < cap - 1 ? len : cap - 1;
	memcpy(out, s ? s : "", s ? len : 0);
	out[s ? len : 0] = '\0';
}

static void take_alert(struct top *t, json_t *root, int64_t time_ns, bool *bad)
{
	struct top_alert *a = &t->alerts[t->n_alerts % TOP_ALERTS];
	json_t *value = field(root, "custos.alert.value");
	const char *s;
	size_t len;

	*a = (struct top_alert){.time_ns = time_ns};
	s = str(root, "rule.name", &len, bad);
	copy_cut(a->rule, sizeof(a->rule), s, len);
	s = str(root, "user.audit.name", &len, bad)
		?: str(root, "custos.alert.group.user.audit.name", &len, bad);
	if (!s)
		s = human_of(root, &len, bad);
	copy_cut(a->human, sizeof(a->human), s, len);
	if (json_is_integer(value))
		snprintf(a->value, sizeof(a->value), "%lld", (long long)json_integer_value(value));
	else if (json_is_string(value))
		copy_cut(a->value, sizeof(a->value), json_string_value(value),
			 json_string_length(value));
	if (*bad)
		return;
	t->n_alerts++;
	t->stats.alerts++;
}

static int take(struct top *t, json_t *root)
{
	size_t len;
	bool bad = false;
	const char *ts = str(root, "@timestamp", &len, &bad);
	const char *kind = str(root, "event.kind", &len, &bad);
	const char *category = str_or_first(root, "event.category", &bad);
	const char *action = str(root, "event.action", &len, &bad);
	int64_t ns;
	struct top_counts c;

	if (bad || !ts || when_rfc3339(ts, strlen(ts), &ns))
		return 1;
	top_set_now(t, ns);
	if (kind && !strcmp(kind, "alert")) {
		take_alert(t, root, ns, &bad);
		return bad;
	}
	if (action && !strcmp(action, "gap")) {
		t->stats.gaps++;
		t->stats.lost += count(root, "custos.gap.count", &bad);
		return bad;
	}
	if (!category || !action ||
	    (strcmp(category, "file") && strcmp(category, "network") &&
	     strcmp(category, "database")))
		return 0; /* the agent's own events, and anything else: not accesses */
	c = access_counts(root, category, action, &bad);
	if (!bad)
		take_access(t, root, ns / NS, &c, &bad);
	return bad;
}

int top_add_line(struct top *t, const char *line, size_t len)
{
	json_t *root;
	int ret;

	t->stats.lines++;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	ret = json_is_object(root) ? take(t, root) : 1;
	json_decref(root);
	t->stats.skipped += ret;
	return ret;
}

void top_skip_line(struct top *t)
{
	t->stats.lines++;
	t->stats.skipped++;
}

void top_stats(const struct top *t, struct top_stats *s)
{
	*s = t->stats;
}
