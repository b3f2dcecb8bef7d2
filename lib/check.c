/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The validator: every kernel rule of set_tid and of the accepted flags, checked in the
 * caller's real context before anything is created. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "caps.h"
#include "diag.h"
#include "forkopts.h"
#include "join.h"
#include "lib.h"
#include "nsctx.h"
#include "syscall_shim.h"
#include "tuple.h"
#include "validator.h"

#define NS_NEEDS_SYS_ADMIN (PIDTUPLE_CLONE_NS_FLAGS & ~PT_CLONE_NEWUSER)
#define PT_NSIG 64 /* the kernel's _NSIG: valid_signal() accepts 0..64 */

/* Checks that need no context: the fork path runs these on every call. */
int pt_check_static(const struct pidtuple *t, const struct pt_fork_opts *o,
		    struct pidtuple_diag *diag)
{
	uint64_t bad;

	if (!t)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_LEVEL_COUNT, -1, 0, 0,
			       "no tuple given");
	bad = o->flags & ~(uint64_t)PIDTUPLE_FORK_ALL_FLAGS;
	if (bad)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_FLAGS, -1, t->n, 0,
			       "options: unknown flag bits 0x%llx", (unsigned long long)bad);
	bad = o->clone_flags & ~(uint64_t)PIDTUPLE_CLONE_NS_FLAGS;
	if (bad)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_FLAGS, -1, t->n, 0,
			       "clone flags 0x%llx are not supported (only CLONE_NEW* "
			       "namespace flags are)",
			       (unsigned long long)bad);
	if (o->exit_signal < 0 || o->exit_signal > PT_NSIG)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_EXIT_SIGNAL, -1, t->n, 0,
			       "exit signal %d is not a valid signal (0..%d)", o->exit_signal,
			       PT_NSIG);
	if ((o->flags & PIDTUPLE_FORK_INTO_CGROUP) && o->cgroup_fd < 0)
		return pt_diag(diag, -EBADF, PIDTUPLE_RULE_CGROUP, -1, t->n, 0,
			       "cgroup fd %d is not a file descriptor", o->cgroup_fd);
	for (unsigned int i = 0; i < t->n; i++)
		if (t->pid[i] < 1) /* 0 marks a level where a group or session is not visible */
			return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_PID_RANGE, (int)i, t->n,
				       t->pid[i],
				       "%d (NSpid field %u of %u) is not a PID that can be pinned: "
				       "PIDs start at 1",
				       (int)t->pid[i], t->n - i, t->n);
	if ((o->clone_flags & PT_CLONE_NEWPID) && t->pid[0] != 1)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_NEWPID_ONE, 0, t->n, t->pid[0],
			       "with CLONE_NEWPID the child is the new namespace's init, so its "
			       "innermost PID (NSpid field %u of %u) must be 1, not %d",
			       t->n, t->n, (int)t->pid[0]);
	return 0;
}

/* What the options ask of the caller's context: a new PID namespace where one can be had, and
 * the privilege to create namespaces. */
static int check_ns_flags(const struct pidtuple_nsctx *ctx, const struct pidtuple *t,
			  struct pidtuple_diag *diag)
{
	const struct pt_fork_opts *o = &ctx->opts;
	unsigned int n = t->n;

	if (ctx->newpid_unshared)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_NEWPID_UNSHARED, -1, n, 0,
			       "CLONE_NEWPID is refused after setns() or unshare() of the PID "
			       "namespace: children already go to another namespace");
	if ((o->clone_flags & NS_NEEDS_SYS_ADMIN) && !(o->clone_flags & PT_CLONE_NEWUSER) &&
	    !(ctx->cap_eff & PT_CAP_BIT(PT_CAP_SYS_ADMIN)))
		return pt_diag(diag, -EPERM, PIDTUPLE_RULE_NS_PRIVILEGE, -1, n, 0,
			       "creating namespaces (clone flags 0x%llx) needs CAP_SYS_ADMIN, "
			       "or CLONE_NEWUSER with them",
			       (unsigned long long)(o->clone_flags & NS_NEEDS_SYS_ADMIN));
	if ((o->clone_flags & PT_CLONE_NEWPID) && ctx->abs_level > PIDTUPLE_MAX_LEVELS)
		return pt_diag(diag, -ENOSPC, PIDTUPLE_RULE_NS_DEPTH, 0, n, t->pid[0],
			       "a new PID namespace would be nested %d deep below the initial "
			       "one, beyond the kernel's limit of %d",
			       ctx->abs_level, PIDTUPLE_MAX_LEVELS);
	return 0;
}

