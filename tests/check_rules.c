/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every validation rule against the real kernel. Each case runs three judges with the same
 * set_tid, flags and exit signal: pidtuple_check(), a raw clone3() of our own, and
 * pidtuple_fork(). They must agree on the errno, and the diagnostics must name the rule and the
 * level. Privilege rules live in check_unpriv.c.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define OWN_PID_MAX 1000 /* what the test's own namespace lowers its pid_max to */
#define FREE_PID 700	 /* below OWN_PID_MAX and unused at every level of these tests */

/* The judges a case asks; 0 means all three. */
#define J_CHECK 1u  /* pidtuple_check() */
#define J_KERNEL 2u /* our raw clone3(): th_kernel_verdict() */
#define J_FORK 4u   /* pidtuple_fork() */
/* A rule of the library alone: the kernel would accept (and run something unsafe). */
#define J_LIB (J_CHECK | J_FORK)

struct rcase {
	const char *name;
	size_t n;
	pid_t pid[8]; /* inner first, as set_tid */
	uint64_t clone_flags;
	bool set_es;
	int es;
	int err;       /* expected verdict: 0 or -errno */
	uint32_t rule; /* expected rule when err != 0 */
	int inner;     /* expected failing inner index, -1 for none */
	int ret;       /* expected pidtuple_check() return when err == 0 (unverified levels) */
	unsigned int judges;
	/* Known limitation: the validator cannot see what makes the kernel refuse; check
	 * returns ret, the kernel and the fork err, and the fork's diag says rule "kernel". */
	bool limit;
	/* Check with PIDTUPLE_FORK_CHECK_SCAN (groups and sessions without leader). */
	bool scan;
	/* Without the scan the check misses it (returns 0); the fork names it afterwards. */
	bool quick_miss;
};

/* ---- the judges ---- */

#define CASE_CHECK(cond, ...)                                                               \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: case \"%s\": check failed: %s: ", __FILE__, \
				__LINE__, c->name, #cond);                                  \
			fprintf(stderr, __VA_ARGS__);                                       \
			fprintf(stderr, "\n  check: %d %s [%s]\n  fork:  %d %s [%s]\n", r,  \
				pidtuple_rule_name(d.rule), d.message, f,                   \
				pidtuple_rule_name(fd.rule), fd.message);                   \
			goto out;                                                           \
		}                                                                           \
	} while (0)

static int nspid_pos(const struct rcase *c)
{
	return c->inner < 0 ? -1 : (int)c->n - 1 - c->inner;
}

/* Before 6.11 nested levels are seen only by walking /proc (PIDTUPLE_FORK_CHECK_SCAN). */
static bool no_ns_ioctls(void)
{
	return !(pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS);
}

/* Runs one case; 0 when the judges agree with each other and with the expectation. */
static int run_case(const struct rcase *c)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_diag, fd);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = c->clone_flags,
		      .flags = (c->set_es ? PIDTUPLE_FORK_EXIT_SIGNAL : 0) |
			       (c->scan || no_ns_ioctls() ? PIDTUPLE_FORK_CHECK_SCAN : 0),
		      .exit_signal = c->es);
	PIDTUPLE_OPTS(pidtuple_fork_opts, fo, .clone_flags = c->clone_flags,
		      .flags = c->set_es ? PIDTUPLE_FORK_EXIT_SIGNAL : 0, .exit_signal = c->es,
		      .diag = &fd);
	unsigned int j = c->judges ? c->judges : J_CHECK | J_KERNEL | J_FORK;
	struct pidtuple *t = NULL;
	int r = 0, k = 0, f = 0, fail = 1;

	if (pidtuple_from_inner(c->pid, c->n, &t) < 0) {
		fprintf(stderr, "case \"%s\": tuple cannot be built\n", c->name);
		return 1;
	}
	r = pidtuple_check(t, &o, &d);
	if (j & J_KERNEL)
		k = th_kernel_verdict(c->pid, c->n, c->clone_flags,
				      c->set_es ? (uint64_t)(int64_t)c->es : SIGCHLD);
	if (j & J_FORK) {
		f = pidtuple_fork(t, &fo, NULL);
		if (f == 0)
			_exit(0);
		if (f > 0) {
			while (waitpid(f, NULL, __WALL) < 0 && errno == EINTR)
				;
			f = 0;
		}
	}

	CASE_CHECK(d.levels == (int)c->n, "diag.levels %d", d.levels);
	if (c->limit) {
		CASE_CHECK(r == c->ret, "check said %d, expected %d", r, c->ret);
		CASE_CHECK(k == c->err, "kernel said %d, expected %d", k, c->err);
		CASE_CHECK(f == c->err, "fork said %d, expected %d", f, c->err);
		CASE_CHECK(fd.rule == PIDTUPLE_RULE_KERNEL, "fork rule %u", fd.rule);
		CASE_CHECK(fd.kernel_err == c->err, "fork kernel_err %d", fd.kernel_err);
		fail = 0;
		goto out;
	}
	if (j & J_KERNEL)
		CASE_CHECK(k == c->err, "kernel said %d, expected %d", k, c->err);
	if (j & J_FORK)
		CASE_CHECK(f == c->err, "fork said %d, expected %d", f, c->err);
	if (c->quick_miss && !no_ns_ioctls()) {
		CASE_CHECK(r == 0, "quick check said %d, expected 0", r);
		CASE_CHECK(fd.rule == c->rule && fd.inner_index == c->inner,
			   "fork rule %s inner %d", pidtuple_rule_name(fd.rule), fd.inner_index);
		fail = 0;
		goto out;
	}
	if (c->err == 0) {
		CASE_CHECK(r == c->ret, "check said %d, expected %d", r, c->ret);
		CASE_CHECK(d.err == 0 && d.unverified == c->ret, "diag err %d unverified %d", d.err,
			   d.unverified);
		CASE_CHECK(d.rule == (c->ret ? PIDTUPLE_RULE_UNVERIFIED : PIDTUPLE_RULE_NONE),
			   "diag rule %u", d.rule);
		fail = 0;
		goto out;
	}
	CASE_CHECK(r == c->err, "check said %d, expected %d", r, c->err);
	CASE_CHECK(d.err == c->err, "diag.err %d", d.err);
	CASE_CHECK(d.rule == c->rule, "diag.rule %s, expected %s", pidtuple_rule_name(d.rule),
		   pidtuple_rule_name(c->rule));
	CASE_CHECK(d.inner_index == c->inner, "diag.inner_index %d, expected %d", d.inner_index,
		   c->inner);
	CASE_CHECK(d.nspid_pos == nspid_pos(c), "diag.nspid_pos %d", d.nspid_pos);
	if (c->inner >= 0)
		CASE_CHECK(d.pid == c->pid[c->inner], "diag.pid %d", d.pid);
	CASE_CHECK(d.message[0] != '\0', "empty message");
	if (j & J_FORK) {
		CASE_CHECK(fd.rule == c->rule, "fork rule %s", pidtuple_rule_name(fd.rule));
		CASE_CHECK(fd.inner_index == c->inner, "fork inner_index %d", fd.inner_index);
		CASE_CHECK(fd.nspid_pos == nspid_pos(c), "fork nspid_pos %d", fd.nspid_pos);
	}
	fail = 0;
