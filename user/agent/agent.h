/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's main loop, shared by `custos run` and `custos trace`. */
#ifndef CUSTOS_AGENT_H
#define CUSTOS_AGENT_H

#include <stdbool.h>

#include "config/config.h"
#include "output/output.h"

struct agent_options {
	const char *mode;	 /* "run" or "trace", for messages and agent events */
	const char *config_path; /* NULL: the built-in default (or config) */
	struct config *config;	 /* preset config (trace --path); owned by the agent */
	enum output_format format;
	struct event_filter filter;
	enum output_color color; /* human lines */
	int64_t reorder_ns;	 /* human lines held this long to go out in time order */
	bool verbose;
};

/* Exit status when this kernel cannot run the agent (systemd: RestartPreventExitStatus=). */
#define AGENT_EXIT_KERNEL 3

/* Runs until SIGINT/SIGTERM; returns the process exit status. */
int agent_run(struct agent_options *opts);

#endif /* CUSTOS_AGENT_H */
