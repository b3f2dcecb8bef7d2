/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plan as a replay of the kernel's rules: the steps (fork, setsid(), setpgid()) appended
 * to the plan, each applied to the planner's picture of who is in which session and group.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "tree_int.h"

/* The number identity @id has in the namespace @p lives in; 0 when not visible there. */
pid_t pt_plan_seen_as(const struct planner *pn, pt_proc_idx id, pt_proc_idx p, bool group)
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

bool pt_plan_alive(const struct planner *pn, pt_proc_idx p)
{
	return (pn->state[p] & PROC_CREATED) && !(pn->state[p] & PROC_EXITED);
}

/* Appends a step of @actor; returns its index. */
int pt_plan_emit(struct planner *pn, uint8_t op, pt_proc_idx actor, pt_proc_idx target, pid_t arg)
{
	struct pt_plan *pl = pn->pl;
	int32_t idx;

	if ((size_t)pl->nops == pn->cap_ops) {
		struct pt_op *v;

		v = pn->cap_ops <= INT_MAX / 4 ? pt_malloc(2 * pn->cap_ops * sizeof(*v)) : NULL;
		if (!v)
			return pt_plan_diag(pn, -ENOMEM, PIDTUPLE_RULE_KERNEL, -1, -1, 0,
					    "cannot grow the plan to %zu steps (malloc): %s",
					    2 * pn->cap_ops, pt_errno_str(ENOMEM));
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

void pt_plan_set_group(struct planner *pn, pt_proc_idx p, pt_proc_idx pgid)
{
	if (pn->cur_pgid[p] != PT_ID_NONE)
		pn->group_size[pn->cur_pgid[p] + 1]--;
	pn->cur_pgid[p] = pgid;
	if (pgid != PT_ID_NONE)
		pn->group_size[pgid + 1]++;
}

/* @p calls setsid(): it leads a new session and a new group. */
int pt_plan_setsid(struct planner *pn, pt_proc_idx p)
{
	int r = pt_plan_emit(pn, PT_OP_SETSID, p, -1, 0);

	if (r < 0)
		return r;
	pn->state[p] |= PROC_SESSION_LEADER;
	pn->cur_sid[p] = p;
	pt_plan_set_group(pn, p, p);
	pn->group_sid[p + 1] = p;
	return 0;
}

/* Why @p cannot join group @pgid now, or NULL when it can (the number in *num). */
const char *pt_plan_join_blocker(const struct planner *pn, pt_proc_idx p, pt_proc_idx pgid,
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
	*num = pt_plan_seen_as(pn, pgid, p, true);
	if (!*num)
		return "the group's number is not visible in the node's PID namespace";
	return NULL;
}

/* @p calls setpgid(): joins group @pgid (its number @num), or founds its own. */
int pt_plan_join_group(struct planner *pn, pt_proc_idx p, pt_proc_idx pgid, pid_t num)
{
	int r = pt_plan_emit(pn, PT_OP_SETPGID, p, -1, pgid == p ? 0 : num);

	if (r < 0)
		return r;
	pt_plan_set_group(pn, p, pgid);
	if (pgid == p)
		pn->group_sid[pgid + 1] = pn->cur_sid[p];
	return 0;
}

/* Can @p (-1: the caller) fork helper @h: does it live in the helper's innermost namespace? */
bool pt_plan_helper_creatable(const struct planner *pn, pt_proc_idx p, pt_proc_idx h)
{
	const struct pt_plan *pl = pn->pl;
	const struct pt_proc *helper = &pl->procs[h];
	int pos = (int)helper->n - 1;

	if (p < 0)
		return pos == pl->top && helper->ns_init[pos] == -1;
	return pl->procs[p].n == helper->n && pl->procs[p].ns_init[pos] == helper->ns_init[pos];
}

void pt_plan_link_child(struct planner *pn, pt_proc_idx p, pt_proc_idx x)
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
int pt_plan_create_helper(struct planner *pn, pt_proc_idx p, pt_proc_idx h)
{
	struct pt_plan *pl = pn->pl;
	struct pt_proc *helper = &pl->procs[h];
	int r;

	helper->parent = helper->creator = p;
	helper->ppid = p >= 0 ? pl->procs[p].pid[helper->n - 1] : 0;
	if (p >= 0) {
		r = pt_plan_emit(pn, PT_OP_CREATE, p, h, 0);
		if (r < 0)
			return r;
		helper->create_op = r;
	} else {
		pl->first = h;
	}
	pn->state[h] |= PROC_CREATED;
	pn->cur_sid[h] = p >= 0 ? pn->cur_sid[p] : PT_ID_EXT;
	pt_plan_set_group(pn, h, p >= 0 ? pn->cur_pgid[p] : PT_ID_EXT);
	pt_plan_link_child(pn, p, h);
	if (helper->role & PT_ROLE_SESSION)
		return pt_plan_setsid(pn, h);
	return pt_plan_join_group(pn, h, h, 0);
}
