// SPDX-License-Identifier: GPL-2.0
/* custos top's screen: the model laid out in the terminal's columns and lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/encode.h"
#include "lib/termtext.h"
#include "output/output.h"
#include "top/top_priv.h"

#define NS	       1000000000LL
#define COUNTS_COLUMNS 28 /* FILES ROWS BYTES STMTS, with their spaces */

/* The text being laid out: lines of at most width columns. */
struct canvas {
	char *buf;
	size_t len, cap;
	unsigned width, col;
	bool utf8, oom;
	char esc[4 * 512 + 16];
};

static void put_raw(struct canvas *c, const char *s, size_t len)
{
	char *buf;
	size_t cap;

	if (c->oom)
		return;
	if (c->len + len + 1 > c->cap) {
		cap = c->cap ? 2 * c->cap : 4096;
		while (cap < c->len + len + 1)
			cap *= 2;
		if (!(buf = realloc(c->buf, cap))) {
			c->oom = true;
			return;
		}
		c->buf = buf;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, s, len);
	c->len += len;
	c->buf[c->len] = '\0';
}

static void spaces(struct canvas *c, size_t n)
{
	while (n--)
		put_raw(c, " ", 1);
}

/* A cell of width columns (cut to the line's end): s escaped, cut, padded left or right. */
static void cell(struct canvas *c, const char *s, size_t len, size_t width, bool right)
{
	size_t esc_len, fit, cols;

	if (c->col >= c->width)
		return;
	if (width > c->width - c->col)
		width = c->width - c->col;
	len = len < 512 ? len : 512;
	esc_len = output_safe_text(c->esc, sizeof(c->esc), 0, s, len);
	fit = text_fit(c->esc, esc_len, width, c->utf8);
	cols = text_columns(c->esc, fit, c->utf8);
	if (right)
		spaces(c, width - cols);
	put_raw(c, c->esc, fit);
	if (!right)
		spaces(c, width - cols);
	c->col += width;
}

static void text(struct canvas *c, size_t width, bool right, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	cell(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, width, right);
}

static void end_line(struct canvas *c)
{
	put_raw(c, "\n", 1);
	c->col = 0;
}

/* ---------------------------------------------------------------- sections */

static void counts(struct canvas *c, const struct top_counts *n)
{
	char a[24], b[24];

	text(c, 6, true, "%s", text_count(n->files, 5, a));
	text(c, 7, true, "%s", text_count(n->rows, 6, b));
	text(c, 9, true, "%s", text_bytes(n->bytes, a));
	text(c, 6, true, "%s", text_count(n->statements, 5, b));
}

static bool wide(const struct canvas *c)
{
	return c->width >= 2 * COUNTS_COLUMNS + 24;
}

static size_t name_columns(const struct canvas *c)
{
	return c->width - COUNTS_COLUMNS * (wide(c) ? 2 : 1);
}

static void header(struct canvas *c, const struct top *t, const struct top_screen_opts *o)
{
	size_t names = name_columns(c), left = names / 2;
	char when[40];

	encode_time(t->now_ns, when);
	when[19] = '\0';
	text(c, c->width, false, "custos top  %s  %s UTC", o->host ? o->host : "", when + 11);
	end_line(c);
	text(c, c->width, false, "accesses %llu  alerts %llu  lost %llu  skipped %llu",
	     (unsigned long long)t->stats.accesses, (unsigned long long)t->stats.alerts,
	     (unsigned long long)t->stats.lost, (unsigned long long)t->stats.skipped);
	end_line(c);
	spaces(c, names);
	c->col = names;
	text(c, COUNTS_COLUMNS, true, "%s", "------- last minute -------");
	if (wide(c))
		text(c, COUNTS_COLUMNS, true, "%s", "------- since start -------");
	end_line(c);
	text(c, left, false, "%s", "HUMAN");
	text(c, names - left, false, "%s", "PROGRAM");
	for (int i = 0; i < (wide(c) ? 2 : 1); i++) {
		text(c, 6, true, "%s", "FILES");
		text(c, 7, true, "%s", "ROWS");
		text(c, 9, true, "%s", "BYTES");
		text(c, 6, true, "%s", "STMTS");
	}
	end_line(c);
}

struct ranked {
	const struct top_entry *e;
	struct top_counts minute;
};

static uint64_t volume(const struct top_counts *n)
{
	return n->bytes + n->rows + n->files + n->statements;
}

/* Busiest in the last minute first, then since start, then the latest. */
static int by_activity(const void *pa, const void *pb)
{
	const struct ranked *a = pa, *b = pb;
	uint64_t va = volume(&a->minute), vb = volume(&b->minute);

	if (va != vb)
		return va < vb ? 1 : -1;
	va = volume(&a->e->m.total);
	vb = volume(&b->e->m.total);
	if (va != vb)
		return va < vb ? 1 : -1;
	if (a->e->last_sec != b->e->last_sec)
		return a->e->last_sec < b->e->last_sec ? 1 : -1;
	return strcmp(a->e->g.key, b->e->g.key);
}

/* The entries of gs, busiest first (malloc'd; NULL when empty or without memory). */
static struct ranked *ranked(struct groups *gs, int64_t now_sec, size_t *n)
{
	struct ranked *v = malloc((gs->map.len ?: 1) * sizeof(*v));
	struct group *g;

