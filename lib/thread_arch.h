/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-architecture part of pidtuple_thread_create() (thread_arch.c): the clone3() call
 * whose child starts on a new stack, and the clone flags of a thread. Like the syscall shim,
 * it knows raw kernel ABI and stands on nothing but the kernel.
 */
#ifndef PIDTUPLE_THREAD_ARCH_H
#define PIDTUPLE_THREAD_ARCH_H

#include <stddef.h>

#include "syscall_shim.h"

/* The kernel's values (include/uapi/linux/sched.h). */
#define PT_CLONE_VM 0x00000100ull
#define PT_CLONE_FS 0x00000200ull
#define PT_CLONE_FILES 0x00000400ull
#define PT_CLONE_SIGHAND 0x00000800ull
#define PT_CLONE_THREAD 0x00010000ull
#define PT_CLONE_SYSVSEM 0x00040000ull
#define PT_CLONE_SETTLS 0x00080000ull
#define PT_CLONE_PARENT_SETTID 0x00100000ull
#define PT_CLONE_CHILD_CLEARTID 0x00200000ull

/* What every thread shares with its process, as pthread_create() asks for it. */
#define PT_CLONE_THREAD_FLAGS                                                              \
	(PT_CLONE_VM | PT_CLONE_FS | PT_CLONE_FILES | PT_CLONE_SIGHAND | PT_CLONE_THREAD | \
	 PT_CLONE_SYSVSEM)

/* The architectures thread_arch.c implements; elsewhere it answers -EOPNOTSUPP. */
#if defined(__x86_64__) || defined(__aarch64__)
#define PT_THREAD_ARCH 1
#else
#define PT_THREAD_ARCH 0
#endif

/* The stack top the kernel hands the new thread is aligned down to this. */
#define PT_THREAD_STACK_ALIGN 16

/*
 * clone3(@args, @size) where @args asks for a new stack: in the caller, returns the new
 * thread's id or -errno; the new thread runs @fn(@arg) on its stack and ends with the exit
 * system call (the thread alone, never exit_group) and fn's return value. Never injected.
 */
long pt_thread_arch_clone3(struct pt_clone_args *args, size_t size, int (*fn)(void *), void *arg);

/*
 * A thread's function that never returns: it sleeps in ppoll() until its process executes a
 * program or dies, touching no memory (not even errno: such a thread shares the caller's TLS).
 * A thread of a restored HOLD node runs it, holding its TIDs. Its stack needs a return address.
 */
int pt_thread_arch_park(void *arg);

/* The stack a parked thread needs: the return address of its call, with room to spare. */
#define PT_THREAD_PARK_STACK 256

#endif
