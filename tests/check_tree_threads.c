/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Threads in trees: a HOLD node lists its other threads' TID tuples; the check refuses bad and
 * taken TIDs before anything is created; the restore creates them before the barrier, with
 * every TID at every level (read back from /proc/PID/task/TID/status); capture records them;
 * hand-over and kill end them. Real multithreaded programs (64 pthreads, python3 with 4
 * threads) make the round trip inside nested namespaces. Every test runs in a private PID
 * namespace of its own.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pidtuple.h>

#include "helpers.h"

TH_LSAN_EXPLICIT_ONLY

#define MAX_NODES 8
#define MAX_THREADS 8

/* A node as text: its tuple, its kind, its threads' tuples (NULL-ended). */
struct tnode {
	int parent;
	const char *tuple;
	bool newpid;
	const char *threads[MAX_THREADS];
	uint32_t kind;
};

/* Builds a tree from @n nodes; NULL on any error (reported). */
static struct pidtuple_tree *build(const struct tnode *nodes, int n)
{
	struct pidtuple_tree *t = NULL;

	if (pidtuple_tree_new(&t) < 0)
		return NULL;
	for (int i = 0; i < n; i++) {
		struct pidtuple *tup = NULL, *thr[MAX_THREADS] = { NULL };
		static char *const argv[] = { "true", NULL };
		PIDTUPLE_OPTS(pidtuple_node, nd, .parent = nodes[i].parent, .kind = nodes[i].kind,
			      .path = "/bin/true", .argv = argv);
		uint32_t k = 0;
		int r = pidtuple_parse(nodes[i].tuple, &tup, NULL);

		for (; r == 0 && k < MAX_THREADS && nodes[i].threads[k]; k++)
			r = pidtuple_parse(nodes[i].threads[k], &thr[k], NULL);
		nd.flags = nodes[i].newpid ? PIDTUPLE_NODE_NEWPID : 0;
		nd.tuple = tup;
		nd.threads = (const struct pidtuple *const *)thr;
		nd.nthreads = k;
		if (r == 0)
			r = pidtuple_tree_add(t, &nd);
		pidtuple_free(tup);
		for (uint32_t j = 0; j < k; j++)
			pidtuple_free(thr[j]);
		if (r < 0) {
			fprintf(stderr, "node %d: %s\n", i, pidtuple_strerror(r));
			pidtuple_tree_free(t);
			return NULL;
		}
	}
	return t;
}

/* Every thread of process @pid but the main one, as "tuple tuple ..." sorted; 0 or -1. */
static int threads_of(pid_t pid, char *out, size_t size)
{
	char path[64], lines[64][160];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < 64) {
		struct pidtuple *t = NULL;
		pid_t tid = atoi(de->d_name);

		if (tid <= 0 || tid == pid)
			continue;
		if (pidtuple_read(tid, PIDTUPLE_KIND_TID, NULL, &t) < 0)
			continue;
		pidtuple_format(t, lines[n++], sizeof(lines[0]));
		pidtuple_free(t);
	}
	closedir(d);
	qsort(lines, (size_t)n, sizeof(lines[0]), (int (*)(const void *, const void *))strcmp);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", lines[i]);
	return 0;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A node's threads as the description says them, in the same form. */
static void threads_want(const struct tnode *nd, char *out, size_t size)
{
	const char *v[MAX_THREADS];
	int n = 0;

	while (n < MAX_THREADS && nd->threads[n]) {
		v[n] = nd->threads[n];
		n++;
	}
	qsort(v, (size_t)n, sizeof(v[0]), cmp_strp);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", v[i]);
}

/* Two descriptions say the same: tuples, kinds, flags and threads of every node; with
 * @names, names too (a description without them restores under the caller's) and the marks
 * only a capture sets (PIDTUPLE_NODE_*_OUTSIDE). */
