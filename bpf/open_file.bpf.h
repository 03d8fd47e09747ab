/* SPDX-License-Identifier: GPL-2.0 */
/* Watched files open now: tracking and their summary records. */
#ifndef CUSTOS_OPEN_FILE_BPF_H
#define CUSTOS_OPEN_FILE_BPF_H

#include "common.bpf.h"
#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "wire.bpf.h"

/*
 * Inserts into and deletes from open_files keep state.open_files_tracked,
 * bracketed by the ops counters that tell the agent when the table was
 * quiet (struct custos_bpf_state).
 */
static __always_inline bool open_file__insert(__u64 *file_addr, struct custos_open_file *of,
					      __u64 flags)
{
	bool added;

	__sync_fetch_and_add(&state.open_files_ops_begun, 1);
	added = bpf_map_update_elem(&open_files, file_addr, of, flags) == 0;
	if (added)
		__sync_fetch_and_add(&state.open_files_tracked, 1);
	__sync_fetch_and_add(&state.open_files_ops_done, 1);
	return added;
}

static __always_inline void open_file__delete(__u64 *file_addr)
{
	__sync_fetch_and_add(&state.open_files_ops_begun, 1);
	if (bpf_map_delete_elem(&open_files, file_addr) == 0)
		__sync_fetch_and_add(&state.open_files_tracked, -1);
	__sync_fetch_and_add(&state.open_files_ops_done, 1);
}

/*
 * Sends the counters io of process counters_tgid for an open watched file.
 * With final set the file is released: its entry is deleted.
 */
static __always_inline void open_file__summarize(struct task_struct *task, __u64 file_addr,
						 struct custos_open_file *of,
						 const struct custos_io *io, __u32 counters_tgid,
						 __u32 reason, bool final)
{
	struct custos_file_close *rec;

	rec = record__reserve(CUSTOS_REC_FILE_CLOSE, sizeof(*rec));
	if (rec) {
		/* The opener itself, still the same (credentials, program): userspace knows it. */
		rec->by_opener = KR(task, pid) == of->opener_tid &&
				 (__u64)KR(task, cred) == of->opener_cred &&
				 (__u64)KR(task, mm) == of->opener_mm;
		if (rec->by_opener) {
			rec->task.tgid = KR(task, tgid);
			rec->task.tid = KR(task, pid);
		} else {
			task__fill(&rec->task, task);
		}
		rec->open_id = of->open_id;
		rec->ino = of->ino;
		rec->dev = of->dev;
		rec->rule = of->rule;
		rec->io = *io;
		rec->counters_tgid = counters_tgid;
		rec->reason = reason;
		rec->final = final;
		record__submit(rec);
	}
	if (final && of->wire)
		bpf_map_delete_elem(&wire_conns, &file_addr);
	if (final)
		open_file__delete(&file_addr);
}

/*
 * The tracked open file at file_addr, if file_addr is still that file. A
 * struct file released without a close we saw (dup2 over its fd,
 * close_range) can be reused for another file: then the old entry is
 * summarized and dropped, and nothing is counted for the new file.
 */
static __always_inline struct custos_open_file *open_file__lookup(struct task_struct *task,
								  __u64 file_addr)
{
	struct custos_open_file *of;
	struct inode *inode;

	if (!STATE(open_files_tracked))
		return NULL;
	of = bpf_map_lookup_elem(&open_files, &file_addr);
	if (!of)
		return NULL;
	inode = KR(kptr(struct file, file_addr), f_inode);
	if (KR(inode, i_ino) == of->ino && KR(inode, i_sb, s_dev) == of->dev)
		return of;
	open_file__summarize(task, file_addr, of, &of->io, of->owner_tgid, CUSTOS_CLOSE_REUSED,
			     true);
	return NULL;
}

/* The first use of the file by a process that did not open it: the agent names it. */
static __always_inline void open_file__shared(struct task_struct *task, struct custos_open_file *of,
					      __s32 fd)
{
	struct custos_file_shared *rec;

	rec = record__reserve(CUSTOS_REC_FILE_SHARED, sizeof(*rec));
	if (!rec)
		return;
	task__fill(&rec->task, task);
	rec->open_id = of->open_id;
	rec->ino = of->ino;
	rec->dev = of->dev;
	rec->rule = of->rule;
	rec->opener_tgid = of->owner_tgid;
	rec->fd = fd;
	record__submit(rec);
}

/*
 * Where to count the task's I/O through an open file: the opener's counters,
 * or the task's own, created (and reported) at its first use.
 */
