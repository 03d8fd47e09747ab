// SPDX-License-Identifier: GPL-2.0
/*
 * custos verify's reader on any stored stream. Properties: bytes nobody
 * sealed never verify as records (a forged record would need the key); a
 * stream sealed here with fuzzed content verifies intact; and a change of
 * any one byte of it is found.
 */
#include <stdint.h>

#include "fuzz.h"
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output/chain.h"

static const char key[CHAIN_KEY_MIN] = "custos fuzz key, not a secret!!";

/* Verifies the lines of buf (changed while verified); the result kind. */
static enum chain_problem verify(struct chain *c, char *buf, size_t size, uint64_t *records)
{
	struct chain_verifier *v = chain_verifier_new(&c, 1);
	struct chain_where where = {.file = "fuzz"};
	enum chain_problem kind;
	size_t at = 0;

	while (at < size) {
		char *nl = memchr(buf + at, '\n', size - at);
		size_t len = (nl ? (size_t)(nl - buf) : size) - at;

		where.line++;
		if (chain_verify_line(v, buf + at, len, nl ? CHAIN_LINE_NEWLINE : CHAIN_LINE_EOF,
				      &where))
			break;
		at += len + 1;
	}
	chain_verify_end(v);
	kind = chain_verifier_result(v)->problem.kind;
	*records = chain_verifier_result(v)->records;
	chain_verifier_free(v);
	return kind;
}

/* Two records of one run, sealed with the key, carrying the fuzzed bytes. */
static char *sealed_stream(struct chain *c, const uint8_t *data, size_t size, size_t *len)
{
	const char *actions[2] = {"agent-start", "agent-stop"};
	char *out = NULL, *line;
	size_t n = 0, l;
	int i;

	for (i = 0; i < 2; i++) {
		json_t *ev = json_pack("{s:{s:s}, s:{s:i, s:s}, s:s%}", "event", "action",
				       actions[i], "custos", "seq", i + 1, "chain",
				       CHAIN_PLACEHOLDER, "data", (const char *)data, size);

		line = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
		json_decref(ev);
		if (!line)
			break;
		l = strlen(line);
		if (chain_seal(c, line, l))
			abort();
		out = realloc(out, n + l + 1);
		memcpy(out + n, line, l);
		out[n + l] = '\n';
		n += l + 1;
		free(line);
	}
	*len = n;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chain *c = chain_new(key, sizeof(key));
	char *buf = malloc(size + 1), *stream;
	uint64_t records;
	size_t len;

	memcpy(buf, data, size);
	if (verify(c, buf, size, &records) == CHAIN_OK && records > 0)
		abort(); /* something no one sealed passed as records */
	free(buf);
	chain_free(c);

	c = chain_new(key, sizeof(key));
	stream = sealed_stream(c, data, size, &len);
	chain_free(c);
	if (stream && len) {
		char *copy = malloc(len);
		size_t at = size ? data[0] * 7919u % len : 0;

		memcpy(copy, stream, len);
		c = chain_new(key, sizeof(key));
		if (verify(c, copy, len, &records) != CHAIN_OK || records != 2)
			abort(); /* what was sealed here must verify */
		chain_free(c);
		memcpy(copy, stream, len);
		if (copy[at] != '\n') {
			copy[at] ^= 1 + (size > 1 ? data[1] % 127 : 0);
			c = chain_new(key, sizeof(key));
			if (verify(c, copy, len, &records) == CHAIN_OK && records == 2)
				abort(); /* a changed byte went unnoticed */
			chain_free(c);
		}
		free(copy);
	}
	free(stream);
	return 0;
}
