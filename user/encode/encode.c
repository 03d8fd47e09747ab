// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "encode/encode.h"
#include "encode/jsonstr.h"
#include "encode/sql.h"

#define NSEC_PER_SEC 1000000000LL

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t encode_clock_now_boot(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

void encode_clock_sync(struct encode_clock *clock)
{
	/* Bracket the realtime read with two boottime reads to halve the error. */
	int64_t b1 = clock_ns(CLOCK_BOOTTIME);
	int64_t real = clock_ns(CLOCK_REALTIME);
	int64_t b2 = clock_ns(CLOCK_BOOTTIME);

	clock->boot_to_real_ns = real - (b1 + (b2 - b1) / 2);
}

void encode_time(int64_t real_ns, char out[40])
{
	time_t sec = real_ns / NSEC_PER_SEC;
	long nsec = real_ns % NSEC_PER_SEC;
	struct tm tm;

	if (nsec < 0) {
		sec--;
		nsec += NSEC_PER_SEC;
	}
	gmtime_r(&sec, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + 19, 21, ".%09ldZ", nsec);
}

json_t *encode_time_json(const struct encode_clock *clock, uint64_t boot_ns)
{
	char buf[40];

	encode_time((int64_t)boot_ns + clock->boot_to_real_ns, buf);
	return json_string(buf);
}

json_t *encode_obj(json_t *ev, const char *path)
{
	char key[64];
	const char *dot;
	json_t *obj = ev;

	while (obj && *path) {
		size_t n;
		json_t *child;

		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		child = json_object_get(obj, key);
		if (!child) {
			child = json_object();
			json_object_set_new(obj, key, child);
		}
		obj = child;
		path += n + (dot ? 1 : 0);
	}
	return obj;
}

static json_t *split_list(const char *list)
{
	json_t *arr = json_array();
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		json_array_append_new(arr, json_stringn(p, n));
		p = comma ? comma + 1 : NULL;
	}
	return arr;
}

/* event.* objects are few and never change once built: each is built once and shared. */
#define EVENT_SHAPES_MAX 32

static struct {
	const char *category, *type, *action, *outcome, *dataset;
	json_t *event;
} event_shapes[EVENT_SHAPES_MAX];

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static json_t *event_object(const char *category, const char *type, const char *action,
			    const char *outcome, const char *dataset)
{
	json_t *event = json_object();
	int i;

	json_object_set_new(event, "kind", json_string("event"));
	json_object_set_new(event, "category", json_string(category));
	json_object_set_new(event, "type", split_list(type));
	json_object_set_new(event, "action", json_string(action));
	if (outcome)
		json_object_set_new(event, "outcome", json_string(outcome));
	if (dataset)
		json_object_set_new(event, "dataset", json_string(dataset));
	for (i = 0; i < EVENT_SHAPES_MAX; i++) {
		if (event_shapes[i].event)
			continue;
		event_shapes[i].category = category;
		event_shapes[i].type = type;
		event_shapes[i].action = action;
		event_shapes[i].outcome = outcome;
		event_shapes[i].dataset = dataset;
		event_shapes[i].event = json_incref(event);
		break;
	}
	return event;
}

json_t *encode_event(const struct encode_clock *clock, uint64_t boot_ns, const char *category,
		     const char *type, const char *action, const char *outcome, const char *dataset)
{
	json_t *ev = json_object(), *event = NULL;
	int i;

	json_object_set_new(ev, "@timestamp", encode_time_json(clock, boot_ns));
	for (i = 0; i < EVENT_SHAPES_MAX && event_shapes[i].event && !event; i++)
		if (same_str(event_shapes[i].action, action) &&
		    same_str(event_shapes[i].outcome, outcome) &&
		    same_str(event_shapes[i].type, type) &&
		    same_str(event_shapes[i].category, category) &&
		    same_str(event_shapes[i].dataset, dataset))
			event = json_incref(event_shapes[i].event);
	json_object_set_new(ev, "event",
			    event ?: event_object(category, type, action, outcome, dataset));
	return ev;
}

