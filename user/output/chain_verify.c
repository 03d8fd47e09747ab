// SPDX-License-Identifier: GPL-2.0
/*
 * Verifying a stored stream against its hash chain (see chain.h), line by
 * line, in one pass: the first line that is not the next record of its run
 * is the problem reported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output/chain.h"

#define SEEN_MAX (2 * CHAIN_SEEN_MIN) /* then the older half is forgotten */

/* What the verifier needs of a line. */
struct record {
	int64_t seq;
	bool start, stop; /* it is the agent-start, the agent-stop */
	size_t hex_at;	  /* where its chain value is in the line */
	uint8_t mac[CHAIN_MAC_LEN];
};

/* The chain values of the last records verified, in order, and an index on them. */
struct seen {
	uint8_t (*macs)[CHAIN_MAC_LEN];
	size_t n, cap;
	uint32_t *slots; /* a position in macs + 1; 0: free */
	size_t n_slots;	 /* a power of two, more than twice n */
};

/* A jump in seq: records missing, unless the next line is one of them (reordered). */
struct gap {
	bool open;
	struct chain_where where;
	int64_t seq, first, last;
};

struct chain_verifier {
	struct chain **keys;
	size_t n_keys;
	size_t key;   /* the one the last record matched */
	bool partial; /* the stream may begin inside a run */
	uint8_t prev[CHAIN_MAC_LEN];
	struct chain_run_end run; /* the last record verified */
	struct gap gap;
	struct seen seen;
	struct chain_verify_result res;
};

static const uint8_t zeros[CHAIN_MAC_LEN];

struct chain_verifier *chain_verifier_new(struct chain *const *keys, size_t n_keys)
{
	struct chain_verifier *v = calloc(1, sizeof(*v));

	if (!v)
		return NULL;
	v->keys = calloc(n_keys ?: 1, sizeof(*v->keys));
	if (!v->keys) {
		free(v);
		return NULL;
	}
	memcpy(v->keys, keys, n_keys * sizeof(*keys));
	v->n_keys = n_keys;
	return v;
}

void chain_verifier_free(struct chain_verifier *v)
{
	if (!v)
		return;
	free(v->seen.macs);
	free(v->seen.slots);
	free(v->res.cut_runs);
	free(v->keys);
	free(v);
}

void chain_verifier_set_partial(struct chain_verifier *v, bool partial)
{
	v->partial = partial;
}

const struct chain_verify_result *chain_verifier_result(const struct chain_verifier *v)
{
	return &v->res;
}

static size_t slot_of(const uint8_t *mac, size_t n_slots)
{
	uint64_t h;

	memcpy(&h, mac, sizeof(h)); /* a MAC is spread evenly already */
	return h & (n_slots - 1);
}

static bool seen_find(const struct seen *s, const uint8_t *mac, size_t *pos)
{
	size_t i;

	if (!s->n_slots)
		return false;
	for (i = slot_of(mac, s->n_slots); s->slots[i]; i = (i + 1) & (s->n_slots - 1)) {
		if (!memcmp(s->macs[s->slots[i] - 1], mac, CHAIN_MAC_LEN)) {
			*pos = s->slots[i] - 1;
			return true;
		}
	}
	return false;
}

static void seen_index(struct seen *s, size_t pos)
{
	size_t i = slot_of(s->macs[pos], s->n_slots);

	while (s->slots[i])
		i = (i + 1) & (s->n_slots - 1);
	s->slots[i] = pos + 1;
}

static int seen_reindex(struct seen *s, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	size_t pos;

	if (!slots)
		return -ENOMEM;
	free(s->slots);
	s->slots = slots;
	s->n_slots = n_slots;
	for (pos = 0; pos < s->n; pos++)
		seen_index(s, pos);
	return 0;
}

static int seen_add(struct seen *s, const uint8_t *mac)
{
	void *macs;

	if (s->n == SEEN_MAX) {
		/* Keep the newer half: a re-delivery repeats recent records. */
		memmove(s->macs, s->macs + SEEN_MAX / 2, SEEN_MAX / 2 * sizeof(*s->macs));
		s->n = SEEN_MAX / 2;
		if (seen_reindex(s, s->n_slots))
			return -ENOMEM;
	}
	if (s->n == s->cap) {
		macs = realloc(s->macs, (s->cap ? 2 * s->cap : 1024) * sizeof(*s->macs));
		if (!macs)
			return -ENOMEM;
		s->macs = macs;
		s->cap = s->cap ? 2 * s->cap : 1024;
	}
	if (2 * (s->n + 1) > s->n_slots && seen_reindex(s, s->n_slots ? 2 * s->n_slots : 4096))
		return -ENOMEM;
	memcpy(s->macs[s->n], mac, CHAIN_MAC_LEN);
	seen_index(s, s->n++);
	return 0;
}

