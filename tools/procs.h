/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pidtuple command-line tool: the namespace scan that ps, tree and show --threads share
 * (procs.c). */
#ifndef PIDTUPLE_CLI_PROCS_H
#define PIDTUPLE_CLI_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "pidtuple.h"

/* One thread of a scanned process. */
struct cli_thread {
	pid_t tid;		/* in the caller's namespace */
	struct pidtuple *tuple; /* its TID tuple */
};

/* One process of a namespace scan, as ps, tree and show --threads use it. */
struct cli_proc {
	pid_t pid, ppid;	     /* in the caller's namespace; ppid 0: parent outside it */
	uint32_t flags;		     /* PIDTUPLE_ENTRY_NS_INIT */
	uint64_t ns_id;		     /* the process's own PID namespace (nsfs inode) */
	struct pidtuple *tuple;	     /* its PID tuple */
	struct pidtuple *pgid, *sid; /* 0 where not visible */
	char comm[CLI_COMM_MAX];     /* with CLI_SCAN_COMM, else empty */
	bool kthread;		     /* with CLI_SCAN_COMM: a kernel thread (PF_KTHREAD) */
	struct cli_thread *threads;  /* with CLI_SCAN_THREADS: all, the leader first, then by TID */
	size_t nthreads;
};

/* Every process the scan sees, sorted by PID. */
struct cli_procs {
	struct cli_proc *v;
	size_t n;
};

#define CLI_SCAN_THREADS (1u << 0)   /* list each process's threads */
#define CLI_SCAN_COMM (1u << 1)	     /* each command name: the entry's, else from /proc */
#define CLI_SCAN_COMM_ONLY (1u << 2) /* with CLI_SCAN_COMM: the name alone, kthread unset */

/* Scans the caller's PID namespace and those below it; processes that exit meanwhile are
 * left out. 0 or -errno. */
int cli_scan(unsigned int flags, struct cli_procs *ret);
void cli_procs_free(struct cli_procs *ps);
/* The process @pid of a scan, or NULL. */
struct cli_proc *cli_procs_find(const struct cli_procs *ps, pid_t pid);

#endif
