/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The namespace context (pidtuple_nsctx_*) and pidtuple_features(), compared with what the
 * test reads itself: nsfs inodes, /proc/sys/kernel/pid_max, NSpid, raw probes.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define INIT_PID_NS_INO 0xEFFFFFFCu
#define FREE_PID 700
#define NS_GET_PARENT_IOC _IO(0xb7, 0x2)
#define NS_GET_PID_FROM_PIDNS_IOC _IOR(0xb7, 0x6, int)
#define ROOT_CAPS                                                         \
	(PIDTUPLE_LEVEL_CAN_PIN | PIDTUPLE_LEVEL_CAP_CHECKPOINT_RESTORE | \
	 PIDTUPLE_LEVEL_CAP_SYS_ADMIN)

/* ---- what the test reads itself ---- */

static uint64_t ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static uint64_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Whether the suite runs in the initial PID namespace (set by main, inherited by tests). */
static bool runner_in_init_ns;
#define ABS_UNKNOWN (-2) /* the test cannot tell what the library should say: not checked */

/*
 * Absolute level of the caller's active namespace. Known when the suite runs in the initial
 * namespace with its /proc: then it is the number of NSpid entries minus one.
 */
static int own_abs_level(void)
{
	int n;

	if (!runner_in_init_ns)
		return ABS_UNKNOWN;
	n = th_nspid_entries();
	return n < 1 ? ABS_UNKNOWN : n - 1;
}

/* @abs plus @k levels, unknown staying unknown. */
static int below(int abs, int k)
{
	return abs == ABS_UNKNOWN ? ABS_UNKNOWN : abs + k;
}

/* Level info, filled from a sentinel so that unwritten fields show. */
static int level(const struct pidtuple_nsctx *ctx, unsigned int i, struct pidtuple_level_info *li)
{
	memset(li, 0xa5, sizeof(*li));
	li->sz = sizeof(*li);
	return pidtuple_nsctx_level(ctx, i, li);
}

#define INFO_CHECK(cond, ...) TH_CHECK(cond, "level %u: " __VA_ARGS__)

/* One level as expected; @flags_set must be set, @flags_clear must not. */
static int expect_level(const struct pidtuple_nsctx *ctx, unsigned int i, uint64_t flags_set,
			uint64_t flags_clear, int pid_max, int abs_level, uint64_t ns_id)
{
	struct pidtuple_level_info li;

	TH_CHECK(level(ctx, i, &li) == 0, "level %u", i);
	INFO_CHECK((li.flags & flags_set) == flags_set, "flags 0x%llx lack 0x%llx", i,
		   (unsigned long long)li.flags, (unsigned long long)flags_set);
	INFO_CHECK(!(li.flags & flags_clear), "flags 0x%llx have some of 0x%llx", i,
		   (unsigned long long)li.flags, (unsigned long long)flags_clear);
	INFO_CHECK(li.pid_max == pid_max, "pid_max %d, expected %d", i, li.pid_max, pid_max);
	if (abs_level != ABS_UNKNOWN)
		INFO_CHECK(li.abs_level == abs_level, "abs_level %d, expected %d", i, li.abs_level,
			   abs_level);
	INFO_CHECK(li.ns_id == ns_id, "ns_id %llu, expected %llu", i, (unsigned long long)li.ns_id,
		   (unsigned long long)ns_id);
	return 0;
}

/* ---- the levels ---- */

static int own_namespace(void *arg)
{
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple_level_info li;
	int fds = th_count_fds(), abs = own_abs_level(), pid_max = th_read_pid_max();
	uint64_t own = ino_of("/proc/self/ns/pid");

	(void)arg;
	/* The test's namespace is a child of the suite's. */
	TH_CHECK(abs == ABS_UNKNOWN || abs == 1, "own abs level %d", abs);
	TH_CHECK(pidtuple_nsctx_new(NULL, &ctx) == 0, "nsctx_new");
	TH_CHECK(pidtuple_nsctx_levels(ctx) == 1, "levels %d", pidtuple_nsctx_levels(ctx));
	if (expect_level(ctx, 0,
			 PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_HAS_INIT |
				 PIDTUPLE_LEVEL_PID_MAX_EXACT | ROOT_CAPS,
			 PIDTUPLE_LEVEL_NEW | PIDTUPLE_LEVEL_INIT_DEAD |
				 PIDTUPLE_LEVEL_INIT_UNKNOWN,
			 pid_max, abs, own))
		return 1;
	TH_CHECK(level(ctx, 1, &li) == -ERANGE, "index 1");
	TH_CHECK(level(ctx, 1000, &li) == -ERANGE, "index 1000");
	pidtuple_nsctx_free(ctx);
	return th_clean_up(0, -1, fds);
}

