/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check of a tree description, which plans the whole creation: which process forks
 * which, when sessions and process groups are made, which temporary helpers stand in for dead
 * leaders. It replays the kernel's session and group rules on that plan, so a description that
 * cannot be built is refused before anything exists, and restore.c only executes the plan.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "opts.h"
#include "probe.h"
#include "tree_int.h"
#include "validator.h"

#define CAP_BIT(c) (1ull << (c))
#define CAP_PIN (CAP_BIT(PT_CAP_SYS_ADMIN) | CAP_BIT(PT_CAP_CHECKPOINT_RESTORE))

/* ---- diagnostics ----------------------------------------------------------------------- */

void pt_diag_set_node(struct pidtuple_diag *diag, int node)
{
	if (pt_diag_usable(diag) && PT_OPTS_HAS(diag, node))
		diag->node = node;
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

/* ---- the planner's state --------------------------------------------------------------- */

/* What the replay knows of a process so far. */
enum {
	PROC_CREATED = 1,
	PROC_EXITED = 2,
	PROC_SESSION_LEADER = 4, /* it called setsid() */
	PROC_TRIED = 8,		 /* its creation was attempted */
	PROC_CHILDREN_DONE = 16, /* create_children() is through with it */
};

/* try_create(): created (0), or to be tried again once more exists. */
enum { TRY_DONE = 0, TRY_DEFER = 1 };

/* A PID a process claims: its number at position @pos of the namespace whose init is process
 * @ns_init (-1: a namespace that exists already). */
struct pid_claim {
	pt_proc_idx ns_init;
	int32_t pos;
	pid_t pid;
	pt_proc_idx proc;
};

struct planner {
	const struct pidtuple_tree *tree;
	const struct pt_fork_opts *opts;
	struct pidtuple_diag *diag;
	struct pt_plan *pl;
	pt_proc_idx nnodes;
	size_t cap_procs, cap_ops;
	pid_t caller_sid, caller_pgid;
	bool has_newpid; /* a node below the root starts a PID namespace */
	/* per process, as the replay goes */
	pt_proc_idx *cur_sid, *cur_pgid;		      /* its session and group now */
	int32_t *last_op;				      /* its last step so far, -1 */
	pt_proc_idx *first_child, *last_child, *next_sibling; /* the children created so far */
	pt_proc_idx *group_sid_needed; /* a dead group leader: the session its group is in */
	uint8_t *state;		       /* PROC_* */
	uint8_t *founds_group;	       /* leads a group: calls setpgid(0, 0) or setsid() */
	/* per identity (a process, or PT_ID_EXT), indexed by identity + 1 */
	int32_t *group_size;	/* the processes in the group now */
	pt_proc_idx *group_sid; /* the session the group belongs to now */
	/* per node */
	pt_proc_idx *born_sid, *born_pgid;   /* the session, group it must be born in, or NONE */
	pt_proc_idx *child_start, *children; /* its children: children[child_start[x]...] */
	pt_proc_idx *deferred, *round;	     /* nodes whose creation waits for more to exist */
	pt_proc_idx ndeferred;
	struct pid_claim *claims; /* every PID claimed, by namespace, position and PID */
	size_t nclaims;
};

static int plan_diag(struct planner *pn, int err, uint32_t rule, pt_proc_idx node, int pos,
		     pid_t pid, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int plan_diag(struct planner *pn, int err, uint32_t rule, pt_proc_idx node, int pos,
		     pid_t pid, const char *fmt, ...)
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

static const char *tuple_str(const struct pt_proc *proc, char *buf, size_t size)
{
	pt_format_pos(proc->pid, proc->n, buf, size);
	return buf;
}

static const char *id_kind(bool session)
{
	return session ? "session" : "process group";
}

/* The node a diagnostic names for a process: itself, or the node a helper serves. */
static pt_proc_idx node_of(const struct planner *pn, pt_proc_idx p)
{
	const struct pt_proc *proc = &pn->pl->procs[p];

	return proc->node >= 0 ? proc->node : proc->for_node;
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
static void planner_free(struct planner *pn)
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

static int planner_alloc(struct planner *pn)
{
	size_t np = pn->cap_procs, nn = (size_t)pn->nnodes, len;
	struct pt_plan *pl = pn->pl;
	void *v[PLANNER_NARRAYS];

	/* Shared, not copied: every fork of a restore would copy the page table entries of
	 * private memory, while a process of the tree reads only its own entries. Entries
	 * are written whole before use, so the pages past the last process stay untouched. */
	if (size_of(np, sizeof(*pl->procs), &pl->procs_len))
		pl->procs = pt_mmap_shared(pl->procs_len);
	pn->cap_ops = 4 * nn + 16;
	pl->ops = zalloc(pn->cap_ops, sizeof(*pl->ops));
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
	if (size_of(np * PIDTUPLE_MAX_LEVELS, sizeof(*pn->claims), &len))
		pn->claims = pt_malloc(len);
	if (!pl->procs || !pl->ops)
		return -ENOMEM;
	planner_arrays(pn, v);
	for (size_t i = 0; i < PLANNER_NARRAYS; i++)
		if (!v[i])
			return -ENOMEM;
	planner_reset(pn);
	return 0;
}

/* Sets up the planner and an empty plan for @tree; refuses what needs no look at the nodes. */
static int planner_init(struct planner *pn, const struct pidtuple_tree *tree,
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
		return -ENOMEM;
	/* pidtuple_tree_add() keeps the count below INT_MAX / 4. */
	pn->nnodes = (pt_proc_idx)tree->n;
	pn->cap_procs = 3 * (size_t)pn->nnodes;
	pn->pl->nnodes = pn->pl->nprocs = pn->nnodes;
	pn->pl->first = -1;
	return planner_alloc(pn);
}

/* ---- shape ----------------------------------------------------------------------------- */

static int check_group_tuple(struct planner *pn, pt_proc_idx i, const struct pidtuple *g,
			     const char *what)
{
	unsigned int n = pn->pl->procs[i].n;
	int zero_at = -1;

	if (!g)
		return 0;
	if (g->n != n)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				 "node %d: its %s tuple has %u level(s), the node %u", i, what,
				 g->n, n);
	for (int p = 0; p < (int)n; p++) {
		pid_t v = g->pid[n - 1 - p];

		if (v < 0)
			return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, p, v,
					 "node %d: its %s tuple has a negative PID", i, what);
		if (v == 0 && zero_at < 0)
			zero_at = p;
		if (v && zero_at >= 0)
			return plan_diag(
				pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, p, v,
				"node %d: its %s is visible at NSpid field %d but not at field "
				"%d further out; no namespace shows that",
				i, what, p, zero_at);
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
			return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, 0, -1, 0,
					 "node 0 is the root: its parent must be -1");
		return 0;
	}
	if (nd->parent < 0 || nd->parent >= i)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				 "node %d: parent %d is not an earlier node", i, nd->parent);
	parent = &pn->pl->procs[nd->parent];
	if (proc->n != parent->n + newpid)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, i, -1, 0,
				 "node %d has %u level(s), but as a child%s of node %d "
				 "(%u level(s)) it needs %u",
				 i, proc->n, newpid ? " in a new PID namespace" : "", nd->parent,
				 parent->n, parent->n + newpid);
	memcpy(proc->ns_init, parent->ns_init, parent->n * sizeof(proc->ns_init[0]));
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
			return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_NEWPID_ONE, i, (int)n - 1,
					 proc->pid[n - 1],
					 "node %d starts a new PID namespace, so its innermost PID "
					 "must be 1, not %d",
					 i, (int)proc->pid[n - 1]);
	}
	r = check_group_tuple(pn, i, nd->pgid, "process group");
	if (r == 0)
		r = check_group_tuple(pn, i, nd->sid, "session");
	return r;
}

