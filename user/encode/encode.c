// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/sha.h>

#include "encode/alert.h"
#include "encode/encode.h"
#include "encode/encode_priv.h"
#include "encode/jsonstr.h"
#include "encode/sql.h"
#include "lib/proc.h"
#include "lib/users.h"

#define NSEC_PER_SEC 1000000000LL
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

int64_t encode_clock_now_real(void)
{
	return clock_ns(CLOCK_REALTIME);
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
	/* Events come seconds at a time: the date and time of the last second are kept. */
	static __thread time_t last_sec = -1;
	static __thread char last[24];
	time_t sec = real_ns / NSEC_PER_SEC;
	long nsec = real_ns % NSEC_PER_SEC;
	struct tm tm;
	int i;

	if (nsec < 0) {
		sec--;
		nsec += NSEC_PER_SEC;
	}
	if (sec != last_sec) {
		gmtime_r(&sec, &tm);
		strftime(last, 21, "%Y-%m-%dT%H:%M:%S", &tm);
		last_sec = sec;
	}
	memcpy(out, last, 19);
	out[19] = '.';
	for (i = 28; i >= 20; i--) {
		out[i] = (char)('0' + nsec % 10);
		nsec /= 10;
	}
	out[29] = 'Z';
	out[30] = '\0';
}

/* pts/N, ttyN, ttySN for the common tty majors; NULL for others. */
const char *encode_tty_name(uint32_t major, uint32_t minor, char buf[32])
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
 * sqlite3 FILE "...", --execute=..., -c"..." glued to its option): where in
 * it the statement starts, or -1.
 */
static ssize_t sql_in_arg(const char *arg, size_t n)
{
	static const char *const verbs[] = {
	    "select", "insert",	 "update", "delete", "with",	 "replace", "merge",
	    "copy",   "create",	 "alter",  "drop",   "truncate", "grant",   "revoke",
	    "call",   "explain", "values", "upsert", "table",	 "show",    NULL};
	const char *eq = memchr(arg, '=', n);
	/* The argument; after --option=; after -c, a one-letter option glued on. */
	size_t starts[2] = {arg[0] == '-' && eq ? (size_t)(eq - arg) + 1 : 0,
			    n > 2 && arg[0] == '-' && arg[1] != '-' ? 2 : 0};
	size_t k, start, i, len;

	for (k = 0; k < 2; k++) {
		start = starts[k];
		if (k && !start)
			break;
		while (start < n && (arg[start] == ' ' || arg[start] == '\t' ||
				     arg[start] == '\n' || arg[start] == '('))
			start++;
		for (i = 0; verbs[i]; i++) {
			len = strlen(verbs[i]);
			if (n - start > len && !strncasecmp(arg + start, verbs[i], len) &&
			    strchr(" \t\n(*", arg[start + len]))
				return start;
		}
	}
	return -1;
}

static bool is_word_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* The word w (lower case) at arg[i], not inside a longer word. */
static bool word_at(const char *arg, size_t n, size_t i, const char *w)
{
	size_t len = strlen(w);

	return i + len < n && !strncasecmp(arg + i, w, len) &&
	       (i == 0 || !is_word_byte(arg[i - 1])) && !is_word_byte(arg[i + len]);
}

/*
 * A statement inside a larger argument (a script: perl -e, python -c,
 * bash -c, a statement after a comment): the first SELECT, INSERT, UPDATE,
 * DELETE, REPLACE, MERGE or UPSERT that a FROM, INTO, SET, WHERE or VALUES
 * follows; where it starts, or -1.
 */
static ssize_t sql_inside_arg(const char *arg, size_t n)
{
	static const char *const verbs[] = {"select",  "insert", "update", "delete",
					    "replace", "merge",	 "upsert", NULL};
	static const char *const then[] = {"from", "into", "set", "where", "values", NULL};
	size_t i, j, v, k;

	for (i = 0; i < n; i++) {
		for (v = 0; verbs[v] && !word_at(arg, n, i, verbs[v]); v++)
			;
		if (!verbs[v])
			continue;
		/* A later verb has no more after it than the first. */
		for (j = i + strlen(verbs[v]); j < n; j++)
			for (k = 0; then[k]; k++)
				if (word_at(arg, n, j, then[k]))
					return i;
		return -1;
	}
	return -1;
}

/*
 * One argument as it is written: an SQL statement in it with its literals
 * redacted as query text is (*redacted set), then in escaped form when escape
 * (all of argv is, if any of it is not UTF-8). An argument that is a
 * statement is redacted as PostgreSQL's; one that holds a statement further
 * in (a script), from there on as MySQL's, which takes both quotes for
 * literals, as the languages that hold it do. out has room for 4 * n + 4
 * bytes, tmp for n + 1. Returns the length of out, valid UTF-8.
 */
