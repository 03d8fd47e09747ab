// SPDX-License-Identifier: GPL-2.0
/*
 * syslog: each event line is the MSG of an RFC 5424 message, "<PRI>1
 * TIMESTAMP HOSTNAME custos PID MSGID - JSON", MSGID being the event's
 * action. TCP frames them by octet counting (RFC 6587); UDP and unix
 * datagram sockets take one message per datagram.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sink_priv.h"

/* Line i of what is being sent cannot go to the receiver at all: it is counted, never cut. */
static void transport_skip(struct transport *t, size_t i)
{
	if (!t->skipped++)
		t->skipped_first = i;
	t->skipped_last = i;
}

#define CONNECT_TIMEOUT_MS 5000
#define SEND_TIMEOUT_S	   10
#define HEADER_MAX	   256
#define UDP_MAX		   65000
#define FRAMES_MAX	   (4U << 20)

enum syslog_proto { SYSLOG_TCP, SYSLOG_UDP, SYSLOG_UNIX };

struct syslog_transport {
	struct transport t;
	enum syslog_proto proto;
	char host[256], port[16], path[108];
	char hostname[256];
	uint32_t facility;
	int fd;
	int unix_type; /* SOCK_DGRAM, or SOCK_STREAM for a stream /dev/log */
	char *frames;  /* a batch as messages */
};

static void set_why(struct transport *t, const char *what, int err)
{
	snprintf(t->why, sizeof(t->why), "%s: %s", what, strerror(err));
}

static int parse_url(struct syslog_transport *s, const char *url, char *err, size_t len)
{
	const char *hp = strstr(url, "://") + 3, *colon;

	if (!strncmp(url, "unix://", 7)) {
		s->proto = SYSLOG_UNIX;
		if (strlen(hp) >= sizeof(s->path))
			goto bad;
		strcpy(s->path, hp);
		return 0;
	}
	s->proto = !strncmp(url, "tcp://", 6) ? SYSLOG_TCP : SYSLOG_UDP;
	if (*hp == '[') { /* [IPv6]:port */
		colon = strchr(hp, ']');
		if (!colon || colon[1] != ':' || (size_t)(colon - hp - 1) >= sizeof(s->host))
			goto bad;
		snprintf(s->host, sizeof(s->host), "%.*s", (int)(colon - hp - 1), hp + 1);
		colon++;
	} else {
		colon = strrchr(hp, ':');
		if (!colon || (size_t)(colon - hp) >= sizeof(s->host) || colon == hp)
			goto bad;
		snprintf(s->host, sizeof(s->host), "%.*s", (int)(colon - hp), hp);
	}
	if (!colon[1] || strlen(colon + 1) >= sizeof(s->port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad;
	strcpy(s->port, colon + 1);
	return 0;
bad:
	snprintf(err, len, "cannot read %s as tcp://HOST:PORT, udp://HOST:PORT or unix:///PATH",
		 url);
	return -EINVAL;
}

static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	socklen_t elen = sizeof(int);
	int e = 0;

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	if (poll(&p, 1, CONNECT_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) || e)
		return -(e ? e : errno);
	return 0;
}

static int open_inet(struct syslog_transport *s)
{
	struct addrinfo hints = {.ai_socktype = s->proto == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM},
			*res, *ai;
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
	int r, fd = -1, ret = -EHOSTUNREACH;

	r = getaddrinfo(s->host, s->port, &hints, &res);
	if (r) {
		snprintf(s->t.why, sizeof(s->t.why), "%s: %s", s->host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		ret = connect_timeout(fd, ai->ai_addr, ai->ai_addrlen);
		if (ret == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(s->t.why, sizeof(s->t.why), "%s:%s: %s", s->host, s->port, strerror(-ret));
		return ret;
	}
	/* Blocking sends, bounded by a timeout: a stuck receiver is a failed one. */
	fcntl(fd, F_SETFL, 0);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	s->fd = fd;
	return 0;
}

static int open_unix(struct syslog_transport *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int types[] = {SOCK_DGRAM, SOCK_STREAM}, i, e = 0;

	strcpy(sa.sun_path, s->path);
	for (i = 0; i < 2; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			s->fd = fd;
			s->unix_type = types[i];
			return 0;
		}
		e = errno;
		close(fd);
		if (e != EPROTOTYPE)
			break;
	}
	set_why(&s->t, s->path, e);
	return -e;
}

static int syslog_open(struct transport *t)
{
	struct syslog_transport *s = (struct syslog_transport *)t;

	if (s->fd >= 0)
		return 0;
	return s->proto == SYSLOG_UNIX ? open_unix(s) : open_inet(s);
}

/* The receiver closed or reset a TCP connection: nothing is readable from a live one. */
static bool peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char c;

	if (poll(&p, 1, 0) != 1)
		return false;
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) ||
	       recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) <= 0;
}

/*
 * Where the event's action is in a line: event.action of ECS, metadata.event_code of OCSF.
 * A key with its quotes cannot be inside a string value, whose quotes are escaped.
 */
static const char *action_at(const char *line, size_t len)
{
	const char *a = memmem(line, len, "\"action\":\"", 10);

	if (a)
		return a + 10;
	a = memmem(line, len, "\"event_code\":\"", 14);
	return a ? a + 14 : NULL;
}