out:
	pidtuple_free(t);
	return fail;
}

static int run_cases(const struct rcase *cases, size_t n)
{
	int fails = 0;

	for (size_t i = 0; i < n; i++)
		fails += run_case(&cases[i]);
	return fails;
}

/* Runs the cases; counts the failures into @fails and goes on. */
#define RUN_COUNT(fails, ...)                                                     \
	do {                                                                      \
		const struct rcase _cases[] = { __VA_ARGS__ };                    \
		(fails) += run_cases(_cases, sizeof(_cases) / sizeof(_cases[0])); \
	} while (0)

/* Runs the cases; fails the test at the first table with a disagreement. */
#define RUN(...)                                                                  \
	do {                                                                      \
		int _fails = 0;                                                   \
		RUN_COUNT(_fails, __VA_ARGS__);                                   \
		TH_CHECK(_fails == 0, "%d case(s) disagree (see above)", _fails); \
	} while (0)

/* ---- small tools ---- */

/* pid_max is per namespace from 6.14: only then may a test lower its own. */
static bool per_ns_pid_max(void)
{
	return th_kernel_at_least(6, 14);
}

static int write_pid_max(int v)
{
	int fd = open("/proc/sys/kernel/pid_max", O_WRONLY | O_CLOEXEC), r = 0;
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", v);

	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len)
		r = -errno;
	close(fd);
	return r;
}

/* Lowers the test namespace's pid_max to OWN_PID_MAX; returns the value now in force. */
static int lower_own_pid_max(void)
{
	if (per_ns_pid_max() && write_pid_max(OWN_PID_MAX) < 0)
		return -1;
	return th_read_pid_max();
}

/* /proc is the test namespace's parent's (the host's, not remounted: an NSpid of two fields
 * here), so the level above the test's is seen through it. */
static bool proc_shows_parent(void)
{
	return th_nspid_entries() == 2;
}

/* A PID free in /proc's namespace: below 300, where the kernel hands out no number again
 * after its first wrap (RESERVED_PIDS), and not in /proc. 0 when there is none. */
static pid_t free_proc_pid(void)
{
	char path[32];

	for (pid_t n = 299; n > 1; n--) {
		snprintf(path, sizeof(path), "/proc/%d", (int)n);
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return n;
	}
	return 0;
}

/* Makes the child's namespace @depth levels below the test's own (0: stays). */
static int enter_nested(int depth, pid_t *holder, int *nsfd)
{
	*holder = 0;
	*nsfd = -1;
	if (depth == 0)
		return 0;
	*holder = th_make_nested_ns(depth, NULL, nsfd);
	TH_CHECK(*holder > 0, "th_make_nested_ns(%d): %d", depth, *holder);
	TH_CHECK(setns(*nsfd, CLONE_NEWPID) == 0, "setns: %m");
	return 0;
}

/* ---- per level: range, taken, too deep, success; 1..3 levels, failure at each ---- */

static int level_positions(void *arg)
{
	int depth = (int)(intptr_t)arg, fds = th_count_fds(), nsfd, own_max, inner_max;
	pid_t holder;
	char names[3][64];

	own_max = lower_own_pid_max();
	TH_CHECK(own_max > FREE_PID, "pid_max %d", own_max);
	inner_max = th_nested_pid_max();
	if (enter_nested(depth, &holder, &nsfd))
		return 1;

	for (int n = 1; n <= depth + 1; n++) {
		struct rcase base = { .n = (size_t)n, .inner = -1 };

		for (int i = 0; i < n; i++)
			base.pid[i] = FREE_PID + i;
		base.name = names[0];
		snprintf(names[0], sizeof(names[0]), "success, depth %d, %d levels", depth, n);
		RUN(base);
		for (int k = 0; k < n; k++) {
			struct rcase range = base, taken = base;

			/* Inner index @depth is the test's own namespace, with its lowered bound.
			 */
			range.pid[k] = k == depth ? own_max : inner_max;
			range.err = -EINVAL;
			range.rule = PIDTUPLE_RULE_PID_RANGE;
			range.inner = k;
			range.name = names[1];
			snprintf(names[1], sizeof(names[1]),
				 "pid-range, depth %d, %d levels, at %d", depth, n, k);
			/* Every level has an init: PID 1 is taken at each. */
			taken.pid[k] = 1;
			taken.err = -EEXIST;
			taken.rule = PIDTUPLE_RULE_PID_TAKEN;
			taken.inner = k;
			taken.name = names[2];
			snprintf(names[2], sizeof(names[2]),
				 "pid-taken, depth %d, %d levels, at %d", depth, n, k);
			RUN(range, taken);
		}
	}
	{
		/* The target is at absolute level depth+1: depth+2 levels reach the host. */
		struct rcase deep = { .name = "too-deep",
				      .n = (size_t)depth + 3,
				      .err = -EINVAL,
				      .rule = PIDTUPLE_RULE_TOO_DEEP,
				      .inner = depth + 2 };
		/* The host's level is /proc's: seen through it, unless /proc is another's. */
		struct rcase host = { .name = "host level seen through /proc",
				      .n = (size_t)depth + 2,
				      .ret = proc_shows_parent() ? 0 : 1,
				      .inner = -1,
				      .judges = J_CHECK };
		struct rcase host_taken = { .name = "host level taken, seen through /proc",
					    .n = (size_t)depth + 2,
					    .err = -EEXIST,
					    .rule = PIDTUPLE_RULE_PID_TAKEN,
					    .inner = depth + 1 };

		for (int i = 0; i < depth + 3; i++)
			deep.pid[i] = host.pid[i] = host_taken.pid[i] = FREE_PID + i;
		host.pid[depth + 1] = free_proc_pid();
		host_taken.pid[depth + 1] = 1; /* the host's init */
		TH_CHECK(host.pid[depth + 1] > 0, "no free PID below 300 in /proc");
		RUN(deep, host);
		if (proc_shows_parent())
			RUN(host_taken);
	}
	return th_clean_up(holder, nsfd, fds);
}

/* ---- pid_max ---- */

