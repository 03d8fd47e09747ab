/* SPDX-License-Identifier: GPL-2.0 */
/* The in-kernel decision: is this inode watched, and is this task excluded? */
#ifndef CUSTOS_WATCH_BPF_H
#define CUSTOS_WATCH_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"
#include "task.bpf.h"
#include <custos/abi.h>

/* An ancestor walk continued by bpf_loop (addresses, not pointers). */
struct watch_walk {
	__u64 dentry;
	struct custos_watch_value found; /* kind 0: none */
	__u32 dev;
};

/* 1: stop (found, or reached the filesystem root); 0: go on up. */
static __always_inline int watch__check(struct dentry *dentry, __u32 dev,
					struct custos_watch_value *out)
{
	struct custos_inode_key key = {.dev = dev};
	struct inode *inode = dentry->d_inode;
	struct custos_watch_value *watch;

	if (inode) {
		key.ino = inode->i_ino;
		watch = bpf_map_lookup_elem(&watch_inodes, &key);
		if (watch) {
			*out = *watch;
			return 1;
		}
	}
	return dentry->d_parent == dentry;
}

static long watch_walk__step(__u32 i, struct watch_walk *w)
{
	struct dentry *dentry = kptr(struct dentry, w->dentry);

	if (watch__check(dentry, w->dev, &w->found))
		return 1;
	w->dentry = (__u64)dentry->d_parent;
	return 0;
}

/*
 * Finds the watch entry covering dentry: its own inode, else the nearest
 * watched ancestor directory, up to CUSTOS_WATCH_DEPTH_MAX levels. Walks the
 * filesystem's own tree, so bind mounts, chroots and other mount
 * namespaces reach the same entries; userspace adds the roots of
 * filesystems mounted below a watched directory. Only directory verdicts
 * missing from dir_verdicts come here, so the walk is a bpf_loop.
 */
static __always_inline bool watch__lookup(struct dentry *dentry, __u32 dev,
					  struct custos_watch_value *out)
{
	struct watch_walk w = {.dentry = (__u64)dentry, .dev = dev};

	bpf_loop(CUSTOS_WATCH_DEPTH_MAX, watch_walk__step, &w, 0);
	*out = w.found;
	return w.found.kind != 0;
}

/* Walk of an inode's other names (hard links), passed through bpf_loop. */
struct alias_walk {
	__u64 node; /* struct hlist_node * in dentry.d_u.d_alias */
	__u64 skip; /* the dentry already walked */
	struct custos_watch_value found;
	__u32 dev;
};

static long alias_walk__step(__u32 i, struct alias_walk *w)
{
	struct hlist_node *node = kptr(struct hlist_node, w->node);
	__u64 dentry = w->node - bpf_core_field_offset(struct dentry, d_u.d_alias);

	if (!w->node)
		return 1;
	w->node = (__u64)node->next;
	if (dentry == w->skip)
		return 0;
	return watch__lookup(kptr(struct dentry, dentry), w->dev, &w->found);
}

/*
 * A file with several hard links may be opened by a name outside every
 * watched tree while another of its names is inside one: check the names
 * the kernel knows for the inode (its cached dentries), up to
 * CUSTOS_ALIASES_MAX of them. Userspace also watches such inodes directly.
 */
static __always_inline bool watch__lookup_aliases(struct dentry *dentry, __u32 dev,
						  struct custos_watch_value *out)
{
	struct inode *inode = dentry->d_inode;
	struct alias_walk w = {.skip = (__u64)dentry, .dev = dev};

	if (!inode || inode->i_nlink < 2)
		return false;
	w.node = (__u64)inode->i_dentry.first;
	bpf_loop(CUSTOS_ALIASES_MAX, alias_walk__step, &w, 0);
	*out = w.found;
	return w.found.kind != 0;
}

static __always_inline bool watch__dev_watched(__u32 dev)
{
	return bpf_map_lookup_elem(&watch_devs, &dev) != NULL;
}

/*
 * Whether a directory is inside a watched tree (its own inode or an
 * ancestor's is watched), from dir_verdicts or walked and cached.
 */
static __always_inline bool watch__dir_verdict(struct dentry *dir, __u32 dev,
					       struct custos_watch_value *out)
{
	__u64 epoch = *(volatile __u64 *)&verdict_epoch;
	__u64 ino = dir->d_inode->i_ino;
	__u32 index = (ino ^ (ino >> 12) ^ dev) & (DIR_VERDICT_SLOTS - 1);
	struct dir_verdict *slot = bpf_map_lookup_elem(&dir_verdicts, &index);

