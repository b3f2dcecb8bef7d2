/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Namespace context: the levels the next fork can pin, as the caller sees them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "forkopts.h"
#include "lib.h"
#include "nsctx.h"
#include "opts.h"
#include "probe.h"
#include "proc.h"
#include "syscall_shim.h"

static int self_ns_ino(const char *ns, uint64_t *ret)
{
	struct stat st;
	int r = pt_proc_ns_stat(-1, 0, ns, &st);

	if (r == 0)
		*ret = (uint64_t)st.st_ino;
	return r;
}

/*
 * Absolute level of the caller's active namespace, when /proc belongs to the host: found by
 * walking up the parent chain to a process /proc shows at its own level and comparing that
 * namespace with the initial one. -1 when it cannot be told.
 */
static int caller_abs_level(uint64_t active_ino, int above)
{
	pid_t pid = 0; /* the caller, then its ancestors */

	if (active_ino == PT_INIT_PID_NS_INO)
		return 0;
	if (above == 0)
		return -1; /* /proc is the caller's own: the levels above are hidden */
	for (int hops = 0; hops < 64; hops++) {
		struct pt_status st, parent;
		int fd, n;

		if (pt_proc_status(-1, pid, 0, &st) < 0 || !st.has_ppid || st.ppid <= 0)
			return -1;
		if (pt_proc_status(-1, st.ppid, 0, &parent) < 0 || parent.n[PT_NSPID] < 0)
			return -1;
		if (parent.n[PT_NSPID] == 1) {
			fd = pt_proc_ns_open(-1, st.ppid, "pid");
			if (fd < 0)
				return -1;
			n = pt_fd_ino(fd) == PT_INIT_PID_NS_INO ? above : -1;
			pt_close(fd);
			return n;
		}
		pid = st.ppid;
	}
	return -1;
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
	int pid_max;
};

