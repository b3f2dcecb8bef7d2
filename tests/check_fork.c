/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_fork(), pidtuple_spawn() and pidtuple_clone(): every variant with 1, 2 and 3
 * pinned levels, with and without CLONE_NEWPID, with and without PIDTUPLE_FORK_CHECK; the
 * child's own view of its PID; the pidfd; exec failures; taken PIDs; exit signals; cgroups;
 * other namespaces. Every test runs in a private PID namespace and must leave no fd, child or
 * zombie behind, nor leak memory (th_in_pidns_leakfree()).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CANARY 0xa5
#define NO_PID ((pid_t)-12345)
#define NO_FD (-12345)

TH_LSAN_EXPLICIT_ONLY

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

extern char **environ;

/* ---- making a child with any of the three entry points ------------------------------ */

enum kind { K_FORK, K_SPAWN, K_CLONE, K_COUNT };
static const char *const kind_names[] = { "fork", "spawn", "clone" };

struct req {
	enum kind kind;
	const char *tuple; /* outermost first */
	uint64_t flags, clone_flags;
	int exit_signal, cgroup_fd;
	struct pidtuple_diag *diag;
	pid_t want_inner; /* the default child exits 0 when getpid() is this, else 10 */
	const char *path; /* spawn: another program than the getpid check */
	char *const *argv;
	char *const *envp;
	int (*fn)(void *); /* fork, clone: another child than the getpid check */
	void *arg;
	bool no_pidfd;
};

static int getpid_is(void *arg)
{
	return th_raw_getpid() == *(const pid_t *)arg ? 0 : 10;
}

/* Returns 0 with the child's pid and pidfd set, or the library's error. */
static int make_child(const struct req *q, pid_t *ret_pid, int *ret_pidfd)
{
	struct pidtuple *t = NULL;
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = q->flags, .clone_flags = q->clone_flags,
		      .exit_signal = q->exit_signal, .cgroup_fd = q->cgroup_fd, .diag = q->diag);
	int (*fn)(void *) = q->fn ? q->fn : getpid_is;
	void *arg = q->fn ? q->arg : (void *)&q->want_inner;
	int *pidfdp = q->no_pidfd ? NULL : ret_pidfd;
	char want[16];
	char *sh_argv[] = { "sh", "-c", "test $$ -eq \"$1\" || exit 10", "sh", want, NULL };
	pid_t pid;
	int r;

	r = pidtuple_parse(q->tuple, &t, NULL);
	if (r < 0)
		return r;
	switch (q->kind) {
	case K_FORK:
		pid = pidtuple_fork(t, &o, pidfdp);
		if (pid == 0)
			_exit(fn(arg));
		r = pid < 0 ? pid : 0;
		if (pid > 0)
			*ret_pid = pid;
		break;
	case K_SPAWN:
		snprintf(want, sizeof(want), "%d", (int)q->want_inner);
		r = pidtuple_spawn(t, q->path ? q->path : "/bin/sh", q->argv ? q->argv : sh_argv,
				   q->envp, &o, ret_pid, pidfdp);
		break;
	default:
		r = pidtuple_clone(t, fn, arg, &o, ret_pid, pidfdp);
		break;
	}
	pidtuple_free(t);
	return r;
}

/*
 * Checks a child made with a pidfd: its tuple as read back (by pidfd and by pid) is @want, the
 * pidfd is close-on-exec, signals 0, polls readable once the child exits; the child exits
 * with @status. Reaps it and closes the pidfd.
 */
static int verify_child(pid_t pid, int pidfd, const char *want, int status)
{
	struct pidtuple *t = NULL;
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	siginfo_t si;
	int r, fl;

	TH_CHECK(pidfd >= 0, "no pidfd (%d)", pidfd);
	fl = fcntl(pidfd, F_GETFD);
	TH_CHECK(fl >= 0 && (fl & FD_CLOEXEC), "pidfd flags %d: not close-on-exec", fl);
	r = pidtuple_of_pidfd(pidfd, &t);
	TH_CHECK(r == 0, "of_pidfd: %s", pidtuple_strerror(r));
	r = th_tuple_is(t, want, "by pidfd");
	pidtuple_free(t);
	TH_CHECK(r == 0, "child %d", (int)pid);
	t = NULL;
	r = pidtuple_of_pid(pid, &t);
	TH_CHECK(r == 0, "of_pid(%d): %s", (int)pid, pidtuple_strerror(r));
	r = th_tuple_is(t, want, "by pid");
	pidtuple_free(t);
	TH_CHECK(r == 0, "child %d", (int)pid);

	TH_CHECK(th_pidfd_send_signal(pidfd, 0) == 0, "pidfd_send_signal(0): %m");
	TH_CHECK(poll(&pfd, 1, 20000) == 1 && (pfd.revents & POLLIN), "pidfd not readable: %m");
	memset(&si, 0, sizeof(si));
	TH_CHECK(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | __WALL) == 0, "waitid: %m");
	TH_CHECK(si.si_pid == pid, "waitid pid %d, want %d", (int)si.si_pid, (int)pid);
	TH_CHECK(si.si_code == CLD_EXITED && si.si_status == status,
		 "child %d: code %d status %d, want exit %d", (int)pid, si.si_code, si.si_status,
		 status);
	TH_CHECK(th_pidfd_send_signal(pidfd, 0) < 0 && errno == ESRCH,
		 "pidfd_send_signal after reaping: %m");
	close(pidfd);
	return 0;
}

