// SPDX-License-Identifier: GPL-2.0
/*
 * The OCSF encoder, class by class: each line is checked against the
 * schema digest of tests/integration/ocsf_required.json (every attribute an
 * OCSF one of the right JSON type, the required ones there, ids and their
 * captions consistent), and against its ECS twin: the same values, and
 * unmapped.custos the ECS line's custos object, equal as JSON.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "encode/encode.h"
#include "encode/ocsf.h"
#include "lib/proc.h"
#include "lib/users.h"
#include "output/chain.h"

#include "test.h"

#define DIGEST "tests/integration/ocsf_required.json"

static json_t *digest(void)
{
	static json_t *d;
	json_error_t err;

	if (!d) {
		d = json_load_file(DIGEST, 0, &err);
		test__check(d != NULL, __FILE__, __LINE__, "%s: %s", DIGEST, err.text);
	}
	return d;
}

static json_t *get(json_t *v, const char *path)
{
	char key[64];
	const char *dot;

	while (v && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		v = json_object_get(v, key);
		path = dot + 1;
	}
	return v ? json_object_get(v, path) : NULL;
}

static const char *str(json_t *v, const char *path)
{
	return json_string_value(get(v, path));
}

static long long num(json_t *v, const char *path)
{
	return json_integer_value(get(v, path));
}

static bool has_profile(json_t *line, const char *profile)
{
	json_t *p;
	size_t i;

	json_array_foreach(get(line, "metadata.profiles"), i,
			   p) if (!strcmp(json_string_value(p), profile)) return true;
	return false;
}

static bool check_value(json_t *line, const char *where, const char *type, json_t *v);

/* obj against the digest's entry spec (a class or an object): names, types, requirements. */
static bool check_object(json_t *line, const char *where, json_t *spec, json_t *obj)
{
	json_t *attrs = json_object_get(spec, "attributes"), *v, *name, *enums, *siblings;
	char at[256];
	const char *key;
	bool ok = true;
	size_t i;

	if (!test__check(json_is_object(obj), __FILE__, __LINE__, "%s: not an object", where))
		return false;
	json_array_foreach(json_object_get(spec, "required"), i, name)
	{
		ok &= test__check(json_object_get(obj, json_string_value(name)) != NULL, __FILE__,
				  __LINE__, "%s: required %s missing", where,
				  json_string_value(name));
	}
	json_array_foreach(json_object_get(spec, "at_least_one"), i,
			   name) if (json_object_get(obj, json_string_value(name))) goto one;
	ok &= test__check(!json_object_get(spec, "at_least_one"), __FILE__, __LINE__,
			  "%s: none of its at_least_one", where);
one:
	enums = json_object_get(spec, "enums");
	siblings = json_object_get(spec, "siblings");
	json_object_foreach(obj, key, v)
	{
		const char *type = json_string_value(json_object_get(attrs, key));
		const char *profile = json_string_value(
		    get(spec, "profiles") ? json_object_get(json_object_get(spec, "profiles"), key)
					  : NULL);
		size_t n = strlen(key);

		snprintf(at, sizeof(at), "%s.%s", where, key);
		if (!type && n > 3 && !strcmp(key + n - 3, "_dt")) {
			char base[64];

			snprintf(base, sizeof(base), "%.*s", (int)(n - 3), key);
			ok &= test__check(
			    has_profile(line, "datetime") &&
				!strcmp(json_string_value(json_object_get(attrs, base)) ?: "",
					"timestamp") &&
				json_is_string(v),
			    __FILE__, __LINE__, "%s: not a datetime of a timestamp", at);
			continue;
		}
		if (!test__check(type != NULL, __FILE__, __LINE__, "%s: not an OCSF attribute",
				 at)) {
			ok = false;
			continue;
		}
		if (profile)
			ok &=
			    test__check(has_profile(line, profile), __FILE__, __LINE__,
					"%s: of profile %s, not in metadata.profiles", at, profile);
		if (!strcmp(key, "unmapped"))
			continue;
		ok &= check_value(line, at, type, v);
		if (json_object_get(enums, key) && json_is_integer(v)) {
			char id[24];
			json_t *caption, *sib;

			snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(v));
			caption = json_object_get(json_object_get(enums, key), id);
			ok &= test__check(caption != NULL, __FILE__, __LINE__,
					  "%s: %s not an enumerated id", at, id);
			sib =
			    json_object_get(obj, json_string_value(json_object_get(siblings, key)));
			/* 99 (Other) takes the source's own name; any other id its caption. */
			if (caption && sib && strcmp(id, "99"))
				ok &=
				    test__check(json_equal(caption, sib), __FILE__, __LINE__,
						"%s: caption %s, not %s", at,
						json_string_value(caption), json_string_value(sib));
		}
	}
	return ok;
}

