/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Property-based tree testing. For every seed, a generator plays a random history of
 * processes the way the kernel allows it (fork, clone(CLONE_NEWPID), setsid(), setpgid() to
 * found or join a group, exits with the orphans going to the reaper, a namespace's init
 * taking its namespace along) and describes the processes left alive: nested namespaces,
 * groups and sessions led inside the tree, leaders that died, HOLD, EXEC and CALLBACK nodes.
 * Some seeds then get one mutation that breaks a rule (a PID claimed twice, an init that is
 * not 1, a taken PID, a group of another session, ...).
 *
 * The property: pidtuple_tree_check() refuses the description with a named rule (and the
 * restore refuses it alike, creating nothing), or the description restores exactly (tuples,
 * parents, namespaces, groups and sessions; CALLBACK nodes compare their own ids from
 * inside), and capture, kill, restore, capture gives the same text twice. Nothing may be left
 * behind: no child, zombie or descriptor, after every seed.
 *
 * PIDTUPLE_SEEDS picks the seeds ("100": 1..100; "A-B"; "A,B,C"); PIDTUPLE_SEED=N replays one
 * seed and prints what it generated and captured. See docs/random-trees.md.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

TH_LSAN_EXPLICIT_ONLY

/* Seeds run when PIDTUPLE_SEEDS is not set: about 20 s in a gcc build and a minute under
 * ASan on a loaded 2-core machine (docs/random-trees.md). */
#define RT_DEFAULT_SEEDS 500
/* A seed that takes longer than this is reported as hung (its namespace dies with it). */
#define RT_SEED_TIMEOUT_S 120
/* How long released CALLBACK nodes get to report and exit under heavy load. */
#define RT_SETTLE_S 20.0
/* Percentage of seeds whose description gets one rule-breaking mutation. */
#define RT_MUTATE_PCT 15

#define RT_MAX_PROCS 24	 /* processes one history may create */
#define RT_MAX_LEVELS 5	 /* the test's namespace and up to four nested ones */
#define RT_TOP (-1)	 /* rt_proc::ns: the test's own namespace */
#define RT_EXT (-2)	 /* rt_proc::pgid/sid: the test's (inherited, not visible) */
#define RT_PID_TOP 30000 /* below every pid_max: numbers in the test's namespace */
#define RT_PID_INNER 400 /* numbers in nested namespaces */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the random source ------------------------------------------------------------------ */

/* splitmix64: seedable with any value, and the same sequence on every libc (unlike rand()),
 * so a seed number is a complete replay recipe. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned int rng_below(struct rng *r, unsigned int n)
{
	return n ? (unsigned int)(rng_next(r) % n) : 0;
}

static bool rng_pct(struct rng *r, unsigned int pct)
{
	return rng_below(r, 100) < pct;
}

/* ---- the model: a history of processes, as the kernel would let it happen ---------------- */

enum { OP_FORK, OP_NEWPID, OP_SETSID, OP_FOUND, OP_JOIN, OP_EXIT, OP_KILL_NS, OP_COUNT };

struct rt_proc {
	int parent;		  /* current parent (after reparenting); -1 for the root */
	int nlev;		  /* levels from the test's namespace down to its own */
	pid_t pid[RT_MAX_LEVELS]; /* by position: 0 is the test's namespace */
	int ns[RT_MAX_LEVELS];	  /* the namespace at each position: its init, or RT_TOP */
	int pgid, sid;		  /* the leader's index (alive or dead), or RT_EXT */
	bool alive, newpid;
};

/* Drawn per seed, so that seeds differ in shape and not only in numbers. */
struct rt_profile {
	int max_procs, steps, max_levels, max_fanout, max_depth;
	unsigned int weight[OP_COUNT];
	bool deep;		  /* fork mostly from the newest process: chains */
	unsigned int top_range;	  /* PIDs drawn below this in the test's namespace */
	unsigned int inner_range; /* and in nested ones; small ranges make dense numbers */
};

struct rt_model {
	struct rng rng;
	struct rt_profile prof;
	struct rt_proc p[RT_MAX_PROCS];
	int n;
	bool verbose;
};

