/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tree descriptions: the builder API, the stored nodes (each with its own copies of tuples
 * and strings) and the accessors. tree_plan.c checks a description and plans its creation.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "tree_int.h"

/* ---- the description ------------------------------------------------------------------- */

PT_PUBLIC int pidtuple_tree_new(struct pidtuple_tree **ret_tree)
{
	struct pidtuple_tree *t;

	pt_return_if(!ret_tree, -EINVAL);
	t = pt_malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct pidtuple_tree){ .nodes = NULL };
	*ret_tree = t;
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

static void node_free(struct pt_tnode *nd)
{
	if (!nd)
		return;
	pidtuple_free(nd->tuple);
	pidtuple_free(nd->pgid);
	pidtuple_free(nd->sid);
	free(nd->path);
	free_strv(nd->argv);
	free_strv(nd->envp);
	free(nd);
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

PT_PUBLIC int pidtuple_tree_add(struct pidtuple_tree *tree, const struct pidtuple_node *node)
{
	struct pidtuple_node nd;
	struct pt_tnode *t;
	int r, idx;

	pt_return_if(!tree || !node, -EINVAL);
	r = pt_opts_valid(node, sizeof(*node));
	if (r < 0)
		return r;
	memset(&nd, 0, sizeof(nd));
	memcpy(&nd, node, node->sz < sizeof(nd) ? node->sz : sizeof(nd));
	idx = (int)tree->n;
	pt_return_if(nd.kind > PIDTUPLE_NODE_CALLBACK, -EINVAL);
	pt_return_if(nd.flags & ~(uint64_t)PIDTUPLE_NODE_NEWPID, -EINVAL);
	pt_return_if(idx == 0 ? nd.parent != -1 : nd.parent < 0 || nd.parent >= idx, -EINVAL);
	pt_return_if(!nd.tuple || nd.tuple->n < 1 || nd.tuple->n > PIDTUPLE_MAX_LEVELS, -EINVAL);
	for (unsigned int i = 0; i < nd.tuple->n; i++)
		pt_return_if(nd.tuple->pid[i] < 1, -EINVAL);
	pt_return_if(nd.kind == PIDTUPLE_NODE_EXEC && (!nd.path || !nd.argv), -EINVAL);
	pt_return_if(nd.kind == PIDTUPLE_NODE_CALLBACK && !nd.fn, -EINVAL);
	pt_return_if(tree->n >= INT_MAX / 4, -ENOMEM);
	r = grow_nodes(tree);
	if (r < 0)
		return r;
	t = pt_malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct pt_tnode){ .flags = nd.flags, .parent = nd.parent, .kind = nd.kind };
	if (nd.kind == PIDTUPLE_NODE_CALLBACK) {
		t->fn = nd.fn;
		t->arg = nd.arg;
	}
	r = dup_tuple(nd.tuple, &t->tuple);
	if (r == 0)
		r = dup_tuple(nd.pgid, &t->pgid);
	if (r == 0)
		r = dup_tuple(nd.sid, &t->sid);
	if (r == 0 && nd.kind == PIDTUPLE_NODE_EXEC) {
		t->path = dup_str(nd.path);
		r = t->path ? dup_strv(nd.argv, &t->argv) : -ENOMEM;
		if (r == 0)
			r = dup_strv(nd.envp, &t->envp);
	}
	if (r < 0) {
		node_free(t);
		return r == -EINVAL ? -EINVAL : -ENOMEM;
	}
	tree->nodes[tree->n++] = t;
	return idx;
}

PT_PUBLIC int pidtuple_tree_size(const struct pidtuple_tree *tree)
{
	pt_return_if(!tree, -EINVAL);
	return (int)tree->n;
}

PT_PUBLIC int pidtuple_tree_get(const struct pidtuple_tree *tree, unsigned int index,
				struct pidtuple_node *node)
{
	const struct pt_tnode *t;
	struct pidtuple_node out;

	pt_return_if(!tree || !node || node->sz < sizeof(size_t), -EINVAL);
	pt_return_if(index >= tree->n, -ERANGE);
	t = tree->nodes[index];
	memset(&out, 0, sizeof(out));
	out.flags = t->flags;
	out.parent = t->parent;
	out.kind = t->kind;
	out.tuple = t->tuple;
	out.pgid = t->pgid;
	out.sid = t->sid;
	out.path = t->path;
	out.argv = t->argv;
	out.envp = t->envp;
	out.fn = t->fn;
	out.arg = t->arg;
	/* Write only what the caller's struct has room for; leave its sz alone. */
	memcpy((char *)node + sizeof(size_t), (char *)&out + sizeof(size_t),
	       (node->sz < sizeof(out) ? node->sz : sizeof(out)) - sizeof(size_t));
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
