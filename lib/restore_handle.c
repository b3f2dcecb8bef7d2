/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restoring a tree: the handle pidtuple_tree_restore() returns. It holds a pidfd per node,
 * the write end of the barrier, the shared memory and the hand-over socket, and releases,
 * hands over, kills and frees.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "restore_int.h"

#define HANDED_OVER 0xffu /* a HOLD node that executed its program */

struct pidtuple_restore {
	pthread_mutex_t lock;
	unsigned int n;
	int *pidfd;
	pid_t *pid;
	uint8_t *kind;
	struct rs_shm *shm;
	size_t shm_len;
	int bar_w;
	int hs; /* the hand-over socket, -1 without HOLD nodes */
	uint32_t seq;
	bool released;
};

/* ---- shared with the restorer ---- */

/* Reaps those of the processes of @pidfd[0..n) that are the caller's children and have exited
 * (waitid(P_PIDFD) never takes a stranger's child). */
static void reap_exited(const int *pidfd, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (pidfd[i] >= 0)
			(void)pt_waitid_pidfd(pidfd[i], WEXITED | WNOHANG | __WALL);
}

void pt_pidfds_wait_exit(const int *pidfd, unsigned int n, const int *top, unsigned int ntop,
			 int64_t deadline)
{
	for (unsigned int i = 0; i < n; i++) {
		while (pidfd[i] >= 0 && pt_poll_in(pidfd[i]) != 1) {
			int64_t left = (deadline - pt_now_ns()) / 1000000;
			struct pollfd pf = { pidfd[i], POLLIN, 0 };

			if (left <= 0)
				return;
			/* An init finishes exiting only once every number of its namespace is
			 * free, and a zombie keeps its group's and session's. */
			reap_exited(top, ntop);
			if (pt_poll(&pf, 1, left > 100 ? 100 : (int)left) == 0)
				reap_exited(pidfd, n); /* stalled: orphans handed to the caller */
		}
	}
}

/* Counts the processes of @pidfd[*from..n) not released yet, first moving *from past those
 * that are (they stay released). Signal 0 reaches a zombie; ESRCH means released. */
static unsigned int count_unreaped(const int *pidfd, unsigned int *from, unsigned int n)
{
	unsigned int left = 0;

	for (unsigned int i = *from; i < n; i++) {
		if (pidfd[i] < 0 || pt_sys_pidfd_send_signal(pidfd[i], 0) == -ESRCH)
			continue;
		if (!left++)
			*from = i;
	}
	return left;
}

void pt_pidfds_wait_reaped(const int *pidfd, unsigned int n, int64_t deadline)
{
	unsigned int from = 0, left = UINT_MAX;
	int64_t stall = 0;

	for (;;) {
		int64_t now = pt_now_ns();
		unsigned int was = left;

		left = count_unreaped(pidfd, &from, n);
		if (left < was)
			stall = now + PT_REAP_STALL_MS * 1000000ll;
		/* No release for a while: the reaper of what is left is not at work (it may
		 * well be waiting for the caller), and waiting longer frees nothing. */
		if (!left || now >= deadline || now >= stall)
			return;
		pt_poll(NULL, 0, 1);
	}
}

void pt_pidfd_kill(int pidfd)
{
	if (pidfd >= 0 && pt_sys_pidfd_send_signal(pidfd, SIGKILL) < 0)
		(void)pt_sys_pidfd_send_signal(pidfd, SIGKILL);
}

/* A node's PID in the caller's namespace: from the plan, or read back when the caller's
 * namespace is above the tuples. */
static pid_t node_pid(const struct pt_plan *pl, pt_proc_idx i, int pidfd)
{
	struct pidtuple *t = NULL;
	pid_t pid;

	if (pl->cpos >= 0)
		return pl->procs[i].pid[pl->cpos];
	pid = pidtuple_of_pidfd(pidfd, &t) == 0 ? t->pid[t->n - 1] : -ESRCH;
	pidtuple_free(t);
	return pid;
}

