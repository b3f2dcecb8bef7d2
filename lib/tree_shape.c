/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check of a tree description on its own: its shape (one root, parents first, level
 * counts, group and session tuples), and PIDs claimed twice in one namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "tree_int.h"

/* ---- shape ----------------------------------------------------------------------------- */

static int check_group_tuple(struct planner *pn, pt_proc_idx i, const struct pidtuple *g,
			     const char *what)
{
	unsigned int n = pn->pl->procs[i].n;
	int zero_at = -1;

	if (!g)
		return 0;
	if (g->n != n)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				    "node %d: its %s tuple has %u level(s), the node %u", i, what,
				    g->n, n);
	for (int p = 0; p < (int)n; p++) {
		pid_t v = g->pid[n - 1 - p];

		if (v < 0)
			return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, p, v,
					    "node %d: its %s tuple has a negative PID", i, what);
		if (v == 0 && zero_at < 0)
			zero_at = p;
		if (v && zero_at >= 0)
			return pt_plan_diag(
				pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, p, v,
				"node %d: its %s is visible at NSpid field %d but not at field "
				"%d further out (fields counted from 1); no namespace shows that",
				i, what, p + 1, zero_at + 1);
	}
	return 0;
}

/* Process @i of the plan from node @i: its PIDs by position and in set_tid order. */
static void fill_node_proc(struct planner *pn, pt_proc_idx i)
{
	const struct pt_tnode *nd = pn->tree->nodes[i];
	struct pt_proc *proc = &pn->pl->procs[i];
	unsigned int n = nd->tuple->n;

	*proc = (struct pt_proc){ .node = i,
				  .parent = nd->parent,
				  .creator = nd->parent,
				  .n = n,
				  .first_op = -1,
				  .create_op = -1,
				  .exit_op = -1,
				  .for_node = -1 };
	for (unsigned int p = 0; p < n; p++) {
		proc->pid[p] = nd->tuple->pid[n - 1 - p];
		proc->set_tid[p] = nd->tuple->pid[p];
		proc->ns_init[p] = -1;
	}
}

/* Node @i under its parent: an earlier node with as many levels (one less when @i starts a
 * PID namespace), whose namespaces @i lives in. */
static int check_node_parent(struct planner *pn, pt_proc_idx i)
{
	const struct pt_tnode *nd = pn->tree->nodes[i];
	struct pt_proc *proc = &pn->pl->procs[i];
	bool newpid = nd->flags & PIDTUPLE_NODE_NEWPID;
	const struct pt_proc *parent;

	if (i == 0) {
		if (nd->parent != -1)
			return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, 0, -1, 0,
					    "node 0 is the root: its parent must be -1");
		return 0;
	}
	if (nd->parent < 0 || nd->parent >= i)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				    "node %d: parent %d is not an earlier node", i, nd->parent);
	parent = &pn->pl->procs[nd->parent];
	if (proc->n != parent->n + newpid)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				    "node %d has %u level(s), but as a child%s of node %d "
				    "(%u level(s)) it needs %u",
				    i, proc->n, newpid ? " in a new PID namespace" : "", nd->parent,
				    parent->n, parent->n + newpid);
	memcpy(proc->ns_init, parent->ns_init, parent->n * sizeof(proc->ns_init[0]));
	return 0;
}

/* Threads only where they can live: a HOLD node (execve() would end them at once, a callback
 * would run beside threads it knows nothing of), each with its node's levels. */
static int check_node_threads(struct planner *pn, pt_proc_idx i)
{
	static const char *const kind[] = { "HOLD", "EXEC", "CALLBACK" };
	const struct pt_tnode *nd = pn->tree->nodes[i];

	if (nd->nthreads && nd->kind != PIDTUPLE_NODE_HOLD)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				    "node %d is an %s node with %u thread(s): only a HOLD node "
				    "can hold threads (execve() ends them; a callback would run "
				    "beside threads it does not know)",
				    i, kind[nd->kind], nd->nthreads);
	for (uint32_t k = 0; k < nd->nthreads; k++)
		if (nd->threads[k]->n != nd->tuple->n) {
			pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				     "node %d thread %u: its TID tuple has %u level(s), the node "
				     "%u (a thread lives in its process's namespaces)",
				     i, k, nd->threads[k]->n, nd->tuple->n);
			pt_diag_set_thread(pn->diag, (int)k);
			return -EINVAL;
		}
	return 0;
}

