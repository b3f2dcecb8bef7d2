/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple next-pid: read or move this namespace's allocator, under the ns_last_pid lock. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void help_next_pid(FILE *out)
{
	fputs("Usage: pidtuple next-pid [N]\n"
	      "\n"
	      "Without N, print where this PID namespace looks for its next automatic PID.\n"
	      "With N, move it so that ordinary forks get the first free PID from N on, under\n"
	      "the ns_last_pid lock that cooperating restore tools share, and print the value\n"
	      "read back. Use it to push forks away from a range before restoring into it;\n"
	      "forks with set_tid (pidtuple run) are not affected.\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help  show this help\n",
	      out);
}

int cmd_next_pid(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag);
	int opt, r;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1)
		return cli_getopt_exit("next-pid", opt, argv);
	if (argc - optind > 1)
		return cli_usage_error("next-pid", "too many arguments");
	if (optind == argc) {
		r = pidtuple_get_next_pid();
	} else {
		char *end;
		long n = strtol(argv[optind], &end, 10);

		if (*argv[optind] == '\0' || *end || n < 1 || n > 0x7fffffff)
			return cli_usage_error("next-pid", "'%s' is not a PID", argv[optind]);
		r = pidtuple_set_next_pid((pid_t)n, &opts);
	}
	if (r < 0) {
		cli_error("next-pid", "%s", pidtuple_strerror(r));
		cli_print_diag("next-pid", &diag);
		return CLI_EXIT_FAIL;
	}
	printf("%d\n", r);
	return CLI_EXIT_OK;
}
