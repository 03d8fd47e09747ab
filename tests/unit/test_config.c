// SPDX-License-Identifier: GPL-2.0
/* The JSON configuration: what it accepts, and where and how it refuses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "config/config.h"
#include "config/json_locate.h"
#include "config_test.h"
#include "test.h"

/* A config with one rule around the rule's other members, e.g. RULE("'tags': []"). */
#define RULE(members) j("{'watch': [{'name': 'r', 'paths': ['/a'], " members "}]}")

static struct config *load_ok(const char *text)
{
	struct config_error err = {};
	struct config *cfg = config_load_string(text, "test.json", &err);

	ASSERT_OK_PTR(cfg, err.message);
	return cfg;
}

TEST(config_default)
{
	struct config *cfg = config_load_default();
	const struct config_rule *r;

	if (!ASSERT_OK_PTR(cfg, "config_load_default"))
		return;
	ASSERT_STREQ(cfg->source, "<built-in>", "source");
	ASSERT_HAS(config_default_text(), "\"postgresql-data\"", "default text");
	if (!ASSERT_EQ(cfg->n_rules, 3, "rules"))
		goto free_cfg;

	r = &cfg->rules[0];
	ASSERT_STREQ(r->name, "customer-data", "rule 0 name");
	ASSERT_EQ(r->n_tags, 2, "rule 0 tags");
	ASSERT_STREQ(r->tags[0], "customer-data", "rule 0 tag 0");
	ASSERT_STREQ(r->tags[1], "pii", "rule 0 tag 1");
	ASSERT_EQ(r->n_paths, 1, "rule 0 paths");
	ASSERT_STREQ(r->paths[0], "/srv/customer-data", "rule 0 path");
	ASSERT_EQ(r->exclude.n_comms + r->exclude.n_exes + r->exclude.n_uids, 0, "rule 0 excludes");

	r = &cfg->rules[1];
	ASSERT_STREQ(r->name, "postgresql-data", "rule 1 name");
	ASSERT_EQ(r->n_tags, 2, "rule 1 tags");
	ASSERT_STREQ(r->tags[0], "customer-data", "rule 1 tag 0");
	ASSERT_STREQ(r->tags[1], "database", "rule 1 tag 1");
	ASSERT_EQ(r->n_paths, 1, "rule 1 paths");
	ASSERT_STREQ(r->paths[0], "/var/lib/postgresql", "rule 1 path");
	if (ASSERT_EQ(r->exclude.n_exes, 1, "rule 1 exes"))
		ASSERT_STREQ(r->exclude.exes[0], "/usr/lib/postgresql/*/bin/postgres",
			     "rule 1 exe");
	ASSERT_EQ(r->exclude.n_comms + r->exclude.n_uids, 0, "rule 1 other excludes");

	r = &cfg->rules[2];
	ASSERT_STREQ(r->name, "mysql-data", "rule 2 name");
	ASSERT_EQ(r->n_tags, 2, "rule 2 tags");
	ASSERT_STREQ(r->tags[0], "customer-data", "rule 2 tag 0");
	ASSERT_STREQ(r->tags[1], "database", "rule 2 tag 1");
	ASSERT_EQ(r->n_paths, 1, "rule 2 paths");
	ASSERT_STREQ(r->paths[0], "/var/lib/mysql", "rule 2 path");
	if (ASSERT_EQ(r->exclude.n_exes, 2, "rule 2 exes")) {
		ASSERT_STREQ(r->exclude.exes[0], "/usr/sbin/mariadbd", "rule 2 exe 0");
		ASSERT_STREQ(r->exclude.exes[1], "/usr/sbin/mysqld", "rule 2 exe 1");
	}

	ASSERT_EQ(cfg->exclude.n_comms + cfg->exclude.n_exes + cfg->exclude.n_uids, 0, "excludes");
	ASSERT_EQ(cfg->flush_interval_s, CONFIG_FLUSH_INTERVAL_DEFAULT, "flush_interval");
	ASSERT_EQ(cfg->heartbeat_interval_s, CONFIG_HEARTBEAT_INTERVAL_DEFAULT,
		  "heartbeat_interval");
	ASSERT_EQ(cfg->ring_buffer_mb, CONFIG_RING_BUFFER_MB_DEFAULT, "ring_buffer_mb");
free_cfg:
	config_free(cfg);
}

static const char full_text[] =
    "{\n"
    "  \"watch\": [\n"
    "    {\"name\": \"customer-data\", \"tags\": [\"customer-data\", \"pii\"],\n"
    "     \"paths\": [\"/srv/crm\", \"/srv/exports/*.csv\", \"/var/lib/app/customers.db\"],\n"
    "     \"exclude\": {\"comm\": [\"backupd\"], \"exe\": [\"/usr/sbin/backupd\"], \"uid\": "
    "[123]}},\n"
    "    {\"name\": \"Logs_2.0\", \"tags\": [], \"paths\": [\"/var/log/caf\\u00e9\"],\n"
    "     \"exclude\": {\"comm\": [\"rsync\", \"123456789012345\"], \"uid\": [0, "
    "4294967294]}}\n"
    "  ],\n"
    "  \"exclude\": {\"comm\": [\"updatedb\"], \"exe\": [\"/usr/bin/*\", \"/opt/x/bin/y\"], "
    "\"uid\": [7]},\n"
    "  \"flush_interval\": 86400,\n"
    "  \"heartbeat_interval\": 0,\n"
    "  \"ring_buffer_mb\": 1024,\n"
    "  \"queue_mb\": 512\n"
    "}\n";

TEST(config_full)
{
	struct config *cfg = load_ok(full_text);
	const struct config_rule *r;

	if (!cfg)
		return;
	ASSERT_STREQ(cfg->source, "test.json", "source");
	if (!ASSERT_EQ(cfg->n_rules, 2, "rules"))
		goto free_cfg;

	r = &cfg->rules[0];
	ASSERT_STREQ(r->name, "customer-data", "rule 0 name");
	if (ASSERT_EQ(r->n_tags, 2, "rule 0 tags")) {
		ASSERT_STREQ(r->tags[0], "customer-data", "tag 0");
		ASSERT_STREQ(r->tags[1], "pii", "tag 1");
	}
	if (ASSERT_EQ(r->n_paths, 3, "rule 0 paths")) {
		ASSERT_STREQ(r->paths[0], "/srv/crm", "path 0");
		ASSERT_STREQ(r->paths[1], "/srv/exports/*.csv", "path 1");
		ASSERT_STREQ(r->paths[2], "/var/lib/app/customers.db", "path 2");
	}
	if (ASSERT_EQ(r->exclude.n_comms, 1, "rule 0 comms"))
		ASSERT_STREQ(r->exclude.comms[0], "backupd", "rule 0 comm");
	if (ASSERT_EQ(r->exclude.n_exes, 1, "rule 0 exes"))
		ASSERT_STREQ(r->exclude.exes[0], "/usr/sbin/backupd", "rule 0 exe");
	if (ASSERT_EQ(r->exclude.n_uids, 1, "rule 0 uids"))
		ASSERT_EQ(r->exclude.uids[0], 123, "rule 0 uid");

	r = &cfg->rules[1];
	ASSERT_STREQ(r->name, "Logs_2.0", "rule 1 name");
	ASSERT_EQ(r->n_tags, 0, "rule 1 tags");
	if (ASSERT_EQ(r->n_paths, 1, "rule 1 paths"))
		ASSERT_STREQ(r->paths[0], "/var/log/caf\xc3\xa9", "rule 1 path, unescaped");
	if (ASSERT_EQ(r->exclude.n_comms, 2, "rule 1 comms")) {
		ASSERT_STREQ(r->exclude.comms[0], "rsync", "rule 1 comm 0");
		ASSERT_STREQ(r->exclude.comms[1], "123456789012345", "rule 1 comm 1 (15 bytes)");
	}
	ASSERT_EQ(r->exclude.n_exes, 0, "rule 1 exes");
	if (ASSERT_EQ(r->exclude.n_uids, 2, "rule 1 uids")) {
		ASSERT_EQ(r->exclude.uids[0], 0, "rule 1 uid 0");
		ASSERT_EQ(r->exclude.uids[1], 4294967294u, "rule 1 uid 1");
	}

	if (ASSERT_EQ(cfg->exclude.n_comms, 1, "comms"))
		ASSERT_STREQ(cfg->exclude.comms[0], "updatedb", "comm");
	if (ASSERT_EQ(cfg->exclude.n_exes, 2, "exes")) {
		ASSERT_STREQ(cfg->exclude.exes[0], "/usr/bin/*", "exe 0");
		ASSERT_STREQ(cfg->exclude.exes[1], "/opt/x/bin/y", "exe 1");
	}
	if (ASSERT_EQ(cfg->exclude.n_uids, 1, "uids"))
		ASSERT_EQ(cfg->exclude.uids[0], 7, "uid");
	ASSERT_EQ(cfg->flush_interval_s, 86400, "flush_interval");
	ASSERT_EQ(cfg->heartbeat_interval_s, 0, "heartbeat_interval");
	ASSERT_EQ(cfg->ring_buffer_mb, 1024, "ring_buffer_mb");
	ASSERT_EQ(cfg->queue_mb, 512, "queue_mb");
free_cfg:
	config_free(cfg);
}

