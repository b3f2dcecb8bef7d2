/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The check of a tree description, which plans the whole creation: which process forks
 * which, when sessions and process groups are made, which temporary helpers stand in for dead
 * leaders. It replays the kernel's session and group rules on that plan, so a description that
 * cannot be built is refused before anything exists, and restore.c only executes the plan.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tree_int.h"

#define CAP_BIT(c) (1ull << (c))
#define CAP_PIN (CAP_BIT(PT_CAP_SYS_ADMIN) | CAP_BIT(PT_CAP_CHECKPOINT_RESTORE))

/* ---- diagnostics ----------------------------------------------------------------------- */

void pt_diag_set_node(struct pidtuple_diag *diag, int node)
{
	if (pt_diag_usable(diag) && PT_HAS(diag->sz, struct pidtuple_diag, node))
		diag->node = node;
}

void pt_format_pos(const pid_t *pid, unsigned int n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int p = 0; p < n && len < size; p++) {
		int w = snprintf(buf + len, size - len, p ? "/%d" : "%d", (int)pid[p]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

/* ---- analysis state -------------------------------------------------------------------- */

enum { PS_CREATED = 1, PS_EXITED = 2, PS_SLEADER = 4, PS_TRIED = 8, PS_DFS_DONE = 16 };
enum { TC_DONE = 0, TC_DEFER = 1 };

struct ent {
	int32_t own, pos;
	pid_t pid;
	int32_t proc;
};

struct an {
	const struct pidtuple_tree *t;
	const struct pt_fork_opts *o;
	struct pidtuple_diag *diag;
	struct pt_plan *pl;
	unsigned int nn, cap_procs, cap_ops;
	pid_t caller_sid, caller_pgid;
	bool has_newpid;
	/* per process */
	int32_t *cur_s, *cur_g, *last_op, *first_kid, *last_kid, *next_sib, *gsess_req;
	uint8_t *st, *founder;
	/* per identity, indexed by id + 1 */
	int32_t *gcount, *gsess;
	/* per node */
	int32_t *need_bs, *need_bg, *kid_start, *kids, *deferred, *round;
	unsigned int ndeferred;
	struct ent *ents; /* nodes by namespace, position and PID */
	unsigned int nents;
};

static int tdiag(struct an *a, int err, uint32_t rule, int node, int pos, pid_t pid,
		 const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int tdiag(struct an *a, int err, uint32_t rule, int node, int pos, pid_t pid,
		 const char *fmt, ...)
{
	char msg[PIDTUPLE_DIAG_MESSAGE_SIZE];
	unsigned int n = node >= 0 ? a->pl->procs[node].n : 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pt_diag(a->diag, err, rule, pos >= 0 ? (int)n - 1 - pos : -1, n, pid, "%s", msg);
	pt_diag_set_node(a->diag, node);
	return err;
}

static const char *tup(const struct pt_proc *p, char *buf, size_t size)
{
	pt_format_pos(p->pid, p->n, buf, size);
	return buf;
}

/* The node a diagnostic names for a process: itself, or the node a helper serves. */
static int node_of(const struct an *a, int p)
{
	return a->pl->procs[p].node >= 0 ? a->pl->procs[p].node : a->pl->procs[p].for_node;
}

static void *zalloc(size_t n, size_t size)
{
	size_t len;
	void *p;

	if (n && size > SIZE_MAX / n)
		return NULL;
	len = n * size;
	p = pt_malloc(len > 0 ? len : 1);
	if (p)
		memset(p, 0, len);
	return p;
}

void pt_plan_free(struct pt_plan *pl)
{
	if (!pl)
		return;
	if (pl->have_ctx)
		pt_nsctx_fini(&pl->ctx);
	pt_munmap(pl->procs, pl->procs_len);
	free(pl->ops);
	free(pl);
}

static void an_free(struct an *a)
{
	void *v[] = { a->cur_s,	   a->cur_g,	 a->last_op, a->first_kid, a->last_kid,
		      a->next_sib, a->gsess_req, a->st,	     a->founder,   a->gcount,
		      a->gsess,	   a->need_bs,	 a->need_bg, a->kid_start, a->kids,
		      a->deferred, a->round,	 a->ents };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		free(v[i]);
}

static bool size_of(size_t n, size_t size, size_t *ret)
{
	if (n && size > SIZE_MAX / n)
		return false;
	*ret = n * size;
	return true;
}

static int an_alloc(struct an *a)
{
	unsigned int np = a->cap_procs, nn = a->nn;
	struct pt_plan *pl = a->pl;
	size_t len;

	/* Shared, not copied: every fork of a restore would copy the page table entries of
	 * private memory, while a process of the tree reads only its own entries. Entries
	 * are written whole before use, so the pages past the last process stay untouched. */
	if (size_of(np, sizeof(*pl->procs), &pl->procs_len))
		pl->procs = pt_mmap_shared(pl->procs_len);
	a->cap_ops = 4 * nn + 16;
	pl->ops = zalloc(a->cap_ops, sizeof(*pl->ops));
	a->cur_s = zalloc(np, sizeof(int32_t));
	a->cur_g = zalloc(np, sizeof(int32_t));
	a->last_op = zalloc(np, sizeof(int32_t));
	a->first_kid = zalloc(np, sizeof(int32_t));
	a->last_kid = zalloc(np, sizeof(int32_t));
	a->next_sib = zalloc(np, sizeof(int32_t));
	a->gsess_req = zalloc(np, sizeof(int32_t));
	a->st = zalloc(np, 1);
	a->founder = zalloc(np, 1);
	a->gcount = zalloc(np + 1, sizeof(int32_t));
	a->gsess = zalloc(np + 1, sizeof(int32_t));
	a->need_bs = zalloc(nn, sizeof(int32_t));
	a->need_bg = zalloc(nn, sizeof(int32_t));
	a->kid_start = zalloc(nn + 1, sizeof(int32_t));
	a->kids = zalloc(nn, sizeof(int32_t));
	a->deferred = zalloc(nn, sizeof(int32_t));
	a->round = zalloc(nn, sizeof(int32_t));
	/* Written before it is read: not cleared, most of it is never touched. */
	if (size_of((size_t)np * PIDTUPLE_MAX_LEVELS, sizeof(*a->ents), &len))
		a->ents = pt_malloc(len);
	if (!pl->procs || !pl->ops || !a->cur_s || !a->cur_g || !a->last_op || !a->first_kid ||
	    !a->last_kid || !a->next_sib || !a->gsess_req || !a->st || !a->founder || !a->gcount ||
	    !a->gsess || !a->need_bs || !a->need_bg || !a->kid_start || !a->kids || !a->deferred ||
	    !a->round || !a->ents)
		return -ENOMEM;
	for (unsigned int i = 0; i < np; i++) {
		a->cur_s[i] = a->cur_g[i] = PT_ID_NONE;
		a->last_op[i] = a->first_kid[i] = a->last_kid[i] = a->next_sib[i] = -1;
		a->gsess_req[i] = PT_ID_NONE;
	}
	for (unsigned int i = 0; i <= np; i++)
		a->gsess[i] = PT_ID_NONE;
	a->gcount[0] = 1; /* the caller is in its own group */
	a->gsess[0] = PT_ID_EXT;
	for (unsigned int i = 0; i < nn; i++)
		a->need_bs[i] = a->need_bg[i] = PT_ID_NONE;
	return 0;
}

/* ---- shape ----------------------------------------------------------------------------- */

static int check_group_tuple(struct an *a, unsigned int i, const struct pidtuple *g,
			     const char *what)
{
	unsigned int n = a->pl->procs[i].n;
	int zero_at = -1;

	if (!g)
		return 0;
	if (g->n != n)
		return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, (int)i, -1, 0,
			     "node %u: its %s tuple has %u level(s), the node %u", i, what, g->n,
			     n);
	for (unsigned int p = 0; p < n; p++) {
		pid_t v = g->pid[n - 1 - p];

		if (v < 0)
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, (int)p, v,
				     "node %u: its %s tuple has a negative PID", i, what);
		if (v == 0 && zero_at < 0)
			zero_at = (int)p;
		if (v && zero_at >= 0)
			return tdiag(
				a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, (int)p, v,
				"node %u: its %s is visible at NSpid field %u but not at field "
				"%d further out; no namespace shows that",
				i, what, p, zero_at);
	}
	return 0;
}

static int check_shape(struct an *a)
{
	struct pt_plan *pl = a->pl;

	for (unsigned int i = 0; i < a->nn; i++) {
		const struct pt_tnode *nd = a->t->nodes[i];
		struct pt_proc *P = &pl->procs[i];
		bool newpid = nd->flags & PIDTUPLE_NODE_NEWPID;
		unsigned int n = nd->tuple->n;
		int r;

		*P = (struct pt_proc){ .node = (int32_t)i,
				       .parent = nd->parent,
				       .creator = nd->parent,
				       .n = n,
				       .first_op = -1,
				       .create_op = -1,
				       .exit_op = -1,
				       .for_node = -1 };
		for (unsigned int p = 0; p < n; p++) {
			P->pid[p] = nd->tuple->pid[n - 1 - p];
			P->set_tid[p] = nd->tuple->pid[p];
			P->own[p] = -1;
		}
		if (i == 0) {
			if (nd->parent != -1)
				return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, 0, -1, 0,
					     "node 0 is the root: its parent must be -1");
		} else {
			const struct pt_proc *Q;

			if (nd->parent < 0 || nd->parent >= (int)i)
				return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, (int)i, -1, 0,
					     "node %u: parent %d is not an earlier node", i,
					     (int)nd->parent);
			Q = &pl->procs[nd->parent];
			if (n != Q->n + newpid)
				return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, (int)i, -1, 0,
					     "node %u has %u level(s), but as a child%s of node %d "
					     "(%u level(s)) it needs %u",
					     i, n, newpid ? " in a new PID namespace" : "",
					     (int)nd->parent, Q->n, Q->n + newpid);
			memcpy(P->own, Q->own, Q->n * sizeof(P->own[0]));
		}
		if (newpid) {
			P->own[n - 1] = (int32_t)i;
			a->has_newpid = a->has_newpid || i > 0;
			if (P->pid[n - 1] != 1)
				return tdiag(
					a, -EINVAL, PIDTUPLE_RULE_NEWPID_ONE, (int)i, (int)n - 1,
					P->pid[n - 1],
					"node %u starts a new PID namespace, so its innermost PID "
					"must be 1, not %d",
					i, (int)P->pid[n - 1]);
		}
		r = check_group_tuple(a, i, nd->pgid, "process group");
		if (r == 0)
			r = check_group_tuple(a, i, nd->sid, "session");
		if (r < 0)
			return r;
	}
	pl->top = (int)pl->procs[0].n - 1 - !!(a->t->nodes[0]->flags & PIDTUPLE_NODE_NEWPID);
	return 0;
}

