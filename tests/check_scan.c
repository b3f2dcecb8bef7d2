/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_scan_*(): every process (and with PIDTUPLE_SCAN_THREADS every thread) of our
 * namespace and the ones below it, exactly once, with the same ids pidtuple_read() gives;
 * scanning a nested namespace through an fd; /proc of an outer namespace and our own; both
 * ways of reading (nsfs ioctls and status, chosen with PIDTUPLE_SCAN_SOURCE) give identical
 * entries; processes that come and go during a scan never make it fail and are never
 * reported after they are gone; the ioctls vanishing mid-scan (a seccomp filter) or missing
 * from the start (a re-executed run under the filter); the BPF task iterator gives what status
 * gives over a world with zombies, orphans and groups from other namespaces, and is left for
 * status, silently, where bpf() is refused; the command name and kernel-thread flag of every
 * entry that has them are what /proc says, also for a name with a backslash and a newline.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_GET_PARENT_IOC 0xb702
#define MAXE 256

TH_LSAN_EXPLICIT_ONLY

/* No nsfs translation ioctls: an old kernel, or a run re-executed under the filter. */
static bool no_nsfs;
/* The library has the io_uring backend and io_uring works here. */
static bool have_uring;

/* ---- a small world ------------------------------------------------------------------ */

static int thread_main(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

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

struct world {
	int ready[2], hold[2];
	int self_ns, ns1, ns2;
	pid_t holder;
};

static struct world W;

struct pspec {
	const char *tuple;
	int nsfd;
	bool setsid;
	int threads;
	const char *child; /* forked by this one into ns1, from its own session */
	const char *name;  /* its command name (its threads take it too), or NULL */
};

/* A name the kernel escapes in status (a backslash, a newline, and a backslash before an n,
 * which must not come back as a newline), with spaces; at most 15 bytes. */
#define ODD_NAME "w\\x\ny z\\n end"

static int proc_fn(void *p)
{
	const struct pspec *s = p;
	char c;

	close(W.hold[1]);
	close(W.ready[0]);
	if (s->setsid && setsid() < 0)
		return 1;
	if (s->name && prctl(PR_SET_NAME, s->name) < 0)
		return 5;
	for (int i = 0; i < s->threads; i++)
		if (start_thread() < 0)
			return 2;
	if (s->child) {
		struct pidtuple *t = NULL;
		pid_t pid;

		if (setns(W.ns1, CLONE_NEWPID) < 0 || pidtuple_parse(s->child, &t, NULL) < 0)
			return 3;
		pid = pidtuple_fork(t, NULL, NULL);
		if (pid == 0) {
			struct pspec sub = { .threads = 1 };

			_exit(proc_fn(&sub));
		}
		if (pid < 0)
			return 4;
	}
	(void)!write(W.ready[1], "x", 1);
	while (read(W.hold[0], &c, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static int world_build(void)
{
	static struct pspec specs[] = {
		{ "801", -1, true, 2, NULL, ODD_NAME },
		{ "802/61", 1, false, 0, NULL, NULL },
		{ "803/62/63", 2, true, 1, NULL, NULL },
		{ "810", -1, true, 0, "811/64", NULL },
	};
	int made = 0;
	char c;

	memset(&W, 0, sizeof(W));
	W.self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	W.holder = th_make_nested_ns(2, NULL, &W.ns2);
	TH_CHECK(W.holder > 0 && W.self_ns >= 0, "nested ns: %s", pidtuple_strerror(W.holder));
	W.ns1 = ioctl(W.ns2, NS_GET_PARENT_IOC);
	TH_CHECK(W.ns1 >= 0, "NS_GET_PARENT: %m");
	TH_CHECK(pipe2(W.ready, O_CLOEXEC) == 0 && pipe2(W.hold, O_CLOEXEC) == 0, "pipe: %m");
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
		struct pspec *s = &specs[i];
		int nsfd = s->nsfd == 1 ? W.ns1 : s->nsfd == 2 ? W.ns2 : -1;
		struct pidtuple *t = NULL;
		int r;

		TH_CHECK(pidtuple_parse(s->tuple, &t, NULL) == 0, "parse");
		TH_CHECK(nsfd < 0 || setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
		r = pidtuple_clone(t, proc_fn, s, NULL, NULL, NULL);
		pidtuple_free(t);
		TH_CHECK(setns(W.self_ns, CLONE_NEWPID) == 0, "setns back: %m");
		TH_CHECK(r == 0, "clone %s: %s", s->tuple, pidtuple_strerror(r));
		made += s->child ? 2 : 1;
	}
	for (int i = 0; i < made; i++)
		TH_CHECK(read(W.ready[0], &c, 1) == 1, "a process did not start");
	return 0;
}

static void world_destroy(void)
{
	close(W.hold[1]);
	close(W.hold[0]);
	close(W.ready[0]);
	close(W.ready[1]);
	close(W.ns1);
	close(W.ns2);
	close(W.self_ns);
	kill(W.holder, SIGKILL);
	th_kill_children();
}

/* ---- scanning ----------------------------------------------------------------------- */

struct ent {
	struct pidtuple_scan_entry e;
	char t[128], pg[128], sid[128];
	char comm[64]; /* e.comm's, when it has one */
	bool has_comm;
};

/* A thread of our own process: with PIDTUPLE_SCAN_URING the kernel runs reads on io_uring
 * workers (iou-wrk-*), threads of the caller that stay around; the world has none of ours. */
static bool own_thread(const struct pidtuple_scan_entry *e)
{
	return (e->flags & PIDTUPLE_ENTRY_THREAD) && e->pid == getpid();
}

static void fmt(const struct pidtuple *t, char *buf, size_t size)
{
	if (pidtuple_format(t, buf, size) < 0)
		snprintf(buf, size, "?");
}

/* Scans into @out; returns the count or -1 (with a message). */
static int scan_all(uint64_t flags, int nsfd, const char *source, struct ent *out, int cap)
{
	PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = flags, .ns_fd = nsfd);
	struct pidtuple_scan *s = NULL;
	int n = 0, r;

	if (source)
		setenv("PIDTUPLE_SCAN_SOURCE", source, 1);
	else
		unsetenv("PIDTUPLE_SCAN_SOURCE");
	r = pidtuple_scan_new(&o, &s);
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	if (r < 0) {
		fprintf(stderr, "scan_new: %s\n", pidtuple_strerror(r));
		return -1;
	}
	for (;;) {
		struct ent x = { .e = { .sz = sizeof(x.e) } };

		r = pidtuple_scan_next(s, &x.e);
		if (r <= 0)
			break;
		if (own_thread(&x.e))
			continue;
		fmt(x.e.tuple, x.t, sizeof(x.t));
		fmt(x.e.pgid_tuple, x.pg, sizeof(x.pg));
		fmt(x.e.sid_tuple, x.sid, sizeof(x.sid));
		x.has_comm = x.e.comm;
		if (x.e.comm)
			snprintf(x.comm, sizeof(x.comm), "%s", x.e.comm);
		x.e.tuple = x.e.pgid_tuple = x.e.sid_tuple = NULL;
		x.e.comm = NULL;
		if (n < cap)
			out[n++] = x;
	}
	pidtuple_scan_free(s);
	if (r < 0) {
		fprintf(stderr, "scan_next: %s\n", pidtuple_strerror(r));
		return -1;
	}
	return n;
}

static const struct ent *find(const struct ent *v, int n, pid_t tid)
{
	for (int i = 0; i < n; i++)
		if (v[i].e.tid == tid)
			return &v[i];
	return NULL;
}

/* The entry agrees with pidtuple_read() (translated into @nsfd). */
static int agrees_with_read(const struct ent *x, int nsfd, pid_t a_tid)
{
	PIDTUPLE_OPTS(pidtuple_read_opts, o, .flags = nsfd >= 0 ? PIDTUPLE_READ_NS_FD : 0,
		      .ns_fd = nsfd);
	const char *got[3] = { x->t, x->pg, x->sid };
	const unsigned int kinds[3] = { PIDTUPLE_KIND_TID, PIDTUPLE_KIND_PGID, PIDTUPLE_KIND_SID };

	for (int k = 0; k < 3; k++) {
		struct pidtuple *t = NULL;
		char want[128];
		int r = pidtuple_read(a_tid, kinds[k], &o, &t);

		TH_CHECK(r == 0, "read %d: %s", (int)a_tid, pidtuple_strerror(r));
		fmt(t, want, sizeof(want));
		pidtuple_free(t);
		TH_CHECK(strcmp(want, got[k]) == 0, "entry %d kind %u: %s, read says %s",
			 (int)x->e.tid, kinds[k], got[k], want);
	}
	return 0;
}

#define KFLAGS (PIDTUPLE_ENTRY_KTHREAD_KNOWN | PIDTUPLE_ENTRY_KTHREAD)

/* The same ids and flags; the name and the kernel-thread flag where both entries have them
 * (the nsfs way gives neither). */
static bool same(const struct ent *a, const struct ent *b)
{
	bool kknown = (a->e.flags & b->e.flags) & PIDTUPLE_ENTRY_KTHREAD_KNOWN;

	return a->e.pid == b->e.pid && a->e.tid == b->e.tid && a->e.ppid == b->e.ppid &&
	       a->e.pgid == b->e.pgid && a->e.sid == b->e.sid &&
	       (a->e.flags & ~KFLAGS) == (b->e.flags & ~KFLAGS) &&
	       (!kknown || (a->e.flags & KFLAGS) == (b->e.flags & KFLAGS)) &&
	       a->e.ns_id == b->e.ns_id && strcmp(a->t, b->t) == 0 && strcmp(a->pg, b->pg) == 0 &&
	       strcmp(a->sid, b->sid) == 0 &&
	       (!a->has_comm || !b->has_comm || strcmp(a->comm, b->comm) == 0);
}

/* The kernel's status has a Kthread: line (6.x): the status way then knows kernel threads. */
static bool status_has_kthread(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, "\nKthread:\t");
}

/* /proc/PID/comm of the process or @thread @tid (our numbering) as it is, only its last
 * newline dropped; through the number /proc gives it (a pidfd's fdinfo): /proc may be an outer
 * namespace's. 0; 1 when the kernel cannot open a thread's pidfd (before 6.9); -1 with a
 * message. */
static int proc_comm(pid_t tid, bool thread, char *buf, size_t size)
{
	char path[96], info[1024];
	int pidfd = th_pidfd_open(tid, thread ? O_EXCL /* PIDFD_THREAD */ : 0), fd;
	const char *p;
	ssize_t n;
	long o;

	if (pidfd < 0 && thread && errno == EINVAL)
		return 1;
	TH_CHECK(pidfd >= 0, "pidfd_open %d: %m", (int)tid);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, info, sizeof(info) - 1) : -1;
	if (fd >= 0)
		close(fd);
	close(pidfd);
	info[n > 0 ? n : 0] = '\0';
	p = strstr(info, "\nPid:\t");
	TH_CHECK(p && (o = strtol(p + 6, NULL, 10)) > 0, "fdinfo of %d", (int)tid);
	snprintf(path, sizeof(path), "/proc/%ld/comm", o); /* a thread's by its TID */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (fd >= 0)
		close(fd);
	TH_CHECK(n > 0 && buf[n - 1] == '\n', "%s: %m", path);
	buf[n - 1] = '\0';
	return 0;
}

/* The entry's name and kernel-thread flag are what /proc says (@a_tid: its number in ours),
 * where it has them; @want_kthread: the flag must be known. */
static int names_agree(const struct ent *x, pid_t a_tid, bool want_kthread)
{
	char want[64];
	int r;

	TH_CHECK(!want_kthread || (x->e.flags & PIDTUPLE_ENTRY_KTHREAD_KNOWN),
		 "entry %d: kernel thread or not unknown", (int)x->e.tid);
	TH_CHECK(!(x->e.flags & PIDTUPLE_ENTRY_KTHREAD), "entry %d: a kernel thread?",
		 (int)x->e.tid);
	if (!x->has_comm)
		return 0;
	r = proc_comm(a_tid, x->e.flags & PIDTUPLE_ENTRY_THREAD, want, sizeof(want));
	if (r)
		return r < 0;
	TH_CHECK(strcmp(x->comm, want) == 0, "entry %d: name '%s', /proc says '%s'", (int)x->e.tid,
		 x->comm, want);
	return 0;
}

static int check_scan(uint64_t flags, bool in_ns1)
{
	static struct ent v[MAXE], w[MAXE];
	int nsfd = in_ns1 ? W.ns1 : -1, n, m;
	uint64_t ns1_ino;
	struct stat st;
	const struct ent *x;

	n = scan_all(flags | (in_ns1 ? PIDTUPLE_SCAN_NS_FD : 0), nsfd, NULL, v, MAXE);
	TH_CHECK(n > 0, "scan failed");
	/* Every way of reading gives the same entries: status, nsfs, io_uring batches. */
	for (int way = 0; way < 3; way++) {
		uint64_t f = flags | (in_ns1 ? PIDTUPLE_SCAN_NS_FD : 0);

		if ((way == 1 && no_nsfs) || (way == 2 && !have_uring))
			continue;
		m = scan_all(f | (way == 2 ? PIDTUPLE_SCAN_URING : 0), nsfd,
			     way == 0	? "status"
			     : way == 1 ? "nsfs"
					: NULL,
			     w, MAXE);
		if (m != n)
			for (int i = 0; i < (m > n ? m : n); i++)
				fprintf(stderr, "  %d: %d/%d %s | %d/%d %s\n", i,
					i < n ? (int)v[i].e.pid : 0, i < n ? (int)v[i].e.tid : 0,
					i < n ? v[i].t : "", i < m ? (int)w[i].e.pid : 0,
					i < m ? (int)w[i].e.tid : 0, i < m ? w[i].t : "");
		TH_CHECK(m == n, "way %d: %d entries, default scan: %d", way, m, n);
		for (int i = 0; i < n; i++)
			TH_CHECK(same(&v[i], &w[i]),
				 "way %d: entry %d differs: %d %s ppid %d / %d %s ppid %d", way, i,
				 (int)v[i].e.tid, v[i].t, (int)v[i].e.ppid, (int)w[i].e.tid, w[i].t,
				 (int)w[i].e.ppid);
	}
	TH_CHECK(fstat(W.ns1, &st) == 0, "fstat");
	ns1_ino = st.st_ino;

	/* Every entry once, agreeing with pidtuple_read(); ns1 entries through ns1's ids. */
	for (int i = 0; i < n; i++) {
		const struct pidtuple_scan_entry *e = &v[i].e;
		struct pidtuple *t = NULL;
		pid_t a_tid;

		for (int j = 0; j < i; j++)
			TH_CHECK(v[j].e.tid != e->tid, "%d reported twice", (int)e->tid);
		TH_CHECK(((e->flags & PIDTUPLE_ENTRY_THREAD) != 0) == (e->tid != e->pid),
			 "thread flag of %d/%d", (int)e->pid, (int)e->tid);
		if (!(flags & PIDTUPLE_SCAN_THREADS))
			TH_CHECK(!(e->flags & PIDTUPLE_ENTRY_THREAD), "thread without the flag");
		TH_CHECK(pidtuple_parse(v[i].t, &t, NULL) == 0, "tuple %s", v[i].t);
		pidtuple_free(t);
		if (in_ns1) {
			/* Its number in our namespace: read ns1's view back through a scan of
			 * ours would be circular; translate by hand with NS_GET_PID_FROM_PIDNS. */
			a_tid = (pid_t)ioctl(W.ns1, 0x8004b706, (unsigned long)e->tid);
			if (no_nsfs)
				continue;
		} else {
			a_tid = e->tid;
		}
		TH_CHECK(a_tid > 0, "no number for %d", (int)e->tid);
		if (agrees_with_read(&v[i], nsfd, a_tid))
			return 1;
		/* The default way (the iterator, or status) gives every name. */
		TH_CHECK(v[i].has_comm, "entry %d has no name", (int)e->tid);
		if (names_agree(&v[i], a_tid, status_has_kthread()))
			return 1;
	}

	/* What must be there. */
	if (!in_ns1) {
		x = find(v, n, 801);
		TH_CHECK(x && strcmp(x->t, "801") == 0 && x->e.ppid == 1 && x->e.sid == 801 &&
				 (x->e.flags & ~KFLAGS) == 0 && strcmp(x->comm, ODD_NAME) == 0,
			 "801: %s", x ? x->comm : "missing");
		x = find(v, n, 802);
		TH_CHECK(x && strcmp(x->t, "802/61") == 0 && strcmp(x->sid, "0/0") == 0 &&
				 x->e.ns_id == ns1_ino && x->e.ppid == 1,
			 "802");
		x = find(v, n, 803);
		TH_CHECK(x && strcmp(x->t, "803/62/63") == 0 && strcmp(x->sid, "803/62/63") == 0,
			 "803");
		x = find(v, n, 811);
		TH_CHECK(x && strcmp(x->t, "811/64") == 0 && x->e.ppid == 810 &&
				 strcmp(x->sid, "810/0") == 0 && strcmp(x->pg, "810/0") == 0,
			 "811: %s ppid %d sid %s", x ? x->t : "missing", x ? (int)x->e.ppid : 0,
			 x ? x->sid : "");
		x = find(v, n, 1);
		TH_CHECK(x && (x->e.flags & ~KFLAGS) == 0 && strcmp(x->t, "1") == 0, "our init");
		x = find(v, n, 810);
		TH_CHECK(x, "810");
	} else {
		x = find(v, n, 61);
		TH_CHECK(x && strcmp(x->t, "61") == 0 && x->e.ppid == 0, "61 in ns1");
		x = find(v, n, 64);
		TH_CHECK(x && strcmp(x->t, "64") == 0 && x->e.ppid == 0 && x->e.sid == 0 &&
				 x->e.pgid == 0,
			 "64 in ns1: ppid %d", x ? (int)x->e.ppid : -1);
		x = find(v, n, 1);
		TH_CHECK(x && (x->e.flags & ~KFLAGS) == 0 && x->e.ns_id == ns1_ino, "ns1's init");
	}
	/* Holder inits below the scanned namespace are namespace inits. */
	{
		int inits = 0;

		for (int i = 0; i < n; i++)
			if (v[i].e.flags & PIDTUPLE_ENTRY_NS_INIT) {
				inits++;
				TH_CHECK(strrchr(v[i].t, '/') &&
						 strcmp(strrchr(v[i].t, '/'), "/1") == 0,
					 "ns init %s", v[i].t);
			}
		TH_CHECK(inits == (in_ns1 ? 1 : 2), "%d namespace inits", inits);
	}
	/* Threads: 801 has two, 803 one, 811 one (and 64 in ns1). */
	if (flags & PIDTUPLE_SCAN_THREADS) {
		int threads = 0;

		for (int i = 0; i < n; i++)
			threads += (v[i].e.flags & PIDTUPLE_ENTRY_THREAD) != 0;
		TH_CHECK(threads == (in_ns1 ? 2 : 4), "%d threads", threads);
	}
	return 0;
}

static int scan_body(void *p)
{
	bool own_proc = *(bool *)p;

	if (own_proc)
		TH_CHECK(th_mount_own_proc() == 0, "mounting /proc: %m");
	if (world_build())
		return 1;
	for (int threads = 0; threads < 2; threads++)
		for (int in_ns1 = 0; in_ns1 < 2; in_ns1++)
			if (check_scan(threads ? PIDTUPLE_SCAN_THREADS : 0, in_ns1)) {
				fprintf(stderr, "threads %d, ns1 %d\n", threads, in_ns1);
				return 1;
			}
	world_destroy();
	return 0;
}

START_TEST(test_scan)
{
	bool own_proc = _i;

	ck_assert_msg(th_in_pidns_leakfree(scan_body, &own_proc) == 0, "/proc %s",
		      own_proc ? "own" : "outer");
}
END_TEST

/* ---- churn: processes that come and go ---------------------------------------------- */

#define CHURN_SLOTS 65536

struct churn {
	_Atomic unsigned long seq; /* bumped at every reap */
	_Atomic int stop;
	struct {
		_Atomic pid_t pid;
		_Atomic unsigned long reaped; /* seq after its reap; 0 while not reaped */
		int levels;
	} slot[CHURN_SLOTS];
};

/* Forks short-lived children in batches, half of them one level down, and reaps them. */
static int churn_main(struct churn *c, int ns1, int self_ns)
{
	for (unsigned int i = 0; !atomic_load(&c->stop); i++) {
		pid_t batch[8];

		for (int k = 0; k < 8; k++) {
			bool down = k & 1;
			pid_t pid;

			if (setns(down ? ns1 : self_ns, CLONE_NEWPID) < 0)
				return 1;
			pid = fork();
			if (pid == 0) {
				usleep(100 * (unsigned int)((i + (unsigned int)k) % 4));
				_exit(0);
			}
			if (pid < 0)
				return 2;
			c->slot[pid % CHURN_SLOTS].levels = down ? 2 : 1;
			atomic_store(&c->slot[pid % CHURN_SLOTS].reaped, 0);
			atomic_store(&c->slot[pid % CHURN_SLOTS].pid, pid);
			batch[k] = pid;
		}
		for (int k = 0; k < 8; k++) {
			if (waitpid(batch[k], NULL, 0) != batch[k])
				return 3;
			atomic_store(&c->slot[batch[k] % CHURN_SLOTS].reaped,
				     atomic_fetch_add(&c->seq, 1) + 1);
		}
	}
	return 0;
}

/* Calls a batch of the io_uring path can span: its entries are read by the first of them. */
#define URING_WINDOW 64

static int churn_body(void *p)
{
	int way = *(int *)p; /* 0 default, 1 status, 2 io_uring */
	bool status_path = way == 1, uring = way == 2;
	static unsigned long befores[URING_WINDOW + 1];
	struct churn *c =
		mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int holder, ns1, self_ns, reported = 0, churned = 0;
	pid_t churner;

	TH_CHECK(c != MAP_FAILED, "mmap: %m");
	self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	holder = th_make_nested_ns(1, NULL, &ns1);
	TH_CHECK(holder > 0 && self_ns >= 0, "nested ns");
	churner = fork();
	if (churner == 0)
		_exit(churn_main(c, ns1, self_ns));
	TH_CHECK(churner > 0, "fork: %m");
	while (atomic_load(&c->seq) < 20)
		usleep(1000);
	if (status_path)
		setenv("PIDTUPLE_SCAN_SOURCE", "status", 1);
	for (int round = 0; round < 30; round++) {
		PIDTUPLE_OPTS(pidtuple_scan_opts, o,
			      .flags = uring		? PIDTUPLE_SCAN_URING
				       : round % 3 == 2 ? PIDTUPLE_SCAN_THREADS
							: 0);
		unsigned long calls = 0, start = atomic_load(&c->seq);
		struct pidtuple_scan *s = NULL;
		bool seen_holder = false, seen_churner = false;
		/* The BPF iterator reads entries in blocks of ~1,800 processes (this whole
		 * namespace in one): an entry is as of its block's read, at the first call. */
		bool blocks = way == 0 && !(o.flags & PIDTUPLE_SCAN_THREADS) &&
			      (pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN);
		int r;

		TH_CHECK(pidtuple_scan_new(&o, &s) == 0, "scan_new");
		for (;;) {
			struct pidtuple_scan_entry e = { .sz = sizeof(e) };
			unsigned long before = atomic_load(&c->seq);
			int slot;

			/* io_uring: a process is read with its batch, up to URING_WINDOW calls
			 * before it is yielded; it existed after that call started. */
			befores[calls % (URING_WINDOW + 1)] = before;
			if (uring && calls >= URING_WINDOW)
				before = befores[(calls - URING_WINDOW) % (URING_WINDOW + 1)];
			else if (uring)
				before = befores[0];
			if (blocks)
				before = start;
			calls++;
			r = pidtuple_scan_next(s, &e);
			if (r <= 0)
				break;
			reported++;
			seen_holder |= e.pid == holder;
			seen_churner |= e.pid == churner;
			if (e.ppid != churner)
				continue;
			churned++;
			slot = e.pid % CHURN_SLOTS;
			/* The churner records a child before it can reap it: a child without
			 * a record has not been reaped yet. */
			if (atomic_load(&c->slot[slot].pid) != e.pid)
				continue;
			TH_CHECK(atomic_load(&c->slot[slot].reaped) == 0 ||
					 atomic_load(&c->slot[slot].reaped) > before,
				 "round %d: %d reported after it was reaped", round, (int)e.pid);
			TH_CHECK(pidtuple_levels(e.tuple) == c->slot[slot].levels,
				 "churned %d: %d levels", (int)e.pid, pidtuple_levels(e.tuple));
		}
		pidtuple_scan_free(s);
		TH_CHECK(r == 0, "round %d: scan_next failed: %s", round, pidtuple_strerror(r));
		TH_CHECK(seen_holder && seen_churner, "round %d: a long-lived process is missing",
			 round);
	}
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	atomic_store(&c->stop, 1);
	TH_CHECK(waitpid(churner, &reported, 0) == churner && reported == 0, "churner status 0x%x",
		 reported);
	fprintf(stderr, "churn (%s): %d churned processes reported over 30 scans\n",
		status_path ? "status"
		: uring	    ? "io_uring"
			    : "default",
		churned);
	close(ns1);
	close(self_ns);
	kill(holder, SIGKILL);
	th_kill_children();
	munmap(c, sizeof(*c));
	return 0;
}

START_TEST(test_churn)
{
	int way = _i;

	if (way == 2 && !have_uring)
		return;
	ck_assert_int_eq(th_in_pidns_leakfree(churn_body, &way), 0);
}
END_TEST

/* ---- without the ioctls ------------------------------------------------------------- */

/* Hides the nsfs PID ioctls and PIDFD_GET_INFO (ENOTTY), as a kernel before 6.11 would. */
static int hide_ioctls(void)
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
	return -EOPNOTSUPP;
#endif
}