static size_t arg_text(const char *arg, size_t n, bool escape, char *out, char *tmp, bool *redacted)
{
	enum sql_dialect dialect = SQL_POSTGRESQL;
	ssize_t at = raw_sql_args ? -1 : sql_in_arg(arg, n);
	const char *src = arg;
	size_t len = n;

	if (at < 0 && !raw_sql_args) {
		at = sql_inside_arg(arg, n);
		dialect = SQL_MYSQL;
	}
	if (at >= 0) {
		memcpy(tmp, arg, at);
		len = at + sql_redact(dialect, arg + at, n - at, tmp + at, n - at + 1);
		src = tmp;
		*redacted = true;
	}
	if (escape)
		return jsonstr_escape(src, len, out);
	if (at >= 0 && !utf8_valid(src, len)) {
		out[0] = '?';
		return 1;
	}
	memcpy(out, src, len);
	return len;
}

int encode_args(const struct proc_info *proc, struct encode_args *args)
{
	size_t i, o = 0, n;

	memset(args, 0, sizeof(*args));
	args->escaped = !utf8_valid(proc->args, proc->args_len);
	args->redacted = proc->args_scrubbed;
	args->text = malloc(4 * proc->args_len + 4);
	args->tmp = malloc(proc->args_len + 1);
	args->ends = malloc((proc->args_len + 1) * sizeof(*args->ends));
	if (!args->text || !args->tmp || !args->ends) {
		encode_args_free(args);
		return -ENOMEM;
	}
	for (i = 0; i < proc->args_len; args->count++) {
		const char *arg = proc->args + i;

		n = strnlen(arg, proc->args_len - i);
		o += arg_text(arg, n, args->escaped, args->text + o, args->tmp, &args->redacted);
		args->ends[args->count] = o;
		i += n + 1;
	}
	return 0;
}

void encode_args_free(struct encode_args *args)
{
	free(args->text);
	free(args->tmp);
	free(args->ends);
	memset(args, 0, sizeof(*args));
}

/* argv: if any argument is not UTF-8, all are escaped, so one rule decodes the array. */
static void write_args(struct jsonw *w, const struct encode_args *args)
{
	size_t i, start = 0;

	jsonw_array(w, "args");
	for (i = 0; i < args->count; i++) {
		jsonw_stringn(w, NULL, args->text + start, args->ends[i] - start);
		start = args->ends[i];
	}
	jsonw_end(w);
	if (args->escaped)
		jsonw_mark_escaped(w, "process.args");
	jsonw_int(w, "args_count", args->count);
}

void encode_write_time(struct jsonw *w, const char *key, int64_t real_ns)
{
	char buf[40];

	encode_time(real_ns, buf);
	jsonw_stringn(w, key, buf, 30);
}

static void write_name(struct jsonw *w, const char *field, const char *name)
{
	if (name)
		jsonw_bytes(w, "name", field, name, strlen(name));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* This boot's id (the kernel's random boot_id), read once; "" when unreadable. */
static const char *boot_id(void)
{
	static char id[40];
	static bool read;
	FILE *f;

	if (read)
		return id;
	read = true;
	f = fopen(BOOT_ID_PATH, "re");
	if (f) {
		if (!fgets(id, sizeof(id), f))
			id[0] = '\0';
		id[strcspn(id, "\n")] = '\0';
		fclose(f);
	}
	return id;
}

/*
 * process.entity_id: unique to one process on one host, stable over its
 * life and across agent restarts: SHA-256 of the boot id, the pid and its
 * start (boot time), its first 16 bytes in hex.
 */
void encode_entity_id(uint32_t tgid, uint64_t start_ns, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	char text[96];
	int n, i;

	n = snprintf(text, sizeof(text), "%s:%u:%llu", boot_id(), tgid,
		     (unsigned long long)start_ns);
	SHA256((const unsigned char *)text, n, md);
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}

void encode_parent_name(struct jsonw *w, const struct proc_info *parent)
{
	const char *slash = memrchr(parent->exe, '/', parent->exe_len);
	const char *name = slash ? slash + 1 : parent->exe;

	jsonw_bytes(w, "name", "process.parent.name", name, parent->exe_len - (name - parent->exe));
}

/* process.parent.*: its pid, and its program when the process table knows it. */
static void write_parent(struct jsonw *w, const struct custos_task *task,
			 const struct proc_info *parent)
{
	jsonw_object(w, "parent");
	jsonw_int(w, "pid", task->ppid);
	if (parent && parent->exe) {
		encode_parent_name(w, parent);
		jsonw_bytes(w, "executable", "process.parent.executable", parent->exe,
			    parent->exe_len);
	}
	jsonw_end(w);
}

