/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Time zones from the IANA database as the system installs it (tzdata):
 * TZif files (RFC 8536, versions 1 to 4) under /usr/share/zoneinfo, and the
 * POSIX TZ rule in their footer, which Debian's files rely on for the years
 * after their last transition (all of them in "slim" files). Used to tell
 * the local time of an event for hours of the week (config_hours_contains).
 */
#ifndef CUSTOS_TZ_H
#define CUSTOS_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_DIR	      "/usr/share/zoneinfo"
#define TZ_LOCALTIME  "/etc/localtime"
#define TZ_NAME_MAX   255
#define TZ_OFFSET_MAX (26 * 3600) /* |offset| of any zone, in seconds: RFC 8536 keeps within */

struct tz;

/*
 * The zone name ("Europe/Berlin") from TZ_DIR, or with name NULL the host's
 * (TZ_LOCALTIME; UTC when there is none). NULL with errno set and err
 * (errlen bytes, may be NULL) saying why: an invalid or unknown name, a
 * file that is not a time zone.
 */
struct tz *tz_load(const char *name, char *err, size_t errlen);

/* A zone from the bytes of a TZif file; NULL with errno (EINVAL, ENOMEM) and err set. */
struct tz *tz_parse(const void *data, size_t len, char *err, size_t errlen);

/* UTC, a zone without transitions. */
struct tz *tz_utc(void);

/* Seconds east of UTC at unix_s, for any unix_s; z NULL is UTC. Thread-safe. */
int32_t tz_offset(const struct tz *z, int64_t unix_s);

void tz_free(struct tz *z);

#endif /* CUSTOS_TZ_H */
