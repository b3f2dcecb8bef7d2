/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records of the BPF task iterator (bpf/scan.bpf.c), read in large read() calls: a header
 * and one pt_bpf_level per level. A record may straddle two reads; the rest is moved to the
 * front of the buffer before the next one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scan_bpf.h"
#include "syscall_shim.h"

/* Bytes per read(): about 1,250 single-level processes (a 40-byte header and 12 per level). */
#define PT_BPF_BUF (64 * 1024)

struct pt_bpf_scan {
	int fd;
	size_t pos, len;
	_Alignas(8) unsigned char buf[PT_BPF_BUF];
};

int pt_bpf_scan_new(struct pt_bpf_scan **ret)
{
	struct pt_bpf_scan *b;
	int fd = pt_bpf_iter_new();

	if (fd < 0)
		return fd;
	b = pt_malloc(sizeof(*b));
	if (!b) {
		pt_close(fd);
		return -ENOMEM;
	}
	b->fd = fd;
	b->pos = b->len = 0;
	*ret = b;
	return 0;
}

/* Reads more after what is left. 1: more bytes, 0: the end, -errno. */
static int refill(struct pt_bpf_scan *b)
{
	ssize_t n;

	memmove(b->buf, b->buf + b->pos, b->len - b->pos);
	b->len -= b->pos;
	b->pos = 0;
	n = pt_read(b->fd, b->buf + b->len, sizeof(b->buf) - b->len);
	if (n < 0)
		return n == -ENOMEM ? -ENOMEM : -EIO;
	b->len += (size_t)n;
	return n > 0;
}

int pt_bpf_scan_next(struct pt_bpf_scan *b, struct pt_bpf_task *t)
{
	size_t need = sizeof(t->h);
	int r;

	for (int part = 0; part < 2; part++) {
		while (b->len - b->pos < need) {
			r = refill(b);
			if (r <= 0)
				return r < 0 ? r : b->len == b->pos ? 0 : -EIO; /* cut short */
		}
		if (part == 0) {
			memcpy(&t->h, b->buf + b->pos, sizeof(t->h));
			if (t->h.nlev < 1 || t->h.nlev > PT_BPF_NLEV)
				return -EIO;
			need += t->h.nlev * sizeof(t->lev[0]);
		}
	}
	memcpy(t->lev, b->buf + b->pos + sizeof(t->h), t->h.nlev * sizeof(t->lev[0]));
	b->pos += need;
	return 1;
}

void pt_bpf_scan_free(struct pt_bpf_scan *b)
{
	if (!b)
		return;
	pt_close(b->fd);
	free(b);
}
