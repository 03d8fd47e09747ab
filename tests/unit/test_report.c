// SPDX-License-Identifier: GPL-2.0
/* custos report: time arguments, and what the lines of a stream add up to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "report/report.h"
#include "report/when.h"

#include "test.h"

#define NS 1000000000LL

static const struct report_options all_by_user = {
    .by = REPORT_BY_USER, .since_ns = INT64_MIN, .until_ns = INT64_MAX};

/* Feeds a line; its return value. */
static int add(struct report *r, const char *line)
{
	static uint64_t n;

	return report_add_line(r, line, strlen(line), "unit", ++n);
}

/* The report's JSON, and the group of key (NULL: the one without a key). */
static json_t *group_of(json_t *doc, const char *key)
{
	json_t *g, *k;
	size_t i;

	json_array_foreach(json_object_get(doc, "groups"), i, g)
	{
		k = json_object_get(g, "key");
		if (key ? json_is_string(k) && !strcmp(json_string_value(k), key) : json_is_null(k))
			return g;
	}
	return NULL;
}

static long long num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The names of an array, joined by commas. */
static const char *joined(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v;
	size_t i, at = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(o, key), i, v) at +=
	    snprintf(buf + at, at < len ? len - at : 0, "%s%s", i ? "," : "", json_string_value(v));
	return buf;
}