static uint8_t nibble(char hex)
{
	return hex <= '9' ? hex - '0' : hex - 'a' + 10;
}

/* Reads what the chain needs of a line: CHAIN_OK, or what is wrong with it. */
static enum chain_problem parse_record(const char *line, size_t len, struct record *rec,
				       char *detail, size_t detail_len)
{
	json_t *root, *custos, *seq, *chain;
	enum chain_problem kind = CHAIN_OK;
	const char *action;
	const char *nul = memchr(line, '\0', len);
	json_error_t err;
	ssize_t at;
	size_t i;

	if (len == 0) {
		snprintf(detail, detail_len, "an empty line");
		return CHAIN_NOT_JSON;
	}
	if (nul) {
		snprintf(detail, detail_len, "a NUL byte (byte %zu)", nul - line + 1);
		return CHAIN_NOT_JSON;
	}
	/* Strings may hold NUL as \u0000 (SQL text is bytes): valid JSON, and sealed as such. */
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!root) {
		if (json_error_code(&err) == json_error_premature_end_of_input)
			return CHAIN_TRUNCATED;
		snprintf(detail, detail_len, "%.160s (column %d)", err.text, err.column);
		return CHAIN_NOT_JSON;
	}
	/* An OCSF line has the custos object under unmapped, its action as metadata.event_code. */
	custos = json_object_get(root, "custos");
	if (!custos)
		custos = json_object_get(json_object_get(root, "unmapped"), "custos");
	seq = json_object_get(custos, "seq");
	chain = json_object_get(custos, "chain");
	if (!json_is_object(root)) {
		snprintf(detail, detail_len, "not an object");
		kind = CHAIN_NOT_JSON;
	} else if (!json_is_integer(seq) || json_integer_value(seq) < 1) {
		kind = CHAIN_NO_SEQ;
	} else {
		rec->seq = json_integer_value(seq);
		action =
		    json_string_value(json_object_get(json_object_get(root, "event"), "action"));
		if (!action)
			action = json_string_value(
			    json_object_get(json_object_get(root, "metadata"), "event_code"));
		rec->start = action && !strcmp(action, "agent-start");
		rec->stop = action && !strcmp(action, "agent-stop");
		at = chain_find(line, len);
		if (!json_is_string(chain) || json_string_length(chain) != CHAIN_HEX_LEN)
			kind = CHAIN_NO_CHAIN;
		else if (at < 0 || memcmp(line + at, json_string_value(chain), CHAIN_HEX_LEN))
			kind = CHAIN_EDITED; /* not written as custos writes it */
		for (i = 0; kind == CHAIN_OK && i < CHAIN_MAC_LEN; i++)
			rec->mac[i] = nibble(line[at + 2 * i]) << 4 | nibble(line[at + 2 * i + 1]);
		rec->hex_at = at;
	}
	json_decref(root);
	return kind;
}

/* rec's chain value is the MAC of prev and its line, with the key in use or another one. */
static bool matches(struct chain_verifier *v, const uint8_t *prev, char *line, size_t len,
		    const struct record *rec)
{
	uint8_t mac[CHAIN_MAC_LEN];
	char hex[CHAIN_HEX_LEN];
	bool ok = false;
	size_t i, k;

	memcpy(hex, line + rec->hex_at, sizeof(hex));
	memset(line + rec->hex_at, '0', sizeof(hex));
	for (i = 0; i < v->n_keys && !ok; i++) {
		k = (v->key + i) % v->n_keys;
		ok = !chain_mac(v->keys[k], prev, line, len, mac) &&
		     !memcmp(mac, rec->mac, sizeof(mac));
		if (ok)
			v->key = k;
	}
	memcpy(line + rec->hex_at, hex, sizeof(hex));
	return ok;
}

/* A line identical to one verified before: the same record delivered again. */
static bool is_duplicate(struct chain_verifier *v, char *line, size_t len, const struct record *rec)
{
	size_t pos;

	if (!seen_find(&v->seen, rec->mac, &pos))
		return false;
	/* Runs are verified whole, in order: a record's predecessor is the one before it. */
	if (rec->seq == 1)
		return matches(v, zeros, line, len, rec);
	return pos > 0 && matches(v, v->seen.macs[pos - 1], line, len, rec);
}

static int problem(struct chain_verifier *v, enum chain_problem kind,
		   const struct chain_where *where, int64_t seq)
{
	struct chain_report *p = &v->res.problem;

	p->kind = kind;
	p->where = *where;
	p->seq = seq;
	p->first_record = v->res.records == 0;
	return 1;
}

