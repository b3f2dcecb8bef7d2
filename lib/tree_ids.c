/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whose session, whose group: each node's session and process group resolved to a node that
 * leads it, the caller's, or a dead leader a temporary helper stands in for; then the rules
 * that bind them (a session leader leads its group, a group lies in its members' session).
 */
#include <errno.h>
#include <stdio.h>

#include "tree_int.h"

static const char *id_kind(bool session)
{
	return session ? "session" : "process group";
}

/* Gives helper @helper node @node's namespaces and the PIDs @pids up to position @inner. */
static void helper_levels(struct pt_proc *helper, const struct pt_proc *node, const pid_t *pids,
			  int inner)
{
	helper->n = (uint32_t)inner + 1;
	for (int p = 0; p <= inner; p++) {
		helper->pid[p] = pids[p];
		helper->ns_init[p] = node->ns_init[p];
		helper->set_tid[inner - p] = pids[p];
	}
}

/* A helper for node @i with the PIDs @pids up to position @inner. */
static pt_proc_idx new_helper(struct planner *pn, pt_proc_idx i, const pid_t *pids, int inner,
			      uint32_t role)
{
	struct pt_plan *pl = pn->pl;
	pt_proc_idx h = pl->nprocs++;
	struct pt_proc *helper = &pl->procs[h];

	*helper = (struct pt_proc){ .node = -1,
				    .parent = -1,
				    .creator = -1,
				    .first_op = -1,
				    .create_op = -1,
				    .exit_op = -1,
				    .for_node = i,
				    .role = role };
	helper_levels(helper, &pl->procs[i], pids, inner);
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
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, (int)p, pids[p],
				    "node %d: its %s %s is node %d (%s), which node %d would "
				    "see as %d at NSpid field %u of %u, not %d",
				    i, id_kind(session), b1, leader,
				    pt_plan_tuple(lp, b2, sizeof(b2)), i, (int)want, p + 1, node->n,
				    (int)pids[p]);
	}
	*ret = leader;
	return 0;
}

/* No node has the PID that numbers node @i's session or group (innermost visible at
 * position @inner): a helper stands in for the dead leader, one for every node naming it. */
static int dead_leader(struct planner *pn, pt_proc_idx i, bool session, const pid_t *pids,
		       int inner, uint32_t outside, pt_proc_idx *ret)
{
	struct pt_plan *pl = pn->pl;
	const struct pt_proc *node = &pl->procs[i];
	uint32_t role = (session ? PT_ROLE_SESSION : PT_ROLE_GROUP) | outside;
	char b1[160], b2[160];

	pt_format_pos(pids, node->n, b1, sizeof(b1));
	if (node->ns_init[inner] == -1 && inner < pl->top)
		return pt_plan_diag(
			pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, inner, pids[inner],
			"node %d: the leader of its %s %s lived above the namespace the "
			"tree is created in and is not the caller's; it cannot be "
			"recreated",
			i, id_kind(session), b1);
	/* One number at one position of one namespace is one leader, whichever depth its
	 * members see it from: the deepest view gives its tuple. */
	for (pt_proc_idx h = pn->nnodes; h < pl->nprocs; h++) {
		struct pt_proc *helper = &pl->procs[h];
		int m = (int)helper->n - 1 < inner ? (int)helper->n - 1 : inner;

		if (helper->ns_init[m] != node->ns_init[m] || helper->pid[m] != pids[m])
			continue;
		for (int p = 0; p < m; p++)
			if (helper->pid[p] != pids[p])
				return pt_plan_diag(
					pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, p, pids[p],
					"node %d: its %s %s and node %d's %s name the same "
					"dead leader with different PIDs",
					i, id_kind(session), b1, helper->for_node,
					pt_plan_tuple(helper, b2, sizeof(b2)));
		if (inner > m)
			helper_levels(helper, node, pids, inner);
		helper->role |= role;
		*ret = h;
		return 0;
	}
	*ret = new_helper(pn, i, pids, inner, role);
	return 0;
}

/* Is node @i's session (group) @pids, visible down to @inner, the root's own, in a namespace
 * that exists already, and led by no node: a shell's session, a job's group? */
