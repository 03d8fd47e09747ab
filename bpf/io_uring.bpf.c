// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring: reads, writes, sends, receives, opens and closes that never
 * enter the read, write, send, receive, open or close syscalls. Why these tracepoints:
 * io_uring_complete fires with the request and its result (bytes, or the new fd) while the request
 * still holds its file; io_uring_submit_req fires while a close's fd still leads to its file.
 * Completions run in the submitting process (its thread, an io-wq worker or the SQPOLL thread: the
 * same fd table). Not seen: requests with IOSQE_CQE_SKIP_SUCCESS (no completion event on success),
 * opens into direct descriptors, refused opens.
 */
#include "common.bpf.h"
#include "maps.bpf.h"
#include "open_file.bpf.h"
#include "task.bpf.h"
#include <bpf/bpf_tracing.h>

/* io_uring opcodes (stable uapi values). */
#define IORING_OP_READV	       1
#define IORING_OP_WRITEV       2
#define IORING_OP_READ_FIXED   4
#define IORING_OP_WRITE_FIXED  5
#define IORING_OP_SENDMSG      9
#define IORING_OP_RECVMSG      10
#define IORING_OP_SEND	       26
#define IORING_OP_RECV	       27
#define IORING_OP_SEND_ZC      47
#define IORING_OP_SENDMSG_ZC   48
#define IORING_OP_OPENAT       18
#define IORING_OP_CLOSE	       19
#define IORING_OP_READ	       22
#define IORING_OP_WRITE	       23
#define IORING_OP_OPENAT2      28
#define IORING_OP_RENAMEAT     35
#define IORING_OP_UNLINKAT     36
#define IORING_OP_READV_FIXED  60
#define IORING_OP_WRITEV_FIXED 61

/* REQ_F_FIXED_FILE mirrors IOSQE_FIXED_FILE (the enum has no BTF name to relocate). */
#define REQ_F_FIXED_FILE 1

static __always_inline bool uring__is_read(__u8 op)
{
	return op == IORING_OP_READ || op == IORING_OP_READV || op == IORING_OP_READ_FIXED ||
	       op == IORING_OP_READV_FIXED || op == IORING_OP_RECV || op == IORING_OP_RECVMSG;
}

static __always_inline bool uring__is_write(__u8 op)
{
	return op == IORING_OP_WRITE || op == IORING_OP_WRITEV || op == IORING_OP_WRITE_FIXED ||
	       op == IORING_OP_WRITEV_FIXED || op == IORING_OP_SEND || op == IORING_OP_SENDMSG ||
	       op == IORING_OP_SEND_ZC || op == IORING_OP_SENDMSG_ZC;
}

/* What a completion needs of its request. */
struct uring_req {
	__u64 file;	    /* read and write: the file */
	__u32 open_flags;   /* openat: its flags */
	__u32 file_slot;    /* openat: non-zero into a direct descriptor */
	__u32 unlink_flags; /* unlinkat: AT_REMOVEDIR for a directory */
	__u8 opcode;
	__u8 pad[3];
};

/*
 * The per-opcode data sits at the start of struct io_kiocb on every kernel
 * (a union of the per-op structs before 5.19, struct io_cmd_data since), so
 * an io_open is read at the request's own address.
 */
static __always_inline void uring__req(__u64 req_addr, struct uring_req *out)
{
	struct io_kiocb *req = kptr(struct io_kiocb, req_addr);
	struct io_open *open = kptr(struct io_open, req_addr);

	out->opcode = KR(req, opcode);
	/* A number, not a typed pointer: it is passed on to a global function (wire.bpf.h). */
	out->file = 0;
	bpf_probe_read_kernel(&out->file, sizeof(out->file), &req->file);
	out->open_flags = KR(open, how.flags);
	out->file_slot = KR(open, file_slot);
	out->unlink_flags = 0;
	/* IORING_OP_UNLINKAT is from Linux 5.11: older kernels have no io_unlink. */
	if (out->opcode == IORING_OP_UNLINKAT && bpf_core_type_exists(struct io_unlink))
		out->unlink_flags = KR(kptr(struct io_unlink, req_addr), flags);
}

/* A request completed with res (bytes, or the new fd). */
static __always_inline void uring__done(const struct uring_req *r, __s32 res)
{
	struct task_struct *task = current_task();
	__u8 op = r->opcode;

	if (task__is_agent(task))
		return;
	if (res > 0 && (uring__is_read(op) || uring__is_write(op))) {
		if (STATE(open_files_tracked) && r->file)
			open_file__count(task, r->file, -1, res, uring__is_write(op), 0, 0);
	} else if (res >= 0 && (op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2)) {
		/* Into a direct descriptor, res is a slot of the ring, not an fd. */
		if (!r->file_slot)
			file_open__fd(task, res, r->open_flags, CUSTOS_OPEN_IO_URING);
	} else if (res == 0 && (op == IORING_OP_RENAMEAT ||
				(op == IORING_OP_UNLINKAT && (r->unlink_flags & AT_REMOVEDIR)))) {
		/* As for the syscalls: a directory moved or removed (see file_change.bpf.c). */
		__sync_fetch_and_add(&state.verdict_epoch, 1);
	}
}

