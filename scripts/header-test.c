/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compile-only check that pidtuple.h is valid C99 (-pedantic) and, with HEADER_TEST_GNU,
 * that the GNU-only PIDTUPLE_OPTS() convenience macro compiles cleanly. Never linked.
 */
#include "pidtuple.h"

#if !PIDTUPLE_CHECK_VERSION(1, 0)
#error "PIDTUPLE_CHECK_VERSION(1, 0) is false"
#endif

int header_test(void);

int header_test(void)
{
	struct pidtuple *t = NULL;
	struct pidtuple_diag diag = { .sz = sizeof(struct pidtuple_diag) };
	struct pidtuple_level_info info = { .sz = sizeof(struct pidtuple_level_info) };
	pid_t pids[PIDTUPLE_MAX_LEVELS] = { 1 };
	int r;

	(void)info;
	r = pidtuple_parse("4242/17/1", &t, &diag);
	if (r < 0)
		return (int)pidtuple_strerror(r)[0] + (int)pidtuple_rule_name(diag.rule)[0];
	r = pidtuple_to_inner(t, pids, PIDTUPLE_MAX_LEVELS);
	pidtuple_free(t);
	if (pidtuple_features() & PIDTUPLE_FEATURE_SET_TID)
		r += pidtuple_version_major();
#ifdef HEADER_TEST_GNU
	{
		PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .flags = PIDTUPLE_FORK_CHECK,
			      .diag = &diag);
		r += pidtuple_check(t, &opts, &diag);
	}
#endif
	return r;
}
