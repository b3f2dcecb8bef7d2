/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple: show, check and create processes with exact PIDs in nested PID namespaces. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
	      "Every command takes its options before or after its arguments ('--' ends them),\n"
	      "and --json to print its result, or why it failed, as JSON on standard output.\n"
	      "Run 'pidtuple help COMMAND' or 'pidtuple COMMAND --help' for a command's options.\n"
	      "Exit status 2 means a usage error; see pidtuple(1) for the others.\n",
	      out);
}

/* ---- did you mean ----------------------------------------------------------------------- */

#define DYM_MAX 32

/* Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbours cost 1 each. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[DYM_MAX + 1][DYM_MAX + 1];

	if (la > DYM_MAX || lb > DYM_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* How far @word is from @name: 1 when it begins @name, else the edit distance. */
static size_t nearness(const char *word, const char *name)
{
	size_t len = strlen(word);

	if (len >= 2 && strncmp(word, name, len) == 0)
		return 1;
	return edit_distance(word, name);
}

void cli_did_you_mean(const char *word, const char *const *names, size_t n, const char *prefix,
		      char *buf, size_t size)
{
	size_t best = SIZE_MAX, len, found = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (nearness(word, names[i]) < best)
			best = nearness(word, names[i]);
	/* Two edits at most, and fewer than the word has letters: "x" is nobody's typo. */
	if (best > 2 || best >= strlen(word))
		return;
	for (size_t i = 0; i < n; i++) {
		if (nearness(word, names[i]) != best)
			continue;
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s'%s%s'", found ? " or " : "; did you mean ",
			 prefix, names[i]);
		found++;
	}
	len = strlen(buf);
	snprintf(buf + len, size - len, "?");
}

static int unknown_command(const char *name)
{
	const char *names[N_CMDS + 1];
	char hint[160];

	for (size_t i = 0; i < N_CMDS; i++)
		names[i] = cmds[i].name;
	names[N_CMDS] = "help";
	cli_did_you_mean(name, names, N_CMDS + 1, "", hint, sizeof(hint));
	return cli_usage_error(NULL, "unknown command '%s'%s", name, hint);
}

/* ---- arguments -------------------------------------------------------------------------- */

void cli_args_init(struct cli_args *a, const char *cmd, int argc, char **argv, int stop_at)
{
	*a = (struct cli_args){ .cmd = cmd, .argc = argc, .argv = argv, .stop_at = stop_at };
	a->pos = argv + 1;
	optind = 0; /* glibc: a full restart of the scanner */
	opterr = 0;
}

/* Whether @word is a long option, "--NAME[=VALUE]", of an option whose val is @val, or of
 * any option when @val is 0; *@len gets its length without "=VALUE". */
static bool long_word(const char *word, const struct option *longopts, int val, int *len)
{
	if (strncmp(word, "--", 2) != 0)
		return false;
	*len = (int)strcspn(word, "=");
	for (const struct option *o = longopts; val && o->name; o++)
		if (o->val == val && strncmp(o->name, word + 2, (size_t)*len - 2) == 0)
			return true;
	return !val;
}

static void unknown_long(struct cli_args *a, const char *word, int len,
			 const struct option *longopts)
{
	const char *names[64];
	char name[DYM_MAX + 1], hint[160];
	size_t n = 0;

	for (const struct option *o = longopts; o->name && n < 64; o++)
		names[n++] = o->name;
	snprintf(name, sizeof(name), "%.*s", len - 2, word + 2);
	cli_did_you_mean(name, names, n, "--", hint, sizeof(hint));
	snprintf(a->error, sizeof(a->error), "unknown option '%.*s'%s", len, word, hint);
}

/* Remembers the first help request or usage error; the scan goes on. */
static void args_problem(struct cli_args *a, int opt, const struct option *longopts)
{
	const char *word = optind > 0 && optind <= a->argc ? a->argv[optind - 1] : "";
	int len;

	if (a->action)
		return;
	a->action = opt == 'h' ? 'h' : '?';
	if (opt == 'h')
		return;
	if (opt == ':')
		snprintf(a->error, sizeof(a->error), "option '%s' needs an argument", word);
	else if (optopt && long_word(word, longopts, optopt, &len))
		snprintf(a->error, sizeof(a->error), "option '%.*s' takes no argument", len, word);
	else if (optopt)
		snprintf(a->error, sizeof(a->error), "unknown option '-%c'", optopt);
	else if (long_word(word, longopts, 0, &len))
		unknown_long(a, word, len, longopts);
	else
		snprintf(a->error, sizeof(a->error), "unknown option '%s'", word);
}

/* Keeps argv[@from..] as positional arguments. Each goes to a slot at or before its own,
 * which the scanner has passed: nothing it still reads is overwritten. */
