/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_thread_create(): threads with exact TIDs at 1, 2 and 3 levels, read back from
 * /proc/self/task/TID/status; the validator's rules and diagnostics (taken, range, too deep,
 * privilege, after unshare, bad options); CLONE_SETTLS; the exit code fn returns, as a
 * tracer sees it; 1,000 threads in one process, and all of them gone after. Every test runs
 * in a private PID namespace and must leave no fd, child or zombie behind, nor leak memory
 * (th_in_pidns_leakfree()).
 *
 * The threads run without the C library (the contract of pidtuple_thread_create()): their
 * functions use raw system calls through inline assembly and plain memory only, and are not
 * instrumented by the sanitizers.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

TH_LSAN_EXPLICIT_ONLY

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define STACK_SIZE (64 * 1024)
#define NO_TID ((pid_t)-12345)
#define CANARY 0xa5

/* Code that runs on a thread the C library does not know. */
#define RAW_THREAD __attribute__((noinline, no_sanitize("address", "undefined")))

/* ---- raw system calls for the new threads: no errno, no thread-local storage ---------- */

#if defined(__x86_64__)
static inline long raw_syscall4(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline uintptr_t thread_pointer_word(void)
{
	uintptr_t v;

	__asm__ volatile("movq %%fs:0, %0" : "=r"(v));
	return v; /* the TCB's self pointer: the thread pointer itself, by the x86-64 TLS ABI */
}
#elif defined(__aarch64__)
static inline long raw_syscall4(long nr, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;

	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}

static inline uintptr_t thread_pointer_word(void)
{
	uintptr_t v;

	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(v));
	return v;
}
#else
#define NO_RAW_THREADS 1
static inline long raw_syscall4(long nr, long a, long b, long c, long d)
{
	return syscall(nr, a, b, c, d);
}

static inline uintptr_t thread_pointer_word(void)
{
	return 0;
}
#endif

static inline pid_t raw_gettid(void)
{
	return (pid_t)raw_syscall4(SYS_gettid, 0, 0, 0, 0);
}

static inline void raw_futex_wait(uint32_t *addr, uint32_t val)
{
	raw_syscall4(SYS_futex, (long)addr, FUTEX_WAIT, (long)val, 0);
}

static inline void raw_futex_wake(uint32_t *addr)
{
	raw_syscall4(SYS_futex, (long)addr, FUTEX_WAKE, INT32_MAX, 0);
}

/* ---- what the tests share ---------------------------------------------------------- */

/* One thread's state, in the process's memory. */
struct slot {
	uint32_t started; /* 1 once the thread runs */
	uint32_t go;	  /* the thread returns once this is 1 */
	pid_t seen_tid;	  /* gettid() in the thread */
	pid_t futex;	  /* pidtuple_thread_opts::tid_futex */
	int ret;	  /* what the thread returns */
	uintptr_t tp;	  /* the word at the thread pointer */
};

/* Reports that it runs and what it is, waits for go, returns slot->ret. */
static int RAW_THREAD hold_fn(void *arg)
{
	struct slot *s = arg;

	s->seen_tid = raw_gettid();
	__atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
	raw_futex_wake(&s->started);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		raw_futex_wait(&s->go, 0);
	return s->ret;
}

static void *stack_new(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Waits (up to 20 s) while *@addr is @busy: 0 once it changed, -ETIMEDOUT. The kernel's wake
 * of a tid_futex is a shared one: FUTEX_WAIT, not the private kind. */
static int wait_while(uint32_t *addr, uint32_t busy)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != busy)
			return 0;
		syscall(SYS_futex, addr, FUTEX_WAIT, busy, &ts, NULL, 0);
	}
	return -ETIMEDOUT;
}

static int wait_started(struct slot *s)
{
	return wait_while(&s->started, 0);
}

