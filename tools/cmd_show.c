/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple show PID...: the tuples of running processes, as the kernel reports them. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "procs.h"

void help_show(FILE *out)
{
	fputs("Usage: pidtuple show [--threads] [--pgid] [--sid] [--json] PID...\n"
	      "\n"
	      "Print the PID tuple of each process as the kernel reports it, from the caller's\n"
	      "PID namespace down to the process's own: one line per process, PID, a tab and\n"
	      "the tuple outermost first (the caller's namespace first), e.g. '4242\\t4242/17/1'.\n"
	      "PID is a process ID as the caller's PID namespace numbers it.\n"
	      "\n"
	      "Options:\n"
	      "      --threads  one line per thread of the process instead, the leader\n"
	      "                 first, then by TID: PID, TID and the TID tuple\n"
	      "      --pgid     add a field: the process group ID tuple\n"
	      "      --sid      add a field: the session ID tuple\n"
	      "      --json     print {\"processes\": [...]} instead, each tuple an array of\n"
	      "                 integers outermost first; a process that cannot be read is\n"
	      "                 {\"pid\": N, \"error\": {...}}, the first also at the top\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Fields are separated by tabs, in the order PID, [TID,] tuple, [PGID,] [SID]. A\n"
	      "group or session tuple has 0 at the levels where it is not visible (it was made\n"
	      "in an outer namespace), e.g. '4242/17/0'.\n"
	      "\n"
	      "Exit status: 0 when every tuple was printed; 1 when a process could not be read\n"
	      "(the others are still printed); 2 on a usage error.\n",
	      out);
}

struct show_args {
	bool threads, pgid, sid;
	const struct cli_procs *ps; /* with --threads */
	json_object *list, *error;  /* with --json */
};

/* What is shown of one process: its tuples, read here or found in the scan. */
struct shown {
	const struct pidtuple *tuple, *pgid, *sid;
	const struct cli_proc *p; /* with --threads */
	struct pidtuple *own[3];
};

static int gather(const struct show_args *a, pid_t pid, struct shown *s)
{
	int r = 0;

	*s = (struct shown){ 0 };
	if (a->threads) {
		s->p = cli_procs_find(a->ps, pid);
		if (!s->p)
			return -ESRCH;
		s->tuple = s->p->tuple;
		s->pgid = s->p->pgid;
		s->sid = s->p->sid;
		return 0;
	}
	r = pidtuple_of_pid(pid, &s->own[0]);
	if (r == 0 && a->pgid)
		r = pidtuple_read(pid, PIDTUPLE_KIND_PGID, NULL, &s->own[1]);
	if (r == 0 && a->sid)
		r = pidtuple_read(pid, PIDTUPLE_KIND_SID, NULL, &s->own[2]);
	s->tuple = s->own[0];
	s->pgid = s->own[1];
	s->sid = s->own[2];
	return r;
}

static void shown_free(struct shown *s)
{
	for (int i = 0; i < 3; i++)
		pidtuple_free(s->own[i]);
}

static void print_text(const struct show_args *a, pid_t pid, const struct shown *s)
{
	char text[CLI_TUPLE_TEXT_MAX], groups[2 * CLI_TUPLE_TEXT_MAX + 2] = "";
	size_t len;

	if (a->pgid) {
		groups[0] = '\t';
		cli_format(s->pgid, groups + 1, CLI_TUPLE_TEXT_MAX);
	}
	if (a->sid) {
		len = strlen(groups);
		groups[len] = '\t';
		cli_format(s->sid, groups + len + 1, CLI_TUPLE_TEXT_MAX);
	}
	for (size_t i = 0; s->p && i < s->p->nthreads; i++) {
		cli_format(s->p->threads[i].tuple, text, sizeof(text));
		printf("%d\t%d\t%s%s\n", (int)pid, (int)s->p->threads[i].tid, text, groups);
	}
	if (!s->p) {
		cli_format(s->tuple, text, sizeof(text));
		printf("%d\t%s%s\n", (int)pid, text, groups);
	}
}

