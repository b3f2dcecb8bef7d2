/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restoring a tree, private: what the restorer (restore.c), the processes of the tree
 * (restore_child.c) and the handle (restore_handle.c) share.
 */
#ifndef PIDTUPLE_RESTORE_INT_H
#define PIDTUPLE_RESTORE_INT_H

#include <signal.h>
#include <stdatomic.h>

#include "tree_int.h"

enum { RS_MSG_PIDFD = 1, RS_MSG_FAIL = 3, RS_MSG_DONE };

/*
 * How long a clone3() that fails with EEXIST is tried again. Since Linux 6.15 (free_pid()
 * moved out of tasklist_lock) a reaped process's numbers leave their namespaces a moment
 * after kill(), waitid() and pidfds stop seeing the process: a tree restored right after
 * its predecessor was killed could find a number still taken. A number taken for longer is
 * taken.
 */
#define PT_EEXIST_RETRY_MS 100

/*
 * How long the wait for a killed tree's exited processes to be reaped goes on without one
 * released. Those that are the caller's it has reaped itself, the kernel releases those it
 * reaps within moments, and a reaper at work takes one every few milliseconds; what is left is
 * a zombie handed to a reaper that is not (say an init blocked until the caller returns),
 * which waiting does not free.
 */
#define PT_REAP_STALL_MS 20

/* A record a process of the tree sends the restorer. */
struct rs_msg {
	int32_t kind;
	int32_t proc;
	int32_t err;
	int32_t op; /* RS_MSG_FAIL: the failing step; -1 while starting; RS_OP_THREAD(k) */
};

/* RS_MSG_FAIL's op when thread @k of a HOLD node could not be made; RS_OP_THREAD_OF(op) gives
 * @k back. */
#define RS_OP_THREAD(k) (-2 - (k))
#define RS_OP_THREAD_OF(op) (-2 - (op))

/*
 * Shared by the restorer and the whole tree. Creations run in parallel, each process in its
 * own order; the other steps (sessions, groups, helpers leaving) run one at a time in the
 * plan's order, which is a valid order for both.
 */
struct rs_shm {
	_Atomic uint32_t turn; /* the serialized step whose turn it is */
	_Atomic uint32_t ndone;
	_Atomic uint32_t abort;
	_Atomic uint32_t released;
	_Atomic uint32_t left;		    /* nodes past the barrier, PR_SET_PDEATHSIG cleared */
	_Atomic uint32_t go;		    /* all of them: start the work */
	_Atomic uint32_t req_node, req_seq; /* the hand-over request: which node, its number */
	/* one futex per process, then a state per step (RS_STEP_*), then RS_PF_* per process */
	_Atomic uint32_t wake[];
};

/* Step states. A creation is STARTED before clone3(), DONE once its pidfd is reported. */
enum { RS_STEP_NEW = 0, RS_STEP_STARTED, RS_STEP_DONE, RS_STEP_FAILED };

/*
 * What each process of the tree is, per process (rs_run.pflags), decided by the restorer:
 * RS_PF_CREATES, it forks; RS_PF_PARENT, it has children (or is an init, the reaper of its
 * namespace); RS_PF_HELD, it and every process it forks (and so on down) are HOLD nodes or
 * helpers, none of which keeps the caller's descriptors: it can drop them before its forks,
 * and what it forks inherits the HOLD node's final descriptors instead of moving its own;
 * nor reads the caller's heap, so its forks need not copy that either (rs_run.heap).
 * RS_PF_HOLD, it is a HOLD node. RS_PF_SHARE_VM (PIDTUPLE_FORK_SHARE_VM), a HOLD node without
 * steps or children whose creator is held: it shares its creator's address space.
 */
enum { RS_PF_CREATES = 1, RS_PF_PARENT = 2, RS_PF_HELD = 4, RS_PF_HOLD = 8, RS_PF_SHARE_VM = 16 };

/* A HOLD node's name and threads, in the shared memory: a held process reads nothing of the
 * caller's tree. */
struct rs_prep {
	char name[16];	   /* "" keeps the caller's */
	uint32_t nthreads; /* its threads are rs_run.threads[first...] */
	uint32_t first;
};

/* An address range, page-aligned. */
struct rs_range {
	uintptr_t lo, hi;
};

/* At most this many of the caller's objects are left out of the held processes' forks. */
#define RS_DROP_MAX 64

