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
 * The processes of the tree run restore_child.c (async-signal-safe); this file is the
 * restorer, which sets up, forks the first process and collects the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "restore_int.h"

/* ---- restorer side -------------------------------------------------------------------- */

struct rs_ctx {
	struct pt_plan *pl;
	const struct pidtuple_tree *tree;
	struct pidtuple_diag *diag;
	struct rs_shm *shm;
	_Atomic uint8_t *opdone;
	size_t shm_len;
	int st_r;
	int *pidfd;
	pt_proc_idx got;
	bool done;
};

static int node_of(const struct pt_plan *pl, int p)
{
	return pl->procs[p].node >= 0 ? pl->procs[p].node : pl->procs[p].for_node;
}

static int rdiag(struct rs_ctx *c, int err, uint32_t rule, int p, int pos, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int rdiag(struct rs_ctx *c, int err, uint32_t rule, int p, int pos, const char *fmt, ...)
{
	char msg[PIDTUPLE_DIAG_MESSAGE_SIZE];
	const struct pt_proc *P = p >= 0 ? &c->pl->procs[p] : NULL;
	unsigned int n = P ? P->n : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pt_diag(c->diag, err, rule, pos >= 0 ? (int)n - 1 - pos : -1, n, pos >= 0 ? P->pid[pos] : 0,
		"%s", msg);
	pt_diag_set_node(c->diag, p >= 0 ? node_of(c->pl, p) : -1);
	if (rule == PIDTUPLE_RULE_TREE_NODE)
		pt_diag_set_kernel_err(c->diag, err);
	return err;
}

static const char *who(const struct pt_plan *pl, int p, char *buf, size_t size)
{
	const struct pt_proc *P = &pl->procs[p];
	char t[160];

	pt_format_pos(P->pid, P->n, t, sizeof(t));
	if (P->node >= 0)
		snprintf(buf, size, "node %d (%s)", P->node, t);
	else
		snprintf(buf, size, "the temporary leader %s for node %d", t, P->for_node);
	return buf;
}

/* Which level of @p's tuple is taken: the innermost one found, or -1. */
static int find_taken(struct rs_ctx *c, int p)
{
	const struct pt_plan *pl = c->pl;
	const struct pt_proc *P = &pl->procs[p];
	bool ioctls = pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS;

	for (int pos = (int)P->n - 1; pos >= 0; pos--) {
		int own = P->ns_init[pos], r = 0;

		if (own < 0) {
			int i = pl->top - pos;

			if (i >= 0 && i < (int)pl->ctx.n)
				r = pt_level_pid_taken(&pl->ctx.levels[i], P->pid[pos]);
		} else if (ioctls && c->pidfd[own] >= 0) {
			int nsfd = pt_pidfd_get_pidns(c->pidfd[own]);

			if (nsfd >= 0) {
				r = pt_ns_pid_from_pidns(nsfd, P->pid[pos]) > 0;
				pt_close(nsfd);
			}
		}
		if (r > 0)
			return pos;
	}
	return -1;
}

static int explain(struct rs_ctx *c, int p, int err, int o)
{
	const struct pt_plan *pl = c->pl;
	static const char *const what[] = { [PT_OP_SETSID] = "setsid()",
					    [PT_OP_SETPGID] = "setpgid()",
					    [PT_OP_REAP] = "reaping a temporary leader" };
	char b[200];
	int pos;

	if (p < 0 || p >= (int)pl->nprocs)
		return rdiag(c, err, PIDTUPLE_RULE_TREE_NODE, -1, -1,
			     "a process of the tree failed: %s; the partial tree was removed",
			     pidtuple_strerror(err));
	who(pl, p, b, sizeof(b));
	if (o < 0)
		return rdiag(c, err, PIDTUPLE_RULE_TREE_NODE, p, -1,
			     "%s could not start: %s; the partial tree was removed", b,
			     pidtuple_strerror(err));
	if (pl->ops[o].op != PT_OP_CREATE) {
		uint8_t k = pl->ops[o].op;

		return rdiag(c, err, PIDTUPLE_RULE_TREE_NODE, p, -1,
			     "%s: %s failed: %s; the partial tree was removed", b,
			     k < sizeof(what) / sizeof(what[0]) && what[k] ? what[k] : "a step",
			     pidtuple_strerror(err));
	}
	pos = err == -EEXIST ? find_taken(c, p) : -1;
	if (pos >= 0)
		return rdiag(c, err, PIDTUPLE_RULE_TREE_NODE, p, pos,
			     "%s could not be created: PID %d at NSpid field %d is in use; the "
			     "partial tree was removed",
			     b, (int)pl->procs[p].pid[pos], pos);
	return rdiag(c, err, PIDTUPLE_RULE_TREE_NODE, p, -1,
		     "%s could not be created: %s; the partial tree was removed", b,
		     pidtuple_strerror(err));
}

/* A process that is gone although the plan still needs it: the first one found. */
static int dead_one(struct rs_ctx *c)
{
	const struct pt_plan *pl = c->pl;

	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		const struct pt_proc *P = &pl->procs[p];

		if (c->pidfd[p] < 0 ||
		    (P->exit_op >= 0 && atomic_load(&c->opdone[P->exit_op]) == RS_STEP_DONE))
			continue;
		if (pt_poll_in(c->pidfd[p]) == 1)
			return (int)p;
	}
	return -1;
}

