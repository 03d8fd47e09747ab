/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel/user ABI: every record the BPF programs send through the ring
 * buffer, and every map key and value userspace reads or writes.
 *
 * Rules: fixed-width types only, largest fields first, explicit padding
 * (no record ends in padding the compiler adds: a record's data starts at
 * its sizeof), enum values explicit and never reused. Every layout is
 * pinned by the _Static_asserts at the end of this file, which both
 * compilers see: clang for the BPF target and the agent's own.
 *
 * There is no version field: both BPF objects are compiled from this header
 * in the same build as the agent and embedded in its binary, so the two
 * sides cannot disagree at run time, and the asserts make a layout change a
 * deliberate edit on both at once. A record only needs its type and size.
 */
#ifndef CUSTOS_ABI_H
#define CUSTOS_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CUSTOS_COMM_LEN		  16
/* Bytes of path names one record carries; longer paths are truncated at the root end. */
#define CUSTOS_PATH_MAX		  4096
/* Longest single path component, with its NUL (NAME_MAX + 1). */
#define CUSTOS_NAME_MAX		  256
/* Path components walked; a deeper path is truncated at the root end. */
#define CUSTOS_PATH_DEPTH_MAX	  64
/* Ancestor directories checked (by bpf_loop) when a directory's verdict is not cached. */
#define CUSTOS_WATCH_DEPTH_MAX	  65536
/* The same in the compat object (no bpf_loop: the verifier walks each step). */
#define CUSTOS_WATCH_DEPTH_COMPAT 128
/* Other names (hard links) of an opened inode checked when its own name is not watched. */
#define CUSTOS_ALIASES_MAX	  8
/* Bytes of argv an exec record carries. */
#define CUSTOS_ARGS_MAX		  1024
/*
 * Watch rules are a bit each in exclusion masks; the top bit means every
 * rule. A rule id is (config generation << CUSTOS_RULE_INDEX_BITS) | index,
 * so a record names the rule of the config it was made under.
 */
#define CUSTOS_RULES_MAX	  63
#define CUSTOS_RULE_ALL		  63
#define CUSTOS_RULE_INDEX_BITS	  6
#define CUSTOS_RULE_INDEX(id)	  ((id) & ((1U << CUSTOS_RULE_INDEX_BITS) - 1))
/*
 * The rule id of egress: a socket to an endpoint no rule names, or a file
 * written anew outside every watched tree, by a session that read customer
 * data (struct custos_egress_taint). No configured rule has it: rules are
 * indices 0-62 of configs of generation 1 and up, this is index 63 of
 * generation 0. Its bit in exclusion masks is CUSTOS_RULE_ALL's, so only
 * the exclusions of every rule (the top-level "exclude") apply to it.
 * Never reused for anything else.
 */
#define CUSTOS_RULE_EGRESS	  63
/* File descriptors scanned at exit and exec (in 64-fd words). */
#define CUSTOS_FD_WORDS_MAX	  1024
/* The same in the compat object: the first 1024 descriptors. */
#define CUSTOS_FD_WORDS_COMPAT	  16

/* Record types; the comment says what each reports. */
enum custos_record_type {
	CUSTOS_REC_FILE_OPEN = 1,      /* a watched file was opened */
	CUSTOS_REC_FILE_CLOSE = 2,     /* summary of an open watched file */
	CUSTOS_REC_FILE_DENIED = 3,    /* an open failed with EACCES/EPERM; userspace decides */
	CUSTOS_REC_PROC_EXEC = 4,      /* a process executed a program */
	CUSTOS_REC_PROC_EXIT = 5,      /* a process (thread group) exited */
	CUSTOS_REC_CGROUP_MKDIR = 6,   /* a cgroup v2 was created: its id and path */
	CUSTOS_REC_FILE_SHARED = 7,    /* a process other than the opener used an open file */
	CUSTOS_REC_FILE_MMAP = 8,      /* a watched file was mapped */
	CUSTOS_REC_FILE_CHANGE = 9,    /* truncate, chmod, chown through a watched open file */
	CUSTOS_REC_PATH_CHANGE = 10,   /* changes by name; userspace decides */
	CUSTOS_REC_DB_CALL = 11,       /* a database client library call returned */
	CUSTOS_REC_NET_CONNECT = 12,   /* a connect to, or an accept on, a watched endpoint */
	CUSTOS_REC_WIRE = 13,	       /* a database protocol message on a parsed socket */
	CUSTOS_REC_NET_CONNECTED = 14, /* a non-blocking connect to a watched endpoint ended */
	CUSTOS_REC_TYPE_MAX = 15,
};

