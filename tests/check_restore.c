/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whole-tree restore: trees built the ordinary way (fork, clone(CLONE_NEWPID), setsid,
 * setpgid, leaders that exit) are captured, killed, restored and captured again, at 1, 2 and
 * 3 namespace levels, and the two captures must be identical. Also: a 1,000-process tree
 * against a time budget, a failure injected at every node (nothing may be left behind), the
 * barrier, the release, PR_SET_PDEATHSIG while held and not after, the hand-over of a HOLD
 * node with its latency, and the descriptors: a released HOLD node keeps none of the caller's.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

TH_LSAN_EXPLICIT_ONLY

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct pidtuple *tp(const char *text)
{
	struct pidtuple *t = NULL;

	if (pidtuple_parse(text, &t, NULL) < 0)
		abort();
	return t;
}

/* A group or session tuple from text, outermost first; 0 where it is not visible. */
static struct pidtuple *ids(const char *text)
{
	struct pidtuple *t = NULL;
	pid_t v[PIDTUPLE_MAX_LEVELS];
	size_t n = 0;

	for (const char *p = text; *p && n < PIDTUPLE_MAX_LEVELS; p += *p == '/')
		v[n++] = (pid_t)strtol(p, (char **)&p, 10);
	if (pidtuple_from_ids(v, n, &t) < 0)
		abort();
	return t;
}

/* Adds a node from text; NULL group or session text means the parent's. */
static int add(struct pidtuple_tree *tree, int parent, const char *tuple, uint64_t flags,
	       uint32_t kind, const char *pgid, const char *sid)
{
	struct pidtuple *t = tp(tuple), *g = pgid ? ids(pgid) : NULL, *s = sid ? ids(sid) : NULL;
	PIDTUPLE_OPTS(pidtuple_node, nd, .parent = parent, .tuple = t, .pgid = g, .sid = s,
		      .flags = flags, .kind = kind);
	int r = pidtuple_tree_add(tree, &nd);

	pidtuple_free(t);
	pidtuple_free(g);
	pidtuple_free(s);
	return r;
}

static void fmt(const struct pidtuple *t, char *buf, size_t size)
{
	if (!t)
		snprintf(buf, size, "-");
	else
		pidtuple_format(t, buf, size);
}

static void dump(const char *title, const struct pidtuple_tree *t)
{
	int n = pidtuple_tree_size(t);

	fprintf(stderr, "%s (%d nodes):\n", title, n);
	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, nd);
		char a[128], b[128], c[128];

		pidtuple_tree_get(t, (unsigned int)i, &nd);
		fmt(nd.tuple, a, sizeof(a));
		fmt(nd.pgid, b, sizeof(b));
		fmt(nd.sid, c, sizeof(c));
		fprintf(stderr, "  %3d: parent %3d %s %-16s pgid %-16s sid %s\n", i, nd.parent,
			nd.flags & PIDTUPLE_NODE_NEWPID ? "NEWPID" : "      ", a, b, c);
	}
}

static bool same_tuple(const struct pidtuple *a, const struct pidtuple *b)
{
	if (!a || !b)
		return a == b;
	return pidtuple_equal(a, b) == 1;
}

/* 0 when the two descriptions are identical; else prints both. Without @groups (a description
 * against its capture), the marks only a capture sets (PIDTUPLE_NODE_*_OUTSIDE) are left out. */
static int tree_diff(const struct pidtuple_tree *a, const struct pidtuple_tree *b, bool groups)
{
	uint64_t flags = groups ? ~0ull : PIDTUPLE_NODE_NEWPID;
	int n = pidtuple_tree_size(a);

	if (n != pidtuple_tree_size(b))
		goto differ;
	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, x);
		PIDTUPLE_OPTS(pidtuple_node, y);

		pidtuple_tree_get(a, (unsigned int)i, &x);
		pidtuple_tree_get(b, (unsigned int)i, &y);
		if (x.parent != y.parent || ((x.flags ^ y.flags) & flags) ||
		    !same_tuple(x.tuple, y.tuple))
			goto differ;
		if (groups && (!same_tuple(x.pgid, y.pgid) || !same_tuple(x.sid, y.sid)))
			goto differ;
	}
	return 0;
differ:
	dump("first", a);
	dump("second", b);
	return 1;
}

/* Kills everything in the test's namespace but its init, and reaps it all. */
static void kill_all(void)
{
	for (int round = 0; round < 1000; round++) {
		kill(-1, SIGKILL);
		while (waitpid(-1, NULL, __WALL) > 0)
			;
		if (kill(-1, 0) < 0 && errno == ESRCH)
			return;
		usleep(1000);
	}
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static bool comm_is(int pidfd, const char *want)
{
	char path[64], buf[64] = "";
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/comm", th_proc_pid(pidfd));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n > 0 ? n : 0] = '\0';
	return strcmp(buf, want) == 0;
}

static bool exited(int pidfd)
{
	struct pollfd pf = { pidfd, POLLIN, 0 };

	return poll(&pf, 1, 0) > 0;
}

static bool exits_within(int pidfd, int ms)
{
	struct pollfd pf = { pidfd, POLLIN, 0 };

	return poll(&pf, 1, ms) > 0;
}

/* ---- original trees, built the ordinary way ------------------------------------------- */

enum { O_FORK = 1, O_NEWPID, O_SETSID, O_FOUND, O_JOIN, O_EXIT, O_REAP, O_SUBREAPER };

/* Step i runs when every earlier step has: a script over processes numbered by the spec. */
struct ostep {
	int actor, act, arg;
};

struct oshm {
	volatile int turn, failed;
	volatile pid_t pid[64]; /* in the namespace of whoever refers to it */
};

static void __attribute__((noreturn))
orig_proc(struct oshm *sh, const struct ostep *st, int n, int me, int from)
{
	for (int i = from; i < n; i++) {
		pid_t pid;

		if (st[i].actor != me)
			continue;
		while (sh->turn != i) {
			if (sh->failed)
				_exit(1);
			usleep(200);
		}
		switch (st[i].act) {
		case O_FORK:
		case O_NEWPID:
			pid = st[i].act == O_FORK
				      ? fork()
				      : (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0,
						       0);
			if (pid < 0)
				goto fail;
			if (pid == 0) {
				me = st[i].arg;
				continue;
			}
			sh->pid[st[i].arg] = st[i].act == O_FORK ? pid : 1;
			break;
		case O_SETSID:
			if (setsid() < 0)
				goto fail;
			break;
		case O_FOUND:
			if (setpgid(0, 0) < 0)
				goto fail;
			break;
		case O_JOIN:
			if (setpgid(0, sh->pid[st[i].arg]) < 0)
				goto fail;
			break;
		case O_EXIT:
			sh->turn = i + 1;
			_exit(0);
		case O_REAP:
			if (waitpid(sh->pid[st[i].arg], NULL, 0) < 0)
				goto fail;
			break;
		case O_SUBREAPER:
			prctl(PR_SET_CHILD_SUBREAPER, 1);
			break;
		}
		sh->turn = i + 1;
	}
	for (;;)
		pause();
fail:
	fprintf(stderr, "original tree: step %d failed: %s\n", sh->turn, strerror(errno));
	sh->failed = 1;
	_exit(1);
}

/* Forks process 0 (in a new namespace with @newpid) and plays the script; returns its PID.
 * With @pids, the script's processes' PIDs (oshm::pid), @npids of them, are copied there. */
static pid_t build_orig_pids(const struct ostep *st, int n, bool newpid, pid_t *pids, int npids)
{
	struct oshm *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double until = now_s() + 10;
	pid_t pid;

	if (sh == MAP_FAILED)
		return -1;
	memset((void *)sh, 0, sizeof(*sh));
	pid = newpid ? (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0) : fork();
	if (pid == 0)
		orig_proc(sh, st, n, 0, 0);
	while (pid > 0 && sh->turn < n && !sh->failed && now_s() < until)
		usleep(500);
	if (pid > 0 && (sh->turn < n || sh->failed)) {
		kill_all();
		pid = -1;
	}
	for (int i = 0; i < npids; i++)
		pids[i] = sh->pid[i];
	munmap(sh, sizeof(*sh));
	return pid;
}

static pid_t build_orig(const struct ostep *st, int n, bool newpid)
{
	return build_orig_pids(st, n, newpid, NULL, 0);
}

/* The scripts. Process numbers are indices into oshm::pid. */

/* One level: a session, groups led from another branch, a session inside it, and a dead
 * session leader whose member the root (a subreaper) inherited. */
static const struct ostep one_level[] = {
	{ 0, O_SUBREAPER, 0 }, { 0, O_SETSID, 0 }, { 0, O_FORK, 1 }, { 1, O_FOUND, 0 },
	{ 1, O_FORK, 2 },      { 0, O_FORK, 3 },   { 3, O_JOIN, 1 }, { 0, O_FORK, 4 },
	{ 1, O_FORK, 5 },      { 5, O_SETSID, 0 }, { 5, O_FORK, 6 }, { 0, O_FORK, 7 },
	{ 7, O_SETSID, 0 },    { 7, O_FORK, 8 },   { 8, O_FORK, 9 }, { 7, O_EXIT, 0 },
	{ 0, O_REAP, 7 },      { 4, O_FORK, 10 },
};

/* Two levels: the root is a namespace's init. A session led by a sibling (its member's
 * parent died), a dead group leader, a dead session leader. */
static const struct ostep two_levels[] = {
	{ 0, O_FORK, 1 },   { 1, O_SETSID, 0 }, { 1, O_FORK, 2 }, { 2, O_FORK, 3 },
	{ 2, O_EXIT, 0 },   { 1, O_REAP, 2 },	{ 0, O_FORK, 4 }, { 4, O_FOUND, 0 },
	{ 4, O_FORK, 5 },   { 4, O_EXIT, 0 },	{ 0, O_REAP, 4 }, { 0, O_FORK, 6 },
	{ 6, O_SETSID, 0 }, { 6, O_FORK, 7 },	{ 7, O_FORK, 8 }, { 6, O_EXIT, 0 },
	{ 0, O_REAP, 6 },   { 0, O_FORK, 9 },
};

/* Three levels: an inner namespace whose init inherits a group it cannot see; groups and a
 * session inside it. */
static const struct ostep three_levels[] = {
	{ 0, O_FOUND, 0 },  { 0, O_FORK, 1 }, { 0, O_NEWPID, 2 }, { 2, O_FORK, 3 },
	{ 3, O_FOUND, 0 },  { 2, O_FORK, 4 }, { 4, O_JOIN, 3 },	  { 2, O_FORK, 5 },
	{ 5, O_SETSID, 0 }, { 5, O_FORK, 6 }, { 2, O_FORK, 7 },	  { 1, O_FORK, 8 },
};

/* Four levels: namespaces inside namespaces, a dead group leader at the deepest. */
static const struct ostep four_levels[] = {
	{ 0, O_SETSID, 0 }, { 0, O_NEWPID, 1 }, { 1, O_NEWPID, 2 }, { 2, O_FORK, 3 },
	{ 3, O_FOUND, 0 },  { 3, O_FORK, 4 },	{ 3, O_EXIT, 0 },   { 2, O_REAP, 3 },
	{ 2, O_FORK, 5 },   { 1, O_FORK, 6 },
};

struct script {
	const struct ostep *steps;
	int n;
	bool newpid;
	int nodes;  /* processes alive at the end */
	int levels; /* of the deepest tuple */
};

static const struct script scripts[] = {
	{ one_level, ARRAY_SIZE(one_level), false, 10, 1 },
	{ two_levels, ARRAY_SIZE(two_levels), true, 7, 2 },
	{ three_levels, ARRAY_SIZE(three_levels), true, 9, 3 },
	{ four_levels, ARRAY_SIZE(four_levels), true, 6, 4 },
};

static int max_levels(const struct pidtuple_tree *t)
{
	int n = pidtuple_tree_size(t), m = 0;

	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, nd);

		pidtuple_tree_get(t, (unsigned int)i, &nd);
		if (pidtuple_levels(nd.tuple) > m)
			m = pidtuple_levels(nd.tuple);
	}
	return m;
}