static int same_tree(const struct pidtuple_tree *a, const struct pidtuple_tree *b, bool names)
{
	TH_CHECK(pidtuple_tree_size(a) == pidtuple_tree_size(b), "%d vs %d nodes",
		 pidtuple_tree_size(a), pidtuple_tree_size(b));
	for (int i = 0; i < pidtuple_tree_size(a); i++) {
		PIDTUPLE_OPTS(pidtuple_node, x);
		PIDTUPLE_OPTS(pidtuple_node, y);
		char s1[160], s2[160];

		TH_CHECK(pidtuple_tree_get(a, (unsigned)i, &x) == 0 &&
				 pidtuple_tree_get(b, (unsigned)i, &y) == 0,
			 "get %d", i);
		pidtuple_format(x.tuple, s1, sizeof(s1));
		pidtuple_format(y.tuple, s2, sizeof(s2));
		TH_CHECK(!strcmp(s1, s2) && x.parent == y.parent &&
				 !((x.flags ^ y.flags) & (names ? ~0ull : PIDTUPLE_NODE_NEWPID)),
			 "node %d: %s vs %s", i, s1, s2);
		TH_CHECK(x.nthreads == y.nthreads, "node %d: %u vs %u threads", i, x.nthreads,
			 y.nthreads);
		TH_CHECK(!names || (!x.name == !y.name && (!x.name || !strcmp(x.name, y.name))),
			 "node %d: named %s vs %s", i, x.name ? x.name : "(none)",
			 y.name ? y.name : "(none)");
		for (uint32_t k = 0; k < x.nthreads; k++) {
			pidtuple_format(x.threads[k], s1, sizeof(s1));
			pidtuple_format(y.threads[k], s2, sizeof(s2));
			TH_CHECK(!strcmp(s1, s2), "node %d thread %u: %s vs %s", i, k, s1, s2);
		}
	}
	return 0;
}

/* The capture of @root by every way of finding its processes (PIDTUPLE_SCAN_SOURCE: the walk,
 * the scan from status and from the BPF iterator where it loads) is @ref. */
static int same_by_every_source(pid_t root, const struct pidtuple_tree *ref)
{
	static const char *const srcs[] = { "walk", "status", "bpf" };
	bool bpf = pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN;

	for (size_t k = 0; k < sizeof(srcs) / sizeof(srcs[0]); k++) {
		struct pidtuple_tree *t = NULL;
		int r;

		if (!bpf && !strcmp(srcs[k], "bpf"))
			continue;
		setenv("PIDTUPLE_SCAN_SOURCE", srcs[k], 1);
		r = pidtuple_tree_capture(root, &t);
		unsetenv("PIDTUPLE_SCAN_SOURCE");
		TH_CHECK(r == 0, "capture (%s): %s", srcs[k], pidtuple_strerror(r));
		r = same_tree(ref, t, true);
		pidtuple_tree_free(t);
		TH_CHECK(r == 0, "the capture (%s) differs", srcs[k]);
	}
	return 0;
}

/* ---- the round trip over three namespace levels --------------------------------------- */

/* Three levels below the test's namespace, in the canonical (capture) order. */
static const struct tnode three[] = {
	{ -1, "100/1", true, { "101/2", "102/3" }, PIDTUPLE_NODE_HOLD },
	{ 0, "103/4/1", true, { "104/5/2", "105/6/3", "106/7/4" }, PIDTUPLE_NODE_HOLD },
	{ 0, "110/10", false, { NULL }, PIDTUPLE_NODE_HOLD },
	{ 1, "107/8/5", false, { "108/9/6" }, PIDTUPLE_NODE_HOLD },
	{ 3, "111/11/7/1", true, { "112/12/8/2", "113/13/9/3" }, PIDTUPLE_NODE_HOLD },
};

static int verify_threads(const struct tnode *nodes, int n, struct pidtuple_restore *rs)
{
	for (int i = 0; i < n; i++) {
		char got[1024], want[1024];

		TH_CHECK(threads_of(pidtuple_restore_pid(rs, (unsigned)i), got, sizeof(got)) == 0,
			 "node %d: no /proc/PID/task", i);
		threads_want(&nodes[i], want, sizeof(want));
		TH_CHECK(!strcmp(got, want), "node %d threads: got '%s', want '%s'", i, got, want);
	}
	return 0;
}

