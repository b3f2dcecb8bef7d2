/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PIDTUPLE_FORK_JOIN_NS: the calling thread's children go to a target PID namespace for one
 * call, then back to where they went before (join.c). */
#ifndef PIDTUPLE_JOIN_H
#define PIDTUPLE_JOIN_H

#include "forkopts.h"

struct pt_join {
	int back; /* the caller's pid_for_children while joined, else -1 */
};

/* Enters @o's target when PIDTUPLE_FORK_JOIN_NS is set (else does nothing): 0 or -errno,
 * reported to @o->diag with PIDTUPLE_RULE_JOIN_NS for a tuple of @levels. */
int pt_join_enter(const struct pt_fork_opts *o, unsigned int levels, struct pt_join *j);
/* Returns to where the caller's children went before. Safe when nothing was entered. */
void pt_join_leave(struct pt_join *j);
/* In a child forked while joined: drops the way back without using it. */
void pt_join_forget(struct pt_join *j);

#endif
