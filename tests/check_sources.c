/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_read() and pidtuple_read_pidfd(): every source (status, fdinfo, nsfs, auto) gives
 * the same TID, TGID, PGID and SID tuples, at 1, 2 and 3 levels, for processes and for threads
 * that are not their group's leader, for groups and sessions led from an outer namespace (0
 * where the leader is not visible), translated into a given namespace fd, with /proc of an
 * outer namespace and with our own. Also on a kernel without the nsfs ioctls, simulated with a
 * seccomp filter (the suite re-executes itself under it), where auto must fall back.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SENTINEL ((struct pidtuple *)(uintptr_t)0x5e5e5e5e)
#define NS_GET_PARENT_IOC 0xb702
#define PIDFD_THREAD_FLAG O_EXCL
#define MAXT 32

TH_LSAN_EXPLICIT_ONLY

/* What this kernel (or the seccomp filter of a re-executed run) lacks: the expectations
 * follow, so the suite also runs on old kernels (scripts/kmatrix.sh boots 6.1). */
static bool no_nsfs, no_getinfo, no_thread_pidfd;

static void detect(void)
{
	uint64_t f = pidtuple_features();
	int fd = th_pidfd_open(getpid(), O_EXCL);

	no_nsfs = !(f & PIDTUPLE_FEATURE_NS_PID_IOCTLS);
	no_getinfo = !(f & PIDTUPLE_FEATURE_PIDFD_GET_INFO);
	no_thread_pidfd = fd < 0 && errno == EINVAL;
	if (fd >= 0)
		close(fd);
}

static const char *const source_name[] = { "auto", "status", "fdinfo", "nsfs" };
static const char *const kind_name[] = { "tid", "tgid", "pgid", "sid" };

/* ---- the reference: status lines read by hand ----------------------------------------- */

