/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The planner: the state the check of a tree builds its plan in (tree_plan.c and the files it
 * calls), its allocation, and the diagnostics every phase words alike.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "opts.h"
#include "tree_int.h"

/* ---- diagnostics ----------------------------------------------------------------------- */

void pt_diag_set_node(struct pidtuple_diag *diag, int node)
{
	if (pt_diag_usable(diag) && PT_OPTS_HAS(diag, node))
		diag->node = node;
}

void pt_diag_set_thread(struct pidtuple_diag *diag, int thread)
{
	if (pt_diag_usable(diag) && PT_OPTS_HAS(diag, thread))
		diag->thread = thread;
}

void pt_format_pos(const pid_t *pid, unsigned int n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int p = 0; p < n && len < size; p++) {
		int w = snprintf(buf + len, size - len, p ? "/%d" : "%d", (int)pid[p]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

const char *pt_errno_str(int err)
{
	/* Static and thread-safe, unlike strerror()'s buffer for unknown codes. */
	const char *d = strerrordesc_np(err < 0 ? -err : err);

	return d ? d : "Unknown error";
}

/* ---- the planner ---------------------------------------------------------------------- */

int pt_plan_diag(struct planner *pn, int err, uint32_t rule, pt_proc_idx node, int pos, pid_t pid,
		 const char *fmt, ...)
{
	char msg[PIDTUPLE_DIAG_MESSAGE_SIZE];
	unsigned int n = node >= 0 ? pn->pl->procs[node].n : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pt_diag(pn->diag, err, rule, pos >= 0 ? (int)n - 1 - pos : -1, n, pid, "%s", msg);
	pt_diag_set_node(pn->diag, node);
	return err;
}

const char *pt_plan_tuple(const struct pt_proc *proc, char *buf, size_t size)
{
	pt_format_pos(proc->pid, proc->n, buf, size);
	return buf;
}

/* The node a diagnostic names for a process: itself, or the node a helper serves. */
pt_proc_idx pt_plan_node_of(const struct planner *pn, pt_proc_idx p)
{
	const struct pt_proc *proc = &pn->pl->procs[p];

	return proc->node >= 0 ? proc->node : proc->for_node;
}

int pt_plan_describe(const struct planner *pn, pt_proc_idx id, char *buf, size_t size)
{
	char t[160];

	if (id == PT_ID_EXT)
		return snprintf(buf, size, "the caller's");
	pt_plan_tuple(&pn->pl->procs[id], t, sizeof(t));
	if (id < pn->nnodes)
		return snprintf(buf, size, "node %d's (%s)", id, t);
	return snprintf(buf, size, "the dead leader %s's", t);
}

static void *zalloc(size_t n, size_t size)
{
	size_t len;
	void *p;

	if (n && size > SIZE_MAX / n)
		return NULL;
	len = n * size;
	p = pt_malloc(len > 0 ? len : 1);
	if (p)
		memset(p, 0, len);
	return p;
}

static bool size_of(size_t n, size_t size, size_t *ret)
{
	if (n && size > SIZE_MAX / n)
		return false;
	*ret = n * size;
	return true;
}

void pt_plan_free(struct pt_plan *pl)
{
	if (!pl)
		return;
	if (pl->have_ctx)
		pt_nsctx_fini(&pl->ctx);
	pt_munmap(pl->procs, pl->procs_len);
	free(pl->ops);
	free(pl);
}

#define PLANNER_NARRAYS 18

/* The planner's own arrays, for checking and freeing them alike. */
static void planner_arrays(const struct planner *pn, void *v[PLANNER_NARRAYS])
{
	void *all[PLANNER_NARRAYS] = {
		pn->cur_sid,	  pn->cur_pgid,	    pn->last_op,	  pn->first_child,
		pn->last_child,	  pn->next_sibling, pn->group_sid_needed, pn->state,
		pn->founds_group, pn->group_size,   pn->group_sid,	  pn->born_sid,
		pn->born_pgid,	  pn->child_start,  pn->children,	  pn->deferred,
		pn->round,	  pn->claims,
	};

	memcpy(v, all, sizeof(all));
}

/* Frees the planner's arrays and the plan, unless it was handed on (pn->pl NULL). */
void pt_planner_free(struct planner *pn)
{
	void *v[PLANNER_NARRAYS];

	planner_arrays(pn, v);
	for (size_t i = 0; i < PLANNER_NARRAYS; i++)
		free(v[i]);
	pt_plan_free(pn->pl);
	pn->pl = NULL;
}

/* Starting values: nothing created, no identity decided; the caller in its own group. */
static void planner_reset(struct planner *pn)
{
	for (size_t i = 0; i < pn->cap_procs; i++) {
		pn->cur_sid[i] = pn->cur_pgid[i] = PT_ID_NONE;
		pn->last_op[i] = pn->first_child[i] = pn->last_child[i] = pn->next_sibling[i] = -1;
		pn->group_sid_needed[i] = PT_ID_NONE;
	}
	for (size_t i = 0; i <= pn->cap_procs; i++)
		pn->group_sid[i] = PT_ID_NONE;
	pn->group_size[0] = 1; /* the caller is in its own group */
	pn->group_sid[0] = PT_ID_EXT;
	for (pt_proc_idx i = 0; i < pn->nnodes; i++)
		pn->born_sid[i] = pn->born_pgid[i] = PT_ID_NONE;
}

/* The TIDs the threads of every node claim (each node's are capped: no overflow). */
static size_t thread_claims(const struct pidtuple_tree *tree)
{
	size_t k = 0;

	for (unsigned int i = 0; i < tree->n; i++)
		k += (size_t)tree->nodes[i]->nthreads * tree->nodes[i]->tuple->n;
	return k;
}

/* The planner's arrays (NULL where malloc() failed). */
static void planner_alloc_arrays(struct planner *pn)
{
	size_t np = pn->cap_procs, nn = (size_t)pn->nnodes, len;

	pn->cur_sid = zalloc(np, sizeof(pt_proc_idx));
	pn->cur_pgid = zalloc(np, sizeof(pt_proc_idx));
	pn->last_op = zalloc(np, sizeof(int32_t));
	pn->first_child = zalloc(np, sizeof(pt_proc_idx));
	pn->last_child = zalloc(np, sizeof(pt_proc_idx));
	pn->next_sibling = zalloc(np, sizeof(pt_proc_idx));
	pn->group_sid_needed = zalloc(np, sizeof(pt_proc_idx));
	pn->state = zalloc(np, 1);
	pn->founds_group = zalloc(np, 1);
	pn->group_size = zalloc(np + 1, sizeof(int32_t));
	pn->group_sid = zalloc(np + 1, sizeof(pt_proc_idx));
	pn->born_sid = zalloc(nn, sizeof(pt_proc_idx));
	pn->born_pgid = zalloc(nn, sizeof(pt_proc_idx));
	pn->child_start = zalloc(nn + 1, sizeof(pt_proc_idx));
	pn->children = zalloc(nn, sizeof(pt_proc_idx));
	pn->deferred = zalloc(nn, sizeof(pt_proc_idx));
	pn->round = zalloc(nn, sizeof(pt_proc_idx));
	/* Written before it is read: not cleared, most of it is never touched. */
	if (size_of(np * PIDTUPLE_MAX_LEVELS + thread_claims(pn->tree), sizeof(*pn->claims), &len))
		pn->claims = pt_malloc(len);
}

static int planner_alloc(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;
	void *v[PLANNER_NARRAYS];

	/* Shared, not copied: every fork of a restore would copy the page table entries of
	 * private memory, while a process of the tree reads only its own entries. Entries
	 * are written whole before use, so the pages past the last process stay untouched. */
	if (size_of(pn->cap_procs, sizeof(*pl->procs), &pl->procs_len))
		pl->procs = pt_mmap_shared(pl->procs_len);
	if (!pl->procs)
		return pt_diag(pn->diag, -ENOMEM, PIDTUPLE_RULE_KERNEL, -1, 0, 0,
			       "cannot map the plan's table of %zu processes (mmap): %s",
			       pn->cap_procs, pt_errno_str(ENOMEM));
	pn->cap_ops = 4 * (size_t)pn->nnodes + 16;
	pl->ops = zalloc(pn->cap_ops, sizeof(*pl->ops));
	planner_alloc_arrays(pn);
	planner_arrays(pn, v);
	for (size_t i = 0; i < PLANNER_NARRAYS; i++)
		if (!v[i] || !pl->ops)
			return pt_diag(pn->diag, -ENOMEM, PIDTUPLE_RULE_KERNEL, -1, 0, 0,
				       "cannot allocate the plan of %d node(s) (malloc): %s",
				       pn->nnodes, pt_errno_str(ENOMEM));
	planner_reset(pn);
	return 0;
}

/* Sets up the planner and an empty plan for @tree; refuses what needs no look at the nodes. */
int pt_planner_init(struct planner *pn, const struct pidtuple_tree *tree,
		    const struct pt_fork_opts *o, struct pidtuple_diag *diag)
{
	*pn = (struct planner){ .tree = tree, .opts = o, .diag = diag };
	pt_diag_reset(diag, 0);
	if (!tree || tree->n == 0)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, -1, 0, 0,
			       tree ? "the tree has no nodes" : "no tree given");
	if (o->clone_flags)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_FLAGS, -1, 0, 0,
			       "a tree takes no clone_flags: namespaces are per node "
			       "(PIDTUPLE_NODE_NEWPID)");
	pn->pl = zalloc(1, sizeof(*pn->pl));
	if (!pn->pl)
		return pt_diag(diag, -ENOMEM, PIDTUPLE_RULE_KERNEL, -1, 0, 0,
			       "cannot allocate the plan (malloc): %s", pt_errno_str(ENOMEM));
	/* pidtuple_tree_add() keeps the count below INT_MAX / 4. */
	pn->nnodes = (pt_proc_idx)tree->n;
	pn->cap_procs = 3 * (size_t)pn->nnodes;
	pn->pl->nnodes = pn->pl->nprocs = pn->nnodes;
	pn->pl->first = -1;
	return planner_alloc(pn);
}
