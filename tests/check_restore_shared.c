/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PIDTUPLE_FORK_SHARE_VM: the leaves of a held tree share their parent's address space
 * (CLONE_VM) instead of copying it. A tree of HOLD nodes over two namespace levels, with a
 * named leaf that has two threads and a leaf in the session and group of a dead leader (a
 * held helper creates it). With the flag, every leaf but the helper's shares its parent's
 * memory (kcmp(KCMP_VM)) and every other process has its own; without it none shares. Capture
 * reads the tree back as described. A leaf handed a program gets an address space of its own
 * while its parent and siblings go on holding; a failed hand-over leaves the leaf holding; a
 * parent handed a program leaves its leaves sharing what it had. A PID taken when a shared
 * leaf is created removes the whole tree. Single forks ignore the flag.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

TH_LSAN_EXPLICIT_ONLY

/* Level 1: nodes 0..TOP-1, fan-out 4 (node k's parent (k-1)/4). Node INIT is the root's child
 * with a namespace of its own, nodes INIT+1.. its children. */
#define TOP 21
#define INIT 21
#define NODES 26
#define NAMED 10   /* a leaf with a name and two threads */
#define LED_OUT 19 /* a leaf in the session and group of 4500, which is not in the tree */
#define BASE 5000

static int parent_of(int i)
{
	return i == 0 ? -1 : i == INIT ? 0 : i > INIT ? INIT : (i - 1) / 4;
}

static bool is_leaf(int i)
{
	return i > INIT || (i != INIT && 4 * i + 1 >= TOP);
}

static int add_node(struct pidtuple_tree *t, int i)
{
	struct pidtuple *tup = NULL, *thr[2] = { NULL, NULL }, *lead = NULL;
	PIDTUPLE_OPTS(pidtuple_node, nd, .parent = parent_of(i), .kind = PIDTUPLE_NODE_HOLD);
	char text[32];
	int r;

	if (i >= INIT)
		snprintf(text, sizeof(text), "%d/%d", BASE + i, i - INIT + 1);
	else
		snprintf(text, sizeof(text), "%d", BASE + i);
	nd.flags = i == INIT ? PIDTUPLE_NODE_NEWPID : 0;
	r = pidtuple_parse(text, &tup, NULL);
	if (i == NAMED) {
		nd.name = "shared-leaf";
		r = r ?: pidtuple_parse("5900", &thr[0], NULL);
		r = r ?: pidtuple_parse("5901", &thr[1], NULL);
		nd.threads = (const struct pidtuple *const *)thr;
		nd.nthreads = 2;
	}
	if (i == LED_OUT) {
		r = r ?: pidtuple_parse("4500", &lead, NULL);
		nd.pgid = nd.sid = lead;
	}
	nd.tuple = tup;
	if (r == 0)
		r = pidtuple_tree_add(t, &nd);
	pidtuple_free(tup);
	pidtuple_free(thr[0]);
	pidtuple_free(thr[1]);
	pidtuple_free(lead);
	return r;
}

static struct pidtuple_tree *shared_tree(void)
{
	struct pidtuple_tree *t = NULL;

	if (pidtuple_tree_new(&t) < 0)
		return NULL;
	for (int i = 0; i < NODES; i++)
		if (add_node(t, i) < 0) {
			pidtuple_tree_free(t);
			return NULL;
		}
	return t;
}

/* Whether processes @a and @b share one address space; -1 when the kernel cannot say. */
static int same_vm(pid_t a, pid_t b)
{
	long r = syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0);

	return r < 0 ? -1 : r == 0;
}

static pid_t pid_of(const struct pidtuple_restore *rs, int node)
{
	return pidtuple_restore_pid(rs, (unsigned int)node);
}

/* Who shares whose memory: with @share every leaf its parent's (but LED_OUT, whose creator
 * was the helper), nothing else anyone's. */
