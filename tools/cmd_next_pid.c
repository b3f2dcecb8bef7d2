/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple next-pid: read or move this namespace's allocator, under the ns_last_pid lock. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

void help_next_pid(FILE *out)
{
	fputs("Usage: pidtuple next-pid [--json] [N]\n"
	      "\n"
	      "Without N, print where this PID namespace looks for its next automatic PID.\n"
	      "With N, move it so that ordinary forks get the first free PID from N on, under\n"
	      "the ns_last_pid lock that cooperating restore tools share, and print the value\n"
	      "read back. Use it to push forks away from a range before restoring into it;\n"
	      "forks with set_tid (pidtuple run) are not affected.\n"
	      "\n"
	      "Options:\n"
	      "      --json  print {\"next_pid\": N}, or why it failed, as JSON\n"
	      "  -h, --help  show this help\n",
	      out);
}

static int print_next(int next)
{
	json_object *o;

	if (!cli_json) {
		printf("%d\n", next);
		return cli_flush("next-pid", CLI_EXIT_OK);
	}
	o = json_object_new_object();
	if (o && !cli_json_put(o, "next_pid", json_object_new_int(next))) {
		json_object_put(o);
		o = NULL;
	}
	return cli_print_json("next-pid", o, CLI_EXIT_OK);
}

int cmd_next_pid(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag);
	struct cli_args a;
	pid_t n = 0;
	int r;

	cli_args_init(&a, "next-pid", argc, argv, 0);
	while (cli_args_next(&a, "-:h", longopts) != -1)
		;
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos > 1)
		return cli_usage_error("next-pid", "too many arguments");
	if (a.npos == 1 && cli_parse_pid(a.pos[0], &n) < 0)
		return cli_usage_error("next-pid", "'%s' is not a PID", a.pos[0]);
	r = n ? pidtuple_set_next_pid(n, &opts) : pidtuple_get_next_pid();
	if (r >= 0)
		return print_next(r);
	if (n)
		cli_fail("next-pid", &(struct cli_failure){ .err = r, .diag = &diag },
			 "cannot move the next PID to %d", (int)n);
	else
		cli_fail("next-pid", &(struct cli_failure){ .err = r }, "cannot read the next PID");
	return CLI_EXIT_FAIL;
}
