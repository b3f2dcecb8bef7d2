/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel feature probes: calls that fail before they could create anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <unistd.h>

#include "caps.h"
#include "lib.h"
#include "probe.h"
#include "scan_bpf.h"
#include "proc.h"
#include "syscall_shim.h"

#define PT_FEATURES_VALID (1ull << 63)
#define PT_PIDFD_INFO_PID (1ull << 0)
#define NFEATURES 11

static _Atomic uint64_t features_cache;
/* Negative errno each absent feature's probe met; 0 when present. */
static _Atomic int feature_errs[NFEATURES];

static int bit_index(uint64_t feature)
{
	if (!feature || (feature & (feature - 1)) || !(feature & PIDTUPLE_FEATURE_ALL))
		return -1;
	return __builtin_ctzll(feature);
}

static void set_err(int *errs, uint64_t feature, int err)
{
	errs[bit_index(feature)] = err;
}

static uint64_t probe_clone3(int *errs)
{
	pid_t dummy = 0;
	struct pt_clone_args a;
	uint64_t f = 0;
	long r;

	/* An exit signal with bits above CSIGNAL: EINVAL when clone3() exists. */
	a = (struct pt_clone_args){ .exit_signal = ~0ull };
	r = pt_sys_clone3(&a, PT_CLONE_ARGS_SIZE_VER0);
	if (r != -EINVAL) {
		for (uint64_t b = PIDTUPLE_FEATURE_CLONE3; b <= PIDTUPLE_FEATURE_INTO_CGROUP;
		     b <<= 1)
			set_err(errs, b, r < 0 ? (int)r : -EIO);
		return 0;
	}
	f |= PIDTUPLE_FEATURE_CLONE3 | PIDTUPLE_FEATURE_PIDFD;

	/* set_tid without a size: EINVAL from 5.5 on, E2BIG (unknown tail) before. */
	a = (struct pt_clone_args){ .set_tid = (uintptr_t)&dummy };
	r = pt_sys_clone3(&a, PT_CLONE_ARGS_SIZE_VER1);
	if (r == -EINVAL)
		f |= PIDTUPLE_FEATURE_SET_TID;
	else
		set_err(errs, PIDTUPLE_FEATURE_SET_TID, r < 0 ? (int)r : -EIO);

	/* CLONE_INTO_CGROUP with an fd above INT_MAX: EINVAL from 5.7 on, E2BIG before. */
	a = (struct pt_clone_args){ .flags = PT_CLONE_INTO_CGROUP, .cgroup = 1ull << 32 };
	r = pt_sys_clone3(&a, PT_CLONE_ARGS_SIZE_VER2);
	if (r == -EINVAL)
		f |= PIDTUPLE_FEATURE_INTO_CGROUP;
	else
		set_err(errs, PIDTUPLE_FEATURE_INTO_CGROUP, r < 0 ? (int)r : -EIO);
	return f;
}

static uint64_t probe_nsfs_pidfs(int *errs)
{
	pid_t self = pt_sys_getpid();
	uint64_t f = 0, mask = 0;
	int fd = pt_proc_ns_open(-1, 0, "pid"), r = fd;

	if (fd >= 0) {
		r = pt_ns_pid_from_pidns(fd, self);
		if (r == self)
			f |= PIDTUPLE_FEATURE_NS_PID_IOCTLS;
		pt_close(fd);
	}
	if (!(f & PIDTUPLE_FEATURE_NS_PID_IOCTLS))
		set_err(errs, PIDTUPLE_FEATURE_NS_PID_IOCTLS, r < 0 ? r : -EIO);

	fd = pt_sys_pidfd_open(self, 0);
	r = fd;
	if (fd >= 0) {
		/* PIDFD_GET_INFO came in 6.13, per-namespace pid_max in 6.14: the nearest
		 * observable sign, since pid_max itself cannot be probed without a process. */
		r = pt_pidfd_info_mask(fd, PT_PIDFD_INFO_PID, &mask);
		if (r == 0 && (mask & PT_PIDFD_INFO_PID))
			f |= PIDTUPLE_FEATURE_PIDFD_GET_INFO | PIDTUPLE_FEATURE_PER_NS_PID_MAX;
		pt_close(fd);
	}
	if (!(f & PIDTUPLE_FEATURE_PIDFD_GET_INFO)) {
		set_err(errs, PIDTUPLE_FEATURE_PIDFD_GET_INFO, r < 0 ? r : -EIO);
		set_err(errs, PIDTUPLE_FEATURE_PER_NS_PID_MAX, r < 0 ? r : -EIO);
	}

	fd = pt_open("/proc/sys/kernel/ns_last_pid", O_RDWR);
	if (fd >= 0) {
		f |= PIDTUPLE_FEATURE_NS_LAST_PID; /* privilege is added per call */
		pt_close(fd);
	} else {
		set_err(errs, PIDTUPLE_FEATURE_NS_LAST_PID, fd);
	}
	return f;
}

/* Answers that describe the kernel or the sandbox; anything else may be passing. */
static bool probe_uncertain(const int *errs)
{
	for (int i = 0; i < NFEATURES; i++)
		switch (-errs[i]) {
		case 0:
		case ENOSYS:
		case EPERM:
		case E2BIG:
		case EINVAL:
		case ENOTTY:
		case EOPNOTSUPP:
		case EROFS:
		case EACCES:
		case ENOENT:
			break;
		default:
			return true;
		}
	return false;
}

