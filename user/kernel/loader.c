// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel/kernel.h"
#include "kernel/loader.h"
#include "lib/log.h"
#include "custos.skel.h"
#include "custos_compat.skel.h"

#define UPROBE_PMU    "/sys/bus/event_source/devices/uprobe"
#define DB_FUNC_FIRST 1
#define DB_FUNC_LAST  (CUSTOS_DB_FUNC_MAX - 1)

/* The two builds of bpf/custos.bpf.c this binary carries. */
struct flavor {
	const char *name;
	const void *(*elf_bytes)(size_t *size);
};

static const struct flavor flavor_modern = {"modern", custos_bpf__elf_bytes};
static const struct flavor flavor_compat = {"compat", custos_compat_bpf__elf_bytes};

struct loader {
	struct bpf_object *obj;
	const struct flavor *flavor;
	struct loader_report report;
	struct bpf_link *links[64];
	int nr_cpus;
	struct custos_bpf_state *state; /* the object's .bss, mapped */
	void *state_map;
	size_t state_map_len;
	struct bpf_link **uprobes; /* database probes, placed as libraries are found */
	size_t n_uprobes, uprobes_cap;
	int *multi_fds; /* their uprobe_multi links */
	size_t n_multi, multi_cap;
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

/* ------------------------------------------------------------ libbpf's messages */

/*
 * libbpf says which program failed and why (the verifier's log) only in its
 * messages: while loading, the first program named and the end of the text
 * (where the verifier says what it refused) are kept, to name both.
 */
static struct {
	pthread_mutex_t lock;
	bool verbose;
	bool capturing;
	char program[128]; /* the first program a message names */
	char text[32768];  /* the end of the messages */
	size_t len;
} messages = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void messages_keep_program(const char *line)
{
	const char *p = strstr(line, "prog '"), *end;

	if (messages.program[0] || !p)
		return;
	p += 6;
	end = strchr(p, '\'');
	if (end && (size_t)(end - p) < sizeof(messages.program))
		snprintf(messages.program, sizeof(messages.program), "%.*s", (int)(end - p), p);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[4096];
	size_t n, room = sizeof(messages.text) - 1;
	va_list copy;

	if (messages.verbose) {
		/* Debug output: "<7>" first when stderr is the journal. */
		va_copy(copy, args);
		vsnprintf(line, sizeof(line), fmt, copy);
		va_end(copy);
		fprintf(stderr, "%s%s", log_priority_prefix(LOG_LEVEL_DEBUG), line);
	}
	if (level != LIBBPF_WARN || !messages.capturing)
		return 0;
	vsnprintf(line, sizeof(line), fmt, args);
	n = strlen(line);
	pthread_mutex_lock(&messages.lock);
	messages_keep_program(line);
	if (messages.len + n > room) {
		size_t keep = room / 2 > n ? room / 2 : 0;

		memmove(messages.text, messages.text + messages.len - keep, keep);
		messages.len = keep;
	}
	n = n > room - messages.len ? room - messages.len : n;
	memcpy(messages.text + messages.len, line, n);
	messages.len += n;
	messages.text[messages.len] = 0;
	pthread_mutex_unlock(&messages.lock);
	return 0;
}

static void messages_start(bool verbose)
{
	messages.verbose = verbose;
	messages.len = 0;
	messages.text[0] = 0;
	messages.program[0] = 0;
	messages.capturing = true;
	libbpf_set_print(libbpf_print);
}

/* The program libbpf failed on: the first one its messages named. */
static bool messages_failed_program(char *name, size_t len)
{
	if (!messages.program[0])
		return false;
	snprintf(name, len, "%s", messages.program);
	return true;
}

/* A line of the verifier's log that traces its walk rather than saying what it refused. */
static bool log_noise(const char *line, size_t n)
{
	static const char *const noise[] = {"processed ",  "verification time",
					    "stack depth", "-- END",
					    "libbpf:",	   "mark_precise",
					    "Validating",  ";",
					    "from ",	   "last_idx",
					    "regs=",	   "parent ",
					    "func#",	   "frame",
					    "R0",	   "R1",
					    "Func#",	   "propagating"};
	size_t i = 0;

	if (n == 0)
		return true;
	while (i < n && line[i] >= '0' && line[i] <= '9')
		i++;
	if (i > 0 && i < n && line[i] == ':')
		return true; /* "123: (85) call ..." */
	for (i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		if (!strncmp(line, noise[i], strlen(noise[i])))
			return true;
	return false;
}

/*
 * Why: the last line of the verifier's log that says something (its
 * complaint comes just before the statistics), else libbpf's own message.
 */
static void messages_reason(char *why, size_t len)
{
	const char *end = strstr(messages.text, "-- END PROG LOAD LOG --");
	const char *log = strstr(messages.text, "-- BEGIN PROG LOAD LOG --");
	const char *line, *best = NULL;
	size_t best_n = 0;

	if (end) {
		for (line = log ? log : messages.text; line && line < end;) {
			const char *next = strchr(line, '\n');
			size_t n = (next && next < end ? next : end) - line;

			if (!log_noise(line, n)) {
				best = line;
				best_n = n;
			}
			line = next ? next + 1 : NULL;
		}
	}
	if (!best) {
		best = strstr(messages.text, "': ");
		best = best ? best + 3 : messages.text;
		end = strchr(best, '\n');
		best_n = end ? (size_t)(end - best) : strlen(best);
	}
	snprintf(why, len, "%.*s", (int)(best_n < 200 ? best_n : 200), best);
}

/* ------------------------------------------------------------------ decisions */

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

/*
 * The modern object if the kernel has every helper it uses, else the compat
 * one. CUSTOS_BPF_OBJECT=compat makes any kernel run the compat object with
 * every fallback, as on Linux 5.10 (to test it, or to work around a kernel
 * that refuses the modern one).
 */
static const struct flavor *choose_flavor(struct loader_report *r, const struct btf *vmlinux)
{
	const char *forced = getenv("CUSTOS_BPF_OBJECT");
	bool compat = forced && !strcmp(forced, "compat");
	const struct flavor *f = compat ? &flavor_compat : &flavor_modern;
	int i;

	for (i = 0; i < KERNEL_NEED_COUNT; i++) {
		struct loader_need *n = &r->needs[i];

		if (compat) {
			snprintf(n->why, sizeof(n->why), "not used: CUSTOS_BPF_OBJECT=compat");
			continue;
		}
		n->available = kernel_has_need(vmlinux, i, n->why, sizeof(n->why));
		if (!n->available)
			f = &flavor_compat;
	}
	r->object = f->name;
	r->forced = compat;
	return f;
}

static bool is_db_program(const char *name)
{
	return !strncmp(name, "uprobe__db_entry", 16) || !strncmp(name, "uretprobe__db_return", 20);
}

/* The compat object's program for one database function: uprobe__db_entry_<func>. */
static bool is_db_function_program(const char *name)
{
	const char *last = strrchr(name, '_');

	return is_db_program(name) && last && last[1] >= '0' && last[1] <= '9';
}

/*
 * Without attach cookies the database probes need a program per function
 * (the compat object has them); with cookies one program serves them all.
 */
static bool per_function_db(const struct loader *l)
{
	return !l->report.needs[KERNEL_NEED_ATTACH_COOKIE].available;
}

/* The capability a program of the object serves (HOOK_CAP_COUNT: none). */
static enum hook_cap program_cap(const char *name)
{
	enum hook_cap cap = hook_program_cap(name);

	return cap == HOOK_CAP_COUNT && is_db_program(name) ? HOOK_CAP_DATABASES : cap;
}

/* Why the hook's attach point is not on this kernel (NULL: it is). */
static const char *attach_point_missing(const struct btf *vmlinux, const char *attach)
{
	if (!strncmp(attach, "iter/", 5))
		return kernel_has_func(vmlinux, "bpf_iter_task_file")
			   ? NULL
			   : "no task_file iterator in this kernel";
	if (!strncmp(attach, "uprobe", 6) || !strncmp(attach, "uretprobe", 9))
		return access(UPROBE_PMU, F_OK) == 0
			   ? NULL
			   : "no uprobe PMU (" UPROBE_PMU "): the kernel is "
			     "built without uprobes (CONFIG_UPROBE_EVENTS)";
	return kernel_hook_missing(vmlinux, attach);
}

/* Picks the program that serves a hook here: the variant whose signature the kernel has. */
static void choose_variant(struct loader *l, struct loader_hook *h, const struct btf *vmlinux)
{
	const struct hook_def *d = h->def;
	const char *missing = attach_point_missing(vmlinux, d->attach);
	const char *event = strrchr(d->attach, '/');
	size_t o = 0;
	int v;

	if (missing) {
		snprintf(h->why_not, sizeof(h->why_not), "%s", missing);
		return;
	}
	if (per_function_db(l) && d->cap == HOOK_CAP_DATABASES) {
		/* A program per function, named by hook_db_program(). */
		h->program = !strcmp(d->attach, "uprobe") ? "uprobe__db_entry_<function>"
							  : "uretprobe__db_return_<function>";
		return;
	}
	for (v = 0; v < HOOK_VARIANTS_MAX && d->variants[v].program; v++) {
		const struct hook_variant *var = &d->variants[v];

		if (bpf_object__find_program_by_name(l->obj, var->program) &&
		    hook_variant_matches(vmlinux, event ? event + 1 : d->attach, var)) {
			h->program = var->program;
			h->signature = var->signature;
			return;
		}
	}
	o = snprintf(h->why_not, sizeof(h->why_not),
		     "this kernel's tracepoint has other arguments than the programs know:");
	for (v = 0; v < HOOK_VARIANTS_MAX && d->variants[v].program && o < sizeof(h->why_not); v++)
		o += snprintf(h->why_not + o, sizeof(h->why_not) - o, "%s %s", v ? "," : "",
			      d->variants[v].signature);
}

static struct loader_hook *hook_in(struct loader_report *r, const char *attach)
{
	size_t i;

	for (i = 0; i < r->n_hooks; i++)
		if (!strcmp(r->hooks[i].def->attach, attach))
			return &r->hooks[i];
	return NULL;
}

/*
 * Which hooks this kernel has and which program serves each; a capability
 * missing one of its required hooks (or refused by the verifier before:
 * dropped[cap]) is missing. Fails when a required capability is.
 */
static int decide(struct loader *l, const struct btf *vmlinux, char dropped[][256], char *err,
		  size_t len)
{
	struct loader_report *r = &l->report;
	const struct hook_def *defs;
	size_t i, n = hooks_table(&defs);

	r->n_hooks = 0;
	memset(r->caps, 0, sizeof(r->caps));
	for (i = 0; i < n && i < sizeof(r->hooks) / sizeof(r->hooks[0]); i++) {
		struct loader_hook *h = &r->hooks[r->n_hooks++];
		struct loader_cap *c = &r->caps[defs[i].cap];

		*h = (struct loader_hook){.def = &defs[i]};
		choose_variant(l, h, vmlinux);
		if (!h->program && defs[i].required && c->status != LOADER_CAP_MISSING) {
			char why[sizeof(c->why)];

			snprintf(why, sizeof(why), "%s: %s", defs[i].attach, h->why_not);
			memcpy(c->why, why, sizeof(why));
			c->status = LOADER_CAP_MISSING;
		}
	}
	for (i = 0; i < r->n_hooks; i++) {
		struct loader_hook *h = &r->hooks[i], *alt;

		alt = h->def->alternative ? hook_in(r, h->def->alternative) : NULL;
		if (!h->program && alt && alt->program) {
			h->unused = true;
			snprintf(h->why_not, sizeof(h->why_not), "not needed: %s serves here",
				 alt->def->attach);
		}
	}
	for (i = 0; i < HOOK_CAP_COUNT; i++) {
		struct loader_cap *c = &r->caps[i];

		if (dropped[i][0] && c->status != LOADER_CAP_MISSING) {
			c->status = LOADER_CAP_MISSING;
			snprintf(c->why, sizeof(c->why), "%.255s", dropped[i]);
		}
		if (c->status == LOADER_CAP_MISSING && hook_cap(i)->required) {
			set_err(err, len, "this kernel cannot run the agent: %s (%s): %s",
				hook_cap(i)->label, hook_cap(i)->name, c->why);
			return -EOPNOTSUPP;
		}
	}
	for (i = 0; i < r->n_hooks; i++) {
		struct loader_hook *h = &r->hooks[i];
		struct loader_cap *c = &r->caps[h->def->cap];

		if (h->program && c->status == LOADER_CAP_MISSING) {
			snprintf(h->why_not, sizeof(h->why_not), "left out with %s: %s",
				 hook_cap(h->def->cap)->name, c->why);
			h->program = NULL;
			h->signature = NULL;
		}
	}
	return 0;
}

/* Loads exactly the programs decide() chose. */
static void set_autoload(struct loader *l)
{
	struct loader_report *r = &l->report;
	struct bpf_program *prog;
	size_t i;

	bpf_object__for_each_program(prog, l->obj)
	{
		const char *name = bpf_program__name(prog);
		bool load = false;

		if (is_db_function_program(name) && per_function_db(l))
			load = r->caps[HOOK_CAP_DATABASES].status != LOADER_CAP_MISSING;
		for (i = 0; i < r->n_hooks && !load; i++)
			load = r->hooks[i].program && !strcmp(r->hooks[i].program, name);
		bpf_program__set_autoload(prog, load);
		if (getenv("CUSTOS_BPF_STATS"))
			bpf_program__set_log_level(prog, 4);
	}
	if (r->uprobe_multi && !per_function_db(l)) {
		bpf_program__set_expected_attach_type(
		    bpf_object__find_program_by_name(l->obj, "uprobe__db_entry"),
		    KERNEL_ATTACH_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(
		    bpf_object__find_program_by_name(l->obj, "uretprobe__db_return"),
		    KERNEL_ATTACH_UPROBE_MULTI);
	}
}

/* ------------------------------------------------------------ the object itself */

/* Where variable var lies in the object's data section sec. */
static int datasec_var(struct bpf_object *obj, const char *sec, const char *var, size_t *off,
		       size_t *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *t;
	int id, i;

	id = btf ? btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC) : -ENOENT;
	if (id <= 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(t);
	for (i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *v = btf__type_by_id(btf, vs[i].type);

		if (!strcmp(btf__name_by_offset(btf, v->name_off), var)) {
			*off = vs[i].offset;
			*size = vs[i].size;
			return 0;
		}
	}
	return -ENOENT;
}

/* Writes the settings into the object's .rodata before it loads. */
static int set_settings(struct bpf_object *obj, const struct custos_bpf_config *cfg)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	size_t off, size, total;
	const void *init;
	void *data;
	int ret;

	if (!map || datasec_var(obj, ".rodata", "settings", &off, &size) || size != sizeof(*cfg))
		return -EPROTO;
	init = bpf_map__initial_value(map, &total);
	if (!init || off + size > total)
		return -EPROTO;
	data = malloc(total);
	if (!data)
		return -ENOMEM;
	memcpy(data, init, total);
	memcpy((char *)data + off, cfg, size);
	ret = bpf_map__set_initial_value(map, data, total);
	free(data);
	return ret;
}

/* Maps the object's .bss, where the state shared with the BPF side lives. */
static int map_state(struct loader *l)
{
	struct bpf_map *map = bpf_object__find_map_by_name(l->obj, ".bss");
	size_t off, size, page = sysconf(_SC_PAGESIZE);
	void *p;

	if (!map || datasec_var(l->obj, ".bss", "state", &off, &size) || size != sizeof(*l->state))
		return -EPROTO;
	l->state_map_len = (bpf_map__value_size(map) + page - 1) / page * page;
	p = mmap(NULL, l->state_map_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(map), 0);
	if (p == MAP_FAILED)
		return -errno;
	l->state_map = p;
	l->state = (struct custos_bpf_state *)((char *)p + off);
	return 0;
}

static int open_object(struct loader *l, const struct loader_options *opts)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = "custos");
	struct custos_bpf_config cfg = {
	    .agent_tgid = opts->agent_tgid,
	    .wakeup_bytes = (uint64_t)opts->ring_buffer_mb << 18, /* a quarter full */
	};
	struct bpf_map *map;
	const void *bytes;
	size_t size;
	int ret;

