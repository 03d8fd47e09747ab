// SPDX-License-Identifier: GPL-2.0
/* The MySQL protocol's pairing of commands with their answers (user/events/mywire.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/mywire.h"

#include "test.h"

#define GOT_MAX 8

#define COM_INIT_DB	 0x02
#define COM_QUERY	 0x03
#define COM_STMT_PREPARE 0x16
#define COM_STMT_EXECUTE 0x17
#define COM_STMT_CLOSE	 0x19
#define COM_STMT_FETCH	 0x1c
#define OK		 0x00
#define EOF_		 0xfe
#define ERR		 0xff

#define CLIENT_DEPRECATE_EOF (1U << 24)

struct got {
	size_t n;
	struct {
		char text[128];
		bool known;
		char name[16];
		int64_t rows, affected;
		bool failed, incomplete;
		char code[8], error[64];
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
	snprintf(g->s[g->n].code, sizeof(g->s[0].code), "%s", st->sqlstate ? st->sqlstate : "");
	snprintf(g->s[g->n].error, sizeof(g->s[0].error), "%s", st->error ? st->error : "");
	g->n++;
}

/* Feeds one packet: stream 'F' or 'B', its first byte, the rest (len bytes), code, rows. */
static void feed(struct mywire *c, struct got *g, char stream, uint8_t type, const char *body,
		 size_t len, uint32_t code, uint32_t rows, bool library)
{
	static uint64_t t;
	struct wire_msg m = {
	    .stream = stream == 'B' ? CUSTOS_WIRE_BACKEND : CUSTOS_WIRE_FRONTEND,
	    .type = type,
	    .code = code,
	    .body = (const uint8_t *)body,
	    .len = len,
	    .library = library,
	    .rows = rows,
	    .time_ns = ++t * 1000,
	};

	mywire_message(c, &m, on_statement, g);
}

#define F(type, body)		 feed(c, &g, 'F', type, body, sizeof(body) - 1, 0, 0, false)
#define B(type, body)		 feed(c, &g, 'B', type, body, sizeof(body) - 1, 0, 0, false)
#define B_ROWS(type, body, rows) feed(c, &g, 'B', type, body, sizeof(body) - 1, 0, rows, false)
#define LOGIN(body, caps)	 feed(c, &g, 'F', 0, body, sizeof(body) - 1, caps, 0, false)

TEST(mywire_query_ok_err_and_results)
{
	struct mywire *c = mywire_new();
	struct got g = {0};

	LOGIN("alice\0crm\0", 0x200);
	ASSERT_STREQ(mywire_user(c), "alice", "user");
	ASSERT_STREQ(mywire_database(c), "crm", "schema");
	F(COM_QUERY, "SELECT * FROM customers");
	/* EOF: warnings 0, status 0x0002 (autocommit). */
	B_ROWS(EOF_, "\0\0\x02\0", 12);
	F(COM_QUERY, "UPDATE customers SET x = 1");
	B(OK, "\x03\0\x02\0\0\0");
	F(COM_QUERY, "SELECT nope FROM customers");
	B(ERR, "\x1e\x04#42S22Unknown column 'nope' in 'field list'");
	ASSERT_EQ(g.n, 3, "three statements");
	ASSERT_STREQ(g.s[0].text, "SELECT * FROM customers", "the SELECT");
	ASSERT_EQ(g.s[0].rows, 12, "its rows");
	ASSERT_EQ(g.s[0].affected, -1, "no affected rows for a result set");
	ASSERT_EQ(g.s[1].affected, 3, "the UPDATE's affected rows");
	ASSERT_EQ(g.s[1].rows, -1, "no result set");
	ASSERT_TRUE(g.s[2].failed, "the failing SELECT");
	ASSERT_STREQ(g.s[2].code, "1054", "the error number");
	ASSERT_STREQ(g.s[2].error, "Unknown column 'nope' in 'field list'", "the message");
	mywire_free(c, 0, on_statement, &g);
	ASSERT_EQ(g.n, 3, "nothing pending at the end");
}

TEST(mywire_several_results_and_deprecate_eof)
{
	struct mywire *c = mywire_new();
	struct got g = {0};

	LOGIN("bob\0", 0x200 | CLIENT_DEPRECATE_EOF);
	ASSERT_NULL(mywire_database(c), "no schema at login");
	F(COM_INIT_DB, "crm");
	B(OK, "\0\0\x02\0\0\0");
	ASSERT_STREQ(mywire_database(c), "crm", "the schema from COM_INIT_DB");
	F(COM_QUERY, "SELECT 1; DELETE FROM t; SELECT * FROM t");
	/* An OK that ends rows (0xfe first): affected 0, insert id 0, status MORE_RESULTS. */
	B_ROWS(EOF_, "\0\0\x0a\0\0\0", 1);
	B(OK, "\x05\0\x0a\0\0\0");
	ASSERT_EQ(g.n, 0, "not before its last answer");
	B_ROWS(EOF_, "\0\0\x02\0\0\0", 2);
	ASSERT_EQ(g.n, 1, "one statement");
	ASSERT_EQ(g.s[0].rows, 3, "the rows of both result sets");
	ASSERT_EQ(g.s[0].affected, 5, "the DELETE's");
	mywire_free(c, 0, on_statement, &g);
}