TEST(config_limits_accepted)
{
	static const char *const texts[] = {
	    "{'watch': [{'name': 'r', 'paths': ['/a']}], 'flush_interval': 1}",
	    "{'watch': [{'name': 'r', 'paths': ['/a']}], 'heartbeat_interval': 86400}",
	    "{'watch': [{'name': 'r', 'paths': ['/a']}], 'ring_buffer_mb': 1}",
	    "{'watch': [{'name': 'r', 'paths': ['/a']}], 'ring_buffer_mb': 64}",
	    "{'watch': [{'name': "
	    "'a123456789012345678901234567890123456789012345678901234567890123', "
	    "'paths': ['/a']}]}",
	    "{'watch': [{'name': 'r', 'paths': ['/'], 'exclude': {}}], 'exclude': {'comm': []}}",
	    " \n\t{'watch':[{'paths':['/a'],'name':'r'}]} \n\n",
	};
	struct config *cfg;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cfg = load_ok(j(texts[i]));
		config_free(cfg);
	}
}

TEST(config_syntax_error)
{
	EXPECT_ERROR(j("{\n  'watch': [\n    {'name': 'a',}\n  ]\n}"), 3, 18, "invalid JSON",
		     "expected");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}]} x"), 1, 45, "invalid JSON",
		     "end of file expected");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}]"), 1, 42, "invalid JSON",
		     "'}' expected");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'flush_interval': "
		       "99999999999999999999}"),
		     1, 63, "invalid JSON", "too big integer");
	/* the raw control character is refused by jansson */
	EXPECT_ERROR(RULE("'tags': ['a\tb']"), 1, 53, "invalid JSON", "control character");
	EXPECT_ERROR("\xef\xbb\xbf{}", 1, 1, "byte order mark", "expected JSON text");
}

TEST(config_empty)
{
	EXPECT_ERROR("", 0, 0, "empty", "expected a JSON object");
	EXPECT_ERROR(" \n\t\r\n", 0, 0, "empty", "expected a JSON object");
}

TEST(config_top_level_not_object)
{
	EXPECT_ERROR("[1, 2]", 1, 1, "the top level is an array", "expected an object");
	EXPECT_ERROR("\n  \"watch\"", 2, 3, "the top level is a string", "expected an object");
	EXPECT_ERROR("42", 1, 1, "the top level is a number", "expected an object");
	EXPECT_ERROR("null", 1, 1, "the top level is null", "expected an object");
}

TEST(config_unknown_keys)
{
	EXPECT_ERROR(
	    j("{\n  'watch': [{'name': 'r', 'paths': ['/a']}],\n  'wacth': []\n}"), 3, 3,
	    "unknown key \"wacth\" at the top level (expected one of: watch, endpoints, exclude, "
	    "flush_interval, heartbeat_interval, ring_buffer_mb, queue_mb, databases, outputs, ");
	EXPECT_ERROR(
	    j("{'watch': [{'name': 'r', 'paths': ['/a']},\n"
	      "           {'name': 's', 'path': ['/b'], 'paths': ['/b']}]}"),
	    2, 26,
	    "unknown key \"path\" in watch[1] (\"s\") (expected one of: name, tags, paths, "
	    "exclude)");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
		       " 'exclude': {'comm': [], 'users': [1]}}"),
		     2, 26, "unknown key \"users\" in exclude (expected one of: comm, exe, uid)");
	EXPECT_ERROR(RULE("'exclude': {'exe': ['/x'],\n\t'pid': 1}"), 2, 2,
		     "unknown key \"pid\" in watch[0].exclude (expected one of: comm, exe, uid)");
	/* a key with escapes is found where it is, and shown unescaped */
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'w\\u00e9\\n': 1}"), 1, 45,
		     "unknown key \"w\xc3\xa9\\n\" at the top level");
	/* keys the locator must skip past: strings with brackets, quotes and escapes */
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a]}', '/\\'{[\\\\'], 'tags': [[]]}],"
		       " 'x': 1}"),
		     1, 72, "unknown key \"x\"");
}

TEST(config_wrong_types)
{
	EXPECT_ERROR(j("{'watch': [{'name': 'customer-data', 'paths': 3}]}"), 1, 47,
		     "\"paths\" of watch[0] (\"customer-data\") must be an array of strings, not a "
		     "number");
	EXPECT_ERROR(j("{'watch': {}}"), 1, 11,
		     "\"watch\" must be an array of rules, not an object", "expected");
	EXPECT_ERROR(j("{'watch': ['/srv']}"), 1, 12, "watch[0] must be an object, not a string",
		     "expected a rule");
	EXPECT_ERROR(j("{'watch': [{'name': 5, 'paths': ['/a']}]}"), 1, 21,
		     "\"name\" of watch[0] must be a string, not a number", "expected 1 to 64");
	EXPECT_ERROR(RULE("'tags': 'pii'"), 1, 51,
		     "\"tags\" of watch[0] (\"r\") must be an array of strings, not a string",
		     "expected");
	EXPECT_ERROR(RULE("'tags': ['a', null]"), 1, 57,
		     "watch[0].tags[1] must be a string, not null", "expected a tag");
	EXPECT_ERROR(RULE("'exclude': []"), 1, 54,
		     "\"exclude\" of watch[0] (\"r\") must be an object, not an array",
		     "expected {\"comm\"");
	EXPECT_ERROR(RULE("'exclude': {'comm': 'x'}"), 1, 63,
		     "\"comm\" of watch[0].exclude must be an array of strings, not a string",
		     "expected each to be a process name");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'exclude': {'uid': [true]}}"),
		     1, 65, "exclude.uid[0] must be an integer, not a boolean",
		     "expected a uid from 0 to 4294967294");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'exclude': {'uid': 0}}"), 1, 64,
		     "\"uid\" of exclude must be an array of integers, not a number", "expected");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'flush_interval': '30'}"), 1,
		     63, "\"flush_interval\" must be an integer, not a string",
		     "expected an integer number of seconds from 1 to 86400");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'ring_buffer_mb': 16.0}"), 1,
		     63, "\"ring_buffer_mb\" must be an integer, not a real number",
		     "expected a power of two");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'heartbeat_interval': null}"),
		     1, 67, "\"heartbeat_interval\" must be an integer, not null", "expected");
}

TEST(config_missing_keys)
{
	EXPECT_ERROR("{}", 1, 1, "missing key \"watch\" at the top level", "expected an array");
	EXPECT_ERROR(j("\n\n  {'flush_interval': 5}"), 3, 3, "missing key \"watch\"", "expected");
	EXPECT_ERROR(j("{'watch': []}"), 1, 11, "\"watch\" is empty", "expected at least one rule");
	EXPECT_ERROR(j("{'watch': [\n  {'name': 'r', 'paths': ['/a']},\n  {'paths': ['/b']}]}"), 3,
		     3, "missing key \"name\" in watch[1]", "expected a rule name");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'tags': []}]}"), 1, 12,
		     "missing key \"paths\" in watch[0] (\"r\")", "expected an array of absolute");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': []}]}"), 1, 35,
		     "\"paths\" of watch[0] (\"r\") is empty", "expected at least one absolute");
}

TEST(config_bad_values)
{
	EXPECT_ERROR(j("{'watch': [\n"
		       "  {'name': 'a', 'paths': ['/a']},\n"
		       "  {'name': 'b', 'paths': ['/x', '/y', 'srv/x']}]}"),
		     3, 39,
		     "watch[1].paths[2]: \"srv/x\" is not an absolute path (expected a path "
		     "starting with \"/\")");
	EXPECT_ERROR(j("{'watch': [{'name': 'a', 'paths': ['']}]}"), 1, 36,
		     "watch[0].paths[0] is empty", "expected an absolute path");
	EXPECT_ERROR(j("{'watch': [{'name': 'a', 'paths': ['/a']}], 'exclude': {'exe': ['x']}}"), 1,
		     65, "exclude.exe[0]: \"x\" is not an absolute path", "expected a path");
	EXPECT_ERROR(RULE("'tags': ['']"), 1, 52, "watch[0].tags[0] is empty", "expected a tag");
	EXPECT_ERROR(j("{'watch': [{'name': 'a b', 'paths': ['/a']}]}"), 1, 21,
		     "watch[0].name: \"a b\" is not a valid rule name",
		     "expected 1 to 64 characters from A-Z, a-z, 0-9");
	EXPECT_ERROR(j("{'watch': [{'name': '', 'paths': ['/a']}]}"), 1, 21,
		     "is not a valid rule name");
	EXPECT_ERROR(j("{'watch': [{'name': "
		       "'a1234567890123456789012345678901234567890123456789012345678901234', "
		       "'paths': ['/a']}]}"),
		     1, 21, "is not a valid rule name", "expected 1 to 64 characters");
}

TEST(config_duplicate_names)
{
	EXPECT_ERROR(j("{'watch': [\n"
		       "  {'name': 'crm', 'paths': ['/a']},\n"
		       "  {'name': 'web', 'paths': ['/b']},\n"
		       "  {'name': 'crm', 'paths': ['/c']}]}"),
		     4, 12,
		     "\"name\" \"crm\" is used by watch[0] and watch[2] (rule names must be "
		     "unique)");
}

TEST(config_duplicate_keys)
{
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
		       " 'flush_interval': 5, 'flush_interval': 6}"),
		     2, 23, "duplicate key \"flush_interval\"", "expected each key once");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a'], 'name': 's'}]}"), 1, 43,
		     "duplicate key \"name\"", "expected each key once");
	/* the key is found by its opening quote even with escaped quotes inside */
	EXPECT_ERROR(j("{'a\\'b': 1, 'a\\'b': 2}"), 1, 13, "duplicate key \"a\\\"b\"");
}