/* ---- PIDs claimed twice ---------------------------------------------------------------- */

static int ent_cmp(const void *x, const void *y)
{
	const struct ent *e = x, *f = y;

	if (e->own != f->own)
		return e->own < f->own ? -1 : 1;
	if (e->pos != f->pos)
		return e->pos < f->pos ? -1 : 1;
	if (e->pid != f->pid)
		return e->pid < f->pid ? -1 : 1;
	return e->proc < f->proc ? -1 : e->proc > f->proc;
}

static int check_dups(struct an *a, unsigned int nprocs)
{
	const struct pt_plan *pl = a->pl;
	unsigned int k = 0;

	for (unsigned int i = 0; i < nprocs; i++)
		for (unsigned int p = 0; p < pl->procs[i].n; p++)
			a->ents[k++] = (struct ent){ pl->procs[i].own[p], (int32_t)p,
						     pl->procs[i].pid[p], (int32_t)i };
	qsort(a->ents, k, sizeof(*a->ents), ent_cmp);
	a->nents = k;
	for (unsigned int i = 1; i < k; i++) {
		const struct ent *e = &a->ents[i - 1], *f = &a->ents[i];
		int x, y;
		char b1[160], b2[160];

		if (e->own != f->own || e->pos != f->pos || e->pid != f->pid || e->proc == f->proc)
			continue;
		x = e->proc, y = f->proc; /* y > x: name the later one */
		tup(&pl->procs[x], b1, sizeof(b1));
		tup(&pl->procs[y], b2, sizeof(b2));
		if (pl->procs[y].node >= 0 && pl->procs[x].node >= 0)
			return tdiag(a, -EEXIST, PIDTUPLE_RULE_TREE_DUPLICATE, y, f->pos, f->pid,
				     "nodes %d (%s) and %d (%s) both claim PID %d at NSpid field "
				     "%d in the same namespace",
				     x, b1, y, b2, (int)f->pid, f->pos);
		{
			int node = node_of(a, y);

			return tdiag(a, -EEXIST, PIDTUPLE_RULE_TREE_DUPLICATE, node, -1, f->pid,
				     "the dead leader %s that node %d's session or group needs "
				     "claims PID %d at NSpid field %d, which %s (%s) claims too",
				     b2, node, (int)f->pid, f->pos,
				     pl->procs[x].node >= 0 ? "a node" : "another dead leader", b1);
		}
	}
	return 0;
}

