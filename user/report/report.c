// SPDX-License-Identifier: GPL-2.0
/*
 * custos report's lines: each parsed with jansson (a tree per line, freed
 * at once; the command reads about 70 MB/s of events on one core of the
 * development VM, 4 GB a minute, most of it in the parse), the fields the
 * report reads checked against the schema's types, then summed into the
 * totals and the groups of the line's keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_priv.h"
#include "report/when.h"

/* A string of the line: s NULL when absent. */
struct sv {
	const char *s;
	size_t len;
};

/* Reading a line's fields: the first one with the wrong type, if any. */
struct parse {
	const char *bad;
	const char *why;
};

/* What an event adds to its groups. */
struct facts {
	int64_t time_ns;
	bool denied, statement;
	uint64_t bytes_read, bytes_sent, rows;
	uint32_t path, endpoint, program, human; /* name ids, 0: none */
};

static const char *const skip_names[] = {
    [REPORT_SKIP_NOT_JSON] = "not_json", [REPORT_SKIP_BAD_FIELD] = "bad_field",
    [REPORT_SKIP_NO_TIME] = "no_time",	 [REPORT_SKIP_TRUNCATED] = "truncated",
    [REPORT_SKIP_TOO_LONG] = "too_long",
};
_Static_assert(sizeof(skip_names) / sizeof(skip_names[0]) == REPORT_SKIP_N, "a name each");

static const char *const skip_texts[] = {
    [REPORT_SKIP_NOT_JSON] = "not JSON",
    [REPORT_SKIP_BAD_FIELD] = "with a field of the wrong type",
    [REPORT_SKIP_NO_TIME] = "without a time",
    [REPORT_SKIP_TRUNCATED] = "cut short",
    [REPORT_SKIP_TOO_LONG] = "longer than 16 MiB",
};
_Static_assert(sizeof(skip_texts) / sizeof(skip_texts[0]) == REPORT_SKIP_N, "a text each");

const char *report_skip_name(enum report_skip why)
{
	return why < REPORT_SKIP_N ? skip_names[why] : "?";
}

const char *report_skip_text(enum report_skip why)
{
	return why < REPORT_SKIP_N ? skip_texts[why] : "?";
}

static void group_init(struct group *g, uint32_t key)
{
	*g = (struct group){.key = key, .first_ns = INT64_MAX, .last_ns = INT64_MIN};
}

static void group_free(struct group *g)
{
	idset_free(&g->files);
	idset_free(&g->tables);
	idset_free(&g->endpoints);
	idset_free(&g->programs);
	idset_free(&g->users);
}

struct report *report_new(const struct report_options *opt)
{
	struct report *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->opt = *opt;
	group_init(&r->total, 0);
	return r;
}

static void tallies_free(struct hashmap *m)
{
	size_t it = 0;
	uint64_t key;
	void *value;

	while (hashmap_next(m, &it, &key, &value))
		free(value);
	free(m->slots);
}

void report_free(struct report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_groups; i++) {
		group_free(r->groups[i]);
		free(r->groups[i]);
	}
	free(r->groups);
	free(r->group_of);
	group_free(&r->total);
	names_free(&r->names);
	idset_free(&r->hosts);
	free(r->tables.v);
	free(r->keys.v);
	free(r->alerts);
	tallies_free(&r->alerts_by_rule);
	tallies_free(&r->gaps_by_reason);
	free(r);
}

const struct report_input *report_input(const struct report *r)
{
	return &r->in;
}

const struct report_skip_note *report_skip_note(const struct report *r, enum report_skip why)
{
	return &r->skips[why];
}

__attribute__((format(printf, 5, 6))) static int skip(struct report *r, enum report_skip why,
						      const char *file, uint64_t line_no,
						      const char *fmt, ...)
{
	struct report_skip_note *note = &r->skips[why];
	va_list ap;

	r->in.skipped++;
	r->in.skipped_by[why]++;
	if (note->file)
		return 1;
	note->file = file ?: "-";
	note->line = line_no;
	va_start(ap, fmt);
	vsnprintf(note->detail, sizeof(note->detail), fmt, ap);
	va_end(ap);
	return 1;
}

void report_skip_line(struct report *r, enum report_skip why, const char *file, uint64_t line_no)
{
	r->in.lines++;
	skip(r, why, file, line_no, "%s", report_skip_text(why));
}

/* ---------------------------------------------------------------- fields */

static void bad(struct parse *p, const char *field, const char *why)
{
	if (!p->bad) {
		p->bad = field;
		p->why = why;
	}
}

