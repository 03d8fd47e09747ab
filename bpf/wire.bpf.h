/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Database wire protocols on the sockets of endpoints marked "parse". Every
 * send and receive on such a socket walks the message headers in the
 * caller's buffer: row messages are counted here and go no further, and
 * only the messages that carry statements, statement names, outcomes and
 * errors are forwarded (wire__pg_keep says which, wire__cap how much). Row
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

/* Steps (a message, or the rest of one) one buffer walks; more and the stream is lost. */
#define WIRE_STEPS		  65536
#define WIRE_STEPS_COMPAT	  4096
/* Bytes of the caller's buffer read at once for the headers in them. */
#define WIRE_WINDOW		  2048
/* Bytes of a body forwarded at most: a statement's text, with Parse's name before it. */
#define WIRE_KEEP_SQL		  (CUSTOS_SQL_MAX + 256)
/* Statement and portal names (Bind: up to the second NUL only), command tags. */
#define WIRE_KEEP_NAMES		  64
#define WIRE_KEEP_ERROR		  1024 /* a power of two: masks offsets into it */
/* The longest ErrorResponse field taken whole. */
#define WIRE_ERROR_FIELD_MAX	  256
#define WIRE_KEEP_STARTUP	  2048
/* PostgreSQL: the longest startup packet a server accepts, a message's length at most. */
#define PG_STARTUP_MAX		  10000
#define PG_MESSAGE_MAX		  0x3fffffff
#define PG_CODE_SSL		  80877103
#define PG_CODE_GSSENC		  80877104
#define PG_CODE_CANCEL		  80877102
#define PG_PROTOCOL_3		  3
#define TLS_HANDSHAKE		  0x16
/* MySQL: a packet's longest payload; one this long is continued by the next. */
#define MY_PACKET_MAX		  0xffffff
#define MY_HEADER		  4
/* The bytes of an OK to a COM_STMT_PREPARE the walk reads: id, columns, parameters. */
#define MY_PREPARE_OK		  9
#define MY_KEEP_OK		  64
#define MY_LOGIN_FIXED		  28 /* after the capabilities: up to the user name */
#define MY_COM_QUIT		  0x01
#define MY_COM_INIT_DB		  0x02
#define MY_COM_QUERY		  0x03
#define MY_COM_STATISTICS	  0x09
#define MY_COM_PROCESS_KILL	  0x0c
#define MY_COM_PING		  0x0e
#define MY_COM_STMT_PREPARE	  0x16
#define MY_COM_STMT_EXECUTE	  0x17
#define MY_COM_STMT_SEND_LONG	  0x18
#define MY_COM_STMT_CLOSE	  0x19
#define MY_COM_STMT_RESET	  0x1a
#define MY_COM_SET_OPTION	  0x1b
#define MY_COM_STMT_FETCH	  0x1c
#define MY_COM_RESET_CONNECTION	  0x1f
#define MY_OK			  0x00
#define MY_LOCAL_INFILE		  0xfb
#define MY_EOF			  0xfe
#define MY_ERR			  0xff
#define MY_CLIENT_MYSQL		  0x1 /* unset by MariaDB clients: extended capabilities follow */
#define MY_CLIENT_CONNECT_WITH_DB 0x8
#define MY_CLIENT_COMPRESS	  0x20
#define MY_CLIENT_PROTOCOL_41	  0x200
#define MY_CLIENT_SSL		  0x800
#define MY_CLIENT_SECURE_CONN	  0x8000
#define MY_CLIENT_AUTH_LENENC	  (1U << 21)
#define MY_CLIENT_DEPRECATE_EOF	  (1U << 24)
#define MY_CLIENT_QUERY_ATTRS	  (1U << 27)
#define MY_MARIADB_CACHE_METADATA (1U << 4) /* of the extended capabilities */
#define MY_SSL_REQUEST_LEN	  32
/* wire__walk_global's flag of a write, in the byte count's top bit. */
#define WIRE_WRITE_BIT		  (1ULL << 63)
/* And of bytes from libssl's buffers: the plaintext of a connection that turned to TLS. */
#define WIRE_TLS_BIT		  (1ULL << 62)
/* Segments of a vectored call walked; a call with more (and bytes in them) is lost. */
#define WIRE_IOV_MAX		  8
/* wire__walk_buffers's nvec for a struct msghdr (sendmsg, recvmsg). */
#define WIRE_MSGHDR		  (-1)

