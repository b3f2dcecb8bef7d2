/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor everything stands on: the only place that knows raw kernel ABI (syscall numbers,
 * uapi layouts, ioctl numbers). Every function returns >= 0 or -errno, never touches errno for
 * its caller, and is a single point where tests can inject faults.
 *
 * libc calls the library makes are routed here too, so that tests can make each one fail. They
 * retry EINTR where that is the only sane answer, add O_CLOEXEC to every open, and return
 * -errno. Code that runs in a freshly cloned child calls libc directly instead (or the pt_raw_*
 * calls below): it must not be injected into, and must stay async-signal-safe.
 */
#ifndef PIDTUPLE_SYSCALL_SHIM_H
#define PIDTUPLE_SYSCALL_SHIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct io_uring;
struct mmsghdr;
struct msghdr;
struct pollfd;

/* ---- kernel constants ---- */

#define PT_CLONE_NEWTIME 0x00000080ull
#define PT_CLONE_PIDFD 0x00001000ull
#define PT_CLONE_VFORK 0x00004000ull
#define PT_CLONE_NEWNS 0x00020000ull
#define PT_CLONE_NEWCGROUP 0x02000000ull
#define PT_CLONE_NEWUTS 0x04000000ull
#define PT_CLONE_NEWIPC 0x08000000ull
#define PT_CLONE_NEWUSER 0x10000000ull
#define PT_CLONE_NEWPID 0x20000000ull
#define PT_CLONE_NEWNET 0x40000000ull
#define PT_CLONE_INTO_CGROUP (1ull << 33)

/* Fixed proc inode numbers of the initial namespaces (include/linux/proc_ns.h). */
#define PT_INIT_USER_NS_INO 0xEFFFFFFDu
#define PT_INIT_PID_NS_INO 0xEFFFFFFCu

#define PT_PID_MAX_LIMIT (4 * 1024 * 1024)
#define PT_CAP_SYS_PTRACE 19
#define PT_CAP_SYS_ADMIN 21
#define PT_CAP_PERFMON 38
#define PT_CAP_BPF 39
#define PT_CAP_CHECKPOINT_RESTORE 40

/* ---- process creation ---- */

