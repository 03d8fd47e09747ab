/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket of a running agent (custos run): a root-only AF_UNIX
 * stream socket through which `custos status` asks for the agent's figures
 * and `custos trace` subscribes to the events the agent already makes,
 * instead of loading a second copy of every hook.
 *
 * Protocol (docs/control.md): the client sends one request, a JSON object
 * on one line of at most CONTROL_REQUEST_MAX bytes; the agent answers with
 * newline-delimited lines. Lines of the agent's own begin with {"control":
 * and name what they are:
 *
 *   {"op":"status"}
 *     -> {"control":"status","agent":{...},"stats":{...},"clients":{...}}
 *   {"op":"subscribe","format":"json"|"human","utf8":true,"color":false,
 *    "pid":N,"users":["NAME"|"UID",...],"comms":["NAME",...],
 *    "paths":["/srv/crm",...],"only":"file,db,net,alert","since_ns":N}
 *     -> {"control":"subscribed","pid":AGENT_PID,"version":"..."}
 *        then every event the filter keeps, as the agent writes it (an ECS
 *        line, or the human line of custos trace), and, after events this
 *        client had no room for, {"control":"dropped","count":N}
 *   anything else
 *     -> {"control":"error","error":"what was wrong"}, and the agent closes
 *
 * The agent never waits for a client: each has a bounded buffer; a client
 * that does not keep up loses events (counted, and told), one that reads
 * nothing for CONTROL_STALL_S seconds is disconnected, one that is not
 * subscribed and asks nothing for CONTROL_IDLE_S seconds is closed. A
 * request may end with the end of the stream instead of a newline.
 */
#ifndef CUSTOS_CONTROL_H
#define CUSTOS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "output/filter.h"
#include "output/output.h"

#define CONTROL_SOCKET_DEFAULT CONFIG_CONTROL_SOCKET_DEFAULT
#define CONTROL_REQUEST_MAX    4096	 /* bytes of a request line, its newline included */
#define CONTROL_CLIENTS_MAX    16	 /* connected at once; more are refused */
#define CONTROL_CLIENT_BUF     (4 << 20) /* bytes waiting for one client */
#define CONTROL_IDLE_S	       60	 /* a client that asks nothing this long is closed */
#define CONTROL_STALL_S	       30	 /* a client that reads nothing this long is dropped */

enum control_op {
	CONTROL_OP_STATUS = 1,
	CONTROL_OP_SUBSCRIBE = 2,
};

struct control_request {
	enum control_op op;
	/* subscribe */
	enum output_format format;  /* OUTPUT_JSON (default) or OUTPUT_HUMAN */
	bool utf8;		    /* human lines: "→" rather than "->" */
	bool color;		    /* human lines: alerts and the like in colour */
	struct event_filter filter; /* trace's: its strings are in strs */
	char *strs[3 * EVENT_FILTER_MAX];
	size_t n_strs;
};

/*
 * Parses one request line (len bytes, without its newline). 0 (free the
 * request with control_request_free), or -EINVAL with err saying what was
 * wrong, or -ENOMEM; a refused request holds nothing.
 */
int control_request_parse(const char *line, size_t len, struct control_request *req, char *err,
			  size_t err_len);
void control_request_free(struct control_request *req);
/* The request as one line (with its newline) in buf; -ENOSPC if it does not fit. */
int control_request_format(const struct control_request *req, char *buf, size_t len);

struct agent;
struct event;
struct control;

/*
 * Serves path for agent a: removes a stale socket first, refuses to take
 * over one that an agent still serves. NULL with err filled.
 */
struct control *control_new(const char *path, struct agent *a, char *err, size_t err_len);
/* Tells the clients nothing more comes, gives them what it can, closes, unlinks. */
void control_free(struct control *c);
/* An fd for the agent's epoll: readable when a client or a new one wants attention. */
int control_fd(const struct control *c);
/* Accepts, reads requests, writes what is waiting; never blocks. */
void control_handle(struct control *c);
/* An event for the subscribers (queued; control_flush sends). */
void control_event(struct control *c, const struct event *ev);
/* Writes what waits for each client, as far as its socket takes it. */
void control_flush(struct control *c);
/* Once a second: drops clients stuck for CONTROL_STALL_S, and idle ones (CONTROL_IDLE_S). */
void control_tick(struct control *c);

struct control_stats {
	uint32_t clients, subscribers;
	uint64_t accepted, refused, disconnected_stalled, events_dropped;
};
void control_stats(const struct control *c, struct control_stats *st);
/* The same as {"connected", "subscribers", "accepted", "refused", "disconnected_stalled",
 * "events_dropped"}, for custos status. */
json_t *control_stats_json(const struct control *c);

#endif /* CUSTOS_CONTROL_H */
