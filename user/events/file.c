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
	events_wire_free(st->wire);
	free(st->path);
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

/* The open file's event_file: what every event of it shows (path set by the caller). */
static void open_state_file(struct open_state *st, uint32_t dev, uint64_t ino, uint32_t mode,
			    uint32_t owner_uid, uint32_t owner_gid)
{
	struct event_file *f = &st->file;

	f->path = st->path;
	f->has_identity = true;
	f->dev = dev;
	f->ino = ino;
	f->mode = mode;
	f->has_owner = true;
	f->owner_uid = owner_uid;
	f->owner_gid = owner_gid;
}

/* The event_file of st as an event shows it now (the names the owner ids resolve to may change). */
static void file_event_init(struct events *e, struct open_state *st, struct event *ev,
			    enum event_kind kind, uint64_t boot_ns, const char *action,
			    const struct custos_task *task)
{
	if (st->socket) {
		events_event_init(e, ev, kind, boot_ns, "network", "connection", action, "success");
		ev->net = &st->net;
		ev->who = events_who(e, task);
		ev->rule = st->rule;
		ev->egress = st->rule->egress ? &st->egress : NULL;
		ev->open_id = st->open_id;
		return;
	}
	events_event_init(e, ev, kind, boot_ns, "file", "access", action, "success");
	/* Names are looked up as the event is made: the table of names may have been cleared. */
	st->file.owner = users_name(&e->users, st->file.owner_uid);
	st->file.group = users_group(&e->users, st->file.owner_gid);
	ev->file = &st->file;
	ev->who = events_who(e, task);
	ev->rule = st->rule;
	ev->egress = st->rule->egress ? &st->egress : NULL;
	ev->open_id = st->open_id;
}

struct open_state *events_open_state_new(struct events *e, uint64_t open_id,
					 const struct custos_task *opener, uint32_t rule)
{
	struct open_state *st = calloc(1, sizeof(*st)), *old = NULL;

	if (!st)
		return NULL;
	st->open_id = open_id;
	st->opener = *opener;
	st->rule = events_rule(e, rule);
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
	struct event_file file;
	struct event ev;
	size_t len;

	if (!record_fits(size, sizeof(*rec), rec->path.len))
		return -EINVAL;
	st = events_open_state_new(e, rec->open_id, &rec->task, rec->rule);
	if (!st)
		return -ENOMEM;
	st->path = events_join_path(rec->data, &rec->path, &len);
	if (!st->path) {
		hashmap_remove(&e->opens, st->open_id);
		events_open_state_free(st);
		return -ENOMEM;
	}
	open_state_file(st, rec->dev, rec->ino, rec->mode, rec->owner_uid, rec->owner_gid);
	st->file.path_len = len;
	events_path_flags(&st->file, &rec->path);
	/* A file written anew outside the watches: is it on a removable disk? */
	if (events_egress(e, &st->egress, st->rule, rec->egress_read_rule, rec->egress_read_ns))
		st->file.removable = blockdev_removable(
		    &e->blockdevs, rec->dev >> 20, rec->dev & 0xfffff, encode_clock_now_boot());

	file_event_init(e, st, &ev, EVENT_FILE_OPEN, rec->hdr.ktime_ns, "open", &rec->task);
	if (rec->created)
		ev.type = "creation";
	file = st->file;
	file.has_size = true;
	file.size = rec->size;
	ev.file = &file;
	ev.open = (struct event_open){
	    .has_flags = true, .flags = rec->flags, .has_fd = true, .fd = rec->fd, .via = rec->via};
	events_emit(e, &ev);
	return 0;
}

