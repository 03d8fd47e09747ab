// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <custos/abi.h>
#include "kernel/dbprobe.h"
#include "kernel/elfsym.h"
#include "kernel/prologue.h"
#include "lib/hashmap.h"

#define FNS_MAX 16

struct probe_fn {
	const char *name;
	uint32_t func;	 /* enum custos_db_func */
	bool at_return;	 /* its return is probed too */
	uint8_t nargs;	 /* integer arguments: the registers its entry probe reads */
	uint32_t funnel; /* a wrapper of this funnel function (enum custos_db_func), 0: none */
};

struct system_desc {
	const char *name;
	const char *marker; /* an exported function every version has */
	/* A string the library always carries, in two halves: the agent must not carry it. */
	const char *static_marker[2];
	const char *const libs[4]; /* library file name prefixes */
	struct probe_fn fns[FNS_MAX];
	/*
	 * The internal functions the funneled wrappers call (enum
	 * custos_db_func, 0: none): when a funnel's wrappers agree on it, it is
	 * probed in their place, as one breakpoint the kernel emulates instead
	 * of several it single-steps (sqlite3_prepare_v2 and SSL_read begin
	 * with a sub). A funnel that is also a wrapper's own function
	 * (SSL_read_ex's) takes the wrapper's arguments and result.
	 */
	uint32_t funnels[2];
};

