// SPDX-License-Identifier: GPL-2.0
/* SQL text: literals redacted per dialect, the operation and tables picked out, table patterns. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "encode/sql.h"

#include "test.h"

#define PG     SQL_POSTGRESQL
#define MY     SQL_MYSQL
#define LITE   SQL_SQLITE
#define ALL    (-1) /* the same in every dialect */
#define CANARY 0xa5

static const char *const dialect_names[] = {"postgresql", "mysql", "sqlite"};

struct redact_case {
	int dialect;
	const char *in, *out;
};

/* Redacts text (which may hold NULs) in dialect d; the result as a static string. */
static const char *redact_n(enum sql_dialect d, const char *text, size_t len)
{
	static char out[4096];

	sql_redact(d, text, len, out, sizeof(out));
	return out;
}

static bool check_redact_cases(const struct redact_case *c, size_t n)
{
	bool ok = true;
	int d;

	for (; n--; c++) {
		for (d = PG; d <= LITE; d++) {
			const char *got;

			if (c->dialect != ALL && c->dialect != d)
				continue;
			got = redact_n(d, c->in, strlen(c->in));
			ok &= test__check(!strcmp(got, c->out), __FILE__, __LINE__,
					  "%s: \"%s\" -> \"%s\", expected \"%s\"", dialect_names[d],
					  c->in, got, c->out);
		}
	}
	return ok;
}

#define CHECK_REDACT(cases) check_redact_cases(cases, sizeof(cases) / sizeof(cases[0]))

