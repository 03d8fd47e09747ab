/* SPDX-License-Identifier: GPL-2.0 */
/* Subcommands: each parses its own options and returns the exit status. */
#ifndef CUSTOS_CMD_H
#define CUSTOS_CMD_H

int cmd_run(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif /* CUSTOS_CMD_H */
