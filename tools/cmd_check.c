/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple check TUPLE: the validator's verdict, without creating anything. */
#include <getopt.h>
#include <json-c/json.h>
#include <sched.h>

#include "cli.h"

void help_check(FILE *out)
{
	fputs("Usage: pidtuple check [--newpid] [--newuser] [--ns PID|PATH] [--json] TUPLE\n"
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
	      "      --ns PID|PATH\n"
	      "                 the process would be born in the PID namespace of process PID\n"
	      "                 or of the namespace file PATH (as pidtuple run --ns); the\n"
	      "                 levels between it and the caller's are checked too\n"
	      "      --json     print the verdict, or why the tuple is not valid, as JSON\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Prints 'TUPLE: valid' on success. When the tuple is not valid, stderr gives the\n"
	      "rule that failed and one sentence saying why, with the PID's place in the tuple\n"
	      "as an NSpid field counted from 1, outermost first ('NSpid field 2 of 3' is 17 in\n"
	      "4242/17/1). Levels above the caller's PID namespace are checked where /proc\n"
	      "shows them (a /proc of an outer namespace shows its level); the others are left\n"
	      "to the kernel and a note says so.\n"
	      "\n"
	      "Exit status: 0 valid (also when outer levels could not be checked); 1 not valid;\n"
	      "2 on a usage error or when TUPLE does not parse.\n",
	      out);
}

/* {"tuple": [...], "valid": ..., "unverified": N} or {..., "error": {...}}. */
static int print_verdict(const struct pidtuple *t, int r, const struct cli_failure *f,
			 const char *what)
{
	json_object *o = json_object_new_object();

	if (o && cli_json_put(o, "tuple", cli_tuple_json(t)) &&
	    cli_json_put(o, "valid", json_object_new_boolean(r >= 0)) &&
	    (r < 0 ? cli_json_put(o, "error", cli_failure_json(f, what))
		   : cli_json_put(o, "unverified", json_object_new_int(r))))
		return cli_print_json("check", o, r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK);
	json_object_put(o);
	return cli_print_json("check", NULL, CLI_EXIT_FAIL);
}

static int check(const struct pidtuple *t, const struct pidtuple_fork_opts *opts)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	struct cli_failure f = { .diag = &diag };
	char text[CLI_TUPLE_TEXT_MAX], what[CLI_TUPLE_TEXT_MAX + 32];
	int r = pidtuple_check(t, opts, &diag);

	cli_format(t, text, sizeof(text));
	snprintf(what, sizeof(what), "%s is not valid here", text);
	f.err = r;
	if (r < 0)
		cli_fail_text("check", &f, what);
	if (r > 0)
		cli_error("check",
			  "note: %d outer level(s) are above the caller's PID namespace and "
			  "could not be checked; the kernel will decide",
			  r);
	if (cli_json)
		return print_verdict(t, r, &f, what);
	if (r < 0)
		return CLI_EXIT_FAIL;
	printf("%s: valid\n", text);
	return cli_flush("check", CLI_EXIT_OK);
}

int cmd_check(int argc, char **argv)
{
	enum { OPT_NEWPID = 256, OPT_NEWUSER, OPT_NS };
	static const struct option longopts[] = {
		{ "newpid", no_argument, NULL, OPT_NEWPID },
		{ "newuser", no_argument, NULL, OPT_NEWUSER },
		{ "ns", required_argument, NULL, OPT_NS },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts);
	const char *ns = NULL;
	struct cli_args a;
	struct pidtuple *t;
	int opt, r;

	cli_args_init(&a, "check", argc, argv, 0);
	while ((opt = cli_args_next(&a, "-:h", longopts)) != -1) {
		if (opt == OPT_NEWPID)
			opts.clone_flags |= CLONE_NEWPID;
		else if (opt == OPT_NEWUSER)
			opts.clone_flags |= CLONE_NEWUSER;
		else if (opt == OPT_NS)
			ns = optarg;
	}
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos == 0)
		return cli_usage_error("check", "no TUPLE given");
	if (a.npos > 1)
		return cli_usage_error("check", "too many arguments: '%s'", a.pos[1]);
	r = cli_parse_tuple("check", a.pos[0], &t);
	if (r)
		return r;
	r = cli_ns_open("check", ns, &opts);
	if (r == 0)
		r = check(t, &opts);
	cli_ns_close(&opts);
	pidtuple_free(t);
	return r;
}