static __always_inline struct custos_io *open_file__counters(struct task_struct *task,
							     __u64 file_addr,
							     struct custos_open_file *of, __s32 fd)
{
	struct custos_reader_key key = {.file = file_addr, .tgid = KR(task, tgid)};
	struct custos_reader *r, fresh = {.open_id = of->open_id};

	if (key.tgid == of->owner_tgid)
		return &of->io;
	r = bpf_map_lookup_elem(&file_readers, &key);
	if (r && r->open_id == of->open_id)
		return &r->io;
	/* New here, or left from an earlier file at the same address. */
	bpf_map_update_elem(&file_readers, &key, &fresh, BPF_ANY);
	open_file__shared(task, of, fd);
	r = bpf_map_lookup_elem(&file_readers, &key);
	if (!r)
		return NULL;
	return &r->io;
}

/*
 * bytes read or written through file_addr by task; a parsed socket's are
 * walked too, from buf and nvec (wire__buffer; buf 0: none to read).
 */
static __always_inline void open_file__count(struct task_struct *task, __u64 file_addr, __s32 fd,
					     long bytes, bool write, __u64 buf, __s64 nvec)
{
	struct custos_open_file *of = open_file__lookup(task, file_addr);
	struct custos_io *io;

	if (!of)
		return;
	io = open_file__counters(task, file_addr, of, fd);
	if (!io)
		return;
	if (write) {
		__sync_fetch_and_add(&io->bytes_written, bytes);
		__sync_fetch_and_add(&io->write_calls, 1);
	} else {
		__sync_fetch_and_add(&io->bytes_read, bytes);
		__sync_fetch_and_add(&io->read_calls, 1);
	}
	if (of->wire && buf)
		wire__walk_global(file_addr, of->open_id, buf, nvec,
				  (__u64)bytes | (write ? WIRE_WRITE_BIT : 0));
	else if (of->wire)
		wire__unbuffered_global(file_addr, of->open_id, write);
}

/*
 * The task lets go of one reference to file_addr (close, exit, exec). The
 * file is released only if that was the last reference; otherwise a dup,
 * a child or another process still uses it. The task's own counters are
 * reported (and, for another process than the opener, forgotten).
 */
static __always_inline void open_file__release(struct task_struct *task, __u64 file_addr,
					       __u32 reason)
{
	struct custos_open_file *of = open_file__lookup(task, file_addr);
	struct custos_reader_key key = {.file = file_addr};
	struct custos_io none = {};
	struct custos_reader *r;
	bool final;

	if (!of)
		return;
	final = file__ref_count(kptr(struct file, file_addr)) <= 1;
	key.tgid = KR(task, tgid);
	if (key.tgid == of->owner_tgid) {
		open_file__summarize(task, file_addr, of, &of->io, key.tgid, reason, final);
		return;
	}
	r = bpf_map_lookup_elem(&file_readers, &key);
	if (r && r->open_id != of->open_id)
		r = NULL;
	if (r || final)
		open_file__summarize(task, file_addr, of, r ? &r->io : &none, key.tgid, reason,
				     final);
	if (r)
		bpf_map_delete_elem(&file_readers, &key);
}

/* Unique in this boot: the CPU in the top bits, its own count below. */
static __always_inline __u64 open_file__next_id(void)
{
	__u32 zero = 0;
	__u64 *count = bpf_map_lookup_elem(&open_counts, &zero);

	if (!count)
		return 0;
	return (__u64)bpf_get_smp_processor_id() << CUSTOS_OPEN_ID_CPU_SHIFT | ++*count;
}

/* Starts counting a watched open file (or socket); returns its open_id. */
static __always_inline __u64 open_file__track(struct task_struct *task, __u64 file_addr,
					      struct inode *inode, __u32 dev, __u32 rule,
					      __u32 wire)
{
	struct custos_open_file *stale, of = {
					    .open_id = open_file__next_id(),
					    .ino = KR(inode, i_ino),
					    .dev = dev,
					    .rule = rule,
					    .owner_tgid = KR(task, tgid),
					    .opener_tid = KR(task, pid),
					    .opener_cred = (__u64)KR(task, cred),
					    .opener_mm = (__u64)KR(task, mm),
					    .wire = wire,
					};

	if (open_file__insert(&file_addr, &of, BPF_NOEXIST))
		return of.open_id;
	/* The struct file was freed and reused without a close we saw. */
	stale = bpf_map_lookup_elem(&open_files, &file_addr);
	if (stale)
		open_file__summarize(task, file_addr, stale, &stale->io, stale->owner_tgid,
				     CUSTOS_CLOSE_REUSED, true);
	open_file__insert(&file_addr, &of, BPF_ANY);
	return of.open_id;
}