static int own_pid_max(void *arg)
{
	int fds = th_count_fds(), start = th_read_pid_max();
	pid_t zero[1] = { 0 }, neg[1] = { -5 };
	struct pidtuple *t = NULL;

	(void)arg;
	TH_CHECK(start > FREE_PID, "pid_max %d", start);
	RUN({ .name = "at pid_max",
	      .n = 1,
	      .pid = { start },
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_PID_RANGE,
	      .inner = 0 },
	    { .name = "below pid_max", .n = 1, .pid = { start - 1 }, .inner = -1 },
	    { .name = "PID_MAX_LIMIT",
	      .n = 1,
	      .pid = { TH_PID_MAX_LIMIT },
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_PID_RANGE,
	      .inner = 0 });

	/* Below 1: the library refuses to build such a tuple, the kernel refuses the call. */
	TH_CHECK(pidtuple_from_inner(zero, 1, &t) == -EINVAL, "PID 0 accepted");
	TH_CHECK(pidtuple_from_inner(neg, 1, &t) == -EINVAL, "PID -5 accepted");
	TH_CHECK(th_kernel_verdict(zero, 1, 0, SIGCHLD) == -EINVAL, "kernel took PID 0");
	TH_CHECK(th_kernel_verdict(neg, 1, 0, SIGCHLD) == -EINVAL, "kernel took PID -5");

	if (per_ns_pid_max()) {
		/* 6.14+: PID 1 of a namespace owned by the initial user ns may lower its own. */
		TH_CHECK(write_pid_max(OWN_PID_MAX) == 0, "cannot lower pid_max");
		TH_CHECK(th_read_pid_max() == OWN_PID_MAX, "pid_max %d", th_read_pid_max());
		RUN({ .name = "at lowered pid_max",
		      .n = 1,
		      .pid = { OWN_PID_MAX },
		      .err = -EINVAL,
		      .rule = PIDTUPLE_RULE_PID_RANGE,
		      .inner = 0 },
		    { .name = "below lowered pid_max",
		      .n = 1,
		      .pid = { OWN_PID_MAX - 1 },
		      .inner = -1 });
	}
	return th_clean_up(0, -1, fds);
}

static int set_pid_max_here(void *arg)
{
	return write_pid_max((int)(intptr_t)arg) == 0 ? 0 : 1;
}

/*
 * Known limitation: a nested namespace's pid_max is readable only from inside it, so the
 * validator assumes a new namespace's start value (PID_MAX_LIMIT) there. When a process in
 * the nested namespace lowered it, pidtuple_check() passes a PID the kernel refuses, and
 * pidtuple_fork() reports the kernel's EINVAL with rule "kernel".
 */
static int nested_pid_max_limit(void *arg)
{
	int fds = th_count_fds(), nsfd;
	pid_t holder;

	(void)arg;
	if (!per_ns_pid_max())
		return 0;
	if (enter_nested(1, &holder, &nsfd))
		return 1;
	RUN({ .name = "nested PID_MAX_LIMIT",
	      .n = 1,
	      .pid = { TH_PID_MAX_LIMIT },
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_PID_RANGE,
	      .inner = 0 },
	    { .name = "nested above the host's pid_max", .n = 1, .pid = { 100000 }, .inner = -1 },
	    { .name = "nested PID_MAX_LIMIT, 2 levels",
	      .n = 2,
	      .pid = { TH_PID_MAX_LIMIT, FREE_PID },
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_PID_RANGE,
	      .inner = 0 });

	/* A process in the nested namespace lowers that namespace's pid_max. */
	TH_CHECK(th_in_child(set_pid_max_here, (void *)(intptr_t)OWN_PID_MAX) == 0,
		 "cannot lower the nested pid_max");
	RUN({ .name = "nested lowered pid_max (limitation)",
	      .n = 1,
	      .pid = { OWN_PID_MAX },
	      .err = -EINVAL,
	      .inner = -1,
	      .limit = true },
	    { .name = "nested lowered pid_max, 2 levels (limitation)",
	      .n = 2,
	      .pid = { OWN_PID_MAX, FREE_PID },
	      .err = -EINVAL,
	      .inner = -1,
	      .limit = true },
	    { .name = "below nested lowered pid_max",
	      .n = 2,
	      .pid = { OWN_PID_MAX - 1, FREE_PID },
	      .inner = -1 });
	return th_clean_up(holder, nsfd, fds);
}

/* ---- namespaces without init, or whose init died ---- */

struct one_case {
	struct rcase c;
	bool make_init_first; /* a first child becomes init and exits: the namespace is dead */
};

static int unshared_case(void *arg)
{
	const struct one_case *oc = arg;
	pid_t one[1] = { 1 };

	TH_CHECK(unshare(CLONE_NEWPID) == 0, "unshare: %m");
	if (oc->make_init_first)
		TH_CHECK(th_kernel_verdict(one, 1, 0, SIGCHLD) == 0, "first child as init failed");
	return run_case(&oc->c);
}

static int no_init(void *arg)
{
	/* Each case in a fresh namespace: the first child created there is its init, and the
	 * namespace is dead once that init has exited. */
	const struct one_case cases[] = {
		{ .c = { .name = "no-init",
			 .n = 1,
			 .pid = { 5 },
			 .err = -EINVAL,
			 .rule = PIDTUPLE_RULE_NO_INIT,
			 .inner = 0 } },
		{ .c = { .name = "no-init, 2 levels",
			 .n = 2,
			 .pid = { 5, FREE_PID },
			 .err = -EINVAL,
			 .rule = PIDTUPLE_RULE_NO_INIT,
			 .inner = 0 } },
		{ .c = { .name = "no-init, PID 1", .n = 1, .pid = { 1 }, .inner = -1 } },
		{ .c = { .name = "no-init, PID 1, 2 levels",
			 .n = 2,
			 .pid = { 1, FREE_PID },
			 .inner = -1 } },
		{ .c = { .name = "no-init, outer taken",
			 .n = 2,
			 .pid = { 1, 1 },
			 .err = -EEXIST,
			 .rule = PIDTUPLE_RULE_PID_TAKEN,
			 .inner = 1 } },
		{ .c = { .name = "init-dead after unshare",
			 .n = 1,
			 .pid = { 5 },
			 .err = -ENOMEM,
			 .rule = PIDTUPLE_RULE_INIT_DEAD,
			 .inner = 0 },
		  .make_init_first = true },
		{ .c = { .name = "init-dead after unshare, PID 1",
			 .n = 2,
			 .pid = { 1, FREE_PID },
			 .err = -ENOMEM,
			 .rule = PIDTUPLE_RULE_INIT_DEAD,
			 .inner = 0 },
		  .make_init_first = true },
	};
	int fds = th_count_fds();

	(void)arg;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct one_case kc = cases[i], fc = cases[i];

		if (cases[i].c.err == 0) {
			/* Success makes an init that exits: the kernel and the fork each need a
			 * namespace of their own, and the check runs in both. */
			kc.c.judges = J_CHECK | J_KERNEL;
			fc.c.judges = J_CHECK | J_FORK;
			TH_CHECK(th_in_child(unshared_case, &kc) == 0, "%s (check)", kc.c.name);
			TH_CHECK(th_in_child(unshared_case, &fc) == 0, "%s", fc.c.name);
			continue;
		}
		TH_CHECK(th_in_child(unshared_case, &fc) == 0, "%s", fc.c.name);
	}
	return th_clean_up(0, -1, fds);
}

