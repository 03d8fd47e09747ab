// SPDX-License-Identifier: GPL-2.0
/*
 * The empty probes of make bench's database part: a uprobe and a uretprobe
 * that do nothing. On a trivial function of the bench they price one hit;
 * on a copy of the agent's database probe sites (the same libraries, the
 * same offsets) they price the hits the agent's probes take, without its
 * programs' work. The loader attaches them through uprobe_multi links, as
 * the agent does on kernels that have them.
 */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

SEC("uprobe")
int probe_entry(void *ctx)
{
	return 0;
}

SEC("uretprobe")
int probe_return(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
