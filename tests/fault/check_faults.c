/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection through the syscall shim (a build with PIDTUPLE_FAULT_INJECTION): every
 * injectable call site of every public entry point is made to fail, one at a time, with each
 * errno below. Each run must either succeed with the exact result or return a negative errno,
 * and must leave no descriptor, child, zombie, lock or heap memory behind: counted, not assumed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"
#include "internal.h" /* linked statically: pt_features_reprobe() */

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_COUNTED 0 /* LeakSanitizer checks the heap instead: th_leak_check() */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_COUNTED 0
#else
#define HEAP_COUNTED 1
#endif
#else
#define HEAP_COUNTED 1
#endif

/* Under LeakSanitizer the heap is checked where the library ran, not at exit. */
TH_LSAN_EXPLICIT_ONLY

static const int errnos[] = { ENOMEM, EAGAIN, EINTR, EPERM, ENOSYS, EEXIST, EFAULT, EMFILE };

typedef int (*scenario_fn)(void);

/* Tuples are made before a fault is armed (parsing has a scenario of its own) and kept. */
static struct pidtuple *tuples[16];
static const char *const tuple_texts[] = {
	"321/1", "1", "600", "601/1", "602", "603", "604", "605"
};

static void make_tuples(void)
{
	for (size_t i = 0; i < sizeof(tuple_texts) / sizeof(tuple_texts[0]); i++)
		if (!tuples[i] && pidtuple_parse(tuple_texts[i], &tuples[i], NULL) < 0)
			abort();
}

static const struct pidtuple *tuple(const char *text)
{
	for (size_t i = 0; i < sizeof(tuple_texts) / sizeof(tuple_texts[0]); i++)
		if (!strcmp(tuple_texts[i], text))
			return tuples[i];
	abort();
}

static int wait_exit(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, __WALL) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Scenarios return 0 for an exact success, < 0 for the library's error, 1 for a wrong result,
 * and UNVERIFIED when the validator honestly left a level to the kernel (acceptable only when a
 * fault made it unable to look).
 */
#define UNVERIFIED 2

static int sc_parse_format(void)
{
	struct pidtuple *t = NULL, *u = NULL;
	char buf[64];
	int r = pidtuple_parse("4242/17/1", &t, NULL);

	if (r < 0)
		return r;
	r = pidtuple_dup(t, &u);
	if (r == 0) {
		r = pidtuple_format(u, buf, sizeof(buf)) == 9 && !strcmp(buf, "4242/17/1") ? 0 : 1;
		pidtuple_free(u);
	}
	pidtuple_free(t);
	return r;
}

static int sc_of_pid(void)
{
	struct pidtuple *t = NULL;
	int r = pidtuple_of_pid(getpid(), &t);

	if (r < 0)
		return r;
	r = pidtuple_levels(t) == 1 && pidtuple_get(t, 0) == 1 ? 0 : 1;
	pidtuple_free(t);
	return r;
}

static int sc_nsctx(void)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = CLONE_NEWPID);
	PIDTUPLE_OPTS(pidtuple_level_info, li);
	struct pidtuple_nsctx *ctx = NULL;
	int r = pidtuple_nsctx_new(&o, &ctx);

	if (r < 0)
		return r;
	r = pidtuple_nsctx_levels(ctx) == 2 && pidtuple_nsctx_level(ctx, 1, &li) == 0 &&
			    (li.flags & PIDTUPLE_LEVEL_CALLER)
		    ? 0
		    : 1;
	pidtuple_nsctx_free(ctx);
	return r;
}

static int sc_check(void)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = CLONE_NEWPID);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	const struct pidtuple *t = tuple("321/1"), *taken = tuple("1");
	int r = pidtuple_check(t, &o, &d);

	if (r > 0)
		r = UNVERIFIED;
	if (r == 0) {
		/* And a verdict: PID 1 of the caller's namespace is taken. */
		r = pidtuple_check(taken, NULL, &d);
		r = r == -EEXIST ? 0 : r > 0 ? UNVERIFIED : r < 0 ? r : 1;
	}
	return r;
}

static int fork_one(const char *text, uint64_t clone_flags, pid_t expect)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = clone_flags, .diag = &d);
	const struct pidtuple *t = tuple(text);
	pid_t want = pidtuple_get(t, 0), pid;
	int pidfd = -1, r;

	pid = pidtuple_fork(t, &o, &pidfd);
	if (pid == 0)
		_exit(syscall(SYS_getpid) == want ? 0 : 1);
	if (pid < 0)
		return pid;
	r = (expect == 0 || pid == expect) && pidfd >= 0 && wait_exit(pid) == 0 ? 0 : 1;
	close(pidfd);
	return r;
}

static int sc_fork(void)
{
	return fork_one("600", 0, 600);
}

