/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Option and output structs with random sizes and tails, through the calls that create
 * nothing: pidtuple_check(), pidtuple_nsctx_new(), pidtuple_nsctx_level() and
 * pidtuple_check_in(). Checks: the library reads an options struct only within its sz and
 * writes a diag or level info only within theirs (exact-size allocations under ASan, canaries
 * past the known fields), the options verdict matches the documented rules, the errno is a
 * documented one, check and check_in agree, and no process, fd or lock is taken.
 *
 * Input: a 24-byte header (shorter inputs are zero-padded), then the options bytes after sz.
 */
#include <fcntl.h>
#include <signal.h>

#include "fuzz_common.h"

#define OPTS_KNOWN sizeof(struct pidtuple_fork_opts)
#define DIAG_KNOWN sizeof(struct pidtuple_diag)
#define INFO_KNOWN sizeof(struct pidtuple_level_info)

enum {
	M_ZERO_TAIL = 1 << 0,	/* zero the options beyond the known struct */
	M_KNOWN_FLAGS = 1 << 1, /* keep only known flag bits */
	M_NS_FLAGS = 1 << 2,	/* keep only CLONE_NEW* bits */
	M_LOCK = 1 << 3,	/* set the lock callback */
	M_UNLOCK = 1 << 4,	/* set the unlock callback */
	M_OPTS_DIAG = 1 << 5,	/* opts->diag points to a second diag, else NULL */
	M_NULL_OPTS = 1 << 6,	/* pass NULL options */
	M_NULL_TUPLE = 1 << 7,	/* pass a NULL tuple */
};

struct header {
	uint8_t opts_sz;
	uint8_t mode;
	uint8_t levels; /* 1..4 from the low bits */
	uint8_t info_sz;
	uint16_t diag_sz;
	uint16_t diag2_sz;
	int32_t pid[4]; /* innermost first */
};

static int lock_called(void *arg)
{
	(void)arg;
	fprintf(stderr, "a call that creates nothing took the lock\n");
	abort();
}

static void unlock_called(void *arg)
{
	(void)arg;
	fprintf(stderr, "a call that creates nothing released the lock\n");
	abort();
}

#define COVERS(sz, field)                                     \
	((sz) >= offsetof(struct pidtuple_fork_opts, field) + \
			 sizeof(((struct pidtuple_fork_opts *)0)->field))

/* PIDTUPLE_FORK_JOIN_NS targets: none (-1), a file that is no namespace, and this process's
 * own PID namespace (allowed: the verdicts of no join). Opened once, before any input's fds
 * are counted. */
static int join_fds[3] = { -1, -1, -1 };