TEST(mywire_prepared_statements)
{
	struct mywire *c = mywire_new();
	struct got g = {0};
	uint32_t id = 7;

	LOGIN("alice\0crm\0", 0x200);
	F(COM_STMT_PREPARE, "SELECT email FROM customers WHERE id = ?");
	feed(c, &g, 'B', OK, "", 0, id, 0, false);
	F(COM_STMT_EXECUTE, "\x07\0\0\0");
	B_ROWS(EOF_, "\0\0\x02\0", 1);
	F(COM_STMT_EXECUTE, "\x07\0\0\0");
	B_ROWS(EOF_, "\0\0\x02\0", 0);
	F(COM_STMT_CLOSE, "\x07\0\0\0");
	F(COM_STMT_EXECUTE, "\x07\0\0\0"); /* closed: its text is gone */
	B(ERR, "\x13\x08#HY000Unknown prepared statement handler");
	F(COM_STMT_PREPARE, "SELECT nope FROM customers");
	B(ERR, "\x1e\x04#42S22Unknown column");
	ASSERT_EQ(g.n, 4, "three executions and the refused prepare");
	ASSERT_STREQ(g.s[0].text, "SELECT email FROM customers WHERE id = ?", "the prepared text");
	ASSERT_STREQ(g.s[0].name, "7", "the statement's id");
	ASSERT_EQ(g.s[0].rows, 1, "first execution's rows");
	ASSERT_EQ(g.s[1].rows, 0, "second execution: no rows");
	ASSERT_FALSE(g.s[2].known, "an execution of an unknown statement has no text");
	ASSERT_TRUE(g.s[2].failed, "and failed");
	ASSERT_STREQ(g.s[3].text, "SELECT nope FROM customers", "the refused prepare");
	ASSERT_TRUE(g.s[3].failed, "is a failure");
	mywire_free(c, 0, on_statement, &g);
}

TEST(mywire_cursor_fetch_library_and_incomplete)
{
	struct mywire *c = mywire_new();
	struct got g = {0};

	LOGIN("alice\0crm\0", 0x200);
	F(COM_STMT_PREPARE, "SELECT id FROM customers");
	feed(c, &g, 'B', OK, "", 0, 1, 0, false);
	/* Executed with a cursor: definitions only, then rows in the fetches' answers. */
	F(COM_STMT_EXECUTE, "\x01\0\0\0");
	F(COM_STMT_FETCH, "\x01\0\0\0\x0a\0\0\0");
	B_ROWS(EOF_, "\0\0\x42\0", 10); /* CURSOR_EXISTS, not LAST_ROW_SENT */
	ASSERT_EQ(g.n, 0, "the cursor still has rows");
	F(COM_STMT_FETCH, "\x01\0\0\0\x0a\0\0\0");
	B_ROWS(EOF_, "\0\0\xc2\0", 4); /* LAST_ROW_SENT */
	ASSERT_EQ(g.n, 1, "one execution");
	ASSERT_EQ(g.s[0].rows, 14, "with the rows of every fetch");
	feed(c, &g, 'F', COM_QUERY, "SELECT 1", 8, 0, 0, true);
	B_ROWS(EOF_, "\0\0\x02\0", 1);
	ASSERT_EQ(g.n, 1, "a statement a probed library sent is its to report");
	F(COM_QUERY, "SELECT sleep(100)");
	mywire_free(c, 99, on_statement, &g);
	ASSERT_EQ(g.n, 2, "the unanswered one at the end");
	ASSERT_TRUE(g.s[1].incomplete, "reported as incomplete");
}

TEST(mywire_answers_without_commands)
{
	struct mywire *c = mywire_new();
	struct got g = {0};

	B(OK, "\x01\0\0\0");
	B(ERR, "\x01");
	B_ROWS(EOF_, "", 5);
	LOGIN("", 0x200);
	ASSERT_NULL(mywire_user(c), "an empty user is none");
	F(COM_QUERY, "SELECT 1");
	B(ERR, "\xff\xff"); /* MariaDB's progress report: not an error */
	ASSERT_EQ(g.n, 0, "nothing invented");
	B(OK, "");
	ASSERT_EQ(g.n, 1, "the statement, at its OK");
	ASSERT_FALSE(g.s[0].failed, "not failed by the progress report");
	mywire_free(c, 0, on_statement, &g);
}
