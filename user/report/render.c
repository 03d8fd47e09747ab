// SPDX-License-Identifier: GPL-2.0
/* custos report's output: one JSON document, or text for a terminal. */
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "lib/termtext.h"
#include "output/output.h"
#include "report/report_priv.h"

#define KEY_COLS  16 /* the key column of the table, with the space after it */
#define TEXT_COLS 80

static const char *const by_names[] = {
    [REPORT_BY_USER] = "user",
    [REPORT_BY_PROCESS] = "process",
    [REPORT_BY_RULE] = "rule",
    [REPORT_BY_TABLE] = "table",
};

static const char *const by_titles[] = {
    [REPORT_BY_USER] = "USER",
    [REPORT_BY_PROCESS] = "PROGRAM",
    [REPORT_BY_RULE] = "RULE",
    [REPORT_BY_TABLE] = "TABLE",
};

/* ---------------------------------------------------------------- order */

static uint64_t data_of(const struct group *g)
{
	return sat_add(g->bytes_read, g->bytes_sent);
}

static int desc(uint64_t a, uint64_t b)
{
	return (a < b) - (a > b);
}

/* Most data first: bytes (read and sent), rows, statements, events, alerts; then by name. */
static int by_data(const void *a, const void *b, void *names)
{
	const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;
	const struct names *t = names;
	const struct name *nx, *ny;
	int c;

	if ((c = desc(data_of(x), data_of(y))) || (c = desc(x->rows, y->rows)) ||
	    (c = desc(x->statements, y->statements)) || (c = desc(x->events, y->events)) ||
	    (c = desc(x->alerts, y->alerts)))
		return c;
	if (!x->key || !y->key)
		return (x->key == 0) - (y->key == 0); /* the events without a key last */
	nx = &t->v[x->key];
	ny = &t->v[y->key];
	c = memcmp(nx->s, ny->s, nx->len < ny->len ? nx->len : ny->len);
	return c ? c : (nx->len > ny->len) - (nx->len < ny->len);
}

struct group **report_sorted_groups(const struct report *r)
{
	struct group **v = malloc((r->n_groups ?: 1) * sizeof(*v));

	if (!v)
		return NULL;
	if (r->n_groups)
		memcpy(v, r->groups, r->n_groups * sizeof(*v));
	qsort_r(v, r->n_groups, sizeof(*v), by_data, (void *)&r->names);
	return v;
}

/* ---------------------------------------------------------------- JSON */

/* Builds objects; any failure (no memory) is remembered, and the document dropped. */
struct builder {
	bool failed;
};

static json_t *put(struct builder *b, json_t *o, const char *key, json_t *v)
{
	if (!o || !v || json_object_set_new(o, key, v))
		b->failed = true;
	return o;
}

static json_t *count_json(uint64_t n)
{
	return json_integer(n > INT64_MAX ? INT64_MAX : (json_int_t)n);
}

static json_t *time_json(int64_t ns)
{
	char buf[40];

	if (ns == INT64_MAX || ns == INT64_MIN)
		return json_null();
	encode_time(ns, buf);
	return json_string(buf);
}

static json_t *name_json(const struct report *r, uint32_t id)
{
	return id ? json_stringn(r->names.v[id].s, r->names.v[id].len) : json_null();
}

static json_t *num_json(const struct report_num *n)
{
	if (!n->set)
		return json_null();
	return n->is_int ? json_integer(n->i) : json_real(n->d);
}

/* The names of a set, in order. */
static json_t *set_json(struct builder *b, const struct report *r, const struct idset *s)
{
	json_t *a = json_array();
	size_t i, n;
	uint32_t *ids = idset_sorted(s, &r->names, &n);

	if (s->n && !ids)
		b->failed = true;
	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, name_json(r, ids[i])))
			b->failed = true;
	free(ids);
	return a;
}