/* Our own copy of struct clone_args: installed headers may be older than the kernel. */
struct pt_clone_args {
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

#define PT_CLONE_ARGS_SIZE_VER0 64
#define PT_CLONE_ARGS_SIZE_VER1 80
#define PT_CLONE_ARGS_SIZE_VER2 88

/* clone3(); returns like fork(): child pid, 0 in the child, or -errno. */
long pt_sys_clone3(struct pt_clone_args *args, size_t size);
/* The legacy clone() without a new stack, like fork(); with @pidfd, CLONE_PIDFD writes it.
 * @flags carries the exit signal in its low byte. */
long pt_sys_clone(uint64_t flags, int *pidfd);
/* For code running in a fresh clone3 child: never injected, async-signal-safe, -errno. */
long pt_raw_clone3(struct pt_clone_args *args, size_t size);

/*
 * pt_sys_clone3() for the fork path, inlined into its caller: the syscall instruction itself,
 * so that the child returns through no text but its caller's. A fresh child has no page-table
 * entries for file-backed text, and each page it runs costs it a fault; libc's syscall() would
 * be one more page than a raw clone3 caller touches. Fault-injection builds, and architectures
 * without it here, call pt_sys_clone3().
 */
#if !defined(PIDTUPLE_FAULT_INJECTION) && defined(__x86_64__)
static inline __attribute__((always_inline)) long pt_sys_clone3_inline(struct pt_clone_args *args,
								       size_t size)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(435L), "D"(args), "S"(size)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif !defined(PIDTUPLE_FAULT_INJECTION) && defined(__aarch64__)
static inline __attribute__((always_inline)) long pt_sys_clone3_inline(struct pt_clone_args *args,
								       size_t size)
{
	register long x8 __asm__("x8") = 435;
	register long x0 __asm__("x0") = (long)args;
	register long x1 __asm__("x1") = (long)size;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
	return x0;
}
#else
#define pt_sys_clone3_inline pt_sys_clone3
#endif
pid_t pt_raw_getpid(void);

/* ---- processes: ids, capabilities, reaping ---- */

pid_t pt_sys_getpid(void);
pid_t pt_getpgid(pid_t pid);
pid_t pt_getsid(pid_t pid);
/* Effective capability set of the calling thread, as a 64-bit mask. */
int pt_sys_cap_effective(uint64_t *ret_mask);
/* Not injected: a failed reap would leave a zombie by our own hand. */
int pt_waitpid(pid_t pid, int *status, int options);
int pt_nofile_limit(unsigned long *ret_cur);

/* ---- pidfds ---- */

int pt_sys_pidfd_open(pid_t pid, unsigned int flags);
/* get_robust_list(2) of the task @pid (caller's numbering): its robust futex list head, NULL
 * once it has left its memory on exit (or never registered one). Ptrace read access. */
int pt_get_robust_list(pid_t pid, uintptr_t *ret_head);
/* setns(2): moves the calling thread into @fd's namespace (for CLONE_NEWPID: its children). */
int pt_sys_setns(int fd, int nstype);
/* PIDFD_GET_INFO with the given request mask; writes the returned mask. */
int pt_pidfd_info_mask(int pidfd, uint64_t request, uint64_t *ret_mask);
/* PIDFD_GET_INFO: the task's ids in the caller's active namespace (6.13+). */
struct pt_pidfd_ids {
	pid_t pid, tgid, ppid;
};
int pt_pidfd_get_ids(int pidfd, struct pt_pidfd_ids *ret);
/* PIDFD_GET_PID_NAMESPACE: a new fd of the active PID namespace of the pidfd's task. */
int pt_pidfd_get_pidns(int pidfd);
int pt_sys_pidfd_send_signal(int pidfd, int sig);
/* waitid(P_PIDFD): 1 when a state change was collected, 0 with WNOHANG and none, -errno.
 * Not injected, like pt_waitpid(). */
int pt_waitid_pidfd(int pidfd, int options);
/* For a fresh clone3 child, as pt_raw_clone3(). */
int pt_raw_pidfd_open(pid_t pid);
/* setns() never injected against: the way back from a join must not be left half-taken. */
int pt_raw_setns(int fd, int nstype);

/* ---- namespaces: nsfs ioctls ---- */

/* Return a new fd / a value, or -errno. */
int pt_ns_get_parent(int nsfd);
int pt_ns_get_userns(int nsfd);
int pt_ns_get_owner_uid(int usernsfd, uid_t *ret_uid);
/* NS_GET_ID (6.18+): the namespace's id, never reused while the system runs. */
int pt_ns_get_id(int nsfd, uint64_t *ret_id);
/* NS_GET_NSTYPE: the CLONE_NEW* value of the namespace @nsfd. */
int pt_ns_get_nstype(int nsfd);
/* PID number @nr of the namespace @nsfd, translated into the caller's active namespace. */
int pt_ns_pid_from_pidns(int nsfd, pid_t nr);
/* The four nsfs PID translations (6.11+). FROM: @nr numbers a thread in @nsfd's namespace,
 * the result is its number in the caller's active one; IN: the other way round. */
enum pt_ns_xlate { PT_NS_PID_FROM = 6, PT_NS_TGID_FROM = 7, PT_NS_PID_IN = 8, PT_NS_TGID_IN = 9 };
int pt_ns_xlate(int nsfd, enum pt_ns_xlate op, pid_t nr);

/* ---- files and descriptors ---- */

int pt_open(const char *path, int flags);
int pt_openat(int dirfd, const char *path, int flags);
ssize_t pt_read(int fd, void *buf, size_t n);
ssize_t pt_pread(int fd, void *buf, size_t n, off_t off);
ssize_t pt_write(int fd, const void *buf, size_t n);
ssize_t pt_pwrite(int fd, const void *buf, size_t n, off_t off);
int pt_fstat(int fd, struct stat *st);
int pt_stat(const char *path, struct stat *st);
int pt_fstatat(int dirfd, const char *path, struct stat *st, int flags);
/* statx(); the mount id (STATX_MNT_ID_UNIQUE, 6.8+) keys caches of what a /proc mount shows. */
int pt_statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *ret);
ssize_t pt_readlinkat(int dirfd, const char *path, char *buf, size_t n);
ssize_t pt_getdents64(int fd, void *buf, size_t n);
int pt_flock(int fd, int op);
int pt_dup(int fd);
void pt_close(int fd);
int pt_memfd(const char *name);
/* bpf(BPF_ITER_CREATE) on a BPF link: the iterator's fd (O_CLOEXEC). */
#define PT_BPF_ITER_CREATE 33
int pt_bpf_iter_fd(int link_fd);

