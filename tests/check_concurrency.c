/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Concurrency: many threads reading, checking and forking at once (every answer exact, one
 * winner when they race for one PID), and forking from a multithreaded parent while other
 * threads hold the C library's malloc and stdio locks: the child contract (async-signal-safe
 * work only until execve() or _exit()) is enough, no child deadlocks. The ns_last_pid
 * fallback's thread race is in check_fallback.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

TH_LSAN_EXPLICIT_ONLY

static struct pidtuple *one(pid_t pid)
{
	struct pidtuple *t = NULL;

	return pidtuple_from_inner(&pid, 1, &t) == 0 ? t : NULL;
}

/* 1 when @t is exactly the one-level tuple {@pid}. */
static int is_one(const struct pidtuple *t, pid_t pid)
{
	return t && pidtuple_levels(t) == 1 && pidtuple_get(t, 0) == pid;
}

/* Workers report the first failure and keep the count; a test fails when the count is not 0. */
struct failures {
	atomic_int count;
	atomic_flag said;
};

static void __attribute__((format(printf, 4, 5)))
note_failure(struct failures *f, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (!atomic_flag_test_and_set(&f->said)) {
		va_start(ap, fmt);
		fprintf(stderr, "%s:%d: ", file, line);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	atomic_fetch_add(&f->count, 1);
}

#define FAIL(f, ...) note_failure(f, __FILE__, __LINE__, __VA_ARGS__)

/* ---- every entry point from many threads at once ---- */

#define HAMMER_THREADS 8
#define HAMMER_ITERS 24
#define HAMMER_STRIDE 100 /* PIDs per thread: 3 per iteration */

struct hammer {
	struct pidtuple_nsctx *ctx; /* one context shared by every thread */
	uint64_t features;
	pthread_barrier_t start;
	pthread_barrier_t stop; /* threads stay alive until all finished reading each other */
	_Atomic pid_t tids[HAMMER_THREADS];
	struct failures f;
};

struct hammer_arg {
	struct hammer *h;
	int worker;
};

/* The holder: waits for a byte on its pipe (read() is async-signal-safe), then says whether
 * the kernel gave it the PID it was asked for. */
struct holder {
	int rfd;
	pid_t want;
};

static int holder_fn(void *p)
{
	const struct holder *ho = p;
	char c;

	while (read(ho->rfd, &c, 1) < 0 && errno == EINTR)
		;
	return th_raw_getpid() == ho->want ? 0 : 1;
}

/* Reading: the thread itself, a sibling thread, the process. */
static void hammer_read(struct hammer *h, int w)
{
	pid_t me = th_raw_gettid(), sib = h->tids[(w + 1) % HAMMER_THREADS];
	PIDTUPLE_OPTS(pidtuple_read_opts, status, .source = PIDTUPLE_SOURCE_STATUS);
	struct pidtuple *t = NULL;
	int r;

	r = pidtuple_read(me, PIDTUPLE_KIND_TID, NULL, &t);
	if (r != 0 || !is_one(t, me))
		FAIL(&h->f, "read own tid %d: %d", me, r);
	pidtuple_free(t);
	t = NULL;
	r = pidtuple_read(sib, PIDTUPLE_KIND_TID, &status, &t);
	if (r != 0 || !is_one(t, sib))
		FAIL(&h->f, "read sibling tid %d (status): %d", sib, r);
	pidtuple_free(t);
	t = NULL;
	r = pidtuple_read(sib, PIDTUPLE_KIND_TGID, NULL, &t);
	if (r != 0 || !is_one(t, 1))
		FAIL(&h->f, "read tgid of tid %d: %d", sib, r);
	pidtuple_free(t);
	t = NULL;
	r = pidtuple_of_pid(1, &t);
	if (r != 0 || !is_one(t, 1))
		FAIL(&h->f, "of_pid(1): %d", r);
	pidtuple_free(t);
	t = NULL;
	r = pidtuple_of_pid(sib, &t);
	if (r != -ESRCH)
		FAIL(&h->f, "of_pid(thread %d): %d, want -ESRCH", sib, r);
	pidtuple_free(t);
}

/* Checking: a free PID (only this thread ever uses it), and PIDs that threads hold. */
static void hammer_check(struct hammer *h, int w, pid_t free_pid)
{
	pid_t sib = h->tids[(w + 3) % HAMMER_THREADS];
	struct pidtuple *t = one(free_pid), *ts = one(sib), *t1 = one(1);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	int r;

	if ((r = pidtuple_check(t, NULL, &d)) != 0)
		FAIL(&h->f, "check free %d: %d %s", free_pid, r, d.message);
	if ((r = pidtuple_check_in(h->ctx, t, &d)) != 0)
		FAIL(&h->f, "check_in free %d: %d %s", free_pid, r, d.message);
	r = pidtuple_check_in(h->ctx, ts, &d);
	if (r != -EEXIST || d.rule != PIDTUPLE_RULE_PID_TAKEN || d.pid != sib)
		FAIL(&h->f, "check_in thread %d: %d rule %u pid %d", sib, r, d.rule, d.pid);
	r = pidtuple_check(t1, NULL, &d);
	if (r != -EEXIST || d.rule != PIDTUPLE_RULE_PID_TAKEN)
		FAIL(&h->f, "check 1: %d rule %u", r, d.rule);
	if (pidtuple_features() != h->features)
		FAIL(&h->f, "features changed: %#llx", (unsigned long long)pidtuple_features());
	pidtuple_free(t);
	pidtuple_free(ts);
	pidtuple_free(t1);
}

/* A plain fork: one level, or a new namespace whose init it is; the lock or the validator on
 * some iterations. The child's raw getpid() is the innermost PID. */
static void hammer_fork(struct hammer *h, int i, pid_t want)
{
	bool newpid = i % 4 == 3;
	pid_t pids[2] = { newpid ? 1 : want, want }, pid;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	struct pidtuple *t = NULL, *rt = NULL;
	int pidfd = -1, r;

	if (newpid)
		o.clone_flags = CLONE_NEWPID;
	o.flags = i % 5 == 1 ? PIDTUPLE_FORK_LOCK : i % 5 == 2 ? PIDTUPLE_FORK_CHECK : 0;
	if (pidtuple_from_inner(pids, newpid ? 2 : 1, &t) < 0) {
		FAIL(&h->f, "tuple");
		return;
	}
	pid = pidtuple_fork(t, &o, i % 2 ? &pidfd : NULL);
	if (pid == 0)
		_exit(th_raw_getpid() == pids[0] ? 0 : 1);
	if (pid != want) {
		FAIL(&h->f, "fork %d (newpid %d, flags %#llx): %d %s", want, newpid,
		     (unsigned long long)o.flags, pid, d.message);
		if (pid > 0)
			th_wait_status(pid);
		pidtuple_free(t);
		return;
	}
	if (pidfd >= 0) {
		/* Exited or not, the child is not reaped yet: its PIDs still read back. */
		r = pidtuple_of_pidfd(pidfd, &rt);
		if (r != 0 || pidtuple_equal(rt, t) != 1)
			FAIL(&h->f, "of_pidfd of %d: %d", want, r);
		pidtuple_free(rt);
		close(pidfd);
	} else if (i % 2) {
		FAIL(&h->f, "no pidfd for %d", want);
	}
	if ((r = th_wait_status(pid)) != 0)
		FAIL(&h->f, "fork child %d: status %d", want, r);
	pidtuple_free(t);
}

static void hammer_spawn(struct hammer *h, pid_t want)
{
	char *argv[] = { "true", NULL };
	struct pidtuple *t = one(want);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	pid_t pid = -1;
	int r;

	r = pidtuple_spawn(t, "/bin/true", argv, NULL, &o, &pid, NULL);
	if (r != 0 || pid != want)
		FAIL(&h->f, "spawn %d: %d pid %d %s", want, r, pid, d.message);
	if (r == 0 && (r = th_wait_status(pid)) != 0)
		FAIL(&h->f, "spawn child %d: status %d", want, r);
	pidtuple_free(t);
}

/* A live holder made by pidtuple_clone(), read and checked while it lives. */
static void hammer_clone(struct hammer *h, pid_t want)
{
	struct pidtuple *t = one(want), *rt = NULL;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	struct holder ho = { .want = want };
	int pipefd[2], pidfd = -1, r;
	pid_t pid = -1;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		FAIL(&h->f, "pipe: %s", strerror(errno));
		pidtuple_free(t);
		return;
	}
	ho.rfd = pipefd[0];
	r = pidtuple_clone(t, holder_fn, &ho, &o, &pid, &pidfd);
	if (r != 0 || pid != want || pidfd < 0) {
		FAIL(&h->f, "clone %d: %d pid %d %s", want, r, pid, d.message);
		goto out;
	}
	r = pidtuple_of_pid(want, &rt);
	if (r != 0 || !is_one(rt, want))
		FAIL(&h->f, "of_pid of holder %d: %d", want, r);
	pidtuple_free(rt);
	rt = NULL;
	r = pidtuple_read_pidfd(pidfd, PIDTUPLE_KIND_TGID, NULL, &rt);
	if (r != 0 || !is_one(rt, want))
		FAIL(&h->f, "read_pidfd of holder %d: %d", want, r);
	pidtuple_free(rt);
	r = pidtuple_check_in(h->ctx, t, &d);
	if (r != -EEXIST || d.rule != PIDTUPLE_RULE_PID_TAKEN)
		FAIL(&h->f, "check_in holder %d: %d rule %u", want, r, d.rule);
	/* A second fork of the held PID fails and leaves nothing behind. */
	r = pidtuple_fork(t, &o, NULL);
	if (r == 0)
		_exit(99);
	if (r != -EEXIST || d.rule != PIDTUPLE_RULE_PID_TAKEN)
		FAIL(&h->f, "fork of held %d: %d rule %u", want, r, d.rule);
	if (r > 0)
		th_wait_status(r);
out:
	if (write(pipefd[1], "g", 1) != 1)
		FAIL(&h->f, "release holder %d", want);
	if (pid > 0 && (r = th_wait_status(pid)) != 0)
		FAIL(&h->f, "holder %d: status %d", want, r);
	if (pidfd >= 0)
		close(pidfd);
	close(pipefd[0]);
	close(pipefd[1]);
	pidtuple_free(t);
}

