// SPDX-License-Identifier: GPL-2.0
/*
 * Sockets to watched endpoints: their connects and accepts. Their bytes
 * come in summaries, as a file's do (file.c), from the open state made here.
 */
#include <errno.h>
#include <string.h>

#include "common.h"

static void net_from_record(struct event_net *net, const struct custos_net_connect *rec)
{
	memset(net, 0, sizeof(*net));
	net->family = rec->family;
	net->transport = rec->transport;
	net->accepted = rec->accepted;
	net->in_progress = rec->error == EINPROGRESS;
	net->existing = rec->existing;
	net->local_port = rec->local_port;
	net->remote_port = rec->remote_port;
	memcpy(net->local_addr, rec->local_addr, sizeof(net->local_addr));
	memcpy(net->remote_addr, rec->remote_addr, sizeof(net->remote_addr));
}

/* A connect or accept event: its outcome from error (EINPROGRESS: still under way). */
static void emit_connect(struct events *e, uint64_t ktime_ns, const struct event_net *net,
			 const struct custos_task *task, const struct event_rule *rule,
			 const struct event_egress *egress, uint64_t open_id, int32_t error)
{
	bool failed = error && error != EINPROGRESS;
	char code[16];
	struct event ev;

	events_event_init(e, &ev, EVENT_NET_CONNECT, ktime_ns, "network", "connection,start",
			  net->accepted ? "accept" : "connect",
			  failed	     ? "failure"
			  : net->in_progress ? "unknown"
					     : "success");
	ev.net = net;
	ev.who = events_who(e, task);
	ev.rule = rule;
	ev.egress = egress;
	ev.open_id = open_id;
	if (failed) {
		ev.error_code = encode_errno_name(error, code);
		ev.error_message = strerror(error);
		ev.error_message_len = strlen(ev.error_message);
	}
	events_emit(e, &ev);
}

int events_net_connect(struct events *e, const struct custos_net_connect *rec, size_t size)
{
	const struct event_rule *rule = events_rule(e, rec->rule);
	bool failed = rec->error && rec->error != EINPROGRESS;
	const struct event_egress *egress;
	struct open_state *st = NULL;
	struct event_egress cause = {};
	struct event_net net;

	if (size < sizeof(*rec) ||
	    (rec->family != CUSTOS_NET_IPV4 && rec->family != CUSTOS_NET_IPV6 &&
	     rec->family != CUSTOS_NET_UNIX) ||
	    rec->error < 0 || (rec->open_id && failed))
		return -EINVAL;
	net_from_record(&net, rec);
	if (net.family == CUSTOS_NET_UNIX)
		net.unix_path = rule->unix_path;
	/* As the kernel decides: connections of this run are parsed from their first byte. */
	if (!rec->existing)
		net.protocol = rule->parse;
	egress = events_egress(e, &cause, rule, rec->egress_read_rule, rec->egress_read_ns);
	if (rec->open_id) {
		st = events_open_state_new(e, rec->open_id, &rec->task, rec->rule);
		if (!st)
			return -ENOMEM;
		st->socket = true;
		st->net = net;
		st->sock_ino = rec->ino;
		st->peer_ino = rec->peer_ino;
		st->egress = cause;
	}
	emit_connect(e, rec->hdr.ktime_ns, &net, &rec->task, rule, egress, rec->open_id,
		     rec->error);
	return 0;
}

/*
 * A non-blocking connect reported under way ended: a second connect event,
 * with its outcome, for the same open.
 */
int events_net_connected(struct events *e, const struct custos_net_connected *rec, size_t size)
{
	struct open_state *st;

	if (size < sizeof(*rec) || rec->error < 0 || rec->error == EINPROGRESS)
		return -EINVAL;
	st = hashmap_get(&e->opens, rec->open_id);
	if (!st || !st->socket || !st->net.in_progress)
		return 0; /* closed already, or its connect record was lost */
	st->net.in_progress = false;
	emit_connect(e, rec->hdr.ktime_ns, &st->net, &st->opener, st->rule,
		     st->rule->egress ? &st->egress : NULL, rec->open_id, rec->error);
	return 0;
}