/* Parses one id line ("NSpid:" etc.) of a status text into @out; entries or -1. */
static int status_line(const char *text, const char *label, pid_t *out, int cap)
{
	const char *p = strstr(text, label);
	int n = 0;

	if (!p)
		return -1;
	p += strlen(label);
	while (*p && *p != '\n') {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (n < cap)
			out[n++] = (pid_t)v;
		p = end;
	}
	return n;
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

/* Levels /proc shows above our namespace. */
static int proc_above(void)
{
	char buf[4096];
	pid_t v[40];

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return -1;
	return status_line(buf, "\nNSpid:", v, 40) - 1;
}

/* Whether the task of status text @st lives in our namespace (not only has, at our level, a
 * number of ours: so may a task of another namespace at our depth): its group, opened by the
 * number NStgid gives it at our level, must have the /proc number of its Tgid line. */
static bool in_our_ns(const char *st, int above)
{
	char path[64], buf[4096];
	pid_t tg[40], tgid, o[1];
	int fd;

	if (status_line(st, "\nNStgid:", tg, 40) <= above || status_line(st, "\nTgid:", o, 1) != 1)
		return false;
	tgid = o[0];
	fd = th_pidfd_open(tg[above], 0);
	if (fd < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_file(path, buf, sizeof(buf)) < 0 || status_line(buf, "\nPid:", o, 1) != 1)
		o[0] = -1;
	close(fd);
	return o[0] == tgid;
}

/* The /proc number of thread @a (numbered in our namespace): from its thread pidfd, else
 * (no PIDFD_THREAD) by searching every task's status. */
static pid_t proc_nr(pid_t a)
{
	char path[600], buf[4096];
	pid_t v[40];
	int fd = th_pidfd_open(a, PIDFD_THREAD_FLAG), n, above = proc_above();
	DIR *procs;
	struct dirent *pe;

	if (fd < 0 && errno == EINVAL)
		fd = th_pidfd_open(a, 0);
	if (fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		n = read_file(path, buf, sizeof(buf));
		close(fd);
		if (n < 0 || status_line(buf, "\nPid:", v, 40) != 1)
			return -1;
		return v[0];
	}
	procs = opendir("/proc");
	while (procs && (pe = readdir(procs))) {
		DIR *tasks;
		struct dirent *te;

		if (atoi(pe->d_name) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", pe->d_name);
		tasks = opendir(path);
		while (tasks && (te = readdir(tasks))) {
			snprintf(path, sizeof(path), "/proc/%s/task/%s/status", pe->d_name,
				 te->d_name);
			if (atoi(te->d_name) > 0 && read_file(path, buf, sizeof(buf)) > 0 &&
			    status_line(buf, "\nNSpid:", v, 40) > above && v[above] == a &&
			    in_our_ns(buf, above)) {
				pid_t o = (pid_t)atoi(te->d_name);

				closedir(tasks);
				closedir(procs);
				return o;
			}
		}
		if (tasks)
			closedir(tasks);
	}
	if (procs)
		closedir(procs);
	return -1;
}

/* The reference tuple of thread @a: its status line for @kind, from @skip levels below ours.
 * Writes the text form to @want; returns the number of levels (0: none at or below). */
static int ref_tuple(pid_t a, unsigned int kind, int skip, char *want, size_t size)
{
	static const char *const label[] = { "\nNSpid:", "\nNStgid:", "\nNSpgid:", "\nNSsid:" };
	char path[96], buf[4096];
	pid_t v[40];
	int above = proc_above(), n, len = 0;
	pid_t o = proc_nr(a);

	if (above < 0 || o < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)o, (int)o);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	n = status_line(buf, label[kind], v, 40);
	want[0] = '\0';
	for (int i = above + skip; i < n; i++)
		len += snprintf(want + len, size - (size_t)len, i == above + skip ? "%d" : "/%d",
				(int)v[i]);
	return n - above - skip > 0 ? n - above - skip : 0;
}

/* The threads of process @a other than its leader, numbered in our namespace. */
static int list_threads(pid_t a, pid_t *out, int cap)
{
	char path[96], buf[4096];
	int above = proc_above(), n = 0;
	pid_t o = proc_nr(a);
	FILE *f;

	snprintf(path, sizeof(path), "ls /proc/%d/task", (int)o);
	f = popen(path, "re");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f)) {
		pid_t t = (pid_t)atoi(buf), v[40];
		char st[4096];

		if (t == o)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)o, (int)t);
		if (read_file(path, st, sizeof(st)) < 0 ||
		    status_line(st, "\nNSpid:", v, 40) <= above)
			continue;
		if (n < cap)
			out[n++] = v[above];
	}
	pclose(f);
	return n;
}

/* ---- the world: processes at chosen tuples, threads, groups and sessions -------------- */

static int thread_main(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

/* A thread made with a raw clone(): pthreads are not reliable in a pidtuple_clone() child. */
static int start_thread(void)
{
	size_t sz = 64 * 1024;
	char *stk = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
			 -1, 0);

	if (stk == MAP_FAILED)
		return -1;
	return clone(thread_main, stk + sz,
		     CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			     CLONE_SYSVSEM,
		     NULL);
}

struct pspec {
	const char *tuple;
	int nsfd; /* setns() into it before forking this one; -1: ours */
	bool setsid, thread;
	struct pspec *sub; /* forked by this process, from its namespace's view */
	int nsub;
};

struct world {
	int ready[2], hold[2];
	int self_ns, ns1, ns2, ns1b;
	pid_t holder, holder_b;
	pid_t pids[8]; /* processes, in our namespace */
	int npids;
	pid_t tids[MAXT]; /* threads other than leaders */
	int ntids;
	int pidfds[8];
};

static struct world W;