/* An object member that must be an object if present (field: its dotted name). */
static json_t *get_obj(json_t *o, const char *key, const char *field, struct parse *p)
{
	json_t *v = json_object_get(o, key);

	if (v && !json_is_object(v)) {
		bad(p, field, "is not an object");
		return NULL;
	}
	return v;
}

static struct sv sv_of(json_t *v)
{
	return (struct sv){.s = json_string_value(v), .len = json_string_length(v)};
}

/* A string member; null too where the schema allows it. */
static struct sv get_str(json_t *o, const char *key, const char *field, bool nullable,
			 struct parse *p)
{
	json_t *v = json_object_get(o, key);

	if (!v || (nullable && json_is_null(v)))
		return (struct sv){};
	if (!json_is_string(v)) {
		bad(p, field, "is not a string");
		return (struct sv){};
	}
	return sv_of(v);
}

/* A count: an integer from 0 on; 0 when absent. */
static uint64_t get_count(json_t *o, const char *key, const char *field, struct parse *p)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		bad(p, field, "is not an integer");
		return 0;
	}
	if (json_integer_value(v) < 0) {
		bad(p, field, "is negative");
		return 0;
	}
	return json_integer_value(v);
}

static struct report_num get_num(json_t *o, const char *key, const char *field, struct parse *p)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return (struct report_num){};
	if (json_is_integer(v))
		return (struct report_num){.set = true, .is_int = true, .i = json_integer_value(v)};
	if (json_is_real(v))
		return (struct report_num){.set = true, .d = json_real_value(v)};
	bad(p, field, "is not a number");
	return (struct report_num){};
}

static bool is(struct sv v, const char *s)
{
	return v.s && v.len == strlen(s) && !memcmp(v.s, s, v.len);
}

static bool set(struct sv v)
{
	return v.s && v.len;
}

/* The first of a, b, c that is there and not empty. */
static struct sv first_set(struct sv a, struct sv b, struct sv c)
{
	return set(a) ? a : set(b) ? b : set(c) ? c : (struct sv){};
}

static int id_of(struct report *r, struct sv v, uint32_t *id)
{
	*id = 0;
	if (!v.s)
		return 0;
	*id = names_id(&r->names, v.s, v.len);
	return *id ? 0 : -ENOMEM;
}

