// SPDX-License-Identifier: GPL-2.0
/* custos: who reads customer data. CLI dispatch only. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "kernel/kernel.h"
#include "lib/version.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_version(int argc, char **argv)
{
	char libbpf[64];

	version_print(stdout, kernel_libbpf_version(libbpf, sizeof(libbpf)));
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
    {"run", cmd_run, "run the agent: JSON events on stdout, for a SIEM"},
    {"trace", cmd_trace, "watch accesses live (or a stored stream), one line each"},
    {"status", cmd_status, "the running agent's health: hooks, events, drops, outputs"},
    {"check", cmd_check, "validate a config; show what it watches and what this kernel offers"},
    {"verify", cmd_verify, "check the hash chain of stored events: edited, missing, reordered"},
    {"report", cmd_report, "how much customer data each human accessed, from stored events"},
    {"top", cmd_top, "who is reading customer data right now, full screen"},
    {"version", cmd_version, "print the version and build details (also --version)"},
    {"help", cmd_help, "show this help, or a command's (custos help run)"},
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "USAGE\n"
		   "  custos COMMAND [OPTIONS]\n"
		   "  custos COMMAND --help\n"
		   "\n"
		   "COMMANDS\n");
	for (i = 0; i < N_CMDS; i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f,
		"\n"
		"OPTIONS\n"
		"  -h, --help     this help\n"
		"  --version      the version and build details\n"
		"\n"
		"See custos(8), and custos-COMMAND(8) for each command.\n"
		"\n"
		"EXAMPLES\n"
		"  sudo custos run                          # built-in default watches\n"
		"  sudo custos run --config /etc/custos/custos.json >> /var/log/custos.jsonl\n"
		"  sudo custos trace --path /srv/crm        # live, human-readable\n"
		"  sudo custos status                       # is the agent healthy?\n"
		"  sudo custos check --config /etc/custos/custos.json   # before deploying\n"
		"  sudo custos verify $(ls -tr /var/log/custos/events.ndjson*)  # tamper evidence\n"
		"  sudo custos report --since 7d /var/log/custos/events.ndjson*   # per human\n");
}

static const struct cmd *find(const char *name)
{
	size_t i;

	for (i = 0; i < N_CMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd *cmd = argc > 1 ? find(argv[1]) : NULL;
	char *help_argv[] = {argv[1], "--help", NULL};

	if (cmd && cmd->fn != cmd_help && cmd->fn != cmd_version)
		return cmd->fn(2, help_argv);
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cmd *cmd;

	setlocale(LC_CTYPE, "");
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(0, NULL);
	cmd = find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "custos: unknown command \"%s\" (try custos --help)\n", argv[1]);
		return 2;
	}
	return cmd->fn(argc - 1, argv + 1);
}