/* The node with PID @pid at position @pos of namespace @own, or -1. */
static int lookup(const struct an *a, int32_t own, int pos, pid_t pid)
{
	struct ent key = { own, pos, pid, -1 };
	size_t lo = 0, hi = a->nents;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = ent_cmp(&a->ents[mid], &key);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < a->nents && a->ents[lo].own == own && a->ents[lo].pos == pos &&
	    a->ents[lo].pid == pid && a->ents[lo].proc < (int32_t)a->nn)
		return a->ents[lo].proc;
	return -1;
}

/* ---- whose session, whose group -------------------------------------------------------- */

/* The number identity @id has in the namespace @p lives in; 0 when not visible there. */
static pid_t seen_as(const struct an *a, int32_t id, int p, bool group)
{
	const struct pt_plan *pl = a->pl;
	const struct pt_proc *P = &pl->procs[p], *L;
	int pos = (int)P->n - 1;

	if (id == PT_ID_EXT)
		return pos == pl->cpos ? (group ? a->caller_pgid : a->caller_sid) : 0;
	if (id < 0)
		return 0;
	L = &pl->procs[id];
	return (int)L->n > pos && L->own[pos] == P->own[pos] ? L->pid[pos] : 0;
}

static int new_helper(struct an *a, unsigned int i, const pid_t *T, int q, uint32_t role)
{
	struct pt_plan *pl = a->pl;
	const struct pt_proc *X = &pl->procs[i];
	int h = (int)pl->nprocs++;
	struct pt_proc *H = &pl->procs[h];

	*H = (struct pt_proc){ .node = -1,
			       .parent = -1,
			       .creator = -1,
			       .n = (uint32_t)q + 1,
			       .first_op = -1,
			       .create_op = -1,
			       .exit_op = -1,
			       .for_node = (int32_t)i,
			       .role = role };
	for (int p = 0; p <= q; p++) {
		H->pid[p] = T[p];
		H->own[p] = X->own[p];
		H->set_tid[q - p] = T[p];
	}
	return h;
}

static int resolve(struct an *a, unsigned int i, bool session, int32_t *ret)
{
	struct pt_plan *pl = a->pl;
	const struct pt_tnode *nd = a->t->nodes[i];
	const struct pidtuple *g = session ? nd->sid : nd->pgid;
	const struct pt_proc *X = &pl->procs[i];
	const char *what = session ? "session" : "process group";
	pid_t T[PIDTUPLE_MAX_LEVELS] = { 0 };
	char b1[160], b2[160];
	int q = -1, L;

	if (!g) {
		*ret = i == 0	 ? PT_ID_EXT
		       : session ? pl->procs[nd->parent].sid
				 : pl->procs[nd->parent].pgid;
		return 0;
	}
	for (unsigned int p = 0; p < X->n; p++) {
		T[p] = g->pid[X->n - 1 - p];
		if (T[p])
			q = (int)p;
	}
	pt_format_pos(T, X->n, b1, sizeof(b1));
	if (q < 0 || q < pl->cpos) {
		*ret = PT_ID_EXT; /* not visible in the tree: inherited from the caller */
		return 0;
	}
	L = lookup(a, X->own[q], q, T[q]);
	if (L >= 0) {
		const struct pt_proc *Y = &pl->procs[L];

		for (unsigned int p = 0; p < X->n; p++) {
			pid_t want = Y->n > p && Y->own[p] == X->own[p] ? Y->pid[p] : 0;

			if (want != T[p])
				return tdiag(
					a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, (int)p, T[p],
					"node %u: its %s %s is node %d (%s), which node %u would "
					"see as %d at NSpid field %u, not %d",
					i, what, b1, L, tup(Y, b2, sizeof(b2)), i, (int)want, p,
					(int)T[p]);
		}
		*ret = L;
		return 0;
	}
	if (q == pl->cpos && X->own[q] == -1 &&
	    T[q] == (session ? a->caller_sid : a->caller_pgid)) {
		*ret = PT_ID_EXT;
		return 0;
	}
	if (X->own[q] == -1 && q < pl->top)
		return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, q, T[q],
			     "node %u: the leader of its %s %s lived above the namespace the tree "
			     "is created in and is not the caller's; it cannot be recreated",
			     i, what, b1);
	for (unsigned int h = a->nn; h < pl->nprocs; h++) {
		struct pt_proc *H = &pl->procs[h];

		if ((int)H->n != q + 1 || H->own[q] != X->own[q] || H->pid[q] != T[q])
			continue;
		for (int p = 0; p < q; p++)
			if (H->pid[p] != T[p])
				return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, p, T[p],
					     "node %u: its %s %s and node %d's %s name the same "
					     "dead leader with different PIDs",
					     i, what, b1, H->for_node, tup(H, b2, sizeof(b2)));
		H->role |= session ? PT_ROLE_SESSION : PT_ROLE_GROUP;
		*ret = (int32_t)h;
		return 0;
	}
	*ret = new_helper(a, i, T, q, session ? PT_ROLE_SESSION : PT_ROLE_GROUP);
	return 0;
}

/* The session group @g belongs to; PT_ID_NONE when not yet known. */
static int32_t group_session(struct an *a, int32_t g)
{
	const struct pt_plan *pl = a->pl;

	if (g == PT_ID_EXT)
		return PT_ID_EXT;
	if (g < (int32_t)a->nn)
		return pl->procs[g].sid;
	if (pl->procs[g].role & PT_ROLE_SESSION)
		return g;
	return a->gsess_req[g];
}

