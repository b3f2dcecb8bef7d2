/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_tree: restoring a whole process tree with pidtuple_tree_restore(), against creating
 * the same shape with plain fork() and with the one-process-at-a-time ns_last_pid way.
 *
 * The tree (default 10,000 processes) spans three PID namespace levels: a third of it in the
 * benchmark's namespace under a root, a third in a namespace whose init is the root's child,
 * a third in a namespace below that one. Inside each level the processes form a tree of
 * fan-out 8 (node k's parent is (k-1)/8), so creation runs in parallel, each process created
 * by its own parent. Four ways, each with the same shape and namespaces, every process
 * forked by its own parent; each timed ("create") from the first fork until every process
 * exists, has created its children and waits at a barrier, and the runner knows it:
 *
 *   restore      pidtuple_tree_restore() of HOLD nodes: every process with its PIDs at every
 *                level (set_tid), its own pidfd in the runner, held at the library's barrier.
 *                "release" is pidtuple_restore_release(): until every process is past the
 *                barrier (and has dropped the runner's files). "kill" is
 *                pidtuple_restore_kill(): until every process has exited.
 *   shared_vm    restore with PIDTUPLE_FORK_SHARE_VM: the leaves of the held tree share their
 *                parent's address space (CLONE_VM) instead of copying it.
 *   fork         raw clone3() without set_tid (CLONE_NEWPID for the two inits): the kernel
 *                chooses every PID; the floor. Each process forks its children, writes one
 *                byte to a pipe the runner reads, and blocks reading a barrier pipe.
 *                "release" closes the barrier's write end and lasts until every process has
 *                counted itself in shared memory (the last one wakes the runner with a futex),
 *                as the library's release does.
 *   ns_last_pid  as fork, but each parent, for each child: flock() on ns_last_pid, write
 *                PID-1, fork, check the PID, write a parking value, unlock; CRIU's path before
 *                set_tid. ns_last_pid acts on the writer's own namespace, so this pins one
 *                level per process: a process's PID in its parent's namespace (its innermost
 *                PID, or for an init its PID one level out). The parking value keeps the
 *                automatic allocations of the outer levels by nested processes out of the
 *                pinned range.
 *
 * With --threads N every process also has N threads besides its main one, each with TIDs of
 * its own that collide with no PID or TID of the tree at any level (after the processes' in
 * every namespace). restore describes them as the node's threads (pidtuple_node::threads); fork
 * has each process, once its children exist, start N pthread_create() threads with default
 * attributes that block in pause(), and report only then. ns_last_pid is left out: the
 * threads' automatic TIDs would race its pinned forks unless they took its lock too.
 *
 * Every runner first builds the same tree description, so that all three fork from the same
 * address space (a fork's cost grows with the memory it copies); only restore uses it. With
 * --heap MIB it first fills that much of its heap with small blocks, as a restore tool holding
 * its images would (restore's held processes leave the heap out; the other ways copy it).
 *
 * Besides the ratios of the medians it prints each ratio per round (a round runs the ways back
 * to back, so drift between rounds falls on both sides of it): their median and range.
 *
 * Each sample runs in a freshly executed runner process, so its peak RSS (getrusage()
 * ru_maxrss) is the restoring process's own, with the tree description built. The benchmark
 * runs as PID 1 of a private PID namespace: between samples it kills everything in that
 * namespace (all of it its own) and reaps it. Samples alternate the order of the methods.
 *
 * Not a test: it asserts nothing about time. Exit 0 when every sample succeeded, 77 when it
 * cannot run here (not root, no set_tid), 1 on an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "pidtuple.h"

#define LEVELS 3
#define FANOUT 8
#define FIRST_PID 1000	 /* the tree's PIDs in the benchmark's namespace start here */
#define PARK 20000	 /* ns_last_pid value between pinned forks, in every namespace */
#define RUNNER_PID 25000 /* runners start here, away from both */
#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"
#define IDS_MAX (PARK - FIRST_PID - 1) /* the tree's PIDs and TIDs, in FIRST_PID.. */

enum method { M_RESTORE, M_SHARED, M_FORK, M_NS_LAST_PID, M_NR };
static const char *const method_name[M_NR] = { "restore", "shared_vm", "fork", "ns_last_pid" };

struct bnode {
	int parent;
	bool newpid;
	int levels;
	pid_t outer[LEVELS]; /* outermost first */
	int first_child, n_children;
};

struct shape {
	int n;
	int threads;	   /* per process, besides its main thread */
	int first[LEVELS]; /* the first node of each level */
	struct bnode *node;
	int *children;
};

static struct {
	int processes;
	int threads;
	int repeat;
	int heap_mib; /* --heap: the runner's own heap before it describes the tree */
	bool json;
	int only; /* --only METHOD: that one alone (for profiling), else -1 */
} cfg = { .processes = 10000, .repeat = 3, .only = -1 };

static long maxrss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/*
 * The tree, parents first: level 1 (this namespace) is nodes [0, n1), its root node 0; level
 * 2 is [n1, n1+n2), its init first; level 3 likewise. In each level local node k > 0 has
 * local parent (k-1)/FANOUT; the init of level l+1 is a child of level l's first node.
 */
static int make_shape(int n, int threads, struct shape *s)
{
	int count[LEVELS] = { n - 2 * (n / 3), n / 3, n / 3 }, *first = s->first, base = 0, at = 0;

	s->n = n;
	s->threads = threads;
	s->node = calloc((size_t)n, sizeof(*s->node));
	s->children = calloc((size_t)n, sizeof(*s->children));
	if (!s->node || !s->children)
		return -ENOMEM;
	for (int l = 0; l < LEVELS; l++) {
		for (int k = 0; k < count[l]; k++) {
			struct bnode *b = &s->node[base + k];

			b->levels = l + 1;
			b->newpid = l > 0 && k == 0;
			if (k > 0)
				b->parent = base + (k - 1) / FANOUT;
			else
				b->parent = l == 0 ? -1 : base - count[l - 1];
			/* Namespace m numbers the nodes of levels m and below in index order,
			 * from FIRST_PID in this one and from 1 (the init) in the others. */
			first[l] = base;
			for (int m = 0; m <= l; m++)
				b->outer[m] = (m ? 1 : FIRST_PID) + base + k - first[m];
			if (b->parent >= 0)
				s->node[b->parent].n_children++;
		}
		base += count[l];
	}
	/* Children lists (CSR), in index order. */
	for (int i = 0; i < n; i++) {
		s->node[i].first_child = at;
		at += s->node[i].n_children;
		s->node[i].n_children = 0;
	}
	for (int i = 1; i < n; i++) {
		struct bnode *p = &s->node[s->node[i].parent];

		s->children[p->first_child + p->n_children++] = i;
	}
	return 0;
}

/* Thread @j of node @i in namespace @m (0: this one): namespace m numbers its processes
 * first (make_shape()), then the threads of the same nodes in node order. */
static pid_t thread_tid(const struct shape *s, int i, int j, int m)
{
	int procs = s->n - s->first[m];

	return (m ? 1 : FIRST_PID) + procs + (i - s->first[m]) * s->threads + j;
}

/* Its TIDs at every level of its process, outermost first, as pidtuple_from_outer() takes. */
static int thread_tuple(const struct shape *s, int i, int j, struct pidtuple **ret)
{
	pid_t outer[LEVELS];

	for (int m = 0; m < s->node[i].levels; m++)
		outer[m] = thread_tid(s, i, j, m);
	return pidtuple_from_outer(outer, (size_t)s->node[i].levels, ret);
}

static pid_t raw_clone(bool newpid)
{
	struct bench_clone_args a = { .flags = newpid ? CLONE_NEWPID : 0, .exit_signal = SIGCHLD };

	return (pid_t)syscall(BENCH_CLONE3, &a, sizeof(a));
}

static int write_last_pid(int fd, pid_t v)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", (int)v);

	return pwrite(fd, buf, (size_t)len, 0) == len ? 0 : -errno;
}

/* The ns_last_pid way: the child's PID in this process's namespace, under the lock. */
static pid_t pinned_clone(const struct bnode *c, int lock_fd)
{
	pid_t want = c->newpid ? c->outer[c->levels - 2] : c->outer[c->levels - 1], pid;

	if (flock(lock_fd, LOCK_EX) < 0 || write_last_pid(lock_fd, want - 1) < 0)
		return -1;
	pid = raw_clone(c->newpid);
	if (pid == 0)
		return 0; /* the lock stays the parent's: it is released through its fd */
	write_last_pid(lock_fd, PARK);
	flock(lock_fd, LOCK_UN);
	return pid == want ? pid : -1;
}

/* What the processes of the fork baselines share with their runner. */
struct hold {
	_Atomic uint32_t left; /* processes past the barrier */
	uint32_t n;
};

static void futex_wake_all(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* The fork baseline's threads: @n plain pthreads, each blocked; they exist once created. */
static int start_threads(int n)
{
	pthread_t t;

	for (int k = 0; k < n; k++)
		if (pthread_create(&t, NULL, park, NULL) != 0)
			return -1;
	return 0;
}

/* Runs as node @i: creates its children (each goes on as its node) and its threads (after
 * the children: no fork copies a multithreaded process), reports, waits at the barrier,
 * counts itself past it, holds until killed. */
static void __attribute__((noreturn))
grow(const struct shape *s, int i, enum method m, int ready_fd, int bar_fd, struct hold *h)
{
	int lock_fd;
	char byte;

again:
	lock_fd = -1;
	if (m == M_NS_LAST_PID && s->node[i].n_children) {
		lock_fd = open(NS_LAST_PID, O_RDWR | O_CLOEXEC);
		if (lock_fd < 0)
			goto fail;
	}
	for (int k = 0; k < s->node[i].n_children; k++) {
		int c = s->children[s->node[i].first_child + k];
		pid_t pid = m == M_FORK ? raw_clone(s->node[c].newpid)
					: pinned_clone(&s->node[c], lock_fd);

		if (pid == 0) {
			if (lock_fd >= 0)
				close(lock_fd);
			i = c;
			goto again;
		}
		if (pid < 0)
			goto fail;
	}
	if (lock_fd >= 0)
		close(lock_fd);
	if (m == M_FORK && start_threads(s->threads) < 0)
		goto fail;
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	while (read(bar_fd, &byte, 1) < 0 && errno == EINTR)
		;
	if (atomic_fetch_add(&h->left, 1) + 1 == h->n)
		futex_wake_all(&h->left);
	for (;;)
		pause();
fail:
	if (write(ready_fd, "E", 1) != 1)
		_exit(1);
	_exit(1);
}

struct result {
	uint64_t create_ns, release_ns, kill_ns, describe_ns;
	long rss_before_kib, rss_kib;
	int mismatches;
};

/* The restorer keeps a descriptor per process (pidtuple_restore_pidfd()): take all the hard
 * limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Node @i as a HOLD node, with its threads; @thr has room for them. The tree copies the
 * tuples. */
static int add_node(const struct shape *s, int i, struct pidtuple **thr, struct pidtuple_tree *tree)
{
	PIDTUPLE_OPTS(pidtuple_node, node, .parent = s->node[i].parent, .kind = PIDTUPLE_NODE_HOLD);
	struct pidtuple *t = NULL;
	int r, k = 0;

	node.flags = s->node[i].newpid ? PIDTUPLE_NODE_NEWPID : 0;
	r = pidtuple_from_outer(s->node[i].outer, (size_t)s->node[i].levels, &t);
	for (; r >= 0 && k < s->threads; k++) {
		thr[k] = NULL; /* still set from the last node */
		r = thread_tuple(s, i, k, &thr[k]);
	}
	node.tuple = t;
	if (s->threads) {
		node.threads = (const struct pidtuple *const *)thr;
		node.nthreads = (uint32_t)s->threads;
	}
	if (r >= 0)
		r = pidtuple_tree_add(tree, &node);
	while (k > 0)
		pidtuple_free(thr[--k]);
	pidtuple_free(t);
	return r;
}

/* The tree as pidtuple_tree_restore() takes it: HOLD nodes. */
static struct pidtuple_tree *describe(const struct shape *s, struct result *res)
{
	struct pidtuple_tree *tree = NULL;
	struct pidtuple **thr = calloc((size_t)s->threads + 1, sizeof(*thr));
	uint64_t t0 = bench_now_ns();
	int r = thr ? pidtuple_tree_new(&tree) : -ENOMEM;

	for (int i = 0; r >= 0 && i < s->n; i++)
		r = add_node(s, i, thr, tree);
	free(thr);
	if (r < 0) {
		fprintf(stderr, "bench_tree: describing the tree: %s\n", pidtuple_strerror(r));
		pidtuple_tree_free(tree);
		return NULL;
	}
	res->describe_ns = bench_now_ns() - t0;
	res->rss_before_kib = maxrss_kib();
	return tree;
}

/* Thread @j of node @i has its TIDs and is a thread of that node's process. */
static bool thread_ok(const struct shape *s, int i, int j, const struct pidtuple *process)
{
	struct pidtuple *got = NULL, *tgid = NULL, *want = NULL;
	pid_t tid = thread_tid(s, i, j, 0);
	bool ok = pidtuple_read(tid, PIDTUPLE_KIND_TID, NULL, &got) == 0 &&
		  pidtuple_read(tid, PIDTUPLE_KIND_TGID, NULL, &tgid) == 0 &&
		  thread_tuple(s, i, j, &want) == 0 && pidtuple_equal(got, want) == 1 &&
		  pidtuple_equal(tgid, process) == 1;

	pidtuple_free(got);
	pidtuple_free(tgid);
	pidtuple_free(want);
	return ok;
}

/* Untimed: every process and thread has the ids it was described with, read from the kernel.
 * Returns how many do not. */
static int verify(const struct shape *s, struct pidtuple_restore *rs)
{
	int bad = 0;

	for (int i = 0; i < s->n; i++) {
		struct pidtuple *got = NULL, *want = NULL;
		int fd = pidtuple_restore_pidfd(rs, (unsigned int)i);

		if (fd < 0 || pidtuple_of_pidfd(fd, &got) < 0 ||
		    pidtuple_from_outer(s->node[i].outer, (size_t)s->node[i].levels, &want) < 0 ||
		    pidtuple_equal(got, want) != 1)
			bad++;
		for (int j = 0; j < s->threads; j++)
			bad += !want || !thread_ok(s, i, j, want);
		pidtuple_free(got);
		pidtuple_free(want);
	}
	return bad;
}

static int run_restore(const struct shape *s, struct pidtuple_tree *tree, uint64_t flags,
		       struct result *res)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag, .flags = flags);
	struct pidtuple_restore *rs = NULL;
	uint64_t t0, t1;
	int r;

	t0 = bench_now_ns();
	r = pidtuple_tree_restore(tree, &opts, &rs);
	t1 = bench_now_ns();
	if (r < 0) {
		fprintf(stderr, "bench_tree: pidtuple_tree_restore: %s (%s)\n",
			pidtuple_strerror(r), diag.message);
		return -1;
	}
	res->create_ns = t1 - t0;
	res->rss_kib = maxrss_kib();
	t0 = bench_now_ns();
	pidtuple_restore_release(rs);
	res->release_ns = bench_now_ns() - t0;
	res->mismatches = verify(s, rs);
	t0 = bench_now_ns();
	pidtuple_restore_kill(rs);
	res->kill_ns = bench_now_ns() - t0;
	pidtuple_restore_free(rs);
	return 0;
}

/* fork or ns_last_pid: the runner creates the root, which grows the rest. */
static int run_forks(const struct shape *s, enum method m, struct result *res)
{
	int ready[2], bar[2], lock_fd = -1, got = 0;
	struct hold *h =
		mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t t0;
	pid_t root;
	char buf[4096];

	if (h == MAP_FAILED || pipe2(ready, O_CLOEXEC) < 0 || pipe2(bar, O_CLOEXEC) < 0)
		return -1;
	h->n = (uint32_t)s->n;
	if (m == M_NS_LAST_PID && (lock_fd = open(NS_LAST_PID, O_RDWR | O_CLOEXEC)) < 0) {
		perror("bench_tree: " NS_LAST_PID);
		return -1;
	}
	t0 = bench_now_ns();
	root = m == M_FORK ? raw_clone(false) : pinned_clone(&s->node[0], lock_fd);
	if (root == 0) {
		close(ready[0]);
		close(bar[1]);
		grow(s, 0, m, ready[1], bar[0], h);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	close(ready[1]);
	close(bar[0]);
	if (root < 0) {
		fprintf(stderr, "bench_tree: %s: cannot create the root\n", method_name[m]);
		close(ready[0]);
		return -1;
	}
	while (got < s->n) {
		ssize_t n = read(ready[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || memchr(buf, 'E', (size_t)n)) {
			fprintf(stderr, "bench_tree: %s: a process could not be created%s\n",
				method_name[m], m == M_NS_LAST_PID ? " (or got another PID)" : "");
			close(ready[0]);
			return -1;
		}
		got += (int)n;
	}
	res->create_ns = bench_now_ns() - t0;
	res->rss_kib = maxrss_kib();
	close(ready[0]);
	t0 = bench_now_ns();
	close(bar[1]);
	for (uint32_t left; (left = atomic_load(&h->left)) < h->n;)
		syscall(SYS_futex, &h->left, FUTEX_WAIT, left, NULL, NULL, 0);
	res->release_ns = bench_now_ns() - t0;
	res->kill_ns = 0;
	return 0; /* the benchmark's init kills the tree */
}

/* A caller's own data, such as a restore tool's images: @mib MiB of small blocks, written. */
static int ballast(int mib)
{
	for (long i = 0; i < (long)mib * 256; i++) {
		char *b = malloc(4000);

		if (!b)
			return -1;
		memset(b, (int)i, 4000);
	}
	return 0;
}

static int runner(enum method m)
{
	struct pidtuple_tree *tree;
	struct shape s;
	struct result res = { 0 };
	int r;

	if (ballast(cfg.heap_mib) < 0 || make_shape(cfg.processes, cfg.threads, &s) < 0)
		return 1;
	tree = describe(&s, &res);
	raise_nofile();
	if (!tree)
		r = -1;
	else if (m == M_RESTORE || m == M_SHARED)
		r = run_restore(&s, tree, m == M_SHARED ? PIDTUPLE_FORK_SHARE_VM : 0, &res);
	else
		r = run_forks(&s, m, &res);
	pidtuple_tree_free(tree);
	if (r < 0) {
		puts("failed"); /* the benchmark reads up to a newline */
		return 1;
	}
	printf("%llu %llu %llu %llu %ld %ld %d\n", (unsigned long long)res.create_ns,
	       (unsigned long long)res.release_ns, (unsigned long long)res.kill_ns,
	       (unsigned long long)res.describe_ns, res.rss_before_kib, res.rss_kib,
	       res.mismatches);
	return 0;
}

/* ---- the benchmark's init ---- */

static char self_exe[PATH_MAX];

/* Kills everything else in this namespace (all of it this benchmark's) and reaps it. */
static void teardown(void)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

static int sample(enum method m, struct result *res)
{
	char procs[16], threads[16], heap[16], out[256] = "";
	char *name = (char *)method_name[m];
	char *argv[] = {
		self_exe,    "--runner", name,	   "--processes", procs,
		"--threads", threads,	 "--heap", heap,	  NULL,
	};
	int pipefd[2], st;
	unsigned long long create, release, kill_ns, describe;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	snprintf(procs, sizeof(procs), "%d", cfg.processes);
	snprintf(threads, sizeof(threads), "%d", cfg.threads);
	snprintf(heap, sizeof(heap), "%d", cfg.heap_mib);
	/* The runner and the fork baseline's PIDs start away from the pinned range. */
	if (pidtuple_set_next_pid(RUNNER_PID, NULL) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execv(self_exe, argv);
		_exit(127);
	}
	close(pipefd[1]);
	/* The tree's processes inherit the pipe too: read until the runner's line is in or
	 * the runner is gone, not until EOF. */
	while (len < sizeof(out) - 1 && !memchr(out, '\n', len)) {
		n = read(pipefd[0], out + len, sizeof(out) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pipefd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	teardown();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
	    sscanf(out, "%llu %llu %llu %llu %ld %ld %d", &create, &release, &kill_ns, &describe,
		   &res->rss_before_kib, &res->rss_kib, &res->mismatches) != 7)
		return -1;
	res->create_ns = create;
	res->release_ns = release;
	res->kill_ns = kill_ns;
	res->describe_ns = describe;
	return 0;
}

static double median_ms(uint64_t *v, int n)
{
	return bench_median_u64(v, n) / 1e6;
}

/* Every sample of every method, and what the report prints of them. */
struct samples {
	uint64_t *create[M_NR], *release[M_NR], *kill_ns, *describe;
};

/* A ratio of two methods taken in the same round, over the rounds: drift between rounds
 * (other work, the host) falls on both sides of each. */
struct paired {
	double med, lo, hi;
};

struct summary {
	double med[M_NR], rel[M_NR], kill_ms, describe_ms;
	struct paired vs[M_NR];	   /* restore against each other method */
	struct paired vs_vm[M_NR]; /* shared_vm against each other method */
	long rss[M_NR], rss_before[M_NR];
	bool have[M_NR];
	int mismatches;
};

static void print_json(const struct summary *u)
{
	printf("{\"processes\": %d, \"levels\": %d, ", cfg.processes, LEVELS);
	if (cfg.threads)
		printf("\"threads\": %d, \"ns_last_pid_skipped\": true, ", cfg.threads);
	printf("\"samples\": %d, \"restore_ms\": %.1f, "
	       "\"release_ms\": %.2f, \"kill_ms\": %.1f, \"describe_ms\": %.1f, "
	       "\"fork_ms\": %.1f, \"fork_release_ms\": %.2f, \"ns_last_pid_ms\": %.1f, "
	       "\"ns_last_pid_release_ms\": %.2f, \"restore_vs_fork\": %.3f, "
	       "\"restore_vs_ns_last_pid\": %.3f, \"restore_vs_fork_paired\": %.3f, "
	       "\"restore_vs_ns_last_pid_paired\": %.3f, \"shared_vm_ms\": %.1f, "
	       "\"shared_vm_vs_fork_paired\": %.3f, \"shared_vm_vs_ns_last_pid_paired\": %.3f, "
	       "\"heap_mib\": %d, "
	       "\"restore_maxrss_kib\": %ld, "
	       "\"restore_maxrss_before_kib\": %ld, \"fork_maxrss_kib\": %ld, "
	       "\"mismatches\": %d}\n",
	       cfg.repeat, u->med[M_RESTORE], u->rel[M_RESTORE], u->kill_ms, u->describe_ms,
	       u->med[M_FORK], u->rel[M_FORK], u->med[M_NS_LAST_PID], u->rel[M_NS_LAST_PID],
	       u->have[M_FORK] ? u->med[M_RESTORE] / u->med[M_FORK] : 0,
	       u->have[M_NS_LAST_PID] ? u->med[M_RESTORE] / u->med[M_NS_LAST_PID] : 0,
	       u->vs[M_FORK].med, u->vs[M_NS_LAST_PID].med, u->med[M_SHARED], u->vs_vm[M_FORK].med,
	       u->vs_vm[M_NS_LAST_PID].med, cfg.heap_mib, u->rss[M_RESTORE],
	       u->rss_before[M_RESTORE], u->rss[M_FORK], u->mismatches);
}

static void print_table(const struct summary *u)
{
	printf("bench_tree: %d processes", cfg.processes);
	if (cfg.threads)
		printf(" with %d threads each besides the main one,", cfg.threads);
	if (cfg.heap_mib)
		printf(" from a runner with %d MiB of heap,", cfg.heap_mib);
	printf(" over %d PID namespace levels (fan-out %d), %d samples each, median:\n", LEVELS,
	       FANOUT, cfg.repeat);
	printf("  restore      %9.1f ms  (+ release %.1f ms, kill %.1f ms; describing it "
	       "took %.1f ms)\n",
	       u->med[M_RESTORE], u->rel[M_RESTORE], u->kill_ms, u->describe_ms);
	if (u->have[M_SHARED])
		printf("  shared_vm    %9.1f ms  (+ release %.1f ms; restore with "
		       "PIDTUPLE_FORK_SHARE_VM)\n",
		       u->med[M_SHARED], u->rel[M_SHARED]);
	printf("  fork         %9.1f ms  (+ release %.1f ms; no PID chosen%s)\n", u->med[M_FORK],
	       u->rel[M_FORK], cfg.threads ? ", pthread_create() threads" : "");
	if (u->have[M_NS_LAST_PID])
		printf("  ns_last_pid  %9.1f ms  (+ release %.1f ms; one level per process "
		       "pinned)\n",
		       u->med[M_NS_LAST_PID], u->rel[M_NS_LAST_PID]);
	else if (cfg.threads)
		puts("  ns_last_pid  skipped with --threads (threads' TIDs would race its pinned "
		     "forks)");
	if (u->have[M_RESTORE] && u->have[M_FORK])
		printf("  restore / fork        %.2fx (target: at most 1.10x)\n",
		       u->med[M_RESTORE] / u->med[M_FORK]);
	if (u->have[M_RESTORE] && u->have[M_NS_LAST_PID])
		printf("  restore / ns_last_pid %.2fx (target: at most 0.35x)\n",
		       u->med[M_RESTORE] / u->med[M_NS_LAST_PID]);
	for (int m = M_FORK; m < M_NR; m++)
		if (u->have[M_RESTORE] && u->have[m] && cfg.repeat > 1)
			printf("  restore / %-11s per round: median %.2fx, %.2f-%.2fx\n",
			       method_name[m], u->vs[m].med, u->vs[m].lo, u->vs[m].hi);
	for (int m = M_FORK; m < M_NR; m++)
		if (u->have[M_SHARED] && u->have[m] && cfg.repeat > 1)
			printf("  shared_vm / %-9s per round: median %.2fx, %.2f-%.2fx "
			       "(target: at most %.2fx)\n",
			       method_name[m], u->vs_vm[m].med, u->vs_vm[m].lo, u->vs_vm[m].hi,
			       m == M_FORK ? 1.10 : 0.35);
	printf("  peak RSS of the restoring process: %ld KiB (%ld KiB with the description "
	       "built, before restoring); fork runner: %ld KiB\n",
	       u->rss[M_RESTORE], u->rss_before[M_RESTORE], u->rss[M_FORK]);
	printf("  %s read back different from the description: %d\n",
	       cfg.threads ? "PIDs and TIDs" : "PIDs", u->mismatches);
}

/* Round by round, @a against @b (before the medians sort them). */
static struct paired pair(const uint64_t *a, const uint64_t *b)
{
	double *r = calloc((size_t)cfg.repeat, sizeof(double));
	struct paired p = { 0, 0, 0 };

	if (!r)
		return p;
	for (int i = 0; i < cfg.repeat; i++)
		r[i] = b[i] ? (double)a[i] / (double)b[i] : 0;
	p.med = bench_median_double(r, cfg.repeat);
	p.lo = r[0];
	p.hi = r[cfg.repeat - 1];
	free(r);
	return p;
}

/* One sample of @m as sample number @rep. */
static int take(enum method m, int rep, struct samples *v, struct summary *u)
{
	struct result res = { 0 };

	if (sample(m, &res) < 0) {
		fprintf(stderr, "bench_tree: %s, sample %d failed\n", method_name[m], rep + 1);
		return -1;
	}
	v->create[m][rep] = res.create_ns;
	v->release[m][rep] = res.release_ns;
	if (m == M_RESTORE) {
		v->kill_ns[rep] = res.kill_ns;
		v->describe[rep] = res.describe_ns;
	}
	if (m == M_RESTORE || m == M_SHARED)
		u->mismatches += res.mismatches;
	if (res.rss_kib > u->rss[m])
		u->rss[m] = res.rss_kib;
	if (res.rss_before_kib > u->rss_before[m])
		u->rss_before[m] = res.rss_before_kib;
	return 0;
}

static int run_all(void)
{
	struct samples v = { .kill_ns = calloc((size_t)cfg.repeat, sizeof(uint64_t)),
			     .describe = calloc((size_t)cfg.repeat, sizeof(uint64_t)) };
	struct summary u = { .have = { true, true, true, !cfg.threads } };

	for (int m = 0; m < M_NR; m++)
		if (cfg.only >= 0 && m != cfg.only)
			u.have[m] = false;

	if (u.have[M_NS_LAST_PID] && !(pidtuple_features() & PIDTUPLE_FEATURE_NS_LAST_PID)) {
		fprintf(stderr, "bench_tree: ns_last_pid is not writable here: %s\n",
			pidtuple_feature_reason(PIDTUPLE_FEATURE_NS_LAST_PID));
		u.have[M_NS_LAST_PID] = false;
	}
	for (int m = 0; m < M_NR; m++) {
		v.create[m] = calloc((size_t)cfg.repeat, sizeof(uint64_t));
		v.release[m] = calloc((size_t)cfg.repeat, sizeof(uint64_t));
	}
	for (int rep = 0; rep < cfg.repeat; rep++) {
		for (int k = 0; k < M_NR; k++) {
			/* ABC, BCA, CAB, ...: drift falls on every method alike. */
			enum method m = (enum method)((k + rep) % M_NR);

			if (u.have[m] && take(m, rep, &v, &u) < 0)
				return 1;
		}
	}
	for (int m = M_FORK; m < M_NR; m++) {
		if (u.have[M_RESTORE] && u.have[m])
			u.vs[m] = pair(v.create[M_RESTORE], v.create[m]);
		if (u.have[M_SHARED] && u.have[m])
			u.vs_vm[m] = pair(v.create[M_SHARED], v.create[m]);
	}
	for (int m = 0; m < M_NR; m++) {
		u.med[m] = u.have[m] ? median_ms(v.create[m], cfg.repeat) : 0;
		u.rel[m] = u.have[m] ? median_ms(v.release[m], cfg.repeat) : 0;
		free(v.create[m]);
		free(v.release[m]);
	}
	u.kill_ms = median_ms(v.kill_ns, cfg.repeat);
	u.describe_ms = median_ms(v.describe, cfg.repeat);
	free(v.kill_ns);
	free(v.describe);
	if (cfg.json)
		print_json(&u);
	else
		print_table(&u);
	return u.mismatches ? 1 : 0;
}

/* As PID 1 of the benchmark's namespace: every way, then whatever a failure left. */
static int body(void *arg)
{
	int st;

	(void)arg;
	st = run_all();
	teardown();
	return st;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_tree [--processes N] [--threads N] [--heap MIB] [--repeat N] "
		"[--only METHOD] [--json]\n"
		"  --processes N  processes in the tree, over 3 namespace levels (default "
		"10000)\n"
		"  --threads N    threads of each process besides its main one (default 0); "
		"leaves\n"
		"                 ns_last_pid out; processes x (threads + 1) at most %d\n",
		IDS_MAX);
	fprintf(f,
		"  --heap MIB     the runner first fills MIB MiB of its heap in small blocks,\n"
		"                 as a restore tool holding its images would (default 0)\n"
		"  --repeat N     samples of each method (default 3)\n"
		"  --only METHOD  restore, shared_vm, fork or ns_last_pid alone (to profile one)\n"
		"  --json         print JSON instead of the table\n");
}

static long parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : -1;
	if (!s || errno || *end || v < min || v > max) {
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t need = PIDTUPLE_FEATURE_SET_TID | PIDTUPLE_FEATURE_CAP_SYS_ADMIN;
	int runner_method = -1;
	ssize_t n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--processes")) {
			cfg.processes = (int)parse_num(argv[++i], 3 * FANOUT, IDS_MAX);
		} else if (!strcmp(argv[i], "--threads")) {
			cfg.threads = (int)parse_num(argv[++i], 0, IDS_MAX / 2);
		} else if (!strcmp(argv[i], "--heap")) {
			cfg.heap_mib = (int)parse_num(argv[++i], 0, 4096);
		} else if (!strcmp(argv[i], "--repeat")) {
			cfg.repeat = (int)parse_num(argv[++i], 1, 1000);
		} else if (!strcmp(argv[i], "--json")) {
			cfg.json = true;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			for (int m = 0; m < M_NR; m++)
				if (!strcmp(argv[i + 1], method_name[m]))
					cfg.only = m;
			if (cfg.only < 0) {
				usage(stderr);
				return 2;
			}
			i++;
		} else if (!strcmp(argv[i], "--runner") && i + 1 < argc) {
			for (int m = 0; m < M_NR; m++)
				if (!strcmp(argv[i + 1], method_name[m]))
					runner_method = m;
			if (runner_method < 0) {
				usage(stderr);
				return 2;
			}
			i++;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	/* The tree's PIDs and TIDs in this namespace must stay below the parking value. */
	if ((long)cfg.processes * (cfg.threads + 1) > IDS_MAX) {
		usage(stderr);
		return 2;
	}
	if (runner_method >= 0)
		return runner((enum method)runner_method);

	if (geteuid() != 0 || (pidtuple_features() & need) != need) {
		fprintf(stderr, "bench_tree: skipped: needs root with CAP_SYS_ADMIN and clone3 "
				"set_tid\n");
		return BENCH_SKIP;
	}
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0) {
		perror("bench_tree: /proc/self/exe");
		return 1;
	}
	self_exe[n] = '\0';
	return bench_in_pidns("bench_tree", body, NULL);
}
