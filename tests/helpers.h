/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helpers: private PID namespaces, resource counting. */
#ifndef PIDTUPLE_TEST_HELPERS_H
#define PIDTUPLE_TEST_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

struct pidtuple;

/* Exit code that CTest treats as "skipped" (SKIP_RETURN_CODE 77). */
#define TH_SKIP 77

/*
 * Runs @fn(@arg) in a new PID namespace as its init (PID 1), in a child process. Returns
 * fn's return value (0..255), 128+signal when it died of a signal, or -errno when the
 * namespace could not be made. When fn returns, the kernel kills everything left in the
 * namespace; the child is reaped before this returns.
 */
int th_in_pidns(int (*fn)(void *), void *arg);

/*
 * th_in_pidns() that also fails (returns 1) when fn leaves an fd open or a child, live or
 * zombie, behind. Counts are taken in the namespace's init just before and after fn.
 */
int th_in_pidns_clean(int (*fn)(void *), void *arg);

/*
 * Under LeakSanitizer, checks for leaks now, in the calling process, and returns non-zero
 * (after LSan's report) when there are any; 0 otherwise and in builds without LSan. Code
 * that runs in th_in_pidns() ends with _exit(), where LSan's at-exit check never runs.
 */
int th_leak_check(void);

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_LEAK__)
#define TH_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define TH_HAVE_LSAN 1
#endif
#endif

/*
 * Put once in a suite that calls th_leak_check() wherever the library ran: turns off LSan's
 * at-exit check, which would only look at Check's forked test process.
 */
#ifdef TH_HAVE_LSAN
#define TH_LSAN_EXPLICIT_ONLY                                                                 \
	const char *__lsan_default_options(void);                                             \
	__attribute__((used, visibility("default"))) const char *__lsan_default_options(void) \
	{                                                                                     \
		return "leak_check_at_exit=0";                                                \
	}
#else
#define TH_LSAN_EXPLICIT_ONLY
#endif

/* Inside th_in_pidns(): assertion that reports file:line and returns 1 from fn. */
#define TH_CHECK(cond, ...)                                                                      \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			return 1;                                                                \
		}                                                                                \
	} while (0)

/*
 * Runs fn(arg) in the calling process, then th_leak_check(). Returns fn's result when not 0,
 * 1 when memory leaked, else 0. Meant as a th_in_pidns() body, where the library ran.
 */
int th_run_leak_checked(int (*fn)(void *), void *arg);

/* th_in_pidns_clean() plus th_leak_check() in the namespace's init after fn. */
int th_in_pidns_leakfree(int (*fn)(void *), void *arg);

/*
 * Runs fn(arg) in a forked child (same namespaces, flushes stdio before _exit()). Returns its
 * exit status, 128+signal when it died of a signal, or -errno when it could not fork.
 */
int th_in_child(int (*fn)(void *), void *arg);

/* Waits for @pid (any child type, EINTR retried): exit status, 128+signal, or -1. */
int th_wait_status(pid_t pid);

/*
 * End of a test that made a nested namespace: kills @holder (when > 0), closes @nsfd (when
 * >= 0), kills and reaps every child. Returns 1, with a message, when a child or zombie is
 * left or the open fds are not @fds; 0 otherwise.
 */
int th_clean_up(pid_t holder, int nsfd, int fds);

/* /proc/sys/kernel/pid_max as the caller's namespace sees it, or -1. */
int th_read_pid_max(void);
/* True when the running kernel is @maj.@min or newer. */
bool th_kernel_at_least(int maj, int min);
/* The kernel's PID_MAX_LIMIT, a new namespace's pid_max from 6.14 (per-namespace pid_max). */
#define TH_PID_MAX_LIMIT (4 * 1024 * 1024)
/* The bound in a nested namespace: its own start value from 6.14, else the one global one. */
int th_nested_pid_max(void);

/* Entries of the NSpid line of /proc/self/status (levels from /proc's namespace down), -1
 * when it has none, or -errno. */
int th_nspid_entries(void);

/* Gives the caller a /proc of its own PID namespace, in a private mount namespace. */
int th_mount_own_proc(void);

/* 0 when @t (may be NULL) formats as @want; else prints both, prefixed by @what, returns 1. */
int th_tuple_is(const struct pidtuple *t, const char *want, const char *what);

