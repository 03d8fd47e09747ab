// SPDX-License-Identifier: GPL-2.0
/* custos top's model and screen: the last minute slides, the screen fits, names are escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "top/top.h"

#include "test.h"

#define NS 1000000000LL
#define T0 1796000000LL /* 2026-11-29 */

/* A file summary of bytes read by user/program at second s after T0. */
static int read_line(struct top *t, const char *user, const char *program, int s, long bytes)
{
	time_t when = (time_t)(T0 + s);
	char line[512], ts[32];
	struct tm tm;
	int n;

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
	n = snprintf(line, sizeof(line),
		     "{\"@timestamp\":\"%s\",\"event\":{"
		     "\"kind\":\"event\",\"category\":\"file\",\"action\":\"close\"},"
		     "\"user\":{\"name\":\"%s\"},\"process\":{\"name\":\"%s\"},\"custos\":{"
		     "\"rule\":\"crm\",\"io\":{\"bytes_read\":%ld}}}",
		     ts, user, program, bytes);

	return top_add_line(t, line, (size_t)n);
}

/* The screen's line that starts with prefix (NULL if none), into buf. */
static const char *line_of(const char *screen, const char *prefix, char *buf, size_t len)
{
	const char *p = screen, *nl;

	for (; (nl = strchr(p, '\n')); p = nl + 1) {
		if (!strncmp(p, prefix, strlen(prefix))) {
			snprintf(buf, len, "%.*s", (int)(nl - p), p);
			return buf;
		}
	}
	return NULL;
}

static char *screen(struct top *t, unsigned width, unsigned height)
{
	struct top_screen_opts o = {.width = width, .height = height, .utf8 = true, .host = "h"};

	return top_screen(t, &o);
}

TEST(top_minute_slides)
{
	struct top *t = top_new();
	char buf[256], *s;

	ASSERT_EQ(read_line(t, "alice", "cat", 0, 1000), 0, "a line at 0 s");
	ASSERT_EQ(read_line(t, "alice", "cat", 30, 24), 0, "a line at 30 s");
	s = screen(t, 80, 24);
	ASSERT_STREQ(
	    line_of(s, "alice", buf, sizeof(buf)),
	    "alice       cat              0      0  1.0 KiB     0     0      0  1.0 KiB     0",
	    "both in the last minute");
	free(s);
	ASSERT_EQ(read_line(t, "bob", "cp", 75, 5), 0, "a line at 75 s: alice's first is out");
	s = screen(t, 80, 24);
	ASSERT_STREQ(
	    line_of(s, "alice", buf, sizeof(buf)),
	    "alice       cat              0      0     24 B     0     0      0  1.0 KiB     0",
	    "the line at 0 s left the minute, not the total");
	ASSERT_TRUE(strstr(s, "\nalice") < strstr(s, "\nbob"), "busiest in the last minute first");
	free(s);
	top_set_now(t, (T0 + 200) * NS);
	s = screen(t, 80, 24);
	ASSERT_STREQ(
	    line_of(s, "alice", buf, sizeof(buf)),
	    "alice       cat              0      0      0 B     0     0      0  1.0 KiB     0",
	    "nothing in the minute before now");
	free(s);
	top_free(t);
}

TEST(top_screen_fits_and_escapes)
{
	struct top *t = top_new();
	unsigned sizes[][2] = {{80, 24}, {40, 10}, {132, 50}, {20, 5}};
	size_t i, lines;
	char *s, *p, *nl;

	read_line(t, "a\\u001bb", "c\\u0007at", 0, 1);
	read_line(
	    t,
	    "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9",
	    "x", 1, 1);
	for (i = 0; i < 4; i++) {
		s = screen(t, sizes[i][0], sizes[i][1]);
		ASSERT_OK_PTR(s, "a screen");
		lines = 0;
		for (p = s; (nl = strchr(p, '\n')); p = nl + 1, lines++) {
			ASSERT_TRUE(nl - p <= 4 * (long)(sizes[i][0] < 40 ? 40 : sizes[i][0]),
				    "a line within its columns' bytes");
			for (const char *c = p; c < nl; c++)
				ASSERT_TRUE((unsigned char)*c >= 0x20 && *c != 0x7f,
					    "no control byte");
		}
		ASSERT_EQ(lines, sizes[i][1] < 10 ? 10 : sizes[i][1],
			  "as many lines as asked (10 at least)");
		if (sizes[i][0] >= 80) { /* room for the names */
			ASSERT_HAS(s, "a\\x1bb", "the escape shown, not sent");
			ASSERT_HAS(s, "c\\x07at", "the bell shown, not sent");
		}
		free(s);
	}
	top_free(t);
}

TEST(top_skips_what_is_not_an_event)
{
	struct top *t = top_new();
	struct top_stats st;
	const char *bad[] = {
	    "not json",
	    "[1]",
	    "{\"event\":{\"category\":\"file\"}}",
	    "{\"@timestamp\":\"2026-11-29T00:00:00Z\",\"event\":{\"category\":\"file\",\"action\":"
	    "\"close\"},\"custos\":{\"io\":{\"bytes_read\":-1}}}",
	    "{\"@timestamp\":\"2026-11-29T00:00:00Z\",\"event\":{\"category\":\"database\","
	    "\"action\":"
	    "\"query\"},\"custos\":{\"db\":{\"tables\":\"customers\"}}}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_EQ(top_add_line(t, bad[i], strlen(bad[i])), 1, bad[i]);
	const char *agent = "{\"@timestamp\":\"2026-11-29T00:00:00Z\",\"event\":{\"kind\":"
			    "\"event\",\"category\":\"process\",\"action\":\"agent-start\"}}";

	ASSERT_EQ(top_add_line(t, agent, strlen(agent)), 0,
		  "the agent's own event: not an access, not skipped");
	top_stats(t, &st);
	ASSERT_EQ(st.skipped, 5, "skipped");
	ASSERT_EQ(st.accesses, 0, "accesses");
	top_free(t);
}