static bool check_value(json_t *line, const char *where, const char *type, json_t *v)
{
	size_t n = strlen(type), i;
	json_t *e;

	if (n > 2 && !strcmp(type + n - 2, "[]")) {
		char elem[64];
		bool ok = true;

		snprintf(elem, sizeof(elem), "%.*s", (int)(n - 2), type);
		if (!test__check(json_is_array(v), __FILE__, __LINE__, "%s: not an array", where))
			return false;
		json_array_foreach(v, i, e) ok &= check_value(line, where, elem, e);
		return ok;
	}
	if (!strcmp(type, "integer") || !strcmp(type, "timestamp"))
		return test__check(json_is_integer(v), __FILE__, __LINE__, "%s: not an integer",
				   where);
	if (!strcmp(type, "string"))
		return test__check(json_is_string(v), __FILE__, __LINE__, "%s: not a string",
				   where);
	if (!strcmp(type, "boolean"))
		return test__check(json_is_boolean(v), __FILE__, __LINE__, "%s: not a boolean",
				   where);
	if (!strcmp(type, "number"))
		return test__check(json_is_number(v), __FILE__, __LINE__, "%s: not a number",
				   where);
	if (!strcmp(type, "object") || !strcmp(type, "any"))
		return true;
	return test__check(get(digest(), "objects") &&
			       json_object_get(json_object_get(digest(), "objects"), type),
			   __FILE__, __LINE__, "%s: object %s not in the digest", where, type) &&
	       check_object(line, where,
			    json_object_get(json_object_get(digest(), "objects"), type), v);
}

/* A line against its class: attributes, and class, category and type ids agreeing. */
static bool check_line(json_t *line)
{
	char cls[16];
	json_t *spec;
	long long uid = num(line, "class_uid");

	snprintf(cls, sizeof(cls), "%lld", uid);
	spec = json_object_get(json_object_get(digest(), "classes"), cls);
	if (!test__check(spec != NULL, __FILE__, __LINE__, "class_uid %s not in the digest", cls))
		return false;
	return check_object(line, cls, spec, line) &
	       ASSERT_EQ(num(line, "type_uid"), uid * 100 + num(line, "activity_id"), "type_uid") &
	       ASSERT_EQ(num(line, "category_uid"), num(spec, "category_uid"), "category") &
	       ASSERT_TRUE(json_equal(json_object_get(line, "category_name"),
				      json_object_get(json_object_get(digest(), "categories"),
						      cls[0] == '0' ? "0" : (char[]){cls[0], 0})),
			   "category_name") &
	       ASSERT_STREQ(str(line, "metadata.version"), OCSF_VERSION, "metadata.version") &
	       ASSERT_STREQ(str(line, "metadata.product.name"), "custos", "product");
}

/* The event's ECS and OCSF lines, each parsed back; the OCSF one checked against the schema. */
static bool encode_both(const struct event *ev, json_t **ecs, json_t **ocsf)
{
	struct jsonw w = {0};
	json_error_t err;

	*ecs = *ocsf = NULL;
	jsonw_reset(&w);
	if (ASSERT_OK(encode_event(&w, ev), "ecs"))
		*ecs = json_loadb(w.buf, w.len, 0, &err);
	jsonw_reset(&w);
	if (ASSERT_OK(encode_ocsf(&w, ev), "ocsf")) {
		*ocsf = json_loadb(w.buf, w.len, 0, &err);
		test__check(*ocsf != NULL, __FILE__, __LINE__, "ocsf line: %s: %.*s", err.text,
			    (int)w.len, w.buf);
		ASSERT_FALSE(memchr(w.buf, '\n', w.len), "one line");
	}
	jsonw_free(&w);
	if (!*ecs || !*ocsf) {
		json_decref(*ecs);
		json_decref(*ocsf);
		return false;
	}
	check_line(*ocsf);
	/* The custos object whole: seq, chain, rule, tags, io... and escaped, in any order. */
	{
		json_t *a = json_deep_copy(get(*ocsf, "unmapped.custos")),
		       *b = json_deep_copy(json_object_get(*ecs, "custos"));
		json_t *ea = json_object_get(a, "escaped"), *eb = json_object_get(b, "escaped"), *e;
		size_t i, found = 0, j;

		json_array_foreach(ea, i, e) for (j = 0; j < json_array_size(eb); j++) found +=
		    json_equal(e, json_array_get(eb, j));
		ASSERT_EQ(json_array_size(ea), json_array_size(eb), "as many fields escaped");
		ASSERT_EQ(found, json_array_size(eb), "the same fields escaped");
		json_object_del(a, "escaped");
		json_object_del(b, "escaped");
		if (!ASSERT_TRUE(json_equal(a, b), "unmapped.custos is the ECS line's custos")) {
			char *x = json_dumps(a, JSON_SORT_KEYS), *y = json_dumps(b, JSON_SORT_KEYS);

			printf("    ocsf %s\n    ecs  %s\n", x, y);
			free(x);
			free(y);
		}
		json_decref(a);
		json_decref(b);
	}
	ASSERT_EQ(num(*ocsf, "metadata.sequence"), num(*ecs, "custos.seq"), "sequence");
	ASSERT_STREQ(str(*ocsf, "metadata.event_code"), str(*ecs, "event.action"), "event_code");
	ASSERT_STREQ(str(*ocsf, "time_dt"), str(*ecs, "@timestamp"), "time_dt");
	ASSERT_EQ(num(*ocsf, "time"), ev->time_ns / 1000000, "time in ms");
	ASSERT_STREQ(str(*ocsf, "device.hostname"), str(*ecs, "host.name"), "host");
	return true;
}