static int init_dead(void *arg)
{
	int fds = th_count_fds(), depth = (int)(intptr_t)arg, nsfd;
	pid_t holder = th_make_nested_ns(depth, NULL, &nsfd);

	TH_CHECK(holder > 0, "th_make_nested_ns: %d", holder);
	/* The holder's death kills every level below it; its init, reparented to us, is
	 * reaped too, so only the dead namespaces are left. */
	kill(holder, SIGKILL);
	th_kill_children();
	TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns into a dead namespace: %m");
	if (depth == 1)
		RUN({ .name = "init-dead",
		      .n = 1,
		      .pid = { 5 },
		      .err = -ENOMEM,
		      .rule = PIDTUPLE_RULE_INIT_DEAD,
		      .inner = 0 },
		    { .name = "init-dead, PID 1",
		      .n = 1,
		      .pid = { 1 },
		      .err = -ENOMEM,
		      .rule = PIDTUPLE_RULE_INIT_DEAD,
		      .inner = 0 },
		    { .name = "init-dead, 2 levels",
		      .n = 2,
		      .pid = { 5, FREE_PID },
		      .err = -ENOMEM,
		      .rule = PIDTUPLE_RULE_INIT_DEAD,
		      .inner = 0 });
	else
		RUN({ .name = "init-dead, 3 levels",
		      .n = 3,
		      .pid = { 5, 6, FREE_PID },
		      .err = -ENOMEM,
		      .rule = PIDTUPLE_RULE_INIT_DEAD,
		      .inner = 0 },
		    { .name = "init-dead, 2 of 3 levels",
		      .n = 2,
		      .pid = { 1, 6 },
		      .err = -ENOMEM,
		      .rule = PIDTUPLE_RULE_INIT_DEAD,
		      .inner = 0 });
	return th_clean_up(0, nsfd, fds);
}

/*
 * The init has exited but its parent has not reaped it yet: the namespace already refuses
 * new processes (ENOMEM), though its PID 1 still resolves to the zombie.
 */
static int init_zombie(void *arg)
{
	int fds = th_count_fds(), nsfd;
	pid_t holder = th_make_nested_ns(1, NULL, &nsfd);
	siginfo_t si;

	(void)arg;
	TH_CHECK(holder > 0, "th_make_nested_ns: %d", holder);
	kill(holder, SIGKILL);
	TH_CHECK(waitpid(holder, NULL, 0) == holder, "waitpid: %m");
	/* The nested init is ours now (reparented); wait for it to die, but leave it a zombie. */
	memset(&si, 0, sizeof(si));
	TH_CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | __WALL) == 0 && si.si_pid > 0,
		 "waitid: %m");
	TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
	RUN({ .name = "init-dead, init a zombie",
	      .n = 1,
	      .pid = { 5 },
	      .err = -ENOMEM,
	      .rule = PIDTUPLE_RULE_INIT_DEAD,
	      .inner = 0 },
	    { .name = "init-dead, init a zombie, 2 levels",
	      .n = 2,
	      .pid = { 5, FREE_PID },
	      .err = -ENOMEM,
	      .rule = PIDTUPLE_RULE_INIT_DEAD,
	      .inner = 0 });
	return th_clean_up(0, nsfd, fds);
}

/* ---- taken PIDs: a live process, a zombie, a thread, a group or session without leader ---- */

enum holder_kind { K_LIVE, K_ZOMBIE, K_THREAD, K_PGRP, K_SESSION, K_MAX };
static const char *const kind_name[K_MAX] = { "live process", "zombie", "thread id",
					      "process group without leader",
					      "session without leader" };

/* The holders below write their numbers in /proc's namespace instead of their own. */
static bool proc_numbers;

/* The caller's number (its thread's with @thread) in /proc's namespace: the "self" links. */
static pid_t proc_number(bool thread)
{
	char buf[64];
	ssize_t len = readlink(thread ? "/proc/thread-self" : "/proc/self", buf, sizeof(buf) - 1);
	const char *p;

	if (len <= 0)
		return -1;
	buf[len] = '\0';
	p = thread ? strrchr(buf, '/') : NULL; /* "PID/task/TID" */
	return atoi(p ? p + 1 : buf);
}

static void *thread_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	pid_t tid = proc_numbers ? proc_number(true) : th_raw_gettid();

	(void)!write(fd, &tid, sizeof(tid));
	for (;;)
		pause();
	return NULL;
}

/* Body of the process that makes the number: writes the number (as its namespace counts). */
static void __attribute__((noreturn)) kind_child(enum holder_kind kind, int fd)
{
	pid_t self = proc_numbers ? proc_number(false) : getpid();
	int sync[2];
	pthread_t th;

	switch (kind) {
	case K_LIVE:
		(void)!write(fd, &self, sizeof(self));
		for (;;)
			pause();
	case K_ZOMBIE:
		(void)!write(fd, &self, sizeof(self));
		_exit(0);
	case K_THREAD:
		if (pthread_create(&th, NULL, thread_main, (void *)(intptr_t)fd) != 0)
			_exit(1);
		for (;;)
			pause();
	case K_PGRP:
	case K_SESSION:
		if ((kind == K_PGRP ? setpgid(0, 0) : setsid()) < 0 || pipe(sync) < 0)
			_exit(1);
		if (fork() == 0) {
			char c = 1;

			/* In a session, a member in a group of its own keeps only the sid. */
			if (kind == K_SESSION && setpgid(0, 0) < 0)
				_exit(1);
			(void)!write(sync[1], &c, 1);
			for (;;)
				pause();
		}
		{
			char c;

			(void)!read(sync[0], &c, 1);
		}
		(void)!write(fd, &self, sizeof(self));
		_exit(0); /* the leader leaves; its number stays as the group's or session's */
	default:
		_exit(1);
	}
}

/* Makes a holder of a PID number in the child's namespace; returns that number or -1. */
static pid_t make_taken(enum holder_kind kind)
{
	int p[2];
	pid_t pid, nr = -1;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		kind_child(kind, p[1]);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &nr, sizeof(nr)) != (ssize_t)sizeof(nr))
		nr = -1;
	close(p[0]);
	/* The leader of a group or session exits: reap it so only the number is left. */
	if (kind == K_PGRP || kind == K_SESSION)
		waitpid(pid, NULL, 0);
	return nr;
}

/* A group or session that outlived its leader: only PIDTUPLE_FORK_CHECK_SCAN finds it. */
static bool leaderless(int kind)
{
	return kind == K_PGRP || kind == K_SESSION;
}