uint64_t pt_features_cached(void)
{
	uint64_t f = atomic_load_explicit(&features_cache, memory_order_acquire);
	int errs[NFEATURES] = { 0 };

	if (f & PT_FEATURES_VALID)
		return f & ~PT_FEATURES_VALID;
	/* Racing threads compute the same value; the last store wins harmlessly. */
	f = probe_clone3(errs) | probe_nsfs_pidfs(errs);
	for (int i = 0; i < NFEATURES; i++)
		atomic_store_explicit(&feature_errs[i], errs[i], memory_order_relaxed);
	/* A transient failure (no memory, no fds, a signal) says nothing about the kernel:
	 * answer from this probe but do not remember it. */
	if (!probe_uncertain(errs))
		atomic_store_explicit(&features_cache, f | PT_FEATURES_VALID, memory_order_release);
	return f;
}

int pt_feature_err(uint64_t feature)
{
	int i = bit_index(feature);

	if (i < 0 || (pt_features_cached() & feature))
		return 0;
	return atomic_load_explicit(&feature_errs[i], memory_order_relaxed);
}

uint64_t pt_features_reprobe(void)
{
	atomic_store_explicit(&features_cache, 0, memory_order_release);
	return pt_features_cached();
}

/* The capability bits, and ns_last_pid only when the caller may write it. */
static uint64_t features_now(int *errs)
{
	uint64_t f = pt_features_cached(), caps = 0;
	int r = pt_sys_cap_effective(&caps);

	for (int i = 0; i < NFEATURES; i++)
		errs[i] = atomic_load_explicit(&feature_errs[i], memory_order_relaxed);
	if (r == 0 && (caps & PT_CAP_BIT(PT_CAP_CHECKPOINT_RESTORE)))
		f |= PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE;
	else
		set_err(errs, PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE, r < 0 ? r : -EPERM);
	if (r == 0 && (caps & PT_CAP_BIT(PT_CAP_SYS_ADMIN)))
		f |= PIDTUPLE_FEATURE_CAP_SYS_ADMIN;
	else
		set_err(errs, PIDTUPLE_FEATURE_CAP_SYS_ADMIN, r < 0 ? r : -EPERM);
	/* Loaded on first ask (the load is kept for the scans): not part of the cheap probe. */
	r = pt_bpf_iter_error();
	if (r == 0)
		f |= PIDTUPLE_FEATURE_BPF_SCAN;
	else
		set_err(errs, PIDTUPLE_FEATURE_BPF_SCAN, r);
	if ((f & PIDTUPLE_FEATURE_NS_LAST_PID) && !pt_can_pin_active()) {
		f &= ~PIDTUPLE_FEATURE_NS_LAST_PID;
		set_err(errs, PIDTUPLE_FEATURE_NS_LAST_PID, -EPERM);
	}
	return f;
}

PT_PUBLIC uint64_t pidtuple_features(void)
{
	int errs[NFEATURES];

	return features_now(errs);
}

PT_PUBLIC int pidtuple_feature_error(uint64_t feature)
{
	int errs[NFEATURES], i = bit_index(feature);

	if (i < 0)
		return -EINVAL;
	return features_now(errs) & feature ? 0 : (errs[i] ? errs[i] : -EIO);
}

static const char *const names[NFEATURES] = {
	"clone3",	 "set_tid",	   "pidfd",	     "into_cgroup",
	"ns_pid_ioctls", "pidfd_get_info", "per_ns_pid_max", "cap_checkpoint_restore",
	"cap_sys_admin", "ns_last_pid",	   "bpf_scan",
};

PT_PUBLIC const char *pidtuple_feature_name(uint64_t feature)
{
	int i = bit_index(feature);

	return i < 0 ? "unknown" : names[i];
}

PT_PUBLIC const char *pidtuple_feature_reason(uint64_t feature)
{
	int err = pidtuple_feature_error(feature);
	bool clone_bit = feature & (PIDTUPLE_FEATURE_CLONE3 | PIDTUPLE_FEATURE_SET_TID |
				    PIDTUPLE_FEATURE_PIDFD | PIDTUPLE_FEATURE_INTO_CGROUP);

	if (err == 0)
		return "present";
	if (err == -EINVAL && bit_index(feature) < 0)
		return "unknown feature";
	switch (-err) {
	case ENOSYS:
		return "ENOSYS: clone3() is missing (kernel before 5.3) or a seccomp filter hides "
		       "it";
	case EPERM:
		if (feature == PIDTUPLE_FEATURE_BPF_SCAN)
			return "EPERM: no CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) in the "
			       "initial "
			       "user namespace, or a filter refuses bpf()";
		return clone_bit ? "EPERM: a seccomp filter refuses clone3()"
				 : "EPERM: the caller lacks the capability";
	case E2BIG:
		return feature == PIDTUPLE_FEATURE_INTO_CGROUP
			       ? "E2BIG: clone3() without CLONE_INTO_CGROUP (kernel before 5.7)"
			       : "E2BIG: clone3() without set_tid (kernel 5.3 or 5.4)";
	case ENOTTY:
		return "ENOTTY: the kernel does not know this ioctl";
	case EOPNOTSUPP:
		return "EOPNOTSUPP: built without the BPF scan, or libbpf.so.1 is not installed";
	case ESRCH:
		return "ESRCH: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF)";
	case EROFS:
		return "EROFS: /proc/sys is mounted read-only";
	case EACCES:
		return "EACCES: access denied (mode, LSM or mount)";
	case ENOENT:
		return "ENOENT: not present (kernel configuration, or /proc not mounted)";
	default:
		return "unknown: the probe met an unexpected errno (see pidtuple_feature_error())";
	}
}