/* Inode number of @fd (a namespace's id), 0 when it cannot be read. */
static inline uint64_t pt_fd_ino(int fd)
{
	struct stat st;

	return pt_fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* ---- pipes, sockets, polling ---- */

int pt_pipe2(int fds[2], int flags);
int pt_socketpair(int fds[2]);
int pt_socketpair_seqpacket(int fds[2]);
/* sendmsg() with MSG_NOSIGNAL; recvmsg() with MSG_CMSG_CLOEXEC. EINTR is retried. */
ssize_t pt_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t pt_recvmsg(int fd, struct msghdr *msg, int flags);
/* recvmmsg() with MSG_CMSG_CLOEXEC and no timeout of its own (SO_RCVTIMEO applies); EINTR is
 * retried. */
int pt_recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags);
int pt_setsockopt(int fd, int level, int name, const void *val, unsigned int len);
/* 1 when @fd is readable now (a pidfd: the process has exited), 0 when not, -errno. */
int pt_poll_in(int fd);
int pt_poll(struct pollfd *fds, unsigned int n, int timeout_ms);

/* ---- signals ---- */

int pt_sys_kill(pid_t pid, int sig);
int pt_sigmask(int how, const sigset_t *set, sigset_t *old);

/* ---- memory ---- */

void *pt_malloc(size_t size);
/* Shared anonymous memory, inherited by every child; NULL on failure. */
void *pt_mmap_shared(size_t len);
void pt_munmap(void *addr, size_t len);
/* A private page the kernel zeroes in a forked child (MADV_WIPEONFORK, 4.14+): for caches that
 * are valid only in the process that filled them. NULL when it cannot be had. */
void *pt_mmap_wipeonfork(size_t len);

/* ---- futexes and time ---- */

/* Waits while *@addr == @val (a shared, not private, futex); -ETIMEDOUT after @timeout_ms.
 * Never injected, async-signal-safe: for fresh clone3 children too. */
int pt_raw_futex_wait(uint32_t *addr, uint32_t val, int timeout_ms);
int pt_raw_futex_wake(uint32_t *addr, int n);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t pt_now_ns(void);

/* ---- io_uring, for the batched scan (scan_uring.c; liburing builds only) ---- */

int pt_uring_queue_init(unsigned int entries, struct io_uring *ring);
int pt_uring_register_files_sparse(struct io_uring *ring, unsigned int n);
/* Submits what is queued: the count, or -errno when nothing was. */
int pt_uring_submit(struct io_uring *ring);
/* Waits for a completion. Not injected: a failed wait would leave reads in flight into
 * memory about to be freed. */
int pt_uring_wait(struct io_uring *ring);

/* ---- fault injection (builds with PIDTUPLE_FAULT_INJECTION; no-ops elsewhere) ---- */

/* The @nth injectable call from now on fails with -@err (one shot); 0 disarms. Thread-safe. */
void pidtuple__fault_arm(unsigned long nth, int err);
/* Whether the armed fault has fired since the last arm. */
bool pidtuple__fault_fired(void);
/* While @hide is set, the PID translation, PIDFD_GET_INFO and PIDFD_GET_PID_NAMESPACE wrappers
 * fail with -ENOTTY as on a kernel before 6.11. */
void pidtuple__hide_ns_ioctls(bool hide);

#endif