static json_object *threads_json(const struct cli_proc *p)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < p->nthreads; i++) {
		json_object *t = json_object_new_object();

		if (!t || !cli_json_put(t, "tid", json_object_new_int(p->threads[i].tid)) ||
		    !cli_json_put(t, "tuple", cli_tuple_json(p->threads[i].tuple)) ||
		    json_object_array_add(arr, t) < 0) {
			json_object_put(t);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/* {"pid": N, "tuple": [...], "pgid": [...], "sid": [...], "threads": [...]}. */
static json_object *entry_json(const struct show_args *a, pid_t pid, const struct shown *s)
{
	json_object *o = json_object_new_object();

	if (o && cli_json_put(o, "pid", json_object_new_int(pid)) &&
	    cli_json_put(o, "tuple", cli_tuple_json(s->tuple)) &&
	    (!a->pgid || cli_json_put(o, "pgid", cli_tuple_json(s->pgid))) &&
	    (!a->sid || cli_json_put(o, "sid", cli_tuple_json(s->sid))) &&
	    (!s->p || cli_json_put(o, "threads", threads_json(s->p))))
		return o;
	json_object_put(o);
	return NULL;
}

/* {"pid": N, "error": {...}}; the first one is also the whole answer's error. */
static json_object *error_entry(struct show_args *a, pid_t pid, const struct cli_failure *f,
				const char *what)
{
	json_object *o = json_object_new_object();

	if (!a->error)
		a->error = cli_failure_json(f, what);
	if (o && cli_json_put(o, "pid", json_object_new_int(pid)) &&
	    cli_json_put(o, "error", cli_failure_json(f, what)))
		return o;
	json_object_put(o);
	return NULL;
}

/* Shows @pid; false when it could not be read (and says why). */
static bool show_one(struct show_args *a, pid_t pid)
{
	struct shown s;
	json_object *o = NULL;
	int r = gather(a, pid, &s);
	char what[32];

	if (r < 0) {
		struct cli_failure f = { .err = r, .pid = pid };

		snprintf(what, sizeof(what), "PID %d", (int)pid);
		fflush(stdout); /* keep the lines in order when both go to one file */
		cli_fail_text("show", &f, what);
		if (a->list)
			o = error_entry(a, pid, &f, what);
	} else if (a->list) {
		o = entry_json(a, pid, &s);
	} else {
		print_text(a, pid, &s);
	}
	shown_free(&s);
	if (a->list && (!o || json_object_array_add(a->list, o) < 0)) {
		json_object_put(o);
		json_object_put(a->list);
		a->list = NULL; /* out of memory: reported at the end */
	}
	return r == 0;
}

/* {"processes": [...], "error": {...}}. */
static int print_all(struct show_args *a, int status)
{
	json_object *root = json_object_new_object();

	if (!root || !a->list) {
		json_object_put(a->list);
		json_object_put(a->error);
		json_object_put(root);
		return cli_print_json("show", NULL, status);
	}
	/* cli_json_put() frees what it cannot add; root frees what it holds. */
	if (!cli_json_put(root, "processes", a->list)) {
		json_object_put(a->error);
		a->error = NULL;
		json_object_put(root);
		root = NULL;
	} else if (a->error && !cli_json_put(root, "error", a->error)) {
		json_object_put(root);
		root = NULL;
	}
	return cli_print_json("show", root, status);
}

static int parse_args(int argc, char **argv, struct cli_args *ca, struct show_args *a)
{
	enum { OPT_THREADS = 256, OPT_PGID, OPT_SID };
	static const struct option longopts[] = {
		{ "threads", no_argument, NULL, OPT_THREADS },
		{ "pgid", no_argument, NULL, OPT_PGID },
		{ "sid", no_argument, NULL, OPT_SID },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	cli_args_init(ca, "show", argc, argv, 0);
	while ((opt = cli_args_next(ca, "-:h", longopts)) != -1) {
		if (opt == OPT_THREADS)
			a->threads = true;
		else if (opt == OPT_PGID)
			a->pgid = true;
		else if (opt == OPT_SID)
			a->sid = true;
	}
	r = cli_args_done(ca);
	if (r >= 0)
		return r;
	if (ca->npos == 0)
		return cli_usage_error("show", "no PID given");
	/* Check every argument first so that a typo prints nothing half-done. */
	for (int i = 0; i < ca->npos; i++) {
		pid_t pid;

		if (cli_parse_pid(ca->pos[i], &pid) < 0)
			return cli_usage_error("show", "'%s' is not a PID", ca->pos[i]);
	}
	return -1;
}

int cmd_show(int argc, char **argv)
{
	struct show_args a = { 0 };
	struct cli_procs ps = { NULL, 0 };
	struct cli_args ca;
	int r, status = CLI_EXIT_OK;

	r = parse_args(argc, argv, &ca, &a);
	if (r >= 0)
		return r;
	/* Threads are listed by a scan: /proc may number them in another namespace. */
	if (a.threads) {
		r = cli_scan(CLI_SCAN_THREADS, &ps);
		if (r < 0) {
			cli_fail("show", &(struct cli_failure){ .err = r },
				 "cannot read the PID namespace");
			return CLI_EXIT_FAIL;
		}
		a.ps = &ps;
	}
	if (cli_json)
		a.list = json_object_new_array();
	for (int i = 0; i < ca.npos; i++) {
		pid_t pid;

		cli_parse_pid(ca.pos[i], &pid);
		if (!show_one(&a, pid))
			status = CLI_EXIT_FAIL;
	}
	cli_procs_free(&ps);
	if (cli_json)
		return print_all(&a, status);
	return cli_flush("show", status);
}
