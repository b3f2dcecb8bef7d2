/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIDTUPLE_FORK_JOIN_NS: fork, spawn, clone, check, the namespace context and tree restore
 * into a PID namespace that another process holds (a "container"), given as a namespace fd
 * or a pidfd. The caller stays outside: it takes no PID inside, its pid_for_children is back
 * where it was after every call, and the levels from the target up to the caller are all
 * checked (taken PIDs inside found, the outer levels verified, nothing left unverified).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

/* The containers' inits, at the test namespace's level: one level and two levels below. */
#define INIT1 10
#define INIT2_OUTER 20
#define INIT2_MID 5

static bool no_ioctls(void)
{
	return !(pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS);
}

static int ns_ino_is_own(void)
{
	struct stat a, b;

	if (stat("/proc/self/ns/pid", &a) < 0 || stat("/proc/self/ns/pid_for_children", &b) < 0)
		return 0;
	return a.st_ino == b.st_ino;
}

/* The tuple of @pid (as this namespace sees it, outermost first) is @want. */
static int tuple_of_is(pid_t pid, const char *want)
{
	struct pidtuple *t = NULL;
	int r = pidtuple_of_pid(pid, &t);

	if (r < 0) {
		fprintf(stderr, "of_pid(%d): %s\n", (int)pid, pidtuple_strerror(r));
		return 1;
	}
	r = th_tuple_is(t, want, "joined child");
	pidtuple_free(t);
	return r;
}

static struct pidtuple *tup(const char *text)
{
	struct pidtuple *t = NULL;

	return pidtuple_parse(text, &t, NULL) == 0 ? t : NULL;
}

/* pidtuple_check() of @text joined to @nsfd: the return, and the diag. */
static int check_joined(int nsfd, const char *text, struct pidtuple_diag *diag)
{
	/* With the scan, kernels without the nsfs ioctls (before 6.11) see the levels below
	 * the caller too. */
	PIDTUPLE_OPTS(pidtuple_fork_opts, o,
		      .flags = PIDTUPLE_FORK_JOIN_NS | PIDTUPLE_FORK_CHECK_SCAN, .ns_fd = nsfd);
	struct pidtuple *t = tup(text);
	int r = t ? pidtuple_check(t, &o, diag) : -ENOMEM;

	pidtuple_free(t);
	return r;
}

/* ---- fork, spawn, clone ------------------------------------------------------------------ */

static int exits_if_pid_9(void *arg)
{
	(void)arg;
	return getpid() == 9 ? 0 : 1;
}

static int fork_body(void *p)
{
	pid_t outer[1] = { INIT1 }, pid;
	int nsfd, fds, pidfd = -1, r, st;
	struct pidtuple *t;
	pid_t holder;

	(void)p;
	fds = th_count_fds();
	holder = th_make_nested_ns(1, outer, &nsfd);
	TH_CHECK(holder > 0, "container: %s", strerror(-holder));
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, o,
			      .flags = PIDTUPLE_FORK_JOIN_NS | PIDTUPLE_FORK_CHECK, .ns_fd = nsfd);
		t = tup("30/7");
		pid = pidtuple_fork(t, &o, &pidfd);
		if (pid == 0) {
			if (getpid() != 7)
				_exit(1);
			pause(); /* alive: its pidfd names the namespace below */
			_exit(0);
		}
		pidtuple_free(t);
		TH_CHECK(pid == 30, "fork: %d (%s)", (int)pid, pidtuple_strerror(pid));
		TH_CHECK(ns_ino_is_own(), "fork: pid_for_children not given back");
		TH_CHECK(tuple_of_is(pid, "30/7") == 0, "fork");
	}
	{
		/* The pidfd of a process inside names the namespace as well. */
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_JOIN_NS,
			      .ns_fd = pidfd);
		pid_t spawned;

		t = tup("31/8");
		r = pidtuple_spawn(t, "/bin/true", (char *const[]){ "true", NULL }, NULL, &o,
				   &spawned, NULL);
		pidtuple_free(t);
		TH_CHECK(r == 0 && spawned == 31, "spawn by pidfd: %s", pidtuple_strerror(r));
		TH_CHECK(th_wait_status(spawned) == 0, "spawned /bin/true");
		t = tup("32/9");
		r = pidtuple_clone(t, exits_if_pid_9, NULL, &o, &spawned, NULL);
		pidtuple_free(t);
		TH_CHECK(r == 0 && spawned == 32, "clone by pidfd: %s", pidtuple_strerror(r));
		TH_CHECK(th_wait_status(spawned) == 0, "clone: the child is not PID 9 inside");
		TH_CHECK(ns_ino_is_own(), "spawn/clone: pid_for_children not given back");
	}
	close(pidfd);
	kill(pid, SIGKILL);
	TH_CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st),
		 "the forked child is not PID 7 inside");
	/* Without the flag, children are born here again. */
	t = tup("33");
	pid = pidtuple_fork(t, NULL, NULL);
	if (pid == 0)
		_exit(0);
	pidtuple_free(t);
	TH_CHECK(pid == 33 && th_wait_status(pid) == 0, "plain fork after the join: %d", (int)pid);
	return th_clean_up(holder, nsfd, fds);
}

