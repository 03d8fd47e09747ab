// SPDX-License-Identifier: GPL-2.0
/* The detection engine over events built here: windows, suppression, sequences, first_seen. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encode/encode.h"
#include "lib/strmap.h"
#include "rules/rules.h"

#include "test.h"

#define SEC 1000000000LL
#define T0  (1796000000LL * SEC) /* 2026-12-01 */

struct caught {
	size_t n;
	char rule[8][64];
	uint64_t value[8], suppressed[8], evidence_count[8];
	size_t n_evidence[8];
	uint64_t evidence0[8];
	char group[8][128];
	bool has_who[8];
};

static void catch_alert(struct event *ev, void *ctx)
{
	struct caught *c = ctx;
	size_t i = c->n < 8 ? c->n : 7;

	snprintf(c->rule[i], sizeof(c->rule[i]), "%s", ev->alert_info.rule_name);
	c->value[i] = ev->alert_info.value;
	c->suppressed[i] = ev->alert_info.suppressed;
	c->evidence_count[i] = ev->alert_info.evidence_count;
	c->n_evidence[i] = ev->alert_info.n_evidence;
	c->evidence0[i] = ev->alert_info.n_evidence ? ev->alert_info.evidence[0] : 0;
	c->group[i][0] = '\0';
	if (ev->alert_info.n_group)
		snprintf(c->group[i], sizeof(c->group[i]), "%s=%s", ev->alert_info.group[0].name,
			 ev->alert_info.group[0].value);
	c->has_who[i] = ev->who != NULL;
	c->n++;
}

static char *customer_tags[] = {"customer-data"};
static struct event_rule crm = {.name = "crm", .tags = customer_tags, .n_tags = 1};
static struct event_rule egress_rule = {.egress = true};

static struct event_who who_of(const char *user, const char *login, uint32_t pid, uint32_t session)
{
	struct event_who w = {0};

	w.task.tgid = w.task.tid = pid;
	w.task.uid = 0;
	w.task.auid = login ? 1000 : UINT32_MAX;
	w.task.sessionid = session;
	snprintf(w.task.comm, sizeof(w.task.comm), "cat");
	w.user_name = (char *)user;
	w.audit_name = (char *)login;
	w.exe = "/usr/bin/cat";
	w.exe_len = strlen(w.exe);
	return w;
}

/* A close of a watched file with bytes read since the last summary. */
static struct event file_close(const struct event_who *who, const struct event_file *f,
			       uint64_t bytes, int64_t t, uint64_t seq)
{
	struct event ev = {0};

	ev.kind = EVENT_FILE_SUMMARY;
	ev.seq = seq;
	ev.time_ns = t;
	ev.category = "file";
	ev.action = "close";
	ev.who = who;
	ev.rule = &crm;
	ev.file = f;
	ev.summary.since.bytes_read = bytes;
	ev.summary.reason = "close";
	return ev;
}

static struct config_detect_rule threshold_rule(const char *name, enum config_measure m,
						uint64_t at_least, int64_t over)
{
	static char *tags[] = {"customer-data"};
	struct config_detect_rule r = {0};

	r.name = (char *)name;
	r.kind = CONFIG_DETECT_THRESHOLD;
	r.where.tags = tags;
	r.where.n_tags = 1;
	r.where.actions = 1u << CONFIG_ACTION_READ;
	r.group_by[0] = CONFIG_FIELD_AUDIT_NAME;
	r.n_group_by = 1;
	r.measure = m;
	r.distinct_field = CONFIG_FIELD_FILE_PATH;
	r.at_least = at_least;
	r.window_s = over;
	r.window_text = "10m";
	r.technique = "T1213";
	return r;
}

