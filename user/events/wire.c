// SPDX-License-Identifier: GPL-2.0
/*
 * Database protocol messages of parsed sockets (endpoints marked "parse"):
 * the parts the kernel forwards are put together into whole messages, per
 * stream, and given to the protocol's parser (pgwire.c, mywire.c), whose statements
 * become database events with custos.db.source "wire". A statement is
 * reported once: a statement sent from inside a probed client library call
 * is that probe's to report, and the server's side of a connection whose
 * client is on this host and parsed too leaves it to the client's side
 * (which knows the process and the human).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/dbprobe.h"
#include "common.h"
#include "mywire.h"
#include "pgwire.h"

/* The most of one message the kernel forwards is a statement's 4 KiB and a name. */
#define WIRE_MESSAGE_MAX 65536

/* A message being put together from its parts. */
struct wire_part {
	uint8_t *buf;
	size_t len, cap;
	bool active;
	uint8_t type;
	uint32_t code, rows;
	uint64_t time_ns;
	struct custos_task task;
};

struct wire_conn {
	/* The connection's parser: one of them. */
	struct pgwire *pg;
	struct mywire *my;
	struct wire_part part[2]; /* by stream */
	bool quiet;		  /* the server's side of a client parsed here: not reported */
};

/* What the parser's statements need to become events. */
struct wire_emit {
	struct events *e;
	struct open_state *st;
};

static const char *const lost_reasons[] = {
    [CUSTOS_WIRE_LOST_FRAMING] = "framing",	[CUSTOS_WIRE_LOST_STEPS] = "too_many_messages",
    [CUSTOS_WIRE_LOST_NO_BUFFER] = "no_buffer", [CUSTOS_WIRE_LOST_UNREADABLE] = "unreadable",
    [CUSTOS_WIRE_LOST_PROTOCOL] = "protocol",	[CUSTOS_WIRE_LOST_COMPRESSED] = "compressed",
};

const char *wire_protocol_name(int parse)
{
	switch (parse) {
	case CONFIG_WIRE_POSTGRESQL:
		return "postgresql";
	case CONFIG_WIRE_MYSQL:
		return "mysql";
	}
	return NULL;
}

static const char *parser_user(const struct wire_conn *w)
{
	return w->my ? mywire_user(w->my) : pgwire_user(w->pg);
}

static const char *parser_database(const struct wire_conn *w)
{
	return w->my ? mywire_database(w->my) : pgwire_database(w->pg);
}

static uint64_t parser_dropped(const struct wire_conn *w)
{
	return w->my ? mywire_dropped(w->my) : pgwire_dropped(w->pg);
}

static void parser_message(struct wire_conn *w, const struct wire_msg *m, wire_emit_fn emit,
			   void *ctx)
{
	if (w->my)
		mywire_message(w->my, m, emit, ctx);
	else
		pgwire_message(w->pg, m, emit, ctx);
}

/* The parser's statements still waiting are emitted (if emit), and it is gone. */
static void parser_free(struct wire_conn *w, uint64_t end_ns, wire_emit_fn emit, void *ctx)
{
	mywire_free(w->my, end_ns, emit, ctx);
	pgwire_free(w->pg, end_ns, emit, ctx);
	w->my = NULL;
	w->pg = NULL;
}

void events_wire_free(struct wire_conn *w)
{
	if (!w)
		return;
	parser_free(w, 0, NULL, NULL);
	free(w->part[0].buf);
	free(w->part[1].buf);
	free(w);
}

static void wire_statement(void *ctx, const struct wire_statement *s)
{
	const struct wire_emit *we = ctx;
	const struct open_state *st = we->st;
	const struct event_net *net = &st->net;
	char host[48], port[8];
	struct db_report r = {
	    .system = st->wire->my ? DBPROBE_MYSQL : DBPROBE_POSTGRESQL,
	    .text = s->text,
	    .len = s->len,
	    .truncated = s->truncated,
	    .prepared_name = s->prepared_name,
	    .rows = s->rows,
	    .affected = s->affected,
	    .failed = s->failed,
	    .incomplete = s->incomplete,
	    .error_code = s->sqlstate,
	    .error = s->error,
	    .start_ns = s->start_ns,
	    .end_ns = s->end_ns,
	    .user = parser_user(st->wire),
	    .namespace = parser_database(st->wire),
	    .source = "wire",
	    .net = net,
	    .endpoint = st->rule,
	    .open_id = st->open_id,
	    .task = s->task,
	};

	if (s->library || st->wire->quiet)
		return;
	if (net->family == CUSTOS_NET_UNIX) {
		r.socket = net->unix_path;
	} else if (net->accepted) {
		/* The server's side: the server is this end. */
		r.host = encode_net_addr(net->family, net->local_addr, host);
		snprintf(port, sizeof(port), "%u", net->local_port);
		r.port = port;
	} else {
		r.host = encode_net_addr(net->family, net->remote_addr, host);
		snprintf(port, sizeof(port), "%u", net->remote_port);
		r.port = port;
	}
	events_db_report(we->e, &r);
}