static int taken_kinds(void *arg)
{
	int fds = th_count_fds(), nsfd;
	pid_t holder, own[K_MAX], nested[K_MAX];
	char name[96];
	int fails = 0;

	(void)arg;
	for (int k = 0; k < K_MAX; k++) {
		own[k] = make_taken(k);
		TH_CHECK(own[k] > 1, "cannot make a %s", kind_name[k]);
		snprintf(name, sizeof(name), "own level: %s %d", kind_name[k], own[k]);
		RUN_COUNT(fails, { .name = name,
				   .n = 1,
				   .pid = { own[k] },
				   .err = -EEXIST,
				   .rule = PIDTUPLE_RULE_PID_TAKEN,
				   .inner = 0,
				   .scan = leaderless(k) });
		/* At its own level a group is seen by kill(-pgid, 0); a session is not. */
		if (k == K_SESSION)
			RUN_COUNT(fails, { .name = name,
					   .n = 1,
					   .pid = { own[k] },
					   .err = -EEXIST,
					   .rule = PIDTUPLE_RULE_PID_TAKEN,
					   .inner = 0,
					   .quick_miss = true });
	}
	if (enter_nested(1, &holder, &nsfd))
		return 1;
	for (int k = 0; k < K_MAX; k++) {
		nested[k] = make_taken(k);
		TH_CHECK(nested[k] > 1, "cannot make a nested %s", kind_name[k]);
	}
	for (int k = 0; k < K_MAX; k++) {
		snprintf(name, sizeof(name), "nested: %s %d", kind_name[k], nested[k]);
		RUN_COUNT(fails,
			  { .name = name,
			    .n = 1,
			    .pid = { nested[k] },
			    .err = -EEXIST,
			    .rule = PIDTUPLE_RULE_PID_TAKEN,
			    .inner = 0,
			    .scan = leaderless(k) },
			  { .name = name,
			    .n = 2,
			    .pid = { nested[k], FREE_PID },
			    .err = -EEXIST,
			    .rule = PIDTUPLE_RULE_PID_TAKEN,
			    .inner = 0,
			    .scan = leaderless(k) });
		snprintf(name, sizeof(name), "outer of 2: %s %d", kind_name[k], own[k]);
		RUN_COUNT(fails, { .name = name,
				   .n = 2,
				   .pid = { FREE_PID, own[k] },
				   .err = -EEXIST,
				   .rule = PIDTUPLE_RULE_PID_TAKEN,
				   .inner = 1,
				   .scan = leaderless(k) });
	}
	TH_CHECK(fails == 0, "%d case(s) disagree (see above)", fails);
	return th_clean_up(holder, nsfd, fds);
}

/* ---- CLONE_NEWPID ---- */

static int newpid_from_l2(void *arg)
{
	(void)arg;
	/* The caller lives in a nested namespace: the test's own is above it, invisible. */
	RUN({ .name = "newpid 3 levels from nested",
	      .n = 3,
	      .pid = { 1, FREE_PID, FREE_PID + 1 },
	      .clone_flags = CLONE_NEWPID,
	      .ret = 1,
	      .inner = -1 },
	    { .name = "newpid-needs-1, 3 levels",
	      .n = 3,
	      .pid = { 5, FREE_PID, FREE_PID + 1 },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_NEWPID_ONE,
	      .inner = 0 },
	    { .name = "newpid, middle taken",
	      .n = 3,
	      .pid = { 1, 1, FREE_PID + 1 },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EEXIST,
	      .rule = PIDTUPLE_RULE_PID_TAKEN,
	      .inner = 1 },
	    /* Taken at a level the caller cannot see: only the kernel knows. */
	    { .name = "newpid, invisible level taken",
	      .n = 3,
	      .pid = { 1, FREE_PID, 1 },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EEXIST,
	      .ret = 1,
	      .inner = -1,
	      .limit = true });
	return 0;
}

/* pidtuple_check() of @pid alone with @flags: the verdict, the diag in @d. */
static int check_one_with(pid_t pid, uint64_t flags, struct pidtuple_diag *d)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = flags);
	struct pidtuple *t = NULL;
	int r = pidtuple_from_inner(&pid, 1, &t);

	if (r == 0)
		r = pidtuple_check(t, &o, d);
	pidtuple_free(t);
	return r;
}

static int check_one(pid_t pid, struct pidtuple_diag *d)
{
	return check_one_with(pid, 0, d);
}

/* A zombie holds its PID until its parent waits for it: the verdict says so and names that
 * parent; a living holder gets no such words; once reaped, the PID is free. */
static int zombie_named(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	int fds = th_count_fds(), r;
	char want[64];
	siginfo_t si;
	pid_t z;

	(void)arg;
	r = check_one(getpid(), &d);
	TH_CHECK(r == -EEXIST && !strstr(d.message, "reaped"), "living holder: %d %s", r,
		 d.message);
	z = fork();
	TH_CHECK(z >= 0, "fork: %m");
	if (z == 0)
		_exit(0);
	memset(&si, 0, sizeof(si));
	TH_CHECK(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) == 0, "waitid: %m");
	r = check_one(z, &d);
	snprintf(want, sizeof(want), "a zombie of %d, not yet reaped", (int)getpid());
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.pid == z &&
			 strstr(d.message, want),
		 "zombie %d: %d %s: %s", (int)z, r, pidtuple_rule_name(d.rule), d.message);
	TH_CHECK(waitpid(z, NULL, 0) == z, "waitpid: %m");
	r = check_one(z, &d);
	TH_CHECK(r == 0, "reaped %d: %d %s", (int)z, r, d.message);
	return th_clean_up(0, -1, fds);
}

/* A node of two levels, outer first, with one thread's TIDs when @thread is given. */
static int add_pair(struct pidtuple_tree *tree, int parent, pid_t outer, pid_t inner,
		    const pid_t *thread)
{
	pid_t in[2] = { inner, outer }, tin[2];
	struct pidtuple *t = NULL, *th = NULL;
	int r = pidtuple_from_inner(in, 2, &t);

	if (r == 0 && thread) {
		tin[0] = thread[1];
		tin[1] = thread[0];
		r = pidtuple_from_inner(tin, 2, &th);
	}
	if (r == 0)
		r = pidtuple_tree_add(
			tree,
			&(struct pidtuple_node){ .sz = sizeof(struct pidtuple_node),
						 .parent = parent,
						 .kind = PIDTUPLE_NODE_HOLD,
						 .tuple = t,
						 .threads = (const struct pidtuple *const[]){ th },
						 .nthreads = th ? 1 : 0 });
	pidtuple_free(t);
	pidtuple_free(th);
	return r;
}

/* pidtuple_tree_check() sees /proc's level for every node and thread, not only the root: the
 * host's init (PID 1 there) is found as a child node's and as a thread's outer number. */
static int outer_seen_tree(void)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	pid_t free1 = free_proc_pid(), host_init[2] = { 1, 52 };
	struct pidtuple_tree *tree = NULL;
	int r;

	TH_CHECK(free1 > 0 && pidtuple_tree_new(&tree) == 0, "setup");
	TH_CHECK(add_pair(tree, -1, free1, 50, NULL) == 0, "root");
	r = pidtuple_tree_check(tree, NULL, &d);
	TH_CHECK(r == 0, "a free tree: %d %s", r, d.message);
	TH_CHECK(add_pair(tree, 0, 1, 51, NULL) == 1, "child");
	r = pidtuple_tree_check(tree, NULL, &d);
	TH_CHECK(r == -EEXIST && d.node == 1 && d.inner_index == 1 &&
			 strstr(d.message, "PID 1 (NSpid field 1 of 2) is already in use"),
		 "node 1 at 1/51: %d %s", r, d.message);
	pidtuple_tree_free(tree);
	TH_CHECK(pidtuple_tree_new(&tree) == 0, "tree");
	TH_CHECK(add_pair(tree, -1, free1, 50, host_init) == 0, "root with a thread");
	r = pidtuple_tree_check(tree, NULL, &d);
	TH_CHECK(r == -EEXIST && d.node == 0 && d.thread == 0 && d.inner_index == 1,
		 "thread at 1/52: %d %s", r, d.message);
	pidtuple_tree_free(tree);
	return 0;
}

