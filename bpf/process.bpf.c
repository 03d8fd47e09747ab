// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle: exec (what runs, with which arguments) and exit, and
 * the watched files those two close without a close(2).
 */
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"
#include "open_file.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"

#define EXEC_RECORD_SIZE (sizeof(struct custos_proc_exec) + CUSTOS_PATH_MAX + CUSTOS_ARGS_MAX)

/* Why tp_btf: the binprm gives the executed file itself, not a name. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(tp_btf__sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct custos_proc_exec *out;
	struct mm_struct *mm = KR(task, mm);
	struct file *file = KR(bprm, file);
	__u64 args_len, arg_start;

	if (task__is_agent(task))
		return 0;
#ifdef CUSTOS_COMPAT
	out = record__scratch(CUSTOS_REC_PROC_EXEC); /* the path walk writes to the scratch */
#else
	out = record__reserve(CUSTOS_REC_PROC_EXEC, EXEC_RECORD_SIZE);
#endif
	if (!out)
		return 0;
	task__fill(&out->task, task);
	out->exe_ino = KR(file, f_inode, i_ino);
	out->exe_dev = KR(file, f_inode, i_sb, s_dev);
	path__names(&out->exe, SCRATCH_TRACE, out, REC_DATA(out), KR(file, f_path.dentry),
		    KR(file, f_path.mnt));
	arg_start = KR(mm, arg_start);
	args_len = KR(mm, arg_end) - arg_start;
	out->args_truncated = args_len > CUSTOS_ARGS_MAX;
	if (args_len > CUSTOS_ARGS_MAX)
		args_len = CUSTOS_ARGS_MAX;
	if (bpf_probe_read_user(out->data + CUSTOS_PATH_MAX, args_len, (void *)arg_start))
		args_len = 0;
	out->args_len = args_len;
#ifdef CUSTOS_COMPAT
	record__output(out, EXEC_RECORD_SIZE);
#else
	record__submit(out);
#endif
	return 0;
}

/* Why sys_enter: before exec succeeds, the close-on-exec fds still lead to their files. */
SEC("tracepoint/syscalls/sys_enter_execve")
int tp__syscalls__sys_enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	fd_scan__release(current_task(), FD_SCAN_CLOEXEC, 0, ~0ULL, CUSTOS_CLOSE_EXEC);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execveat")
int tp__syscalls__sys_enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	fd_scan__release(current_task(), FD_SCAN_CLOEXEC, 0, ~0ULL, CUSTOS_CLOSE_EXEC);
	return 0;
}

/*
 * Why tp_btf: the task pointer. It fires before exit_files(), so the fd
 * table still holds the watched files the process leaves open.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tp_btf__sched_process_exit, struct task_struct *task)
{
	struct custos_proc_exit *rec;
	struct files_struct *files;

	if (KR(task, signal, live.counter) != 0 || task__is_agent(task))
		return 0;
	files = KR(task, files);
	if (files && KR(files, count.counter) == 1)
		fd_scan__release(task, FD_SCAN_OPEN, 0, ~0ULL, CUSTOS_CLOSE_EXIT);
	rec = record__reserve(CUSTOS_REC_PROC_EXIT, sizeof(*rec));
	if (!rec)
		return 0;
	task__fill(&rec->task, task);
	rec->exit_code = KR(task, exit_code);
	record__submit(rec);
	return 0;
}

/*
 * Why tp_btf: the cgroup and its path as the kernel names it. Userspace
 * learns container ids from cgroup paths; a container that lives for
 * milliseconds is gone before /proc could be read.
 */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(tp_btf__cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	struct custos_cgroup_mkdir *rec;
	long n;

	if (KR(cgrp, root, hierarchy_id) != 0) /* cgroup v1: ids of another namespace */
		return 0;
	rec = record__reserve(CUSTOS_REC_CGROUP_MKDIR, sizeof(*rec) + CUSTOS_PATH_MAX);
	if (!rec)
		return 0;
	rec->cgroup_id = KR(cgrp, kn, id);
	n = bpf_probe_read_kernel_str(rec->path, CUSTOS_PATH_MAX, path);
	rec->path_len = n > 0 ? n : 0;
	record__submit(rec);
	return 0;
}