#ifndef __bpf__
/* The name of a record type, as the agent's statistics and gap events say it. */
static inline const char *custos_record_type_name(unsigned int type)
{
	switch (type) {
	case CUSTOS_REC_FILE_OPEN:
		return "file_open";
	case CUSTOS_REC_FILE_CLOSE:
		return "file_close";
	case CUSTOS_REC_FILE_DENIED:
		return "file_denied";
	case CUSTOS_REC_PROC_EXEC:
		return "proc_exec";
	case CUSTOS_REC_PROC_EXIT:
		return "proc_exit";
	case CUSTOS_REC_CGROUP_MKDIR:
		return "cgroup_mkdir";
	case CUSTOS_REC_FILE_SHARED:
		return "file_shared";
	case CUSTOS_REC_FILE_MMAP:
		return "file_mmap";
	case CUSTOS_REC_FILE_CHANGE:
		return "file_change";
	case CUSTOS_REC_PATH_CHANGE:
		return "path_change";
	case CUSTOS_REC_DB_CALL:
		return "db_call";
	case CUSTOS_REC_NET_CONNECT:
		return "net_connect";
	case CUSTOS_REC_WIRE:
		return "wire";
	case CUSTOS_REC_NET_CONNECTED:
		return "net_connected";
	}
	return "unknown";
}
#endif

enum custos_open_via {
	CUSTOS_OPEN_SYSCALL = 0,
	CUSTOS_OPEN_IO_URING = 1, /* IORING_OP_OPENAT(2) */
	CUSTOS_OPEN_EXISTING = 2, /* open before the agent started (found at start) */
	/*
	 * Egress: the standard output of a process, open already for writing to
	 * an empty file, when the process read customer data (`cat W > F`: the
	 * shell opened F first).
	 */
	CUSTOS_OPEN_STDOUT = 3,
};

enum custos_change_op {
	CUSTOS_CHANGE_TRUNCATE = 1, /* arg: the new length */
	CUSTOS_CHANGE_CHMOD = 2,    /* arg: the mode */
	CUSTOS_CHANGE_CHOWN = 3,    /* arg: uid, arg2: gid ((__u32)-1: unchanged) */
	CUSTOS_CHANGE_UNLINK = 4,
	CUSTOS_CHANGE_RENAME = 5, /* name2/base2: the new name */
};

/* Bytes and calls through an open file, by one process. */
struct custos_io {
	__u64 bytes_read;
	__u64 read_calls;
	__u64 bytes_written;
	__u64 write_calls;
};

enum custos_close_reason {
	CUSTOS_CLOSE_CLOSE = 1,	 /* close(2) */
	CUSTOS_CLOSE_EXIT = 2,	 /* the process exited with the file open */
	CUSTOS_CLOSE_EXEC = 3,	 /* closed by exec (O_CLOEXEC) */
	CUSTOS_CLOSE_REUSED = 4, /* released unseen: its struct file was reused */
	CUSTOS_CLOSE_FLUSH = 5,	 /* userspace only: periodic summary of a file held open */
	CUSTOS_CLOSE_LOST = 6,	 /* userspace only: entry vanished (evicted) without a summary */
};

enum custos_watch_kind {
	CUSTOS_WATCH_FILE = 1, /* this inode */
	CUSTOS_WATCH_DIR = 2,  /* this directory and everything below it */
};

/* Flags of struct custos_path_info. */
#define CUSTOS_PATH_TRUNCATED 0x1 /* depth or size limit reached before the root */
#define CUSTOS_PATH_DELETED   0x2 /* the dentry is unlinked */

struct custos_rec_hdr {
	__u64 ktime_ns; /* CLOCK_BOOTTIME */
	__u16 type;	/* enum custos_record_type */
	__u16 pad;
	__u32 size; /* bytes of the whole record, header included */
};

/* Who: the task that caused the record. */
struct custos_task {
	__u64 start_ns;	 /* thread group leader start, CLOCK_BOOTTIME */
	__u64 cgroup_id; /* cgroup v2 id */
	__u32 tgid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 auid;	 /* audit login uid; (__u32)-1 when unset */
	__u32 sessionid; /* audit session id; (__u32)-1 when unset */
	__u32 tty_dev;	 /* controlling tty, kernel encoding (major << 20 | minor); 0 if none */
	char comm[CUSTOS_COMM_LEN];
};

/*
 * A path as the kernel resolved it: `len` bytes of NUL-terminated component
 * names, leaf first, root last ("a.csv\0crm\0srv\0" is /srv/crm/a.csv).
 */
struct custos_path_info {
	__u16 len;
	__u8 flags; /* CUSTOS_PATH_* */
	__u8 pad;
};

struct custos_file_open {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 open_id; /* unique per watched open; links summaries to it */
	__u64 ino;
	__u64 size;	      /* i_size at open */
	__u64 egress_read_ns; /* rule CUSTOS_RULE_EGRESS: the session's last read (taint); else 0 */
	__u32 dev;	      /* kernel encoding (major << 20 | minor) */
	__u32 rule;	      /* index of the watch rule that matched */
	__u32 flags;	      /* open(2) flags */
	__s32 fd;
	__u32 mode; /* i_mode */
	__u32 owner_uid;
	__u32 owner_gid;
	__u16 via;    /* enum custos_open_via */
	__u8 created; /* 1: this open created the file (O_CREAT, FMODE_CREATED) */
	__u8 pad;
	struct custos_path_info path;
	__u32 egress_read_rule; /* rule CUSTOS_RULE_EGRESS: the rule id of that read; else 0 */
	char data[];		/* path names */
};

