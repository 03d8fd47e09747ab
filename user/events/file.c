// SPDX-License-Identifier: GPL-2.0
/*
 * Open watched files: their opens, the summaries of what each process read
 * and wrote through them (as differences since its previous summary),
 * their use by processes that did not open them, mappings, and changes
 * made through them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"

#define MISSING_SWEEPS_LOST 2

static const char *const close_reasons[] = {
    [CUSTOS_CLOSE_CLOSE] = "close", [CUSTOS_CLOSE_EXIT] = "exit",
    [CUSTOS_CLOSE_EXEC] = "exec",   [CUSTOS_CLOSE_REUSED] = "unobserved",
    [CUSTOS_CLOSE_FLUSH] = "flush", [CUSTOS_CLOSE_LOST] = "evicted",
};

void events_open_state_free(struct open_state *st)
{
	void *user;
	size_t i = 0;

	if (!st)
		return;
	while (hashmap_next(&st->users, &i, NULL, &user))
		free(user);
	hashmap_clear(&st->users);
	free(st->path);
	json_decref(st->rule);
	json_decref(st->file);
	json_decref(st->file_custos);
	free(st);
}

/* The record of what process tgid did with st, created on first need. */
static struct file_user *file_user(struct open_state *st, uint32_t tgid,
				   const struct custos_task *task)
{
	struct file_user *u = hashmap_get(&st->users, tgid);

	if (u)
		return u;
	u = calloc(1, sizeof(*u));
	if (!u || hashmap_put(&st->users, tgid, u, NULL)) {
		free(u);
		return NULL;
	}
	if (task)
		u->task = *task;
	u->task.tgid = tgid;
	return u;
}

/* file.* of an open file and its custos.* companions, built once for all its events. */
static void open_state_encode_file(struct events *e, struct open_state *st,
				   const struct custos_path_info *info)
{
	json_t *tmp = json_object();

	encode_file(tmp, st->path, st->path_len, st->dev, st->ino, st->mode, &e->users,
		    st->owner_uid, st->owner_gid);
	if (info)
		events_add_path_flags(tmp, info);
	st->file = json_incref(json_object_get(tmp, "file"));
	st->file_custos = json_incref(json_object_get(tmp, "custos"));
	json_decref(tmp);
}

static void share_file(json_t *ev, const struct open_state *st, json_t *file)
{
	json_object_set(ev, "file", file);
	if (st->file_custos)
		events_share_members(ev, encode_obj(ev, "custos"), st->file_custos);
}

static struct open_state *open_state_new(struct events *e, uint64_t open_id,
					 const struct custos_task *opener, uint32_t rule)
{
	struct open_state *st = calloc(1, sizeof(*st)), *old = NULL;

	if (!st)
		return NULL;
	st->open_id = open_id;
	st->opener = *opener;
	st->rule = events_rule_json(e, rule);
	st->sweep_seen = e->sweep;
	if (!file_user(st, opener->tgid, opener) ||
	    hashmap_put(&e->opens, open_id, st, (void **)&old)) {
		events_open_state_free(st);
		return NULL;
	}
	events_open_state_free(old);
	return st;
}

