// SPDX-License-Identifier: GPL-2.0
/* ECS event lines back into typed events (decode.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/decode.h"
#include "report/when.h"

/* Reading a line: the first field of the wrong type. */
struct reading {
	struct decoded *d;
	json_t *escaped; /* custos.escaped, or NULL */
	const char *bad;
	const char *expected;
};

/* The value at a dotted path ("user.audit.name"), or NULL. */
static json_t *at(json_t *root, const char *path)
{
	char key[64];
	json_t *v = root;

	while (v && *path) {
		size_t n = strcspn(path, ".");

		if (!json_is_object(v) || n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return v;
}

static void bad(struct reading *r, const char *field, const char *expected)
{
	if (!r->bad) {
		r->bad = field;
		r->expected = expected;
	}
}

static bool is_escaped(struct reading *r, const char *field)
{
	size_t i;
	json_t *v;

	json_array_foreach(r->escaped, i, v) if (json_is_string(v) &&
						 !strcmp(json_string_value(v), field)) return true;
	return false;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \xNN and \\ back into the bytes they stand for (jsonstr.h); anything else as it is. */
static size_t unescape(const char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == '\\') {
			out[o++] = '\\';
			i += 2;
		} else if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hex(s[i + 2]) >= 0 &&
			   hex(s[i + 3]) >= 0) {
			out[o++] = (char)(hex(s[i + 2]) * 16 + hex(s[i + 3]));
			i += 4;
		} else {
			out[o++] = s[i++];
		}
	}
	return o;
}

/* A string field: NULL if absent or null; its bytes if custos.escaped lists it. */
static const char *text(struct reading *r, json_t *root, const char *field, size_t *len)
{
	json_t *v = at(root, field);
	struct decoded *d = r->d;
	const char *s;
	char *b;

	*len = 0;
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		bad(r, field, "a string");
		return NULL;
	}
	s = json_string_value(v);
	*len = json_string_length(v);
	if (!is_escaped(r, field) || d->n_bytes == sizeof(d->bytes) / sizeof(d->bytes[0]))
		return s;
	b = malloc(*len + 1);
	if (!b)
		return s;
	*len = unescape(s, *len, b);
	b[*len] = '\0';
	d->bytes[d->n_bytes++] = b;
	return b;
}

static const char *str(struct reading *r, json_t *root, const char *field)
{
	size_t len;

	return text(r, root, field, &len);
}

/* A count: false if absent; max bounds it. */
static bool count(struct reading *r, json_t *root, const char *field, uint64_t max, uint64_t *out)
{
	json_t *v = at(root, field);

	if (!v || json_is_null(v))
		return false;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		bad(r, field, "a count");
		return false;
	}
	*out = json_integer_value(v);
	return true;
}

/* An id written as a string of digits ("0", "65534"): user.id, user.audit.id. */
static bool id(struct reading *r, json_t *root, const char *field, uint32_t *out)
{
	const char *s = str(r, root, field);
	unsigned long v;
	char *end;

	if (!s)
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v > UINT32_MAX) {
		bad(r, field, "a numeric id");
		return false;
	}
	*out = v;
	return true;
}

static bool is(const char *s, const char *want)
{
	return s && !strcmp(s, want);
}

static void read_who(struct reading *r, json_t *root)
{
	struct decoded *d = r->d;
	struct event_who *w = &d->who;
	uint64_t pid = 0;
	const char *comm;
	size_t len;

	if (!at(root, "process"))
		return;
	count(r, root, "process.pid", UINT32_MAX, &pid);
	w->task.tgid = pid;
	comm = text(r, root, "process.name", &len);
	if (comm)
		memcpy(w->task.comm, comm,
		       len < sizeof(w->task.comm) ? len : sizeof(w->task.comm) - 1);
	w->task.auid = (uint32_t)-1;
	id(r, root, "user.id", &w->task.uid);
	id(r, root, "user.audit.id", &w->task.auid);
	w->user_name = (char *)str(r, root, "user.name");
	w->audit_name = (char *)str(r, root, "user.audit.name");
	d->ev.who = w;
}