static void write_process(struct jsonw *w, const struct encode_clock *clock,
			  const struct custos_task *task, const struct proc_info *proc,
			  const struct proc_info *parent, const struct encode_args *args)
{
	char buf[33];

	jsonw_object(w, "process");
	jsonw_int(w, "pid", task->tgid);
	encode_entity_id(task->tgid, task->start_ns, buf);
	jsonw_string(w, "entity_id", buf);
	jsonw_object(w, "thread");
	jsonw_int(w, "id", task->tid);
	jsonw_end(w);
	jsonw_bytes(w, "name", "process.name", task->comm, strnlen(task->comm, sizeof(task->comm)));
	if (proc && proc->exe)
		jsonw_bytes(w, "executable", "process.executable", proc->exe, proc->exe_len);
	if (args)
		write_args(w, args);
	encode_write_time(w, "start", (int64_t)task->start_ns + clock->boot_to_real_ns);
	write_parent(w, task, parent);
	if (task->tty_dev) {
		uint32_t major = task->tty_dev >> 20, minor = task->tty_dev & 0xfffff;
		const char *name = encode_tty_name(major, minor, buf);

		jsonw_object(w, "tty");
		jsonw_object(w, "char_device");
		jsonw_int(w, "major", major);
		jsonw_int(w, "minor", minor);
		jsonw_end(w);
		if (name)
			jsonw_string(w, "name", name);
		jsonw_end(w);
	}
	if (task->sessionid != USERS_UNSET)
		jsonw_int(w, "session_id", task->sessionid);
	jsonw_end(w);
}

static void write_users(struct jsonw *w, const struct custos_task *task, struct users *users)
{
	jsonw_object(w, "user");
	jsonw_id(w, "id", task->uid);
	write_name(w, "user.name", users_name(users, task->uid));
	jsonw_object(w, "effective");
	jsonw_id(w, "id", task->euid);
	write_name(w, "user.effective.name", users_name(users, task->euid));
	jsonw_object(w, "group"); /* as Auditbeat has it: ECS's group.* has no effective id */
	jsonw_id(w, "id", task->egid);
	jsonw_end(w);
	jsonw_end(w);
	if (task->auid != USERS_UNSET) {
		jsonw_object(w, "audit");
		jsonw_id(w, "id", task->auid);
		write_name(w, "user.audit.name", users_name(users, task->auid));
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_object(w, "group");
	jsonw_id(w, "id", task->gid);
	write_name(w, "group.name", users_group(users, task->gid));
	jsonw_end(w);
}

int encode_who_ecs(struct event_who *who, const struct encode_clock *clock,
		   const struct custos_task *task, const struct proc_info *proc,
		   const struct proc_info *parent, const struct encode_args *a,
		   const char *container_id, struct users *users)
{
	struct jsonw w = {0};
	int err;

	who->task = *task;
	who->user_name = dup_or_null(users_name(users, task->uid));
	if (task->auid != USERS_UNSET)
		who->audit_name = dup_or_null(users_name(users, task->auid));
	if (proc && proc->exe) {
		who->exe = malloc(proc->exe_len + 1);
		if (who->exe) {
			memcpy(who->exe, proc->exe, proc->exe_len);
			who->exe[proc->exe_len] = '\0';
			who->exe_len = proc->exe_len;
		}
	}
	jsonw_reset(&w);
	write_process(&w, clock, task, proc, parent, a);
	write_users(&w, task, users);
	who->container = container_id != NULL;
	if (container_id) {
		jsonw_object(&w, "container");
		jsonw_string(&w, "id", container_id);
		jsonw_end(&w);
	}
	err = jsonw_take_fragment(&w, &who->json);
	if (!err) {
		jsonw_object(&w, "process");
		jsonw_int(&w, "cgroup_id", (int64_t)task->cgroup_id);
		if (a && a->redacted)
			jsonw_bool(&w, "args_redacted", true);
		if (proc && proc->args && proc->args_truncated)
			jsonw_bool(&w, "args_truncated", true);
		jsonw_end(&w);
		err = jsonw_take_fragment(&w, &who->custos_process);
	}
	jsonw_free(&w);
	return err;
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

size_t encode_file_extension(const char *name, size_t len, const char **ext)
{
	const char *dot = len ? memrchr(name + 1, '.', len - 1) : NULL;

	if (!dot || dot + 1 == name + len)
		return 0;
	*ext = dot + 1;
	return len - (size_t)(dot + 1 - name);
}

/* file.name, and file.extension. */
static void write_file_name(struct jsonw *w, const char *name, size_t len)
{
	const char *ext;
	size_t ext_len = encode_file_extension(name, len, &ext);

	jsonw_bytes(w, "name", "file.name", name, len);
	if (ext_len)
		jsonw_bytes(w, "extension", "file.extension", ext, ext_len);
}

static void write_file(struct jsonw *w, const struct event_file *f)
{
	const char *slash = memrchr(f->path, '/', f->path_len);
	char buf[32];

	jsonw_object(w, "file");
	if (f->path_len)
		jsonw_bytes(w, "path", "file.path", f->path, f->path_len);
	if (slash) {
		size_t dir_len = slash == f->path ? 1 : (size_t)(slash - f->path);

		write_file_name(w, slash + 1, f->path_len - (slash - f->path) - 1);
		jsonw_bytes(w, "directory", "file.directory", f->path, dir_len);
	}
	if (f->has_identity) {
		jsonw_id(w, "inode", f->ino);
		snprintf(buf, sizeof(buf), "%u:%u", f->dev >> 20, f->dev & 0xfffff);
		jsonw_string(w, "device", buf);
	}
	if (f->mode) {
		jsonw_string(w, "type", file_type(f->mode));
		buf[0] = (char)('0' + (f->mode >> 9 & 7));
		buf[1] = (char)('0' + (f->mode >> 6 & 7));
		buf[2] = (char)('0' + (f->mode >> 3 & 7));
		buf[3] = (char)('0' + (f->mode & 7));
		jsonw_stringn(w, "mode", buf, 4);
	}
	if (f->mode && f->has_owner) {
		jsonw_id(w, "uid", f->owner_uid);
		jsonw_id(w, "gid", f->owner_gid);
		if (f->owner)
			jsonw_bytes(w, "owner", "file.owner", f->owner, strlen(f->owner));
		if (f->group)
			jsonw_bytes(w, "group", "file.group", f->group, strlen(f->group));
	}
	if (f->has_size)
		jsonw_int(w, "size", (int64_t)f->size);
	jsonw_end(w);
}

void encode_open_flags(struct jsonw *w, const char *key, uint32_t flags)
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
	size_t i;

	jsonw_array(w, key);
	jsonw_string(w, NULL, access[flags & O_ACCMODE]);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].flag && (flags & names[i].flag) == names[i].flag)
			jsonw_string(w, NULL, names[i].name);
	/* O_SYNC includes O_DSYNC; O_TMPFILE includes O_DIRECTORY. */
	if ((flags & O_SYNC) == O_SYNC)
		jsonw_string(w, NULL, "O_SYNC");
	if ((flags & O_TMPFILE) == O_TMPFILE)
		jsonw_string(w, NULL, "O_TMPFILE");
	jsonw_end(w);
}

