// SPDX-License-Identifier: GPL-2.0
/*
 * The read family and close. Why sys_exit tracepoints: the byte count is the
 * return value; the fd is the saved first argument. The hot path for a file
 * nobody watches is one fd-table read and one hash lookup.
 */
#include "common.bpf.h"
#include "maps.bpf.h"
#include "open_file.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "watch.bpf.h"

/* Is some watched file open anywhere? If not, no read or close needs a lookup. */
static __always_inline bool file_io__tracking(void)
{
	return STATE(open_files_tracked) != 0;
}

/* ret bytes through fd; buf and nvec: where they are (wire__buffer), for a parsed socket. */
static __always_inline int file_io__count(long ret, __s64 fd, bool write, __u64 buf, __s64 nvec)
{
	struct task_struct *task;
	__u64 file_addr;

	if (ret <= 0 || !file_io__tracking())
		return 0;
	task = current_task();
	file_addr = task__fd_file(task, fd);
	if (file_addr)
		open_file__count(task, file_addr, fd, ret, write, buf, nvec);
	return 0;
}

/*
 * The read and write families: the fd is the first argument, the buffer the
 * second (an iovec array of the third's count for the vectored calls).
 */
static __always_inline int file_io__count_first(struct syscall_trace_exit *ctx, bool write,
						bool vectored)
{
	long ret = ctx->ret;
	struct pt_regs *regs;

	if (ret <= 0 || !file_io__tracking())
		return 0;
	regs = syscall__regs(ctx->nr);
	if (!regs)
		return 0;
	return file_io__count(ret, syscall_arg1(regs), write, syscall_arg2(regs),
			      vectored ? (__s64)syscall_arg3(regs) : 0);
}

#define file_io__count_read(ctx)   file_io__count_first(ctx, false, false)
#define file_io__count_write(ctx)  file_io__count_first(ctx, true, false)
#define file_io__count_readv(ctx)  file_io__count_first(ctx, false, true)
#define file_io__count_writev(ctx) file_io__count_first(ctx, true, true)

SEC("tracepoint/syscalls/sys_exit_read")
int tp__syscalls__sys_exit_read(struct syscall_trace_exit *ctx)
{
	return file_io__count_read(ctx);
}

SEC("tracepoint/syscalls/sys_exit_pread64")
int tp__syscalls__sys_exit_pread64(struct syscall_trace_exit *ctx)
{
	return file_io__count_read(ctx);
}

SEC("tracepoint/syscalls/sys_exit_readv")
int tp__syscalls__sys_exit_readv(struct syscall_trace_exit *ctx)
{
	return file_io__count_readv(ctx);
}

SEC("tracepoint/syscalls/sys_exit_preadv")
int tp__syscalls__sys_exit_preadv(struct syscall_trace_exit *ctx)
{
	return file_io__count_readv(ctx);
}

SEC("tracepoint/syscalls/sys_exit_preadv2")
int tp__syscalls__sys_exit_preadv2(struct syscall_trace_exit *ctx)
{
	return file_io__count_readv(ctx);
}

SEC("tracepoint/syscalls/sys_exit_write")
int tp__syscalls__sys_exit_write(struct syscall_trace_exit *ctx)
{
	return file_io__count_write(ctx);
}

SEC("tracepoint/syscalls/sys_exit_pwrite64")
int tp__syscalls__sys_exit_pwrite64(struct syscall_trace_exit *ctx)
{
	return file_io__count_write(ctx);
}

SEC("tracepoint/syscalls/sys_exit_writev")
int tp__syscalls__sys_exit_writev(struct syscall_trace_exit *ctx)
{
	return file_io__count_writev(ctx);
}

SEC("tracepoint/syscalls/sys_exit_pwritev")
int tp__syscalls__sys_exit_pwritev(struct syscall_trace_exit *ctx)
{
	return file_io__count_writev(ctx);
}

SEC("tracepoint/syscalls/sys_exit_pwritev2")
int tp__syscalls__sys_exit_pwritev2(struct syscall_trace_exit *ctx)
{
	return file_io__count_writev(ctx);
}

/*
 * Copies between two fds inside the kernel: the bytes are read from in_fd's
 * file and written to out_fd's, either of which may be watched.
 */
static __always_inline int file_io__count_copy(long ret, __s64 in_fd, __s64 out_fd)
{
	file_io__count(ret, in_fd, false, 0, 0);
	return file_io__count(ret, out_fd, true, 0, 0);
}

/* sendfile(out_fd, in_fd, ...): coreutils and web servers copy files with it. */
SEC("tracepoint/syscalls/sys_exit_sendfile64")
int tp__syscalls__sys_exit_sendfile64(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs;

	if (ctx->ret <= 0 || !file_io__tracking())
		return 0;
	regs = syscall__regs(ctx->nr);
	if (!regs)
		return 0;
	return file_io__count_copy(ctx->ret, syscall_arg2(regs), syscall_arg1(regs));
}

