/* SPDX-License-Identifier: GPL-2.0 */
/* The current task: its identity for records, its file descriptors, its syscall arguments. */
#ifndef CUSTOS_TASK_BPF_H
#define CUSTOS_TASK_BPF_H

#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include <custos/abi.h>

/* The struct file behind fd, as an address (0 if none). */
static __always_inline __u64 task__fd_file(struct task_struct *task, __u64 fd)
{
	struct files_struct *files = KR(task, files);
	struct fdtable *fdt;
	__u64 file = 0;

	if (!files)
		return 0;
	fdt = KR(files, fdt);
	if (fd >= KR(fdt, max_fds))
		return 0;
	bpf_probe_read_kernel(&file, sizeof(file), KR(fdt, fd) + fd);
	return file;
}

/* The directory a relative name starts from: the cwd, or dirfd's file. */
static __always_inline bool task__name_base(struct task_struct *task, __s32 dirfd, struct path *out)
{
	struct file *file;
	__u64 file_addr;

	if (dirfd == AT_FDCWD) {
		struct fs_struct *fs = KR(task, fs);

		out->dentry = KR(fs, pwd.dentry);
		out->mnt = KR(fs, pwd.mnt);
		return true;
	}
	file_addr = task__fd_file(task, (__u32)dirfd);
	if (!file_addr)
		return false;
	file = kptr(struct file, file_addr);
	out->dentry = KR(file, f_path.dentry);
	out->mnt = KR(file, f_path.mnt);
	return true;
}

static __always_inline __u32 tty__dev(struct tty_struct *tty)
{
	struct tty_driver *driver;

	if (!tty)
		return 0;
	driver = KR(tty, driver);
	return ((__u32)KR(driver, major) << 20) | (__u32)(KR(driver, minor_start) + KR(tty, index));
}

/*
 * The process's name: its thread group leader's, so threads named by the
 * program and io_uring's worker threads (iou-wrk-N) report the process.
 */
/*
 * The process's name, zero after its end: a map key. Before 6.x the kernel
 * copies a new name over the old without clearing the rest (5.10's
 * strlcpy), so the bytes after the NUL can be an earlier name's.
 */
static __always_inline void task__comm(struct task_struct *task, char comm[CUSTOS_COMM_LEN])
{
	bool ended = false;
	int i;

	bpf_probe_read_kernel(comm, CUSTOS_COMM_LEN, KR(task, group_leader)->comm);
	for (i = 0; i < CUSTOS_COMM_LEN; i++) {
		if (ended)
			comm[i] = 0;
		else if (!comm[i])
			ended = true;
	}
}

static __always_inline void task__fill(struct custos_task *out, struct task_struct *task)
{
	const struct cred *cred = KR(task, cred);

	out->start_ns = KR(task, group_leader, start_boottime);
	out->cgroup_id =
	    KR(task, cgroups, dfl_cgrp, kn, id); /* the task's, which may not be current */
	out->tgid = KR(task, tgid);
	out->tid = KR(task, pid);
	out->ppid = KR(task, real_parent, tgid);
	out->uid = KR(cred, uid.val);
	out->gid = KR(cred, gid.val);
	out->euid = KR(cred, euid.val);
	out->egid = KR(cred, egid.val);
	out->auid = task__loginuid(task);
	out->sessionid = task__sessionid(task);
	out->tty_dev = tty__dev(KR(task, signal, tty));
	task__comm(task, out->comm);
}

/* Is the task the agent itself (whose own accesses are never recorded)? */
static __always_inline bool task__is_agent(struct task_struct *task)
{
	return KR(task, tgid) == settings.agent_tgid;
}

static __always_inline void drops__args_unreadable(void)
{
	__u32 zero = 0;
	struct custos_drops *d = bpf_map_lookup_elem(&drops, &zero);

	if (d)
		__sync_fetch_and_add(&d->args_unreadable, 1);
}

#ifdef CUSTOS_COMPAT
#if defined(__TARGET_ARCH_x86)
#define REG_SYSCALL_NR orig_ax
#else
#define REG_SYSCALL_NR syscallno
#endif

/* The user registers of the current task if they sit at top - pad of its kernel stack. */
static __always_inline struct pt_regs *stack__regs(__u64 top, __u32 pad, long nr)
{
	struct pt_regs *regs = (struct pt_regs *)(top - pad - bpf_core_type_size(struct pt_regs));

	return KR(regs, REG_SYSCALL_NR) == nr ? regs : NULL;
}

/*
 * Without bpf_task_pt_regs (before 5.15): the registers a syscall saved are
 * at the top of the task's kernel stack (task_pt_regs()), whose size is
 * THREAD_SIZE: 16 KiB, or 32 KiB with KASAN; since FRED (6.9) 16 bytes lie
 * above them. Each place is accepted only if it holds the number of the
 * syscall being traced; if none does, the call is counted as unreadable.
 */
static __always_inline struct pt_regs *syscall__regs(long nr)
{
	__u64 stack = (__u64)KR(current_task(), stack);
	struct pt_regs *regs;

	regs = stack__regs(stack + 16384, 0, nr);
	if (!regs)
		regs = stack__regs(stack + 32768, 0, nr);
	if (!regs)
		regs = stack__regs(stack + 16384, 16, nr);
	if (!regs)
		regs = stack__regs(stack + 32768, 16, nr);
	if (!regs)
		drops__args_unreadable();
	return regs;
}
#else
/* The registers the current syscall saved; nr (checked in the compat object) is not needed. */
static __always_inline struct pt_regs *syscall__regs(long nr)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}
#endif

#endif /* CUSTOS_TASK_BPF_H */
