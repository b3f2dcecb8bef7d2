/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_read: what reading tuples costs, per source, against parsing /proc/PID/status the way
 * ps and CRIU do.
 *
 *  1. One process at 1, 2 and 3 levels: pidtuple_read(TGID) with each source (auto, status,
 *     fdinfo, nsfs) and pidtuple_read(PGID) (auto), against open+read+parse of
 *     /proc/PID/status for the same process (its /proc number known up front). Done with /proc
 *     of an outer namespace (the usual state after unshare()) and with our own /proc.
 *  2. A namespace with --procs sleeping processes (default 10,000) spread over three levels:
 *     pidtuple_scan with its default path, with PIDTUPLE_SCAN_SOURCE=status and =nsfs, and with
 *     PIDTUPLE_SCAN_URING (when built with liburing), with PIDTUPLE_SCAN_SOURCE=bpf (the BPF
 *     task iterator, where it loads), against a status-parsing scan (getdents on /proc, read
 *     and parse every status), the same reading every stat too (as procps does) and, with our
 *     own /proc, procps `ps -e -o pid,ppid,pgid,sid` (its CPU time is the child's), in the
 *     same run. The BPF program's one-time load is timed first. Memory: heap in use at the
 *     100th and at the last entry of each scan (must not grow).
 *  3. With our own /proc, whole commands as a user runs them (fork, exec, output to
 *     /dev/null; the child's CPU time from wait4() and the wall time, median of --cmd-rounds):
 *     `pidtuple ps --json` against `ps -eo pid,ppid,pgid,sid,comm`, the same with
 *     PIDTUPLE_SCAN_SOURCE=status, and `pidtuple features` (exec + the BPF load) and
 *     `pidtuple --version` (exec only) for what comes before any listing, and with --compare
 *     PATH another build's `pidtuple ps --json` (before/after). `--only commands` skips
 *     parts 1 and 2; `--pidtuple PATH` (default: tools/pidtuple of the same build).
 *
 * Series alternate per batch (ABAB), so drift cancels. Times are medians of per-batch CPU time
 * (CLOCK_PROCESS_CPUTIME_ID: user + system of this process, unaffected by other load) and of
 * wall time. Runs as PID 1 of a private PID namespace; the sleeping processes are its own and
 * are killed and reaped at the end. Exit 0 on success, 77 when it cannot run here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "pidtuple.h"

#define MAXB 512

static struct {
	int procs, rounds, reads, cmd_rounds;
	bool only_commands;
} cfg = { 10000, 5, 3000, 11, false };

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n ? v[n / 2] : 0;
}

/* ---- the status-parsing baseline ------------------------------------------------------ */

struct ids {
	int pid[40], pgid[40], sid[40], ppid, n;
};

static int parse_line(const char *buf, const char *label, int *out)
{
	const char *p = strstr(buf, label);
	int n = 0;

	if (!p)
		return -1;
	p += strlen(label);
	while (*p && *p != '\n' && n < 40) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		out[n++] = (int)v;
		p = end;
	}
	return n;
}

/* What ps does for one process: open, read, close, parse the id lines. */
static int status_read(int dirfd, const char *rel, struct ids *ids)
{
	char buf[4096];
	int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	ids->n = parse_line(buf, "\nNSpid:", ids->pid);
	parse_line(buf, "\nNSpgid:", ids->pgid);
	parse_line(buf, "\nNSsid:", ids->sid);
	parse_line(buf, "\nPPid:", &ids->ppid);
	return ids->n;
}

/* ---- processes ---------------------------------------------------------------------- */

