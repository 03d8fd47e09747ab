// SPDX-License-Identifier: GPL-2.0
/*
 * A process's arguments scrubbed of a statement's literals, on any bytes:
 * the first byte picks the dialect, the next two the statement's length,
 * then the statement and the arguments (NUL-separated). Properties: as many
 * arguments come out as went in; no literal of the statement
 * (sql_literals()) of SCRUB_LITERAL_MIN bytes or more survives in any
 * argument in the matching form (a number: where no digit touches it);
 * nothing changed means nothing was there to find.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "encode/scrub.h"

struct check {
	const char *stmt;
	const char *args;
	size_t len;
};

static size_t count_nuls(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += !s[i];
	return k;
}

/* Does the folded literal occur in the folded argument (a number: not next to a digit)? */
static bool occurs(const char *arg, size_t n, const char *lit, size_t ln, bool number)
{
	size_t i;

	for (i = 0; ln <= n && i + ln <= n; i++) {
		if (memcmp(arg + i, lit, ln))
			continue;
		if (number && ((i > 0 && arg[i - 1] >= '0' && arg[i - 1] <= '9') ||
			       (i + ln < n && arg[i + ln] >= '0' && arg[i + ln] <= '9')))
			continue;
		return true;
	}
	return false;
}

static void check_literal(void *ctx, size_t start, size_t end, bool number)
{
	const struct check *c = ctx;
	char *lit = malloc(end - start + 1), *arg = malloc(c->len + 1);
	size_t ln, i, n, an;

	if (!lit || !arg)
		abort();
	ln = scrub_fold(c->stmt + start, end - start, lit, NULL, NULL);
	for (i = 0; ln >= SCRUB_LITERAL_MIN && i < c->len; i += n + 1) {
		n = strnlen(c->args + i, c->len - i);
		an = scrub_fold(c->args + i, n, arg, NULL, NULL);
		if (occurs(arg, an, lit, ln, number)) {
			fprintf(stderr, "literal \"%.*s\" survives in \"%.*s\"\n", (int)ln, lit,
				(int)n, c->args + i);
			abort();
		}
	}
	free(lit);
	free(arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sql_dialect d;
	size_t stmt_len, args_len, out_len;
	const char *stmt, *args;
	char *out = NULL;
	struct check c;
	int r;

	if (size < 3)
		return 0;
	d = data[0] % 3;
	stmt_len = (data[1] | data[2] << 8) % 4096;
	if (stmt_len > size - 3)
		stmt_len = size - 3;
	stmt = (const char *)data + 3;
	args = stmt + stmt_len;
	args_len = size - 3 - stmt_len;
	if (args_len > 2048)
		args_len = 2048;
	r = scrub_args(d, stmt, stmt_len, args, args_len, &out, &out_len);
	if (r < 0)
		abort();
	c = (struct check){.stmt = stmt, .args = r ? out : args, .len = r ? out_len : args_len};
	if (r && count_nuls(out, out_len) != count_nuls(args, args_len))
		abort();
	sql_literals(d, stmt, stmt_len, check_literal, &c);
	free(out);
	return 0;
}
