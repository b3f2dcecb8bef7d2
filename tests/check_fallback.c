/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ns_last_pid fallback, its lock, feature reasons and next-PID control, with clone3 hidden
 * by a seccomp filter (libseccomp) the way container runtimes hide it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

/* Makes clone3() fail with @err in this process and its future children. */
static int hide_clone3(int err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (!ctx)
		return -ENOMEM;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), SCMP_SYS(clone3), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static struct pidtuple *tuple(const char *text)
{
	struct pidtuple *t = NULL;

	return pidtuple_parse(text, &t, NULL) == 0 ? t : NULL;
}

/* Forks @text; the child exits 0 only when its raw getpid() is the innermost PID. */
static pid_t fork_checked(const char *text, struct pidtuple_fork_opts *o, int *pidfd)
{
	struct pidtuple *t = tuple(text);
	pid_t want = pidtuple_get(t, 0), pid;

	pid = pidtuple_fork(t, o, pidfd);
	if (pid == 0)
		_exit(th_raw_getpid() == want ? 0 : 1);
	pidtuple_free(t);
	return pid;
}

static int one_level_through_filter(void *arg)
{
	int err = *(int *)arg, fds = th_count_fds(), pidfd = -1;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	struct pidtuple *rt;
	char buf[64];
	pid_t pid;

	TH_CHECK(pidtuple_features() & PIDTUPLE_FEATURE_SET_TID, "set_tid before the filter");
	TH_CHECK(hide_clone3(err) == 0, "seccomp filter");
	/* The cache still says set_tid: the fork meets the filter, probes again, falls back. */
	pid = fork_checked("4242", &o, &pidfd);
	TH_CHECK(pid == 4242, "fallback fork gave %d: %s", pid, d.message);
	TH_CHECK(pidfd >= 0, "pidfd");
	TH_CHECK(pidtuple_of_pidfd(pidfd, &rt) == 0, "read back");
	pidtuple_format(rt, buf, sizeof(buf));
	TH_CHECK(strcmp(buf, "4242") == 0, "read back %s", buf);
	pidtuple_free(rt);
	TH_CHECK(th_wait_status(pid) == 0, "child saw another PID");
	close(pidfd);

	TH_CHECK(!(pidtuple_features() & PIDTUPLE_FEATURE_SET_TID), "set_tid after the filter");
	TH_CHECK(pidtuple_feature_error(PIDTUPLE_FEATURE_SET_TID) == -err, "feature error %d",
		 pidtuple_feature_error(PIDTUPLE_FEATURE_SET_TID));
	TH_CHECK(strstr(pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID), "seccomp"),
		 "reason names the filter: %s", pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID));

	/* A second fork goes straight to the fallback. */
	pid = fork_checked("4243", &o, NULL);
	TH_CHECK(pid == 4243 && th_wait_status(pid) == 0, "second fallback fork %d", pid);

	/* CLONE_NEWPID with just {1}: the first process of a new namespace is its init. */
	o.clone_flags = CLONE_NEWPID;
	pid = fork_checked("1", &o, NULL);
	TH_CHECK(pid > 0 && th_wait_status(pid) == 0, "newpid init %d: %s", pid, d.message);

	/* More than one pinned level cannot be steered. */
	pid = fork_checked("4244/1", &o, NULL);
	TH_CHECK(pid == -EOPNOTSUPP, "two levels: %d", pid);
	TH_CHECK(d.rule == PIDTUPLE_RULE_UNSUPPORTED && strstr(d.message, "2 levels"), "%s",
		 d.message);

	/* Without the fallback, the filter is named, not a missing privilege. */
	o.clone_flags = 0;
	o.flags = PIDTUPLE_FORK_NO_FALLBACK;
	pid = fork_checked("4245", &o, NULL);
	TH_CHECK(pid == -EOPNOTSUPP, "no fallback: %d", pid);
	TH_CHECK(d.rule == PIDTUPLE_RULE_UNSUPPORTED && d.kernel_err == -err, "rule %u kerr %d",
		 d.rule, d.kernel_err);
	TH_CHECK(strstr(d.message, "seccomp"), "message names the filter: %s", d.message);

	TH_CHECK(th_count_children() == 0, "children left");
	TH_CHECK(th_count_fds() == fds, "fds %d -> %d", fds, th_count_fds());
	return 0;
}

START_TEST(test_fallback_enosys)
{
	int err = ENOSYS;

	ck_assert_int_eq(th_in_pidns(one_level_through_filter, &err), 0);
}
END_TEST

