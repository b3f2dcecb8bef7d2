/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple tree [PID]: the process tree with each process's tuple and the places where a PID
 * namespace begins, like pstree. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "procs.h"

#define NS_MARK " [pidns]"

void help_tree(FILE *out)
{
	fputs("Usage: pidtuple tree [--json] [--ascii | --unicode] [PID]\n"
	      "\n"
	      "Draw the process tree rooted at PID, or every process of the caller's PID\n"
	      "namespace and of the namespaces below it, rooted at the processes whose parent\n"
	      "is outside it. One line per process: its command name and its PID tuple, e.g.\n"
	      "'sh(300/1)'; ' [pidns]' marks the init of a PID namespace below the caller's,\n"
	      "where a namespace begins. Children are sorted by PID. Processes that exit\n"
	      "meanwhile are left out.\n"
	      "\n"
	      "Options:\n"
	      "      --json     print nested JSON objects instead of a drawing\n"
	      "  -A, --ascii    draw with ASCII characters (the default unless the output is a\n"
	      "                 terminal and the locale uses UTF-8)\n"
	      "  -U, --unicode  draw with UTF-8 box-drawing characters\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Exit status: 0 when the tree was printed; 1 when the namespace could not be read\n"
	      "or PID is not in it; 2 on a usage error.\n",
	      out);
}

struct glyphs {
	const char *tee, *last, *bar, *blank;
};

static const struct glyphs ascii = { "|-- ", "`-- ", "|   ", "    " };
static const struct glyphs utf8 = { "\u251c\u2500\u2500 ", "\u2514\u2500\u2500 ", "\u2502   ",
				    "    " };

/* The scan as a tree: children in PID order through first/next links. */
struct forest {
	const struct cli_procs *ps;
	size_t *first, *next; /* SIZE_MAX: none */
	size_t *parent;	      /* SIZE_MAX: a root (parent outside the scan) */
	bool *seen;	      /* drawn already: a number reused mid-scan cannot loop */
	const struct glyphs *g;
	char *prefix;
	size_t len, cap;
};

static void forest_free(struct forest *f)
{
	free(f->first);
	free(f->next);
	free(f->parent);
	free(f->seen);
	free(f->prefix);
}

static int forest_init(struct forest *f, const struct cli_procs *ps)
{
	size_t n = ps->n ? ps->n : 1;

	*f = (struct forest){ .ps = ps };
	f->first = malloc(n * sizeof(*f->first));
	f->next = malloc(n * sizeof(*f->next));
	f->parent = malloc(n * sizeof(*f->parent));
	f->seen = calloc(n, sizeof(*f->seen));
	if (!f->first || !f->next || !f->parent || !f->seen) {
		forest_free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ps->n; i++) {
		const struct cli_proc *pp = NULL;

		if (ps->v[i].ppid > 0 && ps->v[i].ppid != ps->v[i].pid)
			pp = cli_procs_find(ps, ps->v[i].ppid);
		f->parent[i] = pp ? (size_t)(pp - ps->v) : SIZE_MAX;
		f->first[i] = f->next[i] = SIZE_MAX;
	}
	/* Backwards, prepending: each list ends up in PID order. */
	for (size_t i = ps->n; i-- > 0;) {
		size_t p = f->parent[i];

		if (p != SIZE_MAX) {
			f->next[i] = f->first[p];
			f->first[p] = i;
		}
	}
	return 0;
}

static int prefix_push(struct forest *f, const char *s)
{
	size_t n = strlen(s);

	if (f->len + n + 1 > f->cap) {
		size_t cap = (f->len + n + 1) * 2;
		char *p = realloc(f->prefix, cap);

		if (!p)
			return -ENOMEM;
		f->prefix = p;
		f->cap = cap;
	}
	memcpy(f->prefix + f->len, s, n + 1);
	f->len += n;
	return 0;
}

static void print_line(const struct forest *f, size_t i, const char *branch)
{
	const struct cli_proc *p = &f->ps->v[i];
	char text[CLI_TUPLE_TEXT_MAX], comm[CLI_COMM_MAX];

	cli_format(p->tuple, text, sizeof(text));
	cli_sanitize(p->comm, comm, sizeof(comm));
	printf("%s%s%s(%s)%s\n", f->prefix ? f->prefix : "", branch, comm, text,
	       p->flags & PIDTUPLE_ENTRY_NS_INIT ? NS_MARK : "");
}