/* splice(fd_in, off_in, fd_out, off_out, ...) and copy_file_range (cp uses it), same order. */
static __always_inline int file_io__count_copy13(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs;

	if (ctx->ret <= 0 || !file_io__tracking())
		return 0;
	regs = syscall__regs(ctx->nr);
	if (!regs)
		return 0;
	return file_io__count_copy(ctx->ret, syscall_arg1(regs), syscall_arg3(regs));
}

SEC("tracepoint/syscalls/sys_exit_splice")
int tp__syscalls__sys_exit_splice(struct syscall_trace_exit *ctx)
{
	return file_io__count_copy13(ctx);
}

SEC("tracepoint/syscalls/sys_exit_copy_file_range")
int tp__syscalls__sys_exit_copy_file_range(struct syscall_trace_exit *ctx)
{
	return file_io__count_copy13(ctx);
}

/*
 * mmap(addr, len, prot, flags, fd, off) of a watched file: reported with the
 * mapped length. Pages read through the mapping are not counted.
 */
SEC("tracepoint/syscalls/sys_exit_mmap")
int tp__syscalls__sys_exit_mmap(struct syscall_trace_exit *ctx)
{
	struct task_struct *task = current_task();
	struct custos_watch_value watch;
	struct custos_open_file *of;
	struct custos_file_mmap *rec;
	struct pt_regs *regs;
	struct inode *inode;
	__u64 file_addr;
	struct file *file;
	__s64 fd;

	if ((unsigned long)ctx->ret >= (unsigned long)-4095 || task__is_agent(task))
		return 0;
	regs = syscall__regs(ctx->nr);
	if (!regs)
		return 0;
	fd = syscall_arg5(regs);
	if ((syscall_arg4(regs) & MAP_ANONYMOUS) || fd < 0)
		return 0;
	file_addr = task__fd_file(task, fd);
	if (!file_addr)
		return 0;
	file = kptr(struct file, file_addr);
	of = open_file__lookup(task, file_addr);
	if (of) {
		watch.rule = of->rule;
	} else if (!watch__decide_file(file, &watch) || exclude__task(task, watch.rule)) {
		return 0;
	}
	rec = record__scratch(CUSTOS_REC_FILE_MMAP);
	if (!rec)
		return 0;
	task__fill(&rec->task, task);
	rec->open_id = of ? of->open_id : 0;
	inode = KR(file, f_inode);
	rec->ino = KR(inode, i_ino);
	rec->dev = KR(inode, i_sb, s_dev);
	rec->mode = KR(inode, i_mode);
	rec->rule = watch.rule;
	rec->length = syscall_arg2(regs);
	rec->prot = syscall_arg3(regs);
	rec->flags = syscall_arg4(regs);
	rec->offset = syscall_arg6(regs);
	path__names(&rec->path, SCRATCH_TRACE, rec, REC_DATA(rec), KR(file, f_path.dentry),
		    KR(file, f_path.mnt));
	record__output(rec, sizeof(*rec) + rec->path.len);
	return 0;
}

/* Why sys_enter: dup2/dup3 onto an open fd close its file first, without a close(2). */
static __always_inline int file_io__dup_over(__s64 oldfd, __s64 newfd)
{
	struct task_struct *task;
	__u64 file_addr;

	if (oldfd == newfd || !file_io__tracking())
		return 0;
	task = current_task();
	file_addr = task__fd_file(task, newfd);
	if (file_addr && file_addr != task__fd_file(task, oldfd))
		open_file__release(task, file_addr, CUSTOS_CLOSE_CLOSE);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int tp__syscalls__sys_enter_dup2(struct trace_event_raw_sys_enter *ctx)
{
	return file_io__dup_over(ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int tp__syscalls__sys_enter_dup3(struct trace_event_raw_sys_enter *ctx)
{
	return file_io__dup_over(ctx->args[0], ctx->args[1]);
}

/* close_range(first, last, flags) closes many fds at once (unless it only marks them CLOEXEC). */
SEC("tracepoint/syscalls/sys_enter_close_range")
int tp__syscalls__sys_enter_close_range(struct trace_event_raw_sys_enter *ctx)
{
	if (!file_io__tracking() || (ctx->args[2] & CLOSE_RANGE_CLOEXEC))
		return 0;
	fd_scan__release(current_task(), FD_SCAN_OPEN, ctx->args[0], ctx->args[1],
			 CUSTOS_CLOSE_CLOSE);
	return 0;
}

/* Why sys_enter: at exit the fd no longer leads to the file. */
SEC("tracepoint/syscalls/sys_enter_close")
int tp__syscalls__sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task;
	__u64 file_addr;

	if (!file_io__tracking())
		return 0;
	task = current_task();
	file_addr = task__fd_file(task, ctx->args[0]);
	if (file_addr)
		open_file__release(task, file_addr, CUSTOS_CLOSE_CLOSE);
	return 0;
}
