/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_read(): one thread's TID, TGID, PGID or SID at every level, from one of three
 * sources that must agree: /proc status, pidfd fdinfo, or the nsfs translation ioctls.
 *
 * Names used below: A is the caller's active PID namespace (ids passed in are numbered there);
 * O is the namespace of the /proc mount (status and fdinfo number from there; it may be
 * `above` levels above A); N is where the tuple starts (A, or opts->ns_fd).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib.h"
#include "opts.h"
#include "pidns.h"
#include "pidtuple.h"
#include "probe.h"
#include "proc.h"
#include "syscall_shim.h"
#include "tuple.h"

#define PT_PIDFD_THREAD O_EXCL /* a pidfd for one thread (6.9+) */
#define NLEV (PIDTUPLE_MAX_LEVELS + 1)
/* read_nsfs(): a case no ioctl can answer (a zombie has no namespaces left; a group whose
 * leader has exited has no task to translate): status answers it. Never returned. */
#define USE_STATUS (-EXDEV)

struct rd {
	pid_t a;	  /* the thread, numbered in A */
	uint32_t kind;	  /* PIDTUPLE_KIND_* */
	int pidfd;	  /* keeps the thread identified for the whole read; -1 when none */
	bool own_pidfd;	  /* opened here, closed at the end */
	bool exact_pidfd; /* the pidfd names the thread @a itself (not only its group) */
	int nsfd;	  /* N, or -1 for A */
	uint64_t ns_ino;  /* N's inode */
	int n_depth;	  /* levels N is below A */
	pid_t out[NLEV];  /* the result, outermost (N's level) first */
	int n;
};

/* ---- shared helpers ------------------------------------------------------------------- */

/* A lookup that found nothing: the thread is gone (or never was). */
static int gone(int err)
{
	return err == -ENOENT || err == -ESRCH || err == -EINVAL ? -ESRCH : err;
}

/* 0 while the task behind @pidfd has not been reaped, -ESRCH after. */
static int still_there(int pidfd)
{
	int r;

	if (pidfd < 0)
		return 0;
	r = pt_sys_pidfd_send_signal(pidfd, 0);
	return r == -ESRCH ? -ESRCH : 0; /* EPERM: it is there, we may not signal it */
}

/* Opens a pidfd that pins thread @a: a thread pidfd, or a process pidfd when @a leads its
 * group. Leaves pidfd at -1 (and returns 0) on kernels that cannot name the thread. */
static int ensure_pidfd(struct rd *r)
{
	int fd;

	if (r->pidfd >= 0)
		return 0;
	fd = pt_sys_pidfd_open(r->a, PT_PIDFD_THREAD);
	if (fd == -EINVAL) /* before 6.9: no PIDFD_THREAD */
		fd = pt_sys_pidfd_open(r->a, 0);
	if (fd == -EINVAL || fd == -ENOENT || fd == -ENOSYS)
		return 0; /* a thread other than the leader, or no pidfds at all */
	if (fd < 0)
		return gone(fd);
	r->pidfd = fd;
	r->own_pidfd = true;
	r->exact_pidfd = true;
	return 0;
}

static int finish(struct rd *r, const pid_t *outer, int n)
{
	if (n < 1)
		return -ESRCH;
	if (n > PIDTUPLE_MAX_LEVELS)
		return -ERANGE; /* 33 levels: more than a tuple holds */
	memcpy(r->out, outer, (size_t)n * sizeof(pid_t));
	r->n = n;
	return 0;
}

/* Walks @levels NS_GET_PARENT steps up from @fd (which it does not close) and checks that it
 * arrives at the namespace of inode @ino. 1 yes, 0 no, -errno. */
static int arrives_at(int fd, int levels, uint64_t ino)
{
	int cur = fd, ret;

	for (int i = 0; i < levels; i++) {
		int p = pt_ns_get_parent(cur);

		if (cur != fd)
			pt_close(cur);
		if (p < 0)
			return p == -EPERM ? 0 : p;
		cur = p;
	}
	ret = pt_ns_is(cur, ino);
	if (cur != fd)
		pt_close(cur);
	return ret;
}

/* ---- source: /proc/PID/task/TID/status ------------------------------------------------ */

/* Errors that end a search; any other means "not this task" (gone, not ours to see). */
static int fatal(int err)
{
	return err == -ENOMEM || err == -EMFILE || err == -ENFILE ? err : 0;
}

