// SPDX-License-Identifier: GPL-2.0
/*
 * The TZif parser on any bytes (a zone file is only as trusted as the
 * disk). Properties: it accepts or refuses, and a refusal says why; an
 * accepted zone gives, for any time, an offset within +-26 h, the same
 * each time it is asked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "lib/tz.h"

static void check(const struct tz *z, int64_t t)
{
	int32_t off = tz_offset(z, t);

	if (off < -TZ_OFFSET_MAX || off > TZ_OFFSET_MAX || tz_offset(z, t) != off)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t fixed[] = {
	    INT64_MIN,
	    INT64_MIN + 1,
	    -(1LL << 59) - 1,
	    -(1LL << 32),
	    -1,
	    0,
	    1,
	    1774746000,
	    1792890000,
	    2225966400,
	    1LL << 32,
	    (1LL << 59) + 1,
	    INT64_MAX - 1,
	    INT64_MAX,
	};
	char err[256] = "";
	uint64_t bits = 0;
	struct tz *z;
	int64_t t;
	size_t i;

	errno = 0;
	z = tz_parse(data, size, err, sizeof(err));
	if (!z) {
		if (!err[0] || (errno != EINVAL && errno != ENOMEM))
			abort();
		return 0;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check(z, fixed[i]);
	/* times from the input's last bytes, and the days and half years around them */
	for (i = 0; i < 8 && i < size; i++)
		bits = bits << 8 | data[size - 1 - i];
	t = (int64_t)bits;
	for (i = 0; i < 16; i++) {
		check(z, t);
		check(z, t ^ (int64_t)(i << 40));
		t = (int64_t)((uint64_t)t + (i % 2 ? 86400 : 15778800));
	}
	tz_free(z);
	return 0;
}