static void __attribute__((format(printf, 2, 3)))
note(const struct rt_model *m, const char *fmt, ...)
{
	va_list ap;

	if (!m->verbose)
		return;
	va_start(ap, fmt);
	fputs("  history: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void pick_profile(struct rt_model *m)
{
	struct rt_profile *pf = &m->prof;
	struct rng *r = &m->rng;

	pf->max_procs = 2 + (int)rng_below(r, 15);
	pf->steps = pf->max_procs * (1 + (int)rng_below(r, 3));
	pf->max_levels = 1 + (int)rng_below(r, RT_MAX_LEVELS);
	pf->max_fanout = 1 + (int)rng_below(r, 5);
	pf->max_depth = 1 + (int)rng_below(r, 8);
	pf->deep = rng_pct(r, 30);
	pf->weight[OP_FORK] = 40;
	pf->weight[OP_NEWPID] = pf->max_levels > 1 ? rng_below(r, 25) : 0;
	pf->weight[OP_SETSID] = rng_below(r, 20);
	pf->weight[OP_FOUND] = rng_below(r, 20);
	pf->weight[OP_JOIN] = rng_below(r, 25);
	pf->weight[OP_EXIT] = rng_below(r, 20);
	pf->weight[OP_KILL_NS] = rng_below(r, 4);
	pf->top_range = rng_pct(r, 30) ? 40 + 3 * RT_MAX_PROCS : RT_PID_TOP;
	pf->inner_range = rng_pct(r, 50) ? 10 + 2 * RT_MAX_PROCS : RT_PID_INNER;
}

/* Dead processes count: their numbers may still name a group or session, and the kernel
 * keeps such a number taken. */
static bool pid_used(const struct rt_model *m, int ns, int pos, pid_t pid)
{
	for (int i = 0; i < m->n; i++)
		if (m->p[i].nlev > pos && m->p[i].ns[pos] == ns && m->p[i].pid[pos] == pid)
			return true;
	return false;
}

/* A free number in @ns; never 1: the test's init, or the namespace's init. */
static pid_t alloc_pid(struct rt_model *m, int ns, int pos)
{
	unsigned int range = ns == RT_TOP ? m->prof.top_range : m->prof.inner_range;

	for (;;) {
		pid_t pid = 2 + (pid_t)rng_below(&m->rng, range - 2);

		if (!pid_used(m, ns, pos, pid))
			return pid;
	}
}

/* fork() or clone(CLONE_NEWPID) by @parent (-1: the root, forked by the test). */
static int spawn(struct rt_model *m, int parent, bool newpid)
{
	struct rt_proc *c = &m->p[m->n];
	const struct rt_proc *P = parent >= 0 ? &m->p[parent] : NULL;
	int base = P ? P->nlev : 1;

	for (int pos = 0; pos < base; pos++) {
		c->ns[pos] = P ? P->ns[pos] : RT_TOP;
		c->pid[pos] = alloc_pid(m, c->ns[pos], pos);
	}
	if (newpid) {
		c->ns[base] = m->n;
		c->pid[base] = 1;
	}
	c->nlev = base + newpid;
	c->parent = parent;
	c->newpid = newpid;
	c->alive = true;
	c->pgid = P ? P->pgid : RT_EXT;
	c->sid = P ? P->sid : RT_EXT;
	return m->n++;
}

/* The number leader @id has at position @pos of process @x's namespaces; 0 where @x's
 * namespace there does not see it (as NSpgid and NSsid show). */
static pid_t seen_as(const struct rt_model *m, int id, int x, int pos)
{
	const struct rt_proc *L, *X = &m->p[x];

	if (id < 0)
		return 0; /* the test's own: made outside its namespace */
	L = &m->p[id];
	return L->nlev > pos && L->ns[pos] == X->ns[pos] ? L->pid[pos] : 0;
}

static int count_children(const struct rt_model *m, int x)
{
	int k = 0;

	for (int i = 0; i < m->n; i++)
		k += m->p[i].alive && m->p[i].parent == x;
	return k;
}

static int depth_of(const struct rt_model *m, int x)
{
	int d = 0;

	for (; m->p[x].parent >= 0; x = m->p[x].parent)
		d++;
	return d;
}

static bool can_fork(const struct rt_model *m, int x, bool newpid)
{
	const struct rt_profile *pf = &m->prof;

	return m->p[x].alive && m->p[x].nlev + newpid <= pf->max_levels &&
	       count_children(m, x) < pf->max_fanout && depth_of(m, x) < pf->max_depth;
}

static void op_fork(struct rt_model *m, bool newpid)
{
	int cand[RT_MAX_PROCS], nc = 0, parent, c;

	if (m->n >= m->prof.max_procs)
		return;
	for (int i = 0; i < m->n; i++)
		if (can_fork(m, i, newpid))
			cand[nc++] = i;
	if (!nc)
		return;
	if (m->prof.deep && rng_pct(&m->rng, 70))
		parent = cand[nc - 1];
	else
		parent = cand[rng_below(&m->rng, (unsigned int)nc)];
	c = spawn(m, parent, newpid);
	note(m, "p%d forks p%d%s", parent, c, newpid ? " in a new PID namespace" : "");
}

/* setsid() fails for a group leader: some living process is in a group numbered after it. */
static bool leads_group(const struct rt_model *m, int x)
{
	for (int i = 0; i < m->n; i++)
		if (m->p[i].alive && m->p[i].pgid == x)
			return true;
	return false;
}

static void op_setsid(struct rt_model *m, int x)
{
	if (leads_group(m, x))
		return;
	m->p[x].sid = m->p[x].pgid = x;
	note(m, "p%d calls setsid()", x);
}

static void op_found(struct rt_model *m, int x)
{
	if (m->p[x].sid == x || m->p[x].pgid == x)
		return; /* a session leader cannot move; a group leader is there already */
	m->p[x].pgid = x;
	note(m, "p%d calls setpgid(0, 0)", x);
}

/*
 * setpgid(0, number): a group of the same session, whose number @x's namespace sees. Never by
 * an init: a group it can see has a number in its own namespace, and when that namespace dies
 * the kernel's zap_pid_ns_processes() waits for every such number to be freed, including the
 * one the init itself holds as its group: the init and its parent could never be reaped.
 */
static void op_join(struct rt_model *m, int x)
{
	int cand[RT_MAX_PROCS], nc = 0, g;
	const struct rt_proc *X = &m->p[x];

	if (X->sid == x || X->newpid)
		return;
	for (int i = 0; i < m->n; i++) {
		const struct rt_proc *Y = &m->p[i];

		if (Y->alive && Y->sid == X->sid && Y->pgid != X->pgid && Y->pgid != RT_EXT &&
		    seen_as(m, Y->pgid, x, X->nlev - 1))
			cand[nc++] = Y->pgid;
	}
	if (!nc)
		return;
	g = cand[rng_below(&m->rng, (unsigned int)nc)];
	m->p[x].pgid = g;
	note(m, "p%d joins the group of p%d%s", x, g, m->p[g].alive ? "" : " (dead)");
}

/* The root is a subreaper in the test's namespace; elsewhere orphans go to the init. */
static int reaper_of(const struct rt_model *m, int x)
{
	int ns = m->p[x].ns[m->p[x].nlev - 1];

	return ns == RT_TOP ? 0 : ns;
}

static void op_exit(struct rt_model *m, int x)
{
	int r;

	if (x == 0 || m->p[x].newpid)
		return; /* the root stays; an init's exit is OP_KILL_NS */
	r = reaper_of(m, x);
	m->p[x].alive = false;
	for (int i = 0; i < m->n; i++)
		if (m->p[i].alive && m->p[i].parent == x)
			m->p[i].parent = r;
	note(m, "p%d exits; its children go to p%d", x, r);
}

/* An init's exit kills its namespace: every process with a number there. */
static void op_kill_ns(struct rt_model *m, int x)
{
	int pos = m->p[x].nlev - 1;

	if (x == 0 || !m->p[x].newpid)
		return;
	for (int i = 0; i < m->n; i++)
		if (m->p[i].nlev > pos && m->p[i].ns[pos] == x)
			m->p[i].alive = false;
	note(m, "init p%d exits and takes its namespace along", x);
}

/* Leads a group or session that has other living members: its exit leaves them leaderless. */
static bool leads_others(const struct rt_model *m, int x)
{
	for (int i = 0; i < m->n; i++)
		if (i != x && m->p[i].alive && (m->p[i].pgid == x || m->p[i].sid == x))
			return true;
	return false;
}

/* Mostly a leader of others: dead leaders are what the restorer needs helpers for. */
static int pick_exiting(struct rt_model *m, int x)
{
	int cand[RT_MAX_PROCS], nc = 0;

	for (int i = 1; i < m->n; i++)
		if (m->p[i].alive && !m->p[i].newpid && leads_others(m, i))
			cand[nc++] = i;
	if (nc && rng_pct(&m->rng, 70))
		return cand[rng_below(&m->rng, (unsigned int)nc)];
	return x;
}

/* Never empty: the root is always alive. */
static int random_alive(struct rt_model *m)
{
	int cand[RT_MAX_PROCS] = { 0 }, nc = 0;

	for (int i = 0; i < m->n; i++)
		if (m->p[i].alive)
			cand[nc++] = i;
	return cand[rng_below(&m->rng, (unsigned int)nc)];
}

static int pick_op(struct rt_model *m)
{
	unsigned int total = 0, r;

	for (int i = 0; i < OP_COUNT; i++)
		total += m->prof.weight[i];
	r = rng_below(&m->rng, total);
	for (int i = 0; i < OP_COUNT; i++) {
		if (r < m->prof.weight[i])
			return i;
		r -= m->prof.weight[i];
	}
	return OP_FORK;
}

static void play_step(struct rt_model *m)
{
	int op = pick_op(m), x = random_alive(m);

	switch (op) {
	case OP_FORK:
	case OP_NEWPID:
		op_fork(m, op == OP_NEWPID);
		break;
	case OP_SETSID:
		op_setsid(m, x);
		break;
	case OP_FOUND:
		op_found(m, x);
		break;
	case OP_JOIN:
		op_join(m, x);
		break;
	case OP_EXIT:
		op_exit(m, pick_exiting(m, x));
		break;
	default:
		op_kill_ns(m, x);
		break;
	}
}

static void play_history(struct rt_model *m)
{
	bool newpid = m->prof.max_levels > 1 && rng_pct(&m->rng, 25);

	spawn(m, -1, newpid);
	note(m, "the test forks p0%s", newpid ? " in a new PID namespace" : "");
	if (rng_pct(&m->rng, 50))
		op_setsid(m, 0);
	for (int s = 0; s < m->prof.steps; s++)
		play_step(m);
}

/* ---- the description --------------------------------------------------------------------- */

enum {
	MUT_NONE,
	MUT_DUP,	   /* a node takes another's number in a shared namespace */
	MUT_INIT_NOT_ONE,  /* a NEWPID node's innermost PID is not 1 */
	MUT_DROP_NEWPID,   /* levels of a new namespace without NEWPID */
	MUT_TAKEN,	   /* PID 1 of the test's namespace: its init */
	MUT_RANGE,	   /* beyond every pid_max */
	MUT_FOREIGN_GROUP, /* a group of another session */
	MUT_LEADER_NOT_PG, /* a session leader in another group */
	MUT_COUNT
};

static const char *const mutation_names[MUT_COUNT] = {
	"none",	 "dup",	  "init-not-1",	   "drop-newpid",
	"taken", "range", "foreign-group", "leader-not-group",
};

/* One node of the description, in description order; ids as the node sees them. */
struct rt_node {
	int proc;   /* index in the model */
	int parent; /* description index; -1 for the root */
	int nlev;
	bool newpid;
	pid_t pid[RT_MAX_LEVELS]; /* outermost first */
	int ns[RT_MAX_LEVELS];
	pid_t pg[RT_MAX_LEVELS], sid[RT_MAX_LEVELS]; /* 0 where not visible */
	bool pg_inherit, sid_inherit;		     /* described as NULL: the parent's */
	uint32_t kind;
	bool exits; /* a CALLBACK that returns at once: gone before the capture */
};

struct rt_desc {
	struct rt_node nd[RT_MAX_PROCS];
	int n;
	int mutation;
};

/* Parents before children, otherwise in random order: the library must not rely on the
 * order a capture gives. */
static void place_nodes(struct rt_model *m, struct rt_desc *d, int *where)
{
	int ready[RT_MAX_PROCS];

	for (int i = 0; i < m->n; i++)
		where[i] = -1;
	where[0] = 0;
	d->nd[0].proc = 0;
	d->n = 1;
	for (;;) {
		int nr = 0, x;

		for (int i = 1; i < m->n; i++)
			if (m->p[i].alive && where[i] < 0 && where[m->p[i].parent] >= 0)
				ready[nr++] = i;
		if (!nr)
			return;
		x = ready[rng_below(&m->rng, (unsigned int)nr)];
		where[x] = d->n;
		d->nd[d->n++].proc = x;
	}
}

/* NULL ("the parent's") where that is what it is, half of the time; the root's NULL means
 * the caller's. */
static bool may_inherit(struct rt_model *m, int x, bool group)
{
	const struct rt_proc *X = &m->p[x];
	int own = group ? X->pgid : X->sid, from;

	if (X->parent < 0)
		from = RT_EXT;
	else
		from = group ? m->p[X->parent].pgid : m->p[X->parent].sid;
	return own == from && rng_pct(&m->rng, 50);
}

static void fill_node(struct rt_model *m, struct rt_node *nd, const int *where)
{
	int x = nd->proc;
	const struct rt_proc *X = &m->p[x];

	nd->parent = X->parent < 0 ? -1 : where[X->parent];
	nd->nlev = X->nlev;
	nd->newpid = X->newpid;
	for (int pos = 0; pos < X->nlev; pos++) {
		nd->pid[pos] = X->pid[pos];
		nd->ns[pos] = X->ns[pos];
		nd->pg[pos] = seen_as(m, X->pgid, x, pos);
		nd->sid[pos] = seen_as(m, X->sid, x, pos);
	}
	nd->pg_inherit = may_inherit(m, x, true);
	nd->sid_inherit = may_inherit(m, x, false);
	nd->kind = PIDTUPLE_NODE_HOLD;
}

static bool is_leaf(const struct rt_desc *d, int k)
{
	for (int i = k + 1; i < d->n; i++)
		if (d->nd[i].parent == k)
			return false;
	return true;
}

/* EXEC runs /bin/sleep; CALLBACK checks its ids from inside and stays, or (a leaf under a
 * HOLD parent, which reaps it) returns at once, leaving its group or session leaderless. */
static void assign_kinds(struct rt_model *m, struct rt_desc *d)
{
	for (int k = 0; k < d->n; k++) {
		unsigned int r = rng_below(&m->rng, 100);

		d->nd[k].kind = r < 8	 ? PIDTUPLE_NODE_EXEC
				: r < 20 ? PIDTUPLE_NODE_CALLBACK
					 : PIDTUPLE_NODE_HOLD;
	}
	for (int k = 1; k < d->n; k++) {
		struct rt_node *nd = &d->nd[k];

		if (is_leaf(d, k) && d->nd[nd->parent].kind == PIDTUPLE_NODE_HOLD &&
		    rng_pct(&m->rng, 10)) {
			nd->kind = PIDTUPLE_NODE_CALLBACK;
			nd->exits = true;
		}
	}
}

/* ---- mutations: one broken rule ---------------------------------------------------------- */

static bool mut_dup(struct rt_model *m, struct rt_desc *d)
{
	for (int tries = 0; tries < 50 && d->n > 1; tries++) {
		struct rt_node *a = &d->nd[1 + rng_below(&m->rng, (unsigned int)d->n - 1)];
		const struct rt_node *b = &d->nd[rng_below(&m->rng, (unsigned int)d->n)];
		int lev = a->nlev < b->nlev ? a->nlev : b->nlev;
		int pos = (int)rng_below(&m->rng, (unsigned int)lev);

		if (a == b || a->ns[pos] != b->ns[pos] || (a->newpid && pos == a->nlev - 1))
			continue;
		a->pid[pos] = b->pid[pos];
		return true;
	}
	return false;
}

static struct rt_node *random_newpid(struct rt_model *m, struct rt_desc *d)
{
	int cand[RT_MAX_PROCS], nc = 0;

	for (int k = 0; k < d->n; k++)
		if (d->nd[k].newpid)
			cand[nc++] = k;
	return nc ? &d->nd[cand[rng_below(&m->rng, (unsigned int)nc)]] : NULL;
}

/* Another session's group, seen alike from both nodes (same namespaces); never for an init
 * (see op_join()). */
static bool mut_foreign_group(struct rt_model *m, struct rt_desc *d)
{
	for (int tries = 0; tries < 50; tries++) {
		struct rt_node *a = &d->nd[rng_below(&m->rng, (unsigned int)d->n)];
		const struct rt_node *b = &d->nd[rng_below(&m->rng, (unsigned int)d->n)];
		size_t ids = (size_t)a->nlev * sizeof(pid_t);

		if (a->newpid || a->nlev != b->nlev || a->ns[a->nlev - 1] != b->ns[b->nlev - 1] ||
		    !memcmp(a->sid, b->sid, ids) || !memcmp(a->pg, b->pg, ids))
			continue;
		memcpy(a->pg, b->pg, ids);
		a->pg_inherit = false;
		return true;
	}
	return false;
}

/* A session leader whose group is its parent's (or, for the root, the caller's). */
static bool mut_leader_not_pg(struct rt_model *m, struct rt_desc *d)
{
	for (int k = 0; k < d->n; k++) {
		struct rt_node *a = &d->nd[k];
		const struct rt_node *p = a->parent >= 0 ? &d->nd[a->parent] : NULL;

		if (m->p[a->proc].sid != a->proc || (p && (a->newpid || p->pg[0] == a->pg[0])))
			continue;
		if (p)
			memcpy(a->pg, p->pg, sizeof(a->pg));
		else
			memset(a->pg, 0, sizeof(a->pg));
		a->pg_inherit = false;
		return true;
	}
	return false;
}

static bool apply_mutation(struct rt_model *m, struct rt_desc *d, int which)
{
	struct rt_node *a = &d->nd[rng_below(&m->rng, (unsigned int)d->n)];

	switch (which) {
	case MUT_DUP:
		return mut_dup(m, d);
	case MUT_INIT_NOT_ONE:
		a = random_newpid(m, d);
		if (a)
			a->pid[a->nlev - 1] = 2 + (pid_t)rng_below(&m->rng, 50);
		return a != NULL;
	case MUT_DROP_NEWPID:
		a = random_newpid(m, d);
		if (a)
			a->newpid = false;
		return a != NULL;
	case MUT_TAKEN:
		a->pid[0] = 1;
		return true;
	case MUT_RANGE:
		a->pid[rng_below(&m->rng, (unsigned int)a->nlev)] = 99999999;
		return true;
	case MUT_FOREIGN_GROUP:
		return mut_foreign_group(m, d);
	default:
		return mut_leader_not_pg(m, d);
	}
}

static void mutate(struct rt_model *m, struct rt_desc *d)
{
	d->mutation = 1 + (int)rng_below(&m->rng, MUT_COUNT - 1);
	if (!apply_mutation(m, d, d->mutation)) {
		d->mutation = MUT_TAKEN;
		apply_mutation(m, d, MUT_TAKEN);
	}
}

static void describe(struct rt_model *m, struct rt_desc *d)
{
	int where[RT_MAX_PROCS];

	place_nodes(m, d, where);
	for (int k = 0; k < d->n; k++)
		fill_node(m, &d->nd[k], where);
	/* A mutated description is about the check: plain HOLD nodes, no expectations. */
	if (rng_pct(&m->rng, RT_MUTATE_PCT))
		mutate(m, d);
	else
		assign_kinds(m, d);
}

static void generate(struct rt_model *m, struct rt_desc *d, uint64_t seed, bool verbose)
{
	memset(m, 0, sizeof(*m));
	memset(d, 0, sizeof(*d));
	m->rng.s = seed;
	m->verbose = verbose;
	pick_profile(m);
	play_history(m);
	describe(m, d);
}

/* ---- shared with the seed's namespace ---------------------------------------------------- */

enum { RT_SLOT_NONE, RT_SLOT_OK, RT_SLOT_WRONG };

/* What a CALLBACK node should see of itself in its own namespace, and what it saw. */
struct rt_slot {
	pid_t want[4]; /* getpid(), getppid(), getpgid(0), getsid(0) */
	pid_t got[4];
	int exits;
	int state; /* RT_SLOT_*, written by the node */
};

/* What the accepted descriptions exercised, summed for the summary. */
struct rt_cover {
	int newpid, deepest, exec, callback, exits;
	int groups, sessions;		/* led by a living node */
	int dead_groups, dead_sessions; /* whose leader died: restored with a helper */
	int reach_down;			/* nodes in a group led in a namespace below theirs */
};

/* MAP_SHARED: written in the seed's namespace (and by the tree), read by the driver. */
struct rt_shared {
	uint64_t seed;
	bool verbose;
	int nodes, mutation;
	struct rt_cover cover;
	uint32_t rule; /* the rule a refusal named; 0 when the description was accepted */
	char message[PIDTUPLE_DIAG_MESSAGE_SIZE];
	struct rt_slot slot[RT_MAX_PROCS];
};

/* Runs in a released CALLBACK node: only raw system calls (the child contract). */
static int node_callback(void *arg)
{
	struct rt_slot *s = arg;
	bool ok = true;

	s->got[0] = (pid_t)syscall(SYS_getpid);
	s->got[1] = (pid_t)syscall(SYS_getppid);
	s->got[2] = (pid_t)syscall(SYS_getpgid, 0);
	s->got[3] = (pid_t)syscall(SYS_getsid, 0);
	for (int i = 0; i < 4; i++)
		ok = ok && s->got[i] == s->want[i];
	__atomic_store_n(&s->state, ok ? RT_SLOT_OK : RT_SLOT_WRONG, __ATOMIC_RELEASE);
	if (s->exits)
		return 0;
	for (;;)
		pause();
}

/* The ids node @k must see from inside: its parent is outside its namespace (getppid() 0)
 * when it is an init; the root's parent is the test's init, PID 1. */
static void expect_ids(const struct rt_desc *d, int k, struct rt_slot *s)
{
	const struct rt_node *nd = &d->nd[k];
	int in = nd->nlev - 1;

	s->want[0] = nd->pid[in];
	if (nd->parent < 0)
		s->want[1] = nd->newpid ? 0 : 1;
	else
		s->want[1] = nd->newpid ? 0 : d->nd[nd->parent].pid[in];
	s->want[2] = nd->pg[in];
	s->want[3] = nd->sid[in];
	s->exits = nd->exits;
}

static int add_node(struct pidtuple_tree *t, const struct rt_node *nd, struct rt_slot *slot)
{
	static char *argv[] = { "sleep", "100000", NULL };
	struct pidtuple *tuple = NULL, *pg = NULL, *sid = NULL;
	PIDTUPLE_OPTS(pidtuple_node, n, .parent = nd->parent, .kind = nd->kind,
		      .flags = nd->newpid ? PIDTUPLE_NODE_NEWPID : 0);
	int r = pidtuple_from_outer(nd->pid, (size_t)nd->nlev, &tuple);

	if (r == 0 && !nd->pg_inherit)
		r = pidtuple_from_ids(nd->pg, (size_t)nd->nlev, &pg);
	if (r == 0 && !nd->sid_inherit)
		r = pidtuple_from_ids(nd->sid, (size_t)nd->nlev, &sid);
	n.tuple = tuple;
	n.pgid = pg;
	n.sid = sid;
	if (nd->kind == PIDTUPLE_NODE_EXEC) {
		n.path = "/bin/sleep";
		n.argv = argv;
	} else if (nd->kind == PIDTUPLE_NODE_CALLBACK) {
		n.fn = node_callback;
		n.arg = slot;
	}
	if (r == 0)
		r = pidtuple_tree_add(t, &n);
	pidtuple_free(tuple);
	pidtuple_free(pg);
	pidtuple_free(sid);
	return r;
}

static int build_tree(const struct rt_desc *d, struct rt_shared *sh, struct pidtuple_tree **ret)
{
	int r = pidtuple_tree_new(ret);

	for (int k = 0; r >= 0 && k < d->n; k++) {
		expect_ids(d, k, &sh->slot[k]);
		r = add_node(*ret, &d->nd[k], &sh->slot[k]);
		if (r >= 0 && r != k)
			r = -EINVAL;
	}
	return r < 0 ? r : 0;
}

/* ---- text --------------------------------------------------------------------------------- */

static void fmt_ids(const struct pidtuple *t, char *buf, size_t size)
{
	if (!t)
		snprintf(buf, size, "-");
	else if (pidtuple_format(t, buf, size) < 0)
		snprintf(buf, size, "?");
}

static const char *kind_name(uint32_t kind)
{
	return kind == PIDTUPLE_NODE_EXEC	? "exec"
	       : kind == PIDTUPLE_NODE_CALLBACK ? "callback"
						: "hold";
}

/* One line per node with every field of the public node: index, parent, NEWPID, kind,
 * tuple, group, session. Captures have only HOLD nodes, so two captures compare by this
 * text. The caller frees it. */
static char *tree_text(const struct pidtuple_tree *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = pidtuple_tree_size(t);

	if (!f)
		return NULL;
	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, nd);
		char a[160], b[160], c[160];

		if (pidtuple_tree_get(t, (unsigned int)i, &nd) < 0) {
			fprintf(f, "%3d: unreadable\n", i);
			continue;
		}
		fmt_ids(nd.tuple, a, sizeof(a));
		fmt_ids(nd.pgid, b, sizeof(b));
		fmt_ids(nd.sid, c, sizeof(c));
		fprintf(f, "%3d: parent %3d %-6s %-8s %-18s pgid %-18s sid %s\n", i, nd.parent,
			nd.flags & PIDTUPLE_NODE_NEWPID ? "NEWPID" : "", kind_name(nd.kind), a, b,
			c);
	}
	fclose(f);
	return buf;
}

