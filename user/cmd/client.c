// SPDX-License-Identifier: GPL-2.0
/* The client side of the control socket: connect, send a request, read lines. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd/client.h"

int client_connect(const char *path, const struct control_request *req, char *err, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char line[CONTROL_REQUEST_MAX + 1];
	size_t n, off = 0;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, len, "%s: too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	r = control_request_format(req, line, sizeof(line));
	if (r) {
		snprintf(err, len,
			 "the request does not fit in %d bytes (fewer or shorter --path?)",
			 CONTROL_REQUEST_MAX);
		return r;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, len, "socket: %s", strerror(errno));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		if (r == -ENOENT || r == -ECONNREFUSED)
			snprintf(err, len, "no agent is running (nothing serves %s)", path);
		else if (r == -EACCES || r == -EPERM)
			snprintf(err, len, "%s: permission denied (the control socket is for root)",
				 path);
		else
			snprintf(err, len, "%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	n = strlen(line);
	while (off < n) {
		ssize_t w = send(fd, line + off, n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		/* Refused at once (not root, too many clients): its reason is there to read. */
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (w <= 0) {
			r = -errno;
			snprintf(err, len, "%s: cannot send the request: %s", path,
				 strerror(errno));
			close(fd);
			return r;
		}
		off += w;
	}
	return fd;
}

long client_read_line(int fd, struct client_reader *r, int timeout_ms, size_t max)
{
	char *nl;

	/* Forget the line returned last time. */
	if (r->line_end) {
		memmove(r->buf, r->buf + r->line_end, r->len - r->line_end);
		r->len -= r->line_end;
		r->line_end = 0;
	}
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		if (nl) {
			*nl = '\0';
			r->line_end = nl - r->buf + 1;
			return nl - r->buf;
		}
		if (r->len >= max)
			return -EMSGSIZE;
		if (r->cap - r->len < 65536) {
			size_t cap = r->cap ? r->cap * 2 : 131072;
			char *b = realloc(r->buf, cap);

			if (!b)
				return -ENOMEM;
			r->buf = b;
			r->cap = cap;
		}
		n = poll(&p, 1, timeout_ms);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		n = read(fd, r->buf + r->len, r->cap - r->len - 1);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n < 0)
			return -EINTR;
		if (n == 0)
			return -ENODATA; /* an unfinished last line is not a line */
		r->len += n;
	}
}

void client_reader_free(struct client_reader *r)
{
	free(r->buf);
	*r = (struct client_reader){0};
}

const char *client_socket_of(const char *config_path, char *buf, size_t len)
{
	struct config_error err;
	struct config *cfg;

	if (!config_path)
		return CONTROL_SOCKET_DEFAULT;
	cfg = config_load_file(config_path, &err);
	if (!cfg) {
		char msg[1024];

		config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return NULL;
	}
	snprintf(buf, len, "%s", cfg->control_socket ?: CONTROL_SOCKET_DEFAULT);
	config_free(cfg);
	return buf;
}