static int check_shape(struct planner *pn)
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
	return c->proc < d->proc ? -1 : c->proc > d->proc;
}

/* Two processes claim one PID: @earlier's process has the lower index; name the later one. */
static int report_dup(struct planner *pn, const struct pid_claim *earlier,
		      const struct pid_claim *later)
{
	const struct pt_plan *pl = pn->pl;
	pt_proc_idx x = earlier->proc, y = later->proc, node = node_of(pn, y);
	char b1[160], b2[160];

	tuple_str(&pl->procs[x], b1, sizeof(b1));
	tuple_str(&pl->procs[y], b2, sizeof(b2));
	if (pl->procs[y].node >= 0 && pl->procs[x].node >= 0)
		return plan_diag(pn, -EEXIST, PIDTUPLE_RULE_TREE_DUPLICATE, y, later->pos,
				 later->pid,
				 "nodes %d (%s) and %d (%s) both claim PID %d at NSpid field "
				 "%d in the same namespace",
				 x, b1, y, b2, (int)later->pid, later->pos);
	return plan_diag(pn, -EEXIST, PIDTUPLE_RULE_TREE_DUPLICATE, node, -1, later->pid,
			 "the dead leader %s that node %d's session or group needs "
			 "claims PID %d at NSpid field %d, which %s (%s) claims too",
			 b2, node, (int)later->pid, later->pos,
			 pl->procs[x].node >= 0 ? "a node" : "another dead leader", b1);
}

/* Sorts the PIDs of the first @nprocs processes (for claiming_node()) and refuses any claimed
 * twice at one position of one namespace. */
static int check_dups(struct planner *pn, pt_proc_idx nprocs)
{
	const struct pt_plan *pl = pn->pl;
	size_t k = 0;

	for (pt_proc_idx i = 0; i < nprocs; i++)
		for (unsigned int p = 0; p < pl->procs[i].n; p++)
			pn->claims[k++] = (struct pid_claim){ pl->procs[i].ns_init[p], (int32_t)p,
							      pl->procs[i].pid[p], i };
	qsort(pn->claims, k, sizeof(*pn->claims), claim_cmp);
	pn->nclaims = k;
	for (size_t i = 1; i < k; i++) {
		const struct pid_claim *c = &pn->claims[i - 1], *d = &pn->claims[i];

		if (c->ns_init == d->ns_init && c->pos == d->pos && c->pid == d->pid &&
		    c->proc != d->proc)
			return report_dup(pn, c, d);
	}
	return 0;
}

/* The node with PID @pid at position @pos of namespace @ns_init, or -1. */
static pt_proc_idx claiming_node(const struct planner *pn, pt_proc_idx ns_init, int32_t pos,
				 pid_t pid)
{
	struct pid_claim key = { ns_init, pos, pid, -1 };
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
	if (found->ns_init == ns_init && found->pos == pos && found->pid == pid &&
	    found->proc < pn->nnodes)
		return found->proc;
	return -1;
}

/* ---- whose session, whose group -------------------------------------------------------- */

/* The number identity @id has in the namespace @p lives in; 0 when not visible there. */
static pid_t seen_as(const struct planner *pn, pt_proc_idx id, pt_proc_idx p, bool group)
{
	const struct pt_plan *pl = pn->pl;
	const struct pt_proc *proc = &pl->procs[p], *leader;
	int pos = (int)proc->n - 1;

	if (id == PT_ID_EXT)
		return pos == pl->cpos ? (group ? pn->caller_pgid : pn->caller_sid) : 0;
	if (id < 0)
		return 0;
	leader = &pl->procs[id];
	return (int)leader->n > pos && leader->ns_init[pos] == proc->ns_init[pos] ? leader->pid[pos]
										  : 0;
}

/* A helper for node @i with the PIDs @pids up to position @inner. */
static pt_proc_idx new_helper(struct planner *pn, pt_proc_idx i, const pid_t *pids, int inner,
			      uint32_t role)
{
	struct pt_plan *pl = pn->pl;
	const struct pt_proc *node = &pl->procs[i];
	pt_proc_idx h = pl->nprocs++;
	struct pt_proc *helper = &pl->procs[h];

	*helper = (struct pt_proc){ .node = -1,
				    .parent = -1,
				    .creator = -1,
				    .n = (uint32_t)inner + 1,
				    .first_op = -1,
				    .create_op = -1,
				    .exit_op = -1,
				    .for_node = i,
				    .role = role };
	for (int p = 0; p <= inner; p++) {
		helper->pid[p] = pids[p];
		helper->ns_init[p] = node->ns_init[p];
		helper->set_tid[inner - p] = pids[p];
	}
	return h;
}

/* Node @leader has the PID that numbers node @i's session or group: @i must see it as @pids. */
static int match_leader(struct planner *pn, pt_proc_idx i, bool session, const pid_t *pids,
			pt_proc_idx leader, pt_proc_idx *ret)
{
	const struct pt_proc *node = &pn->pl->procs[i], *lp = &pn->pl->procs[leader];
	char b1[160], b2[160];

	for (unsigned int p = 0; p < node->n; p++) {
		pid_t want = lp->n > p && lp->ns_init[p] == node->ns_init[p] ? lp->pid[p] : 0;

		if (want == pids[p])
			continue;
		pt_format_pos(pids, node->n, b1, sizeof(b1));
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, (int)p, pids[p],
				 "node %d: its %s %s is node %d (%s), which node %d would "
				 "see as %d at NSpid field %u, not %d",
				 i, id_kind(session), b1, leader, tuple_str(lp, b2, sizeof(b2)), i,
				 (int)want, p, (int)pids[p]);
	}
	*ret = leader;
	return 0;
}

/* No node has the PID that numbers node @i's session or group (innermost visible at
 * position @inner): a helper stands in for the dead leader, one for every node naming it. */
