// SPDX-License-Identifier: GPL-2.0
/*
 * custos top's line parser and screen on any bytes, cut into lines; the
 * first two bytes choose the screen's size. Properties: adding a line never
 * makes a total smaller, and a skipped line changes none; the screen has
 * exactly its height in lines, none wider than its width in columns, and
 * nothing a terminal would interpret.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "lib/termtext.h"
#include "top/top.h"

static void check_screen(const char *s, unsigned width, unsigned height)
{
	const char *p = s, *nl;
	unsigned lines = 0;

	fuzz_check_terminal_text(s, strlen(s));
	for (; (nl = strchr(p, '\n')); p = nl + 1, lines++)
		if (text_columns(p, (size_t)(nl - p), false) > width)
			abort();
	if (*p || lines != height)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned width = size > 0 ? 40 + data[0] % 120 : 80,
		 height = size > 1 ? 10 + data[1] % 50 : 24;
	struct top_screen_opts o = {.width = width, .height = height, .utf8 = false, .host = "h"};
	const char *at = (const char *)data + (size > 2 ? 2 : size),
		   *end = (const char *)data + size;
	const char *nl;
	struct top_stats before, after;
	char *screen;
	int ret;

	struct top *t = top_new();
	if (!t)
		abort();
	while (at < end) {
		nl = memchr(at, '\n', (size_t)(end - at));
		top_stats(t, &before);
		ret = top_add_line(t, at, (size_t)((nl ? nl : end) - at));
		top_stats(t, &after);
		if (after.total.bytes < before.total.bytes ||
		    after.total.rows < before.total.rows ||
		    after.total.files < before.total.files || after.accesses < before.accesses ||
		    (ret == 1 &&
		     (after.accesses != before.accesses ||
		      after.total.bytes != before.total.bytes || after.alerts != before.alerts)))
			abort();
		at = nl ? nl + 1 : end;
	}
	screen = top_screen(t, &o);
	if (!screen)
		abort();
	check_screen(screen, width, height);
	free(screen);
	top_free(t);
	return 0;
}
