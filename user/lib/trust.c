// SPDX-License-Identifier: GPL-2.0
/* Is a file one only root can change? See include/custos/trust.h. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/trust.h"

#define FIX_HINT "the agent only reads a %s that only root can change (%s %s)"

static int __attribute__((format(printf, 3, 4))) refuse(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EPERM;
}

/* "alice (1000)", or "1000" for an id without a name. */
static const char *id_label(char *buf, size_t len, const char *name, unsigned int id)
{
	if (name)
		snprintf(buf, len, "%s (%u)", name, id);
	else
		snprintf(buf, len, "%u", id);
	return buf;
}

static const char *user_label(char *buf, size_t len, uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return id_label(buf, len, pw ? pw->pw_name : NULL, uid);
}

static const char *group_label(char *buf, size_t len, gid_t gid)
{
	struct group *gr = getgrgid(gid);

	return id_label(buf, len, gr ? gr->gr_name : NULL, gid);
}

/*
 * What is wrong with the owner or mode of st (a file, or a directory above
 * it), or NULL; *fix is the command that mends it.
 */
static const char *fault(const struct stat *st, unsigned int flags, char *buf, size_t len,
			 const char **fix)
{
	bool dir = S_ISDIR(st->st_mode);
	char group[64];

	*fix = "chmod go-w";
	if (st->st_uid != 0) {
		*fix = "chown root";
		return "is not owned by root";
	}
	if (dir && (st->st_mode & S_ISVTX))
		return NULL; /* only root, and each file's owner, can replace a file in it */
	if (st->st_mode & S_IWOTH)
		return "is writable by anyone";
	if (st->st_mode & S_IWGRP) {
		snprintf(buf, len, "is writable by group %s",
			 group_label(group, sizeof(group), st->st_gid));
		return buf;
	}
	if (!dir && (flags & TRUST_SECRET) && (st->st_mode & 077)) {
		*fix = "chmod go=";
		return "is a secret, but others than root may read it";
	}
	return NULL;
}

static int refuse_stat(char *err, size_t len, const char *what, const char *path, const char *real,
		       const char *dir, const struct stat *st, const char *why, const char *fix)
{
	char owner[64];

	user_label(owner, sizeof(owner), st->st_uid);
	if (dir)
		return refuse(err, len,
			      "%s %s: its directory %s %s (owner %s, mode %04o); " FIX_HINT, what,
			      path, dir, why, owner, st->st_mode & 07777, what, fix, dir);
	return refuse(err, len, "%s %s %s (owner %s, mode %04o); " FIX_HINT, what, path, why, owner,
		      st->st_mode & 07777, what, fix, real);
}

int file_trusted(const char *path, const char *what, unsigned int flags, char *err, size_t len)
{
	char real[PATH_MAX], file[PATH_MAX], buf[96], *slash;
	const char *why, *fix;
	struct stat st;

	if (stat(path, &st) || !realpath(path, real)) {
		int e = errno;

		snprintf(err, len, "%s %s: cannot read: %s", what, path, strerror(e));
		return -e;
	}
	if ((flags & TRUST_DIR) && !S_ISDIR(st.st_mode))
		return refuse(err, len, "%s %s is not a directory", what, path);
	if (!(flags & TRUST_DIR) && !S_ISREG(st.st_mode))
		return refuse(err, len, "%s %s is not a regular file", what, path);
	snprintf(file, sizeof(file), "%s", real);
	if ((flags & TRUST_DIR) && (st.st_mode & S_ISVTX))
		st.st_mode &= ~S_ISVTX; /* judged as any directory: anyone could add a file */
	why = fault(&st, flags, buf, sizeof(buf), &fix);
	if (why)
		return refuse_stat(err, len, what, path, file, NULL, &st, why, fix);

	/* Each directory above it, from its own to the root. */
	while ((slash = strrchr(real, '/'))) {
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st)) {
			int e = errno;

			snprintf(err, len, "%s %s: cannot read its directory %s: %s", what, path,
				 real, strerror(e));
			return -e;
		}
		why = fault(&st, flags, buf, sizeof(buf), &fix);
		if (why)
			return refuse_stat(err, len, what, path, file, real, &st, why, fix);
		if (slash == real)
			break;
	}
	return 0;
}
