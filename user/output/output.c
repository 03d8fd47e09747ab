// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "output/chain.h"
#include "encode/encode.h"
#include "encode/ocsf.h"
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
	bool tty; /* a terminal: alerts are highlighted */
	int error;
	struct sinks *sinks;	 /* JSON lines go there instead of f, in batches */
	struct line_batch batch; /* the JSON lines, written straight into it, with their seqs */
	struct chain *chain;	 /* seals each JSON line; NULL: none */
	/*
	 * OCSF lines, for the outputs that want them (only then written): a
	 * batch of their own, sealed by a chain of their own under the same key.
	 */
	bool ecs, ocsf;
	struct line_batch ocsf_batch;
	struct chain *ocsf_chain;
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
	o->ecs = true;
	/* Lines are flushed at the end of each batch; in between, few large writes. */
	setvbuf(f, NULL, _IOFBF, OUTPUT_BUFFER);
	if (filter)
		o->filter = *filter;
	o->utf8 = codeset && !strcmp(codeset, "UTF-8");
	o->tty = isatty(fileno(f));
	return o;
}

void output_free(struct output *o)
{
	if (!o)
		return;
	line_batch_free(&o->batch);
	line_batch_free(&o->ocsf_batch);
	chain_free(o->ocsf_chain);
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

	if (ev->kind == EVENT_AGENT || (ev->kind == EVENT_ALERT && !who))
		return true; /* the agent's own events, and alerts about many processes, always pass
			      */
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

size_t output_safe_text(char *buf, size_t cap, size_t o, const char *s, size_t len)
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
	return s ? output_safe_text(buf, cap, o, s, strlen(s))
		 : output_safe_text(buf, cap, o, "-", 1);
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
	o = who ? output_safe_text(buf, cap, o, who->task.comm,
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
			output_safe_text(buf, cap, o, ev->file->path, ev->file->path_len);
		else
			put_safe(buf, cap, o, NULL);
		return;
	}
	/* A statement: "postgresql: SELECT ... FROM customers WHERE id = ?", rows as BYTES. */
	o = put_safe(buf, cap, o, ev->db.system);
	o += snprintf(buf + o, cap - o, ": ");
	if (ev->db.text)
		output_safe_text(buf, cap, o, ev->db.text, ev->db.text_len);
	else
		put_safe(buf, cap, o, NULL);
}

/* "ALERT bulk-read user.audit.name=alice 12000>=10000 over 10m T1213 Data from ...". */
static void human_alert_line(const struct event *ev, char *buf, size_t cap)
{
	const struct event_alert *a = &ev->alert_info;
	char ts[40];
	size_t o, i;

	encode_time(ev->time_ns, ts);
	o = snprintf(buf, cap, "%.12s ALERT ", ts + 11);
	o = put_safe(buf, cap, o, a->rule_name);
	for (i = 0; i < a->n_group && o < cap; i++) {
		o += snprintf(buf + o, cap - o, " %s=", a->group[i].name);
		o = put_safe(buf, cap, o, a->group[i].value);
	}
	if (a->has_value && o < cap)
		o += snprintf(buf + o, cap - o, " %llu>=%llu", (unsigned long long)a->value,
			      (unsigned long long)a->threshold);
	if (a->window && o < cap)
		o += snprintf(buf + o, cap - o, " within %s", a->window);
	if (ev->who && o < cap) {
		o += snprintf(buf + o, cap - o, " pid %u ", ev->who->task.tgid);
		o = output_safe_text(buf, cap, o, ev->who->task.comm,
				     strnlen(ev->who->task.comm, sizeof(ev->who->task.comm)));
	}
	if (a->technique_id && o < cap)
		snprintf(buf + o, cap - o, " [%s%s%s]", a->technique_id,
			 a->technique_name ? " " : "", a->technique_name ? a->technique_name : "");
}

static int write_human(struct output *o, const struct event *ev)
{
	char line[8192];

	if (ev->kind == EVENT_ALERT) {
		/* Highlighted on a terminal: bold red. */
		human_alert_line(ev, line, sizeof(line));
		fprintf(o->f, o->tty ? "\033[1;31m%s\033[0m\n" : "%s\n", line);
		return 0;
	}

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
	if (o->sinks && o->batch.n)
		sinks_write(o->sinks, CONFIG_FORMAT_ECS, &o->batch);
	if (o->sinks && o->ocsf_batch.n)
		sinks_write(o->sinks, CONFIG_FORMAT_OCSF, &o->ocsf_batch);
	line_batch_reset(&o->batch);
	line_batch_reset(&o->ocsf_batch);
}

/*
 * The event's line in one schema, written straight into that schema's batch
 * and sealed by its chain as written (before its newline). 0, or the
 * writer's error: then nothing of it stays in the batch (never half a line).
 */
static int write_line(struct line_batch *b, struct chain *chain, bool sealed,
		      int (*encode)(struct jsonw *w, const struct event *ev),
		      const struct event *ev)
{
	struct jsonw *w = &b->text;
	size_t start = line_batch_begin(b);

	encode(w, ev);
	if (!jsonw_error(w) && sealed &&
	    (!chain || chain_seal(chain, w->buf + start, w->len - start)))
		w->err = -EINVAL;
	jsonw_char(w, '\n');
	return line_batch_end(b, start, ev->seq);
}

/*
 * The event's JSON line, written once per schema an output wants (ECS, and
 * OCSF only if an output takes it), whatever the number of outputs. An event
 * that cannot be written whole in one of them is counted, once.
 */
static void write_json(struct output *o, const struct event *ev)
{
	struct jsonw *w = &o->batch.text;
	size_t start = w->len;
	bool lost = false;

	if (o->ecs || !o->sinks)
		lost = write_line(&o->batch, o->chain, o->chain != NULL, encode_event, ev) != 0;
	if (o->ocsf && o->sinks &&
	    write_line(&o->ocsf_batch, o->ocsf_chain, o->chain != NULL, encode_ocsf, ev))
		lost = true;
	if (lost)
		lost_event(o, ev->seq);
	if (!o->sinks) {
		fwrite(w->buf + start, 1, w->len - start, o->f);
		line_batch_reset(&o->batch);
	} else if (w->len >= OUTPUT_BATCH || o->ocsf_batch.text.len >= OUTPUT_BATCH) {
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
	unsigned int formats = sinks ? sinks_formats(sinks) : 1U << CONFIG_FORMAT_ECS;

	flush_batch(o);
	o->sinks = sinks;
	o->ecs = formats & (1U << CONFIG_FORMAT_ECS);
	o->ocsf = formats & (1U << CONFIG_FORMAT_OCSF);
}

void output_set_utf8(struct output *o, bool utf8)
{
	o->utf8 = utf8;
}

void output_set_chain(struct output *o, struct chain *chain)
{
	/* The OCSF lines' chain: the same key; from where the one it replaces is. */
	struct chain *ocsf = chain ? chain_dup(chain) : NULL;

	if (ocsf && o->ocsf_chain)
		chain_continue(ocsf, o->ocsf_chain);
	chain_free(o->ocsf_chain);
	o->ocsf_chain = ocsf; /* NULL without memory: its lines are then counted unwritable */
	o->chain = chain;
}

int output_flush(struct output *o)
{
	flush_batch(o);
	if (!o->error && fflush(o->f))
		o->error = -errno;
	return o->error;
}
