// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/proc.h"

#define PROC_FILE_MAX 65536

void proc_table_init(struct proc_table *t)
{
	memset(t, 0, sizeof(*t));
	t->proc_root = "/proc";
}

static void proc_info_free(struct proc_info *p)
{
	if (!p)
		return;
	free(p->exe);
	free(p->args);
	free(p->container_id);
	free(p);
}

void proc_table_free(struct proc_table *t)
{
	void *value;
	size_t i = 0;

	while (hashmap_next(&t->by_tgid, &i, NULL, &value))
		proc_info_free(value);
	hashmap_clear(&t->by_tgid);
	i = 0;
	while (hashmap_next(&t->cgroups, &i, NULL, &value))
		free(value);
	hashmap_clear(&t->cgroups);
	free(t->cgroup2_root);
}

static char *memdup(const void *p, size_t len)
{
	char *out = malloc(len + 1);

	if (out) {
		memcpy(out, p, len);
		out[len] = '\0';
	}
	return out;
}

/* Reads a whole small /proc file; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)total < cap && (n = read(fd, buf + total, cap - total)) > 0)
		total += n;
	close(fd);
	return total;
}

bool proc_container_id(const char *path, char out[65])
{
	const char *p;

	/* Runtimes name the cgroup after the id: docker-<id>.scope, /docker/<id>,
	 * cri-containerd-<id>... */
	for (p = path; *p; p++) {
		size_t n = 0;

		if (p != path && isxdigit((unsigned char)p[-1]))
			continue;
		while (n < 65 && p[n] && isxdigit((unsigned char)p[n]) &&
		       !isupper((unsigned char)p[n]))
			n++;
		if (n == 64) {
			memcpy(out, p, 64);
			out[64] = '\0';
			return true;
		}
	}
	return false;
}

static char *read_container_id(const struct proc_table *t, uint32_t tgid)
{
	char path[64], *buf, *line, *save = NULL, id[65];
	char *result = NULL;
	ssize_t n;

	buf = malloc(PROC_FILE_MAX + 1);
	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "%s/%u/cgroup", t->proc_root, tgid);
	n = read_small(path, buf, PROC_FILE_MAX);
	if (n > 0) {
		buf[n] = '\0';
		for (line = strtok_r(buf, "\n", &save); line && !result;
		     line = strtok_r(NULL, "\n", &save)) {
			char *cg = strchr(line, ':');

			cg = cg ? strchr(cg + 1, ':') : NULL;
			if (cg && proc_container_id(cg + 1, id))
				result = strdup(id);
		}
	}
	free(buf);
	return result;
}

