// SPDX-License-Identifier: GPL-2.0
/*
 * "outputs" and "spool" in the JSON configuration: every output type with its
 * defaults, field by field, the limits accepted, and where and how bad values
 * are refused (file:line:column and the message).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config_test.h"
#include "test.h"

/* The part every config here starts with: one rule; 44 characters. */
#define W	   "{'watch': [{'name': 'r', 'paths': ['/a']}], "
/* A config with these outputs, e.g. OUTS("{'type': 'stdout'}"). */
#define OUTS(list) j(W "'outputs': [" list "]}")

static struct config *load_ok_at(int test_line, const char *text)
{
	struct config_error err = {};
	struct config *cfg = config_load_string(text, "test.json", &err);

	test__check(cfg != NULL, __FILE__, test_line, "config refused: %s:%d:%d: %s (%s)",
		    err.source, err.line, err.column, err.message, text);
	return cfg;
}

#define load_ok(text) load_ok_at(__LINE__, text)

TEST(config_outputs_none)
{
	struct config *cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}]}"));

	if (!cfg)
		return;
	/* no "outputs": events go to stdout, as before */
	ASSERT_EQ(cfg->n_outputs, 0, "n_outputs");
	ASSERT_NULL(cfg->outputs, "outputs");
	ASSERT_STREQ(cfg->spool.dir, CONFIG_SPOOL_DIR_DEFAULT, "spool.dir default");
	ASSERT_STREQ(cfg->spool.dir, "/var/lib/custos/spool", "spool.dir default value");
	ASSERT_EQ(cfg->spool.max_bytes, 1ULL << 30, "spool.max_bytes default (1 GiB)");
	ASSERT_EQ(cfg->heartbeat_interval_s, 60, "heartbeat_interval default");
	config_free(cfg);
}

TEST(config_outputs_defaults)
{
	struct config *cfg =
	    load_ok(OUTS("{'type': 'stdout'},\n"
			 " {'type': 'file', 'path': '/var/log/custos/events.ndjson'},\n"
			 " {'type': 'syslog', 'url': 'tcp://127.0.0.1:6514'},\n"
			 " {'type': 'http', 'url': "
			 "'http://127.0.0.1:8088/services/collector/event'}"));
	const struct config_output *o;

	if (!cfg)
		return;
	if (!ASSERT_EQ(cfg->n_outputs, 4, "n_outputs"))
		goto out;

	o = &cfg->outputs[0];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_STDOUT, "0 type");
	ASSERT_STREQ(o->name, "stdout", "0 name");
	ASSERT_EQ(o->queue_bytes, 64ULL << 20, "0 queue_bytes (64 MiB)");
	ASSERT_FALSE(o->drop_oldest, "0 drop: newest");

	o = &cfg->outputs[1];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_FILE, "1 type");
	ASSERT_STREQ(o->name, "file:/var/log/custos/events.ndjson", "1 name");
	ASSERT_STREQ(o->path, "/var/log/custos/events.ndjson", "1 path");
	ASSERT_EQ(o->queue_bytes, 64ULL << 20, "1 queue_bytes");
	ASSERT_FALSE(o->drop_oldest, "1 drop: newest");
	ASSERT_EQ(o->rotate_bytes, 100ULL << 20, "1 rotate_bytes (100 MiB)");
	ASSERT_EQ(o->rotate_seconds, 86400, "1 rotate_seconds");
	ASSERT_EQ(o->keep, 10, "1 keep");
	ASSERT_EQ(o->mode, 0600, "1 mode");
	ASSERT_NULL(o->url, "1 url");

	o = &cfg->outputs[2];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_SYSLOG, "2 type");
	ASSERT_STREQ(o->name, "syslog:tcp://127.0.0.1:6514", "2 name");
	ASSERT_STREQ(o->url, "tcp://127.0.0.1:6514", "2 url");
	ASSERT_EQ(o->facility, 10, "2 facility (authpriv)");
	ASSERT_EQ(o->queue_bytes, 64ULL << 20, "2 queue_bytes");
	ASSERT_FALSE(o->drop_oldest, "2 drop: newest");
	ASSERT_NULL(o->path, "2 path");

	o = &cfg->outputs[3];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_HTTP, "3 type");
	ASSERT_STREQ(o->name, "http:http://127.0.0.1:8088/services/collector/event", "3 name");
	ASSERT_STREQ(o->url, "http://127.0.0.1:8088/services/collector/event", "3 url");
	ASSERT_EQ(o->n_headers, 0, "3 n_headers");
	ASSERT_EQ(o->framing, CONFIG_HTTP_NDJSON, "3 format (ndjson)");
	ASSERT_NULL(o->ca_file, "3 ca_file");
	ASSERT_TRUE(o->tls_verify, "3 tls_verify");
	ASSERT_EQ(o->timeout_s, 10, "3 timeout_seconds");
	ASSERT_EQ(o->queue_bytes, 64ULL << 20, "3 queue_bytes");
	ASSERT_FALSE(o->drop_oldest, "3 drop: newest");

	ASSERT_STREQ(cfg->spool.dir, "/var/lib/custos/spool", "spool.dir default");
	ASSERT_EQ(cfg->spool.max_bytes, 1ULL << 30, "spool.max_bytes default");
