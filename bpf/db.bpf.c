// SPDX-License-Identifier: GPL-2.0
/*
 * Database client libraries: libpq, libmariadb/libmysqlclient, libsqlite3;
 * and libssl's SSL_read and SSL_write, whose plaintext the wire walk reads
 * on parsed connections that turned to TLS (wire.bpf.h).
 * Why uprobes: the statement and the human behind it are both in the
 * client process, before TLS and before the server sees only its own user.
 * Two programs serve every probed function; the attach cookie says which
 * function (enum custos_db_func). The kernel side only collects: arguments
 * at entry, strings and result counters at return (a string read at entry
 * may not be paged in yet); userspace pairs the calls into statements.
 * A call made inside another probed call of the same thread (PQexec calls
 * PQsendQuery and PQgetResult; SQLite prepares its schema inside a prepare)
 * is left to the outer one.
 */
#include "common.bpf.h"
#include "db_thread.bpf.h"
#include "maps.bpf.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "wire.bpf.h"
#include <bpf/bpf_tracing.h>

/* libpq's PGresult: ntups, resultStatus, cmdStatus[64] and errMsg (stable since 9.x). */
#define PGRES_NTUPS	     0
#define PGRES_STATUS	     40
#define PGRES_CMD_STATUS     44
#define PGRES_CMD_STATUS_LEN 64
#define PGRES_ERR_MSG	     160
#define PGRES_FATAL_ERROR    7
/* libpq 12+ PGconn: pghost, pgport, dbName, pguser. */
#define PGCONN_HOST	     0
#define PGCONN_PORT	     16
#define PGCONN_DB	     72
#define PGCONN_USER	     88
/* MYSQL_RES starts with my_ulonglong row_count. */
#define MYSQL_RES_ROW_COUNT  0
#define SQLITE_ROW	     100
#define SQLITE_DONE	     101

#ifdef CUSTOS_COMPAT
/*
 * No attach cookies before 5.15: one program per probed function, and the
 * CUSTOS_DB_LAYOUT_* flags of its library, by function, set by the loader.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CUSTOS_DB_FUNC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} db_func_flags SEC(".maps");
#endif

/* The error an SQLite statement's step returned since its last reset (a constraint failed). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct db_stmt_key);
	__type(value, __s32);
} db_stmt_errors SEC(".maps");

static __always_inline __u64 db__user_u64(__u64 addr)
{
	__u64 v = 0;

	if (addr)
		bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline __s32 db__user_s32(__u64 addr)
{
	__s32 v = -1;

	if (addr)
		bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* Where the strings of a record under construction go. */
struct db_out {
	struct custos_db_call *rec;
	__u32 off;
};

/* A NUL-terminated user string into slot (at most max bytes, NUL included). */
static __always_inline void db__str(struct db_out *o, int slot, __u64 addr, __u32 max)
{
	__u32 off = o->off;
	long n;

	if (!addr || slot < 0 || slot >= CUSTOS_DB_STRS ||
	    off > CUSTOS_SQL_MAX + 2 * CUSTOS_DB_STR_MAX)
		return;
	n = bpf_probe_read_user_str(o->rec->data + off, max, (void *)addr);
	if (n <= 0)
		return;
	o->rec->str_len[slot] = n;
	o->off = off + n;
}

/* len bytes of user memory (text that is not NUL-terminated) into slot, NUL added. */
static __always_inline void db__bytes(struct db_out *o, int slot, __u64 addr, __u64 len)
{
	__u32 off = o->off, n = len;

	if (!addr || off > 0)
		return; /* only the SQL text, always first */
	if (len >= CUSTOS_SQL_MAX) {
		n = CUSTOS_SQL_MAX - 1;
		o->rec->sql_truncated = 1;
	}
	n &= CUSTOS_SQL_MAX - 1;
	if (bpf_probe_read_user(o->rec->data, n, (void *)addr))
		return;
	o->rec->data[n & (CUSTOS_SQL_MAX - 1)] = 0;
	o->rec->str_len[slot] = n + 1;
	o->off = n + 1;
}

/* The SQL text, NUL-terminated: flagged if it did not fit. */
static __always_inline void db__sql(struct db_out *o, __u64 addr)
{
	db__str(o, 0, addr, CUSTOS_SQL_MAX);
	if (o->rec->str_len[0] == CUSTOS_SQL_MAX && db__user_u64(addr + CUSTOS_SQL_MAX - 1) & 0xff)
		o->rec->sql_truncated = 1;
}

