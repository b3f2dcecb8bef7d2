/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The namespace scan that ps, tree and show --threads share. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "procs.h"

/* ---- the scan --------------------------------------------------------------------------- */

static int cmp_proc(const void *a, const void *b)
{
	const struct cli_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_thread(const void *a, const void *b)
{
	const struct cli_thread *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Reads at most @size - 1 bytes of the file at @path; -errno on failure. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* PF_KTHREAD in the flags of /proc/PID/stat: the process is a kernel thread. */
#define CLI_PF_KTHREAD 0x00200000ul

/* Whether the stat line @stat is a kernel thread's; the command name before the flags may
 * hold any character, so the fields are counted from its last ')'. */
static bool stat_kthread(const char *stat)
{
	const char *p = strrchr(stat, ')');
	unsigned long flags;

	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & CLI_PF_KTHREAD;
}

/* The number /proc gives the process of @pidfd: /proc may belong to an outer PID namespace,
 * where the caller's number names another process. 0, -ESRCH when reaped, -ENOENT. */
static int proc_number(int pidfd, long *ret)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (read_small(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "Pid:\t")))
		return -ENOENT;
	*ret = strtol(p + 5, NULL, 10);
	return *ret > 0 ? 0 : -ESRCH;
}

/*
 * The command name of process @pid (the caller's numbering) and whether it is a kernel
 * thread, through the number /proc uses for it; the pidfd, still alive after the reads,
 * proves the number was not reused. Returns 0, -ESRCH when the process has gone, or another
 * -errno.
 */
static int read_comm(pid_t pid, struct cli_proc *proc)
{
	char path[64], stat[512];
	int pidfd, r;
	long o;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	r = proc_number(pidfd, &o);
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%ld/comm", o);
		if (read_small(path, proc->comm, sizeof(proc->comm)) < 0)
			r = -ESRCH;
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%ld/stat", o);
		if (read_small(path, stat, sizeof(stat)) < 0)
			r = -ESRCH;
	}
	/* Gone: the number may name another process now. */
	if (r == 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		r = -ESRCH;
	if (r == 0) {
		proc->comm[strcspn(proc->comm, "\n")] = '\0';
		proc->kthread = stat_kthread(stat);
	}
	close(pidfd);
	return r;
}

/* add_proc(): /proc numbers processes as the caller's namespace does. */
#define SCAN_OWN_PROC (1u << 31)

