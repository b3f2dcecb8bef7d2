/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a live process's tuple: by pid and by pidfd, at 1, 2 and 3 levels, relative to the
 * caller both when /proc belongs to an outer PID namespace (the default inside th_in_pidns())
 * and when it is the caller's own; and every way the reading can fail.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SENTINEL ((struct pidtuple *)(uintptr_t)0x5e5e5e5e)

TH_LSAN_EXPLICIT_ONLY

/* Reads @pid by pid and by a fresh pidfd, and (when given) by @pidfd; all must be @want. */
static int read_all_ways(pid_t pid, int pidfd, const char *want)
{
	struct pidtuple *t = NULL;
	int fd, r;

	r = pidtuple_of_pid(pid, &t);
	TH_CHECK(r == 0, "of_pid(%d): %s", (int)pid, pidtuple_strerror(r));
	TH_CHECK(th_tuple_is(t, want, "of_pid") == 0, "pid %d", (int)pid);
	pidtuple_free(t);

	fd = th_pidfd_open(pid, 0);
	TH_CHECK(fd >= 0, "pidfd_open(%d): %m", (int)pid);
	t = NULL;
	r = pidtuple_of_pidfd(fd, &t);
	close(fd);
	TH_CHECK(r == 0, "of_pidfd(pidfd_open(%d)): %s", (int)pid, pidtuple_strerror(r));
	TH_CHECK(th_tuple_is(t, want, "of_pidfd") == 0, "pid %d", (int)pid);
	pidtuple_free(t);

	if (pidfd >= 0) {
		t = NULL;
		r = pidtuple_of_pidfd(pidfd, &t);
		TH_CHECK(r == 0, "of_pidfd(clone pidfd): %s", pidtuple_strerror(r));
		TH_CHECK(th_tuple_is(t, want, "of_pidfd (clone)") == 0, "pid %d", (int)pid);
		pidtuple_free(t);
	}
	return 0;
}

/* A child that lives until the write end of its pipe is closed. */
struct hold {
	int rfd, wfd;
};

