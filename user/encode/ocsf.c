// SPDX-License-Identifier: GPL-2.0
/*
 * Events as OCSF class objects (ocsf.h). Every value comes from the typed
 * event by the same code as its ECS line's, so the two lines carry the same
 * data: the same redacted statement text, the same escaped bytes (listed by
 * their ECS names in unmapped.custos.escaped), no more.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "encode/alert.h"
#include "encode/encode_priv.h"
#include "encode/ocsf.h"
#include "lib/proc.h"
#include "lib/users.h"
#include "lib/version.h"

#define NSEC_PER_MSEC 1000000LL

enum ocsf_class {
	OCSF_FILE_ACTIVITY = 1001,
	OCSF_DETECTION_FINDING = 2004,
	OCSF_NETWORK_ACTIVITY = 4001,
	OCSF_APP_LIFECYCLE = 6002,
	OCSF_DATASTORE_ACTIVITY = 6005,
	OCSF_APP_ERROR = 6008,
};

/* activity_id 0 and 99 of every class. */
#define ACTIVITY_UNKNOWN 0
#define ACTIVITY_OTHER	 99

/* An event's activity: its id, the id's caption, and activity_name (the caption but for 99). */
struct activity {
	int id;
	const char *caption, *name;
};

static const char *class_name(int cls)
{
	switch (cls) {
	case OCSF_FILE_ACTIVITY:
		return "File System Activity";
	case OCSF_DETECTION_FINDING:
		return "Detection Finding";
	case OCSF_NETWORK_ACTIVITY:
		return "Network Activity";
	case OCSF_APP_LIFECYCLE:
		return "Application Lifecycle";
	case OCSF_DATASTORE_ACTIVITY:
		return "Datastore Activity";
	case OCSF_APP_ERROR:
		return "Application Error";
	}
	return "Base Event";
}

static const char *category_name(int category)
{
	switch (category) {
	case 1:
		return "System Activity";
	case 2:
		return "Findings";
	case 4:
		return "Network Activity";
	case 6:
		return "Application Activity";
	}
	return "Uncategorized";
}

static const char *const severities[] = {"Unknown", "Informational", "Low",  "Medium",
					 "High",    "Critical",	     "Fatal"};

#define SEVERITY_INFORMATIONAL 1
#define SEVERITY_MEDIUM	       3

int ocsf_class_of(const struct event *ev)
{
	switch (ev->kind) {
	case EVENT_DB_STATEMENT:
		return OCSF_DATASTORE_ACTIVITY;
	case EVENT_ALERT:
		return OCSF_DETECTION_FINDING;
	case EVENT_AGENT:
		return ev->action && !strcmp(ev->action, "gap") ? OCSF_APP_ERROR
								: OCSF_APP_LIFECYCLE;
	case EVENT_NET_CONNECT:
		return OCSF_NETWORK_ACTIVITY;
	case EVENT_FILE_OPEN:
	case EVENT_FILE_SUMMARY:
	case EVENT_FILE_MMAP:
	case EVENT_FILE_CHANGE:
	case EVENT_FILE_DENIED:
		break;
	}
	return ev->net ? OCSF_NETWORK_ACTIVITY : OCSF_FILE_ACTIVITY;
}

static struct activity activity(int id, const char *caption)
{
	return (struct activity){.id = id, .caption = caption, .name = caption};
}

static struct activity other(const char *name)
{
	return (struct activity){.id = ACTIVITY_OTHER, .caption = "Other", .name = name};
}

static struct activity file_activity(const struct event *ev)
{
	switch (ev->kind) {
	case EVENT_FILE_OPEN:
	case EVENT_FILE_DENIED:
		return activity(14, "Open");
	case EVENT_FILE_SUMMARY: /* what was read and written through it: no OCSF activity */
		return other(ev->action && !strcmp(ev->action, "flush") ? "Flush" : "Close");
	case EVENT_FILE_MMAP:
		return other("Mmap");
	case EVENT_FILE_CHANGE:
		switch (ev->change.op) {
		case CUSTOS_CHANGE_TRUNCATE:
			return activity(3, "Update");
		case CUSTOS_CHANGE_CHMOD:
		case CUSTOS_CHANGE_CHOWN:
			return activity(7, "Set Security");
		case CUSTOS_CHANGE_RENAME:
			return activity(5, "Rename");
		case CUSTOS_CHANGE_UNLINK:
			return activity(4, "Delete");
		}
		break;
	default:
		break;
	}
	return activity(ACTIVITY_UNKNOWN, "Unknown");
}

