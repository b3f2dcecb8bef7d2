/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork / spawn / clone with exact PIDs. The hot path is the raw syscall plus checks that
 * cost no syscall; the validator runs only to explain a failure, or on request. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "diag.h"
#include "fallback.h"
#include "forkopts.h"
#include "join.h"
#include "lib.h"
#include "nsctx.h"
#include "probe.h"
#include "syscall_shim.h"
#include "tuple.h"
#include "validator.h"

extern char **environ;

static pid_t unsupported(const struct pidtuple *t, const struct pt_fork_opts *o, int why)
{
	int r = pt_diag(
		o->diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, t->n, 0,
		"PIDs cannot be pinned: %s%s", pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID),
		o->flags & PIDTUPLE_FORK_NO_FALLBACK ? " (and the fallback is disabled)" : "");

	pt_diag_set_kernel_err(o->diag, why);
	return r;
}

/* Without set_tid: the ns_last_pid path, unless the caller refused it. */
static pid_t without_set_tid(const struct pidtuple *t, const struct pt_fork_opts *o, int *ret_pidfd)
{
	int why = pt_feature_err(PIDTUPLE_FEATURE_SET_TID);

	if (o->flags & PIDTUPLE_FORK_NO_FALLBACK)
		return unsupported(t, o, why);
	return pt_fork_fallback(t, o, ret_pidfd, why);
}

/* PIDTUPLE_FORK_CHECK: the validator before the fork. Out of line, so that the context's
 * stack frame is not the fast path's. */
static int __attribute__((noinline))
fork_check(const struct pidtuple *t, const struct pt_fork_opts *o)
{
	struct pidtuple_nsctx ctx;
	int r;

	r = pt_nsctx_init_for(&ctx, o, t, t->n > 1);
	if (r < 0)
		return r;
	r = pt_check_ctx(&ctx, t, o->diag);
	pt_nsctx_fini(&ctx);
	return r < 0 ? r : 0;
}

/* clone3's arguments for @t; returns the size to pass. @pidfd receives CLONE_PIDFD's fd when
 * not NULL. Without CLONE_INTO_CGROUP, *cgroup_after says the child is to be moved after. */
static size_t clone_args_fill(struct pt_clone_args *a, const struct pidtuple *t,
			      const struct pt_fork_opts *o, uint64_t features, int *pidfd,
			      bool *cgroup_after)
{
	size_t size = PT_CLONE_ARGS_SIZE_VER1;

	*a = (struct pt_clone_args){
		.flags = o->clone_flags | (o->want_vfork ? PT_CLONE_VFORK : 0),
		.exit_signal = (uint64_t)o->exit_signal,
		.set_tid = (uintptr_t)t->pid,
		.set_tid_size = t->n,
	};
	if (pidfd) {
		a->flags |= PT_CLONE_PIDFD;
		a->pidfd = (uintptr_t)pidfd;
	}
	*cgroup_after = false;
	if (o->flags & PIDTUPLE_FORK_INTO_CGROUP) {
		if (features & PIDTUPLE_FEATURE_INTO_CGROUP) {
			a->flags |= PT_CLONE_INTO_CGROUP;
			a->cgroup = (uint64_t)o->cgroup_fd;
			size = PT_CLONE_ARGS_SIZE_VER2;
		} else {
			*cgroup_after = true;
		}
	}
	return size;
}

/* Inlined into pidtuple_fork() so that the child's way back, from the syscall to the
 * return, lies in one function (see PT_FORK_ALIGN). */
static inline __attribute__((always_inline)) pid_t fork_body(const struct pidtuple *t,
							     struct pt_fork_opts *o, int *ret_pidfd)
{
	struct pt_clone_args a;
	bool cgroup_after;
	uint64_t features;
	int pidfd = -1, lock_fd = -1, r;
	size_t size;
	long pid;