/* A PGresult: rows, status, its command status ("UPDATE 3") and error text. */
static __always_inline void db__pg_result(struct db_out *o, __u64 res)
{
	struct custos_db_call *rec = o->rec;

	rec->handle2 = res;
	if (!res)
		return;
	rec->rows = db__user_s32(res + PGRES_NTUPS);
	rec->status = db__user_s32(res + PGRES_STATUS);
	db__str(o, 2, res + PGRES_CMD_STATUS, PGRES_CMD_STATUS_LEN);
	if (rec->status == PGRES_FATAL_ERROR)
		db__str(o, 3, db__user_u64(res + PGRES_ERR_MSG), CUSTOS_DB_STR_MAX);
}

/* A new PGconn's user, database, host, port (already defaulted by libpq). */
static __always_inline void db__pg_conn(struct db_out *o, __u64 conn, __u64 cookie)
{
	if (!conn || !(cookie & CUSTOS_DB_LAYOUT_PQ12))
		return;
	db__str(o, 0, db__user_u64(conn + PGCONN_USER), CUSTOS_DB_STR_MAX);
	db__str(o, 1, db__user_u64(conn + PGCONN_DB), CUSTOS_DB_STR_MAX);
	db__str(o, 2, db__user_u64(conn + PGCONN_HOST), CUSTOS_DB_STR_MAX);
	db__str(o, 3, db__user_u64(conn + PGCONN_PORT), CUSTOS_DB_STR_MAX);
}

/* A SQLite statement's text: up to the tail libsqlite3 left, or nByte, or the NUL. */
static __always_inline void db__sqlite_sql(struct db_out *o, __u64 sql, __s64 nbyte, __u64 ptail)
{
	__u64 tail = db__user_u64(ptail);

	if (tail > sql && tail - sql < (1 << 30))
		db__bytes(o, 0, sql, tail - sql);
	else if (nbyte >= 0)
		db__bytes(o, 0, sql, nbyte);
	else
		db__sql(o, sql);
}

static __always_inline void db__fill(struct db_out *o, const struct db_inflight *call, __u64 cookie,
				     __u64 ret)
{
	struct custos_db_call *rec = o->rec;
	const __u64 *a = call->args;

	rec->handle = a[0];
	switch (call->func) {
	case CUSTOS_DB_PQ_CONNECTDB:
	case CUSTOS_DB_PQ_CONNECTDB_PARAMS:
	case CUSTOS_DB_PQ_CONNECT_START:
	case CUSTOS_DB_PQ_CONNECT_START_PARAMS:
	case CUSTOS_DB_PQ_SETDB_LOGIN:
		rec->handle = ret;
		db__pg_conn(o, ret, cookie);
		break;
	case CUSTOS_DB_PQ_EXEC:
	case CUSTOS_DB_PQ_EXEC_PARAMS:
		db__sql(o, a[1]);
		db__pg_result(o, ret);
		break;
	case CUSTOS_DB_PQ_PREPARE:
		db__sql(o, a[2]);
		db__str(o, 1, a[1], CUSTOS_DB_STR_MAX);
		db__pg_result(o, ret);
		break;
	case CUSTOS_DB_PQ_EXEC_PREPARED:
		db__str(o, 1, a[1], CUSTOS_DB_STR_MAX);
		db__pg_result(o, ret);
		break;
	case CUSTOS_DB_PQ_SEND_QUERY:
	case CUSTOS_DB_PQ_SEND_QUERY_PARAMS:
		db__sql(o, a[1]);
		break;
	case CUSTOS_DB_PQ_SEND_PREPARE:
		db__sql(o, a[2]);
		db__str(o, 1, a[1], CUSTOS_DB_STR_MAX);
		break;
	case CUSTOS_DB_PQ_SEND_QUERY_PREPARED:
		db__str(o, 1, a[1], CUSTOS_DB_STR_MAX);
		break;
	case CUSTOS_DB_PQ_GET_RESULT:
		db__pg_result(o, ret);
		break;
	case CUSTOS_DB_MY_REAL_CONNECT:
		db__str(o, 0, a[2], CUSTOS_DB_STR_MAX);
		db__str(o, 1, a[4], CUSTOS_DB_STR_MAX);
		db__str(o, 2, a[1], CUSTOS_DB_STR_MAX);
		db__str(o, 3, a[6], CUSTOS_DB_STR_MAX);
		rec->arg = a[5];
		break;
	case CUSTOS_DB_MY_SELECT_DB:
		db__str(o, 1, a[1], CUSTOS_DB_STR_MAX);
		break;
	case CUSTOS_DB_MY_REAL_QUERY:
	case CUSTOS_DB_MY_SEND_QUERY:
	case CUSTOS_DB_MY_STMT_PREPARE:
		db__bytes(o, 0, a[1], a[2]);
		break;
	case CUSTOS_DB_MY_STORE_RESULT:
		rec->handle2 = ret;
		if (ret)
			rec->rows = db__user_u64(ret + MYSQL_RES_ROW_COUNT);
		break;
	case CUSTOS_DB_MY_USE_RESULT:
		rec->handle2 = ret;
		break;
	case CUSTOS_DB_SQ_OPEN:
	case CUSTOS_DB_SQ_OPEN_V2:
		db__str(o, 1, a[0], CUSTOS_DB_STR_MAX);
		rec->handle = db__user_u64(a[1]);
		break;
	case CUSTOS_DB_SQ_PREPARE_V2:
		rec->handle2 = db__user_u64(a[3]);
		db__sqlite_sql(o, a[1], (__s32)a[2], a[4]);
		break;
	case CUSTOS_DB_SQ_PREPARE_V3:
		rec->handle2 = db__user_u64(a[4]);
		db__sqlite_sql(o, a[1], (__s32)a[2], a[5]);
		break;
	case CUSTOS_DB_SQ_LOCK_AND_PREPARE:
		rec->handle2 = db__user_u64(a[5]);
		db__sqlite_sql(o, a[1], (__s32)a[2], a[6]);
		break;
	case CUSTOS_DB_SQ_RESET:
	case CUSTOS_DB_SQ_FINALIZE:
		rec->rows = ret; /* rows stepped, see db__sqlite_done() */
		if (a[1])
			rec->status = a[1]; /* the error a step returned */
		rec->handle2 = a[2];	    /* sqlite3_changes() + 1 at SQLITE_DONE */
		break;
	}
}