static struct activity net_activity(const struct event *ev)
{
	if (ev->kind == EVENT_FILE_SUMMARY) /* a flush reports the traffic of a socket still open */
		return ev->action && !strcmp(ev->action, "flush") ? activity(6, "Traffic")
								  : activity(2, "Close");
	if (ev->outcome && !strcmp(ev->outcome, "failure"))
		return ev->error_code && !strcmp(ev->error_code, "ECONNREFUSED")
			   ? activity(5, "Refuse")
			   : activity(4, "Fail");
	return activity(1, "Open");
}

/* By the statement's first keyword: reading, writing, changing, removing, creating. */
static struct activity db_activity(const struct event_db *db)
{
	static const struct {
		const char *op;
		int id;
		const char *caption;
	} ops[] = {
	    {"SELECT", 4, "Query"},  {"WITH", 4, "Query"},	{"SHOW", 4, "Query"},
	    {"TABLE", 4, "Query"},   {"VALUES", 4, "Query"},	{"EXPLAIN", 4, "Query"},
	    {"INSERT", 5, "Write"},  {"REPLACE", 5, "Write"},	{"UPSERT", 5, "Write"},
	    {"MERGE", 5, "Write"},   {"COPY", 5, "Write"},	{"UPDATE", 2, "Update"},
	    {"DELETE", 7, "Delete"}, {"TRUNCATE", 7, "Delete"}, {"DROP", 7, "Delete"},
	    {"CREATE", 6, "Create"},
	};
	size_t i;

	if (!db->text || !db->info || !db->info->operation[0])
		return activity(ACTIVITY_UNKNOWN, "Unknown");
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(db->info->operation, ops[i].op))
			return activity(ops[i].id, ops[i].caption);
	return other(db->info->operation);
}

static struct activity agent_activity(const struct event *ev)
{
	if (!strcmp(ev->action, "gap"))
		return activity(1, "General Error");
	if (!strcmp(ev->action, "agent-start"))
		return activity(3, "Start");
	if (!strcmp(ev->action, "agent-stop"))
		return activity(4, "Stop");
	if (!strcmp(ev->action, "agent-heartbeat"))
		return other("Heartbeat");
	if (!strcmp(ev->action, "agent-reload"))
		return other("Reload");
	return other(ev->action);
}

static struct activity activity_of(const struct event *ev, int cls)
{
	switch (cls) {
	case OCSF_FILE_ACTIVITY:
		return file_activity(ev);
	case OCSF_NETWORK_ACTIVITY:
		return net_activity(ev);
	case OCSF_DATASTORE_ACTIVITY:
		return db_activity(&ev->db);
	case OCSF_DETECTION_FINDING:
		return activity(1, "Create");
	}
	return agent_activity(ev);
}

/* class_uid ... type_name: what the line is. */
static void write_classification(struct jsonw *w, int cls, const struct activity *a)
{
	char type_name[96];

	snprintf(type_name, sizeof(type_name), "%s: %s", class_name(cls), a->caption);
	jsonw_int(w, "class_uid", cls);
	jsonw_string(w, "class_name", class_name(cls));
	jsonw_int(w, "category_uid", cls / 1000);
	jsonw_string(w, "category_name", category_name(cls / 1000));
	jsonw_int(w, "activity_id", a->id);
	jsonw_string(w, "activity_name", a->name);
	jsonw_int(w, "type_uid", (int64_t)cls * 100 + a->id);
	jsonw_string(w, "type_name", type_name);
}

/* The rule's words as OCSF severities: low, medium (also none), high, critical. */
static int alert_severity(const char *severity)
{
	switch (encode_alert_severity(severity)) {
	case 21:
		return 2;
	case 73:
		return 4;
	case 99:
		return 5;
	}
	return SEVERITY_MEDIUM;
}

static void write_severity(struct jsonw *w, int id)
{
	jsonw_int(w, "severity_id", id);
	jsonw_string(w, "severity", severities[id]);
}

/* event.outcome and error.* as status_id, status, status_code, status_detail. */
static void write_status(struct jsonw *w, const struct event *ev)
{
	int id = 0;

	if (ev->outcome && !strcmp(ev->outcome, "success"))
		id = 1;
	else if (ev->outcome && !strcmp(ev->outcome, "failure"))
		id = 2;
	jsonw_int(w, "status_id", id);
	jsonw_string(w, "status", id == 1 ? "Success" : id == 2 ? "Failure" : "Unknown");
	if (ev->error_code)
		jsonw_string(w, "status_code", ev->error_code);
	if (ev->error_message)
		jsonw_bytes(w, "status_detail", "error.message", ev->error_message,
			    ev->error_message_len);
}