/* Lets the thread return and waits until the kernel has cleared its tid_futex. */
static int release_and_join(struct slot *s)
{
	pid_t tid = s->futex;

	__atomic_store_n(&s->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &s->go, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	while (tid != 0) {
		if (wait_while((uint32_t *)&s->futex, (uint32_t)tid) < 0)
			return -ETIMEDOUT;
		tid = __atomic_load_n(&s->futex, __ATOMIC_ACQUIRE);
	}
	return 0;
}

/* Threads of this process: entries of /proc/self/task. */
static int count_tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * The kernel clears a tid_futex while the thread exits, before it releases the thread: its
 * TID and its /proc entry stay a moment longer. Waits (up to 20 s) until no task has @tid:
 * 0, or -ETIMEDOUT. (The number itself is freed a moment after that again.)
 */
static int wait_tid_free(pid_t tid)
{
	for (int i = 0; i < 20000; i++) {
		if (kill(tid, 0) < 0 && errno == ESRCH)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* Waits (up to 20 s) until this process has @n threads: 0, or -ETIMEDOUT. */
static int wait_tasks(int n)
{
	for (int i = 0; i < 20000; i++) {
		if (count_tasks() == n)
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* NSpid of /proc/self/task/@name/status, outermost first: the count, or -1. */
static int task_nspid(const char *name, pid_t *ids, int max)
{
	char path[300], line[512];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%s/status", name);
	f = fopen(path, "re");
	while (f && n < 0 && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		n = 0;
		for (char *save = NULL, *p = strtok_r(line + 6, " \t\n", &save); p && n < max;
		     p = strtok_r(NULL, " \t\n", &save))
			ids[n++] = atoi(p);
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * The thread of this process whose innermost TID is @inner, as the test's namespace numbers
 * it: /proc is the host's, so /proc/self/task names threads by their host TIDs and NSpid
 * starts at the host; its entries from @own_level (the test namespace's field) on are ours.
 * Writes them as text ("7002/7102/52") to @out; 0, or 1 when no such thread is found.
 */
static int thread_text(pid_t inner, int own_level, char *out, size_t size)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	pid_t ids[PIDTUPLE_MAX_LEVELS + 1];
	int found = 1;

	while (d && found && (e = readdir(d))) {
		int n = e->d_name[0] == '.' ? -1 : task_nspid(e->d_name, ids, ARRAY_SIZE(ids));
		size_t len = 0;

		if (n <= own_level || ids[n - 1] != inner)
			continue;
		for (int i = own_level; i < n && len < size; i++)
			len += (size_t)snprintf(out + len, size - len, "%s%d",
						i > own_level ? "/" : "", (int)ids[i]);
		found = 0;
	}
	if (d)
		closedir(d);
	return found;
}

/* The field of the test's namespace in /proc's NSpid lines (0 with a /proc of its own). */
static int own_level(void)
{
	return th_nspid_entries() - 1;
}

/* pidtuple_thread_create() with @text (outermost first), @flags and @diag, on @stack. */
static int create(const char *text, uint64_t flags, struct pidtuple_diag *diag, struct slot *s,
		  void *stack, pid_t *ret_tid)
{
	PIDTUPLE_OPTS(pidtuple_thread_opts, o, .flags = flags, .tid_futex = &s->futex,
		      .diag = diag);
	struct pidtuple *t = NULL;
	int r = pidtuple_parse(text, &t, NULL);

	if (r < 0)
		return r;
	r = pidtuple_thread_create(t, hold_fn, s, stack, STACK_SIZE, &o, ret_tid);
	pidtuple_free(t);
	return r;
}

/* A one-level tuple, or NULL (then the call that takes it fails with -EINVAL). */
static struct pidtuple *tuple_of(pid_t tid)
{
	struct pidtuple *t = NULL;

	return pidtuple_from_inner(&tid, 1, &t) == 0 ? t : NULL;
}

static bool raw_threads_here(void)
{
#ifdef NO_RAW_THREADS
	return false;
#else
	return true;
#endif
}

/* ---- 1, 2 and 3 levels --------------------------------------------------------------- */

struct level_arg {
	const char *tuple; /* outermost first, from the test's namespace down */
	int depth;	   /* namespaces between the test's and the caller's */
	uint64_t flags;
	int unverified; /* with PIDTUPLE_THREAD_CHECK: pinned levels above the caller's */
	int own_level;	/* filled in: the test namespace's NSpid field in /proc */
};

static const struct level_arg level_cases[] = {
	{ "7001", 0, 0, 0, 0 },
	{ "7001", 0, PIDTUPLE_THREAD_CHECK, 0, 0 },
	{ "7002/52", 1, 0, 0, 0 },
	{ "7002/52", 1, PIDTUPLE_THREAD_CHECK, 1, 0 },
	{ "7003/7103/53", 2, 0, 0, 0 },
	{ "7003/7103/53", 2, PIDTUPLE_THREAD_CHECK, 2, 0 },
	/* Fewer levels than the process has: the outer ones get automatic numbers. */
	{ "54", 1, 0, 0, 0 },
	{ "7105/55", 2, PIDTUPLE_THREAD_CHECK, 1, 0 },
};

/* @got (every level from the test's down) is @want, or ends with it when @want pins fewer. */
static bool levels_match(const char *got, const char *want, int depth)
{
	size_t g = strlen(got), w = strlen(want);
	int fields = 1;

	for (const char *c = got; *c; c++)
		fields += *c == '/';
	if (fields != depth + 1 || g < w || strcmp(got + g - w, want) != 0)
		return false;
	return g == w || got[g - w - 1] == '/';
}

/* In the process at the bottom of the chain: one thread, read back, released, joined. */
static int level_body(void *p)
{
	const struct level_arg *a = p;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct slot *s = calloc(1, sizeof(*s));
	void *stack = stack_new(STACK_SIZE);
	const char *last = strrchr(a->tuple, '/');
	pid_t inner = atoi(last ? last + 1 : a->tuple), tid = NO_TID;
	int r, tasks = count_tasks();
	char got[256] = "";

	TH_CHECK(s && stack, "memory");
	r = create(a->tuple, a->flags, &d, s, stack, &tid);
	TH_CHECK(r == 0, "%s: %s (rule %s: %s)", a->tuple, pidtuple_strerror(r),
		 pidtuple_rule_name(d.rule), d.message);
	TH_CHECK(tid == inner, "%s: ret_tid %d", a->tuple, (int)tid);
	TH_CHECK(s->futex == inner, "tid_futex %d before the call returned", (int)s->futex);
	TH_CHECK(wait_started(s) == 0, "the thread never ran");
	TH_CHECK(s->seen_tid == inner, "gettid() in the thread: %d", (int)s->seen_tid);
	TH_CHECK(count_tasks() == tasks + 1, "%d tasks, had %d", count_tasks(), tasks);
	TH_CHECK(thread_text(inner, a->own_level, got, sizeof(got)) == 0, "%s: not in /proc",
		 a->tuple);
	TH_CHECK(levels_match(got, a->tuple, a->depth), "NSpid from the test's level: %s, want %s",
		 got, a->tuple);
	TH_CHECK(d.err == 0 && d.unverified == a->unverified, "diag err %d unverified %d (%s)",
		 d.err, d.unverified, d.message);
	TH_CHECK(release_and_join(s) == 0, "the thread did not end");
	TH_CHECK(wait_tid_free(inner) == 0, "TID %d still in use", (int)inner);
	TH_CHECK(count_tasks() == tasks, "%d tasks after the join, had %d", count_tasks(), tasks);
	munmap(stack, STACK_SIZE);
	free(s);
	return th_leak_check() ? 1 : 0;
}

/* Runs @fn(@arg) @depth PID namespaces below this one, in the init of the innermost (made
 * with unshare() and fork(): the unsharing process itself can no longer make threads). */
static int at_depth(int depth, int (*fn)(void *), void *arg)
{
	pid_t pid;

	if (depth == 0)
		return fn(arg);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 100;
	if (pid == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID) < 0)
			_exit(101);
		init = fork();
		if (init == 0) {
			int r = at_depth(depth - 1, fn, arg);

			fflush(NULL);
			_exit(r);
		}
		_exit(init < 0 ? 102 : th_wait_status(init));
	}
	return th_wait_status(pid);
}

static int level_run(void *p)
{
	struct level_arg a = *(const struct level_arg *)p;

	a.own_level = own_level();
	TH_CHECK(a.own_level >= 0, "no NSpid line in /proc/self/status");
	return at_depth(a.depth, level_body, &a);
}

START_TEST(test_levels)
{
	const struct level_arg *a = &level_cases[_i];

	ck_assert_msg(th_in_pidns_leakfree(level_run, (void *)a) == 0, "%s at depth %d%s", a->tuple,
		      a->depth, a->flags ? ", PIDTUPLE_THREAD_CHECK" : "");
}
END_TEST

/* ---- verdicts ------------------------------------------------------------------------ */

struct verdict {
	const char *tuple;
	uint64_t flags;
	int err;
	uint32_t rule;
	int inner; /* -1: no level */
	int kernel_err;
};

/* One refused call: the error, the diag, and no thread, no TID, no futex write. */
static int refused(const struct verdict *v)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct slot *s = calloc(1, sizeof(*s));
	void *stack = stack_new(STACK_SIZE);
	int tasks = count_tasks(), levels = 1, r;
	pid_t tid = NO_TID;

	TH_CHECK(s && stack, "memory");
	for (const char *c = v->tuple; *c; c++)
		levels += *c == '/';
	r = create(v->tuple, v->flags, &d, s, stack, &tid);
	TH_CHECK(r == v->err, "%s%s: %d (%s), want %d", v->tuple, v->flags ? " CHECK" : "", r,
		 pidtuple_strerror(r), v->err);
	TH_CHECK(tid == NO_TID && s->futex == 0, "%s: out-parameters written", v->tuple);
	TH_CHECK(count_tasks() == tasks, "%s: a thread was made", v->tuple);
	TH_CHECK(d.err == v->err && d.rule == v->rule, "%s: diag err %d rule %s, want %s: %s",
		 v->tuple, d.err, pidtuple_rule_name(d.rule), pidtuple_rule_name(v->rule),
		 d.message);
	TH_CHECK(d.inner_index == v->inner && d.levels == levels &&
			 d.nspid_pos == (v->inner < 0 ? -1 : levels - 1 - v->inner),
		 "%s: diag level inner %d nspid %d of %d", v->tuple, d.inner_index, d.nspid_pos,
		 d.levels);
	TH_CHECK(d.kernel_err == v->kernel_err, "%s: kernel_err %d, want %d", v->tuple,
		 d.kernel_err, v->kernel_err);
	munmap(stack, STACK_SIZE);
	free(s);
	return 0;
}

/* Each verdict with and without PIDTUPLE_THREAD_CHECK: the kernel is asked only without. */
static int refused_both(struct verdict v)
{
	int kernel_err = v.kernel_err;

	v.flags = 0;
	if (refused(&v))
		return 1;
	v.flags = PIDTUPLE_THREAD_CHECK;
	v.kernel_err = v.rule == PIDTUPLE_RULE_KERNEL ? kernel_err : 0;
	return refused(&v);
}

static int taken_body(void *arg)
{
	struct slot *s = calloc(1, sizeof(*s));
	void *stack = stack_new(STACK_SIZE);
	int r;

	(void)arg;
	TH_CHECK(s && stack, "memory");
	r = create("3000", 0, NULL, s, stack, NULL);
	TH_CHECK(r == 0 && wait_started(s) == 0, "first thread: %s", pidtuple_strerror(r));
	/* Another thread's TID, and the process's own PID (this test's init). */
	if (refused_both(
		    (struct verdict){ "3000", 0, -EEXIST, PIDTUPLE_RULE_PID_TAKEN, 0, -EEXIST }) ||
	    refused_both((struct verdict){ "1", 0, -EEXIST, PIDTUPLE_RULE_PID_TAKEN, 0, -EEXIST }))
		return 1;
	TH_CHECK(release_and_join(s) == 0, "the thread did not end");
	/* Free again once the kernel has released the thread, a moment after the join. */
	TH_CHECK(wait_tid_free(3000) == 0, "TID 3000 still in use");
	memset(s, 0, sizeof(*s));
	r = -EEXIST;
	for (int i = 0; i < 2000 && r == -EEXIST; i++, usleep(1000))
		r = create("3000", 0, NULL, s, stack, NULL);
	TH_CHECK(r == 0 && wait_started(s) == 0, "the TID again: %s", pidtuple_strerror(r));
	TH_CHECK(release_and_join(s) == 0, "the thread did not end");
	munmap(stack, STACK_SIZE);
	free(s);
	return 0;
}

/* One level down: the test's namespace is above the caller's, out of its sight. The kernel's
 * EEXIST there is reported as the kernel's verdict. */
static int taken_outer_body(void *arg)
{
	(void)arg;
	return refused_both(
		(struct verdict){ "1/60", 0, -EEXIST, PIDTUPLE_RULE_KERNEL, -1, -EEXIST });
}

static int taken_run(void *arg)
{
	(void)arg;
	if (taken_body(NULL))
		return 1;
	return at_depth(1, taken_outer_body, NULL);
}

START_TEST(test_taken)
{
	ck_assert_int_eq(th_in_pidns_leakfree(taken_run, NULL), 0);
}
END_TEST

/* 0 and negative TIDs cannot even make a tuple; the one way to pass a 0 (an id tuple) and
 * pid_max are refused with the level. */
static int range_body(void *arg)
{
	pid_t zero = 0, neg = -5, ids[2] = { 7, 0 };
	struct pidtuple *t = NULL;
	char text[32];
	int pid_max = th_read_pid_max();

	(void)arg;
	TH_CHECK(pidtuple_from_inner(&zero, 1, &t) == -EINVAL && !t, "TID 0 made a tuple");
	TH_CHECK(pidtuple_from_inner(&neg, 1, &t) == -EINVAL && !t, "TID -5 made a tuple");
	TH_CHECK(pidtuple_from_outer(&neg, 1, &t) == -EINVAL && !t, "TID -5 made a tuple");
	TH_CHECK(pidtuple_from_ids(&neg, 1, &t) == -EINVAL && !t, "id -5 made a tuple");
	TH_CHECK(pidtuple_parse("-5", &t, NULL) == -EINVAL && !t, "\"-5\" parsed");
	TH_CHECK(pidtuple_parse("0", &t, NULL) == -EINVAL && !t, "\"0\" parsed");
	TH_CHECK(pidtuple_from_ids(ids, 2, &t) == 0, "from_ids 7/0");
	for (int check = 0; check < 2; check++) {
		PIDTUPLE_OPTS(pidtuple_diag, d);
		PIDTUPLE_OPTS(pidtuple_thread_opts, o, .diag = &d,
			      .flags = check ? PIDTUPLE_THREAD_CHECK : 0);
		struct slot s = { 0 };
		char stack[PIDTUPLE_THREAD_STACK_MIN];
		pid_t tid = NO_TID;
		int r = pidtuple_thread_create(t, hold_fn, &s, stack, sizeof(stack), &o, &tid);

		TH_CHECK(r == -EINVAL && tid == NO_TID, "TID 0: %d", r);
		TH_CHECK(d.rule == PIDTUPLE_RULE_PID_RANGE && d.inner_index == 0 &&
				 d.nspid_pos == 1 && d.pid == 0 && d.kernel_err == 0,
			 "TID 0: rule %s inner %d nspid %d pid %d kernel %d: %s",
			 pidtuple_rule_name(d.rule), d.inner_index, d.nspid_pos, d.pid,
			 d.kernel_err, d.message);
	}
	pidtuple_free(t);
	TH_CHECK(pid_max > 0, "pid_max");
	snprintf(text, sizeof(text), "%d", pid_max);
	return refused_both(
		(struct verdict){ text, 0, -EINVAL, PIDTUPLE_RULE_PID_RANGE, 0, -EINVAL });
}

START_TEST(test_range)
{
	ck_assert_int_eq(th_in_pidns_leakfree(range_body, NULL), 0);
}
END_TEST

/* Too many levels: more than the caller's depth (when /proc lets the library count it,
 * too-deep; else the kernel's verdict). Too few: no tuple at all; a shorter one is fine
 * (test_levels). */
static int count_body(void *arg)
{
	PIDTUPLE_OPTS(pidtuple_level_info, li);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_thread_opts, o, .diag = &d);
	struct pidtuple_nsctx *ctx = NULL;
	pid_t pids[PIDTUPLE_MAX_LEVELS + 1];
	char text[PIDTUPLE_MAX_LEVELS * 8] = "";
	struct pidtuple *t = NULL;
	struct slot s = { 0 };
	char stack[PIDTUPLE_THREAD_STACK_MIN];
	size_t len = 0;
	int n, r;

	(void)arg;
	TH_CHECK(pidtuple_nsctx_new(NULL, &ctx) == 0 && pidtuple_nsctx_level(ctx, 0, &li) == 0,
		 "nsctx");
	pidtuple_nsctx_free(ctx);
	n = li.abs_level >= 0 ? li.abs_level + 2 : PIDTUPLE_MAX_LEVELS;
	for (int i = 0; i <= PIDTUPLE_MAX_LEVELS; i++)
		pids[i] = 8000 + i;
	TH_CHECK(pidtuple_from_inner(pids, PIDTUPLE_MAX_LEVELS + 1, &t) == -EINVAL && !t,
		 "33 levels made a tuple");
	for (int i = n - 1; i >= 0; i--)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%d", len ? "/" : "",
					(int)pids[i]);
	if (li.abs_level >= 0)
		r = refused_both((struct verdict){ text, 0, -EINVAL, PIDTUPLE_RULE_TOO_DEEP, n - 1,
						   -EINVAL });
	else
		r = refused_both(
			(struct verdict){ text, 0, -EINVAL, PIDTUPLE_RULE_KERNEL, -1, -EINVAL });
	if (r)
		return r;
	r = pidtuple_thread_create(NULL, hold_fn, &s, stack, sizeof(stack), &o, NULL);
	TH_CHECK(r == -EINVAL && d.rule == PIDTUPLE_RULE_LEVEL_COUNT && d.levels == 0,
		 "no tuple: %d rule %s levels %d", r, pidtuple_rule_name(d.rule), d.levels);
	return 0;
}

START_TEST(test_level_count)
{
	ck_assert_int_eq(th_in_pidns_leakfree(count_body, NULL), 0);
}
END_TEST

/* ---- privilege ----------------------------------------------------------------------- */

#define CAP_SYS_ADMIN_BIT 21
#define CAP_CHECKPOINT_RESTORE_BIT 40
#define LINUX_CAPABILITY_VERSION_3 0x20080522

/* Drops @drop from the effective set. */
static int drop_caps(uint64_t drop)
{
	struct {
		uint32_t version;
		int pid;
	} hdr = { LINUX_CAPABILITY_VERSION_3, 0 };
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].effective &= ~(uint32_t)drop;
	data[1].effective &= ~(uint32_t)(drop >> 32);
	return syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

static int no_caps_child(void *arg)
{
	(void)arg;
	TH_CHECK(drop_caps(1ull << CAP_SYS_ADMIN_BIT | 1ull << CAP_CHECKPOINT_RESTORE_BIT) == 0,
		 "capset: %m");
	return refused_both(
		(struct verdict){ "3100", 0, -EPERM, PIDTUPLE_RULE_PRIVILEGE, 0, -EPERM });
}

/* The init of a PID namespace owned by a user namespace of its own: it may pin its own level,
 * not the test's above it (owned by the initial user namespace, out of its sight). */
static int userns_init(void *arg)
{
	struct slot *s = calloc(1, sizeof(*s));
	void *stack = stack_new(STACK_SIZE);
	int r;

	(void)arg;
	TH_CHECK(s && stack, "memory");
	if (refused_both(
		    (struct verdict){ "3200/61", 0, -EPERM, PIDTUPLE_RULE_KERNEL, -1, -EPERM }))
		return 1;
	r = create("62", PIDTUPLE_THREAD_CHECK, NULL, s, stack, NULL);
	TH_CHECK(r == 0 && wait_started(s) == 0, "own level: %s", pidtuple_strerror(r));
	TH_CHECK(s->seen_tid == 62, "gettid %d", (int)s->seen_tid);
	TH_CHECK(release_and_join(s) == 0, "the thread did not end");
	munmap(stack, STACK_SIZE);
	free(s);
	return 0;
}

static int userns_child(void *arg)
{
	pid_t init;

	(void)arg;
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0) {
		printf("note: no user namespace here (%m): its case is skipped\n");
		return 0;
	}
	init = fork();
	if (init == 0)
		_exit(userns_init(NULL));
	return init < 0 ? 1 : th_wait_status(init);
}

static int privilege_body(void *arg)
{
	(void)arg;
	TH_CHECK(th_in_child(no_caps_child, NULL) == 0, "without the capabilities");
	TH_CHECK(th_in_child(userns_child, NULL) == 0, "in a user namespace of its own");
	return 0;
}

START_TEST(test_privilege)
{
	ck_assert_int_eq(th_in_pidns_leakfree(privilege_body, NULL), 0);
}
END_TEST

/* ---- after unshare() or setns() of the PID namespace --------------------------------- */

static int unshared_child(void *arg)
{
	int nsfd = (int)(intptr_t)arg;

	if (nsfd >= 0)
		TH_CHECK(setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
	else
		TH_CHECK(unshare(CLONE_NEWPID) == 0, "unshare: %m");
	return refused_both(
		(struct verdict){ "3300", 0, -EINVAL, PIDTUPLE_RULE_NEWPID_UNSHARED, -1, -EINVAL });
}

static int unshared_body(void *arg)
{
	int fds = th_count_fds(), nsfd = -1;
	pid_t holder;

	(void)arg;
	TH_CHECK(th_in_child(unshared_child, (void *)(intptr_t)-1) == 0, "after unshare()");
	holder = th_make_nested_ns(1, NULL, &nsfd);
	TH_CHECK(holder > 0, "th_make_nested_ns: %d", (int)holder);
	TH_CHECK(th_in_child(unshared_child, (void *)(intptr_t)nsfd) == 0, "after setns()");
	return th_clean_up(holder, nsfd, fds);
}

START_TEST(test_after_unshare)
{
	ck_assert_int_eq(th_in_pidns_leakfree(unshared_body, NULL), 0);
}
END_TEST

/* ---- options and arguments ----------------------------------------------------------- */

struct bad_call {
	const char *name;
	int err;
	uint32_t rule;
	bool no_fn, no_stack, small_stack;
	uint64_t flags, tls, reserved;
	size_t sz; /* 0: sizeof */
	bool tail; /* a larger struct with a non-zero byte past the known members */
};

static const struct bad_call bad_calls[] = {
	{ "no callback", -EINVAL, PIDTUPLE_RULE_OPTIONS, .no_fn = true },
	{ "no stack", -EINVAL, PIDTUPLE_RULE_OPTIONS, .no_stack = true },
	{ "stack below the minimum", -EINVAL, PIDTUPLE_RULE_OPTIONS, .small_stack = true },
	{ "CLONE_NEWPID as a flag", -EINVAL, PIDTUPLE_RULE_FLAGS, .flags = 0x20000000 },
	{ "an unknown flag", -EINVAL, PIDTUPLE_RULE_FLAGS, .flags = 1ull << 63 },
	{ "tls without SETTLS", -EINVAL, PIDTUPLE_RULE_FLAGS, .tls = 4096 },
	{ "reserved", -EINVAL, PIDTUPLE_RULE_OPTIONS, .reserved = 1 },
	{ "sz 4", -EINVAL, PIDTUPLE_RULE_NONE, .sz = 4 },
	{ "unknown tail", -E2BIG, PIDTUPLE_RULE_OPTIONS, .tail = true },
};

static int bad_call_one(const struct bad_call *c, const struct pidtuple *t, void *stack)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	unsigned char buf[sizeof(struct pidtuple_thread_opts) + 16];
	struct pidtuple_thread_opts *o = (void *)buf;
	struct slot s = { 0 };
	pid_t tid = NO_TID;
	int r, tasks = count_tasks();

	memset(buf, 0, sizeof(buf));
	o->sz = c->sz ? c->sz : c->tail ? sizeof(buf) : sizeof(*o);
	o->flags = c->flags;
	o->tls = c->tls;
	o->reserved = c->reserved;
	o->tid_futex = &s.futex;
	o->diag = &d;
	if (c->tail)
		buf[sizeof(*o) + 3] = 1;
	r = pidtuple_thread_create(t, c->no_fn ? NULL : hold_fn, &s, c->no_stack ? NULL : stack,
				   c->small_stack ? PIDTUPLE_THREAD_STACK_MIN - 1 : STACK_SIZE, o,
				   &tid);
	TH_CHECK(r == c->err, "%s: %d", c->name, r);
	TH_CHECK(tid == NO_TID && s.futex == 0 && count_tasks() == tasks, "%s: a thread was made",
		 c->name);
	/* sz 4 holds no diag pointer: the library cannot report there. */
	TH_CHECK(d.rule == c->rule && d.err == (c->rule ? c->err : 0), "%s: diag %d %s: %s",
		 c->name, d.err, pidtuple_rule_name(d.rule), d.message);
	if (c->flags == 0x20000000)
		TH_CHECK(strstr(d.message, "CLONE_NEWPID"), "%s: %s", c->name, d.message);
	return 0;
}

/* A struct from an older header (up to tid_futex), and one from a newer (zero tail). */
static int good_sizes(void *stack)
{
	unsigned char buf[sizeof(struct pidtuple_thread_opts) + 16];
	struct pidtuple_thread_opts *o = (void *)buf;
	size_t sizes[] = { offsetof(struct pidtuple_thread_opts, diag), sizeof(buf) };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct pidtuple *t = tuple_of(3401 + (pid_t)i);
		struct slot s = { 0 };
		int r;

		memset(buf, 0, sizeof(buf));
		o->sz = sizes[i];
		o->tid_futex = &s.futex;
		r = pidtuple_thread_create(t, hold_fn, &s, stack, STACK_SIZE, o, NULL);
		pidtuple_free(t);
		TH_CHECK(r == 0 && wait_started(&s) == 0, "sz %zu: %s", sizes[i],
			 pidtuple_strerror(r));
		TH_CHECK(s.seen_tid == 3401 + (pid_t)i, "sz %zu: TID %d", sizes[i],
			 (int)s.seen_tid);
		TH_CHECK(release_and_join(&s) == 0, "sz %zu: the thread did not end", sizes[i]);
	}
	return 0;
}

