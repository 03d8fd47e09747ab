// SPDX-License-Identifier: GPL-2.0
/*
 * "rules" and "builtin_rules" in the JSON configuration: every kind parsed
 * into its exact structure, the built-in pack and how a config replaces,
 * removes or drops its rules, where and how bad values and rules that can
 * never fire are refused; and the hours of the week a where asks for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "config_test.h"
#include "lib/tz.h"
#include "test.h"

/* One watch rule and one endpoint, with tags rules may name; no built-in rules. */
#define HEAD                                                                                      \
	"{'watch': [{'name': 'crm', 'tags': ['customer-data', 'pii'], 'paths': ['/srv/crm']}],\n" \
	" 'endpoints': [{'name': 'crm-db', 'tags': ['db'], 'address': '10.1.2.0/24'}],\n"         \
	" 'builtin_rules': false,\n"
/* A config of these rules (from line 4 on), without the built-in ones. */
#define RULES(list)    HEAD " 'rules': [" list "]}"
/* A match rule named x with this where, for where errors. */
#define WHERE(members) RULES("{'name': 'x', 'kind': 'match', 'where': {" members "}}")

#define S_PER_DAY 86400LL
#define NS	  1000000000LL

static struct config *load_ok_at(int test_line, const char *tmpl)
{
	struct config_error err = {};
	struct config *cfg = config_load_string(j(tmpl), "test.json", &err);

	test__check(cfg != NULL, __FILE__, test_line, "config refused: %s:%d:%d: %s", err.source,
		    err.line, err.column, err.message);
	return cfg;
}

#define load_ok(tmpl) load_ok_at(__LINE__, tmpl)

/*
 * tmpl in JSON (single quotes for double) without its one '@', which marks
 * where the error must point; the line and column of the mark.
 */
static const char *marked(const char *tmpl, int *line, int *column)
{
	static char buf[16384];
	size_t o = 0;

	*line = 1;
	*column = 1;
	for (; *tmpl && o < sizeof(buf) - 1; tmpl++) {
		if (*tmpl == '@') {
			*line = 1;
			*column = 1;
			for (size_t i = 0; i < o; i++) {
				if (buf[i] == '\n') {
					(*line)++;
					*column = 1;
				} else {
					(*column)++;
				}
			}
			continue;
		}
		buf[o++] = *tmpl == '\'' ? '"' : *tmpl;
	}
	buf[o] = '\0';
	return buf;
}

/* Loading tmpl fails at its '@' with a message containing every needle. */
#define EXPECT_AT(tmpl, ...)                                               \
	({                                                                 \
		int line_, column_;                                        \
		const char *text_ = marked(tmpl, &line_, &column_);        \
		expect_error_at(__FILE__, __LINE__, text_, line_, column_, \
				(const char *const[]){__VA_ARGS__, NULL}); \
	})

static const struct config_detect_rule *find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_detect; i++)
		if (!strcmp(cfg->detect[i].name, name))
			return &cfg->detect[i];
	return NULL;
}

static bool strv_is(char *const *v, size_t n, const char *const *want)
{
	size_t i;

	for (i = 0; i < n && want[i]; i++)
		if (strcmp(v[i], want[i]))
			return false;
	return i == n && !want[i];
}

#define STRV_IS(v, n, ...) strv_is(v, n, (const char *const[]){__VA_ARGS__, NULL})

/* The example of the issue (and of docs/config.md), field by field. */
TEST(config_rules_kinds)
{
	struct config *cfg = load_ok(RULES(
	    "{'name': 'bulk-read', 'kind': 'threshold', 'where': {'tags': ['customer-data']},\n"
	    "  'group_by': ['user.audit.name'], 'sum': 'rows_or_bytes', 'over': '10m', "
	    "'at_least': 100000},\n"
	    " {'name': 'many-files', 'kind': 'threshold', 'where': {'rule': 'crm'},\n"
	    "  'group_by': ['user.audit.name'], 'distinct': 'file.path', 'over': '5m', "
	    "'at_least': 50},\n"
	    " {'name': 'new-reader', 'kind': 'first_seen', 'where': {'tags': ['customer-data']},\n"
	    "  'key': ['process.executable', 'custos.rule'], 'learn': '7d'},\n"
	    " {'name': 'off-hours', 'kind': 'match', 'where': {'tags': ['customer-data'], "
	    "'outside_hours': '08:00-19:00 Mon-Fri', 'tz': 'Europe/Berlin'}},\n"
	    " {'name': 'read-then-send', 'kind': 'sequence', 'by': ['process.pid'], 'within': "
	    "'2m',\n"
	    "  'steps': [{'where': {'tags': ['customer-data'], 'action': 'read'}}, {'where': "
	    "{'category': 'network', 'endpoint': 'unwatched'}}]}"));
	const struct config_detect_rule *r;
	const struct config_where *w;

	if (!cfg)
		return;
	ASSERT_TRUE(cfg->no_builtin_rules, "builtin_rules false");
	if (!ASSERT_EQ(cfg->n_detect, 5, "n_detect"))
		goto out;

	r = &cfg->detect[0];
	ASSERT_STREQ(r->name, "bulk-read", "0 name");
	ASSERT_EQ(r->kind, CONFIG_DETECT_THRESHOLD, "0 kind");
	ASSERT_FALSE(r->disabled, "0 disabled");
	ASSERT_NULL(r->description, "0 description");
	ASSERT_NULL(r->technique, "0 technique");
	ASSERT_NULL(r->severity, "0 severity (medium)");
	ASSERT_TRUE(STRV_IS(r->where.tags, r->where.n_tags, "customer-data"), "0 where.tags");
	ASSERT_EQ(r->where.categories, 0, "0 where.categories: any");
	ASSERT_EQ(r->where.actions, 0, "0 where.actions: any");
	ASSERT_EQ(r->where.endpoint, CONFIG_ENDPOINT_ANY, "0 where.endpoint");
	ASSERT_FALSE(r->where.hours.set, "0 where.hours");
	ASSERT_EQ(r->n_group_by, 1, "0 n_group_by");
	ASSERT_EQ(r->group_by[0], CONFIG_FIELD_AUDIT_NAME, "0 group_by");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_ROWS_OR_BYTES, "0 measure");
	ASSERT_EQ(r->window_s, 600, "0 over");
	ASSERT_STREQ(r->window_text, "10m", "0 over text");
	ASSERT_EQ(r->at_least, 100000, "0 at_least");
	ASSERT_EQ(r->n_steps, 0, "0 n_steps");

	r = &cfg->detect[1];
	ASSERT_STREQ(r->name, "many-files", "1 name");
	ASSERT_EQ(r->kind, CONFIG_DETECT_THRESHOLD, "1 kind");
	ASSERT_TRUE(STRV_IS(r->where.rules, r->where.n_rules, "crm"), "1 where.rule");
	ASSERT_EQ(r->where.n_tags, 0, "1 where.tags");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_DISTINCT, "1 measure");
	ASSERT_EQ(r->distinct_field, CONFIG_FIELD_FILE_PATH, "1 distinct");
	ASSERT_EQ(r->window_s, 300, "1 over");
	ASSERT_STREQ(r->window_text, "5m", "1 over text");
	ASSERT_EQ(r->at_least, 50, "1 at_least");

	r = &cfg->detect[2];
	ASSERT_STREQ(r->name, "new-reader", "2 name");
	ASSERT_EQ(r->kind, CONFIG_DETECT_FIRST_SEEN, "2 kind");
	ASSERT_EQ(r->n_group_by, 2, "2 key count");
	ASSERT_EQ(r->group_by[0], CONFIG_FIELD_EXE, "2 key[0]");
	ASSERT_EQ(r->group_by[1], CONFIG_FIELD_RULE, "2 key[1]");
	ASSERT_EQ(r->learn_s, 7 * S_PER_DAY, "2 learn");

	r = &cfg->detect[3];
	w = &r->where;
	ASSERT_STREQ(r->name, "off-hours", "3 name");
	ASSERT_EQ(r->kind, CONFIG_DETECT_MATCH, "3 kind");
	ASSERT_TRUE(w->hours.set, "3 hours set");
	ASSERT_TRUE(w->hours.outside, "3 outside_hours");
	ASSERT_EQ(w->hours.from_min, 8 * 60, "3 from");
	ASSERT_EQ(w->hours.to_min, 19 * 60, "3 to");
	ASSERT_EQ(w->hours.days, 0x1f, "3 days Mon-Fri");
	ASSERT_STREQ(w->hours.tz, "Europe/Berlin", "3 tz");
	ASSERT_OK_PTR(w->hours.zone, "3 zone loaded");
	/* a match rule's suppression: one alert per process per 10 minutes */
	ASSERT_EQ(r->n_group_by, 1, "3 default group_by");
	ASSERT_EQ(r->group_by[0], CONFIG_FIELD_PID, "3 default group_by process.pid");
	ASSERT_EQ(r->window_s, 600, "3 default over");
	ASSERT_STREQ(r->window_text, "10m", "3 default over text");

	r = &cfg->detect[4];
	ASSERT_STREQ(r->name, "read-then-send", "4 name");
	ASSERT_EQ(r->kind, CONFIG_DETECT_SEQUENCE, "4 kind");
	ASSERT_EQ(r->n_group_by, 1, "4 by");
	ASSERT_EQ(r->group_by[0], CONFIG_FIELD_PID, "4 by process.pid");
	ASSERT_EQ(r->window_s, 120, "4 within");
	ASSERT_STREQ(r->window_text, "2m", "4 within text");
	if (ASSERT_EQ(r->n_steps, 2, "4 n_steps")) {
		w = &r->steps[0].where;
		ASSERT_TRUE(STRV_IS(w->tags, w->n_tags, "customer-data"), "4 step 0 tags");
		ASSERT_EQ(w->actions, 1u << CONFIG_ACTION_READ, "4 step 0 action");
		ASSERT_EQ(w->categories, 0, "4 step 0 categories");
		w = &r->steps[1].where;
		ASSERT_EQ(w->categories, CONFIG_CATEGORY_NETWORK, "4 step 1 category");
		ASSERT_EQ(w->endpoint, CONFIG_ENDPOINT_UNWATCHED, "4 step 1 endpoint");
		ASSERT_EQ(w->n_tags, 0, "4 step 1 tags");
	}
	ASSERT_EQ(r->where.n_tags, 0, "4 no where of its own");