static void *hammer_thread(void *p)
{
	struct hammer_arg *a = p;
	struct hammer *h = a->h;
	pid_t base = 1000 + a->worker * HAMMER_STRIDE;

	h->tids[a->worker] = th_raw_gettid();
	pthread_barrier_wait(&h->start);
	for (int i = 0; i < HAMMER_ITERS; i++) {
		pid_t want = base + 3 * i;

		hammer_read(h, a->worker);
		hammer_check(h, a->worker, want);
		hammer_fork(h, i, want);
		hammer_spawn(h, want + 1);
		hammer_clone(h, want + 2);
	}
	pthread_barrier_wait(&h->stop);
	return NULL;
}

static int hammer(void *arg)
{
	struct hammer h = { .f = { .said = ATOMIC_FLAG_INIT } };
	struct hammer_arg args[HAMMER_THREADS];
	pthread_t th[HAMMER_THREADS];

	(void)arg;
	h.features = pidtuple_features();
	TH_CHECK(h.features & PIDTUPLE_FEATURE_SET_TID, "no set_tid");
	TH_CHECK(pidtuple_nsctx_new(NULL, &h.ctx) == 0, "nsctx");
	pthread_barrier_init(&h.start, NULL, HAMMER_THREADS);
	pthread_barrier_init(&h.stop, NULL, HAMMER_THREADS);
	for (int i = 0; i < HAMMER_THREADS; i++) {
		args[i] = (struct hammer_arg){ .h = &h, .worker = i };
		TH_CHECK(pthread_create(&th[i], NULL, hammer_thread, &args[i]) == 0, "thread");
	}
	for (int i = 0; i < HAMMER_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&h.start);
	pthread_barrier_destroy(&h.stop);
	pidtuple_nsctx_free(h.ctx);
	TH_CHECK(h.f.count == 0, "%d failures", (int)h.f.count);
	return 0;
}

