/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The io_uring batch backend of the scan (scan_uring.c), as scan.c uses it. */
#ifndef PIDTUPLE_SCAN_URING_H
#define PIDTUPLE_SCAN_URING_H

#include <sys/types.h>

#include "proc.h"

/* What a scan needs of one process read ahead: its status (scan.c finds its namespace). */
struct pt_fetch {
	pid_t o; /* the process, numbered in /proc */
	pid_t a; /* and in A when already known, else <= 0 */
	int err; /* 0, -errno of the reads (-EAGAIN: read it the plain way) */
	struct pt_status st;
};

/* Processes read per io_uring_enter(). */
#define PT_URING_BATCH 64

struct pt_uring;
/* -EOPNOTSUPP when the library was built without liburing. */
int pt_uring_new(struct pt_uring **ret);
/* Reads the status of f[i].o for @n <= PT_URING_BATCH processes, relative to @procfd.
 * Per-process failures land in f[i].err; returns 0 or a -errno that ends the batch. */
int pt_uring_fetch(struct pt_uring *u, int procfd, struct pt_fetch *f, unsigned int n);
void pt_uring_free(struct pt_uring *u);

#endif