out:
	config_free(cfg);
}

/* Every key of a where, and every optional key of a rule, set. */
TEST(config_rules_every_key)
{
	struct config *cfg = load_ok(RULES(
	    "{'name': 'db', 'kind': 'match', 'description': 'Statements at night',\n"
	    "  'technique': 'T1213.002', 'severity': 'critical', 'enabled': true,\n"
	    "  'where': {'category': 'database', 'action': ['query', 'read'], 'tags': 'db',\n"
	    "    'rule': ['crm-db'], 'user': ['alice', 1000], 'login_user': 'bob', 'comm': "
	    "['psql'],\n"
	    "    'exe': ['/usr/bin/psql', '/opt/*/bin/psql'], 'table': ['customers', 'crm.*'],\n"
	    "    'operation': ['select', 'Copy'], 'inside_hours': '22:00-06:00 Sat, sun', 'tz': "
	    "'UTC'},\n"
	    "  'group_by': ['user.name', 'db.collection.name'], 'over': '1h'},\n"
	    " {'name': 'usb', 'kind': 'match', 'where': {'category': ['file'], 'outside_watch': "
	    "true, 'removable': true, 'action': 'write', 'outside_hours': '00:00-24:00 "
	    "Fri-Mon'}},\n"
	    " {'name': 'net', 'kind': 'match', 'where': {'category': ['network', 'file'], "
	    "'endpoint': 'watched', 'action': ['connect', 'open']}},\n"
	    " {'name': 'count', 'kind': 'threshold', 'where': {'category': 'database'}, "
	    "'group_by': ['db.namespace', 'user.id', 'process.session_id', 'process.name'], "
	    "'count': true, 'over': '31d', 'at_least': 1},\n"
	    " {'name': 'rows', 'kind': 'threshold', 'group_by': ['user.name'], 'sum': "
	    "'db.response.returned_rows', 'over': '30s', 'at_least': 9007199254740993},\n"
	    " {'name': 'written', 'kind': 'threshold', 'group_by': ['destination.address'], "
	    "'sum': 'custos.io.bytes_written', 'over': '2h', 'at_least': 1},\n"
	    " {'name': 'tables', 'kind': 'threshold', 'group_by': ['user.name'], 'distinct': "
	    "'custos.db.tables', 'over': '1s', 'at_least': 3},\n"
	    " {'name': 'seen', 'kind': 'first_seen', 'key': ['user.name'], 'learn': '0s'},\n"
	    " {'name': 'seen-default', 'kind': 'first_seen', 'key': ['user.name']},\n"
	    " {'name': 'bytes', 'kind': 'threshold', 'group_by': ['user.name'], 'sum': "
	    "'custos.io.bytes_read', 'over': '10m', 'at_least': 1}"));
	const struct config_detect_rule *r;
	const struct config_where *w;

	if (!cfg)
		return;
	if (!ASSERT_EQ(cfg->n_detect, 10, "n_detect"))
		goto out;
	r = find(cfg, "db");
	w = &r->where;
	ASSERT_STREQ(r->description, "Statements at night", "description");
	ASSERT_STREQ(r->technique, "T1213.002", "technique");
	ASSERT_STREQ(r->severity, "critical", "severity");
	ASSERT_EQ(w->categories, CONFIG_CATEGORY_DATABASE, "category");
	ASSERT_EQ(w->actions, 1u << CONFIG_ACTION_QUERY | 1u << CONFIG_ACTION_READ, "actions");
	ASSERT_TRUE(STRV_IS(w->tags, w->n_tags, "db"), "tags as a string");
	ASSERT_TRUE(STRV_IS(w->rules, w->n_rules, "crm-db"), "rule: an endpoint");
	ASSERT_TRUE(STRV_IS(w->users, w->n_users, "alice", "1000"), "user: a name and a uid");
	ASSERT_TRUE(STRV_IS(w->login_users, w->n_login_users, "bob"), "login_user");
	ASSERT_TRUE(STRV_IS(w->comms, w->n_comms, "psql"), "comm");
	ASSERT_TRUE(STRV_IS(w->exes, w->n_exes, "/usr/bin/psql", "/opt/*/bin/psql"), "exe");
	ASSERT_TRUE(STRV_IS(w->tables, w->n_tables, "customers", "crm.*"), "table");
	ASSERT_TRUE(STRV_IS(w->operations, w->n_operations, "SELECT", "COPY"),
		    "operation, upper case");
	ASSERT_TRUE(w->hours.set, "inside_hours");
	ASSERT_FALSE(w->hours.outside, "inside, not outside");
	ASSERT_EQ(w->hours.from_min, 22 * 60, "from 22:00");
	ASSERT_EQ(w->hours.to_min, 6 * 60, "to 06:00, past midnight");
	ASSERT_EQ(w->hours.days, 0x60, "Sat, sun");
	ASSERT_STREQ(w->hours.tz, "UTC", "tz");
	ASSERT_EQ(r->n_group_by, 2, "group_by");
	ASSERT_EQ(r->group_by[0], CONFIG_FIELD_USER_NAME, "group_by[0]");
	ASSERT_EQ(r->group_by[1], CONFIG_FIELD_TABLE, "db.collection.name is custos.db.tables");
	ASSERT_EQ(r->window_s, 3600, "over 1h");
	ASSERT_STREQ(r->window_text, "1h", "over text");

	r = find(cfg, "usb");
	w = &r->where;
	ASSERT_EQ(w->categories, CONFIG_CATEGORY_FILE, "usb category");
	ASSERT_TRUE(w->outside_watch, "usb outside_watch");
	ASSERT_TRUE(w->removable, "usb removable");
	ASSERT_EQ(w->actions, 1u << CONFIG_ACTION_WRITE, "usb action");
	ASSERT_TRUE(w->hours.set && w->hours.outside, "usb outside_hours");
	ASSERT_EQ(w->hours.from_min, 0, "usb from");
	ASSERT_EQ(w->hours.to_min, 24 * 60, "usb to 24:00");
	ASSERT_EQ(w->hours.days, 0x71, "usb Fri-Mon wraps past Sunday");
	ASSERT_NULL(w->hours.tz, "usb tz: the host's");
	ASSERT_OK_PTR(w->hours.zone, "usb zone: the host's, loaded");

	r = find(cfg, "net");
	ASSERT_EQ(r->where.categories, CONFIG_CATEGORY_NETWORK | CONFIG_CATEGORY_FILE,
		  "net categories");
	ASSERT_EQ(r->where.endpoint, CONFIG_ENDPOINT_WATCHED, "net endpoint");
	ASSERT_EQ(r->where.actions, 1u << CONFIG_ACTION_CONNECT | 1u << CONFIG_ACTION_OPEN,
		  "net actions");

	r = find(cfg, "count");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_COUNT, "count");
	ASSERT_EQ(r->n_group_by, 4, "4 fields");
	ASSERT_EQ(r->group_by[0], CONFIG_FIELD_DB_NAMESPACE, "db.namespace");
	ASSERT_EQ(r->group_by[1], CONFIG_FIELD_UID, "user.id");
	ASSERT_EQ(r->group_by[2], CONFIG_FIELD_SESSION, "process.session_id");
	ASSERT_EQ(r->group_by[3], CONFIG_FIELD_COMM, "process.name");
	ASSERT_EQ(r->window_s, 31 * S_PER_DAY, "over 31d, the most");
	ASSERT_EQ(r->at_least, 1, "at_least 1, the least");

	r = find(cfg, "rows");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_ROWS, "sum rows");
	ASSERT_EQ(r->window_s, 30, "over 30s");
	ASSERT_TRUE(r->at_least == 9007199254740993ULL, "at_least past 2^53, exact");
	r = find(cfg, "written");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_BYTES_WRITTEN, "sum bytes written");
	ASSERT_EQ(r->group_by[0], CONFIG_FIELD_DESTINATION, "destination.address");
	ASSERT_EQ(r->window_s, 7200, "over 2h");
	r = find(cfg, "bytes");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_BYTES_READ, "sum bytes read");
	r = find(cfg, "tables");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_DISTINCT, "distinct");
	ASSERT_EQ(r->distinct_field, CONFIG_FIELD_TABLE, "distinct tables");
	ASSERT_EQ(r->window_s, 1, "over 1s, the least");
	ASSERT_EQ(find(cfg, "seen")->learn_s, 0, "learn 0s");
	ASSERT_EQ(find(cfg, "seen-default")->learn_s, 7 * S_PER_DAY, "learn default 7d");
