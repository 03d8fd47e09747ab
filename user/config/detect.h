/* SPDX-License-Identifier: GPL-2.0 */
/* The grammar of "rules" and "builtin_rules", the detection rules (detect.c). */
#ifndef CUSTOS_CONFIG_DETECT_H
#define CUSTOS_CONFIG_DETECT_H

#include <jansson.h>

#include "config/config.h"
#include "parse.h"

#define DETECT_BUILTIN_SOURCE "<built-in rules>"

/*
 * "builtin_rules" and "rules" of root into cfg->detect, merged with the
 * built-in pack. The watch rules, endpoints and databases of cfg are parsed
 * already: a rule's where is checked against them.
 */
int parse_detect(struct parser *p, json_t *root, struct config *cfg);
void detect_free(struct config *cfg);

#endif /* CUSTOS_CONFIG_DETECT_H */