/* Parsed connections, by the socket's struct file address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct custos_wire_conn);
} wire_conns SEC(".maps");

/* The libssl object (SSL *) of each thread inside SSL_read or SSL_write, by thread id. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} tls_threads SEC(".maps");

struct tls_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

struct tls_socket {
	__u64 file_addr;
	__u64 open_id;
};

/*
 * The parsed socket under each libssl object, learnt from the socket call
 * an SSL_read or SSL_write makes (a read from its buffer makes none).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tls_key);
	__type(value, struct tls_socket);
} tls_sockets SEC(".maps");

/* One call's walk: the stream's state is copied in, walked, and copied back. */
struct wire_walk {
	__u64 buf; /* the caller's buffer */
	__u64 open_id;
	__u32 len, off;
	struct custos_wire_stream s;
	__u8 hdr[32]; /* room to read a header into at any offset below 16 */
	__u8 stream;
	__u8 flags;	 /* CUSTOS_WIRE_F_LIBRARY */
	__u8 other_mode; /* set: the other stream's next mode (+1) */
	__u8 protocol;	 /* enum custos_wire_protocol */
	/* MySQL: the connection's command and answer state (struct custos_wire_conn) */
	__u8 my_cmd, my_phase, my_flags;
	__u8 tls; /* the walk turned the connection to TLS */
	__u32 my_left, my_next;
	/*
	 * The buffer's bytes from win_start, read once for the headers in
	 * them: a read of user memory per row would cost more than the row's
	 * whole walk. Twice the window, so a masked offset stays inside.
	 */
	__u32 win_start, win_len;
	__u8 win[2 * WIRE_WINDOW];
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
	case 'E': /* ErrorResponse: its severity, code and message (wire__pg_error) */
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
	return w->protocol == CUSTOS_WIRE_POSTGRESQL && w->stream == CUSTOS_WIRE_FRONTEND &&
	       w->s.type == 'B';
}

/* Is it an ErrorResponse, of which only some fields are forwarded? */
static __always_inline bool wire__error_fields(const struct wire_walk *w)
{
	return w->protocol == CUSTOS_WIRE_POSTGRESQL && w->stream == CUSTOS_WIRE_BACKEND &&
	       w->s.type == 'E';
}

/* Is only a part of the current message's first bytes forwarded, and nothing after? */
static __always_inline bool wire__filtered(const struct wire_walk *w)
{
	return wire__names_only(w) || wire__error_fields(w);
}

/*
 * Bind's first two strings (the portal's and the statement's names) from
 * the n bytes at src into rec's data: their length, 0 if they do not both
 * end within n bytes and WIRE_KEEP_NAMES each. The values after them are
 * never read.
 */
static __always_inline __u32 wire__names(struct custos_wire_msg *rec, __u64 src, __u32 n)
{
	__u32 limit = n < WIRE_KEEP_NAMES ? n : WIRE_KEEP_NAMES;
	long first, second;

	/* A string that fills its limit may go on past it: not taken. */
	first = bpf_probe_read_user_str(rec->data, limit & (2 * WIRE_KEEP_NAMES - 1), (void *)src);
	if (first <= 0 || (__u32)first >= limit)
		return 0;
	n -= first;
	limit = n < WIRE_KEEP_NAMES ? n : WIRE_KEEP_NAMES;
	second = bpf_probe_read_user_str(rec->data + (first & (WIRE_KEEP_NAMES - 1)),
					 limit & (2 * WIRE_KEEP_NAMES - 1), (void *)(src + first));
	if (second <= 0 || (__u32)second >= limit)
		return 0;
	return first + second;
}

/*
 * An ErrorResponse's leading fields from the n bytes at src into rec's
 * data, then the closing NUL: PostgreSQL sends the severity, its
 * untranslated form, the SQLSTATE and the message first (S, V, C, M), and
 * the walk stops at the first other field, so the detail that quotes a
 * row's key, the hint and the query's context are never read. Stops at a
 * field cut off by n or by WIRE_ERROR_FIELD_MAX.
 */
static __always_inline __u32 wire__pg_error(struct custos_wire_msg *rec, __u64 src, __u32 n)
{
	__u32 pos = 0, off = 0, i, limit;
	__u8 field = 0;
	long len;

	for (i = 0; i < 4; i++) {
		if (off + 1 >= n || bpf_probe_read_user(&field, 1, (void *)(src + off)) ||
		    (field != 'S' && field != 'V' && field != 'C' && field != 'M'))
			break;
		limit = n - off - 1 < WIRE_ERROR_FIELD_MAX ? n - off - 1 : WIRE_ERROR_FIELD_MAX;
		asm volatile("" : "+r"(limit)); /* the verifier must see the mask */
		limit &= 2 * WIRE_ERROR_FIELD_MAX - 1;
		len = bpf_probe_read_user_str(rec->data + (pos & (WIRE_KEEP_ERROR - 1)) + 1, limit,
					      (void *)(src + off + 1));
		if (len <= 0 || (__u32)len >= limit)
			break;
		rec->data[pos & (WIRE_KEEP_ERROR - 1)] = field;
		pos += 1 + len;
		off += 1 + len;
		if (field == 'M')
			break;
	}
	rec->data[pos & (WIRE_KEEP_ERROR - 1)] = 0;
	return (pos & (WIRE_KEEP_ERROR - 1)) + 1;
}

/* MySQL: what is done with a command's body (the client's packets that start a command). */
static __always_inline enum wire_keep wire__my_keep(__u8 cmd, __u8 flags)
{
	switch (cmd) {
	case MY_COM_QUERY:
		/* MySQL 8's query attributes come before the text: values, never read. */
		return flags & CUSTOS_WIRE_MY_QUERY_ATTRS ? WIRE_NOTE : WIRE_BODY;
	case MY_COM_STMT_PREPARE: /* the text */
	case MY_COM_INIT_DB:	  /* the schema's name */
	case MY_COM_STMT_EXECUTE: /* the statement's id (wire__my_cap: nothing after it) */
	case MY_COM_STMT_CLOSE:
	case MY_COM_STMT_RESET:
	case MY_COM_STMT_FETCH: /* the statement's id, the rows asked for */
		return WIRE_BODY;
	case MY_COM_QUIT:
	case MY_COM_STATISTICS:
	case MY_COM_PROCESS_KILL:
	case MY_COM_PING:
	case MY_COM_SET_OPTION:
	case MY_COM_RESET_CONNECTION:
		return WIRE_NOTE;
	}
	return WIRE_SKIP; /* COM_STMT_SEND_LONG_DATA: a parameter's value */
}

