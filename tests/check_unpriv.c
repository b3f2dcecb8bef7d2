/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The privilege rules against the real kernel, as its own selftests do them: drop to an
 * unprivileged uid keeping (a) no capability, (b) only CAP_CHECKPOINT_RESTORE, (c) only
 * CAP_SYS_ADMIN, and compare pidtuple_check(), a raw clone3() and pidtuple_fork().
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define NOBODY 65534
#define FREE_PID 700
#define CAP_SYS_ADMIN_BIT 21
#define CAP_CHECKPOINT_RESTORE_BIT 40
#define LINUX_CAPABILITY_VERSION_3 0x20080522

enum caps { CAPS_NONE, CAPS_CR, CAPS_SYS_ADMIN, CAPS_MAX };
static const uint64_t cap_mask[CAPS_MAX] = { 0, 1ull << CAP_CHECKPOINT_RESTORE_BIT,
					     1ull << CAP_SYS_ADMIN_BIT };
static const char *const caps_name[CAPS_MAX] = { "no capability", "CAP_CHECKPOINT_RESTORE",
						 "CAP_SYS_ADMIN" };

struct want {
	int err;       /* 0 or -errno */
	uint32_t rule; /* when err != 0 */
	int inner;     /* failing inner index, -1 for none */
};

struct ucase {
	const char *name;
	size_t n;
	pid_t pid[4]; /* inner first */
	uint64_t clone_flags;
	bool userns; /* makes a user namespace: the sandbox may forbid it */
	int ret;     /* pidtuple_check() return on success: levels left unverified */
	struct want want[CAPS_MAX];
};

#define OK               \
	{                \
		0, 0, -1 \
	}
#define EPERM_AT(i)                                \
	{                                          \
		-EPERM, PIDTUPLE_RULE_PRIVILEGE, i \
	}
#define NS_EPERM                                       \
	{                                              \
		-EPERM, PIDTUPLE_RULE_NS_PRIVILEGE, -1 \
	}
#define TAKEN_AT(i)                                 \
	{                                           \
		-EEXIST, PIDTUPLE_RULE_PID_TAKEN, i \
	}

/* Whether this sandbox lets the unprivileged caller make user namespaces; 1 yes, 0 no. */
static int userns_allowed;
static int userns_errno;

/* ---- privilege dropping ---- */

static int set_caps(uint64_t eff, uint64_t perm)
{
	struct {
		uint32_t version;
		int pid;
	} hdr = { LINUX_CAPABILITY_VERSION_3, 0 };
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2] = { { (uint32_t)eff, (uint32_t)perm, 0 },
		      { (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), 0 } };

	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

/* Becomes uid/gid 65534 keeping @eff effective and @perm permitted. */
static int drop_to_nobody(uint64_t eff, uint64_t perm)
{
	uid_t r, e, s;

	if (prctl(PR_SET_KEEPCAPS, 1) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return -errno;
	if (set_caps(eff, perm) < 0)
		return -errno;
	/* A uid change clears dumpable; our own /proc files stay ours with it set. */
	if (prctl(PR_SET_DUMPABLE, 1) < 0)
		return -errno;
	if (getresuid(&r, &e, &s) < 0 || r != NOBODY || e != NOBODY || s != NOBODY)
		return -EPERM;
	return 0;
}

/* ---- the judges: pidtuple_check(), th_kernel_verdict(), pidtuple_fork() ---- */

#define CASE_CHECK(cond, ...)                                                                    \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr,                                                          \
				"%s:%d: case \"%s\" with %s: check failed: %s: ", __FILE__,      \
				__LINE__, c->name, caps_name[caps], #cond);                      \
			fprintf(stderr, __VA_ARGS__);                                            \
			fprintf(stderr,                                                          \
				"\n  check: %d %s [%s]\n  kernel: %d\n  fork:  %d %s [%s]\n", r, \
				pidtuple_rule_name(d.rule), d.message, k, f,                     \
				pidtuple_rule_name(fd.rule), fd.message);                        \
			goto out;                                                                \
		}                                                                                \
	} while (0)

