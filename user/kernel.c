// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include <custos/kernel.h>

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

bool kernel_has_func(const struct btf *vmlinux, const char *name)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) > 0;
}

bool kernel_has_enum_value(const struct btf *vmlinux, const char *type, const char *name, int value)
{
	int id = vmlinux ? btf__find_by_name_kind(vmlinux, type, BTF_KIND_ENUM) : -ENOENT;
	const struct btf_type *t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	const struct btf_enum *v;
	int i;

	if (!t)
		return false;
	v = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(vmlinux, v[i].name_off), name))
			return v[i].val == value;
	return false;
}

bool kernel_has_uprobe_multi(const struct btf *vmlinux)
{
	return kernel_has_enum_value(vmlinux, "bpf_attach_type", "BPF_TRACE_UPROBE_MULTI",
				     KERNEL_ATTACH_UPROBE_MULTI);
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
