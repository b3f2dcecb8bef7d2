/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restoring a tree: the code that runs in every process of the tree, a raw clone3() child.
 *
 * Each process performs its own steps of the plan in order: fork a child with its exact PIDs,
 * setsid(), setpgid(), exit, reap. Forks run in parallel; the other steps run one at a time in
 * the plan's order, the process whose turn it is handing the turn on through a futex in
 * shared memory. A creator sends the new process's pidfd to the restorer; failures and the
 * end of the plan travel the same way. Then every process waits at the barrier until
 * released, and starts its work.
 *
 * Everything here is async-signal-safe: async-signal-safe libc and the shim's pt_raw_
 * wrappers only, no allocation, nothing that can be injected into. The async-signal-safe
 * test (scripts/check-async-safe.sh) holds this file's object to that.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "restore_int.h"
#include "thread_arch.h"

extern char **environ;

/* The hand-over socket's number in a released HOLD node. */
#define HOLD_HS_FD 3

/* A process whose descriptors are a HOLD node's keeps this many of its children's pidfds open
 * (reported, they are only closed), then closes them in one call. */
#define HELD_KIDS_MAX 8

/*
 * A process that shares its creator's address space (RS_PF_SHARE_VM) runs on a stack of this
 * size, carved from one mapping per creator that holds SHARED_STACKS of them above a guard
 * page (one per stack would split the mapping, and every later fork of the creator would copy
 * the pieces). Its life (the barrier, the hold, a hand-over) needs a few KiB of it, with every
 * libc call it makes bound before the first fork (pt_child_prebind(): a lazy binding would run
 * the dynamic linker on this stack); pages it never touches cost nothing (MAP_NORESERVE).
 */
#define SHARED_STACK (32 * 1024)
#define SHARED_STACKS 64
#define SHARED_GUARD 4096

/* What a process of the tree knows of itself. */
struct rs_self {
	pt_proc_idx me;
	int self_fd;   /* pidfd of this process: its children watch it */
	int parent_fd; /* pidfd of its parent */
	int st, bar;   /* the report socket and the barrier: run's, or moved (held) */
	int hs;	       /* the hand-over socket: run's, or HOLD_HS_FD (held) */
	int kids_lo;   /* held: its children's pidfds still open, kids_lo to kids_lo + kids - 1 */
	int kids;
	bool reported; /* its creator has reported it to the restorer */
	bool armed;    /* PR_SET_PDEATHSIG(SIGKILL) is set */
	bool held;     /* its descriptors are a HOLD node's already (child_hold_fds()) */
	char *stacks;  /* held: stacks left for the processes sharing its address space */
	int nstacks;
};

/* What a process sharing its creator's address space starts with, at the top of its stack. */
struct rs_shared {
	const struct rs_run *run;
	struct rs_self s;
};