/* Lists field in custos.escaped: its value had invalid UTF-8, escaped as \xNN. */
void encode_mark_escaped(json_t *ev, const char *field)
{
	json_t *custos = encode_obj(ev, "custos");
	json_t *list = json_object_get(custos, "escaped");
	size_t i;
	json_t *v;

	if (!list) {
		list = json_array();
		json_object_set_new(custos, "escaped", list);
	}
	json_array_foreach(list, i, v) if (!strcmp(json_string_value(v), field)) return;
	json_array_append_new(list, json_string(field));
}

void encode_bytes(json_t *ev, json_t *obj, const char *key, const char *field, const char *data,
		  size_t len)
{
	bool escaped = false;

	json_object_set_new(obj, key, jsonstr_bytes(data, len, &escaped));
	if (escaped)
		encode_mark_escaped(ev, field);
}

static void set_id(json_t *obj, const char *key, uint32_t id)
{
	char buf[16];

	/* ECS keeps ids as keyword (string) fields. */
	snprintf(buf, sizeof(buf), "%u", id);
	json_object_set_new(obj, key, json_string(buf));
}

static void set_user(json_t *ev, const char *field, struct users *users, uint32_t uid)
{
	const char *name = users_name(users, uid);
	json_t *obj = encode_obj(ev, field);
	char name_field[64];

	set_id(obj, "id", uid);
	snprintf(name_field, sizeof(name_field), "%s.name", field);
	if (name)
		encode_bytes(ev, obj, "name", name_field, name, strlen(name));
}

/* pts/N, ttyN, ttySN for the common tty majors; NULL for others. */
static const char *tty_name(uint32_t major, uint32_t minor, char buf[32])
{
	if (major >= 136 && major <= 143)
		snprintf(buf, 32, "pts/%u", (major - 136) * 256 + minor);
	else if (major == 4 && minor < 64)
		snprintf(buf, 32, "tty%u", minor);
	else if (major == 4)
		snprintf(buf, 32, "ttyS%u", minor - 64);
	else
		return NULL;
	return buf;
}

static bool raw_sql_args;

void encode_set_raw_sql(bool raw)
{
	raw_sql_args = raw;
}

/*
 * An argument that is an SQL statement (psql -c "...", mysql -e "...",
 * sqlite3 FILE "...", --execute=...): where in it the statement starts, or -1.
 */
static ssize_t sql_in_arg(const char *arg, size_t n)
{
	static const char *const verbs[] = {
	    "select", "insert",	 "update", "delete", "with",	 "replace", "merge",
	    "copy",   "create",	 "alter",  "drop",   "truncate", "grant",   "revoke",
	    "call",   "explain", "values", "upsert", "table",	 "show",    NULL};
	const char *eq = memchr(arg, '=', n);
	size_t start = arg[0] == '-' && eq ? (size_t)(eq - arg) + 1 : 0, i, len;

	while (start < n &&
	       (arg[start] == ' ' || arg[start] == '\t' || arg[start] == '\n' || arg[start] == '('))
		start++;
	for (i = 0; verbs[i]; i++) {
		len = strlen(verbs[i]);
		if (n - start > len && !strncasecmp(arg + start, verbs[i], len) &&
		    strchr(" \t\n(*", arg[start + len]))
			return start;
	}
	return -1;
}

/* The statement in an argument with its literals redacted, as query text is. */
static json_t *redacted_arg(const char *arg, size_t n, size_t at, bool escape, bool *redacted)
{
	char *out = malloc(n + 1);
	json_t *v;
	size_t len;

	if (!out)
		return NULL;
	memcpy(out, arg, at);
	len = at + sql_redact(SQL_POSTGRESQL, arg + at, n - at, out + at, n - at + 1);
	if (escape)
		v = jsonstr_bytes_escaped(out, len);
	else
		v = utf8_valid(out, len) ? json_stringn_nocheck(out, len) : json_string("?");
	free(out);
	*redacted = true;
	return v;
}