/* One case with the capabilities the caller holds now; 0 when all judges agree. */
static int run_case(const struct ucase *c, enum caps caps)
{
	const struct want *w = &c->want[caps];
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_diag, fd);
	/* Before 6.11 (no nsfs ioctls) nested levels are seen only by walking /proc. */
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = c->clone_flags,
		      .flags = pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS
				       ? 0
				       : PIDTUPLE_FORK_CHECK_SCAN);
	PIDTUPLE_OPTS(pidtuple_fork_opts, fo, .clone_flags = c->clone_flags, .diag = &fd);
	struct pidtuple *t = NULL;
	int r = 0, k = 0, f = 0, fail = 1, pos = w->inner < 0 ? -1 : (int)c->n - 1 - w->inner;
	char where[32];

	if (pidtuple_from_inner(c->pid, c->n, &t) < 0) {
		fprintf(stderr, "case \"%s\": tuple cannot be built\n", c->name);
		return 1;
	}
	r = pidtuple_check(t, &o, &d);
	k = th_kernel_verdict(c->pid, c->n, c->clone_flags, SIGCHLD);
	if (c->userns && !userns_allowed) {
		/* The library cannot know the sandbox forbids user namespaces: compare its
		 * verdict with the expectation only, and record what the kernel said. */
		printf("note: \"%s\" with %s: user namespaces are refused here (%s); kernel "
		       "said %d, library %d; kernel comparison skipped\n",
		       c->name, caps_name[caps], strerror(userns_errno), k, r);
		CASE_CHECK(r == (w->err ? w->err : c->ret), "check said %d", r);
		fail = 0;
		goto out;
	}
	f = pidtuple_fork(t, &fo, NULL);
	if (f == 0)
		_exit(0);
	if (f > 0) {
		while (waitpid(f, NULL, __WALL) < 0 && errno == EINTR)
			;
		f = 0;
	}

	CASE_CHECK(k == w->err, "kernel said %d, expected %d", k, w->err);
	CASE_CHECK(f == w->err, "fork said %d, expected %d", f, w->err);
	if (w->err == 0) {
		/* Before 6.11 an unprivileged caller cannot look into other processes' namespaces:
		 * nested levels are left to the kernel (a positive count), never called free. */
		if (r > c->ret && !(pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS))
			CASE_CHECK(d.rule == PIDTUPLE_RULE_UNVERIFIED && d.unverified == r,
				   "diag %s %d", pidtuple_rule_name(d.rule), d.unverified);
		else
			CASE_CHECK(r == c->ret, "check said %d, expected %d", r, c->ret);
		fail = 0;
		goto out;
	}
	if (r > 0 && w->err == -EEXIST && !(pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS)) {
		/* Before 6.11 an unprivileged caller cannot look into other processes' namespaces:
		 * the nested level is left to the kernel, and the fork names the holder. */
		CASE_CHECK(d.rule == PIDTUPLE_RULE_UNVERIFIED && d.unverified == r, "diag %s %d",
			   pidtuple_rule_name(d.rule), d.unverified);
		CASE_CHECK(fd.kernel_err == -EEXIST, "fork kernel_err %d", fd.kernel_err);
		fail = 0;
		goto out;
	}
	CASE_CHECK(r == w->err, "check said %d, expected %d", r, w->err);
	CASE_CHECK(d.rule == w->rule && fd.rule == w->rule, "rules %s/%s, expected %s",
		   pidtuple_rule_name(d.rule), pidtuple_rule_name(fd.rule),
		   pidtuple_rule_name(w->rule));
	CASE_CHECK(d.inner_index == w->inner && fd.inner_index == w->inner,
		   "inner_index %d/%d, expected %d", d.inner_index, fd.inner_index, w->inner);
	CASE_CHECK(d.nspid_pos == pos && fd.nspid_pos == pos, "nspid_pos %d/%d, expected %d",
		   d.nspid_pos, fd.nspid_pos, pos);
	if (w->rule == PIDTUPLE_RULE_PRIVILEGE) {
		/* The message names the level and the capability that would do. */
		snprintf(where, sizeof(where), "NSpid field %d of %zu", pos + 1, c->n);
		CASE_CHECK(strstr(fd.message, "CAP_CHECKPOINT_RESTORE") &&
				   strstr(fd.message, where),
			   "message lacks the capability or the level");
		CASE_CHECK(fd.pid == c->pid[w->inner], "diag.pid %d", fd.pid);
	}
	if (w->rule == PIDTUPLE_RULE_NS_PRIVILEGE)
		CASE_CHECK(strstr(fd.message, "CAP_SYS_ADMIN"), "message lacks CAP_SYS_ADMIN");
	fail = 0;
