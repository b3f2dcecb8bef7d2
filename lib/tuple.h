/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tuple object (tuple.c). */
#ifndef PIDTUPLE_TUPLE_H
#define PIDTUPLE_TUPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pidtuple.h"

struct pidtuple {
	unsigned int n;
	pid_t pid[PIDTUPLE_MAX_LEVELS]; /* innermost first */
};

/* Builds a tuple; @allow_zero admits the 0 that marks a level where a process group or session
 * is not visible (read from the kernel, never from a user). */
int pt_tuple_new(const pid_t *pids, size_t n, bool outer_first, bool allow_zero,
		 struct pidtuple **ret);

#endif