out:
	config_free(cfg);
}

static bool pack_rule(const struct config_detect_rule *r, const char *name,
		      enum config_detect_kind kind, const char *technique, const char *severity)
{
	bool ok = true;

	ok &= ASSERT_STREQ(r->name, name, "name");
	ok &= ASSERT_EQ(r->kind, kind, name);
	ok &= ASSERT_STREQ(r->technique, technique, name);
	ok &= ASSERT_STREQ(r->severity, severity, name);
	ok &= ASSERT_TRUE(r->description && strlen(r->description) > 20, name);
	ok &= ASSERT_FALSE(r->disabled, name);
	return ok;
}

static bool is_customer_read(const struct config_where *w)
{
	return STRV_IS(w->tags, w->n_tags, "customer-data") &&
	       w->actions == 1u << CONFIG_ACTION_READ;
}

/* The built-in pack: it parses (a unit test is where a bug in its text shows), in its order. */
TEST(config_rules_builtin_pack)
{
	struct config *cfg = config_load_default();
	const struct config_detect_rule *r;
	json_error_t jerr;
	json_t *pack;

	pack = json_loads(config_builtin_rules_text(), JSON_REJECT_DUPLICATES, &jerr);
	if (ASSERT_OK_PTR(pack, jerr.text))
		ASSERT_EQ(json_array_size(json_object_get(pack, "rules")), 9, "rules in the text");
	json_decref(pack);
	if (!ASSERT_OK_PTR(cfg, "default config"))
		return;
	ASSERT_FALSE(cfg->no_builtin_rules, "builtin_rules default true");
	if (!ASSERT_EQ(cfg->n_detect, 9, "n_detect"))
		goto out;

	r = &cfg->detect[0];
	pack_rule(r, "bulk-read-rows", CONFIG_DETECT_THRESHOLD, "T1213", "high");
	ASSERT_TRUE(is_customer_read(&r->where), "bulk-read-rows where");
	ASSERT_EQ(r->where.categories, CONFIG_CATEGORY_DATABASE, "bulk-read-rows category");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_ROWS, "bulk-read-rows sum");
	ASSERT_EQ(r->at_least, 10000, "bulk-read-rows at_least");
	ASSERT_EQ(r->window_s, 600, "bulk-read-rows over");
	ASSERT_TRUE(r->n_group_by == 1 && r->group_by[0] == CONFIG_FIELD_AUDIT_NAME,
		    "bulk-read-rows group_by");

	r = &cfg->detect[1];
	pack_rule(r, "bulk-read-bytes", CONFIG_DETECT_THRESHOLD, "T1005", "high");
	ASSERT_TRUE(is_customer_read(&r->where), "bulk-read-bytes where");
	ASSERT_EQ(r->where.categories, CONFIG_CATEGORY_FILE | CONFIG_CATEGORY_NETWORK,
		  "bulk-read-bytes category");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_BYTES_READ, "bulk-read-bytes sum");
	ASSERT_EQ(r->at_least, 100 << 20, "bulk-read-bytes at_least 100 MiB");
	ASSERT_EQ(r->window_s, 600, "bulk-read-bytes over");
	ASSERT_TRUE(r->n_group_by == 1 && r->group_by[0] == CONFIG_FIELD_AUDIT_NAME,
		    "bulk-read-bytes group_by");

	r = &cfg->detect[2];
	pack_rule(r, "many-files", CONFIG_DETECT_THRESHOLD, "T1119", "medium");
	ASSERT_TRUE(is_customer_read(&r->where), "many-files where");
	ASSERT_EQ(r->where.categories, CONFIG_CATEGORY_FILE, "many-files category");
	ASSERT_EQ(r->measure, CONFIG_MEASURE_DISTINCT, "many-files distinct");
	ASSERT_EQ(r->distinct_field, CONFIG_FIELD_FILE_PATH, "many-files file.path");
	ASSERT_EQ(r->at_least, 100, "many-files at_least");
	ASSERT_EQ(r->window_s, 300, "many-files over");

	r = &cfg->detect[3];
	pack_rule(r, "new-reader", CONFIG_DETECT_FIRST_SEEN, "T1005", "low");
	ASSERT_TRUE(is_customer_read(&r->where), "new-reader where");
	ASSERT_TRUE(r->n_group_by == 2 && r->group_by[0] == CONFIG_FIELD_EXE &&
			r->group_by[1] == CONFIG_FIELD_RULE,
		    "new-reader key");
	ASSERT_EQ(r->learn_s, 7 * S_PER_DAY, "new-reader learn");

	r = &cfg->detect[4];
	pack_rule(r, "read-then-send", CONFIG_DETECT_SEQUENCE, "T1048", "high");
	ASSERT_TRUE(r->n_group_by == 1 && r->group_by[0] == CONFIG_FIELD_SESSION,
		    "read-then-send by");
	ASSERT_EQ(r->window_s, 120, "read-then-send within");
	if (ASSERT_EQ(r->n_steps, 2, "read-then-send steps")) {
		ASSERT_TRUE(is_customer_read(&r->steps[0].where), "read-then-send step 0");
		ASSERT_EQ(r->steps[1].where.categories, CONFIG_CATEGORY_NETWORK,
			  "read-then-send step 1 category");
		ASSERT_EQ(r->steps[1].where.endpoint, CONFIG_ENDPOINT_UNWATCHED,
			  "read-then-send step 1 endpoint");
	}

	r = &cfg->detect[5];
	pack_rule(r, "copy-out", CONFIG_DETECT_SEQUENCE, "T1074", "medium");
	ASSERT_TRUE(r->n_group_by == 1 && r->group_by[0] == CONFIG_FIELD_SESSION, "copy-out by");
	ASSERT_EQ(r->window_s, 600, "copy-out within");
	if (ASSERT_EQ(r->n_steps, 2, "copy-out steps")) {
		ASSERT_TRUE(is_customer_read(&r->steps[0].where), "copy-out step 0");
		ASSERT_EQ(r->steps[1].where.categories, CONFIG_CATEGORY_FILE, "copy-out step 1");
		ASSERT_TRUE(r->steps[1].where.outside_watch, "copy-out step 1 outside_watch");
		ASSERT_EQ(r->steps[1].where.actions, 1u << CONFIG_ACTION_WRITE,
			  "copy-out step 1 action");
	}

	r = &cfg->detect[6];
	pack_rule(r, "removable-media", CONFIG_DETECT_MATCH, "T1052", "high");
	ASSERT_EQ(r->where.categories, CONFIG_CATEGORY_FILE, "removable-media category");
	ASSERT_TRUE(r->where.outside_watch && r->where.removable, "removable-media where");
	ASSERT_EQ(r->where.actions, 1u << CONFIG_ACTION_WRITE, "removable-media action");

	r = &cfg->detect[7];
	pack_rule(r, "db-dump-statement", CONFIG_DETECT_MATCH, "T1213", "medium");
	ASSERT_EQ(r->where.categories, CONFIG_CATEGORY_DATABASE, "db-dump-statement category");
	ASSERT_TRUE(STRV_IS(r->where.operations, r->where.n_operations, "COPY"),
		    "db-dump-statement operation");
	ASSERT_EQ(r->where.actions, 1u << CONFIG_ACTION_READ, "db-dump-statement action");

	r = &cfg->detect[8];
	pack_rule(r, "db-dump-tool", CONFIG_DETECT_MATCH, "T1213", "medium");
	ASSERT_EQ(r->where.categories, CONFIG_CATEGORY_DATABASE, "db-dump-tool category");
	ASSERT_TRUE(STRV_IS(r->where.comms, r->where.n_comms, "pg_dump", "pg_dumpall", "mysqldump",
			    "mariadb-dump"),
		    "db-dump-tool comm");
out:
	config_free(cfg);
}

#define PACK_HEAD "{'watch': [{'name': 'crm', 'tags': ['customer-data'], 'paths': ['/srv/crm']}],\n"