out:
	config_free(cfg);
}

/* The example of the documentation, and every key set to something other than its default. */
TEST(config_outputs_full)
{
	struct config *cfg = load_ok(j(
	    "{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
	    " 'outputs': [{'type': 'stdout', 'name': 'console', 'queue_bytes': 1048576, "
	    "'drop': 'oldest'},\n"
	    "             {'type': 'file', 'path': '/var/log/custos/events.ndjson', "
	    "'rotate_bytes': 104857600, 'rotate_seconds': 3600, 'keep': 3, 'mode': '0640'},\n"
	    "             {'type': 'syslog', 'url': 'udp://[::1]:514', 'facility': 'local7', "
	    "'drop': 'newest'},\n"
	    "             {'type': 'syslog', 'url': 'unix:///dev/log', 'facility': 'kern'},\n"
	    "             {'type': 'http', 'url': "
	    "'https://siem.example:8088/services/collector/event',"
	    " 'headers': {'Authorization': 'Splunk TOKEN', 'X-Tenant': 'a b'}, 'format': 'hec',"
	    " 'ca_file': '/etc/ssl/ca.pem', 'tls_verify': false, 'timeout_seconds': 600,"
	    " 'queue_bytes': 17179869184},\n"
	    "             {'type': 'http', 'url': 'http://127.0.0.1:9200/_bulk', 'format': 'bulk',"
	    " 'timeout_seconds': 1},\n"
	    "             {'type': 'http', 'url': 'http://127.0.0.1:9200/x', 'format': 'ndjson',"
	    " 'headers': {}}],\n"
	    " 'spool': {'dir': '/srv/spool', 'max_bytes': 65536},\n"
	    " 'heartbeat_interval': 1}"));
	const struct config_output *o;

	if (!cfg)
		return;
	if (!ASSERT_EQ(cfg->n_outputs, 7, "n_outputs"))
		goto out;

	o = &cfg->outputs[0];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_STDOUT, "0 type");
	ASSERT_STREQ(o->name, "console", "0 name");
	ASSERT_EQ(o->queue_bytes, 1ULL << 20, "0 queue_bytes (the minimum)");
	ASSERT_TRUE(o->drop_oldest, "0 drop oldest");

	o = &cfg->outputs[1];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_FILE, "1 type");
	ASSERT_STREQ(o->name, "file:/var/log/custos/events.ndjson", "1 name");
	ASSERT_EQ(o->rotate_bytes, 104857600, "1 rotate_bytes");
	ASSERT_EQ(o->rotate_seconds, 3600, "1 rotate_seconds");
	ASSERT_EQ(o->keep, 3, "1 keep");
	ASSERT_EQ(o->mode, 0640, "1 mode");

	o = &cfg->outputs[2];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_SYSLOG, "2 type");
	ASSERT_STREQ(o->name, "syslog:udp://[::1]:514", "2 name");
	ASSERT_STREQ(o->url, "udp://[::1]:514", "2 url");
	ASSERT_EQ(o->facility, 23, "2 facility local7");
	ASSERT_FALSE(o->drop_oldest, "2 drop newest");

	o = &cfg->outputs[3];
	ASSERT_STREQ(o->name, "syslog:unix:///dev/log", "3 name");
	ASSERT_STREQ(o->url, "unix:///dev/log", "3 url");
	ASSERT_EQ(o->facility, 0, "3 facility kern");

	o = &cfg->outputs[4];
	ASSERT_EQ(o->type, CONFIG_OUTPUT_HTTP, "4 type");
	ASSERT_STREQ(o->name, "http:https://siem.example:8088/services/collector/event", "4 name");
	if (ASSERT_EQ(o->n_headers, 2, "4 n_headers")) {
		ASSERT_STREQ(o->headers[0], "Authorization: Splunk TOKEN", "4 header 0");
		ASSERT_STREQ(o->headers[1], "X-Tenant: a b", "4 header 1");
	}
	ASSERT_EQ(o->framing, CONFIG_HTTP_HEC, "4 format hec");
	ASSERT_STREQ(o->ca_file, "/etc/ssl/ca.pem", "4 ca_file");
	ASSERT_FALSE(o->tls_verify, "4 tls_verify");
	ASSERT_EQ(o->timeout_s, 600, "4 timeout_seconds (the maximum)");
	ASSERT_EQ(o->queue_bytes, 16ULL << 30, "4 queue_bytes (the maximum)");

	o = &cfg->outputs[5];
	ASSERT_EQ(o->framing, CONFIG_HTTP_BULK, "5 format bulk");
	ASSERT_EQ(o->timeout_s, 1, "5 timeout_seconds (the minimum)");
	ASSERT_TRUE(o->tls_verify, "5 tls_verify default");

	o = &cfg->outputs[6];
	ASSERT_EQ(o->framing, CONFIG_HTTP_NDJSON, "6 format ndjson");
	ASSERT_EQ(o->n_headers, 0, "6 n_headers");

	ASSERT_STREQ(cfg->spool.dir, "/srv/spool", "spool.dir");
	ASSERT_EQ(cfg->spool.max_bytes, 65536, "spool.max_bytes (the minimum)");
	ASSERT_EQ(cfg->heartbeat_interval_s, 1, "heartbeat_interval");
