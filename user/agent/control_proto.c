// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's requests: one JSON object a line (control.h), parsed
 * strictly; a subscription's filter is checked by trace's own option
 * parsers (output/filter.h), so the agent keeps what trace would.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/control.h"

static int bad(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct {
	const char *name;
	unsigned int bit;
} kinds[] = {
    {"file", EVENT_FILTER_FILE},
    {"db", EVENT_FILTER_DB},
    {"net", EVENT_FILTER_NET},
    {"alert", EVENT_FILTER_ALERT},
};

/* A list of strings, each given to add (trace's parser of that option); the request keeps them. */
static int get_list(json_t *v, const char *key, struct control_request *req,
		    int (*add)(struct event_filter *f, const char *arg, char *err, size_t len),
		    char *err, size_t len)
{
	size_t i, n;
	json_t *s;
	int r;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return bad(err, len, "\"%s\" must be an array of strings", key);
	json_array_foreach(v, i, s)
	{
		n = json_is_string(s) ? json_string_length(s) : 0;
		if (!n || memchr(json_string_value(s), '\0', n))
			return bad(err, len, "\"%s\"[%zu] must be a string, without NUL", key, i);
		if (req->n_strs == sizeof(req->strs) / sizeof(req->strs[0]))
			return bad(err, len, "too many strings");
		req->strs[req->n_strs] = strdup(json_string_value(s));
		if (!req->strs[req->n_strs])
			return -ENOMEM;
		r = add(&req->filter, req->strs[req->n_strs++], err, len);
		if (r)
			return -EINVAL;
	}
	return 0;
}

static int parse_subscribe(json_t *root, struct control_request *req, char *err, size_t len)
{
	const char *key;
	json_t *v;
	int r = 0;

	json_object_foreach(root, key, v)
	{
		if (!strcmp(key, "op")) {
			continue;
		} else if (!strcmp(key, "format")) {
			const char *f = json_is_string(v) ? json_string_value(v) : "";

			if (!strcmp(f, "json"))
				req->format = OUTPUT_JSON;
			else if (!strcmp(f, "human"))
				req->format = OUTPUT_HUMAN;
			else
				return bad(err, len, "\"format\" must be \"json\" or \"human\"");
		} else if (!strcmp(key, "utf8") || !strcmp(key, "color")) {
			if (!json_is_boolean(v))
				return bad(err, len, "\"%s\" must be true or false", key);
			*(key[0] == 'u' ? &req->utf8 : &req->color) = json_is_true(v);
		} else if (!strcmp(key, "pid")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 4194304)
				return bad(err, len, "\"pid\" must be a process id");
			req->filter.pid = json_integer_value(v);
		} else if (!strcmp(key, "since_ns")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1)
				return bad(err, len,
					   "\"since_ns\" must be a time in ns since 1970");
			req->filter.since_ns = json_integer_value(v);
		} else if (!strcmp(key, "only")) {
			if (!json_is_string(v) ||
			    memchr(json_string_value(v), '\0', json_string_length(v)))
				return bad(err, len, "\"only\" must be a string (\"file,db\")");
			r = event_filter_set_only(&req->filter, json_string_value(v), err, len)
				? -EINVAL
				: 0;
		} else if (!strcmp(key, "users")) {
			r = get_list(v, key, req, event_filter_add_user, err, len);
		} else if (!strcmp(key, "comms")) {
			r = get_list(v, key, req, event_filter_add_comm, err, len);
		} else if (!strcmp(key, "paths")) {
			r = get_list(v, key, req, event_filter_add_path, err, len);
		} else {
			return bad(err, len, "unknown key \"%.64s\" in a subscribe request", key);
		}
		if (r)
			return r;
	}
	return 0;
}

int control_request_parse(const char *line, size_t len, struct control_request *req, char *err,
			  size_t err_len)
{
	json_error_t jerr;
	json_t *root, *op;
	int r = 0;

	memset(req, 0, sizeof(*req));
	req->format = OUTPUT_JSON;
	if (err_len)
		err[0] = '\0';
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bad(err, err_len, "not a JSON request: %s", jerr.text);
	op = json_object_get(root, "op");
	if (!json_is_object(root) || !json_is_string(op)) {
		r = bad(err, err_len, "expected {\"op\": \"status\"} or {\"op\": \"subscribe\"}");
	} else if (!strcmp(json_string_value(op), "status")) {
		req->op = CONTROL_OP_STATUS;
		if (json_object_size(root) != 1)
			r = bad(err, err_len, "a status request has no other key than \"op\"");
	} else if (!strcmp(json_string_value(op), "subscribe")) {
		req->op = CONTROL_OP_SUBSCRIBE;
		r = parse_subscribe(root, req, err, err_len);
	} else {
		r = bad(err, err_len, "unknown op (expected \"status\" or \"subscribe\")");
	}
	json_decref(root);
	if (r)
		control_request_free(req); /* a refused request holds nothing */
	if (r == -ENOMEM)
		snprintf(err, err_len, "out of memory");
	return r;
}

void control_request_free(struct control_request *req)
{
	size_t i;

	for (i = 0; i < req->n_strs; i++)
		free(req->strs[i]);
	req->n_strs = 0;
	memset(&req->filter, 0, sizeof(req->filter));
}

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static void add_filter(json_t *root, const struct event_filter *f)
{
	char only[32] = "", uid[16];
	json_t *users;
	size_t i;

	if (f->pid)
		json_object_set_new(root, "pid", json_integer(f->pid));
	if (f->since_ns)
		json_object_set_new(root, "since_ns", json_integer(f->since_ns));
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (f->kinds & kinds[i].bit)
			snprintf(only + strlen(only), sizeof(only) - strlen(only), "%s%s",
				 only[0] ? "," : "", kinds[i].name);
	if (only[0])
		json_object_set_new(root, "only", json_string(only));
	if (f->n_users) {
		users = json_array();
		for (i = 0; i < f->n_users; i++) {
			snprintf(uid, sizeof(uid), "%u", f->users[i].uid);
			json_array_append_new(users, json_string(f->users[i].name ?: uid));
		}
		json_object_set_new(root, "users", users);
	}
	if (f->n_comms)
		json_object_set_new(root, "comms", strings(f->comms, f->n_comms));
	if (f->n_paths)
		json_object_set_new(root, "paths", strings(f->paths, f->n_paths));
}

int control_request_format(const struct control_request *req, char *buf, size_t len)
{
	json_t *root = json_object();
	char *text;
	size_t n;

	if (!root)
		return -ENOMEM;
	if (req->op == CONTROL_OP_STATUS) {
		json_object_set_new(root, "op", json_string("status"));
	} else {
		json_object_set_new(root, "op", json_string("subscribe"));
		json_object_set_new(root, "format",
				    json_string(req->format == OUTPUT_HUMAN ? "human" : "json"));
		json_object_set_new(root, "utf8", json_boolean(req->utf8));
		json_object_set_new(root, "color", json_boolean(req->color));
		add_filter(root, &req->filter);
	}
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	n = strlen(text);
	if (n + 2 > len || n + 1 > CONTROL_REQUEST_MAX) {
		free(text);
		return -ENOSPC;
	}
	memcpy(buf, text, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	free(text);
	return 0;
}