/* source.*, destination.* and network.*: the peer is the destination of a connect. */
static void read_net(struct reading *r, json_t *root)
{
	struct decoded *d = r->d;
	struct event_net *n = &d->net;
	const char *type = str(r, root, "network.type"), *ip, *unix_path;
	uint64_t port = 0;
	size_t len;

	n->accepted = is(str(r, root, "network.direction"), "ingress");
	n->family = is(type, "ipv6") ? CUSTOS_NET_IPV6 : is(type, "ipv4") ? CUSTOS_NET_IPV4 : 0;
	ip = str(r, root, n->accepted ? "source.ip" : "destination.ip");
	count(r, root, n->accepted ? "source.port" : "destination.port", UINT16_MAX, &port);
	n->remote_port = port;
	if (n->family && (!ip || inet_pton(n->family == CUSTOS_NET_IPV6 ? AF_INET6 : AF_INET, ip,
					   n->remote_addr) != 1))
		n->family = 0; /* shown as "-" */
	unix_path = text(r, root, "custos.net.unix", &len);
	if (unix_path && len < sizeof(d->unix_path) && !memchr(unix_path, '\0', len)) {
		memcpy(d->unix_path, unix_path, len);
		n->unix_path = d->unix_path;
		n->family = CUSTOS_NET_UNIX;
	}
	d->ev.net = n;
}

static void read_change(struct reading *r, json_t *root, const char *action)
{
	struct event_change *c = &r->d->ev.change;
	const char *mode;
	uint64_t v;

	c->arg = UINT32_MAX;
	c->arg2 = UINT32_MAX;
	if (is(action, "truncate")) {
		c->op = CUSTOS_CHANGE_TRUNCATE;
		c->arg = 0;
		if (count(r, root, "custos.change.length", INT64_MAX, &v))
			c->arg = v;
	} else if (is(action, "chmod")) {
		c->op = CUSTOS_CHANGE_CHMOD;
		mode = str(r, root, "custos.change.mode");
		c->arg = mode ? strtoul(mode, NULL, 8) & 07777 : 0;
	} else if (is(action, "chown")) {
		c->op = CUSTOS_CHANGE_CHOWN;
		if (count(r, root, "custos.change.uid", UINT32_MAX - 1, &v))
			c->arg = v;
		if (count(r, root, "custos.change.gid", UINT32_MAX - 1, &v))
			c->arg2 = v;
	} else if (is(action, "unlink")) {
		c->op = CUSTOS_CHANGE_UNLINK;
	} else if (is(action, "rename")) {
		c->op = CUSTOS_CHANGE_RENAME;
		c->rename_from = text(r, root, "custos.rename.from", &c->rename_from_len);
	}
}

static void read_alert(struct reading *r, json_t *root)
{
	struct decoded *d = r->d;
	struct event_alert *a = &d->ev.alert_info;
	json_t *group = at(root, "custos.alert.group"), *v;
	const char *key;

	a->rule_name = str(r, root, "rule.name");
	a->window = str(r, root, "custos.alert.window");
	a->has_value = count(r, root, "custos.alert.value", INT64_MAX, &a->value);
	count(r, root, "custos.alert.threshold", INT64_MAX, &a->threshold);
	if (group && !json_is_object(group))
		bad(r, "custos.alert.group", "an object");
	else if (group)
		json_object_foreach(group, key, v)
		{
			if (a->n_group == DECODE_GROUP_MAX)
				break;
			if (json_is_string(v))
				d->group[a->n_group++] = (struct event_alert_field){
				    .name = key, .value = json_string_value(v)};
		}
	a->group = d->group;
	v = at(root, "threat.technique.id");
	if (json_is_array(v) && json_is_string(json_array_get(v, 0)))
		a->technique_id = json_string_value(json_array_get(v, 0));
	v = at(root, "threat.technique.name");
	if (a->technique_id && json_is_array(v) && json_is_string(json_array_get(v, 0)))
		a->technique_name = json_string_value(json_array_get(v, 0));
}