START_TEST(test_hammer)
{
	ck_assert_int_eq(th_in_pidns_leakfree(hammer, NULL), 0);
}
END_TEST

/* ---- threads racing for one PID: exactly one wins, the others are told it is taken ---- */

#define RACE_THREADS 6
#define RACE_ROUNDS 40

struct race {
	pthread_barrier_t go;
	atomic_int won[RACE_ROUNDS];
	struct failures f;
};

static void *race_thread(void *p)
{
	struct race *rc = p;

	for (int round = 0; round < RACE_ROUNDS; round++) {
		pid_t want = 5000 + round, pid = -1;
		struct pidtuple *t = one(want);
		PIDTUPLE_OPTS(pidtuple_diag, d);
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
		struct holder ho = { .want = want };
		int pipefd[2] = { -1, -1 }, r;

		if (pipe2(pipefd, O_CLOEXEC) < 0)
			FAIL(&rc->f, "pipe");
		ho.rfd = pipefd[0];
		pthread_barrier_wait(&rc->go);
		r = pidtuple_clone(t, holder_fn, &ho, &o, &pid, NULL);
		if (r == 0 && pid == want)
			atomic_fetch_add(&rc->won[round], 1);
		else if (r != -EEXIST || d.rule != PIDTUPLE_RULE_PID_TAKEN)
			FAIL(&rc->f, "round %d: %d rule %u %s", round, r, d.rule, d.message);
		/* The winner's holder keeps the PID until every thread has tried. */
		pthread_barrier_wait(&rc->go);
		if (r == 0) {
			if (write(pipefd[1], "g", 1) != 1)
				FAIL(&rc->f, "release");
			if ((r = th_wait_status(pid)) != 0)
				FAIL(&rc->f, "round %d holder: status %d", round, r);
		}
		close(pipefd[0]);
		close(pipefd[1]);
		pidtuple_free(t);
	}
	return NULL;
}