static int with_newpid(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = CLONE_NEWPID);
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple_level_info li;
	int fds = th_count_fds(), abs = own_abs_level(), pid_max = th_read_pid_max();
	uint64_t own = ino_of("/proc/self/ns/pid");

	(void)arg;
	TH_CHECK(pidtuple_nsctx_new(&o, &ctx) == 0, "nsctx_new");
	TH_CHECK(pidtuple_nsctx_levels(ctx) == 2, "levels %d", pidtuple_nsctx_levels(ctx));
	/* The namespace the fork creates: no inode yet, no init yet. */
	if (expect_level(ctx, 0, PIDTUPLE_LEVEL_NEW | ROOT_CAPS,
			 PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_HAS_INIT | PIDTUPLE_LEVEL_INIT_DEAD,
			 th_nested_pid_max(), below(abs, 1), 0))
		return 1;
	if (expect_level(ctx, 1,
			 PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_HAS_INIT |
				 PIDTUPLE_LEVEL_PID_MAX_EXACT | ROOT_CAPS,
			 PIDTUPLE_LEVEL_NEW, pid_max, abs, own))
		return 1;
	TH_CHECK(level(ctx, 2, &li) == -ERANGE, "index 2");
	pidtuple_nsctx_free(ctx);
	return th_clean_up(0, -1, fds);
}

static int nested(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, deep,
		      .flags = pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS
				       ? 0
				       : PIDTUPLE_FORK_CHECK_SCAN);
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple_level_info li;
	int fds = th_count_fds(), abs = own_abs_level(), pid_max = th_read_pid_max(), nsfd, parent;
	uint64_t own = ino_of("/proc/self/ns/pid"), l3, l2;
	pid_t holder;

	(void)arg;
	holder = th_make_nested_ns(2, NULL, &nsfd);
	TH_CHECK(holder > 0, "th_make_nested_ns: %d", holder);
	parent = ioctl(nsfd, NS_GET_PARENT_IOC);
	TH_CHECK(parent >= 0, "NS_GET_PARENT: %m");
	l3 = ino_of_fd(nsfd);
	l2 = ino_of_fd(parent);
	close(parent);
	TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");

	/* Before 6.11 (no nsfs ioctls) nested inits are found only by walking /proc. */
	TH_CHECK(pidtuple_nsctx_new(&deep, &ctx) == 0, "nsctx_new");
	TH_CHECK(pidtuple_nsctx_levels(ctx) == 3, "levels %d", pidtuple_nsctx_levels(ctx));
	if (expect_level(ctx, 0, PIDTUPLE_LEVEL_HAS_INIT | ROOT_CAPS,
			 PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_NEW | PIDTUPLE_LEVEL_INIT_DEAD,
			 th_nested_pid_max(), below(abs, 2), l3) ||
	    expect_level(ctx, 1, PIDTUPLE_LEVEL_HAS_INIT | ROOT_CAPS,
			 PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_NEW | PIDTUPLE_LEVEL_INIT_DEAD,
			 th_nested_pid_max(), below(abs, 1), l2) ||
	    expect_level(ctx, 2,
			 PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_HAS_INIT |
				 PIDTUPLE_LEVEL_PID_MAX_EXACT | ROOT_CAPS,
			 PIDTUPLE_LEVEL_NEW, pid_max, abs, own))
		return 1;
	TH_CHECK(level(ctx, 3, &li) == -ERANGE, "index 3");

	/* Facts that change are read again: once the holder is gone, the inits are dead. */
	kill(holder, SIGKILL);
	th_kill_children();
	TH_CHECK(level(ctx, 0, &li) == 0 && (li.flags & PIDTUPLE_LEVEL_INIT_DEAD) &&
			 !(li.flags & PIDTUPLE_LEVEL_HAS_INIT),
		 "dead level 0: flags 0x%llx", (unsigned long long)li.flags);
	TH_CHECK(level(ctx, 1, &li) == 0 && (li.flags & PIDTUPLE_LEVEL_INIT_DEAD),
		 "dead level 1: flags 0x%llx", (unsigned long long)li.flags);
	pidtuple_nsctx_free(ctx);
	return th_clean_up(0, nsfd, fds);
}