	if (!slot)
		return false;
	if (slot->ino != ino || slot->dev != dev || slot->epoch != epoch) {
		slot->watch.kind = 0;
		if (watch__dev_watched(dev))
			watch__lookup(dir, dev, &slot->watch);
		slot->ino = ino;
		slot->dev = dev;
		slot->epoch = epoch;
	}
	*out = slot->watch;
	return out->kind != 0;
}

/* The watch covering a non-directory dentry: its own inode, else its directory's verdict. */
static __always_inline bool watch__decide(struct dentry *dentry, __u32 dev,
					  struct custos_watch_value *out)
{
	struct custos_inode_key key = {.ino = dentry->d_inode->i_ino, .dev = dev};
	struct custos_watch_value *watch;

	if (file_watches) {
		watch = bpf_map_lookup_elem(&watch_inodes, &key);
		if (watch) {
			*out = *watch;
			return true;
		}
	}
	out->kind = 0;
	if (dentry->d_parent == dentry)
		return false;
	return watch__dir_verdict(dentry->d_parent, dev, out);
}

/*
 * An overlayfs file (a container's) has the overlay's inode and dentries;
 * the data lives in a real file below it: the lower one (an image layer,
 * maybe a watched host directory) or, once copied up, the upper one. Either
 * being watched makes the overlay file watched.
 */
static __always_inline bool watch__decide_overlay(struct inode *inode,
						  struct custos_watch_value *out)
{
	struct ovl_inode___custos *oi;
	struct ovl_entry___custos *oe;
	struct dentry *real;

	if (!bpf_core_type_exists(struct ovl_inode___custos) ||
	    !bpf_core_field_exists(struct ovl_inode___custos, oe) ||
	    inode->i_sb->s_magic != OVERLAYFS_SUPER_MAGIC)
		return false;
	oi = kptr(struct ovl_inode___custos,
		  (__u64)inode - bpf_core_field_offset(struct ovl_inode___custos, vfs_inode));
	oe = oi->oe;
	if (oe && oe->__numlower) {
		real = oe->__lowerstack[0].dentry;
		if (real && real->d_inode && watch__decide(real, real->d_inode->i_sb->s_dev, out))
			return true;
	}
	real = oi->__upperdentry;
	return real && real->d_inode && watch__decide(real, real->d_inode->i_sb->s_dev, out);
}

/* The watch covering an open file: its dentry, its other names, or (overlayfs) its real file. */
static __always_inline bool watch__decide_file(struct file *file, struct custos_watch_value *out)
{
	struct inode *inode = file->f_inode;
	__u32 dev = inode->i_sb->s_dev;

	return watch__decide(file->f_path.dentry, dev, out) ||
	       watch__lookup_aliases(file->f_path.dentry, dev, out) ||
	       watch__decide_overlay(inode, out);
}

/* Does the directory hold a watched file (a name in it may be one)? */
static __always_inline bool watch__holds_watched_files(struct dentry *dir)
{
	struct custos_inode_key key = {
	    .ino = dir->d_inode->i_ino,
	    .dev = dir->d_inode->i_sb->s_dev,
	};

	return file_watches && bpf_map_lookup_elem(&file_watch_dirs, &key);
}

static __always_inline bool exclude__mask_has(__u64 *mask, __u32 rule)
{
	return mask && (*mask & (1ULL << CUSTOS_RULE_INDEX(rule)));
}

/* Is task excluded from rule by its name, uid or executable? */
static __always_inline bool exclude__task(struct task_struct *task, __u32 rule)
{
	struct custos_inode_key exe = {};
	char comm[CUSTOS_COMM_LEN];
	struct mm_struct *mm;
	__u32 uid;

	if (exclude_comm_count) {
		task__comm(task, comm);
		if (exclude__mask_has(bpf_map_lookup_elem(&exclude_comms, comm), rule))
			return true;
	}
	uid = task->cred->uid.val;
	if (exclude_uid_count && exclude__mask_has(bpf_map_lookup_elem(&exclude_uids, &uid), rule))
		return true;
	if (!exclude_exe_count)
		return false;
	mm = task->mm;
	if (!mm || !mm->exe_file)
		return false;
	exe.ino = mm->exe_file->f_inode->i_ino;
	exe.dev = mm->exe_file->f_inode->i_sb->s_dev;
	return exclude__mask_has(bpf_map_lookup_elem(&exclude_exes, &exe), rule);
}

#endif /* CUSTOS_WATCH_BPF_H */