static void open_join_fds(void)
{
	if (join_fds[1] < 0)
		join_fds[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (join_fds[2] < 0)
		join_fds[2] = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
}

/* The input's ns_fd, made one of join_fds[]. */
static void pick_ns_fd(struct pidtuple_fork_opts *o, size_t sz)
{
	if (COVERS(sz, ns_fd))
		o->ns_fd = join_fds[(uint32_t)o->ns_fd % 3];
}

/* What joining the target of @o says: 0, or the error. */
static int join_err(const struct pidtuple_fork_opts *o, size_t sz)
{
	int fd = COVERS(sz, ns_fd) ? o->ns_fd : -1;

	return fd < 0 ? -EBADF : fd == join_fds[1] ? -EINVAL : 0;
}

/* What the documented option rules say about these options and tuple: 1 when they pass
 * (the rest depends on the live context), else the negative errno, with the rule. */
static int ref_verdict(const struct pidtuple_fork_opts *o, size_t sz, const struct pidtuple *t,
		       uint32_t *rule)
{
	uint64_t flags = 0, clone_flags = 0;
	int exit_signal = SIGCHLD, cgroup_fd = -1;

	*rule = PIDTUPLE_RULE_OPTIONS;
	if (o) {
		if (sz < sizeof(size_t))
			return -EINVAL;
		for (size_t i = OPTS_KNOWN; i < sz; i++)
			if (((const unsigned char *)o)[i])
				return -E2BIG;
		if ((COVERS(sz, reserved) && o->reserved) ||
		    (COVERS(sz, reserved2) && o->reserved2) ||
		    (COVERS(sz, lock) && o->lock) != (COVERS(sz, unlock) && o->unlock))
			return -EINVAL;
		flags = COVERS(sz, flags) ? o->flags : 0;
		clone_flags = COVERS(sz, clone_flags) ? o->clone_flags : 0;
		if (flags & PIDTUPLE_FORK_EXIT_SIGNAL)
			exit_signal = COVERS(sz, exit_signal) ? o->exit_signal : 0;
		if (flags & PIDTUPLE_FORK_INTO_CGROUP)
			cgroup_fd = COVERS(sz, cgroup_fd) ? o->cgroup_fd : -1;
	}
	*rule = PIDTUPLE_RULE_LEVEL_COUNT;
	if (!t)
		return -EINVAL;
	*rule = PIDTUPLE_RULE_FLAGS;
	if ((flags & ~(uint64_t)PIDTUPLE_FORK_ALL_FLAGS) ||
	    (clone_flags & ~(uint64_t)PIDTUPLE_CLONE_NS_FLAGS))
		return -EINVAL;
	*rule = PIDTUPLE_RULE_EXIT_SIGNAL;
	if (exit_signal < 0 || exit_signal > 64)
		return -EINVAL;
	*rule = PIDTUPLE_RULE_CGROUP;
	if ((flags & PIDTUPLE_FORK_INTO_CGROUP) && cgroup_fd < 0)
		return -EBADF;
	*rule = PIDTUPLE_RULE_NEWPID_ONE;
	if ((clone_flags & 0x20000000ull) && pidtuple_get(t, 0) != 1)
		return -EINVAL;
	/* A join's target, one of join_fds[] (see pick_ns_fd()), after the rules above. */
	*rule = PIDTUPLE_RULE_JOIN_NS;
	if ((flags & PIDTUPLE_FORK_JOIN_NS) && join_err(o, sz) < 0)
		return join_err(o, sz);
	*rule = PIDTUPLE_RULE_NONE;
	return 1;
}

static bool documented_check_errno(int r)
{
	switch (-r) {
	case EINVAL:
	case EPERM:
	case EEXIST:
	case ENOMEM:
	case ENOSPC:
	case E2BIG:
	case EBADF:
	case ENOTDIR:
	case EMFILE:
	case ENFILE:
	case ENOENT:
		return true;
	default:
		return false;
	}
}

/* A level info may be written anywhere past its sz member and within sz, nowhere else (a
 * member sz covers only in part may be written in part: see README). */
static void check_info(const struct fuzz_sized *s)
{
	size_t limit = s->sz < INFO_KNOWN ? s->sz : INFO_KNOWN;

	for (size_t i = sizeof(size_t); i < s->alloc; i++)
		if (s->p[i] != FUZZ_CANARY && i >= limit) {
			fprintf(stderr, "byte %zu of a level info with sz %zu was written\n", i,
				s->sz);
			abort();
		}
}

static void check_verdict(int r, const struct fuzz_sized *diag, int want, uint32_t want_rule)
{
	const struct pidtuple_diag *d = (const void *)diag->p;

	if (diag->sz < sizeof(size_t)) {
		fuzz_assert(r == -EINVAL); /* a diag too small to hold its own sz */
		return;
	}
	if (r < 0)
		fuzz_assert(documented_check_errno(r));
	else
		fuzz_assert(r <= PIDTUPLE_MAX_LEVELS);
	if (want < 0) {
		if (r != want)
			fprintf(stderr, "verdict %d, the option rules say %d (rule %u)\n", r, want,
				want_rule);
		fuzz_assert(r == want);
	}
	if (diag->sz < DIAG_KNOWN)
		return;
	fuzz_assert(d->err == (r < 0 ? r : 0));
	fuzz_assert(d->node == -1); /* not a tree */
	if (want < 0)
		fuzz_assert(d->rule == want_rule);
	else if (r == 0)
		fuzz_assert(d->rule == PIDTUPLE_RULE_NONE);
	else if (r > 0)
		fuzz_assert(d->rule == PIDTUPLE_RULE_UNVERIFIED && d->unverified == r);
	else
		fuzz_assert(d->rule > PIDTUPLE_RULE_LEVEL_COUNT && d->rule != PIDTUPLE_RULE_FLAGS &&
			    d->rule != PIDTUPLE_RULE_OPTIONS &&
			    d->rule != PIDTUPLE_RULE_EXIT_SIGNAL);
}

/*
 * The PIDs checked are the machine's: on a busy one, another program takes or frees one between
 * two checks. A verdict that went from free to taken (or back) between the two is the
 * machine's doing when a third look agrees with the second.
 */
static bool pid_taken_meanwhile(const struct pidtuple *t, const struct pidtuple_fork_opts *o,
				int first, int second)
{
	bool flip = (first == 0 || first == -EEXIST) && (second == 0 || second == -EEXIST);

	return flip && pidtuple_check(t, o, NULL) == second;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_sized opts_buf, diag, diag2, diag3, info;
	struct pidtuple_fork_opts *o = NULL;
	struct pidtuple_nsctx *ctx = NULL;
	struct pidtuple *t = NULL;
	struct header h = { 0 };
	size_t body = size > sizeof(h) ? size - sizeof(h) : 0;
	int fd0, r, r2, want;
	char children[4096];
	uint32_t want_rule;
	pid_t pids[4];
	unsigned int n;

	open_join_fds();
	fd0 = fuzz_lowest_free_fd();
	fuzz_children(children, sizeof(children));
	memcpy(&h, data, size < sizeof(h) ? size : sizeof(h));
	n = 1 + (h.levels & 3);
	for (unsigned int i = 0; i < n; i++)
		pids[i] = h.pid[i] ? h.pid[i] : 1;
	if (!(h.mode & M_NULL_TUPLE) && pidtuple_from_inner(pids, n, &t) < 0)
		t = NULL; /* a PID below 1: the NULL-tuple path */

	fuzz_sized_new(&diag, h.diag_sz % (DIAG_KNOWN + FUZZ_SLACK + 1));
	fuzz_sized_new(&diag2, h.diag2_sz % (DIAG_KNOWN + FUZZ_SLACK + 1));
	fuzz_sized_new(&diag3, diag.sz);
	fuzz_sized_new(&info, h.info_sz % (INFO_KNOWN + FUZZ_SLACK + 1));

	/* The options: sz bytes, the input after the header past sz, then the trusted
	 * pointers set to ours where sz covers them whole. */
	fuzz_sized_new(&opts_buf, h.opts_sz);
	if (!(h.mode & M_NULL_OPTS)) {
		size_t room = opts_buf.alloc - sizeof(size_t);

		memset(opts_buf.p + sizeof(size_t), 0, room);
		memcpy(opts_buf.p + sizeof(size_t), data + sizeof(h), body < room ? body : room);
		o = (struct pidtuple_fork_opts *)opts_buf.p;
		if ((h.mode & M_ZERO_TAIL) && opts_buf.alloc > OPTS_KNOWN)
			memset(opts_buf.p + OPTS_KNOWN, 0, opts_buf.alloc - OPTS_KNOWN);
		if (COVERS(opts_buf.sz, flags) && (h.mode & M_KNOWN_FLAGS))
			o->flags &= PIDTUPLE_FORK_ALL_FLAGS;
		if (COVERS(opts_buf.sz, clone_flags) && (h.mode & M_NS_FLAGS))
			o->clone_flags &= PIDTUPLE_CLONE_NS_FLAGS;
		if (COVERS(opts_buf.sz, diag))
			o->diag = h.mode & M_OPTS_DIAG ? (struct pidtuple_diag *)diag2.p : NULL;
		if (COVERS(opts_buf.sz, lock))
			o->lock = h.mode & M_LOCK ? lock_called : NULL;
		if (COVERS(opts_buf.sz, unlock))
			o->unlock = h.mode & M_UNLOCK ? unlock_called : NULL;
		pick_ns_fd(o, opts_buf.sz);
	}
	want = ref_verdict(o, opts_buf.sz, t, &want_rule);

	r = pidtuple_check(t, o, (struct pidtuple_diag *)diag.p);
	fuzz_diag_check(&diag, true);
	fuzz_diag_check(&diag2, false);
	check_verdict(r, &diag, want, want_rule);

	r2 = pidtuple_nsctx_new(o, &ctx);
	if (r2 == 0) {
		int levels = pidtuple_nsctx_levels(ctx);

		fuzz_assert(levels >= 1 && levels <= PIDTUPLE_MAX_LEVELS + 1);
		for (int i = 0; i < levels; i++) {
			memset(info.p + sizeof(size_t), FUZZ_CANARY, info.alloc - sizeof(size_t));
			fuzz_assert(pidtuple_nsctx_level(ctx, (unsigned int)i,
							 (struct pidtuple_level_info *)info.p) ==
				    (info.sz < sizeof(size_t) ? -EINVAL : 0));
			check_info(&info);
		}
		fuzz_assert(pidtuple_nsctx_level(ctx, (unsigned int)levels,
						 (struct pidtuple_level_info *)info.p) ==
			    (info.sz < sizeof(size_t) ? -EINVAL : -ERANGE));
		fuzz_assert(pidtuple_nsctx_level(ctx, 0, NULL) == -EINVAL);

		/* The same verdict through a captured context. */
		r2 = pidtuple_check_in(ctx, t, (struct pidtuple_diag *)diag3.p);
		fuzz_diag_check(&diag3, true);
		if (r2 != r && !pid_taken_meanwhile(t, o, r, r2))
			fprintf(stderr, "pidtuple_check() says %d, pidtuple_check_in() %d\n", r,
				r2);
		fuzz_assert(r2 == r || pid_taken_meanwhile(t, o, r, r2));
		if (diag.sz >= DIAG_KNOWN && r2 == r)
			fuzz_assert(((struct pidtuple_diag *)diag.p)->rule ==
				    ((struct pidtuple_diag *)diag3.p)->rule);
		pidtuple_nsctx_free(ctx);
	} else {
		/* Only the options struct itself can make it fail here. */
		fuzz_assert(r2 < 0);
		if (want < 0 && want_rule == PIDTUPLE_RULE_OPTIONS)
			fuzz_assert(r2 == want);
		else if (o && COVERS(opts_buf.sz, flags) && (o->flags & PIDTUPLE_FORK_JOIN_NS) &&
			 join_err(o, opts_buf.sz) < 0)
			fuzz_assert(r2 == join_err(o, opts_buf.sz));
		else
			fuzz_assert(r2 == -EMFILE || r2 == -ENFILE || r2 == -ENOENT ||
				    r2 == -EPERM || r2 == -ENOMEM);
	}
	fuzz_diag_check(&diag2, false);

	fuzz_assert(pidtuple_check_in(NULL, t, NULL) == -EINVAL);
	fuzz_assert(pidtuple_nsctx_new(o, NULL) == -EINVAL);

	fuzz_sized_free(&opts_buf);
	fuzz_sized_free(&info);
	fuzz_sized_free(&diag3);
	fuzz_sized_free(&diag2);
	fuzz_sized_free(&diag);
	pidtuple_free(t);
	fuzz_assert_same_children(children);
	fuzz_assert(fuzz_lowest_free_fd() == fd0);
	return 0;
}