static void print_tree(const char *title, const struct pidtuple_tree *t)
{
	char *text = tree_text(t);

	fprintf(stderr, "%s (%d nodes):\n%s", title, pidtuple_tree_size(t), text ? text : "");
	free(text);
}

/* ---- one seed ------------------------------------------------------------------------------ */

static bool ids_are(const struct pidtuple *t, const pid_t *want, int nlev)
{
	pid_t got[PIDTUPLE_MAX_LEVELS];

	return t && pidtuple_to_outer(t, got, PIDTUPLE_MAX_LEVELS) == nlev &&
	       memcmp(got, want, (size_t)nlev * sizeof(pid_t)) == 0;
}

/* The capture's index of the node whose tuple is @nd's, or -1. */
static int find_node(const struct pidtuple_tree *cap, const struct rt_node *nd)
{
	int n = pidtuple_tree_size(cap);

	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, c);

		if (pidtuple_tree_get(cap, (unsigned int)i, &c) == 0 &&
		    ids_are(c.tuple, nd->pid, nd->nlev))
			return i;
	}
	return -1;
}

/* The live tree is the description: every node (but CALLBACK nodes that returned) with
 * its tuple, its parent, its namespace, its group and its session. */
static int match_expected(const struct rt_desc *d, const struct pidtuple_tree *cap)
{
	int want = 0;

	for (int k = 0; k < d->n; k++)
		want += !d->nd[k].exits;
	TH_CHECK(pidtuple_tree_size(cap) == want, "captured %d nodes, want %d",
		 pidtuple_tree_size(cap), want);
	for (int k = 0; k < d->n; k++) {
		const struct rt_node *nd = &d->nd[k];
		PIDTUPLE_OPTS(pidtuple_node, c);
		PIDTUPLE_OPTS(pidtuple_node, cp);
		int i = nd->exits ? 0 : find_node(cap, nd);

		if (nd->exits)
			continue;
		TH_CHECK(i >= 0 && pidtuple_tree_get(cap, (unsigned int)i, &c) == 0,
			 "node %d is not in the capture", k);
		TH_CHECK(!!(c.flags & PIDTUPLE_NODE_NEWPID) == nd->newpid, "node %d: NEWPID", k);
		TH_CHECK((c.parent < 0) == (nd->parent < 0), "node %d: root or not", k);
		if (nd->parent >= 0) {
			const struct rt_node *p = &d->nd[nd->parent];

			pidtuple_tree_get(cap, (unsigned int)c.parent, &cp);
			TH_CHECK(ids_are(cp.tuple, p->pid, p->nlev), "node %d: parent", k);
		}
		TH_CHECK(ids_are(c.pgid, nd->pg, nd->nlev), "node %d: process group", k);
		TH_CHECK(ids_are(c.sid, nd->sid, nd->nlev), "node %d: session", k);
	}
	return 0;
}