/* Whether task @st (in /proc's directory @p) lives in A, by its namespace: walked up to A's
 * level, it must be A. Needs NS_GET_PARENT (4.9+) and ptrace access. 1 yes, 0 no, -errno. */
static int ns_in_a(int procfd, pid_t p, const struct pt_status *st, int above)
{
	struct stat a;
	int fd, ret = pt_proc_ns_stat(-1, 0, "pid", &a);

	if (ret < 0)
		return fatal(ret);
	fd = pt_proc_ns_open(procfd, p, "pid");
	if (fd < 0)
		return fatal(fd);
	ret = arrives_at(fd, st->n[PT_NSPID] - 1 - above, a.st_ino);
	pt_close(fd);
	return ret < 0 ? fatal(ret) : ret;
}

/*
 * Whether task @st (in /proc's directory @p), whose NSpid at A's level is the number looked
 * for, lives in A: a task of another namespace at A's depth may have that number too. Its
 * group, by the number NStgid gives it at A's level, is opened in A: that pidfd's /proc number
 * must be the task's Tgid. No ptrace access needed; before pidfd fdinfo (5.5), the namespace.
 * 1 yes, 0 no, -errno.
 */
static int in_a(int procfd, pid_t p, const struct pt_status *st, int above)
{
	struct pt_status g;
	int fd, ret;

	if (!st->has_tgid || st->n[PT_NSTGID] <= above)
		return 0;
	fd = pt_sys_pidfd_open(st->ids[PT_NSTGID][above], 0);
	if (fd == -ESRCH || fd == -EINVAL)
		return 0; /* no such group in A */
	if (fd < 0)	  /* ENOSYS (before 5.3), a filter */
		return fatal(fd) ? fd : ns_in_a(procfd, p, st, above);
	ret = pt_read_pidfd_fdinfo(fd, &g);
	pt_close(fd);
	if (ret == -EBADF) /* no Pid line: before 5.5 */
		return ns_in_a(procfd, p, st, above);
	return ret < 0 ? fatal(ret) : g.pid == st->tgid;
}

/* The tasks of process @p (in /proc's directory @procfd): 1 and the /proc number of the one
 * that is thread @a of A in *@ret_o, 0 when none is, or -errno. */
static int search_tasks(int procfd, pid_t p, pid_t a, int above, pid_t *ret_o)
{
	struct pt_dir *tasks = pt_malloc(sizeof(*tasks));
	pid_t t;
	int r;

	if (!tasks)
		return -ENOMEM;
	if (pt_dir_open_tasks(tasks, procfd, p) < 0) {
		free(tasks);
		return 0; /* gone */
	}
	while ((r = pt_dir_next_pid(tasks, &t)) > 0) {
		struct pt_status st;

		if (pt_proc_status(procfd, p, t, &st) < 0 || st.n[PT_NSPID] <= above ||
		    st.ids[PT_NSPID][above] != a)
			continue;
		r = in_a(procfd, p, &st, above);
		if (r > 0)
			*ret_o = t;
		if (r != 0)
			break;
	}
	pt_dir_close(tasks);
	free(tasks);
	return r < 0 ? fatal(r) : r; /* a task directory that vanished is not an error */
}

/* Finds the /proc number of thread @a by reading every task's status: only for kernels that
 * cannot give a pidfd for a thread (before 6.9) while /proc belongs to an outer namespace. */
static int search_proc_nr(pid_t a, int above, pid_t *ret_o)
{
	struct pt_dir *procs = pt_malloc(sizeof(*procs));
	pid_t p;
	int r;

	if (!procs)
		return -ENOMEM;
	r = pt_dir_open_proc(procs);
	while (r >= 0 && (r = pt_dir_next_pid(procs, &p)) > 0) {
		r = search_tasks(procs->fd, p, a, above, ret_o);
		if (r > 0)
			break;
	}
	if (procs->fd >= 0)
		pt_dir_close(procs);
	free(procs);
	return r < 0 ? r : r > 0 ? 0 : -ESRCH;
}

/* The /proc number of thread @a, from its pidfd's fdinfo (or a search). */
static int proc_nr_of(struct rd *r, int above, pid_t *ret_o)
{
	struct pt_status st;
	int ret;

	if (above == 0) {
		*ret_o = r->a;
		return 0;
	}
	ret = ensure_pidfd(r);
	if (ret < 0)
		return ret;
	if (r->pidfd < 0 || !r->exact_pidfd)
		return search_proc_nr(r->a, above, ret_o);
	ret = pt_read_pidfd_fdinfo(r->pidfd, &st);
	if (ret < 0)
		return ret == -ENOENT ? -EBADF : ret;
	*ret_o = st.pid;
	return 0;
}

