/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helpers: private PID namespaces, resource counting. */
#ifndef PIDTUPLE_TEST_HELPERS_H
#define PIDTUPLE_TEST_HELPERS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

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

#endif
