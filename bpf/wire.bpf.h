/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Database wire protocols on the sockets of endpoints marked "parse". Every
 * send and receive on such a socket walks the message headers in the
 * caller's buffer: row messages are counted here and go no further, and
 * only the messages that carry statements, statement names, outcomes and
 * errors are forwarded (wire__keep says which, and how much). Row
 * contents, Bind values, COPY data and authentication never leave the
 * kernel. A stream the walk cannot follow (a length no message has, a
 * call without a readable buffer) is reported lost once and then only
 * counted, never guessed at.
 */
#ifndef CUSTOS_WIRE_BPF_H
#define CUSTOS_WIRE_BPF_H

#include "common.bpf.h"
#include "db_thread.bpf.h"
#include "maps.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"

/* Steps (a header, or a part of a body) one call walks; more and the stream is lost. */
#define WIRE_STEPS	  65536
#define WIRE_STEPS_COMPAT 1024
/* Bytes of a body forwarded at most: a statement's text, with Parse's name before it. */
#define WIRE_KEEP_SQL	  (CUSTOS_SQL_MAX + 256)
/* Statement and portal names (Bind: up to the second NUL only), command tags. */
#define WIRE_KEEP_NAMES	  64
#define WIRE_KEEP_ERROR	  1024
#define WIRE_KEEP_STARTUP 2048
/* PostgreSQL: the longest startup packet a server accepts, a message's length at most. */
#define PG_STARTUP_MAX	  10000
#define PG_MESSAGE_MAX	  0x3fffffff
#define PG_CODE_SSL	  80877103
#define PG_CODE_GSSENC	  80877104
#define PG_CODE_CANCEL	  80877102
#define PG_PROTOCOL_3	  3
#define TLS_HANDSHAKE	  0x16
/* wire__buffer's nvec for a struct msghdr (sendmsg, recvmsg). */
#define WIRE_MSGHDR	  (-1)

/* Parsed connections, by the socket's struct file address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct custos_wire_conn);
} wire_conns SEC(".maps");

/* One call's walk: the stream's state is copied in, walked, and copied back. */
struct wire_walk {
	__u64 buf; /* the caller's buffer */
	__u64 open_id;
	__u32 len, off;
	struct custos_wire_stream s;
	__u8 hdr[32]; /* room to read a header into at any offset below 8 */
	__u8 stream;
	__u8 flags;	 /* CUSTOS_WIRE_F_LIBRARY */
	__u8 other_mode; /* set: the other stream's next mode (+1) */
	__u8 pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wire_walk);
} wire_walks SEC(".maps");

/* What is done with a message's body. */
enum wire_keep {
	WIRE_SKIP,  /* nothing: no record */
	WIRE_ROW,   /* a row: counted, no record */
	WIRE_NOTE,  /* a record without the body */
	WIRE_NAMES, /* the first two NUL-terminated names (Bind), nothing after them */
	WIRE_BODY,  /* the body, up to the cap wire__cap gives */
};

static __always_inline enum wire_keep wire__pg_keep(__u8 stream, __u8 type)
{
	if (stream == CUSTOS_WIRE_FRONTEND) {
		switch (type) {
		case 'Q': /* Query: the text */
		case 'P': /* Parse: name, text, parameter types */
		case 'E': /* Execute: portal, row limit */
		case 'C': /* Close: kind, name */
		case 'D': /* Describe: kind, name */
			return WIRE_BODY;
		case 'B': /* Bind: portal, statement, then the values */
			return WIRE_NAMES;
		case 'S': /* Sync */
		case 'H': /* Flush */
		case 'X': /* Terminate */
		case 'c': /* CopyDone */
		case 'f': /* CopyFail: its message may quote data */
			return WIRE_NOTE;
		case 'd': /* CopyData of COPY FROM STDIN */
			return WIRE_ROW;
		}
		return WIRE_SKIP; /* 'p' (passwords, SASL), 'F' (function call arguments) */
	}
	switch (type) {
	case 'C': /* CommandComplete: the tag */
	case 'Z': /* ReadyForQuery: the transaction status */
	case 'E': /* ErrorResponse: fields by type, userspace keeps the safe ones */
		return WIRE_BODY;
	case '1': /* ParseComplete */
	case '2': /* BindComplete */
	case '3': /* CloseComplete */
	case 'n': /* NoData */
	case 's': /* PortalSuspended */
	case 'I': /* EmptyQueryResponse */
	case 'G': /* CopyInResponse */
	case 'H': /* CopyOutResponse */
	case 'W': /* CopyBothResponse */
	case 'c': /* CopyDone */
		return WIRE_NOTE;
	case 'D': /* DataRow */
	case 'd': /* CopyData of COPY TO STDOUT */
		return WIRE_ROW;
	}
	return WIRE_SKIP; /* 'R' (authentication), 'K' (the cancel key), notices, notifications */
}

