/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_scan_*(): every process (or thread) of a PID namespace S and the namespaces below
 * it, read lazily from /proc with a fixed-size getdents64 buffer.
 *
 * /proc may belong to an outer namespace O (`above` levels above the caller's A): it lists
 * processes S does not contain, and numbers them in O. Each process's own namespace is looked
 * up in a cache of namespaces (inode -> levels below S, or "not ours"), filled by walking
 * NS_GET_PARENT once per new namespace; cached namespaces are held open, so an inode cannot
 * be reused by another namespace while the scan runs.
 *
 * Ways to read a process, chosen per scan (docs/reading.md has the measurements):
 *  - status (the default): /proc/PID/status gives every level of NSpid/NSpgid/NSsid in one
 *    read; the namespace mostly costs nothing or one ioctl (ns_guess());
 *  - nsfs: one translation ioctl per level and id, plus a pidfd that proves the process was
 *    alive for the whole read (numbers are looked up by value);
 *  - io_uring (PIDTUPLE_SCAN_URING): the status reads of 64 processes per io_uring_enter()
 *    (scan_uring.c), then as status;
 *  - bpf: a BPF task iterator (scan_bpf.c) writes every level of every task of the caller's
 *    namespace in a few read() calls. Taken silently, instead of status, when it loads (the
 *    privilege, libbpf.so.1, kernel BTF) for a scan of the caller's own namespace without
 *    threads (the iterator yields threads in TID order, not after their leader).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib.h"
#include "opts.h"
#include "pidns.h"
#include "pidtuple.h"
#include "probe.h"
#include "proc.h"
#include "scan_bpf.h"
#include "scan_uring.h"
#include "syscall_shim.h"
#include "tuple.h"

#define PT_PIDFD_THREAD O_EXCL
#define NLEV (PIDTUPLE_MAX_LEVELS + 1)
/* Namespaces held open at most; beyond, new ones are walked on every visit. */
#define MAX_PINNED 512
/* ns_lookup(): a namespace found but not kept (the cache is full). */
#define NO_NODE INT_MAX

struct ns_node {
	uint64_t ino;
	int fd;
	int depth;  /* levels below S; -1 when not in S's subtree */
	int parent; /* index of the node one level up; -1 for S and "not ours" */
};

struct pidtuple_scan {
	uint64_t flags;
	bool nsfs;	       /* read with ioctls (else status) */
	bool xlate;	       /* translation ioctls usable (ppid of the status path) */
	int procfd;	       /* /proc */
	int above;	       /* levels /proc shows above A */
	int s_depth;	       /* levels S is below A */
	int afd;	       /* A */
	int ofd;	       /* O when above > 0 and reachable, else -1 */
	struct ns_node *nodes; /* nodes[0] is S */
	size_t nnodes, cap;

	struct pt_dir *procs, *tasks; /* tasks: the current process's threads when open */
	/* the current process, for its threads */
	pid_t cur_o, cur_pid, cur_ppid;
	int cur_node;  /* its namespace's node (nsfs path), -1 when read from status */
	int cur_depth; /* levels below S */
	uint64_t cur_ino;

	struct pidtuple t, pg, sid;
	char comm[sizeof(((struct pt_status *)0)->name)]; /* the last entry's, when given */

	int last[NLEV]; /* per depth below S: the node the last process there was in, or -1 */

	/* PIDTUPLE_SCAN_URING: processes read ahead in batches, yielded from here */
	struct pt_uring *uring;
	struct pt_fetch *batch;
	unsigned int bpos, blen;

	struct pt_bpf_scan *bpf; /* the BPF task iterator, when chosen */
	bool bpf_saw_init;	 /* it gave the namespace's PID 1 */
};

/* ---- helpers ------------------------------------------------------------------------- */

static bool fatal(int err)
{
	return err == -ENOMEM || err == -EMFILE || err == -ENFILE;
}

/* Errors that say a process went away while we read it: skip it. */
static int skip_or(int err)
{
	return fatal(err) ? err : 0;
}

/* ENOTTY from a translation ioctl: "not found" on 6.12+ kernels before the fix, or the ioctls
 * are gone (a filter). Returns true when they are really unusable. */
static bool ioctls_gone(struct pidtuple_scan *s, int err)
{
	if (err != -ENOTTY)
		return false;
	return pt_ns_xlate(s->afd, PT_NS_PID_IN, pt_sys_getpid()) <= 0;
}

static void set_tuple(struct pidtuple *t, const pid_t *outer, int n)
{
	t->n = (unsigned int)n;
	for (int i = 0; i < n; i++)
		t->pid[i] = outer[n - 1 - i];
}

/* ---- the namespace cache -------------------------------------------------------------- */

static int find_node(const struct pidtuple_scan *s, uint64_t ino)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].ino == ino)
			return (int)i;
	return -1;
}