TEST(report_when_rfc3339)
{
	const char *s;
	int64_t ns = 0;

	ASSERT_OK(when_rfc3339("1970-01-01T00:00:00Z", 20, &ns), "epoch");
	ASSERT_EQ(ns, 0, "epoch");
	ASSERT_OK(when_rfc3339("2026-12-01T08:00:00Z", 20, &ns), "utc");
	ASSERT_EQ(ns, 1796112000LL * NS, "utc");
	s = "2026-12-01t09:00:00.123456789+01:00";
	ASSERT_OK(when_rfc3339(s, strlen(s), &ns), "offset, fraction, lower case");
	ASSERT_EQ(ns, 1796112000LL * NS + 123456789, "offset, fraction, lower case");
	s = "2026-12-01 07:30:00.5-00:30";
	ASSERT_OK(when_rfc3339(s, strlen(s), &ns), "space, negative offset");
	ASSERT_EQ(ns, 1796112000LL * NS + 500000000, "space, negative offset");
	s = "2024-02-29T23:59:59.1234567891234z";
	ASSERT_OK(when_rfc3339(s, strlen(s), &ns), "leap day, digits past the ninth");
	ASSERT_EQ(ns, 1709251199LL * NS + 123456789, "leap day, digits past the ninth");
	s = "1969-12-31T23:59:59Z";
	ASSERT_OK(when_rfc3339(s, strlen(s), &ns), "before the epoch");
	ASSERT_EQ(ns, -NS, "before the epoch");
	ASSERT_OK(when_rfc3339("1678-01-01T00:00:00Z", 20, &ns), "first year");
	ASSERT_EQ(ns, -9214560000LL * NS, "first year");
	ASSERT_OK(when_rfc3339("2261-12-31T23:59:59Z", 20, &ns), "last year");
	ASSERT_EQ(ns, 9214646399LL * NS, "last year");
	/* A time read from a longer buffer stops at len. */
	ASSERT_OK(when_rfc3339("2026-12-01T08:00:00Zjunk", 20, &ns), "len");

	ASSERT_EQ(when_rfc3339("2300-01-01T00:00:00Z", 20, &ns), -ERANGE, "after 2261");
	ASSERT_EQ(when_rfc3339("1677-01-01T00:00:00Z", 20, &ns), -ERANGE, "before 1678");
	ASSERT_EQ(when_rfc3339("0000-01-01T00:00:00Z", 20, &ns), -ERANGE, "year 0");
	{
		static const char *const bad[] = {
		    "2100-02-29T00:00:00Z",
		    "2026-02-30T00:00:00Z",
		    "2026-13-01T00:00:00Z",
		    "2026-00-01T00:00:00Z",
		    "2026-12-00T00:00:00Z",
		    "2026-12-01T24:00:00Z",
		    "2026-12-01T08:60:00Z",
		    "2026-12-01T08:00:61Z",
		    "2026-12-01T08:00:00",
		    "2026-12-01T08:00:00.Z",
		    "2026-12-01T08:00:00Z ",
		    "2026-12-01T08:00:00+1:00",
		    "2026-12-01T08:00:00+01:60",
		    "2026-12-01",
		    "2026-12-1T08:00:00Z",
		    "+026-12-01T08:00:00Z",
		    "",
		    "2026-12-01X08:00:00Z",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ASSERT_EQ(when_rfc3339(bad[i], strlen(bad[i]), &ns), -EINVAL, bad[i]);
	}
	ASSERT_OK(when_rfc3339("2026-12-01T08:00:60Z", 20, &ns), "a leap second");
	ASSERT_EQ(ns, (1796112000LL + 60) * NS, "a leap second");
}

TEST(report_when_arguments)
{
	const int64_t now = 1796112000LL * NS + 42;
	int64_t ns = 0;

	ASSERT_OK(when_parse_arg("2026-12-01", now, &ns), "a date");
	ASSERT_EQ(ns, (1796112000LL - 8 * 3600) * NS, "a date: its midnight UTC");
	ASSERT_OK(when_parse_arg("2026-12-01T08:00:00Z", now, &ns), "RFC 3339");
	ASSERT_EQ(ns, 1796112000LL * NS, "RFC 3339");
	ASSERT_OK(when_parse_arg("30s", now, &ns), "30s");
	ASSERT_EQ(ns, now - 30 * NS, "30s");
	ASSERT_OK(when_parse_arg("10m", now, &ns), "10m");
	ASSERT_EQ(ns, now - 600 * NS, "10m");
	ASSERT_OK(when_parse_arg("2h", now, &ns), "2h");
	ASSERT_EQ(ns, now - 7200 * NS, "2h");
	ASSERT_OK(when_parse_arg("7d", now, &ns), "7d");
	ASSERT_EQ(ns, now - 7 * 86400 * NS, "7d");
	ASSERT_OK(when_parse_arg("1w", now, &ns), "1w");
	ASSERT_EQ(ns, now - 7 * 86400 * NS, "1w");
	ASSERT_OK(when_parse_arg("0s", now, &ns), "0s");
	ASSERT_EQ(ns, now, "0s: now");
	ASSERT_EQ(when_parse_arg("999999999w", now, &ns), -ERANGE, "too long ago");
	ASSERT_EQ(when_parse_arg("2026-02-30", now, &ns), -EINVAL, "no such date");
	{
		static const char *const bad[] = {
		    "",	    "10",   "m",   "10x",	    "-5m",	   "5 m",
		    "1.5h", "10mm", "now", "2026-12-01T08", "12345678901s"};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ASSERT_EQ(when_parse_arg(bad[i], now, &ns), -EINVAL, bad[i]);
	}
}

/* One of each kind of event, by three humans. */
static const char *const sample[] = {
    /* alice (logged in, root by sudo): a file read in two summaries, another opened */
    "{\"@timestamp\":\"2026-12-01T08:00:01Z\",\"event\":{\"kind\":\"event\",\"category\":\"file\","
    "\"action\":\"open\",\"outcome\":\"success\"},\"file\":{\"path\":\"/srv/"
    "a\"},\"user\":{\"name\":"
    "\"root\",\"id\":\"0\",\"audit\":{\"name\":\"alice\",\"id\":\"1000\"}},\"process\":{\"name\":"
    "\"cat\",\"executable\":\"/usr/bin/cat\"},\"custos\":{\"rule\":\"crm\",\"io\":{\"bytes_read\":"
    "999}}}",
    "{\"@timestamp\":\"2026-12-01T08:00:02Z\",\"event\":{\"kind\":\"event\",\"category\":\"file\","
    "\"action\":\"flush\",\"outcome\":\"success\"},\"file\":{\"path\":\"/srv/"
    "a\"},\"user\":{\"name\":"
    "\"root\",\"audit\":{\"name\":\"alice\"}},\"process\":{\"name\":\"cat\",\"executable\":\"/usr/"
    "bin/cat\"},\"custos\":{\"rule\":\"crm\",\"io\":{\"bytes_read\":4096,\"bytes_written\":7}}}",
    "{\"@timestamp\":\"2026-12-01T08:00:03Z\",\"event\":{\"kind\":\"event\",\"category\":\"file\","
    "\"action\":\"close\",\"outcome\":\"success\"},\"file\":{\"path\":\"/srv/"
    "a\"},\"user\":{\"name\":"
    "\"root\",\"audit\":{\"name\":\"alice\"}},\"process\":{\"name\":\"cat\",\"executable\":\"/usr/"
    "bin/cat\"},\"custos\":{\"rule\":\"crm\",\"io\":{\"bytes_read\":1000,\"total_bytes_read\":"
    "5096}}}",
    "{\"@timestamp\":\"2026-12-01T08:00:04Z\",\"event\":{\"kind\":\"event\",\"category\":\"file\","
    "\"action\":\"mmap\",\"outcome\":\"success\"},\"file\":{\"path\":\"/srv/"
    "b\"},\"user\":{\"audit\":"
    "{\"name\":\"alice\"}},\"process\":{\"name\":\"python3\"},\"custos\":{\"rule\":\"crm\",\"io\":{"
    "\"mapped_bytes\":8192}}}",
    /* alice: refused, and a change: counted as events, not as files read */
    "{\"@timestamp\":\"2026-12-01T08:00:05Z\",\"event\":{\"kind\":\"event\",\"category\":\"file\","
    "\"action\":\"open\",\"outcome\":\"failure\"},\"file\":{\"path\":\"/srv/secret\"},\"user\":{"
    "\"audit\":{\"name\":\"alice\"}},\"process\":{\"executable\":\"/usr/bin/cat\"},\"custos\":{"
    "\"rule\":\"crm\"}}",
    "{\"@timestamp\":\"2026-12-01T08:00:06Z\",\"event\":{\"kind\":\"event\",\"category\":\"file\","
    "\"action\":\"unlink\",\"outcome\":\"success\"},\"file\":{\"path\":\"/srv/old\"},\"user\":{"
    "\"audit\":{\"name\":\"alice\"}},\"process\":{\"executable\":\"/usr/bin/rm\"},\"custos\":{"
    "\"rule\":null}}",
    /* bob (no login user): a connection's summary both ways, a failed connect */
    "{\"@timestamp\":\"2026-12-01T09:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
    "\"network\",\"action\":\"close\",\"outcome\":\"success\"},\"user\":{\"name\":\"bob\"},"
    "\"process\":{\"name\":\"curl\",\"executable\":\"/usr/bin/curl\"},\"custos\":{\"rule\":\"web\","
    "\"io\":{\"bytes_sent\":88,\"bytes_received\":5186,\"total_bytes_received\":9999}}}",
    "{\"@timestamp\":\"2026-12-01T09:00:01Z\",\"event\":{\"kind\":\"event\",\"category\":"
    "\"network\",\"action\":\"connect\",\"outcome\":\"failure\"},\"user\":{\"name\":\"bob\"},"
    "\"process\":{\"name\":\"curl\",\"executable\":\"/usr/bin/"
    "curl\"},\"custos\":{\"rule\":\"db\"}}",
    /* uid 1234, no names: two statements */
    "{\"@timestamp\":\"2026-12-01T10:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
    "\"database\",\"action\":\"query\",\"outcome\":\"success\"},\"user\":{\"id\":\"1234\"},"
    "\"process\":{\"name\":\"sqlite3\"},\"db\":{\"response\":{\"returned_rows\":7}},\"custos\":{"
    "\"db\":{\"tables\":[\"customers\",\"orders\",\"customers\"]}}}",
    "{\"@timestamp\":\"2026-12-01T10:00:01Z\",\"event\":{\"kind\":\"event\",\"category\":"
    "\"database\",\"action\":\"query\",\"outcome\":\"failure\"},\"user\":{\"id\":\"1234\"},"
    "\"process\":{\"name\":\"sqlite3\"},\"custos\":{\"db\":{\"tables\":[\"missing\"]}}}",
    /* the agent's own events, and a line of another kind */
    "{\"@timestamp\":\"2026-12-01T07:59:59Z\",\"event\":{\"kind\":\"event\",\"category\":"
    "\"process\",\"action\":\"agent-start\",\"dataset\":\"custos.agent\"},\"host\":{\"name\":"
    "\"vm\"},\"custos\":{\"seq\":1}}",
    "{\"@timestamp\":\"2026-12-01T11:00:00Z\",\"event\":{\"kind\":\"metric\"},\"host\":{\"name\":"
    "\"other\"}}",
};

static struct report *sample_report(enum report_by by)
{
	struct report_options opt = all_by_user;
	struct report *r;
	size_t i;

	opt.by = by;
	r = report_new(&opt);
	for (i = 0; r && i < sizeof(sample) / sizeof(sample[0]); i++)
		if (!ASSERT_OK(add(r, sample[i]), sample[i]))
			break;
	return r;
}

TEST(report_by_user)
{
	struct report *r = sample_report(REPORT_BY_USER);
	json_t *doc = r ? report_json(r) : NULL, *g, *t, *in;
	char buf[256];

	if (!ASSERT_OK_PTR(doc, "report"))
		goto cleanup;
	g = group_of(doc, "alice");
	if (!ASSERT_OK_PTR(g, "alice (user.audit.name, not user.name root)"))
		goto cleanup;
	ASSERT_EQ(num(g, "events"), 6, "alice: events");
	ASSERT_EQ(num(g, "bytes_read"), 4096 + 1000, "alice: bytes of the summaries only");
	ASSERT_EQ(num(g, "bytes_sent"), 0, "alice: sent");
	ASSERT_EQ(num(g, "files"), 2, "alice: /srv/a and /srv/b, not the refused or unlinked");
	ASSERT_EQ(num(g, "denied"), 1, "alice: denied");
	ASSERT_EQ(num(g, "endpoints"), 0, "alice: endpoints");
	ASSERT_STREQ(joined(g, "programs", buf, sizeof(buf)), "/usr/bin/cat,/usr/bin/rm,python3",
		     "alice: programs (executable, else name)");
	ASSERT_STREQ(str(g, "first"), "2026-12-01T08:00:01.000000000Z", "alice: first");
	ASSERT_STREQ(str(g, "last"), "2026-12-01T08:00:06.000000000Z", "alice: last");

	g = group_of(doc, "bob");
	if (!ASSERT_OK_PTR(g, "bob (user.name)"))
		goto cleanup;
	ASSERT_EQ(num(g, "bytes_read"), 5186, "bob: received is read");
	ASSERT_EQ(num(g, "bytes_sent"), 88, "bob: sent");
	ASSERT_EQ(num(g, "endpoints"), 1, "bob: web, not the failed connect to db");
	ASSERT_EQ(num(g, "events"), 2, "bob: events");

	g = group_of(doc, "1234");
	if (!ASSERT_OK_PTR(g, "1234 (user.id)"))
		goto cleanup;
	ASSERT_EQ(num(g, "rows"), 7, "1234: rows");
	ASSERT_EQ(num(g, "statements"), 2, "1234: statements, failed ones too");
	ASSERT_EQ(num(g, "tables"), 3, "1234: customers, orders, missing");
	ASSERT_EQ(num(g, "files"), 0, "1234: files");

	t = json_object_get(doc, "totals");
	ASSERT_EQ(num(t, "events"), 10, "total events");
	ASSERT_EQ(num(t, "bytes_read"), 4096 + 1000 + 5186, "total read");
	ASSERT_EQ(num(t, "rows"), 7, "total rows");
	ASSERT_STREQ(joined(t, "users", buf, sizeof(buf)), "1234,alice,bob", "users");
	ASSERT_EQ(json_array_size(json_object_get(doc, "groups")), 3, "groups");
	/* Most data first: bob 5274 bytes, alice 5096, 1234 none. */
	ASSERT_STREQ(str(json_array_get(json_object_get(doc, "groups"), 0), "key"), "bob",
		     "first group");
	ASSERT_STREQ(str(json_array_get(json_object_get(doc, "groups"), 2), "key"), "1234",
		     "last group");
	in = json_object_get(doc, "input");
	ASSERT_EQ(num(in, "lines"), 12, "lines");
	ASSERT_EQ(num(in, "events"), 10, "events");
	ASSERT_EQ(num(in, "agent"), 1, "agent");
	ASSERT_EQ(num(in, "ignored"), 1, "ignored");
	ASSERT_EQ(num(in, "skipped"), 0, "skipped");
	ASSERT_EQ(num(in, "runs"), 1, "runs");
	ASSERT_EQ(num(in, "hosts"), 1, "hosts: of the lines used");
cleanup:
	json_decref(doc);
	report_free(r);
}

TEST(report_by_process_rule_table)
{
	struct report *r = sample_report(REPORT_BY_PROCESS);
	json_t *doc = r ? report_json(r) : NULL, *g;
	char buf[256];

	if (!ASSERT_OK_PTR(doc, "by process"))
		goto cleanup;
	g = group_of(doc, "/usr/bin/cat");
	ASSERT_EQ(num(g, "events"), 4, "cat: events");
	ASSERT_EQ(num(g, "bytes_read"), 5096, "cat: read");
	ASSERT_STREQ(joined(g, "users", buf, sizeof(buf)), "alice", "cat: users");
	ASSERT_EQ(num(group_of(doc, "sqlite3"), "rows"), 7, "sqlite3 (its name): rows");
	ASSERT_EQ(num(group_of(doc, "python3"), "files"), 1, "python3: files");
	json_decref(doc);
	report_free(r);

	r = sample_report(REPORT_BY_RULE);
	doc = r ? report_json(r) : NULL;
	if (!ASSERT_OK_PTR(doc, "by rule"))
		goto cleanup;
	ASSERT_EQ(num(group_of(doc, "crm"), "events"), 5, "crm: events");
	ASSERT_EQ(num(group_of(doc, "web"), "bytes_read"), 5186, "web: read");
	ASSERT_EQ(num(group_of(doc, "db"), "endpoints"), 0, "db: a failed connect");
	ASSERT_EQ(num(group_of(doc, NULL), "events"), 3, "no rule: null, and statements");
	json_decref(doc);
	report_free(r);

	r = sample_report(REPORT_BY_TABLE);
	doc = r ? report_json(r) : NULL;
	if (!ASSERT_OK_PTR(doc, "by table"))
		goto cleanup;
	g = group_of(doc, "customers");
	ASSERT_EQ(num(g, "rows"), 7, "customers: rows, named twice, counted once");
	ASSERT_EQ(num(g, "statements"), 1, "customers: statements");
	ASSERT_EQ(num(group_of(doc, "orders"), "rows"), 7, "orders: the same statement");
	ASSERT_EQ(num(group_of(doc, "missing"), "statements"), 1, "missing: the failed one");
	ASSERT_EQ(num(group_of(doc, NULL), "events"), 8, "the events of no table");
	ASSERT_EQ(num(json_object_get(doc, "totals"), "rows"), 7, "totals count a line once");
cleanup:
	json_decref(doc);
	report_free(r);
}

TEST(report_period)
{
	struct report_options opt = all_by_user;
	struct report *r;
	json_t *doc;
	size_t i;

	/* Lines at 08:00:01 to 08:00:06 (sample[0..5]); since 08:00:02 included, until 08:00:04
	 * not. */
	ASSERT_OK(when_rfc3339("2026-12-01T08:00:02Z", 20, &opt.since_ns), "since");
	ASSERT_OK(when_rfc3339("2026-12-01T08:00:04Z", 20, &opt.until_ns), "until");
	r = report_new(&opt);
	for (i = 0; r && i < 6; i++)
		add(r, sample[i]);
	doc = r ? report_json(r) : NULL;
	if (!ASSERT_OK_PTR(doc, "report"))
		goto cleanup;
	ASSERT_EQ(num(json_object_get(doc, "totals"), "events"), 2, "events in the period");
	ASSERT_EQ(num(json_object_get(doc, "totals"), "bytes_read"), 4096 + 1000,
		  "the flush and the close");
	ASSERT_EQ(num(json_object_get(doc, "input"), "filtered"), 4, "filtered");
	ASSERT_STREQ(str(doc, "since"), "2026-12-01T08:00:02.000000000Z", "since");
	ASSERT_STREQ(str(doc, "until"), "2026-12-01T08:00:04.000000000Z", "until");
cleanup:
	json_decref(doc);
	report_free(r);
}

TEST(report_skips_bad_lines)
{
	static const struct {
		const char *line;
		enum report_skip why;
		const char *detail;
	} bad[] = {
	    {"not json", REPORT_SKIP_NOT_JSON, "expected near"},
	    {"[1,2]", REPORT_SKIP_NOT_JSON, "not an object"},
	    {"{\"a\":\"\xff\"}", REPORT_SKIP_NOT_JSON, "UTF-8"},
	    {"{\"a\":1,\"a\":2}", REPORT_SKIP_NOT_JSON, "duplicate"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"cat",
	     REPORT_SKIP_TRUNCATED, "ends inside"},
	    {"{\"event\":{\"kind\":\"event\",\"category\":\"file\"}}", REPORT_SKIP_NO_TIME,
	     "no @timestamp"},
	    {"{\"@timestamp\":12,\"event\":{}}", REPORT_SKIP_NO_TIME, "not a string"},
	    {"{\"@timestamp\":\"2026-12-01\",\"event\":{}}", REPORT_SKIP_NO_TIME,
	     "not an RFC 3339"},
	    {"{\"@timestamp\":\"9999-12-01T00:00:00Z\"}", REPORT_SKIP_NO_TIME, "out of range"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":\"file\"}", REPORT_SKIP_BAD_FIELD,
	     "event is not an object"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
	     "\"file\",\"action\":\"close\"},\"custos\":{\"io\":{\"bytes_read\":\"12\"}}}",
	     REPORT_SKIP_BAD_FIELD, "custos.io.bytes_read is not an integer"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
	     "\"file\",\"action\":\"close\"},\"custos\":{\"io\":{\"bytes_read\":-5}}}",
	     REPORT_SKIP_BAD_FIELD, "custos.io.bytes_read is negative"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
	     "\"file\",\"action\":\"close\"},\"custos\":{\"io\":{\"bytes_read\":1.0e3}}}",
	     REPORT_SKIP_BAD_FIELD, "is not an integer"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
	     "\"database\",\"action\":\"query\"},\"custos\":{\"db\":{\"tables\":[\"a\",3]}}}",
	     REPORT_SKIP_BAD_FIELD, "custos.db.tables has an element"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
	     "\"network\",\"action\":\"close\"},\"user\":{\"audit\":{\"name\":1000}}}",
	     REPORT_SKIP_BAD_FIELD, "user.audit.name is not a string"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"alert\"},\"custos\":{"
	     "\"alert\":{\"value\":\"many\"}}}",
	     REPORT_SKIP_BAD_FIELD, "custos.alert.value is not a number"},
	    {"{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"alert\",\"action\":"
	     "\"gap\",\"dataset\":\"custos.agent\"},\"custos\":{\"gap\":{\"count\":null}}}",
	     REPORT_SKIP_BAD_FIELD, "custos.gap.count is not an integer"},
	};
	struct report *r = report_new(&all_by_user);
	const struct report_skip_note *note;
	struct report_sums before, after;
	size_t i;

	if (!ASSERT_OK_PTR(r, "report"))
		return;
	ASSERT_OK(add(r, sample[2]), "a good line");
	report_sums(r, &before);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct report_input in = *report_input(r);

		ASSERT_EQ(add(r, bad[i].line), 1, bad[i].line);
		ASSERT_EQ(report_input(r)->skipped_by[bad[i].why], in.skipped_by[bad[i].why] + 1,
			  bad[i].line);
		/* A bad field names itself in the first note of its reason. */
		note = report_skip_note(r, bad[i].why);
		if (in.skipped_by[bad[i].why] == 0)
			ASSERT_HAS(note->detail, bad[i].detail, bad[i].line);
	}
	note = report_skip_note(r, REPORT_SKIP_NOT_JSON);
	ASSERT_STREQ(note->file, "unit", "note: file");
	ASSERT_EQ(report_add_line(r, "{\"a\"\0:1}", 8, "unit", 1), 1, "a NUL byte");
	ASSERT_EQ(report_input(r)->skipped_by[REPORT_SKIP_NOT_JSON], 5, "a NUL byte: not JSON");
	ASSERT_OK(add(r, ""), "an empty line");
	report_skip_line(r, REPORT_SKIP_TOO_LONG, "unit", 99);
	ASSERT_EQ(report_input(r)->skipped, sizeof(bad) / sizeof(bad[0]) + 2, "skipped");
	ASSERT_EQ(report_input(r)->ignored, 1, "the empty line is ignored");
	ASSERT_EQ(report_skip_note(r, REPORT_SKIP_TOO_LONG)->line, 99, "too long: its line");
	report_sums(r, &after);
	ASSERT_EQ(after.events, before.events, "skipped lines add no events");
	ASSERT_EQ(after.bytes_read, before.bytes_read, "skipped lines add no bytes");
	report_free(r);
}

