// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/chain.h"
#include "output/jsonout.h"
#include "output/line_batch.h"
#include "encode/jsonstr.h"
#include "output/output.h"
#include "output/sink.h"

#define OUTPUT_BUFFER (256 << 10)
#define OUTPUT_BATCH  (64 << 10)

struct output {
	FILE *f;
	enum output_format format;
	struct output_filter filter;
	bool utf8;
	int error;
	struct jsonout line;	 /* one event's JSON, reused */
	struct sinks *sinks;	 /* JSON lines go there instead of f, in batches */
	struct line_batch batch; /* lines for the sinks, with their seqs */
	struct chain *chain;	 /* seals each JSON line; NULL: none */
	/* Events that could not be written since the last output_take_unwritable, and their seqs.
	 */
	uint64_t unwritable, unwritable_first, unwritable_last;
};

static void lost_event(struct output *o, uint64_t seq)
{
	if (!o->unwritable++)
		o->unwritable_first = seq;
	o->unwritable_last = seq;
}

bool output_take_unwritable(struct output *o, uint64_t *count, uint64_t *first_seq,
			    uint64_t *last_seq)
{
	if (!o->unwritable)
		return false;
	*count = o->unwritable;
	*first_seq = o->unwritable_first;
	*last_seq = o->unwritable_last;
	o->unwritable = 0;
	return true;
}

struct output *output_new(FILE *f, enum output_format format, const struct output_filter *filter)
{
	struct output *o = calloc(1, sizeof(*o));
	const char *codeset = nl_langinfo(CODESET);

	if (!o)
		return NULL;
	o->f = f;
	o->format = format;
	/* Lines are flushed at the end of each batch; in between, few large writes. */
	setvbuf(f, NULL, _IOFBF, OUTPUT_BUFFER);
	if (filter)
		o->filter = *filter;
	o->utf8 = codeset && !strcmp(codeset, "UTF-8");
	return o;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	jsonout_free(&o->line);
	line_batch_free(&o->batch);
	free(o);
}

static uint64_t event_seq(json_t *ev)
{
	return json_integer_value(json_object_get(json_object_get(ev, "custos"), "seq"));
}

static const char *str_at(json_t *ev, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ev, obj), key));
}

static const char *str_at2(json_t *ev, const char *obj, const char *sub, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(ev, obj), sub), key));
}

static bool user_matches(json_t *ev, const char *want)
{
	return (str_at(ev, "user", "id") && !strcmp(str_at(ev, "user", "id"), want)) ||
	       (str_at(ev, "user", "name") && !strcmp(str_at(ev, "user", "name"), want)) ||
	       (str_at2(ev, "user", "audit", "id") &&
		!strcmp(str_at2(ev, "user", "audit", "id"), want)) ||
	       (str_at2(ev, "user", "audit", "name") &&
		!strcmp(str_at2(ev, "user", "audit", "name"), want));
}

/* File accesses and database statements; the rest are the agent's own events. */
static bool is_access(const char *category)
{
	return category && (!strcmp(category, "file") || !strcmp(category, "database"));
}

static bool keep(const struct output *o, json_t *ev)
{
	const char *category = str_at(ev, "event", "category");
	json_int_t pid = json_integer_value(json_object_get(json_object_get(ev, "process"), "pid"));
	const char *comm = str_at(ev, "process", "name");

	if (!is_access(category))
		return true; /* the agent's own events always pass */
	if (o->filter.pid && pid != o->filter.pid)
		return false;
	if (o->filter.comm && (!comm || strcmp(comm, o->filter.comm)))
		return false;
	return !o->filter.user || user_matches(ev, o->filter.user);
}

