/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restoring a tree: the caller's loaded objects (its program, its libraries) that held
 * processes need not copy.
 *
 * A fork copies every mapping of its parent: a program with many libraries (an interpreter
 * and its modules) makes every fork of a restore dearer. A held process (RS_PF_HELD) and all
 * it forks run only the library's code (restore_child.c), the libc functions it calls and
 * the dynamic linker's, and read only their data, the stack and the shared memory. So it
 * marks the mappings of every other object MADV_DONTFORK before its forks: its children do
 * not have them at all. The caller and the tree's first process keep everything.
 *
 * An object is kept when it holds the library's code, a libc function or datum the tree uses
 * (as the library reaches it: an interposer's, a program's copy of environ), the stack, errno,
 * or the environment; the dynamic linker (AT_BASE: it may be started by name, then the
 * program's PT_INTERP says nothing) and the vDSO (AT_SYSINFO_EHDR) are kept. Nothing is left
 * out when the functions are not all in one object (an interposer, with dependencies of its
 * own), when a sanitizer's runtime is in the process (instrumented code calls it), when an
 * auditing module is (LD_AUDIT), when the dynamic linker is not found, or when the library's
 * calls are bound lazily (the dynamic linker would read the symbol tables of every object).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore_int.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_HWADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
	__has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

extern char **environ;

/* Whether the object holding @code binds its calls at load: DT_BIND_NOW, DF_BIND_NOW or
 * DF_1_NOW, or no dynamic section at all (a static program). */
struct bound_at_load {
	uintptr_t code;
	int found, now;
};

static bool holds(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && addr >= start && addr - start < ph->p_memsz)
			return true;
	}
	return false;
}

static int object_bound(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct bound_at_load *b = arg;
	const ElfW(Dyn) *dyn = NULL;

	(void)size;
	if (!holds(info, b->code))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	b->found = 1;
	b->now = !dyn;
	for (; dyn && dyn->d_tag != DT_NULL; dyn++)
		if (dyn->d_tag == DT_BIND_NOW ||
		    (dyn->d_tag == DT_FLAGS && (dyn->d_un.d_val & DF_BIND_NOW)) ||
		    (dyn->d_tag == DT_FLAGS_1 && (dyn->d_un.d_val & DF_1_NOW)))
			b->now = 1;
	return 1;
}

bool pt_restore_bound_at_load(const void *code)
{
	struct bound_at_load b = { (uintptr_t)code, 0, 0 };
	const char *env = getenv("LD_BIND_NOW");

	if (env && *env)
		return true;
	dl_iterate_phdr(object_bound, &b);
	return b.found && b.now;
}

/*
 * The libc functions the processes of the tree call, as the library reaches them (through its
 * GOT: an interposer's where there is one): every one restore_child.c's object references
 * (`nm -u`; the ctest restore-objects-list holds this list to it), the syscall() of the shim's
 * pt_raw_ wrappers, and those a compiler may call for it.
 */
#define CHILD_LIBC_MAX 32

static size_t child_libc(uintptr_t *fn)
{
	const uintptr_t all[] = {
		(uintptr_t)__errno_location,
		(uintptr_t)_exit,
		(uintptr_t)close,
		(uintptr_t)close_range,
		(uintptr_t)dup2,
		(uintptr_t)dup3,
		(uintptr_t)execve,
		(uintptr_t)fcntl,
		(uintptr_t)fstat,
		(uintptr_t)getppid,
		(uintptr_t)getrlimit,
		(uintptr_t)madvise,
		(uintptr_t)mmap,
		(uintptr_t)mprotect,
		(uintptr_t)munmap,
		(uintptr_t)poll,
		(uintptr_t)prctl,
		(uintptr_t)recvmsg,
		(uintptr_t)send,
		(uintptr_t)sendmsg,
		(uintptr_t)setpgid,
		(uintptr_t)setsid,
		(uintptr_t)sigaction,
		(uintptr_t)sigfillset,
		(uintptr_t)sigprocmask,
		(uintptr_t)socketpair,
		(uintptr_t)waitpid,
		(uintptr_t)syscall,
		(uintptr_t)memcpy,
		(uintptr_t)memset,
	};

	_Static_assert(sizeof(all) / sizeof(all[0]) <= CHILD_LIBC_MAX, "CHILD_LIBC_MAX");
	memcpy(fn, all, sizeof(all));
	return sizeof(all) / sizeof(all[0]);
}

