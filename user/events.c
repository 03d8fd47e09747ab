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
	json_t *rule;	     /* {"rule": name, "tags": [...]}, as at open time */
	json_t *file;	     /* file.*, shared by its events */
	json_t *file_custos; /* the custos.* members file.* brings (escaped, file), or NULL */
	uint64_t ino;
	uint64_t reported_bytes;
	uint64_t reported_calls;
	uint32_t dev;
	uint32_t mode;
	uint32_t owner_uid;
	uint32_t owner_gid;
	uint32_t missing_sweeps;
	uint32_t sweep_seen;
};

/*
 * The encoded identity of a thread (process.*, user.*, group.*, container.*),
 * shared by its events while nothing in it changes: building it is most of
 * the cost of an event.
 */
struct who_cache {
	struct custos_task task;
	uint64_t proc_generation;
	int64_t used_ns;
	json_t *who;	/* top-level members to share into each event */
	json_t *custos; /* custos.* members it brings (escaped, process) */
};

struct events {
	char *hostname;
	json_t *host; /* host.*, shared by every event */
	events_emit_fn emit;
	void *emit_ctx;
	const struct config *cfg;
	const struct watch_set *watches;
	struct proc_table procs;
	struct users users;
	struct hashmap opens; /* open_id -> struct open_state */
	struct hashmap whos;  /* tid -> struct who_cache */
	struct hashmap flags; /* open(2) flags -> their names, shared */
	struct hashmap rules; /* rule id -> {"rule": name, "tags": [...]} of every config seen */
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
	e->host = json_pack("{s:s}", "name", hostname);
	proc_table_init(&e->procs);
	proc_seed(&e->procs);
	encode_clock_sync(&e->clock);
	return e;
}

static void open_state_free(struct open_state *st)
{
	if (!st)
		return;
	free(st->path);
	json_decref(st->rule);
	json_decref(st->file);
	json_decref(st->file_custos);
	free(st);
}

static void who_cache_free(struct who_cache *w)
{
	if (!w)
		return;
	json_decref(w->who);
	json_decref(w->custos);
	free(w);
}

static void whos_clear(struct events *e, int64_t older_than_ns)
{
	struct who_cache *w;
	uint64_t tid;
	size_t i = 0;

	while (hashmap_next(&e->whos, &i, &tid, (void **)&w)) {
		if (w->used_ns < older_than_ns) {
			hashmap_remove(&e->whos, tid);
			who_cache_free(w);
		}
	}
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
	whos_clear(e, INT64_MAX);
	hashmap_clear(&e->whos);
	i = 0;
	while (hashmap_next(&e->flags, &i, NULL, &st))
		json_decref(st);
	hashmap_clear(&e->flags);
	i = 0;
	while (hashmap_next(&e->rules, &i, NULL, &st))
		json_decref(st);
	hashmap_clear(&e->rules);
	proc_table_free(&e->procs);
	users_clear(&e->users);
	json_decref(e->host);
	free(e->hostname);
	free(e);
}

/*
 * Records name rules by id (generation and index), so a record made before a
 * reload keeps the name of the rule that matched it: every config's names
 * are kept.
 */
void events_set_config(struct events *e, const struct config *cfg, const struct watch_set *set)
{
	size_t i, t;

	e->cfg = cfg;
	e->watches = set;
	for (i = 0; i < cfg->n_rules; i++) {
		uint64_t id = set->generation << CUSTOS_RULE_INDEX_BITS | i;
		const struct config_rule *r = &cfg->rules[i];
		json_t *info, *old = NULL;

		if (hashmap_get(&e->rules, id))
			continue;
		info = json_pack("{s:s, s:[]}", "rule", r->name, "tags");
		for (t = 0; info && t < r->n_tags; t++)
			json_array_append_new(json_object_get(info, "tags"),
					      json_string(r->tags[t]));
		if (info && !hashmap_put(&e->rules, id, info, (void **)&old))
			json_decref(old);
		else
			json_decref(info);
	}
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
	int64_t now = encode_clock_now_boot();

	encode_clock_sync(&e->clock);
	proc_gc(&e->procs, now, PROC_KEEP_NS);
	whos_clear(e, now - (int64_t)PROC_KEEP_NS);
}