/* The comma-separated list "access,denied" as an array. */
static void write_list(struct jsonw *w, const char *key, const char *list)
{
	const char *p = list;

	jsonw_array(w, key);
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		jsonw_stringn(w, NULL, p, n);
		p = comma ? comma + 1 : NULL;
	}
	jsonw_end(w);
}

/* event.dataset: custos.agent, custos.alert, or custos.CATEGORY (file, database, network). */
static void write_dataset(struct jsonw *w, const struct event *ev)
{
	char buf[64];

	if (ev->dataset)
		jsonw_string(w, "dataset", ev->dataset);
	else if (ev->kind == EVENT_ALERT)
		jsonw_string(w, "dataset", "custos.alert");
	else if (snprintf(buf, sizeof(buf), "custos.%s", ev->category) < (int)sizeof(buf))
		jsonw_string(w, "dataset", buf);
}

static void write_event_meta(struct jsonw *w, const struct event *ev)
{
	jsonw_object(w, "event");
	jsonw_string(w, "kind", ev->ecs_kind ?: "event");
	jsonw_string(w, "category", ev->category);
	write_list(w, "type", ev->type);
	jsonw_string(w, "action", ev->action);
	if (ev->outcome)
		jsonw_string(w, "outcome", ev->outcome);
	jsonw_string(w, "module", "custos");
	write_dataset(w, ev);
	jsonw_int(w, "sequence", (int64_t)ev->seq);
	if (ev->kind == EVENT_DB_STATEMENT && ev->db.duration_ns)
		jsonw_int(w, "duration", (int64_t)ev->db.duration_ns);
	if (ev->kind == EVENT_ALERT) {
		if (ev->alert_info.start_ns)
			encode_write_time(w, "start", ev->alert_info.start_ns);
		if (ev->alert_info.end_ns)
			encode_write_time(w, "end", ev->alert_info.end_ns);
		jsonw_int(w, "severity", encode_alert_severity(ev->alert_info.severity));
	}
	jsonw_end(w);
}

/* As written in the query; if one is not UTF-8, all are escaped, so one rule decodes them. */
static void write_tables(struct jsonw *w, const struct sql_info *info, bool escape)
{
	size_t i;

	for (i = 0; i < info->n_tables; i++) {
		size_t n = strlen(info->tables[i]);

		if (escape)
			jsonw_bytes_escaped(w, NULL, info->tables[i], n);
		else
			jsonw_stringn(w, NULL, info->tables[i], n);
	}
}

bool encode_tables_escaped(const struct sql_info *info)
{
	size_t i;

	for (i = 0; info && i < info->n_tables; i++)
		if (!utf8_valid(info->tables[i], strlen(info->tables[i])))
			return true;
	return false;
}

