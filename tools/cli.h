/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pidtuple command-line tool: what the subcommands share. */
#ifndef PIDTUPLE_CLI_H
#define PIDTUPLE_CLI_H

#include <getopt.h>
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

/* ---- arguments (pidtuple.c) ----------------------------------------------------------- */

/* The val of every subcommand's --json; ps and tree also take it as -J. */
#define CLI_OPT_JSON 'J'

/*
 * One argument rule for every subcommand: options may come before, between or after the
 * positional arguments, and "--" ends them. POSIXLY_CORRECT does not change this.
 *
 *	struct cli_args a;
 *
 *	cli_args_init(&a, "check", argc, argv, 0);
 *	while ((opt = cli_args_next(&a, "-:h", longopts)) != -1)
 *		... the command's own options ...
 *	if ((r = cli_args_done(&a)) >= 0)
 *		return r;
 *	... a.pos[0 .. a.npos - 1] ...
 *
 * Short options must begin with "-:". -h, --help and --json (CLI_OPT_JSON) are handled
 * inside; an unknown option or a missing argument is remembered and the scan goes on, so
 * that --json after it still counts; cli_args_done() then prints the help or the usage
 * error of whichever came first.
 */
struct cli_args {
	const char *cmd;
	int argc;
	char **argv;
	char **pos; /* the positional arguments, in order (they overwrite argv[1..]) */
	int npos;
	int stop_at; /* >0: the positional that ends the options; it and all after it are kept */
	int action;  /* 0, 'h' (help) or '?' (usage error): the first that came */
	char error[256];
	bool done;
};

void cli_args_init(struct cli_args *a, const char *cmd, int argc, char **argv, int stop_at);
/* The next option of the command's own, or -1 at the end of the options. */
int cli_args_next(struct cli_args *a, const char *shortopts, const struct option *longopts);
/* After the scan: -1 to go on, or the exit status once the help or usage error is printed. */
int cli_args_done(struct cli_args *a);

/* Strict decimal PID: no sign, no junk, 1..INT_MAX; -EINVAL otherwise. */
int cli_parse_pid(const char *s, pid_t *ret);

/* Parses TUPLE text; on failure reports why and returns CLI_EXIT_USAGE, else 0. */
int cli_parse_tuple(const char *cmd, const char *text, struct pidtuple **ret_tuple);

/* "; did you mean 'PREFIX NAME'?" for the @n @names nearest @word by edit distance, or "". */
void cli_did_you_mean(const char *word, const char *const *names, size_t n, const char *prefix,
		      char *buf, size_t size);

/* ---- --ns (ns.c) ------------------------------------------------------------------------ */

/* With --ns ARG given (@arg not NULL): opens the target into @opts (PIDTUPLE_FORK_JOIN_NS);
 * 0, or CLI_EXIT_FAIL once reported. */
int cli_ns_open(const char *cmd, const char *arg, struct pidtuple_fork_opts *opts);
void cli_ns_close(struct pidtuple_fork_opts *opts);

/* ---- --wait-free (wait_free.c) ------------------------------------------------------- */

/* The longest --wait-free: a day. */
#define CLI_WAIT_FREE_MAX 86400.0
/* Seconds as a plain decimal number, 0 to CLI_WAIT_FREE_MAX, fractions allowed; -EINVAL. */
int cli_parse_seconds(const char *s, double *ret);

/* A bounded wait for PIDs held by processes that exited but are not reaped yet. */
struct cli_wait_free {
	double seconds; /* < 0: --wait-free not given */
	double end;	/* CLOCK_MONOTONIC seconds, from the first failed attempt */
	bool started, timed_out;
};
/* --wait-free ARG: the seconds into @w, or a usage error remembered in @a. */
void cli_wait_free_option(struct cli_args *a, struct cli_wait_free *w, const char *arg);
/* @err and @d are a pid-taken verdict whose holder exited but is not reaped. */
bool cli_held_by_exited(int err, const struct pidtuple_diag *d);
/* After an attempt that failed with @err: true, after a short sleep, when another is worth
 * it; false to report the failure (w->timed_out when the wait ran out). A living holder, or
 * any other failure, ends the wait at once. */
bool cli_wait_free_again(struct cli_wait_free *w, int err, const struct pidtuple_diag *d);
/* After the failure's report: that the wait ran out, or that --wait-free would wait. */
void cli_wait_free_report(const char *cmd, const struct cli_wait_free *w, int err,
			  const struct pidtuple_diag *d);

/* ---- errors (report.c) ---------------------------------------------------------------- */

/* --json was given: errors are also printed as a JSON object on standard output. */
extern bool cli_json;

/* What failed: a verdict of the library (with its diag) or of a system call. */
struct cli_failure {
	int err;			  /* negative errno */
	const struct pidtuple_diag *diag; /* the library's why, or NULL */
	pid_t pid;			  /* without a diag: the process concerned, or 0 */
	const char *text;		  /* the tuple text a syntax error points into */
	bool usage;			  /* a usage error (exit status 2) */
};

/* Prints "pidtuple: CMD: MSG" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A usage error: the message and a pointer to the help on stderr, and with --json the error
 * object on stdout; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Reports @f on stderr, headed by WHAT (the printf-style rest): with a rule,
 *	pidtuple: CMD: WHAT: HEADLINE (rule NAME)
 *	pidtuple: CMD: the library's one-sentence message
 * and otherwise "pidtuple: CMD: WHAT: strerror". With --json it also prints
 * {"error": {...}} on stdout (cli_failure_json()).
 */
void cli_fail(const char *cmd, const struct cli_failure *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same on stderr only, for a command that prints its own JSON. */
void cli_fail_text(const char *cmd, const struct cli_failure *f, const char *what);
/* {"error": {...}} on stdout only. */
void cli_fail_json(const char *cmd, const struct cli_failure *f, const char *what);

struct json_object;
/* The error object: errno, errno_name, rule, rule_number, headline, node, thread (its index
 * in the node's threads), level (inner index), levels, nspid_field (from 1), pid, byte,
 * kernel_errno, usage, message; null where they do not apply. NULL when out of memory. */
struct json_object *cli_failure_json(const struct cli_failure *f, const char *what);

/* A one-phrase headline for @rule ("PID already in use"), or NULL for none. */
const char *cli_rule_headline(uint32_t rule);
/* "EEXIST" for -EEXIST (or EEXIST); "E?" when unknown. */
const char *cli_errno_name(int err);

/* ---- output (pidtuple.c) -------------------------------------------------------------- */

/* pidtuple_format() into @buf, "?" on failure. */
void cli_format(const struct pidtuple *t, char *buf, size_t size);
/* Copies @in with control characters replaced by '?'. */
void cli_sanitize(const char *in, char *out, size_t size);

/* Adds @v to @o as @key; false (and @v freed) when @v is NULL or no memory is left. */
bool cli_json_put(struct json_object *o, const char *key, struct json_object *v);
/* A tuple as JSON: an array of integers, outermost first, 0 where not visible. */
struct json_object *cli_tuple_json(const struct pidtuple *t);
/* Prints @root indented and frees it; NULL means out of memory. Returns the exit status
 * (@status, or CLI_EXIT_FAIL when it cannot be printed). */
int cli_print_json(const char *cmd, struct json_object *root, int status);
/* Flushes stdout; returns @status, or CLI_EXIT_FAIL (with a message) when writing failed. */
int cli_flush(const char *cmd, int status);

#endif