	*n = 0;
	if (!v)
		return NULL;
	for (g = groups_oldest(gs); g; g = groups_newer(gs, g)) {
		v[*n].e = (const struct top_entry *)g;
		top_minute(&v[*n].e->m, now_sec, &v[*n].minute);
		(*n)++;
	}
	qsort(v, *n, sizeof(*v), by_activity);
	return v;
}

static void people(struct canvas *c, struct top *t, size_t lines)
{
	size_t names = name_columns(c), left = names / 2, n, i, hlen;
	struct ranked *v = ranked(&t->rows, t->now_ns / NS, &n);
	const char *key;

	for (i = 0; i < lines; i++) {
		if (i < n) {
			key = v[i].e->g.key;
			hlen = strlen(key);
			cell(c, key, hlen, left - 1, false);
			spaces(c, 1);
			c->col++;
			cell(c, key + hlen + 1, v[i].e->g.len - hlen - 1, names - left, false);
			counts(c, &v[i].minute);
			if (wide(c))
				counts(c, &v[i].e->m.total);
		}
		end_line(c);
	}
	free(v);
}

/* "1.5 MiB", "120k rows" (rows when there are any), "-" */
static const char *amount(const struct top_counts *n, char out[32])
{
	char num[24];

	if (n->rows)
		snprintf(out, 32, "%s rows", text_count(n->rows, 5, num));
	else if (n->bytes)
		snprintf(out, 32, "%s", text_bytes(n->bytes, num));
	else if (n->files)
		snprintf(out, 32, "%s files", text_count(n->files, 5, num));
	else
		snprintf(out, 32, "-");
	return out;
}

/* One of the two halves: a name, the last minute, since start. */
static void busiest_cell(struct canvas *c, const struct ranked *r, size_t width)
{
	char a[32];

	if (!r) {
		spaces(c, width);
		c->col += width;
		return;
	}
	cell(c, r->e->g.key, r->e->g.len, width - 22, false);
	text(c, 11, true, "%s", amount(&r->minute, a));
	text(c, 11, true, "%s", amount(&r->e->m.total, a));
}

/* The busiest rules and, when the screen is wide enough for two halves, tables. */
static void busiest(struct canvas *c, struct top *t, size_t lines)
{
	bool halves = c->width >= 64;
	size_t half = halves ? c->width / 2 : c->width, nr, nt, i;
	struct ranked *rules = ranked(&t->rules, t->now_ns / NS, &nr);
	struct ranked *tables = ranked(&t->tables, t->now_ns / NS, &nt);

	text(c, half - 22, false, "%s", "WATCHED");
	text(c, 11, true, "%s", "last min");
	text(c, 11, true, "%s", "total");
	if (halves) {
		text(c, c->width - half - 22, false, "%s", " TABLE");
		text(c, 11, true, "%s", "last min");
		text(c, 11, true, "%s", "total");
	}
	end_line(c);
	for (i = 0; i < lines; i++) {
		busiest_cell(c, i < nr ? &rules[i] : NULL, half);
		if (halves) {
			spaces(c, 1);
			c->col++;
			busiest_cell(c, i < nt ? &tables[i] : NULL, c->width - half - 1);
		}
		end_line(c);
	}
	free(rules);
	free(tables);
}

static void alerts(struct canvas *c, const struct top *t, size_t lines)
{
	size_t i, shown = t->n_alerts < TOP_ALERTS ? t->n_alerts : TOP_ALERTS;
	const struct top_alert *a;
	char when[40];

	text(c, c->width, false, "ALERTS (latest first)%s", t->n_alerts ? "" : ": none");
	end_line(c);
	for (i = 0; i < lines; i++) {
		if (i < shown) {
			a = &t->alerts[(t->n_alerts - 1 - i) % TOP_ALERTS];
			encode_time(a->time_ns, when);
			when[19] = '\0';
			text(c, 10, false, "%s", when + 11);
			cell(c, a->rule, strlen(a->rule), (c->width - 10) * 2 / 5, false);
			cell(c, a->human, strlen(a->human), (c->width - 10) / 3, false);
			cell(c, a->value, strlen(a->value), c->width - c->col, false);
		}
		end_line(c);
	}
}

char *top_screen(const struct top *top, const struct top_screen_opts *o)
{
	struct top *t = (struct top *)top; /* the LRU lists are walked, not changed */
	struct canvas c = {.width = o->width < 40 ? 40 : o->width, .utf8 = o->utf8};
	size_t height = o->height < 10 ? 10 : o->height, side = height >= 20 ? 3 : 0;
	size_t fixed = 4 + 1 + (side ? side + 1 + 1 + side + 1 + 1 : 0);

	header(&c, t, o);
	people(&c, t, height - fixed);
	if (side) {
		end_line(&c);
		busiest(&c, t, side);
		end_line(&c);
		alerts(&c, t, side);
	}
	text(&c, c.width, false, "q: quit   source: %s   rows forgotten: %llu",
	     o->source ? o->source : "-", (unsigned long long)t->stats.forgotten);
	end_line(&c);
	if (c.oom) {
		free(c.buf);
		return NULL;
	}
	return c.buf;
}