/*
 * With the host's /proc (not remounted), the level above the test's namespace is /proc's: a
 * PID there is taken when /proc shows it (a process, a thread, a zombie), or, with the scan,
 * when a group or session there has it. The verdict names that level (NSpid field 1 of 2).
 */
static int outer_seen(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_CHECK_SCAN);
	pid_t held[K_MAX], pair[2] = { 50, 1 };
	int fds = th_count_fds(), fails = 0, r;
	struct pidtuple *t = NULL;
	char name[96];

	(void)arg;
	if (!proc_shows_parent()) {
		fprintf(stderr, "outer_seen: skipped: /proc is not the parent namespace's\n");
		return 0;
	}
	/* The oracle's case: 1/50 from the init of a namespace below the host's. */
	TH_CHECK(pidtuple_from_inner(pair, 2, &t) == 0, "tuple 1/50");
	r = pidtuple_check(t, &o, &d);
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.inner_index == 1 &&
			 d.nspid_pos == 0 && d.pid == 1 &&
			 strstr(d.message, "PID 1 (NSpid field 1 of 2) is already in use"),
		 "1/50: %d %s: %s", r, pidtuple_rule_name(d.rule), d.message);
	{
		/* The same verdict before any fork, with PIDTUPLE_FORK_CHECK. */
		PIDTUPLE_OPTS(pidtuple_fork_opts, fo, .flags = PIDTUPLE_FORK_CHECK, .diag = &d);

		r = pidtuple_fork(t, &fo, NULL);
		if (r == 0)
			_exit(0);
		TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.inner_index == 1 &&
				 d.kernel_err == 0,
			 "fork 1/50 with the check: %d %s: %s", r, pidtuple_rule_name(d.rule),
			 d.message);
	}
	pidtuple_free(t);
	RUN({ .name = "outer: the host's init",
	      .n = 2,
	      .pid = { 50, 1 },
	      .err = -EEXIST,
	      .rule = PIDTUPLE_RULE_PID_TAKEN,
	      .inner = 1 },
	    { .name = "outer: free, checked",
	      .n = 2,
	      .pid = { 50, free_proc_pid() },
	      .inner = -1,
	      .judges = J_CHECK });
	proc_numbers = true;
	for (int k = 0; k < K_MAX; k++)
		held[k] = make_taken(k);
	proc_numbers = false;
	for (int k = 0; k < K_MAX; k++) {
		TH_CHECK(held[k] > 1, "cannot make a %s", kind_name[k]);
		snprintf(name, sizeof(name), "outer: %s %d", kind_name[k], held[k]);
		RUN_COUNT(fails, { .name = name,
				   .n = 2,
				   .pid = { 50, held[k] },
				   .err = -EEXIST,
				   .rule = PIDTUPLE_RULE_PID_TAKEN,
				   .inner = 1,
				   .scan = leaderless(k) });
		/* /proc shows no group or session by number: only the scan finds them. */
		if (leaderless(k))
			RUN_COUNT(fails, { .name = name,
					   .n = 2,
					   .pid = { 50, held[k] },
					   .err = -EEXIST,
					   .rule = PIDTUPLE_RULE_PID_TAKEN,
					   .inner = 1,
					   .quick_miss = true });
	}
	TH_CHECK(fails == 0, "%d case(s) disagree (see above)", fails);
	/* The zombie is this process's child: named, its parent in the caller's numbering. */
	pair[1] = held[K_ZOMBIE];
	TH_CHECK(pidtuple_from_inner(pair, 2, &t) == 0, "tuple");
	r = pidtuple_check(t, NULL, &d);
	pidtuple_free(t);
	TH_CHECK(r == -EEXIST && strstr(d.message, "a zombie of 1, not yet reaped"),
		 "outer zombie %d: %d %s", (int)held[K_ZOMBIE], r, d.message);
	TH_CHECK(outer_seen_tree() == 0, "the tree check at /proc's level");
	return th_clean_up(0, -1, fds);
}

/* The tree check names the zombie holding @pid of a child node the same way. */
static int tree_names_zombie(pid_t pid)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	pid_t root_pid = FREE_PID;
	struct pidtuple *root = NULL, *child = NULL;
	struct pidtuple_tree *tree = NULL;
	int r = pidtuple_tree_new(&tree);

	if (r == 0)
		r = pidtuple_from_inner(&root_pid, 1, &root);
	if (r == 0)
		r = pidtuple_from_inner(&pid, 1, &child);
	if (r == 0)
		r = pidtuple_tree_add(tree,
				      &(struct pidtuple_node){ .sz = sizeof(struct pidtuple_node),
							       .parent = -1,
							       .kind = PIDTUPLE_NODE_HOLD,
							       .tuple = root });
	if (r == 0)
		r = pidtuple_tree_add(tree,
				      &(struct pidtuple_node){ .sz = sizeof(struct pidtuple_node),
							       .parent = 0,
							       .kind = PIDTUPLE_NODE_HOLD,
							       .tuple = child });
	if (r == 1)
		r = pidtuple_tree_check(tree, NULL, &d);
	pidtuple_tree_free(tree);
	pidtuple_free(root);
	pidtuple_free(child);
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.node == 1,
		 "tree check: %d %s: %s", r, pidtuple_rule_name(d.rule), d.message);
	if (!no_ns_ioctls())
		TH_CHECK(strstr(d.message, "a zombie of 1, not yet reaped"), "tree check: %s",
			 d.message);
	return 0;
}

/* A zombie holding a PID in a namespace below the caller's is named too: its parent (this
 * process, PID 1 here) in the caller's numbering. */