START_TEST(test_fallback_eperm_filter)
{
	int err = EPERM;

	ck_assert_int_eq(th_in_pidns(one_level_through_filter, &err), 0);
}
END_TEST

static int taken_and_range(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	pid_t holder, pid;
	char text[32];

	(void)arg;
	TH_CHECK(hide_clone3(ENOSYS) == 0, "seccomp filter");
	/* A taken PID is refused before anything is forked, never retried. */
	holder = fork_checked("300", &o, NULL);
	TH_CHECK(holder == 300, "holder %d", holder);
	pid = fork_checked("300", &o, NULL);
	TH_CHECK(pid == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN, "taken: %d rule %u", pid,
		 d.rule);
	TH_CHECK(th_wait_status(holder) == 0, "holder");
	/* Beyond pid_max. */
	snprintf(text, sizeof(text), "%d", 4194304);
	pid = fork_checked(text, &o, NULL);
	TH_CHECK(pid == -EINVAL && d.rule == PIDTUPLE_RULE_PID_RANGE, "range: %d rule %u (%s)", pid,
		 d.rule, d.message);
	/* Children go to another namespace after unshare: ns_last_pid cannot reach it. */
	TH_CHECK(unshare(CLONE_NEWPID) == 0, "unshare");
	pid = fork_checked("1", &o, NULL);
	TH_CHECK(pid == -EOPNOTSUPP && d.rule == PIDTUPLE_RULE_UNSUPPORTED, "unshared: %d", pid);
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_fallback_taken_range_unshared)
{
	ck_assert_int_eq(th_in_pidns(taken_and_range, NULL), 0);
}
END_TEST

static int readonly_proc_sys(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	pid_t pid;

	(void)arg;
	TH_CHECK(unshare(CLONE_NEWNS) == 0, "unshare mount ns");
	TH_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private");
	TH_CHECK(mount("/proc/sys", "/proc/sys", NULL, MS_BIND | MS_REC, NULL) == 0, "bind");
	TH_CHECK(mount(NULL, "/proc/sys", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) == 0,
		 "remount ro: %s", strerror(errno));
	TH_CHECK(hide_clone3(ENOSYS) == 0, "seccomp filter");
	pid = fork_checked("555", &o, NULL);
	TH_CHECK(pid == -EROFS, "read-only /proc/sys: %d", pid);
	TH_CHECK(d.rule == PIDTUPLE_RULE_FALLBACK && strstr(d.message, "read-only"), "%s",
		 d.message);
	TH_CHECK(pidtuple_set_next_pid(1000, NULL) == -EROFS, "set_next_pid");
	TH_CHECK(!(pidtuple_features() & PIDTUPLE_FEATURE_NS_LAST_PID), "feature bit");
	/* The set_tid path's lock needs only a read-only descriptor. */
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_fallback_readonly_proc_sys)
{
	ck_assert_int_eq(th_in_pidns(readonly_proc_sys, NULL), 0);
}
END_TEST

/* ---- the race: processes and threads forking through the fallback at once ---- */

#define RACE_PROCS 3
#define RACE_THREADS 3
#define RACE_FORKS 160 /* per thread: 3 * 3 * 160 = 1440 attempts */

struct race_counts {
	atomic_int ok, taken, wrong, other;
};

struct race_arg {
	int worker;
	struct race_counts *c;
	pthread_barrier_t *start;
};

static void *race_thread(void *p)
{
	struct race_arg *a = p;

	/* Thread creation takes PIDs without the lock: start forking only when all exist. */
	pthread_barrier_wait(a->start);

	for (int i = 0; i < RACE_FORKS; i++) {
		/* Even iterations: a PID only this thread uses; odd: a small shared pool. */
		pid_t want = i % 2 ? 2000 + (i * 7 + a->worker) % 16 : 3000 + a->worker * 200 + i;
		char text[16];
		pid_t pid;

		snprintf(text, sizeof(text), "%d", (int)want);
		pid = fork_checked(text, NULL, NULL);
		if (pid == want && th_wait_status(pid) == 0)
			atomic_fetch_add(&a->c->ok, 1);
		else if (pid > 0)
			atomic_fetch_add(&a->c->wrong, 1), th_wait_status(pid);
		else if (pid == -EEXIST)
			atomic_fetch_add(&a->c->taken, 1);
		else
			atomic_fetch_add(&a->c->other, 1),
				fprintf(stderr, "race: %d for %d\n", pid, (int)want);
	}
	return NULL;
}