TEST(config_comm)
{
	EXPECT_ERROR(RULE("'exclude': {'comm': ['ok', '1234567890123456']}"), 1, 70,
		     "watch[0].exclude.comm[1]: \"1234567890123456\" is 16 bytes long",
		     "expected a process name of 1 to 15 bytes");
	EXPECT_ERROR(RULE("'exclude': {'comm': ['']}"), 1, 64, "watch[0].exclude.comm[0] is empty",
		     "expected a process name");
	/* bytes, not characters: 8 two-byte characters */
	EXPECT_ERROR(RULE("'exclude': {'comm': ['\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
			  "\xc3\xa9\xc3\xa9']}"),
		     1, 64, "is 16 bytes long", "expected a process name of 1 to 15 bytes");
}

TEST(config_long_value_in_message)
{
	char text[512], comm[201];

	memset(comm, 'c', 200);
	comm[200] = '\0';
	snprintf(text, sizeof(text), "%s%s\"]}}",
		 j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'exclude': {'comm': ['"), comm);
	/* the value is cut short, the message still says what was expected */
	EXPECT_ERROR(text, 1, 66, "exclude.comm[0]: \"ccccccccc", "ccc...\" is 200 bytes long",
		     "expected a process name of 1 to 15 bytes");
}

TEST(config_uid)
{
	static const char *const bad[] = {"4294967295", "-1", "99999999999"};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s]}}",
			 j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'exclude': {'uid': [1, "),
			 bad[i]);
		EXPECT_ERROR(text, 1, 68, "exclude.uid[1] is ", bad[i], "out of range",
			     "expected a uid from 0 to 4294967294");
	}
	EXPECT_ERROR(RULE("'exclude': {'uid': ['0']}"), 1, 63,
		     "watch[0].exclude.uid[0] must be an integer, not a string", "expected a uid");
	EXPECT_ERROR(RULE("'exclude': {'uid': [1.5]}"), 1, 63,
		     "watch[0].exclude.uid[0] must be an integer, not a real number",
		     "expected a uid");
}

TEST(config_intervals)
{
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'flush_interval': 0}"), 1, 63,
		     "\"flush_interval\" is 0",
		     "expected an integer number of seconds from 1 to 86400");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'flush_interval': 86401}"), 1,
		     63, "\"flush_interval\" is 86401", "from 1 to 86400");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'heartbeat_interval': -1}"), 1,
		     67, "\"heartbeat_interval\" is -1", "from 0 to 86400");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'heartbeat_interval': 86401}"),
		     1, 67, "\"heartbeat_interval\" is 86401", "from 0 to 86400");
}

TEST(config_ring_buffer_mb)
{
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'ring_buffer_mb': 3}"), 2, 20,
		     "\"ring_buffer_mb\" is 3", "expected a power of two from 1 to 1024");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'ring_buffer_mb': 0}"), 1, 63,
		     "\"ring_buffer_mb\" is 0", "expected a power of two");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'ring_buffer_mb': 2048}"), 1,
		     63, "\"ring_buffer_mb\" is 2048", "expected a power of two from 1 to 1024");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'ring_buffer_mb': -16}"), 1, 63,
		     "\"ring_buffer_mb\" is -16", "expected a power of two");
}

TEST(config_invalid_utf8)
{
	/* a Latin-1 "é" */
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/caf\xe9']}]}"), 1, 41,
		     "byte 0xe9 is not valid UTF-8", "expected UTF-8 text");
	/* a lone continuation byte after valid multi-byte characters: columns count characters */
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'tags': ['\xc3\xa9\xc3\xa9', '\x80']}]}"), 1, 42,
		     "byte 0x80 is not valid UTF-8");
	/* truncated, overlong and surrogate sequences */
	EXPECT_ERROR(j("{'a': '\xc3'}"), 1, 8, "byte 0xc3 is not valid UTF-8");
	EXPECT_ERROR(j("{'a': '\xc0\xaf'}"), 1, 8, "byte 0xc0 is not valid UTF-8");
	EXPECT_ERROR(j("{'a': '\xe0\x80\xaf'}"), 1, 8, "byte 0xe0 is not valid UTF-8");
	EXPECT_ERROR(j("{'a': '\xed\xa0\x80'}"), 1, 8, "byte 0xed is not valid UTF-8");
	EXPECT_ERROR(j("{'a': '\xf4\x90\x80\x80'}"), 1, 8, "byte 0xf4 is not valid UTF-8");
	EXPECT_ERROR(j("\n{'a':\xff}"), 2, 6, "byte 0xff is not valid UTF-8");
}

TEST(config_columns_count_characters)
{
	/* jansson's column counts characters; positions found by the locator must agree */
	EXPECT_ERROR(j("{'\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80': 1 x}"), 1, 11, "invalid JSON");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'tags': ['\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'], "
		       "'paths': ['/a'], 'x': 1}]}"),
		     1, 60, "unknown key \"x\" in watch[0] (\"r\")");
	/* a tab is one column, like any character */
	EXPECT_ERROR(j("{\t\t'x': 1}"), 1, 4, "unknown key \"x\"");
}

TEST(config_control_characters)
{
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a', '/srv/a\\tb']}]}"), 1, 42,
		     "watch[0].paths[1]: \"/srv/a\\tb\" contains a control character",
		     "expected an absolute path without control characters");
	EXPECT_ERROR(RULE("'tags': ['x\\u007f']"), 1, 52, "watch[0].tags[0]",
		     "contains a control character", "expected a tag without control");
	EXPECT_ERROR(RULE("'exclude': {'exe': ['/bin/\\u0085']}"), 1, 63,
		     "\"/bin/\\u0085\" contains a control character");
	EXPECT_ERROR(RULE("'exclude': {'comm': ['a\\nb']}"), 1, 64, "contains a control character",
		     "expected a process name without control characters");
	/* jansson refuses \u0000 unless asked not to */
	EXPECT_ERROR(RULE("'tags': ['a\\u0000']"), 1, 52, "invalid JSON", "\\u0000");
}

static char *rules_text(size_t n)
{
	char *text = malloc(64 + n * 48), *p = text;
	size_t i;

	if (!text)
		return NULL;
	p += sprintf(p, "{\"watch\": [\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "  {\"name\": \"r%zu\", \"paths\": [\"/d/%zu\"]}%s\n", i, i,
			     i + 1 < n ? "," : "");
	sprintf(p, "]}\n");
	return text;
}

TEST(config_too_many_rules)
{
	char *text = rules_text(CONFIG_RULES_MAX);
	struct config *cfg;

	if (!ASSERT_OK_PTR(text, "rules_text"))
		return;
	cfg = load_ok(text);
	if (cfg)
		ASSERT_EQ(cfg->n_rules, CONFIG_RULES_MAX, "rules");
	config_free(cfg);
	free(text);

	text = rules_text(CONFIG_RULES_MAX + 1);
	if (!ASSERT_OK_PTR(text, "rules_text"))
		return;
	EXPECT_ERROR(text, 2 + CONFIG_RULES_MAX, 3, "\"watch\" has 64 rules",
		     "expected at most 63");
	free(text);
}

static int write_temp(char *path, const char *data, size_t len)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	return 0;
}

static bool write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