static __always_inline __u32 wire__cap(__u8 stream, __u8 type)
{
	if (stream == CUSTOS_WIRE_FRONTEND)
		return type == 'Q' || type == 'P' ? WIRE_KEEP_SQL : WIRE_KEEP_NAMES;
	if (type == 'E')
		return WIRE_KEEP_ERROR;
	return WIRE_KEEP_NAMES;
}

static __always_inline __u32 wire__be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* Is the current message one of which only the leading names are forwarded (Bind)? */
static __always_inline bool wire__names_only(const struct wire_walk *w)
{
	return w->stream == CUSTOS_WIRE_FRONTEND && w->s.type == 'B';
}

/* A record of the stream's current message: data_len bytes at the walk's offset, if any. */
static __always_inline void wire__record(struct wire_walk *w, __u8 event, __u32 aux, __u32 n)
{
	struct custos_wire_msg *rec = record__scratch(CUSTOS_REC_WIRE);
	__u32 i, nuls = 0, keep;

	if (!rec)
		return;
	task__fill(&rec->task, current_task());
	rec->open_id = w->open_id;
	rec->body_len = w->s.body_len;
	rec->offset = w->s.body_len - w->s.remaining;
	rec->rows = w->s.rows;
	rec->aux = aux;
	rec->type = w->s.type;
	rec->stream = w->stream;
	rec->event = event;
	rec->flags = w->flags;
	rec->pad[0] = rec->pad[1] = 0;
	rec->data_len = 0;
	w->s.rows = 0;
	if (event == CUSTOS_WIRE_MSG) {
		if (w->s.truncated)
			rec->flags |= CUSTOS_WIRE_F_TRUNCATED;
		if (n >= w->s.keep_left)
			rec->flags |= CUSTOS_WIRE_F_LAST;
	}
	n &= 8191;
	if (n && bpf_probe_read_user(rec->data, n, (void *)(w->buf + w->off))) {
		rec->event = CUSTOS_WIRE_LOST;
		rec->aux = CUSTOS_WIRE_LOST_UNREADABLE;
		w->s.mode = CUSTOS_WIRE_OFF;
		n = 0;
	}
	if (wire__names_only(w)) {
		/* Bind: the portal's and the statement's names, and not one byte of the values. */
		keep = 0;
		for (i = 0; i < WIRE_KEEP_NAMES; i++) {
			if (i >= n || nuls >= 2)
				break;
			if (!rec->data[i] && ++nuls == 2)
				keep = i + 1;
		}
		n = keep;
		rec->flags |= CUSTOS_WIRE_F_LAST; /* nothing more of it follows */
	}
	rec->data_len = n;
	record__output(rec, sizeof(*rec) + n);
}

/* The walk gives up on the stream: reported once, then only counted. */
static __always_inline long wire__lose(struct wire_walk *w, __u32 reason)
{
	w->s.mode = CUSTOS_WIRE_OFF;
	w->s.remaining = 0;
	wire__record(w, CUSTOS_WIRE_LOST, reason, 0);
	return 1;
}

/* The stream turns to TLS (or GSSAPI encryption): both streams are only counted from here. */
static __always_inline long wire__encrypted(struct wire_walk *w)
{
	w->s.mode = CUSTOS_WIRE_OFF;
	w->other_mode = CUSTOS_WIRE_OFF + 1;
	wire__record(w, CUSTOS_WIRE_TLS, 0, 0);
	return 1;
}