/* custos as the product; the profiles and the Linux extension the line uses. */
static void write_metadata(struct jsonw *w, const struct event *ev)
{
	jsonw_object(w, "metadata");
	jsonw_string(w, "version", OCSF_VERSION);
	jsonw_object(w, "product");
	jsonw_string(w, "name", "custos");
	jsonw_string(w, "vendor_name", "custos");
	jsonw_string(w, "version", version_string());
	jsonw_end(w);
	jsonw_array(w, "profiles");
	jsonw_string(w, NULL, "host");
	jsonw_string(w, NULL, "datetime");
	if (ev->who && ev->who->container)
		jsonw_string(w, NULL, "container");
	if (ev->who)
		jsonw_string(w, NULL, "linux/linux_users");
	jsonw_end(w);
	if (ev->who) {
		jsonw_array(w, "extensions");
		jsonw_object(w, NULL);
		jsonw_string(w, "name", "linux");
		jsonw_string(w, "uid", "1");
		jsonw_string(w, "version", OCSF_VERSION);
		jsonw_end(w);
		jsonw_end(w);
	}
	jsonw_string(w, "event_code", ev->action);
	jsonw_int(w, "sequence", (int64_t)ev->seq);
	jsonw_end(w);
}

/* A timestamp_t (ms since the epoch) and, by the datetime profile, the same to the ns as _dt. */
static void write_timestamp(struct jsonw *w, const char *key, const char *key_dt, int64_t real_ns)
{
	jsonw_int(w, key, real_ns / NSEC_PER_MSEC);
	encode_write_time(w, key_dt, real_ns);
}

static void write_user(struct jsonw *w, const char *key, uint32_t uid, const char *name)
{
	jsonw_object(w, key);
	jsonw_id(w, "uid", uid);
	if (name)
		jsonw_bytes(w, "name", "user.name", name, strlen(name));
	jsonw_end(w);
}

/* process.args joined by spaces: OCSF has the command line as one string. */
static void write_cmd_line(struct jsonw *w, const struct encode_args *args)
{
	size_t i, start = 0, o = 0;
	char *line = malloc(args->count ? args->ends[args->count - 1] + args->count : 1);

	if (!line) {
		w->err = w->err ?: -ENOMEM;
		return;
	}
	for (i = 0; i < args->count; i++) {
		if (i)
			line[o++] = ' ';
		memcpy(line + o, args->text + start, args->ends[i] - start);
		o += args->ends[i] - start;
		start = args->ends[i];
	}
	jsonw_stringn(w, "cmd_line", line, o);
	if (args->escaped)
		jsonw_mark_escaped(w, "process.args");
	free(line);
}

/* A path's name (required by OCSF, "" when the path is unknown), path and folder. */
static void write_path(struct jsonw *w, const char *path, size_t len, const char *path_field,
		       const char *name_field, const char *dir_field)
{
	const char *slash = len ? memrchr(path, '/', len) : NULL;

	if (slash)
		jsonw_bytes(w, "name", name_field, slash + 1, len - (slash - path) - 1);
	else /* the path is its own name: escaped, it is listed as the path */
		jsonw_bytes(w, "name", path_field, path, len);
	if (len)
		jsonw_bytes(w, "path", path_field, path, len);
	if (slash)
		jsonw_bytes(w, "parent_folder", dir_field, path, slash == path ? 1 : slash - path);
}

static void write_file_type(struct jsonw *w, uint32_t mode)
{
	static const struct {
		uint32_t fmt;
		int id;
		const char *caption;
	} types[] = {
	    {S_IFREG, 1, "Regular File"},     {S_IFDIR, 2, "Folder"},
	    {S_IFCHR, 3, "Character Device"}, {S_IFBLK, 4, "Block Device"},
	    {S_IFSOCK, 5, "Local Socket"},    {S_IFIFO, 6, "Named Pipe"},
	    {S_IFLNK, 7, "Symbolic Link"},
	};
	size_t i;

	for (i = 0; mode && i < sizeof(types) / sizeof(types[0]); i++) {
		if ((mode & S_IFMT) == types[i].fmt) {
			jsonw_int(w, "type_id", types[i].id);
			jsonw_string(w, "type", types[i].caption);
			return;
		}
	}
	jsonw_int(w, "type_id", 0);
	jsonw_string(w, "type", "Unknown");
}