static int caller_read(struct pidtuple_nsctx *ctx, struct caller *c)
{
	int r = pt_sys_cap_effective(&ctx->cap_eff);

	if (r < 0)
		return r;
	r = pt_read_pid_max(&c->pid_max);
	if (r < 0)
		return r;
	/* Only inode numbers are needed here: stat() costs less than open + fstat + close. */
	r = self_ns_ino("user", &c->userns_ino);
	if (r < 0)
		return r;
	return self_ns_ino("pid", &c->active_ino);
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

/* The level of namespace @nsfd (the context takes it over), inode @ino. */
static void add_seen(struct pidtuple_nsctx *ctx, const struct caller *c, uint64_t features,
		     int nsfd, uint64_t ino)
{
	struct pt_level *lv = &ctx->levels[ctx->n++];
	int userns;

	*lv = (struct pt_level){ .nsfd = nsfd, .ns_id = ino };
	if (ino == c->active_ino) {
		lv->flags |= PIDTUPLE_LEVEL_CALLER | PIDTUPLE_LEVEL_PID_MAX_EXACT;
		lv->pid_max = c->pid_max;
	} else if (features & PIDTUPLE_FEATURE_PER_NS_PID_MAX) {
		/* Not readable from outside: assume a new namespace's start value. */
		lv->pid_max = PT_PID_MAX_LIMIT;
	} else {
		lv->flags |= PIDTUPLE_LEVEL_PID_MAX_EXACT; /* one global pid_max */
		lv->pid_max = c->pid_max;
	}
	userns = pt_ns_get_userns(nsfd);
	if (userns >= 0) {
		lv->flags |= pt_caps_level_flags(pt_caps_over(userns, c->userns_ino, ctx->cap_eff));
		pt_close(userns);
	}
}

/* Adds the levels from the child's namespace @cur (taken over) up to the caller's active
 * one. */
static int walk_up(struct pidtuple_nsctx *ctx, const struct caller *c, uint64_t features, int cur)
{
	for (;;) {
		uint64_t ino = pt_fd_ino(cur);
		int parent;

		if (ctx->n == PIDTUPLE_MAX_LEVELS + 1) {
			pt_close(cur);
			return -ELOOP;
		}
		add_seen(ctx, c, features, cur, ino);
		if (ino == c->active_ino)
			return 0;
		parent = pt_ns_get_parent(cur);
		if (parent < 0)
			return parent;
		cur = parent;
	}
}

/* Absolute level of levels[0], -1 when it cannot be told. Costs a walk of /proc. */
static int child_abs_level(const struct pidtuple_nsctx *ctx, uint64_t active_ino)
{
	int above = pt_proc_levels_above();
	int abs = caller_abs_level(active_ino, above < 0 ? 0 : above);

	return abs < 0 ? -1 : abs + (int)ctx->n - 1;
}

static int ctx_fill(struct pidtuple_nsctx *ctx, bool want_abs)
{
	uint64_t features = pt_features_cached();
	struct caller c;
	int cur, r;

	r = caller_read(ctx, &c);
	if (r < 0)
		return r;
	/* Before 7.1 the link of a namespace without init cannot be opened (ENOENT): the caller
	 * unshared a new one and no child has become its init yet. */
	cur = pt_proc_ns_open(-1, 0, "pid_for_children");
	if (cur < 0 && cur != -ENOENT)
		return cur;
	if (ctx->opts.clone_flags & PT_CLONE_NEWPID) {
		uint64_t caps = ctx->opts.clone_flags & PT_CLONE_NEWUSER ? ~0ull : ctx->cap_eff;

		add_unborn(ctx, &c, features, caps)->flags |= PIDTUPLE_LEVEL_NEW;
		ctx->newpid_unshared = cur < 0 || pt_fd_ino(cur) != c.active_ino;
	}
	if (cur == -ENOENT) {
		add_unborn(ctx, &c, features, ctx->cap_eff);
		cur = pt_proc_ns_open(-1, 0, "pid");
	}
	r = cur < 0 ? cur : walk_up(ctx, &c, features, cur);
	if (r < 0) {
		ctx_close(ctx);
		return r;
	}
	ctx->abs_level = want_abs ? child_abs_level(ctx, c.active_ino) : -1;
	return 0;
}

int pt_nsctx_init(struct pidtuple_nsctx *ctx, const struct pt_fork_opts *o, bool want_abs)
{
	*ctx = (struct pidtuple_nsctx){ .opts = *o, .abs_level = -1 };
	return ctx_fill(ctx, want_abs);
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
	int r;

	pt_return_if(!ret_ctx, -EINVAL);
	r = pt_fork_opts_get(opts, &o);
	if (r < 0)
		return r;
	ctx = pt_malloc(sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	r = pt_nsctx_init(ctx, &o, true);
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

static uint64_t init_by_scan(const struct pt_level *lv);

uint64_t pt_level_init_state(const struct pt_level *lv, bool scan)
{
	int r;

	if (lv->nsfd < 0)
		return 0; /* created by this fork, or unshared and still without init */
	if (lv->flags & PIDTUPLE_LEVEL_CALLER)
		return PIDTUPLE_LEVEL_HAS_INIT; /* the caller lives there */
	if (!(pt_features_cached() & PIDTUPLE_FEATURE_NS_PID_IOCTLS))
		return scan ? init_by_scan(lv) : PIDTUPLE_LEVEL_INIT_UNKNOWN;
	r = pt_ns_pid_from_pidns(lv->nsfd, 1);
	if (r > 0)
		/* An init that exited but was not reaped is still found, yet the namespace
		 * already refuses new processes (ENOMEM). */
		return pt_pid_exited(r) == 1 ? PIDTUPLE_LEVEL_INIT_DEAD : PIDTUPLE_LEVEL_HAS_INIT;
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

int pt_level_pid_taken(const struct pt_level *lv, pid_t pid)
{
	int r;

	if (lv->nsfd < 0)
		return 0; /* nothing lives in a namespace without init */
	if (lv->flags & PIDTUPLE_LEVEL_CALLER)
		return pt_active_pid_taken(pid);
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

int pt_level_pid_held(const struct pt_level *lv, pid_t pid, bool scan)
{
	int r = pt_level_pid_taken(lv, pid);

	if (!scan || (r != 0 && r != -EOPNOTSUPP) || lv->nsfd < 0)
		return r;
	if (r == -EOPNOTSUPP && !pt_caps_see_all())
		return r; /* the walk would not see other users' processes: cannot tell */
	return held_by_scan(lv, pid, r == -EOPNOTSUPP);
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
