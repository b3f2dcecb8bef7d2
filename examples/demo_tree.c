/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * demo_tree.c: build a small process tree with exact PIDs across two nested PID namespaces,
 * print every process's tuple as the kernel reports it, and tear it all down.
 *
 *   A: a PID namespace of the demo's own (unshare + fork), so no PID of the host is touched
 *   B: a namespace nested in A (CLONE_NEWPID)
 *
 *   1        init of A, the demo's top: reads every tuple, relative to A
 *   |-- 100/1    init of B: PID 100 in A, 1 in B
 *   |   |-- 300/2    children of B's init, pinned at both levels:
 *   |   `-- 301/3    PID 300 in A and 2 in B, PID 301 in A and 3 in B
 *   `-- 101      a plain child of A's init
 *
 * No process in A or B gets a PID from the kernel's counter, so none can collide.
 *
 * Build:  cc -o demo_tree demo_tree.c $(pkg-config --cflags --libs libpidtuple)
 * Run:    sudo ./demo_tree       (exits 77 when not root)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pidtuple.h>

/* The tree as planned, in drawing order; tuples relative to A, outermost first. */
static const struct node {
	const char *branch;
	const char *tuple;
	const char *role;
} tree[] = {
	{ "", "1", "init of namespace A (this demo)" },
	{ "|-- ", "100/1", "init of namespace B" },
	{ "|   |-- ", "300/2", "child of B's init" },
	{ "|   `-- ", "301/3", "child of B's init" },
	{ "`-- ", "101", "child of A's init" },
};

#define N_NODES (sizeof(tree) / sizeof(tree[0]))

static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/*
 * Forks a child with the PIDs of @text that sleeps until it is killed. The child of
 * pidtuple_fork() is a raw clone3(): only async-signal-safe calls (pause) in there.
 */
static pid_t fork_sleeper(const char *text)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag);
	struct pidtuple *t = NULL;
	pid_t pid;

	if (pidtuple_parse(text, &t, &diag) < 0)
		return -EINVAL;
	pid = pidtuple_fork(t, &opts, NULL);
	if (pid == 0) {
		for (;;)
			pause();
	}
	pidtuple_free(t);
	if (pid < 0)
		fprintf(stderr, "demo_tree: pidtuple_fork(%s): %s\n  rule %s: %s\n", text,
			pidtuple_strerror(pid), pidtuple_rule_name(diag.rule), diag.message);
	return pid;
}

/*
 * B's init. It sees only B, yet pins its children's PIDs in A too: the outer level is
 * beyond its view, so the library leaves it to the kernel to check (root may pin it). The
 * demo has no threads, so this child of pidtuple_fork() may use the C library.
 */
static void __attribute__((noreturn)) b_init(int ready)
{
	pid_t a = fork_sleeper("300/2");
	pid_t b = fork_sleeper("301/3");

	/* Tell A's init how it went, then wait to be killed: B dies with its init. */
	(void)!write(ready, a > 0 && b > 0 ? "y" : "n", 1);
	close(ready);
	for (;;)
		pause();
}

