/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed_restore.c: restore a process's PIDs in a container's namespaces from outside, and let
 * the kernel choose the PIDs of the levels above the container.
 *
 * This is what a checkpoint/restore tool does: a container's root PID namespace sits at
 * level n of the host's tree, and a process of the container lived at level N >= n with
 * known PIDs at levels n..N. Those are recreated exactly; the levels above n belong to the
 * host, which numbers the new process as it likes.
 *
 *   this program                    level n-1 (the "host" here)
 *   `-- holder 1: X/1               init of the container's namespace C, level n
 *       `-- holder 2: X/Y/1         init of namespace D inside it, level n+1 = N
 *   restored process: ?/17/5        17 in C and 5 in D are pinned; ? is the kernel's
 *
 * The restored process is created by this program, outside the container: it joins D for
 * its children with setns(CLONE_NEWPID) and forks with the suffix tuple 17/5.
 *
 * Build:  cc -o seed_restore seed_restore.c $(pkg-config --cflags --libs libpidtuple)
 * Run:    unshare --pid --fork --kill-child ./seed_restore     (as root)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pidtuple.h>

#define SUFFIX "17/5"

/* Passes a file descriptor over a UNIX socket (SCM_RIGHTS). */
static void send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
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
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Forks the init of a new PID namespace: tuple "1" with CLONE_NEWPID pins only its PID
 * inside, 1; the kernel chooses the one in the caller's namespace. */
static pid_t fork_holder(int *ret_pidfd)
{
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .clone_flags = CLONE_NEWPID);
	struct pidtuple *one = NULL;
	pid_t pid;

	if (pidtuple_parse("1", &one, NULL) < 0)
		return -1;
	pid = pidtuple_fork(one, &opts, ret_pidfd);
	if (pid == 0) {
		/* Die with the creator, so nothing outlives this program. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	} else {
		pidtuple_free(one);
	}
	return pid;
}

/*
 * Holder 1, the container's init: creates holder 2 one level further in and sends its pidfd
 * out. This program has no threads, so the child of pidtuple_fork() may use the C library.
 */
static void __attribute__((noreturn)) holder1(int sock)
{
	int pidfd = -1;
	pid_t pid = fork_holder(&pidfd);

	if (pid == 0) {
		for (;;)
			pause();
	}
	send_fd(sock, pid > 0 ? pidfd : -1); /* an invalid fd makes the message fail */
	for (;;)
		pause();
}

static void print_tuple(const char *who, int pidfd)
{
	struct pidtuple *t;
	char text[64];

	if (pidtuple_of_pidfd(pidfd, &t) < 0)
		return;
	pidtuple_format(t, text, sizeof(text));
	printf("%-34s %s\n", who, text);
	pidtuple_free(t);
}

/*
 * Creates the restored process with exactly @want in the namespace of @ns_pidfd's process
 * and the levels above it, from this program, which lives outside. The child waits until
 * @done_rd reports EOF. Returns its PID here, or a negative errno.
 */
static pid_t restore(int ns_pidfd, const struct pidtuple *want, int done_rd, int done_wr)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag);
	int self_ns, r;
	pid_t pid;

	/* Children of this program now go to that namespace (setns() takes a pidfd since Linux
	 * 5.8; an fd of /proc/PID/ns/pid works too). Meanwhile no thread can be created, and
	 * no CLONE_NEWPID. */
	self_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (self_ns < 0)
		return -errno;
	if (setns(ns_pidfd, CLONE_NEWPID) < 0) {
		r = -errno;
		close(self_ns);
		return r;
	}

	/* Every pinned level is below this program's namespace, so the validator can check
	 * them all: it returns 0, not a count of unverified levels. */
	r = pidtuple_check(want, &opts, &diag);
	printf("%-34s %d (%s)\n", "pidtuple_check(" SUFFIX "):", r,
	       r == 0 ? "every pinned level checked" : diag.message);

	fflush(stdout);
	pid = pidtuple_fork(want, &opts, NULL);
	if (pid == 0) {
		/* Async-signal-safe calls only: wait until the parent closes the pipe. */
		char c;

		close(done_wr);
		(void)!read(done_rd, &c, 1);
		_exit(0);
	}
	if (pid < 0)
		fprintf(stderr, "seed_restore: pidtuple_fork(%s): %s\n  rule %s: %s\n", SUFFIX,
			pidtuple_strerror(pid), pidtuple_rule_name(diag.rule), diag.message);

	/* Back to this program's own namespace for later children. */
	if (setns(self_ns, CLONE_NEWPID) < 0)
		perror("seed_restore: setns back");
	close(self_ns);
	return pid;
}