/* object: {"name": the statement's one table}, escaped as its other places are. */
void encode_only_table(struct jsonw *w, const char *object, const struct sql_info *info,
		       bool escape)
{
	if (!info || info->n_tables != 1 || info->more_tables)
		return;
	jsonw_object(w, object);
	if (escape)
		jsonw_bytes_escaped(w, "name", info->tables[0], strlen(info->tables[0]));
	else
		jsonw_stringn(w, "name", info->tables[0], strlen(info->tables[0]));
	jsonw_end(w);
}

/* OpenTelemetry's db.* (semantic conventions 1.26 on); the user is custos.db.user. */
static void write_db(struct jsonw *w, const struct event_db *db, bool escape)
{
	jsonw_object(w, "db");
	jsonw_object(w, "system");
	jsonw_string(w, "name", db->system);
	jsonw_end(w);
	if (db->text) {
		jsonw_object(w, "query");
		jsonw_bytes(w, "text", "db.query.text", db->text, db->text_len);
		jsonw_end(w);
	}
	if (db->text && db->info && db->info->operation[0]) {
		jsonw_object(w, "operation");
		jsonw_string(w, "name", db->info->operation);
		jsonw_end(w);
	}
	encode_only_table(w, "collection", db->info, escape);
	if (db->namespace)
		jsonw_bytes(w, "namespace", "db.namespace", db->namespace, strlen(db->namespace));
	if (db->rows >= 0) {
		jsonw_object(w, "response");
		jsonw_int(w, "returned_rows", db->rows);
		jsonw_end(w);
	}
	jsonw_end(w);
	if (db->host || (db->port && atoi(db->port) > 0)) {
		jsonw_object(w, "server");
		if (db->host)
			jsonw_bytes(w, "address", "server.address", db->host, strlen(db->host));
		if (db->port && atoi(db->port) > 0)
			jsonw_int(w, "port", atoi(db->port));
		jsonw_end(w);
	}
}

static void write_custos_db(struct jsonw *w, const struct event_db *db, bool escape)
{
	jsonw_object(w, "db");
	if (db->source)
		jsonw_string(w, "source", db->source);
	if (db->incomplete)
		jsonw_bool(w, "incomplete", true);
	if (db->truncated)
		jsonw_bool(w, "query_truncated", true);
	if (db->info) {
		jsonw_array(w, "tables");
		write_tables(w, db->info, escape);
		jsonw_end(w);
		if (escape) {
			jsonw_mark_escaped(w, "custos.db.tables");
			jsonw_mark_escaped(w, "db.collection.name");
		}
		if (db->info->more_tables)
			jsonw_bool(w, "tables_truncated", true);
	}
	if (db->customer_data)
		jsonw_bool(w, "customer_data", true);
	if (db->user)
		jsonw_bytes(w, "user", "custos.db.user", db->user, strlen(db->user));
	if (db->socket)
		jsonw_bytes(w, "socket", "custos.db.socket", db->socket, strlen(db->socket));
	if (db->affected >= 0)
		jsonw_int(w, "affected_rows", db->affected);
	if (db->prepared_name)
		jsonw_bytes(w, "prepared_name", "custos.db.prepared_name", db->prepared_name,
			    strlen(db->prepared_name));
	jsonw_end(w);
}

static bool has_tag(char *const *tags, size_t n, const char *tag)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(tags[i], tag))
			return true;
	return false;
}

static void write_rule(struct jsonw *w, const struct event *ev)
{
	size_t i;

	if (ev->kind == EVENT_DB_STATEMENT) {
		/* The databases' tags if it names a customer-data table; its endpoint's (wire). */
		if (ev->rule && ev->rule->name)
			jsonw_string(w, "rule", ev->rule->name);
		if (!ev->db.customer_data && !(ev->rule && ev->rule->n_tags))
			return;
		jsonw_array(w, "tags");
		for (i = 0; ev->db.customer_data && i < ev->db.n_tags; i++)
			jsonw_string(w, NULL, ev->db.tags[i]);
		for (i = 0; ev->rule && i < ev->rule->n_tags; i++)
			if (!(ev->db.customer_data &&
			      has_tag(ev->db.tags, ev->db.n_tags, ev->rule->tags[i])))
				jsonw_string(w, NULL, ev->rule->tags[i]);
		jsonw_end(w);
		return;
	}
	if (!ev->rule)
		return;
	if (ev->rule->name)
		jsonw_string(w, "rule", ev->rule->name);
	else
		jsonw_null(w, "rule");
	jsonw_array(w, "tags");
	for (i = 0; i < ev->rule->n_tags; i++)
		jsonw_string(w, NULL, ev->rule->tags[i]);
	jsonw_end(w);
	if (!ev->rule->egress)
		return;
	/* No rule: a session that read customer data, to an unwatched endpoint or a new file. */
	jsonw_bool(w, "egress", true);
	if (ev->egress && ev->egress->read_rule) {
		jsonw_object(w, "egress_after");
		if (ev->egress->read_rule->name)
			jsonw_string(w, "rule", ev->egress->read_rule->name);
		else
			jsonw_null(w, "rule");
		encode_write_time(w, "read_at", ev->egress->read_ns);
		jsonw_end(w);
	}
}