static int dead_leader(struct planner *pn, pt_proc_idx i, bool session, const pid_t *pids,
		       int inner, pt_proc_idx *ret)
{
	struct pt_plan *pl = pn->pl;
	const struct pt_proc *node = &pl->procs[i];
	uint32_t role = session ? PT_ROLE_SESSION : PT_ROLE_GROUP;
	char b1[160], b2[160];

	pt_format_pos(pids, node->n, b1, sizeof(b1));
	if (node->ns_init[inner] == -1 && inner < pl->top)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, inner, pids[inner],
				 "node %d: the leader of its %s %s lived above the namespace the "
				 "tree is created in and is not the caller's; it cannot be "
				 "recreated",
				 i, id_kind(session), b1);
	for (pt_proc_idx h = pn->nnodes; h < pl->nprocs; h++) {
		struct pt_proc *helper = &pl->procs[h];

		if ((int)helper->n != inner + 1 || helper->ns_init[inner] != node->ns_init[inner] ||
		    helper->pid[inner] != pids[inner])
			continue;
		for (int p = 0; p < inner; p++)
			if (helper->pid[p] != pids[p])
				return plan_diag(
					pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, p, pids[p],
					"node %d: its %s %s and node %d's %s name the same "
					"dead leader with different PIDs",
					i, id_kind(session), b1, helper->for_node,
					tuple_str(helper, b2, sizeof(b2)));
		helper->role |= role;
		*ret = h;
		return 0;
	}
	*ret = new_helper(pn, i, pids, inner, role);
	return 0;
}

/* Node @i's session (or group): a node, a helper for a dead leader, or the caller's. */
static int resolve(struct planner *pn, pt_proc_idx i, bool session, pt_proc_idx *ret)
{
	const struct pt_plan *pl = pn->pl;
	const struct pt_tnode *nd = pn->tree->nodes[i];
	const struct pidtuple *g = session ? nd->sid : nd->pgid;
	const struct pt_proc *node = &pl->procs[i];
	pid_t pids[PIDTUPLE_MAX_LEVELS] = { 0 };
	int inner = -1; /* the innermost position where it is visible */
	pt_proc_idx leader;

	if (!g) {
		*ret = i == 0	 ? PT_ID_EXT
		       : session ? pl->procs[nd->parent].sid
				 : pl->procs[nd->parent].pgid;
		return 0;
	}
	for (unsigned int p = 0; p < node->n; p++) {
		pids[p] = g->pid[node->n - 1 - p];
		if (pids[p])
			inner = (int)p;
	}
	if (inner < 0 || inner < pl->cpos) {
		*ret = PT_ID_EXT; /* not visible in the tree: inherited from the caller */
		return 0;
	}
	leader = claiming_node(pn, node->ns_init[inner], inner, pids[inner]);
	if (leader >= 0)
		return match_leader(pn, i, session, pids, leader, ret);
	if (inner == pl->cpos && node->ns_init[inner] == -1 &&
	    pids[inner] == (session ? pn->caller_sid : pn->caller_pgid)) {
		*ret = PT_ID_EXT;
		return 0;
	}
	return dead_leader(pn, i, session, pids, inner, ret);
}

static int resolve_ids(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;

	for (pt_proc_idx i = 0; i < pn->nnodes; i++) {
		int r = resolve(pn, i, true, &pl->procs[i].sid);

		if (r == 0)
			r = resolve(pn, i, false, &pl->procs[i].pgid);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The session group @pgid belongs to; PT_ID_NONE when not yet known. */
static pt_proc_idx group_session(struct planner *pn, pt_proc_idx pgid)
{
	const struct pt_plan *pl = pn->pl;

	if (pgid == PT_ID_EXT)
		return PT_ID_EXT;
	if (pgid < pn->nnodes)
		return pl->procs[pgid].sid;
	if (pl->procs[pgid].role & PT_ROLE_SESSION)
		return pgid;
	return pn->group_sid_needed[pgid];
}

static int describe(const struct planner *pn, pt_proc_idx id, char *buf, size_t size)
{
	char t[160];

	if (id == PT_ID_EXT)
		return snprintf(buf, size, "the caller's");
	tuple_str(&pn->pl->procs[id], t, sizeof(t));
	if (id < pn->nnodes)
		return snprintf(buf, size, "node %d's (%s)", id, t);
	return snprintf(buf, size, "the dead leader %s's", t);
}

static int check_ids(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;

	for (pt_proc_idx i = 0; i < pn->nnodes; i++) {
		pt_proc_idx sid = pl->procs[i].sid, pgid = pl->procs[i].pgid;
		char b[200];

		if (sid == i && pgid != i)
			return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, -1, 0,
					 "node %d leads its session but not its process group; a "
					 "session leader always leads its own group",
					 i);
		if (sid >= 0 && sid < pn->nnodes && sid != i && pl->procs[sid].sid != sid)
			return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, -1, 0,
					 "node %d: its session is numbered after node %d, which "
					 "does not lead a session",
					 i, sid);
		if (pgid >= 0)
			pn->founds_group[pgid] = 1;
		if (pgid >= pn->nnodes && !(pl->procs[pgid].role & PT_ROLE_SESSION) &&
		    pn->group_sid_needed[pgid] == PT_ID_NONE)
			pn->group_sid_needed[pgid] = sid;
		if (group_session(pn, pgid) != sid) {
			describe(pn, pgid, b, sizeof(b));
			return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, -1, 0,
					 "node %d: its process group, %s, belongs to another "
					 "session than the node",
					 i, b);
		}
	}
	for (pt_proc_idx h = pn->nnodes; h < pl->nprocs; h++)
		if (pl->procs[h].role & PT_ROLE_SESSION)
			pn->founds_group[h] = 1;
	return 0;
}

/* ---- the plan: a replay of the kernel's rules ------------------------------------------ */

static bool alive(const struct planner *pn, pt_proc_idx p)
{
	return (pn->state[p] & PROC_CREATED) && !(pn->state[p] & PROC_EXITED);
}

/* Appends a step of @actor; returns its index. */
static int emit(struct planner *pn, uint8_t op, pt_proc_idx actor, pt_proc_idx target, pid_t arg)
{
	struct pt_plan *pl = pn->pl;
	int32_t idx;

	if ((size_t)pl->nops == pn->cap_ops) {
		struct pt_op *v;

		if (pn->cap_ops > INT_MAX / 4)
			return -ENOMEM;
		v = pt_malloc(2 * pn->cap_ops * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, pl->ops, (size_t)pl->nops * sizeof(*v));
		free(pl->ops);
		pl->ops = v;
		pn->cap_ops *= 2;
	}
	idx = pl->nops++;
	pl->ops[idx] = (struct pt_op){ op, actor, target, arg, -1 };
	if (pn->last_op[actor] >= 0)
		pl->ops[pn->last_op[actor]].next = idx;
	else
		pl->procs[actor].first_op = idx;
	pn->last_op[actor] = idx;
	return idx;
}

static void set_group(struct planner *pn, pt_proc_idx p, pt_proc_idx pgid)
{
	if (pn->cur_pgid[p] != PT_ID_NONE)
		pn->group_size[pn->cur_pgid[p] + 1]--;
	pn->cur_pgid[p] = pgid;
	if (pgid != PT_ID_NONE)
		pn->group_size[pgid + 1]++;
}

/* @p calls setsid(): it leads a new session and a new group. */
static int do_setsid(struct planner *pn, pt_proc_idx p)
{
	int r = emit(pn, PT_OP_SETSID, p, -1, 0);

	if (r < 0)
		return r;
	pn->state[p] |= PROC_SESSION_LEADER;
	pn->cur_sid[p] = p;
	set_group(pn, p, p);
	pn->group_sid[p + 1] = p;
	return 0;
}