out:
	pidtuple_free(t);
	return fail;
}

static int run_cases(const struct ucase *cases, size_t n, enum caps caps)
{
	int fails = 0;

	for (size_t i = 0; i < n; i++)
		fails += run_case(&cases[i], caps);
	return fails;
}

#define RUN(caps, ...)                                                                    \
	do {                                                                              \
		const struct ucase _cases[] = { __VA_ARGS__ };                            \
		int _fails = run_cases(_cases, sizeof(_cases) / sizeof(_cases[0]), caps); \
		TH_CHECK(_fails == 0, "%d case(s) disagree (see above)", _fails);         \
	} while (0)

/* ---- tools ---- */

static int try_userns(void *arg)
{
	(void)arg;
	return unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
}

/* What the caller holds shows in pidtuple_features() and in the context's level flags. */
static int caps_seen(enum caps caps)
{
	uint64_t f = pidtuple_features(), want = 0, lf;
	struct pidtuple_nsctx *ctx = NULL;
	PIDTUPLE_OPTS(pidtuple_level_info, li);

	/* ns_last_pid is writable with either capability over the namespace's owner. */
	if (caps == CAPS_CR)
		want = PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE | PIDTUPLE_FEATURE_NS_LAST_PID;
	if (caps == CAPS_SYS_ADMIN)
		want = PIDTUPLE_FEATURE_CAP_SYS_ADMIN | PIDTUPLE_FEATURE_NS_LAST_PID;
	TH_CHECK((f & (PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE | PIDTUPLE_FEATURE_CAP_SYS_ADMIN |
		       PIDTUPLE_FEATURE_NS_LAST_PID)) == want,
		 "features 0x%llx", (unsigned long long)f);
	TH_CHECK(pidtuple_nsctx_new(NULL, &ctx) == 0, "nsctx_new");
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, &li) == 0, "nsctx_level");
	pidtuple_nsctx_free(ctx);
	lf = li.flags & (PIDTUPLE_LEVEL_CAN_PIN | PIDTUPLE_LEVEL_CAP_CHECKPOINT_RESTORE |
			 PIDTUPLE_LEVEL_CAP_SYS_ADMIN);
	TH_CHECK(lf == (caps == CAPS_NONE ? 0
			: caps == CAPS_CR
				? PIDTUPLE_LEVEL_CAN_PIN | PIDTUPLE_LEVEL_CAP_CHECKPOINT_RESTORE
				: PIDTUPLE_LEVEL_CAN_PIN | PIDTUPLE_LEVEL_CAP_SYS_ADMIN),
		 "level flags 0x%llx", (unsigned long long)li.flags);
	return 0;
}

/* ---- the test's own namespace as the child's ---- */

