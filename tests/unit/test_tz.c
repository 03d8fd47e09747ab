// SPDX-License-Identifier: GPL-2.0
/*
 * Time zones: the offsets of real zones around their 2026 transitions and
 * after the last one a file lists, the footer's POSIX TZ rule on files
 * written here (slim, southern, all-year, version 1), and what is refused.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/tz.h"
#include "test.h"

static int64_t offset_in(const char *zone, int64_t t)
{
	char err[256];
	struct tz *z = tz_load(zone, err, sizeof(err));
	int64_t off;

	if (!ASSERT_OK_PTR(z, err))
		return INT64_MIN;
	off = tz_offset(z, t);
	tz_free(z);
	return off;
}

#define BERLIN_DST_2026 1774746000LL /* 2026-03-29 01:00:00 UTC */
#define BERLIN_STD_2026 1792890000LL /* 2026-10-25 01:00:00 UTC */
#define NY_DST_2026	1772953200LL /* 2026-03-08 07:00:00 UTC */
#define NY_STD_2026	1793512800LL /* 2026-11-01 06:00:00 UTC */
#define JAN_2026	1768478400LL /* 2026-01-15 12:00:00 UTC */
#define JUL_2026	1784116800LL /* 2026-07-15 12:00:00 UTC */
#define JAN_2040	2210241600LL /* past the transitions of a "fat" file (2037) */
#define JUL_2040	2225966400LL
#define SYDNEY_STD_2026 1775318400LL /* 2026-04-04 16:00:00 UTC: 03:00 AEDT on April 5 */
#define SYDNEY_DST_2026 1791043200LL /* 2026-10-03 16:00:00 UTC: 02:00 AEST on October 4 */

TEST(tz_berlin)
{
	ASSERT_EQ(offset_in("Europe/Berlin", JAN_2026), 3600, "January 2026: CET");
	ASSERT_EQ(offset_in("Europe/Berlin", JUL_2026), 7200, "July 2026: CEST");
	ASSERT_EQ(offset_in("Europe/Berlin", BERLIN_DST_2026 - 1), 3600, "00:59:59 UTC: CET");
	ASSERT_EQ(offset_in("Europe/Berlin", BERLIN_DST_2026), 7200, "01:00:00 UTC: CEST");
	ASSERT_EQ(offset_in("Europe/Berlin", BERLIN_STD_2026 - 1), 7200, "October: CEST");
	ASSERT_EQ(offset_in("Europe/Berlin", BERLIN_STD_2026), 3600, "October: CET again");
	ASSERT_EQ(offset_in("Europe/Berlin", JAN_2040), 3600, "January 2040 (the footer)");
	ASSERT_EQ(offset_in("Europe/Berlin", JUL_2040), 7200, "July 2040 (the footer)");
	ASSERT_EQ(offset_in("Europe/Berlin", -5000000000LL), 3208, "1811: local mean time");
}

TEST(tz_new_york_sydney_utc)
{
	ASSERT_EQ(offset_in("America/New_York", JAN_2026), -18000, "New York January: EST");
	ASSERT_EQ(offset_in("America/New_York", JUL_2026), -14400, "New York July: EDT");
	ASSERT_EQ(offset_in("America/New_York", NY_DST_2026 - 1), -18000, "before 2026-03-08");
	ASSERT_EQ(offset_in("America/New_York", NY_DST_2026), -14400, "from 2026-03-08");
	ASSERT_EQ(offset_in("America/New_York", NY_STD_2026 - 1), -14400, "before 2026-11-01");
	ASSERT_EQ(offset_in("America/New_York", NY_STD_2026), -18000, "from 2026-11-01");
	ASSERT_EQ(offset_in("Australia/Sydney", JAN_2026), 39600, "Sydney January: AEDT");
	ASSERT_EQ(offset_in("Australia/Sydney", JUL_2026), 36000, "Sydney July: AEST");
	ASSERT_EQ(offset_in("Australia/Sydney", JAN_2040), 39600, "Sydney 2040");
	ASSERT_EQ(offset_in("Asia/Kolkata", JUL_2026), 19800, "Kolkata: +05:30");
	ASSERT_EQ(offset_in("UTC", JUL_2026), 0, "UTC");
	ASSERT_EQ(offset_in("Etc/GMT+5", JUL_2026), -18000, "Etc/GMT+5 is UTC-5");
	ASSERT_EQ(tz_offset(NULL, JUL_2026), 0, "a NULL zone is UTC");
}

