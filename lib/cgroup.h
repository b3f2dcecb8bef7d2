/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placing a child in a cgroup after the fork, where CLONE_INTO_CGROUP is missing (cgroup.c). */
#ifndef PIDTUPLE_CGROUP_H
#define PIDTUPLE_CGROUP_H

#include <sys/types.h>

struct pt_fork_opts;

/* Moves @pid into the cgroup directory @cgroup_fd (writes its cgroup.procs). */
int pt_move_to_cgroup(int cgroup_fd, pid_t pid);
/* Moves the child into o->cgroup_fd after the fork and adds PIDTUPLE_NOTICE_CGROUP_AFTER to
 * o->diag: the PID guarantee never degrades; placement does, and says so. */
void pt_cgroup_after(const struct pt_fork_opts *o, pid_t pid);

#endif