/* Opens our PID namespace (to come back to) and, at @depth > 0, enters a nested one. */
struct nested {
	int self_ns, nsfd;
	pid_t holder;
};

static int nested_enter(struct nested *n, int depth, const pid_t *outer_pids)
{
	n->holder = 0;
	n->nsfd = -1;
	n->self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	TH_CHECK(n->self_ns >= 0, "open own pid ns: %m");
	if (!depth)
		return 0;
	n->holder = th_make_nested_ns(depth, outer_pids, &n->nsfd);
	TH_CHECK(n->holder > 0, "th_make_nested_ns(%d): %s", depth, pidtuple_strerror(n->holder));
	TH_CHECK(setns(n->nsfd, CLONE_NEWPID) == 0, "setns: %m");
	return 0;
}

/* Back to our own namespace for children. */
static int nested_leave(struct nested *n)
{
	TH_CHECK(setns(n->self_ns, CLONE_NEWPID) == 0, "setns back: %m");
	close(n->self_ns);
	n->self_ns = -1;
	return 0;
}

/* Kills the holders and reaps them (and the inits of their namespaces). */
static void nested_free(struct nested *n)
{
	if (n->self_ns >= 0)
		close(n->self_ns);
	if (n->nsfd >= 0)
		close(n->nsfd);
	if (n->holder > 0) {
		kill(n->holder, SIGKILL);
		th_kill_children();
	}
}

/* ---- the matrix: kind x levels x CLONE_NEWPID x PIDTUPLE_FORK_CHECK ------------------ */

struct level_case {
	int levels;
	bool newpid;
	bool check;
};

static const struct level_case level_cases[] = {
	{ 1, false, false }, { 2, false, false }, { 3, false, false },
	{ 1, true, false },  { 2, true, false },  { 3, true, false },
};

struct matrix_arg {
	enum kind kind;
	const struct level_case *lc;
};

/* The PID pinned in the test's namespace: distinct per case, far from the holders' PIDs. */
static pid_t outer_pid(const struct matrix_arg *a)
{
	return (pid_t)(4000 + 100 * (int)a->kind + 10 * a->lc->levels + a->lc->newpid);
}

/*
 * Without CLONE_NEWPID: setns() into a namespace levels-1 deep and pin every level from the
 * test's namespace down. With it: the new namespace is the innermost level; 1 level lets the
 * kernel choose the PID in ours, 2 pins ours.
 */
static int matrix_body(void *p)
{
	const struct matrix_arg *a = p;
	const struct level_case *lc = a->lc;
	int depth = lc->newpid ? 0 : lc->levels - 1;
	pid_t T = outer_pid(a), pid = NO_PID;
	struct req q = { .kind = a->kind };
	struct pidtuple_diag d = { .sz = sizeof(d) };
	struct pidtuple *req_t = NULL, *got = NULL;
	struct nested n;
	char text[64], want[64];
	int pidfd = NO_FD, r;

	/* Outermost first: ours, then 61, 62 in the nested ones; 1 for a new namespace. */
	if (lc->newpid && lc->levels == 1)
		snprintf(text, sizeof(text), "1");
	else if (lc->newpid)
		snprintf(text, sizeof(text), "%d/1", (int)T);
	else if (lc->levels == 1)
		snprintf(text, sizeof(text), "%d", (int)T);
	else if (lc->levels == 2)
		snprintf(text, sizeof(text), "%d/61", (int)T);
	else
		snprintf(text, sizeof(text), "%d/61/62", (int)T);
	q.tuple = text;
	q.want_inner = lc->newpid ? 1 : lc->levels == 1 ? T : lc->levels == 2 ? 61 : 62;
	q.clone_flags = lc->newpid ? CLONE_NEWPID : 0;
	q.flags = lc->check ? PIDTUPLE_FORK_CHECK : 0;
	q.diag = &d;

	if (nested_enter(&n, depth, NULL))
		return 1;
	r = make_child(&q, &pid, &pidfd);
	if (nested_leave(&n))
		return 1;
	TH_CHECK(r == 0, "%s %s: %s (rule %s: %s)", kind_names[a->kind], text, pidtuple_strerror(r),
		 pidtuple_rule_name(d.rule), d.message);
	/* The returned PID is the one in our namespace. */
	if (lc->newpid && lc->levels == 1) {
		TH_CHECK(pid > 1, "pid %d", (int)pid);
		snprintf(want, sizeof(want), "%d/1", (int)pid);
	} else {
		TH_CHECK(pid == T, "%s %s: returned %d", kind_names[a->kind], text, (int)pid);
		snprintf(want, sizeof(want), "%s", text);
		TH_CHECK(pidtuple_parse(text, &req_t, NULL) == 0, "parse");
		TH_CHECK(pidtuple_of_pidfd(pidfd, &got) == 0, "of_pidfd");
		r = pidtuple_equal(got, req_t);
		pidtuple_free(got);
		pidtuple_free(req_t);
		TH_CHECK(r == 1, "read back differs from the request %s", text);
	}
	if (verify_child(pid, pidfd, want, 0))
		return 1;
	nested_free(&n);
	return 0;
}

/*
 * Three levels with CLONE_NEWPID: the creator must live in a child namespace of ours whose
 * children are born in its own namespace (after setns() CLONE_NEWPID is refused), so a
 * middle process M, init of that namespace, forks; we check the tuple from outside.
 */
struct mid_msg {
	pid_t pid; /* as M sees it */
	int failed;
};

struct mid_arg {
	const struct matrix_arg *a;
	int ready_w, go_r;
	pid_t T;
};

