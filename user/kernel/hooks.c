// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "kernel/hooks.h"

static const struct hook_cap_def cap_defs[HOOK_CAP_COUNT] = {
    [HOOK_CAP_FILE_OPEN] = {"file-open", "file opens", true, "opens of watched files"},
    [HOOK_CAP_FILE_READ] = {"file-read", "reads", true, "bytes read"},
    [HOOK_CAP_FILE_WRITE] = {"file-write", "writes", false,
			     "bytes written (to watched files, and to egress files: their "
			     "summaries say 0)"},
    [HOOK_CAP_FILE_MMAP] = {"file-mmap", "mappings", false, "watched files mapped into memory"},
    [HOOK_CAP_FILE_CLOSE] = {"file-close", "closes", true, "summaries at close"},
    [HOOK_CAP_FILE_CHANGE] = {"file-change", "file changes", false,
			      "truncate, chmod, chown, unlink and rename events"},
    [HOOK_CAP_PROCESS_EXIT] = {"process-exit", "process exit", true,
			       "summaries when a process exits with files open"},
    [HOOK_CAP_PROCESS_EXEC] = {"process-exec", "process exec", false,
			       "programs executed, and files closed by exec"},
    [HOOK_CAP_IO_URING] = {"io_uring", "io_uring", false,
			   "opens, reads, writes and closes through io_uring"},
    [HOOK_CAP_CONTAINERS] = {"containers", "new cgroups (containers)", false,
			     "container ids of cgroups made after the start"},
    [HOOK_CAP_OPEN_FILES] = {"open-files", "files open before the start", false,
			     "watched files opened before the agent started"},
    [HOOK_CAP_DATABASES] = {"databases", "database clients", false,
			    "SQL statements (the database files' accesses are still seen)"},
    [HOOK_CAP_NETWORK] = {"network", "sockets to endpoints, egress", false,
			  "connections to watched endpoints and their bytes, and egress: "
			  "connections of sessions that read customer data"},
};

#define TP(name) "tracepoint/syscalls/" name
#define ONE(prog)                               \
	{                                       \
		{                               \
			prog, 0, -1, NULL, NULL \
		}                               \
	}

