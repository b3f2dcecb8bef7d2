/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A walk through the API for valgrind's memcheck, which the privileged Check suites cannot
 * have: they need clone3() set_tid, and valgrind 3.19 answers clone3() and pidfd_open() with
 * ENOSYS. Every step asserts what the library must say either way: with set_tid (a native
 * run) and without it (under valgrind: one-level forks go through the ns_last_pid fallback,
 * deeper ones are -EOPNOTSUPP, reading by PID without pidfd_open() is -EOPNOTSUPP). Each step
 * runs as init of its own PID namespace and must leave no fd or child behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static bool have_set_tid, have_pidfd_open;

static struct pidtuple *tuple(const char *text)
{
	struct pidtuple *t = NULL;

	return pidtuple_parse(text, &t, NULL) == 0 ? t : NULL;
}

static bool is_text(const struct pidtuple *t, const char *text)
{
	char buf[64];

	return t && pidtuple_format(t, buf, sizeof(buf)) > 0 && strcmp(buf, text) == 0;
}

/* Forks @text; the child exits 0 only when its raw getpid() is the innermost PID. */
static pid_t fork_checked(const char *text, struct pidtuple_fork_opts *o, int *pidfd)
{
	struct pidtuple *t = tuple(text);
	pid_t want = pidtuple_get(t, 0), pid;

	pid = pidtuple_fork(t, o, pidfd);
	if (pid == 0)
		_exit(syscall(SYS_getpid) == want ? 0 : 1);
	pidtuple_free(t);
	return pid;
}

static int step_tuples(void *arg)
{
	static const char *const bad[] = { "", "0", "1/", "/1", "-1", "1 2/3", "99999999999", "a" };
	PIDTUPLE_OPTS(pidtuple_diag, d);
	pid_t in[3] = { 1, 17, 4242 }, out[3];
	struct pidtuple *t, *u = NULL, *v = NULL;
	char buf[8];

	(void)arg;
	t = tuple("NSpid:\t4242\t17\t1\n");
	TH_CHECK(is_text(t, "4242/17/1"), "parse NSpid");
	TH_CHECK(pidtuple_from_inner(in, 3, &u) == 0 && pidtuple_equal(t, u) == 1, "from_inner");
	TH_CHECK(pidtuple_to_outer(u, out, 3) == 3 && out[0] == 4242, "to_outer");
	TH_CHECK(pidtuple_dup(u, &v) == 0 && pidtuple_equal(u, v) == 1, "dup");
	TH_CHECK(pidtuple_format(t, buf, sizeof(buf)) == 9 && strcmp(buf, "4242/17") == 0,
		 "truncated format: %s", buf);
	TH_CHECK(pidtuple_to_inner(t, out, 2) == -ERANGE, "to_inner range");
	pidtuple_free(t);
	pidtuple_free(u);
	pidtuple_free(v);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		t = NULL;
		TH_CHECK(pidtuple_parse(bad[i], &t, &d) == -EINVAL && !t, "'%s' parsed", bad[i]);
		TH_CHECK(d.rule != PIDTUPLE_RULE_NONE && d.message[0], "'%s': no diag", bad[i]);
	}
	for (int e = -140; e <= 140; e++)
		TH_CHECK(pidtuple_strerror(e)[0], "strerror %d", e);
	for (uint32_t r = 0; r <= _PIDTUPLE_RULE_MAX; r++)
		TH_CHECK(pidtuple_rule_name(r)[0], "rule %u", r);
	return 0;
}

static int step_features(void *arg)
{
	uint64_t f = pidtuple_features();

	(void)arg;
	TH_CHECK(f & PIDTUPLE_FEATURE_CAP_SYS_ADMIN, "no CAP_SYS_ADMIN");
	TH_CHECK(f & PIDTUPLE_FEATURE_NS_LAST_PID, "ns_last_pid not writable");
	TH_CHECK(!!(f & PIDTUPLE_FEATURE_SET_TID) == have_set_tid, "set_tid bit");
	for (int i = 0; i < 10; i++) {
		uint64_t bit = 1ull << i;
		int err = pidtuple_feature_error(bit);

		TH_CHECK((err == 0) == !!(f & bit), "%s: error %d", pidtuple_feature_name(bit),
			 err);
		TH_CHECK(pidtuple_feature_reason(bit)[0], "reason");
	}
	if (!have_set_tid)
		TH_CHECK(
			pidtuple_feature_error(PIDTUPLE_FEATURE_CLONE3) == -ENOSYS &&
				strstr(pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID), "ENOSYS"),
			"clone3 missing: %s", pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID));
	return 0;
}

