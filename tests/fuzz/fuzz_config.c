// SPDX-License-Identifier: GPL-2.0
/*
 * The config loader on any text. Properties: it accepts or refuses, never
 * both; a refusal says where (a line and column inside the text, or none)
 * and why; an accepted config has between 1 and CUSTOS_RULES_MAX rules and
 * loads again from the same text to the same digest.
 */
#include <stdint.h>

#include "fuzz.h"
#include <stdlib.h>
#include <string.h>

#include <custos/abi.h>
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_error err = {0};
	struct config *cfg, *again;
	char *text = malloc(size + 1);
	int lines = 1;
	size_t i;

	memcpy(text, data, size);
	text[size] = 0;
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	cfg = config_load_string(text, "fuzz.json", &err);
	if (!cfg) {
		char msg[1024];

		config_error_format(&err, msg, sizeof(msg));
		if (!err.message[0] || err.line < 0 || err.line > lines + 1 || err.column < 0 ||
		    strncmp(msg, "fuzz.json", 9))
			abort();
	} else {
		if (cfg->n_rules < 1 || cfg->n_rules > CUSTOS_RULES_MAX)
			abort();
		again = config_load_string(text, "fuzz.json", &err);
		if (!again || strcmp(again->digest, cfg->digest))
			abort();
		config_free(again);
	}
	config_free(cfg);
	free(text);
	return 0;
}
