// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <custos/events.h>
#include <custos/hashmap.h>
#include <custos/proc.h>
#include <custos/users.h>

#define PROC_KEEP_NS	    (30ULL * 1000000000ULL) /* remember exited processes this long */
#define MISSING_SWEEPS_LOST 2
#define JOINED_PATH_MAX	    (CUSTOS_PATH_MAX + 8)

/* A watched file open now, as the agent knows it. */
struct open_state {
	uint64_t open_id;
	struct custos_task opener;
	char *path;
	size_t path_len;
	json_t *rule; /* {"rule": name, "tags": [...]}, as at open time */
	uint64_t ino;
	uint64_t reported_bytes;
	uint64_t reported_calls;
	uint32_t dev;
	uint32_t mode;
	uint32_t owner_uid;
	uint32_t owner_gid;
	uint32_t missing_sweeps;
	uint32_t sweep_seen;
	bool deleted;
};

struct events {
	char *hostname;
	events_emit_fn emit;
	void *emit_ctx;
	const struct config *cfg;
	const struct watch_set *watches;
	struct proc_table procs;
	struct users users;
	struct hashmap opens; /* open_id -> struct open_state */
	struct encode_clock clock;
	uint64_t seq;
	uint32_t sweep;
	struct events_stats stats;
};

static const char *const close_reasons[] = {
    [CUSTOS_CLOSE_CLOSE] = "close", [CUSTOS_CLOSE_EXIT] = "exit",
    [CUSTOS_CLOSE_EXEC] = "exec",   [CUSTOS_CLOSE_REUSED] = "unobserved",
    [CUSTOS_CLOSE_FLUSH] = "flush", [CUSTOS_CLOSE_LOST] = "evicted",
};

struct events *events_new(const char *hostname, events_emit_fn emit, void *ctx)
{
	struct events *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->hostname = strdup(hostname);
	if (!e->hostname) {
		free(e);
		return NULL;
	}
	e->emit = emit;
	e->emit_ctx = ctx;
	proc_table_init(&e->procs);
	encode_clock_sync(&e->clock);
	return e;
}

static void open_state_free(struct open_state *st)
{
	if (!st)
		return;
	free(st->path);
	json_decref(st->rule);
	free(st);
}

void events_free(struct events *e)
{
	void *st;
	size_t i = 0;

	if (!e)
		return;
	while (hashmap_next(&e->opens, &i, NULL, &st))
		open_state_free(st);
	hashmap_clear(&e->opens);
	proc_table_free(&e->procs);
	users_clear(&e->users);
	free(e->hostname);
	free(e);
}

void events_set_config(struct events *e, const struct config *cfg, const struct watch_set *set)
{
	e->cfg = cfg;
	e->watches = set;
}

const struct events_stats *events_stats(const struct events *e)
{
	return &e->stats;
}

size_t events_open_count(const struct events *e)
{
	return e->opens.len;
}

void events_tick(struct events *e)
{
	encode_clock_sync(&e->clock);
	proc_gc(&e->procs, encode_clock_now_boot(), PROC_KEEP_NS);
}

void events_forget_names(struct events *e)
{
	users_clear(&e->users);
}

void events_emit(struct events *e, json_t *ev)
{
	json_t *custos;

	if (!ev)
		return;
	json_object_set_new(encode_obj(ev, "host"), "name", json_string(e->hostname));
	custos = encode_obj(ev, "custos");
	json_object_set_new(custos, "seq", json_integer(++e->seq));
	json_object_set_new(custos, "schema_version", json_integer(CUSTOS_SCHEMA_VERSION));
	e->stats.emitted++;
	e->emit(ev, e->emit_ctx);
	json_decref(ev);
}

json_t *events_agent_event(struct events *e, const char *action, const char *type,
			   const char *outcome)
{
	json_t *ev =
	    encode_event(&e->clock, encode_clock_now_boot(), "process", type, action, outcome);

	json_object_set_new(encode_obj(ev, "event"), "dataset", json_string("custos.agent"));
	return ev;
}

/* Rule name and tags for a rule index of the current config. */
static json_t *rule_json(const struct events *e, uint32_t rule)
{
	json_t *out = json_object(), *tags = json_array();
	size_t i;

	if (e->cfg && rule < e->cfg->n_rules) {
		const struct config_rule *r = &e->cfg->rules[rule];

		json_object_set_new(out, "rule", json_string(r->name));
		for (i = 0; i < r->n_tags; i++)
			json_array_append_new(tags, json_string(r->tags[i]));
	} else {
		json_object_set_new(out, "rule", json_null());
	}
	json_object_set_new(out, "tags", tags);
	return out;
}

