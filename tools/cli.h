/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pidtuple command-line tool: what the subcommands share. */
#ifndef PIDTUPLE_CLI_H
#define PIDTUPLE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "pidtuple.h"

/* Exit codes shared by every subcommand; run passes its command's status through. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CANNOT_EXEC 126
#define CLI_EXIT_NOT_FOUND 127

#define CLI_TUPLE_TEXT_MAX (PIDTUPLE_MAX_LEVELS * 12)
/* A command name as /proc/PID/comm gives it: 15 bytes, more for some kernel threads. */
#define CLI_COMM_MAX 64

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
int cmd_tree(int argc, char **argv);
void help_tree(FILE *out);
int cmd_ps(int argc, char **argv);
void help_ps(FILE *out);
#ifdef PIDTUPLE_CLI_TREE
int cmd_capture(int argc, char **argv);
void help_capture(FILE *out);
int cmd_restore(int argc, char **argv);
void help_restore(FILE *out);
int cmd_import_criu(int argc, char **argv);
void help_import_criu(FILE *out);
#endif

/* Prints "pidtuple: CMD: MSG" and a pointer to the help on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "pidtuple: CMD: MSG" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict decimal PID: no sign, no junk, 1..INT_MAX; -EINVAL otherwise. */
int cli_parse_pid(const char *s, pid_t *ret);

/* Prints the rule, node, inner index, NSpid field and message of @diag on stderr. */
void cli_print_diag(const char *cmd, const struct pidtuple_diag *diag);

/* Parses TUPLE text; on failure prints why and returns CLI_EXIT_USAGE, else 0. */
int cli_parse_tuple(const char *cmd, const char *text, struct pidtuple **ret_tuple);

/* Answers getopt_long()'s -h, unknown-option and missing-argument cases (opterr is 0):
 * prints the help (exit 0) or the usage error (exit 2); returns the exit code. */
int cli_getopt_exit(const char *cmd, int opt, char **argv);

/* pidtuple_format() into @buf, "?" on failure. */
void cli_format(const struct pidtuple *t, char *buf, size_t size);
/* Copies @in with control characters replaced by '?'. */
void cli_sanitize(const char *in, char *out, size_t size);

struct json_object;
/* Adds @v to @o as @key; false (and @v freed) when @v is NULL or no memory is left. */
bool cli_json_put(struct json_object *o, const char *key, struct json_object *v);
/* Prints @root indented; returns the exit status. */
int cli_print_json(const char *cmd, struct json_object *root);
/* Flushes stdout; returns @status, or CLI_EXIT_FAIL (with a message) when writing failed. */
int cli_flush(const char *cmd, int status);

#endif