/* Include files: joined arrays, one-file keys, errors in the include file's own positions. */
TEST(config_include_dir)
{
	char dir[] = "/tmp/custos-test-include-XXXXXX", main[64], inc[64], path[128];
	struct config_error err;
	struct config *cfg = NULL, *plain = NULL;

	if (!ASSERT_OK_PTR(mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(main, sizeof(main), "%s/custos.json", dir);
	snprintf(inc, sizeof(inc), "%s/conf.d", dir);
	if (!ASSERT_OK(mkdir(inc, 0755), "mkdir conf.d") ||
	    !ASSERT_TRUE(write_file(dir, "custos.json",
				    "{\"watch\": [{\"name\": \"a\", \"paths\": [\"/a\"]}],\n"
				    " \"flush_interval\": 5}\n"),
			 "main") ||
	    !ASSERT_TRUE(write_file(inc, "20-b.json",
				    "// b\n{\"watch\": [{\"name\": \"b\", \"paths\": [\"/b\"]},\n"
				    "           {\"name\": \"c\", \"paths\": [\"/c\"]}]}\n"),
			 "20-b") ||
	    !ASSERT_TRUE(write_file(inc, "10-out.json", "{\"outputs\": [{\"type\": \"stdout\"}]}"),
			 "10-out") ||
	    !ASSERT_TRUE(write_file(inc, "x.txt", "not json"), "x.txt"))
		goto cleanup;
	cfg = config_load_file(main, &err);
	if (!ASSERT_OK_PTR(cfg, err.message))
		goto cleanup;
	ASSERT_EQ(cfg->n_rules, 3, "watch rules joined");
	ASSERT_STREQ(cfg->rules[2].name, "c", "in file order");
	ASSERT_EQ(cfg->n_outputs, 1, "outputs from 10-out.json");
	ASSERT_EQ(cfg->flush_interval_s, 5, "flush_interval from the main file");
	ASSERT_EQ(cfg->n_includes, 2, "include files");
	snprintf(path, sizeof(path), "%s/10-out.json", inc);
	ASSERT_STREQ(cfg->includes[0], path, "name order");
	plain = config_load_string("{\"watch\": [{\"name\": \"a\", \"paths\": [\"/a\"]}],\n"
				   " \"flush_interval\": 5}\n",
				   "s", &err);
	if (ASSERT_OK_PTR(plain, err.message))
		ASSERT_TRUE(strcmp(plain->digest, cfg->digest) != 0, "the digest covers includes");
	config_free(cfg);

	/* watch[2] is the second rule of 20-b.json: its error is there */
	ASSERT_TRUE(write_file(inc, "20-b.json",
			       "// b\n{\"watch\": [{\"name\": \"b\", \"paths\": [\"/b\"]},\n"
			       "           {\"name\": \"c\", \"paths\": [\"c\"]}]}\n"),
		    "20-b relative");
	cfg = config_load_file(main, &err);
	ASSERT_NULL(cfg, "a relative path in an include file");
	snprintf(path, sizeof(path), "%s/20-b.json", inc);
	ASSERT_STREQ(err.source, path, "source: the include file");
	ASSERT_EQ(err.line, 3, "line in the include file");
	ASSERT_EQ(err.column, 36, "column in the include file");

	/* a key set in two files */
	ASSERT_TRUE(write_file(inc, "20-b.json", "{\"flush_interval\": 9}"), "20-b scalar");
	cfg = config_load_file(main, &err);
	ASSERT_NULL(cfg, "flush_interval twice");
	ASSERT_STREQ(err.source, path, "source: the second file");
	ASSERT_EQ(err.line, 1, "line");
	ASSERT_EQ(err.column, 2, "column: the key");
	ASSERT_HAS(err.message, "is set already", "message");
	ASSERT_HAS(err.message, "custos.json:2:2", "message names the first place");

	/* "include_dir": "" reads none */
	ASSERT_TRUE(write_file(dir, "custos.json",
			       "{\"watch\": [{\"name\": \"a\", \"paths\": [\"/a\"]}],\n"
			       " \"include_dir\": \"\", \"flush_interval\": 5}\n"),
		    "main without includes");
	cfg = config_load_file(main, &err);
	if (ASSERT_OK_PTR(cfg, err.message))
		ASSERT_EQ(cfg->n_includes, 0, "include_dir \"\"");
cleanup:
	config_free(cfg);
	config_free(plain);
	snprintf(path, sizeof(path), "%s/20-b.json", inc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/10-out.json", inc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/x.txt", inc);
	unlink(path);
	rmdir(inc);
	unlink(main);
	rmdir(dir);
}

TEST(config_load_file)
{
	char path[] = "/tmp/custos-test-config-XXXXXX";
	struct config_error err;
	struct config *cfg;

	errno = 0;
	cfg = config_load_file("/nonexistent/custos.json", &err);
	ASSERT_NULL(cfg, "missing file");
	ASSERT_EQ(errno, ENOENT, "errno");
	ASSERT_STREQ(err.source, "/nonexistent/custos.json", "source");
	ASSERT_EQ(err.line, 0, "line");
	ASSERT_HAS(err.message, "cannot read", "message");
	ASSERT_HAS(err.message, strerror(ENOENT), "message");
	config_free(cfg);

	errno = 0;
	cfg = config_load_file("/tmp", &err);
	ASSERT_NULL(cfg, "directory");
	ASSERT_EQ(errno, EISDIR, "errno");
	ASSERT_HAS(err.message, strerror(EISDIR), "message");
	config_free(cfg);

	if (!ASSERT_OK(write_temp(path, full_text, strlen(full_text)), "write_temp"))
		return;
	cfg = config_load_file(path, &err);
	if (ASSERT_OK_PTR(cfg, err.message)) {
		ASSERT_STREQ(cfg->source, path, "source");
		ASSERT_EQ(cfg->n_rules, 2, "rules");
		ASSERT_EQ(cfg->ring_buffer_mb, 1024, "ring_buffer_mb");
	}
	config_free(cfg);
	unlink(path);

	/* errors name the file; a NUL byte is refused where it is */
	strcpy(path, "/tmp/custos-test-config-XXXXXX");
	if (!ASSERT_OK(write_temp(path, "{\n  \"watch\"\0: []}", 17), "write_temp"))
		return;
	errno = 0;
	cfg = config_load_file(path, &err);
	ASSERT_NULL(cfg, "NUL byte");
	ASSERT_EQ(errno, EINVAL, "errno");
	ASSERT_STREQ(err.source, path, "source");
	ASSERT_EQ(err.line, 2, "line");
	ASSERT_EQ(err.column, 10, "column");
	ASSERT_HAS(err.message, "NUL byte", "message");
	config_free(cfg);
	unlink(path);

	/* an empty file */
	strcpy(path, "/tmp/custos-test-config-XXXXXX");
	if (!ASSERT_OK(write_temp(path, "", 0), "write_temp"))
		return;
	cfg = config_load_file(path, &err);
	ASSERT_NULL(cfg, "empty file");
	ASSERT_EQ(err.line, 0, "line");
	ASSERT_HAS(err.message, "empty", "message");
	config_free(cfg);
	unlink(path);
}

TEST(config_null_arguments)
{
	struct config *cfg;

	/* err and source are optional */
	cfg = config_load_string(j("{'watch': [{'name': 'r', 'paths': ['/a']}]}"), NULL, NULL);
	if (ASSERT_OK_PTR(cfg, "no err, no source"))
		ASSERT_STREQ(cfg->source, "<string>", "source");
	config_free(cfg);
	errno = 0;
	ASSERT_NULL(config_load_string("{}", NULL, NULL), "invalid, no err");
	ASSERT_EQ(errno, EINVAL, "errno");
	errno = 0;
	ASSERT_NULL(config_load_string(NULL, "x", NULL), "no text");
	ASSERT_EQ(errno, EINVAL, "errno");
	config_free(NULL);
}

TEST(config_from_paths)
{
	char *paths[] = {"/srv/a", "/srv/b/*.csv"};
	char *relative[] = {"/srv/a", "srv/b"};
	struct config *cfg;

	cfg = config_from_paths(paths, 2);
	if (!ASSERT_OK_PTR(cfg, "config_from_paths"))
		return;
	if (ASSERT_EQ(cfg->n_rules, 1, "rules")) {
		ASSERT_STREQ(cfg->rules[0].name, "trace", "name");
		ASSERT_EQ(cfg->rules[0].n_tags, 0, "tags");
		if (ASSERT_EQ(cfg->rules[0].n_paths, 2, "paths")) {
			ASSERT_STREQ(cfg->rules[0].paths[0], "/srv/a", "path 0");
			ASSERT_STREQ(cfg->rules[0].paths[1], "/srv/b/*.csv", "path 1");
			ASSERT_TRUE(cfg->rules[0].paths[0] != paths[0], "paths are copies");
		}
		ASSERT_EQ(cfg->rules[0].exclude.n_comms + cfg->rules[0].exclude.n_exes +
			      cfg->rules[0].exclude.n_uids,
			  0, "rule excludes");
	}
	ASSERT_EQ(cfg->exclude.n_comms + cfg->exclude.n_exes + cfg->exclude.n_uids, 0, "excludes");
	ASSERT_EQ(cfg->flush_interval_s, CONFIG_FLUSH_INTERVAL_DEFAULT, "flush_interval");
	ASSERT_EQ(cfg->heartbeat_interval_s, CONFIG_HEARTBEAT_INTERVAL_DEFAULT,
		  "heartbeat_interval");
	ASSERT_EQ(cfg->ring_buffer_mb, CONFIG_RING_BUFFER_MB_DEFAULT, "ring_buffer_mb");
	ASSERT_OK_PTR(cfg->source, "source");
	config_free(cfg);

	errno = 0;
	ASSERT_NULL(config_from_paths(paths, 0), "no paths");
	ASSERT_EQ(errno, EINVAL, "errno");
	errno = 0;
	ASSERT_NULL(config_from_paths(relative, 2), "relative path");
	ASSERT_EQ(errno, EINVAL, "errno");
}

TEST(config_error_format)
{
	struct config_error err = {.source = "/etc/custos.json", .line = 3, .column = 7};
	char buf[256];

	snprintf(err.message, sizeof(err.message), "unknown key \"x\"");
	config_error_format(&err, buf, sizeof(buf));
	ASSERT_STREQ(buf, "/etc/custos.json:3:7: unknown key \"x\"", "with a position");

	err.line = 0;
	err.column = 0;
	snprintf(err.message, sizeof(err.message), "cannot read: %s", strerror(ENOENT));
	config_error_format(&err, buf, sizeof(buf));
	ASSERT_HAS(buf, "/etc/custos.json: cannot read: ", "without a position");
	ASSERT_FALSE(strstr(buf, ":0:"), "no line 0");

	config_error_format(&err, buf, 8);
	ASSERT_STREQ(buf, "/etc/cu", "truncated");

	/* a real error, end to end */
	ASSERT_NULL(config_load_string("[]", "cfg.json", &err), "load");
	config_error_format(&err, buf, sizeof(buf));
	ASSERT_HAS(buf, "cfg.json:1:1: the top level is an array", "formatted");
}

TEST(json_locate)
{
	static const char text[] = "{\"a\": [1, {\"b\\u00e9\": \"x]}\\\"\", \"c\": [[], {}]}],\n"
				   " \"d\": {\"e\": true}, \"\\ud83d\\ude00\": null}";
	struct json_pos pos;
	size_t len = strlen(text);

	ASSERT_OK(json_locate(text, len, NULL, 0, false, &pos), "top");
	ASSERT_EQ(pos.line * 1000 + pos.column, 1001, "top position");
	ASSERT_OK(json_locate(text, len,
			      (struct json_step[]){JSON_KEY("a"), JSON_INDEX(1), JSON_KEY("c"),
						   JSON_INDEX(1)},
			      4, false, &pos),
		  "a[1].c[1]");
	ASSERT_EQ(pos.line * 1000 + pos.column, 1042, "a[1].c[1] position");
	ASSERT_OK(
	    json_locate(text, len,
			(struct json_step[]){JSON_KEY("a"), JSON_INDEX(1), JSON_KEY("b\xc3\xa9")},
			3, true, &pos),
	    "key with an escape");
	ASSERT_EQ(pos.line * 1000 + pos.column, 1012, "key position");
	ASSERT_OK(json_locate(text, len, (struct json_step[]){JSON_KEY("d"), JSON_KEY("e")}, 2,
			      false, &pos),
		  "d.e");
	ASSERT_EQ(pos.line * 1000 + pos.column, 2013, "d.e position");
	ASSERT_EQ(pos.offset, 60, "d.e offset");
	ASSERT_OK(json_locate(text, len, (struct json_step[]){JSON_KEY("\xf0\x9f\x98\x80")}, 1,
			      true, &pos),
		  "surrogate pair key");
	ASSERT_EQ(pos.line * 1000 + pos.column, 2020, "surrogate pair key position");

	ASSERT_EQ(json_locate(text, len, (struct json_step[]){JSON_KEY("b")}, 1, false, &pos),
		  -ENOENT, "missing key");
	ASSERT_EQ(json_locate(text, len, (struct json_step[]){JSON_KEY("a"), JSON_INDEX(2)}, 2,
			      false, &pos),
		  -ENOENT, "index past the end");
	ASSERT_EQ(json_locate(text, len, (struct json_step[]){JSON_INDEX(0)}, 1, false, &pos),
		  -ENOENT, "index into an object");
	ASSERT_EQ(json_locate(text, len, (struct json_step[]){JSON_KEY("a"), JSON_INDEX(0)}, 2,
			      true, &pos),
		  -EINVAL, "at_key on an index");
	ASSERT_EQ(json_locate("{\"a\": [1, 2", 11,
			      (struct json_step[]){JSON_KEY("a"), JSON_INDEX(5)}, 2, false, &pos),
		  -EINVAL, "truncated text");
	ASSERT_EQ(
	    json_locate("{\"a\": \"x", 8, (struct json_step[]){JSON_KEY("b")}, 1, false, &pos),
	    -EINVAL, "unterminated string");

	ASSERT_EQ(json_locate_invalid_utf8("a\xc3\xa9\xf0\x9f\x98\x80z", 8), 8, "valid UTF-8");
	ASSERT_EQ(json_locate_invalid_utf8("ab\xe2\x82", 4), 2, "truncated sequence");
}

TEST(config_databases)
{
	struct config_error err;
	struct config *cfg = config_load_string(
	    "{\"watch\": [{\"name\": \"r\", \"paths\": [\"/a\"]}],\n"
	    " \"databases\": {\"mysql\": false, \"raw_text\": true, \"sqlite_rows\": false,\n"
	    "  \"tables\": [\"public.customers\", \"crm.*\"], \"tags\": [\"pii\"],\n"
	    "  \"only_tables\": true}}",
	    "db", &err);

	if (!ASSERT_OK_PTR(cfg, err.message))
		return;
	ASSERT_TRUE(cfg->databases.postgresql && cfg->databases.sqlite, "defaults kept");
	ASSERT_FALSE(cfg->databases.mysql, "mysql off");
	ASSERT_TRUE(cfg->databases.raw_text && cfg->databases.only_tables, "flags");
	ASSERT_FALSE(cfg->databases.sqlite_rows, "sqlite_rows");
	ASSERT_EQ(cfg->databases.n_tables, 2, "tables");
	ASSERT_STREQ(cfg->databases.tables[1], "crm.*", "table pattern");
	ASSERT_EQ(cfg->databases.n_tags, 1, "tags replace the default");
	ASSERT_STREQ(cfg->databases.tags[0], "pii", "tag");
	config_free(cfg);
	cfg = config_load_default();
	if (ASSERT_OK_PTR(cfg, "default")) {
		ASSERT_TRUE(cfg->databases.postgresql && cfg->databases.mysql &&
				cfg->databases.sqlite && !cfg->databases.raw_text,
			    "default: every engine, redacted");
		ASSERT_STREQ(cfg->databases.tags[0], "customer-data", "default tag");
	}
	config_free(cfg);
	cfg = config_load_string("{\"watch\": [{\"name\": \"r\", \"paths\": [\"/a\"]}],\n"
				 " \"databases\": {\"postgresql\": \"yes\"}}",
				 "db", &err);
	ASSERT_NULL(cfg, "a string for a boolean is refused");
	ASSERT_EQ(err.line, 2, "line");
	ASSERT_HAS(err.message, "true or false", "says what is expected");
	config_free(cfg);
}

TEST(config_chain)
{
	struct config *cfg;

	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
			" 'chain': {'key_file': '/etc/custos/chain.key'}}"));
	if (cfg)
		ASSERT_STREQ(cfg->chain.key_file, "/etc/custos/chain.key", "key_file");
	config_free(cfg);
	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}]}"));
	if (cfg)
		ASSERT_NULL(cfg->chain.key_file, "no chain without \"chain\"");
	config_free(cfg);

	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'chain': '/etc/custos/k'}"), 1,
		     54, "\"chain\" must be an object, not a string",
		     "expected {\"key_file\": \"/etc/custos/chain.key\"}");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'chain': {'key': '/k'}}"), 1,
		     55, "unknown key \"key\" in chain (expected one of: key_file)");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'chain': {}}"), 2, 11,
		     "missing key \"key_file\" in chain", "expected the path of a key file");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'chain': {'key_file': 5}}"), 1,
		     67, "\"key_file\" of chain must be a string, not a number",
		     "expected an absolute path");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'chain': {'key_file': 'k'}}"),
		     1, 67, "chain.key_file: \"k\" is not an absolute path");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'chain': {'key_file': ''}}"), 1,
		     67, "chain.key_file is empty", "expected an absolute path");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'cain': {}}"), 1, 45,
		     "unknown key \"cain\" at the top level", ", chain");
}