static int proc_fn(void *p)
{
	const struct pspec *s = p;
	char c;

	close(W.hold[1]);
	close(W.ready[0]);
	if (s->setsid && setsid() < 0)
		return 1;
	if (s->thread && start_thread() < 0)
		return 2;
	for (int i = 0; i < s->nsub; i++) {
		struct pidtuple *t = NULL;
		pid_t pid;

		if (setns(s->sub[i].nsfd, CLONE_NEWPID) < 0 ||
		    pidtuple_parse(s->sub[i].tuple, &t, NULL) < 0)
			return 3;
		pid = pidtuple_fork(t, NULL, NULL);
		if (pid == 0)
			_exit(proc_fn(&s->sub[i]));
		if (pid < 0)
			return 4;
	}
	(void)!write(W.ready[1], "x", 1);
	while (read(W.hold[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

/* Forks @s (and what it forks); returns the number of processes made or -1. */
static int world_fork(struct pspec *s)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, 0);
	struct pidtuple *t = NULL;
	pid_t pid = 0;
	int fd = -1, r;

	if (pidtuple_parse(s->tuple, &t, NULL) < 0)
		return -1;
	if (s->nsfd >= 0 && setns(s->nsfd, CLONE_NEWPID) < 0)
		return -1;
	r = pidtuple_clone(t, proc_fn, s, &o, &pid, &fd);
	pidtuple_free(t);
	if (setns(W.self_ns, CLONE_NEWPID) < 0 || r < 0) {
		fprintf(stderr, "clone %s: %s\n", s->tuple, pidtuple_strerror(r));
		return -1;
	}
	W.pidfds[W.npids] = fd;
	W.pids[W.npids++] = pid;
	return 1 + s->nsub;
}

/* Our namespace A; ns1 below it and ns2 below ns1; ns1b beside ns1. */
static int world_build(void)
{
	static struct pspec subs[2], specs[5];
	int made = 0, r;
	char c;

	memset(&W, 0, sizeof(W));
	W.self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	TH_CHECK(W.self_ns >= 0, "own ns: %m");
	W.holder = th_make_nested_ns(2, NULL, &W.ns2);
	TH_CHECK(W.holder > 0, "nested ns: %s", pidtuple_strerror(W.holder));
	W.ns1 = ioctl(W.ns2, NS_GET_PARENT_IOC);
	TH_CHECK(W.ns1 >= 0, "NS_GET_PARENT: %m");
	W.holder_b = th_make_nested_ns(1, NULL, &W.ns1b);
	TH_CHECK(W.holder_b > 0, "nested ns b: %s", pidtuple_strerror(W.holder_b));
	TH_CHECK(pipe2(W.ready, O_CLOEXEC) == 0 && pipe2(W.hold, O_CLOEXEC) == 0, "pipe: %m");

	/* L leads a session in our namespace and forks M into ns1 and M2 into ns2: their group
	 * and session leader is not visible there. */
	subs[0] = (struct pspec){ "711/44", W.ns1, false, true, NULL, 0 };
	subs[1] = (struct pspec){ "712/45/46", W.ns2, false, false, NULL, 0 };
	specs[0] = (struct pspec){ "701", -1, true, false, NULL, 0 };
	specs[1] = (struct pspec){ "702/41", W.ns1, false, true, NULL, 0 };
	specs[2] = (struct pspec){ "703/42/43", W.ns2, true, true, NULL, 0 };
	specs[3] = (struct pspec){ "710", -1, true, false, subs, 2 };
	specs[4] = (struct pspec){ "720/47", W.ns1b, false, false, NULL, 0 };
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
		r = world_fork(&specs[i]);
		TH_CHECK(r > 0, "forking %s", specs[i].tuple);
		made += r;
	}
	for (int i = 0; i < made; i++)
		TH_CHECK(read(W.ready[0], &c, 1) == 1, "a process did not start");
	W.pids[W.npids] = 711;
	W.pidfds[W.npids++] = th_pidfd_open(711, 0);
	W.pids[W.npids] = 712;
	W.pidfds[W.npids++] = th_pidfd_open(712, 0);
	for (int i = 0; i < W.npids; i++) {
		r = list_threads(W.pids[i], W.tids + W.ntids, MAXT - W.ntids);
		TH_CHECK(r >= 0, "threads of %d", (int)W.pids[i]);
		W.ntids += r;
	}
	TH_CHECK(W.ntids == 3, "%d threads", W.ntids);
	return 0;
}

static int world_destroy(void)
{
	close(W.hold[1]);
	close(W.hold[0]);
	close(W.ready[0]);
	close(W.ready[1]);
	for (int i = 0; i < W.npids; i++)
		close(W.pidfds[i]);
	close(W.ns1);
	close(W.ns2);
	close(W.ns1b);
	close(W.self_ns);
	kill(W.holder, SIGKILL);
	kill(W.holder_b, SIGKILL);
	th_kill_children();
	return 0;
}

/* ---- comparing ---------------------------------------------------------------------- */

static bool is_thread(pid_t id)
{
	for (int i = 0; i < W.ntids; i++)
		if (W.tids[i] == id)
			return true;
	return false;
}

/* Reads @id's @kind with @source (and @nsfd when >= 0) and compares with the reference. */
static int check_one(pid_t id, unsigned int kind, unsigned int source, int nsfd, int skip)
{
	PIDTUPLE_OPTS(pidtuple_read_opts, o, .source = source,
		      .flags = nsfd >= 0 ? PIDTUPLE_READ_NS_FD : 0, .ns_fd = nsfd);
	struct pidtuple *t = SENTINEL;
	char want[256], got[256] = "";
	int levels = ref_tuple(id, kind, skip, want, sizeof(want)), r;
	bool no_fdinfo = source == PIDTUPLE_SOURCE_FDINFO &&
			 (kind >= PIDTUPLE_KIND_PGID ||
			  /* a thread's group leader needs PIDFD_GET_INFO; the thread itself,
			   * PIDFD_THREAD */
			  (no_getinfo && is_thread(id) && kind == PIDTUPLE_KIND_TGID) ||
			  (no_thread_pidfd && is_thread(id)));

	TH_CHECK(levels >= 0, "no reference for %d", (int)id);
	r = pidtuple_read(id, kind, &o, &t);
	if (r == 0)
		pidtuple_format(t, got, sizeof(got));
	if (source == PIDTUPLE_SOURCE_NSFS && no_nsfs) {
		TH_CHECK(r == -EOPNOTSUPP, "nsfs without the ioctls: %d", r);
		return 0;
	}
	if (no_fdinfo) {
		TH_CHECK(r == -EOPNOTSUPP, "%d %s via fdinfo: %d %s", (int)id, kind_name[kind], r,
			 got);
		return 0;
	}
	if (levels == 0) {
		TH_CHECK(r == -ESRCH, "%d %s via %s, ns skip %d: %d %s, want ESRCH", (int)id,
			 kind_name[kind], source_name[source], skip, r, got);
		TH_CHECK(t == SENTINEL, "out-parameter written on failure");
		return 0;
	}
	TH_CHECK(r == 0, "%d %s via %s, ns skip %d: %s", (int)id, kind_name[kind],
		 source_name[source], skip, pidtuple_strerror(r));
	TH_CHECK(strcmp(got, want) == 0, "%d %s via %s, ns skip %d: %s, want %s", (int)id,
		 kind_name[kind], source_name[source], skip, got, want);
	pidtuple_free(t);
	return 0;
}

static int check_all_sources(pid_t id)
{
	const int nsfds[] = { -1, W.ns1, W.ns2, W.ns1b };
	const int skips[] = { 0, 1, 2, 1 };

	for (unsigned int kind = 0; kind <= PIDTUPLE_KIND_SID; kind++)
		for (unsigned int src = 0; src <= PIDTUPLE_SOURCE_NSFS; src++)
			for (size_t n = 0; n < ARRAY_SIZE(nsfds); n++) {
				int skip = skips[n], r;

				/* A process outside N's subtree: ESRCH, whatever its depth. */
				if (n == 3 && id != 720)
					skip = 40;
				if (n == 1 && id == 720)
					skip = 40;
				if (n == 2 && id == 720)
					skip = 40;
				r = check_one(id, kind, src, nsfds[n], skip);
				if (r)
					return r;
			}
	return 0;
}

/* Literal expectations, independent of the reference. */
static int expect(pid_t id, unsigned int kind, int nsfd, const char *want)
{
	PIDTUPLE_OPTS(pidtuple_read_opts, o, .flags = nsfd >= 0 ? PIDTUPLE_READ_NS_FD : 0,
		      .ns_fd = nsfd);
	struct pidtuple *t = NULL;
	char got[256];
	int r = pidtuple_read(id, kind, &o, &t);

	TH_CHECK(r == 0, "%d %s: %s", (int)id, kind_name[kind], pidtuple_strerror(r));
	pidtuple_format(t, got, sizeof(got));
	pidtuple_free(t);
	TH_CHECK(strcmp(got, want) == 0, "%d %s: %s, want %s", (int)id, kind_name[kind], got, want);
	return 0;
}

static int sources_body(void *p)
{
	bool own_proc = *(bool *)p;

	if (own_proc)
		TH_CHECK(th_mount_own_proc() == 0, "mounting /proc: %m");
	TH_CHECK(proc_above() == (own_proc ? 0 : 1), "/proc shows %d levels above", proc_above());
	if (world_build())
		return 1;
	for (int i = 0; i < W.npids; i++)
		if (check_all_sources(W.pids[i]))
			return 1;
	for (int i = 0; i < W.ntids; i++)
		if (check_all_sources(W.tids[i]))
			return 1;
	if (check_all_sources(getpid()))
		return 1;

	/* What the tuples must be, by construction. */
	if (expect(701, PIDTUPLE_KIND_TGID, -1, "701") ||
	    expect(701, PIDTUPLE_KIND_SID, -1, "701") ||
	    expect(702, PIDTUPLE_KIND_TGID, -1, "702/41") ||
	    expect(702, PIDTUPLE_KIND_SID, -1, "0/0") ||
	    expect(703, PIDTUPLE_KIND_TGID, -1, "703/42/43") ||
	    expect(703, PIDTUPLE_KIND_SID, -1, "703/42/43") ||
	    expect(703, PIDTUPLE_KIND_PGID, -1, "703/42/43") ||
	    expect(711, PIDTUPLE_KIND_SID, -1, "710/0") ||
	    expect(711, PIDTUPLE_KIND_PGID, -1, "710/0") ||
	    expect(712, PIDTUPLE_KIND_SID, -1, "710/0/0") ||
	    expect(712, PIDTUPLE_KIND_TGID, W.ns1, "45/46") ||
	    expect(712, PIDTUPLE_KIND_SID, W.ns1, "0/0") ||
	    expect(703, PIDTUPLE_KIND_SID, W.ns2, "43") ||
	    expect(720, PIDTUPLE_KIND_TGID, W.ns1b, "47"))
		return 1;
	/* A thread's own ids differ from its group's. */
	for (int i = 0; i < W.ntids; i++) {
		struct pidtuple *a = NULL, *b = NULL;

		TH_CHECK(pidtuple_read(W.tids[i], PIDTUPLE_KIND_TID, NULL, &a) == 0 &&
				 pidtuple_read(W.tids[i], PIDTUPLE_KIND_TGID, NULL, &b) == 0,
			 "thread %d", (int)W.tids[i]);
		TH_CHECK(pidtuple_equal(a, b) == 0, "thread %d: TID tuple equals TGID tuple",
			 (int)W.tids[i]);
		TH_CHECK(pidtuple_levels(a) == pidtuple_levels(b), "levels differ");
		pidtuple_free(a);
		pidtuple_free(b);
	}

	/* By pidfd: process pidfds, thread pidfds. */
	for (int i = 0; i < W.npids + W.ntids; i++) {
		pid_t id = i < W.npids ? W.pids[i] : W.tids[i - W.npids];
		int fd = i < W.npids ? W.pidfds[i] : th_pidfd_open(id, PIDFD_THREAD_FLAG);

		if (fd < 0 && no_thread_pidfd)
			continue;
		TH_CHECK(fd >= 0, "pidfd of %d: %m", (int)id);
		for (unsigned int kind = 0; kind <= PIDTUPLE_KIND_SID; kind++) {
			struct pidtuple *a = NULL, *b = NULL;
			int r1 = pidtuple_read(id, kind, NULL, &a);
			int r2 = pidtuple_read_pidfd(fd, kind, NULL, &b);

			TH_CHECK(r1 == 0 && r2 == 0, "%d %s: %d by id, %d by pidfd", (int)id,
				 kind_name[kind], r1, r2);
			TH_CHECK(pidtuple_equal(a, b) == 1, "%d %s: by id and by pidfd differ",
				 (int)id, kind_name[kind]);
			pidtuple_free(a);
			pidtuple_free(b);
		}
		if (i >= W.npids)
			close(fd);
	}
	return world_destroy();
}

START_TEST(test_sources_agree)
{
	bool own_proc = _i;

	ck_assert_msg(th_in_pidns_leakfree(sources_body, &own_proc) == 0, "/proc %s",
		      own_proc ? "own" : "outer");
}
END_TEST

/* ---- zombies and reaped processes ----------------------------------------------------- */

static int zombie_body(void *p)
{
	struct pidtuple *t = NULL;
	siginfo_t si;
	pid_t pid;
	int pidfd = -1, holder, ns2, self_ns;

	(void)p;
	self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	holder = th_make_nested_ns(2, NULL, &ns2);
	TH_CHECK(holder > 0 && self_ns >= 0, "nested ns");
	TH_CHECK(setns(ns2, CLONE_NEWPID) == 0, "setns: %m");
	TH_CHECK(pidtuple_parse("731/51/52", &t, NULL) == 0, "parse");
	pid = pidtuple_fork(t, NULL, &pidfd);
	if (pid == 0)
		_exit(0);
	pidtuple_free(t);
	TH_CHECK(setns(self_ns, CLONE_NEWPID) == 0, "setns back: %m");
	TH_CHECK(pid == 731, "fork: %d", (int)pid);
	memset(&si, 0, sizeof(si));
	TH_CHECK(waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOWAIT) == 0, "waitid: %m");
	for (unsigned int kind = 0; kind <= PIDTUPLE_KIND_SID; kind++)
		for (unsigned int src = 0; src <= PIDTUPLE_SOURCE_NSFS; src++)
			if (check_one(pid, kind, src, -1, 0))
				return 1;
	TH_CHECK(waitpid(pid, NULL, 0) == pid, "waitpid: %m");
	for (unsigned int kind = 0; kind <= PIDTUPLE_KIND_SID; kind++)
		for (unsigned int src = 0; src <= PIDTUPLE_SOURCE_NSFS; src++) {
			PIDTUPLE_OPTS(pidtuple_read_opts, o, .source = src);
			int r;

			t = SENTINEL;
			r = pidtuple_read(pid, kind, &o, &t);
			TH_CHECK(r == -ESRCH ||
					 (r == -EOPNOTSUPP && (src == 2 || (src == 3 && no_nsfs))),
				 "reaped, %s via %s: %d", kind_name[kind], source_name[src], r);
			r = pidtuple_read_pidfd(pidfd, kind, &o, &t);
			TH_CHECK(r == -ESRCH, "reaped by pidfd, %s via %s: %d", kind_name[kind],
				 source_name[src], r);
			TH_CHECK(t == SENTINEL, "out-parameter written on failure");
		}
	close(pidfd);
	close(ns2);
	close(self_ns);
	kill(holder, SIGKILL);
	th_kill_children();
	return 0;
}

