/* SPDX-License-Identifier: GPL-2.0 */
/* The in-kernel decision: is this inode watched, and is this task excluded? */
#ifndef CUSTOS_WATCH_BPF_H
#define CUSTOS_WATCH_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"
#include "task.bpf.h"
#include <custos/abi.h>

/* A watch value in one number, as global functions return it (kind 0: none). */
static __always_inline __u64 watch__pack(const struct custos_watch_value *v)
{
	return (__u64)v->rule << 32 | v->kind;
}

static __always_inline bool watch__unpack(__u64 packed, struct custos_watch_value *out)
{
	out->rule = packed >> 32;
	out->kind = (__u32)packed;
	return out->kind != 0;
}

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
	struct inode *inode = KR(dentry, d_inode);
	struct custos_watch_value *watch;

	if (inode) {
		key.ino = KR(inode, i_ino);
		watch = bpf_map_lookup_elem(&watch_inodes, &key);
		if (watch) {
			*out = *watch;
			return 1;
		}
	}
	return KR(dentry, d_parent) == dentry;
}

static long watch_walk__step(__u32 i, struct watch_walk *w)
{
	struct dentry *dentry = kptr(struct dentry, w->dentry);

	if (watch__check(dentry, w->dev, &w->found))
		return 1;
	w->dentry = (__u64)KR(dentry, d_parent);
	return 0;
}

/*
 * Finds the watch entry covering dentry: its own inode, else the nearest
 * watched ancestor directory, up to CUSTOS_WATCH_DEPTH_MAX levels
 * (CUSTOS_WATCH_DEPTH_COMPAT in the compat object). Walks the
 * filesystem's own tree, so bind mounts, chroots and other mount
 * namespaces reach the same entries; userspace adds the roots of
 * filesystems mounted below a watched directory. Only directory verdicts
 * missing from dir_verdicts come here, so the walk is a bpf_loop.
 */
static __always_inline __u64 watch__walk(__u64 dentry, __u32 dev)
{
	struct watch_walk w = {.dentry = dentry, .dev = dev};

	LOOP(CUSTOS_WATCH_DEPTH_MAX, CUSTOS_WATCH_DEPTH_COMPAT, watch_walk__step, &w);
	return watch__pack(&w.found);
}

#ifdef CUSTOS_COMPAT
/*
 * Global functions: the verifier checks each once, not at every place a
 * bounded loop may leave it (which made the open programs too complex).
 */
__noinline __u64 watch__walk_global(__u64 dentry, __u32 dev)
{
	return watch__walk(dentry, dev);
}
#define watch__walk watch__walk_global
#endif

static __always_inline bool watch__lookup(struct dentry *dentry, __u32 dev,
					  struct custos_watch_value *out)
{
	return watch__unpack(watch__walk((__u64)dentry, dev), out);
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
	w->node = (__u64)KR(node, next);
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
	struct inode *inode = KR(dentry, d_inode);
	struct alias_walk w = {.skip = (__u64)dentry, .dev = dev};

	if (!inode || KR(inode, i_nlink) < 2)
		return false;
	w.node = (__u64)KR(inode, i_dentry.first);
	LOOP(CUSTOS_ALIASES_MAX, CUSTOS_ALIASES_MAX, alias_walk__step, &w);
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
	__u64 epoch = STATE(verdict_epoch);
	__u64 ino = KR(dir, d_inode, i_ino);
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
	struct custos_inode_key key = {.ino = KR(dentry, d_inode, i_ino), .dev = dev};
	struct custos_watch_value *watch;
	struct dentry *parent;

	if (STATE(file_watches)) {
		watch = bpf_map_lookup_elem(&watch_inodes, &key);
		if (watch) {
			*out = *watch;
			return true;
		}
	}
	out->kind = 0;
	parent = KR(dentry, d_parent);
	if (parent == dentry)
		return false;
	return watch__dir_verdict(parent, dev, out);
}

