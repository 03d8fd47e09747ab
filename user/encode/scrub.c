// SPDX-License-Identifier: GPL-2.0
/*
 * Arguments scrubbed of a statement's literals (scrub.h). The statement is
 * lexed once by the SQL lexer (sql_literals()); each literal long enough,
 * and the statement itself, become patterns in the matching form
 * (scrub_fold()); each argument is folded the same way, with where each
 * folded byte came from, so that a match is replaced in the argument as
 * the program wrote it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode/scrub.h"

struct pattern {
	char *text; /* folded */
	size_t n;
	bool number;	  /* a number: not where a digit touches it */
	const char *repl; /* what replaces it: "?", or the redacted statement */
	size_t repl_n;
};

struct patterns {
	struct pattern *p;
	size_t n, cap;
	const char *stmt;
	int err;
};

/* A growing buffer. */
struct buf {
	char *s;
	size_t n, cap;
};

static int buf_put(struct buf *b, const char *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s)
			return -ENOMEM;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->n, p, n);
	b->n += n;
	return 0;
}

size_t scrub_fold(const char *s, size_t n, char *out, size_t *from, size_t *to)
{
	size_t i = 0, k = 0, w;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)s[i];
		if (c == '\\') {
			i++;
			continue;
		}
		w = (c == '\'' || c == '"') && i + 1 < n && s[i + 1] == (char)c ? 2 : 1;
		out[k] = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
		if (from)
			from[k] = i;
		if (to)
			to[k] = i + w;
		k++;
		i += w;
	}
	return k;
}

static int pattern_add(struct patterns *ps, const char *s, size_t n, bool number, const char *repl,
		       size_t repl_n)
{
	struct pattern *p;
	char *text;

	text = malloc(n ? n : 1);
	if (!text)
		return -ENOMEM;
	n = scrub_fold(s, n, text, NULL, NULL);
	if (n < SCRUB_LITERAL_MIN) {
		free(text);
		return 0;
	}
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;

		p = realloc(ps->p, cap * sizeof(*p));
		if (!p) {
			free(text);
			return -ENOMEM;
		}
		ps->p = p;
		ps->cap = cap;
	}
	ps->p[ps->n++] = (struct pattern){
	    .text = text, .n = n, .number = number, .repl = repl, .repl_n = repl_n};
	return 0;
}

static void on_literal(void *ctx, size_t start, size_t end, bool number)
{
	struct patterns *ps = ctx;

	if (!ps->err)
		ps->err = pattern_add(ps, ps->stmt + start, end - start, number, "?", 1);
}

