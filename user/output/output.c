// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/chain.h"
#include "encode/encode.h"
#include "output/line_batch.h"
#include "encode/jsonstr.h"
#include "encode/jsonw.h"
#include "output/output.h"
#include "output/sink.h"

#define OUTPUT_BUFFER (256 << 10)
#define OUTPUT_BATCH  (1 << 20)

struct output {
	FILE *f;
	enum output_format format;
	struct output_filter filter;
	bool utf8;
	int error;
	struct sinks *sinks;	 /* JSON lines go there instead of f, in batches */
	struct line_batch batch; /* the JSON lines, written straight into it, with their seqs */
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
	line_batch_free(&o->batch);
	free(o);
}

/* Does the event's user, or the user who logged in, go by want (a name or a uid)? */
static bool user_matches(const struct event_who *who, const char *want)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", who->task.uid);
	if (!strcmp(id, want) || (who->user_name && !strcmp(who->user_name, want)))
		return true;
	if (who->task.auid == (uint32_t)-1)
		return false;
	snprintf(id, sizeof(id), "%u", who->task.auid);
	return !strcmp(id, want) || (who->audit_name && !strcmp(who->audit_name, want));
}

static bool keep(const struct output *o, const struct event *ev)
{
	const struct event_who *who = ev->who;

	if (ev->kind == EVENT_AGENT)
		return true; /* the agent's own events always pass */
	if (!o->filter.pid && !o->filter.comm && !o->filter.user)
		return true;
	if (!who)
		return false;
	if (o->filter.pid && who->task.tgid != o->filter.pid)
		return false;
	if (o->filter.comm && strncmp(who->task.comm, o->filter.comm, sizeof(who->task.comm)) != 0)
		return false;
	return !o->filter.user || user_matches(who, o->filter.user);
}

