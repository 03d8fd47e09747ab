// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's request parser on any bytes (any root process may
 * send them). Properties: it accepts or refuses, and a refusal says why; an
 * accepted request has an op and a format, and written back by the
 * client's formatter it parses to the same request.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "agent/control.h"

static void same(const struct control_request *a, const struct control_request *b)
{
	const struct event_filter *f = &a->filter, *g = &b->filter;
	size_t i;

	if (a->op != b->op || a->format != b->format || a->utf8 != b->utf8 ||
	    a->color != b->color || f->pid != g->pid || f->kinds != g->kinds ||
	    f->since_ns != g->since_ns || f->n_users != g->n_users || f->n_comms != g->n_comms ||
	    f->n_paths != g->n_paths)
		abort();
	for (i = 0; i < f->n_users; i++)
		if (f->users[i].uid != g->users[i].uid)
			abort();
	for (i = 0; i < f->n_comms; i++)
		if (strcmp(f->comms[i], g->comms[i]))
			abort();
	for (i = 0; i < f->n_paths; i++)
		if (strcmp(f->paths[i], g->paths[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct control_request req, back; /* large: the filter's lists */
	char err[256], line[CONTROL_REQUEST_MAX + 2];
	int r;

	r = control_request_parse((const char *)data, size, &req, err, sizeof(err));
	if (r) {
		if ((r != -EINVAL && r != -ENOMEM) || !err[0] || req.n_strs)
			abort();
		control_request_free(&req);
		return 0;
	}
	if (req.op != CONTROL_OP_STATUS && req.op != CONTROL_OP_SUBSCRIBE)
		abort();
	if (req.format != OUTPUT_JSON && req.format != OUTPUT_HUMAN)
		abort();
	if (req.n_strs > sizeof(req.strs) / sizeof(req.strs[0]))
		abort();
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
