// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring: reads, writes, opens and closes that never enter the read,
 * write, open or close syscalls. Why these tracepoints: io_uring_complete
 * fires with the request and its result (bytes, or the new fd) while the
 * request still holds its file; io_uring_submit_req fires while a close's
 * fd still leads to its file. Completions run in the submitting process
 * (its thread, an io-wq worker or the SQPOLL thread: the same fd table).
 * Not seen: requests with IOSQE_CQE_SKIP_SUCCESS (no completion event on
 * success), opens into direct descriptors, refused opens.
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
	       op == IORING_OP_READV_FIXED;
}

static __always_inline bool uring__is_write(__u8 op)
{
	return op == IORING_OP_WRITE || op == IORING_OP_WRITEV || op == IORING_OP_WRITE_FIXED ||
	       op == IORING_OP_WRITEV_FIXED;
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(tp_btf__io_uring_complete, void *ctx_, void *req_addr, struct io_uring_cqe *cqe)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct io_kiocb *req;
	__s32 res = cqe->res;
	__u8 op;

	if (!req_addr || task->tgid == agent_tgid)
		return 0;
	req = kptr(struct io_kiocb, req_addr);
	op = req->opcode;
	if (res > 0 && (uring__is_read(op) || uring__is_write(op))) {
		if (*(volatile __s64 *)&open_files_tracked && req->file)
			open_file__count(task, (__u64)req->file, -1, res, uring__is_write(op));
	} else if (res >= 0 && (op == IORING_OP_OPENAT || op == IORING_OP_OPENAT2)) {
		struct io_open *open = kptr(struct io_open, &req->cmd);

		/* Into a direct descriptor, res is a slot of the ring, not an fd. */
		if (!open->file_slot)
			file_open__fd(task, res, open->how.flags, CUSTOS_OPEN_IO_URING);
	} else if (res == 0 && (op == IORING_OP_RENAMEAT || op == IORING_OP_UNLINKAT)) {
		/* As for the syscalls: cached directory verdicts may be wrong now. */
		__sync_fetch_and_add(&verdict_epoch, 1);
	}
	return 0;
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(tp_btf__io_uring_submit_req, struct io_kiocb *req)
{
	struct task_struct *task;
	struct io_close *close;
	__u64 file_addr;

	if (req->opcode != IORING_OP_CLOSE || !*(volatile __s64 *)&open_files_tracked)
		return 0;
	close = kptr(struct io_close, &req->cmd);
	if (close->file_slot)
		return 0;
	task = bpf_get_current_task_btf();
	file_addr = task__fd_file(task, close->fd);
	if (file_addr)
		open_file__release(task, file_addr, CUSTOS_CLOSE_CLOSE);
	return 0;
}
