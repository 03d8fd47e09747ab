// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <custos/kernel.h>
#include <custos/loader.h>
#include "custos.skel.h"

#define HOOKS_MAX 64

struct loader {
	struct custos_bpf *skel;
	struct loader_hook hooks[HOOKS_MAX];
	struct bpf_link *links[HOOKS_MAX];
	size_t n_hooks;
	int nr_cpus;
	void *ring_pages;  /* the ring buffer's consumer and producer positions, read-only */
	bool uprobe_multi; /* the kernel places many uprobes with one link (6.6+) */
	struct bpf_link **uprobes; /* database probes, placed as libraries are found */
	size_t n_uprobes, uprobes_cap;
	int *multi_fds; /* their uprobe_multi links */
	size_t n_multi, multi_cap;
};

/* Hooks without which the agent would miss accesses: refuse to run. */
static const char *const required_hooks[] = {
    "tracepoint/syscalls/sys_exit_openat",
    "tracepoint/syscalls/sys_exit_read",
    "tracepoint/syscalls/sys_enter_close",
    "tp_btf/sched_process_exit",
};

static void set_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* libbpf finds tracepoint ids through tracefs; a fresh machine may not have it mounted. */
static int tracefs_ensure(char *err, size_t len)
{
	if (kernel_tracing_root())
		return 0;
	if (mount("tracefs", KERNEL_TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		set_err(err, len, "cannot mount tracefs on %s: %s", KERNEL_TRACEFS,
			strerror(errno));
		return -errno;
	}
	return 0;
}

bool loader_hook_required(const char *attach)
{
	size_t i;

	for (i = 0; i < sizeof(required_hooks) / sizeof(required_hooks[0]); i++)
		if (!strcmp(required_hooks[i], attach))
			return true;
	return false;
}

/*
 * Decide, before loading, which programs this kernel can run: a syscall
 * tracepoint that does not exist here (open(2) on arm64, say) is turned off
 * rather than failing the whole load.
 */
static int probe_hooks(struct loader *l, char *err, size_t len)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct bpf_program *prog;
	int ret = 0;

	if (!vmlinux) {
		set_err(err, len, "kernel BTF (/sys/kernel/btf/vmlinux) is not available: %s",
			strerror(errno));
		return -ENOENT;
	}
	if (!kernel_has_func(vmlinux, "bpf_rdonly_cast")) {
		set_err(err, len,
			"this kernel lacks the bpf_rdonly_cast kfunc (Linux 6.2 or later needed)");
		ret = -EOPNOTSUPP;
		goto out_free_btf;
	}
	l->uprobe_multi = kernel_has_uprobe_multi(vmlinux);
	if (l->uprobe_multi) {
		bpf_program__set_expected_attach_type(l->skel->progs.uprobe__db_entry,
						      KERNEL_ATTACH_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(l->skel->progs.uretprobe__db_return,
						      KERNEL_ATTACH_UPROBE_MULTI);
	}
	bpf_object__for_each_program(prog, l->skel->obj)
	{
		struct loader_hook *hook = &l->hooks[l->n_hooks];
		const char *sec = bpf_program__section_name(prog);

		if (l->n_hooks == HOOKS_MAX)
			break;
		l->n_hooks++;
		hook->program = bpf_program__name(prog);
		hook->attach = sec;
		hook->why_not = kernel_hook_missing(vmlinux, sec);
		if (!hook->why_not)
			continue;
		if (loader_hook_required(hook->attach)) {
			set_err(err, len, "required hook %s: %s", sec, hook->why_not);
			ret = -EOPNOTSUPP;
			goto out_free_btf;
		}
		bpf_program__set_autoload(prog, false);
	}
out_free_btf:
	btf__free(vmlinux);
	return ret;
}

static int attach_hooks(struct loader *l, char *err, size_t len)
{
	struct bpf_program *prog;
	size_t i = 0;

	bpf_object__for_each_program(prog, l->skel->obj)
	{
		struct loader_hook *hook = &l->hooks[i];
		struct bpf_link *link;

		if (i++ == l->n_hooks)
			break;
		if (hook->why_not)
			continue;
		/* Iterators are run (loader_seed_open_files()), uprobes placed per library. */
		if (!strncmp(hook->attach, "iter/", 5) || !strncmp(hook->attach, "uprobe", 6) ||
		    !strncmp(hook->attach, "uretprobe", 9))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			int e = -errno;

			if (loader_hook_required(hook->attach)) {
				set_err(err, len, "cannot attach %s: %s", hook->attach,
					strerror(-e));
				return e;
			}
			hook->why_not = "attach failed";
			continue;
		}
		l->links[i - 1] = link;
		hook->attached = true;
	}
	return 0;
}

