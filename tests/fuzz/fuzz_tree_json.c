/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_tree_from_json() on any text (libpidtuple-json, built in from json/pidtuple_json.c,
 * with json-c). Beyond "no crash, no leak": a refusal is one of the documented errnos with a
 * one-line message, a documented rule, a node (and thread) index in range and the out-parameter
 * left alone; an accepted text writes back (pretty and compact, version 2 exactly when a node
 * has threads), and that text reads back to the same tree and writes the same bytes again.
 */
#include "fuzz_common.h"
#include "pidtuple-json.h"

#define SENTINEL ((struct pidtuple_tree *)(uintptr_t)0x5e5e5e5e)
#define HEAD_V1 "{\"format\":\"libpidtuple-tree\",\"version\":1,"
#define HEAD_V2 "{\"format\":\"libpidtuple-tree\",\"version\":2,"

static bool strv_equal(char *const *a, char *const *b)
{
	if (!a || !b)
		return a == b;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return !*a && !*b;
}

static bool ids_equal(const struct pidtuple *a, const struct pidtuple *b)
{
	pid_t x[PIDTUPLE_MAX_LEVELS], y[PIDTUPLE_MAX_LEVELS];
	int n;

	if (!a || !b)
		return a == b;
	n = pidtuple_to_outer(a, x, PIDTUPLE_MAX_LEVELS);
	return n > 0 && n == pidtuple_to_outer(b, y, PIDTUPLE_MAX_LEVELS) &&
	       memcmp(x, y, (size_t)n * sizeof(pid_t)) == 0;
}

/* Node @x's threads are @y's, on a hold node only, each with the node's levels. */
static void check_same_threads(const struct pidtuple_node *x, const struct pidtuple_node *y)
{
	fuzz_assert(x->nthreads == y->nthreads);
	fuzz_assert(x->nthreads == 0 || x->kind == PIDTUPLE_NODE_HOLD);
	for (uint32_t k = 0; k < x->nthreads; k++) {
		fuzz_assert(ids_equal(x->threads[k], y->threads[k]));
		fuzz_assert(pidtuple_levels(x->threads[k]) == pidtuple_levels(x->tuple));
	}
}

/* Whether some node of @tree has threads: its text is then format version 2. */
static bool has_threads(const struct pidtuple_tree *tree)
{
	for (int i = 0; i < pidtuple_tree_size(tree); i++) {
		PIDTUPLE_OPTS(pidtuple_node, x);

		fuzz_assert(pidtuple_tree_get(tree, (unsigned int)i, &x) == 0);
		if (x.nthreads)
			return true;
	}
	return false;
}

static void check_same_tree(const struct pidtuple_tree *a, const struct pidtuple_tree *b)
{
	int n = pidtuple_tree_size(a);

	fuzz_assert(n >= 0 && pidtuple_tree_size(b) == n);
	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, x);
		PIDTUPLE_OPTS(pidtuple_node, y);

		fuzz_assert(pidtuple_tree_get(a, (unsigned int)i, &x) == 0);
		fuzz_assert(pidtuple_tree_get(b, (unsigned int)i, &y) == 0);
		fuzz_assert(x.flags == y.flags && x.parent == y.parent && x.kind == y.kind);
		fuzz_assert(x.kind == PIDTUPLE_NODE_HOLD || x.kind == PIDTUPLE_NODE_EXEC);
		fuzz_assert(i == 0 ? x.parent == -1 : x.parent >= 0 && x.parent < i);
		fuzz_assert(ids_equal(x.tuple, y.tuple) && ids_equal(x.pgid, y.pgid) &&
			    ids_equal(x.sid, y.sid));
		fuzz_assert((!x.path && !y.path) || (x.path && y.path && !strcmp(x.path, y.path)));
		fuzz_assert(strv_equal(x.argv, y.argv) && strv_equal(x.envp, y.envp));
		check_same_threads(&x, &y);
	}
}

static void check_refused(int r, const struct pidtuple_diag *d, size_t len)
{
	fuzz_assert(r == -EINVAL || r == -E2BIG || r == -ENOMEM);
	fuzz_assert(d->err == r);
	fuzz_assert(d->message[0] != '\0' && !strchr(d->message, '\n'));
	fuzz_assert(d->rule == PIDTUPLE_RULE_SYNTAX || d->rule == PIDTUPLE_RULE_LEVEL_COUNT ||
		    d->rule == PIDTUPLE_RULE_TREE_SHAPE || d->rule == PIDTUPLE_RULE_TREE_GROUP ||
		    d->rule == PIDTUPLE_RULE_NEWPID_ONE || r == -ENOMEM);
	fuzz_assert(d->node >= -1);
	fuzz_assert(d->thread >= -1 && (d->thread == -1 || d->node >= 0));
	fuzz_assert(d->text_pos >= -1 && (d->text_pos == -1 || (size_t)d->text_pos <= len));
	fuzz_assert(d->text_pos == -1 || d->node == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_tree *tree = SENTINEL, *back = SENTINEL;
	char *text, *pretty = NULL, *compact = NULL, *again = NULL;
	int r;

	text = malloc(size + 1);
	fuzz_assert(text);
	memcpy(text, data, size);
	text[size] = '\0';

	r = pidtuple_tree_from_json(text, &tree, &d);
	if (r < 0) {
		check_refused(r, &d, strlen(text));
		fuzz_assert(tree == SENTINEL);
		fuzz_assert(pidtuple_tree_from_json(text, &tree, NULL) == r);
		free(text);
		return 0;
	}
	fuzz_assert(r == 0 && d.err == 0 && d.node == -1 && d.thread == -1 && d.message[0] == '\0');

	fuzz_assert(pidtuple_tree_to_json(tree, PIDTUPLE_JSON_PRETTY, &pretty) == 0);
	fuzz_assert(pidtuple_tree_to_json(tree, 0, &compact) == 0);
	fuzz_assert(!strchr(compact, '\n'));
	fuzz_assert(strncmp(compact, has_threads(tree) ? HEAD_V2 : HEAD_V1, strlen(HEAD_V1)) == 0);

	/* What it wrote reads back to the same tree, which writes the same bytes. */
	fuzz_assert(pidtuple_tree_from_json(pretty, &back, &d) == 0);
	check_same_tree(tree, back);
	fuzz_assert(pidtuple_tree_to_json(back, PIDTUPLE_JSON_PRETTY, &again) == 0);
	fuzz_assert(strcmp(pretty, again) == 0);
	free(again);
	pidtuple_tree_free(back);
	back = NULL;
	fuzz_assert(pidtuple_tree_from_json(compact, &back, &d) == 0);
	check_same_tree(tree, back);
	fuzz_assert(pidtuple_tree_to_json(back, 0, &again) == 0);
	fuzz_assert(strcmp(compact, again) == 0);

	free(again);
	free(pretty);
	free(compact);
	pidtuple_tree_free(back);
	pidtuple_tree_free(tree);
	free(text);
	return 0;
}