static int middle(const struct mid_arg *m)
{
	const struct level_case *lc = m->a->lc;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	struct req q = { .kind = m->a->kind,
			 .want_inner = 1,
			 .clone_flags = CLONE_NEWPID,
			 .flags = lc->check ? PIDTUPLE_FORK_CHECK : 0,
			 .diag = &d };
	struct mid_msg msg = { NO_PID, 1 };
	struct pidtuple *t = NULL;
	char text[64];
	pid_t pid = NO_PID;
	int pidfd = NO_FD, r;

	snprintf(text, sizeof(text), "%d/61/1", (int)m->T);
	q.tuple = text;
	r = make_child(&q, &pid, &pidfd);
	if (r < 0) {
		fprintf(stderr, "middle: %s %s: %s (rule %s: %s)\n", kind_names[q.kind], text,
			pidtuple_strerror(r), pidtuple_rule_name(d.rule), d.message);
		(void)!write(m->ready_w, &msg, sizeof(msg));
		return 1;
	}
	/* Seen from here, two levels: ours and the new one. */
	r = pidtuple_of_pidfd(pidfd, &t);
	msg.pid = pid;
	msg.failed = pid != 61 || r != 0 || th_tuple_is(t, "61/1", "middle: by pidfd") != 0;
	pidtuple_free(t);
	(void)!write(m->ready_w, &msg, sizeof(msg));
	/* The child stays unreaped (readable) until the test has looked at it. */
	{
		char c;

		while (read(m->go_r, &c, 1) < 0 && errno == EINTR)
			;
	}
	if (msg.failed)
		return 1;
	return verify_child(pid, pidfd, "61/1", 0);
}

static int matrix3_newpid_body(void *p)
{
	const struct matrix_arg *a = p;
	struct mid_arg m = { .a = a, .T = outer_pid(a) };
	struct mid_msg msg;
	int ready[2], go[2], status;
	char want[64];
	pid_t x;
	ssize_t len;

	TH_CHECK(pipe2(ready, O_CLOEXEC) == 0 && pipe2(go, O_CLOEXEC) == 0, "pipe: %m");
	x = fork();
	TH_CHECK(x >= 0, "fork: %m");
	if (x == 0) {
		pid_t mid;

		close(ready[0]);
		close(go[1]);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(20);
		mid = fork();
		if (mid == 0) {
			m.ready_w = ready[1];
			m.go_r = go[0];
			_exit(middle(&m));
		}
		close(ready[1]);
		close(go[0]);
		if (mid < 0 || waitpid(mid, &status, 0) != mid)
			_exit(21);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 22);
	}
	close(ready[1]);
	close(go[0]);
	len = read(ready[0], &msg, sizeof(msg));
	close(ready[0]);
	if (len == (ssize_t)sizeof(msg) && !msg.failed) {
		/* From here the child has three levels: ours, M's, its own. */
		snprintf(want, sizeof(want), "%d/61/1", (int)m.T);
		{
			struct pidtuple *t = NULL;
			int r = pidtuple_of_pid(m.T, &t), bad;

			bad = r != 0 || th_tuple_is(t, want, "3 levels with CLONE_NEWPID");
			pidtuple_free(t);
			if (bad) {
				close(go[1]);
				waitpid(x, NULL, 0);
				TH_CHECK(0, "of_pid(%d): %s", (int)m.T, pidtuple_strerror(r));
			}
		}
	}
	close(go[1]);
	TH_CHECK(waitpid(x, &status, 0) == x, "waitpid: %m");
	TH_CHECK(len == (ssize_t)sizeof(msg) && !msg.failed, "middle failed (pid %d)",
		 (int)msg.pid);
	TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "middle status 0x%x", status);
	return 0;
}

/* Without PIDTUPLE_FORK_CHECK, then with it (the PIDs are free again in between). */
static int matrix_both(void *p)
{
	const struct matrix_arg *a = p;

	for (int check = 0; check < 2; check++) {
		struct level_case lc = *a->lc;
		struct matrix_arg b = { a->kind, &lc };

		lc.check = check;
		if (lc.newpid && lc.levels == 3 ? matrix3_newpid_body(&b) : matrix_body(&b)) {
			fprintf(stderr, "failed %s\n",
				check ? "with FORK_CHECK" : "without FORK_CHECK");
			return 1;
		}
	}
	return 0;
}

START_TEST(test_matrix)
{
	struct matrix_arg a = { (enum kind)(_i % K_COUNT), &level_cases[_i / K_COUNT] };

	ck_assert_msg(th_in_pidns_leakfree(matrix_both, &a) == 0, "%s, %d level(s)%s",
		      kind_names[a.kind], a.lc->levels, a.lc->newpid ? ", CLONE_NEWPID" : "");
}
END_TEST