/* argv: if any argument is not UTF-8, all are escaped, so one rule decodes the array. */
static void encode_args(json_t *ev, json_t *process, const struct proc_info *proc)
{
	json_t *args = json_array();
	size_t i, count = 0;
	bool escape = !utf8_valid(proc->args, proc->args_len), redacted = false;

	for (i = 0; i < proc->args_len; count++) {
		const char *arg = proc->args + i;
		size_t n = strnlen(arg, proc->args_len - i);
		ssize_t at = raw_sql_args ? -1 : sql_in_arg(arg, n);

		if (at >= 0)
			json_array_append_new(args, redacted_arg(arg, n, at, escape, &redacted));
		else
			json_array_append_new(args, escape ? jsonstr_bytes_escaped(arg, n)
							   : json_stringn_nocheck(arg, n));
		i += n + 1;
	}
	if (escape)
		encode_mark_escaped(ev, "process.args");
	if (redacted)
		json_object_set_new(encode_obj(ev, "custos.process"), "args_redacted", json_true());
	json_object_set_new(process, "args", args);
	json_object_set_new(process, "args_count", json_integer(count));
	if (proc->args_truncated)
		json_object_set_new(encode_obj(ev, "custos.process"), "args_truncated",
				    json_true());
}

void encode_task(json_t *ev, const struct encode_clock *clock, const struct custos_task *task,
		 const struct proc_info *proc, struct users *users)
{
	json_t *process = encode_obj(ev, "process"), *group = encode_obj(ev, "group");
	char buf[32];

	json_object_set_new(process, "pid", json_integer(task->tgid));
	json_object_set_new(encode_obj(ev, "process.thread"), "id", json_integer(task->tid));
	encode_bytes(ev, process, "name", "process.name", task->comm,
		     strnlen(task->comm, sizeof(task->comm)));
	if (proc && proc->exe)
		encode_bytes(ev, process, "executable", "process.executable", proc->exe,
			     proc->exe_len);
	if (proc && proc->args)
		encode_args(ev, process, proc);
	json_object_set_new(process, "start", encode_time_json(clock, task->start_ns));
	json_object_set_new(encode_obj(ev, "process.parent"), "pid", json_integer(task->ppid));
	if (task->tty_dev) {
		uint32_t major = task->tty_dev >> 20, minor = task->tty_dev & 0xfffff;
		json_t *tty = encode_obj(ev, "process.tty");
		const char *name = tty_name(major, minor, buf);

		json_object_set_new(encode_obj(tty, "char_device"), "major", json_integer(major));
		json_object_set_new(encode_obj(tty, "char_device"), "minor", json_integer(minor));
		if (name)
			json_object_set_new(tty, "name", json_string(name));
	}
	if (task->sessionid != USERS_UNSET)
		json_object_set_new(process, "session_id", json_integer(task->sessionid));

	set_user(ev, "user", users, task->uid);
	set_user(ev, "user.effective", users, task->euid);
	if (task->auid != USERS_UNSET)
		set_user(ev, "user.audit", users, task->auid);
	set_id(group, "id", task->gid);
	if (users_group(users, task->gid))
		json_object_set_new(group, "name", json_string(users_group(users, task->gid)));
	set_id(encode_obj(group, "effective"), "id", task->egid);

	if (proc && proc->container_id)
		json_object_set_new(encode_obj(ev, "container"), "id",
				    json_string(proc->container_id));
	json_object_set_new(encode_obj(ev, "custos.process"), "cgroup_id",
			    json_integer((json_int_t)task->cgroup_id));
}

