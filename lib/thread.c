/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_thread_create(): a thread of the calling process with exact TIDs at every level.
 * Portable C; the instructions that start the thread on its stack are thread_arch.c. As for
 * a fork, the hot path is the checks that cost no syscall and the clone3() itself; the
 * validator (check.c over the namespace context of nsctx.c, with the caller's own namespace
 * as level 0) runs only to explain a refusal, or first with PIDTUPLE_THREAD_CHECK.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "forkopts.h"
#include "lib.h"
#include "nsctx.h"
#include "opts.h"
#include "probe.h"
#include "syscall_shim.h"
#include "thread_arch.h"
#include "tuple.h"
#include "validator.h"

PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_thread_opts);

/* struct pidtuple_thread_opts as the library uses it: validated, defaults applied. */
struct thread_opts {
	uint64_t flags;
	uint64_t tls;
	pid_t *tid_futex;
	struct pidtuple_diag *diag;
};

static int thread_opts_get(const struct pidtuple_thread_opts *opts, struct thread_opts *out,
			   unsigned int levels)
{
	int r = PT_OPTS_VALID(opts, pidtuple_thread_opts);
	uint64_t bad;

	*out = (struct thread_opts){ .diag = NULL };
	if (!opts)
		return 0;
	/* The diag pointer is usable even when the rest of the struct is not. */
	out->diag = PT_OPTS_GET(opts, diag, NULL);
	if (r < 0)
		return pt_diag(out->diag, r, PIDTUPLE_RULE_OPTIONS, -1, levels, 0,
			       r == -E2BIG ? "thread options: unknown fields beyond this version "
					     "are set"
					   : "thread options: sz is smaller than a size_t");
	out->flags = PT_OPTS_GET(opts, flags, 0);
	out->tls = PT_OPTS_GET(opts, tls, 0);
	out->tid_futex = PT_OPTS_GET(opts, tid_futex, NULL);
	if (PT_OPTS_GET(opts, reserved, 0))
		return pt_diag(out->diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, levels, 0,
			       "thread options: reserved is set");
	bad = out->flags & ~(uint64_t)PIDTUPLE_THREAD_ALL_FLAGS;
	if (bad)
		return pt_diag(
			out->diag, -EINVAL, PIDTUPLE_RULE_FLAGS, -1, levels, 0,
			"thread options: unknown flag bits 0x%llx%s", (unsigned long long)bad,
			bad & PT_CLONE_NEWPID ? " (a thread joins its process's PID "
						"namespaces: there is no CLONE_NEWPID for it)"
					      : "");
	if (out->tls && !(out->flags & PIDTUPLE_THREAD_SETTLS))
		return pt_diag(out->diag, -EINVAL, PIDTUPLE_RULE_FLAGS, -1, levels, 0,
			       "thread options: tls is set without PIDTUPLE_THREAD_SETTLS");
	return 0;
}

/* The callback and the stack: what the kernel cannot check for us. */
static int check_args(int (*fn)(void *), const void *stack, size_t stack_size,
		      const struct thread_opts *o, unsigned int levels)
{
	if (!fn)
		return pt_diag(o->diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, levels, 0,
			       "thread: no callback given");
	if (!stack || stack_size < PIDTUPLE_THREAD_STACK_MIN ||
	    (uintptr_t)stack + stack_size < (uintptr_t)stack)
		return pt_diag(o->diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, levels, 0,
			       "thread: the stack (%p, %zu bytes) is missing, wraps around or is "
			       "smaller than %u bytes",
			       stack, stack_size, PIDTUPLE_THREAD_STACK_MIN);
	return 0;
}

/* -EOPNOTSUPP: no thread start for this architecture, or a kernel that cannot pin TIDs. */
static int unsupported(const struct pidtuple *t, struct pidtuple_diag *diag)
{
	int r;

	if (!PT_THREAD_ARCH)
		return pt_diag(diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, t->n, 0,
			       "this architecture has no thread start in libpidtuple, so TIDs "
			       "cannot be pinned here (x86-64 and aarch64 have one)");
	r = pt_diag(diag, -EOPNOTSUPP, PIDTUPLE_RULE_UNSUPPORTED, -1, t->n, 0,
		    "TIDs cannot be pinned: %s", pidtuple_feature_reason(PIDTUPLE_FEATURE_SET_TID));
	pt_diag_set_kernel_err(diag, pt_feature_err(PIDTUPLE_FEATURE_SET_TID));
	return r;
}

/* The kernel refuses threads when the caller's children would be born in another PID
 * namespace than its own (after setns() or unshare()): level 0 must be the caller's. */
static int own_namespace(const struct pidtuple_nsctx *ctx, const struct pidtuple *t,
			 struct pidtuple_diag *diag)
{
	if (ctx->n > 0 && (ctx->levels[0].flags & PIDTUPLE_LEVEL_CALLER))
		return 0;
	return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_NEWPID_UNSHARED, -1, t->n, 0,
		       "threads are refused after setns() or unshare() of the PID namespace: the "
		       "caller's children would be born in another namespace than its own");
}

/* PIDTUPLE_THREAD_CHECK: the validator before the clone. Out of line, so that the context's
 * stack frame is not the fast path's. */
