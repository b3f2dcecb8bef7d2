/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capturing a live tree: a process and its descendants, with their PID, group and session
 * tuples, all relative to the caller's namespace.
 *
 * The processes of a large tree come from one pidtuple_scan of the caller's namespace (the
 * BPF task iterator): every process's tuples and its parent's number, from which the root's
 * descendants are chosen by parent, breadth first. Only what the scan lacks is read per
 * chosen process: its command name and live thread count (/proc/PID/stat) and, with other
 * threads, those (/proc/PID/task, with their NSpid tuples). A process's parent is its real
 * parent's thread-group id, as /proc/PID/task/TID/children lists it under any of that
 * process's threads; both show current parents (after a reparenting too).
 *
 * Consistency under change: a process is captured when the scan saw it and saw its parent,
 * recursively up to the root, so a child whose parent was not seen (born after, or its parent
 * gone before its read) is left out with its subtree, as the walk below leaves out a process
 * that is gone when it is read. A process seen once stays in, with an empty name or fewer
 * threads when it exits meanwhile.
 *
 * With /proc of an outer namespace than the caller's (after unshare()), the scan still numbers
 * processes in the caller's namespace; the reads per process take /proc's number, from a
 * translation ioctl on /proc's namespace (its PID 1's, or an ancestor's).
 *
 * The walk: from the root through /proc/PID/task/TID/children, reading /proc/PID/status (+
 * comm) per process. /proc is entered by /proc's own numbers, found through the root's pidfd,
 * and the levels it shows above the caller are dropped. It costs ten times the BPF iterator
 * per process, but the scan reads the whole namespace: a capture walks until the tree has
 * more processes than a tenth of the machine's, then starts over with the scan where the
 * iterator loads (cap_find()). The walk also serves where no scan can be had, or no number
 * in an outer /proc. PIDTUPLE_SCAN_SOURCE=walk insists on the walk, =bpf, =status or =nsfs
 * on the scan (tests, benchmarks).
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
#include <string.h>
#include <sys/stat.h>

#include "lib.h"
#include "pidtuple.h"
#include "proc.h"
#include "syscall_shim.h"
#include "tree_int.h"
#include "tuple.h"

#define CAP_MAX_PROCS (1u << 22)

