/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file pidtuple.h
 * @brief libpidtuple: create processes with exactly the PIDs you ask for, at every level of
 * nested PID namespaces.
 *
 * Conventions that hold for every function in this header:
 *
 * - Every call returns a value >= 0 on success and a negative errno on failure. errno is not
 *   the error channel and its value after a call is unspecified.
 * - Out-parameters are named `ret_*` and are written only on success.
 * - In memory, index 0 of a tuple is the innermost level (the PID that getpid() returns in the
 *   process's own namespace), as in the kernel's `set_tid` array. Every function that takes an
 *   index says "inner index".
 * - In text, the order is outermost first, as `/proc/PID/status` prints `NSpid`: `4242/17/1`.
 * - Options and diagnostics are size-prefixed structs: set `sz` to `sizeof` the struct (the
 *   PIDTUPLE_OPTS_INIT() macro does it), leave unknown fields zero. A larger struct from a newer
 *   header is accepted when its unknown tail is zero, else the call fails with -E2BIG. A member
 *   counts only when `sz` holds it whole: one a smaller struct holds in part is neither read nor
 *   written. `TYPE__last_field` names the last member of each such struct in this header.
 * - Functions are thread-safe; an object may be shared between threads while nobody frees it.
 */
#ifndef PIDTUPLE_H
#define PIDTUPLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * PIDTUPLE_API marks a symbol exported from the shared library. A plain comment: Doxygen
 * predefines PIDTUPLE_API, skips this block, and would give a documentation comment here to the
 * next definition, PIDTUPLE_VERSION_MAJOR.
 */
#ifndef PIDTUPLE_API
#define PIDTUPLE_API __attribute__((visibility("default")))
#endif

/** Major version of this header; the SONAME is libpidtuple.so.PIDTUPLE_VERSION_MAJOR. */
#define PIDTUPLE_VERSION_MAJOR 1
/** Minor version of this header; every minor release gets a symbol version node. */
#define PIDTUPLE_VERSION_MINOR 1
/** Patch version of this header. */
#define PIDTUPLE_VERSION_PATCH 0

/**
 * True when this header is at least version @p maj.@p min (unlike liburing's macro, which is
 * inverted).
 */
#define PIDTUPLE_CHECK_VERSION(maj, min)   \
	(PIDTUPLE_VERSION_MAJOR > (maj) || \
	 (PIDTUPLE_VERSION_MAJOR == (maj) && PIDTUPLE_VERSION_MINOR >= (min)))

/** The kernel's MAX_PID_NS_LEVEL: a tuple pins at most this many levels. */
#define PIDTUPLE_MAX_LEVELS 32

/**
 * An initializer for a size-prefixed struct `struct TYPE`: `sz` set to its size, the designated
 * initializers given after @p TYPE, every other member zero. ISO C99 and C11, clean under
 * -Wpedantic; also a compound literal's initializer:
 *
 *     struct pidtuple_diag diag = PIDTUPLE_OPTS_INIT(pidtuple_diag);
 *     struct pidtuple_fork_opts opts =
 *             PIDTUPLE_OPTS_INIT(pidtuple_fork_opts, .flags = PIDTUPLE_FORK_CHECK, .diag = &diag);
 *
 * In C++, which has no designated initializers before C++20, it takes @p TYPE alone and gives a
 * value-initialized (all zero) struct with `sz` set, from pidtuple_opts_init(); set the members
 * after:
 *
 *     pidtuple_fork_opts opts = PIDTUPLE_OPTS_INIT(pidtuple_fork_opts);
 *     opts.flags = PIDTUPLE_FORK_CHECK;
 *
 * Unlike PIDTUPLE_OPTS(), the C form may leave padding bytes unset; the library reads only the
 * members it knows and, of a larger struct from a newer header, the tail after them, which
 * appended members fill without padding.
 */
#ifndef __cplusplus
#define PIDTUPLE_OPTS_INIT(...) PIDTUPLE_OPTS_INIT_(__VA_ARGS__, )
#else
#define PIDTUPLE_OPTS_INIT(TYPE) (::pidtuple_opts_init<struct TYPE>())
#endif
/** Helper of PIDTUPLE_OPTS_INIT(): the extra empty argument lets it be called with a type alone. */
#define PIDTUPLE_OPTS_INIT_(TYPE, ...)                 \
	{                                              \
		.sz = sizeof(struct TYPE), __VA_ARGS__ \
	}

/**
 * Declares a size-prefixed options struct @p NAME of type `struct TYPE`, zeroed (padding
 * included), with `sz` set and the designated initializers given. A GNU C convenience (a
 * statement expression, marked `__extension__`, so -Wpedantic stays quiet under GCC and
 * Clang); PIDTUPLE_OPTS_INIT() is the ISO C and C++ form. Bindings set `sz` themselves.
 * Called as `PIDTUPLE_OPTS(TYPE, NAME, ...)`; the extra empty argument lets it be called
 * without initializers.
 */
#define PIDTUPLE_OPTS(...) PIDTUPLE_OPTS_(__VA_ARGS__, )
/** Helper of PIDTUPLE_OPTS(). */
#define PIDTUPLE_OPTS_(TYPE, NAME, ...)                                  \
	struct TYPE NAME = __extension__({                               \
		__builtin_memset(&NAME, 0, sizeof(struct TYPE));         \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})

/* ---------------------------------------------------------------------------------------- */
/** @name Version and errors */
/** @{ */

/**
 * @brief **pidtuple_version_major()** returns the major version of the running library.
 * @return PIDTUPLE_VERSION_MAJOR as the library was built.
 */
PIDTUPLE_API int pidtuple_version_major(void);

/**
 * @brief **pidtuple_version_minor()** returns the minor version of the running library.
 * @return PIDTUPLE_VERSION_MINOR as the library was built.
 */
PIDTUPLE_API int pidtuple_version_minor(void);

/**
 * @brief **pidtuple_version_string()** returns "MAJOR.MINOR.PATCH" of the running library.
 * @return A static string; never NULL.
 */
PIDTUPLE_API const char *pidtuple_version_string(void);

/**
 * @brief **pidtuple_strerror()** describes an error code returned by this library.
 *
 * Codes with a meaning of their own here (EEXIST, EPERM, EOPNOTSUPP, ...) get the library's
 * wording; others fall back to the C library's text.
 * @param err A negative (or positive) errno value.
 * @return A static, thread-safe string; never NULL.
 */
PIDTUPLE_API const char *pidtuple_strerror(int err);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Diagnostics */
/** @{ */

/**
 * Which rule a tuple or a call broke. Values are stable ABI. The errno each rule maps to is
 * given in brackets.
 */
enum pidtuple_rule {
	/** Nothing failed. */
	PIDTUPLE_RULE_NONE = 0,
	/** Text is not a tuple [EINVAL]. */
	PIDTUPLE_RULE_SYNTAX = 1,
	/** 0 levels or more than 32 [EINVAL]. */
	PIDTUPLE_RULE_LEVEL_COUNT = 2,
	/** More levels than the target namespace has [EINVAL]. */
	PIDTUPLE_RULE_TOO_DEEP = 3,
	/** PID below 1 or not below that level's pid_max [EINVAL]. */
	PIDTUPLE_RULE_PID_RANGE = 4,
	/** With CLONE_NEWPID the innermost PID must be 1 [EINVAL]. */
	PIDTUPLE_RULE_NEWPID_ONE = 5,
	/** A namespace without init accepts only PID 1 [EINVAL]. */
	PIDTUPLE_RULE_NO_INIT = 6,
	/** The namespace's init has died [ENOMEM]. */
	PIDTUPLE_RULE_INIT_DEAD = 7,
	/** No CAP_CHECKPOINT_RESTORE/CAP_SYS_ADMIN over the level's owner [EPERM]. */
	PIDTUPLE_RULE_PRIVILEGE = 8,
	/** The PID is in use at that level [EEXIST]. */
	PIDTUPLE_RULE_PID_TAKEN = 9,
	/** Unsupported or conflicting flags [EINVAL]. */
	PIDTUPLE_RULE_FLAGS = 10,
	/** CLONE_NEW* other than NEWUSER needs CAP_SYS_ADMIN [EPERM]. */
	PIDTUPLE_RULE_NS_PRIVILEGE = 11,
	/** CLONE_NEWPID after setns()/unshare() of the PID namespace [EINVAL]. */
	PIDTUPLE_RULE_NEWPID_UNSHARED = 12,
	/** Exit signal not a valid signal [EINVAL]. */
	PIDTUPLE_RULE_EXIT_SIGNAL = 13,
	/** Cgroup fd not an open directory [EBADF, ENOTDIR]. */
	PIDTUPLE_RULE_CGROUP = 14,
	/** Options struct size or tail [EINVAL, E2BIG]. */
	PIDTUPLE_RULE_OPTIONS = 15,
	/** The kernel cannot pin PIDs here [EOPNOTSUPP]. */
	PIDTUPLE_RULE_UNSUPPORTED = 16,
	/** Notice: levels beyond the caller's view, left to the kernel. */
	PIDTUPLE_RULE_UNVERIFIED = 17,
	/** The kernel refused for a reason outside the rules. */
	PIDTUPLE_RULE_KERNEL = 18,
	/** A new namespace would be deeper than 32 levels [ENOSPC]. */
	PIDTUPLE_RULE_NS_DEPTH = 19,
	/** Pidtuple_spawn(): the program could not be executed. */
	PIDTUPLE_RULE_EXEC = 20,
	/** The ns_last_pid fallback's child got another PID: someone forked without the lock
	   [EBUSY]. */
	PIDTUPLE_RULE_PID_MISMATCH = 21,
	/** The ns_last_pid fallback cannot be used here (read-only, no privilege) [EROFS, EACCES,
	   EPERM]. */
	PIDTUPLE_RULE_FALLBACK = 22,
	/** Trees: a node's parent, namespace levels or kind are inconsistent [EINVAL]. */
	PIDTUPLE_RULE_TREE_SHAPE = 23,
	/** Trees: two nodes (or a node and a group/session) claim one PID at one level [EEXIST]. */
	PIDTUPLE_RULE_TREE_DUPLICATE = 24,
	/** Trees: a process group or session cannot be reproduced as described [EINVAL]. */
	PIDTUPLE_RULE_TREE_GROUP = 25,
	/** Trees: a node failed while the tree was being created; everything was removed. */
	PIDTUPLE_RULE_TREE_NODE = 26,
	/** PIDTUPLE_FORK_JOIN_NS: the target PID namespace cannot be entered [EBADF, EINVAL,
	   EPERM, ESRCH, EOPNOTSUPP]. Since 1.1. */
	PIDTUPLE_RULE_JOIN_NS = 27,
	/** One past the last rule. */
	_PIDTUPLE_RULE_MAX = 28
};

/** pidtuple_diag::notices: CLONE_INTO_CGROUP was not available; the child was moved after. */
#define PIDTUPLE_NOTICE_CGROUP_AFTER (1u << 0)
/** pidtuple_diag::notices: CLONE_PIDFD was not available; the pidfd came from pidfd_open(). */
#define PIDTUPLE_NOTICE_PIDFD_AFTER (1u << 1)

/** Size of pidtuple_diag::message, including the terminating NUL. */
#define PIDTUPLE_DIAG_MESSAGE_SIZE 256

/**
 * The answer to "why not": filled by the parser, the validator and the fork functions.
 * Output only: set `sz` and pass it in; the library writes the fields `sz` covers.
 */
struct pidtuple_diag {
	size_t sz;	     /**< sizeof(struct pidtuple_diag) as the caller knows it */
	int32_t err;	     /**< the verdict: 0 or a negative errno */
	uint32_t rule;	     /**< enum pidtuple_rule */
	int32_t inner_index; /**< failing level, inner index (0 = innermost); -1 if none */
	int32_t nspid_pos;   /**< the same level as a position in text/NSpid order; -1 if none */
	int32_t levels;	     /**< levels in the tuple, 0 if unknown */
	int32_t pid;	     /**< the PID at the failing level, 0 if none */
	int32_t kernel_err;  /**< negative errno the kernel returned, 0 if it was not asked */
	uint32_t notices;    /**< PIDTUPLE_NOTICE_* bits */
	int32_t unverified;  /**< levels the library could not see and left to the kernel */
	int32_t text_pos;    /**< parse errors: byte offset in the text; -1 otherwise */
	char message[PIDTUPLE_DIAG_MESSAGE_SIZE]; /**< one line for a human, NUL-terminated */
	int32_t node;	   /**< trees: index of the failing node; -1 otherwise */
	uint32_t reserved; /**< 0 */
	/** trees: the failing thread of pidtuple_diag::node, its index in
	 * pidtuple_node::threads; -1 otherwise (the node's process itself). Since 1.1. */
	int32_t thread;
	uint32_t reserved2; /**< 0 */
	size_t : 0;
};
/** The last field of struct pidtuple_diag this version knows. */
#define pidtuple_diag__last_field reserved2

/**
 * @brief **pidtuple_rule_name()** names a rule in kebab-case, e.g. "pid-taken".
 * @param rule A value of enum pidtuple_rule.
 * @return A static string; "unknown" for a value out of range. Never NULL.
 */
PIDTUPLE_API const char *pidtuple_rule_name(uint32_t rule);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name The tuple */
/** @{ */

/** An immutable PID tuple: one PID per level, innermost first in memory. Opaque. */
struct pidtuple;

/**
 * @brief **pidtuple_from_inner()** builds a tuple from an innermost-first array (`set_tid`
 * order).
 * @param pids @p n PIDs; pids[0] is the innermost level.
 * @param n Number of levels, 1..PIDTUPLE_MAX_LEVELS.
 * @param ret_tuple On success, the new tuple; free it with pidtuple_free().
 * @return 0 on success. Errors: -EINVAL (NULL argument, @p n is 0 or above 32, a PID below 1),
 * -ENOMEM.
 */
PIDTUPLE_API int pidtuple_from_inner(const pid_t *pids, size_t n, struct pidtuple **ret_tuple);

/**
 * @brief **pidtuple_from_outer()** builds a tuple from an outermost-first array (`NSpid`
 * order).
 * @param pids @p n PIDs; pids[0] is the outermost pinned level.
 * @param n Number of levels, 1..PIDTUPLE_MAX_LEVELS.
 * @param ret_tuple On success, the new tuple; free it with pidtuple_free().
 * @return 0 on success. Errors: -EINVAL (as pidtuple_from_inner()), -ENOMEM.
 */
PIDTUPLE_API int pidtuple_from_outer(const pid_t *pids, size_t n, struct pidtuple **ret_tuple);

/**
 * @brief **pidtuple_from_ids()** builds a process-group or session id tuple, outermost first,
 * as pidtuple_read() gives for PIDTUPLE_KIND_PGID and PIDTUPLE_KIND_SID.
 *
 * Unlike a PID tuple it may end in zeros: the inner levels where the group or session is not
 * visible (it was created in an outer namespace). All zeros is a group or session made above
 * the outermost level, as pidtuple_read() and capture give for one the caller cannot see: in a
 * tree it means "the restoring process's own". Such a tuple describes a tree node; it cannot
 * be forked.
 * @param pids @p n ids, outermost first; once a 0 comes, only 0 follow.
 * @param n Number of levels, 1..PIDTUPLE_MAX_LEVELS.
 * @param ret_tuple On success, the new tuple; free it with pidtuple_free().
 * @return 0 on success. Errors: -EINVAL (NULL, @p n out of range, a negative id, zeros not
 * confined to the inner end), -ENOMEM.
 */
PIDTUPLE_API int pidtuple_from_ids(const pid_t *pids, size_t n, struct pidtuple **ret_tuple);

/**
 * @brief **pidtuple_parse()** parses the text form, outermost first.
 *
 * Accepts `4242/17/1` and the tab- or space-separated form of an `NSpid:` line, with or
 * without the `NSpid:` label and a trailing newline. Parsing is strict: an empty text or field,
 * 0, a sign, a non-digit, a value above INT_MAX, more than 32 levels, mixed separators or
 * trailing junk are errors.
 * @param text NUL-terminated text.
 * @param ret_tuple On success, the new tuple; free it with pidtuple_free().
 * @param diag Optional (may be NULL): on failure, the rule, the field (nspid_pos) and the byte
 * offset (text_pos).
 * @return 0 on success. Errors: -EINVAL (bad text or NULL argument), -ENOMEM.
 */
PIDTUPLE_API int pidtuple_parse(const char *text, struct pidtuple **ret_tuple,
				struct pidtuple_diag *diag);

/**
 * @brief **pidtuple_format()** writes the text form, outermost first, e.g. `4242/17/1`.
 *
 * snprintf rules: writes at most @p size bytes including the NUL, and returns the length the
 * full text has. @p buf may be NULL when @p size is 0.
 * @param tuple The tuple.
 * @param buf Output buffer.
 * @param size Size of @p buf in bytes.
 * @return Length of the full text (excluding the NUL). Errors: -EINVAL (NULL tuple, or NULL
 * @p buf with a non-zero @p size).
 */
PIDTUPLE_API int pidtuple_format(const struct pidtuple *tuple, char *buf, size_t size);

/**
 * @brief **pidtuple_levels()** returns how many levels the tuple pins.
 * @param tuple The tuple.
 * @return 1..PIDTUPLE_MAX_LEVELS. Errors: -EINVAL (NULL).
 */
PIDTUPLE_API int pidtuple_levels(const struct pidtuple *tuple);

/**
 * @brief **pidtuple_get()** returns the PID at an inner index.
 * @param tuple The tuple.
 * @param inner_index 0 is the innermost level.
 * @return The PID (>= 1). Errors: -EINVAL (NULL), -ERANGE (index not below the level count).
 */
PIDTUPLE_API pid_t pidtuple_get(const struct pidtuple *tuple, unsigned int inner_index);

/**
 * @brief **pidtuple_equal()** compares two tuples level by level.
 * @param a A tuple.
 * @param b A tuple.
 * @return 1 when they pin the same levels with the same PIDs, 0 otherwise. Errors: -EINVAL
 * (NULL).
 */
PIDTUPLE_API int pidtuple_equal(const struct pidtuple *a, const struct pidtuple *b);

/**
 * @brief **pidtuple_to_inner()** copies the tuple out innermost first, ready for `set_tid`.
 * @param tuple The tuple.
 * @param pids Output array.
 * @param n Capacity of @p pids.
 * @return Number of levels copied. Errors: -EINVAL (NULL), -ERANGE (@p n too small; nothing
 * written).
 */
PIDTUPLE_API int pidtuple_to_inner(const struct pidtuple *tuple, pid_t *pids, size_t n);

/**
 * @brief **pidtuple_to_outer()** copies the tuple out outermost first (`NSpid` order).
 * @param tuple The tuple.
 * @param pids Output array.
 * @param n Capacity of @p pids.
 * @return Number of levels copied. Errors: -EINVAL (NULL), -ERANGE (@p n too small; nothing
 * written).
 */
PIDTUPLE_API int pidtuple_to_outer(const struct pidtuple *tuple, pid_t *pids, size_t n);

/**
 * @brief **pidtuple_dup()** copies a tuple.
 * @param tuple The tuple.
 * @param ret_tuple On success, the copy; free it with pidtuple_free().
 * @return 0 on success. Errors: -EINVAL (NULL), -ENOMEM.
 */
PIDTUPLE_API int pidtuple_dup(const struct pidtuple *tuple, struct pidtuple **ret_tuple);

/**
 * @brief **pidtuple_free()** frees a tuple.
 * @param tuple The tuple, or NULL (then nothing happens).
 */
PIDTUPLE_API void pidtuple_free(struct pidtuple *tuple);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Reading a live process's tuple */
/** @{ */

/**
 * @brief **pidtuple_of_pid()** reads a process's tuple, from the caller's PID namespace down to
 * the process's own.
 *
 * The outermost level of the result is the caller's active namespace, whichever PID namespace
 * mounted /proc (after unshare() the mount usually still belongs to an outer one).
 * @param pid A process (thread-group leader) as the caller's namespace numbers it.
 * @param ret_tuple On success, the tuple; free it with pidtuple_free().
 * @return 0 on success. Errors: -EINVAL (@p pid below 1, NULL), -ESRCH (no such process, or it
 * has been reaped), -ENOENT (/proc not mounted or the caller not visible in it), -EMFILE,
 * -ENFILE, -ENOMEM, -EOPNOTSUPP (kernel without pidfd NSpid, before 5.5).
 */
PIDTUPLE_API int pidtuple_of_pid(pid_t pid, struct pidtuple **ret_tuple);

/**
 * @brief **pidtuple_of_pidfd()** reads the tuple of the process a pidfd refers to, relative to
 * the caller's PID namespace.
 * @param pidfd A pidfd (from pidfd_open(), CLONE_PIDFD or this library).
 * @param ret_tuple On success, the tuple; free it with pidtuple_free().
 * @return 0 on success. Errors: -EBADF (not an open pidfd), -EINVAL (NULL), -ESRCH (reaped, or
 * outside the caller's namespace), -ENOENT, -EMFILE, -ENFILE, -ENOMEM, -EOPNOTSUPP.
 */
PIDTUPLE_API int pidtuple_of_pidfd(int pidfd, struct pidtuple **ret_tuple);

/** pidtuple_read(): the thread's own id at every level (`NSpid` of a thread). */
#define PIDTUPLE_KIND_TID 0u
/** pidtuple_read(): the process (thread group) id (`NStgid`). */
#define PIDTUPLE_KIND_TGID 1u
/** pidtuple_read(): the process group id (`NSpgid`); 0 at levels where the group is not visible. */
#define PIDTUPLE_KIND_PGID 2u
/** pidtuple_read(): the session id (`NSsid`); 0 at levels where the session is not visible. */
#define PIDTUPLE_KIND_SID 3u

/** pidtuple_read_opts::source: the fastest correct source this kernel has (the default). */
#define PIDTUPLE_SOURCE_AUTO 0u
/** pidtuple_read_opts::source: `/proc/PID/task/TID/status` (every kernel since 4.1). */
#define PIDTUPLE_SOURCE_STATUS 1u
/** pidtuple_read_opts::source: pidfd fdinfo `NSpid` (5.5+; TID and TGID only). */
#define PIDTUPLE_SOURCE_FDINFO 2u
/** pidtuple_read_opts::source: nsfs translation ioctls per level (6.11+). */
#define PIDTUPLE_SOURCE_NSFS 3u

/** pidtuple_read_opts::flags: translate into pidtuple_read_opts::ns_fd instead of the caller's
 * namespace. */
#define PIDTUPLE_READ_NS_FD (1ull << 0)

/** Options for pidtuple_read(). NULL means: the fastest source, relative to the caller. */
struct pidtuple_read_opts {
	size_t sz;	 /**< sizeof(struct pidtuple_read_opts) */
	uint64_t flags;	 /**< PIDTUPLE_READ_* */
	uint32_t source; /**< PIDTUPLE_SOURCE_* */
	/** With PIDTUPLE_READ_NS_FD: a PID namespace fd; the tuple starts at that level. It must
	 * be the caller's namespace or below it, and the process's namespace or above it. */
	int32_t ns_fd;
	size_t : 0;
};
/** The last field of struct pidtuple_read_opts this version knows. */
#define pidtuple_read_opts__last_field ns_fd

/**
 * @brief **pidtuple_read()** reads one of a thread's or process's ids at every level, from the
 * caller's PID namespace (or pidtuple_read_opts::ns_fd) down to the process's own.
 *
 * The same ids as `/proc/PID/status` prints in `NSpid`, `NStgid`, `NSpgid` and `NSsid`, from
 * whichever source is fastest here; every source gives the same answer. A PGID or SID tuple has
 * 0 at the inner levels where the group or session is not visible (it was created in an outer
 * namespace); such a tuple can be formatted but not forked.
 * @param id A thread or process id as the caller's namespace numbers it.
 * @param kind PIDTUPLE_KIND_TID, _TGID, _PGID or _SID.
 * @param opts Options, or NULL.
 * @param ret_tuple On success, the tuple; free it with pidtuple_free().
 * @return 0 on success. Errors: -EINVAL (bad kind, id or options), -E2BIG (options tail),
 * -ESRCH (no such thread, or it has exited), -EOPNOTSUPP (the chosen source cannot give that
 * kind, or the kernel lacks it), -ENOENT (/proc missing or the caller not visible in it),
 * -EMFILE, -ENFILE, -ENOMEM.
 */
PIDTUPLE_API int pidtuple_read(pid_t id, uint32_t kind, const struct pidtuple_read_opts *opts,
			       struct pidtuple **ret_tuple);

/**
 * @brief **pidtuple_read_pidfd()** is pidtuple_read() for the process or thread a pidfd refers
 * to.
 * @param pidfd A pidfd (PIDFD_THREAD pidfds name a thread).
 * @param kind PIDTUPLE_KIND_*.
 * @param opts Options, or NULL.
 * @param ret_tuple On success, the tuple; free it with pidtuple_free().
 * @return As pidtuple_read(), and -EBADF (not a pidfd).
 */
PIDTUPLE_API int pidtuple_read_pidfd(int pidfd, uint32_t kind,
				     const struct pidtuple_read_opts *opts,
				     struct pidtuple **ret_tuple);

/** A namespace scan. Opaque. */
struct pidtuple_scan;

/** pidtuple_scan_opts::flags: yield every thread, not only thread-group leaders. */
#define PIDTUPLE_SCAN_THREADS (1ull << 0)
/** pidtuple_scan_opts::flags: scan pidtuple_scan_opts::ns_fd instead of the caller's namespace. */
#define PIDTUPLE_SCAN_NS_FD (1ull << 1)
/** pidtuple_scan_opts::flags: read /proc in batches of processes through io_uring (when the
 * library was built with liburing and io_uring is allowed; otherwise -EOPNOTSUPP). Same entries;
 * a process is read with its batch, so "never reported as alive after it exited" holds from the
 * call that read the batch (at most 64 entries earlier). The kernel runs the reads on io_uring
 * worker threads of the caller (iou-wrk-*), which stay until it exits or they idle out. */
#define PIDTUPLE_SCAN_URING (1ull << 2)

/** Options for pidtuple_scan_new(). NULL means: every process of the caller's namespace. */
struct pidtuple_scan_opts {
	size_t sz;	/**< sizeof(struct pidtuple_scan_opts) */
	uint64_t flags; /**< PIDTUPLE_SCAN_* */
	/** With PIDTUPLE_SCAN_NS_FD: the namespace to scan (the caller's or one below it); the
	 * tuples then start at that level. */
	int32_t ns_fd;
	uint32_t reserved; /**< must be 0 */
	size_t : 0;
};
/** The last field of struct pidtuple_scan_opts this version knows. */
#define pidtuple_scan_opts__last_field reserved

/** pidtuple_scan_entry::flags: this process is the init (PID 1) of a PID namespace below the
 * scanned one: a new namespace begins here. */
#define PIDTUPLE_ENTRY_NS_INIT (1u << 0)
/** pidtuple_scan_entry::flags: this entry is a thread other than its group's leader. */
#define PIDTUPLE_ENTRY_THREAD (1u << 1)
/**
 * pidtuple_scan_entry::flags: the source told whether the process is a kernel thread, so
 * PIDTUPLE_ENTRY_KTHREAD means what it says; without it, the entry does not tell (the nsfs
 * way, and status on older kernels, whose status has no `Kthread:` line). Set only in an entry
 * that holds `comm` whole: an entry of a caller built before 1.1 gets no new flags. Since 1.1.
 */
#define PIDTUPLE_ENTRY_KTHREAD_KNOWN (1u << 2)
/** pidtuple_scan_entry::flags, with PIDTUPLE_ENTRY_KTHREAD_KNOWN: a kernel thread
 * (`PF_KTHREAD`: kthreadd and what it starts). Since 1.1. */
#define PIDTUPLE_ENTRY_KTHREAD (1u << 3)

/**
 * One process (or thread) of a scan. Output; set `sz`. The tuple pointers and `comm` belong to
 * the scan and stay valid until the next pidtuple_scan_next() or pidtuple_scan_free().
 */
struct pidtuple_scan_entry {
	size_t sz;	/**< sizeof(struct pidtuple_scan_entry) as the caller knows it */
	int32_t pid;	/**< thread-group id in the scanned namespace */
	int32_t tid;	/**< thread id there (== pid for a leader) */
	int32_t ppid;	/**< parent's id there; 0 when the parent is outside it */
	int32_t pgid;	/**< process group there; 0 when not visible there */
	int32_t sid;	/**< session there; 0 when not visible there */
	uint32_t flags; /**< PIDTUPLE_ENTRY_* */
	uint64_t ns_id; /**< nsfs inode number of the process's own PID namespace */
	const struct pidtuple *tuple;	   /**< TID tuple (TGID tuple for a leader) */
	const struct pidtuple *pgid_tuple; /**< PGID at every level, 0 where not visible */
	const struct pidtuple *sid_tuple;  /**< SID at every level, 0 where not visible */
	/**
	 * The command name as /proc/PID/comm gives it (without its newline; for a thread, the
	 * thread's), or NULL where the source does not give it: the nsfs way, and the BPF
	 * iterator for a kernel thread (whose /proc name can be longer than the kernel's
	 * 16-byte `comm`). Since 1.1.
	 */
	const char *comm;
	size_t : 0;
};
/** The last field of struct pidtuple_scan_entry this version knows. */
#define pidtuple_scan_entry__last_field comm

/**
 * @brief **pidtuple_scan_new()** starts a scan of every process (optionally every thread) of a
 * PID namespace and the namespaces below it.
 *
 * The scan reads lazily: memory does not grow with the number of processes. A process that
 * has exited (and been reaped) when its entry is read is skipped, never reported as alive.
 * Where a BPF task iterator loads (PIDTUPLE_FEATURE_BPF_SCAN), a scan of the caller's own
 * namespace without PIDTUPLE_SCAN_THREADS or PIDTUPLE_SCAN_URING reads it instead of /proc:
 * the same entries, read in blocks of about 1,800 processes, each entry as of its block's
 * read.
 * @param opts Options, or NULL.
 * @param ret_scan On success, the scan; free it with pidtuple_scan_free().
 * @return 0 on success. Errors: -EINVAL, -E2BIG (options), -EOPNOTSUPP (PIDTUPLE_SCAN_URING
 * without liburing), -ENOENT (/proc not mounted), -EMFILE, -ENFILE, -ENOMEM.
 */
PIDTUPLE_API int pidtuple_scan_new(const struct pidtuple_scan_opts *opts,
				   struct pidtuple_scan **ret_scan);

/**
 * @brief **pidtuple_scan_next()** yields the next process of a scan.
 * @param scan The scan.
 * @param entry Output; its `sz` must be set.
 * @return 1 with an entry, 0 at the end. Errors: -EINVAL (NULL, `sz` 0), -EMFILE, -ENFILE,
 * -ENOMEM, -EIO.
 */
PIDTUPLE_API int pidtuple_scan_next(struct pidtuple_scan *scan, struct pidtuple_scan_entry *entry);

/**
 * @brief **pidtuple_scan_free()** ends a scan.
 * @param scan The scan, or NULL.
 */
PIDTUPLE_API void pidtuple_scan_free(struct pidtuple_scan *scan);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Forking */
/** @{ */

/** pidtuple_fork_opts::flags: use pidtuple_fork_opts::exit_signal (else SIGCHLD). */
#define PIDTUPLE_FORK_EXIT_SIGNAL (1ull << 0)
/** pidtuple_fork_opts::flags: place the child in the cgroup pidtuple_fork_opts::cgroup_fd. */
#define PIDTUPLE_FORK_INTO_CGROUP (1ull << 1)
/** pidtuple_fork_opts::flags: run the whole validator before forking (slower, exact reason). */
#define PIDTUPLE_FORK_CHECK (1ull << 2)
/**
 * pidtuple_fork_opts::flags: never fall back to /proc/sys/kernel/ns_last_pid; where set_tid is
 * unavailable, fail with -EOPNOTSUPP.
 */
#define PIDTUPLE_FORK_NO_FALLBACK (1ull << 3)
/**
 * pidtuple_fork_opts::flags: hold the ns_last_pid lock around the set_tid fork too, so tools that
 * steer ns_last_pid under the same lock cannot take the PIDs mid-way.
 */
#define PIDTUPLE_FORK_LOCK (1ull << 4)
/**
 * pidtuple_fork_opts::flags, for the validator: also walk /proc for what cheap checks cannot
 * see: process groups and sessions that outlived their leader (they still hold their number),
 * and, on kernels without the nsfs ioctls (before 6.11), tasks and inits at nested levels.
 * Costs a scan of the namespace on every check; without it such levels pass (or count as
 * unverified) and a fork that meets them names the holder afterwards.
 */
#define PIDTUPLE_FORK_CHECK_SCAN (1ull << 5)
/**
 * pidtuple_fork_opts::flags, for trees (pidtuple_tree_check(), pidtuple_tree_restore()): the
 * root's session and process group, where no node leads them (a shell's session, a job's group
 * whose leader is outside the tree, alive or dead), become the caller's own, as CRIU's
 * --shell-job does; the processes show the caller's numbers, not the captured ones. Single
 * forks ignore it. Since 1.1.
 */
#define PIDTUPLE_FORK_SHELL_JOB (1ull << 6)
/**
 * pidtuple_fork_opts::flags: create the process (or the tree's root) in the PID namespace
 * pidtuple_fork_opts::ns_fd names, a running container's for instance, instead of the caller's
 * `pid_for_children`. The calling thread enters it for its children only (setns()), forks, and
 * returns to where it was: the caller stays outside, takes no PID inside, and the levels
 * between the target and the caller are checked like any level below the caller. The tuple
 * pins levels from the target namespace outward. The target must be the caller's active PID
 * namespace or one nested in it, and the caller needs CAP_SYS_ADMIN over the target's owning
 * user namespace and its own. Needs set_tid (no ns_last_pid fallback); pidtuple_thread_create()
 * and pidtuple_set_next_pid() refuse it. Since 1.1.
 */
#define PIDTUPLE_FORK_JOIN_NS (1ull << 7)
/**
 * pidtuple_fork_opts::flags, for pidtuple_tree_restore(): a HOLD node without children or
 * steps of its own (no session or group to lead or join after its birth), whose creator's whole
 * subtree is HOLD nodes, is created with CLONE_VM: it shares the address space of the process
 * that creates it (its parent, or a temporary helper standing in for a session or group
 * leader) instead of copying it, which makes most of a tree (its leaves) several times cheaper
 * to create. Such a node holds its PIDs, threads and name, and takes a program like any other
 * (pidtuple_restore_hand_over(): the execve() gives it an address space of its own). What Linux
 * keeps per address space is shared with its creator and siblings: memory written into it
 * (by ptrace(), say), /proc/PID/cmdline, oom_score_adj, coredump_filter, the OOM killer's
 * choice. Leave the flag out when each process's memory or such settings are to be restored
 * into it. Ignored by single forks, and on architectures other than x86-64 and aarch64.
 * Since 1.1.
 */
#define PIDTUPLE_FORK_SHARE_VM (1ull << 8)
/** Every pidtuple_fork_opts::flags bit this version knows. */
#define PIDTUPLE_FORK_ALL_FLAGS                                                        \
	(PIDTUPLE_FORK_EXIT_SIGNAL | PIDTUPLE_FORK_INTO_CGROUP | PIDTUPLE_FORK_CHECK | \
	 PIDTUPLE_FORK_NO_FALLBACK | PIDTUPLE_FORK_LOCK | PIDTUPLE_FORK_CHECK_SCAN |   \
	 PIDTUPLE_FORK_SHELL_JOB | PIDTUPLE_FORK_JOIN_NS | PIDTUPLE_FORK_SHARE_VM)

/**
 * The namespace flags pidtuple_fork_opts::clone_flags accepts, with the kernel's values:
 * CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
 * CLONE_NEWNET and CLONE_NEWTIME. Any other bit is rejected with -EINVAL, never passed through.
 */
#define PIDTUPLE_CLONE_NS_FLAGS                                                          \
	(0x00020000ull | 0x02000000ull | 0x04000000ull | 0x08000000ull | 0x10000000ull | \
	 0x20000000ull | 0x40000000ull | 0x00000080ull)

/**
 * Options for checking and forking. Zero (or NULL) means: no new namespaces, SIGCHLD on exit,
 * the caller's cgroup, no pre-check.
 */
struct pidtuple_fork_opts {
	size_t sz;		    /**< sizeof(struct pidtuple_fork_opts) */
	uint64_t flags;		    /**< PIDTUPLE_FORK_* */
	uint64_t clone_flags;	    /**< subset of PIDTUPLE_CLONE_NS_FLAGS */
	int32_t exit_signal;	    /**< with PIDTUPLE_FORK_EXIT_SIGNAL: 0..64, 0 for none */
	int32_t cgroup_fd;	    /**< with PIDTUPLE_FORK_INTO_CGROUP: a cgroup2 directory fd */
	struct pidtuple_diag *diag; /**< optional: the reason when the call fails; notices always */
	/**
	 * Optional: the embedder's own lock, taken instead of flock() on ns_last_pid (by the
	 * fallback, by PIDTUPLE_FORK_LOCK and by pidtuple_set_next_pid()). Returns 0 or -errno.
	 */
	int (*lock)(void *lock_arg);
	/** Releases what pidtuple_fork_opts::lock took; required with it. */
	void (*unlock)(void *lock_arg);
	/** Passed to pidtuple_fork_opts::lock and pidtuple_fork_opts::unlock. */
	void *lock_arg;
	/**
	 * Fallback only: how many times a child that got another PID (someone forked without
	 * the lock) may be replaced, each time only when the PID is verified still free. 0: none.
	 */
	uint32_t fallback_retries;
	uint32_t reserved; /**< must be 0 */
	/**
	 * With PIDTUPLE_FORK_JOIN_NS: the target PID namespace, as a namespace file
	 * (`/proc/PID/ns/pid`, or a bind mount of one) or a pidfd of a process living in it
	 * (kernel 5.8+). Not closed. Since 1.1.
	 */
	int32_t ns_fd;
	uint32_t reserved2; /**< must be 0. Since 1.1. */
	size_t : 0;
};
/** The last field of struct pidtuple_fork_opts this version knows. */
#define pidtuple_fork_opts__last_field reserved2

/**
 * @brief **pidtuple_fork()** creates a child with exactly the PIDs of @p tuple. Returns twice,
 * like fork().
 *
 * The tuple pins the innermost levels of the child's namespace (the caller's
 * `pid_for_children`, or a new one with CLONE_NEWPID, where the innermost PID must be 1);
 * outer levels it does not pin are chosen by the kernel.
 *
 * Child contract: the child is made with a raw clone3(), which skips the C library's fork
 * handlers (pthread_atfork, the malloc lock reset). Until it calls execve() or _exit(), the
 * child may call only async-signal-safe functions; in a multithreaded parent, malloc() may
 * deadlock. raise(), abort() and pthread functions are not reliable in the child because the
 * C library's cached thread id is the parent's. pidtuple_spawn() and pidtuple_clone() are
 * the safe defaults.
 *
 * Only cheap checks run before the syscall; when the kernel refuses, the validator explains
 * why in opts->diag. With PIDTUPLE_FORK_CHECK the validator runs first.
 * @param tuple PIDs to create the child with.
 * @param opts Options, or NULL.
 * @param ret_pidfd Optional: in the parent, a pidfd for the child (O_CLOEXEC). NULL for none.
 * @return In the parent, the child's PID in the caller's namespace; in the child, 0. Errors
 * (parent only, no child exists): -EINVAL (bad tuple or options, a level out of range, no
 * init), -E2BIG (options tail not zero), -EEXIST (a PID is taken), -EPERM (no
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over a pinned level, or no right to create a
 * namespace), -EOPNOTSUPP (the kernel cannot pin PIDs: no clone3 or no set_tid, or a filter
 * blocks it), -ENOMEM (no memory, or the namespace's init died), -EAGAIN (process limit),
 * -ENOSPC (namespace nesting limit), -EBADF/-ENOTDIR (cgroup fd), -EINTR.
 */
PIDTUPLE_API pid_t pidtuple_fork(const struct pidtuple *tuple,
				 const struct pidtuple_fork_opts *opts, int *ret_pidfd);

/**
 * @brief **pidtuple_spawn()** creates a child with exactly the PIDs of @p tuple and executes
 * @p path in it.
 *
 * Signal handlers the parent installed are reset to the default in the child and its signal
 * mask is kept. When execve() fails the child is reaped before the call returns, and the
 * error is the execve() errno.
 * @param tuple PIDs to create the child with.
 * @param path Program to execute (no PATH search).
 * @param argv NULL-terminated argument vector.
 * @param envp NULL-terminated environment, or NULL for the caller's environ.
 * @param opts Options, or NULL.
 * @param ret_pid Optional: the child's PID in the caller's namespace.
 * @param ret_pidfd Optional: a pidfd for the child (O_CLOEXEC).
 * @return 0 on success. Errors: those of pidtuple_fork(); -EINVAL (NULL @p path or @p argv);
 * with opts->diag rule PIDTUPLE_RULE_EXEC, the errno of execve() (-ENOENT, -EACCES,
 * -ENOEXEC, ...); -EMFILE, -ENFILE.
 */
PIDTUPLE_API int pidtuple_spawn(const struct pidtuple *tuple, const char *path, char *const argv[],
				char *const envp[], const struct pidtuple_fork_opts *opts,
				pid_t *ret_pid, int *ret_pidfd);

/**
 * @brief **pidtuple_clone()** creates a child with exactly the PIDs of @p tuple that runs
 * @p fn(@p arg) and exits with its return value.
 *
 * The child has its own copy of the address space, so it runs on its copy of the caller's
 * stack; the child contract of pidtuple_fork() applies to @p fn. The child never returns into
 * the caller's code.
 * @param tuple PIDs to create the child with.
 * @param fn Callback run in the child; its return value (0..255) is the exit status.
 * @param arg Passed to @p fn.
 * @param opts Options, or NULL.
 * @param ret_pid Optional: the child's PID in the caller's namespace.
 * @param ret_pidfd Optional: a pidfd for the child (O_CLOEXEC).
 * @return 0 on success. Errors: those of pidtuple_fork(); -EINVAL (NULL @p fn).
 */
PIDTUPLE_API int pidtuple_clone(const struct pidtuple *tuple, int (*fn)(void *), void *arg,
				const struct pidtuple_fork_opts *opts, pid_t *ret_pid,
				int *ret_pidfd);

/** pidtuple_thread_opts::flags: the new thread's thread pointer is pidtuple_thread_opts::tls
 * (CLONE_SETTLS); without it the thread runs with the creating thread's. */
#define PIDTUPLE_THREAD_SETTLS (1ull << 0)
/** pidtuple_thread_opts::flags: run the whole validator before creating the thread (slower,
 * exact reason), as PIDTUPLE_FORK_CHECK does for a fork. */
#define PIDTUPLE_THREAD_CHECK (1ull << 1)
/** Every pidtuple_thread_opts::flags bit this version knows. */
#define PIDTUPLE_THREAD_ALL_FLAGS (PIDTUPLE_THREAD_SETTLS | PIDTUPLE_THREAD_CHECK)
/** The smallest stack pidtuple_thread_create() accepts, in bytes; the callback needs its own
 * on top of it. */
#define PIDTUPLE_THREAD_STACK_MIN 1024u

/**
 * Options for pidtuple_thread_create(). Zero (or NULL) means: the creating thread's thread
 * pointer, no exit notification, no pre-check.
 */
struct pidtuple_thread_opts {
	size_t sz;	/**< sizeof(struct pidtuple_thread_opts) */
	uint64_t flags; /**< PIDTUPLE_THREAD_* */
	/**
	 * With PIDTUPLE_THREAD_SETTLS: the new thread's thread pointer (x86-64: the FS base;
	 * aarch64: TPIDR_EL0), pointing to a block laid out as the architecture's TLS ABI
	 * says. Must be 0 without the flag.
	 */
	uint64_t tls;
	/**
	 * Optional: a futex word for joining (CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID). The
	 * kernel stores the new thread's TID there before the call returns; when the thread has
	 * exited it stores 0 and wakes one waiter on the word: wait with FUTEX_WAIT, not
	 * FUTEX_WAIT_PRIVATE (the kernel's wake is a shared one). From 0 on, the thread no
	 * longer uses its stack; its TID is free again a moment later, once the kernel has
	 * released the thread.
	 */
	pid_t *tid_futex;
	struct pidtuple_diag *diag; /**< optional: the reason when the call fails */
	uint64_t reserved;	    /**< must be 0 */
	size_t : 0;
};
/** The last field of struct pidtuple_thread_opts this version knows. */
#define pidtuple_thread_opts__last_field reserved

/**
 * @brief **pidtuple_thread_create()** creates a thread of the calling process with exactly
 * the TIDs of @p tid, running @p fn(@p arg) on the caller's @p stack.
 *
 * A thread's TID is a PID at every level of its process's PID namespaces. @p tid pins them
 * innermost first: index 0 is the TID in the caller's own (active) PID namespace, index k the
 * number k levels further out; outer levels the tuple does not pin get automatic numbers, as
 * with pidtuple_fork(). A thread joins its process's namespaces, never a new one: there is no
 * CLONE_NEWPID for it, and after setns() or unshare() of the PID namespace (children would go
 * elsewhere) the kernel refuses threads. The rules, their order and the diagnostic are those
 * of pidtuple_check() with the caller's namespace as level 0: range, privilege and taken
 * TIDs, with the level as inner index and NSpid field; levels above the caller's namespace
 * cannot be seen from it and are left to the kernel. Only cheap checks run before the
 * syscall; when the kernel refuses, the validator explains why in opts->diag.
 * PIDTUPLE_THREAD_CHECK runs the validator first.
 *
 * Thread contract. The thread is made with a raw clone3() (CLONE_VM, CLONE_FS, CLONE_FILES,
 * CLONE_SIGHAND, CLONE_THREAD, CLONE_SYSVSEM, and CLONE_SETTLS with PIDTUPLE_THREAD_SETTLS):
 * it shares the process's memory, descriptors, working directory, signal handlers and
 * System V semaphore adjustments, and is invisible to the C library. It has no pthread_t
 * and no thread-local storage of its own: its thread pointer is the creating thread's
 * (so are `errno` and every `__thread` or `thread_local` variable) unless
 * PIDTUPLE_THREAD_SETTLS gives it pidtuple_thread_opts::tls. @p fn may therefore call only
 * what touches neither thread-local storage nor the C library's locks and allocator: raw
 * system calls through inline assembly or syscall() (which writes `errno` only on failure),
 * and functions such as memcpy(). malloc(), stdio, pthread functions, raise(), abort(),
 * exit() and anything that sets `errno` on the creating thread's behalf are not allowed.
 * The thread starts with the creating thread's signal mask; a signal the process receives
 * may be handled on it, on its stack and with its thread pointer: block signals around the
 * call when handlers could run there. It has no alternate signal stack, no rseq area and no
 * robust futex list. The C library's set*id() functions change the credentials of the
 * threads it knows only; this one keeps its own. When @p fn returns, the thread ends with
 * the exit system call and fn's return value, and only the thread: the process goes on
 * (exit(), exit_group() or execve() in any thread still ends every thread). Nothing collects
 * that value (only a ptracer sees it); report results through memory. @p stack is never
 * freed by the library and stays in use until the thread has ended: wait for
 * pidtuple_thread_opts::tid_futex to read 0 before reusing it.
 * @param tid TIDs to create the thread with.
 * @param fn Callback run in the new thread; its return value is the thread's exit code.
 * @param arg Passed to @p fn.
 * @param stack Lowest address of the thread's stack.
 * @param stack_size Its size in bytes, at least PIDTUPLE_THREAD_STACK_MIN; the top is aligned
 * down to 16 bytes.
 * @param opts Options, or NULL.
 * @param ret_tid Optional: the new thread's TID in the caller's namespace (tid's innermost).
 * @return 0 on success. Errors (no thread exists): -EINVAL (NULL @p fn or @p stack, a stack
 * below PIDTUPLE_THREAD_STACK_MIN, bad options or flags, tls without
 * PIDTUPLE_THREAD_SETTLS, a bad tuple, a level out of range, more levels than the caller's
 * depth, a caller whose PID namespace for children is not its own), -E2BIG (options tail
 * not zero), -EEXIST (a TID is taken), -EPERM (no CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN
 * over a pinned level; on x86-64 also a tls outside the user address space), -EOPNOTSUPP (the
 * kernel cannot pin TIDs, or the library has no thread start for this architecture: x86-64 and
 * aarch64 have one), -ENOMEM (no memory, or the namespace's init died), -EAGAIN (thread limit),
 * -EINTR.
 */
PIDTUPLE_API int pidtuple_thread_create(const struct pidtuple *tid, int (*fn)(void *), void *arg,
					void *stack, size_t stack_size,
					const struct pidtuple_thread_opts *opts, pid_t *ret_tid);

/**
 * @brief **pidtuple_thread_park()** is a thread function for pidtuple_thread_create() that holds
 * its TIDs until the process executes a program or ends: it sleeps in ppoll() and never
 * returns, touching no memory, not even `errno`, so the thread contract cannot be broken.
 *
 * A restored tree's HOLD nodes park their threads with it. A restore tool uses it to reserve
 * a thread's TIDs before it knows what the thread will run; a stack of
 * PIDTUPLE_THREAD_STACK_MIN bytes is plenty (it is never freed while the process lives).
 * Create the thread with every signal blocked (the thread keeps that mask): a handler must
 * never run on its small stack. Since 1.1.
 * @param arg Ignored.
 * @return Never returns (0 on an architecture without a thread start, where
 * pidtuple_thread_create() cannot start it).
 */
PIDTUPLE_API int pidtuple_thread_park(void *arg);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Namespace context and validation */
/** @{ */

/** The levels the next fork can pin, as seen by the caller. Opaque. */
struct pidtuple_nsctx;

/** pidtuple_level_info::flags: the fork creates this namespace (CLONE_NEWPID). */
#define PIDTUPLE_LEVEL_NEW (1ull << 0)
/** pidtuple_level_info::flags: the caller's active PID namespace. */
#define PIDTUPLE_LEVEL_CALLER (1ull << 1)
/** pidtuple_level_info::flags: the namespace has a living init. */
#define PIDTUPLE_LEVEL_HAS_INIT (1ull << 2)
/** pidtuple_level_info::flags: the namespace's init has died; no process can be added. */
#define PIDTUPLE_LEVEL_INIT_DEAD (1ull << 3)
/** pidtuple_level_info::flags: whether an init lives there could not be determined. */
#define PIDTUPLE_LEVEL_INIT_UNKNOWN (1ull << 4)
/** pidtuple_level_info::flags: pid_max was read from this namespace (else a default bound). */
#define PIDTUPLE_LEVEL_PID_MAX_EXACT (1ull << 5)
/** pidtuple_level_info::flags: the caller may pin a PID here. */
#define PIDTUPLE_LEVEL_CAN_PIN (1ull << 6)
/** pidtuple_level_info::flags: the caller has CAP_CHECKPOINT_RESTORE over the owner. */
#define PIDTUPLE_LEVEL_CAP_CHECKPOINT_RESTORE (1ull << 7)
/** pidtuple_level_info::flags: the caller has CAP_SYS_ADMIN over the owner. */
#define PIDTUPLE_LEVEL_CAP_SYS_ADMIN (1ull << 8)

/** What the library knows of one level. Output; set `sz`. */
struct pidtuple_level_info {
	size_t sz;	   /**< sizeof(struct pidtuple_level_info) as the caller knows it */
	uint64_t flags;	   /**< PIDTUPLE_LEVEL_* */
	int32_t pid_max;   /**< PIDs at this level must be below this */
	int32_t abs_level; /**< depth below the host namespace (0 = host); -1 if unknown */
	uint64_t ns_id;	   /**< nsfs inode number; 0 for a namespace the fork creates */
	size_t : 0;
};
/** The last field of struct pidtuple_level_info this version knows. */
#define pidtuple_level_info__last_field ns_id

/**
 * @brief **pidtuple_nsctx_new()** captures the levels the next fork from this thread can pin.
 *
 * Level 0 is the namespace the child will be born in: a new one with CLONE_NEWPID, else the
 * caller's `pid_for_children`. The last level is the caller's active namespace; outer levels
 * are not visible and not described. Facts that change (which PIDs are taken, whether an init
 * lives) are read again by every check.
 * @param opts Options as they will be passed to the fork (clone_flags matter), or NULL.
 * @param ret_ctx On success, the context; free it with pidtuple_nsctx_free().
 * @return 0 on success. Errors: -EINVAL (bad options), -E2BIG (options tail), -ENOENT (/proc
 * not mounted), -EMFILE, -ENFILE, -ENOMEM, -EPERM (namespace files not accessible).
 */
PIDTUPLE_API int pidtuple_nsctx_new(const struct pidtuple_fork_opts *opts,
				    struct pidtuple_nsctx **ret_ctx);

/**
 * @brief **pidtuple_nsctx_levels()** returns how many levels the caller can see and pin.
 * @param ctx The context.
 * @return 1..33. Errors: -EINVAL (NULL).
 */
PIDTUPLE_API int pidtuple_nsctx_levels(const struct pidtuple_nsctx *ctx);

/**
 * @brief **pidtuple_nsctx_level()** describes one level.
 * @param ctx The context.
 * @param inner_index 0 is the child's namespace.
 * @param info Output; its `sz` must be set.
 * @return 0 on success. Errors: -EINVAL (NULL, `sz` 0), -ERANGE (index not below
 * pidtuple_nsctx_levels()).
 */
PIDTUPLE_API int pidtuple_nsctx_level(const struct pidtuple_nsctx *ctx, unsigned int inner_index,
				      struct pidtuple_level_info *info);

/**
 * @brief **pidtuple_nsctx_free()** frees a context.
 * @param ctx The context, or NULL.
 */
PIDTUPLE_API void pidtuple_nsctx_free(struct pidtuple_nsctx *ctx);

/**
 * @brief **pidtuple_check()** checks a tuple against every kernel rule, in the caller's real
 * context, without creating anything.
 *
 * The verdict does not depend on the kernel version: where the kernel's own errno order
 * changed (6.18 to 7.0), the library reports the same rule either way. Rules are checked in
 * this order: options and flags, level count, then per level from the innermost out: range,
 * init, privilege; then taken PIDs.
 * @param tuple The tuple.
 * @param opts The options the fork will get, or NULL.
 * @param diag Optional: the failing rule, level and a message; on success, `unverified`.
 * @return 0 when every level was checked and passes; a positive count of outer levels the
 * caller cannot see (left to the kernel) when the rest passes. Errors: -EINVAL, -EPERM,
 * -EEXIST, -ENOMEM, -ENOSPC, -E2BIG, -EBADF, -ENOTDIR with the rule in @p diag; -EMFILE,
 * -ENFILE, -ENOENT when the context could not be read.
 */
PIDTUPLE_API int pidtuple_check(const struct pidtuple *tuple, const struct pidtuple_fork_opts *opts,
				struct pidtuple_diag *diag);

/**
 * @brief **pidtuple_check_in()** is pidtuple_check() with a context captured earlier, for
 * checking many tuples cheaply.
 * @param ctx From pidtuple_nsctx_new(); its options are the ones checked.
 * @param tuple The tuple.
 * @param diag Optional, as in pidtuple_check().
 * @return As pidtuple_check().
 */
PIDTUPLE_API int pidtuple_check_in(const struct pidtuple_nsctx *ctx, const struct pidtuple *tuple,
				   struct pidtuple_diag *diag);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Process trees: describe, check, restore, capture */
/** @{ */

/** A description of a process tree. Opaque. */
struct pidtuple_tree;

/** pidtuple_node::kind: keeps its PIDs taken, doing nothing, until handed over or killed. It
 * keeps none of the caller's descriptors. In a tree of 64 processes or more, one created by a
 * process whose whole subtree is HOLD nodes has an empty heap instead of the caller's, unless
 * the caller's heap holds its environment, stack or TLS, and none of the caller's loaded
 * objects (its program, its libraries) that the tree does not run (docs/trees.md, "The
 * restore"). */
#define PIDTUPLE_NODE_HOLD 0u
/** pidtuple_node::kind: executes pidtuple_node::path once the tree is released. */
#define PIDTUPLE_NODE_EXEC 1u
/** pidtuple_node::kind: runs pidtuple_node::fn once released and exits with its value. */
#define PIDTUPLE_NODE_CALLBACK 2u

/** pidtuple_node::flags: this node is the init of a new PID namespace (innermost PID 1); its
 * parent creates it with CLONE_NEWPID. */
#define PIDTUPLE_NODE_NEWPID (1ull << 0)
/** pidtuple_node::flags: a mark, not an instruction: the leader of this node's process group
 * was not a process of the captured tree (alive outside it, or gone), as pidtuple_tree_capture()
 * saw it. The check and the restore do not depend on it: it only lets a refusal say that a
 * group was led from outside (a shell job: PIDTUPLE_FORK_SHELL_JOB). Since 1.1. */
#define PIDTUPLE_NODE_GROUP_OUTSIDE (1ull << 1)
/** pidtuple_node::flags: the same mark for the node's session: its leader was not a process of
 * the captured tree (the shell a job was started from, alive or gone). Since 1.1. */
#define PIDTUPLE_NODE_SESSION_OUTSIDE (1ull << 2)
/** Every pidtuple_node::flags bit this version knows. Since 1.1. */
#define PIDTUPLE_NODE_ALL_FLAGS \
	(PIDTUPLE_NODE_NEWPID | PIDTUPLE_NODE_GROUP_OUTSIDE | PIDTUPLE_NODE_SESSION_OUTSIDE)

/**
 * One process of a tree. All tuples of a tree start at the same level, the tree's top: the
 * namespace the root is created in (the caller's `pid_for_children`) and, for the root's
 * outer levels, the ones above it. A node has as many levels as its parent, one more with
 * PIDTUPLE_NODE_NEWPID, and the same PIDs as its parent's namespaces at the shared levels'
 * namespaces (not the same numbers).
 */
struct pidtuple_node {
	size_t sz;		      /**< sizeof(struct pidtuple_node) */
	uint64_t flags;		      /**< PIDTUPLE_NODE_NEWPID, _GROUP_OUTSIDE, _SESSION_OUTSIDE */
	int32_t parent;		      /**< index of the parent node; -1 for the root */
	uint32_t kind;		      /**< PIDTUPLE_NODE_HOLD, _EXEC or _CALLBACK */
	const struct pidtuple *tuple; /**< its PIDs */
	/** Its process group at every level, 0 where not visible (as pidtuple_read() gives);
	 * NULL: the parent's. */
	const struct pidtuple *pgid;
	/** Its session, likewise; NULL: the parent's. */
	const struct pidtuple *sid;
	const char *path;     /**< PIDTUPLE_NODE_EXEC: the program (no PATH search) */
	char *const *argv;    /**< PIDTUPLE_NODE_EXEC: NULL-terminated arguments */
	char *const *envp;    /**< PIDTUPLE_NODE_EXEC: environment, NULL for environ */
	int (*fn)(void *arg); /**< PIDTUPLE_NODE_CALLBACK: runs in the node's process */
	void *arg;	      /**< passed to pidtuple_node::fn */
	/** PIDTUPLE_NODE_HOLD only: the TIDs of the process's other threads, one tuple each
	 * with the node's levels (the main thread's TIDs are pidtuple_node::tuple); NULL when
	 * pidtuple_node::nthreads is 0. Since 1.1. */
	const struct pidtuple *const *threads;
	/** PIDTUPLE_NODE_HOLD only: the command name the process takes (prctl(PR_SET_NAME), as
	 * ps and top show it; the kernel keeps 15 bytes), or NULL to keep the caller's. Capture
	 * records it. Since 1.1. */
	const char *name;
	uint32_t nthreads; /**< entries of pidtuple_node::threads */
	uint32_t reserved; /**< 0 */
	size_t : 0;
};
/** The last field of struct pidtuple_node this version knows. */
#define pidtuple_node__last_field reserved

/**
 * @brief **pidtuple_tree_new()** creates an empty tree description.
 * @param ret_tree On success, the tree; free it with pidtuple_tree_free().
 * @return 0 on success. Errors: -EINVAL (NULL), -ENOMEM.
 */
PIDTUPLE_API int pidtuple_tree_new(struct pidtuple_tree **ret_tree);

/**
 * @brief **pidtuple_tree_add()** appends a node; the tree keeps copies of its tuples and strings.
 *
 * Parents come before their children. Only what one node says is checked here; the whole
 * tree is checked by pidtuple_tree_check().
 * @param tree The tree.
 * @param node The node; its `sz` must be set.
 * @return The new node's index (0 for the first). Errors: -EINVAL (NULL, bad kind or flags, a
 * parent index not below the new one, a second root, missing tuple, path or fn), -E2BIG
 * (unknown tail), -ENOMEM.
 */
PIDTUPLE_API int pidtuple_tree_add(struct pidtuple_tree *tree, const struct pidtuple_node *node);

/**
 * @brief **pidtuple_tree_size()** returns the number of nodes.
 * @param tree The tree.
 * @return The count. Errors: -EINVAL (NULL).
 */
PIDTUPLE_API int pidtuple_tree_size(const struct pidtuple_tree *tree);

/**
 * @brief **pidtuple_tree_get()** reads a node back.
 * @param tree The tree.
 * @param index The node.
 * @param node Output; its `sz` must be set. Pointers stay valid while the tree lives.
 * @return 0 on success. Errors: -EINVAL (NULL, `sz` 0), -ERANGE (no such node).
 */
PIDTUPLE_API int pidtuple_tree_get(const struct pidtuple_tree *tree, unsigned int index,
				   struct pidtuple_node *node);

/**
 * @brief **pidtuple_tree_free()** frees a tree description (never any process).
 * @param tree The tree, or NULL.
 */
PIDTUPLE_API void pidtuple_tree_free(struct pidtuple_tree *tree);

/**
 * @brief **pidtuple_tree_check()** checks a whole tree before anything is created.
 *
 * Shape (one root, parents first, levels consistent with each parent's namespaces, inits
 * created first), PIDs colliding inside the tree at any level, process groups and sessions
 * that can be reproduced (leaders present or restorable by a helper), and for every node the
 * rules of pidtuple_check() that can be known before its parent exists (range, privilege at
 * every pinned level, PIDs already taken on the machine at the levels that already exist).
 * @param tree The tree.
 * @param opts As given to pidtuple_tree_restore(), or NULL.
 * @param diag Optional: the node (pidtuple_diag::node), the level and the rule.
 * @return 0, or a positive count of levels left to the kernel, as pidtuple_check(). Errors:
 * -EINVAL, -EEXIST, -EPERM, -ENOMEM, -E2BIG.
 */
PIDTUPLE_API int pidtuple_tree_check(const struct pidtuple_tree *tree,
				     const struct pidtuple_fork_opts *opts,
				     struct pidtuple_diag *diag);

/** A restored tree, held at its barrier until released. Opaque. */
struct pidtuple_restore;

/**
 * @brief **pidtuple_tree_restore()** creates every process of a tree with its exact PIDs,
 * each by its own parent, with its process group and session, and holds them all at a
 * barrier.
 *
 * The root is the caller's child. A session or group whose leader is not in the tree is
 * reproduced by a temporary helper with the leader's PIDs, removed before this returns. On
 * any failure every process created so far is killed and reaped: all or nothing.
 * @param tree The tree; pidtuple_tree_check() runs first.
 * @param opts Optional: diag, exit_signal of the root, the lock options; clone_flags must be
 * 0 (namespaces are per node).
 * @param ret_restore On success, the handle; the processes wait until
 * pidtuple_restore_release().
 * @return 0 on success. Errors: those of pidtuple_tree_check() and pidtuple_fork(), with the
 * failing node in opts->diag.
 */
PIDTUPLE_API int pidtuple_tree_restore(const struct pidtuple_tree *tree,
				       const struct pidtuple_fork_opts *opts,
				       struct pidtuple_restore **ret_restore);

/**
 * @brief **pidtuple_restore_pid()** returns a restored node's PID in the caller's namespace.
 * @param restore The handle.
 * @param node The node's index in the tree.
 * @return The PID. Errors: -EINVAL (NULL), -ERANGE (no such node).
 */
PIDTUPLE_API pid_t pidtuple_restore_pid(const struct pidtuple_restore *restore, unsigned int node);

/**
 * @brief **pidtuple_restore_pidfd()** returns a pidfd for a restored node, owned by the handle.
 * @param restore The handle.
 * @param node The node's index in the tree.
 * @return The pidfd (valid until pidtuple_restore_free()). Errors: -EINVAL, -ERANGE.
 */
PIDTUPLE_API int pidtuple_restore_pidfd(const struct pidtuple_restore *restore, unsigned int node);

/**
 * @brief **pidtuple_restore_release()** lifts the barrier: every process starts its work at
 * once (HOLD nodes keep holding). Returns once every node has left the barrier.
 * @param restore The handle.
 * @return 0. Errors: -EINVAL (NULL), -EALREADY (released before).
 */
PIDTUPLE_API int pidtuple_restore_release(struct pidtuple_restore *restore);

/**
 * @brief **pidtuple_restore_hand_over()** makes a HOLD node execute a program in place: its
 * PIDs are never free, so the hand-over has no window.
 * @param restore The handle, released.
 * @param node A HOLD node.
 * @param path Program (no PATH search).
 * @param argv NULL-terminated arguments.
 * @param envp Environment, or NULL for the node's.
 * @return 0 once the node has executed @p path. Errors: -EINVAL (not a HOLD node, not
 * released, NULL), -ERANGE, -ESRCH (the node is gone), the execve() errno (the node keeps
 * holding).
 */
PIDTUPLE_API int pidtuple_restore_hand_over(struct pidtuple_restore *restore, unsigned int node,
					    const char *path, char *const argv[],
					    char *const envp[]);

/**
 * @brief **pidtuple_restore_kill()** kills every process of the tree and reaps those that are
 * the caller's to reap.
 * @param restore The handle.
 * @return 0. Errors: -EINVAL (NULL).
 */
PIDTUPLE_API int pidtuple_restore_kill(struct pidtuple_restore *restore);

/**
 * @brief **pidtuple_restore_free()** frees the handle and closes its pidfds. A released tree
 * is not touched and its root stays the caller's child to reap; a tree never released could
 * never run, so its processes exit (use pidtuple_restore_kill() to abort explicitly).
 * @param restore The handle, or NULL.
 */
PIDTUPLE_API void pidtuple_restore_free(struct pidtuple_restore *restore);

/**
 * @brief **pidtuple_tree_capture()** describes a live process tree: the process @p root and
 * all its descendants, with their tuples, parentage, groups, sessions and namespace
 * boundaries, relative to the caller's namespace. Every node is a HOLD node.
 *
 * capture, kill, restore and capture again gives an identical description.
 * @param root The root process, in the caller's namespace.
 * @param ret_tree On success, the description; free it with pidtuple_tree_free().
 * @return 0 on success. Errors: -EINVAL, -ESRCH (no such process), -ENOMEM, -EMFILE, and the
 * errors of pidtuple_read().
 */
PIDTUPLE_API int pidtuple_tree_capture(pid_t root, struct pidtuple_tree **ret_tree);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name Kernel features */
/** @{ */

/** pidtuple_features(): clone3() can be called. */
#define PIDTUPLE_FEATURE_CLONE3 (1ull << 0)
/** pidtuple_features(): clone3() takes set_tid (5.5+). */
#define PIDTUPLE_FEATURE_SET_TID (1ull << 1)
/** pidtuple_features(): CLONE_PIDFD with clone3(). */
#define PIDTUPLE_FEATURE_PIDFD (1ull << 2)
/** pidtuple_features(): CLONE_INTO_CGROUP (5.7+). */
#define PIDTUPLE_FEATURE_INTO_CGROUP (1ull << 3)
/** pidtuple_features(): nsfs PID translation ioctls (6.11+). */
#define PIDTUPLE_FEATURE_NS_PID_IOCTLS (1ull << 4)
/** pidtuple_features(): PIDFD_GET_INFO (6.13+). */
#define PIDTUPLE_FEATURE_PIDFD_GET_INFO (1ull << 5)
/** pidtuple_features(): pid_max is per PID namespace (6.14+). */
#define PIDTUPLE_FEATURE_PER_NS_PID_MAX (1ull << 6)
/** pidtuple_features(): the caller holds CAP_CHECKPOINT_RESTORE in its user namespace. */
#define PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE (1ull << 7)
/** pidtuple_features(): the caller holds CAP_SYS_ADMIN in its user namespace. */
#define PIDTUPLE_FEATURE_CAP_SYS_ADMIN (1ull << 8)

/** pidtuple_features(): /proc/sys/kernel/ns_last_pid can be written by the caller. */
#define PIDTUPLE_FEATURE_NS_LAST_PID (1ull << 9)
/** pidtuple_features(): pidtuple_scan can read through a BPF task iterator (libbpf.so.1
 * installed, CAP_BPF and CAP_PERFMON or CAP_SYS_ADMIN in the initial user namespace, kernel BTF);
 * otherwise it reads /proc. */
#define PIDTUPLE_FEATURE_BPF_SCAN (1ull << 10)
/** Every feature bit this version knows. */
#define PIDTUPLE_FEATURE_ALL ((1ull << 11) - 1)

/**
 * @brief **pidtuple_features()** reports what this kernel and sandbox allow.
 *
 * Probed once per process with calls that cannot create a process, then cached thread-safely
 * (the capability bits are read on every call). A fork that meets ENOSYS, or an EPERM the
 * validator cannot explain, probes again.
 * @return A mask of PIDTUPLE_FEATURE_* bits; never fails.
 */
PIDTUPLE_API uint64_t pidtuple_features(void);

/**
 * @brief **pidtuple_feature_error()** says why a feature is absent.
 * @param feature One PIDTUPLE_FEATURE_* bit.
 * @return 0 when present; else the negative errno its probe met: -ENOSYS (no clone3, or a
 * seccomp filter), -EPERM (a filter, or no privilege for a capability bit), -E2BIG (clone3
 * without set_tid, or without CLONE_INTO_CGROUP), -ENOTTY (no such ioctl), -EROFS, -EACCES,
 * -ENOENT; any other errno is kept as the probe saw it. Errors: -EINVAL (not exactly one known
 * bit).
 */
PIDTUPLE_API int pidtuple_feature_error(uint64_t feature);

/**
 * @brief **pidtuple_feature_name()** names a feature bit, e.g. "set_tid".
 * @param feature One PIDTUPLE_FEATURE_* bit.
 * @return A static string; "unknown" for anything else. Never NULL.
 */
PIDTUPLE_API const char *pidtuple_feature_name(uint64_t feature);

/**
 * @brief **pidtuple_feature_reason()** explains in one line why a feature is absent, e.g.
 * "ENOSYS: clone3() is missing (kernel before 5.3) or a seccomp filter hides it".
 * @param feature One PIDTUPLE_FEATURE_* bit.
 * @return A static string; "present" when the feature is there. Never NULL.
 */
PIDTUPLE_API const char *pidtuple_feature_reason(uint64_t feature);

/** @} */

/* ---------------------------------------------------------------------------------------- */
/** @name The caller's namespace allocator */
/** @{ */

/**
 * @brief **pidtuple_get_next_pid()** reads where the caller's PID namespace will look for its
 * next automatic PID (the value of /proc/sys/kernel/ns_last_pid plus one).
 * @return The next candidate PID (the first free number from it on is used). Errors: -ENOENT
 * (no ns_last_pid: kernel without CONFIG_CHECKPOINT_RESTORE, or /proc not mounted), -EACCES,
 * -EIO.
 */
PIDTUPLE_API int pidtuple_get_next_pid(void);

/**
 * @brief **pidtuple_set_next_pid()** moves the caller's namespace's allocator so the next
 * automatic PID is the first free number from @p next on, under the ns_last_pid lock, and
 * reads it back.
 *
 * Use it to push ordinary forks away from a range before restoring into it. It affects only
 * forks without set_tid.
 * @param next 1..pid_max.
 * @param opts Optional: lock callbacks and diag; other fields ignored.
 * @return The next candidate PID as read back. Errors: -EINVAL (@p next out of range, bad
 * opts), -E2BIG, -EPERM (no CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over the namespace's
 * owner), -EROFS (/proc/sys read-only), -EACCES, -ENOENT, and whatever the lock callback
 * returned.
 */
PIDTUPLE_API int pidtuple_set_next_pid(pid_t next, const struct pidtuple_fork_opts *opts);

/** @} */

#ifdef __cplusplus
}

extern "C++" {
/**
 * C++: a value-initialized (all zero) size-prefixed struct @p T with `sz` set, what
 * PIDTUPLE_OPTS_INIT() gives in C++. Inline, in the header only: no symbol of the library.
 * @return The struct.
 */
template <typename T> inline T pidtuple_opts_init()
{
	T opts = T();
	opts.sz = sizeof(T);
	return opts;
}
}
#endif

#endif /* PIDTUPLE_H */