int events_file_open(struct events *e, const struct custos_file_open *rec, size_t size)
{
	struct open_state *st;
	json_t *ev, *open, *file;

	if (!record_fits(size, sizeof(*rec), rec->path.len))
		return -EINVAL;
	st = open_state_new(e, rec->open_id, &rec->task, rec->rule);
	if (!st)
		return -ENOMEM;
	st->path = events_join_path(rec->data, &rec->path, &st->path_len);
	st->ino = rec->ino;
	st->dev = rec->dev;
	st->mode = rec->mode;
	st->owner_uid = rec->owner_uid;
	st->owner_gid = rec->owner_gid;
	if (!st->path) {
		hashmap_remove(&e->opens, st->open_id);
		events_open_state_free(st);
		return -ENOMEM;
	}
	open_state_encode_file(e, st, &rec->path);

	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "access", "open", "success", NULL);
	file = json_copy(st->file); /* shallow: shares the members */
	json_object_set_new(file, "size", json_integer(rec->size));
	share_file(ev, st, file);
	json_decref(file);
	events_encode_who(e, ev, &rec->task);
	events_add_rule(ev, st->rule);
	json_object_set_new(encode_obj(ev, "custos"), "open_id", json_integer(rec->open_id));
	open = encode_obj(ev, "custos.open");
	json_object_set_new(open, "flags", events_open_flags(e, rec->flags));
	json_object_set_new(open, "fd", json_integer(rec->fd));
	if (rec->via == CUSTOS_OPEN_IO_URING)
		json_object_set_new(open, "via", json_string("io_uring"));
	else if (rec->via == CUSTOS_OPEN_EXISTING)
		json_object_set_new(open, "existing", json_true());
	events_emit(e, ev);
	return 0;
}

/* A file the agent did not see opened (its open record was lost): what the watches know. */
static struct open_state *state_for_unseen(struct events *e, uint64_t open_id,
					   const struct custos_task *opener, uint32_t dev,
					   uint64_t ino, uint32_t rule)
{
	const struct watch_item *it = e->watches ? watch_find(e->watches, dev, ino) : NULL;
	struct open_state *st = open_state_new(e, open_id, opener, rule);

	if (!st)
		return NULL;
	st->dev = dev;
	st->ino = ino;
	st->path = strdup(it ? it->path : "");
	st->path_len = it ? strlen(it->path) : 0;
	if (!st->path) {
		hashmap_remove(&e->opens, open_id);
		events_open_state_free(st);
		return NULL;
	}
	open_state_encode_file(e, st, NULL);
	return st;
}

static uint64_t since(uint64_t total, uint64_t reported)
{
	/* Counters only grow; a smaller total means the entry was reset: all of it is new. */
	return total >= reported ? total - reported : total;
}

