/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Namespace context: the levels the next fork can pin, as the caller sees them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "forkopts.h"
#include "join.h"
#include "lib.h"
#include "nsctx.h"
#include "opts.h"
#include "probe.h"
#include "proc.h"
#include "syscall_shim.h"
#include "tuple.h"

/*
 * The levels a walk from a pid_for_children namespace met, by that namespace's id: the inodes
 * of those it opened (the first, then each one's parent), and whether the active namespace
 * came next (or was the last opened). A namespace's parent never changes and ids are never
 * reused, so a record never goes stale; one cut short by a short tuple is extended later. A
 * sequence count, odd while a writer fills the record, makes a torn read a miss.
 */
struct chain {
	_Atomic uint32_t seq;
	_Atomic uint32_t n; /* inodes in ino[] */
	_Atomic uint64_t id;
	_Atomic bool ends; /* the active namespace follows ino[n - 1], or is it */
	_Atomic uint64_t ino[PIDTUPLE_MAX_LEVELS + 1];
};

/*
 * The caller's active PID namespace and the user namespace that owns it never change while the
 * process lives: setns() and unshare() move only pid_for_children. A forked child may be in
 * another namespace under the same PID number, so they live in a page the kernel wipes in
 * forked children. Racing threads store the same values. 0: not known yet.
 */
struct self_ns {
	_Atomic uint64_t active_ino, owner_ino;
	/* Ids (NS_GET_ID) of namespaces whose parent is the active one, by id modulo the size:
	 * a namespace's parent never changes and its id is never reused. */
	_Atomic uint64_t child_ids[16];
	_Atomic bool no_ns_id; /* NS_GET_ID said ENOTTY: a kernel before 6.18 */
	/* get_robust_list() refused or is missing (a filter, an LSM): not asked again. */
	_Atomic bool no_robust_list;
	struct chain chains[4]; /* by id modulo the size */
};

_Static_assert(sizeof(struct self_ns) <= 4096, "the cache is one page");

static _Atomic(struct self_ns *) self_page;

static struct self_ns *self_ns_page(void)
{
	struct self_ns *p = atomic_load(&self_page), *expected = NULL;

	if (p)
		return p;
	p = pt_mmap_wipeonfork(4096);
	if (!p)
		return NULL; /* no cache this time: the next call tries again */
	if (!atomic_compare_exchange_strong(&self_page, &expected, p)) {
		pt_munmap(p, 4096); /* another thread won */
		p = expected;
	}
	return p;
}

#define CHILD_SLOTS (sizeof(((struct self_ns *)0)->child_ids) / sizeof(uint64_t))

/* The id of namespace @nsfd, 0 when there is no cache or no id. */
static uint64_t ns_id(struct self_ns *c, int nsfd)
{
	uint64_t id = 0;
	int r;

	if (!c || atomic_load_explicit(&c->no_ns_id, memory_order_relaxed))
		return 0;
	r = pt_ns_get_id(nsfd, &id);
	if (r == -ENOTTY)
		atomic_store_explicit(&c->no_ns_id, true, memory_order_relaxed);
	return r < 0 ? 0 : id;
}

/* Is the namespace @nsfd a child of the active one, as far as the cache knows? */
static bool known_child(int nsfd)
{
	struct self_ns *c = atomic_load(&self_page);
	uint64_t id = ns_id(c, nsfd);

	return id &&
	       atomic_load_explicit(&c->child_ids[id % CHILD_SLOTS], memory_order_relaxed) == id;
}

static void remember_child(int nsfd)
{
	struct self_ns *c = atomic_load(&self_page);
	uint64_t id = ns_id(c, nsfd);

	if (id)
		atomic_store_explicit(&c->child_ids[id % CHILD_SLOTS], id, memory_order_relaxed);
}

#define CHAIN_SLOTS (sizeof(((struct self_ns *)0)->chains) / sizeof(struct chain))

/* A copy of the record for namespace @id: 1 when there is one, 0 when not (or torn). */
static int chain_get(struct self_ns *c, uint64_t id, uint64_t *ino, unsigned int *n, bool *ends)
{
	struct chain *ch = &c->chains[id % CHAIN_SLOTS];
	uint32_t seq = atomic_load_explicit(&ch->seq, memory_order_acquire);

	if ((seq & 1) || atomic_load_explicit(&ch->id, memory_order_relaxed) != id)
		return 0;
	*n = atomic_load_explicit(&ch->n, memory_order_relaxed);
	*ends = atomic_load_explicit(&ch->ends, memory_order_relaxed);
	if (*n == 0 || *n > PIDTUPLE_MAX_LEVELS + 1)
		return 0;
	for (unsigned int i = 0; i < *n; i++)
		ino[i] = atomic_load_explicit(&ch->ino[i], memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&ch->seq, memory_order_relaxed) == seq;
}

/* Records what the walk of namespace @id found: the levels of @ctx from @first on. Kept when
 * it says more than the record there; skipped when another thread is writing. */