/* Which fds an fd-table scan visits. */
enum fd_scan_set {
	FD_SCAN_OPEN,	 /* open_fds */
	FD_SCAN_CLOEXEC, /* close_on_exec */
};

/* The struct file at fd of the fd array, released if it is watched. */
static __always_inline void fd_scan__release_fd(__u64 fd_array, __u64 fd, __u32 reason)
{
	__u64 file_addr = 0;

	bpf_probe_read_kernel(&file_addr, sizeof(file_addr), (void *)(fd_array + fd * 8));
	if (file_addr)
		open_file__release(current_task(), file_addr, reason);
}

/* What an fd-table scan walks: addresses, since bpf_loop passes them through the stack. */
struct fd_scan {
	__u64 fd_array;	   /* struct file ** */
	__u64 bits;	   /* unsigned long *: which fds to visit */
	__u64 word;	   /* the bits of the word being visited */
	__u64 first, last; /* fds outside [first, last] are left alone */
	__u32 word_idx;
	__u32 words;
	__u32 reason;
};

#ifdef CUSTOS_COMPAT
/*
 * Global functions: the verifier checks each once, not at every place the
 * bounded scan (up to 1024 descriptors) calls it.
 */
__noinline int fd_scan__release_global(__u64 fd_array, __u64 fd, __u32 reason)
{
	fd_scan__release_fd(fd_array, fd, reason);
	return 0;
}

/* The set bits of word word_idx of bits (idx_reason: word_idx | reason << 32). */
__noinline int fd_scan__word_global(__u64 fd_array, __u64 bits, __u64 idx_reason, __u64 first,
				    __u64 last)
{
	__u32 word_idx = (__u32)idx_reason, reason = idx_reason >> 32, bit;
	unsigned long word = 0;

	bpf_probe_read_kernel(&word, sizeof(word), (void *)(bits + (__u64)word_idx * 8));
	_Pragma("clang loop unroll(disable)") for (bit = 0; bit < 64 && word; bit++, word >>= 1)
	{
		__u64 fd = (__u64)word_idx * 64 + bit;

		if ((word & 1) && fd >= first && fd <= last)
			fd_scan__release_global(fd_array, fd, reason);
	}
	return 0;
}

static __always_inline long fd_scan__word(__u32 word_idx, struct fd_scan *scan)
{
	if (word_idx >= scan->words)
		return 1;
	fd_scan__word_global(scan->fd_array, scan->bits, word_idx | (__u64)scan->reason << 32,
			     scan->first, scan->last);
	return 0;
}
#else
static long fd_scan__bit(__u32 bit, struct fd_scan *scan)
{
	__u64 fd = (__u64)scan->word_idx * 64 + bit;

	if (!(scan->word & (1ULL << (bit & 63))) || fd < scan->first || fd > scan->last)
		return 0;
	fd_scan__release_fd(scan->fd_array, fd, scan->reason);
	return 0;
}

static long fd_scan__word(__u32 word_idx, struct fd_scan *scan)
{
	unsigned long word = 0;

	if (word_idx >= scan->words)
		return 1;
	bpf_probe_read_kernel(&word, sizeof(word), (void *)(scan->bits + word_idx * 8));
	if (!word)
		return 0;
	scan->word = word;
	scan->word_idx = word_idx;
	bpf_loop(64, fd_scan__bit, scan, 0);
	return 0;
}
#endif

/*
 * Releases every watched file behind the current task's fds in [first,
 * last] that are in the set (open at exit and close_range, close-on-exec at
 * exec), up to CUSTOS_FD_WORDS_MAX * 64 descriptors (CUSTOS_FD_WORDS_COMPAT
 * * 64 in the compat object).
 */
static __always_inline void fd_scan__release(struct task_struct *task, enum fd_scan_set set,
					     __u64 first, __u64 last, __u32 reason)
{
	struct files_struct *files = KR(task, files);
	struct fd_scan scan = {.reason = reason, .first = first, .last = last};
	struct fdtable *fdt;

	if (!files)
		return;
	fdt = KR(files, fdt);
	scan.fd_array = (__u64)KR(fdt, fd);
	scan.bits =
	    set == FD_SCAN_CLOEXEC ? (__u64)KR(fdt, close_on_exec) : (__u64)KR(fdt, open_fds);
	scan.words = KR(fdt, max_fds) / 64;
	if (scan.words > CUSTOS_FD_WORDS_MAX)
		scan.words = CUSTOS_FD_WORDS_MAX;
	LOOP(scan.words, CUSTOS_FD_WORDS_COMPAT, fd_scan__word, &scan);
}

#endif /* CUSTOS_OPEN_FILE_BPF_H */
