/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Joining a PID namespace for one call. setns() moves only the calling thread's
 * pid_for_children, so the caller stays where it is, other threads are untouched, and the way
 * back is a second setns() to the namespace the children went to before. */
#include <errno.h>
#include <unistd.h>

#include "diag.h"
#include "join.h"
#include "proc.h"
#include "syscall_shim.h"

static const char *join_why(int err, int fd)
{
	int type;

	switch (err) {
	case -EBADF:
		return "is not an open file descriptor";
	case -EPERM:
		return "cannot be entered without CAP_SYS_ADMIN over its owning user namespace and "
		       "the caller's own";
	case -ESRCH:
		return "is a pidfd of a process that has exited";
	case -EINVAL:
		type = pt_ns_get_nstype(fd);
		if (type >= 0 && (uint64_t)type != PT_CLONE_NEWPID)
			return "is a namespace of another type, not a PID namespace";
		return "is not a PID namespace nested in (or equal to) the caller's active one, "
		       "nor a pidfd of a process living there (pidfds need kernel 5.8)";
	default:
		return NULL;
	}
}

static int join_fail(const struct pt_fork_opts *o, unsigned int levels, int err)
{
	const char *why = join_why(err, o->ns_fd);

	if (why)
		return pt_diag(o->diag, err, PIDTUPLE_RULE_JOIN_NS, -1, levels, 0,
			       "join: target namespace fd %d %s", o->ns_fd, why);
	return pt_diag(o->diag, err, PIDTUPLE_RULE_JOIN_NS, -1, levels, 0,
		       "join: cannot enter target namespace fd %d: %s", o->ns_fd,
		       pidtuple_strerror(err));
}

int pt_join_enter(const struct pt_fork_opts *o, unsigned int levels, struct pt_join *j)
{
	int r;

	j->back = -1;
	if (!(o->flags & PIDTUPLE_FORK_JOIN_NS))
		return 0;
	if (o->ns_fd < 0)
		return join_fail(o, levels, -EBADF);
	/* Before 7.1 the link of an unshared namespace without init cannot be opened: the
	 * children could not be sent back there. */
	j->back = pt_proc_ns_open(-1, 0, "pid_for_children");
	if (j->back < 0) {
		r = j->back;
		j->back = -1;
		return pt_diag(o->diag, r, PIDTUPLE_RULE_JOIN_NS, -1, levels, 0,
			       "join: cannot open the caller's pid_for_children to return to "
			       "(%s)%s",
			       pidtuple_strerror(r),
			       r == -ENOENT ? ": it was unshared and has no init yet" : "");
	}
	r = pt_sys_setns(o->ns_fd, (int)PT_CLONE_NEWPID);
	if (r < 0) {
		pt_close(j->back);
		j->back = -1;
		return join_fail(o, levels, r);
	}
	return 0;
}

void pt_join_leave(struct pt_join *j)
{
	if (j->back < 0)
		return;
	/* Cannot fail where entering succeeded: the way back is the caller's active namespace
	 * or one it entered itself, both needing no more than the join did. */
	(void)pt_raw_setns(j->back, (int)PT_CLONE_NEWPID);
	pt_close(j->back);
	j->back = -1;
}

void pt_join_forget(struct pt_join *j)
{
	if (j->back >= 0)
		close(j->back); /* async-signal-safe: the child of a multithreaded caller */
	j->back = -1;
}
