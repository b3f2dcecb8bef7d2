/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What operators meet (docs/reliability.md): a restorer killed at every phase of a tree
 * restore, two restorers racing for the same PIDs, a restorer racing a plain fork() flood, and
 * resource limits reached mid-tree. Each test runs in a private PID namespace whose init is the
 * test: whatever the library leaves behind is re-parented to it, so "nothing left" is a count
 * of its children (and of its descriptors) once the dust has settled.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

TH_LSAN_EXPLICIT_ONLY

#define TREE_NODES 300

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
	struct timespec ts = { (time_t)(ms / 1e3),
			       (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Reaps what has exited until no child is left or @ms pass; returns the children left. */
static int settle(double ms)
{
	double end = now_ms() + ms;
	int left;

	for (;;) {
		th_reap_exited();
		left = th_count_children();
		if (left <= 0 || now_ms() > end)
			return left;
		sleep_ms(5);
	}
}

/* Names the first processes of the tree still there: their state and where they wait. */
static void print_left(void)
{
	int shown = 0;

	for (int i = 0; i < TREE_NODES && shown < 5; i++) {
		char path[64], st[160] = "", wchan[64] = "";
		int pidfd = th_pidfd_open(1000 + i, 0), outer = -1, fd;

		if (pidfd < 0)
			continue;
		outer = th_proc_pid(pidfd);
		close(pidfd);
		snprintf(path, sizeof(path), "/proc/%d/stat", outer);
		st[0] = 0;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			ssize_t n = read(fd, st, sizeof(st) - 1);

			st[n > 0 ? n : 0] = 0;
			close(fd);
		}
		snprintf(path, sizeof(path), "/proc/%d/wchan", outer);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			ssize_t n = read(fd, wchan, sizeof(wchan) - 1);

			wchan[n > 0 ? n : 0] = 0;
			close(fd);
		}
		fprintf(stderr, "  node %d left: %.50s wchan %s\n", i, st, wchan);
		shown++;
	}
}

/*
 * A tree of @n HOLD nodes, fan-out 4, PIDs @base + i; node 1's subtree lives in a namespace
 * of its own when @nested, so the kill reaches across a namespace boundary too.
 */
static struct pidtuple_tree *hold_tree(int n, pid_t base, bool nested)
{
	struct pidtuple_tree *t = NULL;
	bool *inner = calloc((size_t)n, sizeof(*inner));

	if (!inner || pidtuple_tree_new(&t) < 0)
		abort();
	for (int i = 0; i < n; i++) {
		int parent = i ? (i - 1) / 4 : -1;
		pid_t pids[2] = { base + i, i };
		struct pidtuple *tup = NULL;

		inner[i] = nested && (i == 1 || (i > 1 && inner[parent]));
		if (i == 1 && nested)
			pids[1] = 1;
		if (pidtuple_from_ids(pids, inner[i] ? 2 : 1, &tup) < 0)
			abort();
		{
			PIDTUPLE_OPTS(pidtuple_node, nd, .parent = parent, .tuple = tup,
				      .kind = PIDTUPLE_NODE_HOLD,
				      .flags = i == 1 && nested ? PIDTUPLE_NODE_NEWPID : 0);

			if (pidtuple_tree_add(t, &nd) != i)
				abort();
		}
		pidtuple_free(tup);
	}
	free(inner);
	return t;
}

/* ---- a restorer that dies ------------------------------------------------------------ */

enum phase {
	PHASE_CREATING, /* killed @delay ms into pidtuple_tree_restore() */
	PHASE_BARRIER,	/* killed while the tree waits at the barrier */
	PHASE_RELEASE,	/* killed @delay ms after pidtuple_restore_release() was called */
	PHASE_HAND_OVER /* killed @delay ms after pidtuple_restore_hand_over() was called */
};

static const char *const phase_names[] = { "creating", "barrier", "release", "hand-over" };

struct kill_case {
	enum phase phase;
	double delay_ms;
};

