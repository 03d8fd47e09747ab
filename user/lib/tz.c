// SPDX-License-Identifier: GPL-2.0
/*
 * TZif files (RFC 8536) and the POSIX TZ rule of their footer.
 *
 * A TZif file lists the instants at which a zone's offset changed (its
 * transitions) and, from version 2 on, a footer: a POSIX TZ string such as
 * "CET-1CEST,M3.5.0,M10.5.0/3" that gives local time after the last
 * transition. Debian builds "fat" files (transitions listed up to 2037), but
 * other builds are "slim" (transitions only up to the last rule change, the
 * footer for everything later), and any file needs the footer after 2037:
 * both are read here. Files with leap second records ("right/" zones) are
 * refused: event times are POSIX times, which have no leap seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "tz.h"

#define FILE_MAX	(1 << 20) /* zones are a few KiB */
#define HEADER_LEN	44
#define TYPES_MAX	256		   /* a transition's type is one byte */
#define UTOFF_MIN	(-89999)	   /* RFC 8536: -24:59:59 */
#define UTOFF_MAX	93599		   /* RFC 8536: 25:59:59 */
#define OFFSET_HOURS	24		   /* hours of a TZ string's offset (POSIX) */
#define RULE_HOURS	167		   /* hours of a rule's time of day (version 3 extension) */
#define FOOTER_MAX	255		   /* bytes of a TZ string */
#define RULE_T_MAX	(INT64_C(1) << 59) /* about 18e9 years: the rule's year stops there */
#define SECONDS_PER_DAY 86400

enum date_kind {
	DATE_JULIAN, /* Jn: day 1..365 of the year, February 29 never counted */
	DATE_DAY,    /* n: day 0..365 of the year, February 29 counted */
	DATE_MONTH,  /* Mm.w.d: weekday d (0 Sunday) of week w (5: the last) of month m */
};

/* When a rule changes the offset: a day of the year and a local time of that day. */
struct tz_date {
	enum date_kind kind;
	int day;
	int month, week, wday;
	int32_t secs; /* -167 h to 167 h after the day's local midnight; default 02:00 */
};

/* A POSIX TZ rule: standard time, and daylight saving time between start and end. */
struct tz_rule {
	int32_t std_off, dst_off; /* seconds east of UTC */
	bool dst;
	struct tz_date start, end;
};

struct tz {
	int64_t *times; /* transitions, strictly ascending */
	uint8_t *types; /* the type each transition starts */
	size_t n_times;
	int32_t offs[TYPES_MAX]; /* seconds east of UTC, per type */
	size_t n_types;
	bool has_rule; /* the footer's rule, after the last transition */
	struct tz_rule rule;
};

struct header {
	char version;
	uint32_t isut, isstd, leap, times, types, chars;
};

struct reader {
	const uint8_t *p;
	size_t left;
};