out:
	config_free(cfg);
}

TEST(config_outputs_every_facility)
{
	static const char *const names[] = {
	    "kern",   "user",	"mail",	  "daemon",   "auth",	"syslog", "lpr",
	    "news",   "uucp",	"cron",	  "authpriv", "ftp",	"local0", "local1",
	    "local2", "local3", "local4", "local5",   "local6", "local7",
	};
	static const int codes[] = {0,	1,  2,	3,  4,	5,  6,	7,  8,	9,
				    10, 11, 16, 17, 18, 19, 20, 21, 22, 23};
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct config *cfg;

		snprintf(
		    text, sizeof(text), "%s'%s'}]}",
		    W "'outputs': [{'type': 'syslog', 'url': 'udp://h:1', 'facility': ", names[i]);
		cfg = load_ok(j(text));
		if (!cfg)
			continue;
		if (ASSERT_EQ(cfg->n_outputs, 1, names[i]))
			ASSERT_EQ(cfg->outputs[0].facility, codes[i], names[i]);
		config_free(cfg);
	}
}

TEST(config_outputs_limits_accepted)
{
	static const char *const texts[] = {
	    W "'outputs': [{'type': 'file', 'path': '/x', 'rotate_bytes': 0, 'rotate_seconds': 0, "
	      "'keep': 0}]}",
	    W "'outputs': [{'type': 'file', 'path': '/x', 'rotate_bytes': 4096, 'keep': 1000}]}",
	    W "'outputs': [{'type': 'file', 'path': '/x', 'mode': '644'}]}",
	    W "'outputs': [{'type': 'stdout', 'queue_bytes': 17179869184}]}",
	    /* two outputs of one type, told apart by their names */
	    W "'outputs': [{'type': 'stdout'}, {'type': 'stdout', 'name': 'again'}]}",
	    W "'outputs': [{'type': 'file', 'path': '/x'}, {'type': 'file', 'path': '/y'}]}",
	    W "'outputs': [{'type': 'syslog', 'url': 'tcp://h:1'}, {'type': 'syslog', 'url': "
	      "'udp://h:1'}]}",
	    W "'spool': {'dir': ''}}",
	    W "'spool': {'max_bytes': 1099511627776}}",
	    W "'spool': {}}",
	};
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cfg = load_ok(j(texts[i]));
		config_free(cfg);
	}
	cfg = load_ok(j(W "'outputs': [{'type': 'file', 'path': '/x', 'mode': '644'}]}"));
	if (cfg && ASSERT_EQ(cfg->n_outputs, 1, "n_outputs"))
		ASSERT_EQ(cfg->outputs[0].mode, 0644, "mode 644 without the leading 0");
	config_free(cfg);
	cfg = load_ok(j(W "'spool': {'dir': ''}}"));
	if (cfg) {
		ASSERT_STREQ(cfg->spool.dir, "", "spool.dir \"\": no spool");
		ASSERT_EQ(cfg->spool.max_bytes, 1ULL << 30, "spool.max_bytes default");
	}
	config_free(cfg);
	cfg = load_ok(j(W "'spool': {'max_bytes': 1099511627776}}"));
	if (cfg) {
		ASSERT_STREQ(cfg->spool.dir, "/var/lib/custos/spool", "spool.dir default");
		ASSERT_EQ(cfg->spool.max_bytes, 1ULL << 40, "spool.max_bytes 2^40");
	}
	config_free(cfg);
}