static int race_process(int proc, int report, int ready, int go)
{
	struct race_counts c = { 0 };
	struct race_arg args[RACE_THREADS];
	pthread_t th[RACE_THREADS];
	pthread_barrier_t start;
	int fds = th_count_fds(), counts[5];
	char byte = 0;

	pthread_barrier_init(&start, NULL, RACE_THREADS + 1);
	for (int i = 0; i < RACE_THREADS; i++) {
		args[i] = (struct race_arg){ .worker = proc * RACE_THREADS + i,
					     .c = &c,
					     .start = &start };
		pthread_create(&th[i], NULL, race_thread, &args[i]);
	}
	(void)!write(ready, &byte, 1);
	(void)!read(go, &byte, 1);
	pthread_barrier_wait(&start);
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	counts[0] = c.ok;
	counts[1] = c.taken;
	counts[2] = c.wrong;
	counts[3] = c.other;
	counts[4] = th_count_fds() - fds + th_count_children();
	(void)!write(report, counts, sizeof(counts));
	return 0;
}

static int race(void *arg)
{
	int pipefd[2], ready[2], go[2], total[5] = { 0 };
	pid_t procs[RACE_PROCS];
	char byte[RACE_PROCS] = { 0 };

	(void)arg;
	TH_CHECK(hide_clone3(ENOSYS) == 0, "seccomp filter");
	TH_CHECK(pipe(pipefd) == 0 && pipe(ready) == 0 && pipe(go) == 0, "pipe");
	for (int p = 0; p < RACE_PROCS; p++) {
		procs[p] = fork();
		if (procs[p] == 0)
			_exit(race_process(p, pipefd[1], ready[1], go[0]));
	}
	close(pipefd[1]);
	/* Everyone forks at once, once no process or thread is still being created. */
	for (int p = 0; p < RACE_PROCS; p++)
		TH_CHECK(read(ready[0], byte, 1) == 1, "ready");
	TH_CHECK(write(go[1], byte, RACE_PROCS) == RACE_PROCS, "go");
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	for (int p = 0; p < RACE_PROCS; p++) {
		int counts[5];

		TH_CHECK(read(pipefd[0], counts, sizeof(counts)) == sizeof(counts), "report");
		for (int i = 0; i < 5; i++)
			total[i] += counts[i];
	}
	close(pipefd[0]);
	for (int p = 0; p < RACE_PROCS; p++)
		TH_CHECK(th_wait_status(procs[p]) == 0, "worker");
	fprintf(stderr, "race: %d exact, %d refused as taken, %d wrong, %d other, %d leaked\n",
		total[0], total[1], total[2], total[3], total[4]);
	TH_CHECK(total[0] + total[1] + total[2] + total[3] ==
			 RACE_PROCS * RACE_THREADS * RACE_FORKS,
		 "count");
	TH_CHECK(total[0] > 1000, "exact forks: %d", total[0]);
	TH_CHECK(total[2] == 0, "children with a wrong PID: %d", total[2]);
	TH_CHECK(total[3] == 0, "unexpected errors: %d", total[3]);
	TH_CHECK(total[4] == 0, "leaked fds or children: %d", total[4]);
	TH_CHECK(th_count_children() == 0, "zombies");
	return 0;
}

START_TEST(test_fallback_race)
{
	ck_assert_int_eq(th_in_pidns(race, NULL), 0);
}
END_TEST

/* ---- an outside forker that ignores the lock ---- */

static int outside_forker(void *arg)
{
	int ok = 0, mismatch = 0, taken = 0, fds;
	pid_t stray;

	(void)arg;
	TH_CHECK(hide_clone3(ENOSYS) == 0, "seccomp filter");
	fds = th_count_fds();
	stray = fork();
	if (stray == 0) {
		/* Forks as fast as it can, without the lock. */
		for (;;) {
			pid_t p = fork();

			if (p == 0)
				_exit(0);
			if (p > 0)
				waitpid(p, NULL, 0);
		}
	}
	for (int i = 0; i < 400; i++) {
		PIDTUPLE_OPTS(pidtuple_diag, d);
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
		char text[16];
		pid_t want = 10000 + i * 3, pid;

		snprintf(text, sizeof(text), "%d", (int)want);
		pid = fork_checked(text, &o, NULL);
		if (pid > 0) {
			TH_CHECK(pid == want, "a wrong child was kept: %d for %d", pid, want);
			TH_CHECK(th_wait_status(pid) == 0, "child saw another PID");
			ok++;
		} else if (pid == -EBUSY) {
			TH_CHECK(d.rule == PIDTUPLE_RULE_PID_MISMATCH, "rule %u", d.rule);
			mismatch++;
		} else {
			TH_CHECK(pid == -EEXIST, "unexpected %d: %s", pid, d.message);
			taken++;
		}
		/* Every mismatched child was reaped: only the stray forker is left. */
		TH_CHECK(th_count_children() <= 1, "children %d", th_count_children());
	}
	kill(stray, SIGKILL);
	th_wait_status(stray);
	/* The stray forker's last child may have been orphaned to us (we are init). */
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	fprintf(stderr, "outside forker: %d exact, %d mismatches detected, %d taken\n", ok,
		mismatch, taken);
	TH_CHECK(ok > 0, "no fork succeeded");
	TH_CHECK(th_count_children() == 0, "children left");
	TH_CHECK(th_count_fds() == fds, "fds");
	return 0;
}

