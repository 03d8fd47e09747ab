// SPDX-License-Identifier: GPL-2.0
/*
 * custos report's line parser on any bytes, cut into lines, grouped by the
 * first byte's choice. Properties: adding a line never makes a sum or a
 * count smaller (sums stop at INT64_MAX), and a skipped line changes none;
 * the JSON document is valid UTF-8 and parses back with the totals it was
 * made of; the text has no byte a terminal would interpret but its newlines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include <jansson.h>

#include "encode/jsonstr.h"
#include "report/report.h"

#define N_SUMS (sizeof(struct report_sums) / sizeof(uint64_t))

static void sums(const struct report *r, uint64_t out[N_SUMS])
{
	struct report_sums s;

	_Static_assert(sizeof(s) == N_SUMS * sizeof(uint64_t), "report_sums: only uint64_t");
	report_sums(r, &s);
	memcpy(out, &s, sizeof(s));
}

static void check_json(const struct report *r)
{
	json_t *doc = report_json(r), *back, *totals;
	struct report_sums s;
	char *text;

	if (!doc)
		abort();
	text = json_dumps(doc, JSON_COMPACT);
	if (!text || !utf8_valid(text, strlen(text)))
		abort();
	back = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	totals = json_object_get(back, "totals");
	report_sums(r, &s);
	if (!json_is_object(back) ||
	    json_integer_value(json_object_get(totals, "bytes_read")) != (json_int_t)s.bytes_read ||
	    json_integer_value(json_object_get(totals, "rows")) != (json_int_t)s.rows ||
	    json_integer_value(json_object_get(totals, "events")) != (json_int_t)s.events ||
	    json_array_size(json_object_get(back, "groups")) != s.groups)
		abort();
	json_decref(back);
	free(text);
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report_options opt = {
	    .by = size ? data[0] % 4 : REPORT_BY_USER,
	    .since_ns = INT64_MIN,
	    .until_ns = INT64_MAX,
	};
	struct report *r = report_new(&opt);
	uint64_t before[N_SUMS], after[N_SUMS];
	const char *at = (const char *)data, *end = at + size, *nl;
	char *text = NULL;
	size_t i, len = 0;
	uint64_t line = 0;
	FILE *f;
	int ret;

	if (!r)
		abort();
	while (at < end) {
		nl = memchr(at, '\n', end - at);
		sums(r, before);
		ret = report_add_line(r, at, (nl ? nl : end) - at, "fuzz", ++line);
		sums(r, after);
		if (ret < 0)
			abort();
		for (i = 0; i < N_SUMS; i++)
			if (after[i] < before[i] || (ret == 1 && after[i] != before[i]))
				abort();
		at = nl ? nl + 1 : end;
	}
	check_json(r);
	f = open_memstream(&text, &len);
	if (!f)
		abort();
	report_print_text(r, f, size && data[0] & 4);
	fclose(f);
	fuzz_check_terminal_text(text, len);
	free(text);
	report_free(r);
	return 0;
}