/* Whether /proc belongs to the caller's PID namespace: our own NSpid then has one entry. */
static bool proc_is_ours(void)
{
	char buf[4096];
	const char *p;
	int tabs = 0;

	if (read_small("/proc/self/status", buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nNSpid:")))
		return false;
	for (p += 7; *p && *p != '\n'; p++)
		tabs += *p == '\t';
	return tabs == 1;
}

/*
 * read_comm() with a /proc of the caller's namespace: one read of /proc/PID/stat, which comes
 * from one process (a reused number makes the read fail), gives both the name and the flags;
 * with CLI_SCAN_COMM_ONLY one read of /proc/PID/comm.
 * 0; 1 when the name holds a backslash (the kernel may have escaped it: read_comm() then);
 * -ESRCH when the process has gone.
 */
static int read_stat_comm(pid_t pid, struct cli_proc *proc, unsigned int flags)
{
	char path[64], stat[512];
	const char *a, *b;
	size_t len;

	if (flags & CLI_SCAN_COMM_ONLY) {
		/* The name alone: /proc/PID/comm costs the kernel less than stat. */
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		if (read_small(path, proc->comm, sizeof(proc->comm)) < 0)
			return -ESRCH;
		proc->comm[strcspn(proc->comm, "\n")] = '\0';
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small(path, stat, sizeof(stat)) < 0)
		return -ESRCH;
	a = strchr(stat, '(');
	b = strrchr(stat, ')');
	if (!a || !b || b < a || memchr(a, '\\', (size_t)(b - a)))
		return 1;
	len = (size_t)(b - a - 1) < sizeof(proc->comm) ? (size_t)(b - a - 1)
						       : sizeof(proc->comm) - 1;
	memcpy(proc->comm, a + 1, len);
	proc->comm[len] = '\0';
	proc->comm[strcspn(proc->comm, "\n")] = '\0';
	proc->kthread = stat_kthread(stat);
	return 0;
}

/*
 * The name and the kernel-thread flag from the scan entry, which has them from the same read
 * as the ids (the BPF iterator's, or the status): 0; 1 when it does not give what @flags need
 * (no name, or the flag unknown where it is wanted): /proc then.
 */
static int entry_comm(const struct pidtuple_scan_entry *e, struct cli_proc *proc,
		      unsigned int flags)
{
	bool only = flags & CLI_SCAN_COMM_ONLY;

	if (!e->comm || (!only && !(e->flags & PIDTUPLE_ENTRY_KTHREAD_KNOWN)))
		return 1;
	snprintf(proc->comm, sizeof(proc->comm), "%s", e->comm);
	proc->comm[strcspn(proc->comm, "\n")] = '\0'; /* cut where the reads of /proc cut it */
	if (!only)
		proc->kthread = e->flags & PIDTUPLE_ENTRY_KTHREAD;
	return 0;
}

static void proc_clear(struct cli_proc *p)
{
	pidtuple_free(p->tuple);
	pidtuple_free(p->pgid);
	pidtuple_free(p->sid);
	for (size_t i = 0; i < p->nthreads; i++)
		pidtuple_free(p->threads[i].tuple);
	free(p->threads);
}

void cli_procs_free(struct cli_procs *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		proc_clear(&ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

static int add_thread(struct cli_proc *p, pid_t tid, const struct pidtuple *t)
{
	struct cli_thread *v;
	int r;

	v = realloc(p->threads, (p->nthreads + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->threads = v;
	v[p->nthreads].tid = tid;
	r = pidtuple_dup(t, &v[p->nthreads].tuple);
	if (r < 0)
		return r;
	p->nthreads++;
	return 0;
}

static int add_proc(struct cli_procs *ps, size_t *cap, const struct pidtuple_scan_entry *e,
		    unsigned int flags)
{
	struct cli_proc *p;
	int r;

	if (ps->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct cli_proc *v = realloc(ps->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ps->v = v;
		*cap = ncap;
	}
	p = &ps->v[ps->n];
	*p = (struct cli_proc){
		.pid = e->pid, .ppid = e->ppid, .flags = e->flags, .ns_id = e->ns_id
	};
	if (flags & CLI_SCAN_COMM) {
		r = entry_comm(e, p, flags);
		if (r == 1 && (flags & SCAN_OWN_PROC))
			r = read_stat_comm(e->pid, p, flags);
		if (r == 1)
			r = read_comm(e->pid, p);
		if (r == -ESRCH)
			return 0; /* exited during the scan: skipped */
		if (r < 0)
			snprintf(p->comm, sizeof(p->comm), "?");
	}
	r = pidtuple_dup(e->tuple, &p->tuple);
	if (r == 0)
		r = pidtuple_dup(e->pgid_tuple, &p->pgid);
	if (r == 0)
		r = pidtuple_dup(e->sid_tuple, &p->sid);
	if (r == 0 && (flags & CLI_SCAN_THREADS))
		r = add_thread(p, e->tid, e->tuple);
	ps->n++; /* freed with the rest even when incomplete */
	return r;
}

int cli_scan(unsigned int flags, struct cli_procs *ret)
{
	PIDTUPLE_OPTS(pidtuple_scan_opts, opts,
		      .flags = (flags & CLI_SCAN_THREADS) ? PIDTUPLE_SCAN_THREADS : 0);
	struct pidtuple_scan_entry e = { .sz = sizeof(e) };
	struct cli_procs ps = { NULL, 0 };
	struct pidtuple_scan *scan;
	bool have_last = false;
	size_t cap = 0;
	int r;

	if ((flags & CLI_SCAN_COMM) && proc_is_ours())
		flags |= SCAN_OWN_PROC;
	r = pidtuple_scan_new(&opts, &scan);
	if (r < 0)
		return r;
	while ((r = pidtuple_scan_next(scan, &e)) > 0) {
		if (e.flags & PIDTUPLE_ENTRY_THREAD) {
			/* Threads follow their leader; a skipped leader takes them along. */
			if (have_last && ps.v[ps.n - 1].pid == e.pid)
				r = add_thread(&ps.v[ps.n - 1], e.tid, e.tuple);
		} else {
			size_t n = ps.n;

			r = add_proc(&ps, &cap, &e, flags);
			have_last = ps.n > n;
		}
		if (r < 0)
			break;
	}
	pidtuple_scan_free(scan);
	if (r < 0) {
		cli_procs_free(&ps);
		return r;
	}
	if (ps.n)
		qsort(ps.v, ps.n, sizeof(*ps.v), cmp_proc);
	/* The leader (added with its process) stays first. */
	for (size_t i = 0; i < ps.n; i++)
		if (ps.v[i].nthreads > 2)
			qsort(ps.v[i].threads + 1, ps.v[i].nthreads - 1, sizeof(*ps.v[i].threads),
			      cmp_thread);
	*ret = ps;
	return 0;
}

struct cli_proc *cli_procs_find(const struct cli_procs *ps, pid_t pid)
{
	struct cli_proc key = { .pid = pid };

	if (!ps->n)
		return NULL;
	return bsearch(&key, ps->v, ps->n, sizeof(*ps->v), cmp_proc);
}
