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
	return !KR(dentry, d_hash.pprev) && KR(dentry, d_parent) != dentry;
}

/* State of a path walk (addresses, not pointers: bpf_loop passes it through the stack). */
struct path_walk {
	__u64 dentry;
	__u64 mnt;
	__u32 off;
	__u8 flags;
	__u8 done; /* reached a root, or stopped with CUSTOS_PATH_TRUNCATED */
	__u16 pad;
};

/* One component of the walk, written at buf + w->off; 1: the walk is over. */
static __always_inline long path__step(struct path_walk *w, char *buf)
{
	struct dentry *dentry = kptr(struct dentry, w->dentry);
	struct mount *mnt = kptr(struct mount, w->mnt);
	struct dentry *parent = KR(dentry, d_parent);
	__u32 off = w->off;
	long n;

	if (dentry == KR(mnt, mnt.mnt_root)) {
		struct mount *up = KR(mnt, mnt_parent);

		if (up == mnt) {
			w->done = 1; /* the namespace root */
			return 1;
		}
		w->dentry = (__u64)KR(mnt, mnt_mountpoint);
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
	n = bpf_probe_read_kernel_str(buf + off, CUSTOS_NAME_MAX, KR(dentry, d_name.name));
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

static __always_inline void path__start(struct path_walk *w, struct dentry *dentry,
					struct vfsmount *vfsmnt)
{
	w->dentry = (__u64)dentry;
	w->mnt = (__u64)mount__of(vfsmnt);
	w->off = 0;
	w->done = 0;
	w->flags = dentry__unlinked(dentry) ? CUSTOS_PATH_DELETED : 0;
}

static __always_inline void path__finish(struct custos_path_info *info, struct path_walk *w)
{
	info->len = w->off;
	info->flags = w->flags | (w->done ? 0 : CUSTOS_PATH_TRUNCATED);
}

/* Offsets of path names in a record: below this, so a whole path still fits the scratch. */
#define PATH_OFF_MASK (SCRATCH_SIZE / 2 - 1)

/*
 * Writes the names from dentry up to the root of its mount namespace at
 * byte off of the record rec (CUSTOS_PATH_MAX bytes), leaf first, each
 * NUL-terminated, crossing mount points. Stops early, with
 * CUSTOS_PATH_TRUNCATED, after CUSTOS_PATH_DEPTH_MAX steps or when the
 * room is full: users then see the leaf end of the path. rec is built in
 * scratch slot `slot`, or (modern object only) reserved in the ring.
 */
#ifdef CUSTOS_COMPAT
/*
 * A global function: the verifier checks the bounded walk once, not again
 * at each of its exits in every caller. Its state lives at the end of the
 * scratch slot, not on the stack: read back from a map, the offset is a
 * fresh unknown bounded again each step, so the states of all steps look
 * alike and the verifier need not follow every history of offsets.
 * Returns len | flags << 16.
 */
__noinline __u32 path__names_global(__u64 dentry, __u64 vfsmnt, __u32 slot, __u32 off)
{
	struct record_scratch *s = bpf_map_lookup_elem(&scratch, &slot);
	struct custos_path_info info;
	struct path_walk *w;
	__u32 i;

	if (!s)
		return CUSTOS_PATH_TRUNCATED << 16;
	w = (struct path_walk *)(s->data + SCRATCH_SIZE - sizeof(*w));
	path__start(w, kptr(struct dentry, dentry), kptr(struct vfsmount, vfsmnt));
	_Pragma(
	    "clang loop unroll(disable)") for (i = 0; i < CUSTOS_PATH_DEPTH_MAX;
					       i++) if (path__step(w, (char *)s->data +
									  (off &
									   PATH_OFF_MASK))) break;
	path__finish(&info, w);
	return info.len | (__u32)info.flags << 16;
}

static __always_inline void path__names(struct custos_path_info *info, __u32 slot, void *rec,
					__u32 off, struct dentry *dentry, struct vfsmount *vfsmnt)
{
	__u32 r = path__names_global((__u64)dentry, (__u64)vfsmnt, slot, off);

	info->len = r & 0xffff;
	info->flags = r >> 16;
}
#else
struct path_walk_ctx {
	struct path_walk w;
	char *buf;
};

static long path_walk__step(__u32 i, struct path_walk_ctx *c)
{
	return path__step(&c->w, c->buf);
}

static __always_inline void path__names(struct custos_path_info *info, __u32 slot, void *rec,
					__u32 off, struct dentry *dentry, struct vfsmount *vfsmnt)
{
	struct path_walk_ctx c = {.buf = (char *)rec + (off & PATH_OFF_MASK)};

	path__start(&c.w, dentry, vfsmnt);
	bpf_loop(CUSTOS_PATH_DEPTH_MAX, path_walk__step, &c, 0);
	path__finish(info, &c.w);
}
#endif

#endif /* CUSTOS_PATH_BPF_H */
