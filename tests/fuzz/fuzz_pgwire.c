// SPDX-License-Identifier: GPL-2.0
/*
 * The PostgreSQL protocol's pairing (user/events/pgwire.c) on any sequence
 * of messages, as a hostile client or server could make the kernel forward
 * them. Properties: a statement's text is exactly the text of a Query or
 * Parse that was sent (nothing invented or spliced), NUL-terminated at its
 * length; an SQLSTATE is five of 0-9A-Z or none; no more statements than executions sent; no
 * statement sent from a probed library is reported; rows never exceed the row messages counted; the
 * startup's user and database are terminated strings.
 *
 * Input: records of [flags][type][rows lo][rows hi][len lo][len hi] then
 * len body bytes (cut at the end of the input); flags bit 0: the backend's
 * stream, bit 1: sent from a library call, bit 2: truncated; type 0 takes
 * the protocol code 3.0 (startup).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "events/pgwire.h"

#define TEXTS_MAX 256

struct seen {
	const uint8_t *text[TEXTS_MAX];
	size_t len[TEXTS_MAX];
	size_t n_texts;
	size_t executions; /* Query, Parse and Execute messages sent */
	uint64_t rows;	   /* row messages counted */
	size_t emitted;
};

/* The text a Query or Parse carries from off: up to its NUL or the end. */
static void note_text(struct seen *s, const uint8_t *body, size_t len, size_t off)
{
	const uint8_t *nul;
	size_t n;

	if (s->n_texts == TEXTS_MAX || off > len)
		return;
	n = len - off;
	nul = memchr(body + off, 0, n);
	if (nul)
		n = (size_t)(nul - (body + off));
	s->text[s->n_texts] = body + off;
	s->len[s->n_texts++] = n;
}

static void on_statement(void *ctx, const struct wire_statement *st)
{
	struct seen *s = ctx;
	size_t i;

	s->emitted++;
	if (st->library || st->rows < -1 || st->affected < -1 ||
	    (st->rows > 0 && (uint64_t)st->rows > s->rows) || s->emitted > s->executions)
		abort();
	if (st->sqlstate && (strlen(st->sqlstate) != 5 ||
			     strspn(st->sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5))
		abort(); /* written as error.code: it must be an SQLSTATE */
	if (!st->text)
		return;
	if (st->text[st->len] != '\0')
		abort();
	for (i = 0; i < s->n_texts; i++)
		if (s->len[i] == st->len && !memcmp(s->text[i], st->text, st->len))
			return;
	if (s->n_texts < TEXTS_MAX)
		abort(); /* a text no message carried */
}

static void check_string(const char *s)
{
	if (s && strlen(s) > 1 << 20)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgwire *c = pgwire_new();
	struct seen seen = {0};
	size_t off = 0;
	uint64_t t = 0;

	if (!c)
		return 0;
	while (off + 6 <= size) {
		const uint8_t *h = data + off;
		size_t len = h[4] | (size_t)h[5] << 8;
		struct wire_msg m = {
		    .stream = h[0] & 1 ? CUSTOS_WIRE_BACKEND : CUSTOS_WIRE_FRONTEND,
		    .type = h[1],
		    .code = h[1] ? 0 : 3 << 16,
		    .library = (h[0] & 2) != 0,
		    .truncated = (h[0] & 4) != 0,
		    .rows = h[2] | (uint32_t)h[3] << 8,
		    .time_ns = ++t,
		};

		off += 6;
		if (len > size - off)
			len = size - off;
		m.body = data + off;
		m.len = len;
		off += len;
		seen.rows += m.rows;
		if (m.stream == CUSTOS_WIRE_FRONTEND) {
			if (m.type == 'Q') {
				note_text(&seen, m.body, m.len, 0);
				seen.executions++;
			} else if (m.type == 'P') {
				const uint8_t *nul = memchr(m.body, 0, m.len);

				if (nul)
					note_text(&seen, m.body, m.len, (size_t)(nul - m.body) + 1);
				seen.executions++;
			} else if (m.type == 'E') {
				seen.executions++;
			}
		}
		pgwire_message(c, &m, on_statement, &seen);
		check_string(pgwire_user(c));
		check_string(pgwire_database(c));
	}
	pgwire_free(c, ++t, on_statement, &seen);
	return 0;
}
