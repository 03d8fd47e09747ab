// SPDX-License-Identifier: GPL-2.0
/*
 * sql_scan against the two-pass redactor and describer it replaced
 * (sql_ref.c, a copy kept for this): in every dialect, and with every kind
 * of cap (the whole text, cut short, none), the same length, the same
 * redacted bytes and the same description, byte for byte.
 */
#include <stdint.h>

#include "fuzz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_ref.h"

static const char *const dialect_names[] = {"postgresql", "mysql", "sqlite"};

static void fail(enum sql_dialect d, const char *text, size_t len, size_t cap, const char *what)
{
	fprintf(stderr, "sql_scan differs from the reference (%s, cap %zu): %s\n%.*s\n",
		dialect_names[d], cap, what, (int)len, text);
	abort();
}

static void check_redact(enum sql_dialect d, const char *text, size_t len, size_t cap)
{
	char *want = malloc(cap ? cap : 1), *got = malloc(cap ? cap : 1);
	size_t want_n, got_n;

	want_n = sql_ref_redact(d, text, len, want, cap);
	got_n = sql_scan(d, text, len, got, cap, NULL);
	if (got_n != want_n || (cap && memcmp(got, want, want_n + 1)))
		fail(d, text, len, cap, "redacted");
	free(want);
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sql_info want, got;
	enum sql_dialect d;
	size_t caps[5], i, cap, n;
	char *out;

	/* The whole text, cut anywhere (the first byte picks where), cut early, 1 and 0. */
	caps[0] = size + 1;
	caps[1] = size ? 1 + data[0] % (size + 1) : 1;
	caps[2] = 1 + size / 3;
	caps[3] = 1;
	caps[4] = 0;
	for (d = SQL_POSTGRESQL; d <= SQL_SQLITE; d++) {
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
			check_redact(d, text, size, caps[i]);

		sql_ref_describe(d, text, size, &want);
		sql_scan(d, text, size, NULL, 0, &got);
		if (memcmp(&got, &want, sizeof(want)))
			fail(d, text, size, 0, "described");

		/* Both at once: an output that fills up must not stop the description. */
		for (i = 0; i < 3; i++) {
			char *ref = malloc(caps[i]);

			cap = caps[i];
			out = malloc(cap);
			memset(&got, 0xa5, sizeof(got));
			n = sql_scan(d, text, size, out, cap, &got);
			if (n != sql_ref_redact(d, text, size, ref, cap) || memcmp(out, ref, n + 1))
				fail(d, text, size, cap, "redacted with the description");
			if (memcmp(&got, &want, sizeof(want)))
				fail(d, text, size, cap, "described with the redaction");
			free(ref);
			free(out);
		}
	}
	return 0;
}
