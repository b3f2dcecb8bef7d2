/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple import-criu DIR: the process tree of a CRIU image directory as the JSON that
 * pidtuple restore reads, or (--check) whether its PIDs and thread IDs are free here. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "criu_img.h"
#include "pidtuple-json.h"

#define CMD "import-criu"

void help_import_criu(FILE *out)
{
	fputs("Usage: pidtuple import-criu [--check [--ns PID|PATH] | --threads] [--compact] DIR\n"
	      "\n"
	      "Read the process tree of the CRIU image directory DIR (what 'criu dump -D DIR'\n"
	      "wrote: inventory.img, pstree.img and the core-TID.img of every thread) and print\n"
	      "it as the JSON that 'pidtuple restore' reads (pidtuple-json(5)): one hold node per\n"
	      "process, in pstree.img's order, with its PID, parent, process group, session,\n"
	      "other threads' TIDs and command name.\n"
	      "CRIU records one level, the innermost numbers, so each tuple has one level; the\n"
	      "levels above are not in the image. A root with PID 1 starts a new PID namespace\n"
	      "(\"newpid\": true), as 'criu restore' creates one for it.\n"
	      "\n"
	      "  pidtuple import-criu DIR | pidtuple restore --check -\n"
	      "\n"
	      "tells, before 'criu restore' runs here, whether the image's PIDs are free.\n"
	      "\n"
	      "Options:\n"
	      "      --check    print no JSON; check that every PID and every thread ID of the\n"
	      "                 image is free here, naming the process and thread of one that\n"
	      "                 is taken\n"
	      "      --ns PID|PATH\n"
	      "                 with --check: check in the PID namespace of process PID or of\n"
	      "                 the namespace file PATH (a running container's) instead\n"
	      "      --threads  add the thread IDs as the member \"criu_threads\" (node index:\n"
	      "                 TIDs, the process first); 'pidtuple restore' does not read that\n"
	      "      --compact  one line without spaces instead of indented text\n"
	      "      --json     on failure, also print why as a JSON object on stdout\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Exit status: 0 when the tree was printed (with --check: when every PID and TID\n"
	      "is free); 1 when DIR is not a readable CRIU image (stderr names the file and the\n"
	      "byte offset), or with --check when an ID is taken; 2 on a usage error.\n",
	      out);
}

/* "comm" of a thread, made safe for a terminal. */
static const char *comm_of(const struct criu_thread *t, char *buf, size_t size)
{
	cli_sanitize(t->comm[0] ? t->comm : "?", buf, size);
	return buf;
}

/* The document of pidtuple_tree_to_json() with "criu_threads" before its closing brace. */
static void print_with_threads(const char *text, const struct criu_image *img, bool pretty)
{
	size_t len = strlen(text);

	while (len > 0 && text[len - 1] != '}')
		len--;
	if (len > 0)
		len--; /* the document's closing brace */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	fwrite(text, 1, len, stdout);
	fputs(pretty ? ",\n  \"criu_threads\": {" : ",\"criu_threads\":{", stdout);
	for (size_t i = 0; i < img->n_procs; i++) {
		const struct criu_proc *p = &img->procs[i];

		printf("%s%s\"%zu\":%s[", i ? "," : "", pretty ? "\n    " : "", i,
		       pretty ? " " : "");
		for (size_t t = 0; t < p->n_threads; t++)
			printf("%s%u", t ? (pretty ? ", " : ",") : "", p->threads[t].tid);
		putchar(']');
	}
	puts(pretty ? "\n  }\n}" : "}}");
}

static int print_tree(const char *dir, const struct criu_image *img,
		      const struct pidtuple_tree *tree, bool pretty, bool threads)
{
	char *text;
	int r = pidtuple_tree_to_json(tree, pretty ? PIDTUPLE_JSON_PRETTY : 0, &text);

	if (r < 0) {
		cli_error(CMD, "%s: cannot write the tree as JSON: %s", dir, pidtuple_strerror(r));
		return CLI_EXIT_FAIL;
	}
	if (threads)
		print_with_threads(text, img, pretty);
	else
		puts(text);
	free(text);
	return cli_flush(CMD, CLI_EXIT_OK);
}

/* Thread @k of a node (the process's own TID is not among them) as pstree.img lists it. */
static void name_thread(const struct criu_proc *p, int k)
{
	char comm[CRIU_COMM_MAX];
	int seen = 0;

	for (size_t t = 0; k >= 0 && t < p->n_threads; t++) {
		if (p->threads[t].tid == p->pid || seen++ != k)
			continue;
		cli_error(CMD, "its thread %d is thread %u (%s) of process %u in pstree.img", k,
			  p->threads[t].tid, comm_of(&p->threads[t], comm, sizeof(comm)), p->pid);
		return;
	}
}