/* A config's rules replace, remove and add to the built-in ones, or drop them all. */
TEST(config_rules_merge)
{
	static const char *const order[] = {
	    "bulk-read-rows", "bulk-read-bytes", "many-files",	      "new-reader",
	    "read-then-send", "copy-out",	 "db-dump-statement", "mine",
	};
	struct config *cfg;
	size_t i;

	/* replaced in place, removed, a new one after the built-in ones */
	cfg = load_ok(PACK_HEAD
		      " 'rules': [{'name': 'mine', 'kind': 'match', 'where': {'user': 'root'}},\n"
		      "  {'name': 'removable-media', 'enabled': false},\n"
		      "  {'name': 'many-files', 'kind': 'threshold', 'group_by': ['user.name'], "
		      "'distinct': 'file.path', 'over': '1h', 'at_least': 500},\n"
		      "  {'name': 'db-dump-tool', 'enabled': false}]}");
	if (cfg && ASSERT_EQ(cfg->n_detect, 8, "9 built-in, 2 removed, 1 added")) {
		for (i = 0; i < cfg->n_detect; i++)
			ASSERT_STREQ(cfg->detect[i].name, order[i], "merged order");
		ASSERT_EQ(cfg->detect[2].at_least, 500, "many-files replaced");
		ASSERT_EQ(cfg->detect[2].window_s, 3600, "many-files replaced: over");
		ASSERT_NULL(cfg->detect[2].technique, "the replacement is whole: no technique");
		ASSERT_EQ(cfg->detect[2].group_by[0], CONFIG_FIELD_USER_NAME,
			  "many-files replaced: group_by");
		ASSERT_EQ(cfg->detect[0].at_least, 10000, "the others as built in");
	}
	config_free(cfg);

	/* builtin_rules false: the config's rules alone */
	cfg = load_ok(PACK_HEAD
		      " 'builtin_rules': false,\n"
		      " 'rules': [{'name': 'mine', 'kind': 'match', 'where': {'user': 'root'}},"
		      " {'name': 'many-files', 'kind': 'match', 'where': {'user': 'x'}}]}");
	if (cfg && ASSERT_EQ(cfg->n_detect, 2, "own rules only")) {
		ASSERT_STREQ(cfg->detect[0].name, "mine", "own order 0");
		ASSERT_STREQ(cfg->detect[1].name, "many-files", "own order 1: a name of the pack");
		ASSERT_TRUE(cfg->no_builtin_rules, "no_builtin_rules");
	}
	config_free(cfg);

	/* removing a built-in rule of a dropped pack is no error */
	cfg = load_ok(PACK_HEAD " 'builtin_rules': false, 'rules': [{'name': 'new-reader', "
				"'enabled': false}]}");
	if (cfg)
		ASSERT_EQ(cfg->n_detect, 0, "nothing left");
	config_free(cfg);

	/* builtin_rules true and no rules: the pack */
	cfg = load_ok(PACK_HEAD " 'builtin_rules': true, 'rules': []}");
	if (cfg)
		ASSERT_EQ(cfg->n_detect, 9, "the pack");
	config_free(cfg);

	/* trace --path: no detection rules */
	cfg = config_from_paths((char *[]){"/tmp"}, 1);
	if (ASSERT_OK_PTR(cfg, "config_from_paths"))
		ASSERT_EQ(cfg->n_detect, 0, "trace has no detection rules");
	config_free(cfg);

	EXPECT_AT(PACK_HEAD " 'rules': [{'name': 'bulk-read', 'enabled': @false}]}",
		  "rules[0] (\"bulk-read\"): \"enabled\": false removes the built-in rule of that "
		  "name, and there is no built-in rule \"bulk-read\" (expected the name of one: "
		  "bulk-read-rows, bulk-read-bytes, many-files, new-reader, read-then-send, "
		  "copy-out, removable-media, db-dump-statement, db-dump-tool; a rule of your own "
		  "is turned off by deleting it)");
	EXPECT_AT(PACK_HEAD " 'rules': [{'name': 'copy-out', 'enabled': false, @'over': '1m'}]}",
		  "rules[0] (\"copy-out\") has \"enabled\": false and \"over\" (expected only "
		  "\"name\" and \"enabled\": false, which removes the built-in rule of that name)");
	EXPECT_AT(PACK_HEAD " 'rules': [{'name': 'copy-out', 'enabled': @0}]}",
		  "\"enabled\" of rules[0] (\"copy-out\") must be true or false, not a number");
	EXPECT_AT(PACK_HEAD " 'builtin_rules': @'no'}",
		  "\"builtin_rules\" must be true or false, not a string");
	EXPECT_AT(PACK_HEAD " 'rules': [{'name': 'a', 'enabled': false}, {'name': @'a', 'kind': "
			    "'match', 'where': {'user': 'x'}}]}",
		  "\"name\" \"a\" is used by rules[0] and rules[1] (detection rule names must be "
		  "unique)");
}

/* More rules than the engine takes, alone and with the pack. */
TEST(config_rules_too_many)
{
	size_t size = 96 * (CONFIG_DETECT_RULES_MAX + 2) + 512, o, i;
	char *text = malloc(size);
	struct config_error err;
	struct config *cfg;

	if (!ASSERT_OK_PTR(text, "malloc"))
		return;
	for (int n = CONFIG_DETECT_RULES_MAX - 9; n <= CONFIG_DETECT_RULES_MAX + 1; n++) {
		o = snprintf(text, size,
			     "{\"watch\": [{\"name\": \"r\", \"paths\": [\"/a\"]}], \"rules\": [");
		for (i = 0; i < (size_t)n; i++)
			o += snprintf(text + o, size - o,
				      "%s\n{\"name\": \"r%zu\", \"kind\": \"match\", \"where\": "
				      "{\"user\": \"x\"}}",
				      i ? "," : "", i);
		snprintf(text + o, size - o, "]}");
		cfg = config_load_string(text, "test.json", &err);
		if (n <= CONFIG_DETECT_RULES_MAX - 9) {
			ASSERT_OK_PTR(cfg, err.message);
		} else if (n <= CONFIG_DETECT_RULES_MAX) {
			/* with the 9 built-in rules, rule 247 (index 247) is one too many */
			ASSERT_NULL(cfg, "with the pack, too many");
			ASSERT_EQ(err.line, CONFIG_DETECT_RULES_MAX - 9 + 2, "the rule too many");
			ASSERT_HAS(err.message, "rules[247] (\"r247\") is one rule too many",
				   "message");
			ASSERT_HAS(err.message, "\"builtin_rules\": false drops", "message");
		} else {
			ASSERT_NULL(cfg, "more than 256");
			ASSERT_EQ(err.line, CONFIG_DETECT_RULES_MAX + 2, "rules[256]");
			ASSERT_EQ(err.column, 1, "rules[256] column");
			ASSERT_HAS(err.message, "\"rules\" has 257 rules (expected at most 256)",
				   "message");
		}
		config_free(cfg);
	}
	free(text);
}

TEST(config_rules_rule_errors)
{
	EXPECT_AT(HEAD " 'rules': @{}}", "\"rules\" must be an array of detection rules, not an "
					 "object");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}}, @'y'"),
		  "rules[1] must be an object, not a string (expected a rule such as");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, @'when': 1}"),
		  "unknown key \"when\" in rules[0] (\"x\") (expected one of: name, kind, "
		  "description, technique, severity, enabled, where, group_by, count, sum, "
		  "distinct, over, at_least, key, learn, by, within, steps)");
	EXPECT_AT(RULES("@{'kind': 'match', 'where': {'user': 'a'}}"),
		  "missing key \"name\" in rules[0] (expected a detection rule name of 1 to 64");
	EXPECT_AT(RULES("{'name': @['x'], 'kind': 'match'}"),
		  "\"name\" of rules[0] must be a string, not an array (expected 1 to 64 "
		  "characters from A-Z, a-z, 0-9, '.', '_' and '-')");
	EXPECT_AT(RULES("{'name': @'off hours', 'kind': 'match'}"),
		  "rules[0].name: \"off hours\" is not a valid rule name (expected 1 to 64");
	EXPECT_AT(RULES("{'name': "
			"@'a1234567890123456789012345678901234567890123456789012345678901234',"
			" 'kind': 'match'}"),
		  "is not a valid rule name");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}},\n"
			"{'name': @'x', 'kind': 'match', 'where': {'user': 'b'}}"),
		  "\"name\" \"x\" is used by rules[0] and rules[1]");
	EXPECT_AT(RULES("@{'name': 'x', 'where': {'user': 'a'}}"),
		  "missing key \"kind\" in rules[0] (\"x\") (expected \"threshold\", "
		  "\"first_seen\", \"match\" or \"sequence\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': @'rate'}"),
		  "\"kind\" of rules[0] (\"x\") is \"rate\" (expected \"threshold\", "
		  "\"first_seen\", \"match\" or \"sequence\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': @1}"),
		  "\"kind\" of rules[0] (\"x\") must be a string, not a number");
	EXPECT_AT(
	    RULES("{'name': 'x', 'kind': 'threshold', 'group_by': ['user.name'], "
		  "'over': '1m', 'at_least': 2, @'learn': '1d'}"),
	    "\"learn\" does not apply to a rule of kind \"threshold\" (expected the keys of a "
	    "threshold rule: where, group_by, count, sum, distinct, over, at_least)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'sequence', @'where': {}, 'by': ['user.name']}"),
		  "\"where\" does not apply to a rule of kind \"sequence\" (expected the keys of a "
		  "sequence rule: by, within, steps)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, @'at_least': 1}"),
		  "\"at_least\" does not apply to a rule of kind \"match\" (expected the keys of a "
		  "match rule: where, group_by, over)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'first_seen', 'key': ['user.name'], @'over': "
			"'1m'}"),
		  "\"over\" does not apply to a rule of kind \"first_seen\" (expected the keys of "
		  "a first_seen rule: where, key, learn)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'technique': "
			"@'T12'}"),
		  "rules[0].technique: \"T12\" is not a technique id (expected a MITRE ATT&CK "
		  "technique id such as \"T1213\" or \"T1213.001\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'technique': "
			"@'T1213.01'}"),
		  "\"T1213.01\" is not a technique id");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'technique': "
			"@'t1213'}"),
		  "\"t1213\" is not a technique id");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'technique': "
			"@1213}"),
		  "\"technique\" of rules[0] (\"x\") must be a string, not a number");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'severity': "
			"@'urgent'}"),
		  "\"severity\" of rules[0] (\"x\") is \"urgent\" (expected \"low\", \"medium\", "
		  "\"high\" or \"critical\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'description': "
			"@''}"),
		  "rules[0].description is empty (expected a description of the rule)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'description': "
			"@'a\\tb'}"),
		  "rules[0].description: \"a\\tb\" contains a control character");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'description': "
			"@null}"),
		  "\"description\" of rules[0] (\"x\") must be a string, not null");
}