static void chain_put(struct self_ns *c, uint64_t id, const struct pidtuple_nsctx *ctx,
		      unsigned int first)
{
	struct chain *ch = &c->chains[id % CHAIN_SLOTS];
	bool ends = ctx->n > first && (ctx->levels[ctx->n - 1].flags & PIDTUPLE_LEVEL_CALLER);
	uint64_t old_ino[PIDTUPLE_MAX_LEVELS + 1];
	unsigned int n = 0, old_n;
	bool old_ends;
	uint32_t seq;

	while (first + n < ctx->n && ctx->levels[first + n].nsfd >= 0)
		n++;
	if (n == 0 || (chain_get(c, id, old_ino, &old_n, &old_ends) && (old_ends || old_n >= n)))
		return;
	seq = atomic_load_explicit(&ch->seq, memory_order_relaxed);
	if ((seq & 1) || !atomic_compare_exchange_strong(&ch->seq, &seq, seq + 1))
		return;
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&ch->id, id, memory_order_relaxed);
	atomic_store_explicit(&ch->n, n, memory_order_relaxed);
	atomic_store_explicit(&ch->ends, ends, memory_order_relaxed);
	for (unsigned int i = 0; i < n; i++)
		atomic_store_explicit(&ch->ino[i], ctx->levels[first + i].ns_id,
				      memory_order_relaxed);
	atomic_store_explicit(&ch->seq, seq + 2, memory_order_release);
}

/* The owner is 0 where NS_GET_USERNS refuses (the caller's user namespace lies below it): then
 * the caller holds nothing over it, and nothing is cached. */
static int self_ns_read(uint64_t *active, uint64_t *owner)
{
	int fd = pt_proc_ns_open(-1, 0, "pid"), userns;

	if (fd < 0)
		return fd;
	*active = pt_fd_ino(fd);
	userns = pt_ns_get_userns(fd);
	pt_close(fd);
	*owner = userns >= 0 ? pt_fd_ino(userns) : 0;
	if (userns >= 0)
		pt_close(userns);
	if (!*active || (userns >= 0 && !*owner))
		return -EIO; /* fstat failed */
	return userns >= 0 || userns == -EPERM ? 0 : userns;
}

static int self_ns_get(uint64_t *active, uint64_t *owner)
{
	struct self_ns *c = self_ns_page();
	int r;

	if (c) {
		*active = atomic_load_explicit(&c->active_ino, memory_order_relaxed);
		*owner = atomic_load_explicit(&c->owner_ino, memory_order_relaxed);
		if (*active && *owner)
			return 0;
	}
	r = self_ns_read(active, owner);
	if (r == 0 && c && *owner) {
		atomic_store_explicit(&c->owner_ino, *owner, memory_order_relaxed);
		atomic_store_explicit(&c->active_ino, *active, memory_order_relaxed);
	}
	return r;
}

/* The nearest ancestor of the caller that lives in /proc's own namespace (an NSpid of one
 * field), as /proc numbers it; 0 when none is found. */
static pid_t proc_level_ancestor(void)
{
	pid_t pid = 0; /* the caller, then its ancestors */

	for (int hops = 0; hops < 64; hops++) {
		struct pt_status st, parent;

		if (pt_proc_status(-1, pid, 0, &st) < 0 || !st.has_ppid || st.ppid <= 0)
			return 0;
		if (pt_proc_status(-1, st.ppid, 0, &parent) < 0 || parent.n[PT_NSPID] < 0)
			return 0;
		if (parent.n[PT_NSPID] == 1)
			return st.ppid;
		pid = st.ppid;
	}
	return 0;
}

/*
 * Absolute level of the caller's active namespace, when /proc belongs to the host: found by
 * walking up the parent chain to a process /proc shows at its own level and comparing that
 * namespace with the initial one. -1 when it cannot be told.
 */
static int caller_abs_level(uint64_t active_ino, int above)
{
	pid_t anc;
	int fd, n;

	if (active_ino == PT_INIT_PID_NS_INO)
		return 0;
	if (above == 0)
		return -1; /* /proc is the caller's own: the levels above are hidden */
	anc = proc_level_ancestor();
	fd = anc > 0 ? pt_proc_ns_open(-1, anc, "pid") : -1;
	if (fd < 0)
		return -1;
	n = pt_fd_ino(fd) == PT_INIT_PID_NS_INO ? above : -1;
	pt_close(fd);
	return n;
}

static void ctx_close(struct pidtuple_nsctx *ctx)
{
	for (unsigned int i = 0; i < ctx->n; i++)
		if (ctx->levels[i].nsfd >= 0)
			pt_close(ctx->levels[i].nsfd);
	ctx->n = 0;
}

/* What the walk needs to know of the caller. */
struct caller {
	uint64_t userns_ino, active_ino;
	uint64_t owner_ino; /* owner of the active namespace, 0 when not to be known */
	int pid_max;
	bool below_own; /* every level's owner is the caller's user namespace or below it */
};

