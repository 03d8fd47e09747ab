// SPDX-License-Identifier: GPL-2.0
/* Times for custos report (see when.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "report/when.h"

#define NSEC_PER_SEC 1000000000LL

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (eras of 400 years). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* n decimal digits at s[*at] (within len): their value, or -1. */
static int digits(const char *s, size_t len, size_t *at, int n)
{
	int v = 0;

	if (len - *at < (size_t)n)
		return -1;
	for (; n > 0; n--, (*at)++) {
		if (s[*at] < '0' || s[*at] > '9')
			return -1;
		v = v * 10 + (s[*at] - '0');
	}
	return v;
}

static bool expect(const char *s, size_t len, size_t *at, char c)
{
	if (*at >= len || s[*at] != c)
		return false;
	(*at)++;
	return true;
}

/* YYYY-MM-DD at s[*at]: days since the epoch. */
static int parse_date(const char *s, size_t len, size_t *at, int64_t *days)
{
	int y, m, d;

	y = digits(s, len, at, 4);
	if (y < 0 || !expect(s, len, at, '-'))
		return -EINVAL;
	m = digits(s, len, at, 2);
	if (m < 1 || m > 12 || !expect(s, len, at, '-'))
		return -EINVAL;
	d = digits(s, len, at, 2);
	if (d < 1 || d > days_in_month(y, m))
		return -EINVAL;
	*days = days_from_civil(y, m, d);
	return 0;
}

static int to_ns(int64_t sec, int64_t frac, int64_t *ns)
{
	if (__builtin_mul_overflow(sec, NSEC_PER_SEC, ns) || __builtin_add_overflow(*ns, frac, ns))
		return -ERANGE;
	return 0;
}

int when_rfc3339(const char *s, size_t len, int64_t *ns)
{
	int64_t days, frac = 0, sec;
	int h, mi, se, n = 0, off = 0, oh, om, sign;
	size_t at = 0;

	if (parse_date(s, len, &at, &days))
		return -EINVAL;
	if (at >= len || (s[at] != 'T' && s[at] != 't' && s[at] != ' '))
		return -EINVAL;
	at++;
	h = digits(s, len, &at, 2);
	if (h < 0 || h > 23 || !expect(s, len, &at, ':'))
		return -EINVAL;
	mi = digits(s, len, &at, 2);
	if (mi < 0 || mi > 59 || !expect(s, len, &at, ':'))
		return -EINVAL;
	se = digits(s, len, &at, 2);
	if (se < 0 || se > 60) /* 60: a leap second */
		return -EINVAL;
	if (at < len && s[at] == '.') {
		at++;
		for (; at < len && s[at] >= '0' && s[at] <= '9'; at++, n++)
			if (n < 9)
				frac = frac * 10 + (s[at] - '0');
		if (n == 0)
			return -EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	if (at < len && (s[at] == 'Z' || s[at] == 'z')) {
		at++;
	} else if (at < len && (s[at] == '+' || s[at] == '-')) {
		sign = s[at++] == '-' ? -1 : 1;
		oh = digits(s, len, &at, 2);
		if (oh < 0 || oh > 23 || !expect(s, len, &at, ':'))
			return -EINVAL;
		om = digits(s, len, &at, 2);
		if (om < 0 || om > 59)
			return -EINVAL;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EINVAL;
	}
	if (at != len)
		return -EINVAL;
	sec = days * 86400 + h * 3600 + mi * 60 + se - off;
	return to_ns(sec, frac, ns);
}

int when_parse_arg(const char *s, int64_t now_ns, int64_t *ns)
{
	static const struct {
		char unit;
		int64_t seconds;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	size_t len = strlen(s), at = 0, i;
	int64_t n = 0, ago, days;

	if (len == 10 && parse_date(s, len, &at, &days) == 0)
		return to_ns(days * 86400, 0, ns);
	if (len > 10)
		return when_rfc3339(s, len, ns);
	for (; at + 1 < len && s[at] >= '0' && s[at] <= '9'; at++)
		n = n * 10 + (s[at] - '0'); /* at most 9 digits: len <= 10 */
	if (at == 0 || at + 1 != len)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s[at] != units[i].unit)
			continue;
		if (__builtin_mul_overflow(n, units[i].seconds, &ago) ||
		    __builtin_mul_overflow(ago, NSEC_PER_SEC, &ago) ||
		    __builtin_sub_overflow(now_ns, ago, ns))
			return -ERANGE;
		return 0;
	}
	return -EINVAL;
}