	pt_diag_reset(o->diag, t ? t->n : 0);
	r = pt_check_static(t, o, o->diag);
	if (r == 0 && (o->flags & PIDTUPLE_FORK_CHECK))
		r = fork_check(t, o);
	if (r < 0)
		return r;
	features = pt_features_cached();
	if (!(features & PIDTUPLE_FEATURE_SET_TID))
		return without_set_tid(t, o, ret_pidfd);
	size = clone_args_fill(&a, t, o, features, ret_pidfd ? &pidfd : NULL, &cgroup_after);
	if (o->flags & PIDTUPLE_FORK_LOCK) {
		/* Read-only is enough to lock, and works where /proc/sys is read-only. */
		r = pt_lock_take(o, O_RDONLY, &lock_fd);
		if (r < 0)
			return pt_diag(o->diag, r, PIDTUPLE_RULE_FALLBACK, -1, t->n, 0,
				       "cannot take the ns_last_pid lock: %s",
				       pidtuple_strerror(r));
	}

	pid = pt_sys_clone3_inline(&a, size);
	if (pid == 0) {
		if (lock_fd >= 0)
			close(lock_fd);
		return 0;
	}
	if (o->flags & PIDTUPLE_FORK_LOCK)
		pt_lock_release(o, lock_fd);
	if (pid == -ENOSYS || pid == -E2BIG || pid == -EPERM) {
		/* A filter added after the probe, or a probe that missed it: look again. */
		features = pt_features_reprobe();
		if (!(features & PIDTUPLE_FEATURE_SET_TID))
			return without_set_tid(t, o, ret_pidfd);
	}
	if (pid < 0)
		return pt_explain_failure(t, o, (int)pid);
	if (cgroup_after)
		pt_cgroup_after(o, (pid_t)pid);
	o->vforked = o->want_vfork;
	if (ret_pidfd)
		*ret_pidfd = pidfd;
	return (pid_t)pid;
}

static pid_t __attribute__((noinline))
fork_plain(const struct pidtuple *t, struct pt_fork_opts *o, int *ret_pidfd)
{
	return fork_body(t, o, ret_pidfd);
}

/* PIDTUPLE_FORK_JOIN_NS: the fork happens with the target as pid_for_children; the
 * ns_last_pid way writes the caller's own namespace and cannot reach it. */
static pid_t __attribute__((noinline))
fork_joined(const struct pidtuple *t, struct pt_fork_opts *o, int *ret_pidfd)
{
	struct pt_join j;
	pid_t pid;
	int r;

	pt_diag_reset(o->diag, t ? t->n : 0);
	r = pt_check_static(t, o, o->diag); /* what needs no context first, as without a join */
	if (r < 0)
		return r;
	if (!(pt_features_cached() & PIDTUPLE_FEATURE_SET_TID))
		return pt_diag(o->diag, -EOPNOTSUPP, PIDTUPLE_RULE_JOIN_NS, -1, t->n, 0,
			       "join: entering another namespace needs clone3() with set_tid "
			       "(kernel 5.5+); the ns_last_pid fallback cannot reach it");
	r = pt_join_enter(o, t->n, &j);
	if (r < 0)
		return r;
	pid = fork_plain(t, o, ret_pidfd);
	if (pid == 0) {
		pt_join_forget(&j);
		return 0;
	}
	pt_join_leave(&j);
	return pid;
}

static pid_t __attribute__((noinline))
fork_common(const struct pidtuple *t, struct pt_fork_opts *o, int *ret_pidfd)
{
	if (o->flags & PIDTUPLE_FORK_JOIN_NS)
		return fork_joined(t, o, ret_pidfd);
	return fork_plain(t, o, ret_pidfd);
}

/*
 * The child runs pidtuple_fork() from the syscall to its return, and each page of it costs the
 * child a fault: aligned to a power of two above its size, the function lies in one page. A
 * compiler that makes it larger than that costs the child one more fault, nothing else.
 */
#define PT_FORK_ALIGN 2048

PT_PUBLIC __attribute__((aligned(PT_FORK_ALIGN))) pid_t
pidtuple_fork(const struct pidtuple *tuple, const struct pidtuple_fork_opts *opts, int *ret_pidfd)
{
	struct pt_fork_opts o;
	int r = pt_fork_opts_get(opts, &o);

	if (r < 0)
		return r;
	if (__builtin_expect(o.flags & PIDTUPLE_FORK_JOIN_NS, 0))
		return fork_joined(tuple, &o, ret_pidfd);
	return fork_body(tuple, &o, ret_pidfd);
}

