/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restoring a tree: executes the plan tree_plan.c computed and checked.
 *
 * Every process of the tree is a raw clone3() child and performs its own steps of the plan in
 * order: fork a child with its exact PIDs, setsid(), setpgid(), exit, reap. Forks run in
 * parallel; the other steps run one at a time in the plan's order, the process whose turn it
 * is handing the turn on through a futex in shared memory. A creator sends the new process's
 * pidfd to the restorer over one SOCK_SEQPACKET socket; failures and the end of the plan travel
 * the same way. Nothing in the tree wakes up on a timer: with thousands of processes, periodic
 * wake-ups would cost more than the forks (each one a switch of address space).
 * Then every process waits at the barrier (the read end of a pipe whose write end only the
 * restorer holds) until released. PR_SET_PDEATHSIG(SIGKILL), plus each process watching its
 * parent's pidfd, makes a failure anywhere take the whole tree down; the restorer kills and
 * reaps what exists, so a failed restore leaves nothing behind.
 * The restorer holds one descriptor per node, its pidfd. HOLD nodes share one socket for
 * hand-over requests: a node asked through the shared memory sends a socket of its own back.
 *
 * The processes of the tree run restore_child.c (async-signal-safe); the handle is
 * restore_handle.c. This file is the restorer: it sets up, forks the first process, collects
 * the others and hands them to a handle, or kills them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "fallback.h"
#include "join.h"
#include "probe.h"
#include "restore_int.h"
#include "thread_arch.h"
#include "validator.h"

/* Everything pidtuple_tree_restore() sets up; restorer_free() releases what is left. */
struct restorer {
	struct pt_fork_opts opts;
	const struct pidtuple_tree *tree;
	struct pidtuple_diag *diag;
	struct pt_plan *pl;
	struct rs_run run; /* what the tree's processes read; the descriptors in it are ours */
	int32_t *serial, *serial_op; /* run.serial and run.serial_op */
	int *pidfd;		     /* per process, -1 until reported */
	bool ops_shared;	     /* pl->ops moved to the shared memory */
	pt_proc_idx got;	     /* pidfds received */
	bool done;		     /* the end of the plan was reported */
	bool locked;		     /* holds the ns_last_pid lock (run.lock_fd) */
	int caller_fd;		     /* pidfd of the caller: the first process watches it */
	pid_t self;
	struct pt_join join; /* PIDTUPLE_FORK_JOIN_NS: entered from the check to the last fork */
};

static pt_proc_idx node_of(const struct pt_plan *pl, pt_proc_idx p)
{
	return pl->procs[p].node >= 0 ? pl->procs[p].node : pl->procs[p].for_node;
}