static int sc_fork_newpid(void)
{
	return fork_one("601/1", CLONE_NEWPID, 601);
}

static int sc_fork_newpid_init(void)
{
	return fork_one("1", CLONE_NEWPID, 0);
}

static int sc_fork_checked(void)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_CHECK | PIDTUPLE_FORK_LOCK);
	pid_t pid = pidtuple_fork(tuple("602"), &o, NULL);

	if (pid == 0)
		_exit(syscall(SYS_getpid) == 602 ? 0 : 1);
	if (pid < 0)
		return pid;
	return pid == 602 && wait_exit(pid) == 0 ? 0 : 1;
}

static int sc_spawn(void)
{
	char *argv[] = { "/bin/sh", "-c", "exit 7", NULL };
	int pidfd = -1, r;
	pid_t pid = 0;

	r = pidtuple_spawn(tuple("603"), argv[0], argv, NULL, NULL, &pid, &pidfd);
	if (r < 0)
		return r;
	r = pid == 603 && wait_exit(pid) == 7 ? 0 : 1;
	close(pidfd);
	return r;
}

static int sc_spawn_missing(void)
{
	char *argv[] = { "/nonexistent/program", NULL };
	int r = pidtuple_spawn(tuple("604"), argv[0], argv, NULL, NULL, NULL, NULL);

	return r == -ENOENT ? 0 : r < 0 ? r : 1;
}

static int child_fn(void *arg)
{
	return syscall(SYS_getpid) == (long)(intptr_t)arg ? 5 : 1;
}

static int sc_clone(void)
{
	pid_t pid = 0;
	int r = pidtuple_clone(tuple("605"), child_fn, (void *)(intptr_t)605, NULL, &pid, NULL);

	if (r < 0)
		return r;
	return pid == 605 && wait_exit(pid) == 5 ? 0 : 1;
}

/* ---- threads: all or nothing -------------------------------------------------------- */

static char thread_stack[64 * 1024] __attribute__((aligned(16)));
static pid_t thread_word; /* pidtuple_thread_opts::tid_futex */
static unsigned int thread_runs;

/* Runs on a thread the C library does not know: plain memory only. */
static int thread_fn(void *arg)
{
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
	return 0;
}

static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

/* Creates one thread with @flags at @want (its own TID each run: a joined thread's number is
 * freed a moment after its tid_futex clears). 0 when it ran with that TID and ended, the
 * library's error when no thread was made, 1 otherwise. */
static int thread_one(pid_t want, uint64_t flags)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_thread_opts, o, .flags = flags, .tid_futex = &thread_word,
		      .diag = &d);
	struct pidtuple *t = NULL;
	pid_t tid = 0, v;
	int ran = 0, r = pidtuple_from_inner(&want, 1, &t);

	if (r == 0)
		r = pidtuple_thread_create(t, thread_fn, &ran, thread_stack, sizeof(thread_stack),
					   &o, &tid);
	pidtuple_free(t);
	if (r < 0)
		return thread_word == 0 && tid == 0 && count_tasks() == 1 ? r : 1;
	while ((v = __atomic_load_n(&thread_word, __ATOMIC_ACQUIRE)) != 0)
		syscall(SYS_futex, &thread_word, FUTEX_WAIT, v, NULL, NULL, 0);
	return tid == want && __atomic_load_n(&ran, __ATOMIC_ACQUIRE) ? 0 : 1;
}

static int sc_thread_checked(void)
{
	return thread_one(2000 + (pid_t)(thread_runs++ % 1000), PIDTUPLE_THREAD_CHECK);
}

/* A refused thread: the explanation's calls fail, the answer stays -EEXIST. */
static int sc_thread_taken(void)
{
	int r = thread_one(1, 0);

	return r == -EEXIST ? 0 : r < 0 ? r : 1;
}

static int sc_next_pid(void)
{
	int r = pidtuple_set_next_pid(7000, NULL);

	if (r < 0)
		return r;
	if (r != 7000)
		return 1;
	r = pidtuple_get_next_pid();
	return r < 0 ? r : r == 7000 ? 0 : 1;
}

static int sc_reprobe(void)
{
	/* Probing again with a fault must not poison the cache (checked by the driver). */
	uint64_t f = pt_features_reprobe();

	return (f & ~(uint64_t)PIDTUPLE_FEATURE_ALL) ? 1 : 0;
}

static int sc_features(void)
{
	uint64_t f = pidtuple_features();

	/* A fault may hide features from this one answer, never invent them. */
	return (f & ~(uint64_t)PIDTUPLE_FEATURE_ALL) ? 1 : 0;
}

/* ---- reading through the per-/proc-mount cache, scanning ---- */

/* /proc here is the outer namespace's: one level above the caller, which the cache of
 * pt_proc_levels_above() keeps. A wrong `above` gives a wrong tuple, not an error. */