/* Below this a PID is below every pid_max: the sysctl's minimum, RESERVED_PIDS + 1. */
#define PT_PID_MAX_MIN 301

static bool needs_pid_max(const struct pidtuple *t)
{
	if (!t)
		return true;
	for (unsigned int i = 0; i < t->n; i++)
		if (t->pid[i] >= PT_PID_MAX_MIN)
			return true;
	return false;
}

/* With @t, pid_max is read only when one of its PIDs could reach it. */
static int caller_read(struct pidtuple_nsctx *ctx, struct caller *c, const struct pidtuple *t)
{
	int r = pt_sys_cap_effective(&ctx->cap_eff);

	if (r < 0)
		return r;
	c->pid_max = INT_MAX;
	if (needs_pid_max(t)) {
		r = pt_read_pid_max(&c->pid_max);
		if (r < 0)
			return r;
	}
	r = pt_proc_self_ns_ino("user", &c->userns_ino);
	if (r < 0)
		return r;
	r = self_ns_get(&c->active_ino, &c->owner_ino);
	if (r < 0)
		return r;
	/* A PID namespace's owner lies at or below its parent's (create_pid_namespace()), so
	 * every visible level's owner lies at or below the active namespace's. */
	c->below_own = c->owner_ino == c->userns_ino;
	return 0;
}

static int level_userns(int nsfd)
{
	int fd, userns;

	if (nsfd >= 0)
		return pt_ns_get_userns(nsfd);
	fd = pt_proc_ns_open(-1, 0, "pid"); /* the caller's level, seen without opening it */
	if (fd < 0)
		return fd;
	userns = pt_ns_get_userns(fd);
	pt_close(fd);
	return userns;
}

/*
 * The capability flags of a level. Over the caller's own user namespace its effective set
 * holds; over one below it, at least that set (all of them in a child it owns by euid), which
 * sets the same flags when the set has both capabilities. Else cap_capable() is replayed from
 * the level's owner.
 */
static uint64_t level_caps_flags(const struct pidtuple_nsctx *ctx, const struct caller *c, int nsfd,
				 bool own_level)
{
	uint64_t f = 0;
	int userns;

	if (c->below_own && (own_level || (ctx->cap_eff & PT_CAPS_PIN) == PT_CAPS_PIN))
		return pt_caps_level_flags(ctx->cap_eff);
	userns = level_userns(nsfd);
	if (userns >= 0) {
		f = pt_caps_level_flags(pt_caps_over(userns, c->userns_ino, ctx->cap_eff));
		pt_close(userns);
	}
	return f;
}

/* A level no process lives in yet: the namespace the fork creates, or one the caller unshared
 * that has no init. Its pid_max is the start value of a new namespace. */
static struct pt_level *add_unborn(struct pidtuple_nsctx *ctx, const struct caller *c,
				   uint64_t features, uint64_t caps)
{
	struct pt_level *lv = &ctx->levels[ctx->n++];

	*lv = (struct pt_level){
		.nsfd = -1,
		.flags = PIDTUPLE_LEVEL_PID_MAX_EXACT | pt_caps_level_flags(caps),
		.pid_max =
			features & PIDTUPLE_FEATURE_PER_NS_PID_MAX ? PT_PID_MAX_LIMIT : c->pid_max,
	};
	return lv;
}

/* The level of namespace @nsfd (the context takes it over; -1 for the caller's own, not
 * opened), inode @ino. */
static void add_seen(struct pidtuple_nsctx *ctx, const struct caller *c, uint64_t features,
		     int nsfd, uint64_t ino)
{
	struct pt_level *lv = &ctx->levels[ctx->n++];
	bool own = ino == c->active_ino;

	*lv = (struct pt_level){ .nsfd = nsfd, .ns_id = ino };
	if (own) {
		lv->flags |= PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_PID_MAX_EXACT;
		lv->pid_max = c->pid_max;
	} else if (features & PIDTUPLE_FEATURE_PER_NS_PID_MAX) {
		/* Not readable from outside: assume a new namespace's start value. */
		lv->pid_max = PT_PID_MAX_LIMIT;
	} else {
		lv->flags |= PIDTUPLE_LEVEL_PID_MAX_EXACT; /* one global pid_max */
		lv->pid_max = c->pid_max;
	}
	lv->flags |= level_caps_flags(ctx, c, nsfd, own);
}

/* Adds the levels from namespace @cur (taken over) up to the caller's active one, or until
 * there are @limit, asking the kernel. */