TEST(config_egress)
{
	struct config *cfg;

	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}]}"));
	if (cfg)
		ASSERT_EQ(cfg->egress_window_s, CONFIG_EGRESS_WINDOW_DEFAULT, "default window");
	config_free(cfg);
	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'egress': {'window': 60}}"));
	if (cfg)
		ASSERT_EQ(cfg->egress_window_s, 60, "window");
	config_free(cfg);
	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'egress': {'window': 0}}"));
	if (cfg)
		ASSERT_EQ(cfg->egress_window_s, 0, "window 0: off");
	config_free(cfg);
	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'egress': false}"));
	if (cfg)
		ASSERT_EQ(cfg->egress_window_s, 0, "false: off");
	config_free(cfg);
	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'egress': true}"));
	if (cfg)
		ASSERT_EQ(cfg->egress_window_s, CONFIG_EGRESS_WINDOW_DEFAULT, "true: the default");
	config_free(cfg);
	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'egress': {}}"));
	if (cfg)
		ASSERT_EQ(cfg->egress_window_s, CONFIG_EGRESS_WINDOW_DEFAULT, "{}: the default");
	config_free(cfg);
	cfg = load_ok(
	    j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'egress': {'window': 2592000}}"));
	if (cfg)
		ASSERT_EQ(cfg->egress_window_s, 2592000, "30 days");
	config_free(cfg);

	EXPECT_ERROR(
	    j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'egress': {'window': '1h'}}"), 2, 23,
	    "\"window\" of egress must be an integer, not a string",
	    "expected an integer number of seconds from 0 to 2592000, 0 to turn egress off");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'egress': {'window': -1}}"),
		     2, 23, "\"window\" of egress is -1", "from 0 to 2592000");
	EXPECT_ERROR(
	    j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'egress': {'window': 2592001}}"), 2,
	    23, "\"window\" of egress is 2592001", "from 0 to 2592000");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'egress': {'window': 1.5}}"),
		     2, 23, "\"window\" of egress must be an integer, not a real number");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'egress': {'windows': 1}}"),
		     2, 13, "unknown key \"windows\" in egress (expected one of: window)");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n 'egress': 3600}"), 2, 12,
		     "\"egress\" must be an object or a boolean, not a number",
		     "expected {\"window\": 3600}, or false to turn egress off");
}

/* A config with one rule and one endpoint around the endpoint's other members. */
#define EP_PREFIX   "{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoints': [{'name': 'e', "
#define EP(members) j(EP_PREFIX members "}]}")

static bool prefix_is(const struct config_prefix *px, int family, const char *addr, int bits)
{
	uint8_t want[16] = {0};

	if (inet_pton(family, addr, want) != 1)
		return false;
	return px->family == family && px->bits == bits && !memcmp(px->addr, want, sizeof(want));
}

