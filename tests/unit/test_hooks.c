// SPDX-License-Identifier: GPL-2.0
/*
 * The hook table against the two BPF objects the binary carries (every
 * program serves a hook, every hook's programs exist), and the choice of a
 * tp_btf program by its tracepoint's signature, on BTF made here.
 */
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <custos/abi.h>
#include "kernel/dbprobe.h"
#include "kernel/hooks.h"

#include "custos.skel.h"
#include "custos_compat.skel.h"
#include "test.h"

static struct bpf_object *open_object(const void *(*elf_bytes)(size_t *))
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "custos");
	size_t size;
	const void *bytes = elf_bytes(&size);

	return bpf_object__open_mem(bytes, size, &opts);
}

static bool served_by_table(const char *name)
{
	return hook_program_cap(name) != HOOK_CAP_COUNT;
}

struct db_check {
	struct bpf_object *compat;
	int missing;
};

static void check_db_function(uint32_t func, bool at_return, void *ctx)
{
	struct db_check *c = ctx;
	char name[64];

	hook_db_program(name, sizeof(name), func, false);
	if (!ASSERT_OK_PTR(bpf_object__find_program_by_name(c->compat, name), name))
		c->missing++;
	hook_db_program(name, sizeof(name), func, true);
	if (at_return && !ASSERT_OK_PTR(bpf_object__find_program_by_name(c->compat, name), name))
		c->missing++;
}

TEST(hooks_cover_both_objects)
{
	struct bpf_object *modern = open_object(custos_bpf__elf_bytes);
	struct bpf_object *compat = open_object(custos_compat_bpf__elf_bytes);
	struct db_check db = {.compat = compat};
	const struct hook_def *defs;
	struct bpf_program *prog;
	size_t i, n = hooks_table(&defs);
	int v;

	if (!ASSERT_OK_PTR(modern, "open the modern object") ||
	    !ASSERT_OK_PTR(compat, "open the compat object"))
		goto cleanup;
	/* Every program of either object serves a hook of the table... */
	bpf_object__for_each_program(prog, modern)
	    ASSERT_TRUE(served_by_table(bpf_program__name(prog)), bpf_program__name(prog));
	bpf_object__for_each_program(prog, compat)
	{
		const char *name = bpf_program__name(prog);

		if (strncmp(name, "uprobe__db_entry_", 17) &&
		    strncmp(name, "uretprobe__db_return_", 21))
			ASSERT_TRUE(served_by_table(name), name);
	}
	/* ... and every program the table names is in both. */
	for (i = 0; i < n; i++) {
		for (v = 0; v < HOOK_VARIANTS_MAX && defs[i].variants[v].program; v++) {
			ASSERT_OK_PTR(
			    bpf_object__find_program_by_name(modern, defs[i].variants[v].program),
			    defs[i].variants[v].program);
			ASSERT_OK_PTR(
			    bpf_object__find_program_by_name(compat, defs[i].variants[v].program),
			    defs[i].variants[v].program);
		}
		if (defs[i].alternative)
			ASSERT_TRUE(strcmp(defs[i].alternative, defs[i].attach),
				    "alternative of itself");
	}
	/* Without attach cookies, each probed database function has its own programs. */
	dbprobe_each_function(check_db_function, &db);
	ASSERT_EQ(db.missing, 0, "database functions without a compat program");
cleanup:
	bpf_object__close(modern);
	bpf_object__close(compat);
}

/* The types a tracepoint's arguments name below, by id. */
static struct btf *io_uring_types(void)
{
	struct btf *btf = btf__new_empty();

	btf__add_ptr(btf, 0);			     /* 1: void * */
	btf__add_int(btf, "int", 4, BTF_INT_SIGNED); /* 2 */
	btf__add_int(btf, "u64", 8, 0);		     /* 3 */
	btf__add_struct(btf, "io_uring_cqe", 16);    /* 4 */
	btf__add_ptr(btf, 4);			     /* 5: struct io_uring_cqe * */
	btf__add_struct(btf, "io_kiocb", 256);	     /* 6 */
	btf__add_ptr(btf, 6);			     /* 7: struct io_kiocb * */
	btf__add_int(btf, "unsigned int", 4, 0);     /* 8 */
	btf__add_int(btf, "bool", 1, BTF_INT_BOOL);  /* 9 */
	return btf;
}

/* Adds typedef btf_trace_<tp>: a pointer to a probe (void *, args...). */
static void add_trace(struct btf *btf, const char *tp, const int *args, int nargs)
{
	char name[128];
	int proto, i;

	proto = btf__add_func_proto(btf, 0);
	btf__add_func_param(btf, "__data", 1);
	for (i = 0; i < nargs; i++)
		btf__add_func_param(btf, "", args[i]);
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	btf__add_typedef(btf, name, btf__add_ptr(btf, proto));
}

/* Which variant of a hook the kernel whose tracepoint has these arguments gets. */
static const char *chosen(const char *attach, const int *args, int nargs)
{
	const char *tp = strchr(attach, '/') + 1, *found = NULL;
	struct btf *btf = io_uring_types();
	const struct hook_def *defs;
	size_t i, n = hooks_table(&defs);
	int v;

	add_trace(btf, tp, args, nargs);
	for (i = 0; i < n && !found; i++) {
		if (strcmp(defs[i].attach, attach))
			continue;
		for (v = 0; v < HOOK_VARIANTS_MAX && defs[i].variants[v].program && !found; v++)
			if (hook_variant_matches(btf, tp, &defs[i].variants[v]))
				found = defs[i].variants[v].program;
	}
	btf__free(btf);
	return found;
}

TEST(hooks_variant_by_signature)
{
	/* Argument type ids of io_uring_types(). */
	const int v618[] = {1, 1, 5}; /* (ctx, req, cqe) */
	const int v61[] = {1, 1, 3, 2,
			   8, 3, 3};	 /* (ctx, req, user_data, res, cflags, extra1, extra2) */
	const int v510[] = {1, 3, 2, 8}; /* (ctx, user_data, res, cflags) */
	const int sqe61[] = {7, 9};	 /* (req, force_nonblock) */
	const int sqe510[] = {1, 1, 9, 3, 8, 9, 9}; /* (ctx, req, opcode, user_data, flags, ...) */
	const int other[] = {1, 1};

	ASSERT_STREQ(chosen("tp_btf/io_uring_complete", v618, 3), "tp_btf__io_uring_complete",
		     "6.18");
	ASSERT_STREQ(chosen("tp_btf/io_uring_complete", v61, 7), "tp_btf__io_uring_complete_res",
		     "6.1");
	ASSERT_STREQ(chosen("tp_btf/io_uring_complete", v510, 4), "tp_btf__io_uring_complete_ud",
		     "5.10");
	ASSERT_NULL(chosen("tp_btf/io_uring_complete", other, 2), "an unknown signature");
	ASSERT_STREQ(chosen("tp_btf/io_uring_submit_sqe", sqe61, 2), "tp_btf__io_uring_submit_sqe",
		     "6.1");
	ASSERT_STREQ(chosen("tp_btf/io_uring_submit_sqe", sqe510, 7),
		     "tp_btf__io_uring_submit_sqe_ctx", "5.10");
	ASSERT_NULL(chosen("tp_btf/io_uring_submit_req", other, 2),
		    "submit_req with two arguments");
}
