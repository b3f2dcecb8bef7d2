// SPDX-License-Identifier: LGPL-2.1-or-later
// Compile-only check that pidtuple.h is usable from C++11 and C++17 (-pedantic), with the C++
// form of PIDTUPLE_OPTS_INIT() and pidtuple_opts_init(). Never linked.
#include "pidtuple.h"

int header_test_cxx();

int header_test_cxx()
{
	struct pidtuple *t = nullptr;
	pidtuple_diag diag = PIDTUPLE_OPTS_INIT(pidtuple_diag);
	pidtuple_fork_opts opts = PIDTUPLE_OPTS_INIT(pidtuple_fork_opts);
	auto read_opts = pidtuple_opts_init<pidtuple_read_opts>();
	pid_t pids[PIDTUPLE_MAX_LEVELS] = {};
	int r;

	opts.flags = PIDTUPLE_FORK_CHECK;
	opts.diag = &diag;
	r = pidtuple_from_inner(pids, 1, &t);
	if (r < 0)
		return pidtuple_strerror(r)[0];
	r = pidtuple_check(t, &opts, &diag);
	pidtuple_free(t);
	read_opts.source = PIDTUPLE_SOURCE_STATUS;
	r += pidtuple_read(1, PIDTUPLE_KIND_TGID, &read_opts, &t);
	pidtuple_free(t);
	return r + static_cast<int>(sizeof(pidtuple_level_info)) + pidtuple_version_minor();
}