TEST(config_outputs_unknown_key)
{
	EXPECT_ERROR(OUTS("{'type': 'stdout'},\n  {'type': 'file', 'path': '/l', 'pth': 1}"), 2, 34,
		     "unknown key \"pth\" in outputs[1]",
		     "(expected one of: type, name, queue_bytes, drop, path, rotate_bytes, "
		     "rotate_seconds, keep, mode, url, facility, headers, format, ca_file, "
		     "tls_verify, timeout_seconds, framing)");
	EXPECT_ERROR(j(W "'spool': {'dir': '/s', 'size': 1}}"), 1, 68,
		     "unknown key \"size\" in spool (expected one of: dir, max_bytes)");
}

TEST(config_outputs_key_of_another_type)
{
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'tcp://127.0.0.1:514', 'path': '/x'}"), 1, 106,
		     "\"path\" does not apply to an output of type \"syslog\"");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'url': 'udp://h:1'}"), 1, 88,
		     "\"url\" does not apply to an output of type \"file\"");
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'headers': {}}"), 1, 76,
		     "\"headers\" does not apply to an output of type \"stdout\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'facility': 'user'}"), 1, 94,
		     "\"facility\" does not apply to an output of type \"http\"");
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'udp://h:1', 'framing': 'hec'}"), 1, 96,
		     "\"framing\" does not apply to an output of type \"syslog\"");
}

/* "format": ECS by default, OCSF for any type; http's framing as "framing" or, as before, "format".
 */
