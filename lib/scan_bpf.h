/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BPF task-iterator source of the scan: bpf_iter.c loads the iterator (the only file that
 * knows libbpf), scan_bpf.c reads its records; scan.c turns them into entries.
 */
#ifndef PIDTUPLE_SCAN_BPF_H
#define PIDTUPLE_SCAN_BPF_H

#include "scan_bpf_rec.h"

/* A new iterator over the caller's PID namespace and below (an O_CLOEXEC fd), the program
 * loaded once per process; or -errno: -EOPNOTSUPP (built without the BPF object, or no
 * libbpf.so.1), -EPERM (no CAP_BPF+CAP_PERFMON nor CAP_SYS_ADMIN), -ESRCH (no kernel BTF). */
int pt_bpf_iter_new(void);
/* 0 when the iterator can be loaded, else the -errno pt_bpf_iter_new() gives. */
int pt_bpf_iter_error(void);

/* One task as the iterator wrote it, levels from the caller's namespace down. */
struct pt_bpf_task {
	struct pt_bpf_rec h;
	struct pt_bpf_level lev[PT_BPF_NLEV];
};

struct pt_bpf_scan;
int pt_bpf_scan_new(struct pt_bpf_scan **ret);
/* 1 with the next task, 0 at the end, or -errno (-EIO: a malformed record). */
int pt_bpf_scan_next(struct pt_bpf_scan *b, struct pt_bpf_task *t);
void pt_bpf_scan_free(struct pt_bpf_scan *b);

#endif