TEST(config_endpoints)
{
	struct config *cfg = load_ok(
	    j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
	      " 'endpoints': [\n"
	      "  {'name': 'crm-db', 'tags': ['customer-data', 'pii'], 'address': '10.1.2.0/24',\n"
	      "   'port': 5432, 'protocol': 'tcp'},\n"
	      "  {'name': 'orders-db', 'address': '::1', 'port': '3306-3307'},\n"
	      "  {'name': 'any-port', 'address': '127.0.0.1', 'protocol': 'udp'},\n"
	      "  {'name': 'v6-net', 'address': 'fd00:1::/64', 'port': '53-53', 'tags': []},\n"
	      "  {'name': 'mapped', 'address': '::ffff:10.0.0.1', 'port': 65535},\n"
	      "  {'name': 'mapped-net', 'address': '::ffff:10.1.0.0/112', 'port': '1-65535'},\n"
	      "  {'name': 'all-mapped', 'address': '::ffff:0:0/96'},\n"
	      "  {'name': 'everything', 'address': '0.0.0.0/0'},\n"
	      "  {'name': 'one', 'address': '192.168.1.7/32'},\n"
	      "  {'name': 'odd-bits', 'address': '10.1.2.128/25'}\n"
	      " ]}"));
	const struct config_endpoint *e;

	if (!cfg)
		return;
	ASSERT_EQ(cfg->n_rules, 1, "rules");
	if (!ASSERT_EQ(cfg->n_endpoints, 10, "endpoints"))
		goto free_cfg;

	e = &cfg->endpoints[0];
	ASSERT_STREQ(e->name, "crm-db", "0 name");
	if (ASSERT_EQ(e->n_tags, 2, "0 tags")) {
		ASSERT_STREQ(e->tags[0], "customer-data", "0 tag 0");
		ASSERT_STREQ(e->tags[1], "pii", "0 tag 1");
	}
	ASSERT_STREQ(e->address, "10.1.2.0/24", "0 address as configured");
	if (ASSERT_EQ(e->n_prefixes, 1, "0 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "10.1.2.0", 24), "0 prefix");
	ASSERT_EQ(e->port_lo, 5432, "0 port_lo");
	ASSERT_EQ(e->port_hi, 5432, "0 port_hi");
	ASSERT_EQ(e->transport, IPPROTO_TCP, "0 tcp");

	e = &cfg->endpoints[1];
	ASSERT_STREQ(e->name, "orders-db", "1 name");
	ASSERT_EQ(e->n_tags, 0, "1 no tags");
	if (ASSERT_EQ(e->n_prefixes, 1, "1 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET6, "::1", 128), "1 prefix");
	ASSERT_EQ(e->port_lo, 3306, "1 port_lo");
	ASSERT_EQ(e->port_hi, 3307, "1 port_hi");
	ASSERT_EQ(e->transport, IPPROTO_TCP, "1 tcp by default");

	e = &cfg->endpoints[2];
	if (ASSERT_EQ(e->n_prefixes, 1, "2 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "127.0.0.1", 32), "2 prefix");
	ASSERT_EQ(e->port_lo, 0, "2 every port: lo");
	ASSERT_EQ(e->port_hi, 65535, "2 every port: hi");
	ASSERT_EQ(e->transport, IPPROTO_UDP, "2 udp");

	e = &cfg->endpoints[3];
	if (ASSERT_EQ(e->n_prefixes, 1, "3 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET6, "fd00:1::", 64), "3 prefix");
	ASSERT_EQ(e->port_lo, 53, "3 port_lo");
	ASSERT_EQ(e->port_hi, 53, "3 port_hi");
	ASSERT_EQ(e->n_tags, 0, "3 empty tags");

	/* IPv4-mapped IPv6 addresses and prefixes are stored as IPv4 */
	e = &cfg->endpoints[4];
	ASSERT_STREQ(e->address, "::ffff:10.0.0.1", "4 address as configured");
	if (ASSERT_EQ(e->n_prefixes, 1, "4 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "10.0.0.1", 32), "4 mapped");
	ASSERT_EQ(e->port_lo, 65535, "4 port_lo");
	ASSERT_EQ(e->port_hi, 65535, "4 port_hi");
	e = &cfg->endpoints[5];
	if (ASSERT_EQ(e->n_prefixes, 1, "5 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "10.1.0.0", 16), "5 mapped prefix");
	ASSERT_EQ(e->port_lo, 1, "5 port_lo");
	ASSERT_EQ(e->port_hi, 65535, "5 port_hi");
	/* the whole mapped range is every IPv4 address */
	e = &cfg->endpoints[6];
	if (ASSERT_EQ(e->n_prefixes, 1, "6 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "0.0.0.0", 0), "6 all mapped");

	e = &cfg->endpoints[7];
	if (ASSERT_EQ(e->n_prefixes, 1, "7 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "0.0.0.0", 0), "7 every address");
	e = &cfg->endpoints[8];
	if (ASSERT_EQ(e->n_prefixes, 1, "8 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "192.168.1.7", 32), "8 /32");
	e = &cfg->endpoints[9];
	if (ASSERT_EQ(e->n_prefixes, 1, "9 prefixes"))
		ASSERT_TRUE(prefix_is(&e->prefixes[0], AF_INET, "10.1.2.128", 25), "9 /25");
free_cfg:
	config_free(cfg);
}

TEST(config_endpoints_host_name)
{
	struct config *cfg = load_ok(EP("'address': 'localhost', 'port': 443"));
	const struct config_endpoint *e;
	size_t i, k;

	if (!cfg || !ASSERT_EQ(cfg->n_endpoints, 1, "endpoints"))
		goto free_cfg;
	e = &cfg->endpoints[0];
	ASSERT_STREQ(e->address, "localhost", "address as configured");
	/* 127.0.0.1, ::1 or both, each once, each a full-length prefix */
	ASSERT_TRUE(e->n_prefixes >= 1 && e->n_prefixes <= 2, "localhost: one or two addresses");
	for (i = 0; i < e->n_prefixes; i++) {
		ASSERT_TRUE(prefix_is(&e->prefixes[i], AF_INET, "127.0.0.1", 32) ||
				prefix_is(&e->prefixes[i], AF_INET6, "::1", 128),
			    "localhost resolves to 127.0.0.1/32 or ::1/128");
		for (k = 0; k < i; k++)
			ASSERT_FALSE(e->prefixes[k].family == e->prefixes[i].family,
				     "each address once");
	}
	ASSERT_EQ(e->port_lo, 443, "port");
	ASSERT_EQ(e->transport, IPPROTO_TCP, "tcp");
free_cfg:
	config_free(cfg);
}

TEST(config_endpoints_absent)
{
	struct config *cfg;

	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}]}"));
	if (cfg) {
		ASSERT_EQ(cfg->n_endpoints, 0, "no endpoints by default");
		ASSERT_NULL(cfg->endpoints, "no endpoint array");
	}
	config_free(cfg);
	cfg = load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoints': []}"));
	if (cfg)
		ASSERT_EQ(cfg->n_endpoints, 0, "an empty array is no endpoints");
	config_free(cfg);
	cfg = config_load_default();
	if (ASSERT_OK_PTR(cfg, "default"))
		ASSERT_EQ(cfg->n_endpoints, 0, "the built-in config has no endpoints");
	config_free(cfg);
	cfg = config_from_paths((char *[]){"/srv/a"}, 1);
	if (ASSERT_OK_PTR(cfg, "config_from_paths"))
		ASSERT_EQ(cfg->n_endpoints, 0, "trace --path has no endpoints");
	config_free(cfg);
	/* "watch" stays required: endpoints alone are refused */
	EXPECT_ERROR(j("{'endpoints': [{'name': 'e', 'address': '::1'}]}"), 1, 1,
		     "missing key \"watch\" at the top level");
}

TEST(config_endpoints_wrong_types)
{
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoints': {}}"), 1, 58,
		     "\"endpoints\" must be an array of endpoints, not an object (expected "
		     "[{\"name\": ..., \"address\": ...}, ...])");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoints': [\n"
		       "  {'name': 'e', 'address': '::1'}, '10.1.2.3']}"),
		     2, 36,
		     "endpoints[1] must be an object, not a string (expected an endpoint such as "
		     "{\"name\": \"crm-db\", \"address\": \"10.1.2.0/24\", \"port\": 5432})");
	EXPECT_ERROR(EP("'address': '::1', 'tags': 'pii'"), 1, 99,
		     "\"tags\" of endpoints[0] (\"e\") must be an array of strings, not a string "
		     "(expected each to be a tag)");
	EXPECT_ERROR(EP("'address': '::1', 'tags': ['']"), 1, 100,
		     "endpoints[0].tags[0] is empty (expected a tag)");
	EXPECT_ERROR(EP("'address': 10"), 1, 84,
		     "\"address\" of endpoints[0] (\"e\") must be a string, not a number (expected "
		     "an IPv4 or IPv6 address, a CIDR prefix such as \"10.1.2.0/24\" or a host "
		     "name)");
	EXPECT_ERROR(
	    EP("'address': '::1', 'port': [5432]"), 1, 99,
	    "\"port\" of endpoints[0] (\"e\") must be an integer or a string, not an array "
	    "(expected a port from 1 to 65535, or a range \"LO-HI\" such as "
	    "\"3306-3307\")");
	EXPECT_ERROR(EP("'address': '::1', 'port': 5432.0"), 1, 99,
		     "\"port\" of endpoints[0] (\"e\") must be an integer or a string, not a real "
		     "number");
	EXPECT_ERROR(
	    EP("'address': '::1', 'protocol': 6"), 1, 103,
	    "\"protocol\" of endpoints[0] (\"e\") must be a string, not a number (expected "
	    "\"tcp\" or \"udp\")");
}

TEST(config_endpoints_parse)
{
	struct config *cfg = load_ok(EP("'address': '::1', 'port': 5432, 'parse': 'postgresql'"));

	if (cfg)
		ASSERT_EQ(cfg->endpoints[0].parse, CONFIG_WIRE_POSTGRESQL, "postgresql");
	config_free(cfg);
	cfg = load_ok(EP("'unix': '/run/postgresql/.s.PGSQL.5432', 'parse': 'postgresql'"));
	if (cfg)
		ASSERT_EQ(cfg->endpoints[0].parse, CONFIG_WIRE_POSTGRESQL, "over a unix socket");
	config_free(cfg);
	cfg = load_ok(EP("'address': '::1', 'port': 5432"));
	if (cfg)
		ASSERT_EQ(cfg->endpoints[0].parse, CONFIG_WIRE_NONE, "not parsed by default");
	config_free(cfg);
	cfg = load_ok(EP("'address': '::1', 'port': 3306, 'parse': 'mysql'"));
	if (cfg)
		ASSERT_EQ(cfg->endpoints[0].parse, CONFIG_WIRE_MYSQL, "mysql");
	config_free(cfg);
	EXPECT_ERROR(EP("'address': '::1', 'port': 5432, 'parse': 'http'"), 1, 114,
		     "endpoints[0].parse: \"http\" is not a database protocol (expected "
		     "\"postgresql\" or \"mysql\")");
	EXPECT_ERROR(EP("'address': '::1', 'port': 5432, 'parse': true"), 1, 114,
		     "\"parse\" of endpoints[0] (\"e\") must be a string, not a boolean (expected "
		     "\"postgresql\" or \"mysql\")");
	EXPECT_ERROR(EP("'address': '::1', 'protocol': 'udp', 'parse': 'mysql'"), 1, 119,
		     "endpoints[0].parse: MySQL runs over TCP or a unix socket, and "
		     "endpoints[0] (\"e\") is UDP (expected \"protocol\": \"tcp\", or no "
		     "\"parse\")");
	EXPECT_ERROR(EP("'address': '::1', 'protocol': 'udp', 'parse': 'postgresql'"), 1, 119,
		     "endpoints[0].parse: PostgreSQL runs over TCP or a unix socket, and "
		     "endpoints[0] (\"e\") is UDP (expected \"protocol\": \"tcp\", or no "
		     "\"parse\")");
}

TEST(config_endpoints_unix)
{
	struct config *cfg = load_ok(EP("'unix': '/run/postgresql/.s.PGSQL.5432'"));

	if (cfg) {
		ASSERT_STREQ(cfg->endpoints[0].unix_path, "/run/postgresql/.s.PGSQL.5432", "path");
		ASSERT_NULL(cfg->endpoints[0].address, "no address");
		ASSERT_EQ(cfg->endpoints[0].n_prefixes, 0, "no prefixes");
	}
	config_free(cfg);
	EXPECT_ERROR(EP("'unix': '/run/x.sock', 'port': 5432"), 1, 96,
		     "endpoints[0] (\"e\") has both \"unix\" and \"port\" (expected a unix socket, "
		     "or an address with its port and protocol)");
	EXPECT_ERROR(EP("'unix': 'relative.sock'"), 1, 81,
		     "is not usable (expected the absolute path of a unix socket, or '@' and an "
		     "abstract name, at most 107 bytes)");
	EXPECT_ERROR(EP("'unix': '@'"), 1, 81, "is not usable");
	EXPECT_ERROR(EP("'unix': 5"), 1, 81, "must be a string, not a number");
	cfg = load_ok(EP("'unix': '@custos-api'"));
	if (cfg)
		ASSERT_STREQ(cfg->endpoints[0].unix_path, "@custos-api", "an abstract name");
	config_free(cfg);
}

TEST(config_endpoints_keys)
{
	EXPECT_ERROR(
	    j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoint': []}"), 1, 45,
	    "unknown key \"endpoint\" at the top level (expected one of: watch, endpoints, "
	    "exclude, ");
	EXPECT_ERROR(EP("'address': '::1',\n  'host': 'x'"), 2, 3,
		     "unknown key \"host\" in endpoints[0] (\"e\") (expected one of: name, tags, "
		     "address, port, protocol, unix, parse)");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoints': [\n"
		       "  {'address': '::1'}]}"),
		     2, 3,
		     "missing key \"name\" in endpoints[0] (expected an endpoint name of 1 to 64 "
		     "characters from A-Z, a-z, 0-9, '.', '_' and '-')");
	EXPECT_ERROR(EP("'port': 5432"), 1, 59,
		     "missing key \"address\" in endpoints[0] (\"e\") (expected an IPv4 or IPv6 "
		     "address, a CIDR prefix such as \"10.1.2.0/24\" or a host name)");
}

TEST(config_endpoints_names)
{
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
		       " 'endpoints': [{'name': 7, 'address': '::1'}]}"),
		     2, 25,
		     "\"name\" of endpoints[0] must be a string, not a number (expected 1 to 64 "
		     "characters");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
		       " 'endpoints': [{'name': 'crm db', 'address': '::1'}]}"),
		     2, 25,
		     "endpoints[0].name: \"crm db\" is not a valid endpoint name (expected 1 to 64 "
		     "characters from A-Z, a-z, 0-9, '.', '_' and '-')");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
		       " 'endpoints': [{'name': '', 'address': '::1'}]}"),
		     2, 25, "endpoints[0].name: \"\" is not a valid endpoint name");
	/* 64 characters are accepted, 65 are not */
	config_free(load_ok(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoints': [{'name': "
			      "'a123456789012345678901234567890123456789012345678901234567890123', "
			      "'address': '::1'}]}")));
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}],\n"
		       " 'endpoints': [{'name': "
		       "'a1234567890123456789012345678901234567890123456789012345678901234', "
		       "'address': '::1'}]}"),
		     2, 25, "is not a valid endpoint name (expected 1 to 64 characters");
	/* unique among watch rules and endpoints */
	EXPECT_ERROR(j("{'watch': [{'name': 'crm', 'paths': ['/a']}, {'name': 'web', 'paths': "
		       "['/b']}],\n"
		       " 'endpoints': [{'name': 'web', 'address': '::1'}]}"),
		     2, 25,
		     "\"name\" \"web\" is used by watch[1] and endpoints[0] (the names of watch "
		     "rules and endpoints must be unique)");
	EXPECT_ERROR(j("{'watch': [{'name': 'r', 'paths': ['/a']}], 'endpoints': [\n"
		       "  {'name': 'db', 'address': '::1'},\n"
		       "  {'name': 'web', 'address': '::1'},\n"
		       "  {'name': 'db', 'address': '10.0.0.1'}]}"),
		     4, 12,
		     "\"name\" \"db\" is used by endpoints[0] and endpoints[2] (the names of watch "
		     "rules and endpoints must be unique)");
}

