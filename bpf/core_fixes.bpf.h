/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version flavours, chosen by CO-RE at load time (never by
 * LINUX_VERSION_CODE). Each cites the kernel change it follows.
 */
#ifndef CUSTOS_CORE_FIXES_BPF_H
#define CUSTOS_CORE_FIXES_BPF_H

#include "common.bpf.h"

/*
 * v6.13, "fs: port files to file_ref": struct file's atomic_long_t f_count
 * became file_ref_t f_ref, which stores count - 1 (FILE_REF_ONEREF is 0).
 */
struct file___pre_file_ref {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

static __always_inline long file__ref_count(struct file *file)
{
	if (bpf_core_field_exists(file->f_ref))
		return KR(file, f_ref.refcnt.counter) + 1;
	struct file___pre_file_ref *old = (void *)file;

	return KR(old, f_count.counter);
}

/* task_struct.loginuid and .sessionid exist only with CONFIG_AUDIT. */
static __always_inline __u32 task__loginuid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->loginuid))
		return KR(task, loginuid.val);
	return (__u32)-1;
}

static __always_inline __u32 task__sessionid(struct task_struct *task)
{
	if (bpf_core_field_exists(task->sessionid))
		return KR(task, sessionid);
	return (__u32)-1;
}

/*
 * overlayfs, as the kernel lays it out since v6.5 ("ovl: move ovl_entry into
 * ovl_inode"): the real lower dentries in oi->oe->__lowerstack[], the upper
 * one in oi->__upperdentry. Declared here (CO-RE matches the names) so the
 * build does not depend on overlayfs being in the build machine's BTF.
 */
#define OVERLAYFS_SUPER_MAGIC 0x794c7630

struct ovl_path___custos {
	const void *layer;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct ovl_entry___custos {
	unsigned int __numlower;
	struct ovl_path___custos __lowerstack[1];
} __attribute__((preserve_access_index));

struct ovl_inode___custos {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
	struct ovl_entry___custos *oe;
} __attribute__((preserve_access_index));

#endif /* CUSTOS_CORE_FIXES_BPF_H */