	bytes = l->flavor->elf_bytes(&size);
	l->obj = bpf_object__open_mem(bytes, size, &open_opts);
	if (!l->obj)
		return -errno;
	ret = set_settings(l->obj, &cfg);
	if (ret)
		return ret;
	bpf_map__set_max_entries(bpf_object__find_map_by_name(l->obj, "events"),
				 opts->ring_buffer_mb << 20);
	map = bpf_object__find_map_by_name(l->obj, "watch_inodes");
	if (map && opts->watch_inodes_max > bpf_map__max_entries(map))
		bpf_map__set_max_entries(map, opts->watch_inodes_max);
	return 0;
}

static void close_object(struct loader *l)
{
	bpf_object__close(l->obj);
	l->obj = NULL;
}

/*
 * Opens, decides and loads; when the verifier refuses a program of an
 * optional capability, that capability is dropped and the object loaded
 * again without it. A refused program of the core is the end.
 */
static int load(struct loader *l, const struct loader_options *opts, char *err, size_t len)
{
	char dropped[HOOK_CAP_COUNT][256] = {{0}};
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct loader_report *r = &l->report;
	int ret = 0, attempt;
	size_t i;

	if (!vmlinux) {
		set_err(err, len, "kernel BTF (%s) is not available: %s", KERNEL_BTF,
			strerror(errno));
		return -EOPNOTSUPP;
	}
	l->flavor = choose_flavor(r, vmlinux);
	r->uprobe_multi = kernel_has_uprobe_multi(vmlinux);
	for (attempt = 0; attempt <= HOOK_CAP_COUNT; attempt++) {
		char program[128], why[256];
		enum hook_cap cap;

		ret = open_object(l, opts);
		if (ret) {
			set_err(err, len, "cannot open the %s BPF object: %s", l->flavor->name,
				strerror(-ret));
			break;
		}
		ret = decide(l, vmlinux, dropped, err, len);
		if (ret)
			break;
		set_autoload(l);
		r->loads = attempt + 1;
		messages_start(opts->verbose);
		ret = bpf_object__load(l->obj);
		messages.capturing = false;
		if (!ret)
			break;
		messages_reason(why, sizeof(why));
		if (!messages_failed_program(program, sizeof(program))) {
			set_err(err, len, "cannot load the %s BPF object: %s: %s", l->flavor->name,
				strerror(-ret), why);
			break;
		}
		cap = program_cap(program);
		if (cap != HOOK_CAP_COUNT && hook_cap(cap)->required) {
			r->caps[cap].status = LOADER_CAP_MISSING;
			snprintf(r->caps[cap].why, sizeof(r->caps[cap].why),
				 "the verifier refused program %.60s: %.160s", program, why);
		}
		if (cap == HOOK_CAP_COUNT || hook_cap(cap)->required) {
			set_err(err, len,
				"this kernel cannot run the agent: the verifier refused program %s "
				"(%s, %s object): %s",
				program, cap == HOOK_CAP_COUNT ? "?" : hook_cap(cap)->name,
				l->flavor->name, why);
			ret = -EOPNOTSUPP;
			break;
		}
		snprintf(dropped[cap], sizeof(dropped[cap]),
			 "the verifier refused program %.60s: %.160s", program, why);
		close_object(l);
	}
	btf__free(vmlinux);
	if (ret) {
		close_object(l);
		return ret;
	}
	for (i = 0; i < r->n_hooks; i++)
		r->hooks[i].loaded = r->hooks[i].program != NULL;
	for (i = 0; i < HOOK_CAP_COUNT; i++) {
		struct loader_cap *c = &r->caps[i];

		if (c->status == LOADER_CAP_MISSING)
			continue;
		if (l->flavor == &flavor_compat) {
			c->status = LOADER_CAP_FALLBACK;
			snprintf(c->why, sizeof(c->why), "the compat object (see bpf)");
		} else if (i == HOOK_CAP_DATABASES && !r->uprobe_multi) {
			c->status = LOADER_CAP_FALLBACK;
			snprintf(c->why, sizeof(c->why),
				 "one uprobe link per function (no uprobe_multi links before Linux "
				 "6.6): slower to start and stop, the same events");
		}
	}
	return 0;
}