static void done(json_t *a, json_t *b)
{
	json_decref(a);
	json_decref(b);
}

struct who_fixture {
	struct users users;
	struct event_who who;
};

/* A process with a login user, a tty, a container and argv holding SQL and a non-UTF-8 byte. */
static bool who_setup(struct who_fixture *f)
{
	static char args[] = "psql\0-c\0select * from t where ssn = '123'\0\xff";
	static char exe[] = "/usr/bin/psql";
	struct custos_task task = {.tgid = 10,
				   .tid = 11,
				   .ppid = 1,
				   .uid = 0,
				   .euid = 0,
				   .gid = 0,
				   .egid = 0,
				   .auid = 0,
				   .sessionid = 7,
				   .tty_dev = (136 << 20) | 3,
				   .start_ns = 5000000000ULL};
	struct proc_info proc = {.tgid = 10,
				 .exe = exe,
				 .exe_len = sizeof(exe) - 1,
				 .args = args,
				 .args_len = sizeof(args) - 1};
	struct encode_clock clock = {.boot_to_real_ns = 1764317359000000000LL};

	memset(f, 0, sizeof(*f));
	memcpy(task.comm, "psql", 5);
	return ASSERT_OK(
	    encode_who(&f->who, &clock, &task, &proc, NULL,
		       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		       &f->users),
	    "who");
}

static void who_teardown(struct who_fixture *f)
{
	encode_who_free(&f->who);
	users_clear(&f->users);
}

static const char path[] = "/srv/crm/cust\xff.csv";

static struct event file_event(struct who_fixture *f, struct event_file *file,
			       struct event_rule *rule)
{
	*file = (struct event_file){.path = path,
				    .path_len = sizeof(path) - 1,
				    .has_identity = true,
				    .ino = 1234,
				    .dev = (8 << 20) | 1,
				    .mode = 0100640,
				    .has_owner = true,
				    .owner_uid = 0,
				    .owner_gid = 0,
				    .owner = "root",
				    .group = "root",
				    .has_size = true,
				    .size = 99};
	return (struct event){
	    .kind = EVENT_FILE_OPEN,
	    .seq = 42,
	    .time_ns = 1764317359123456789LL,
	    .category = "file",
	    .type = "access",
	    .action = "open",
	    .outcome = "success",
	    .host = "h\xfe",
	    .chain = CHAIN_PLACEHOLDER,
	    .who = &f->who,
	    .rule = rule,
	    .file = file,
	    .open_id = 3,
	    .open = {.has_flags = true, .flags = O_RDONLY, .has_fd = true, .fd = 4}};
}