int pt_restore_handle_new(struct rs_run *run, int *pidfd, struct pidtuple_restore **ret)
{
	const struct pt_plan *pl = run->pl;
	unsigned int n = pl->nnodes;
	struct pidtuple_restore *rs = pt_malloc(sizeof(*rs));

	if (!rs)
		return -ENOMEM;
	memset(rs, 0, sizeof(*rs));
	rs->pidfd = pt_malloc(n * sizeof(int));
	rs->pid = pt_malloc(n * sizeof(pid_t));
	rs->kind = pt_malloc(n);
	if (!rs->pidfd || !rs->pid || !rs->kind) {
		free(rs->pidfd);
		free(rs->pid);
		free(rs->kind);
		free(rs);
		return -ENOMEM;
	}
	pthread_mutex_init(&rs->lock, NULL);
	rs->n = n;
	for (pt_proc_idx i = 0; i < pl->nnodes; i++) {
		rs->pidfd[i] = pidfd[i];
		rs->kind[i] = (uint8_t)run->tree->nodes[i]->kind;
		pidfd[i] = -1;
		rs->pid[i] = node_pid(pl, i, rs->pidfd[i]);
	}
	rs->shm = run->shm;
	rs->shm_len = run->shm_len;
	run->shm = NULL;
	rs->bar_w = run->bar_w;
	run->bar_w = -1;
	rs->hs = run->hs_r;
	run->hs_r = -1;
	*ret = rs;
	return 0;
}

/* ---- the handle ---- */

PT_PUBLIC pid_t pidtuple_restore_pid(const struct pidtuple_restore *restore, unsigned int node)
{
	pt_return_if(!restore, -EINVAL);
	pt_return_if(node >= restore->n, -ERANGE);
	return restore->pid[node];
}

PT_PUBLIC int pidtuple_restore_pidfd(const struct pidtuple_restore *restore, unsigned int node)
{
	pt_return_if(!restore, -EINVAL);
	pt_return_if(node >= restore->n, -ERANGE);
	return restore->pidfd[node];
}

/* Returns once every node is past the barrier with PR_SET_PDEATHSIG cleared, or gone; then
 * they all start their work, and the tree behaves as the original did. The last node to pass
 * wakes us; the pidfds are polled only when that does not come (a node died), less and less
 * often, as each poll costs a system call per node. */
static void wait_left(struct pidtuple_restore *rs)
{
	int64_t deadline = pt_now_ns() + (10000 + 2 * (int64_t)rs->n) * 1000000ll;
	int wait_ms = 50;

	while (pt_now_ns() < deadline) {
		uint32_t left = atomic_load(&rs->shm->left), gone = 0;

		if (left >= rs->n)
			return;
		if (pt_raw_futex_wait((uint32_t *)&rs->shm->left, left, wait_ms) != -ETIMEDOUT)
			continue;
		for (unsigned int i = 0; i < rs->n; i++)
			gone += pt_poll_in(rs->pidfd[i]) == 1;
		if (atomic_load(&rs->shm->left) + gone >= rs->n)
			return;
		wait_ms = wait_ms < 1000 ? 2 * wait_ms : wait_ms;
	}
}

PT_PUBLIC int pidtuple_restore_release(struct pidtuple_restore *restore)
{
	int r = 0;

	pt_return_if(!restore, -EINVAL);
	pthread_mutex_lock(&restore->lock);
	if (restore->released) {
		r = -EALREADY;
	} else {
		/* The flag first: a process woken by the EOF must find it set. */
		atomic_store(&restore->shm->released, 1);
		pt_close(restore->bar_w);
		restore->bar_w = -1;
		restore->released = true;
		wait_left(restore);
		atomic_store(&restore->shm->go, 1);
		pt_raw_futex_wake((uint32_t *)&restore->shm->go, INT_MAX);
	}
	pthread_mutex_unlock(&restore->lock);
	return r;
}

/* A hand-over request's program, arguments and environment, and their counts. */
struct request_args {
	const char *path;
	char *const *argv, *const *envp;
	size_t argc, envc;
};

/* The size of a request; counts the arguments and the environment. */
static size_t request_size(struct request_args *a)
{
	size_t size;

	a->argc = a->envc = 0;
	while (a->argv[a->argc])
		a->argc++;
	if (a->envp)
		while (a->envp[a->envc])
			a->envc++;
	size = sizeof(struct rs_req) +
	       (a->argc + 1 + (a->envp ? a->envc + 1 : 0)) * sizeof(uintptr_t) + strlen(a->path) +
	       1;
	for (size_t i = 0; i < a->argc; i++)
		size += strlen(a->argv[i]) + 1;
	for (size_t i = 0; i < a->envc; i++)
		size += strlen(a->envp[i]) + 1;
	return size;
}

