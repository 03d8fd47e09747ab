// SPDX-License-Identifier: GPL-2.0
/*
 * An event made of the input (its kind, a path, argv, comm, host name, SQL
 * text and what the SQL scanner makes of it, a rename's old name, an error
 * message, socket ends), written as ECS and as OCSF. Properties: the OCSF
 * writer fails exactly when the ECS one does; otherwise both lines are one
 * JSON object each on one line, and the OCSF one says what the ECS one
 * says: the same seq (metadata.sequence), the same custos object
 * (unmapped.custos; its escaped list in any order), the same path, query
 * text, process name and command line (argv joined), host name.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "encode/encode.h"
#include "encode/ocsf.h"
#include "encode/sql.h"
#include "lib/proc.h"
#include "lib/users.h"
#include "output/chain.h"

/* The next part of the input, up to a 0xfe byte (or its end). */
static const char *part(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *s = *p, *sep = s < end ? memchr(s, 0xfe, end - s) : NULL;

	*len = (sep ? sep : end) - s;
	*p = sep ? sep + 1 : end;
	return (const char *)s;
}

static json_t *get(json_t *v, const char *path)
{
	char key[64];
	const char *dot;

	while (v && (dot = strchr(path, '.'))) {
		size_t n = dot - path;

		if (n >= sizeof(key))
			abort();
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		path = dot + 1;
	}
	return v ? json_object_get(v, path) : NULL;
}

static void same(json_t *a, json_t *b)
{
	if (!(a == b || (a && b && json_equal(a, b))))
		abort();
}

/* unmapped.custos and custos: equal, their escaped lists as sets. */
static void same_custos(json_t *a, json_t *b)
{
	json_t *x = json_deep_copy(a), *y = json_deep_copy(b), *e;
	json_t *ex = json_object_get(x, "escaped"), *ey = json_object_get(y, "escaped");
	size_t i, j, found = 0;

	if (!x || !y || json_array_size(ex) != json_array_size(ey)) {
		json_dumpf(a, stderr, 0);
		fputc('\n', stderr);
		json_dumpf(b, stderr, 0);
		fputc('\n', stderr);
		abort();
	}
	json_array_foreach(ex, i, e) for (j = 0; j < json_array_size(ey); j++) found +=
	    json_equal(e, json_array_get(ey, j));
	if (found != json_array_size(ey))
		abort();
	json_object_del(x, "escaped");
	json_object_del(y, "escaped");
	same(x, y);
	json_decref(x);
	json_decref(y);
}