static int describe(const struct an *a, int32_t id, char *buf, size_t size)
{
	char t[160];

	if (id == PT_ID_EXT)
		return snprintf(buf, size, "the caller's");
	tup(&a->pl->procs[id], t, sizeof(t));
	if (id < (int32_t)a->nn)
		return snprintf(buf, size, "node %d's (%s)", id, t);
	return snprintf(buf, size, "the dead leader %s's", t);
}

static int check_ids(struct an *a)
{
	struct pt_plan *pl = a->pl;

	for (unsigned int i = 0; i < a->nn; i++) {
		const struct pt_proc *X = &pl->procs[i];
		int32_t s = X->sid, g = X->pgid, gs;
		char b[200];

		if (s == (int32_t)i && g != (int32_t)i)
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, -1, 0,
				     "node %u leads its session but not its process group; a "
				     "session leader always leads its own group",
				     i);
		if (s >= 0 && s < (int32_t)a->nn && s != (int32_t)i && pl->procs[s].sid != s)
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, -1, 0,
				     "node %u: its session is numbered after node %d, which does "
				     "not lead a session",
				     i, s);
		if (g >= 0)
			a->founder[g] = 1;
		if (g >= (int32_t)a->nn && !(pl->procs[g].role & PT_ROLE_SESSION) &&
		    a->gsess_req[g] == PT_ID_NONE)
			a->gsess_req[g] = s;
		gs = group_session(a, g);
		if (gs != s) {
			describe(a, g, b, sizeof(b));
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)i, -1, 0,
				     "node %u: its process group, %s, belongs to another session "
				     "than the node",
				     i, b);
		}
	}
	for (unsigned int h = a->nn; h < pl->nprocs; h++)
		if (pl->procs[h].role & PT_ROLE_SESSION)
			a->founder[h] = 1;
	return 0;
}

/* ---- the plan: a replay of the kernel's rules ------------------------------------------ */

static bool alive(const struct an *a, int p)
{
	return (a->st[p] & PS_CREATED) && !(a->st[p] & PS_EXITED);
}

static int emit(struct an *a, uint8_t op, int actor, int target, pid_t arg)
{
	struct pt_plan *pl = a->pl;
	int idx;

	if (pl->nops == a->cap_ops) {
		struct pt_op *v;

		if (a->cap_ops > INT_MAX / 4)
			return -ENOMEM;
		v = pt_malloc(2 * (size_t)a->cap_ops * sizeof(*v));
		if (!v)
			return -ENOMEM;
		memcpy(v, pl->ops, pl->nops * sizeof(*v));
		free(pl->ops);
		pl->ops = v;
		a->cap_ops *= 2;
	}
	idx = (int)pl->nops++;
	pl->ops[idx] = (struct pt_op){ op, actor, target, arg, -1 };
	if (a->last_op[actor] >= 0)
		pl->ops[a->last_op[actor]].next = idx;
	else
		pl->procs[actor].first_op = idx;
	a->last_op[actor] = idx;
	return idx;
}

static void set_group(struct an *a, int p, int32_t g)
{
	if (a->cur_g[p] != PT_ID_NONE)
		a->gcount[a->cur_g[p] + 1]--;
	a->cur_g[p] = g;
	if (g != PT_ID_NONE)
		a->gcount[g + 1]++;
}

static int32_t need_s(const struct an *a, int x)
{
	int32_t s = a->pl->procs[x].sid;

	return s != x ? s : a->need_bs[x];
}

static int32_t need_g(const struct an *a, int x)
{
	const struct pt_proc *X = &a->pl->procs[x];

	if (X->sid != x && X->pgid != x && !seen_as(a, X->pgid, x, true))
		return X->pgid; /* not visible where it lives: inherited at fork time */
	return a->need_bg[x];
}

/* Why @p cannot join group @g now, or NULL when it can (the number in *num). */
static const char *join_blocker(const struct an *a, int p, int32_t g, pid_t *num)
{
	*num = 0;
	if (a->st[p] & PS_SLEADER)
		return "it leads a session";
	if (g == p)
		return NULL;
	if (a->gcount[g + 1] <= 0)
		return "no process is in that group at that point";
	if (a->gsess[g + 1] != a->cur_s[p])
		return "the group belongs to another session at that point";
	*num = seen_as(a, g, p, true);
	if (!*num)
		return "the group's number is not visible in the node's PID namespace";
	return NULL;
}

static int do_join(struct an *a, int p, int32_t g, pid_t num)
{
	int r = emit(a, PT_OP_SETPGID, p, -1, g == p ? 0 : num);

	if (r < 0)
		return r;
	set_group(a, p, g);
	if (g == p)
		a->gsess[g + 1] = a->cur_s[p];
	return 0;
}

/* May @p move to group @g for a while, to fork a child there? */
static bool may_switch(const struct an *a, int p, int32_t g, pid_t *num)
{
	const struct pt_proc *P = &a->pl->procs[p];

	if (p >= (int)a->nn || (a->st[p] & PS_SLEADER))
		return false;
	/* It must be able to come back to its own group later. */
	if (P->pgid != p && P->pgid != g && !seen_as(a, P->pgid, p, true))
		return false;
	if (g == p)
		return P->sid != p; /* a future session leader must not lead a group first */
	return join_blocker(a, p, g, num) == NULL;
}

static bool helper_creatable(const struct an *a, int p, int h)
{
	const struct pt_plan *pl = a->pl;
	const struct pt_proc *H = &pl->procs[h];
	int pos = (int)H->n - 1;

	if (p < 0)
		return pos == pl->top && H->own[pos] == -1;
	return pl->procs[p].n == H->n && pl->procs[p].own[pos] == H->own[pos];
}

static void link_kid(struct an *a, int p, int x)
{
	if (p < 0)
		return;
	if (a->last_kid[p] >= 0)
		a->next_sib[a->last_kid[p]] = x;
	else
		a->first_kid[p] = x;
	a->last_kid[p] = x;
}

