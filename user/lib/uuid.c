// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>

#include "lib/uuid.h"

int uuid_random(char out[UUID_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	size_t i, o = 0;

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return -errno ?: -EIO;
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4: random */
	b[8] = (b[8] & 0x3f) | 0x80; /* RFC 9562 variant */
	for (i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

bool uuid_valid(const char *s, size_t n)
{
	size_t i;

	if (n != UUID_STR_LEN - 1)
		return false;
	for (i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}