/* Room for n ids in b, emptied. */
static int idbuf_reserve(struct idbuf *b, size_t n)
{
	uint32_t *v;

	b->n = 0;
	if (n <= b->cap)
		return 0;
	v = realloc(b->v, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	b->v = v;
	b->cap = n;
	return 0;
}

/* b holds the id of v alone, or nothing if v is absent. */
static int idbuf_one(struct report *r, struct idbuf *b, struct sv v)
{
	if (idbuf_reserve(b, 1) || id_of(r, v, &b->v[0]))
		return -ENOMEM;
	b->n = v.s ? 1 : 0;
	return 0;
}

/* ---------------------------------------------------------------- groups */

static struct group *group_get(struct report *r, uint32_t key)
{
	uint32_t *slot = key ? NULL : &r->no_key;
	struct group *g, **groups;
	size_t n;

	if (key) {
		if (key >= r->n_group_of) {
			n = r->n_group_of ? r->n_group_of : 1024;
			while (n <= key)
				n *= 2;
			slot = realloc(r->group_of, n * sizeof(*slot));
			if (!slot)
				return NULL;
			memset(slot + r->n_group_of, 0, (n - r->n_group_of) * sizeof(*slot));
			r->group_of = slot;
			r->n_group_of = n;
		}
		slot = &r->group_of[key];
	}
	if (*slot)
		return r->groups[*slot - 1];
	if (r->n_groups == r->cap_groups) {
		n = r->cap_groups ? 2 * r->cap_groups : 64;
		groups = realloc(r->groups, n * sizeof(*groups));
		if (!groups)
			return NULL;
		r->groups = groups;
		r->cap_groups = n;
	}
	g = malloc(sizeof(*g));
	if (!g)
		return NULL;
	group_init(g, key);
	r->groups[r->n_groups++] = g;
	*slot = r->n_groups;
	return g;
}

static int add_id(struct idset *s, uint32_t id)
{
	return id && idset_add(s, id) < 0 ? -ENOMEM : 0;
}

static int group_add_event(struct group *g, const struct facts *f, const struct idbuf *tables,
			   uint64_t stamp)
{
	size_t i;
	int ret = 0;

	if (g->stamp == stamp)
		return 0;
	g->stamp = stamp;
	g->events++;
	g->denied += f->denied;
	g->statements += f->statement;
	g->bytes_read = sat_add(g->bytes_read, f->bytes_read);
	g->bytes_sent = sat_add(g->bytes_sent, f->bytes_sent);
	g->rows = sat_add(g->rows, f->rows);
	if (f->time_ns < g->first_ns)
		g->first_ns = f->time_ns;
	if (f->time_ns > g->last_ns)
		g->last_ns = f->time_ns;
	ret |= add_id(&g->files, f->path);
	ret |= add_id(&g->endpoints, f->endpoint);
	ret |= add_id(&g->programs, f->program);
	ret |= add_id(&g->users, f->human);
	for (i = 0; i < tables->n; i++)
		ret |= add_id(&g->tables, tables->v[i]);
	return ret ? -ENOMEM : 0;
}

/*
 * An event (f), or an alert (f NULL), into the groups of its keys (in
 * r->keys; none: the group without a key).
 */
static int count_in_groups(struct report *r, const struct facts *f)
{
	size_t i, n_keys = r->keys.n;
	struct group *g;
	int ret = 0;

	for (i = 0; i < (n_keys ?: 1) && ret == 0; i++) {
		g = group_get(r, n_keys ? r->keys.v[i] : 0);
		if (!g)
			return -ENOMEM;
		if (f) {
			ret = group_add_event(g, f, &r->tables, r->stamp);
		} else if (g->stamp != r->stamp) {
			g->stamp = r->stamp;
			g->alerts++;
		}
	}
	return ret;
}

/* ---------------------------------------------------------------- events */

/* custos.db.tables as ids in r->tables; every element must be a string. */
static int table_ids(struct report *r, json_t *tables, struct parse *p)
{
	size_t i, size = json_array_size(tables);
	json_t *t;

	r->tables.n = 0;
	if (tables && !json_is_array(tables)) {
		bad(p, "custos.db.tables", "is not an array");
		return 0;
	}
	json_array_foreach(tables, i, t)
	{
		if (!json_is_string(t)) {
			bad(p, "custos.db.tables", "has an element that is not a string");
			return 0;
		}
	}
	if (idbuf_reserve(&r->tables, size))
		return -ENOMEM;
	json_array_foreach(tables, i, t)
	{
		if (id_of(r, sv_of(t), &r->tables.v[r->tables.n]))
			return -ENOMEM;
		r->tables.n++;
	}
	return 0;
}

/* Who: the fields the human and the program are taken from. */
struct who {
	struct sv audit_name, user_name, user_id, executable, process_name;
};

static struct who read_who(json_t *root, struct parse *p)
{
	json_t *user = get_obj(root, "user", "user", p);
	json_t *audit = get_obj(user, "audit", "user.audit", p);
	json_t *process = get_obj(root, "process", "process", p);

	return (struct who){
	    .audit_name = get_str(audit, "name", "user.audit.name", false, p),
	    .user_name = get_str(user, "name", "user.name", false, p),
	    .user_id = get_str(user, "id", "user.id", false, p),
	    .executable = get_str(process, "executable", "process.executable", false, p),
	    .process_name = get_str(process, "name", "process.name", false, p),
	};
}

static struct sv human(const struct who *w)
{
	return first_set(w->audit_name, w->user_name, w->user_id);
}

static struct sv program(const struct who *w)
{
	return first_set(w->executable, w->process_name, (struct sv){});
}

/* The event's keys by the report's grouping, into r->keys (its tables are in r->tables). */
static int event_keys(struct report *r, const struct who *who, struct sv rule)
{
	switch (r->opt.by) {
	case REPORT_BY_USER:
		return idbuf_one(r, &r->keys, human(who));
	case REPORT_BY_PROCESS:
		return idbuf_one(r, &r->keys, program(who));
	case REPORT_BY_RULE:
		return idbuf_one(r, &r->keys, rule);
	case REPORT_BY_TABLE:
		break;
	}
	if (idbuf_reserve(&r->keys, r->tables.n))
		return -ENOMEM;
	if (r->tables.n)
		memcpy(r->keys.v, r->tables.v, r->tables.n * sizeof(*r->keys.v));
	r->keys.n = r->tables.n;
	return 0;
}

/* A file, database or network event. */
static int take_event(struct report *r, json_t *root, struct sv category, struct sv action,
		      struct sv outcome, struct facts *f, struct parse *p)
{
	json_t *custos = get_obj(root, "custos", "custos", p);
	json_t *io = get_obj(custos, "io", "custos.io", p);
	struct sv rule = get_str(custos, "rule", "custos.rule", true, p);
	bool summary = is(action, "close") || is(action, "flush");
	bool failed = is(outcome, "failure");
	struct who who = read_who(root, p);
	struct sv path = {};
	uint32_t rule_id;
	int ret;

	r->tables.n = 0;
	if (is(category, "file")) {
		path = get_str(get_obj(root, "file", "file", p), "path", "file.path", false, p);
		f->denied = is(action, "open") && failed;
		if (!(summary || is(action, "mmap") || (is(action, "open") && !failed)))
			path = (struct sv){};
		if (summary)
			f->bytes_read = get_count(io, "bytes_read", "custos.io.bytes_read", p);
	} else if (is(category, "network")) {
		if (summary) {
			f->bytes_read =
			    get_count(io, "bytes_received", "custos.io.bytes_received", p);
			f->bytes_sent = get_count(io, "bytes_sent", "custos.io.bytes_sent", p);
		}
	} else {
		json_t *db = get_obj(root, "db", "db", p);
		json_t *tables = json_object_get(get_obj(custos, "db", "custos.db", p), "tables");

		f->statement = is(action, "query");
		f->rows = get_count(get_obj(db, "response", "db.response", p), "returned_rows",
				    "db.response.returned_rows", p);
		ret = table_ids(r, tables, p);
		if (ret)
			return ret;
	}
	if (p->bad)
		return 1;
	if (id_of(r, path, &f->path) || id_of(r, human(&who), &f->human) ||
	    id_of(r, program(&who), &f->program) || id_of(r, rule, &rule_id))
		return -ENOMEM;
	if (is(category, "network") && !failed)
		f->endpoint = rule_id;
	ret = group_add_event(&r->total, f, &r->tables, r->stamp);
	if (ret == 0)
		ret = event_keys(r, &who, rule);
	if (ret == 0)
		ret = count_in_groups(r, f);
	r->in.events++;
	return ret;
}

/* ---------------------------------------------------------------- alerts */

/*
 * The value of field in custos.alert.group: [{name, value}] since schema
 * version 2, {field: value} in the streams of older agents.
 */
static json_t *group_value(json_t *group, const char *field)
{
	json_t *e;
	size_t i;

	if (!json_is_array(group))
		return json_object_get(group, field);
	json_array_foreach(group, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));

		if (name && !strcmp(name, field))
			return json_object_get(e, "value");
	}
	return NULL;
}

