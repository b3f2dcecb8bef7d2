/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_thread: what pidtuple_thread_create() costs over the raw clone3() set_tid syscall
 * making the same thread, and next to pthread_create() (which cannot pin a TID).
 *
 * Runs as PID 1 of a private PID namespace, so the TIDs it pins are its own. Per iteration it
 * times, around create + join of a thread whose function returns at once:
 *   raw           syscall(clone3) with set_tid, CLONE_VM|...|CLONE_THREAD, a new stack, and
 *                 CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID; joined on that futex word
 *   thread        pidtuple_thread_create() with the same TID, stack and join word
 *   thread_check  the same with PIDTUPLE_THREAD_CHECK (the validator first)
 *   pthread       pthread_create() + pthread_join(), no set_tid
 * Odd iterations run the series in reverse order (ABAB / BABA) so drift cancels. A 1-level
 * tuple pins the benchmark's own namespace; a 3-level tuple is made by a process two
 * namespaces further down (fork and unshare), which pins its own level and the two above.
 * A TID is used again only 1000 iterations later: a joined thread's number is freed a moment
 * after its futex word clears.
 *
 * Reported per series: median, p10, p90. Ratios: of medians, and the median of
 * per-iteration ratios (paired). Not a test: it asserts nothing about time. It exits 0 when
 * every call succeeded, 77 when it cannot run here (not root, no set_tid, an architecture
 * without a thread start), 1 on an error.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench_common.h"
#include "pidtuple.h"

#define STACK_SIZE (64 * 1024)
#define TID_SPAN 1000 /* iterations before a TID is used again */

/* The kernel's values. */
#define B_CLONE_VM 0x00000100ull
#define B_CLONE_FS 0x00000200ull
#define B_CLONE_FILES 0x00000400ull
#define B_CLONE_SIGHAND 0x00000800ull
#define B_CLONE_THREAD 0x00010000ull
#define B_CLONE_SYSVSEM 0x00040000ull
#define B_CLONE_PARENT_SETTID 0x00100000ull
#define B_CLONE_CHILD_CLEARTID 0x00200000ull

/*
 * The raw baseline: clone3(@args, @size) whose child runs @fn(@arg) on its new stack and ends
 * with the exit syscall, as a caller writing it by hand would (a child with CLONE_VM cannot
 * return into C code: its frame is on the caller's stack).
 */
long bench_thread_clone3(struct bench_clone_args *args, size_t size, int (*fn)(void *), void *arg);
#if defined(__x86_64__)
_Static_assert(__NR_clone3 == 435 && __NR_exit == 60, "x86-64 system call numbers");
__asm__(".pushsection .text\n\t"
	".globl bench_thread_clone3\n\t"
	".type bench_thread_clone3, @function\n"
	"bench_thread_clone3:\n\t"
	"movq %rdx, %r8\n\t"
	"movq %rcx, %r9\n\t"
	"movl $435, %eax\n\t"
	"syscall\n\t"
	"testq %rax, %rax\n\t"
	"jz 1f\n\t"
	"ret\n"
	"1:\n\t"
	"xorl %ebp, %ebp\n\t"
	"andq $-16, %rsp\n\t"
	"movq %r9, %rdi\n\t"
	"callq *%r8\n\t"
	"movl %eax, %edi\n\t"
	"movl $60, %eax\n\t"
	"syscall\n\t"
	"ud2\n\t"
	".size bench_thread_clone3, . - bench_thread_clone3\n\t"
	".popsection");
#define HAVE_RAW_THREAD 1
#elif defined(__aarch64__)
_Static_assert(__NR_clone3 == 435 && __NR_exit == 93, "aarch64 system call numbers");
__asm__(".pushsection .text\n\t"
	".globl bench_thread_clone3\n\t"
	".type bench_thread_clone3, %function\n"
	"bench_thread_clone3:\n\t"
	"mov x9, x2\n\t"
	"mov x10, x3\n\t"
	"mov x8, #435\n\t"
	"svc #0\n\t"
	"cbz x0, 1f\n\t"
	"ret\n"
	"1:\n\t"
	"mov x29, #0\n\t"
	"mov x30, #0\n\t"
	"mov x0, x10\n\t"
	"blr x9\n\t"
	"mov x8, #93\n\t"
	"svc #0\n\t"
	"brk #0x3e8\n\t"
	".size bench_thread_clone3, . - bench_thread_clone3\n\t"
	".popsection");
#define HAVE_RAW_THREAD 1
#else
#define HAVE_RAW_THREAD 0
long bench_thread_clone3(struct bench_clone_args *args, size_t size, int (*fn)(void *), void *arg)
{
	(void)args;
	(void)size;
	(void)fn;
	(void)arg;
	return -EOPNOTSUPP;
}
#endif