static int hold_child(void *arg)
{
	const struct hold *h = arg;
	char c;

	close(h->wfd);
	while (read(h->rfd, &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* ---- the read scenarios -------------------------------------------------------------- */

struct scenario {
	const char *name;
	int depth;	   /* nested namespaces to setns() into first */
	const char *tuple; /* to create the child with; NULL: read the caller itself */
	uint64_t clone_flags;
	const char *want;  /* as read back */
	bool kernel_outer; /* the caller's level is the kernel's choice: want is below it */
};

static const struct scenario scenarios[] = {
	{ "self", 0, NULL, 0, "1", false },
	{ "1 level", 0, "777", 0, "777", false },
	{ "2 levels via setns", 1, "778/50", 0, "778/50", false },
	{ "3 levels via setns", 2, "779/51/52", 0, "779/51/52", false },
	{ "2 levels, CLONE_NEWPID", 0, "780/1", CLONE_NEWPID, "780/1", false },
	{ "1 level, CLONE_NEWPID", 0, "1", CLONE_NEWPID, "1", true },
	{ "3 levels, 2 via setns and the kernel's choice", 2, "53/54", 0, "53/54", true },
};

struct read_arg {
	bool own_proc;
	const struct scenario *sc;
};

static int read_body(void *p)
{
	const struct read_arg *a = p;
	const struct scenario *sc = a->sc;
	struct pidtuple *t = NULL;
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = sc->clone_flags);
	struct hold h;
	char want[128];
	pid_t holder = 0, pid = 0;
	int self_ns, nsfd = -1, pidfd = -1, pfd[2], r;
	siginfo_t si;

	if (a->own_proc)
		TH_CHECK(th_mount_own_proc() == 0, "mounting /proc: %m");
	/* The premise: NSpid starts at /proc's namespace, the host's or ours. */
	TH_CHECK(th_nspid_entries() == (a->own_proc ? 1 : 2), "NSpid has %d entries",
		 th_nspid_entries());
	if (!sc->tuple)
		return read_all_ways(getpid(), -1, sc->want);

	self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	TH_CHECK(self_ns >= 0, "open own pid ns: %m");
	if (sc->depth) {
		holder = th_make_nested_ns(sc->depth, NULL, &nsfd);
		TH_CHECK(holder > 0, "th_make_nested_ns(%d): %s", sc->depth,
			 pidtuple_strerror(holder));
		TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
	}
	/* After the holders: they must not keep the write end open. */
	TH_CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %m");
	h = (struct hold){ pfd[0], pfd[1] };
	TH_CHECK(pidtuple_parse(sc->tuple, &t, NULL) == 0, "parse %s", sc->tuple);
	r = pidtuple_clone(t, hold_child, &h, &o, &pid, &pidfd);
	pidtuple_free(t);
	TH_CHECK(setns(self_ns, CLONE_NEWPID) == 0, "setns back: %m");
	close(self_ns);
	close(h.rfd);
	TH_CHECK(r == 0, "%s: clone: %s", sc->name, pidtuple_strerror(r));

	if (sc->kernel_outer)
		snprintf(want, sizeof(want), "%d/%s", (int)pid, sc->want);
	else
		snprintf(want, sizeof(want), "%s", sc->want);
	if (read_all_ways(pid, pidfd, want))
		return 1;

	close(h.wfd);
	TH_CHECK(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) == 0, "waitid: %m");
	TH_CHECK(si.si_code == CLD_EXITED && si.si_status == 0, "child status %d/%d", si.si_code,
		 si.si_status);
	/* Reaped: the pidfd now refers to nothing. */
	t = SENTINEL;
	r = pidtuple_of_pidfd(pidfd, &t);
	TH_CHECK(r == -ESRCH, "of_pidfd after reaping: %d", r);
	TH_CHECK(t == SENTINEL, "out-parameter written on failure");
	r = pidtuple_of_pid(pid, &t);
	TH_CHECK(r == -ESRCH, "of_pid after reaping: %d", r);
	close(pidfd);
	if (holder > 0) {
		close(nsfd);
		kill(holder, SIGKILL);
		th_kill_children();
	}
	return 0;
}

START_TEST(test_read)
{
	struct read_arg a = { _i >= (int)ARRAY_SIZE(scenarios),
			      &scenarios[_i % ARRAY_SIZE(scenarios)] };

	ck_assert_msg(th_in_pidns_leakfree(read_body, &a) == 0, "%s, /proc %s", a.sc->name,
		      a.own_proc ? "own" : "outer");
}
END_TEST

/* ---- a reader inside a nested namespace ---------------------------------------------- */

struct nested_reader_arg {
	int outer_pidfd; /* the test's init, outside the reader's namespace */
};

/* PID 1 of a child namespace: sees itself as "1", its parent not at all. */
static int nested_reader(void *p)
{
	const struct nested_reader_arg *a = p;
	struct pidtuple *t = SENTINEL;
	int r;

	r = pidtuple_of_pid(getpid(), &t);
	if (r != 0 || th_tuple_is(t, "1", "nested reader: self") != 0)
		return 10;
	pidtuple_free(t);
	t = SENTINEL;
	r = pidtuple_of_pidfd(a->outer_pidfd, &t);
	if (r != -ESRCH || t != SENTINEL) {
		fprintf(stderr, "nested reader: pidfd of an outer process: %d\n", r);
		return 11;
	}
	return 0;
}

static int nested_reader_body(void *p)
{
	bool own_proc = *(bool *)p;
	struct nested_reader_arg a;
	struct pidtuple *t = NULL;
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = CLONE_NEWPID);
	pid_t pid = 0;
	int status, r;

	if (own_proc)
		TH_CHECK(th_mount_own_proc() == 0, "mounting /proc: %m");
	a.outer_pidfd = th_pidfd_open(getpid(), 0);
	TH_CHECK(a.outer_pidfd >= 0, "pidfd_open(self): %m");
	TH_CHECK(pidtuple_parse("790/1", &t, NULL) == 0, "parse");
	r = pidtuple_clone(t, nested_reader, &a, &o, &pid, NULL);
	pidtuple_free(t);
	TH_CHECK(r == 0, "clone: %s", pidtuple_strerror(r));
	TH_CHECK(pid == 790, "pid %d", (int)pid);
	TH_CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
	TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nested reader status 0x%x",
		 status);
	close(a.outer_pidfd);
	return 0;
}

START_TEST(test_nested_reader)
{
	bool own_proc = _i;

	ck_assert_int_eq(th_in_pidns_leakfree(nested_reader_body, &own_proc), 0);
}
END_TEST

/* ---- failures ------------------------------------------------------------------------ */