/* Keeps the nsfs PID ioctls but refuses PIDFD_GET_INFO with EINVAL: Linux 6.11 and 6.12
 * (Debian 13), where the pidfd ioctls take no argument and the command came in 6.13. */
static int hide_pidfd_info(void)
{
#ifdef TH_AUDIT_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xC000FFFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xC000FF0B, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : -errno;
#else
	return -EOPNOTSUPP;
#endif
}

/* The ioctls vanish after the first entries of a scan: it must go on through status, and
 * still give the same entries as a status scan. */
static int vanish_body(void *p)
{
	static struct ent v[MAXE], w[MAXE];
	int way = *(int *)p; /* 0 default, 1 nsfs, 2 io_uring */
	PIDTUPLE_OPTS(pidtuple_scan_opts, o,
		      .flags = PIDTUPLE_SCAN_THREADS | (way == 2 ? PIDTUPLE_SCAN_URING : 0));
	struct pidtuple_scan *s = NULL;
	int n = 0, m, r;

	if (world_build())
		return 1;
	m = scan_all(PIDTUPLE_SCAN_THREADS, -1, "status", w, MAXE);
	TH_CHECK(m > 5, "status scan: %d", m);
	if (way == 1)
		setenv("PIDTUPLE_SCAN_SOURCE", "nsfs", 1);
	r = pidtuple_scan_new(&o, &s);
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	TH_CHECK(r == 0, "scan_new");
	for (;;) {
		struct ent x = { .e = { .sz = sizeof(x.e) } };

		if (n == 3 && hide_ioctls() < 0)
			break; /* no filter for this architecture: nothing to test */
		r = pidtuple_scan_next(s, &x.e);
		if (r <= 0)
			break;
		if (own_thread(&x.e))
			continue;
		fmt(x.e.tuple, x.t, sizeof(x.t));
		fmt(x.e.pgid_tuple, x.pg, sizeof(x.pg));
		fmt(x.e.sid_tuple, x.sid, sizeof(x.sid));
		if (n < MAXE)
			v[n++] = x;
	}
	pidtuple_scan_free(s);
	TH_CHECK(r == 0, "scan_next: %s", pidtuple_strerror(r));
	TH_CHECK(n == m, "%d entries, status scan %d", n, m);
	for (int i = 0; i < n; i++)
		TH_CHECK(same(&v[i], &w[i]), "entry %d differs", i);
	world_destroy();
	return 0;
}