static int sc_levels_above(void)
{
	PIDTUPLE_OPTS(pidtuple_read_opts, ro, .source = PIDTUPLE_SOURCE_STATUS);
	struct pidtuple *t = NULL;
	pid_t self = (pid_t)syscall(SYS_getpid);
	int r = pidtuple_of_pid(self, &t);

	if (r < 0)
		return r;
	r = pidtuple_levels(t) == 1 && pidtuple_get(t, 0) == self ? 0 : 1;
	pidtuple_free(t);
	if (r)
		return r;
	t = NULL;
	r = pidtuple_read(self, PIDTUPLE_KIND_TID, &ro, &t);
	if (r < 0)
		return r;
	r = pidtuple_levels(t) == 1 && pidtuple_get(t, 0) == self ? 0 : 1;
	pidtuple_free(t);
	return r;
}

/* Whether this build and kernel can scan through io_uring: probed once, before any fault. */
static int uring_ok = -1;

static void probe_uring(void)
{
	PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = PIDTUPLE_SCAN_URING);
	struct pidtuple_scan *s = NULL;
	int r;

	if (uring_ok >= 0)
		return;
	r = pidtuple_scan_new(&o, &s);
	pidtuple_scan_free(s);
	if (r < 0 && r != -EOPNOTSUPP)
		abort();
	uring_ok = r == 0;
	if (!uring_ok)
		fprintf(stderr, "io_uring scan not available: expecting -EOPNOTSUPP\n");
}

/* Scans that left a live process out, or lost a parent, because of a fault. */
static int missed, ppids_lost;

/*
 * Scans the namespace: its init (us) and one sleeping child, each exactly once as a process,
 * with its own one-level tuple. Threads (with PIDTUPLE_SCAN_THREADS) may only be ours: the
 * io_uring workers.
 */
static int scan_once(uint64_t flags, pid_t child)
{
	PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = flags);
	PIDTUPLE_OPTS(pidtuple_scan_entry, e);
	struct pidtuple_scan *s = NULL;
	int r, seen_init = 0, seen_child = 0, wrong = 0, ppid_lost = 0;

	r = pidtuple_scan_new(&o, &s);
	if ((flags & PIDTUPLE_SCAN_URING) && !uring_ok)
		return r == -EOPNOTSUPP ? 0 : r < 0 ? r : (pidtuple_scan_free(s), 1);
	if (r < 0)
		return r;
	while ((r = pidtuple_scan_next(s, &e)) > 0) {
		bool thread = e.tid != e.pid;

		if (!e.tuple || pidtuple_levels(e.tuple) != 1 ||
		    pidtuple_get(e.tuple, 0) != e.tid ||
		    !!(e.flags & PIDTUPLE_ENTRY_THREAD) != thread ||
		    (thread && (!(flags & PIDTUPLE_SCAN_THREADS) || e.pid != 1)))
			wrong++;
		else if (!thread && e.pid == 1 && e.ppid == 0)
			seen_init++;
		else if (!thread && e.pid == child && e.ppid == 1)
			seen_child++;
		else if (!thread && e.pid == child && e.ppid == 0)
			seen_child++, ppid_lost++, ppids_lost++;
		else if (!thread)
			wrong++;
	}

	pidtuple_scan_free(s);
	if (r < 0)
		return r;
	if (wrong || seen_init > 1 || seen_child > 1)
		return 1;
	/* A live process left out, or its parent reported as outside the namespace, is wrong;
	 * the library does both when a read fails (any error but ENOMEM, EMFILE, ENFILE counts
	 * as "the process went away"). Tolerated when a fault fired (UNVERIFIED without one
	 * fails) and counted, so that it shows. */
	if (!seen_init || !seen_child)
		missed++;
	return seen_init && seen_child && !ppid_lost ? 0 : UNVERIFIED;
}

static int scan_with_child(uint64_t flags)
{
	pid_t child = fork();
	int r;

	if (child < 0)
		return 1;
	if (child == 0) {
		for (;;)
			pause();
	}
	r = scan_once(flags, child);
	kill(child, SIGKILL);
	if (wait_exit(child) != 128 + SIGKILL)
		r = 1;
	return r;
}

static int sc_scan(void)
{
	return scan_with_child(0);
}

static int sc_scan_threads(void)
{
	return scan_with_child(PIDTUPLE_SCAN_THREADS);
}

static int sc_scan_uring(void)
{
	return scan_with_child(PIDTUPLE_SCAN_URING);
}

static int sc_scan_uring_threads(void)
{
	return scan_with_child(PIDTUPLE_SCAN_URING | PIDTUPLE_SCAN_THREADS);
}

/* The BPF iterator insisted on: a fault in its fd, buffer or reads is an error, not a
 * fallback (where it cannot load, the load's errno every time: checked the same way). */
