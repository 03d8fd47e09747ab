/* SPDX-License-Identifier: GPL-2.0 */
/*
 * custos trace's options, whatever its events come from: the kernel (a
 * live agent of its own), a stored stream (--file), or a running agent.
 * The filter and the line format are the same for every source.
 */
#ifndef CUSTOS_TRACE_H
#define CUSTOS_TRACE_H

#include <stdbool.h>

#include "output/filter.h"
#include "output/output.h"

/* Live lines are held this long, to go out in time order (see custos-trace(8)). */
#define TRACE_REORDER_MS 250

struct trace_options {
	struct event_filter filter;
	enum output_color color;
	bool json;	    /* JSON lines, as custos run writes them */
	const char *file;   /* --file: a stored stream ("-": stdin); NULL: live */
	const char *socket; /* --socket: the running agent's; NULL: the default */
	bool standalone;    /* its own hooks even when an agent runs */
};

/* Shows the events of a stored stream; returns the exit status. */
int trace_file(const struct trace_options *opts);

#endif /* CUSTOS_TRACE_H */