TEST(config_rules_threshold_errors)
{
#define T(members) RULES("{'name': 'x', 'kind': 'threshold', " members "}")
	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'threshold', 'over': '1m', 'at_least': 1}"),
		  "missing key \"group_by\" in rules[0] (\"x\") (expected 1 to 4 fields such as "
		  "[\"user.audit.name\"])");
	EXPECT_AT(T("'group_by': @'user.name', 'over': '1m', 'at_least': 1"),
		  "\"group_by\" of rules[0] (\"x\") must be an array of field names, not a string "
		  "(expected 1 to 4 fields such as [\"user.audit.name\"])");
	EXPECT_AT(T("'group_by': @[], 'over': '1m', 'at_least': 1"),
		  "\"group_by\" of rules[0] (\"x\") has 0 fields (expected 1 to 4");
	EXPECT_AT(T("'group_by': @['user.name', 'user.id', 'process.pid', 'process.name', "
		    "'file.path'], 'over': '1m', 'at_least': 1"),
		  "has 5 fields (expected 1 to 4");
	EXPECT_AT(T("'group_by': ['user.name', @'user'], 'over': '1m', 'at_least': 1"),
		  "rules[0].group_by[1]: \"user\" is not a field (expected one of user.name, "
		  "user.audit.name, user.id, process.pid, process.name, process.executable, "
		  "process.session_id, custos.rule, file.path, custos.db.tables (or "
		  "db.collection.name), db.namespace, destination.address)");
	EXPECT_AT(T("'group_by': ['user.name', @7], 'over': '1m', 'at_least': 1"),
		  "rules[0].group_by[1] must be a string, not a number (expected a field name");
	EXPECT_AT(T("'group_by': ['custos.db.tables', @'db.collection.name'], 'over': '1m', "
		    "'at_least': 1"),
		  "rules[0].group_by[1]: \"db.collection.name\" is the field of group_by[0] again "
		  "(expected each field once)");
	EXPECT_AT(T("'group_by': ['user.name'], 'count': @false, 'over': '1m', 'at_least': 1"),
		  "\"count\" of rules[0] (\"x\") must be true, not false (expected true to count "
		  "events, or \"sum\" or \"distinct\" instead of \"count\")");
	EXPECT_AT(T("'group_by': ['user.name'], 'count': @1, 'over': '1m', 'at_least': 1"),
		  "must be true, not a number");
	EXPECT_AT(T("'group_by': ['user.name'], 'sum': 'rows_or_bytes', @'distinct': "
		    "'file.path', 'over': '1m', 'at_least': 1"),
		  "rules[0] (\"x\") has both \"sum\" and \"distinct\" (expected one of \"count\": "
		  "true, \"sum\" or \"distinct\": what the rule adds up)");
	EXPECT_AT(T("'group_by': ['user.name'], 'count': true, @'sum': 'rows_or_bytes', "
		    "'over': '1m', 'at_least': 1"),
		  "has both \"count\" and \"sum\"");
	EXPECT_AT(T("'group_by': ['user.name'], 'sum': @'rows', 'over': '1m', 'at_least': 1"),
		  "rules[0].sum: \"rows\" is not a value to add up (expected \"rows_or_bytes\", "
		  "\"db.response.returned_rows\", \"custos.io.bytes_read\" or "
		  "\"custos.io.bytes_written\")");
	EXPECT_AT(T("'group_by': ['user.name'], 'sum': @['rows_or_bytes'], 'over': '1m', "
		    "'at_least': 1"),
		  "\"sum\" of rules[0] (\"x\") must be a string, not an array");
	EXPECT_AT(T("'group_by': ['user.name'], 'distinct': @'path', 'over': '1m', 'at_least': 1"),
		  "rules[0].distinct: \"path\" is not a field (expected one of user.name");
	EXPECT_AT(T("'group_by': ['user.name'], 'distinct': @true, 'over': '1m', 'at_least': 1"),
		  "\"distinct\" of rules[0] (\"x\") must be a string, not a boolean");
	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'threshold', 'group_by': ['user.name'], "
			"'at_least': 1}"),
		  "missing key \"over\" in rules[0] (\"x\") (expected the window, a duration such "
		  "as \"10m\")");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @600, 'at_least': 1"),
		  "\"over\" of rules[0] (\"x\") must be a string, not a number (expected a whole "
		  "number and a unit, s, m, h or d: \"30s\", \"10m\", \"2h\", \"7d\")");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'10', 'at_least': 1"),
		  "rules[0].over: \"10\" is not a duration (expected a whole number and a unit");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'10 m', 'at_least': 1"),
		  "\"10 m\" is not a duration");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'m', 'at_least': 1"),
		  "\"m\" is not a duration");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'1w', 'at_least': 1"),
		  "\"1w\" is not a duration");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'-1m', 'at_least': 1"),
		  "\"-1m\" is not a duration");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'1000000000s', 'at_least': 1"),
		  "\"1000000000s\" is not a duration");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'0m', 'at_least': 1"),
		  "rules[0].over: \"0m\" is out of range (expected 1s to 31d)");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'32d', 'at_least': 1"),
		  "rules[0].over: \"32d\" is out of range (expected 1s to 31d)");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': @'745h', 'at_least': 1"),
		  "\"745h\" is out of range");
	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'threshold', 'group_by': ['user.name'], 'over': "
			"'1m'}"),
		  "missing key \"at_least\" in rules[0] (\"x\") (expected the value that fires the "
		  "rule: an integer of at least 1)");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': '1m', 'at_least': @0"),
		  "\"at_least\" of rules[0] (\"x\") is 0 (expected at least 1)");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': '1m', 'at_least': @-5"), "is -5");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': '1m', 'at_least': @'5'"),
		  "\"at_least\" of rules[0] (\"x\") must be an integer, not a string");
	EXPECT_AT(T("'group_by': ['user.name'], 'over': '1m', 'at_least': @1.5"),
		  "must be an integer, not a real number");
#undef T
}

TEST(config_rules_other_kind_errors)
{
	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'first_seen'}"),
		  "missing key \"key\" in rules[0] (\"x\") (expected 1 to 4 fields such as "
		  "[\"process.executable\"])");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'first_seen', 'key': ['process.executable', "
			"@'process.exe']}"),
		  "rules[0].key[1]: \"process.exe\" is not a field");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'first_seen', 'key': ['user.name'], 'learn': "
			"@'366d'}"),
		  "rules[0].learn: \"366d\" is out of range (expected 0s to 365d)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'first_seen', 'key': ['user.name'], 'learn': "
			"@'7 days'}"),
		  "rules[0].learn: \"7 days\" is not a duration");

	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'match'}"),
		  "missing key \"where\" in rules[0] (\"x\") (expected the events to match, such "
		  "as {\"tags\": [\"customer-data\"], \"action\": \"read\"})");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': @{}}"),
		  "\"where\" of rules[0] (\"x\") is empty, which every event matches (expected at "
		  "least one condition, such as \"tags\" or \"category\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': @['tags']}"),
		  "\"where\" of rules[0] (\"x\") must be an object, not an array");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'over': @'0s'}"),
		  "rules[0].over: \"0s\" is out of range (expected 1s to 31d)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'user': 'a'}, 'group_by': @[]}"),
		  "\"group_by\" of rules[0] (\"x\") has 0 fields");