/* A process's file: its program (field: its ECS name, for custos.escaped). */
static void write_program(struct jsonw *w, const struct proc_info *proc, const char *field)
{
	jsonw_object(w, "file");
	write_path(w, proc->exe, proc->exe_len, field, field, field);
	jsonw_int(w, "type_id", 1);
	jsonw_string(w, "type", "Regular File");
	jsonw_end(w);
}

/* parent_process: its pid, and its program when known (name: the program's last component). */
static void write_parent(struct jsonw *w, const struct custos_task *t,
			 const struct proc_info *parent)
{
	jsonw_object(w, "parent_process");
	jsonw_int(w, "pid", t->ppid);
	if (parent && parent->exe) {
		encode_parent_name(w, parent);
		write_program(w, parent, "process.parent.executable");
	}
	jsonw_end(w);
}

int ocsf_who(struct event_who *who, const struct encode_clock *clock, const struct proc_info *proc,
	     const struct proc_info *parent, const struct encode_args *args,
	     const char *container_id, struct users *users)
{
	const struct custos_task *t = &who->task;
	const char *user = users_name(users, t->uid), *group = users_group(users, t->gid);
	const char *euser = users_name(users, t->euid);
	const char *auser = t->auid != USERS_UNSET ? users_name(users, t->auid) : NULL;
	char tty[32], entity_id[33];
	const char *tty_name =
	    t->tty_dev ? encode_tty_name(t->tty_dev >> 20, t->tty_dev & 0xfffff, tty) : NULL;
	struct jsonw w = {0};
	int err;

	jsonw_reset(&w);
	jsonw_object(&w, "process");
	jsonw_int(&w, "pid", t->tgid);
	encode_entity_id(t->tgid, t->start_ns, entity_id);
	jsonw_string(&w, "uid", entity_id);
	jsonw_int(&w, "ptid", t->tid);
	jsonw_bytes(&w, "name", "process.name", t->comm, strnlen(t->comm, sizeof(t->comm)));
	if (args)
		write_cmd_line(&w, args);
	if (proc && proc->exe)
		write_program(&w, proc, "process.executable");
	write_timestamp(&w, "created_time", "created_time_dt",
			(int64_t)t->start_ns + clock->boot_to_real_ns);
	write_parent(&w, t, parent);
	write_user(&w, "user", t->uid, user);
	if (t->sessionid != USERS_UNSET || tty_name) {
		jsonw_object(&w, "session");
		if (t->sessionid != USERS_UNSET)
			jsonw_id(&w, "uid", t->sessionid);
		if (tty_name)
			jsonw_string(&w, "terminal", tty_name);
		jsonw_end(&w);
	}
	/* The linux/linux_users profile: login user, effective ids, group. */
	if (t->auid != USERS_UNSET)
		jsonw_int(&w, "auid", t->auid);
	jsonw_int(&w, "euid", t->euid);
	jsonw_int(&w, "egid", t->egid);
	jsonw_object(&w, "group");
	jsonw_id(&w, "uid", t->gid);
	if (group)
		jsonw_bytes(&w, "name", "group.name", group, strlen(group));
	jsonw_end(&w);
	if (container_id) {
		jsonw_object(&w, "container");
		jsonw_string(&w, "uid", container_id);
		jsonw_end(&w);
	}
	jsonw_end(&w);
	write_user(&w, "user", t->uid, user);
	err = jsonw_take_fragment(&w, &who->ocsf_actor);
	if (err)
		goto out;
	/* What OCSF has no attribute for, by its ECS name. */
	if (euser || auser) {
		jsonw_object(&w, "user");
		if (euser) {
			jsonw_object(&w, "effective");
			jsonw_bytes(&w, "name", "user.effective.name", euser, strlen(euser));
			jsonw_end(&w);
		}
		if (auser) {
			jsonw_object(&w, "audit");
			jsonw_bytes(&w, "name", "user.audit.name", auser, strlen(auser));
			jsonw_end(&w);
		}
		jsonw_end(&w);
	}
	if (t->tty_dev || args) {
		jsonw_object(&w, "process");
		if (args)
			jsonw_int(&w, "args_count", args->count);
		if (t->tty_dev) {
			jsonw_object(&w, "tty");
			jsonw_object(&w, "char_device");
			jsonw_int(&w, "major", t->tty_dev >> 20);
			jsonw_int(&w, "minor", t->tty_dev & 0xfffff);
			jsonw_end(&w);
			jsonw_end(&w);
		}
		jsonw_end(&w);
	}
	err = jsonw_take_fragment(&w, &who->ocsf_unmapped);
out:
	jsonw_free(&w);
	return err;
}