/* The restorer: restores, says on @fd when it reaches @phase, and waits to be killed. */
static void __attribute__((noreturn)) restorer(enum phase phase, int fd)
{
	struct pidtuple_tree *t = hold_tree(TREE_NODES, 1000, true);
	struct pidtuple_restore *rs = NULL;
	char *argv[] = { "sleep", "1000", NULL };
	char c = 'r';

	if (write(fd, &c, 1) != 1 || pidtuple_tree_restore(t, NULL, &rs) < 0)
		_exit(1);
	if (phase >= PHASE_BARRIER && phase != PHASE_HAND_OVER && write(fd, &c, 1) != 1)
		_exit(2);
	if (phase >= PHASE_RELEASE && pidtuple_restore_release(rs) < 0)
		_exit(3);
	if (phase == PHASE_HAND_OVER &&
	    (write(fd, &c, 1) != 1 ||
	     pidtuple_restore_hand_over(rs, TREE_NODES - 1, "/bin/sleep", argv, NULL) < 0))
		_exit(4);
	for (;;)
		pause();
}

/* How many of the tree's processes run (the root's number is 1000 here, the rest follow). */
static int tree_alive(void)
{
	int n = 0;

	for (int i = 0; i < TREE_NODES; i++)
		n += kill(1000 + i, 0) == 0;
	return n;
}

/* Waits until the tree's count holds still for 300 ms (or 10 s pass); returns it. */
static int tree_settled(void)
{
	double end = now_ms() + 10000, still = now_ms();
	int last = -1;

	for (;;) {
		int n;

		th_reap_exited();
		n = tree_alive();
		if (n != last)
			still = now_ms();
		last = n;
		if (now_ms() - still > 300 || now_ms() > end)
			return n;
		sleep_ms(10);
	}
}

/*
 * Before the release, the whole tree goes when the restorer dies; once the release has
 * begun, the whole tree stays (a released tree is the caller's, as after
 * pidtuple_restore_free()). Never part of it.
 */
static int killed_body(void *arg)
{
	const struct kill_case *kc = arg;
	int p[2], alive, st;
	pid_t r;
	char c = 0;

	TH_CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	fflush(NULL);
	r = fork();
	TH_CHECK(r >= 0, "fork");
	if (r == 0) {
		close(p[0]);
		restorer(kc->phase, p[1]);
	}
	close(p[1]);
	TH_CHECK(read(p[0], &c, 1) == 1, "the restorer did not start");
	if (kc->phase != PHASE_CREATING)
		TH_CHECK(read(p[0], &c, 1) == 1, "the restorer failed before %s",
			 phase_names[kc->phase]);
	sleep_ms(kc->delay_ms);
	kill(r, SIGKILL);
	TH_CHECK(waitpid(r, &st, 0) == r, "reap the restorer");
	close(p[0]);
	alive = tree_settled();
	if (alive != 0 && alive != TREE_NODES)
		print_left();
	TH_CHECK(alive == 0 || alive == TREE_NODES, "killed while %s after %.1f ms: %d of %d left",
		 phase_names[kc->phase], kc->delay_ms, alive, TREE_NODES);
	TH_CHECK(kc->phase >= PHASE_RELEASE || alive == 0,
		 "killed while %s after %.1f ms: the unreleased tree is still there",
		 phase_names[kc->phase], kc->delay_ms);
	TH_CHECK(kc->phase != PHASE_HAND_OVER || alive == TREE_NODES,
		 "killed after the release: the released tree is gone");
	kill(-1, SIGKILL); /* everything in this namespace but its init */
	TH_CHECK(settle(5000) == 0, "processes left after the clean-up");
	return 0;
}

static const struct kill_case kill_cases[] = {
	{ PHASE_CREATING, 0 },	{ PHASE_CREATING, 1 },	 { PHASE_CREATING, 3 },
	{ PHASE_CREATING, 6 },	{ PHASE_CREATING, 10 },	 { PHASE_CREATING, 20 },
	{ PHASE_CREATING, 35 }, { PHASE_CREATING, 60 },	 { PHASE_BARRIER, 0 },
	{ PHASE_BARRIER, 5 },	{ PHASE_RELEASE, 0 },	 { PHASE_RELEASE, 0.05 },
	{ PHASE_RELEASE, 0.2 }, { PHASE_RELEASE, 0.5 },	 { PHASE_RELEASE, 1 },
	{ PHASE_RELEASE, 3 },	{ PHASE_HAND_OVER, 0 },	 { PHASE_HAND_OVER, 0.5 },
	{ PHASE_HAND_OVER, 2 }, { PHASE_HAND_OVER, 10 },
};

