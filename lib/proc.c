/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one /proc layer (proc.h): whole files read in one read where they fit, the id lines of
 * status and fdinfo, the other files of a process, numeric directories, sysctl integers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "syscall_shim.h"

/* ---- paths ---------------------------------------------------------------------------- */

static char *put_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static char *put_str(char *p, const char *s)
{
	return put_mem(p, s, strlen(s));
}

/* A literal's bytes are known when compiled: a couple of moves, no loop. */
#define PUT_LIT(p, lit) put_mem((p), (lit), sizeof(lit) - 1)

static char *put_num(char *p, unsigned int v)
{
	char digits[10];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* Writes "[/proc/]{PID|self}[/task/TID]/" (33 bytes at most); returns where a name goes. */
static char *proc_dir(char *p, int procfd, pid_t pid, pid_t tid)
{
	if (procfd < 0)
		p = PUT_LIT(p, "/proc/");
	p = pid > 0 ? put_num(p, (unsigned int)pid) : PUT_LIT(p, "self");
	if (tid > 0)
		p = put_num(PUT_LIT(p, "/task/"), (unsigned int)tid);
	*p++ = '/';
	return p;
}

void pt_proc_path(char buf[PT_PROC_PATH_MAX], int procfd, pid_t pid, pid_t tid, const char *name)
{
	*put_str(proc_dir(buf, procfd, pid, tid), name) = '\0';
}

static int open_at(int dirfd, const char *path, int flags)
{
	return dirfd >= 0 ? pt_openat(dirfd, path, flags) : pt_open(path, flags);
}

/* ---- whole files ---------------------------------------------------------------------- */

int pt_read_file_at(int dirfd, const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd;

	if (size == 0)
		return -EINVAL;
	fd = open_at(dirfd, path, O_RDONLY);
	if (fd < 0)
		return fd;
	/* /proc's seq files give all they have in one read when the buffer has room: a short
	 * read is the end, which saves the read that would return 0. */
	while (len < size - 1) {
		size_t want = size - 1 - len;
		ssize_t r = pt_read(fd, buf + len, want);

		if (r < 0) {
			pt_close(fd);
			return (int)r;
		}
		len += (size_t)r;
		if ((size_t)r < want)
			break;
	}
	pt_close(fd);
	buf[len] = '\0';
	return (int)len;
}

/* ---- id lines of status and fdinfo ---------------------------------------------------- */

/* Parses the numbers after a label up to the end of the line: -1 when malformed. */
static int parse_nums(const char *p, pid_t *out, int cap)
{
	int n = 0;

	for (;;) {
		long v = 0;
		bool neg = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\n' || *p == '\0')
			return n;
		if (*p == '-') {
			neg = true;
			p++;
		}
		if (*p < '0' || *p > '9' || n == cap)
			return -1;
		while (*p >= '0' && *p <= '9' && v <= 0x7fffffff)
			v = v * 10 + (*p++ - '0');
		if (v > 0x7fffffff || (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\0'))
			return -1;
		out[n++] = (pid_t)(neg ? -v : v);
	}
}

/* "Name:" with the kernel's escapes of a backslash and a newline undone. */
static void parse_name(const char *p, struct pt_status *st)
{
	size_t n = 0;

	for (p += *p == '\t'; *p && *p != '\n' && n + 1 < sizeof(st->name); p++) {
		char c = *p;

		if (c == '\\' && (p[1] == 'n' || p[1] == '\\'))
			c = *++p == 'n' ? '\n' : '\\';
		st->name[n++] = c;
	}
	st->name[n] = '\0';
	st->has_name = true;
}

/* A task being released while its status is printed (past detach_pid(), before its /proc
 * entry goes) shows 0 for each of its own numbers: it is gone, not malformed. A pidfd's
 * fdinfo, whose Pid is 0 or -1 outside /proc's namespace or once reaped, says so itself. */
static int released(const struct pt_status *st)
{
	for (int i = 0; st->pid > 0 && i < st->n[PT_NSPID]; i++)
		if (st->ids[PT_NSPID][i] == 0)
			return -ESRCH;
	return 0;
}

/* Looks only at lines that can be id lines or the name, and stops after NSsid, the last of
 * them (and the "Kthread:" line that follows it on newer kernels). */
int pt_parse_status(const char *buf, struct pt_status *st)
{
	static const struct {
		const char *label;
		int len, k; /* k: list index, or -1 Pid, -2 PPid, -3 Tgid */
	} lines[] = {
		{ "Pid:", 4, -1 },	   { "PPid:", 5, -2 },		{ "Tgid:", 5, -3 },
		{ "NSpid:", 6, PT_NSPID }, { "NStgid:", 7, PT_NSTGID }, { "NSpgid:", 7, PT_NSPGID },
		{ "NSsid:", 6, PT_NSSID },
	};

	*st = (struct pt_status){ .n[0] = -1, .n[1] = -1, .n[2] = -1, .n[3] = -1, .kthread = -1 };
	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, "Name:", 5) == 0)
			parse_name(line + 5, st);
		else if (*line == 'P' || *line == 'T' || *line == 'N') {
			for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
				pid_t v[PIDTUPLE_MAX_LEVELS + 1];
				int k = lines[i].k, n;

				if (strncmp(line, lines[i].label, (size_t)lines[i].len) != 0)
					continue;
				n = parse_nums(line + lines[i].len, k >= 0 ? st->ids[k] : v,
					       k >= 0 ? PIDTUPLE_MAX_LEVELS + 1 : 1);
				if (n < 0 || (k < 0 && n != 1))
					return -EIO;
				if (k >= 0)
					st->n[k] = n;
				else if (k == -1)
					st->pid = v[0], st->has_pid = true;
				else if (k == -2)
					st->ppid = v[0], st->has_ppid = true;
				else
					st->tgid = v[0], st->has_tgid = true;
				if (k == PT_NSSID) {
					if (nl && strncmp(nl + 1, "Kthread:\t", 9) == 0)
						st->kthread = nl[10] == '1';
					return released(st);
				}
				break;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return released(st);
}

int pt_read_status_at(int dirfd, const char *path, struct pt_status *st)
{
	char buf[4096];
	int r = pt_read_file_at(dirfd, path, buf, sizeof(buf));

	return r < 0 ? r : pt_parse_status(buf, st);
}

int pt_proc_status(int procfd, pid_t pid, pid_t tid, struct pt_status *st)
{
	char path[PT_PROC_PATH_MAX];

	pt_proc_path(path, procfd, pid, tid, "status");
	return pt_read_status_at(procfd, path, st);
}

int pt_read_pidfd_fdinfo(int pidfd, struct pt_status *st)
{
	char path[PT_PROC_PATH_MAX];
	int r;

	*put_num(PUT_LIT(proc_dir(path, -1, 0, 0), "fdinfo/"), (unsigned int)pidfd) = '\0';
	r = pt_read_status_at(-1, path, st);
	if (r < 0)
		return r;
	if (!st->has_pid)
		return -EBADF;		  /* not a pidfd */
	return st->pid <= 0 ? -ESRCH : 0; /* -1: reaped; 0: outside /proc's namespace */
}

/* ---- other files of a process --------------------------------------------------------- */

static void ns_path(char path[PT_PROC_PATH_MAX], int procfd, pid_t pid, const char *ns)
{
	*put_str(PUT_LIT(proc_dir(path, procfd, pid, 0), "ns/"), ns) = '\0';
}

int pt_proc_ns_open(int procfd, pid_t pid, const char *ns)
{
	char path[PT_PROC_PATH_MAX];

	ns_path(path, procfd, pid, ns);
	return open_at(procfd, path, O_RDONLY);
}

int pt_proc_ns_stat(int procfd, pid_t pid, const char *ns, struct stat *st)
{
	char path[PT_PROC_PATH_MAX];

	ns_path(path, procfd, pid, ns);
	return procfd >= 0 ? pt_fstatat(procfd, path, st, 0) : pt_stat(path, st);
}

int pt_proc_self_ns_ino(const char *ns, uint64_t *ret_ino)
{
	char path[PT_PROC_PATH_MAX], buf[64];
	const char *p;
	uint64_t v = 0;
	ssize_t n;

	ns_path(path, -1, 0, ns);
	n = pt_readlinkat(AT_FDCWD, path, buf, sizeof(buf) - 1);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	p = strchr(buf, '[');
	if (!p || p[1] < '0' || p[1] > '9')
		return -EIO;
	for (p++; *p >= '0' && *p <= '9' && v < (1ull << 59); p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (*p != ']' || v == 0)
		return -EIO;
	*ret_ino = v;
	return 0;
}

int pt_proc_state(int procfd, pid_t pid, char *ret_state, pid_t *ret_ppid)
{
	char path[PT_PROC_PATH_MAX], buf[1024];
	const char *p;
	int r;

	pt_proc_path(path, procfd, pid, 0, "stat");
	r = pt_read_file_at(procfd, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	/* The command name before it may hold anything, ')' too: the fields follow the last. */
	p = strrchr(buf, ')');
	return p && sscanf(p + 1, " %c %d", ret_state, ret_ppid) == 2 ? 0 : -EIO;
}

int pt_proc_ppid(int procfd, pid_t pid, pid_t *ret)
{
	char state;

	return pt_proc_state(procfd, pid, &state, ret);
}

pid_t pt_proc_self(int procfd)
{
	char buf[32];
	ssize_t n = procfd >= 0 ? pt_readlinkat(procfd, "self", buf, sizeof(buf) - 1)
				: pt_readlinkat(AT_FDCWD, "/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return n < 0 ? (pid_t)n : -EIO;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

int pt_proc_children(pid_t pid, pid_t tid, int (*add)(void *arg, pid_t child), void *arg)
{
	char path[PT_PROC_PATH_MAX], buf[4096];
	long v = 0;
	int fd, r = 0;

	pt_proc_path(path, -1, pid, tid, "children");
	fd = pt_open(path, O_RDONLY);
	if (fd == -ENOENT || fd == -ESRCH)
		return 0; /* the thread is gone */
	if (fd < 0)
		return fd;
	/* Read to the end (a long list comes in several reads); a number may span two. */
	for (;;) {
		ssize_t len = pt_read(fd, buf, sizeof(buf));

		if (len < 0) {
			r = len == -ESRCH ? 0 : (int)len;
			break;
		}
		for (ssize_t i = 0; i < len && r == 0; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				v = v * 10 + (buf[i] - '0');
				if (v > 0x7fffffff)
					r = -EIO;
			} else if (v > 0) {
				r = add(arg, (pid_t)v);
				v = 0;
			}
		}
		if (r < 0 || len == 0)
			break;
	}
	if (r == 0 && v > 0)
		r = add(arg, (pid_t)v);
	pt_close(fd);
	return r;
}

/* ---- directories ---------------------------------------------------------------------- */

struct pt_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int dir_open(struct pt_dir *d, int dirfd, const char *path)
{
	d->fd = open_at(dirfd, path, O_RDONLY | O_DIRECTORY);
	d->len = d->pos = 0;
	return d->fd < 0 ? d->fd : 0;
}

int pt_dir_open_proc(struct pt_dir *d)
{
	return dir_open(d, -1, "/proc");
}

int pt_dir_open_tasks(struct pt_dir *d, int procfd, pid_t pid)
{
	char path[PT_PROC_PATH_MAX];

	pt_proc_path(path, procfd, pid, 0, "task");
	return dir_open(d, procfd, path);
}

int pt_dir_next_pid(struct pt_dir *d, pid_t *ret)
{
	for (;;) {
		const struct pt_dirent64 *e;
		long v = 0;
		const char *p;

		if (d->pos >= d->len) {
			ssize_t n = pt_getdents64(d->fd, d->buf, sizeof(d->buf));

			if (n == -ENOENT || n == 0)
				return 0; /* a task directory whose process has gone */
			if (n < 0)
				return (int)n;
			d->len = (size_t)n;
			d->pos = 0;
		}
		e = (const struct pt_dirent64 *)(d->buf + d->pos);
		d->pos += e->d_reclen;
		for (p = e->d_name; *p >= '0' && *p <= '9' && v <= 0x7fffffff; p++)
			v = v * 10 + (*p - '0');
		if (p != e->d_name && *p == '\0' && v > 0 && v <= 0x7fffffff) {
			*ret = (pid_t)v;
			return 1;
		}
	}
}

void pt_dir_close(struct pt_dir *d)
{
	pt_close(d->fd);
	d->fd = -1;
}

/* ---- integer files (sysctls) --------------------------------------------------------- */

int pt_read_int_fd(int fd)
{
	char buf[32];
	ssize_t n = pt_pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return n < 0 ? (int)n : -EIO;
	buf[n] = '\0';
	return atoi(buf);
}

int pt_read_int_file(const char *path)
{
	int fd = pt_open(path, O_RDONLY), v;

	if (fd < 0)
		return fd;
	v = pt_read_int_fd(fd);
	pt_close(fd);
	return v;
}

int pt_read_pid_max(int *ret)
{
	int v = pt_read_int_file("/proc/sys/kernel/pid_max");

	if (v <= 0)
		return v < 0 ? v : -EIO;
	*ret = v;
	return 0;
}

/* ---- the caller and its processes ----------------------------------------------------- */

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
	int r = pt_proc_status(-1, 0, 0, &f);

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