static int libbpf_print_debug(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

/* Without -v the agent reports failures itself; libbpf's verifier logs would bury them. */
static int libbpf_print_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

struct loader *loader_start(const struct loader_options *opts, char *err, size_t len)
{
	struct loader *l = calloc(1, sizeof(*l));
	int ret;

	if (!l) {
		set_err(err, len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	libbpf_set_print(opts->verbose ? libbpf_print_debug : libbpf_print_quiet);
	l->nr_cpus = libbpf_num_possible_cpus();
	ret = tracefs_ensure(err, len);
	if (ret)
		goto err_free;
	l->skel = custos_bpf__open();
	if (!l->skel) {
		ret = -errno;
		set_err(err, len, "cannot open the BPF object: %s", strerror(errno));
		goto err_free;
	}
	if (l->skel->rodata->abi_version != CUSTOS_ABI_VERSION) {
		ret = -EPROTO;
		set_err(err, len, "BPF object ABI %u, agent ABI %u: rebuild",
			l->skel->rodata->abi_version, CUSTOS_ABI_VERSION);
		goto err_destroy;
	}
	l->skel->rodata->agent_tgid = opts->agent_tgid;
	l->skel->rodata->wakeup_bytes = (uint64_t)opts->ring_buffer_mb << 18; /* a quarter full */
	bpf_map__set_max_entries(l->skel->maps.events, opts->ring_buffer_mb << 20);
	if (opts->watch_inodes_max > bpf_map__max_entries(l->skel->maps.watch_inodes))
		bpf_map__set_max_entries(l->skel->maps.watch_inodes, opts->watch_inodes_max);
	ret = probe_hooks(l, err, len);
	if (ret)
		goto err_destroy;
	ret = custos_bpf__load(l->skel);
	if (ret) {
		set_err(err, len,
			"cannot load the BPF programs: %s (run with -v for the verifier log)",
			strerror(-ret));
		goto err_destroy;
	}
	ret = attach_hooks(l, err, len);
	if (ret)
		goto err_detach;
	return l;

err_detach:
	loader_stop(l);
	errno = -ret;
	return NULL;
err_destroy:
	custos_bpf__destroy(l->skel);
err_free:
	free(l);
	errno = -ret;
	return NULL;
}

int loader_seed_open_files(struct loader *l)
{
	struct bpf_program *prog = l->skel->progs.iter__task_file;
	struct bpf_link *link;
	char buf[256];
	size_t i;
	int fd, n;

	for (i = 0; i < l->n_hooks; i++)
		if (l->hooks[i].program == bpf_program__name(prog) && l->hooks[i].why_not)
			return -EOPNOTSUPP;
	link = bpf_program__attach_iter(prog, NULL);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		n = -errno;
		bpf_link__destroy(link);
		return n;
	}
	/* The program writes nothing to read: reading runs it over every task's fds. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	n = n < 0 ? -errno : 0;
	close(fd);
	bpf_link__destroy(link);
	for (i = 0; i < l->n_hooks; i++)
		if (l->hooks[i].program == bpf_program__name(prog))
			l->hooks[i].attached = n == 0;
	return n;
}

static int keep_uprobe_link(struct loader *l, struct bpf_link *link)
{
	if (l->n_uprobes == l->uprobes_cap) {
		size_t cap = l->uprobes_cap ? l->uprobes_cap * 2 : 64;
		struct bpf_link **links = realloc(l->uprobes, cap * sizeof(*links));

		if (!links) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		l->uprobes = links;
		l->uprobes_cap = cap;
	}
	l->uprobes[l->n_uprobes++] = link;
	return 0;
}

/* Uprobes are placed per library: their hook counts as attached once one is placed. */
static void mark_attached(struct loader *l, const struct bpf_program *prog)
{
	size_t i;

	for (i = 0; i < l->n_hooks; i++)
		if (l->hooks[i].program == bpf_program__name(prog))
			l->hooks[i].attached = true;
}

/* One link for all the probes in the file: placed and removed in one go. */
static int attach_uprobe_multi(struct loader *l, struct bpf_program *prog, const char *path,
			       const uint64_t *offsets, const uint64_t *cookies, size_t n,
			       bool at_return)
{
	int fd;

	if (l->n_multi == l->multi_cap) {
		size_t cap = l->multi_cap ? l->multi_cap * 2 : 16;
		int *fds = realloc(l->multi_fds, cap * sizeof(*fds));

		if (!fds)
			return -ENOMEM;
		l->multi_fds = fds;
		l->multi_cap = cap;
	}
	fd = kernel_uprobe_multi_link(bpf_program__fd(prog), path, offsets, cookies, n, at_return);
	if (fd < 0)
		return fd;
	l->multi_fds[l->n_multi++] = fd;
	return 0;
}

static int attach_uprobes(struct loader *l, struct bpf_program *prog, const char *path,
			  const uint64_t *offsets, const uint64_t *cookies, size_t n,
			  bool at_return)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookies[i], .retprobe = at_return);
		/* pid -1: every process that maps the file, now or later. */
		struct bpf_link *link =
		    bpf_program__attach_uprobe_opts(prog, -1, path, offsets[i], &opts);

		if (!link)
			return -errno;
		ret = keep_uprobe_link(l, link);
		if (ret)
			return ret;
	}
	return 0;
}

