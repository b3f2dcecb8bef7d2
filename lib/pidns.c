/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PID-namespace checks that reading (read.c) and scanning (scan.c) share: nsfs only. */
#include <errno.h>
#include <sys/stat.h>

#include "pidns.h"
#include "pidtuple.h"
#include "syscall_shim.h"

int pt_ns_is(int nsfd, uint64_t ino)
{
	struct stat st;
	int r = pt_fstat(nsfd, &st);

	return r < 0 ? r : (uint64_t)st.st_ino == ino;
}

int pt_pidns_ino(int nsfd, uint64_t *ret_ino)
{
	struct stat st;
	int r = pt_ns_get_nstype(nsfd);

	if (r != (int)PT_CLONE_NEWPID)
		return r == -ENOMEM || r == -EMFILE || r == -ENFILE ? r : -EINVAL;
	if (pt_fstat(nsfd, &st) < 0)
		return -EINVAL;
	*ret_ino = st.st_ino;
	return 0;
}

int pt_pidns_depth(int nsfd, uint64_t a_ino, int *ret_depth)
{
	int cur = nsfd, depth = 0, r;

	while ((r = pt_ns_is(cur, a_ino)) == 0) {
		int p = pt_ns_get_parent(cur);

		if (cur != nsfd)
			pt_close(cur);
		if (p < 0)
			return p == -EPERM ? -EINVAL : p; /* above A, or beside it */
		cur = p;
		depth++;
	}
	if (cur != nsfd)
		pt_close(cur);
	if (r < 0)
		return r;
	*ret_depth = depth;
	return 0;
}