static int bad_input_body(void *p)
{
	bool own_proc = *(bool *)p;
	struct pidtuple *t = SENTINEL;
	int pfd[2], fd, devnull;

	if (own_proc)
		TH_CHECK(th_mount_own_proc() == 0, "mounting /proc: %m");

	TH_CHECK(pidtuple_of_pid(0, &t) == -EINVAL, "pid 0");
	TH_CHECK(pidtuple_of_pid(-1, &t) == -EINVAL, "pid -1");
	TH_CHECK(pidtuple_of_pid(INT32_MIN, &t) == -EINVAL, "pid INT_MIN");
	TH_CHECK(pidtuple_of_pid(1, NULL) == -EINVAL, "NULL ret");
	/* A fresh namespace has no such process. */
	TH_CHECK(pidtuple_of_pid(30000, &t) == -ESRCH, "nonexistent pid");
	TH_CHECK(pidtuple_of_pid(INT32_MAX, &t) == -ESRCH, "pid INT_MAX");

	TH_CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %m");
	TH_CHECK(pidtuple_of_pidfd(pfd[0], &t) == -EBADF, "pipe read end");
	TH_CHECK(pidtuple_of_pidfd(pfd[1], &t) == -EBADF, "pipe write end");
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	TH_CHECK(devnull >= 0, "/dev/null: %m");
	TH_CHECK(pidtuple_of_pidfd(devnull, &t) == -EBADF, "/dev/null");
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	TH_CHECK(fd >= 0, "status: %m");
	TH_CHECK(pidtuple_of_pidfd(fd, &t) == -EBADF, "a /proc status file");
	close(fd);
	fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	TH_CHECK(fd >= 0, "ns: %m");
	TH_CHECK(pidtuple_of_pidfd(fd, &t) == -EBADF, "a namespace fd");
	close(fd);
	close(pfd[1]);
	TH_CHECK(pidtuple_of_pidfd(pfd[1], &t) == -EBADF, "closed fd");
	close(pfd[0]);
	close(devnull);
	TH_CHECK(pidtuple_of_pidfd(-1, &t) == -EBADF, "fd -1");
	TH_CHECK(pidtuple_of_pidfd(INT32_MIN, &t) == -EBADF, "fd INT_MIN");
	TH_CHECK(pidtuple_of_pidfd(1000000, &t) == -EBADF, "fd 1000000");
	fd = th_pidfd_open(getpid(), 0);
	TH_CHECK(fd >= 0, "pidfd_open: %m");
	TH_CHECK(pidtuple_of_pidfd(fd, NULL) == -EINVAL, "NULL ret");
	close(fd);
	TH_CHECK(t == SENTINEL, "out-parameter written on failure");
	return 0;
}

START_TEST(test_bad_input)
{
	bool own_proc = _i;

	ck_assert_int_eq(th_in_pidns_leakfree(bad_input_body, &own_proc), 0);
}
END_TEST

/* A process that was reaped before it could be read. */
static int reaped_body(void *p)
{
	struct pidtuple *t = NULL;
	pid_t pid;
	int pidfd = -1;

	(void)p;
	TH_CHECK(pidtuple_parse("4321", &t, NULL) == 0, "parse");
	pid = pidtuple_fork(t, NULL, &pidfd);
	if (pid == 0)
		_exit(0);
	pidtuple_free(t);
	TH_CHECK(pid == 4321, "fork: %d", (int)pid);
	TH_CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %m");
	t = SENTINEL;
	TH_CHECK(pidtuple_of_pidfd(pidfd, &t) == -ESRCH, "reaped child by pidfd");
	TH_CHECK(pidtuple_of_pid(pid, &t) == -ESRCH, "reaped child by pid");
	TH_CHECK(t == SENTINEL, "out-parameter written on failure");
	close(pidfd);
	return 0;
}

START_TEST(test_reaped)
{
	ck_assert_int_eq(th_in_pidns_leakfree(reaped_body, NULL), 0);
}
END_TEST

/* A zombie is still there to be read. */
static int zombie_body(void *p)
{
	struct pidtuple *t = NULL;
	siginfo_t si;
	pid_t pid;
	int pidfd = -1;

	(void)p;
	TH_CHECK(pidtuple_parse("4322", &t, NULL) == 0, "parse");
	pid = pidtuple_fork(t, NULL, &pidfd);
	if (pid == 0)
		_exit(0);
	pidtuple_free(t);
	TH_CHECK(pid == 4322, "fork: %d", (int)pid);
	memset(&si, 0, sizeof(si));
	TH_CHECK(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOWAIT) == 0, "waitid: %m");
	if (read_all_ways(pid, pidfd, "4322"))
		return 1;
	TH_CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %m");
	close(pidfd);
	return 0;
}

START_TEST(test_zombie)
{
	ck_assert_int_eq(th_in_pidns_leakfree(zombie_body, NULL), 0);
}
END_TEST

