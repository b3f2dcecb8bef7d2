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

#include "bench_common.h"
#include "pidtuple.h"

/* Named and not inlined, so callgrind can be told to count only this. */
long __attribute__((noinline)) insn_raw_clone3(pid_t *set_tid, size_t n);
long __attribute__((noinline)) insn_raw_clone3(pid_t *set_tid, size_t n)
{
	return bench_raw_clone3(set_tid, n, NULL);
}

struct args {
	const char *mode;
	int levels;
	long n;
};

static int body(void *p)
{
	const struct args *a = p;
	const char *mode = a->mode;
	int levels = a->levels;
	long n = a->n;
	pid_t inner[3] = { 100, 200, 300 };
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple *t = NULL;
	int nsfd = -1, r = 0;
	pid_t holder = 0;

	if (levels == 3) {
		holder = bench_make_nested(&nsfd);
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
	if (holder > 0)
		bench_kill_nested(holder);
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct args a;

	if (argc != 4 || (strcmp(argv[1], "check") && strcmp(argv[1], "check_in") &&
			  strcmp(argv[1], "fork") && strcmp(argv[1], "raw"))) {
		fprintf(stderr, "usage: bench_insn_count check|check_in|fork|raw 1|3 N\n");
		return 2;
	}
	a = (struct args){ .mode = argv[1], .levels = atoi(argv[2]), .n = atol(argv[3]) };
	if ((a.levels != 1 && a.levels != 3) || a.n < 1) {
		fprintf(stderr, "usage: bench_insn_count check|check_in|fork|raw 1|3 N\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "insn_count: skipped: needs root\n");
		return BENCH_SKIP;
	}
	return bench_in_pidns("insn_count", body, &a);
}