/* Runs in the child of pidtuple_spawn(): async-signal-safe calls only. */
static void __attribute__((noreturn))
spawn_child(int errpipe, const sigset_t *mask, const char *path, char *const argv[],
	    char *const envp[])
{
	struct sigaction sa;
	int err;

	/* Handlers point into the parent's code; an exec'd program must not inherit them
	 * mid-way. glibc refuses its reserved signals: those calls fail harmlessly. */
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
		    sa.sa_handler != SIG_IGN) {
			sa.sa_handler = SIG_DFL;
			sa.sa_flags = 0;
			sigaction(sig, &sa, NULL);
		}
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	execve(path, argv, envp ? envp : environ);
	err = errno;
	while (write(errpipe, &err, sizeof(err)) < 0 && errno == EINTR)
		;
	_exit(127);
}

static void reap(pid_t pid)
{
	(void)pt_waitpid(pid, NULL, __WALL);
}

/* The errno of the child's failed exec, read from the pipe (and closed); 0 when it executed:
 * EOF, the write end was close-on-exec. The read is not injected-against: a lost answer would
 * leave the child unaccounted for. */
static int exec_status(int fd, bool vforked)
{
	int err = 0;
	ssize_t n;

	/* After CLONE_VFORK the child has executed or exited: what it wrote is there, and
	 * whoever else holds the write end (a child another thread forked) does not matter.
	 * The fallback cannot vfork (its child waits at a gate): wait for EOF there. */
	if (!vforked) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
			;
	}
	do
		n = read(fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	pt_close(fd);
	return n == (ssize_t)sizeof(err) ? err : 0;
}

PT_PUBLIC int pidtuple_spawn(const struct pidtuple *tuple, const char *path, char *const argv[],
			     char *const envp[], const struct pidtuple_fork_opts *opts,
			     pid_t *ret_pid, int *ret_pidfd)
{
	struct pt_fork_opts o;
	sigset_t all, old;
	int pipefd[2], pidfd = -1, err, r;
	pid_t pid;

	r = pt_fork_opts_get(opts, &o);
	if (r < 0)
		return r;
	if (!path || !argv)
		return pt_diag(o.diag, -EINVAL, PIDTUPLE_RULE_EXEC, -1, tuple ? tuple->n : 0, 0,
			       "spawn: no program path or argv given");
	r = pt_pipe2(pipefd, O_NONBLOCK);
	if (r < 0)
		return r;

	/* No signal handler may run in the child before exec. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	o.want_vfork = true;
	pid = fork_common(tuple, &o, ret_pidfd ? &pidfd : NULL);
	if (pid == 0) {
		close(pipefd[0]);
		spawn_child(pipefd[1], &old, path, argv, envp);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pt_close(pipefd[1]);
	if (pid < 0) {
		pt_close(pipefd[0]);
		return pid;
	}

	err = exec_status(pipefd[0], o.vforked);
	if (err) {
		reap(pid);
		pt_close(pidfd);
		return pt_diag(o.diag, -err, PIDTUPLE_RULE_EXEC, -1, tuple->n, 0,
			       "spawn: cannot execute %s: %s", path, pidtuple_strerror(err));
	}
	if (ret_pid)
		*ret_pid = pid;
	if (ret_pidfd)
		*ret_pidfd = pidfd;
	return 0;
}

PT_PUBLIC int pidtuple_clone(const struct pidtuple *tuple, int (*fn)(void *), void *arg,
			     const struct pidtuple_fork_opts *opts, pid_t *ret_pid, int *ret_pidfd)
{
	struct pt_fork_opts o;
	int pidfd = -1, r;
	pid_t pid;

	r = pt_fork_opts_get(opts, &o);
	if (r < 0)
		return r;
	if (!fn)
		return pt_diag(o.diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, tuple ? tuple->n : 0, 0,
			       "clone: no callback given");
	pid = fork_common(tuple, &o, ret_pidfd ? &pidfd : NULL);
	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0)
		return pid;
	if (ret_pid)
		*ret_pid = pid;
	if (ret_pidfd)
		*ret_pidfd = pidfd;
	return 0;
}