START_TEST(test_fallback_outside_forker)
{
	ck_assert_int_eq(th_in_pidns(outside_forker, NULL), 0);
}
END_TEST

/* ---- locks: the embedder's callbacks, and the set_tid path under the lock ---- */

static int lock_calls, unlock_calls;

static int my_lock(void *arg)
{
	(void)arg;
	lock_calls++;
	return 0;
}

static void my_unlock(void *arg)
{
	(void)arg;
	unlock_calls++;
}

static int locks(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d, .flags = PIDTUPLE_FORK_LOCK,
		      .lock = my_lock, .unlock = my_unlock);
	pid_t pid;
	int next;

	(void)arg;
	/* set_tid path with the lock. */
	pid = fork_checked("700", &o, NULL);
	TH_CHECK(pid == 700 && th_wait_status(pid) == 0, "locked set_tid fork %d", pid);
	TH_CHECK(lock_calls == 1 && unlock_calls == 1, "callbacks %d/%d", lock_calls, unlock_calls);
	/* With flock() on ns_last_pid instead. */
	o.lock = NULL;
	o.unlock = NULL;
	pid = fork_checked("701", &o, NULL);
	TH_CHECK(pid == 701 && th_wait_status(pid) == 0, "flock set_tid fork %d", pid);
	/* Only one callback is an error. */
	o.lock = my_lock;
	TH_CHECK(fork_checked("702", &o, NULL) == -EINVAL, "lock without unlock");

	/* Next-PID control, read back. */
	o.unlock = my_unlock;
	next = pidtuple_set_next_pid(5000, &o);
	TH_CHECK(next == 5000, "set_next_pid %d", next);
	TH_CHECK(pidtuple_get_next_pid() == 5000, "get %d", pidtuple_get_next_pid());
	TH_CHECK(lock_calls == 2 && unlock_calls == 2, "callbacks %d/%d", lock_calls, unlock_calls);
	pid = fork();
	if (pid == 0)
		_exit(0);
	TH_CHECK(pid >= 5000, "an ordinary fork after set_next_pid got %d", pid);
	th_wait_status(pid);
	TH_CHECK(pidtuple_set_next_pid(0, NULL) == -EINVAL, "0");
	TH_CHECK(pidtuple_set_next_pid(4194304 + 2, NULL) == -EINVAL, "beyond pid_max");
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_locks_and_next_pid)
{
	ck_assert_int_eq(th_in_pidns(locks, NULL), 0);
}
END_TEST

START_TEST(test_feature_names)
{
	for (int i = 0; i < 10; i++) {
		uint64_t bit = 1ull << i;

		ck_assert_str_ne(pidtuple_feature_name(bit), "unknown");
		ck_assert_ptr_nonnull(pidtuple_feature_reason(bit));
		ck_assert_int_le(pidtuple_feature_error(bit), 0);
	}
	ck_assert_str_eq(pidtuple_feature_name(3), "unknown");
	ck_assert_str_eq(pidtuple_feature_name(1ull << 40), "unknown");
	ck_assert_int_eq(pidtuple_feature_error(0), -EINVAL);
	ck_assert_int_eq(pidtuple_feature_error(3), -EINVAL);
	ck_assert_str_eq(pidtuple_feature_reason(PIDTUPLE_FEATURE_CLONE3), "present");
	ck_assert_int_eq(pidtuple_feature_error(PIDTUPLE_FEATURE_SET_TID), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fallback");
	TCase *tc = tcase_create("fallback");

	th_require_privilege();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_feature_names);
	tcase_add_test(tc, test_fallback_enosys);
	tcase_add_test(tc, test_fallback_eperm_filter);
	tcase_add_test(tc, test_fallback_taken_range_unshared);
	tcase_add_test(tc, test_fallback_readonly_proc_sys);
	tcase_add_test(tc, test_fallback_race);
	tcase_add_test(tc, test_fallback_outside_forker);
	tcase_add_test(tc, test_locks_and_next_pid);
	suite_add_tcase(s, tc);
	return th_run_suite(s);
}