#define SEQ(members) RULES("{'name': 'x', 'kind': 'sequence', " members "}")
	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'sequence', 'within': '1m'}"),
		  "missing key \"by\" in rules[0] (\"x\") (expected the fields the steps share, "
		  "such as [\"process.session_id\"])");
	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'sequence', 'by': ['process.pid']}"),
		  "missing key \"within\" in rules[0] (\"x\") (expected the time from the first "
		  "step to the last, such as \"2m\")");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': @'32d'"), "\"32d\" is out of range");
	EXPECT_AT(RULES("@{'name': 'x', 'kind': 'sequence', 'by': ['process.pid'], 'within': "
			"'1m'}"),
		  "missing key \"steps\" in rules[0] (\"x\") (expected 2 to 8 steps such as");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': '1m', 'steps': @{'where': {}}"),
		  "\"steps\" of rules[0] (\"x\") must be an array of steps, not an object");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': '1m', 'steps': @[{'where': {'user': "
		      "'a'}}]"),
		  "\"steps\" of rules[0] (\"x\") has 1 steps (expected 2 to 8)");
	EXPECT_AT(
	    SEQ("'by': ['process.pid'], 'within': '1m', 'steps': @[{'where': {'user': 'a'}}, "
		"{'where': {'user': 'b'}}, {'where': {'user': 'c'}}, {'where': {'user': 'd'}}, "
		"{'where': {'user': 'e'}}, {'where': {'user': 'f'}}, {'where': {'user': 'g'}}, "
		"{'where': {'user': 'h'}}, {'where': {'user': 'i'}}]"),
	    "has 9 steps (expected 2 to 8)");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': '1m', 'steps': [{'where': {'user': 'a'}}, "
		      "@'b']"),
		  "rules[0].steps[1] must be an object, not a string (expected {\"where\": "
		  "{...}})");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': '1m', 'steps': [{'where': {'user': 'a'}}, "
		      "{'where': {'user': 'b'}, @'within': '1m'}]"),
		  "unknown key \"within\" in rules[0].steps[1] (expected one of: where)");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': '1m', 'steps': [{'where': {'user': 'a'}}, "
		      "@{}]"),
		  "missing key \"where\" in rules[0].steps[1] (expected the events to match");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': '1m', 'steps': [{'where': {'user': 'a'}}, "
		      "{'where': @{}}]"),
		  "\"where\" of rules[0].steps[1] is empty, which every event matches");
	EXPECT_AT(SEQ("'by': ['process.pid'], 'within': '1m', 'steps': [{'where': {'user': 'a'}}, "
		      "{'where': {'user': 'b', @'step': 2}}]"),
		  "unknown key \"step\" in rules[0].steps[1].where (expected one of: category, "
		  "action, tags, rule, user, login_user, comm, exe, table, operation, endpoint, "
		  "outside_watch, removable, outside_hours, inside_hours, tz)");
#undef SEQ
}

TEST(config_rules_where_errors)
{
	EXPECT_AT(WHERE("@'tag': 'pii'"), "unknown key \"tag\" in rules[0].where (expected one of: "
					  "category, action, tags,");
	EXPECT_AT(WHERE("'category': @'files'"),
		  "rules[0].where.category: \"files\" is not a category (expected \"file\", "
		  "\"database\" or \"network\")");
	EXPECT_AT(WHERE("'category': ['file', @'file']"),
		  "rules[0].where.category[1]: \"file\" is listed twice (expected each category "
		  "once)");
	EXPECT_AT(WHERE("'category': @3"),
		  "\"category\" of rules[0].where must be a string or an array of strings, not a "
		  "number (expected \"file\", \"database\" or \"network\")");
	EXPECT_AT(WHERE("'category': ['file', @null]"),
		  "rules[0].where.category[1] must be a string, not null");
	EXPECT_AT(WHERE("'category': @[]"),
		  "\"category\" of rules[0].where is empty (expected \"file\", \"database\" or "
		  "\"network\": at least one, or no \"category\")");
	EXPECT_AT(WHERE("'action': ['read', @'copy']"),
		  "rules[0].where.action[1]: \"copy\" is not an action (expected \"open\", "
		  "\"close\", \"flush\", \"mmap\", \"truncate\", \"chmod\", \"chown\", \"unlink\", "
		  "\"rename\", \"query\", \"connect\", \"accept\", \"read\" or \"write\")");
	EXPECT_AT(WHERE("'action': ['read', @'read']"), "\"read\" is listed twice");
	EXPECT_AT(WHERE("'category': 'file', 'action': ['read', @'connect']"),
		  "rules[0].where.action[1]: \"connect\" is an action of network events, and "
		  "\"category\" of rules[0].where allows only file events: it can never match "
		  "(expected an action of file events: \"open\", \"close\", \"flush\", \"mmap\", "
		  "\"truncate\", \"chmod\", \"chown\", \"unlink\", \"rename\", \"read\" or "
		  "\"write\")");
	EXPECT_AT(WHERE("'category': 'database', 'action': @'open'"),
		  "rules[0].where.action: \"open\" is an action of file or network events, and "
		  "\"category\" of rules[0].where allows only database events");
	EXPECT_AT(WHERE("'tags': ['pii', @'customer_data']"),
		  "rules[0].where.tags[1]: \"customer_data\" is a tag of no watch rule, endpoint "
		  "or databases.tags, so no event carries it (expected one of the tags "
		  "configured: \"customer-data\", \"pii\", \"db\")");
	EXPECT_AT(WHERE("'tags': @''"), "rules[0].where.tags is empty (expected a tag)");
	EXPECT_AT(WHERE("'tags': [@1]"), "rules[0].where.tags[0] must be a string, not a number "
					 "(expected a tag)");
	EXPECT_AT(
	    WHERE("'rule': @'crm-dbs'"),
	    "rules[0].where.rule: \"crm-dbs\" is the name of no watch rule or endpoint, so no "
	    "event has it in custos.rule (expected one of: \"crm\", \"crm-db\")");
	EXPECT_AT(WHERE("'rule': @'crm db'"),
		  "rules[0].where.rule: \"crm db\" is not a rule name (expected 1 to 64");
	EXPECT_AT(WHERE("'user': ['alice', @'a b']"),
		  "rules[0].where.user[1]: \"a b\" is not a user name (expected a user name or a "
		  "uid; a name has no spaces, ':' or '/')");
	EXPECT_AT(WHERE("'user': @-1"),
		  "rules[0].where.user: -1 is out of range (expected a user name or a uid; a uid "
		  "from 0 to 4294967294)");
	EXPECT_AT(WHERE("'login_user': [@4294967295]"),
		  "rules[0].where.login_user[0]: 4294967295 is out of range");
	EXPECT_AT(WHERE("'login_user': @true"),
		  "\"login_user\" of rules[0].where must be a string or an array of strings, not a "
		  "boolean");
	EXPECT_AT(WHERE("'user': @'abcdefghijklmnopqrstuvwxyz0123456'"),
		  "is 33 bytes long (expected a user name or a uid, at most 32 bytes)");
	EXPECT_AT(WHERE("'comm': ['psql', @'postgres-backend']"),
		  "rules[0].where.comm[1]: \"postgres-backend\" is 16 bytes long (expected a "
		  "process name as the kernel keeps it, at most 15 bytes)");
	EXPECT_AT(WHERE("'exe': @'psql'"),
		  "rules[0].where.exe: \"psql\" is not an absolute path (expected a path or glob "
		  "starting with \"/\")");
	EXPECT_AT(WHERE("'table': ['customers', @'']"),
		  "rules[0].where.table[1] is empty (expected a table name or pattern");
	EXPECT_AT(WHERE("'operation': @'SELECT *'"),
		  "rules[0].where.operation: \"SELECT *\" is not an SQL keyword (expected an SQL "
		  "keyword such as \"SELECT\" or \"COPY\": 1 to 31 letters)");
	EXPECT_AT(WHERE("'endpoint': @'unknown'"),
		  "\"endpoint\" of rules[0].where is \"unknown\" (expected \"any\", \"watched\" or "
		  "\"unwatched\")");
	EXPECT_AT(WHERE("'outside_watch': @'yes'"),
		  "\"outside_watch\" of rules[0].where must be true or false, not a string");
	EXPECT_AT(WHERE("'removable': @1"),
		  "\"removable\" of rules[0].where must be true or false, not a number");
}

