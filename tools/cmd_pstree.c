/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple tree [PID]: the process tree with each process's tuple and the places where a PID
 * namespace begins, drawn by libsmartcols as findmnt and lsblk draw theirs. */
#include <errno.h>
#include <getopt.h>
#include <libsmartcols/libsmartcols.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli.h"
#include "cols.h"
#include "procs.h"

void help_tree(FILE *out)
{
	fputs("Usage: pidtuple tree [--ascii | --unicode] [--threads] [--no-kthreads]\n"
	      "                     [-o COLUMNS] [-J | -r] [-n] [PID]\n"
	      "\n"
	      "Draw the process tree rooted at PID, or every process of the caller's PID\n"
	      "namespace and of the namespaces below it, rooted at the processes whose parent\n"
	      "is outside it. One line per process, below its parent: by default its command\n"
	      "name, its PID tuple and 'new' in the NEWPID column for the init of a PID\n"
	      "namespace below the caller's, where a namespace begins. Children are sorted by\n"
	      "PID. Processes that exit meanwhile are left out.\n"
	      "\n"
	      "Options:\n"
	      "  -A, --ascii         draw the branches with ASCII characters (the default unless\n"
	      "                      the output is a terminal and the locale uses UTF-8)\n"
	      "      --unicode       draw them with UTF-8 box-drawing characters (-U, an older\n"
	      "                      spelling, is deprecated: unshare's -U is --user)\n"
	      "      --threads       a line for each other thread of a process, below it and\n"
	      "                      before its children, by TID: its TID tuple, and its\n"
	      "                      process's command name in braces\n"
	      "      --no-kthreads   leave out kernel threads (kthreadd and its children)\n"
	      "  -o, --output LIST   the columns to print, e.g. COMM,PID,TUPLE; the first one\n"
	      "                      carries the tree; '+LIST' adds them to the default ones\n"
	      "      --list-columns  list the columns and exit\n"
	      "  -J, --json          print JSON: {\"processes\": [...]}, each process with its\n"
	      "                      \"children\"\n"
	      "  -r, --raw           columns separated by one space, without the tree\n"
	      "  -n, --noheadings    no header line\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "Columns (default: COMM,TUPLE,NEWPID; with --json\n"
	      "PID,PPID,TUPLE,COMM,NEWPID,NS_ID,PGID,SID, with TID after PID for --threads):\n",
	      out);
	cli_cols_help(out);
	fputs("\n"
	      "In JSON every tuple is an array of integers, outermost first.\n"
	      "\n"
	      "Exit status: 0 when the tree was printed; 1 when the namespace could not be read\n"
	      "or PID is not in it; 2 on a usage error.\n",
	      out);
}

/* The scan as a tree: children in PID order through first/next links. */
struct forest {
	const struct cli_procs *ps;
	const struct cli_view *v;
	bool threads; /* --threads: each process's other threads below it */
	struct libscols_table *tb;
	size_t *first, *next; /* SIZE_MAX: none */
	size_t *parent;	      /* SIZE_MAX: a root (parent outside the scan) */
	bool *seen;	      /* drawn already: a number reused mid-scan cannot loop */
};

static void forest_free(struct forest *f)
{
	free(f->first);
	free(f->next);
	free(f->parent);
	free(f->seen);
}

static void link_children(struct forest *f)
{
	const struct cli_procs *ps = f->ps;

	for (size_t i = 0; i < ps->n; i++) {
		const struct cli_proc *pp = NULL;

		if (ps->v[i].ppid > 0 && ps->v[i].ppid != ps->v[i].pid)
			pp = cli_procs_find(ps, ps->v[i].ppid);
		f->parent[i] = pp ? (size_t)(pp - ps->v) : SIZE_MAX;
		f->first[i] = f->next[i] = SIZE_MAX;
	}
	/* Backwards, prepending: each list ends up in PID order. */
	for (size_t i = ps->n; i-- > 0;) {
		size_t p = f->parent[i];

		if (p != SIZE_MAX) {
			f->next[i] = f->first[p];
			f->first[p] = i;
		}
	}
}

static int forest_init(struct forest *f, const struct cli_procs *ps, const struct cli_view *v,
		       bool threads)
{
	size_t n = ps->n ? ps->n : 1;

	*f = (struct forest){ .ps = ps, .v = v, .threads = threads };
	f->first = malloc(n * sizeof(*f->first));
	f->next = malloc(n * sizeof(*f->next));
	f->parent = malloc(n * sizeof(*f->parent));
	f->seen = calloc(n, sizeof(*f->seen));
	if (!f->first || !f->next || !f->parent || !f->seen) {
		forest_free(f);
		return -ENOMEM;
	}
	link_children(f);
	return 0;
}

/* Adds node @i and its subtree below @parent; a hidden kernel thread takes its own along. */
static int add(struct forest *f, size_t i, struct libscols_line *parent)
{
	struct libscols_line *ln;
	int r = 0;

	f->seen[i] = true;
	if (f->v->no_kthreads && f->ps->v[i].kthread)
		return 0;
	ln = cli_view_line(f->v, f->tb, parent, &f->ps->v[i], 0);
	if (!ln)
		return -ENOMEM;
	/* The leader is the process's own line; the scan sorted the others by TID. */
	for (size_t k = 1; f->threads && k < f->ps->v[i].nthreads; k++)
		if (!cli_view_line(f->v, f->tb, ln, &f->ps->v[i], k))
			return -ENOMEM;
	for (size_t c = f->first[i]; r == 0 && c != SIZE_MAX; c = f->next[c])
		if (!f->seen[c])
			r = add(f, c, ln);
	return r;
}

/* The roots: @root alone, or every process without a parent in the scan, then whatever a
 * reused number hid in a loop. */
static int add_roots(struct forest *f, ssize_t root)
{
	int r = 0;

	if (root >= 0)
		return add(f, (size_t)root, NULL);
	for (int pass = 0; pass < 2 && r == 0; pass++)
		for (size_t i = 0; r == 0 && i < f->ps->n; i++)
			if (!f->seen[i] && (pass || f->parent[i] == SIZE_MAX))
				r = add(f, i, NULL);
	return r;
}

static int draw(const struct cli_view *v, const struct cli_procs *ps, ssize_t root, bool threads)
{
	struct forest f;
	int r = forest_init(&f, ps, v, threads);

	if (r == 0) {
		f.tb = cli_view_table(v);
		r = f.tb ? add_roots(&f, root) : -ENOMEM;
		forest_free(&f);
	}
	if (r == 0)
		return cli_view_print(v, f.tb);
	scols_unref_table(f.tb);
	cli_fail("tree", &(struct cli_failure){ .err = r }, "cannot draw the tree");
	return CLI_EXIT_FAIL;
}

/* The options; -1 to go on, or the exit status. */
static int parse_args(int argc, char **argv, struct cli_view *v, pid_t *pid, bool *threads)
{
	enum { OPT_UNICODE = 256, OPT_THREADS };
	static const struct option longopts[] = {
		{ "ascii", no_argument, NULL, 'A' },
		{ "unicode", no_argument, NULL, OPT_UNICODE },
		{ "threads", no_argument, NULL, OPT_THREADS },
		CLI_VIEW_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const int table[] = { COL_COMM, COL_TUPLE, COL_NEWPID };
	static const int json[] = { COL_PID,	COL_PPID,  COL_TUPLE, COL_COMM,
				    COL_NEWPID, COL_NS_ID, COL_PGID,  COL_SID };
	int json_cols[CLI_NCOLS + 1];
	struct cli_args a;
	size_t njson;
	int opt, r;

	cli_args_init(&a, "tree", argc, argv, 0);
	while ((opt = cli_args_next(&a, "-:hAU" CLI_VIEW_SHORTOPTS, longopts)) != -1) {
		if (opt == 'U')
			cli_error("tree", "note: -U is deprecated, use --unicode");
		if (opt == OPT_THREADS)
			*threads = true;
		else if (!cli_view_option(v, opt, optarg))
			v->glyphs = opt == 'A' ? 'A' : 'U';
	}
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos > 1)
		return cli_usage_error("tree", "too many arguments");
	if (a.npos == 1 && cli_parse_pid(a.pos[0], pid) < 0)
		return cli_usage_error("tree", "'%s' is not a PID", a.pos[0]);
	njson = cli_cols_with_tid(json, sizeof(json) / sizeof(*json), *threads, json_cols);
	return cli_view_setup(v, table, sizeof(table) / sizeof(*table), json_cols, njson);
}

int cmd_tree(int argc, char **argv)
{
	struct cli_view v = { .cmd = "tree", .tree = true };
	const struct cli_proc *p;
	struct cli_procs ps;
	bool threads = false;
	pid_t pid = 0;
	int r;

	r = parse_args(argc, argv, &v, &pid, &threads);
	if (r >= 0)
		return r;
	r = cli_scan(CLI_SCAN_COMM | (threads ? CLI_SCAN_THREADS : 0), &ps);
	if (r < 0) {
		cli_fail("tree", &(struct cli_failure){ .err = r },
			 "cannot read the PID namespace");
		return CLI_EXIT_FAIL;
	}
	p = pid ? cli_procs_find(&ps, pid) : NULL;
	if (pid && !p) {
		cli_fail("tree", &(struct cli_failure){ .err = -ESRCH, .pid = pid }, "PID %d",
			 (int)pid);
		r = CLI_EXIT_FAIL;
	} else {
		r = draw(&v, &ps, p ? p - ps.v : -1, threads);
	}
	cli_procs_free(&ps);
	return r;
}