/* Every CALLBACK node reported the ids it saw; those that return are gone and reaped. */
static int settle(const struct rt_desc *d, struct rt_shared *sh, const struct pidtuple_restore *rs)
{
	double until = now_s() + RT_SETTLE_S;

	for (int k = 0; k < d->n; k++) {
		const struct rt_slot *s = &sh->slot[k];
		int st;

		if (d->nd[k].kind != PIDTUPLE_NODE_CALLBACK)
			continue;
		while ((st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE)) == RT_SLOT_NONE &&
		       now_s() < until)
			usleep(1000);
		TH_CHECK(st == RT_SLOT_OK,
			 "node %d saw pid %d ppid %d pgid %d sid %d, want %d %d %d %d (state %d)",
			 k, s->got[0], s->got[1], s->got[2], s->got[3], s->want[0], s->want[1],
			 s->want[2], s->want[3], st);
		if (!d->nd[k].exits)
			continue;
		/* Exited is not reaped yet: its HOLD parent reaps it (SIGCHLD ignored). */
		while (kill(pidtuple_restore_pid(rs, (unsigned int)k), 0) == 0 && now_s() < until)
			usleep(1000);
		TH_CHECK(kill(pidtuple_restore_pid(rs, (unsigned int)k), 0) < 0 && errno == ESRCH,
			 "node %d returned but was not reaped by its HOLD parent", k);
	}
	return 0;
}