static int report_dead(struct rs_ctx *c, int p)
{
	char b[200];

	return rdiag(c, -ESRCH, PIDTUPLE_RULE_TREE_NODE, p, -1,
		     "%s died while the tree was being created; the partial tree was removed",
		     who(c->pl, p, b, sizeof(b)));
}

/* Takes one record; 1 when there was one, 0 when none is waiting, or the failure. */
static int take_record(struct rs_ctx *c)
{
	const struct pt_plan *pl = c->pl;
	struct rs_msg m;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr h = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n = pt_recvmsg(c->st_r, &h, MSG_DONTWAIT);
	int fd = -1, p;

	if (n == -EAGAIN)
		return 0;
	if (n < 0)
		return rdiag(c, (int)n, PIDTUPLE_RULE_KERNEL, -1, -1,
			     "cannot read from the tree: %s", pidtuple_strerror((int)n));
	for (cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(&h, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (n == 0) {
		p = dead_one(c);
		return p >= 0 ? report_dead(c, p)
			      : rdiag(c, -ESRCH, PIDTUPLE_RULE_TREE_NODE, -1, -1,
				      "every process of the tree is gone");
	}
	if (h.msg_flags & MSG_CTRUNC) {
		pt_close(fd);
		return rdiag(c, -EMFILE, PIDTUPLE_RULE_TREE_NODE, -1, -1,
			     "the caller ran out of file descriptors (a tree of %d processes "
			     "needs about %d): raise RLIMIT_NOFILE",
			     pl->nprocs, pl->nprocs + pl->nhold);
	}
	p = m.proc;
	if (n != sizeof(m) || p < 0 || p >= (int)pl->nprocs) {
		pt_close(fd);
		return rdiag(c, -EIO, PIDTUPLE_RULE_KERNEL, -1, -1, "a malformed record");
	}
	switch (m.kind) {
	case RS_MSG_PIDFD:
		if (c->pidfd[p] < 0 && fd >= 0) {
			c->pidfd[p] = fd;
			c->got++;
			fd = -1;
		}
		break;
	case RS_MSG_FAIL:
		pt_close(fd);
		return explain(c, p, m.err < 0 ? m.err : -EIO, m.op);
	case RS_MSG_DONE:
		c->done = true;
		break;
	default:
		break;
	}
	pt_close(fd);
	return 1;
}

static int collect(struct rs_ctx *c)
{
	const struct pt_plan *pl = c->pl;

	for (;;) {
		struct pollfd pf = { c->st_r, POLLIN, 0 };
		int r, p;

		if (c->done && c->got == pl->nprocs) {
			p = dead_one(c);
			return p >= 0 ? report_dead(c, p) : 0;
		}
		r = pt_poll(&pf, 1, 100);
		if (r < 0)
			return rdiag(c, r, PIDTUPLE_RULE_KERNEL, -1, -1,
				     "cannot wait for the tree: %s", pidtuple_strerror(r));
		if (r == 0) {
			/* Quiet for a while: is a process that should act gone? */
			p = dead_one(c);
			if (p >= 0)
				return report_dead(c, p);
			continue;
		}
		do
			r = take_record(c);
		while (r == 1);
		if (r < 0)
			return r;
	}
}

/* Kills and reaps every process of a failed restore: nothing may be left behind. */
static void abort_tree(struct rs_ctx *c, int *bar_w)
{
	const struct pt_plan *pl = c->pl;
	int64_t deadline = pt_now_ns() + 5 * 1000000000ll;

	atomic_store(&c->shm->abort, 1);
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		pt_pidfd_kill(c->pidfd[p]);
	/* Those not reported yet sleep without a timer: they see the abort and exit. */
	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		atomic_fetch_add(&c->shm->wake[p], 1);
		pt_raw_futex_wake((uint32_t *)&c->shm->wake[p], INT_MAX);
	}
	pt_close(*bar_w);
	*bar_w = -1;
	/* Once a pidfd reports the exit, the kernel has handed that process's children on. */
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		if (c->pidfd[p] >= 0)
			pt_pidfd_wait_exit(c->pidfd[p], deadline);
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		if (c->pidfd[p] >= 0)
			(void)pt_waitid_pidfd(c->pidfd[p], WEXITED | WNOHANG | __WALL);
	/* A process whose creator died before sending its pidfd: reparented to us if we are
	 * its namespace's reaper; it dies of its parent's death. */
	if (pl->cpos >= 0)
		for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
			const struct pt_proc *P = &pl->procs[p];
			uint8_t state = P->create_op >= 0 ? atomic_load(&c->opdone[P->create_op])
							  : RS_STEP_NEW;

			if (c->pidfd[p] >= 0 || (state != RS_STEP_STARTED && state != RS_STEP_DONE))
				continue;
			while (pt_waitpid(P->pid[pl->cpos], NULL, WNOHANG | __WALL) == 0 &&
			       pt_now_ns() < deadline)
				pt_poll(NULL, 0, 1);
		}
	for (pt_proc_idx p = 0; p < pl->nprocs; p++) {
		pt_close(c->pidfd[p]);
		c->pidfd[p] = -1;
	}
}