static int zombie_nested_named(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	int fds = th_count_fds(), nsfd, p[2], r;
	pid_t holder, z, zin = -1;
	siginfo_t si;

	(void)arg;
	if (enter_nested(1, &holder, &nsfd))
		return 1;
	TH_CHECK(pipe(p) == 0, "pipe: %m");
	z = fork();
	TH_CHECK(z >= 0, "fork: %m");
	if (z == 0) {
		pid_t self = getpid(); /* its number in the nested namespace */

		(void)!write(p[1], &self, sizeof(self));
		_exit(0);
	}
	close(p[1]);
	TH_CHECK(read(p[0], &zin, sizeof(zin)) == (ssize_t)sizeof(zin) && zin > 1, "no number");
	close(p[0]);
	memset(&si, 0, sizeof(si));
	TH_CHECK(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT) == 0, "waitid: %m");
	/* Without the nsfs ioctls (before 6.11) the nested level is seen only by the scan. */
	r = check_one_with(zin, no_ns_ioctls() ? PIDTUPLE_FORK_CHECK_SCAN : 0, &d);
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.pid == zin,
		 "nested zombie %d: %d %s", (int)zin, r, d.message);
	if (!no_ns_ioctls()) {
		TH_CHECK(strstr(d.message, "a zombie of 1, not yet reaped"), "nested zombie: %s",
			 d.message);
		TH_CHECK(tree_names_zombie(zin) == 0, "the tree check");
	}
	TH_CHECK(waitpid(z, NULL, 0) == z, "waitpid: %m");
	/* Its number leaves the namespace a moment after the reaping (6.15+). */
	for (int i = 0;
	     i < 200 && (r = check_one_with(zin, no_ns_ioctls() ? PIDTUPLE_FORK_CHECK_SCAN : 0,
					    &d)) == -EEXIST;
	     i++)
		usleep(1000);
	TH_CHECK(r == 0, "reaped %d: %d %s", (int)zin, r, d.message);
	return th_clean_up(holder, nsfd, fds);
}

static int newpid_one(void *arg)
{
	int fds = th_count_fds(), own_max = lower_own_pid_max(), nsfd;
	pid_t holder;

	(void)arg;
	RUN({ .name = "newpid-needs-1",
	      .n = 1,
	      .pid = { 5 },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_NEWPID_ONE,
	      .inner = 0 },
	    { .name = "newpid {1}",
	      .n = 1,
	      .pid = { 1 },
	      .clone_flags = CLONE_NEWPID,
	      .inner = -1 },
	    { .name = "newpid-needs-1, 2 levels",
	      .n = 2,
	      .pid = { 5, FREE_PID },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_NEWPID_ONE,
	      .inner = 0 },
	    { .name = "newpid {1, free}",
	      .n = 2,
	      .pid = { 1, FREE_PID },
	      .clone_flags = CLONE_NEWPID,
	      .inner = -1 },
	    { .name = "newpid, outer taken",
	      .n = 2,
	      .pid = { 1, 1 },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EEXIST,
	      .rule = PIDTUPLE_RULE_PID_TAKEN,
	      .inner = 1 },
	    { .name = "newpid, outer range",
	      .n = 2,
	      .pid = { 1, own_max },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_PID_RANGE,
	      .inner = 1 },
	    { .name = "newpid, host level seen through /proc",
	      .n = 3,
	      .pid = { 1, FREE_PID, free_proc_pid() },
	      .clone_flags = CLONE_NEWPID,
	      .ret = proc_shows_parent() ? 0 : 1,
	      .inner = -1,
	      .judges = J_CHECK },
	    { .name = "newpid too-deep",
	      .n = 4,
	      .pid = { 1, FREE_PID, FREE_PID, FREE_PID },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_TOO_DEEP,
	      .inner = 3 },
	    { .name = "newuser|newpid as root",
	      .n = 2,
	      .pid = { 1, FREE_PID },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID,
	      .inner = -1 });

	/* From a process whose active namespace is nested: three levels. */
	if (enter_nested(1, &holder, &nsfd))
		return 1;
	TH_CHECK(th_in_child(newpid_from_l2, NULL) == 0, "cases from the nested namespace");
	return th_clean_up(holder, nsfd, fds);
}

static int newpid_after_unshare(void *arg)
{
	int with_init = (int)(intptr_t)arg;
	pid_t init = 0;

	TH_CHECK(unshare(CLONE_NEWPID) == 0, "unshare: %m");
	if (with_init) {
		/* An init that stays: the namespace is alive, still not the active one. */
		init = fork();
		if (init == 0)
			for (;;)
				pause();
		TH_CHECK(init > 0, "fork: %m");
	}
	RUN({ .name = "newpid after unshare",
	      .n = 1,
	      .pid = { 1 },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_NEWPID_UNSHARED,
	      .inner = -1 },
	    { .name = "newpid after unshare, 2 levels",
	      .n = 2,
	      .pid = { 1, FREE_PID },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_NEWPID_UNSHARED,
	      .inner = -1 });
	if (init > 0) {
		kill(init, SIGKILL);
		waitpid(init, NULL, 0);
	}
	return 0;
}

static int newpid_unshared(void *arg)
{
	int fds = th_count_fds(), nsfd;
	pid_t holder;

	(void)arg;
	TH_CHECK(th_in_child(newpid_after_unshare, (void *)0) == 0, "after unshare");
	TH_CHECK(th_in_child(newpid_after_unshare, (void *)1) == 0, "after unshare, with init");
	if (enter_nested(1, &holder, &nsfd))
		return 1;
	RUN({ .name = "newpid after setns",
	      .n = 1,
	      .pid = { 1 },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_NEWPID_UNSHARED,
	      .inner = -1 },
	    { .name = "newpid after setns, 3 levels",
	      .n = 3,
	      .pid = { 1, FREE_PID, FREE_PID },
	      .clone_flags = CLONE_NEWPID,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_NEWPID_UNSHARED,
	      .inner = -1 });
	return th_clean_up(holder, nsfd, fds);
}

/* ---- flags, exit signal, level count ---- */

#define RAW_CLONE_VM 0x00000100ull
#define RAW_CLONE_FS 0x00000200ull
#define RAW_CLONE_SIGHAND 0x00000800ull
#define RAW_CLONE_PARENT 0x00008000ull
#define RAW_CLONE_THREAD 0x00010000ull
#define RAW_CLONE_SYSVSEM 0x00040000ull
#define RAW_CLONE_NEWTIME 0x00000080ull

static int flags(void *arg)
{
	int fds = th_count_fds();

	(void)arg;
	RUN(/* The kernel refuses these too. */
	    { .name = "CLONE_THREAD without CLONE_SIGHAND",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = RAW_CLONE_THREAD,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1 },
	    { .name = "CLONE_SIGHAND without CLONE_VM",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = RAW_CLONE_SIGHAND,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1 },
	    { .name = "CSIGNAL bits in flags",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = SIGCHLD,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1 },
	    { .name = "unknown flag bit 40",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = 1ull << 40,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1 },
	    { .name = "CLONE_NEWNS|CLONE_FS",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = CLONE_NEWNS | RAW_CLONE_FS,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1 },
	    { .name = "CLONE_NEWIPC|CLONE_SYSVSEM",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = CLONE_NEWIPC | RAW_CLONE_SYSVSEM,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1 },
	    /* The test runs as an init: the kernel refuses CLONE_PARENT from it. */
	    { .name = "CLONE_PARENT from an init",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = RAW_CLONE_PARENT,
	      .set_es = true,
	      .es = 0,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1 },
	    /* Library rule: CLONE_VM alone is accepted by the kernel (the child would run on
	     * our stack), so the kernel is not asked. */
	    { .name = "CLONE_VM (library rule)",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = RAW_CLONE_VM,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_FLAGS,
	      .inner = -1,
	      .judges = J_LIB },
	    /* Namespace flags as root: accepted by all. */
	    { .name = "every namespace flag but NEWPID/NEWUSER",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
			     CLONE_NEWCGROUP | RAW_CLONE_NEWTIME,
	      .inner = -1 },
	    { .name = "NEWPID|NEWNS|NEWUTS",
	      .n = 1,
	      .pid = { 1 },
	      .clone_flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS,
	      .inner = -1 });
	{
		/* Unknown pidtuple_fork_opts::flags bits: options of the library alone. */
		PIDTUPLE_OPTS(pidtuple_diag, d);
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = 1ull << 20);
		pid_t one[1] = { FREE_PID };
		struct pidtuple *t = NULL;

		TH_CHECK(pidtuple_from_inner(one, 1, &t) == 0, "tuple");
		TH_CHECK(pidtuple_check(t, &o, &d) == -EINVAL && d.rule == PIDTUPLE_RULE_FLAGS,
			 "unknown options flag: rule %u", d.rule);
		pidtuple_free(t);
	}
	return th_clean_up(0, -1, fds);
}