/* NULL options: no tid_futex, so the join is by the TID going away. The smallest stack. */
static int null_opts(void *stack)
{
	struct pidtuple *t = tuple_of(3403);
	struct slot s = { 0 };
	pid_t tid = 0;
	int r = pidtuple_thread_create(t, hold_fn, &s, stack, PIDTUPLE_THREAD_STACK_MIN, NULL,
				       &tid);

	pidtuple_free(t);
	TH_CHECK(r == 0 && tid == 3403 && wait_started(&s) == 0, "NULL opts: %s",
		 pidtuple_strerror(r));
	__atomic_store_n(&s.go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &s.go, FUTEX_WAKE, 1, NULL, NULL, 0);
	TH_CHECK(wait_tid_free(tid) == 0, "the thread did not end");
	return 0;
}

static int options_body(void *arg)
{
	struct pidtuple *t = NULL;
	void *stack = stack_new(STACK_SIZE);

	(void)arg;
	TH_CHECK(stack && pidtuple_parse("3400", &t, NULL) == 0, "setup");
	for (size_t i = 0; i < ARRAY_SIZE(bad_calls); i++)
		if (bad_call_one(&bad_calls[i], t, stack))
			return 1;
	if (good_sizes(stack) || null_opts(stack))
		return 1;
	pidtuple_free(t);
	munmap(stack, STACK_SIZE);
	return 0;
}