TEST(rules_threshold_sum_per_human_and_suppression)
{
	struct config_detect_rule def =
	    threshold_rule("bulk", CONFIG_MEASURE_BYTES_READ, 1000, 600);
	struct config cfg = {.detect = &def, .n_detect = 1};
	struct event_file f = {.path = "/srv/crm/a.csv", .path_len = 14};
	struct event_who alice = who_of("root", "alice", 10, 1), bob = who_of("root", "bob", 11, 2);
	struct caught c = {0};
	struct rules *rs = rules_new(&cfg, NULL, catch_alert, &c);
	struct event ev;
	uint64_t seq = 1;
	int i;

	if (!ASSERT_OK_PTR(rs, "rules_new"))
		return;
	/* Two humans, 900 bytes each: neither reaches 1000. */
	for (i = 0; i < 9; i++) {
		ev = file_close(&alice, &f, 100, T0 + i * SEC, seq++);
		rules_event(rs, &ev);
		ev = file_close(&bob, &f, 100, T0 + i * SEC, seq++);
		rules_event(rs, &ev);
	}
	ASSERT_EQ(c.n, 0, "below the threshold, per human");
	ev = file_close(&alice, &f, 150, T0 + 10 * SEC, seq++);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "alice crosses it");
	ASSERT_STREQ(c.rule[0], "bulk", "rule");
	ASSERT_EQ(c.value[0], 1050, "value: the window's sum");
	ASSERT_STREQ(c.group[0], "user.audit.name=alice", "the human");
	ASSERT_EQ(c.evidence_count[0], 10, "ten events behind it");
	ASSERT_EQ(c.n_evidence[0], 10, "all listed");
	ASSERT_EQ(c.evidence0[0], 1, "the first is seq 1");
	ASSERT_FALSE(c.has_who[0], "grouped: no single process");
	/* More in the same window: suppressed, then counted in the next alert. */
	ev = file_close(&alice, &f, 100, T0 + 20 * SEC, seq++);
	rules_event(rs, &ev);
	ev = file_close(&alice, &f, 100, T0 + 30 * SEC, seq++);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "one alert per group per window");
	ASSERT_EQ(rules_stats(rs)->suppressed, 2, "two suppressed");
	/* Eleven minutes later the window is empty again: 100 is far from 1000. */
	ev = file_close(&alice, &f, 100, T0 + 700 * SEC, seq++);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "the old bytes left the window");
	ev = file_close(&alice, &f, 5000, T0 + 701 * SEC, seq++);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 2, "a new window, a new alert");
	ASSERT_EQ(c.value[1], 5100, "only what is in the window");
	ASSERT_EQ(c.suppressed[1], 2, "the suppressed ones are told");
	ASSERT_EQ(c.evidence_count[1], 2, "two events in the new window");
	ASSERT_EQ(c.n_evidence[1], 2, "only those listed, not the old window's");
	ASSERT_EQ(c.evidence0[1], seq - 2, "the first of them");
	rules_free(rs);
}

TEST(rules_threshold_distinct_files)
{
	struct config_detect_rule def = threshold_rule("many", CONFIG_MEASURE_DISTINCT, 5, 300);
	struct config cfg = {.detect = &def, .n_detect = 1};
	struct event_who alice = who_of("root", "alice", 10, 1);
	struct caught c = {0};
	struct rules *rs = rules_new(&cfg, NULL, catch_alert, &c);
	char paths[6][32];
	struct event_file f[6];
	struct event ev;
	int i;

	if (!ASSERT_OK_PTR(rs, "rules_new"))
		return;
	for (i = 0; i < 6; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/srv/crm/%d.csv", i);
		f[i] = (struct event_file){.path = paths[i], .path_len = strlen(paths[i])};
	}
	/* The same four files again and again: four distinct. */
	for (i = 0; i < 20; i++) {
		ev = file_close(&alice, &f[i % 4], 10, T0 + i * SEC, i + 1);
		rules_event(rs, &ev);
	}
	ASSERT_EQ(c.n, 0, "four distinct files");
	ev = file_close(&alice, &f[4], 10, T0 + 30 * SEC, 100);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "the fifth");
	ASSERT_EQ(c.value[0], 5, "five distinct");
	rules_free(rs);
}

static struct event net_connect(const struct event_who *who, struct event_net *n, int64_t t,
				uint64_t seq)
{
	struct event ev = {0};

	ev.kind = EVENT_NET_CONNECT;
	ev.seq = seq;
	ev.time_ns = t;
	ev.category = "network";
	ev.action = "connect";
	ev.who = who;
	ev.net = n;
	ev.rule = &egress_rule;
	return ev;
}

