/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ns_last_pid path, for kernels and sandboxes without clone3 set_tid, and its lock: the one
 * cross-tool convention, an exclusive flock() on an open ns_last_pid held from the write until
 * the child's PID is verified. The lock is advisory: a process that forks without it can take
 * the PID, so every child is verified, and a wrong one is killed, reaped and reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "diag.h"
#include "fallback.h"
#include "forkopts.h"
#include "lib.h"
#include "nsctx.h"
#include "proc.h"
#include "syscall_shim.h"
#include "tuple.h"

#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"

int pt_lock_take(const struct pt_fork_opts *o, int open_flags, int *ret_fd)
{
	int fd, r;

	*ret_fd = -1;
	if (o->lock) {
		r = o->lock(o->lock_arg);
		return r < 0 ? r : 0;
	}
	fd = pt_open(NS_LAST_PID, open_flags);
	if (fd < 0)
		return fd;
	r = pt_flock(fd, LOCK_EX);
	if (r < 0) {
		pt_close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void pt_lock_release(const struct pt_fork_opts *o, int fd)
{
	if (o->lock) {
		o->unlock(o->lock_arg);
		return;
	}
	if (fd >= 0) {
		/* Explicit: a child may still share the open file description. */
		(void)pt_flock(fd, LOCK_UN);
		pt_close(fd);
	}
}

static int lock_error(const struct pt_fork_opts *o, unsigned int n, int r)
{
	return pt_diag(
		o->diag, r, PIDTUPLE_RULE_FALLBACK, 0, n, 0, "ns_last_pid cannot be used: %s",
		r == -EROFS    ? "/proc/sys is mounted read-only"
		: r == -ENOENT ? "it does not exist (no CONFIG_CHECKPOINT_RESTORE, or no /proc)"
		: r == -EACCES ? "access denied"
			       : pidtuple_strerror(r));
}

static const char *why_text(int why)
{
	switch (-why) {
	case ENOSYS:
		return "clone3() is missing or hidden by a seccomp filter (ENOSYS)";
	case EPERM:
		return "a seccomp filter refuses clone3() (EPERM)";
	case E2BIG:
		return "this clone3() has no set_tid (E2BIG)";
	default:
		return pidtuple_strerror(why);
	}
}

static bool same_ns_for_children(void)
{
	struct stat a, b;

	return pt_proc_ns_stat(-1, 0, "pid", &a) == 0 &&
	       pt_proc_ns_stat(-1, 0, "pid_for_children", &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

static void reap(pid_t pid)
{
	(void)pt_waitpid(pid, NULL, __WALL);
}

static int write_last_pid(int fd, pid_t last)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", (int)last);

	ssize_t r = pt_pwrite(fd, buf, (size_t)len, 0);

	return r == len ? 0 : r < 0 ? (int)r : -EIO;
}

/* Creates the child; it waits at a gate until the parent has verified its PID. */
static pid_t gated_clone(const struct pt_fork_opts *o, int *pidfd, int *gate_w, int lock_fd,
			 int write_fd)
{
	uint64_t flags = o->clone_flags | ((uint64_t)o->exit_signal & 0xff);
	int gate[2];
	long pid;
	char c;
	int r;

	/* A socket, not a pipe: the parent's send() to a dead child must not raise SIGPIPE. */
	r = pt_socketpair(gate);
	if (r < 0)
		return r;
	pid = pt_sys_clone(flags, pidfd);
	if (pid == 0) {
		ssize_t n;

		/* The child: libc directly, async-signal-safe, never injected. */
		close(gate[1]);
		if (lock_fd >= 0)
			close(lock_fd);
		if (write_fd >= 0 && write_fd != lock_fd)
			close(write_fd);
		do
			n = read(gate[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127); /* the parent rejected this child */
		close(gate[0]);
		return 0;
	}
	pt_close(gate[0]);
	if (pid < 0) {
		pt_close(gate[1]);
		return (pid_t)pid;
	}
	*gate_w = gate[1];
	return (pid_t)pid;
}

static pid_t fallback_newpid_init(const struct pt_fork_opts *o, int *ret_pidfd)
{
	uint64_t flags = o->clone_flags | ((uint64_t)o->exit_signal & 0xff);
	int pidfd = -1;
	long pid;

	/* The first process of a new namespace is its PID 1: nothing to steer. */
	pid = pt_sys_clone(flags, ret_pidfd ? &pidfd : NULL);
	if (pid > 0 && ret_pidfd)
		*ret_pidfd = pidfd;
	return (pid_t)pid;
}

/* ns_last_pid held for writing: the lock, and the descriptor written through (the locked one,
 * or one of its own when the embedder's callbacks hold the lock). */
struct last_pid {
	const struct pt_fork_opts *o;
	int lock_fd, fd;
};

/* Takes the lock and opens ns_last_pid; failures are reported for a tuple of @n levels. */
static int last_pid_open(struct last_pid *lp, const struct pt_fork_opts *o, unsigned int n)
{
	int r;

	*lp = (struct last_pid){ .o = o, .lock_fd = -1, .fd = -1 };
	r = pt_lock_take(o, O_RDWR, &lp->lock_fd);
	if (r < 0)
		return o->lock ? r : lock_error(o, n, r);
	lp->fd = lp->lock_fd >= 0 ? lp->lock_fd : pt_open(NS_LAST_PID, O_RDWR);
	if (lp->fd < 0) {
		r = lock_error(o, n, lp->fd);
		pt_lock_release(o, lp->lock_fd);
		return r;
	}
	return 0;
}

static void last_pid_close(struct last_pid *lp)
{
	if (lp->fd != lp->lock_fd)
		pt_close(lp->fd);
	pt_lock_release(lp->o, lp->lock_fd);
}

/* Why ns_last_pid cannot steer @t here, reported; 0 when it can. */
static int steer_refusal(const struct pidtuple *t, const struct pt_fork_opts *o, int why)
{
	pid_t want = t->pid[0];
	int pid_max = 0;

	if (t->n > 1 || (o->clone_flags & PT_CLONE_NEWPID))
		return pt_diag(o->diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, t->n, 0,
			       "set_tid is unavailable (%s) and the tuple pins %u levels: "
			       "ns_last_pid can steer only one level, the caller's own namespace",
			       why_text(why), t->n);
	if (!same_ns_for_children())
		return pt_diag(o->diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, 0, t->n, want,
			       "set_tid is unavailable (%s) and children go to another PID "
			       "namespace (after setns/unshare); ns_last_pid steers only the "
			       "caller's own",
			       why_text(why));
	/* A cursor at pid_max wraps around: the kernel would not say EINVAL. */
	if (pt_read_pid_max(&pid_max) == 0 && want >= pid_max)
		return pt_diag(o->diag, -EINVAL, PIDTUPLE_RULE_PID_RANGE, 0, t->n, want,
			       "PID %d (NSpid field 1 of 1) is not below this namespace's "
			       "pid_max %d",
			       (int)want, pid_max);
	return 0;
}

static int write_error(const struct pidtuple *t, const struct pt_fork_opts *o, int r)
{
	pid_t want = t->pid[0];

	if (r == -EINVAL)
		return pt_diag(o->diag, r, PIDTUPLE_RULE_PID_RANGE, 0, t->n, want,
			       "PID %d (NSpid field 1 of 1) is not below this namespace's "
			       "pid_max",
			       (int)want);
	if (r == -EPERM)
		return pt_diag(o->diag, r, PIDTUPLE_RULE_FALLBACK, 0, t->n, want,
			       "writing ns_last_pid needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN "
			       "over the namespace's owner");
	return lock_error(o, t->n, r);
}

static int clone_error(const struct pidtuple *t, const struct pt_fork_opts *o, int r)
{
	pt_diag(o->diag, r, PIDTUPLE_RULE_KERNEL, 0, t->n, t->pid[0],
		"the kernel refused the fork: %s", pidtuple_strerror(r));
	pt_diag_set_kernel_err(o->diag, r);
	return r;
}

/* A child we could not verify and release is never kept. */
static void reject(pid_t child, int gate, int pidfd)
{
	pt_close(gate);
	kill(child, SIGKILL);
	reap(child);
	pt_close(pidfd);
}

/* Under the lock: writes want-1 and clones until a child has the PID (the child, or 0 in the
 * child), the PID is taken, or the retries are spent (-errno, reported). */
static pid_t steer(const struct pidtuple *t, const struct pt_fork_opts *o,
		   const struct last_pid *lp, int *ret_pidfd)
{
	pid_t want = t->pid[0];

	for (unsigned int attempt = 0;; attempt++) {
		int gate = -1, pidfd = -1, r;
		pid_t child;

		if (pt_active_pid_taken(want) > 0)
			return pt_diag(o->diag, -EEXIST, PIDTUPLE_RULE_PID_TAKEN, 0, t->n, want,
				       "PID %d (NSpid field 1 of 1) is already in use in this "
				       "namespace",
				       (int)want);
		r = write_last_pid(lp->fd, want - 1);
		if (r < 0)
			return write_error(t, o, r);
		child = gated_clone(o, ret_pidfd ? &pidfd : NULL, &gate, lp->lock_fd, lp->fd);
		if (child <= 0)
			return child < 0 ? clone_error(t, o, child) : 0;
		if (child == want && send(gate, "g", 1, MSG_NOSIGNAL) == 1) {
			pt_close(gate);
			if (ret_pidfd)
				*ret_pidfd = pidfd;
			return child;
		}
		/* Someone forked between our write and our clone, or the child died before its
		 * release. */
		reject(child, gate, pidfd);
		if (child == want)
			return pt_diag(o->diag, -ECHILD, PIDTUPLE_RULE_KERNEL, 0, t->n, want,
				       "the child died before it was released");
		if (attempt >= o->fallback_retries || pt_active_pid_taken(want) != 0)
			return pt_diag(o->diag, -EBUSY, PIDTUPLE_RULE_PID_MISMATCH, 0, t->n, want,
				       "the child got PID %d instead of %d: a process forked "
				       "without the ns_last_pid lock; the child was killed and "
				       "reaped",
				       (int)child, (int)want);
	}
}

pid_t pt_fork_fallback(const struct pidtuple *t, const struct pt_fork_opts *o, int *ret_pidfd,
		       int why)
{
	struct last_pid lp;
	pid_t child;
	int r;

	if (o->clone_flags & PT_CLONE_NEWTIME)
		return pt_diag(o->diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, t->n, 0,
			       "set_tid is unavailable (%s) and CLONE_NEWTIME needs clone3()",
			       why_text(why));
	if ((o->clone_flags & PT_CLONE_NEWPID) && t->n == 1) {
		child = fallback_newpid_init(o, ret_pidfd);
	} else {
		r = steer_refusal(t, o, why);
		if (r == 0)
			r = last_pid_open(&lp, o, t->n);
		if (r < 0)
			return r;
		child = steer(t, o, &lp, ret_pidfd);
		if (child == 0)
			return 0; /* the child: gated_clone() closed its copies */
		last_pid_close(&lp);
	}
	if (child > 0 && (o->flags & PIDTUPLE_FORK_INTO_CGROUP))
		pt_cgroup_after(o, child);
	return child;
}

PT_PUBLIC int pidtuple_get_next_pid(void)
{
	int v = pt_read_int_file(NS_LAST_PID);

	return v < 0 ? v : v + 1;
}

PT_PUBLIC int pidtuple_set_next_pid(pid_t next, const struct pidtuple_fork_opts *opts)
{
	struct pt_fork_opts o;
	struct last_pid lp;
	int r;

	r = pt_fork_opts_get(opts, &o);
	if (r < 0)
		return r;
	if (o.flags & PIDTUPLE_FORK_JOIN_NS)
		return pt_diag(o.diag, -EINVAL, PIDTUPLE_RULE_JOIN_NS, -1, 0, next,
			       "join: ns_last_pid is the caller's own namespace's; it cannot be "
			       "set in another");
	if (next < 1)
		return pt_diag(o.diag, -EINVAL, PIDTUPLE_RULE_PID_RANGE, -1, 0, next,
			       "next PID %d is below 1", (int)next);
	r = last_pid_open(&lp, &o, 0);
	if (r < 0)
		return r;
	r = write_last_pid(lp.fd, next - 1);
	if (r == -EINVAL)
		pt_diag(o.diag, r, PIDTUPLE_RULE_PID_RANGE, -1, 0, next,
			"next PID %d is beyond this namespace's pid_max", (int)next);
	else if (r == -EPERM)
		pt_diag(o.diag, r, PIDTUPLE_RULE_FALLBACK, -1, 0, next,
			"writing ns_last_pid needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over "
			"the namespace's owner");
	if (r == 0)
		r = pt_read_int_fd(lp.fd);
	if (r >= 0)
		r += 1;
	last_pid_close(&lp);
	return r;
}