static __always_inline __u32 wire__my_cap(__u8 stream, __u8 type)
{
	if (stream == CUSTOS_WIRE_FRONTEND) {
		if (type == MY_COM_QUERY || type == MY_COM_STMT_PREPARE)
			return WIRE_KEEP_SQL;
		if (type == MY_COM_STMT_FETCH)
			return 8;
		return type == MY_COM_INIT_DB ? WIRE_KEEP_NAMES : 4;
	}
	return type == MY_ERR ? WIRE_KEEP_ERROR : MY_KEEP_OK;
}

static __always_inline __u32 wire__le16(const __u8 *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8;
}

static __always_inline __u32 wire__le24(const __u8 *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16;
}

static __always_inline __u32 wire__le32(const __u8 *p)
{
	return wire__le24(p) | (__u32)p[3] << 24;
}

/*
 * The login's user and schema names, from the n bytes at src (the body
 * after the capabilities, caps), into rec's data as two NUL-terminated
 * strings: "user\0schema\0", or the user alone. The authentication
 * response between them is skipped by its length, never read.
 */
static __always_inline __u32 wire__my_login(struct wire_walk *w, struct custos_wire_msg *rec,
					    __u64 src, __u32 n, __u32 caps)
{
	__u32 limit, pos, ext = 0;
	long user, schema;
	__u8 auth = 0;

	if (n <= MY_LOGIN_FIXED)
		return 0;
	if (!(caps & MY_CLIENT_MYSQL) && !bpf_probe_read_user(&ext, 4, (void *)(src + 24)) &&
	    (ext & MY_MARIADB_CACHE_METADATA))
		w->my_flags |= CUSTOS_WIRE_MY_CACHE_METADATA;
	n -= MY_LOGIN_FIXED;
	src += MY_LOGIN_FIXED;
	limit = n < WIRE_KEEP_NAMES ? n : WIRE_KEEP_NAMES;
	user = bpf_probe_read_user_str(rec->data, limit & (2 * WIRE_KEEP_NAMES - 1), (void *)src);
	if (user <= 0 || (__u32)user >= limit)
		return 0;
	pos = user;
	if (!(caps & MY_CLIENT_CONNECT_WITH_DB) ||
	    !(caps & (MY_CLIENT_AUTH_LENENC | MY_CLIENT_SECURE_CONN)) ||
	    bpf_probe_read_user(&auth, 1, (void *)(src + pos)) || auth >= MY_LOCAL_INFILE)
		return user; /* no schema, or behind an authentication of a form not followed */
	pos += 1 + auth;
	if (pos >= n)
		return user;
	limit = n - pos < WIRE_KEEP_NAMES ? n - pos : WIRE_KEEP_NAMES;
	asm volatile("" : "+r"(limit));
	limit &= 2 * WIRE_KEEP_NAMES - 1;
	schema = bpf_probe_read_user_str(rec->data + (user & (WIRE_KEEP_NAMES - 1)), limit,
					 (void *)(src + pos));
	if (schema <= 0 || (__u32)schema >= limit)
		return user;
	return user + schema;
}

/*
 * A record of the walk's current message (event, aux; n bytes of data at
 * the walk's offset). A global function: its many callers share one check.
 */
__noinline int wire__record_global(__u32 event, __u32 aux, __u32 n)
{
	struct custos_wire_msg *rec = record__scratch(CUSTOS_REC_WIRE);
	__u32 zero = 0;
	struct wire_walk *w = bpf_map_lookup_elem(&wire_walks, &zero);

	if (!rec || !w)
		return 0;
	/* Who sent a statement matters; the server's answers are paired with it. */
	if (w->stream == CUSTOS_WIRE_FRONTEND || event != CUSTOS_WIRE_MSG)
		task__fill(&rec->task, current_task());
	else
		__builtin_memset(&rec->task, 0, sizeof(rec->task));
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
	if (wire__names_only(w)) {
		n = wire__names(rec, w->buf + w->off, n);
		rec->flags |= CUSTOS_WIRE_F_LAST; /* nothing more of it follows */
	} else if (wire__error_fields(w)) {
		n = wire__pg_error(rec, w->buf + w->off, n);
		rec->flags |= CUSTOS_WIRE_F_LAST;
	} else if (w->protocol == CUSTOS_WIRE_MYSQL && w->stream == CUSTOS_WIRE_FRONTEND &&
		   !w->s.type && event == CUSTOS_WIRE_MSG) {
		n = n ? wire__my_login(w, rec, w->buf + w->off, n, aux) : 0;
		rec->flags |= CUSTOS_WIRE_F_LAST;
	} else if (n && bpf_probe_read_user(rec->data, n, (void *)(w->buf + w->off))) {
		rec->event = CUSTOS_WIRE_LOST;
		rec->aux = CUSTOS_WIRE_LOST_UNREADABLE;
		w->s.mode = CUSTOS_WIRE_OFF;
		n = 0;
	}
	rec->data_len = n;
	record__output(rec, sizeof(*rec) + n);
	return 0;
}