static const struct system_desc
    systems[DBPROBE_SYSTEMS] =
	{
	    [DBPROBE_POSTGRESQL] =
		{
		    .name = "postgresql",
		    .marker = "PQexec",
		    .static_marker = {"connection pointer ", "is NULL"},
		    .libs = {"libpq.so"},
		    .fns =
			{
			    {"PQconnectdb", CUSTOS_DB_PQ_CONNECTDB, true, 1},
			    {"PQconnectdbParams", CUSTOS_DB_PQ_CONNECTDB_PARAMS, true, 3},
			    {"PQconnectStart", CUSTOS_DB_PQ_CONNECT_START, true, 1},
			    {"PQconnectStartParams", CUSTOS_DB_PQ_CONNECT_START_PARAMS, true, 3},
			    {"PQsetdbLogin", CUSTOS_DB_PQ_SETDB_LOGIN, true, 7},
			    {"PQfinish", CUSTOS_DB_PQ_FINISH, false, 1},
			    {"PQexec", CUSTOS_DB_PQ_EXEC, true, 2},
			    {"PQexecParams", CUSTOS_DB_PQ_EXEC_PARAMS, true, 8},
			    {"PQprepare", CUSTOS_DB_PQ_PREPARE, true, 5},
			    {"PQexecPrepared", CUSTOS_DB_PQ_EXEC_PREPARED, true, 7},
			    {"PQsendQuery", CUSTOS_DB_PQ_SEND_QUERY, true, 2},
			    {"PQsendQueryParams", CUSTOS_DB_PQ_SEND_QUERY_PARAMS, true, 8},
			    {"PQsendPrepare", CUSTOS_DB_PQ_SEND_PREPARE, true, 5},
			    {"PQsendQueryPrepared", CUSTOS_DB_PQ_SEND_QUERY_PREPARED, true, 7},
			    {"PQgetResult", CUSTOS_DB_PQ_GET_RESULT, true, 1},
			},
		},
	    [DBPROBE_MYSQL] =
		{
		    .name = "mysql",
		    .marker = "mysql_real_query",
		    .static_marker = {"Can't connect to local server ", "through socket"},
		    .libs = {"libmariadb.so", "libmysqlclient.so", "libperconaserverclient.so"},
		    .fns =
			{
			    {"mysql_real_connect", CUSTOS_DB_MY_REAL_CONNECT, true, 8},
			    {"mysql_select_db", CUSTOS_DB_MY_SELECT_DB, true, 2},
			    {"mysql_real_query", CUSTOS_DB_MY_REAL_QUERY, true, 3},
			    {"mysql_send_query", CUSTOS_DB_MY_SEND_QUERY, true, 3},
			    {"mysql_read_query_result", CUSTOS_DB_MY_READ_QUERY_RESULT, true, 1},
			    {"mysql_store_result", CUSTOS_DB_MY_STORE_RESULT, true, 1},
			    {"mysql_use_result", CUSTOS_DB_MY_USE_RESULT, true, 1},
			    {"mysql_affected_rows", CUSTOS_DB_MY_AFFECTED_ROWS, true, 1},
			    {"mysql_stmt_prepare", CUSTOS_DB_MY_STMT_PREPARE, true, 3},
			    {"mysql_stmt_execute", CUSTOS_DB_MY_STMT_EXECUTE, true, 1},
			    {"mysql_close", CUSTOS_DB_MY_CLOSE, false, 1},
			},
		},
	    [DBPROBE_SQLITE] =
		{
		    .name = "sqlite",
		    .marker = "sqlite3_prepare_v2",
		    .static_marker = {"SQLite for", "mat 3"},
		    .libs = {"libsqlite3.so"},
		    .fns =
			{
			    {"sqlite3_open", CUSTOS_DB_SQ_OPEN, true, 2},
			    {"sqlite3_open_v2", CUSTOS_DB_SQ_OPEN_V2, true, 4},
			    {"sqlite3_prepare_v2", CUSTOS_DB_SQ_PREPARE_V2, true, 5,
			     CUSTOS_DB_SQ_LOCK_AND_PREPARE},
			    {"sqlite3_prepare_v3", CUSTOS_DB_SQ_PREPARE_V3, true, 6,
			     CUSTOS_DB_SQ_LOCK_AND_PREPARE},
			    {"sqlite3_step", CUSTOS_DB_SQ_STEP, true, 1},
			    {"sqlite3_reset", CUSTOS_DB_SQ_RESET, false, 1},
			    {"sqlite3_finalize", CUSTOS_DB_SQ_FINALIZE, false, 1},
			    {"sqlite3_close", CUSTOS_DB_SQ_CLOSE, false, 1},
			    {"sqlite3_close_v2", CUSTOS_DB_SQ_CLOSE, false, 1},
			},
		    .funnels = {CUSTOS_DB_SQ_LOCK_AND_PREPARE},
		},
	    [DBPROBE_TLS] =
		{
		    .name = "openssl",
		    .marker = "SSL_read",
		    .libs = {"libssl.so"},
		    .fns =
			{
			    /* Both call OpenSSL's ssl_read_internal(ssl, buf, num, &bytes). */
			    {"SSL_read", CUSTOS_DB_TLS_READ, true, 3, CUSTOS_DB_TLS_READ_EX},
			    {"SSL_read_ex", CUSTOS_DB_TLS_READ_EX, true, 4, CUSTOS_DB_TLS_READ_EX},
			    {"SSL_write", CUSTOS_DB_TLS_WRITE, true, 3, CUSTOS_DB_TLS_WRITE_EX},
			    {"SSL_write_ex", CUSTOS_DB_TLS_WRITE_EX, true, 4,
			     CUSTOS_DB_TLS_WRITE_EX},
			},
		    .funnels = {CUSTOS_DB_TLS_READ_EX, CUSTOS_DB_TLS_WRITE_EX},
		},
};

static const char *const lib_dirs[] = {
    "/usr/lib/x86_64-linux-gnu",
    "/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/lib64",
    "/usr/lib",
    "/usr/local/lib",
};

static const char *const program_dirs[] = {
    "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
};

/* A file looked at, by identity. */
struct seen_file {
	uint64_t ino;
	uint32_t dev;
	bool has_client;	/* exports a client's functions: probed */
	bool static_checked;	/* looked into for a client linked in without symbols */
	struct seen_file *next; /* same hash key */
};

#define PENDING_MAX 256 /* processes whose libraries are looked at on the next tick */

struct dbprobe {
	struct loader *loader;
	struct dbprobe_options opts;
	struct hashmap seen; /* ino -> struct seen_file list */
	json_t *probed;	     /* [{"path", "system", "functions"}] */
	json_t *warnings;    /* [string] */
	size_t warnings_taken;
	uint32_t pending[PENDING_MAX]; /* executed since the last tick: libraries load later */
	size_t n_pending;
};

const char *dbprobe_system_name(enum dbprobe_system system)
{
	return system < DBPROBE_SYSTEMS ? systems[system].name : "unknown";
}

