/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple show PID...: the tuples of running processes, as the kernel reports them. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>

#include "cli.h"

void help_show(FILE *out)
{
	fputs("Usage: pidtuple show PID...\n"
	      "\n"
	      "Print the PID tuple of each process as the kernel reports it, from the caller's\n"
	      "PID namespace down to the process's own: one line per process, PID, a tab and\n"
	      "the tuple outermost first (the caller's namespace first), e.g. '4242\\t4242/17/1'.\n"
	      "PID is a process ID as the caller's PID namespace numbers it.\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help  show this help\n"
	      "\n"
	      "Exit status: 0 when every tuple was printed; 1 when a process could not be read\n"
	      "(the others are still printed); 2 on a usage error.\n",
	      out);
}

/* Strict decimal PID: no sign, no junk, 1..INT_MAX. */
static int parse_pid(const char *s, pid_t *ret)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > INT_MAX)
		return -EINVAL;
	*ret = (pid_t)v;
	return 0;
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, status = CLI_EXIT_OK;

	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1)
		return cli_getopt_exit("show", opt, argv);
	if (optind >= argc)
		return cli_usage_error("show", "no PID given");
	/* Check every argument first so that a typo prints nothing half-done. */
	for (int i = optind; i < argc; i++) {
		pid_t pid;

		if (parse_pid(argv[i], &pid) < 0)
			return cli_usage_error("show", "'%s' is not a PID", argv[i]);
	}

	for (int i = optind; i < argc; i++) {
		char text[CLI_TUPLE_TEXT_MAX];
		struct pidtuple *t = NULL;
		pid_t pid;
		int r;

		parse_pid(argv[i], &pid);
		r = pidtuple_of_pid(pid, &t);
		if (r == 0)
			r = pidtuple_format(t, text, sizeof(text));
		pidtuple_free(t);
		if (r < 0) {
			fflush(stdout); /* keep the lines in order when both go to one file */
			cli_error("show", "PID %d: %s", (int)pid, pidtuple_strerror(r));
			status = CLI_EXIT_FAIL;
			continue;
		}
		printf("%d\t%s\n", (int)pid, text);
	}
	if (fflush(stdout) != 0) {
		cli_error("show", "cannot write the output: %s", pidtuple_strerror(errno));
		status = CLI_EXIT_FAIL;
	}
	return status;
}
