// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's server (control.h): non-blocking, every client with
 * a bounded buffer, so no client can hold up the agent's loop or outputs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_priv.h"
#include "agent/control.h"
#include "encode/event.h"
#include "lib/version.h"

/* Room kept beyond CONTROL_CLIENT_BUF for the agent's own lines (a drop count, an error). */
#define CONTROL_SLACK 512

struct client {
	int fd;
	uid_t uid;
	char in[CONTROL_REQUEST_MAX];
	size_t in_len;
	char *out; /* bytes out_off..out_len wait for the socket */
	size_t out_len, out_off, out_cap;
	uint32_t events;     /* what epoll watches for it */
	bool closing;	     /* close once what waits is written (or at once if it cannot be) */
	bool subscribed;     /* events flow to it */
	bool in_event;	     /* the cookie's writes are one event's line */
	bool event_lost;     /* this event did not fit */
	bool attempted;	     /* the filter kept this event: its line went to the cookie */
	uint64_t dropped;    /* events not yet announced as dropped */
	time_t stuck_since;  /* 0: the socket took what it was given */
	time_t last_request; /* or when it connected */
	struct control_request req;
	struct output *o; /* the subscriber's own filter and format, writing into out */
	FILE *f;
};

struct control {
	int lfd, epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct agent *a;
	struct client *clients[CONTROL_CLIENTS_MAX];
	uint64_t accepted, refused, stalled, events_dropped;
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Appends to the client's buffer: -ENOBUFS past limit (nothing appended), -ENOMEM. */
static int client_put(struct client *cl, const char *data, size_t len, size_t limit)
{
	size_t pending = cl->out_len - cl->out_off;

	if (pending + len > limit)
		return -ENOBUFS;
	if (cl->out_off && cl->out_len + len > cl->out_cap) {
		memmove(cl->out, cl->out + cl->out_off, pending);
		cl->out_len = pending;
		cl->out_off = 0;
	}
	if (cl->out_len + len > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;
		char *p;

		while (cap < cl->out_len + len)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p)
			return -ENOMEM;
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, data, len);
	cl->out_len += len;
	return 0;
}

/* The agent's own line (json_t consumed), with room beyond the events' bound. */
static void client_say(struct client *cl, json_t *msg)
{
	char *text = msg ? json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(msg);
	if (!text || client_put(cl, text, strlen(text), CONTROL_CLIENT_BUF + CONTROL_SLACK) ||
	    client_put(cl, "\n", 1, CONTROL_CLIENT_BUF + CONTROL_SLACK))
		cl->closing = true; /* it cannot be told: better gone than misled */
	free(text);
}

static void client_error(struct client *cl, const char *msg)
{
	client_say(cl, json_pack("{s:s, s:s}", "control", "error", "error", msg));
	cl->closing = true;
}

/* The subscriber's output writes here: one event's line a call, kept whole or dropped whole. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	struct client *cl = cookie;

	cl->attempted = true;
	if (cl->event_lost || client_put(cl, buf, size, CONTROL_CLIENT_BUF))
		cl->event_lost = true;
	return size;
}

static void client_free(struct control *c, size_t i)
{
	struct client *cl = c->clients[i];

	if (cl->f)
		fclose(cl->f);
	output_free(cl->o);
	control_request_free(&cl->req);
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
	close(cl->fd);
	free(cl->out);
	free(cl);
	c->clients[i] = NULL;
}

/*
 * EPOLLOUT while something waits for it; EPOLLIN until it is closing (a
 * closing client's unread bytes would wake the loop for nothing).
 */
static void update_events(struct control *c, struct client *cl)
{
	uint32_t want = (cl->closing ? 0 : EPOLLIN) | (cl->out_off < cl->out_len ? EPOLLOUT : 0);
	struct epoll_event ev = {.events = want, .data.ptr = cl};

	if (cl->events != want && epoll_ctl(c->epfd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
		cl->events = want;
}

/* Writes what waits; false when the client is gone (then freed). */
static bool client_write(struct control *c, size_t i)
{
	struct client *cl = c->clients[i];

	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!cl->stuck_since)
				cl->stuck_since = now_s();
			update_events(c, cl);
			return true;
		}
		if (n <= 0) {
			client_free(c, i);
			return false;
		}
		cl->out_off += n;
		cl->stuck_since = 0;
	}
	cl->out_off = cl->out_len = 0;
	cl->stuck_since = 0;
	update_events(c, cl);
	if (cl->closing) {
		client_free(c, i);
		return false;
	}
	return true;
}

static int subscribe(struct control *c, struct client *cl)
{
	cookie_io_functions_t io = {.write = cookie_write};

	cl->f = fopencookie(cl, "w", io);
	if (!cl->f)
		return -ENOMEM;
	/* trace's own filter and line, as its options asked (the filter's strings: the request's)
	 */
	cl->o = output_new(cl->f, cl->req.format, &cl->req.filter);
	if (!cl->o)
		return -ENOMEM;
	output_set_utf8(cl->o, cl->req.utf8);
	output_set_color(cl->o, cl->req.color ? OUTPUT_COLOR_ALWAYS : OUTPUT_COLOR_NEVER);
	cl->subscribed = true;
	client_say(cl, json_pack("{s:s, s:i, s:s}", "control", "subscribed", "pid", (int)getpid(),
				 "version", version_string()));
	return 0;
}

