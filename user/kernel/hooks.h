/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every hook of the BPF object: the capability (hook family) it belongs to,
 * whether the agent can run without it, and the programs that can serve it
 * (one per tracepoint signature where kernels differ). The loader decides
 * from this table which programs to load; `custos check` and agent-start
 * report by it. One table, so the two cannot disagree.
 */
#ifndef CUSTOS_HOOKS_H
#define CUSTOS_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

struct btf;

/* What the agent watches; a capability's hooks are loaded or dropped together. */
enum hook_cap {
	HOOK_CAP_FILE_OPEN,
	HOOK_CAP_FILE_READ,
	HOOK_CAP_FILE_WRITE,
	HOOK_CAP_FILE_MMAP,
	HOOK_CAP_FILE_CLOSE,
	HOOK_CAP_FILE_CHANGE,
	HOOK_CAP_PROCESS_EXIT,
	HOOK_CAP_PROCESS_EXEC,
	HOOK_CAP_IO_URING,
	HOOK_CAP_CONTAINERS,
	HOOK_CAP_OPEN_FILES,
	HOOK_CAP_DATABASES,
	HOOK_CAP_NETWORK,
	HOOK_CAP_COUNT,
};

struct hook_cap_def {
	const char *name;  /* "file-open" */
	const char *label; /* "file opens" */
	bool required;	   /* the core: the agent refuses to run without it */
	const char *lost;  /* what is not seen without it */
};

/*
 * A program that can serve a hook, and the tracepoint signature it expects
 * (for tp_btf: the arguments of btf_trace_<name> after its data pointer).
 */
struct hook_variant {
	const char *program;
	int nargs;		/* 0: any */
	int arg;		/* -1: no check; else this argument ... */
	const char *arg_struct; /* ... points to this struct */
	const char *signature;	/* for people: "(ctx, req, cqe)" */
};

#define HOOK_VARIANTS_MAX 3

struct hook_def {
	const char *attach; /* the section: "tracepoint/syscalls/sys_exit_openat", "uprobe" */
	enum hook_cap cap;
	bool required;		 /* without it the capability is missing */
	const char *alternative; /* another hook that serves the same purpose on other kernels */
	struct hook_variant variants[HOOK_VARIANTS_MAX]; /* tried in order */
};

const struct hook_cap_def *hook_cap(enum hook_cap cap);
size_t hooks_table(const struct hook_def **defs);

/* The capability of the hook a program of the table serves (HOOK_CAP_COUNT: none). */
enum hook_cap hook_program_cap(const char *program);

/* Does the typedef btf_trace_<tracepoint> of vmlinux have the arguments the variant expects? */
bool hook_variant_matches(const struct btf *vmlinux, const char *tracepoint,
			  const struct hook_variant *v);

/* The compat object serves database probes with a program per function: its name. */
void hook_db_program(char *buf, size_t len, unsigned func, bool at_return);

#endif /* CUSTOS_HOOKS_H */
