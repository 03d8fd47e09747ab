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

#include <custos/elfsym.h>
#include <custos/features.h>
#include <custos/kernel.h>
#include <custos/loader.h>

#define PMU_DIR "/sys/bus/event_source/devices"

/* The kernel function a fentry probe, and the one a kprobe probe, is placed on. */
#define FENTRY_FUNC "security_file_permission"
#define KPROBE_FUNC "vfs_read"
/* The function of this program's own libbpf that the uprobe probes are placed on. */
#define UPROBE_FUNC "libbpf_major_version"

static const struct feature feature_defs[FEATURE_COUNT] = {
    [FEATURE_BTF] = {"btf", "kernel BTF (" KERNEL_BTF ")", true},
    [FEATURE_RINGBUF] = {"ringbuf", "BPF ring buffer (Linux 5.8)", true},
    [FEATURE_RDONLY_CAST] = {"bpf_rdonly_cast", "bpf_rdonly_cast kfunc (Linux 6.2)", true},
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

/*
 * What the agent watches, the hook type it uses for each, and attach points
 * of its BPF programs that tell whether this kernel has them (the loader
 * says which are required).
 */
static const struct cap_def {
	const char *name, *label;
	enum feature_id hook;
	const char *hook_label;
	const char *attach[4]; /* NULL-ended */
	const char *lost;      /* what is not seen without it */
} cap_defs[] = {
    {"file-open",
     "file opens",
     FEATURE_TRACEPOINT,
     "syscall tracepoints",
     {"tracepoint/syscalls/sys_exit_openat", "tracepoint/syscalls/sys_exit_openat2"},
     "opens of watched files"},
    {"file-io",
     "reads and writes",
     FEATURE_TRACEPOINT,
     "syscall tracepoints",
     {"tracepoint/syscalls/sys_exit_read", "tracepoint/syscalls/sys_exit_write"},
     "bytes read and written"},
    {"file-close",
     "closes",
     FEATURE_TRACEPOINT,
     "syscall tracepoints",
     {"tracepoint/syscalls/sys_enter_close"},
     "summaries at close"},
    {"file-change",
     "file changes",
     FEATURE_TRACEPOINT,
     "syscall tracepoints",
     {"tracepoint/syscalls/sys_exit_renameat2", "tracepoint/syscalls/sys_exit_unlinkat"},
     "truncate, chmod, chown, unlink and rename events"},
    {"process",
     "process exec and exit",
     FEATURE_TP_BTF,
     "tp_btf",
     {"tp_btf/sched_process_exec", "tp_btf/sched_process_exit"},
     "programs executed and processes ending"},
    {"io_uring",
     "io_uring",
     FEATURE_TP_BTF,
     "tp_btf",
     {"tp_btf/io_uring_submit_req", "tp_btf/io_uring_complete"},
     "opens and reads through io_uring"},
    {"containers",
     "new cgroups (containers)",
     FEATURE_TP_BTF,
     "tp_btf",
     {"tp_btf/cgroup_mkdir"},
     "container ids of cgroups made after the start"},
    {"open-files",
     "files open before the start",
     FEATURE_ITER,
     "a BPF iterator",
     {"iter/task_file"},
     "watched files opened before the agent started"},
    {"databases",
     "database clients",
     FEATURE_UPROBE,
     "uprobes",
     {"uprobe", "uretprobe"},
     "SQL statements (the database files' accesses are still seen)"},
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
	case FEATURE_RDONLY_CAST:
		if (!btf)
			return set_why(f, "needs kernel BTF");
		return kernel_has_func(btf, "bpf_rdonly_cast")
			   ? 0
			   : set_why(f, "not in this kernel (Linux 6.2 or later needed)");
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

static void capability_hook(const struct cap_def *def, const struct features *fs,
			    struct capability *c)
{
	size_t i, o;

	if (def->hook == FEATURE_UPROBE) {
		snprintf(c->hook, sizeof(c->hook), "%s",
			 fs->feature[FEATURE_UPROBE_MULTI].available
			     ? "uprobes, one uprobe_multi link per library"
			     : "uprobes, one link per function");
		return;
	}
	o = snprintf(c->hook, sizeof(c->hook), "%s", def->hook_label);
	for (i = 0; def->attach[i] && o < sizeof(c->hook); i++)
		o += snprintf(c->hook + o, sizeof(c->hook) - o, "%s%s", i ? ", " : " (",
			      strrchr(def->attach[i], '/') + 1);
	if (i && o < sizeof(c->hook))
		snprintf(c->hook + o, sizeof(c->hook) - o, ")");
}

static void capability_assess(const struct cap_def *def, const struct features *fs,
			      const struct btf *btf, struct capability *c)
{
	const struct feature *hook = &fs->feature[def->hook];
	const char *missing;
	size_t i;

	c->name = def->name;
	c->label = def->label;
	c->attach = def->attach;
	for (i = 0; def->attach[i]; i++)
		c->required |= loader_hook_required(def->attach[i]);
	capability_hook(def, fs, c);
	if (!fs->root) {
		c->status = CAP_UNKNOWN;
		c->cause_of = "not probed";
		c->cause = "run as root";
		return;
	}
	c->status = c->required ? CAP_MISSING : CAP_DEGRADED;
	c->lost = def->lost;
	if (!hook->available) {
		c->cause_of = hook->label;
		c->cause = hook->why;
		return;
	}
	for (i = 0; def->attach[i]; i++) {
		missing = kernel_hook_missing(btf, def->attach[i]);
		if (missing) {
			c->cause_of = def->attach[i];
			c->cause = missing;
			return;
		}
	}
	c->status = CAP_OK;
	c->lost = NULL;
}

/* BTF, the ring buffer and bpf_rdonly_cast: without them no program of the agent loads. */
static void assess_bpf(struct features *fs, struct capability *c)
{
	static const enum feature_id needed[] = {FEATURE_BTF, FEATURE_RINGBUF, FEATURE_RDONLY_CAST};
	static const char *const none[] = {NULL};
	size_t i;

	c->name = "bpf";
	c->label = "BPF programs";
	c->required = true;
	c->attach = none;
	snprintf(c->hook, sizeof(c->hook), "CO-RE with kernel BTF, a ring buffer");
	c->status = CAP_OK;
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		const struct feature *f = &fs->feature[needed[i]];

		if (f->probed && !f->available) {
			c->status = CAP_MISSING;
			c->cause_of = f->label;
			c->cause = f->why;
			c->lost = "everything: no program of the agent loads";
			return;
		}
	}
	if (!fs->root) {
		c->status = CAP_UNKNOWN;
		c->cause_of = "not probed";
		c->cause = "run as root";
	}
}

void features_probe(struct features *fs)
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
		if (!fs->root && i != FEATURE_BTF && i != FEATURE_RDONLY_CAST) {
			set_why(f, "not probed: loading BPF programs needs root");
			continue;
		}
		f->probed = true;
		f->available = probe_one(fs, i, btf) == 0;
	}
	assess_bpf(fs, &fs->caps[fs->n_caps++]);
	for (i = 0; i < sizeof(cap_defs) / sizeof(cap_defs[0]); i++)
		capability_assess(&cap_defs[i], fs, btf, &fs->caps[fs->n_caps++]);
	btf__free(btf);
}