/* Every node has its tuple, seen through its pidfd, and the caller's PID of it. */
static int verify_restored(const struct pidtuple_tree *t, const struct pidtuple_restore *rs)
{
	int n = pidtuple_tree_size(t);

	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, nd);
		struct pidtuple *got = NULL;
		int fd = pidtuple_restore_pidfd(rs, (unsigned int)i);

		pidtuple_tree_get(t, (unsigned int)i, &nd);
		TH_CHECK(fd >= 0, "node %d: no pidfd (%d)", i, fd);
		TH_CHECK(pidtuple_of_pidfd(fd, &got) == 0, "node %d: unreadable", i);
		TH_CHECK(pidtuple_equal(got, nd.tuple) == 1, "node %d: wrong tuple", i);
		TH_CHECK(
			pidtuple_restore_pid(rs, (unsigned int)i) ==
				pidtuple_get(nd.tuple, (unsigned int)pidtuple_levels(nd.tuple) - 1),
			"node %d: pid %d", i, pidtuple_restore_pid(rs, (unsigned int)i));
		pidtuple_free(got);
	}
	return 0;
}

static int round_trip_body(void *arg)
{
	const struct script *sc = &scripts[(intptr_t)arg];
	struct pidtuple_tree *t1 = NULL, *t2 = NULL;
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	pid_t root = build_orig(sc->steps, sc->n, sc->newpid);
	int r;

	TH_CHECK(root > 0, "the original tree could not be built");
	r = pidtuple_tree_capture(root, &t1);
	TH_CHECK(r == 0, "capture: %s", pidtuple_strerror(r));
	if (pidtuple_tree_size(t1) != sc->nodes || max_levels(t1) != sc->levels)
		dump("captured", t1);
	TH_CHECK(pidtuple_tree_size(t1) == sc->nodes, "%d nodes", pidtuple_tree_size(t1));
	TH_CHECK(max_levels(t1) == sc->levels, "%d levels", max_levels(t1));
	kill_all();

	r = pidtuple_tree_restore(t1, &o, &rs);
	if (r < 0)
		dump("description", t1);
	TH_CHECK(r == 0, "restore: %s: node %d rule %s: %s", pidtuple_strerror(r), d.node,
		 pidtuple_rule_name(d.rule), d.message);
	if (verify_restored(t1, rs))
		return 1;
	/* Held at the barrier, then released: the same tree either way. */
	r = pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &t2);
	TH_CHECK(r == 0, "capture while held: %s", pidtuple_strerror(r));
	TH_CHECK(tree_diff(t1, t2, true) == 0, "held tree differs");
	pidtuple_tree_free(t2);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	r = pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &t2);
	TH_CHECK(r == 0, "capture after release: %s", pidtuple_strerror(r));
	TH_CHECK(tree_diff(t1, t2, true) == 0, "restored tree differs");

	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t1);
	pidtuple_tree_free(t2);
	TH_CHECK(th_count_children() == 0, "children left: %d", th_count_children());
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_round_trip)
{
	ck_assert_int_eq(th_in_pidns_clean(round_trip_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* Captured twice without a restore in between: the canonical order makes them equal. */
static int capture_twice_body(void *arg)
{
	struct pidtuple_tree *a = NULL, *b = NULL;
	pid_t root;

	(void)arg;
	root = build_orig(two_levels, ARRAY_SIZE(two_levels), true);
	TH_CHECK(root > 0, "the original tree could not be built");
	TH_CHECK(pidtuple_tree_capture(root, &a) == 0, "capture");
	TH_CHECK(pidtuple_tree_capture(root, &b) == 0, "capture");
	TH_CHECK(tree_diff(a, b, true) == 0, "captures differ");
	pidtuple_tree_free(a);
	pidtuple_tree_free(b);
	TH_CHECK(pidtuple_tree_capture(1 << 30, &a) == -ESRCH, "no such process");
	TH_CHECK(pidtuple_tree_capture(0, &a) == -EINVAL, "pid 0");
	TH_CHECK(pidtuple_tree_capture(root, NULL) == -EINVAL, "NULL");
	kill_all();
	return 0;
}

START_TEST(test_capture_twice)
{
	ck_assert_int_eq(th_in_pidns_clean(capture_twice_body, NULL), 0);
}
END_TEST

/* ---- every way capture finds the processes ------------------------------------------- */

/* @a and @b alike, names and threads too. */
static int capture_diff(const struct pidtuple_tree *a, const struct pidtuple_tree *b)
{
	if (tree_diff(a, b, true))
		return 1;
	for (int i = 0; i < pidtuple_tree_size(a); i++) {
		PIDTUPLE_OPTS(pidtuple_node, x);
		PIDTUPLE_OPTS(pidtuple_node, y);

		pidtuple_tree_get(a, (unsigned int)i, &x);
		pidtuple_tree_get(b, (unsigned int)i, &y);
		TH_CHECK(strcmp(x.name ? x.name : "", y.name ? y.name : "") == 0,
			 "node %d: names %s, %s", i, x.name, y.name);
		TH_CHECK(x.nthreads == y.nthreads, "node %d: threads", i);
		for (uint32_t k = 0; k < x.nthreads; k++)
			TH_CHECK(same_tuple(x.threads[k], y.threads[k]), "node %d thread %u", i, k);
	}
	return 0;
}

/* The capture with PIDTUPLE_SCAN_SOURCE=@src (NULL: the default) must be @ref. */
static int capture_with(pid_t root, const char *src, const struct pidtuple_tree *ref)
{
	struct pidtuple_tree *t = NULL;
	int r;

	if (src)
		setenv("PIDTUPLE_SCAN_SOURCE", src, 1);
	r = pidtuple_tree_capture(root, &t);
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	TH_CHECK(r == 0, "capture (%s): %s", src ? src : "default", pidtuple_strerror(r));
	r = capture_diff(ref, t);
	pidtuple_tree_free(t);
	TH_CHECK(r == 0, "capture (%s) differs from the walk's", src ? src : "default");
	return 0;
}

/* The walk, the scan from status and from the BPF iterator, and the default choice give one
 * description, with /proc of an outer namespace and with the caller's own. */
static int capture_sources_body(void *arg)
{
	const struct script *sc = &scripts[(intptr_t)arg];
	const char *srcs[] = { NULL, "walk", "status", "nsfs", "bpf" };
	bool bpf = pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN;
	struct pidtuple_tree *ref = NULL;
	pid_t root = build_orig(sc->steps, sc->n, sc->newpid);

	TH_CHECK(root > 0, "the original tree could not be built");
	setenv("PIDTUPLE_SCAN_SOURCE", "walk", 1);
	TH_CHECK(pidtuple_tree_capture(root, &ref) == 0, "capture (walk)");
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	TH_CHECK(pidtuple_tree_size(ref) == sc->nodes, "%d nodes", pidtuple_tree_size(ref));
	for (int own = 0; own < 2; own++) {
		TH_CHECK(!own || th_mount_own_proc() == 0, "mounting /proc: %m");
		for (size_t k = 0; k < ARRAY_SIZE(srcs); k++)
			if ((bpf || !srcs[k] || strcmp(srcs[k], "bpf")) &&
			    capture_with(root, srcs[k], ref))
				return 1;
	}
	pidtuple_tree_free(ref);
	kill_all();
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_capture_sources)
{
	ck_assert_int_eq(th_in_pidns_clean(capture_sources_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* A root whose children fork a grandchild and exit, without end: parents gone before their
 * children, children born during the capture. */
static void churn_root(void)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		pid_t c = fork();

		if (c == 0) {
			if (fork() == 0) {
				usleep(500);
				_exit(0);
			}
			usleep(200);
			_exit(0);
		}
		if (c < 0)
			usleep(1000);
	}
}

/* Captures of a churning tree, every way: each a consistent tree (the root first, every
 * node's parent before it, no tuple twice), never an error. */
static int capture_churn_body(void *arg)
{
	const char *srcs[] = { "walk", "status", "bpf", NULL };
	bool bpf = pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN;
	pid_t root = fork();

	(void)arg;
	if (root == 0)
		churn_root();
	TH_CHECK(root > 0, "fork");
	for (int round = 0; round < 40; round++) {
		const char *src = srcs[round % 4];
		struct pidtuple_tree *t = NULL;
		int r;

		if (src && !strcmp(src, "bpf") && !bpf)
			continue;
		if (src)
			setenv("PIDTUPLE_SCAN_SOURCE", src, 1);
		r = pidtuple_tree_capture(root, &t);
		unsetenv("PIDTUPLE_SCAN_SOURCE");
		TH_CHECK(r == 0, "capture (%s): %s", src ? src : "default", pidtuple_strerror(r));
		TH_CHECK(pidtuple_tree_size(t) >= 1, "no root");
		pidtuple_tree_free(t);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* grandchildren whose parents went first */
	}
	kill_all();
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_capture_churn)
{
	ck_assert_int_eq(th_in_pidns_clean(capture_churn_body, NULL), 0);
}
END_TEST

/* A root whose children exit at once and are reaped as they exit (SIGCHLD ignored). */
static void exiting_root(void)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;)
		if (fork() == 0)
			_exit(0);
}

/* One scan from status: every entry has real numbers at every level. */
static int scan_all_real(void)
{
	struct pidtuple_scan *s = NULL;
	struct pidtuple_scan_entry e = { .sz = sizeof(e) };
	int r;

	setenv("PIDTUPLE_SCAN_SOURCE", "status", 1);
	r = pidtuple_scan_new(NULL, &s);
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	TH_CHECK(r == 0, "scan_new: %s", pidtuple_strerror(r));
	while ((r = pidtuple_scan_next(s, &e)) == 1)
		for (int i = 0; i < pidtuple_levels(e.tuple); i++)
			TH_CHECK(pidtuple_get(e.tuple, (unsigned int)i) >= 1, "scanned %d with a 0",
				 (int)e.pid);
	pidtuple_scan_free(s);
	TH_CHECK(r == 0, "scan_next: %s", pidtuple_strerror(r));
	return 0;
}

/* Captures and scans while children exit all the time: a child being released shows 0 for
 * each of its numbers in its status, which reads as gone, never as a malformed tree or an
 * entry numbered 0. Without that, about one capture in ten here failed with EIO. */
static int capture_released_body(void *arg)
{
	struct timespec t0, now;
	pid_t root = fork();
	int rounds = 0;

	(void)arg;
	if (root == 0)
		exiting_root();
	TH_CHECK(root > 0, "fork");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct pidtuple_tree *t = NULL;
		const char *src = rounds % 2 ? "status" : "walk";
		int r;

		setenv("PIDTUPLE_SCAN_SOURCE", src, 1);
		r = pidtuple_tree_capture(root, &t);
		unsetenv("PIDTUPLE_SCAN_SOURCE");
		TH_CHECK(r == 0, "capture %d (%s): %s", rounds, src, pidtuple_strerror(r));
		pidtuple_tree_free(t);
		TH_CHECK(rounds % 4 != 3 || scan_all_real() == 0, "scan %d", rounds);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (++rounds < 2000 && now.tv_sec - t0.tv_sec < 2);
	fprintf(stderr, "capture of a root whose children exit: %d captures and scans\n", rounds);
	kill_all();
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_capture_released)
{
	ck_assert_int_eq(th_in_pidns_clean(capture_released_body, NULL), 0);
}
END_TEST

/* ---- a thousand processes ------------------------------------------------------------- */

#define BIG 1000

static int big_body(void *arg)
{
	struct pidtuple_tree *t = NULL, *cap = NULL;
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	double t0, t1, t2;
	bool inner[BIG];
	int r;

	(void)arg;
	raise_nofile();
	TH_CHECK(pidtuple_tree_new(&t) == 0, "new");
	/* A 4-ary tree; node 1's subtree lives in a namespace of its own. */
	for (int i = 0; i < BIG; i++) {
		int parent = i ? (i - 1) / 4 : -1;
		char text[64];

		inner[i] = i == 1 || (i > 1 && inner[parent]);
		if (i == 1)
			snprintf(text, sizeof(text), "%d/1", 2000 + i);
		else if (inner[i])
			snprintf(text, sizeof(text), "%d/%d", 2000 + i, i);
		else
			snprintf(text, sizeof(text), "%d", 2000 + i);
		r = add(t, parent, text, i == 1 ? PIDTUPLE_NODE_NEWPID : 0, PIDTUPLE_NODE_HOLD,
			NULL, NULL);
		TH_CHECK(r == i, "add %d: %d", i, r);
	}
	t0 = now_s();
	r = pidtuple_tree_check(t, NULL, &d);
	t1 = now_s();
	TH_CHECK(r == 0, "check: %s: %s", pidtuple_strerror(r), d.message);
	r = pidtuple_tree_restore(t, &o, &rs);
	t2 = now_s();
	TH_CHECK(r == 0, "restore: %s: node %d: %s", pidtuple_strerror(r), d.node, d.message);
	fprintf(stderr, "%d processes: check %.3f s, restore (check included) %.3f s\n", BIG,
		t1 - t0, t2 - t1);
	/* 30 s, stretched like Check's timeouts where the machine is emulated (kmatrix). */
	{
		const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
		double budget = 30.0 * (m && atof(m) >= 1 ? atof(m) : 1);

		TH_CHECK(t2 - t1 < budget, "restore took %.1f s, budget %.0f s", t2 - t1, budget);
	}
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &cap) == 0, "capture");
	TH_CHECK(tree_diff(t, cap, false) == 0, "the restored tree differs");
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	pidtuple_tree_free(cap);
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_thousand)
{
	ck_assert_int_eq(th_in_pidns_clean(big_body, NULL), 0);
}
END_TEST

