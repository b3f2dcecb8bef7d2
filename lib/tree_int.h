/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process trees, private: the stored description (tree.c), and the creation plan that
 * tree_plan.c computes (and checks) and the restore files execute. Positions number a tuple's
 * levels from the tree's top (position 0, the outermost level every tuple starts at) inwards.
 */
#ifndef PIDTUPLE_TREE_INT_H
#define PIDTUPLE_TREE_INT_H

#include "diag.h"
#include "forkopts.h"
#include "lib.h"
#include "nsctx.h"
#include "pidtuple.h"
#include "syscall_shim.h"
#include "tuple.h"

#define PT_CLONE_PARENT 0x00008000ull
#define PT_CLONE_CLEAR_SIGHAND (1ull << 32)

struct pt_tnode {
	uint64_t flags;
	int32_t parent;
	uint32_t kind;
	struct pidtuple *tuple;
	struct pidtuple *pgid, *sid; /* NULL: the parent's */
	char *path;
	char **argv, **envp;
	int (*fn)(void *);
	void *arg;
};

struct pidtuple_tree {
	struct pt_tnode **nodes;
	unsigned int n, cap;
};

/* The index of a process of the plan: nodes come first, numbered as in the tree (so a node's
 * index is its process's), then the temporary helpers. Negative: none (-1), or a PT_ID_*. */
typedef int32_t pt_proc_idx;

/* A session or group identity: the process of the plan whose PID numbers it, or these. */
#define PT_ID_EXT (-1)	/* the caller's own, inherited */
#define PT_ID_NONE (-2) /* not decided / no requirement */

/* Helper roles. */
#define PT_ROLE_SESSION (1u << 0) /* calls setsid(): a dead session leader */
#define PT_ROLE_GROUP (1u << 1)	  /* calls setpgid(0, 0): a dead group leader */

enum pt_op_kind { PT_OP_CREATE = 1, PT_OP_SETSID, PT_OP_SETPGID, PT_OP_EXIT, PT_OP_REAP };

/* One step of the creation sequence; the steps run one at a time, in order. Steps are
 * numbered by their index in the plan's ops (int32_t, -1 for none). */
struct pt_op {
	uint8_t op;
	pt_proc_idx actor;  /* the process that performs it */
	pt_proc_idx target; /* CREATE: the new process; REAP: the helper */
	pid_t arg;    /* SETPGID: the group in the actor's namespace, 0 its own; REAP: the PID */
	int32_t next; /* the actor's next step, -1 */
};

/* A process of the plan: a node, or a temporary helper standing in for a dead leader. */
struct pt_proc {
	pt_proc_idx node;    /* node index; -1 for a helper */
	pt_proc_idx parent;  /* the real parent; -1: the caller */
	pt_proc_idx creator; /* calls clone3: the parent, or a child of it with CLONE_PARENT */
	uint32_t n;
	pid_t pid[PIDTUPLE_MAX_LEVELS]; /* by position */
	/* The namespace at each position: the process that is its init (it has CLONE_NEWPID),
	 * or -1 for a namespace that exists already. */
	pt_proc_idx ns_init[PIDTUPLE_MAX_LEVELS];
	pid_t set_tid[PIDTUPLE_MAX_LEVELS]; /* innermost first */
	uint64_t clone_flags;		    /* CLONE_NEWPID, CLONE_PARENT */
	pid_t ppid;			    /* getppid() the process must see; 0: do not compare */
	int32_t first_op;		    /* its first step, -1 */
	int32_t create_op;		    /* the step creating it; -1: the caller's fork */
	int32_t exit_op;		    /* helpers: the step after which it is gone */
	pt_proc_idx for_node;		    /* helpers: a node whose session or group needs it */
	uint32_t role;			    /* helpers: PT_ROLE_* */
	pt_proc_idx sid, pgid;		    /* target identities */
};

struct pt_plan {
	pt_proc_idx nnodes, nprocs, nhold;
	int32_t nops;
	struct pt_proc *procs; /* shared memory, procs_len bytes */
	size_t procs_len;
	struct pt_op *ops;
	pt_proc_idx first; /* the process the caller forks */
	int top;	   /* position of the caller's pid_for_children */
	int cpos;	   /* position of the caller's active namespace (< 0: above the tuples) */
	bool have_ctx;
	struct pidtuple_nsctx ctx; /* levels from pid_for_children up to the caller's */
};

/* Checks @tree and, with @ret_plan, returns the plan that creates it. Returns what
 * pidtuple_tree_check() returns. */
int pt_tree_plan(const struct pidtuple_tree *tree, const struct pt_fork_opts *o,
		 struct pidtuple_diag *diag, struct pt_plan **ret_plan);
void pt_plan_free(struct pt_plan *pl);
/* Names the failing node in a diagnostic (after pt_diag()). */
void pt_diag_set_node(struct pidtuple_diag *diag, int node);
/* Formats a tuple stored by position (0 shown as 0). */
void pt_format_pos(const pid_t *pid, unsigned int n, char *buf, size_t size);

#endif