static int sleeper(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

/* A process sharing our memory (no page tables to copy), sleeping in pause(). */
static pid_t spawn_sleeper(char *stack_top)
{
	return clone(sleeper, stack_top, CLONE_VM | SIGCHLD, NULL);
}

static int proc_nr(pid_t pid);

/* Two nested namespaces below ours, each held by a sleeping init; fds of both. */
static int make_ns(pid_t *ret_holder, int *ret_ns1, int *ret_ns2)
{
	char path[96], buf[64];
	int pidfd, fd = -1, tries = 0;
	ssize_t n = 0;
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0) {
		/* Init of ns1: makes the init of ns2. */
		if (syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0) == 0)
			for (;;)
				pause();
		for (;;)
			pause();
	}
	if (pid < 0)
		return -1;
	*ret_holder = pid;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	*ret_ns1 = ioctl(pidfd, 0xFF05 /* PIDFD_GET_PID_NAMESPACE */, 0);
	close(pidfd);
	/* ns2's init is the only child of ns1's init. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", proc_nr(pid), proc_nr(pid));
	while (n <= 0 && tries++ < 1000) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			usleep(1000);
	}
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", atoi(buf));
	*ret_ns2 = open(path, O_RDONLY | O_CLOEXEC);
	return *ret_ns1 < 0 || *ret_ns2 < 0 ? -1 : 0;
}

/* ---- part 1: one process ------------------------------------------------------------ */

enum { R_STATUS_PARSE, R_AUTO, R_STATUS, R_FDINFO, R_NSFS, R_AUTO_PGID, R_NR };
static const char *const rname[R_NR] = { "status-parse", "auto", "status",
					 "fdinfo",	 "nsfs", "auto(pgid)" };

static int proc_nr(pid_t pid)
{
	char path[64], buf[512];
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), fd, v = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		parse_line(buf, "\nPid:", &v);
	}
	close(fd);
	close(pidfd);
	return v;
}

static int bench_one(pid_t pid, int levels, const char *procs)
{
	enum { BATCH = 50 };
	int nb = cfg.reads / BATCH, procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	static double cpu[R_NR][MAXB], wall[R_NR][MAXB];
	char rel[64];
	double mc[R_NR], mw[R_NR];

	if (nb > MAXB)
		nb = MAXB;
	snprintf(rel, sizeof(rel), "%d/status", proc_nr(pid));
	for (int b = 0; b < nb; b++)
		for (int k = 0; k < R_NR; k++) {
			int s = b & 1 ? R_NR - 1 - k : k;
			double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);

			for (int i = 0; i < BATCH; i++) {
				struct pidtuple *t = NULL;
				struct ids ids;
				int r;

				if (s == R_STATUS_PARSE) {
					r = status_read(procfd, rel, &ids) ==
							    levels + !strcmp(procs, "outer")
						    ? 0
						    : -EIO;
				} else {
					PIDTUPLE_OPTS(pidtuple_read_opts, o,
						      .source = s == R_AUTO_PGID
									? 0
									: (uint32_t)(s - R_AUTO));
					r = pidtuple_read(pid,
							  s == R_AUTO_PGID ? PIDTUPLE_KIND_PGID
									   : PIDTUPLE_KIND_TGID,
							  &o, &t);
					pidtuple_free(t);
				}
				if (r < 0) {
					fprintf(stderr, "bench_read: %s of %d: %s\n", rname[s],
						(int)pid, pidtuple_strerror(r));
					close(procfd);
					return 1;
				}
			}
			cpu[s][b] = (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / BATCH;
			wall[s][b] = (now(CLOCK_MONOTONIC) - w0) / BATCH;
		}
	close(procfd);
	for (int s = 0; s < R_NR; s++) {
		mc[s] = median(cpu[s], nb);
		mw[s] = median(wall[s], nb);
	}
	for (int s = 0; s < R_NR; s++)
		printf("read %-6s /proc  %d level%s  %-12s cpu %7.2f us  wall %7.2f us  "
		       "status-parse/this %5.2fx (wall %5.2fx)\n",
		       procs, levels, levels > 1 ? "s" : " ", rname[s], mc[s] / 1e3, mw[s] / 1e3,
		       mc[R_STATUS_PARSE] / mc[s], mw[R_STATUS_PARSE] / mw[s]);
	return 0;
}

/* ---- part 2: scans ------------------------------------------------------------------ */

enum { S_BASE, S_BASE_STAT, S_DEFAULT, S_STATUS, S_NSFS, S_URING, S_BPF, S_PS, S_NR };
static const char *const sname[S_NR] = {
	"status-parse scan",	"status+stat scan",   "pidtuple_scan default",
	"pidtuple_scan status", "pidtuple_scan nsfs", "pidtuple_scan uring",
	"pidtuple_scan bpf",	"procps ps",
};
/* /proc is our namespace's: ps then lists what the scans list. */
static bool own_proc;
/* The BPF program's load, timed in main() before anything else loads it. */
static double bpf_load_ms;
static int bpf_err;
static double ps_cpu; /* the last ps run's CPU time (user + system), ns */