TEST(ocsf_file_open_and_actor)
{
	static char *tags[] = {"pii"};
	struct event_rule rule = {.name = "crm", .tags = tags, .n_tags = 1};
	struct who_fixture f;
	struct event_file file;
	struct event ev;
	json_t *ecs, *o, *args, *arg;
	char cmd[256] = "";
	size_t i, n = 0;

	if (!who_setup(&f))
		return;
	ev = file_event(&f, &file, &rule);
	if (!encode_both(&ev, &ecs, &o))
		goto out;
	ASSERT_EQ(num(o, "class_uid"), 1001, "File System Activity");
	ASSERT_EQ(num(o, "activity_id"), 14, "Open");
	ASSERT_EQ(num(o, "type_uid"), 100114, "type_uid");
	ASSERT_EQ(num(o, "status_id"), 1, "success");
	ASSERT_STREQ(str(o, "file.path"), str(ecs, "file.path"), "path, escaped alike");
	ASSERT_STREQ(str(o, "file.path"), "/srv/crm/cust\\xff.csv", "escaped path");
	ASSERT_STREQ(str(o, "file.name"), str(ecs, "file.name"), "name");
	ASSERT_STREQ(str(o, "file.parent_folder"), str(ecs, "file.directory"), "folder");
	ASSERT_EQ(num(o, "file.type_id"), 1, "regular file");
	ASSERT_STREQ(str(o, "file.uid"), str(ecs, "file.inode"), "inode as uid");
	ASSERT_STREQ(str(o, "file.owner.uid"), str(ecs, "file.uid"), "owner");
	ASSERT_EQ(num(o, "file.size"), num(ecs, "file.size"), "size");
	ASSERT_STREQ(str(o, "unmapped.file.mode"), str(ecs, "file.mode"), "mode unmapped");
	ASSERT_STREQ(str(o, "unmapped.file.device"), str(ecs, "file.device"), "device unmapped");
	/* The actor: the same process, user and ids. */
	ASSERT_EQ(num(o, "actor.process.pid"), num(ecs, "process.pid"), "pid");
	ASSERT_EQ(num(o, "actor.process.ptid"), num(ecs, "process.thread.id"), "tid");
	ASSERT_STREQ(str(o, "actor.process.name"), str(ecs, "process.name"), "comm");
	ASSERT_STREQ(str(o, "actor.process.file.path"), str(ecs, "process.executable"), "exe");
	ASSERT_STREQ(str(o, "actor.process.created_time_dt"), str(ecs, "process.start"), "start");
	ASSERT_EQ(num(o, "actor.process.parent_process.pid"), num(ecs, "process.parent.pid"),
		  "ppid");
	ASSERT_STREQ(str(o, "actor.user.uid"), str(ecs, "user.id"), "user");
	ASSERT_STREQ(str(o, "actor.process.user.uid"), str(ecs, "user.id"), "process user");
	ASSERT_EQ(num(o, "actor.process.auid"), atoi(str(ecs, "user.audit.id")), "auid");
	ASSERT_STREQ(str(o, "actor.process.session.terminal"), str(ecs, "process.tty.name"), "tty");
	ASSERT_STREQ(str(o, "actor.process.session.uid"), "7", "session");
	ASSERT_STREQ(str(o, "actor.process.container.uid"), str(ecs, "container.id"), "container");
	ASSERT_TRUE(has_profile(o, "container"), "container profile");
	ASSERT_EQ(num(o, "unmapped.process.tty.char_device.major"),
		  num(ecs, "process.tty.char_device.major"), "tty major unmapped");
	/* argv, redacted and escaped as in ECS, joined. */
	args = get(ecs, "process.args");
	json_array_foreach(args, i, arg) n +=
	    snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i ? " " : "", json_string_value(arg));
	ASSERT_STREQ(str(o, "actor.process.cmd_line"), cmd, "cmd_line is argv joined");
	ASSERT_STREQ(str(o, "actor.process.cmd_line"),
		     "psql -c select * from t where ssn = ? \\xff", "the literal redacted");
	ASSERT_FALSE(strstr(str(o, "actor.process.cmd_line"), "123"), "no literal");
	ASSERT_EQ(num(o, "unmapped.process.args_count"), 4, "args_count");
	done(ecs, o);
out:
	who_teardown(&f);
}