struct custos_file_close {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 open_id;
	__u64 ino;
	struct custos_io
	    io; /* of the process counters_tgid, since the open; userspace reports differences */
	__u32 dev;
	__u32 rule;
	__u32 reason; /* enum custos_close_reason */
	__u32
	    counters_tgid; /* whose counters io are: the opener, or another process that used it */
	__u8 final;	   /* 1: the open file is released and forgotten */
	__u8 by_opener;	   /* 1: task is left empty: the opening thread, unchanged, let go */
	__u8 pad[6];
};

/* The first use of an open watched file by a process that did not open it (fork, fd passing). */
struct custos_file_shared {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 open_id;
	__u64 ino;
	__u32 dev;
	__u32 rule;
	__u32 opener_tgid;
	__s32 fd;
};

struct custos_file_mmap {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 open_id; /* 0 if the file was not open-tracked (e.g. opened before the agent) */
	__u64 ino;
	__u64 length;
	__u64 offset;
	__u32 dev;
	__u32 rule;
	__u32 prot;
	__u32 flags;
	__u32 mode;
	struct custos_path_info path;
	char data[]; /* path names */
};

/* A change through an open file (ftruncate, fchmod, fchown). */
struct custos_file_change {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 open_id; /* 0 if the file was not open-tracked */
	__u64 ino;
	__u64 arg;
	__u32 arg2;
	__u32 dev;
	__u32 rule;
	__u32 op; /* enum custos_change_op */
	__u32 mode;
	struct custos_path_info path;
	char data[]; /* path names */
};

/*
 * A change by name that succeeded; the kernel cannot tell whether the name
 * is watched (the inode may be gone): the agent resolves it as for a refused
 * open. data: name, base names (if name is relative), name2, base2 names.
 */
struct custos_path_change {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 arg;
	__u32 arg2;
	__u32 op;	 /* enum custos_change_op */
	__u16 name_len;	 /* with its NUL */
	__u16 name2_len; /* with its NUL; 0 without a second name */
	__u32 pad;
	struct custos_path_info base;
	struct custos_path_info base2;
	char data[];
};

struct custos_file_denied {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u32 flags;
	__s32 error; /* positive errno */
	__s32 dirfd;
	__u16 name_len; /* bytes of the name as the process passed it, NUL included */
	__u16 pad;
	struct custos_path_info base; /* directory a relative name starts from */
	__u32 pad2;
	char data[]; /* name, then base path names */
};

struct custos_proc_exec {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 exe_ino;
	__u32 exe_dev;
	__u16 args_len; /* bytes of NUL-separated argv */
	__u8 args_truncated;
	__u8 pad;
	struct custos_path_info exe;
	__u32 pad2;
	char data[]; /* exe path names at 0, argv at CUSTOS_PATH_MAX */
};

struct custos_proc_exit {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__s32 exit_code;
	__u32 pad;
};

struct custos_cgroup_mkdir {
	struct custos_rec_hdr hdr;
	__u64 cgroup_id;
	__u16 path_len; /* with its NUL */
	__u8 pad[6];
	char path[]; /* from the cgroup v2 root: "/system.slice/docker-<id>.scope" */
};

/*
 * Database client functions probed; the uprobe cookie is the function, plus
 * CUSTOS_DB_LAYOUT_* flags saying which private struct layouts may be read.
 * Values are never reused.
 */
