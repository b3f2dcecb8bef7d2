/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reading side's size-prefixed structs, with random sizes and tails: struct
 * pidtuple_read_opts through pidtuple_read() and pidtuple_read_pidfd() on the fuzzer's own
 * process, struct pidtuple_scan_opts through pidtuple_scan_new(), and struct
 * pidtuple_scan_entry of random size through pidtuple_scan_next(). None of these creates
 * anything. Checks: options read only within sz (exact-size allocations under ASan), the
 * options verdict of the documented rules, documented errnos, the out-parameter untouched on
 * failure, every source giving the same tuple as the default one, pidtuple_read() and
 * pidtuple_read_pidfd() agreeing, an entry written only within its sz, no fd or child left.
 *
 * Input: a 56-byte header (shorter inputs are zero-padded).
 */
#include <fcntl.h>

#include "fuzz_common.h"

#define READ_KNOWN sizeof(struct pidtuple_read_opts)
#define SCAN_KNOWN sizeof(struct pidtuple_scan_opts)
#define ENTRY_KNOWN sizeof(struct pidtuple_scan_entry)

enum {
	M_NULL_READ = 1 << 0,  /* pass NULL read options */
	M_NULL_SCAN = 1 << 1,  /* pass NULL scan options */
	M_READ_KNOWN = 1 << 2, /* keep only known read flags and sources */
	M_SCAN_KNOWN = 1 << 3, /* keep only known scan flags, reserved 0 */
	M_READ_NSFD = 1 << 4,  /* read ns_fd: the caller's own PID namespace */
	M_SCAN_NSFD = 1 << 5,  /* scan ns_fd: the caller's own PID namespace */
	M_POKE_TAIL = 1 << 6,  /* a non-zero last byte when sz is beyond the known struct */
	M_SKIP_SCAN = 1 << 7,  /* read only */
};

struct header {
	uint8_t read_sz;
	uint8_t kind; /* 0..5: four kinds and two invalid ones */
	uint8_t scan_sz;
	uint8_t entry_sz;
	uint8_t mode;
	uint8_t next_calls; /* pidtuple_scan_next() calls: 0..3 */
	uint8_t pad[2];
	uint8_t read_body[24]; /* the read options after sz */
	uint8_t scan_body[24]; /* the scan options after sz */
};

static int own_nsfd = -1, own_pidfd = -1;

#define HAS(type, sz, field) ((sz) >= offsetof(type, field) + sizeof(((type *)0)->field))

static void build(struct fuzz_sized *s, size_t sz, const uint8_t *body, size_t known, bool poke)
{
	size_t room;

	fuzz_sized_new(s, sz);
	room = s->alloc - sizeof(size_t);
	memset(s->p + sizeof(size_t), 0, room);
	memcpy(s->p + sizeof(size_t), body, room < 24 ? room : 24);
	if (sz > known) {
		memset(s->p + known, 0, sz - known);
		if (poke)
			s->p[sz - 1] = 1;
	}
}

/* The documented option rules: 1 when the options pass, else the negative errno. */
static int ref_read(const struct pidtuple_read_opts *o, size_t sz, uint32_t kind)
{
	uint64_t flags;
	uint32_t source;

	if (kind > PIDTUPLE_KIND_SID)
		return -EINVAL;
	if (!o)
		return 1;
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (size_t i = READ_KNOWN; i < sz; i++)
		if (((const unsigned char *)o)[i])
			return -E2BIG;
	flags = HAS(struct pidtuple_read_opts, sz, flags) ? o->flags : 0;
	source = HAS(struct pidtuple_read_opts, sz, source) ? o->source : 0;
	if ((flags & ~PIDTUPLE_READ_NS_FD) || source > PIDTUPLE_SOURCE_NSFS)
		return -EINVAL;
	if ((flags & PIDTUPLE_READ_NS_FD) &&
	    (!HAS(struct pidtuple_read_opts, sz, ns_fd) || o->ns_fd < 0))
		return -EINVAL;
	return 1;
}

static int ref_scan(const struct pidtuple_scan_opts *o, size_t sz)
{
	uint64_t flags;

	if (!o)
		return 1;
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (size_t i = SCAN_KNOWN; i < sz; i++)
		if (((const unsigned char *)o)[i])
			return -E2BIG;
	flags = HAS(struct pidtuple_scan_opts, sz, flags) ? o->flags : 0;
	if ((flags & ~(PIDTUPLE_SCAN_THREADS | PIDTUPLE_SCAN_NS_FD | PIDTUPLE_SCAN_URING)) ||
	    (HAS(struct pidtuple_scan_opts, sz, reserved) && o->reserved))
		return -EINVAL;
	if ((flags & PIDTUPLE_SCAN_NS_FD) &&
	    (!HAS(struct pidtuple_scan_opts, sz, ns_fd) || o->ns_fd < 0))
		return -EINVAL;
	return 1;
}

static bool documented_read_errno(int r)
{
	switch (-r) {
	case EINVAL:
	case E2BIG:
	case ESRCH:
	case EOPNOTSUPP:
	case ENOENT:
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		return true;
	default:
		return false;
	}
}

/* Stands for "no tuple written": out-parameters are written only on success. */
static char sentinel;
#define untouched ((struct pidtuple *)&sentinel)

