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
 *     and parse every status) and, with our own /proc, procps `ps -e -o pid,ppid,pgid,sid`
 *     (its CPU time is the child's), in the same run. The BPF program's one-time load is
 *     timed first. Memory: heap in use at the 100th
 *     and at the last entry of each scan (must not grow).
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
	int procs, rounds, reads;
} cfg = { 10000, 5, 3000 };

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

enum { S_BASE, S_DEFAULT, S_STATUS, S_NSFS, S_URING, S_BPF, S_PS, S_NR };
static const char *const sname[S_NR] = {
	"status-parse scan",  "pidtuple_scan default", "pidtuple_scan status",
	"pidtuple_scan nsfs", "pidtuple_scan uring",   "pidtuple_scan bpf",
	"procps ps",
};
/* /proc is our namespace's: ps then lists what the scans list. */
static bool own_proc;
/* The BPF program's load, timed in main() before anything else loads it. */
static double bpf_load_ms;
static int bpf_err;
static double ps_cpu; /* the last ps run's CPU time (user + system), ns */

/* The baseline: every process's status, parsed. Returns the count. */
static long scan_base(void)
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
		if (status_read(procfd, rel, &ids) > 0)
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
				n = scan_base();
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
		       "(%6.2f us/process)  status-parse/this %5.2fx (wall %5.2fx)\n",
		       sname[s], count[s], mc[s] / 1e6, mc[s] / 1e3 / (double)count[s], mw[s] / 1e6,
		       mw[s] / 1e3 / (double)count[s], mc[S_BASE] / mc[s], mw[S_BASE] / mw[s]);
	}
	for (int s = S_DEFAULT; s < S_PS; s++)
		if (count[s] > 0)
			printf("scan memory %-22s heap in use at entry 100 %zu bytes, at the last "
			       "entry %zu bytes (difference %+ld)\n",
			       sname[s], h100[s], hend[s], (long)hend[s] - (long)h100[s]);
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

	for (int l = 0; !ret && l < 3; l++)
		ret = bench_one(one[l], l + 1, "outer");
	if (!ret)
		ret = bench_scans();
	/* The same with a /proc of our own namespace. */
	if (!ret && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 &&
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
		printf("-- with a /proc of our own namespace --\n");
		own_proc = true;
		for (int l = 0; !ret && l < 3; l++)
			ret = bench_one(one[l], l + 1, "own");
		if (!ret)
			ret = bench_scans();
	}
	for (int i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	kill(holder, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	free(kids);
	return ret;
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
	}
	if (argc % 2 == 0 || cfg.procs < 3 || cfg.rounds < 1 || cfg.reads < 50) {
		fprintf(stderr,
			"usage: %s [--procs N (10000)] [--rounds N (5)] [--reads N (3000)]\n",
			argv[0]);
		return 2;
	}
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