static int restorer_diag(struct restorer *rt, int err, uint32_t rule, pt_proc_idx p, int pos,
			 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int restorer_diag(struct restorer *rt, int err, uint32_t rule, pt_proc_idx p, int pos,
			 const char *fmt, ...)
{
	char msg[PIDTUPLE_DIAG_MESSAGE_SIZE];
	const struct pt_proc *proc = p >= 0 ? &rt->pl->procs[p] : NULL;
	unsigned int n = proc ? proc->n : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pt_diag(rt->diag, err, rule, pos >= 0 ? (int)n - 1 - pos : -1, n,
		pos >= 0 ? proc->pid[pos] : 0, "%s", msg);
	pt_diag_set_node(rt->diag, p >= 0 ? node_of(rt->pl, p) : -1);
	if (rule == PIDTUPLE_RULE_TREE_NODE)
		pt_diag_set_kernel_err(rt->diag, err);
	return err;
}

static const char *who(const struct pt_plan *pl, pt_proc_idx p, char *buf, size_t size)
{
	const struct pt_proc *proc = &pl->procs[p];
	char t[160];

	pt_format_pos(proc->pid, proc->n, t, sizeof(t));
	if (proc->node >= 0)
		snprintf(buf, size, "node %d (%s)", proc->node, t);
	else
		snprintf(buf, size, "the temporary leader %s for node %d", t, proc->for_node);
	return buf;
}

/* ---- what went wrong -------------------------------------------------------------------- */

/* How a number of @p's tuple is taken, at position @pos: 0 free, TAKEN_BY_TASK, TAKEN_BY_ID. */
enum { TAKEN_BY_TASK = 1, TAKEN_BY_ID };

static int taken_at(struct restorer *rt, pt_proc_idx p, int pos)
{
	const struct pt_plan *pl = rt->pl;
	const struct pt_proc *proc = &pl->procs[p];
	pt_proc_idx ns_init = proc->ns_init[pos];
	int level = pl->top - pos, nsfd, r = 0;

	if (ns_init < 0) {
		const struct pt_level *lv;

		if (level < 0 || level >= (int)pl->ctx.n)
			return 0;
		lv = &pl->ctx.levels[level];
		if (pt_level_pid_taken(lv, proc->pid[pos]) > 0)
			return TAKEN_BY_TASK;
		/* A process group or session whose leader is gone still holds its number. */
		return pt_level_pid_held(lv, proc->pid[pos], true) > 0 ? TAKEN_BY_ID : 0;
	}
	if (!(pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS) || rt->pidfd[ns_init] < 0)
		return 0;
	nsfd = pt_pidfd_get_pidns(rt->pidfd[ns_init]);
	if (nsfd >= 0) {
		r = pt_ns_pid_from_pidns(nsfd, proc->pid[pos]) > 0 ? TAKEN_BY_TASK : 0;
		pt_close(nsfd);
	}
	return r;
}

/* Which level of @p's tuple is taken: the innermost one found (how in *how), or -1. Else,
 * when only one of its levels lies in a namespace that existed before the restore (the only
 * kind another process can take a number in), that one, with *how 0. */
static int find_taken(struct restorer *rt, pt_proc_idx p, int *how)
{
	const struct pt_proc *proc = &rt->pl->procs[p];
	int existing = -1, nexisting = 0;

	for (int pos = (int)proc->n - 1; pos >= 0; pos--) {
		*how = taken_at(rt, p, pos);
		if (*how)
			return pos;
		if (proc->ns_init[pos] < 0 && nexisting++ == 0)
			existing = pos;
	}
	*how = 0;
	return nexisting == 1 ? existing : -1;
}

/* The end of the message when @p's number at @pos is held by a process that exited but is not
 * reaped yet (pt_level_holder_note()), else "". */
static void holder_note(struct restorer *rt, pt_proc_idx p, int pos, char *buf, size_t size)
{
	const struct pt_plan *pl = rt->pl;
	const struct pt_proc *proc = &pl->procs[p];
	pt_proc_idx ns_init = proc->ns_init[pos];
	int level = pl->top - pos, nsfd;

	buf[0] = '\0';
	if (ns_init < 0) {
		if (level >= 0 && level < (int)pl->ctx.n)
			pt_level_holder_note(&pl->ctx.levels[level], proc->pid[pos], buf, size);
		return;
	}
	nsfd = rt->pidfd[ns_init] >= 0 ? pt_pidfd_get_pidns(rt->pidfd[ns_init]) : -1;
	if (nsfd >= 0) {
		pt_ns_holder_note(nsfd, proc->pid[pos], buf, size);
		pt_close(nsfd);
	}
}

/*
 * @p's clone3() failed with EEXIST: a number the check found free was taken when the process
 * was created. Another process took it in between (a racer, a fork flood: the ns_last_pid lock
 * binds only those who take it), or a session or process group whose leader is gone holds it,
 * which the check does not walk the namespace for (but at the caller's level, where a signal
 * to the group finds a group).
 */
static int explain_taken(struct restorer *rt, pt_proc_idx p, int err, const char *b)
{
	const struct pt_proc *proc = &rt->pl->procs[p];
	int how, pos = find_taken(rt, p, &how), r;

	if (pos < 0)
		r = restorer_diag(rt, err, PIDTUPLE_RULE_PID_TAKEN, p, -1,
				  "%s could not be created: one of its PIDs was taken after the "
				  "check; the partial tree was removed",
				  b);
	else if (how == TAKEN_BY_ID)
		r = restorer_diag(
			rt, err, PIDTUPLE_RULE_PID_TAKEN, p, pos,
			"%s could not be created: PID %d (NSpid field %d of %d) is held by a "
			"session or process group whose leader is gone, which the check "
			"does not walk the namespace for; the partial tree was removed",
			b, (int)proc->pid[pos], pos + 1, (int)proc->n);
	else {
		char note[128];

		holder_note(rt, p, pos, note, sizeof(note));
		r = restorer_diag(
			rt, err, PIDTUPLE_RULE_PID_TAKEN, p, pos,
			"%s could not be created: PID %d (NSpid field %d of %d) was taken "
			"after the check%s; the partial tree was removed",
			b, (int)proc->pid[pos], pos + 1, (int)proc->n, note);
	}
	pt_diag_set_kernel_err(rt->diag, err);
	return r;
}

/* Node @p could not make thread @k (after the check found its TIDs free and in range). */
static int explain_thread(struct restorer *rt, pt_proc_idx p, int err, int32_t k, const char *b)
{
	const struct pt_tnode *nd = rt->tree->nodes[rt->pl->procs[p].node];
	char t[160] = "?";
	int r;

	if (k >= 0 && (uint32_t)k < nd->nthreads)
		pidtuple_format(nd->threads[k], t, sizeof(t));
	r = restorer_diag(
		rt, err, err == -EEXIST ? PIDTUPLE_RULE_PID_TAKEN : PIDTUPLE_RULE_TREE_NODE, p, -1,
		"%s: thread %d (%s) could not be created: %s%s; the partial tree was removed", b,
		(int)k, t, pidtuple_strerror(err),
		err == -EEXIST ? " (a TID was taken after the check)" : "");
	pt_diag_set_thread(rt->diag, (int)k);
	pt_diag_set_kernel_err(rt->diag, err);
	return r;
}

/* Process @p reported @err at step @o (-1: while starting; RS_OP_THREAD(k): making thread k). */
static int explain(struct restorer *rt, pt_proc_idx p, int err, int32_t o)
{
	const struct pt_plan *pl = rt->pl;
	static const char *const what[] = { [PT_OP_SETSID] = "setsid()",
					    [PT_OP_SETPGID] = "setpgid()",
					    [PT_OP_REAP] = "reaping a temporary leader" };
	char b[200];

	if (p < 0 || p >= pl->nprocs)
		return restorer_diag(
			rt, err, PIDTUPLE_RULE_TREE_NODE, -1, -1,
			"a process of the tree failed: %s; the partial tree was removed",
			pidtuple_strerror(err));
	who(pl, p, b, sizeof(b));
	if (o <= RS_OP_THREAD(0))
		return explain_thread(rt, p, err, RS_OP_THREAD_OF(o), b);
	if (o < 0)
		return restorer_diag(rt, err, PIDTUPLE_RULE_TREE_NODE, p, -1,
				     "%s could not start: %s; the partial tree was removed", b,
				     pidtuple_strerror(err));
	if (pl->ops[o].op != PT_OP_CREATE) {
		uint8_t k = pl->ops[o].op;

		return restorer_diag(rt, err, PIDTUPLE_RULE_TREE_NODE, p, -1,
				     "%s: %s failed: %s; the partial tree was removed", b,
				     k < sizeof(what) / sizeof(what[0]) && what[k] ? what[k]
										   : "a step",
				     pidtuple_strerror(err));
	}
	if (err == -EEXIST)
		return explain_taken(rt, p, err, b);
	return restorer_diag(rt, err, PIDTUPLE_RULE_TREE_NODE, p, -1,
			     "%s could not be created: %s; the partial tree was removed", b,
			     pidtuple_strerror(err));
}

/* How many pidfds dead_one() polls in one call. */
#define DEAD_POLL_BATCH 256

/* A process that is gone although the plan still needs it: the first one found, or -1. */
static pt_proc_idx dead_one(struct restorer *rt)
{
	const struct pt_plan *pl = rt->pl;
	struct pollfd pf[DEAD_POLL_BATCH];
	pt_proc_idx idx[DEAD_POLL_BATCH];
	unsigned int k = 0;

	for (pt_proc_idx p = 0; p <= pl->nprocs; p++) {
		const struct pt_proc *proc = &pl->procs[p < pl->nprocs ? p : 0];

		if (p < pl->nprocs && rt->pidfd[p] >= 0 &&
		    (proc->exit_op < 0 ||
		     atomic_load(&rt->run.opdone[proc->exit_op]) != RS_STEP_DONE)) {
			pf[k] = (struct pollfd){ rt->pidfd[p], POLLIN, 0 };
			idx[k++] = p;
		}
		if (k < DEAD_POLL_BATCH && (p < pl->nprocs || !k))
			continue;
		if (pt_poll(pf, k, 0) > 0)
			for (unsigned int i = 0; i < k; i++)
				if (pf[i].revents & POLLIN)
					return idx[i];
		k = 0;
	}
	return -1;
}

static int report_dead(struct restorer *rt, pt_proc_idx p)
{
	char b[200];

	return restorer_diag(rt, -ESRCH, PIDTUPLE_RULE_TREE_NODE, p, -1,
			     "%s died while the tree was being created; the partial tree was "
			     "removed",
			     who(rt->pl, p, b, sizeof(b)));
}

/* ---- collecting the tree ---------------------------------------------------------------- */

/* How many records one receive takes at most, and how long it waits for the first (the
 * report socket's SO_RCVTIMEO): quiet that long, the restorer looks for a dead process. */
#define RECV_BATCH 32
#define RECV_QUIET_MS 100

/* A batch of records as received. */
struct records {
	struct mmsghdr vec[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct rs_msg m[RECV_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[RECV_BATCH];
};

/* Receives what is waiting, or waits up to RECV_QUIET_MS for a record: how many (-EAGAIN:
 * none came). */
static int receive_records(int sock, struct records *b)
{
	for (unsigned int i = 0; i < RECV_BATCH; i++) {
		b->iov[i] = (struct iovec){ &b->m[i], sizeof(b->m[i]) };
		b->vec[i] =
			(struct mmsghdr){ .msg_hdr = { .msg_iov = &b->iov[i],
						       .msg_iovlen = 1,
						       .msg_control = b->ctl[i].buf,
						       .msg_controllen = sizeof(b->ctl[i].buf) } };
	}
	return pt_recvmmsg(sock, b->vec, RECV_BATCH, MSG_WAITFORONE);
}

/* Record @i's pidfd, or -1; in *lost whether a descriptor did not fit. */
static int record_fd(const struct records *b, int i, bool *lost)
{
	const struct msghdr *h = &b->vec[i].msg_hdr;
	int fd = -1;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	*lost = h->msg_flags & MSG_CTRUNC;
	return fd;
}

/* A well-formed record: 1, or the failure it reports. Takes @fd. */
static int apply_record(struct restorer *rt, const struct rs_msg *m, int fd)
{
	pt_proc_idx p = m->proc;

	switch (m->kind) {
	case RS_MSG_PIDFD:
		if (rt->pidfd[p] < 0 && fd >= 0) {
			rt->pidfd[p] = fd;
			rt->got++;
			fd = -1;
		}
		break;
	case RS_MSG_FAIL:
		pt_close(fd);
		return explain(rt, p, m->err < 0 ? m->err : -EIO, m->op);
	case RS_MSG_DONE:
		rt->done = true;
		break;
	default:
		break;
	}
	pt_close(fd);
	return 1;
}

/* Takes record @m of @n bytes carrying @fd (-1: none; *lost: one did not fit): 1, or the
 * failure. Takes @fd. */
static int take_record(struct restorer *rt, const struct rs_msg *m, size_t n, int fd, bool lost)
{
	const struct pt_plan *pl = rt->pl;
	pt_proc_idx p;

	if (n == 0) {
		pt_close(fd);
		p = dead_one(rt);
		return p >= 0 ? report_dead(rt, p)
			      : restorer_diag(rt, -ESRCH, PIDTUPLE_RULE_TREE_NODE, -1, -1,
					      "every process of the tree is gone");
	}
	if (lost) {
		pt_close(fd);
		return restorer_diag(rt, -EMFILE, PIDTUPLE_RULE_TREE_NODE, -1, -1,
				     "the caller ran out of file descriptors (a tree of %d "
				     "processes needs about %d): raise RLIMIT_NOFILE",
				     pl->nprocs, pl->nprocs + pl->nhold);
	}
	if (n != sizeof(*m) || m->proc < 0 || m->proc >= pl->nprocs) {
		pt_close(fd);
		return restorer_diag(rt, -EIO, PIDTUPLE_RULE_KERNEL, -1, -1,
				     "a malformed report from the tree (%zu bytes)", n);
	}
	return apply_record(rt, m, fd);
}

/* Takes the records waiting, or waits for one: 1 when there were some, 0 when none came, or
 * the failure. One call per batch: the restorer shares the CPUs with the forks. */
static int take_records(struct restorer *rt)
{
	struct records b;
	int n = receive_records(rt->run.st_r, &b), r = 1;

	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return restorer_diag(rt, n, PIDTUPLE_RULE_KERNEL, -1, -1,
				     "cannot read the tree's reports (recvmmsg()): %s",
				     pt_errno_str(n));
	for (int i = 0; i < n; i++) {
		bool lost;
		int fd = record_fd(&b, i, &lost);

		if (r == 1)
			r = take_record(rt, &b.m[i], b.vec[i].msg_len, fd, lost);
		else
			pt_close(fd); /* failed already: the rest is dropped */
	}
	return r;
}

/* Receives the pidfd of every process and the end of the plan, or a failure. */
static int collect(struct restorer *rt)
{
	const struct pt_plan *pl = rt->pl;

	for (;;) {
		pt_proc_idx p;
		int r;

		if (rt->done && rt->got == pl->nprocs) {
			p = dead_one(rt);
			return p >= 0 ? report_dead(rt, p) : 0;
		}
		r = take_records(rt);
		if (r < 0)
			return r;
		if (r == 0) {
			/* Quiet for a while: is a process that should act gone? */
			p = dead_one(rt);
			if (p >= 0)
				return report_dead(rt, p);
		}
	}
}

/* A process whose creator died before sending its pidfd: reparented to us if we are its
 * namespace's reaper; it dies of its parent's death. Reaps those until @deadline. */
static void reap_unreported(struct restorer *rt, int64_t deadline)
{
	const struct pt_plan *pl = rt->pl;

	if (pl->cpos < 0)
		return;
	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		const struct pt_proc *proc = &pl->procs[p];
		uint8_t state = proc->create_op >= 0 ? atomic_load(&rt->run.opdone[proc->create_op])
						     : RS_STEP_NEW;

		if (rt->pidfd[p] >= 0 || (state != RS_STEP_STARTED && state != RS_STEP_DONE))
			continue;
		while (pt_waitpid(proc->pid[pl->cpos], NULL, WNOHANG | __WALL) == 0 &&
		       pt_now_ns() < deadline)
			pt_poll(NULL, 0, 1);
	}
}

/* Kills and reaps every process of a failed restore: nothing may be left behind. */
static void abort_tree(struct restorer *rt)
{
	const struct pt_plan *pl = rt->pl;
	struct rs_shm *shm = rt->run.shm;
	int64_t deadline = pt_now_ns() + 5 * 1000000000ll;
	int top[2] = { -1, -1 };
	unsigned int ntop = 0;

	atomic_store(&shm->abort, 1);
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		pt_pidfd_kill(rt->pidfd[p]);
	/* Those not reported yet sleep without a timer: they see the abort and exit. */
	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		atomic_fetch_add(&shm->wake[p], 1);
		pt_raw_futex_wake((uint32_t *)&shm->wake[p], INT_MAX);
	}
	pt_close(rt->run.bar_w);
	rt->run.bar_w = -1;
	/* Once a pidfd reports the exit, the kernel has handed that process's children on. */
	for (pt_proc_idx p = 0; p < pl->nprocs && ntop < 2; p++)
		if (pl->procs[p].parent < 0)
			top[ntop++] = rt->pidfd[p]; /* the first process, a root it forked */
	pt_pidfds_wait_exit(rt->pidfd, (unsigned int)pl->nprocs, top, ntop, deadline);
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		if (rt->pidfd[p] >= 0)
			(void)pt_waitid_pidfd(rt->pidfd[p], WEXITED | WNOHANG | __WALL);
	reap_unreported(rt, deadline);
	/* Until every process is reaped, its PID (and a group named after it) stays taken. */
	pt_pidfds_wait_reaped(rt->pidfd, (unsigned int)pl->nprocs, deadline);
	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		pt_close(rt->pidfd[p]);
		rt->pidfd[p] = -1;
	}
}

