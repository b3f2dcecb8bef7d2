/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one /proc layer: reading files, id lines and directories of /proc. It sits at the bottom,
 * on the syscall shim and libc only, so any module may use it and it uses none.
 */
#ifndef PIDTUPLE_PROC_H
#define PIDTUPLE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pidtuple.h"

enum { PT_NSPID = 0, PT_NSTGID = 1, PT_NSPGID = 2, PT_NSSID = 3 };

/* The id lines of a /proc status file (or the Pid/NSpid lines of a pidfd's fdinfo). */
struct pt_status {
	int pid, ppid, tgid;
	bool has_pid, has_ppid, has_tgid;
	int n[4]; /* entries of NSpid, NStgid, NSpgid, NSsid; -1 when the line is absent */
	pid_t ids[4][PIDTUPLE_MAX_LEVELS + 1]; /* outermost first, as printed */
};
/* Parses the id lines of a status or fdinfo text, stopping after NSsid (the last of them).
 * 0, or -EIO when an id line is malformed. */
int pt_parse_status(const char *buf, struct pt_status *st);
/* Reads a small file (relative to @dirfd when >= 0) into @buf, NUL-terminated: its length,
 * or -errno. One read where the buffer has room. */
int pt_read_file_at(int dirfd, const char *path, char *buf, size_t size);
/* The fdinfo of @pidfd: 0, the read's -errno (-ENOENT: no such fd, or no /proc), -EBADF when
 * it is not a pidfd, -ESRCH when its process is reaped or outside /proc's namespace. */
int pt_read_pidfd_fdinfo(int pidfd, struct pt_status *st);

/* Reads the NSpid line (outermost first) of a status or fdinfo file at @path.
 * Returns the number of entries, or -errno (-ENODATA when there is no NSpid line). */
int pt_read_nspid(const char *path, pid_t *out, size_t cap);
/* 1 when @pid (caller's numbering) has exited (a zombie, or gone), 0 when it runs, -errno. */
int pt_pid_exited(pid_t pid);
/* Number of levels /proc shows above the caller's active namespace (0 when /proc is the
 * caller's own), or -errno. */
int pt_proc_levels_above(void);

/* Reads a positive integer from a one-line file such as a sysctl. */
int pt_read_int_file(const char *path, int *out);

/* Reads a status or fdinfo file (relative to @dirfd when >= 0) and parses its id lines. */
int pt_read_status_at(int dirfd, const char *path, struct pt_status *st);

/* Numeric entries of a /proc directory, read with getdents64 into a fixed buffer. */
struct pt_dir {
	int fd;
	size_t len, pos;
	char buf[8192];
};
/* Opens @path relative to @dirfd (or absolute); 0 or -errno. */
int pt_dir_open(struct pt_dir *d, int dirfd, const char *path);
/* The next numeric entry: 1 with *ret, 0 at the end, or -errno. */
int pt_dir_next_pid(struct pt_dir *d, pid_t *ret);
void pt_dir_close(struct pt_dir *d);

#endif