/* The session @x must be forked in (its own comes later, by setsid()), or PT_ID_NONE. */
static pt_proc_idx start_sid(const struct planner *pn, pt_proc_idx x)
{
	pt_proc_idx sid = pn->pl->procs[x].sid;

	return sid != x ? sid : pn->born_sid[x];
}

/* The group @x must be forked in, or PT_ID_NONE. */
static pt_proc_idx start_pgid(const struct planner *pn, pt_proc_idx x)
{
	const struct pt_proc *proc = &pn->pl->procs[x];

	if (proc->sid != x && proc->pgid != x && !seen_as(pn, proc->pgid, x, true))
		return proc->pgid; /* not visible where it lives: inherited at fork time */
	return pn->born_pgid[x];
}

/* Why @p cannot join group @pgid now, or NULL when it can (the number in *num). */
static const char *join_blocker(const struct planner *pn, pt_proc_idx p, pt_proc_idx pgid,
				pid_t *num)
{
	*num = 0;
	if (pn->state[p] & PROC_SESSION_LEADER)
		return "it leads a session";
	if (pgid == p)
		return NULL;
	if (pn->group_size[pgid + 1] <= 0)
		return "no process is in that group at that point";
	if (pn->group_sid[pgid + 1] != pn->cur_sid[p])
		return "the group belongs to another session at that point";
	*num = seen_as(pn, pgid, p, true);
	if (!*num)
		return "the group's number is not visible in the node's PID namespace";
	return NULL;
}

/* @p calls setpgid(): joins group @pgid (its number @num), or founds its own. */
static int join_group(struct planner *pn, pt_proc_idx p, pt_proc_idx pgid, pid_t num)
{
	int r = emit(pn, PT_OP_SETPGID, p, -1, pgid == p ? 0 : num);

	if (r < 0)
		return r;
	set_group(pn, p, pgid);
	if (pgid == p)
		pn->group_sid[pgid + 1] = pn->cur_sid[p];
	return 0;
}

/* May @p move to group @pgid for a while, to fork a child there? */
static bool may_switch(const struct planner *pn, pt_proc_idx p, pt_proc_idx pgid, pid_t *num)
{
	const struct pt_proc *proc = &pn->pl->procs[p];

	if (p >= pn->nnodes || (pn->state[p] & PROC_SESSION_LEADER))
		return false;
	/* It must be able to come back to its own group later. */
	if (proc->pgid != p && proc->pgid != pgid && !seen_as(pn, proc->pgid, p, true))
		return false;
	if (pgid == p)
		return proc->sid != p; /* a future session leader must not lead a group first */
	return join_blocker(pn, p, pgid, num) == NULL;
}

/* Can @p (-1: the caller) fork helper @h: does it live in the helper's innermost namespace? */
static bool helper_creatable(const struct planner *pn, pt_proc_idx p, pt_proc_idx h)
{
	const struct pt_plan *pl = pn->pl;
	const struct pt_proc *helper = &pl->procs[h];
	int pos = (int)helper->n - 1;

	if (p < 0)
		return pos == pl->top && helper->ns_init[pos] == -1;
	return pl->procs[p].n == helper->n && pl->procs[p].ns_init[pos] == helper->ns_init[pos];
}

static void link_child(struct planner *pn, pt_proc_idx p, pt_proc_idx x)
{
	if (p < 0)
		return;
	if (pn->last_child[p] >= 0)
		pn->next_sibling[pn->last_child[p]] = x;
	else
		pn->first_child[p] = x;
	pn->last_child[p] = x;
}

/* @p (-1: the caller) forks helper @h, which then makes its session or group. */
static int create_helper(struct planner *pn, pt_proc_idx p, pt_proc_idx h)
{
	struct pt_plan *pl = pn->pl;
	struct pt_proc *helper = &pl->procs[h];
	int r;

	helper->parent = helper->creator = p;
	helper->ppid = p >= 0 ? pl->procs[p].pid[helper->n - 1] : 0;
	if (p >= 0) {
		r = emit(pn, PT_OP_CREATE, p, h, 0);
		if (r < 0)
			return r;
		helper->create_op = r;
	} else {
		pl->first = h;
	}
	pn->state[h] |= PROC_CREATED;
	pn->cur_sid[h] = p >= 0 ? pn->cur_sid[p] : PT_ID_EXT;
	set_group(pn, h, p >= 0 ? pn->cur_pgid[p] : PT_ID_EXT);
	link_child(pn, p, h);
	if (helper->role & PT_ROLE_SESSION)
		return do_setsid(pn, h);
	return join_group(pn, h, h, 0);
}

static int create_children(struct planner *pn, pt_proc_idx p);

/* @creator (-1: the caller) forks node @x as a child of @p, then @x its own children. */
static int create_node(struct planner *pn, pt_proc_idx p, pt_proc_idx x, pt_proc_idx creator)
{
	struct pt_plan *pl = pn->pl;
	struct pt_proc *node = &pl->procs[x];
	bool newpid = pn->tree->nodes[x]->flags & PIDTUPLE_NODE_NEWPID;
	int r;

	node->creator = creator;
	node->clone_flags = (newpid ? PT_CLONE_NEWPID : 0) | (creator != p ? PT_CLONE_PARENT : 0);
	node->ppid = p >= 0 && !newpid ? pl->procs[p].pid[node->n - 1] : 0;
	if (creator >= 0) {
		r = emit(pn, PT_OP_CREATE, creator, x, 0);
		if (r < 0)
			return r;
		node->create_op = r;
	} else {
		pl->first = x;
	}
	pn->state[x] |= PROC_CREATED;
	pn->cur_sid[x] = creator >= 0 ? pn->cur_sid[creator] : PT_ID_EXT;
	set_group(pn, x, creator >= 0 ? pn->cur_pgid[creator] : PT_ID_EXT);
	link_child(pn, p, x);
	return create_children(pn, x);
}

static int report_blocked(struct planner *pn, pt_proc_idx p, pt_proc_idx x, pt_proc_idx sid,
			  pt_proc_idx pgid)
{
	char bs[200] = "any", bg[200] = "any";

	if (sid != PT_ID_NONE)
		describe(pn, sid, bs, sizeof(bs));
	if (pgid != PT_ID_NONE)
		describe(pn, pgid, bg, sizeof(bg));
	if (p < 0)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
				 "the root must start in %s session and %s process group, which "
				 "the caller is not in",
				 bs, bg);
	return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
			 "node %d must start in %s session and %s process group (it cannot join "
			 "them later), but no process can fork it there as a child of node %d",
			 x, bs, bg, p);
}

/* The caller forks the root @x, or a helper leading the root's session forks it. */
static int create_root(struct planner *pn, pt_proc_idx x, pt_proc_idx sid, pt_proc_idx pgid)
{
	int r;

	if ((sid == PT_ID_NONE || sid == PT_ID_EXT) && (pgid == PT_ID_NONE || pgid == PT_ID_EXT))
		return create_node(pn, -1, x, -1);
	if (sid >= pn->nnodes && (pn->pl->procs[sid].role & PT_ROLE_SESSION) &&
	    helper_creatable(pn, -1, sid) && (pgid == PT_ID_NONE || pgid == sid)) {
		r = create_helper(pn, -1, sid);
		return r < 0 ? r : create_node(pn, -1, x, sid);
	}
	return report_blocked(pn, -1, x, sid, pgid);
}

