/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidtuple.h"

#ifdef TH_HAVE_LSAN
#include <sanitizer/lsan_interface.h>

int th_leak_check(void)
{
	return __lsan_do_recoverable_leak_check();
}
#else
int th_leak_check(void)
{
	return 0;
}
#endif

int th_in_pidns(int (*fn)(void *), void *arg)
{
	int pipefd[2], st;
	pid_t pid;

	/* fn's process flushes stdio when it returns: it must not inherit pending output. */
	fflush(NULL);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(pipefd[0]);
		/* A test killed on timeout must not leave its namespace behind. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* The intermediate process unshares, so the namespace dies with fn. */
		if (unshare(CLONE_NEWPID) < 0) {
			int e = errno;

			(void)!write(pipefd[1], &e, sizeof(e));
			_exit(125);
		}
		pid = fork();
		if (pid < 0) {
			int e = errno;

			(void)!write(pipefd[1], &e, sizeof(e));
			_exit(125);
		}
		if (pid == 0) {
			int r;

			close(pipefd[1]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			r = fn(arg);
			fflush(NULL);
			_exit(r & 0xff);
		}
		close(pipefd[1]);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	close(pipefd[1]);
	{
		int e = 0;
		ssize_t n = read(pipefd[0], &e, sizeof(e));

		close(pipefd[0]);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (n == (ssize_t)sizeof(e))
			return -e;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct clean_arg {
	int (*fn)(void *);
	void *arg;
};

static int clean_run(void *p)
{
	const struct clean_arg *c = p;
	int fds = th_count_fds(), kids, r;

	TH_CHECK(fds >= 0, "cannot count fds: %d", fds);
	TH_CHECK(th_count_children() == 0, "children before the test");
	r = c->fn(c->arg);
	if (r)
		return r;
	kids = th_count_children();
	TH_CHECK(th_count_fds() == fds, "fd leak: %d open, %d before", th_count_fds(), fds);
	TH_CHECK(kids == 0, "%d children or zombies left", kids);
	return 0;
}

int th_in_pidns_clean(int (*fn)(void *), void *arg)
{
	struct clean_arg c = { fn, arg };

	return th_in_pidns(clean_run, &c);
}

int th_run_leak_checked(int (*fn)(void *), void *arg)
{
	int r = fn(arg);

	if (r)
		return r;
	/* In the namespace's init, where the library ran: LSan would not look there otherwise. */
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

static int leak_checked(void *p)
{
	const struct clean_arg *c = p;

	return th_run_leak_checked(c->fn, c->arg);
}

int th_in_pidns_leakfree(int (*fn)(void *), void *arg)
{
	struct clean_arg c = { fn, arg };

	return th_in_pidns_clean(leak_checked, &c);
}

int th_in_child(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int r = fn(arg);

		fflush(NULL);
		_exit(r);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int th_wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, __WALL) != pid)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int th_clean_up(pid_t holder, int nsfd, int fds)
{
	if (holder > 0)
		kill(holder, SIGKILL);
	if (nsfd >= 0)
		close(nsfd);
	th_kill_children();
	TH_CHECK(th_count_children() == 0, "%d children left", th_count_children());
	TH_CHECK(th_count_fds() == fds, "%d fds, had %d", th_count_fds(), fds);
	return 0;
}

int th_read_pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

bool th_kernel_at_least(int maj, int min)
{
	struct utsname u;
	int have_maj = 0, have_min = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &have_maj, &have_min) != 2)
		return false;
	return have_maj > maj || (have_maj == maj && have_min >= min);
}

int th_nested_pid_max(void)
{
	return th_kernel_at_least(6, 14) ? TH_PID_MAX_LIMIT : th_read_pid_max();
}

int th_mount_own_proc(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

int th_tuple_is(const struct pidtuple *t, const char *want, const char *what)
{
	char buf[512];

	if (!t) {
		fprintf(stderr, "%s: no tuple, want %s\n", what, want);
		return 1;
	}
	if (pidtuple_format(t, buf, sizeof(buf)) < 0)
		snprintf(buf, sizeof(buf), "(unformattable)");
	if (strcmp(buf, want) != 0) {
		fprintf(stderr, "%s: read %s, want %s\n", what, buf, want);
		return 1;
	}
	return 0;
}

pid_t th_raw_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

pid_t th_raw_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

int th_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}

int th_pidfd_send_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

pid_t th_proc_pid(int pidfd)
{
	char path[64], line[256];
	pid_t pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	fclose(f);
	return pid;
}

int th_raw_clone3(const struct th_clone_args *a, size_t size)
{
	long pid = syscall(TH_NR_CLONE3, a, size);

	if (pid == 0)
		_exit(0);
	if (pid < 0)
		return -errno;
	while (waitpid((pid_t)pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	return 0;
}

int th_kernel_verdict(const pid_t *pids, size_t n, uint64_t flags, uint64_t exit_signal)
{
	struct th_clone_args a = {
		.flags = flags,
		.exit_signal = exit_signal,
		.set_tid = (uintptr_t)pids,
		.set_tid_size = n,
	};

	return th_raw_clone3(&a, sizeof(a));
}

int th_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

int th_count_children(void)
{
	char path[300], buf[8192];
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		int fd;
		ssize_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		for (char *p = strtok(buf, " \n"); p; p = strtok(NULL, " \n"))
			n++;
	}
	closedir(d);
	return n;
}

int th_reap_exited(void)
{
	int n = 0;

	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		n++;
	return n;
}

int th_nspid_entries(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");
	int n = -1;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "NSpid:", 6) == 0) {
			n = 0;
			for (char *p = strtok(line + 6, " \t\n"); p; p = strtok(NULL, " \t\n"))
				n++;
			break;
		}
	fclose(f);
	return n;
}