struct cap_ent {
	pid_t o;    /* in /proc's numbering */
	pid_t ppid; /* the scan's: its parent, in the caller's numbering */
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
	int ofd;   /* the scan with an outer /proc: its namespace, to number processes in it */
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

/* The command name from status's "Name:" (already read with the ids), cut as the comm file's
 * reader cuts it: at a newline, and to the kernel's length. */
static void cap_name(char name[PT_COMM_SIZE], const char *status_name)
{
	size_t n = strcspn(status_name, "\n");

	n = n < PT_COMM_SIZE - 1 ? n : PT_COMM_SIZE - 1;
	memcpy(name, status_name, n);
	name[n] = '\0';
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
	cap_name(e->name, st.has_name ? st.name : "");
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

/* The walk: from the root (/proc's number @root_o) through the children files, on from entry
 * *@pos. With @budget > 0, 1 once it has found more processes than that (*@pos: where to go
 * on). */
static int cap_walk(struct cap *c, pid_t root_o, unsigned int *pos, unsigned int budget)
{
	int r;

	if (c->n == 0) {
		r = cap_grow(c);
		if (r < 0)
			return r;
		c->e[c->n++] = (struct cap_ent){ .o = root_o, .parent = -1, .canon = -1 };
	}
	for (; *pos < c->n; (*pos)++) {
		unsigned int i = *pos;

		if (budget && c->n > budget)
			return 1;
		r = cap_read(c, &c->e[i]);
		if (r == 1) {
			if (i == 0)
				return -ESRCH;
			c->e[i].n = 0; /* gone meanwhile: left out with its subtree */
			continue;
		}
		if (r < 0)
			return r;
		r = cap_children(c, (int)i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the scan ------------------------------------------------------------------------- */

/* Records a scanned process in @all, its tuples outermost first; .o is its number. */
static int cap_scanned(struct cap *all, const struct pidtuple_scan_entry *se)
{
	const struct pidtuple *t = se->tuple, *pg = se->pgid_tuple, *sid = se->sid_tuple;
	unsigned int n = t->n;
	struct cap_ent *e;
	int r;

	if (n < 1 || n > PIDTUPLE_MAX_LEVELS || pg->n != n || sid->n != n)
		return -EIO;
	r = cap_grow(all);
	if (r < 0)
		return r;
	e = &all->e[all->n++];
	e->o = se->pid;
	e->ppid = se->ppid;
	e->parent = -1;
	e->canon = -1;
	e->n = n;
	e->nthr = e->thr_first = 0;
	e->name[0] = '\0';
	for (unsigned int p = 0; p < n; p++) {
		e->pid[p] = t->pid[n - 1 - p];
		e->pg[p] = pg->pid[n - 1 - p];
		e->sid[p] = sid->pid[n - 1 - p];
	}
	return 0;
}

/* A scanned process by its parent's number; idx -1 once taken. */
struct cap_pp {
	pid_t ppid;
	int idx;
};

static int cmp_pp(const void *x, const void *y)
{
	const struct cap_pp *a = x, *b = y;

	if (a->ppid != b->ppid)
		return a->ppid < b->ppid ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The first of @v[0..n) whose parent is @pid (or n). */
static unsigned int cap_first_child(const struct cap_pp *v, unsigned int n, pid_t pid)
{
	unsigned int lo = 0, hi = n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (v[mid].ppid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Appends @all's entry @j to @c as a child of @c's entry @parent. */
static int cap_take(struct cap *c, const struct cap *all, int j, int parent)
{
	int r = cap_grow(c);

	if (r < 0)
		return r;
	c->e[c->n] = all->e[j];
	c->e[c->n++].parent = parent;
	return 0;
}

/* Chooses the root (@root) and its descendants from @all into @c, breadth first. */
static int cap_select(const struct cap *all, pid_t root, struct cap *c)
{
	struct cap_pp *v = pt_malloc((all->n ? all->n : 1) * sizeof(*v));
	int r = -ESRCH;

	if (!v)
		return -ENOMEM;
	for (unsigned int j = 0; j < all->n; j++) {
		v[j] = (struct cap_pp){ all->e[j].ppid, (int)j };
		if (r == -ESRCH && all->e[j].o == root)
			r = cap_take(c, all, (int)j, -1);
	}
	qsort(v, all->n, sizeof(*v), cmp_pp);
	for (unsigned int i = 0; r == 0 && i < c->n; i++) {
		pid_t pid = c->e[i].o;

		for (unsigned int k = cap_first_child(v, all->n, pid);
		     r == 0 && k < all->n && v[k].ppid == pid; k++) {
			if (v[k].idx < 0 || all->e[v[k].idx].o == root)
				continue; /* taken (a number seen twice), or the root */
			r = cap_take(c, all, v[k].idx, (int)i);
			v[k].idx = -1;
		}
	}
	free(v);
	return r;
}

/* Process @o's command name (as /proc/PID/comm gives it), whether it may have threads other
 * than its main one, from one read of /proc/PID/stat: "PID (NAME) STATE ..." with the count
 * of live threads the 18th field after the name. A main thread that exited before the others
 * leaves a zombie leader (state Z) counted out: those it cannot tell. */
static int cap_stat(pid_t o, char name[PT_COMM_SIZE], bool *ret_others)
{
	char path[PT_PROC_PATH_MAX], buf[1024], *lp, *rp;
	int r, field = 0;

	pt_proc_path(path, -1, o, 0, "stat");
	r = pt_read_file_at(-1, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')'); /* the name may hold anything, ')' too */
	if (!lp || !rp || rp < lp)
		return -EIO;
	*rp = '\0';
	cap_name(name, lp + 1);
	for (char *p = rp + 1; *p; p++)
		if (*p == ' ' && ++field == 18) {
			*ret_others = atoi(p + 1) != 1 || rp[2] == 'Z';
			return 0;
		}
	return -EIO;
}

/* What the scan lacks of entry @idx: its command name and its other threads. Its number
 * becomes /proc's first. */
static int cap_extra(struct cap *c, int idx)
{
	pid_t o = c->e[idx].o, tid;
	struct pt_dir d;
	bool others = true;
	int r;

	if (c->ofd >= 0) {
		o = pt_ns_xlate(c->ofd, PT_NS_PID_IN, o);
		if (o == -ESRCH)
			return 0; /* gone meanwhile */
		if (o <= 0)
			return o < 0 ? o : -EIO;
		c->e[idx].o = o;
	}
	r = cap_stat(o, c->e[idx].name, &others);
	if (r == -ENOENT || r == -ESRCH)
		return 0; /* gone meanwhile */
	if (r < 0)
		return r;
	if (!others)
		return 0;
	r = pt_dir_open_tasks(&d, -1, o);
	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	while ((r = pt_dir_next_pid(&d, &tid)) == 1) {
		if (tid != o)
			r = cap_thread(c, idx, tid);
		if (r < 0)
			break;
	}
	pt_dir_close(&d);
	return r;
}

/* The tree of @root (the caller's number) from scan @s. */
static int cap_scan(struct cap *c, struct pidtuple_scan *s, pid_t root)
{
	PIDTUPLE_OPTS(pidtuple_scan_entry, se);
	struct cap all = { .e = NULL };
	int r;

	while ((r = pidtuple_scan_next(s, &se)) == 1) {
		r = cap_scanned(&all, &se);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = cap_select(&all, root, c);
	free(all.e);
	for (unsigned int i = 0; r == 0 && i < c->n; i++)
		r = cap_extra(c, (int)i);
	return r;
}

/* Is @fd, a PID namespace, /proc's? It must number us as /proc does (@self_o), both ways. */
static bool cap_is_outer(int fd, pid_t self, pid_t self_o)
{
	return pt_ns_xlate(fd, PT_NS_PID_IN, self) == self_o &&
	       pt_ns_xlate(fd, PT_NS_PID_FROM, self_o) == self;
}

/* An outer /proc's namespace: its PID 1's, else an ancestor's (PID 1's link may be refused us:
 * the first ancestor outside our namespace is often in /proc's); -1 when it cannot be had (no
 * access, or a kernel without the translation ioctls). */
static int cap_outer(void)
{
	pid_t self = pt_sys_getpid(), self_o = pt_proc_self(-1), cand = 1, cur = self_o;

	for (int tries = 0; self_o > 0 && cand > 0 && tries < 64; tries++) {
		int fd = pt_proc_ns_open(-1, cand, "pid");

		if (fd >= 0 && cap_is_outer(fd, self, self_o))
			return fd;
		pt_close(fd);
		if (pt_proc_ppid(-1, cur, &cur) < 0)
			break;
		cand = cur;
	}
	return -1;
}

/* How many processes the walk may find before the scan may pay: a tenth of the machine's
 * processes (/proc's link count: 2 + its entries + every process, of any namespace), as the
 * walk costs ten times the iterator per process (docs/trees.md has the numbers). */
static unsigned int cap_budget(void)
{
	struct stat st;

	if (pt_stat("/proc", &st) < 0)
		return 0;
	return st.st_nlink / 10 > 64 ? (unsigned int)(st.st_nlink / 10) : 64;
}

/* Finds the processes of the tree of @root (/proc's number @root_o) into @c: the walk while
 * the tree is small, the scan beyond where the BPF iterator loads (the scan from status costs
 * as much as the walk). PIDTUPLE_SCAN_SOURCE=walk insists on the walk; bpf, status or nsfs
 * on the scan (tests, benchmarks). */
static int cap_find(struct cap *c, pid_t root, pid_t root_o)
{
	const char *env = secure_getenv("PIDTUPLE_SCAN_SOURCE");
	struct pidtuple_scan *s = NULL;
	unsigned int pos = 0;
	int r;

	if (!env || (strcmp(env, "bpf") && strcmp(env, "status") && strcmp(env, "nsfs"))) {
		bool walk = env && strcmp(env, "walk") == 0;

		r = cap_walk(c, root_o, &pos, walk ? 0 : cap_budget());
		if (r == 1 && !(pidtuple_features() & PIDTUPLE_FEATURE_BPF_SCAN))
			r = cap_walk(c, root_o, &pos, 0);
		if (r != 1)
			return r;
		c->n = c->nt = 0; /* a large tree: the scan, from the start */
		pos = 0;
	}
	if (c->above && (c->ofd = cap_outer()) < 0)
		return cap_walk(c, root_o, &pos, 0);
	if (pidtuple_scan_new(NULL, &s) < 0) {
		r = cap_walk(c, root_o, &pos, 0);
	} else {
		r = cap_scan(c, s, root);
		pidtuple_scan_free(s);
	}
	pt_close(c->ofd);
	return r;
}

PT_PUBLIC int pidtuple_tree_capture(pid_t root, struct pidtuple_tree **ret_tree)
{
	struct cap c = { .e = NULL, .ofd = -1 };
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
		r = cap_find(&c, root, st.pid);
	/* The root must still be the process the caller named. */
	if (r == 0 && pt_poll_in(fd) == 1)
		r = -ESRCH;
	if (r == 0)
		r = cap_build(&c, ret_tree);
	pt_close(fd);
	free(c.e);
	free(c.t);
	return r;
}
