// SPDX-License-Identifier: GPL-2.0
/*
 * The MySQL protocol's pairing (user/events/mywire.c) on any sequence of
 * packets, as a hostile client or server could make the kernel forward
 * them. Properties: a statement's text is exactly the text of a COM_QUERY
 * or COM_STMT_PREPARE that was sent (nothing invented or spliced),
 * NUL-terminated at its length; an error code is the decimal of a 16-bit
 * error number; no more statements than commands that report one; no
 * statement sent from a probed library is reported; rows never exceed the
 * row packets counted; the login's user and schema are terminated strings.
 *
 * Input: records of [flags][type][rows lo][rows hi][code lo][len lo][len hi]
 * then len body bytes (cut at the end of the input); flags bit 0: the
 * server's stream, bit 1: sent from a library call, bit 2: truncated, bit
 * 3: the code's top bit (CLIENT_DEPRECATE_EOF at a login).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "events/mywire.h"

#define TEXTS_MAX 256

#define COM_QUERY	 0x03
#define COM_STMT_PREPARE 0x16
#define COM_STMT_EXECUTE 0x17

struct seen {
	const uint8_t *text[TEXTS_MAX];
	size_t len[TEXTS_MAX];
	size_t n_texts;
	size_t commands; /* COM_QUERY, COM_STMT_PREPARE and COM_STMT_EXECUTE sent */
	uint64_t rows;	 /* row packets counted */
	size_t emitted;
};

static void on_statement(void *ctx, const struct wire_statement *st)
{
	struct seen *s = ctx;
	size_t i, n;

	s->emitted++;
	if (st->library || st->rows < -1 || st->affected < -1 ||
	    (st->rows > 0 && (uint64_t)st->rows > s->rows) || s->emitted > s->commands)
		abort();
	if (st->sqlstate) {
		n = strlen(st->sqlstate);
		if (n < 1 || n > 5 || strspn(st->sqlstate, "0123456789") != n ||
		    strtoul(st->sqlstate, NULL, 10) > 0xffff)
			abort(); /* written as error.code: an error number */
	}
	if (!st->text)
		return;
	if (st->text[st->len] != '\0')
		abort();
	for (i = 0; i < s->n_texts; i++)
		if (s->len[i] == st->len && !memcmp(s->text[i], st->text, st->len))
			return;
	if (s->n_texts < TEXTS_MAX)
		abort(); /* a text no command carried */
}

static void check_string(const char *s)
{
	if (s && strlen(s) > 1 << 20)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mywire *c = mywire_new();
	struct seen seen = {0};
	size_t off = 0;
	uint64_t t = 0;

	if (!c)
		return 0;
	while (off + 7 <= size) {
		const uint8_t *h = data + off;
		size_t len = h[5] | (size_t)h[6] << 8;
		struct wire_msg m = {
		    .stream = h[0] & 1 ? CUSTOS_WIRE_BACKEND : CUSTOS_WIRE_FRONTEND,
		    .type = h[1],
		    .code = h[4] | (h[0] & 8 ? 1U << 24 : 0),
		    .library = (h[0] & 2) != 0,
		    .truncated = (h[0] & 4) != 0,
		    .rows = h[2] | (uint32_t)h[3] << 8,
		    .time_ns = ++t,
		};

		off += 7;
		if (len > size - off)
			len = size - off;
		m.body = data + off;
		m.len = len;
		off += len;
		seen.rows += m.rows;
		if (m.stream == CUSTOS_WIRE_FRONTEND &&
		    (m.type == COM_QUERY || m.type == COM_STMT_PREPARE ||
		     m.type == COM_STMT_EXECUTE)) {
			if (m.type != COM_STMT_EXECUTE && seen.n_texts < TEXTS_MAX) {
				seen.text[seen.n_texts] = m.body;
				seen.len[seen.n_texts++] = m.len;
			}
			seen.commands++;
		}
		mywire_message(c, &m, on_statement, &seen);
		check_string(mywire_user(c));
		check_string(mywire_database(c));
	}
	mywire_free(c, ++t, on_statement, &seen);
	return 0;
}
