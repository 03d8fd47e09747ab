/* SPDX-License-Identifier: GPL-2.0 */
/*
 * inotify on the directories where configured paths live, so that a watched
 * file replaced by a new one (a new inode under the same name), a path that
 * appears, or a new match of a glob is watched within milliseconds rather
 * than at the next periodic rescan.
 */
#ifndef CUSTOS_NOTIFY_H
#define CUSTOS_NOTIFY_H

#include <stdbool.h>

#include "config/config.h"

struct notify;

/* NULL with errno set. */
struct notify *notify_new(void);
void notify_free(struct notify *n);
int notify_fd(const struct notify *n);

/* Watches the directories of cfg's paths (replacing what was watched). Returns how many. */
int notify_set(struct notify *n, const struct config *cfg);

/* Reads what is pending; true if anything changed in a watched directory. */
bool notify_drain(struct notify *n);

#endif /* CUSTOS_NOTIFY_H */
