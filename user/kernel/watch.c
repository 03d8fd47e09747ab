// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fts.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <bpf/bpf.h>

#include "kernel/watch.h"

#define MOUNTINFO	"/proc/self/mountinfo"
#define ALL_RULES	(~0ULL)
#define LINKED_WALK_MAX 200000 /* names visited looking for hard-linked files */

uint32_t watch_kernel_dev(dev_t dev)
{
	return (major(dev) << 20) | minor(dev);
}

static int grow(void **array, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n < *cap)
		return 0;
	*cap = *cap ? *cap * 2 : 16;
	p = realloc(*array, *cap * size);
	if (!p)
		return -ENOMEM;
	*array = p;
	return 0;
}

struct builder {
	struct watch_set *set;
	size_t items_cap, exes_cap, comms_cap, uids_cap, warnings_cap, file_dirs_cap, endpoints_cap,
	    unix_cap;
	/* Watched directories as real paths, to find mounts below them. */
	struct {
		char *path;
		uint32_t rule;
	} * dirs;
	size_t n_dirs, dirs_cap;
};

static int warn(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int warn(struct builder *b, const char *fmt, ...)
{
	struct watch_set *set = b->set;
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (grow((void **)&set->warnings, &b->warnings_cap, set->n_warnings, sizeof(char *))) {
		free(msg);
		return -ENOMEM;
	}
	set->warnings[set->n_warnings++] = msg;
	return 0;
}

static int add_item(struct builder *b, const struct stat *st, uint32_t rule, const char *path)
{
	struct watch_set *set = b->set;
	struct watch_item *item;

	if (grow((void **)&set->items, &b->items_cap, set->n_items, sizeof(*item)))
		return -ENOMEM;
	item = &set->items[set->n_items];
	item->path = strdup(path);
	if (!item->path)
		return -ENOMEM;
	item->ino = st->st_ino;
	item->dev = watch_kernel_dev(st->st_dev);
	item->rule = rule;
	item->kind = S_ISDIR(st->st_mode) ? CUSTOS_WATCH_DIR : CUSTOS_WATCH_FILE;
	set->n_items++;
	return 0;
}

static int add_dir(struct builder *b, const char *real, uint32_t rule)
{
	if (grow((void **)&b->dirs, &b->dirs_cap, b->n_dirs, sizeof(*b->dirs)))
		return -ENOMEM;
	b->dirs[b->n_dirs].path = strdup(real);
	if (!b->dirs[b->n_dirs].path)
		return -ENOMEM;
	b->dirs[b->n_dirs++].rule = rule;
	return 0;
}

/* Records the directory of a watched file, where a change by name may name it. */
static int add_file_dir(struct builder *b, const char *file)
{
	struct watch_set *set = b->set;
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');
	struct stat st;

	if (!slash || (size_t)(slash - file) >= sizeof(dir))
		return 0;
	memcpy(dir, file, slash - file);
	dir[slash - file] = '\0';
	if (stat(dir[0] ? dir : "/", &st))
		return 0;
	if (grow((void **)&set->file_dirs, &b->file_dirs_cap, set->n_file_dirs,
		 sizeof(*set->file_dirs)))
		return -ENOMEM;
	set->file_dirs[set->n_file_dirs].ino = st.st_ino;
	set->file_dirs[set->n_file_dirs++].dev = watch_kernel_dev(st.st_dev);
	return 0;
}

static bool has_glob_magic(const char *p)
{
	return strpbrk(p, "*?[") != NULL;
}

/* Calls fn for each existing path the pattern names; returns how many, or -errno. */
static int expand(const char *pattern, int (*fn)(struct builder *, const char *, void *),
		  struct builder *b, void *arg)
{
	glob_t g = {0};
	int ret = 0, err;
	size_t i;

	if (!has_glob_magic(pattern))
		return fn(b, pattern, arg) ?: 1;
	err = glob(pattern, GLOB_NOSORT, NULL, &g);
	if (err == GLOB_NOMATCH)
		return 0;
	if (err)
		return err == GLOB_NOSPACE ? -ENOMEM : 0;
	for (i = 0; i < g.gl_pathc && ret >= 0; i++)
		ret = fn(b, g.gl_pathv[i], arg);
	ret = ret < 0 ? ret : (int)g.gl_pathc;
	globfree(&g);
	return ret;
}

struct rule_ctx {
	uint32_t rule;
	const char *name;
};

static int add_watched_path(struct builder *b, const char *path, void *arg)
{
	struct rule_ctx *r = arg;
	char real[PATH_MAX];
	struct stat st;

	if (stat(path, &st))
		return warn(b,
			    "watch \"%s\": %s: %s (not watched until it exists and is rescanned)",
			    r->name, path, strerror(errno));
	if (!realpath(path, real))
		snprintf(real, sizeof(real), "%s", path);
	if (add_item(b, &st, r->rule, real))
		return -ENOMEM;
	if (S_ISDIR(st.st_mode))
		return add_dir(b, real, r->rule);
	return add_file_dir(b, real);
}

static bool path_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/' && path[1] != '\0';
	return !strncmp(path, dir, n) && path[n] == '/';
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_octal(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/*
 * The kernel's ancestor walk stays within one filesystem, so the root of
 * every filesystem mounted below a watched directory is watched too.
 */
static int add_mounts_below(struct builder *b)
{
	char *line = NULL, mnt[PATH_MAX];
	size_t cap = 0, i;
	int ret = 0;
	FILE *f;

	if (!b->n_dirs)
		return 0;
	f = fopen(MOUNTINFO, "re");
	if (!f)
		return warn(b, "cannot read %s: %s (mounts below watched directories not watched)",
			    MOUNTINFO, strerror(errno));
	while (ret == 0 && getline(&line, &cap, f) > 0) {
		struct stat st;

		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape_octal(mnt);
		for (i = 0; i < b->n_dirs && ret == 0; i++) {
			if (!path_below(mnt, b->dirs[i].path) || stat(mnt, &st))
				continue;
			ret = add_item(b, &st, b->dirs[i].rule, mnt);
		}
	}
	free(line);
	fclose(f);
	return ret;
}

static bool is_watched_dir(const struct builder *b, const char *path)
{
	size_t i;

	for (i = 0; i < b->n_dirs; i++)
		if (!strcmp(b->dirs[i].path, path))
			return true;
	return false;
}

/*
 * A file with another name outside every watched tree is recognized in the
 * kernel through its watched name only while that name is in the dentry
 * cache: watch such files (two or more links) by inode too, under the rule
 * of the nearest watched directory. The walk runs at every rescan, so it is
 * bounded.
 */
static int add_linked_files(struct builder *b)
{
	size_t i, visited = 0;
	int ret = 0;

	for (i = 0; i < b->n_dirs && ret == 0 && visited <= LINKED_WALK_MAX; i++) {
		char *roots[] = {b->dirs[i].path, NULL};
		FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
		FTSENT *e;

		while (fts && ret == 0 && (e = fts_read(fts)) && ++visited <= LINKED_WALK_MAX) {
			if (e->fts_info == FTS_D && e->fts_level > 0 &&
			    is_watched_dir(b, e->fts_path))
				fts_set(fts, e, FTS_SKIP); /* walked under its own rule */
			else if (e->fts_info == FTS_F && e->fts_statp->st_nlink > 1)
				ret = add_item(b, e->fts_statp, b->dirs[i].rule, e->fts_path);
		}
		if (fts)
			fts_close(fts);
	}
	if (ret == 0 && visited > LINKED_WALK_MAX)
		ret =
		    warn(b,
			 "more than %d names below the watched directories: a file beyond them "
			 "with a hard link elsewhere is recognized only while its watched name is "
			 "cached",
			 LINKED_WALK_MAX);
	return ret;
}

static int exclude_comm(struct builder *b, const char *comm, uint64_t mask)
{
	struct watch_set *set = b->set;
	size_t i;

	for (i = 0; i < set->n_comms; i++) {
		if (!strncmp(set->comms[i].comm, comm, CUSTOS_COMM_LEN)) {
			set->comms[i].mask |= mask;
			return 0;
		}
	}
	if (grow((void **)&set->comms, &b->comms_cap, set->n_comms, sizeof(*set->comms)))
		return -ENOMEM;
	memset(&set->comms[set->n_comms], 0, sizeof(set->comms[0]));
	strncpy(set->comms[set->n_comms].comm, comm, CUSTOS_COMM_LEN - 1);
	set->comms[set->n_comms++].mask = mask;
	return 0;
}

static int exclude_uid(struct builder *b, uint32_t uid, uint64_t mask)
{
	struct watch_set *set = b->set;
	size_t i;

	for (i = 0; i < set->n_uids; i++) {
		if (set->uids[i].uid == uid) {
			set->uids[i].mask |= mask;
			return 0;
		}
	}
	if (grow((void **)&set->uids, &b->uids_cap, set->n_uids, sizeof(*set->uids)))
		return -ENOMEM;
	set->uids[set->n_uids].uid = uid;
	set->uids[set->n_uids++].mask = mask;
	return 0;
}

static int exclude_exe(struct builder *b, const char *path, void *arg)
{
	struct watch_set *set = b->set;
	uint64_t mask = *(uint64_t *)arg;
	struct stat st;
	uint32_t dev;
	size_t i;

	if (stat(path, &st))
		return 0; /* an absent program cannot run: nothing to exclude */
	dev = watch_kernel_dev(st.st_dev);
	for (i = 0; i < set->n_exes; i++) {
		if (set->exes[i].dev == dev && set->exes[i].ino == st.st_ino) {
			set->exes[i].mask |= mask;
			return 0;
		}
	}
	if (grow((void **)&set->exes, &b->exes_cap, set->n_exes, sizeof(*set->exes)))
		return -ENOMEM;
	set->exes[set->n_exes].dev = dev;
	set->exes[set->n_exes].ino = st.st_ino;
	set->exes[set->n_exes++].mask = mask;
	return 0;
}

static int add_exclusions(struct builder *b, const struct config_exclude *ex, uint64_t mask)
{
	size_t i;
	int ret;

	for (i = 0; i < ex->n_comms; i++)
		if ((ret = exclude_comm(b, ex->comms[i], mask)))
			return ret;
	for (i = 0; i < ex->n_uids; i++)
		if ((ret = exclude_uid(b, ex->uids[i], mask)))
			return ret;
	for (i = 0; i < ex->n_exes; i++)
		if ((ret = expand(ex->exes[i], exclude_exe, b, &mask)) < 0)
			return ret;
	return 0;
}

static int item_cmp(const void *a, const void *b)
{
	const struct watch_item *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static int dir_cmp(const void *a, const void *b)
{
	const struct watch_dir *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void sort_unique_dirs(struct watch_set *set)
{
	size_t i, o = 0;

	qsort(set->file_dirs, set->n_file_dirs, sizeof(*set->file_dirs), dir_cmp);
	for (i = 0; i < set->n_file_dirs; i++)
		if (!o || dir_cmp(&set->file_dirs[o - 1], &set->file_dirs[i]))
			set->file_dirs[o++] = set->file_dirs[i];
	set->n_file_dirs = o;
}

static bool has_file_dir(const struct watch_set *set, const struct watch_dir *d)
{
	return bsearch(d, set->file_dirs, set->n_file_dirs, sizeof(*d), dir_cmp) != NULL;
}

/* Sorts by identity; an inode named by several rules keeps the first rule. */
static void sort_unique(struct watch_set *set)
{
	size_t i, o = 0;

	qsort(set->items, set->n_items, sizeof(*set->items), item_cmp);
	for (i = 0; i < set->n_items; i++) {
		if (o && set->items[o - 1].dev == set->items[i].dev &&
		    set->items[o - 1].ino == set->items[i].ino) {
			free(set->items[i].path);
			continue;
		}
		set->items[o++] = set->items[i];
	}
	set->n_items = o;
}

_Static_assert((int)CONFIG_WIRE_POSTGRESQL == (int)CUSTOS_WIRE_POSTGRESQL &&
		   (int)CONFIG_WIRE_MYSQL == (int)CUSTOS_WIRE_MYSQL,
	       "config_wire is the kernel's");

/* An abstract unix socket's name as the kernel hashes it (net__unix_endpoint). */
static uint64_t unix_abstract_hash(const char *name)
{
	uint64_t h = CUSTOS_FNV_OFFSET;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * CUSTOS_FNV_PRIME;
	return h;
}

/* The trie's keys of endpoint i of cfg: one per resolved prefix and port (port 0: all). */
static int add_endpoint(struct builder *b, const struct config *cfg, size_t i)
{
	const struct config_endpoint *ep = &cfg->endpoints[i];
	struct watch_set *set = b->set;
	bool every_port = ep->port_lo <= 1 && ep->port_hi == 65535;
	size_t ports = every_port ? 1 : (size_t)ep->port_hi - ep->port_lo + 1, p, k;
	struct stat st;
	int ret;

	if (ep->unix_path) {
		struct watch_unix *u;
		bool abstract = ep->unix_path[0] == '@';

		if (abstract)
			memset(&st, 0, sizeof(st));
		else if (stat(ep->unix_path, &st))
			return warn(b,
				    "endpoint \"%s\": %s: %s (not watched until it exists and is "
				    "rescanned)",
				    ep->name, ep->unix_path, strerror(errno));
		if (!abstract && !S_ISSOCK(st.st_mode))
			return warn(b, "endpoint \"%s\": %s is not a socket: not watched", ep->name,
				    ep->unix_path);
		ret = grow((void **)&set->unix_endpoints, &b->unix_cap, set->n_unix_endpoints,
			   sizeof(*set->unix_endpoints));
		if (ret)
			return ret;
		u = &set->unix_endpoints[set->n_unix_endpoints++];
		memset(u, 0, sizeof(*u));
		u->key.ino = abstract ? unix_abstract_hash(ep->unix_path + 1) : st.st_ino;
		u->key.dev = abstract ? CUSTOS_UNIX_ABSTRACT_DEV : watch_kernel_dev(st.st_dev);
		u->rule = cfg->n_rules + i;
		u->parse = ep->parse;
		return 0;
	}
	if (set->n_endpoints + ports * ep->n_prefixes > CUSTOS_ENDPOINT_KEYS_MAX)
		return warn(b,
			    "endpoint \"%s\": more than %d addresses and ports in all endpoints: "
			    "not watched",
			    ep->name, CUSTOS_ENDPOINT_KEYS_MAX);
	for (k = 0; k < ep->n_prefixes; k++) {
		const struct config_prefix *pf = &ep->prefixes[k];

		for (p = 0; p < ports; p++) {
			struct watch_endpoint *w;

			ret = grow((void **)&set->endpoints, &b->endpoints_cap, set->n_endpoints,
				   sizeof(*set->endpoints));
			if (ret)
				return ret;
			w = &set->endpoints[set->n_endpoints++];
			memset(w, 0, sizeof(*w));
			w->rule = cfg->n_rules + i;
			w->parse = ep->parse;
			w->key.prefixlen = CUSTOS_ENDPOINT_KEY_FIXED_BITS + pf->bits;
			w->key.transport = ep->transport;
			w->key.family = pf->family == AF_INET ? CUSTOS_NET_IPV4 : CUSTOS_NET_IPV6;
			w->key.port = every_port ? 0 : ep->port_lo + p;
			memcpy(w->key.addr, pf->addr, 16);
		}
	}
	return 0;
}

int watch_resolve(const struct config *cfg, struct watch_set *out)
{
	struct builder b = {.set = out};
	size_t i, j;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < cfg->n_rules && ret == 0; i++) {
		const struct config_rule *rule = &cfg->rules[i];
		struct rule_ctx ctx = {.rule = i, .name = rule->name};

		for (j = 0; j < rule->n_paths && ret == 0; j++) {
			ret = expand(rule->paths[j], add_watched_path, &b, &ctx);
			if (ret == 0)
				ret = warn(&b, "watch \"%s\": %s matches nothing", rule->name,
					   rule->paths[j]);
			else if (ret > 0)
				ret = 0;
		}
		if (ret == 0)
			ret = add_exclusions(&b, &rule->exclude, 1ULL << i);
	}
	for (i = 0; i < cfg->n_endpoints && ret == 0; i++)
		ret = add_endpoint(&b, cfg, i);
	if (ret == 0)
		ret = add_exclusions(&b, &cfg->exclude, ALL_RULES);
	if (ret == 0)
		ret = add_mounts_below(&b);
	if (ret == 0)
		ret = add_linked_files(&b);
	for (i = 0; i < b.n_dirs; i++)
		free(b.dirs[i].path);
	free(b.dirs);
	if (ret) {
		watch_set_free(out);
		return ret;
	}
	sort_unique(out);
	sort_unique_dirs(out);
	return 0;
}

/* The smallest watch map: reloads that add paths rarely need a restart. */
#define WATCH_MAP_FLOOR 65536

uint32_t watch_map_size(const struct watch_set *set)
{
	uint64_t n = (uint64_t)set->n_items * 2;

	return n < WATCH_MAP_FLOOR ? WATCH_MAP_FLOOR : n > UINT32_MAX ? UINT32_MAX : n;
}

void watch_set_free(struct watch_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->n_items; i++)
		free(set->items[i].path);
	for (i = 0; i < set->n_warnings; i++)
		free(set->warnings[i]);
	free(set->items);
	free(set->exes);
	free(set->file_dirs);
	free(set->comms);
	free(set->uids);
	free(set->endpoints);
	free(set->unix_endpoints);
	free(set->warnings);
	memset(set, 0, sizeof(*set));
}

const struct watch_item *watch_find(const struct watch_set *set, uint32_t dev, uint64_t ino)
{
	struct watch_item key = {.dev = dev, .ino = ino};
	size_t lo = 0, hi = set->n_items;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct watch_item *it = &set->items[mid];

		if (it->dev == dev && it->ino == ino)
			return it;
		if (item_cmp(it, &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct watch_item *watch_match_path(const struct watch_set *set, const char *path)
{
	char buf[PATH_MAX];
	struct stat st;
	bool self = true;
	char *slash;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return NULL;
	for (;;) {
		if (stat(buf, &st) == 0) {
			const struct watch_item *it =
			    watch_find(set, watch_kernel_dev(st.st_dev), st.st_ino);

			if (it && (self || it->kind == CUSTOS_WATCH_DIR))
				return it;
		}
		slash = strrchr(buf, '/');
		if (!slash || slash == buf) {
			if (buf[0] == '/' && buf[1] && stat("/", &st) == 0) {
				const struct watch_item *it =
				    watch_find(set, watch_kernel_dev(st.st_dev), st.st_ino);

				return it && it->kind == CUSTOS_WATCH_DIR ? it : NULL;
			}
			return NULL;
		}
		*slash = '\0';
		self = false;
	}
}

uint64_t watch_excluded(const struct watch_set *set, const char *comm, uint32_t uid,
			uint32_t exe_dev, uint64_t exe_ino)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < set->n_comms; i++)
		if (!strncmp(set->comms[i].comm, comm, CUSTOS_COMM_LEN))
			mask |= set->comms[i].mask;
	for (i = 0; i < set->n_uids; i++)
		if (set->uids[i].uid == uid)
			mask |= set->uids[i].mask;
	for (i = 0; i < set->n_exes; i++)
		if (set->exes[i].dev == exe_dev && set->exes[i].ino == exe_ino)
			mask |= set->exes[i].mask;
	return mask;
}

/* Map writing. */

static int map_put(int fd, const void *key, const void *value)
{
	return bpf_map_update_elem(fd, key, value, BPF_ANY) ? -errno : 0;
}

static void map_del(int fd, const void *key)
{
	bpf_map_delete_elem(fd, key);
}

static struct custos_inode_key inode_key(uint32_t dev, uint64_t ino)
{
	struct custos_inode_key key = {.ino = ino, .dev = dev};

	return key;
}

static bool set_has_dev(const struct watch_set *set, uint32_t dev)
{
	size_t lo = 0, hi = set->n_items;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (set->items[mid].dev < dev)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < set->n_items && set->items[lo].dev == dev;
}

static int apply_inodes(const struct watch_maps *maps, const struct watch_set *next,
			const struct watch_set *prev)
{
	uint32_t count = 0;
	size_t i;
	int ret;

	for (i = 0; i < next->n_items; i++) {
		const struct watch_item *it = &next->items[i];
		struct custos_inode_key key = inode_key(it->dev, it->ino);
		struct custos_watch_value value = {
		    .rule = next->generation << CUSTOS_RULE_INDEX_BITS | it->rule,
		    .kind = it->kind,
		};

		if ((ret = map_put(maps->inodes, &key, &value)))
			return ret;
		/* Per device, the number of entries: the kernel only asks whether there are any. */
		count++;
		if (i + 1 == next->n_items || next->items[i + 1].dev != it->dev) {
			if ((ret = map_put(maps->devs, &it->dev, &count)))
				return ret;
			count = 0;
		}
	}
	for (i = 0; prev && i < prev->n_items; i++) {
		const struct watch_item *it = &prev->items[i];
		struct custos_inode_key key = inode_key(it->dev, it->ino);
		uint32_t dev = it->dev;

		if (!watch_find(next, it->dev, it->ino))
			map_del(maps->inodes, &key);
		if ((i == 0 || prev->items[i - 1].dev != dev) && !set_has_dev(next, dev))
			map_del(maps->devs, &dev);
	}
	return 0;
}

static int apply_exclusions(const struct watch_maps *maps, const struct watch_set *next,
			    const struct watch_set *prev)
{
	size_t i, j;
	int ret;

	for (i = 0; i < next->n_comms; i++)
		if ((ret = map_put(maps->comms, next->comms[i].comm, &next->comms[i].mask)))
			return ret;
	for (i = 0; i < next->n_uids; i++)
		if ((ret = map_put(maps->uids, &next->uids[i].uid, &next->uids[i].mask)))
			return ret;
	for (i = 0; i < next->n_exes; i++) {
		struct custos_inode_key key = inode_key(next->exes[i].dev, next->exes[i].ino);

		if ((ret = map_put(maps->exes, &key, &next->exes[i].mask)))
			return ret;
	}
	if (!prev)
		return 0;
	for (i = 0; i < prev->n_comms; i++) {
		for (j = 0; j < next->n_comms; j++)
			if (!strncmp(prev->comms[i].comm, next->comms[j].comm, CUSTOS_COMM_LEN))
				break;
		if (j == next->n_comms)
			map_del(maps->comms, prev->comms[i].comm);
	}
	for (i = 0; i < prev->n_uids; i++) {
		for (j = 0; j < next->n_uids; j++)
			if (prev->uids[i].uid == next->uids[j].uid)
				break;
		if (j == next->n_uids)
			map_del(maps->uids, &prev->uids[i].uid);
	}
	for (i = 0; i < prev->n_exes; i++) {
		struct custos_inode_key key = inode_key(prev->exes[i].dev, prev->exes[i].ino);

		for (j = 0; j < next->n_exes; j++)
			if (prev->exes[i].dev == next->exes[j].dev &&
			    prev->exes[i].ino == next->exes[j].ino)
				break;
		if (j == next->n_exes)
			map_del(maps->exes, &key);
	}
	return 0;
}

static int apply_file_dirs(const struct watch_maps *maps, const struct watch_set *next,
			   const struct watch_set *prev)
{
	uint32_t one = 1;
	size_t i;
	int ret;

	for (i = 0; i < next->n_file_dirs; i++) {
		struct custos_inode_key key =
		    inode_key(next->file_dirs[i].dev, next->file_dirs[i].ino);

		if ((ret = map_put(maps->file_dirs, &key, &one)))
			return ret;
	}
	for (i = 0; prev && i < prev->n_file_dirs; i++) {
		struct custos_inode_key key =
		    inode_key(prev->file_dirs[i].dev, prev->file_dirs[i].ino);

		if (!has_file_dir(next, &prev->file_dirs[i]))
			map_del(maps->file_dirs, &key);
	}
	return 0;
}

static bool has_endpoint_key(const struct watch_set *set, const struct custos_endpoint_key *key)
{
	size_t i;

	for (i = 0; i < set->n_endpoints; i++)
		if (!memcmp(&set->endpoints[i].key, key, sizeof(*key)))
			return true;
	return false;
}

static int apply_endpoints(const struct watch_maps *maps, const struct watch_set *next,
			   const struct watch_set *prev)
{
	size_t i;
	int ret;

	for (i = 0; i < next->n_endpoints; i++) {
		struct custos_endpoint_value value = {
		    .rule = next->generation << CUSTOS_RULE_INDEX_BITS | next->endpoints[i].rule,
		    .parse = next->endpoints[i].parse,
		};

		if ((ret = map_put(maps->endpoints, &next->endpoints[i].key, &value)))
			return ret;
	}
	for (i = 0; prev && i < prev->n_endpoints; i++)
		if (!has_endpoint_key(next, &prev->endpoints[i].key))
			map_del(maps->endpoints, &prev->endpoints[i].key);
	for (i = 0; i < next->n_unix_endpoints; i++) {
		struct custos_endpoint_value value = {
		    .rule =
			next->generation << CUSTOS_RULE_INDEX_BITS | next->unix_endpoints[i].rule,
		    .parse = next->unix_endpoints[i].parse,
		};

		if ((ret = map_put(maps->unix_endpoints, &next->unix_endpoints[i].key, &value)))
			return ret;
	}
	for (i = 0; prev && i < prev->n_unix_endpoints; i++) {
		size_t j;

		for (j = 0; j < next->n_unix_endpoints; j++)
			if (!memcmp(&next->unix_endpoints[j].key, &prev->unix_endpoints[i].key,
				    sizeof(struct custos_inode_key)))
				break;
		if (j == next->n_unix_endpoints)
			map_del(maps->unix_endpoints, &prev->unix_endpoints[i].key);
	}
	return 0;
}

int watch_apply(const struct watch_maps *maps, const struct watch_set *next,
		const struct watch_set *prev)
{
	int ret = apply_exclusions(maps, next, prev);

	ret = ret ?: apply_endpoints(maps, next, prev);
	ret = ret ?: apply_file_dirs(maps, next, prev);
	return ret ?: apply_inodes(maps, next, prev);
}

const struct watch_item *watch_find_file_path(const struct watch_set *set, const char *path)
{
	size_t i;

	for (i = 0; i < set->n_items; i++)
		if (set->items[i].kind == CUSTOS_WATCH_FILE && !strcmp(set->items[i].path, path))
			return &set->items[i];
	return NULL;
}
