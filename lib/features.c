/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel feature probes: calls that fail before they could create anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "internal.h"

#define PT_FEATURES_VALID (1ull << 63)
#define PT_PIDFD_INFO_PID (1ull << 0)

static _Atomic uint64_t features_cache;

static uint64_t probe_clone3(void)
{
	pid_t dummy = 0;
	struct pt_clone_args a;
	uint64_t f = 0;

	/* An exit signal with bits above CSIGNAL: EINVAL when clone3() exists. */
	a = (struct pt_clone_args){ .exit_signal = ~0ull };
	if (pt_sys_clone3(&a, PT_CLONE_ARGS_SIZE_VER0) != -EINVAL)
		return 0;
	f |= PIDTUPLE_FEATURE_CLONE3 | PIDTUPLE_FEATURE_PIDFD;

	/* set_tid without a size: EINVAL from 5.5 on, E2BIG (unknown tail) before. */
	a = (struct pt_clone_args){ .set_tid = (uintptr_t)&dummy };
	if (pt_sys_clone3(&a, PT_CLONE_ARGS_SIZE_VER1) == -EINVAL)
		f |= PIDTUPLE_FEATURE_SET_TID;

	/* CLONE_INTO_CGROUP with an fd above INT_MAX: EINVAL from 5.7 on, E2BIG before. */
	a = (struct pt_clone_args){ .flags = PT_CLONE_INTO_CGROUP, .cgroup = 1ull << 32 };
	if (pt_sys_clone3(&a, PT_CLONE_ARGS_SIZE_VER2) == -EINVAL)
		f |= PIDTUPLE_FEATURE_INTO_CGROUP;
	return f;
}

static uint64_t probe_nsfs_pidfs(void)
{
	pid_t self = pt_sys_getpid();
	uint64_t f = 0, mask = 0;
	int fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (pt_ns_pid_from_pidns(fd, self) == self)
			f |= PIDTUPLE_FEATURE_NS_PID_IOCTLS;
		close(fd);
	}
	fd = pt_sys_pidfd_open(self, 0);
	if (fd >= 0) {
		/* PIDFD_GET_INFO came in 6.13, per-namespace pid_max in 6.14: the nearest
		 * observable sign, since pid_max itself cannot be probed without a process. */
		if (pt_pidfd_info_mask(fd, PT_PIDFD_INFO_PID, &mask) == 0 &&
		    (mask & PT_PIDFD_INFO_PID))
			f |= PIDTUPLE_FEATURE_PIDFD_GET_INFO | PIDTUPLE_FEATURE_PER_NS_PID_MAX;
		close(fd);
	}
	return f;
}

uint64_t pt_features_cached(void)
{
	uint64_t f = atomic_load_explicit(&features_cache, memory_order_acquire);

	if (f & PT_FEATURES_VALID)
		return f & ~PT_FEATURES_VALID;
	/* Racing threads compute the same value; the last store wins harmlessly. */
	f = probe_clone3() | probe_nsfs_pidfs();
	atomic_store_explicit(&features_cache, f | PT_FEATURES_VALID, memory_order_release);
	return f;
}

PT_PUBLIC uint64_t pidtuple_features(void)
{
	uint64_t f = pt_features_cached(), caps = 0;

	if (pt_sys_cap_effective(&caps) == 0) {
		if (caps & (1ull << PT_CAP_CHECKPOINT_RESTORE))
			f |= PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE;
		if (caps & (1ull << PT_CAP_SYS_ADMIN))
			f |= PIDTUPLE_FEATURE_CAP_SYS_ADMIN;
	}
	return f;
}
