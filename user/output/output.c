// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
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
	struct event_filter filter;
	bool utf8;
	bool color; /* escape sequences: dim times, coloured actions, alerts bold red */
	/* Human lines held for the reorder window, sorted by time (output_set_reorder). */
	int64_t reorder_ns;
	struct held_line *held;
	size_t n_held, cap_held;
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

struct held_line {
	int64_t time_ns;
	char *text; /* with its newline */
};

#define HELD_MAX 65536 /* lines held at most: past it the oldest go out at once */

struct output *output_new(FILE *f, enum output_format format, const struct event_filter *filter)
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
	o->color = isatty(fileno(f));
	return o;
}

void output_set_color(struct output *o, enum output_color color)
{
	o->color =
	    color == OUTPUT_COLOR_ALWAYS || (color == OUTPUT_COLOR_AUTO && isatty(fileno(o->f)));
}

void output_set_reorder(struct output *o, int64_t window_ns)
{
	o->reorder_ns = window_ns;
}

/* Writes the held lines of before_ns or older (all with INT64_MAX). */
static void release_held(struct output *o, int64_t before_ns)
{
	size_t i, n = 0;

	while (n < o->n_held && o->held[n].time_ns <= before_ns)
		n++;
	for (i = 0; i < n; i++) {
		fputs(o->held[i].text, o->f);
		free(o->held[i].text);
	}
	if (!n)
		return;
	memmove(o->held, o->held + n, (o->n_held - n) * sizeof(*o->held));
	o->n_held -= n;
}

/* Holds a line in time order (after those of the same time); written at once if it cannot be. */
static void hold_line(struct output *o, int64_t time_ns, const char *line)
{
	struct held_line *h;
	char *text;
	size_t i;

	if (o->n_held == HELD_MAX)
		release_held(o, o->held[0].time_ns);
	if (o->n_held == o->cap_held) {
		size_t cap = o->cap_held ? 2 * o->cap_held : 256;

		h = realloc(o->held, cap * sizeof(*h));
		if (!h)
			goto write_now;
		o->held = h;
		o->cap_held = cap;
	}
	if (asprintf(&text, "%s\n", line) < 0)
		goto write_now;
	i = o->n_held;
	while (i > 0 && o->held[i - 1].time_ns > time_ns)
		i--;
	memmove(o->held + i + 1, o->held + i, (o->n_held - i) * sizeof(*o->held));
	o->held[i] = (struct held_line){.time_ns = time_ns, .text = text};
	o->n_held++;
	return;
write_now:
	fprintf(o->f, "%s\n", line);
}

void output_free(struct output *o)
{
	if (!o)
		return;
	while (o->n_held)
		free(o->held[--o->n_held].text);
	free(o->held);
	line_batch_free(&o->batch);
	line_batch_free(&o->ocsf_batch);
	chain_free(o->ocsf_chain);
	free(o);
}

size_t output_safe_text(char *buf, size_t cap, size_t o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	if (o >= cap)
		return o;
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

/* Appends printf's text to buf at o, as much as fits; returns the new length (below cap). */
__attribute__((format(printf, 4, 5))) static size_t putf(char *buf, size_t cap, size_t o,
							 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o + 1 >= cap)
		return o;
	va_start(ap, fmt);
	n = vsnprintf(buf + o, cap - o, fmt, ap);
	va_end(ap);
	if (n < 0)
		return o;
	return o + n < cap ? o + n : cap - 1;
}

static size_t put_safe(char *buf, size_t cap, size_t o, const char *s)
{
	return s ? output_safe_text(buf, cap, o, s, strlen(s))
		 : output_safe_text(buf, cap, o, "-", 1);
}

/* Escape sequences of the human lines (--color). */
#define SGR_RESET  "\033[0m"
#define SGR_DIM	   "\033[2m"
#define SGR_ALERT  "\033[1;31m" /* bold red */
#define SGR_FAILED "\033[31m"	/* red: refused opens, failed statements and connects */
#define SGR_READ   "\033[36m"	/* cyan: open, close, flush, mmap */
#define SGR_CHANGE "\033[33m"	/* yellow: truncate, chmod, chown, unlink, rename */
#define SGR_DB	   "\033[35m"	/* magenta: statements */
#define SGR_NET	   "\033[34m"	/* blue: connect, accept and socket summaries */
#define SGR_EGRESS "\033[1;35m" /* bold magenta: the egress mark */

static bool failed(const struct event *ev)
{
	return ev->outcome && !strcmp(ev->outcome, "failure");
}