/* ---- a failure at every node ----------------------------------------------------------- */

/*
 * Root 300 leads a session; 301 leads a group 302 joins; 303 starts a namespace where 304
 * and 305 live (305 leads a group); 306's session leader 350 is dead, so a temporary helper
 * with PID 350 is made; 307 is 306's child.
 */
static struct pidtuple_tree *failing_tree(void)
{
	struct pidtuple_tree *t = NULL;

	if (pidtuple_tree_new(&t) < 0)
		abort();
	add(t, -1, "300", 0, PIDTUPLE_NODE_HOLD, "300", "300");
	add(t, 0, "301", 0, PIDTUPLE_NODE_HOLD, "301", NULL);
	add(t, 0, "302", 0, PIDTUPLE_NODE_HOLD, "301", NULL);
	add(t, 0, "303/1", PIDTUPLE_NODE_NEWPID, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 3, "304/2", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 3, "305/3", 0, PIDTUPLE_NODE_HOLD, "305/3", NULL);
	add(t, 0, "306", 0, PIDTUPLE_NODE_HOLD, "350", "350");
	add(t, 6, "307", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	return t;
}

#define FAILING_NODES 8

struct blocker {
	pid_t want, got;
};

/* Takes b->want with a process that waits. */
static int take_pid(void *arg)
{
	struct blocker *b = arg;
	struct pidtuple *t = NULL;
	pid_t want[1] = { b->want };

	pidtuple_from_outer(want, 1, &t);
	b->got = pidtuple_fork(t, NULL, NULL);
	pidtuple_free(t);
	if (b->got == 0) {
		for (;;)
			pause();
	}
	return 0;
}

static int failure_body(void *arg)
{
	int k = (int)(intptr_t)arg;
	static const pid_t top[FAILING_NODES + 1] = { 300, 301, 302, 303, 304, 305, 306, 307, 350 };
	static const int levels[FAILING_NODES + 1] = { 1, 1, 1, 2, 2, 2, 1, 1, 1 };
	struct pidtuple_tree *t = failing_tree();
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int r, fds = th_count_fds(), st;
	pid_t member;

	/* Unblocked it restores. */
	r = pidtuple_tree_restore(t, NULL, &rs);
	TH_CHECK(r == 0, "plain restore: %s", pidtuple_strerror(r));
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	rs = NULL;
	TH_CHECK(th_count_children() == 0, "children after the plain restore");

	member = th_hold_as_session(top[k]);
	for (int i = 0; i < 1000 && member > 0 && getpgid(member) != member; i++)
		usleep(1000); /* its own group */
	TH_CHECK(member > 0 && getsid(member) == top[k] && getpgid(member) == member,
		 "no session %d held", (int)top[k]);
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == -EEXIST, "restore with PID %d held: %d (%s)", (int)top[k], r, d.message);
	TH_CHECK(rs == NULL, "a handle was returned");
	TH_CHECK(d.node == (k < FAILING_NODES ? k : 6), "node %d named, not %d: %s", d.node,
		 k < FAILING_NODES ? k : 6, d.message);
	/* The root is the caller's own fork, which the validator explains; the others the
	 * restorer explains, with clone3()'s error. */
	TH_CHECK(d.rule == PIDTUPLE_RULE_PID_TAKEN, "rule %s: %s", pidtuple_rule_name(d.rule),
		 d.message);
	TH_CHECK(k == 0 || d.kernel_err == -EEXIST, "kernel_err %d", d.kernel_err);
	TH_CHECK(d.inner_index == levels[k] - 1 && d.nspid_pos == 0, "level: inner %d pos %d: %s",
		 d.inner_index, d.nspid_pos, d.message);
	TH_CHECK(d.pid == top[k], "pid %d", d.pid);
	/* Nothing is left but the member: no child, no zombie, no descriptor. */
	TH_CHECK(th_count_children() == 1, "%d children", th_count_children());
	TH_CHECK(th_count_fds() == fds, "fds %d, were %d", th_count_fds(), fds);
	kill(member, SIGKILL);
	TH_CHECK(waitpid(member, &st, 0) == member, "reap the member");
	for (int i = 0; i <= FAILING_NODES; i++)
		TH_CHECK(kill(top[i], 0) < 0 && errno == ESRCH, "PID %d still in use", (int)top[i]);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_failure_everywhere)
{
	ck_assert_int_eq(th_in_pidns_clean(failure_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* A PID taken before the restore is found by the check: nothing is created at all. */
static int taken_body(void *arg)
{
	struct pidtuple_tree *t = failing_tree();
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	struct blocker b = { 305, 0 };
	int r;

	(void)arg;
	take_pid(&b);
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == -EEXIST && d.rule == PIDTUPLE_RULE_PID_TAKEN && d.node == 5 &&
			 d.inner_index == 1,
		 "%d %s node %d inner %d: %s", r, pidtuple_rule_name(d.rule), d.node, d.inner_index,
		 d.message);
	TH_CHECK(th_count_children() == 1, "children");
	kill_all();
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_taken_before)
{
	ck_assert_int_eq(th_in_pidns_clean(taken_body, NULL), 0);
}
END_TEST

/* ---- barrier, release, kinds ------------------------------------------------------------ */

static int report_fd = -1;

static int report_pid(void *arg)
{
	pid_t self = (pid_t)syscall(SYS_getpid);

	(void)arg;
	return write(report_fd, &self, sizeof(self)) == sizeof(self) ? 7 : 1;
}

static int barrier_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	PIDTUPLE_OPTS(pidtuple_node, nd, .kind = PIDTUPLE_NODE_CALLBACK, .fn = report_pid);
	char *argv[] = { "sleep", "1000", NULL };
	PIDTUPLE_OPTS(pidtuple_node, ex, .kind = PIDTUPLE_NODE_EXEC, .path = "/bin/sleep",
		      .argv = argv, .parent = 0);
	int pipefd[2], seen = 0, r;
	struct pollfd pf;

	(void)arg;
	TH_CHECK(pipe2(pipefd, O_CLOEXEC) == 0, "pipe");
	report_fd = pipefd[1];
	pidtuple_tree_new(&t);
	add(t, -1, "400", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	for (int i = 1; i <= 5; i++) {
		char text[16];

		snprintf(text, sizeof(text), "%d", 400 + i);
		nd.parent = i == 5 ? 4 : 0;
		nd.tuple = tp(text);
		TH_CHECK(pidtuple_tree_add(t, &nd) == i, "add");
		pidtuple_free((struct pidtuple *)nd.tuple);
	}
	ex.tuple = tp("410/1");
	ex.flags = PIDTUPLE_NODE_NEWPID;
	TH_CHECK(pidtuple_tree_add(t, &ex) == 6, "add exec");
	pidtuple_free((struct pidtuple *)ex.tuple);

	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "restore: %s: %s", pidtuple_strerror(r), d.message);
	close(pipefd[1]);
	/* Held: nobody has run. */
	pf = (struct pollfd){ pipefd[0], POLLIN, 0 };
	TH_CHECK(poll(&pf, 1, 200) == 0, "a callback ran before the release");
	TH_CHECK(!comm_is(pidtuple_restore_pidfd(rs, 6), "sleep"), "exec before the release");
	TH_CHECK(pidtuple_restore_hand_over(rs, 0, "/bin/true", argv, NULL) == -EINVAL,
		 "hand-over before the release");
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(pidtuple_restore_release(rs) == -EALREADY, "second release");
	/* Every process inherited the pipe, as after fork(): count, do not wait for EOF. */
	while (seen < 5) {
		pid_t p;
		ssize_t n;

		pf = (struct pollfd){ pipefd[0], POLLIN, 0 };
		if (poll(&pf, 1, 5000) <= 0)
			break;
		n = read(pipefd[0], &p, sizeof(p));
		if (n != sizeof(p))
			break;
		TH_CHECK(p >= 401 && p <= 405, "callback pid %d", (int)p);
		seen++;
	}
	close(pipefd[0]);
	TH_CHECK(seen == 5, "%d callbacks ran", seen);
	for (int i = 1; i <= 5; i++)
		TH_CHECK(exits_within(pidtuple_restore_pidfd(rs, (unsigned int)i), 2000),
			 "callback %d did not exit", i);
	for (int tries = 0; tries < 200 && !comm_is(pidtuple_restore_pidfd(rs, 6), "sleep");
	     tries++)
		usleep(5000);
	TH_CHECK(comm_is(pidtuple_restore_pidfd(rs, 6), "sleep"), "exec node");
	TH_CHECK(!exited(pidtuple_restore_pidfd(rs, 0)), "root");
	TH_CHECK(pidtuple_restore_hand_over(rs, 6, "/bin/true", argv, NULL) == -EINVAL,
		 "hand-over of an EXEC node");
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_barrier)
{
	ck_assert_int_eq(th_in_pidns_clean(barrier_body, NULL), 0);
}
END_TEST

/* ---- descriptors ------------------------------------------------------------------------ */

static int write_pipe(void *arg)
{
	(void)arg;
	return write(report_fd, "c", 1) == 1 ? 0 : 1;
}

/* A released HOLD node (@pid as /proc shows it) has /dev/null as 0, 1 and 2 and nothing of
 * the caller's; at most the library's hand-over socket, close-on-exec, as 3. */
static bool hold_fds_clean(pid_t pid)
{
	char path[64], link[256];
	struct dirent *de;
	bool ok = true;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		if (fd <= 2 ? strcmp(link, "/dev/null") != 0
			    : fd != 3 || strncmp(link, "socket:", 7) != 0) {
			fprintf(stderr, "PID %d: fd %d is %s\n", (int)pid, fd, link);
			ok = false;
		}
	}
	closedir(d);
	return ok;
}