static int step_nsctx(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, newpid, .clone_flags = CLONE_NEWPID);
	PIDTUPLE_OPTS(pidtuple_level_info, info);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple *t;
	int r;

	(void)arg;
	TH_CHECK(pidtuple_nsctx_new(NULL, &ctx) == 0, "nsctx");
	TH_CHECK(pidtuple_nsctx_levels(ctx) >= 1, "levels");
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, &info) == 0, "level 0");
	TH_CHECK((info.flags & PIDTUPLE_LEVEL_CALLER) && (info.flags & PIDTUPLE_LEVEL_CAN_PIN) &&
			 info.pid_max > 1,
		 "level 0 flags %#llx", (unsigned long long)info.flags);
	TH_CHECK(pidtuple_nsctx_level(ctx, 40, &info) == -ERANGE, "range");
	t = tuple("1");
	r = pidtuple_check_in(ctx, t, &d);
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN, "1 is taken: %d", r);
	pidtuple_free(t);
	t = tuple("500");
	TH_CHECK((r = pidtuple_check_in(ctx, t, &d)) == 0, "500 free: %d %s", r, d.message);
	pidtuple_free(t);
	t = tuple("4194304");
	r = pidtuple_check(t, NULL, &d);
	TH_CHECK(r == -EINVAL && d.rule == PIDTUPLE_RULE_PID_RANGE, "range: %d", r);
	pidtuple_free(t);
	pidtuple_nsctx_free(ctx);

	TH_CHECK(pidtuple_nsctx_new(&newpid, &ctx) == 0, "nsctx newpid");
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, &info) == 0 && (info.flags & PIDTUPLE_LEVEL_NEW),
		 "new level");
	t = tuple("600/2");
	r = pidtuple_check_in(ctx, t, &d);
	TH_CHECK(r == -EINVAL && d.rule == PIDTUPLE_RULE_NEWPID_ONE, "newpid one: %d", r);
	pidtuple_free(t);
	t = tuple("600/1");
	TH_CHECK((r = pidtuple_check_in(ctx, t, &d)) >= 0, "600/1: %d %s", r, d.message);
	pidtuple_free(t);
	pidtuple_nsctx_free(ctx);
	return 0;
}

static int step_next_pid(void *arg)
{
	pid_t pid;

	(void)arg;
	TH_CHECK(pidtuple_set_next_pid(3000, NULL) == 3000, "set");
	TH_CHECK(pidtuple_get_next_pid() == 3000, "get %d", pidtuple_get_next_pid());
	pid = fork();
	if (pid == 0)
		_exit(0);
	TH_CHECK(pid >= 3000 && th_wait_status(pid) == 0, "plain fork got %d", pid);
	TH_CHECK(pidtuple_set_next_pid(0, NULL) == -EINVAL, "0");
	return 0;
}

struct holder {
	int rfd;
};