/* A group whose leader exists but has not made it yet: it does so now, once its own children
 * are forked (they may need the group it is in). */
static int found_waiting_group(struct planner *pn, pt_proc_idx p, pt_proc_idx pgid)
{
	const struct pt_proc *leader;

	if (pgid < 0 || pgid >= pn->nnodes || pgid == p || pn->group_size[pgid + 1] != 0 ||
	    !alive(pn, pgid))
		return 0;
	leader = &pn->pl->procs[pgid];
	if (!(pn->state[pgid] & PROC_CHILDREN_DONE) || (pn->state[pgid] & PROC_SESSION_LEADER) ||
	    leader->sid == pgid || pn->cur_sid[pgid] != leader->sid)
		return 0;
	return join_group(pn, pgid, pgid, 0);
}

/* @p forks @x itself, moving to the group @x must start in if it may; TRY_DEFER when not. */
static int create_by_parent(struct planner *pn, pt_proc_idx p, pt_proc_idx x, pt_proc_idx sid,
			    pt_proc_idx pgid)
{
	pid_t num;
	int r;

	if (sid != PT_ID_NONE && pn->cur_sid[p] != sid)
		return TRY_DEFER;
	if (pgid == PT_ID_NONE || pn->cur_pgid[p] == pgid)
		return create_node(pn, p, x, p);
	r = found_waiting_group(pn, p, pgid);
	if (r < 0)
		return r;
	if (!may_switch(pn, p, pgid, &num))
		return TRY_DEFER;
	r = join_group(pn, p, pgid, num);
	return r < 0 ? r : create_node(pn, p, x, p);
}

/* A child of @p already where a node must start, to fork it with CLONE_PARENT; -1: none. */
static pt_proc_idx sibling_creator(const struct planner *pn, pt_proc_idx p, pt_proc_idx sid,
				   pt_proc_idx pgid)
{
	for (pt_proc_idx q = pn->first_child[p]; q >= 0; q = pn->next_sibling[q]) {
		const struct pt_proc *sibling = &pn->pl->procs[q];

		if (!alive(pn, q) || sibling->n != pn->pl->procs[p].n ||
		    (sibling->clone_flags & PT_CLONE_NEWPID))
			continue;
		if ((sid == PT_ID_NONE || pn->cur_sid[q] == sid) &&
		    (pgid == PT_ID_NONE || pn->cur_pgid[q] == pgid))
			return q;
	}
	return -1;
}

/* A dead leader that can come back as a helper child of @p to fork a node; -1: none. */
static pt_proc_idx helper_creator(const struct planner *pn, pt_proc_idx p, pt_proc_idx sid,
				  pt_proc_idx pgid)
{
	const struct pt_plan *pl = pn->pl;

	if (sid >= pn->nnodes && !(pn->state[sid] & PROC_CREATED) &&
	    (pl->procs[sid].role & PT_ROLE_SESSION) && helper_creatable(pn, p, sid) &&
	    (pgid == PT_ID_NONE || pgid == sid))
		return sid;
	if (pgid >= pn->nnodes && !(pn->state[pgid] & PROC_CREATED) &&
	    !(pl->procs[pgid].role & PT_ROLE_SESSION) && helper_creatable(pn, p, pgid) &&
	    (sid == PT_ID_NONE || sid == pn->cur_sid[p]) &&
	    pn->group_sid_needed[pgid] == pn->cur_sid[p])
		return pgid;
	return -1;
}

/* Creates node @x as a child of @p with the session and group it must start in. */
static int try_create(struct planner *pn, pt_proc_idx p, pt_proc_idx x, bool final)
{
	pt_proc_idx sid = start_sid(pn, x), pgid = start_pgid(pn, x), creator;
	int r;

	if (p < 0)
		return create_root(pn, x, sid, pgid);
	r = create_by_parent(pn, p, x, sid, pgid);
	if (r != TRY_DEFER)
		return r;
	creator = sibling_creator(pn, p, sid, pgid);
	if (creator >= 0)
		return create_node(pn, p, x, creator);
	creator = helper_creator(pn, p, sid, pgid);
	if (creator >= 0) {
		r = create_helper(pn, p, creator);
		return r < 0 ? r : create_node(pn, p, x, creator);
	}
	return final ? report_blocked(pn, p, x, sid, pgid) : TRY_DEFER;
}

/* Must child @x of @p be forked before @p calls setsid(), in @p's session or group of now? */
static bool before_setsid(const struct planner *pn, pt_proc_idx p, pt_proc_idx x)
{
	pt_proc_idx sid = start_sid(pn, x), pgid = start_pgid(pn, x);

	return (sid != PT_ID_NONE && sid != p && sid == pn->cur_sid[p]) ||
	       (pgid != PT_ID_NONE && pgid != p && pgid == pn->cur_pgid[p]);
}

static int try_child(struct planner *pn, pt_proc_idx p, pt_proc_idx x)
{
	int r;

	pn->state[x] |= PROC_TRIED;
	r = try_create(pn, p, x, false);
	if (r == TRY_DEFER)
		pn->deferred[pn->ndeferred++] = x;
	return r < 0 ? r : 0;
}

/* Session leader @p forks the children that keep its session (or group) of now, then calls
 * setsid(). */
static int fork_then_setsid(struct planner *pn, pt_proc_idx p)
{
	int r;

	for (pt_proc_idx k = pn->child_start[p]; k < pn->child_start[p + 1]; k++)
		if (before_setsid(pn, p, pn->children[k])) {
			r = try_child(pn, p, pn->children[k]);
			if (r < 0)
				return r;
		}
	if (pn->cur_pgid[p] == p)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, p, -1, 0,
				 "node %d must call setsid() but would already lead a process "
				 "group",
				 p);
	return do_setsid(pn, p);
}

/* Node @p, just created, forks its children (depth first). */
static int create_children(struct planner *pn, pt_proc_idx p)
{
	int r;

	if (pn->pl->procs[p].sid == p && !(pn->state[p] & PROC_SESSION_LEADER)) {
		r = fork_then_setsid(pn, p);
		if (r < 0)
			return r;
	}
	for (pt_proc_idx k = pn->child_start[p]; k < pn->child_start[p + 1]; k++)
		if (!(pn->state[pn->children[k]] & PROC_TRIED)) {
			r = try_child(pn, p, pn->children[k]);
			if (r < 0)
				return r;
		}
	pn->state[p] |= PROC_CHILDREN_DONE;
	return 0;
}

/* A session leader whose children keep its old session must be born in it, and so on up
 * (CRIU's born_sid). */
