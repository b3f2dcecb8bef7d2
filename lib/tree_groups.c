/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process-group and session phases of the plan, once every process exists: dead group
 * leaders come back as helpers, leaders found their groups, members join, leaders that belong
 * elsewhere move, the helpers leave; then every node must be where the description says.
 */
#include <errno.h>

#include "tree_int.h"

/* A process of dead group leader @h's session in its namespace, a member if one can. */
static pt_proc_idx group_helper_maker(const struct planner *pn, pt_proc_idx h)
{
	const struct pt_plan *pl = pn->pl;
	pt_proc_idx maker = -1;

	for (pt_proc_idx x = 0; x < pn->nnodes; x++) {
		if (!pt_plan_alive(pn, x) || !pt_plan_helper_creatable(pn, x, h) ||
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
			return pt_plan_diag(
				pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, pl->procs[h].for_node, -1, 0,
				"node %d: the dead leader %s of its process group cannot "
				"be recreated: no process of the group's session lives in "
				"its namespace",
				pl->procs[h].for_node, pt_plan_tuple(&pl->procs[h], b, sizeof(b)));
		r = pt_plan_create_helper(pn, maker, h);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Phase 2: leaders found their groups, which must exist before members join. */
static int found_groups(struct planner *pn)
{
	for (pt_proc_idx x = 0; x < pn->pl->nprocs; x++)
		if (pn->founds_group[x] && pt_plan_alive(pn, x) && pn->cur_pgid[x] != x &&
		    !(pn->state[x] & PROC_SESSION_LEADER)) {
			int r = pt_plan_join_group(pn, x, x, 0);

			if (r < 0)
				return r;
		}
	return 0;
}

static int report_join(struct planner *pn, pt_proc_idx x, pt_proc_idx pgid, const char *why)
{
	char b[200];

	pt_plan_describe(pn, pgid, b, sizeof(b));
	return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
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
		why = pt_plan_join_blocker(pn, x, pgid, &num);
		if (why)
			return report_join(pn, x, pgid, why);
		r = pt_plan_join_group(pn, x, pgid, num);
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
						    : pt_plan_join_blocker(pn, x, pgid, &num);
		if (*why) {
			*stuck = x;
			continue;
		}
		r = pt_plan_join_group(pn, x, pgid, num);
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

		if (!pt_plan_alive(pn, h))
			continue;
		r = pt_plan_emit(pn, PT_OP_EXIT, h, -1, 0);
		if (r < 0)
			return r;
		helper->exit_op = r;
		pn->state[h] |= PROC_EXITED;
		pt_plan_set_group(pn, h, PT_ID_NONE);
		if (helper->parent >= 0) {
			r = pt_plan_emit(pn, PT_OP_REAP, helper->parent, h,
					 helper->pid[helper->n - 1]);
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
			return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
					    "node %d: its session and process group cannot be "
					    "reproduced as described",
					    x);
	return 0;
}

int pt_plan_groups(struct planner *pn)
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