/* A verdict about level @i of @t: the message says what is wrong with "PID P (NSpid field F
 * of N)", the field counted from 1, outermost first, as /proc prints them. Cold: the checks'
 * fast path stays free of the formatting arguments. */
static int __attribute__((cold, format(printf, 6, 7)))
level_fail(struct pidtuple_diag *diag, int err, uint32_t rule, const struct pidtuple *t,
	   unsigned int i, const char *fmt, ...)
{
	char what[PIDTUPLE_DIAG_MESSAGE_SIZE];
	va_list ap;

	if (!pt_diag_usable(diag))
		return err;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return pt_diag(diag, err, rule, (int)i, t->n, t->pid[i], "PID %d (NSpid field %u of %u) %s",
		       (int)t->pid[i], t->n - i, t->n, what);
}

/*
 * Whether an init lives at level @lv; *@below holds the answer for the level below. An init
 * exits only once every other member of its namespace is gone, those of the namespaces below
 * too (zap_pid_ns_processes()): an init alive below vouches for every one above it.
 */
static uint64_t level_init(const struct pidtuple_nsctx *ctx, const struct pt_level *lv,
			   uint64_t *below)
{
	if (!(*below & PIDTUPLE_LEVEL_HAS_INIT))
		*below = pt_level_init_state(lv, ctx->opts.flags & PIDTUPLE_FORK_CHECK_SCAN);
	return *below;
}

/* Range, init and privilege at visible level @i, in the order the kernel checks them. */
static int check_level(const struct pidtuple_nsctx *ctx, const struct pt_level *lv,
		       const struct pidtuple *t, unsigned int i, uint64_t *below,
		       struct pidtuple_diag *diag)
{
	pid_t pid = t->pid[i];
	uint64_t init;

	if (pid >= lv->pid_max)
		return level_fail(diag, -EINVAL, PIDTUPLE_RULE_PID_RANGE, t, i,
				  "is not below that namespace's pid_max %d", lv->pid_max);
	init = level_init(ctx, lv, below);
	if (init & PIDTUPLE_LEVEL_INIT_DEAD)
		return level_fail(diag, -ENOMEM, PIDTUPLE_RULE_INIT_DEAD, t, i,
				  "cannot be added: that namespace's init has died");
	if (!(init & (PIDTUPLE_LEVEL_HAS_INIT | PIDTUPLE_LEVEL_INIT_UNKNOWN)) && pid != 1)
		return level_fail(diag, -EINVAL, PIDTUPLE_RULE_NO_INIT, t, i,
				  "cannot be used: that namespace has no init yet, and its first "
				  "process must be PID 1");
	if (!(lv->flags & PIDTUPLE_LEVEL_CAN_PIN))
		return level_fail(diag, -EPERM, PIDTUPLE_RULE_PRIVILEGE, t, i,
				  "cannot be pinned without CAP_CHECKPOINT_RESTORE or "
				  "CAP_SYS_ADMIN over the user namespace owning that PID "
				  "namespace");
	return 0;
}

/* The levels a check of a tuple sees: the context's, and the one /proc belongs to when /proc
 * was mounted by a namespace above the caller's (at inner index top_i, 0 for none). */
struct seen {
	const struct pidtuple_nsctx *ctx;
	struct pt_level top;
	unsigned int top_i;
};

static const struct pt_level *seen_level(const struct seen *s, unsigned int i)
{
	if (i < s->ctx->n)
		return &s->ctx->levels[i];
	return s->top_i && i == s->top_i ? &s->top : NULL;
}

