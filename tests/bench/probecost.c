// SPDX-License-Identifier: GPL-2.0
/*
 * What the database part of custos-bench (dbbench.c) needs to split a
 * statement's overhead into probe hits and the rest:
 *
 *   the price of a hit   the empty programs of probecost.bpf.c on a trivial
 *                        function of the bench, called in a loop without a
 *                        probe, with an entry probe, a return probe, both
 *   the agent's hits     the programs behind its database probes, found
 *                        through /proc/PID/fdinfo, and their run_cnt (every
 *                        invocation, that is every hit) and run_time_ns,
 *                        counted while BPF_STATS_RUN_TIME is on
 *   the agent's sites    its uprobe_multi links (library, offsets, entry or
 *                        return), read from the kernel, for the empty
 *                        programs to be attached at the same places, in the
 *                        bench alone, while no agent runs
 *
 * The hit's price depends on the probed function's first instruction: on
 * x86-64 the kernel emulates a few (push, jmp, call, nop) and executes the
 * others out of line, single-stepping a copy: a second trap. Hence two
 * trivial functions there, one of each kind.
 */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "kernel/elfsym.h"
#include "kernel/kernel.h"
#include "probecost.skel.h"
#include "bench.h"

#define PRICE_LOOP_NS 100000000ULL /* each timed loop of a trivial function: about 100 ms */
#define PRICE_BATCH   1000	   /* calls between two looks at the clock */
#define PRICE_WARM    1000	   /* calls before timing: the first hit maps the kernel's page */
#define PRICE_CYCLES  3		   /* of the four loops, interleaved; the median of each */
#define OFFSETS_MAX   256	   /* offsets in one of the agent's links */

/* enum bpf_link_type and struct bpf_link_info of Linux 6.8, newer than Debian 12's uapi headers. */
#define LINK_TYPE_UPROBE_MULTI 12
struct link_info_uprobe_multi {
	uint32_t type, id, prog_id, pad;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t path_size, count, flags, pid;
};

/* BPF_LINK_CREATE for uprobe_multi (as user/kernel/kernel.c), limited to one process. */
struct link_create_uprobe_multi {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, uprobe_flags, pid;
};

#if defined(__x86_64__)
/*
 * Two trivial functions that differ in their first instruction only: push
 * %rbp, which the kernel emulates (in Debian 12's libraries PQexec,
 * PQgetResult, sqlite3_step and sqlite3_finalize begin with a push), and
 * lea, which it single-steps out of line, as any instruction it does not
 * emulate (sqlite3_prepare_v2 begins with a sub, PQsendQuery with a mov).
 * In assembly: a compiler would choose its own.
 */
int bench_target_push(int x);
int bench_target_lea(int x);
__asm__(".pushsection .text\n"
	".globl bench_target_push\n"
	".type bench_target_push, @function\n"
	"bench_target_push:\n"
	"	push %rbp\n"
	"	mov %rsp, %rbp\n"
	"	lea 1(%rdi), %eax\n"
	"	pop %rbp\n"
	"	ret\n"
	".size bench_target_push, .-bench_target_push\n"
	".globl bench_target_lea\n"
	".type bench_target_lea, @function\n"
	"bench_target_lea:\n"
	"	lea 1(%rdi), %eax\n"
	"	ret\n"
	".size bench_target_lea, .-bench_target_lea\n"
	".popsection\n");
#else
int bench_target_c(int x);
__attribute__((noinline)) int bench_target_c(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}
#endif

static const struct {
	const char *symbol, *label;
	int (*fn)(int);
} targets[] = {
#if defined(__x86_64__)
    {"bench_target_push", "push %rbp (emulated)", bench_target_push},
    {"bench_target_lea", "lea (stepped out of line)", bench_target_lea},
#else
    {"bench_target_c", "a C function", bench_target_c},
#endif
};
_Static_assert(sizeof(targets) / sizeof(targets[0]) <= PRICE_TARGETS_MAX, "too many targets");

