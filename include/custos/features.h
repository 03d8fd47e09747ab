/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What this host offers the agent, for `custos check`: BTF, the ring buffer,
 * each kind of BPF hook (probed by loading, and attaching for an instant, a
 * program that does nothing), the filesystems; and from that, the hook the
 * agent would use for each thing it watches, and what is degraded and why.
 */
#ifndef CUSTOS_FEATURES_H
#define CUSTOS_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum feature_id {
	FEATURE_BTF,
	FEATURE_RINGBUF,
	FEATURE_RDONLY_CAST,
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
	CAP_OK,
	CAP_DEGRADED, /* runs, but this is not seen (or seen less well) */
	CAP_MISSING,  /* required: the agent refuses to start */
	CAP_UNKNOWN,  /* not probed (not root) */
};

/* One thing the agent watches, and how it would here. */
struct capability {
	const char *name;  /* "file-open" */
	const char *label; /* "file opens" */
	bool required;	   /* the agent refuses to run without it */
	enum cap_status status;
	char hook[160];		   /* the hook the agent uses for it */
	const char *const *attach; /* attach points of its programs probed here, NULL-ended */
	/* When not ok: "<cause_of>: <cause>", and what is not seen (NULL if unknown). */
	const char *cause_of, *cause, *lost;
};

#define FEATURES_CAPS_MAX 12

struct features {
	char kernel[200]; /* "Linux 6.18.4 x86_64" */
	bool root;	  /* BPF probes need privileges; without, only BTF and mounts are read */
	struct feature feature[FEATURE_COUNT];
	struct fs_state fs[FS_COUNT];
	struct capability caps[FEATURES_CAPS_MAX];
	size_t n_caps;
};

enum features_verdict {
	FEATURES_READY,	   /* every hook the agent uses works here */
	FEATURES_DEGRADED, /* the agent runs, without some of them */
	FEATURES_MISSING,  /* the agent cannot run here */
	FEATURES_UNKNOWN,  /* not probed: not root */
};

/*
 * Probes this host. Loads and attaches tiny BPF programs (as root); if
 * tracefs is not mounted, mounts it in a private mount namespace of this
 * process first, so nothing changes for the rest of the system.
 */
void features_probe(struct features *f);

enum features_verdict features_verdict(const struct features *f);
const char *features_verdict_name(enum features_verdict v);
const char *features_status_name(enum cap_status s);

/* The report for a terminal, and as one JSON object (NULL if out of memory). */
void features_print(const struct features *f, FILE *out);
json_t *features_json(const struct features *f);

#endif /* CUSTOS_FEATURES_H */
