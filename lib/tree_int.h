/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process trees, private: the stored description (tree.c), the creation plan that the check
 * computes and the restore files execute, and the planner the check's files share (below).
 * Positions number a tuple's levels from the tree's top (position 0, the outermost level every
 * tuple starts at) inwards.
 *
 * The check's files, each calling only those below it: tree_plan.c (the core: pt_tree_plan(),
 * the creation order) uses tree_check.c (the machine), tree_groups.c (the group and session
 * phases), tree_ids.c (whose session and group), tree_shape.c (shape, duplicate PIDs) and
 * tree_replay.c (the steps); tree_groups.c uses tree_replay.c; tree_ids.c uses tree_shape.c;
 * all of them use tree_planner.c (the state, diagnostics).
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
	struct pidtuple **threads; /* TIDs of its other threads, nthreads of them */
	char name[16];		   /* HOLD: the command name to take; "" keeps the caller's */
	uint32_t nthreads;
};

/* Threads one node may list: far above what a process runs, far below what overflows. */
#define PT_TREE_MAX_THREADS (1u << 20)

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
#define PT_ROLE_OUTSIDE (1u << 2) /* the root's own, led from outside (a shell job's) */

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
	/* HOLD nodes with a name or threads: each reports them taken or made, one step more */
	pt_proc_idx nprepared;
	int32_t nops;
	struct pt_proc *procs; /* shared memory, procs_len bytes */
	size_t procs_len;
	struct pt_op *ops;
	pt_proc_idx first; /* the process the caller forks */
	int top;	   /* position of the caller's pid_for_children */
	int cpos;	   /* position of the caller's active namespace (< 0: above the tuples) */
	bool have_ctx;
	struct pidtuple_nsctx ctx; /* levels from pid_for_children up to the caller's */
	/* The level /proc shows above the caller's (an outer /proc), checked like ctx's: its
	 * index counted as ctx.levels' are, or -1. */
	int proc_at;
	struct pt_level proc_lv;
};

/* Checks @tree and, with @ret_plan, returns the plan that creates it. Returns what
 * pidtuple_tree_check() returns. */
int pt_tree_plan(const struct pidtuple_tree *tree, const struct pt_fork_opts *o,
		 struct pidtuple_diag *diag, struct pt_plan **ret_plan);
void pt_plan_free(struct pt_plan *pl);
/* Names the failing node in a diagnostic (after pt_diag()). */
void pt_diag_set_node(struct pidtuple_diag *diag, int node);
/* Names the failing thread of that node (its index in the node's threads). */
void pt_diag_set_thread(struct pidtuple_diag *diag, int thread);
/* Formats a tuple stored by position (0 shown as 0). */
void pt_format_pos(const pid_t *pid, unsigned int n, char *buf, size_t size);
/* What errno @err (either sign) says, for a system call that failed: "Too many open files". */
const char *pt_errno_str(int err);

/* ---- the planner: the check's state (tree_*.c only) ------------------------------------- */

/* What the replay knows of a process so far. */
enum {
	PROC_CREATED = 1,
	PROC_EXITED = 2,
	PROC_SESSION_LEADER = 4, /* it called setsid() */
	PROC_TRIED = 8,		 /* its creation was attempted */
	PROC_CHILDREN_DONE = 16, /* create_children() is through with it */
};

/* A PID a process claims: its number at position @pos of the namespace whose init is process
 * @ns_init (-1: a namespace that exists already). */
struct pid_claim {
	pt_proc_idx ns_init;
	int32_t pos;
	pid_t pid;
	pt_proc_idx proc;
	int32_t thread; /* a TID of thread @thread of node @proc; -1: the process's PID */
};