struct probecost {
	struct probecost_bpf *skel;
	char exe[PATH_MAX];
	uint64_t offsets[PRICE_TARGETS_MAX]; /* of the targets, in exe */
	struct prog_set own;		     /* the empty programs, to count their hits */
	int copy[SITES_MAX];		     /* the links of the copy of the agent's sites */
	size_t n_copy;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* A uprobe_multi link of prog at n offsets of path, for this process only; an fd or -errno. */
static int link_uprobes(int prog_fd, const char *path, const uint64_t *offsets, uint32_t n,
			bool at_return)
{
	struct link_create_uprobe_multi attr = {
	    .prog_fd = prog_fd,
	    .attach_type = KERNEL_ATTACH_UPROBE_MULTI,
	    .path = (uintptr_t)path,
	    .offsets = (uintptr_t)offsets,
	    .cnt = n,
	    .uprobe_flags = at_return ? KERNEL_UPROBE_MULTI_RETURN : 0,
	    .pid = getpid(),
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));

	return fd < 0 ? -errno : fd;
}

int probecost_targets(void)
{
	return sizeof(targets) / sizeof(targets[0]);
}

const char *probecost_label(int t)
{
	return targets[t].label;
}

struct probecost *probecost_open(void)
{
	const char *names[PRICE_TARGETS_MAX];
	struct probecost *p = calloc(1, sizeof(*p));
	ssize_t len;
	int t, err;

	if (!p)
		return NULL;
	p->own.n[0] = p->own.n[1] = 1;
	p->own.fd[0][0] = p->own.fd[1][0] = -1;
	len = readlink("/proc/self/exe", p->exe, sizeof(p->exe) - 1);
	if (len < 0) {
		fprintf(stderr, "custos-bench: /proc/self/exe: %s\n", strerror(errno));
		goto free_probecost;
	}
	p->exe[len] = '\0';
	for (t = 0; t < probecost_targets(); t++)
		names[t] = targets[t].symbol;
	err = elfsym_find(p->exe, names, probecost_targets(), p->offsets);
	if (err != probecost_targets()) {
		fprintf(stderr, "custos-bench: %s: the trivial functions' symbols: %s\n", p->exe,
			err < 0 ? strerror(-err) : "not found");
		goto free_probecost;
	}
	libbpf_set_print(quiet);
	p->skel = probecost_bpf__open();
	if (!p->skel) {
		fprintf(stderr, "custos-bench: cannot open the empty probes: %s\n",
			strerror(errno));
		goto free_probecost;
	}
	/* As the agent's database programs where the kernel has uprobe_multi links (Linux 6.6). */
	bpf_program__set_expected_attach_type(p->skel->progs.probe_entry,
					      KERNEL_ATTACH_UPROBE_MULTI);
	bpf_program__set_expected_attach_type(p->skel->progs.probe_return,
					      KERNEL_ATTACH_UPROBE_MULTI);
	err = probecost_bpf__load(p->skel);
	if (err) {
		fprintf(stderr, "custos-bench: cannot load the empty probes: %s\n", strerror(-err));
		goto destroy_skel;
	}
	p->own.fd[0][0] = bpf_program__fd(p->skel->progs.probe_entry);
	p->own.fd[1][0] = bpf_program__fd(p->skel->progs.probe_return);
	return p;

destroy_skel:
	probecost_bpf__destroy(p->skel);
free_probecost:
	free(p);
	return NULL;
}

void probecost_close(struct probecost *p)
{
	if (!p)
		return;
	probecost_uncopy(p);
	probecost_bpf__destroy(p->skel);
	free(p);
}

const struct prog_set *probecost_progs(const struct probecost *p)
{
	return &p->own;
}

/* ns per call of fn, over about PRICE_LOOP_NS. */
static double loop_ns(int (*fn)(int))
{
	volatile int sink = 0;
	uint64_t t0, t;
	long calls = 0, i;

	for (i = 0; i < PRICE_WARM; i++)
		sink += fn(i);
	t0 = now_ns();
	do {
		for (i = 0; i < PRICE_BATCH; i++)
			sink += fn(i);
		calls += PRICE_BATCH;
		t = now_ns() - t0;
	} while (t < PRICE_LOOP_NS);
	return (double)t / calls;
}