/* Temporary leaders are gone; the caller's own children among them are reaped here. */
static void reap_helpers(struct restorer *rt)
{
	const struct pt_plan *pl = rt->pl;

	for (pt_proc_idx p = pl->nnodes; p < pl->nprocs; p++) {
		if (pl->procs[p].parent < 0)
			(void)pt_waitid_pidfd(rt->pidfd[p], WEXITED | __WALL);
		pt_close(rt->pidfd[p]);
		rt->pidfd[p] = -1;
	}
}

/* ---- setting up ------------------------------------------------------------------------- */

static int fd_budget(struct restorer *rt)
{
	unsigned long lim = 0;
	unsigned long need = (unsigned long)rt->pl->nprocs + 64;

	if (pt_nofile_limit(&lim) < 0 || lim >= need)
		return 0;
	return restorer_diag(rt, -EMFILE, PIDTUPLE_RULE_TREE_NODE, -1, -1,
			     "a tree of %d processes needs about %lu file descriptors in the "
			     "caller (a pidfd per node), but RLIMIT_NOFILE is %lu",
			     rt->pl->nprocs, need, lim);
}

/* Moves @fd above 2 (the caller may have closed 0, 1 or 2), where a HOLD node's stdio is
 * pointed at it; -errno. */
static int above_stdio(int fd)
{
	int low[3], n = 0;

	while (fd >= 0 && fd < 3 && n < 3) {
		low[n++] = fd;
		fd = pt_dup(fd);
	}
	for (int i = 0; i < n; i++)
		pt_close(low[i]);
	return fd;
}

