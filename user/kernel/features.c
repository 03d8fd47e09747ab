// SPDX-License-Identifier: GPL-2.0
/*
 * Probes what this host offers the agent; see include/custos/features.h.
 * Each hook type is tried the way the agent would use it: a program that
 * returns 0 at once is loaded, then attached for an instant and detached.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel/elfsym.h"
#include "kernel/features.h"
#include "kernel/kernel.h"
#include "kernel/loader.h"

#define PMU_DIR "/sys/bus/event_source/devices"

/* The kernel function a fentry probe, and the one a kprobe probe, is placed on. */
#define FENTRY_FUNC "security_file_permission"
#define KPROBE_FUNC "vfs_read"
/* The function of this program's own libbpf that the uprobe probes are placed on. */
#define UPROBE_FUNC "libbpf_major_version"

static const struct feature feature_defs[FEATURE_COUNT] = {
    [FEATURE_BTF] = {"btf", "kernel BTF (" KERNEL_BTF ")", true},
    [FEATURE_RINGBUF] = {"ringbuf", "BPF ring buffer (Linux 5.8)", true},
    [FEATURE_TRACEPOINT] = {"tracepoint", "syscall tracepoints", true},
    [FEATURE_TP_BTF] = {"tp_btf", "BTF raw tracepoints (tp_btf)", true},
    [FEATURE_RAW_TP] = {"raw_tracepoint", "raw tracepoints", false},
    [FEATURE_FENTRY] = {"fentry", "fentry/fexit", false},
    [FEATURE_LSM] = {"lsm", "BPF LSM", false},
    [FEATURE_KPROBE] = {"kprobe", "kprobes", false},
    [FEATURE_UPROBE] = {"uprobe", "uprobes", true},
    [FEATURE_UPROBE_MULTI] = {"uprobe_multi", "uprobe_multi links (Linux 6.6)", true},
    [FEATURE_ITER] = {"iter", "BPF iterators (task_file)", true},
};

static const struct fs_state fs_defs[FS_COUNT] = {
    [FS_BPFFS] = {"bpffs", KERNEL_BPFFS, "not needed: the agent pins nothing"},
    [FS_TRACEFS] = {"tracefs", KERNEL_TRACEFS,
		    "needed for tracepoint ids; the agent mounts it when missing"},
    [FS_DEBUGFS] = {"debugfs", KERNEL_DEBUGFS,
		    "not needed: its tracing/ is used only if tracefs is not mounted"},
};

static const long fs_magic[FS_COUNT] = {
    [FS_BPFFS] = BPF_FS_MAGIC,
    [FS_TRACEFS] = TRACEFS_MAGIC,
    [FS_DEBUGFS] = DEBUGFS_MAGIC,
};

static int __attribute__((format(printf, 2, 3))) set_why(struct feature *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* "loading a program: Operation not permitted (EPERM)" */
static int set_errno(struct feature *f, const char *step, int err)
{
	const char *name = strerrorname_np(err);

	return set_why(f, "%s: %s%s%s%s", step, strerror(err), name ? " (" : "", name ?: "",
		       name ? ")" : "");
}

static int load_nop(enum bpf_prog_type type, enum bpf_attach_type attach, int btf_id)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);

	return fd < 0 ? -errno : fd;
}

static int perf_event_open(struct perf_event_attr *attr)
{
	/* pid -1, cpu 0: every process, as libbpf places its probes */
	int fd = syscall(__NR_perf_event_open, attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The type number of a dynamic PMU (kprobe, uprobe), or a negative errno. */
static int pmu_type(const char *pmu)
{
	char path[128], buf[16] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), PMU_DIR "/%s/type", pmu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -EINVAL;
}

/* Loads a program of that type, or says why not; the fd, or -1. */
static int try_load(struct feature *f, enum bpf_prog_type type, enum bpf_attach_type attach,
		    int btf_id)
{
	int fd = load_nop(type, attach, btf_id);

	if (fd < 0)
		return set_errno(f, "loading a program", -fd);
	return fd;
}

/* Attaches prog_fd to the perf event of attr for an instant. */
static int try_perf_attach(struct feature *f, int prog_fd, struct perf_event_attr *attr,
			   const char *what)
{
	char step[96];
	int pfd, r = 0;

	snprintf(step, sizeof(step), "opening %s", what);
	pfd = perf_event_open(attr);
	if (pfd < 0)
		return set_errno(f, step, -pfd);
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd)) {
		snprintf(step, sizeof(step), "attaching to %s", what);
		r = set_errno(f, step, errno);
	}
	close(pfd);
	return r;
}

