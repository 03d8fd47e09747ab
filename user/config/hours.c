// SPDX-License-Identifier: GPL-2.0
/* Hours of the week ("outside_hours", "inside_hours" of a where), for the detection engine. */
#include <pthread.h>

#include "config/config.h"
#include "lib/tz.h"

#define NS_PER_S 1000000000LL

static pthread_once_t host_once = PTHREAD_ONCE_INIT;
static struct tz *host_zone; /* NULL: UTC */

static void host_load(void)
{
	host_zone = tz_load(NULL, NULL, 0); /* kept for the process's life */
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool config_hours_contains(const struct config_hours *h, int64_t real_ns)
{
	const struct tz *zone = h->zone;
	int64_t s = floor_div(real_ns, NS_PER_S), local, day;
	unsigned minute, wday;

	if (!zone) {
		pthread_once(&host_once, host_load);
		zone = host_zone;
	}
	local = s + tz_offset(zone, s);
	day = floor_div(local, 86400);
	minute = (unsigned)(local - day * 86400) / 60;
	wday = (unsigned)((day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday; 0 is Monday */
	if (h->from_min < h->to_min)
		return minute >= h->from_min && minute < h->to_min && (h->days & 1u << wday);
	if (h->from_min == h->to_min)
		return false;
	/* past midnight: the evening of one of the days, or the morning after one */
	if (minute >= h->from_min)
		return h->days & 1u << wday;
	return minute < h->to_min && (h->days & 1u << (wday + 6) % 7);
}

bool config_hours_match(const struct config_hours *h, int64_t real_ns)
{
	if (!h->set)
		return true;
	return config_hours_contains(h, real_ns) != h->outside;
}