static int check_node_shape(struct planner *pn, pt_proc_idx i)
{
	const struct pt_tnode *nd = pn->tree->nodes[i];
	struct pt_proc *proc = &pn->pl->procs[i];
	unsigned int n = nd->tuple->n;
	int r;

	fill_node_proc(pn, i);
	r = check_node_parent(pn, i);
	if (r < 0)
		return r;
	if (nd->flags & PIDTUPLE_NODE_NEWPID) {
		proc->ns_init[n - 1] = i;
		pn->has_newpid = pn->has_newpid || i > 0;
		if (proc->pid[n - 1] != 1)
			return pt_plan_diag(
				pn, -EINVAL, PIDTUPLE_RULE_NEWPID_ONE, i, (int)n - 1,
				proc->pid[n - 1],
				"node %d starts a new PID namespace, so its innermost PID "
				"must be 1, not %d",
				i, (int)proc->pid[n - 1]);
	}
	r = check_group_tuple(pn, i, nd->pgid, "process group");
	if (r == 0)
		r = check_group_tuple(pn, i, nd->sid, "session");
	return r < 0 ? r : check_node_threads(pn, i);
}

int pt_plan_check_shape(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;

	for (pt_proc_idx i = 0; i < pn->nnodes; i++) {
		int r = check_node_shape(pn, i);

		if (r < 0)
			return r;
	}
	pl->top = (int)pl->procs[0].n - 1 - !!(pn->tree->nodes[0]->flags & PIDTUPLE_NODE_NEWPID);
	return 0;
}

/* ---- PIDs claimed twice ---------------------------------------------------------------- */

static int claim_cmp(const void *x, const void *y)
{
	const struct pid_claim *c = x, *d = y;

	if (c->ns_init != d->ns_init)
		return c->ns_init < d->ns_init ? -1 : 1;
	if (c->pos != d->pos)
		return c->pos < d->pos ? -1 : 1;
	if (c->pid != d->pid)
		return c->pid < d->pid ? -1 : 1;
	if (c->proc != d->proc)
		return c->proc < d->proc ? -1 : 1;
	return c->thread < d->thread ? -1 : c->thread > d->thread;
}

/* "node 3 (5/2)", "node 3 thread 1 (7/4)": who makes a claim. */
static const char *claimant(const struct planner *pn, const struct pid_claim *c, char *buf,
			    size_t size)
{
	const struct pt_proc *proc = &pn->pl->procs[c->proc];
	char t[160];

	if (c->thread < 0 && proc->node < 0) {
		pt_plan_tuple(proc, t, sizeof(t));
		snprintf(buf, size, "the dead leader (%s) that node %d's session or group needs", t,
			 pt_plan_node_of(pn, c->proc));
	} else if (c->thread < 0) {
		pt_plan_tuple(proc, t, sizeof(t));
		snprintf(buf, size, "node %d (%s)", c->proc, t);
	} else {
		pidtuple_format(pn->tree->nodes[c->proc]->threads[c->thread], t, sizeof(t));
		snprintf(buf, size, "node %d thread %d (%s)", c->proc, c->thread, t);
	}
	return buf;
}

/* A thread's TID claimed twice: by the thread and by a node or another thread. */
static int report_thread_dup(struct planner *pn, const struct pid_claim *earlier,
			     const struct pid_claim *later)
{
	const struct pid_claim *t = later->thread >= 0 ? later : earlier;
	const struct pid_claim *o = t == later ? earlier : later;
	char b1[400], b2[400];

	pt_plan_diag(pn, -EEXIST, PIDTUPLE_RULE_TREE_DUPLICATE, t->proc, t->pos, t->pid,
		     "%s and %s both claim %s %d (NSpid field %d of %d) in the same namespace",
		     claimant(pn, o, b1, sizeof(b1)), claimant(pn, t, b2, sizeof(b2)), "TID",
		     (int)t->pid, t->pos + 1, (int)pn->pl->procs[t->proc].n);
	pt_diag_set_thread(pn->diag, t->thread);
	return -EEXIST;
}