TEST(tz_load_errors)
{
	static const char *const invalid[] = {
	    "",
	    "/etc/passwd",
	    "../etc/passwd",
	    "Europe/../../etc/passwd",
	    "Europe//Berlin",
	    "Europe/Berlin/",
	    "./UTC",
	    "Europe/Ber lin",
	    "Europe/Berlin\n",
	};
	char err[256] = "";
	struct tz *z;
	size_t i;

	z = tz_load("Europe/Berln", err, sizeof(err));
	ASSERT_NULL(z, "unknown zone");
	ASSERT_EQ(errno, ENOENT, "unknown zone errno");
	ASSERT_STREQ(err, "unknown time zone (no file /usr/share/zoneinfo/Europe/Berln)",
		     "unknown zone message");
	z = tz_load("UTC/x", err, sizeof(err));
	ASSERT_NULL(z, "a zone file as a directory");
	ASSERT_EQ(errno, ENOENT, "UTC/x errno");
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		z = tz_load(invalid[i], err, sizeof(err));
		ASSERT_NULL(z, invalid[i]);
		ASSERT_EQ(errno, EINVAL, invalid[i]);
		ASSERT_HAS(err, "not a time zone name", invalid[i]);
	}
	z = tz_load("America", err, sizeof(err));
	ASSERT_NULL(z, "a directory");
	ASSERT_EQ(errno, EISDIR, "a directory errno");
	z = tz_load("iso3166.tab", NULL, 0);
	ASSERT_NULL(z, "a file that is not TZif, no message asked");
	ASSERT_EQ(errno, EINVAL, "not TZif errno");
	/* the host's zone: whatever it is, a zone */
	z = tz_load(NULL, err, sizeof(err));
	if (ASSERT_OK_PTR(z, err))
		ASSERT_TRUE(tz_offset(z, JUL_2026) >= -TZ_OFFSET_MAX &&
				tz_offset(z, JUL_2026) <= TZ_OFFSET_MAX,
			    "the host's offset");
	tz_free(z);
	tz_free(NULL);
}

/* A TZif file, written as zic does: for the tests of what Debian's files may not exercise. */
struct tzif {
	char version; /* 0, '2', '3' */
	size_t n_times;
	int64_t times[4];
	uint8_t idx[4];
	size_t n_types;
	int32_t offs[4];
	uint8_t isdst[4];
	uint32_t leap; /* leap second records (zeros) */
	const char *footer;
};

static size_t put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return 4;
}

static size_t put_block(uint8_t *buf, const struct tzif *f, unsigned tsize)
{
	size_t o = 0, i;

	memcpy(buf, "TZif", 4);
	buf[4] = f->version;
	memset(buf + 5, 0, 15);
	o = 20;
	o += put32(buf + o, 0);		 /* isutcnt */
	o += put32(buf + o, 0);		 /* isstdcnt */
	o += put32(buf + o, f->leap);	 /* leapcnt */
	o += put32(buf + o, f->n_times); /* timecnt */
	o += put32(buf + o, f->n_types); /* typecnt */
	o += put32(buf + o, 4);		 /* charcnt: "LMT\0" */
	for (i = 0; i < f->n_times; i++) {
		if (tsize == 8)
			o += put32(buf + o, (uint64_t)f->times[i] >> 32);
		o += put32(buf + o, (uint32_t)f->times[i]);
	}
	for (i = 0; i < f->n_times; i++)
		buf[o++] = f->idx[i];
	for (i = 0; i < f->n_types; i++) {
		o += put32(buf + o, f->offs[i]);
		buf[o++] = f->isdst[i];
		buf[o++] = 0;
	}
	memcpy(buf + o, "LMT", 4);
	o += 4;
	memset(buf + o, 0, f->leap * (tsize + 4));
	o += f->leap * (tsize + 4);
	return o;
}

