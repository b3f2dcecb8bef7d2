/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple_of_pid(), pidtuple_of_pidfd(): a process's tuple from its pidfd's fdinfo NSpid. */
#include <errno.h>

#include "lib.h"
#include "pidtuple.h"
#include "proc.h"
#include "syscall_shim.h"
#include "tuple.h"

PT_PUBLIC int pidtuple_of_pidfd(int pidfd, struct pidtuple **ret_tuple)
{
	struct pt_status f;
	int above, r;

	pt_return_if(!ret_tuple, -EINVAL);
	pt_return_if(pidfd < 0, -EBADF);
	above = pt_proc_levels_above();
	if (above < 0)
		return above;
	r = pt_read_pidfd_fdinfo(pidfd, &f);
	if (r < 0)
		return r == -ENOENT ? -EBADF : r;
	if (f.n[PT_NSPID] < 0)
		return -EOPNOTSUPP;
	if (f.n[PT_NSPID] <= above)
		return -ESRCH;
	/* fdinfo numbers start at /proc's namespace; drop the levels above the caller's. */
	return pidtuple_from_outer(f.ids[PT_NSPID] + above, (size_t)(f.n[PT_NSPID] - above),
				   ret_tuple);
}

PT_PUBLIC int pidtuple_of_pid(pid_t pid, struct pidtuple **ret_tuple)
{
	int fd, r;

	pt_return_if(pid < 1 || !ret_tuple, -EINVAL);
	/* pidfd_open() resolves @pid in the caller's namespace, whoever mounted /proc. */
	fd = pt_sys_pidfd_open(pid, 0);
	if (fd == -ENOSYS)
		return -EOPNOTSUPP;
	if (fd == -EINVAL || fd == -ENOENT)
		return -ESRCH; /* a thread id, not a process (ENOENT from 6.9 on) */
	if (fd < 0)
		return fd;
	r = pidtuple_of_pidfd(fd, ret_tuple);
	pt_close(fd);
	return r;
}