static int create_helper(struct an *a, int p, int h)
{
	struct pt_plan *pl = a->pl;
	struct pt_proc *H = &pl->procs[h];
	int r;

	H->parent = H->creator = p;
	H->ppid = p >= 0 ? pl->procs[p].pid[H->n - 1] : 0;
	if (p >= 0) {
		r = emit(a, PT_OP_CREATE, p, h, 0);
		if (r < 0)
			return r;
		H->create_op = r;
	} else {
		pl->first = h;
	}
	a->st[h] |= PS_CREATED;
	a->cur_s[h] = p >= 0 ? a->cur_s[p] : PT_ID_EXT;
	set_group(a, h, p >= 0 ? a->cur_g[p] : PT_ID_EXT);
	link_kid(a, p, h);
	if (H->role & PT_ROLE_SESSION) {
		r = emit(a, PT_OP_SETSID, h, -1, 0);
		if (r < 0)
			return r;
		a->st[h] |= PS_SLEADER;
		a->cur_s[h] = h;
		set_group(a, h, h);
		a->gsess[h + 1] = h;
		return 0;
	}
	return do_join(a, h, h, 0);
}

static int dfs(struct an *a, int p);

static int do_create(struct an *a, int p, int x, int c)
{
	struct pt_plan *pl = a->pl;
	struct pt_proc *X = &pl->procs[x];
	bool newpid = a->t->nodes[x]->flags & PIDTUPLE_NODE_NEWPID;
	int r;

	X->creator = c;
	X->clone_flags = (newpid ? PT_CLONE_NEWPID : 0) | (c != p ? PT_CLONE_PARENT : 0);
	X->ppid = p >= 0 && !newpid ? pl->procs[p].pid[X->n - 1] : 0;
	if (c >= 0) {
		r = emit(a, PT_OP_CREATE, c, x, 0);
		if (r < 0)
			return r;
		X->create_op = r;
	} else {
		pl->first = x;
	}
	a->st[x] |= PS_CREATED;
	a->cur_s[x] = c >= 0 ? a->cur_s[c] : PT_ID_EXT;
	set_group(a, x, c >= 0 ? a->cur_g[c] : PT_ID_EXT);
	link_kid(a, p, x);
	return dfs(a, x);
}

static int blocked(struct an *a, int p, int x, int32_t ns, int32_t ng)
{
	char bs[200] = "any", bg[200] = "any";

	if (ns != PT_ID_NONE)
		describe(a, ns, bs, sizeof(bs));
	if (ng != PT_ID_NONE)
		describe(a, ng, bg, sizeof(bg));
	if (p < 0)
		return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
			     "the root must start in %s session and %s process group, which the "
			     "caller is not in",
			     bs, bg);
	return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, x, -1, 0,
		     "node %d must start in %s session and %s process group (it cannot join them "
		     "later), but no process can fork it there as a child of node %d",
		     x, bs, bg, p);
}

/* Creates node @x as a child of @p with the session and group it must start in. */
static int try_create(struct an *a, int p, int x, bool final)
{
	int32_t ns = need_s(a, x), ng = need_g(a, x);
	pid_t num;
	int r;

	if (p < 0) {
		if ((ns == PT_ID_NONE || ns == PT_ID_EXT) && (ng == PT_ID_NONE || ng == PT_ID_EXT))
			return do_create(a, p, x, -1);
		if (ns >= (int32_t)a->nn && (a->pl->procs[ns].role & PT_ROLE_SESSION) &&
		    helper_creatable(a, -1, ns) && (ng == PT_ID_NONE || ng == ns)) {
			r = create_helper(a, -1, ns);
			return r < 0 ? r : do_create(a, p, x, ns);
		}
		return blocked(a, p, x, ns, ng);
	}
	if (ns == PT_ID_NONE || a->cur_s[p] == ns) {
		if (ng == PT_ID_NONE || a->cur_g[p] == ng)
			return do_create(a, p, x, p);
		/* A group whose leader exists but has not made it yet: it does so now, once
		 * its own children are forked (they may need the group it is in). */
		if (ng >= 0 && ng < (int32_t)a->nn && ng != p && a->gcount[ng + 1] == 0 &&
		    alive(a, ng) && (a->st[ng] & PS_DFS_DONE) && !(a->st[ng] & PS_SLEADER) &&
		    a->pl->procs[ng].sid != ng && a->cur_s[ng] == a->pl->procs[ng].sid) {
			r = do_join(a, ng, ng, 0);
			if (r < 0)
				return r;
		}
		if (may_switch(a, p, ng, &num)) {
			r = do_join(a, p, ng, num);
			return r < 0 ? r : do_create(a, p, x, p);
		}
	}
	/* A child of @p already where @x must start forks it with CLONE_PARENT. */
	for (int q = a->first_kid[p]; q >= 0; q = a->next_sib[q]) {
		const struct pt_proc *Q = &a->pl->procs[q];

		if (!alive(a, q) || Q->n != a->pl->procs[p].n || (Q->clone_flags & PT_CLONE_NEWPID))
			continue;
		if ((ns == PT_ID_NONE || a->cur_s[q] == ns) &&
		    (ng == PT_ID_NONE || a->cur_g[q] == ng))
			return do_create(a, p, x, q);
	}
	/* A dead leader comes back as a helper child of @p that forks @x. */
	if (ns >= (int32_t)a->nn && !(a->st[ns] & PS_CREATED) &&
	    (a->pl->procs[ns].role & PT_ROLE_SESSION) && helper_creatable(a, p, ns) &&
	    (ng == PT_ID_NONE || ng == ns)) {
		r = create_helper(a, p, ns);
		return r < 0 ? r : do_create(a, p, x, ns);
	}
	if (ng >= (int32_t)a->nn && !(a->st[ng] & PS_CREATED) &&
	    !(a->pl->procs[ng].role & PT_ROLE_SESSION) && helper_creatable(a, p, ng) &&
	    (ns == PT_ID_NONE || ns == a->cur_s[p]) && a->gsess_req[ng] == a->cur_s[p]) {
		r = create_helper(a, p, ng);
		return r < 0 ? r : do_create(a, p, x, ng);
	}
	return final ? blocked(a, p, x, ns, ng) : TC_DEFER;
}

static bool is_pre(const struct an *a, int p, int x)
{
	int32_t ns = need_s(a, x), ng = need_g(a, x);

	return (ns != PT_ID_NONE && ns != p && ns == a->cur_s[p]) ||
	       (ng != PT_ID_NONE && ng != p && ng == a->cur_g[p]);
}

static int create_kid(struct an *a, int p, int x)
{
	int r;

	a->st[x] |= PS_TRIED;
	r = try_create(a, p, x, false);
	if (r == TC_DEFER)
		a->deferred[a->ndeferred++] = x;
	return r < 0 ? r : 0;
}