START_TEST(test_ioctls_vanish)
{
	int way = _i;

	if (way == 2 && !have_uring)
		return;
	ck_assert_int_eq(th_in_pidns_leakfree(vanish_body, &way), 0);
}
END_TEST

static void run_filtered(const char *mode, int (*filter)(void));

START_TEST(test_without_ioctls)
{
	run_filtered("--hidden", hide_ioctls);
}
END_TEST

/* Runs this binary again with @mode under @filter; skips when there is no filter. */
static void run_filtered(const char *mode, int (*filter)(void))
{
	int st = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = { "check_scan", (char *)mode, NULL };

		if (filter() < 0)
			_exit(TH_SKIP);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == TH_SKIP)
		return;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x", mode, st);
}

START_TEST(test_without_pidfd_info)
{
	run_filtered("--no-pidfd-info", hide_pidfd_info);
}
END_TEST

/* ---- the BPF task iterator ---------------------------------------------------------- */

/* The library built with the BPF scan and libbpf.so.1 installed: only privilege can miss. */
static bool bpf_built(void)
{
	return pidtuple_feature_error(PIDTUPLE_FEATURE_BPF_SCAN) != -EOPNOTSUPP;
}

/* A zombie (exits, never reaped until the end), one level down when @nsfd >= 0. */
static int make_zombie(int nsfd)
{
	pid_t pid;

	TH_CHECK(nsfd < 0 || setns(nsfd, CLONE_NEWPID) == 0, "setns: %m");
	pid = fork();
	if (pid == 0)
		_exit(0);
	TH_CHECK(setns(W.self_ns, CLONE_NEWPID) == 0, "setns back: %m");
	TH_CHECK(pid > 0, "fork: %m");
	TH_CHECK(waitid(P_PID, pid, &(siginfo_t){ 0 }, WEXITED | WNOWAIT) == 0, "waitid: %m");
	return 0;
}