/* One cycle: without a probe, with the entry probe, with both, with the return probe. */
static int price_once(struct probecost *p, int t, double ns[PRICES])
{
	int entry = bpf_program__fd(p->skel->progs.probe_entry);
	int ret = bpf_program__fd(p->skel->progs.probe_return);
	int e = -1, r = -1, err = 0;

	ns[PRICE_CALL] = loop_ns(targets[t].fn);
	e = link_uprobes(entry, p->exe, &p->offsets[t], 1, false);
	if (e < 0) {
		err = e;
		goto close_links;
	}
	ns[PRICE_ENTRY] = loop_ns(targets[t].fn) - ns[PRICE_CALL];
	r = link_uprobes(ret, p->exe, &p->offsets[t], 1, true);
	if (r < 0) {
		err = r;
		goto close_links;
	}
	ns[PRICE_BOTH] = loop_ns(targets[t].fn) - ns[PRICE_CALL];
	close(e);
	e = -1;
	ns[PRICE_RETURN] = loop_ns(targets[t].fn) - ns[PRICE_CALL];
close_links:
	if (e >= 0)
		close(e);
	if (r >= 0)
		close(r);
	return err;
}

int probecost_price(struct probecost *p, int t, double ns[PRICES])
{
	double v[PRICES][PRICE_CYCLES], once[PRICES];
	int c, k, err;

	for (c = 0; c < PRICE_CYCLES; c++) {
		err = price_once(p, t, once);
		if (err)
			return err;
		for (k = 0; k < PRICES; k++)
			v[k][c] = once[k];
	}
	for (k = 0; k < PRICES; k++)
		ns[k] = median(v[k], PRICE_CYCLES);
	return 0;
}

int probecost_copy(struct probecost *p, const struct probe_sites *sites)
{
	size_t i;
	int fd;

	probecost_uncopy(p);
	/* Return probes first, as the agent: a call seen entering is then seen returning. */
	for (i = 0; i < sites->n; i++) {
		const struct probe_site *s = &sites->s[i];

		if (!s->at_return)
			continue;
		fd = link_uprobes(p->own.fd[1][0], s->path, s->offsets, s->n, true);
		if (fd < 0)
			goto undo;
		p->copy[p->n_copy++] = fd;
	}
	for (i = 0; i < sites->n; i++) {
		const struct probe_site *s = &sites->s[i];

		if (s->at_return)
			continue;
		fd = link_uprobes(p->own.fd[0][0], s->path, s->offsets, s->n, false);
		if (fd < 0)
			goto undo;
		p->copy[p->n_copy++] = fd;
	}
	return 0;

undo:
	fprintf(stderr, "custos-bench: cannot copy the agent's probes on %s: %s\n",
		sites->s[i].path, strerror(-fd));
	probecost_uncopy(p);
	return fd;
}

void probecost_uncopy(struct probecost *p)
{
	while (p->n_copy)
		close(p->copy[--p->n_copy]);
}

/* ---- the agent's probes ----------------------------------------------------------------- */

/* The number after "key:\t" in an fdinfo's text, or 0. */
static uint32_t fdinfo_u32(const char *text, const char *key)
{
	const char *s = strstr(text, key);

	return s ? strtoul(s + strlen(key), NULL, 10) : 0;
}

/* Adds program id to progs if it is one of the database probes' (by name); ignores others. */
static void add_prog(struct prog_set *progs, uint32_t id)
{
	struct bpf_prog_info info = {0};
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), side, i;

	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto close_fd;
	/* uprobe__db_entry, uretprobe__db_return, and the compat object's one per function. */
	if (!strncmp(info.name, "uprobe__db", 10))
		side = 0;
	else if (!strncmp(info.name, "uretprobe__db", 13))
		side = 1;
	else
		goto close_fd;
	for (i = 0; i < progs->n[side]; i++) {
		struct bpf_prog_info seen = {0};
		uint32_t seen_len = sizeof(seen);

		if (!bpf_obj_get_info_by_fd(progs->fd[side][i], &seen, &seen_len) && seen.id == id)
			goto close_fd;
	}
	if (progs->n[side] == PROG_SET_MAX)
		goto close_fd;
	progs->fd[side][progs->n[side]++] = fd;
	return;

