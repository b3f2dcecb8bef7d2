/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restoring a tree: the restorer's heap, which held processes need not copy.
 *
 * Every process of a tree is a fork of a fork of the restorer, and a fork copies the page table
 * entries of the private memory present in its parent and links every anonymous mapping into
 * its parent's reverse-mapping tree: the dearer the more of the caller's heap there is (its
 * tree description alone, at 10,000 nodes, is megabytes). A held process (RS_PF_HELD) and all
 * it forks read nothing on the heap: the plan, the names and the threads are in the shared
 * memory, the rest on the stack or in the libraries' data. So it marks the heap
 * MADV_WIPEONFORK (Linux 4.14+) before its forks, and its children start with an empty one.
 *
 * The heap here is the brk area ([heap]), where glibc's main arena keeps small blocks; not
 * mmap()ed blocks, which /proc/self/maps cannot tell from a runtime's own mappings. It is left
 * alone when it holds what a held process does read: its stack, its thread's TLS (a static
 * program's is there), the environment its hand-over executes with. The restorer looks here
 * only when the code the tree runs binds its libc calls at load (pt_restore_bound_at_load()):
 * otherwise (the static library in a program linked without -z now) the dynamic linker's
 * lookup of a first call reads its search list, which a dlopen() with RTLD_GLOBAL puts on the
 * heap.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "restore_int.h"
#include "syscall_shim.h"

extern char **environ;

/* Whether @line (without its newline) is a [heap] mapping: its path field is exactly that. */
static bool heap_line(const char *line, uintptr_t *a, uintptr_t *b)
{
	int path = -1;

	if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %*s %*s %*s %n", a, b, &path) != 2 ||
	    path < 0)
		return false;
	return strcmp(line + path, "[heap]") == 0;
}

/* The [heap] lines of /proc/self/maps, first to last (a forked process's heap grows in
 * mappings of its own); false when there are none or they cannot be read. */
static bool find_heap(uintptr_t *lo, uintptr_t *hi)
{
	char buf[4096];
	size_t len = 0;
	bool found = false, skip = false;
	int fd = pt_open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	while (fd >= 0) {
		ssize_t n = pt_read(fd, buf + len, sizeof(buf) - 1 - len);
		char *line = buf, *nl;
		uintptr_t a, b;

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		for (; (nl = strchr(line, '\n')); line = nl + 1, skip = false) {
			*nl = '\0';
			if (skip || !heap_line(line, &a, &b))
				continue;
			*lo = found ? *lo : a;
			*hi = b;
			found = true;
		}
		/* Keep the unfinished line; one longer than the buffer (a long path) is no
		 * [heap]: what is left of it up to its newline is skipped. */
		len = (size_t)(buf + len - line);
		memmove(buf, line, len);
		if (len == sizeof(buf) - 1) {
			len = 0;
			skip = true;
		}
	}
	pt_close(fd);
	return found && *hi > *lo;
}

static bool inside(const void *p, uintptr_t lo, uintptr_t hi)
{
	return (uintptr_t)p >= lo && (uintptr_t)p < hi;
}

/* Whether the environment (the array or a string of it) lives in [lo, hi): setenv() puts it
 * on the heap. A HOLD node handed over without envp executes with it. (Another thread's
 * setenv() between here and the first fork would move it: POSIX leaves that to the caller.) */
static bool environ_inside(uintptr_t lo, uintptr_t hi)
{
	if (!environ)
		return false;
	if (inside(environ, lo, hi))
		return true;
	for (char **e = environ; *e; e++)
		if (inside(*e, lo, hi))
			return true;
	return false;
}

void pt_restore_heap(struct rs_run *run)
{
	uintptr_t lo, hi;
	int on_stack;

	run->heap = NULL;
	run->heap_len = 0;
#ifdef MADV_WIPEONFORK
	if (!find_heap(&lo, &hi) || inside(&on_stack, lo, hi) || inside(&errno, lo, hi) ||
	    environ_inside(lo, hi))
		return;
	run->heap = (void *)lo;
	run->heap_len = hi - lo;
#else
	(void)lo;
	(void)hi;
	(void)on_stack;
#endif
}
