// SPDX-License-Identifier: GPL-2.0
/* custos check: validate a config and show what it resolves to, without loading anything. */
#include <getopt.h>
#include <stdio.h>

#include <custos/cmd.h>
#include <custos/config.h>
#include <custos/watch.h>

static void check_usage(FILE *f)
{
	fprintf(f, "USAGE\n"
		   "  custos check [--config FILE]\n"
		   "\n"
		   "Parses and validates the config (the built-in one without --config), then\n"
		   "resolves its paths and globs now and prints what is watched. Exit status 0\n"
		   "if the config is valid, 1 if not (the error names file, line and column).\n"
		   "\n"
		   "OPTIONS\n"
		   "  -c, --config FILE  the config to check\n"
		   "  -h, --help         this help\n"
		   "\n"
		   "EXAMPLES\n"
		   "  custos check --config /etc/custos/custos.json\n"
		   "  custos check            # show the built-in config's watches\n");
}

static void print_exclude(const char *who, const struct config_exclude *ex)
{
	size_t i;

	for (i = 0; i < ex->n_comms; i++)
		printf("  %s excludes process name %s\n", who, ex->comms[i]);
	for (i = 0; i < ex->n_exes; i++)
		printf("  %s excludes executable %s\n", who, ex->exes[i]);
	for (i = 0; i < ex->n_uids; i++)
		printf("  %s excludes uid %u\n", who, ex->uids[i]);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *path = NULL;
	struct config_error err;
	struct watch_set set;
	struct config *cfg;
	char msg[1024];
	size_t i, r;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return 2;
		}
	}
	cfg = path ? config_load_file(path, &err) : config_load_default();
	if (!cfg) {
		config_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return 1;
	}
	printf("%s: valid, %zu watch rule(s)\n", cfg->source, cfg->n_rules);
	if (watch_resolve(cfg, &set)) {
		fprintf(stderr, "out of memory\n");
		config_free(cfg);
		return 1;
	}
	for (r = 0; r < cfg->n_rules; r++) {
		printf("watch \"%s\":\n", cfg->rules[r].name);
		for (i = 0; i < set.n_items; i++)
			if (set.items[i].rule == r)
				printf("  %s %s\n",
				       set.items[i].kind == CUSTOS_WATCH_DIR ? "directory" : "file",
				       set.items[i].path);
		print_exclude("rule", &cfg->rules[r].exclude);
	}
	print_exclude("every rule", &cfg->exclude);
	for (i = 0; i < set.n_warnings; i++)
		fprintf(stderr, "warning: %s\n", set.warnings[i]);
	watch_set_free(&set);
	config_free(cfg);
	return 0;
}