static int fd_budget(struct rs_ctx *c)
{
	unsigned long lim = 0;
	unsigned long need = (unsigned long)c->pl->nprocs + 64;

	if (pt_nofile_limit(&lim) < 0 || lim >= need)
		return 0;
	return rdiag(c, -EMFILE, PIDTUPLE_RULE_TREE_NODE, -1, -1,
		     "a tree of %d processes needs about %lu file descriptors in the caller "
		     "(a pidfd per node), but RLIMIT_NOFILE is %lu",
		     c->pl->nprocs, need, lim);
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

static pid_t fork_first(struct rs_ctx *c, struct rs_run *run, const struct pt_fork_opts *o,
			int caller_fd, int *ret_pidfd)
{
	struct pt_plan *pl = c->pl;
	const struct pt_proc *F = &pl->procs[pl->first];
	uint64_t features = pt_features_cached();
	size_t size = PT_CLONE_ARGS_SIZE_VER1;
	struct pt_clone_args a = {
		.flags = (F->clone_flags & PT_CLONE_NEWPID) | PT_CLONE_PIDFD |
			 PT_CLONE_CLEAR_SIGHAND,
		.pidfd = (uintptr_t)ret_pidfd,
		.exit_signal = (uint64_t)o->exit_signal,
		.set_tid = (uintptr_t)F->set_tid,
		.set_tid_size = F->n,
	};
	sigset_t all;
	pid_t pid;

	if ((o->flags & PIDTUPLE_FORK_INTO_CGROUP) && (features & PIDTUPLE_FEATURE_INTO_CGROUP)) {
		a.flags |= PT_CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)o->cgroup_fd;
		size = PT_CLONE_ARGS_SIZE_VER2;
	}
	pt_child_prebind();
	/* No handler of the caller may run in the tree; the mask comes back at the release. */
	sigfillset(&all);
	pt_sigmask(SIG_SETMASK, &all, &run->oldmask);
	pid = (pid_t)pt_sys_clone3(&a, size);
	if (pid == 0)
		pt_child_main(run, pl->first, caller_fd, -1);
	pt_sigmask(SIG_SETMASK, &run->oldmask, NULL);
	if (pid > 0 && (o->flags & PIDTUPLE_FORK_INTO_CGROUP) &&
	    !(features & PIDTUPLE_FEATURE_INTO_CGROUP)) {
		pt_diag_add_notice(c->diag, PIDTUPLE_NOTICE_CGROUP_AFTER);
		(void)pt_move_to_cgroup(o->cgroup_fd, pid);
	}
	return pid;
}