/* A file the agent did not see opened (its open record was lost): what the watches know. */
static struct open_state *state_for_unseen(struct events *e, uint64_t open_id,
					   const struct custos_task *opener, uint32_t dev,
					   uint64_t ino, uint32_t rule)
{
	const struct watch_item *it = e->watches ? watch_find(e->watches, dev, ino) : NULL;
	struct open_state *st = events_open_state_new(e, open_id, opener, rule);

	if (!st)
		return NULL;
	if (st->rule->endpoint) {
		st->socket = true; /* its connect was lost: its ends are unknown */
		return st;
	}
	st->path = strdup(it ? it->path : "");
	if (!st->path) {
		hashmap_remove(&e->opens, open_id);
		events_open_state_free(st);
		return NULL;
	}
	open_state_file(st, dev, ino, 0, 0, 0);
	st->file.path_len = strlen(st->path);
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
	struct event ev;

	if (final)
		events_wire_end(e, st, boot_ns); /* its statements before the connection's end */
	if (!quiet) {
		file_event_init(e, st, &ev, EVENT_FILE_SUMMARY, boot_ns, action, task);
		if (st->socket && final)
			ev.type = "connection,end";
		ev.summary = (struct event_summary){
		    .since =
			{
			    .bytes_read = since(io->bytes_read, u->reported.bytes_read),
			    .read_calls = since(io->read_calls, u->reported.read_calls),
			    .bytes_written = since(io->bytes_written, u->reported.bytes_written),
			    .write_calls = since(io->write_calls, u->reported.write_calls),
			},
		    .total_bytes_read = io->bytes_read,
		    .total_bytes_written = io->bytes_written,
		    .reason = close_reasons[reason],
		    .final = final,
		    .incomplete = reason == CUSTOS_CLOSE_LOST,
		};
		events_emit(e, &ev);
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
	struct event ev;

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
	if (st->socket)
		return 0; /* its summaries name the process; a socket has no open event to repeat */
	file_event_init(e, st, &ev, EVENT_FILE_OPEN, rec->hdr.ktime_ns, "open", &rec->task);
	ev.open = (struct event_open){
	    .shared = true, .has_fd = true, .fd = rec->fd, .opener = rec->opener_tgid};
	events_emit(e, &ev);
	return 0;
}

/*
 * An event about a file that carries its own path (not an open file's
 * state): its event_file, path included, lives in file and the buffer
 * returned (to free after the event).
 */
static char *record_event_init(struct events *e, struct event *ev, struct event_file *file,
			       enum event_kind kind, uint64_t boot_ns, const char *type,
			       const char *action, const char *names,
			       const struct custos_path_info *info, uint32_t dev, uint64_t ino,
			       uint32_t mode, const struct custos_task *task, uint32_t rule,
			       uint64_t open_id)
{
	size_t len;
	char *path = events_join_path(names, info, &len);

	if (!path)
		return NULL;
	*file = (struct event_file){.path = path,
				    .path_len = len,
				    .has_identity = true,
				    .dev = dev,
				    .ino = ino,
				    .mode = mode};
	events_path_flags(file, info);
	events_event_init(e, ev, kind, boot_ns, "file", type, action, "success");
	ev->file = file;
	ev->who = events_who(e, task);
	ev->rule = events_rule(e, rule);
	ev->open_id = open_id;
	return path;
}

int events_file_mmap(struct events *e, const struct custos_file_mmap *rec, size_t size)
{
	struct event_file file;
	struct event ev;
	char *path;

	if (!record_fits(size, sizeof(*rec), rec->path.len))
		return -EINVAL;
	path = record_event_init(e, &ev, &file, EVENT_FILE_MMAP, rec->hdr.ktime_ns, "access",
				 "mmap", rec->data, &rec->path, rec->dev, rec->ino, rec->mode,
				 &rec->task, rec->rule, rec->open_id);
	if (!path)
		return -ENOMEM;
	ev.mmap = (struct event_mmap){
	    .length = rec->length, .offset = rec->offset, .prot = rec->prot, .flags = rec->flags};
	events_emit(e, &ev);
	free(path);
	return 0;
}

int events_file_change(struct events *e, const struct custos_file_change *rec, size_t size)
{
	const char *action = events_change_action(rec->op);
	struct event_file file;
	struct event ev;
	char *path;

	if (!record_fits(size, sizeof(*rec), rec->path.len) || !action ||
	    rec->op > CUSTOS_CHANGE_CHOWN)
		return -EINVAL;
	path = record_event_init(e, &ev, &file, EVENT_FILE_CHANGE, rec->hdr.ktime_ns, "change",
				 action, rec->data, &rec->path, rec->dev, rec->ino, rec->mode,
				 &rec->task, rec->rule, rec->open_id);
	if (!path)
		return -ENOMEM;
	ev.change = (struct event_change){.op = rec->op, .arg = rec->arg, .arg2 = rec->arg2};
	events_emit(e, &ev);
	free(path);
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