TEST(config_outputs_format)
{
	struct config *cfg = load_ok(
	    OUTS("{'type': 'stdout'},\n"
		 " {'type': 'file', 'path': '/o.ndjson', 'format': 'ocsf'},\n"
		 " {'type': 'syslog', 'url': 'udp://h:1', 'format': 'ocsf'},\n"
		 " {'type': 'http', 'url': 'http://h/a', 'format': 'ocsf', 'framing': 'hec'},\n"
		 " {'type': 'http', 'url': 'http://h/b', 'format': 'bulk'},\n"
		 " {'type': 'http', 'url': 'http://h/c', 'format': 'ecs', 'framing': 'bulk'},\n"
		 " {'type': 'file', 'path': '/e.ndjson', 'format': 'ecs'},\n"
		 " {'type': 'http', 'url': 'http://h/d'}"));

	if (!cfg)
		return;
	if (!ASSERT_EQ(cfg->n_outputs, 8, "n_outputs"))
		goto out;
	ASSERT_EQ(cfg->outputs[0].format, CONFIG_FORMAT_ECS, "stdout: ecs by default");
	ASSERT_EQ(cfg->outputs[1].format, CONFIG_FORMAT_OCSF, "file ocsf");
	ASSERT_EQ(cfg->outputs[2].format, CONFIG_FORMAT_OCSF, "syslog ocsf");
	ASSERT_EQ(cfg->outputs[3].format, CONFIG_FORMAT_OCSF, "http ocsf");
	ASSERT_EQ(cfg->outputs[3].framing, CONFIG_HTTP_HEC, "http ocsf framed for hec");
	ASSERT_EQ(cfg->outputs[4].format, CONFIG_FORMAT_ECS, "\"format\": \"bulk\" is ecs");
	ASSERT_EQ(cfg->outputs[4].framing, CONFIG_HTTP_BULK, "... in _bulk framing");
	ASSERT_EQ(cfg->outputs[5].format, CONFIG_FORMAT_ECS, "http ecs");
	ASSERT_EQ(cfg->outputs[5].framing, CONFIG_HTTP_BULK, "http framing bulk");
	ASSERT_EQ(cfg->outputs[6].format, CONFIG_FORMAT_ECS, "file ecs");
	ASSERT_EQ(cfg->outputs[7].format, CONFIG_FORMAT_ECS, "http: ecs by default");
	ASSERT_EQ(cfg->outputs[7].framing, CONFIG_HTTP_NDJSON, "http: ndjson by default");
out:
	config_free(cfg);
}

TEST(config_outputs_format_refused)
{
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'format': 'xml'}"), 1, 98,
		     "\"format\" of outputs[0] (file) is \"xml\"",
		     "(expected one of \"ecs\", \"ocsf\")");
	/* A framing is an http output's only. */
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'udp://h:1', 'format': 'hec'}"), 1, 106,
		     "\"format\" of outputs[0] (syslog) is \"hec\"",
		     "(expected one of \"ecs\", \"ocsf\")");
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'format': 1}"), 1, 86,
		     "\"format\" of outputs[0] (stdout) must be a string, not a number");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'format': 'OCSF'}"), 1, 104,
		     "\"format\" of outputs[0] (http) is \"OCSF\"",
		     "(expected one of \"ecs\", \"ocsf\", \"ndjson\", \"hec\", \"bulk\")");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'framing': 'ocsf'}"), 1, 105,
		     "\"framing\" of outputs[0] (http) is \"ocsf\"",
		     "(expected one of \"ndjson\", \"hec\", \"bulk\")");
	/* Two framings: which one was meant? */
	EXPECT_ERROR(
	    OUTS("{'type': 'http', 'url': 'http://h/', 'format': 'hec', 'framing': 'bulk'}"), 1,
	    104, "\"format\" of outputs[0] (http) is \"hec\", a framing, and \"framing\" is given",
	    "expected \"format\": \"ecs\" or \"ocsf\" with \"framing\"");
}

TEST(config_outputs_type)
{
	EXPECT_ERROR(OUTS("{'type': 'kafka'}"), 1, 66, "\"type\" of outputs[0] is \"kafka\"",
		     "expected one of \"stdout\", \"file\", \"syslog\", \"http\"");
	EXPECT_ERROR(OUTS("{'type': 5}"), 1, 66,
		     "\"type\" of outputs[0] must be a string, not a number");
	EXPECT_ERROR(OUTS("{'path': '/x'}"), 1, 57, "missing key \"type\" in outputs[0]",
		     "expected \"stdout\", \"file\", \"syslog\" or \"http\"");
	EXPECT_ERROR(j(W "'outputs': ['stdout']}"), 1, 57,
		     "outputs[0] must be an object, not a string");
	EXPECT_ERROR(j(W "'outputs': {'type': 'stdout'}}"), 1, 56,
		     "\"outputs\" must be a non-empty array, not an object");
}

