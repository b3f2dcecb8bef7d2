/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An umbrella over the private headers, each of one role (lib.h, opts.h, diag.h, tuple.h,
 * forkopts.h, nsctx.h, probe.h, caps.h, validator.h, fallback.h, cgroup.h), kept only for the
 * files that still include it whole: the tree, restore and /proc reading files. Other files
 * include the role headers they need. Until lib/proc.h exists it also declares the /proc
 * reading below (nsctx.c and legacy.c include it for that alone). It goes once the branches
 * that make lib/proc.[ch] and move the tree files are merged.
 */
#ifndef PIDTUPLE_INTERNAL_H
#define PIDTUPLE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "caps.h"
#include "cgroup.h"
#include "diag.h"
#include "fallback.h"
#include "forkopts.h"
#include "lib.h"
#include "nsctx.h"
#include "opts.h"
#include "pidtuple.h"
#include "probe.h"
#include "syscall_shim.h"
#include "tuple.h"
#include "validator.h"

/* PT_OPTS_HAS() for a bare size, as the files not yet moved to opts.h spell it. */
#define PT_HAS(sz, type, field) ((sz) >= pt_offsetofend(type, field))

/* ---- /proc reading ---- */

enum { PT_NSPID = 0, PT_NSTGID = 1, PT_NSPGID = 2, PT_NSSID = 3 };

/* The id lines of a /proc status file (or the Pid/NSpid lines of a pidfd's fdinfo). */
struct pt_status {
	int pid, ppid, tgid;
	bool has_pid, has_ppid, has_tgid;
	int n[4]; /* entries of NSpid, NStgid, NSpgid, NSsid; -1 when the line is absent */
	pid_t ids[4][PIDTUPLE_MAX_LEVELS + 1]; /* outermost first, as printed */
};
int pt_parse_status(const char *buf, struct pt_status *st);
/* Reads a small text file (relative to @dirfd when >= 0) into @buf, NUL-terminated. */
int pt_read_text(int dirfd, const char *path, char *buf, size_t size);

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

/* ---- reading ids at every level (read.c, scan.c) ---- */

/* Reads a status or fdinfo file (relative to @dirfd when >= 0) and parses its id lines. */
int pt_read_status_at(int dirfd, const char *path, struct pt_status *st);
/* Parses the id lines of a status or fdinfo text, stopping after NSsid (the last of them). */
int pt_parse_ids(const char *buf, struct pt_status *st);
/* Compares a namespace fd's inode with @ino: 1 same, 0 not, -errno. */
int pt_ns_is(int nsfd, uint64_t ino);

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

/* ---- the batched scan (scan_uring.c) ---- */

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
