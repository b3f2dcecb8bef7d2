/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_tree_floor: the floor under bench_tree. The same shape (N processes over three PID
 * namespace levels, a third each, fan-out 8 inside a level, every process forked by its
 * parent, each level's init the child of the level above's root) grown with raw clone3() and
 * nothing else: no set_tid, no pidfd, no check, no barrier, from the smallest address space a
 * program can have when linked static, and from this dynamic one. Each process reports one
 * byte once its children exist; the time runs until every one has.
 *
 * bench_tree's fork way is this from a dynamic program that also holds the tree's description;
 * a restore that did nothing but fork cannot go below the static floor. Built static when the
 * C library's archive is there (bench_tree_floor_static) and dynamic (bench_tree_floor).
 *
 * Runs as PID 1 of a private PID namespace; kills and reaps everything between samples. Exit 0,
 * 77 when it cannot run here (not root), 1 on an error.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

#define FANOUT 8
#define LEVELS 3

static int per_level; /* processes per level */

static long plain_clone(int newpid)
{
	struct bench_clone_args a = { .flags = newpid ? CLONE_NEWPID : 0, .exit_signal = SIGCHLD };

	return syscall(BENCH_CLONE3, &a, sizeof(a));
}

/* Runs as node @k of level @lvl: forks its children (and, as a level's root, the next level's
 * init), reports, sleeps. */
static void __attribute__((noreturn)) grow(int lvl, int k, int ready_fd)
{
again:
	for (int c = FANOUT * k + 1; c <= FANOUT * k + FANOUT && c < per_level; c++) {
		long pid = plain_clone(0);

		if (pid == 0) {
			k = c;
			goto again;
		}
		if (pid < 0)
			_exit(1);
	}
	if (k == 0 && lvl + 1 < LEVELS) {
		long pid = plain_clone(1);

		if (pid == 0) {
			lvl++;
			goto again;
		}
		if (pid < 0)
			_exit(1);
	}
	bench_ready_and_hold(ready_fd);
}

/* One sample: the time until all have reported, or 0. */
static uint64_t sample(void)
{
	int p[2], got = 0, want = per_level * LEVELS;
	uint64_t t0;
	long root;

	if (pipe(p) < 0)
		return 0;
	t0 = bench_now_ns();
	root = plain_clone(0);
	if (root == 0) {
		close(p[0]);
		grow(0, 0, p[1]);
	}
	close(p[1]);
	while (root > 0 && got < want) {
		char buf[512];
		ssize_t r = read(p[0], buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (int)r;
	}
	t0 = bench_now_ns() - t0;
	close(p[0]);
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return got == want ? t0 : 0;
}

static int body(void *arg)
{
	uint64_t v[64];
	int n = *(int *)arg;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	setrlimit(RLIMIT_NPROC, &rl);
	for (int i = 0; i < n; i++) {
		v[i] = sample();
		if (!v[i]) {
			fprintf(stderr, "bench_tree_floor: a sample failed\n");
			return 1;
		}
	}
	printf("bench_tree_floor: %d processes over %d levels (fan-out %d), raw clone3() only: "
	       "median of %d %.1f ms\n",
	       per_level * LEVELS, LEVELS, FANOUT, n, bench_median_u64(v, n) / 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	int procs = 10000, repeat = 5;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--processes") && i + 1 < argc)
			procs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atoi(argv[++i]);
		else
			procs = -1;
	}
	if (procs < 3 || procs > 30000 || repeat < 1 || repeat > 64) {
		fprintf(stderr, "usage: bench_tree_floor [--processes N (3-30000, default 10000)] "
				"[--repeat N (1-64, default 5)]\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_tree_floor: skipped: needs root\n");
		return BENCH_SKIP;
	}
	per_level = procs / LEVELS;
	return bench_in_pidns("bench_tree_floor", body, &repeat);
}