enum custos_db_func {
	/* libpq */
	CUSTOS_DB_PQ_CONNECTDB = 1,	       /* (conninfo) -> conn */
	CUSTOS_DB_PQ_CONNECTDB_PARAMS = 2,     /* (keywords, values, expand) -> conn */
	CUSTOS_DB_PQ_CONNECT_START = 3,	       /* (conninfo) -> conn */
	CUSTOS_DB_PQ_CONNECT_START_PARAMS = 4, /* (keywords, values, expand) -> conn */
	CUSTOS_DB_PQ_SETDB_LOGIN = 5,	       /* (host, port, opts, tty, db, user, pwd) -> conn */
	CUSTOS_DB_PQ_FINISH = 6,	       /* (conn) */
	CUSTOS_DB_PQ_EXEC = 7,		       /* (conn, query) -> res */
	CUSTOS_DB_PQ_EXEC_PARAMS = 8,	       /* (conn, query, ...) -> res */
	CUSTOS_DB_PQ_PREPARE = 9,	       /* (conn, name, query, ...) -> res */
	CUSTOS_DB_PQ_EXEC_PREPARED = 10,       /* (conn, name, ...) -> res */
	CUSTOS_DB_PQ_SEND_QUERY = 11,	       /* (conn, query) -> ok */
	CUSTOS_DB_PQ_SEND_QUERY_PARAMS = 12,   /* (conn, query, ...) -> ok */
	CUSTOS_DB_PQ_SEND_PREPARE = 13,	       /* (conn, name, query, ...) -> ok */
	CUSTOS_DB_PQ_SEND_QUERY_PREPARED = 14, /* (conn, name, ...) -> ok */
	CUSTOS_DB_PQ_GET_RESULT = 15,	       /* (conn) -> res, NULL when the query is done */
	/* libmariadb, libmysqlclient, and programs linking them in */
	CUSTOS_DB_MY_REAL_CONNECT = 32,	     /* (mysql, host, user, pwd, db, port, socket, flags) */
	CUSTOS_DB_MY_SELECT_DB = 33,	     /* (mysql, db) -> 0 */
	CUSTOS_DB_MY_REAL_QUERY = 34,	     /* (mysql, query, length) -> 0 */
	CUSTOS_DB_MY_SEND_QUERY = 35,	     /* (mysql, query, length) -> 0 */
	CUSTOS_DB_MY_READ_QUERY_RESULT = 36, /* (mysql) -> 0 */
	CUSTOS_DB_MY_STORE_RESULT = 37,	     /* (mysql) -> res */
	CUSTOS_DB_MY_USE_RESULT = 38,	     /* (mysql) -> res */
	CUSTOS_DB_MY_AFFECTED_ROWS = 39,     /* (mysql) -> rows */
	CUSTOS_DB_MY_STMT_PREPARE = 40,	     /* (stmt, query, length) -> 0 */
	CUSTOS_DB_MY_STMT_EXECUTE = 41,	     /* (stmt) -> 0 */
	CUSTOS_DB_MY_CLOSE = 42,	     /* (mysql) */
	/* libsqlite3 */
	CUSTOS_DB_SQ_OPEN = 64,	      /* (filename, &db) -> rc */
	CUSTOS_DB_SQ_OPEN_V2 = 65,    /* (filename, &db, flags, vfs) -> rc */
	CUSTOS_DB_SQ_PREPARE_V2 = 66, /* (db, sql, n, &stmt, &tail) -> rc */
	CUSTOS_DB_SQ_PREPARE_V3 = 67, /* (db, sql, n, flags, &stmt, &tail) -> rc */
	CUSTOS_DB_SQ_STEP = 68,	      /* (stmt) -> rc: counted in the kernel, no record */
	CUSTOS_DB_SQ_RESET = 69,      /* (stmt): an execution ended */
	CUSTOS_DB_SQ_FINALIZE = 70,   /* (stmt): an execution ended, the statement is gone */
	CUSTOS_DB_SQ_CLOSE = 71,      /* (db) */
	/*
	 * libsqlite3's internal sqlite3LockAndPrepare, which every
	 * sqlite3_prepare* ends by calling, probed in their place when found:
	 * (db, sql, n, flags, old, &stmt, &tail) -> rc; old is set when a step
	 * prepares its statement again after a schema change (not reported).
	 */
	CUSTOS_DB_SQ_LOCK_AND_PREPARE = 72,
	/*
	 * libssl: the plaintext of a parsed connection that turned to TLS, no
	 * record of their own (the wire walk reads the buffer at return).
	 */
	CUSTOS_DB_TLS_READ = 80,     /* SSL_read(ssl, buf, num) -> bytes */
	CUSTOS_DB_TLS_WRITE = 81,    /* SSL_write(ssl, buf, num) -> bytes */
	CUSTOS_DB_TLS_READ_EX = 82,  /* SSL_read_ex(ssl, buf, num, &bytes) -> 1 */
	CUSTOS_DB_TLS_WRITE_EX = 83, /* SSL_write_ex(ssl, buf, num, &bytes) -> 1 */
	CUSTOS_DB_FUNC_MAX = 96,
};

#define CUSTOS_DB_FUNC_MASK	      0xff
/* Cookie flag: libpq 12 or later, whose PGconn starts with known fields. */
#define CUSTOS_DB_LAYOUT_PQ12	      0x100
/*
 * Cookie of sqlite3_step: where struct sqlite3 keeps what sqlite3_changes()
 * returns, plus 1 (0: unknown), in these bits, as the library's own
 * sqlite3_changes64 (or sqlite3_changes) reads it; and whether it is 64 bits
 * wide. A statement (Vdbe) starts with its connection (sqlite3_db_handle).
 */
#define CUSTOS_DB_SQ_CHANGES_SHIFT    32
#define CUSTOS_DB_SQ_CHANGES_OFF_MASK 0xffffULL
#define CUSTOS_DB_SQ_CHANGES_64	      (1ULL << 48)
/* Bytes of SQL text a record carries; a longer statement is cut (sql_truncated). */
#define CUSTOS_SQL_MAX		      4096
/* Bytes of each other string (names, users, hosts, messages). */
#define CUSTOS_DB_STR_MAX	      256
#define CUSTOS_DB_STRS		      4

/*
 * A database client library call that returned. data holds up to
 * CUSTOS_DB_STRS strings, each NUL-terminated, str_len[i] bytes (0:
 * absent): [0] SQL text, [1..3] per function (statement name, database,
 * user, host, port, socket, status text, error message).
 */