START_TEST(test_fork_spawn_clone)
{
	ck_assert_int_eq(th_in_pidns_leakfree(fork_body, NULL), 0);
}
END_TEST

/* ---- the check: inside, the levels between, the caller's level -------------------------- */

static int check_body(void *p)
{
	pid_t outer[2] = { INIT2_OUTER, INIT2_MID };
	PIDTUPLE_OPTS(pidtuple_diag, d);
	int nsfd, fds, r;
	pid_t holder;

	(void)p;
	holder = th_make_nested_ns(2, outer, &nsfd);
	TH_CHECK(holder > 0, "container: %s", strerror(-holder));
	fds = th_count_fds();
	/* Every level is seen: a free tuple is valid, with nothing left to the kernel. */
	r = check_joined(nsfd, "40/40/7", &d);
	TH_CHECK(r == 0, "free 40/40/7: %d %s", r, d.message);
	/* A suffix pins the target's level alone. */
	TH_CHECK(check_joined(nsfd, "7", &d) == 0, "free 7: %s", d.message);
	/* Taken inside: the container's init. */
	r = check_joined(nsfd, "40/40/1", &d);
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.inner_index == 0,
		 "40/40/1: %d %s", r, d.message);
	/* Taken at the level between: the middle namespace's init is 1 there, 5 above it. */
	r = check_joined(nsfd, "40/1/7", &d);
	TH_CHECK(r == -EEXIST && d.inner_index == 1, "40/1/7: %d %s", r, d.message);
	TH_CHECK(strstr(d.message, "NSpid field 2 of 3"), "40/1/7: %s", d.message);
	/* Taken at the caller's level: the outer init. */
	r = check_joined(nsfd, "20/40/7", &d);
	TH_CHECK(r == -EEXIST && d.inner_index == 2, "20/40/7: %d %s", r, d.message);
	TH_CHECK(ns_ino_is_own(), "check: pid_for_children not given back");
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, o,
			      .flags = PIDTUPLE_FORK_JOIN_NS | PIDTUPLE_FORK_CHECK_SCAN,
			      .ns_fd = nsfd);
		struct pidtuple_nsctx *ctx = NULL;
		struct pidtuple *t = tup("40/1/7");

		r = pidtuple_nsctx_new(&o, &ctx);
		TH_CHECK(r == 0 && pidtuple_nsctx_levels(ctx) == 3, "nsctx: %d levels",
			 ctx ? pidtuple_nsctx_levels(ctx) : r);
		r = pidtuple_check_in(ctx, t, &d);
		TH_CHECK(r == -EEXIST && d.inner_index == 1, "check_in 40/1/7: %d %s", r,
			 d.message);
		pidtuple_free(t);
		pidtuple_nsctx_free(ctx);
	}
	TH_CHECK(th_count_fds() == fds, "fds: %d, was %d", th_count_fds(), fds);
	return th_clean_up(holder, nsfd, fds - 1);
}

START_TEST(test_check_levels)
{
	ck_assert_int_eq(th_in_pidns_leakfree(check_body, NULL), 0);
}
END_TEST

/* ---- tree restore --------------------------------------------------------------------------- */

static int add_hold(struct pidtuple_tree *tree, int parent, const char *text, const char *group)
{
	struct pidtuple *t = tup(text), *g = tup(group);
	PIDTUPLE_OPTS(pidtuple_node, n, .parent = parent, .kind = PIDTUPLE_NODE_HOLD, .tuple = t,
		      .pgid = g, .sid = g);
	int r = t && g ? pidtuple_tree_add(tree, &n) : -ENOMEM;

	pidtuple_free(t);
	pidtuple_free(g);
	return r;
}

static int tree_body(void *p)
{
	pid_t outer[1] = { INIT1 };
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_tree *tree = NULL;
	int nsfd, fds, r;
	pid_t holder;

	(void)p;
	holder = th_make_nested_ns(1, outer, &nsfd);
	TH_CHECK(holder > 0, "container: %s", strerror(-holder));
	fds = th_count_fds();
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_JOIN_NS, .ns_fd = nsfd,
		      .diag = &d);
	TH_CHECK(pidtuple_tree_new(&tree) == 0, "tree_new");
	TH_CHECK(add_hold(tree, -1, "50/5", "50/5") == 0 && add_hold(tree, 0, "51/6", "50/5") == 1,
		 "tree_add");
	/* Before 6.11 (no nsfs ioctls) the tree check leaves the container's level to the
	 * kernel: one level unverified. */
	r = pidtuple_tree_check(tree, &o, &d);
	TH_CHECK(r == 0 || (r == 1 && no_ioctls()), "tree_check: %d %s", r, d.message);
	r = pidtuple_tree_restore(tree, &o, &rs);
	TH_CHECK(r == 0, "restore: %d %s", r, d.message);
	TH_CHECK(ns_ino_is_own(), "restore: pid_for_children not given back");
	TH_CHECK(pidtuple_restore_pid(rs, 0) == 50 && pidtuple_restore_pid(rs, 1) == 51,
		 "restored PIDs %d %d", (int)pidtuple_restore_pid(rs, 0),
		 (int)pidtuple_restore_pid(rs, 1));
	TH_CHECK(tuple_of_is(50, "50/5") == 0 && tuple_of_is(51, "51/6") == 0, "restored tuples");
	/* The same tree again: its inner PIDs are taken in the container now (before 6.11 only
	 * its outer ones are seen, here in the caller's namespace). */
	r = pidtuple_tree_check(tree, &o, &d);
	TH_CHECK(r == -EEXIST && d.node == 0 && d.inner_index == (no_ioctls() ? 1 : 0),
		 "second check: %d %s", r, d.message);
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(tree);
	TH_CHECK(th_count_fds() == fds, "fds: %d, was %d", th_count_fds(), fds);
	return th_clean_up(holder, nsfd, fds - 1);
}

