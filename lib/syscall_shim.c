/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "syscall_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef PIDTUPLE_WITH_URING
#include <liburing.h>
#endif

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
#define PT_NS_GET_ID _IOR(PT_NSIO, 0xd, uint64_t)

#define PT_PIDFS_IOCTL_MAGIC 0xFF
struct pt_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t ids[11];
	int32_t exit_code;
};
#define PT_PIDFD_GET_INFO _IOWR(PT_PIDFS_IOCTL_MAGIC, 11, struct pt_pidfd_info)

#define PT_LINUX_CAPABILITY_VERSION_3 0x20080522

#ifdef PIDTUPLE_FAULT_INJECTION
static _Atomic unsigned long fault_countdown;
static _Atomic int fault_err;
static _Atomic bool fault_fired;

void pidtuple__fault_arm(unsigned long nth, int err)
{
	atomic_store(&fault_fired, false);
	atomic_store(&fault_err, err);
	atomic_store(&fault_countdown, nth);
}

bool pidtuple__fault_fired(void)
{
	return atomic_load(&fault_fired);
}

/* 0, or the -errno this call must fail with. */
static int fault(void)
{
	unsigned long n = atomic_load(&fault_countdown);

	while (n > 0) {
		if (atomic_compare_exchange_weak(&fault_countdown, &n, n - 1)) {
			if (n != 1)
				return 0;
			atomic_store(&fault_fired, true);
			return -atomic_load(&fault_err);
		}
	}
	return 0;
}
#define FAULT(ret_type)                      \
	do {                                 \
		int _e = fault();            \
		if (_e)                      \
			return (ret_type)_e; \
	} while (0)
#else
void pidtuple__fault_arm(unsigned long nth, int err)
{
	(void)nth;
	(void)err;
}

bool pidtuple__fault_fired(void)
{
	return false;
}
#define FAULT(ret_type) \
	do {            \
	} while (0)
#endif

/* syscall() reports through errno; turn it into the one error channel. */
static long ret_or_errno(long ret)
{
	return ret < 0 ? -errno : ret;
}

long pt_sys_clone3(struct pt_clone_args *args, size_t size)
{
	int saved = errno;
	long ret;

	FAULT(long);
	ret = syscall(__NR_clone3, args, size);

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

	FAULT(long);
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
	FAULT(int);
	return (int)ret_or_errno(syscall(__NR_pidfd_open, pid, flags));
}

int pt_get_robust_list(pid_t pid, uintptr_t *ret_head)
{
	void *head = NULL;
	size_t len = 0;
	int r;

	FAULT(int);
	r = (int)ret_or_errno(syscall(SYS_get_robust_list, pid, &head, &len));
	*ret_head = (uintptr_t)head;
	return r;
}

int pt_sys_setns(int fd, int nstype)
{
	FAULT(int);
	return (int)ret_or_errno(syscall(__NR_setns, fd, nstype));
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
	long ret;

	FAULT(int);
	ret = ret_or_errno(syscall(SYS_capget, &hdr, data));

	if (ret < 0)
		return (int)ret;
	*ret_mask = (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
	return 0;
}

int pt_sys_kill(pid_t pid, int sig)
{
	FAULT(int);
	return (int)ret_or_errno(syscall(SYS_kill, pid, sig));
}

pid_t pt_sys_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

int pt_ns_get_parent(int nsfd)
{
	FAULT(int);
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_PARENT));
}

int pt_ns_get_id(int nsfd, uint64_t *ret_id)
{
	FAULT(int);
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_ID, ret_id));
}

int pt_ns_get_userns(int nsfd)
{
	FAULT(int);
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_USERNS));
}

int pt_ns_get_owner_uid(int usernsfd, uid_t *ret_uid)
{
	FAULT(int);
	return (int)ret_or_errno(ioctl(usernsfd, PT_NS_GET_OWNER_UID, ret_uid));
}

int pt_ns_pid_from_pidns(int nsfd, pid_t nr)
{
	FAULT(int);
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_PID_FROM_PIDNS, (unsigned long)nr));
}

int pt_pidfd_info_mask(int pidfd, uint64_t request, uint64_t *ret_mask)
{
	struct pt_pidfd_info info = { .mask = request };
	long ret;

	FAULT(int);
	ret = ret_or_errno(ioctl(pidfd, PT_PIDFD_GET_INFO, &info));

	if (ret < 0)
		return (int)ret;
	*ret_mask = info.mask;
	return 0;
}

/* ---- libc calls ---- */

int pt_open(const char *path, int flags)
{
	FAULT(int);
	return (int)ret_or_errno(open(path, flags | O_CLOEXEC));
}

int pt_openat(int dirfd, const char *path, int flags)
{
	FAULT(int);
	return (int)ret_or_errno(openat(dirfd, path, flags | O_CLOEXEC));
}