static int unshared_levels(void *arg)
{
	struct pidtuple_nsctx *ctx = NULL;
	int pid_max = th_read_pid_max(), abs = own_abs_level();
	uint64_t own = ino_of("/proc/self/ns/pid");

	(void)arg;
	TH_CHECK(unshare(CLONE_NEWPID) == 0, "unshare: %m");
	TH_CHECK(pidtuple_nsctx_new(NULL, &ctx) == 0, "nsctx_new");
	TH_CHECK(pidtuple_nsctx_levels(ctx) == 2, "levels %d", pidtuple_nsctx_levels(ctx));
	/* Not created by the fork, but without an init yet: its first child must be PID 1. */
	if (expect_level(ctx, 0, ROOT_CAPS,
			 PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_NEW | PIDTUPLE_LEVEL_HAS_INIT |
				 PIDTUPLE_LEVEL_INIT_DEAD,
			 th_nested_pid_max(), below(abs, 1), 0) ||
	    expect_level(ctx, 1, PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_HAS_INIT | ROOT_CAPS,
			 PIDTUPLE_LEVEL_NEW, pid_max, abs, own))
		return 1;
	pidtuple_nsctx_free(ctx);
	return 0;
}

static int after_unshare(void *arg)
{
	int fds = th_count_fds();

	TH_CHECK(th_in_child(unshared_levels, arg) == 0, "levels after unshare");
	return th_clean_up(0, -1, fds);
}

/* ---- struct sizes and arguments ---- */

static int sizes_and_args(void *arg)
{
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple_level_info li;
	struct {
		struct pidtuple_level_info li;
		unsigned char tail[16];
	} big;
	struct {
		struct pidtuple_fork_opts o;
		unsigned char tail[8];
	} bigopts;
	PIDTUPLE_OPTS(pidtuple_fork_opts, small_opts);
	int fds = th_count_fds(), pid_max = th_read_pid_max();
	size_t upto_pid_max = offsetof(struct pidtuple_level_info, pid_max) + sizeof(int32_t);

	(void)arg;
	TH_CHECK(pidtuple_nsctx_new(NULL, NULL) == -EINVAL, "NULL ret_ctx");
	TH_CHECK(pidtuple_nsctx_levels(NULL) == -EINVAL, "levels(NULL)");
	pidtuple_nsctx_free(NULL);
	small_opts.sz = sizeof(uint32_t);
	TH_CHECK(pidtuple_nsctx_new(&small_opts, &ctx) == -EINVAL, "opts sz 4");
	memset(&bigopts, 0, sizeof(bigopts));
	bigopts.o.sz = sizeof(bigopts);
	TH_CHECK(pidtuple_nsctx_new(&bigopts.o, &ctx) == 0, "opts with a zero tail");
	pidtuple_nsctx_free(ctx);
	bigopts.tail[3] = 1;
	TH_CHECK(pidtuple_nsctx_new(&bigopts.o, &ctx) == -E2BIG, "opts with a set tail");

	TH_CHECK(pidtuple_nsctx_new(NULL, &ctx) == 0, "nsctx_new");
	TH_CHECK(pidtuple_nsctx_level(NULL, 0, &li) == -EINVAL, "NULL ctx");
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, NULL) == -EINVAL, "NULL info");
	li.sz = 0;
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, &li) == -EINVAL, "sz 0");

	/* A struct that ends after pid_max: flags and pid_max written, the rest untouched. */
	memset(&li, 0xa5, sizeof(li));
	li.sz = upto_pid_max;
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, &li) == 0, "short struct");
	TH_CHECK(li.sz == upto_pid_max, "sz changed to %zu", li.sz);
	TH_CHECK(li.flags & PIDTUPLE_LEVEL_CALLER, "flags 0x%llx", (unsigned long long)li.flags);
	TH_CHECK(li.pid_max == pid_max, "pid_max %d", li.pid_max);
	TH_CHECK((uint32_t)li.abs_level == 0xa5a5a5a5u, "abs_level written: %d", li.abs_level);
	TH_CHECK(li.ns_id == 0xa5a5a5a5a5a5a5a5ull, "ns_id written");

	/* Only sz: nothing else written. */
	memset(&li, 0xa5, sizeof(li));
	li.sz = sizeof(size_t);
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, &li) == 0, "sz only");
	TH_CHECK(li.flags == 0xa5a5a5a5a5a5a5a5ull, "flags written");

	/* A larger struct from a newer header: known fields filled, the tail left alone. */
	memset(&big, 0, sizeof(big));
	big.li.sz = sizeof(big);
	TH_CHECK(pidtuple_nsctx_level(ctx, 0, &big.li) == 0, "big struct");
	TH_CHECK(big.li.pid_max == pid_max && big.li.ns_id == ino_of("/proc/self/ns/pid"),
		 "big struct fields");
	for (size_t i = 0; i < sizeof(big.tail); i++)
		TH_CHECK(big.tail[i] == 0, "tail byte %zu written", i);
	pidtuple_nsctx_free(ctx);
	return th_clean_up(0, -1, fds);
}