/* The walk gives up on the stream: reported once, then only counted. */
static __always_inline long wire__lose(struct wire_walk *w, __u32 reason)
{
	w->s.mode = CUSTOS_WIRE_OFF;
	w->s.remaining = 0;
	wire__record_global(CUSTOS_WIRE_LOST, reason, 0);
	return 1;
}

/*
 * The connection turns to TLS (or GSSAPI encryption): the rest of this
 * buffer and the socket's bytes from here are only counted. Its plaintext,
 * where libssl carries it, starts again: the client's startup or login,
 * the server's answers to it.
 */
static __always_inline long wire__encrypted(struct wire_walk *w)
{
	__u8 backend = w->protocol == CUSTOS_WIRE_MYSQL ? CUSTOS_WIRE_AUTH : CUSTOS_WIRE_TYPED;

	w->tls = 1;
	w->off = w->len; /* the rest of the buffer: the request's rest, or ciphertext */
	w->s.remaining = 0;
	w->s.hdr_have = 0;
	w->s.mode = w->stream == CUSTOS_WIRE_FRONTEND ? CUSTOS_WIRE_UNTYPED : backend;
	w->other_mode = (w->stream == CUSTOS_WIRE_FRONTEND ? backend : CUSTOS_WIRE_UNTYPED) + 1;
	wire__record_global(CUSTOS_WIRE_TLS, 0, 0);
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
			s->keep_left =
			    s->body_len < WIRE_KEEP_STARTUP ? s->body_len : WIRE_KEEP_STARTUP;
			s->truncated = s->body_len > WIRE_KEEP_STARTUP;
		} else if (s->code == PG_CODE_SSL || s->code == PG_CODE_GSSENC) {
			w->other_mode = CUSTOS_WIRE_BYTE + 1;
		} else if (s->code != PG_CODE_CANCEL) {
			return wire__lose(w, CUSTOS_WIRE_LOST_PROTOCOL);
		}
		/* A cancel request's body is the secret key: the code alone. */
		if (!s->keep_left || !s->body_len)
			wire__record_global(CUSTOS_WIRE_MSG, s->code, 0);
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
		wire__record_global(CUSTOS_WIRE_MSG, 0, 0);
	} else if (keep != WIRE_SKIP) {
		cap = wire__cap(w->stream, s->type);
		s->keep_left = s->body_len < cap ? s->body_len : cap;
		s->truncated = s->body_len > cap;
	}
	return 0;
}

/* n (at most 8) bytes at the walk's offset into the header at have, through the window. */
static __always_inline int wire__take(struct wire_walk *w, __u32 have, __u32 n)
{
	__u32 pos, i, fill;

	if (w->off < w->win_start || w->off + n > w->win_start + w->win_len) {
		fill = w->len - w->off < WIRE_WINDOW ? w->len - w->off : WIRE_WINDOW;
		/* The compiler knows fill is small; the verifier must see it masked. */
		asm volatile("" : "+r"(fill));
		fill &= 2 * WIRE_WINDOW - 1;
		if (bpf_probe_read_user(w->win, fill, (void *)(w->buf + w->off)))
			return -1;
		w->win_start = w->off;
		w->win_len = fill;
	}
	pos = w->off - w->win_start;
	for (i = 0; i < 8; i++) {
		if (i >= n)
			break;
		w->hdr[(have + i) & 31] = w->win[(pos + i) & (2 * WIRE_WINDOW - 1)];
	}
	return 0;
}

/* Passes over the current message's body in the buffer, forwarding what is kept of it. */
static __always_inline void wire__body(struct wire_walk *w)
{
	struct custos_wire_stream *s = &w->s;
	__u32 left = w->len - w->off, n, keep;

	n = s->remaining < left ? s->remaining : left;
	if (s->keep_left) {
		keep = n < s->keep_left ? n : s->keep_left;
		wire__record_global(CUSTOS_WIRE_MSG, s->type ? 0 : s->code, keep);
		s->keep_left = s->keep_left > keep && !wire__filtered(w) ? s->keep_left - keep : 0;
	}
	w->off += n;
	s->remaining -= n;
}

/*
 * MySQL: the bytes of a packet's start the walk needs to know what it is:
 * its 4-byte header, then its first byte (a command, or the kind of an
 * answer), then, for an answer that opens a result set or a prepared
 * statement, the counts of what follows. have: the bytes there are.
 */
static __always_inline __u32 wire__my_need(const struct wire_walk *w, __u32 have)
{
	const struct custos_wire_stream *s = &w->s;
	__u32 len, count;
	__u8 first;

	if (have < MY_HEADER)
		return MY_HEADER;
	len = wire__le24(w->hdr);
	if (s->cont || !len)
		return MY_HEADER; /* the rest of a long packet: nothing to classify */
	if (s->mode == CUSTOS_WIRE_UNTYPED && w->stream == CUSTOS_WIRE_FRONTEND)
		return len >= 4 ? MY_HEADER + 4 : MY_HEADER; /* the login's capabilities */
	if (have < MY_HEADER + 1)
		return MY_HEADER + 1;
	if (w->stream != CUSTOS_WIRE_BACKEND || s->mode != CUSTOS_WIRE_TYPED ||
	    w->my_phase != CUSTOS_WIRE_MY_HEAD)
		return MY_HEADER + 1;
	first = w->hdr[MY_HEADER];
	if (first == MY_OK)
		count = w->my_cmd == MY_COM_STMT_PREPARE ? MY_PREPARE_OK : 1;
	else if (first == MY_ERR || first == MY_EOF || first == MY_LOCAL_INFILE)
		count = 1;
	else /* a column count, length-encoded; MariaDB may add whether definitions follow */
		count = (first == 0xfc	 ? 3
			 : first == 0xfd ? 4
					 : 1) +
			!!(w->my_flags & CUSTOS_WIRE_MY_CACHE_METADATA);
	return MY_HEADER + (len < count ? len : count);
}

