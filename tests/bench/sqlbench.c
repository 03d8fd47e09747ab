// SPDX-License-Identifier: GPL-2.0
/*
 * custos-sqlbench: how fast SQL text is redacted and described, on one core,
 * and the same for the two passes sql_scan replaced (tests/fuzz/sql_ref.c),
 * measured round by round in the same run so that both see the same machine.
 * Two texts: the 940-byte statement of the unit test (tests/unit/test_sql.c)
 * and 1 MiB of short statements. Times are this thread's CPU time, and each
 * figure is the best round's: the least disturbed by whatever else runs.
 * Numbers, never pass/fail.
 *
 *   custos-sqlbench [-r ROUNDS] [-b BYTES]   (BYTES of text a round and way, default 16 MiB)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode/sql.h"
#include "sql_ref.h"

enum way {
	REF_BOTH, /* before: sql_redact then sql_describe, each lexing the text */
	REF_REDACT,
	REF_DESCRIBE,
	SCAN_BOTH, /* after: sql_scan, both in one pass */
	SCAN_REDACT,
	SCAN_DESCRIBE,
	WAYS,
};

static const char *const way_names[] = {
    [REF_BOTH] = "before: redact + describe (2 passes)",
    [REF_REDACT] = "before: redact only",
    [REF_DESCRIBE] = "before: describe only",
    [SCAN_BOTH] = "after:  sql_scan, both (1 pass)",
    [SCAN_REDACT] = "after:  sql_redact (sql_scan, no info)",
    [SCAN_DESCRIBE] = "after:  sql_describe (sql_scan, no output)",
};

/* This thread's CPU time: time spent waiting for a CPU is not counted. */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t sink; /* what the calls return, so that none is optimized away */

static void run(enum way w, const char *text, size_t len, char *out, struct sql_info *info)
{
	switch (w) {
	case REF_BOTH:
		sink += sql_ref_redact(SQL_POSTGRESQL, text, len, out, len + 1);
		sql_ref_describe(SQL_POSTGRESQL, text, len, info);
		break;
	case REF_REDACT:
		sink += sql_ref_redact(SQL_POSTGRESQL, text, len, out, len + 1);
		break;
	case REF_DESCRIBE:
		sql_ref_describe(SQL_POSTGRESQL, text, len, info);
		break;
	case SCAN_BOTH:
		sink += sql_scan(SQL_POSTGRESQL, text, len, out, len + 1, info);
		break;
	case SCAN_REDACT:
		sink += sql_redact(SQL_POSTGRESQL, text, len, out, len + 1);
		break;
	case SCAN_DESCRIBE:
		sql_describe(SQL_POSTGRESQL, text, len, info);
		break;
	case WAYS:
		break;
	}
	sink += info->n_tables;
}

/* Every way on one text, rounds interleaved; prints each way's best round. */
static void measure(const char *title, const char *text, size_t len, int rounds, size_t bytes)
{
	double best[WAYS], t0, t;
	size_t calls = bytes / len ? bytes / len : 1, i;
	char *out = malloc(len + 1);
	struct sql_info info;
	int r, w;

	if (!out) {
		perror("malloc");
		exit(1);
	}
	for (w = 0; w < WAYS; w++)
		best[w] = 1e9;
	for (r = 0; r < rounds; r++) {
		for (w = 0; w < WAYS; w++) {
			t0 = now();
			for (i = 0; i < calls; i++)
				run(w, text, len, out, &info);
			t = (now() - t0) / calls;
			if (t < best[w])
				best[w] = t;
		}
	}
	printf("%s: %zu bytes, %zu calls a round, best of %d rounds\n", title, len, calls, rounds);
	printf("  %-44s %10s %8s\n", "", "us/call", "MB/s");
	for (w = 0; w < WAYS; w++)
		printf("  %-44s %10.2f %8.0f\n", way_names[w], best[w] * 1e6, len / best[w] / 1e6);
	printf("  one pass for both: %.2fx the speed of the two\n",
	       best[REF_BOTH] / best[SCAN_BOTH]);
	free(out);
}

int main(int argc, char **argv)
{
	/* The unit test's statement (test_sql.c, sql_redact_speed), five times: 940 bytes. */
	static const char part[] =
	    "SELECT c.id, c.email, o.total FROM public.customers c JOIN orders o ON o.cid = c.id "
	    "WHERE c.email = 'someone@example.com' AND o.created > '2024-01-01 00:00:00' AND "
	    "o.status IN (1, 2, 3, 4) AND c.name LIKE 'Jo%' /* report */ LIMIT 100;\n";
	static const char *const stmts[] = {
	    "SELECT * FROM customers WHERE email = 'a@b.com' AND id IN (1, 2, 3);\n",
	    "INSERT INTO orders (cid, total, note) VALUES (42, 99.50, E'rush\\norder');\n",
	    "UPDATE customers SET email = $1, updated = now() WHERE id = $2;\n",
	    "-- nightly\nDELETE FROM sessions WHERE expires < '2024-01-01' /* old */;\n",
	    "WITH r AS (SELECT cid FROM orders WHERE total > 100) SELECT name FROM customers "
	    "JOIN r ON r.cid = customers.id;\n",
	};
	size_t bytes = 16 << 20, len = 0, i;
	char one[1024], *many;
	int rounds = 11, opt;

	while ((opt = getopt(argc, argv, "r:b:")) != -1) {
		if (opt == 'r')
			rounds = atoi(optarg);
		else if (opt == 'b')
			bytes = strtoull(optarg, NULL, 0);
		else
			return fprintf(stderr, "usage: custos-sqlbench [-r ROUNDS] [-b BYTES]\n"),
			       2;
	}
	if (rounds < 1)
		rounds = 1;

	while (len + sizeof(part) - 1 <= sizeof(one)) {
		memcpy(one + len, part, sizeof(part) - 1);
		len += sizeof(part) - 1;
	}
	measure("SQL, one statement (the unit test's)", one, len, rounds, bytes);

	many = malloc((1 << 20) + 256);
	if (!many) {
		perror("malloc");
		return 1;
	}
	for (len = 0, i = 0; len < 1 << 20; i++) {
		memcpy(many + len, stmts[i % 5], strlen(stmts[i % 5]));
		len += strlen(stmts[i % 5]);
	}
	printf("\n");
	measure("SQL, 1 MiB of short statements in one text", many, len, rounds, bytes);
	free(many);
	return sink == 42; /* never: only keeps sink */
}