static const char *action_color(const struct event *ev)
{
	if (failed(ev))
		return SGR_FAILED;
	if (ev->kind == EVENT_DB_STATEMENT)
		return SGR_DB;
	if (ev->net)
		return SGR_NET;
	if (ev->kind == EVENT_FILE_CHANGE)
		return SGR_CHANGE;
	return SGR_READ;
}

/*
 * BYTES: read since the last line of this open file, "READ/WRITTEN" if it
 * wrote (received/sent for a socket, written for an egress file); ROWS of a
 * statement; a change's new length, mode or owner (UID, UID:GID, :GID);
 * the error if it failed.
 */
static void human_count(const struct event *ev, char num[32])
{
	const struct custos_io *io = &ev->summary.since;
	const struct event_change *c = &ev->change;

	snprintf(num, 32, "-");
	if (ev->kind == EVENT_FILE_SUMMARY && ev->net) /* received, and sent */
		snprintf(num, 32, "%llu/%llu", (unsigned long long)io->bytes_read,
			 (unsigned long long)io->bytes_written);
	else if (ev->kind == EVENT_FILE_SUMMARY && ev->rule && ev->rule->egress) /* a new file */
		snprintf(num, 32, "%llu", (unsigned long long)io->bytes_written);
	else if (ev->kind == EVENT_FILE_SUMMARY && io->bytes_written)
		snprintf(num, 32, "%llu/%llu", (unsigned long long)io->bytes_read,
			 (unsigned long long)io->bytes_written);
	else if (ev->kind == EVENT_FILE_SUMMARY)
		snprintf(num, 32, "%llu", (unsigned long long)io->bytes_read);
	else if (ev->kind == EVENT_DB_STATEMENT && ev->db.rows >= 0)
		snprintf(num, 32, "%lld", (long long)ev->db.rows);
	else if (ev->kind == EVENT_FILE_CHANGE && c->op == CUSTOS_CHANGE_TRUNCATE)
		snprintf(num, 32, "%llu", (unsigned long long)c->arg);
	else if (ev->kind == EVENT_FILE_CHANGE && c->op == CUSTOS_CHANGE_CHMOD)
		snprintf(num, 32, "%04o", (unsigned int)(c->arg & 07777));
	else if (ev->kind == EVENT_FILE_CHANGE && c->op == CUSTOS_CHANGE_CHOWN) {
		/* (uid_t)-1 leaves the owner (or the group) as it is: chown(1)'s notation. */
		if ((uint32_t)c->arg != UINT32_MAX && c->arg2 != UINT32_MAX)
			snprintf(num, 32, "%u:%u", (uint32_t)c->arg, c->arg2);
		else if ((uint32_t)c->arg != UINT32_MAX)
			snprintf(num, 32, "%u", (uint32_t)c->arg);
		else if (c->arg2 != UINT32_MAX)
			snprintf(num, 32, ":%u", c->arg2);
	}
	if (failed(ev))
		put_safe(num, 32, 0, ev->error_code ? ev->error_code : "failed");
}

static void human_line(const struct event *ev, bool utf8, bool color, char *buf, size_t cap);

/* The line, and for egress (no rule: a session that read customer data) an " (egress)" after it. */
static void human_line_marked(const struct event *ev, bool utf8, bool color, char *buf, size_t cap)
{
	size_t n;

	human_line(ev, utf8, color, buf, cap);
	n = strlen(buf);
	if (ev->rule && ev->rule->egress && n < cap)
		snprintf(buf + n, cap - n,
			 color ? " " SGR_EGRESS "(egress)" SGR_RESET : " (egress)");
}

void output_human_line(const struct event *ev, bool utf8, char *buf, size_t cap)
{
	human_line_marked(ev, utf8, false, buf, cap);
}