/* A's init: builds the tree, reads it back from the kernel, prints it, tears it down. */
static int a_init(int go)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, newpid, .clone_flags = CLONE_NEWPID, .diag = &diag);
	struct pidtuple *t = NULL;
	int ready[2], bad = 0;
	pid_t b, plain;
	char c = 'n';

	/* Start once the parent has printed, to keep the output in order. */
	if (read(go, &c, 1) < 0 || pipe2(ready, O_CLOEXEC) < 0)
		return 1;
	close(go);
	plain = fork_sleeper("101");

	/* 100/1 with CLONE_NEWPID: PID 100 here, and init (1) of the new namespace B. */
	pidtuple_parse("100/1", &t, NULL);
	fflush(stdout);
	b = pidtuple_fork(t, &newpid, NULL);
	if (b == 0) {
		close(ready[0]);
		b_init(ready[1]);
	}
	pidtuple_free(t);
	close(ready[1]);
	if (b < 0)
		fprintf(stderr,
			"demo_tree: pidtuple_fork(100/1, CLONE_NEWPID): %s\n  rule %s: %s\n",
			pidtuple_strerror(b), pidtuple_rule_name(diag.rule), diag.message);
	else if (read(ready[0], &c, 1) != 1)
		c = 'n';
	close(ready[0]);
	if (plain < 0 || b < 0 || c != 'y')
		bad = 1;

	/* Every tuple as the kernel reports it, relative to A. A node is found by its PID in
	 * A, the outermost number of its planned tuple. */
	printf("Tuples read back from the kernel, relative to namespace A (outermost first):\n");
	for (size_t i = 0; i < N_NODES && !bad; i++) {
		struct pidtuple *plan = NULL, *got = NULL;
		char text[64] = "?";
		int eq = 0, r;

		pidtuple_parse(tree[i].tuple, &plan, NULL);
		r = pidtuple_of_pid(pidtuple_get(plan, (unsigned int)pidtuple_levels(plan) - 1),
				    &got);
		if (r == 0) {
			pidtuple_format(got, text, sizeof(text));
			eq = pidtuple_equal(plan, got) == 1;
		} else {
			snprintf(text, sizeof(text), "(%s)", pidtuple_strerror(r));
		}
		printf("%s%-*s %s%s%s\n", tree[i].branch, 18 - (int)strlen(tree[i].branch), text,
		       tree[i].role, eq ? "" : ", expected ", eq ? "" : tree[i].tuple);
		bad |= !eq;
		pidtuple_free(got);
		pidtuple_free(plan);
	}

	/* Tear down: killing B's init ends B and its children; then the plain child. */
	if (b > 0) {
		kill(b, SIGKILL);
		reap(b);
	}
	if (plain > 0) {
		kill(plain, SIGKILL);
		reap(plain);
	}
	printf("%s\n", bad ? "MISMATCH: see above" : "Every process has exactly its planned PIDs.");
	fflush(stdout);
	return bad;
}

int main(void)
{
	uint64_t features = pidtuple_features();
	struct pidtuple *one = NULL, *got = NULL;
	int host_ns, go[2], pidfd, status;
	char text[64];
	pid_t init;

	if (!(features & PIDTUPLE_FEATURE_SET_TID) ||
	    !(features & PIDTUPLE_FEATURE_CAP_SYS_ADMIN)) {
		fprintf(stderr, "demo_tree: needs root (CAP_SYS_ADMIN) and clone3() set_tid "
				"(Linux 5.5+); skipped\n");
		return 77;
	}

	/* Namespace A: after unshare(CLONE_NEWPID) this process stays where it is, and its
	 * next child becomes A's init. That child must be PID 1: a namespace without init
	 * accepts no other PID. */
	host_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (host_ns < 0 || pipe2(go, O_CLOEXEC) < 0 || unshare(CLONE_NEWPID) < 0) {
		perror("demo_tree: unshare(CLONE_NEWPID)");
		return 1;
	}
	pidtuple_parse("1", &one, NULL);
	fflush(stdout);
	init = pidtuple_fork(one, NULL, &pidfd);
	if (init == 0) {
		/* A's init dies with the demo; everything in A dies with A's init. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		_exit(a_init(go[0]));
	}
	pidtuple_free(one);
	close(go[0]);
	/* Our later children would go to A too: point pid_for_children back home. */
	if (setns(host_ns, CLONE_NEWPID) < 0)
		perror("demo_tree: setns");
	close(host_ns);
	if (init < 0) {
		fprintf(stderr, "demo_tree: cannot create the init of A: %s\n",
			pidtuple_strerror(init));
		return 1;
	}

	if (pidtuple_of_pidfd(pidfd, &got) == 0) {
		pidtuple_format(got, text, sizeof(text));
		printf("Namespace A: its init is %s seen from the demo's parent namespace "
		       "(%d chosen by the kernel).\n",
		       text, (int)init);
		pidtuple_free(got);
	}
	fflush(stdout);
	(void)!write(go[1], "g", 1);
	close(go[1]);

	/* When A's init exits, the kernel kills whatever is left in A. */
	status = reap(init);
	close(pidfd);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
