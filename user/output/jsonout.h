/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Compact JSON text for jansson values, written for speed: events are built
 * with jansson, and this turns them into lines several times faster than
 * json_dumpb() (measured: it was most of the agent's time per event).
 * Output is what json_dumps(v, JSON_COMPACT) gives for the values custos
 * builds (objects, arrays, valid UTF-8 strings, integers, booleans, null);
 * tests/unit/test_jsonout.c checks that by parsing it back.
 */
#ifndef CUSTOS_JSONOUT_H
#define CUSTOS_JSONOUT_H

#include <jansson.h>
#include <stddef.h>

struct jsonout {
	char *buf;
	size_t len;
	size_t cap;
};

/* Appends the JSON text of v; -ENOMEM, or -EINVAL for a real number or invalid UTF-8. */
int jsonout_value(struct jsonout *o, json_t *v);
int jsonout_char(struct jsonout *o, char c);
void jsonout_reset(struct jsonout *o);
void jsonout_free(struct jsonout *o);

#endif /* CUSTOS_JSONOUT_H */