/* An alert over many processes: the actor is what its events had in common (the group). */
static void write_grouped_actor(struct jsonw *w, const struct event_alert *a)
{
	const struct event_alert_field *name = encode_alert_group_field(a, "user.name"),
				       *id = encode_alert_group_field(a, "user.id"),
				       *pid = encode_alert_group_field(a, "process.pid"),
				       *comm = encode_alert_group_field(a, "process.name"),
				       *exe = encode_alert_group_field(a, "process.executable"),
				       *sid = encode_alert_group_field(a, "process.session_id");

	if (!name && !id && !pid && !comm && !exe && !sid)
		return;
	jsonw_object(w, "actor");
	if (pid || comm || exe || sid) {
		jsonw_object(w, "process");
		if (pid)
			jsonw_int(w, "pid", strtoll(pid->value, NULL, 10));
		if (comm)
			jsonw_bytes(w, "name", comm->name, comm->value, strlen(comm->value));
		if (exe) {
			jsonw_object(w, "file");
			write_path(w, exe->value, strlen(exe->value), exe->name, exe->name,
				   exe->name);
			jsonw_int(w, "type_id", 1);
			jsonw_string(w, "type", "Regular File");
			jsonw_end(w);
		}
		if (sid) {
			jsonw_object(w, "session");
			jsonw_bytes(w, "uid", sid->name, sid->value, strlen(sid->value));
			jsonw_end(w);
		}
		jsonw_end(w);
	}
	if (name || id) {
		jsonw_object(w, "user");
		if (id)
			jsonw_bytes(w, "uid", id->name, id->value, strlen(id->value));
		if (name)
			jsonw_bytes(w, "name", name->name, name->value, strlen(name->value));
		jsonw_end(w);
	}
	jsonw_end(w);
}

/* A file event's file: name, path, folder, type, inode as uid, owner, size, deleted. */
static void write_file(struct jsonw *w, const char *key, const struct event_file *f)
{
	const char *slash = f->path_len ? memrchr(f->path, '/', f->path_len) : NULL, *ext;
	size_t ext_len =
	    slash ? encode_file_extension(slash + 1, f->path_len - (slash + 1 - f->path), &ext) : 0;

	jsonw_object(w, key);
	write_path(w, f->path, f->path_len, "file.path", "file.name", "file.directory");
	if (ext_len)
		jsonw_bytes(w, "ext", "file.extension", ext, ext_len);
	write_file_type(w, f->mode);
	if (f->has_identity)
		jsonw_id(w, "uid", f->ino);
	if (f->mode && f->has_owner) {
		jsonw_object(w, "owner");
		jsonw_id(w, "uid", f->owner_uid);
		if (f->owner)
			jsonw_bytes(w, "name", "file.owner", f->owner, strlen(f->owner));
		jsonw_end(w);
	}
	if (f->has_size)
		jsonw_int(w, "size", (int64_t)f->size);
	if (f->deleted)
		jsonw_bool(w, "is_deleted", true);
	jsonw_end(w);
}

/* A rename: file is what was renamed (its old name), file_result the file under its new one. */
static void write_file_activity(struct jsonw *w, const struct event *ev)
{
	const struct event_change *c = &ev->change;

	if (ev->kind == EVENT_FILE_CHANGE && c->rename_from) {
		jsonw_object(w, "file");
		write_path(w, c->rename_from, c->rename_from_len, "custos.rename.from",
			   "custos.rename.from", "custos.rename.from");
		write_file_type(w, ev->file->mode);
		jsonw_end(w);
		write_file(w, "file_result", ev->file);
		return;
	}
	write_file(w, "file", ev->file);
}