TEST(report_sums_saturate)
{
	const char *line =
	    "{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
	    "\"network\",\"action\":\"flush\"},\"user\":{\"name\":\"x\"},\"custos\":{\"io\":{"
	    "\"bytes_received\":9223372036854775807,\"bytes_sent\":9223372036854775000}},\"db\":{"
	    "\"response\":{\"returned_rows\":9223372036854775807}}}";
	struct report *r = report_new(&all_by_user);
	struct report_sums s;
	json_t *doc;

	if (!ASSERT_OK_PTR(r, "report"))
		return;
	ASSERT_OK(add(r, line), "first");
	ASSERT_OK(add(r, line), "second");
	report_sums(r, &s);
	ASSERT_EQ(s.bytes_read, INT64_MAX, "read stops at INT64_MAX");
	ASSERT_EQ(s.bytes_sent, INT64_MAX, "sent stops at INT64_MAX");
	ASSERT_EQ(s.rows, 0, "rows are a statement's");
	doc = report_json(r);
	ASSERT_EQ(num(group_of(doc, "x"), "bytes_read"), INT64_MAX, "in JSON");
	json_decref(doc);
	report_free(r);
}

static const char *alert(char *buf, size_t len, const char *when, const char *rule,
			 const char *user, const char *group, int value)
{
	snprintf(buf, len,
		 "{\"@timestamp\":\"%s\",\"event\":{\"kind\":\"alert\",\"category\":\"file\","
		 "\"type\":[\"info\"],\"action\":\"alert\",\"start\":\"2026-12-01T08:00:00Z\","
		 "\"end\":\"2026-12-01T08:10:00Z\"},\"rule\":{\"name\":\"%s\",\"id\":\"r-%s\","
		 "\"ruleset\":\"custos\"},%s\"custos\":{\"alert\":{\"kind\":\"threshold\","
		 "\"value\":%d,\"threshold\":100000,\"window\":\"10m\",\"group\":%s,\"evidence\":"
		 "{\"seq\":[1,2],\"count\":2},\"suppressed\":3},\"seq\":9}}",
		 when, rule, rule, user, value, group);
	return buf;
}