static int decode_kind(struct reading *r, json_t *root, char *why, size_t whylen)
{
	struct decoded *d = r->d;
	struct event *ev = &d->ev;
	const char *category = str(r, root, "event.category");
	const char *kind = str(r, root, "event.kind");
	uint64_t v = 0;

	ev->action = str(r, root, "event.action");
	ev->outcome = str(r, root, "event.outcome");
	ev->dataset = str(r, root, "event.dataset");
	ev->error_code = str(r, root, "error.code");
	if (!ev->action || !kind) {
		snprintf(why, whylen, "no %s", ev->action ? "event.kind" : "event.action");
		return -EINVAL;
	}
	if (is(ev->dataset, "custos.agent")) {
		ev->kind = EVENT_AGENT;
		return 0;
	}
	read_who(r, root);
	if (is(kind, "alert")) {
		ev->kind = EVENT_ALERT;
		read_alert(r, root);
		return 0;
	}
	if (is(category, "database")) {
		ev->kind = EVENT_DB_STATEMENT;
		ev->db.system = str(r, root, "db.system");
		ev->db.text = text(r, root, "db.query.text", &ev->db.text_len);
		ev->db.rows =
		    count(r, root, "db.response.returned_rows", INT64_MAX, &v) ? (int64_t)v : -1;
		return 0;
	}
	d->file.path = text(r, root, "file.path", &d->file.path_len);
	ev->file = &d->file;
	d->rule.name = (char *)str(r, root, "custos.rule");
	d->rule.egress = json_is_true(at(root, "custos.egress"));
	if (d->rule.name || d->rule.egress)
		ev->rule = &d->rule;
	if (is(category, "network"))
		read_net(r, root);
	else if (!is(category, "file")) {
		snprintf(why, whylen, "event.category \"%.40s\" is none custos writes",
			 category ? category : "(none)");
		return -EINVAL;
	}
	if (is(ev->action, "close") || is(ev->action, "flush")) {
		uint64_t in = 0, out = 0;

		ev->kind = EVENT_FILE_SUMMARY;
		count(r, root, ev->net ? "custos.io.bytes_received" : "custos.io.bytes_read",
		      INT64_MAX, &in);
		count(r, root, ev->net ? "custos.io.bytes_sent" : "custos.io.bytes_written",
		      INT64_MAX, &out);
		ev->summary.since.bytes_read = in;
		ev->summary.since.bytes_written = out;
	} else if (ev->net) {
		ev->kind = EVENT_NET_CONNECT;
	} else if (is(ev->action, "open")) {
		ev->kind = is(ev->outcome, "failure") ? EVENT_FILE_DENIED : EVENT_FILE_OPEN;
	} else if (is(ev->action, "mmap")) {
		ev->kind = EVENT_FILE_MMAP;
	} else {
		ev->kind = EVENT_FILE_CHANGE; /* truncate, chmod, chown, unlink, rename, or newer */
		read_change(r, root, ev->action);
	}
	return 0;
}

int decode_event(const char *line, size_t len, struct decoded *d, char *why, size_t whylen)
{
	struct reading r = {.d = d};
	json_error_t err;
	json_t *ts;
	int ret;

	memset(d, 0, sizeof(*d));
	d->root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (!d->root) {
		snprintf(why, whylen, "not JSON: %s at column %d", err.text, err.column);
		return -EINVAL;
	}
	if (!json_is_object(d->root)) {
		snprintf(why, whylen, "not a JSON object");
		return -EINVAL;
	}
	r.escaped = at(d->root, "custos.escaped");
	if (r.escaped && !json_is_array(r.escaped))
		r.escaped = NULL;
	ts = json_object_get(d->root, "@timestamp");
	if (!json_is_string(ts) ||
	    when_rfc3339(json_string_value(ts), json_string_length(ts), &d->ev.time_ns)) {
		snprintf(why, whylen, "no @timestamp (an RFC 3339 time)");
		return -EINVAL;
	}
	if (!json_is_object(json_object_get(d->root, "event"))) {
		snprintf(why, whylen, "no event object");
		return -EINVAL;
	}
	ret = decode_kind(&r, d->root, why, whylen);
	if (ret)
		return ret;
	if (r.bad) {
		snprintf(why, whylen, "%s is not %s", r.bad, r.expected);
		return -EINVAL;
	}
	return 0;
}

void decoded_release(struct decoded *d)
{
	while (d->n_bytes)
		free(d->bytes[--d->n_bytes]);
	json_decref(d->root);
	d->root = NULL;
}