static int hold_fds_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	PIDTUPLE_OPTS(pidtuple_node, cb, .kind = PIDTUPLE_NODE_CALLBACK, .fn = write_pipe,
		      .parent = 1);
	char *argv[] = { "sleep", "1000", NULL };
	int pipefd[2], fds, r;
	struct pollfd pf;
	char buf[8];

	(void)arg;
	/* Not close-on-exec, like a shell's pipe: the tree's processes inherit it. */
	TH_CHECK(pipe(pipefd) == 0, "pipe");
	report_fd = pipefd[1];
	fds = th_count_fds();
	pidtuple_tree_new(&t);
	add(t, -1, "1100", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 0, "1101", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 1, "1102/1", PIDTUPLE_NODE_NEWPID, PIDTUPLE_NODE_HOLD, NULL, NULL);
	cb.tuple = tp("1103");
	TH_CHECK(pidtuple_tree_add(t, &cb) == 3, "add callback");
	pidtuple_free((struct pidtuple *)cb.tuple);
	r = pidtuple_tree_restore(t, NULL, &rs);
	TH_CHECK(r == 0, "restore: %s", pidtuple_strerror(r));
	/* The caller holds a pidfd per node, the barrier and the hand-over socket: nothing per
	 * HOLD node. */
	TH_CHECK(th_count_fds() == fds + 4 + 2, "fds %d, were %d", th_count_fds(), fds);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	for (int i = 0; i < 3; i++)
		TH_CHECK(hold_fds_clean(th_proc_pid(pidtuple_restore_pidfd(rs, (unsigned int)i))),
			 "node %d keeps descriptors", i);
	/* The CALLBACK node inherited the pipe and wrote to it; once the caller closes its end
	 * the pipe is at EOF: no HOLD node keeps it open. */
	close(pipefd[1]);
	pf = (struct pollfd){ pipefd[0], POLLIN, 0 };
	TH_CHECK(poll(&pf, 1, 5000) == 1 && read(pipefd[0], buf, sizeof(buf)) == 1 && buf[0] == 'c',
		 "the callback did not write");
	pf = (struct pollfd){ pipefd[0], POLLIN, 0 };
	TH_CHECK(poll(&pf, 1, 5000) == 1 && read(pipefd[0], buf, sizeof(buf)) == 0,
		 "no EOF: a process of the tree keeps the pipe");
	close(pipefd[0]);
	/* A handed-over program gets /dev/null as stdio and no hand-over socket. */
	TH_CHECK(pidtuple_restore_hand_over(rs, 2, "/bin/sleep", argv, NULL) == 0, "hand-over");
	{
		char path[64], link[64];
		ssize_t n;

		int nr = th_proc_pid(pidtuple_restore_pidfd(rs, 2));

		/* fd 3 may be the dynamic loader's, for a moment (ld.so.cache, libc.so.6): the
		 * program must not have a socket there. */
		snprintf(path, sizeof(path), "/proc/%d/fd/3", nr);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		TH_CHECK((n < 0 && errno == ENOENT) || strncmp(link, "socket:", 7) != 0,
			 "the program inherited the hand-over socket: %s", link);
		snprintf(path, sizeof(path), "/proc/%d/fd/1", nr);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		TH_CHECK(strcmp(link, "/dev/null") == 0, "the program's stdout is %s", link);
	}
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	TH_CHECK(th_count_fds() == fds - 2, "fds %d, were %d", th_count_fds(), fds - 2);
	return 0;
}

