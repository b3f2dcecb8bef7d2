/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The few instructions pidtuple_thread_create() cannot write in C: clone3() with CLONE_VM and
 * a new stack returns twice into the same code, and the new thread must not touch the
 * caller's stack frame, which the caller goes on using. So the system call, the start of fn
 * on the new stack and the thread's exit are one piece of assembly per architecture:
 *
 *   long pt_thread_arch_clone3(struct pt_clone_args *args, size_t size,
 *                              int (*fn)(void *), void *arg);
 *
 * The caller's path returns clone3's result. The new thread starts with the caller's
 * registers but its own stack pointer (the kernel sets it to args->stack + args->stack_size,
 * already aligned by thread.c), clears the frame pointer and the return address so a
 * backtrace ends there, calls fn(arg) and passes its return value to the exit system call:
 * that thread alone ends, never the process (exit_group). fn and arg travel in registers the
 * system call preserves. Nothing here uses memory, the C library or thread-local storage.
 */
#include <errno.h>
#include <sys/syscall.h>

#include "thread_arch.h"

#ifndef __NR_clone3
#define __NR_clone3 435 /* the same on every architecture */
#endif

#if defined(__x86_64__)

/* The numbers are written out below, where a macro would split the assembly text. */
_Static_assert(__NR_clone3 == 435 && __NR_exit == 60, "x86-64 system call numbers");

/* In: rdi args, rsi size, rdx fn, rcx arg. The syscall clobbers rcx and r11 only: fn and arg
 * ride in r8 and r9, which the new thread inherits. endbr64 is a no-op without CET. */
__asm__(".pushsection .text\n\t"
	".globl pt_thread_arch_clone3\n\t"
	".hidden pt_thread_arch_clone3\n\t"
	".type pt_thread_arch_clone3, @function\n\t"
	".p2align 4\n"
	"pt_thread_arch_clone3:\n\t"
	".cfi_startproc\n\t"
	"endbr64\n\t"
	"movq %rdx, %r8\n\t"
	"movq %rcx, %r9\n\t"
	"movl $435, %eax\n\t" /* clone3 */
	"syscall\n\t"
	"testq %rax, %rax\n\t"
	"jz 1f\n\t"
	"ret\n" /* the caller: the TID or -errno */
	"1:\n\t"
	".cfi_undefined %rip\n\t"
	"xorl %ebp, %ebp\n\t"
	"andq $-16, %rsp\n\t"
	"movq %r9, %rdi\n\t"
	"callq *%r8\n\t"
	"movl %eax, %edi\n\t"
	"movl $60, %eax\n\t" /* exit, this thread only */
	"syscall\n\t"
	"ud2\n\t"
	".cfi_endproc\n\t"
	".size pt_thread_arch_clone3, . - pt_thread_arch_clone3\n\t"
	".popsection");

/* ppoll(NULL, 0, NULL, NULL) (271) until the process ends: no stack, no memory, no errno. */
__asm__(".pushsection .text\n\t"
	".globl pt_thread_arch_park\n\t"
	".hidden pt_thread_arch_park\n\t"
	".type pt_thread_arch_park, @function\n\t"
	".p2align 4\n"
	"pt_thread_arch_park:\n\t"
	".cfi_startproc\n\t"
	"endbr64\n"
	"1:\n\t"
	"xorl %edi, %edi\n\t"
	"xorl %esi, %esi\n\t"
	"xorl %edx, %edx\n\t"
	"xorl %r10d, %r10d\n\t"
	"movl $271, %eax\n\t"
	"syscall\n\t"
	"jmp 1b\n\t"
	".cfi_endproc\n\t"
	".size pt_thread_arch_park, . - pt_thread_arch_park\n\t"
	".popsection");

#elif defined(__aarch64__)

_Static_assert(__NR_clone3 == 435 && __NR_exit == 93, "aarch64 system call numbers");

/* In: x0 args, x1 size, x2 fn, x3 arg. A system call preserves every register but x0: fn and
 * arg ride in x9 and x10, which the new thread inherits. hint #34 is `bti c` (a no-op on
 * cores without BTI). */
__asm__(".pushsection .text\n\t"
	".globl pt_thread_arch_clone3\n\t"
	".hidden pt_thread_arch_clone3\n\t"
	".type pt_thread_arch_clone3, %function\n\t"
	".p2align 2\n"
	"pt_thread_arch_clone3:\n\t"
	".cfi_startproc\n\t"
	"hint #34\n\t"
	"mov x9, x2\n\t"
	"mov x10, x3\n\t"
	"mov x8, #435\n\t" /* clone3 */
	"svc #0\n\t"
	"cbz x0, 1f\n\t"
	"ret\n" /* the caller: the TID or -errno */
	"1:\n\t"
	".cfi_undefined x30\n\t"
	"mov x29, #0\n\t"
	"mov x30, #0\n\t"
	"mov x0, x10\n\t"
	"blr x9\n\t"
	"mov x8, #93\n\t" /* exit, this thread only */
	"svc #0\n\t"
	"brk #0x3e8\n\t"
	".cfi_endproc\n\t"
	".size pt_thread_arch_clone3, . - pt_thread_arch_clone3\n\t"
	".popsection");

/* ppoll(NULL, 0, NULL, NULL) (73) until the process ends: no stack, no memory, no errno. */
__asm__(".pushsection .text\n\t"
	".globl pt_thread_arch_park\n\t"
	".hidden pt_thread_arch_park\n\t"
	".type pt_thread_arch_park, %function\n\t"
	".p2align 2\n"
	"pt_thread_arch_park:\n\t"
	".cfi_startproc\n\t"
	"hint #34\n"
	"1:\n\t"
	"mov x0, #0\n\t"
	"mov x1, #0\n\t"
	"mov x2, #0\n\t"
	"mov x3, #0\n\t"
	"mov x4, #0\n\t"
	"mov x8, #73\n\t"
	"svc #0\n\t"
	"b 1b\n\t"
	".cfi_endproc\n\t"
	".size pt_thread_arch_park, . - pt_thread_arch_park\n\t"
	".popsection");

#else

long pt_thread_arch_clone3(struct pt_clone_args *args, size_t size, int (*fn)(void *), void *arg)
{
	(void)args;
	(void)size;
	(void)fn;
	(void)arg;
	return -EOPNOTSUPP; /* PT_THREAD_ARCH is 0: no clone3 is made */
}

int pt_thread_arch_park(void *arg)
{
	(void)arg;
	return 0; /* never started: pt_thread_arch_clone3() makes no thread here */
}

#endif