/*
 * Builds a record in this CPU's scratch when it is free, else in a full-size
 * ring reservation, then sends it.
 */
static __always_inline void db__emit(struct task_struct *task, const struct db_inflight *call,
				     __u64 cookie, __u64 ret)
{
	struct db_scratch *s;
	struct db_out o = {};
	__u32 zero = 0;
	bool scratch;

	s = bpf_map_lookup_elem(&db_scratch, &zero);
#ifdef CUSTOS_COMPAT
	scratch = false; /* no compare-and-swap before 5.12: always a ring reservation */
#else
	scratch = s && __sync_val_compare_and_swap(&s->busy, 0, 1) == 0;
#endif
	if (scratch) {
		o.rec = (struct custos_db_call *)s->data;
		__builtin_memset(o.rec, 0, sizeof(*o.rec));
		record__init(&o.rec->hdr, CUSTOS_REC_DB_CALL, 0);
	} else {
		o.rec = record__reserve(CUSTOS_REC_DB_CALL, DB_RECORD_MAX);
		if (!o.rec)
			return;
		__builtin_memset((void *)o.rec + sizeof(o.rec->hdr), 0,
				 sizeof(*o.rec) - sizeof(o.rec->hdr));
	}
	task__fill(&o.rec->task, task);
	o.rec->func = call->func;
	o.rec->ret = ret;
	o.rec->start_ns = call->start_ns;
	o.rec->rows = -1;
	o.rec->status = -1;
	db__fill(&o, call, cookie, ret);
	if (scratch) {
		record__output(o.rec, sizeof(*o.rec) + o.off);
		s->busy = 0;
	} else {
		record__submit(o.rec);
	}
}

static __always_inline bool db__entry_only(__u32 func)
{
	return func == CUSTOS_DB_PQ_FINISH || func == CUSTOS_DB_MY_CLOSE ||
	       func == CUSTOS_DB_SQ_RESET || func == CUSTOS_DB_SQ_FINALIZE ||
	       func == CUSTOS_DB_SQ_CLOSE;
}