/* Iterators are run (loader_seed_open_files()), uprobes placed per library. */
static bool attached_later(const char *attach)
{
	return !strncmp(attach, "iter/", 5) || !strncmp(attach, "uprobe", 6) ||
	       !strncmp(attach, "uretprobe", 9);
}

static int attach_hooks(struct loader *l, char *err, size_t len)
{
	struct loader_report *r = &l->report;
	size_t i;

	for (i = 0; i < r->n_hooks; i++) {
		struct loader_hook *h = &r->hooks[i];
		struct bpf_program *prog;
		int e;

		if (!h->loaded || attached_later(h->def->attach))
			continue;
		prog = bpf_object__find_program_by_name(l->obj, h->program);
		l->links[i] = bpf_program__attach(prog);
		if (l->links[i]) {
			h->attached = true;
			continue;
		}
		e = errno;
		snprintf(h->why_not, sizeof(h->why_not), "attaching %s: %s", h->program,
			 strerror(e));
		if (h->def->required && hook_cap(h->def->cap)->required) {
			set_err(err, len, "this kernel cannot run the agent: %s: %s",
				h->def->attach, h->why_not);
			return -EOPNOTSUPP;
		}
		if (h->def->required) {
			r->caps[h->def->cap].status = LOADER_CAP_MISSING;
			snprintf(r->caps[h->def->cap].why, sizeof(r->caps[h->def->cap].why),
				 "%s: %s", h->def->attach, h->why_not);
		}
	}
	return 0;
}

