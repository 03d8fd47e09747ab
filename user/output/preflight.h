/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a config needs of this host before the agent can write events: its
 * chain key, its file outputs' paths, the spool directory, the CA files of
 * its http outputs, the host names of its network outputs. custos run
 * checks it at start and on SIGHUP (and refuses the config on an error),
 * custos check with it; each problem is one message starting with
 * "FILE:LINE:COLUMN: " of the key at fault, as the config's own errors do.
 * Creates, changes and leaves nothing.
 */
#ifndef CUSTOS_PREFLIGHT_H
#define CUSTOS_PREFLIGHT_H

#include <stddef.h>

#include "config/config.h"

enum preflight_flags {
	/*
	 * Look up the network outputs' host names: a name that does not exist
	 * is an error (a typo), one that cannot be looked up now a warning (a
	 * DNS problem). custos check only: at boot the network may not be up
	 * yet, and the outputs spool until their host resolves.
	 */
	PREFLIGHT_RESOLVE = 1 << 0,
};

struct preflight {
	char **errors; /* the agent refuses the config */
	size_t n_errors;
	char **warnings; /* it runs, but says so */
	size_t n_warnings;
};

/* Fills pf (zeroed first). 0, or -ENOMEM. */
int preflight_config(const struct config *cfg, unsigned int flags, struct preflight *pf);
void preflight_free(struct preflight *pf);

#endif /* CUSTOS_PREFLIGHT_H */