/* The levels of @t beyond the context: too many for the nesting, or how many of them cannot be
 * seen (all but /proc's own, when /proc shows one of them). */
static int check_above(struct seen *s, const struct pidtuple *t, struct pidtuple_diag *diag)
{
	const struct pidtuple_nsctx *ctx = s->ctx;
	unsigned int n = t->n, visible = ctx->n;
	int above;

	if (ctx->abs_level >= 0 && (int)n > ctx->abs_level + 1)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_TOO_DEEP, (int)n - 1, n, t->pid[n - 1],
			       "the tuple has %u levels, but the child's PID namespace has only %d "
			       "(itself and the namespaces above it)",
			       n, ctx->abs_level + 1);
	if (visible == 0 || !(ctx->levels[visible - 1].flags & PIDTUPLE_LEVEL_CALLER))
		return (int)(n - visible);
	above = pt_nsctx_proc_level(ctx, &s->top);
	if (above <= 0 || visible - 1 + (unsigned int)above >= n)
		return (int)(n - visible);
	s->top_i = visible - 1 + (unsigned int)above;
	return (int)(n - visible) - 1;
}

/* Taken PIDs at the levels seen; the number of those that could not be told, or -EEXIST. */
static int check_taken(const struct seen *s, const struct pidtuple *t, struct pidtuple_diag *diag)
{
	bool scan = s->ctx->opts.flags & PIDTUPLE_FORK_CHECK_SCAN;
	int unverified = 0;

	for (unsigned int i = 0; i < t->n; i++) {
		const struct pt_level *lv = seen_level(s, i);
		int r = lv ? pt_level_pid_held(lv, t->pid[i], scan) : 0;

		if (r > 0) {
			char note[128];

			pt_level_holder_note(lv, t->pid[i], note, sizeof(note));
			return level_fail(diag, -EEXIST, PIDTUPLE_RULE_PID_TAKEN, t, i,
					  "is already in use in that namespace%s", note);
		}
		if (r < 0)
			unverified++;
	}
	return unverified;
}

int pt_check_ctx(const struct pidtuple_nsctx *ctx, const struct pidtuple *t,
		 struct pidtuple_diag *diag)
{
	struct seen s = { .ctx = ctx };
	uint64_t below = 0;
	int r, unverified = 0;

	pt_diag_reset(diag, t ? t->n : 0);
	r = pt_check_static(t, &ctx->opts, diag);
	if (r == 0)
		r = check_ns_flags(ctx, t, diag);
	/* Levels beyond the context only cost /proc reads when the tuple has some. */
	if (r == 0 && t->n > ctx->n)
		r = unverified = check_above(&s, t, diag);
	if (r < 0)
		return r;
	for (unsigned int i = 0; i < t->n; i++) {
		const struct pt_level *lv = seen_level(&s, i);

		r = lv ? check_level(ctx, lv, t, i, &below, diag) : 0;
		if (r < 0)
			return r;
	}
	/* Taken PIDs last, as kernels from 7.0 on report them after EINVAL/EPERM. */
	r = check_taken(&s, t, diag);
	if (r < 0)
		return r;
	unverified += r;
	if (unverified) {
		pt_diag(diag, 0, PIDTUPLE_RULE_UNVERIFIED, -1, t->n, 0,
			"%d level(s) could not be checked from here; the kernel will decide",
			unverified);
		pt_diag_set_unverified(diag, unverified);
	}
	return unverified;
}

PT_PUBLIC int pidtuple_check_in(const struct pidtuple_nsctx *ctx, const struct pidtuple *tuple,
				struct pidtuple_diag *diag)
{
	if (diag && diag->sz < sizeof(size_t))
		return -EINVAL;
	pt_return_if(!ctx, pt_diag(diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, 0, 0,
				   "no namespace context given"));
	return pt_check_ctx(ctx, tuple, diag);
}

/* The context of the next fork (joined to the target with PIDTUPLE_FORK_JOIN_NS) and the
 * check in it. */