/* The walk over the loaded objects. */
struct objects {
	const uintptr_t *fn; /* the libc functions the tree calls */
	size_t nfn;
	const uintptr_t *keep; /* what else the tree reads or runs: an object holding one stays */
	size_t nkeep;
	uintptr_t ld_base; /* the dynamic linker's ELF header (AT_BASE); 0 in a static program */
	bool ld_found;
	struct rs_range *drop;
	unsigned int ndrop;
	int fn_objects; /* objects holding one of the functions */
};

/* Whether @info is an object to keep: one holding what the tree runs or reads, the dynamic
 * linker or the vDSO (o->keep). Counts the objects holding a function, and whether one holds
 * the dynamic linker. */
static bool object_kept(const struct dl_phdr_info *info, struct objects *o)
{
	bool kept = false;

	for (size_t i = 0; i < o->nfn; i++)
		if (holds(info, o->fn[i])) {
			o->fn_objects++;
			kept = true;
			break;
		}
	if (o->ld_base && holds(info, o->ld_base)) {
		o->ld_found = true;
		kept = true;
	}
	for (size_t i = 0; !kept && i < o->nkeep; i++)
		kept = holds(info, o->keep[i]);
	/* A HOLD node handed over without envp executes with it. */
	for (char **e = environ; !kept && e && *e; e++)
		kept = holds(info, (uintptr_t)*e);
	return kept;
}

static int object_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct objects *o = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0, page = (uintptr_t)sysconf(_SC_PAGESIZE);

	(void)size;
	if (object_kept(info, o) || o->ndrop == RS_DROP_MAX)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		lo = start < lo ? start : lo;
		hi = start + ph->p_memsz > hi ? start + ph->p_memsz : hi;
	}
	if (lo < hi)
		o->drop[o->ndrop++] =
			(struct rs_range){ lo & ~(page - 1), (hi + page - 1) & ~(page - 1) };
	return 0;
}

#if !SANITIZED
/* Present when a sanitizer's runtime is in the process: weak, so NULL when it is not. */
extern void __asan_init(void) __attribute__((weak));
extern void __hwasan_init(void) __attribute__((weak));
extern void __tsan_init(void) __attribute__((weak));
extern void __msan_init(void) __attribute__((weak));
extern void __ubsan_handle_builtin_unreachable(void) __attribute__((weak));
#endif

/* Whether a sanitizer's runtime is in the process (the library's code may call it), or an
 * auditing module (it may have calls bound lazily). */
static bool instrumented(void)
{
#if SANITIZED
	return true;
#else
	const char *audit = getenv("LD_AUDIT");

	return (audit && *audit) || __asan_init || __hwasan_init || __tsan_init || __msan_init ||
	       __ubsan_handle_builtin_unreachable;
#endif
}

void pt_restore_objects(struct rs_run *run, const void *code)
{
	uintptr_t fn[CHILD_LIBC_MAX], keep[6];
	size_t nkeep = 0;
	int on_stack = 0;
	struct objects o = { .fn = fn, .drop = run->drop, .keep = keep };

	run->ndrop = 0;
	if (instrumented())
		return;
	o.nfn = child_libc(fn);
	o.ld_base = (uintptr_t)getauxval(AT_BASE);
	keep[nkeep++] = (uintptr_t)getauxval(AT_SYSINFO_EHDR); /* the vDSO */
	keep[nkeep++] = (uintptr_t)code;
	keep[nkeep++] = (uintptr_t)&on_stack;
	keep[nkeep++] = (uintptr_t)&errno;
	keep[nkeep++] = (uintptr_t)&environ;
	keep[nkeep++] = (uintptr_t)environ;
	o.nkeep = nkeep;
	dl_iterate_phdr(object_visit, &o);
	/* An interposer's functions call into what it depends on, which is not known here; and
	 * a dynamic linker not found is not known to be kept. */
	if (o.fn_objects == 1 && (!o.ld_base || o.ld_found))
		run->ndrop = o.ndrop;
}
