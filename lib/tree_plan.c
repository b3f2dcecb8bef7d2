/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check of a tree description, which plans the whole creation: which process forks
 * which, when sessions and process groups are made, which temporary helpers stand in for dead
 * leaders. It replays the kernel's session and group rules on that plan, so a description that
 * cannot be built is refused before anything exists, and restore.c only executes the plan.
 *
 * This file holds the plan's core, the creation of every process in the order the rules allow,
 * and pidtuple_tree_check(); tree_shape.c, tree_ids.c, tree_groups.c and tree_check.c hold the
 * other phases, tree_replay.c the steps, tree_planner.c the state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "join.h"
#include "opts.h"
#include "tree_int.h"

/* try_create(): created (0), or to be tried again once more exists. */
enum { TRY_DONE = 0, TRY_DEFER = 1 };

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

	if (proc->sid != x && proc->pgid != x && !pt_plan_seen_as(pn, proc->pgid, x, true))
		return proc->pgid; /* not visible where it lives: inherited at fork time */
	return pn->born_pgid[x];
}

/* May @p move to group @pgid for a while, to fork a child there? The number to give setpgid()
 * in *num, set on every path (0 when @p founds its own group, or cannot move). */
static bool may_switch(const struct planner *pn, pt_proc_idx p, pt_proc_idx pgid, pid_t *num)
{
	const struct pt_proc *proc = &pn->pl->procs[p];

	*num = 0;
	if (p >= pn->nnodes || (pn->state[p] & PROC_SESSION_LEADER))
		return false;
	/* It must be able to come back to its own group later. */
	if (proc->pgid != p && proc->pgid != pgid && !pt_plan_seen_as(pn, proc->pgid, p, true))
		return false;
	if (pgid == p)
		return proc->sid != p; /* a future session leader must not lead a group first */
	return pt_plan_join_blocker(pn, p, pgid, num) == NULL;
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
		r = pt_plan_emit(pn, PT_OP_CREATE, creator, x, 0);
		if (r < 0)
			return r;
		node->create_op = r;
	} else {
		pl->first = x;
	}
	pn->state[x] |= PROC_CREATED;
	pn->cur_sid[x] = creator >= 0 ? pn->cur_sid[creator] : PT_ID_EXT;
	pt_plan_set_group(pn, x, creator >= 0 ? pn->cur_pgid[creator] : PT_ID_EXT);
	pt_plan_link_child(pn, p, x);
	return create_children(pn, x);
}

static int report_blocked(struct planner *pn, pt_proc_idx p, pt_proc_idx x, pt_proc_idx sid,
			  pt_proc_idx pgid)
{
	char bs[200] = "any", bg[200] = "any";

	if (sid != PT_ID_NONE)
		pt_plan_describe(pn, sid, bs, sizeof(bs));
	if (pgid != PT_ID_NONE)
		pt_plan_describe(pn, pgid, bg, sizeof(bg));
	if (p < 0)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
				    "the root must start in %s session and %s process group, which "
				    "the caller is not in",
				    bs, bg);
	return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
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
	    pt_plan_helper_creatable(pn, -1, sid) && (pgid == PT_ID_NONE || pgid == sid)) {
		r = pt_plan_create_helper(pn, -1, sid);
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
	    !pt_plan_alive(pn, pgid))
		return 0;
	leader = &pn->pl->procs[pgid];
	if (!(pn->state[pgid] & PROC_CHILDREN_DONE) || (pn->state[pgid] & PROC_SESSION_LEADER) ||
	    leader->sid == pgid || pn->cur_sid[pgid] != leader->sid)
		return 0;
	return pt_plan_join_group(pn, pgid, pgid, 0);
}

/* @p forks @x itself, moving to the group @x must start in if it may; TRY_DEFER when not. */
static int create_by_parent(struct planner *pn, pt_proc_idx p, pt_proc_idx x, pt_proc_idx sid,
			    pt_proc_idx pgid)
{
	pid_t num = 0;
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
	r = pt_plan_join_group(pn, p, pgid, num);
	return r < 0 ? r : create_node(pn, p, x, p);
}