/* An SQLite execution ends (reset, finalize): report it if it stepped. */
static __always_inline void db__sqlite_done(struct task_struct *task, struct db_inflight *call,
					    __u64 cookie)
{
	struct db_stmt_key key = {.tgid = KR(task, tgid), .stmt = call->args[0]};
	struct db_stmt_rows *st = bpf_map_lookup_elem(&db_stmts, &key);
	struct db_stmt_rows done;
	__s32 *err;

	if (!st)
		return;
	done = *st;
	bpf_map_delete_elem(&db_stmts, &key);
	call->start_ns = done.first_ns;
	err = bpf_map_lookup_elem(&db_stmt_errors, &key);
	call->args[1] = err ? *err : 0;
	call->args[2] = done.changes;
	if (err)
		bpf_map_delete_elem(&db_stmt_errors, &key);
	db__emit(task, call, cookie, done.rows);
}

/* A probed function was entered: keep its arguments for its return. */
static __always_inline int db__entry(struct pt_regs *ctx, __u64 cookie)
{
	struct task_struct *task = current_task();
	struct db_inflight call = {
	    .func = cookie & CUSTOS_DB_FUNC_MASK,
	    .start_ns = bpf_ktime_get_boot_ns(),
	};
	struct db_call_key key = {.tid = KR(task, pid), .sp = PT_REGS_SP(ctx)};
	__u32 *depth;

	if (task__is_agent(task))
		return 0;
	call.args[0] = PT_REGS_PARM1(ctx);
	call.args[1] = PT_REGS_PARM2(ctx);
	call.args[2] = PT_REGS_PARM3(ctx);
	call.args[3] = PT_REGS_PARM4(ctx);
	call.args[4] = PT_REGS_PARM5(ctx);
	call.args[5] = uprobe_arg6(ctx);
	/* A 7th argument is on the stack (mysql_real_connect's unix_socket, the tail). */
	if (call.func == CUSTOS_DB_MY_REAL_CONNECT || call.func == CUSTOS_DB_SQ_LOCK_AND_PREPARE)
		call.args[6] = db__user_u64(PT_REGS_SP(ctx) + 8);
	if (wire__tls_func(call.func)) {
		/* Not a database call: the thread's depth stays, its statements are the wire's. */
		wire__tls_enter(call.args[0]);
		bpf_map_update_elem(&db_calls, &key, &call, BPF_ANY);
		return 0;
	}
	if (db__entry_only(call.func)) {
		if (call.func == CUSTOS_DB_SQ_RESET || call.func == CUSTOS_DB_SQ_FINALIZE)
			db__sqlite_done(task, &call, cookie);
		else
			db__emit(task, &call, cookie, 0);
		return 0;
	}
	depth = db__depth(task, true);
	if (depth) {
		call.nested = *depth > 0;
		__sync_fetch_and_add(depth, 1);
	}
	bpf_map_update_elem(&db_calls, &key, &call, BPF_ANY);
	return 0;
}

/*
 * What sqlite3_changes() returns now, plus 1, for the connection of
 * statement stmt (a Vdbe starts with it), where the cookie says it is kept;
 * 0 if unknown. Right after the step that finished an INSERT, UPDATE or
 * DELETE, the rows it changed.
 */
static __always_inline __u64 db__sqlite_changes(__u64 stmt, __u64 cookie)
{
	__u64 off = cookie >> CUSTOS_DB_SQ_CHANGES_SHIFT & CUSTOS_DB_SQ_CHANGES_OFF_MASK;
	__u64 db, v = 0;
	__u32 v32 = 0;

	if (!off)
		return 0;
	db = db__user_u64(stmt);
	if (!db)
		return 0;
	if (cookie & CUSTOS_DB_SQ_CHANGES_64) {
		if (bpf_probe_read_user(&v, sizeof(v), (void *)(db + off - 1)))
			return 0;
	} else {
		if (bpf_probe_read_user(&v32, sizeof(v32), (void *)(db + off - 1)))
			return 0;
		v = (__u64)(__s64)(__s32)v32;
	}
	return v + 1;
}

/* Counts an SQLite row: no record, the execution's total goes out at reset. */
static __always_inline void db__sqlite_step(struct task_struct *task, struct db_inflight *call,
					    long rc, __u64 cookie)
{
	struct db_stmt_key key = {.tgid = KR(task, tgid), .stmt = call->args[0]};
	struct db_stmt_rows *st = bpf_map_lookup_elem(&db_stmts, &key);
	struct db_stmt_rows fresh = {.first_ns = call->start_ns};
	__u64 changes = (int)rc == SQLITE_DONE ? db__sqlite_changes(call->args[0], cookie) : 0;

	if (!st) {
		fresh.rows = rc == SQLITE_ROW;
		fresh.changes = changes;
		bpf_map_update_elem(&db_stmts, &key, &fresh, BPF_ANY);
	} else if (rc == SQLITE_ROW) {
		__sync_fetch_and_add(&st->rows, 1);
	} else if ((int)rc == SQLITE_DONE) {
		st->changes = changes;
	}
	if ((int)rc != SQLITE_ROW && (int)rc != SQLITE_DONE) {
		__s32 err = rc;

		bpf_map_update_elem(&db_stmt_errors, &key, &err, BPF_ANY);
	}
}