TEST(report_alerts_and_gaps)
{
	struct report *r = sample_report(REPORT_BY_USER);
	json_t *doc = NULL, *alerts, *a, *gaps;
	char buf[1024];
	size_t i;

	if (!ASSERT_OK_PTR(r, "report"))
		return;
	/*
	 * Its own login user; the group's; the group's login user before its own
	 * user name. The group as schema version 2 has it ([{name, value}]), and
	 * as older agents wrote it ({field: value}).
	 */
	add(r, alert(buf, sizeof(buf), "2026-12-01T08:10:00Z", "bulk-read",
		     "\"user\":{\"name\":\"root\",\"audit\":{\"name\":\"alice\"}},",
		     "[{\"name\":\"user.audit.name\",\"value\":\"zed\"}]", 123456));
	add(r, alert(buf, sizeof(buf), "2026-12-01T08:11:00Z", "bulk-read", "",
		     "[{\"name\":\"process.pid\",\"value\":\"7\"},{\"name\":\"user.audit.name\","
		     "\"value\":\"bob\"}]",
		     200000));
	add(r, alert(buf, sizeof(buf), "2026-12-01T08:12:00Z", "first-seen",
		     "\"user\":{\"name\":\"root\"},", "{\"user.audit.name\":\"carol\"}", 1));
	add(r,
	    "{\"@timestamp\":\"2026-12-01T08:13:00Z\",\"event\":{\"kind\":\"alert\",\"action\":"
	    "\"gap\",\"dataset\":\"custos.agent\",\"category\":\"process\"},\"custos\":{\"gap\":{"
	    "\"reason\":\"spool_full\",\"count\":3013}}}");
	add(r, "{\"@timestamp\":\"2026-12-01T08:14:00Z\",\"event\":{\"kind\":\"alert\",\"action\":"
	       "\"gap\",\"dataset\":\"custos.agent\"},\"custos\":{\"gap\":{\"source\":\"kernel\","
	       "\"reason\":\"ringbuf_full\",\"count\":5}}}");
	add(r,
	    "{\"@timestamp\":\"2026-12-01T08:15:00Z\",\"event\":{\"kind\":\"alert\",\"action\":"
	    "\"gap\",\"dataset\":\"custos.agent\"},\"custos\":{\"gap\":{\"reason\":\"spool_full\","
	    "\"count\":7}}}");
	doc = report_json(r);
	if (!ASSERT_OK_PTR(doc, "report"))
		goto cleanup;
	alerts = json_object_get(doc, "alerts");
	ASSERT_EQ(num(alerts, "count"), 3, "alerts");
	ASSERT_EQ(num(alerts, "suppressed"), 9, "suppressed");
	ASSERT_EQ(json_array_size(json_object_get(alerts, "list")), 3, "listed");
	a = json_array_get(json_object_get(alerts, "list"), 0);
	ASSERT_STREQ(str(a, "rule"), "bulk-read", "rule");
	ASSERT_STREQ(str(a, "user"), "alice", "its own login user");
	ASSERT_EQ(num(a, "value"), 123456, "value");
	ASSERT_EQ(num(a, "threshold"), 100000, "threshold");
	ASSERT_STREQ(str(a, "window"), "10m", "window");
	ASSERT_STREQ(str(a, "time"), "2026-12-01T08:10:00.000000000Z", "time");
	ASSERT_STREQ(str(json_array_get(json_object_get(alerts, "list"), 1), "user"), "bob",
		     "the group's login user");
	ASSERT_STREQ(str(json_array_get(json_object_get(alerts, "list"), 2), "user"), "carol",
		     "the group's login user before its own user name");
	ASSERT_EQ(num(group_of(doc, "alice"), "alerts"), 1, "alice's alerts");
	ASSERT_EQ(num(group_of(doc, "bob"), "alerts"), 1, "bob's alerts");
	ASSERT_EQ(num(group_of(doc, "carol"), "events"), 0, "carol: alerts only");
	ASSERT_EQ(num(json_object_get(doc, "totals"), "alerts"), 3, "total alerts");
	a = json_array_get(json_object_get(alerts, "by_rule"), 0);
	ASSERT_STREQ(str(a, "rule"), "bulk-read", "by rule, by name");
	ASSERT_EQ(num(a, "count"), 2, "bulk-read");
	gaps = json_object_get(doc, "gaps");
	ASSERT_EQ(num(gaps, "count"), 3, "gaps");
	ASSERT_EQ(num(gaps, "events_lost"), 3025, "events lost");
	a = json_array_get(json_object_get(gaps, "by_reason"), 1);
	ASSERT_STREQ(str(a, "reason"), "spool_full", "by reason, by name");
	ASSERT_EQ(num(a, "gaps"), 2, "spool_full gaps");
	ASSERT_EQ(num(a, "events_lost"), 3020, "spool_full lost");
	ASSERT_EQ(num(json_object_get(doc, "totals"), "events"), 10, "alerts are not events");
	json_decref(doc);

	/* Listed up to REPORT_ALERTS_MAX, counted beyond. */
	for (i = 3; i <= REPORT_ALERTS_MAX; i++)
		add(r, alert(buf, sizeof(buf), "2026-12-01T08:10:00Z", "x", "", "{}", 1));
	doc = report_json(r);
	alerts = json_object_get(doc, "alerts");
	ASSERT_EQ(json_array_size(json_object_get(alerts, "list")), REPORT_ALERTS_MAX, "listed");
	ASSERT_EQ(num(alerts, "not_listed"), 1, "not listed");
	ASSERT_EQ(num(group_of(doc, NULL), "alerts"), REPORT_ALERTS_MAX - 2, "no user");
cleanup:
	json_decref(doc);
	report_free(r);
}