static int own_level_cases(void *arg)
{
	enum caps caps = (enum caps)(intptr_t)arg;
	int pid_max = th_read_pid_max(), err;

	TH_CHECK(pid_max > FREE_PID, "pid_max %d", pid_max);
	err = drop_to_nobody(cap_mask[caps], cap_mask[caps]);
	TH_CHECK(err == 0, "cannot drop to uid %d: %s", NOBODY, strerror(-err));
	if (caps_seen(caps))
		return 1;
	userns_errno = th_in_child(try_userns, NULL);
	userns_allowed = userns_errno == 0;
	if (!userns_allowed)
		printf("note: unprivileged user namespaces are refused here: %s\n",
		       strerror(userns_errno));

	RUN(caps,
	    { .name = "pin a free PID",
	      .n = 1,
	      .pid = { FREE_PID },
	      .want = { EPERM_AT(0), OK, OK } },
	    /* Privilege is checked before taken PIDs, by the kernel as by the library. */
	    { .name = "pin PID 1 (taken)",
	      .n = 1,
	      .pid = { 1 },
	      .want = { EPERM_AT(0), TAKEN_AT(0), TAKEN_AT(0) } },
	    /* The range comes first: pid_max can be probed without privilege. */
	    { .name = "pin at pid_max",
	      .n = 1,
	      .pid = { pid_max },
	      .want = { { -EINVAL, PIDTUPLE_RULE_PID_RANGE, 0 },
			{ -EINVAL, PIDTUPLE_RULE_PID_RANGE, 0 },
			{ -EINVAL, PIDTUPLE_RULE_PID_RANGE, 0 } } },
	    { .name = "CLONE_NEWNS",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = CLONE_NEWNS,
	      .want = { NS_EPERM, NS_EPERM, OK } },
	    { .name = "CLONE_NEWPID",
	      .n = 1,
	      .pid = { 1 },
	      .clone_flags = CLONE_NEWPID,
	      .want = { NS_EPERM, NS_EPERM, OK } },
	    /* A user namespace of one's own: its PID namespace is the caller's to pin. */
	    { .name = "NEWUSER|NEWPID {1}",
	      .n = 1,
	      .pid = { 1 },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID,
	      .userns = true,
	      .want = { OK, OK, OK } },
	    { .name = "NEWUSER|NEWPID|NEWNS {1}",
	      .n = 1,
	      .pid = { 1 },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS,
	      .userns = true,
	      .want = { OK, OK, OK } },
	    /* ... but not the outer level, owned by the initial user namespace. */
	    { .name = "NEWUSER|NEWPID {1, free}",
	      .n = 2,
	      .pid = { 1, FREE_PID },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID,
	      .userns = true,
	      .want = { EPERM_AT(1), OK, OK } },
	    { .name = "NEWUSER|NEWPID {1, 1}",
	      .n = 2,
	      .pid = { 1, 1 },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID,
	      .userns = true,
	      .want = { EPERM_AT(1), TAKEN_AT(1), TAKEN_AT(1) } },
	    /* Without NEWPID the child is born in the caller's namespace. */
	    { .name = "NEWUSER {free}",
	      .n = 1,
	      .pid = { FREE_PID },
	      .clone_flags = CLONE_NEWUSER,
	      .userns = true,
	      .want = { EPERM_AT(0), OK, OK } },
	    { .name = "NEWUSER|NEWPID {5}",
	      .n = 1,
	      .pid = { 5 },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID,
	      .userns = true,
	      .want = { { -EINVAL, PIDTUPLE_RULE_NEWPID_ONE, 0 },
			{ -EINVAL, PIDTUPLE_RULE_NEWPID_ONE, 0 },
			{ -EINVAL, PIDTUPLE_RULE_NEWPID_ONE, 0 } } });
	return 0;
}

static int own_level(void *arg)
{
	int fds = th_count_fds();

	TH_CHECK(th_in_child(own_level_cases, arg) == 0, "unprivileged cases");
	return th_clean_up(0, -1, fds);
}

/* ---- three visible levels: setns while CAP_SYS_ADMIN is held, then drop it ---- */

struct deep_arg {
	int nsfd;
	enum caps caps;
};

static int deep_cases(void *arg)
{
	const struct deep_arg *a = arg;
	uint64_t all = cap_mask[CAPS_CR] | cap_mask[CAPS_SYS_ADMIN];
	int err = drop_to_nobody(cap_mask[CAPS_SYS_ADMIN], all);

	TH_CHECK(err == 0, "cannot drop to uid %d: %s", NOBODY, strerror(-err));
	TH_CHECK(setns(a->nsfd, CLONE_NEWPID) == 0, "setns: %m");
	TH_CHECK(set_caps(cap_mask[a->caps], cap_mask[a->caps]) == 0, "capset: %m");
	if (caps_seen(a->caps))
		return 1;
	RUN(a->caps,
	    { .name = "3 levels",
	      .n = 3,
	      .pid = { FREE_PID, FREE_PID + 1, FREE_PID + 2 },
	      .want = { EPERM_AT(0), OK, OK } },
	    { .name = "2 of 3 levels",
	      .n = 2,
	      .pid = { FREE_PID, FREE_PID + 1 },
	      .want = { EPERM_AT(0), OK, OK } },
	    { .name = "3 levels, inner taken",
	      .n = 3,
	      .pid = { 1, FREE_PID + 1, FREE_PID + 2 },
	      .want = { EPERM_AT(0), TAKEN_AT(0), TAKEN_AT(0) } },
	    { .name = "3 levels, middle taken",
	      .n = 3,
	      .pid = { FREE_PID, 1, FREE_PID + 2 },
	      .want = { EPERM_AT(0), TAKEN_AT(1), TAKEN_AT(1) } },
	    { .name = "3 levels, outer taken",
	      .n = 3,
	      .pid = { FREE_PID, FREE_PID + 1, 1 },
	      .want = { EPERM_AT(0), TAKEN_AT(2), TAKEN_AT(2) } });
	return 0;
}

