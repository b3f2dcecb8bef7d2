/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ns_last_pid path and its lock (legacy.c). */
#ifndef PIDTUPLE_FALLBACK_H
#define PIDTUPLE_FALLBACK_H

#include <sys/types.h>

#include "forkopts.h"
#include "pidtuple.h"

/* The cross-tool lock: flock(LOCK_EX) on an open ns_last_pid, or the embedder's callbacks.
 * On success *ret_fd is the descriptor to hand back to pt_lock_release() (-1 for callbacks). */
int pt_lock_take(const struct pt_fork_opts *o, int open_flags, int *ret_fd);
void pt_lock_release(const struct pt_fork_opts *o, int fd);
/* Forks @t through ns_last_pid; @why is the errno that ruled set_tid out. */
pid_t pt_fork_fallback(const struct pidtuple *t, const struct pt_fork_opts *o, int *ret_pidfd,
		       int why);

#endif
