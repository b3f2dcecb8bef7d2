// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The BPF task iterator of pidtuple_scan (scan_bpf.c): per process (thread-group leader), its
 * ids, its process group's and its session's at every level from the reader's PID namespace
 * down, its parent's, its namespace, its command name and whether it is a kernel thread.
 * Levels above the reader's are never written: the kernel walks only the reader's namespace and
 * below, and the upper numbers are not the reader's to see.
 *
 * Self-contained: the kernel types are minimal CO-RE declarations (preserve_access_index),
 * relocated by libbpf against the running kernel's BTF, so neither a generated vmlinux.h nor
 * libbpf's headers are needed to build it.
 */
#include "../scan_bpf_rec.h"

typedef unsigned int __u32;
typedef unsigned long long __u64;

#define SEC(name) __attribute__((section(name), used))
#define CORE __attribute__((preserve_access_index))
#define PIDTYPE_TGID 1
#define PIDTYPE_PGID 2
#define PIDTYPE_SID 3
#define EXIT_DEAD 0x10 /* reaped: gone from /proc in a moment (a zombie, EXIT_ZOMBIE, stays) */
#define PF_KTHREAD 0x00200000 /* task_struct::flags: a kernel thread */

struct pid_namespace;

struct upid {
	int nr;
	struct pid_namespace *ns;
} CORE;

struct ns_common {
	unsigned int inum;
} CORE;

struct pid_namespace {
	struct ns_common ns;
} CORE;

struct pid {
	unsigned int level;
	struct upid numbers[1];
} CORE;

struct signal_struct {
	struct pid *pids[4];
} CORE;

struct task_struct {
	unsigned int flags;
	int exit_state;
	int pid;
	int tgid;
	struct pid *thread_pid;
	struct task_struct *group_leader;
	struct task_struct *real_parent;
	struct signal_struct *signal;
	char comm[PT_BPF_COMM];
} CORE;

struct bpf_iter_meta {
	void *seq;
} CORE;

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} CORE;

static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;
static long (*bpf_seq_write)(void *m, const void *data, __u32 len) = (void *)127;
/* bpf_get_current_task(), 4.8+: the reader, whose namespace the kernel walks. */
static __u64 (*bpf_get_current_task)(void) = (void *)35;

/* Reads one field through CO-RE: the offset is the running kernel's. */
#define RD(dst, src) \
	bpf_probe_read_kernel(&(dst), sizeof(dst), __builtin_preserve_access_index(&(src)))

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The deepest level @p has a number at, read once per pid; -1 for none. @p came from a load
 * through the task (a BTF-typed pointer), so this is a direct load too. */
static __attribute__((always_inline)) long levels(struct pid *p)
{
	return p ? (long)p->level : -1;
}

/* The same for a pid the helper read (a plain number to the verifier). */
static __attribute__((always_inline)) long pp_levels(struct pid *p)
{
	unsigned int l = 0;

	return !p || RD(l, p->level) ? -1 : (long)l;
}

/*
 * Selects without branches: every branch the verifier meets in the loop below is followed
 * down both ways at each of its 33 levels, which made the load's verification cost more than
 * the whole scan. The empty asm keeps the compiler from turning the arithmetic back into
 * compares, which the BPF backend makes branches.
 */
static __attribute__((always_inline)) __u64 opaque(__u64 x)
{
	asm volatile("" : "+r"(x));
	return x;
}

/* All ones when @x is not 0, else 0. */
static __attribute__((always_inline)) __u64 nonzero_mask(__u64 x)
{
	return -(opaque(x | -x) >> 63);
}

/* numbers[lvl] of @p (which reaches @plev); nr 0 and ns NULL below that. The read is of
 * numbers[min(lvl, plev)], its result dropped when lvl is deeper. */
static __attribute__((always_inline)) struct upid upid_at(struct pid *p, long plev, __u64 lvl)
{
	struct upid u = { 0, 0 };
	long d = plev - (long)lvl;
	__u64 deeper = opaque((__u64)(d >> 63)); /* all ones when lvl > plev */
	/* The mask changes no level (at most 32) but bounds the offset, which the verifier wants
	 * before any arithmetic on a pointer it got from a load. */
	__u64 at = (lvl + (opaque((__u64)d) & deeper)) & 63;

	bpf_probe_read_kernel(&u, sizeof(u),
			      (char *)__builtin_preserve_access_index(&p->numbers[0]) +
				      at * sizeof(struct upid));
	u.nr &= (int)~deeper;
	u.ns = (struct pid_namespace *)((__u64)u.ns & ~deeper);
	return u;
}