static void fuzz_read(const struct header *h)
{
	struct pidtuple *t = untouched, *t_fd = untouched, *t_auto = untouched;
	const struct pidtuple_read_opts *o = NULL;
	uint32_t kind = h->kind % 6;
	struct fuzz_sized ro;
	int r, r_fd, want;

	build(&ro, h->read_sz, h->read_body, READ_KNOWN, h->mode & M_POKE_TAIL);
	if (!(h->mode & M_NULL_READ)) {
		struct pidtuple_read_opts *w = (struct pidtuple_read_opts *)ro.p;

		if ((h->mode & M_READ_KNOWN) && HAS(struct pidtuple_read_opts, ro.sz, flags))
			w->flags &= PIDTUPLE_READ_NS_FD;
		if ((h->mode & M_READ_KNOWN) && HAS(struct pidtuple_read_opts, ro.sz, source))
			w->source &= 3;
		if ((h->mode & M_READ_NSFD) && HAS(struct pidtuple_read_opts, ro.sz, ns_fd))
			w->ns_fd = own_nsfd;
		o = w;
	}
	want = ref_read(o, ro.sz, kind);

	r = pidtuple_read(getpid(), kind, o, &t);
	if (want < 0) {
		if (r != want)
			fprintf(stderr, "pidtuple_read(): %d, the option rules say %d\n", r, want);
		fuzz_assert(r == want);
	}
	if (r < 0) {
		fuzz_assert(documented_read_errno(r));
		fuzz_assert(t == untouched);
		t = NULL;
	}

	/* The pidfd variant reads the same. */
	r_fd = pidtuple_read_pidfd(own_pidfd, kind, o, &t_fd);
	if (r_fd != r)
		fprintf(stderr, "pidtuple_read(): %d, pidtuple_read_pidfd(): %d\n", r, r_fd);
	fuzz_assert(r_fd == r);
	if (r == 0)
		fuzz_assert(pidtuple_equal(t, t_fd) == 1);
	else
		fuzz_assert(t_fd == untouched);

	/* Every source gives the same answer as the default one. */
	if (r == 0 && pidtuple_read(getpid(), kind, NULL, &t_auto) == 0) {
		fuzz_assert(pidtuple_equal(t, t_auto) == 1);
		pidtuple_free(t_auto);
	}
	if (r == 0)
		pidtuple_free(t_fd);
	pidtuple_free(t);
	fuzz_sized_free(&ro);
}

static void check_entry(const struct fuzz_sized *e)
{
	size_t limit = e->sz < ENTRY_KNOWN ? e->sz : ENTRY_KNOWN, sz;

	memcpy(&sz, e->p, sizeof(sz));
	fuzz_assert(sz == e->sz);
	for (size_t i = sizeof(size_t); i < e->alloc; i++)
		if (e->p[i] != FUZZ_CANARY && i >= limit) {
			fprintf(stderr, "byte %zu of a scan entry with sz %zu was written\n", i,
				e->sz);
			abort();
		}
}

static void fuzz_scan(const struct header *h)
{
	const struct pidtuple_scan_opts *o = NULL;
	struct pidtuple_scan *s = NULL;
	struct fuzz_sized so, e;
	int r, want;

	build(&so, h->scan_sz, h->scan_body, SCAN_KNOWN, h->mode & M_POKE_TAIL);
	if (!(h->mode & M_NULL_SCAN)) {
		struct pidtuple_scan_opts *w = (struct pidtuple_scan_opts *)so.p;

		if ((h->mode & M_SCAN_KNOWN) && HAS(struct pidtuple_scan_opts, so.sz, flags))
			w->flags &= PIDTUPLE_SCAN_THREADS | PIDTUPLE_SCAN_NS_FD;
		if ((h->mode & M_SCAN_KNOWN) && HAS(struct pidtuple_scan_opts, so.sz, reserved))
			w->reserved = 0;
		if ((h->mode & M_SCAN_NSFD) && HAS(struct pidtuple_scan_opts, so.sz, ns_fd))
			w->ns_fd = own_nsfd;
		o = w;
	}
	want = ref_scan(o, so.sz);

	r = pidtuple_scan_new(o, &s);
	if (want < 0) {
		if (r != want)
			fprintf(stderr, "pidtuple_scan_new(): %d, the option rules say %d\n", r,
				want);
		fuzz_assert(r == want);
	}
	if (r == 0) {
		fuzz_sized_new(&e, h->entry_sz % (ENTRY_KNOWN + FUZZ_SLACK + 1));
		for (unsigned int i = 0; i < h->next_calls % 4u; i++) {
			int n = pidtuple_scan_next(s, (struct pidtuple_scan_entry *)e.p);

			check_entry(&e);
			if (e.sz == 0)
				fuzz_assert(n == -EINVAL);
			if (n <= 0)
				break;
		}
		fuzz_sized_free(&e);
		pidtuple_scan_free(s);
	} else {
		fuzz_assert(r == -EINVAL || r == -E2BIG || r == -EOPNOTSUPP || r == -ENOENT ||
			    r == -EMFILE || r == -ENFILE || r == -ENOMEM);
	}
	fuzz_sized_free(&so);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct header h = { 0 };
	char children[4096];
	int fd0;

	if (own_nsfd < 0) {
		own_nsfd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		own_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		fuzz_assert(own_nsfd >= 0 && own_pidfd >= 0);
	}
	fd0 = fuzz_lowest_free_fd();
	fuzz_children(children, sizeof(children));
	memcpy(&h, data, size < sizeof(h) ? size : sizeof(h));

	fuzz_read(&h);
	if (!(h.mode & M_SKIP_SCAN))
		fuzz_scan(&h);

	fuzz_assert_same_children(children);
	fuzz_assert(fuzz_lowest_free_fd() == fd0);
	return 0;
}
