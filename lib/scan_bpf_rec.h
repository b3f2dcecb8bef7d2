/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records the BPF task iterator (bpf/scan.bpf.c) writes and scan_bpf.c reads: shared by
 * the BPF program and the library, so plain 32-bit types and bytes only.
 */
#ifndef PIDTUPLE_SCAN_BPF_REC_H
#define PIDTUPLE_SCAN_BPF_REC_H

/* Levels a record can carry: the kernel's MAX_PID_NS_LEVEL (32) plus the initial one. */
#define PT_BPF_NLEV 33

/* pt_bpf_rec::flags: a thread other than its group's leader (not written today: the
 * program writes processes only). */
#define PT_BPF_THREAD 1u
/* pt_bpf_rec::flags: a kernel thread (the task's PF_KTHREAD). */
#define PT_BPF_KTHREAD 2u
/* The kernel's TASK_COMM_LEN: task->comm with its NUL. */
#define PT_BPF_COMM 16

/* One task, numbered from the reader's PID namespace down to the task's own. */
struct pt_bpf_rec {
	unsigned int nlev;    /* levels that follow: 1..PT_BPF_NLEV */
	unsigned int flags;   /* PT_BPF_* */
	unsigned int ns_inum; /* the task's own PID namespace (nsfs inode) */
	int tgid;	      /* in the reader's namespace */
	int ppid;	      /* the group's parent there; 0 when not visible */
	int pad;
	char comm[PT_BPF_COMM]; /* task->comm, NUL-terminated by the kernel */
};

/* Follows the header nlev times, the reader's level first. */
struct pt_bpf_level {
	int tid;
	int pgid; /* 0 where the group is not visible */
	int sid;  /* 0 where the session is not visible */
};

#endif
