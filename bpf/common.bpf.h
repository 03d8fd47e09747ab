/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every program uses: the current task, reads of kernel memory,
 * syscall arguments and loops, in the two flavours this source is built in.
 *
 * The modern object (Linux 6.2 and later) reaches kernel structures through
 * typed pointers: BTF pointers (bpf_get_current_task_btf, tp_btf arguments)
 * and addresses made typed by the bpf_rdonly_cast kfunc, so every field is a
 * direct, fault-safe load; it walks with bpf_loop and reads syscall
 * arguments with bpf_task_pt_regs. The compat object (built with
 * CUSTOS_COMPAT, for 5.10 and later) uses only what 5.10 has: every field is
 * a CO-RE read (bpf_probe_read_kernel), walks are bounded loops, and the
 * saved user registers are found on the task's kernel stack. The agent
 * loads the modern object when the kernel has every helper it uses
 * (user/kernel/loader.c), so the same source runs on both without version checks.
 */
#ifndef CUSTOS_COMMON_BPF_H
#define CUSTOS_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define EPERM  1
#define EACCES 13

#define S_IFMT	   0170000
#define S_IFDIR	   0040000
#define S_IFREG	   0100000
#define S_ISDIR(m) (((m)&S_IFMT) == S_IFDIR)

#define O_WRONLY     00000001
#define O_CREAT	     00000100
#define O_TRUNC	     00001000
#define AT_FDCWD     -100
#define AT_REMOVEDIR 0x200

#define FMODE_PATH    0x4000
/* Set by do_open() when O_CREAT made the file (Linux 4.19 on). */
#define FMODE_CREATED 0x100000

#define MAP_ANONYMOUS	    0x20
#define CLOSE_RANGE_CLOEXEC (1U << 2)

#ifdef CUSTOS_COMPAT
/* src->a->b...: each step a CO-RE relocated bpf_probe_read_kernel. */
#define KR(src, ...)	   BPF_CORE_READ(src, __VA_ARGS__)
/* A kernel address as a typed pointer: only ever read through KR. */
#define kptr(type, addr)   ((type *)(unsigned long)(addr))
#define current_task()	   ((struct task_struct *)bpf_get_current_task())
#define CUSTOS_FLAVOR_NAME "compat"
#else
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* src->a->b...: direct loads through typed kernel pointers. */
#define KR(src, ...)	   ___arrow(src, __VA_ARGS__)
/*
 * A kernel address read as a number (from an fd table, a map) made into a
 * typed pointer: loads through it are direct and fault-safe, not helper calls.
 */
#define kptr(type, addr)   ((type *)bpf_rdonly_cast((void *)(addr), bpf_core_type_id_kernel(type)))
#define current_task()	   bpf_get_current_task_btf()
#define CUSTOS_FLAVOR_NAME "modern"
#endif

/*
 * Runs step(i, ctx) for i = 0, 1, ... until it returns non-zero or n steps
 * ran. Modern: bpf_loop, so n may be large (the verifier checks step once).
 * Compat: a bounded loop the verifier walks step by step, so at most
 * n_compat steps (each limit is stated in abi.h and docs/kernel.md).
 */
#ifdef CUSTOS_COMPAT
#define LOOP(n, n_compat, step, ctx)                                                           \
	({                                                                                     \
		__u32 ___i;                                                                    \
		_Pragma("clang loop unroll(disable)") for (___i = 0; ___i < (n_compat);        \
							   ___i++) if (step(___i, ctx)) break; \
	})
#else
#define LOOP(n, n_compat, step, ctx) bpf_loop(n, step, ctx, 0)
#endif

/*
 * Syscall arguments at a sys_exit tracepoint, read from the task's saved
 * user registers (the tracepoint itself carries only the return value).
 */
#if defined(__TARGET_ARCH_x86)
#define REG_ARG1	 di
#define REG_ARG2	 si
#define REG_ARG3	 dx
#define REG_ARG4	 r10
#define REG_ARG5	 r8
#define REG_ARG6	 r9
/* A uprobe's sixth argument (libbpf 1.1 has no PT_REGS_PARM6). */
#define uprobe_arg6(ctx) ((ctx)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define REG_ARG1	 orig_x0
#define REG_ARG2	 regs[1]
#define REG_ARG3	 regs[2]
#define REG_ARG4	 regs[3]
#define REG_ARG5	 regs[4]
#define REG_ARG6	 regs[5]
#define uprobe_arg6(ctx) ((ctx)->regs[5])
#else
#error "custos: unsupported architecture"
#endif

#define syscall_arg1(regs) KR(regs, REG_ARG1)
#define syscall_arg2(regs) KR(regs, REG_ARG2)
#define syscall_arg3(regs) KR(regs, REG_ARG3)
#define syscall_arg4(regs) KR(regs, REG_ARG4)
#define syscall_arg5(regs) KR(regs, REG_ARG5)
#define syscall_arg6(regs) KR(regs, REG_ARG6)

#endif /* CUSTOS_COMMON_BPF_H */