static int sharing_is(const struct pidtuple_restore *rs, bool share)
{
	TH_CHECK(same_vm(getpid(), pid_of(rs, 0)) == 0, "the root shares the caller's memory");
	for (int i = 1; i < NODES; i++) {
		bool want = share && is_leaf(i) && i != LED_OUT;
		int got = same_vm(pid_of(rs, i), pid_of(rs, parent_of(i)));

		TH_CHECK(got == want, "node %d %s its parent's memory (kcmp: %d)", i,
			 want ? "does not share" : "shares", got);
	}
	TH_CHECK(getsid(pid_of(rs, LED_OUT)) == 4500 && getpgid(pid_of(rs, LED_OUT)) == 4500,
		 "node %d: session %d, group %d", LED_OUT, getsid(pid_of(rs, LED_OUT)),
		 getpgid(pid_of(rs, LED_OUT)));
	return 0;
}

/* Waits until node @i runs @comm ("sleep"). */
static bool runs(const struct pidtuple_restore *rs, int i, const char *comm)
{
	char path[64], got[32] = "";

	snprintf(path, sizeof(path), "/proc/%d/comm",
		 th_proc_pid(pidtuple_restore_pidfd(rs, (unsigned int)i)));
	for (int tries = 0; tries < 300; tries++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		int n = fd < 0 ? -1 : (int)read(fd, got, sizeof(got) - 1);

		if (fd >= 0)
			close(fd);
		got[n > 0 ? n - 1 : 0] = '\0'; /* without the newline */
		if (!strcmp(got, comm))
			return true;
		usleep(10000);
	}
	return false;
}

static int sleep_in(struct pidtuple_restore *rs, int i)
{
	char *argv[] = { "sh", "-c", "exec sleep 1000", NULL };
	int r = pidtuple_restore_hand_over(rs, (unsigned int)i, "/bin/sh", argv, NULL);

	TH_CHECK(r == 0, "hand-over to node %d: %s", i, pidtuple_strerror(r));
	TH_CHECK(runs(rs, i, "sleep"), "node %d does not run sleep", i);
	return 0;
}

/* Node 6 (a leaf of node 1) takes a program; node 7 fails to, then takes one; node 1 takes
 * one, and its other leaves, 5 and 8, keep the memory they shared with it. */
static int hand_overs(struct pidtuple_restore *rs)
{
	char *argv[] = { "none", NULL };
	int r;

	TH_CHECK(sleep_in(rs, 6) == 0, "node 6");
	TH_CHECK(same_vm(pid_of(rs, 6), pid_of(rs, 1)) == 0, "node 6 still shares after exec");
	TH_CHECK(same_vm(pid_of(rs, 5), pid_of(rs, 1)) == 1, "node 5 stopped sharing");
	r = pidtuple_restore_hand_over(rs, 7, "/nonexistent/pidtuple-test", argv, NULL);
	TH_CHECK(r == -ENOENT, "hand-over of a missing program: %d", r);
	TH_CHECK(kill(pid_of(rs, 7), 0) == 0, "node 7 is gone after a failed hand-over");
	TH_CHECK(same_vm(pid_of(rs, 7), pid_of(rs, 1)) == 1, "node 7 stopped sharing");
	TH_CHECK(sleep_in(rs, 7) == 0, "node 7");
	TH_CHECK(sleep_in(rs, 1) == 0, "node 1");
	TH_CHECK(same_vm(pid_of(rs, 5), pid_of(rs, 8)) == 1, "nodes 5 and 8 stopped sharing");
	TH_CHECK(same_vm(pid_of(rs, 5), pid_of(rs, 1)) == 0, "node 5 shares node 1's new memory");
	for (int i = 0; i < NODES; i++)
		TH_CHECK(kill(pid_of(rs, i), 0) == 0, "node %d is gone", i);
	return 0;
}

