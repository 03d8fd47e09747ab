/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Egress of sessions that read customer data. A read-open of a watched
 * file marks the caller's session in egress_taints (egress__taint, in the
 * watched-open path only). For the window after it (the config's
 * egress.window), the session's connects to endpoints no rule names and
 * the files it writes anew outside every watched tree are tracked like
 * watched ones, under rule CUSTOS_RULE_EGRESS: their bytes are counted by
 * the same hooks, and summarized the same way. The session is the audit
 * session (everything a login started, across sudo, su, pipes and
 * children); outside one, the process alone.
 */
#ifndef CUSTOS_EGRESS_BPF_H
#define CUSTOS_EGRESS_BPF_H

#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include <custos/abi.h>

#define FMODE_READ  0x1
#define FMODE_WRITE 0x2

/* Kernel interfaces, not storage: a write there copies no data out (linux/magic.h). */
#define PROC_SUPER_MAGIC    0x9fa0
#define SYSFS_MAGIC	    0x62656572
#define CGROUP_SUPER_MAGIC  0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270
#define DEBUGFS_MAGIC	    0x64626720
#define TRACEFS_MAGIC	    0x74726163
#define SECURITYFS_MAGIC    0x73636673

static __always_inline bool egress__on(void)
{
	return STATE(egress_window_ns) != 0;
}

/* The key of task's session in egress_taints. */
static __always_inline __u64 egress__key(struct task_struct *task)
{
	__u32 session = task__sessionid(task);

	if (session != (__u32)-1)
		return session;
	return CUSTOS_EGRESS_KEY_PROCESS | KR(task, tgid);
}

/* task opened a file of watch rule `rule` for reading: its session has read customer data. */
static __always_inline void egress__taint(struct task_struct *task, __u32 rule)
{
	struct custos_egress_taint *t, fresh = {.ktime_ns = bpf_ktime_get_boot_ns(), .rule = rule};
	__u64 key;

	if (!egress__on())
		return;
	key = egress__key(task);
	t = bpf_map_lookup_elem(&egress_taints, &key);
	if (t) {
		t->ktime_ns = fresh.ktime_ns;
		t->rule = rule;
		return;
	}
	bpf_map_update_elem(&egress_taints, &key, &fresh, BPF_ANY);
}

/* Did task's session read customer data within the window? Then *out says when, and what. */
static __always_inline bool egress__tainted(struct task_struct *task,
					    struct custos_egress_taint *out)
{
	__u64 window = STATE(egress_window_ns), key;
	struct custos_egress_taint *t;

	if (!window)
		return false;
	key = egress__key(task);
	t = bpf_map_lookup_elem(&egress_taints, &key);
	if (!t)
		return false;
	*out = *t;
	return bpf_ktime_get_boot_ns() - out->ktime_ns <= window;
}

/* Is the inode on a filesystem of kernel interfaces (/proc, /sys, cgroups...)? */
static __always_inline bool egress__pseudo_fs(struct inode *inode)
{
	switch (KR(inode, i_sb, s_magic)) {
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case CGROUP_SUPER_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case DEBUGFS_MAGIC:
	case TRACEFS_MAGIC:
	case SECURITYFS_MAGIC:
		return true;
	}
	return false;
}

#endif /* CUSTOS_EGRESS_BPF_H */