static int dfs(struct an *a, int p)
{
	struct pt_plan *pl = a->pl;
	int from = a->kid_start[p], to = a->kid_start[p + 1], r;
	bool setsid_later = pl->procs[p].sid == p && !(a->st[p] & PS_SLEADER);

	/* Children that keep the session (or group) this node was born in come first. */
	if (setsid_later) {
		for (int k = from; k < to; k++)
			if (is_pre(a, p, a->kids[k])) {
				r = create_kid(a, p, a->kids[k]);
				if (r < 0)
					return r;
			}
		if (a->cur_g[p] == p)
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, p, -1, 0,
				     "node %d must call setsid() but would already lead a process "
				     "group",
				     p);
		r = emit(a, PT_OP_SETSID, p, -1, 0);
		if (r < 0)
			return r;
		a->st[p] |= PS_SLEADER;
		a->cur_s[p] = p;
		set_group(a, p, p);
		a->gsess[p + 1] = p;
	}
	for (int k = from; k < to; k++)
		if (!(a->st[a->kids[k]] & PS_TRIED)) {
			r = create_kid(a, p, a->kids[k]);
			if (r < 0)
				return r;
		}
	a->st[p] |= PS_DFS_DONE;
	return 0;
}

/* Born requirements: a session leader whose children keep its old session must be born in
 * it, and so on up (CRIU's born_sid); likewise for a group its children cannot see. */
static void propagate(struct an *a)
{
	const struct pt_plan *pl = a->pl;

	for (int x = 0; x < (int)a->nn; x++) {
		const struct pt_proc *X = &pl->procs[x];
		int32_t s = X->sid, g = X->pgid;
		int c = x;

		if (s != x && s < (int32_t)a->nn)
			for (int p = pl->procs[c].parent; p >= 0; p = pl->procs[c].parent) {
				if (pl->procs[p].sid == s || pl->procs[p].sid != p ||
				    a->need_bs[p] != PT_ID_NONE)
					break; /* in it already, or a child of it may fork c */
				a->need_bs[p] = s;
				c = p;
			}
		if (s == x || g == x || seen_as(a, g, x, true))
			continue;
		c = x;
		for (int p = pl->procs[c].parent; p >= 0; p = pl->procs[c].parent) {
			const struct pt_proc *P = &pl->procs[p];

			if (P->pgid == g || g == p || seen_as(a, g, p, true) ||
			    a->need_bg[p] != PT_ID_NONE ||
			    (P->sid != p && P->pgid != p && !seen_as(a, P->pgid, p, true)))
				break;
			a->need_bg[p] = g;
			c = p;
		}
	}
}

static int phase_groups(struct an *a)
{
	struct pt_plan *pl = a->pl;
	unsigned int nn = a->nn;
	bool progress;
	pid_t num;
	int r;

	/* Dead group leaders that only visible members need: made by a process of their
	 * session in their namespace, a member if one can. */
	for (unsigned int h = nn; h < pl->nprocs; h++) {
		int maker = -1;

		if ((a->st[h] & PS_CREATED) || (pl->procs[h].role & PT_ROLE_SESSION))
			continue;
		for (unsigned int x = 0; x < nn; x++) {
			if (!alive(a, (int)x) || !helper_creatable(a, (int)x, (int)h) ||
			    a->cur_s[x] != a->gsess_req[h])
				continue;
			if (maker < 0 || (pl->procs[x].pgid == (int32_t)h &&
					  pl->procs[maker].pgid != (int32_t)h))
				maker = (int)x;
		}
		if (maker < 0) {
			char b[160];

			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, pl->procs[h].for_node,
				     -1, 0,
				     "node %d: the dead leader %s of its process group cannot be "
				     "recreated: no process of the group's session lives in its "
				     "namespace",
				     pl->procs[h].for_node, tup(&pl->procs[h], b, sizeof(b)));
		}
		r = create_helper(a, maker, (int)h);
		if (r < 0)
			return r;
	}
	/* Leaders first (their groups must exist), then members, then leaders that left. */
	for (unsigned int x = 0; x < pl->nprocs; x++)
		if (a->founder[x] && alive(a, (int)x) && a->cur_g[x] != (int32_t)x &&
		    !(a->st[x] & PS_SLEADER)) {
			r = do_join(a, (int)x, (int32_t)x, 0);
			if (r < 0)
				return r;
		}
	for (unsigned int x = 0; x < nn; x++) {
		int32_t g = pl->procs[x].pgid;
		const char *why;

		if (a->founder[x] || a->cur_g[x] == g)
			continue;
		why = join_blocker(a, (int)x, g, &num);
		if (why) {
			char b[200];

			describe(a, g, b, sizeof(b));
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)x, -1, 0,
				     "node %u cannot join %s process group: %s", x, b, why);
		}
		r = do_join(a, (int)x, g, num);
		if (r < 0)
			return r;
	}
	do {
		int stuck = -1;
		const char *why = NULL;

		progress = false;
		for (unsigned int x = 0; x < nn; x++) {
			int32_t g = pl->procs[x].pgid;
			bool waited = false;

			if (!a->founder[x] || a->cur_g[x] == g)
				continue;
			/* Leaving empties its group: first let every founder bound for it in. */
			if (a->gcount[x + 1] <= 1)
				for (unsigned int y = 0; y < nn; y++)
					if (y != x && a->founder[y] &&
					    pl->procs[y].pgid == (int32_t)x &&
					    a->cur_g[y] != (int32_t)x)
						waited = true;
			why = waited ? "the groups wait for each other"
				     : join_blocker(a, (int)x, g, &num);
			if (why) {
				stuck = (int)x;
				continue;
			}
			r = do_join(a, (int)x, g, num);
			if (r < 0)
				return r;
			progress = true;
		}
		if (!progress && stuck >= 0) {
			char b[200];

			describe(a, pl->procs[stuck].pgid, b, sizeof(b));
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, stuck, -1, 0,
				     "node %d cannot join %s process group: %s", stuck, b, why);
		}
	} while (progress);
	/* The helpers leave; their parents reap them. */
	for (unsigned int h = nn; h < pl->nprocs; h++) {
		struct pt_proc *H = &pl->procs[h];

		if (!alive(a, (int)h))
			continue;
		r = emit(a, PT_OP_EXIT, (int)h, -1, 0);
		if (r < 0)
			return r;
		H->exit_op = r;
		a->st[h] |= PS_EXITED;
		set_group(a, (int)h, PT_ID_NONE);
		if (H->parent >= 0) {
			r = emit(a, PT_OP_REAP, H->parent, (int)h, H->pid[H->n - 1]);
			if (r < 0)
				return r;
		}
	}
	for (unsigned int x = 0; x < nn; x++)
		if (a->cur_s[x] != pl->procs[x].sid || a->cur_g[x] != pl->procs[x].pgid)
			return tdiag(a, -EINVAL, PIDTUPLE_RULE_TREE_GROUP, (int)x, -1, 0,
				     "node %u: its session and process group cannot be reproduced "
				     "as described",
				     x);
	return 0;
}

