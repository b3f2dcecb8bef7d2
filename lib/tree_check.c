/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check of a tree against the machine: the caller's namespace context, the root through
 * the validator, then every process of the plan: PID ranges, the privilege to pin PIDs and to
 * create namespaces, the nesting limit, and PIDs already taken.
 */
#include <errno.h>
#include <stdio.h>

#include "opts.h"
#include "probe.h"
#include "tree_int.h"
#include "validator.h"

#define CAP_BIT(c) (1ull << (c))
#define CAP_PIN (CAP_BIT(PT_CAP_SYS_ADMIN) | CAP_BIT(PT_CAP_CHECKPOINT_RESTORE))

static const char *who(const struct planner *pn, pt_proc_idx p, char *buf, size_t size)
{
	const struct pt_proc *proc = &pn->pl->procs[p];
	char t[160];

	if (proc->node >= 0)
		snprintf(buf, size, "node %d (%s)", proc->node, pt_plan_tuple(proc, t, sizeof(t)));
	else
		snprintf(buf, size, "the dead leader %s that node %d needs",
			 pt_plan_tuple(proc, t, sizeof(t)), proc->for_node);
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
		return pt_plan_diag(pn, r, PIDTUPLE_RULE_KERNEL, 0, -1, 0,
				    "cannot read the namespace context of node 0 (capget(), "
				    "/proc/sys/kernel/pid_max, /proc/self/ns): %s",
				    pt_errno_str(r));
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
			 pt_plan_tuple(&pn->pl->procs[0], t, sizeof(t)), d->message);
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
	pt_proc_idx node = pt_plan_node_of(pn, p);
	char b[256];

	if (ctx->abs_level >= 0 && ctx->abs_level - level > PIDTUPLE_MAX_LEVELS)
		return pt_plan_diag(pn, -ENOSPC, PIDTUPLE_RULE_NS_DEPTH, node, pos, pid,
				    "%s: its PID namespace would be at level %d, beyond the "
				    "kernel's limit of %d",
				    who(pn, p, b, sizeof(b)), ctx->abs_level - level,
				    PIDTUPLE_MAX_LEVELS);
	if (pid >= max)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_PID_RANGE, node, pos, pid,
				    "%s: PID %d (NSpid field %d of %d) is not below a new "
				    "namespace's pid_max %d",
				    who(pn, p, b, sizeof(b)), (int)pid, pos + 1,
				    (int)pn->pl->procs[p].n, max);
	if (!(ctx->cap_eff & CAP_PIN))
		return pt_plan_diag(pn, -EPERM, PIDTUPLE_RULE_PRIVILEGE, node, pos, pid,
				    "%s: pinning PID %d (NSpid field %d of %d) needs "
				    "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN",
				    who(pn, p, b, sizeof(b)), (int)pid, pos + 1,
				    (int)pn->pl->procs[p].n);
	return 0;
}

/* The level at index @level (0: pid_for_children) that the caller can see, or NULL. */
static const struct pt_level *seen_level(const struct pt_plan *pl, int level)
{
	if (level >= 0 && level < (int)pl->ctx.n)
		return &pl->ctx.levels[level];
	return level == pl->proc_at && level >= 0 ? &pl->proc_lv : NULL;
}

/* Position @pos of @p lies in a namespace that exists (when the caller can see it). */
static int check_existing_level(struct planner *pn, pt_proc_idx p, int pos)
{
	const struct pt_plan *pl = pn->pl;
	pid_t pid = pl->procs[p].pid[pos];
	const struct pt_level *lv = seen_level(pl, pl->top - pos);
	pt_proc_idx node = pt_plan_node_of(pn, p);
	char b[256];

	if (!lv)
		return 0;
	if (pid >= lv->pid_max)
		return pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_PID_RANGE, node, pos, pid,
				    "%s: PID %d (NSpid field %d of %d) is not below that "
				    "namespace's pid_max %d",
				    who(pn, p, b, sizeof(b)), (int)pid, pos + 1,
				    (int)pl->procs[p].n, lv->pid_max);
	if (!(lv->flags & PIDTUPLE_LEVEL_CAN_PIN))
		return pt_plan_diag(pn, -EPERM, PIDTUPLE_RULE_PRIVILEGE, node, pos, pid,
				    "%s: pinning PID %d (NSpid field %d of %d) needs "
				    "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over the user "
				    "namespace owning that PID namespace",
				    who(pn, p, b, sizeof(b)), (int)pid, pos + 1,
				    (int)pl->procs[p].n);
	return 0;
}

