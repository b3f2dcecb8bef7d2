/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple ps: every process of this PID namespace and those below it, with its tuples. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "cli.h"
#include "procs.h"

void help_ps(FILE *out)
{
	fputs("Usage: pidtuple ps [--threads] [--json]\n"
	      "\n"
	      "List every process of the caller's PID namespace and of the namespaces below it,\n"
	      "one line per process, sorted by PID: its PID and its parent's as the caller's\n"
	      "namespace numbers them, its PID tuple, its process group and session tuples (0\n"
	      "at the levels where they are not visible), 'new' in the NS column when the\n"
	      "process is the init of a PID namespace below the caller's (a namespace begins\n"
	      "there), and its command name. Processes that exit meanwhile are left out.\n"
	      "\n"
	      "Options:\n"
	      "      --threads  one line per thread, with its TID and its TID tuple\n"
	      "      --json     print a JSON array of objects instead of a table\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Exit status: 0 when the list was printed; 1 when the namespace could not be\n"
	      "read; 2 on a usage error.\n",
	      out);
}

struct ps_row {
	pid_t pid, tid, ppid;
	const char *ns;
	char tuple[CLI_TUPLE_TEXT_MAX], pgid[CLI_TUPLE_TEXT_MAX], sid[CLI_TUPLE_TEXT_MAX];
	char comm[CLI_COMM_MAX];
};

struct ps_widths {
	int pid, tid, ppid, tuple, pgid, sid;
};

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static void row_fill(struct ps_row *row, const struct cli_proc *p, size_t thread)
{
	const struct pidtuple *t = p->nthreads ? p->threads[thread].tuple : p->tuple;

	row->pid = p->pid;
	row->tid = p->nthreads ? p->threads[thread].tid : p->pid;
	row->ppid = p->ppid;
	row->ns = p->flags & PIDTUPLE_ENTRY_NS_INIT ? "new" : "-";
	cli_format(t, row->tuple, sizeof(row->tuple));
	cli_format(p->pgid, row->pgid, sizeof(row->pgid));
	cli_format(p->sid, row->sid, sizeof(row->sid));
	cli_sanitize(p->comm, row->comm, sizeof(row->comm));
}

static void row_widths(const struct ps_row *row, struct ps_widths *w)
{
	char num[16];

	w->pid = max_int(w->pid, snprintf(num, sizeof(num), "%d", (int)row->pid));
	w->tid = max_int(w->tid, snprintf(num, sizeof(num), "%d", (int)row->tid));
	w->ppid = max_int(w->ppid, snprintf(num, sizeof(num), "%d", (int)row->ppid));
	w->tuple = max_int(w->tuple, (int)strlen(row->tuple));
	w->pgid = max_int(w->pgid, (int)strlen(row->pgid));
	w->sid = max_int(w->sid, (int)strlen(row->sid));
}

static void row_print(const struct ps_row *row, const struct ps_widths *w, bool threads)
{
	printf("%*d ", w->pid, (int)row->pid);
	if (threads)
		printf("%*d ", w->tid, (int)row->tid);
	printf("%*d %-*s %-*s %-*s %-3s %s\n", w->ppid, (int)row->ppid, w->tuple, row->tuple,
	       w->pgid, row->pgid, w->sid, row->sid, row->ns, row->comm);
}

static void ps_table(const struct cli_procs *ps, bool threads)
{
	struct ps_widths w = { 3, 3, 4, 5, 4, 3 }; /* the headers' widths */
	struct ps_row row;

	/* Two passes: widths first, so the table needs no memory of its own. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			printf("%*s ", w.pid, "PID");
			if (threads)
				printf("%*s ", w.tid, "TID");
			printf("%*s %-*s %-*s %-*s %-3s %s\n", w.ppid, "PPID", w.tuple, "TUPLE",
			       w.pgid, "PGID", w.sid, "SID", "NS", "COMM");
		}
		for (size_t i = 0; i < ps->n; i++) {
			const struct cli_proc *p = &ps->v[i];
			size_t n = threads && p->nthreads ? p->nthreads : 1;

			for (size_t k = 0; k < n; k++) {
				row_fill(&row, p, threads ? k : 0);
				if (pass == 0)
					row_widths(&row, &w);
				else
					row_print(&row, &w, threads);
			}
		}
	}
}

static json_object *threads_json(const struct cli_proc *p)
{
	json_object *a = json_object_new_array();

	for (size_t k = 0; a && k < p->nthreads; k++) {
		char text[CLI_TUPLE_TEXT_MAX];
		json_object *t = json_object_new_object();

		cli_format(p->threads[k].tuple, text, sizeof(text));
		if (!t || !cli_json_put(t, "tid", json_object_new_int(p->threads[k].tid)) ||
		    !cli_json_put(t, "tuple", json_object_new_string(text)) ||
		    json_object_array_add(a, t) < 0) {
			json_object_put(t);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static int ps_json(const struct cli_procs *ps, bool threads)
{
	json_object *root = json_object_new_array();

	for (size_t i = 0; root && i < ps->n; i++) {
		json_object *o = cli_proc_json(&ps->v[i]);

		if (o && threads && !cli_json_put(o, "threads", threads_json(&ps->v[i]))) {
			json_object_put(o);
			o = NULL;
		}
		if (!o || json_object_array_add(root, o) < 0) {
			json_object_put(o);
			json_object_put(root);
			root = NULL;
		}
	}
	return cli_print_json("ps", root, CLI_EXIT_OK);
}

int cmd_ps(int argc, char **argv)
{
	enum { OPT_THREADS = 256 };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "threads", no_argument, NULL, OPT_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_procs ps;
	struct cli_args a;
	bool threads = false;
	int r, status;

	cli_args_init(&a, "ps", argc, argv, 0);
	while (cli_args_next(&a, "-:h", longopts) != -1)
		threads = true;
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos)
		return cli_usage_error("ps", "unexpected argument '%s'", a.pos[0]);

	r = cli_scan(CLI_SCAN_COMM | (threads ? CLI_SCAN_THREADS : 0), &ps);
	if (r < 0) {
		cli_fail("ps", &(struct cli_failure){ .err = r }, "cannot read the PID namespace");
		return CLI_EXIT_FAIL;
	}
	if (cli_json) {
		status = ps_json(&ps, threads);
	} else {
		ps_table(&ps, threads);
		status = cli_flush("ps", CLI_EXIT_OK);
	}
	cli_procs_free(&ps);
	return status;
}