/* The steps that run one at a time, in the plan's order: each one's place among them. */
static void order_serial_steps(struct restorer *rt)
{
	const struct pt_plan *pl = rt->pl;
	int32_t k = 0;

	for (int32_t i = 0; i < pl->nops; i++) {
		rt->serial[i] = pl->ops[i].op == PT_OP_CREATE ? -1 : k;
		if (rt->serial[i] >= 0)
			rt->serial_op[k++] = i;
	}
	rt->serial_op[k] = -1;
}

/* What each process is (RS_PF_*). A process that creates one that is not held is not held
 * either; the steps come in an order where a process's creation precedes its own steps. */
static void set_pflags(const struct pt_plan *pl, const struct pidtuple_tree *tree, bool share_vm,
		       uint8_t *f)
{
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		f[p] = pl->procs[p].clone_flags & PT_CLONE_NEWPID ? RS_PF_PARENT : 0;
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		if (pl->procs[p].parent >= 0)
			f[pl->procs[p].parent] |= RS_PF_PARENT;
	for (int32_t o = 0; o < pl->nops; o++)
		if (pl->ops[o].op == PT_OP_CREATE)
			f[pl->ops[o].actor] |= RS_PF_CREATES;
	/* A helper that forks nothing is not held: it has no descriptors to hand on, and
	 * without HOLD nodes there is no /dev/null to hand on. */
	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		bool hold = pl->procs[p].node >= 0 &&
			    tree->nodes[pl->procs[p].node]->kind == PIDTUPLE_NODE_HOLD;

		if (hold)
			f[p] |= RS_PF_HOLD;
		if (pl->procs[p].node >= 0 ? hold : (f[p] & RS_PF_CREATES) && pl->nhold)
			f[p] |= RS_PF_HELD;
	}
	for (int32_t o = pl->nops - 1; o >= 0; o--)
		if (pl->ops[o].op == PT_OP_CREATE && !(f[pl->ops[o].target] & RS_PF_HELD))
			f[pl->ops[o].actor] &= (uint8_t)~RS_PF_HELD;
	if (!share_vm || !PT_THREAD_ARCH)
		return;
	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		const struct pt_proc *x = &pl->procs[p];

		if (x->create_op >= 0 && x->first_op < 0 &&
		    (f[p] & (RS_PF_HOLD | RS_PF_CREATES | RS_PF_PARENT)) == RS_PF_HOLD &&
		    (f[pl->ops[x->create_op].actor] & RS_PF_HELD))
			f[p] |= RS_PF_SHARE_VM;
	}
}