void events_forget_names(struct events *e)
{
	whos_clear(e, INT64_MAX);
	users_clear(&e->users);
}

void events_emit(struct events *e, json_t *ev)
{
	json_t *custos;

	if (!ev)
		return;
	json_object_set(ev, "host", e->host);
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
	return encode_event(&e->clock, encode_clock_now_boot(), "process", type, action, outcome,
			    "custos.agent");
}

/* Rule name and tags for a rule index of the current config. */
/* {"rule": name, "tags": [...]} of a rule id; "rule" null if it is unknown. */
static json_t *rule_json(const struct events *e, uint32_t rule_id)
{
	json_t *info = hashmap_get(&e->rules, rule_id);

	return info ? json_incref(info) : json_pack("{s:n, s:[]}", "rule", "tags");
}

#define FLAG_SETS_MAX 256

/* custos.open.flags: the same few combinations over and over, so built once each. */
static json_t *open_flags(struct events *e, uint32_t flags)
{
	json_t *names = hashmap_get(&e->flags, flags);

	if (names)
		return json_incref(names);
	names = encode_open_flags(flags);
	if (e->flags.len < FLAG_SETS_MAX && !hashmap_put(&e->flags, flags, names, NULL))
		json_incref(names);
	return names;
}

static void add_rule(json_t *ev, json_t *rule)
{
	json_object_update(encode_obj(ev, "custos"), rule);
}

/*
 * Shares src's members into dst, an object of ev (values are referenced,
 * not copied); an "escaped" list is merged into ev's custos.escaped.
 */
static void share_members(json_t *ev, json_t *dst, json_t *src)
{
	const char *key;
	json_t *value;
	void *it;

	for (it = json_object_iter(src); it; it = json_object_iter_next(src, it)) {
		key = json_object_iter_key(it);
		value = json_object_iter_value(it);
		if (!strcmp(key, "escaped")) {
			size_t i;

			for (i = 0; i < json_array_size(value); i++)
				encode_mark_escaped(ev,
						    json_string_value(json_array_get(value, i)));
			continue;
		}
		json_object_set(dst, key, value);
	}
}

static struct who_cache *who_build(struct events *e, const struct custos_task *task,
				   const struct proc_info *proc)
{
	struct who_cache *w = calloc(1, sizeof(*w));
	const char *container;

	if (!w)
		return NULL;
	w->task = *task;
	w->proc_generation = proc ? proc->generation : 0;
	w->who = json_object();
	encode_task(w->who, &e->clock, task, proc, &e->users);
	container = proc_cgroup_container(&e->procs, task->cgroup_id, encode_clock_now_boot());
	if (container)
		json_object_set_new(encode_obj(w->who, "container"), "id", json_string(container));
	/* custos.* is the event's own object: keep what the task brings to it apart. */
	w->custos = json_incref(json_object_get(w->who, "custos"));
	json_object_del(w->who, "custos");
	return w;
}

