/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The io_uring backend of pidtuple_scan (PIDTUPLE_SCAN_URING): the per-process reads of a batch
 * of processes go to the kernel in one io_uring_enter(). Per process, one link chain:
 *
 *   OPENAT(procfd, "O#/status") into a direct descriptor -> READ it (hard link: a short read,
 *   which a status read always is, must not break the chain) -> CLOSE the descriptor.
 *
 * The namespace is found afterwards as on the plain path (scan.c, ns_guess()): mostly one
 * translation ioctl, a stat only for a namespace not seen at that depth before.
 *
 * Only this file knows liburing; setup and submission go through the syscall shim.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "pidtuple.h"
#include "proc.h"
#include "scan_uring.h"
#include "syscall_shim.h"

#ifdef PIDTUPLE_WITH_URING
#include <liburing.h>

/* memcheck cannot see what the kernel writes through io_uring: say it (a no-op elsewhere). */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#ifndef VALGRIND_MAKE_MEM_DEFINED
#define VALGRIND_MAKE_MEM_DEFINED(addr, len) ((void)(addr), (void)(len))
#endif

#define BUF_SIZE 4096

struct pt_uring {
	struct io_uring ring;
	bool in_flight; /* a wait failed: the kernel may still write into slot[]: never free */
	struct {
		char status[PT_PROC_PATH_MAX]; /* "O#/status" */
		int len;		       /* bytes read */
		char buf[BUF_SIZE];
	} slot[PT_URING_BATCH];
};

int pt_uring_new(struct pt_uring **ret)
{
	struct pt_uring *u = pt_malloc(sizeof(*u));
	int r;

	if (!u)
		return -ENOMEM;
	u->in_flight = false;
	r = pt_uring_queue_init(3 * PT_URING_BATCH, &u->ring);
	if (r < 0) {
		free(u);
		return r == -ENOSYS || r == -EPERM ? -EOPNOTSUPP
						   : r; /* disabled by sysctl/filter */
	}
	r = pt_uring_register_files_sparse(&u->ring, PT_URING_BATCH);
	if (r < 0) {
		io_uring_queue_exit(&u->ring);
		free(u);
		return r == -EINVAL ? -EOPNOTSUPP : r; /* before 5.19 */
	}
	*ret = u;
	return 0;
}

void pt_uring_free(struct pt_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring); /* also drops the direct descriptors */
	if (!u->in_flight)
		free(u);
}

/* Queues one process's chain; false when the submission queue is full. */
static bool queue(struct pt_uring *u, int procfd, unsigned int i)
{
	struct io_uring_sqe *sqe[3];

	if (io_uring_sq_space_left(&u->ring) < 3)
		return false;
	for (int k = 0; k < 3; k++)
		sqe[k] = io_uring_get_sqe(&u->ring);
	/* No O_CLOEXEC: a direct descriptor is not in the fd table (and the flag is EINVAL). */
	io_uring_prep_openat_direct(sqe[0], procfd, u->slot[i].status, O_RDONLY, 0, i);
	sqe[0]->user_data = i * 3;
	sqe[0]->flags |= IOSQE_IO_LINK;
	io_uring_prep_read(sqe[1], (int)i, u->slot[i].buf, BUF_SIZE - 1, 0);
	sqe[1]->user_data = i * 3 + 1;
	sqe[1]->flags |= IOSQE_FIXED_FILE | IOSQE_IO_HARDLINK;
	io_uring_prep_close_direct(sqe[2], i);
	sqe[2]->user_data = i * 3 + 2;
	return true;
}

int pt_uring_fetch(struct pt_uring *u, int procfd, struct pt_fetch *f, unsigned int n)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0, queued = 0;
	int r;

	if (n > PT_URING_BATCH || u->in_flight)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		pt_proc_path(u->slot[i].status, procfd, f[i].o, 0, "status");
		u->slot[i].len = 0;
		f[i].err = 0;
		if (!queue(u, procfd, i))
			return -EBUSY; /* nothing submitted; the caller drops the ring */
		queued += 3;
	}
	r = pt_uring_submit(&u->ring);
	if (r < 0)
		return r; /* nothing in flight */
	/* Every submitted request completes (the unsubmitted rest of a short submission never
	 * runs): wait for all of them before the buffers can be reused or freed. */
	while (seen < (unsigned int)r) {
		unsigned int got = 0;
		int w = pt_uring_wait(&u->ring);

		if (w < 0) {
			u->in_flight = true;
			return w;
		}
		io_uring_for_each_cqe(&u->ring, head, cqe)
		{
			unsigned int i = (unsigned int)(cqe->user_data / 3), k = cqe->user_data % 3;

			got++;
			if (k == 1 && cqe->res >= 0) {
				u->slot[i].len = cqe->res;
				VALGRIND_MAKE_MEM_DEFINED(u->slot[i].buf, (size_t)cqe->res);
			} else if (cqe->res < 0 && (f[i].err == 0 || f[i].err == -ECANCELED)) {
				f[i].err = cqe->res; /* the first failure of the chain */
			}
		}
		io_uring_cq_advance(&u->ring, got);
		seen += got;
	}
	if ((unsigned int)r < queued)
		return -EAGAIN; /* a short submission: the caller drops the ring */
	for (unsigned int i = 0; i < n; i++) {
		if (f[i].err < 0)
			continue;
		u->slot[i].buf[u->slot[i].len] = '\0';
		f[i].err = pt_parse_status(u->slot[i].buf, &f[i].st);
		/* A buffer filled to the brim may have cut the id lines off. */
		if (f[i].err == 0 && f[i].st.n[PT_NSSID] < 0 && u->slot[i].len == BUF_SIZE - 1)
			f[i].err = -EAGAIN;
	}
	return 0;
}

#else /* !PIDTUPLE_WITH_URING */

struct pt_uring {
	int unused;
};

int pt_uring_new(struct pt_uring **ret)
{
	(void)ret;
	return -EOPNOTSUPP;
}

int pt_uring_fetch(struct pt_uring *u, int procfd, struct pt_fetch *f, unsigned int n)
{
	(void)u;
	(void)procfd;
	(void)f;
	(void)n;
	return -EOPNOTSUPP;
}

void pt_uring_free(struct pt_uring *u)
{
	(void)u;
}

#endif
