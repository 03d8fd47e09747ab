// SPDX-License-Identifier: GPL-2.0
/* A process's arguments scrubbed of the literals of its SQL statements (encode/scrub.h). */
#include <stdlib.h>
#include <string.h>

#include "encode/encode_priv.h"
#include "encode/scrub.h"
#include "lib/proc.h"

#include "test.h"

/* argv as one string, each argument followed by "|"; NULL when nothing changed. */
static char *scrubbed(enum sql_dialect d, const char *stmt, const char *const *argv)
{
	static char shown[4096];
	char args[2048], *out;
	size_t len = 0, out_len, i;
	int r;

	for (i = 0; argv[i]; i++) {
		memcpy(args + len, argv[i], strlen(argv[i]) + 1);
		len += strlen(argv[i]) + 1;
	}
	r = scrub_args(d, stmt, strlen(stmt), args, len, &out, &out_len);
	if (r <= 0)
		return NULL;
	for (i = 0; i < out_len; i++)
		shown[i] = out[i] ? out[i] : '|';
	shown[out_len] = 0;
	free(out);
	return shown;
}

TEST(scrub_statement_whole_and_embedded)
{
	const char *stmt = "SELECT * FROM customers WHERE email='c3@example.com' AND id=7";
	const char *psql[] = {"psql", "-c", stmt, NULL};
	const char *perl[] = {"perl", "-MDBI", "-e",
			      "$d->do(\"SELECT * FROM customers WHERE email='c3\\@example.com' AND "
			      "id=7\"); print 'done 7'",
			      NULL};
	const char *bash[] = {"bash", "-c",
			      "psql -c \"SELECT * FROM customers WHERE email='c3@example.com' AND "
			      "id=7\" > /tmp/out-7",
			      NULL};

	ASSERT_STREQ(scrubbed(SQL_POSTGRESQL, stmt, psql),
		     "psql|-c|SELECT * FROM customers WHERE email=? AND id=?|", "psql -c");
	/* In perl, @ is escaped: backslashes do not count, the statement matches whole. */
	ASSERT_STREQ(scrubbed(SQL_POSTGRESQL, stmt, perl),
		     "perl|-MDBI|-e|$d->do(\"SELECT * FROM customers WHERE email=? AND id=?\"); "
		     "print 'done 7'|",
		     "perl -e");
	ASSERT_STREQ(
	    scrubbed(SQL_POSTGRESQL, stmt, bash),
	    "bash|-c|psql -c \"SELECT * FROM customers WHERE email=? AND id=?\" > /tmp/out-7|",
	    "bash -c");
}

TEST(scrub_literal_spellings)
{
	const char *stmt = "delete from t where name = 'O''Brien-Smith' or note = E'it\\'s x'";
	const char *argv[] = {
	    "tool", "--name=o\\'brien-smith", "NAME:O''BRIEN-SMITH", "it's x!", "plain", NULL};

	ASSERT_STREQ(scrubbed(SQL_POSTGRESQL, stmt, argv), "tool|--name=?|NAME:?|?!|plain|",
		     "quotes escaped, doubled, other case");
}

TEST(scrub_numbers_and_short_literals)
{
	const char *stmt = "update accounts set balance = 12345 where id = 42 and k = 'ab'";
	const char *argv[] = {"app", "--id=42", "--acct=12345", "--port=123456", "x12345y",
			      "ab",  NULL};

	/* 42 and 'ab' are too short to look for; 12345 only where no digit touches it. */
	ASSERT_STREQ(scrubbed(SQL_SQLITE, stmt, argv), "app|--id=42|--acct=?|--port=123456|x?y|ab|",
		     "numbers");
}

TEST(scrub_nothing_to_do)
{
	const char *argv[] = {"psql", "-c", "select 1 from t where a = 'b'", NULL};
	const char *other[] = {"cat", "/srv/crm/a.csv", NULL};

	ASSERT_NULL(scrubbed(SQL_POSTGRESQL, "select 1 from t where a = 'c'", argv),
		    "another statement, no literal long enough");
	ASSERT_NULL(scrubbed(SQL_POSTGRESQL, "select * from t where e = 'secret@x.org'", other),
		    "arguments without the literal");
}

TEST(scrub_comments_and_dollar_quotes)
{
	const char *stmt = "select $q$top secret$q$ /* for alice@corp */ -- bob@corp\n";
	const char *argv[] = {"x", "top secret", "For alice@corp, bob@corp", NULL};

	ASSERT_STREQ(scrubbed(SQL_POSTGRESQL, stmt, argv), "x|?|?, ?|", "dollar quote, comments");
}

TEST(scrub_made_again)
{
	/* Replacing the first match makes another: a?b from a + ? + b. */
	const char *stmt = "select 'a?b' from t";
	const char *argv[] = {"x", "aa?bb", NULL};

	ASSERT_STREQ(scrubbed(SQL_MYSQL, stmt, argv), "x|?|", "a match made by a replacement");
}

/* process.args of a process with argv (NUL-separated), "|" after each. */
static const char *args_shown(const char *argv, size_t len)
{
	static char shown[2048];
	struct proc_info proc = {.args = (char *)argv, .args_len = len};
	struct encode_args a;
	size_t i, start = 0, o = 0;

	if (encode_args(&proc, &a))
		return NULL;
	for (i = 0; i < a.count; i++) {
		memcpy(shown + o, a.text + start, a.ends[i] - start);
		o += a.ends[i] - start;
		shown[o++] = '|';
		start = a.ends[i];
	}
	shown[o] = 0;
	encode_args_free(&a);
	return shown;
}

TEST(scrub_statement_inside_an_argument)
{
	static const char perl[] = "perl\0-e\0$d->do(\"DELETE FROM t WHERE e='x@y.z'\"); print 1";
	static const char plain[] = "apt-get\0update\0--select\0from";
	static const char comment[] = "sqlite3\0f.db\0/* x */ select * from t where e = 'x@y.z'";
	static const char glued[] = "psql\0-cSELECT 1 FROM t WHERE e = 'x@y.z'\0-v\0-x";

	ASSERT_STREQ(args_shown(perl, sizeof(perl)), "perl|-e|$d->do(\"DELETE FROM t WHERE e=??|",
		     "perl -e: from the statement on, both quotes are literals");
	ASSERT_STREQ(args_shown(plain, sizeof(plain)), "apt-get|update|--select|from|",
		     "words of SQL, no statement");
	ASSERT_STREQ(args_shown(comment, sizeof(comment)),
		     "sqlite3|f.db|/* x */ select * from t where e = ?|",
		     "a statement after a comment");
	ASSERT_STREQ(args_shown(glued, sizeof(glued)), "psql|-cSELECT ? FROM t WHERE e = ?|-v|-x|",
		     "a statement glued to its option");
}
