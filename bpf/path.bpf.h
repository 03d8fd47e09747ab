/* SPDX-License-Identifier: GPL-2.0 */
/* Paths as the kernel resolves them, walked from a dentry up to the namespace root. */
#ifndef CUSTOS_PATH_BPF_H
#define CUSTOS_PATH_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"
#include <custos/abi.h>

static __always_inline struct mount *mount__of(struct vfsmount *vfsmnt)
{
	return kptr(struct mount, (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

static __always_inline bool dentry__unlinked(struct dentry *dentry)
{
	return !dentry->d_hash.pprev && dentry->d_parent != dentry;
}

/* State of a path walk, passed through bpf_loop (hence addresses, not pointers). */
struct path_walk {
	__u64 dentry;
	__u64 mnt;
	char *buf;
	__u32 off;
	__u8 flags;
	__u8 done; /* reached a root, or stopped with CUSTOS_PATH_TRUNCATED */
};

static long path_walk__step(__u32 i, struct path_walk *w)
{
	struct dentry *dentry = kptr(struct dentry, w->dentry);
	struct mount *mnt = kptr(struct mount, w->mnt);
	struct dentry *parent = dentry->d_parent;
	__u32 off = w->off;
	long n;

	if (dentry == mnt->mnt.mnt_root) {
		struct mount *up = mnt->mnt_parent;

		if (up == mnt) {
			w->done = 1; /* the namespace root */
			return 1;
		}
		w->dentry = (__u64)mnt->mnt_mountpoint;
		w->mnt = (__u64)up;
		return 0;
	}
	w->done = 1;
	if (dentry == parent)
		return 1; /* a detached tree's root */
	if (off > CUSTOS_PATH_MAX - CUSTOS_NAME_MAX) {
		w->flags |= CUSTOS_PATH_TRUNCATED;
		return 1;
	}
	n = bpf_probe_read_kernel_str(w->buf + off, CUSTOS_NAME_MAX, dentry->d_name.name);
	if (n <= 0) {
		__u32 zero = 0;
		struct custos_drops *d = bpf_map_lookup_elem(&drops, &zero);

		if (d)
			d->path_unreadable++;
		w->flags |= CUSTOS_PATH_TRUNCATED;
		return 1;
	}
	w->done = 0;
	w->off = off + n;
	w->dentry = (__u64)parent;
	return 0;
}

/*
 * Writes the names from dentry up to the root of its mount namespace into
 * buf (CUSTOS_PATH_MAX bytes), leaf first, each NUL-terminated, crossing
 * mount points. Stops early, with CUSTOS_PATH_TRUNCATED, after
 * CUSTOS_PATH_DEPTH_MAX steps or when buf is full: users then see the leaf
 * end of the path.
 */
static __always_inline void path__names(struct custos_path_info *info, char *buf,
					struct dentry *dentry, struct vfsmount *vfsmnt)
{
	struct path_walk w = {
	    .dentry = (__u64)dentry,
	    .mnt = (__u64)mount__of(vfsmnt),
	    .buf = buf,
	};

	w.flags = dentry__unlinked(dentry) ? CUSTOS_PATH_DELETED : 0;
	bpf_loop(CUSTOS_PATH_DEPTH_MAX, path_walk__step, &w, 0);
	if (!w.done)
		w.flags |= CUSTOS_PATH_TRUNCATED;
	info->len = w.off;
	info->flags = w.flags;
}

#endif /* CUSTOS_PATH_BPF_H */