/* A field of the alert if it is there, else the same in custos.alert.group, if a string. */
static struct sv alert_field(struct sv own, json_t *group, const char *field)
{
	json_t *v = group_value(group, field);

	if (set(own))
		return own;
	return json_is_string(v) && json_string_length(v) ? sv_of(v) : (struct sv){};
}

/* Who an alert is about: its own fields, each else the same field of its group. */
static void alert_who(struct who *w, json_t *group)
{
	w->audit_name = alert_field(w->audit_name, group, "user.audit.name");
	w->user_name = alert_field(w->user_name, group, "user.name");
	w->user_id = alert_field(w->user_id, group, "user.id");
	w->executable = alert_field(w->executable, group, "process.executable");
	w->process_name = alert_field(w->process_name, group, "process.name");
}

/* The alert's keys by the report's grouping, into r->keys. */
static int alert_keys(struct report *r, json_t *custos, json_t *group, const struct who *who,
		      struct parse *p)
{
	struct sv rule = get_str(custos, "rule", "custos.rule", true, p);
	struct sv table;
	int ret;

	if (r->opt.by != REPORT_BY_TABLE)
		return event_keys(r, who, alert_field(rule, group, "custos.rule"));
	ret = table_ids(r, json_object_get(get_obj(custos, "db", "custos.db", p), "tables"), p);
	if (ret || r->tables.n)
		return ret ?: event_keys(r, who, rule);
	table = alert_field((struct sv){}, group, "custos.db.tables");
	table = alert_field(table, group, "db.collection.name");
	return idbuf_one(r, &r->keys, table);
}

/* custos.alert.group: an array (schema version 2 on) or an object (before), or NULL. */
static json_t *get_group(json_t *alert, struct parse *p)
{
	json_t *v = json_object_get(alert, "group");

	if (v && !json_is_object(v) && !json_is_array(v)) {
		bad(p, "custos.alert.group", "is neither an array nor an object");
		return NULL;
	}
	return v;
}

