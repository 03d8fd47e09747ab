// SPDX-License-Identifier: GPL-2.0
/* The PostgreSQL protocol's pairing of statements with their outcomes (user/events/pgwire.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/pgwire.h"

#include "test.h"

#define GOT_MAX 8

struct got {
	size_t n;
	struct {
		char text[128];
		bool known;
		char name[32];
		int64_t rows, affected;
		bool failed, incomplete;
		char sqlstate[8];
		uint64_t start_ns, end_ns;
	} s[GOT_MAX];
};

static void on_statement(void *ctx, const struct wire_statement *st)
{
	struct got *g = ctx;

	if (g->n == GOT_MAX)
		return;
	g->s[g->n].known = st->text != NULL;
	snprintf(g->s[g->n].text, sizeof(g->s[0].text), "%s", st->text ? st->text : "");
	snprintf(g->s[g->n].name, sizeof(g->s[0].name), "%s",
		 st->prepared_name ? st->prepared_name : "");
	g->s[g->n].rows = st->rows;
	g->s[g->n].affected = st->affected;
	g->s[g->n].failed = st->failed;
	g->s[g->n].incomplete = st->incomplete;
	snprintf(g->s[g->n].sqlstate, sizeof(g->s[0].sqlstate), "%s",
		 st->sqlstate ? st->sqlstate : "");
	g->s[g->n].start_ns = st->start_ns;
	g->s[g->n].end_ns = st->end_ns;
	g->n++;
}

/* Feeds one message: stream 'F' or 'B', its type, body (len bytes), rows before it. */
static void feed(struct pgwire *c, struct got *g, char stream, char type, const char *body,
		 size_t len, uint32_t rows, bool library)
{
	static uint64_t t;
	struct wire_msg m = {
	    .stream = stream == 'B' ? CUSTOS_WIRE_BACKEND : CUSTOS_WIRE_FRONTEND,
	    .type = (uint8_t)type,
	    .code = type ? 0 : 3 << 16,
	    .body = (const uint8_t *)body,
	    .len = len,
	    .library = library,
	    .rows = rows,
	    .time_ns = ++t * 1000,
	};

	pgwire_message(c, &m, on_statement, g);
}

#define F(type, body)		 feed(c, &g, 'F', type, body, sizeof(body) - 1, 0, false)
#define B(type, body)		 feed(c, &g, 'B', type, body, sizeof(body) - 1, 0, false)
#define B_ROWS(type, body, rows) feed(c, &g, 'B', type, body, sizeof(body) - 1, rows, false)

TEST(pgwire_simple_query_many_statements)
{
	struct pgwire *c = pgwire_new();
	struct got g = {0};

	F(0, "user\0alice\0database\0crm\0\0");
	ASSERT_STREQ(pgwire_user(c), "alice", "user");
	ASSERT_STREQ(pgwire_database(c), "crm", "database");
	F('Q', "SELECT * FROM a; UPDATE b SET x = 1\0");
	B_ROWS('C', "SELECT 4\0", 4);
	B('C', "UPDATE 2\0");
	ASSERT_EQ(g.n, 0, "a simple query ends at ReadyForQuery");
	B('Z', "I");
	if (ASSERT_EQ(g.n, 1, "one statement for one Query")) {
		ASSERT_STREQ(g.s[0].text, "SELECT * FROM a; UPDATE b SET x = 1", "text");
		ASSERT_EQ(g.s[0].rows, 4, "rows of its result set");
		ASSERT_EQ(g.s[0].affected, 2, "rows it changed");
		ASSERT_FALSE(g.s[0].failed, "succeeded");
		ASSERT_TRUE(g.s[0].end_ns > g.s[0].start_ns, "a duration");
	}
	pgwire_free(c, 0, on_statement, &g);
	ASSERT_EQ(g.n, 1, "nothing pending at the end");
}

TEST(pgwire_portal_fetched_in_parts)
{
	struct pgwire *c = pgwire_new();
	struct got g = {0};

	F('P', "S_1\0SELECT * FROM customers\0\0\0");
	F('B', "C_1\0S_1\0");
	F('E', "C_1\0\0\0\0\x0a");
	F('S', "");
	B('1', "");
	B('2', "");
	B_ROWS('s', "", 10);
	B('Z', "T");
	ASSERT_EQ(g.n, 0, "a suspended portal is not done");
	F('E', "C_1\0\0\0\0\x0a");
	F('S', "");
	B_ROWS('C', "SELECT 3\0", 3);
	B('Z', "T");
	if (ASSERT_EQ(g.n, 1, "one statement for the whole cursor")) {
		ASSERT_STREQ(g.s[0].text, "SELECT * FROM customers", "its text");
		ASSERT_STREQ(g.s[0].name, "S_1", "its prepared name");
		ASSERT_EQ(g.s[0].rows, 13, "the rows of both parts");
	}
	/* Executed again, from a new portal: the statement's text is remembered. */
	F('B', "\0S_1\0");
	F('E', "\0\0\0\0\0");
	F('S', "");
	B('2', "");
	B_ROWS('C', "SELECT 1\0", 1);
	B('Z', "I");
	if (ASSERT_EQ(g.n, 2, "the second execution"))
		ASSERT_STREQ(g.s[1].text, "SELECT * FROM customers", "its text");
	pgwire_free(c, 0, on_statement, &g);
}

