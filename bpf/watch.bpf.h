/* SPDX-License-Identifier: GPL-2.0 */
/* The in-kernel decision: is this inode watched, and is this task excluded? */
#ifndef CUSTOS_WATCH_BPF_H
#define CUSTOS_WATCH_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"
#include <custos/abi.h>

/*
 * The watch entry covering dentry: its own inode, else the nearest watched
 * ancestor directory within CUSTOS_WATCH_DEPTH_MAX levels. Walks the
 * filesystem's own tree, so bind mounts, chroots and other mount
 * namespaces reach the same entries; userspace adds the roots of
 * filesystems mounted below a watched directory.
 */
static __always_inline struct custos_watch_value *watch__lookup(struct dentry *dentry, __u32 dev)
{
	struct custos_inode_key key = {.dev = dev};
	int i;

	for (i = 0; i < CUSTOS_WATCH_DEPTH_MAX; i++) {
		struct dentry *parent = dentry->d_parent;
		struct inode *inode = dentry->d_inode;
		struct custos_watch_value *watch;

		if (inode) {
			key.ino = inode->i_ino;
			watch = bpf_map_lookup_elem(&watch_inodes, &key);
			if (watch)
				return watch;
		}
		if (parent == dentry)
			return NULL;
		dentry = parent;
	}
	return NULL;
}

static __always_inline bool watch__dev_watched(__u32 dev)
{
	return bpf_map_lookup_elem(&watch_devs, &dev) != NULL;
}

static __always_inline bool exclude__mask_has(__u64 *mask, __u32 rule)
{
	return mask && (*mask & (1ULL << (rule & 63)));
}

/* Is task excluded from rule by its name, uid or executable? */
static __always_inline bool exclude__task(struct task_struct *task, __u32 rule)
{
	struct custos_inode_key exe = {};
	char comm[CUSTOS_COMM_LEN];
	struct mm_struct *mm;
	__u32 uid;

	bpf_get_current_comm(comm, sizeof(comm));
	if (exclude__mask_has(bpf_map_lookup_elem(&exclude_comms, comm), rule))
		return true;
	uid = task->cred->uid.val;
	if (exclude__mask_has(bpf_map_lookup_elem(&exclude_uids, &uid), rule))
		return true;
	mm = task->mm;
	if (!mm || !mm->exe_file)
		return false;
	exe.ino = mm->exe_file->f_inode->i_ino;
	exe.dev = mm->exe_file->f_inode->i_sb->s_dev;
	return exclude__mask_has(bpf_map_lookup_elem(&exclude_exes, &exe), rule);
}

#endif /* CUSTOS_WATCH_BPF_H */