START_TEST(test_killed_restorer)
{
	const struct kill_case *kc = &kill_cases[_i];

	ck_assert_msg(th_in_pidns_clean(killed_body, (void *)kc) == 0, "phase %s, %.0f ms",
		      phase_names[kc->phase], kc->delay_ms);
}
END_TEST

/* ---- racing restores ----------------------------------------------------------------- */

struct race_result {
	_Atomic int ready; /* racers at the start line */
	_Atomic int done;  /* racers back from pidtuple_tree_restore() */
	_Atomic int leave; /* the test has looked: winners may end their trees */
	int err[2];
	uint32_t rule[2];
	int32_t node[2];
};

/* Restores an 80-node tree at @base once both racers are ready; reports in @res. */
static void __attribute__((noreturn))
racer(struct race_result *res, int me, pid_t base, uint64_t flags)
{
	struct pidtuple_tree *t = hold_tree(80, base, false);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = flags, .diag = &d);

	atomic_fetch_add(&res->ready, 1);
	while (atomic_load(&res->ready) < 2)
		;
	res->err[me] = pidtuple_tree_restore(t, &o, &rs);
	res->rule[me] = d.rule;
	res->node[me] = d.node;
	atomic_fetch_add(&res->done, 1);
	while (!atomic_load(&res->leave))
		sleep_ms(1);
	if (rs) {
		pidtuple_restore_kill(rs);
		pidtuple_restore_free(rs);
	}
	pidtuple_tree_free(t);
	_exit(0);
}

/* Checks one racer's outcome: a win, or -EEXIST naming the rule and a node. */
static int race_outcome(const struct race_result *res, int i, int round)
{
	if (res->err[i] == 0)
		return 0;
	TH_CHECK(res->err[i] == -EEXIST && res->rule[i] == PIDTUPLE_RULE_PID_TAKEN &&
			 res->node[i] >= 0,
		 "round %d, racer %d: %s, rule %u, node %d", round, i,
		 pidtuple_strerror(res->err[i]), res->rule[i], res->node[i]);
	return 0;
}

/* Two restorers want PIDs 2040-2079 at once: one tree wins whole, the other is refused. */
static int race_body(void *arg)
{
	uint64_t flags = (uintptr_t)arg;
	struct race_result *res =
		mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int wins, total = 0;
	pid_t r[2];

	TH_CHECK(res != MAP_FAILED, "mmap");
	for (int round = 0; round < 10; round++) {
		memset(res, 0, sizeof(*res));
		fflush(NULL);
		for (int i = 0; i < 2; i++) {
			r[i] = fork();
			TH_CHECK(r[i] >= 0, "fork");
			if (r[i] == 0)
				racer(res, i, 2000 + 40 * i, flags);
		}
		while (atomic_load(&res->done) < 2)
			sleep_ms(1);
		wins = (res->err[0] == 0) + (res->err[1] == 0);
		atomic_store(&res->leave, 1);
		for (int i = 0; i < 2; i++)
			TH_CHECK(th_wait_status(r[i]) == 0, "racer %d", i);
		TH_CHECK(settle(3000) == 0, "round %d: processes left", round);
		for (int i = 0; i < 2; i++)
			if (race_outcome(res, i, round))
				return 1;
		TH_CHECK(wins <= 1, "round %d: both trees won", round);
		if (flags & PIDTUPLE_FORK_LOCK)
			TH_CHECK(wins == 1, "round %d: no tree won under the lock", round);
		total += wins;
	}
	fprintf(stderr, "race%s: %d of 10 rounds had a winner\n",
		flags & PIDTUPLE_FORK_LOCK ? " under the lock" : "", total);
	munmap(res, sizeof(*res));
	return 0;
}