/* ---- pidtuple_check_in() agrees with pidtuple_check() ---- */

static int same_verdicts(const struct pidtuple_fork_opts *o, const pid_t *pids, size_t n)
{
	PIDTUPLE_OPTS(pidtuple_diag, a);
	PIDTUPLE_OPTS(pidtuple_diag, b);
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple *t = NULL;
	int ra, rb;

	TH_CHECK(pidtuple_from_inner(pids, n, &t) == 0, "tuple");
	TH_CHECK(pidtuple_nsctx_new(o, &ctx) == 0, "nsctx_new");
	ra = pidtuple_check(t, o, &a);
	rb = pidtuple_check_in(ctx, t, &b);
	pidtuple_nsctx_free(ctx);
	pidtuple_free(t);
	TH_CHECK(ra == rb, "%zu levels, first %d: check %d, check_in %d (%s / %s)", n, pids[0], ra,
		 rb, a.message, b.message);
	TH_CHECK(a.err == b.err && a.rule == b.rule && a.inner_index == b.inner_index &&
			 a.nspid_pos == b.nspid_pos && a.levels == b.levels && a.pid == b.pid &&
			 a.unverified == b.unverified && strcmp(a.message, b.message) == 0,
		 "diags differ: %s / %s", a.message, b.message);
	return 0;
}

/* The level above the test's, when the host's /proc shows it (not remounted): checked through
 * /proc, the same from a context made before; only levels it does not show are unverified. */
static int host_level_cases(const struct pidtuple_fork_opts *o)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	bool newpid = o->clone_flags & CLONE_NEWPID;
	pid_t taken[3] = { 1, FREE_PID, 1 }, free_pid = 0, free3[3] = { 1, FREE_PID, 0 };
	struct pidtuple *t = NULL;
	char path[32];
	int r;

	if (th_nspid_entries() != 2)
		return 0; /* /proc is not the parent's */
	for (pid_t n = 299; n > 1 && !free_pid; n--) {
		snprintf(path, sizeof(path), "/proc/%d", (int)n);
		if (access(path, F_OK) < 0 && errno == ENOENT)
			free_pid = n; /* below 300: not handed out again after the first wrap */
	}
	TH_CHECK(free_pid > 0, "no free PID below 300 in /proc");
	free3[2] = free_pid;
	if (!newpid)
		taken[0] = free3[0] = FREE_PID + 1;
	if (same_verdicts(o, taken + 1, 2) || same_verdicts(o, free3 + 1, 2) ||
	    same_verdicts(o, taken, 3) || same_verdicts(o, free3, 3))
		return 1;
	/* Every level seen: a free host PID is valid, with nothing left to the kernel. */
	TH_CHECK(pidtuple_from_inner(newpid ? free3 : free3 + 1, newpid ? 3 : 2, &t) == 0, "tuple");
	r = pidtuple_check(t, o, &d);
	pidtuple_free(t);
	TH_CHECK(r == 0 && d.unverified == 0, "free host PID %d: %d %s", (int)free_pid, r,
		 d.message);
	TH_CHECK(pidtuple_from_inner(newpid ? taken : taken + 1, newpid ? 3 : 2, &t) == 0, "tuple");
	r = pidtuple_check(t, o, &d);
	pidtuple_free(t);
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.nspid_pos == 0,
		 "host init: %d %s", r, d.message);
	return 0;
}