void dbprobe_each_function(void (*fn)(uint32_t func, bool at_return, void *ctx), void *ctx)
{
	int s, i;

	for (s = 0; s < DBPROBE_SYSTEMS; s++) {
		for (i = 0; i < FNS_MAX && systems[s].fns[i].name; i++)
			fn(systems[s].fns[i].func, systems[s].fns[i].at_return, ctx);
		/* A funnel that is no function of the list of its own (SQLite's). */
		if (systems[s].funnels[0] == CUSTOS_DB_SQ_LOCK_AND_PREPARE)
			fn(systems[s].funnels[0], true, ctx);
	}
}

struct dbprobe *dbprobe_new(struct loader *loader, const struct dbprobe_options *opts)
{
	struct dbprobe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->loader = loader;
	p->opts = *opts;
	p->probed = json_array();
	p->warnings = json_array();
	return p;
}

void dbprobe_free(struct dbprobe *p)
{
	struct seen_file *f;
	size_t i = 0;

	if (!p)
		return;
	while (hashmap_next(&p->seen, &i, NULL, (void **)&f)) {
		while (f) {
			struct seen_file *next = f->next;

			free(f);
			f = next;
		}
	}
	hashmap_clear(&p->seen);
	json_decref(p->probed);
	json_decref(p->warnings);
	free(p);
}

/* The file's entry; *first tells whether it is new. NULL when out of memory. */
static struct seen_file *sight(struct dbprobe *p, const struct stat *st, bool *first)
{
	struct seen_file *head = hashmap_get(&p->seen, st->st_ino), *f;

	*first = false;
	for (f = head; f; f = f->next)
		if (f->dev == st->st_dev)
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->ino = st->st_ino;
	f->dev = st->st_dev;
	f->next = head;
	if (hashmap_put(&p->seen, st->st_ino, f, NULL)) {
		free(f);
		return NULL;
	}
	*first = true;
	return f;
}

/* libpq.so.5.N names PostgreSQL N's libpq: from 12 on, PGconn's first fields are known. */
static uint64_t layout_flags(enum dbprobe_system system, const char *path)
{
	char real[PATH_MAX];
	const char *base, *minor;

	if (system != DBPROBE_POSTGRESQL || !realpath(path, real))
		return 0;
	base = strrchr(real, '/');
	base = base ? base + 1 : real;
	if (strncmp(base, "libpq.so.5.", 11))
		return 0;
	minor = base + 11;
	return atoi(minor) >= 12 ? CUSTOS_DB_LAYOUT_PQ12 : 0;
}

/* A little-endian 32-bit displacement. */
static uint64_t disp32(const uint8_t *c)
{
	return (uint64_t)c[0] | (uint64_t)c[1] << 8 | (uint64_t)c[2] << 16 | (uint64_t)c[3] << 24;
}

/*
 * The bits of sqlite3_step's cookie that say where struct sqlite3 keeps
 * what sqlite3_changes() returns (CUSTOS_DB_SQ_CHANGES_*), read from the
 * library's own accessor: sqlite3_changes64 (or, before 3.37,
 * sqlite3_changes) is "mov disp(%rdi),%rax (or %eax); ret", after an
 * endbr64 maybe. Only if sqlite3_db_handle shows that a statement starts
 * with its connection (mov (%rdi),%rax; ret). 0: not known, no affected rows.
 */
static uint64_t sqlite_changes_flags(const char *path, int fd)
{
	static const char *const names[] = {"sqlite3_changes64", "sqlite3_changes",
					    "sqlite3_db_handle"};
	static const uint8_t first_field[] = {0x48, 0x8b, 0x07, 0xc3};
	uint64_t off[3] = {0}, disp;
	uint8_t code[16], *c;
	bool wide;
	ssize_t n;
	int i;

	if (fd < 0 || elfsym_find(path, names, 3, off) <= 0 || !off[2])
		return 0;
	n = pread(fd, code, sizeof(code), off[2]);
	if (n < (ssize_t)sizeof(first_field) || !memmem(code, n, first_field, sizeof(first_field)))
		return 0;
	for (i = 0; i < 2; i++) {
		if (!off[i] || pread(fd, code, sizeof(code), off[i]) != sizeof(code))
			continue;
		c = code;
		if (c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa)
			c += 4; /* endbr64 */
		wide = c[0] == 0x48;
		if (wide)
			c++;
		if (c[0] == 0x8b && c[1] == 0x47 && c[3] == 0xc3)
			disp = c[2];
		else if (c[0] == 0x8b && c[1] == 0x87 && c[6] == 0xc3)
			disp = disp32(c + 2);
		else
			continue;
		if (disp >= CUSTOS_DB_SQ_CHANGES_OFF_MASK)
			return 0;
		return (disp + 1) << CUSTOS_DB_SQ_CHANGES_SHIFT |
		       (wide ? CUSTOS_DB_SQ_CHANGES_64 : 0);
	}
	return 0;
}