START_TEST(test_race)
{
	uint64_t flags = _i ? PIDTUPLE_FORK_LOCK : 0;

	ck_assert_int_eq(th_in_pidns_clean(race_body, (void *)(uintptr_t)flags), 0);
}
END_TEST

/* A plain fork() flood takes PIDs the tree wants: the tree fails cleanly or wins whole. */
static int flood_body(void *arg)
{
	int outcomes[2] = { 0, 0 };

	(void)arg;
	for (int round = 0; round < 20; round++) {
		struct pidtuple_tree *t = hold_tree(60, 300 + 7 * round, false);
		struct pidtuple_restore *rs = NULL;
		struct pidtuple_diag d = { .sz = sizeof(d) };
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
		pid_t flood;
		int r;

		fflush(NULL);
		flood = fork();
		TH_CHECK(flood >= 0, "fork");
		if (flood == 0) {
			/* Children that exit at once: PIDs taken and given back all the time. */
			for (;;) {
				pid_t c = fork();

				if (c == 0)
					_exit(0);
				if (c > 0)
					waitpid(c, NULL, 0);
			}
		}
		sleep_ms(2);
		r = pidtuple_tree_restore(t, &o, &rs);
		kill(flood, SIGKILL);
		TH_CHECK(waitpid(flood, NULL, 0) == flood, "reap the flood");
		if (r == 0) {
			TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
			pidtuple_restore_free(rs);
		} else {
			TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.node >= 0,
				 "round %d: %s, rule %u, node %d: %s", round, pidtuple_strerror(r),
				 d.rule, d.node, d.message);
		}
		outcomes[r == 0]++;
		pidtuple_tree_free(t);
		TH_CHECK(settle(3000) == 0, "round %d: processes left", round);
	}
	fprintf(stderr, "fork flood: %d trees won, %d refused with pid-taken\n", outcomes[1],
		outcomes[0]);
	return 0;
}

START_TEST(test_fork_flood)
{
	ck_assert_int_eq(th_in_pidns_clean(flood_body, NULL), 0);
}
END_TEST

/* ---- limits ---------------------------------------------------------------------------- */

/*
 * RLIMIT_NPROC reached mid-tree, as an unprivileged owner meets it: root and CAP_SYS_ADMIN in
 * the first user namespace ignore the limit, so the restorer becomes nobody, makes a user and a
 * PID namespace of its own (where it may use set_tid) and restores there: the kernel refuses a
 * fork part-way, the error names a node, and nothing is left.
 */
static int nproc_restorer(void)
{
	struct pidtuple_tree *t = hold_tree(40, 100, false);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int e = pidtuple_tree_restore(t, &o, &rs);

	if (e == 0)
		return 11;
	pidtuple_tree_free(t);
	fprintf(stderr, "RLIMIT_NPROC 12: %s, node %d: %s\n", pidtuple_strerror(e), d.node,
		d.message);
	if (e != -EAGAIN || d.node <= 0) {
		fprintf(stderr, "under RLIMIT_NPROC: %s, node %d: %s\n", pidtuple_strerror(e),
			d.node, d.message);
		return 12;
	}
	return settle(3000) == 0 ? 0 : 13;
}

