/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Version, error text, rule names, and the fork options every entry point reads. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "diag.h"
#include "forkopts.h"
#include "lib.h"

#define PT_STR2(x) #x
#define PT_STR(x) PT_STR2(x)

PT_PUBLIC int pidtuple_version_major(void)
{
	return PIDTUPLE_VERSION_MAJOR;
}

PT_PUBLIC int pidtuple_version_minor(void)
{
	return PIDTUPLE_VERSION_MINOR;
}

PT_PUBLIC const char *pidtuple_version_string(void)
{
	return PT_STR(PIDTUPLE_VERSION_MAJOR) "." PT_STR(PIDTUPLE_VERSION_MINOR) "." PT_STR(
		PIDTUPLE_VERSION_PATCH);
}

PT_PUBLIC const char *pidtuple_strerror(int err)
{
	if (err == INT_MIN)
		return "Unknown error";
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "Success";
	case EINVAL:
		return "Invalid tuple or argument";
	case EEXIST:
		return "A PID of the tuple is already taken";
	case EPERM:
		return "Not permitted to pin a PID at this level (needs CAP_CHECKPOINT_RESTORE or "
		       "CAP_SYS_ADMIN over the namespace's owner)";
	case EOPNOTSUPP:
		return "The kernel cannot pin PIDs here (no clone3 with set_tid, or blocked)";
	case E2BIG:
		return "Options struct has unknown non-zero fields";
	case ERANGE:
		return "Index or buffer out of range";
	case ESRCH:
		return "No such process";
	case ENOSPC:
		return "PID namespace nesting limit reached";
	case ENOMEM:
		return "Out of memory, or the PID namespace's init has died";
	case EBUSY:
		return "The child got another PID: a process forked without the ns_last_pid lock";
	default: {
		/* Static and thread-safe, unlike strerror()'s buffer for unknown codes. */
		const char *d = strerrordesc_np(err);

		return d ? d : "Unknown error";
	}
	}
}

static const char *const rule_names[_PIDTUPLE_RULE_MAX] = {
	[PIDTUPLE_RULE_NONE] = "none",
	[PIDTUPLE_RULE_SYNTAX] = "syntax",
	[PIDTUPLE_RULE_LEVEL_COUNT] = "level-count",
	[PIDTUPLE_RULE_TOO_DEEP] = "too-deep",
	[PIDTUPLE_RULE_PID_RANGE] = "pid-range",
	[PIDTUPLE_RULE_NEWPID_ONE] = "newpid-needs-1",
	[PIDTUPLE_RULE_NO_INIT] = "no-init",
	[PIDTUPLE_RULE_INIT_DEAD] = "init-dead",
	[PIDTUPLE_RULE_PRIVILEGE] = "privilege",
	[PIDTUPLE_RULE_PID_TAKEN] = "pid-taken",
	[PIDTUPLE_RULE_FLAGS] = "flags",
	[PIDTUPLE_RULE_NS_PRIVILEGE] = "ns-privilege",
	[PIDTUPLE_RULE_NEWPID_UNSHARED] = "newpid-after-unshare",
	[PIDTUPLE_RULE_EXIT_SIGNAL] = "exit-signal",
	[PIDTUPLE_RULE_CGROUP] = "cgroup",
	[PIDTUPLE_RULE_OPTIONS] = "options",
	[PIDTUPLE_RULE_UNSUPPORTED] = "unsupported",
	[PIDTUPLE_RULE_UNVERIFIED] = "unverified",
	[PIDTUPLE_RULE_KERNEL] = "kernel",
	[PIDTUPLE_RULE_NS_DEPTH] = "ns-depth",
	[PIDTUPLE_RULE_EXEC] = "exec",
	[PIDTUPLE_RULE_PID_MISMATCH] = "pid-mismatch",
	[PIDTUPLE_RULE_FALLBACK] = "fallback",
	[PIDTUPLE_RULE_TREE_SHAPE] = "tree-shape",
	[PIDTUPLE_RULE_TREE_DUPLICATE] = "tree-duplicate",
	[PIDTUPLE_RULE_TREE_GROUP] = "tree-group",
	[PIDTUPLE_RULE_TREE_NODE] = "tree-node",
	[PIDTUPLE_RULE_JOIN_NS] = "join-ns",
};

PT_PUBLIC const char *pidtuple_rule_name(uint32_t rule)
{
	return rule < _PIDTUPLE_RULE_MAX ? rule_names[rule] : "unknown";
}

/* ---- fork options ---- */

int pt_fork_opts_get(const struct pidtuple_fork_opts *opts, struct pt_fork_opts *out)
{
	return pt_fork_opts_get_to(opts, out, NULL);
}

int pt_fork_opts_get_to(const struct pidtuple_fork_opts *opts, struct pt_fork_opts *out,
			struct pidtuple_diag *report)
{
	int r = PT_OPTS_VALID(opts, pidtuple_fork_opts);

	*out = (struct pt_fork_opts){ .exit_signal = SIGCHLD, .cgroup_fd = -1, .ns_fd = -1 };
	if (!opts)
		return 0;
	/* The diag pointer is usable even when the rest of the struct is not. */
	out->diag = report ? report : PT_OPTS_GET(opts, diag, NULL);
	if (r < 0)
		return pt_diag(out->diag, r, PIDTUPLE_RULE_OPTIONS, -1, 0, 0,
			       r == -E2BIG ? "options: unknown fields beyond this version are set"
					   : "options: sz is smaller than a size_t");
	out->flags = PT_OPTS_GET(opts, flags, 0);
	out->clone_flags = PT_OPTS_GET(opts, clone_flags, 0);
	if (out->flags & PIDTUPLE_FORK_EXIT_SIGNAL)
		out->exit_signal = PT_OPTS_GET(opts, exit_signal, 0);
	if (out->flags & PIDTUPLE_FORK_INTO_CGROUP)
		out->cgroup_fd = PT_OPTS_GET(opts, cgroup_fd, -1);
	out->lock = PT_OPTS_GET(opts, lock, NULL);
	out->unlock = PT_OPTS_GET(opts, unlock, NULL);
	out->lock_arg = PT_OPTS_GET(opts, lock_arg, NULL);
	out->fallback_retries = PT_OPTS_GET(opts, fallback_retries, 0);
	if (out->flags & PIDTUPLE_FORK_JOIN_NS)
		out->ns_fd = PT_OPTS_GET(opts, ns_fd, -1);
	if (PT_OPTS_GET(opts, reserved, 0) || PT_OPTS_GET(opts, reserved2, 0) ||
	    !out->lock != !out->unlock)
		return pt_diag(out->diag, -EINVAL, PIDTUPLE_RULE_OPTIONS, -1, 0, 0,
			       "options: reserved is set, or only one of lock/unlock is given");
	return 0;
}