static int sc_scan_bpf(void)
{
	int r;

	setenv("PIDTUPLE_SCAN_SOURCE", "bpf", 1);
	r = scan_with_child(0);
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	if (r < 0 && pidtuple_feature_error(PIDTUPLE_FEATURE_BPF_SCAN) == r)
		return 0;
	return r;
}

/* ---- the driver ---- */

/* Does this process hold a lock on ns_last_pid? /proc/locks, in /proc's numbering. */
static bool lock_held_by_us(void)
{
	char line[256], self[64];
	pid_t nspid[PIDTUPLE_MAX_LEVELS + 1];
	struct stat st;
	FILE *f;
	bool held = false;
	int n;

	if (stat("/proc/sys/kernel/ns_last_pid", &st) < 0)
		return false;
	f = fopen("/proc/self/status", "re");
	n = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "NSpid: %d", &nspid[0]) == 1)
			n = 1;
	if (f)
		fclose(f);
	if (!n)
		return false;
	snprintf(self, sizeof(self), "%d", (int)nspid[0]);
	f = fopen("/proc/locks", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char type[16], pid[32];
		unsigned long ino;

		if (sscanf(line, "%*d: %15s %*s %*s %31s %*x:%*x:%lu", type, pid, &ino) == 3 &&
		    !strcmp(type, "FLOCK") && !strcmp(pid, self) && ino == st.st_ino)
			held = true;
	}
	if (f)
		fclose(f);
	return held;
}

struct run {
	const char *name;
	scenario_fn fn;
};

static int run_all_faults(void *arg)
{
	const struct run *run = arg;
	int fds, failures = 0, fired_runs = 0;
	uint64_t features;

	/* PIDTUPLE_FAULT_ONLY=text runs only the scenarios whose name contains it. */
	if (getenv("PIDTUPLE_FAULT_ONLY") && !strstr(run->name, getenv("PIDTUPLE_FAULT_ONLY")))
		return 0;
	make_tuples();
	probe_uring();
	/* One clean run first: the C library allocates some things once, on first use; so
	 * does the first walk of /proc, which a failed fork's explanation may make. */
	if (run->fn() != 0)
		return 3;
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, deep, .flags = PIDTUPLE_FORK_CHECK_SCAN);

		(void)pidtuple_check(tuple("600"), &deep, NULL);
	}
	(void)lock_held_by_us();
	(void)th_count_children();
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
	fds = th_count_fds();
	features = pidtuple_features();

	for (size_t e = 0; e < sizeof(errnos) / sizeof(errnos[0]); e++) {
		for (unsigned long nth = 1; nth < 400; nth++) {
			size_t heap = HEAP_COUNTED ? mallinfo2().uordblks : 0;
			bool fired;
			int r;

			pidtuple__fault_arm(nth, errnos[e]);
			r = run->fn();
			fired = pidtuple__fault_fired();
			pidtuple__fault_arm(0, 0);
			if (fired)
				fired_runs++;
#define FAIL(...)                                                               \
	do {                                                                    \
		fprintf(stderr, "%s, call %lu fails with %s: ", run->name, nth, \
			strerrorname_np(errnos[e]));                            \
		fprintf(stderr, __VA_ARGS__);                                   \
		fputc('\n', stderr);                                            \
		failures++;                                                     \
	} while (0)
			if (r == 1 || (r == UNVERIFIED && !fired))
				FAIL("wrong result (%d)", r);
			if (r < 0 && !fired)
				FAIL("failed without a fault: %s", strerror(-r));
			if (th_count_fds() != fds)
				FAIL("fds %d -> %d", fds, th_count_fds());
			if (th_count_children() != 0)
				FAIL("%d child(ren) or zombie(s) left", th_count_children());
			/* ENOSYS and EPERM from a probe are what a seccomp filter says: they are
			 * remembered by design. Anything else must not stick. */
			if (pidtuple_features() != features &&
			    (errnos[e] == ENOSYS || errnos[e] == EPERM))
				pt_features_reprobe();
			if (pidtuple_features() != features)
				FAIL("features now 0x%llx, were 0x%llx",
				     (unsigned long long)pidtuple_features(),
				     (unsigned long long)features);
			if (lock_held_by_us())
				FAIL("the ns_last_pid lock is still held");
			/* Exact: glibc's cache of freed blocks is off (heap_count_exact()). */
			if (HEAP_COUNTED && mallinfo2().uordblks != heap)
				FAIL("heap %zu -> %zu bytes", heap, (size_t)mallinfo2().uordblks);
			while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
				;
			if (!fired)
				break; /* every call site of this scenario has been failed */
		}
	}
	if (th_leak_check()) {
		fprintf(stderr, "%s: memory leaked\n", run->name);
		failures++;
	}
	fprintf(stderr, "%s: %d faulted runs, %d failure(s)\n", run->name, fired_runs, failures);
	if (missed || ppids_lost)
		fprintf(stderr,
			"note: %s: %d scan(s) left a live process out, %d lost its parent\n",
			run->name, missed, ppids_lost);
	return failures ? 1 : fired_runs > 0 ? 0 : 2;
}