/*
 * The shared memory: struct rs_shm and a futex per process; the serial order of the steps, the
 * plan's steps and the pidfd table; a state per step and the flags of each process; a copy of
 * the plan, and the HOLD nodes' names and threads. What the tree reads lives here rather than
 * in private memory, whose page table entries every fork of the restore would copy (the plan's
 * steps, zeroed to their capacity, were 800 KiB of a 10,000-node restore); the pidfd table too,
 * as the restorer's own memory is what the first fork copies. A held process reads nothing
 * else of the caller's heap, which its forks then do not copy (restore_heap.c). Returns its
 * length; @off gets the offsets.
 */
enum {
	SHM_SERIAL,
	SHM_SERIAL_OP,
	SHM_OPS,
	SHM_PIDFD,
	SHM_OPDONE,
	SHM_PFLAGS,
	SHM_PLAN,
	SHM_PREP,
	SHM_THREADS,
	SHM_NR
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* The threads of all HOLD nodes (the tree bounds their number). */
static size_t hold_threads(const struct pidtuple_tree *tree)
{
	size_t n = 0;

	for (unsigned int i = 0; i < tree->n; i++)
		if (tree->nodes[i]->kind == PIDTUPLE_NODE_HOLD)
			n += tree->nodes[i]->nthreads;
	return n;
}

static size_t shm_layout(const struct pt_plan *pl, size_t nthreads, size_t off[SHM_NR])
{
	size_t np = (size_t)pl->nprocs, nops = (size_t)pl->nops;

	off[SHM_SERIAL] = sizeof(struct rs_shm) + np * sizeof(uint32_t);
	off[SHM_SERIAL_OP] = off[SHM_SERIAL] + (nops + 1) * sizeof(int32_t);
	off[SHM_OPS] = off[SHM_SERIAL_OP] + (nops + 1) * sizeof(int32_t);
	off[SHM_PIDFD] = off[SHM_OPS] + nops * sizeof(struct pt_op);
	off[SHM_OPDONE] = off[SHM_PIDFD] + np * sizeof(int);
	off[SHM_PFLAGS] = off[SHM_OPDONE] + nops;
	off[SHM_PLAN] = align8(off[SHM_PFLAGS] + np);
	off[SHM_PREP] = align8(off[SHM_PLAN] + sizeof(struct pt_plan));
	off[SHM_THREADS] = align8(off[SHM_PREP] + np * sizeof(struct rs_prep));
	return off[SHM_THREADS] + nthreads * sizeof(struct pidtuple);
}

/* The HOLD nodes' names and threads, for the processes to read in the shared memory. */
static void copy_prep(const struct restorer *rt, struct rs_prep *prep, struct pidtuple *threads)
{
	const struct pt_plan *pl = rt->pl;
	uint32_t next = 0;

	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		const struct pt_tnode *nd;

		if (pl->procs[p].node < 0)
			continue;
		nd = rt->tree->nodes[pl->procs[p].node];
		if (nd->kind != PIDTUPLE_NODE_HOLD || (!nd->name[0] && !nd->nthreads))
			continue;
		memcpy(prep[p].name, nd->name, sizeof(prep[p].name));
		prep[p].nthreads = nd->nthreads;
		prep[p].first = next;
		for (uint32_t k = 0; k < nd->nthreads; k++)
			threads[next++] = *nd->threads[k];
	}
}