static int restore_body(void *arg)
{
	bool share = arg != NULL;
	struct pidtuple_tree *t = shared_tree();
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d,
		      .flags = share ? PIDTUPLE_FORK_SHARE_VM : 0);
	int r, fds = th_count_fds();

	TH_CHECK(t, "set-up");
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "restore: %s: node %d: %s", pidtuple_strerror(r), d.node, d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(sharing_is(rs, share) == 0, "sharing");
	TH_CHECK(th_tree_same_as_captured(t, rs) == 0, "capture");
	if (share)
		TH_CHECK(hand_overs(rs) == 0, "hand-overs");
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	TH_CHECK(th_count_children() == 0, "%d children left", th_count_children());
	TH_CHECK(th_count_fds() == fds, "fds %d, were %d", th_count_fds(), fds);
	for (int i = 0; i < TOP; i++)
		TH_CHECK(kill(BASE + i, 0) < 0 && errno == ESRCH, "PID %d still in use", BASE + i);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_shared)
{
	ck_assert_int_eq(th_in_pidns_clean(restore_body, (void *)1), 0);
}
END_TEST

START_TEST(test_not_shared)
{
	ck_assert_int_eq(th_in_pidns_clean(restore_body, NULL), 0);
}
END_TEST

/* Leaf 15's PID is held by a session whose leader is gone: the check passes, its creation
 * fails, and the whole tree goes. */
static int taken_body(void *arg)
{
	struct pidtuple_tree *t = shared_tree();
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d, .flags = PIDTUPLE_FORK_SHARE_VM);
	int r, fds = th_count_fds(), st;
	pid_t member;

	(void)arg;
	TH_CHECK(t, "set-up");
	member = th_hold_as_session(BASE + 15);
	for (int i = 0; i < 1000 && member > 0 && getpgid(member) != member; i++)
		usleep(1000); /* its own group */
	TH_CHECK(member > 0 && getsid(member) == BASE + 15, "no session %d held", BASE + 15);
	fds = th_count_fds();
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == -EEXIST, "restore with PID %d held: %d (%s)", BASE + 15, r, d.message);
	TH_CHECK(rs == NULL, "a handle was returned");
	TH_CHECK(d.node == 15 && d.rule == PIDTUPLE_RULE_PID_TAKEN, "node %d, rule %s: %s", d.node,
		 pidtuple_rule_name(d.rule), d.message);
	TH_CHECK(th_count_children() == 1, "%d children", th_count_children());
	TH_CHECK(th_count_fds() == fds, "fds %d, were %d", th_count_fds(), fds);
	kill(member, SIGKILL);
	TH_CHECK(waitpid(member, &st, 0) == member, "reap the member");
	for (int i = 0; i < TOP; i++)
		if (i != 15)
			TH_CHECK(kill(BASE + i, 0) < 0 && errno == ESRCH, "PID %d in use",
				 BASE + i);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_taken)
{
	ck_assert_int_eq(th_in_pidns_clean(taken_body, NULL), 0);
}
END_TEST

/* A single fork ignores the flag: the child has an address space of its own. */
static int fork_body(void *arg)
{
	struct pidtuple *t = NULL;
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_SHARE_VM);
	int p[2], st = 0, r;
	char c;
	pid_t pid;

	(void)arg;
	TH_CHECK(pidtuple_parse("77", &t, NULL) == 0 && pipe2(p, O_CLOEXEC) == 0, "set-up");
	pid = pidtuple_fork(t, &o, NULL);
	if (pid == 0) {
		close(p[1]);
		(void)!read(p[0], &c, 1); /* until the caller has looked */
		_exit(0);
	}
	pidtuple_free(t);
	TH_CHECK(pid == 77, "fork: %d", pid);
	TH_CHECK(same_vm(getpid(), pid) == 0, "the child shares the caller's memory");
	close(p[1]);
	close(p[0]);
	while ((r = (int)waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	TH_CHECK(r == pid && WIFEXITED(st), "reap: %d, status %#x", r, st);
	return 0;
}

START_TEST(test_fork_ignores)
{
	ck_assert_int_eq(th_in_pidns_clean(fork_body, NULL), 0);
}
END_TEST

static Suite *shared_suite(void)
{
	Suite *s = suite_create("restore_shared");
	TCase *tc = tcase_create("shared");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_shared);
	tcase_add_test(tc, test_not_shared);
	tcase_add_test(tc, test_taken);
	tcase_add_test(tc, test_fork_ignores);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(shared_suite());
}
