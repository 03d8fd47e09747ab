// SPDX-License-Identifier: GPL-2.0
/* custos trace: the filter on typed events, and stored lines decoded back into them. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode/decode.h"
#include "encode/encode.h"
#include "output/filter.h"
#include "output/output.h"
#include "test.h"

/* The human line of ev, and that of ev encoded as custos run writes it and decoded back. */
static void round_trip(const struct event *ev, const char *want)
{
	struct jsonw w = {0};
	struct decoded d;
	char live[1024], replayed[1024], why[256] = "";

	output_human_line(ev, true, live, sizeof(live));
	ASSERT_STREQ(live, want, "the live line");
	jsonw_reset(&w);
	if (!ASSERT_OK(encode_event(&w, ev), "encode"))
		goto out_free;
	if (!ASSERT_OK(decode_event(w.buf, w.len, &d, why, sizeof(why)), why))
		goto out_release;
	output_human_line(&d.ev, true, replayed, sizeof(replayed));
	ASSERT_STREQ(replayed, want, "the line of the stored event");
out_release:
	decoded_release(&d);
out_free:
	jsonw_free(&w);
}

#define T0 1764317359123456789LL /* 2025-11-28T08:09:19.123456789Z */

TEST(trace_decode_round_trip)
{
	const char path[] = "/srv/a\n\xff.csv", from[] = "/srv/old\x1b.csv";
	struct event_file file = {.path = path, .path_len = sizeof(path) - 1};
	struct event_rule rule = {.name = "crm"}, egress = {.egress = true};
	struct event ev = {.kind = EVENT_FILE_SUMMARY,
			   .time_ns = T0,
			   .category = "file",
			   .type = "access",
			   .action = "close",
			   .outcome = "success",
			   .host = "h",
			   .rule = &rule,
			   .file = &file,
			   .summary = {.since = {.bytes_read = 4, .bytes_written = 5},
				       .reason = "close",
				       .final = true}};
	struct event_net net = {.family = CUSTOS_NET_IPV6,
				.transport = IPPROTO_TCP,
				.accepted = true,
				.local_port = 5432,
				.remote_port = 40000,
				.local_addr = {[15] = 1},
				.remote_addr = {0xfe, 0x80, [15] = 2}};

	round_trip(&ev, "08:09:19.123 -→- 0 - close 4/5 /srv/a\\x0a\\xff.csv");
	ev.summary.since.bytes_written = 0;
	round_trip(&ev, "08:09:19.123 -→- 0 - close 4 /srv/a\\x0a\\xff.csv");
	ev.rule = &egress;
	ev.summary.since.bytes_written = 9;
	round_trip(&ev, "08:09:19.123 -→- 0 - close 9 /srv/a\\x0a\\xff.csv (egress)");
	ev.rule = &rule;

	ev.kind = EVENT_FILE_CHANGE;
	ev.type = "change";
	ev.action = "chmod";
	ev.change = (struct event_change){.op = CUSTOS_CHANGE_CHMOD, .arg = 0100640};
	round_trip(&ev, "08:09:19.123 -→- 0 - chmod 0640 /srv/a\\x0a\\xff.csv");
	ev.action = "chown";
	ev.change = (struct event_change){.op = CUSTOS_CHANGE_CHOWN, .arg = UINT32_MAX, .arg2 = 7};
	round_trip(&ev, "08:09:19.123 -→- 0 - chown :7 /srv/a\\x0a\\xff.csv");
	ev.change = (struct event_change){.op = CUSTOS_CHANGE_CHOWN, .arg = 65534, .arg2 = 65534};
	round_trip(&ev, "08:09:19.123 -→- 0 - chown 65534:65534 /srv/a\\x0a\\xff.csv");
	ev.action = "truncate";
	ev.change = (struct event_change){.op = CUSTOS_CHANGE_TRUNCATE, .arg = 100};
	round_trip(&ev, "08:09:19.123 -→- 0 - truncate 100 /srv/a\\x0a\\xff.csv");
	ev.action = "rename";
	ev.change = (struct event_change){
	    .op = CUSTOS_CHANGE_RENAME, .rename_from = from, .rename_from_len = sizeof(from) - 1};
	round_trip(&ev, "08:09:19.123 -→- 0 - rename - /srv/old\\x1b.csv → /srv/a\\x0a\\xff.csv");

	ev.kind = EVENT_FILE_DENIED;
	ev.type = "access,denied";
	ev.action = "open";
	ev.outcome = "failure";
	ev.error_code = "EACCES";
	ev.open = (struct event_open){0};
	round_trip(&ev, "08:09:19.123 -→- 0 - open EACCES /srv/a\\x0a\\xff.csv");

	ev = (struct event){
	    .kind = EVENT_FILE_SUMMARY,
	    .time_ns = T0,
	    .category = "network",
	    .type = "connection",
	    .action = "flush",
	    .outcome = "success",
	    .host = "h",
	    .net = &net,
	    .summary = {.since = {.bytes_read = 7, .bytes_written = 9}, .reason = "flush"}};
	round_trip(&ev, "08:09:19.123 -→- 0 - flush 7/9 [fe80::2]:40000");
}