static int deep(void *arg)
{
	struct deep_arg a = { .caps = (enum caps)(intptr_t)arg };
	int fds = th_count_fds();
	pid_t holder = th_make_nested_ns(2, NULL, &a.nsfd);

	TH_CHECK(holder > 0, "th_make_nested_ns: %d", holder);
	TH_CHECK(th_in_child(deep_cases, &a) == 0, "unprivileged cases, 3 levels");
	return th_clean_up(holder, a.nsfd, fds);
}

/* ---- from a nested active namespace: the failure in the middle of three levels ---- */

static int middle_cases(void *arg)
{
	enum caps caps = (enum caps)(intptr_t)arg;
	int err = drop_to_nobody(cap_mask[caps], cap_mask[caps]);

	TH_CHECK(err == 0, "cannot drop to uid %d: %s", NOBODY, strerror(-err));
	userns_errno = th_in_child(try_userns, NULL);
	userns_allowed = userns_errno == 0;
	/* The test's own namespace is above the caller's: invisible, left to the kernel. */
	RUN(caps,
	    { .name = "nested NEWUSER|NEWPID {1, free}",
	      .n = 2,
	      .pid = { 1, FREE_PID },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID,
	      .userns = true,
	      .want = { EPERM_AT(1), OK, OK } },
	    { .name = "nested NEWUSER|NEWPID {1, free, free}",
	      .n = 3,
	      .pid = { 1, FREE_PID, FREE_PID + 1 },
	      .clone_flags = CLONE_NEWUSER | CLONE_NEWPID,
	      .userns = true,
	      .ret = 1,
	      .want = { EPERM_AT(1), OK, OK } });
	return 0;
}

static int middle(void *arg)
{
	int fds = th_count_fds(), nsfd;
	pid_t holder = th_make_nested_ns(1, NULL, &nsfd);

	TH_CHECK(holder > 0, "th_make_nested_ns: %d", holder);
	TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
	TH_CHECK(th_in_child(middle_cases, arg) == 0, "unprivileged cases from a nested namespace");
	return th_clean_up(holder, nsfd, fds);
}

/* ---- the suite ---- */

TH_NS_TEST(test_own_none, own_level, CAPS_NONE)
TH_NS_TEST(test_own_checkpoint_restore, own_level, CAPS_CR)
TH_NS_TEST(test_own_sys_admin, own_level, CAPS_SYS_ADMIN)
TH_NS_TEST(test_deep_none, deep, CAPS_NONE)
TH_NS_TEST(test_deep_checkpoint_restore, deep, CAPS_CR)
TH_NS_TEST(test_deep_sys_admin, deep, CAPS_SYS_ADMIN)
TH_NS_TEST(test_middle_none, middle, CAPS_NONE)
TH_NS_TEST(test_middle_checkpoint_restore, middle, CAPS_CR)
TH_NS_TEST(test_middle_sys_admin, middle, CAPS_SYS_ADMIN)

static Suite *unpriv_suite(void)
{
	Suite *s = suite_create("unpriv");
	TCase *tc = tcase_create("privilege");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_own_none);
	tcase_add_test(tc, test_own_checkpoint_restore);
	tcase_add_test(tc, test_own_sys_admin);
	tcase_add_test(tc, test_deep_none);
	tcase_add_test(tc, test_deep_checkpoint_restore);
	tcase_add_test(tc, test_deep_sys_admin);
	tcase_add_test(tc, test_middle_none);
	tcase_add_test(tc, test_middle_checkpoint_restore);
	tcase_add_test(tc, test_middle_sys_admin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(unpriv_suite());
}
