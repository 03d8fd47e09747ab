// SPDX-License-Identifier: GPL-2.0
/*
 * The SQL lexer on any bytes, in every dialect, through sql_scan. Properties:
 * the redacted text fits and is terminated; a literal planted at a token
 * boundary (a string in each dialect's quoting, a number) never survives
 * redaction, nor names a table, whatever follows it; the description keeps
 * its names bounded and terminated; and sql_scan, which does both in one
 * pass, gives what sql_redact and sql_describe give each on its own, whatever
 * the cap (an output that fills up does not cut the description short).
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

static void check_info(const struct sql_info *info)
{
	size_t i;

	if (info->n_tables > SQL_TABLES_MAX || !memchr(info->operation, 0, sizeof(info->operation)))
		abort();
	for (i = 0; i < info->n_tables; i++)
		if (!memchr(info->tables[i], 0, SQL_NAME_MAX))
			abort();
}

/*
 * sql_scan with this cap, and the wrappers on their own: the same bytes, the
 * same description. Returns the output (to free) and its length in *n.
 */
static char *scan(enum sql_dialect d, const char *text, size_t len, size_t cap, size_t *n,
		  struct sql_info *info)
{
	char *out = malloc(cap ? cap : 1), *alone = malloc(cap ? cap : 1);
	struct sql_info alone_info;
	size_t alone_n;

	*n = sql_scan(d, text, len, out, cap, info);
	if (*n > len || (cap && (*n >= cap || out[*n] != 0)) || (!cap && *n))
		abort();
	check_info(info);
	alone_n = sql_redact(d, text, len, alone, cap);
	if (alone_n != *n || (cap && memcmp(alone, out, *n + 1))) {
		fprintf(stderr, "sql_scan and sql_redact differ (dialect %d, cap %zu):\n%.*s\n", d,
			cap, (int)len, text);
		abort();
	}
	sql_describe(d, text, len, &alone_info);
	if (memcmp(&alone_info, info, sizeof(*info))) {
		fprintf(stderr, "sql_scan and sql_describe differ (dialect %d, cap %zu):\n%.*s\n",
			d, cap, (int)len, text);
		abort();
	}
	free(alone);
	return out;
}

static void check_planted(enum sql_dialect d, const char *text, size_t len, const char *secret,
			  size_t allowed)
{
	struct sql_info info;
	size_t n, i;
	char *out = scan(d, text, len, len + 1, &n, &info);

	if (count(out, n, secret) > allowed) {
		fprintf(stderr, "planted literal survived (dialect %d):\n%.*s\n-> %s\n", d,
			(int)len, text, out);
		abort();
	}
	for (i = 0; i < info.n_tables && !allowed; i++) {
		if (strstr(info.tables[i], secret)) {
			fprintf(stderr,
				"planted literal named a table (dialect %d):\n%.*s\n-> %s\n", d,
				(int)len, text, info.tables[i]);
			abort();
		}
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const plants[] = {
	    "'%s'", "E'%s'", "$q$%s$q$", "X'%s'", "\"%s\"", "'%s\\'%s'", "-- %s\n", "/* %s */",
	};
	static const char *const prefixes[] = {
	    "", "SELECT a FROM t WHERE b = ", "INSERT INTO t VALUES ("};
	struct sql_info info;
	enum sql_dialect d;
	char secret[16];
	size_t p, f, n;

	for (d = SQL_POSTGRESQL; d <= SQL_SQLITE; d++) {
		/* The whole text, and cut where the first byte says. */
		free(scan(d, (const char *)data, size, size + 1, &n, &info));
		free(scan(d, (const char *)data, size, size ? 1 + data[0] % (size + 1) : 0, &n,
			  &info));
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
				check_planted(d, text, len, secret,
					      count((const char *)data, size, secret));
				free(text);
			}
		}
	}
	return 0;
}
