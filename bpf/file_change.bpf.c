// SPDX-License-Identifier: GPL-2.0
/*
 * Changes to customer data: truncate, chmod, chown, unlink, rename. Why
 * sys_exit tracepoints: only a change that happened is a fact. Through an
 * fd (ftruncate, fchmod, fchown) the kernel decides by inode, as for an
 * open; by name, the inode may be gone (unlink) or the name may lead
 * anywhere, so the record carries the names and the directories they start
 * from and the agent decides, as for a refused open. Simple names in
 * directories nobody watches are dropped here.
 */
#include "common.bpf.h"
#include "maps.bpf.h"
#include "open_file.bpf.h"
#include "path.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "watch.bpf.h"

static __always_inline int change__fd(long ret, __s64 fd, __u32 op, __u64 arg, __u32 arg2)
{
	struct task_struct *task = current_task();
	struct custos_watch_value watch;
	struct custos_file_change *rec;
	struct custos_open_file *of;
	struct inode *inode;
	struct file *file;
	__u64 file_addr;

	if (ret != 0 || task__is_agent(task))
		return 0;
	file_addr = task__fd_file(task, fd);
	if (!file_addr)
		return 0;
	file = kptr(struct file, file_addr);
	of = open_file__lookup(task, file_addr);
	if (of)
		watch.rule = of->rule;
	else if (!watch__decide_file(file, &watch) || exclude__task(task, watch.rule))
		return 0;
	rec = record__scratch(CUSTOS_REC_FILE_CHANGE);
	if (!rec)
		return 0;
	task__fill(&rec->task, task);
	rec->open_id = of ? of->open_id : 0;
	inode = KR(file, f_inode);
	rec->ino = KR(inode, i_ino);
	rec->dev = KR(inode, i_sb, s_dev);
	rec->mode = KR(inode, i_mode);
	rec->rule = watch.rule;
	rec->op = op;
	rec->arg = arg;
	rec->arg2 = arg2;
	path__names(&rec->path, SCRATCH_TRACE, rec, REC_DATA(rec), KR(file, f_path.dentry),
		    KR(file, f_path.mnt));
	record__output(rec, sizeof(*rec) + rec->path.len);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ftruncate")
int tp__syscalls__sys_exit_ftruncate(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__fd(ctx->ret, syscall_arg1(regs), CUSTOS_CHANGE_TRUNCATE, syscall_arg2(regs),
			  0);
}

SEC("tracepoint/syscalls/sys_exit_fchmod")
int tp__syscalls__sys_exit_fchmod(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__fd(ctx->ret, syscall_arg1(regs), CUSTOS_CHANGE_CHMOD, syscall_arg2(regs), 0);
}

SEC("tracepoint/syscalls/sys_exit_fchown")
int tp__syscalls__sys_exit_fchown(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__fd(ctx->ret, syscall_arg1(regs), CUSTOS_CHANGE_CHOWN, syscall_arg2(regs),
			  syscall_arg3(regs));
}

/* Looks for a '/' in a name (bpf_loop: a name is up to CUSTOS_NAME_MAX bytes). */
struct name_scan {
	const char *name;
	long len;
	bool slash;
};

static long name_scan__step(__u32 i, struct name_scan *scan)
{
	char c;

	if (i >= scan->len)
		return 1;
	if (bpf_probe_read_kernel(&c, 1, scan->name + i) || c == '/') {
		scan->slash = true;
		return 1;
	}
	return 0;
}

#ifdef CUSTOS_COMPAT
/*
 * A global function (checked once by the verifier, not at each exit of the
 * loop in each caller): is there a '/' in the len bytes at record offset
 * off of the scratch record?
 */
__noinline int name__has_slash_global(__u32 off, __u32 len)
{
	__u32 slot = SCRATCH_TRACE, i;
	struct record_scratch *s = bpf_map_lookup_elem(&scratch, &slot);

	if (!s)
		return 1;
	_Pragma(
	    "clang loop unroll(disable)") for (i = 0; i < CUSTOS_NAME_MAX && i < len;
					       i++) if (s->data[(off + i) & (SCRATCH_SIZE - 1)] ==
							'/') return 1;
	return 0;
}

static __always_inline bool name__has_slash(char *data, __u32 off, long len)
{
	return name__has_slash_global(offsetof(struct custos_path_change, data) + off, len);
}
#else
static __always_inline bool name__has_slash(char *data, __u32 off, long len)
{
	struct name_scan scan = {.name = data + off, .len = len};

	bpf_loop(CUSTOS_NAME_MAX, name_scan__step, &scan, 0);
	return scan.slash;
}
#endif

/*
 * Copies a name the process passed, and for a relative one the directory it
 * starts from, at data + off (data: the data of a struct custos_path_change). Returns the bytes
 * used, 0 if the name cannot be read. *simple_unwatched: a name without '/' in a directory that
 * holds nothing watched. *simple_in: for a name without '/', the directory it is in (its dentry).
 */
static __always_inline __u32 change__name(struct task_struct *task, char *data, __u32 off,
					  __s32 dirfd, const char *uname,
					  struct custos_path_info *base, __u16 *name_len,
					  bool *simple_unwatched, __u64 *simple_in)
{
	struct custos_watch_value watch;
	struct path dir;
	long n;

	off &= 2 * CUSTOS_PATH_MAX - 1;
	n = bpf_probe_read_user_str(data + off, CUSTOS_NAME_MAX, uname);
	*simple_unwatched = false;
	*simple_in = 0;
	base->len = 0;
	base->flags = 0;
	if (n <= 0)
		return 0;
	*name_len = n;
	if (data[off] == '/' || !task__name_base(task, dirfd, &dir))
		return n;
	*simple_unwatched = !name__has_slash(data, off, n);
	if (*simple_unwatched)
		*simple_in = (__u64)dir.dentry;
	if (*simple_unwatched)
		*simple_unwatched =
		    !watch__dir_verdict(dir.dentry, KR(dir.dentry, d_inode, i_sb, s_dev), &watch) &&
		    !watch__holds_watched_files(dir.dentry);
	path__names(base, SCRATCH_TRACE, data - offsetof(struct custos_path_change, data),
		    offsetof(struct custos_path_change, data) +
			((off + n) & (2 * CUSTOS_PATH_MAX - 1)),
		    dir.dentry, dir.mnt);
	return n + base->len;
}

/*
 * Records a change by name (two names: a rename). *same_dir: both names are
 * simple names in one directory (a rename there moves nothing to another
 * parent).
 */
static __always_inline int change__path2(long ret, __u32 op, __s32 dirfd, const char *uname,
					 __s32 dirfd2, const char *uname2, __u64 arg, __u32 arg2,
					 bool *same_dir)
{
	struct task_struct *task = current_task();
	struct custos_path_change *rec;
	bool skip1 = false, skip2 = true;
	__u64 dir1 = 0, dir2 = 0;
	__u32 used;

	if (ret != 0 || task__is_agent(task) || exclude__task(task, CUSTOS_RULE_ALL))
		return 0;
	rec = record__scratch(CUSTOS_REC_PATH_CHANGE);
	if (!rec)
		return 0;
	rec->op = op;
	rec->arg = arg;
	rec->arg2 = arg2;
	rec->name2_len = 0;
	rec->base2.len = 0;
	used = change__name(task, rec->data, 0, dirfd, uname, &rec->base, &rec->name_len, &skip1,
			    &dir1);
	if (!used)
		return 0;
	if (uname2)
		used += change__name(task, rec->data, used, dirfd2, uname2, &rec->base2,
				     &rec->name2_len, &skip2, &dir2);
	*same_dir = dir1 && dir1 == dir2;
	if (skip1 && skip2)
		return 0;
	task__fill(&rec->task, task);
	record__output(rec, sizeof(*rec) + used);
	return 0;
}

static __always_inline int change__path(long ret, __u32 op, __s32 dirfd, const char *uname,
					__s32 dirfd2, const char *uname2, __u64 arg, __u32 arg2)
{
	bool same_dir;

	return change__path2(ret, op, dirfd, uname, dirfd2, uname2, arg, arg2, &same_dir);
}

SEC("tracepoint/syscalls/sys_exit_truncate")
int tp__syscalls__sys_exit_truncate(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__path(ctx->ret, CUSTOS_CHANGE_TRUNCATE, AT_FDCWD,
			    (const char *)syscall_arg1(regs), 0, NULL, syscall_arg2(regs), 0);
}

SEC("tracepoint/syscalls/sys_exit_chmod")
int tp__syscalls__sys_exit_chmod(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__path(ctx->ret, CUSTOS_CHANGE_CHMOD, AT_FDCWD,
			    (const char *)syscall_arg1(regs), 0, NULL, syscall_arg2(regs), 0);
}

static __always_inline int change__fchmodat(struct syscall_trace_exit *ctx)
{
	long ret = ctx->ret;
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__path(ret, CUSTOS_CHANGE_CHMOD, syscall_arg1(regs),
			    (const char *)syscall_arg2(regs), 0, NULL, syscall_arg3(regs), 0);
}

SEC("tracepoint/syscalls/sys_exit_fchmodat")
int tp__syscalls__sys_exit_fchmodat(struct syscall_trace_exit *ctx)
{
	return change__fchmodat(ctx);
}

SEC("tracepoint/syscalls/sys_exit_fchmodat2")
int tp__syscalls__sys_exit_fchmodat2(struct syscall_trace_exit *ctx)
{
	return change__fchmodat(ctx);
}

static __always_inline int change__chown(struct syscall_trace_exit *ctx)
{
	long ret = ctx->ret;
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__path(ret, CUSTOS_CHANGE_CHOWN, AT_FDCWD, (const char *)syscall_arg1(regs), 0,
			    NULL, syscall_arg2(regs), syscall_arg3(regs));
}

SEC("tracepoint/syscalls/sys_exit_chown")
int tp__syscalls__sys_exit_chown(struct syscall_trace_exit *ctx)
{
	return change__chown(ctx);
}

SEC("tracepoint/syscalls/sys_exit_lchown")
int tp__syscalls__sys_exit_lchown(struct syscall_trace_exit *ctx)
{
	return change__chown(ctx);
}

SEC("tracepoint/syscalls/sys_exit_fchownat")
int tp__syscalls__sys_exit_fchownat(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__path(ctx->ret, CUSTOS_CHANGE_CHOWN, syscall_arg1(regs),
			    (const char *)syscall_arg2(regs), 0, NULL, syscall_arg3(regs),
			    syscall_arg4(regs));
}

SEC("tracepoint/syscalls/sys_exit_unlink")
int tp__syscalls__sys_exit_unlink(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs)
		return 0;
	return change__path(ctx->ret, CUSTOS_CHANGE_UNLINK, AT_FDCWD,
			    (const char *)syscall_arg1(regs), 0, NULL, 0, 0);
}

