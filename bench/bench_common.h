/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the benchmarks share: a raw clone3() set_tid call (the baseline a caller writing the
 * syscall by hand would have), two nested PID namespaces held by sleeping inits, running the
 * body as PID 1 of a private PID namespace, and small timing and sorting tools. Header only:
 * every function is static inline, so each benchmark builds from its one source file.
 */
#ifndef PIDTUPLE_BENCH_COMMON_H
#define PIDTUPLE_BENCH_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_SKIP 77		 /* exit code: cannot run here (CTest SKIP_RETURN_CODE) */
#define BENCH_CLONE3 435	 /* __NR_clone3, the same on every architecture */
#define BENCH_CLONE_PIDFD 0x1000 /* CLONE_PIDFD */

/* Our own copy of the uapi struct, up to set_tid_size: size 80 (CLONE_ARGS_SIZE_VER1). */
struct bench_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
};

/*
 * clone3() with set_tid @set_tid (@n, innermost first), SIGCHLD, and CLONE_PIDFD when @pidfd:
 * the syscall's own return (0 in the child, the pid, or -1 with errno).
 */
static inline long bench_raw_clone3(pid_t *set_tid, size_t n, int *pidfd)
{
	struct bench_clone_args a = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)set_tid,
		.set_tid_size = n,
	};

	if (pidfd) {
		a.flags = BENCH_CLONE_PIDFD;
		a.pidfd = (uintptr_t)pidfd;
	}
	return syscall(BENCH_CLONE3, &a, sizeof(a));
}

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* qsort() comparators. */
static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* A process of a sleeping tree that exists with its children: says so on @ready_fd, then
 * sleeps until killed. */
static inline void __attribute__((noreturn)) bench_ready_and_hold(int ready_fd)
{
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* Medians that sort @v in place; an even count gives the mean of the middle two. */
static inline double bench_median_double(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline double bench_median_u64(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_u64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

/*
 * Two nested namespaces below ours, each held by a sleeping init: caller -> c (unshares) ->
 * h1, init of L1 (unshares) -> h2, init of L2. h2 reports its PID as /proc sees it, so the
 * caller can open its namespace. Every holder dies with its parent. Made with fork() and
 * unshare() only: valgrind answers clone3() with ENOSYS. Returns c (kill it with
 * bench_kill_nested()) and an fd of L2's namespace in *@ret_nsfd, or -errno.
 */
static inline pid_t bench_make_nested(int *ret_nsfd)
{
	char buf[32], path[64];
	int p[2], e;
	ssize_t n;
	pid_t c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c = fork();
	if (c < 0) {
		e = -errno;
		close(p[0]);
		close(p[1]);
		return e;
	}
	if (c == 0) {
		close(p[0]);
		for (int level = 0; level < 2; level++) {
			pid_t h;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (unshare(CLONE_NEWPID) < 0)
				_exit(1);
			h = fork();
			if (h < 0)
				_exit(1);
			if (h > 0)
				for (;;)
					pause();
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		n = readlink("/proc/self", buf, sizeof(buf) - 1);
		if (n <= 0 || write(p[1], buf, (size_t)n) != n)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	e = -EIO;
	if (n > 0) {
		buf[n] = '\0';
		snprintf(path, sizeof(path), "/proc/%s/ns/pid", buf);
		*ret_nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (*ret_nsfd >= 0)
			return c;
		e = -errno;
	}
	kill(c, SIGKILL);
	while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
		;
	return e;
}

/* Ends what bench_make_nested() made. Called as PID 1: h1 is reparented to us when c dies,
 * and dies of PDEATHSIG; every child is reaped. */
static inline void bench_kill_nested(pid_t c)
{
	kill(c, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/*
 * Runs @body(@arg) as PID 1 of a new PID namespace, in a child that dies with us. Returns
 * body's exit code, BENCH_SKIP (with a message naming @prog) when no namespace can be made,
 * or 1 on another failure.
 */
static inline int bench_in_pidns(const char *prog, int (*body)(void *), void *arg)
{
	pid_t pid;
	int st;

	if (unshare(CLONE_NEWPID) < 0) {
		fprintf(stderr, "%s: skipped: unshare(CLONE_NEWPID): %s\n", prog, strerror(errno));
		return BENCH_SKIP;
	}
	/* The child flushes stdio when it returns: it must not inherit pending output. */
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		st = body(arg);
		fflush(NULL);
		_exit(st);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

#endif