static void human_line(const struct event *ev, bool utf8, bool color, char *buf, size_t cap)
{
	const struct event_who *who = ev->who;
	const char *arrow = utf8 ? "→" : "->";
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
	o = putf(buf, cap, 0, color ? SGR_DIM "%.12s" SGR_RESET " " : "%.12s ", ts + 11);
	o = put_safe(buf, cap, o, who && who->audit_name ? who->audit_name : login);
	o = putf(buf, cap, o, "%s", arrow);
	o = put_safe(buf, cap, o, who && who->user_name ? who->user_name : user);
	o = putf(buf, cap, o, " %u ", who ? who->task.tgid : 0);
	o = who ? output_safe_text(buf, cap, o, who->task.comm,
				   strnlen(who->task.comm, sizeof(who->task.comm)))
		: put_safe(buf, cap, o, NULL);
	/* The action and the error code come from the line in trace --file: escaped too. */
	o = putf(buf, cap, o, " %s", color ? action_color(ev) : "");
	o = put_safe(buf, cap, o, ev->action);
	o = putf(buf, cap, o, " %s%s ", num, color ? SGR_RESET : "");
	if (o >= cap)
		return;
	if (ev->net) { /* the peer: "10.1.2.3:5432", "[::1]:5432" */
		char ip[48];

		if (ev->net->unix_path)
			put_safe(buf, cap, o, ev->net->unix_path);
		else if (ev->net->family == CUSTOS_NET_IPV4 || ev->net->family == CUSTOS_NET_IPV6)
			putf(buf, cap, o, ev->net->family == CUSTOS_NET_IPV6 ? "[%s]:%u" : "%s:%u",
			     encode_net_addr(ev->net->family, ev->net->remote_addr, ip),
			     ev->net->remote_port);
		else
			put_safe(buf, cap, o, NULL);
		return;
	}
	if (ev->kind != EVENT_DB_STATEMENT) {
		/* A rename: "FROM → TO". */
		if (ev->kind == EVENT_FILE_CHANGE && ev->change.rename_from) {
			o = output_safe_text(buf, cap, o, ev->change.rename_from,
					     ev->change.rename_from_len);
			if (o + 8 < cap)
				o = putf(buf, cap, o, " %s ", arrow);
		}
		if (ev->file && ev->file->path_len)
			output_safe_text(buf, cap, o, ev->file->path, ev->file->path_len);
		else
			put_safe(buf, cap, o, NULL);
		return;
	}
	/* A statement: "postgresql: SELECT ... FROM customers WHERE id = ?", rows as BYTES. */
	o = put_safe(buf, cap, o, ev->db.system);
	o = putf(buf, cap, o, ": ");
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
	o = putf(buf, cap, 0, "%.12s ALERT ", ts + 11);
	o = put_safe(buf, cap, o, a->rule_name);
	for (i = 0; i < a->n_group && o < cap; i++) {
		o = putf(buf, cap, o, " ");
		o = put_safe(buf, cap, o, a->group[i].name);
		o = putf(buf, cap, o, "=");
		o = put_safe(buf, cap, o, a->group[i].value);
	}
	if (a->has_value && o < cap)
		o = putf(buf, cap, o, " %llu>=%llu", (unsigned long long)a->value,
			 (unsigned long long)a->threshold);
	if (a->window && o < cap) {
		o = putf(buf, cap, o, " within ");
		o = put_safe(buf, cap, o, a->window);
	}
	if (ev->who && o < cap) {
		o = putf(buf, cap, o, " pid %u ", ev->who->task.tgid);
		o = output_safe_text(buf, cap, o, ev->who->task.comm,
				     strnlen(ev->who->task.comm, sizeof(ev->who->task.comm)));
	}
	if (a->technique_id && o < cap) {
		o = putf(buf, cap, o, " [");
		o = put_safe(buf, cap, o, a->technique_id);
		if (a->technique_name) {
			o = putf(buf, cap, o, " ");
			o = put_safe(buf, cap, o, a->technique_name);
		}
		if (o < cap)
			putf(buf, cap, o, "]");
	}
}

/* The human line of an event (alerts and the agent's notes included), no newline. */
static void human_any(const struct output *o, const struct event *ev, char *line, size_t cap)
{
	char text[16384];

	if (ev->kind == EVENT_ALERT) {
		/* Highlighted: bold red. */
		human_alert_line(ev, text, sizeof(text));
		snprintf(line, cap, o->color ? SGR_ALERT "%s" SGR_RESET : "%s", text);
	} else if (ev->kind == EVENT_AGENT) {
		/* Agent events: a short note, not a data line. */
		snprintf(text, sizeof(text), "# ");
		put_safe(text, sizeof(text), 2, ev->action ? ev->action : "agent");
		snprintf(line, cap, o->color ? SGR_DIM "%s" SGR_RESET : "%s", text);
	} else {
		human_line_marked(ev, o->utf8, o->color, line, cap);
	}
}

static int write_human(struct output *o, const struct event *ev)
{
	char line[16384 + 32];

	human_any(o, ev, line, sizeof(line));
	if (o->reorder_ns) {
		hold_line(o, ev->time_ns, line);
		return 0;
	}
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
	if (!event_filter_keep(&o->filter, ev))
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
	struct timespec now;

	if (o->n_held && !clock_gettime(CLOCK_REALTIME, &now))
		release_held(o, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - o->reorder_ns);
	flush_batch(o);
	if (!o->error && fflush(o->f))
		o->error = -errno;
	return o->error;
}

int output_drain(struct output *o)
{
	release_held(o, INT64_MAX);
	return output_flush(o);
}
