// SPDX-License-Identifier: GPL-2.0
/* The control socket's requests: one JSON object a line (control.h), parsed strictly. */
#include <errno.h>
#include <fnmatch.h>
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

/* A string member of at most max bytes, no NUL inside, into buf. */
static int get_string(json_t *v, const char *key, char *buf, size_t max, char *err, size_t len)
{
	size_t n;

	if (!json_is_string(v))
		return bad(err, len, "\"%s\" must be a string", key);
	n = json_string_length(v);
	if (n == 0 || n > max || memchr(json_string_value(v), '\0', n))
		return bad(err, len, "\"%s\" must be 1 to %zu bytes, without NUL", key, max);
	memcpy(buf, json_string_value(v), n);
	buf[n] = '\0';
	return 0;
}

/* "//srv//crm/" -> "/srv/crm": as the kernel's paths of events are written. */
static void normalize(char *path)
{
	char *r = path, *w = path;

	for (; *r; r++)
		if (*r != '/' || w == path || w[-1] != '/')
			*w++ = *r;
	if (w > path + 1 && w[-1] == '/')
		w--;
	*w = '\0';
}

static int get_paths(json_t *v, struct control_request *req, char *err, size_t len)
{
	size_t i, n;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > CONTROL_PATHS_MAX)
		return bad(err, len, "\"paths\" must be an array of 1 to %d absolute paths",
			   CONTROL_PATHS_MAX);
	for (i = 0; i < json_array_size(v); i++) {
		json_t *p = json_array_get(v, i);

		n = json_is_string(p) ? json_string_length(p) : 0;
		if (!n || n >= 4096 || json_string_value(p)[0] != '/' ||
		    memchr(json_string_value(p), '\0', n))
			return bad(err, len, "\"paths\"[%zu] must be an absolute path", i);
		req->paths[req->n_paths] = strdup(json_string_value(p));
		if (!req->paths[req->n_paths])
			return -ENOMEM;
		normalize(req->paths[req->n_paths++]);
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
		} else if (!strcmp(key, "utf8")) {
			if (!json_is_boolean(v))
				return bad(err, len, "\"utf8\" must be true or false");
			req->utf8 = json_is_true(v);
		} else if (!strcmp(key, "pid")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > 4194304)
				return bad(err, len, "\"pid\" must be a process id");
			req->pid = json_integer_value(v);
		} else if (!strcmp(key, "comm")) {
			r = get_string(v, key, req->comm, sizeof(req->comm) - 1, err, len);
		} else if (!strcmp(key, "user")) {
			r = get_string(v, key, req->user, CONTROL_USER_MAX, err, len);
		} else if (!strcmp(key, "paths")) {
			r = get_paths(v, req, err, len);
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

	for (i = 0; i < req->n_paths; i++)
		free(req->paths[i]);
	req->n_paths = 0;
}

int control_request_format(const struct control_request *req, char *buf, size_t len)
{
	json_t *root = json_object(), *paths;
	size_t i, n;
	char *text;

	if (!root)
		return -ENOMEM;
	if (req->op == CONTROL_OP_STATUS) {
		json_object_set_new(root, "op", json_string("status"));
	} else {
		json_object_set_new(root, "op", json_string("subscribe"));
		json_object_set_new(root, "format",
				    json_string(req->format == OUTPUT_HUMAN ? "human" : "json"));
		json_object_set_new(root, "utf8", json_boolean(req->utf8));
		if (req->pid)
			json_object_set_new(root, "pid", json_integer(req->pid));
		if (req->comm[0])
			json_object_set_new(root, "comm", json_string(req->comm));
		if (req->user[0])
			json_object_set_new(root, "user", json_string(req->user));
		if (req->n_paths) {
			paths = json_array();
			for (i = 0; i < req->n_paths; i++)
				json_array_append_new(paths, json_string(req->paths[i]));
			json_object_set_new(root, "paths", paths);
		}
	}
	text = json_dumps(root, JSON_COMPACT);
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

bool control_request_path_matches(const struct control_request *req, const char *path, size_t len)
{
	char p[4096];
	size_t i;

	if (!req->n_paths)
		return true;
	if (!path || !len || len >= sizeof(p))
		return false;
	memcpy(p, path, len);
	p[len] = '\0';
	for (i = 0; i < req->n_paths; i++) {
		/* A directory covers what is below it; a glob matches the path or an ancestor. */
		if (!strcmp(req->paths[i], "/") && p[0] == '/')
			return true;
		if (fnmatch(req->paths[i], p, FNM_PATHNAME | FNM_LEADING_DIR) == 0)
			return true;
	}
	return false;
}
