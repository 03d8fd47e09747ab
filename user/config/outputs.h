/* SPDX-License-Identifier: GPL-2.0 */
/* The grammar of "outputs" and "spool" (outputs.c). */
#ifndef CUSTOS_CONFIG_OUTPUTS_H
#define CUSTOS_CONFIG_OUTPUTS_H

#include <jansson.h>

#include "config/config.h"
#include "parse.h"

int parse_outputs(struct parser *p, json_t *root, struct config *cfg);
void outputs_free(struct config *cfg);

#endif /* CUSTOS_CONFIG_OUTPUTS_H */