int loader_attach_db_probes(struct loader *l, const char *path, const uint64_t *offsets,
			    const uint64_t *cookies, size_t n, bool at_return)
{
	struct bpf_program *prog =
	    at_return ? l->skel->progs.uretprobe__db_return : l->skel->progs.uprobe__db_entry;
	int ret;

	if (!n)
		return 0;
	if (l->uprobe_multi)
		ret = attach_uprobe_multi(l, prog, path, offsets, cookies, n, at_return);
	else
		ret = attach_uprobes(l, prog, path, offsets, cookies, n, at_return);
	if (!ret)
		mark_attached(l, prog);
	return ret;
}

#define DETACH_THREADS 32

struct detach_job {
	struct bpf_link **links; /* or */
	int *fds;
	size_t n, first, stride;
};

static void *detach_some(void *arg)
{
	struct detach_job *job = arg;
	size_t i;

	for (i = job->first; i < job->n; i += job->stride) {
		if (job->links)
			bpf_link__destroy(job->links[i]);
		else
			close(job->fds[i]);
	}
	return NULL;
}

/*
 * Each detach waits for RCU grace periods (about 100-200 ms here, per
 * uprobe even more): a hundred links one after the other take half a
 * minute, waiting in parallel shares the grace periods.
 */
static void destroy_links(struct bpf_link **links, int *fds, size_t n)
{
	size_t i, started, threads = n < DETACH_THREADS ? n : DETACH_THREADS;
	struct detach_job jobs[DETACH_THREADS];
	pthread_t tids[DETACH_THREADS];

	for (started = 0; started < threads; started++) {
		jobs[started] = (struct detach_job){links, fds, n, started, threads};
		if (pthread_create(&tids[started], NULL, detach_some, &jobs[started]))
			break;
	}
	for (i = started; i < threads; i++)
		detach_some(&(struct detach_job){links, fds, n, i, threads});
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
}

void loader_stop(struct loader *l)
{
	if (!l)
		return;
	destroy_links(NULL, l->multi_fds, l->n_multi);
	free(l->multi_fds);
	destroy_links(l->uprobes, NULL, l->n_uprobes);
	free(l->uprobes);
	destroy_links(l->links, NULL, l->n_hooks);
	if (l->ring_pages)
		munmap(l->ring_pages, 2 * sysconf(_SC_PAGESIZE));
	custos_bpf__destroy(l->skel);
	free(l);
}