static bool io_equal(const struct custos_io *a, const struct custos_io *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/*
 * Emits what process u did through st since its previous summary (io holds
 * its totals); forgets st if final. A process other than the opener that
 * did nothing gets no event.
 */
static void emit_summary(struct events *e, struct open_state *st, struct file_user *u,
			 const struct custos_task *task, uint64_t boot_ns,
			 const struct custos_io *io, uint32_t reason, bool final)
{
	const char *action = reason == CUSTOS_CLOSE_FLUSH ? "flush" : "close";
	bool quiet = u->task.tgid != st->opener.tgid && io_equal(io, &u->reported);
	json_t *ev, *out, *close;

	if (!quiet) {
		ev = encode_event(&e->clock, boot_ns, "file", "access", action, "success", NULL);
		share_file(ev, st, st->file);
		events_encode_who(e, ev, task);
		events_add_rule(ev, st->rule);
		json_object_set_new(encode_obj(ev, "custos"), "open_id", json_integer(st->open_id));
		out = encode_obj(ev, "custos.io");
		json_object_set_new(out, "bytes_read",
				    json_integer(since(io->bytes_read, u->reported.bytes_read)));
		json_object_set_new(out, "read_calls",
				    json_integer(since(io->read_calls, u->reported.read_calls)));
		json_object_set_new(
		    out, "bytes_written",
		    json_integer(since(io->bytes_written, u->reported.bytes_written)));
		json_object_set_new(out, "write_calls",
				    json_integer(since(io->write_calls, u->reported.write_calls)));
		json_object_set_new(out, "total_bytes_read", json_integer(io->bytes_read));
		json_object_set_new(out, "total_bytes_written", json_integer(io->bytes_written));
		if (reason == CUSTOS_CLOSE_LOST)
			json_object_set_new(out, "incomplete", json_true());
		close = encode_obj(ev, "custos.close");
		json_object_set_new(close, "reason", json_string(close_reasons[reason]));
		json_object_set_new(close, "final", json_boolean(final));
		events_emit(e, ev);
	}
	u->reported = *io;
	if (final) {
		hashmap_remove(&e->opens, st->open_id);
		events_open_state_free(st);
	}
}

int events_file_close(struct events *e, const struct custos_file_close *rec, size_t size)
{
	const struct custos_task *task = &rec->task;
	struct open_state *st;
	struct file_user *u;

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
	 * use this one.
	 */
	if ((rec->by_opener && st->opener.tgid == rec->task.tgid) ||
	    rec->reason == CUSTOS_CLOSE_REUSED)
		task = &st->opener;
	u = file_user(st, rec->counters_tgid, NULL);
	if (!u)
		return -ENOMEM;
	emit_summary(e, st, u, task, rec->hdr.ktime_ns, &rec->io, rec->reason, rec->final);
	return 0;
}

/* A process that did not open the file used it: an open event of its own, marked shared. */
int events_file_shared(struct events *e, const struct custos_file_shared *rec, size_t size)
{
	struct custos_task opener = {.tgid = rec->opener_tgid};
	struct open_state *st;
	struct file_user *u;
	json_t *ev, *open;

	if (size < sizeof(*rec))
		return -EINVAL;
	st = hashmap_get(&e->opens, rec->open_id);
	if (!st)
		st = state_for_unseen(e, rec->open_id, &opener, rec->dev, rec->ino, rec->rule);
	if (!st)
		return -ENOMEM;
	u = file_user(st, rec->task.tgid, &rec->task);
	if (!u)
		return -ENOMEM;
	memset(&u->reported, 0, sizeof(u->reported));
	u->task = rec->task;
	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "access", "open", "success", NULL);
	share_file(ev, st, st->file);
	events_encode_who(e, ev, &rec->task);
	events_add_rule(ev, st->rule);
	json_object_set_new(encode_obj(ev, "custos"), "open_id", json_integer(st->open_id));
	open = encode_obj(ev, "custos.open");
	json_object_set_new(open, "shared", json_true());
	json_object_set_new(open, "fd", json_integer(rec->fd));
	json_object_set_new(encode_obj(open, "opener"), "pid", json_integer(rec->opener_tgid));
	events_emit(e, ev);
	return 0;
}

/* file.* for a record that carries its own path (not an open file's state). */
static void encode_record_file(struct events *e, json_t *ev, const char *names,
			       const struct custos_path_info *info, uint32_t dev, uint64_t ino,
			       uint32_t mode)
{
	size_t len;
	char *path = events_join_path(names, info, &len);

	if (!path)
		return;
	encode_file(ev, path, len, dev, ino, mode, &e->users, 0, 0);
	json_object_del(json_object_get(ev, "file"), "uid");
	json_object_del(json_object_get(ev, "file"), "gid");
	events_add_path_flags(ev, info);
	free(path);
}

static json_t *names_of(uint32_t bits, const char *const *names, const uint32_t *values, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		if ((values[i] && (bits & values[i]) == values[i]) || (!values[i] && !bits))
			json_array_append_new(arr, json_string(names[i]));
	return arr;
}

int events_file_mmap(struct events *e, const struct custos_file_mmap *rec, size_t size)
{
	static const char *const prot_names[] = {"PROT_NONE", "PROT_READ", "PROT_WRITE",
						 "PROT_EXEC"};
	static const uint32_t prot_values[] = {0, PROT_READ, PROT_WRITE, PROT_EXEC};
	static const char *const map_names[] = {"MAP_SHARED", "MAP_PRIVATE"};
	static const uint32_t map_values[] = {MAP_SHARED, MAP_PRIVATE};
	json_t *ev, *mmap, *rule;

	if (!record_fits(size, sizeof(*rec), rec->path.len))
		return -EINVAL;
	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "access", "mmap", "success", NULL);
	encode_record_file(e, ev, rec->data, &rec->path, rec->dev, rec->ino, rec->mode);
	events_encode_who(e, ev, &rec->task);
	rule = events_rule_json(e, rec->rule);
	events_add_rule(ev, rule);
	json_decref(rule);
	if (rec->open_id)
		json_object_set_new(encode_obj(ev, "custos"), "open_id",
				    json_integer(rec->open_id));
	mmap = encode_obj(ev, "custos.mmap");
	json_object_set_new(mmap, "length", json_integer(rec->length));
	json_object_set_new(mmap, "offset", json_integer(rec->offset));
	json_object_set_new(mmap, "prot", names_of(rec->prot, prot_names, prot_values, 4));
	json_object_set_new(mmap, "flags",
			    names_of(rec->flags & MAP_TYPE, map_names, map_values, 2));
	json_object_set_new(encode_obj(ev, "custos.io"), "mapped_bytes", json_integer(rec->length));
	events_emit(e, ev);
	return 0;
}