/* CLONE_NEWPID after setns(): the kernel refuses, and the library names the rule. */
static int newpid_after_setns_body(void *p)
{
	const struct matrix_arg *a = p;
	struct pidtuple_diag d;
	struct req q = { .kind = a->kind,
			 .tuple = "4900/61/1",
			 .want_inner = 1,
			 .clone_flags = CLONE_NEWPID,
			 .diag = &d };
	struct nested n;
	pid_t pid = NO_PID;
	int pidfd = NO_FD, r;

	q.flags = a->lc->check ? PIDTUPLE_FORK_CHECK : 0;
	memset(&d, CANARY, sizeof(d));
	d.sz = sizeof(d);
	if (nested_enter(&n, 1, NULL))
		return 1;
	r = make_child(&q, &pid, &pidfd);
	if (nested_leave(&n))
		return 1;
	TH_CHECK(r == -EINVAL, "%s: %d", kind_names[a->kind], r);
	TH_CHECK(pid == NO_PID && pidfd == NO_FD, "out-parameters written");
	TH_CHECK(d.err == -EINVAL && d.rule == PIDTUPLE_RULE_NEWPID_UNSHARED,
		 "diag err %d rule %s: %s", d.err, pidtuple_rule_name(d.rule), d.message);
	TH_CHECK(d.kernel_err == (a->lc->check ? 0 : -EINVAL), "kernel_err %d", d.kernel_err);
	TH_CHECK(th_count_children() == 1, "a child was made");
	nested_free(&n);
	return 0;
}

static int newpid_after_setns_both(void *p)
{
	static const struct level_case plain = { 3, true, false }, checked = { 3, true, true };
	struct matrix_arg a = { (enum kind)(intptr_t)p, &plain };

	if (newpid_after_setns_body(&a))
		return 1;
	a.lc = &checked;
	return newpid_after_setns_body(&a);
}