TEST(config_endpoints_address)
{
	EXPECT_ERROR(EP("'address': ''"), 1, 84,
		     "endpoints[0].address is empty (expected an IPv4 or IPv6 address, a CIDR "
		     "prefix such as \"10.1.2.0/24\" or a host name)");
	EXPECT_ERROR(EP("'address': 'crm_db'"), 1, 84,
		     "endpoints[0].address: \"crm_db\" is not an IP address, a CIDR prefix or a "
		     "host name (expected an IPv4 or IPv6 address, a CIDR prefix such as "
		     "\"10.1.2.0/24\" or a host name)");
	EXPECT_ERROR(
	    EP("'address': 'crm.internal:5432'"), 1, 84,
	    "endpoints[0].address: \"crm.internal:5432\" is not an IP address, a CIDR "
	    "prefix or a host name (expected an IPv4 or IPv6 address, a CIDR prefix such "
	    "as \"10.1.2.0/24\" or a host name, without brackets or a port: a port goes in "
	    "\"port\")");
	EXPECT_ERROR(EP("'address': '[::1]'"), 1, 84,
		     "\"[::1]\" is not an IP address, a CIDR prefix or a host name",
		     "without brackets or a port");
	EXPECT_ERROR(EP("'address': 'a\\tb'"), 1, 84,
		     "endpoints[0].address: \"a\\tb\" is not an IP address");
	EXPECT_ERROR(EP("'address': '10.1.2'"), 1, 84,
		     "endpoints[0].address: \"10.1.2\" is not a valid IPv4 address (expected four "
		     "numbers from 0 to 255 such as \"10.1.2.3\", or a host name)");
	EXPECT_ERROR(EP("'address': '10.1.2.300'"), 1, 84,
		     "\"10.1.2.300\" is not a valid IPv4 address");
	/* getaddrinfo would take it for 127.0.0.1 */
	EXPECT_ERROR(EP("'address': '0x7f000001'"), 1, 84,
		     "\"0x7f000001\" is not a valid IPv4 address");
	EXPECT_ERROR(
	    EP("'address': 'crm..internal'"), 1, 84,
	    "endpoints[0].address: \"crm..internal\" is not a valid host name (expected at "
	    "most 253 bytes: labels of 1 to 63 letters, digits or '-' between dots)");
	EXPECT_ERROR(
	    EP("'address': 'a1234567890123456789012345678901234567890123456789012345678901234.b'"),
	    1, 84, "is not a valid host name");
}