static int check_in(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, none);
	PIDTUPLE_OPTS(pidtuple_fork_opts, newpid, .clone_flags = CLONE_NEWPID);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	const pid_t tuples[][5] = {
		{ FREE_PID, FREE_PID + 1, FREE_PID + 2 },
		{ 1, FREE_PID + 1, FREE_PID + 2 },
		{ FREE_PID, 1, FREE_PID + 2 },
		{ FREE_PID, FREE_PID + 1, 1 },
		{ TH_PID_MAX_LIMIT, FREE_PID + 1, FREE_PID + 2 },
		{ 5, FREE_PID + 1, FREE_PID + 2, FREE_PID + 3, FREE_PID + 4 },
	};
	const size_t lens[] = { 3, 3, 3, 3, 3, 5 };
	struct pidtuple *t = NULL;
	int fds = th_count_fds(), nsfd;
	pid_t holder;

	(void)arg;
	TH_CHECK(pidtuple_from_inner(tuples[0], 1, &t) == 0, "tuple");
	TH_CHECK(pidtuple_check_in(NULL, t, &d) == -EINVAL, "NULL ctx");
	pidtuple_free(t);
	/* In the test's own namespace: one level, with and without CLONE_NEWPID. */
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		if (same_verdicts(&none, tuples[i], 1) || same_verdicts(&none, tuples[i], 2) ||
		    same_verdicts(&newpid, tuples[i], 2) || same_verdicts(&newpid, tuples[i], 1))
			return 1;
	}
	if (host_level_cases(&none) || host_level_cases(&newpid))
		return 1;
	/* Three visible levels. */
	holder = th_make_nested_ns(2, NULL, &nsfd);
	TH_CHECK(holder > 0, "th_make_nested_ns: %d", holder);
	TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		for (size_t n = 1; n <= lens[i]; n++)
			if (same_verdicts(&none, tuples[i], n) ||
			    same_verdicts(&newpid, tuples[i], n))
				return 1;
	return th_clean_up(holder, nsfd, fds);
}

/* ---- a fresh check keeps what never changes, and nothing else ---- */

/* pidtuple_check() of @n PIDs (innermost first) says @err, at inner index @inner. Before
 * 6.11 (no nsfs ioctls) the nested levels are seen only with the scan. */
static int verdict(const pid_t *pids, size_t n, int err, int inner)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o,
		      .flags = pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS
				       ? 0
				       : PIDTUPLE_FORK_CHECK_SCAN);
	struct pidtuple *t = NULL;
	int r;

	TH_CHECK(pidtuple_from_inner(pids, n, &t) == 0, "tuple");
	r = pidtuple_check(t, &o, &d);
	pidtuple_free(t);
	TH_CHECK(r == err && (err == 0 || d.inner_index == inner),
		 "%zu levels, %d/%d/%d: %d at %d (%s), want %d at %d", n, (int)pids[0],
		 n > 1 ? (int)pids[1] : 0, n > 2 ? (int)pids[2] : 0, r, d.inner_index, d.message,
		 err, inner);
	return 0;
}

/* Below the caller by @depth (0 to 2) levels: every level told apart, in any order of tuple
 * lengths (a short tuple's walk is cut short, a longer one's goes on from there). taken[k] is
 * a PID in use at level k (inner index) and at none inside it. */
