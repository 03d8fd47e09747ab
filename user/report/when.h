/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Times for custos report, as nanoseconds since the epoch (UTC): the
 * @timestamp of events (RFC 3339) and the --since/--until arguments. An
 * int64_t of nanoseconds holds the years 1678 to 2261: a time outside them
 * is out of range.
 */
#ifndef CUSTOS_WHEN_H
#define CUSTOS_WHEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * An RFC 3339 date and time: "2026-12-01T08:00:00Z",
 * "2026-12-01t09:00:00.123456789+01:00" (a space may stand for the T; digits
 * past the ninth of a fraction are ignored). 0, -EINVAL if s (len bytes, not
 * NUL-terminated) is not one, -ERANGE if it is out of range.
 */
int when_rfc3339(const char *s, size_t len, int64_t *ns);

/*
 * A --since or --until argument: an RFC 3339 date and time, a date
 * ("2026-12-01": its midnight, UTC), or a time before now_ns: a number of
 * seconds, minutes, hours, days or weeks ("30s", "10m", "2h", "7d", "1w").
 * 0, -EINVAL, or -ERANGE.
 */
int when_parse_arg(const char *s, int64_t now_ns, int64_t *ns);

#endif /* CUSTOS_WHEN_H */
