/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_insn_count: a driver for instruction counting (bench/callgrind.sh) and syscall
 * counting (strace -c). Calls one operation N times, as PID 1 of a private PID namespace:
 *
 *   check     pidtuple_check()                   check_in  pidtuple_check_in(), one context
 *   fork      pidtuple_fork() + waitpid          raw       syscall(clone3) set_tid + waitpid
 *
 * on a 1-level tuple (the driver's own namespace) or a 3-level one (two nested namespaces
 * below it, joined with setns()). The namespaces are made with fork() and unshare() only,
 * because valgrind (3.19 at least) answers clone3() with ENOSYS: under valgrind `fork` and
 * `raw` therefore count the user-space work before and around the syscall, not a real fork.
 * Exits 77 when not root.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidtuple.h"

/* Our own copy of the uapi struct, up to set_tid_size: size 80 (CLONE_ARGS_SIZE_VER1). */
struct insn_clone_args {
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

/* Named and not inlined, so callgrind can be told to count only this. */
long __attribute__((noinline)) insn_raw_clone3(pid_t *set_tid, size_t n);
long __attribute__((noinline)) insn_raw_clone3(pid_t *set_tid, size_t n)
{
	struct insn_clone_args a = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t)set_tid,
		.set_tid_size = n,
	};

	return syscall(435, &a, sizeof(a));
}

/* Two nested namespaces below ours: see make_nested() in bench_fork.c. */
static pid_t make_nested(int *ret_nsfd)
{
	char buf[32], path[64];
	int p[2];
	ssize_t n;
	pid_t c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	c = fork();
	if (c < 0)
		return -errno;
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
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%s/ns/pid", buf);
	*ret_nsfd = open(path, O_RDONLY | O_CLOEXEC);
	return *ret_nsfd < 0 ? -errno : c;
}

static int body(const char *mode, int levels, long n)
{
	pid_t inner[3] = { 100, 200, 300 };
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple *t = NULL;
	int nsfd = -1, r = 0;
	pid_t holder = 0;

	if (levels == 3) {
		holder = make_nested(&nsfd);
		if (holder < 0 || setns(nsfd, CLONE_NEWPID) < 0) {
			fprintf(stderr, "insn_count: cannot join nested namespaces\n");
			return 1;
		}
		close(nsfd);
	}
	if (pidtuple_from_inner(inner, (size_t)levels, &t) < 0 ||
	    pidtuple_nsctx_new(NULL, &ctx) < 0) {
		fprintf(stderr, "insn_count: setup failed\n");
		return 1;
	}
	for (long i = 0; i < n && r >= 0; i++) {
		long pid = 0;

		if (!strcmp(mode, "check")) {
			r = pidtuple_check(t, NULL, NULL);
		} else if (!strcmp(mode, "check_in")) {
			r = pidtuple_check_in(ctx, t, NULL);
		} else if (!strcmp(mode, "fork")) {
			pid = pidtuple_fork(t, NULL, NULL);
			if (pid == 0)
				_exit(0);
		} else {
			pid = insn_raw_clone3(inner, (size_t)levels);
			if (pid == 0)
				_exit(0);
			if (pid < 0)
				pid = -errno;
		}
		if (pid > 0)
			waitpid((pid_t)pid, NULL, 0);
		/* Under valgrind the forks fail with ENOSYS: only their user-space part counts. */
		if (pid < 0 && pid != -EOPNOTSUPP && pid != -ENOSYS)
			r = (int)pid;
	}
	if (r < 0)
		fprintf(stderr, "insn_count: %s %d-level: %s\n", mode, levels,
			pidtuple_strerror(r));
	if (r > 0)
		fprintf(stderr, "insn_count: %s %d-level: %d unverified level(s)\n", mode, levels,
			r);
	pidtuple_nsctx_free(ctx);
	pidtuple_free(t);
	if (holder > 0) {
		kill(holder, SIGKILL);
		while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			;
	}
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	int levels, st;
	long n;
	pid_t pid;

	if (argc != 4 || (strcmp(argv[1], "check") && strcmp(argv[1], "check_in") &&
			  strcmp(argv[1], "fork") && strcmp(argv[1], "raw"))) {
		fprintf(stderr, "usage: bench_insn_count check|check_in|fork|raw 1|3 N\n");
		return 2;
	}
	levels = atoi(argv[2]);
	n = atol(argv[3]);
	if ((levels != 1 && levels != 3) || n < 1) {
		fprintf(stderr, "usage: bench_insn_count check|check_in|fork|raw 1|3 N\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "insn_count: skipped: needs root\n");
		return 77;
	}
	if (unshare(CLONE_NEWPID) < 0) {
		fprintf(stderr, "insn_count: skipped: unshare(CLONE_NEWPID): %s\n",
			strerror(errno));
		return 77;
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		st = body(argv[1], levels, n);
		fflush(NULL);
		_exit(st);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