/* The entry of /proc's NSpid line that is the caller's own namespace level; < 0 if unknown. */
static int own_level_index(void)
{
	int n = th_nspid_entries();

	return n > 0 ? n - 1 : -1;
}

int th_kill_children(void)
{
	char path[64], buf[8192];
	int n = 0, fd, level;
	ssize_t len;

	if (getpid() == 1) {
		/* The namespace's init: everything else in it is ours to end. */
		kill(-1, SIGKILL);
	} else {
		/* thread-self: /proc may number us differently from our own namespace. */
		fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
		level = own_level_index();
		len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		for (char *save = NULL,
			  *p = len > 0 ? (buf[len] = '\0', strtok_r(buf, " \n", &save)) : NULL;
		     p && level >= 0; p = strtok_r(NULL, " \n", &save)) {
			char line[256];
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%s/status", p);
			f = fopen(path, "re");
			while (f && fgets(line, sizeof(line), f))
				if (strncmp(line, "NSpid:", 6) == 0) {
					char *q = strtok(line + 6, " \t\n");

					for (int i = 0; q && i < level; i++)
						q = strtok(NULL, " \t\n");
					if (q)
						kill(atoi(q), SIGKILL);
				}
			if (f)
				fclose(f);
		}
	}
	while (waitpid(-1, NULL, __WALL) > 0)
		n++;
	return n;
}

bool th_privileged(void)
{
	uint64_t f = pidtuple_features();

	return geteuid() == 0 && (f & PIDTUPLE_FEATURE_CAP_SYS_ADMIN) &&
	       (f & PIDTUPLE_FEATURE_SET_TID);
}

void th_require_privilege(void)
{
	const char *ci = getenv("CI");

	if (th_privileged())
		return;
	if (ci && strcmp(ci, "true") == 0) {
		fprintf(stderr, "privileged suite cannot run under CI: not root with "
				"CAP_SYS_ADMIN and clone3 set_tid\n");
		exit(1);
	}
	fprintf(stderr, "skipped: needs root with CAP_SYS_ADMIN and clone3 set_tid\n");
	exit(TH_SKIP);
}

struct holder_arg {
	int depth;
	const pid_t *pids; /* pids[k]: PID of the init of level k+1 inside level k */
	int sock;
};