static void warn(struct dbprobe *p, const char *fmt, const char *a, const char *b)
{
	char msg[PATH_MAX + 256];

	snprintf(msg, sizeof(msg), fmt, a, b);
	json_array_append_new(p->warnings, json_string(msg));
}

/*
 * Where each function's probes sit: its offset, or past leading
 * instructions the kernel would single-step (kernel/prologue.h). Entry and
 * return probes share the place, so both are one breakpoint.
 */
static void place_probes(const struct system_desc *d, int fd, const uint64_t *offsets,
			 uint64_t *placed)
{
	uint8_t code[16];
	ssize_t n;
	int i;

	for (i = 0; i < FNS_MAX && d->fns[i].name; i++) {
		placed[i] = offsets[i];
		if (!offsets[i] || fd < 0)
			continue;
		n = pread(fd, code, sizeof(code), offsets[i]);
		if (n > 0)
			placed[i] += prologue_probe_offset(code, n, d->fns[i].nargs);
	}
}

/*
 * The offset of funnel, a function the system's wrappers of it call: one
 * wrapper's shape names it (it ends by calling it, or begins with a sub
 * and a call to it), every other wrapper the file has calls it too, and it
 * begins with an instruction the kernel emulates; else 0.
 */
static uint64_t find_funnel(const struct system_desc *d, int fd, const uint64_t *offsets,
			    uint32_t funnel)
{
	uint64_t found = 0, target;
	uint8_t code[64];
	int64_t callee;
	ssize_t n;
	int i;

	if (!funnel || fd < 0)
		return 0;
	for (i = 0; i < FNS_MAX && d->fns[i].name; i++) {
		if (d->fns[i].funnel != funnel || !offsets[i])
			continue;
		n = pread(fd, code, sizeof(code), offsets[i]);
		if (n > 0 && (prologue_final_call(code, n, &callee) ||
			      prologue_first_call(code, n, &callee))) {
			target = offsets[i] + callee;
			if (found && target != found)
				return 0;
			found = target;
		}
	}
	for (i = 0; found && i < FNS_MAX && d->fns[i].name; i++) {
		if (d->fns[i].funnel != funnel || !offsets[i])
			continue;
		n = pread(fd, code, sizeof(code), offsets[i]);
		if (n <= 0 || !prologue_calls(code, n, (int64_t)(found - offsets[i])))
			return 0;
	}
	n = found ? pread(fd, code, 16, found) : -1;
	return n > 0 && prologue_emulated(code, n) ? found : 0;
}

static void probe_system(struct dbprobe *p, enum dbprobe_system system, const char *path,
			 const char *shown, const uint64_t *found)
{
	const struct system_desc *d = &systems[system];
	uint64_t flags = layout_flags(system, path);
	uint64_t entry_off[FNS_MAX + 2], entry_fn[FNS_MAX + 2], ret_off[FNS_MAX + 2],
	    ret_fn[FNS_MAX + 2];
	size_t n_entry = 0, n_ret = 0, f;
	json_t *fns = json_array();
	uint64_t offsets[FNS_MAX], funnel[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC), i;
	uint64_t changes = system == DBPROBE_SQLITE ? sqlite_changes_flags(path, fd) : 0;

	place_probes(d, fd, found, offsets);
	for (f = 0; f < 2; f++) {
		funnel[f] = find_funnel(d, fd, found, d->funnels[f]);
		if (funnel[f]) {
			entry_off[n_entry] = ret_off[n_ret] = funnel[f];
			entry_fn[n_entry++] = ret_fn[n_ret++] = d->funnels[f] | flags;
		}
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < FNS_MAX && d->fns[i].name; i++) {
		const struct probe_fn *fn = &d->fns[i];

		if (!offsets[i] || (fn->func == CUSTOS_DB_SQ_STEP && !p->opts.sqlite_rows))
			continue;
		if (fn->funnel && ((fn->funnel == d->funnels[0] && funnel[0]) ||
				   (fn->funnel == d->funnels[1] && funnel[1]))) {
			json_array_append_new(fns,
					      json_string(fn->name)); /* seen through the funnel */
			continue;
		}
		entry_off[n_entry] = offsets[i];
		entry_fn[n_entry++] =
		    fn->func | flags | (fn->func == CUSTOS_DB_SQ_STEP ? changes : 0);
		if (fn->at_return) {
			ret_off[n_ret] = offsets[i];
			ret_fn[n_ret++] = entry_fn[n_entry - 1];
		}
		json_array_append_new(fns, json_string(fn->name));
	}
	/* Returns first: a call seen entering is then always seen returning. */
	if (loader_attach_db_probes(p->loader, path, ret_off, ret_fn, n_ret, true) ||
	    loader_attach_db_probes(p->loader, path, entry_off, entry_fn, n_entry, false)) {
		warn(p, "%s: the %s client functions could not be probed", shown, d->name);
		json_decref(fns);
		return;
	}
	json_array_append_new(p->probed, json_pack("{s:s, s:s, s:o}", "path", shown, "system",
						   d->name, "functions", fns));
}