static int round_trip_body(void *arg)
{
	struct pidtuple_tree *t = build(three, 5), *c1 = NULL, *c2 = NULL;
	struct pidtuple_restore *rs = NULL;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int r;

	(void)arg;
	TH_CHECK(t && th_mount_own_proc() == 0, "build, /proc");
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "restore: %s: node %d thread %d: %s", pidtuple_strerror(r), d.node,
		 d.thread, d.message);
	if (verify_threads(three, 5, rs))
		return 1;
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	if (verify_threads(three, 5, rs))
		return 1;
	TH_CHECK(pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &c1) == 0, "capture");
	TH_CHECK(same_tree(t, c1, false) == 0, "captured tree differs from the description");
	if (same_by_every_source(pidtuple_restore_pid(rs, 0), c1))
		return 1;
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	rs = NULL;
	/* The capture restored: the same threads again, and the same capture. */
	r = pidtuple_tree_restore(c1, &o, &rs);
	TH_CHECK(r == 0, "restore of the capture: %s: %s", pidtuple_strerror(r), d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &c2) == 0, "capture");
	TH_CHECK(same_tree(c1, c2, true) == 0, "second capture differs");
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	pidtuple_tree_free(c1);
	pidtuple_tree_free(c2);
	TH_CHECK(th_count_children() == 0, "children left: %d", th_count_children());
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_round_trip_three_levels)
{
	ck_assert_int_eq(th_in_pidns_clean(round_trip_body, NULL), 0);
}
END_TEST

/* ---- what the check refuses, before anything exists ----------------------------------- */

struct refusal {
	const char *what;
	struct tnode nodes[3];
	int n, err;
	uint32_t rule;
	int node, thread;
	const char *says;
};

static const struct refusal refusals[] = {
	{ "a TID taken on the machine (the test's own PID 1)",
	  { { -1, "50", false, { "51", "1" }, PIDTUPLE_NODE_HOLD } },
	  1,
	  -EEXIST,
	  PIDTUPLE_RULE_PID_TAKEN,
	  0,
	  1,
	  "node 0 thread 1 (1): TID 1" },
	{ "a TID equal to another node's PID",
	  { { -1, "50", false, { NULL }, PIDTUPLE_NODE_HOLD },
	    { 0, "52", false, { "53", "50" }, PIDTUPLE_NODE_HOLD } },
	  2,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  1,
	  1,
	  "node 0 (50) and node 1 thread 1" },
	{ "a TID equal to its own process's PID",
	  { { -1, "50", false, { "50" }, PIDTUPLE_NODE_HOLD } },
	  1,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  0,
	  0,
	  "TID 50" },
	{ "two threads with one TID, at the inner level only",
	  { { -1, "50/1", true, { "51/2", "52/2" }, PIDTUPLE_NODE_HOLD } },
	  1,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  0,
	  1,
	  "NSpid field 2 of 2" },
	{ "a thread with more levels than its process",
	  { { -1, "50", false, { "51/2" }, PIDTUPLE_NODE_HOLD } },
	  1,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_SHAPE,
	  0,
	  0,
	  "has 2 level(s), the node 1" },
	{ "threads on an EXEC node",
	  { { -1, "50", false, { "51" }, PIDTUPLE_NODE_EXEC } },
	  1,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_SHAPE,
	  0,
	  -1,
	  "EXEC node with 1 thread(s)" },
	{ "a TID at pid_max",
	  { { -1, "50/1", true, { "51/4194304" }, PIDTUPLE_NODE_HOLD } },
	  1,
	  -EINVAL,
	  PIDTUPLE_RULE_PID_RANGE,
	  0,
	  0,
	  "pid_max" },
};

