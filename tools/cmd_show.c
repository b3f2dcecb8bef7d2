/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple show PID...: the tuples of running processes, as the kernel reports them. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "procs.h"

void help_show(FILE *out)
{
	fputs("Usage: pidtuple show [--threads] [--pgid] [--sid] PID...\n"
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
};

/* Appends "\tTUPLE" of @pid's @kind (or @t when given) to @buf. */
static int add_field(char *buf, size_t size, pid_t pid, uint32_t kind, const struct pidtuple *t)
{
	struct pidtuple *own = NULL;
	size_t len = strlen(buf);
	int r = 0;

	if (!t) {
		r = pidtuple_read(pid, kind, NULL, &own);
		t = own;
	}
	if (r == 0 && len + 1 < size) {
		buf[len] = '\t';
		r = pidtuple_format(t, buf + len + 1, size - len - 1);
	}
	pidtuple_free(own);
	return r < 0 ? r : 0;
}

/* The groups' fields of @pid; from the scan @p when given. */
static int group_fields(const struct show_args *a, pid_t pid, const struct cli_proc *p, char *buf,
			size_t size)
{
	int r = 0;

	buf[0] = '\0';
	if (a->pgid)
		r = add_field(buf, size, pid, PIDTUPLE_KIND_PGID, p ? p->pgid : NULL);
	if (r == 0 && a->sid)
		r = add_field(buf, size, pid, PIDTUPLE_KIND_SID, p ? p->sid : NULL);
	return r;
}

static int show_one(const struct show_args *a, pid_t pid)
{
	char text[CLI_TUPLE_TEXT_MAX], groups[2 * CLI_TUPLE_TEXT_MAX + 2];
	const struct cli_proc *p = NULL;
	struct pidtuple *t = NULL;
	int r;

	if (a->threads) {
		p = cli_procs_find(a->ps, pid);
		if (!p)
			return -ESRCH;
		r = group_fields(a, pid, p, groups, sizeof(groups));
		for (size_t i = 0; r == 0 && i < p->nthreads; i++) {
			cli_format(p->threads[i].tuple, text, sizeof(text));
			printf("%d\t%d\t%s%s\n", (int)pid, (int)p->threads[i].tid, text, groups);
		}
		return r;
	}
	r = pidtuple_of_pid(pid, &t);
	if (r == 0)
		r = pidtuple_format(t, text, sizeof(text));
	pidtuple_free(t);
	if (r >= 0)
		r = group_fields(a, pid, NULL, groups, sizeof(groups));
	if (r < 0)
		return r;
	printf("%d\t%s%s\n", (int)pid, text, groups);
	return 0;
}

int cmd_show(int argc, char **argv)
{
	enum { OPT_THREADS = 256, OPT_PGID, OPT_SID };
	static const struct option longopts[] = {
		{ "threads", no_argument, NULL, OPT_THREADS },
		{ "pgid", no_argument, NULL, OPT_PGID },
		{ "sid", no_argument, NULL, OPT_SID },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct show_args a = { 0 };
	struct cli_procs ps = { NULL, 0 };
	int opt, r, status = CLI_EXIT_OK;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == OPT_THREADS)
			a.threads = true;
		else if (opt == OPT_PGID)
			a.pgid = true;
		else if (opt == OPT_SID)
			a.sid = true;
		else
			return cli_getopt_exit("show", opt, argv);
	}
	if (optind >= argc)
		return cli_usage_error("show", "no PID given");
	/* Check every argument first so that a typo prints nothing half-done. */
	for (int i = optind; i < argc; i++) {
		pid_t pid;

		if (cli_parse_pid(argv[i], &pid) < 0)
			return cli_usage_error("show", "'%s' is not a PID", argv[i]);
	}
	/* Threads are listed by a scan: /proc may number them in another namespace. */
	if (a.threads) {
		r = cli_scan(CLI_SCAN_THREADS, &ps);
		if (r < 0) {
			cli_error("show", "cannot read the PID namespace: %s",
				  pidtuple_strerror(r));
			return CLI_EXIT_FAIL;
		}
		a.ps = &ps;
	}

	for (int i = optind; i < argc; i++) {
		pid_t pid;

		cli_parse_pid(argv[i], &pid);
		r = show_one(&a, pid);
		if (r < 0) {
			fflush(stdout); /* keep the lines in order when both go to one file */
			cli_error("show", "PID %d: %s", (int)pid, pidtuple_strerror(r));
			status = CLI_EXIT_FAIL;
		}
	}
	cli_procs_free(&ps);
	return cli_flush("show", status);
}