static int race_for_one_pid(void *arg)
{
	struct race rc = { .f = { .said = ATOMIC_FLAG_INIT } };
	pthread_t th[RACE_THREADS];

	(void)arg;
	pthread_barrier_init(&rc.go, NULL, RACE_THREADS);
	for (int i = 0; i < RACE_THREADS; i++)
		TH_CHECK(pthread_create(&th[i], NULL, race_thread, &rc) == 0, "thread");
	for (int i = 0; i < RACE_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&rc.go);
	for (int round = 0; round < RACE_ROUNDS; round++)
		TH_CHECK(rc.won[round] == 1, "round %d: %d winners", round, (int)rc.won[round]);
	TH_CHECK(rc.f.count == 0, "%d failures", (int)rc.f.count);
	return 0;
}

START_TEST(test_race_for_one_pid)
{
	ck_assert_int_eq(th_in_pidns_leakfree(race_for_one_pid, NULL), 0);
}
END_TEST

/* ---- forking while other threads hold malloc and stdio locks ---- */

#define NOISE_THREADS 2
#define FORKERS 2
#define PRESSURE_FORKS 255		     /* per forker: 510 children in all */
#define DEADLINE_NS (5 * 1000000000ll)	     /* blocked in futex() this long: deadlocked */
#define HARD_DEADLINE_NS (40 * 1000000000ll) /* any child: hung */

struct pressure {
	atomic_bool stop;
	FILE *sink; /* shared: its lock is taken by every noise thread */
	atomic_long mallocs, prints;
	/* What each forker is creating now and since when; 0 when idle. */
	_Atomic pid_t busy[FORKERS];
	_Atomic long long since[FORKERS];
	atomic_int killed;
	struct failures f;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void *noise_thread(void *p)
{
	struct pressure *pr = p;
	unsigned int seed = (unsigned int)th_raw_gettid();
	char *ring[64] = { 0 };

