/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple ps: every process of this PID namespace and those below it, with its tuples. */
#include <errno.h>
#include <getopt.h>
#include <libsmartcols/libsmartcols.h>
#include <stdbool.h>

#include "cli.h"
#include "cols.h"
#include "procs.h"

void help_ps(FILE *out)
{
	fputs("Usage: pidtuple ps [--threads] [--no-kthreads] [-o COLUMNS] [-J | -r] [-n]\n"
	      "\n"
	      "List every process of the caller's PID namespace and of the namespaces below it,\n"
	      "one line per process, sorted by PID: its PID and its parent's as the caller's\n"
	      "namespace numbers them, its PID tuple, its process group and session tuples (0\n"
	      "at the levels where they are not visible), 'new' in the NEWPID column when the\n"
	      "process is the init of a PID namespace below the caller's (a namespace begins\n"
	      "there), and its command name. Processes that exit meanwhile are left out.\n"
	      "\n"
	      "Options:\n"
	      "      --threads       one line per thread, with its TID and its TID tuple\n"
	      "      --no-kthreads   leave out kernel threads (kthreadd and its children)\n"
	      "  -o, --output LIST   the columns to print, e.g. PID,TUPLE,COMM; '+LIST' adds\n"
	      "                      them to the default ones\n"
	      "      --list-columns  list the columns and exit\n"
	      "  -J, --json          print JSON: {\"processes\": [...]}, an object per line\n"
	      "  -r, --raw           columns separated by one space, without alignment\n"
	      "  -n, --noheadings    no header line\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "Columns (default: PID,PPID,TUPLE,PGID,SID,NEWPID,COMM, with TID after PID for\n"
	      "--threads; with --json PID,PPID,TUPLE,COMM,NEWPID,NS_ID,PGID,SID):\n",
	      out);
	cli_cols_help(out);
	fputs("\n"
	      "In JSON every tuple is an array of integers, outermost first.\n"
	      "\n"
	      "Exit status: 0 when the list was printed; 1 when the namespace could not be\n"
	      "read; 2 on a usage error.\n",
	      out);
}

static int list(const struct cli_view *v, const struct cli_procs *ps, bool threads)
{
	struct libscols_table *tb = cli_view_table(v);

	for (size_t i = 0; tb && i < ps->n; i++) {
		const struct cli_proc *p = &ps->v[i];
		size_t n = threads && p->nthreads ? p->nthreads : 1;

		if (v->no_kthreads && p->kthread)
			continue;
		for (size_t k = 0; tb && k < n; k++) {
			if (!cli_view_line(v, tb, NULL, p, threads ? k : 0)) {
				scols_unref_table(tb);
				tb = NULL;
			}
		}
	}
	if (!tb) {
		cli_fail(v->cmd, &(struct cli_failure){ .err = -ENOMEM }, "cannot make the table");
		return CLI_EXIT_FAIL;
	}
	return cli_view_print(v, tb);
}

/* The options; -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct cli_view *v, bool *threads)
{
	enum { OPT_THREADS = 256 };
	static const struct option longopts[] = {
		{ "threads", no_argument, NULL, OPT_THREADS },
		CLI_VIEW_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int table[] = { COL_PID, COL_PPID,	  COL_TUPLE, COL_PGID,
				     COL_SID, COL_NEWPID, COL_COMM };
	static const int json[] = { COL_PID,	COL_PPID,  COL_TUPLE, COL_COMM,
				    COL_NEWPID, COL_NS_ID, COL_PGID,  COL_SID };
	int table_cols[CLI_NCOLS + 1], json_cols[CLI_NCOLS + 1];
	size_t ntable, njson;
	struct cli_args a;
	int opt, r;

	cli_args_init(&a, "ps", argc, argv, 0);
	while ((opt = cli_args_next(&a, "-:h" CLI_VIEW_SHORTOPTS, longopts)) != -1)
		if (!cli_view_option(v, opt, optarg))
			*threads = true; /* OPT_THREADS */
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos)
		return cli_usage_error("ps", "unexpected argument '%s'", a.pos[0]);
	ntable = cli_cols_with_tid(table, sizeof(table) / sizeof(*table), *threads, table_cols);
	njson = cli_cols_with_tid(json, sizeof(json) / sizeof(*json), *threads, json_cols);
	return cli_view_setup(v, table_cols, ntable, json_cols, njson);
}

/* The scan's flags: command names only where they are shown or tell kernel threads apart (the
 * scan entries mostly carry both; /proc is read for those that do not). */
static unsigned int scan_flags(const struct cli_view *v, bool threads)
{
	unsigned int flags = threads ? CLI_SCAN_THREADS : 0;

	for (size_t i = 0; i < v->ncols; i++)
		if (v->cols[i] == COL_COMM)
			flags |= CLI_SCAN_COMM | CLI_SCAN_COMM_ONLY;
	if (v->no_kthreads)
		flags = (flags | CLI_SCAN_COMM) & ~CLI_SCAN_COMM_ONLY;
	return flags;
}

int cmd_ps(int argc, char **argv)
{
	static char outbuf[1 << 16]; /* one write per 64 KiB of output */
	struct cli_view v = { .cmd = "ps" };
	struct cli_procs ps;
	bool threads = false;
	int r;

	r = parse_args(argc, argv, &v, &threads);
	if (r >= 0)
		return r;
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	r = cli_scan(scan_flags(&v, threads), &ps);
	if (r < 0) {
		cli_fail("ps", &(struct cli_failure){ .err = r }, "cannot read the PID namespace");
		return CLI_EXIT_FAIL;
	}
	r = list(&v, &ps, threads);
	cli_procs_free(&ps);
	return r;
}