/* A BTF-typed program (tp_btf, fentry, LSM) attached through a raw tracepoint link. */
static int try_btf_attach(struct feature *f, enum bpf_prog_type type, enum bpf_attach_type attach,
			  const struct btf *btf, const char *target, int kind)
{
	int id = btf ? btf__find_by_name_kind(btf, target, kind) : -ENOENT;
	int fd, link, r = 0;

	if (!btf)
		return set_why(f, "needs kernel BTF");
	if (id <= 0)
		return set_why(f, "%s is not in the kernel's BTF", target);
	fd = try_load(f, type, attach, id);
	if (fd < 0)
		return -1;
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0)
		r = set_errno(f, "attaching", errno);
	else
		close(link);
	close(fd);
	return r;
}

static int probe_tracepoint(struct feature *f)
{
	const char *root = kernel_tracing_root();
	struct perf_event_attr attr = {.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr)};
	char path[256], buf[32] = "";
	int fd, prog, r;
	ssize_t n;

	if (!root)
		return set_why(f, "tracefs is not mounted");
	snprintf(path, sizeof(path), "%s/events/syscalls/sys_exit_openat/id", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return set_why(f,
			       "no %s: the kernel is built without syscall tracepoints "
			       "(CONFIG_FTRACE_SYSCALLS)",
			       path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return set_errno(f, "reading the id of syscalls/sys_exit_openat",
				 n < 0 ? errno : EIO);
	attr.config = strtoull(buf, NULL, 10);
	prog = try_load(f, BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (prog < 0)
		return -1;
	r = try_perf_attach(f, prog, &attr, "tracepoint syscalls/sys_exit_openat");
	close(prog);
	return r;
}

static int probe_raw_tp(struct feature *f)
{
	int prog = try_load(f, BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0), link, r = 0;

	if (prog < 0)
		return -1;
	link = bpf_raw_tracepoint_open("sched_process_exit", prog);
	if (link < 0)
		r = set_errno(f, "attaching to sched_process_exit", errno);
	else
		close(link);
	close(prog);
	return r;
}

static int probe_lsm(struct feature *f, const struct btf *btf)
{
	char active[256] = "";
	ssize_t n;
	int fd;

	if (try_btf_attach(f, BPF_PROG_TYPE_LSM, BPF_LSM_MAC, btf, "bpf_lsm_file_open",
			   BTF_KIND_FUNC) == 0)
		return 0;
	/* The usual cause: built in, but not among the LSMs the kernel was booted with. */
	fd = open("/sys/kernel/security/lsm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, active, sizeof(active) - 1);
	close(fd);
	if (n > 0 && !strstr(active, "bpf")) {
		size_t len = strlen(f->why);

		snprintf(f->why + len, sizeof(f->why) - len,
			 "; \"bpf\" is not among the active LSMs (boot with lsm=...,bpf)");
	}
	return -1;
}

static int probe_kprobe(struct feature *f)
{
	struct perf_event_attr attr = {.size = sizeof(attr)};
	int type = pmu_type("kprobe"), prog, r;

	if (type < 0)
		return set_why(f, "no kprobe PMU (" PMU_DIR "/kprobe): the kernel is built without "
				  "kprobes (CONFIG_KPROBES)");
	attr.type = type;
	attr.kprobe_func = (uintptr_t)KPROBE_FUNC;
	prog = try_load(f, BPF_PROG_TYPE_KPROBE, 0, 0);
	if (prog < 0)
		return -1;
	r = try_perf_attach(f, prog, &attr, "a kprobe on " KPROBE_FUNC);
	close(prog);
	return r;
}

/* The file of this program's libbpf, and the offset of a function in it. */
static int uprobe_target(struct feature *f, char *path, size_t len, uint64_t *offset)
{
	const char *const names[] = {UPROBE_FUNC};
	Dl_info info;

	if (!dladdr((void *)libbpf_major_version, &info) || !info.dli_fname ||
	    info.dli_fname[0] != '/')
		snprintf(path, len, "/proc/self/exe");
	else
		snprintf(path, len, "%s", info.dli_fname);
	*offset = 0;
	if (elfsym_find(path, names, 1, offset) != 1)
		return set_why(f, "cannot find %s in %s to place a uprobe on", UPROBE_FUNC, path);
	return 0;
}

static int probe_uprobe(struct feature *f)
{
	struct perf_event_attr attr = {.size = sizeof(attr)};
	int type = pmu_type("uprobe"), prog, r;
	char path[512], what[600];
	uint64_t offset;

	if (type < 0)
		return set_why(f, "no uprobe PMU (" PMU_DIR "/uprobe): the kernel is built without "
				  "uprobes (CONFIG_UPROBE_EVENTS)");
	if (uprobe_target(f, path, sizeof(path), &offset))
		return -1;
	attr.type = type;
	attr.uprobe_path = (uintptr_t)path;
	attr.probe_offset = offset;
	prog = try_load(f, BPF_PROG_TYPE_KPROBE, 0, 0);
	if (prog < 0)
		return -1;
	snprintf(what, sizeof(what), "a uprobe on %s", path);
	r = try_perf_attach(f, prog, &attr, what);
	close(prog);
	return r;
}

static int probe_uprobe_multi(struct feature *f, const struct btf *btf)
{
	uint64_t offset, cookie = 0;
	char path[512];
	int prog, link;

	if (!kernel_has_uprobe_multi(btf))
		return set_why(f, "the kernel has no BPF_TRACE_UPROBE_MULTI (Linux 6.6 or later): "
				  "one link per probe instead");
	if (uprobe_target(f, path, sizeof(path), &offset))
		return -1;
	prog = try_load(f, BPF_PROG_TYPE_KPROBE, KERNEL_ATTACH_UPROBE_MULTI, 0);
	if (prog < 0)
		return -1;
	link = kernel_uprobe_multi_link(prog, path, &offset, &cookie, 1, false);
	close(prog);
	if (link < 0)
		return set_errno(f, "attaching", -link);
	close(link);
	return 0;
}

static int probe_iter(struct feature *f, const struct btf *btf)
{
	int id = btf ? btf__find_by_name_kind(btf, "bpf_iter_task_file", BTF_KIND_FUNC) : -ENOENT;
	int prog, link;

	if (id <= 0)
		return set_why(f, "no task_file iterator in the kernel's BTF");
	prog = try_load(f, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, id);
	if (prog < 0)
		return -1;
	link = bpf_link_create(prog, 0, BPF_TRACE_ITER, NULL);
	close(prog);
	if (link < 0)
		return set_errno(f, "attaching", errno);
	close(link);
	return 0;
}

static int probe_ringbuf(struct feature *f)
{
	int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);

	if (r < 0)
		return set_errno(f, "creating a ring buffer", -r);
	if (r == 0)
		return set_why(f, "the kernel has no BPF ring buffer (Linux 5.8 or later)");
	return 0;
}

static int probe_one(struct features *fs, enum feature_id id, const struct btf *btf)
{
	struct feature *f = &fs->feature[id];

	switch (id) {
	case FEATURE_BTF:
		if (access(KERNEL_BTF, R_OK))
			return set_why(
			    f, "%s: the kernel is built without BTF (CONFIG_DEBUG_INFO_BTF)",
			    strerror(errno));
		return btf ? 0 : set_why(f, "cannot parse " KERNEL_BTF);
	case FEATURE_RINGBUF:
		return probe_ringbuf(f);
	case FEATURE_TRACEPOINT:
		return probe_tracepoint(f);
	case FEATURE_TP_BTF:
		return try_btf_attach(f, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, btf,
				      "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	case FEATURE_RAW_TP:
		return probe_raw_tp(f);
	case FEATURE_FENTRY:
		return try_btf_attach(f, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, btf, FENTRY_FUNC,
				      BTF_KIND_FUNC);
	case FEATURE_LSM:
		return probe_lsm(f, btf);
	case FEATURE_KPROBE:
		return probe_kprobe(f);
	case FEATURE_UPROBE:
		return probe_uprobe(f);
	case FEATURE_UPROBE_MULTI:
		return probe_uprobe_multi(f, btf);
	case FEATURE_ITER:
		return probe_iter(f, btf);
	case FEATURE_COUNT:
		break;
	}
	return set_why(f, "unknown feature");
}

static bool fs_mounted(enum fs_id id)
{
	struct statfs st;

	return statfs(fs_defs[id].path, &st) == 0 && st.f_type == fs_magic[id];
}

/* Tracepoint ids are read from tracefs: mount it where only this process sees it. */
static void tracefs_private(void)
{
	if (kernel_tracing_root())
		return;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return;
	mount("tracefs", KERNEL_TRACEFS, "tracefs", 0, NULL);
}

/* The agent's own object, loaded as it would start and unloaded. */
static void probe_load(struct features *fs, const struct loader_options *opts)
{
	struct loader_options o = *opts;

	o.probe_only = true;
	fs->load_ret = loader_probe(&o, &fs->report, fs->load_error, sizeof(fs->load_error));
	fs->loaded = fs->load_ret == 0;
}

void features_probe(struct features *fs, const struct loader_options *opts)
{
	struct btf *btf;
	struct utsname u;
	size_t i;

	memset(fs, 0, sizeof(*fs));
	if (uname(&u) == 0)
		snprintf(fs->kernel, sizeof(fs->kernel), "%s %s %s", u.sysname, u.release,
			 u.machine);
	fs->root = geteuid() == 0;
	for (i = 0; i < FS_COUNT; i++) {
		fs->fs[i] = fs_defs[i];
		fs->fs[i].mounted = fs_mounted(i);
	}
	if (fs->root)
		tracefs_private();
	libbpf_set_print(NULL);
	btf = btf__load_vmlinux_btf();
	for (i = 0; i < FEATURE_COUNT; i++) {
		struct feature *f = &fs->feature[i];

		*f = feature_defs[i];
		/* BTF lookups need no privileges; loading programs does. */
		if (!fs->root && i != FEATURE_BTF) {
			set_why(f, "not probed: loading BPF programs needs root");
			continue;
		}
		f->probed = true;
		f->available = probe_one(fs, i, btf) == 0;
	}
	btf__free(btf);
	if (fs->root)
		probe_load(fs, opts);
}

/*
 * Did the loader decide about each hook? Not when it stopped before (no
 * BTF, the object cannot be opened): then nothing is available.
 */
static bool decided(const struct features *fs)
{
	return fs->report.n_hooks > 0 && (fs->loaded || fs->load_ret == -EOPNOTSUPP);
}

/* A capability as check reports it: the loader's status, or why nothing was loaded. */
static enum cap_status cap_status(const struct features *fs, enum hook_cap cap)
{
	if (!fs->root)
		return CAP_UNKNOWN;
	if (!decided(fs))
		return CAP_MISSING;
	switch (fs->report.caps[cap].status) {
	case LOADER_CAP_AVAILABLE:
		return CAP_AVAILABLE;
	case LOADER_CAP_FALLBACK:
		return CAP_FALLBACK;
	case LOADER_CAP_MISSING:
		break;
	}
	return CAP_MISSING;
}

static const char *cap_reason(const struct features *fs, enum hook_cap cap)
{
	if (!fs->root)
		return "not probed: run as root";
	if (!decided(fs))
		return fs->load_error;
	return fs->report.caps[cap].why;
}

/* The BPF object itself: modern, compat (with the fallback of each missing need), or none. */
static enum cap_status bpf_status(const struct features *fs)
{
	if (!fs->root)
		return CAP_UNKNOWN;
	if (!fs->feature[FEATURE_BTF].available || !fs->feature[FEATURE_RINGBUF].available ||
	    !decided(fs))
		return CAP_MISSING;
	return strcmp(fs->report.object, "modern") ? CAP_FALLBACK : CAP_AVAILABLE;
}

static const char *bpf_reason(const struct features *fs)
{
	if (!fs->root)
		return "not probed: run as root";
	if (!fs->feature[FEATURE_BTF].available)
		return fs->feature[FEATURE_BTF].why;
	if (!fs->feature[FEATURE_RINGBUF].available)
		return fs->feature[FEATURE_RINGBUF].why;
	if (!decided(fs))
		return fs->load_error;
	if (bpf_status(fs) == CAP_FALLBACK && fs->report.forced)
		return "the compat object, as CUSTOS_BPF_OBJECT=compat asks";
	if (bpf_status(fs) == CAP_FALLBACK)
		return "the compat object: this kernel lacks a helper the modern one uses";
	return "";
}

enum features_verdict features_verdict(const struct features *fs)
{
	enum features_verdict v = FEATURES_READY;
	size_t i;

	if (!fs->root)
		return FEATURES_UNKNOWN;
	if (bpf_status(fs) == CAP_MISSING || fs->load_ret == -EOPNOTSUPP)
		return FEATURES_MISSING;
	for (i = 0; i < HOOK_CAP_COUNT; i++) {
		if (cap_status(fs, i) != CAP_MISSING)
			continue;
		if (hook_cap(i)->required)
			return FEATURES_MISSING;
		v = FEATURES_DEGRADED;
	}
	return v;
}

const char *features_verdict_name(enum features_verdict v)
{
	static const char *const names[] = {
	    [FEATURES_READY] = "ready",
	    [FEATURES_DEGRADED] = "degraded",
	    [FEATURES_MISSING] = "missing",
	    [FEATURES_UNKNOWN] = "unknown",
	};

	return names[v];
}

static const char *cap_status_name(enum cap_status s)
{
	static const char *const names[] = {
	    [CAP_AVAILABLE] = "available", [CAP_FALLBACK] = "fallback", [CAP_MISSING] = "missing",
	    [CAP_UNKNOWN] = "unknown",	   [CAP_UNUSED] = "unused",
	};

	return names[s];
}

/* A hook's status: loaded (and so attached by the agent), or missing and why. */
static enum cap_status hook_status(const struct features *fs, const struct loader_hook *h)
{
	if (!fs->root)
		return CAP_UNKNOWN;
	if (h->unused)
		return CAP_UNUSED;
	return h->loaded ? CAP_AVAILABLE : CAP_MISSING;
}

static void print_row(FILE *out, const char *cap, const char *hook, enum cap_status status,
		      const char *why)
{
	fprintf(out, "  %-30s %-47s %-9s %s\n", cap, hook, cap_status_name(status), why ?: "");
}

static void print_caps(const struct features *fs, FILE *out)
{
	char label[64];
	size_t c, i;
	int n;

	fprintf(out, "%-32s %-47s %-9s %s\n", "capability", "hook", "status", "why");
	snprintf(label, sizeof(label), "BPF programs (required)");
	print_row(out, label, fs->loaded ? fs->report.object : "-", bpf_status(fs), bpf_reason(fs));
	for (n = 0; fs->root && fs->report.object && n < KERNEL_NEED_COUNT; n++) {
		const struct loader_need *need = &fs->report.needs[n];
		char why[512];

		snprintf(why, sizeof(why), "%s; instead: %s", need->why, kernel_need(n)->fallback);
		print_row(out, "", kernel_need(n)->label,
			  need->available ? CAP_AVAILABLE : CAP_FALLBACK,
			  need->available ? "" : why);
	}
	for (c = 0; c < HOOK_CAP_COUNT; c++) {
		const struct hook_cap_def *def = hook_cap(c);
		enum cap_status st = cap_status(fs, c);
		bool first = true;

		snprintf(label, sizeof(label), "%s%s", def->label,
			 def->required ? " (required)" : "");
		if (st != CAP_AVAILABLE || !fs->root || !fs->report.n_hooks) {
			print_row(out, label, "", st, cap_reason(fs, c));
			first = false;
			if (st == CAP_MISSING)
				fprintf(out, "  %-30s %-47s %-9s not seen: %s\n", "", "", "",
					def->lost);
		}
		for (i = 0; i < fs->report.n_hooks && fs->root; i++) {
			const struct loader_hook *h = &fs->report.hooks[i];
			char why[400];

			if (h->def->cap != c)
				continue;
			if (h->loaded && h->signature)
				snprintf(why, sizeof(why), "%s %s", h->program, h->signature);
			else
				snprintf(why, sizeof(why), "%s",
					 h->loaded ? h->program : h->why_not);
			print_row(out, first ? label : "", h->def->attach, hook_status(fs, h), why);
			first = false;
		}
	}
}

void features_print(const struct features *fs, FILE *out)
{
	size_t i;

	fprintf(out, "kernel: %s\n", fs->kernel);
	for (i = 0; i < FEATURE_COUNT; i++) {
		const struct feature *f = &fs->feature[i];

		if (f->probed)
			fprintf(out, "  %-4s %s%s%s%s\n", f->available ? "yes" : "no", f->label,
				f->used ? "" : " (not used)", f->available ? "" : ": ",
				f->available ? "" : f->why);
	}
	if (!fs->root)
		fprintf(out, "  hook types: not probed (loading BPF programs needs root)\n");
	fprintf(out, "filesystems:\n");
	for (i = 0; i < FS_COUNT; i++)
		fprintf(out, "  %-4s %s on %s (%s)\n", fs->fs[i].mounted ? "yes" : "no",
			fs->fs[i].name, fs->fs[i].path, fs->fs[i].role);
	if (!fs->root)
		return;
	fprintf(out, "what the agent uses here%s%s%s:\n", fs->loaded ? " (the " : "",
		fs->loaded ? fs->report.object : "", fs->loaded ? " object)" : "");
	print_caps(fs, out);
}

static json_t *status_json(enum cap_status st, const char *why)
{
	json_t *o = json_pack("{s:s}", "status", cap_status_name(st));

	if (o && st != CAP_AVAILABLE && why && why[0])
		json_object_set_new(o, "reason", json_string(why));
	return o;
}

static json_t *bpf_json(const struct features *fs)
{
	json_t *o = status_json(bpf_status(fs), bpf_reason(fs)), *hooks = json_array();
	int n;

	json_object_set_new(o, "name", json_string("bpf"));
	json_object_set_new(o, "label", json_string("BPF programs"));
	json_object_set_new(o, "required", json_true());
	if (fs->loaded)
		json_object_set_new(o, "object", json_string(fs->report.object));
	for (n = 0; fs->root && fs->report.object && n < KERNEL_NEED_COUNT; n++) {
		const struct loader_need *need = &fs->report.needs[n];
		json_t *h = status_json(need->available ? CAP_AVAILABLE : CAP_FALLBACK, need->why);

		json_object_set_new(h, "hook", json_string(kernel_need(n)->name));
		json_object_set_new(h, "label", json_string(kernel_need(n)->label));
		if (!need->available)
			json_object_set_new(h, "fallback", json_string(kernel_need(n)->fallback));
		json_array_append_new(hooks, h);
	}
	json_object_set_new(o, "hooks", hooks);
	return o;
}

static json_t *cap_json(const struct features *fs, enum hook_cap c)
{
	const struct hook_cap_def *def = hook_cap(c);
	enum cap_status st = cap_status(fs, c);
	json_t *o = status_json(st, cap_reason(fs, c)), *hooks = json_array(),
	       *attach = json_array();
	size_t i;

	json_object_set_new(o, "name", json_string(def->name));
	json_object_set_new(o, "label", json_string(def->label));
	json_object_set_new(o, "required", json_boolean(def->required));
	if (st == CAP_MISSING)
		json_object_set_new(o, "not_seen", json_string(def->lost));
	for (i = 0; fs->root && i < fs->report.n_hooks; i++) {
		const struct loader_hook *h = &fs->report.hooks[i];
		json_t *j;

		if (h->def->cap != c)
			continue;
		j = status_json(hook_status(fs, h), h->why_not);
		json_object_set_new(j, "hook", json_string(h->def->attach));
		json_object_set_new(j, "required", json_boolean(h->def->required));
		if (h->loaded) {
			json_object_set_new(j, "program", json_string(h->program));
			json_array_append_new(attach, json_string(h->def->attach));
		}
		if (h->loaded && h->signature)
			json_object_set_new(j, "signature", json_string(h->signature));
		json_array_append_new(hooks, j);
	}
	json_object_set_new(o, "hooks", hooks);
	json_object_set_new(o, "attach", attach);
	return o;
}

json_t *features_json(const struct features *fs)
{
	json_t *root = json_object(), *features = json_object(), *mounts = json_object();
	json_t *caps = json_array(), *o;
	size_t i;

	if (!root || !features || !mounts || !caps)
		goto err_put;
	json_object_set_new(root, "kernel", json_string(fs->kernel));
	json_object_set_new(root, "probed", json_boolean(fs->root));
	for (i = 0; i < FEATURE_COUNT; i++) {
		const struct feature *f = &fs->feature[i];

		o = json_pack("{s:s, s:b, s:b}", "label", f->label, "used_by_agent", f->used,
			      "probed", f->probed);
		if (o && f->probed)
			json_object_set_new(o, "available", json_boolean(f->available));
		if (o && !f->available)
			json_object_set_new(o, "reason", json_string(f->why));
		json_object_set_new(features, f->name, o);
	}
	for (i = 0; i < FS_COUNT; i++)
		json_object_set_new(mounts, fs->fs[i].name,
				    json_pack("{s:s, s:b, s:s}", "path", fs->fs[i].path, "mounted",
					      fs->fs[i].mounted, "role", fs->fs[i].role));
	json_array_append_new(caps, bpf_json(fs));
	for (i = 0; i < HOOK_CAP_COUNT; i++)
		json_array_append_new(caps, cap_json(fs, i));
	json_object_set_new(root, "features", features);
	json_object_set_new(root, "filesystems", mounts);
	json_object_set_new(root, "capabilities", caps);
	if (fs->loaded)
		json_object_set_new(root, "object", json_string(fs->report.object));
	json_object_set_new(root, "verdict",
			    json_string(features_verdict_name(features_verdict(fs))));
	return root;

err_put:
	json_decref(root);
	json_decref(features);
	json_decref(mounts);
	json_decref(caps);
	return NULL;
}