/* Copies @str to @buf at *off; returns where it went. */
static uintptr_t put_str(char *buf, size_t *off, const char *str)
{
	size_t len = strlen(str) + 1, at = *off;

	memcpy(buf + at, str, len);
	*off = at + len;
	return at;
}

/* Lays a request out in @buf: the header, pointer slots holding offsets, the strings. */
static void request_fill(char *buf, size_t size, const struct request_args *a)
{
	size_t slots = a->argc + 1 + (a->envp ? a->envc + 1 : 0);
	size_t off = sizeof(struct rs_req) + slots * sizeof(uintptr_t);
	uintptr_t *slot = (uintptr_t *)(void *)(buf + sizeof(struct rs_req));
	struct rs_req rq = { .size = size,
			     .argv = sizeof(rq),
			     .envp = a->envp ? sizeof(rq) + (a->argc + 1) * sizeof(uintptr_t) : 0 };

	rq.path = put_str(buf, &off, a->path);
	for (size_t i = 0; i < a->argc; i++)
		*slot++ = put_str(buf, &off, a->argv[i]);
	*slot++ = 0;
	if (a->envp) {
		for (size_t i = 0; i < a->envc; i++)
			*slot++ = put_str(buf, &off, a->envp[i]);
		*slot++ = 0;
	}
	memcpy(buf, &rq, sizeof(rq));
}

/* A memfd holding @size bytes of @buf, or -errno. */
static int memfd_of(const char *buf, size_t size)
{
	int fd = pt_memfd("pidtuple-hand-over"), r = 0;

	for (size_t off = 0; fd >= 0 && off < size;) {
		ssize_t w = pt_write(fd, buf + off, size - off);

		if (w <= 0) {
			r = w < 0 ? (int)w : -EIO;
			break;
		}
		off += (size_t)w;
	}
	if (fd >= 0 && r < 0) {
		pt_close(fd);
		return r;
	}
	return fd;
}

/* Writes a hand-over request into a memfd. */
static int write_request(const char *path, char *const argv[], char *const envp[])
{
	struct request_args a = { .path = path, .argv = argv, .envp = envp };
	size_t size = request_size(&a);
	char *buf = pt_malloc(size);
	int fd;

	if (!buf)
		return -ENOMEM;
	request_fill(buf, size, &a);
	fd = memfd_of(buf, size);
	free(buf);
	return fd;
}

/* Takes one answer from the shared hand-over socket: its length (-EAGAIN: none yet), in *fd
 * the socket it carries, or -1. */