ssize_t pt_read(int fd, void *buf, size_t n)
{
	ssize_t r;

	FAULT(ssize_t);
	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

ssize_t pt_pread(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r;

	FAULT(ssize_t);
	do
		r = pread(fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

ssize_t pt_write(int fd, const void *buf, size_t n)
{
	ssize_t r;

	FAULT(ssize_t);
	do
		r = write(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

ssize_t pt_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t r;

	FAULT(ssize_t);
	do
		r = pwrite(fd, buf, n, off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int pt_fstat(int fd, struct stat *st)
{
	FAULT(int);
	return (int)ret_or_errno(fstat(fd, st));
}

int pt_stat(const char *path, struct stat *st)
{
	FAULT(int);
	return (int)ret_or_errno(stat(path, st));
}

int pt_flock(int fd, int op)
{
	int r;

	FAULT(int);
	do
		r = flock(fd, op);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

int pt_pipe2(int fds[2], int flags)
{
	FAULT(int);
	return (int)ret_or_errno(pipe2(fds, flags | O_CLOEXEC));
}

int pt_socketpair(int fds[2])
{
	FAULT(int);
	return (int)ret_or_errno(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
}

int pt_dup(int fd)
{
	FAULT(int);
	return (int)ret_or_errno(fcntl(fd, F_DUPFD_CLOEXEC, 0));
}

int pt_waitpid(pid_t pid, int *status, int options)
{
	int r;

	/* Not injected: a failed reap would leave a zombie by our own hand. */
	do
		r = waitpid(pid, status, options);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

void *pt_malloc(size_t size)
{
#ifdef PIDTUPLE_FAULT_INJECTION
	if (fault())
		return NULL;
#endif
	return malloc(size);
}

int pt_poll_in(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	FAULT(int);
	do
		r = poll(&p, 1, 0);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r > 0 && (p.revents & POLLIN);
}

void pt_close(int fd)
{
	int saved = errno;

	if (fd >= 0)
		close(fd);
	errno = saved;
}

/* ---- reading ids (read.c, scan.c) ---- */

#define PT_NS_GET_NSTYPE _IO(PT_NSIO, 0x3)
#define PT_PIDFD_GET_PID_NAMESPACE _IO(PT_PIDFS_IOCTL_MAGIC, 5)
#define PT_PIDFD_INFO_PID_BIT (1ull << 0)

#ifdef PIDTUPLE_FAULT_INJECTION
static _Atomic bool ns_ioctls_hidden;

void pidtuple__hide_ns_ioctls(bool hide)
{
	atomic_store(&ns_ioctls_hidden, hide);
}
#define HIDDEN_NS_IOCTL()                           \
	do {                                        \
		if (atomic_load(&ns_ioctls_hidden)) \
			return -ENOTTY;             \
	} while (0)
#else
void pidtuple__hide_ns_ioctls(bool hide)
{
	(void)hide;
}
#define HIDDEN_NS_IOCTL() \
	do {              \
	} while (0)
#endif

int pt_ns_xlate(int nsfd, enum pt_ns_xlate op, pid_t nr)
{
	FAULT(int);
	HIDDEN_NS_IOCTL();
	return (int)ret_or_errno(
		ioctl(nsfd, _IOR(PT_NSIO, (unsigned int)op, int), (unsigned long)nr));
}

int pt_ns_get_nstype(int nsfd)
{
	FAULT(int);
	return (int)ret_or_errno(ioctl(nsfd, PT_NS_GET_NSTYPE));
}

int pt_pidfd_get_pidns(int pidfd)
{
	FAULT(int);
	HIDDEN_NS_IOCTL();
	return (int)ret_or_errno(ioctl(pidfd, PT_PIDFD_GET_PID_NAMESPACE, 0));
}

int pt_pidfd_get_ids(int pidfd, struct pt_pidfd_ids *ret)
{
	struct pt_pidfd_info info = { .mask = PT_PIDFD_INFO_PID_BIT };
	long r;

	FAULT(int);
	HIDDEN_NS_IOCTL();
	r = ret_or_errno(ioctl(pidfd, PT_PIDFD_GET_INFO, &info));
	if (r < 0)
		return (int)r;
	if (!(info.mask & PT_PIDFD_INFO_PID_BIT))
		return -EOPNOTSUPP;
	ret->pid = (pid_t)info.ids[0];
	ret->tgid = (pid_t)info.ids[1];
	ret->ppid = (pid_t)info.ids[2];
	return 0;
}

int pt_sys_pidfd_send_signal(int pidfd, int sig)
{
	FAULT(int);
	return (int)ret_or_errno(syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0));
}

pid_t pt_getpgid(pid_t pid)
{
	FAULT(pid_t);
	return (pid_t)ret_or_errno(getpgid(pid));
}

pid_t pt_getsid(pid_t pid)
{
	FAULT(pid_t);
	return (pid_t)ret_or_errno(getsid(pid));
}

ssize_t pt_getdents64(int fd, void *buf, size_t n)
{
	FAULT(ssize_t);
	return (ssize_t)ret_or_errno(syscall(SYS_getdents64, fd, buf, n));
}

int pt_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	FAULT(int);
	return (int)ret_or_errno(fstatat(dirfd, path, st, flags));
}

ssize_t pt_readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	FAULT(ssize_t);
	return (ssize_t)ret_or_errno(readlinkat(dirfd, path, buf, n));
}

int pt_statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *ret)
{
	FAULT(int);
	return (int)ret_or_errno(statx(dirfd, path, flags, mask, ret));
}

void *pt_mmap_wipeonfork(size_t len)
{
	void *p;

#ifdef PIDTUPLE_FAULT_INJECTION
	if (fault())
		return NULL;
#endif
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_WIPEONFORK) < 0) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

#ifdef PIDTUPLE_WITH_URING
int pt_uring_queue_init(unsigned int entries, struct io_uring *ring)
{
	FAULT(int);
	/* liburing returns -errno itself */
	return io_uring_queue_init(entries, ring, 0);
}

int pt_uring_register_files_sparse(struct io_uring *ring, unsigned int n)
{
	FAULT(int);
	return io_uring_register_files_sparse(ring, n);
}

int pt_uring_submit(struct io_uring *ring)
{
	int r;

	FAULT(int);
	do
		r = io_uring_submit(ring);
	while (r == -EINTR);
	return r;
}

int pt_uring_wait(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int r;

	do
		r = io_uring_wait_cqe(ring, &cqe);
	while (r == -EINTR || r == -EAGAIN);
	return r;
}
#endif

/* ---- process trees (tree_plan.c, restore*.c, capture.c) ---- */

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int pt_socketpair_seqpacket(int fds[2])
{
	FAULT(int);
	return (int)ret_or_errno(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds));
}

ssize_t pt_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ssize_t r;

	FAULT(ssize_t);
	do
		r = sendmsg(fd, msg, flags | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

ssize_t pt_recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r;

	FAULT(ssize_t);
	do
		r = recvmsg(fd, msg, flags | MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int pt_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
	int r;

	FAULT(int);
	do
		r = recvmmsg(fd, vec, n, flags | MSG_CMSG_CLOEXEC, NULL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int pt_setsockopt(int fd, int level, int name, const void *val, unsigned int len)
{
	FAULT(int);
	return (int)ret_or_errno(setsockopt(fd, level, name, val, len));
}

int pt_poll(struct pollfd *fds, unsigned int n, int timeout_ms)
{
	int r;

	FAULT(int);
	do
		r = poll(fds, n, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

void *pt_mmap_shared(size_t len)
{
	void *p;

#ifdef PIDTUPLE_FAULT_INJECTION
	if (fault())
		return NULL;
#endif
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void pt_munmap(void *addr, size_t len)
{
	int saved = errno;

	if (addr)
		munmap(addr, len);
	errno = saved;
}

/* BPF_ITER_CREATE: a new iterator from a BPF link; the kernel makes it O_CLOEXEC. */
int pt_bpf_iter_fd(int link_fd)
{
	union {
		struct {
			uint32_t link_fd, flags;
		} iter_create;
		char pad[64];
	} attr;

	FAULT(int);
	memset(&attr, 0, sizeof(attr));
	attr.iter_create.link_fd = (uint32_t)link_fd;
	return (int)ret_or_errno(
		syscall(SYS_bpf, PT_BPF_ITER_CREATE, &attr, sizeof(attr.iter_create)));
}

int pt_memfd(const char *name)
{
	FAULT(int);
	return (int)ret_or_errno(syscall(SYS_memfd_create, name, MFD_CLOEXEC));
}

int pt_waitid_pidfd(int pidfd, int options)
{
	siginfo_t si;
	int r;

	do {
		si.si_pid = 0;
		r = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, options);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return si.si_pid != 0;
}

int pt_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return -pthread_sigmask(how, set, old);
}

int pt_nofile_limit(unsigned long *ret_cur)
{
	struct rlimit rl;

	FAULT(int);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	*ret_cur = rl.rlim_cur == RLIM_INFINITY ? ~0ul : (unsigned long)rl.rlim_cur;
	return 0;
}

int64_t pt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long pt_raw_clone3(struct pt_clone_args *args, size_t size)
{
	long r = syscall(__NR_clone3, args, size);

	return r < 0 ? -errno : r;
}

pid_t pt_raw_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}

int pt_raw_setns(int fd, int nstype)
{
	long r = syscall(__NR_setns, fd, nstype);

	return r < 0 ? -errno : (int)r;
}

int pt_raw_pidfd_open(pid_t pid)
{
	long r = syscall(__NR_pidfd_open, pid, 0);

	return r < 0 ? -errno : (int)r;
}

int pt_raw_futex_wait(uint32_t *addr, uint32_t val, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };
	long r = syscall(SYS_futex, addr, FUTEX_WAIT, val, timeout_ms >= 0 ? &ts : NULL, NULL, 0);

	return r < 0 ? -errno : 0;
}

int pt_raw_futex_wake(uint32_t *addr, int n)
{
	long r = syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0);

	return r < 0 ? -errno : (int)r;
}