static struct bpf_map *map_of(const struct loader *l, enum loader_map map)
{
	switch (map) {
	case LOADER_MAP_EVENTS:
		return l->skel->maps.events;
	case LOADER_MAP_WATCH_INODES:
		return l->skel->maps.watch_inodes;
	case LOADER_MAP_WATCH_DEVS:
		return l->skel->maps.watch_devs;
	case LOADER_MAP_OPEN_FILES:
		return l->skel->maps.open_files;
	case LOADER_MAP_EXCLUDE_COMMS:
		return l->skel->maps.exclude_comms;
	case LOADER_MAP_EXCLUDE_UIDS:
		return l->skel->maps.exclude_uids;
	case LOADER_MAP_EXCLUDE_EXES:
		return l->skel->maps.exclude_exes;
	case LOADER_MAP_DROPS:
		return l->skel->maps.drops;
	case LOADER_MAP_FILE_READERS:
		return l->skel->maps.file_readers;
	case LOADER_MAP_FILE_WATCH_DIRS:
		return l->skel->maps.file_watch_dirs;
	case LOADER_MAP_COUNT:
		break;
	}
	return NULL;
}

int loader_map_fd(const struct loader *l, enum loader_map map)
{
	return bpf_map__fd(map_of(l, map));
}

uint32_t loader_map_max_entries(const struct loader *l, enum loader_map map)
{
	return bpf_map__max_entries(map_of(l, map));
}

size_t loader_hooks(const struct loader *l, const struct loader_hook **hooks)
{
	*hooks = l->hooks;
	return l->n_hooks;
}

void loader_watches_changed(struct loader *l, uint32_t file_watches, uint32_t comms, uint32_t uids,
			    uint32_t exes)
{
	struct custos_bpf__bss *bss = l->skel->bss;

	__atomic_store_n(&bss->file_watches, file_watches, __ATOMIC_RELAXED);
	__atomic_store_n(&bss->exclude_comm_count, comms, __ATOMIC_RELAXED);
	__atomic_store_n(&bss->exclude_uid_count, uids, __ATOMIC_RELAXED);
	__atomic_store_n(&bss->exclude_exe_count, exes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&bss->verdict_epoch, 1, __ATOMIC_SEQ_CST);
}

/* Bytes in the ring buffer not yet consumed: its producer position less its consumer's. */
uint64_t loader_ring_used(struct loader *l)
{
	long page = sysconf(_SC_PAGESIZE);
	const volatile uint64_t *pos;

	if (!l->ring_pages) {
		void *p = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED,
			       loader_map_fd(l, LOADER_MAP_EVENTS), 0);

		if (p == MAP_FAILED)
			return 0;
		l->ring_pages = p;
	}
	pos = l->ring_pages;
	return pos[page / sizeof(*pos)] - pos[0];
}

int loader_nr_cpus(const struct loader *l)
{
	return l->nr_cpus;
}

int loader_read_drops(const struct loader *l, struct custos_drops *sum, uint64_t *ring_by_cpu)
{
	struct custos_drops *per_cpu;
	uint32_t zero = 0;
	int cpu, ret;
	size_t i;

	per_cpu = calloc(l->nr_cpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(loader_map_fd(l, LOADER_MAP_DROPS), &zero, per_cpu);
	if (ret) {
		ret = -errno;
		goto out_free;
	}
	memset(sum, 0, sizeof(*sum));
	for (cpu = 0; cpu < l->nr_cpus; cpu++) {
		for (i = 0; i < CUSTOS_REC_TYPE_MAX; i++)
			sum->ringbuf_full[i] += per_cpu[cpu].ringbuf_full[i];
		sum->path_unreadable += per_cpu[cpu].path_unreadable;
		if (ring_by_cpu) {
			ring_by_cpu[cpu] = 0;
			for (i = 0; i < CUSTOS_REC_TYPE_MAX; i++)
				ring_by_cpu[cpu] += per_cpu[cpu].ringbuf_full[i];
		}
	}
out_free:
	free(per_cpu);
	return ret;
}