static void send_fd(int sock, int fd)
{
	char c = 1, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	(void)!sendmsg(sock, &msg, 0);
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EIO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Each level's init creates the next level's init; the innermost sends its namespace. */
static int holder_level(struct holder_arg *h, int level)
{
	if (level == h->depth) {
		int fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return 1; /* the socket closes with us: the caller reads EOF */
		send_fd(h->sock, fd);
		close(fd);
		close(h->sock);
		for (;;)
			pause();
	}
	{
		pid_t want[2] = { 1, h->pids ? h->pids[level] : 0 };
		struct pidtuple *t = NULL;
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = CLONE_NEWPID);
		pid_t pid;

		pidtuple_from_inner(want, h->pids ? 2 : 1, &t);
		pid = pidtuple_fork(t, &o, NULL);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(holder_level(h, level + 1));
		}
		pidtuple_free(t);
		if (pid < 0)
			return 1;
		/* Only the innermost holder may keep the socket: if a deeper level fails, the
		 * caller must read EOF instead of waiting for ever. */
		close(h->sock);
		for (;;)
			pause();
	}
}

pid_t th_make_nested_ns(int depth, const pid_t *outer_pids, int *ret_nsfd)
{
	struct holder_arg h = { .depth = depth, .pids = outer_pids };
	int sv[2], fd;
	pid_t pid;

	if (depth < 1 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -EINVAL;
	h.sock = sv[1];
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(holder_level(&h, 0));
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	close(sv[0]);
	if (fd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return fd;
	}
	*ret_nsfd = fd;
	return pid;
}

int th_tree_same_as_captured(const struct pidtuple_tree *t, const struct pidtuple_restore *rs)
{
	struct pidtuple_tree *cap = NULL;
	int r = pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), &cap);

	TH_CHECK(r == 0, "capture: %s", pidtuple_strerror(r));
	TH_CHECK(pidtuple_tree_size(cap) == pidtuple_tree_size(t), "size");
	for (int i = 0; i < pidtuple_tree_size(t); i++) {
		PIDTUPLE_OPTS(pidtuple_node, x);
		PIDTUPLE_OPTS(pidtuple_node, y);

		pidtuple_tree_get(t, (unsigned int)i, &x);
		/* Capture lists in its own order: the node with the same PIDs. */
		for (int j = 0; j < pidtuple_tree_size(cap); j++)
			if (pidtuple_tree_get(cap, (unsigned int)j, &y) == 0 &&
			    pidtuple_equal(x.tuple, y.tuple) == 1)
				break;
		TH_CHECK(pidtuple_equal(x.tuple, y.tuple) == 1, "node %d: not captured", i);
		if (x.name)
			TH_CHECK(y.name && !strcmp(x.name, y.name), "node %d: name %s", i, y.name);
		TH_CHECK(x.nthreads == y.nthreads, "node %d: %u threads", i, y.nthreads);
		for (uint32_t k = 0; k < x.nthreads; k++)
			TH_CHECK(pidtuple_equal(x.threads[k], y.threads[k]) == 1,
				 "node %d thread %u", i, k);
	}
	pidtuple_tree_free(cap);
	return 0;
}

pid_t th_hold_as_session(pid_t want)
{
	struct pidtuple *t = NULL;
	pid_t founder = -1, member = -1;
	int p[2];

	if (pidtuple_from_outer(&want, 1, &t) < 0 || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	/* The number may still be on its way out of the tree restored before (Linux 6.15+). */
	for (int i = 0; i < 200 && (founder = pidtuple_fork(t, NULL, NULL)) == -EEXIST; i++)
		usleep(1000);
	pidtuple_free(t);
	if (founder == 0) {
		pid_t m;

		close(p[0]);
		if (setsid() < 0)
			_exit(1);
		m = fork();
		if (m == 0) {
			setpgid(0, 0);
			for (;;)
				pause();
		}
		(void)!write(p[1], &m, sizeof(m));
		_exit(0);
	}
	close(p[1]);
	if (founder > 0 && read(p[0], &member, sizeof(member)) != sizeof(member))
		member = -1;
	close(p[0]);
	if (founder > 0)
		waitpid(founder, NULL, 0);
	return member;
}
