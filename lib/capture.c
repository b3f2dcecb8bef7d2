/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capturing a live tree: a process and its descendants, found through
 * /proc/PID/task/TID/children, with their PID, group and session tuples from /proc/PID/status,
 * all relative to the caller's namespace. /proc may belong to an outer namespace than the
 * caller (after unshare()): it is entered by /proc's own numbers, found through the root's
 * pidfd, and the levels it shows above the caller are dropped.
 *
 * Each process's other threads come from /proc/PID/task, with their NSpid tuples.
 *
 * The order is canonical, so that two captures of the same tree compare equal: breadth first
 * from the root, the children of each process sorted by their tuples, its threads too.
 *
 * A node whose group or session leader is no process of the tree (alive outside it, or gone)
 * is marked PIDTUPLE_NODE_GROUP_OUTSIDE or _SESSION_OUTSIDE, so that a refused restore can say
 * so (a shell job).
 */
#include <errno.h>
#include <stdlib.h>

#include "lib.h"
#include "pidtuple.h"
#include "proc.h"
#include "syscall_shim.h"
#include "tree_int.h"
#include "tuple.h"

#define CAP_MAX_PROCS (1u << 22)

struct cap_ent {
	pid_t o;    /* in /proc's numbering */
	int parent; /* entry index; -1 for the root */
	unsigned int n;
	pid_t pid[PIDTUPLE_MAX_LEVELS], pg[PIDTUPLE_MAX_LEVELS], sid[PIDTUPLE_MAX_LEVELS];
	int canon;		      /* index in the description */
	unsigned int thr_first, nthr; /* its threads: c->t[thr_first...] */
	char name[PT_COMM_SIZE];      /* its command name */
};

/* A thread other than a process's main one: its TIDs by position, outermost first. */
struct cap_thr {
	pid_t tid[PIDTUPLE_MAX_LEVELS];
};

struct cap {
	struct cap_ent *e;
	unsigned int n, cap;
	struct cap_thr *t;
	unsigned int nt, capt;
	int above; /* levels /proc shows above the caller */
};

static int cap_grow(struct cap *c)
{
	unsigned int cap = c->cap ? c->cap * 2 : 64;
	struct cap_ent *v;

	if (c->n < c->cap)
		return 0;
	if (c->cap >= CAP_MAX_PROCS)
		return -ENOMEM;
	v = pt_malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (c->n)
		memcpy(v, c->e, c->n * sizeof(*v));
	free(c->e);
	c->e = v;
	c->cap = cap;
	return 0;
}

static int cap_grow_threads(struct cap *c)
{
	unsigned int cap = c->capt ? c->capt * 2 : 64;
	struct cap_thr *v;

	if (c->nt < c->capt)
		return 0;
	if (c->capt >= CAP_MAX_PROCS)
		return -ENOMEM;
	v = pt_malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (c->nt)
		memcpy(v, c->t, c->nt * sizeof(*v));
	free(c->t);
	c->t = v;
	c->capt = cap;
	return 0;
}

/* Records thread @tid of entry @idx; a thread gone meanwhile is left out. */
static int cap_thread(struct cap *c, int idx, pid_t tid)
{
	struct cap_ent *e = &c->e[idx];
	struct pt_status st;
	int r = pt_proc_status(-1, e->o, tid, &st);

	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	if (st.n[PT_NSPID] - c->above != (int)e->n)
		return -EIO;
	r = cap_grow_threads(c);
	if (r < 0)
		return r;
	for (unsigned int p = 0; p < e->n; p++)
		c->t[c->nt].tid[p] = st.ids[PT_NSPID][c->above + (int)p];
	if (!e->nthr++)
		e->thr_first = c->nt;
	c->nt++;
	return 0;
}

/* Reads one process's ids; 0, 1 when it is gone or not visible (skip it), or -errno. */
static int cap_read(struct cap *c, struct cap_ent *e)
{
	struct pt_status st;
	int n, r = pt_proc_status(-1, e->o, 0, &st);

	if (r == -ENOENT || r == -ESRCH)
		return 1;
	if (r < 0)
		return r;
	n = st.n[PT_NSPID] - c->above;
	if (n <= 0 || n > PIDTUPLE_MAX_LEVELS)
		return 1;
	if (st.n[PT_NSPGID] != st.n[PT_NSPID] || st.n[PT_NSSID] != st.n[PT_NSPID])
		return -EIO;
	e->n = (unsigned int)n;
	if (pt_proc_comm(-1, e->o, e->name) < 0)
		e->name[0] = '\0'; /* gone meanwhile: the next read says so */
	for (int p = 0; p < n; p++) {
		e->pid[p] = st.ids[PT_NSPID][c->above + p];
		e->pg[p] = st.ids[PT_NSPGID][c->above + p];
		e->sid[p] = st.ids[PT_NSSID][c->above + p];
	}
	return 0;
}