static void *fail_null(char *err, size_t errlen, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void *fail_null(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return NULL;
}

static const uint8_t *take(struct reader *r, uint64_t n)
{
	const uint8_t *p = r->p;

	if (n > r->left)
		return NULL;
	r->p += n;
	r->left -= n;
	return p;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool read_header(struct reader *r, struct header *h)
{
	const uint8_t *p = take(r, HEADER_LEN);

	if (!p || memcmp(p, "TZif", 4))
		return false;
	h->version = p[4];
	h->isut = be32(p + 20);
	h->isstd = be32(p + 24);
	h->leap = be32(p + 28);
	h->times = be32(p + 32);
	h->types = be32(p + 36);
	h->chars = be32(p + 40);
	return true;
}

/* The bytes of a data block after its header, times of tsize bytes. */
static uint64_t block_len(const struct header *h, unsigned tsize)
{
	return (uint64_t)h->times * (tsize + 1) + (uint64_t)h->types * 6 + h->chars +
	       (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

/* The data block into z; NULL, or why it is refused. */
static const char *read_block(struct reader *r, const struct header *h, unsigned tsize,
			      struct tz *z)
{
	const uint8_t *times, *idx, *info;
	int64_t t;
	int32_t off;
	size_t i;

	if (h->types == 0 || h->types > TYPES_MAX)
		return "the number of local time types is not from 1 to 256";
	if (h->chars == 0)
		return "no time zone abbreviations";
	if ((h->isstd && h->isstd != h->types) || (h->isut && h->isut != h->types))
		return "standard/wall or UT/local indicators that do not match the types";
	if (h->leap)
		return "it has leap second records (a \"right/\" zone: use the zone of the same "
		       "name "
		       "without \"right/\")";
	if (block_len(h, tsize) > r->left)
		return "it is truncated";
	times = take(r, (uint64_t)h->times * tsize);
	idx = take(r, h->times);
	info = take(r, (uint64_t)h->types * 6);
	take(r, (uint64_t)h->chars + h->isstd + h->isut);

	z->times = malloc((h->times ?: 1) * sizeof(*z->times));
	z->types = malloc(h->times ?: 1);
	if (!z->times || !z->types)
		return NULL; /* the caller sees the NULL arrays */
	for (i = 0; i < h->types; i++) {
		off = (int32_t)be32(info + 6 * i);
		if (off < UTOFF_MIN || off > UTOFF_MAX)
			return "a UT offset beyond -24:59:59 to 25:59:59";
		if (info[6 * i + 4] > 1)
			return "a daylight saving indicator other than 0 or 1";
		if (info[6 * i + 5] >= h->chars)
			return "an abbreviation index past the abbreviations";
		z->offs[i] = off;
	}
	z->n_types = h->types;
	for (i = 0; i < h->times; i++) {
		t = tsize == 4 ? (int32_t)be32(times + 4 * i) : be64(times + 8 * i);
		if (i > 0 && t <= z->times[i - 1])
			return "transition times not in ascending order";
		if (idx[i] >= h->types)
			return "a transition to a local time type that does not exist";
		z->times[i] = t;
		z->types[i] = idx[i];
	}
	z->n_times = h->times;
	return NULL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A number of 1 to max_digits digits. */
static bool number(const char **s, int max_digits, int *n)
{
	int i;

	for (*n = 0, i = 0; i < max_digits && is_digit(**s); i++, (*s)++)
		*n = *n * 10 + (**s - '0');
	return i > 0;
}

/* A zone abbreviation: 3 or more letters, or <...> of letters, digits, '+' and '-'. */
static bool abbreviation(const char **s)
{
	const char *p = *s;
	size_t n = 0;

	if (*p == '<') {
		for (p++; is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-'; p++)
			n++;
		if (*p != '>' || n < 3)
			return false;
		*s = p + 1;
		return true;
	}
	for (; is_alpha(*p); p++)
		n++;
	*s = p;
	return n >= 3;
}

/* [+-]hh[:mm[:ss]], hours at most max_hours, into seconds (positive as written without sign). */
static bool clock_value(const char **s, int max_hours, int32_t *secs)
{
	int sign = 1, h, m = 0, sec = 0;

	if (**s == '+' || **s == '-')
		sign = *(*s)++ == '-' ? -1 : 1;
	if (!number(s, 3, &h) || h > max_hours)
		return false;
	if (**s == ':') {
		(*s)++;
		if (!number(s, 2, &m) || m > 59)
			return false;
		if (**s == ':') {
			(*s)++;
			if (!number(s, 2, &sec) || sec > 59)
				return false;
		}
	}
	*secs = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool rule_date(const char **s, struct tz_date *d)
{
	memset(d, 0, sizeof(*d));
	if (**s == 'J') {
		(*s)++;
		d->kind = DATE_JULIAN;
		if (!number(s, 3, &d->day) || d->day < 1 || d->day > 365)
			return false;
	} else if (**s == 'M') {
		(*s)++;
		d->kind = DATE_MONTH;
		if (!number(s, 2, &d->month) || d->month < 1 || d->month > 12 || *(*s)++ != '.' ||
		    !number(s, 1, &d->week) || d->week < 1 || d->week > 5 || *(*s)++ != '.' ||
		    !number(s, 1, &d->wday) || d->wday > 6)
			return false;
	} else {
		d->kind = DATE_DAY;
		if (!number(s, 3, &d->day) || d->day > 365)
			return false;
	}
	d->secs = 2 * 3600;
	if (**s == '/') {
		(*s)++;
		return clock_value(s, RULE_HOURS, &d->secs);
	}
	return true;
}

/* "STD offset [DST [offset] ,start[/time],end[/time]]"; POSIX offsets are west of UTC. */
static bool parse_rule(const char *s, struct tz_rule *r)
{
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (!abbreviation(&s) || !clock_value(&s, OFFSET_HOURS, &off))
		return false;
	r->std_off = r->dst_off = -off;
	if (!*s)
		return true;
	if (!abbreviation(&s))
		return false;
	r->dst_off = r->std_off + 3600;
	if (*s && *s != ',') {
		if (!clock_value(&s, OFFSET_HOURS, &off))
			return false;
		r->dst_off = -off;
	}
	/* Daylight saving time without its dates is left to the implementation: refused. */
	if (*s++ != ',' || !rule_date(&s, &r->start) || *s++ != ',' || !rule_date(&s, &r->end))
		return false;
	r->dst = true;
	return !*s;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool leap_year(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The year of the day days after 1970-01-01. */
static int64_t year_of_day(int64_t days)
{
	int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097, yoe, doy;
	int mp;

	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10); /* January and February belong to the next year */
}

static int month_days(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* The day (since 1970-01-01) on which d falls in year y. */
static int64_t date_day(const struct tz_date *d, int64_t y)
{
	int64_t first;
	int wday_first, day;

	switch (d->kind) {
	case DATE_JULIAN:
		return days_from_civil(y, 1, 1) + d->day - 1 + (leap_year(y) && d->day >= 60);
	case DATE_DAY:
		return days_from_civil(y, 1, 1) + d->day;
	case DATE_MONTH:
		break;
	}
	first = days_from_civil(y, d->month, 1);
	wday_first = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
	day = 1 + (d->wday - wday_first + 7) % 7 + 7 * (d->week - 1);
	while (day > month_days(y, d->month))
		day -= 7;
	return first + day - 1;
}

/* The rule's offset at t: the last of its changes at or before t, over the years around t. */
static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t year, y, at, best = INT64_MIN;
	int32_t off = r->std_off;

	if (!r->dst)
		return r->std_off;
	if (t > RULE_T_MAX)
		t = RULE_T_MAX;
	if (t < -RULE_T_MAX)
		t = -RULE_T_MAX;
	year = year_of_day(floor_div(t + r->std_off, SECONDS_PER_DAY));
	for (y = year - 1; y <= year + 1; y++) {
		/* The start is in standard time, the end in daylight saving time. */
		at = date_day(&r->start, y) * SECONDS_PER_DAY + r->start.secs - r->std_off;
		if (at <= t && at >= best) {
			best = at;
			off = r->dst_off;
		}
		at = date_day(&r->end, y) * SECONDS_PER_DAY + r->end.secs - r->dst_off;
		if (at <= t && at >= best) {
			best = at;
			off = r->std_off;
		}
	}
	return off;
}

/* The footer of a version 2+ file: "\n" TZ "\n". */
static const char *read_footer(struct reader *r, struct tz *z)
{
	char text[FOOTER_MAX + 1];
	const uint8_t *nl, *p = take(r, 1);
	size_t len;

	if (!p || *p != '\n')
		return "no footer";
	nl = memchr(r->p, '\n', r->left);
	if (!nl)
		return "an unterminated footer";
	len = nl - r->p;
	if (len > FOOTER_MAX || memchr(r->p, '\0', len))
		return "a footer that is not a TZ string";
	memcpy(text, r->p, len);
	text[len] = '\0';
	take(r, len + 1);
	if (len == 0)
		return NULL; /* no rule: the last transition's type stays */
	if (!parse_rule(text, &z->rule))
		return "a footer that is not a POSIX TZ string with its rules";
	z->has_rule = true;
	return NULL;
}

struct tz *tz_parse(const void *data, size_t len, char *err, size_t errlen)
{
	struct reader r = {.p = data, .left = len};
	const char *why;
	struct header h;
	struct tz *z;

	if (!data || !read_header(&r, &h))
		return fail_null(err, errlen, EINVAL, "it does not start with a TZif header");
	if (h.version != '\0' && h.version < '2')
		return fail_null(err, errlen, EINVAL, "unknown TZif version 0x%02x",
				 (unsigned char)h.version);
	if (h.version >= '2') {
		/* The version 1 block is for old readers: skip it, read the 64-bit one. */
		if (!take(&r, block_len(&h, 4)) || !read_header(&r, &h))
			return fail_null(err, errlen, EINVAL, "it is truncated");
	}
	z = calloc(1, sizeof(*z));
	if (!z)
		return fail_null(err, errlen, ENOMEM, "out of memory");
	why = read_block(&r, &h, h.version >= '2' ? 8 : 4, z);
	if (!why && (!z->times || !z->types)) {
		tz_free(z);
		return fail_null(err, errlen, ENOMEM, "out of memory");
	}
	if (!why && h.version >= '2')
		why = read_footer(&r, z);
	if (why) {
		tz_free(z);
		return fail_null(err, errlen, EINVAL, "%s", why);
	}
	return z;
}

struct tz *tz_utc(void)
{
	struct tz *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->n_types = 1;
	return z;
}

/* An IANA name: components of A-Z a-z 0-9 . _ + -, none empty, "." or "..", no leading '/'. */
static bool valid_name(const char *name)
{
	size_t len = strlen(name), i, start = 0;

	if (len == 0 || len > TZ_NAME_MAX ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-/") !=
		len)
		return false;
	for (i = 0; i <= len; i++) {
		if (name[i] != '/' && name[i] != '\0')
			continue;
		if (i == start || (i - start == 1 && name[start] == '.') ||
		    (i - start == 2 && !strncmp(name + start, "..", 2)))
			return false;
		start = i + 1;
	}
	return true;
}

struct tz *tz_load(const char *name, char *err, size_t errlen)
{
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 1], why[160];
	struct stat st = {0};
	size_t len = 0;
	uint8_t *buf;
	struct tz *z;
	ssize_t n;
	int fd, e;

	if (name && !valid_name(name))
		return fail_null(err, errlen, EINVAL,
				 "not a time zone name (names are like \"Europe/Berlin\": letters, "
				 "digits, '.', '_', '+' and '-' between '/', no \"..\")");
	if (name)
		snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
	else
		snprintf(path, sizeof(path), "%s", TZ_LOCALTIME);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		e = errno;
		if (!name && e == ENOENT)
			return tz_utc(); /* no local zone set: UTC, as the C library does */
		if (e == ENOENT && access(TZ_DIR, F_OK) != 0)
			return fail_null(err, errlen, ENOENT,
					 "no time zone database in " TZ_DIR " (install tzdata)");
		if (e == ENOENT || e == ENOTDIR)
			return fail_null(err, errlen, ENOENT, "unknown time zone (no file %s)",
					 path);
		return fail_null(err, errlen, e, "cannot open %s: %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		e = errno;
		close(fd);
		if (S_ISDIR(st.st_mode))
			return fail_null(err, errlen, EISDIR,
					 "%s is a directory of zones, not a zone", path);
		return fail_null(err, errlen, EINVAL, "%s is not a time zone file", path);
	}
	buf = malloc(st.st_size ?: 1);
	if (!buf) {
		close(fd);
		return fail_null(err, errlen, ENOMEM, "out of memory");
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	e = errno;
	close(fd);
	if (len < (size_t)st.st_size) {
		free(buf);
		return fail_null(err, errlen, EIO, "cannot read %s: %s", path, strerror(e ?: EIO));
	}
	z = tz_parse(buf, len, why, sizeof(why));
	e = errno;
	free(buf);
	if (!z)
		return fail_null(err, errlen, e, "%s is not a usable time zone file: %s", path,
				 why);
	return z;
}

int32_t tz_offset(const struct tz *z, int64_t unix_s)
{
	size_t lo, hi, mid;

	if (!z)
		return 0;
	if (z->n_times == 0)
		return z->has_rule ? rule_offset(&z->rule, unix_s) : z->offs[0];
	if (unix_s < z->times[0])
		return z->offs[0];
	if (unix_s >= z->times[z->n_times - 1] && z->has_rule)
		return rule_offset(&z->rule, unix_s);
	/* the last transition at or before unix_s */
	for (lo = 0, hi = z->n_times; hi - lo > 1;) {
		mid = lo + (hi - lo) / 2;
		if (z->times[mid] <= unix_s)
			lo = mid;
		else
			hi = mid;
	}
	return z->offs[z->types[lo]];
}

void tz_free(struct tz *z)
{
	if (!z)
		return;
	free(z->times);
	free(z->types);
	free(z);
}