/* --ns: the namespace to check in (PIDTUPLE_FORK_JOIN_NS), else no flag. */
static struct pidtuple_fork_opts target = { .sz = sizeof(target), .ns_fd = -1 };

/* The PIDs, TIDs, groups and sessions: pidtuple_tree_check(), as 'pidtuple restore --check'. */
static int check_pids(const char *dir, const struct criu_image *img,
		      const struct pidtuple_tree *tree)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	int r = pidtuple_tree_check(tree, &target, &diag);
	char comm[CRIU_COMM_MAX];

	if (r >= 0)
		return r;
	cli_fail(CMD, &(struct cli_failure){ .err = r, .diag = &diag },
		 "%s cannot be restored here", dir);
	if (diag.node >= 0 && (size_t)diag.node < img->n_procs) {
		const struct criu_proc *p = &img->procs[diag.node];

		cli_error(CMD, "node %d is process %u (%s) of pstree.img", (int)diag.node, p->pid,
			  comm_of(&p->threads[0], comm, sizeof(comm)));
		name_thread(p, diag.thread);
	}
	return -1;
}

static int check(const char *dir, const struct criu_image *img, const struct pidtuple_tree *tree)
{
	bool newpid = img->procs[0].pid == 1;
	/* The nodes carry the threads: one check covers every PID and TID. */
	int r = check_pids(dir, img, tree);

	if (r < 0)
		return CLI_EXIT_FAIL;
	printf("%s: valid (%zu processes, %zu threads)\n", dir, img->n_procs, img->n_threads);
	if (newpid)
		cli_error(CMD,
			  "note: the root is PID 1: 'criu restore' creates a new PID namespace "
			  "for the image, so none of its PIDs and thread IDs can be taken");
	if (r > 0)
		cli_error(CMD,
			  "note: %d outer level(s) are not visible from here; the kernel will "
			  "check them",
			  r);
	return cli_flush(CMD, CLI_EXIT_OK);
}

static int import(const char *dir, bool check_only, bool pretty, bool threads)
{
	struct criu_img_err err = { .offset = -1 };
	struct pidtuple_tree *tree;
	struct criu_image img;
	char msg[256];
	int r = criu_img_load(dir, &img, &err);

	if (r < 0) {
		cli_fail(CMD, &(struct cli_failure){ .err = r }, "%s", err.msg);
		return CLI_EXIT_FAIL;
	}
	r = criu_img_to_tree(&img, &tree, msg, sizeof(msg));
	if (r < 0) {
		cli_fail(CMD, &(struct cli_failure){ .err = r }, "%s: %s", dir, msg);
		criu_img_free(&img);
		return CLI_EXIT_FAIL;
	}
	r = check_only ? check(dir, &img, tree) : print_tree(dir, &img, tree, pretty, threads);
	pidtuple_tree_free(tree);
	criu_img_free(&img);
	return r;
}

int cmd_import_criu(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_THREADS, OPT_COMPACT, OPT_NS };
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "threads", no_argument, NULL, OPT_THREADS },
		{ "compact", no_argument, NULL, OPT_COMPACT },
		{ "ns", required_argument, NULL, OPT_NS },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool check_only = false, threads = false, pretty = true;
	const char *ns = NULL;
	struct cli_args a;
	int opt, r;

	cli_args_init(&a, CMD, argc, argv, 0);
	while ((opt = cli_args_next(&a, "-:h", longopts)) != -1) {
		if (opt == OPT_CHECK)
			check_only = true;
		else if (opt == OPT_THREADS)
			threads = true;
		else if (opt == OPT_COMPACT)
			pretty = false;
		else if (opt == OPT_NS)
			ns = optarg;
	}
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos < 1)
		return cli_usage_error(CMD, "no DIR given");
	if (a.npos > 1)
		return cli_usage_error(CMD, "too many arguments");
	if (check_only && (threads || !pretty))
		return cli_usage_error(CMD, "--check prints no JSON: %s has no use with it",
				       threads ? "--threads" : "--compact");
	if (ns && !check_only)
		return cli_usage_error(CMD, "--ns needs --check: the JSON does not depend on it");
	r = cli_ns_open(CMD, ns, &target);
	if (r == 0)
		r = import(a.pos[0], check_only, pretty, threads);
	cli_ns_close(&target);
	return r;
}