/* The one-byte answer to an SSLRequest or GSSENCRequest. */
static __always_inline long wire__pg_answer(struct wire_walk *w)
{
	__u8 answer = 0;

	if (bpf_probe_read_user(&answer, 1, (void *)(w->buf + w->off)))
		return wire__lose(w, CUSTOS_WIRE_LOST_UNREADABLE);
	w->off++;
	if (answer == 'S' || answer == 'G')
		return wire__encrypted(w);
	if (answer != 'N')
		return wire__lose(w, CUSTOS_WIRE_LOST_PROTOCOL);
	w->s.mode = CUSTOS_WIRE_TYPED; /* plaintext: the client's startup packet follows */
	return 0;
}

/* A whole header is in w->s.hdr: the message starts. */
static __always_inline long wire__pg_header(struct wire_walk *w)
{
	struct custos_wire_stream *s = &w->s;
	enum wire_keep keep;
	__u32 len, cap;

	s->hdr_have = 0;
	s->truncated = 0;
	if (s->mode == CUSTOS_WIRE_UNTYPED) {
		if (w->hdr[0] == TLS_HANDSHAKE)
			return wire__encrypted(w); /* PostgreSQL 17's direct TLS */
		len = wire__be32(w->hdr);
		s->code = wire__be32(w->hdr + 4);
		if (len < 8 || len > PG_STARTUP_MAX)
			return wire__lose(w, CUSTOS_WIRE_LOST_FRAMING);
		s->type = 0;
		s->body_len = s->remaining = len - 8;
		s->keep_left = 0;
		if (s->code >> 16 == PG_PROTOCOL_3) {
			/* The startup packet: parameters (user, database), never a password. */
			s->mode = CUSTOS_WIRE_TYPED;
			s->keep_left = s->body_len < WIRE_KEEP_STARTUP ? s->body_len : WIRE_KEEP_STARTUP;
			s->truncated = s->body_len > WIRE_KEEP_STARTUP;
		} else if (s->code == PG_CODE_SSL || s->code == PG_CODE_GSSENC) {
			w->other_mode = CUSTOS_WIRE_BYTE + 1;
		} else if (s->code != PG_CODE_CANCEL) {
			return wire__lose(w, CUSTOS_WIRE_LOST_PROTOCOL);
		}
		/* A cancel request's body is the secret key: the code alone. */
		if (!s->keep_left || !s->body_len)
			wire__record(w, CUSTOS_WIRE_MSG, s->code, 0);
		return 0;
	}
	s->type = w->hdr[0];
	len = wire__be32(w->hdr + 1);
	if (len < 4 || len > PG_MESSAGE_MAX)
		return wire__lose(w, CUSTOS_WIRE_LOST_FRAMING);
	s->body_len = s->remaining = len - 4;
	s->keep_left = 0;
	keep = wire__pg_keep(w->stream, s->type);
	if (keep == WIRE_ROW) {
		s->rows++;
	} else if (keep == WIRE_NOTE || (keep != WIRE_SKIP && !s->body_len)) {
		wire__record(w, CUSTOS_WIRE_MSG, 0, 0);
	} else if (keep != WIRE_SKIP) {
		cap = wire__cap(w->stream, s->type);
		s->keep_left = s->body_len < cap ? s->body_len : cap;
		s->truncated = s->body_len > cap;
	}
	return 0;
}

/* One step: a part of a header, or of the current message's body. Non-zero: done. */
static __always_inline long wire__step(struct wire_walk *w)
{
	struct custos_wire_stream *s = &w->s;
	__u32 left, n, need, have;

	if (w->off >= w->len || s->mode == CUSTOS_WIRE_OFF)
		return 1;
	left = w->len - w->off;
	if (s->remaining) {
		n = s->remaining < left ? s->remaining : left;
		if (s->keep_left) {
			need = n < s->keep_left ? n : s->keep_left;
			wire__record(w, CUSTOS_WIRE_MSG, s->type ? 0 : s->code, need);
			s->keep_left = s->keep_left > need && !wire__names_only(w) ? s->keep_left - need : 0;
		}
		w->off += n;
		s->remaining -= n;
		return 0;
	}
	if (s->mode == CUSTOS_WIRE_BYTE)
		return wire__pg_answer(w);
	need = s->mode == CUSTOS_WIRE_UNTYPED ? 8 : 5;
	have = s->hdr_have & 7;
	if (have >= need)
		return wire__lose(w, CUSTOS_WIRE_LOST_FRAMING);
	n = need - have < left ? need - have : left;
	if (bpf_probe_read_user(&w->hdr[have], n & 15, (void *)(w->buf + w->off)))
		return wire__lose(w, CUSTOS_WIRE_LOST_UNREADABLE);
	w->off += n;
	s->hdr_have = have + n;
	if (s->hdr_have < need)
		return 0;
	return wire__pg_header(w);
}

