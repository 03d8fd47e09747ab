/* SPDX-License-Identifier: GPL-2.0 */
/* The current task: its identity for records, and its file descriptors. */
#ifndef CUSTOS_TASK_BPF_H
#define CUSTOS_TASK_BPF_H

#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include <custos/abi.h>

/* The struct file behind fd, as an address (0 if none). */
static __always_inline __u64 task__fd_file(struct task_struct *task, __u64 fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt;
	__u64 file = 0;

	if (!files)
		return 0;
	fdt = files->fdt;
	if (fd >= fdt->max_fds)
		return 0;
	bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
	return file;
}

static __always_inline __u32 tty__dev(struct tty_struct *tty)
{
	struct tty_driver *driver;

	if (!tty)
		return 0;
	driver = tty->driver;
	return ((__u32)driver->major << 20) | (__u32)(driver->minor_start + tty->index);
}

/*
 * The process's name: its thread group leader's, so threads named by the
 * program and io_uring's worker threads (iou-wrk-N) report the process.
 */
static __always_inline void task__comm(struct task_struct *task, char comm[CUSTOS_COMM_LEN])
{
	bpf_probe_read_kernel(comm, CUSTOS_COMM_LEN, task->group_leader->comm);
}

static __always_inline void task__fill(struct custos_task *out, struct task_struct *task)
{
	const struct cred *cred = task->cred;

	out->start_ns = task->group_leader->start_boottime;
	out->cgroup_id = task->cgroups->dfl_cgrp->kn->id; /* the task's, which may not be current */
	out->tgid = task->tgid;
	out->tid = task->pid;
	out->ppid = task->real_parent->tgid;
	out->uid = cred->uid.val;
	out->gid = cred->gid.val;
	out->euid = cred->euid.val;
	out->egid = cred->egid.val;
	out->auid = task__loginuid(task);
	out->sessionid = task__sessionid(task);
	out->tty_dev = tty__dev(task->signal->tty);
	task__comm(task, out->comm);
}

#endif /* CUSTOS_TASK_BPF_H */