struct custos_db_call {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 handle; /* PGconn, MYSQL, sqlite3 or statement, in that process */
	/*
	 * What the call made: PGresult, MYSQL_RES, sqlite3, sqlite3_stmt. SQLite
	 * reset, finalize: sqlite3_changes() + 1 right after the step that
	 * returned SQLITE_DONE (0: unknown, or no such step).
	 */
	__u64 handle2;
	__u64 ret;	/* the return value */
	__u64 start_ns; /* CLOCK_BOOTTIME at entry (SQLite execution: its first step) */
	__s64 rows;	/* rows in the result (SQLite: rows stepped); -1 unknown */
	__u32 func;	/* enum custos_db_func */
	__s32 status;	/* PGresult's status; -1 unknown */
	__u32 arg;	/* a number argument: the MySQL port */
	__u16 str_len[CUSTOS_DB_STRS];
	__u8 sql_truncated;
	__u8 pad[3];
	char data[];
};

/*
 * A socket connected to, or accepted on, a watched endpoint: it is tracked
 * in open_files like a watched file (its summaries are file_close records
 * with this open_id). A connect that failed is reported untracked.
 */
struct custos_net_connect {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 open_id;	      /* 0: not tracked (the connect failed) */
	__u64 ino;	      /* the socket's inode */
	__u64 peer_ino;	      /* an accepted unix socket: its client's socket inode; else 0 */
	__u64 egress_read_ns; /* rule CUSTOS_RULE_EGRESS: the session's last read (taint); else 0 */
	__u32 dev;
	__u32 rule; /* the endpoint's rule id, or CUSTOS_RULE_EGRESS */
	__s32 fd;
	__s32 error; /* positive errno; 0 connected; EINPROGRESS: non-blocking, under way */
	__u32 egress_read_rule; /* rule CUSTOS_RULE_EGRESS: the rule id of that read; else 0 */
	__u32 pad;
	__u8 family;		       /* CUSTOS_NET_IPV4, CUSTOS_NET_IPV6 */
	__u8 transport;		       /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 accepted;		       /* 1: accepted on a listening socket; 0: a connect */
	__u8 existing;		       /* 1: connected before the agent started (found at start) */
	__u16 local_port, remote_port; /* host byte order; 0: unknown */
	__u8 local_addr[16], remote_addr[16]; /* IPv4: the first 4 bytes */
};

/*
 * The end of a non-blocking connect whose record said EINPROGRESS: the
 * handshake finished (error 0) or failed (a positive errno).
 */
struct custos_net_connected {
	struct custos_rec_hdr hdr;
	__u64 open_id;
	__s32 error;
	__u32 pad;
};

enum custos_net_family {
	CUSTOS_NET_UNIX = 1, /* a unix socket: no addresses; the endpoint names its path */
	CUSTOS_NET_IPV4 = 4,
	CUSTOS_NET_IPV6 = 6,
};

/*
 * Key of the endpoints map (an LPM trie): the bytes after prefixlen match
 * from the first bit, so transport, family and port (0: every port) always
 * match in full and the address by its prefix: prefixlen = 32 + the
 * address prefix's bits.
 */
struct custos_endpoint_key {
	__u32 prefixlen;
	__u8 transport;
	__u8 family; /* enum custos_net_family */
	__u16 port;  /* host byte order; 0: every port */
	__u8 addr[16];
};

#define CUSTOS_ENDPOINT_KEY_FIXED_BITS 32
#define CUSTOS_ENDPOINT_KEYS_MAX       16384

struct custos_endpoint_value {
	__u32 rule;
	__u32 parse; /* enum custos_wire_protocol: the protocol its sockets speak */
};

/*
 * Database wire protocols the kernel follows on an endpoint's sockets (the
 * config's "parse"): it walks the message headers of every send and
 * receive, counts the row messages, and forwards only the messages that
 * carry no row contents, parameter values or secrets (enum
 * custos_wire_msg_keep in bpf/wire.bpf.h says which).
 */
enum custos_wire_protocol {
	CUSTOS_WIRE_NONE = 0,
	CUSTOS_WIRE_POSTGRESQL = 1,
	CUSTOS_WIRE_MYSQL = 2, /* MySQL and MariaDB's client/server protocol */
};

/* Where a stream of a parsed connection is (struct custos_wire_stream.mode). */
enum custos_wire_mode {
	CUSTOS_WIRE_TYPED = 0,	 /* messages: type byte, then a length that counts itself */
	CUSTOS_WIRE_UNTYPED = 1, /* PostgreSQL's first messages: a length, then a code */
	CUSTOS_WIRE_BYTE = 2,	 /* one byte: the answer to an SSLRequest or GSSENCRequest */
	CUSTOS_WIRE_OFF = 3,	 /* not followed any more: encrypted, or lost */
	CUSTOS_WIRE_AUTH = 4,	 /* MySQL: authentication, skipped until the server's OK */
};

