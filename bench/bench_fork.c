/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_fork: what pidtuple_fork() costs over the raw clone3() set_tid syscall, and what the
 * validator costs next to one fork.
 *
 * Runs as PID 1 of a private PID namespace, so the PIDs it pins are its own. Per iteration it
 * times, around fork + waitpid (child _exit(0)s at once), with the same PIDs every time:
 *   raw        syscall(clone3) with set_tid            fork        pidtuple_fork()
 *   raw_pidfd  the same plus CLONE_PIDFD               fork_pidfd  pidtuple_fork() + ret_pidfd
 * and the validator alone:
 *   check      pidtuple_check() (reads a fresh context every call)
 *   check_in   pidtuple_check_in() with one context captured up front
 * Odd iterations run the series in reverse order (ABAB / BABA) so drift cancels. A 1-level
 * tuple pins the benchmark's own namespace; a 3-level tuple pins two nested namespaces below
 * it as well (held by sleeping init processes, joined with setns()).
 *
 * Reported per series: median, p10, p90, the mean of the middle 80%, and minor page faults per
 * call (child and caller), because on a VM a fault can cost as much as 3% of a fork. Ratios:
 * of medians, of trimmed means, and the median of per-iteration ratios (paired).
 *
 * Not a test: it asserts nothing about time. It exits 0 when every call succeeded, 77 when it
 * cannot run here (not root, no set_tid), 1 on an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "pidtuple.h"

enum series { S_RAW, S_FORK, S_RAW_PIDFD, S_FORK_PIDFD, S_CHECK, S_CHECK_IN, S_NR };

static const char *const series_name[S_NR] = {
	[S_RAW] = "raw",
	[S_FORK] = "fork",
	[S_RAW_PIDFD] = "raw_pidfd",
	[S_FORK_PIDFD] = "fork_pidfd",
	[S_CHECK] = "check",
	[S_CHECK_IN] = "check_in",
};

struct stats {
	double median, p10, p90, trim80; /* ns; trim80: mean of the middle 80% */
};

struct run {
	int levels;
	pid_t inner[3];	    /* set_tid order, innermost first */
	pid_t outer_pid;    /* the child's PID in the benchmark's namespace */
	uint64_t *ns[S_NR]; /* samples */
	struct stats st[S_NR];
	long child_flt[S_NR], self_flt[S_NR]; /* minor page faults, summed over the samples */
	long n;				      /* samples taken; fewer than asked if out of time */
	double paired, paired_pidfd;	      /* median of per-iteration fork/raw ratios */
};

static struct {
	long iterations;
	long warmup;
	bool json;
	int cpu;
	long budget; /* seconds for both levels together; 0: no limit */
} cfg = { .iterations = 2000, .warmup = -1, .cpu = -1, .budget = 60 };

/* Reaps @pid; adds the child's minor page faults to *@minflt when given. */
static int reap(pid_t pid, long *minflt)
{
	struct rusage ru;
	int st;
	pid_t r;

	do
		r = wait4(pid, &st, 0, &ru);
	while (r < 0 && errno == EINTR);
	if (r != pid)
		return -errno;
	if (minflt)
		*minflt += ru.ru_minflt;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

static long self_minflt(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

/*
 * A fork write-protects the caller's memory; the first write to each page afterwards faults
 * (20-30 us on some VMs). Touching the stack and errno's page after every fork, outside the
 * timed window, keeps those faults from being charged to whatever runs next: a check that
 * meets a taken-PID probe failing with ESRCH is the first to write errno.
 */
static void __attribute__((noinline)) touch_after_fork(void)
{
	volatile char buf[32768];

	for (size_t i = 0; i < sizeof(buf); i += 512)
		buf[i] = 0;
	errno = 0;
}

/* One timed call of series @s; returns the time in ns, or 0 with a message on failure. */
static uint64_t one(struct run *run, enum series s, const struct pidtuple *t,
		    const struct pidtuple_nsctx *ctx, bool count)
{
	long pid = 0, child_flt = 0, flt = self_minflt();
	int pidfd = -1, r = 0;
	uint64_t t0 = 0, t1 = 0;

	switch (s) {
	case S_RAW:
	case S_RAW_PIDFD:
		t0 = bench_now_ns();
		pid = bench_raw_clone3(run->inner, (size_t)run->levels,
				       s == S_RAW_PIDFD ? &pidfd : NULL);
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			r = -errno;
			break;
		}
		r = reap((pid_t)pid, &child_flt);
		t1 = bench_now_ns();
		break;
	case S_FORK:
	case S_FORK_PIDFD:
		t0 = bench_now_ns();
		pid = pidtuple_fork(t, NULL, s == S_FORK_PIDFD ? &pidfd : NULL);
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			r = (int)pid;
			break;
		}
		r = reap((pid_t)pid, &child_flt);
		t1 = bench_now_ns();
		break;
	case S_CHECK:
		t0 = bench_now_ns();
		r = pidtuple_check(t, NULL, NULL);
		t1 = bench_now_ns();
		break;
	case S_CHECK_IN:
		t0 = bench_now_ns();
		r = pidtuple_check_in(ctx, t, NULL);
		t1 = bench_now_ns();
		break;
	default:
		return 0;
	}
	flt = self_minflt() - flt;
	if (pidfd >= 0)
		close(pidfd);
	if (pid > 0)
		touch_after_fork();
	if (count) {
		run->child_flt[s] += child_flt;
		run->self_flt[s] += flt;
	}
	if (r == 0 && pid > 0 && pid != run->outer_pid)
		r = -ESRCH;
	if (r != 0) {
		/* check returns > 0 for unverified levels: every level must be verified here. */
		fprintf(stderr, "bench_fork: %d-level %s failed: %d (%s)\n", run->levels,
			series_name[s], r, r < 0 ? pidtuple_strerror(r) : "unverified levels");
		return 0;
	}
	return t1 - t0 ? t1 - t0 : 1;
}