/* file.* of ECS that OCSF's file has no attribute for. */
static void write_file_unmapped(struct jsonw *w, const struct event_file *f)
{
	char buf[32];

	if (!f->has_identity && !f->mode)
		return;
	jsonw_object(w, "file");
	if (f->has_identity) {
		snprintf(buf, sizeof(buf), "%u:%u", f->dev >> 20, f->dev & 0xfffff);
		jsonw_string(w, "device", buf);
	}
	if (f->mode) {
		snprintf(buf, sizeof(buf), "%o%o%o%o", f->mode >> 9 & 7, f->mode >> 6 & 7,
			 f->mode >> 3 & 7, f->mode & 7);
		jsonw_string(w, "mode", buf);
	}
	if (f->mode && f->has_owner) {
		jsonw_id(w, "gid", f->owner_gid);
		if (f->group)
			jsonw_bytes(w, "group", "file.group", f->group, strlen(f->group));
	}
	jsonw_end(w);
}

static void write_endpoint(struct jsonw *w, const char *key, uint8_t family, const uint8_t addr[16],
			   uint16_t port)
{
	char ip[48];

	if (!encode_net_end_known(addr, port))
		return;
	jsonw_object(w, key);
	jsonw_string(w, "ip", encode_net_addr(family, addr, ip));
	if (port)
		jsonw_int(w, "port", port);
	jsonw_end(w);
}

static bool net_ip(const struct event_net *n)
{
	return n && (n->family == CUSTOS_NET_IPV4 || n->family == CUSTOS_NET_IPV6);
}

/* src_endpoint opened the connection, dst_endpoint is whom it was opened to (ECS's source,
 * destination). */
static void write_endpoints(struct jsonw *w, const struct event_net *n)
{
	if (!net_ip(n))
		return;
	if (n->accepted) {
		write_endpoint(w, "src_endpoint", n->family, n->remote_addr, n->remote_port);
		write_endpoint(w, "dst_endpoint", n->family, n->local_addr, n->local_port);
	} else {
		write_endpoint(w, "src_endpoint", n->family, n->local_addr, n->local_port);
		write_endpoint(w, "dst_endpoint", n->family, n->remote_addr, n->remote_port);
	}
}

static void write_net_activity(struct jsonw *w, const struct event *ev)
{
	const struct event_net *n = ev->net;
	const struct custos_io *io = &ev->summary.since;

	write_endpoints(w, n);
	if (net_ip(n))
		jsonw_bool(w, "is_src_dst_assignment_known", true);
	jsonw_object(w, "connection_info");
	jsonw_int(w, "direction_id", n->accepted ? 1 : 2);
	jsonw_string(w, "direction", n->accepted ? "Inbound" : "Outbound");
	if (n->transport == IPPROTO_TCP || n->transport == IPPROTO_UDP) {
		jsonw_int(w, "protocol_num", n->transport);
		jsonw_string(w, "protocol_name", n->transport == IPPROTO_TCP ? "tcp" : "udp");
	}
	if (net_ip(n)) {
		jsonw_int(w, "protocol_ver_id", n->family == CUSTOS_NET_IPV4 ? 4 : 6);
		jsonw_string(w, "protocol_ver",
			     n->family == CUSTOS_NET_IPV4 ? "Internet Protocol version 4 (IPv4)"
							  : "Internet Protocol version 6 (IPv6)");
	}
	jsonw_end(w);
	if (n->protocol)
		jsonw_string(w, "app_protocol_name", n->protocol);
	if (ev->kind == EVENT_FILE_SUMMARY) {
		/* Since the previous summary, as custos.io.bytes_received and bytes_sent. */
		jsonw_object(w, "traffic");
		jsonw_int(w, "bytes_in", (int64_t)io->bytes_read);
		jsonw_int(w, "bytes_out", (int64_t)io->bytes_written);
		jsonw_int(w, "bytes", (int64_t)(io->bytes_read + io->bytes_written));
		jsonw_end(w);
	}
}

/* db.server.address as an IP address, if it is one. */
static bool is_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool db_port(const struct event_db *db)
{
	return db->port && atoi(db->port) > 0;
}