START_TEST(test_hold_fds)
{
	ck_assert_int_eq(th_in_pidns_clean(hold_fds_body, NULL), 0);
}
END_TEST

/* Held, a dead parent takes its subtree along; released, the tree behaves like any other. */
static int pdeathsig_body(void *arg)
{
	bool released = (intptr_t)arg;
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	int r;

	pidtuple_tree_new(&t);
	add(t, -1, "500", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 0, "501", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 1, "502", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 1, "503/1", PIDTUPLE_NODE_NEWPID, PIDTUPLE_NODE_HOLD, NULL, NULL);
	r = pidtuple_tree_restore(t, NULL, &rs);
	TH_CHECK(r == 0, "restore: %s", pidtuple_strerror(r));
	if (released)
		TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(kill(501, SIGKILL) == 0, "kill node 1");
	TH_CHECK(exits_within(pidtuple_restore_pidfd(rs, 1), 2000), "node 1 lives");
	if (released) {
		usleep(100000);
		TH_CHECK(!exited(pidtuple_restore_pidfd(rs, 2)), "node 2 died with its parent");
		TH_CHECK(!exited(pidtuple_restore_pidfd(rs, 3)), "node 3 died with its parent");
	} else {
		TH_CHECK(exits_within(pidtuple_restore_pidfd(rs, 2), 2000), "node 2 survived");
		TH_CHECK(exits_within(pidtuple_restore_pidfd(rs, 3), 2000), "node 3 survived");
	}
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_pdeathsig)
{
	ck_assert_int_eq(th_in_pidns_clean(pdeathsig_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* Freed while held: the processes cannot be released any more and go away. */
static int free_held_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	int fd, st;

	(void)arg;
	pidtuple_tree_new(&t);
	add(t, -1, "600", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 0, "601", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	TH_CHECK(pidtuple_tree_restore(t, NULL, &rs) == 0, "restore");
	fd = dup(pidtuple_restore_pidfd(rs, 1));
	pidtuple_restore_free(rs);
	TH_CHECK(exits_within(fd, 2000), "node 1 still runs");
	close(fd);
	TH_CHECK(waitpid(600, &st, 0) == 600, "the root is the caller's to reap");
	kill_all();
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_free_held)
{
	ck_assert_int_eq(th_in_pidns_clean(free_held_body, NULL), 0);
}
END_TEST

/* The root is in a group led inside its child's namespace: the init 98/1 finishes exiting only
 * once the root, a zombie only the caller can reap, gives back the group's number 43 there.
 * The kill reaps the root as it goes instead of waiting for the init first (it used to stall
 * until its 5 s deadline and leave the init behind). With @arg, killed before the release. */
static int kill_inner_group_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	int fd[3];
	double t0;

	pidtuple_tree_new(&t);
	add(t, -1, "110", 0, PIDTUPLE_NODE_HOLD, "88", NULL);
	add(t, 0, "98/1", PIDTUPLE_NODE_NEWPID, PIDTUPLE_NODE_HOLD, "110/0", NULL);
	add(t, 1, "88/43", 0, PIDTUPLE_NODE_HOLD, "88/43", NULL);
	TH_CHECK(pidtuple_tree_restore(t, NULL, &rs) == 0, "restore");
	if (!arg)
		TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(getpgid(110) == 88, "the root's group: %d", (int)getpgid(110));
	for (int i = 0; i < 3; i++)
		fd[i] = dup(pidtuple_restore_pidfd(rs, (unsigned int)i));
	t0 = now_s();
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	TH_CHECK(now_s() - t0 < 2.0, "the kill took %.1f s", now_s() - t0);
	for (int i = 0; i < 3; i++) {
		TH_CHECK(exited(fd[i]), "node %d lives", i);
		close(fd[i]);
	}
	TH_CHECK(kill(110, 0) < 0 && kill(98, 0) < 0 && kill(88, 0) < 0, "a PID is still taken");
	TH_CHECK(th_count_children() == 0, "children left");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_kill_inner_group)
{
	ck_assert_int_eq(th_in_pidns_clean(kill_inner_group_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* One dead group leader, 150/5 in the namespace of 101/1, seen by members at two depths (150
 * from the caller's namespace, 150/5 from the inner one): one helper stands in for it, created
 * with its whole tuple (it used to be taken for two leaders, 150 and 150/5, and refused). */
static int dead_leader_depths_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);

	(void)arg;
	pidtuple_tree_new(&t);
	add(t, -1, "100", 0, PIDTUPLE_NODE_HOLD, "150", NULL);
	add(t, 0, "101/1", PIDTUPLE_NODE_NEWPID, PIDTUPLE_NODE_HOLD, "0/0", NULL);
	add(t, 1, "102/2", 0, PIDTUPLE_NODE_HOLD, "150/5", NULL);
	add(t, 0, "103", 0, PIDTUPLE_NODE_HOLD, "150", NULL);
	TH_CHECK(pidtuple_tree_restore(t, &o, &rs) == 0, "restore: %s %s",
		 pidtuple_rule_name(d.rule), d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(getpgid(100) == 150 && getpgid(102) == 150 && getpgid(103) == 150,
		 "groups %d %d %d", (int)getpgid(100), (int)getpgid(102), (int)getpgid(103));
	TH_CHECK(getpgid(101) == getpgid(0), "the init's group %d", (int)getpgid(101));
	TH_CHECK(kill(150, 0) < 0 && errno == ESRCH, "the helper 150 is still there");
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_dead_leader_depths)
{
	ck_assert_int_eq(th_in_pidns_clean(dead_leader_depths_body, NULL), 0);
}
END_TEST

/* ---- shell jobs ------------------------------------------------------------------------ */

/* Forks the PID @want (in this namespace, whose init the caller is): a "shell" that founds a
 * session (@session) or a group and pauses. Returns it, or -1. */
static pid_t fork_outside_leader(pid_t want, bool session)
{
	struct pidtuple *t = NULL;
	pid_t pid = -1;

	if (pidtuple_from_outer(&want, 1, &t) < 0)
		return -1;
	for (int i = 0; i < 200 && (pid = pidtuple_fork(t, NULL, NULL)) == -EEXIST; i++)
		usleep(1000);
	pidtuple_free(t);
	if (pid == 0) {
		if (session ? setsid() < 0 : setpgid(0, 0) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	for (int i = 0; i < 1000 && pid > 0 && getpgid(pid) != pid; i++)
		usleep(1000);
	return pid > 0 && getpgid(pid) == pid ? pid : -1;
}

/* A job of a shell: the root 60 and its child 61 in group 50, led outside the tree, 62 in a
 * group of its own, 63 in group 70 whose leader is dead. Variant 0: the shell 50 lives and leads
 * the session too. 1: it is dead and the session is the caller's; helpers can bring 50 back. 2:
 * the same with the root the init of a PID namespace, which cannot see group 50 and must start
 * in it ("the root must start in the caller's session and the dead leader 50's group"). */
static struct pidtuple_tree *shell_job_tree(int variant)
{
	static const char *const v[3][6] = {
		{ "60", "61", "62", "63", "62", "70" },
		{ "60", "61", "62", "63", "62", "70" },
		{ "60/1", "61/2", "62/3", "63/4", "62/3", "70/5" },
	};
	const char *g = variant == 2 ? "50/0" : "50", *sid = variant == 0 ? "50" : NULL;
	uint64_t newpid = variant == 2 ? PIDTUPLE_NODE_NEWPID : 0;
	struct pidtuple_tree *t = NULL;

	pidtuple_tree_new(&t);
	add(t, -1, v[variant][0], newpid, PIDTUPLE_NODE_HOLD, g, sid);
	add(t, 0, v[variant][1], 0, PIDTUPLE_NODE_HOLD, g, sid);
	add(t, 0, v[variant][2], 0, PIDTUPLE_NODE_HOLD, v[variant][4], sid);
	add(t, 2, v[variant][3], 0, PIDTUPLE_NODE_HOLD, v[variant][5], sid);
	return t;
}

/* Restores @t with @flags, checks the PIDs and groups, kills it. */
static int shell_job_restore(const struct pidtuple_tree *t, uint64_t flags, pid_t group)
{
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = flags, .diag = &d);
	int r;

	TH_CHECK(pidtuple_tree_check(t, &o, &d) >= 0, "check: %s", d.message);
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "restore: %s %s", pidtuple_rule_name(d.rule), d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	for (unsigned int i = 0; i < 4; i++)
		TH_CHECK(pidtuple_restore_pid(rs, i) == (pid_t)(60 + i), "node %u: PID %d", i,
			 (int)pidtuple_restore_pid(rs, i));
	TH_CHECK(getpgid(60) == group && getpgid(61) == group && getpgid(62) == 62 &&
			 getpgid(63) == 70,
		 "groups %d %d %d %d", (int)getpgid(60), (int)getpgid(61), (int)getpgid(62),
		 (int)getpgid(63));
	for (pid_t p = 60; p <= 63; p++)
		TH_CHECK(getsid(p) == getsid(0), "%d: session %d", (int)p, (int)getsid(p));
	/* No helper is left; 50 may be the shell of variant 0, which leads its own session. */
	TH_CHECK(kill(70, 0) < 0 && (kill(50, 0) < 0 || getsid(50) == 50), "a helper is left");
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	return 0;
}

/* Refused without PIDTUPLE_FORK_SHELL_JOB, with a message that suggests it, unless helpers can
 * bring the group back; with it, the job runs in the caller's session and group, PIDs exact. */
static int shell_job_body(void *arg)
{
	int variant = (int)(intptr_t)arg;
	struct pidtuple_tree *t = shell_job_tree(variant);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	pid_t shell = variant == 0 ? fork_outside_leader(50, true) : 0;
	int r;

	TH_CHECK(variant != 0 || shell == 50, "no shell 50");
	if (variant == 1) {
		TH_CHECK(shell_job_restore(t, 0, 50) == 0, "restore with helpers");
	} else {
		r = pidtuple_tree_restore(t, &o, &rs);
		TH_CHECK(r < 0 && rs == NULL, "restored without the flag");
		TH_CHECK(strstr(d.message, "--shell-job") && strstr(d.message, "SHELL_JOB"),
			 "no hint: %s", d.message);
		TH_CHECK(d.rule == (variant ? PIDTUPLE_RULE_TREE_GROUP : PIDTUPLE_RULE_PID_TAKEN),
			 "rule %s: %s", pidtuple_rule_name(d.rule), d.message);
		/* Written by hand, the tree has no capture's marks to speak of. */
		TH_CHECK(!strstr(d.message, "capture saw"), "marks invented: %s", d.message);
	}
	TH_CHECK(th_count_children() == (variant == 0), "children after the refusal");
	TH_CHECK(shell_job_restore(t, PIDTUPLE_FORK_SHELL_JOB, getpgid(0)) == 0, "shell job");
	if (shell > 0) {
		kill(shell, SIGKILL);
		waitpid(shell, NULL, 0);
	}
	pidtuple_tree_free(t);
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_shell_job)
{
	ck_assert_int_eq(th_in_pidns_clean(shell_job_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- capture marks what is led from outside the tree ----------------------------------- */

/* A shell 0 in a session of its own; the job's root 2, its child 1's child, reparented to the
 * test (1 exited), in the shell's group and session; the root, a subreaper, has 3 in the same,
 * 4 leading a group with 5 in it, 6 leading a session with 7 in it, and 9 in the group of 8,
 * which exited. */
static const struct ostep shell_and_job[] = {
	{ 0, O_SETSID, 0 }, { 0, O_FORK, 1 },	   { 1, O_FORK, 2 },  { 1, O_EXIT, 0 },
	{ 0, O_REAP, 1 },   { 2, O_SUBREAPER, 0 }, { 2, O_FORK, 3 },  { 2, O_FORK, 4 },
	{ 4, O_FOUND, 0 },  { 4, O_FORK, 5 },	   { 2, O_FORK, 6 },  { 6, O_SETSID, 0 },
	{ 6, O_FORK, 7 },   { 2, O_FORK, 8 },	   { 8, O_FOUND, 0 }, { 8, O_FORK, 9 },
	{ 8, O_EXIT, 0 },   { 2, O_REAP, 8 },
};

#define G_OUT PIDTUPLE_NODE_GROUP_OUTSIDE
#define S_OUT PIDTUPLE_NODE_SESSION_OUTSIDE

/* The job's processes in the canonical order (breadth first, siblings by PID), its marks. */
static const struct {
	int proc;
	uint64_t flags;
} job_marks[] = {
	{ 2, G_OUT | S_OUT }, { 3, G_OUT | S_OUT }, { 4, S_OUT }, { 6, 0 },
	{ 9, G_OUT | S_OUT }, { 5, S_OUT },	    { 7, 0 },
};

/* Each node of @t is the process job_marks says, with its marks; the PIDs are @pids. */
static int check_marks(const struct pidtuple_tree *t, const pid_t *pids)
{
	TH_CHECK(pidtuple_tree_size(t) == (int)ARRAY_SIZE(job_marks), "%d nodes",
		 pidtuple_tree_size(t));
	for (unsigned int i = 0; i < ARRAY_SIZE(job_marks); i++) {
		PIDTUPLE_OPTS(pidtuple_node, nd);

		TH_CHECK(pidtuple_tree_get(t, i, &nd) == 0, "node %u", i);
		TH_CHECK(pidtuple_get(nd.tuple, 0) == pids[job_marks[i].proc], "node %u: PID %d", i,
			 (int)pidtuple_get(nd.tuple, 0));
		TH_CHECK(nd.flags == job_marks[i].flags, "node %u (%d): flags %#llx, want %#llx", i,
			 (int)pidtuple_get(nd.tuple, 0), (unsigned long long)nd.flags,
			 (unsigned long long)job_marks[i].flags);
	}
	return 0;
}

/* Kills the job's processes (not the shell) and reaps them: the test inherits them all. */
static void kill_job(const pid_t *pids)
{
	for (int round = 0; round < 1000; round++) {
		bool left = false;

		for (unsigned int i = 0; i < ARRAY_SIZE(job_marks); i++)
			kill(pids[job_marks[i].proc], SIGKILL);
		while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
			;
		for (unsigned int i = 0; i < ARRAY_SIZE(job_marks); i++)
			left |= kill(pids[job_marks[i].proc], 0) == 0;
		if (!left)
			return;
		usleep(1000);
	}
}

/* The capture of a shell's job marks every group and session led by no process of the tree;
 * without PIDTUPLE_FORK_SHELL_JOB the restore, refused for the live shell, says what capture
 * saw; with it, the job is restored and captured again with the same marks. */
static int capture_marks_body(void *arg)
{
	struct pidtuple_tree *t1 = NULL, *t2 = NULL;
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	pid_t pids[10] = { 0 }, shell;
	char want[128];
	int r;

	(void)arg;
	shell = build_orig_pids(shell_and_job, ARRAY_SIZE(shell_and_job), false, pids, 10);
	TH_CHECK(shell > 0 && pids[2] > 0, "the shell and its job could not be built");
	r = pidtuple_tree_capture(pids[2], &t1);
	TH_CHECK(r == 0, "capture: %s", pidtuple_strerror(r));
	if (check_marks(t1, pids))
		return 1;
	kill_job(pids);

	r = pidtuple_tree_restore(t1, &o, &rs);
	TH_CHECK(r == -EEXIST && !rs, "restored beside the live shell: %d", r);
	snprintf(want, sizeof(want),
		 "(capture saw the leader of the root's session and process group %d outside the "
		 "tree: a shell job?",
		 (int)shell);
	TH_CHECK(strstr(d.message, want) && strstr(d.message, "pidtuple restore --shell-job)"),
		 "message: %s", d.message);

	o.flags = PIDTUPLE_FORK_SHELL_JOB;
	r = pidtuple_tree_restore(t1, &o, &rs);
	TH_CHECK(r == 0, "restore: %s: %s", pidtuple_strerror(r), d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	r = pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &t2);
	TH_CHECK(r == 0, "capture of the restored job: %s", pidtuple_strerror(r));
	TH_CHECK(check_marks(t2, pids) == 0, "the restored job's marks");
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t1);
	pidtuple_tree_free(t2);
	kill_all();
	TH_CHECK(th_count_children() == 0, "children left: %d", th_count_children());
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_capture_marks)
{
	ck_assert_int_eq(th_in_pidns_clean(capture_marks_body, NULL), 0);
}
END_TEST

/* ---- the order of the nodes ------------------------------------------------------------ */

/* A node: parent, tuple, flags, group, session (as tuples with 0 where not visible). */
struct onode {
	int parent;
	const char *tuple;
	uint64_t flags;
	const char *pgid, *sid;
	pid_t want_pgid, want_sid; /* seen from the caller; 0: the caller's own */
};

/* Forks that must fit around a parent's moves: every order of the nodes restores alike (the
 * same trees as check_tree's "order" cases). */
static const struct onode order_trees[][5] = {
	/* The root forks 55 in the caller's group, then founds 38, then forks 29/1 and 60. */
	{ { -1, "38", 0, "38", "0", 38, 0 },
	  { 0, "29/1", PIDTUPLE_NODE_NEWPID, "38/0", "0/0", 38, 0 },
	  { 0, "55", 0, "0", "0", 0, 0 },
	  { 0, "60", 0, "38", "0", 38, 0 } },
	/* 102 brings the dead leader 150 back to fork 103/1; the root, a session leader, cannot
	 * move: its child 101 joins group 150 and forks 104/1 with CLONE_PARENT. */
	{ { -1, "100", 0, "100", "100", 100, 100 },
	  { 0, "101", 0, "150", "100", 150, 100 },
	  { 1, "102", 0, "150", "100", 150, 100 },
	  { 2, "103/1", PIDTUPLE_NODE_NEWPID, "150/0", "100/0", 150, 100 },
	  { 0, "104/1", PIDTUPLE_NODE_NEWPID, "150/0", "100/0", 150, 100 } },
};

static const int order_sizes[] = { 4, 5 };

static void swap_int(int *a, int *b)
{
	int t = *a;

	*a = *b;
	*b = t;
}

/* Next permutation of @v (lexicographic); false after the last. */
static bool next_perm(int *v, int n)
{
	int i = n - 2, j = n - 1;

	while (i >= 0 && v[i] >= v[i + 1])
		i--;
	if (i < 0)
		return false;
	while (v[j] <= v[i])
		j--;
	swap_int(&v[i], &v[j]);
	for (int a = i + 1, b = n - 1; a < b; a++, b--)
		swap_int(&v[a], &v[b]);
	return true;
}

/* Tree @k with its nodes in the order @order (order[new] = old); NULL when a parent would come
 * after its child. */
static struct pidtuple_tree *build_order(int k, const int *order)
{
	struct pidtuple_tree *t = NULL;
	int at[5];

	for (int i = 0; i < order_sizes[k]; i++)
		at[order[i]] = i;
	for (int i = 0; i < order_sizes[k]; i++) {
		const struct onode *nd = &order_trees[k][order[i]];

		if (nd->parent >= 0 && at[nd->parent] >= i) {
			pidtuple_tree_free(t);
			return NULL;
		}
		if (!t)
			pidtuple_tree_new(&t);
		add(t, nd->parent >= 0 ? at[nd->parent] : -1, nd->tuple, nd->flags,
		    PIDTUPLE_NODE_HOLD, nd->pgid, nd->sid);
	}
	return t;
}

/* Restores tree @k in one order, checks every node's group and session and captures it; the
 * capture must pass the check once the tree is gone. */
static int restore_order(int k, const int *order, struct pidtuple_tree **ret_capture)
{
	struct pidtuple_tree *t = build_order(k, order);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int r;

	if (!t)
		return 0;
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "tree %d, order %d %d %d %d %d: %s", k, order[0], order[1], order[2],
		 order[3], order[4], d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	for (int i = 0; i < order_sizes[k]; i++) {
		const struct onode *nd = &order_trees[k][order[i]];
		pid_t pid = pidtuple_restore_pid(rs, (unsigned int)i);
		pid_t pgid = nd->want_pgid ? nd->want_pgid : getpgid(0);
		pid_t sid = nd->want_sid ? nd->want_sid : getsid(0);

		TH_CHECK(getpgid(pid) == pgid && getsid(pid) == sid,
			 "tree %d, %s: group %d session %d, want %d %d", k, nd->tuple,
			 (int)getpgid(pid), (int)getsid(pid), (int)pgid, (int)sid);
	}
	r = pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), ret_capture);
	TH_CHECK(r == 0, "capture: %s", pidtuple_strerror(r));
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	r = pidtuple_tree_check(*ret_capture, NULL, &d);
	TH_CHECK(r == 0, "tree %d: the capture is refused: %s", k, d.message);
	pidtuple_tree_free(t);
	return 0;
}

static int order_body(void *arg)
{
	int k = (int)(intptr_t)arg, order[5] = { 0, 1, 2, 3, 4 }, tried = 0;
	struct pidtuple_tree *first = NULL;

	do {
		struct pidtuple_tree *c = NULL;

		if (restore_order(k, order, &c))
			return 1;
		if (!c)
			continue;
		TH_CHECK(!first || tree_diff(first, c, true) == 0, "tree %d: the captures differ",
			 k);
		if (first)
			pidtuple_tree_free(c);
		else
			first = c;
		tried++;
	} while (next_perm(order + 1, order_sizes[k] - 1));
	TH_CHECK(tried > 1, "tree %d: %d orders", k, tried);
	pidtuple_tree_free(first);
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_order)
{
	ck_assert_int_eq(th_in_pidns_clean(order_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- hand-over ------------------------------------------------------------------------- */

#define HOLDERS 24

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int hand_over_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	char *argv[] = { "sleep", "1000", NULL };
	char *bad[] = { "nope", NULL };
	char *env[] = { "PIDTUPLE_TEST=1", NULL };
	double lat[HOLDERS];
	int r;

	(void)arg;
	pidtuple_tree_new(&t);
	add(t, -1, "700", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	for (int i = 1; i <= HOLDERS; i++) {
		char text[32];

		if (i % 2)
			snprintf(text, sizeof(text), "%d", 700 + i);
		else
			snprintf(text, sizeof(text), "%d/1", 700 + i);
		TH_CHECK(add(t, 0, text, i % 2 ? 0 : PIDTUPLE_NODE_NEWPID, PIDTUPLE_NODE_HOLD, NULL,
			     NULL) == i,
			 "add");
	}
	r = pidtuple_tree_restore(t, NULL, &rs);
	TH_CHECK(r == 0, "restore: %s", pidtuple_strerror(r));
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");

	/* A program that cannot run: the node keeps holding, and can be handed over later. */
	r = pidtuple_restore_hand_over(rs, 1, "/nonexistent/program", bad, NULL);
	TH_CHECK(r == -ENOENT, "bad program: %d", r);
	TH_CHECK(!exited(pidtuple_restore_pidfd(rs, 1)), "the node died");
	TH_CHECK(pidtuple_restore_hand_over(rs, HOLDERS + 1, "/bin/sleep", argv, NULL) == -ERANGE,
		 "range");
	TH_CHECK(pidtuple_restore_hand_over(rs, 1, NULL, argv, NULL) == -EINVAL, "no path");

	for (int i = 1; i <= HOLDERS; i++) {
		int fd = pidtuple_restore_pidfd(rs, (unsigned int)i);
		struct pidtuple *got = NULL;
		PIDTUPLE_OPTS(pidtuple_node, nd);
		double t0 = now_s();

		r = pidtuple_restore_hand_over(rs, (unsigned int)i, "/bin/sleep", argv,
					       i == 3 ? env : NULL);
		lat[i - 1] = now_s() - t0;
		TH_CHECK(r == 0, "hand-over %d: %s", i, pidtuple_strerror(r));
		TH_CHECK(comm_is(fd, "sleep"), "node %d does not run the program", i);
		pidtuple_tree_get(t, (unsigned int)i, &nd);
		TH_CHECK(pidtuple_of_pidfd(fd, &got) == 0 && pidtuple_equal(got, nd.tuple) == 1,
			 "node %d changed PIDs", i);
		pidtuple_free(got);
		TH_CHECK(pidtuple_restore_hand_over(rs, (unsigned int)i, "/bin/sleep", argv,
						    NULL) == -EINVAL,
			 "second hand-over");
	}
	qsort(lat, HOLDERS, sizeof(lat[0]), cmp_double);
	fprintf(stderr,
		"hand-over latency (request to exec done, %d nodes): min %.0f us, median %.0f "
		"us, max %.0f us\n",
		HOLDERS, lat[0] * 1e6, lat[HOLDERS / 2] * 1e6, lat[HOLDERS - 1] * 1e6);
	/* A node that is gone cannot take a program. */
	TH_CHECK(kill(700, SIGKILL) == 0, "kill root");
	TH_CHECK(exits_within(pidtuple_restore_pidfd(rs, 0), 2000), "root lives");
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_hand_over)
{
	ck_assert_int_eq(th_in_pidns_clean(hand_over_body, NULL), 0);
}
END_TEST

/* A HOLD node reaps its children once released; a gone node refuses a program. */
static int hold_reaps_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	char *argv[] = { "true", NULL };
	char *sl[] = { "sleep", "1000", NULL };

	(void)arg;
	pidtuple_tree_new(&t);
	add(t, -1, "800", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 0, "801", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	add(t, 0, "802", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	TH_CHECK(pidtuple_tree_restore(t, NULL, &rs) == 0, "restore");
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(pidtuple_restore_hand_over(rs, 1, "/bin/true", argv, NULL) == 0, "hand-over");
	/* /bin/true exits; its parent, a HOLD node, reaps it: PID 801 is free again. */
	for (int i = 0; i < 400 && !(kill(801, 0) < 0 && errno == ESRCH); i++)
		usleep(5000);
	TH_CHECK(kill(801, 0) < 0 && errno == ESRCH, "801 was not reaped");
	kill(802, SIGKILL);
	TH_CHECK(exits_within(pidtuple_restore_pidfd(rs, 2), 2000), "802 lives");
	TH_CHECK(pidtuple_restore_hand_over(rs, 2, "/bin/sleep", sl, NULL) == -ESRCH, "gone");
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_hold_reaps)
{
	ck_assert_int_eq(th_in_pidns_clean(hold_reaps_body, NULL), 0);
}
END_TEST

/* ---- arguments ------------------------------------------------------------------------- */

static int args_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d, .clone_flags = CLONE_NEWPID);
	char *argv[] = { "x", NULL };

	(void)arg;
	pidtuple_tree_new(&t);
	add(t, -1, "900", 0, PIDTUPLE_NODE_HOLD, NULL, NULL);
	TH_CHECK(pidtuple_tree_restore(t, &o, &rs) == -EINVAL && d.rule == PIDTUPLE_RULE_FLAGS,
		 "clone_flags: %s", d.message);
	TH_CHECK(pidtuple_tree_restore(NULL, NULL, &rs) == -EINVAL, "NULL tree");
	TH_CHECK(pidtuple_tree_restore(t, NULL, NULL) == -EINVAL, "NULL handle");
	TH_CHECK(pidtuple_restore_pid(NULL, 0) == -EINVAL, "pid NULL");
	TH_CHECK(pidtuple_restore_pidfd(NULL, 0) == -EINVAL, "pidfd NULL");
	TH_CHECK(pidtuple_restore_release(NULL) == -EINVAL, "release NULL");
	TH_CHECK(pidtuple_restore_kill(NULL) == -EINVAL, "kill NULL");
	TH_CHECK(pidtuple_restore_hand_over(NULL, 0, "/bin/true", argv, NULL) == -EINVAL,
		 "hand-over NULL");
	pidtuple_restore_free(NULL);
	TH_CHECK(pidtuple_tree_restore(t, NULL, &rs) == 0, "restore");
	TH_CHECK(pidtuple_restore_pid(rs, 1) == -ERANGE, "pid range");
	TH_CHECK(pidtuple_restore_pidfd(rs, 1) == -ERANGE, "pidfd range");
	TH_CHECK(pidtuple_restore_pid(rs, 0) == 900, "pid");
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_args)
{
	ck_assert_int_eq(th_in_pidns_clean(args_body, NULL), 0);
}
END_TEST

static Suite *restore_suite(void)
{
	Suite *s = suite_create("restore");
	TCase *tc = tcase_create("round trip");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_round_trip, 0, (int)ARRAY_SIZE(scripts));
	tcase_add_test(tc, test_capture_twice);
	tcase_add_loop_test(tc, test_capture_sources, 0, (int)ARRAY_SIZE(scripts));
	tcase_add_test(tc, test_capture_churn);
	tcase_add_test(tc, test_capture_released);
	suite_add_tcase(s, tc);

	tc = tcase_create("scale");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_thousand);
	suite_add_tcase(s, tc);

	tc = tcase_create("failure");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_failure_everywhere, 0, FAILING_NODES + 1);
	tcase_add_test(tc, test_taken_before);
	suite_add_tcase(s, tc);

	tc = tcase_create("life");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_barrier);
	tcase_add_loop_test(tc, test_pdeathsig, 0, 2);
	tcase_add_test(tc, test_free_held);
	tcase_add_loop_test(tc, test_kill_inner_group, 0, 2);
	tcase_add_loop_test(tc, test_order, 0, (int)ARRAY_SIZE(order_trees));
	tcase_add_test(tc, test_dead_leader_depths);
	tcase_add_loop_test(tc, test_shell_job, 0, 3);
	tcase_add_test(tc, test_capture_marks);
	tcase_add_test(tc, test_hand_over);
	tcase_add_test(tc, test_hold_reaps);
	tcase_add_test(tc, test_hold_fds);
	tcase_add_test(tc, test_args);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	th_require_privilege();
	sr = srunner_create(restore_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