/* Appends s, escaping what a terminal would interpret: C0/C1 controls and bidi overrides. */
static size_t put_safe(char *buf, size_t cap, size_t o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "-");

	while (*p && o + 8 < cap) {
		size_t n = utf8_sequence_len(p, strnlen((const char *)p, 4));
		unsigned int cp = 0;

		if (n == 2)
			cp = ((p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		else if (n == 3)
			cp = ((p[0] & 0x0f) << 12) | ((p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		if (n == 0 || *p < 0x20 || *p == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			o += snprintf(buf + o, cap - o, cp ? "\\u%04x" : "\\x%02x", cp ? cp : *p);
			p += n ? n : 1;
			continue;
		}
		memcpy(buf + o, p, n);
		o += n;
		p += n;
	}
	buf[o] = '\0';
	return o;
}

void output_human_line(json_t *ev, bool utf8, char *buf, size_t cap)
{
	const char *ts = json_string_value(json_object_get(ev, "@timestamp"));
	const char *action = str_at(ev, "event", "action");
	const char *outcome = str_at(ev, "event", "outcome");
	const char *login = str_at2(ev, "user", "audit", "name");
	const char *user = str_at(ev, "user", "name");
	json_t *io = json_object_get(json_object_get(ev, "custos"), "io");
	json_t *bytes = json_object_get(io, "bytes_read");
	json_t *db = json_object_get(ev, "db");
	char clock[16] = "", num[32] = "-";
	size_t o;

	if (db)
		bytes = json_object_get(json_object_get(db, "response"), "returned_rows");
	if (!login)
		login = str_at2(ev, "user", "audit", "id");
	if (!user)
		user = str_at(ev, "user", "id");
	/* "2026-11-28T08:09:19.123456789Z" -> "08:09:19.123" (UTC). */
	if (ts && strlen(ts) >= 23)
		snprintf(clock, sizeof(clock), "%.12s", ts + 11);
	if (bytes)
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(bytes));
	if (outcome && !strcmp(outcome, "failure"))
		snprintf(num, sizeof(num), "%s", str_at(ev, "error", "code") ?: "failed");
	o = snprintf(buf, cap, "%s ", clock);
	o = put_safe(buf, cap, o, login ? login : "-");
	o += snprintf(buf + o, cap - o, "%s", utf8 ? "→" : "->");
	o = put_safe(buf, cap, o, user);
	o += snprintf(
	    buf + o, cap - o, " %lld ",
	    (long long)json_integer_value(json_object_get(json_object_get(ev, "process"), "pid")));
	o = put_safe(buf, cap, o, str_at(ev, "process", "name"));
	o += snprintf(buf + o, cap - o, " %s %s ", action ? action : "-", num);
	if (!db) {
		put_safe(buf, cap, o, str_at(ev, "file", "path"));
		return;
	}
	/* A statement: "postgresql: SELECT ... FROM customers WHERE id = ?", rows as BYTES. */
	o = put_safe(buf, cap, o, str_at(ev, "db", "system"));
	o += snprintf(buf + o, cap - o, ": ");
	put_safe(buf, cap, o, str_at2(ev, "db", "query", "text"));
}

static int write_human(struct output *o, json_t *ev)
{
	const char *category = str_at(ev, "event", "category");
	char line[8192];

	if (!is_access(category)) {
		/* Agent events: a short note, not a data line. */
		fprintf(o->f, "# %s\n", str_at(ev, "event", "action") ?: "agent");
		return 0;
	}
	output_human_line(ev, o->utf8, line, sizeof(line));
	fputs(line, o->f);
	fputc('\n', o->f);
	return 0;
}

/* Lines go to the outputs a batch at a time: one copy and one wakeup for many events. */
static void flush_batch(struct output *o)
{
	if (!o->batch.n)
		return;
	if (o->sinks)
		sinks_write(o->sinks, &o->batch);
	line_batch_reset(&o->batch);
}

static void add_to_batch(struct output *o, uint64_t seq)
{
	if (line_batch_add(&o->batch, o->line.buf, o->line.len, seq)) {
		lost_event(o, seq);
		return;
	}
	if (o->batch.len >= OUTPUT_BATCH)
		flush_batch(o);
}

int output_event(struct output *o, json_t *ev)
{
	if (o->error)
		return o->error;
	if (!keep(o, ev))
		return 0;
	if (o->format == OUTPUT_HUMAN) {
		write_human(o, ev);
	} else {
		jsonout_reset(&o->line);
		/* An event that cannot be written whole is not written at all (never half a line).
		 * The chain seals the line as written, before its newline.
		 */
		if (jsonout_value(&o->line, ev) != 0 ||
		    (o->chain && chain_seal(o->chain, o->line.buf, o->line.len) != 0) ||
		    jsonout_char(&o->line, '\n') != 0)
			lost_event(o, event_seq(ev));
		else if (o->sinks)
			add_to_batch(o, event_seq(ev));
		else
			fwrite(o->line.buf, 1, o->line.len, o->f);
	}
	if (ferror(o->f))
		o->error = errno ? -errno : -EIO;
	return o->error;
}

void output_set_sinks(struct output *o, struct sinks *sinks)
{
	flush_batch(o);
	o->sinks = sinks;
}

void output_set_chain(struct output *o, struct chain *chain)
{
	o->chain = chain;
}

int output_flush(struct output *o)
{
	flush_batch(o);
	if (!o->error && fflush(o->f))
		o->error = -errno;
	return o->error;
}