static int refusal_body(void *arg)
{
	const struct refusal *f = &refusals[(intptr_t)arg];
	struct pidtuple_tree *t = build(f->nodes, f->n);
	struct pidtuple_restore *rs = NULL;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int r;

	TH_CHECK(t, "%s: build", f->what);
	r = pidtuple_tree_check(t, NULL, &d);
	TH_CHECK(r == f->err && d.rule == f->rule && d.node == f->node && d.thread == f->thread &&
			 strstr(d.message, f->says),
		 "%s: %d rule %s node %d thread %d: %s", f->what, r, pidtuple_rule_name(d.rule),
		 d.node, d.thread, d.message);
	/* The restore runs the same check first: nothing is created. */
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == f->err && !rs && d.thread == f->thread, "%s: restore %d", f->what, r);
	TH_CHECK(th_count_children() == 0, "%s: children", f->what);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_refusals)
{
	ck_assert_int_eq(th_in_pidns_clean(refusal_body, (void *)(intptr_t)_i), 0);
}
END_TEST

static int dummy_fn(void *arg)
{
	(void)arg;
	return 0;
}

/* What pidtuple_tree_add() refuses on its own, and what an older caller's struct gives. */
static int add_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple *tup = NULL, *thr = NULL;
	const struct pidtuple *none[1] = { NULL }, *one[1];
	PIDTUPLE_OPTS(pidtuple_node, nd);
	PIDTUPLE_OPTS(pidtuple_node, back);
	struct pidtuple_node old;

	(void)arg;
	TH_CHECK(pidtuple_tree_new(&t) == 0 && pidtuple_parse("50", &tup, NULL) == 0 &&
			 pidtuple_parse("51", &thr, NULL) == 0,
		 "setup");
	one[0] = thr;
	nd.parent = -1;
	nd.tuple = tup;
	nd.nthreads = 1;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "nthreads without threads");
	nd.threads = none;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a NULL thread");
	nd.threads = one;
	nd.reserved = 1;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "reserved set");
	nd.reserved = 0;
	nd.nthreads = (1u << 20) + 1;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "too many threads");
	nd.nthreads = 1;
	nd.name = "";
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "an empty name");
	nd.name = "sixteen-bytes-xx";
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a name the kernel would cut");
	nd.name = "named";
	nd.kind = PIDTUPLE_NODE_CALLBACK;
	nd.fn = dummy_fn;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a name on a CALLBACK node");
	nd.kind = PIDTUPLE_NODE_HOLD;
	nd.name = "fifteen-bytes-x";
	TH_CHECK(pidtuple_tree_add(t, &nd) == 0, "add");
	TH_CHECK(pidtuple_tree_get(t, 0, &back) == 0 && back.nthreads == 1 &&
			 back.threads[0] != thr &&
			 th_tuple_is(back.threads[0], "51", "thread") == 0,
		 "the tree keeps a copy");
	/* A 1.0 caller's struct ends at arg: it gets no threads and writes none. */
	memset(&old, 0xa5, sizeof(old));
	old.sz = offsetof(struct pidtuple_node, threads);
	TH_CHECK(pidtuple_tree_get(t, 0, &old) == 0 && old.nthreads == 0xa5a5a5a5u,
		 "an older struct is written up to its size only");
	pidtuple_free(tup);
	pidtuple_free(thr);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_add)
{
	ck_assert_int_eq(th_in_pidns_clean(add_body, NULL), 0);
}
END_TEST

/* ---- many threads, hand-over, kill ---------------------------------------------------- */

#define MANY 1000

/* /proc/PID/comm (of thread @tid when not 0) reads @want. */
static bool comm_is(pid_t pid, pid_t tid, const char *want)
{
	char path[96], buf[32] = "";
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return !strcmp(buf, want);
}

