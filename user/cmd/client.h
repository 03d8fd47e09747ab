/* SPDX-License-Identifier: GPL-2.0 */
/* The client side of the agent's control socket (agent/control.h): custos status and trace. */
#ifndef CUSTOS_CMD_CLIENT_H
#define CUSTOS_CMD_CLIENT_H

#include <stddef.h>

#include "agent/agent.h"
#include "agent/control.h"
#include "cmd/trace.h"

/* Exit statuses of custos status (LSB's for "status": 3 is "not running"). */
#define STATUS_EXIT_OK	     0
#define STATUS_EXIT_DEGRADED 1
#define STATUS_EXIT_USAGE    2
#define STATUS_EXIT_NO_AGENT 3
#define STATUS_EXIT_UNKNOWN  4

/*
 * Connects to the agent at path and sends req. The connected fd, or -errno:
 * -ENOENT or -ECONNREFUSED when no agent serves path, -EACCES when this
 * user may not. err says it for a person.
 */
int client_connect(const char *path, const struct control_request *req, char *err, size_t len);

/*
 * The next line from fd (without its newline) into a growing *buf, waiting
 * at most timeout_ms (-1: forever). Its length, or -ENODATA at the end of
 * the stream, or -errno (-ETIMEDOUT, -EMSGSIZE past max bytes, -EINTR).
 */
struct client_reader {
	char *buf;
	size_t len, cap, line_end; /* bytes held; the line returned ends at line_end */
};
long client_read_line(int fd, struct client_reader *r, int timeout_ms, size_t max);
void client_reader_free(struct client_reader *r);

/* The control socket of config_path's config (NULL: the built-in one), or the default. */
const char *client_socket_of(const char *config_path, char *buf, size_t len);

/*
 * custos trace attached to the agent at socket_path (attach.c): its exit
 * status, or TRACE_NO_AGENT when no agent serves the socket.
 */
#define TRACE_NO_AGENT (-1)
int trace_attach(const char *socket_path, const struct trace_options *t);

#endif /* CUSTOS_CMD_CLIENT_H */