/*
 * An overlayfs file (a container's) has the overlay's inode and dentries;
 * the data lives in a real file below it: the lower one (an image layer,
 * maybe a watched host directory) or, once copied up, the upper one. Either
 * being watched makes the overlay file watched. overlayfs is often a module,
 * whose types bpf_rdonly_cast cannot name: its fields are always CO-RE reads.
 */
static __always_inline bool watch__decide_overlay(struct inode *inode,
						  struct custos_watch_value *out)
{
	struct ovl_inode___custos *oi;
	struct ovl_entry___custos *oe;
	struct dentry *real;
	__u64 addr;

	if (!bpf_core_type_exists(struct ovl_inode___custos) ||
	    !bpf_core_field_exists(struct ovl_inode___custos, oe) ||
	    KR(inode, i_sb, s_magic) != OVERLAYFS_SUPER_MAGIC)
		return false;
	oi = (void *)((__u64)inode - bpf_core_field_offset(struct ovl_inode___custos, vfs_inode));
	oe = BPF_CORE_READ(oi, oe);
	if (oe && BPF_CORE_READ(oe, __numlower)) {
		addr = (__u64)BPF_CORE_READ(oe, __lowerstack[0].dentry);
		real = kptr(struct dentry, addr);
		if (addr && KR(real, d_inode) &&
		    watch__decide(real, KR(real, d_inode, i_sb, s_dev), out))
			return true;
	}
	addr = (__u64)BPF_CORE_READ(oi, __upperdentry);
	real = kptr(struct dentry, addr);
	return addr && KR(real, d_inode) &&
	       watch__decide(real, KR(real, d_inode, i_sb, s_dev), out);
}

/* The watch covering an open file: its dentry, its other names, or (overlayfs) its real file. */
static __always_inline bool watch__decide_file(struct file *file, struct custos_watch_value *out)
{
	struct inode *inode = KR(file, f_inode);
	struct dentry *dentry = KR(file, f_path.dentry);
	__u32 dev = KR(inode, i_sb, s_dev);

	return watch__decide(dentry, dev, out) || watch__lookup_aliases(dentry, dev, out) ||
	       watch__decide_overlay(inode, out);
}

#ifdef CUSTOS_COMPAT
__noinline __u64 watch__decide_file_global(__u64 file)
{
	struct custos_watch_value v;

	watch__decide_file(kptr(struct file, file), &v);
	return watch__pack(&v);
}

static __always_inline bool watch__decide_file_compat(struct file *file,
						      struct custos_watch_value *out)
{
	return watch__unpack(watch__decide_file_global((__u64)file), out);
}
#define watch__decide_file watch__decide_file_compat
#endif

/* Does the directory hold a watched file (a name in it may be one)? */
static __always_inline bool watch__holds_watched_files(struct dentry *dir)
{
	struct inode *inode = KR(dir, d_inode);
	struct custos_inode_key key = {
	    .ino = KR(inode, i_ino),
	    .dev = KR(inode, i_sb, s_dev),
	};

	return STATE(file_watches) && bpf_map_lookup_elem(&file_watch_dirs, &key);
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
	struct file *exe_file;
	struct mm_struct *mm;
	__u32 uid;

	if (STATE(exclude_comm_count)) {
		task__comm(task, comm);
		if (exclude__mask_has(bpf_map_lookup_elem(&exclude_comms, comm), rule))
			return true;
	}
	uid = KR(task, cred, uid.val);
	if (STATE(exclude_uid_count) &&
	    exclude__mask_has(bpf_map_lookup_elem(&exclude_uids, &uid), rule))
		return true;
	if (!STATE(exclude_exe_count))
		return false;
	mm = KR(task, mm);
	if (!mm)
		return false;
	exe_file = KR(mm, exe_file);
	if (!exe_file)
		return false;
	exe.ino = KR(exe_file, f_inode, i_ino);
	exe.dev = KR(exe_file, f_inode, i_sb, s_dev);
	return exclude__mask_has(bpf_map_lookup_elem(&exclude_exes, &exe), rule);
}

#endif /* CUSTOS_WATCH_BPF_H */