static struct loader *loader_new(const struct loader_options *opts, char *err, size_t len)
{
	struct loader *l = calloc(1, sizeof(*l));

	if (!l) {
		set_err(err, len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	messages.verbose = opts->verbose;
	libbpf_set_print(libbpf_print);
	l->nr_cpus = libbpf_num_possible_cpus();
	return l;
}

struct loader *loader_start(const struct loader_options *opts, char *err, size_t len)
{
	struct loader *l = loader_new(opts, err, len);
	int ret;

	if (!l)
		return NULL;
	ret = tracefs_ensure(err, len);
	if (!ret)
		ret = load(l, opts, err, len);
	if (ret) {
		free(l);
		errno = -ret;
		return NULL;
	}
	ret = map_state(l);
	if (ret)
		set_err(err, len, "cannot map the BPF object's state: %s", strerror(-ret));
	else
		ret = attach_hooks(l, err, len);
	if (ret) {
		loader_stop(l);
		errno = -ret;
		return NULL;
	}
	return l;
}

int loader_probe(const struct loader_options *opts, struct loader_report *report, char *err,
		 size_t len)
{
	struct loader *l = loader_new(opts, err, len);
	int ret;

	if (!l)
		return -ENOMEM;
	ret = load(l, opts, err, len);
	*report = l->report;
	close_object(l);
	free(l);
	return ret;
}

const struct loader_report *loader_report(const struct loader *l)
{
	return &l->report;
}

const char *loader_cap_status_name(enum loader_cap_status status)
{
	static const char *const names[] = {
	    [LOADER_CAP_AVAILABLE] = "available",
	    [LOADER_CAP_FALLBACK] = "fallback",
	    [LOADER_CAP_MISSING] = "missing",
	};

	return names[status];
}

/* -------------------------------------------------------------- running it */

static struct loader_hook *hook_of(struct loader *l, const char *attach)
{
	return hook_in(&l->report, attach);
}

int loader_seed_open_files(struct loader *l)
{
	struct loader_hook *h = hook_of(l, "iter/task_file");
	struct bpf_link *link;
	char buf[256];
	int fd, n;

	if (!h || !h->loaded)
		return -EOPNOTSUPP;
	link = bpf_program__attach_iter(bpf_object__find_program_by_name(l->obj, h->program), NULL);
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
	h->attached = n == 0;
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

/*
 * The program for a probe: the modern object's one for every function (the
 * cookie says which), or the compat object's for this function, which
 * reads the cookie's layout flags from db_func_flags.
 */
static struct bpf_program *db_program(struct loader *l, uint64_t cookie, bool at_return)
{
	unsigned func = cookie & CUSTOS_DB_FUNC_MASK;
	struct bpf_map *flags;
	char name[64];

	if (!per_function_db(l))
		return bpf_object__find_program_by_name(l->obj, at_return ? "uretprobe__db_return"
									  : "uprobe__db_entry");
	hook_db_program(name, sizeof(name), func, at_return);
	flags = bpf_object__find_map_by_name(l->obj, "db_func_flags");
	if (flags) {
		uint32_t key = func;
		uint64_t value = cookie & ~(uint64_t)CUSTOS_DB_FUNC_MASK;

		bpf_map_update_elem(bpf_map__fd(flags), &key, &value, BPF_ANY);
	}
	return bpf_object__find_program_by_name(l->obj, name);
}

static int attach_uprobes(struct loader *l, const char *path, const uint64_t *offsets,
			  const uint64_t *cookies, size_t n, bool at_return)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = at_return);
		struct bpf_program *prog = db_program(l, cookies[i], at_return);
		struct bpf_link *link;

		if (!prog)
			return -ENOENT;
		if (!per_function_db(l))
			opts.bpf_cookie = cookies[i];
		/* pid -1: every process that maps the file, now or later. */
		link = bpf_program__attach_uprobe_opts(prog, -1, path, offsets[i], &opts);
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
	struct loader_hook *h = hook_of(l, at_return ? "uretprobe" : "uprobe");
	int ret;

	if (!n)
		return 0;
	if (!h || !h->loaded)
		return -EOPNOTSUPP;
	if (l->report.uprobe_multi && !per_function_db(l))
		ret = attach_uprobe_multi(l, db_program(l, 0, at_return), path, offsets, cookies, n,
					  at_return);
	else
		ret = attach_uprobes(l, path, offsets, cookies, n, at_return);
	if (!ret)
		h->attached = true;
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
	destroy_links(l->links, NULL, l->report.n_hooks);
	if (l->state_map)
		munmap(l->state_map, l->state_map_len);
	close_object(l);
	free(l);
}

static struct bpf_map *map_of(const struct loader *l, enum loader_map map)
{
	static const char *const names[LOADER_MAP_COUNT] = {
	    [LOADER_MAP_EVENTS] = "events",
	    [LOADER_MAP_WATCH_INODES] = "watch_inodes",
	    [LOADER_MAP_WATCH_DEVS] = "watch_devs",
	    [LOADER_MAP_OPEN_FILES] = "open_files",
	    [LOADER_MAP_EXCLUDE_COMMS] = "exclude_comms",
	    [LOADER_MAP_EXCLUDE_UIDS] = "exclude_uids",
	    [LOADER_MAP_EXCLUDE_EXES] = "exclude_exes",
	    [LOADER_MAP_DROPS] = "drops",
	    [LOADER_MAP_FILE_READERS] = "file_readers",
	    [LOADER_MAP_FILE_WATCH_DIRS] = "file_watch_dirs",
	    [LOADER_MAP_ENDPOINTS] = "endpoints",
	    [LOADER_MAP_UNIX_ENDPOINTS] = "unix_endpoints",
	};