static int add_node(struct pidtuple_scan *s, uint64_t ino, int fd, int depth, int parent)
{
	if (s->nnodes == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct ns_node *n = pt_malloc(cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (s->nnodes)
			memcpy(n, s->nodes, s->nnodes * sizeof(*n));
		free(s->nodes);
		s->nodes = n;
		s->cap = cap;
	}
	s->nodes[s->nnodes] = (struct ns_node){ ino, fd, depth, parent };
	return (int)s->nnodes++;
}

/* Walks NS_GET_PARENT up from fds[0] (inode inos[0]) to a cached namespace or to A, keeping
 * the ones met in fds[] and inos[]: their count, with the node reached in *ret_anchor (-1: A);
 * or -errno, all of them closed. */
static int walk_up(struct pidtuple_scan *s, int *fds, uint64_t *inos, int *ret_anchor)
{
	int n = 1, r;

	for (;;) {
		struct stat st;
		int p = pt_ns_get_parent(fds[n - 1]), idx;

		if (p == -EPERM) {
			*ret_anchor = -1; /* reached A without meeting S */
			return n;
		}
		r = p < 0 ? p : n == NLEV ? -ERANGE : pt_fstat(p, &st);
		if (r < 0) {
			pt_close(p);
			break;
		}
		idx = find_node(s, st.st_ino);
		if (idx >= 0) {
			pt_close(p);
			*ret_anchor = idx;
			return n;
		}
		fds[n] = p;
		inos[n++] = st.st_ino;
	}
	for (int i = 0; i < n; i++)
		pt_close(fds[i]);
	return r;
}

/* Caches the @n namespaces walk_up() met, from the top down so that each node's parent is
 * there first; beyond MAX_PINNED they are closed. The node of fds[0], or NO_NODE. */
static int cache_walk(struct pidtuple_scan *s, const int *fds, const uint64_t *inos, int n,
		      int anchor, int *ret_depth)
{
	int parent = anchor, depth = anchor >= 0 ? s->nodes[anchor].depth : -1, idx;

	for (int i = n - 1; i >= 0; i--) {
		depth = depth >= 0 ? depth + 1 : -1;
		if (s->nnodes >= MAX_PINNED) {
			pt_close(fds[i]);
			continue;
		}
		idx = add_node(s, inos[i], fds[i], depth, depth >= 0 ? parent : -1);
		if (idx < 0) {
			for (int j = i; j >= 0; j--)
				pt_close(fds[j]);
			return idx;
		}
		parent = idx;
	}
	*ret_depth = depth;
	idx = find_node(s, inos[0]);
	return idx >= 0 ? idx : NO_NODE;
}

/*
 * The node of the namespace with inode @ino, which process @o (numbered in /proc) is in:
 * cached, or found by walking up from the process's namespace. Returns the node index, or
 * -errno (-ESRCH when the process went away meanwhile). When the cache is full the walk is
 * not kept: *ret_depth always has the depth (-1: not ours), and the index is NO_NODE.
 */
static int ns_lookup(struct pidtuple_scan *s, pid_t o, uint64_t ino, int *ret_depth)
{
	int fds[NLEV + 1], idx = find_node(s, ino), anchor, n, r;
	uint64_t inos[NLEV + 1];

	if (idx >= 0) {
		*ret_depth = s->nodes[idx].depth;
		return idx;
	}
	fds[0] = pt_proc_ns_open(s->procfd, o, "pid");
	if (fds[0] < 0)
		return fds[0] == -ENOENT ? -ESRCH : fds[0];
	r = pt_ns_is(fds[0], ino);
	if (r <= 0) {
		pt_close(fds[0]);
		return r < 0 ? r : -ESRCH; /* the number now names another process */
	}
	inos[0] = ino;
	n = walk_up(s, fds, inos, &anchor);
	return n < 0 ? n : cache_walk(s, fds, inos, n, anchor, ret_depth);
}

/* The fds of the levels from S (fds[0]) down to the node @idx (fds[depth]). */
static void chain_fds(const struct pidtuple_scan *s, int idx, int *fds)
{
	for (int i = s->nodes[idx].depth; i >= 0; i--) {
		fds[i] = s->nodes[idx].fd;
		idx = s->nodes[idx].parent;
	}
}

/* ---- translating ---------------------------------------------------------------------- */

/* The number in S of the process numbered @po in /proc; 0 when outside S or gone; a fatal
 * error (no memory, no descriptors) as -errno rather than a parent wrongly outside S. */
static pid_t o_to_s(struct pidtuple_scan *s, pid_t po)
{
	struct pt_status st;
	struct stat sb;
	int depth, k = s->above + s->s_depth, r;

	if (po <= 0)
		return 0;
	if (!s->above && !s->s_depth)
		return po; /* /proc, A and S are one namespace: status numbered it in S already */
	if (s->xlate) {
		pid_t pa = s->above ? pt_ns_xlate(s->ofd, PT_NS_PID_FROM, po) : po;

		if (pa > 0 && s->s_depth > 0)
			pa = pt_ns_xlate(s->nodes[0].fd, PT_NS_PID_IN, pa);
		if (pa > 0)
			return pa;
		if (!ioctls_gone(s, pa))
			return skip_or(pa); /* outside S, or gone */
		s->nsfs = s->xlate = false; /* the ioctls went away: status from now on */
	}
	r = pt_proc_status(s->procfd, po, 0, &st);
	if (r < 0 || st.n[PT_NSPID] <= k)
		return r < 0 ? skip_or(r) : 0;
	r = pt_proc_ns_stat(s->procfd, po, "pid", &sb);
	if (r < 0)
		return skip_or(r);
	r = ns_lookup(s, po, sb.st_ino, &depth);
	if (r < 0 || depth != st.n[PT_NSPID] - 1 - k)
		return r < 0 ? skip_or(r) : 0;
	return st.ids[PT_NSPID][k];
}

/* ---- reading one process or thread ---------------------------------------------------- */

/* What an entry says besides its ids: its command name (NULL: not given) and whether it is a
 * kernel thread (1, 0, or -1 when the source does not tell). */
struct name {
	const char *comm;
	int kthread;
};

#define NO_NAME ((struct name){ NULL, -1 })

/* What the status @st of a process or thread gives of its name. */
static struct name status_name(const struct pt_status *st)
{
	return (struct name){ st->has_name ? st->name : NULL, st->kthread };
}

static void fill(struct pidtuple_scan *s, struct pidtuple_scan_entry *e, pid_t pid, pid_t ppid,
		 uint64_t ino, int depth, bool thread, struct name nm)
{
	struct pidtuple_scan_entry x;

	x.pid = pid;
	x.tid = s->t.pid[s->t.n - 1];
	x.ppid = ppid;
	x.pgid = s->pg.pid[s->pg.n - 1];
	x.sid = s->sid.pid[s->sid.n - 1];
	x.flags = thread ? PIDTUPLE_ENTRY_THREAD : 0;
	if (!thread && depth > 0 && s->t.pid[0] == 1)
		x.flags |= PIDTUPLE_ENTRY_NS_INIT;
	x.ns_id = ino;
	x.tuple = &s->t;
	x.pgid_tuple = &s->pg;
	x.sid_tuple = &s->sid;
	x.comm = NULL;
	if (nm.comm) {
		size_t n = strnlen(nm.comm, sizeof(s->comm) - 1);

		memcpy(s->comm, nm.comm, n);
		s->comm[n] = '\0';
		x.comm = s->comm;
	}
	/* New flags only for a caller that knows them: its entry holds comm. */
	if (nm.kthread >= 0 && PT_OPTS_HAS(e, comm))
		x.flags |= PIDTUPLE_ENTRY_KTHREAD_KNOWN | (nm.kthread ? PIDTUPLE_ENTRY_KTHREAD : 0);
	PT_OPTS_COPY_OUT(e, &x, pid, tid, ppid, pgid, sid, flags, ns_id, tuple, pgid_tuple,
			 sid_tuple, comm);
}

/* The number in A of process @o of an outer /proc: 0 when it is not in A's subtree (or gone),
 * -1 when that cannot be told (the ioctls went away: status from now on). */
static pid_t o_to_a_filter(struct pidtuple_scan *s, pid_t o)
{
	pid_t a = pt_ns_xlate(s->ofd, PT_NS_PID_FROM, o);

	if (a > 0)
		return a;
	if (!ioctls_gone(s, a))
		return 0;
	s->nsfs = s->xlate = false;
	return -1;
}

/*
 * The namespace of the leader @o whose status @st puts it @depth levels below S, without a
 * stat of its ns/pid where possible: a process at S's own level in S == A == O is in S; else
 * the namespace of the last process seen at that depth is checked with one translation (two
 * with an outer /proc): a process at depth d that is visible in a namespace at depth d is in
 * it, and must have the innermost number its status shows. Returns the node, or -1: stat it.
 */
static int ns_guess(struct pidtuple_scan *s, pid_t o, pid_t a, const struct pt_status *st,
		    int depth)
{
	pid_t inner = st->ids[PT_NSPID][st->n[PT_NSPID] - 1];
	int idx = depth == 0 ? 0 : s->last[depth];

	if (depth == 0 && s->above == 0 && s->s_depth == 0)
		return 0; /* /proc lists A's subtree, and this level of it is A itself */
	if (!s->xlate || idx < 0)
		return -1;
	if (s->above) {
		/* The status numbers are not A's: the process must be in A's subtree. */
		if (a <= 0)
			a = pt_ns_xlate(s->ofd, PT_NS_PID_FROM, o);
		if (a <= 0 || a != st->ids[PT_NSPID][s->above])
			return -1;
	} else {
		a = o;
	}
	if (depth == 0 && s->s_depth == 0)
		return 0; /* in A, and at A's level */
	return pt_ns_xlate(s->nodes[idx].fd, PT_NS_PID_IN, a) == inner ? idx : -1;
}

/* A leader from its status @st; its namespace is stat'ed after the status (a number reused
 * in between shows as a depth that does not match). 1: filled, 0: skip. */
static int apply_status(struct pidtuple_scan *s, pid_t o, pid_t a, const struct pt_status *st,
			struct pidtuple_scan_entry *e)
{
	int k = s->above + s->s_depth, depth, idx;
	uint64_t ino;

	if (st->n[PT_NSPID] <= k || st->n[PT_NSTGID] != st->n[PT_NSPID] ||
	    st->n[PT_NSPGID] != st->n[PT_NSPID] || st->n[PT_NSSID] != st->n[PT_NSPID])
		return 0; /* above S, or a kernel before 4.1 */
	depth = st->n[PT_NSPID] - 1 - k;
	idx = ns_guess(s, o, a, st, depth);
	if (idx >= 0) {
		ino = s->nodes[idx].ino;
	} else {
		int want = depth, r;
		struct stat sb;

		r = pt_proc_ns_stat(s->procfd, o, "pid", &sb);
		if (r < 0)
			return skip_or(r);
		ino = sb.st_ino;
		idx = ns_lookup(s, o, ino, &depth);
		if (idx < 0)
			return skip_or(idx);
		if (depth < 0 || depth != want)
			return 0; /* not ours, or the number was reused meanwhile */
		if (idx != NO_NODE)
			s->last[depth] = idx;
	}
	set_tuple(&s->t, st->ids[PT_NSPID] + k, st->n[PT_NSPID] - k);
	set_tuple(&s->pg, st->ids[PT_NSPGID] + k, st->n[PT_NSPGID] - k);
	set_tuple(&s->sid, st->ids[PT_NSSID] + k, st->n[PT_NSSID] - k);
	s->cur_o = o;
	s->cur_pid = st->ids[PT_NSTGID][k];
	s->cur_ppid = st->has_ppid ? o_to_s(s, st->ppid) : 0;
	if (s->cur_ppid < 0)
		return s->cur_ppid;
	s->cur_node = -1;
	s->cur_depth = depth;
	s->cur_ino = ino;
	fill(s, e, s->cur_pid, s->cur_ppid, s->cur_ino, depth, false, status_name(st));
	return 1;
}

/* Status path for a leader (@t == 0) or thread @t of process @o. 1: filled, 0: skip. */
static int visit_status(struct pidtuple_scan *s, pid_t o, pid_t t, struct pidtuple_scan_entry *e)
{
	struct pt_status st;
	int k = s->above + s->s_depth, r;
	pid_t a = 0;

	/* An outer /proc lists processes A does not contain: one ioctl tells, not a read. */
	if (!t && s->above && s->xlate) {
		a = o_to_a_filter(s, o);
		if (a == 0)
			return 0;
	}
	r = pt_proc_status(s->procfd, o, t, &st);
	if (r < 0)
		return skip_or(r);
	if (t) {
		if (st.n[PT_NSPID] <= k || st.n[PT_NSTGID] != st.n[PT_NSPID] ||
		    st.n[PT_NSPID] - 1 - k != s->cur_depth || !st.has_tgid || st.tgid != o)
			return 0; /* not a thread of the process we yielded */
		set_tuple(&s->t, st.ids[PT_NSPID] + k, st.n[PT_NSPID] - k);
		fill(s, e, s->cur_pid, s->cur_ppid, s->cur_ino, s->cur_depth, true,
		     status_name(&st));
		return 1;
	}
	return apply_status(s, o, a, &st, e);
}

/* The number in A of process/thread @o of /proc, or <= 0. */
static pid_t o_to_a(struct pidtuple_scan *s, pid_t o)
{
	return s->above ? pt_ns_xlate(s->ofd, PT_NS_PID_FROM, o) : o;
}

/* @id (numbered in A) at every level from S down to the node @idx. 0 or -errno. */
static int xlate_levels(struct pidtuple_scan *s, const int *fds, int depth, pid_t id, pid_t *out)
{
	for (int i = 0; i <= depth; i++) {
		int x = i == 0 && s->s_depth == 0 ? id : pt_ns_xlate(fds[i], PT_NS_PID_IN, id);

		if (x == -ESRCH || (x == -ENOTTY && !ioctls_gone(s, x)))
			return -EAGAIN; /* gone, or a race: status tells which */
		if (x <= 0)
			return x;
		out[i] = x;
	}
	return 0;
}

/* A group's or session's id @g (numbered in A) at every level, 0 where not visible. 0, or
 * -EAGAIN when its leader has exited (only status knows then), or -errno. */
static int group_levels(struct pidtuple_scan *s, const int *fds, int depth, pid_t g, pid_t *out)
{
	bool hidden = g == 0;

	for (int i = 0; i <= depth; i++) {
		int x;

		if (hidden) {
			out[i] = 0;
			continue;
		}
		x = i == 0 && s->s_depth == 0 ? g : pt_ns_xlate(fds[i], PT_NS_PID_IN, g);
		if (x > 0) {
			out[i] = x;
			continue;
		}
		if (x != -ESRCH && (x != -ENOTTY || ioctls_gone(s, x)))
			return x;
		if (pt_ns_xlate(s->afd, PT_NS_PID_IN, g) != g)
			return -EAGAIN;
		hidden = true;
		out[i] = 0;
	}
	return 0;
}

/* The namespace node of leader @o, or of the current process for its thread @t: 1 with
 * *ret_idx, *ret_depth and *ret_ino; 0: skip; -EXDEV: status can still tell; -errno. */
static int nsfs_node(struct pidtuple_scan *s, pid_t o, pid_t t, int *ret_idx, int *ret_depth,
		     uint64_t *ret_ino)
{
	struct stat sb;
	int idx, r;

	if (t) {
		*ret_idx = s->cur_node;
		*ret_depth = s->nodes[s->cur_node].depth;
		*ret_ino = s->cur_ino;
		return 1;
	}
	r = pt_proc_ns_stat(s->procfd, o, "pid", &sb);
	*ret_ino = r < 0 ? 0 : sb.st_ino;
	idx = r < 0 ? r : ns_lookup(s, o, *ret_ino, ret_depth);
	if (idx == -EACCES || idx == -EPERM)
		return -EXDEV; /* its namespace is not ours to see */
	if (idx == NO_NODE && *ret_depth >= 0)
		return -EXDEV; /* too many namespaces to hold */
	if (idx < 0 || *ret_depth < 0 || idx == NO_NODE)
		return idx < 0 ? skip_or(idx) : 0;
	*ret_idx = idx;
	return 1;
}

/* Leader @a's group and session at each level, given its own ids @v there. */
static int nsfs_groups(struct pidtuple_scan *s, const int *fds, int depth, pid_t a, const pid_t *v,
		       pid_t *pv, pid_t *sv)
{
	pid_t g = pt_getpgid(a), sess = pt_getsid(a);
	int r = g < 0 ? g : sess < 0 ? sess : 0;

	/* A leader's group is itself; a session led by the group's leader is the group: the
	 * same ids, nothing more to translate. */
	if (r == 0 && g == a)
		memcpy(pv, v, NLEV * sizeof(*pv));
	else if (r == 0)
		r = group_levels(s, fds, depth, g, pv);
	if (r == 0 && sess == g)
		memcpy(sv, pv, NLEV * sizeof(*sv));
	else if (r == 0)
		r = group_levels(s, fds, depth, sess, sv);
	return r;
}

/* Asked last: proves the task was alive all along, and gives its parent (numbered in A). */
static int nsfs_alive(int pidfd, pid_t *ret_ppid)
{
	struct pt_pidfd_ids ids;
	int r = pt_pidfd_get_ids(pidfd, &ids);

	if (r == 0)
		*ret_ppid = ids.ppid;
	else if (r != -ESRCH && !fatal(r))
		r = -EXDEV; /* before 6.13 no PIDFD_GET_INFO: ENOTTY, or EINVAL on 6.11/6.12 */
	return r;
}

/* A parent numbered in A, in S: 0 when outside S, -errno when fatal. */
static pid_t ppid_in_s(struct pidtuple_scan *s, pid_t ppid)
{
	if (ppid <= 0 || s->s_depth == 0)
		return ppid;
	ppid = pt_ns_xlate(s->nodes[0].fd, PT_NS_PID_IN, ppid);
	if (ppid < 0 && fatal(ppid))
		return ppid;
	return ppid > 0 ? ppid : 0;
}

/* Nsfs path for a leader (@t == 0) or thread @t of process @o. 1: filled, 0: skip. */
static int visit_nsfs(struct pidtuple_scan *s, pid_t o, pid_t t, struct pidtuple_scan_entry *e)
{
	pid_t a, v[NLEV], pv[NLEV], sv[NLEV], ppid = 0;
	int fds[NLEV], pidfd, idx = 0, depth = 0, r;
	uint64_t ino = 0;

	a = o_to_a(s, t ? t : o);
	if (a <= 0)
		return a == -ENOTTY && ioctls_gone(s, a) ? -ENOTTY : 0;
	pidfd = pt_sys_pidfd_open(a, t ? PT_PIDFD_THREAD : 0);
	if (pidfd == -ENOSYS || pidfd == -EPERM)
		return -EXDEV; /* no pidfd_open() (a filter): status can still tell */
	if (pidfd < 0)
		return skip_or(pidfd);
	/* The pidfd pins a: if /proc's number still maps to it, both name one task. */
	if (s->above && o_to_a(s, t ? t : o) != a)
		r = 0;
	else
		r = nsfs_node(s, o, t, &idx, &depth, &ino);
	if (r <= 0) {
		pt_close(pidfd);
		return r;
	}
	chain_fds(s, idx, fds);
	r = xlate_levels(s, fds, depth, a, v);
	if (r == 0 && !t)
		r = nsfs_groups(s, fds, depth, a, v, pv, sv);
	if (r == 0)
		r = nsfs_alive(pidfd, &ppid);
	pt_close(pidfd);
	if (r == -EAGAIN || r == -EXDEV || (r == -ENOTTY && ioctls_gone(s, r)))
		return r; /* the caller reads it from status */
	if (r < 0)
		return skip_or(r);
	set_tuple(&s->t, v, depth + 1);
	if (t) {
		fill(s, e, s->cur_pid, s->cur_ppid, s->cur_ino, depth, true, NO_NAME);
		return 1;
	}
	set_tuple(&s->pg, pv, depth + 1);
	set_tuple(&s->sid, sv, depth + 1);
	ppid = ppid_in_s(s, ppid);
	if (ppid < 0)
		return ppid;
	s->cur_o = o;
	s->cur_pid = v[0];
	s->cur_ppid = ppid;
	s->cur_node = idx;
	s->cur_depth = depth;
	s->cur_ino = ino;
	fill(s, e, s->cur_pid, ppid, s->cur_ino, depth, false, NO_NAME);
	return 1;
}

static int visit(struct pidtuple_scan *s, pid_t o, pid_t t, struct pidtuple_scan_entry *e)
{
	int r;

	/* Threads go the way their process went. */
	if (s->nsfs && (t == 0 || s->cur_node >= 0)) {
		r = visit_nsfs(s, o, t, e);
		if (r == -ENOTTY) {
			s->nsfs = s->xlate = false; /* the ioctls went away: status from now on */
			r = -EXDEV;
		}
		if (r != -EAGAIN && r != -EXDEV)
			return r;
	}
	return visit_status(s, o, t, e);
}

/* ---- io_uring batches ----------------------------------------------------------------- */

#define PT_SCAN_END 2 /* next_batched(): /proc has no more processes */

/* Reads the next batch of processes through io_uring. 1: read (maybe empty), 0: the end. */
static int fill_batch(struct pidtuple_scan *s)
{
	unsigned int n = 0;
	int r = 1;

	while (n < PT_URING_BATCH && (r = pt_dir_next_pid(s->procs, &s->batch[n].o)) > 0) {
		s->batch[n].a = 0;
		if (s->above && s->xlate) {
			s->batch[n].a = o_to_a_filter(s, s->batch[n].o);
			if (s->batch[n].a == 0)
				continue; /* not in A's subtree: not worth a read */
		}
		n++;
	}
	if (r < 0)
		return fatal(r) ? r : -EIO;
	s->bpos = 0;
	s->blen = n;
	if (n == 0)
		return 0;
	r = pt_uring_fetch(s->uring, s->procfd, s->batch, n);
	if (r < 0) {
		/* The ring failed as a whole: this batch and the rest of the scan the plain
		 * way (the ring's state is not worth guessing at). */
		for (unsigned int i = 0; i < n; i++)
			s->batch[i].err = -EAGAIN;
		pt_uring_free(s->uring);
		s->uring = NULL;
		if (fatal(r))
			return r;
	}
	return 1;
}

/* The next leader of a batched scan. As visit(); PT_SCAN_END at the end of /proc. */
static int next_batched(struct pidtuple_scan *s, struct pidtuple_scan_entry *e, pid_t *ret_o)
{
	const struct pt_fetch *f;
	int r;

	if (s->bpos == s->blen) {
		r = fill_batch(s);
		if (r <= 0)
			return r < 0 ? r : PT_SCAN_END;
		if (s->blen == 0)
			return PT_SCAN_END;
	}
	f = &s->batch[s->bpos++];
	*ret_o = f->o;
	if (f->err == -EAGAIN)
		return visit(s, f->o, 0, e);
	if (f->err < 0)
		return skip_or(f->err);
	return apply_status(s, f->o, f->a, &f->st, e);
}

/* ---- the BPF task iterator ------------------------------------------------------------- */

/* Some kernels' iterators never give the initial namespace's PID 1 (seen on 6.18): at the
 * end, a PID 1 the iterator left out comes from its status, once. */
static int bpf_missed_init(struct pidtuple_scan *s, struct pidtuple_scan_entry *e)
{
	int r;

	if (s->bpf_saw_init || s->above != 0 || pt_sys_kill(1, 0) == -ESRCH)
		return 0;
	s->bpf_saw_init = true;
	r = visit_status(s, 1, 0, e);
	return r < 0 && !fatal(r) ? 0 : r;
}

/* The next process from the iterator: the same entry status gives. As pidtuple_scan_next(). */
static int next_bpf(struct pidtuple_scan *s, struct pidtuple_scan_entry *e)
{
	pid_t v[NLEV], pv[NLEV], sv[NLEV];
	struct pt_bpf_task t;
	int r, n, kthread;

	do {
		r = pt_bpf_scan_next(s->bpf, &t);
		if (r == 0)
			return bpf_missed_init(s, e);
		if (r < 0)
			return r;
		/* As of its block's read() (one per ~1,250 processes): a snapshot fresher than
		 * a walk of /proc, which takes seven times as long. Its number is ours: S is A. */
	} while ((t.h.flags & PT_BPF_THREAD) || t.h.tgid <= 0);
	n = (int)t.h.nlev;
	s->bpf_saw_init = s->bpf_saw_init || t.h.tgid == 1;
	for (int i = 0; i < n; i++) {
		v[i] = t.lev[i].tid;
		pv[i] = t.lev[i].pgid;
		sv[i] = t.lev[i].sid;
	}
	set_tuple(&s->t, v, n);
	set_tuple(&s->pg, pv, n);
	set_tuple(&s->sid, sv, n);
	/* A kernel thread's /proc name can be longer than its comm (a workqueue worker's says
	 * what it works on): not given. */
	kthread = (t.h.flags & PT_BPF_KTHREAD) != 0;
	t.h.comm[sizeof(t.h.comm) - 1] = '\0';
	fill(s, e, t.h.tgid, t.h.ppid, t.h.ns_inum, n - 1, false,
	     (struct name){ kthread ? NULL : t.h.comm, kthread });
	return 1;
}

/* The iterator, for a scan it can serve: 1 when taken, 0: read /proc. PIDTUPLE_SCAN_SOURCE=bpf
 * (benchmarks, tests) insists: the load's -errno, or -EOPNOTSUPP for a scan it cannot serve. */
static int use_bpf(struct pidtuple_scan *s, const char *env)
{
	bool insist = env && strcmp(env, "bpf") == 0;
	int r;

	if (s->s_depth || (s->flags & (PIDTUPLE_SCAN_THREADS | PIDTUPLE_SCAN_URING)))
		return insist ? -EOPNOTSUPP : 0;
	if (env && !insist && (strcmp(env, "status") == 0 || strcmp(env, "nsfs") == 0))
		return 0;
	r = pt_bpf_scan_new(&s->bpf);
	if (r < 0)
		return insist ? r : 0; /* silently: /proc tells the same */
	return 1;
}

/* ---- the API -------------------------------------------------------------------------- */

/* Finds O's namespace, to translate /proc numbers into A's: /proc/1's, else an ancestor's
 * (the first one outside A is often in O). Checked both ways on ourselves. */
static int find_outer(struct pidtuple_scan *s, uint64_t a_ino)
{
	pid_t self = pt_sys_getpid(), self_o = pt_proc_self(s->procfd), c = 1, cur = self_o;

	if (self_o < 0)
		return -1;
	for (int tries = 0; tries < 64 && c > 0; tries++) {
		int fd = pt_proc_ns_open(s->procfd, c, "pid");

		if (fd >= 0) {
			if (pt_ns_is(fd, a_ino) == 0 &&
			    pt_ns_xlate(fd, PT_NS_PID_FROM, self_o) == self &&
			    pt_ns_xlate(fd, PT_NS_PID_IN, self) == self_o)
				return fd;
			pt_close(fd);
		}
		/* Next candidate: the parent of the last ancestor tried. */
		if (pt_proc_ppid(s->procfd, cur, &cur) < 0)
			break;
		c = cur;
	}
	return -1;
}

static int scan_opts(const struct pidtuple_scan_opts *opts, uint64_t *flags, int *nsfd)
{
	int r = PT_OPTS_VALID(opts, pidtuple_scan_opts);

	*flags = 0;
	*nsfd = -1;
	if (r < 0 || !opts)
		return r;
	*flags = PT_OPTS_GET(opts, flags, 0);
	if ((*flags & ~(PIDTUPLE_SCAN_THREADS | PIDTUPLE_SCAN_NS_FD | PIDTUPLE_SCAN_URING)) ||
	    PT_OPTS_GET(opts, reserved, 0))
		return -EINVAL;
	if (*flags & PIDTUPLE_SCAN_NS_FD) {
		*nsfd = PT_OPTS_GET(opts, ns_fd, -1);
		if (*nsfd < 0)
			return -EINVAL;
	}
	return 0;
}

/* S: the caller's namespace, or @nsfd at or below it. Sets nodes[0] and s_depth. */
static int set_scanned(struct pidtuple_scan *s, int nsfd, uint64_t a_ino)
{
	uint64_t ino = a_ino;
	int fd, r;

	if (nsfd >= 0) {
		r = pt_pidns_ino(nsfd, &ino);
		if (r == 0)
			r = pt_pidns_depth(nsfd, a_ino, &s->s_depth);
		if (r < 0)
			return r;
	}
	fd = pt_dup(nsfd >= 0 ? nsfd : s->afd);
	if (fd < 0)
		return fd;
	return add_node(s, ino, fd, 0, -1) < 0 ? (pt_close(fd), -ENOMEM) : 0;
}

/* Opens /proc, A and S, and O where /proc is an outer namespace's. */
static int scan_open(struct pidtuple_scan *s, int nsfd)
{
	struct stat st;
	int r = pt_dir_open_proc(s->procs);

	if (r < 0)
		return r;
	s->procfd = s->procs->fd;
	r = pt_proc_levels_above();
	if (r < 0)
		return r;
	s->above = r;
	r = s->afd = pt_proc_ns_open(s->procfd, 0, "pid");
	if (r >= 0)
		r = pt_fstat(s->afd, &st);
	if (r < 0)
		return r;
	r = set_scanned(s, nsfd, st.st_ino);
	if (r < 0)
		return r;
	s->xlate = pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS;
	if (s->xlate && s->above) {
		s->ofd = find_outer(s, st.st_ino);
		s->xlate = s->ofd >= 0;
	}
	return 0;
}

/* Chooses how processes are read, and sets up the io_uring batches when asked for. */
static int scan_way(struct pidtuple_scan *s)
{
	/* The default is the measured faster path (docs/reading.md); PIDTUPLE_SCAN_SOURCE
	 * (status or nsfs) overrides it for benchmarks and tests. */
	const char *env = secure_getenv("PIDTUPLE_SCAN_SOURCE");
	int r;

	r = use_bpf(s, env);
	if (r != 0)
		return r < 0 ? r : 0;
	s->nsfs = env && strcmp(env, "nsfs") == 0 && s->xlate;
	if (!(s->flags & PIDTUPLE_SCAN_URING))
		return 0;
	s->nsfs = false;	     /* the batch reads status */
	r = pt_uring_new(&s->uring); /* -EOPNOTSUPP without liburing */
	if (r < 0)
		return r;
	s->batch = pt_malloc(PT_URING_BATCH * sizeof(*s->batch));
	return s->batch ? 0 : -ENOMEM;
}

PT_PUBLIC int pidtuple_scan_new(const struct pidtuple_scan_opts *opts,
				struct pidtuple_scan **ret_scan)
{
	struct pidtuple_scan *s;
	uint64_t flags;
	int nsfd, r;

	pt_return_if(!ret_scan, -EINVAL);
	r = scan_opts(opts, &flags, &nsfd);
	if (r < 0)
		return r;
	s = pt_malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct pidtuple_scan){ .flags = flags, .procfd = -1, .afd = -1, .ofd = -1 };
	s->procs = pt_malloc(2 * sizeof(*s->procs));
	if (!s->procs) {
		free(s);
		return -ENOMEM;
	}
	s->tasks = s->procs + 1;
	s->procs->fd = s->tasks->fd = -1;
	r = scan_open(s, nsfd);
	if (r == 0)
		r = scan_way(s);
	if (r < 0) {
		pidtuple_scan_free(s);
		return r == -ENOTDIR ? -ENOENT : r;
	}
	s->cur_node = -1;
	for (int i = 0; i < NLEV; i++)
		s->last[i] = -1;
	*ret_scan = s;
	return 0;
}