static const struct hook_def hook_defs[] = {
    /* The open family: openat is the one every libc uses. */
    {TP("sys_exit_openat"), HOOK_CAP_FILE_OPEN, true, NULL, ONE("tp__syscalls__sys_exit_openat")},
    {TP("sys_exit_openat2"), HOOK_CAP_FILE_OPEN, false, NULL,
     ONE("tp__syscalls__sys_exit_openat2")},
    {TP("sys_exit_open"), HOOK_CAP_FILE_OPEN, false, NULL, ONE("tp__syscalls__sys_exit_open")},
    {TP("sys_exit_creat"), HOOK_CAP_FILE_OPEN, false, NULL, ONE("tp__syscalls__sys_exit_creat")},
    {TP("sys_exit_open_by_handle_at"), HOOK_CAP_FILE_OPEN, false, NULL,
     ONE("tp__syscalls__sys_exit_open_by_handle_at")},
    /* The read family, and copies inside the kernel. */
    {TP("sys_exit_read"), HOOK_CAP_FILE_READ, true, NULL, ONE("tp__syscalls__sys_exit_read")},
    {TP("sys_exit_pread64"), HOOK_CAP_FILE_READ, false, NULL,
     ONE("tp__syscalls__sys_exit_pread64")},
    {TP("sys_exit_readv"), HOOK_CAP_FILE_READ, false, NULL, ONE("tp__syscalls__sys_exit_readv")},
    {TP("sys_exit_preadv"), HOOK_CAP_FILE_READ, false, NULL, ONE("tp__syscalls__sys_exit_preadv")},
    {TP("sys_exit_preadv2"), HOOK_CAP_FILE_READ, false, NULL,
     ONE("tp__syscalls__sys_exit_preadv2")},
    {TP("sys_exit_sendfile64"), HOOK_CAP_FILE_READ, false, NULL,
     ONE("tp__syscalls__sys_exit_sendfile64")},
    {TP("sys_exit_splice"), HOOK_CAP_FILE_READ, false, NULL, ONE("tp__syscalls__sys_exit_splice")},
    {TP("sys_exit_copy_file_range"), HOOK_CAP_FILE_READ, false, NULL,
     ONE("tp__syscalls__sys_exit_copy_file_range")},
    {TP("sys_exit_write"), HOOK_CAP_FILE_WRITE, true, NULL, ONE("tp__syscalls__sys_exit_write")},
    {TP("sys_exit_pwrite64"), HOOK_CAP_FILE_WRITE, false, NULL,
     ONE("tp__syscalls__sys_exit_pwrite64")},
    {TP("sys_exit_writev"), HOOK_CAP_FILE_WRITE, false, NULL, ONE("tp__syscalls__sys_exit_writev")},
    {TP("sys_exit_pwritev"), HOOK_CAP_FILE_WRITE, false, NULL,
     ONE("tp__syscalls__sys_exit_pwritev")},
    {TP("sys_exit_pwritev2"), HOOK_CAP_FILE_WRITE, false, NULL,
     ONE("tp__syscalls__sys_exit_pwritev2")},
    {TP("sys_exit_mmap"), HOOK_CAP_FILE_MMAP, true, NULL, ONE("tp__syscalls__sys_exit_mmap")},
    /* Every way a descriptor lets go of its file. */
    {TP("sys_enter_close"), HOOK_CAP_FILE_CLOSE, true, NULL, ONE("tp__syscalls__sys_enter_close")},
    {TP("sys_enter_dup2"), HOOK_CAP_FILE_CLOSE, false, NULL, ONE("tp__syscalls__sys_enter_dup2")},
    {TP("sys_enter_dup3"), HOOK_CAP_FILE_CLOSE, false, NULL, ONE("tp__syscalls__sys_enter_dup3")},
    {TP("sys_enter_close_range"), HOOK_CAP_FILE_CLOSE, false, NULL,
     ONE("tp__syscalls__sys_enter_close_range")},
    /* Changes, through a file or by name. */
    {TP("sys_exit_ftruncate"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_ftruncate")},
    {TP("sys_exit_fchmod"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_fchmod")},
    {TP("sys_exit_fchown"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_fchown")},
    {TP("sys_exit_truncate"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_truncate")},
    {TP("sys_exit_chmod"), HOOK_CAP_FILE_CHANGE, false, NULL, ONE("tp__syscalls__sys_exit_chmod")},
    {TP("sys_exit_fchmodat"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_fchmodat")},
    {TP("sys_exit_fchmodat2"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_fchmodat2")},
    {TP("sys_exit_chown"), HOOK_CAP_FILE_CHANGE, false, NULL, ONE("tp__syscalls__sys_exit_chown")},
    {TP("sys_exit_lchown"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_lchown")},
    {TP("sys_exit_fchownat"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_fchownat")},
    {TP("sys_exit_unlink"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_unlink")},
    {TP("sys_exit_unlinkat"), HOOK_CAP_FILE_CHANGE, true, NULL,
     ONE("tp__syscalls__sys_exit_unlinkat")},
    {TP("sys_exit_rmdir"), HOOK_CAP_FILE_CHANGE, false, NULL, ONE("tp__syscalls__sys_exit_rmdir")},
    {TP("sys_exit_rename"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_rename")},
    {TP("sys_exit_renameat"), HOOK_CAP_FILE_CHANGE, false, NULL,
     ONE("tp__syscalls__sys_exit_renameat")},
    {TP("sys_exit_renameat2"), HOOK_CAP_FILE_CHANGE, true, NULL,
     ONE("tp__syscalls__sys_exit_renameat2")},
    /* Processes. */
    {"tp_btf/sched_process_exit", HOOK_CAP_PROCESS_EXIT, true, NULL,
     ONE("tp_btf__sched_process_exit")},
    {"tp_btf/sched_process_exec", HOOK_CAP_PROCESS_EXEC, true, NULL,
     ONE("tp_btf__sched_process_exec")},
    {TP("sys_enter_execve"), HOOK_CAP_PROCESS_EXEC, false, NULL,
     ONE("tp__syscalls__sys_enter_execve")},
    {TP("sys_enter_execveat"), HOOK_CAP_PROCESS_EXEC, false, NULL,
     ONE("tp__syscalls__sys_enter_execveat")},
    /* io_uring: its tracepoints' arguments changed between kernels. */
    {"tp_btf/io_uring_complete",
     HOOK_CAP_IO_URING,
     true,
     NULL,
     {{"tp_btf__io_uring_complete", 3, 2, "io_uring_cqe", "(ctx, req, cqe)"},
      {"tp_btf__io_uring_complete_res", 7, -1, NULL,
       "(ctx, req, user_data, res, cflags, extra1, extra2)"},
      {"tp_btf__io_uring_complete_ud", 4, -1, NULL,
       "(ctx, user_data, res, cflags): paired with its submission"}}},
    {"tp_btf/io_uring_submit_req",
     HOOK_CAP_IO_URING,
     false,
     "tp_btf/io_uring_submit_sqe",
     {{"tp_btf__io_uring_submit_req", 1, 0, "io_kiocb", "(req)"}}},
    {"tp_btf/io_uring_submit_sqe",
     HOOK_CAP_IO_URING,
     false,
     "tp_btf/io_uring_submit_req",
     {{"tp_btf__io_uring_submit_sqe", 2, 0, "io_kiocb", "(req, force_nonblock)"},
      {"tp_btf__io_uring_submit_sqe_ctx", 7, -1, NULL,
       "(ctx, req, opcode, user_data, flags, force_nonblock, sq_thread)"}}},
    {"tp_btf/cgroup_mkdir", HOOK_CAP_CONTAINERS, true, NULL, ONE("tp_btf__cgroup_mkdir")},
    {"iter/task_file", HOOK_CAP_OPEN_FILES, true, NULL, ONE("iter__task_file")},
    /* The database probes: the compat object has a program per function (hook_db_program). */
    {"uprobe", HOOK_CAP_DATABASES, true, NULL, ONE("uprobe__db_entry")},
    {"uretprobe", HOOK_CAP_DATABASES, true, NULL, ONE("uretprobe__db_return")},
    /* Sockets to watched endpoints: their reads and writes count through the file hooks. */
    {TP("sys_exit_connect"), HOOK_CAP_NETWORK, true, NULL, ONE("tp__syscalls__sys_exit_connect")},
    {TP("sys_exit_accept4"), HOOK_CAP_NETWORK, true, NULL, ONE("tp__syscalls__sys_exit_accept4")},
    {TP("sys_exit_accept"), HOOK_CAP_NETWORK, false, NULL, ONE("tp__syscalls__sys_exit_accept")},
    {TP("sys_exit_sendto"), HOOK_CAP_NETWORK, true, NULL, ONE("tp__syscalls__sys_exit_sendto")},
    {TP("sys_exit_recvfrom"), HOOK_CAP_NETWORK, true, NULL, ONE("tp__syscalls__sys_exit_recvfrom")},
    {TP("sys_exit_sendmsg"), HOOK_CAP_NETWORK, true, NULL, ONE("tp__syscalls__sys_exit_sendmsg")},
    {TP("sys_exit_recvmsg"), HOOK_CAP_NETWORK, true, NULL, ONE("tp__syscalls__sys_exit_recvmsg")},
    {TP("sys_exit_sendmmsg"), HOOK_CAP_NETWORK, false, NULL,
     ONE("tp__syscalls__sys_exit_sendmmsg")},
    {TP("sys_exit_recvmmsg"), HOOK_CAP_NETWORK, false, NULL,
     ONE("tp__syscalls__sys_exit_recvmmsg")},
    /* The end of a non-blocking connect: without it, its outcome stays "unknown". */
    {"tp_btf/inet_sock_set_state", HOOK_CAP_NETWORK, false, NULL,
     ONE("tp_btf__inet_sock_set_state")},
};

const struct hook_cap_def *hook_cap(enum hook_cap cap)
{
	return &cap_defs[cap];
}

size_t hooks_table(const struct hook_def **defs)
{
	*defs = hook_defs;
	return sizeof(hook_defs) / sizeof(hook_defs[0]);
}

enum hook_cap hook_program_cap(const char *program)
{
	size_t i;
	int v;

	for (i = 0; i < sizeof(hook_defs) / sizeof(hook_defs[0]); i++)
		for (v = 0; v < HOOK_VARIANTS_MAX && hook_defs[i].variants[v].program; v++)
			if (!strcmp(hook_defs[i].variants[v].program, program))
				return hook_defs[i].cap;
	return HOOK_CAP_COUNT;
}

/* The type behind typedefs and modifiers. */
static const struct btf_type *skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t;
}

bool hook_variant_matches(const struct btf *vmlinux, const char *tracepoint,
			  const struct hook_variant *v)
{
	const struct btf_type *proto, *arg;
	const struct btf_param *params;
	char name[256];
	int id, nargs;

	if (!v->nargs && v->arg < 0)
		return true;
	snprintf(name, sizeof(name), "btf_trace_%s", tracepoint);
	id = vmlinux ? btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) : -1;
	if (id <= 0)
		return false;
	proto = skip_mods(vmlinux, id);
	if (!proto || !btf_is_ptr(proto))
		return false;
	proto = skip_mods(vmlinux, proto->type);
	if (!proto || !btf_is_func_proto(proto))
		return false;
	/* The first parameter is the tracepoint's data pointer, not an argument. */
	nargs = btf_vlen(proto) - 1;
	params = btf_params(proto);
	if (v->nargs && nargs != v->nargs)
		return false;
	if (v->arg < 0)
		return true;
	if (v->arg >= nargs)
		return false;
	arg = skip_mods(vmlinux, params[v->arg + 1].type);
	if (!arg || !btf_is_ptr(arg))
		return false;
	arg = skip_mods(vmlinux, arg->type);
	return arg && btf_is_struct(arg) &&
	       !strcmp(btf__name_by_offset(vmlinux, arg->name_off), v->arg_struct);
}

void hook_db_program(char *buf, size_t len, unsigned func, bool at_return)
{
	snprintf(buf, len, "%s%u", at_return ? "uretprobe__db_return_" : "uprobe__db_entry_", func);
}