static int depth_verdicts(int depth, const pid_t *taken)
{
	static const size_t order[] = { 2, 3, 1, 3, 2 };
	pid_t free3[3] = { FREE_PID, FREE_PID, FREE_PID };

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		size_t n = order[i] > (size_t)depth + 1 ? (size_t)depth + 1 : order[i];

		if (verdict(free3, n, 0, 0))
			return 1;
		for (size_t at = 0; at < n; at++) {
			pid_t p[3] = { FREE_PID, FREE_PID, FREE_PID };

			p[at] = taken[at];
			if (verdict(p, n, -EEXIST, (int)at))
				return 1;
		}
	}
	return 0;
}

/* The innermost init @init leaves its robust futex list (none registered) or runs on: a
 * check says so, then once it exited, unreaped, its namespace is dead. */
static int init_dies(pid_t init)
{
	pid_t two[2] = { FREE_PID, FREE_PID };
	siginfo_t si;

	if (verdict(two, 2, 0, 0) || verdict(two, 2, 0, 0))
		return 1;
	TH_CHECK(kill(init, SIGKILL) == 0, "kill: %m");
	memset(&si, 0, sizeof(si));
	TH_CHECK(waitid(P_PID, (id_t)init, &si, WEXITED | WNOWAIT) == 0, "waitid: %m");
	if (verdict(two, 2, -ENOMEM, 0) || verdict(two, 1, -ENOMEM, 0))
		return 1;
	TH_CHECK(waitpid(init, NULL, 0) == init, "waitpid: %m");
	return 0;
}

/* An init of our own, in a namespace unshared for it; it clears its robust list when @bare. */
static pid_t own_init(bool bare)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		if (bare)
			syscall(SYS_set_robust_list, NULL, 3 * sizeof(void *));
		for (;;)
			pause();
	}
	return pid;
}

static int fresh_records(void *arg)
{
	/* The inits' PIDs one level up: A1's in ours, A0's in A1, B0's in ours. */
	static const pid_t a_outer[2] = { 650, 640 }, b_outer[1] = { 660 };
	static const pid_t in_a0[3] = { 1, 640, 650 }, in_a1[2] = { 640, 650 },
			   in_b0[2] = { 1, 660 }, own[1] = { 650 };
	int fds = th_count_fds(), a0, a1, b0, back;
	pid_t ha, hb, init;

	(void)arg;
	back = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	TH_CHECK(back >= 0, "open: %m");
	ha = th_make_nested_ns(2, a_outer, &a0);
	TH_CHECK(ha > 0, "th_make_nested_ns: %d", ha);
	hb = th_make_nested_ns(1, b_outer, &b0);
	TH_CHECK(hb > 0, "th_make_nested_ns: %d", hb);
	a1 = ioctl(a0, NS_GET_PARENT_IOC);
	TH_CHECK(a1 >= 0, "NS_GET_PARENT: %m");
	/* Two deep, the middle one, another one deep, two deep again, then our own. */
	const struct {
		int fd, depth;
		const pid_t *taken;
	} steps[] = { { a0, 2, in_a0 },
		      { a1, 1, in_a1 },
		      { b0, 1, in_b0 },
		      { a0, 2, in_a0 },
		      { back, 0, own } };
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		TH_CHECK(setns(steps[k].fd, CLONE_NEWPID) == 0, "setns: %m");
		if (depth_verdicts(steps[k].depth, steps[k].taken))
			return 1;
	}
	close(a1);
	close(b0);
	kill(hb, SIGKILL);
	/* An init with and without a robust futex list: alive, then dead. */
	for (int bare = 0; bare < 2; bare++) {
		init = own_init(bare);
		TH_CHECK(init > 0, "own_init: %m");
		if (init_dies(init))
			return 1;
		TH_CHECK(setns(back, CLONE_NEWPID) == 0, "setns: %m");
	}
	close(back);
	return th_clean_up(ha, a0, fds);
}

/* ---- no fd is leaked ---- */