static void handle_request(struct control *c, struct client *cl, const char *line, size_t len)
{
	char err[256];
	int r;

	if (cl->subscribed)
		return; /* a subscriber has said all it had to say */
	cl->last_request = now_s();
	control_request_free(&cl->req);
	r = control_request_parse(line, len, &cl->req, err, sizeof(err));
	if (r) {
		client_error(cl, err);
		return;
	}
	if (cl->req.op == CONTROL_OP_STATUS) {
		json_t *st = agent_status_json(c->a);

		if (st)
			json_object_set_new(st, "clients", control_stats_json(c));
		client_say(cl, st);
	} else if (subscribe(c, cl)) {
		client_error(cl, "out of memory");
	}
}

/* Reads what the client sent; false when it is gone (then freed). */
static bool client_read(struct control *c, size_t i)
{
	struct client *cl = c->clients[i];
	char *nl;

	for (;;) {
		ssize_t n;

		if (cl->closing)
			break;
		if (cl->in_len == sizeof(cl->in)) {
			client_error(cl,
				     "request line longer than 4096 bytes (CONTROL_REQUEST_MAX)");
			break;
		}
		n = recv(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) { /* an error: nobody to answer */
			client_free(c, i);
			return false;
		}
		if (n == 0) {
			/* It said all it had to say: a last request without its newline is one. */
			if (cl->in_len && !cl->subscribed)
				handle_request(c, cl, cl->in, cl->in_len);
			cl->in_len = 0;
			cl->closing = true; /* once what waits for it is written */
			break;
		}
		if (cl->subscribed) { /* nothing more is expected from it */
			cl->in_len = 0;
			continue;
		}
		cl->in_len += n;
		while (!cl->closing && (nl = memchr(cl->in, '\n', cl->in_len))) {
			size_t len = nl - cl->in;

			handle_request(c, cl, cl->in, len);
			memmove(cl->in, nl + 1, cl->in_len - len - 1);
			cl->in_len -= len + 1;
			if (cl->subscribed)
				cl->in_len = 0;
		}
	}
	return client_write(c, i);
}

static void accept_clients(struct control *c)
{
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN};
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client *cl;
		size_t i;
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return; /* EAGAIN, or out of fds: the others are served */
		for (i = 0; i < CONTROL_CLIENTS_MAX && c->clients[i]; i++)
			;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0 ||
		    i == CONTROL_CLIENTS_MAX) {
			const char *msg =
			    i == CONTROL_CLIENTS_MAX
				? "{\"control\":\"error\",\"error\":\"too many clients\"}\n"
				: "{\"control\":\"error\",\"error\":\"permission denied: the "
				  "control "
				  "socket is for root only\"}\n";

			c->refused++;
			/* A fresh socket's buffer takes one short line; if not, it is not told. */
			if (send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				(void)0;
			close(fd);
			continue;
		}
		cl = calloc(1, sizeof(*cl));
		if (!cl) {
			close(fd);
			continue;
		}
		cl->fd = fd;
		cl->uid = cred.uid;
		cl->last_request = now_s();
		cl->events = ev.events;
		ev.data.ptr = cl;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(cl);
			continue;
		}
		c->clients[i] = cl;
		c->accepted++;
	}
}

void control_handle(struct control *c)
{
	struct epoll_event evs[CONTROL_CLIENTS_MAX + 1];
	int i, n;
	size_t k;

	if (!c)
		return;
	n = epoll_wait(c->epfd, evs, CONTROL_CLIENTS_MAX + 1, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL) {
			accept_clients(c);
			continue;
		}
		/* The client may be gone since (freed by an earlier event of this round). */
		for (k = 0; k < CONTROL_CLIENTS_MAX && c->clients[k] != evs[i].data.ptr; k++)
			;
		if (k == CONTROL_CLIENTS_MAX)
			continue;
		if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
			client_free(c, k);
			continue;
		}
		client_read(c, k);
	}
}

/*
 * One event to a subscriber: its line whole, or nothing and one more
 * dropped. After drops, the next line that fits is preceded by
 * {"control":"dropped","count":N}, right where the events are missing.
 */
static void send_event(struct control *c, struct client *cl, const struct event *ev)
{
	size_t before = cl->out_len - cl->out_off; /* what waits; the same when the buffer moves */
	bool noted = false;
	char note[64];

	if (cl->dropped) {
		snprintf(note, sizeof(note), "{\"control\":\"dropped\",\"count\":%llu}\n",
			 (unsigned long long)cl->dropped);
		noted = client_put(cl, note, strlen(note), CONTROL_CLIENT_BUF) == 0;
	}
	cl->event_lost = cl->dropped && !noted; /* no room for the note: none for the event */
	cl->attempted = false;
	output_event(cl->o, ev);
	fflush(cl->f);
	if (cl->attempted && cl->event_lost) {
		cl->dropped++;
		c->events_dropped++;
	}
	if (!cl->attempted || cl->event_lost) {
		/* Nothing of it went in (not kept by the filter, or lost): the note waits too. */
		cl->out_len = cl->out_off + before;
		return;
	}
	cl->dropped = 0;
}