/* MySQL: the next phase of a result set's definitions, of a prepared statement's. */
static __always_inline void wire__my_definitions(struct wire_walk *w, __u32 params, __u32 columns)
{
	__u32 eof = !(w->my_flags & CUSTOS_WIRE_MY_DEPRECATE_EOF);

	w->my_left = params ? params + eof : 0;
	w->my_next = columns ? columns + eof : 0;
	if (w->my_left) {
		w->my_phase = CUSTOS_WIRE_MY_PARAMS;
	} else if (w->my_next) {
		w->my_left = w->my_next;
		w->my_next = 0;
		w->my_phase = CUSTOS_WIRE_MY_COLUMNS;
	} else {
		w->my_phase = CUSTOS_WIRE_MY_HEAD;
	}
}

/* MySQL: the server's login answer. OK: commands follow, both ways. */
static __always_inline long wire__my_auth(struct wire_walk *w)
{
	if (w->s.type != MY_OK)
		return 0; /* an authentication switch or more data: skipped */
	if (w->my_flags & CUSTOS_WIRE_MY_COMPRESS) {
		w->other_mode = CUSTOS_WIRE_OFF + 1;
		return wire__lose(w, CUSTOS_WIRE_LOST_COMPRESSED);
	}
	w->s.mode = CUSTOS_WIRE_TYPED;
	w->other_mode = CUSTOS_WIRE_TYPED + 1;
	w->my_phase = CUSTOS_WIRE_MY_HEAD;
	return 0;
}

/* MySQL: a packet of the server's answer to the current command (type: its first byte). */
static __always_inline enum wire_keep wire__my_answer(struct wire_walk *w, __u32 len, __u32 got)
{
	struct custos_wire_stream *s = &w->s;
	const __u8 *p = w->hdr + MY_HEADER;
	__u32 columns;

	switch (w->my_phase) {
	case CUSTOS_WIRE_MY_PARAMS:
	case CUSTOS_WIRE_MY_COLUMNS:
		if (w->my_left > 1) {
			w->my_left--;
		} else if (w->my_phase == CUSTOS_WIRE_MY_PARAMS && w->my_next) {
			w->my_left = w->my_next;
			w->my_next = 0;
			w->my_phase = CUSTOS_WIRE_MY_COLUMNS;
		} else {
			w->my_phase = w->my_cmd == MY_COM_STMT_PREPARE ? CUSTOS_WIRE_MY_HEAD
								       : CUSTOS_WIRE_MY_ROWS;
		}
		return WIRE_SKIP;
	case CUSTOS_WIRE_MY_ROWS:
		if (s->type == MY_ERR || (s->type == MY_EOF && len < MY_PACKET_MAX)) {
			w->my_phase = CUSTOS_WIRE_MY_HEAD; /* the end of the rows */
			return WIRE_BODY;
		}
		s->rows++;
		return WIRE_ROW;
	case CUSTOS_WIRE_MY_SKIP:
		w->my_phase = CUSTOS_WIRE_MY_HEAD;
		return WIRE_SKIP;
	}
	switch (s->type) {
	case MY_OK:
		if (w->my_cmd != MY_COM_STMT_PREPARE)
			return WIRE_BODY;
		if (got < MY_PREPARE_OK) {
			wire__lose(w, CUSTOS_WIRE_LOST_PROTOCOL);
			return WIRE_SKIP;
		}
		/* The statement's id, as aux; its definitions are skipped. */
		wire__record_global(CUSTOS_WIRE_MSG, wire__le32(p + 1), 0);
		wire__my_definitions(w, wire__le16(p + 7), wire__le16(p + 5));
		return WIRE_SKIP;
	case MY_ERR:
	case MY_EOF:
		return WIRE_BODY;
	case MY_LOCAL_INFILE:
		return WIRE_SKIP; /* the client sends a file, then the server its OK */
	}
	if (w->my_cmd == MY_COM_STATISTICS)
		return WIRE_SKIP; /* a string, not a result set */
	columns = p[0] == 0xfc ? wire__le16(p + 1) : p[0] == 0xfd ? wire__le24(p + 1) : p[0];
	if ((w->my_flags & CUSTOS_WIRE_MY_CACHE_METADATA) && got >= 2 && !p[(got - 1) & 15]) {
		w->my_phase = CUSTOS_WIRE_MY_ROWS; /* the client has the definitions already */
		return WIRE_SKIP;
	}
	wire__my_definitions(w, 0, columns); /* then the rows */
	return WIRE_SKIP;
}

