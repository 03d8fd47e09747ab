// SPDX-License-Identifier: GPL-2.0
/* The control socket's requests: what is accepted, written back, and what is refused and why. */
#include <errno.h>
#include <string.h>

#include "agent/control.h"

#include "test.h"

static struct control_request req; /* large: the filter's lists */

static int parse(const char *line, char *err, size_t len)
{
	return control_request_parse(line, strlen(line), &req, err, len);
}

TEST(control_request_subscribe)
{
	char err[256], line[CONTROL_REQUEST_MAX + 1];
	static const char text[] =
	    "{\"op\":\"subscribe\",\"format\":\"human\",\"utf8\":true,\"color\":false,\"pid\":42,"
	    "\"since_ns\":1000,\"only\":\"file,db\",\"users\":[\"root\",\"1234\"],"
	    "\"comms\":[\"cat\",\"dd\"],\"paths\":[\"/srv/crm\",\"/exp/*.csv\"]}";

	if (!ASSERT_OK(parse(text, err, sizeof(err)), err))
		return;
	ASSERT_EQ(req.op, CONTROL_OP_SUBSCRIBE, "op");
	ASSERT_EQ(req.format, OUTPUT_HUMAN, "format");
	ASSERT_TRUE(req.utf8, "utf8");
	ASSERT_FALSE(req.color, "color");
	ASSERT_EQ(req.filter.pid, 42, "pid");
	ASSERT_EQ(req.filter.since_ns, 1000, "since_ns");
	ASSERT_EQ(req.filter.kinds, EVENT_FILTER_FILE | EVENT_FILTER_DB, "only");
	ASSERT_EQ(req.filter.n_users, 2, "users");
	ASSERT_EQ(req.filter.users[0].uid, 0, "root's uid");
	ASSERT_EQ(req.filter.users[1].uid, 1234, "a uid");
	ASSERT_EQ(req.filter.n_comms, 2, "comms");
	ASSERT_STREQ(req.filter.comms[1], "dd", "comm");
	ASSERT_EQ(req.filter.n_paths, 2, "paths");
	ASSERT_OK(control_request_format(&req, line, sizeof(line)), "format");
	ASSERT_TRUE(strlen(line) == sizeof(text) && line[sizeof(text) - 1] == '\n', "one line");
	line[sizeof(text) - 1] = '\0';
	ASSERT_STREQ(line, text, "written back");
	control_request_free(&req);

	ASSERT_OK(parse("{\"op\":\"subscribe\"}", err, sizeof(err)), err);
	ASSERT_EQ(req.format, OUTPUT_JSON, "default format");
	control_request_free(&req);
	ASSERT_OK(parse("{\"op\":\"status\"}", err, sizeof(err)), err);
	ASSERT_EQ(req.op, CONTROL_OP_STATUS, "status");
	ASSERT_OK(control_request_format(&req, line, sizeof(line)), "format");
	ASSERT_STREQ(line, "{\"op\":\"status\"}\n", "status written back");
	control_request_free(&req);
}

TEST(control_request_refused)
{
	static const struct {
		const char *line, *why;
	} bad[] = {
	    {"", "not a JSON request"},
	    {"garbage", "not a JSON request"},
	    {"[]", "expected {\"op\""},
	    {"{\"op\":1}", "expected {\"op\""},
	    {"{\"op\":\"reboot\"}", "unknown op"},
	    {"{\"op\":\"status\",\"op\":\"status\"}", "duplicate"},
	    {"{\"op\":\"status\",\"format\":\"json\"}", "no other key"},
	    {"{\"op\":\"subscribe\",\"colour\":1}", "unknown key \"colour\""},
	    {"{\"op\":\"subscribe\",\"format\":\"xml\"}", "\"format\" must be"},
	    {"{\"op\":\"subscribe\",\"utf8\":1}", "\"utf8\" must be"},
	    {"{\"op\":\"subscribe\",\"pid\":0}", "\"pid\" must be"},
	    {"{\"op\":\"subscribe\",\"pid\":4194305}", "\"pid\" must be"},
	    {"{\"op\":\"subscribe\",\"comms\":[\"0123456789abcdef\"]}", "15 bytes"},
	    {"{\"op\":\"subscribe\",\"comms\":[\"a\\u0000b\"]}", "is not allowed"},
	    {"{\"op\":\"subscribe\",\"users\":[\"no-such-user-here\"]}", "no such user"},
	    {"{\"op\":\"subscribe\",\"users\":[]}", "\"users\" must be an array"},
	    {"{\"op\":\"subscribe\",\"only\":\"file,disk\"}", "unknown kind \"disk\""},
	    {"{\"op\":\"subscribe\",\"paths\":[\"/a\",\"b\"]}", "b"},
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(parse(bad[i].line, err, sizeof(err)), -EINVAL, bad[i].line);
		ASSERT_HAS(err, bad[i].why, bad[i].line);
		ASSERT_EQ(req.n_strs, 0, "a refused request holds no string");
	}
}