enum series { S_RAW, S_THREAD, S_THREAD_CHECK, S_PTHREAD, S_NR };

static const char *const series_name[S_NR] = {
	[S_RAW] = "raw",
	[S_THREAD] = "thread",
	[S_THREAD_CHECK] = "thread_check",
	[S_PTHREAD] = "pthread",
};

struct stats {
	double median, p10, p90; /* ns */
};

struct run {
	int levels;
	pid_t base[3]; /* set_tid order; every level moves on by the series and the iteration */
	uint64_t *ns[S_NR];
	struct stats st[S_NR];
	long n;
	double paired_raw, paired_pthread; /* medians of per-iteration thread/raw, thread/pthread */
};

static struct {
	long iterations;
	long warmup;
} cfg = { .iterations = 2000, .warmup = -1 };

static void *stack;
static pid_t join_word;

static int quick_fn(void *arg)
{
	(void)arg;
	return 0;
}

static void *quick_pthread(void *arg)
{
	return arg;
}

/* Waits until the kernel clears the join word: the thread has ended, its stack is free. */
static void join(void)
{
	pid_t v;

	while ((v = __atomic_load_n(&join_word, __ATOMIC_ACQUIRE)) != 0)
		syscall(SYS_futex, &join_word, FUTEX_WAIT, v, NULL, NULL, 0);
}

static long raw_one(const pid_t *set_tid, int levels)
{
	struct bench_clone_args a = {
		.flags = B_CLONE_VM | B_CLONE_FS | B_CLONE_FILES | B_CLONE_SIGHAND |
			 B_CLONE_THREAD | B_CLONE_SYSVSEM | B_CLONE_PARENT_SETTID |
			 B_CLONE_CHILD_CLEARTID,
		.child_tid = (uintptr_t)&join_word,
		.parent_tid = (uintptr_t)&join_word,
		.stack = (uintptr_t)stack,
		.stack_size = STACK_SIZE,
		.set_tid = (uintptr_t)set_tid,
		.set_tid_size = (uint64_t)levels,
	};
	long r = bench_thread_clone3(&a, sizeof(a), quick_fn, NULL);

	if (r > 0)
		join();
	return r;
}

static long thread_one(const struct pidtuple *t, uint64_t flags)
{
	PIDTUPLE_OPTS(pidtuple_thread_opts, o, .flags = flags, .tid_futex = &join_word);
	pid_t tid = 0;
	int r = pidtuple_thread_create(t, quick_fn, NULL, stack, STACK_SIZE, &o, &tid);

	if (r < 0)
		return r;
	join();
	return tid;
}

static long pthread_one(void)
{
	pthread_t th;
	int r = pthread_create(&th, NULL, quick_pthread, NULL);

	if (r)
		return -r;
	return pthread_join(th, NULL) ? -EIO : 1;
}

/* One timed call of series @s, its TIDs @off past the bases; the time in ns, 0 on failure. */
static uint64_t one(struct run *run, enum series s, pid_t off)
{
	pid_t pids[3] = { run->base[0] + off, run->base[1] + off, run->base[2] + off };
	pid_t tid = pids[0];
	struct pidtuple *t = NULL;
	uint64_t t0, t1;
	long r;

	if (s != S_RAW && s != S_PTHREAD && pidtuple_from_inner(pids, (size_t)run->levels, &t))
		return 0;
	t0 = bench_now_ns();
	switch (s) {
	case S_RAW:
		r = raw_one(pids, run->levels);
		break;
	case S_THREAD:
	case S_THREAD_CHECK:
		r = thread_one(t, s == S_THREAD_CHECK ? PIDTUPLE_THREAD_CHECK : 0);
		break;
	default:
		r = pthread_one();
		break;
	}
	t1 = bench_now_ns();
	pidtuple_free(t);
	if (r < 0 || (s != S_PTHREAD && r != tid)) {
		fprintf(stderr, "bench_thread: %d-level %s failed: %ld (%s)\n", run->levels,
			series_name[s], r, r < 0 ? strerror((int)-r) : "another TID");
		return 0;
	}
	return t1 - t0 ? t1 - t0 : 1;
}

static int measure(struct run *run)
{
	long total = cfg.warmup + cfg.iterations;

	for (int s = 0; s < S_NR; s++) {
		run->ns[s] = calloc((size_t)cfg.iterations, sizeof(uint64_t));
		if (!run->ns[s])
			return 1;
	}
	for (long i = 0; i < total; i++) {
		for (int k = 0; k < S_NR; k++) {
			enum series s = (enum series)(i & 1 ? S_NR - 1 - k : k);
			/* Each series its own range of TIDs, each TID again TID_SPAN later. */
			uint64_t d = one(run, s, (pid_t)(s * TID_SPAN + i % TID_SPAN));

			if (!d)
				return 1;
			if (i >= cfg.warmup)
				run->ns[s][i - cfg.warmup] = d;
		}
	}
	run->n = cfg.iterations;
	return 0;
}