static void child_send_buf(int sock, void *buf, size_t len, int fd)
{
	struct iovec iov = { buf, len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		h.msg_control = u.buf;
		h.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&h);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while (sendmsg(sock, &h, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static void child_send(int sock, int kind, pt_proc_idx proc, int err, int32_t op, int fd)
{
	struct rs_msg m = { kind, proc, err, op };

	child_send_buf(sock, &m, sizeof(m), fd);
}

static bool child_parent_gone(const struct rs_self *s)
{
	struct pollfd pf = { s->parent_fd, POLLIN, 0 };

	return s->parent_fd >= 0 && poll(&pf, 1, 0) > 0;
}

/* Reports a failure, then waits to be killed with the rest of the tree. */
static void __attribute__((noreturn))
child_fail(const struct rs_run *run, const struct rs_self *s, pt_proc_idx proc, int err, int32_t op)
{
	child_send(s->st, RS_MSG_FAIL, proc, err, op, -1);
	for (;;) {
		struct pollfd pf[2] = { { s->bar, POLLIN, 0 }, { s->parent_fd, POLLIN, 0 } };

		if (poll(pf, 2, 1000) > 0 || atomic_load(&run->shm->abort))
			_exit(1);
	}
}

static void child_wait_turn(const struct rs_run *run, const struct rs_self *s, int32_t o)
{
	struct rs_shm *shm = run->shm;
	int32_t k = run->serial[o];

	if (k < 0)
		return; /* a creation: only its creator's own order matters */
	for (;;) {
		uint32_t v = atomic_load(&shm->wake[s->me]);

		if (atomic_load(&shm->turn) == (uint32_t)k)
			return;
		if (atomic_load(&shm->abort))
			_exit(1);
		/* No timer: a dead parent kills us (PR_SET_PDEATHSIG), an abort wakes us. */
		pt_raw_futex_wait((uint32_t *)&shm->wake[s->me], v, -1);
	}
}

/* One more step done (a node's name and threads count as one): the last one tells the
 * restorer. */
static void child_count_done(const struct rs_run *run, const struct rs_self *s, int32_t o)
{
	const struct pt_plan *pl = run->pl;

	if (atomic_fetch_add(&run->shm->ndone, 1) + 1 == (uint32_t)(pl->nops + pl->nprepared))
		child_send(s->st, RS_MSG_DONE, s->me, 0, o, -1);
}

static void child_pass_turn(const struct rs_run *run, const struct rs_self *s, int32_t o)
{
	const struct pt_plan *pl = run->pl;
	struct rs_shm *shm = run->shm;
	int32_t k = run->serial[o];

	atomic_store(&run->opdone[o], RS_STEP_DONE);
	if (k >= 0) {
		int32_t next = run->serial_op[k + 1];

		atomic_store(&shm->turn, (uint32_t)k + 1);
		if (next >= 0) {
			pt_proc_idx b = pl->ops[next].actor;

			atomic_fetch_add(&shm->wake[b], 1);
			pt_raw_futex_wake((uint32_t *)&shm->wake[b], INT_MAX);
		}
	}
	child_count_done(run, s, o);
}

/* A new process forks only once its creator has reported it: the restorer then knows every
 * process that can have children of its own. Leaves never wait. */
static void child_wait_reported(const struct rs_run *run, const struct rs_self *s, int32_t o)
{
	struct rs_shm *shm = run->shm;

	for (;;) {
		uint32_t v = atomic_load(&shm->wake[s->me]);

		if (atomic_load(&run->opdone[o]) == RS_STEP_DONE)
			return;
		if (atomic_load(&shm->abort))
			_exit(1);
		pt_raw_futex_wait((uint32_t *)&shm->wake[s->me], v, -1);
	}
}

static void child_finish(const struct rs_run *run, struct rs_self *s) __attribute__((noreturn));

static int child_shared_main(void *arg)
{
	struct rs_shared *sh = arg;

	child_finish(sh->run, &sh->s);
}

/*
 * Sets @a up to create @target sharing this process's address space (RS_PF_SHARE_VM): a stack
 * of its own, with what it knows of itself at the top. Returns the argument of
 * child_shared_main(), or NULL with errno set.
 *
 * It also shares this process's thread pointer, so its errno. The worst that can come of it is
 * a failed restore reporting another process's errno: before the release the only call of a
 * leaf that can fail is the mapping of its threads' stacks (then the restore fails, and the
 * leaf's report or the creator's next one may read the other's errno); after it, all of them
 * sleep on their futex (whose EAGAIN nobody reads) but the one handed a program, and the
 * restorer hands over one node at a time.
 */
static struct rs_shared *child_shared_setup(const struct rs_run *run, struct rs_self *s,
					    pt_proc_idx target, struct pt_clone_args *a)
{
	const struct pt_proc *x = &run->pl->procs[target];
	struct rs_shared *sh;
	char *top;

	if (!s->nstacks) {
		size_t len = SHARED_GUARD + (size_t)SHARED_STACKS * SHARED_STACK;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		if (mprotect(m, SHARED_GUARD, PROT_NONE) < 0) {
			int err = errno;

			munmap(m, len);
			errno = err;
			return NULL;
		}
		s->stacks = m + SHARED_GUARD;
		s->nstacks = SHARED_STACKS;
	}
	top = s->stacks + (size_t)(--s->nstacks) * SHARED_STACK + SHARED_STACK;
	sh = (struct rs_shared *)(void *)(top - ((sizeof(*sh) + PT_THREAD_STACK_ALIGN - 1) &
						 ~(size_t)(PT_THREAD_STACK_ALIGN - 1)));
	sh->run = run;
	sh->s = *s;
	sh->s.me = target;
	sh->s.parent_fd = x->clone_flags & PT_CLONE_PARENT ? s->parent_fd : s->self_fd;
	sh->s.self_fd = -1;
	sh->s.kids = 0;
	sh->s.reported = true;
	sh->s.armed = false;
	sh->s.stacks = NULL;
	sh->s.nstacks = 0;
	a->flags |= PT_CLONE_VM;
	a->stack = (uintptr_t)(top - SHARED_STACK);
	a->stack_size = (uintptr_t)sh - a->stack;
	return sh;
}

/* clone3() of process @target: 0 in a new process that does not share this one's address
 * space, its PID here, or -errno. */
static pid_t child_create(const struct rs_run *run, struct rs_self *s, pt_proc_idx target,
			  int *pidfd)
{
	const struct pt_proc *x = &run->pl->procs[target];
	struct pt_clone_args a = {
		.flags = x->clone_flags | PT_CLONE_PIDFD | PT_CLONE_CLEAR_SIGHAND,
		.pidfd = (uintptr_t)pidfd,
		/* With CLONE_PARENT clone3() wants 0: the child inherits the creator's. */
		.exit_signal = x->clone_flags & PT_CLONE_PARENT ? 0 : SIGCHLD,
		.set_tid = (uintptr_t)x->set_tid,
		.set_tid_size = x->n,
	};
	struct rs_shared *sh = NULL;
	pid_t pid;

	if (run->pflags[target] & RS_PF_SHARE_VM) {
		sh = child_shared_setup(run, s, target, &a);
		if (!sh)
			return -errno;
	}
	for (int ms = 1, waited = 0;; ms *= 2) {
		pid = sh ? (pid_t)pt_thread_arch_clone3(&a, PT_CLONE_ARGS_SIZE_VER1,
							child_shared_main, sh)
			 : (pid_t)pt_raw_clone3(&a, PT_CLONE_ARGS_SIZE_VER1);
		/* EEXIST may be a number on its way out: see PT_EEXIST_RETRY_MS. */
		if (pid != -EEXIST || waited >= PT_EEXIST_RETRY_MS)
			return pid;
		poll(NULL, 0, ms);
		waited += ms;
	}
}

static void child_reap_children(void)
{
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

static void child_sigchld(void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };

	sigaction(SIGCHLD, &sa, NULL);
}

static void child_reply(int ctl, const void *buf, size_t len)
{
	while (send(ctl, buf, len, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* Executes the program of a hand-over request; returns only when that failed. */
static void child_hand_over(const struct rs_run *run, int ctl, int mfd)
{
	struct stat st;
	struct rs_req *rq;
	uintptr_t *slot;
	char *base;
	sigset_t all;
	int err;

	if (fstat(mfd, &st) < 0 || (size_t)st.st_size < sizeof(*rq)) {
		err = EBADMSG;
		child_reply(ctl, &err, sizeof(err));
		return;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	if (base == MAP_FAILED) {
		err = errno;
		child_reply(ctl, &err, sizeof(err));
		return;
	}
	rq = (struct rs_req *)(void *)base;
	if (rq->size != (uint64_t)st.st_size || rq->path >= rq->size || rq->argv >= rq->size ||
	    rq->envp >= rq->size) {
		err = EBADMSG;
		goto out;
	}
	/* The slots hold offsets; the request was checked by the restorer that wrote it. */
	for (slot = (uintptr_t *)(void *)(base + rq->argv); *slot; slot++)
		*slot += (uintptr_t)base;
	if (rq->envp)
		for (slot = (uintptr_t *)(void *)(base + rq->envp); *slot; slot++)
			*slot += (uintptr_t)base;
	child_reply(ctl, "x", 1); /* about to execute: EOF after this means it did */
	child_sigchld(SIG_DFL);	  /* the program reaps its children itself */
	sigprocmask(SIG_SETMASK, &run->oldmask, NULL);
	execve(base + rq->path, (char **)(void *)(base + rq->argv),
	       rq->envp ? (char **)(void *)(base + rq->envp) : environ);
	err = errno;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	child_sigchld(SIG_IGN);
	child_reap_children();
out:
	munmap(base, (size_t)st.st_size);
	child_reply(ctl, &err, sizeof(err));
}

/* Answers hand-over request @seq: a socket of its own to the restorer, then the request. */
static void child_request(const struct rs_run *run, int hs, pt_proc_idx me, uint32_t seq)
{
	struct rs_hmsg m = { me, seq, 0 };
	int sp[2], mfd = -1;
	char c;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		m.err = errno;
		child_send_buf(hs, &m, sizeof(m), -1);
		return;
	}
	child_send_buf(hs, &m, sizeof(m), sp[0]);
	close(sp[0]);
	do
		n = recvmsg(sp[1], &h, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		cm = CMSG_FIRSTHDR(&h);
		if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&mfd, CMSG_DATA(cm), sizeof(int));
		if (mfd < 0) {
			int err = EBADMSG;

			child_reply(sp[1], &err, sizeof(err));
		} else {
			child_hand_over(run, sp[1], mfd);
			close(mfd);
		}
	}
	close(sp[1]); /* EOF: the restorer gave up, or the program could not run */
}

/* A HOLD node after the release: keeps its PIDs, lets the kernel reap its children (SIGCHLD
 * ignored since child_hold_fds()), sleeps until the restorer asks it to take a program. */
static void __attribute__((noreturn)) child_hold(const struct rs_run *run, pt_proc_idx me, int hs)
{
	struct rs_shm *shm = run->shm;
	uint32_t seen = 0;

	for (;;) {
		uint32_t v = atomic_load(&shm->wake[me]), seq = atomic_load(&shm->req_seq);

		if (seq != seen && atomic_load(&shm->req_node) == (uint32_t)me && hs >= 0) {
			seen = seq;
			child_request(run, hs, me, seq);
			continue;
		}
		pt_raw_futex_wait((uint32_t *)&shm->wake[me], v, -1);
	}
}

static void child_close_from(int lo)
{
	struct rlimit rl;

	if (close_range((unsigned int)lo, ~0u, 0) == 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	for (rlim_t fd = (rlim_t)lo; fd < rl.rlim_cur && fd < (1u << 20); fd++)
		close((int)fd);
}

/* Held: closes the children's pidfds still open. */
static void child_close_kids(struct rs_self *s)
{
	if (s->kids &&
	    close_range((unsigned int)s->kids_lo, (unsigned int)(s->kids_lo + s->kids - 1), 0) < 0)
		for (int i = 0; i < s->kids; i++)
			close(s->kids_lo + i);
	s->kids = 0;
}

/* What a HOLD node keeps, in this order from HOLD_HS_FD on, until the release. */
enum { KEEP_HS, KEEP_BAR, KEEP_ST, KEEP_PARENT, KEEP_NR };

/*
 * A HOLD node drops the caller's files: a pipe it held would never see EOF. /dev/null becomes
 * 0, 1 and 2; then come the hand-over socket, the barrier, the restorer's socket and the
 * parent's pidfd; nothing else. Only the first dups can fail, while a failure can still be
 * reported. A HOLD node does it before the barrier, once its children are forked (and it runs
 * now anyway), or at its start when it and all it forks are held (RS_PF_HELD): then its
 * children inherit the result; so does a helper that forks only such processes.
 */
static void child_hold_fds(const struct rs_run *run, struct rs_self *s)
{
	int from[KEEP_NR] = { s->hs, s->bar, s->st, s->parent_fd }, fd[KEEP_NR];

	for (int i = 0; i < KEEP_NR; i++) {
		fd[i] = from[i] < 0 ? -1 : fcntl(from[i], F_DUPFD_CLOEXEC, HOLD_HS_FD + KEEP_NR);
		if (from[i] >= 0 && fd[i] < 0)
			child_fail(run, s, s->me, -errno, -1);
	}
	for (int i = 0; i < 3; i++)
		dup2(run->null_fd, i);
	for (int i = 0; i < KEEP_NR; i++)
		if (fd[i] < 0)
			close(HOLD_HS_FD + i);
		else
			fd[i] = dup3(fd[i], HOLD_HS_FD + i, O_CLOEXEC);
	child_close_from(HOLD_HS_FD + KEEP_NR);
	s->hs = fd[KEEP_HS];
	s->bar = fd[KEEP_BAR];
	s->st = fd[KEEP_ST];
	s->parent_fd = fd[KEEP_PARENT];
	s->self_fd = -1;
	s->kids = 0;
	s->held = true;
}

/*
 * Waits at the barrier: returns once the restorer released the tree, exits when it gave up or
 * died first, or when a parent in the tree died first.
 *
 * From the barrier on, the restorer's death reaches the tree only through the barrier (EOF,
 * its write end closing with the restorer) and the released flag, so that a killed restorer
 * leaves all of the tree or none of it: before the release the flag is clear and every
 * process exits, once the release has begun it is set and every process goes on. A process
 * whose parent is the restorer therefore cleared PR_SET_PDEATHSIG when it got here, and does
 * not watch the restorer's pidfd: either would kill it, and with it the part of its subtree
 * still armed, when the restorer dies after setting the flag. An EOF on the barrier is looked
 * at first and decides by the flag alone; a parent's death counts only for a parent in the
 * tree (it dies only if the tree goes). For a process without steps, which never armed
 * PR_SET_PDEATHSIG, this is also where its parent's death before the release kills it.
 */
static void child_wait_release(const struct rs_run *run, const struct rs_self *s, bool tree_parent)
{
	for (;;) {
		struct pollfd pf[2] = { { s->bar, POLLIN, 0 },
					{ tree_parent ? s->parent_fd : -1, POLLIN, 0 } };

		if (poll(pf, 2, -1) < 0)
			continue;
		if (pf[0].revents)
			break;
		if (pf[1].revents)
			_exit(1); /* the parent died before the release */
	}
	if (!atomic_load(&run->shm->released))
		_exit(1); /* the restorer gave up, or died, before the release */
}

/* Released: the library's descriptors go (a HOLD node keeps its hand-over socket). */
static void child_close_released(const struct rs_run *run, const struct rs_self *s, bool hold)
{
	if (hold) {
		child_close_from(HOLD_HS_FD + 1);
		return;
	}
	close(s->bar);
	close(s->st);
	close(s->parent_fd);
	close(s->self_fd);
	if (run->null_fd >= 0)
		close(run->null_fd);
	if (s->hs >= 0)
		close(s->hs);
}

/*
 * A HOLD node's threads, made when its steps are done (no fork ever sees them): each parks on
 * a small stack of its own, holding its TIDs until hand-over (execve() ends them) or kill. A
 * failure is reported as step RS_OP_THREAD(k).
 */
static void child_threads(const struct rs_run *run, const struct rs_self *s)
{
	const struct rs_prep *pr = &run->prep[s->me];
	size_t len = (size_t)pr->nthreads * PT_THREAD_PARK_STACK;
	char *stacks;

	if (!pr->nthreads)
		return;
	stacks = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stacks == MAP_FAILED)
		child_fail(run, s, s->me, -errno, RS_OP_THREAD(0));
	for (uint32_t k = 0; k < pr->nthreads; k++) {
		const struct pidtuple *t = &run->threads[pr->first + k];
		struct pt_clone_args a = { .flags = PT_CLONE_THREAD_FLAGS,
					   .stack = (uintptr_t)(stacks + k * PT_THREAD_PARK_STACK),
					   .stack_size = PT_THREAD_PARK_STACK,
					   .set_tid = (uintptr_t)t->pid,
					   .set_tid_size = t->n };
		long r = pt_thread_arch_clone3(&a, PT_CLONE_ARGS_SIZE_VER1, pt_thread_arch_park,
					       NULL);

		/* EEXIST may be a number on its way out: see PT_EEXIST_RETRY_MS. */
		for (int ms = 1, waited = 0; r == -EEXIST && waited < PT_EEXIST_RETRY_MS; ms *= 2) {
			poll(NULL, 0, ms);
			waited += ms;
			r = pt_thread_arch_clone3(&a, PT_CLONE_ARGS_SIZE_VER1, pt_thread_arch_park,
						  NULL);
		}
		if (r < 0)
			child_fail(run, s, s->me, (int)r, RS_OP_THREAD((int32_t)k));
	}
}

/* A HOLD node takes its name, then makes its threads (they are born with the name); that
 * counts as one step, so the restore returns only once it is done. */
static void child_prepare(const struct rs_run *run, const struct rs_self *s)
{
	const struct rs_prep *pr = &run->prep[s->me];

	if (!pr->name[0] && !pr->nthreads)
		return;
	if (pr->name[0])
		prctl(PR_SET_NAME, pr->name);
	child_threads(run, s);
	child_count_done(run, s, -1);
}

static void child_disarm(struct rs_self *s)
{
	if (s->armed)
		prctl(PR_SET_PDEATHSIG, 0);
	s->armed = false;
}

/* After the last step: the barrier, then the node's work. */
static void child_finish(const struct rs_run *run, struct rs_self *s)
{
	const struct pt_plan *pl = run->pl;
	const struct pt_tnode *nd;
	struct rs_shm *shm = run->shm;
	bool hold = run->pflags[s->me] & RS_PF_HOLD, tree_parent = pl->procs[s->me].parent >= 0;

	if (hold) {
		child_prepare(run, s);
		if (!s->held)
			child_hold_fds(run, s);
		/* Its steps are done (no reap to come): from now on the kernel reaps its
		 * children, so that it has nothing to wake up for. None can have exited yet:
		 * all are held. A leaf that is no init never has any. */
		if (run->pflags[s->me] & RS_PF_PARENT)
			child_sigchld(SIG_IGN);
	}
	/* See child_wait_release(): the restorer's death must not kill a process at the barrier. */
	if (!tree_parent)
		child_disarm(s);
	child_wait_release(run, s, tree_parent);
	/* No node may start (and maybe exit) while a child of it still has the signal armed. */
	child_disarm(s);
	child_close_released(run, s, hold);
	/* The last one wakes the restorer: one wake-up, not one per node. */
	if (atomic_fetch_add(&shm->left, 1) + 1 == (uint32_t)pl->nnodes)
		pt_raw_futex_wake((uint32_t *)&shm->left, 1);
	/* A HOLD node starts nothing: it need not wait for the others. */
	if (hold)
		child_hold(run, s->me, s->hs);
	for (int waited = 0; !atomic_load(&shm->go) && waited < 4; waited++)
		pt_raw_futex_wait((uint32_t *)&shm->go, 0, 2500);
	/* Not a HOLD node, so not held: the caller's heap is there. */
	nd = run->tree->nodes[pl->procs[s->me].node];
	munmap(shm, run->shm_len);
	sigprocmask(SIG_SETMASK, &run->oldmask, NULL);
	if (nd->kind == PIDTUPLE_NODE_EXEC) {
		execve(nd->path, nd->argv, nd->envp ? nd->envp : environ);
		_exit(127);
	}
	_exit(nd->fn(nd->arg));
}

/* Forked by the restorer: drops what only the restorer may hold. */
static void child_drop_restorer_fds(const struct rs_run *run)
{
	close(run->st_r);
	close(run->bar_w);
	if (run->lock_fd >= 0)
		close(run->lock_fd);
	if (run->hs_r >= 0)
		close(run->hs_r);
}

/*
 * The descriptors a new process got from its creator beyond its parent's pidfd: the other one
 * of the creator's pidfds (of itself and of its parent) and, from a held creator, the pidfds
 * of the children forked before it. A leaf forked by a held creator is a held HOLD node: it
 * keeps them until the release, which closes everything but the hand-over socket anyway.
 */
static void child_drop_inherited(struct rs_self *s, bool creates, int other)
{
	if (!s->held) {
		if (other >= 0)
			close(other);
		return;
	}
	if (!creates) {
		s->kids = 0;
		return;
	}
	if (s->kids && other == s->kids_lo - 1) {
		s->kids_lo--;
		s->kids++;
	} else if (other >= 0) {
		close(other);
	}
	child_close_kids(s);
}

/*
 * Process @me starts: it keeps its parent's pidfd, and opens its own pidfd if it forks.
 *
 * A process with steps dies with its parent from now on (PR_SET_PDEATHSIG; and if the parent
 * is gone already): it may sleep on a futex, and nothing else would wake it. A process
 * without steps (a leaf, most of a tree) goes straight to the barrier, which watches the
 * parent's pidfd: it needs neither, nor to disarm the signal at the release.
 */
static void child_start(const struct rs_run *run, struct rs_self *s, pt_proc_idx me, int cself,
			int cparent)
{
	const struct pt_proc *proc = &run->pl->procs[me];
	uint8_t f = run->pflags[me];
	bool sibling = proc->clone_flags & PT_CLONE_PARENT;

	s->me = me;
	s->reported = proc->create_op < 0;
	s->parent_fd = sibling ? cparent : cself;
	s->self_fd = -1;
	child_drop_inherited(s, f & RS_PF_CREATES, sibling ? cself : cparent);
	if (proc->create_op < 0)
		child_drop_restorer_fds(run);
	s->armed = proc->first_op >= 0;
	if (s->armed) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* The parent may have died before that: then nothing would kill this process.
		 * Where its PID is known, getppid() tells; elsewhere (an init sees 0) its pidfd. */
		if (proc->ppid ? getppid() != proc->ppid : child_parent_gone(s))
			_exit(1);
	}
	if (!(f & RS_PF_CREATES))
		return;
	if ((f & RS_PF_HELD) && !s->held) {
		child_hold_fds(run, s);
		/* What it forks inherits the mark, an empty heap and none of the objects the
		 * tree does not use. */
		if (run->heap_len)
			madvise(run->heap, run->heap_len, MADV_WIPEONFORK);
		for (unsigned int i = 0; i < run->ndrop; i++)
			madvise((void *)run->drop[i].lo, run->drop[i].hi - run->drop[i].lo,
				MADV_DONTFORK);
	}
	/* Its children watch it through this. Its PID in its own namespace is its innermost. */
	s->self_fd = pt_raw_pidfd_open(proc->pid[proc->n - 1]);
	if (s->self_fd < 0)
		child_fail(run, s, me, s->self_fd, -1);
}

/* A reported child's pidfd: closed, or for a held creator kept with the others for a while
 * (one close_range() for several). */
static void child_drop_pidfd(struct rs_self *s, int pidfd)
{
	if (!s->held || (s->kids && pidfd != s->kids_lo + s->kids)) {
		close(pidfd);
		return;
	}
	if (!s->kids++)
		s->kids_lo = pidfd;
	if (s->kids == HELD_KIDS_MAX)
		child_close_kids(s);
}

/* Step @o forks its target and reports it. Returns 0 in the new process, its PID in this one. */
static pid_t child_fork(const struct rs_run *run, struct rs_self *s, int32_t o)
{
	const struct pt_plan *pl = run->pl;
	pt_proc_idx target = pl->ops[o].target;
	int pidfd = -1;
	pid_t pid;

	if (!s->reported) {
		child_wait_reported(run, s, pl->procs[s->me].create_op);
		s->reported = true;
	}
	atomic_store(&run->opdone[o], RS_STEP_STARTED);
	pid = child_create(run, s, target, &pidfd);
	if (pid == 0)
		return 0;
	if (pid < 0) {
		atomic_store(&run->opdone[o], RS_STEP_FAILED);
		child_fail(run, s, target, pid, o);
	}
	child_send(s->st, RS_MSG_PIDFD, target, 0, o, pidfd);
	child_drop_pidfd(s, pidfd);
	/* Reported: the new process may go on (child_pass_turn marks it DONE). Only one that
	 * forks waits for that (child_wait_reported()). */
	child_pass_turn(run, s, o);
	if (run->pflags[target] & RS_PF_CREATES) {
		atomic_fetch_add(&run->shm->wake[target], 1);
		pt_raw_futex_wake((uint32_t *)&run->shm->wake[target], INT_MAX);
	}
	return pid;
}

static int child_reap(pid_t pid)
{
	pid_t w;

	do
		w = waitpid(pid, NULL, __WALL);
	while (w < 0 && errno == EINTR);
	return w == pid ? 0 : w < 0 ? -errno : -ECHILD;
}

/* Step @o, other than a fork: 0 or -errno. An exit does not return. */
static int child_step(const struct rs_run *run, const struct rs_self *s, int32_t o)
{
	const struct pt_op *op = &run->pl->ops[o];

	switch (op->op) {
	case PT_OP_SETSID:
		return setsid() < 0 ? -errno : 0;
	case PT_OP_SETPGID:
		return setpgid(0, op->arg) < 0 ? -errno : 0;
	case PT_OP_EXIT:
		child_pass_turn(run, s, o);
		_exit(0);
	case PT_OP_REAP:
		return child_reap(op->arg);
	default:
		return -EINVAL;
	}
}

/* Performs the steps of process s->me in order, then its work. Returns only in a process it
 * forks, with that process's index. */
static pt_proc_idx child_run_steps(const struct rs_run *run, struct rs_self *s)
{
	const struct pt_plan *pl = run->pl;

	for (int32_t o = pl->procs[s->me].first_op; o >= 0; o = pl->ops[o].next) {
		int r;

		child_wait_turn(run, s, o);
		if (pl->ops[o].op == PT_OP_CREATE) {
			if (child_fork(run, s, o) == 0)
				return pl->ops[o].target;
			continue;
		}
		r = child_step(run, s, o);
		if (r < 0)
			child_fail(run, s, s->me, r, o);
		child_pass_turn(run, s, o);
	}
	child_finish(run, s);
}

void pt_child_main(const struct rs_run *run, pt_proc_idx me, int cself, int cparent)
{
	struct rs_self s = { .st = run->st_w, .bar = run->bar_r, .hs = run->hs };

	for (;;) {
		child_start(run, &s, me, cself, cparent);
		me = child_run_steps(run, &s);
		/* A process just forked: @s holds its creator's pidfds of itself and its parent. */
		cself = s.self_fd;
		cparent = s.parent_fd;
	}
}

/*
 * Binds now, in the restorer, the libc functions the tree's processes call first: with lazy
 * binding each of thousands of processes would look each one up itself (a copied page and a
 * walk through libc's symbol tables per process and function). Each call does nothing.
 */
void pt_child_prebind(void)
{
	int saved = errno, sig, sv[2];
	struct sigaction sa;
	struct msghdr h = { .msg_iov = NULL };
	struct rlimit rl;
	struct stat st;
	char *const none[] = { NULL };
	sigset_t set;

	(void)prctl(PR_GET_PDEATHSIG, &sig);
	(void)getppid();
	(void)poll(NULL, 0, 0);
	(void)fcntl(-1, F_GETFD);
	(void)dup2(-1, -1);
	(void)dup3(-1, -1, 0);
	(void)close_range(~0u, ~0u, 0);
	(void)sigaction(SIGCHLD, NULL, &sa);
	(void)sigprocmask(SIG_BLOCK, NULL, &set);
	(void)waitpid(-INT_MAX, NULL, WNOHANG | __WALL); /* no such group */
	(void)sendmsg(-1, &h, 0);
	(void)send(-1, NULL, 0, 0);
	(void)recvmsg(-1, &h, 0);
	(void)munmap(NULL, 0);
	/* A HOLD node's threads and hand-over, and the stacks of those sharing memory. */
	(void)mmap(NULL, 0, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	(void)mprotect(NULL, 0, PROT_NONE);
	(void)getrlimit(RLIMIT_NOFILE, &rl);
	(void)socketpair(-1, SOCK_SEQPACKET, 0, sv);
	(void)fstat(-1, &st);
	(void)sigfillset(&set);
	(void)execve("", none, none); /* ENOENT */
	errno = saved;
}