static int nproc_body(void *arg)
{
	struct rlimit rl = { 12, 12 };
	pid_t r, init;
	int st;

	(void)arg;
	fflush(NULL);
	r = fork();
	TH_CHECK(r >= 0, "fork");
	if (r == 0) {
		if (setrlimit(RLIMIT_NPROC, &rl) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(10);
		if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
			_exit(TH_SKIP); /* no unprivileged user namespaces here */
		init = fork();
		if (init == 0)
			_exit(nproc_restorer());
		_exit(init > 0 ? th_wait_status(init) : 14);
	}
	st = th_wait_status(r);
	if (st == TH_SKIP)
		fprintf(stderr, "RLIMIT_NPROC: no unprivileged user namespaces, not tested\n");
	else
		TH_CHECK(st == 0, "restorer under RLIMIT_NPROC: %d", st);
	TH_CHECK(settle(3000) == 0, "processes left");
	return 0;
}

START_TEST(test_rlimit_nproc)
{
	ck_assert_int_eq(th_in_pidns_clean(nproc_body, NULL), 0);
}
END_TEST

/* The namespace's pid_max (6.14+): a tree whose PIDs pass it is refused up front by the check;
 * one that fits is restored. */
static int pid_max_body(void *arg)
{
	struct pidtuple_tree *t = hold_tree(20, 900, false);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int fd, r;

	(void)arg;
	if (!th_kernel_at_least(6, 14))
		return 0; /* one global pid_max before 6.14: not ours to lower */
	fd = open("/proc/sys/kernel/pid_max", O_WRONLY | O_CLOEXEC);
	TH_CHECK(fd >= 0, "open pid_max: %m");
	TH_CHECK(write(fd, "910", 3) == 3, "lower pid_max: %m");
	close(fd);
	r = pidtuple_tree_restore(t, &o, &rs);
	fprintf(stderr, "pid_max 910: %s, node %d: %s\n", pidtuple_strerror(r), d.node, d.message);
	TH_CHECK(r < 0 && d.node >= 10, "restore past pid_max: %s, node %d: %s",
		 pidtuple_strerror(r), d.node, d.message);
	TH_CHECK(settle(3000) == 0, "processes left");
	pidtuple_tree_free(t);
	t = hold_tree(8, 900, false);
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "restore under pid_max: %s: %s", pidtuple_strerror(r), d.message);
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	TH_CHECK(settle(3000) == 0, "processes left");
	return 0;
}

START_TEST(test_pid_max)
{
	ck_assert_int_eq(th_in_pidns_clean(pid_max_body, NULL), 0);
}
END_TEST

/* A cgroup's pids.max reached mid-tree: -EAGAIN with the node that could not be made. */
static int pids_max_body(void *arg)
{
	const char *cg = arg;
	char path[256];
	struct pidtuple_tree *t = hold_tree(30, 700, false);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int fd, r;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	TH_CHECK(fd >= 0 && write(fd, "0", 1) == 1, "join %s: %m", cg);
	close(fd);
	r = pidtuple_tree_restore(t, &o, &rs);
	fprintf(stderr, "cgroup pids.max 12: %s, node %d: %s\n", pidtuple_strerror(r), d.node,
		d.message);
	TH_CHECK(r == -EAGAIN && d.node > 0, "restore past pids.max: %s, node %d: %s",
		 pidtuple_strerror(r), d.node, d.message);
	pidtuple_tree_free(t);
	TH_CHECK(settle(3000) == 0, "processes left");
	return 0;
}

/* A pids cgroup of our own: cgroup2 where it has the controller, else the v1 hierarchy. */
static int make_pids_cgroup(char *cg, size_t size)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/pids" };

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		char path[256];
		int fd;

		snprintf(cg, size, "%s/pidtuple-test-%d", roots[i], (int)getpid());
		if (mkdir(cg, 0755) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/pids.max", cg);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		/* The namespace's init and 11 more: the tree fails at its twelfth process. */
		if (fd >= 0 && write(fd, "12", 2) == 2) {
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		rmdir(cg);
	}
	return -1;
}

START_TEST(test_cgroup_pids_max)
{
	char cg[128];
	int r;

	if (make_pids_cgroup(cg, sizeof(cg)) < 0) {
		fprintf(stderr, "cgroup pids.max: no pids controller to use here, not tested\n");
		return;
	}
	r = th_in_pidns_clean(pids_max_body, cg);
	rmdir(cg);
	ck_assert_int_eq(r, 0);
}
END_TEST

static Suite *reliability_suite(void)
{
	Suite *s = suite_create("reliability");
	TCase *tc = tcase_create("killed");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_killed_restorer, 0,
			    (int)(sizeof(kill_cases) / sizeof(kill_cases[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("race");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_race, 0, 2);
	tcase_add_test(tc, test_fork_flood);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_rlimit_nproc);
	tcase_add_test(tc, test_pid_max);
	tcase_add_test(tc, test_cgroup_pids_max);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(reliability_suite());
}