static int read_status(struct rd *r)
{
	struct pt_status st;
	pid_t o;
	int above = pt_proc_levels_above(), skip, k = (int)r->kind, ret;

	if (above < 0)
		return above;
	ret = proc_nr_of(r, above, &o);
	if (ret < 0)
		return ret;
	ret = pt_proc_status(-1, o, o, &st);
	if (ret < 0)
		return gone(ret);
	if (st.n[PT_NSPID] < 0 || st.n[k] < 0)
		return -EOPNOTSUPP; /* before 4.1 */
	/* The number we looked up must still be our thread's (no reuse in between). */
	if (st.n[PT_NSPID] <= above || st.ids[PT_NSPID][above] != r->a)
		return -ESRCH;
	skip = above + r->n_depth;
	if (st.n[k] <= skip)
		return -ESRCH; /* the thread lives above N */
	if (r->nsfd >= 0 && r->n_depth > 0) {
		int fd = pt_proc_ns_open(-1, o, "pid");

		if (fd < 0)
			return gone(fd);
		ret = arrives_at(fd, st.n[PT_NSPID] - 1 - skip, r->ns_ino);
		pt_close(fd);
		if (ret <= 0)
			return ret < 0 ? ret : -ESRCH; /* not in N's subtree */
	}
	ret = still_there(r->pidfd);
	if (ret < 0)
		return ret;
	return finish(r, st.ids[k] + skip, st.n[k] - skip);
}

/* ---- source: pidfd fdinfo ------------------------------------------------------------- */

/* The group leader's pidfd: the thread itself when it leads. */
static int leader_pidfd(struct rd *r, int *ret_fd)
{
	int fd = pt_sys_pidfd_open(r->a, 0);

	if (fd == -EINVAL || fd == -ENOENT) {
		struct pt_pidfd_ids ids;

		if (r->pidfd < 0 || pt_pidfd_get_ids(r->pidfd, &ids) < 0)
			return -EOPNOTSUPP; /* needs PIDFD_GET_INFO (6.13) */
		fd = pt_sys_pidfd_open(ids.tgid, 0);
	}
	if (fd == -ENOSYS)
		return -EOPNOTSUPP;
	if (fd < 0)
		return gone(fd);
	*ret_fd = fd;
	return 0;
}

/* The pidfd whose fdinfo has the ids asked for: r->pidfd, or a leader's opened here. */
static int fdinfo_pidfd(struct rd *r, int *ret_fd)
{
	int fd = -1, ret;

	if (r->kind == PIDTUPLE_KIND_TGID && r->pidfd < 0) {
		/* A leader's process pidfd pins the thread and names its group: one pidfd, not
		 * two. EINVAL/ENOENT: not a leader, see below. */
		fd = pt_sys_pidfd_open(r->a, 0);
		if (fd == -ENOSYS)
			return -EOPNOTSUPP;
		if (fd < 0 && fd != -EINVAL && fd != -ENOENT)
			return gone(fd);
		if (fd >= 0) {
			r->pidfd = fd;
			r->own_pidfd = r->exact_pidfd = true;
		}
	}
	ret = ensure_pidfd(r);
	if (ret < 0 || fd >= 0) {
		*ret_fd = fd;
		return ret;
	}
	if (r->kind == PIDTUPLE_KIND_TGID)
		return leader_pidfd(r, ret_fd);
	if (r->pidfd < 0 || !r->exact_pidfd)
		return -EOPNOTSUPP; /* a thread, and no PIDFD_THREAD */
	*ret_fd = r->pidfd;
	return 0;
}

