// SPDX-License-Identifier: GPL-2.0
/* The control socket's requests: what is accepted, what is refused and why, which paths match. */
#include <errno.h>
#include <string.h>

#include "agent/control.h"

#include "test.h"

static int parse(const char *line, struct control_request *req, char *err, size_t len)
{
	return control_request_parse(line, strlen(line), req, err, len);
}

TEST(control_request_subscribe)
{
	struct control_request req;
	char err[256], line[CONTROL_REQUEST_MAX + 1];

	if (!ASSERT_OK(
		parse("{\"op\":\"subscribe\",\"format\":\"human\",\"utf8\":true,\"pid\":42,"
		      "\"comm\":\"cat\",\"user\":\"alice\",\"paths\":[\"//srv//crm/\",\"/\"]}",
		      &req, err, sizeof(err)),
		err))
		return;
	ASSERT_EQ(req.op, CONTROL_OP_SUBSCRIBE, "op");
	ASSERT_EQ(req.format, OUTPUT_HUMAN, "format");
	ASSERT_TRUE(req.utf8, "utf8");
	ASSERT_EQ(req.pid, 42, "pid");
	ASSERT_STREQ(req.comm, "cat", "comm");
	ASSERT_STREQ(req.user, "alice", "user");
	ASSERT_EQ(req.n_paths, 2, "paths");
	ASSERT_STREQ(req.paths[0], "/srv/crm", "repeated and trailing slashes go");
	ASSERT_STREQ(req.paths[1], "/", "the root stays");
	ASSERT_OK(control_request_format(&req, line, sizeof(line)), "format");
	ASSERT_STREQ(line,
		     "{\"op\":\"subscribe\",\"format\":\"human\",\"utf8\":true,\"pid\":42,"
		     "\"comm\":\"cat\",\"user\":\"alice\",\"paths\":[\"/srv/crm\",\"/\"]}\n",
		     "written back");
	control_request_free(&req);

	ASSERT_OK(parse("{\"op\":\"subscribe\"}", &req, err, sizeof(err)), err);
	ASSERT_EQ(req.format, OUTPUT_JSON, "default format");
	ASSERT_EQ(req.n_paths, 0, "no paths");
	control_request_free(&req);
	ASSERT_OK(parse("{\"op\":\"status\"}", &req, err, sizeof(err)), err);
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
	    {"{\"op\":\"subscribe\",\"comm\":\"0123456789abcdef\"}", "\"comm\" must be 1 to 15"},
	    {"{\"op\":\"subscribe\",\"comm\":\"a\\u0000b\"}", "is not allowed"},
	    {"{\"op\":\"subscribe\",\"user\":\"\"}", "\"user\" must be 1 to 64"},
	    {"{\"op\":\"subscribe\",\"paths\":[]}", "\"paths\" must be an array of 1 to 16"},
	    {"{\"op\":\"subscribe\",\"paths\":[\"/a\",\"b\"]}", "\"paths\"[1] must be an absolute"},
	};
	struct control_request req;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(parse(bad[i].line, &req, err, sizeof(err)), -EINVAL, bad[i].line);
		ASSERT_HAS(err, bad[i].why, bad[i].line);
		ASSERT_EQ(req.n_paths, 0, "a refused request holds no path");
	}
}

TEST(control_request_paths)
{
	struct control_request req;
	char err[256];

	if (!ASSERT_OK(parse("{\"op\":\"subscribe\",\"paths\":[\"/srv/crm\",\"/exp/*.csv\"]}", &req,
			     err, sizeof(err)),
		       err))
		return;
	ASSERT_TRUE(control_request_path_matches(&req, "/srv/crm", 8), "the directory itself");
	ASSERT_TRUE(control_request_path_matches(&req, "/srv/crm/a/b.csv", 16), "below it");
	ASSERT_FALSE(control_request_path_matches(&req, "/srv/crm2/a.csv", 15), "a sibling");
	ASSERT_FALSE(control_request_path_matches(&req, "/srv", 4), "above it");
	ASSERT_TRUE(control_request_path_matches(&req, "/exp/a.csv", 10), "a glob");
	ASSERT_FALSE(control_request_path_matches(&req, "/exp/sub/a.csv", 14),
		     "* is one component");
	ASSERT_FALSE(control_request_path_matches(&req, "/srv/crm/a", 4), "len counts, not NUL");
	ASSERT_FALSE(control_request_path_matches(&req, NULL, 0), "no path");
	control_request_free(&req);
	ASSERT_OK(parse("{\"op\":\"subscribe\",\"paths\":[\"/\"]}", &req, err, sizeof(err)), err);
	ASSERT_TRUE(control_request_path_matches(&req, "/x/y", 4), "/ covers everything");
	control_request_free(&req);
	ASSERT_OK(parse("{\"op\":\"subscribe\"}", &req, err, sizeof(err)), err);
	ASSERT_TRUE(control_request_path_matches(&req, NULL, 0), "no paths: everything");
	control_request_free(&req);
}