static void write_open(struct jsonw *w, const struct event_open *open)
{
	jsonw_object(w, "open");
	if (open->has_flags)
		encode_open_flags(w, "flags", open->flags);
	if (open->shared)
		jsonw_bool(w, "shared", true);
	if (open->has_fd)
		jsonw_int(w, "fd", open->fd);
	if (open->shared) {
		jsonw_object(w, "opener");
		jsonw_int(w, "pid", open->opener);
		jsonw_end(w);
	}
	if (open->via == CUSTOS_OPEN_IO_URING)
		jsonw_string(w, "via", "io_uring");
	else if (open->via == CUSTOS_OPEN_STDOUT)
		jsonw_string(w, "via", "stdout");
	else if (open->via == CUSTOS_OPEN_EXISTING)
		jsonw_bool(w, "existing", true);
	jsonw_end(w);
}

/*
 * What one process did through an open file since its previous summary; a
 * socket's reads and writes are named for receiving and sending.
 */
static void write_summary(struct jsonw *w, const struct event_summary *s, bool socket)
{
	const struct custos_io *io = &s->since;

	jsonw_object(w, "io");
	if (socket) {
		jsonw_int(w, "bytes_sent", (int64_t)io->bytes_written);
		jsonw_int(w, "send_calls", (int64_t)io->write_calls);
		jsonw_int(w, "bytes_received", (int64_t)io->bytes_read);
		jsonw_int(w, "recv_calls", (int64_t)io->read_calls);
		jsonw_int(w, "total_bytes_sent", (int64_t)s->total_bytes_written);
		jsonw_int(w, "total_bytes_received", (int64_t)s->total_bytes_read);
	} else {
		jsonw_int(w, "bytes_read", (int64_t)io->bytes_read);
		jsonw_int(w, "read_calls", (int64_t)io->read_calls);
		jsonw_int(w, "bytes_written", (int64_t)io->bytes_written);
		jsonw_int(w, "write_calls", (int64_t)io->write_calls);
		jsonw_int(w, "total_bytes_read", (int64_t)s->total_bytes_read);
		jsonw_int(w, "total_bytes_written", (int64_t)s->total_bytes_written);
	}
	if (s->incomplete)
		jsonw_bool(w, "incomplete", true);
	jsonw_end(w);
	jsonw_object(w, "close");
	jsonw_string(w, "reason", s->reason);
	jsonw_bool(w, "final", s->final);
	jsonw_end(w);
}

const char *encode_net_addr(uint8_t family, const uint8_t addr[16], char buf[48])
{
	if (!inet_ntop(family == CUSTOS_NET_IPV4 ? AF_INET : AF_INET6, addr, buf, 48))
		snprintf(buf, 48, "?");
	return buf;
}

bool encode_net_end_known(const uint8_t addr[16], uint16_t port)
{
	static const uint8_t zero[16];

	return port || memcmp(addr, zero, sizeof(zero));
}

static void write_net_end(struct jsonw *w, const char *key, uint8_t family, const uint8_t addr[16],
			  uint16_t port)
{
	char ip[48];

	if (!encode_net_end_known(addr, port))
		return; /* a connect that failed before the socket had a local address */
	jsonw_object(w, key);
	jsonw_string(w, "ip", encode_net_addr(family, addr, ip));
	if (port)
		jsonw_int(w, "port", port);
	jsonw_end(w);
}

/* source.*, destination.* (who opened the connection, to whom) and network.*. */
static void write_net(struct jsonw *w, const struct event_net *n)
{
	bool ip = n->family == CUSTOS_NET_IPV4 || n->family == CUSTOS_NET_IPV6;

	if (ip) {
		if (n->accepted) {
			write_net_end(w, "source", n->family, n->remote_addr, n->remote_port);
			write_net_end(w, "destination", n->family, n->local_addr, n->local_port);
		} else {
			write_net_end(w, "source", n->family, n->local_addr, n->local_port);
			write_net_end(w, "destination", n->family, n->remote_addr, n->remote_port);
		}
	}
	encode_network(w, n);
}

void encode_network(struct jsonw *w, const struct event_net *n)
{
	jsonw_object(w, "network");
	if (n->transport == IPPROTO_TCP || n->transport == IPPROTO_UDP)
		jsonw_string(w, "transport", n->transport == IPPROTO_TCP ? "tcp" : "udp");
	if (n->protocol)
		jsonw_string(w, "protocol", n->protocol);
	if (n->family == CUSTOS_NET_IPV4 || n->family == CUSTOS_NET_IPV6)
		jsonw_string(w, "type", n->family == CUSTOS_NET_IPV4 ? "ipv4" : "ipv6");
	jsonw_string(w, "direction", n->accepted ? "ingress" : "egress");
	jsonw_end(w);
}