TEST(ocsf_file_denied_summary_and_changes)
{
	static const struct {
		enum event_kind kind;
		const char *action;
		uint32_t op;
		int activity;
		const char *name;
	} cases[] = {
	    {EVENT_FILE_DENIED, "open", 0, 14, "Open"},
	    {EVENT_FILE_SUMMARY, "close", 0, 99, "Close"},
	    {EVENT_FILE_SUMMARY, "flush", 0, 99, "Flush"},
	    {EVENT_FILE_MMAP, "mmap", 0, 99, "Mmap"},
	    {EVENT_FILE_CHANGE, "truncate", CUSTOS_CHANGE_TRUNCATE, 3, "Update"},
	    {EVENT_FILE_CHANGE, "chmod", CUSTOS_CHANGE_CHMOD, 7, "Set Security"},
	    {EVENT_FILE_CHANGE, "chown", CUSTOS_CHANGE_CHOWN, 7, "Set Security"},
	    {EVENT_FILE_CHANGE, "unlink", CUSTOS_CHANGE_UNLINK, 4, "Delete"},
	    {EVENT_FILE_CHANGE, "rename", CUSTOS_CHANGE_RENAME, 5, "Rename"},
	};
	static const char from[] = "/srv/crm/old.csv";
	struct who_fixture f;
	struct event_file file;
	struct event ev;
	json_t *ecs, *o;
	size_t i;

	if (!who_setup(&f))
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ev = file_event(&f, &file, NULL);
		ev.kind = cases[i].kind;
		ev.action = cases[i].action;
		if (ev.kind == EVENT_FILE_DENIED) {
			ev.outcome = "failure";
			ev.error_code = "EACCES";
			ev.error_message = "Permission denied";
			ev.error_message_len = 17;
		} else if (ev.kind == EVENT_FILE_SUMMARY) {
			ev.summary =
			    (struct event_summary){.since = {.bytes_read = 4096, .read_calls = 2},
						   .total_bytes_read = 8192,
						   .reason = cases[i].action,
						   .final = !strcmp(cases[i].action, "close")};
		} else if (ev.kind == EVENT_FILE_MMAP) {
			ev.mmap = (struct event_mmap){.length = 4096, .prot = 1, .flags = 1};
		} else if (ev.kind == EVENT_FILE_CHANGE) {
			ev.change = (struct event_change){.op = cases[i].op, .arg = 0600};
			if (cases[i].op == CUSTOS_CHANGE_RENAME) {
				ev.change.rename_from = from;
				ev.change.rename_from_len = sizeof(from) - 1;
			}
		}
		if (!encode_both(&ev, &ecs, &o))
			break;
		ASSERT_EQ(num(o, "class_uid"), 1001, cases[i].action);
		ASSERT_EQ(num(o, "activity_id"), cases[i].activity, cases[i].action);
		ASSERT_STREQ(str(o, "activity_name"), cases[i].name, cases[i].action);
		if (ev.kind == EVENT_FILE_DENIED) {
			ASSERT_EQ(num(o, "status_id"), 2, "refused: Failure");
			ASSERT_STREQ(str(o, "status_code"), "EACCES", "status_code");
			ASSERT_STREQ(str(o, "status_detail"), str(ecs, "error.message"), "detail");
		}
		if (ev.kind == EVENT_FILE_SUMMARY)
			ASSERT_EQ(num(o, "unmapped.custos.io.bytes_read"), 4096, "bytes read");
		if (cases[i].op == CUSTOS_CHANGE_RENAME && ev.kind == EVENT_FILE_CHANGE) {
			ASSERT_STREQ(str(o, "file.path"), from, "renamed: file is the old name");
			ASSERT_STREQ(str(o, "file_result.path"), str(ecs, "file.path"),
				     "file_result the new one");
			ASSERT_STREQ(str(o, "file.path"), str(ecs, "custos.rename.from"), "from");
		} else {
			ASSERT_STREQ(str(o, "file.path"), str(ecs, "file.path"), "path");
		}
		done(ecs, o);
	}
	who_teardown(&f);
}