/* A child of @p where a node must start, to fork it with CLONE_PARENT: one already there, else
 * one that may move to the group (one bound for it first), which does; -1: none. */
static pt_proc_idx sibling_creator(struct planner *pn, pt_proc_idx p, pt_proc_idx sid,
				   pt_proc_idx pgid, int *err)
{
	pt_proc_idx mover = -1;
	pid_t num = 0;

	*err = 0;
	for (pt_proc_idx q = pn->first_child[p]; q >= 0; q = pn->next_sibling[q]) {
		const struct pt_proc *sibling = &pn->pl->procs[q];
		pid_t n = 0;

		if (!pt_plan_alive(pn, q) || sibling->n != pn->pl->procs[p].n ||
		    (sibling->clone_flags & PT_CLONE_NEWPID) ||
		    (sid != PT_ID_NONE && pn->cur_sid[q] != sid))
			continue;
		if (pgid == PT_ID_NONE || pn->cur_pgid[q] == pgid)
			return q;
		if ((mover < 0 || (sibling->pgid == pgid && pn->pl->procs[mover].pgid != pgid)) &&
		    may_switch(pn, q, pgid, &n)) {
			mover = q;
			num = n;
		}
	}
	if (mover >= 0)
		*err = pt_plan_join_group(pn, mover, pgid, num);
	return *err < 0 ? -1 : mover;
}