static void write_names(struct jsonw *w, const char *key, uint32_t bits, const char *const *names,
			const uint32_t *values, size_t n)
{
	size_t i;

	jsonw_array(w, key);
	for (i = 0; i < n; i++)
		if ((values[i] && (bits & values[i]) == values[i]) || (!values[i] && !bits))
			jsonw_string(w, NULL, names[i]);
	jsonw_end(w);
}

static void write_mmap(struct jsonw *w, const struct event_mmap *m)
{
	static const char *const prot_names[] = {"PROT_NONE", "PROT_READ", "PROT_WRITE",
						 "PROT_EXEC"};
	static const uint32_t prot_values[] = {0, PROT_READ, PROT_WRITE, PROT_EXEC};
	static const char *const map_names[] = {"MAP_SHARED", "MAP_PRIVATE"};
	static const uint32_t map_values[] = {MAP_SHARED, MAP_PRIVATE};

	jsonw_object(w, "mmap");
	jsonw_int(w, "length", (int64_t)m->length);
	jsonw_int(w, "offset", (int64_t)m->offset);
	write_names(w, "prot", m->prot, prot_names, prot_values, 4);
	write_names(w, "flags", m->flags & MAP_TYPE, map_names, map_values, 2);
	jsonw_end(w);
	jsonw_object(w, "io");
	jsonw_int(w, "mapped_bytes", (int64_t)m->length);
	jsonw_end(w);
}

/*
 * custos.change.* of truncate, chmod, chown and rename (its old path); a
 * rename's also in custos.rename.* (its first place, kept). No
 * custos.change where there is nothing to say (unlink, a chown to -1, -1).
 */
static void write_change(struct jsonw *w, const struct event_change *c)
{
	char mode[16];

	if (c->rename_from) {
		jsonw_object(w, "rename");
		jsonw_bytes(w, "from", "custos.rename.from", c->rename_from, c->rename_from_len);
		if (c->left_watch)
			jsonw_bool(w, "left_watch", true);
		jsonw_end(w);
	}
	switch (c->op) {
	case CUSTOS_CHANGE_TRUNCATE:
		jsonw_object(w, "change");
		jsonw_int(w, "length", (int64_t)c->arg);
		jsonw_end(w);
		break;
	case CUSTOS_CHANGE_CHMOD:
		snprintf(mode, sizeof(mode), "%04o", (unsigned int)(c->arg & 07777));
		jsonw_object(w, "change");
		jsonw_string(w, "mode", mode);
		jsonw_end(w);
		break;
	case CUSTOS_CHANGE_CHOWN:
		/* (uid_t)-1 leaves the owner (or group) as it is. */
		if ((uint32_t)c->arg == UINT32_MAX && c->arg2 == UINT32_MAX)
			break;
		jsonw_object(w, "change");
		if ((uint32_t)c->arg != UINT32_MAX)
			jsonw_id(w, "uid", (uint32_t)c->arg);
		if (c->arg2 != UINT32_MAX)
			jsonw_id(w, "gid", c->arg2);
		jsonw_end(w);
		break;
	case CUSTOS_CHANGE_RENAME:
		if (!c->rename_from)
			break;
		jsonw_object(w, "change");
		jsonw_bytes(w, "from", "custos.change.from", c->rename_from, c->rename_from_len);
		jsonw_end(w);
		break;
	}
}