START_TEST(test_options)
{
	ck_assert_int_eq(th_in_pidns_leakfree(options_body, NULL), 0);
}
END_TEST

/* ---- the thread pointer -------------------------------------------------------------- */

/* A block the thread pointer can point to: on x86-64 its first word points to itself (the
 * TCB's self pointer), and it is large enough for the stack protector's canary at 0x28. */
struct tls_block {
	uintptr_t self;
	uintptr_t words[63];
};

static int RAW_THREAD tp_fn(void *arg)
{
	struct slot *s = arg;

	s->tp = thread_pointer_word();
	s->seen_tid = raw_gettid();
	return 0;
}

/* x86-64 refuses a thread pointer outside the user address space with EPERM. */
static int bad_tls(void)
{
#ifdef __x86_64__
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_thread_opts, o, .flags = PIDTUPLE_THREAD_SETTLS,
		      .tls = 0xffff800000000000ull, .diag = &d);
	struct pidtuple *t = tuple_of(3502);
	struct slot s = { 0 };
	char stack[PIDTUPLE_THREAD_STACK_MIN];
	pid_t tid = NO_TID;
	int r = pidtuple_thread_create(t, tp_fn, &s, stack, sizeof(stack), &o, &tid);

	pidtuple_free(t);
	TH_CHECK(r == -EPERM && tid == NO_TID && count_tasks() == 1, "a kernel address: %d", r);
	TH_CHECK(d.rule == PIDTUPLE_RULE_KERNEL && d.kernel_err == -EPERM &&
			 strstr(d.message, "tls 0xffff800000000000"),
		 "rule %s kernel_err %d: %s", pidtuple_rule_name(d.rule), d.kernel_err, d.message);