START_TEST(test_zombie_and_reaped)
{
	ck_assert_int_eq(th_in_pidns_leakfree(zombie_body, NULL), 0);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------- */

static int bad_input_body(void *p)
{
	struct pidtuple *t = SENTINEL;
	int pfd[2], fd, netns;

	(void)p;
	TH_CHECK(pidtuple_read(0, 0, NULL, &t) == -EINVAL, "id 0");
	TH_CHECK(pidtuple_read(-5, 0, NULL, &t) == -EINVAL, "id -5");
	TH_CHECK(pidtuple_read(1, 4, NULL, &t) == -EINVAL, "kind 4");
	TH_CHECK(pidtuple_read(1, 0, NULL, NULL) == -EINVAL, "NULL ret");
	TH_CHECK(pidtuple_read(30000, 0, NULL, &t) == -ESRCH, "no such id");
	for (unsigned int src = 0; src <= PIDTUPLE_SOURCE_NSFS; src++) {
		PIDTUPLE_OPTS(pidtuple_read_opts, o, .source = src);
		int r = pidtuple_read(30000, PIDTUPLE_KIND_TGID, &o, &t);

		TH_CHECK(r == -ESRCH || (r == -EOPNOTSUPP && no_nsfs && src == 3),
			 "no such id via %s: %d", source_name[src], r);
	}
	{
		PIDTUPLE_OPTS(pidtuple_read_opts, o, .source = 4);

		TH_CHECK(pidtuple_read(1, 0, &o, &t) == -EINVAL, "source 4");
	}
	{
		PIDTUPLE_OPTS(pidtuple_read_opts, o, .flags = 1ull << 5);

		TH_CHECK(pidtuple_read(1, 0, &o, &t) == -EINVAL, "unknown flag");
	}
	{
		struct {
			struct pidtuple_read_opts o;
			uint64_t tail;
		} big = { .o = { .sz = sizeof(big) }, .tail = 1 };

		TH_CHECK(pidtuple_read(1, 0, &big.o, &t) == -E2BIG, "tail set");
		big.tail = 0;
		TH_CHECK(pidtuple_read(1, 0, &big.o, &t) == 0, "zero tail");
		pidtuple_free(t);
		t = SENTINEL;
	}
	{
		struct pidtuple_read_opts o = { .sz = 4 };

		TH_CHECK(pidtuple_read(1, 0, &o, &t) == -EINVAL, "sz 4");
	}
	TH_CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe");
	netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	{
		const int bad[] = { pfd[0], netns, -1, 100000 };

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			PIDTUPLE_OPTS(pidtuple_read_opts, o, .flags = PIDTUPLE_READ_NS_FD,
				      .ns_fd = bad[i]);

			TH_CHECK(pidtuple_read(1, 0, &o, &t) == -EINVAL, "bad ns_fd #%zu", i);
		}
	}
	TH_CHECK(pidtuple_read_pidfd(pfd[0], 0, NULL, &t) == -EBADF, "pipe as pidfd");
	TH_CHECK(pidtuple_read_pidfd(-1, 0, NULL, &t) == -EBADF, "pidfd -1");
	TH_CHECK(pidtuple_read_pidfd(netns, 0, NULL, &t) == -EBADF, "ns fd as pidfd");
	fd = th_pidfd_open(getpid(), 0);
	TH_CHECK(pidtuple_read_pidfd(fd, 9, NULL, &t) == -EINVAL, "kind 9 by pidfd");
	TH_CHECK(pidtuple_read_pidfd(fd, 0, NULL, NULL) == -EINVAL, "NULL ret by pidfd");
	close(fd);
	close(netns);
	close(pfd[0]);
	close(pfd[1]);
	TH_CHECK(t == SENTINEL, "out-parameter written on failure");
	return 0;
}