/* Start time of a running process (boottime ns, clock-tick precision), or 0. */
static uint64_t read_start_ns(const struct proc_table *t, uint32_t tgid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	ssize_t n;
	int i;

	snprintf(path, sizeof(path), "%s/%u/stat", t->proc_root, tgid);
	n = read_small(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the name may contain anything */
	if (!p)
		return 0;
	/* Field 22 is starttime; after ") " comes field 3. */
	for (i = 3, p += 2; i < 22 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%llu", &ticks) != 1)
		return 0;
	return ticks * (1000000000ULL / sysconf(_SC_CLK_TCK));
}

static bool same_start(uint64_t a, uint64_t b)
{
	uint64_t tick = 1000000000ULL / sysconf(_SC_CLK_TCK);

	return a > b ? a - b <= tick : b - a <= tick;
}

static void read_from_proc(const struct proc_table *t, struct proc_info *p)
{
	char path[64], *buf;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/exe", t->proc_root, p->tgid);
	buf = malloc(PATH_MAX);
	if (!buf)
		return;
	n = readlink(path, buf, PATH_MAX);
	if (n > 0) {
		p->exe = memdup(buf, n);
		p->exe_len = n;
	}
	free(buf);
	buf = malloc(PROC_FILE_MAX);
	if (!buf)
		return;
	snprintf(path, sizeof(path), "%s/%u/cmdline", t->proc_root, p->tgid);
	n = read_small(path, buf, PROC_FILE_MAX);
	if (n > 0) {
		p->args = memdup(buf, n);
		p->args_len = n;
	}
	free(buf);
	p->container_id = read_container_id(t, p->tgid);
}

static void copy_from(const struct proc_info *parent, struct proc_info *p)
{
	if (parent->exe) {
		p->exe = memdup(parent->exe, parent->exe_len);
		p->exe_len = p->exe ? parent->exe_len : 0;
	}
	if (parent->args) {
		p->args = memdup(parent->args, parent->args_len);
		p->args_len = p->args ? parent->args_len : 0;
		p->args_truncated = parent->args_truncated;
		p->args_scrubbed = parent->args_scrubbed;
	}
	if (parent->container_id)
		p->container_id = strdup(parent->container_id);
}

static struct proc_info *proc_new(struct proc_table *t, uint32_t tgid, uint64_t start_ns)
{
	struct proc_info *p = calloc(1, sizeof(*p)), *old = NULL;

	if (!p)
		return NULL;
	p->tgid = tgid;
	p->start_ns = start_ns;
	p->generation = ++t->generations;
	if (hashmap_put(&t->by_tgid, tgid, p, (void **)&old)) {
		free(p);
		return NULL;
	}
	proc_info_free(old);
	return p;
}

const struct proc_info *proc_get(struct proc_table *t, uint32_t tgid, uint64_t start_ns,
				 uint32_t ppid)
{
	struct proc_info *p = hashmap_get(&t->by_tgid, tgid), *parent;

	if (p && same_start(p->start_ns, start_ns))
		return p;
	p = proc_new(t, tgid, start_ns);
	if (!p)
		return NULL;
	if (same_start(read_start_ns(t, tgid), start_ns)) {
		read_from_proc(t, p);
		return p;
	}
	/* Gone already, and forked without exec (else its exec was recorded): the parent's. */
	parent = hashmap_get(&t->by_tgid, ppid);
	if (parent && parent->start_ns <= start_ns)
		copy_from(parent, p);
	return p;
}

void proc_scrub_args(struct proc_table *t, uint32_t tgid, uint64_t start_ns, char *args,
		     size_t args_len)
{
	struct proc_info *p = hashmap_get(&t->by_tgid, tgid);

	if (!p || !same_start(p->start_ns, start_ns)) {
		free(args);
		return;
	}
	free(p->args);
	p->args = args;
	p->args_len = args_len;
	p->args_scrubbed = true;
	p->generation = ++t->generations;
}

const struct proc_info *proc_parent(struct proc_table *t, uint32_t ppid, uint64_t start_ns)
{
	const struct proc_info *p = hashmap_get(&t->by_tgid, ppid);

	return p && p->start_ns <= start_ns ? p : NULL;
}

void proc_exec(struct proc_table *t, uint32_t tgid, uint64_t start_ns, const char *exe,
	       size_t exe_len, const char *args, size_t args_len, bool args_truncated)
{
	struct proc_info *prev = hashmap_get(&t->by_tgid, tgid);
	char *container = NULL;
	struct proc_info *p;

	if (prev && same_start(prev->start_ns, start_ns) && prev->container_id)
		container = strdup(prev->container_id);
	else
		container = read_container_id(t, tgid);
	p = proc_new(t, tgid, start_ns);
	if (!p) {
		free(container);
		return;
	}
	p->container_id = container;
	p->exe = memdup(exe, exe_len);
	p->exe_len = p->exe ? exe_len : 0;
	if (args_len) {
		p->args = memdup(args, args_len);
		p->args_len = p->args ? args_len : 0;
	}
	p->args_truncated = args_truncated;
}

void proc_exit(struct proc_table *t, uint32_t tgid, uint64_t now_ns)
{
	struct proc_info *p = hashmap_get(&t->by_tgid, tgid);

	if (p)
		p->exited_ns = now_ns ?: 1;
}

void proc_gc(struct proc_table *t, uint64_t now_ns, uint64_t keep_ns)
{
	struct proc_info *p;
	uint64_t tgid;
	size_t i = 0;

	while (hashmap_next(&t->by_tgid, &i, &tgid, (void **)&p)) {
		if (p->exited_ns && p->exited_ns + keep_ns < now_ns) {
			hashmap_remove(&t->by_tgid, tgid);
			proc_info_free(p);
		}
	}
}

void proc_seed(struct proc_table *t)
{
	struct dirent *de;
	DIR *dir = opendir(t->proc_root);

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long tgid = strtoul(de->d_name, &end, 10);
		uint64_t start;
		struct proc_info *p;

		if (*end || end == de->d_name || hashmap_get(&t->by_tgid, tgid))
			continue;
		start = read_start_ns(t, tgid);
		if (!start)
			continue;
		p = proc_new(t, tgid, start);
		if (p)
			read_from_proc(t, p);
	}
	closedir(dir);
	proc_cgroup_container(t, 0, 0);
}

void proc_cgroup_learn(struct proc_table *t, uint64_t cgroup_id, const char *path)
{
	char id[65], *value = strdup(proc_container_id(path, id) ? id : "");
	void *old = NULL;

	if (!value || hashmap_put(&t->cgroups, cgroup_id, value, &old)) {
		free(value);
		return;
	}
	free(old);
}

static char *find_cgroup2_root(void)
{
	char *line = NULL, mnt[4096], *root = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return NULL;
	while (!root && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - ");

		if (sep && !strncmp(sep, " - cgroup2 ", 11) &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			root = strdup(mnt);
	}
	free(line);
	fclose(f);
	return root;
}

/* nftw has no context argument. */
static struct proc_table *scanning;

static int learn_cgroup_dir(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct {
		struct file_handle h;
		unsigned char bytes[64];
	} fh = {.h.handle_bytes = sizeof(fh.bytes)};
	size_t root_len = strlen(scanning->cgroup2_root);
	uint64_t id;
	int mount_id;

	if (type != FTW_D || name_to_handle_at(AT_FDCWD, path, &fh.h, &mount_id, 0) ||
	    fh.h.handle_bytes < sizeof(id))
		return 0;
	/* A kernfs file handle is the node id, which is the cgroup id. */
	memcpy(&id, fh.h.f_handle, sizeof(id));
	if (!hashmap_get(&scanning->cgroups, id))
		proc_cgroup_learn(scanning, id, path + root_len);
	return 0;
}

const char *proc_cgroup_container(struct proc_table *t, uint64_t cgroup_id, int64_t now_ns)
{
	const char *id = cgroup_id ? hashmap_get(&t->cgroups, cgroup_id) : NULL;

	if (!id && (!t->cgroups_scanned_ns || now_ns - t->cgroups_scanned_ns > 1000000000LL)) {
		if (!t->cgroup2_root)
			t->cgroup2_root = find_cgroup2_root();
		t->cgroups_scanned_ns = now_ns ?: 1;
		if (t->cgroup2_root) {
			scanning = t;
			nftw(t->cgroup2_root, learn_cgroup_dir, 16, FTW_PHYS | FTW_MOUNT);
			scanning = NULL;
		}
		id = cgroup_id ? hashmap_get(&t->cgroups, cgroup_id) : NULL;
		if (!id && cgroup_id)
			proc_cgroup_learn(t, cgroup_id,
					  ""); /* gone already: do not scan for it again */
	}
	return id && *id ? id : NULL;
}
