/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct pidtuple_fork_opts as the library uses it: validated, defaults applied
 * (libpidtuple.c). */
#ifndef PIDTUPLE_FORKOPTS_H
#define PIDTUPLE_FORKOPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "pidtuple.h"

struct pt_fork_opts {
	uint64_t flags;
	uint64_t clone_flags;
	int exit_signal;
	int cgroup_fd;
	int ns_fd; /* PIDTUPLE_FORK_JOIN_NS: the target, else -1 */
	struct pidtuple_diag *diag;
	int (*lock)(void *arg);
	void (*unlock)(void *arg);
	void *lock_arg;
	unsigned int fallback_retries;
	bool want_vfork; /* pidtuple_spawn(): CLONE_VFORK on the set_tid path */
	bool vforked;	 /* out: it was used */
};

/* 0, or -EINVAL/-E2BIG for bad options, reported to opts->diag. */
int pt_fork_opts_get(const struct pidtuple_fork_opts *opts, struct pt_fork_opts *out);
/* The same, reporting bad options to @report (when not NULL) instead of opts->diag: for calls
 * that take a diag of their own. */
int pt_fork_opts_get_to(const struct pidtuple_fork_opts *opts, struct pt_fork_opts *out,
			struct pidtuple_diag *report);

#endif
