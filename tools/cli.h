/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pidtuple command-line tool: what the subcommands share. */
#ifndef PIDTUPLE_CLI_H
#define PIDTUPLE_CLI_H

#include <stdio.h>

#include "pidtuple.h"

/* Exit codes shared by every subcommand; run passes its command's status through. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CANNOT_EXEC 126
#define CLI_EXIT_NOT_FOUND 127

#define CLI_TUPLE_TEXT_MAX (PIDTUPLE_MAX_LEVELS * 12)

struct cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
	void (*help)(FILE *out);
};

int cmd_show(int argc, char **argv);
void help_show(FILE *out);
int cmd_check(int argc, char **argv);
void help_check(FILE *out);
int cmd_run(int argc, char **argv);
void help_run(FILE *out);
int cmd_features(int argc, char **argv);
void help_features(FILE *out);
int cmd_next_pid(int argc, char **argv);
void help_next_pid(FILE *out);
#ifdef PIDTUPLE_CLI_TREE
int cmd_capture(int argc, char **argv);
void help_capture(FILE *out);
int cmd_restore(int argc, char **argv);
void help_restore(FILE *out);
#endif

/* Prints "pidtuple: CMD: MSG" and a pointer to the help on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "pidtuple: CMD: MSG" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the rule, node, inner index, NSpid field and message of @diag on stderr. */
void cli_print_diag(const char *cmd, const struct pidtuple_diag *diag);

/* Parses TUPLE text; on failure prints why and returns CLI_EXIT_USAGE, else 0. */
int cli_parse_tuple(const char *cmd, const char *text, struct pidtuple **ret_tuple);

/* Answers getopt_long()'s -h, unknown-option and missing-argument cases (opterr is 0):
 * prints the help (exit 0) or the usage error (exit 2); returns the exit code. */
int cli_getopt_exit(const char *cmd, int opt, char **argv);

#endif