/* An orphan in ns2 (its parent exits: it goes to ns2's init), in a group of its own. */
static int make_orphan(void)
{
	int p[2];
	pid_t pid;
	char c;

	TH_CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe: %m");
	TH_CHECK(setns(W.ns2, CLONE_NEWPID) == 0, "setns: %m");
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			setpgid(0, 0);
			close(p[0]);
			close(W.hold[1]);
			(void)!write(p[1], "x", 1);
			while (read(W.hold[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		_exit(0);
	}
	TH_CHECK(setns(W.self_ns, CLONE_NEWPID) == 0, "setns back: %m");
	TH_CHECK(pid > 0 && waitpid(pid, NULL, 0) == pid, "fork: %m");
	close(p[1]);
	TH_CHECK(read(p[0], &c, 1) == 1, "the orphan did not start");
	close(p[0]);
	return 0;
}

/* The thread that calls execve() in a process with two takes over the group's PID and becomes
 * its leader (the kernel's de_thread() swaps their pids); the old leader is released. */
static void *exec_sleep(void *arg)
{
	(void)arg;
	execl("/bin/sleep", "sleep", "1000", (char *)NULL);
	_exit(127);
}

/* A process whose second thread called execve(), once that is done (the pipe's close-on-exec
 * end closes then). */
static int make_exec_from_thread(void)
{
	pthread_t th;
	int p[2];
	pid_t pid;
	char c;

	TH_CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe: %m");
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		close(W.hold[1]); /* not to be kept across the exec */
		if (pthread_create(&th, NULL, exec_sleep, NULL) != 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	TH_CHECK(pid > 0, "fork: %m");
	TH_CHECK(read(p[0], &c, 1) == 0, "the thread did not exec");
	close(p[0]);
	return 0;
}

static int by_tid(const void *a, const void *b)
{
	return ((const struct ent *)a)->e.tid - ((const struct ent *)b)->e.tid;
}

/* The iterator against status, entry by entry: the same processes with the same ids (zombies,
 * an orphan, a process whose leader was replaced by an exec from another thread). The order is
 * each one's: /proc numbers processes in its own namespace, the iterator in ours. */
static int bpf_body(void *p)
{
	static struct ent v[MAXE], w[MAXE];
	int n, m;

	(void)p;
	if (world_build() || make_zombie(-1) || make_zombie(W.ns1) || make_orphan() ||
	    make_exec_from_thread())
		return 1;
	n = scan_all(0, -1, "status", w, MAXE);
	m = scan_all(0, -1, "bpf", v, MAXE);
	TH_CHECK(n > 10 && m == n, "bpf %d entries, status %d", m, n);
	qsort(v, (size_t)n, sizeof(*v), by_tid);
	qsort(w, (size_t)n, sizeof(*w), by_tid);
	for (int i = 0; i < n; i++)
		TH_CHECK(
			same(&v[i], &w[i]),
			"entry %d differs: %d %s pg %s sid %s ppid %d / %d %s pg %s sid %s ppid %d",
			i, (int)v[i].e.pid, v[i].t, v[i].pg, v[i].sid, (int)v[i].e.ppid,
			(int)w[i].e.pid, w[i].t, w[i].pg, w[i].sid, (int)w[i].e.ppid);
	/* Both give every name, as /proc does, and the iterator always knows kernel threads. */
	for (int i = 0; i < n; i++) {
		TH_CHECK(v[i].has_comm && w[i].has_comm, "entry %d: no name", (int)v[i].e.pid);
		if (names_agree(&v[i], v[i].e.tid, true) ||
		    names_agree(&w[i], w[i].e.tid, status_has_kthread()))
			return 1;
	}
	TH_CHECK(strcmp(find(v, n, 801)->comm, ODD_NAME) == 0, "801: '%s'", find(v, n, 801)->comm);
	for (m = 0; m < n && strcmp(v[m].comm, "sleep") != 0; m++)
		;
	TH_CHECK(m < n, "the process that exec'd from a thread is missing");
	/* The default takes the iterator, silently: the same again. */
	m = scan_all(0, -1, NULL, v, MAXE);
	TH_CHECK(m == n, "default %d entries, status %d", m, n);
	world_destroy();
	return 0;
}

/* Kernel threads, where we see them (the initial PID namespace): kthreadd is one for both ways;
 * the iterator gives no name for it (/proc may show a longer one than the kernel's comm). */
static int kthreads_body(void)
{
	static struct ent v[MAXE * 16], w[MAXE * 16];
	const struct ent *x, *y;
	int n, m;

	n = scan_all(0, -1, "status", w, MAXE * 16);
	m = scan_all(0, -1, "bpf", v, MAXE * 16);
	TH_CHECK(n > 0 && m > 0, "scans");
	x = find(w, n, 2);
	y = find(v, m, 2);
	if (!x || !y || x->e.ppid != 0 || strcmp(x->comm, "kthreadd") != 0)
		return 0; /* not the initial namespace */
	TH_CHECK((y->e.flags & KFLAGS) == KFLAGS && !y->has_comm, "iterator: kthreadd 0x%x",
		 y->e.flags);
	TH_CHECK((x->e.flags & KFLAGS) == (status_has_kthread() ? KFLAGS : 0), "status: 0x%x",
		 x->e.flags);
	return 0;
}

START_TEST(test_bpf)
{
	/* The kernel matrix sets it: there the program must load under every kernel. */
	if (getenv("PIDTUPLE_TEST_REQUIRE_BPF"))
		ck_assert_msg(pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN, "no BPF scan: %s",
			      pidtuple_strerror(pidtuple_feature_error(PIDTUPLE_FEATURE_BPF_SCAN)));
	if (pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN) {
		ck_assert_int_eq(th_in_pidns_leakfree(bpf_body, NULL), 0);
		ck_assert_int_eq(kthreads_body(), 0);
	} else {
		ck_assert(!bpf_built() || geteuid() != 0 ||
			  pidtuple_feature_error(PIDTUPLE_FEATURE_BPF_SCAN) == -ESRCH);
	}
}
END_TEST

/* Refuses bpf() with EPERM, as a container runtime's filter does. */
static int deny_bpf(void)
{
#ifdef TH_AUDIT_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TH_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bpf, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : -errno;
#else
	return -EOPNOTSUPP;
#endif
}

/* Under deny_bpf(), in a fresh process: no iterator, said why, and the scan reads status. */
static int no_bpf_body(void *p)
{
	static struct ent v[MAXE], w[MAXE];
	int n, m;

	(void)p;
	if (world_build())
		return 1;
	n = scan_all(0, -1, "status", w, MAXE);
	m = scan_all(0, -1, NULL, v, MAXE);
	TH_CHECK(n > 5 && m == n, "default %d entries, status %d", m, n);
	for (int i = 0; i < n; i++)
		TH_CHECK(same(&v[i], &w[i]), "entry %d differs", i);
	world_destroy();
	return 0;
}

static int run_no_bpf(void)
{
	int err = pidtuple_feature_error(PIDTUPLE_FEATURE_BPF_SCAN);
	PIDTUPLE_OPTS(pidtuple_scan_opts, o);
	struct pidtuple_scan *s = NULL;
	int r;

	if (pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN)
		return 1;
	if (err != -EPERM && err != -EOPNOTSUPP)
		return 2;
	if (err == -EPERM &&
	    strncmp(pidtuple_feature_reason(PIDTUPLE_FEATURE_BPF_SCAN), "EPERM", 5))
		return 3;
	setenv("PIDTUPLE_SCAN_SOURCE", "bpf", 1);
	r = pidtuple_scan_new(&o, &s);
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	pidtuple_scan_free(s);
	if (r != err)
		return 4; /* insisting on it gives the reason */
	return th_in_pidns_leakfree(no_bpf_body, NULL) == 0 ? 0 : 5;
}

/* In a user namespace of our own, no capability counts in the initial one: the program this
 * process loaded cannot even be iterated (bpf() refuses an unprivileged caller); the scan
 * reads status, silently. */
static int userns_body(void *p)
{
	static struct ent v[MAXE], w[MAXE];
	PIDTUPLE_OPTS(pidtuple_scan_opts, o);
	struct pidtuple_scan *s = NULL;
	int n, m, r;

	(void)p;
	TH_CHECK(unshare(CLONE_NEWUSER) == 0, "unshare: %m");
	setenv("PIDTUPLE_SCAN_SOURCE", "bpf", 1);
	r = pidtuple_scan_new(&o, &s);
	unsetenv("PIDTUPLE_SCAN_SOURCE");
	pidtuple_scan_free(s);
	TH_CHECK(r == -EPERM, "insisting on the iterator: %s", pidtuple_strerror(r));
	n = scan_all(0, -1, "status", w, MAXE);
	m = scan_all(0, -1, NULL, v, MAXE);
	TH_CHECK(n > 0 && m == n, "default %d entries, status %d", m, n);
	for (int i = 0; i < n; i++)
		TH_CHECK(same(&v[i], &w[i]), "entry %d differs", i);
	return 0;
}

START_TEST(test_bpf_userns)
{
	if (!(pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN))
		return; /* nothing loaded to be refused */
	ck_assert_int_eq(th_in_pidns_leakfree(userns_body, NULL), 0);
}
END_TEST

START_TEST(test_bpf_denied)
{
	run_filtered("--no-bpf", deny_bpf);
}
END_TEST

/* ---- bad input ---------------------------------------------------------------------- */

static int bad_input_body(void *p)
{
	struct pidtuple_scan *s = NULL, *sentinel = (struct pidtuple_scan *)(uintptr_t)0x5e;
	struct pidtuple_scan_entry e = { .sz = 0 };
	int pfd[2];

	(void)p;
	s = sentinel;
	TH_CHECK(pidtuple_scan_new(NULL, NULL) == -EINVAL, "NULL ret");
	{
		PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = 1ull << 9);

		TH_CHECK(pidtuple_scan_new(&o, &s) == -EINVAL, "unknown flag");
	}
	{
		PIDTUPLE_OPTS(pidtuple_scan_opts, o, .reserved = 1);

		TH_CHECK(pidtuple_scan_new(&o, &s) == -EINVAL, "reserved");
	}
	{
		PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = PIDTUPLE_SCAN_URING);
		struct pidtuple_scan *u = NULL;
		int r = pidtuple_scan_new(&o, &u);

		TH_CHECK(r == (have_uring ? 0 : -EOPNOTSUPP), "uring: %s", pidtuple_strerror(r));
		pidtuple_scan_free(u);
	}
	{
		struct {
			struct pidtuple_scan_opts o;
			uint64_t tail;
		} big = { .o = { .sz = sizeof(big) }, .tail = 7 };

		TH_CHECK(pidtuple_scan_new(&big.o, &s) == -E2BIG, "tail");
	}
	TH_CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe");
	{
		PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = PIDTUPLE_SCAN_NS_FD, .ns_fd = pfd[0]);

		TH_CHECK(pidtuple_scan_new(&o, &s) == -EINVAL, "pipe as ns_fd");
		o.ns_fd = -1;
		TH_CHECK(pidtuple_scan_new(&o, &s) == -EINVAL, "ns_fd -1");
	}
	close(pfd[0]);
	close(pfd[1]);
	TH_CHECK(s == sentinel, "out-parameter written on failure");
	TH_CHECK(pidtuple_scan_new(NULL, &s) == 0, "scan_new");
	TH_CHECK(pidtuple_scan_next(s, &e) == -EINVAL, "sz 0");
	TH_CHECK(pidtuple_scan_next(NULL, &e) == -EINVAL, "NULL scan");
	TH_CHECK(pidtuple_scan_next(s, NULL) == -EINVAL, "NULL entry");
	/* A caller with a smaller, older entry gets only what it knows. */
	{
		struct pidtuple_scan_entry small;

		memset(&small, 0x77, sizeof(small));
		small.sz = offsetof(struct pidtuple_scan_entry, flags);
		TH_CHECK(pidtuple_scan_next(s, &small) == 1, "small entry");
		TH_CHECK(small.pid == 1 && small.flags == 0x77777777u, "small entry: pid %d",
			 (int)small.pid);
		/* One that ends inside ns_id: no byte of a member it holds only in part. */
		pidtuple_scan_free(s);
		TH_CHECK(pidtuple_scan_new(NULL, &s) == 0, "scan_new");
		memset(&small, 0x77, sizeof(small));
		small.sz = offsetof(struct pidtuple_scan_entry, ns_id) + 4;
		TH_CHECK(pidtuple_scan_next(s, &small) == 1, "entry ending inside ns_id");
		TH_CHECK(small.pid == 1 && small.flags == 0 && small.ns_id == 0x7777777777777777ull,
			 "entry ending inside ns_id: flags 0x%x, ns_id 0x%llx", small.flags,
			 (unsigned long long)small.ns_id);
	}
	pidtuple_scan_free(s);
	pidtuple_scan_free(NULL);
	return 0;
}

