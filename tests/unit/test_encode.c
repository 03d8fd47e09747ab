// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "encode/encode.h"
#include "lib/users.h"
#include "output/output.h"
#include "lib/proc.h"
#include "lib/uuid.h"

#include "test.h"

TEST(encode_join_path_reverses_components)
{
	char out[64];

	ASSERT_EQ(encode_join_path("a.csv\0crm\0srv\0", 14, false, out, sizeof(out)), 14, "len");
	ASSERT_STREQ(out, "/srv/crm/a.csv", "path");
	ASSERT_EQ(encode_join_path("", 0, false, out, sizeof(out)), 1, "root len");
	ASSERT_STREQ(out, "/", "root");
	encode_join_path("a\0b\0", 4, true, out, sizeof(out));
	ASSERT_STREQ(out, ".../b/a", "truncated");
}

TEST(encode_join_path_bounded)
{
	char out[10];

	/* Components that do not fit are left out; the result stays a C string in bounds. */
	encode_join_path("abcdefgh\0xyz\0", 13, false, out, sizeof(out));
	ASSERT_STREQ(out, "/xyz", "fits");
	/* A name without its NUL at the end of the buffer is still bounded. */
	encode_join_path("abc", 3, false, out, sizeof(out));
	ASSERT_STREQ(out, "/abc", "unterminated");
}

TEST(encode_time_rfc3339_ns)
{
	char buf[40];

	encode_time(1764317359123456789LL, buf);
	ASSERT_STREQ(buf, "2025-11-28T08:09:19.123456789Z", "time");
	encode_time(0, buf);
	ASSERT_STREQ(buf, "1970-01-01T00:00:00.000000000Z", "epoch");
}

/* ev written by encode_event, parsed back by jansson. */
static json_t *encoded(const struct event *ev)
{
	struct jsonw w = {0};
	json_t *v;

	jsonw_reset(&w);
	if (!ASSERT_OK(encode_event(&w, ev), "encode")) {
		jsonw_free(&w);
		return NULL;
	}
	v = json_loadb(w.buf, w.len, 0, NULL);
	ASSERT_TRUE(v != NULL, "jansson reads the line");
	ASSERT_FALSE(memchr(w.buf, '\n', w.len), "one line");
	jsonw_free(&w);
	return v;
}

static const char *str_at(json_t *v, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(v, a), b));
}