/* Draws node @i, whose line begins with @branch, and its subtree. */
static int draw(struct forest *f, size_t i, const char *branch, const char *indent)
{
	size_t len = f->len;
	int r;

	f->seen[i] = true;
	print_line(f, i, branch);
	r = prefix_push(f, indent);
	for (size_t c = f->first[i]; r == 0 && c != SIZE_MAX;) {
		size_t next = f->next[c];

		while (next != SIZE_MAX && f->seen[next])
			next = f->next[next];
		if (!f->seen[c]) {
			bool last = next == SIZE_MAX;

			r = draw(f, c, last ? f->g->last : f->g->tee,
				 last ? f->g->blank : f->g->bar);
		}
		c = next;
	}
	f->len = len;
	if (f->prefix)
		f->prefix[len] = '\0';
	return r;
}

/* Node @i and its subtree as JSON; NULL when out of memory. */
static json_object *node_json(struct forest *f, size_t i)
{
	json_object *o = cli_proc_json(&f->ps->v[i]), *kids = json_object_new_array();
	bool ok = o && kids;

	f->seen[i] = true;
	for (size_t c = f->first[i]; ok && c != SIZE_MAX; c = f->next[c]) {
		json_object *k;

		if (f->seen[c])
			continue;
		k = node_json(f, c);
		ok = k && json_object_array_add(kids, k) == 0;
		if (!ok)
			json_object_put(k);
	}
	if (ok)
		return cli_json_put(o, "children", kids) ? o : (json_object_put(o), NULL);
	json_object_put(o);
	json_object_put(kids);
	return NULL;
}

/* The roots: @root alone, or every process without a parent in the scan, then whatever a
 * reused number hid in a loop. */
static int for_roots(struct forest *f, ssize_t root, json_object *arr)
{
	int r = 0;

	for (int pass = 0; pass < 2 && r == 0; pass++) {
		for (size_t i = 0; r == 0 && i < f->ps->n; i++) {
			if (root >= 0 ? (size_t)root != i || pass
				      : f->seen[i] || (pass == 0 && f->parent[i] != SIZE_MAX))
				continue;
			if (arr) {
				json_object *n = node_json(f, i);

				if (!n || json_object_array_add(arr, n) < 0) {
					json_object_put(n);
					r = -ENOMEM;
				}
			} else
				r = draw(f, i, "", "");
		}
	}
	return r;
}

static bool utf8_terminal(void)
{
	const char *cs;

	if (!isatty(STDOUT_FILENO) || !setlocale(LC_CTYPE, ""))
		return false;
	cs = nl_langinfo(CODESET);
	return cs && strcmp(cs, "UTF-8") == 0;
}

static int parse_args(int argc, char **argv, const struct glyphs **g, pid_t *pid)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "ascii", no_argument, NULL, 'A' },
		{ "unicode", no_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_args a;
	int opt, r;

	cli_args_init(&a, "tree", argc, argv, 0);
	while ((opt = cli_args_next(&a, "-:hAU", longopts)) != -1)
		*g = opt == 'A' ? &ascii : &utf8;
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos > 1)
		return cli_usage_error("tree", "too many arguments");
	if (a.npos == 1 && cli_parse_pid(a.pos[0], pid) < 0)
		return cli_usage_error("tree", "'%s' is not a PID", a.pos[0]);
	return -1;
}

int cmd_tree(int argc, char **argv)
{
	const struct glyphs *g = NULL;
	struct cli_procs ps;
	struct forest f;
	json_object *arr = NULL;
	ssize_t root = -1;
	pid_t pid = 0;
	int r, status = CLI_EXIT_OK;

	r = parse_args(argc, argv, &g, &pid);
	if (r >= 0)
		return r;
	r = cli_scan(CLI_SCAN_COMM, &ps);
	if (r < 0) {
		cli_fail("tree", &(struct cli_failure){ .err = r },
			 "cannot read the PID namespace");
		return CLI_EXIT_FAIL;
	}
	if (pid) {
		const struct cli_proc *p = cli_procs_find(&ps, pid);

		if (!p) {
			cli_fail("tree", &(struct cli_failure){ .err = -ESRCH, .pid = pid },
				 "PID %d", (int)pid);
			cli_procs_free(&ps);
			return CLI_EXIT_FAIL;
		}
		root = p - ps.v;
	}
	r = forest_init(&f, &ps);
	if (r == 0) {
		f.g = g ? g : utf8_terminal() ? &utf8 : &ascii;
		if (cli_json) {
			arr = json_object_new_array();
			r = arr ? for_roots(&f, root, arr) : -ENOMEM;
		} else {
			r = for_roots(&f, root, NULL);
		}
		forest_free(&f);
	}
	cli_procs_free(&ps);
	if (r < 0) {
		json_object_put(arr);
		cli_fail("tree", &(struct cli_failure){ .err = r }, "cannot draw the tree");
		return CLI_EXIT_FAIL;
	}
	if (cli_json)
		return cli_print_json("tree", arr, status);
	return cli_flush("tree", status);
}