#endif
	return 0;
}

static int tls_body(void *arg)
{
	struct tls_block *block = calloc(1, sizeof(*block));
	struct slot *s = calloc(1, sizeof(*s));
	void *stack = stack_new(STACK_SIZE);

	(void)arg;
	TH_CHECK(block && s && stack, "setup");
	block->self = (uintptr_t)block;
	for (int settls = 0; settls < 2; settls++) {
		struct pidtuple *t = tuple_of(3500 + settls);
		PIDTUPLE_OPTS(pidtuple_thread_opts, o, .tid_futex = &s->futex);
		uintptr_t want = settls ? (uintptr_t)block : thread_pointer_word();
		int r;

		if (settls) {
			o.flags = PIDTUPLE_THREAD_SETTLS | PIDTUPLE_THREAD_CHECK;
			o.tls = (uintptr_t)block;
		}
		memset(s, 0, sizeof(*s));
		r = pidtuple_thread_create(t, tp_fn, s, stack, STACK_SIZE, &o, NULL);
		pidtuple_free(t);
		TH_CHECK(r == 0, "SETTLS %d: %s", settls, pidtuple_strerror(r));
		TH_CHECK(release_and_join(s) == 0, "the thread did not end");
		/* bad_tls() counts this process's tasks: this one must be gone from them. */
		TH_CHECK(wait_tid_free(3500 + settls) == 0, "thread %d lingers", 3500 + settls);
		TH_CHECK(s->seen_tid == 3500 + settls, "gettid %d", (int)s->seen_tid);
		TH_CHECK(s->tp == want, "SETTLS %d: thread pointer word %#lx, want %#lx", settls,
			 (unsigned long)s->tp, (unsigned long)want);
	}
	munmap(stack, STACK_SIZE);
	free(s);
	free(block);
	return bad_tls();
}