/* The check of a tree as it goes, and the plan it builds. */
struct planner {
	const struct pidtuple_tree *tree;
	const struct pt_fork_opts *opts;
	struct pidtuple_diag *diag;
	struct pt_plan *pl;
	pt_proc_idx nnodes;
	size_t cap_procs, cap_ops;
	pid_t caller_sid, caller_pgid;
	bool has_newpid; /* a node below the root starts a PID namespace */
	/* a helper stands in for a leader PIDTUPLE_FORK_SHELL_JOB would make the caller */
	bool shell_job_hint;
	/* per process, as the replay goes */
	pt_proc_idx *cur_sid, *cur_pgid;		      /* its session and group now */
	int32_t *last_op;				      /* its last step so far, -1 */
	pt_proc_idx *first_child, *last_child, *next_sibling; /* the children created so far */
	pt_proc_idx *group_sid_needed; /* a dead group leader: the session its group is in */
	uint8_t *state;		       /* PROC_* */
	uint8_t *founds_group;	       /* leads a group: calls setpgid(0, 0) or setsid() */
	/* per identity (a process, or PT_ID_EXT), indexed by identity + 1 */
	int32_t *group_size;	/* the processes in the group now */
	pt_proc_idx *group_sid; /* the session the group belongs to now */
	/* per node */
	pt_proc_idx *born_sid, *born_pgid;   /* the session, group it must be born in, or NONE */
	pt_proc_idx *child_start, *children; /* its children: children[child_start[x]...] */
	pt_proc_idx *deferred, *round;	     /* nodes whose creation waits for more to exist */
	pt_proc_idx ndeferred;
	struct pid_claim *claims; /* every PID claimed, by namespace, position and PID */
	size_t nclaims;
};

/* tree_planner.c: the state, and diagnostics worded alike. */
int pt_planner_init(struct planner *pn, const struct pidtuple_tree *tree,
		    const struct pt_fork_opts *o, struct pidtuple_diag *diag);
/* Frees the planner and its plan, unless the plan was handed on (pn->pl NULL). */
void pt_planner_free(struct planner *pn);
/* Fills the diagnostic for process @node of the plan (-1: none) at position @pos (-1: none);
 * returns @err. */
int pt_plan_diag(struct planner *pn, int err, uint32_t rule, pt_proc_idx node, int pos, pid_t pid,
		 const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Formats @proc's tuple into @buf; returns @buf. */
const char *pt_plan_tuple(const struct pt_proc *proc, char *buf, size_t size);
/* The node a diagnostic names for a process: itself, or the node a helper serves. */
pt_proc_idx pt_plan_node_of(const struct planner *pn, pt_proc_idx p);
/* "node 3's (…)", "the caller's", "the dead leader …'s": whose session or group @id is. */
int pt_plan_describe(const struct planner *pn, pt_proc_idx id, char *buf, size_t size);

/* tree_shape.c: the description on its own. */
int pt_plan_check_shape(struct planner *pn);
/* Sorts the PIDs of the first @nprocs processes (for pt_plan_claiming_node()) and refuses any
 * claimed twice at one position of one namespace. */
int pt_plan_check_dups(struct planner *pn, pt_proc_idx nprocs);
/* The node with PID @pid at position @pos of namespace @ns_init, or -1. */
pt_proc_idx pt_plan_claiming_node(const struct planner *pn, pt_proc_idx ns_init, int32_t pos,
				  pid_t pid);

/* tree_ids.c: every node's session and group, and the rules that bind them. */
int pt_plan_resolve_ids(struct planner *pn);
int pt_plan_check_ids(struct planner *pn);

/* tree_replay.c: the steps, applied to the planner's picture as they are appended. */
bool pt_plan_alive(const struct planner *pn, pt_proc_idx p);
pid_t pt_plan_seen_as(const struct planner *pn, pt_proc_idx id, pt_proc_idx p, bool group);
int pt_plan_emit(struct planner *pn, uint8_t op, pt_proc_idx actor, pt_proc_idx target, pid_t arg);
void pt_plan_set_group(struct planner *pn, pt_proc_idx p, pt_proc_idx pgid);
int pt_plan_setsid(struct planner *pn, pt_proc_idx p);
const char *pt_plan_join_blocker(const struct planner *pn, pt_proc_idx p, pt_proc_idx pgid,
				 pid_t *num);
int pt_plan_join_group(struct planner *pn, pt_proc_idx p, pt_proc_idx pgid, pid_t num);
bool pt_plan_helper_creatable(const struct planner *pn, pt_proc_idx p, pt_proc_idx h);
void pt_plan_link_child(struct planner *pn, pt_proc_idx p, pt_proc_idx x);
int pt_plan_create_helper(struct planner *pn, pt_proc_idx p, pt_proc_idx h);

/* tree_groups.c: the group and session phases, once every process exists. */
int pt_plan_groups(struct planner *pn);

/* tree_check.c: the machine. */
int pt_plan_read_context(struct planner *pn);
/* Every process against the machine; *ret_unverified: the levels that could not be seen. */
int pt_plan_check_machine(struct planner *pn, int *ret_unverified);

#endif