/* ---- trees ---------------------------------------------------------------------------- */

/* A node from text; NULL group or session means the parent's; up to two threads' TIDs. */
static int tree_add_thr(struct pidtuple_tree *t, int parent, const char *text, uint64_t flags,
			const char *pgid, const char *sid, const char *t0, const char *t1)
{
	struct pidtuple *tup = NULL, *g = NULL, *s = NULL, *thr[2] = { NULL, NULL };
	int r = pidtuple_parse(text, &tup, NULL);

	if (r == 0 && pgid)
		r = pidtuple_parse(pgid, &g, NULL);
	if (r == 0 && sid)
		r = pidtuple_parse(sid, &s, NULL);
	if (r == 0 && t0)
		r = pidtuple_parse(t0, &thr[0], NULL);
	if (r == 0 && t1)
		r = pidtuple_parse(t1, &thr[1], NULL);
	if (r == 0) {
		PIDTUPLE_OPTS(pidtuple_node, nd, .parent = parent, .tuple = tup, .pgid = g,
			      .sid = s, .flags = flags, .kind = PIDTUPLE_NODE_HOLD,
			      .threads = (const struct pidtuple *const *)thr,
			      .nthreads = (uint32_t)(!!t0 + !!t1));

		r = pidtuple_tree_add(t, &nd);
	}
	pidtuple_free(tup);
	pidtuple_free(g);
	pidtuple_free(s);
	pidtuple_free(thr[0]);
	pidtuple_free(thr[1]);
	return r;
}

static int tree_add(struct pidtuple_tree *t, int parent, const char *text, uint64_t flags,
		    const char *pgid, const char *sid)
{
	return tree_add_thr(t, parent, text, flags, pgid, sid, NULL, NULL);
}

/*
 * Root 700 leads a session; 701 leads a group 702 joins; 703 starts a namespace where 704
 * lives; 705's group leader 750 is dead, so the restorer makes a temporary leader. 702 and
 * 704 hold threads.
 */
static int fault_tree(struct pidtuple_tree **ret)
{
	struct pidtuple_tree *t = NULL;
	int r = pidtuple_tree_new(&t);

	if (r < 0)
		return r;
	if ((r = tree_add(t, -1, "700", 0, "700", "700")) < 0 ||
	    (r = tree_add(t, 0, "701", 0, "701", "700")) < 0 ||
	    (r = tree_add_thr(t, 1, "702", 0, "701", "700", "706", "707")) < 0 ||
	    (r = tree_add(t, 0, "703/1", PIDTUPLE_NODE_NEWPID, "703/1", NULL)) < 0 ||
	    (r = tree_add_thr(t, 3, "704/2", 0, "703/1", NULL, "708/3", NULL)) < 0 ||
	    (r = tree_add(t, 0, "705", 0, "750", "700")) < 0) {
		pidtuple_tree_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

/* A failed tree call names its rule and says why, or it is a wrong result (said why here). */
static int tree_err(int r, const struct pidtuple_diag *d)
{
	if (r >= 0 || (d->rule != PIDTUPLE_RULE_NONE && d->message[0]))
		return r;
	fprintf(stderr, "  %s, rule %s, message \"%s\"\n", strerror(-r),
		pidtuple_rule_name(d->rule), d->message);
	return 1;
}

static int sc_tree_check(void)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_tree *t = NULL;
	int r = fault_tree(&t);

	if (r < 0)
		return r;
	r = pidtuple_tree_check(t, NULL, &d);
	pidtuple_tree_free(t);
	if (getenv("PIDTUPLE_FAULT_VERBOSE") && r)
		fprintf(stderr, "tree check: %d: %s\n", r, d.message);
	return r > 0 ? UNVERIFIED : tree_err(r, &d);
}

/* Restore, release, read a node back, kill: all or nothing at every failed call. */
/* PIDTUPLE_FORK_JOIN_NS into the caller's own namespace (allowed, and every step of the join
 * runs): the fd is opened in the clean run and kept. 1 when pid_for_children moved. */
static int own_ns_fd = -1;

static int join_fd(void)
{
	if (own_ns_fd < 0)
		own_ns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	return own_ns_fd;
}

static int children_at_home(void)
{
	struct stat a, b;

	return stat("/proc/self/ns/pid", &a) == 0 &&
	       stat("/proc/self/ns/pid_for_children", &b) == 0 && a.st_ino == b.st_ino;
}

/* The fault tree restored with @flags (and @ns_fd), checked, released and killed. A join
 * must leave pid_for_children where it was, whatever failed. */
static int tree_restore_with(uint64_t flags, int ns_fd)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d, .flags = flags, .ns_fd = ns_fd);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_tree *t = NULL;
	int r = fault_tree(&t);

	if (r < 0)
		return r;
	r = tree_err(pidtuple_tree_restore(t, &o, &rs), &d);
	if (getenv("PIDTUPLE_FAULT_VERBOSE") && r)
		fprintf(stderr, "tree restore: %d: %s\n", r, d.message);
	if ((flags & PIDTUPLE_FORK_JOIN_NS) && !children_at_home())
		r = 1;
	if (rs) {
		if (r == 0)
			r = pidtuple_restore_pid(rs, 4) == 704 && pidtuple_restore_pidfd(rs, 4) >= 0
				    ? 0
				    : 1;
		if (r == 0)
			r = pidtuple_restore_release(rs);
		pidtuple_restore_kill(rs);
		pidtuple_restore_free(rs);
	}
	pidtuple_tree_free(t);
	return r;
}