START_TEST(test_bad_input)
{
	ck_assert_int_eq(th_in_pidns_leakfree(bad_input_body, NULL), 0);
}
END_TEST

static int run_hidden(void)
{
	bool own = false;

	if (pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS)
		return 1;
	if (th_in_pidns_leakfree(scan_body, &own) != 0)
		return 2;
	own = true;
	if (th_in_pidns_leakfree(scan_body, &own) != 0)
		return 3;
	return 0;
}

/* Linux 6.11/6.12: the nsfs ioctls are there, PIDFD_GET_INFO is not. Every way of reading
 * (the nsfs one included) must still give what status gives, with /proc outer and own, and
 * the ioctls may still vanish mid-scan. */
static int run_no_pidfd_info(void)
{
	bool own = false;
	int way = 1;

	if ((pidtuple_features() & PIDTUPLE_FEATURE_PIDFD_GET_INFO) || no_nsfs)
		return no_nsfs ? TH_SKIP : 1;
	if (th_in_pidns_leakfree(scan_body, &own) != 0)
		return 2;
	own = true;
	if (th_in_pidns_leakfree(scan_body, &own) != 0)
		return 3;
	if (th_in_pidns_leakfree(vanish_body, &way) != 0)
		return 4;
	return 0;
}

static Suite *scan_suite(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("scan");

	tcase_add_loop_test(tc, test_scan, 0, 2);
	tcase_add_loop_test(tc, test_churn, 0, 3);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	tc = tcase_create("fallback");
	tcase_add_loop_test(tc, test_ioctls_vanish, 0, 3);
	tcase_add_test(tc, test_without_ioctls);
	tcase_add_test(tc, test_without_pidfd_info);
	tcase_add_test(tc, test_bpf_denied);
	suite_add_tcase(s, tc);
	tc = tcase_create("bpf");
	tcase_add_test(tc, test_bpf);
	tcase_add_test(tc, test_bpf_userns);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	th_require_privilege();
	no_nsfs = !(pidtuple_features() & PIDTUPLE_FEATURE_NS_PID_IOCTLS);
	{
		PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = PIDTUPLE_SCAN_URING);
		struct pidtuple_scan *u = NULL;

		have_uring = pidtuple_scan_new(&o, &u) == 0;
		pidtuple_scan_free(u);
	}
	if (argc == 2 && strcmp(argv[1], "--hidden") == 0)
		return run_hidden();
	if (argc == 2 && strcmp(argv[1], "--no-pidfd-info") == 0)
		return run_no_pidfd_info();
	if (argc == 2 && strcmp(argv[1], "--no-bpf") == 0)
		return run_no_bpf();
	return th_run_suite(scan_suite());
}
