/* SPDX-License-Identifier: GPL-2.0 */
/* PLACEHOLDER until the time-zone module lands: every time is inside the hours. */
#ifndef CUSTOS_TZ_H
#define CUSTOS_TZ_H
#include <stdbool.h>
#include <stdint.h>
#include "config/config.h"
static inline bool config_hours_contains(const struct config_hours *h, int64_t real_ns)
{
	(void)h;
	(void)real_ns;
	return true;
}
#endif