static int check_in_context(const struct pidtuple *t, const struct pt_fork_opts *o,
			    struct pidtuple_diag *diag)
{
	struct pidtuple_nsctx ctx;
	int r;

	/* The absolute depth costs a walk of /proc: only needed beyond the visible levels. */
	r = pt_nsctx_init_for(&ctx, o, t, false);
	if (r < 0)
		return pt_diag(diag, r, PIDTUPLE_RULE_KERNEL, -1, t->n, 0,
			       "cannot read the namespace context: %s", pidtuple_strerror(r));
	if (t->n > ctx.n) {
		pt_nsctx_fini(&ctx);
		r = pt_nsctx_init_for(&ctx, o, t, true);
		if (r < 0)
			return r;
	}
	r = pt_check_ctx(&ctx, t, diag);
	pt_nsctx_fini(&ctx);
	return r;
}

/* The whole check in the caller's present context (a failed fork's, joined or not). */
static int check_with(const struct pidtuple *t, const struct pt_fork_opts *o,
		      struct pidtuple_diag *diag)
{
	int r;

	pt_diag_reset(diag, t ? t->n : 0);
	r = pt_check_static(t, o, diag);
	return r < 0 ? r : check_in_context(t, o, diag);
}

PT_PUBLIC int pidtuple_check(const struct pidtuple *tuple, const struct pidtuple_fork_opts *opts,
			     struct pidtuple_diag *diag)
{
	struct pt_fork_opts o;
	struct pt_join j;
	int r;

	if (diag && diag->sz < sizeof(size_t))
		return -EINVAL;
	r = pt_fork_opts_get_to(opts, &o, diag);
	if (r < 0)
		return r;
	/* What needs no context first, then the join (when asked). */
	pt_diag_reset(diag, tuple ? tuple->n : 0);
	r = pt_check_static(tuple, &o, diag);
	if (r == 0)
		r = pt_join_enter(&o, tuple->n, &j);
	if (r < 0)
		return r;
	r = check_in_context(tuple, &o, diag);
	pt_join_leave(&j);
	return r;
}

int pt_explain_failure(const struct pidtuple *t, const struct pt_fork_opts *o, int kernel_err)
{
	struct pidtuple_diag *diag = o->diag;
	int r;

	if (kernel_err == -ENOSYS || kernel_err == -E2BIG) {
		r = pt_diag(diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, t->n, 0,
			    kernel_err == -ENOSYS
				    ? "clone3() is not available (kernel before 5.3, or a seccomp "
				      "filter): PIDs cannot be pinned"
				    : "this kernel's clone3() has no set_tid (before 5.5): PIDs "
				      "cannot be pinned");
		pt_diag_set_kernel_err(diag, kernel_err);
		return r;
	}
	if (!pt_diag_usable(diag))
		return kernel_err;
	r = check_with(t, o, diag);
	if (r >= 0 && !(o->flags & PIDTUPLE_FORK_CHECK_SCAN)) {
		/* The quick checks saw nothing: look for what only a walk of /proc finds (a group
		 * or session that outlived its leader, levels without the nsfs ioctls). */
		struct pt_fork_opts deep = *o;

		deep.flags |= PIDTUPLE_FORK_CHECK_SCAN;
		r = check_with(t, &deep, diag);
	}
	if (r != kernel_err) {
		char why[PIDTUPLE_DIAG_MESSAGE_SIZE];

		if (r < 0 && PT_OPTS_HAS(diag, message))
			snprintf(why, sizeof(why), "; the validator says: %.200s", diag->message);
		else
			why[0] = '\0';
		pt_diag(diag, kernel_err, PIDTUPLE_RULE_KERNEL, -1, t->n, 0,
			"the kernel refused the fork: %s%s", pidtuple_strerror(kernel_err),
			r < 0	? why
			: r > 0 ? " (at an outer level the caller cannot see)"
				: " (a seccomp filter, an LSM or a race)");
	}
	pt_diag_set_kernel_err(diag, kernel_err);
	return kernel_err;
}
