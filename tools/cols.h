/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pidtuple command-line tool: the columns and tables of ps and tree, drawn with
 * libsmartcols as lsns, findmnt and lsblk draw theirs (cols.c). No other command uses it. */
#ifndef PIDTUPLE_CLI_COLS_H
#define PIDTUPLE_CLI_COLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "procs.h"

enum cli_col {
	COL_PID,
	COL_TID,
	COL_PPID,
	COL_TUPLE,
	COL_PGID,
	COL_SID,
	COL_NEWPID,
	COL_NS_ID,
	COL_COMM,
	CLI_NCOLS
};

#define CLI_MAX_COLS 32

/* Long-only option values of the options ps and tree share. */
enum { CLI_OPT_LIST_COLUMNS = 0x1000, CLI_OPT_NO_KTHREADS };

/* The options ps and tree share, for their getopt tables. */
#define CLI_VIEW_SHORTOPTS "o:Jrn"
/* clang-format off */
#define CLI_VIEW_LONGOPTS \
	{ "output", required_argument, NULL, 'o' }, \
	{ "list-columns", no_argument, NULL, CLI_OPT_LIST_COLUMNS }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "raw", no_argument, NULL, 'r' }, \
	{ "noheadings", no_argument, NULL, 'n' }, \
	{ "no-kthreads", no_argument, NULL, CLI_OPT_NO_KTHREADS }
/* clang-format on */

/* How ps or tree prints its processes. */
struct cli_view {
	const char *cmd;
	const char *output; /* -o COLUMNS, or NULL for the defaults */
	int cols[CLI_MAX_COLS];
	size_t ncols;
	bool list_columns, raw, noheadings, no_kthreads;
	bool tree;  /* tree: children below their parent, or nested in JSON */
	int glyphs; /* tree: 'A' ASCII, 'U' UTF-8, 0 UTF-8 on a UTF-8 terminal */
};

/* Takes @opt (with @arg) when it is one of CLI_VIEW_LONGOPTS; false otherwise. */
bool cli_view_option(struct cli_view *v, int opt, const char *arg);

/* After the options: prints the columns for --list-columns (and returns 0), or resolves -o
 * against @defaults (@json_defaults with --json): -1 to go on, or the usage error's status. */
int cli_view_setup(struct cli_view *v, const int *defaults, size_t ndefaults,
		   const int *json_defaults, size_t njson_defaults);

/* Copies the default columns @cols (@n of them) to @out, with TID after PID for --threads;
 * returns how many. @out holds @n + 1. */
size_t cli_cols_with_tid(const int *cols, size_t n, bool threads, int *out);

/* The columns, one per line with what they show, for --help and --list-columns. */
void cli_cols_help(FILE *out);

struct libscols_table;
struct libscols_line;

/* A table with @v's columns; NULL when out of memory. */
struct libscols_table *cli_view_table(const struct cli_view *v);
/* Adds the line of @p (of its thread @thread with --threads) below @parent (may be NULL);
 * NULL when out of memory. In a tree, a thread's line goes below its process's. */
struct libscols_line *cli_view_line(const struct cli_view *v, struct libscols_table *tb,
				    struct libscols_line *parent, const struct cli_proc *p,
				    size_t thread);
/* Prints and frees @tb; returns the exit status. */
int cli_view_print(const struct cli_view *v, struct libscols_table *tb);

#endif