close_fd:
	close(fd);
}

/* Adds the sites of uprobe_multi link id; -errno if they cannot be read. */
static int add_sites(struct probe_sites *sites, uint32_t id)
{
	struct link_info_uprobe_multi info = {0};
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	uint64_t *offsets;
	int fd, err = 0;

	if (sites->n == SITES_MAX)
		return -ENOSPC;
	fd = bpf_link_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	offsets = calloc(OFFSETS_MAX, sizeof(*offsets));
	if (!offsets) {
		err = -ENOMEM;
		goto close_fd;
	}
	info.path = (uintptr_t)path;
	info.path_size = sizeof(path);
	info.offsets = (uintptr_t)offsets;
	info.count = OFFSETS_MAX;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		goto free_offsets;
	}
	if (info.type != LINK_TYPE_UPROBE_MULTI || !info.count || !info.path_size) {
		err = -EINVAL;
		goto free_offsets;
	}
	path[sizeof(path) - 1] = '\0';
	sites->s[sites->n].path = strdup(path);
	if (!sites->s[sites->n].path) {
		err = -ENOMEM;
		goto free_offsets;
	}
	sites->s[sites->n].offsets = offsets;
	sites->s[sites->n].n = info.count;
	sites->s[sites->n].at_return = info.flags & KERNEL_UPROBE_MULTI_RETURN;
	sites->n++;
	goto close_fd;

free_offsets:
	free(offsets);
close_fd:
	close(fd);
	return err;
}

int agent_probes_find(pid_t pid, struct prog_set *progs, struct probe_sites *sites)
{
	char path[300], text[4096];
	struct dirent *e;
	int err = 0, sites_err = 0;
	ssize_t n;
	DIR *dir;
	FILE *f;

	memset(progs, 0, sizeof(*progs));
	memset(sites, 0, sizeof(*sites));
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n > 0 ? n : 0] = '\0';
		/* A program's fd, or a link's (which names its program too). */
		if (fdinfo_u32(text, "prog_id:\t"))
			add_prog(progs, fdinfo_u32(text, "prog_id:\t"));
		/* Linux 6.18 names the return links uretprobe_multi; 6.8 both uprobe_multi. */
		if (strstr(text, "link_type:\tuprobe_multi\n") ||
		    strstr(text, "link_type:\turetprobe_multi\n")) {
			err = add_sites(sites, fdinfo_u32(text, "link_id:\t"));
			if (err && !sites_err)
				sites_err = err;
		}
	}
	closedir(dir);
	return sites_err;
}

void progs_read(const struct prog_set *progs, struct prog_counts *c)
{
	int side, i;

	memset(c, 0, sizeof(*c));
	for (side = 0; side < 2; side++)
		for (i = 0; i < progs->n[side]; i++) {
			struct bpf_prog_info info = {0};
			uint32_t len = sizeof(info);

			if (bpf_obj_get_info_by_fd(progs->fd[side][i], &info, &len))
				continue;
			c->hits[side] += info.run_cnt;
			c->run_ns += info.run_time_ns;
		}
}

void progs_free(struct prog_set *progs)
{
	int side, i;

	for (side = 0; side < 2; side++) {
		for (i = 0; i < progs->n[side]; i++)
			close(progs->fd[side][i]);
		progs->n[side] = 0;
	}
}

void probe_sites_free(struct probe_sites *sites)
{
	size_t i;

	for (i = 0; i < sites->n; i++) {
		free(sites->s[i].path);
		free(sites->s[i].offsets);
	}
	sites->n = 0;
}
