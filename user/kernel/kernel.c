// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/libbpf_version.h>
#include <linux/bpf.h>

#include "kernel/kernel.h"

static bool has_events(const char *root)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events", root);
	return access(path, F_OK) == 0;
}

const char *kernel_tracing_root(void)
{
	if (has_events(KERNEL_TRACEFS))
		return KERNEL_TRACEFS;
	if (has_events(KERNEL_DEBUGFS_TRACING))
		return KERNEL_DEBUGFS_TRACING;
	return NULL;
}

bool kernel_has_tracepoint(const char *name)
{
	const char *root = kernel_tracing_root();
	char path[512];

	if (!root)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s", root, name);
	return access(path, F_OK) == 0;
}

/* The value of enumerator name of enum type in the kernel's BTF, if it has one. */
static bool enum_value(const struct btf *vmlinux, const char *type, const char *name,
		       long long *value)
{
	int id = vmlinux ? btf__find_by_name_kind(vmlinux, type, BTF_KIND_ENUM) : -ENOENT;
	const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	const struct btf_enum *v;
	int i;

	if (!t)
		return false;
	v = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++) {
		if (!strcmp(btf__name_by_offset(vmlinux, v[i].name_off), name)) {
			*value = v[i].val;
			return true;
		}
	}
	return false;
}

bool kernel_has_func(const struct btf *vmlinux, const char *name)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0;
}

bool kernel_has_enum_value(const struct btf *vmlinux, const char *type, const char *name, int value)
{
	long long v;

	return enum_value(vmlinux, type, name, &v) && v == value;
}

bool kernel_has_uprobe_multi(const struct btf *vmlinux)
{
	return kernel_has_enum_value(vmlinux, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI",
				     KERNEL_ATTACH_UPROBE_MULTI);
}

static const struct kernel_need_def need_defs[KERNEL_NEED_COUNT] = {
    [KERNEL_NEED_RDONLY_CAST] = {"bpf_rdonly_cast", "bpf_rdonly_cast kfunc (Linux 6.2)",
				 "CO-RE reads: each kernel field a bpf_probe_read_kernel call"},
    [KERNEL_NEED_LOOP] = {"bpf_loop", "bpf_loop helper (Linux 5.17)",
			  "bounded loops: paths of up to 64 components, 128 ancestor directories, "
			  "8 other names of a file, the first 1024 descriptors at exit and exec"},
    [KERNEL_NEED_TASK_PT_REGS] = {"bpf_task_pt_regs", "bpf_task_pt_regs helper (Linux 5.15)",
				  "syscall arguments from the registers saved on the task's kernel "
				  "stack, checked against the syscall number"},
    [KERNEL_NEED_TASK_BTF] = {"bpf_get_current_task_btf",
			      "bpf_get_current_task_btf helper (Linux 5.11)",
			      "bpf_get_current_task and CO-RE reads"},
    [KERNEL_NEED_ATTACH_COOKIE] = {"bpf_get_attach_cookie",
				   "bpf_get_attach_cookie helper (Linux 5.15)",
				   "one program per probed database function"},
    [KERNEL_NEED_TASK_STORAGE] = {"task_storage", "task storage maps (Linux 5.11)",
				  "database calls in flight kept by thread id and start time"},
    [KERNEL_NEED_CMPXCHG] =
	{"cmpxchg", "BPF atomic compare-and-exchange (Linux 5.12)",
	 "database records built in the ring buffer, never in a per-CPU buffer"},
};

const struct kernel_need_def *kernel_need(enum kernel_need need)
{
	return &need_defs[need];
}

/* Loads a program doing one compare-and-exchange on its stack. */
static int probe_cmpxchg(void)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 0},
	    {.code = BPF_STX | BPF_DW | BPF_MEM,
	     .dst_reg = BPF_REG_10,
	     .src_reg = BPF_REG_1,
	     .off = -8},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_1, .imm = 1},
	    {.code = BPF_STX | BPF_DW | BPF_ATOMIC,
	     .dst_reg = BPF_REG_10,
	     .src_reg = BPF_REG_1,
	     .off = -8,
	     .imm = BPF_CMPXCHG},
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

bool kernel_has_need(const struct btf *vmlinux, enum kernel_need need, char *why, size_t len)
{
	static const char *const helpers[KERNEL_NEED_COUNT] = {
	    [KERNEL_NEED_LOOP] = "BPF_FUNC_loop",
	    [KERNEL_NEED_TASK_PT_REGS] = "BPF_FUNC_task_pt_regs",
	    [KERNEL_NEED_TASK_BTF] = "BPF_FUNC_get_current_task_btf",
	    [KERNEL_NEED_ATTACH_COOKIE] = "BPF_FUNC_get_attach_cookie",
	};
	long long value;
	int err;

	if (!vmlinux) {
		snprintf(why, len, "needs kernel BTF");
		return false;
	}
	switch (need) {
	case KERNEL_NEED_RDONLY_CAST:
		if (kernel_has_func(vmlinux, "bpf_rdonly_cast"))
			return true;
		break;
	case KERNEL_NEED_TASK_STORAGE:
		if (enum_value(vmlinux, "bpf_map_type", "BPF_MAP_TYPE_TASK_STORAGE", &value))
			return true;
		break;
	case KERNEL_NEED_CMPXCHG:
		err = probe_cmpxchg();
		if (!err)
			return true;
		if (err != -EINVAL) {
			snprintf(why, len, "cannot be tried: loading a program: %s",
				 strerror(-err));
			return false;
		}
		break;
	default:
		if (enum_value(vmlinux, "bpf_func_id", helpers[need], &value))
			return true;
		break;
	}
	snprintf(why, len, "not in this kernel");
	return false;
}

const char *kernel_hook_missing(const struct btf *vmlinux, const char *section)
{
	char typedef_name[256];

	if (!strncmp(section, "tracepoint/", 11)) {
		if (!kernel_has_tracepoint(section + 11))
			return "tracepoint not present in this kernel";
	} else if (!strncmp(section, "tp_btf/", 7)) {
		/* A raw tracepoint's BTF is the typedef btf_trace_<name> of its probe. */
		snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", section + 7);
		if (!vmlinux ||
		    btf__find_by_name_kind(vmlinux, typedef_name, BTF_KIND_TYPEDEF) <= 0)
			return "raw tracepoint not present in this kernel";
	}
	return NULL;
}

/* BPF_LINK_CREATE for uprobe_multi (Linux 6.6), newer than the uapi headers of Debian 12. */
struct link_create_uprobe_multi {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t uprobe_flags;
	uint32_t pid;
};

int kernel_uprobe_multi_link(int prog_fd, const char *path, const uint64_t *offsets,
			     const uint64_t *cookies, size_t n, bool at_return)
{
	struct link_create_uprobe_multi attr = {
	    .prog_fd = prog_fd,
	    .attach_type = KERNEL_ATTACH_UPROBE_MULTI,
	    .path = (uintptr_t)path,
	    .offsets = (uintptr_t)offsets,
	    .cookies = (uintptr_t)cookies,
	    .cnt = n,
	    .uprobe_flags = at_return ? KERNEL_UPROBE_MULTI_RETURN : 0,
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	return fd < 0 ? -errno : fd;
}

const char *kernel_libbpf_version(char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u (built against %d.%d)", libbpf_major_version(),
		 libbpf_minor_version(), LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	return buf;
}
