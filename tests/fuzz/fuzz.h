/* SPDX-License-Identifier: GPL-2.0 */
/* The entry point libFuzzer calls with each input. */
#ifndef CUSTOS_FUZZ_H
#define CUSTOS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "encode/jsonstr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Text meant for a terminal (aborts if not): valid UTF-8, no C0 control but
 * newlines, no DEL, no C1 control, no bidi override.
 */
static inline void fuzz_check_terminal_text(const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i;

	if (!utf8_valid(text, len))
		abort();
	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
			abort();
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] < 0xa0)
			abort();
		if (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x80 && p[i + 2] >= 0xaa &&
		    p[i + 2] <= 0xae)
			abort();
		if (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x81 && p[i + 2] >= 0xa6 &&
		    p[i + 2] <= 0xa9)
			abort();
	}
}

#endif /* CUSTOS_FUZZ_H */