enum features_verdict features_verdict(const struct features *fs)
{
	enum features_verdict v = FEATURES_READY;
	size_t i;

	for (i = 0; i < fs->n_caps; i++) {
		if (fs->caps[i].status == CAP_MISSING)
			return FEATURES_MISSING;
		if (fs->caps[i].status == CAP_UNKNOWN)
			v = FEATURES_UNKNOWN;
		else if (fs->caps[i].status == CAP_DEGRADED && v == FEATURES_READY)
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

const char *features_status_name(enum cap_status s)
{
	static const char *const names[] = {
	    [CAP_OK] = "ok",
	    [CAP_DEGRADED] = "degraded",
	    [CAP_MISSING] = "missing",
	    [CAP_UNKNOWN] = "unknown",
	};

	return names[s];
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
	fprintf(out, "what the agent uses here:\n");
	for (i = 0; i < fs->n_caps; i++) {
		const struct capability *c = &fs->caps[i];

		fprintf(out, "  %-8s %s%s: %s\n", features_status_name(c->status), c->label,
			c->required ? " (required)" : "", c->hook);
		if (c->status != CAP_OK)
			fprintf(out, "           %s: %s%s%s\n", c->cause_of, c->cause,
				c->lost ? "; not seen: " : "", c->lost ?: "");
	}
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
	for (i = 0; i < fs->n_caps; i++) {
		const struct capability *c = &fs->caps[i];
		json_t *attach = json_array();
		size_t a;

		for (a = 0; attach && c->attach[a]; a++)
			json_array_append_new(attach, json_string(c->attach[a]));
		o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:o}", "name", c->name, "label", c->label,
			      "required", c->required, "status", features_status_name(c->status),
			      "hook", c->hook, "attach", attach);
		if (o && c->status != CAP_OK) {
			json_object_set_new(o, "reason",
					    json_sprintf("%s: %s", c->cause_of, c->cause));
			if (c->lost)
				json_object_set_new(o, "not_seen", json_string(c->lost));
		}
		json_array_append_new(caps, o);
	}
	json_object_set_new(root, "features", features);
	json_object_set_new(root, "filesystems", mounts);
	json_object_set_new(root, "capabilities", caps);
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
