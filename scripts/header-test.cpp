// SPDX-License-Identifier: LGPL-2.1-or-later
// Compile-only check that pidtuple.h is usable from C++11 (-pedantic). Never linked.
#include "pidtuple.h"

int header_test_cxx();

int header_test_cxx()
{
	struct pidtuple *t = nullptr;
	pidtuple_diag diag = {};
	pidtuple_fork_opts opts = {};
	pid_t pids[PIDTUPLE_MAX_LEVELS] = {};
	int r;

	diag.sz = sizeof(diag);
	opts.sz = sizeof(opts);
	opts.diag = &diag;
	r = pidtuple_from_inner(pids, 1, &t);
	if (r < 0)
		return pidtuple_strerror(r)[0];
	r = pidtuple_check(t, &opts, &diag);
	pidtuple_free(t);
	return r + static_cast<int>(sizeof(pidtuple_level_info)) + pidtuple_version_minor();
}