/* A dead leader that can come back as a helper child of @p to fork a node; -1: none. */
static pt_proc_idx helper_creator(const struct planner *pn, pt_proc_idx p, pt_proc_idx sid,
				  pt_proc_idx pgid)
{
	const struct pt_plan *pl = pn->pl;

	if (sid >= pn->nnodes && !(pn->state[sid] & PROC_CREATED) &&
	    (pl->procs[sid].role & PT_ROLE_SESSION) && pt_plan_helper_creatable(pn, p, sid) &&
	    (pgid == PT_ID_NONE || pgid == sid))
		return sid;
	if (pgid >= pn->nnodes && !(pn->state[pgid] & PROC_CREATED) &&
	    !(pl->procs[pgid].role & PT_ROLE_SESSION) && pt_plan_helper_creatable(pn, p, pgid) &&
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
	creator = sibling_creator(pn, p, sid, pgid, &r);
	if (creator >= 0 || r < 0)
		return r < 0 ? r : create_node(pn, p, x, creator);
	creator = helper_creator(pn, p, sid, pgid);
	if (creator >= 0) {
		r = pt_plan_create_helper(pn, p, creator);
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

/* Does child @x start in the session and group @p is in now (so @p forks it without moving)? */
static bool fits_now(const struct planner *pn, pt_proc_idx p, pt_proc_idx x)
{
	pt_proc_idx sid = start_sid(pn, x), pgid = start_pgid(pn, x);

	return (sid == PT_ID_NONE || pn->cur_sid[p] == sid) &&
	       (pgid == PT_ID_NONE || pn->cur_pgid[p] == pgid);
}

/*
 * @p forks the children @want selects (all: NULL) in the order their needs set, not the
 * description's, since forks have to fit around @p's own moves: first those that start where
 * @p is now; then one that starts elsewhere, which may move @p (one bound for @p's own final
 * group last, as @p stays there), and again those that start where @p is then; and so on.
 */
static int fork_children(struct planner *pn, pt_proc_idx p,
			 bool (*want)(const struct planner *, pt_proc_idx, pt_proc_idx))
{
	pt_proc_idx final = pn->pl->procs[p].pgid;

	for (;;) {
		pt_proc_idx next = -1;
		int r;

		for (pt_proc_idx k = pn->child_start[p]; k < pn->child_start[p + 1]; k++) {
			pt_proc_idx x = pn->children[k];

			if ((pn->state[x] & PROC_TRIED) || (want && !want(pn, p, x)))
				continue;
			if (fits_now(pn, p, x)) {
				r = try_child(pn, p, x);
				if (r < 0)
					return r;
			} else if (next < 0 ||
				   (start_pgid(pn, next) == final && start_pgid(pn, x) != final)) {
				next = x;
			}
		}
		if (next < 0)
			return 0;
		r = try_child(pn, p, next);
		if (r < 0)
			return r;
	}
}

/* Session leader @p forks the children that keep its session (or group) of now, then calls
 * setsid(). */
static int fork_then_setsid(struct planner *pn, pt_proc_idx p)
{
	int r = fork_children(pn, p, before_setsid);

	if (r < 0)
		return r;
	if (pn->cur_pgid[p] == p)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, p, -1, 0,
				    "node %d must call setsid() but would already lead a process "
				    "group",
				    p);
	return pt_plan_setsid(pn, p);
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
	r = fork_children(pn, p, NULL);
	if (r < 0)
		return r;
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

	if (sid == x || pgid == x || pt_plan_seen_as(pn, pgid, x, true))
		return;
	for (pt_proc_idx p = pl->procs[c].parent; p >= 0; p = pl->procs[c].parent) {
		const struct pt_proc *parent = &pl->procs[p];

		if (parent->pgid == pgid || pgid == p || pt_plan_seen_as(pn, pgid, p, true) ||
		    pn->born_pgid[p] != PT_ID_NONE ||
		    (parent->sid != p && parent->pgid != p &&
		     !pt_plan_seen_as(pn, parent->pgid, p, true)))
			break;
		pn->born_pgid[p] = pgid;
		c = p;
	}
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
	return pt_plan_groups(pn);
}

/* The plan passed: it counts its HOLD nodes, the diagnostic the levels left to the kernel. */
static void plan_checked(struct planner *pn, int unverified)
{
	const struct pidtuple_tree *tree = pn->tree;
	unsigned int levels = tree->nodes[0]->tuple->n;

	for (pt_proc_idx i = 0; i < pn->nnodes; i++)
		if (tree->nodes[i]->kind == PIDTUPLE_NODE_HOLD) {
			pn->pl->nhold++;
			pn->pl->nprepared +=
				tree->nodes[i]->nthreads > 0 || tree->nodes[i]->name[0];
		}
	pt_diag_reset(pn->diag, levels);
	if (unverified) {
		pt_diag(pn->diag, 0, PIDTUPLE_RULE_UNVERIFIED, -1, levels, 0,
			"%d level(s) could not be checked from here; the kernel will decide",
			unverified);
		pt_diag_set_unverified(pn->diag, unverified);
	}
}

/* The helper standing in for a leader outside the tree that has PID @pid (any PID > 0 when
 * @any), or -1. */
static pt_proc_idx outside_helper(const struct planner *pn, pid_t pid, bool any)
{
	const struct pt_plan *pl = pn->pl;

	for (pt_proc_idx h = pn->nnodes; h < pl->nprocs; h++)
		for (unsigned int p = 0; p < pl->procs[h].n; p++)
			if ((pl->procs[h].role & PT_ROLE_OUTSIDE) && pid > 0 &&
			    (any || pl->procs[h].pid[p] == pid))
				return h;
	return -1;
}

/* What the root's marks say of helper @h's session or group: the words for it when capture saw
 * its leader outside the tree (PIDTUPLE_NODE_SESSION_OUTSIDE, _GROUP_OUTSIDE), else NULL. */
static const char *outside_marked(const struct planner *pn, pt_proc_idx h)
{
	uint64_t f = pn->tree->nodes[0]->flags;
	uint32_t role = h >= 0 ? pn->pl->procs[h].role : 0;
	bool session = (role & PT_ROLE_SESSION) && (f & PIDTUPLE_NODE_SESSION_OUTSIDE);
	bool group = (role & PT_ROLE_GROUP) && (f & PIDTUPLE_NODE_GROUP_OUTSIDE);

	if (session && group)
		return "session and process group";
	return session ? "session" : group ? "process group" : NULL;
}

/* A refusal over the root's session or group, led from outside the tree: most likely a shell
 * job, which PIDTUPLE_FORK_SHELL_JOB restores into the caller's session and group. When the
 * capture marked it so, the hint names it and says so. The hint always fits: the refusal's own
 * message is shortened for it. */
static void hint_shell_job(struct planner *pn)
{
	struct pidtuple_diag *d = pn->diag;
	char hint[PIDTUPLE_DIAG_MESSAGE_SIZE], t[48];
	const char *marked;
	size_t hl, room, len;
	pt_proc_idx h;

	if (!pn->shell_job_hint || !pt_diag_usable(d) || !PT_OPTS_HAS(d, message) ||
	    !PT_OPTS_HAS(d, pid))
		return;
	h = outside_helper(pn, d->pid, false);
	if (h < 0 && d->rule != PIDTUPLE_RULE_TREE_GROUP)
		return;
	if (h < 0)
		h = outside_helper(pn, 1, true);
	marked = outside_marked(pn, h);
	if (marked)
		snprintf(hint, sizeof(hint),
			 " (capture saw the leader of the root's %s %s outside the tree: a shell "
			 "job? restore with PIDTUPLE_FORK_SHELL_JOB, pidtuple restore --shell-job)",
			 marked, pt_plan_tuple(&pn->pl->procs[h], t, sizeof(t)));
	else
		snprintf(hint, sizeof(hint),
			 " (a shell job? restore with PIDTUPLE_FORK_SHELL_JOB, pidtuple restore "
			 "--shell-job)");
	hl = strlen(hint); /* below 200: the tuple is cut at 47 bytes */
	room = sizeof(d->message) - 1 - hl;
	len = strnlen(d->message, sizeof(d->message));
	if (len > room) {
		len = room;
		memcpy(d->message + len - 3, "...", 3);
	}
	memcpy(d->message + len, hint, hl + 1);
}

int pt_tree_plan(const struct pidtuple_tree *tree, const struct pt_fork_opts *o,
		 struct pidtuple_diag *diag, struct pt_plan **ret_plan)
{
	struct planner pn;
	int r, unverified = 0;

	r = pt_planner_init(&pn, tree, o, diag);
	if (r == 0)
		r = pt_plan_check_shape(&pn);
	if (r == 0)
		r = pt_plan_check_dups(&pn, pn.nnodes);
	if (r == 0)
		r = pt_plan_read_context(&pn);
	if (r == 0)
		r = pt_plan_resolve_ids(&pn);
	if (r == 0)
		r = pt_plan_check_ids(&pn);
	if (r == 0 && pn.pl->nprocs > pn.nnodes)
		r = pt_plan_check_dups(&pn, pn.pl->nprocs);
	if (r == 0)
		r = plan_creation(&pn);
	if (r == 0)
		r = pt_plan_check_machine(&pn, &unverified);
	if (r < 0 && pn.pl)
		hint_shell_job(&pn);
	if (r == 0) {
		plan_checked(&pn, unverified);
		if (ret_plan) {
			*ret_plan = pn.pl;
			pn.pl = NULL;
		}
	}
	pt_planner_free(&pn);
	return r < 0 ? r : unverified;
}

PT_PUBLIC int pidtuple_tree_check(const struct pidtuple_tree *tree,
				  const struct pidtuple_fork_opts *opts, struct pidtuple_diag *diag)
{
	struct pt_fork_opts o;
	struct pt_join j;
	int r;

	if (diag && diag->sz < sizeof(size_t))
		return -EINVAL;
	r = pt_fork_opts_get_to(opts, &o, diag);
	if (r < 0)
		return r;
	r = pt_join_enter(&o, 0, &j);
	if (r < 0)
		return r;
	r = pt_tree_plan(tree, &o, diag, NULL);
	pt_join_leave(&j);
	return r;
}