/* The line after a jump in seq: one of the records skipped (reordered), or they are missing. */
static int close_gap(struct chain_verifier *v, const struct record *rec,
		     const struct chain_where *where)
{
	struct gap *g = &v->gap;

	if (rec && rec->seq >= g->first && rec->seq <= g->last) {
		v->res.problem.other_seq = g->seq;
		return problem(v, CHAIN_REORDERED, where, rec->seq);
	}
	v->res.problem.first_missing = g->first;
	v->res.problem.last_missing = g->last;
	return problem(v, CHAIN_MISSING, &g->where, g->seq);
}

/* The run so far is over: remember it if it ends without agent-stop. */
static int end_run(struct chain_verifier *v)
{
	struct chain_run_end *cut;

	if (v->run.seq == 0 || v->run.stopped)
		return 0;
	cut = realloc(v->res.cut_runs, (v->res.n_cut_runs + 1) * sizeof(*cut));
	if (!cut)
		return -ENOMEM;
	v->res.cut_runs = cut;
	cut[v->res.n_cut_runs++] = v->run;
	return 0;
}

/* rec is the last record of its run so far: the next one goes on from its chain value. */
static int follow(struct chain_verifier *v, const struct record *rec,
		  const struct chain_where *where)
{
	memcpy(v->prev, rec->mac, sizeof(v->prev));
	v->run = (struct chain_run_end){.where = *where, .seq = rec->seq, .stopped = rec->stop};
	return seen_add(&v->seen, rec->mac);
}

static int accept(struct chain_verifier *v, const struct record *rec,
		  const struct chain_where *where)
{
	v->res.records++;
	return follow(v, rec, where);
}

/* The stream begins inside a run, at rec: with no previous value, its own is taken unchecked. */
static int begin_inside(struct chain_verifier *v, const struct record *rec,
			const struct chain_where *where)
{
	v->res.partial_start = (struct chain_record_at){.where = *where, .seq = rec->seq};
	v->res.runs++;
	return follow(v, rec, where);
}

static int next_record(struct chain_verifier *v, char *line, size_t len, const struct record *rec,
		       const struct chain_where *where)
{
	/* After an agent-stop, only a new run can come. */
	int64_t next = v->run.seq == 0 || v->run.stopped ? 1 : v->run.seq + 1;
	int r;

	if (rec->seq == 1) {
		if (!rec->start)
			return problem(v, CHAIN_RESTARTED, where, 1);
		if (!matches(v, zeros, line, len, rec))
			return problem(v, CHAIN_EDITED, where, 1);
		r = end_run(v);
		if (r)
			return r;
		v->res.runs++;
		return accept(v, rec, where);
	}
	if (v->partial && v->run.seq == 0)
		return begin_inside(v, rec, where);
	if (rec->seq <= v->run.seq) {
		v->res.problem.other_seq = v->run.seq;
		return problem(v, CHAIN_REORDERED, where, rec->seq);
	}
	if (rec->seq > next) {
		v->gap = (struct gap){.open = true,
				      .where = *where,
				      .seq = rec->seq,
				      .first = next,
				      .last = rec->seq - 1};
		return 0;
	}
	if (!matches(v, v->prev, line, len, rec))
		return problem(v, CHAIN_EDITED, where, rec->seq);
	return accept(v, rec, where);
}

int chain_verify_line(struct chain_verifier *v, char *line, size_t len, enum chain_line_end end,
		      const struct chain_where *where)
{
	struct chain_report *p = &v->res.problem;
	enum chain_problem kind = CHAIN_TOO_LONG;
	struct record rec = {};

	if (p->kind != CHAIN_OK)
		return 1;
	v->res.lines++;
	if (end != CHAIN_LINE_LONG)
		kind = parse_record(line, len, &rec, p->detail, sizeof(p->detail));
	if (end == CHAIN_LINE_EOF)
		kind = CHAIN_TRUNCATED; /* even if what is there parses */
	if (kind == CHAIN_OK && is_duplicate(v, line, len, &rec)) {
		v->res.duplicates++;
		return 0;
	}
	if (v->gap.open) {
		p->detail[0] = '\0';
		return close_gap(v, kind == CHAIN_OK ? &rec : NULL, where);
	}
	if (kind != CHAIN_OK)
		return problem(v, kind, where, rec.seq);
	return next_record(v, line, len, &rec, where);
}

int chain_verify_end(struct chain_verifier *v)
{
	if (v->res.problem.kind != CHAIN_OK)
		return 1;
	if (v->gap.open)
		return close_gap(v, NULL, NULL);
	v->res.last_run = v->run;
	return 0;
}
