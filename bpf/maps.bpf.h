/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map and rodata knob of the BPF object, each with its purpose.
 */
#ifndef CUSTOS_MAPS_BPF_H
#define CUSTOS_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <custos/abi.h>

/* The loader's settings: .rodata holds only this, so its layout is the struct's. */
const volatile struct custos_bpf_config settings;
/* Shared with the agent, which maps it (see struct custos_bpf_state). */
struct custos_bpf_state state;

/* Reads of the shared state the agent may change at any time. */
#define STATE(field) (*(volatile typeof(state.field) *)&state.field)

/* Records to the agent. Size set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

/* Watched inodes: files, and directories whose whole subtree is watched. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct custos_inode_key);
	__type(value, struct custos_watch_value);
} watch_inodes SEC(".maps");

/* Directories holding a watched file (kind CUSTOS_WATCH_FILE): a name there may be one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct custos_inode_key);
	__type(value, __u32);
} file_watch_dirs SEC(".maps");

/* Devices holding at least one watched inode: a miss ends an open's check at once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} watch_devs SEC(".maps");

/*
 * Whether a directory is inside a watched tree (and which rule): a per-CPU
 * direct-mapped cache indexed by the directory's inode, each slot checked
 * against the inode, its device and state.verdict_epoch. A directory has one
 * dentry, so its inode names it; the epoch moves on every rename and
 * directory removal, so neither a moved tree nor a reused inode number can
 * leave a stale verdict. Per CPU, so a slot is only written by the program
 * running on that CPU (syscall tracepoints run with preemption disabled):
 * no torn reads. An open of a file nobody watches costs this array lookup.
 */
#define DIR_VERDICT_SLOTS 4096
struct dir_verdict {
	__u64 ino;
	__u64 epoch;
	__u32 dev;
	__u32 pad;
	struct custos_watch_value watch; /* kind 0: not watched */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DIR_VERDICT_SLOTS);
	__type(key, __u32);
	__type(value, struct dir_verdict);
} dir_verdicts SEC(".maps");

/* Watched files open now, keyed by struct file address, with their counters. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct custos_open_file);
} open_files SEC(".maps");

/* Watched network endpoints: address prefix, port and transport -> rule (struct
 * custos_endpoint_key). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, CUSTOS_ENDPOINT_KEYS_MAX);
	__type(key, struct custos_endpoint_key);
	__type(value, struct custos_endpoint_value);
} endpoints SEC(".maps");

/* Watched unix sockets: their socket file's identity -> rule. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CUSTOS_RULES_MAX);
	__type(key, struct custos_inode_key);
	__type(value, struct custos_endpoint_value);
} unix_endpoints SEC(".maps");

/*
 * Sessions that read customer data: audit session id (or process, see
 * CUSTOS_EGRESS_KEY_PROCESS) -> its last read-open of a watched file. Written
 * only by watched opens; read by connects, and by unwatched opens for
 * writing, while egress is on (state.egress_window_ns). The least recently
 * used session goes first when it is full.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CUSTOS_EGRESS_TAINTS_MAX);
	__type(key, __u64);
	__type(value, struct custos_egress_taint);
} egress_taints SEC(".maps");

/* Other processes' use of a watched open file (inherited, passed): their own counters. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, struct custos_reader_key);
	__type(value, struct custos_reader);
} file_readers SEC(".maps");

/* Excluded process names -> mask of the rules they are excluded from. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[CUSTOS_COMM_LEN]);
	__type(value, __u64);
} exclude_comms SEC(".maps");

/* Excluded uids -> rule mask. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} exclude_uids SEC(".maps");

/* Excluded executables, by inode -> rule mask. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct custos_inode_key);
	__type(value, __u64);
} exclude_exes SEC(".maps");

/*
 * Per-CPU room to build a variable-length record before bpf_ringbuf_output().
 * A power of two, so a size masked with SCRATCH_SIZE - 1 is provably in bounds.
 * Slot SCRATCH_TRACE serves the tracepoint programs; SCRATCH_ITER the
 * iterator, which runs preemptibly (compat object only).
 */
#define SCRATCH_SIZE  16384
#define SCRATCH_TRACE 0
#define SCRATCH_ITER  1
struct record_scratch {
	__u8 data[SCRATCH_SIZE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct record_scratch);
} scratch SEC(".maps");

/* Per-CPU count of watched opens, for open ids (see CUSTOS_OPEN_ID_CPU_SHIFT). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} open_counts SEC(".maps");

/* A database client call in flight, keyed by thread and stack pointer (calls nest, and recurse). */
struct db_call_key {
	__u32 tid;
	__u32 pad;
	__u64 sp;
};
struct db_inflight {
	__u64 args[7];
	__u64 start_ns;
	__u32 func;
	__u32 nested; /* inside another probed call of the thread: its outer call reports it */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct db_call_key);
	__type(value, struct db_inflight);
} db_calls SEC(".maps");

/* Rows stepped by an SQLite statement since its last reset, per process. */
struct db_stmt_key {
	__u32 tgid;
	__u32 pad;
	__u64 stmt;
};
struct db_stmt_rows {
	__u64 rows;
	__u64 first_ns;
	__u64 changes; /* sqlite3_changes() + 1 after the step that returned SQLITE_DONE; 0: none */
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct db_stmt_key);
	__type(value, struct db_stmt_rows);
} db_stmts SEC(".maps");

/*
 * Per-CPU room for a database record. Uprobe programs can be preempted, so
 * busy is taken with compare-and-swap; a program that finds it taken
 * reserves a full-size record in the ring instead.
 */
#define DB_RECORD_MAX \
	(sizeof(struct custos_db_call) + CUSTOS_SQL_MAX + (CUSTOS_DB_STRS - 1) * CUSTOS_DB_STR_MAX)
struct db_scratch {
	__u64 busy;
	__u8 data[8192];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct db_scratch);
} db_scratch SEC(".maps");

/* Per-CPU counters of records that could not be written. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct custos_drops);
} drops SEC(".maps");

#endif /* CUSTOS_MAPS_BPF_H */
