/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The namespace context: the levels the next fork can pin, as the caller sees them, and the
 * facts that change under it (inits, taken PIDs), read again on every question (nsctx.c). */
#ifndef PIDTUPLE_NSCTX_H
#define PIDTUPLE_NSCTX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "forkopts.h"
#include "pidtuple.h"

struct pt_level {
	int nsfd; /* -1 for a namespace the fork creates, or the caller's own not opened */
	uint64_t ns_id;
	uint64_t flags; /* PIDTUPLE_LEVEL_* as captured */
	int pid_max;
	/* The namespace /proc belongs to, above the caller's: seen through /proc alone (the nsfs
	 * ioctls answer ESRCH for tasks the caller cannot see). */
	bool via_proc;
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
/* The context for checking @t alone, cheaper: its levels only, pid_max only where a PID of @t
 * could reach it (else INT_MAX). Not for describing levels. */
int pt_nsctx_init_for(struct pidtuple_nsctx *ctx, const struct pt_fork_opts *o,
		      const struct pidtuple *t, bool want_abs);
void pt_nsctx_fini(struct pidtuple_nsctx *ctx);
/* The level of the namespace /proc belongs to when it lies above the caller's active one
 * (/proc mounted by an outer namespace): *@lv filled in, its distance above the caller's level
 * returned (> 0). 0 when /proc is the caller's own or that level cannot be judged from here
 * (its namespace cannot be opened), -errno when /proc cannot be read. Costs a few /proc reads:
 * for tuples with more levels than @ctx. */
int pt_nsctx_proc_level(const struct pidtuple_nsctx *ctx, struct pt_level *lv);
/* Reads whether an init lives in @lv now: PIDTUPLE_LEVEL_HAS_INIT / _INIT_DEAD / _UNKNOWN. */
uint64_t pt_level_init_state(const struct pt_level *lv, bool scan);
/* 1 when @pid is in use at @lv, 0 when free, -errno when the library cannot tell. */
int pt_level_pid_taken(const struct pt_level *lv, pid_t pid);
/* Same for the caller's own namespace. */
int pt_active_pid_taken(pid_t pid);
/* pt_level_pid_taken(), and with @scan a walk of /proc for groups and sessions that outlived
 * their leader (and for tasks where the nsfs ioctls are missing). */
int pt_level_pid_held(const struct pt_level *lv, pid_t pid, bool scan);
/* The end of a pid-taken message when @pid's holder at @lv has exited and waits to be reaped:
 * ": a zombie of PPID, not yet reaped (...)", PPID in the caller's numbering; else "". Read at
 * the caller's level, at levels below it where the nsfs ioctls name the holder in the
 * caller's numbering, and at /proc's level above it. For the failure path: it costs a pidfd
 * and a few /proc reads. */
void pt_level_holder_note(const struct pt_level *lv, pid_t pid, char *buf, size_t size);
/* The same for @pid in the PID namespace @nsfd (one the caller sees, at or below its own). */
void pt_ns_holder_note(int nsfd, pid_t pid, char *buf, size_t size);
/* The words every such note holds, for callers that wait for the holder to go. */
#define PT_HOLDER_NOT_REAPED "not yet reaped"

#endif