/* Reads the NSpid of @fd's fdinfo into @st; N's level is at *ret_skip. */
static int fdinfo_ids(struct rd *r, int fd, struct pt_status *st, int *ret_skip)
{
	int ret = pt_read_pidfd_fdinfo(fd, st), above, nsfd;

	if (ret < 0)
		return ret;
	if (st->n[PT_NSPID] < 0)
		return -EOPNOTSUPP; /* before 5.5 */
	above = pt_proc_levels_above();
	if (above < 0)
		return above;
	*ret_skip = above + r->n_depth;
	if (st->n[PT_NSPID] <= *ret_skip)
		return -ESRCH;
	if (r->nsfd < 0 || r->n_depth == 0)
		return 0;
	nsfd = pt_pidfd_get_pidns(fd);
	if (nsfd < 0)
		nsfd = pt_proc_ns_open(-1, st->pid, "pid");
	if (nsfd < 0)
		return gone(nsfd);
	ret = arrives_at(nsfd, st->n[PT_NSPID] - 1 - *ret_skip, r->ns_ino);
	pt_close(nsfd);
	return ret < 0 ? ret : ret ? 0 : -ESRCH;
}

static int read_fdinfo(struct rd *r)
{
	struct pt_status st;
	int fd = -1, skip = 0, ret;

	if (r->kind != PIDTUPLE_KIND_TID && r->kind != PIDTUPLE_KIND_TGID)
		return -EOPNOTSUPP;
	ret = fdinfo_pidfd(r, &fd);
	if (ret < 0)
		return ret;
	ret = fdinfo_ids(r, fd, &st, &skip);
	/* The fdinfo of the pinning pidfd itself is one snapshot of a live thread (Pid -1 once
	 * reaped); through another pidfd, the pinned thread must still be there. */
	if (fd != r->pidfd) {
		pt_close(fd);
		if (ret >= 0)
			ret = still_there(r->pidfd);
	}
	if (ret < 0)
		return ret;
	return finish(r, st.ids[PT_NSPID] + skip, st.n[PT_NSPID] - skip);
}

/* ---- source: nsfs translation ioctls -------------------------------------------------- */

/* Result of an ioctl that found nothing: the kernels 6.12 to the fix say ENOTTY. Tells a
 * missing thread from a missing ioctl (a filter, a kernel we were moved to) by asking the
 * caller's own namespace @afd for the caller: -ESRCH or -EOPNOTSUPP. */
static int not_found(int err, int afd)
{
	if (err != -ENOTTY)
		return err;
	return pt_ns_xlate(afd, PT_NS_PID_IN, pt_sys_getpid()) > 0 ? -ESRCH : -EOPNOTSUPP;
}

/* PGID/SID at each level of @fds (top: A; the tuple starts at @first). */
static int nsfs_group(struct rd *r, const int *fds, int top, int first)
{
	pid_t g, g2, v[NLEV];
	int n = 0;

	g = r->kind == PIDTUPLE_KIND_PGID ? pt_getpgid(r->a) : pt_getsid(r->a);
	if (g < 0)
		return gone(g);
	for (int i = first; i >= 0; i--) {
		int x;

		if (g == 0 || (n > 0 && v[n - 1] == 0)) {
			v[n++] = 0; /* not visible at a level means not visible below it */
			continue;
		}
		if (i == top) {
			v[n++] = g;
			continue;
		}
		x = pt_ns_xlate(fds[i], PT_NS_PID_IN, g);
		if (x > 0) {
			v[n++] = x;
			continue;
		}
		x = not_found(x, fds[top]);
		if (x != -ESRCH)
			return x;
		/* Invisible here, or the leader is gone (then no ioctl can tell: use status). */
		x = pt_ns_xlate(fds[top], PT_NS_PID_IN, g);
		if (x != g)
			return USE_STATUS;
		v[n++] = 0;
	}
	g2 = r->kind == PIDTUPLE_KIND_PGID ? pt_getpgid(r->a) : pt_getsid(r->a);
	if (g2 < 0)
		return gone(g2);
	if (g2 != g)
		return -EAGAIN; /* moved to another group meanwhile */
	return finish(r, v, n);
}

/* The PID namespaces of r->pidfd's thread, its own first, then up to A (the parent of A is
 * not ours to see: EPERM) into @fds: their count, USE_STATUS, -EOPNOTSUPP or -errno. */
static int nsfs_chain(struct rd *r, int *fds)
{
	int n = 1;

	fds[0] = pt_pidfd_get_pidns(r->pidfd);
	if (fds[0] == -ESRCH && still_there(r->pidfd) == 0)
		return USE_STATUS; /* a zombie */
	if (fds[0] == -EACCES || fds[0] == -EPERM)
		return USE_STATUS; /* ptrace access is needed for the namespace, not for status */
	if (fds[0] == -ENOTTY || fds[0] == -EINVAL)
		return -EOPNOTSUPP; /* before 6.11 */
	if (fds[0] < 0)
		return gone(fds[0]);
	for (;;) {
		int p = pt_ns_get_parent(fds[n - 1]);

		if (p == -EPERM)
			return n;
		if (p < 0 || n == NLEV) {
			if (p >= 0)
				pt_close(p);
			for (int i = 0; i < n; i++)
				pt_close(fds[i]);
			return p < 0 ? p : -ERANGE;
		}
		fds[n++] = p;
	}
}