/*
 * A renamed directory moves everything below it in or out of watched
 * trees, and a removed directory frees an inode number a new directory
 * elsewhere may get: either drops the cached directory verdicts.
 */
static __always_inline void change__invalidate_verdicts(long ret)
{
	if (ret == 0)
		__sync_fetch_and_add(&state.verdict_epoch, 1);
}

SEC("tracepoint/syscalls/sys_exit_rmdir")
int tp__syscalls__sys_exit_rmdir(struct syscall_trace_exit *ctx)
{
	change__invalidate_verdicts(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int tp__syscalls__sys_exit_unlinkat(struct syscall_trace_exit *ctx)
{
	long ret = ctx->ret;
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs || (syscall_arg3(regs) & AT_REMOVEDIR)) {
		change__invalidate_verdicts(ret);
		return 0;
	}
	return change__path(ret, CUSTOS_CHANGE_UNLINK, syscall_arg1(regs),
			    (const char *)syscall_arg2(regs), 0, NULL, 0, 0);
}

/*
 * A rename that may have moved a directory to another parent drops the
 * cached verdicts; one within a directory (the common save-by-rename of a
 * file) moves nothing below another parent.
 */
static __always_inline int change__rename(long ret, __s32 dirfd, const char *uname, __s32 dirfd2,
					  const char *uname2)
{
	bool same_dir = false;

	change__path2(ret, CUSTOS_CHANGE_RENAME, dirfd, uname, dirfd2, uname2, 0, 0, &same_dir);
	if (!same_dir)
		change__invalidate_verdicts(ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_rename")
int tp__syscalls__sys_exit_rename(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs) {
		change__invalidate_verdicts(ctx->ret);
		return 0;
	}
	return change__rename(ctx->ret, AT_FDCWD, (const char *)syscall_arg1(regs), AT_FDCWD,
			      (const char *)syscall_arg2(regs));
}

static __always_inline int change__renameat(struct syscall_trace_exit *ctx)
{
	struct pt_regs *regs = syscall__regs(ctx->nr);

	if (!regs) {
		change__invalidate_verdicts(ctx->ret);
		return 0;
	}
	return change__rename(ctx->ret, syscall_arg1(regs), (const char *)syscall_arg2(regs),
			      syscall_arg3(regs), (const char *)syscall_arg4(regs));
}

SEC("tracepoint/syscalls/sys_exit_renameat")
int tp__syscalls__sys_exit_renameat(struct syscall_trace_exit *ctx)
{
	return change__renameat(ctx);
}

SEC("tracepoint/syscalls/sys_exit_renameat2")
int tp__syscalls__sys_exit_renameat2(struct syscall_trace_exit *ctx)
{
	return change__renameat(ctx);
}
