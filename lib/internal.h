/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the modules share. Non-static internal symbols carry the pt_ prefix: a static archive
 * cannot hide them. */
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
#include "opts.h"
#include "pidtuple.h"
#include "syscall_shim.h"

#define PT_PUBLIC PIDTUPLE_API

/* sd-style argument check: return, never abort, never print. */
#define pt_return_if(cond, err)       \
	do {                          \
		if (cond)             \
			return (err); \
	} while (0)

struct pidtuple {
	unsigned int n;
	pid_t pid[PIDTUPLE_MAX_LEVELS]; /* innermost first */
};

/* Builds a tuple; @allow_zero admits the 0 that marks a level where a process group or session
 * is not visible (read from the kernel, never from a user). */
int pt_tuple_new(const pid_t *pids, size_t n, bool outer_first, bool allow_zero,
		 struct pidtuple **ret);

/* ---- size-prefixed structs: opts.h ---- */

/* PT_OPTS_HAS() for a bare size, as the files not yet moved to opts.h spell it. */
#define PT_HAS(sz, type, field) ((sz) >= pt_offsetofend(type, field))

/* Options after validation, with defaults applied. */
struct pt_fork_opts {
	uint64_t flags;
	uint64_t clone_flags;
	int exit_signal;
	int cgroup_fd;
	struct pidtuple_diag *diag;
	int (*lock)(void *arg);
	void (*unlock)(void *arg);
	void *lock_arg;
	unsigned int fallback_retries;
	bool want_vfork; /* pidtuple_spawn(): CLONE_VFORK on the set_tid path */
	bool vforked;	 /* out: it was used */
};
int pt_fork_opts_get(const struct pidtuple_fork_opts *opts, struct pt_fork_opts *out);
/* The same, reporting bad options to @report (when not NULL) instead of opts->diag: for calls
 * that take a diag of their own. */
int pt_fork_opts_get_to(const struct pidtuple_fork_opts *opts, struct pt_fork_opts *out,
			struct pidtuple_diag *report);

/* ---- diagnostics: diag.h ---- */

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

/* ---- namespace context ---- */

struct pt_level {
	int nsfd; /* -1 for a namespace the fork creates */
	uint64_t ns_id;
	uint64_t flags; /* PIDTUPLE_LEVEL_* as captured */
	int pid_max;
};

struct pidtuple_nsctx {
	struct pt_fork_opts opts;
	unsigned int n;	      /* visible levels */
	int abs_level;	      /* absolute level of levels[0], -1 when unknown */
	bool newpid_unshared; /* CLONE_NEWPID requested but active != pid_for_children */
	uint64_t cap_eff;
	struct pt_level levels[PIDTUPLE_MAX_LEVELS + 1];
};

int pt_nsctx_init(struct pidtuple_nsctx *ctx, const struct pt_fork_opts *o, bool want_abs);
void pt_nsctx_fini(struct pidtuple_nsctx *ctx);
/* Reads whether an init lives in @lv now: PIDTUPLE_LEVEL_HAS_INIT / _INIT_DEAD / _UNKNOWN. */
uint64_t pt_level_init_state(const struct pt_level *lv, bool scan);
/* 1 when @pid is in use at @lv, 0 when free, -errno when the library cannot tell. */
int pt_level_pid_taken(const struct pt_level *lv, pid_t pid);
/* Same for the caller's own namespace. */
int pt_active_pid_taken(pid_t pid);
/* pt_level_pid_taken(), and with @scan a walk of /proc for groups and sessions that outlived
 * their leader (and for tasks where the nsfs ioctls are missing). */
int pt_level_pid_held(const struct pt_level *lv, pid_t pid, bool scan);

/* ---- validator and features ---- */

int pt_check_static(const struct pidtuple *t, const struct pt_fork_opts *o,
		    struct pidtuple_diag *diag);
int pt_check_ctx(const struct pidtuple_nsctx *ctx, const struct pidtuple *t,
		 struct pidtuple_diag *diag);
/* Explains a kernel failure of a fork with the validator; returns the error to report. */
int pt_explain_failure(const struct pidtuple *t, const struct pt_fork_opts *o, int kernel_err);

uint64_t pt_features_cached(void);
/* The negative errno that ruled out one feature bit, 0 when present. */
int pt_feature_err(uint64_t feature);
/* Forgets the cached probe results and probes again. */
uint64_t pt_features_reprobe(void);

/* ---- the ns_last_pid path and its lock (legacy.c) ---- */

/* The cross-tool lock: flock(LOCK_EX) on an open ns_last_pid, or the embedder's callbacks.
 * On success *ret_fd is the descriptor to hand back to pt_lock_release() (-1 for callbacks). */
int pt_lock_take(const struct pt_fork_opts *o, int open_flags, int *ret_fd);
void pt_lock_release(const struct pt_fork_opts *o, int fd);
/* Forks @t through ns_last_pid; @why is the errno that ruled set_tid out. */
pid_t pt_fork_fallback(const struct pidtuple *t, const struct pt_fork_opts *o, int *ret_pidfd,
		       int why);

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
