/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF side's lifecycle: mount what the hooks need, probe which hooks this
 * kernel has, load, attach, and hand out the maps. The only owner of the
 * skeleton.
 */
#ifndef CUSTOS_LOADER_H
#define CUSTOS_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/abi.h>

struct loader;

struct loader_options {
	uint32_t agent_tgid;
	uint32_t ring_buffer_mb;
	uint32_t watch_inodes_max; /* size of the watch map */
	bool verbose;		   /* libbpf debug output */
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
	LOADER_MAP_COUNT,
};

/* A hook and whether it is in use on this kernel. */
struct loader_hook {
	const char *program; /* BPF program name */
	const char *attach;  /* attach point, e.g. "tracepoint/syscalls/sys_exit_openat" */
	bool attached;
	const char *why_not; /* when not attached */
};

/*
 * Is the hook of that attach point ("tracepoint/syscalls/sys_exit_openat")
 * one without which the agent refuses to run?
 */
bool loader_hook_required(const char *attach);

/* Loads and attaches everything; NULL with errno set and a message in err. */
struct loader *loader_start(const struct loader_options *opts, char *err, size_t err_len);
void loader_stop(struct loader *loader);

int loader_map_fd(const struct loader *loader, enum loader_map map);
uint32_t loader_map_max_entries(const struct loader *loader, enum loader_map map);
size_t loader_hooks(const struct loader *loader, const struct loader_hook **hooks);

/*
 * After the watch maps changed: the entry counts that let the BPF side skip
 * empty maps, and a new epoch that drops its cached directory verdicts.
 */
void loader_watches_changed(struct loader *loader, uint32_t file_watches, uint32_t comms,
			    uint32_t uids, uint32_t exes);

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

/* Sum of the per-CPU drop counters. */
/* The kernel's drop counters, summed; ring_by_cpu (loader_nr_cpus() of them, or NULL) gets
 * the ring-buffer losses of each CPU. */
int loader_read_drops(const struct loader *loader, struct custos_drops *sum, uint64_t *ring_by_cpu);
int loader_nr_cpus(const struct loader *loader);
/* Bytes the ring buffer holds now. */
uint64_t loader_ring_used(struct loader *loader);

#endif /* CUSTOS_LOADER_H */
