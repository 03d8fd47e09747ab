// SPDX-License-Identifier: GPL-2.0
/*
 * custos trace --file's decoder on any bytes, cut into lines, each decoded
 * event shown through the filter and the human line writer, in colour or
 * not by the first byte. Properties: each event kept is exactly one line;
 * once its escape sequences are removed, a line holds no byte a terminal
 * would interpret (C0 controls, DEL, C1 controls, bidi overrides) and is
 * valid UTF-8; the filter with nothing set keeps every event (another,
 * set by the first bytes, by kind and pid, runs too); a line that is not
 * an event gets a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "encode/decode.h"
#include "encode/jsonstr.h"
#include "output/output.h"

/* The text without SGR sequences ("\033[...m", which the writer alone puts there). */
static size_t strip_sgr(char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (s[i] == '\033' && i + 1 < len && s[i + 1] == '[') {
			size_t j = i + 2;

			while (j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';'))
				j++;
			if (j < len && s[j] == 'm') {
				i = j + 1;
				continue;
			}
		}
		s[o++] = s[i++];
	}
	return o;
}

/* One line (no newline in it) a terminal shows as it is, once its colours are taken out. */
static void check_line(char *line, size_t len)
{
	len = strip_sgr(line, len);
	if (memchr(line, '\n', len))
		abort();
	fuzz_check_terminal_text(line, len);
}

/* Writes ev through an output as trace does; checks it is one line; returns whether it was kept. */
static bool show(const struct event_filter *filter, bool color, const struct event *ev)
{
	struct output *o;
	char *text = NULL;
	size_t len = 0;
	bool kept;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	o = output_new(f, OUTPUT_HUMAN, filter);
	if (!o)
		abort();
	output_set_color(o, color ? OUTPUT_COLOR_ALWAYS : OUTPUT_COLOR_NEVER);
	if (output_event(o, ev) || output_drain(o))
		abort();
	output_free(o);
	fclose(f);
	kept = len != 0;
	if (kept && (text[len - 1] != '\n' || memchr(text, '\n', len - 1)))
		abort();
	if (kept)
		check_line(text, len - 1);
	free(text);
	return kept;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_filter all, some;
	const char *at = (const char *)data, *end = at + size, *nl;
	bool color = size && data[0] & 1;

	memset(&some, 0, sizeof(some));
	some.kinds = size ? (data[0] >> 1) & 15 : 0;
	some.pid = size > 1 ? data[1] % 4 : 0;
	while (at < end) {
		struct decoded d;
		char why[256];

		nl = memchr(at, '\n', end - at);
		if (decode_event(at, (nl ? nl : end) - at, &d, why, sizeof(why)) == 0) {
			if (!show(&all, color, &d.ev))
				abort(); /* nothing set: everything is kept */
			show(&some, color, &d.ev);
		} else if (!memchr(why, '\0', sizeof(why))) {
			abort(); /* a reason, NUL-terminated */
		}
		decoded_release(&d);
		at = nl ? nl + 1 : end;
	}
	return 0;
}
