/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An ECS event line, as custos run writes it, decoded back into the typed
 * event (event.h): what the human line and the filter of custos trace read,
 * whatever the line's source (a stored stream, an agent's socket). Only the
 * fields they read are decoded. Lines are untrusted: any bytes give either
 * an event or a reason, never a crash.
 */
#ifndef CUSTOS_DECODE_H
#define CUSTOS_DECODE_H

#include <jansson.h>
#include <stddef.h>

#include "encode/event.h"

#define DECODE_GROUP_MAX 8 /* of an alert's group fields, the first ones */

/* An event and what its pointers borrow: valid until decoded_release(). */
struct decoded {
	struct event ev;
	struct event_who who;
	struct event_file file;
	struct event_net net;
	struct event_rule rule;
	struct event_alert_field group[DECODE_GROUP_MAX];
	char unix_path[256];
	json_t *root;
	char *bytes[8]; /* fields listed in custos.escaped, decoded to their bytes */
	size_t n_bytes;
};

/*
 * Decodes len bytes of line (without its newline). 0; or -EINVAL with why
 * (whylen bytes) saying what is wrong, or -ENOMEM. Either way
 * decoded_release() releases d.
 */
int decode_event(const char *line, size_t len, struct decoded *d, char *why, size_t whylen);
void decoded_release(struct decoded *d);

#endif /* CUSTOS_DECODE_H */