static void add_rule(json_t *ev, json_t *rule)
{
	json_object_update(encode_obj(ev, "custos"), rule);
}

static const struct proc_info *task_proc(struct events *e, const struct custos_task *task)
{
	return proc_get(&e->procs, task->tgid, task->start_ns, task->ppid);
}

/* Checks that a record of type T fits, with var bytes after the fixed part. */
static bool record_fits(size_t size, size_t fixed, size_t var)
{
	return size >= fixed && var <= size - fixed;
}

static char *join_path(const char *names, const struct custos_path_info *info, size_t *len)
{
	char *buf = malloc(JOINED_PATH_MAX);

	if (!buf)
		return NULL;
	*len = encode_join_path(names, info->len, info->flags & CUSTOS_PATH_TRUNCATED, buf,
				JOINED_PATH_MAX);
	return buf;
}

static void add_path_flags(json_t *ev, const struct custos_path_info *info)
{
	if (info->flags & CUSTOS_PATH_TRUNCATED)
		json_object_set_new(encode_obj(ev, "custos.file"), "path_truncated", json_true());
	if (info->flags & CUSTOS_PATH_DELETED)
		json_object_set_new(encode_obj(ev, "custos.file"), "deleted", json_true());
}

static int on_file_open(struct events *e, const struct custos_file_open *rec, size_t size)
{
	struct open_state *st, *old = NULL;
	json_t *ev, *open;

	if (!record_fits(size, sizeof(*rec), rec->path.len))
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->open_id = rec->open_id;
	st->opener = rec->task;
	st->path = join_path(rec->data, &rec->path, &st->path_len);
	st->rule = rule_json(e, rec->rule);
	st->ino = rec->ino;
	st->dev = rec->dev;
	st->mode = rec->mode;
	st->owner_uid = rec->owner_uid;
	st->owner_gid = rec->owner_gid;
	st->deleted = rec->path.flags & CUSTOS_PATH_DELETED;
	st->sweep_seen = e->sweep;
	if (!st->path || hashmap_put(&e->opens, st->open_id, st, (void **)&old)) {
		open_state_free(st);
		return -ENOMEM;
	}
	open_state_free(old);

	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "access", "open", "success");
	encode_file(ev, st->path, st->path_len, rec->dev, rec->ino, rec->mode, &e->users,
		    rec->owner_uid, rec->owner_gid);
	json_object_set_new(encode_obj(ev, "file"), "size", json_integer(rec->size));
	encode_task(ev, &e->clock, &rec->task, task_proc(e, &rec->task), &e->users);
	add_rule(ev, st->rule);
	add_path_flags(ev, &rec->path);
	json_object_set_new(encode_obj(ev, "custos"), "open_id", json_integer(rec->open_id));
	open = encode_obj(ev, "custos.open");
	json_object_set_new(open, "flags", encode_open_flags(rec->flags));
	json_object_set_new(open, "fd", json_integer(rec->fd));
	events_emit(e, ev);
	return 0;
}

/* A file the agent did not see opened (its open record was lost): what the watches know. */
static struct open_state *state_for_unseen(struct events *e, uint64_t open_id,
					   const struct custos_task *task, uint32_t dev,
					   uint64_t ino, uint32_t rule)
{
	const struct watch_item *it = e->watches ? watch_find(e->watches, dev, ino) : NULL;
	struct open_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->open_id = open_id;
	st->opener = *task;
	st->dev = dev;
	st->ino = ino;
	st->rule = rule_json(e, rule);
	st->path = strdup(it ? it->path : "");
	st->path_len = it ? strlen(it->path) : 0;
	st->sweep_seen = e->sweep;
	if (!st->path || hashmap_put(&e->opens, open_id, st, NULL)) {
		open_state_free(st);
		return NULL;
	}
	return st;
}