/*
 * Which enabled systems' client functions the file exports, and their
 * offsets (offsets[s]), in one look at its symbols. A bit per system found.
 */
static unsigned find_clients(struct dbprobe *p, const char *path,
			     uint64_t offsets[DBPROBE_SYSTEMS][FNS_MAX])
{
	const char *names[DBPROBE_SYSTEMS * FNS_MAX];
	uint64_t all[DBPROBE_SYSTEMS * FNS_MAX];
	unsigned found = 0;
	int s, i;

	for (s = 0; s < DBPROBE_SYSTEMS; s++)
		for (i = 0; i < FNS_MAX; i++)
			names[s * FNS_MAX + i] = p->opts.enabled[s] && systems[s].fns[i].name
						     ? systems[s].fns[i].name
						     : "";
	if (elfsym_find(path, names, DBPROBE_SYSTEMS * FNS_MAX, all) <= 0)
		return 0;
	for (s = 0; s < DBPROBE_SYSTEMS; s++) {
		memcpy(offsets[s], all + s * FNS_MAX, sizeof(offsets[s]));
		for (i = 0; i < FNS_MAX && systems[s].fns[i].name; i++)
			if (!strcmp(systems[s].fns[i].name, systems[s].marker) && offsets[s][i])
				found |= 1U << s;
	}
	return found;
}

/* The servers carry client code of their own (replication): not clients to audit. */
static bool is_server(const char *path)
{
	static const char *const servers[] = {"mariadbd", "mysqld", "postgres", "postmaster"};
	const char *base = strrchr(path, '/');
	size_t i;

	base = base ? base + 1 : path;
	for (i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
		if (!strcmp(base, servers[i]))
			return true;
	return false;
}

static bool needs_client_library(const char *path, const struct system_desc *d)
{
	int i;

	for (i = 0; i < 4 && d->libs[i]; i++)
		if (elfsym_needs(path, d->libs[i]))
			return true;
	return false;
}

/*
 * A program that runs with a client library's strings inside, but neither
 * its symbols nor a link to the shared library: the client is linked in
 * and stripped, its calls cannot be probed.
 */
static void check_static_client(struct dbprobe *p, const char *path, const char *shown)
{
	char marker[64];
	int s;

	if (is_server(shown))
		return;
	for (s = 0; s < DBPROBE_SYSTEMS; s++) {
		if (!p->opts.enabled[s] || !systems[s].static_marker[0])
			continue; /* a TLS library linked in is no client of a database */
		snprintf(marker, sizeof(marker), "%s%s", systems[s].static_marker[0],
			 systems[s].static_marker[1]);
		if (elfsym_contains(path, marker) && !needs_client_library(path, &systems[s]))
			warn(
			    p,
			    "%s: a %s client linked in without symbols: its queries cannot be seen "
			    "(its file and socket accesses still are)",
			    shown, systems[s].name);
	}
}

/*
 * Probes the client libraries in the file at path (shown: its name in its own
 * mount namespace), once per file. A program that runs (running) is also
 * looked into for a client linked in without symbols, once.
 */
static void probe_file(struct dbprobe *p, const char *path, const char *shown, bool running)
{
	uint64_t offsets[DBPROBE_SYSTEMS][FNS_MAX];
	struct seen_file *f;
	unsigned clients;
	struct stat st;
	bool first;
	int s;

	if (stat(path, &st) || !S_ISREG(st.st_mode))
		return;
	f = sight(p, &st, &first);
	if (!f)
		return;
	clients = first ? find_clients(p, path, offsets) : 0;
	for (s = 0; s < DBPROBE_SYSTEMS; s++) {
		if (clients & (1U << s)) {
			probe_system(p, s, path, shown, offsets[s]);
			f->has_client = true;
		}
	}
	if (running && !f->has_client && !f->static_checked) {
		f->static_checked = true;
		check_static_client(p, path, shown);
	}
}

static bool is_client_library(const char *name)
{
	int s, i;

	for (s = 0; s < DBPROBE_SYSTEMS; s++)
		for (i = 0; i < 4 && systems[s].libs[i]; i++)
			if (!strncmp(name, systems[s].libs[i], strlen(systems[s].libs[i])))
				return true;
	return false;
}

static void scan_dir(struct dbprobe *p, const char *dir, bool programs)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (!programs && !is_client_library(de->d_name)))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (programs && access(path, X_OK))
			continue;
		probe_file(p, path, path, false);
	}
	closedir(d);
}

