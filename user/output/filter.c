// SPDX-License-Identifier: GPL-2.0
/* custos trace's filter on typed events (filter.h). */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/filter.h"

int event_filter_add_user(struct event_filter *f, const char *arg, char *err, size_t errlen)
{
	struct passwd *pw;
	unsigned long v;
	char *end;

	if (f->n_users == EVENT_FILTER_MAX) {
		snprintf(err, errlen, "at most %d --user", EVENT_FILTER_MAX);
		return -E2BIG;
	}
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*arg >= '0' && *arg <= '9' && !*end && !errno && v < UINT32_MAX) {
		f->users[f->n_users++] = (struct event_filter_user){.uid = v};
		return 0;
	}
	pw = *arg ? getpwnam(arg) : NULL;
	if (!pw) {
		snprintf(err, errlen, "--user %s: no such user (a name this host knows, or a uid)",
			 arg);
		return -EINVAL;
	}
	f->users[f->n_users++] = (struct event_filter_user){.uid = pw->pw_uid, .name = arg};
	return 0;
}

int event_filter_add_comm(struct event_filter *f, const char *arg, char *err, size_t errlen)
{
	if (f->n_comms == EVENT_FILTER_MAX) {
		snprintf(err, errlen, "at most %d --comm", EVENT_FILTER_MAX);
		return -E2BIG;
	}
	if (!*arg || strlen(arg) > EVENT_FILTER_COMM_MAX) {
		snprintf(err, errlen,
			 "--comm %s: a process name is 1 to %d bytes (the kernel keeps no more)",
			 arg, EVENT_FILTER_COMM_MAX);
		return -EINVAL;
	}
	f->comms[f->n_comms++] = arg;
	return 0;
}

int event_filter_add_path(struct event_filter *f, const char *arg, char *err, size_t errlen)
{
	if (f->n_paths == EVENT_FILTER_MAX) {
		snprintf(err, errlen, "at most %d --path", EVENT_FILTER_MAX);
		return -E2BIG;
	}
	if (arg[0] != '/') {
		snprintf(err, errlen, "--path %s: expected an absolute path", arg);
		return -EINVAL;
	}
	f->paths[f->n_paths++] = arg;
	return 0;
}

static const struct {
	const char *name;
	unsigned int bit;
} kind_names[] = {
    {"file", EVENT_FILTER_FILE},
    {"db", EVENT_FILTER_DB},
    {"net", EVENT_FILTER_NET},
    {"alert", EVENT_FILTER_ALERT},
};

int event_filter_set_only(struct event_filter *f, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	while (1) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
			if (strlen(kind_names[i].name) == n && !strncmp(p, kind_names[i].name, n))
				break;
		if (i == sizeof(kind_names) / sizeof(kind_names[0])) {
			snprintf(err, errlen,
				 "--only %s: unknown kind \"%.*s\" (expected file, db, net, alert, "
				 "separated by commas)",
				 arg, (int)n, p);
			return -EINVAL;
		}
		f->kinds |= kind_names[i].bit;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static unsigned int kind_of(const struct event *ev)
{
	switch (ev->kind) {
	case EVENT_DB_STATEMENT:
		return EVENT_FILTER_DB;
	case EVENT_NET_CONNECT:
		return EVENT_FILTER_NET;
	case EVENT_ALERT:
		return EVENT_FILTER_ALERT;
	case EVENT_AGENT:
		return 0;
	default:
		return ev->net ? EVENT_FILTER_NET : EVENT_FILTER_FILE;
	}
}

/* The event's user, or the user who logged in, is one of the --user. */
static bool user_matches(const struct event_filter *f, const struct event_who *who)
{
	size_t i;

	for (i = 0; i < f->n_users; i++) {
		const struct event_filter_user *u = &f->users[i];

		if (who->task.uid == u->uid ||
		    (who->task.auid != (uint32_t)-1 && who->task.auid == u->uid))
			return true;
		/* By name too: a stream stored on another host, where the ids differ. */
		if (u->name && ((who->user_name && !strcmp(who->user_name, u->name)) ||
				(who->audit_name && !strcmp(who->audit_name, u->name))))
			return true;
	}
	return false;
}

static bool comm_matches(const struct event_filter *f, const struct event_who *who)
{
	size_t i;

	for (i = 0; i < f->n_comms; i++)
		if (!strncmp(who->task.comm, f->comms[i], sizeof(who->task.comm)))
			return true;
	return false;
}

/*
 * Paths: each --path is a glob (a path without * ? [ is its own): the
 * file itself, or anything below a directory it names, as a watch is.
 */
static bool path_matches(const struct event_filter *f, const struct event_file *file)
{
	char path[4096 + 1], pat[4096 + 1];
	size_t i, n;

	if (!file || !file->path_len || file->path_len >= sizeof(path) ||
	    memchr(file->path, '\0', file->path_len))
		return false;
	memcpy(path, file->path, file->path_len);
	path[file->path_len] = '\0';
	for (i = 0; i < f->n_paths; i++) {
		n = strlen(f->paths[i]);
		while (n > 1 && f->paths[i][n - 1] == '/') /* "/srv/crm/" names /srv/crm */
			n--;
		if (n == 1) /* "/" */
			return true;
		if (n >= sizeof(pat))
			continue;
		memcpy(pat, f->paths[i], n);
		pat[n] = '\0';
		if (!fnmatch(pat, path, FNM_PATHNAME | FNM_LEADING_DIR))
			return true;
	}
	return false;
}

bool event_filter_keep(const struct event_filter *f, const struct event *ev)
{
	const struct event_who *who = ev->who;
	unsigned int kind = kind_of(ev);

	if (f->since_ns && ev->time_ns < f->since_ns)
		return false;
	if (f->kinds && kind && !(f->kinds & kind))
		return false;
	if (ev->kind == EVENT_AGENT || (ev->kind == EVENT_ALERT && !who))
		return true; /* the agent's own events, and alerts about many processes */
	if (f->n_paths && kind == EVENT_FILTER_FILE && !(ev->rule && ev->rule->egress) &&
	    !path_matches(f, ev->file))
		return false; /* egress files lie outside the watches by definition: kept */
	if (!f->pid && !f->n_comms && !f->n_users)
		return true;
	if (!who)
		return false;
	if (f->pid && who->task.tgid != f->pid)
		return false;
	if (f->n_comms && !comm_matches(f, who))
		return false;
	return !f->n_users || user_matches(f, who);
}