/* Emits the bytes read since the last summary of st; forgets st if final. */
static void emit_summary(struct events *e, struct open_state *st, const struct custos_task *task,
			 uint64_t boot_ns, uint64_t bytes, uint64_t calls, uint32_t reason,
			 bool final)
{
	const char *action = reason == CUSTOS_CLOSE_FLUSH ? "flush" : "close";
	json_t *ev, *io;

	ev = encode_event(&e->clock, boot_ns, "file", "access", action, "success");
	if (st->path_len)
		encode_file(ev, st->path, st->path_len, st->dev, st->ino, st->mode, &e->users,
			    st->owner_uid, st->owner_gid);
	else
		encode_file(ev, "", 0, st->dev, st->ino, 0, &e->users, 0, 0);
	encode_task(ev, &e->clock, task, task_proc(e, task), &e->users);
	add_rule(ev, st->rule);
	json_object_set_new(encode_obj(ev, "custos"), "open_id", json_integer(st->open_id));
	io = encode_obj(ev, "custos.io");
	/* Counters only grow; a smaller total means the entry was reset: report what is new. */
	json_object_set_new(
	    io, "bytes_read",
	    json_integer(bytes >= st->reported_bytes ? bytes - st->reported_bytes : bytes));
	json_object_set_new(
	    io, "read_calls",
	    json_integer(calls >= st->reported_calls ? calls - st->reported_calls : calls));
	json_object_set_new(io, "total_bytes_read", json_integer(bytes));
	if (reason == CUSTOS_CLOSE_LOST)
		json_object_set_new(io, "incomplete", json_true());
	json_object_set_new(encode_obj(ev, "custos.close"), "reason",
			    json_string(close_reasons[reason]));
	json_object_set_new(encode_obj(ev, "custos.close"), "final", json_boolean(final));
	st->reported_bytes = bytes;
	st->reported_calls = calls;
	events_emit(e, ev);
	if (final) {
		hashmap_remove(&e->opens, st->open_id);
		open_state_free(st);
	}
}