START_TEST(test_bad_input)
{
	ck_assert_int_eq(th_in_pidns_leakfree(bad_input_body, NULL), 0);
}
END_TEST

/* ---- a kernel without the ioctls ------------------------------------------------------ */

/*
 * The filter answers ENOTTY to the nsfs PID translations, PIDFD_GET_PID_NAMESPACE and
 * PIDFD_GET_INFO, as a 6.10 kernel would; with @thread_pidfds false also EINVAL to
 * pidfd_open(PIDFD_THREAD), as before 6.9.
 */
static int hide_ioctls(bool thread_pidfds)
{
#if defined(__x86_64__)
#define TH_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TH_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif
#ifdef TH_AUDIT_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, thread_pidfds ? 0 : O_EXCL, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 9),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8004b706, 6, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8004b707, 5, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8004b708, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x8004b709, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xff05, 2, 0),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xC000FFFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xC000FF0B, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTTY),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : -errno;
#else
	(void)thread_pidfds;
	return -EOPNOTSUPP;
#endif
}

/*
 * A namespace beside the one the bodies run in (a child of ours, as theirs is), whose
 * processes 1 to 32 have the numbers the bodies' threads get in theirs, and lower /proc
 * numbers: a search of /proc by number alone (no PIDFD_THREAD) meets them first. Returns its
 * holder (killing it ends them all) or -1.
 */