/* The level of the chain where N is (N's depth below A counted from the top @top): its index,
 * or -ESRCH when the thread lives above N or outside N's subtree. */
static int nsfs_first(const struct rd *r, const int *fds, int top)
{
	int first = top - r->n_depth, ret;

	if (first < 0)
		return -ESRCH;
	if (r->nsfd >= 0 && r->n_depth > 0) {
		ret = pt_ns_is(fds[first], r->ns_ino);
		if (ret <= 0)
			return ret < 0 ? ret : -ESRCH;
	}
	return first;
}

/* A TID or TGID at every level from N up to A. Sets *@alive when PIDFD_GET_INFO (6.13+) has
 * proven the thread alive meanwhile. */
static int nsfs_ids(struct rd *r, const int *fds, int top, int first, bool *alive)
{
	struct pt_pidfd_ids ids;
	pid_t v[NLEV];
	int k = 0;

	for (int i = first; i >= 0; i--) {
		int x;

		if (i == top && r->kind == PIDTUPLE_KIND_TID) {
			v[k++] = r->a;
			continue;
		}
		/* A's TGID and the proof of life in one call. */
		if (i == top && r->exact_pidfd && pt_pidfd_get_ids(r->pidfd, &ids) == 0) {
			v[k++] = ids.tgid;
			*alive = true;
			continue;
		}
		x = pt_ns_xlate(fds[i], r->kind == PIDTUPLE_KIND_TID ? PT_NS_PID_IN : PT_NS_TGID_IN,
				r->a);
		if (x <= 0)
			return not_found(x, fds[top]);
		v[k++] = x;
	}
	return finish(r, v, k);
}

static int read_nsfs(struct rd *r)
{
	int fds[NLEV], n, top, first, ret;
	bool alive = false; /* proven after the last lookup */

	if (!(pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS))
		return -EOPNOTSUPP;
	ret = ensure_pidfd(r);
	if (ret < 0)
		return ret;
	if (r->pidfd < 0)
		return -EOPNOTSUPP;
	n = nsfs_chain(r, fds);
	if (n < 0)
		return n;
	top = n - 1;
	ret = first = nsfs_first(r, fds, top);
	if (first >= 0 && (r->kind == PIDTUPLE_KIND_PGID || r->kind == PIDTUPLE_KIND_SID))
		ret = nsfs_group(r, fds, top, first);
	else if (first >= 0)
		ret = nsfs_ids(r, fds, top, first, &alive);
	/* The numbers were looked up by value: they are this thread's only if it is still
	 * there (then none of them can have been reused). Not where N ruled it out. */
	if (first >= 0 && ((ret == 0 && !alive) || ret == -ESRCH)) {
		int there = still_there(r->pidfd);

		if (there < 0)
			ret = there;
		else if (ret == -ESRCH)
			ret = -EAGAIN; /* a level said "no such thread" of a live one */
	}
	for (int i = 0; i < n; i++)
		pt_close(fds[i]);
	return ret;
}

/* ---- the API -------------------------------------------------------------------------- */

/* Validates N: a PID namespace at or below A. Sets ns_ino and n_depth. */
static int ns_fd_check(struct rd *r, int fd)
{
	struct stat st;
	int ret = pt_pidns_ino(fd, &r->ns_ino);

	if (ret < 0)
		return ret;
	ret = pt_proc_ns_stat(-1, 0, "pid", &st);
	if (ret < 0)
		return ret == -ENOTDIR ? -ENOENT : ret;
	ret = pt_pidns_depth(fd, st.st_ino, &r->n_depth);
	if (ret < 0)
		return ret;
	r->nsfd = fd;
	return 0;
}