static int many_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple *tup = NULL, **thr = calloc(MANY, sizeof(*thr));
	struct pidtuple_restore *rs = NULL;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	PIDTUPLE_OPTS(pidtuple_node, nd, .parent = -1);
	char path[64];
	int r, tasks = 0;
	DIR *dir;

	(void)arg;
	TH_CHECK(th_mount_own_proc() == 0, "/proc");
	TH_CHECK(thr && pidtuple_tree_new(&t) == 0 && pidtuple_parse("3000", &tup, NULL) == 0,
		 "setup");
	for (int k = 0; k < MANY; k++) {
		pid_t tid = 3001 + k;

		TH_CHECK(pidtuple_from_inner(&tid, 1, &thr[k]) == 0, "tuple");
	}
	nd.tuple = tup;
	nd.threads = (const struct pidtuple *const *)thr;
	nd.nthreads = MANY;
	nd.name = "holder-many";
	TH_CHECK(pidtuple_tree_add(t, &nd) == 0, "add");
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "restore: %s", d.message);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pidtuple_restore_pid(rs, 0));
	dir = opendir(path);
	TH_CHECK(dir, "task dir");
	for (struct dirent *de; (de = readdir(dir));)
		tasks += de->d_name[0] != '.';
	closedir(dir);
	TH_CHECK(tasks == MANY + 1, "%d tasks", tasks);
	TH_CHECK(comm_is(pidtuple_restore_pid(rs, 0), 0, "holder-many") &&
			 comm_is(pidtuple_restore_pid(rs, 0), 3000 + MANY, "holder-many"),
		 "the process and its threads take the node's name");
	TH_CHECK(kill(3000 + MANY, 0) == 0, "the last TID is held");
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	TH_CHECK(kill(3000 + MANY, 0) < 0 && errno == ESRCH, "killed: TIDs free");
	for (int k = 0; k < MANY; k++)
		pidtuple_free(thr[k]);
	free(thr);
	pidtuple_free(tup);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_many_threads)
{
	ck_assert_int_eq(th_in_pidns_clean(many_body, NULL), 0);
}
END_TEST

/* Hand-over executes a program: execve() ends the threads, the PID stays. */
static int hand_over_body(void *arg)
{
	static const struct tnode one[] = {
		{ -1, "60", false, { "61", "62" }, PIDTUPLE_NODE_HOLD },
	};
	static char *const argv[] = { "sleep", "1000", NULL };
	struct pidtuple_tree *t = build(one, 1);
	struct pidtuple_restore *rs = NULL;
	char got[256];
	pid_t pid;

	(void)arg;
	TH_CHECK(th_mount_own_proc() == 0, "/proc");
	TH_CHECK(t && pidtuple_tree_restore(t, NULL, &rs) == 0, "restore");
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	pid = pidtuple_restore_pid(rs, 0);
	TH_CHECK(threads_of(pid, got, sizeof(got)) == 0 && !strcmp(got, "61 62"), "held: %s", got);
	TH_CHECK(pidtuple_restore_hand_over(rs, 0, "/bin/sleep", argv, NULL) == 0, "hand over");
	TH_CHECK(threads_of(pid, got, sizeof(got)) == 0 && !strcmp(got, ""), "after: '%s'", got);
	TH_CHECK(kill(61, 0) < 0 && errno == ESRCH, "thread 61 ended");
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_hand_over)
{
	ck_assert_int_eq(th_in_pidns_clean(hand_over_body, NULL), 0);
}
END_TEST

/* ---- real programs -------------------------------------------------------------------- */

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* The original: in a namespace two levels below the test, 64 pthreads. */
static int pthreads_main(void *arg)
{
	int *ready = arg;
	pthread_t th;

	for (int i = 0; i < 64; i++)
		if (pthread_create(&th, NULL, sleeper, NULL) != 0)
			_exit(2);
	if (write(*ready, "x", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

/* Forks @fn in a new PID namespace (as its init) below one more new namespace; returns the
 * outer process, whose only child is the one running @fn. */
static pid_t spawn_nested(int (*fn)(void *), void *arg, int ready_r)
{
	pid_t outer = fork();
	char c;

	if (outer == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID) < 0)
			_exit(4);
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (unshare(CLONE_NEWPID) < 0)
				_exit(4);
			if (fork() == 0)
				_exit(fn(arg));
			for (;;)
				pause();
		}
		for (;;)
			pause();
	}
	if (outer < 0 || read(ready_r, &c, 1) != 1)
		return -1;
	return outer;
}

static int count_threads(const struct pidtuple_tree *t)
{
	int n = 0;

	for (int i = 0; i < pidtuple_tree_size(t); i++) {
		PIDTUPLE_OPTS(pidtuple_node, nd);

		if (pidtuple_tree_get(t, (unsigned)i, &nd) == 0)
			n += (int)nd.nthreads;
	}
	return n;
}