static size_t tzif(uint8_t *buf, const struct tzif *f)
{
	size_t o = put_block(buf, f, 4);

	if (!f->version)
		return o;
	o += put_block(buf + o, f, 8);
	o += sprintf((char *)buf + o, "\n%s\n", f->footer);
	return o;
}

static struct tz *parse_tzif(const struct tzif *f, char *err, size_t errlen)
{
	uint8_t buf[1024];

	return tz_parse(buf, tzif(buf, f), err, errlen);
}

TEST(tz_parse_slim)
{
	/* Berlin as a "slim" file: its last transition in 1996, the rest from the footer */
	struct tzif berlin = {.version = '2',
			      .n_times = 1,
			      .times = {846378000}, /* 1996-10-27 01:00 UTC */
			      .idx = {1},
			      .n_types = 2,
			      .offs = {7200, 3600},
			      .isdst = {1, 0},
			      .footer = "CET-1CEST,M3.5.0,M10.5.0/3"};
	/* Sydney by its footer alone (no transitions: the rule is for all times) */
	struct tzif sydney = {.version = '3',
			      .n_types = 1,
			      .offs = {36000},
			      .footer = "AEST-10AEDT,M10.1.0,M4.1.0/3"};
	/* daylight saving time all year, a version 3 extension: EDT */
	struct tzif always = {
	    .version = '3', .n_types = 1, .offs = {-14400}, .footer = "EST5EDT,0/0,J365/25"};
	/* a version 1 file: its transitions, and the last one's type after them */
	struct tzif v1 = {.version = 0,
			  .n_times = 2,
			  .times = {0, 1000000},
			  .idx = {1, 0},
			  .n_types = 2,
			  .offs = {-3600, 5400}};
	/* the quoted abbreviations of zones without letters, and an empty footer */
	struct tzif quoted = {.version = '2',
			      .n_types = 1,
			      .offs = {-10800},
			      .footer = "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"};
	struct tzif empty = {.version = '2',
			     .n_times = 1,
			     .times = {100},
			     .idx = {1},
			     .n_types = 2,
			     .offs = {0, 19800},
			     .footer = ""};
	char err[128] = "";
	struct tz *z;

	z = parse_tzif(&berlin, err, sizeof(err));
	if (ASSERT_OK_PTR(z, err)) {
		ASSERT_EQ(tz_offset(z, 846378000 - 1), 7200, "slim: before its transition");
		ASSERT_EQ(tz_offset(z, JAN_2026), 3600, "slim: January 2026");
		ASSERT_EQ(tz_offset(z, JUL_2026), 7200, "slim: July 2026");
		ASSERT_EQ(tz_offset(z, BERLIN_DST_2026 - 1), 3600, "slim: 2026-03-29 00:59:59");
		ASSERT_EQ(tz_offset(z, BERLIN_DST_2026), 7200, "slim: 2026-03-29 01:00:00");
		ASSERT_EQ(tz_offset(z, BERLIN_STD_2026 - 1), 7200, "slim: 2026-10-25 00:59:59");
		ASSERT_EQ(tz_offset(z, BERLIN_STD_2026), 3600, "slim: 2026-10-25 01:00:00");
		ASSERT_EQ(tz_offset(z, JUL_2040), 7200, "slim: July 2040");
		ASSERT_EQ(tz_offset(z, INT64_MAX), tz_offset(z, INT64_MAX), "slim: far future");
		ASSERT_EQ(tz_offset(z, INT64_MIN), 7200, "slim: the first type before");
	}
	tz_free(z);

	z = parse_tzif(&sydney, err, sizeof(err));
	if (ASSERT_OK_PTR(z, err)) {
		ASSERT_EQ(tz_offset(z, JAN_2026), 39600, "Sydney rule: January AEDT");
		ASSERT_EQ(tz_offset(z, JUL_2026), 36000, "Sydney rule: July AEST");
		ASSERT_EQ(tz_offset(z, SYDNEY_STD_2026 - 1), 39600, "Sydney: April 5 02:59:59");
		ASSERT_EQ(tz_offset(z, SYDNEY_STD_2026), 36000, "Sydney: April 5 03:00 AEDT");
		ASSERT_EQ(tz_offset(z, SYDNEY_DST_2026 - 1), 36000, "Sydney: October 4 01:59:59");
		ASSERT_EQ(tz_offset(z, SYDNEY_DST_2026), 39600, "Sydney: October 4 02:00 AEST");
		ASSERT_EQ(tz_offset(z, -2000000000LL), 36000, "Sydney rule: August 1906");
	}
	tz_free(z);

	z = parse_tzif(&always, err, sizeof(err));
	if (ASSERT_OK_PTR(z, err)) {
		ASSERT_EQ(tz_offset(z, 1767243600), -14400, "all-year DST: Jan 1 01:00 EST");
		ASSERT_EQ(tz_offset(z, 1767240000), -14400, "all-year DST: New Year's midnight");
		ASSERT_EQ(tz_offset(z, JUL_2026), -14400, "all-year DST: July");
		ASSERT_EQ(tz_offset(z, 1798761600 + 3 * 3600), -14400, "all-year DST: Dec 31");
	}
	tz_free(z);

	z = parse_tzif(&v1, err, sizeof(err));
	if (ASSERT_OK_PTR(z, err)) {
		ASSERT_EQ(tz_offset(z, -1), -3600, "v1: type 0 before");
		ASSERT_EQ(tz_offset(z, 0), 5400, "v1: the first transition");
		ASSERT_EQ(tz_offset(z, 999999), 5400, "v1: between");
		ASSERT_EQ(tz_offset(z, JUL_2026), -3600, "v1: the last type after");
	}
	tz_free(z);

	z = parse_tzif(&quoted, err, sizeof(err));
	if (ASSERT_OK_PTR(z, err)) {
		/* 2026-03-28 22:00 local (-03) = 2026-03-29 01:00 UTC: -02 from then */
		ASSERT_EQ(tz_offset(z, BERLIN_DST_2026 - 1), -10800, "<-03>: before");
		ASSERT_EQ(tz_offset(z, BERLIN_DST_2026), -7200, "<-02>: from the rule's time -2");
		ASSERT_EQ(tz_offset(z, JAN_2026), -10800, "<-03>: January");
	}
	tz_free(z);

	z = parse_tzif(&empty, err, sizeof(err));
	if (ASSERT_OK_PTR(z, err))
		ASSERT_EQ(tz_offset(z, JUL_2026), 19800, "an empty footer: the last type stays");
	tz_free(z);
}