/* MySQL: the client starts a command (type: it). Its answer follows. */
static __always_inline enum wire_keep wire__my_command(struct wire_walk *w)
{
	__u8 cmd = w->s.type;

	w->my_cmd = cmd;
	w->my_phase = cmd == MY_COM_STMT_FETCH ? CUSTOS_WIRE_MY_ROWS : CUSTOS_WIRE_MY_HEAD;
	if (cmd == MY_COM_STATISTICS)
		w->my_phase = CUSTOS_WIRE_MY_SKIP;
	return wire__my_keep(cmd, w->my_flags);
}

/*
 * MySQL: a whole header is in w->s.hdr (got: its bytes, the packet's
 * header and first bytes): the packet starts.
 */
static __always_inline long wire__my_header(struct wire_walk *w, __u32 got)
{
	struct custos_wire_stream *s = &w->s;
	__u32 len = wire__le24(w->hdr), caps, cap;
	bool continued = s->cont;
	enum wire_keep keep = WIRE_SKIP;
	__u8 seq = w->hdr[3];

	s->hdr_have = 0;
	s->truncated = 0;
	s->keep_left = 0;
	s->cont = len == MY_PACKET_MAX;
	got -= MY_HEADER;
	s->body_len = s->remaining = len - got;
	if (continued || !len)
		return 0; /* the rest of a packet, already counted */
	if (s->mode == CUSTOS_WIRE_UNTYPED) {
		if (w->stream == CUSTOS_WIRE_BACKEND) {
			s->mode = CUSTOS_WIRE_AUTH; /* the server's greeting */
			return 0;
		}
		caps = wire__le32(w->hdr + MY_HEADER);
		if (got < 4 || !(caps & MY_CLIENT_PROTOCOL_41))
			return wire__lose(w, CUSTOS_WIRE_LOST_PROTOCOL);
		if ((caps & MY_CLIENT_SSL) && len == MY_SSL_REQUEST_LEN)
			return wire__encrypted(w);
		w->my_flags = (caps & MY_CLIENT_DEPRECATE_EOF ? CUSTOS_WIRE_MY_DEPRECATE_EOF : 0) |
			      (caps & MY_CLIENT_COMPRESS ? CUSTOS_WIRE_MY_COMPRESS : 0) |
			      (caps & MY_CLIENT_QUERY_ATTRS ? CUSTOS_WIRE_MY_QUERY_ATTRS : 0);
		s->mode = CUSTOS_WIRE_AUTH;
		s->type = 0;
		/* The names, when the whole login is in this buffer; never the authentication. */
		wire__record_global(CUSTOS_WIRE_MSG, caps,
				    w->len - w->off >= s->remaining ? s->remaining : 0);
		return 0;
	}
	s->type = w->hdr[MY_HEADER];
	if (s->mode == CUSTOS_WIRE_AUTH)
		return w->stream == CUSTOS_WIRE_BACKEND ? wire__my_auth(w) : 0;
	if (w->stream == CUSTOS_WIRE_FRONTEND) {
		if (seq)
			return 0; /* within a command: a file sent for LOAD DATA LOCAL */
		keep = wire__my_command(w);
		/*
		 * COM_CHANGE_USER (a new authentication), a replica's binlog
		 * dump, and every command whose answer the walk cannot follow:
		 * lost, not guessed at.
		 */
		if (keep == WIRE_SKIP && s->type != MY_COM_STMT_SEND_LONG)
			return wire__lose(w, CUSTOS_WIRE_LOST_PROTOCOL);
	} else {
		keep = wire__my_answer(w, len, got);
	}
	if (s->mode == CUSTOS_WIRE_OFF || keep == WIRE_SKIP || keep == WIRE_ROW)
		return s->mode == CUSTOS_WIRE_OFF;
	if (keep == WIRE_NOTE || !s->body_len) {
		wire__record_global(CUSTOS_WIRE_MSG, 0, 0);
		return 0;
	}
	cap = wire__my_cap(w->stream, s->type);
	s->keep_left = s->body_len < cap ? s->body_len : cap;
	s->truncated = s->body_len > cap;
	return 0;
}

/*
 * One step: the rest of a message's body, or a header and as much of its
 * body as the buffer holds (a row is one step). Non-zero: done.
 */
static __always_inline long wire__step(struct wire_walk *w)
{
	struct custos_wire_stream *s = &w->s;
	__u32 left, n, need, have;

	if (w->off >= w->len || s->mode == CUSTOS_WIRE_OFF)
		return 1;
	if (s->remaining) {
		wire__body(w);
		return 0;
	}
	if (s->mode == CUSTOS_WIRE_BYTE)
		return wire__pg_answer(w);
	left = w->len - w->off;
	have = s->hdr_have & 15;
	if (w->protocol == CUSTOS_WIRE_MYSQL)
		need = wire__my_need(w, have);
	else
		need = s->mode == CUSTOS_WIRE_UNTYPED ? 8 : 5;
	if (have >= need || need - have > 8)
		return wire__lose(w, CUSTOS_WIRE_LOST_FRAMING);
	n = need - have < left ? need - have : left;
	if (wire__take(w, have, n))
		return wire__lose(w, CUSTOS_WIRE_LOST_UNREADABLE);
	w->off += n;
	s->hdr_have = have + n;
	if (s->hdr_have < need)
		return 0;
	if (w->protocol == CUSTOS_WIRE_MYSQL) {
		/* What the first bytes are says how many more the header takes. */
		if (wire__my_need(w, need) > need)
			return 0;
		if (wire__my_header(w, need))
			return 1;
	} else if (wire__pg_header(w)) {
		return 1;
	}
	if (s->remaining && w->off < w->len && s->mode != CUSTOS_WIRE_OFF)
		wire__body(w);
	return 0;
}

