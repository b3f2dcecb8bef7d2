/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets share: size-prefixed structs with a canary after their `sz`, and the
 * "nothing was left behind" checks (fds, children). Every check abort()s: libFuzzer reports
 * that as a crash and keeps the input. */
#ifndef PIDTUPLE_FUZZ_COMMON_H
#define PIDTUPLE_FUZZ_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidtuple.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CANARY 0xa5
/* Room past the largest struct we hand out, where nothing may be written. */
#define FUZZ_SLACK 64

#define fuzz_assert(cond)                                                                    \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/*
 * A size-prefixed struct of @sz bytes as a caller from another header version would pass it:
 * allocated with exactly max(sz, sizeof(size_t)) bytes (ASan catches any access past that)
 * and filled with the canary, so fuzz_sized_check() can tell what the library wrote.
 */
struct fuzz_sized {
	size_t sz;    /* what the struct says */
	size_t alloc; /* bytes allocated */
	unsigned char *p;
};

static inline void fuzz_sized_new(struct fuzz_sized *s, size_t sz)
{
	s->sz = sz;
	s->alloc = sz < sizeof(size_t) ? sizeof(size_t) : sz;
	s->p = malloc(s->alloc);
	fuzz_assert(s->p);
	memset(s->p, FUZZ_CANARY, s->alloc);
	memcpy(s->p, &sz, sizeof(sz));
}

static inline void fuzz_sized_free(struct fuzz_sized *s)
{
	free(s->p);
	s->p = NULL;
}

/*
 * The library may write a member only when `sz` covers the whole of it, and never the `sz`
 * member itself. @fields lists the members as offset/size pairs, @n of them.
 */
static inline void fuzz_sized_check(const struct fuzz_sized *s, const size_t (*fields)[2], size_t n)
{
	size_t sz;

	memcpy(&sz, s->p, sizeof(sz));
	fuzz_assert(sz == s->sz);
	for (size_t i = sizeof(size_t); i < s->alloc; i++) {
		bool writable = false;

		if (s->p[i] == FUZZ_CANARY)
			continue;
		for (size_t f = 0; f < n; f++)
			if (i >= fields[f][0] && i < fields[f][0] + fields[f][1] &&
			    fields[f][0] + fields[f][1] <= s->sz)
				writable = true;
		if (!writable) {
			fprintf(stderr, "byte %zu of a struct with sz %zu was written\n", i, s->sz);
			abort();
		}
	}
}

#define FUZZ_FIELD(type, m)                               \
	{                                                 \
		offsetof(type, m), sizeof(((type *)0)->m) \
	}

static const size_t fuzz_diag_fields[][2] = {
	FUZZ_FIELD(struct pidtuple_diag, err),	       FUZZ_FIELD(struct pidtuple_diag, rule),
	FUZZ_FIELD(struct pidtuple_diag, inner_index), FUZZ_FIELD(struct pidtuple_diag, nspid_pos),
	FUZZ_FIELD(struct pidtuple_diag, levels),      FUZZ_FIELD(struct pidtuple_diag, pid),
	FUZZ_FIELD(struct pidtuple_diag, kernel_err),  FUZZ_FIELD(struct pidtuple_diag, notices),
	FUZZ_FIELD(struct pidtuple_diag, unverified),  FUZZ_FIELD(struct pidtuple_diag, text_pos),
	FUZZ_FIELD(struct pidtuple_diag, message),     FUZZ_FIELD(struct pidtuple_diag, node),
	FUZZ_FIELD(struct pidtuple_diag, reserved),    FUZZ_FIELD(struct pidtuple_diag, thread),
	FUZZ_FIELD(struct pidtuple_diag, reserved2),
};
/* A new diag member must join the list above, or writing it looks like an overrun. */
_Static_assert(sizeof(struct pidtuple_diag) ==
		       offsetof(struct pidtuple_diag, reserved2) + sizeof(uint32_t),
	       "struct pidtuple_diag changed: update fuzz_diag_fields");

/*
 * Checks a diag of any size after a call: written only where sz allows. With @filled (the diag
 * was the call's own argument, which every call resets), a full-size one must hold a verdict
 * and a terminated message.
 */
static inline void fuzz_diag_check(const struct fuzz_sized *s, bool filled)
{
	fuzz_sized_check(s, fuzz_diag_fields,
			 sizeof(fuzz_diag_fields) / sizeof(fuzz_diag_fields[0]));
	if (filled && s->sz >= sizeof(struct pidtuple_diag)) {
		const struct pidtuple_diag *d = (const void *)s->p;

		/* A full diag is written in full by every call that takes one. */
		fuzz_assert(d->rule < _PIDTUPLE_RULE_MAX);
		fuzz_assert(memchr(d->message, '\0', sizeof(d->message)) != NULL);
		fuzz_assert(d->err <= 0);
	}
}

/* The lowest free descriptor: it moves up when a call leaks one. */
static inline int fuzz_lowest_free_fd(void)
{
	int fd = dup(2);

	fuzz_assert(fd >= 0);
	close(fd);
	return fd;
}

/*
 * The calling thread's children, as /proc lists them. None of the calls fuzzed may create a
 * process, but the sanitizers' llvm-symbolizer is a child too: compare before and after.
 */
static inline void fuzz_children(char *buf, size_t size)
{
	FILE *f = fopen("/proc/thread-self/children", "re");
	size_t n;

	fuzz_assert(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static inline void fuzz_assert_same_children(const char *before)
{
	char now[4096];

	fuzz_children(now, sizeof(now));
	if (strcmp(now, before) != 0) {
		fprintf(stderr, "children before: '%s', after: '%s'\n", before, now);
		abort();
	}
}

#endif