	while (!pr->stop) {
		/* Mostly above the tcache's sizes, so every call takes the arena lock; frees in
		 * random order, so some consolidate and hold it longer. */
		for (int i = 0; i < 16; i++) {
			unsigned int slot = (unsigned int)rand_r(&seed) % 64;
			size_t sz = rand_r(&seed) % 4 ? 1100 + (size_t)rand_r(&seed) % 3000
						      : 16 + (size_t)rand_r(&seed) % 1000;

			free(ring[slot]);
			ring[slot] = malloc(sz);
		}
		atomic_fetch_add(&pr->mallocs, 16);
		fprintf(pr->sink, "%u %g %s\n", seed, seed / 3.0, "noise");
		if (seed % 8 == 0)
			fflush(pr->sink);
		atomic_fetch_add(&pr->prints, 1);
	}
	for (int i = 0; i < 64; i++)
		free(ring[i]);
	return NULL;
}

/* The system call @pid is blocked in, from /proc/PID/syscall; -1 when running or unknown. */
static long blocked_in(pid_t pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/*
 * Kills a child that has not exited in time. The children never call futex(): one blocked
 * there for DEADLINE_NS waits for a lock whose owner (another thread of the parent) does not
 * exist in it, a deadlock. Any child still there after HARD_DEADLINE_NS is hung. A slow
 * machine alone makes neither.
 */
static void *watchdog_thread(void *p)
{
	struct pressure *pr = p;
	struct timespec tick = { 0, 20 * 1000000 };

	while (!pr->stop) {
		for (int k = 0; k < FORKERS; k++) {
			pid_t pid = pr->busy[k];
			long long age = now_ns() - pr->since[k];

			if (pid <= 0 || age < DEADLINE_NS)
				continue;
			if (blocked_in(pid) != SYS_futex && age < HARD_DEADLINE_NS)
				continue;
			kill(pid, SIGKILL);
			atomic_fetch_add(&pr->killed, 1);
			pr->since[k] = now_ns();
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static int as_safe_child(void *p)
{
	pid_t want = (pid_t)(intptr_t)p;
	sigset_t set;

	/* Only async-signal-safe calls: no malloc, no stdio, no locks. */
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	return th_raw_getpid() == want && getppid() == 1 ? 0 : 1;
}

struct forker_arg {
	struct pressure *pr;
	int k;
};

static void *forker_thread(void *p)
{
	struct forker_arg *a = p;
	struct pressure *pr = a->pr;
	char *argv[] = { "true", NULL };

	for (int i = 0; i < PRESSURE_FORKS; i++) {
		pid_t want = 20000 + a->k * 1000 + i, pid = -1;
		struct pidtuple *t = one(want);
		PIDTUPLE_OPTS(pidtuple_diag, d);
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
		int r = 0;

		pr->since[a->k] = now_ns();
		pr->busy[a->k] = want;
		switch (i % 3) {
		case 0:
			pid = pidtuple_fork(t, &o, NULL);
			if (pid == 0)
				_exit(as_safe_child((void *)(intptr_t)want));
			r = pid < 0 ? pid : 0;
			break;
		case 1:
			r = pidtuple_spawn(t, "/bin/true", argv, NULL, &o, &pid, NULL);
			break;
		default:
			r = pidtuple_clone(t, as_safe_child, (void *)(intptr_t)want, &o, &pid,
					   NULL);
			break;
		}
		if (r != 0 || pid != want)
			FAIL(&pr->f, "mode %d, %d: %d pid %d %s", i % 3, want, r, pid, d.message);
		else if ((r = th_wait_status(pid)) != 0)
			FAIL(&pr->f, "mode %d, child %d: status %d%s", i % 3, want, r,
			     r == 128 + SIGKILL ? " (killed by the watchdog: deadlock)" : "");
		pr->busy[a->k] = 0;
		pidtuple_free(t);
	}
	return NULL;
}

static int fork_under_lock_pressure(void *arg)
{
	struct pressure pr = { .f = { .said = ATOMIC_FLAG_INIT } };
	struct forker_arg fa[FORKERS];
	pthread_t noise[NOISE_THREADS], fk[FORKERS], wd;

	(void)arg;
	/* /proc of this namespace, so the watchdog finds the children by their PIDs (before
	 * any thread: a multithreaded process cannot unshare its mount namespace). */
	TH_CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	TH_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "private");
	TH_CHECK(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0,
		 "mount /proc: %s", strerror(errno));
	/* One arena for every thread: its lock is the one a child's malloc() would need. */
	mallopt(M_ARENA_MAX, 1);
	pr.sink = fopen("/dev/null", "we");
	TH_CHECK(pr.sink, "fopen");
	for (int i = 0; i < NOISE_THREADS; i++)
		TH_CHECK(pthread_create(&noise[i], NULL, noise_thread, &pr) == 0, "noise");
	TH_CHECK(pthread_create(&wd, NULL, watchdog_thread, &pr) == 0, "watchdog");
	for (int k = 0; k < FORKERS; k++) {
		fa[k] = (struct forker_arg){ .pr = &pr, .k = k };
		TH_CHECK(pthread_create(&fk[k], NULL, forker_thread, &fa[k]) == 0, "forker");
	}
	for (int k = 0; k < FORKERS; k++)
		pthread_join(fk[k], NULL);
	pr.stop = true;
	for (int i = 0; i < NOISE_THREADS; i++)
		pthread_join(noise[i], NULL);
	pthread_join(wd, NULL);
	fclose(pr.sink);
	fprintf(stderr, "lock pressure: %d children, %ld mallocs, %ld prints, %d deadlocks\n",
		FORKERS * PRESSURE_FORKS, (long)pr.mallocs, (long)pr.prints, (int)pr.killed);
	TH_CHECK(pr.mallocs > 0 && pr.prints > 0, "the noise threads did nothing");
	TH_CHECK(pr.killed == 0, "%d children deadlocked", (int)pr.killed);
	TH_CHECK(pr.f.count == 0, "%d failures", (int)pr.f.count);
	return 0;
}

START_TEST(test_fork_under_lock_pressure)
{
	ck_assert_int_eq(th_in_pidns_leakfree(fork_under_lock_pressure, NULL), 0);
}
END_TEST

/* ---- a spawn does not wait for children that other threads fork meanwhile ---- */

#define BYSTANDER_LIFE_MS 2000

/* Another thread of the process that forks on request; its child lives a while without
 * executing anything, holding copies of every descriptor the process had. */
struct bystander {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int state; /* 0 idle, 1 asked to fork, 2 forked, 3 quit */
	pid_t pid;
};

static void *bystander_thread(void *p)
{
	struct bystander *b = p;

	pthread_mutex_lock(&b->m);
	for (;;) {
		while (b->state == 0 || b->state == 2)
			pthread_cond_wait(&b->cv, &b->m);
		if (b->state == 3)
			break;
		b->pid = fork();
		if (b->pid == 0) {
			struct timespec life = { BYSTANDER_LIFE_MS / 1000, 0 };

			nanosleep(&life, NULL);
			_exit(0);
		}
		b->state = 2;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->m);
	return NULL;
}

/* The embedder's lock runs inside pidtuple_spawn(), after its descriptors exist and before
 * the clone: the moment another thread's fork() would make a copy of them. */
static int fork_elsewhere_now(void *p)
{
	struct bystander *b = p;

	pthread_mutex_lock(&b->m);
	b->state = 1;
	pthread_cond_broadcast(&b->cv);
	while (b->state != 2)
		pthread_cond_wait(&b->cv, &b->m);
	pthread_mutex_unlock(&b->m);
	return 0;
}

static void no_unlock(void *p)
{
	(void)p;
}

static int spawn_beside_a_fork(void *arg)
{
	struct bystander b = { .m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	char *argv[] = { "true", NULL };
	struct pidtuple *t = one(7000);
	PIDTUPLE_OPTS(pidtuple_diag, d);
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d, .flags = PIDTUPLE_FORK_LOCK,
		      .lock = fork_elsewhere_now, .unlock = no_unlock, .lock_arg = &b);
	long long t0, ms;
	pthread_t th;
	pid_t pid = -1;
	int r;

	(void)arg;
	TH_CHECK(pthread_create(&th, NULL, bystander_thread, &b) == 0, "thread");
	t0 = now_ns();
	r = pidtuple_spawn(t, "/bin/true", argv, NULL, &o, &pid, NULL);
	ms = (now_ns() - t0) / 1000000;
	pthread_mutex_lock(&b.m);
	b.state = 3;
	pthread_cond_broadcast(&b.cv);
	pthread_mutex_unlock(&b.m);
	pthread_join(th, NULL);
	if (b.pid > 0) {
		kill(b.pid, SIGKILL);
		th_wait_status(b.pid);
	}
	pidtuple_free(t);
	TH_CHECK(r == 0 && pid == 7000, "spawn: %d pid %d %s", r, pid, d.message);
	TH_CHECK(th_wait_status(pid) == 0, "spawned child");
	TH_CHECK(b.pid > 0, "the other thread did not fork");
	/* /bin/true was executed at once; only the other thread's child kept the spawn's
	 * exec-report pipe open. */
	TH_CHECK(ms < BYSTANDER_LIFE_MS / 2,
		 "pidtuple_spawn() took %lld ms: it waited for a child another thread forked "
		 "meanwhile (that child holds its exec-report pipe)",
		 ms);
	return 0;
}

START_TEST(test_spawn_beside_a_fork)
{
	ck_assert_int_eq(th_in_pidns_leakfree(spawn_beside_a_fork, NULL), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("concurrency");
	TCase *tc = tcase_create("threads");

	th_require_privilege();
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hammer);
	tcase_add_test(tc, test_race_for_one_pid);
	tcase_add_test(tc, test_fork_under_lock_pressure);
	tcase_add_test(tc, test_spawn_beside_a_fork);
	suite_add_tcase(s, tc);
	return th_run_suite(s);
}
