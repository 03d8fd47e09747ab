/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What this host offers the agent, for `custos check`: BTF, the ring buffer,
 * each kind of BPF hook (probed by loading, and attaching for an instant, a
 * program that does nothing), the filesystems; and the agent's own object
 * loaded as it would start: for each capability and each of its hooks,
 * available, served by a fallback, or missing, and why.
 */
#ifndef CUSTOS_FEATURES_H
#define CUSTOS_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "kernel/loader.h"

enum feature_id {
	FEATURE_BTF,
	FEATURE_RINGBUF,
	FEATURE_TRACEPOINT,
	FEATURE_TP_BTF,
	FEATURE_RAW_TP,
	FEATURE_FENTRY,
	FEATURE_LSM,
	FEATURE_KPROBE,
	FEATURE_UPROBE,
	FEATURE_UPROBE_MULTI,
	FEATURE_ITER,
	FEATURE_COUNT,
};

struct feature {
	const char *name;  /* key in JSON: "tp_btf" */
	const char *label; /* "BTF raw tracepoints (tp_btf)" */
	bool used;	   /* by this agent (fentry, BPF LSM and kprobes are not) */
	bool probed;	   /* false when it could not be tried (not root) */
	bool available;
	char why[256]; /* when not available or not probed: what was tried, what failed */
};

enum fs_id {
	FS_BPFFS,
	FS_TRACEFS,
	FS_DEBUGFS,
	FS_COUNT,
};

struct fs_state {
	const char *name, *path;
	const char *role; /* what the agent does with it */
	bool mounted;
};

enum cap_status {
	CAP_AVAILABLE,
	CAP_FALLBACK, /* seen, by a fallback: what differs is said */
	CAP_MISSING,  /* not seen; required: the agent refuses to start */
	CAP_UNKNOWN,  /* not probed (not root) */
	CAP_UNUSED,   /* a hook this kernel lacks, whose alternative serves instead */
};

struct features {
	char kernel[200]; /* "Linux 6.18.4 x86_64" */
	bool root;	  /* BPF probes need privileges; without, only BTF and mounts are read */
	struct feature feature[FEATURE_COUNT];
	struct fs_state fs[FS_COUNT];
	/*
	 * The agent's own load, as it would start (loader_probe): the object,
	 * each hook and capability. load_error: why it could not.
	 */
	bool loaded;
	int load_ret;
	char load_error[512];
	struct loader_report report;
};

enum features_verdict {
	FEATURES_READY,	   /* every capability is available, or served by a fallback */
	FEATURES_DEGRADED, /* the agent runs, without some capabilities */
	FEATURES_MISSING,  /* the agent cannot run here */
	FEATURES_UNKNOWN,  /* not probed: not root */
};

/*
 * Probes this host: loads and attaches tiny BPF programs, then loads the
 * agent's own object as it would start (with opts: its ring and map
 * sizes), attaching nothing. If tracefs is not mounted, mounts it in a
 * private mount namespace of this process first, so nothing changes for
 * the rest of the system.
 */
void features_probe(struct features *f, const struct loader_options *opts);

enum features_verdict features_verdict(const struct features *f);
const char *features_verdict_name(enum features_verdict v);

/* The report for a terminal, and as one JSON object (NULL if out of memory). */
void features_print(const struct features *f, FILE *out);
json_t *features_json(const struct features *f);

#endif /* CUSTOS_FEATURES_H */