START_TEST(test_tree)
{
	ck_assert_int_eq(th_in_pidns_leakfree(tree_body, NULL), 0);
}
END_TEST

/* ---- bad targets ---------------------------------------------------------------------------- */

static int expect_join_err(int fd, int err, const char *words)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	int r = check_joined(fd, "7", &d);

	TH_CHECK(r == err && d.rule == PIDTUPLE_RULE_JOIN_NS, "fd %d: %d (%s), want %d", fd, r,
		 d.message, err);
	TH_CHECK(!words || strstr(d.message, words), "fd %d: '%s' lacks '%s'", fd, d.message,
		 words);
	TH_CHECK(ns_ino_is_own(), "fd %d: pid_for_children moved", fd);
	return 0;
}

/* Runs inside the container: the namespace above it cannot be entered from there. */
static int join_above(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);

	return check_joined((int)(intptr_t)arg, "7", &d) == -EINVAL &&
			       d.rule == PIDTUPLE_RULE_JOIN_NS
		       ? 0
		       : 1;
}

static int bad_body(void *p)
{
	int net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	pid_t outer[1] = { INIT1 }, pid, holder;
	int nsfd, dead, fds, r;
	struct pidtuple *t = tup("40/7");

	(void)p;
	TH_CHECK(net >= 0 && file >= 0 && own >= 0 && t, "setup: %m");
	TH_CHECK(expect_join_err(-1, -EBADF, "not an open file descriptor") == 0, "-1");
	TH_CHECK(expect_join_err(1000, -EBADF, NULL) == 0, "closed fd");
	TH_CHECK(expect_join_err(net, -EINVAL, "another type") == 0, "net namespace");
	TH_CHECK(expect_join_err(file, -EINVAL, "not a PID namespace") == 0, "/dev/null");
	/* A pidfd of a reaped process. */
	pid = fork();
	if (pid == 0)
		_exit(0);
	dead = th_pidfd_open(pid, 0);
	TH_CHECK(dead >= 0 && th_wait_status(pid) == 0, "dead child");
	TH_CHECK(expect_join_err(dead, -ESRCH, "exited") == 0, "reaped pidfd");
	close(dead);
	/* The caller's own namespace is allowed. */
	{
		PIDTUPLE_OPTS(pidtuple_diag, d);

		TH_CHECK(check_joined(own, "7", &d) == 0, "own namespace: %s", d.message);
	}
	/* From inside a container, the namespace above it. */
	holder = th_make_nested_ns(1, outer, &nsfd);
	TH_CHECK(holder > 0, "container: %s", strerror(-holder));
	fds = th_count_fds();
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_JOIN_NS, .ns_fd = nsfd);

		r = pidtuple_clone(t, join_above, (void *)(intptr_t)own, &o, &pid, NULL);
		TH_CHECK(r == 0, "clone: %s", pidtuple_strerror(r));
		TH_CHECK(th_wait_status(pid) == 0, "joining the namespace above was not refused");
	}
	/* ns_last_pid is the caller's own namespace's. */
	{
		PIDTUPLE_OPTS(pidtuple_diag, d);
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_JOIN_NS, .ns_fd = nsfd,
			      .diag = &d);

		r = pidtuple_set_next_pid(100, &o);
		TH_CHECK(r == -EINVAL && d.rule == PIDTUPLE_RULE_JOIN_NS, "set_next_pid: %d", r);
	}
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_JOIN_NS, .ns_fd = nsfd,
			      .reserved2 = 1);

		TH_CHECK(pidtuple_check(t, &o, NULL) == -EINVAL, "reserved2");
	}
	pidtuple_free(t);
	close(net);
	close(file);
	close(own);
	return th_clean_up(holder, nsfd, fds - 4);
}

START_TEST(test_bad_targets)
{
	ck_assert_int_eq(th_in_pidns_leakfree(bad_body, NULL), 0);
}
END_TEST

static Suite *join_suite(void)
{
	Suite *s = suite_create("join");
	TCase *tc = tcase_create("join");

	tcase_add_test(tc, test_fork_spawn_clone);
	tcase_add_test(tc, test_check_levels);
	tcase_add_test(tc, test_tree);
	tcase_add_test(tc, test_bad_targets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(join_suite());
}