static void propagate_born_sid(struct planner *pn, pt_proc_idx x)
{
	const struct pt_plan *pl = pn->pl;
	pt_proc_idx sid = pl->procs[x].sid, c = x;

	if (sid == x || sid >= pn->nnodes)
		return;
	for (pt_proc_idx p = pl->procs[c].parent; p >= 0; p = pl->procs[c].parent) {
		if (pl->procs[p].sid == sid || pl->procs[p].sid != p ||
		    pn->born_sid[p] != PT_ID_NONE)
			break; /* in it already, or a child of it may fork c */
		pn->born_sid[p] = sid;
		c = p;
	}
}

/* Likewise for a group its children cannot see. */
static void propagate_born_pgid(struct planner *pn, pt_proc_idx x)
{
	const struct pt_plan *pl = pn->pl;
	pt_proc_idx sid = pl->procs[x].sid, pgid = pl->procs[x].pgid, c = x;

	if (sid == x || pgid == x || seen_as(pn, pgid, x, true))
		return;
	for (pt_proc_idx p = pl->procs[c].parent; p >= 0; p = pl->procs[c].parent) {
		const struct pt_proc *parent = &pl->procs[p];

		if (parent->pgid == pgid || pgid == p || seen_as(pn, pgid, p, true) ||
		    pn->born_pgid[p] != PT_ID_NONE ||
		    (parent->sid != p && parent->pgid != p && !seen_as(pn, parent->pgid, p, true)))
			break;
		pn->born_pgid[p] = pgid;
		c = p;
	}
}

/* ---- the groups, once every process exists --------------------------------------------- */

/* A process of dead group leader @h's session in its namespace, a member if one can. */
static pt_proc_idx group_helper_maker(const struct planner *pn, pt_proc_idx h)
{
	const struct pt_plan *pl = pn->pl;
	pt_proc_idx maker = -1;

	for (pt_proc_idx x = 0; x < pn->nnodes; x++) {
		if (!alive(pn, x) || !helper_creatable(pn, x, h) ||
		    pn->cur_sid[x] != pn->group_sid_needed[h])
			continue;
		if (maker < 0 || (pl->procs[x].pgid == h && pl->procs[maker].pgid != h))
			maker = x;
	}
	return maker;
}