TEST(tz_parse_refused)
{
	static const char *const footers[] = {
	    "CET-1CEST",		   /* daylight saving time without dates */
	    "CET-1CEST,M3.5.0",		   /* one date */
	    "CET-1CEST,M13.5.0,M10.5.0/3", /* month 13 */
	    "CET-1CEST,M3.6.0,M10.5.0/3",  /* week 6 */
	    "CET-1CEST,M3.5.7,M10.5.0/3",  /* weekday 7 */
	    "CET-1CEST,J366,J1",	   /* J366 */
	    "CET-1CEST,M3.5.0/168,J1",	   /* a time past 167 h */
	    "CET-25",			   /* an offset past 24 h */
	    "CE-1",			   /* a 2-letter abbreviation */
	    "<+1>-1",			   /* a 2-character quoted one */
	    "CET-1 x",			   /* trailing text */
	    "CET",			   /* no offset */
	};
	struct tzif f = {.version = '2', .n_types = 1, .offs = {3600}};
	uint8_t buf[1024];
	char err[128] = "";
	size_t i, len;
	struct tz *z;

	for (i = 0; i < sizeof(footers) / sizeof(footers[0]); i++) {
		f.footer = footers[i];
		z = parse_tzif(&f, err, sizeof(err));
		ASSERT_NULL(z, footers[i]);
		ASSERT_HAS(err, "footer", footers[i]);
		tz_free(z);
	}
	f.footer = "CET-1";
	len = tzif(buf, &f);
	for (i = 0; i < len; i++) {
		z = tz_parse(buf, i, err, sizeof(err));
		ASSERT_NULL(z, "truncated");
		tz_free(z);
	}
	z = tz_parse(buf, len, err, sizeof(err));
	ASSERT_OK_PTR(z, err);
	tz_free(z);

	f.leap = 1;
	z = parse_tzif(&f, err, sizeof(err));
	ASSERT_NULL(z, "leap seconds");
	ASSERT_HAS(err, "leap second records (a \"right/\" zone", "leap seconds message");
	f.leap = 0;

	f.offs[0] = 26 * 3600;
	z = parse_tzif(&f, err, sizeof(err));
	ASSERT_NULL(z, "an offset of 26 h");
	ASSERT_HAS(err, "UT offset", "offset message");
	f.offs[0] = 3600;

	f.n_times = 2;
	f.times[0] = 10;
	f.times[1] = 10;
	z = parse_tzif(&f, err, sizeof(err));
	ASSERT_NULL(z, "transitions not ascending");
	ASSERT_HAS(err, "ascending", "ascending message");
	f.times[1] = 11;
	f.idx[1] = 1;
	z = parse_tzif(&f, err, sizeof(err));
	ASSERT_NULL(z, "a type that does not exist");
	ASSERT_HAS(err, "does not exist", "type message");

	f = (struct tzif){.version = '2', .n_types = 0, .footer = ""};
	z = parse_tzif(&f, err, sizeof(err));
	ASSERT_NULL(z, "no types");
	f = (struct tzif){.version = '1', .n_types = 1, .footer = ""};
	z = parse_tzif(&f, err, sizeof(err));
	ASSERT_NULL(z, "version '1'");
	ASSERT_HAS(err, "version", "version message");
	z = tz_parse("TZ", 2, err, sizeof(err));
	ASSERT_NULL(z, "2 bytes");
	ASSERT_EQ(errno, EINVAL, "errno");
	z = tz_parse(NULL, 0, NULL, 0);
	ASSERT_NULL(z, "NULL");
}