	return bpf_object__find_map_by_name(l->obj, names[map]);
}

int loader_map_fd(const struct loader *l, enum loader_map map)
{
	return bpf_map__fd(map_of(l, map));
}

uint32_t loader_map_max_entries(const struct loader *l, enum loader_map map)
{
	return bpf_map__max_entries(map_of(l, map));
}

void loader_watches_changed(struct loader *l, uint32_t file_watches, uint32_t comms, uint32_t uids,
			    uint32_t exes, uint32_t endpoint_keys)
{
	struct custos_bpf_state *s = l->state;

	__atomic_store_n(&s->endpoint_keys, endpoint_keys, __ATOMIC_RELAXED);
	__atomic_store_n(&s->file_watches, file_watches, __ATOMIC_RELAXED);
	__atomic_store_n(&s->exclude_comm_count, comms, __ATOMIC_RELAXED);
	__atomic_store_n(&s->exclude_uid_count, uids, __ATOMIC_RELAXED);
	__atomic_store_n(&s->exclude_exe_count, exes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->verdict_epoch, 1, __ATOMIC_SEQ_CST);
}

void loader_set_egress_window(struct loader *l, uint64_t window_ns)
{
	__atomic_store_n(&l->state->egress_window_ns, window_ns, __ATOMIC_RELAXED);
}

int loader_each_open_file(struct loader *l,
			  void (*fn)(const struct custos_open_file *of, void *ctx), void *ctx)
{
	struct custos_bpf_state *s = l->state;
	int fd = loader_map_fd(l, LOADER_MAP_OPEN_FILES);
	uint64_t key, next, done_before, begun_after;
	struct custos_open_file of;
	void *prev = NULL;
	int64_t tracked, entries = 0;

	done_before = __atomic_load_n(&s->open_files_ops_done, __ATOMIC_SEQ_CST);
	tracked = __atomic_load_n(&s->open_files_tracked, __ATOMIC_SEQ_CST);
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &of))
			continue;
		entries++;
		fn(&of, ctx);
	}
	if (errno != ENOENT)
		return -errno;
	/*
	 * No change began before the walk ended that was not done before it
	 * started: the table held exactly these entries throughout, and the
	 * count is high by the evictions (only an insert evicts).
	 */
	begun_after = __atomic_load_n(&s->open_files_ops_begun, __ATOMIC_SEQ_CST);
	if (begun_after == done_before && tracked > entries)
		__atomic_fetch_sub(&s->open_files_tracked, tracked - entries, __ATOMIC_SEQ_CST);
	return 0;
}

int loader_each_file_reader(struct loader *l,
			    void (*fn)(const struct custos_reader_key *key,
				       const struct custos_reader *reader, void *ctx),
			    void *ctx)
{
	int fd = loader_map_fd(l, LOADER_MAP_FILE_READERS);
	struct custos_reader_key key, next;
	struct custos_reader r;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &r) == 0)
			fn(&key, &r, ctx);
	}
	return errno == ENOENT ? 0 : -errno;
}

int64_t loader_open_files_tracked(const struct loader *l)
{
	return __atomic_load_n(&l->state->open_files_tracked, __ATOMIC_SEQ_CST);
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
		sum->args_unreadable += per_cpu[cpu].args_unreadable;
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