static bool outside_root_id(const struct planner *pn, pt_proc_idx i, bool session,
			    const pid_t *pids, int inner)
{
	const struct pt_tnode *root = pn->tree->nodes[0];
	const struct pidtuple *g = session ? root->sid : root->pgid;
	int n = (int)pn->pl->procs[0].n;

	if (!g || inner >= n || pn->pl->procs[i].ns_init[inner] != -1)
		return false;
	for (int p = 0; p < n; p++)
		if (g->pid[n - 1 - p] != (p <= inner ? pids[p] : 0))
			return false;
	return true;
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
	uint32_t outside = 0;
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
	leader = pt_plan_claiming_node(pn, node->ns_init[inner], inner, pids[inner]);
	if (leader >= 0)
		return match_leader(pn, i, session, pids, leader, ret);
	if (inner == pl->cpos && node->ns_init[inner] == -1 &&
	    pids[inner] == (session ? pn->caller_sid : pn->caller_pgid)) {
		*ret = PT_ID_EXT;
		return 0;
	}
	if (outside_root_id(pn, i, session, pids, inner)) {
		/* A shell job: it takes the caller's, or a helper has to stand in. */
		if (pn->opts->flags & PIDTUPLE_FORK_SHELL_JOB) {
			*ret = PT_ID_EXT;
			return 0;
		}
		pn->shell_job_hint = true;
		outside = PT_ROLE_OUTSIDE;
	}
	return dead_leader(pn, i, session, pids, inner, outside, ret);
}

int pt_plan_resolve_ids(struct planner *pn)
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

/* Is node @i the init of a PID namespace in whose namespace @id, its session or group, is led?
 * Killed, such an init could never finish exiting: zap_pid_ns_processes() waits until every
 * number of the namespace is free, and the init itself holds the group's (the session's) number
 * there, so it could never be reaped, nor could the inits of the namespaces around it finish.
 * A live tree gets there only by an init's setpgid() into a group of a process of its own
 * namespace (sessions cannot be joined); its capture says so, and the check refuses it. */
static int check_init_in(struct planner *pn, pt_proc_idx i, pt_proc_idx id, bool session)
{
	const struct pt_proc *node = &pn->pl->procs[i];
	int pos = (int)node->n - 1;
	char b1[160], b2[200];

	if (!(pn->tree->nodes[i]->flags & PIDTUPLE_NODE_NEWPID) || id < 0 || id == i ||
	    (int)pn->pl->procs[id].n <= pos || pn->pl->procs[id].ns_init[pos] != i)
		return 0;
	pt_plan_describe(pn, id, b2, sizeof(b2));
	return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, -1, 0,
			    "node %d (%s), the init of a PID namespace, is in %s %s, led inside "
			    "that namespace: the kernel could never end the namespace, and the "
			    "init, once killed, would never finish exiting",
			    i, pt_plan_tuple(node, b1, sizeof(b1)), b2, id_kind(session));
}

int pt_plan_check_ids(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;

	for (pt_proc_idx i = 0; i < pn->nnodes; i++) {
		pt_proc_idx sid = pl->procs[i].sid, pgid = pl->procs[i].pgid;
		int r = check_init_in(pn, i, sid, true);
		char b[200];

		if (r == 0)
			r = check_init_in(pn, i, pgid, false);
		if (r < 0)
			return r;
		if (sid == i && pgid != i)
			return pt_plan_diag(
				pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, -1, 0,
				"node %d leads its session but not its process group; a "
				"session leader always leads its own group",
				i);
		if (sid >= 0 && sid < pn->nnodes && sid != i && pl->procs[sid].sid != sid)
			return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, -1, 0,
					    "node %d: its session is numbered after node %d, which "
					    "does not lead a session",
					    i, sid);
		if (pgid >= 0)
			pn->founds_group[pgid] = 1;
		if (pgid >= pn->nnodes && !(pl->procs[pgid].role & PT_ROLE_SESSION) &&
		    pn->group_sid_needed[pgid] == PT_ID_NONE)
			pn->group_sid_needed[pgid] = sid;
		if (group_session(pn, pgid) != sid) {
			pt_plan_describe(pn, pgid, b, sizeof(b));
			return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, i, -1, 0,
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