static int plan_creation(struct an *a)
{
	struct pt_plan *pl = a->pl;
	unsigned int nn = a->nn;
	int r;

	/* Children lists, in index order. */
	for (unsigned int x = 1; x < nn; x++)
		a->kid_start[pl->procs[x].parent + 1]++;
	for (unsigned int x = 1; x <= nn; x++)
		a->kid_start[x] += a->kid_start[x - 1];
	{
		int32_t *fill = a->need_bs; /* borrowed as a cursor, reset below */

		for (unsigned int x = 0; x < nn; x++)
			fill[x] = a->kid_start[x];
		for (unsigned int x = 1; x < nn; x++)
			a->kids[fill[pl->procs[x].parent]++] = (int32_t)x;
		for (unsigned int x = 0; x < nn; x++)
			fill[x] = PT_ID_NONE;
	}
	propagate(a);
	r = try_create(a, -1, 0, true);
	if (r < 0)
		return r;
	/* Nodes that could not start where they must yet: again, until nothing moves. */
	while (a->ndeferred) {
		unsigned int n = a->ndeferred;
		bool progress = false;

		memcpy(a->round, a->deferred, n * sizeof(*a->round));
		a->ndeferred = 0;
		for (unsigned int k = 0; k < n; k++) {
			int x = a->round[k];

			r = try_create(a, pl->procs[x].parent, x, false);
			if (r < 0)
				return r;
			if (r == TC_DEFER)
				a->deferred[a->ndeferred++] = x;
			else
				progress = true;
		}
		if (!progress) {
			int x = a->deferred[0];

			r = try_create(a, pl->procs[x].parent, x, true);
			return r < 0 ? r : -EINVAL;
		}
	}
	return phase_groups(a);
}

/* ---- what the machine says -------------------------------------------------------------- */

static const char *who(const struct an *a, int p, char *buf, size_t size)
{
	const struct pt_proc *P = &a->pl->procs[p];
	char t[160];

	if (P->node >= 0)
		snprintf(buf, size, "node %d (%s)", P->node, tup(P, t, sizeof(t)));
	else
		snprintf(buf, size, "the dead leader %s that node %d needs", tup(P, t, sizeof(t)),
			 P->for_node);
	return buf;
}

static int check_root(struct an *a, int *unverified)
{
	const struct pt_tnode *root = a->t->nodes[0];
	struct pt_fork_opts o = *a->o;
	struct pidtuple_nsctx ctx;
	int r;

	o.clone_flags = root->flags & PIDTUPLE_NODE_NEWPID ? PT_CLONE_NEWPID : 0;
	r = pt_nsctx_init(&ctx, &o, false);
	if (r == 0 && root->tuple->n > ctx.n) {
		pt_nsctx_fini(&ctx);
		r = pt_nsctx_init(&ctx, &o, true);
	}
	if (r < 0)
		return tdiag(a, r, PIDTUPLE_RULE_KERNEL, 0, -1, 0,
			     "cannot read the namespace context: %s", pidtuple_strerror(r));
	r = pt_check_ctx(&ctx, root->tuple, a->diag);
	pt_nsctx_fini(&ctx);
	if (r < 0) {
		struct pidtuple_diag *d = a->diag;

		pt_diag_set_node(d, 0);
		if (pt_diag_usable(d) && PT_HAS(d->sz, struct pidtuple_diag, message)) {
			char t[160], msg[2 * PIDTUPLE_DIAG_MESSAGE_SIZE];

			snprintf(msg, sizeof(msg), "node 0 (%s): %s",
				 tup(&a->pl->procs[0], t, sizeof(t)), d->message);
			msg[PIDTUPLE_DIAG_MESSAGE_SIZE - 1] = '\0';
			memcpy(d->message, msg, PIDTUPLE_DIAG_MESSAGE_SIZE);
		}
		return r;
	}
	*unverified = r;
	return 0;
}

