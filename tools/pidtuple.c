/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple: show, check and create processes with exact PIDs in nested PID namespaces. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define CLI_VERSION \
	STR(PIDTUPLE_VERSION_MAJOR) "." STR(PIDTUPLE_VERSION_MINOR) "." STR(PIDTUPLE_VERSION_PATCH)

static const struct cli_cmd cmds[] = {
	{ "show", "print the PID tuples of running processes", cmd_show, help_show },
	{ "ps", "list every process with its PID tuples", cmd_ps, help_ps },
	{ "tree", "draw the process tree with tuples and namespaces", cmd_tree, help_tree },
	{ "check", "tell whether a tuple could be created here, and why not", cmd_check,
	  help_check },
	{ "run", "run a command with exactly the PIDs of a tuple", cmd_run, help_run },
	{ "features", "what this kernel and sandbox allow, and why not", cmd_features,
	  help_features },
	{ "next-pid", "read or move this namespace's next automatic PID", cmd_next_pid,
	  help_next_pid },
#ifdef PIDTUPLE_CLI_TREE
	{ "capture", "describe a live process tree as JSON", cmd_capture, help_capture },
	{ "restore", "create a process tree from its JSON description", cmd_restore, help_restore },
	{ "import-criu", "a CRIU image's tree as JSON; check its PIDs and thread IDs",
	  cmd_import_criu, help_import_criu },
#endif
};

#define N_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct cli_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < N_CMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void help_main(FILE *out)
{
	fputs("Usage: pidtuple [--help | --version] COMMAND [ARG]...\n"
	      "\n"
	      "Create and inspect processes with exactly the PIDs you choose, at every level of\n"
	      "nested PID namespaces. A TUPLE lists one PID per level, outermost first, as the\n"
	      "NSpid line of /proc/PID/status does: 4242/17/1.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < N_CMDS; i++)
		fprintf(out, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
	fputs("  help      show the help of a command\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help     show this help\n"
	      "  -V, --version  show the version of pidtuple and of libpidtuple\n"
	      "\n"
	      "Run 'pidtuple help COMMAND' or 'pidtuple COMMAND --help' for a command's options.\n"
	      "Exit status 2 means a usage error; see pidtuple(1) for the others.\n",
	      out);
}

static void __attribute__((format(printf, 2, 0)))
vreport(const char *cmd, const char *fmt, va_list ap)
{
	fputs("pidtuple: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "Try 'pidtuple help %s' for more information.\n", cmd);
	else
		fputs("Try 'pidtuple --help' for more information.\n", stderr);
	return CLI_EXIT_USAGE;
}

int cli_getopt_exit(const char *cmd, int opt, char **argv)
{
	const struct cli_cmd *c = find_cmd(cmd);

	switch (opt) {
	case 'h':
		c->help(stdout);
		return CLI_EXIT_OK;
	case ':':
		return cli_usage_error(cmd, "option '%s' needs an argument", argv[optind - 1]);
	default:
		/* optopt is 0 for an unknown long option, and the val of a known one given an
		 * argument it does not take (long-only options have vals from 256 on); the word
		 * is then the one just scanned. */
		if (optopt >= 256) {
			const char *word = argv[optind - 1];

			return cli_usage_error(cmd, "option '%.*s' takes no argument",
					       (int)strcspn(word, "="), word);
		}
		if (optopt)
			return cli_usage_error(cmd, "unknown option '-%c'", optopt);
		return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
	}
}

int cli_parse_pid(const char *s, pid_t *ret)
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

/* ---- output ----------------------------------------------------------------------------- */

void cli_format(const struct pidtuple *t, char *buf, size_t size)
{
	if (pidtuple_format(t, buf, size) < 0)
		snprintf(buf, size, "?");
}

void cli_sanitize(const char *in, char *out, size_t size)
{
	size_t i;

	/* A command name is the process's to choose: no terminal escapes from it. */
	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = (unsigned char)in[i] < 0x20 || in[i] == 0x7f ? '?' : in[i];
	out[i] = '\0';
}

bool cli_json_put(json_object *o, const char *key, json_object *v)
{
	if (v && json_object_object_add(o, key, v) == 0)
		return true;
	json_object_put(v);
	return false;
}

int cli_print_json(const char *cmd, json_object *root)
{
	const char *s = json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s) {
		cli_error(cmd, "cannot write JSON: %s", pidtuple_strerror(-ENOMEM));
		return CLI_EXIT_FAIL;
	}
	puts(s);
	return CLI_EXIT_OK;
}

int cli_flush(const char *cmd, int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		/* strerror(): the library's wording of ENOSPC is about namespaces. */
		cli_error(cmd, "cannot write the output: %s", strerror(errno));
		return CLI_EXIT_FAIL;
	}
	return status;
}

void cli_print_diag(const char *cmd, const struct pidtuple_diag *d)
{
	if (d->rule == PIDTUPLE_RULE_NONE && !d->message[0])
		return; /* failed before any rule was looked at (e.g. no memory) */
	fprintf(stderr, "pidtuple: %s: rule %s", cmd, pidtuple_rule_name(d->rule));
	if (d->node >= 0)
		fprintf(stderr, ", node %d", (int)d->node);
	if (d->inner_index >= 0)
		fprintf(stderr, ", inner index %d", (int)d->inner_index);
	if (d->nspid_pos >= 0)
		fprintf(stderr, ", NSpid field %d", (int)d->nspid_pos);
	if (d->pid > 0)
		fprintf(stderr, ", PID %d", (int)d->pid);
	if (d->kernel_err < 0 && d->kernel_err != d->err)
		fprintf(stderr, ", kernel said: %s", pidtuple_strerror(d->kernel_err));
	fprintf(stderr, ": %s\n", d->message[0] ? d->message : pidtuple_strerror(d->err));
}

int cli_parse_tuple(const char *cmd, const char *text, struct pidtuple **ret_tuple)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	int r = pidtuple_parse(text, ret_tuple, &diag);

	if (r == 0)
		return 0;
	cli_error(cmd, "'%s' is not a PID tuple (write it outermost first, e.g. 4242/17/1)", text);
	cli_print_diag(cmd, &diag);
	return CLI_EXIT_USAGE;
}

static void print_version(void)
{
	printf("pidtuple %s (libpidtuple %s)\n", CLI_VERSION, pidtuple_version_string());
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_cmd *c;
	int opt;

	/* '+': stop at the command name; the rest belongs to the command. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			help_main(stdout);
			return CLI_EXIT_OK;
		case 'V':
			print_version();
			return CLI_EXIT_OK;
		default:
			if (optopt)
				return cli_usage_error(NULL, "unknown option '-%c'", optopt);
			return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(NULL, "no command given");

	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0) {
		if (argc == 1) {
			help_main(stdout);
			return CLI_EXIT_OK;
		}
		if (argc > 2)
			return cli_usage_error("help", "too many arguments");
		c = find_cmd(argv[1]);
		if (!c && strcmp(argv[1], "help") != 0 && strcmp(argv[1], "--help") != 0 &&
		    strcmp(argv[1], "-h") != 0)
			return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
		if (c)
			c->help(stdout);
		else
			help_main(stdout);
		return CLI_EXIT_OK;
	}
	c = find_cmd(argv[0]);
	if (!c)
		return cli_usage_error(NULL, "unknown command '%s'", argv[0]);
	optind = 0; /* glibc: restart the scanner for the command's own options */
	return c->run(argc, argv);
}
