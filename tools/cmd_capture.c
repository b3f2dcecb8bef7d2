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
	fputs("Usage: pidtuple capture [--compact] PID\n"
	      "\n"
	      "Describe the process PID and all its descendants as JSON on standard output:\n"
	      "each process's PID tuple from this PID namespace down to its own, its parent,\n"
	      "its process group and session at every level, and where a new PID namespace\n"
	      "begins. 'pidtuple restore' creates the same tree again from it; capturing the\n"
	      "restored tree gives the same text. The format is described in pidtuple-json(5).\n"
	      "\n"
	      "Options:\n"
	      "      --compact  one line without spaces instead of indented text\n"
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pidtuple_tree *tree;
	uint32_t flags = PIDTUPLE_JSON_PRETTY;
	char *text;
	pid_t pid;
	int opt, r;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (opt == OPT_COMPACT)
			flags = 0;
		else
			return cli_getopt_exit("capture", opt, argv);
	}
	if (optind >= argc)
		return cli_usage_error("capture", "no PID given");
	if (argc - optind > 1)
		return cli_usage_error("capture", "too many arguments");
	if (cli_parse_pid(argv[optind], &pid) < 0)
		return cli_usage_error("capture", "'%s' is not a PID", argv[optind]);

	r = pidtuple_tree_capture(pid, &tree);
	if (r < 0) {
		cli_error("capture", "cannot read the tree of PID %d: %s", (int)pid,
			  pidtuple_strerror(r));
		return CLI_EXIT_FAIL;
	}
	r = pidtuple_tree_to_json(tree, flags, &text);
	pidtuple_tree_free(tree);
	if (r < 0) {
		cli_error("capture", "cannot write the tree of PID %d as JSON: %s", (int)pid,
			  pidtuple_strerror(r));
		return CLI_EXIT_FAIL;
	}
	puts(text);
	free(text);
	return cli_flush("capture", CLI_EXIT_OK);
}