static void keep_rest(struct cli_args *a, int from)
{
	for (int i = from; i < a->argc; i++)
		a->argv[++a->npos] = a->argv[i];
	a->argv[a->npos + 1] = NULL; /* run's COMMAND is an argv of its own */
	a->done = true;
}

int cli_args_next(struct cli_args *a, const char *shortopts, const struct option *longopts)
{
	int opt;

	while (!a->done) {
		opt = getopt_long(a->argc, a->argv, shortopts, longopts, NULL);
		if (opt == -1) {
			keep_rest(a, optind); /* past "--" */
		} else if (opt == 1) {
			a->argv[++a->npos] = optarg;
			if (a->stop_at && a->npos == a->stop_at)
				keep_rest(a, optind);
		} else if (opt == CLI_OPT_JSON) {
			cli_json = true;
		} else if (opt == 'h' || opt == '?' || opt == ':') {
			args_problem(a, opt, longopts);
		} else {
			return opt;
		}
	}
	return -1;
}

int cli_args_done(struct cli_args *a)
{
	if (a->action == 'h') {
		find_cmd(a->cmd)->help(stdout);
		return cli_flush(a->cmd, CLI_EXIT_OK);
	}
	if (a->action == '?')
		return cli_usage_error(a->cmd, "%s", a->error);
	return -1;
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

int cli_parse_tuple(const char *cmd, const char *text, struct pidtuple **ret_tuple)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	int r = pidtuple_parse(text, ret_tuple, &diag);

	if (r == 0)
		return 0;
	cli_fail(cmd, &(struct cli_failure){ .err = r, .diag = &diag, .text = text, .usage = true },
		 "'%s' is not a PID tuple", text);
	return CLI_EXIT_USAGE;
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

json_object *cli_tuple_json(const struct pidtuple *t)
{
	pid_t ids[PIDTUPLE_MAX_LEVELS];
	json_object *a = json_object_new_array();
	int n = pidtuple_to_outer(t, ids, PIDTUPLE_MAX_LEVELS);

	for (int i = 0; a && i < n; i++) {
		json_object *v = json_object_new_int(ids[i]);

		if (!v || json_object_array_add(a, v) < 0) {
			json_object_put(v);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

int cli_print_json(const char *cmd, json_object *root, int status)
{
	const char *s =
		root ? json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE)
		     : NULL;

	if (!s) {
		json_object_put(root);
		cli_error(cmd, "cannot write JSON: %s", pidtuple_strerror(-ENOMEM));
		return CLI_EXIT_FAIL;
	}
	puts(s);
	json_object_put(root);
	return cli_flush(cmd, status);
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

/* ---- main ------------------------------------------------------------------------------- */

static void print_version(void)
{
	printf("pidtuple %s (libpidtuple %s)\n", CLI_VERSION, pidtuple_version_string());
}

static int cmd_help(int argc, char **argv)
{
	const struct cli_cmd *c;

	if (argc == 1) {
		help_main(stdout);
		return CLI_EXIT_OK;
	}
	if (argc > 2)
		return cli_usage_error("help", "too many arguments");
	c = find_cmd(argv[1]);
	if (!c && strcmp(argv[1], "help") != 0 && strcmp(argv[1], "--help") != 0 &&
	    strcmp(argv[1], "-h") != 0)
		return unknown_command(argv[1]);
	if (c)
		c->help(stdout);
	else
		help_main(stdout);
	return CLI_EXIT_OK;
}

#ifdef __GLIBC__
/* The BTF is read, then copied, into fresh heap memory: thousands of page faults. The heap
 * grows once by CLI_HEAP_RESERVE here (address space only; nothing is touched) and asks for
 * transparent huge pages there, so those copies fault a few times per 2 MiB instead of 512
 * (about a fifth of the CPU of `pidtuple ps --json`). Without THP it changes nothing. */
#define CLI_HEAP_RESERVE (32 << 20)
static void cli_heap_hugepages(void)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)sbrk(0) + page - 1) & ~(page - 1);
	void *block = malloc(CLI_HEAP_RESERVE);
	uintptr_t end = (uintptr_t)sbrk(0);

	free(block);
	if (block && end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}
#endif

/* A short-lived command whose peak is libbpf's parse of the kernel's BTF (ps, tree, capture,
 * features: tens of MiB allocated and freed). glibc would map each large block afresh and hand
 * it back at free(), so every page faults in again; kept on the heap and not trimmed, they are
 * reused: 4-7 ms less CPU per `pidtuple ps --json` of 3,000 processes (about 15%). */
static void cli_malloc_tune(void)
{
#ifdef __GLIBC__
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
	cli_heap_hugepages();
#endif
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

	cli_malloc_tune();
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
	if (strcmp(argv[0], "help") == 0)
		return cmd_help(argc, argv);
	c = find_cmd(argv[0]);
	if (!c)
		return unknown_command(argv[0]);
	return c->run(argc, argv);
}