static int sc_tree_restore(void)
{
	return tree_restore_with(0, -1);
}

static int sc_tree_restore_shared(void)
{
	return tree_restore_with(PIDTUPLE_FORK_SHARE_VM, -1);
}

static int sc_tree_restore_join(void)
{
	return tree_restore_with(PIDTUPLE_FORK_JOIN_NS, join_fd());
}

static int sc_fork_join(void)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = PIDTUPLE_FORK_JOIN_NS | PIDTUPLE_FORK_CHECK,
		      .ns_fd = join_fd());
	pid_t pid = pidtuple_fork(tuple("603"), &o, NULL);

	if (pid == 0)
		_exit(syscall(SYS_getpid) == 603 ? 0 : 1);
	if (!children_at_home())
		return 1;
	if (pid < 0)
		return pid;
	return pid == 603 && wait_exit(pid) == 0 ? 0 : 1;
}

static void *capture_sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* The threads of node @i of @t, or -1. */
static int node_threads(const struct pidtuple_tree *t, unsigned int i)
{
	PIDTUPLE_OPTS(pidtuple_node, nd);

	return pidtuple_tree_get(t, i, &nd) == 0 ? (int)nd.nthreads : -1;
}

/* Capture of a live tree of three: the root, its child and grandchild with a thread. */
static int sc_tree_capture(void)
{
	struct pidtuple_tree *t = NULL;
	int p[2], r;
	pid_t root;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	root = fork();
	if (root == 0) {
		/* Each dies with its parent, so killing the root ends all three. */
		if (fork() == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (fork() == 0) {
				pthread_t th;

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (pthread_create(&th, NULL, capture_sleeper, NULL) == 0)
					(void)!write(p[1], "x", 1);
			}
		}
		for (;;)
			pause();
	}
	close(p[1]);
	r = root > 0 && read(p[0], &c, 1) == 1 ? 0 : 1;
	close(p[0]);
	if (r == 0) {
		r = pidtuple_tree_capture(root, &t);
		if (r == 0)
			r = pidtuple_tree_size(t) == 3 && node_threads(t, 2) == 1 ? 0 : 1;
		pidtuple_tree_free(t);
	}
	if (root > 0) {
		kill(root, SIGKILL);
		wait_exit(root);
	}
	/* The other two die with it and become the namespace init's, this process's, to reap. */
	for (int i = 0; i < 1000 && th_count_children() > 0; i++) {
		th_reap_exited();
		usleep(1000);
	}
	return r;
}

static const struct run runs[] = {
	{ "parse/dup/format", sc_parse_format },
	{ "of_pid", sc_of_pid },
	{ "nsctx", sc_nsctx },
	{ "check", sc_check },
	{ "fork", sc_fork },
	{ "fork CLONE_NEWPID", sc_fork_newpid },
	{ "fork CHECK|LOCK", sc_fork_checked },
	{ "spawn", sc_spawn },
	{ "spawn missing program", sc_spawn_missing },
	{ "clone", sc_clone },
	{ "thread CHECK", sc_thread_checked },
	{ "thread taken", sc_thread_taken },
	{ "set/get_next_pid", sc_next_pid },
	{ "features", sc_features },
	{ "feature probes", sc_reprobe },
	{ "levels above (statx, cache)", sc_levels_above },
	{ "scan", sc_scan },
	{ "scan THREADS", sc_scan_threads },
	{ "scan URING", sc_scan_uring },
	{ "scan URING|THREADS", sc_scan_uring_threads },
	{ "scan BPF", sc_scan_bpf },
	{ "tree check", sc_tree_check },
	{ "tree restore", sc_tree_restore },
	{ "fork JOIN_NS", sc_fork_join },
	{ "tree restore JOIN_NS", sc_tree_restore_join },
	{ "tree restore SHARE_VM", sc_tree_restore_shared },
	{ "tree capture", sc_tree_capture },
};