static int on_file_close(struct events *e, const struct custos_file_close *rec, size_t size)
{
	struct open_state *st;
	const struct custos_task *task = &rec->task;

	if (size < sizeof(*rec) || rec->reason == 0 || rec->reason > CUSTOS_CLOSE_REUSED)
		return -EINVAL;
	st = hashmap_get(&e->opens, rec->open_id);
	if (!st)
		st = state_for_unseen(e, rec->open_id, &rec->task, rec->dev, rec->ino, rec->rule);
	if (!st)
		return -ENOMEM;
	/* Released unseen: whoever reused the struct file did not read this one. */
	if (rec->reason == CUSTOS_CLOSE_REUSED)
		task = &st->opener;
	emit_summary(e, st, task, rec->hdr.ktime_ns, rec->bytes_read, rec->read_calls, rec->reason,
		     rec->final);
	return 0;
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
 * The name a refused open used, as a path the agent can stat. A relative
 * name starts at the directory the kernel walked (up to the root of the
 * process's mount namespace); an absolute one at the process's root, which
 * may be a chroot. Both are seen through /proc/PID/root where needed.
 */
static size_t denied_path(const struct custos_file_denied *rec, char *shown, size_t cap,
			  char *lookup, size_t lookup_cap)
{
	const char *name = rec->data;
	size_t name_len = strnlen(name, rec->name_len);
	bool via_root = name[0] == '/' || in_other_mount_ns(rec->task.tgid);
	size_t o = 0;

	if (name[0] != '/') {
		char *base = join_path(rec->data + rec->name_len, &rec->base, &o);

		if (!base)
			return 0;
		o = snprintf(shown, cap, "%s", base);
		free(base);
		if (o < cap && o > 0 && shown[o - 1] != '/')
			shown[o++] = '/';
	}
	if (o + name_len >= cap)
		return 0;
	memcpy(shown + o, name, name_len);
	shown[o + name_len] = '\0';
	snprintf(lookup, lookup_cap, "/proc/%u/root%s", rec->task.tgid, shown);
	if (!via_root || access(lookup, F_OK) != 0)
		snprintf(lookup, lookup_cap, "%s", shown);
	return o + name_len;
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

static int on_file_denied(struct events *e, const struct custos_file_denied *rec, size_t size)
{
	char path[JOINED_PATH_MAX], lookup[JOINED_PATH_MAX + 32], errbuf[16];
	const struct watch_item *it;
	uint32_t exe_dev;
	uint64_t exe_ino;
	size_t path_len;
	json_t *ev, *err, *rule;

	if (!record_fits(size, sizeof(*rec), (size_t)rec->name_len + rec->base.len) ||
	    rec->name_len == 0)
		return -EINVAL;
	path_len = denied_path(rec, path, sizeof(path), lookup, sizeof(lookup));
	if (!path_len || !e->watches)
		return 0;
	it = watch_match_path(e->watches, lookup);
	if (!it) {
		e->stats.denied_unwatched++;
		return 0;
	}
	exe_identity(rec->task.tgid, &exe_dev, &exe_ino);
	if (watch_excluded(e->watches, rec->task.comm, rec->task.uid, exe_dev, exe_ino) &
	    (1ULL << it->rule))
		return 0;

	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "access,denied", "open", "failure");
	encode_file(ev, path, path_len, 0, 0, 0, &e->users, 0, 0);
	/* The file's identity is unknown to the kernel here; leave it out rather than guess. */
	json_object_del(encode_obj(ev, "file"), "inode");
	json_object_del(encode_obj(ev, "file"), "device");
	encode_task(ev, &e->clock, &rec->task, task_proc(e, &rec->task), &e->users);
	rule = rule_json(e, it->rule);
	add_rule(ev, rule);
	json_decref(rule);
	json_object_set_new(encode_obj(ev, "custos.open"), "flags", encode_open_flags(rec->flags));
	err = encode_obj(ev, "error");
	json_object_set_new(err, "code", json_string(encode_errno_name(rec->error, errbuf)));
	json_object_set_new(err, "message", json_string(strerror(rec->error)));
	events_emit(e, ev);
	return 0;
}

static int on_proc_exec(struct events *e, const struct custos_proc_exec *rec, size_t size)
{
	size_t exe_len;
	char *exe;

	if (!record_fits(size, sizeof(*rec), (size_t)CUSTOS_PATH_MAX + rec->args_len) ||
	    rec->exe.len > CUSTOS_PATH_MAX)
		return -EINVAL;
	exe = join_path(rec->data, &rec->exe, &exe_len);
	if (!exe)
		return -ENOMEM;
	proc_exec(&e->procs, rec->task.tgid, rec->task.start_ns, exe, exe_len,
		  rec->data + CUSTOS_PATH_MAX, rec->args_len, rec->args_truncated);
	free(exe);
	return 0;
}

static int on_proc_exit(struct events *e, const struct custos_proc_exit *rec, size_t size)
{
	if (size < sizeof(*rec))
		return -EINVAL;
	proc_exit(&e->procs, rec->task.tgid, rec->hdr.ktime_ns);
	return 0;
}

int events_record(struct events *e, const void *data, size_t size)
{
	const struct custos_rec_hdr *hdr = data;
	int ret;

	if (size < sizeof(*hdr) || hdr->size > size || hdr->abi_version != CUSTOS_ABI_VERSION) {
		e->stats.malformed++;
		return -EINVAL;
	}
	size = hdr->size;
	e->stats.records[hdr->type < CUSTOS_REC_TYPE_MAX ? hdr->type : 0]++;
	switch (hdr->type) {
	case CUSTOS_REC_FILE_OPEN:
		ret = on_file_open(e, data, size);
		break;
	case CUSTOS_REC_FILE_CLOSE:
		ret = on_file_close(e, data, size);
		break;
	case CUSTOS_REC_FILE_DENIED:
		ret = on_file_denied(e, data, size);
		break;
	case CUSTOS_REC_PROC_EXEC:
		ret = on_proc_exec(e, data, size);
		break;
	case CUSTOS_REC_PROC_EXIT:
		ret = on_proc_exit(e, data, size);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret == -EINVAL)
		e->stats.malformed++;
	return ret;
}

void events_flush(struct events *e, int fd)
{
	uint64_t key, next, open_id;
	struct custos_open_file of;
	struct open_state *st;
	void *prev = NULL;
	size_t i = 0;

	e->sweep++;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &of))
			continue;
		st = hashmap_get(&e->opens, of.open_id);
		if (!st) {
			struct custos_task owner = {.tgid = of.owner_tgid};

			st = state_for_unseen(e, of.open_id, &owner, of.dev, of.ino, of.rule);
			if (!st)
				continue;
		}
		st->sweep_seen = e->sweep;
		st->missing_sweeps = 0;
		if (of.bytes_read != st->reported_bytes || of.read_calls != st->reported_calls)
			emit_summary(e, st, &st->opener, encode_clock_now_boot(), of.bytes_read,
				     of.read_calls, CUSTOS_CLOSE_FLUSH, false);
	}
	/* Gone from the kernel's table without a final summary: evicted. */
	while (hashmap_next(&e->opens, &i, &open_id, (void **)&st)) {
		if (st->sweep_seen == e->sweep || ++st->missing_sweeps < MISSING_SWEEPS_LOST)
			continue;
		e->stats.evicted++;
		emit_summary(e, st, &st->opener, encode_clock_now_boot(), st->reported_bytes,
			     st->reported_calls, CUSTOS_CLOSE_LOST, true);
	}
}