TEST(config_outputs_url)
{
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'http://h:514'}"), 1, 83,
		     "\"url\" of outputs[0] (syslog) is \"http://h:514\"",
		     "expected tcp://HOST:PORT, udp://HOST:PORT or unix:///PATH");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'ftp://h/x'}"), 1, 81,
		     "\"url\" of outputs[0] (http) is \"ftp://h/x\"", "expected http://");
	EXPECT_ERROR(OUTS("{'type': 'http'}"), 1, 57, "missing key \"url\" in outputs[0] (http)");
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'unix://dev/log'}"), 1, 83,
		     "is \"unix://dev/log\"", "unix:///PATH");
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'tcp://'}"), 1, 83, "is \"tcp://\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'https://'}"), 1, 81, "is \"https://\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': ''}"), 1, 81, "\"url\" of outputs[0] (http)");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 42}"), 1, 81,
		     "\"url\" of outputs[0] (http) must be a string, not a number");
}

/* The spec writes tcp://HOST:PORT and udp://HOST:PORT: there is no default port. */
TEST(config_outputs_url_needs_port)
{
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'tcp://127.0.0.1'}"), 1, 83,
		     "\"url\" of outputs[0] (syslog) is \"tcp://127.0.0.1\"");
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'udp://127.0.0.1:'}"), 1, 83,
		     "\"url\" of outputs[0] (syslog) is \"udp://127.0.0.1:\"");
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'tcp://127.0.0.1:99999'}"), 1, 83,
		     "\"url\" of outputs[0] (syslog) is \"tcp://127.0.0.1:99999\"");
}

TEST(config_outputs_file)
{
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': 'var/log/x'}"), 1, 82,
		     "outputs[0] (file) needs \"path\", an absolute path");
	EXPECT_ERROR(OUTS("{'type': 'file'}"), 1, 57,
		     "outputs[0] (file) needs \"path\", an absolute path");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'mode': '0666'}"), 1, 96,
		     "\"mode\" of outputs[0] (file) is \"0666\"", "expected an octal mode");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'mode': '0620'}"), 1, 96,
		     "\"mode\" of outputs[0] (file) is \"0620\"");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'mode': '0602'}"), 1, 96,
		     "\"mode\" of outputs[0] (file) is \"0602\"");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'mode': '0689'}"), 1, 96,
		     "\"mode\" of outputs[0] (file) is \"0689\"");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'mode': 384}"), 1, 96,
		     "\"mode\" of outputs[0] (file) must be a string, not a number");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'rotate_bytes': 100}"), 1, 104,
		     "\"rotate_bytes\" of outputs[0] (file) is 100", "expected 0 or at least 4096");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'rotate_bytes': 4095}"), 1, 104,
		     "is 4095", "expected 0 or at least 4096");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'rotate_bytes': -1}"), 1, 104,
		     "\"rotate_bytes\" of outputs[0] (file) is -1");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'keep': 1001}"), 1, 96,
		     "\"keep\" of outputs[0] (file) is 1001", "from 0 to 1000");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'rotate_seconds': '1d'}"), 1, 106,
		     "\"rotate_seconds\" of outputs[0] (file) must be an integer, not a string");
}

TEST(config_outputs_common_keys)
{
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'queue_bytes': 1048575}"), 1, 91,
		     "\"queue_bytes\" of outputs[0] (stdout) is 1048575",
		     "from 1048576 to 17179869184");
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'queue_bytes': 17179869185}"), 1, 91,
		     "is 17179869185", "from 1048576 to 17179869184");
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'drop': 'all'}"), 1, 84,
		     "\"drop\" of outputs[0] (stdout) is \"all\"", "\"newest\", \"oldest\"");
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'name': ''}"), 1, 84,
		     "\"name\" of outputs[0] (stdout) is empty");
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'name': 7}"), 1, 84,
		     "\"name\" of outputs[0] (stdout) must be a string, not a number");
}