TEST(trace_decode_refuses)
{
	static const char *const lines[] = {
	    "",
	    "not json",
	    "[1]",
	    "{\"event\": {\"kind\": \"event\", \"action\": \"open\"}}",
	    "{\"@timestamp\": \"yesterday\", \"event\": {\"kind\": \"event\", \"action\": "
	    "\"open\"}}",
	    "{\"@timestamp\": \"2026-12-01T00:00:00Z\", \"event\": {\"kind\": \"event\", "
	    "\"action\": "
	    "\"open\", \"category\": \"file\"}, \"process\": {\"pid\": -1}}",
	    "{\"@timestamp\": \"2026-12-01T00:00:00Z\", \"event\": {\"kind\": \"event\", "
	    "\"action\": "
	    "\"open\", \"category\": \"file\"}, \"user\": {\"id\": 0}, \"process\": {}}",
	    "{\"@timestamp\": \"2026-12-01T00:00:00Z\", \"event\": {\"kind\": \"event\", "
	    "\"action\": "
	    "\"open\", \"category\": \"sound\"}}",
	};
	struct decoded d;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		why[0] = '\0';
		ASSERT_EQ(decode_event(lines[i], strlen(lines[i]), &d, why, sizeof(why)), -EINVAL,
			  lines[i]);
		ASSERT_TRUE(why[0], "a reason");
		decoded_release(&d);
	}
}

TEST(trace_filter_arguments)
{
	static struct event_filter f;
	char err[256];

	memset(&f, 0, sizeof(f));
	ASSERT_OK(event_filter_set_only(&f, "file,alert", err, sizeof(err)), "--only file,alert");
	ASSERT_EQ(f.kinds, EVENT_FILTER_FILE | EVENT_FILTER_ALERT, "kinds");
	ASSERT_EQ(event_filter_set_only(&f, "file,", err, sizeof(err)), -EINVAL, "an empty kind");
	ASSERT_EQ(event_filter_set_only(&f, "files", err, sizeof(err)), -EINVAL, "files");
	ASSERT_HAS(err, "unknown kind \"files\"", "the message");
	ASSERT_OK(event_filter_add_comm(&f, "exactly15bytes!", err, sizeof(err)), "15 bytes");
	ASSERT_EQ(event_filter_add_comm(&f, "sixteen-bytes-xx", err, sizeof(err)), -EINVAL,
		  "16 bytes");
	ASSERT_EQ(event_filter_add_comm(&f, "", err, sizeof(err)), -EINVAL, "empty");
	ASSERT_OK(event_filter_add_user(&f, "root", err, sizeof(err)), "root");
	ASSERT_OK(event_filter_add_user(&f, "4242", err, sizeof(err)), "a uid");
	ASSERT_EQ(event_filter_add_user(&f, "no-such-user-here", err, sizeof(err)), -EINVAL,
		  "unknown user");
	ASSERT_EQ(event_filter_add_user(&f, "", err, sizeof(err)), -EINVAL, "empty user");
	ASSERT_EQ(f.n_users, 2, "users");
	ASSERT_EQ(f.users[1].uid, 4242, "the uid");
	ASSERT_EQ(event_filter_add_path(&f, "rel/x", err, sizeof(err)), -EINVAL, "relative");
}

static bool keeps(const struct event_filter *f, const char *path, const char *comm, uint32_t uid,
		  uint32_t auid)
{
	struct event_file file = {.path = path, .path_len = path ? strlen(path) : 0};
	struct event_who who = {.task = {.tgid = 42, .uid = uid, .auid = auid}};
	struct event ev = {.kind = EVENT_FILE_OPEN, .time_ns = T0, .who = &who, .file = &file};

	snprintf(who.task.comm, sizeof(who.task.comm), "%s", comm);
	return event_filter_keep(f, &ev);
}