TEST(config_rules_hours_errors)
{
	EXPECT_AT(WHERE("'outside_hours': @'8-19'"),
		  "rules[0].where.outside_hours: \"8-19\" is not hours of the week (expected "
		  "\"HH:MM-HH:MM\", optionally followed by days: \"08:00-19:00 Mon-Fri\", "
		  "\"22:00-06:00 Sat,Sun\")");
	EXPECT_AT(WHERE("'outside_hours': @'08:00-19:00 Mon-Fry'"), "is not hours of the week");
	EXPECT_AT(WHERE("'outside_hours': @'08:00-19:00 Mon-'"), "is not hours of the week");
	EXPECT_AT(WHERE("'outside_hours': @'08:00-19:00  Mon'"), "is not hours of the week");
	EXPECT_AT(WHERE("'outside_hours': @'08:00-19:00 Mon,'"), "is not hours of the week");
	EXPECT_AT(WHERE("'outside_hours': @'08:00-19:00Mon'"), "is not hours of the week");
	EXPECT_AT(WHERE("'inside_hours': @'24:00-06:00'"), "is not hours of the week");
	EXPECT_AT(WHERE("'inside_hours': @'23:60-06:00'"), "is not hours of the week");
	EXPECT_AT(WHERE("'inside_hours': @'22:00-24:01'"), "is not hours of the week");
	EXPECT_AT(WHERE("'inside_hours': @'22:00-6:00'"), "is not hours of the week");
	EXPECT_AT(WHERE("'inside_hours': @'08:00-08:00'"),
		  "rules[0].where.inside_hours: \"08:00-08:00\" starts and ends at the same time "
		  "(expected a start and an end that differ; \"00:00-24:00\" for whole days)");
	EXPECT_AT(WHERE("'inside_hours': @['08:00-12:00']"),
		  "\"inside_hours\" of rules[0].where must be a string, not an array");
	EXPECT_AT(WHERE("'outside_hours': '08:00-19:00', @'inside_hours': '20:00-21:00'"),
		  "rules[0].where has both \"outside_hours\" and \"inside_hours\" (expected one of "
		  "them)");
	EXPECT_AT(WHERE("'user': 'a', @'tz': 'Europe/Berlin'"),
		  "\"tz\" of rules[0].where without \"outside_hours\" or \"inside_hours\" "
		  "(expected the hours the time zone is for, or no \"tz\")");
	EXPECT_AT(WHERE("'outside_hours': '08:00-19:00', 'tz': @'Europe/Berln'"),
		  "rules[0].where.tz: \"Europe/Berln\": unknown time zone (no file "
		  "/usr/share/zoneinfo/Europe/Berln) (expected an IANA time zone name such as "
		  "\"Europe/Berlin\", from /usr/share/zoneinfo)");
	EXPECT_AT(WHERE("'outside_hours': '08:00-19:00', 'tz': @'../../etc/passwd'"),
		  "rules[0].where.tz: \"../../etc/passwd\": not a time zone name");
	EXPECT_AT(WHERE("'outside_hours': '08:00-19:00', 'tz': @'/etc/localtime'"),
		  "not a time zone name");
	EXPECT_AT(WHERE("'outside_hours': '08:00-19:00', 'tz': @'Europe'"),
		  "rules[0].where.tz: \"Europe\": /usr/share/zoneinfo/Europe is a directory of "
		  "zones, not a zone");
	EXPECT_AT(WHERE("'outside_hours': '08:00-19:00', 'tz': @'zone.tab'"),
		  "/usr/share/zoneinfo/zone.tab is not a usable time zone file: it does not start "
		  "with a TZif header");
	EXPECT_AT(WHERE("'outside_hours': '08:00-19:00', 'tz': @2"),
		  "\"tz\" of rules[0].where must be a string, not a number");
}

/* Conditions no event meets together, or a rule that can never fire, are refused. */
TEST(config_rules_impossible)
{
	EXPECT_AT(
	    RULES("{'name': 'x', 'kind': 'threshold', 'where': {'category': 'file'}, "
		  "'group_by': ['user.name'], 'sum': @'db.response.returned_rows', 'over': "
		  "'1m', 'at_least': 1}"),
	    "rules[0].sum \"db.response.returned_rows\" adds up a value of database events "
	    "only, but rules[0].where allows only file events (by \"category\"): no event can "
	    "match, the rule can never fire (expected a where that allows database events, "
	    "or another \"sum\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'threshold', 'where': {'category': 'database'}, "
			"'group_by': ['user.name'], 'sum': @'custos.io.bytes_read', 'over': '1m', "
			"'at_least': 1}"),
		  "rules[0].sum \"custos.io.bytes_read\" adds up a value of file or network events "
		  "only, but rules[0].where allows only database events");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'threshold', 'where': {'table': 'customers'}, "
			"'group_by': ['user.name'], 'sum': @'custos.io.bytes_written', 'over': "
			"'1m', 'at_least': 1}"),
		  "only, but rules[0].where allows only database events (by \"table\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'threshold', 'where': {'category': 'database'}, "
			"'group_by': ['user.name'], 'distinct': @'file.path', 'over': '1m', "
			"'at_least': 1}"),
		  "rules[0].distinct \"file.path\" is a field of file events only, but "
		  "rules[0].where allows only database events (by \"category\"): no event can "
		  "match, the rule can never fire (expected a where that allows file events, or "
		  "another field)");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'threshold', 'where': {'action': 'query'}, "
			"'group_by': ['user.name'], 'distinct': @'file.path', 'over': '1m', "
			"'at_least': 1}"),
		  "allows only database events (by \"action\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'threshold', 'where': {'category': 'file'}, "
			"'group_by': ['user.name', @'db.namespace'], 'over': '1m', 'at_least': 1}"),
		  "rules[0].group_by[1] \"db.namespace\" is a field of database events only, but "
		  "rules[0].where allows only file events (by \"category\")");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'first_seen', 'where': {'category': 'network'}, "
			"'key': [@'custos.db.tables']}"),
		  "rules[0].key[0] \"custos.db.tables\" is a field of database events only, but "
		  "rules[0].where allows only network events");
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'match', 'where': {'category': 'file'}, "
			"'group_by': [@'destination.address']}"),
		  "rules[0].group_by[0] \"destination.address\" is a field of database or network "
		  "events only, but rules[0].where allows only file events");
	EXPECT_AT(WHERE("'category': 'file', 'endpoint': @'watched'"),
		  "rules[0].where.endpoint \"watched\" applies to network events only, but "
		  "rules[0].where allows only file events (by \"category\"): no event can match, "
		  "the rule can never fire (expected a where that allows network events, or "
		  "\"endpoint\": \"any\")");
	EXPECT_AT(WHERE("'category': ['network', 'database'], 'outside_watch': @true"),
		  "rules[0].where.outside_watch applies to file events only, but rules[0].where "
		  "allows only database or network events (by \"category\")");
	EXPECT_AT(WHERE("'category': 'database', 'removable': @true"),
		  "rules[0].where.removable applies to file events only");
	EXPECT_AT(WHERE("'category': 'network', 'table': @'customers'"),
		  "rules[0].where.table applies to database events only, but rules[0].where allows "
		  "only network events (by \"category\"): no event can match, the rule can never "
		  "fire (expected a where that allows database events, or no \"table\")");
	EXPECT_AT(WHERE("'category': 'file', 'operation': @'SELECT'"),
		  "rules[0].where.operation applies to database events only");
	/* without "category": the keys that ask for one kind of event each */
	EXPECT_AT(WHERE("'table': 'customers', 'endpoint': @'unwatched'"),
		  "rules[0].where.endpoint \"unwatched\" applies to network events only, but "
		  "rules[0].where allows only database events (by \"table\")");
	EXPECT_AT(WHERE("'action': ['connect', 'accept'], 'removable': @true"),
		  "allows only network events (by \"action\")");
	EXPECT_AT(WHERE("'action': 'mmap', 'outside_watch': true, 'endpoint': @'watched'"),
		  "allows only file events (by \"action\")");
	/* the keys are taken in a fixed order: endpoint, then outside_watch and removable */
	EXPECT_AT(WHERE("'category': ['file', 'network'], 'action': 'open', 'removable': @true, "
			"'endpoint': 'watched'"),
		  "rules[0].where.removable applies to file events only, but rules[0].where allows "
		  "only network events (by \"category\", \"endpoint\")");
	/* what no watch rule or endpoint covers has no custos.rule or custos.tags */
	EXPECT_AT(WHERE("'outside_watch': true, 'tags': @'pii'"),
		  "rules[0].where.tags: \"outside_watch\": true asks for what no watch rule or "
		  "endpoint covers, whose events carry no custos.rule and no custos.tags: no event "
		  "can match (expected no \"tags\" here, or no \"outside_watch\")");
	EXPECT_AT(WHERE("'endpoint': 'unwatched', 'rule': @['crm-db']"),
		  "rules[0].where.rule: \"endpoint\": \"unwatched\" asks for what no watch rule or "
		  "endpoint covers");
	/* the steps of a sequence */
	EXPECT_AT(RULES("{'name': 'x', 'kind': 'sequence', 'by': [@'file.path'], 'within': '1m', "
			"'steps': [{'where': {'category': 'file'}}, {'where': {'category': "
			"'network'}}]}"),
		  "rules[0].by[0] \"file.path\" is a field of file events only, but "
		  "rules[0].steps[1].where allows only network events (by \"category\")");
	EXPECT_AT(
	    RULES("{'name': 'x', 'kind': 'sequence', 'by': ['process.pid'], 'within': '1m', "
		  "'steps': @[{'where': {'tags': ['pii'], 'action': 'read'}}, {'where': "
		  "{'tags': ['pii'], 'action': 'read'}}, {'where': {'tags': ['pii'], 'action': "
		  "'read'}}]}"),
	    "rules[0].steps: its 3 steps are all the same (expected steps that differ; a "
	    "number of one kind of event is a \"threshold\" rule)");
}