/* Phase 1: the dead group leaders that only visible members need. */
static int create_group_helpers(struct planner *pn)
{
	const struct pt_plan *pl = pn->pl;

	for (pt_proc_idx h = pn->nnodes; h < pl->nprocs; h++) {
		pt_proc_idx maker;
		char b[160];
		int r;

		if ((pn->state[h] & PROC_CREATED) || (pl->procs[h].role & PT_ROLE_SESSION))
			continue;
		maker = group_helper_maker(pn, h);
		if (maker < 0)
			return plan_diag(
				pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, pl->procs[h].for_node, -1, 0,
				"node %d: the dead leader %s of its process group cannot "
				"be recreated: no process of the group's session lives in "
				"its namespace",
				pl->procs[h].for_node, tuple_str(&pl->procs[h], b, sizeof(b)));
		r = create_helper(pn, maker, h);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Phase 2: leaders found their groups, which must exist before members join. */
static int found_groups(struct planner *pn)
{
	for (pt_proc_idx x = 0; x < pn->pl->nprocs; x++)
		if (pn->founds_group[x] && alive(pn, x) && pn->cur_pgid[x] != x &&
		    !(pn->state[x] & PROC_SESSION_LEADER)) {
			int r = join_group(pn, x, x, 0);

			if (r < 0)
				return r;
		}
	return 0;
}

static int report_join(struct planner *pn, pt_proc_idx x, pt_proc_idx pgid, const char *why)
{
	char b[200];

	describe(pn, pgid, b, sizeof(b));
	return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
			 "node %d cannot join %s process group: %s", x, b, why);
}

/* Phase 3: members that lead no group join theirs. */
static int join_members(struct planner *pn)
{
	for (pt_proc_idx x = 0; x < pn->nnodes; x++) {
		pt_proc_idx pgid = pn->pl->procs[x].pgid;
		const char *why;
		pid_t num;
		int r;

		if (pn->founds_group[x] || pn->cur_pgid[x] == pgid)
			continue;
		why = join_blocker(pn, x, pgid, &num);
		if (why)
			return report_join(pn, x, pgid, why);
		r = join_group(pn, x, pgid, num);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Would leader @x leaving its own group empty it before every founder bound for it is in? */
static bool group_awaits_founders(const struct planner *pn, pt_proc_idx x)
{
	if (pn->group_size[x + 1] > 1)
		return false;
	for (pt_proc_idx y = 0; y < pn->nnodes; y++)
		if (y != x && pn->founds_group[y] && pn->pl->procs[y].pgid == x &&
		    pn->cur_pgid[y] != x)
			return true;
	return false;
}

/* One round of phase 4: the leaders that can move now do; the last that cannot is *stuck. */
static int move_leaders_round(struct planner *pn, bool *progress, pt_proc_idx *stuck,
			      const char **why)
{
	*progress = false;
	for (pt_proc_idx x = 0; x < pn->nnodes; x++) {
		pt_proc_idx pgid = pn->pl->procs[x].pgid;
		pid_t num;
		int r;

		if (!pn->founds_group[x] || pn->cur_pgid[x] == pgid)
			continue;
		/* Leaving empties its group: first let every founder bound for it in. */
		*why = group_awaits_founders(pn, x) ? "the groups wait for each other"
						    : join_blocker(pn, x, pgid, &num);
		if (*why) {
			*stuck = x;
			continue;
		}
		r = join_group(pn, x, pgid, num);
		if (r < 0)
			return r;
		*progress = true;
	}
	return 0;
}

/* Phase 4: leaders that belong to another group move there, until nothing moves. */
static int move_leaders(struct planner *pn)
{
	bool progress;

	do {
		pt_proc_idx stuck = -1;
		const char *why = NULL;
		int r = move_leaders_round(pn, &progress, &stuck, &why);

		if (r < 0)
			return r;
		if (!progress && stuck >= 0)
			return report_join(pn, stuck, pn->pl->procs[stuck].pgid, why);
	} while (progress);
	return 0;
}

/* Phase 5: the helpers leave; their parents reap them. */
static int helpers_leave(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;

	for (pt_proc_idx h = pn->nnodes; h < pl->nprocs; h++) {
		struct pt_proc *helper = &pl->procs[h];
		int r;

		if (!alive(pn, h))
			continue;
		r = emit(pn, PT_OP_EXIT, h, -1, 0);
		if (r < 0)
			return r;
		helper->exit_op = r;
		pn->state[h] |= PROC_EXITED;
		set_group(pn, h, PT_ID_NONE);
		if (helper->parent >= 0) {
			r = emit(pn, PT_OP_REAP, helper->parent, h, helper->pid[helper->n - 1]);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Every node ends in the session and group described. */
static int check_final_ids(struct planner *pn)
{
	const struct pt_plan *pl = pn->pl;

	for (pt_proc_idx x = 0; x < pn->nnodes; x++)
		if (pn->cur_sid[x] != pl->procs[x].sid || pn->cur_pgid[x] != pl->procs[x].pgid)
			return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
					 "node %d: its session and process group cannot be "
					 "reproduced as described",
					 x);
	return 0;
}

static int plan_groups(struct planner *pn)
{
	int r = create_group_helpers(pn);

	if (r == 0)
		r = found_groups(pn);
	if (r == 0)
		r = join_members(pn);
	if (r == 0)
		r = move_leaders(pn);
	if (r == 0)
		r = helpers_leave(pn);
	return r < 0 ? r : check_final_ids(pn);
}

/* ---- the creation ---------------------------------------------------------------------- */

/* Children lists, in index order. */
static void index_children(struct planner *pn)
{
	const struct pt_plan *pl = pn->pl;
	pt_proc_idx nn = pn->nnodes, *fill = pn->born_sid; /* borrowed as a cursor, reset below */

	for (pt_proc_idx x = 1; x < nn; x++)
		pn->child_start[pl->procs[x].parent + 1]++;
	for (pt_proc_idx x = 1; x <= nn; x++)
		pn->child_start[x] += pn->child_start[x - 1];
	for (pt_proc_idx x = 0; x < nn; x++)
		fill[x] = pn->child_start[x];
	for (pt_proc_idx x = 1; x < nn; x++)
		pn->children[fill[pl->procs[x].parent]++] = x;
	for (pt_proc_idx x = 0; x < nn; x++)
		fill[x] = PT_ID_NONE;
}

/* Born requirements, for every node. */
static void propagate_born_ids(struct planner *pn)
{
	for (pt_proc_idx x = 0; x < pn->nnodes; x++) {
		propagate_born_sid(pn, x);
		propagate_born_pgid(pn, x);
	}
}

/* Nodes that could not start where they must yet: again, until nothing moves. */
static int retry_deferred(struct planner *pn)
{
	const struct pt_plan *pl = pn->pl;

	while (pn->ndeferred) {
		pt_proc_idx n = pn->ndeferred, x;
		bool progress = false;
		int r;

		memcpy(pn->round, pn->deferred, (size_t)n * sizeof(*pn->round));
		pn->ndeferred = 0;
		for (pt_proc_idx k = 0; k < n; k++) {
			x = pn->round[k];
			r = try_create(pn, pl->procs[x].parent, x, false);
			if (r < 0)
				return r;
			if (r == TRY_DEFER)
				pn->deferred[pn->ndeferred++] = x;
			else
				progress = true;
		}
		if (!progress) {
			x = pn->deferred[0];
			r = try_create(pn, pl->procs[x].parent, x, true);
			return r < 0 ? r : -EINVAL;
		}
	}
	return 0;
}

static int plan_creation(struct planner *pn)
{
	int r;

	index_children(pn);
	propagate_born_ids(pn);
	r = try_create(pn, -1, 0, true);
	if (r < 0)
		return r;
	r = retry_deferred(pn);
	if (r < 0)
		return r;
	return plan_groups(pn);
}

/* ---- what the machine says -------------------------------------------------------------- */

static const char *who(const struct planner *pn, pt_proc_idx p, char *buf, size_t size)
{
	const struct pt_proc *proc = &pn->pl->procs[p];
	char t[160];

	if (proc->node >= 0)
		snprintf(buf, size, "node %d (%s)", proc->node, tuple_str(proc, t, sizeof(t)));
	else
		snprintf(buf, size, "the dead leader %s that node %d needs",
			 tuple_str(proc, t, sizeof(t)), proc->for_node);
	return buf;
}

/* The root through the validator, as pidtuple_check() would check it. */
static int check_root(struct planner *pn, int *unverified)
{
	const struct pt_tnode *root = pn->tree->nodes[0];
	struct pt_fork_opts o = *pn->opts;
	struct pidtuple_diag *d = pn->diag;
	struct pidtuple_nsctx ctx;
	int r;

	o.clone_flags = root->flags & PIDTUPLE_NODE_NEWPID ? PT_CLONE_NEWPID : 0;
	r = pt_nsctx_init(&ctx, &o, false);
	if (r == 0 && root->tuple->n > ctx.n) {
		pt_nsctx_fini(&ctx);
		r = pt_nsctx_init(&ctx, &o, true);
	}
	if (r < 0)
		return plan_diag(pn, r, PIDTUPLE_RULE_KERNEL, 0, -1, 0,
				 "cannot read the namespace context: %s", pidtuple_strerror(r));
	r = pt_check_ctx(&ctx, root->tuple, d);
	pt_nsctx_fini(&ctx);
	if (r >= 0) {
		*unverified = r;
		return 0;
	}
	pt_diag_set_node(d, 0);
	if (pt_diag_usable(d) && PT_OPTS_HAS(d, message)) {
		char t[160], msg[2 * PIDTUPLE_DIAG_MESSAGE_SIZE];

		snprintf(msg, sizeof(msg), "node 0 (%s): %s",
			 tuple_str(&pn->pl->procs[0], t, sizeof(t)), d->message);
		msg[PIDTUPLE_DIAG_MESSAGE_SIZE - 1] = '\0';
		memcpy(d->message, msg, PIDTUPLE_DIAG_MESSAGE_SIZE);
	}
	return r;
}

/* Position @pos of @p lies in a namespace the tree creates, whose pid_max is @max. */
static int check_new_level(struct planner *pn, pt_proc_idx p, int pos, int max)
{
	const struct pt_plan *pl = pn->pl;
	const struct pidtuple_nsctx *ctx = &pl->ctx;
	pid_t pid = pl->procs[p].pid[pos];
	int level = pl->top - pos;
	pt_proc_idx node = node_of(pn, p);
	char b[256];

	if (ctx->abs_level >= 0 && ctx->abs_level - level > PIDTUPLE_MAX_LEVELS)
		return plan_diag(pn, -ENOSPC, PIDTUPLE_RULE_NS_DEPTH, node, pos, pid,
				 "%s: its PID namespace would be at level %d, beyond the "
				 "kernel's limit of %d",
				 who(pn, p, b, sizeof(b)), ctx->abs_level - level,
				 PIDTUPLE_MAX_LEVELS);
	if (pid >= max)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_PID_RANGE, node, pos, pid,
				 "%s: PID %d at NSpid field %d is not below a new namespace's "
				 "pid_max %d",
				 who(pn, p, b, sizeof(b)), (int)pid, pos, max);
	if (!(ctx->cap_eff & CAP_PIN))
		return plan_diag(pn, -EPERM, PIDTUPLE_RULE_PRIVILEGE, node, pos, pid,
				 "%s: pinning PID %d at NSpid field %d needs "
				 "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN",
				 who(pn, p, b, sizeof(b)), (int)pid, pos);
	return 0;
}

/* Position @pos of @p lies in a namespace that exists (when the caller can see it). */
static int check_existing_level(struct planner *pn, pt_proc_idx p, int pos)
{
	const struct pt_plan *pl = pn->pl;
	const struct pidtuple_nsctx *ctx = &pl->ctx;
	pid_t pid = pl->procs[p].pid[pos];
	int level = pl->top - pos;
	pt_proc_idx node = node_of(pn, p);
	char b[256];

	if (level < 0 || level >= (int)ctx->n)
		return 0;
	if (pid >= ctx->levels[level].pid_max)
		return plan_diag(pn, -EINVAL, PIDTUPLE_RULE_PID_RANGE, node, pos, pid,
				 "%s: PID %d at NSpid field %d is not below that namespace's "
				 "pid_max %d",
				 who(pn, p, b, sizeof(b)), (int)pid, pos,
				 ctx->levels[level].pid_max);
	if (!(ctx->levels[level].flags & PIDTUPLE_LEVEL_CAN_PIN))
		return plan_diag(pn, -EPERM, PIDTUPLE_RULE_PRIVILEGE, node, pos, pid,
				 "%s: pinning PID %d at NSpid field %d needs "
				 "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over the user "
				 "namespace owning that PID namespace",
				 who(pn, p, b, sizeof(b)), (int)pid, pos);
	return 0;
}

/* The privilege to create @p's namespace, and every level of @p but whether it is taken. */
static int check_proc_levels(struct planner *pn, pt_proc_idx p, int new_max)
{
	const struct pt_proc *proc = &pn->pl->procs[p];
	pt_proc_idx node = node_of(pn, p);

	if (proc->node >= 0 && (pn->tree->nodes[p]->flags & PIDTUPLE_NODE_NEWPID) &&
	    !(pn->pl->ctx.cap_eff & CAP_BIT(PT_CAP_SYS_ADMIN)))
		return plan_diag(pn, -EPERM, PIDTUPLE_RULE_NS_PRIVILEGE, node, -1, 0,
				 "node %d starts a new PID namespace, which needs CAP_SYS_ADMIN",
				 node);
	for (int pos = 0; pos < (int)proc->n; pos++) {
		int r = proc->ns_init[pos] >= 0 ? check_new_level(pn, p, pos, new_max)
						: check_existing_level(pn, p, pos);

		if (r < 0)
			return r;
	}
	return 0;
}

/* Taken PIDs last, as the validator does; *ret_unverified counts the levels not seen. */
static int check_proc_taken(struct planner *pn, pt_proc_idx p, int *ret_unverified)
{
	const struct pt_plan *pl = pn->pl;
	const struct pt_proc *proc = &pl->procs[p];
	int unverified = 0;
	char b[256];

	for (int pos = 0; pos < (int)proc->n; pos++) {
		int level = pl->top - pos, r;

		if (proc->ns_init[pos] >= 0)
			continue;
		if (level < 0 || level >= (int)pl->ctx.n) {
			unverified++;
			continue;
		}
		r = pt_level_pid_taken(&pl->ctx.levels[level], proc->pid[pos]);
		if (r > 0)
			return plan_diag(pn, -EEXIST, PIDTUPLE_RULE_PID_TAKEN, node_of(pn, p), pos,
					 proc->pid[pos],
					 "%s: PID %d at NSpid field %d is already in use there",
					 who(pn, p, b, sizeof(b)), (int)proc->pid[pos], pos);
		if (r < 0)
			unverified++;
	}
	*ret_unverified = unverified;
	return 0;
}

static int check_machine(struct planner *pn, int *ret_unverified)
{
	const struct pidtuple_nsctx *ctx = &pn->pl->ctx;
	bool per_ns = pt_features_cached() & PIDTUPLE_FEATURE_PER_NS_PID_MAX;
	int unverified = 0, caller_max = 0, new_max, r;

	r = check_root(pn, &unverified);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < ctx->n; i++)
		if (ctx->levels[i].flags & PIDTUPLE_LEVEL_CALLER)
			caller_max = ctx->levels[i].pid_max;
	new_max = per_ns || !caller_max ? PT_PID_MAX_LIMIT : caller_max;
	for (pt_proc_idx p = 1; p < pn->pl->nprocs; p++) {
		int unv = 0;

		r = check_proc_levels(pn, p, new_max);
		if (r == 0)
			r = check_proc_taken(pn, p, &unv);
		if (r < 0)
			return r;
		if (unv > unverified)
			unverified = unv;
	}
	*ret_unverified = unverified;
	return 0;
}

/* ---- the check ------------------------------------------------------------------------- */

/* The namespace context of the caller's pid_for_children, its session and its group. */
static int read_context(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;
	struct pt_fork_opts co = *pn->opts;
	pid_t sid, pgid;
	int r;

	co.clone_flags = 0;
	r = pt_nsctx_init(&pl->ctx, &co, pn->has_newpid);
	if (r < 0)
		return plan_diag(pn, r, PIDTUPLE_RULE_KERNEL, -1, -1, 0,
				 "cannot read the namespace context: %s", pidtuple_strerror(r));
	pl->have_ctx = true;
	sid = pt_getsid(0);
	pgid = pt_getpgid(0);
	pl->cpos = pl->top - ((int)pl->ctx.n - 1);
	pn->caller_sid = sid > 0 ? sid : 0;
	pn->caller_pgid = pgid > 0 ? pgid : 0;
	return 0;
}

/* The plan passed: it counts its HOLD nodes, the diagnostic the levels left to the kernel. */
static void plan_checked(struct planner *pn, int unverified)
{
	const struct pidtuple_tree *tree = pn->tree;
	unsigned int levels = tree->nodes[0]->tuple->n;

	for (pt_proc_idx i = 0; i < pn->nnodes; i++)
		if (tree->nodes[i]->kind == PIDTUPLE_NODE_HOLD)
			pn->pl->nhold++;
	pt_diag_reset(pn->diag, levels);
	if (unverified) {
		pt_diag(pn->diag, 0, PIDTUPLE_RULE_UNVERIFIED, -1, levels, 0,
			"%d level(s) could not be checked from here; the kernel will decide",
			unverified);
		pt_diag_set_unverified(pn->diag, unverified);
	}
}

int pt_tree_plan(const struct pidtuple_tree *tree, const struct pt_fork_opts *o,
		 struct pidtuple_diag *diag, struct pt_plan **ret_plan)
{
	struct planner pn;
	int r, unverified = 0;

	r = planner_init(&pn, tree, o, diag);
	if (r == 0)
		r = check_shape(&pn);
	if (r == 0)
		r = check_dups(&pn, pn.nnodes);
	if (r == 0)
		r = read_context(&pn);
	if (r == 0)
		r = resolve_ids(&pn);
	if (r == 0)
		r = check_ids(&pn);
	if (r == 0 && pn.pl->nprocs > pn.nnodes)
		r = check_dups(&pn, pn.pl->nprocs);
	if (r == 0)
		r = plan_creation(&pn);
	if (r == 0)
		r = check_machine(&pn, &unverified);
	if (r == 0) {
		plan_checked(&pn, unverified);
		if (ret_plan) {
			*ret_plan = pn.pl;
			pn.pl = NULL;
		}
	}
	planner_free(&pn);
	return r < 0 ? r : unverified;
}

PT_PUBLIC int pidtuple_tree_check(const struct pidtuple_tree *tree,
				  const struct pidtuple_fork_opts *opts, struct pidtuple_diag *diag)
{
	struct pt_fork_opts o;
	int r;

	if (diag && diag->sz < sizeof(size_t))
		return -EINVAL;
	r = pt_fork_opts_get_to(opts, &o, diag);
	if (r < 0)
		return r;
	return pt_tree_plan(tree, &o, diag, NULL);
}
