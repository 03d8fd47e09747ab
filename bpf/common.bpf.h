/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every program uses: typed kernel pointers and syscall arguments. */
#ifndef CUSTOS_COMMON_BPF_H
#define CUSTOS_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define EPERM  1
#define EACCES 13

#define S_IFMT	   0170000
#define S_IFDIR	   0040000
#define S_ISDIR(m) (((m)&S_IFMT) == S_IFDIR)

#define O_WRONLY     00000001
#define O_CREAT	     00000100
#define O_TRUNC	     00001000
#define AT_FDCWD     -100
#define AT_REMOVEDIR 0x200

#define FMODE_PATH 0x4000

#define MAP_ANONYMOUS	    0x20
#define CLOSE_RANGE_CLOEXEC (1U << 2)

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * A kernel address read as a number (from an fd table, a map) made into a
 * typed pointer: loads through it are direct and fault-safe, not helper calls.
 */
#define kptr(type, addr) ((type *)bpf_rdonly_cast((void *)(addr), bpf_core_type_id_kernel(type)))

/*
 * Syscall arguments at a sys_exit tracepoint, read from the task's saved
 * user registers (the tracepoint itself carries only the return value).
 */
#if defined(__TARGET_ARCH_x86)
#define syscall_arg1(regs) ((regs)->di)
#define syscall_arg2(regs) ((regs)->si)
#define syscall_arg3(regs) ((regs)->dx)
#define syscall_arg4(regs) ((regs)->r10)
#define syscall_arg5(regs) ((regs)->r8)
#define syscall_arg6(regs) ((regs)->r9)
/* A uprobe's sixth argument (libbpf 1.1 has no PT_REGS_PARM6). */
#define uprobe_arg6(ctx)   ((ctx)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define syscall_arg1(regs) ((regs)->orig_x0)
#define syscall_arg2(regs) ((regs)->regs[1])
#define syscall_arg3(regs) ((regs)->regs[2])
#define syscall_arg4(regs) ((regs)->regs[3])
#define syscall_arg5(regs) ((regs)->regs[4])
#define syscall_arg6(regs) ((regs)->regs[5])
#define uprobe_arg6(ctx)   ((ctx)->regs[5])
#else
#error "custos: unsupported architecture"
#endif

static __always_inline struct pt_regs *task__user_regs(struct task_struct *task)
{
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

#endif /* CUSTOS_COMMON_BPF_H */