static int walk_rest(struct pidtuple_nsctx *ctx, const struct caller *c, uint64_t features, int cur,
		     unsigned int limit)
{
	for (;;) {
		uint64_t ino = pt_fd_ino(cur);
		int parent;

		if (ctx->n == PIDTUPLE_MAX_LEVELS + 1 || !ino) {
			pt_close(cur);
			return ino ? -ELOOP : -EIO;
		}
		add_seen(ctx, c, features, cur, ino);
		if (ino == c->active_ino && ctx->n > 1 && ctx->levels[ctx->n - 2].nsfd >= 0)
			remember_child(ctx->levels[ctx->n - 2].nsfd);
		if (ino == c->active_ino || ctx->n >= limit)
			return 0;
		if (ctx->n <= PIDTUPLE_MAX_LEVELS && known_child(cur)) {
			/* The caller's own level, without opening it. */
			add_seen(ctx, c, features, -1, c->active_ino);
			return 0;
		}
		parent = pt_ns_get_parent(cur);
		if (parent < 0)
			return parent;
		cur = parent;
	}
}

/*
 * The same from a record of an earlier walk: the levels below the caller's it names are opened
 * (NS_GET_PARENT: the taken checks need them) but neither stat'ed nor looked up again, and the
 * caller's own is not opened. 1 when done, 0 with *@cur the next namespace to walk from (the
 * record was cut short), -errno.
 */
static int walk_known(struct pidtuple_nsctx *ctx, const struct caller *c, uint64_t features,
		      int *cur, const uint64_t *ino, unsigned int n, bool ends, unsigned int limit)
{
	for (unsigned int i = 0; i < n; i++) {
		if (i > 0 && ino[i] == c->active_ino)
			break; /* the caller's own level, below, without opening it */
		if (i > 0) {
			int parent = pt_ns_get_parent(*cur);

			if (parent < 0)
				return parent;
			*cur = parent;
		}
		if (ctx->n == PIDTUPLE_MAX_LEVELS + 1) {
			pt_close(*cur);
			return -ELOOP;
		}
		add_seen(ctx, c, features, *cur, ino[i]);
		if (ino[i] == c->active_ino || ctx->n >= limit)
			return 1;
	}
	if (ends && ctx->n <= PIDTUPLE_MAX_LEVELS) {
		/* Ends with the active namespace, and the loop did not add it (it would have
		 * returned): its level, not opened. */
		add_seen(ctx, c, features, -1, c->active_ino);
		return 1;
	}
	*cur = pt_ns_get_parent(*cur);
	return *cur < 0 ? *cur : 0;
}

/* Adds the levels from the child's namespace @cur (taken over) up to the caller's active
 * one, or until there are @limit: what a record of its id tells, then the rest. */
static int walk_up(struct pidtuple_nsctx *ctx, const struct caller *c, uint64_t features, int cur,
		   unsigned int limit)
{
	struct self_ns *page = atomic_load(&self_page);
	uint64_t id = ns_id(page, cur), ino[PIDTUPLE_MAX_LEVELS + 1];
	unsigned int first = ctx->n, n;
	bool ends;
	int r = 0;

	if (id && chain_get(page, id, ino, &n, &ends))
		r = walk_known(ctx, c, features, &cur, ino, n, ends, limit);
	if (r != 0)
		return r < 0 ? r : 0;
	r = walk_rest(ctx, c, features, cur, limit);
	if (r == 0 && id)
		chain_put(page, id, ctx, first);
	return r;
}

/* Absolute level of levels[0], -1 when it cannot be told. Costs a walk of /proc. */
static int child_abs_level(const struct pidtuple_nsctx *ctx, uint64_t active_ino)
{
	int above = pt_proc_levels_above();
	int abs = caller_abs_level(active_ino, above < 0 ? 0 : above);

	return abs < 0 ? -1 : abs + (int)ctx->n - 1;
}

/*
 * Opens pid_for_children. With @peek its inode is read first, and nothing is opened when
 * children are born in the caller's own namespace (*here, -1 returned). Before 7.1 the link of
 * a namespace without init cannot be opened (ENOENT): the caller unshared a new one and no
 * child has become its init yet.
 */
static int children_ns_open(const struct caller *c, bool peek, bool *here)
{
	uint64_t ino;
	int r;

	*here = false;
	if (peek) {
		r = pt_proc_self_ns_ino("pid_for_children", &ino);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && ino == c->active_ino) {
			*here = true;
			return -1;
		}
	}
	return pt_proc_ns_open(-1, 0, "pid_for_children");
}

/* With @t, only what checking it needs: no more levels than it has (unless the absolute depth
 * is wanted), pid_max only when it matters. */