/* The shared memory and what is in it; the plan's steps move there. */
static int restorer_alloc(struct restorer *rt)
{
	struct pt_plan *pl = rt->pl;
	struct rs_run *run = &rt->run;
	size_t off[SHM_NR];
	char *base;

	run->tree = rt->tree;
	run->shm_len = shm_layout(pl, hold_threads(rt->tree), off);
	run->shm = pt_mmap_shared(run->shm_len);
	if (!run->shm)
		return restorer_diag(rt, -ENOMEM, PIDTUPLE_RULE_KERNEL, -1, -1,
				     "cannot map the restore of %d processes (mmap()): %s",
				     pl->nprocs, pt_errno_str(ENOMEM));
	base = (char *)run->shm;
	rt->serial = (int32_t *)(void *)(base + off[SHM_SERIAL]);
	rt->serial_op = (int32_t *)(void *)(base + off[SHM_SERIAL_OP]);
	rt->pidfd = (int *)(void *)(base + off[SHM_PIDFD]);
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		rt->pidfd[p] = -1;
	if (pl->nops)
		memcpy(base + off[SHM_OPS], pl->ops, (size_t)pl->nops * sizeof(struct pt_op));
	free(pl->ops);
	pl->ops = (struct pt_op *)(void *)(base + off[SHM_OPS]);
	rt->ops_shared = true;
	run->opdone = (_Atomic uint8_t *)(void *)(base + off[SHM_OPDONE]);
	run->pflags = (const uint8_t *)(base + off[SHM_PFLAGS]);
	set_pflags(pl, rt->tree, rt->opts.flags & PIDTUPLE_FORK_SHARE_VM,
		   (uint8_t *)(base + off[SHM_PFLAGS]));
	run->prep = (const struct rs_prep *)(void *)(base + off[SHM_PREP]);
	run->threads = (const struct pidtuple *)(void *)(base + off[SHM_THREADS]);
	copy_prep(rt, (struct rs_prep *)(void *)(base + off[SHM_PREP]),
		  (struct pidtuple *)(void *)(base + off[SHM_THREADS]));
	run->serial = rt->serial;
	run->serial_op = rt->serial_op;
	order_serial_steps(rt);
	/* Its pointers lead into the shared memory; what they lead to may still change. */
	memcpy(base + off[SHM_PLAN], pl, sizeof(*pl));
	run->pl = (const struct pt_plan *)(void *)(base + off[SHM_PLAN]);
	return 0;
}

/* The barrier, the report socket and the caller's pidfd; with HOLD nodes /dev/null and the
 * hand-over socket. */
static int open_channels(struct restorer *rt)
{
	struct rs_run *run = &rt->run;
	int bar[2] = { -1, -1 }, st[2] = { -1, -1 }, hs[2] = { -1, -1 }, r;
	const char *call = "pipe2() for the barrier";

	r = pt_pipe2(bar, 0);
	run->bar_r = bar[0];
	run->bar_w = bar[1];
	if (r == 0) {
		call = "socketpair() for the reports";
		r = pt_socketpair_seqpacket(st);
	}
	if (r == 0) {
		struct timeval quiet = { 0, RECV_QUIET_MS * 1000 };

		call = "setsockopt(SO_RCVTIMEO) for the reports";
		r = pt_setsockopt(st[0], SOL_SOCKET, SO_RCVTIMEO, &quiet, sizeof(quiet));
	}
	run->st_r = st[0];
	run->st_w = st[1];
	rt->self = pt_sys_getpid();
	if (r == 0) {
		call = "pidfd_open() of the caller";
		r = rt->caller_fd = pt_sys_pidfd_open(rt->self, 0);
	}
	if (r >= 0 && rt->pl->nhold) {
		/* Opened now, so that a released HOLD node has nothing left that can fail. */
		call = "open() of /dev/null";
		r = run->null_fd = above_stdio(pt_open("/dev/null", O_RDWR));
		if (r >= 0) {
			call = "socketpair() for the hand-over";
			r = pt_socketpair_seqpacket(hs);
		}
		run->hs_r = hs[0];
		run->hs = hs[1];
	}
	if (r < 0)
		return restorer_diag(rt, r, PIDTUPLE_RULE_KERNEL, -1, -1,
				     "cannot set up the restore: %s failed: %s", call,
				     pt_errno_str(r));
	return 0;
}