TEST(rules_sequence_read_then_send)
{
	static char *tags[] = {"customer-data"};
	struct config_step steps[2] = {0};
	struct config_detect_rule def = {.name = "read-then-send",
					 .kind = CONFIG_DETECT_SEQUENCE,
					 .group_by = {CONFIG_FIELD_SESSION},
					 .n_group_by = 1,
					 .window_s = 120,
					 .window_text = "2m",
					 .steps = steps,
					 .n_steps = 2};
	struct config cfg = {.detect = &def, .n_detect = 1};
	struct event_file f = {.path = "/srv/crm/a.csv", .path_len = 14};
	struct event_net n = {.family = CUSTOS_NET_IPV4, .remote_port = 8080};
	struct event_who cat = who_of("root", "alice", 10, 7),
			 curl = who_of("root", "alice", 11, 7),
			 other = who_of("root", "bob", 12, 8);
	struct caught c = {0};
	struct rules *rs;
	struct event ev;

	steps[0].where.tags = tags;
	steps[0].where.n_tags = 1;
	steps[0].where.actions = 1u << CONFIG_ACTION_READ;
	steps[1].where.categories = CONFIG_CATEGORY_NETWORK;
	steps[1].where.endpoint = CONFIG_ENDPOINT_UNWATCHED;
	rs = rules_new(&cfg, NULL, catch_alert, &c);
	if (!ASSERT_OK_PTR(rs, "rules_new"))
		return;
	/* Sending first, then reading: not the sequence. */
	ev = net_connect(&curl, &n, T0, 1);
	rules_event(rs, &ev);
	ev = file_close(&cat, &f, 100, T0 + SEC, 2);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 0, "out of order");
	/* Another session sends: not this one's. */
	ev = net_connect(&other, &n, T0 + 2 * SEC, 3);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 0, "another session");
	/* The same session sends: cat then curl in one pipeline. */
	ev = net_connect(&curl, &n, T0 + 3 * SEC, 4);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "read, then sent");
	ASSERT_EQ(c.n_evidence[0], 2, "both steps in evidence");
	ASSERT_EQ(c.evidence0[0], 2, "the read first");
	ASSERT_TRUE(c.has_who[0], "the sender's process");
	/* Too late: a read, then a send after the 2 minutes. */
	ev = file_close(&cat, &f, 100, T0 + 400 * SEC, 5);
	rules_event(rs, &ev);
	ev = net_connect(&curl, &n, T0 + 600 * SEC, 6);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "not within 2 minutes");
	rules_free(rs);
}