static void write_datastore(struct jsonw *w, const struct event *ev, bool tables_escape)
{
	const struct event_db *db = &ev->db;

	jsonw_int(w, "type_id", 1);
	jsonw_string(w, "type", "Database");
	if (net_ip(ev->net)) {
		write_endpoints(w, ev->net);
	} else {
		/* A client library's statement: the client is this host. */
		jsonw_object(w, "src_endpoint");
		jsonw_bytes(w, "hostname", "host.name", ev->host, strlen(ev->host));
		jsonw_end(w);
		if (db->host) {
			jsonw_object(w, "dst_endpoint");
			if (is_ip(db->host))
				jsonw_string(w, "ip", db->host);
			else
				jsonw_bytes(w, "hostname", "server.address", db->host,
					    strlen(db->host));
			if (db_port(db))
				jsonw_int(w, "port", atoi(db->port));
			jsonw_end(w);
		}
	}
	if (db->namespace) {
		jsonw_object(w, "database");
		jsonw_bytes(w, "name", "db.namespace", db->namespace, strlen(db->namespace));
		jsonw_int(w, "type_id", 1);
		jsonw_string(w, "type", "Relational");
		jsonw_end(w);
	}
	if (db->text) {
		jsonw_object(w, "query_info");
		jsonw_bytes(w, "query_string", "db.query.text", db->text, db->text_len);
		/* OCSF needs a name or a uid: the operation, UNKNOWN when the text has none. */
		jsonw_string(w, "name",
			     db->info && db->info->operation[0] ? db->info->operation : "UNKNOWN");
		jsonw_end(w);
	}
	encode_only_table(w, "table", db->info, tables_escape);
	if (db->duration_ns)
		jsonw_int(w, "duration", (int64_t)(db->duration_ns / NSEC_PER_MSEC));
}

/* db.*, server.*, network.* and event.duration that OCSF has no attribute for. */
static void write_datastore_unmapped(struct jsonw *w, const struct event *ev)
{
	const struct event_db *db = &ev->db;
	bool server_mapped = !net_ip(ev->net);

	jsonw_object(w, "db");
	jsonw_object(w, "system");
	jsonw_string(w, "name", db->system);
	jsonw_end(w);
	if (!db->text)
		jsonw_null(w, "operation");
	if (db->rows >= 0) {
		jsonw_object(w, "response");
		jsonw_int(w, "returned_rows", db->rows);
		jsonw_end(w);
	}
	jsonw_end(w);
	if (!server_mapped && (db->host || db_port(db))) {
		jsonw_object(w, "server");
		if (db->host)
			jsonw_bytes(w, "address", "server.address", db->host, strlen(db->host));
		if (db_port(db))
			jsonw_int(w, "port", atoi(db->port));
		jsonw_end(w);
	} else if (server_mapped && !db->host && db_port(db)) {
		jsonw_object(w, "server");
		jsonw_int(w, "port", atoi(db->port));
		jsonw_end(w);
	}
	if (ev->net)
		encode_network(w, ev->net);
	if (db->duration_ns) {
		jsonw_object(w, "event");
		jsonw_int(w, "duration", (int64_t)db->duration_ns);
		jsonw_end(w);
	}
}

static void write_finding(struct jsonw *w, const struct event *ev)
{
	const struct event_alert *a = &ev->alert_info;
	char uid[64];
	size_t i;

	jsonw_bool(w, "is_alert", true);
	if (a->start_ns)
		write_timestamp(w, "start_time", "start_time_dt", a->start_ns);
	if (a->end_ns)
		write_timestamp(w, "end_time", "end_time_dt", a->end_ns);
	jsonw_object(w, "finding_info");
	/* Unique per alert: when it was raised and its seq in that run. */
	snprintf(uid, sizeof(uid), "%lld-%llu", (long long)ev->time_ns,
		 (unsigned long long)ev->seq);
	jsonw_string(w, "uid", uid);
	jsonw_bytes(w, "title", "rule.name", a->rule_name, strlen(a->rule_name));
	if (a->description)
		jsonw_bytes(w, "desc", "rule.description", a->description, strlen(a->description));
	jsonw_object(w, "analytic");
	jsonw_bytes(w, "name", "rule.name", a->rule_name, strlen(a->rule_name));
	jsonw_bytes(w, "uid", "rule.id", a->rule_id, strlen(a->rule_id));
	jsonw_int(w, "type_id", 1);
	jsonw_string(w, "type", "Rule");
	jsonw_end(w);
	if (a->technique_id) {
		jsonw_array(w, "attacks");
		jsonw_object(w, NULL);
		jsonw_object(w, "technique");
		jsonw_string(w, "uid", a->technique_id);
		if (a->technique_name)
			jsonw_string(w, "name", a->technique_name);
		jsonw_end(w);
		if (a->tactic_id) {
			jsonw_object(w, "tactic");
			jsonw_string(w, "uid", a->tactic_id);
			if (a->tactic_name)
				jsonw_string(w, "name", a->tactic_name);
			jsonw_end(w);
		}
		jsonw_end(w);
		jsonw_end(w);
	}
	/* The events behind it, by their metadata.sequence. */
	if (a->n_evidence) {
		jsonw_array(w, "related_events");
		for (i = 0; i < a->n_evidence; i++) {
			jsonw_object(w, NULL);
			jsonw_id(w, "uid", a->evidence[i]);
			jsonw_end(w);
		}
		jsonw_end(w);
	}
	jsonw_int(w, "related_events_count", (int64_t)a->evidence_count);
	jsonw_end(w);
}