START_TEST(test_settls)
{
	ck_assert_int_eq(th_in_pidns_leakfree(tls_body, NULL), 0);
}
END_TEST

/* ---- fn's return value, as a tracer sees the thread exit ----------------------------- */

static int RAW_THREAD exit_fn(void *arg)
{
	struct slot *s = arg;

	s->seen_tid = raw_gettid();
	return s->ret;
}

/* The traced process: one thread returning 42; then it goes on, and exits 7 itself. */
static int traced(int gate)
{
	struct slot *s = calloc(1, sizeof(*s));
	void *stack = stack_new(STACK_SIZE);
	PIDTUPLE_OPTS(pidtuple_thread_opts, o, .tid_futex = &s->futex);
	struct pidtuple *t = NULL;
	char c;

	if (!s || !stack || read(gate, &c, 1) != 1 || pidtuple_parse("3600", &t, NULL) < 0)
		return 1;
	s->ret = 42;
	if (pidtuple_thread_create(t, exit_fn, s, stack, STACK_SIZE, &o, NULL) < 0 ||
	    release_and_join(s) < 0 || s->seen_tid != 3600)
		return 2;
	/* exit, not exit_group: this thread is still here. */
	return wait_tasks(1) == 0 ? 7 : 3;
}

/* Follows the tracee's stops until it has exited: what its threads exited with. */
static int trace_until_exit(pid_t pid, int *thread_event, int *thread_status)
{
	int st, proc_status = -1;

	for (;;) {
		pid_t w = waitpid(-1, &st, __WALL);
		int event = st >> 16, sig = 0;
		unsigned long msg = 0;

		if (w < 0)
			return errno == EINTR ? proc_status : -1;
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

			if (w == pid)
				return code;
			*thread_status = w == 3600 ? code : -2;
			continue;
		}
		if (event == PTRACE_EVENT_EXIT && w == 3600 &&
		    ptrace(PTRACE_GETEVENTMSG, w, NULL, &msg) == 0)
			*thread_event = (int)msg;
		if (!event && WSTOPSIG(st) != SIGTRAP && WSTOPSIG(st) != SIGSTOP)
			sig = WSTOPSIG(st);
		ptrace(PTRACE_CONT, w, NULL, (void *)(intptr_t)sig);
	}
}

