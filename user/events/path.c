// SPDX-License-Identifier: GPL-2.0
/*
 * What the kernel sends by name because it cannot decide by inode: opens
 * refused with EACCES or EPERM, and unlink, rename, truncate, chmod, chown
 * by name. The agent resolves each name as the process saw it and reports
 * it only if it is (or was, for an unlink or rename) watched.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

/*
 * The kernel resolved symlinks and ".." on its way to refusing the open:
 * show the real directory, plus the last name. 0 if it cannot be resolved.
 */
static size_t canonical(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], real[PATH_MAX];
	const char *base;
	int n;

	if (!slash || !slash[1] || !strcmp(slash + 1, ".") || !strcmp(slash + 1, ".."))
		return 0;
	base = slash + 1;
	if ((size_t)(slash - path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, slash - path);
	dir[slash - path] = '\0';
	if (!realpath(dir[0] ? dir : "/", real))
		return 0;
	n = snprintf(out, cap, "%s/%s", strcmp(real, "/") ? real : "", base);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static bool in_other_mount_ns(uint32_t tgid)
{
	char path[64], mine[64] = "", theirs[64] = "";

	snprintf(path, sizeof(path), "/proc/%u/ns/mnt", tgid);
	if (readlink(path, theirs, sizeof(theirs) - 1) < 0 ||
	    readlink("/proc/self/ns/mnt", mine, sizeof(mine) - 1) < 0)
		return false;
	return strcmp(mine, theirs) != 0;
}

/*
 * Is the process's root another directory than ours (a chroot)? A process
 * that has exited is taken as not: its name is then looked up as it reads.
 * Only such a process needs its names looked up through /proc/PID/root,
 * which is gone once it exits, often before the agent sees its record.
 */
static bool chrooted(uint32_t tgid)
{
	char path[64], root[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/root", tgid);
	n = readlink(path, root, sizeof(root) - 1);
	return n > 0 && !(n == 1 && root[0] == '/');
}

/*
 * A name a process passed (to an open that was refused, an unlink, a
 * rename...) as a path the agent can stat. A relative name starts at the
 * directory the kernel walked (up to the root of the process's mount
 * namespace); an absolute one at the process's root, which may be a chroot.
 * Both are seen through /proc/PID/root where needed. shown is the path for
 * events (symlinks and ".." resolved in the directory part), lookup the
 * path to stat. Returns the length of shown, 0 if it cannot be made.
 */
static size_t resolve_name(uint32_t tgid, const char *name, size_t name_max, const char *base,
			   const struct custos_path_info *base_info, char *shown, size_t cap,
			   char *lookup, size_t lookup_cap)
{
	size_t name_len = strnlen(name, name_max);
	bool via_root = in_other_mount_ns(tgid) || (name[0] == '/' && chrooted(tgid));
	size_t o = 0;

	if (name[0] != '/') {
		char *dir = events_join_path(base, base_info, &o);

		if (!dir)
			return 0;
		o = snprintf(shown, cap, "%s", dir);
		free(dir);
		if (o < cap && o > 0 && shown[o - 1] != '/')
			shown[o++] = '/';
	}
	if (o + name_len >= cap)
		return 0;
	memcpy(shown + o, name, name_len);
	shown[o + name_len] = '\0';
	snprintf(lookup, lookup_cap, "/proc/%u/root%s", tgid, shown);
	if (!via_root || access(lookup, F_OK) != 0)
		snprintf(lookup, lookup_cap, "%s", shown);
	return canonical(lookup, shown, cap) ?: o + name_len;
}

static void exe_identity(uint32_t tgid, uint32_t *dev, uint64_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%u/exe", tgid);
	*dev = 0;
	*ino = 0;
	if (stat(path, &st) == 0) {
		*dev = watch_kernel_dev(st.st_dev);
		*ino = st.st_ino;
	}
}

/* The kernel applied only the exclusions of every rule; these are the rule's own. */
static bool excluded(const struct events *e, const struct custos_task *task,
		     const struct watch_item *it)
{
	uint32_t exe_dev;
	uint64_t exe_ino;

	exe_identity(task->tgid, &exe_dev, &exe_ino);
	return watch_excluded(e->watches, task->comm, task->uid, exe_dev, exe_ino) &
	       (1ULL << it->rule);
}

static const struct event_rule *watch_rule(const struct events *e, const struct watch_item *it)
{
	return events_rule(e, e->watches->generation << CUSTOS_RULE_INDEX_BITS | it->rule);
}

int events_file_denied(struct events *e, const struct custos_file_denied *rec, size_t size)
{
	char path[JOINED_PATH_MAX], lookup[JOINED_PATH_MAX + 32], errbuf[16];
	const struct watch_item *it;
	struct event_file file = {0};
	struct event ev;
	size_t path_len;

	if (!record_fits(size, sizeof(*rec), (size_t)rec->name_len + rec->base.len) ||
	    rec->name_len == 0)
		return -EINVAL;
	path_len = resolve_name(rec->task.tgid, rec->data, rec->name_len, rec->data + rec->name_len,
				&rec->base, path, sizeof(path), lookup, sizeof(lookup));
	if (!path_len || !e->watches)
		return 0;
	it = watch_match_path(e->watches, lookup);
	if (!it) {
		e->stats.denied_unwatched++;
		return 0;
	}
	if (excluded(e, &rec->task, it))
		return 0;

	events_event_init(e, &ev, EVENT_FILE_DENIED, rec->hdr.ktime_ns, "file", "access,denied",
			  "open", "failure");
	/* The file's identity is unknown to the kernel here; leave it out rather than guess. */
	file.path = path;
	file.path_len = path_len;
	ev.file = &file;
	ev.who = events_who(e, &rec->task);
	ev.rule = watch_rule(e, it);
	ev.open = (struct event_open){.has_flags = true, .flags = rec->flags};
	ev.error_code = encode_errno_name(rec->error, errbuf);
	ev.error_message = strerror(rec->error);
	ev.error_message_len = strlen(ev.error_message);
	events_emit(e, &ev);
	return 0;
}

/* One name of a change, resolved. */
struct changed_name {
	char shown[JOINED_PATH_MAX];
	char lookup[JOINED_PATH_MAX + 32];
	size_t len;
	const struct watch_item *watch; /* NULL: not watched */
	struct stat st;
	bool exists;
};

static void resolve_changed(const struct events *e, uint32_t tgid, const char *name,
			    size_t name_len, const char *base, const struct custos_path_info *info,
			    struct changed_name *out)
{
	out->len = resolve_name(tgid, name, name_len, base, info, out->shown, sizeof(out->shown),
				out->lookup, sizeof(out->lookup));
	out->watch = NULL;
	out->exists = out->len && stat(out->lookup, &out->st) == 0;
	if (!out->len)
		return;
	/* A name that is gone (unlinked, renamed away) may have been a watched file itself. */
	out->watch = watch_match_path(e->watches, out->lookup);
	if (!out->watch && !out->exists)
		out->watch = watch_find_file_path(e->watches, out->shown);
}

/* file.* of a name as it is now: identity, type, mode and owner from stat when it exists. */
static void stat_file(struct event_file *f, const struct changed_name *n, bool identity)
{
	f->path = n->shown;
	f->path_len = n->len;
	f->has_identity = identity;
	if (!identity)
		return;
	f->dev = watch_kernel_dev(n->st.st_dev);
	f->ino = n->st.st_ino;
	f->mode = n->st.st_mode;
	f->has_owner = true;
	f->owner_uid = n->st.st_uid;
	f->owner_gid = n->st.st_gid;
}

/* A rename took the file of identity f to path: remembered, the oldest forgotten. */
static void remember_rename(struct events *e, const char *path, const struct event_file *f)
{
	struct renamed *r = &e->renamed[e->renamed_next];
	char *copy = strdup(path);

	if (!copy)
		return;
	free(r->path);
	*r = (struct renamed){.path = copy, .dev = f->dev, .ino = f->ino};
	e->renamed_next = (e->renamed_next + 1) % RENAMED_MAX;
}

/* The file renamed to path left that name (renamed on, removed): forgotten. */
static void forget_rename(struct events *e, const char *path)
{
	size_t k;

	for (k = 0; k < RENAMED_MAX; k++) {
		if (e->renamed[k].path && !strcmp(e->renamed[k].path, path)) {
			free(e->renamed[k].path);
			e->renamed[k].path = NULL;
		}
	}
}

/*
 * The identity of a file a change by name moved or removed, when its name
 * leads to it no more (renamed again, removed, before the agent could look):
 * what the agent knows of its old name (a rename's new name may have been
 * another file's, which it replaced): the last rename to it, a watched
 * file's own, or that of a watched open file of that path. False if it
 * knows nothing: then the event has no identity, rather than a guess.
 */
static bool known_identity(const struct events *e, const struct changed_name *old,
			   struct event_file *f)
{
	const struct watch_item *it;
	struct open_state *st;
	uint64_t id;
	size_t i = 0, k;

	if (!old->len)
		return false;
	for (k = 1; k <= RENAMED_MAX; k++) {
		const struct renamed *r =
		    &e->renamed[(e->renamed_next + RENAMED_MAX - k) % RENAMED_MAX];

		if (r->path && !strcmp(r->path, old->shown)) {
			f->dev = r->dev;
			f->ino = r->ino;
			return true;
		}
	}
	it = watch_find_file_path(e->watches, old->shown);
	if (it) {
		f->dev = it->dev;
		f->ino = it->ino;
		return true;
	}
	while (hashmap_next(&e->opens, &i, &id, (void **)&st)) {
		if (st->socket || !st->path || !st->file.has_identity)
			continue;
		if (!strcmp(st->path, old->shown)) {
			f->dev = st->file.dev;
			f->ino = st->file.ino;
			return true;
		}
	}
	return false;
}

/*
 * unlink, rename, truncate, chmod, chown by name: reported if the name was
 * (unlink, rename's old name) or is (the others, rename's new name) watched.
 * A rename out of a watched tree is reported with custos.rename.left_watch.
 */
int events_path_change(struct events *e, const struct custos_path_change *rec, size_t size)
{
	size_t first = (size_t)rec->name_len + rec->base.len;
	const char *action = events_change_action(rec->op);
	struct changed_name *from, *to = NULL;
	const struct watch_item *it;
	struct event_file file = {0};
	const char *type;
	struct event ev;
	int ret = 0;

	if (!record_fits(size, sizeof(*rec), first + rec->name2_len + rec->base2.len) ||
	    !rec->name_len || !action || (rec->op == CUSTOS_CHANGE_RENAME) != (rec->name2_len != 0))
		return -EINVAL;
	if (!e->watches)
		return 0;
	from = calloc(rec->name2_len ? 2 : 1, sizeof(*from));
	if (!from)
		return -ENOMEM;
	resolve_changed(e, rec->task.tgid, rec->data, rec->name_len, rec->data + rec->name_len,
			&rec->base, from);
	if (rec->name2_len) {
		to = from + 1;
		resolve_changed(e, rec->task.tgid, rec->data + first, rec->name2_len,
				rec->data + first + rec->name2_len, &rec->base2, to);
	}
	it = from->watch ?: (to ? to->watch : NULL);
	if (!it || excluded(e, &rec->task, it)) {
		e->stats.changes_unwatched++;
		goto out_free;
	}
	type = rec->op == CUSTOS_CHANGE_UNLINK ? "deletion" : "change";
	events_event_init(e, &ev, EVENT_FILE_CHANGE, rec->hdr.ktime_ns, "file", type, action,
			  "success");
	ev.change = (struct event_change){.op = rec->op, .arg = rec->arg, .arg2 = rec->arg2};
	if (to) {
		stat_file(&file, to, to->exists);
		ev.change.rename_from = from->shown;
		ev.change.rename_from_len = from->len;
		ev.change.left_watch = !to->watch;
	} else {
		stat_file(&file, from, from->exists);
	}
	if (!file.has_identity)
		file.has_identity = known_identity(e, from, &file);
	if ((to || rec->op == CUSTOS_CHANGE_UNLINK) && from->len)
		forget_rename(e, from->shown);
	if (to && to->len && file.has_identity)
		remember_rename(e, to->shown, &file);
	if (file.has_owner) {
		file.owner = users_name(&e->users, file.owner_uid);
		file.group = users_group(&e->users, file.owner_gid);
	}
	ev.file = &file;
	ev.who = events_who(e, &rec->task);
	ev.rule = watch_rule(e, it);
	events_emit(e, &ev);
out_free:
	free(from);
	return ret;
}