/* What a running process maps: client libraries, and its program. */
static void scan_process(struct dbprobe *p, uint32_t tgid)
{
	char maps[64], exe_link[64], exe[PATH_MAX] = "", full[PATH_MAX + 64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%u/maps", tgid);
	snprintf(exe_link, sizeof(exe_link), "/proc/%u/exe", tgid);
	if (readlink(exe_link, exe, sizeof(exe) - 1) < 0)
		exe[0] = '\0';
	f = fopen(maps, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char perms[8], *path = strchr(line, '/'), *nl, *base;

		if (!path || sscanf(line, "%*s %7s", perms) != 1 || !strchr(perms, 'x'))
			continue;
		nl = strchr(path, '\n');
		if (nl)
			*nl = '\0';
		base = strrchr(path, '/') + 1;
		if (!is_client_library(base) && strcmp(path, exe))
			continue;
		/* Through the process's root: the file it maps, whatever its mount namespace. */
		snprintf(full, sizeof(full), "/proc/%u/root%s", tgid, path);
		probe_file(p, full, path, !strcmp(path, exe));
	}
	free(line);
	fclose(f);
}

void dbprobe_scan(struct dbprobe *p)
{
	struct dirent *de;
	size_t i;
	DIR *proc;

	for (i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++)
		scan_dir(p, lib_dirs[i], false);
	for (i = 0; i < sizeof(program_dirs) / sizeof(program_dirs[0]); i++)
		scan_dir(p, program_dirs[i], true);
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((de = readdir(proc))) {
		char *end;
		unsigned long tgid = strtoul(de->d_name, &end, 10);

		if (!*end && end != de->d_name && tgid != (unsigned long)getpid())
			scan_process(p, tgid);
	}
	closedir(proc);
}

void dbprobe_exec(struct dbprobe *p, uint32_t tgid, const char *exe)
{
	char full[PATH_MAX + 64];

	snprintf(full, sizeof(full), "/proc/%u/root%s", tgid, exe);
	probe_file(p, access(full, F_OK) == 0 ? full : exe, exe, true);
	/* The rest is left to the periodic scan when many programs start at once. */
	if (p->n_pending < PENDING_MAX)
		p->pending[p->n_pending++] = tgid;
}

void dbprobe_tick(struct dbprobe *p)
{
	size_t i;

	for (i = 0; i < p->n_pending; i++)
		scan_process(p, p->pending[i]);
	p->n_pending = 0;
}

json_t *dbprobe_report(const struct dbprobe *p)
{
	return json_pack("{s:O, s:O}", "probed", p->probed, "warnings", p->warnings);
}

char *dbprobe_next_warning(struct dbprobe *p)
{
	json_t *w = json_array_get(p->warnings, p->warnings_taken);

	if (!w)
		return NULL;
	p->warnings_taken++;
	return strdup(json_string_value(w));
}