/* Where pt_proc_children() puts the children of one process. */
struct cap_kids {
	struct cap *c;
	int parent;
};

static int cap_add(void *arg, pid_t child)
{
	struct cap_kids *k = arg;
	int r = cap_grow(k->c);

	if (r < 0)
		return r;
	k->c->e[k->c->n++] = (struct cap_ent){ .o = child, .parent = k->parent, .canon = -1 };
	return 0;
}

static int cap_children(struct cap *c, int idx)
{
	struct cap_kids kids = { c, idx };
	struct pt_dir d;
	pid_t o = c->e[idx].o, tid;
	int r = pt_dir_open_tasks(&d, -1, o);

	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	while ((r = pt_dir_next_pid(&d, &tid)) == 1) {
		r = pt_proc_children(o, tid, cap_add, &kids);
		if (r == 0 && tid != o)
			r = cap_thread(c, idx, tid);
		if (r < 0)
			break;
	}
	pt_dir_close(&d);
	return r;
}

static int cmp_tuple(const struct cap_ent *a, const struct cap_ent *b)
{
	for (unsigned int p = 0; p < a->n && p < b->n; p++)
		if (a->pid[p] != b->pid[p])
			return a->pid[p] < b->pid[p] ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

static int cmp_idx(const void *x, const void *y, void *base)
{
	const struct cap_ent *e = base;

	return cmp_tuple(&e[*(const int *)x], &e[*(const int *)y]);
}

/* The canonical order: breadth first, siblings by tuple. */
static int cap_order(struct cap *c, int **ret_order)
{
	int *order = pt_malloc(c->n * sizeof(int)), *kids = pt_malloc(c->n * sizeof(int));
	int *start = pt_malloc((c->n + 1) * sizeof(int));
	unsigned int head = 0, tail = 0;

	if (!order || !kids || !start) {
		free(order);
		free(kids);
		free(start);
		return -ENOMEM;
	}
	/* Children grouped by parent (entries come after their parent). */
	memset(start, 0, (c->n + 1) * sizeof(int));
	for (unsigned int i = 1; i < c->n; i++)
		if (c->e[i].n)
			start[c->e[i].parent + 1]++;
	for (unsigned int i = 1; i <= c->n; i++)
		start[i] += start[i - 1];
	for (unsigned int i = 1; i < c->n; i++)
		if (c->e[i].n)
			kids[start[c->e[i].parent]++] = (int)i;
	for (unsigned int i = c->n; i > 0; i--)
		start[i] = start[i - 1];
	start[0] = 0;
	order[tail++] = 0;
	c->e[0].canon = 0;
	while (head < tail) {
		int cur = order[head++];

		qsort_r(kids + start[cur], (size_t)(start[cur + 1] - start[cur]), sizeof(int),
			cmp_idx, c->e);
		for (int k = start[cur]; k < start[cur + 1]; k++) {
			c->e[kids[k]].canon = (int)tail;
			order[tail++] = kids[k];
		}
	}
	free(kids);
	free(start);
	*ret_order = order;
	return (int)tail;
}

static int cmp_thr(const void *x, const void *y, void *n)
{
	const struct cap_thr *a = x, *b = y;

	for (unsigned int p = 0; p < *(const unsigned int *)n; p++)
		if (a->tid[p] != b->tid[p])
			return a->tid[p] < b->tid[p] ? -1 : 1;
	return 0;
}

/* Entry @e's threads as tuples in @nd, sorted (canonical); free with free_threads(). */
static int cap_node_threads(struct cap *c, const struct cap_ent *e, struct pidtuple_node *nd)
{
	struct pidtuple **v;
	unsigned int n = e->n;

	if (!e->nthr)
		return 0;
	v = pt_malloc(e->nthr * sizeof(*v));
	if (!v)
		return -ENOMEM;
	qsort_r(c->t + e->thr_first, e->nthr, sizeof(*c->t), cmp_thr, &n);
	nd->threads = (const struct pidtuple *const *)v;
	for (unsigned int k = 0; k < e->nthr; k++) {
		int r = pt_tuple_new(c->t[e->thr_first + k].tid, n, true, false, &v[k]);

		if (r < 0)
			return r;
		nd->nthreads++;
	}
	return 0;
}

static void free_threads(struct pidtuple_node *nd)
{
	for (uint32_t k = 0; k < nd->nthreads; k++)
		pidtuple_free((struct pidtuple *)nd->threads[k]);
	free((void *)nd->threads);
}

static int cmp_pid(const void *x, const void *y)
{
	pid_t a = *(const pid_t *)x, b = *(const pid_t *)y;

	return a < b ? -1 : a > b;
}

/* The PIDs of the tree's processes in the caller's namespace, sorted: who leads from inside. */
static int cap_members(const struct cap *c, int count, const int *order, pid_t **ret)
{
	pid_t *v = pt_malloc((size_t)count * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (int k = 0; k < count; k++)
		v[k] = c->e[order[k]].pid[0];
	qsort(v, (size_t)count, sizeof(*v), cmp_pid);
	*ret = v;
	return 0;
}

/* Is the group or session numbered @id (in the caller's namespace; 0: led above it) led by a
 * process outside the tree, alive or gone? The number stays its leader's while it exists. */
static bool cap_outside(const pid_t *members, int count, pid_t id)
{
	return id < 1 || !bsearch(&id, members, (size_t)count, sizeof(id), cmp_pid);
}

/* Adds entry @e as a HOLD node. */
static int cap_add_node(struct cap *c, struct pidtuple_tree *tree, const struct cap_ent *e,
			const pid_t *members, int count)
{
	struct pidtuple *t = NULL, *pg = NULL, *sid = NULL;
	PIDTUPLE_OPTS(pidtuple_node, nd, .kind = PIDTUPLE_NODE_HOLD, .parent = -1);
	int r;

	if (e->parent >= 0) {
		const struct cap_ent *p = &c->e[e->parent];

		nd.parent = p->canon;
		if (e->n == p->n + 1)
			nd.flags = PIDTUPLE_NODE_NEWPID;
	} else if (e->n > 1 && e->pid[e->n - 1] == 1) {
		nd.flags = PIDTUPLE_NODE_NEWPID;
	}
	if (cap_outside(members, count, e->pg[0]))
		nd.flags |= PIDTUPLE_NODE_GROUP_OUTSIDE;
	if (cap_outside(members, count, e->sid[0]))
		nd.flags |= PIDTUPLE_NODE_SESSION_OUTSIDE;
	r = pt_tuple_new(e->pid, e->n, true, false, &t);
	if (r == 0)
		r = pt_tuple_new(e->pg, e->n, true, true, &pg);
	if (r == 0)
		r = pt_tuple_new(e->sid, e->n, true, true, &sid);
	if (r == 0)
		r = cap_node_threads(c, e, &nd);
	if (e->name[0])
		nd.name = e->name;
	if (r == 0) {
		nd.tuple = t;
		nd.pgid = pg;
		nd.sid = sid;
		r = pidtuple_tree_add(tree, &nd);
	}
	free_threads(&nd);
	pidtuple_free(t);
	pidtuple_free(pg);
	pidtuple_free(sid);
	return r;
}

static int cap_build(struct cap *c, struct pidtuple_tree **ret)
{
	struct pidtuple_tree *tree = NULL;
	int *order = NULL, count, r;
	pid_t *members = NULL;

	count = cap_order(c, &order);
	if (count < 0)
		return count;
	r = cap_members(c, count, order, &members);
	if (r == 0)
		r = pidtuple_tree_new(&tree);
	for (int k = 0; r >= 0 && k < count; k++)
		r = cap_add_node(c, tree, &c->e[order[k]], members, count);
	free(order);
	free(members);
	if (r < 0) {
		pidtuple_tree_free(tree);
		return r == -EINVAL ? -EIO : r;
	}
	*ret = tree;
	return 0;
}

PT_PUBLIC int pidtuple_tree_capture(pid_t root, struct pidtuple_tree **ret_tree)
{
	struct cap c = { .e = NULL };
	struct pt_status st;
	int fd, r;

	pt_return_if(root < 1 || !ret_tree, -EINVAL);
	c.above = pt_proc_levels_above();
	if (c.above < 0)
		return c.above;
	/* The pidfd names the process in the caller's numbering; its fdinfo gives /proc's. */
	fd = pt_sys_pidfd_open(root, 0);
	if (fd == -EINVAL || fd == -ENOENT || fd == -ESRCH)
		return -ESRCH;
	if (fd < 0)
		return fd;
	r = pt_read_pidfd_fdinfo(fd, &st);
	if (r == 0)
		r = cap_grow(&c);
	if (r < 0)
		goto out;
	c.e[c.n++] = (struct cap_ent){ .o = st.pid, .parent = -1, .canon = -1 };
	for (unsigned int i = 0; i < c.n; i++) {
		r = cap_read(&c, &c.e[i]);
		if (r == 1) {
			if (i == 0) {
				r = -ESRCH;
				goto out;
			}
			c.e[i].n = 0; /* gone meanwhile: left out with its subtree */
			continue;
		}
		if (r < 0)
			goto out;
		r = cap_children(&c, (int)i);
		if (r < 0)
			goto out;
	}
	/* The root must still be the process the caller named. */
	if (pt_poll_in(fd) == 1) {
		r = -ESRCH;
		goto out;
	}
	r = cap_build(&c, ret_tree);
out:
	pt_close(fd);
	free(c.e);
	free(c.t);
	return r;
}
