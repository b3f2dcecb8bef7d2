/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple check TUPLE: the validator's verdict, without creating anything. */
#include <getopt.h>
#include <sched.h>

#include "cli.h"

void help_check(FILE *out)
{
	fputs("Usage: pidtuple check [--newpid] [--newuser] TUPLE\n"
	      "\n"
	      "Tell whether a process with exactly the PIDs of TUPLE could be created from here,\n"
	      "checking every kernel rule (range, init, privilege, PIDs in use) in the caller's\n"
	      "real namespaces, without creating anything. TUPLE is outermost first, e.g.\n"
	      "4242/17/1; it pins the innermost levels of the namespace a child would be born\n"
	      "in.\n"
	      "\n"
	      "Options:\n"
	      "      --newpid   the process would be the init of a new PID namespace\n"
	      "                 (CLONE_NEWPID): the innermost PID must be 1\n"
	      "      --newuser  the process would get a new user namespace (CLONE_NEWUSER)\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Prints 'TUPLE: valid' on success. When the tuple is not valid, stderr names the\n"
	      "rule, the level (inner index, 0 = innermost, and NSpid field, 0 = outermost) and\n"
	      "why. Levels above the caller's PID namespace cannot be checked from here: they\n"
	      "are left to the kernel and a note says so.\n"
	      "\n"
	      "Exit status: 0 valid (also when outer levels could not be checked); 1 not valid;\n"
	      "2 on a usage error or when TUPLE does not parse.\n",
	      out);
}

int cmd_check(int argc, char **argv)
{
	enum { OPT_NEWPID = 256, OPT_NEWUSER };
	static const struct option longopts[] = {
		{ "newpid", no_argument, NULL, OPT_NEWPID },
		{ "newuser", no_argument, NULL, OPT_NEWUSER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts);
	char text[CLI_TUPLE_TEXT_MAX];
	struct pidtuple *t;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_NEWPID:
			opts.clone_flags |= CLONE_NEWPID;
			break;
		case OPT_NEWUSER:
			opts.clone_flags |= CLONE_NEWUSER;
			break;
		default:
			return cli_getopt_exit("check", opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("check", "no TUPLE given");
	if (optind + 1 < argc)
		return cli_usage_error("check", "too many arguments: '%s'", argv[optind + 1]);
	r = cli_parse_tuple("check", argv[optind], &t);
	if (r)
		return r;

	pidtuple_format(t, text, sizeof(text));
	r = pidtuple_check(t, &opts, &diag);
	pidtuple_free(t);
	if (r < 0) {
		cli_error("check", "%s is not valid here: %s", text, pidtuple_strerror(r));
		cli_print_diag("check", &diag);
		return CLI_EXIT_FAIL;
	}
	printf("%s: valid\n", text);
	if (r > 0)
		cli_error("check",
			  "note: %d outer level(s) are above the caller's PID namespace and "
			  "could not be checked; the kernel will decide",
			  r);
	return CLI_EXIT_OK;
}