void encode_custos(struct jsonw *w, const struct event *ev, bool tables_escape)
{
	const struct event_file *f = ev->file;
	size_t i;

	jsonw_object(w, "custos");
	write_rule(w, ev);
	if (ev->open_id)
		jsonw_int(w, "open_id", (int64_t)ev->open_id);
	switch (ev->kind) {
	case EVENT_FILE_OPEN:
	case EVENT_FILE_DENIED:
		write_open(w, &ev->open);
		break;
	case EVENT_FILE_SUMMARY:
		if (ev->net && (ev->net->unix_path || ev->net->tls || ev->net->parse_lost)) {
			jsonw_object(w, "net");
			if (ev->net->unix_path)
				jsonw_bytes(w, "unix", "custos.net.unix", ev->net->unix_path,
					    strlen(ev->net->unix_path));
			if (ev->net->tls)
				jsonw_bool(w, "tls", true);
			if (ev->net->parse_lost)
				jsonw_string(w, "parse_lost", ev->net->parse_lost);
			jsonw_end(w);
		}
		write_summary(w, &ev->summary, ev->net != NULL);
		break;
	case EVENT_NET_CONNECT:
		if (ev->net->in_progress || ev->net->existing || ev->net->unix_path) {
			jsonw_object(w, "net");
			if (ev->net->unix_path)
				jsonw_bytes(w, "unix", "custos.net.unix", ev->net->unix_path,
					    strlen(ev->net->unix_path));
			if (ev->net->in_progress)
				jsonw_bool(w, "in_progress", true);
			if (ev->net->existing)
				jsonw_bool(w, "existing", true);
			jsonw_end(w);
		}
		break;
	case EVENT_FILE_MMAP:
		write_mmap(w, &ev->mmap);
		break;
	case EVENT_FILE_CHANGE:
		write_change(w, &ev->change);
		break;
	case EVENT_DB_STATEMENT:
		write_custos_db(w, &ev->db, tables_escape);
		break;
	case EVENT_ALERT:
		encode_alert_custos(w, &ev->alert_info);
		break;
	case EVENT_AGENT:
		break;
	}
	if (f && (!f->path_len || f->path_truncated || f->deleted || f->removable)) {
		jsonw_object(w, "file");
		if (!f->path_len)
			jsonw_bool(w, "path_unknown", true);
		if (f->path_truncated)
			jsonw_bool(w, "path_truncated", true);
		if (f->deleted)
			jsonw_bool(w, "deleted", true);
		if (f->removable)
			jsonw_bool(w, "removable", true);
		jsonw_end(w);
	}
	if (ev->who)
		jsonw_paste(w, &ev->who->custos_process);
	if (ev->kind == EVENT_AGENT && ev->agent) {
		const char *key;
		json_t *value;

		json_object_foreach(ev->agent, key, value) jsonw_value(w, key, value);
	}
	if (w->n_escaped) {
		jsonw_array(w, "escaped");
		for (i = 0; i < w->n_escaped; i++)
			jsonw_string(w, NULL, w->escaped[i]);
		jsonw_end(w);
	}
	jsonw_int(w, "seq", (int64_t)ev->seq);
	jsonw_int(w, "schema_version", CUSTOS_SCHEMA_VERSION);
	if (ev->chain)
		jsonw_string(w, "chain", ev->chain);
	jsonw_end(w);
}

void encode_agent(struct jsonw *w, const struct event *ev)
{
	const struct event_agent_id *id = ev->agent_id;

	if (!id)
		return;
	jsonw_object(w, "agent");
	jsonw_string(w, "id", id->id);
	jsonw_string(w, "ephemeral_id", id->ephemeral_id);
	jsonw_string(w, "type", "custos");
	jsonw_string(w, "version", id->version);
	jsonw_end(w);
}

void encode_agent_process(struct jsonw *w, const struct event *ev)
{
	const struct event_agent_id *id = ev->agent_id;

	if (!id || ev->kind != EVENT_AGENT)
		return;
	jsonw_object(w, "process");
	jsonw_int(w, "pid", id->pid);
	jsonw_string(w, "name", "custos");
	if (id->exe[0])
		jsonw_bytes(w, "executable", "process.executable", id->exe, strlen(id->exe));
	jsonw_end(w);
}

int encode_event(struct jsonw *w, const struct event *ev)
{
	/* A statement's tables are all escaped if one is not UTF-8, in both places they go. */
	bool tables_escape = ev->kind == EVENT_DB_STATEMENT && encode_tables_escaped(ev->db.info);

	jsonw_object(w, NULL);
	encode_write_time(w, "@timestamp", ev->time_ns);
	jsonw_object(w, "ecs");
	jsonw_string(w, "version", ECS_VERSION);
	jsonw_end(w);
	write_event_meta(w, ev);
	encode_agent(w, ev);
	encode_agent_process(w, ev);
	if (ev->file)
		write_file(w, ev->file);
	if (ev->who)
		jsonw_paste(w, &ev->who->json);
	else if (ev->kind == EVENT_ALERT)
		encode_alert_grouped_who(w, &ev->alert_info);
	if (ev->kind == EVENT_ALERT)
		encode_alert_rule(w, &ev->alert_info);
	if (ev->net)
		write_net(w, ev->net);
	if (ev->kind == EVENT_DB_STATEMENT)
		write_db(w, &ev->db, tables_escape);
	if (ev->error_code || ev->error_message) {
		jsonw_object(w, "error");
		if (ev->error_code)
			jsonw_string(w, "code", ev->error_code);
		if (ev->error_message)
			jsonw_bytes(w, "message", "error.message", ev->error_message,
				    ev->error_message_len);
		jsonw_end(w);
	}
	jsonw_object(w, "host");
	jsonw_bytes(w, "name", "host.name", ev->host, strlen(ev->host));
	jsonw_end(w);
	encode_custos(w, ev, tables_escape);
	jsonw_end(w);
	return jsonw_error(w);
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
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EHOSTUNREACH:
		return "EHOSTUNREACH";
	case ECONNRESET:
		return "ECONNRESET";
	case EADDRNOTAVAIL:
		return "EADDRNOTAVAIL";
	case EINTR:
		return "EINTR";
	}
	snprintf(buf, 16, "%d", err);
	return buf;
}