static int first_failed(struct rs_ctx *c, const struct pt_fork_opts *o, int err)
{
	const struct pt_plan *pl = c->pl;

	if (pl->first == 0) {
		struct pt_fork_opts ro = *o;

		ro.clone_flags = pl->procs[0].clone_flags & PT_CLONE_NEWPID;
		ro.diag = c->diag;
		err = pt_explain_failure(c->tree->nodes[0]->tuple, &ro, err);
		pt_diag_set_node(c->diag, 0);
		return err;
	}
	return explain(c, pl->first, err, -1);
}

PT_PUBLIC int pidtuple_tree_restore(const struct pidtuple_tree *tree,
				    const struct pidtuple_fork_opts *opts,
				    struct pidtuple_restore **ret_restore)
{
	struct rs_ctx c = { .st_r = -1 };
	struct rs_run run = { .lock_fd = -1, .null_fd = -1, .hs_r = -1, .hs = -1 };
	struct pt_fork_opts o;
	struct pt_plan *pl = NULL;
	int bar[2] = { -1, -1 }, st[2] = { -1, -1 }, hs[2] = { -1, -1 };
	int caller_fd = -1, lock_fd = -1, first_fd = -1, r;
	int32_t *serial = NULL, *serial_op = NULL;
	bool locked = false;
	pid_t pid, self;

