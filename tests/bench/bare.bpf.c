// SPDX-License-Identifier: GPL-2.0
/*
 * The bare monitor of make bench: custos's hooks for the open, read and
 * close families' fast paths, each doing one hash lookup and nothing else.
 * What custos costs above it is what custos itself does.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u64);
} bare_table SEC(".maps");

static __always_inline int bare_lookup(void)
{
	__u64 key = bpf_get_current_pid_tgid();

	return bpf_map_lookup_elem(&bare_table, &key) != NULL;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int bare_exit_openat(void *ctx)
{
	return bare_lookup();
}

SEC("tracepoint/syscalls/sys_exit_read")
int bare_exit_read(void *ctx)
{
	return bare_lookup();
}

SEC("tracepoint/syscalls/sys_enter_close")
int bare_enter_close(void *ctx)
{
	return bare_lookup();
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int bare_exit_sendto(void *ctx)
{
	return bare_lookup();
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int bare_exit_recvfrom(void *ctx)
{
	return bare_lookup();
}

char LICENSE[] SEC("license") = "GPL";