/* process.*, user.*, group.*, container.* of task, built once per identity. */
static void encode_who(struct events *e, json_t *ev, const struct custos_task *task)
{
	const struct proc_info *proc = proc_get(&e->procs, task->tgid, task->start_ns, task->ppid);
	struct who_cache *w = hashmap_get(&e->whos, task->tid), *old = NULL;

	if (!w || memcmp(&w->task, task, sizeof(*task)) ||
	    w->proc_generation != (proc ? proc->generation : 0)) {
		w = who_build(e, task, proc);
		if (!w || hashmap_put(&e->whos, task->tid, w, (void **)&old)) {
			who_cache_free(w);
			encode_task(ev, &e->clock, task, proc, &e->users);
			return;
		}
		who_cache_free(old);
	}
	w->used_ns = encode_clock_now_boot();
	share_members(ev, ev, w->who);
	if (w->custos)
		share_members(ev, encode_obj(ev, "custos"), w->custos);
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

/* file.* of an open file and its custos.* companions, built once for all its events. */
static void open_state_encode_file(struct events *e, struct open_state *st,
				   const struct custos_path_info *info)
{
	json_t *tmp = json_object();

	encode_file(tmp, st->path, st->path_len, st->dev, st->ino, st->mode, &e->users,
		    st->owner_uid, st->owner_gid);
	if (info)
		add_path_flags(tmp, info);
	st->file = json_incref(json_object_get(tmp, "file"));
	st->file_custos = json_incref(json_object_get(tmp, "custos"));
	json_decref(tmp);
}

static void share_file(json_t *ev, const struct open_state *st, json_t *file)
{
	json_object_set(ev, "file", file);
	if (st->file_custos)
		share_members(ev, encode_obj(ev, "custos"), st->file_custos);
}

static int on_file_open(struct events *e, const struct custos_file_open *rec, size_t size)
{
	struct open_state *st, *old = NULL;
	json_t *ev, *open, *file;

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
	st->sweep_seen = e->sweep;
	if (!st->path || hashmap_put(&e->opens, st->open_id, st, (void **)&old)) {
		open_state_free(st);
		return -ENOMEM;
	}
	open_state_free(old);
	open_state_encode_file(e, st, &rec->path);

	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "access", "open", "success", NULL);
	file = json_copy(st->file); /* shallow: shares the members */
	json_object_set_new(file, "size", json_integer(rec->size));
	share_file(ev, st, file);
	json_decref(file);
	encode_who(e, ev, &rec->task);
	add_rule(ev, st->rule);
	json_object_set_new(encode_obj(ev, "custos"), "open_id", json_integer(rec->open_id));
	open = encode_obj(ev, "custos.open");
	json_object_set_new(open, "flags", open_flags(e, rec->flags));
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
	open_state_encode_file(e, st, NULL);
	return st;
}

/* Emits the bytes read since the last summary of st; forgets st if final. */
static void emit_summary(struct events *e, struct open_state *st, const struct custos_task *task,
			 uint64_t boot_ns, uint64_t bytes, uint64_t calls, uint32_t reason,
			 bool final)
{
	const char *action = reason == CUSTOS_CLOSE_FLUSH ? "flush" : "close";
	json_t *ev, *io;

	ev = encode_event(&e->clock, boot_ns, "file", "access", action, "success", NULL);
	share_file(ev, st, st->file);
	encode_who(e, ev, task);
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
	/*
	 * The opener let go, unchanged (the kernel then leaves the identity out),
	 * or the file was released unseen: whoever reused its struct file did not
	 * read this one.
	 */
	if ((rec->by_opener && st->opener.tgid) || rec->reason == CUSTOS_CLOSE_REUSED)
		task = &st->opener;

	emit_summary(e, st, task, rec->hdr.ktime_ns, rec->bytes_read, rec->read_calls, rec->reason,
		     rec->final);
	return 0;
}

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

	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "access,denied", "open", "failure",
			  NULL);
	encode_file(ev, path, path_len, 0, 0, 0, &e->users, 0, 0);
	/* The file's identity is unknown to the kernel here; leave it out rather than guess. */
	json_object_del(encode_obj(ev, "file"), "inode");
	json_object_del(encode_obj(ev, "file"), "device");
	encode_who(e, ev, &rec->task);
	rule = rule_json(e, e->watches->generation << CUSTOS_RULE_INDEX_BITS | it->rule);
	add_rule(ev, rule);
	json_decref(rule);
	json_object_set_new(encode_obj(ev, "custos.open"), "flags", open_flags(e, rec->flags));
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

static int on_cgroup_mkdir(struct events *e, const struct custos_cgroup_mkdir *rec, size_t size)
{
	if (!record_fits(size, sizeof(*rec), rec->path_len) || rec->path_len == 0 ||
	    rec->path[rec->path_len - 1] != '\0')
		return -EINVAL;
	proc_cgroup_learn(&e->procs, rec->cgroup_id, rec->path);
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
	case CUSTOS_REC_CGROUP_MKDIR:
		ret = on_cgroup_mkdir(e, data, size);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret == -EINVAL)
		e->stats.malformed++;
	return ret;
}

void events_flush(struct events *e, int fd, bool judge_lost)
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
	while (judge_lost && hashmap_next(&e->opens, &i, &open_id, (void **)&st)) {
		if (st->sweep_seen == e->sweep || ++st->missing_sweeps < MISSING_SWEEPS_LOST)
			continue;
		e->stats.evicted++;
		emit_summary(e, st, &st->opener, encode_clock_now_boot(), st->reported_bytes,
			     st->reported_calls, CUSTOS_CLOSE_LOST, true);
	}
}