/* An error deep in a rule points at the very element, with line and column. */
TEST(config_rules_deep_position)
{
	EXPECT_ERROR(
	    j(RULES("\n"
		    "  {'name': 'read-then-send', 'kind': 'sequence', 'by': ['process.pid'],\n"
		    "   'within': '2m', 'steps': [\n"
		    "     {'where': {'tags': ['customer-data'], 'action': 'read'}},\n"
		    "     {'where': {'category': ['network', 'netwrk']}}]}")),
	    8, 41,
	    "rules[0].steps[1].where.category[1]: \"netwrk\" is not a category (expected "
	    "\"file\", \"database\" or \"network\")");
	EXPECT_ERROR(j(RULES("\n"
			     "  {'name': 'r', 'kind': 'sequence', 'by': ['process.pid'],\n"
			     "   'within': '2m', 'steps': [\n"
			     "     {'where': {'tags': ['customer-data'], 'action': 'read'}},\n"
			     "     {'where': {'tags': ['customer-data', 'pi']}}]}")),
		     8, 43, "rules[0].steps[1].where.tags[1]: \"pi\" is a tag of no watch rule");
	EXPECT_ERROR(j(RULES("\n"
			     "  {'name': 'r', 'kind': 'sequence', 'by': ['process.pid'],\n"
			     "   'within': '2m', 'steps': [\n"
			     "     {'where': {'tags': ['customer-data'], 'action': 'read'}},\n"
			     "     {'where': {'tags': ['customer-data'], 'wehre': 1}}]}")),
		     8, 44, "unknown key \"wehre\" in rules[0].steps[1].where");
}

/* A rule that never reaches an error is accepted: the mark is at the end. */
TEST(config_rules_sequence_differs_by_zone)
{
	struct config *cfg = load_ok(
	    RULES("{'name': 'x', 'kind': 'sequence', 'by': ['process.pid'], 'within': '1m', "
		  "'steps': [{'where': {'outside_hours': '08:00-19:00', 'tz': 'UTC', 'user': "
		  "'a'}}, {'where': {'user': 'a', 'outside_hours': '08:00-19:00', 'tz': "
		  "'Europe/Berlin'}}]}"));

	if (cfg)
		ASSERT_EQ(cfg->detect[0].n_steps, 2, "steps that differ by their zone");
	config_free(cfg);
}

/* ---------------------------------------------------------------- hours */

#define MON_0800_BERLIN	    1767596400LL /* Monday 2026-01-05 08:00 CET */
#define MON_0800_BERLIN_JUL 1783317600LL /* Monday 2026-07-06 08:00 CEST */
#define MIN		    60LL
#define HOUR		    3600LL

static bool contains(const struct config_hours *h, int64_t unix_s)
{
	return config_hours_contains(h, unix_s * NS);
}

TEST(config_hours_contains)
{
	struct config_hours h = {.set = true, .from_min = 8 * 60, .to_min = 19 * 60, .days = 0x1f};
	char err[128];

	h.zone = tz_load("Europe/Berlin", err, sizeof(err));
	if (!ASSERT_OK_PTR(h.zone, err))
		return;
	ASSERT_FALSE(contains(&h, MON_0800_BERLIN - 1), "Monday 07:59:59");
	ASSERT_TRUE(contains(&h, MON_0800_BERLIN), "Monday 08:00");
	ASSERT_TRUE(contains(&h, MON_0800_BERLIN + 11 * HOUR - 1), "Monday 18:59:59");
	ASSERT_FALSE(contains(&h, MON_0800_BERLIN + 11 * HOUR), "Monday 19:00");
	ASSERT_TRUE(contains(&h, MON_0800_BERLIN + 4 * S_PER_DAY + 10 * HOUR), "Friday 18:00");
	ASSERT_FALSE(contains(&h, MON_0800_BERLIN + 5 * S_PER_DAY + 2 * HOUR), "Saturday 10:00");
	ASSERT_FALSE(contains(&h, MON_0800_BERLIN - S_PER_DAY + 2 * HOUR), "Sunday 10:00");
	/* in summer the same local hours are an hour earlier in UTC */
	ASSERT_TRUE(contains(&h, MON_0800_BERLIN_JUL), "July Monday 08:00 CEST");
	ASSERT_FALSE(contains(&h, MON_0800_BERLIN_JUL - 1), "July Monday 07:59:59 CEST");
	ASSERT_FALSE(contains(&h, MON_0800_BERLIN_JUL + 11 * HOUR), "July Monday 19:00 CEST");
	/* ns: the second an instant is in, also before 1970 */
	ASSERT_TRUE(config_hours_contains(&h, MON_0800_BERLIN * NS + 999999999), "08:00:00.9");
	ASSERT_FALSE(config_hours_contains(&h, MON_0800_BERLIN * NS - 1), "07:59:59.999999999");

	/* the matching of a where: outside_hours is true when not contained */
	h.outside = true;
	ASSERT_TRUE(config_hours_match(&h, (MON_0800_BERLIN - 1) * NS), "outside at 07:59:59");
	ASSERT_FALSE(config_hours_match(&h, MON_0800_BERLIN * NS), "not outside at 08:00");
	h.outside = false;
	ASSERT_TRUE(config_hours_match(&h, MON_0800_BERLIN * NS), "inside at 08:00");
	h.set = false;
	ASSERT_TRUE(config_hours_match(&h, (MON_0800_BERLIN - 1) * NS), "no hours: always");
	tz_free(h.zone);
}

TEST(config_hours_past_midnight)
{
	/* 22:00-06:00 on Fridays, UTC: Friday night into Saturday morning */
	struct config_hours h = {.set = true, .from_min = 22 * 60, .to_min = 6 * 60, .days = 0x10};
	int64_t fri = 1767916800LL; /* Friday 2026-01-09 00:00 UTC */

	h.zone = tz_utc();
	if (!ASSERT_OK_PTR(h.zone, "tz_utc"))
		return;
	ASSERT_FALSE(contains(&h, fri + 5 * HOUR), "Friday 05:00: Thursday's night");
	ASSERT_FALSE(contains(&h, fri + 22 * HOUR - 1), "Friday 21:59:59");
	ASSERT_TRUE(contains(&h, fri + 22 * HOUR), "Friday 22:00");
	ASSERT_TRUE(contains(&h, fri + 23 * HOUR + 59 * MIN), "Friday 23:59");
	ASSERT_TRUE(contains(&h, fri + S_PER_DAY), "Saturday 00:00");
	ASSERT_TRUE(contains(&h, fri + S_PER_DAY + 6 * HOUR - 1), "Saturday 05:59:59");
	ASSERT_FALSE(contains(&h, fri + S_PER_DAY + 6 * HOUR), "Saturday 06:00");
	ASSERT_FALSE(contains(&h, fri + S_PER_DAY + 22 * HOUR), "Saturday 22:00");

	/* Sunday night into Monday: the week wraps */
	h.days = 0x40;
	ASSERT_TRUE(contains(&h, fri + 2 * S_PER_DAY + 23 * HOUR), "Sunday 23:00");
	ASSERT_TRUE(contains(&h, fri + 3 * S_PER_DAY + HOUR), "Monday 01:00");
	ASSERT_FALSE(contains(&h, fri + 3 * S_PER_DAY + 23 * HOUR), "Monday 23:00");

	/* whole days */
	h = (struct config_hours){
	    .set = true, .from_min = 0, .to_min = 24 * 60, .days = 0x60, .zone = h.zone};
	ASSERT_FALSE(contains(&h, fri + S_PER_DAY - 1), "Friday 23:59:59");
	ASSERT_TRUE(contains(&h, fri + S_PER_DAY), "Saturday 00:00");
	ASSERT_TRUE(contains(&h, fri + 3 * S_PER_DAY - 1), "Sunday 23:59:59");
	ASSERT_FALSE(contains(&h, fri + 3 * S_PER_DAY), "Monday 00:00");
	/* before 1970: 1969-12-31 was a Wednesday */
	h.days = 0x04;
	ASSERT_TRUE(contains(&h, -HOUR), "Wednesday 1969-12-31 23:00");
	ASSERT_FALSE(contains(&h, 0), "Thursday 1970-01-01 00:00");
	/* a start equal to the end contains nothing */
	h.from_min = h.to_min = 60;
	ASSERT_FALSE(contains(&h, -HOUR), "empty hours");
	tz_free(h.zone);
}

/* Hours as a config gives them, evaluated in their zone. */
TEST(config_hours_from_config)
{
	struct config *cfg = load_ok(WHERE("'outside_hours': '08:00-19:00 Mon-Fri', 'tz': "
					   "'Europe/Berlin'"));
	const struct config_hours *h;

	if (!cfg)
		return;
	h = &cfg->detect[0].where.hours;
	ASSERT_TRUE(config_hours_match(h, (MON_0800_BERLIN - 1) * NS), "outside: 07:59:59");
	ASSERT_FALSE(config_hours_match(h, MON_0800_BERLIN * NS), "inside: 08:00");
	ASSERT_TRUE(config_hours_match(h, (MON_0800_BERLIN + 5 * S_PER_DAY) * NS),
		    "outside: Saturday 08:00");
	config_free(cfg);
}