/* pid_nr_ns(): @p's number in @ns, which is at level @lvl; 0 when not visible there. */
static __attribute__((always_inline)) int nr_in(struct pid *p, long plev, __u64 lvl,
						struct pid_namespace *ns)
{
	struct upid u = upid_at(p, plev, lvl);
	__u64 keep = ~nonzero_mask((__u64)u.ns ^ (__u64)ns) & nonzero_mask((__u64)ns);

	return u.nr & (int)keep;
}

SEC("iter/task")
int pt_scan(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task, *cur, *parent = 0;
	struct signal_struct *sig, *psig = 0;
	struct pid *tp, *pp = 0, *pg, *sid, *self = 0, *ids[3] = { 0 };
	struct pt_bpf_rec r = { 0 };
	struct upid own;
	unsigned int tlev, l0 = 0;
	long pglev, sidlev;
	void *seq = ctx->meta->seq;

	/*
	 * Helper calls (bpf_probe_read_kernel()) were most of the program's time: what can be is
	 * read with direct loads through the task, which the verifier makes fault-safe. But every
	 * pointer loaded through a trusted pointer (the task, its group_leader, its real_parent)
	 * costs the load a search of the kernel's BTF by name (6.3+, about a millisecond), so only
	 * t->signal is: a leader's own pid is its group's (signal->pids[PIDTYPE_TGID]), and a
	 * leader is the task whose pid is its tgid. The reader and the parent are read with the
	 * helper, as is what is indexed by level (a variable offset).
	 */
	if (!t || t->pid != t->tgid)
		return 0; /* processes only: a thread costs just this (the library scans threads
			   * through /proc, where they follow their process) */
	if (t->exit_state & EXIT_DEAD)
		return 0; /* being released: /proc no longer shows it either */
	cur = (struct task_struct *)bpf_get_current_task();
	if (RD(self, cur->thread_pid) || !self || RD(l0, self->level))
		return 0;
	sig = t->signal;
	if (!sig)
		return 0;
	tp = sig->pids[PIDTYPE_TGID];
	if (!tp)
		return 0; /* not alive */
	tlev = tp->level;
	if (tlev < l0 || tlev - l0 >= PT_BPF_NLEV)
		return 0; /* (never) above the reader */
	pg = sig->pids[PIDTYPE_PGID];
	sid = sig->pids[PIDTYPE_SID];
	RD(parent, t->real_parent);
	if (parent && !RD(psig, parent->signal) && psig)
		RD(pp, psig->pids[PIDTYPE_TGID]);
	own = upid_at(tp, tlev, tlev);
	if (own.ns)
		RD(r.ns_inum, own.ns->ns.inum);
	r.nlev = tlev - l0 + 1;
	r.flags = t->flags & PF_KTHREAD ? PT_BPF_KTHREAD : 0;
	RD(r.comm, t->comm);
	{
		struct pid_namespace *ns0 = upid_at(tp, tlev, l0).ns;

		r.tgid = nr_in(tp, tlev, l0, ns0);
		r.ppid = nr_in(pp, pp_levels(pp), l0, ns0);
	}
	pglev = levels(pg);
	sidlev = levels(sid);
	if (bpf_seq_write(seq, &r, sizeof(r)))
		return 0;
	/* The loop reads through copies of the three pointers that the verifier sees as plain
	 * numbers (read with the helper, in one call): through the typed ones it followed every
	 * level apart, which made the program's load 15 ms dearer than the loads it saves. */
	if (RD(ids, sig->pids[PIDTYPE_TGID]))
		return 0;
	tp = ids[0];
	pg = ids[1];
	sid = ids[2];
	/* One loop with a 64-bit bound, and no branch but its end and a full buffer. */
	for (__u64 i = 0; i < PT_BPF_NLEV; i++) {
		struct pt_bpf_level v;
		struct upid u;

		if (i >= r.nlev)
			break;
		u = upid_at(tp, tlev, l0 + i);
		v.tid = u.nr;
		v.pgid = nr_in(pg, pglev, l0 + i, u.ns);
		v.sid = nr_in(sid, sidlev, l0 + i, u.ns);
		if (bpf_seq_write(seq, &v, sizeof(v)))
			return 0;
	}
	return 0;
}
