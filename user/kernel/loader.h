/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF side's lifecycle: mount what the hooks need, choose the object
 * this kernel runs (modern, or compat for kernels without the newer
 * helpers), decide which programs to load (hooks present, the variant
 * matching each tracepoint's signature), load (dropping a capability whose
 * program the verifier refuses), attach, and hand out the maps. The only
 * user of libbpf's object API.
 */
#ifndef CUSTOS_LOADER_H
#define CUSTOS_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>
#include "kernel/hooks.h"
#include "kernel/kernel.h"

struct loader;

struct loader_options {
	uint32_t agent_tgid;
	uint32_t ring_buffer_mb;
	uint32_t watch_inodes_max; /* size of the watch map */
	bool verbose;		   /* libbpf debug output */
	bool probe_only;	   /* load and report, attach nothing (custos check) */
};

enum loader_map {
	LOADER_MAP_EVENTS,
	LOADER_MAP_WATCH_INODES,
	LOADER_MAP_WATCH_DEVS,
	LOADER_MAP_OPEN_FILES,
	LOADER_MAP_EXCLUDE_COMMS,
	LOADER_MAP_EXCLUDE_UIDS,
	LOADER_MAP_EXCLUDE_EXES,
	LOADER_MAP_DROPS,
	LOADER_MAP_FILE_READERS,
	LOADER_MAP_FILE_WATCH_DIRS,
	LOADER_MAP_ENDPOINTS,
	LOADER_MAP_UNIX_ENDPOINTS,
	LOADER_MAP_COUNT,
};

/* A hook (attach point) and how it is served on this kernel. */
struct loader_hook {
	const struct hook_def *def;
	const char *program;   /* the program loaded for it; NULL if none */
	const char *signature; /* of the variant chosen, when the kernels differ */
	bool loaded;
	bool attached;
	bool unused;	   /* not on this kernel, and its alternative serves instead */
	char why_not[256]; /* when not loaded or not attached */
};

enum loader_cap_status {
	LOADER_CAP_AVAILABLE,
	LOADER_CAP_FALLBACK, /* works, by a fallback (compat object, a link per probe) */
	LOADER_CAP_MISSING,
};

/* A capability (hook family) on this kernel. */
struct loader_cap {
	enum loader_cap_status status;
	char why[384]; /* missing: the hook and its reason; fallback: which fallback */
};

/* A helper of the modern object, and whether this kernel has it. */
struct loader_need {
	bool available;
	char why[128];
};

/*
 * What the loader found and did: the object, each need, each hook, each
 * capability. Filled by loader_start() and loader_probe() alike, so the
 * agent's agent-start and `custos check` report the same.
 */
struct loader_report {
	const char *object; /* "modern" or "compat" */
	bool forced;	    /* compat because CUSTOS_BPF_OBJECT=compat asked for it */
	struct loader_need needs[KERNEL_NEED_COUNT];
	bool uprobe_multi;
	struct loader_hook hooks[80];
	size_t n_hooks;
	struct loader_cap caps[HOOK_CAP_COUNT];
	unsigned loads; /* attempts: 1 + capabilities dropped after the verifier refused one */
};

/*
 * Loads and attaches everything; NULL with errno set and a message in err.
 * errno EOPNOTSUPP: this kernel cannot run the agent (err says what is
 * missing: a required hook, or a program of the core the verifier refused).
 */
struct loader *loader_start(const struct loader_options *opts, char *err, size_t err_len);
void loader_stop(struct loader *loader);

/*
 * For `custos check`: decides and loads as loader_start() would, attaches
 * nothing, unloads, and fills report. 0, or a negative errno with a
 * message in err (-EOPNOTSUPP: the agent could not run here).
 */
int loader_probe(const struct loader_options *opts, struct loader_report *report, char *err,
		 size_t err_len);

const struct loader_report *loader_report(const struct loader *loader);

int loader_map_fd(const struct loader *loader, enum loader_map map);
uint32_t loader_map_max_entries(const struct loader *loader, enum loader_map map);

/*
 * After the watch maps changed: the entry counts that let the BPF side skip
 * empty maps, and a new epoch that drops its cached directory verdicts.
 */
void loader_watches_changed(struct loader *loader, uint32_t file_watches, uint32_t comms,
			    uint32_t uids, uint32_t exes, uint32_t endpoint_keys);

/*
 * How long after a session read a watched file its egress is tracked (the
 * config's egress.window), in nanoseconds; 0 turns egress off.
 */
void loader_set_egress_window(struct loader *loader, uint64_t window_ns);

/*
 * Calls fn for each entry of the kernel's table of open watched files, and
 * of its table of other processes' use of them. A walk of open_files that
 * the kernel did not change meanwhile also takes the entries the LRU map
 * evicted out of the count that lets the hooks skip the table.
 */
int loader_each_open_file(struct loader *loader,
			  void (*fn)(const struct custos_open_file *of, void *ctx), void *ctx);
int loader_each_file_reader(struct loader *loader,
			    void (*fn)(const struct custos_reader_key *key,
				       const struct custos_reader *reader, void *ctx),
			    void *ctx);
/* The kernel's count of tracked open files (for tests and statistics). */
int64_t loader_open_files_tracked(const struct loader *loader);

/*
 * Finds the watched files already open (before the agent started) and
 * tracks them like new opens, reporting each as an open with
 * custos.open.existing. Call once the watch maps are written.
 */
int loader_seed_open_files(struct loader *loader);

/*
 * Places the database probes on the functions at offsets[n] in the ELF file
 * at path, for every process that maps it (now or later); with at_return, on
 * their returns. cookies[n]: enum custos_db_func, with CUSTOS_DB_LAYOUT_*
 * flags. 0, or a negative errno.
 */
int loader_attach_db_probes(struct loader *loader, const char *path, const uint64_t *offsets,
			    const uint64_t *cookies, size_t n, bool at_return);

/*
 * The kernel's drop counters, summed; ring_by_cpu (loader_nr_cpus() of them,
 * or NULL) gets the ring-buffer losses of each CPU.
 */
int loader_read_drops(const struct loader *loader, struct custos_drops *sum, uint64_t *ring_by_cpu);
int loader_nr_cpus(const struct loader *loader);

const char *loader_cap_status_name(enum loader_cap_status status);

#endif /* CUSTOS_LOADER_H */
