/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files the agent takes orders from (its config, keys) must be ones only
 * root can change: whoever can edit the config can make the monitor look
 * away (an exclusion, a watch removed), and whoever can read a key can
 * forge what it signs.
 */
#ifndef CUSTOS_TRUST_H
#define CUSTOS_TRUST_H

#include <stddef.h>

enum trust_flags {
	/* A secret (a key): nobody but root may read it either (no group/other bits). */
	TRUST_SECRET = 1 << 0,
	/*
	 * A directory the agent reads files from (an include directory): it
	 * must be one, and sticky is no excuse (anyone could add a file).
	 */
	TRUST_DIR = 1 << 1,
};

/*
 * Is the file at path one only root can change? It must be a regular file
 * owned by root, writable neither by its group nor by others (with
 * TRUST_SECRET: no access at all for them), and every directory above it
 * (symbolic links resolved) owned by root and writable neither by group nor
 * by others, unless sticky (like /tmp: there nobody can replace a file he
 * does not own).
 *
 * Returns 0, or a negative errno with a message in err naming what as the
 * file ("config file"), the path at fault, its owner and its mode, and what
 * to change: -EPERM when it is not trusted, or the error of stat(2).
 */
int file_trusted(const char *path, const char *what, unsigned int flags, char *err, size_t err_len);

#endif /* CUSTOS_TRUST_H */
