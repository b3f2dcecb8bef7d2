/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_capture: pidtuple_tree_capture() of a live tree, the walk (PIDTUPLE_SCAN_SOURCE=walk:
 * /proc/PID/task/TID/children from the root, one status read per process, as ps-style tools
 * and CRIU find a tree) against the default (the walk while the tree is small, the scan of
 * the namespace, through the BPF iterator where it loads, beyond).
 *
 * For each size, a tree of fan-out 8 (process k's parent is process (k-1)/8), every process
 * forked by its parent, all sleeping; each capture must describe exactly that many processes.
 * The two ways alternate (ABAB / BABA) and each row gives their medians and the ratio. It runs
 * with the outer /proc (the host's, as after unshare()) and then with a /proc of the
 * benchmark's own namespace, mounted in a private mount namespace.
 *
 * It runs as PID 1 of a private PID namespace: between sizes it kills everything in that
 * namespace (all of it its own) and reaps it. Not a test: it asserts nothing about time.
 * Exit 0 when every capture succeeded, 77 when it cannot run here (not root), 1 on an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "pidtuple.h"

#define FANOUT 8
#define MAX_SIZES 8

static struct {
	int sizes[MAX_SIZES];
	int nsizes;
	int repeat;
	bool json;
} cfg = { { 3, 300, 3000, 10000 }, 4, 7, false };

/* Process @k of @n: forks its children (each goes on as its own k), reports, sleeps. */
static void __attribute__((noreturn)) grow(int k, int n, int ready_fd)
{
again:
	for (int c = FANOUT * k + 1; c <= FANOUT * k + FANOUT && c < n; c++) {
		pid_t pid = fork();

		if (pid == 0) {
			k = c;
			goto again;
		}
		if (pid < 0)
			_exit(1);
	}
	bench_ready_and_hold(ready_fd);
}

/* Kills and reaps everything in our namespace (we are its init). */
static void kill_all(void)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/* The tree of @n processes; its root, or -1. */
static pid_t make_tree(int n)
{
	int p[2], got = 0;
	pid_t root;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	root = fork();
	if (root == 0) {
		close(p[0]);
		grow(0, n, p[1]);
	}
	close(p[1]);
	while (root > 0 && got < n) {
		char buf[512];
		ssize_t r = read(p[0], buf, sizeof(buf));

		if (r <= 0 && errno != EINTR)
			break;
		got += r > 0 ? (int)r : 0;
	}
	close(p[0]);
	return root > 0 && got == n ? root : -1;
}

/* One capture of @root with the scan source @src (NULL: the default); its time, or 0. */
static uint64_t capture_once(pid_t root, int n, const char *src)
{
	struct pidtuple_tree *t = NULL;
	uint64_t t0;
	int r;

	if (src)
		setenv("PIDTUPLE_SCAN_SOURCE", src, 1);
	else
		unsetenv("PIDTUPLE_SCAN_SOURCE");
	t0 = bench_now_ns();
	r = pidtuple_tree_capture(root, &t);
	t0 = bench_now_ns() - t0;
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	if (r < 0 || pidtuple_tree_size(t) != n) {
		fprintf(stderr, "bench_capture: capture of %d processes (%s): %s, %d nodes\n", n,
			src ? src : "default", r < 0 ? pidtuple_strerror(r) : "wrong size",
			r < 0 ? 0 : pidtuple_tree_size(t));
		t0 = 0;
	}
	pidtuple_tree_free(t);
	return t0;
}

/* One row: the tree of @n processes captured both ways, cfg.repeat times each. */
static int row(int n, const char *proc)
{
	uint64_t walk[64], dflt[64];
	pid_t root = make_tree(n);
	double w, d;

	if (root < 0) {
		fprintf(stderr, "bench_capture: could not make a tree of %d processes\n", n);
		kill_all();
		return 1;
	}
	for (int i = 0; i < cfg.repeat; i++) {
		bool swap = i % 2;

		walk[i] = capture_once(root, n, swap ? NULL : "walk");
		dflt[i] = capture_once(root, n, swap ? "walk" : NULL);
		if (swap) {
			uint64_t x = walk[i];

			walk[i] = dflt[i];
			dflt[i] = x;
		}
		if (!walk[i] || !dflt[i]) {
			kill_all();
			return 1;
		}
	}
	kill_all();
	w = bench_median_u64(walk, cfg.repeat) / 1e6;
	d = bench_median_u64(dflt, cfg.repeat) / 1e6;
	if (cfg.json)
		printf("{\"processes\": %d, \"proc\": \"%s\", \"walk_ms\": %.3f, \"default_ms\": "
		       "%.3f, "
		       "\"default_vs_walk\": %.3f}\n",
		       n, proc, w, d, d / w);
	else
		printf("%8d  %-6s  %10.2f ms  %10.2f ms  %6.2fx\n", n, proc, w, d, d / w);
	return 0;
}

static int rows(const char *proc)
{
	for (int i = 0; i < cfg.nsizes; i++)
		if (row(cfg.sizes[i], proc))
			return 1;
	return 0;
}

/* /proc of our own namespace, in a mount namespace of our own. */
static int own_proc(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		fprintf(stderr, "bench_capture: a /proc of our own: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int body(void *arg)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	(void)arg;
	setrlimit(RLIMIT_NPROC, &rl);
	if (!cfg.json) {
		printf("bench_capture: fan-out %d trees, medians of %d captures each way; "
		       "BPF scan %s\n",
		       FANOUT, cfg.repeat,
		       pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN ? "available"
								       : "unavailable");
		printf("processes  /proc        walk       default  default/walk\n");
	}
	if (rows("outer") || own_proc() || rows("own"))
		return 1;
	return 0;
}

static int parse_sizes(const char *s)
{
	cfg.nsizes = 0;
	while (*s && cfg.nsizes < MAX_SIZES) {
		char *end;
		long v = strtol(s, &end, 10);

		if (end == s || v < 1 || v > 30000 || (*end && *end != ','))
			return -1;
		cfg.sizes[cfg.nsizes++] = (int)v;
		s = *end ? end + 1 : end;
	}
	return *s ? -1 : 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			cfg.json = true;
		} else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) {
			if (parse_sizes(argv[++i]) < 0)
				goto usage;
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			cfg.repeat = atoi(argv[++i]);
			if (cfg.repeat < 1 || cfg.repeat > 64)
				goto usage;
		} else {
			goto usage;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bench_capture: skipped: needs root\n");
		return BENCH_SKIP;
	}
	return bench_in_pidns("bench_capture", body, NULL);
usage:
	fprintf(stderr, "usage: bench_capture [--sizes N,N,...] [--repeat N (1-64)] [--json]\n"
			"  sizes: processes per tree, 1-30000 (default 3,300,3000,10000)\n");
	return 2;
}
