/* SPDX-License-Identifier: GPL-2.0 */
/* Writing records to the ring buffer, waking the agent rarely, counting what is lost. */
#ifndef CUSTOS_RECORD_BPF_H
#define CUSTOS_RECORD_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"
#include "task.bpf.h"
#include <custos/abi.h>

/* Where a record's variable-length data starts (its size may add tail padding). */
#define REC_DATA(rec) ((__u32)offsetof(typeof(*(rec)), data))

static __always_inline void record__count_drop(__u16 type)
{
	struct custos_drops *d;
	__u32 zero = 0, idx = type;

	d = bpf_map_lookup_elem(&drops, &zero);
	if (d && idx < CUSTOS_REC_TYPE_MAX)
		d->ringbuf_full[idx]++;
}

/*
 * The agent polls the ring on a short timer; a wakeup per record would cost
 * more than the record (an IPI on this kind of VM). Wake it only for the
 * record that fills the ring past wakeup_bytes: once per burst, not for
 * every record while the agent catches up.
 */
static __always_inline __u64 record__wakeup_flag(__u32 size)
{
	__u64 queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	return queued < settings.wakeup_bytes && queued + size >= settings.wakeup_bytes
		   ? BPF_RB_FORCE_WAKEUP
		   : BPF_RB_NO_WAKEUP;
}

static __always_inline void record__init(struct custos_rec_hdr *hdr, __u16 type, __u32 size)
{
	hdr->ktime_ns = bpf_ktime_get_boot_ns();
	hdr->type = type;
	hdr->pad = 0;
	hdr->size = size;
}

/* Reserves a fixed-size record; counts a drop when the ring is full. */
static __always_inline void *record__reserve(__u16 type, __u32 size)
{
	struct custos_rec_hdr *hdr = bpf_ringbuf_reserve(&events, size, 0);

	if (!hdr) {
		record__count_drop(type);
		return NULL;
	}
	record__init(hdr, type, size);
	return hdr;
}

static __always_inline void record__submit(void *rec)
{
	bpf_ringbuf_submit(rec, record__wakeup_flag(((struct custos_rec_hdr *)rec)->size));
}

/*
 * Per-CPU room for a variable-length record. Only for programs that run with
 * preemption disabled (syscall tracepoints), so no other program can be
 * halfway through the same buffer on this CPU.
 */
static __always_inline void *record__scratch_slot(__u16 type, __u32 slot)
{
	struct custos_rec_hdr *hdr = bpf_map_lookup_elem(&scratch, &slot);

	if (hdr)
		record__init(hdr, type, 0);
	return hdr;
}

#define record__scratch(type) record__scratch_slot(type, SCRATCH_TRACE)

/* Copies the first size bytes of a scratch record to the ring. */
static __always_inline void record__output(void *rec, __u32 size)
{
	struct custos_rec_hdr *hdr = rec;

	size &= SCRATCH_SIZE - 1; /* records are built well below it; this tells the verifier */
	hdr->size = size;
	if (bpf_ringbuf_output(&events, rec, size, record__wakeup_flag(size)))
		record__count_drop(hdr->type);
}

#endif /* CUSTOS_RECORD_BPF_H */