static int exit_code_body(void *arg)
{
	int gate[2], thread_event = -1, thread_status = -1, r;
	pid_t pid;

	(void)arg;
	TH_CHECK(pipe2(gate, O_CLOEXEC) == 0, "pipe: %m");
	pid = fork();
	TH_CHECK(pid >= 0, "fork: %m");
	if (pid == 0) {
		close(gate[1]);
		_exit(traced(gate[0]));
	}
	close(gate[0]);
	r = ptrace(PTRACE_SEIZE, pid, NULL,
		   (void *)(intptr_t)(PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXIT));
	if (write(gate[1], "g", 1) != 1 || r < 0) {
		kill(pid, SIGKILL);
		th_wait_status(pid);
		TH_CHECK(0, "ptrace: %m");
	}
	close(gate[1]);
	r = trace_until_exit(pid, &thread_event, &thread_status);
	TH_CHECK(r == 7, "the process exited %d", r);
	TH_CHECK(WIFEXITED(thread_event) && WEXITSTATUS(thread_event) == 42,
		 "the thread's exit event: status %#x", thread_event);
	TH_CHECK(thread_status == 42, "the thread was reaped with %d", thread_status);
	return 0;
}

START_TEST(test_exit_code)
{
	ck_assert_int_eq(th_in_pidns_leakfree(exit_code_body, NULL), 0);
}
END_TEST

/* ---- 1,000 threads ------------------------------------------------------------------- */

#define MANY 1000
#define MANY_FIRST 20000
#define MANY_STACK (16 * 1024)

struct many {
	uint32_t go;
	uint32_t started;
	pid_t futex[MANY];
	pid_t seen[MANY];
};

static struct many *many;

static int RAW_THREAD many_fn(void *arg)
{
	int i = (int)(intptr_t)arg;

	many->seen[i] = raw_gettid();
	__atomic_add_fetch(&many->started, 1, __ATOMIC_RELEASE);
	raw_futex_wake(&many->started);
	while (!__atomic_load_n(&many->go, __ATOMIC_ACQUIRE))
		raw_futex_wait(&many->go, 0);
	return 0;
}

static int many_create(char *stacks)
{
	for (int i = 0; i < MANY; i++) {
		PIDTUPLE_OPTS(pidtuple_thread_opts, o, .tid_futex = &many->futex[i]);
		pid_t want = MANY_FIRST + i, tid = 0;
		struct pidtuple *t = NULL;
		int r = pidtuple_from_inner(&want, 1, &t);

		if (r == 0)
			r = pidtuple_thread_create(t, many_fn, (void *)(intptr_t)i,
						   stacks + (size_t)i * MANY_STACK, MANY_STACK, &o,
						   &tid);
		pidtuple_free(t);
		TH_CHECK(r == 0 && tid == want, "thread %d: %s, TID %d", i, pidtuple_strerror(r),
			 (int)tid);
	}
	return 0;
}

/* Every task of this process, numbered by the test's namespace: the main thread and the
 * MANY threads, each TID exactly once. */