static int __attribute__((noinline))
thread_check(const struct pidtuple *t, const struct pt_fork_opts *fo)
{
	struct pidtuple_nsctx ctx;
	int r;

	/* The absolute depth costs a walk of /proc: only needed beyond the caller's level. */
	r = pt_nsctx_init(&ctx, fo, t->n > 1);
	if (r < 0)
		return pt_diag(fo->diag, r, PIDTUPLE_RULE_KERNEL, -1, t->n, 0,
			       "cannot read the namespace context: %s", pidtuple_strerror(r));
	r = own_namespace(&ctx, t, fo->diag);
	if (r == 0)
		r = pt_check_ctx(&ctx, t, fo->diag);
	pt_nsctx_fini(&ctx);
	return r < 0 ? r : 0;
}

/* x86-64 answers a thread pointer outside the user address space with EPERM, which the
 * validator (privilege) cannot explain: say so where it found nothing else. */
static void settls_hint(const struct pidtuple *t, const struct thread_opts *o, int kernel_err)
{
	if (kernel_err != -EPERM || !(o->flags & PIDTUPLE_THREAD_SETTLS) ||
	    !PT_OPTS_HAS(o->diag, rule) || o->diag->rule != PIDTUPLE_RULE_KERNEL)
		return;
	pt_diag(o->diag, kernel_err, PIDTUPLE_RULE_KERNEL, -1, t->n, 0,
		"the kernel refused the thread: %s, or, with PIDTUPLE_THREAD_SETTLS, a thread "
		"pointer (tls 0x%llx) it does not accept (x86-64: outside the user address space)",
		pidtuple_strerror(kernel_err), (unsigned long long)o->tls);
	pt_diag_set_kernel_err(o->diag, kernel_err);
}

/* The kernel refused: the reason, in the diag, and the error to return. */
static int __attribute__((cold))
thread_failed(const struct pidtuple *t, const struct pt_fork_opts *fo, const struct thread_opts *o,
	      int kernel_err)
{
	struct pidtuple_nsctx ctx;
	int r;

	if (kernel_err == -ENOSYS || kernel_err == -E2BIG || kernel_err == -EPERM) {
		/* A filter added after the probe, or a probe that missed it: look again. */
		if (!(pt_features_reprobe() & PIDTUPLE_FEATURE_SET_TID))
			return unsupported(t, fo->diag);
	}
	if (!pt_diag_usable(fo->diag))
		return kernel_err;
	/* The validator would judge the tuple against the namespaces children go to: a caller
	 * that left its own for them gets the kernel's reason for threads first. */
	if (kernel_err == -EINVAL && pt_nsctx_init(&ctx, fo, false) == 0) {
		r = own_namespace(&ctx, t, fo->diag);
		pt_nsctx_fini(&ctx);
		if (r < 0) {
			pt_diag_set_kernel_err(fo->diag, kernel_err);
			return kernel_err;
		}
	}
	r = pt_explain_failure(t, fo, kernel_err);
	settls_hint(t, o, kernel_err);
	return r;
}

/* clone3's arguments: a thread on [stack, stack + stack_size), its top aligned down. */
static void thread_args_fill(struct pt_clone_args *a, const struct pidtuple *t,
			     const struct thread_opts *o, void *stack, size_t stack_size)
{
	uintptr_t lo = (uintptr_t)stack;
	uintptr_t top = (lo + stack_size) & ~(uintptr_t)(PT_THREAD_STACK_ALIGN - 1);

	*a = (struct pt_clone_args){
		.flags = PT_CLONE_THREAD_FLAGS,
		.stack = lo,
		.stack_size = top - lo,
		.set_tid = (uintptr_t)t->pid,
		.set_tid_size = t->n,
	};
	if (o->flags & PIDTUPLE_THREAD_SETTLS) {
		a->flags |= PT_CLONE_SETTLS;
		a->tls = o->tls;
	}
	if (o->tid_futex) {
		a->flags |= PT_CLONE_PARENT_SETTID | PT_CLONE_CHILD_CLEARTID;
		a->parent_tid = a->child_tid = (uintptr_t)o->tid_futex;
	}
}

PT_PUBLIC int pidtuple_thread_create(const struct pidtuple *tid, int (*fn)(void *), void *arg,
				     void *stack, size_t stack_size,
				     const struct pidtuple_thread_opts *opts, pid_t *ret_tid)
{
	unsigned int levels = tid ? tid->n : 0;
	struct pt_fork_opts fo;
	struct pt_clone_args a;
	struct thread_opts o;
	long r;

	r = thread_opts_get(opts, &o, levels);
	if (r < 0)
		return (int)r;
	pt_diag_reset(o.diag, levels);
	/* The validator's view of a thread: no flags, no namespaces, no exit signal. */
	fo = (struct pt_fork_opts){ .cgroup_fd = -1, .diag = o.diag };
	r = check_args(fn, stack, stack_size, &o, levels);
	if (r == 0)
		r = pt_check_static(tid, &fo, o.diag);
	if (r == 0 && (!PT_THREAD_ARCH || !(pt_features_cached() & PIDTUPLE_FEATURE_SET_TID)))
		r = unsupported(tid, o.diag);
	if (r == 0 && (o.flags & PIDTUPLE_THREAD_CHECK))
		r = thread_check(tid, &fo);
	if (r < 0)
		return (int)r;

	thread_args_fill(&a, tid, &o, stack, stack_size);
	/* Returns in this thread only: the new one runs fn and exits inside. */
	r = pt_thread_arch_clone3(&a, PT_CLONE_ARGS_SIZE_VER1, fn, arg);
	if (r < 0)
		return thread_failed(tid, &fo, &o, (int)r);
	if (ret_tid)
		*ret_tid = (pid_t)r;
	return 0;
}

PT_PUBLIC int pidtuple_thread_park(void *arg)
{
	/* The assembly, not a C loop: C would keep a frame and could touch errno. */
	return pt_thread_arch_park(arg);
}