static int exit_signal(void *arg)
{
	int fds = th_count_fds();

	(void)arg;
	RUN({ .name = "exit signal 65",
	      .n = 1,
	      .pid = { FREE_PID },
	      .set_es = true,
	      .es = 65,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_EXIT_SIGNAL,
	      .inner = -1 },
	    { .name = "exit signal -1",
	      .n = 1,
	      .pid = { FREE_PID },
	      .set_es = true,
	      .es = -1,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_EXIT_SIGNAL,
	      .inner = -1 },
	    { .name = "exit signal 1000",
	      .n = 1,
	      .pid = { FREE_PID },
	      .set_es = true,
	      .es = 1000,
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_EXIT_SIGNAL,
	      .inner = -1 },
	    { .name = "exit signal 64",
	      .n = 1,
	      .pid = { FREE_PID },
	      .set_es = true,
	      .es = 64,
	      .inner = -1 },
	    { .name = "exit signal 0",
	      .n = 1,
	      .pid = { FREE_PID },
	      .set_es = true,
	      .es = 0,
	      .inner = -1 },
	    { .name = "exit signal SIGUSR1",
	      .n = 1,
	      .pid = { FREE_PID },
	      .set_es = true,
	      .es = SIGUSR1,
	      .inner = -1 });
	return th_clean_up(0, -1, fds);
}

static int level_count(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	pid_t pids[PIDTUPLE_MAX_LEVELS + 1];
	struct pidtuple *t = NULL;
	int fds = th_count_fds();

	(void)arg;
	for (int i = 0; i <= PIDTUPLE_MAX_LEVELS; i++)
		pids[i] = FREE_PID + i;
	/* 33 levels: no tuple can hold them, and the kernel refuses the array. */
	TH_CHECK(pidtuple_from_inner(pids, PIDTUPLE_MAX_LEVELS + 1, &t) == -EINVAL, "33 levels");
	TH_CHECK(th_kernel_verdict(pids, PIDTUPLE_MAX_LEVELS + 1, 0, SIGCHLD) == -EINVAL,
		 "kernel took 33 levels");
	/* 0 levels: no tuple, and the kernel refuses a set_tid array of size 0. */
	TH_CHECK(pidtuple_from_inner(pids, 0, &t) == -EINVAL, "0 levels");
	TH_CHECK(pidtuple_check(NULL, NULL, &d) == -EINVAL, "no tuple");
	TH_CHECK(d.rule == PIDTUPLE_RULE_LEVEL_COUNT, "rule %s", pidtuple_rule_name(d.rule));
	{
		struct th_clone_args a = { .exit_signal = SIGCHLD, .set_tid = (uintptr_t)pids };

		TH_CHECK(th_raw_clone3(&a, sizeof(a)) == -EINVAL, "kernel took set_tid of size 0");
	}
	/* 32 levels is a valid count; here it is too deep (the kernel says EINVAL too). */
	RUN({ .name = "8 levels too deep",
	      .n = 8,
	      .pid = { 1, 2, 3, 4, 5, 6, 7, 8 },
	      .err = -EINVAL,
	      .rule = PIDTUPLE_RULE_TOO_DEEP,
	      .inner = 7 });
	TH_CHECK(pidtuple_from_inner(pids, PIDTUPLE_MAX_LEVELS, &t) == 0, "32 levels");
	TH_CHECK(pidtuple_check(t, NULL, &d) == -EINVAL && d.rule == PIDTUPLE_RULE_TOO_DEEP &&
			 d.inner_index == PIDTUPLE_MAX_LEVELS - 1,
		 "32 levels: rule %s at %d", pidtuple_rule_name(d.rule), d.inner_index);
	TH_CHECK(th_kernel_verdict(pids, PIDTUPLE_MAX_LEVELS, 0, SIGCHLD) == -EINVAL,
		 "kernel took 32 levels here");
	pidtuple_free(t);
	return th_clean_up(0, -1, fds);
}

/* ---- the suite ---- */

TH_NS_TEST(test_levels_own, level_positions, 0)
TH_NS_TEST(test_levels_nested1, level_positions, 1)
TH_NS_TEST(test_levels_nested2, level_positions, 2)
TH_NS_TEST(test_pid_max_own, own_pid_max, 0)
TH_NS_TEST(test_pid_max_nested, nested_pid_max_limit, 0)
TH_NS_TEST(test_no_init, no_init, 0)
TH_NS_TEST(test_init_dead, init_dead, 1)
TH_NS_TEST(test_init_dead_deep, init_dead, 2)
TH_NS_TEST(test_init_zombie, init_zombie, 0)
TH_NS_TEST(test_taken, taken_kinds, 0)
TH_NS_TEST(test_zombie_named, zombie_named, 0)
TH_NS_TEST(test_zombie_nested_named, zombie_nested_named, 0)
TH_NS_TEST(test_outer_seen, outer_seen, 0)
TH_NS_TEST(test_newpid_one, newpid_one, 0)
TH_NS_TEST(test_newpid_unshared, newpid_unshared, 0)
TH_NS_TEST(test_flags, flags, 0)
TH_NS_TEST(test_exit_signal, exit_signal, 0)
TH_NS_TEST(test_level_count, level_count, 0)

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("kernel-agreement");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_levels_own);
	tcase_add_test(tc, test_levels_nested1);
	tcase_add_test(tc, test_levels_nested2);
	tcase_add_test(tc, test_pid_max_own);
	tcase_add_test(tc, test_pid_max_nested);
	tcase_add_test(tc, test_no_init);
	tcase_add_test(tc, test_init_dead);
	tcase_add_test(tc, test_init_dead_deep);
	tcase_add_test(tc, test_init_zombie);
	tcase_add_test(tc, test_taken);
	tcase_add_test(tc, test_zombie_named);
	tcase_add_test(tc, test_zombie_nested_named);
	tcase_add_test(tc, test_outer_seen);
	tcase_add_test(tc, test_newpid_one);
	tcase_add_test(tc, test_newpid_unshared);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_exit_signal);
	tcase_add_test(tc, test_level_count);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(rules_suite());
}
