/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel has: functions, enum values and raw tracepoints
 * in its BTF, syscall tracepoints in tracefs, and the uprobe_multi link.
 * The loader asks before loading (which hooks to turn off), `custos check`
 * asks to report them; neither keeps its own copy of these tests.
 */
#ifndef CUSTOS_KERNEL_H
#define CUSTOS_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

#define KERNEL_BTF	       "/sys/kernel/btf/vmlinux"
#define KERNEL_TRACEFS	       "/sys/kernel/tracing"
#define KERNEL_DEBUGFS	       "/sys/kernel/debug"
#define KERNEL_DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define KERNEL_BPFFS	       "/sys/fs/bpf"

/* enum bpf_attach_type and link flags of Linux 6.6, checked against the kernel's BTF. */
#define KERNEL_ATTACH_UPROBE_MULTI 48
#define KERNEL_UPROBE_MULTI_RETURN 1

/*
 * The tracefs directory whose events/ lists the tracepoints: tracefs itself,
 * or tracing/ in debugfs; NULL when neither is mounted.
 */
const char *kernel_tracing_root(void);

/* Does tracepoint "category/event" exist? False when tracefs is not mounted. */
bool kernel_has_tracepoint(const char *name);

/* Is there a kernel function (kfunc or any BTF-described function) of that name? */
bool kernel_has_func(const struct btf *vmlinux, const char *name);

/* Does the kernel's enum type have the value of that name, and that number? */
bool kernel_has_enum_value(const struct btf *vmlinux, const char *type, const char *name,
			   int value);

/* Can one link place many uprobes (BPF_TRACE_UPROBE_MULTI, Linux 6.6)? */
bool kernel_has_uprobe_multi(const struct btf *vmlinux);

/*
 * What the modern BPF object needs beyond Linux 5.10. Without any of them
 * the agent loads the compat object, which does the same with what 5.10
 * has (bpf/common.bpf.h); each has its fallback there.
 */
enum kernel_need {
	KERNEL_NEED_RDONLY_CAST,
	KERNEL_NEED_LOOP,
	KERNEL_NEED_TASK_PT_REGS,
	KERNEL_NEED_TASK_BTF,
	KERNEL_NEED_ATTACH_COOKIE,
	KERNEL_NEED_TASK_STORAGE,
	KERNEL_NEED_CMPXCHG,
	KERNEL_NEED_COUNT,
};

struct kernel_need_def {
	const char *name;     /* "bpf_loop" */
	const char *label;    /* "bpf_loop helper (Linux 5.17)" */
	const char *fallback; /* what the compat object does instead */
};

const struct kernel_need_def *kernel_need(enum kernel_need need);

/*
 * Does the kernel offer it? Helpers and map types are looked up in the
 * kernel's BTF (enum bpf_func_id, enum bpf_map_type), the kfunc among its
 * functions; compare-and-exchange is tried by loading a program (root).
 * False with the reason in why.
 */
bool kernel_has_need(const struct btf *vmlinux, enum kernel_need need, char *why, size_t len);

/*
 * Does the attach point of a BPF program's section exist here? NULL if it
 * does (or is of a kind that cannot be checked before loading), else why
 * not. Knows "tracepoint/CATEGORY/EVENT" and "tp_btf/EVENT".
 */
const char *kernel_hook_missing(const struct btf *vmlinux, const char *section);

/*
 * One uprobe_multi link placing prog_fd on the functions at offsets[n] of
 * the ELF file at path, for every process that maps it (with at_return, on
 * their returns). Returns the link's fd, or a negative errno.
 */
int kernel_uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, size_t n, bool at_return);

/* "1.1 (built against 1.1)": the libbpf this runs with, and the one it was built against. */
const char *kernel_libbpf_version(char *buf, size_t len);

#endif /* CUSTOS_KERNEL_H */
