/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one /proc layer: every read, stat and listing of /proc goes through here (only the
 * ns_last_pid lock and writes open it elsewhere). It sits at the bottom, on the syscall shim
 * and libc only, so any module may use it and it uses none.
 *
 * Paths: @procfd is a descriptor of /proc (relative paths, as the scan does) or -1 (absolute
 * paths); @pid <= 0 names the caller ("self"); @tid > 0 adds "task/TID".
 */
#ifndef PIDTUPLE_PROC_H
#define PIDTUPLE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "pidtuple.h"

/* ---- whole files ---- */

/* Reads a small file (relative to @dirfd when >= 0) into @buf, NUL-terminated: the length,
 * or -errno. /proc files give all they have in one read when @buf has room. */
int pt_read_file_at(int dirfd, const char *path, char *buf, size_t size);

/* Room for any path pt_proc_path() builds. */
#define PT_PROC_PATH_MAX 64
/* "[/proc/]{PID|self}[/task/TID]/NAME" (see the top of this file); @name of 20 bytes at most. */
void pt_proc_path(char buf[PT_PROC_PATH_MAX], int procfd, pid_t pid, pid_t tid, const char *name);

/* ---- id lines of status and fdinfo ---- */

enum { PT_NSPID = 0, PT_NSTGID = 1, PT_NSPGID = 2, PT_NSSID = 3 };

/* The id lines of a /proc status file (or the Pid/NSpid lines of a pidfd's fdinfo). */
struct pt_status {
	int pid, ppid, tgid;
	bool has_pid, has_ppid, has_tgid;
	int n[4]; /* entries of NSpid, NStgid, NSpgid, NSsid; -1 when the line is absent */
	pid_t ids[4][PIDTUPLE_MAX_LEVELS + 1]; /* outermost first, as printed */
	bool has_name;
	signed char kthread; /* the "Kthread:" line after NSsid: 1, 0, or -1 when absent */
	char name[64];	     /* "Name:" unescaped: /proc/PID/comm without its newline */
};
/* Parses the id lines (and the name) of a status or fdinfo text, stopping after NSsid.
 * 0, -EIO when an id line is malformed, or -ESRCH when the task is being released (NSpid
 * shows 0 for its own numbers then). */
int pt_parse_status(const char *buf, struct pt_status *st);
/* Reads a status or fdinfo file (relative to @dirfd when >= 0) and parses its id lines. */
int pt_read_status_at(int dirfd, const char *path, struct pt_status *st);
/* The status of process @pid, or of its thread @tid. */
int pt_proc_status(int procfd, pid_t pid, pid_t tid, struct pt_status *st);
/* The fdinfo of @pidfd: 0, the read's -errno (-ENOENT: no such fd, or no /proc), -EBADF when
 * it is not a pidfd, -ESRCH when its process is reaped or outside /proc's namespace. */
int pt_read_pidfd_fdinfo(int pidfd, struct pt_status *st);

/* ---- other files of a process ---- */

/* Opens /proc/PID/ns/@ns ("pid", "user", "pid_for_children") read-only. */
int pt_proc_ns_open(int procfd, pid_t pid, const char *ns);
int pt_proc_ns_stat(int procfd, pid_t pid, const char *ns, struct stat *st);
/* The inode of the caller's namespace link @ns, from its text ("pid:[4026531836]"): a readlink
 * costs half a stat, which makes the namespace's nsfs inode. */
int pt_proc_self_ns_ino(const char *ns, uint64_t *ret_ino);
/* The parent of @pid, from /proc/PID/stat. */
int pt_proc_ppid(int procfd, pid_t pid, pid_t *ret);
/* The state letter of @pid ('R', 'S', 'Z' zombie, 'X' dead, ...) and its parent (0 when the
 * parent is outside /proc's namespace), from /proc/PID/stat. */
int pt_proc_state(int procfd, pid_t pid, char *ret_state, pid_t *ret_ppid);
/* A command name's size (TASK_COMM_LEN, with its NUL). */
#define PT_COMM_SIZE 16
/* The caller's number in /proc's namespace (the "self" link), or -errno. */
pid_t pt_proc_self(int procfd);
/* Calls @add for each child that /proc/PID/task/TID/children lists; 0 when the thread is gone,
 * else 0, -errno, or what @add returned below 0. */
int pt_proc_children(pid_t pid, pid_t tid, int (*add)(void *arg, pid_t child), void *arg);

/* ---- directories ---- */

/* Numeric entries of a /proc directory, read with getdents64 into a fixed buffer. */
struct pt_dir {
	int fd;
	size_t len, pos;
	char buf[8192];
};
/* /proc itself; d->fd is then a /proc descriptor for the functions above. 0 or -errno. */
int pt_dir_open_proc(struct pt_dir *d);
/* /proc/PID/task. */
int pt_dir_open_tasks(struct pt_dir *d, int procfd, pid_t pid);
/* The next numeric entry: 1 with *ret, 0 at the end, or -errno. */
int pt_dir_next_pid(struct pt_dir *d, pid_t *ret);
void pt_dir_close(struct pt_dir *d);

/* ---- integer files (sysctls) ---- */

/* The integer an open sysctl-style file holds, read from offset 0 (so a descriptor open for
 * writing reads back): the value, or -errno. */
int pt_read_int_fd(int fd);
/* The same for the file at @path. */
int pt_read_int_file(const char *path);
/* The caller's namespace's pid_max (> 0), or -errno. */
int pt_read_pid_max(int *ret);

/* ---- the caller and its processes ---- */

/* Number of levels /proc shows above the caller's active namespace (0 when /proc is the
 * caller's own), or -errno. */
int pt_proc_levels_above(void);
/* 1 when @pid (caller's numbering) has exited (a zombie, or gone), 0 when it runs, -errno. */
int pt_pid_exited(pid_t pid);

#endif