TEST(encode_open_flags_names)
{
	struct jsonw w = {0};

	jsonw_reset(&w);
	encode_open_flags(&w, NULL, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
	jsonw_char(&w, '\0');
	ASSERT_STREQ(w.buf, "[\"O_WRONLY\",\"O_CREAT\",\"O_TRUNC\",\"O_CLOEXEC\"]", "flags");
	jsonw_reset(&w);
	encode_open_flags(&w, NULL, O_RDONLY);
	jsonw_char(&w, '\0');
	ASSERT_STREQ(w.buf, "[\"O_RDONLY\"]", "rdonly");
	jsonw_free(&w);
}

TEST(encode_file_fields)
{
	const char path[] = "/srv/crm/bad\xff.csv";
	struct event_file file = {.path = path,
				  .path_len = sizeof(path) - 1,
				  .has_identity = true,
				  .dev = (8 << 20) | 1,
				  .ino = 1234,
				  .mode = 0100640,
				  .has_owner = true};
	struct event ev = {.kind = EVENT_FILE_MMAP,
			   .category = "file",
			   .type = "access",
			   .action = "mmap",
			   .host = "h",
			   .file = &file};
	json_t *v = encoded(&ev);

	if (!v)
		return;
	ASSERT_STREQ(str_at(v, "file", "path"), "/srv/crm/bad\\xff.csv", "path");
	ASSERT_STREQ(str_at(v, "file", "name"), "bad\\xff.csv", "name");
	ASSERT_STREQ(str_at(v, "file", "directory"), "/srv/crm", "dir");
	ASSERT_STREQ(str_at(v, "file", "inode"), "1234", "inode");
	ASSERT_STREQ(str_at(v, "file", "device"), "8:1", "device");
	ASSERT_STREQ(str_at(v, "file", "mode"), "0640", "mode");
	ASSERT_STREQ(str_at(v, "file", "type"), "file", "type");
	ASSERT_STREQ(str_at(v, "file", "uid"), "0", "owner uid");
	ASSERT_FALSE(json_object_get(json_object_get(v, "file"), "owner"), "no owner name unknown");
	ASSERT_EQ(json_array_size(json_object_get(json_object_get(v, "custos"), "escaped")), 2,
		  "escaped fields");
	json_decref(v);
}

/* Egress: no rule (null), no tags, custos.egress, the read it followed; a removable disk. */
TEST(encode_egress_fields)
{
	const char path[] = "/media/usb/x.csv";
	static char *tags[] = {"pii"};
	struct event_rule read = {.name = "crm", .tags = tags, .n_tags = 1},
			  egress = {.egress = true};
	struct event_egress cause = {.read_rule = &read, .read_ns = 1764317359123456789LL};
	struct event_file file = {.path = path,
				  .path_len = sizeof(path) - 1,
				  .has_identity = true,
				  .dev = (8 << 20) | 17,
				  .ino = 12,
				  .mode = 0100644,
				  .removable = true};
	struct event ev = {.kind = EVENT_FILE_OPEN,
			   .category = "file",
			   .type = "access",
			   .action = "open",
			   .host = "h",
			   .rule = &egress,
			   .egress = &cause,
			   .open_id = 7,
			   .file = &file};
	json_t *v = encoded(&ev), *custos, *after;

	if (!v)
		return;
	custos = json_object_get(v, "custos");
	ASSERT_TRUE(json_is_null(json_object_get(custos, "rule")), "custos.rule null");
	ASSERT_EQ(json_array_size(json_object_get(custos, "tags")), 0, "custos.tags []");
	ASSERT_TRUE(json_is_array(json_object_get(custos, "tags")), "custos.tags an array");
	ASSERT_TRUE(json_is_true(json_object_get(custos, "egress")), "custos.egress");
	after = json_object_get(custos, "egress_after");
	ASSERT_STREQ(json_string_value(json_object_get(after, "rule")), "crm", "egress_after.rule");
	ASSERT_STREQ(json_string_value(json_object_get(after, "read_at")),
		     "2025-11-28T08:09:19.123456789Z", "egress_after.read_at");
	ASSERT_TRUE(json_is_true(json_object_get(json_object_get(custos, "file"), "removable")),
		    "custos.file.removable");
	json_decref(v);

	/* A watched file's event has neither; nor does egress whose read is unknown. */
	file.removable = false;
	ev.rule = &read;
	ev.egress = NULL;
	v = encoded(&ev);
	if (!v)
		return;
	custos = json_object_get(v, "custos");
	ASSERT_STREQ(json_string_value(json_object_get(custos, "rule")), "crm", "rule");
	ASSERT_FALSE(json_object_get(custos, "egress"), "no custos.egress");
	ASSERT_FALSE(json_object_get(custos, "egress_after"), "no custos.egress_after");
	ASSERT_FALSE(json_object_get(custos, "file"), "no custos.file");
	json_decref(v);
	ev.rule = &egress;
	v = encoded(&ev);
	if (!v)
		return;
	custos = json_object_get(v, "custos");
	ASSERT_TRUE(json_is_true(json_object_get(custos, "egress")),
		    "custos.egress, cause unknown");
	ASSERT_FALSE(json_object_get(custos, "egress_after"), "no egress_after when unknown");
	json_decref(v);
}

TEST(encode_task_hostile_comm_and_args)
{
	struct custos_task task = {.tgid = 10,
				   .tid = 11,
				   .ppid = 1,
				   .auid = (uint32_t)-1,
				   .sessionid = (uint32_t)-1,
				   .uid = 0};
	struct proc_info proc = {.tgid = 10};
	char args[] = "cat\0a\nb\0\xff\xfe";
	struct encode_clock clock = {0};
	struct users users = {0};
	struct event_who who;
	struct event ev = {.kind = EVENT_FILE_MMAP,
			   .category = "file",
			   .type = "access",
			   .action = "mmap",
			   .host = "h",
			   .who = &who};
	json_t *v, *process;

	memcpy(task.comm, "x\ny\xff", 4);
	proc.args = args;
	proc.args_len = sizeof(args) - 1;
	if (!ASSERT_OK(encode_who(&who, &clock, &task, &proc, NULL, NULL, &users), "who"))
		return;
	v = encoded(&ev);
	process = json_object_get(v, "process");
	ASSERT_STREQ(json_string_value(json_object_get(process, "name")), "x\ny\\xff", "comm");
	ASSERT_EQ(json_integer_value(json_object_get(process, "args_count")), 3, "argc");
	ASSERT_STREQ(json_string_value(json_array_get(json_object_get(process, "args"), 2)),
		     "\\xff\\xfe", "argv[2]");
	ASSERT_FALSE(json_object_get(json_object_get(v, "user"), "audit"), "no audit user");
	ASSERT_EQ(json_array_size(json_object_get(json_object_get(v, "custos"), "escaped")), 2,
		  "escaped list");
	ASSERT_EQ(json_integer_value(json_object_get(
		      json_object_get(json_object_get(v, "custos"), "process"), "cgroup_id")),
		  0, "custos.process pasted");
	json_decref(v);
	encode_who_free(&who);
	users_clear(&users);
}

TEST(output_human_line_escapes_terminal_controls)
{
	const char path[] = "/srv/a\xe2\x80\xae.csv";
	struct event_file file = {.path = path, .path_len = sizeof(path) - 1};
	struct event_who who = {.task = {.tgid = 42, .uid = 0, .auid = 1000},
				.user_name = "root",
				.audit_name = "alice"};
	struct event ev = {.kind = EVENT_FILE_SUMMARY,
			   .time_ns = 1764317359123456789LL,
			   .category = "file",
			   .action = "close",
			   .outcome = "success",
			   .who = &who,
			   .file = &file,
			   .summary = {.since = {.bytes_read = 4096}}};
	char line[512];

	memcpy(who.task.comm, "c\x1b[2Jat", 7);
	output_human_line(&ev, false, line, sizeof(line));
	ASSERT_STREQ(line, "08:09:19.123 alice->root 42 c\\x1b[2Jat close 4096 /srv/a\\u202e.csv",
		     "line");
}

TEST(output_human_line_egress)
{
	const char path[] = "/media/usb/x.csv";
	struct event_rule egress = {.egress = true};
	struct event_file file = {.path = path, .path_len = sizeof(path) - 1};
	struct event_who who = {.task = {.tgid = 42, .uid = 0, .auid = 1000},
				.user_name = "root",
				.audit_name = "alice"};
	struct event ev = {.kind = EVENT_FILE_SUMMARY,
			   .time_ns = 1764317359123456789LL,
			   .category = "file",
			   .action = "close",
			   .outcome = "success",
			   .who = &who,
			   .rule = &egress,
			   .file = &file,
			   .summary = {.since = {.bytes_read = 3, .bytes_written = 4096}}};
	char line[512];

	memcpy(who.task.comm, "cp", 3);
	output_human_line(&ev, false, line, sizeof(line));
	ASSERT_STREQ(line, "08:09:19.123 alice->root 42 cp close 4096 /media/usb/x.csv (egress)",
		     "an egress file's summary: bytes written");
}

static json_t *at(json_t *v, const char *a, const char *b)
{
	return json_object_get(json_object_get(v, a), b);
}

TEST(encode_net_connect_and_summary)
{
	struct event_net net = {.family = CUSTOS_NET_IPV6,
				.transport = IPPROTO_TCP,
				.accepted = true,
				.local_port = 5432,
				.remote_port = 40000,
				.local_addr = {[15] = 1},
				.remote_addr = {0xfe, 0x80, [15] = 2}};
	struct event ev = {.kind = EVENT_NET_CONNECT,
			   .category = "network",
			   .type = "connection,start",
			   .action = "accept",
			   .outcome = "success",
			   .host = "h",
			   .net = &net};
	char line[512];
	json_t *v = encoded(&ev);

	if (!v)
		return;
	ASSERT_STREQ(str_at(v, "source", "ip"), "fe80::2", "accepted: the peer is the source");
	ASSERT_EQ(json_integer_value(at(v, "source", "port")), 40000, "source port");
	ASSERT_STREQ(str_at(v, "destination", "ip"), "::1", "the endpoint is the destination");
	ASSERT_STREQ(str_at(v, "network", "type"), "ipv6", "type");
	ASSERT_STREQ(str_at(v, "network", "direction"), "ingress", "direction");
	ASSERT_FALSE(json_object_get(v, "file"), "no file.*");
	ASSERT_FALSE(at(v, "custos", "net"), "no custos.net when complete");
	json_decref(v);

	net = (struct event_net){.family = CUSTOS_NET_IPV4,
				 .transport = IPPROTO_UDP,
				 .in_progress = true,
				 .remote_port = 53,
				 .remote_addr = {10, 1, 2, 3}};
	ev.action = "connect";
	v = encoded(&ev);
	if (!v)
		return;
	ASSERT_FALSE(json_object_get(v, "source"), "no local end yet: no source.*");
	ASSERT_STREQ(str_at(v, "destination", "ip"), "10.1.2.3", "destination");
	ASSERT_STREQ(str_at(v, "network", "transport"), "udp", "transport");
	ASSERT_STREQ(str_at(v, "network", "direction"), "egress", "direction");
	ASSERT_TRUE(json_is_true(json_object_get(at(v, "custos", "net"), "in_progress")),
		    "custos.net.in_progress");
	json_decref(v);

	ev.kind = EVENT_FILE_SUMMARY;
	ev.action = "close";
	ev.summary = (struct event_summary){
	    .since = {.bytes_read = 7, .bytes_written = 9}, .reason = "close", .final = true};
	v = encoded(&ev);
	if (!v)
		return;
	ASSERT_EQ(json_integer_value(json_object_get(at(v, "custos", "io"), "bytes_sent")), 9,
		  "sent: what was written");
	ASSERT_EQ(json_integer_value(json_object_get(at(v, "custos", "io"), "bytes_received")), 7,
		  "received: what was read");
	ASSERT_FALSE(json_object_get(at(v, "custos", "io"), "bytes_read"), "no file counters");
	json_decref(v);
	output_human_line(&ev, false, line, sizeof(line));
	ASSERT_TRUE(strstr(line, " close 7/9 10.1.2.3:53") != NULL, line);
}

TEST(proc_container_id_patterns)
{
	char id[65];
	const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char path[256];

	snprintf(path, sizeof(path), "/system.slice/docker-%s.scope", hex);
	ASSERT_TRUE(proc_container_id(path, id), "docker scope");
	ASSERT_STREQ(id, hex, "id");
	snprintf(path, sizeof(path), "/kubepods/besteffort/pod1/cri-containerd-%s.scope", hex);
	ASSERT_TRUE(proc_container_id(path, id), "containerd");
	ASSERT_FALSE(proc_container_id("/user.slice/user-1000.slice/session-2.scope", id), "host");
	/* 65 hex digits is not an id. */
	snprintf(path, sizeof(path), "/docker/%sa", hex);
	ASSERT_FALSE(proc_container_id(path, id), "too long");
}

/* The member at a dotted path ("db.system.name"), or NULL. */
static json_t *dotted(json_t *v, const char *path)
{
	char buf[128], *save = NULL, *part;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); v && part; part = strtok_r(NULL, ".", &save))
		v = json_object_get(v, part);
	return v;
}

