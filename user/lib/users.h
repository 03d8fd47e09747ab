/* SPDX-License-Identifier: GPL-2.0 */
/* User and group names by id, cached (including "no such user"). */
#ifndef CUSTOS_USERS_H
#define CUSTOS_USERS_H

#include <stdint.h>

#include "lib/hashmap.h"

#define USERS_UNSET ((uint32_t)-1) /* the audit login uid of a process nobody logged in to */

struct users {
	struct hashmap users;
	struct hashmap groups;
};

/* The name, or NULL if the id has none. Valid until users_clear(). */
const char *users_name(struct users *u, uint32_t uid);
const char *users_group(struct users *u, uint32_t gid);
/* Forgets everything (names can change: called on SIGHUP). */
void users_clear(struct users *u);

#endif /* CUSTOS_USERS_H */
