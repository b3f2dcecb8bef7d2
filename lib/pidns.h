/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PID-namespace checks over nsfs that read.c and scan.c share (pidns.c). */
#ifndef PIDTUPLE_PIDNS_H
#define PIDTUPLE_PIDNS_H

#include <stdint.h>

/* Compares a namespace fd's inode with @ino: 1 same, 0 not, -errno. */
int pt_ns_is(int nsfd, uint64_t ino);
/* Checks that @nsfd is a PID namespace and gives its inode: 0, -EINVAL for another kind (or not
 * a namespace), or a resource error as is. */
int pt_pidns_ino(int nsfd, uint64_t *ret_ino);
/* How many levels the PID namespace @nsfd lies below A, the one with inode @a_ino, walking
 * NS_GET_PARENT up: 0 with *ret_depth, -EINVAL when it is above or beside A, or -errno. */
int pt_pidns_depth(int nsfd, uint64_t a_ino, int *ret_depth);

#endif
