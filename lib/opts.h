/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Size-prefixed structs, after libbpf's OPTS_VALID/OPTS_HAS/OPTS_GET/OPTS_SET
 * (src/libbpf_internal.h). Every options, output and description struct of the API begins with
 * `size_t sz`: the size the caller's header gave it. include/pidtuple.h names the last member
 * each one has in this version (TYPE__last_field).
 *
 * The one rule for a caller's struct that is older (smaller) or newer (larger) than ours:
 *
 *   A member counts only when the caller's struct holds it whole, that is when
 *   sz >= offsetof(member) + sizeof(member).
 *
 * Such a member is read (PT_OPTS_GET) or written (PT_OPTS_SET, PT_OPTS_COPY_OUT). A member the
 * struct holds only in part is neither: reading gives the default, writing leaves every one of
 * its bytes as they were (a prefix of a pointer or an int is no value at all, and the bytes
 * past sz belong to the caller). Bytes past the last member this version knows must be zero
 * (PT_OPTS_VALID), so that a newer caller's settings are never silently ignored. The library
 * never writes `sz`.
 */
#ifndef PIDTUPLE_OPTS_H
#define PIDTUPLE_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pidtuple.h"

/* Offset of the first byte after @field. */
#define pt_offsetofend(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Bytes of struct TYPE that this version knows: up to the end of TYPE__last_field. */
#define PT_OPTS_KNOWN(TYPE) pt_offsetofend(struct TYPE, TYPE##__last_field)

/* 0 for NULL or a usable struct; -EINVAL when sz is smaller than a size_t; -E2BIG when a byte
 * from @known_size up to sz is set. Inline: every entry point with options calls it. */
static inline int pt_opts_valid(const void *opts, size_t known_size)
{
	const unsigned char *p = opts;
	size_t sz;

	if (!opts)
		return 0;
	memcpy(&sz, opts, sizeof(sz));
	if (sz < sizeof(size_t))
		return -EINVAL;
	for (size_t i = known_size; i < sz; i++)
		if (p[i])
			return -E2BIG;
	return 0;
}
#define PT_OPTS_VALID(opts, TYPE) pt_opts_valid((opts), PT_OPTS_KNOWN(TYPE))

/* Does the caller's struct @opts (may be NULL) hold @field whole? */
#define PT_OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= pt_offsetofend(__typeof__(*(opts)), field))

/* @field when the caller's struct holds it whole, else @fallback. */
#define PT_OPTS_GET(opts, field, fallback) (PT_OPTS_HAS(opts, field) ? (opts)->field : (fallback))

/* Writes @field only when the caller's struct holds it whole. */
#define PT_OPTS_SET(opts, field, value)          \
	do {                                     \
		if (PT_OPTS_HAS(opts, field))    \
			(opts)->field = (value); \
	} while (0)

/*
 * Copies the named members of the library's full struct @src into the caller's @dst, each
 * one only when @dst holds it whole (PT_OPTS_SET); dst->sz stays. Name every member after sz:
 *   PT_OPTS_COPY_OUT(info, &out, flags, pid_max, abs_level, ns_id);
 */
#define PT_OPTS_COPY_OUT(dst, src, ...)                                 \
	do {                                                            \
		PT_OPTS__EACH(PT_OPTS__COPY_ONE, dst, src, __VA_ARGS__) \
	} while (0)

/* ---- the machinery of PT_OPTS_COPY_OUT: up to 16 members ---- */
#define PT_OPTS__COPY_ONE(dst, src, field) PT_OPTS_SET(dst, field, (src)->field);
#define PT_OPTS__CAT(a, b) PT_OPTS__CAT_(a, b)
#define PT_OPTS__CAT_(a, b) a##b
#define PT_OPTS__NARG(...) \
	PT_OPTS__NARG_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define PT_OPTS__NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, n, \
		       ...)                                                                      \
	n
#define PT_OPTS__EACH(m, d, s, ...) \
	PT_OPTS__CAT(PT_OPTS__EACH_, PT_OPTS__NARG(__VA_ARGS__))(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_1(m, d, s, x) m(d, s, x)
#define PT_OPTS__EACH_2(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_1(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_3(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_2(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_4(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_3(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_5(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_4(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_6(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_5(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_7(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_6(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_8(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_7(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_9(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_8(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_10(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_9(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_11(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_10(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_12(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_11(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_13(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_12(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_14(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_13(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_15(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_14(m, d, s, __VA_ARGS__)
#define PT_OPTS__EACH_16(m, d, s, x, ...) m(d, s, x) PT_OPTS__EACH_15(m, d, s, __VA_ARGS__)

/* The known size is the whole struct: `size_t : 0` leaves no tail padding, so validating up
 * to TYPE__last_field is validating sizeof(struct TYPE), as the library always has. A member
 * added without moving TYPE__last_field fails here. */
#define PT_OPTS__KNOWN_IS_SIZEOF(TYPE)                             \
	_Static_assert(PT_OPTS_KNOWN(TYPE) == sizeof(struct TYPE), \
		       #TYPE "__last_field is not the last member")
PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_diag);
PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_read_opts);
PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_scan_opts);
PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_scan_entry);
PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_fork_opts);
PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_level_info);
PT_OPTS__KNOWN_IS_SIZEOF(pidtuple_node);

#endif
