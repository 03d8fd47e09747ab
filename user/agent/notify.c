// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/notify.h"

#define NOTIFY_DIRS_MAX 4096
#define NOTIFY_EVENTS \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)

struct notify {
	int fd;
	int *wds;
	size_t n_wds;
};

struct notify *notify_new(void)
{
	struct notify *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	n->wds = calloc(NOTIFY_DIRS_MAX, sizeof(*n->wds));
	if (n->fd < 0 || !n->wds) {
		int err = errno ?: ENOMEM;

		notify_free(n);
		errno = err;
		return NULL;
	}
	return n;
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n->wds);
	free(n);
}

int notify_fd(const struct notify *n)
{
	return n->fd;
}

/*
 * The directory whose entries decide what a configured path resolves to:
 * the part before its first glob component (or its parent, without one),
 * or the nearest ancestor of that which exists.
 */
static bool deciding_dir(const char *pattern, char *dir, size_t cap)
{
	const char *magic = strpbrk(pattern, "*?[");
	const char *end = magic ? magic : pattern + strlen(pattern);
	struct stat st;
	char *slash;

	while (end > pattern && end[-1] != '/')
		end--;
	if (end == pattern || (size_t)(end - pattern) >= cap)
		return false;
	memcpy(dir, pattern, end - pattern);
	dir[end - pattern] = '\0';
	for (;;) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
		slash = strrchr(dir, '/');
		if (!slash)
			return false;
		if (slash == dir) {
			dir[1] = '\0';
			return true;
		}
		*slash = '\0';
	}
}

static void add(struct notify *n, const char *pattern)
{
	char dir[PATH_MAX];
	int wd;

	if (n->n_wds == NOTIFY_DIRS_MAX || !deciding_dir(pattern, dir, sizeof(dir)))
		return;
	wd = inotify_add_watch(n->fd, dir, NOTIFY_EVENTS | IN_ONLYDIR);
	if (wd >= 0)
		n->wds[n->n_wds++] = wd;
}

int notify_set(struct notify *n, const struct config *cfg)
{
	size_t i, j;

	for (i = 0; i < n->n_wds; i++)
		inotify_rm_watch(n->fd, n->wds[i]);
	n->n_wds = 0;
	for (i = 0; i < cfg->n_rules; i++) {
		for (j = 0; j < cfg->rules[i].n_paths; j++)
			add(n, cfg->rules[i].paths[j]);
		for (j = 0; j < cfg->rules[i].exclude.n_exes; j++)
			add(n, cfg->rules[i].exclude.exes[j]);
	}
	for (j = 0; j < cfg->exclude.n_exes; j++)
		add(n, cfg->exclude.exes[j]);
	return n->n_wds;
}

bool notify_drain(struct notify *n)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;
	ssize_t len;

	while ((len = read(n->fd, buf, sizeof(buf))) > 0)
		changed = true;
	return changed;
}