static int no_leak(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, newpid, .clone_flags = CLONE_NEWPID);
	struct pidtuple_level_info li = { .sz = sizeof(li) };
	int fds = th_count_fds(), nsfd, inner_fds;
	pid_t holder, pids[3] = { FREE_PID, FREE_PID, FREE_PID };
	struct pidtuple *t = NULL;

	(void)arg;
	holder = th_make_nested_ns(2, NULL, &nsfd);
	TH_CHECK(holder > 0, "th_make_nested_ns: %d", holder);
	TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
	TH_CHECK(pidtuple_from_inner(pids, 3, &t) == 0, "tuple");
	inner_fds = th_count_fds();
	for (int i = 0; i < 50; i++) {
		struct pidtuple_nsctx *ctx = NULL;

		TH_CHECK(pidtuple_nsctx_new(i & 1 ? &newpid : NULL, &ctx) == 0, "nsctx_new");
		for (int l = 0; l < pidtuple_nsctx_levels(ctx); l++)
			TH_CHECK(pidtuple_nsctx_level(ctx, (unsigned int)l, &li) == 0, "level");
		(void)pidtuple_check_in(ctx, t, NULL);
		pidtuple_nsctx_free(ctx);
		(void)pidtuple_check(t, NULL, NULL);
	}
	TH_CHECK(th_count_fds() == inner_fds, "%d fds after, %d before", th_count_fds(), inner_fds);
	pidtuple_free(t);
	return th_clean_up(holder, nsfd, fds);
}

/* ---- what the library keeps for the process stays with it ---- */

/* In a child that is PID 1 of a namespace of its own: one level is visible, and a tuple of two
 * leaves the outer one to the kernel. The parent's namespace, kept, would make that two. */
static int forked_child_levels(void)
{
	pid_t pids[2] = { FREE_PID, FREE_PID };
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple *t = NULL;
	int n, r;

	if (pidtuple_nsctx_new(NULL, &ctx) < 0)
		return 10;
	n = pidtuple_nsctx_levels(ctx);
	pidtuple_nsctx_free(ctx);
	if (pidtuple_from_inner(pids, 2, &t) < 0)
		return 11;
	r = pidtuple_check(t, NULL, NULL);
	pidtuple_free(t);
	return n == 1 && r == 1 ? 0 : 12;
}

static int forked_child(void *arg)
{
	pid_t one = FREE_PID, pid;
	struct pidtuple *t = NULL;
	int status = -1;

	(void)arg;
	/* Fills the process's cache: its active namespace and that namespace's owner. */
	TH_CHECK(pidtuple_from_inner(&one, 1, &t) == 0, "tuple");
	TH_CHECK(pidtuple_check(t, NULL, NULL) == 0, "check in the parent");
	TH_CHECK(unshare(CLONE_NEWPID) == 0, "unshare: %m");
	pid = fork();
	TH_CHECK(pid >= 0, "fork: %m");
	if (pid == 0)
		_exit(forked_child_levels());
	TH_CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
	TH_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status 0x%x", status);
	/* The parent's children go to the namespace whose init was that child: none can now.
	 * Without the nsfs PID ioctls (6.1) only a scan can tell that its init is dead. */
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, o,
			      .flags = pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS
					       ? 0
					       : PIDTUPLE_FORK_CHECK_SCAN);
		int r = pidtuple_check(t, &o, NULL);

		TH_CHECK(r == -ENOMEM, "check in the parent after unshare: %d", r);
	}
	pidtuple_free(t);
	return 0;
}

/* ---- pidtuple_features() ---- */