static int ctx_fill(struct pidtuple_nsctx *ctx, const struct pidtuple *t, bool want_abs)
{
	uint64_t features = pt_features_cached();
	bool newpid = ctx->opts.clone_flags & PT_CLONE_NEWPID, here;
	unsigned int limit = t && !want_abs ? t->n : PIDTUPLE_MAX_LEVELS + 1;
	struct caller c;
	int cur, r;

	r = caller_read(ctx, &c, t);
	if (r < 0)
		return r;
	cur = children_ns_open(&c, t && t->n <= 1u + newpid, &here);
	if (cur < 0 && cur != -ENOENT && !here)
		return cur;
	if (newpid) {
		uint64_t caps = ctx->opts.clone_flags & PT_CLONE_NEWUSER ? ~0ull : ctx->cap_eff;

		add_unborn(ctx, &c, features, caps)->flags |= PIDTUPLE_LEVEL_NEW;
		ctx->newpid_unshared = !here && (cur < 0 || pt_fd_ino(cur) != c.active_ino);
	}
	if (here) {
		add_seen(ctx, &c, features, -1, c.active_ino);
	} else {
		if (cur == -ENOENT) {
			add_unborn(ctx, &c, features, ctx->cap_eff);
			cur = pt_proc_ns_open(-1, 0, "pid");
		}
		r = cur < 0 ? cur : walk_up(ctx, &c, features, cur, limit);
	}
	if (r < 0) {
		ctx_close(ctx);
		return r;
	}
	ctx->abs_level = want_abs ? child_abs_level(ctx, c.active_ino) : -1;
	return 0;
}

int pt_nsctx_init(struct pidtuple_nsctx *ctx, const struct pt_fork_opts *o, bool want_abs)
{
	return pt_nsctx_init_for(ctx, o, NULL, want_abs);
}

int pt_nsctx_init_for(struct pidtuple_nsctx *ctx, const struct pt_fork_opts *o,
		      const struct pidtuple *t, bool want_abs)
{
	*ctx = (struct pidtuple_nsctx){ .opts = *o, .abs_level = -1 };
	return ctx_fill(ctx, t, want_abs);
}

void pt_nsctx_fini(struct pidtuple_nsctx *ctx)
{
	ctx_close(ctx);
}

PT_PUBLIC int pidtuple_nsctx_new(const struct pidtuple_fork_opts *opts,
				 struct pidtuple_nsctx **ret_ctx)
{
	struct pt_fork_opts o;
	struct pidtuple_nsctx *ctx;
	struct pt_join j;
	int r;

