/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading one process's tuple from /proc, relative to the caller's PID namespace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

struct pt_nsfields {
	int pid; /* the "Pid:" field, or INT_MIN-ish sentinel when absent */
	bool has_pid;
	int n; /* NSpid entries, -1 when absent */
	pid_t nspid[PIDTUPLE_MAX_LEVELS + 1];
};

static int parse_int(const char **pp, int *out)
{
	const char *p = *pp;
	bool neg = false;
	long v = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (*p++ - '0');
		if (v > 0x7fffffff)
			return -EINVAL;
	}
	*out = (int)(neg ? -v : v);
	*pp = p;
	return 0;
}

/* Reads the "Pid:" and "NSpid:" lines of a status or fdinfo file. */
static int read_nsfields(const char *path, struct pt_nsfields *f)
{
	char buf[4096];
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	f->has_pid = false;
	f->n = -1;
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			close(fd);
			return (int)r;
		}
		if (r == 0 || (len += (size_t)r) == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';

	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, "Pid:", 4) == 0) {
			const char *p = line + 4;

			while (*p == ' ' || *p == '\t')
				p++;
			if (parse_int(&p, &f->pid) == 0)
				f->has_pid = true;
		} else if (strncmp(line, "NSpid:", 6) == 0) {
			const char *p = line + 6;

			f->n = 0;
			for (;;) {
				int v;

				while (*p == ' ' || *p == '\t')
					p++;
				if (*p == '\n' || *p == '\0')
					break;
				if (f->n > PIDTUPLE_MAX_LEVELS || parse_int(&p, &v) < 0)
					return -EIO;
				f->nspid[f->n++] = v;
			}
			break; /* NSpid follows Pid in both formats */
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int pt_read_nspid(const char *path, pid_t *out, size_t cap)
{
	struct pt_nsfields f;
	int r = read_nsfields(path, &f);

	if (r < 0)
		return r;
	if (f.n < 0)
		return -ENODATA;
	if ((size_t)f.n > cap)
		return -ERANGE;
	memcpy(out, f.nspid, (size_t)f.n * sizeof(pid_t));
	return f.n;
}

int pt_proc_levels_above(void)
{
	struct pt_nsfields f;
	int r = read_nsfields("/proc/self/status", &f);

	if (r < 0)
		return r == -ENOENT || r == -ENOTDIR ? -ENOENT : r;
	if (f.n < 1)
		return -EOPNOTSUPP; /* kernel before 4.1 */
	return f.n - 1;
}

PT_PUBLIC int pidtuple_of_pidfd(int pidfd, struct pidtuple **ret_tuple)
{
	char path[64];
	struct pt_nsfields f;
	int above, r;

	pt_return_if(!ret_tuple, -EINVAL);
	pt_return_if(pidfd < 0, -EBADF);
	above = pt_proc_levels_above();
	if (above < 0)
		return above;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	r = read_nsfields(path, &f);
	if (r == -ENOENT)
		return -EBADF;
	if (r < 0)
		return r;
	if (!f.has_pid)
		return -EBADF; /* not a pidfd */
	if (f.pid <= 0)
		return -ESRCH; /* -1: reaped; 0: outside this /proc's namespace */
	if (f.n < 0)
		return -EOPNOTSUPP;
	if (f.n <= above)
		return -ESRCH;
	/* fdinfo numbers start at /proc's namespace; drop the levels above the caller's. */
	return pidtuple_from_outer(f.nspid + above, (size_t)(f.n - above), ret_tuple);
}

PT_PUBLIC int pidtuple_of_pid(pid_t pid, struct pidtuple **ret_tuple)
{
	int fd, r;

	pt_return_if(pid < 1 || !ret_tuple, -EINVAL);
	/* pidfd_open() resolves @pid in the caller's namespace, whoever mounted /proc. */
	fd = pt_sys_pidfd_open(pid, 0);
	if (fd == -ENOSYS)
		return -EOPNOTSUPP;
	if (fd == -EINVAL)
		return -ESRCH; /* a thread id, not a process */
	if (fd < 0)
		return fd;
	r = pidtuple_of_pidfd(fd, ret_tuple);
	close(fd);
	return r;
}