static ssize_t take_answer(int hs, struct rs_hmsg *m, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr h = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	ssize_t n = pt_recvmsg(hs, &h, MSG_DONTWAIT);

	*fd = -1;
	if (n <= 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&h); cm; cm = CMSG_NXTHDR(&h, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

/* Asks HOLD node @node for a socket of its own: through the shared memory, the answer through
 * the shared hand-over socket. Answers to an earlier request that was given up are dropped. */
static int ask(struct pidtuple_restore *rs, unsigned int node, int *ret_sock)
{
	struct rs_shm *shm = rs->shm;
	uint32_t seq = ++rs->seq;

	atomic_store(&shm->req_node, node);
	atomic_store(&shm->req_seq, seq);
	atomic_fetch_add(&shm->wake[node], 1);
	pt_raw_futex_wake((uint32_t *)&shm->wake[node], INT_MAX);
	for (;;) {
		struct pollfd pf[2] = { { rs->hs, POLLIN, 0 }, { rs->pidfd[node], POLLIN, 0 } };
		struct rs_hmsg m;
		int fd, r;
		ssize_t n = take_answer(rs->hs, &m, &fd);

		if (n == -EAGAIN) {
			r = pt_poll(pf, 2, -1);
			if (r < 0)
				return r;
			if (!(pf[0].revents & POLLIN) && pf[1].revents)
				return -ESRCH; /* gone before it answered */
			continue;
		}
		if (n == 0)
			return -ESRCH; /* no HOLD node is left */
		if (n < 0)
			return (int)n;
		if (n != (ssize_t)sizeof(m) || m.node != (int32_t)node || m.seq != seq) {
			pt_close(fd);
			continue;
		}
		if (fd < 0)
			return m.err > 0 ? -m.err : -EIO;
		*ret_sock = fd;
		return 0;
	}
}

/* "x": about to execute; then EOF (the socket closes on exec) or an errno. */
static int await_exec(int sock)
{
	int reply = 0;
	ssize_t n = pt_read(sock, &reply, sizeof(reply));

	if (n == 0 || n == -ECONNRESET)
		return -ESRCH; /* gone before it could try */
	if (n < 0)
		return (int)n;
	if (n == (ssize_t)sizeof(reply))
		return reply > 0 ? -reply : -EIO;
	n = pt_read(sock, &reply, sizeof(reply));
	if (n == (ssize_t)sizeof(reply))
		return reply > 0 ? -reply : -EIO; /* execve() failed: it keeps holding */
	if (n < 0 && n != -ECONNRESET)
		return (int)n;
	return 0;
}

static int hand_over(struct pidtuple_restore *rs, unsigned int node, const char *path,
		     char *const argv[], char *const envp[])
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char c = 'h';
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd = write_request(path, argv, envp), sock = -1, r;
	ssize_t n;

	if (fd < 0)
		return fd;
	r = ask(rs, node, &sock);
	if (r < 0) {
		pt_close(fd);
		return r;
	}
	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&h);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	n = pt_sendmsg(sock, &h, 0);
	pt_close(fd);
	r = n == -EPIPE || n == -ECONNRESET ? -ESRCH : n < 0 ? (int)n : 0;
	if (r == 0)
		r = await_exec(sock);
	pt_close(sock);
	if (r == 0)
		rs->kind[node] = HANDED_OVER;
	return r;
}

PT_PUBLIC int pidtuple_restore_hand_over(struct pidtuple_restore *restore, unsigned int node,
					 const char *path, char *const argv[], char *const envp[])
{
	int r;

	pt_return_if(!restore || !path || !argv, -EINVAL);
	pt_return_if(node >= restore->n, -ERANGE);
	pthread_mutex_lock(&restore->lock);
	if (!restore->released || restore->kind[node] != PIDTUPLE_NODE_HOLD || restore->hs < 0)
		r = -EINVAL;
	else if (pt_poll_in(restore->pidfd[node]) == 1)
		r = -ESRCH;
	else
		r = hand_over(restore, node, path, argv, envp);
	pthread_mutex_unlock(&restore->lock);
	return r;
}

PT_PUBLIC int pidtuple_restore_kill(struct pidtuple_restore *restore)
{
	int64_t deadline;

	pt_return_if(!restore, -EINVAL);
	pthread_mutex_lock(&restore->lock);
	for (unsigned int i = 0; i < restore->n; i++)
		pt_pidfd_kill(restore->pidfd[i]);
	deadline = pt_now_ns() + 5 * 1000000000ll;
	/* The root (node 0) is the caller's child. */
	pt_pidfds_wait_exit(restore->pidfd, restore->n, restore->pidfd, 1, deadline);
	for (unsigned int i = 0; i < restore->n; i++)
		(void)pt_waitid_pidfd(restore->pidfd[i], WEXITED | WNOHANG | __WALL);
	/* A number stays taken until its process is reaped, and so does a group's or a
	 * session's until its last member is: a restore right after this one must find them
	 * free. */
	pt_pidfds_wait_reaped(restore->pidfd, restore->n, deadline);
	pthread_mutex_unlock(&restore->lock);
	return 0;
}

PT_PUBLIC void pidtuple_restore_free(struct pidtuple_restore *restore)
{
	if (!restore)
		return;
	for (unsigned int i = 0; i < restore->n; i++)
		pt_close(restore->pidfd[i]);
	pt_close(restore->hs);
	/* An unreleased tree cannot outlive its handle: at EOF without the release its
	 * processes exit. */
	pt_close(restore->bar_w);
	pt_munmap(restore->shm, restore->shm_len);
	pthread_mutex_destroy(&restore->lock);
	free(restore->pidfd);
	free(restore->pid);
	free(restore->kind);
	free(restore);
}
