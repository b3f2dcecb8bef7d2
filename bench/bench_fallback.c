/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ns_last_pid fallback against the set_tid path, side by side in one run:
 *  1. fork + reap latency, interleaved: one process forks with set_tid, a twin behind a seccomp
 *     filter that hides clone3 forks through the fallback; they take turns, iteration by
 *     iteration, so drift hits both alike. Medians and their ratio.
 *  2. throughput with 1, 2, 4 and 8 threads forking at once through each path (distinct PIDs).
 * Runs as PID 1 of a private PID namespace; needs root (exits 77 otherwise).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "pidtuple.h"

static int iterations = 1000;
static double seconds = 1.5;

static double now_us(void)
{
	return (double)bench_now_ns() / 1e3;
}

static int hide_clone3(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = -ENOMEM;

	if (ctx) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
		if (r == 0)
			r = seccomp_load(ctx);
		seccomp_release(ctx);
	}
	return r;
}

/* One fork + reap of PID @want; its time in microseconds, or -1. */
static double fork_once(pid_t want)
{
	struct pidtuple *t = NULL;
	double start;
	pid_t pid;

	if (pidtuple_from_inner(&want, 1, &t) < 0)
		return -1;
	start = now_us();
	pid = pidtuple_fork(t, NULL, NULL);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	start = now_us() - start;
	pidtuple_free(t);
	return pid == want ? start : -1;
}

/* A worker that takes its turn when the token arrives, forks once, and passes it back. */
static void latency_worker(bool fallback, int in, int out, pid_t base, int result)
{
	double *v = calloc((size_t)iterations, sizeof(*v));
	char tok;

	if (!v || (fallback && hide_clone3() < 0))
		_exit(2);
	for (int i = 0; i < iterations; i++) {
		if (read(in, &tok, 1) != 1)
			_exit(3);
		v[i] = fork_once(base + i % 500);
		if (v[i] < 0 || write(out, &tok, 1) != 1)
			_exit(4);
	}
	v[0] = bench_median_double(v, iterations);
	_exit(write(result, &v[0], sizeof(v[0])) == sizeof(v[0]) ? 0 : 5);
}

struct tput_arg {
	pid_t base;
	double until;
	long forks;
};

static void *tput_thread(void *p)
{
	struct tput_arg *a = p;

	for (int i = 0; now_us() < a->until; i++)
		if (fork_once(a->base + i % 400) >= 0)
			a->forks++;
	return NULL;
}

/* Forks per second with @threads threads at once, each on its own PIDs. */
static void throughput_worker(bool fallback, int threads)
{
	struct tput_arg a[8];
	pthread_t th[8];
	double start;
	long total = 0;

	if (fallback && hide_clone3() < 0)
		_exit(2);
	start = now_us();
	for (int i = 0; i < threads; i++) {
		a[i] = (struct tput_arg){ .base = 10000 + i * 1000,
					  .until = start + seconds * 1e6 };
		pthread_create(&th[i], NULL, tput_thread, &a[i]);
	}
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += a[i].forks;
	}
	printf("throughput %-8s %d forker(s): %.0f forks/s\n", fallback ? "fallback" : "set_tid",
	       threads, total / ((now_us() - start) / 1e6));
	fflush(stdout);
	_exit(0);
}

static int wait_all(void)
{
	int st, bad = 0;

	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	return bad;
}

static int body(void)
{
	int ab[2], ba[2], res[2][2];
	double med[2];
	char tok = 't';

	/* 1. Latency: the two workers pass one token back and forth. */
	if (pipe(ab) < 0 || pipe(ba) < 0 || pipe(res[0]) < 0 || pipe(res[1]) < 0)
		return 1;
	if (fork() == 0)
		latency_worker(false, ab[0], ba[1], 2000, res[0][1]);
	if (fork() == 0)
		latency_worker(true, ba[0], ab[1], 3000, res[1][1]);
	if (write(ab[1], &tok, 1) != 1)
		return 1;
	if (wait_all() || read(res[0][0], &med[0], sizeof(med[0])) != sizeof(med[0]) ||
	    read(res[1][0], &med[1], sizeof(med[1])) != sizeof(med[1]))
		return 1;
	printf("fork+reap median, %d iterations interleaved: set_tid %.1f us, fallback %.1f us\n",
	       iterations, med[0], med[1]);
	printf("ratio fallback/set_tid: %.2fx\n", med[1] / med[0]);
	/* 2. Throughput, one configuration at a time. */
	for (int threads = 1; threads <= 8; threads *= 2)
		for (int fb = 0; fb < 2; fb++) {
			if (fork() == 0)
				throughput_worker(fb, threads);
			if (wait_all())
				return 1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	int st;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			iterations = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--iterations N] [--seconds S]\n", argv[0]);
			return 2;
		}
	}
	if (iterations < 10)
		iterations = 10;
	if (geteuid() != 0 || unshare(CLONE_NEWPID) < 0) {
		fprintf(stderr, "bench_fallback: needs root (private PID namespace): skipped\n");
		return 77;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid = fork();
	if (pid == 0)
		_exit(body());
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