TEST(config_outputs_duplicates)
{
	EXPECT_ERROR(
	    OUTS(
		"\n  {'type': 'stdout'},\n  {'type': 'file', 'path': '/x'},\n  {'type': 'stdout'}"),
	    4, 3, "outputs[0] and outputs[2] are both \"stdout\"");
	EXPECT_ERROR(OUTS("{'type': 'stdout', 'name': 'siem'},\n  {'type': 'file', 'path': '/x', "
			  "'name': 'siem'}"),
		     2, 3, "outputs[0] and outputs[1] are both \"siem\"");
	/* the default name of one is the name given to another */
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x', 'name': 'stdout'}, {'type': 'stdout'}"),
		     1, 107, "outputs[0] and outputs[1] are both \"stdout\"");
	EXPECT_ERROR(OUTS("{'type': 'file', 'path': '/x'}, {'type': 'file', 'path': '/x'}"), 1, 89,
		     "both \"file:/x\"");
}

TEST(config_outputs_empty)
{
	EXPECT_ERROR(j(W "'outputs': []}"), 1, 56,
		     "\"outputs\" must be a non-empty array, not empty");
	EXPECT_ERROR(j(W "'outputs': null}"), 1, 56,
		     "\"outputs\" must be a non-empty array, not null");
}

TEST(config_outputs_spool)
{
	EXPECT_ERROR(j(W "'spool': {'dir': 'rel'}}"), 1, 62,
		     "\"dir\" of spool is not an absolute path");
	EXPECT_ERROR(j(W "'spool': {'dir': '/s', 'max_bytes': 65535}}"), 1, 81,
		     "\"max_bytes\" of spool is 65535", "from 65536 to 1099511627776");
	EXPECT_ERROR(j(W "'spool': {'max_bytes': 1099511627777}}"), 1, 68,
		     "\"max_bytes\" of spool is 1099511627777");
	EXPECT_ERROR(j(W "'spool': {'dir': 5}}"), 1, 62,
		     "\"dir\" of spool must be a string, not a number");
	EXPECT_ERROR(j(W "'spool': '/s'}"), 1, 54, "\"spool\" must be an object, not a string");
}

TEST(config_outputs_syslog)
{
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'udp://h:1', 'facility': 'nope'}"), 1, 108,
		     "\"facility\" of outputs[0] (syslog) is \"nope\"", "\"authpriv\"",
		     "\"local7\"");
	EXPECT_ERROR(OUTS("{'type': 'syslog', 'url': 'udp://h:1', 'facility': 10}"), 1, 108,
		     "\"facility\" of outputs[0] (syslog) must be a string, not a number");
}

TEST(config_outputs_http)
{
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/',\n"
			  "  'headers': {'X-A': 'b', 'Bad:Name': 'v'}}"),
		     2, 14, "header \"Bad:Name\" of outputs[0] (http)");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'headers': {'Bad Name': 'v'}}"), 1,
		     105, "header \"Bad Name\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'headers': {'': 'v'}}"), 1, 105,
		     "header \"\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'headers': {'X-N': 1}}"), 1, 105,
		     "header \"X-N\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'headers': {'X-N': 'a\\r\\nX-Evil: "
			  "1'}}"),
		     1, 105, "header \"X-N\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'headers': ['Authorization: x']}"),
		     1, 105, "\"headers\" of outputs[0] (http) must be an object, not an array");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'format': 'json'}"), 1, 104,
		     "\"format\" of outputs[0] (http) is \"json\"",
		     "\"ndjson\", \"hec\", \"bulk\"");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'timeout_seconds': 0}"), 1, 113,
		     "\"timeout_seconds\" of outputs[0] (http) is 0", "from 1 to 600");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'timeout_seconds': 601}"), 1, 113,
		     "is 601", "from 1 to 600");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'tls_verify': 'no'}"), 1, 108,
		     "\"tls_verify\" of outputs[0] (http) must be true or false, not a string");
	EXPECT_ERROR(OUTS("{'type': 'http', 'url': 'http://h/', 'ca_file': 'ca.pem'}"), 1, 105,
		     "\"ca_file\" of outputs[0] (http) is not an absolute path");
}
