// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <wchar.h>

#include "lib/termtext.h"

/* The next character of s at i: its length (a byte that starts none: 1) and columns. */
static size_t next_char(const char *s, size_t len, size_t i, bool utf8, size_t *cols)
{
	mbstate_t st = {};
	wchar_t wc;
	size_t n;
	int w;

	n = utf8 ? mbrtowc(&wc, s + i, len - i, &st) : 0;
	if (n == 0 || n > len - i) {
		/* A column a character: a byte and the UTF-8 continuation bytes after it. */
		for (n = 1; i + n < len && ((unsigned char)s[i + n] & 0xc0) == 0x80; n++)
			;
		*cols = 1;
		return n;
	}
	w = wcwidth(wc);
	*cols = w < 0 ? 1 : (size_t)w;
	return n;
}

size_t text_columns(const char *s, size_t len, bool utf8)
{
	size_t total = 0, i = 0, cols;

	while (i < len) {
		i += next_char(s, len, i, utf8, &cols);
		total += cols;
	}
	return total;
}

size_t text_fit(const char *s, size_t len, size_t width, bool utf8)
{
	size_t used = 0, i = 0, n, cols;

	while (i < len) {
		n = next_char(s, len, i, utf8, &cols);
		if (used + cols > width)
			break;
		used += cols;
		i += n;
	}
	return i;
}

const char *text_bytes(uint64_t v, char out[24])
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = v;
	int u = 0;

	if (v < 1024) {
		snprintf(out, 24, "%llu B", (unsigned long long)v);
		return out;
	}
	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	snprintf(out, 24, d < 99.95 ? "%.1f %s" : "%.0f %s", d, units[u]);
	return out;
}

const char *text_count(uint64_t v, int width, char out[24])
{
	static const char suffix[] = "kMGTPE";
	double d = v;
	int u = -1;

	if (snprintf(out, 24, "%llu", (unsigned long long)v) <= width)
		return out;
	while (d >= 999.95 && u < 5) {
		d /= 1000;
		u++;
	}
	snprintf(out, 24, d < 99.95 ? "%.1f%c" : "%.0f%c", d, suffix[u]);
	return out;
}