/* Median of b[i]/a[i]: each pair ran back to back, so slow drift cancels. */
static double paired_ratio(const uint64_t *b, const uint64_t *a, long n)
{
	double *q = malloc((size_t)n * sizeof(*q)), m;

	if (!q)
		return 0;
	for (long i = 0; i < n; i++)
		q[i] = (double)b[i] / (double)a[i];
	m = bench_median_double(q, (int)n);
	free(q);
	return m;
}

static struct stats summarize(uint64_t *v, long n)
{
	struct stats st;

	st.median = bench_median_u64(v, (int)n); /* sorts v */
	st.p10 = (double)v[(n - 1) / 10];
	st.p90 = (double)v[(n - 1) * 9 / 10];
	return st;
}

static void report(struct run *run)
{
	const struct stats *st = run->st;
	int l = run->levels;

	run->paired_raw = paired_ratio(run->ns[S_THREAD], run->ns[S_RAW], run->n);
	run->paired_pthread = paired_ratio(run->ns[S_THREAD], run->ns[S_PTHREAD], run->n);
	for (int s = 0; s < S_NR; s++)
		run->st[s] = summarize(run->ns[s], run->n);
	for (int s = 0; s < S_NR; s++)
		printf("%-7d %-13s %10.0f %10.0f %10.0f\n", l, series_name[s], st[s].median,
		       st[s].p10, st[s].p90);
	printf("ratio thread/raw %d-level: %.3fx\n", l, st[S_THREAD].median / st[S_RAW].median);
	printf("ratio thread/raw paired %d-level: %.3fx\n", l, run->paired_raw);
	printf("ratio thread/pthread %d-level: %.3fx\n", l,
	       st[S_THREAD].median / st[S_PTHREAD].median);
	printf("ratio thread/pthread paired %d-level: %.3fx\n", l, run->paired_pthread);
	printf("ratio thread_check/thread %d-level: %.3fx\n", l,
	       st[S_THREAD_CHECK].median / st[S_THREAD].median);
	fflush(stdout);
	for (int s = 0; s < S_NR; s++)
		free(run->ns[s]);
}

/* Measures @arg (a struct run) where this process stands; 0 or 1. */
static int measure_here(void *arg)
{
	struct run *run = arg;

	if (measure(run))
		return 1;
	report(run);
	return 0;
}

/* Runs @fn(@arg) @depth PID namespaces further down, in the init of the innermost. */
static int at_depth(int depth, int (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	if (depth == 0)
		return fn(arg);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID) < 0)
			_exit(1);
		init = fork();
		if (init == 0)
			_exit(at_depth(depth - 1, fn, arg));
		while (init > 0 && waitpid(init, &st, 0) < 0 && errno == EINTR)
			;
		_exit(init > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int body(void *arg)
{
	/* From each base on, a range of TID_SPAN per series: below 32768, the pid_max of
	 * kernels before per-namespace pid_max. */
	struct run runs[2] = {
		{ .levels = 1, .base = { 5000 } },
		{ .levels = 3, .base = { 5000, 10000, 15000 } },
	};
	struct utsname u;
	int r;

	(void)arg;
	stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return 1;
	uname(&u);
	printf("# bench_thread: libpidtuple %s, kernel %s, %ld iterations (+%ld warm-up), "
	       "order ABAB/BABA, ns per create + join\n",
	       pidtuple_version_string(), u.release, cfg.iterations, cfg.warmup);
	printf("%-7s %-13s %10s %10s %10s\n", "levels", "series", "median", "p10", "p90");
	r = measure_here(&runs[0]);
	/* Two namespaces down: this process's namespace is the outermost level of the tuple. */
	if (r == 0)
		r = at_depth(2, measure_here, &runs[1]);
	munmap(stack, STACK_SIZE);
	return r;
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			cfg.iterations = atol(argv[++i]);
		else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
			cfg.warmup = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--iterations N] [--warmup N]\n", argv[0]);
			return -1;
		}
	}
	if (cfg.iterations < 2)
		cfg.iterations = 2;
	if (cfg.warmup < 0)
		cfg.warmup = cfg.iterations / 10 > 20 ? cfg.iterations / 10 : 20;
	return 0;
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv) < 0)
		return 2;
	if (!HAVE_RAW_THREAD) {
		fprintf(stderr,
			"bench_thread: skipped: no raw thread start for this architecture\n");
		return BENCH_SKIP;
	}
	if (geteuid() != 0 || !(pidtuple_features() & PIDTUPLE_FEATURE_SET_TID)) {
		fprintf(stderr, "bench_thread: skipped: needs root and clone3 with set_tid\n");
		return BENCH_SKIP;
	}
	return bench_in_pidns("bench_thread", body, NULL);
}