/* What the processes of the tree read, in their copy of the restorer's memory. */
struct rs_run {
	const struct pt_plan *pl; /* a copy in the shared memory */
	const struct pidtuple_tree *tree;
	struct rs_shm *shm;
	_Atomic uint8_t *opdone;
	const uint8_t *pflags;	  /* per process, RS_PF_* (in the shared memory) */
	const int32_t *serial;	  /* per step: its place among the serialized ones, or -1 */
	const int32_t *serial_op; /* the serialized steps, in order */
	size_t shm_len;
	int st_w, st_r;	  /* the report socket: the tree's end, the restorer's */
	int bar_r, bar_w; /* the barrier: the tree waits for EOF on bar_r */
	int lock_fd;	  /* the ns_last_pid lock (PIDTUPLE_FORK_LOCK), or -1 */
	int null_fd;	  /* /dev/null, for the HOLD nodes' 0, 1 and 2 */
	int hs_r, hs;	  /* the hand-over socket: the restorer's end, the HOLD nodes' end */
	sigset_t oldmask;
	const struct rs_prep *prep;	/* per process; nodes' (in the shared memory) */
	const struct pidtuple *threads; /* the HOLD nodes' threads (in the shared memory) */
	void *heap;			/* the caller's heap, or NULL (pt_restore_heap()) */
	size_t heap_len;
	struct rs_range
		drop[RS_DROP_MAX]; /* objects held processes leave out (restore_objects.c) */
	unsigned int ndrop;
};

/* What a HOLD node sends through the shared hand-over socket, with its own socket. */
struct rs_hmsg {
	int32_t node;
	uint32_t seq;
	int32_t err; /* no socket: why */
};

/* A hand-over request, in a memfd: the header, pointer slots holding offsets, the strings. */
struct rs_req {
	uint64_t size;
	uint64_t path;
	uint64_t argv;
	uint64_t envp; /* 0: the node's environment */
};

/* ---- restore_objects.c: the caller's objects, which held processes need not copy ---- */

/* Fills run->drop with the address ranges of the caller's loaded objects that nothing a held
 * process runs or reads is in, or sets run->ndrop to 0. @code: an address in the code the tree
 * runs (restore_child.c), whose libc calls must be bound already (the caller checks it with
 * pt_restore_bound_at_load()). */
void pt_restore_objects(struct rs_run *run, const void *code);
/* Whether the object holding @code binds its calls at load (or LD_BIND_NOW is set). */
bool pt_restore_bound_at_load(const void *code);

/* ---- restore_heap.c: the restorer's heap, which held processes need not copy ---- */

/* Sets run->heap and run->heap_len to the caller's heap (the brk area) when nothing a held
 * process reads can be there; else leaves them NULL and 0. The tree's libc calls must be bound
 * already (pt_restore_bound_at_load()). */
void pt_restore_heap(struct rs_run *run);

/* ---- restore_child.c: the processes of the tree (async-signal-safe) ---- */

/* The life of a process of the tree, from its clone3() on: process @me of the plan. @cself and
 * @cparent are the creator's pidfds of itself and of its parent. */
void pt_child_main(const struct rs_run *run, pt_proc_idx me, int cself, int cparent)
	__attribute__((noreturn));
/* Binds the libc functions the processes of the tree call; in the restorer, before clone3(). */
void pt_child_prebind(void);

/* ---- restore_handle.c: the handle ---- */

/* The handle of a restore whose processes all exist. It takes run's shared memory, barrier
 * and hand-over socket, and the pidfds of the nodes, which it sets to -1 in @pidfd. */
int pt_restore_handle_new(struct rs_run *run, int *pidfd, struct pidtuple_restore **ret);
/* SIGKILL through a pidfd (-1: nothing). */
void pt_pidfd_kill(int pidfd);
/* Waits until @deadline (pt_now_ns()) for every pidfd of @pidfd[0..n) (-1: none) to report its
 * process's exit; by then the kernel has handed that process's children on. Meanwhile it reaps
 * the caller's own children among them, @top[0..ntop) (the tree's top processes), as they
 * exit, and on a stall every exited process that is the caller's: numbers are freed in any
 * order, and an init whose namespace still has a number taken (a zombie's, its group's or its
 * session's) cannot finish exiting. */
void pt_pidfds_wait_exit(const int *pidfd, unsigned int n, const int *top, unsigned int ntop,
			 int64_t deadline);
/* Waits until @deadline for the processes of @pidfd[0..n) (-1: none), all exited, to be reaped
 * (released): until then a PID stays taken, and so do the numbers of the groups and sessions
 * its process is in. Gives up once none has been released for PT_REAP_STALL_MS. */
void pt_pidfds_wait_reaped(const int *pidfd, unsigned int n, int64_t deadline);

#endif