static int measure(struct run *run)
{
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple *t = NULL;
	long total = cfg.warmup + cfg.iterations;
	/* Each level gets half the budget; a loaded machine stops early, on an even count. */
	uint64_t deadline = cfg.budget ? bench_now_ns() + (uint64_t)cfg.budget * 500000000ull : 0;
	int r;

	r = pidtuple_from_inner(run->inner, (size_t)run->levels, &t);
	if (r == 0)
		r = pidtuple_nsctx_new(NULL, &ctx);
	if (r < 0) {
		fprintf(stderr, "bench_fork: setup: %s\n", pidtuple_strerror(r));
		pidtuple_free(t);
		return 1;
	}
	for (int s = 0; s < S_NR; s++) {
		run->ns[s] = calloc((size_t)cfg.iterations, sizeof(uint64_t));
		if (!run->ns[s]) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (long i = 0; i < total; i++) {
		for (int k = 0; k < S_NR; k++) {
			enum series s = (enum series)(i & 1 ? S_NR - 1 - k : k);
			uint64_t d = one(run, s, t, ctx, i >= cfg.warmup);

			if (!d) {
				r = -EIO;
				goto out;
			}
			if (i >= cfg.warmup)
				run->ns[s][i - cfg.warmup] = d;
		}
		if (i >= cfg.warmup)
			run->n = i - cfg.warmup + 1;
		if (deadline && run->n >= 10 && !(run->n & 1) && bench_now_ns() > deadline)
			break;
	}
out:
	pidtuple_nsctx_free(ctx);
	pidtuple_free(t);
	return r < 0 ? 1 : 0;
}

/* Median of b[i]/a[i]: each pair ran back to back, so slow drift cancels. */
static double paired_ratio(const uint64_t *b, const uint64_t *a, long n)
{
	double *q = malloc((size_t)n * sizeof(*q)), m;
	long lo, hi;

	if (!q)
		return 0;
	for (long i = 0; i < n; i++)
		q[i] = (double)b[i] / (double)a[i];
	qsort(q, (size_t)n, sizeof(*q), bench_cmp_double);
	lo = (n - 1) / 2;
	hi = n / 2;
	m = (q[lo] + q[hi]) / 2;
	free(q);
	return m;
}

static struct stats summarize(uint64_t *v, long n)
{
	struct stats st;
	long lo = n / 10, hi = n - n / 10;
	double sum = 0;

	qsort(v, (size_t)n, sizeof(*v), bench_cmp_u64);
	st.median = n & 1 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
	st.p10 = (double)v[(n - 1) / 10];
	st.p90 = (double)v[(n - 1) * 9 / 10];
	for (long i = lo; i < hi; i++)
		sum += (double)v[i];
	st.trim80 = sum / (double)(hi - lo);
	return st;
}

/* ---- output ---- */

/* The 1-minute load average, or -1: a loaded machine makes every number noisier. */
static double loadavg(void)
{
	double l[1];

	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

static void print_text(struct run *runs, int nruns)
{
	double load = loadavg();
	struct utsname u;

	uname(&u);
	printf("# bench_fork: libpidtuple %s, kernel %s, %ld iterations (+%ld warm-up), "
	       "order ABAB/BABA, ns per call\n",
	       pidtuple_version_string(), u.release, cfg.iterations, cfg.warmup);
	for (int k = 0; k < nruns; k++)
		if (runs[k].n < cfg.iterations)
			printf("# %d-level: only %ld samples, the time budget ran out (--budget)\n",
			       runs[k].levels, runs[k].n);
	if (load >= 0)
		printf("# load average %.2f on %ld CPUs%s\n", load, sysconf(_SC_NPROCESSORS_ONLN),
		       load > sysconf(_SC_NPROCESSORS_ONLN) ? ": loaded, expect noise" : "");
	printf("# fork series: clone3 + waitpid of a child that _exit(0)s at once\n");
	printf("# faults: minor page faults per call, in the child (fork series) and the caller\n");
	printf("%-7s %-11s %10s %10s %10s %12s %10s %10s\n", "levels", "series", "median", "p10",
	       "p90", "trim80_mean", "flt_child", "flt_self");
	for (int k = 0; k < nruns; k++)
		for (int s = 0; s < S_NR; s++)
			printf("%-7d %-11s %10.0f %10.0f %10.0f %12.0f %10.2f %10.2f\n",
			       runs[k].levels, series_name[s], runs[k].st[s].median,
			       runs[k].st[s].p10, runs[k].st[s].p90, runs[k].st[s].trim80,
			       (double)runs[k].child_flt[s] / (double)runs[k].n,
			       (double)runs[k].self_flt[s] / (double)runs[k].n);
	printf("== summary ==\n");
	for (int k = 0; k < nruns; k++) {
		const struct stats *st = runs[k].st;
		int l = runs[k].levels;

		printf("ratio fork/raw %d-level: %.3fx\n", l, st[S_FORK].median / st[S_RAW].median);
		printf("ratio fork/raw trim80 %d-level: %.3fx\n", l,
		       st[S_FORK].trim80 / st[S_RAW].trim80);
		printf("ratio fork/raw paired %d-level: %.3fx\n", l, runs[k].paired);
		printf("ratio fork/raw pidfd %d-level: %.3fx\n", l,
		       st[S_FORK_PIDFD].median / st[S_RAW_PIDFD].median);
		printf("ratio fork/raw pidfd trim80 %d-level: %.3fx\n", l,
		       st[S_FORK_PIDFD].trim80 / st[S_RAW_PIDFD].trim80);
		printf("ratio fork/raw pidfd paired %d-level: %.3fx\n", l, runs[k].paired_pidfd);
		printf("check/fork %d-level: %.1f%%\n", l,
		       100 * st[S_CHECK].median / st[S_FORK].median);
		printf("check_in/fork %d-level: %.1f%%\n", l,
		       100 * st[S_CHECK_IN].median / st[S_FORK].median);
	}
}

static void print_json(struct run *runs, int nruns)
{
	struct utsname u;

	uname(&u);
	printf("{\"bench\": \"fork\", \"version\": \"%s\", \"kernel\": \"%s\", "
	       "\"iterations\": %ld, \"warmup\": %ld, \"loadavg\": %.2f, \"cpus\": %ld, "
	       "\"unit\": \"ns\", \"runs\": [",
	       pidtuple_version_string(), u.release, cfg.iterations, cfg.warmup, loadavg(),
	       sysconf(_SC_NPROCESSORS_ONLN));
	for (int k = 0; k < nruns; k++) {
		const struct stats *st = runs[k].st;

		printf("%s\n  {\"levels\": %d, \"samples\": %ld, \"series\": {", k ? "," : "",
		       runs[k].levels, runs[k].n);
		for (int s = 0; s < S_NR; s++)
			printf("%s\n    \"%s\": {\"median\": %.0f, \"p10\": %.0f, \"p90\": %.0f, "
			       "\"trim80_mean\": %.0f, \"faults_child\": %.2f, \"faults_self\": "
			       "%.2f}",
			       s ? "," : "", series_name[s], st[s].median, st[s].p10, st[s].p90,
			       st[s].trim80, (double)runs[k].child_flt[s] / (double)runs[k].n,
			       (double)runs[k].self_flt[s] / (double)runs[k].n);
		printf("},\n   \"ratio_fork_raw\": %.4f, \"ratio_fork_raw_trim80\": %.4f, "
		       "\"ratio_fork_raw_paired\": %.4f,\n"
		       "   \"ratio_fork_raw_pidfd\": %.4f, \"ratio_fork_raw_pidfd_trim80\": %.4f, "
		       "\"ratio_fork_raw_pidfd_paired\": %.4f,\n"
		       "   \"check_pct_of_fork\": %.2f, \"check_in_pct_of_fork\": %.2f}",
		       st[S_FORK].median / st[S_RAW].median, st[S_FORK].trim80 / st[S_RAW].trim80,
		       runs[k].paired, st[S_FORK_PIDFD].median / st[S_RAW_PIDFD].median,
		       st[S_FORK_PIDFD].trim80 / st[S_RAW_PIDFD].trim80, runs[k].paired_pidfd,
		       100 * st[S_CHECK].median / st[S_FORK].median,
		       100 * st[S_CHECK_IN].median / st[S_FORK].median);
	}
	printf("\n]}\n");
}

/* ---- the body: PID 1 of the private namespace ---- */

static int body(void *arg)
{
	struct run runs[2] = {
		{ .levels = 1, .inner = { 100 }, .outer_pid = 100 },
		{ .levels = 3, .inner = { 100, 200, 300 }, .outer_pid = 300 },
	};
	int nsfd = -1, r;
	pid_t holder;

	(void)arg;
	r = measure(&runs[0]);
	if (r)
		return r;

	/* Children from here on are born two levels down; the body itself stays put. */
	holder = bench_make_nested(&nsfd);
	if (holder < 0) {
		fprintf(stderr, "bench_fork: nested namespaces: %s\n", strerror((int)-holder));
		return 1;
	}
	if (setns(nsfd, CLONE_NEWPID) < 0) {
		fprintf(stderr, "bench_fork: setns: %s\n", strerror(errno));
		r = 1;
	} else {
		r = measure(&runs[1]);
	}
	close(nsfd);
	bench_kill_nested(holder);
	if (r)
		return r;

	for (int k = 0; k < 2; k++) {
		runs[k].paired = paired_ratio(runs[k].ns[S_FORK], runs[k].ns[S_RAW], runs[k].n);
		runs[k].paired_pidfd =
			paired_ratio(runs[k].ns[S_FORK_PIDFD], runs[k].ns[S_RAW_PIDFD], runs[k].n);
		for (int s = 0; s < S_NR; s++)
			runs[k].st[s] = summarize(runs[k].ns[s], runs[k].n);
	}
	if (cfg.json)
		print_json(runs, 2);
	else
		print_text(runs, 2);
	for (int k = 0; k < 2; k++)
		for (int s = 0; s < S_NR; s++)
			free(runs[k].ns[s]);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_fork [--iterations N] [--warmup N] [--budget S] [--cpu N] [--json]\n"
		"  --iterations N  timed samples per series (default 2000)\n"
		"  --warmup N      untimed iterations first (default iterations/10, >= 20)\n"
		"  --budget S      stop sampling after about S seconds (default 60, 0: never)\n"
		"  --cpu N         pin to CPU N (children inherit it)\n"
		"  --json          print JSON instead of the table and summary\n");
}

static long parse_num(const char *s, long min)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : -1;
	if (!s || errno || *end || v < min || v > INT_MAX / 8) {
		usage(stderr);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t need = PIDTUPLE_FEATURE_SET_TID | PIDTUPLE_FEATURE_CAP_SYS_ADMIN;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations"))
			cfg.iterations = parse_num(argv[++i], 10);
		else if (!strcmp(argv[i], "--warmup"))
			cfg.warmup = parse_num(argv[++i], 0);
		else if (!strcmp(argv[i], "--budget"))
			cfg.budget = parse_num(argv[++i], 0);
		else if (!strcmp(argv[i], "--cpu"))
			cfg.cpu = (int)parse_num(argv[++i], 0);
		else if (!strcmp(argv[i], "--json"))
			cfg.json = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (cfg.warmup < 0)
		cfg.warmup = cfg.iterations / 10 < 20 ? 20 : cfg.iterations / 10;

	if (geteuid() != 0 || (pidtuple_features() & need) != need) {
		fprintf(stderr, "bench_fork: skipped: needs root with CAP_SYS_ADMIN and clone3 "
				"set_tid\n");
		return BENCH_SKIP;
	}
	if (cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cfg.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "bench_fork: cpu %d: %s\n", cfg.cpu, strerror(errno));
			return 2;
		}
	}
	return bench_in_pidns("bench_fork", body, NULL);
}