START_TEST(test_faults)
{
	ck_assert_int_eq(th_in_pidns(run_all_faults, (void *)&runs[_i]), 0);
}
END_TEST

/* The same scenarios through the ns_last_pid fallback: clone3 hidden by a filter. */
static int run_fallback_faults(void *arg)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) ||
	    seccomp_load(ctx))
		return 3;
	seccomp_release(ctx);
	return run_all_faults(arg);
}

/* The io_uring scan where io_uring is refused (a filter, as a sysctl or a build without
 * liburing would): -EOPNOTSUPP, checked by the scenarios once the probe has seen it. */
static int run_nouring_faults(void *arg)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(io_uring_setup), 0) ||
	    seccomp_load(ctx))
		return 3;
	seccomp_release(ctx);
	return run_all_faults(arg);
}

/* The scan where bpf() is refused: status, silently, under every fault. */
static int run_nobpf_faults(void *arg)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(bpf), 0) ||
	    seccomp_load(ctx))
		return 3;
	seccomp_release(ctx);
	return run_all_faults(arg);
}

static const struct run nobpf_runs[] = {
	{ "no bpf(): scan", sc_scan },
};

START_TEST(test_nobpf_faults)
{
	ck_assert_int_eq(th_in_pidns(run_nobpf_faults, (void *)&nobpf_runs[_i]), 0);
}
END_TEST

static const struct run nouring_runs[] = {
	{ "no io_uring: scan URING", sc_scan_uring },
	{ "no io_uring: scan URING|THREADS", sc_scan_uring_threads },
};

START_TEST(test_nouring_faults)
{
	ck_assert_int_eq(th_in_pidns(run_nouring_faults, (void *)&nouring_runs[_i]), 0);
}
END_TEST

static const struct run fallback_runs[] = {
	{ "fallback fork", sc_fork },
	{ "fallback fork CLONE_NEWPID init", sc_fork_newpid_init },
	{ "fallback spawn", sc_spawn },
	{ "fallback clone", sc_clone },
};

START_TEST(test_fallback_faults)
{
	ck_assert_int_eq(th_in_pidns(run_fallback_faults, (void *)&fallback_runs[_i]), 0);
}
END_TEST

/*
 * The cache page of pt_proc_levels_above() is mapped once per process, on its first use, so
 * the driver above (a clean run first) never fails that mapping. Here every run is a fresh
 * child of a parent that never read: the mapping is among the calls failed.
 */

/* How many injectable calls a warm sc_levels_above() makes: more when the cache is off. Each
 * probe fails one call, which stores nothing; a clean call after it warms the cache again. */
static int count_calls(void)
{
	for (unsigned long n = 1; n < 64; n++) {
		bool fired;

		pidtuple__fault_arm(n, EIO);
		(void)sc_levels_above();
		fired = pidtuple__fault_fired();
		pidtuple__fault_arm(0, 0);
		if (!fired)
			return (int)n - 1;
		if (sc_levels_above() != 0)
			return -1;
	}
	return -1;
}

enum {
	FRESH_WRONG = 1 << 0,
	FRESH_FDS = 1 << 1,
	FRESH_HEAP = 1 << 2,
	FRESH_AFTER = 1 << 3, /* the next, clean call failed or was wrong */
	FRESH_STUCK = 1 << 4, /* the cache stays off for the process's lifetime */
	FRESH_FIRED = 1 << 5,
};

static int fresh_child(unsigned long nth, int err, int warm_calls)
{
	int fds = th_count_fds(), code = 0, r;
	size_t heap = HEAP_COUNTED ? mallinfo2().uordblks : 0;
	bool fired;

	pidtuple__fault_arm(nth, err);
	r = sc_levels_above();
	fired = pidtuple__fault_fired();
	pidtuple__fault_arm(0, 0);
	if (r == 1 || r == UNVERIFIED || (r < 0 && !fired))
		code |= FRESH_WRONG;
	if (th_count_fds() != fds)
		code |= FRESH_FDS;
	if (HEAP_COUNTED && mallinfo2().uordblks != heap)
		code |= FRESH_HEAP;
	if (sc_levels_above() != 0 || sc_levels_above() != 0)
		code |= FRESH_AFTER;
	if (warm_calls >= 0 && count_calls() != warm_calls)
		code |= FRESH_STUCK;
	return code | (fired ? FRESH_FIRED : 0);
}