TEST(ocsf_datastore_statements)
{
	static const struct {
		const char *text, *op;
		int activity;
		const char *name;
	} cases[] = {
	    {"SELECT * FROM customers WHERE id = ?", "SELECT", 4, "Query"},
	    {"INSERT INTO customers VALUES (?)", "INSERT", 5, "Write"},
	    {"UPDATE customers SET a = ?", "UPDATE", 2, "Update"},
	    {"DELETE FROM customers", "DELETE", 7, "Delete"},
	    {"CREATE TABLE customers (a int)", "CREATE", 6, "Create"},
	    {"ALTER TABLE customers ADD b int", "ALTER", 99, "ALTER"},
	};
	static char *tags[] = {"customer-data"};
	struct who_fixture f;
	struct sql_info info = {.tables = {"customers"}, .n_tables = 1};
	struct event ev;
	json_t *ecs, *o;
	size_t i;

	if (!who_setup(&f))
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(info.operation, sizeof(info.operation), "%s", cases[i].op);
		ev = (struct event){.kind = EVENT_DB_STATEMENT,
				    .seq = 9,
				    .time_ns = 1764317359123456789LL,
				    .category = "database",
				    .type = "access",
				    .action = "query",
				    .outcome = "success",
				    .host = "h",
				    .who = &f.who,
				    .db = {.system = "postgresql",
					   .text = cases[i].text,
					   .text_len = strlen(cases[i].text),
					   .info = &info,
					   .customer_data = true,
					   .tags = tags,
					   .n_tags = 1,
					   .namespace = "crm",
					   .user = "app",
					   .host = "127.0.0.1",
					   .port = "5432",
					   .rows = 3,
					   .affected = -1,
					   .duration_ns = 2500000,
					   .source = "library"}};
		if (!encode_both(&ev, &ecs, &o))
			break;
		ASSERT_EQ(num(o, "class_uid"), 6005, "Datastore Activity");
		ASSERT_EQ(num(o, "category_uid"), 6, "Application Activity");
		ASSERT_EQ(num(o, "activity_id"), cases[i].activity, cases[i].op);
		ASSERT_STREQ(str(o, "activity_name"), cases[i].name, cases[i].op);
		ASSERT_STREQ(str(o, "query_info.query_string"), str(ecs, "db.query.text"), "text");
		ASSERT_STREQ(str(o, "query_info.name"), str(ecs, "db.operation.name"), "operation");
		ASSERT_STREQ(str(o, "database.name"), str(ecs, "db.namespace"), "namespace");
		ASSERT_STREQ(str(o, "table.name"), str(ecs, "db.collection.name"), "table");
		ASSERT_STREQ(str(o, "dst_endpoint.ip"), str(ecs, "server.address"), "server");
		ASSERT_EQ(num(o, "dst_endpoint.port"), num(ecs, "server.port"), "port");
		ASSERT_STREQ(str(o, "src_endpoint.hostname"), "h", "the client: this host");
		ASSERT_STREQ(str(ecs, "custos.db.user"), "app", "db user");
		ASSERT_STREQ(str(o, "unmapped.custos.db.user"), "app", "db user");
		ASSERT_STREQ(str(ecs, "db.system.name"), "postgresql", "system");
		ASSERT_STREQ(str(o, "unmapped.db.system.name"), "postgresql", "system");
		ASSERT_EQ(num(o, "unmapped.db.response.returned_rows"),
			  num(ecs, "db.response.returned_rows"), "rows");
		ASSERT_EQ(num(o, "duration"), 2, "duration ms");
		ASSERT_EQ(num(o, "unmapped.event.duration"), num(ecs, "event.duration"), "ns");
		done(ecs, o);
	}
	/* A statement seen on the wire, from the server's side: the client is the source. */
	{
		struct event_net net = {.family = CUSTOS_NET_IPV4,
					.transport = IPPROTO_TCP,
					.accepted = true,
					.local_port = 5432,
					.remote_port = 40000,
					.local_addr = {127, 0, 0, 1},
					.remote_addr = {127, 0, 0, 2},
					.protocol = "postgresql"};

		ev.net = &net;
		ev.db.host = NULL;
		ev.db.port = NULL;
		ev.db.text = NULL; /* the text unknown */
		ev.db.info = NULL;
		ev.db.source = "wire";
		if (encode_both(&ev, &ecs, &o)) {
			ASSERT_STREQ(str(o, "src_endpoint.ip"), str(ecs, "source.ip"), "source");
			ASSERT_STREQ(str(o, "dst_endpoint.ip"), str(ecs, "destination.ip"), "dst");
			ASSERT_EQ(num(o, "activity_id"), 0, "no text: Unknown");
			ASSERT_FALSE(get(o, "query_info"), "no text: no query_info");
			ASSERT_TRUE(json_is_null(get(o, "unmapped.db.operation")),
				    "operation null as in ECS");
			ASSERT_STREQ(str(o, "unmapped.network.direction"), "ingress", "network");
			done(ecs, o);
		}
	}
	who_teardown(&f);
}

