/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What custos trace shows: a filter on the typed event, whatever it came
 * from (the kernel through a live agent, a stored stream decoded by
 * decode.h, or an agent's control socket), so every source shows the same
 * lines for the same options. Its arguments are parsed and checked here too.
 */
#ifndef CUSTOS_FILTER_H
#define CUSTOS_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "encode/event.h"

/* --only: the kinds of event (agent notes always pass). */
enum event_filter_kind {
	EVENT_FILTER_FILE = 1 << 0,  /* opens, summaries, mappings, changes of files */
	EVENT_FILTER_DB = 1 << 1,    /* SQL statements */
	EVENT_FILTER_NET = 1 << 2,   /* connects, accepts and socket summaries */
	EVENT_FILTER_ALERT = 1 << 3, /* detection rules' alerts */
};

#define EVENT_FILTER_MAX      256 /* of each repeatable option */
#define EVENT_FILTER_COMM_MAX 15  /* bytes the kernel keeps of a process name */

/* A --user: a uid, and the name it was given as (NULL for a number). */
struct event_filter_user {
	uint32_t uid;
	const char *name;
};

struct event_filter {
	uint32_t pid;					  /* 0: any */
	unsigned int kinds;				  /* enum event_filter_kind bits; 0: all */
	int64_t since_ns;				  /* 0: any */
	struct event_filter_user users[EVENT_FILTER_MAX]; /* any of them, as user or login user */
	size_t n_users;
	const char *comms[EVENT_FILTER_MAX]; /* any of them */
	size_t n_comms;
	const char *paths[EVENT_FILTER_MAX]; /* globs; a match keeps what is below it too */
	size_t n_paths;
};

/*
 * The options' arguments, checked; each returns 0 or -EINVAL (-E2BIG: too
 * many) and leaves a message for the user in err. Strings are borrowed.
 */
int event_filter_add_user(struct event_filter *f, const char *arg, char *err, size_t errlen);
int event_filter_add_comm(struct event_filter *f, const char *arg, char *err, size_t errlen);
int event_filter_add_path(struct event_filter *f, const char *arg, char *err, size_t errlen);
int event_filter_set_only(struct event_filter *f, const char *arg, char *err, size_t errlen);

/* Does the filter keep ev? */
bool event_filter_keep(const struct event_filter *f, const struct event *ev);

#endif /* CUSTOS_FILTER_H */
