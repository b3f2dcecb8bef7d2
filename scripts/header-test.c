/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compile-only check that pidtuple.h is valid ISO C99 and C11 (-pedantic), with the
 * PIDTUPLE_OPTS_INIT() initializers, and, with HEADER_TEST_GNU, that the GNU C convenience macro
 * PIDTUPLE_OPTS() compiles cleanly too, also under -Wpedantic. Never linked.
 */
#include "pidtuple.h"

#if !PIDTUPLE_CHECK_VERSION(1, 0)
#error "PIDTUPLE_CHECK_VERSION(1, 0) is false"
#endif

int header_test(void);

int header_test(void)
{
	struct pidtuple *t = NULL;
	struct pidtuple_diag diag = PIDTUPLE_OPTS_INIT(pidtuple_diag);
	struct pidtuple_level_info info = PIDTUPLE_OPTS_INIT(pidtuple_level_info);
	struct pidtuple_fork_opts opts =
		PIDTUPLE_OPTS_INIT(pidtuple_fork_opts, .flags = PIDTUPLE_FORK_CHECK, .diag = &diag);
	pid_t pids[PIDTUPLE_MAX_LEVELS] = { 1 };
	int r;

	(void)info;
	r = pidtuple_parse("4242/17/1", &t, &diag);
	if (r < 0)
		return (int)pidtuple_strerror(r)[0] + (int)pidtuple_rule_name(diag.rule)[0];
	r = pidtuple_to_inner(t, pids, PIDTUPLE_MAX_LEVELS);
	r += pidtuple_check(t, &opts, &diag);
	/* A compound literal, for a call that takes the options once. */
	r += pidtuple_read(1, PIDTUPLE_KIND_TGID,
			   &(struct pidtuple_read_opts)PIDTUPLE_OPTS_INIT(
				   pidtuple_read_opts, .source = PIDTUPLE_SOURCE_STATUS),
			   &t);
	if (pidtuple_features() & PIDTUPLE_FEATURE_SET_TID)
		r += pidtuple_version_major();
#ifdef HEADER_TEST_GNU
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, gnu_opts, .flags = PIDTUPLE_FORK_CHECK,
			      .diag = &diag);
		PIDTUPLE_OPTS(pidtuple_scan_opts, scan_opts);

		r += pidtuple_check(t, &gnu_opts, &diag) + (int)scan_opts.sz;
	}
#endif
	pidtuple_free(t);
	return r;
}