TEST(ocsf_network_activity)
{
	struct event_net net = {.family = CUSTOS_NET_IPV6,
				.transport = IPPROTO_TCP,
				.accepted = true,
				.local_port = 5432,
				.remote_port = 40000,
				.local_addr = {[15] = 1},
				.remote_addr = {0xfe, 0x80, [15] = 2}};
	struct who_fixture f;
	struct event ev;
	json_t *ecs, *o;

	if (!who_setup(&f))
		return;
	ev = (struct event){.kind = EVENT_NET_CONNECT,
			    .seq = 5,
			    .category = "network",
			    .type = "connection,start",
			    .action = "accept",
			    .outcome = "success",
			    .host = "h",
			    .who = &f.who,
			    .net = &net,
			    .open_id = 8};
	if (encode_both(&ev, &ecs, &o)) {
		ASSERT_EQ(num(o, "class_uid"), 4001, "Network Activity");
		ASSERT_EQ(num(o, "activity_id"), 1, "Open");
		ASSERT_STREQ(str(o, "src_endpoint.ip"), "fe80::2", "the peer opened it");
		ASSERT_STREQ(str(o, "src_endpoint.ip"), str(ecs, "source.ip"), "source");
		ASSERT_EQ(num(o, "dst_endpoint.port"), num(ecs, "destination.port"), "dst port");
		ASSERT_EQ(num(o, "connection_info.direction_id"), 1, "Inbound");
		ASSERT_EQ(num(o, "connection_info.protocol_num"), 6, "tcp");
		ASSERT_EQ(num(o, "connection_info.protocol_ver_id"), 6, "IPv6");
		done(ecs, o);
	}
	net = (struct event_net){.family = CUSTOS_NET_IPV4,
				 .transport = IPPROTO_TCP,
				 .remote_port = 5432,
				 .remote_addr = {127, 0, 0, 1}};
	ev.action = "connect";
	ev.outcome = "failure";
	ev.error_code = "ECONNREFUSED";
	if (encode_both(&ev, &ecs, &o)) {
		ASSERT_EQ(num(o, "activity_id"), 5, "Refuse");
		ASSERT_EQ(num(o, "status_id"), 2, "Failure");
		ASSERT_FALSE(get(o, "src_endpoint"), "no local end");
		ASSERT_EQ(num(o, "connection_info.direction_id"), 2, "Outbound");
		done(ecs, o);
	}
	ev.kind = EVENT_FILE_SUMMARY;
	ev.action = "flush";
	ev.outcome = "success";
	ev.error_code = NULL;
	ev.summary = (struct event_summary){.since = {.bytes_read = 7, .bytes_written = 9},
					    .reason = "flush"};
	if (encode_both(&ev, &ecs, &o)) {
		ASSERT_EQ(num(o, "activity_id"), 6, "Traffic");
		ASSERT_EQ(num(o, "traffic.bytes_in"), num(ecs, "custos.io.bytes_received"), "in");
		ASSERT_EQ(num(o, "traffic.bytes_out"), num(ecs, "custos.io.bytes_sent"), "out");
		ASSERT_EQ(num(o, "traffic.bytes"), 16, "bytes");
		done(ecs, o);
	}
	ev.action = "close";
	ev.summary.final = true;
	if (encode_both(&ev, &ecs, &o)) {
		ASSERT_EQ(num(o, "activity_id"), 2, "Close");
		done(ecs, o);
	}
	who_teardown(&f);
}

TEST(ocsf_detection_finding)
{
	static const struct event_alert_field group[] = {
	    {"user.name", "alice"}, {"user.audit.name", "alice"}, {"process.pid", "77"}};
	static const uint64_t evidence[] = {3, 4, 9};
	struct event ev = {.kind = EVENT_ALERT,
			   .seq = 10,
			   .time_ns = 1764317359123456789LL,
			   .category = "intrusion_detection",
			   .type = "info",
			   .action = "rule-match",
			   .ecs_kind = "alert",
			   .host = "h",
			   .alert_info = {.rule_name = "bulk-read",
					  .rule_id = "custos-1",
					  .description = "many rows",
					  .severity = "high",
					  .rule_kind = "threshold",
					  .technique_id = "T1005",
					  .technique_name = "Data from Local System",
					  .tactic_id = "TA0009",
					  .tactic_name = "Collection",
					  .start_ns = 1764317300000000000LL,
					  .end_ns = 1764317359000000000LL,
					  .has_value = true,
					  .value = 5000,
					  .threshold = 1000,
					  .group = group,
					  .n_group = 3,
					  .evidence = evidence,
					  .n_evidence = 3,
					  .evidence_count = 12}};
	json_t *ecs, *o, *attack;

	if (!encode_both(&ev, &ecs, &o))
		return;
	ASSERT_EQ(num(o, "class_uid"), 2004, "Detection Finding");
	ASSERT_EQ(num(o, "severity_id"), 4, "high");
	ASSERT_STREQ(str(o, "finding_info.title"), str(ecs, "rule.name"), "title");
	ASSERT_STREQ(str(o, "finding_info.analytic.uid"), str(ecs, "rule.id"), "rule id");
	ASSERT_STREQ(str(o, "finding_info.desc"), str(ecs, "rule.description"), "desc");
	attack = json_array_get(get(o, "finding_info.attacks"), 0);
	ASSERT_STREQ(str(attack, "technique.uid"), "T1005", "technique");
	ASSERT_STREQ(str(attack, "tactic.name"), "Collection", "tactic");
	ASSERT_EQ(json_array_size(get(o, "finding_info.related_events")), 3, "evidence");
	ASSERT_STREQ(str(json_array_get(get(o, "finding_info.related_events"), 2), "uid"), "9",
		     "by seq");
	ASSERT_EQ(num(o, "finding_info.related_events_count"), 12, "count");
	ASSERT_STREQ(str(o, "start_time_dt"), str(ecs, "event.start"), "window start");
	ASSERT_STREQ(str(o, "actor.user.name"), str(ecs, "user.name"), "grouped user");
	ASSERT_EQ(num(o, "actor.process.pid"), num(ecs, "process.pid"), "grouped pid");
	ASSERT_STREQ(str(o, "unmapped.user.audit.name"), "alice", "audit name unmapped");
	ASSERT_EQ(num(o, "unmapped.custos.alert.value"), 5000, "value");
	done(ecs, o);
}