	r = pt_fork_opts_get(opts, &o);
	if (r < 0)
		return r;
	c.diag = o.diag;
	if (!tree || !ret_restore)
		return pt_diag(o.diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, 0, 0,
			       "no tree or no place for the handle given");
	r = pt_tree_plan(tree, &o, o.diag, &pl);
	if (r < 0)
		return r;
	c.pl = pl;
	c.tree = tree;
	if (!(pt_features_cached() & PIDTUPLE_FEATURE_SET_TID)) {
		r = pt_diag(o.diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, 0, 0,
			    "a tree needs clone3() with set_tid: %s",
			    pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID));
		goto out;
	}
	r = fd_budget(&c);
	if (r < 0)
		goto out;
	c.pidfd = pt_malloc(pl->nprocs * sizeof(int));
	serial = pt_malloc((pl->nops + 1) * sizeof(int32_t));
	serial_op = pt_malloc((pl->nops + 1) * sizeof(int32_t));
	run = (struct rs_run){
		.pl = pl, .tree = tree, .lock_fd = -1, .null_fd = -1, .hs_r = -1, .hs = -1
	};
	run.shm_len = sizeof(struct rs_shm) + pl->nprocs * sizeof(uint32_t) + pl->nops;
	run.shm = pt_mmap_shared(run.shm_len);
	c.shm = run.shm;
	c.shm_len = run.shm_len;
	if (!c.pidfd || !run.shm || !serial || !serial_op) {
		r = -ENOMEM;
		goto out;
	}
	run.opdone = c.opdone = (_Atomic uint8_t *)(void *)&run.shm->wake[pl->nprocs];
	run.serial = serial;
	run.serial_op = serial_op;
	{
		int32_t k = 0;

		for (int32_t i = 0; i < pl->nops; i++) {
			serial[i] = pl->ops[i].op == PT_OP_CREATE ? -1 : k;
			if (serial[i] >= 0)
				serial_op[k++] = (int32_t)i;
		}
		serial_op[k] = -1;
	}
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		c.pidfd[p] = -1;
	r = pt_pipe2(bar, 0);
	if (r == 0)
		r = pt_socketpair_seqpacket(st);
	self = pt_sys_getpid();
	if (r == 0)
		r = caller_fd = pt_sys_pidfd_open(self, 0);
	if (r >= 0 && pl->nhold) {
		/* Opened now, so that a released HOLD node has nothing left that can fail. */
		r = run.null_fd = above_stdio(pt_open("/dev/null", O_RDWR));
		if (r >= 0)
			r = pt_socketpair_seqpacket(hs);
		run.hs_r = hs[0];
		run.hs = hs[1];
	}
	if (r < 0) {
		r = pt_diag(o.diag, r, PIDTUPLE_RULE_KERNEL, -1, 0, 0,
			    "cannot set up the restore: %s", pidtuple_strerror(r));
		goto out;
	}
	if (o.flags & PIDTUPLE_FORK_LOCK) {
		r = pt_lock_take(&o, O_RDONLY, &lock_fd);
		if (r < 0) {
			r = pt_diag(o.diag, r, PIDTUPLE_RULE_FALLBACK, -1, 0, 0,
				    "cannot take the ns_last_pid lock: %s", pidtuple_strerror(r));
			goto out;
		}
		locked = true;
	}
	/* The caller's children see it at their own level only from its own namespace. */
	for (pt_proc_idx p = 0; p < pl->nprocs; p++)
		if (pl->procs[p].parent < 0 && pl->top == pl->cpos &&
		    !(pl->procs[p].clone_flags & PT_CLONE_NEWPID))
			pl->procs[p].ppid = self;
	run.st_w = st[1];
	run.st_r = st[0];
	run.bar_r = bar[0];
	run.bar_w = bar[1];
	run.lock_fd = lock_fd;
	c.st_r = st[0];

	pid = fork_first(&c, &run, &o, caller_fd, &first_fd);
	pt_close(caller_fd);
	caller_fd = -1;
	pt_close(st[1]);
	st[1] = -1;
	pt_close(bar[0]);
	bar[0] = -1;
	pt_close(run.null_fd);
	run.null_fd = -1;
	pt_close(run.hs);
	run.hs = -1;
	if (pid < 0) {
		r = first_failed(&c, &o, pid);
		goto out;
	}
	c.pidfd[pl->first] = first_fd;
	c.got = 1;
	c.done = pl->nops == 0; /* a lone root has no step to end */
	r = collect(&c);
	if (locked) {
		pt_lock_release(&o, lock_fd);
		locked = false;
	}
	if (r < 0) {
		abort_tree(&c, &bar[1]);
		goto out;
	}
	/* Temporary leaders are gone; the caller's own children among them are reaped here. */
	for (pt_proc_idx p = pl->nnodes; p < pl->nprocs; p++) {
		if (pl->procs[p].parent < 0)
			(void)pt_waitid_pidfd(c.pidfd[p], WEXITED | __WALL);
		pt_close(c.pidfd[p]);
		c.pidfd[p] = -1;
	}
	run.bar_w = bar[1];
	r = pt_restore_handle_new(&run, c.pidfd, ret_restore);
	if (r < 0) {
		abort_tree(&c, &bar[1]);
		goto out;
	}
	bar[1] = -1;
	pt_plan_free(pl);
	pl = NULL;
	free(c.pidfd);
	free(serial);
	free(serial_op);
	pt_close(st[0]);
	return 0;
out:
	if (locked)
		pt_lock_release(&o, lock_fd);
	pt_close(caller_fd);
	pt_close(bar[0]);
	pt_close(bar[1]);
	pt_close(st[0]);
	pt_close(st[1]);
	pt_close(run.null_fd);
	pt_close(run.hs);
	pt_close(run.hs_r);
	pt_munmap(c.shm, c.shm_len);
	free(c.pidfd);
	free(serial);
	free(serial_op);
	pt_plan_free(pl);
	return r;
}