static pid_t decoy_ns(void)
{
	int nsfd, self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	pid_t holder = th_make_nested_ns(1, NULL, &nsfd);

	if (holder < 0 || self < 0 || setns(nsfd, CLONE_NEWPID) < 0)
		return -1;
	for (int i = 2; i <= 32; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (pid < 0)
			return -1;
	}
	close(nsfd);
	if (setns(self, CLONE_NEWPID) < 0)
		return -1;
	close(self);
	return holder;
}

/* Runs the suite's bodies under the filter; the exit status is the verdict. */
static int run_hidden(void)
{
	uint64_t f = pidtuple_features();
	bool own = false;
	pid_t decoy = decoy_ns();

	if (f & (PIDTUPLE_FEATURE_NS_PID_IOCTLS | PIDTUPLE_FEATURE_PIDFD_GET_INFO)) {
		fprintf(stderr, "the filter did not hide the ioctls\n");
		return 1;
	}
	if (decoy < 0) {
		fprintf(stderr, "decoy namespace: %m\n");
		return 6;
	}
	if (th_in_pidns_leakfree(sources_body, &own) != 0)
		return 2;
	kill(decoy, SIGKILL);
	own = true;
	if (th_in_pidns_leakfree(sources_body, &own) != 0)
		return 3;
	if (th_in_pidns_leakfree(zombie_body, NULL) != 0)
		return 4;
	if (th_in_pidns_leakfree(bad_input_body, NULL) != 0)
		return 5;
	return 0;
}

START_TEST(test_without_ioctls)
{
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char arg[32];
		char *argv[] = { "check_sources", arg, NULL };

		snprintf(arg, sizeof(arg), "--hidden=%d", _i + 1);
		if (hide_ioctls(_i == 0) < 0)
			_exit(TH_SKIP);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == TH_SKIP)
		return; /* no seccomp filter for this architecture */
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x",
		      _i == 0 ? "without nsfs ioctls" : "without nsfs ioctls and PIDFD_THREAD", st);
}
END_TEST

static Suite *sources_suite(void)
{
	Suite *s = suite_create("sources");
	TCase *tc = tcase_create("agree");

	tcase_add_loop_test(tc, test_sources_agree, 0, 2);
	tcase_add_test(tc, test_zombie_and_reaped);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	tc = tcase_create("fallback");
	tcase_add_loop_test(tc, test_without_ioctls, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	th_require_privilege();
	detect();
	if (argc == 2 && strncmp(argv[1], "--hidden=", 9) == 0)
		return run_hidden();
	return th_run_suite(sources_suite());
}