struct thread_arg {
	int tid_pipe[2], go_pipe[2];
};

static void *thread_fn(void *p)
{
	struct thread_arg *a = p;
	pid_t tid = th_raw_gettid();
	char c;

	(void)!write(a->tid_pipe[1], &tid, sizeof(tid));
	while (read(a->go_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* A thread id is not a process. */
static int thread_body(void *p)
{
	struct thread_arg a;
	struct pidtuple *t = SENTINEL;
	pthread_t th;
	pid_t tid = 0;
	int r;

	(void)p;
	TH_CHECK(pipe2(a.tid_pipe, O_CLOEXEC) == 0 && pipe2(a.go_pipe, O_CLOEXEC) == 0, "pipe: %m");
	TH_CHECK(pthread_create(&th, NULL, thread_fn, &a) == 0, "pthread_create");
	TH_CHECK(read(a.tid_pipe[0], &tid, sizeof(tid)) == sizeof(tid), "read tid: %m");
	TH_CHECK(tid > 1 && tid != getpid(), "tid %d", (int)tid);
	r = pidtuple_of_pid(tid, &t);
	TH_CHECK(r == -ESRCH, "of_pid(thread %d): %d", (int)tid, r);
	TH_CHECK(t == SENTINEL, "out-parameter written on failure");
	if (read_all_ways(getpid(), -1, "1"))
		return 1;
	close(a.go_pipe[1]);
	TH_CHECK(pthread_join(th, NULL) == 0, "join");
	close(a.go_pipe[0]);
	close(a.tid_pipe[0]);
	close(a.tid_pipe[1]);
	return 0;
}

START_TEST(test_thread_id)
{
	ck_assert_int_eq(th_in_pidns_leakfree(thread_body, NULL), 0);
}
END_TEST

/* How many levels /proc shows above the caller is remembered per /proc mount: it must follow
 * a child forked into a new namespace (same mount, one level more) and a /proc mounted anew. */
static int status_tgid_is(const char *what)
{
	PIDTUPLE_OPTS(pidtuple_read_opts, o, .source = PIDTUPLE_SOURCE_STATUS);
	struct pidtuple *t = NULL;
	char want[16];
	int r = pidtuple_read(getpid(), PIDTUPLE_KIND_TGID, &o, &t);

	TH_CHECK(r == 0, "%s: status read: %s", what, pidtuple_strerror(r));
	snprintf(want, sizeof(want), "%d", (int)getpid());
	r = th_tuple_is(t, want, what);
	pidtuple_free(t);
	return r;
}

/* Forks with the cache filled, then once more into a new namespace. In a child: the test's
 * own process must keep its namespace for LeakSanitizer's tracer. */
static int cache_child(void)
{
	int st = 0;
	pid_t pid;

	if (status_tgid_is("child"))
		return 1;
	TH_CHECK(unshare(CLONE_NEWPID) == 0, "unshare: %m");
	pid = fork();
	TH_CHECK(pid >= 0, "fork: %m");
	if (pid == 0) {
		/* Same /proc, one more level above: pid 1 of the new namespace. */
		if (status_tgid_is("forked into a new namespace"))
			_exit(1);
		/* A /proc of its own: nothing above. */
		if (th_mount_own_proc() != 0 || status_tgid_is("own /proc"))
			_exit(2);
		_exit(0);
	}
	TH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "grandchild: 0x%x", st);
	return status_tgid_is("child again");
}

static int cache_body(void *p)
{
	int st = 0;
	pid_t pid;

	(void)p;
	if (status_tgid_is("parent"))
		return 1;
	pid = fork();
	TH_CHECK(pid >= 0, "fork: %m");
	if (pid == 0)
		_exit(cache_child());
	TH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		 "child: 0x%x", st);
	return status_tgid_is("parent again");
}

START_TEST(test_above_cache)
{
	ck_assert_int_eq(th_in_pidns_leakfree(cache_body, NULL), 0);
}
END_TEST

static Suite *read_suite(void)
{
	Suite *s = suite_create("read");
	TCase *tc = tcase_create("read");

	/* Every scenario with /proc of an outer namespace, then with our own. */
	tcase_add_loop_test(tc, test_read, 0, (int)(2 * ARRAY_SIZE(scenarios)));
	tcase_add_loop_test(tc, test_nested_reader, 0, 2);
	tcase_add_test(tc, test_zombie);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad_input, 0, 2);
	tcase_add_test(tc, test_reaped);
	tcase_add_test(tc, test_thread_id);
	tcase_add_test(tc, test_above_cache);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(read_suite());
}
