/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Watch rules resolved to identities: paths and globs become (device, inode)
 * entries, executables to exclude become inodes too, and the set is written
 * to the kernel's maps. Resolving again (SIGHUP, rescan) and applying the
 * new set changes only what differs.
 */
#ifndef CUSTOS_WATCH_H
#define CUSTOS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <custos/abi.h>
#include "config/config.h"

struct watch_item {
	uint64_t ino;
	uint32_t dev;  /* kernel encoding (major << 20 | minor) */
	uint32_t rule; /* index in the config's rules */
	uint32_t kind; /* enum custos_watch_kind */
	char *path;    /* as resolved; for messages */
};

/* A directory holding a watched file: a name in it may be that file (changes by name). */
struct watch_dir {
	uint64_t ino;
	uint32_t dev;
};

struct watch_exe {
	uint64_t ino;
	uint32_t dev;
	uint64_t mask; /* rules excluded; bit CUSTOS_RULE_ALL for every rule */
};

struct watch_name_mask {
	char comm[CUSTOS_COMM_LEN];
	uint64_t mask;
};

struct watch_uid_mask {
	uint32_t uid;
	uint64_t mask;
};

/* One key of the kernel's endpoints trie (struct custos_endpoint_key) and its endpoint. */
struct watch_endpoint {
	struct custos_endpoint_key key;
	uint32_t rule;	/* n_rules + the endpoint's index in the config */
	uint32_t parse; /* enum custos_wire_protocol */
};

/* A unix socket endpoint: its socket file's identity. */
struct watch_unix {
	struct custos_inode_key key;
	uint32_t rule;
	uint32_t parse; /* enum custos_wire_protocol */
};

struct watch_set {
	struct watch_item *items; /* sorted by (dev, ino) */
	size_t n_items;
	struct watch_exe *exes;
	size_t n_exes;
	struct watch_dir *file_dirs; /* sorted, unique */
	size_t n_file_dirs;
	struct watch_name_mask *comms;
	size_t n_comms;
	struct watch_uid_mask *uids;
	size_t n_uids;
	struct watch_endpoint *endpoints; /* a key per port of a range; port 0: every port */
	size_t n_endpoints;
	struct watch_unix *unix_endpoints;
	size_t n_unix_endpoints;
	char **warnings; /* paths that match nothing, and the like */
	size_t n_warnings;
	uint32_t generation; /* of the config; the kernel gets rule ids, see CUSTOS_RULE_INDEX */
};

/* Map fds the set is written to. */
struct watch_maps {
	int inodes, devs, comms, uids, exes, file_dirs, endpoints, unix_endpoints;
};

uint32_t watch_kernel_dev(dev_t dev);

/* Resolves cfg against the filesystem now. 0 or -errno (only for ENOMEM). */
int watch_resolve(const struct config *cfg, struct watch_set *out);
void watch_set_free(struct watch_set *set);

/* Entries the kernel's watch map gets for this set: room to grow on reload. */
uint32_t watch_map_size(const struct watch_set *set);

/* Writes next to the maps and removes what only prev had (prev may be NULL). */
int watch_apply(const struct watch_maps *maps, const struct watch_set *next,
		const struct watch_set *prev);

const struct watch_item *watch_find(const struct watch_set *set, uint32_t dev, uint64_t ino);
/* The entry covering an existing path: its inode or its nearest watched ancestor. */
const struct watch_item *watch_match_path(const struct watch_set *set, const char *path);
/* The watched file (kind CUSTOS_WATCH_FILE) resolved from exactly this path, if any. */
const struct watch_item *watch_find_file_path(const struct watch_set *set, const char *path);

/* Rule mask for which a process is excluded; exe_dev/exe_ino may be 0 if unknown. */
uint64_t watch_excluded(const struct watch_set *set, const char *comm, uint32_t uid,
			uint32_t exe_dev, uint64_t exe_ino);

#endif /* CUSTOS_WATCH_H */