static void patterns_free(struct patterns *ps)
{
	size_t i;

	for (i = 0; i < ps->n; i++)
		free(ps->p[i].text);
	free(ps->p);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Every match of p in the argument *cur replaced, left to right. Returns 1
 * if the argument changed (*cur then replaced), 0 if not, -ENOMEM.
 */
static int replace_all(struct buf *cur, const struct pattern *p)
{
	char *fold = malloc(cur->n + 1);
	size_t *from = malloc((cur->n + 1) * sizeof(*from));
	size_t *to = malloc((cur->n + 1) * sizeof(*to));
	size_t fn, pos = 0, k, last = 0;
	struct buf out = {0};
	const char *hit;
	int ret = 0;

	if (!fold || !from || !to) {
		ret = -ENOMEM;
		goto out_free;
	}
	fn = scrub_fold(cur->s, cur->n, fold, from, to);
	while (pos + p->n <= fn && (hit = memmem(fold + pos, fn - pos, p->text, p->n))) {
		k = hit - fold;
		if (p->number && ((k > 0 && is_digit(fold[k - 1])) ||
				  (k + p->n < fn && is_digit(fold[k + p->n])))) {
			pos = k + 1;
			continue;
		}
		if (buf_put(&out, cur->s + last, from[k] - last) ||
		    buf_put(&out, p->repl, p->repl_n)) {
			ret = -ENOMEM;
			goto out_free;
		}
		last = to[k + p->n - 1];
		pos = k + p->n;
	}
	if (!out.s)
		goto out_free; /* no match */
	if (buf_put(&out, cur->s + last, cur->n - last)) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (out.n == cur->n && !memcmp(out.s, cur->s, out.n))
		goto out_free; /* replaced by itself */
	free(cur->s);
	*cur = out;
	out.s = NULL;
	ret = 1;
out_free:
	free(out.s);
	free(fold);
	free(from);
	free(to);
	return ret;
}

/* One argument, scrubbed into *cur (which holds it). Returns 1 if it changed, 0, -ENOMEM. */
static int scrub_one(const struct patterns *ps, struct buf *cur)
{
	bool changed = false, again = true;
	size_t round, i;
	int r;

	for (round = 0; again && round < SCRUB_ROUNDS_MAX; round++) {
		again = false;
		for (i = 0; i < ps->n; i++) {
			r = replace_all(cur, &ps->p[i]);
			if (r < 0)
				return r;
			again |= r > 0;
		}
		changed |= again;
	}
	if (again) {
		/* Still changing: given up, as a whole. */
		cur->n = 0;
		if (buf_put(cur, "?", 1))
			return -ENOMEM;
	}
	return changed;
}

/*
 * Does any pattern occur in argv at all (folded whole: no pattern holds a
 * NUL, so none matches across two arguments)? Most statements' literals are
 * in no argument: this is all they cost.
 */
static int any_match(const struct patterns *ps, const char *args, size_t len)
{
	char *fold = malloc(len ? len : 1);
	size_t fn, i;
	bool found = false;

	if (!fold)
		return -ENOMEM;
	fn = scrub_fold(args, len, fold, NULL, NULL);
	for (i = 0; i < ps->n && !found; i++)
		found = memmem(fold, fn, ps->p[i].text, ps->p[i].n) != NULL;
	free(fold);
	return found;
}

/* The statement without the whitespace around it. */
static void trim(const char **s, size_t *n)
{
	while (*n && strchr(" \t\r\n", (*s)[0]))
		(*s)++, (*n)--;
	while (*n && strchr(" \t\r\n", (*s)[*n - 1]))
		(*n)--;
}

int scrub_args(enum sql_dialect dialect, const char *stmt, size_t stmt_len, const char *args,
	       size_t len, char **out, size_t *out_len)
{
	struct patterns ps = {.stmt = stmt};
	const char *whole = stmt;
	size_t whole_len = stmt_len;
	struct buf res = {0}, cur = {0};
	char *redacted = NULL, *f1 = NULL, *f2 = NULL;
	size_t i, n, rn, n1, n2;
	bool changed = false;
	int err = 0, r;

	*out = NULL;
	*out_len = 0;
	if (!stmt || !args)
		return 0;
	/* The statement whole, first: its short literals go with it. */
	trim(&whole, &whole_len);
	redacted = malloc(whole_len + 1);
	f1 = malloc(whole_len + 1);
	f2 = malloc(whole_len + 1);
	if (!redacted || !f1 || !f2) {
		err = -ENOMEM;
		goto out_free;
	}
	rn = sql_redact(dialect, whole, whole_len, redacted, whole_len + 1);
	n1 = scrub_fold(whole, whole_len, f1, NULL, NULL);
	n2 = scrub_fold(redacted, rn, f2, NULL, NULL);
	if (n1 != n2 || memcmp(f1, f2, n1))
		err = pattern_add(&ps, whole, whole_len, false, redacted, rn);
	if (!err) {
		sql_literals(dialect, stmt, stmt_len, on_literal, &ps);
		err = ps.err;
	}
	if (err || !ps.n)
		goto out_free;
	r = any_match(&ps, args, len);
	if (r <= 0) {
		err = r;
		goto out_free;
	}
	for (i = 0; i < len; i += n + 1) {
		n = strnlen(args + i, len - i);
		cur.n = 0;
		if (buf_put(&cur, args + i, n)) {
			err = -ENOMEM;
			goto out_free;
		}
		r = scrub_one(&ps, &cur);
		if (r < 0) {
			err = r;
			goto out_free;
		}
		changed |= r > 0;
		if (buf_put(&res, cur.s, cur.n) || (i + n < len && buf_put(&res, "", 1))) {
			err = -ENOMEM;
			goto out_free;
		}
	}
	if (changed) {
		*out = res.s;
		*out_len = res.n;
		res.s = NULL;
	}
out_free:
	patterns_free(&ps);
	free(res.s);
	free(cur.s);
	free(redacted);
	free(f1);
	free(f2);
	return err ? err : changed;
}