static bool node_name_is(const struct pidtuple_tree *t, unsigned int i, const char *want)
{
	PIDTUPLE_OPTS(pidtuple_node, nd);

	return pidtuple_tree_get(t, i, &nd) == 0 && nd.name && !strcmp(nd.name, want);
}

/* Capture @root, kill it, restore, capture again: identical (names too), with @want
 * threads. */
static int program_round_trip(pid_t root, int want)
{
	struct pidtuple_tree *c1 = NULL, *c2 = NULL;
	struct pidtuple_restore *rs = NULL;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	int r;

	TH_CHECK(pidtuple_tree_capture(root, &c1) == 0, "capture");
	TH_CHECK(node_name_is(c1, 0, "check_tree_thre"), "the original's name was not captured");
	TH_CHECK(pidtuple_tree_size(c1) == 3 && count_threads(c1) == want, "%d nodes, %d threads",
		 pidtuple_tree_size(c1), count_threads(c1));
	if (same_by_every_source(root, c1))
		return 1;
	kill(root, SIGKILL);
	TH_CHECK(waitpid(root, NULL, 0) == root, "reap the original");
	/* Its child came to this init when it died, and dies of PR_SET_PDEATHSIG: reap it. */
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	r = pidtuple_tree_restore(c1, &o, &rs);
	TH_CHECK(r == 0, "restore: %s: node %d thread %d: %s", pidtuple_strerror(r), d.node,
		 d.thread, d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &c2) == 0, "capture again");
	TH_CHECK(same_tree(c1, c2, true) == 0, "the restored tree differs");
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill");
	pidtuple_restore_free(rs);
	pidtuple_tree_free(c1);
	pidtuple_tree_free(c2);
	return 0;
}

static int pthreads_body(void *arg)
{
	int p[2];
	pid_t root;

	(void)arg;
	TH_CHECK(pipe(p) == 0, "pipe");
	root = spawn_nested(pthreads_main, &p[1], p[0]);
	TH_CHECK(root > 0, "the original could not start");
	close(p[0]);
	close(p[1]);
	if (program_round_trip(root, 64))
		return 1;
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_pthreads_program)
{
	ck_assert_int_eq(th_in_pidns(pthreads_body, NULL), 0);
}
END_TEST

/* python3 with 4 threads: it says it is ready on fd 3. */
static int python_main(void *arg)
{
	static const char code[] = "import os, threading, time\n"
				   "ts = [threading.Thread(target=time.sleep, args=(1000,), "
				   "daemon=True) for _ in range(4)]\n"
				   "[t.start() for t in ts]\n"
				   "os.write(3, b'x')\n"
				   "time.sleep(1000)\n";
	int fd = *(int *)arg;

	if (dup2(fd, 3) < 0)
		return 5;
	execlp("python3", "python3", "-c", code, (char *)NULL);
	return 6;
}

static int python_body(void *arg)
{
	int p[2];
	pid_t root;

	(void)arg;
	if (access("/usr/bin/python3", X_OK) != 0) {
		fprintf(stderr, "no /usr/bin/python3: the python3 round trip is skipped\n");
		return 0;
	}
	TH_CHECK(pipe(p) == 0, "pipe");
	root = spawn_nested(python_main, &p[1], p[0]);
	TH_CHECK(root > 0, "python3 could not start");
	close(p[0]);
	close(p[1]);
	if (program_round_trip(root, 4))
		return 1;
	TH_CHECK(th_count_children() == 0, "children left");
	return 0;
}

START_TEST(test_python_program)
{
	ck_assert_int_eq(th_in_pidns(python_body, NULL), 0);
}
END_TEST

static Suite *tree_threads_suite(void)
{
	Suite *s = suite_create("tree_threads");
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_add);
	tcase_add_test(tc, test_round_trip_three_levels);
	tcase_add_loop_test(tc, test_refusals, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, test_many_threads);
	tcase_add_test(tc, test_hand_over);
	tcase_add_test(tc, test_pthreads_program);
	tcase_add_test(tc, test_python_program);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(tree_threads_suite());
}
