// SPDX-License-Identifier: GPL-2.0
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "lib/users.h"

/* Stored for ids without a name, so they are not looked up again. */
static char no_name[] = "";

static const char *cached(struct hashmap *map, uint32_t id, char *(*lookup)(uint32_t))
{
	char *name = hashmap_get(map, id);

	if (!name) {
		name = lookup(id);
		if (!name)
			name = no_name;
		if (hashmap_put(map, id, name, NULL)) {
			if (name != no_name)
				free(name);
			return NULL;
		}
	}
	return name == no_name ? NULL : name;
}

static char *lookup_user(uint32_t uid)
{
	char buf[4096];
	struct passwd pw, *res = NULL;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res)
		return NULL;
	return strdup(res->pw_name);
}

static char *lookup_group(uint32_t gid)
{
	char buf[16384];
	struct group gr, *res = NULL;

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) || !res)
		return NULL;
	return strdup(res->gr_name);
}

const char *users_name(struct users *u, uint32_t uid)
{
	return uid == USERS_UNSET ? NULL : cached(&u->users, uid, lookup_user);
}

const char *users_group(struct users *u, uint32_t gid)
{
	return gid == USERS_UNSET ? NULL : cached(&u->groups, gid, lookup_group);
}

static void clear_map(struct hashmap *map)
{
	void *name;
	size_t i = 0;

	while (hashmap_next(map, &i, NULL, &name))
		if (name != no_name)
			free(name);
	hashmap_clear(map);
}

void users_clear(struct users *u)
{
	clear_map(&u->users);
	clear_map(&u->groups);
}