TEST(config_endpoints_long_host_name)
{
	char text[1024], name[300];
	size_t i;

	/* 254 bytes: 63-byte labels and dots */
	for (i = 0; i < 254; i++)
		name[i] = i % 64 == 63 ? '.' : 'a';
	name[254] = '\0';
	snprintf(text, sizeof(text), "%s'address': '%s'}]}", EP_PREFIX, name);
	EXPECT_ERROR(j(text), 1, 84, "is not a valid host name", "expected at most 253 bytes");
}

TEST(config_endpoints_cidr)
{
	EXPECT_ERROR(EP("'address': '10.1.2.0/33'"), 1, 84,
		     "endpoints[0].address: \"10.1.2.0/33\" has a prefix length of 33 bits "
		     "(expected 0 to 32 for an IPv4 address)");
	EXPECT_ERROR(EP("'address': 'fd00::/129'"), 1, 84,
		     "endpoints[0].address: \"fd00::/129\" has a prefix length of 129 bits "
		     "(expected 0 to 128 for an IPv6 address)");
	EXPECT_ERROR(EP("'address': '10.1.2.0/x'"), 1, 84,
		     "endpoints[0].address: \"10.1.2.0/x\" is not a CIDR prefix: the prefix length "
		     "is not a number (expected ADDRESS/BITS such as \"10.1.2.0/24\" or "
		     "\"fd00:1::/64\", with 0 to 32 bits)");
	EXPECT_ERROR(EP("'address': '10.1.2.0/'"), 1, 84, "the prefix length is not a number");
	EXPECT_ERROR(EP("'address': '10.1.2.0/-1'"), 1, 84, "the prefix length is not a number");
	EXPECT_ERROR(EP("'address': 'crm.internal/24'"), 1, 84,
		     "endpoints[0].address: \"crm.internal/24\" is not a CIDR prefix: the part "
		     "before \"/\" is not an IPv4 or IPv6 address (expected ADDRESS/BITS such as "
		     "\"10.1.2.0/24\" or \"fd00:1::/64\")");
	EXPECT_ERROR(EP("'address': '/24'"), 1, 84, "is not a CIDR prefix: the part before");
	EXPECT_ERROR(EP("'address': '10.1.2.3/24'"), 1, 84,
		     "endpoints[0].address: \"10.1.2.3/24\" has bits set past its /24 prefix "
		     "(expected the network address, \"10.1.2.0/24\")");
	EXPECT_ERROR(EP("'address': '10.1.2.129/25'"), 1, 84,
		     "(expected the network address, \"10.1.2.128/25\")");
	EXPECT_ERROR(EP("'address': 'fd00:1::1/64'"), 1, 84,
		     "endpoints[0].address: \"fd00:1::1/64\" has bits set past its /64 prefix "
		     "(expected the network address, \"fd00:1::/64\")");
	EXPECT_ERROR(EP("'address': '1.2.3.4/0'"), 1, 84,
		     "(expected the network address, "
		     "\"0.0.0.0/0\")");
}

TEST(config_endpoints_unresolved)
{
	char expected[256];

	/* the reserved .invalid TLD never resolves */
	snprintf(expected, sizeof(expected),
		 "endpoints[0].address: \"custos-test.invalid\" does not resolve: ");
	EXPECT_ERROR(EP("'address': 'custos-test.invalid'"), 1, 84, expected,
		     "(expected a host name this host resolves, an IP address or a CIDR prefix)");
}

TEST(config_endpoints_port)
{
	static const char expected[] =
	    "(expected a port from 1 to 65535, or a range \"LO-HI\" such as \"3306-3307\")";

	EXPECT_ERROR(EP("'address': '::1', 'port': 0"), 1, 99,
		     "endpoints[0].port is 0, out of range ", expected);
	EXPECT_ERROR(EP("'address': '::1', 'port': 65536"), 1, 99,
		     "endpoints[0].port is 65536, out of range ", expected);
	EXPECT_ERROR(EP("'address': '::1', 'port': -5432"), 1, 99,
		     "endpoints[0].port is -5432, out of range ", expected);
	EXPECT_ERROR(EP("'address': '::1', 'port': '5432'"), 1, 99,
		     "endpoints[0].port: \"5432\" is not a port range ", expected);
	EXPECT_ERROR(EP("'address': '::1', 'port': '3306 - 3307'"), 1, 99,
		     "endpoints[0].port: \"3306 - 3307\" is not a port range ", expected);
	EXPECT_ERROR(EP("'address': '::1', 'port': '3306-'"), 1, 99, "is not a port range");
	EXPECT_ERROR(EP("'address': '::1', 'port': 'mysql'"), 1, 99, "is not a port range");
	EXPECT_ERROR(EP("'address': '::1', 'port': '0-1024'"), 1, 99,
		     "endpoints[0].port: \"0-1024\": port 0 is out of range ", expected);
	EXPECT_ERROR(EP("'address': '::1', 'port': '1024-65536'"), 1, 99,
		     "endpoints[0].port: \"1024-65536\": port 65536 is out of range ", expected);
	EXPECT_ERROR(EP("'address': '::1', 'port': '3307-3306'"), 1, 99,
		     "endpoints[0].port: \"3307-3306\" runs backwards (expected \"LO-HI\" with LO "
		     "at most HI, such as \"3306-3307\")");
}

TEST(config_endpoints_protocol)
{
	EXPECT_ERROR(EP("'address': '::1', 'protocol': 'sctp'"), 1, 103,
		     "endpoints[0].protocol: \"sctp\" is not a protocol (expected \"tcp\" or "
		     "\"udp\")");
	EXPECT_ERROR(EP("'address': '::1', 'protocol': 'TCP'"), 1, 103,
		     "endpoints[0].protocol: \"TCP\" is not a protocol");
}

static char *rules_and_endpoints_text(size_t n_rules, size_t n_endpoints)
{
	char *text = malloc(64 + (n_rules + n_endpoints) * 64), *p = text;
	size_t i;

	if (!text)
		return NULL;
	p += sprintf(p, "{\"watch\": [\n");
	for (i = 0; i < n_rules; i++)
		p += sprintf(p, "  {\"name\": \"r%zu\", \"paths\": [\"/d/%zu\"]}%s\n", i, i,
			     i + 1 < n_rules ? "," : "");
	p += sprintf(p, "], \"endpoints\": [\n");
	for (i = 0; i < n_endpoints; i++)
		p += sprintf(p, "  {\"name\": \"e%zu\", \"address\": \"10.0.0.%zu\"}%s\n", i, i,
			     i + 1 < n_endpoints ? "," : "");
	sprintf(p, "]}\n");
	return text;
}

TEST(config_endpoints_too_many)
{
	char *text = rules_and_endpoints_text(60, CONFIG_RULES_MAX - 60);
	struct config *cfg;

	if (!ASSERT_OK_PTR(text, "text"))
		return;
	cfg = load_ok(text);
	if (cfg) {
		ASSERT_EQ(cfg->n_rules, 60, "rules");
		ASSERT_EQ(cfg->n_endpoints, CONFIG_RULES_MAX - 60, "endpoints");
	}
	config_free(cfg);
	free(text);

	/* the first endpoint past the limit is pointed at */
	text = rules_and_endpoints_text(60, 5);
	if (!ASSERT_OK_PTR(text, "text"))
		return;
	EXPECT_ERROR(text, 2 + 60 + 1 + CONFIG_RULES_MAX - 60, 3,
		     "\"watch\" has 60 rules and \"endpoints\" 5 endpoints, 65 in all (expected at "
		     "most 63 watch rules and endpoints together)");
	free(text);
}

TEST(config_comment_lines)
{
	/* Lines starting with // or # (after blanks) are comments; positions stay true. */
	const char *text =
	    "// the agent's config\n"
	    "# osquery's convention\n"
	    "{\n"
	    "  // watched: the CRM exports\n"
	    "  \"watch\": [{\"name\": \"crm\", \"tags\": [\"//not-a-comment\", \"#nor-this\"],\n"
	    "    # the paths\n"
	    "             \"paths\": [\"/srv/crm\"]}]\n"
	    "}\n";
	struct config_error err;
	struct config *cfg = config_load_string(text, "t", &err);

	if (!ASSERT_OK_PTR(cfg, "a config with comment lines loads"))
		return;
	ASSERT_EQ(cfg->rules[0].n_tags, 2, "tags");
	ASSERT_STREQ(cfg->rules[0].tags[0], "//not-a-comment", "// inside a string is kept");
	ASSERT_STREQ(cfg->rules[0].tags[1], "#nor-this", "# inside a string is kept");
	config_free(cfg);
	/* An error after comment lines is where it is in the file. */
	EXPECT_ERROR("# header\n{\n  // c\n  \"watch\": [{\"name\": \"a\", \"paths\": [\"/a\"]}],\n"
		     "  # a key that is not one:\n  \"bogus\": 1\n}\n",
		     6, 3, "unknown key", "bogus");
	/* A comment inside a line is not one: JSON has none. */
	EXPECT_ERROR("{\"watch\": [{\"name\": \"a\", \"paths\": [\"/a\"]}] // trailing\n}\n", 1, 44,
		     "invalid JSON");
	/* Nothing but comments. */
	cfg = config_load_string("// nothing\n# here\n", "t", &err);
	ASSERT_NULL(cfg, "only comments");
	ASSERT_HAS(err.message, "only comments", "message");
}