/* MySQL: where the server's answer to the current command is (custos_wire_conn.my_phase). */
enum custos_wire_my_phase {
	CUSTOS_WIRE_MY_HEAD = 0,    /* its first packet: OK, ERR, EOF or a column count */
	CUSTOS_WIRE_MY_PARAMS = 1,  /* a prepared statement's parameter definitions */
	CUSTOS_WIRE_MY_COLUMNS = 2, /* column definitions (my_left of them, with an EOF) */
	CUSTOS_WIRE_MY_ROWS = 3,    /* rows, until an EOF, OK or ERR packet */
	CUSTOS_WIRE_MY_SKIP = 4,    /* one packet of no interest (COM_STATISTICS's answer) */
};

/* MySQL: the capabilities of a connection the kernel's walk depends on (my_flags). */
#define CUSTOS_WIRE_MY_DEPRECATE_EOF 0x1 /* no EOF packets after definitions; OK ends rows */
#define CUSTOS_WIRE_MY_COMPRESS	     0x2 /* compressed after authentication: not followed */
#define CUSTOS_WIRE_MY_CACHE_METADATA                                                          \
	0x4			       /* MariaDB: a column count may come without definitions \
					*/
#define CUSTOS_WIRE_MY_QUERY_ATTRS 0x8 /* MySQL 8: COM_QUERY starts with attribute values */

/* The two streams of a connection: what the client sends, what the server sends. */
#define CUSTOS_WIRE_FRONTEND 0
#define CUSTOS_WIRE_BACKEND  1

/* One direction of a parsed connection, between two calls. */
struct custos_wire_stream {
	__u32 remaining; /* bytes of the current message's body not yet seen */
	__u32 body_len;	 /* the current message's body */
	__u32 keep_left; /* of its body still to forward */
	__u32 rows;	 /* row messages since the stream's last record */
	__u32 code;	 /* an untyped message's code (startup, SSLRequest...) */
	__u8 hdr[16];	 /* a header split between two calls (MySQL: with its first bytes) */
	__u8 hdr_have;
	__u8 type; /* the current message's type; 0: untyped */
	__u8 mode; /* enum custos_wire_mode */
	__u8 truncated;
	__u8 cont; /* MySQL: the current packet is 16 MiB - 1 long, the next one continues it */
	__u8 pad[3];
};

/* Value of the wire_conns map, keyed by the socket's struct file address. */
struct custos_wire_conn {
	__u64 open_id;
	struct custos_wire_stream stream[2]; /* CUSTOS_WIRE_FRONTEND, CUSTOS_WIRE_BACKEND */
	__u32 protocol;			     /* enum custos_wire_protocol */
	__u8 server;			     /* 1: accepted: it receives the frontend stream */
	/* MySQL: the last command, and where the server's answer to it is. */
	__u8 my_cmd;
	__u8 my_phase; /* enum custos_wire_my_phase */
	__u8 my_flags; /* CUSTOS_WIRE_MY_* */
	__u32 my_left; /* definitions still to come in this phase */
	__u32 my_next; /* a prepared statement's column definitions, after its parameters' */
	/*
	 * 1: encrypted; the streams are the plaintext, walked in the buffers
	 * of libssl's calls (SSL_read, SSL_write), not in the socket's.
	 */
	__u8 tls;
	__u8 pad[7];
};

/* What a wire record reports (struct custos_wire_msg.event). */
enum custos_wire_event {
	CUSTOS_WIRE_MSG = 1,  /* a message, or the next part of one (offset > 0) */
	CUSTOS_WIRE_TLS = 2,  /* the connection is encrypted from here: only bytes are counted */
	CUSTOS_WIRE_LOST = 3, /* the kernel stopped following it (aux: enum custos_wire_lost) */
};

enum custos_wire_lost {
	CUSTOS_WIRE_LOST_FRAMING = 1,	 /* a length no message of the protocol has */
	CUSTOS_WIRE_LOST_STEPS = 2,	 /* more messages in one call than the kernel walks */
	CUSTOS_WIRE_LOST_NO_BUFFER = 3,	 /* data moved without a buffer to read (io_uring,
					    splice, sendfile, more iovecs than followed) */
	CUSTOS_WIRE_LOST_UNREADABLE = 4, /* the buffer could not be read */
	CUSTOS_WIRE_LOST_PROTOCOL = 5,	 /* a message or answer the walk does not follow */
	CUSTOS_WIRE_LOST_COMPRESSED = 6, /* MySQL: compression was agreed on */
};

/* Flags of struct custos_wire_msg. */
#define CUSTOS_WIRE_F_LAST	0x1 /* the last part the kernel forwards of this message */
#define CUSTOS_WIRE_F_TRUNCATED 0x2 /* the message is longer than what is forwarded */
#define CUSTOS_WIRE_F_LIBRARY	0x4 /* sent inside a probed client library call */

/*
 * A message on a parsed connection, or an event of its stream. data: the
 * part of the body forwarded (at offset; never row contents, parameter
 * values or authentication). task is zero for the backend's messages: the
 * server's answers belong to the statement that was sent.
 */