/* Node @i as /proc shows it: state, parent, group, session. */
static void print_left(const struct pidtuple_restore *rs, unsigned int i)
{
	int nr = th_proc_pid(pidtuple_restore_pidfd(rs, i)), fd;
	char path[64], buf[256] = "";
	ssize_t n = -1;

	snprintf(path, sizeof(path), "/proc/%d/stat", nr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fprintf(stderr, "  node %u (PID %d here, %d in /proc): %.80s\n", i,
		(int)pidtuple_restore_pid(rs, i), nr, buf);
}

/* After pidtuple_restore_kill() no process of the tree may be left. Reports what is, and how
 * long it takes to go while the test reaps its own exited children (an init that waits for a
 * number held by a zombie only the test can reap would wait for ever otherwise). */
static int check_gone(const struct pidtuple_restore *rs, int n, const char *what)
{
	int left = 0, still = 0, reaped = 0;
	double t0 = now_s();

	for (unsigned int i = 0; i < (unsigned int)n; i++) {
		if (kill(pidtuple_restore_pid(rs, i), 0) != 0)
			continue;
		if (!left++)
			fprintf(stderr, "after pidtuple_restore_kill() of %s:\n", what);
		print_left(rs, i);
	}
	if (!left)
		return 0;
	do {
		usleep(1000);
		reaped += th_reap_exited();
		still = 0;
		for (unsigned int i = 0; i < (unsigned int)n; i++)
			still += kill(pidtuple_restore_pid(rs, i), 0) == 0;
	} while (still && now_s() < t0 + 10);
	fprintf(stderr,
		"  %d of them still there %.3f s later; the test reaped %d exited children\n",
		still, now_s() - t0, reaped);
	TH_CHECK(left == 0, "%d process(es) of %s left after pidtuple_restore_kill()", left, what);
	return 0;
}

/*
 * Once pidtuple_restore_kill() has returned and nothing is left to reap, the tree's numbers
 * must be free again: the validator finds none of them taken. (kill(pid, 0) cannot tell: the
 * kernel unhashes a task before it frees its numbers.) Reports for how long they stay taken.
 */
static int check_pids_free(const struct pidtuple_tree *t, const char *what)
{
	struct pidtuple_diag dg = { .sz = sizeof(dg) };
	double t0 = now_s();
	int r = pidtuple_tree_check(t, NULL, &dg), first = dg.node;
	char msg[PIDTUPLE_DIAG_MESSAGE_SIZE];

	if (r == 0)
		return 0;
	snprintf(msg, sizeof(msg), "%s", dg.message);
	while (pidtuple_tree_check(t, NULL, NULL) != 0 && now_s() < t0 + 10)
		usleep(200);
	fprintf(stderr, "right after pidtuple_restore_kill() of %s: %s; free %.1f ms later\n", what,
		msg, (now_s() - t0) * 1e3);
	TH_CHECK(r == 0, "%s: node %d's PIDs still taken after pidtuple_restore_kill() (%s)", what,
		 first, pidtuple_rule_name(dg.rule));
	return 0;
}

/* Every process of the test's namespace, as a scan yields it. */
static void print_namespace(void)
{
	struct pidtuple_scan *scan = NULL;
	PIDTUPLE_OPTS(pidtuple_scan_entry, e);
	char a[160];

	if (pidtuple_scan_new(NULL, &scan) < 0)
		return;
	fprintf(stderr, "processes of the test's namespace:\n");
	while (pidtuple_scan_next(scan, &e) > 0) {
		fmt_ids(e.tuple, a, sizeof(a));
		fprintf(stderr, "  %-18s ppid %d pgid %d sid %d\n", a, e.ppid, e.pgid, e.sid);
	}
	pidtuple_scan_free(scan);
}

/* A restore met a taken PID: who is there, and is the number taken for a moment only? */
static void explain_taken(const struct pidtuple_tree *t)
{
	double t0 = now_s();

	print_namespace();
	while (now_s() < t0 + 2) {
		struct pidtuple_restore *rs = NULL;
		int r = pidtuple_tree_restore(t, NULL, &rs);

		if (r != -EEXIST) {
			fprintf(stderr, "a retry %.1f ms later: %s\n", (now_s() - t0) * 1e3,
				r ? pidtuple_strerror(r) : "restored");
			pidtuple_restore_kill(rs);
			pidtuple_restore_free(rs);
			return;
		}
		usleep(500);
	}
	fprintf(stderr, "still taken 2 s later\n");
}

/* Restores @t with @flags, releases it, lets its CALLBACK nodes run, captures it into @ret_cap
 * and kills it. @d, when not NULL, is what @t was made from: the live tree must match it. */
static int live_round(const struct pidtuple_tree *t, const struct rt_desc *d, struct rt_shared *sh,
		      uint64_t flags, struct pidtuple_tree **ret_cap, const char *what)
{
	struct pidtuple_diag dg = { .sz = sizeof(dg) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &dg, .flags = flags);
	struct pidtuple_restore *rs = NULL;
	int r = pidtuple_tree_restore(t, &o, &rs), bad = 0;

	if (r == -EEXIST)
		explain_taken(t);
	if (r < 0 && !d)
		print_tree("the capture that did not restore", t);
	TH_CHECK(r == 0, "restore of %s: %s: node %d rule %s: %s", what, pidtuple_strerror(r),
		 dg.node, pidtuple_rule_name(dg.rule), dg.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release of %s", what);
	if (d)
		bad = settle(d, sh, rs);
	if (!bad) {
		r = pidtuple_tree_capture(pidtuple_restore_pid(rs, 0), ret_cap);
		if (r < 0)
			fprintf(stderr, "capture of %s: %s\n", what, pidtuple_strerror(r));
		bad = r < 0;
	}
	if (!bad && d && !d->mutation)
		bad = match_expected(d, *ret_cap);
	if (bad && *ret_cap)
		print_tree("captured", *ret_cap);
	TH_CHECK(pidtuple_restore_kill(rs) == 0, "kill of %s", what);
	bad = bad || check_gone(rs, pidtuple_tree_size(t), what);
	pidtuple_restore_free(rs);
	TH_CHECK(th_count_children() == 0, "%d children left after the kill of %s",
		 th_count_children(), what);
	return bad || check_pids_free(t, what);
}

static int round_trip(const struct pidtuple_tree *t, const struct rt_desc *d, struct rt_shared *sh)
{
	struct pidtuple_tree *c1 = NULL, *c2 = NULL;
	char *a = NULL, *b = NULL;
	int r = live_round(t, d, sh, 0, &c1, "the description");

	/* Odd seeds restore the capture (all HOLD nodes) with its leaves sharing memory. */
	if (r == 0)
		r = live_round(c1, NULL, sh, sh->seed & 1 ? PIDTUPLE_FORK_SHARE_VM : 0, &c2,
			       "the first capture");
	if (r == 0) {
		a = tree_text(c1);
		b = tree_text(c2);
		r = !a || !b || strcmp(a, b) != 0;
		if (r || sh->verbose)
			fprintf(stderr, "first capture:\n%s%s capture:\n%s", a ? a : "",
				r ? "differing second" : "identical second", b ? b : "");
	}
	free(a);
	free(b);
	pidtuple_tree_free(c1);
	pidtuple_tree_free(c2);
	return r;
}

/* 0: accepted; 1: refused with a named rule, recorded in @sh; -1: refused without one. */
static int check_verdict(const struct pidtuple_tree *t, struct rt_shared *sh)
{
	struct pidtuple_diag dg = { .sz = sizeof(dg) };
	int r = pidtuple_tree_check(t, NULL, &dg);

	if (sh->verbose)
		fprintf(stderr, "check: %d (%s) node %d inner %d: %s\n", r,
			pidtuple_rule_name(dg.rule), dg.node, dg.inner_index, dg.message);
	if (r == 0)
		return 0;
	if (r > 0 || dg.rule == PIDTUPLE_RULE_NONE || dg.rule >= _PIDTUPLE_RULE_MAX ||
	    !dg.message[0] || dg.err != r) {
		fprintf(stderr, "check: %d, rule %u, err %d, message \"%s\": not a named refusal\n",
			r, dg.rule, dg.err, dg.message);
		return -1;
	}
	sh->rule = dg.rule;
	snprintf(sh->message, sizeof(sh->message), "%s", dg.message);
	return 1;
}

/* The restore refuses a refused description alike and creates nothing. */
static int refused_alike(const struct pidtuple_tree *t, const struct rt_shared *sh)
{
	struct pidtuple_diag dg = { .sz = sizeof(dg) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &dg);
	struct pidtuple_restore *rs = NULL;
	int r = pidtuple_tree_restore(t, &o, &rs);

	TH_CHECK(r < 0 && !rs && dg.rule == sh->rule, "restore of a refused tree: %d rule %s", r,
		 pidtuple_rule_name(dg.rule));
	TH_CHECK(th_count_children() == 0, "the refused restore left children");
	return 0;
}

/* Groups and sessions counted once each, by their leader: alive or dead. */
static void cover_leaders(const struct rt_model *m, struct rt_cover *c)
{
	bool pg[RT_MAX_PROCS] = { false }, sid[RT_MAX_PROCS] = { false };

	for (int i = 0; i < m->n; i++) {
		const struct rt_proc *X = &m->p[i];

		if (!X->alive)
			continue;
		if (X->pgid >= 0 && !pg[X->pgid]) {
			pg[X->pgid] = true;
			*(m->p[X->pgid].alive ? &c->groups : &c->dead_groups) += 1;
		}
		if (X->sid >= 0 && !sid[X->sid]) {
			sid[X->sid] = true;
			*(m->p[X->sid].alive ? &c->sessions : &c->dead_sessions) += 1;
		}
		c->reach_down += X->pgid >= 0 && m->p[X->pgid].nlev > X->nlev;
	}
}

static void cover(const struct rt_model *m, const struct rt_desc *d, struct rt_cover *c)
{
	for (int k = 0; k < d->n; k++) {
		const struct rt_node *nd = &d->nd[k];

		c->newpid += nd->newpid;
		c->deepest = nd->nlev > c->deepest ? nd->nlev : c->deepest;
		c->exec += nd->kind == PIDTUPLE_NODE_EXEC;
		c->callback += nd->kind == PIDTUPLE_NODE_CALLBACK;
		c->exits += nd->exits;
	}
	cover_leaders(m, c);
}

static void print_description(const struct rt_desc *d, const struct pidtuple_tree *t)
{
	fprintf(stderr, "mutation: %s\n", mutation_names[d->mutation]);
	print_tree("description", t);
	for (int k = 0; k < d->n; k++)
		if (d->nd[k].kind == PIDTUPLE_NODE_CALLBACK)
			fprintf(stderr, "  node %d: CALLBACK that %s\n", k,
				d->nd[k].exits ? "returns at once" : "stays");
}

/* Runs as the init of the seed's own PID namespace. */
static int seed_body(void *arg)
{
	struct rt_shared *sh = arg;
	struct rt_model m;
	struct rt_desc d;
	struct pidtuple_tree *t = NULL;
	int r;

	if (sh->verbose)
		fprintf(stderr, "seed %" PRIu64 ":\n", sh->seed);
	generate(&m, &d, sh->seed, sh->verbose);
	sh->nodes = d.n;
	sh->mutation = d.mutation;
	r = build_tree(&d, sh, &t);
	TH_CHECK(r == 0, "the description could not be built: %s", pidtuple_strerror(r));
	if (sh->verbose)
		print_description(&d, t);
	r = check_verdict(t, sh);
	if (r == 0 && !d.mutation)
		cover(&m, &d, &sh->cover);
	if (r == 0)
		r = round_trip(t, &d, sh);
	else if (r == 1)
		r = refused_alike(t, sh);
	if (r)
		print_tree("the description was", t);
	pidtuple_tree_free(t);
	return r ? 1 : 0;
}

/* ---- seeds and the driver ----------------------------------------------------------------- */

struct rt_seeds {
	uint64_t *v;
	size_t n;
};

static struct rt_seeds g_seeds;
static bool g_verbose;

static bool push_range(struct rt_seeds *s, uint64_t a, uint64_t b)
{
	uint64_t *v;

	if (b < a || b - a >= 10000000)
		return false;
	v = realloc(s->v, (s->n + (size_t)(b - a + 1)) * sizeof(*v));
	if (!v)
		return false;
	s->v = v;
	for (uint64_t x = a; x <= b; x++)
		s->v[s->n++] = x;
	return true;
}

static bool parse_u64(const char *p, const char **end, uint64_t *ret)
{
	char *e;

	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	*ret = strtoull(p, &e, 10);
	*end = e;
	return errno == 0;
}

/* "N": seeds 1..N; otherwise a comma-separated list of seeds and ranges "A-B". */
static bool parse_seeds(const char *text, struct rt_seeds *s)
{
	const char *p = text;
	uint64_t a, b;

	if (!strpbrk(text, ",-"))
		return parse_u64(p, &p, &a) && !*p && a > 0 && push_range(s, 1, a);
	for (;;) {
		if (!parse_u64(p, &p, &a))
			return false;
		b = a;
		if (*p == '-' && !parse_u64(p + 1, &p, &b))
			return false;
		if (!push_range(s, a, b))
			return false;
		if (!*p)
			return s->n > 0;
		if (*p++ != ',')
			return false;
	}
}

struct rt_stats {
	int passed, refused, failed, nodes, mutated_accepted;
	int natural[_PIDTUPLE_RULE_MAX], mutated[_PIDTUPLE_RULE_MAX];
	uint64_t first_natural[_PIDTUPLE_RULE_MAX], first_mutated[_PIDTUPLE_RULE_MAX];
	struct rt_cover cover;
	char failing[512];
};

static volatile uint64_t g_current_seed;

/* Async-signal-safe: names the seed that hung; the namespace dies with this process. */
static void on_watchdog(int sig)
{
	char buf[64] = "seed ", digits[24];
	size_t n = 5, k = 0;
	uint64_t v = g_current_seed;

	(void)sig;
	do
		digits[k++] = (char)('0' + v % 10);
	while ((v /= 10) && k < sizeof(digits));
	while (k)
		buf[n++] = digits[--k];
	memcpy(buf + n, ": timed out\n", 12);
	(void)!write(2, buf, n + 12);
	_exit(1);
}

static void add_cover(struct rt_cover *sum, const struct rt_cover *c)
{
	sum->newpid += c->newpid;
	sum->deepest = c->deepest > sum->deepest ? c->deepest : sum->deepest;
	sum->exec += c->exec;
	sum->callback += c->callback;
	sum->exits += c->exits;
	sum->groups += c->groups;
	sum->sessions += c->sessions;
	sum->dead_groups += c->dead_groups;
	sum->dead_sessions += c->dead_sessions;
	sum->reach_down += c->reach_down;
}

static void record(struct rt_stats *st, const struct rt_shared *sh, uint64_t seed, int r)
{
	size_t len = strlen(st->failing);

	st->nodes += sh->nodes;
	add_cover(&st->cover, &sh->cover);
	if (r) {
		st->failed++;
		printf("seed %" PRIu64 ": FAILED (%d); replay: PIDTUPLE_SEED=%" PRIu64 "\n", seed,
		       r, seed);
		snprintf(st->failing + len, sizeof(st->failing) - len, "%s%" PRIu64, len ? "," : "",
			 seed);
	} else if (sh->rule) {
		uint64_t *first = sh->mutation ? st->first_mutated : st->first_natural;

		st->refused++;
		(sh->mutation ? st->mutated : st->natural)[sh->rule]++;
		if (!first[sh->rule])
			first[sh->rule] = seed;
		/* A history the kernel allowed, refused: a limit of the library, worth seeing. */
		if (!sh->mutation)
			printf("seed %" PRIu64 ": valid, refused by %s: %s\n", seed,
			       pidtuple_rule_name(sh->rule), sh->message);
	} else {
		st->passed++;
		st->mutated_accepted += sh->mutation != 0;
	}
	fflush(stdout);
}

static void run_seed(struct rt_shared *sh, uint64_t seed, struct rt_stats *st)
{
	int fds = th_count_fds(), r;

	memset(sh, 0, sizeof(*sh));
	sh->seed = g_current_seed = seed;
	sh->verbose = g_verbose;
	alarm(RT_SEED_TIMEOUT_S);
	r = th_in_pidns_leakfree(seed_body, sh);
	alarm(0);
	if (r == 0 && (th_count_children() != 0 || th_count_fds() != fds)) {
		fprintf(stderr, "seed %" PRIu64 ": %d children and %d fds (were %d) left\n", seed,
			th_count_children(), th_count_fds(), fds);
		r = 1;
	}
	record(st, sh, seed, r);
}

/* Per rule: how many descriptions from a history and how many mutated ones it refused. */
static void print_refusals(const struct rt_stats *st)
{
	for (uint32_t r = 1; r < _PIDTUPLE_RULE_MAX; r++) {
		char a[48] = "", b[48] = "";

		if (!st->natural[r] && !st->mutated[r])
			continue;
		if (st->natural[r])
			snprintf(a, sizeof(a), " (first: seed %" PRIu64 ")", st->first_natural[r]);
		if (st->mutated[r])
			snprintf(b, sizeof(b), " (first: seed %" PRIu64 ")", st->first_mutated[r]);
		printf("  refused by %-15s %4d from a history%s, %4d mutated%s\n",
		       pidtuple_rule_name(r), st->natural[r], a, st->mutated[r], b);
	}
}

static void print_cover(const struct rt_cover *c)
{
	printf("  accepted descriptions had %d NEWPID nodes (up to %d levels), %d EXEC and %d "
	       "CALLBACK nodes (%d returning at once),\n  %d groups and %d sessions led by a node, "
	       "%d groups and %d sessions whose leader died,\n  %d nodes in a group led in a "
	       "namespace below their own\n",
	       c->newpid, c->deepest, c->exec, c->callback, c->exits, c->groups, c->sessions,
	       c->dead_groups, c->dead_sessions, c->reach_down);
}

static void print_summary(const struct rt_stats *st, double secs)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	printf("random trees: %zu seeds (%" PRIu64 "..%" PRIu64 ") in %.1f s, %.2f seeds/s, %d "
	       "nodes: %d round trips (%d of them mutated), %d refused, %d failed\n",
	       g_seeds.n, g_seeds.v[0], g_seeds.v[g_seeds.n - 1], secs,
	       secs > 0 ? (double)g_seeds.n / secs : 0.0, st->nodes, st->passed,
	       st->mutated_accepted, st->refused, st->failed);
	print_refusals(st);
	print_cover(&st->cover);
	printf("  max RSS: %ld KiB (driver), %ld KiB (largest child)\n", self.ru_maxrss,
	       kids.ru_maxrss);
	if (st->failed)
		printf("  failing seeds: %s\n", st->failing);
	fflush(stdout);
}

START_TEST(test_random_trees)
{
	struct rt_shared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct rt_stats st;
	double t0 = now_s();

	ck_assert_ptr_ne(sh, MAP_FAILED);
	memset(&st, 0, sizeof(st));
	signal(SIGALRM, on_watchdog);
	for (size_t i = 0; i < g_seeds.n; i++)
		run_seed(sh, g_seeds.v[i], &st);
	print_summary(&st, now_s() - t0);
	munmap(sh, sizeof(*sh));
	ck_assert_msg(st.failed == 0, "%d seed(s) failed: %s", st.failed, st.failing);
}
END_TEST

/* An init in a group numbered inside its own namespace could never be reaped once killed
 * (see op_join()): no description may ask for one. Its own group is 1 there. */
static bool init_group_safe(const struct rt_desc *d)
{
	for (int k = 0; k < d->n; k++) {
		const struct rt_node *nd = &d->nd[k];

		if (nd->newpid && nd->pg[nd->nlev - 1] > 1)
			return false;
	}
	return true;
}

/* A seed is a replay recipe: the same description every time. */
START_TEST(test_generator)
{
	static struct rt_model m1, m2;
	static struct rt_desc d1, d2;

	for (uint64_t seed = 1; seed <= 3000; seed++) {
		generate(&m1, &d1, seed, false);
		generate(&m2, &d2, seed, false);
		ck_assert_msg(memcmp(&d1, &d2, sizeof(d1)) == 0, "seed %" PRIu64, seed);
		ck_assert_int_ge(d1.n, 1);
		ck_assert_int_eq(d1.nd[0].parent, -1);
		ck_assert_msg(init_group_safe(&d1), "seed %" PRIu64 ": an init in an inner group",
			      seed);
	}
}
END_TEST

START_TEST(test_seed_lists)
{
	struct rt_seeds s = { 0 };

	ck_assert(parse_seeds("3", &s) && s.n == 3 && s.v[0] == 1 && s.v[2] == 3);
	s.n = 0;
	ck_assert(parse_seeds("7-9,2", &s) && s.n == 4 && s.v[0] == 7 && s.v[3] == 2);
	s.n = 0;
	ck_assert(parse_seeds("5,11", &s) && s.n == 2 && s.v[1] == 11);
	s.n = 0;
	ck_assert(!parse_seeds("", &s) && !parse_seeds("x", &s) && !parse_seeds("9-2", &s));
	s.n = 0;
	ck_assert(!parse_seeds("1,", &s) && !parse_seeds("0", &s));
	free(s.v);
}
END_TEST

/* PIDTUPLE_SEED=N: that seed alone, verbosely; else PIDTUPLE_SEEDS, else the default. */
static void choose_seeds(void)
{
	const char *one = getenv("PIDTUPLE_SEED"), *list = getenv("PIDTUPLE_SEEDS");
	uint64_t seed;
	const char *end;

	if (one && *one) {
		if (!parse_u64(one, &end, &seed) || *end || !push_range(&g_seeds, seed, seed)) {
			fprintf(stderr, "PIDTUPLE_SEED: not a seed: %s\n", one);
			exit(EXIT_FAILURE);
		}
		g_verbose = true;
	} else if (list && *list) {
		if (!parse_seeds(list, &g_seeds)) {
			fprintf(stderr, "PIDTUPLE_SEEDS: want N, A-B or A,B,C: %s\n", list);
			exit(EXIT_FAILURE);
		}
	} else {
		push_range(&g_seeds, 1, RT_DEFAULT_SEEDS);
	}
}

static Suite *random_trees_suite(void)
{
	Suite *s = suite_create("random_trees");
	TCase *tc = tcase_create("generator");

	tcase_add_test(tc, test_generator);
	tcase_add_test(tc, test_seed_lists);
	suite_add_tcase(s, tc);

	/* Each seed has its own watchdog; this bound only scales with the seed count. */
	tc = tcase_create("round trip");
	tcase_set_timeout(tc, RT_SEED_TIMEOUT_S + 2.0 * (double)g_seeds.n);
	tcase_add_test(tc, test_random_trees);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int r;

	th_require_privilege();
	choose_seeds();
	r = th_run_suite(random_trees_suite());
	free(g_seeds.v);
	return r;
}