static uint64_t cap_eff(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long v = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

static int features(void *arg)
{
	uint64_t f = pidtuple_features(), want = 0, caps = cap_eff();
	pid_t dummy = 0, self = getpid();
	int fd, fds = th_count_fds();
	/* Calls that fail before they could create a process. */
	struct th_clone_args bad_signal = { .exit_signal = ~0ull };
	struct th_clone_args set_tid_no_size = { .set_tid = (uintptr_t)&dummy };
	struct th_clone_args bad_cgroup = { .flags = 1ull << 33, .cgroup = 1ull << 32 };

	(void)arg;
	if (th_raw_clone3(&bad_signal, 64 /* CLONE_ARGS_SIZE_VER0 */) == -EINVAL)
		want |= PIDTUPLE_FEATURE_CLONE3 | PIDTUPLE_FEATURE_PIDFD;
	if (th_raw_clone3(&set_tid_no_size, TH_CLONE_ARGS_SIZE_VER1) == -EINVAL)
		want |= PIDTUPLE_FEATURE_SET_TID;
	if (th_raw_clone3(&bad_cgroup, TH_CLONE_ARGS_SIZE_VER2) == -EINVAL)
		want |= PIDTUPLE_FEATURE_INTO_CGROUP;
	fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	TH_CHECK(fd >= 0, "open ns: %m");
	if (ioctl(fd, NS_GET_PID_FROM_PIDNS_IOC, (unsigned long)self) == self)
		want |= PIDTUPLE_FEATURE_NS_PID_IOCTLS;
	close(fd);
	fd = th_pidfd_open(self, 0);
	TH_CHECK(fd >= 0, "pidfd_open: %m");
	{
		/* struct pidfd_info, first version: 64 bytes, mask first. */
		uint64_t info[8] = { 1 /* PIDFD_INFO_PID */ };

		if (ioctl(fd, _IOWR(0xFF, 11, uint64_t[8]), info) == 0 && (info[0] & 1))
			want |= PIDTUPLE_FEATURE_PIDFD_GET_INFO;
	}
	close(fd);
	if (th_kernel_at_least(6, 14))
		want |= PIDTUPLE_FEATURE_PER_NS_PID_MAX;
	/* As root, in a namespace owned by the initial user namespace, we may write it. */
	fd = open("/proc/sys/kernel/ns_last_pid", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		want |= PIDTUPLE_FEATURE_NS_LAST_PID;
		close(fd);
	}
	if (caps & (1ull << 40))
		want |= PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE;
	if (caps & (1ull << 21))
		want |= PIDTUPLE_FEATURE_CAP_SYS_ADMIN;
	/* The BPF scan, where built and libbpf.so.1 is there (else EOPNOTSUPP, nothing to
	 * probe): CAP_SYS_ADMIN, or CAP_BPF (39) and CAP_PERFMON (38), and kernel BTF. */
	if (pidtuple_feature_error(PIDTUPLE_FEATURE_BPF_SCAN) != -EOPNOTSUPP &&
	    ((caps & (1ull << 21)) || (caps & (3ull << 38)) == (3ull << 38)) &&
	    access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		want |= PIDTUPLE_FEATURE_BPF_SCAN;

	TH_CHECK(f == want, "features 0x%llx, probed 0x%llx", (unsigned long long)f,
		 (unsigned long long)want);
	TH_CHECK(pidtuple_features() == f, "not stable");
	/* This suite runs as root on a 5.5+ kernel: the basics must be there. */
	TH_CHECK((f & (PIDTUPLE_FEATURE_CLONE3 | PIDTUPLE_FEATURE_SET_TID |
		       PIDTUPLE_FEATURE_CAP_SYS_ADMIN)) ==
			 (PIDTUPLE_FEATURE_CLONE3 | PIDTUPLE_FEATURE_SET_TID |
			  PIDTUPLE_FEATURE_CAP_SYS_ADMIN),
		 "features 0x%llx", (unsigned long long)f);
	return th_clean_up(0, -1, fds);
}

/* ---- the suite ---- */

TH_NS_TEST(test_own_namespace, own_namespace, NULL)
TH_NS_TEST(test_newpid, with_newpid, NULL)
TH_NS_TEST(test_nested, nested, NULL)
TH_NS_TEST(test_after_unshare, after_unshare, NULL)
TH_NS_TEST(test_sizes_and_args, sizes_and_args, NULL)
TH_NS_TEST(test_check_in, check_in, NULL)
TH_NS_TEST(test_no_leak, no_leak, NULL)
TH_NS_TEST(test_fresh_records, fresh_records, NULL)
TH_NS_TEST(test_features, features, NULL)
TH_NS_TEST(test_forked_child, forked_child, NULL)

static Suite *nsctx_suite(void)
{
	Suite *s = suite_create("nsctx");
	TCase *tc = tcase_create("context");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_own_namespace);
	tcase_add_test(tc, test_newpid);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_after_unshare);
	tcase_add_test(tc, test_sizes_and_args);
	tcase_add_test(tc, test_check_in);
	tcase_add_test(tc, test_no_leak);
	tcase_add_test(tc, test_fresh_records);
	tcase_add_test(tc, test_features);
	tcase_add_test(tc, test_forked_child);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	runner_in_init_ns = ino_of("/proc/self/ns/pid") == INIT_PID_NS_INO;
	return th_run_suite(nsctx_suite());
}