	pt_return_if(!ret_ctx, -EINVAL);
	r = pt_fork_opts_get(opts, &o);
	if (r < 0)
		return r;
	ctx = pt_malloc(sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	r = pt_join_enter(&o, 0, &j);
	if (r == 0) {
		r = pt_nsctx_init(ctx, &o, true);
		pt_join_leave(&j);
	}
	if (r < 0) {
		free(ctx);
		return r;
	}
	*ret_ctx = ctx;
	return 0;
}

PT_PUBLIC int pidtuple_nsctx_levels(const struct pidtuple_nsctx *ctx)
{
	pt_return_if(!ctx, -EINVAL);
	return (int)ctx->n;
}

/* The privilege flags over the owner of the PID namespace @nsfd, from the caller's effective
 * set; -errno when they cannot be told. */
static int64_t ns_caps_flags(int nsfd, uint64_t cap_eff)
{
	int userns = pt_ns_get_userns(nsfd), r;
	uint64_t own_ino, caps;

	if (userns == -EPERM)
		return 0; /* owned above the caller's user namespace: no capability over it */
	if (userns < 0)
		return userns;
	r = pt_proc_self_ns_ino("user", &own_ino);
	caps = r == 0 ? pt_caps_over(userns, own_ino, cap_eff) : 0;
	pt_close(userns);
	return r < 0 ? r : (int64_t)pt_caps_level_flags(caps);
}

/* The privilege flags over /proc's namespace, above the caller's; -errno when not to be told. */
static int64_t proc_level_caps(const struct pidtuple_nsctx *ctx, uint64_t *ret_ino)
{
	uint64_t userns_ino;
	pid_t anc;
	int64_t flags;
	int fd, r = pt_proc_self_ns_ino("user", &userns_ino);

	if (r < 0)
		return r;
	/* From the initial user namespace the effective set holds over every owner. */
	if (userns_ino == PT_INIT_USER_NS_INO)
		return (int64_t)pt_caps_level_flags(ctx->cap_eff);
	/* Else that namespace's owner, through an ancestor living in it (opening /proc/1's is
	 * refused from a namespace below it), or its init. */
	anc = proc_level_ancestor();
	fd = pt_proc_ns_open(-1, anc > 0 ? anc : 1, "pid");
	if (fd < 0)
		return fd;
	*ret_ino = pt_fd_ino(fd);
	flags = ns_caps_flags(fd, ctx->cap_eff);
	pt_close(fd);
	return flags;
}

int pt_nsctx_proc_level(const struct pidtuple_nsctx *ctx, struct pt_level *lv)
{
	int above = pt_proc_levels_above();
	uint64_t ino = 0;
	int64_t flags;

	if (above <= 0)
		return above == -ENOENT ? 0 : above;
	flags = proc_level_caps(ctx, &ino);
	if (flags < 0)
		return 0; /* not ours to tell (ptrace rules): the kernel decides there */
	*lv = (struct pt_level){
		.nsfd = -1, .ns_id = ino, .flags = (uint64_t)flags, .via_proc = true
	};
	if (pt_features_cached() & PIDTUPLE_FEATURE_PER_NS_PID_MAX) {
		/* /proc/sys/kernel/pid_max shows the caller's namespace's own, whatever the
		 * mount: the one above is not readable from here. Its bound, as for the levels
		 * below the caller. */
		lv->pid_max = PT_PID_MAX_LIMIT;
	} else {
		int r = pt_read_pid_max(&lv->pid_max); /* one global pid_max */

		if (r < 0)
			return r;
		lv->flags |= PIDTUPLE_LEVEL_PID_MAX_EXACT;
	}
	return above;
}

static uint64_t init_by_scan(const struct pt_level *lv);

/*
 * 1 when the task the caller numbers @pid (an init) has exited as a whole, 0 when it runs,
 * -errno. A robust futex list still registered (the C library's, from process start and after
 * fork) shows its leader has not reached exit_mm(), which unregisters it, let alone become a
 * zombie: one call instead of a pidfd made, polled and freed. No list (none registered, or it
 * exited) and a refusal (ptrace access, a filter) leave it to the pidfd poll; a refusal is not
 * asked again in this process, so an LSM logs it once.
 */
static int init_exited(pid_t pid)
{
	struct self_ns *c = atomic_load(&self_page);
	uintptr_t head = 0;
	int r;

	if (c && !atomic_load_explicit(&c->no_robust_list, memory_order_relaxed)) {
		r = pt_get_robust_list(pid, &head);
		if (r == 0 && head)
			return 0;
		if (r == -EPERM || r == -ENOSYS || r == -EACCES)
			atomic_store_explicit(&c->no_robust_list, true, memory_order_relaxed);
	}
	return pt_pid_exited(pid);
}

uint64_t pt_level_init_state(const struct pt_level *lv, bool scan)
{
	int r;

	if (lv->flags & PIDTUPLE_LEVEL_CALLER)
		return PIDTUPLE_LEVEL_HAS_INIT; /* the caller lives there */
	if (lv->via_proc)
		return PIDTUPLE_LEVEL_HAS_INIT; /* the caller lives below it */
	if (lv->nsfd < 0)
		return 0; /* created by this fork, or unshared and still without init */
	if (!(pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS))
		return scan ? init_by_scan(lv) : PIDTUPLE_LEVEL_INIT_UNKNOWN;
	r = pt_ns_pid_from_pidns(lv->nsfd, 1);
	if (r > 0)
		/* An init that exited but was not reaped is still found, yet the namespace
		 * already refuses new processes (ENOMEM). */
		return init_exited(r) == 1 ? PIDTUPLE_LEVEL_INIT_DEAD : PIDTUPLE_LEVEL_HAS_INIT;
	/* ENOTTY means "not found" on 6.12+ kernels without the nsfs fix. */
	if (r == -ESRCH || r == -ENOTTY)
		return PIDTUPLE_LEVEL_INIT_DEAD;
	return PIDTUPLE_LEVEL_INIT_UNKNOWN;
}

int pt_active_pid_taken(pid_t pid)
{
	/* A task, a zombie, a thread or a process group holds the number. */
	int r = pt_sys_kill(pid, 0);

	if (r == 0 || r == -EPERM)
		return 1;
	if (r != -ESRCH)
		return r; /* cannot tell */
	r = pt_sys_kill(-pid, 0);
	if (r == 0 || r == -EPERM)
		return 1;
	return r == -ESRCH ? 0 : r;
}

/* At /proc's level: /proc/PID names a task or a thread there (a thread's is found though not
 * listed), a zombie too. A number not found is free only when /proc hides nobody from us. */
static int proc_pid_taken(pid_t pid)
{
	pid_t ppid;
	char state;
	int r = pt_proc_state(-1, pid, &state, &ppid);

	if (r == 0)
		return 1;
	if (r != -ENOENT && r != -ESRCH)
		return r;
	return pt_caps_see_all() ? 0 : -EACCES;
}

int pt_level_pid_taken(const struct pt_level *lv, pid_t pid)
{
	int r;

	if (lv->flags & PIDTUPLE_LEVEL_CALLER)
		return pt_active_pid_taken(pid);
	if (lv->via_proc)
		return proc_pid_taken(pid);
	if (lv->nsfd < 0)
		return 0; /* nothing lives in a namespace without init */
	if (!(pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS))
		return -EOPNOTSUPP;
	r = pt_ns_pid_from_pidns(lv->nsfd, pid);
	if (r > 0)
		return 1;
	if (r == -ESRCH || r == -ENOTTY)
		return 0;
	return r;
}

/*
 * Walks the level's namespace for a process group or session numbered @pid whose leader is
 * gone (no task has the number, but the kernel still holds it), and, where the nsfs ioctls
 * are missing, for a task with that number. Costs a scan of the namespace.
 */
static int held_by_scan(const struct pt_level *lv, pid_t pid, bool tasks)
{
	struct pidtuple_scan_opts so = { .sz = sizeof(so) };
	struct pidtuple_scan_entry e = { .sz = sizeof(e) };
	struct pidtuple_scan *scan;
	int r;

	if (!(lv->flags & PIDTUPLE_LEVEL_CALLER)) {
		so.flags = PIDTUPLE_SCAN_NS_FD;
		so.ns_fd = lv->nsfd;
	}
	if (tasks)
		so.flags |= PIDTUPLE_SCAN_THREADS;
	r = pidtuple_scan_new(&so, &scan);
	if (r < 0)
		return r;
	while ((r = pidtuple_scan_next(scan, &e)) > 0)
		if (e.pgid == pid || e.sid == pid || (tasks && e.tid == pid)) {
			r = 1;
			break;
		}
	pidtuple_scan_free(scan);
	return r;
}

/* At /proc's level: a process group or session numbered @pid there, its leader gone, seen in
 * the first NSpgid and NSsid fields (/proc's numbering) of the processes /proc lists. */
static int proc_group_held(pid_t pid)
{
	struct pt_dir d;
	struct pt_status st;
	pid_t p;
	int r = pt_dir_open_proc(&d);

	if (r < 0)
		return r;
	while ((r = pt_dir_next_pid(&d, &p)) > 0) {
		if (pt_proc_status(d.fd, p, 0, &st) < 0)
			continue; /* gone meanwhile */
		if ((st.n[PT_NSPGID] > 0 && st.ids[PT_NSPGID][0] == pid) ||
		    (st.n[PT_NSSID] > 0 && st.ids[PT_NSSID][0] == pid)) {
			r = 1;
			break;
		}
	}
	pt_dir_close(&d);
	return r;
}

int pt_level_pid_held(const struct pt_level *lv, pid_t pid, bool scan)
{
	int r = pt_level_pid_taken(lv, pid);

	if (lv->via_proc)
		return scan && r == 0 ? proc_group_held(pid) : r;
	if (!scan || (r != 0 && r != -EOPNOTSUPP) ||
	    (lv->nsfd < 0 && !(lv->flags & PIDTUPLE_LEVEL_CALLER)))
		return r;
	if (r == -EOPNOTSUPP && !pt_caps_see_all())
		return r; /* the walk would not see other users' processes: cannot tell */
	return held_by_scan(lv, pid, r == -EOPNOTSUPP);
}

/* The parent @ppid of /proc's numbering in the caller's, @above levels further in; 0 when it
 * lives outside the caller's namespace. */
static pid_t caller_pid_of(pid_t ppid, int above)
{
	struct pt_status st;

	if (above == 0 || ppid <= 0)
		return ppid;
	if (pt_proc_status(-1, ppid, 0, &st) < 0 || st.n[PT_NSPID] <= above)
		return 0;
	return st.ids[PT_NSPID][above];
}

/* 1 when the task the caller numbers @pid exited as a whole but is not reaped, with its state
 * letter and its parent (caller's numbering, 0 when outside); else 0 or -errno. */
static int exited_holder(pid_t pid, char *ret_state, pid_t *ret_ppid)
{
	int above = pt_proc_levels_above(), fd, r;
	struct pt_status st;

	if (above < 0)
		return above;
	fd = pt_sys_pidfd_open(pid, 0);
	if (fd < 0)
		return fd;
	/* Readable once the whole task exited: a leader whose threads still run lives. */
	r = pt_poll_in(fd);
	/* Its number in /proc's namespace, which may be an outer one. */
	if (r == 1)
		r = pt_read_pidfd_fdinfo(fd, &st);
	else if (r == 0)
		r = -EAGAIN; /* it runs */
	pt_close(fd);
	if (r == 0)
		r = pt_proc_state(-1, st.pid, ret_state, ret_ppid);
	if (r < 0)
		return r == -EAGAIN ? 0 : r;
	*ret_ppid = caller_pid_of(*ret_ppid, above);
	return 1;
}

/* exited_holder() for the task /proc numbers @proc_pid, which the caller may not see: 1 when
 * it exited as a whole but is not reaped, with its state letter and its parent (the caller's
 * numbering, 0 when outside its namespace); else 0 or -errno. */
static int proc_exited_holder(pid_t proc_pid, char *ret_state, pid_t *ret_ppid)
{
	int above = pt_proc_levels_above(), r;
	struct pt_dir d;
	pid_t tid;

	if (above < 0)
		return above;
	r = pt_proc_state(-1, proc_pid, ret_state, ret_ppid);
	if (r < 0 || (*ret_state != 'Z' && *ret_state != 'X'))
		return r < 0 ? r : 0;
	/* A leader whose threads still run shows 'Z' too: it lives. */
	r = pt_dir_open_tasks(&d, -1, proc_pid);
	while (r >= 0 && (r = pt_dir_next_pid(&d, &tid)) > 0 && tid == proc_pid)
		;
	if (d.fd >= 0)
		pt_dir_close(&d);
	if (r != 0 && r != -ENOENT)
		return r > 0 ? 0 : r;
	*ret_ppid = caller_pid_of(*ret_ppid, above);
	return 1;
}

static void holder_words(int exited, char state, pid_t ppid, char *buf, size_t size)
{
	if (exited != 1)
		return;
	/* 'X', or another letter while do_exit() runs: dying, gone in a moment once reaped. */
	if (ppid > 0)
		snprintf(buf, size,
			 ": %s of %d, " PT_HOLDER_NOT_REAPED " (its parent has not waited for it)",
			 state == 'Z' ? "a zombie" : "a dying child", (int)ppid);
	else
		snprintf(buf, size,
			 ": %s, " PT_HOLDER_NOT_REAPED " (its parent is outside this namespace)",
			 state == 'Z' ? "a zombie" : "a dying process");
}

void pt_ns_holder_note(int nsfd, pid_t pid, char *buf, size_t size)
{
	pid_t ppid = 0, own;
	char state = '?';

	buf[0] = '\0';
	if (nsfd < 0 || !(pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS))
		return;
	/* The holder's number in the caller's namespace, which the pidfd needs. */
	own = pt_ns_pid_from_pidns(nsfd, pid);
	if (own > 0) {
		int exited = exited_holder(own, &state, &ppid);

		holder_words(exited, state, ppid, buf, size);
	}
}

void pt_level_holder_note(const struct pt_level *lv, pid_t pid, char *buf, size_t size)
{
	pid_t ppid = 0;
	char state = '?';
	int exited;

	buf[0] = '\0';
	/* Below the caller the number is first translated into the caller's. */
	if (!(lv->flags & PIDTUPLE_LEVEL_CALLER) && !lv->via_proc) {
		pt_ns_holder_note(lv->nsfd, pid, buf, size);
		return;
	}
	exited = lv->via_proc ? proc_exited_holder(pid, &state, &ppid)
			      : exited_holder(pid, &state, &ppid);
	holder_words(exited, state, ppid, buf, size);
}

/*
 * Without the nsfs ioctls: walks the caller's namespace for the processes of the level's one.
 * Its PID 1 alive: an init; exited or missing among visible members: dead; no member seen
 * (none left, or none we may look at): unknown, the kernel decides.
 */
static uint64_t init_by_scan(const struct pt_level *lv)
{
	struct pidtuple_scan_opts so = { .sz = sizeof(so) };
	struct pidtuple_scan_entry e = { .sz = sizeof(e) };
	struct pidtuple_scan *scan;
	uint64_t state = PIDTUPLE_LEVEL_INIT_UNKNOWN;
	int r = pidtuple_scan_new(&so, &scan);

	if (r < 0)
		return PIDTUPLE_LEVEL_INIT_UNKNOWN;
	while ((r = pidtuple_scan_next(scan, &e)) > 0) {
		if (e.ns_id != lv->ns_id)
			continue;
		state = PIDTUPLE_LEVEL_INIT_DEAD;
		if (pidtuple_get(e.tuple, 0) == 1) {
			state = pt_pid_exited(e.pid) == 1 ? PIDTUPLE_LEVEL_INIT_DEAD
							  : PIDTUPLE_LEVEL_HAS_INIT;
			break;
		}
	}
	pidtuple_scan_free(scan);
	if (r < 0)
		return PIDTUPLE_LEVEL_INIT_UNKNOWN;
	if (state == PIDTUPLE_LEVEL_INIT_UNKNOWN && pt_caps_see_all())
		state = PIDTUPLE_LEVEL_INIT_DEAD; /* nobody is left in it: it is gone */
	return state;
}

PT_PUBLIC int pidtuple_nsctx_level(const struct pidtuple_nsctx *ctx, unsigned int inner_index,
				   struct pidtuple_level_info *info)
{
	const struct pt_level *lv;
	struct pidtuple_level_info out;

	pt_return_if(!ctx || !info || info->sz < sizeof(size_t), -EINVAL);
	pt_return_if(inner_index >= ctx->n, -ERANGE);
	lv = &ctx->levels[inner_index];
	out = (struct pidtuple_level_info){
		.flags = lv->flags |
			 pt_level_init_state(lv, ctx->opts.flags & PIDTUPLE_FORK_CHECK_SCAN),
		.pid_max = lv->pid_max,
		.abs_level = ctx->abs_level < 0 ? -1 : ctx->abs_level - (int)inner_index,
		.ns_id = lv->ns_id,
	};
	PT_OPTS_COPY_OUT(info, &out, flags, pid_max, abs_level, ns_id);
	return 0;
}

PT_PUBLIC void pidtuple_nsctx_free(struct pidtuple_nsctx *ctx)
{
	if (!ctx)
		return;
	ctx_close(ctx);
	free(ctx);
}
