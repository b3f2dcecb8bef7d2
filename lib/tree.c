/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tree descriptions: the builder API, the stored nodes (each with its own copies of tuples
 * and strings) and the accessors. tree_plan.c checks a description and plans its creation.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "opts.h"
#include "tree_int.h"

/* ---- the description ------------------------------------------------------------------- */

PT_PUBLIC int pidtuple_tree_new(struct pidtuple_tree **ret_tree)
{
	struct pidtuple_tree *tree;

	pt_return_if(!ret_tree, -EINVAL);
	tree = pt_malloc(sizeof(*tree));
	if (!tree)
		return -ENOMEM;
	*tree = (struct pidtuple_tree){ .nodes = NULL };
	*ret_tree = tree;
	return 0;
}

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static void node_free(struct pt_tnode *stored)
{
	if (!stored)
		return;
	pidtuple_free(stored->tuple);
	pidtuple_free(stored->pgid);
	pidtuple_free(stored->sid);
	free(stored->path);
	free_strv(stored->argv);
	free_strv(stored->envp);
	for (uint32_t k = 0; k < stored->nthreads; k++)
		pidtuple_free(stored->threads[k]);
	free(stored->threads);
	free(stored);
}

static char *dup_str(const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = pt_malloc(len);

	if (d)
		memcpy(d, s, len);
	return d;
}

