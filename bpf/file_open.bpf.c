// SPDX-License-Identifier: GPL-2.0
/*
 * The open family. Why sys_exit tracepoints: the new fd exists only at exit,
 * and resolving it to its struct file gives the inode the kernel really
 * opened, whatever name, link or mount led there. Arguments come from the
 * task's saved registers, so one hook per syscall is enough.
 */
#include "common.bpf.h"
#include "egress.bpf.h"
#include "maps.bpf.h"
#include "net.bpf.h"
#include "open_file.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "watch.bpf.h"

struct open_how_user {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

/*
 * A refused open has no inode to check: send the name as the process gave
 * it, and for a relative name the directory it starts from; the agent
 * resolves it and keeps it only if it is watched.
 */
static __always_inline void file_open__denied(struct task_struct *task, long err, __u32 flags,
					      __s32 dirfd, const char *uname)
{
	struct custos_file_denied *rec;
	struct path base;
	long n;

	if (exclude__task(task, CUSTOS_RULE_ALL))
		return;
	rec = record__scratch(CUSTOS_REC_FILE_DENIED);
	if (!rec)
		return;
	task__fill(&rec->task, task);
	rec->flags = flags;
	rec->error = -err;
	rec->dirfd = dirfd;
	rec->base.len = 0;
	rec->base.flags = 0;
	n = bpf_probe_read_user_str(rec->data, CUSTOS_PATH_MAX, uname);
	if (n <= 0)
		return;
	rec->name_len = n;
	if (rec->data[0] != '/' && task__name_base(task, dirfd, &base))
		path__names(&rec->base, SCRATCH_TRACE, rec,
			    REC_DATA(rec) + (n & (2 * CUSTOS_PATH_MAX - 1)), base.dentry, base.mnt);
	record__output(rec, sizeof(*rec) + n + rec->base.len);
}

static __always_inline void file_open__fill(struct custos_file_open *rec, __u32 slot,
					    struct task_struct *task, struct file *file, __s32 fd,
					    __u32 flags, __u64 open_id, __u32 rule, __u32 via,
					    const struct custos_egress_taint *taint)
{
	struct inode *inode = KR(file, f_inode);

	task__fill(&rec->task, task);
	rec->open_id = open_id;
	rec->egress_read_ns = taint ? taint->ktime_ns : 0;
	rec->egress_read_rule = taint ? taint->rule : 0;
	rec->ino = KR(inode, i_ino);
	rec->dev = KR(inode, i_sb, s_dev);
	rec->size = KR(inode, i_size);
	rec->mode = KR(inode, i_mode);
	rec->owner_uid = KR(inode, i_uid.val);
	rec->owner_gid = KR(inode, i_gid.val);
	rec->rule = rule;
	rec->flags = flags;
	rec->fd = fd;
	rec->via = via;
	/* Only an open the process made now created a file; not one found at start or its stdout.
	 */
	rec->created = (via == CUSTOS_OPEN_SYSCALL || via == CUSTOS_OPEN_IO_URING) &&
		       (KR(file, f_mode) & FMODE_CREATED);
	rec->pad = 0;
	path__names(&rec->path, slot, rec, REC_DATA(rec), KR(file, f_path.dentry),
		    KR(file, f_path.mnt));
}

static __always_inline void file_open__record(struct task_struct *task, struct file *file, __s32 fd,
					      __u32 flags, __u64 open_id, __u32 rule, __u32 via,
					      const struct custos_egress_taint *taint)
{
	struct custos_file_open *rec = record__scratch(CUSTOS_REC_FILE_OPEN);

	if (!rec)
		return;
	file_open__fill(rec, SCRATCH_TRACE, task, file, fd, flags, open_id, rule, via, taint);
	record__output(rec, sizeof(*rec) + rec->path.len);
}

/*
 * An open for writing of a file outside every watched tree: egress if it is
 * a regular file, empty once open (this open created or truncated it, or it
 * was empty: whatever it will hold is this writer's), not on a filesystem
 * of kernel interfaces, and the task's session read customer data within
 * the window. Then it is tracked and reported like a watched file, so its
 * summaries say what was written. A file opened to append to its content,
 * or to change it in place, is not.
 */
static __always_inline void file_open__egress(struct task_struct *task, __u64 file_addr,
					      struct file *file, struct inode *inode, __u32 dev,
					      __u32 mode, __s32 fd, __u32 flags, __u32 via)
{
	struct custos_egress_taint taint;

	if (!egress__on() || (mode & S_IFMT) != S_IFREG || KR(inode, i_size) != 0 ||
	    !egress__tainted(task, &taint) || egress__pseudo_fs(inode) ||
	    exclude__task(task, CUSTOS_RULE_EGRESS))
		return;
	file_open__record(task, file, fd, flags,
			  open_file__track(task, file_addr, inode, dev, CUSTOS_RULE_EGRESS, 0),
			  CUSTOS_RULE_EGRESS, via, &taint);
}

/*
 * The task read customer data: if its standard output is a file it has
 * open for writing outside every watched tree, that file takes what it
 * read (`cat W > F`, `sort W > F`: the shell opened F before the process
 * ran, so before its session read anything). Egress, if empty still.
 */
static __always_inline void file_open__egress_stdout(struct task_struct *task)
{
	struct custos_watch_value watch;
	__u64 file_addr = task__fd_file(task, 1);
	struct inode *inode;
	struct file *file;
	__u32 fmode, mode;

	if (!file_addr)
		return;
	file = kptr(struct file, file_addr);
	inode = KR(file, f_inode);
	fmode = KR(file, f_mode);
	mode = KR(inode, i_mode);
	if (!(fmode & FMODE_WRITE) || (fmode & FMODE_PATH) || (mode & S_IFMT) != S_IFREG ||
	    bpf_map_lookup_elem(&open_files, &file_addr) || watch__decide_file(file, &watch))
		return;
	file_open__egress(task, file_addr, file, inode, KR(inode, i_sb, s_dev), mode, 1,
			  KR(file, f_flags), CUSTOS_OPEN_STDOUT);
}

/*
 * A new fd of the task: is its file watched? Then track it and tell the
 * agent, and if it may be read, its session has read customer data (and
 * its standard output may be egress). If not, a file opened for writing
 * may be egress. An open for reading of a file nobody watches costs
 * nothing more than the watch decision.
 */
static __always_inline void file_open__fd(struct task_struct *task, __s64 fd, __u32 flags,
					  __u32 via)
{
	struct custos_watch_value watch;
	struct inode *inode;
	struct file *file;
	__u32 dev, fmode, mode;
	__u64 file_addr;

	file_addr = task__fd_file(task, fd);
	if (!file_addr)
		return;
	file = kptr(struct file, file_addr);
	inode = KR(file, f_inode);
	fmode = KR(file, f_mode);
	mode = KR(inode, i_mode);
	if ((fmode & FMODE_PATH) || S_ISDIR(mode))
		return;
	dev = KR(inode, i_sb, s_dev);
	if (!watch__decide_file(file, &watch)) {
		if (fmode & FMODE_WRITE)
			file_open__egress(task, file_addr, file, inode, dev, mode, fd, flags, via);
		return;
	}
	if (exclude__task(task, watch.rule))
		return;
	if (fmode & FMODE_READ)
		egress__taint(task, watch.rule);
	file_open__record(task, file, fd, flags,
			  open_file__track(task, file_addr, inode, dev, watch.rule, 0), watch.rule,
			  via, NULL);
	if ((fmode & FMODE_READ) && egress__on())
		file_open__egress_stdout(task);
}

static __always_inline int file_open__exit(long ret, __u32 flags, __s32 dirfd, const char *uname)
{
	struct task_struct *task = current_task();

	if (task__is_agent(task))
		return 0;
	if (ret >= 0)
		file_open__fd(task, ret, flags, CUSTOS_OPEN_SYSCALL);
	else if (ret == -EACCES || ret == -EPERM)
		file_open__denied(task, ret, flags, dirfd, uname);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int tp__syscalls__sys_exit_openat(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return file_open__exit(ctx->ret, syscall_arg3(regs), syscall_arg1(regs),
			       (const char *)syscall_arg2(regs));
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int tp__syscalls__sys_exit_openat2(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);
	struct open_how_user how = {};

	if (!regs)
		return 0;
	bpf_probe_read_user(&how, sizeof(how), (void *)syscall_arg3(regs));
	return file_open__exit(ctx->ret, how.flags, syscall_arg1(regs),
			       (const char *)syscall_arg2(regs));
}

SEC("tracepoint/syscalls/sys_exit_open")
int tp__syscalls__sys_exit_open(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return file_open__exit(ctx->ret, syscall_arg2(regs), AT_FDCWD,
			       (const char *)syscall_arg1(regs));
}

SEC("tracepoint/syscalls/sys_exit_creat")
int tp__syscalls__sys_exit_creat(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return file_open__exit(ctx->ret, O_CREAT | O_WRONLY | O_TRUNC, AT_FDCWD,
			       (const char *)syscall_arg1(regs));
}

/*
 * Files already open when the agent starts: an iterator over every task's
 * fds, run once by the agent. It runs preemptibly, so it neither writes the
 * per-CPU verdict cache nor builds in the per-CPU scratch: it walks, and
 * reserves its records.
 */
SEC("iter/task_file")
int iter__task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct custos_watch_value watch = {};
	struct custos_inode_key key;
	struct custos_watch_value *exact;
	struct custos_file_open *rec;
	struct inode *inode;
	__u64 open_id;

	if (!task || !file || task__is_agent(task))
		return 0;
	inode = KR(file, f_inode);
	if ((KR(file, f_mode) & FMODE_PATH) || S_ISDIR(KR(inode, i_mode)))
		return 0;
	if ((KR(inode, i_mode) & S_IFMT) == S_IFSOCK) {
		net__existing(task, file, ctx->fd);
		return 0;
	}
	key.ino = KR(inode, i_ino);
	key.dev = KR(inode, i_sb, s_dev);
	key.pad = 0;
	exact = bpf_map_lookup_elem(&watch_inodes, &key);
	if (exact)
		watch = *exact;
	else if (!watch__dev_watched(key.dev) ||
		 !watch__lookup(KR(file, f_path.dentry, d_parent), key.dev, &watch))
		return 0;
	if (exclude__task(task, watch.rule))
		return 0;
	if (KR(file, f_mode) & FMODE_READ)
		egress__taint(task, watch.rule);
	/* Inherited or duplicated: the first task seen owns it; the others show up when they read.
	 */
	if (bpf_map_lookup_elem(&open_files, &(__u64){(__u64)file}))
		return 0;
	open_id = open_file__track(task, (__u64)file, inode, key.dev, watch.rule, 0);
#ifdef CUSTOS_COMPAT
	/* Built in the iterator's own scratch: its path walk writes there. */
	rec = record__scratch_slot(CUSTOS_REC_FILE_OPEN, SCRATCH_ITER);
	if (!rec)
		return 0;
	file_open__fill(rec, SCRATCH_ITER, task, file, ctx->fd, KR(file, f_flags), open_id,
			watch.rule, CUSTOS_OPEN_EXISTING, NULL);
	record__output(rec, sizeof(*rec) + rec->path.len);
#else
	rec = record__reserve(CUSTOS_REC_FILE_OPEN, sizeof(*rec) + CUSTOS_PATH_MAX);
	if (!rec)
		return 0;
	file_open__fill(rec, SCRATCH_ITER, task, file, ctx->fd, KR(file, f_flags), open_id,
			watch.rule, CUSTOS_OPEN_EXISTING, NULL);
	rec->hdr.size = sizeof(*rec) + rec->path.len;
	record__submit(rec);
#endif
	return 0;
}

/* open_by_handle_at(mount_fd, handle, flags): a file by its handle, no name at all. */
SEC("tracepoint/syscalls/sys_exit_open_by_handle_at")
int tp__syscalls__sys_exit_open_by_handle_at(struct syscall_trace_exit *ctx)
{
	struct task_struct *task = current_task();
	struct pt_regs *regs;
	long ret = ctx->ret;

	if (ret < 0 || task__is_agent(task))
		return 0;
	regs = syscall__regs(ctx->nr);
	if (regs)
		file_open__fd(task, ret, syscall_arg3(regs), CUSTOS_OPEN_SYSCALL);
	return 0;
}