void events_wire_end(struct events *e, struct open_state *st, uint64_t boot_ns)
{
	struct wire_emit we = {.e = e, .st = st};

	if (!st->wire)
		return;
	parser_free(st->wire, boot_ns, wire_statement, &we);
	events_wire_free(st->wire);
	st->wire = NULL;
}

/* Is client the other end of server, an accepted connection (same addresses, or unix peer)? */
static bool ends_meet(const struct open_state *client, const struct open_state *server)
{
	const struct event_net *c = &client->net, *s = &server->net;

	if (c->family != s->family)
		return false;
	if (c->family == CUSTOS_NET_UNIX)
		return server->peer_ino && client->sock_ino == server->peer_ino;
	return c->local_port == s->remote_port && c->remote_port == s->local_port &&
	       !memcmp(c->local_addr, s->remote_addr, sizeof(c->local_addr)) &&
	       !memcmp(c->remote_addr, s->local_addr, sizeof(c->remote_addr));
}

/* The server's side of st: is its client a connection parsed here, on its own side? */
static bool client_parsed_here(const struct events *e, const struct open_state *st)
{
	const struct open_state *other;
	size_t i = 0;
	void *v;

	if (!st->net.accepted)
		return false;
	while (hashmap_next(&e->opens, &i, NULL, &v)) {
		other = v;
		if (other != st && other->socket && !other->net.accepted && other->net.protocol &&
		    ends_meet(other, st))
			return true;
	}
	return false;
}

/* Appends a record's data to its stream's message; true when the message is whole. */
static bool wire_assemble(struct wire_part *p, const struct custos_wire_msg *rec)
{
	size_t need;

	if (rec->offset == 0) {
		p->active = true;
		p->len = 0;
		p->type = rec->type;
		p->code = rec->aux;
		p->rows = 0;
		p->time_ns = rec->hdr.ktime_ns;
		p->task = rec->task;
	} else if (!p->active || rec->type != p->type || rec->offset != p->len) {
		p->active = false; /* a part went missing: the message is not used */
		return false;
	}
	p->rows += rec->rows;
	need = p->len + rec->data_len;
	if (need > WIRE_MESSAGE_MAX) {
		p->active = false; /* more than the kernel ever forwards of a message */
		return false;
	}
	if (need > p->cap) {
		uint8_t *grown = realloc(p->buf, need);

		if (!grown) {
			p->active = false;
			return false;
		}
		p->buf = grown;
		p->cap = need;
	}
	if (rec->data_len)
		memcpy(p->buf + p->len, rec->data, rec->data_len);
	p->len = need;
	return (rec->flags & CUSTOS_WIRE_F_LAST) != 0;
}

int events_wire(struct events *e, const struct custos_wire_msg *rec, size_t size)
{
	struct open_state *st;
	struct wire_emit we;
	struct wire_part *p;
	struct wire_msg m;
	uint64_t dropped;

	if (!record_fits(size, sizeof(*rec), rec->data_len) || rec->stream > CUSTOS_WIRE_BACKEND ||
	    rec->event < CUSTOS_WIRE_MSG || rec->event > CUSTOS_WIRE_LOST)
		return -EINVAL;
	st = hashmap_get(&e->opens, rec->open_id);
	if (!st || !st->socket || !st->net.protocol)
		return 0; /* its connect was lost: nothing to pair its statements with */
	if (rec->event == CUSTOS_WIRE_TLS) {
		st->net.tls = true;
		return 0;
	}
	if (rec->event == CUSTOS_WIRE_LOST) {
		st->net.parse_lost = rec->aux < sizeof(lost_reasons) / sizeof(lost_reasons[0]) &&
					     lost_reasons[rec->aux]
					 ? lost_reasons[rec->aux]
					 : "unknown";
		e->stats.wire_lost++;
		return 0;
	}
	if (!st->wire) {
		st->wire = calloc(1, sizeof(*st->wire));
		if (!st->wire)
			return -ENOMEM;
		if (!strcmp(st->net.protocol, "mysql"))
			st->wire->my = mywire_new();
		else
			st->wire->pg = pgwire_new();
		if (!st->wire->pg && !st->wire->my) {
			events_wire_free(st->wire);
			st->wire = NULL;
			return -ENOMEM;
		}
		/* Its client connected before its server read a byte: decided once, here. */
		st->wire->quiet = client_parsed_here(e, st);
	}
	p = &st->wire->part[rec->stream];
	if (!wire_assemble(p, rec))
		return 0;
	p->active = false;
	m = (struct wire_msg){
	    .stream = rec->stream,
	    .type = p->type,
	    .code = p->code,
	    .body = p->buf,
	    .len = p->len,
	    .truncated = (rec->flags & CUSTOS_WIRE_F_TRUNCATED) != 0,
	    .library = (rec->flags & CUSTOS_WIRE_F_LIBRARY) != 0,
	    .rows = p->rows,
	    .time_ns = p->time_ns,
	    .task = &p->task,
	};
	we = (struct wire_emit){.e = e, .st = st};
	dropped = parser_dropped(st->wire);
	parser_message(st->wire, &m, wire_statement, &we);
	e->stats.wire_dropped += parser_dropped(st->wire) - dropped;
	return 0;
}