/* Appends s, escaping what a terminal would interpret: C0/C1 controls and bidi overrides. */
static size_t put_safe_n(char *buf, size_t cap, size_t o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end && o + 8 < cap) {
		size_t n = utf8_sequence_len(p, end - p);
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

static size_t put_safe(char *buf, size_t cap, size_t o, const char *s)
{
	return s ? put_safe_n(buf, cap, o, s, strlen(s)) : put_safe_n(buf, cap, o, "-", 1);
}

/* BYTES: read since the last line of this open file; ROWS of a statement; the error if it failed.
 */
static void human_count(const struct event *ev, char num[32])
{
	snprintf(num, 32, "-");
	if (ev->kind == EVENT_FILE_SUMMARY && ev->rule &&
	    ev->rule->egress) /* a new file: written */
		snprintf(num, 32, "%llu", (unsigned long long)ev->summary.since.bytes_written);
	else if (ev->kind == EVENT_FILE_SUMMARY)
		snprintf(num, 32, "%llu", (unsigned long long)ev->summary.since.bytes_read);
	if (ev->kind == EVENT_FILE_SUMMARY && ev->net) /* received, and sent */
		snprintf(num, 32, "%llu/%llu", (unsigned long long)ev->summary.since.bytes_read,
			 (unsigned long long)ev->summary.since.bytes_written);
	else if (ev->kind == EVENT_DB_STATEMENT && ev->db.rows >= 0)
		snprintf(num, 32, "%lld", (long long)ev->db.rows);
	if (ev->outcome && !strcmp(ev->outcome, "failure"))
		snprintf(num, 32, "%s", ev->error_code ? ev->error_code : "failed");
}

static void human_line(const struct event *ev, bool utf8, char *buf, size_t cap);

/* The line, and for egress (no rule: a session that read customer data) an " (egress)" after it. */
void output_human_line(const struct event *ev, bool utf8, char *buf, size_t cap)
{
	size_t n;

	human_line(ev, utf8, buf, cap);
	n = strlen(buf);
	if (ev->rule && ev->rule->egress && n < cap)
		snprintf(buf + n, cap - n, " (egress)");
}

static void human_line(const struct event *ev, bool utf8, char *buf, size_t cap)
{
	const struct event_who *who = ev->who;
	char ts[40], num[32], login[16] = "-", user[16] = "-";
	size_t o;

	encode_time(ev->time_ns, ts);
	human_count(ev, num);
	if (who) {
		snprintf(user, sizeof(user), "%u", who->task.uid);
		if (who->task.auid != (uint32_t)-1)
			snprintf(login, sizeof(login), "%u", who->task.auid);
	}
	/* "2026-11-28T08:09:19.123456789Z" -> "08:09:19.123" (UTC). */
	o = snprintf(buf, cap, "%.12s ", ts + 11);
	o = put_safe(buf, cap, o, who && who->audit_name ? who->audit_name : login);
	o += snprintf(buf + o, cap - o, "%s", utf8 ? "→" : "->");
	o = put_safe(buf, cap, o, who && who->user_name ? who->user_name : user);
	o += snprintf(buf + o, cap - o, " %u ", who ? who->task.tgid : 0);
	o = who ? put_safe_n(buf, cap, o, who->task.comm,
			     strnlen(who->task.comm, sizeof(who->task.comm)))
		: put_safe(buf, cap, o, NULL);
	o += snprintf(buf + o, cap - o, " %s %s ", ev->action ? ev->action : "-", num);
	if (ev->net) { /* the peer: "10.1.2.3:5432", "[::1]:5432" */
		char ip[48];

		if (ev->net->unix_path)
			put_safe(buf, cap, o, ev->net->unix_path);
		else if (ev->net->family == CUSTOS_NET_IPV4 || ev->net->family == CUSTOS_NET_IPV6)
			snprintf(buf + o, cap - o,
				 ev->net->family == CUSTOS_NET_IPV6 ? "[%s]:%u" : "%s:%u",
				 encode_net_addr(ev->net->family, ev->net->remote_addr, ip),
				 ev->net->remote_port);
		else
			put_safe(buf, cap, o, NULL);
		return;
	}
	if (ev->kind != EVENT_DB_STATEMENT) {
		if (ev->file && ev->file->path_len)
			put_safe_n(buf, cap, o, ev->file->path, ev->file->path_len);
		else
			put_safe(buf, cap, o, NULL);
		return;
	}
	/* A statement: "postgresql: SELECT ... FROM customers WHERE id = ?", rows as BYTES. */
	o = put_safe(buf, cap, o, ev->db.system);
	o += snprintf(buf + o, cap - o, ": ");
	if (ev->db.text)
		put_safe_n(buf, cap, o, ev->db.text, ev->db.text_len);
	else
		put_safe(buf, cap, o, NULL);
}

static int write_human(struct output *o, const struct event *ev)
{
	char line[8192];

	if (ev->kind == EVENT_AGENT) {
		/* Agent events: a short note, not a data line. */
		fprintf(o->f, "# %s\n", ev->action ? ev->action : "agent");
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

/*
 * The event's JSON line, written once, straight into the batch: sealed by
 * the chain as written (before its newline). An event that cannot be
 * written whole is not written at all (never half a line): it is counted.
 */
static void write_json(struct output *o, const struct event *ev)
{
	struct jsonw *w = &o->batch.text;
	size_t start = line_batch_begin(&o->batch);

	encode_event(w, ev);
	if (!jsonw_error(w) && o->chain && chain_seal(o->chain, w->buf + start, w->len - start))
		w->err = -EINVAL;
	jsonw_char(w, '\n');
	if (line_batch_end(&o->batch, start, ev->seq)) {
		lost_event(o, ev->seq);
		return;
	}
	if (!o->sinks) {
		fwrite(w->buf + start, 1, w->len - start, o->f);
		line_batch_reset(&o->batch);
	} else if (w->len >= OUTPUT_BATCH) {
		flush_batch(o);
	}
}

int output_event(struct output *o, const struct event *ev)
{
	if (o->error)
		return o->error;
	if (!keep(o, ev))
		return 0;
	if (o->format == OUTPUT_HUMAN)
		write_human(o, ev);
	else
		write_json(o, ev);
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