/* The event's action, as an RFC 5424 MSGID: printable ASCII, at most 32. */
static void msgid(const char *line, size_t len, char out[33])
{
	const char *a = action_at(line, len);
	size_t i = 0;

	if (a) {
		for (; i < 32 && a < line + len && *a != '"'; a++)
			out[i++] = *a > ' ' && *a < 0x7f && *a != '\\' ? *a : '_';
	}
	if (!i)
		out[i++] = '-';
	out[i] = '\0';
}

static size_t header(struct syslog_transport *s, const char *line, size_t len, char *buf)
{
	const char *action = action_at(line, len);
	int severity = action && line + len - action > 4 && !memcmp(action, "gap\"", 4) ? 4 : 6;
	struct timespec ts;
	char id[33], when[40];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + 19, sizeof(when) - 19, ".%06ldZ", ts.tv_nsec / 1000);
	msgid(line, len, id);
	return snprintf(buf, HEADER_MAX, "<%u>1 %s %s custos %d %s - ", s->facility * 8 + severity,
			when, s->hostname, (int)getpid(), id);
}

static int send_all(struct syslog_transport *s, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = send(s->fd, buf, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			set_why(&s->t, s->host[0] ? s->host : s->path, errno);
			return -errno;
		}
		buf += w;
		len -= w;
	}
	return 0;
}

/* TCP (and a stream /dev/log): the whole batch as octet-counted frames, in few sends. */
static int send_stream(struct syslog_transport *s, const char *buf, size_t len)
{
	size_t o = 0, start = 0;
	int r;

	if (peer_gone(s->fd)) {
		snprintf(s->t.why, sizeof(s->t.why), "%s:%s: the receiver closed the connection",
			 s->host, s->port);
		return -ECONNRESET;
	}
	while (start < len) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t n = nl - (buf + start), h;
		char head[HEADER_MAX];

		h = header(s, buf + start, n, head);
		if (o + h + n + 16 > FRAMES_MAX) {
			r = send_all(s, s->frames, o);
			if (r)
				return r;
			o = 0;
		}
		o += sprintf(s->frames + o, "%zu %s", h + n, head);
		memcpy(s->frames + o, buf + start, n);
		o += n;
		start += n + 1;
	}
	return send_all(s, s->frames, o);
}

static int send_datagrams(struct syslog_transport *s, const char *buf, size_t len)
{
	size_t start = 0, line;

	for (line = 0; start < len; line++) {
		const char *nl = memchr(buf + start, '\n', len - start);
		size_t n = nl - (buf + start), h = header(s, buf + start, n, s->frames);
		int r;

		if (s->proto == SYSLOG_UDP && h + n > UDP_MAX) {
			transport_skip(&s->t, line); /* a datagram cannot carry it */
		} else {
			memcpy(s->frames + h, buf + start, n);
			r = send_all(s, s->frames, h + n);
			if (r == -EMSGSIZE)
				transport_skip(&s->t, line);
			else if (r)
				return r;
		}
		start += n + 1;
	}
	return 0;
}

static int syslog_send(struct transport *t, const char *buf, size_t len)
{
	struct syslog_transport *s = (struct syslog_transport *)t;

	if (s->proto == SYSLOG_TCP || (s->proto == SYSLOG_UNIX && s->unix_type == SOCK_STREAM))
		return send_stream(s, buf, len);
	return send_datagrams(s, buf, len);
}

/* Graceful: our FIN, then the receiver's; it has read everything before closing. */
static int syslog_close(struct transport *t, bool graceful)
{
	struct syslog_transport *s = (struct syslog_transport *)t;
	struct pollfd p = {.events = POLLIN};
	char buf[256];
	int ret = graceful && s->proto == SYSLOG_TCP ? -ETIMEDOUT : 0;

	if (s->fd < 0)
		return ret;
	if (ret && shutdown(s->fd, SHUT_WR) == 0) {
		p.fd = s->fd;
		while (poll(&p, 1, 2000) == 1) {
			ssize_t n = recv(s->fd, buf, sizeof(buf), 0);

			if (n == 0)
				ret = 0;
			if (n <= 0)
				break;
		}
	}
	close(s->fd);
	s->fd = -1;
	return ret;
}

static void syslog_destroy(struct transport *t)
{
	struct syslog_transport *s = (struct syslog_transport *)t;

	if (s->fd >= 0)
		close(s->fd);
	free(s->frames);
	free(s);
}

static const struct transport_ops syslog_ops = {
    .open = syslog_open,
    .send = syslog_send,
    .close = syslog_close,
    .destroy = syslog_destroy,
};

struct transport *transport_syslog(const struct config_output *o, const char *host, char *err,
				   size_t len)
{
	struct syslog_transport *s = calloc(1, sizeof(*s));

	if (!s || !(s->frames = malloc(FRAMES_MAX + HEADER_MAX + (1U << 20)))) {
		free(s);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	s->t.ops = &syslog_ops;
	s->fd = -1;
	s->facility = o->facility;
	snprintf(s->hostname, sizeof(s->hostname), "%s", host && host[0] ? host : "-");
	if (parse_url(s, o->url, err, len)) {
		syslog_destroy(&s->t);
		return NULL;
	}
	/* TCP says nothing of what the receiver kept: sends are replayed after a failure. */
	s->t.acked = s->proto != SYSLOG_TCP;
	s->t.spooled = true;
	return &s->t;
}