TEST(pgwire_errors_and_skipped_messages)
{
	struct pgwire *c = pgwire_new();
	struct got g = {0};

	/* A Parse refused: one failed statement; its queued Execute never ran. */
	F('P', "\0SELEC 1\0\0\0");
	F('B', "\0\0");
	F('E', "\0\0\0\0\0");
	F('S', "");
	B('E', "SERROR\0C42601\0Msyntax error\0\0");
	B('Z', "I");
	if (ASSERT_EQ(g.n, 1, "the refused statement, once")) {
		ASSERT_STREQ(g.s[0].text, "SELEC 1", "its text");
		ASSERT_TRUE(g.s[0].failed, "failed");
		ASSERT_STREQ(g.s[0].sqlstate, "42601", "SQLSTATE");
	}
	/* An Execute that fails: the error is its, and the next batch is unaffected. */
	F('P', "\0INSERT INTO t VALUES ($1)\0\0\0");
	F('B', "\0\0");
	F('E', "\0\0\0\0\0");
	F('S', "");
	B('1', "");
	B('2', "");
	B('E', "SERROR\0C23505\0Mduplicate key value\0\0");
	B('Z', "I");
	F('Q', "SELECT 1\0");
	B_ROWS('C', "SELECT 1\0", 1);
	B('Z', "I");
	if (ASSERT_EQ(g.n, 3, "the failed INSERT and the SELECT")) {
		ASSERT_TRUE(g.s[1].failed, "the INSERT failed");
		ASSERT_STREQ(g.s[1].sqlstate, "23505", "its SQLSTATE");
		ASSERT_FALSE(g.s[2].failed, "the SELECT after it did not");
		ASSERT_EQ(g.s[2].rows, 1, "its rows");
	}
	pgwire_free(c, 0, on_statement, &g);
}

TEST(pgwire_library_unknown_and_incomplete)
{
	struct pgwire *c = pgwire_new();
	struct got g = {0};

	/* Sent from a probed library: the probe reports it. */
	feed(c, &g, 'F', 'Q', "SELECT 1", 9, 0, true);
	B_ROWS('C', "SELECT 1\0", 1);
	B('Z', "I");
	ASSERT_EQ(g.n, 0, "a library's statement is not reported twice");
	/* A statement prepared where the agent did not see it: its name, no text. */
	F('B', "\0old_stmt\0");
	F('E', "\0\0\0\0\0");
	F('S', "");
	B('2', "");
	B_ROWS('C', "SELECT 2\0", 2);
	B('Z', "I");
	if (ASSERT_EQ(g.n, 1, "the unknown statement")) {
		ASSERT_FALSE(g.s[0].known, "its text is unknown");
		ASSERT_STREQ(g.s[0].name, "old_stmt", "its name");
		ASSERT_EQ(g.s[0].rows, 2, "its rows");
	}
	/* The connection ends while a statement runs: reported, incomplete. */
	F('Q', "SELECT pg_sleep(60)\0");
	pgwire_free(c, 999999, on_statement, &g);
	if (ASSERT_EQ(g.n, 2, "the statement cut off")) {
		ASSERT_TRUE(g.s[1].incomplete, "incomplete");
		ASSERT_EQ(g.s[1].end_ns, 999999, "at the end");
	}
}

TEST(pgwire_copy_out_rows)
{
	struct pgwire *c = pgwire_new();
	struct got g = {0};

	F('Q', "COPY customers TO STDOUT\0");
	B('H', "");
	B_ROWS('c', "", 5000);
	B('C', "COPY 5000\0");
	B('Z', "I");
	if (ASSERT_EQ(g.n, 1, "the COPY")) {
		ASSERT_EQ(g.s[0].rows, 5000, "CopyData messages");
		ASSERT_EQ(g.s[0].affected, 5000, "the tag's count");
	}
	pgwire_free(c, 0, on_statement, &g);
}

TEST(pgwire_too_many_waiting)
{
	struct pgwire *c = pgwire_new();
	struct got g = {0};
	int i;

	/* A client that sends and never reads: past the limit, counted, not followed. */
	for (i = 0; i < 4100; i++)
		F('Q', "SELECT 1\0");
	ASSERT_EQ(pgwire_dropped(c), 4, "the statements past 4096 waiting");
	pgwire_free(c, 1, NULL, NULL);
	ASSERT_EQ(g.n, 0, "nothing reported without a callback");
}