static int many_verify(int level)
{
	static unsigned char seen[MANY];
	DIR *d = opendir("/proc/self/task");
	pid_t ids[PIDTUPLE_MAX_LEVELS + 1];
	struct dirent *e;
	int n = 0;

	TH_CHECK(d, "opendir: %m");
	memset(seen, 0, sizeof(seen));
	while ((e = readdir(d))) {
		int k = e->d_name[0] == '.' ? -1 : task_nspid(e->d_name, ids, ARRAY_SIZE(ids));
		int i = k > level ? ids[level] - MANY_FIRST : -1;

		if (k < 0)
			continue;
		n++;
		if (k > level && ids[level] == 1)
			continue; /* this process */
		if (i < 0 || i >= MANY || seen[i]++ || k != level + 1) {
			closedir(d);
			TH_CHECK(0, "unexpected task %s (%d fields, TID %d here)", e->d_name, k,
				 k > level ? (int)ids[level] : -1);
		}
	}
	closedir(d);
	TH_CHECK(n == MANY + 1, "%d tasks", n);
	for (int i = 0; i < MANY; i++)
		TH_CHECK(many->seen[i] == MANY_FIRST + i && many->futex[i] == MANY_FIRST + i,
			 "thread %d: gettid %d, futex %d", i, (int)many->seen[i],
			 (int)many->futex[i]);
	return 0;
}

static int many_body(void *arg)
{
	size_t len = (size_t)MANY * MANY_STACK;
	char *stacks = stack_new(len);
	int level = own_level();

	(void)arg;
	many = calloc(1, sizeof(*many));
	TH_CHECK(stacks && many && level >= 0, "setup");
	if (many_create(stacks))
		return 1;
	for (uint32_t n; (n = __atomic_load_n(&many->started, __ATOMIC_ACQUIRE)) < MANY;)
		TH_CHECK(wait_while(&many->started, n) == 0, "%u of %d threads run", n, MANY);
	if (many_verify(level))
		return 1;
	__atomic_store_n(&many->go, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &many->go, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
	for (int i = 0; i < MANY; i++) {
		pid_t v;

		while ((v = __atomic_load_n(&many->futex[i], __ATOMIC_ACQUIRE)) != 0)
			TH_CHECK(wait_while((uint32_t *)&many->futex[i], (uint32_t)v) == 0,
				 "thread %d did not end", i);
	}
	for (int i = 0; i < MANY; i++)
		TH_CHECK(wait_tid_free(MANY_FIRST + i) == 0, "TID %d still in use", MANY_FIRST + i);
	TH_CHECK(wait_tasks(1) == 0, "%d tasks after the joins", count_tasks());
	munmap(stacks, len);
	free(many);
	many = NULL;
	return 0;
}

START_TEST(test_many)
{
	ck_assert_int_eq(th_in_pidns_leakfree(many_body, NULL), 0);
}
END_TEST

/* ---- a parked thread ------------------------------------------------------------------ */

/* pidtuple_thread_park() holds its TID, with every signal blocked, until the process ends. */
static int park_body(void *arg)
{
	static char stack[PIDTUPLE_THREAD_STACK_MIN];
	struct pidtuple *t = tuple_of(3601), *back = NULL;
	sigset_t all, old;
	pid_t tid = NO_TID;
	int r;

	(void)arg;
	if (!raw_threads_here())
		return 0;
	TH_CHECK(th_mount_own_proc() == 0, "/proc");
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	r = pidtuple_thread_create(t, pidtuple_thread_park, NULL, stack, sizeof(stack), NULL, &tid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	pidtuple_free(t);
	TH_CHECK(r == 0 && tid == 3601, "park: %d, tid %d", r, (int)tid);
	TH_CHECK(count_tasks() == 2, "%d tasks", count_tasks());
	usleep(20000); /* it sleeps: still there, still in this process */
	TH_CHECK(pidtuple_read(3601, PIDTUPLE_KIND_TGID, NULL, &back) == 0 &&
			 th_tuple_is(back, "1", "tgid") == 0,
		 "TID 3601 is not a thread of this process");
	pidtuple_free(back);
	t = tuple_of(3601);
	r = pidtuple_check(t, NULL, NULL);
	pidtuple_free(t);
	TH_CHECK(r == -EEXIST, "TID 3601 is not held: %d", r);
	return 0; /* the process ends: the thread with it */
}

START_TEST(test_park)
{
	ck_assert_int_eq(th_in_pidns(park_body, NULL), 0);
}
END_TEST

/* ---- the suite ----------------------------------------------------------------------- */

static Suite *thread_suite(void)
{
	Suite *s = suite_create("thread");
	TCase *tc = tcase_create("levels");

	tcase_add_loop_test(tc, test_levels, 0, (int)ARRAY_SIZE(level_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("rules");
	tcase_add_test(tc, test_taken);
	tcase_add_test(tc, test_range);
	tcase_add_test(tc, test_level_count);
	tcase_add_test(tc, test_privilege);
	tcase_add_test(tc, test_after_unshare);
	tcase_add_test(tc, test_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, test_settls);
	tcase_add_test(tc, test_exit_code);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_park);
	suite_add_tcase(s, tc);
	return s;
}

/* Where the library has no thread start: the documented error, and nothing else to test. */
static int unsupported_here(void)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_thread_opts, o, .diag = &d);
	char stack[PIDTUPLE_THREAD_STACK_MIN];
	struct pidtuple *t = NULL;
	struct slot s = { 0 };
	int r;

	if (pidtuple_parse("3700", &t, NULL) < 0)
		return EXIT_FAILURE;
	r = pidtuple_thread_create(t, hold_fn, &s, stack, sizeof(stack), &o, NULL);
	pidtuple_free(t);
	if (r != -EOPNOTSUPP || d.rule != PIDTUPLE_RULE_UNSUPPORTED) {
		fprintf(stderr, "no thread start here, yet: %d (%s)\n", r, d.message);
		return EXIT_FAILURE;
	}
	fprintf(stderr, "skipped: no thread start for this architecture: %s\n", d.message);
	return TH_SKIP;
}

int main(void)
{
	th_require_privilege();
	if (!raw_threads_here())
		return unsupported_here();
	return th_run_suite(thread_suite());
}