struct custos_wire_msg {
	struct custos_rec_hdr hdr;
	struct custos_task task;
	__u64 open_id;
	__u32 body_len; /* the message's body, after its type and length */
	__u32 offset;	/* where data starts in the body */
	__u32 rows;	/* the stream's row messages (DataRow, CopyData) since its last record */
	__u32 aux;	/* an untyped message's code (MySQL: the login's capabilities, or the
			   id of a prepared statement); LOST: enum custos_wire_lost */
	__u16 data_len;
	__u8 type;   /* the message's type byte; 0: untyped */
	__u8 stream; /* CUSTOS_WIRE_FRONTEND, CUSTOS_WIRE_BACKEND */
	__u8 event;  /* enum custos_wire_event */
	__u8 flags;  /* CUSTOS_WIRE_F_* */
	__u8 pad[2];
	char data[];
};

/*
 * An abstract unix socket's name (no file: "@name" in the config) in the
 * unix endpoints map: its FNV-1a hash as the inode, on this device.
 */
#define CUSTOS_UNIX_ABSTRACT_DEV 0xffffffffu
#define CUSTOS_FNV_OFFSET	 0xcbf29ce484222325ULL
#define CUSTOS_FNV_PRIME	 0x100000001b3ULL
/* Bytes of an abstract name: sun_path's 108, less its leading NUL. */
#define CUSTOS_UNIX_NAME_MAX	 107

/*
 * Sessions that read customer data (the egress_taints map): a read-open of
 * a watched file marks the caller's audit session, or outside any session
 * ((__u32)-1) its process, with CUSTOS_EGRESS_KEY_PROCESS set so the two
 * cannot meet. For state.egress_window_ns after it, the session's egress
 * is tracked (CUSTOS_RULE_EGRESS).
 */
#define CUSTOS_EGRESS_KEY_PROCESS (1ULL << 32)
#define CUSTOS_EGRESS_TAINTS_MAX  16384

struct custos_egress_taint {
	__u64 ktime_ns; /* CLOCK_BOOTTIME of the session's last read-open of a watched file */
	__u32 rule;	/* its rule id */
	__u32 pad;
};

/* Key of the watch and exe-exclusion maps. */
struct custos_inode_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct custos_watch_value {
	__u32 rule;
	__u32 kind; /* enum custos_watch_kind */
};

/* Value of the open-file map, keyed by struct file address. */
struct custos_open_file {
	__u64 open_id;
	__u64 ino;
	struct custos_io io; /* the opener's */
	__u64 opener_cred;   /* address of the opener's struct cred and mm: its identity then */
	__u64 opener_mm;
	__u32 dev;
	__u32 rule;
	__u32 owner_tgid;
	__u32 opener_tid;
	__u32 wire; /* enum custos_wire_protocol: a parsed socket, with an entry in wire_conns */
	__u32 pad;
};

/* Key and value of the map of other processes' use of an open file. */
struct custos_reader_key {
	__u64 file; /* struct file address */
	__u32 tgid;
	__u32 pad;
};

struct custos_reader {
	__u64 open_id;
	struct custos_io io;
};

/* open_id: the CPU in the top bits, a per-CPU count below (no shared counter to contend on). */
#define CUSTOS_OPEN_ID_CPU_SHIFT 48

/* Per-CPU counters of what could not be recorded. */
struct custos_drops {
	__u64 ringbuf_full[CUSTOS_REC_TYPE_MAX]; /* by record type */
	__u64 path_unreadable;			 /* a path name could not be read */
	/*
	 * A syscall's arguments could not be found (compat object: the saved
	 * user registers did not hold that syscall): the call is not recorded.
	 */
	__u64 args_unreadable;
};

/*
 * The BPF object's settings (its .rodata: one variable, so its layout is
 * this struct's), written by the loader before the programs load.
 */
struct custos_bpf_config {
	__u64 wakeup_bytes; /* wake the agent when this many bytes wait in the ring */
	__u32 agent_tgid;   /* the agent's own process: never recorded */
	__u32 pad;
};

/* State the BPF side and the agent share (the object's .bss, mapped by the agent). */
struct custos_bpf_state {
	/*
	 * Entries added to open_files minus those deleted, never too low: 0
	 * means no watched file is open anywhere, and reads and closes need no
	 * lookup. The LRU map evicts without telling; the agent subtracts the
	 * evicted entries when it walks the map while no insert or delete was
	 * under way (loader_each_open_file).
	 */
	__s64 open_files_tracked;
	/* Inserts and deletes of open_files begun, and done (count updated). */
	__u64 open_files_ops_begun;
	__u64 open_files_ops_done;
	/*
	 * Epoch of the cached directory verdicts: the agent bumps it when the
	 * watch maps change, the kernel hooks when a directory is removed (its
	 * inode number may come back as another directory) or a rename may
	 * have moved a directory to another parent (that changes the ancestry
	 * of everything below it); a rename within one directory does not.
	 */
	__u64 verdict_epoch;
	/*
	 * How long after a session read customer data its egress is tracked
	 * (the config's egress.window); 0: egress is off, and reads of watched
	 * files mark nothing.
	 */
	__u64 egress_window_ns;
	__u32 file_watches; /* entries of kind CUSTOS_WATCH_FILE in watch_inodes */
	/* Entries in the exclusion maps; 0 skips their lookups. */
	__u32 exclude_comm_count;
	__u32 exclude_uid_count;
	__u32 exclude_exe_count;
	__u32 endpoint_keys; /* entries in endpoints; 0 skips connects and accepts */
	__u32 pad;
};