size_t encode_join_path(const char *names, size_t len, bool truncated, char *out, size_t cap)
{
	size_t ends[CUSTOS_PATH_DEPTH_MAX], n = 0, i = 0, o = 0;

	if (cap < 8)
		return 0;
	/* Component boundaries, leaf first. */
	while (i < len && n < CUSTOS_PATH_DEPTH_MAX) {
		size_t l = strnlen(names + i, len - i);

		ends[n++] = i;
		i += l + 1;
	}
	if (truncated) {
		memcpy(out, "...", 3);
		o = 3;
	}
	if (n == 0)
		out[o++] = '/';
	while (n-- > 0) {
		const char *name = names + ends[n];
		size_t l = strnlen(name, len - ends[n]);

		if (o + 1 + l >= cap)
			break;
		out[o++] = '/';
		memcpy(out + o, name, l);
		o += l;
	}
	out[o] = '\0';
	return o;
}

static const char *file_type(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "symlink";
	case S_IFCHR:
		return "char_device";
	case S_IFBLK:
		return "block_device";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	}
	return "unknown";
}

void encode_file(json_t *ev, const char *path, size_t path_len, uint32_t dev, uint64_t ino,
		 uint32_t mode, struct users *users, uint32_t owner_uid, uint32_t owner_gid)
{
	json_t *file = encode_obj(ev, "file");
	const char *slash = memrchr(path, '/', path_len);
	char buf[32];

	if (!path_len)
		json_object_set_new(encode_obj(ev, "custos.file"), "path_unknown", json_true());
	else
		encode_bytes(ev, file, "path", "file.path", path, path_len);
	if (slash) {
		size_t dir_len = slash == path ? 1 : (size_t)(slash - path);

		encode_bytes(ev, file, "name", "file.name", slash + 1,
			     path_len - (slash - path) - 1);
		encode_bytes(ev, file, "directory", "file.directory", path, dir_len);
	}
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ino);
	json_object_set_new(file, "inode", json_string(buf));
	snprintf(buf, sizeof(buf), "%u:%u", dev >> 20, dev & 0xfffff);
	json_object_set_new(file, "device", json_string(buf));
	if (!mode)
		return;
	json_object_set_new(file, "type", json_string(file_type(mode)));
	snprintf(buf, sizeof(buf), "%04o", mode & 07777);
	json_object_set_new(file, "mode", json_string(buf));
	set_id(file, "uid", owner_uid);
	set_id(file, "gid", owner_gid);
	if (users_name(users, owner_uid))
		json_object_set_new(file, "owner", json_string(users_name(users, owner_uid)));
	if (users_group(users, owner_gid))
		json_object_set_new(file, "group", json_string(users_group(users, owner_gid)));
}

json_t *encode_open_flags(uint32_t flags)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {
	    {O_CREAT, "O_CREAT"},	  {O_EXCL, "O_EXCL"},	      {O_NOCTTY, "O_NOCTTY"},
	    {O_TRUNC, "O_TRUNC"},	  {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"},
	    {O_DSYNC, "O_DSYNC"},	  {O_ASYNC, "O_ASYNC"},	      {O_DIRECT, "O_DIRECT"},
	    {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
	    {O_CLOEXEC, "O_CLOEXEC"},	  {O_PATH, "O_PATH"},
	};
	static const char *const access[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
	json_t *arr = json_array();
	size_t i;

	json_array_append_new(arr, json_string(access[flags & O_ACCMODE]));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].flag && (flags & names[i].flag) == names[i].flag)
			json_array_append_new(arr, json_string(names[i].name));
	/* O_SYNC includes O_DSYNC; O_TMPFILE includes O_DIRECTORY. */
	if ((flags & O_SYNC) == O_SYNC)
		json_array_append_new(arr, json_string("O_SYNC"));
	if ((flags & O_TMPFILE) == O_TMPFILE)
		json_array_append_new(arr, json_string("O_TMPFILE"));
	return arr;
}

const char *encode_errno_name(int err, char buf[16])
{
	switch (err) {
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	}
	snprintf(buf, 16, "%d", err);
	return buf;
}
