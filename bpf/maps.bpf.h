/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map and rodata knob of the BPF object, each with its purpose.
 */
#ifndef CUSTOS_MAPS_BPF_H
#define CUSTOS_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <custos/abi.h>

/* ABI of the records this object writes; checked by the agent at load. */
const volatile __u32 abi_version = CUSTOS_ABI_VERSION;
/* The agent's own process: never recorded. */
const volatile __u32 agent_tgid = 0;
/* Wake the agent when this many bytes wait in the ring; below, it polls. */
const volatile __u64 wakeup_bytes = 1 << 20;

/* Next open_id; shared by all CPUs (atomic add). */
__u64 next_open_id = 1;

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

/* Devices holding at least one watched inode: a miss ends an open's check at once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} watch_devs SEC(".maps");

/* Watched files open now, keyed by struct file address, with their counters. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct custos_open_file);
} open_files SEC(".maps");

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
 */
#define SCRATCH_SIZE 16384
struct record_scratch {
	__u8 data[SCRATCH_SIZE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct record_scratch);
} scratch SEC(".maps");

/* Per-CPU counters of records that could not be written. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct custos_drops);
} drops SEC(".maps");

#endif /* CUSTOS_MAPS_BPF_H */