/* A global function: the verifier checks it once, not at each of the loop's steps. */
__noinline int wire__step_global(__u32 unused)
{
	__u32 zero = 0;
	struct wire_walk *w = bpf_map_lookup_elem(&wire_walks, &zero);

	return w ? wire__step(w) : 1;
}

#ifdef CUSTOS_COMPAT
static __always_inline long wire__loop_step(__u32 i, void *ctx)
{
	return wire__step_global(i);
}
#else
static long wire__loop_step(__u32 i, void *ctx)
{
	return wire__step_global(i) ? 1 : 0; /* a bpf_loop callback returns 0 or 1 */
}
#endif

/*
 * n bytes at base, the next part of the walk's stream: walked. A global
 * function, so the segments of a vectored call share one check of the loop.
 */
__noinline int wire__segment_global(__u64 base, __u32 n)
{
	__u32 zero = 0;
	struct wire_walk *w = bpf_map_lookup_elem(&wire_walks, &zero);

	if (!w || w->s.mode == CUSTOS_WIRE_OFF)
		return 0;
	w->buf = base;
	w->len = n;
	w->off = 0;
	w->win_start = w->win_len = 0;
	LOOP(WIRE_STEPS, WIRE_STEPS_COMPAT, wire__loop_step, NULL);
	w = bpf_map_lookup_elem(&wire_walks, &zero);
	if (w && w->off < w->len && w->s.mode != CUSTOS_WIRE_OFF)
		wire__lose(w, CUSTOS_WIRE_LOST_STEPS);
	return 0;
}

/*
 * Walks bytes from buf itself (nvec 0), from the segments of an iovec array
 * of nvec, or of a struct msghdr's (nvec WIRE_MSGHDR), in order, up to
 * WIRE_IOV_MAX segments; returns the bytes it could not walk.
 */
static __always_inline __u64 wire__walk_buffers(__u64 buf, __s64 nvec, __u64 bytes)
{
	struct user_msghdr msg = {};
	struct iovec iov = {};
	__u32 i, n;

	if (nvec == 0) {
		wire__segment_global(buf, bytes);
		return 0;
	}
	if (nvec == WIRE_MSGHDR) {
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)buf))
			return bytes;
		buf = (__u64)msg.msg_iov;
		nvec = msg.msg_iovlen;
	}
	for (i = 0; i < WIRE_IOV_MAX && i < nvec && bytes; i++) {
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(buf + i * sizeof(iov))))
			return bytes;
		n = iov.iov_len < bytes ? iov.iov_len : bytes;
		if (n)
			wire__segment_global((__u64)iov.iov_base, n);
		bytes -= n;
	}
	return bytes;
}

/*
 * The walk of the stream a call moved bytes on (write: sent), from the
 * connection's state; NULL if the socket is not parsed, or no longer.
 */
static __always_inline struct wire_walk *wire__walk_begin(struct custos_wire_conn *conn,
							  __u64 open_id, bool write, bool tls)
{
	__u32 zero = 0;
	struct wire_walk *w;
	__u8 stream;

	if (!conn || conn->open_id != open_id || !!conn->tls != tls)
		return NULL;
	stream = (write != !!conn->server ? CUSTOS_WIRE_FRONTEND : CUSTOS_WIRE_BACKEND) & 1;
	if (conn->stream[stream].mode == CUSTOS_WIRE_OFF)
		return NULL;
	w = bpf_map_lookup_elem(&wire_walks, &zero);
	if (!w)
		return NULL;
	w->open_id = open_id;
	w->stream = stream;
	w->s = conn->stream[stream];
	__builtin_memcpy(w->hdr, w->s.hdr, sizeof(w->s.hdr));
	w->protocol = conn->protocol;
	w->my_cmd = conn->my_cmd;
	w->my_phase = conn->my_phase;
	w->my_flags = conn->my_flags;
	w->my_left = conn->my_left;
	w->my_next = conn->my_next;
	w->tls = 0;
	w->flags = write && db__in_call(current_task()) ? CUSTOS_WIRE_F_LIBRARY : 0;
	w->other_mode = 0;
	return w;
}

/* The walk's stream state back into the connection's. */
static __always_inline void wire__walk_end(struct custos_wire_conn *conn, struct wire_walk *w)
{
	__u8 stream = w->stream & 1;

	__builtin_memcpy(w->s.hdr, w->hdr, sizeof(w->s.hdr));
	conn->stream[stream] = w->s;
	conn->my_cmd = w->my_cmd;
	conn->my_phase = w->my_phase;
	conn->my_flags = w->my_flags;
	conn->my_left = w->my_left;
	conn->my_next = w->my_next;
	if (w->tls)
		conn->tls = 1;
	if (w->other_mode)
		conn->stream[!stream].mode = w->other_mode - 1;
}

/*
 * A socket call inside an SSL_read or SSL_write, on a parsed connection
 * that turned to TLS: the thread's libssl object is that socket's.
 */