/* A rule's alert: counted in the totals and its group, listed, tallied by rule. */
static int take_alert(struct report *r, json_t *root, struct sv category, int64_t time_ns,
		      struct parse *p)
{
	json_t *custos = get_obj(root, "custos", "custos", p);
	json_t *alert = get_obj(custos, "alert", "custos.alert", p);
	json_t *group = get_group(alert, p);
	json_t *rule = get_obj(root, "rule", "rule", p);
	json_t *evidence = get_obj(alert, "evidence", "custos.alert.evidence", p);
	struct sv rule_name = get_str(rule, "name", "rule.name", false, p);
	struct sv rule_id = get_str(rule, "id", "rule.id", false, p);
	struct sv kind = get_str(alert, "kind", "custos.alert.kind", false, p);
	struct sv window = get_str(alert, "window", "custos.alert.window", false, p);
	struct report_alert a = {
	    .time_ns = time_ns,
	    .value = get_num(alert, "value", "custos.alert.value", p),
	    .threshold = get_num(alert, "threshold", "custos.alert.threshold", p),
	    .suppressed = get_count(alert, "suppressed", "custos.alert.suppressed", p),
	    .evidence = get_num(evidence, "count", "custos.alert.evidence.count", p),
	};
	struct who who = read_who(root, p);
	struct tally *t;
	void *old;
	int ret;

	alert_who(&who, group);
	ret = alert_keys(r, custos, group, &who, p);
	if (ret)
		return ret;
	if (p->bad)
		return 1;
	if (id_of(r, rule_name, &a.rule) || id_of(r, rule_id, &a.rule_id) ||
	    id_of(r, human(&who), &a.human) || id_of(r, category, &a.category) ||
	    id_of(r, kind, &a.kind) || id_of(r, window, &a.window))
		return -ENOMEM;
	r->in.alerts++;
	r->total.alerts++;
	r->suppressed = sat_add(r->suppressed, a.suppressed);
	ret = count_in_groups(r, NULL);
	if (ret)
		return ret;
	t = hashmap_get(&r->alerts_by_rule, a.rule);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || hashmap_put(&r->alerts_by_rule, a.rule, t, &old)) {
			free(t);
			return -ENOMEM;
		}
	}
	t->n++;
	if (r->n_alerts == REPORT_ALERTS_MAX)
		return 0;
	if (r->n_alerts == r->cap_alerts) {
		size_t cap = r->cap_alerts ? 2 * r->cap_alerts : 64;
		struct report_alert *v = realloc(r->alerts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->alerts = v;
		r->cap_alerts = cap;
	}
	r->alerts[r->n_alerts++] = a;
	return 0;
}

/* The agent's gap event: events it lost, and why. */
static int take_gap(struct report *r, json_t *root, struct parse *p)
{
	json_t *gap = get_obj(get_obj(root, "custos", "custos", p), "gap", "custos.gap", p);
	uint64_t count = get_count(gap, "count", "custos.gap.count", p);
	struct sv reason = get_str(gap, "reason", "custos.gap.reason", false, p);
	struct tally *t;
	uint32_t id;
	void *old;

	if (p->bad)
		return 1;
	if (id_of(r, reason, &id))
		return -ENOMEM;
	r->in.gaps++;
	r->gaps++;
	r->lost = sat_add(r->lost, count);
	t = hashmap_get(&r->gaps_by_reason, id);
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || hashmap_put(&r->gaps_by_reason, id, t, &old)) {
			free(t);
			return -ENOMEM;
		}
	}
	t->n++;
	t->sum = sat_add(t->sum, count);
	return 0;
}

/* ---------------------------------------------------------------- lines */

/* When the line happened: @timestamp; for an alert without one, event.end or event.start. */
static int line_time(json_t *root, json_t *event, bool alert, int64_t *ns, const char **why)
{
	const char *const fields[] = {"end", "start"};
	json_t *ts = json_object_get(root, "@timestamp");
	size_t i;

	for (i = 0; !ts && alert && i < 2; i++)
		ts = json_object_get(event, fields[i]);
	if (!ts) {
		*why = "no @timestamp";
		return -EINVAL;
	}
	if (!json_is_string(ts)) {
		*why = "@timestamp is not a string";
		return -EINVAL;
	}
	switch (when_rfc3339(json_string_value(ts), json_string_length(ts), ns)) {
	case 0:
		return 0;
	case -ERANGE:
		*why = "@timestamp is out of range (years 1678 to 2261)";
		return -ERANGE;
	default:
		*why = "@timestamp is not an RFC 3339 time";
		return -EINVAL;
	}
}