TEST(report_text)
{
	const char *evil =
	    "{\"@timestamp\":\"2026-12-01T08:00:00Z\",\"event\":{\"kind\":\"event\",\"category\":"
	    "\"file\",\"action\":\"close\"},\"user\":{\"name\":\"ev\\u001b[2Jil\\u202e\\u0000x\"},"
	    "\"process\":{\"executable\":\"/tmp/\\u009bcat\"},\"custos\":{\"io\":{\"bytes_read\":"
	    "1536}}}";
	struct report *r = sample_report(REPORT_BY_USER);
	char *text = NULL, *line, *save;
	size_t len = 0;
	FILE *f;

	if (!ASSERT_OK_PTR(r, "report"))
		return;
	ASSERT_OK(add(r, evil), "a hostile name");
	f = open_memstream(&text, &len);
	report_print_text(r, f, true);
	fclose(f);
	ASSERT_FALSE(memchr(text, 0x1b, len), "no escape byte");
	ASSERT_FALSE(strstr(text, "\xe2\x80\xae"), "no bidi override");
	ASSERT_FALSE(strstr(text, "\xc2\x9b"), "no C1 control");
	ASSERT_EQ(strlen(text), len, "no NUL");
	ASSERT_HAS(text, "ev\\x1b[2Jil\\u202e\\x00x", "the name escaped");
	ASSERT_HAS(text, "/tmp/\\u009bcat", "the program escaped");
	ASSERT_HAS(text,
		   "\nbob               5.1 KiB     88 B        0      0     0      0      1"
		   "      0\n",
		   "bob's row");
	ASSERT_HAS(text, "\nalice             5.0 KiB      0 B        0      0     2      0      0",
		   "alice's row");
	ASSERT_HAS(text, "\n1234                  0 B      0 B        7      2", "1234's row");
	ASSERT_HAS(text, "    programs: /usr/bin/cat, /usr/bin/rm, python3\n    refused: 1 open\n",
		   "alice's programs, her refused open");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "    programs", 12) && !strstr(line, "ev\\x1b"))
			ASSERT_TRUE(strlen(line) <= 80, line);
	free(text);
	report_free(r);

	/* Nothing to sum: said, not an empty table. */
	r = report_new(&all_by_user);
	text = NULL;
	f = open_memstream(&text, &len);
	report_print_text(r, f, false);
	fclose(f);
	ASSERT_HAS(text, "\nno file, database or network event, no alert\n", "an empty report");
	ASSERT_FALSE(strstr(text, "READ"), "an empty report has no table");
	free(text);
	report_free(r);
}