static int hold(void *p)
{
	const struct holder *h = p;
	char c;

	while (read(h->rfd, &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static int step_fork(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	char *argv[] = { "true", NULL };
	struct pidtuple *t, *rt = NULL;
	struct holder h;
	int pidfd = -1, pipefd[2], r;
	pid_t pid;

	(void)arg;
	pid = fork_checked("4000", &o, &pidfd);
	TH_CHECK(pid == 4000, "fork: %d %s", pid, d.message);
	TH_CHECK(pidfd >= 0 && pidtuple_of_pidfd(pidfd, &rt) == 0 && is_text(rt, "4000"),
		 "of_pidfd");
	pidtuple_free(rt);
	close(pidfd);
	TH_CHECK(th_wait_status(pid) == 0, "child saw another PID");

	/* A held PID is refused; nothing is left behind. */
	TH_CHECK(pipe2(pipefd, O_CLOEXEC) == 0, "pipe");
	h.rfd = pipefd[0];
	t = tuple("4001");
	r = pidtuple_clone(t, hold, &h, &o, &pid, NULL);
	TH_CHECK(r == 0 && pid == 4001, "clone: %d %s", r, d.message);
	pid = fork_checked("4001", &o, NULL);
	TH_CHECK(pid == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN, "held: %d", pid);
	TH_CHECK(write(pipefd[1], "g", 1) == 1 && th_wait_status(4001) == 0, "holder");
	close(pipefd[0]);
	close(pipefd[1]);
	pidtuple_free(t);

	t = tuple("4002");
	r = pidtuple_spawn(t, "/bin/true", argv, NULL, &o, &pid, NULL);
	TH_CHECK(r == 0 && pid == 4002 && th_wait_status(pid) == 0, "spawn: %d %s", r, d.message);
	r = pidtuple_spawn(t, "/nonexistent", argv, NULL, &o, &pid, NULL);
	TH_CHECK(r == -ENOENT && d.rule == PIDTUPLE_RULE_EXEC, "spawn missing: %d", r);
	pidtuple_free(t);

	/* The init of a new namespace. */
	o.clone_flags = CLONE_NEWPID;
	pid = fork_checked("1", &o, NULL);
	TH_CHECK(pid > 0 && th_wait_status(pid) == 0, "newpid init: %d %s", pid, d.message);
	/* Two levels need set_tid. */
	pid = fork_checked("4003/1", &o, NULL);
	if (have_set_tid)
		TH_CHECK(pid == 4003 && th_wait_status(pid) == 0, "two levels: %d %s", pid,
			 d.message);
	else
		TH_CHECK(pid == -EOPNOTSUPP && d.rule == PIDTUPLE_RULE_UNSUPPORTED,
			 "two levels without set_tid: %d", pid);

	/* Refusing the fallback. */
	o.clone_flags = 0;
	o.flags = PIDTUPLE_FORK_NO_FALLBACK;
	pid = fork_checked("4004", &o, NULL);
	if (have_set_tid)
		TH_CHECK(pid == 4004 && th_wait_status(pid) == 0, "no fallback: %d", pid);
	else
		TH_CHECK(pid == -EOPNOTSUPP && d.rule == PIDTUPLE_RULE_UNSUPPORTED,
			 "no fallback: %d", pid);
	/* Options the library must refuse before forking. */
	o.flags = 1ull << 40;
	TH_CHECK(fork_checked("4005", &o, NULL) == -EINVAL, "unknown flag");
	o.flags = 0;
	o.sz = 3;
	TH_CHECK(fork_checked("4005", &o, NULL) == -EINVAL, "short opts");
	return 0;
}

static int step_read(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_read_opts, status, .source = PIDTUPLE_SOURCE_STATUS);
	PIDTUPLE_OPTS(pidtuple_scan_entry, e);
	struct pidtuple_scan *scan = NULL;
	struct pidtuple *t = NULL;
	bool saw_init = false;
	int r, n = 0;

	(void)arg;
	r = pidtuple_of_pid(1, &t);
	if (have_pidfd_open)
		TH_CHECK(r == 0 && is_text(t, "1"), "of_pid: %d", r);
	else
		TH_CHECK(r == -EOPNOTSUPP, "of_pid without pidfd_open: %d", r);
	pidtuple_free(t);
	t = NULL;
	TH_CHECK((r = pidtuple_read(1, PIDTUPLE_KIND_TGID, &status, &t)) == 0 && is_text(t, "1"),
		 "read status: %d", r);
	pidtuple_free(t);
	t = NULL;
	TH_CHECK((r = pidtuple_read(1, PIDTUPLE_KIND_TID, NULL, &t)) == 0 && is_text(t, "1"),
		 "read auto: %d", r);
	pidtuple_free(t);
	t = NULL;
	TH_CHECK((r = pidtuple_read(1, PIDTUPLE_KIND_SID, &status, &t)) == 0, "sid: %d", r);
	pidtuple_free(t);
	t = NULL;
	TH_CHECK(pidtuple_read(1, 9, NULL, &t) == -EINVAL && !t, "bad kind");
	TH_CHECK(pidtuple_read(77777, PIDTUPLE_KIND_TID, &status, &t) == -ESRCH, "no such");

	TH_CHECK((r = pidtuple_scan_new(NULL, &scan)) == 0, "scan: %d", r);
	while ((r = pidtuple_scan_next(scan, &e)) == 1) {
		n++;
		saw_init |= e.pid == 1 && is_text(e.tuple, "1");
	}
	pidtuple_scan_free(scan);
	TH_CHECK(r == 0 && n >= 1 && saw_init, "scan: %d after %d entries", r, n);
	return 0;
}

static int step_tree(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_node, root, .parent = -1, .kind = PIDTUPLE_NODE_HOLD);
	PIDTUPLE_OPTS(pidtuple_node, kid, .parent = 0, .kind = PIDTUPLE_NODE_HOLD);
	PIDTUPLE_OPTS(pidtuple_node, got);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	struct pidtuple_tree *tree = NULL;
	struct pidtuple_restore *rs = NULL;
	struct pidtuple *a = tuple("6000"), *b = tuple("6001");
	int r;

	(void)arg;
	root.tuple = a;
	kid.tuple = b;
	TH_CHECK(pidtuple_tree_new(&tree) == 0, "tree");
	TH_CHECK(pidtuple_tree_add(tree, &root) == 0 && pidtuple_tree_add(tree, &kid) == 1, "add");
	TH_CHECK(pidtuple_tree_add(tree, &root) == -EINVAL, "second root");
	TH_CHECK(pidtuple_tree_size(tree) == 2 && pidtuple_tree_get(tree, 1, &got) == 0 &&
			 got.parent == 0 && pidtuple_equal(got.tuple, b) == 1,
		 "get");
	TH_CHECK((r = pidtuple_tree_check(tree, NULL, &d)) == 0, "check: %d %s", r, d.message);
	r = pidtuple_tree_restore(tree, &o, &rs);
	if (r == 0) {
		TH_CHECK(pidtuple_restore_pid(rs, 1) == 6001, "restored pid");
		TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
		TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
		pidtuple_restore_free(rs);
	} else {
		TH_CHECK(!have_set_tid, "restore: %d %s", r, d.message);
		fprintf(stderr, "vg_api: restore without set_tid: %d (%s)\n", r, d.message);
	}
	pidtuple_tree_free(tree);
	pidtuple_free(a);
	pidtuple_free(b);
	return 0;
}

static const struct step {
	const char *name;
	int (*fn)(void *);
} steps[] = {
	{ "tuples", step_tuples },     { "features", step_features }, { "nsctx", step_nsctx },
	{ "next_pid", step_next_pid }, { "fork", step_fork },	      { "read", step_read },
	{ "tree", step_tree },
};

/* Under LeakSanitizer, in the namespace's init where the step ran (it ends with _exit()). */
static int leak_checked(void *p)
{
	const struct step *st = p;

	if (st->fn(NULL))
		return 1;
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

int main(void)
{
	const char *ci = getenv("CI");
	int failed = 0, fd;

	/* th_require_privilege() also wants set_tid, which valgrind hides. */
	if (geteuid() != 0 || !(pidtuple_features() & PIDTUPLE_FEATURE_CAP_SYS_ADMIN)) {
		fprintf(stderr, "%s: needs root with CAP_SYS_ADMIN\n",
			ci && strcmp(ci, "true") == 0 ? "failed" : "skipped");
		return ci && strcmp(ci, "true") == 0 ? 1 : TH_SKIP;
	}
	have_set_tid = pidtuple_features() & PIDTUPLE_FEATURE_SET_TID;
	fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	have_pidfd_open = fd >= 0 || errno != ENOSYS;
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		int r = th_in_pidns_clean(leak_checked, (void *)&steps[i]);

		printf("%s %s\n", r ? "FAIL" : "ok", steps[i].name);
		fflush(stdout);
		failed += r != 0;
	}
	printf("vg_api: set_tid %s, pidfd_open %s: %d of %zu steps failed\n",
	       have_set_tid ? "yes" : "no", have_pidfd_open ? "yes" : "no", failed,
	       ARRAY_SIZE(steps));
	return failed ? 1 : 0;
}