/* Reads the restored process's tuple: one level more than @want, this program's. */
static int report(pid_t pid, const struct pidtuple *want)
{
	struct pidtuple *got = NULL;
	char text[64];
	int r = pidtuple_of_pid(pid, &got), ok;

	if (r < 0) {
		fprintf(stderr, "seed_restore: pidtuple_of_pid: %s\n", pidtuple_strerror(r));
		return 0;
	}
	pidtuple_format(got, text, sizeof(text));
	printf("%-34s %s\n", "restored process, read back:", text);
	printf("  here (level n-1), kernel's choice: %d\n", (int)pidtuple_get(got, 2));
	printf("  in C (level n),   pinned:          %d\n", (int)pidtuple_get(got, 1));
	printf("  in D (level N),   pinned:          %d\n", (int)pidtuple_get(got, 0));
	/* The outermost level is what pidtuple_fork() returned; the rest is the suffix. */
	ok = pidtuple_levels(got) == 3 && pidtuple_get(got, 2) == pid &&
	     pidtuple_get(got, 1) == pidtuple_get(want, 1) &&
	     pidtuple_get(got, 0) == pidtuple_get(want, 0);
	pidtuple_free(got);
	return ok;
}

int main(void)
{
	uint64_t features = pidtuple_features();
	struct pidtuple *want = NULL;
	int sv[2], done[2], h1_pidfd, h2_pidfd, ok = 0;
	pid_t h1, restored;

	if (!(features & PIDTUPLE_FEATURE_SET_TID) ||
	    !(features & PIDTUPLE_FEATURE_CAP_SYS_ADMIN)) {
		fprintf(stderr, "seed_restore: needs clone3() set_tid and CAP_SYS_ADMIN (run as "
				"root); skipped\n");
		return 77;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pidtuple_parse(SUFFIX, &want, NULL) < 0)
		return 1;

	/* 1. The container: namespaces C and D, nested below this program's. */
	fflush(stdout);
	h1 = fork_holder(&h1_pidfd);
	if (h1 == 0)
		holder1(sv[1]);
	close(sv[1]);
	if (h1 < 0) {
		fprintf(stderr, "seed_restore: cannot create the container: %s\n",
			pidtuple_strerror(h1));
		return 1;
	}
	h2_pidfd = recv_fd(sv[0]);
	close(sv[0]);
	if (h2_pidfd >= 0) {
		print_tuple("holder 1, init of C:", h1_pidfd);
		print_tuple("holder 2, init of D:", h2_pidfd);
	}

	/* 2. Restore the process. The pipe is made only now, so that no holder keeps a copy
	 * of its write end. */
	if (h2_pidfd >= 0 && pipe2(done, O_CLOEXEC) == 0) {
		restored = restore(h2_pidfd, want, done[0], done[1]);
		if (restored > 0)
			ok = report(restored, want);
		/* The restored process is our child although it lives in D: reap it before
		 * killing the container, whose init would otherwise wait for that reap. */
		close(done[1]);
		close(done[0]);
		if (restored > 0)
			while (waitpid(restored, NULL, 0) < 0 && errno == EINTR)
				;
		close(h2_pidfd);
	}

	/* 3. Killing holder 1 ends C, and with it D and holder 2. */
	kill(h1, SIGKILL);
	while (waitpid(h1, NULL, 0) < 0 && errno == EINTR)
		;
	close(h1_pidfd);
	pidtuple_free(want);
	if (!ok)
		fprintf(stderr, "seed_restore: failed\n");
	return ok ? 0 : 1;
}