TEST(rules_first_seen_learns_and_remembers)
{
	static char *tags[] = {"customer-data"};
	struct config_detect_rule def = {.name = "new-reader",
					 .kind = CONFIG_DETECT_FIRST_SEEN,
					 .where = {.tags = tags, .n_tags = 1},
					 .group_by = {CONFIG_FIELD_EXE, CONFIG_FIELD_RULE},
					 .n_group_by = 2,
					 .learn_s = 0};
	struct config cfg = {.detect = &def, .n_detect = 1};
	struct event_file f = {.path = "/srv/crm/a.csv", .path_len = 14};
	struct event_who cat = who_of("root", "alice", 10, 7),
			 mycat = who_of("root", "alice", 11, 7);
	char dir[] = "/tmp/custos-rules-XXXXXX", path[64];
	struct caught c = {0};
	int64_t now = encode_clock_now_real(); /* learning is measured from the real start */
	struct rules *rs;
	struct event ev;

	if (!ASSERT_OK_PTR(mkdtemp(dir), "mkdtemp"))
		return;
	mycat.exe = "/tmp/\xff"
		    "mycat";
	mycat.exe_len = strlen(mycat.exe);
	rs = rules_new(&cfg, dir, catch_alert, &c);
	if (!ASSERT_OK_PTR(rs, "rules_new"))
		return;
	ev = file_close(&cat, &f, 100, now + 10 * SEC, 1);
	rules_event(rs, &ev);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "a new reader, once");
	ASSERT_STREQ(c.group[0], "process.executable=/usr/bin/cat", "its key");
	rules_free(rs);
	/* Restarted: cat is known; a renamed copy is new, and then known too. */
	rs = rules_new(&cfg, dir, catch_alert, &c);
	if (!ASSERT_OK_PTR(rs, "rules_new again"))
		return;
	ASSERT_NULL(rules_take_warning(rs), "the state reads back");
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 1, "cat remembered across a restart");
	ev = file_close(&mycat, &f, 100, now + 20 * SEC, 2);
	rules_event(rs, &ev);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 2, "the copy, once");
	rules_free(rs);
	/* A learning period: keys seen in it are learned silently. */
	def.learn_s = 3600;
	unlink(strcat(strcpy(path, dir), "/first_seen.json"));
	rs = rules_new(&cfg, dir, catch_alert, &c);
	if (!ASSERT_OK_PTR(rs, "rules_new learning"))
		return;
	ev = file_close(&cat, &f, 100, now + 30 * SEC, 3);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 2, "learned in the first hour, silently");
	ev = file_close(&mycat, &f, 100, now + 7200 * SEC, 4);
	rules_event(rs, &ev);
	ASSERT_EQ(c.n, 3, "a new one after the hour");
	rules_free(rs);
	/* A state file that is not JSON: a warning, and learning starts again. */
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (write(fd, "{not json", 9) != 9)
			ASSERT_TRUE(false, "write");
		close(fd);
	}
	rs = rules_new(&cfg, dir, catch_alert, &c);
	if (!ASSERT_OK_PTR(rs, "rules_new broken state"))
		return;
	ASSERT_OK_PTR(rules_take_warning(rs), "a warning for the broken state");
	rules_free(rs);
	unlink(path);
	rmdir(dir);
}

TEST(rules_groups_are_bounded)
{
	struct config_detect_rule def =
	    threshold_rule("bulk", CONFIG_MEASURE_BYTES_READ, 1 << 30, 600);
	struct config cfg = {.detect = &def, .n_detect = 1};
	struct event_file f = {.path = "/srv/crm/a.csv", .path_len = 14};
	struct caught c = {0};
	struct rules *rs = rules_new(&cfg, NULL, catch_alert, &c);
	char name[32];
	int i;

	if (!ASSERT_OK_PTR(rs, "rules_new"))
		return;
	for (i = 0; i < RULES_GROUPS_MAX + 5; i++) {
		struct event_who w;
		struct event ev;

		snprintf(name, sizeof(name), "user%d", i);
		w = who_of("root", name, 10, 1);
		ev = file_close(&w, &f, 1, T0 + SEC, i + 1);
		rules_event(rs, &ev);
	}
	ASSERT_EQ(rules_stats(rs)->groups, RULES_GROUPS_MAX, "at most the bound");
	ASSERT_EQ(rules_stats(rs)->evicted, 5, "the oldest five forgotten, counted");
	rules_tick(rs, T0 + 3600 * SEC);
	ASSERT_EQ(rules_stats(rs)->groups, 0, "all expired an hour later");
	rules_free(rs);
}

TEST(strmap_put_get_remove)
{
	struct strmap m = {0};
	struct strmap_iter it = {0};
	struct strmap_entry *e;
	void *old;
	size_t n = 0;
	int i;
	char k[16];

	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		ASSERT_OK(strmap_put(&m, k, strlen(k), (void *)(intptr_t)(i + 1), &old), "put");
	}
	ASSERT_EQ(m.len, 1000, "len");
	ASSERT_EQ((intptr_t)strmap_get(&m, "k500", 4), 501, "get");
	ASSERT_EQ((intptr_t)strmap_remove(&m, "k500", 4), 501, "remove");
	ASSERT_NULL(strmap_get(&m, "k500", 4), "gone");
	ASSERT_NULL(strmap_get(&m, "k5", 1), "a prefix is another key");
	while ((e = strmap_next(&m, &it)))
		n++;
	ASSERT_EQ(n, 999, "iterates every entry");
	strmap_clear(&m, NULL);
	ASSERT_EQ(m.len, 0, "cleared");
}
