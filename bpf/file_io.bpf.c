// SPDX-License-Identifier: GPL-2.0
/*
 * The read family and close. Why sys_exit tracepoints: the byte count is the
 * return value; the fd is the saved first argument. The hot path for a file
 * nobody watches is one fd-table read and one hash lookup.
 */
#include "common.bpf.h"
#include "maps.bpf.h"
#include "open_file.bpf.h"
#include "task.bpf.h"

static __always_inline int file_io__count_read(long ret)
{
	struct task_struct *task;
	struct custos_open_file *of;
	__u64 file_addr;

	if (ret <= 0 || !*(volatile __s64 *)&open_files_tracked)
		return 0;
	task = bpf_get_current_task_btf();
	file_addr = task__fd_file(task, syscall_arg1(task__user_regs(task)));
	if (!file_addr)
		return 0;
	of = open_file__lookup(task, file_addr);
	if (!of)
		return 0;
	__sync_fetch_and_add(&of->bytes_read, ret);
	__sync_fetch_and_add(&of->read_calls, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int tp__syscalls__sys_exit_read(struct syscall_trace_exit *ctx)
{
	return file_io__count_read(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_pread64")
int tp__syscalls__sys_exit_pread64(struct syscall_trace_exit *ctx)
{
	return file_io__count_read(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_readv")
int tp__syscalls__sys_exit_readv(struct syscall_trace_exit *ctx)
{
	return file_io__count_read(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_preadv")
int tp__syscalls__sys_exit_preadv(struct syscall_trace_exit *ctx)
{
	return file_io__count_read(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_preadv2")
int tp__syscalls__sys_exit_preadv2(struct syscall_trace_exit *ctx)
{
	return file_io__count_read(ctx->ret);
}

/* Why sys_enter: at exit the fd no longer leads to the file. */
SEC("tracepoint/syscalls/sys_enter_close")
int tp__syscalls__sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task;
	__u64 file_addr;

	if (!*(volatile __s64 *)&open_files_tracked)
		return 0;
	task = bpf_get_current_task_btf();
	file_addr = task__fd_file(task, ctx->args[0]);
	if (file_addr)
		open_file__release(task, file_addr, CUSTOS_CLOSE_CLOSE);
	return 0;
}
