/* SPDX-License-Identifier: GPL-2.0 */
/* The members only alerts have (alert.c), for encode_event. */
#ifndef CUSTOS_ENCODE_ALERT_H
#define CUSTOS_ENCODE_ALERT_H

#include <stdint.h>

#include "encode/event.h"
#include "encode/jsonw.h"

/* event.severity: 21 low, 47 medium (also NULL), 73 high, 99 critical. */
int64_t encode_alert_severity(const char *severity);
/* The value of the field name the alert was grouped by; NULL if it was not. */
const struct event_alert_field *encode_alert_group_field(const struct event_alert *a,
							 const char *name);
/* rule.* and threat.* */
void encode_alert_rule(struct jsonw *w, const struct event_alert *a);
/* user.* and process.* from the fields the alert was grouped by (when it has no who). */
void encode_alert_grouped_who(struct jsonw *w, const struct event_alert *a);
/* custos.alert */
void encode_alert_custos(struct jsonw *w, const struct event_alert *a);

#endif /* CUSTOS_ENCODE_ALERT_H */