static const char *dotted_str(json_t *v, const char *path)
{
	return json_string_value(dotted(v, path));
}

TEST(uuid_random_version_4)
{
	char a[UUID_STR_LEN], b[UUID_STR_LEN];

	if (!ASSERT_OK(uuid_random(a), "uuid") || !ASSERT_OK(uuid_random(b), "uuid"))
		return;
	ASSERT_TRUE(uuid_valid(a, strlen(a)), a);
	ASSERT_TRUE(a[14] == '4' && strchr("89ab", a[19]), "version 4, RFC 9562 variant");
	ASSERT_TRUE(strcmp(a, b), "two UUIDs differ");
	ASSERT_FALSE(uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950", 35), "short");
	ASSERT_FALSE(uuid_valid("0F8FAD5B-D9CB-469F-A165-70867728950E", 36), "upper case");
	ASSERT_FALSE(uuid_valid("0f8fad5b-d9cb-469f-a165+70867728950e", 36), "no dash");
}

TEST(encode_every_line_ecs_and_agent)
{
	static const struct event_agent_id id = {.id = "0f8fad5b-d9cb-469f-a165-70867728950e",
						 .ephemeral_id =
						     "7c9e6679-7425-40de-944b-e07fc1f90ae7",
						 .version = "9.9.9",
						 .pid = 42,
						 .exe = "/usr/sbin/custos"};
	struct event ev = {.kind = EVENT_AGENT,
			   .seq = 7,
			   .category = "process",
			   .type = "info",
			   .action = "agent-heartbeat",
			   .ecs_kind = "metric",
			   .dataset = "custos.agent",
			   .host = "h",
			   .agent_id = &id};
	json_t *v = encoded(&ev);

	if (!v)
		return;
	ASSERT_STREQ(dotted_str(v, "ecs.version"), ECS_VERSION, "ecs.version");
	ASSERT_STREQ(dotted_str(v, "event.kind"), "metric", "event.kind");
	ASSERT_STREQ(dotted_str(v, "event.module"), "custos", "event.module");
	ASSERT_STREQ(dotted_str(v, "event.dataset"), "custos.agent", "event.dataset");
	ASSERT_EQ(json_integer_value(dotted(v, "event.sequence")), 7, "event.sequence");
	ASSERT_EQ(json_integer_value(dotted(v, "custos.seq")), 7, "custos.seq");
	ASSERT_STREQ(dotted_str(v, "agent.id"), id.id, "agent.id");
	ASSERT_STREQ(dotted_str(v, "agent.ephemeral_id"), id.ephemeral_id, "agent.ephemeral_id");
	ASSERT_STREQ(dotted_str(v, "agent.type"), "custos", "agent.type");
	ASSERT_STREQ(dotted_str(v, "agent.version"), "9.9.9", "agent.version");
	ASSERT_EQ(json_integer_value(dotted(v, "process.pid")), 42, "the agent is the process");
	ASSERT_STREQ(dotted_str(v, "process.executable"), "/usr/sbin/custos", "its program");
	json_decref(v);

	/* Others: the dataset of their category, and no agent process. */
	ev = (struct event){.kind = EVENT_DB_STATEMENT,
			    .seq = 8,
			    .category = "database",
			    .type = "access",
			    .action = "query",
			    .host = "h",
			    .agent_id = &id,
			    .db = {.system = "sqlite", .rows = -1, .affected = -1}};
	v = encoded(&ev);
	if (!v)
		return;
	ASSERT_STREQ(dotted_str(v, "event.dataset"), "custos.database",
		     "event.dataset of a statement");
	ASSERT_STREQ(dotted_str(v, "event.kind"), "event", "event.kind");
	ASSERT_FALSE(dotted(v, "process"), "no process.* without a who");
	json_decref(v);
}

/* file.extension: after the last dot of file.name, none for a leading or trailing dot. */
TEST(encode_file_extension)
{
	static const struct {
		const char *path, *extension;
	} cases[] = {
	    {"/srv/a.csv", "csv"}, {"/srv/a.tar.gz", "gz"}, {"/srv/.bashrc", NULL},
	    {"/srv/noext", NULL},  {"/srv/trail.", NULL},   {"/srv/.x.sql", "sql"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct event_file file = {.path = cases[i].path, .path_len = strlen(cases[i].path)};
		struct event ev = {.kind = EVENT_FILE_CHANGE,
				   .category = "file",
				   .type = "change",
				   .action = "chmod",
				   .host = "h",
				   .file = &file};
		json_t *v = encoded(&ev);

		if (!v)
			return;
		if (cases[i].extension)
			ASSERT_STREQ(dotted_str(v, "file.extension"), cases[i].extension,
				     cases[i].path);
		else
			ASSERT_FALSE(dotted(v, "file.extension"), cases[i].path);
		json_decref(v);
	}
}

/* OpenTelemetry's names: db.system.name; db.collection.name only for one table; the user. */
TEST(encode_db_otel_names)
{
	struct sql_info one = {.operation = "SELECT", .tables = {"customers"}, .n_tables = 1};
	struct sql_info two = {
	    .operation = "SELECT", .tables = {"products", "customers"}, .n_tables = 2};
	struct event ev = {.kind = EVENT_DB_STATEMENT,
			   .category = "database",
			   .type = "access",
			   .action = "query",
			   .host = "h",
			   .db = {.system = "postgresql",
				  .text = "select 1",
				  .text_len = 8,
				  .info = &one,
				  .user = "app",
				  .rows = 1,
				  .affected = -1}};
	json_t *v = encoded(&ev);

	if (!v)
		return;
	ASSERT_STREQ(dotted_str(v, "db.system.name"), "postgresql", "db.system.name");
	ASSERT_STREQ(dotted_str(v, "db.collection.name"), "customers", "one table");
	ASSERT_STREQ(dotted_str(v, "custos.db.user"), "app", "custos.db.user");
	ASSERT_FALSE(dotted(v, "db.user"), "no deprecated db.user");
	json_decref(v);
	ev.db.info = &two;
	v = encoded(&ev);
	if (!v)
		return;
	ASSERT_FALSE(dotted(v, "db.collection"), "no db.collection for two tables");
	ASSERT_EQ(json_array_size(dotted(v, "custos.db.tables")), 2,
		  "every table in custos.db.tables");
	ASSERT_STREQ(json_string_value(json_array_get(dotted(v, "custos.db.tables"), 1)),
		     "customers", "the JOIN's customers");
	json_decref(v);
	ev.db.text = NULL;
	ev.db.info = NULL;
	v = encoded(&ev);
	if (!v)
		return;
	ASSERT_FALSE(dotted(v, "db.operation"), "no db.operation (not null) without text");
	json_decref(v);
}