static json_t *group_json(struct builder *b, const struct report *r, const struct group *g,
			  bool key)
{
	json_t *o = json_object();

	if (key)
		put(b, o, "key", name_json(r, g->key));
	put(b, o, "events", count_json(g->events));
	put(b, o, "bytes_read", count_json(g->bytes_read));
	put(b, o, "bytes_sent", count_json(g->bytes_sent));
	put(b, o, "rows", count_json(g->rows));
	put(b, o, "statements", count_json(g->statements));
	put(b, o, "files", count_json(g->files.n));
	put(b, o, "tables", count_json(g->tables.n));
	put(b, o, "endpoints", count_json(g->endpoints.n));
	put(b, o, "denied", count_json(g->denied));
	put(b, o, "alerts", count_json(g->alerts));
	put(b, o, "first", time_json(g->first_ns));
	put(b, o, "last", time_json(g->last_ns));
	put(b, o, "users", set_json(b, r, &g->users));
	put(b, o, "programs", set_json(b, r, &g->programs));
	return o;
}

static json_t *input_json(struct builder *b, const struct report *r)
{
	json_t *o = json_object(), *by = json_object();
	int i;

	put(b, o, "lines", count_json(r->in.lines));
	put(b, o, "events", count_json(r->in.events));
	put(b, o, "alerts", count_json(r->in.alerts));
	put(b, o, "gaps", count_json(r->in.gaps));
	put(b, o, "agent", count_json(r->in.agent));
	put(b, o, "ignored", count_json(r->in.ignored));
	put(b, o, "filtered", count_json(r->in.filtered));
	put(b, o, "skipped", count_json(r->in.skipped));
	for (i = 0; i < REPORT_SKIP_N; i++)
		put(b, by, report_skip_name(i), count_json(r->in.skipped_by[i]));
	put(b, o, "skipped_by", by);
	put(b, o, "runs", count_json(r->runs));
	put(b, o, "hosts", count_json(r->hosts.n));
	return o;
}

static json_t *alert_json(struct builder *b, const struct report *r, const struct report_alert *a)
{
	json_t *o = json_object();

	put(b, o, "time", time_json(a->time_ns));
	put(b, o, "rule", name_json(r, a->rule));
	put(b, o, "rule_id", name_json(r, a->rule_id));
	put(b, o, "user", name_json(r, a->human));
	put(b, o, "category", name_json(r, a->category));
	put(b, o, "kind", name_json(r, a->kind));
	put(b, o, "value", num_json(&a->value));
	put(b, o, "threshold", num_json(&a->threshold));
	put(b, o, "window", name_json(r, a->window));
	put(b, o, "evidence_count", num_json(&a->evidence));
	put(b, o, "suppressed", count_json(a->suppressed));
	return o;
}

/* The keys of a tally map, by name, the one of no name (0) last; NULL if none or no memory. */
static uint32_t *tally_order(const struct report *r, const struct hashmap *m, size_t *n,
			     bool *failed)
{
	struct idset names = {};
	size_t it = 0;
	uint64_t key;
	uint32_t *ids, *v;
	void *value;

	*n = 0;
	while (hashmap_next(m, &it, &key, &value))
		if (key && idset_add(&names, key) < 0)
			*failed = true;
	ids = idset_sorted(&names, &r->names, n);
	if (names.n && !ids)
		*failed = true;
	idset_free(&names);
	if (hashmap_get(m, 0) && !*failed) {
		v = realloc(ids, (*n + 1) * sizeof(*v));
		if (!v) {
			*failed = true;
			return ids;
		}
		ids = v;
		ids[(*n)++] = 0;
	}
	return ids;
}

/* [{name_key: name, n_key: n[, sum_key: sum]}] of a tally map, by name. */
static json_t *tallies_json(struct builder *b, const struct report *r, const struct hashmap *m,
			    const char *name_key, const char *n_key, const char *sum_key)
{
	json_t *a = json_array(), *o;
	const struct tally *t;
	size_t i, n;
	uint32_t *ids = tally_order(r, m, &n, &b->failed);

	for (i = 0; i < n; i++) {
		t = hashmap_get(m, ids[i]);
		o = put(b, json_object(), name_key, name_json(r, ids[i]));
		put(b, o, n_key, count_json(t->n));
		if (sum_key)
			put(b, o, sum_key, count_json(t->sum));
		if (!a || !o || json_array_append_new(a, o))
			b->failed = true;
	}
	free(ids);
	return a;
}