/* Two processes claim one PID: @earlier's process has the lower index; name the later one. */
static int report_dup(struct planner *pn, const struct pid_claim *earlier,
		      const struct pid_claim *later)
{
	const struct pt_plan *pl = pn->pl;
	pt_proc_idx x = earlier->proc, y = later->proc, node = pt_plan_node_of(pn, y);
	char b1[160], b2[160];

	if (earlier->thread >= 0 || later->thread >= 0)
		return report_thread_dup(pn, earlier, later);
	pt_plan_tuple(&pl->procs[x], b1, sizeof(b1));
	pt_plan_tuple(&pl->procs[y], b2, sizeof(b2));
	if (pl->procs[y].node >= 0 && pl->procs[x].node >= 0)
		return pt_plan_diag(
			pn, -EEXIST, PIDTUPLE_RULE_TREE_DUPLICATE, y, later->pos, later->pid,
			"nodes %d (%s) and %d (%s) both claim PID %d (NSpid field %d of "
			"%d) in the same namespace",
			x, b1, y, b2, (int)later->pid, later->pos + 1, (int)pl->procs[y].n);
	return pt_plan_diag(pn, -EEXIST, PIDTUPLE_RULE_TREE_DUPLICATE, node, -1, later->pid,
			    "the dead leader %s that node %d's session or group needs "
			    "claims PID %d (NSpid field %d of %d), which %s (%s) claims too",
			    b2, node, (int)later->pid, later->pos + 1, (int)pl->procs[y].n,
			    pl->procs[x].node >= 0 ? "a node" : "another dead leader", b1);
}

/* Appends the TIDs of every node's threads to the claims from @k on; returns the new count. A
 * thread lives in its node's namespaces. */
static size_t add_thread_claims(struct planner *pn, size_t k)
{
	const struct pt_plan *pl = pn->pl;

	for (pt_proc_idx i = 0; i < pn->nnodes; i++) {
		const struct pt_tnode *nd = pn->tree->nodes[i];
		unsigned int n = nd->tuple->n;

		for (uint32_t t = 0; t < nd->nthreads; t++)
			for (unsigned int p = 0; p < n; p++)
				pn->claims[k++] =
					(struct pid_claim){ pl->procs[i].ns_init[p], (int32_t)p,
							    nd->threads[t]->pid[n - 1 - p], i,
							    (int32_t)t };
	}
	return k;
}

/* Sorts the PIDs of the first @nprocs processes (for pt_plan_claiming_node()) and refuses any
 * claimed twice at one position of one namespace. */
int pt_plan_check_dups(struct planner *pn, pt_proc_idx nprocs)
{
	const struct pt_plan *pl = pn->pl;
	size_t k = 0;

	for (pt_proc_idx i = 0; i < nprocs; i++)
		for (unsigned int p = 0; p < pl->procs[i].n; p++)
			pn->claims[k++] = (struct pid_claim){ pl->procs[i].ns_init[p], (int32_t)p,
							      pl->procs[i].pid[p], i, -1 };
	k = add_thread_claims(pn, k);
	qsort(pn->claims, k, sizeof(*pn->claims), claim_cmp);
	pn->nclaims = k;
	for (size_t i = 1; i < k; i++) {
		const struct pid_claim *c = &pn->claims[i - 1], *d = &pn->claims[i];

		if (c->ns_init == d->ns_init && c->pos == d->pos && c->pid == d->pid &&
		    (c->proc != d->proc || c->thread != d->thread))
			return report_dup(pn, c, d);
	}
	return 0;
}

/* The node with PID @pid at position @pos of namespace @ns_init, or -1. */
pt_proc_idx pt_plan_claiming_node(const struct planner *pn, pt_proc_idx ns_init, int32_t pos,
				  pid_t pid)
{
	struct pid_claim key = { ns_init, pos, pid, -1, -1 };
	const struct pid_claim *found;
	size_t lo = 0, hi = pn->nclaims;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (claim_cmp(&pn->claims[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == pn->nclaims)
		return -1;
	found = &pn->claims[lo];
	/* A thread's TID names no node: no process group or session can carry it. */
	if (found->ns_init == ns_init && found->pos == pos && found->pid == pid &&
	    found->proc < pn->nnodes && found->thread < 0)
		return found->proc;
	return -1;
}
