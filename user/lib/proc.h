/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel records do not carry, per process: the executable, the
 * arguments and the container. Learned from exec records, from /proc for
 * processes that were running before the agent, and from the parent for a
 * child that forked without exec.
 */
#ifndef CUSTOS_PROC_H
#define CUSTOS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/hashmap.h"

struct proc_info {
	uint64_t generation; /* unique per entry: tells a replaced entry apart */
	uint32_t tgid;
	uint64_t start_ns; /* CLOCK_BOOTTIME; tells a reused pid apart */
	char *exe;	   /* may be NULL when unknown */
	size_t exe_len;
	char *args; /* NUL-separated; may be NULL */
	size_t args_len;
	bool args_truncated;
	bool args_scrubbed; /* literals of its SQL statements replaced in args (proc_scrub_args) */
	char *container_id; /* NULL outside a container */
	uint64_t exited_ns; /* 0 while running */
};

struct proc_table {
	struct hashmap by_tgid;
	struct hashmap cgroups; /* cgroup v2 id -> container id, or "" for none */
	const char *proc_root;	/* "/proc"; tests may point elsewhere */
	char *cgroup2_root;	/* where cgroup v2 is mounted; NULL if it is not */
	uint64_t generations;
	int64_t cgroups_scanned_ns;
};

void proc_table_init(struct proc_table *t);
void proc_table_free(struct proc_table *t);

/*
 * The process tgid that started at start_ns (ppid: its parent, to inherit
 * from after a fork). Never NULL unless out of memory.
 */
const struct proc_info *proc_get(struct proc_table *t, uint32_t tgid, uint64_t start_ns,
				 uint32_t ppid);
/* The parent ppid of a process that started at start_ns, if known (no lookup in /proc). */
const struct proc_info *proc_parent(struct proc_table *t, uint32_t ppid, uint64_t start_ns);
/* An exec replaced the program of tgid. exe and args are raw bytes. */
void proc_exec(struct proc_table *t, uint32_t tgid, uint64_t start_ns, const char *exe,
	       size_t exe_len, const char *args, size_t args_len, bool args_truncated);
/*
 * The arguments of tgid, scrubbed of what one of its statements revealed
 * (raw bytes; args is taken over): its events show them from now on (the
 * generation changes).
 */
void proc_scrub_args(struct proc_table *t, uint32_t tgid, uint64_t start_ns, char *args,
		     size_t args_len);
void proc_exit(struct proc_table *t, uint32_t tgid, uint64_t now_ns);
/* Learns every process and cgroup that exists now (at start, for those older than the agent). */
void proc_seed(struct proc_table *t);
/* A cgroup was created (record from the kernel); path from the cgroup v2 root. */
void proc_cgroup_learn(struct proc_table *t, uint64_t cgroup_id, const char *path);
/* The container id of a cgroup v2 id, or NULL; rescans the tree (at most once a second) for ids
 * never seen. */
const char *proc_cgroup_container(struct proc_table *t, uint64_t cgroup_id, int64_t now_ns);
/* Forgets processes that exited more than keep_ns ago. */
void proc_gc(struct proc_table *t, uint64_t now_ns, uint64_t keep_ns);

/* The 64-hex-digit container id in a cgroup path, or false. */
bool proc_container_id(const char *cgroup_path, char out[65]);

#endif /* CUSTOS_PROC_H */