START_TEST(test_newpid_after_setns)
{
	ck_assert_int_eq(th_in_pidns_leakfree(newpid_after_setns_both, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- taken PIDs ---------------------------------------------------------------------- */

struct taken_case {
	const char *name;
	int depth;
	const char *tuple; /* "H" stands for the holder's PID in our namespace */
	int inner_index, nspid_pos;
	pid_t pid; /* 0: the holder's */
};

static const struct taken_case taken_cases[] = {
	{ "our PID 1 (the test's init)", 0, "1", 0, 0, 1 },
	{ "the nested namespace's init", 1, "4950/1", 0, 1, 1 },
	{ "the holder's PID in ours", 1, "H/70", 1, 0, 0 },
	{ "the middle level's init", 2, "4951/1/70", 1, 1, 1 },
};

struct taken_arg {
	enum kind kind;
	const struct taken_case *tc;
	bool check;
};

static int taken_body(void *p)
{
	const struct taken_arg *a = p;
	const struct taken_case *tc = a->tc;
	struct pidtuple_diag d;
	struct req q = { .kind = a->kind, .want_inner = 70, .diag = &d };
	struct nested n;
	pid_t pid = NO_PID, want_pid;
	char text[64];
	int pidfd = NO_FD, kids, r;

	if (nested_enter(&n, tc->depth, NULL))
		return 1;
	want_pid = tc->pid ? tc->pid : n.holder;
	if (tc->tuple[0] == 'H')
		snprintf(text, sizeof(text), "%d%s", (int)n.holder, tc->tuple + 1);
	else
		snprintf(text, sizeof(text), "%s", tc->tuple);
	q.tuple = text;
	q.flags = a->check ? PIDTUPLE_FORK_CHECK : 0;
	memset(&d, CANARY, sizeof(d));
	d.sz = sizeof(d);
	kids = th_count_children();
	r = make_child(&q, &pid, &pidfd);
	if (nested_leave(&n))
		return 1;
	TH_CHECK(r == -EEXIST, "%s%s, %s (%s): %d", kind_names[a->kind],
		 a->check ? " with FORK_CHECK" : "", tc->name, text, r);
	TH_CHECK(pid == NO_PID && pidfd == NO_FD, "out-parameters written");
	TH_CHECK(d.err == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN,
		 "%s: diag err %d rule %s: %s", tc->name, d.err, pidtuple_rule_name(d.rule),
		 d.message);
	TH_CHECK(d.inner_index == tc->inner_index && d.nspid_pos == tc->nspid_pos &&
			 d.pid == want_pid,
		 "%s: level inner %d nspid %d pid %d, want %d %d %d: %s", tc->name, d.inner_index,
		 d.nspid_pos, d.pid, tc->inner_index, tc->nspid_pos, (int)want_pid, d.message);
	{
		int levels = 1;

		for (const char *c = text; *c; c++)
			levels += *c == '/';
		TH_CHECK(d.levels == levels, "diag levels %d, want %d", d.levels, levels);
	}
	/* With the pre-check the kernel is not asked, except for nested levels before 6.11:
	 * without the nsfs ioctls the quick validator leaves them to the kernel. */
	TH_CHECK(d.kernel_err == (a->check ? 0 : -EEXIST) ||
			 (a->check && d.kernel_err == -EEXIST &&
			  !(pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS)),
		 "kernel_err %d", d.kernel_err);
	TH_CHECK(d.message[0] != '\0', "no message");
	TH_CHECK(th_count_children() == kids, "a child was made");
	nested_free(&n);
	return 0;
}

static int taken_both(void *p)
{
	struct taken_arg *a = p;

	for (int check = 0; check < 2; check++) {
		a->check = check;
		if (taken_body(a))
			return 1;
	}
	return 0;
}

START_TEST(test_pid_taken)
{
	struct taken_arg a = { (enum kind)(_i % K_COUNT), &taken_cases[_i / K_COUNT], false };

	ck_assert_msg(th_in_pidns_leakfree(taken_both, &a) == 0, "%s, %s", kind_names[a.kind],
		      a.tc->name);
}
END_TEST

/* ---- spawn --------------------------------------------------------------------------- */

static int spawn_status_body(void *p)
{
	char *argv[] = { "sh", "-c", "exit 3", NULL };
	struct req q = { .kind = K_SPAWN, .tuple = "5003", .argv = argv };
	pid_t pid = NO_PID;
	int pidfd = NO_FD, r;

	(void)p;
	r = make_child(&q, &pid, &pidfd);
	TH_CHECK(r == 0 && pid == 5003, "spawn: %d pid %d", r, (int)pid);
	return verify_child(pid, pidfd, "5003", 3);
}

START_TEST(test_spawn_exit_status)
{
	ck_assert_int_eq(th_in_pidns_leakfree(spawn_status_body, NULL), 0);
}
END_TEST

struct exec_fail_case {
	const char *path;
	int err;
};

static const struct exec_fail_case exec_fail_cases[] = {
	{ "/nonexistent/pidtuple-test-program", -ENOENT },
	{ "/dev/null", -EACCES }, /* not a regular file */
	{ "/", -EACCES },	  /* a directory */
	{ "", -ENOENT },
	{ "GARBAGE", -ENOEXEC }, /* an executable file of no known format */
	{ "/etc/passwd/x", -ENOTDIR },
};

static int exec_fail_body(void *p)
{
	const struct exec_fail_case *c = p;
	char *argv[] = { "x", NULL };
	char garbage[] = "/tmp/pidtuple-garbage-XXXXXX";
	const char *path = c->path;
	struct pidtuple_diag d;
	struct req q = { .kind = K_SPAWN, .tuple = "5004", .argv = argv, .diag = &d };
	pid_t pid = NO_PID;
	int pidfd = NO_FD, r, fds;

	if (strcmp(path, "GARBAGE") == 0) {
		int fd = mkstemp(garbage);

		TH_CHECK(fd >= 0, "mkstemp: %m");
		TH_CHECK(write(fd, "\1\2\3\4garbage\n", 12) == 12, "write: %m");
		TH_CHECK(fchmod(fd, 0755) == 0, "fchmod: %m");
		close(fd);
		path = garbage;
	}
	q.path = path;
	for (int with_pidfd = 0; with_pidfd < 2; with_pidfd++) {
		q.no_pidfd = !with_pidfd;
		memset(&d, CANARY, sizeof(d));
		d.sz = sizeof(d);
		fds = th_count_fds();
		r = make_child(&q, &pid, &pidfd);
		TH_CHECK(r == c->err, "spawn %s: %d (%s), want %d", path, r, pidtuple_strerror(r),
			 c->err);
		TH_CHECK(d.err == c->err && d.rule == PIDTUPLE_RULE_EXEC, "diag err %d rule %s: %s",
			 d.err, pidtuple_rule_name(d.rule), d.message);
		TH_CHECK(d.message[0] != '\0', "no message");
		TH_CHECK(pid == NO_PID && pidfd == NO_FD, "out-parameters written");
		/* Reaped before returning: no zombie; no pipe or pidfd left open. */
		TH_CHECK(th_count_children() == 0, "%d children left", th_count_children());
		TH_CHECK(th_count_fds() == fds, "fd leaked");
	}
	if (path == garbage)
		unlink(garbage);
	/* The PID is free again. */
	{
		char *ok_argv[] = { "sh", "-c", "exit 0", NULL };
		struct req ok = { .kind = K_SPAWN, .tuple = "5004", .argv = ok_argv };

		r = make_child(&ok, &pid, &pidfd);
		TH_CHECK(r == 0 && pid == 5004, "spawn after failure: %d", r);
		return verify_child(pid, pidfd, "5004", 0);
	}
}

START_TEST(test_spawn_exec_fails)
{
	ck_assert_msg(th_in_pidns_leakfree(exec_fail_body, (void *)&exec_fail_cases[_i]) == 0, "%s",
		      exec_fail_cases[_i].path);
}
END_TEST

static int spawn_env_body(void *p)
{
	char *env[] = { "PIDTUPLE_A=a value", "PIDTUPLE_B=", NULL };
	char *argv_env[] = {
		"sh", "-c",
		"test \"$PIDTUPLE_A\" = 'a value' && test \"${PIDTUPLE_B-unset}\" = '' "
		"&& test \"${PIDTUPLE_C-unset}\" = unset && test \"${HOME-unset}\" = unset",
		NULL
	};
	char *argv_inherit[] = { "sh", "-c", "test \"$PIDTUPLE_C\" = inherited", NULL };
	char *argv_args[] = {
		"sh", "-c", "test $# -eq 2 && test \"$1\" = 'a b' && test -z \"$2\"", "name", "a b",
		"",   NULL
	};
	struct req q = { .kind = K_SPAWN, .tuple = "5005", .argv = argv_env, .envp = env };
	pid_t pid = NO_PID;
	int pidfd = NO_FD;

	(void)p;
	/* envp given: exactly that environment. */
	TH_CHECK(setenv("PIDTUPLE_C", "inherited", 1) == 0, "setenv");
	TH_CHECK(make_child(&q, &pid, &pidfd) == 0, "spawn with envp");
	if (verify_child(pid, pidfd, "5005", 0))
		return 1;
	/* envp NULL: the caller's environ. */
	q.argv = argv_inherit;
	q.envp = NULL;
	TH_CHECK(make_child(&q, &pid, &pidfd) == 0, "spawn with environ");
	if (verify_child(pid, pidfd, "5005", 0))
		return 1;
	/* argv passed as is, empty strings included. */
	q.argv = argv_args;
	TH_CHECK(make_child(&q, &pid, &pidfd) == 0, "spawn with args");
	return verify_child(pid, pidfd, "5005", 0);
}

START_TEST(test_spawn_env_argv)
{
	ck_assert_int_eq(th_in_pidns_leakfree(spawn_env_body, NULL), 0);
}
END_TEST

/* The signal mask is kept across spawn; the caller's own mask is unchanged after it. */
static int spawn_sigmask_body(void *p)
{
	char *argv[] = { "grep", "-qxF", "SigBlk:\t0000000000000200", "/proc/self/status", NULL };
	struct req q = { .kind = K_SPAWN, .tuple = "5006", .path = "/bin/grep", .argv = argv };
	sigset_t set, before, after;
	pid_t pid = NO_PID;
	int pidfd = NO_FD;

	(void)p;
	sigemptyset(&before);
	sigemptyset(&after);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1); /* bit 9: 0x200 */
	TH_CHECK(sigprocmask(SIG_SETMASK, &set, NULL) == 0, "sigprocmask");
	sigprocmask(SIG_SETMASK, NULL, &before);
	TH_CHECK(make_child(&q, &pid, &pidfd) == 0, "spawn");
	sigprocmask(SIG_SETMASK, NULL, &after);
	for (int sig = 1; sig < NSIG; sig++)
		TH_CHECK(sigismember(&before, sig) == sigismember(&after, sig),
			 "the caller's mask changed at signal %d", sig);
	return verify_child(pid, pidfd, "5006", 0);
}

START_TEST(test_spawn_sigmask)
{
	ck_assert_int_eq(th_in_pidns_leakfree(spawn_sigmask_body, NULL), 0);
}
END_TEST

/* ---- clone --------------------------------------------------------------------------- */

static int return_arg(void *arg)
{
	return *(int *)arg;
}

static int clone_return_body(void *p)
{
	const int values[] = { 0, 1, 42, 255 };

	(void)p;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		int v = values[i];
		struct req q = { .kind = K_CLONE, .tuple = "5007", .fn = return_arg, .arg = &v };
		pid_t pid = NO_PID;
		int pidfd = NO_FD;

		TH_CHECK(make_child(&q, &pid, &pidfd) == 0 && pid == 5007, "clone");
		if (verify_child(pid, pidfd, "5007", v))
			return 1;
	}
	return 0;
}

START_TEST(test_clone_return_value)
{
	ck_assert_int_eq(th_in_pidns_leakfree(clone_return_body, NULL), 0);
}
END_TEST

/* ---- without a pidfd ----------------------------------------------------------------- */

static int no_pidfd_body(void *p)
{
	enum kind kind = (enum kind)(intptr_t)p;
	struct req q = { .kind = kind, .tuple = "5008", .want_inner = 5008, .no_pidfd = true };
	pid_t pid = NO_PID;
	int pidfd = NO_FD, status, fds = th_count_fds();

	TH_CHECK(make_child(&q, &pid, &pidfd) == 0 && pid == 5008, "%s", kind_names[kind]);
	TH_CHECK(pidfd == NO_FD, "pidfd written");
	TH_CHECK(th_count_fds() == fds, "an fd was opened");
	TH_CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
	TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status 0x%x", status);
	return 0;
}

START_TEST(test_no_pidfd)
{
	ck_assert_int_eq(th_in_pidns_leakfree(no_pidfd_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- exit signals -------------------------------------------------------------------- */

static int exit5(void *arg)
{
	(void)arg;
	return 5;
}

static int exit_signal_body(void *p)
{
	int sig = (int)(intptr_t)p;
	struct req q = { .kind = K_FORK,
			 .tuple = "5009",
			 .fn = exit5,
			 .no_pidfd = true,
			 .flags = PIDTUPLE_FORK_EXIT_SIGNAL,
			 .exit_signal = sig };
	struct timespec ts = { 20, 0 };
	sigset_t set;
	pid_t pid = NO_PID;
	int status;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR2);
	TH_CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask");
	for (int k = K_FORK; k < K_COUNT; k++) {
		siginfo_t si;

		if (k == K_SPAWN)
			continue;
		q.kind = (enum kind)k;
		TH_CHECK(make_child(&q, &pid, NULL) == 0 && pid == 5009, "%s", kind_names[k]);
		if (sig) {
			/* Exactly the chosen signal arrives. */
			TH_CHECK(sigtimedwait(&set, &si, &ts) == sig, "signal: %m");
			TH_CHECK(si.si_pid == pid, "from %d", (int)si.si_pid);
		}
		/* Not SIGCHLD: only __WALL (or __WCLONE) waits for it. */
		TH_CHECK(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD,
			 "waitpid without __WALL saw the child");
		TH_CHECK(waitpid(pid, &status, __WALL) == pid, "waitpid __WALL: %m");
		TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 5, "status 0x%x", status);
		TH_CHECK(sigtimedwait(&set, &si, &(struct timespec){ 0, 0 }) < 0,
			 "signal %d arrived too", si.si_signo);
	}
	return 0;
}

START_TEST(test_exit_signal)
{
	const int sigs[] = { 0, SIGUSR2 };

	ck_assert_int_eq(th_in_pidns_leakfree(exit_signal_body, (void *)(intptr_t)sigs[_i]), 0);
}
END_TEST

/* ---- CLONE_INTO_CGROUP --------------------------------------------------------------- */

/* Finds a writable cgroup2 mount and our cgroup's path in it; 0 or -errno. */
static int cgroup2_where(char *mnt, size_t mnt_size, char *path, size_t path_size)
{
	char line[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	bool found = false;

	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char mp[512];

		if (!sep || strncmp(sep, " - cgroup2 ", 11) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mp) == 1) {
			snprintf(mnt, mnt_size, "%s", mp);
			found = true;
		}
	}
	fclose(f);
	if (!found)
		return -ENOENT;
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return -errno;
	found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, path_size, "%s", line + 3);
			found = true;
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

static int hold_child(void *arg)
{
	const int *fds = arg;
	char c;

	close(fds[1]);
	while (read(fds[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* Forks into the cgroup @dir and checks the child is there. */
static int cgroup_fork_into(const char *dir, enum kind kind)
{
	const char *base = strrchr(dir, '/');
	char line[1200], procpath[64];
	pid_t pid = NO_PID;
	int cgfd, pfd[2], pidfd = NO_FD, saved_stdin = -1, r;
	bool seen = false;
	FILE *f;

	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	TH_CHECK(cgfd >= 0, "open %s: %m", dir);
	TH_CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe: %m");
	{
		char *argv[] = { "sh", "-c", "read x; exit 0", NULL };
		struct pidtuple_diag d = { .sz = sizeof(d) };
		struct req q = { .kind = kind,
				 .tuple = "5010",
				 .fn = hold_child,
				 .arg = pfd,
				 .flags = PIDTUPLE_FORK_INTO_CGROUP,
				 .cgroup_fd = cgfd,
				 .diag = &d,
				 .path = "/bin/sh",
				 .argv = argv };

		if (kind == K_SPAWN) {
			/* The shell reads our pipe on stdin; its copy of the write end is closed
			 * by exec. */
			saved_stdin = fcntl(0, F_DUPFD_CLOEXEC, 3);
			TH_CHECK(saved_stdin >= 0 && dup2(pfd[0], 0) == 0, "dup2: %m");
		}
		r = make_child(&q, &pid, &pidfd);
		if (kind == K_SPAWN) {
			dup2(saved_stdin, 0);
			close(saved_stdin);
		}
		TH_CHECK(r == 0 && pid == 5010, "%s into %s: %s (%s)", kind_names[kind], dir,
			 pidtuple_strerror(r), d.message);
		TH_CHECK(!(d.notices & PIDTUPLE_NOTICE_CGROUP_AFTER), "moved after the fork");
	}
	close(pfd[0]);
	snprintf(procpath, sizeof(procpath), "/proc/%d/cgroup", (int)th_proc_pid(pidfd));
	f = fopen(procpath, "re");
	TH_CHECK(f, "%s: %m", procpath);
	/* "0::<path>": the path is relative to our cgroup namespace's root; its last part is
	 * the directory we made. */
	while (fgets(line, sizeof(line), f)) {
		size_t len, blen = strlen(base);

		line[strcspn(line, "\n")] = '\0';
		len = strlen(line);
		if (strncmp(line, "0::", 3) == 0 && len >= blen &&
		    strcmp(line + len - blen, base) == 0)
			seen = true;
	}
	fclose(f);
	close(pfd[1]);
	if (verify_child(pid, pidfd, "5010", 0))
		return 1;
	TH_CHECK(seen, "%s does not show %s", procpath, dir);
	close(cgfd);
	return 0;
}

static int cgroup_body(void *p)
{
	enum kind kind = (enum kind)(intptr_t)p;
	char mnt[512], own[1024], dir[1600];
	struct statfs sfs;
	int r;

	if (cgroup2_where(mnt, sizeof(mnt), own, sizeof(own)) < 0 || statfs(mnt, &sfs) < 0 ||
	    sfs.f_type != CGROUP2_SUPER_MAGIC) {
		printf("note: no cgroup2 mount: CLONE_INTO_CGROUP not tested\n");
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s%s/pidtuple-test-XXXXXX", mnt,
		 strcmp(own, "/") == 0 ? "" : own);
	if (!mkdtemp(dir)) {
		printf("note: cgroup2 at %s not writable (%m): CLONE_INTO_CGROUP not tested\n",
		       mnt);
		return 0;
	}
	r = cgroup_fork_into(dir, kind);
	if (r)
		th_kill_children(); /* empty the cgroup so that it can go */
	/* Emptied at exit; allow the kernel a moment to notice. */
	for (int i = 0; rmdir(dir) < 0; i++) {
		TH_CHECK(errno == EBUSY && i < 100, "rmdir %s: %m", dir);
		usleep(10000);
	}
	return r;
}

START_TEST(test_into_cgroup)
{
	ck_assert_int_eq(th_in_pidns_leakfree(cgroup_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* A cgroup fd that is not a cgroup: refused, nothing created. */
static int bad_cgroup_body(void *p)
{
	enum kind kind = (enum kind)(intptr_t)p;
	const char *paths[] = { "/", "/dev/null" };

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct pidtuple_diag d = { .sz = sizeof(d) };
		int fd = open(paths[i], O_RDONLY | O_CLOEXEC), pidfd = NO_FD, r;
		struct req q = { .kind = kind,
				 .tuple = "5011",
				 .want_inner = 5011,
				 .flags = PIDTUPLE_FORK_INTO_CGROUP,
				 .cgroup_fd = fd,
				 .diag = &d };
		pid_t pid = NO_PID;

		TH_CHECK(fd >= 0, "open %s: %m", paths[i]);
		r = make_child(&q, &pid, &pidfd);
		close(fd);
		TH_CHECK(r == -EBADF || r == -ENOTDIR, "%s: cgroup fd %s: %d", kind_names[kind],
			 paths[i], r);
		TH_CHECK(d.err == r, "diag err %d", d.err);
		TH_CHECK(pid == NO_PID && pidfd == NO_FD, "out-parameters written");
		TH_CHECK(th_count_children() == 0, "a child was made");
	}
	return 0;
}

START_TEST(test_bad_cgroup_fd)
{
	ck_assert_int_eq(th_in_pidns_leakfree(bad_cgroup_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- other namespaces ---------------------------------------------------------------- */

struct ns_case {
	const char *name;
	uint64_t clone_flags;
	const char *tuple;
	const char *ns[2]; /* /proc/self/ns entries that must differ in the child */
};

static const struct ns_case ns_cases[] = {
	{ "CLONE_NEWNS", CLONE_NEWNS, "5020", { "mnt", NULL } },
	{ "CLONE_NEWUTS", CLONE_NEWUTS, "5021", { "uts", NULL } },
	{ "CLONE_NEWIPC", CLONE_NEWIPC, "5022", { "ipc", NULL } },
	{ "CLONE_NEWNET", CLONE_NEWNET, "5023", { "net", NULL } },
	{ "CLONE_NEWCGROUP", CLONE_NEWCGROUP, "5024", { "cgroup", NULL } },
	{ "CLONE_NEWTIME", CLONE_NEWTIME, "5025", { "time", NULL } },
	{ "CLONE_NEWUSER|CLONE_NEWPID", CLONE_NEWUSER | CLONE_NEWPID, "5026/1", { "user", "pid" } },
	{ "all of them", PIDTUPLE_CLONE_NS_FLAGS, "5027/1", { "user", "net" } },
};

struct ns_child_arg {
	pid_t want;
	ino_t ino[2];
	const char *path[2];
};

/* In the child: our PID, and namespaces other than the parent's. Async-signal-safe. */
static int ns_child(void *p)
{
	const struct ns_child_arg *a = p;

	if (th_raw_getpid() != a->want)
		return 10;
	for (int i = 0; i < 2 && a->path[i]; i++) {
		struct stat st;

		if (stat(a->path[i], &st) < 0)
			return 11;
		if (st.st_ino == a->ino[i])
			return 12 + i;
	}
	return 0;
}

static int ns_body(const struct ns_case *c, enum kind kind)
{
	char paths[2][64];
	struct ns_child_arg a = { .want = strchr(c->tuple, '/') ? 1 : atoi(c->tuple) };
	struct pidtuple_diag d = { .sz = sizeof(d) };
	struct req q = { .kind = kind,
			 .tuple = c->tuple,
			 .clone_flags = c->clone_flags,
			 .fn = ns_child,
			 .arg = &a,
			 .diag = &d };
	pid_t pid = NO_PID;
	int pidfd = NO_FD, r;

	for (int i = 0; i < 2 && c->ns[i]; i++) {
		struct stat st;

		snprintf(paths[i], sizeof(paths[i]), "/proc/self/ns/%s", c->ns[i]);
		TH_CHECK(stat(paths[i], &st) == 0, "%s: %m", paths[i]);
		a.path[i] = paths[i];
		a.ino[i] = st.st_ino;
	}
	r = make_child(&q, &pid, &pidfd);
	TH_CHECK(r == 0, "%s %s: %s (rule %s: %s)", kind_names[kind], c->name, pidtuple_strerror(r),
		 pidtuple_rule_name(d.rule), d.message);
	TH_CHECK(pid == atoi(c->tuple), "pid %d", (int)pid);
	return verify_child(pid, pidfd, c->tuple, 0);
}

static int ns_both(void *p)
{
	const struct ns_case *c = p;

	if (ns_body(c, K_FORK))
		return 1;
	return ns_body(c, K_CLONE);
}

START_TEST(test_namespaces)
{
	ck_assert_msg(th_in_pidns_leakfree(ns_both, (void *)&ns_cases[_i]) == 0, "%s",
		      ns_cases[_i].name);
}
END_TEST

static Suite *fork_suite(void)
{
	Suite *s = suite_create("fork");
	TCase *tc = tcase_create("levels");

	tcase_add_loop_test(tc, test_matrix, 0, (int)(K_COUNT * ARRAY_SIZE(level_cases)));
	tcase_add_loop_test(tc, test_newpid_after_setns, 0, K_COUNT);
	suite_add_tcase(s, tc);

	tc = tcase_create("taken");
	tcase_add_loop_test(tc, test_pid_taken, 0, (int)(K_COUNT * ARRAY_SIZE(taken_cases)));
	suite_add_tcase(s, tc);

	tc = tcase_create("spawn");
	tcase_add_test(tc, test_spawn_exit_status);
	tcase_add_loop_test(tc, test_spawn_exec_fails, 0, (int)ARRAY_SIZE(exec_fail_cases));
	tcase_add_test(tc, test_spawn_env_argv);
	tcase_add_test(tc, test_spawn_sigmask);
	suite_add_tcase(s, tc);

	tc = tcase_create("options");
	tcase_add_test(tc, test_clone_return_value);
	tcase_add_loop_test(tc, test_no_pidfd, 0, K_COUNT);
	tcase_add_loop_test(tc, test_exit_signal, 0, 2);
	tcase_add_loop_test(tc, test_into_cgroup, 0, K_COUNT);
	tcase_add_loop_test(tc, test_bad_cgroup_fd, 0, K_COUNT);
	tcase_add_loop_test(tc, test_namespaces, 0, (int)ARRAY_SIZE(ns_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(fork_suite());
}