/* A probed function returned: pair it with its entry and report it. */
static __always_inline int db__return(struct pt_regs *ctx, __u64 cookie)
{
	struct task_struct *task = current_task();
	/* The return address has been popped: the stack pointer is 8 above the entry's. */
	struct db_call_key key = {.tid = KR(task, pid), .sp = PT_REGS_SP(ctx) - 8};
	struct db_inflight *found, call;
	__u64 ret = PT_REGS_RC(ctx);
	__u32 *depth;

	found = bpf_map_lookup_elem(&db_calls, &key);
	if (!found)
		return 0;
	call = *found;
	bpf_map_delete_elem(&db_calls, &key);
	if (wire__tls_func(call.func)) {
		wire__tls_return(call.func, call.args[0], call.args[1], call.args[3], (long)ret);
		return 0;
	}
	depth = db__depth(task, false);
	if (depth && *depth > 0)
		__sync_fetch_and_add(depth, -1);
	if (call.nested)
		return 0;
	if (call.func == CUSTOS_DB_SQ_LOCK_AND_PREPARE && call.args[4])
		return 0; /* prepared again inside a step: not the program's statement */
	if (call.func == CUSTOS_DB_SQ_STEP)
		db__sqlite_step(task, &call, (long)ret, cookie);
	else
		db__emit(task, &call, cookie, ret);
	return 0;
}

#ifdef CUSTOS_COMPAT
/* The CUSTOS_DB_LAYOUT_* flags of function func's library. */
static __always_inline __u64 db__func_cookie(__u32 func)
{
	__u64 *flags = bpf_map_lookup_elem(&db_func_flags, &func);

	return func | (flags ? *flags : 0);
}

#define DB_ENTRY(func)                                        \
	SEC("uprobe")                                         \
	int uprobe__db_entry_##func(struct pt_regs *ctx)      \
	{                                                     \
		return db__entry(ctx, db__func_cookie(func)); \
	}
#define DB_RETURN(func)                                        \
	SEC("uretprobe")                                       \
	int uretprobe__db_return_##func(struct pt_regs *ctx)   \
	{                                                      \
		return db__return(ctx, db__func_cookie(func)); \
	}
#define DB_PROBES(func) DB_ENTRY(func) DB_RETURN(func)

/* Values of enum custos_db_func (a macro cannot expand the enum's names into program names). */
/* clang-format off */
/* libpq */
DB_PROBES(1) DB_PROBES(2) DB_PROBES(3) DB_PROBES(4) DB_PROBES(5) DB_ENTRY(6) DB_PROBES(7)
DB_PROBES(8) DB_PROBES(9) DB_PROBES(10) DB_PROBES(11) DB_PROBES(12) DB_PROBES(13) DB_PROBES(14)
DB_PROBES(15)
/* libmariadb, libmysqlclient */
DB_PROBES(32) DB_PROBES(33) DB_PROBES(34) DB_PROBES(35) DB_PROBES(36) DB_PROBES(37) DB_PROBES(38)
DB_PROBES(39) DB_PROBES(40) DB_PROBES(41) DB_ENTRY(42)
/* libsqlite3 */
DB_PROBES(64) DB_PROBES(65) DB_PROBES(66) DB_PROBES(67) DB_PROBES(68) DB_ENTRY(69) DB_ENTRY(70)
DB_ENTRY(71) DB_PROBES(72)
/* libssl */
DB_PROBES(80) DB_PROBES(81) DB_PROBES(82) DB_PROBES(83)
/* clang-format on */
#endif

    /*
     * Every probed function: the attach cookie says which (enum custos_db_func
     * and flags). In the compat object too, for kernels that have cookies but
     * lack another helper of the modern one (the loader chooses).
     */
    SEC("uprobe") int uprobe__db_entry(struct pt_regs *ctx)
{
	return db__entry(ctx, bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int uretprobe__db_return(struct pt_regs *ctx)
{
	return db__return(ctx, bpf_get_attach_cookie(ctx));
}