static int check_machine(struct an *a, int *ret_unverified)
{
	struct pt_plan *pl = a->pl;
	const struct pidtuple_nsctx *ctx = &pl->ctx;
	bool per_ns = pt_features_cached() & PIDTUPLE_FEATURE_PER_NS_PID_MAX;
	int unverified = 0, r, caller_max = 0;
	char b[256];

	r = check_root(a, &unverified);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < ctx->n; i++)
		if (ctx->levels[i].flags & PIDTUPLE_LEVEL_CALLER)
			caller_max = ctx->levels[i].pid_max;
	for (unsigned int p = 1; p < pl->nprocs; p++) {
		const struct pt_proc *P = &pl->procs[p];
		int node = node_of(a, (int)p), unv = 0;

		if (P->node >= 0 && (a->t->nodes[p]->flags & PIDTUPLE_NODE_NEWPID) &&
		    !(ctx->cap_eff & CAP_BIT(PT_CAP_SYS_ADMIN)))
			return tdiag(
				a, -EPERM, PIDTUPLE_RULE_NS_PRIVILEGE, node, -1, 0,
				"node %d starts a new PID namespace, which needs CAP_SYS_ADMIN",
				node);
		for (unsigned int pos = 0; pos < P->n; pos++) {
			pid_t pid = P->pid[pos];
			int i = pl->top - (int)pos;

			if (P->own[pos] >= 0) {
				int max = per_ns || !caller_max ? PT_PID_MAX_LIMIT : caller_max;

				if (ctx->abs_level >= 0 && ctx->abs_level - i > PIDTUPLE_MAX_LEVELS)
					return tdiag(a, -ENOSPC, PIDTUPLE_RULE_NS_DEPTH, node,
						     (int)pos, pid,
						     "%s: its PID namespace would be at level %d, "
						     "beyond the kernel's limit of %d",
						     who(a, (int)p, b, sizeof(b)),
						     ctx->abs_level - i, PIDTUPLE_MAX_LEVELS);
				if (pid >= max)
					return tdiag(
						a, -EINVAL, PIDTUPLE_RULE_PID_RANGE, node, (int)pos,
						pid,
						"%s: PID %d at NSpid field %u is not below a new "
						"namespace's pid_max %d",
						who(a, (int)p, b, sizeof(b)), (int)pid, pos, max);
				if (!(ctx->cap_eff & CAP_PIN))
					return tdiag(a, -EPERM, PIDTUPLE_RULE_PRIVILEGE, node,
						     (int)pos, pid,
						     "%s: pinning PID %d at NSpid field %u needs "
						     "CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN",
						     who(a, (int)p, b, sizeof(b)), (int)pid, pos);
				continue;
			}
			if (i < 0 || i >= (int)ctx->n)
				continue;
			if (pid >= ctx->levels[i].pid_max)
				return tdiag(a, -EINVAL, PIDTUPLE_RULE_PID_RANGE, node, (int)pos,
					     pid,
					     "%s: PID %d at NSpid field %u is not below that "
					     "namespace's pid_max %d",
					     who(a, (int)p, b, sizeof(b)), (int)pid, pos,
					     ctx->levels[i].pid_max);
			if (!(ctx->levels[i].flags & PIDTUPLE_LEVEL_CAN_PIN))
				return tdiag(
					a, -EPERM, PIDTUPLE_RULE_PRIVILEGE, node, (int)pos, pid,
					"%s: pinning PID %d at NSpid field %u needs "
					"CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over the user "
					"namespace owning that PID namespace",
					who(a, (int)p, b, sizeof(b)), (int)pid, pos);
		}
		/* Taken PIDs last, as the validator does. */
		for (unsigned int pos = 0; pos < P->n; pos++) {
			int i = pl->top - (int)pos;

			if (P->own[pos] >= 0)
				continue;
			if (i < 0 || i >= (int)ctx->n) {
				unv++;
				continue;
			}
			r = pt_level_pid_taken(&ctx->levels[i], P->pid[pos]);
			if (r > 0)
				return tdiag(a, -EEXIST, PIDTUPLE_RULE_PID_TAKEN, node, (int)pos,
					     P->pid[pos],
					     "%s: PID %d at NSpid field %u is already in use there",
					     who(a, (int)p, b, sizeof(b)), (int)P->pid[pos], pos);
			if (r < 0)
				unv++;
		}
		if (unv > unverified)
			unverified = unv;
	}
	*ret_unverified = unverified;
	return 0;
}

/* ---- the check ------------------------------------------------------------------------- */

int pt_tree_plan(const struct pidtuple_tree *tree, const struct pt_fork_opts *o,
		 struct pidtuple_diag *diag, struct pt_plan **ret_plan)
{
	struct an a = { .t = tree, .o = o, .diag = diag };
	struct pt_plan *pl;
	int r, unverified = 0;

	pt_diag_reset(diag, 0);
	if (!tree || tree->n == 0)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_TREE_SHAPE, -1, 0, 0,
			       tree ? "the tree has no nodes" : "no tree given");
	if (o->clone_flags)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_FLAGS, -1, 0, 0,
			       "a tree takes no clone_flags: namespaces are per node "
			       "(PIDTUPLE_NODE_NEWPID)");
	pl = zalloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	a.pl = pl;
	a.nn = tree->n;
	a.cap_procs = 3 * tree->n;
	pl->nnodes = pl->nprocs = tree->n;
	pl->first = -1;
	r = an_alloc(&a);
	if (r == 0)
		r = check_shape(&a);
	if (r == 0)
		r = check_dups(&a, a.nn);
	if (r == 0) {
		struct pt_fork_opts co = *o;

		co.clone_flags = 0;
		r = pt_nsctx_init(&pl->ctx, &co, a.has_newpid);
		if (r < 0)
			r = tdiag(&a, r, PIDTUPLE_RULE_KERNEL, -1, -1, 0,
				  "cannot read the namespace context: %s", pidtuple_strerror(r));
		else
			pl->have_ctx = true;
	}
	if (r == 0) {
		pid_t s = pt_getsid(0), g = pt_getpgid(0);

		pl->cpos = pl->top - ((int)pl->ctx.n - 1);
		a.caller_sid = s > 0 ? s : 0;
		a.caller_pgid = g > 0 ? g : 0;
		for (unsigned int i = 0; r == 0 && i < a.nn; i++) {
			r = resolve(&a, i, true, &pl->procs[i].sid);
			if (r == 0)
				r = resolve(&a, i, false, &pl->procs[i].pgid);
		}
	}
	if (r == 0)
		r = check_ids(&a);
	if (r == 0 && pl->nprocs > a.nn)
		r = check_dups(&a, pl->nprocs);
	if (r == 0)
		r = plan_creation(&a);
	if (r == 0)
		r = check_machine(&a, &unverified);
	if (r == 0) {
		for (unsigned int i = 0; i < a.nn; i++)
			if (tree->nodes[i]->kind == PIDTUPLE_NODE_HOLD)
				pl->nhold++;
		pt_diag_reset(diag, tree->nodes[0]->tuple->n);
		if (unverified) {
			pt_diag(diag, 0, PIDTUPLE_RULE_UNVERIFIED, -1, tree->nodes[0]->tuple->n, 0,
				"%d level(s) could not be checked from here; the kernel will "
				"decide",
				unverified);
			pt_diag_set_unverified(diag, unverified);
		}
	}
	an_free(&a);
	if (r < 0 || !ret_plan) {
		pt_plan_free(pl);
		return r < 0 ? r : unverified;
	}
	*ret_plan = pl;
	return unverified;
}

PT_PUBLIC int pidtuple_tree_check(const struct pidtuple_tree *tree,
				  const struct pidtuple_fork_opts *opts, struct pidtuple_diag *diag)
{
	struct pt_fork_opts o;
	int r;

	if (diag && diag->sz < sizeof(size_t))
		return -EINVAL;
	r = pt_fork_opts_get_to(opts, &o, diag);
	if (r < 0)
		return r;
	return pt_tree_plan(tree, &o, diag, NULL);
}