/* A gap's count and reason as the error's message. */
static void write_gap_message(struct jsonw *w, const struct event *ev)
{
	json_t *gap = json_object_get(ev->agent, "gap");
	const char *reason = json_string_value(json_object_get(gap, "reason"));
	const char *output = json_string_value(json_object_get(gap, "output"));
	char msg[256];

	snprintf(msg, sizeof(msg), "%lld events lost (%s%s%s)",
		 (long long)json_integer_value(json_object_get(gap, "count")),
		 reason ? reason : "unknown", output ? ", output " : "", output ? output : "");
	jsonw_bytes(w, "message", "custos.gap", msg, strlen(msg));
}

static void write_unmapped(struct jsonw *w, const struct event *ev, bool tables_escape)
{
	const struct event_alert_field *audit;

	jsonw_object(w, "unmapped");
	if (ev->who) {
		jsonw_paste(w, &ev->who->ocsf_unmapped);
	} else if (ev->kind == EVENT_ALERT &&
		   (audit = encode_alert_group_field(&ev->alert_info, "user.audit.name"))) {
		jsonw_object(w, "user");
		jsonw_object(w, "audit");
		jsonw_bytes(w, "name", audit->name, audit->value, strlen(audit->value));
		jsonw_end(w);
		jsonw_end(w);
	}
	encode_agent(w, ev);
	encode_agent_process(w, ev); /* the agent's events have no actor: its process is here */
	if (ev->file)
		write_file_unmapped(w, ev->file);
	if (ev->kind == EVENT_DB_STATEMENT)
		write_datastore_unmapped(w, ev);
	encode_custos(w, ev, tables_escape);
	jsonw_end(w);
}

int encode_ocsf(struct jsonw *w, const struct event *ev)
{
	bool tables_escape = ev->kind == EVENT_DB_STATEMENT && encode_tables_escaped(ev->db.info);
	int cls = ocsf_class_of(ev);
	struct activity a = activity_of(ev, cls);

	jsonw_object(w, NULL);
	write_metadata(w, ev);
	write_timestamp(w, "time", "time_dt", ev->time_ns);
	write_classification(w, cls, &a);
	if (cls == OCSF_DETECTION_FINDING)
		write_severity(w, alert_severity(ev->alert_info.severity));
	else
		write_severity(w, cls == OCSF_APP_ERROR ? SEVERITY_MEDIUM : SEVERITY_INFORMATIONAL);
	if (cls == OCSF_DETECTION_FINDING) {
		jsonw_int(w, "status_id", 1);
		jsonw_string(w, "status", "New");
	} else {
		write_status(w, ev);
	}
	if (cls == OCSF_APP_ERROR)
		write_gap_message(w, ev);
	if (ev->who) {
		jsonw_object(w, "actor");
		jsonw_paste(w, &ev->who->ocsf_actor);
		jsonw_end(w);
	} else if (ev->kind == EVENT_ALERT) {
		write_grouped_actor(w, &ev->alert_info);
	}
	switch (cls) {
	case OCSF_FILE_ACTIVITY:
		write_file_activity(w, ev);
		break;
	case OCSF_NETWORK_ACTIVITY:
		write_net_activity(w, ev);
		break;
	case OCSF_DATASTORE_ACTIVITY:
		write_datastore(w, ev, tables_escape);
		break;
	case OCSF_DETECTION_FINDING:
		write_finding(w, ev);
		break;
	case OCSF_APP_LIFECYCLE:
		jsonw_object(w, "app");
		jsonw_string(w, "name", "custos");
		jsonw_string(w, "vendor_name", "custos");
		jsonw_string(w, "version", version_string());
		jsonw_end(w);
		break;
	}
	jsonw_object(w, "device");
	jsonw_bytes(w, "hostname", "host.name", ev->host, strlen(ev->host));
	jsonw_int(w, "type_id", 0);
	jsonw_string(w, "type", "Unknown");
	jsonw_end(w);
	write_unmapped(w, ev, tables_escape);
	jsonw_end(w);
	return jsonw_error(w);
}