/*
 * The layouts both sides rely on. A record's data starts at its sizeof
 * (REC_DATA, events): no record may end in implicit padding.
 */
#define CUSTOS_ABI_SIZE(type, bytes) \
	_Static_assert(sizeof(struct type) == (bytes), #type " changed size: edit on purpose")
#define CUSTOS_ABI_RECORD(type, bytes) \
	CUSTOS_ABI_SIZE(type, bytes);  \
	_Static_assert(__builtin_offsetof(struct type, hdr) == 0, #type ": header first")
#define CUSTOS_ABI_DATA_AT_END(type)                                                 \
	_Static_assert(__builtin_offsetof(struct type, data) == sizeof(struct type), \
		       #type " ends in implicit padding")

CUSTOS_ABI_SIZE(custos_rec_hdr, 16);
CUSTOS_ABI_SIZE(custos_task, 72);
CUSTOS_ABI_SIZE(custos_path_info, 4);
CUSTOS_ABI_SIZE(custos_io, 32);
CUSTOS_ABI_RECORD(custos_file_open, 160);
CUSTOS_ABI_DATA_AT_END(custos_file_open);
CUSTOS_ABI_RECORD(custos_file_close, 160);
CUSTOS_ABI_RECORD(custos_file_shared, 120);
CUSTOS_ABI_RECORD(custos_file_mmap, 144);
CUSTOS_ABI_DATA_AT_END(custos_file_mmap);
CUSTOS_ABI_RECORD(custos_file_change, 136);
CUSTOS_ABI_DATA_AT_END(custos_file_change);
CUSTOS_ABI_RECORD(custos_path_change, 120);
CUSTOS_ABI_DATA_AT_END(custos_path_change);
CUSTOS_ABI_RECORD(custos_file_denied, 112);
CUSTOS_ABI_DATA_AT_END(custos_file_denied);
CUSTOS_ABI_RECORD(custos_proc_exec, 112);
CUSTOS_ABI_DATA_AT_END(custos_proc_exec);
CUSTOS_ABI_RECORD(custos_proc_exit, 96);
CUSTOS_ABI_RECORD(custos_cgroup_mkdir, 32);
_Static_assert(__builtin_offsetof(struct custos_cgroup_mkdir, path) ==
		   sizeof(struct custos_cgroup_mkdir),
	       "custos_cgroup_mkdir ends in implicit padding");
CUSTOS_ABI_RECORD(custos_db_call, 152);
CUSTOS_ABI_RECORD(custos_net_connect, 184);
CUSTOS_ABI_RECORD(custos_net_connected, 32);
CUSTOS_ABI_SIZE(custos_endpoint_key, 24);
CUSTOS_ABI_SIZE(custos_endpoint_value, 8);
CUSTOS_ABI_DATA_AT_END(custos_db_call);
/* Every record of a task has it right after the header: one place for the who of any record. */
#define CUSTOS_ABI_TASK_AFTER_HEADER(type) \
	_Static_assert(__builtin_offsetof(struct type, task) == 16, #type ": task at 16")
CUSTOS_ABI_TASK_AFTER_HEADER(custos_file_open);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_file_close);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_file_shared);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_file_mmap);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_file_change);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_path_change);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_file_denied);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_proc_exec);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_proc_exit);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_db_call);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_net_connect);
CUSTOS_ABI_SIZE(custos_inode_key, 16);
CUSTOS_ABI_SIZE(custos_watch_value, 8);
CUSTOS_ABI_SIZE(custos_open_file, 88);
CUSTOS_ABI_SIZE(custos_wire_stream, 44);
CUSTOS_ABI_SIZE(custos_wire_conn, 120);
CUSTOS_ABI_RECORD(custos_wire_msg, 120);
CUSTOS_ABI_DATA_AT_END(custos_wire_msg);
CUSTOS_ABI_TASK_AFTER_HEADER(custos_wire_msg);
CUSTOS_ABI_SIZE(custos_reader_key, 16);
CUSTOS_ABI_SIZE(custos_reader, 40);
CUSTOS_ABI_SIZE(custos_drops, 8 * (CUSTOS_REC_TYPE_MAX + 2));
CUSTOS_ABI_SIZE(custos_bpf_config, 16);
CUSTOS_ABI_SIZE(custos_bpf_state, 64);
CUSTOS_ABI_SIZE(custos_egress_taint, 16);

#endif /* CUSTOS_ABI_H */