TEST(trace_filter_keep)
{
	static struct event_filter f;
	struct event agent = {.kind = EVENT_AGENT, .time_ns = T0, .action = "agent-start"};
	struct event db = {.kind = EVENT_DB_STATEMENT, .time_ns = T0};
	char err[256];

	memset(&f, 0, sizeof(f));
	ASSERT_TRUE(keeps(&f, "/srv/a", "cat", 0, -1), "nothing set");
	event_filter_add_path(&f, "/srv/crm/", err, sizeof(err));
	event_filter_add_path(&f, "/data/*.csv", err, sizeof(err));
	ASSERT_TRUE(keeps(&f, "/srv/crm", "cat", 0, -1), "the directory itself");
	ASSERT_TRUE(keeps(&f, "/srv/crm/x/y.csv", "cat", 0, -1), "below it");
	ASSERT_FALSE(keeps(&f, "/srv/crmx/y.csv", "cat", 0, -1),
		     "a sibling with its name as prefix");
	ASSERT_TRUE(keeps(&f, "/data/a.csv", "cat", 0, -1), "the glob");
	ASSERT_FALSE(keeps(&f, "/data/sub/a.csv", "cat", 0, -1), "* does not cross /");
	ASSERT_FALSE(keeps(&f, NULL, "cat", 0, -1), "no path");
	ASSERT_TRUE(event_filter_keep(&f, &db), "a statement has no path to match");
	event_filter_add_comm(&f, "cat", err, sizeof(err));
	event_filter_add_comm(&f, "cp", err, sizeof(err));
	ASSERT_TRUE(keeps(&f, "/srv/crm/a", "cp", 0, -1), "the second --comm");
	ASSERT_FALSE(keeps(&f, "/srv/crm/a", "dd", 0, -1), "another process");
	event_filter_add_user(&f, "1000", err, sizeof(err));
	ASSERT_TRUE(keeps(&f, "/srv/crm/a", "cat", 0, 1000), "the login user");
	ASSERT_TRUE(keeps(&f, "/srv/crm/a", "cat", 1000, -1), "the user");
	ASSERT_FALSE(keeps(&f, "/srv/crm/a", "cat", 0, -1), "another user");
	ASSERT_TRUE(event_filter_keep(&f, &agent), "agent notes pass the others");
	f.since_ns = T0 + 1;
	ASSERT_FALSE(keeps(&f, "/srv/crm/a", "cat", 0, 1000), "before --since");
	ASSERT_FALSE(event_filter_keep(&f, &agent), "--since applies to agent notes too");
	f.since_ns = T0;
	f.kinds = EVENT_FILTER_DB;
	ASSERT_FALSE(keeps(&f, "/srv/crm/a", "cat", 0, 1000), "--only db: a file event");
	ASSERT_TRUE(event_filter_keep(&f, &agent), "--only db: agent notes");
}

/* Live lines held for the window come out in time order; output_flush() lets go only older ones. */
TEST(trace_output_reorders)
{
	struct event_file file = {.path = "/srv/a", .path_len = 6};
	struct event ev = {.kind = EVENT_FILE_OPEN, .action = "open", .file = &file};
	struct timespec now;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct output *o = f ? output_new(f, OUTPUT_HUMAN, NULL) : NULL;
	int64_t now_ns;

	if (!ASSERT_OK_PTR(o, "output"))
		goto out_close;
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	output_set_color(o, OUTPUT_COLOR_NEVER);
	output_set_reorder(o, 3600LL * 1000000000); /* an hour: nothing recent goes out */
	ev.time_ns = T0 + 2000000;
	output_event(o, &ev);
	ev.time_ns = T0 + 1000000; /* came later, happened before */
	output_event(o, &ev);
	ev.time_ns = now_ns; /* now: held */
	output_event(o, &ev);
	output_flush(o);
	fflush(f);
	ASSERT_STREQ(text,
		     "08:09:19.124 -->- 0 - open - /srv/a\n"
		     "08:09:19.125 -->- 0 - open - /srv/a\n",
		     "the old lines, in time order; not the recent one");
	output_drain(o);
	fflush(f);
	ASSERT_EQ(len, 3 * strlen("08:09:19.124 -->- 0 - open - /srv/a\n"), "all out at the end");
out_close:
	output_free(o);
	if (f)
		fclose(f);
	free(text);
}