TEST(sql_redact_examples)
{
	static const struct redact_case cases[] = {
	    {ALL, "SELECT * FROM customers WHERE email = 'a@b.com'",
	     "SELECT * FROM customers WHERE email = ?"},
	    {ALL, "select id from t where id in (1, 2, 3) and x = 4.5e3",
	     "select id from t where id in (?) and x = ?"},
	    {PG, "INSERT INTO c VALUES ($$O'Brien$$, E'\\\\x00', 42)",
	     "INSERT INTO c VALUES (?, ?, ?)"},
	    {PG, "INSERT INTO c VALUES ($$O'Brien$$, E'\\x00', 42)",
	     "INSERT INTO c VALUES (?, ?, ?)"},
	    {PG, "SELECT $1, $2::int", "SELECT $1, $2::int"},
	    {ALL, "SELECT 'a' -- 'b'\n, 1 /* c */", "SELECT ? , ?"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_strings)
{
	static const struct redact_case cases[] = {
	    {ALL, "SELECT 'it''s'", "SELECT ?"},
	    {ALL, "SELECT '', ''''", "SELECT ?, ?"},
	    {ALL, "x='a'||'b'", "x=?||?"},
	    /* A backslash escapes only in MySQL: elsewhere 'a\' is a whole string. */
	    {PG, "SELECT 'a\\' , 'b'", "SELECT ? , ?"},
	    {LITE, "SELECT 'a\\' , 'b'", "SELECT ? , ?"},
	    {MY, "SELECT 'a\\' , 'z'", "SELECT ?z?"},
	    {MY, "SELECT 'a\\'b', 'c\\\\'", "SELECT ?, ?"},
	    {MY, "SELECT 'new\\nline\\\\', \"x\\\"y\"", "SELECT ?, ?"},
	    /* Double quotes: a string in MySQL, an identifier elsewhere. */
	    {MY, "SELECT * FROM t WHERE a = \"secret\" AND b = \"x\"\"y\"",
	     "SELECT * FROM t WHERE a = ? AND b = ?"},
	    {PG, "SELECT \"Email\" FROM \"Customers\" WHERE \"a\"\"b\" = 1",
	     "SELECT \"Email\" FROM \"Customers\" WHERE \"a\"\"b\" = ?"},
	    {LITE, "SELECT \"Email\" FROM \"Customers\"", "SELECT \"Email\" FROM \"Customers\""},
	    /* PostgreSQL prefixes, any case; the prefix goes with the string. */
	    {PG, "SELECT E'x', e'it\\'s', E'a\\\\', E'q''q'", "SELECT ?, ?, ?, ?"},
	    {PG, "SELECT U&'d\\0061t\\+000061', u&'x' UESCAPE '!'", "SELECT ?, ? UESCAPE ?"},
	    {PG, "SELECT U&\"d\\0061t\" FROM t", "SELECT U&\"d\\0061t\" FROM t"},
	    {PG, "SELECT B'101', b'1', X'1F', x'ff', N'nat', n'x'", "SELECT ?, ?, ?, ?, ?, ?"},
	    {PG, "SELECT date'2020-01-01', interval '1 day'", "SELECT date?, interval ?"},
	    /* Not prefixes: longer words, or a space before the quote. */
	    {PG, "SELECT ee'x', e 'y'", "SELECT ee?, e ?"},
	    /* PostgreSQL dollar quoting. */
	    {PG, "SELECT $$it's$$, $tag$ a $$ b $ c $tag$, $a_1$x$a_1$", "SELECT ?, ?, ?"},
	    {PG, "SELECT $a$ $b$ $a$, $A$x$a$y$A$", "SELECT ?, ?"},
	    {PG, "SELECT $ident$\n-- not a comment\n$ident$ FROM t", "SELECT ? FROM t"},
	    {PG, "SELECT a$$b, c$1 FROM t$x", "SELECT a$$b, c$1 FROM t$x"},
	    /* MySQL introducers, hex and bit literals. */
	    {MY, "SELECT _utf8'abc', _utf8mb4\"x\", _binary'\\0', _latin1 'sp'",
	     "SELECT ?, ?, ?, _latin1 ?"},
	    {MY, "SELECT N'n', x'1F', X'1f', b'01', B'1', 0x1F, 0b01",
	     "SELECT ?, ?, ?, ?, ?, ?, ?"},
	    /* SQLite blobs. */
	    {LITE, "INSERT INTO t VALUES (X'00ff', x'AB')", "INSERT INTO t VALUES (?, ?)"},
	    /* Strings next to each other stay apart. */
	    {ALL, "SELECT 'a' 'b'", "SELECT ? ?"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_numbers)
{
	static const struct redact_case cases[] = {
	    {ALL, "SELECT 1, -2, +3.5, .5, 1., 1e10, 1E-5, 2.5e+3, 007",
	     "SELECT ?, -?, +?, ?, ?, ?, ?, ?, ?"},
	    {ALL, "SELECT t1.col2, x2y FROM t1 WHERE c3 = 3",
	     "SELECT t1.col2, x2y FROM t1 WHERE c3 = ?"},
	    {ALL, "SELECT a-1, a+-1, 2*3/4%5", "SELECT a-?, a+-?, ?*?/?%?"},
	    {ALL, "SELECT TRUE, FALSE, NULL, true, null", "SELECT TRUE, FALSE, NULL, true, null"},
	    {PG, "SELECT 0x1F, 0o17, 0b101, 1_000_000, 1.5_0", "SELECT ?, ?, ?, ?, ?"},
	    {PG, "SELECT 123abc, 1::int, a[1:2]", "SELECT ?, ?::int, a[?:?]"},
	    {LITE, "SELECT 0x1F, 0XFF, 1_000", "SELECT ?, ?, ?"},
	    {MY, "SELECT 0x1F, 1e3, 1e+3", "SELECT ?, ?, ?"},
	    /* MySQL: identifiers may start with digits. */
	    {MY, "SELECT 1abc, 12_3 FROM 9t", "SELECT 1abc, 12_3 FROM 9t"},
	    /* .5 after a name is not a number: t.5 is t . 5 */
	    {ALL, "SELECT t.5, (x).1", "SELECT t.?, (x).?"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_placeholders_kept)
{
	static const struct redact_case cases[] = {
	    {PG, "SELECT $1, $2::int, $10 FROM t WHERE a = $3",
	     "SELECT $1, $2::int, $10 FROM t WHERE a = $3"},
	    {ALL, "SELECT ? , :name, :n2 FROM t WHERE a = ? AND b=:x",
	     "SELECT ? , :name, :n2 FROM t WHERE a = ? AND b=:x"},
	    {MY, "SELECT @a := 1, @@session.sql_mode, @@global.x, @v1",
	     "SELECT @a := ?, @@session.sql_mode, @@global.x, @v1"},
	    {MY, "SELECT @'quoted var', @`v`", "SELECT @?, @`v`"},
	    {LITE, "SELECT ?1, ?23, :1, :a, @b, $c, $d1 FROM t",
	     "SELECT ?1, ?23, :1, :a, @b, $c, $d1 FROM t"},
	    {PG, "SELECT a::text, b ? 'k', c @> '{}'", "SELECT a::text, b ? ?, c @> ?"},
	    {MY, "SELECT $x FROM t", "SELECT $x FROM t"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_comments)
{
	static const struct redact_case cases[] = {
	    {ALL, "SELECT 1 -- secret\n, 2", "SELECT ? , ?"},
	    {ALL, "SELECT 1 -- secret", "SELECT ?"},
	    {ALL, "SELECT/* secret */1", "SELECT ?"},
	    {ALL, "a/**/b", "a b"},
	    {ALL, "-- leading\nSELECT 1", "SELECT ?"},
	    {ALL, "SELECT 1 /* a */ /* b */ , 2", "SELECT ? , ?"},
	    {ALL, "SELECT 1 -- a /* b\n, 2 -- */", "SELECT ? , ?"},
	    /* PostgreSQL nests block comments; MySQL and SQLite do not. */
	    {PG, "SELECT /* a /* b */ c */ 1", "SELECT ?"},
	    {PG, "SELECT /* /* /* deep */ */ */ 1 /*/ x */, 2", "SELECT ? , ?"},
	    {MY, "SELECT /* a /* b */ c */ 1", "SELECT c */ ?"},
	    {LITE, "SELECT /* a /* b */ c */ 1", "SELECT c */ ?"},
	    /* MySQL: # comments, -- only before whitespace. */
	    {MY, "SELECT 1 # secret\n, 2", "SELECT ? , ?"},
	    {PG, "SELECT 1 # 2", "SELECT ? # ?"},
	    {MY, "SELECT 1--1", "SELECT ?--?"},
	    {MY, "SELECT 1 --\tsecret\n, 2", "SELECT ? , ?"},
	    {MY, "SELECT 1 --", "SELECT ?"},
	    {PG, "SELECT 1--1", "SELECT ?"},
	    /* MySQL runs the text of executable comments: kept as SQL (and redacted). */
	    {MY, "/*!40101 SET NAMES 'utf8' */;", "SET NAMES ? ;"},
	    {MY, "SELECT /*!50000 'x', */ 1", "SELECT ?, ?"},
	    {MY, "SELECT /*M!100100 1 */ 2", "SELECT ? ?"},
	    {MY, "SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1", "SELECT ?"},
	    {MY, "SELECT /*!'*/'*/ 1", "SELECT ? ?"},
	    /* Quotes inside comments and comments inside quotes. */
	    {ALL, "SELECT '-- not a comment', 1 /* 'not a string */", "SELECT ?, ?"},
	    {PG, "SELECT \"a--b\", $$/*$$ FROM t", "SELECT \"a--b\", ? FROM t"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_in_lists)
{
	static const struct redact_case cases[] = {
	    {ALL, "WHERE id IN (1, 2, 3)", "WHERE id IN (?)"},
	    {ALL, "WHERE id in(1,2)", "WHERE id in(?)"},
	    {ALL, "WHERE id In \n ( 'a' ,\t'b' )", "WHERE id In (?)"},
	    {ALL, "WHERE id NOT IN (1)", "WHERE id NOT IN (?)"},
	    {ALL, "WHERE id IN (-1, +2, 3.5e2)", "WHERE id IN (?)"},
	    {ALL, "WHERE id IN (?, ?, ?)", "WHERE id IN (?)"},
	    {ALL, "WHERE id IN (:a, :b)", "WHERE id IN (?)"},
	    {PG, "WHERE id IN ($1, $2, $3)", "WHERE id IN (?)"},
	    {PG, "WHERE id IN (E'a', $$b$$, 'c')", "WHERE id IN (?)"},
	    {ALL, "WHERE id IN /* c */ (1, /* d */ 2) AND b IN (3)",
	     "WHERE id IN (?) AND b IN (?)"},
	    {ALL, "WHERE id IN (SELECT id FROM t)", "WHERE id IN (SELECT id FROM t)"},
	    {ALL, "WHERE id IN (a, b)", "WHERE id IN (a, b)"},
	    {ALL, "WHERE id IN (1, a)", "WHERE id IN (?, a)"},
	    {ALL, "WHERE id IN (1, NULL)", "WHERE id IN (?, NULL)"},
	    {ALL, "WHERE id IN ()", "WHERE id IN ()"},
	    {ALL, "WHERE id IN (1, 2", "WHERE id IN (?, ?"},
	    {ALL, "WHERE id IN (1, 'x", "WHERE id IN (?, ?"},
	    {ALL, "WHERE (a, b) IN ((1, 2), (3, 4))", "WHERE (a, b) IN ((?, ?), (?, ?))"},
	    {ALL, "WHERE login (1, 2)", "WHERE login (?, ?)"},
	    {PG, "WHERE \"in\" (1, 2)", "WHERE \"in\" (?, ?)"},
	    {MY, "WHERE `in` (1, 2)", "WHERE `in` (?, ?)"},
	    {ALL, "WHERE x IN (1) IN (2)", "WHERE x IN (?) IN (?)"},
	    {ALL, "INSERT INTO t VALUES (1, 'a'), (2, 'b')", "INSERT INTO t VALUES (?, ?), (?, ?)"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_identifiers_kept)
{
	static const struct redact_case cases[] = {
	    {MY, "SELECT `col` FROM `db`.`customers` WHERE `we``ird` = 1",
	     "SELECT `col` FROM `db`.`customers` WHERE `we``ird` = ?"},
	    {LITE, "SELECT `a`, [My Table].[b c] FROM [My Table]",
	     "SELECT `a`, [My Table].[b c] FROM [My Table]"},
	    {PG, "SELECT a[1] FROM t", "SELECT a[?] FROM t"},
	    {ALL, "SELECT na\xc3\xafve FROM t WHERE x = '\xc3\xa9'",
	     "SELECT na\xc3\xafve FROM t WHERE x = ?"},
	    {ALL, "  SELECT\n\t1  ,\r\n  2  ", "SELECT ? , ?"},
	    {ALL, "SELECT a<>b, c!=d, e<=f, g||h", "SELECT a<>b, c!=d, e<=f, g||h"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_unterminated)
{
	static const struct redact_case cases[] = {
	    {ALL, "SELECT 'abc", "SELECT ?"},
	    {ALL, "SELECT 'abc'' FROM t", "SELECT ?"},
	    {ALL, "SELECT /* secret", "SELECT ?"},
	    {ALL, "SELECT 1 /* secret 'x' */ 2 /* more", "SELECT ? ? ?"},
	    {PG, "SELECT /* a /* b */ secret", "SELECT ?"},
	    {PG, "SELECT \"secret", "SELECT ?"},
	    {PG, "SELECT $$secret", "SELECT ?"},
	    {PG, "SELECT $t$secret$t", "SELECT ?"},
	    {PG, "SELECT $t$secret$T$", "SELECT ?"},
	    {PG, "SELECT E'secret\\'", "SELECT ?"},
	    {PG, "SELECT E'secret\\", "SELECT ?"},
	    {PG, "SELECT U&'secret", "SELECT ?"},
	    {MY, "SELECT 'secret\\'", "SELECT ?"},
	    {MY, "SELECT \"secret", "SELECT ?"},
	    {MY, "SELECT `secret", "SELECT ?"},
	    {MY, "SELECT _utf8'secret", "SELECT ?"},
	    {MY, "SELECT x'1F", "SELECT ?"},
	    {LITE, "SELECT [secret", "SELECT ?"},
	    {LITE, "SELECT X'00", "SELECT ?"},
	    {ALL, "SELECT '", "SELECT ?"},
	    {PG, "SELECT $", "SELECT $"},
	    {PG, "SELECT $a", "SELECT $a"},
	};

	CHECK_REDACT(cases);
}

TEST(sql_redact_control_bytes)
{
	/* NUL and control bytes are whitespace outside literals, and never come out. */
	static const char in[] = "SELECT\0'a\0b'\x01,\x7f"
				 "1\x1b[31m";
	char out[64];
	size_t n = sql_redact(PG, in, sizeof(in) - 1, out, sizeof(out));

	ASSERT_STREQ(out, "SELECT ? , ? [?", "control bytes");
	ASSERT_EQ(n, strlen(out), "length");
	ASSERT_STREQ(redact_n(MY, "\xff\xfe'\xff'\xc3", 6), "\xff\xfe?\xc3", "invalid UTF-8");
	ASSERT_STREQ(redact_n(PG, "SELECT \"a\nb\0c\" FROM t", 21), "SELECT \"a?b?c\" FROM t",
		     "control bytes in identifiers");
	ASSERT_STREQ(redact_n(PG, "", 0), "", "empty");
	ASSERT_STREQ(redact_n(PG, NULL, 5), "", "NULL text");
	ASSERT_STREQ(redact_n(PG, " \t\n-- x\n/* y */ ", 16), "", "only space and comments");
}

TEST(sql_redact_caps)
{
	static const char *const inputs[] = {
	    "SELECT * FROM customers WHERE email = 'a@b.com' AND id IN (1, 2, 3)",
	    "SELECT 'secret' /* c */, na\xc3\xafve, '\xe2\x82\xac', \xf0\x9f\x98\x80",
	    "x IN (1,2) -- c",
	};
	char full[256], out[256];
	size_t i, cap, n, full_n;
	int d;

	/* cap 0: nothing written, not even the NUL. */
	memset(out, CANARY, sizeof(out));
	ASSERT_EQ(sql_redact(PG, "SELECT 1", 8, out, 0), 0, "cap 0");
	ASSERT_EQ((unsigned char)out[0], CANARY, "cap 0 wrote");
	ASSERT_EQ(sql_redact(PG, "SELECT 1", 8, NULL, 0), 0, "cap 0, NULL out");
	ASSERT_EQ(sql_redact(PG, "SELECT 1", 8, out, 1), 0, "cap 1");
	ASSERT_STREQ(out, "", "cap 1");
	ASSERT_EQ(sql_redact(PG, "SELECT 1", 8, out, 5), 4, "cap 5");
	ASSERT_STREQ(out, "SELE", "cap 5");
	/* Not in the middle of a UTF-8 sequence: "na\xc3" would be. */
	ASSERT_EQ(sql_redact(PG, "SELECT na\xc3\xafve", 14, out, 11), 9, "UTF-8 cut");
	ASSERT_STREQ(out, "SELECT na", "UTF-8 cut");

	/* Every cap gives a prefix of the whole output, and writes nothing past cap. */
	for (d = PG; d <= LITE; d++) {
		for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
			full_n = sql_redact(d, inputs[i], strlen(inputs[i]), full, sizeof(full));
			for (cap = 0; cap < full_n + 3; cap++) {
				memset(out, CANARY, sizeof(out));
				n = sql_redact(d, inputs[i], strlen(inputs[i]), out, cap);
				if (!ASSERT_EQ((unsigned char)out[cap], CANARY, "wrote past cap"))
					return;
				if (!cap)
					continue;
				if (!ASSERT_TRUE(n < cap && out[n] == '\0' && strlen(out) == n,
						 "length"))
					return;
				if (!ASSERT_TRUE(!memcmp(out, full, n), "not a prefix"))
					return;
				if (!ASSERT_TRUE(n == full_n || cap - 1 - n < 4, "cut too much"))
					return;
			}
		}
	}
}

/* A small deterministic generator, the same on every run. */
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng_state >> 33;
}

static size_t rnd_below(size_t n)
{
	return n ? rnd() % n : 0;
}

/* The output is a bounded, NUL-terminated string without control bytes; the input is intact. */
static bool check_output(enum sql_dialect d, const char *in, size_t len, size_t cap)
{
	static char out[1024 + 64];
	size_t n, i;

	memset(out, CANARY, sizeof(out));
	n = sql_redact(d, in, len, out, cap);
	for (i = cap; i < sizeof(out); i++)
		if (!ASSERT_EQ((unsigned char)out[i], CANARY, "wrote past cap"))
			return false;
	if (!cap)
		return ASSERT_EQ(n, 0, "cap 0");
	if (!ASSERT_TRUE(n < cap && n <= len && out[n] == '\0', "bounds"))
		return false;
	for (i = 0; i < n; i++)
		if (!ASSERT_TRUE((unsigned char)out[i] >= ' ' && out[i] != 0x7f,
				 "control byte out"))
			return false;
	return true;
}

static bool check_info(const struct sql_info *info)
{
	size_t i;

	if (!ASSERT_TRUE(memchr(info->operation, 0, sizeof(info->operation)), "operation NUL"))
		return false;
	if (!ASSERT_TRUE(info->n_tables <= SQL_TABLES_MAX, "n_tables"))
		return false;
	if (!ASSERT_TRUE(!info->more_tables || info->n_tables == SQL_TABLES_MAX, "more_tables"))
		return false;
	for (i = 0; i < info->n_tables; i++)
		if (!ASSERT_TRUE(memchr(info->tables[i], 0, SQL_NAME_MAX) && info->tables[i][0],
				 "table name"))
			return false;
	return true;
}

TEST(sql_fuzz_random_bytes)
{
	static const char sqlish[] = "'\"`[]$-/*#\\;(),.0123456789eExXbBnNuU&_?:@! \n\tINin";
	char in[512];
	struct sql_info info;
	size_t len, i, cap;
	int round, d;

	rng_state = 1;
	for (round = 0; round < 3000; round++) {
		len = rnd_below(sizeof(in));
		for (i = 0; i < len; i++)
			in[i] = rnd() % 2 ? sqlish[rnd_below(sizeof(sqlish) - 1)] : (char)rnd();
		for (d = PG; d <= LITE; d++) {
			cap = rnd_below(3) ? rnd_below(600) : rnd_below(8);
			if (!check_output(d, in, len, cap))
				return;
			sql_describe(d, in, len, &info);
			if (!check_info(&info))
				return;
		}
	}
}

/*
 * Statements built from fragments: literals and comments hold "s3cr3t" and
 * bytes >= 0x80, which nothing else holds, escaped as each dialect wants.
 * None of it may come out, neither redacted nor as a table.
 */
static void secret(char *buf, size_t *n, int kind)
{
	static const char tricky[] = "'\"`\\-/*#$;(), x\n";
	size_t len = 1 + rnd_below(12), i;

	for (i = 0; i < len; i++) {
		unsigned char c;

		switch (rnd_below(4)) {
		case 0:
			memcpy(buf + *n, "s3cr3t", 6);
			*n += 6;
			continue;
		case 1:
			c = 0x80 + rnd_below(0x80);
			break;
		default:
			c = tricky[rnd_below(sizeof(tricky) - 1)];
			break;
		}
		switch (kind) {
		case '\'': /* standard SQL string: quotes doubled */
		case '"':  /* PostgreSQL quoted identifier */
			if (c == kind)
				buf[(*n)++] = c;
			break;
		case '\\': /* backslash escapes, quotes doubled or escaped */
			if (c == '\\' || c == '\'' || c == '"')
				buf[(*n)++] = c == '\\' || rnd() % 2 ? '\\' : c;
			break;
		case '$': /* dollar quote $q$: no $ inside */
			if (c == '$')
				c = 'x';
			break;
		case '-': /* line comment */
			if (c == '\n')
				c = ' ';
			break;
		case '*': /* block comment: no / or * */
			if (c == '/' || c == '*')
				c = ' ';
			break;
		}
		buf[(*n)++] = c;
	}
}

static void add(char *buf, size_t *n, const char *s)
{
	memcpy(buf + *n, s, strlen(s));
	*n += strlen(s);
}

/* One string literal in one of the dialect's forms. */
static void gen_string(enum sql_dialect d, char *buf, size_t *n)
{
	static const char *const my_prefix[] = {"", "_utf8mb4", "N", "x", ""};
	int form = rnd_below(5);

	if (d == SQL_POSTGRESQL && form == 1) {
		add(buf, n, "E'");
		secret(buf, n, '\\');
		add(buf, n, "'");
	} else if (d == SQL_POSTGRESQL && form == 2) {
		add(buf, n, "$q$");
		secret(buf, n, '$');
		add(buf, n, "$q$");
	} else if (d == SQL_POSTGRESQL && form == 3) {
		add(buf, n, rnd() % 2 ? "U&'" : "b'");
		secret(buf, n, '\'');
		add(buf, n, "'");
	} else if (d == SQL_MYSQL) {
		const char *q = form == 4 ? "\"" : "'";

		add(buf, n, my_prefix[form]);
		add(buf, n, q);
		secret(buf, n, '\\');
		add(buf, n, q);
	} else {
		add(buf, n, d == SQL_SQLITE && form == 1 ? "X'" : "'");
		secret(buf, n, '\'');
		add(buf, n, "'");
	}
}

static size_t gen_statement(enum sql_dialect d, char *buf, bool *unterminated)
{
	static const char *const words[] = {
	    "SELECT", "FROM", "WHERE", "customers", "t1",  "c.email", "JOIN",  "IN",	 "(", ")",
	    ",",      "=",    "AND",   "NULL",	    "x",   "INSERT",  "INTO",  "VALUES", "-", ";",
	    "WITH",   "AS",   "*",     "UPDATE",    "SET", "1",	      "4.5e3", "0x1F",	 "?", ":p",
	};
	static const char *const quoted[] = {"\"Customers\"", "\"a\"\"b\"", "`t`", "[t t]"};
	size_t n = 0, frags = 1 + rnd_below(30), i;

	*unterminated = false;
	for (i = 0; i < frags; i++) {
		int kind = rnd_below(12);

		if (kind < 5) {
			add(buf, &n, words[rnd_below(sizeof(words) / sizeof(words[0]))]);
		} else if (kind < 8) {
			gen_string(d, buf, &n);
		} else if (kind == 8) {
			add(buf, &n, d == SQL_MYSQL ? (rnd() % 2 ? "# " : "-- ") : "--");
			secret(buf, &n, '-');
			add(buf, &n, "\n");
		} else if (kind == 9) {
			add(buf, &n, "/*");
			secret(buf, &n, '*');
			if (d == SQL_POSTGRESQL) { /* nested */
				add(buf, &n, "/*");
				secret(buf, &n, '*');
				add(buf, &n, "*/");
			}
			add(buf, &n, "*/");
		} else if (kind == 10 && d == SQL_MYSQL) { /* executable comment */
			add(buf, &n, "/*!50000 ");
			gen_string(d, buf, &n);
			add(buf, &n, " */");
		} else {
			/* A quoted identifier the dialect has: kept, and holds no secret. */
			add(buf, &n,
			    quoted[d == SQL_POSTGRESQL ? rnd_below(2)
				   : d == SQL_MYSQL    ? 2
						       : rnd_below(4)]);
		}
		/* Nothing between punctuation and what follows, sometimes. */
		if (!strchr("(),=", buf[n - 1]) || rnd() % 2)
			add(buf, &n, rnd() % 4 ? " " : "\n");
	}
	if (rnd() % 8 == 0) { /* ends in an unterminated literal or comment */
		static const struct {
			const char *open;
			int kind;
		} opens[] = {{"'", '\''}, {"/*", '*'}, {"$$", '$'}, {"E'", '\\'}, {"\"", '"'}};
		int o = rnd_below(d == SQL_POSTGRESQL ? 5 : 2);

		*unterminated = true;
		add(buf, &n, opens[o].open);
		secret(buf, &n, d == SQL_MYSQL && o == 0 ? '\\' : opens[o].kind);
	}
	return n;
}

static bool leaks(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return memmem(s, n, "s3cr3t", 6) != NULL;
}

TEST(sql_fuzz_statements_leak_nothing)
{
	static char in[8192], out[8192];
	struct sql_info info;
	bool unterminated;
	size_t len, n, i;
	int round, d;

	rng_state = 42;
	for (round = 0; round < 3000; round++) {
		for (d = PG; d <= LITE; d++) {
			len = gen_statement(d, in, &unterminated);
			n = sql_redact(d, in, len, out, sizeof(out));
			if (!test__check(!leaks(out, n), __FILE__, __LINE__,
					 "%s: leaked: \"%.*s\" -> \"%s\"", dialect_names[d],
					 (int)len, in, out))
				return;
			if (unterminated && !ASSERT_TRUE(n && out[n - 1] == '?', "unterminated"))
				return;
			if (!check_output(d, in, len, rnd_below(len + 2)))
				return;
			sql_describe(d, in, len, &info);
			if (!check_info(&info))
				return;
			for (i = 0; i < info.n_tables; i++)
				if (!test__check(!leaks(info.tables[i], strlen(info.tables[i])),
						 __FILE__, __LINE__,
						 "%s: table \"%s\" from \"%.*s\"", dialect_names[d],
						 info.tables[i], (int)len, in))
					return;
		}
	}
}

static bool same_info(const struct sql_info *a, const struct sql_info *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* sql_scan gives, in one pass, what sql_redact and sql_describe give each on its own. */
TEST(sql_scan_both_at_once)
{
	static const char in[] =
	    "/* c */ SELECT * FROM crm.customers c JOIN orders o ON o.cid = c.id "
	    "WHERE c.id IN (1, 2) AND c.email = 'a@b.com'; DELETE FROM t";
	static char text[8192], out[8192], alone[8192];
	struct sql_info info, alone_info;
	size_t n, len, cap;
	bool unterminated;
	int round, d;

	memset(&info, 0xff, sizeof(info));
	n = sql_scan(PG, in, sizeof(in) - 1, out, sizeof(out), &info);
	ASSERT_STREQ(
	    out,
	    "SELECT * FROM crm.customers c JOIN orders o ON o.cid = c.id WHERE c.id IN (?) "
	    "AND c.email = ?; DELETE FROM t",
	    "redacted");
	ASSERT_EQ(n, strlen(out), "length");
	ASSERT_STREQ(info.operation, "SELECT", "operation");
	ASSERT_EQ(info.n_tables, 3, "tables");
	ASSERT_STREQ(info.tables[0], "crm.customers", "table 0");
	ASSERT_STREQ(info.tables[1], "orders", "table 1");
	ASSERT_STREQ(info.tables[2], "t", "table 2");
	ASSERT_FALSE(info.more_tables, "more_tables");

	/* Without an output: the description alone, nothing written. */
	memset(out, CANARY, sizeof(out));
	ASSERT_EQ(sql_scan(PG, in, sizeof(in) - 1, NULL, 0, &alone_info), 0, "NULL out");
	ASSERT_TRUE(same_info(&info, &alone_info), "NULL out: info");
	ASSERT_EQ(sql_scan(PG, in, sizeof(in) - 1, out, 0, &alone_info), 0, "cap 0");
	ASSERT_EQ((unsigned char)out[0], CANARY, "cap 0 wrote");
	ASSERT_TRUE(same_info(&info, &alone_info), "cap 0: info");
	/* An output that fills up does not cut the description short. */
	ASSERT_EQ(sql_scan(PG, in, sizeof(in) - 1, out, 8, &alone_info), 7, "cap 8");
	ASSERT_STREQ(out, "SELECT ", "cap 8");
	ASSERT_TRUE(same_info(&info, &alone_info), "cap 8: info");
	/* Without info: the redaction alone. */
	ASSERT_EQ(sql_scan(PG, in, sizeof(in) - 1, alone, sizeof(alone), NULL), n, "NULL info");
	sql_scan(PG, in, sizeof(in) - 1, out, sizeof(out), &info);
	ASSERT_STREQ(alone, out, "NULL info");

	/* Generated statements, every dialect, any cap. */
	rng_state = 7;
	for (round = 0; round < 1000; round++) {
		for (d = PG; d <= LITE; d++) {
			len = gen_statement(d, text, &unterminated);
			cap = rnd_below(4) ? len + 1 : rnd_below(len + 2);
			n = sql_scan(d, text, len, out, cap, &info);
			sql_describe(d, text, len, &alone_info);
			if (!test__check(n == sql_redact(d, text, len, alone, cap) &&
					     (!cap || !memcmp(out, alone, n + 1)) &&
					     same_info(&info, &alone_info),
					 __FILE__, __LINE__, "%s, cap %zu: \"%.*s\"",
					 dialect_names[d], cap, (int)len, text))
				return;
		}
	}
}

TEST(sql_long_input)
{
	static const char stmt[] =
	    "SELECT * FROM customers WHERE email = 'a@b.com' AND id IN (1, 2, 3);\n";
	static const char redacted[] = "SELECT * FROM customers WHERE email = ? AND id IN (?); ";
	size_t reps = (4 << 20) / (sizeof(stmt) - 1), len = reps * (sizeof(stmt) - 1), i, n;
	char *in = malloc(len + 1), *out = malloc(len + 1), small[64];
	struct sql_info info;

	if (!ASSERT_OK_PTR(in, "malloc") || !ASSERT_OK_PTR(out, "malloc"))
		goto out;
	for (i = 0; i < reps; i++)
		memcpy(in + i * (sizeof(stmt) - 1), stmt, sizeof(stmt) - 1);

	n = sql_redact(PG, in, len, out, len + 1);
	ASSERT_EQ(n, reps * (sizeof(redacted) - 1) - 1, "length");
	for (i = 0; i + 1 < reps; i++)
		if (!ASSERT_TRUE(
			!memcmp(out + i * (sizeof(redacted) - 1), redacted, sizeof(redacted) - 1),
			"repeated output"))
			break;
	n = sql_redact(MY, in, len, small, sizeof(small));
	ASSERT_EQ(n, sizeof(small) - 1, "small cap");
	ASSERT_TRUE(!memcmp(small, out, n), "small cap prefix");

	sql_describe(PG, in, len, &info);
	ASSERT_STREQ(info.operation, "SELECT", "operation");
	ASSERT_EQ(info.n_tables, 1, "tables");
	ASSERT_STREQ(info.tables[0], "customers", "table");

	/* One unterminated string of 4 MB. */
	memcpy(in, "SELECT '", 8);
	memset(in + 8, 'x', len - 8);
	n = sql_redact(LITE, in, len, out, len + 1);
	ASSERT_STREQ(out, "SELECT ?", "unterminated");

	/* 4 MB of parentheses around a query. */
	memset(in, '(', len / 2);
	memcpy(in + len / 2, "SELECT 1 FROM t", 15);
	memset(in + len / 2 + 15, ')', len - len / 2 - 15);
	sql_describe(PG, in, len, &info);
	ASSERT_STREQ(info.operation, "SELECT", "deep operation");
	ASSERT_EQ(info.n_tables, 1, "deep tables");
	ASSERT_STREQ(info.tables[0], "t", "deep table");

	/* An IN list that never closes, and IN after IN: linear, not quadratic. */
	memcpy(in, "x IN (", 6);
	for (i = 6; i + 2 <= len; i += 2)
		memcpy(in + i, i % 4 ? "1," : "IN", 2);
	n = sql_redact(MY, in, i, out, len + 1);
	ASSERT_TRUE(n > 0 && n <= i, "open IN list");
	for (i = 0; i + 4 <= len; i += 4)
		memcpy(in + i, "$a$ ", 4);
	n = sql_redact(PG, in, len, out, len + 1);
	ASSERT_TRUE(!strchr(out, 'a'), "dollar quotes");
	memset(in, '/', len);
	for (i = 1; i < len; i += 2)
		in[i] = '*';
	n = sql_redact(PG, in, len, out, len + 1);
	ASSERT_STREQ(out, "?", "nested comment opens");
out:
	free(in);
	free(out);
}

struct describe_case {
	int dialect;
	const char *in, *op, *tables; /* tables joined by commas */
};

static bool check_describe_cases(const struct describe_case *c, size_t n)
{
	struct sql_info info;
	char got[SQL_TABLES_MAX * SQL_NAME_MAX];
	bool ok = true;
	size_t i;
	int d;

	for (; n--; c++) {
		for (d = PG; d <= LITE; d++) {
			if (c->dialect != ALL && c->dialect != d)
				continue;
			sql_describe(d, c->in, strlen(c->in), &info);
			got[0] = '\0';
			for (i = 0; i < info.n_tables; i++) {
				if (i)
					strcat(got, ",");
				strcat(got, info.tables[i]);
			}
			ok &= test__check(
			    !strcmp(info.operation, c->op) && !strcmp(got, c->tables), __FILE__,
			    __LINE__,
			    "%s: \"%s\": operation \"%s\" tables \"%s\", expected \"%s\" "
			    "\"%s\"",
			    dialect_names[d], c->in, info.operation, got, c->op, c->tables);
			ok &= test__check(!info.more_tables, __FILE__, __LINE__, "more_tables");
		}
	}
	return ok;
}

#define CHECK_DESCRIBE(cases) check_describe_cases(cases, sizeof(cases) / sizeof(cases[0]))

TEST(sql_describe_operation)
{
	static const struct describe_case cases[] = {
	    {ALL, "select 1", "SELECT", ""},
	    {ALL, "  /* c */ -- d\n ((SELECT 1))", "SELECT", ""},
	    {ALL, ";; begin; commit", "BEGIN", ""},
	    {ALL, "Explain SELECT 1", "EXPLAIN", ""},
	    {ALL, "pragma table_info(t)", "PRAGMA", ""},
	    {ALL, "show tables", "SHOW", ""},
	    {ALL, "vacuum", "VACUUM", ""},
	    {ALL, "", "", ""},
	    {ALL, "   -- only a comment", "", ""},
	    {ALL, "'a string first' SELECT", "", ""},
	    {ALL, "* FROM t", "", ""},
	    {ALL, "a_very_long_first_word_that_does_not_fit_at_all",
	     "A_VERY_LONG_FIRST_WORD_THAT_DOE", ""},
	    {ALL,
	     "sel\xc3\xa9"
	     "ct 1",
	     "SEL", ""},
	    {MY, "/*!40101 SET NAMES utf8 */", "SET", ""},
	    {MY, "# comment\nREPLACE INTO t VALUES (1)", "REPLACE", "t"},
	};

	CHECK_DESCRIBE(cases);
}

TEST(sql_describe_tables)
{
	static const struct describe_case cases[] = {
	    {ALL, "SELECT * FROM customers WHERE email = 'a@b.com'", "SELECT", "customers"},
	    {ALL,
	     "select c.id, o.total from public.customers c join orders o on o.cid = c.id "
	     "left outer join order_items as oi using (oid) where c.id = 1",
	     "SELECT", "public.customers,orders,order_items"},
	    {ALL, "SELECT * FROM a, b AS bb, c cc WHERE a.x = bb.x", "SELECT", "a,b,c"},
	    {ALL, "SELECT * FROM a JOIN b ON a.id = b.id, c", "SELECT", "a,b,c"},
	    {ALL,
	     "SELECT * FROM a NATURAL JOIN b CROSS JOIN c INNER JOIN d ON true RIGHT JOIN e ON 1=1",
	     "SELECT", "a,b,c,d,e"},
	    {ALL, "SELECT * FROM Customers JOIN CUSTOMERS ON 1=1 JOIN Customers ON 1=1", "SELECT",
	     "Customers,CUSTOMERS"},
	    {ALL, "SELECT * FROM db.sch.t, sch.u", "SELECT", "db.sch.t,sch.u"},
	    {ALL, "SELECT * FROM sch . t", "SELECT", "sch.t"},
	    /* Subqueries: not tables themselves, but what they read is. */
	    {ALL,
	     "SELECT * FROM (SELECT id FROM customers WHERE x IN (SELECT y FROM z)) s JOIN w ON "
	     "true",
	     "SELECT", "customers,z,w"},
	    {ALL, "SELECT * FROM a, (SELECT * FROM b) s, c", "SELECT", "a,b,c"},
	    {ALL, "SELECT (SELECT count(*) FROM u) AS n FROM t WHERE EXISTS (SELECT 1 FROM v)",
	     "SELECT", "u,t,v"},
	    {ALL, "SELECT * FROM (a JOIN b ON a.id = b.id) JOIN c ON true", "SELECT", "a,b,c"},
	    {ALL, "((SELECT 1 FROM t) UNION ALL (SELECT 2 FROM u)) ORDER BY 1", "SELECT", "t,u"},
	    {ALL,
	     "SELECT * FROM t1 WHERE x IN (1,2) UNION SELECT * FROM t2 EXCEPT SELECT * FROM t3",
	     "SELECT", "t1,t2,t3"},
	    {ALL, "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, name), t", "SELECT", "t"},
	    /* Functions in FROM are not tables; FROM inside function calls names none. */
	    {PG,
	     "SELECT * FROM generate_series(1, 10) g, unnest(ARRAY[1,2]) WITH ORDINALITY AS u(x, "
	     "n), "
	     "customers",
	     "SELECT", "customers"},
	    {PG, "SELECT * FROM t CROSS JOIN LATERAL jsonb_each(t.j) AS e", "SELECT", "t"},
	    {ALL,
	     "SELECT EXTRACT(YEAR FROM created), SUBSTRING(name FROM 1 FOR 3), TRIM(BOTH ' ' FROM "
	     "x) "
	     "FROM customers",
	     "SELECT", "customers"},
	    {PG, "SELECT a IS DISTINCT FROM b, c IS NOT DISTINCT FROM d FROM t", "SELECT", "t"},
	    {PG, "SELECT * FROM t WHERE a = ANY(ARRAY[x.y, z.w])", "SELECT", "t"},
	    {ALL, "SELECT count(*) FROM t GROUP BY a, b ORDER BY c, d LIMIT 1 OFFSET 2", "SELECT",
	     "t"},
	    {PG, "SELECT * FROM ONLY parent, LATERAL (SELECT * FROM child) c", "SELECT",
	     "parent,child"},
	    {PG, "SELECT * FROM t FOR UPDATE OF t SKIP LOCKED", "SELECT", "t"},
	    {PG, "SELECT * FROM t FOR NO KEY UPDATE NOWAIT", "SELECT", "t"},
	    {PG, "SELECT * INTO new_t FROM t", "SELECT", "new_t,t"},
	    {ALL, "EXPLAIN ANALYZE SELECT * FROM t", "EXPLAIN", "t"},
	    /* Strings, comments and quoted identifiers. */
	    {PG,
	     "SELECT 'FROM secret' FROM t -- JOIN hidden\n /* JOIN hidden2 */ WHERE x = $$ FROM "
	     "hidden3 $$",
	     "SELECT", "t"},
	    {MY, "SELECT \"FROM secret\" FROM t # JOIN hidden\n", "SELECT", "t"},
	    {PG, "SELECT * FROM \"My Table\" JOIN \"Sch\".\"My \"\"T\"\"\" ON true", "SELECT",
	     "My Table,Sch.My \"T\""},
	    {PG, "SELECT * FROM \"Kunden_\xc3\xa4\"", "SELECT", "Kunden_\xc3\xa4"},
	    {PG, "SELECT * FROM U&\"t\\0061\"", "SELECT", "t\\0061"},
	    {PG, "SELECT * FROM \"unterminated", "SELECT", ""},
	    {PG, "SELECT * FROM \"\"", "SELECT", ""},
	    {ALL, "SELECT * FROM t WHERE x = 'abc FROM u", "SELECT", "t"},
	    {MY, "SELECT * FROM `shop`.`customers` AS c INNER JOIN `orders` o ON o.cid = c.id",
	     "SELECT", "shop.customers,orders"},
	    {MY, "SELECT * FROM `we``ird`, 1table STRAIGHT_JOIN t2", "SELECT", "we`ird,1table,t2"},
	    {MY, "SELECT * FROM t1 USE INDEX (i1) JOIN t2 FORCE INDEX (i2, i3) ON true", "SELECT",
	     "t1,t2"},
	    {MY, "SELECT a INTO @x FROM t", "SELECT", "t"},
	    {MY, "SELECT * FROM t INTO OUTFILE '/tmp/t'", "SELECT", "t"},
	    {MY, "SELECT * FROM t LOCK IN SHARE MODE", "SELECT", "t"},
	    {LITE, "SELECT * FROM [My Table] JOIN \"other t\" JOIN `x` ON true", "SELECT",
	     "My Table,other t,x"},
	    {LITE, "SELECT * FROM main.[t] WHERE rowid IN (SELECT rowid FROM t LIMIT 1)", "SELECT",
	     "main.t,t"},
	};

	CHECK_DESCRIBE(cases);
}

TEST(sql_describe_ctes)
{
	static const struct describe_case cases[] = {
	    {ALL,
	     "WITH recent AS (SELECT * FROM orders WHERE d > now() - interval '1 day'), top (cid) "
	     "AS "
	     "(SELECT cid FROM recent) SELECT * FROM customers JOIN top ON top.cid = customers.id "
	     "JOIN recent USING (cid)",
	     "WITH", "orders,customers"},
	    {ALL,
	     "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 10) SELECT "
	     "sum(n) FROM t",
	     "WITH", ""},
	    {PG,
	     "WITH x AS MATERIALIZED (SELECT 1), y AS NOT MATERIALIZED (SELECT * FROM x) SELECT "
	     "* FROM y",
	     "WITH", ""},
	    /* A CTE's own name inside its body is the real table, unless RECURSIVE. */
	    {ALL,
	     "WITH customers AS (SELECT * FROM customers WHERE region = 'eu') SELECT * FROM "
	     "customers",
	     "WITH", "customers"},
	    /* Only where the WITH is visible. */
	    {ALL, "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x", "SELECT", "x"},
	    /* A qualified name is never a CTE. */
	    {ALL, "WITH customers AS (SELECT 1) SELECT * FROM public.customers", "WITH",
	     "public.customers"},
	    {PG, "WITH \"Q\" AS (SELECT 1) SELECT * FROM \"Q\", q", "WITH", ""},
	    {MY, "WITH `Q` AS (SELECT 1) SELECT * FROM `Q`, q", "WITH", ""},
	    {PG, "WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d", "WITH",
	     "a,b"},
	    {PG, "WITH u AS (UPDATE a SET x = 1 RETURNING *) SELECT * FROM u", "WITH", "a"},
	    {ALL, "INSERT INTO t WITH x AS (SELECT * FROM s) SELECT * FROM x", "INSERT", "t,s"},
	    /* Each statement has its own CTEs. */
	    {ALL, "WITH x AS (SELECT 1) SELECT * FROM x; SELECT * FROM x", "WITH", "x"},
	    /* WITH that is no CTE. */
	    {PG, "SELECT now()::timestamp WITH TIME ZONE FROM t", "SELECT", "t"},
	    {PG, "CREATE VIEW v AS SELECT * FROM t WITH CHECK OPTION", "CREATE", "t"},
	};

	CHECK_DESCRIBE(cases);
}

TEST(sql_describe_statements)
{
	static const struct describe_case cases[] = {
	    {ALL, "INSERT INTO archive (id, email) SELECT id, email FROM customers WHERE deleted",
	     "INSERT", "archive,customers"},
	    {ALL, "INSERT INTO t (a, b) VALUES (1, 2), (3, 4)", "INSERT", "t"},
	    {PG,
	     "INSERT INTO t AS x VALUES (1) ON CONFLICT (id) DO UPDATE SET x = excluded.x, y = 2",
	     "INSERT", "t"},
	    {PG, "UPDATE customers SET email = $1 FROM staging s WHERE s.id = customers.id",
	     "UPDATE", "customers,staging"},
	    {PG, "UPDATE ONLY t SET a = 1, b = 2", "UPDATE", "t"},
	    {PG, "DELETE FROM orders USING customers c, regions r WHERE orders.cid = c.id",
	     "DELETE", "orders,customers,regions"},
	    {PG, "DELETE FROM a USING b JOIN c USING (id) WHERE a.id = b.id", "DELETE", "a,b,c"},
	    {ALL, "DELETE FROM t WHERE id IN (SELECT id FROM u)", "DELETE", "t,u"},
	    {PG, "COPY customers (id, email) FROM STDIN WITH (FORMAT csv)", "COPY", "customers"},
	    {PG, "COPY (SELECT * FROM customers JOIN orders USING (id)) TO '/tmp/x.csv'", "COPY",
	     "customers,orders"},
	    {PG, "COPY public.customers TO STDOUT", "COPY", "public.customers"},
	    {PG, "TRUNCATE TABLE ONLY a, b RESTART IDENTITY CASCADE", "TRUNCATE", "a,b"},
	    {ALL, "TRUNCATE t", "TRUNCATE", "t"},
	    {PG, "TABLE customers", "TABLE", "customers"},
	    {PG, "DROP TABLE IF EXISTS a, \"B\"", "DROP", "a,B"},
	    {MY, "DROP TABLE IF EXISTS a, `B`", "DROP", "a,B"},
	    {ALL, "CREATE TABLE IF NOT EXISTS crm.customers (id int REFERENCES r(id), email text)",
	     "CREATE", "crm.customers"},
	    {ALL, "CREATE TABLE t2 AS SELECT * FROM t1", "CREATE", "t2,t1"},
	    {ALL, "ALTER TABLE customers ADD COLUMN phone text, ADD COLUMN fax text", "ALTER",
	     "customers"},
	    {PG, "CREATE FUNCTION f() RETURNS TABLE(a int, b text) AS $$ SELECT * FROM t $$",
	     "CREATE", ""},
	    {PG, "CREATE TRIGGER trg BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION f()",
	     "CREATE", ""},
	    {LITE,
	     "CREATE TRIGGER trg AFTER INSERT OR UPDATE ON a BEGIN INSERT INTO log VALUES (1); END",
	     "CREATE", "log"},
	    {PG,
	     "MERGE INTO customers c USING staging s ON c.id = s.id WHEN MATCHED THEN UPDATE SET "
	     "email = s.email WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
	     "MERGE", "customers,staging"},
	    {PG, "GRANT SELECT, UPDATE ON customers, orders TO app, bob", "GRANT",
	     "customers,orders"},
	    {PG, "REVOKE ALL ON TABLE customers FROM app", "REVOKE", "customers"},
	    {PG, "GRANT USAGE ON SCHEMA crm TO app; GRANT EXECUTE ON FUNCTION f(int) TO app",
	     "GRANT", ""},
	    {MY, "GRANT SELECT ON shop.* TO 'u'@'h'; GRANT ALL ON *.* TO x", "GRANT", ""},
	    {MY, "GRANT SELECT ON shop.customers TO 'u'@'h'", "GRANT", "shop.customers"},
	    {MY, "UPDATE customers c JOIN orders o ON o.cid = c.id SET c.total = o.total", "UPDATE",
	     "customers,orders"},
	    {MY, "UPDATE LOW_PRIORITY IGNORE a, b SET a.x = b.x", "UPDATE", "a,b"},
	    {MY, "DELETE c, o FROM customers c JOIN orders o ON o.cid = c.id", "DELETE",
	     "customers,orders"},
	    {MY, "DELETE FROM a, b USING a JOIN b ON a.id = b.id JOIN c ON true", "DELETE",
	     "a,b,c"},
	    {MY, "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a), b = 2",
	     "INSERT", "t"},
	    {MY, "INSERT IGNORE INTO t SELECT * FROM u ON DUPLICATE KEY UPDATE a = 1, b = 2",
	     "INSERT", "t,u"},
	    {MY, "REPLACE INTO t SELECT * FROM u", "REPLACE", "t,u"},
	    {MY, "INSERT LOW_PRIORITY t (a) VALUES (1)", "INSERT", "t"},
	    {MY, "LOCK TABLES a READ, b AS bb WRITE", "LOCK", "a,b"},
	    {MY, "LOAD DATA LOCAL INFILE '/tmp/f' REPLACE INTO TABLE t", "LOAD", "t"},
	    {MY, "/*!40000 ALTER TABLE `customers` DISABLE KEYS */;", "ALTER", "customers"},
	    {MY, "SHOW TABLES FROM shop LIKE 'c%'; SHOW CREATE TABLE t", "SHOW", "t"},
	    {LITE, "INSERT OR REPLACE INTO t VALUES (1); UPDATE OR IGNORE u SET a = 1", "INSERT",
	     "t,u"},
	    {LITE, "ATTACH DATABASE 'x.db' AS x", "ATTACH", ""},
	    {ALL, "BEGIN; INSERT INTO a VALUES (1); UPDATE b SET x = 1; COMMIT", "BEGIN", "a,b"},
	    {ALL, "DELETE FROM t; DELETE FROM t", "DELETE", "t"},
	    {ALL, "SELECT * FROM t WHERE id = ? ; DELETE FROM u", "SELECT", "t,u"},
	};

	CHECK_DESCRIBE(cases);
}

TEST(sql_describe_table_limit)
{
	char in[2048] = "SELECT * FROM t0";
	struct sql_info info;
	size_t i;

	for (i = 1; i < 20; i++)
		sprintf(in + strlen(in), ", t%zu JOIN t0 ON true", i);
	sql_describe(PG, in, strlen(in), &info);
	ASSERT_EQ(info.n_tables, SQL_TABLES_MAX, "n_tables");
	ASSERT_TRUE(info.more_tables, "more_tables");
	ASSERT_STREQ(info.tables[15], "t15", "last");

	memset(&info, 0xff, sizeof(info));
	sql_describe(MY, NULL, 10, &info);
	ASSERT_TRUE(!info.operation[0] && !info.n_tables && !info.more_tables, "NULL text");

	sprintf(in, "SELECT * FROM t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, "
		    "t15, t16, t1");
	sql_describe(PG, in, strlen(in), &info);
	ASSERT_EQ(info.n_tables, SQL_TABLES_MAX, "exactly max");
	ASSERT_FALSE(info.more_tables, "exactly max");

	/* A name longer than SQL_NAME_MAX is cut, on a UTF-8 boundary. */
	memcpy(in, "SELECT * FROM ", 14);
	for (i = 14; i < 14 + 2 * 200; i += 2)
		memcpy(in + i, "\xc3\xa4", 2);
	in[i] = '\0';
	sql_describe(PG, in, strlen(in), &info);
	ASSERT_EQ(info.n_tables, 1, "long name");
	ASSERT_EQ(strlen(info.tables[0]), SQL_NAME_MAX - 2, "long name cut");
}

TEST(sql_table_matches)
{
	static const struct {
		const char *pattern, *table;
		bool match;
	} cases[] = {
	    {"customers", "customers", true},
	    {"customers", "public.customers", true},
	    {"customers", "crm.public.customers", true},
	    {"CUSTOMERS", "public.Customers", true},
	    {"customers", "customers_old", false},
	    {"customers", "customers.x", false},
	    {"cust*", "public.customers", true},
	    {"*customers*", "old_customers_2", true},
	    {"c?stomers", "customers", true},
	    {"c?stomers", "cstomers", false},
	    {"crm.*", "crm.orders", true},
	    {"CRM.*", "crm.orders", true},
	    {"crm.*", "public.orders", false},
	    {"crm.*", "orders", false},
	    {"crm.*", "crmx.orders", false},
	    {"*.customers", "public.customers", true},
	    {"*.customers", "db.public.customers", true},
	    {"*.customers", "customers", true},
	    {"public.customers", "public.customers", true},
	    {"public.customers", "customers", true},
	    {"public.customers", "crm.customers", false},
	    {"\"Public\".\"Customers\"", "public.customers", true},
	    {"customers", "\"public\".\"customers\"", true},
	    {"`customers`", "shop.customers", true},
	    {"[customers]", "customers", true},
	    {"\"we\"\"ird\"", "we\"ird", true},
	    {"*", "anything.at.all", true},
	    {"a*b*c", "aXXbYYc", true},
	    {"a*b*c", "aXXbYY", false},
	    {"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	    {"", "x", false},
	    {"customers", "", false},
	    {"k\xc3\xa4*", "K\xc3\xa4ufer", true},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		test__check(sql_table_matches(cases[i].pattern, cases[i].table) == cases[i].match,
			    __FILE__, __LINE__, "\"%s\" vs \"%s\": expected %s", cases[i].pattern,
			    cases[i].table, cases[i].match ? "a match" : "no match");
	ASSERT_FALSE(sql_table_matches(NULL, "t"), "NULL pattern");
	ASSERT_FALSE(sql_table_matches("t", NULL), "NULL table");
}

/*
 * Not an assertion: how long a typical 1 KB query takes to redact, describe
 * and both, in CPU time (custos-sqlbench measures more, against the former
 * two passes).
 */
TEST(sql_redact_speed)
{
	static const char part[] =
	    "SELECT c.id, c.email, o.total FROM public.customers c JOIN orders o ON o.cid = c.id "
	    "WHERE c.email = 'someone@example.com' AND o.created > '2024-01-01 00:00:00' AND "
	    "o.status IN (1, 2, 3, 4) AND c.name LIKE 'Jo%' /* report */ LIMIT 100;\n";
	char in[1024], out[1100];
	struct timespec a, b;
	size_t len = 0, n = 0;
	int i, rounds = 20000;
	double ns;

	while (len + sizeof(part) - 1 <= sizeof(in)) {
		memcpy(in + len, part, sizeof(part) - 1);
		len += sizeof(part) - 1;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < rounds; i++)
		n += sql_redact(PG, in, len, out, sizeof(out));
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds;
	printf("    sql_redact: %zu-byte query in %.2f us\n", len, ns / 1000);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < rounds; i++) {
		struct sql_info info;

		sql_describe(PG, in, len, &info);
		n += info.n_tables;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds;
	printf("    sql_describe: %zu-byte query in %.2f us\n", len, ns / 1000);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < rounds; i++) {
		struct sql_info info;

		n += sql_scan(PG, in, len, out, sizeof(out), &info);
		n += info.n_tables;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / rounds;
	printf("    sql_scan (both): %zu-byte query in %.2f us\n", len, ns / 1000);
	ASSERT_TRUE(n > 0, "ran");
}