TEST(ocsf_agent_events)
{
	static const struct {
		const char *action, *outcome;
		int cls, activity, severity;
	} cases[] = {
	    {"agent-start", "success", 6002, 3, 1},   {"agent-heartbeat", "success", 6002, 99, 1},
	    {"agent-reload", "failure", 6002, 99, 1}, {"agent-stop", "success", 6002, 4, 1},
	    {"gap", "failure", 6008, 1, 3},
	};
	static const struct event_agent_id id = {.id = "0f8fad5b-d9cb-469f-a165-70867728950e",
						 .ephemeral_id =
						     "7c9e6679-7425-40de-944b-e07fc1f90ae7",
						 .version = "0.1.0",
						 .pid = 42,
						 .exe = "/usr/sbin/custos"};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *custos = json_pack("{s:{s:s,s:I,s:s}}", "gap", "reason", "queue_full",
					   "count", (json_int_t)5, "output", "file:/x");
		struct event ev = {.kind = EVENT_AGENT,
				   .seq = 1,
				   .category = "process",
				   .type = "info",
				   .action = cases[i].action,
				   .outcome = cases[i].outcome,
				   .dataset = "custos.agent",
				   .ecs_kind = !strcmp(cases[i].action, "gap") ? "alert" : NULL,
				   .host = "h",
				   .chain = CHAIN_PLACEHOLDER,
				   .agent_id = &id,
				   .agent = custos};
		json_t *ecs, *o;

		if (encode_both(&ev, &ecs, &o)) {
			/* The agent, and its process: the ECS line's, unmapped (no actor). */
			ASSERT_TRUE(json_equal(get(o, "unmapped.agent"), get(ecs, "agent")),
				    "agent");
			ASSERT_TRUE(json_equal(get(o, "unmapped.process"), get(ecs, "process")),
				    "the agent's process");
			ASSERT_EQ(num(o, "unmapped.process.pid"), 42, "its pid");
			ASSERT_EQ(num(o, "class_uid"), cases[i].cls, cases[i].action);
			ASSERT_EQ(num(o, "activity_id"), cases[i].activity, cases[i].action);
			ASSERT_EQ(num(o, "severity_id"), cases[i].severity, cases[i].action);
			ASSERT_EQ(num(o, "status_id"), !strcmp(cases[i].outcome, "success") ? 1 : 2,
				  cases[i].action);
			if (cases[i].cls == 6002)
				ASSERT_STREQ(str(o, "app.name"), "custos", "app");
			else
				ASSERT_STREQ(str(o, "message"),
					     "5 events lost (queue_full, output file:/x)",
					     "message");
			ASSERT_FALSE(get(o, "actor"), "no actor");
			ASSERT_FALSE(has_profile(o, "linux/linux_users"), "no process: no profile");
			done(ecs, o);
		}
		json_decref(custos);
	}
}

/* An OCSF line has the chain placeholder once, where chain_seal puts the value. */
TEST(ocsf_line_sealed_like_ecs)
{
	static const char key[32] = "0123456789abcdef0123456789abcde";
	struct chain *c = chain_new(key, sizeof(key)), *d = c ? chain_dup(c) : NULL;
	struct event ev = {.kind = EVENT_AGENT,
			   .seq = 1,
			   .category = "process",
			   .type = "start",
			   .action = "agent-start",
			   .outcome = "success",
			   .host = "h",
			   .chain = CHAIN_PLACEHOLDER};
	struct jsonw a = {0}, b = {0};

	if (!ASSERT_OK_PTR(d, "chain and its dup"))
		goto out;
	jsonw_reset(&a);
	jsonw_reset(&b);
	ASSERT_OK(encode_ocsf(&a, &ev), "ocsf");
	ASSERT_OK(chain_seal(c, a.buf, a.len), "sealed");
	ASSERT_OK(encode_ocsf(&b, &ev), "ocsf again");
	ASSERT_OK(chain_seal(d, b.buf, b.len), "sealed by the dup");
	ASSERT_EQ(chain_find(a.buf, a.len) > 0, 1, "the value is where chain_find looks");
	/* The same key and place in the chain: the same value. */
	ASSERT_TRUE(a.len == b.len && !memcmp(a.buf, b.buf, a.len), "dup seals alike");
out:
	jsonw_free(&a);
	jsonw_free(&b);
	chain_free(c);
	chain_free(d);
}