/* A line that is a JSON object. 0 (used, filtered or ignored), 1 skipped, -ENOMEM. */
static int take_object(struct report *r, json_t *root, const char *file, uint64_t line_no)
{
	struct parse p = {};
	json_t *event = get_obj(root, "event", "event", &p);
	struct sv kind = get_str(event, "kind", "event.kind", false, &p);
	struct sv category = get_str(event, "category", "event.category", false, &p);
	struct sv action = get_str(event, "action", "event.action", false, &p);
	struct sv dataset = get_str(event, "dataset", "event.dataset", false, &p);
	struct sv outcome = get_str(event, "outcome", "event.outcome", false, &p);
	struct sv host = get_str(get_obj(root, "host", "host", &p), "name", "host.name", false, &p);
	bool alert = is(kind, "alert");
	struct facts f = {};
	const char *why;
	uint32_t host_id;
	int ret;

	if (p.bad)
		return skip(r, REPORT_SKIP_BAD_FIELD, file, line_no, "%s %s", p.bad, p.why);
	if (line_time(root, event, alert, &f.time_ns, &why))
		return skip(r, REPORT_SKIP_NO_TIME, file, line_no, "%s", why);
	if (f.time_ns < r->opt.since_ns || f.time_ns >= r->opt.until_ns) {
		r->in.filtered++;
		return 0;
	}
	if (alert && is(action, "gap") && is(dataset, "custos.agent")) {
		ret = take_gap(r, root, &p);
	} else if (alert) {
		ret = take_alert(r, root, category, f.time_ns, &p);
	} else if (is(dataset, "custos.agent")) {
		r->in.agent++;
		r->runs += is(action, "agent-start");
		ret = 0;
	} else if (is(kind, "event") &&
		   (is(category, "file") || is(category, "database") || is(category, "network"))) {
		ret = take_event(r, root, category, action, outcome, &f, &p);
	} else {
		r->in.ignored++;
		return 0;
	}
	if (ret == 1)
		return skip(r, REPORT_SKIP_BAD_FIELD, file, line_no, "%s %s", p.bad, p.why);
	if (ret == 0 && id_of(r, host, &host_id) == 0 && add_id(&r->hosts, host_id) == 0)
		return 0;
	return -ENOMEM;
}

int report_add_line(struct report *r, const char *line, size_t len, const char *file,
		    uint64_t line_no)
{
	const char *nul;
	json_error_t err;
	json_t *root;
	int ret;

	r->in.lines++;
	r->stamp++;
	if (len == 0) {
		r->in.ignored++;
		return 0;
	}
	if (len > REPORT_LINE_MAX)
		return skip(r, REPORT_SKIP_TOO_LONG, file, line_no, "%s",
			    report_skip_text(REPORT_SKIP_TOO_LONG));
	nul = memchr(line, '\0', len);
	if (nul)
		return skip(r, REPORT_SKIP_NOT_JSON, file, line_no, "a NUL byte (byte %zu)",
			    (size_t)(nul - line) + 1);
	/* Strings may hold \u0000 (SQL text is bytes); a name is then kept with its length. */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!root && json_error_code(&err) == json_error_premature_end_of_input)
		return skip(r, REPORT_SKIP_TRUNCATED, file, line_no,
			    "the line ends inside its JSON");
	if (!root)
		return skip(r, REPORT_SKIP_NOT_JSON, file, line_no, "%.160s (column %d)", err.text,
			    err.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return skip(r, REPORT_SKIP_NOT_JSON, file, line_no, "not an object");
	}
	ret = take_object(r, root, file, line_no);
	json_decref(root);
	return ret;
}

void report_sums(const struct report *r, struct report_sums *s)
{
	const struct group *t = &r->total;

	*s = (struct report_sums){
	    .events = t->events,
	    .denied = t->denied,
	    .statements = t->statements,
	    .alerts = t->alerts,
	    .bytes_read = t->bytes_read,
	    .bytes_sent = t->bytes_sent,
	    .rows = t->rows,
	    .files = t->files.n,
	    .tables = t->tables.n,
	    .endpoints = t->endpoints.n,
	    .programs = t->programs.n,
	    .users = t->users.n,
	    .groups = r->n_groups,
	    .gaps = r->gaps,
	    .events_lost = r->lost,
	    .alerts_suppressed = r->suppressed,
	    .runs = r->runs,
	    .hosts = r->hosts.n,
	};
}