#ifdef CUSTOS_COMPAT
/* A global function: the verifier checks it once, not at each of the loop's steps. */
__noinline int wire__step_global(__u32 unused)
{
	__u32 zero = 0;
	struct wire_walk *w = bpf_map_lookup_elem(&wire_walks, &zero);

	return w ? wire__step(w) : 1;
}

static __always_inline long wire__loop_step(__u32 i, void *ctx)
{
	return wire__step_global(i);
}
#else
static long wire__loop_step(__u32 i, void *ctx)
{
	__u32 zero = 0;
	struct wire_walk *w = bpf_map_lookup_elem(&wire_walks, &zero);

	return w ? wire__step(w) : 1;
}
#endif

/*
 * Where a call's bytes are: buf itself (nvec 0), the one segment of an
 * iovec array (nvec 1), or of a struct msghdr's (nvec WIRE_MSGHDR); 0 for
 * several segments (not followed) or no buffer at all.
 */
static __always_inline __u64 wire__buffer(__u64 buf, __s64 nvec)
{
	struct iovec iov = {};
	struct user_msghdr msg = {};

	if (nvec == WIRE_MSGHDR) {
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)buf))
			return 0;
		buf = (__u64)msg.msg_iov;
		nvec = msg.msg_iovlen;
	}
	if (nvec == 0)
		return buf;
	if (nvec != 1 || bpf_probe_read_user(&iov, sizeof(iov), (void *)buf))
		return 0;
	return (__u64)iov.iov_base;
}

/*
 * bytes moved through a parsed socket's file, from buf (see wire__buffer):
 * walked in the stream they belong to.
 */
static __always_inline void wire__walk(struct task_struct *task, __u64 file_addr,
				       const struct custos_open_file *of, __u64 buf, __s64 nvec,
				       long bytes, bool write)
{
	struct custos_wire_conn *conn = bpf_map_lookup_elem(&wire_conns, &file_addr);
	__u32 zero = 0;
	struct wire_walk *w;
	__u8 stream;

	if (!conn || conn->open_id != of->open_id)
		return;
	stream = write != !!conn->server ? CUSTOS_WIRE_FRONTEND : CUSTOS_WIRE_BACKEND;
	if (conn->stream[stream & 1].mode == CUSTOS_WIRE_OFF)
		return;
	w = bpf_map_lookup_elem(&wire_walks, &zero);
	if (!w)
		return;
	w->buf = wire__buffer(buf, nvec);
	w->open_id = of->open_id;
	w->len = bytes;
	w->off = 0;
	w->stream = stream & 1;
	w->s = conn->stream[stream & 1];
	__builtin_memcpy(w->hdr, w->s.hdr, 8);
	w->flags = write && db__in_call(task) ? CUSTOS_WIRE_F_LIBRARY : 0;
	w->other_mode = 0;
	if (!w->buf)
		wire__lose(w, CUSTOS_WIRE_LOST_NO_BUFFER);
	else
		LOOP(WIRE_STEPS, WIRE_STEPS_COMPAT, wire__loop_step, NULL);
	if (w->off < w->len && w->s.mode != CUSTOS_WIRE_OFF)
		wire__lose(w, CUSTOS_WIRE_LOST_STEPS);
	__builtin_memcpy(w->s.hdr, w->hdr, 8);
	conn->stream[stream & 1] = w->s;
	if (w->other_mode)
		conn->stream[!(stream & 1)].mode = w->other_mode - 1;
}

/* A socket of an endpoint marked "parse" is followed from its first byte. */
static __always_inline void wire__start(__u64 file_addr, __u64 open_id, __u32 protocol,
					bool server)
{
	struct custos_wire_conn conn = {
	    .open_id = open_id,
	    .protocol = protocol,
	    .server = server,
	};

	conn.stream[CUSTOS_WIRE_FRONTEND].mode = CUSTOS_WIRE_UNTYPED;
	bpf_map_update_elem(&wire_conns, &file_addr, &conn, BPF_ANY);
}

#endif /* CUSTOS_WIRE_BPF_H */