int events_file_change(struct events *e, const struct custos_file_change *rec, size_t size)
{
	const char *action = events_change_action(rec->op);
	json_t *ev, *rule;

	if (!record_fits(size, sizeof(*rec), rec->path.len) || !action ||
	    rec->op > CUSTOS_CHANGE_CHOWN)
		return -EINVAL;
	ev = encode_event(&e->clock, rec->hdr.ktime_ns, "file", "change", action, "success", NULL);
	encode_record_file(e, ev, rec->data, &rec->path, rec->dev, rec->ino, rec->mode);
	events_encode_who(e, ev, &rec->task);
	rule = events_rule_json(e, rec->rule);
	events_add_rule(ev, rule);
	json_decref(rule);
	if (rec->open_id)
		json_object_set_new(encode_obj(ev, "custos"), "open_id",
				    json_integer(rec->open_id));
	events_encode_change(ev, rec->op, rec->arg, rec->arg2);
	events_emit(e, ev);
	return 0;
}

void events_flush_begin(struct events *e)
{
	e->sweep++;
}

/* An entry of the kernel's open-file table: an interim summary; the open file is seen. */
void events_flush_opener(struct events *e, const struct custos_open_file *of)
{
	struct open_state *st = hashmap_get(&e->opens, of->open_id);
	struct file_user *u;

	if (!st) {
		struct custos_task owner = {.tgid = of->owner_tgid};

		st = state_for_unseen(e, of->open_id, &owner, of->dev, of->ino, of->rule);
		if (!st)
			return;
	}
	st->sweep_seen = e->sweep;
	st->missing_sweeps = 0;
	u = file_user(st, of->owner_tgid, &st->opener);
	if (u && !io_equal(&of->io, &u->reported))
		emit_summary(e, st, u, &st->opener, encode_clock_now_boot(), &of->io,
			     CUSTOS_CLOSE_FLUSH, false);
}

/* An entry of the kernel's table of other processes' use: an interim summary. */
void events_flush_reader(struct events *e, const struct custos_reader_key *key,
			 const struct custos_reader *r)
{
	struct open_state *st = hashmap_get(&e->opens, r->open_id);
	struct file_user *u = st ? hashmap_get(&st->users, key->tgid) : NULL;

	if (u && !io_equal(&r->io, &u->reported))
		emit_summary(e, st, u, &u->task, encode_clock_now_boot(), &r->io,
			     CUSTOS_CLOSE_FLUSH, false);
}

void events_flush_end(struct events *e, bool judge_lost)
{
	struct open_state *st;
	uint64_t open_id;
	size_t i = 0;

	/* Gone from the kernel's table without a final summary: evicted. */
	while (judge_lost && hashmap_next(&e->opens, &i, &open_id, (void **)&st)) {
		struct file_user *u;

		if (st->sweep_seen == e->sweep || ++st->missing_sweeps < MISSING_SWEEPS_LOST)
			continue;
		e->stats.evicted++;
		u = file_user(st, st->opener.tgid, &st->opener);
		if (u) {
			struct custos_io io = u->reported;

			emit_summary(e, st, u, &st->opener, encode_clock_now_boot(), &io,
				     CUSTOS_CLOSE_LOST, true);
		}
	}
}