void control_event(struct control *c, const struct event *ev)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct client *cl = c->clients[i];

		if (!cl || !cl->subscribed || cl->closing)
			continue;
		send_event(c, cl, ev);
	}
}

void control_flush(struct control *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (c->clients[i] && c->clients[i]->out_off < c->clients[i]->out_len)
			client_write(c, i);
}

void control_tick(struct control *c)
{
	time_t now = now_s();
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct client *cl = c->clients[i];

		if (!cl)
			continue;
		if (cl->stuck_since && now - cl->stuck_since >= CONTROL_STALL_S) {
			c->stalled++;
			client_free(c, i);
		} else if (!cl->subscribed && now - cl->last_request >= CONTROL_IDLE_S) {
			client_free(c, i); /* a slot is not for keeping */
		}
	}
}

void control_stats(const struct control *c, struct control_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!c)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		if (!c->clients[i])
			continue;
		st->clients++;
		st->subscribers += c->clients[i]->subscribed;
	}
	st->accepted = c->accepted;
	st->refused = c->refused;
	st->disconnected_stalled = c->stalled;
	st->events_dropped = c->events_dropped;
}

json_t *control_stats_json(const struct control *c)
{
	struct control_stats st;

	control_stats(c, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "connected", (json_int_t)st.clients,
			 "subscribers", (json_int_t)st.subscribers, "accepted",
			 (json_int_t)st.accepted, "refused", (json_int_t)st.refused,
			 "disconnected_stalled", (json_int_t)st.disconnected_stalled,
			 "events_dropped", (json_int_t)st.events_dropped);
}

int control_fd(const struct control *c)
{
	return c ? c->epfd : -1;
}

/* Is a server listening at path? Then it is not ours to remove. */
static bool someone_listens(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	yes = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return yes;
}

static int listen_at(struct control *c, char *err, size_t err_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	mode_t old;
	int r;

	if (c->path[0] != '/' || strlen(c->path) >= sizeof(sa.sun_path)) {
		snprintf(err, err_len,
			 "control socket %s: expected an absolute path of at most %zu bytes",
			 c->path, sizeof(sa.sun_path) - 1);
		return -EINVAL;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	snprintf(dir, sizeof(dir), "%s", c->path);
	slash = strrchr(dir, '/');
	if (slash != dir) {
		*slash = '\0';
		/* The directory is the agent's to create: root's alone. */
		if (mkdir(dir, 0700) && errno != EEXIST) {
			r = -errno;
			snprintf(err, err_len, "control socket: cannot create %s: %s", dir,
				 strerror(errno));
			return r;
		}
	}
	if (lstat(c->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, err_len,
				 "control socket %s: exists and is not a socket (not removed)",
				 c->path);
			return -EEXIST;
		}
		if (someone_listens(&sa)) {
			snprintf(err, err_len, "control socket %s: another agent serves it",
				 c->path);
			return -EADDRINUSE;
		}
		unlink(c->path); /* stale: left by an agent that did not stop cleanly */
	}
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0)
		goto fail;
	old = umask(0177); /* born 0600: no moment where others could connect */
	r = bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || chmod(c->path, 0600) || listen(c->lfd, CONTROL_CLIENTS_MAX) || stat(c->path, &st))
		goto fail;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return 0;
fail:
	r = -errno;
	snprintf(err, err_len, "control socket %s: %s", c->path, strerror(errno));
	return r;
}

struct control *control_new(const char *path, struct agent *a, char *err, size_t err_len)
{
	struct control *c = calloc(1, sizeof(*c));
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	int r;

	if (!c) {
		snprintf(err, err_len, "control socket: out of memory");
		return NULL;
	}
	c->a = a;
	c->lfd = c->epfd = -1;
	snprintf(c->path, sizeof(c->path), "%s", path);
	r = listen_at(c, err, err_len);
	if (r == 0) {
		c->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (c->epfd < 0 || epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev)) {
			r = -errno;
			snprintf(err, err_len, "control socket: epoll: %s", strerror(errno));
		}
	}
	if (r) {
		c->ino = 0; /* not ours: not unlinked */
		control_free(c);
		errno = -r;
		return NULL;
	}
	return c;
}

void control_free(struct control *c)
{
	struct stat st;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		if (!c->clients[i])
			continue;
		c->clients[i]->closing = true;
		if (client_write(c, i)) /* what its socket does not take now is lost */
			client_free(c, i);
	}
	/* Only our own socket: another agent may have taken the name since. */
	if (c->ino && stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->epfd >= 0)
		close(c->epfd);
	free(c);
}
