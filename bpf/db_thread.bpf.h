/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probed database client calls in flight in each thread: the uprobes count
 * them (db.bpf.c), and the wire protocol walker asks whether a message was
 * sent from inside one (its statement is then the library probe's to report).
 */
#ifndef CUSTOS_DB_THREAD_BPF_H
#define CUSTOS_DB_THREAD_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"

#ifdef CUSTOS_COMPAT
/*
 * Probed calls in flight in each thread (no task storage before 5.11): keyed
 * by thread id and the thread's start time, so a thread killed inside a call
 * leaves an entry no later thread with its id can mistake for its own; the
 * LRU drops it.
 */
struct db_thread_key {
	__u64 start_ns;
	__u32 tid;
	__u32 pad;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct db_thread_key);
	__type(value, __u32);
} db_thread_depth SEC(".maps");

static __always_inline __u32 *db__depth(struct task_struct *task, bool create)
{
	struct db_thread_key key = {.start_ns = KR(task, start_boottime), .tid = KR(task, pid)};
	__u32 zero = 0, *depth = bpf_map_lookup_elem(&db_thread_depth, &key);

	if (!depth && create) {
		bpf_map_update_elem(&db_thread_depth, &key, &zero, BPF_NOEXIST);
		depth = bpf_map_lookup_elem(&db_thread_depth, &key);
	}
	return depth;
}
#else
/*
 * Probed calls in flight in each thread. In the thread's own storage, not in
 * a map keyed by thread id: a thread killed inside a call (a client killed in
 * the middle of a query) takes its count with it, where an entry by id would
 * stay behind and make the next thread given that id see each of its calls
 * as nested, and lose them all.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u32);
} db_task_depth SEC(".maps");

static __always_inline __u32 *db__depth(struct task_struct *task, bool create)
{
	return bpf_task_storage_get(&db_task_depth, task, NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}
#endif

/* Is the thread inside a probed database client call? */
static __always_inline bool db__in_call(struct task_struct *task)
{
	__u32 *depth = db__depth(task, false);

	return depth && *depth > 0;
}

#endif /* CUSTOS_DB_THREAD_BPF_H */