static int restorer_lock(struct restorer *rt)
{
	int r;

	if (!(rt->opts.flags & PIDTUPLE_FORK_LOCK))
		return 0;
	r = pt_lock_take(&rt->opts, O_RDONLY, &rt->run.lock_fd);
	if (r < 0)
		return pt_diag(rt->diag, r, PIDTUPLE_RULE_FALLBACK, -1, 0, 0,
			       "cannot take the ns_last_pid lock (%s): %s",
			       rt->opts.lock ? "the lock callback"
					     : "open() and flock() of /proc/sys/kernel/ns_last_pid",
			       pt_errno_str(r));
	rt->locked = true;
	return 0;
}

static void restorer_unlock(struct restorer *rt)
{
	if (!rt->locked)
		return;
	pt_lock_release(&rt->opts, rt->run.lock_fd);
	rt->run.lock_fd = -1;
	rt->locked = false;
}

/* Plans the restore of @tree and sets up everything for it, up to the first fork. */
static int restorer_init(struct restorer *rt, const struct pidtuple_tree *tree,
			 const struct pidtuple_fork_opts *opts, struct pidtuple_restore **ret)
{
	const struct rs_run no_fds = { .st_w = -1,
				       .st_r = -1,
				       .bar_r = -1,
				       .bar_w = -1,
				       .lock_fd = -1,
				       .null_fd = -1,
				       .hs_r = -1,
				       .hs = -1 };
	int r;

	*rt = (struct restorer){ .tree = tree, .run = no_fds, .caller_fd = -1, .join.back = -1 };
	r = pt_fork_opts_get(opts, &rt->opts);
	if (r < 0)
		return r;
	rt->diag = rt->opts.diag;
	if (!tree || !ret)
		return pt_diag(rt->diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, 0, 0,
			       "no tree or no place for the handle given");
	r = pt_join_enter(&rt->opts, 0, &rt->join);
	if (r < 0)
		return r;
	/* The lock first: a restorer that takes it too cannot take a PID between this one's
	 * check and its creation. */
	r = restorer_lock(rt);
	if (r == 0)
		r = pt_tree_plan(tree, &rt->opts, rt->diag, &rt->pl);
	if (r < 0)
		return r;
	if (!(pt_features_cached() & PIDTUPLE_FEATURE_SET_TID))
		return pt_diag(rt->diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, 0, 0,
			       "a tree needs clone3() with set_tid: %s",
			       pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID));
	r = fd_budget(rt);
	if (r == 0)
		r = restorer_alloc(rt);
	if (r == 0)
		r = open_channels(rt);
	if (r < 0)
		return r;
	/* The caller's children see it at their own level only from its own namespace. */
	for (pt_proc_idx p = 0; p < rt->pl->nprocs; p++)
		if (rt->pl->procs[p].parent < 0 && rt->pl->top == rt->pl->cpos &&
		    !(rt->pl->procs[p].clone_flags & PT_CLONE_NEWPID))
			rt->pl->procs[p].ppid = rt->self;
	return 0;
}

static void restorer_free(struct restorer *rt)
{
	struct rs_run *run = &rt->run;

	pt_join_leave(&rt->join);
	restorer_unlock(rt);
	pt_close(rt->caller_fd);
	pt_close(run->bar_r);
	pt_close(run->bar_w);
	pt_close(run->st_r);
	pt_close(run->st_w);
	pt_close(run->null_fd);
	pt_close(run->hs);
	pt_close(run->hs_r);
	/* Handed to the handle, the memory holds no pidfd any more (nodes' are the handle's,
	 * helpers' closed). */
	if (run->shm)
		for (pt_proc_idx p = 0; p < rt->pl->nprocs; p++)
			pt_close(rt->pidfd[p]);
	if (rt->ops_shared)
		rt->pl->ops = NULL; /* in the shared memory */
	pt_munmap(run->shm, run->shm_len);
	pt_plan_free(rt->pl);
}

/* ---- the restore ------------------------------------------------------------------------ */

/* Whether a held process forks: only its forks leave the caller's heap out. */
static bool held_creator(const struct restorer *rt)
{
	for (pt_proc_idx p = 0; p < rt->pl->nprocs; p++)
		if ((rt->run.pflags[p] & (RS_PF_HELD | RS_PF_CREATES)) ==
		    (RS_PF_HELD | RS_PF_CREATES))
			return true;
	return false;
}

/* From how many processes on the restorer trims its heap, and has held processes leave it out
 * of their forks, before the first fork; from one on where faults are injected, so that the
 * calls doing it are among those failed. */
#ifdef PIDTUPLE_FAULT_INJECTION
#define RESTORE_TRIM_MIN 1
#else
#define RESTORE_TRIM_MIN 64
#endif