/* The privilege to create @p's namespace, and every level of @p but whether it is taken. */
static int check_proc_levels(struct planner *pn, pt_proc_idx p, int new_max)
{
	const struct pt_proc *proc = &pn->pl->procs[p];
	pt_proc_idx node = pt_plan_node_of(pn, p);

	if (proc->node >= 0 && (pn->tree->nodes[p]->flags & PIDTUPLE_NODE_NEWPID) &&
	    !(pn->pl->ctx.cap_eff & CAP_BIT(PT_CAP_SYS_ADMIN)))
		return pt_plan_diag(pn, -EPERM, PIDTUPLE_RULE_NS_PRIVILEGE, node, -1, 0,
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
	char b[256], note[128];

	for (int pos = 0; pos < (int)proc->n; pos++) {
		const struct pt_level *lv = seen_level(pl, pl->top - pos);
		int r;

		if (proc->ns_init[pos] >= 0)
			continue;
		if (!lv) {
			unverified++;
			continue;
		}
		r = pt_level_pid_taken(lv, proc->pid[pos]);
		if (r > 0) {
			pt_level_holder_note(lv, proc->pid[pos], note, sizeof(note));
			return pt_plan_diag(pn, -EEXIST, PIDTUPLE_RULE_PID_TAKEN,
					    pt_plan_node_of(pn, p), pos, proc->pid[pos],
					    "%s: PID %d (NSpid field %d of %d) is already in use "
					    "there%s",
					    who(pn, p, b, sizeof(b)), (int)proc->pid[pos], pos + 1,
					    (int)proc->n, note);
		}
		if (r < 0)
			unverified++;
	}
	*ret_unverified = unverified;
	return 0;
}

/* TID @pid at position @pos of thread @k of node @i: in range, free where the caller sees. Its
 * node's check found the privilege. 1: not seen; 0: fine; < 0: refused. */
static int check_thread_pos(struct planner *pn, pt_proc_idx i, uint32_t k, int pos, int new_max)
{
	const struct pt_plan *pl = pn->pl;
	const struct pidtuple *t = pn->tree->nodes[i]->threads[k];
	pid_t pid = t->pid[t->n - 1 - (unsigned int)pos];
	const struct pt_level *lv = seen_level(pl, pl->top - pos);
	int max = new_max, r = 0;
	char b[64], note[128];

	if (pl->procs[i].ns_init[pos] < 0) {
		if (!lv)
			return 1;
		max = lv->pid_max;
		r = pt_level_pid_taken(lv, pid);
	}
	pidtuple_format(t, b, sizeof(b));
	if (pid >= max)
		pt_plan_diag(pn, -EINVAL, PIDTUPLE_RULE_PID_RANGE, i, pos, pid,
			     "node %d thread %u (%s): TID %d (NSpid field %d of %u) is not below "
			     "that namespace's pid_max %d",
			     i, k, b, (int)pid, pos + 1, t->n, max);
	else if (r > 0) {
		pt_level_holder_note(lv, pid, note, sizeof(note));
		pt_plan_diag(pn, -EEXIST, PIDTUPLE_RULE_PID_TAKEN, i, pos, pid,
			     "node %d thread %u (%s): TID %d (NSpid field %d of %u) is already in "
			     "use there%s",
			     i, k, b, (int)pid, pos + 1, t->n, note);
	} else
		return r < 0;
	pt_diag_set_thread(pn->diag, (int)k);
	return pid >= max ? -EINVAL : -EEXIST;
}

/* Every thread of node @i; *ret_unverified: the most levels of one left unseen. */
static int check_node_threads(struct planner *pn, pt_proc_idx i, int new_max, int *ret_unverified)
{
	const struct pt_tnode *nd = pn->tree->nodes[i];

	for (uint32_t k = 0; k < nd->nthreads; k++) {
		int unverified = 0;

		for (int pos = 0; pos < (int)nd->tuple->n; pos++) {
			int r = check_thread_pos(pn, i, k, pos, new_max);

			if (r < 0)
				return r;
			unverified += r;
		}
		if (unverified > *ret_unverified)
			*ret_unverified = unverified;
	}
	return 0;
}

int pt_plan_check_machine(struct planner *pn, int *ret_unverified)
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
	for (pt_proc_idx i = 0; i < pn->nnodes; i++) {
		r = check_node_threads(pn, i, new_max, &unverified);
		if (r < 0)
			return r;
	}
	*ret_unverified = unverified;
	return 0;
}

/* Tuples reaching above the caller: the level an outer /proc shows, when it is one of theirs
 * (position cpos - above). Costs a few /proc reads, only then. */
static void read_proc_level(struct pt_plan *pl)
{
	int above;

	pl->proc_at = -1;
	if (pl->cpos <= 0 || pl->ctx.n == 0 ||
	    !(pl->ctx.levels[pl->ctx.n - 1].flags & PIDTUPLE_LEVEL_CALLER))
		return;
	above = pt_nsctx_proc_level(&pl->ctx, &pl->proc_lv);
	if (above > 0 && above <= pl->cpos)
		pl->proc_at = (int)pl->ctx.n - 1 + above;
}

/* The namespace context of the caller's pid_for_children, its session and its group. */
int pt_plan_read_context(struct planner *pn)
{
	struct pt_plan *pl = pn->pl;
	struct pt_fork_opts co = *pn->opts;
	pid_t sid, pgid;
	int r;

	co.clone_flags = 0;
	r = pt_nsctx_init(&pl->ctx, &co, pn->has_newpid);
	if (r < 0)
		return pt_plan_diag(pn, r, PIDTUPLE_RULE_KERNEL, -1, -1, 0,
				    "cannot read the caller's namespace context (capget(), "
				    "/proc/sys/kernel/pid_max, /proc/self/ns): %s",
				    pt_errno_str(r));
	pl->have_ctx = true;
	sid = pt_getsid(0);
	pgid = pt_getpgid(0);
	pl->cpos = pl->top - ((int)pl->ctx.n - 1);
	read_proc_level(pl);
	pn->caller_sid = sid > 0 ? sid : 0;
	pn->caller_pgid = pgid > 0 ? pgid : 0;
	return 0;
}