static int run_fresh_faults(void *arg)
{
	int failures = 0, fired_runs = 0, stuck = 0, warm_calls;
	pid_t pid;

	(void)arg;
	/* The reference: a child that read once, cleanly, then counts. */
	pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0)
		_exit(sc_levels_above() == 0 ? 100 + count_calls() : 0);
	warm_calls = wait_exit(pid) - 100;
	if (warm_calls < 0)
		return 3;
	for (size_t e = 0; e < sizeof(errnos) / sizeof(errnos[0]); e++) {
		for (unsigned long nth = 1; nth < 64; nth++) {
			int code;

			pid = fork();
			if (pid < 0)
				return 3;
			if (pid == 0)
				_exit(fresh_child(nth, errnos[e], warm_calls));
			code = wait_exit(pid);
			if (code < 0 || code > 63) {
				fprintf(stderr, "fresh child, call %lu fails with %s: died (%d)\n",
					nth, strerrorname_np(errnos[e]), code);
				failures++;
				break;
			}
			if (code & FRESH_FIRED)
				fired_runs++;
			if (code & (FRESH_WRONG | FRESH_FDS | FRESH_HEAP | FRESH_AFTER)) {
				fprintf(stderr, "fresh child, call %lu fails with %s:%s%s%s%s\n",
					nth, strerrorname_np(errnos[e]),
					code & FRESH_WRONG ? " wrong result or error without fault"
							   : "",
					code & FRESH_FDS ? " fd leak" : "",
					code & FRESH_HEAP ? " heap leak" : "",
					code & FRESH_AFTER ? " next clean call failed" : "");
				failures++;
			}
			if (code & FRESH_STUCK) {
				stuck++;
				fprintf(stderr,
					"note: call %lu failing with %s leaves the /proc levels "
					"cache off "
					"for good\n",
					nth, strerrorname_np(errnos[e]));
			}
			if (th_count_children() != 0) {
				fprintf(stderr, "%d child(ren) left\n", th_count_children());
				failures++;
			}
			if (!(code & FRESH_FIRED))
				break;
		}
	}
	fprintf(stderr,
		"fresh levels above: %d faulted runs, %d failure(s), %d leave the cache off\n",
		fired_runs, failures, stuck);
	return failures ? 1 : fired_runs > 0 ? 0 : 2;
}

START_TEST(test_fresh_faults)
{
	ck_assert_int_eq(th_in_pidns(run_fresh_faults, NULL), 0);
}
END_TEST

/*
 * The heap is counted with mallinfo2(), which counts the blocks glibc keeps in its per-thread
 * cache (tcache: freed blocks of up to 1032 bytes, up to 7 of each size) as allocated, so a
 * block freed into that cache looks leaked. A faulted run that frees a block of a size the
 * cache did not hold yet grows the count by that block, once per process, with nothing leaked:
 * e.g. a scan that failed to find the outer /proc's namespace looks up the namespace of every
 * process of the host, and its array of namespaces (16 in the clean run) grows to 32, 768
 * bytes, when the host has more than 16 namespaces. So the suite runs with that cache off, a
 * tunable read at start-up: set here, then this program runs itself again. mallinfo2() then
 * counts exactly the blocks that are allocated (checked here), and any growth is a leak.
 */
static void heap_count_exact(char **argv)
{
	static const char tunable[] = "glibc.malloc.tcache_count=0";
	const char *old = getenv("GLIBC_TUNABLES");
	void *volatile p;
	size_t used;
	char *val;

	if (!HEAP_COUNTED)
		return;
	if (!old || !strstr(old, tunable)) {
		if (asprintf(&val, "%s%s%s", old ? old : "", old && *old ? ":" : "", tunable) < 0 ||
		    setenv("GLIBC_TUNABLES", val, 1) < 0)
			abort();
		free(val);
		fflush(NULL);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "cannot run again with GLIBC_TUNABLES=%s: %s\n", tunable,
			strerror(errno));
		exit(EXIT_FAILURE);
	}
	/* A block freed must count as free. */
	p = malloc(1000);
	if (!p)
		abort();
	used = mallinfo2().uordblks;
	free(p);
	if (mallinfo2().uordblks >= used) {
		fprintf(stderr, "the heap count still includes freed blocks (%s ignored?)\n",
			tunable);
		exit(EXIT_FAILURE);
	}
}

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int failed;

	(void)argc;
	heap_count_exact(argv);
	th_require_privilege();
	s = suite_create("faults");
	tc = tcase_create("faults");
	tcase_set_timeout(tc, 300); /* the io_uring scans, under ASan, on a loaded machine */
	tcase_add_loop_test(tc, test_faults, 0, (int)(sizeof(runs) / sizeof(runs[0])));
	tcase_add_loop_test(tc, test_fallback_faults, 0,
			    (int)(sizeof(fallback_runs) / sizeof(fallback_runs[0])));
	tcase_add_loop_test(tc, test_nouring_faults, 0,
			    (int)(sizeof(nouring_runs) / sizeof(nouring_runs[0])));
	tcase_add_loop_test(tc, test_nobpf_faults, 0,
			    (int)(sizeof(nobpf_runs) / sizeof(nobpf_runs[0])));
	tcase_add_test(tc, test_fresh_faults);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
