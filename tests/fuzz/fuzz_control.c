// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's request parser on any bytes (any root process may
 * send them). Properties: it accepts or refuses, and a refusal says why; an
 * accepted request has an op, a format, bounded strings without NUL and
 * absolute paths, and written back by the client's formatter it parses to
 * the same request; a literal path of a subscription covers itself and what
 * is below it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "agent/control.h"

static void same(const struct control_request *a, const struct control_request *b)
{
	size_t i;

	if (a->op != b->op || a->format != b->format || a->utf8 != b->utf8 || a->pid != b->pid ||
	    strcmp(a->comm, b->comm) || strcmp(a->user, b->user) || a->n_paths != b->n_paths)
		abort();
	for (i = 0; i < a->n_paths; i++)
		if (strcmp(a->paths[i], b->paths[i]))
			abort();
}

static void check_paths(const struct control_request *req)
{
	char below[4200];
	size_t i;

	for (i = 0; i < req->n_paths; i++) {
		const char *p = req->paths[i];

		if (p[0] != '/')
			abort();
		if (strpbrk(p, "*?[\\"))
			continue; /* a glob: what it matches is fnmatch's business */
		if (!control_request_path_matches(req, p, strlen(p)))
			abort();
		snprintf(below, sizeof(below), "%s%sx", p, p[strlen(p) - 1] == '/' ? "" : "/");
		if (!control_request_path_matches(req, below, strlen(below)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct control_request req, back;
	char err[256], line[CONTROL_REQUEST_MAX + 2];
	int r;

	r = control_request_parse((const char *)data, size, &req, err, sizeof(err));
	if (r) {
		if ((r != -EINVAL && r != -ENOMEM) || !err[0] || req.n_paths)
			abort();
		control_request_free(&req);
		return 0;
	}
	if (req.op != CONTROL_OP_STATUS && req.op != CONTROL_OP_SUBSCRIBE)
		abort();
	if (req.format != OUTPUT_JSON && req.format != OUTPUT_HUMAN)
		abort();
	if (strnlen(req.comm, sizeof(req.comm)) >= sizeof(req.comm) ||
	    strnlen(req.user, sizeof(req.user)) > CONTROL_USER_MAX ||
	    req.n_paths > CONTROL_PATHS_MAX)
		abort();
	check_paths(&req);
	/* Whatever path an event has, matching is a yes or a no. */
	control_request_path_matches(&req, (const char *)data, size);
	r = control_request_format(&req, line, sizeof(line));
	if (r == 0) {
		size_t n = strlen(line);

		if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1))
			abort();
		if (control_request_parse(line, n - 1, &back, err, sizeof(err)))
			abort();
		same(&req, &back);
		control_request_free(&back);
	} else if (r != -ENOSPC && r != -ENOMEM) {
		abort();
	}
	control_request_free(&req);
	return 0;
}