/* Raw system calls, bypassing the C library's caches and wrappers. */
pid_t th_raw_getpid(void);
pid_t th_raw_gettid(void);
int th_pidfd_open(pid_t pid, unsigned int flags);
int th_pidfd_send_signal(int pidfd, int sig);

/* The number /proc knows the process of @pidfd by (its fdinfo's Pid: /proc may be an outer
 * namespace's); -1 when it cannot be read. */
pid_t th_proc_pid(int pidfd);

struct pidtuple_tree;
struct pidtuple_restore;

/* 0 when the tree restored as @rs, as pidtuple_tree_capture() reads it from its root, has
 * @t's nodes with their PIDs, names and threads; 1 (with a message) otherwise. */
int th_tree_same_as_captured(const struct pidtuple_tree *t, const struct pidtuple_restore *rs);

/*
 * Holds @want without a process or a process group of that number: a process with it founds
 * a session, forks a member that moves to a group of its own and stays, and exits. The check
 * looks for processes and groups with a number (for sessions whose leader is gone only with
 * PIDTUPLE_FORK_CHECK_SCAN, a walk of the namespace), so it passes, and the restore finds the
 * number taken when it creates the node: the path of a PID taken between the check and the
 * creation. That moment used to be the lock callback's; the lock now comes before the check,
 * so that nobody who takes it too can take a PID in between, and a racer that does not take
 * it cannot be timed. Returns the member (the caller's child once the founder is reaped, the
 * caller being its namespace's init), or -1.
 */
pid_t th_hold_as_session(pid_t want);

/*
 * Our own copy of the uapi struct clone_args: a judge of what the kernel accepts must not
 * share code with the library.
 */
struct th_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};

#define TH_NR_CLONE3 435	   /* the same on every architecture */
#define TH_CLONE_ARGS_SIZE_VER1 80 /* up to set_tid_size */
#define TH_CLONE_ARGS_SIZE_VER2 88 /* up to cgroup */

/*
 * clone3(@a, @size) without the C library. A child that is made _exit(0)s at once and is
 * reaped here. Returns 0 when the kernel made the child, else -errno.
 */
int th_raw_clone3(const struct th_clone_args *a, size_t size);

/* The kernel's verdict on set_tid @pids (@n, inner first) with @flags and @exit_signal: 0 when
 * it made the child (reaped here), else -errno. */
int th_kernel_verdict(const pid_t *pids, size_t n, uint64_t flags, uint64_t exit_signal);

/* Open file descriptors of the calling process. */
int th_count_fds(void);
/* Children (live or zombie) of the calling process. */
int th_count_children(void);
/* Reaps every exited child without blocking; returns how many. */
int th_reap_exited(void);
/* Kills and reaps every child of the calling process; returns how many. */
int th_kill_children(void);
/* True when the process may create PID namespaces and pin PIDs (root with CAP_SYS_ADMIN). */
bool th_privileged(void);
/* Exits with TH_SKIP and a message unless th_privileged(), except under CI=true, where a
 * missing privilege fails the suite instead of skipping it. */
void th_require_privilege(void);
/*
 * Creates a holder process that is init of a new PID namespace nested @depth levels below the
 * caller's (depth 1: a child namespace). Returns the holder's pid (in the caller's namespace)
 * and writes an open fd of the innermost namespace to *ret_nsfd. The holder sleeps until
 * killed (kill the returned pid: every level dies with it). With @outer_pids (@depth entries),
 * outer_pids[k] is the PID the init of level k+1 gets inside level k (level 0 being the
 * caller's namespace); else the kernel chooses. Returns -errno on failure. The holders inherit
 * the caller's open fds: create pipes whose EOF matters only after this call.
 */
pid_t th_make_nested_ns(int depth, const pid_t *outer_pids, int *ret_nsfd);

/* For Check suites (included after <check.h>). */
#ifdef CHECK_H
/* A test that runs fn((void *)arg) in a private PID namespace and wants 0 from it. */
#define TH_NS_TEST(name, fn, arg)                                              \
	START_TEST(name)                                                       \
	{                                                                      \
		ck_assert_int_eq(th_in_pidns(fn, (void *)(intptr_t)(arg)), 0); \
	}                                                                      \
	END_TEST

/* Runs @s in the normal mode and frees it; the suite's exit code. */
static inline int th_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif

#endif
