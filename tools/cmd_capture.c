/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple capture PID: describe a live process tree as JSON (docs/tree-json.md). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pidtuple-json.h"

void help_capture(FILE *out)
{
	fputs("Usage: pidtuple capture [--compact] [--json] PID\n"
	      "\n"
	      "Describe the process PID and all its descendants as JSON on standard output:\n"
	      "each process's PID tuple from this PID namespace down to its own, its parent,\n"
	      "its process group and session at every level, where a new PID namespace\n"
	      "begins, and the TID tuples of its other threads. A group or session whose\n"
	      "leader is outside the tree (the shell a job was started from) or gone is\n"
	      "marked \"outside\", which 'pidtuple restore' names when it needs --shell-job.\n"
	      "'pidtuple restore' creates the same tree again from it, threads included;\n"
	      "capturing the restored tree gives the same text. The format is described in\n"
	      "pidtuple-json(5).\n"
	      "\n"
	      "Options:\n"
	      "      --compact  one line without spaces instead of indented text\n"
	      "      --json     when the tree cannot be read, say why as JSON on standard\n"
	      "                 output (the description is JSON already)\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Exit status: 0 when the tree was printed; 1 when it could not be read; 2 on a\n"
	      "usage error.\n",
	      out);
}

int cmd_capture(int argc, char **argv)
{
	enum { OPT_COMPACT = 256 };
	static const struct option longopts[] = {
		{ "compact", no_argument, NULL, OPT_COMPACT },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pidtuple_tree *tree;
	uint32_t flags = PIDTUPLE_JSON_PRETTY;
	struct cli_args a;
	char *text;
	pid_t pid;
	int r;

	cli_args_init(&a, "capture", argc, argv, 0);
	while (cli_args_next(&a, "-:h", longopts) != -1)
		flags = 0; /* --compact, the only option of capture's own */
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos == 0)
		return cli_usage_error("capture", "no PID given");
	if (a.npos > 1)
		return cli_usage_error("capture", "too many arguments");
	if (cli_parse_pid(a.pos[0], &pid) < 0)
		return cli_usage_error("capture", "'%s' is not a PID", a.pos[0]);

	r = pidtuple_tree_capture(pid, &tree);
	if (r < 0) {
		cli_fail("capture", &(struct cli_failure){ .err = r, .pid = pid },
			 "cannot read the tree of PID %d", (int)pid);
		return CLI_EXIT_FAIL;
	}
	r = pidtuple_tree_to_json(tree, flags, &text);
	pidtuple_tree_free(tree);
	if (r < 0) {
		cli_fail("capture", &(struct cli_failure){ .err = r, .pid = pid },
			 "cannot write the tree of PID %d as JSON", (int)pid);
		return CLI_EXIT_FAIL;
	}
	puts(text);
	free(text);
	return cli_flush("capture", CLI_EXIT_OK);
}