static struct tz *load_file(const char *path, char *err, size_t errlen)
{
	static uint8_t buf[65536];
	FILE *f = fopen(path, "rb");
	size_t len;

	if (!ASSERT_OK_PTR(f, path))
		return NULL;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return tz_parse(buf, len, err, errlen);
}

/* "Slim" files as zic -b slim writes them (the seeds of fuzz_tz): the footer does the work. */
TEST(tz_parse_zic_slim)
{
	char err[128] = "";
	struct tz *z;

	z = load_file("tests/fuzz/corpus/fuzz_tz/berlin_slim", err, sizeof(err));
	if (ASSERT_OK_PTR(z, err)) {
		ASSERT_EQ(tz_offset(z, JAN_2026), 3600, "slim Berlin: January 2026");
		ASSERT_EQ(tz_offset(z, BERLIN_DST_2026 - 1), 3600, "slim Berlin: 00:59:59 UTC");
		ASSERT_EQ(tz_offset(z, BERLIN_DST_2026), 7200, "slim Berlin: 01:00:00 UTC");
		ASSERT_EQ(tz_offset(z, BERLIN_STD_2026 - 1), 7200, "slim Berlin: October");
		ASSERT_EQ(tz_offset(z, BERLIN_STD_2026), 3600, "slim Berlin: October, CET");
		ASSERT_EQ(tz_offset(z, -5000000000LL), 3208, "slim Berlin: 1811");
	}
	tz_free(z);
	z = load_file("tests/fuzz/corpus/fuzz_tz/sao_paulo_slim", err, sizeof(err));
	if (ASSERT_OK_PTR(z, err)) {
		ASSERT_EQ(tz_offset(z, 1516017600), -7200, "Sao Paulo January 2018: -02");
		ASSERT_EQ(tz_offset(z, JAN_2026), -10800, "Sao Paulo January 2026: -03");
		ASSERT_EQ(tz_offset(z, JAN_2040), -10800, "Sao Paulo 2040: -03");
	}
	tz_free(z);
}