static json_t *line(struct jsonw *w, int (*encode)(struct jsonw *, const struct event *),
		    const struct event *ev, int *err)
{
	json_t *v;

	jsonw_reset(w);
	*err = encode(w, ev);
	if (*err)
		return NULL;
	if (memchr(w->buf, '\n', w->len))
		abort();
	v = json_loadb(w->buf, w->len, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(v))
		abort();
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum event_kind kinds[] = {
	    EVENT_FILE_OPEN,   EVENT_FILE_SUMMARY, EVENT_FILE_MMAP,   EVENT_FILE_CHANGE,
	    EVENT_FILE_DENIED, EVENT_DB_STATEMENT, EVENT_NET_CONNECT, EVENT_AGENT,
	};
	const uint8_t *p = data + (size >= 8 ? 8 : size), *end = data + size;
	struct custos_task task = {
	    .tgid = 10, .tid = 11, .auid = USERS_UNSET, .sessionid = USERS_UNSET};
	struct proc_info proc = {.tgid = 10};
	struct encode_clock clock = {0};
	struct users users = {0};
	struct event_who who;
	struct event_file file = {0};
	struct event_net net = {.family = CUSTOS_NET_IPV4, .transport = IPPROTO_TCP};
	struct sql_info info;
	struct event ev = {0};
	struct jsonw w = {0};
	const char *path, *args, *comm, *host, *sql, *from, *msg;
	size_t path_len, args_len, comm_len, host_len, sql_len, from_len, msg_len;
	char *args_copy = NULL, *host_copy = NULL, *from_copy = NULL;
	json_t *ecs, *ocsf;
	int err_ecs, err_ocsf;
	uint8_t flags;

	if (size < 8)
		return 0;
	flags = data[1];
	path = part(&p, end, &path_len);
	args = part(&p, end, &args_len);
	comm = part(&p, end, &comm_len);
	host = part(&p, end, &host_len);
	sql = part(&p, end, &sql_len);
	from = part(&p, end, &from_len);
	msg = part(&p, end, &msg_len);

	memcpy(task.comm, comm, comm_len < sizeof(task.comm) ? comm_len : sizeof(task.comm));
	task.tty_dev = flags & 1 ? (136u << 20) | data[2] : 0;
	if (flags & 2) {
		task.auid = data[3];
		task.sessionid = data[4];
	}
	args_copy = malloc(args_len + 1);
	host_copy = malloc(host_len + 1);
	from_copy = malloc(from_len + 1);
	if (!args_copy || !host_copy || !from_copy)
		goto out;
	memcpy(from_copy, from, from_len);
	from_copy[from_len] = '\0'; /* a database name is a C string */
	memcpy(args_copy, args, args_len);
	args_copy[args_len] = '\0';
	memcpy(host_copy, host, host_len);
	host_copy[host_len] = '\0'; /* a C string, as the host's name is */
	proc.args = args_len ? args_copy : NULL;
	proc.args_len = args_len;
	proc.exe = flags & 4 ? args_copy : NULL;
	proc.exe_len = flags & 4 ? strnlen(args_copy, args_len) : 0;
	if (encode_who(&who, &clock, &task, &proc, NULL, flags & 8 ? "abc" : NULL, &users))
		goto out;

	ev.kind = kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))];
	ev.seq = data[5] + 1;
	ev.time_ns = (int64_t)data[6] << 32 | data[7];
	ev.category = "file";
	ev.type = "access";
	ev.action = ev.kind == EVENT_AGENT ? (flags & 16 ? "gap" : "agent-start") : "open";
	ev.outcome = flags & 32 ? "failure" : "success";
	ev.host = host_copy;
	ev.chain = flags & 64 ? CHAIN_PLACEHOLDER : NULL;
	ev.who = ev.kind == EVENT_AGENT ? NULL : &who;
	if (msg_len) {
		ev.error_code = "EACCES";
		ev.error_message = msg;
		ev.error_message_len = msg_len;
	}
	file = (struct event_file){.path = path,
				   .path_len = path_len,
				   .has_identity = flags & 128,
				   .ino = data[2],
				   .mode = flags & 128 ? 0100000u | data[3] : 0,
				   .has_owner = true};
	switch (ev.kind) {
	case EVENT_DB_STATEMENT:
		sql_describe(SQL_POSTGRESQL, sql, sql_len, &info);
		ev.db = (struct event_db){.system = "postgresql",
					  .text = flags & 16 ? NULL : sql,
					  .text_len = sql_len,
					  .info = flags & 16 ? NULL : &info,
					  .namespace = flags & 1 ? from_copy : NULL,
					  .host = flags & 2 ? "127.0.0.1" : NULL,
					  .port = "5432",
					  .rows = data[4] - 1,
					  .affected = -1,
					  .duration_ns = data[3]};
		ev.net = flags & 4 ? &net : NULL;
		break;
	case EVENT_NET_CONNECT:
		ev.net = &net;
		break;
	case EVENT_AGENT:
		break;
	case EVENT_FILE_SUMMARY:
		ev.net = flags & 16 ? &net : NULL;
		ev.summary.reason = "close";
		ev.summary.since.bytes_read = data[3];
		/* fall through */
	default:
		ev.file = ev.net ? NULL : &file;
		if (ev.kind == EVENT_FILE_CHANGE) {
			ev.change.op = data[4] % 5;
			if (ev.change.op == CUSTOS_CHANGE_RENAME) {
				ev.change.rename_from = from;
				ev.change.rename_from_len = from_len;
			}
		}
	}
	net.accepted = flags & 2;
	net.local_port = data[2];
	net.remote_addr[0] = 127;

	ecs = line(&w, encode_event, &ev, &err_ecs);
	ocsf = line(&w, encode_ocsf, &ev, &err_ocsf);
	if (!err_ecs != !err_ocsf)
		abort(); /* one schema could write it, the other not */
	if (ecs && ocsf) {
		same(get(ocsf, "metadata.sequence"), get(ecs, "custos.seq"));
		same(get(ocsf, "metadata.event_code"), get(ecs, "event.action"));
		same_custos(get(ocsf, "unmapped.custos"), get(ecs, "custos"));
		same(get(ocsf, "device.hostname"), get(ecs, "host.name"));
		same(get(ocsf, "time_dt"), get(ecs, "@timestamp"));
		if (ev.file && !ev.change.rename_from)
			same(get(ocsf, "file.path"), get(ecs, "file.path"));
		if (ev.file && ev.change.rename_from) {
			same(get(ocsf, "file_result.path"), get(ecs, "file.path"));
			same(get(ocsf, "file.path"), get(ecs, "custos.rename.from"));
		}
		if (ev.kind == EVENT_DB_STATEMENT)
			same(get(ocsf, "query_info.query_string"), get(ecs, "db.query.text"));
		if (ev.who) {
			json_t *a = get(ecs, "process.args"), *arg;
			size_t i, n = 0;
			char *joined = NULL;

			same(get(ocsf, "actor.process.name"), get(ecs, "process.name"));
			same(get(ocsf, "actor.process.pid"), get(ecs, "process.pid"));
			if (a) {
				joined = calloc(1, 5 * args_len + 8);
				json_array_foreach(a, i, arg)
				{
					if (i)
						joined[n++] = ' ';
					memcpy(joined + n, json_string_value(arg),
					       json_string_length(arg));
					n += json_string_length(arg);
				}
				if (!json_is_string(get(ocsf, "actor.process.cmd_line")) ||
				    json_string_length(get(ocsf, "actor.process.cmd_line")) != n ||
				    memcmp(json_string_value(get(ocsf, "actor.process.cmd_line")),
					   joined, n))
					abort();
				free(joined);
			} else if (get(ocsf, "actor.process.cmd_line")) {
				abort();
			}
		}
	}
	json_decref(ecs);
	json_decref(ocsf);
	encode_who_free(&who);
out:
	jsonw_free(&w);
	users_clear(&users);
	free(args_copy);
	free(host_copy);
	free(from_copy);
	return 0;
}