static int dup_strv(char *const *v, char ***ret)
{
	size_t n = 0;
	char **d;

	*ret = NULL;
	if (!v)
		return 0;
	while (v[n])
		n++;
	d = pt_malloc((n + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i <= n; i++)
		d[i] = NULL;
	for (size_t i = 0; i < n; i++) {
		d[i] = dup_str(v[i]);
		if (!d[i]) {
			free_strv(d);
			return -ENOMEM;
		}
	}
	*ret = d;
	return 0;
}

static int dup_tuple(const struct pidtuple *t, struct pidtuple **ret)
{
	*ret = NULL;
	return t ? pt_tuple_new(t->pid, t->n, false, true, ret) : 0;
}

static int grow_nodes(struct pidtuple_tree *tree)
{
	unsigned int cap = tree->cap ? tree->cap * 2 : 16;
	struct pt_tnode **v;

	if (tree->n < tree->cap)
		return 0;
	if (tree->cap > INT_MAX / 2)
		return -ENOMEM;
	v = pt_malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (tree->n)
		memcpy(v, tree->nodes, tree->n * sizeof(*v));
	free(tree->nodes);
	tree->nodes = v;
	tree->cap = cap;
	return 0;
}

/* What one node says, checked alone; the whole tree is checked by pidtuple_tree_check(). */
static int node_valid(const struct pidtuple_node *in, pt_proc_idx index)
{
	pt_return_if(in->kind > PIDTUPLE_NODE_CALLBACK, -EINVAL);
	pt_return_if(in->flags & ~(uint64_t)PIDTUPLE_NODE_ALL_FLAGS, -EINVAL);
	pt_return_if(index == 0 ? in->parent != -1 : in->parent < 0 || in->parent >= index,
		     -EINVAL);
	pt_return_if(!in->tuple || in->tuple->n < 1 || in->tuple->n > PIDTUPLE_MAX_LEVELS, -EINVAL);
	for (unsigned int i = 0; i < in->tuple->n; i++)
		pt_return_if(in->tuple->pid[i] < 1, -EINVAL);
	pt_return_if(in->kind == PIDTUPLE_NODE_EXEC && (!in->path || !in->argv), -EINVAL);
	pt_return_if(in->kind == PIDTUPLE_NODE_CALLBACK && !in->fn, -EINVAL);
	/* A thread's level count and its node's kind are the check's, with a diagnostic. */
	pt_return_if(in->name && (in->kind != PIDTUPLE_NODE_HOLD || !in->name[0] ||
				  strnlen(in->name, 16) > 15),
		     -EINVAL);
	pt_return_if(in->nthreads > PT_TREE_MAX_THREADS || (in->nthreads && !in->threads), -EINVAL);
	for (uint32_t k = 0; k < in->nthreads; k++) {
		const struct pidtuple *t = in->threads[k];

		pt_return_if(!t || t->n < 1 || t->n > PIDTUPLE_MAX_LEVELS, -EINVAL);
		for (unsigned int i = 0; i < t->n; i++)
			pt_return_if(t->pid[i] < 1, -EINVAL);
	}
	return 0;
}

/* The tree's copies of a node's thread tuples. */
static int dup_threads(const struct pidtuple_node *in, struct pt_tnode *stored)
{
	if (!in->nthreads)
		return 0;
	stored->threads = pt_malloc(in->nthreads * sizeof(*stored->threads));
	if (!stored->threads)
		return -ENOMEM;
	for (uint32_t k = 0; k < in->nthreads; k++) {
		int r = dup_tuple(in->threads[k], &stored->threads[k]);

		if (r < 0)
			return r;
		stored->nthreads++;
	}
	return 0;
}

/* The tree's own copy of a node: its tuples, and the strings of an EXEC node. */
static int node_store(const struct pidtuple_node *in, struct pt_tnode **ret)
{
	struct pt_tnode *stored = pt_malloc(sizeof(*stored));
	int r;

	if (!stored)
		return -ENOMEM;
	*stored = (struct pt_tnode){ .flags = in->flags, .parent = in->parent, .kind = in->kind };
	if (in->kind == PIDTUPLE_NODE_CALLBACK) {
		stored->fn = in->fn;
		stored->arg = in->arg;
	}
	r = dup_tuple(in->tuple, &stored->tuple);
	if (r == 0)
		r = dup_tuple(in->pgid, &stored->pgid);
	if (r == 0)
		r = dup_tuple(in->sid, &stored->sid);
	if (in->name)
		memcpy(stored->name, in->name, strlen(in->name) + 1);
	if (r == 0)
		r = dup_threads(in, stored);
	if (r == 0 && in->kind == PIDTUPLE_NODE_EXEC) {
		stored->path = dup_str(in->path);
		r = stored->path ? dup_strv(in->argv, &stored->argv) : -ENOMEM;
		if (r == 0)
			r = dup_strv(in->envp, &stored->envp);
	}
	if (r < 0) {
		node_free(stored);
		return r == -EINVAL ? -EINVAL : -ENOMEM;
	}
	*ret = stored;
	return 0;
}

PT_PUBLIC int pidtuple_tree_add(struct pidtuple_tree *tree, const struct pidtuple_node *node)
{
	struct pidtuple_node nd;
	struct pt_tnode *stored;
	pt_proc_idx index;
	int r;

	pt_return_if(!tree || !node, -EINVAL);
	r = PT_OPTS_VALID(node, pidtuple_node);
	if (r < 0)
		return r;
	/* The one rule of opts.h: a member the caller's struct holds only in part is not read. */
	nd = (struct pidtuple_node){
		.sz = sizeof(nd),
		.flags = PT_OPTS_GET(node, flags, 0),
		.parent = PT_OPTS_GET(node, parent, 0),
		.kind = PT_OPTS_GET(node, kind, 0),
		.tuple = PT_OPTS_GET(node, tuple, NULL),
		.pgid = PT_OPTS_GET(node, pgid, NULL),
		.sid = PT_OPTS_GET(node, sid, NULL),
		.path = PT_OPTS_GET(node, path, NULL),
		.argv = PT_OPTS_GET(node, argv, NULL),
		.envp = PT_OPTS_GET(node, envp, NULL),
		.fn = PT_OPTS_GET(node, fn, NULL),
		.arg = PT_OPTS_GET(node, arg, NULL),
		.threads = PT_OPTS_GET(node, threads, NULL),
		.name = PT_OPTS_GET(node, name, NULL),
		.nthreads = PT_OPTS_GET(node, nthreads, 0),
	};
	pt_return_if(PT_OPTS_GET(node, reserved, 0) != 0, -EINVAL);
	index = (pt_proc_idx)tree->n; /* fits: the count stays below INT_MAX / 4 */
	r = node_valid(&nd, index);
	if (r < 0)
		return r;
	pt_return_if(tree->n >= INT_MAX / 4, -ENOMEM);
	r = grow_nodes(tree);
	if (r == 0)
		r = node_store(&nd, &stored);
	if (r < 0)
		return r;
	tree->nodes[tree->n++] = stored;
	return index;
}

PT_PUBLIC int pidtuple_tree_size(const struct pidtuple_tree *tree)
{
	pt_return_if(!tree, -EINVAL);
	return (int)tree->n;
}

PT_PUBLIC int pidtuple_tree_get(const struct pidtuple_tree *tree, unsigned int index,
				struct pidtuple_node *node)
{
	const struct pt_tnode *stored;
	struct pidtuple_node out;

	pt_return_if(!tree || !node || node->sz < sizeof(size_t), -EINVAL);
	pt_return_if(index >= tree->n, -ERANGE);
	stored = tree->nodes[index];
	memset(&out, 0, sizeof(out));
	out.flags = stored->flags;
	out.parent = stored->parent;
	out.kind = stored->kind;
	out.tuple = stored->tuple;
	out.pgid = stored->pgid;
	out.sid = stored->sid;
	out.path = stored->path;
	out.argv = stored->argv;
	out.envp = stored->envp;
	out.fn = stored->fn;
	out.arg = stored->arg;
	out.threads = (const struct pidtuple *const *)stored->threads;
	out.nthreads = stored->nthreads;
	out.name = stored->name[0] ? stored->name : NULL;
	/* Only the members the caller's struct holds whole; its sz stays. */
	PT_OPTS_COPY_OUT(node, &out, flags, parent, kind, tuple, pgid, sid, path, argv, envp, fn,
			 arg, threads, name, nthreads);
	return 0;
}

PT_PUBLIC void pidtuple_tree_free(struct pidtuple_tree *tree)
{
	if (!tree)
		return;
	for (unsigned int i = 0; i < tree->n; i++)
		node_free(tree->nodes[i]);
	free(tree->nodes);
	free(tree);
}