static pid_t fork_first(struct restorer *rt, int *ret_pidfd)
{
	const struct pt_fork_opts *o = &rt->opts;
	struct pt_plan *pl = rt->pl;
	const struct pt_proc *first = &pl->procs[pl->first];
	uint64_t features = pt_features_cached();
	size_t size = PT_CLONE_ARGS_SIZE_VER1;
	struct pt_clone_args a = {
		.flags = (first->clone_flags & PT_CLONE_NEWPID) | PT_CLONE_PIDFD |
			 PT_CLONE_CLEAR_SIGHAND,
		.pidfd = (uintptr_t)ret_pidfd,
		.exit_signal = (uint64_t)o->exit_signal,
		.set_tid = (uintptr_t)first->set_tid,
		.set_tid_size = first->n,
	};
	sigset_t all;
	pid_t pid;

	if ((o->flags & PIDTUPLE_FORK_INTO_CGROUP) && (features & PIDTUPLE_FEATURE_INTO_CGROUP)) {
		a.flags |= PT_CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)o->cgroup_fd;
		size = PT_CLONE_ARGS_SIZE_VER2;
	}
	pt_child_prebind();
#ifdef __GLIBC__
	/* Every fork of the tree copies the page table entries of the restorer's private memory
	 * that is present; the free parts of its heap (the planner's arrays) need not be. Worth
	 * a walk of the caller's heap only for a tree of many processes. */
	if (pl->nprocs >= RESTORE_TRIM_MIN)
		(void)malloc_trim(0);
#endif
	/* Last, so that the heap it finds is the one the first fork copies. Only where the tree's
	 * libc calls are bound already: a lazy binding reads the dynamic linker's search list
	 * (on the heap after a dlopen()) and every object's symbols. */
	if (pl->nprocs >= RESTORE_TRIM_MIN && held_creator(rt) &&
	    pt_restore_bound_at_load((const void *)pt_child_main)) {
		pt_restore_heap(&rt->run);
		pt_restore_objects(&rt->run, (const void *)pt_child_main);
	}
	/* No handler of the caller may run in the tree; the mask comes back at the release. */
	sigfillset(&all);
	pt_sigmask(SIG_SETMASK, &all, &rt->run.oldmask);
	pid = (pid_t)pt_sys_clone3(&a, size);
	for (int ms = 1, waited = 0; pid == -EEXIST && waited < PT_EEXIST_RETRY_MS; ms *= 2) {
		pt_poll(NULL, 0, ms); /* a number on its way out, as in child_create() */
		waited += ms;
		pid = (pid_t)pt_sys_clone3(&a, size);
	}
	if (pid == 0)
		pt_child_main(&rt->run, pl->first, rt->caller_fd, -1);
	pt_sigmask(SIG_SETMASK, &rt->run.oldmask, NULL);
	if (pid > 0 && (o->flags & PIDTUPLE_FORK_INTO_CGROUP) &&
	    !(features & PIDTUPLE_FEATURE_INTO_CGROUP)) {
		pt_diag_add_notice(rt->diag, PIDTUPLE_NOTICE_CGROUP_AFTER);
		(void)pt_move_to_cgroup(o->cgroup_fd, pid);
	}
	return pid;
}

/* After the first fork: closes what only the tree's processes use. */
static void close_tree_ends(struct restorer *rt)
{
	struct rs_run *run = &rt->run;

	pt_close(rt->caller_fd);
	rt->caller_fd = -1;
	pt_close(run->st_w);
	run->st_w = -1;
	pt_close(run->bar_r);
	run->bar_r = -1;
	pt_close(run->null_fd);
	run->null_fd = -1;
	pt_close(run->hs);
	run->hs = -1;
}

static int first_failed(struct restorer *rt, int err)
{
	const struct pt_plan *pl = rt->pl;

	if (pl->first == 0) {
		struct pt_fork_opts ro = rt->opts;

		ro.clone_flags = pl->procs[0].clone_flags & PT_CLONE_NEWPID;
		ro.diag = rt->diag;
		err = pt_explain_failure(rt->tree->nodes[0]->tuple, &ro, err);
		pt_diag_set_node(rt->diag, 0);
		return err;
	}
	return explain(rt, pl->first, err, -1);
}

/* Forks the first process, collects the tree and hands it to a handle. */
static int restorer_run(struct restorer *rt, struct pidtuple_restore **ret)
{
	int first_fd = -1, r;
	pid_t pid = fork_first(rt, &first_fd);

	close_tree_ends(rt);
	if (pid < 0)
		return first_failed(rt, pid);
	rt->pidfd[rt->pl->first] = first_fd;
	rt->got = 1;
	/* A lone root without a name or threads has no step to end. */
	rt->done = rt->pl->nops + rt->pl->nprepared == 0;
	r = collect(rt);
	restorer_unlock(rt);
	if (r == 0) {
		reap_helpers(rt);
		r = pt_restore_handle_new(&rt->run, rt->pidfd, ret);
		if (r < 0)
			restorer_diag(rt, r, PIDTUPLE_RULE_KERNEL, -1, -1,
				      "cannot allocate the restore handle (malloc()): %s; the tree "
				      "was removed",
				      pt_errno_str(r));
	}
	if (r < 0)
		abort_tree(rt);
	return r;
}

PT_PUBLIC int pidtuple_tree_restore(const struct pidtuple_tree *tree,
				    const struct pidtuple_fork_opts *opts,
				    struct pidtuple_restore **ret_restore)
{
	struct restorer rt;
	int r;

	r = restorer_init(&rt, tree, opts, ret_restore);
	if (r == 0)
		r = restorer_run(&rt, ret_restore);
	restorer_free(&rt);
	return r;
}
