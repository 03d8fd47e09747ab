// SPDX-License-Identifier: GPL-2.0
/*
 * The SQL lexer on any bytes, in every dialect. Properties: the redacted text
 * fits and is terminated; a literal planted at a token boundary (a string in
 * each dialect's quoting, a number) never survives redaction, whatever
 * follows it; describe keeps its names bounded and terminated.
 */
#include <stdint.h>

#include "fuzz.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode/sql.h"

static size_t count(const char *hay, size_t len, const char *needle)
{
	size_t n = 0, k = strlen(needle);
	const char *p = hay, *end = hay + len;

	while ((p = memmem(p, end - p, needle, k))) {
		n++;
		p++;
	}
	return n;
}

/* A secret made of letters the suffix does not already hold. */
static void pick_secret(const uint8_t *data, size_t size, char *secret)
{
	int attempt, i;

	for (attempt = 0; attempt < 26; attempt++) {
		snprintf(secret, 16, "Zq%c", 'a' + attempt);
		for (i = 0; i < 8; i++)
			secret[3 + i] = 'a' + (size > (size_t)i ? data[i] % 26 : i);
		secret[11] = 0;
		if (!memmem(data, size, secret, strlen(secret)))
			return;
	}
}

static void check_redact(enum sql_dialect d, const char *text, size_t len, const char *secret,
			 size_t allowed)
{
	size_t cap = len + 1, n;
	char *out = malloc(cap);

	n = sql_redact(d, text, len, out, cap);
	if (n > len || out[n] != 0)
		abort();
	if (secret && count(out, n, secret) > allowed) {
		fprintf(stderr, "planted literal survived (dialect %d):\n%.*s\n-> %s\n", d,
			(int)len, text, out);
		abort();
	}
	free(out);
}

static void check_describe(enum sql_dialect d, const char *text, size_t len)
{
	struct sql_info info;
	size_t i;

	sql_describe(d, text, len, &info);
	if (info.n_tables > SQL_TABLES_MAX || !memchr(info.operation, 0, sizeof(info.operation)))
		abort();
	for (i = 0; i < info.n_tables; i++)
		if (!memchr(info.tables[i], 0, SQL_NAME_MAX))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const plants[] = {
	    "'%s'", "E'%s'", "$q$%s$q$", "X'%s'", "\"%s\"", "'%s\\'%s'", "-- %s\n", "/* %s */",
	};
	static const char *const prefixes[] = {
	    "", "SELECT a FROM t WHERE b = ", "INSERT INTO t VALUES ("};
	enum sql_dialect d;
	char secret[16];
	size_t p, f;

	for (d = SQL_POSTGRESQL; d <= SQL_SQLITE; d++) {
		check_redact(d, (const char *)data, size, NULL, 0);
		check_describe(d, (const char *)data, size);
	}
	pick_secret(data, size, secret);
	for (p = 0; p < sizeof(plants) / sizeof(plants[0]); p++) {
		for (f = 0; f < sizeof(prefixes) / sizeof(prefixes[0]); f++) {
			char planted[64], *text;
			size_t len;

			/* Only the quotes this dialect takes for a literal: a comment in every one.
			 */
			for (d = SQL_POSTGRESQL; d <= SQL_SQLITE; d++) {
				if ((plants[p][0] == 'E' || plants[p][0] == '$') &&
				    d != SQL_POSTGRESQL)
					continue;
				if (plants[p][0] == '"' && d != SQL_MYSQL)
					continue;
				if (strstr(plants[p], "\\'") && d != SQL_MYSQL)
					continue;
				snprintf(planted, sizeof(planted), plants[p], secret, secret);
				len = strlen(prefixes[f]) + strlen(planted) + 1 + size;
				text = malloc(len + 1);
				sprintf(text, "%s%s ", prefixes[f], planted);
				memcpy(text + len - size, data, size);
				check_redact(d, text, len, secret,
					     count((const char *)data, size, secret));
				free(text);
			}
		}
	}
	return 0;
}