static int read_opts(struct rd *r, const struct pidtuple_read_opts *opts, uint32_t *source)
{
	int ret = PT_OPTS_VALID(opts, pidtuple_read_opts);
	uint64_t flags;

	*source = PIDTUPLE_SOURCE_AUTO;
	if (ret < 0 || !opts)
		return ret;
	flags = PT_OPTS_GET(opts, flags, 0);
	*source = PT_OPTS_GET(opts, source, PIDTUPLE_SOURCE_AUTO);
	if ((flags & ~PIDTUPLE_READ_NS_FD) || *source > PIDTUPLE_SOURCE_NSFS)
		return -EINVAL;
	if (flags & PIDTUPLE_READ_NS_FD) {
		if (PT_OPTS_GET(opts, ns_fd, -1) < 0)
			return -EINVAL;
		return ns_fd_check(r, opts->ns_fd);
	}
	return 0;
}

static int read_nsfs_or_status(struct rd *r)
{
	int ret = -EAGAIN;

	for (int tries = 0; tries < 3 && ret == -EAGAIN; tries++)
		ret = read_nsfs(r);
	return ret == -EAGAIN || ret == USE_STATUS ? read_status(r) : ret;
}

static int read_one(struct rd *r, uint32_t source)
{
	int ret;

	switch (source) {
	case PIDTUPLE_SOURCE_STATUS:
		return read_status(r);
	case PIDTUPLE_SOURCE_FDINFO:
		return read_fdinfo(r);
	case PIDTUPLE_SOURCE_NSFS:
		return read_nsfs_or_status(r);
	default: /* AUTO: the fastest first (docs/reading.md), the next when one is missing */
		if (pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS) {
			ret = read_nsfs_or_status(r);
			if (ret != -EOPNOTSUPP)
				return ret;
		}
		if (r->kind == PIDTUPLE_KIND_TID || r->kind == PIDTUPLE_KIND_TGID) {
			ret = read_fdinfo(r);
			if (ret != -EOPNOTSUPP)
				return ret;
		}
		return read_status(r);
	}
}

static int read_common(struct rd *r, const struct pidtuple_read_opts *opts,
		       struct pidtuple **ret_tuple)
{
	uint32_t source;
	int ret = read_opts(r, opts, &source);

	if (ret == 0)
		ret = read_one(r, source);
	if (ret == 0)
		ret = pt_tuple_new(r->out, (size_t)r->n, true,
				   r->kind == PIDTUPLE_KIND_PGID || r->kind == PIDTUPLE_KIND_SID,
				   ret_tuple);
	if (r->own_pidfd)
		pt_close(r->pidfd);
	return ret;
}

PT_PUBLIC int pidtuple_read(pid_t id, uint32_t kind, const struct pidtuple_read_opts *opts,
			    struct pidtuple **ret_tuple)
{
	struct rd r = { .a = id, .kind = kind, .pidfd = -1, .nsfd = -1 };

	pt_return_if(id < 1 || kind > PIDTUPLE_KIND_SID || !ret_tuple, -EINVAL);
	return read_common(&r, opts, ret_tuple);
}

/* The thread a pidfd names, numbered in A: PIDFD_GET_INFO, or fdinfo before 6.13. */
static int pidfd_target(int pidfd, pid_t *ret_a)
{
	struct pt_pidfd_ids ids;
	struct pt_status st;
	int above, r = pt_pidfd_get_ids(pidfd, &ids);

	if (r == 0) {
		if (ids.pid <= 0)
			return -ESRCH;
		*ret_a = ids.pid;
		return 0;
	}
	if (r == -EBADF || r == -ESRCH || r == -ENOMEM)
		return r;
	r = pt_read_pidfd_fdinfo(pidfd, &st);
	if (r < 0)
		return r == -ENOENT ? -EBADF : r;
	if (st.n[PT_NSPID] < 0)
		return -EOPNOTSUPP;
	above = pt_proc_levels_above();
	if (above < 0)
		return above;
	if (st.n[PT_NSPID] <= above)
		return -ESRCH; /* outside A */
	*ret_a = st.ids[PT_NSPID][above];
	return 0;
}

PT_PUBLIC int pidtuple_read_pidfd(int pidfd, uint32_t kind, const struct pidtuple_read_opts *opts,
				  struct pidtuple **ret_tuple)
{
	struct rd r = { .kind = kind, .pidfd = pidfd, .nsfd = -1, .exact_pidfd = true };
	int ret;

	pt_return_if(kind > PIDTUPLE_KIND_SID || !ret_tuple, -EINVAL);
	pt_return_if(pidfd < 0, -EBADF);
	ret = pidfd_target(pidfd, &r.a);
	if (ret < 0)
		return ret;
	return read_common(&r, opts, ret_tuple);
}
