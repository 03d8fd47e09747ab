// SPDX-License-Identifier: GPL-2.0
#include <fcntl.h>
#include <stdlib.h>

#include "encode/encode.h"
#include "output/output.h"
#include "lib/proc.h"

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

TEST(encode_open_flags_names)
{
	json_t *f = encode_open_flags(O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
	char *s = json_dumps(f, 0);

	ASSERT_STREQ(s, "[\"O_WRONLY\", \"O_CREAT\", \"O_TRUNC\", \"O_CLOEXEC\"]", "flags");
	free(s);
	json_decref(f);
	f = encode_open_flags(O_RDONLY);
	s = json_dumps(f, 0);
	ASSERT_STREQ(s, "[\"O_RDONLY\"]", "rdonly");
	free(s);
	json_decref(f);
}

TEST(encode_file_fields)
{
	json_t *ev = json_object(), *file;
	struct users users = {0};
	const char path[] = "/srv/crm/bad\xff.csv";

	encode_file(ev, path, sizeof(path) - 1, (8 << 20) | 1, 1234, 0100640, &users, 0, 0);
	file = json_object_get(ev, "file");
	ASSERT_STREQ(json_string_value(json_object_get(file, "path")), "/srv/crm/bad\\xff.csv",
		     "path");
	ASSERT_STREQ(json_string_value(json_object_get(file, "name")), "bad\\xff.csv", "name");
	ASSERT_STREQ(json_string_value(json_object_get(file, "directory")), "/srv/crm", "dir");
	ASSERT_STREQ(json_string_value(json_object_get(file, "inode")), "1234", "inode");
	ASSERT_STREQ(json_string_value(json_object_get(file, "device")), "8:1", "device");
	ASSERT_STREQ(json_string_value(json_object_get(file, "mode")), "0640", "mode");
	ASSERT_STREQ(json_string_value(json_object_get(file, "type")), "file", "type");
	ASSERT_EQ(json_array_size(json_object_get(json_object_get(ev, "custos"), "escaped")), 2,
		  "escaped fields");
	users_clear(&users);
	json_decref(ev);
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
	json_t *ev = json_object(), *process;
	char *line;

	memcpy(task.comm, "x\ny\xff", 4);
	proc.args = args;
	proc.args_len = sizeof(args) - 1;
	encode_task(ev, &clock, &task, &proc, &users);
	process = json_object_get(ev, "process");
	ASSERT_STREQ(json_string_value(json_object_get(process, "name")), "x\ny\\xff", "comm");
	ASSERT_EQ(json_integer_value(json_object_get(process, "args_count")), 3, "argc");
	ASSERT_STREQ(json_string_value(json_array_get(json_object_get(process, "args"), 2)),
		     "\\xff\\xfe", "argv[2]");
	ASSERT_FALSE(json_object_get(json_object_get(ev, "user"), "audit"), "no audit user");
	line = json_dumps(ev, JSON_COMPACT);
	ASSERT_FALSE(strchr(line, '\n'), "one line");
	ASSERT_HAS(line, "\"escaped\":[\"process.name\",\"process.args\"]", "escaped list");
	free(line);
	users_clear(&users);
	json_decref(ev);
}

TEST(output_human_line_escapes_terminal_controls)
{
	json_t *ev =
	    json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:i, s:s}, s:{s:s, s:s, s:{s:s}},"
		      " s:{s:s}, s:{s:{s:i}}}",
		      "@timestamp", "2026-11-28T08:09:19.123456789Z", "event", "category", "file",
		      "action", "close", "outcome", "success", "process", "pid", 42, "name",
		      "c\x1b[2Jat", "user", "id", "0", "name", "root", "audit", "name", "alice",
		      "file", "path", "/srv/a\xe2\x80\xae.csv", "custos", "io", "bytes_read", 4096);
	char line[512];

	output_human_line(ev, false, line, sizeof(line));
	ASSERT_STREQ(line, "08:09:19.123 alice->root 42 c\\x1b[2Jat close 4096 /srv/a\\u202e.csv",
		     "line");
	json_decref(ev);
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