json_t *report_json(const struct report *r)
{
	struct builder b = {};
	struct group **sorted = report_sorted_groups(r);
	json_t *o = json_object(), *groups = json_array(), *alerts = json_object(), *list;
	json_t *gaps = json_object();
	size_t i;

	if (!sorted)
		b.failed = true;
	put(&b, o, "by", json_string(by_names[r->opt.by]));
	put(&b, o, "since", time_json(r->opt.since_ns));
	put(&b, o, "until", time_json(r->opt.until_ns));
	put(&b, o, "input", input_json(&b, r));
	put(&b, o, "totals", group_json(&b, r, &r->total, false));
	for (i = 0; sorted && groups && i < r->n_groups; i++)
		if (json_array_append_new(groups, group_json(&b, r, sorted[i], true)))
			b.failed = true;
	put(&b, o, "groups", groups);
	put(&b, alerts, "count", count_json(r->total.alerts));
	put(&b, alerts, "suppressed", count_json(r->suppressed));
	put(&b, alerts, "by_rule", tallies_json(&b, r, &r->alerts_by_rule, "rule", "count", NULL));
	list = json_array();
	for (i = 0; list && i < r->n_alerts; i++)
		if (json_array_append_new(list, alert_json(&b, r, &r->alerts[i])))
			b.failed = true;
	put(&b, alerts, "list", list);
	put(&b, alerts, "not_listed", count_json(r->total.alerts - r->n_alerts));
	put(&b, o, "alerts", alerts);
	put(&b, gaps, "count", count_json(r->gaps));
	put(&b, gaps, "events_lost", count_json(r->lost));
	put(&b, gaps, "by_reason",
	    tallies_json(&b, r, &r->gaps_by_reason, "reason", "gaps", "events_lost"));
	put(&b, o, "gaps", gaps);
	free(sorted);
	if (b.failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---------------------------------------------------------------- text */

struct text {
	FILE *f;
	bool utf8;
	char *buf; /* a name escaped */
	size_t cap;
};

/* A name as the terminal may show it: r->names' id, escaped; "-" for none. Its columns. */
static const char *safe_name(struct text *x, const struct report *r, uint32_t id, size_t *cols)
{
	const struct name *n = id ? &r->names.v[id] : NULL;
	size_t need = n ? 4 * (size_t)n->len + 16 : 16, len;
	char *buf;

	if (need > x->cap) {
		buf = realloc(x->buf, need);
		if (!buf) {
			*cols = 1;
			return "?";
		}
		x->buf = buf;
		x->cap = need;
	}
	len = n ? output_safe_text(x->buf, x->cap, 0, n->s, n->len)
		: output_safe_text(x->buf, x->cap, 0, "-", 1);
	*cols = text_columns(x->buf, len, x->utf8);
	return x->buf;
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

/* Writes a name padded to width columns (at least one space after it); width 0: no padding. */
static void put_name(struct text *x, const struct report *r, uint32_t id, size_t width)
{
	size_t cols;

	fputs(safe_name(x, r, id, &cols), x->f);
	if (width)
		pad(x->f, cols < width ? width - cols : 1);
}

/* "2026-12-01 08:00:03" */
static const char *fmt_time(int64_t ns, char out[40])
{
	if (ns == INT64_MAX || ns == INT64_MIN)
		return strcpy(out, "-");
	encode_time(ns, out);
	out[10] = ' ';
	out[19] = '\0';
	return out;
}

static void table_row(struct text *x, const struct report *r, const struct group *g,
		      const char *label)
{
	char a[24], b[24], c[24], d[24], e[24], f[24], h[24], i[24];
	size_t cols;

	if (label) {
		fprintf(x->f, "%-*s", KEY_COLS, label);
	} else {
		fputs(safe_name(x, r, g->key, &cols), x->f);
		if (cols <= KEY_COLS) /* the numbers begin with a space */
			pad(x->f, KEY_COLS - cols);
		else /* the numbers on a line of their own */
			fprintf(x->f, "\n%*s", KEY_COLS, "");
	}
	fprintf(x->f, " %8s %8s %8s %6s %5s %6s %6s %6s\n", text_bytes(g->bytes_read, a),
		text_bytes(g->bytes_sent, b), text_count(g->rows, 8, c),
		text_count(g->statements, 6, d), text_count(g->files.n, 5, e),
		text_count(g->tables.n, 6, f), text_count(g->endpoints.n, 6, h),
		text_count(g->alerts, 6, i));
}

/* "    programs: a, b," wrapped at TEXT_COLS, the names escaped. */
static void name_list(struct text *x, const struct report *r, const char *label,
		      const struct idset *s)
{
	size_t i, n, cols, at, indent = 4 + strlen(label) + 2;
	uint32_t *ids;
	const char *name;

	if (!s->n)
		return;
	ids = idset_sorted(s, &r->names, &n);
	fprintf(x->f, "    %s: ", label);
	at = indent;
	for (i = 0; i < n; i++) {
		name = safe_name(x, r, ids[i], &cols);
		if (i > 0 && at + cols + 1 > TEXT_COLS) {
			fprintf(x->f, ",\n%*s", (int)indent, "");
			at = indent;
		} else if (i > 0) {
			fputs(", ", x->f);
			at += 2;
		}
		fputs(name, x->f);
		at += cols;
	}
	if (!ids)
		fputs("?", x->f); /* no memory to sort them */
	fputc('\n', x->f);
	free(ids);
}

static void details(struct text *x, const struct report *r, struct group *const *sorted)
{
	static const char *const titles[] = {
	    [REPORT_BY_USER] = "WHEN, WITH WHICH PROGRAMS",
	    [REPORT_BY_PROCESS] = "WHEN, BY WHOM",
	    [REPORT_BY_RULE] = "WHEN, BY WHOM, WITH WHICH PROGRAMS",
	    [REPORT_BY_TABLE] = "WHEN, BY WHOM, WITH WHICH PROGRAMS",
	};
	char first[40], last[40];
	size_t i, cols;

	fprintf(x->f, "\n%s\n", titles[r->opt.by]);
	for (i = 0; i < r->n_groups; i++) {
		const struct group *g = sorted[i];

		fputs(safe_name(x, r, g->key, &cols), x->f);
		if (g->events)
			fprintf(x->f, "  %s to %s\n", fmt_time(g->first_ns, first),
				fmt_time(g->last_ns, last));
		else
			fputs("  no events\n", x->f);
		if (r->opt.by != REPORT_BY_USER)
			name_list(x, r, "users", &g->users);
		if (r->opt.by != REPORT_BY_PROCESS)
			name_list(x, r, "programs", &g->programs);
		if (g->denied)
			fprintf(x->f, "    refused: %llu open%s\n", (unsigned long long)g->denied,
				g->denied == 1 ? "" : "s");
	}
}

/* "bulk-read 2, first-seen 1", by name. */
static void tallies_text(struct text *x, const struct report *r, const struct hashmap *m, bool sums)
{
	bool failed = false;
	size_t i, n, cols;
	uint32_t *ids = tally_order(r, m, &n, &failed);
	const struct tally *t;

	for (i = 0; i < n; i++) {
		t = hashmap_get(m, ids[i]);
		fprintf(x->f, "%s%s %llu", i ? ", " : "", safe_name(x, r, ids[i], &cols),
			(unsigned long long)(sums ? t->sum : t->n));
	}
	if (failed)
		fputs("...", x->f);
	free(ids);
}

static int num_text(char *buf, size_t len, const struct report_num *n)
{
	if (!n->set)
		return snprintf(buf, len, "-");
	if (n->is_int)
		return snprintf(buf, len, "%lld", (long long)n->i);
	return snprintf(buf, len, "%.6g", n->d);
}

static void alerts(struct text *x, const struct report *r)
{
	char when[40], value[64];
	size_t i;
	int n;

	fputs("\nALERTS  ", x->f);
	if (!r->total.alerts) {
		fputs("none\n", x->f);
		return;
	}
	fprintf(x->f, "%llu (", (unsigned long long)r->total.alerts);
	tallies_text(x, r, &r->alerts_by_rule, false);
	fputs(")", x->f);
	if (r->suppressed)
		fprintf(x->f, "; %llu more suppressed by their rules",
			(unsigned long long)r->suppressed);
	fprintf(x->f, "\n%-21s%-17s%-16sVALUE / THRESHOLD  WINDOW\n", "TIME", "RULE", "USER");
	for (i = 0; i < r->n_alerts; i++) {
		const struct report_alert *a = &r->alerts[i];

		fprintf(x->f, "%s  ", fmt_time(a->time_ns, when));
		put_name(x, r, a->rule, 17);
		put_name(x, r, a->human, 16);
		n = num_text(value, sizeof(value), &a->value);
		snprintf(value + n, sizeof(value) - n, " / ");
		num_text(value + n + 3, sizeof(value) - n - 3, &a->threshold);
		fprintf(x->f, "%-18s ", value);
		put_name(x, r, a->window, 0);
		fputc('\n', x->f);
	}
	if (r->total.alerts > r->n_alerts)
		fprintf(x->f, "(%llu more, not listed)\n",
			(unsigned long long)(r->total.alerts - r->n_alerts));
}

static void losses(struct text *x, const struct report *r)
{
	fputs("\nLOSSES  ", x->f);
	if (!r->gaps) {
		fputs("none\n", x->f);
		return;
	}
	fprintf(x->f, "%llu events lost in %llu gap%s (", (unsigned long long)r->lost,
		(unsigned long long)r->gaps, r->gaps == 1 ? "" : "s");
	tallies_text(x, r, &r->gaps_by_reason, true);
	fputs("): the sums above miss them\n", x->f);
}

void report_print_text(const struct report *r, FILE *f, bool utf8)
{
	struct text x = {.f = f, .utf8 = utf8};
	struct group **sorted = report_sorted_groups(r);
	char a[40], b[40];
	size_t i;

	fprintf(f, "custos report by %s (times in UTC)\n", by_names[r->opt.by]);
	fprintf(f, "  events   %llu", (unsigned long long)r->total.events);
	if (r->total.events)
		fprintf(f, ", %s to %s", fmt_time(r->total.first_ns, a),
			fmt_time(r->total.last_ns, b));
	fputc('\n', f);
	if (r->opt.since_ns != INT64_MIN || r->opt.until_ns != INT64_MAX)
		fprintf(f, "  period   since %s, until %s\n", fmt_time(r->opt.since_ns, a),
			fmt_time(r->opt.until_ns, b));
	fprintf(f, "  input    %llu lines, %llu agent run%s on %llu host%s\n",
		(unsigned long long)r->in.lines, (unsigned long long)r->runs,
		r->runs == 1 ? "" : "s", (unsigned long long)r->hosts.n,
		r->hosts.n == 1 ? "" : "s");
	if (r->in.skipped)
		fprintf(f, "  skipped  %llu lines (why: on stderr)\n",
			(unsigned long long)r->in.skipped);
	if (r->in.filtered)
		fprintf(f, "  outside  %llu lines, out of the period\n",
			(unsigned long long)r->in.filtered);
	if (!sorted) {
		fputs("(out of memory)\n", f);
		return;
	}
	if (!r->n_groups)
		fputs("\nno file, database or network event, no alert\n", f);
	else
		fprintf(f, "\n%-*s %8s %8s %8s %6s %5s %6s %6s %6s\n", KEY_COLS,
			by_titles[r->opt.by], "READ", "SENT", "ROWS", "STMTS", "FILES", "TABLES",
			"ENDPTS", "ALERTS");
	for (i = 0; i < r->n_groups; i++)
		table_row(&x, r, sorted[i], NULL);
	if (r->n_groups > 1) {
		fprintf(f, "%.*s\n", 77,
			"-------------------------------------------------------"
			"-------------------------------------------------");
		table_row(&x, r, &r->total, "all");
	}
	if (r->n_groups)
		details(&x, r, sorted);
	alerts(&x, r);
	losses(&x, r);
	free(sorted);
	free(x.buf);
}