/* ps's second read per process: its stat, parsed for the state, parent, group and session. */
static bool stat_read(int dirfd, const char *name)
{
	char rel[300], buf[1024], state;
	int fd, ppid, pgrp, sid;
	const char *rp;
	ssize_t len;

	snprintf(rel, sizeof(rel), "%s/stat", name);
	fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	rp = strrchr(buf, ')'); /* the command name may hold anything */
	return rp && sscanf(rp + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) == 4;
}

/* The baseline: every process's status, parsed, and with @with_stat its stat too, as procps
 * reads both (the baseline the issue measured). Returns the count. */
static long scan_base(bool with_stat)
{
	int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdopendir(dup(procfd));
	struct dirent *e;
	long n = 0;

	while (d && (e = readdir(d))) {
		struct ids ids;
		char rel[300];

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(rel, sizeof(rel), "%s/status", e->d_name);
		if (status_read(procfd, rel, &ids) > 0 &&
		    (!with_stat || stat_read(procfd, e->d_name)))
			n++;
	}
	if (d)
		closedir(d);
	close(procfd);
	return n;
}

static double children_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

/* procps ps, its output counted: the processes it listed, or -2 when it is not installed. */
static long scan_ps(void)
{
	double c0 = children_cpu();
	char buf[65536];
	int p[2], st = 0;
	long lines = 0;
	ssize_t r;
	pid_t pid;

	if (!own_proc || pipe2(p, O_CLOEXEC) < 0)
		return -2;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execlp("ps", "ps", "-e", "-o", "pid=,ppid=,pgid=,sid=", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while ((r = read(p[0], buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			lines += buf[i] == '\n';
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -2;
	ps_cpu = children_cpu() - c0;
	return lines;
}

static long scan_lib(const char *source, uint64_t flags, size_t *heap100, size_t *heap_end)
{
	PIDTUPLE_OPTS(pidtuple_scan_opts, o, .flags = flags);
	struct pidtuple_scan *s = NULL;
	struct pidtuple_scan_entry e = { .sz = sizeof(e) };
	long n = 0;
	int r;

	if (source)
		setenv("PIDTUPLE_SCAN_SOURCE", source, 1);
	else
		unsetenv("PIDTUPLE_SCAN_SOURCE");
	r = pidtuple_scan_new(&o, &s);
	if ((r == -EOPNOTSUPP && flags) || (r < 0 && source && !strcmp(source, "bpf")))
		return -2; /* built without liburing or the BPF scan, or not allowed here */
	if (r < 0) {
		fprintf(stderr, "bench_read: scan_new: %s\n", pidtuple_strerror(r));
		return -1;
	}
	while ((r = pidtuple_scan_next(s, &e)) > 0) {
		if (++n == 100 && heap100)
			*heap100 = mallinfo2().uordblks;
	}
	if (heap_end)
		*heap_end = mallinfo2().uordblks;
	pidtuple_scan_free(s);
	if (r < 0) {
		fprintf(stderr, "bench_read: scan_next: %s\n", pidtuple_strerror(r));
		return -1;
	}
	return n;
}

static int bench_scans(void)
{
	static double cpu[S_NR][64], wall[S_NR][64];
	int rounds = cfg.rounds > 64 ? 64 : cfg.rounds;
	long count[S_NR] = { 0 };
	size_t h100[S_NR] = { 0 }, hend[S_NR] = { 0 };
	double mc[S_NR], mw[S_NR];

	for (int b = 0; b < rounds; b++)
		for (int k = 0; k < S_NR; k++) {
			int s = b & 1 ? S_NR - 1 - k : k;
			double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
			long n;

			switch (s) {
			case S_BASE:
			case S_BASE_STAT:
				n = scan_base(s == S_BASE_STAT);
				break;
			case S_DEFAULT:
				n = scan_lib(NULL, 0, &h100[s], &hend[s]);
				break;
			case S_STATUS:
				n = scan_lib("status", 0, &h100[s], &hend[s]);
				break;
			case S_NSFS:
				n = scan_lib("nsfs", 0, &h100[s], &hend[s]);
				break;
			case S_URING:
				n = scan_lib(NULL, PIDTUPLE_SCAN_URING, &h100[s], &hend[s]);
				break;
			case S_BPF:
				n = scan_lib("bpf", 0, &h100[s], &hend[s]);
				break;
			default:
				n = scan_ps();
				break;
			}
			cpu[s][b] = now(CLOCK_PROCESS_CPUTIME_ID) - c0 + (s == S_PS ? ps_cpu : 0);
			wall[s][b] = now(CLOCK_MONOTONIC) - w0;
			if (n == -2) {
				count[s] = -2;
				continue;
			}
			if (n < 0)
				return 1;
			count[s] = n;
		}
	for (int s = 0; s < S_NR; s++) {
		mc[s] = median(cpu[s], rounds);
		mw[s] = median(wall[s], rounds);
	}
	for (int s = 0; s < S_NR; s++) {
		if (count[s] == -2) {
			printf("scan %-22s not available (%s)\n", sname[s],
			       s == S_BPF  ? "no BPF scan here, see pidtuple features"
			       : s == S_PS ? "only with our own /proc, and procps installed"
					   : "built without liburing?");
			continue;
		}
		printf("scan %-22s %6ld entries  cpu %8.2f ms (%6.2f us/process)  wall %8.2f ms  "
		       "(%6.2f us/process)  status-parse/this %5.2fx (wall %5.2fx)  "
		       "status+stat/this %5.2fx\n",
		       sname[s], count[s], mc[s] / 1e6, mc[s] / 1e3 / (double)count[s], mw[s] / 1e6,
		       mw[s] / 1e3 / (double)count[s], mc[S_BASE] / mc[s], mw[S_BASE] / mw[s],
		       mc[S_BASE_STAT] / mc[s]);
	}
	for (int s = S_DEFAULT; s < S_PS; s++)
		if (count[s] > 0)
			printf("scan memory %-22s heap in use at entry 100 %zu bytes, at the last "
			       "entry %zu bytes (difference %+ld)\n",
			       sname[s], h100[s], hend[s], (long)hend[s] - (long)h100[s]);
	return 0;
}

/* ---- part 3: whole commands ---------------------------------------------------------- */

/* `pidtuple ps --json` as a user runs it (fork, exec, its output to /dev/null), against
 * procps ps of the same columns, and what the command costs before it lists anything: the
 * exec alone (--version) and the exec with the BPF program's load (features). */
enum { C_PS, C_PT, C_PT_STATUS, C_PT_NOCOMM, C_PT_FEATURES, C_PT_VERSION, C_PT_OTHER, C_NR };
static const char *const cname[C_NR] = {
	"ps -eo pid,ppid,pgid,sid,comm",
	"pidtuple ps --json",
	"pidtuple ps --json, PIDTUPLE_SCAN_SOURCE=status",
	"pidtuple ps --json -o (all but COMM: no name reads)",
	"pidtuple features (loads the BPF program)",
	"pidtuple --version (exec and linking only)",
	"pidtuple ps --json of --compare PATH",
};
static char pidtuple_path[4096]; /* --pidtuple, or tools/pidtuple next to bench/ */
static char other_path[4096];	 /* --compare: another build's pidtuple, or empty */

/* Runs command @c with its output to @out_fd; its CPU time (user + system) in *@cpu, ns.
 * Returns its exit status, or -1. */
static int run_cmd(int c, int out_fd, double *cpu)
{
	char *const ps[] = { "ps", "-eo", "pid,ppid,pgid,sid,comm", NULL };
	char *const pt[] = { pidtuple_path, "ps", "--json", NULL };
	char *const ot[] = { other_path, "ps", "--json", NULL };
	char *const ft[] = { pidtuple_path, "features", NULL };
	char *const vs[] = { pidtuple_path, "--version", NULL };
	char *const nc[] = {
		pidtuple_path, "ps", "--json", "-o", "PID,PPID,TUPLE,NEWPID,NS_ID,PGID,SID", NULL
	};
	struct rusage ru;
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		dup2(out_fd, 1);
		if (c == C_PT_STATUS)
			setenv("PIDTUPLE_SCAN_SOURCE", "status", 1);
		else
			unsetenv("PIDTUPLE_SCAN_SOURCE");
		if (c == C_PS)
			execvp(ps[0], ps);
		else if (c == C_PT_OTHER)
			execv(other_path, ot);
		else
			execv(pidtuple_path, c == C_PT_FEATURES	 ? ft
					     : c == C_PT_VERSION ? vs
					     : c == C_PT_NOCOMM	 ? nc
								 : pt);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
		return -1;
	*cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Lines command @c prints, run once untimed into a memory file; -1 on failure. */
static long cmd_lines(int c)
{
	int fd = memfd_create("bench_read-out", MFD_CLOEXEC), st;
	char buf[65536];
	long lines = 0;
	double cpu;
	ssize_t r;

	if (fd < 0)
		return -1;
	st = run_cmd(c, fd, &cpu);
	if (st == 0 && lseek(fd, 0, SEEK_SET) == 0)
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			for (ssize_t i = 0; i < r; i++)
				lines += buf[i] == '\n';
	close(fd);
	return st == 0 ? lines : -1;
}

static int bench_commands(void)
{
	static double cpu[C_NR][64], wall[C_NR][64];
	int rounds = cfg.cmd_rounds > 64 ? 64 : cfg.cmd_rounds;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int nc = other_path[0] ? C_NR : C_PT_OTHER; /* the last one only with --compare */
	double mc[C_NR], mw[C_NR];
	long lines[C_NR];

	for (int c = 0; c < nc; c++) {
		lines[c] = cmd_lines(c); /* also warms the page cache */
		if (lines[c] < 0) {
			fprintf(stderr, "bench_read: %s failed\n", cname[c]);
			close(null);
			return 1;
		}
	}
	for (int b = 0; b < rounds; b++)
		for (int k = 0; k < nc; k++) {
			int c = b & 1 ? nc - 1 - k : k;
			double w0 = now(CLOCK_MONOTONIC);

			if (run_cmd(c, null, &cpu[c][b]) != 0) {
				fprintf(stderr, "bench_read: %s failed\n", cname[c]);
				close(null);
				return 1;
			}
			wall[c][b] = now(CLOCK_MONOTONIC) - w0;
		}
	close(null);
	for (int c = 0; c < nc; c++) {
		mc[c] = median(cpu[c], rounds);
		mw[c] = median(wall[c], rounds);
	}
	for (int c = 0; c < nc; c++)
		printf("command %-51s %6ld lines  cpu %8.2f ms  wall %8.2f ms  this/ps %5.3fx "
		       "(wall %5.3fx)\n",
		       cname[c], lines[c], mc[c] / 1e6, mw[c] / 1e6, mc[c] / mc[C_PS],
		       mw[c] / mw[C_PS]);
	printf("command ratio pidtuple ps --json / ps: cpu %.3fx, wall %.3fx (median of %d)\n",
	       mc[C_PT] / mc[C_PS], mw[C_PT] / mw[C_PS], rounds);
	if (nc > C_PT_OTHER)
		printf("command ratio pidtuple ps --json / --compare's: cpu %.3fx, wall %.3fx\n",
		       mc[C_PT] / mc[C_PT_OTHER], mw[C_PT] / mw[C_PT_OTHER]);
	return 0;
}

/* ---- the run ------------------------------------------------------------------------ */

static int body(void *arg)
{
	pid_t holder, *kids;
	int ns[3], self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC), made = 0, ret = 0;
	size_t stack_sz = 8192;
	char *stacks;
	pid_t one[3];

	(void)arg;
	/* ns[0] is ours; ns[1] below it, ns[2] below ns[1]. */
	ns[0] = self_ns;
	if (make_ns(&holder, &ns[1], &ns[2]) < 0) {
		fprintf(stderr, "bench_read: nested namespaces: %s\n", strerror(errno));
		return 1;
	}
	kids = calloc((size_t)cfg.procs + 3, sizeof(*kids));
	/* A small stack each: the sleepers only ever sit in pause(). */
	stacks = mmap(NULL, stack_sz * ((size_t)cfg.procs + 3), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!kids || stacks == MAP_FAILED)
		return 1;
	for (int l = 0; l < 3; l++) {
		if (setns(ns[l], CLONE_NEWPID) < 0)
			return 1;
		one[l] = spawn_sleeper(stacks + stack_sz * (size_t)(made + 1));
		kids[made++] = one[l];
	}
	for (int i = 3; i < cfg.procs; i++) {
		if (setns(ns[i % 3], CLONE_NEWPID) < 0)
			return 1;
		kids[made] = spawn_sleeper(stacks + stack_sz * (size_t)(made + 1));
		if (kids[made] < 0) {
			fprintf(stderr, "bench_read: clone #%d: %s\n", i, strerror(errno));
			ret = 1;
			break;
		}
		made++;
	}
	setns(self_ns, CLONE_NEWPID);
	printf("bench_read: BPF scan program: %s (%.2f ms, once per process)\n",
	       bpf_err ? pidtuple_feature_reason(PIDTUPLE_FEATURE_BPF_SCAN) : "loaded",
	       bpf_load_ms);
	printf("bench_read: %d sleeping processes over 3 levels (+2 namespace inits), "
	       "features 0x%llx\n",
	       made, (unsigned long long)pidtuple_features());

	for (int l = 0; !ret && !cfg.only_commands && l < 3; l++)
		ret = bench_one(one[l], l + 1, "outer");
	if (!ret && !cfg.only_commands)
		ret = bench_scans();
	/* The same with a /proc of our own namespace. */
	if (!ret && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
		printf("-- with a /proc of our own namespace --\n");
		own_proc = true;
		for (int l = 0; !ret && !cfg.only_commands && l < 3; l++)
			ret = bench_one(one[l], l + 1, "own");
		if (!ret && !cfg.only_commands)
			ret = bench_scans();
		if (!ret && cfg.cmd_rounds && !pidtuple_path[0])
			printf("command: not measured (no pidtuple next to bench/; --pidtuple "
			       "PATH)\n");
		else if (!ret && cfg.cmd_rounds)
			ret = bench_commands();
	}
	for (int i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	kill(holder, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	free(kids);
	return ret;
}

/* tools/pidtuple of the same build tree: ../tools/pidtuple from this program's directory. */
static void default_pidtuple(void)
{
	char self[4000];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(pidtuple_path, sizeof(pidtuple_path), "%s/../tools/pidtuple", self);
	if (access(pidtuple_path, X_OK) < 0)
		pidtuple_path[0] = '\0';
}

int main(int argc, char **argv)
{
	uint64_t need = PIDTUPLE_FEATURE_CAP_SYS_ADMIN;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--procs"))
			cfg.procs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			cfg.rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--reads"))
			cfg.reads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--cmd-rounds"))
			cfg.cmd_rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--pidtuple"))
			snprintf(pidtuple_path, sizeof(pidtuple_path), "%s", argv[i + 1]);
		else if (!strcmp(argv[i], "--compare"))
			snprintf(other_path, sizeof(other_path), "%s", argv[i + 1]);
		else if (!strcmp(argv[i], "--only") && !strcmp(argv[i + 1], "commands"))
			cfg.only_commands = true;
		else
			cfg.procs = 0; /* usage */
	}
	if (argc % 2 == 0 || cfg.procs < 3 || cfg.rounds < 1 || cfg.reads < 50 ||
	    cfg.cmd_rounds < 0) {
		fprintf(stderr,
			"usage: %s [--procs N (10000)] [--rounds N (5)] [--reads N (3000)]\n"
			"       [--cmd-rounds N (11, 0: none)] [--pidtuple PATH] [--compare PATH]\n"
			"       [--only commands]\n",
			argv[0]);
		return 2;
	}
	if (!pidtuple_path[0])
		default_pidtuple();
	{
		double w0 = now(CLOCK_MONOTONIC);

		bpf_err = pidtuple_feature_error(PIDTUPLE_FEATURE_BPF_SCAN);
		bpf_load_ms = (now(CLOCK_MONOTONIC) - w0) / 1e6;
	}
	if (geteuid() != 0 || (pidtuple_features() & need) != need) {
		fprintf(stderr, "bench_read: skipped: needs root with CAP_SYS_ADMIN\n");
		return BENCH_SKIP;
	}
	return bench_in_pidns("bench_read", body, NULL);
}
