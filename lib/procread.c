/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading one process's tuple from /proc, relative to the caller's PID namespace. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

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

/* Parses a blank-separated list of ints up to the end of the line; -EIO when malformed. */
static int parse_list(const char *p, pid_t *out, int cap)
{
	int n = 0;

	for (;;) {
		int v;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\0')
			return n;
		if (n == cap || parse_int(&p, &v) < 0 ||
		    (*p && *p != ' ' && *p != '\t' && *p != '\n'))
			return -EIO;
		out[n++] = v;
	}
}

static int parse_field(const char *line, const char *name, int *out)
{
	size_t len = strlen(name);
	const char *p = line + len;

	if (strncmp(line, name, len) != 0)
		return 0;
	while (*p == ' ' || *p == '\t')
		p++;
	return parse_int(&p, out) == 0 ? 1 : -EIO;
}

int pt_parse_status(const char *buf, struct pt_status *st)
{
	*st = (struct pt_status){ .n[0] = -1, .n[1] = -1, .n[2] = -1, .n[3] = -1 };
	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n');
		static const char *const lists[4] = { "NSpid:", "NStgid:", "NSpgid:", "NSsid:" };
		int r;

		if ((r = parse_field(line, "Pid:", &st->pid)) != 0)
			st->has_pid = r > 0;
		else if ((r = parse_field(line, "PPid:", &st->ppid)) != 0)
			st->has_ppid = r > 0;
		else if ((r = parse_field(line, "Tgid:", &st->tgid)) != 0)
			st->has_tgid = r > 0;
		else
			for (int k = 0; k < 4; k++) {
				size_t len = strlen(lists[k]);

				if (strncmp(line, lists[k], len) == 0) {
					st->n[k] = parse_list(line + len, st->ids[k],
							      PIDTUPLE_MAX_LEVELS + 1);
					if (st->n[k] < 0)
						return -EIO;
					break;
				}
			}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

int pt_read_text(int dirfd, const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd;

	if (size == 0)
		return -EINVAL;
	fd = dirfd >= 0 ? pt_openat(dirfd, path, O_RDONLY) : pt_open(path, O_RDONLY);

	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t r = pt_read(fd, buf + len, size - 1 - len);

		if (r < 0) {
			pt_close(fd);
			return (int)r;
		}
		if (r == 0 || (len += (size_t)r) == size - 1)
			break;
	}
	pt_close(fd);
	buf[len] = '\0';
	return (int)len;
}

/* Reads the id lines of a status or fdinfo file. */
static int read_nsfields(const char *path, struct pt_status *st)
{
	char buf[4096];
	int r = pt_read_text(-1, path, buf, sizeof(buf));

	if (r < 0)
		return r;
	return pt_parse_status(buf, st);
}

int pt_read_nspid(const char *path, pid_t *out, size_t cap)
{
	struct pt_status f;
	int r = read_nsfields(path, &f);

	if (r < 0)
		return r;
	if (f.n[PT_NSPID] < 0)
		return -ENODATA;
	if ((size_t)f.n[PT_NSPID] > cap)
		return -ERANGE;
	memcpy(out, f.ids[PT_NSPID], (size_t)f.n[PT_NSPID] * sizeof(pid_t));
	return f.n[PT_NSPID];
}

#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

/*
 * pt_proc_levels_above() per /proc mount: what a mount shows never changes (its namespace is
 * fixed) and neither does the caller's active namespace, except in a forked child. So one
 * word, lock-free: the mount's unique id (6.8+, never reused) above the low byte, `above` + 1
 * in it; in a page the kernel wipes in forked children. A statx instead of a status read.
 */
static _Atomic(uint64_t *) above_page;

/* NULL: no page this time (no memory, or a kernel before 4.14 without MADV_WIPEONFORK); the
 * next call tries again rather than giving the cache up for good after one failure. */
static _Atomic uint64_t *above_word(void)
{
	uint64_t *p = atomic_load(&above_page), *expected = NULL;

	if (p)
		return (_Atomic uint64_t *)p;
	p = pt_mmap_wipeonfork(4096);
	if (!p)
		return NULL;
	if (!atomic_compare_exchange_strong(&above_page, &expected, p)) {
		pt_munmap(p, 4096); /* another thread won */
		p = expected;
	}
	return (_Atomic uint64_t *)p;
}

static int levels_above_uncached(void)
{
	struct pt_status f;
	int r = pt_read_status_at(-1, "/proc/self/status", &f);

	if (r < 0)
		return r == -ENOENT || r == -ENOTDIR ? -ENOENT : r;
	if (f.n[PT_NSPID] < 1)
		return -EOPNOTSUPP; /* kernel before 4.1 */
	return f.n[PT_NSPID] - 1;
}

int pt_proc_levels_above(void)
{
	_Atomic uint64_t *w = above_word();
	struct statx stx;
	uint64_t key = 0;
	int r;

	if (w && pt_statx(AT_FDCWD, "/proc", AT_NO_AUTOMOUNT, STATX_MNT_ID_UNIQUE, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID_UNIQUE) && stx.stx_mnt_id < (1ull << 56)) {
		uint64_t v = atomic_load(w);

		key = stx.stx_mnt_id << 8;
		if (v && (v & ~0xffull) == key)
			return (int)(v & 0xff) - 1;
	}
	r = levels_above_uncached();
	if (key && r >= 0 && r < 0xff)
		atomic_store(w, key | (uint64_t)(r + 1));
	return r;
}

PT_PUBLIC int pidtuple_of_pidfd(int pidfd, struct pidtuple **ret_tuple)
{
	char path[64];
	struct pt_status f;
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

int pt_pid_exited(pid_t pid)
{
	int fd = pt_sys_pidfd_open(pid, 0), r;

	if (fd < 0)
		return fd == -ESRCH ? 1 : fd;
	/* A pidfd becomes readable when its process exits, reaped or not. */
	r = pt_poll_in(fd);
	pt_close(fd);
	return r;
}