PT_PUBLIC int pidtuple_scan_next(struct pidtuple_scan *s, struct pidtuple_scan_entry *e)
{
	pt_return_if(!s || !e || e->sz == 0, -EINVAL);
	if (s->bpf)
		return next_bpf(s, e);
	for (;;) {
		pid_t o, t;
		int r;

		if (s->tasks->fd >= 0) {
			r = pt_dir_next_pid(s->tasks, &t);
			if (r <= 0) {
				pt_dir_close(s->tasks);
				if (fatal(r))
					return r;
				continue;
			}
			if (t == s->cur_o)
				continue; /* the leader was yielded as the process */
			r = visit(s, s->cur_o, t, e);
			if (r != 0)
				return r < 0 ? r : 1;
			continue;
		}
		if (s->uring || s->bpos < s->blen) {
			r = next_batched(s, e, &o);
		} else {
			r = pt_dir_next_pid(s->procs, &o);
			if (r <= 0)
				return r < 0 && !fatal(r) ? -EIO : r;
			r = visit(s, o, 0, e);
		}
		if (r == PT_SCAN_END)
			return 0;
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (s->flags & PIDTUPLE_SCAN_THREADS) {
			r = pt_dir_open_tasks(s->tasks, s->procfd, o);
			if (fatal(r))
				return r;
		}
		return 1;
	}
}

PT_PUBLIC void pidtuple_scan_free(struct pidtuple_scan *s)
{
	if (!s)
		return;
	if (s->procs) {
		pt_dir_close(s->tasks);
		pt_dir_close(s->procs);
		free(s->procs);
	}
	pt_uring_free(s->uring);
	free(s->batch);
	pt_bpf_scan_free(s->bpf);
	for (size_t i = 0; i < s->nnodes; i++)
		pt_close(s->nodes[i].fd);
	free(s->nodes);
	pt_close(s->afd);
	pt_close(s->ofd);
	free(s);
}
