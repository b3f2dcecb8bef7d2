/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placing a child in a cgroup after the fork: for kernels without CLONE_INTO_CGROUP and for the
 * ns_last_pid path, whose legacy clone() has none. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

#include "cgroup.h"
#include "diag.h"
#include "forkopts.h"
#include "syscall_shim.h"

int pt_move_to_cgroup(int cgroup_fd, pid_t pid)
{
	char buf[16];
	int fd = pt_openat(cgroup_fd, "cgroup.procs", O_WRONLY);
	int len = snprintf(buf, sizeof(buf), "%d", (int)pid);
	ssize_t r;

	if (fd < 0)
		return fd;
	r = pt_write(fd, buf, (size_t)len);
	pt_close(fd);
	return r == len ? 0 : r < 0 ? (int)r : -EIO;
}

void pt_cgroup_after(const struct pt_fork_opts *o, pid_t pid)
{
	pt_diag_add_notice(o->diag, PIDTUPLE_NOTICE_CGROUP_AFTER);
	(void)pt_move_to_cgroup(o->cgroup_fd, pid);
}