static __always_inline void uring__complete(__u64 req_addr, __s32 res)
{
	struct uring_req r;

	if (!req_addr)
		return;
	uring__req(req_addr, &r);
	uring__done(&r, res);
}

/*
 * Where io_uring_complete has no request (5.10: ctx, user_data, res,
 * cflags), what a completion needs is kept at submission, by ring and
 * user_data. Two requests in flight with the same user_data on one ring
 * would be confused: applications give each its own.
 */
struct uring_key {
	__u64 ctx;
	__u64 user_data;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct uring_key);
	__type(value, struct uring_req);
} uring_pending SEC(".maps");

static __always_inline bool uring__needs_result(__u8 op)
{
	return uring__is_read(op) || uring__is_write(op) || op == IORING_OP_OPENAT ||
	       op == IORING_OP_OPENAT2 || op == IORING_OP_RENAMEAT || op == IORING_OP_UNLINKAT;
}

static __always_inline void uring__remember(__u64 ctx, __u64 req_addr, __u64 user_data)
{
	struct uring_key key = {.ctx = ctx, .user_data = user_data};
	struct uring_req r;

	if (!req_addr)
		return;
	uring__req(req_addr, &r);
	if (uring__needs_result(r.opcode))
		bpf_map_update_elem(&uring_pending, &key, &r, BPF_ANY);
}

static __always_inline void uring__complete_by_key(__u64 ctx, __u64 user_data, __s32 res)
{
	struct uring_key key = {.ctx = ctx, .user_data = user_data};
	struct uring_req *found = bpf_map_lookup_elem(&uring_pending, &key), r;

	if (!found)
		return;
	r = *found;
	bpf_map_delete_elem(&uring_pending, &key);
	uring__done(&r, res);
}

/* A request is submitted: a close's fd still leads to its file. */
static __always_inline void uring__submit(__u64 req_addr)
{
	struct io_kiocb *req = kptr(struct io_kiocb, req_addr);
	struct task_struct *task;
	struct io_close *close;
	__u64 file_addr;

	if (!req_addr || KR(req, opcode) != IORING_OP_CLOSE || !STATE(open_files_tracked))
		return;
	close = kptr(struct io_close, req_addr);
	if (KR(close, file_slot))
		return;
	task = current_task();
	file_addr = task__fd_file(task, KR(close, fd));
	if (file_addr)
		open_file__release(task, file_addr, CUSTOS_CLOSE_CLOSE);
}

/*
 * One program per signature of each tracepoint; the loader loads the one
 * whose arguments match the kernel's btf_trace_<name> typedef
 * (user/kernel/loader.c); the comments name kernels where each was seen.
 * (ctx, req, struct io_uring_cqe *cqe): 6.18.
 */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(tp_btf__io_uring_complete, void *ctx_, void *req, struct io_uring_cqe *cqe)
{
	uring__complete((__u64)req, KR(cqe, res));
	return 0;
}

/* (ctx, req, user_data, res, cflags[, extra1, extra2]): 5.10, 6.1, 6.12. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(tp_btf__io_uring_complete_res, void *ctx_, void *req, __u64 user_data, int res)
{
	uring__complete((__u64)req, res);
	return 0;
}

/* io_uring_submit_req(req): 6.12, 6.18. */
SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(tp_btf__io_uring_submit_req, struct io_kiocb *req)
{
	uring__submit((__u64)req);
	return 0;
}

/* io_uring_submit_sqe(req, force_nonblock): 6.1. */
SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(tp_btf__io_uring_submit_sqe, struct io_kiocb *req)
{
	uring__submit((__u64)req);
	return 0;
}

/* io_uring_submit_sqe(ctx, req, opcode, user_data, ...): 5.10; its completions are paired. */
SEC("tp_btf/io_uring_submit_sqe")
int BPF_PROG(tp_btf__io_uring_submit_sqe_ctx, void *ring, void *req, __u8 opcode, __u64 user_data)
{
	uring__submit((__u64)req);
	uring__remember((__u64)ring, (__u64)req, user_data);
	return 0;
}

/* (ctx, user_data, res, cflags): 5.10, paired with its submission. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(tp_btf__io_uring_complete_ud, void *ring, __u64 user_data, int res)
{
	uring__complete_by_key((__u64)ring, user_data, res);
	return 0;
}
