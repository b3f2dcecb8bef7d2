/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "syscall_shim.h"

#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif

#define PT_NSIO 0xb7
#define PT_NS_GET_USERNS _IO(PT_NSIO, 0x1)
#define PT_NS_GET_PARENT _IO(PT_NSIO, 0x2)
#define PT_NS_GET_OWNER_UID _IO(PT_NSIO, 0x4)
#define PT_NS_GET_PID_FROM_PIDNS _IOR(PT_NSIO, 0x6, int)

#define PT_PIDFS_IOCTL_MAGIC 0xFF
struct pt_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t ids[11];
	int32_t exit_code;
};
#define PT_PIDFD_GET_INFO _IOWR(PT_PIDFS_IOCTL_MAGIC, 11, struct pt_pidfd_info)

#define PT_LINUX_CAPABILITY_VERSION_3 0x20080522

/* syscall() reports through errno; turn it into the one error channel. */
static long ret_or_errno(long ret)
{
	return ret < 0 ? -errno : ret;
}

long pt_sys_clone3(struct pt_clone_args *args, size_t size)
{
	int saved = errno;
	long ret = syscall(__NR_clone3, args, size);

	if (ret < 0) {
		ret = -errno;
		errno = saved;
	}
	return ret;
}

long pt_sys_clone(uint64_t flags, int *pidfd)
{
	int saved = errno;
	long ret;

	if (pidfd)
		flags |= PT_CLONE_PIDFD;
	/* parent_tid is the third argument on x86_64, arm64 and riscv; tls and child_tid are
	 * 0, so their order (which differs) does not matter. */
	ret = syscall(SYS_clone, (unsigned long)flags, 0UL, pidfd, 0UL, 0UL);
	if (ret < 0) {
		ret = -errno;
		errno = saved;
	}
	return ret;
}

int pt_sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)ret_or_errno(syscall(__NR_pidfd_open, pid, flags));
}

int pt_sys_cap_effective(uint64_t *ret_mask)
{
	struct {
		uint32_t version;
		int pid;
	} hdr = { PT_LINUX_CAPABILITY_VERSION_3, 0 };
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
	long ret = ret_or_errno(syscall(SYS_capget, &hdr, data));

	if (ret < 0)
		return (int)ret;
	*ret_mask = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	return 0;
}

int pt_sys_kill(pid_t pid, int sig)
{
	return (int)ret_or_errno(syscall(SYS_kill, pid, sig));
}

pid_t pt_sys_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

int pt_ns_get_parent(int nsfd)
{
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_PARENT));
}

int pt_ns_get_userns(int nsfd)
{
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_USERNS));
}

int pt_ns_get_owner_uid(int usernsfd, uid_t *ret_uid)
{
	return (int)ret_or_errno(ioctl(usernsfd, PT_NS_GET_OWNER_UID, ret_uid));
}

int pt_ns_pid_from_pidns(int nsfd, pid_t nr)
{
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_PID_FROM_PIDNS, (unsigned long)nr));
}

int pt_pidfd_info_mask(int pidfd, uint64_t request, uint64_t *ret_mask)
{
	struct pt_pidfd_info info = { .mask = request };
	long ret = ret_or_errno(ioctl(pidfd, PT_PIDFD_GET_INFO, &info));

	if (ret < 0)
		return (int)ret;
	*ret_mask = info.mask;
	return 0;
}