static __always_inline void wire__tls_learn(__u64 file_addr, __u64 open_id)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct tls_socket sock = {.file_addr = file_addr, .open_id = open_id};
	struct tls_key key = {.tgid = id >> 32};
	__u64 *ssl = bpf_map_lookup_elem(&tls_threads, &tid);

	if (!ssl)
		return;
	key.ssl = *ssl;
	bpf_map_update_elem(&tls_sockets, &key, &sock, BPF_ANY);
}

/*
 * bytes moved through a parsed socket's file (open_id its open), from buf
 * and nvec (wire__walk_buffers), written (the write bit set) or read:
 * walked in the stream they belong to. A global function: the verifier
 * checks it once per program, not at each of the many read and write hooks
 * that call it.
 */
__noinline int wire__walk_global(__u64 file_addr, __u64 open_id, __u64 buf, __s64 nvec,
				 __u64 bytes_write)
{
	struct custos_wire_conn *conn = bpf_map_lookup_elem(&wire_conns, &file_addr);
	__u64 bytes = bytes_write & ~(WIRE_WRITE_BIT | WIRE_TLS_BIT), unwalked;
	__u32 zero = 0;
	struct wire_walk *w;

	if (!wire__walk_begin(conn, open_id, bytes_write & WIRE_WRITE_BIT,
			      bytes_write & WIRE_TLS_BIT)) {
		if (conn && conn->tls && !(bytes_write & WIRE_TLS_BIT))
			wire__tls_learn(file_addr, open_id);
		return 0;
	}
	unwalked = wire__walk_buffers(buf, nvec, bytes);
	w = bpf_map_lookup_elem(&wire_walks, &zero);
	if (!w || !conn)
		return 0;
	if (unwalked && w->s.mode != CUSTOS_WIRE_OFF)
		wire__lose(w, CUSTOS_WIRE_LOST_NO_BUFFER);
	wire__walk_end(conn, w);
	return 0;
}

/*
 * Bytes moved through a parsed socket without a buffer to walk (io_uring,
 * sendfile, splice): the stream is lost. Apart from wire__walk_global so
 * that the hooks that only ever lose stay shallow (5.10 limits the stack of
 * a chain of calls to 512 bytes).
 */
__noinline int wire__unbuffered_global(__u64 file_addr, __u64 open_id, __u32 write)
{
	struct custos_wire_conn *conn = bpf_map_lookup_elem(&wire_conns, &file_addr);
	struct wire_walk *w = wire__walk_begin(conn, open_id, write, false);

	if (!w || !conn)
		return 0;
	wire__lose(w, CUSTOS_WIRE_LOST_NO_BUFFER);
	wire__walk_end(conn, w);
	return 0;
}

/* The thread enters SSL_read or SSL_write on ssl: a socket call inside may say its socket. */
static __always_inline void wire__tls_enter(__u64 ssl)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&tls_threads, &tid, &ssl, BPF_ANY);
}

static __always_inline bool wire__tls_func(__u32 func)
{
	return func >= CUSTOS_DB_TLS_READ && func <= CUSTOS_DB_TLS_WRITE_EX;
}

/*
 * An SSL_read or SSL_write (func: enum custos_db_func) on ssl returned ret:
 * the plaintext it moved through buf (the _ex forms: as many bytes as
 * *bytes_ptr says) is walked, when ssl's socket is a parsed connection.
 */
static __always_inline void wire__tls_return(__u32 func, __u64 ssl, __u64 buf, __u64 bytes_ptr,
					     long ret)
{
	__u64 id = bpf_get_current_pid_tgid(), bytes = 0, flags = WIRE_TLS_BIT;
	struct tls_key key = {.ssl = ssl, .tgid = id >> 32};
	__u32 tid = (__u32)id;
	struct tls_socket *sock;

	bpf_map_delete_elem(&tls_threads, &tid);
	if (func == CUSTOS_DB_TLS_READ || func == CUSTOS_DB_TLS_WRITE) {
		if ((int)ret <= 0)
			return;
		bytes = (__u32)(int)ret;
	} else if ((int)ret != 1 || bpf_probe_read_user(&bytes, sizeof(bytes), (void *)bytes_ptr)) {
		return;
	}
	if (func == CUSTOS_DB_TLS_WRITE || func == CUSTOS_DB_TLS_WRITE_EX)
		flags |= WIRE_WRITE_BIT;
	sock = bpf_map_lookup_elem(&tls_sockets, &key);
	if (sock && bytes && bytes < (1ULL << 31))
		wire__walk_global(sock->file_addr, sock->open_id, buf, 0, bytes | flags);
}

/* A socket of an endpoint marked "parse" is followed from its first byte. */
static __always_inline void wire__start(__u64 file_addr, __u64 open_id, __u32 protocol, bool server)
{
	struct custos_wire_conn conn = {
	    .open_id = open_id,
	    .protocol = protocol,
	    .server = server,
	};

	conn.stream[CUSTOS_WIRE_FRONTEND].mode = CUSTOS_WIRE_UNTYPED;
	/* MySQL's server speaks first: its greeting. */
	if (protocol == CUSTOS_WIRE_MYSQL)
		conn.stream[CUSTOS_WIRE_BACKEND].mode = CUSTOS_WIRE_UNTYPED;
	bpf_map_update_elem(&wire_conns, &file_addr, &conn, BPF_ANY);
}

#endif /* CUSTOS_WIRE_BPF_H */
