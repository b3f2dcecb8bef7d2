/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a restored tree copies of its caller's heap (lib/restore_heap.c). From 64 processes on,
 * a held process marks the caller's heap MADV_WIPEONFORK before its forks: the tree's first
 * process has the caller's heap, every process below it an empty one. The names, threads and
 * environment the HOLD nodes take must come out right all the same; and the heap stays with
 * them where it holds the environment (after setenv()) or, in a static program, the TLS.
 * Node NAMED is in the session and group of a dead leader, so a held helper forks and leaves
 * too; a dlopen() with RTLD_GLOBAL first puts the dynamic linker's search list on the heap.
 * That library, which the tree never runs, is mapped in the first process only: held
 * processes leave the objects the tree does not use out of their forks too.
 * Built as check_restore_heap_lazy (TEST_LAZY) it links the static library into a program
 * bound lazily: a first libc call there would read that list, so the heap is kept.
 */
#include <check.h>
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

TH_LSAN_EXPLICIT_ONLY

#define NODES 80 /* from 64 on the heap is left out */
#define FANOUT 4
#define NAMED 70 /* a node four levels down, with a name, two threads, a dead leader */
#define BALLAST_MIB 4

extern char **environ;

/* The [heap] mapping of @pid: its resident size and whether it is wiped on fork; false
 * without one. */
static bool heap_of(int pid, long *rss_kib, bool *wipe)
{
	char path[64], line[512];
	bool in = false, found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	*rss_kib = -1;
	*wipe = false;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's line starts "lo-hi perms ...", its fields' "Name: ..." */
		char *sp = strchr(line, ' ');
		bool header = sp && sp > line && sp[-1] != ':';

		if (header) {
			in = strstr(line, " [heap]") != NULL;
			found |= in;
		} else if (in && !strncmp(line, "Rss:", 4)) {
			*rss_kib = atol(line + 4);
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			*wipe = strstr(line, " wf") != NULL;
		}
	}
	fclose(f);
	return found;
}

/* This process's [heap] (its mappings first to last); 0, 0 without one. */
static void own_heap(uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	unsigned long a, b;
	FILE *f = fopen("/proc/self/maps", "re");

	*lo = *hi = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " [heap]") && sscanf(line, "%lx-%lx", &a, &b) == 2) {
			*lo = *lo ? *lo : a;
			*hi = b;
		}
	if (f)
		fclose(f);
}

static bool in(const void *p, uintptr_t lo, uintptr_t hi)
{
	return (uintptr_t)p >= lo && (uintptr_t)p < hi;
}

/* Whether this process's heap holds what a held process reads. */
static bool heap_holds_needed(uintptr_t lo, uintptr_t hi)
{
	int on_stack = 0;

	if (in(&on_stack, lo, hi) || in(&errno, lo, hi) || in(environ, lo, hi))
		return true;
	for (char **e = environ; *e; e++)
		if (in(*e, lo, hi))
			return true;
	return false;
}

/* The caller's own data: @mib MiB of small blocks on the heap, kept. */
static void **ballast(int mib)
{
	size_t n = (size_t)mib * 256;
	void **b = calloc(n + 1, sizeof(*b));

	for (size_t i = 0; b && i < n; i++) {
		b[i] = malloc(4000);
		if (b[i])
			memset(b[i], 0x5a, 4000);
	}
	return b;
}

static void ballast_free(void **b)
{
	for (size_t i = 0; b && b[i]; i++)
		free(b[i]);
	free(b);
}

/* HOLD nodes, FANOUT children each, PIDs from 4000; NAMED has a name and two threads, and its
 * session and group are led by 4500, which is not in the tree. */
static struct pidtuple_tree *heap_tree(int nodes)
{
	struct pidtuple_tree *t = NULL;

	if (pidtuple_tree_new(&t) < 0)
		return NULL;
	for (int i = 0; i < nodes; i++) {
		struct pidtuple *tup = NULL, *thr[2] = { NULL, NULL }, *lead = NULL;
		PIDTUPLE_OPTS(pidtuple_node, nd, .parent = i ? (i - 1) / FANOUT : -1,
			      .kind = PIDTUPLE_NODE_HOLD);
		char text[32];
		int r;

		snprintf(text, sizeof(text), "%d", 4000 + i);
		r = pidtuple_parse(text, &tup, NULL);
		if (i == NAMED) {
			nd.name = "held-deep";
			r = r ?: pidtuple_parse("4900", &thr[0], NULL);
			r = r ?: pidtuple_parse("4901", &thr[1], NULL);
			r = r ?: pidtuple_parse("4500", &lead, NULL);
			nd.threads = (const struct pidtuple *const *)thr;
			nd.nthreads = 2;
			nd.pgid = nd.sid = lead;
		}
		nd.tuple = tup;
		if (r == 0)
			r = pidtuple_tree_add(t, &nd);
		pidtuple_free(tup);
		pidtuple_free(thr[0]);
		pidtuple_free(thr[1]);
		pidtuple_free(lead);
		if (r < 0) {
			pidtuple_tree_free(t);
			return NULL;
		}
	}
	return t;
}

/* Whether /proc/@pid/maps has a mapping of @path. */
static bool maps_have(int pid, const char *path)
{
	char name[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(name, sizeof(name), "/proc/%d/maps", pid);
	f = fopen(name, "re");
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');

		line[strcspn(line, "\n")] = '\0';
		found = p && !strcmp(p, path);
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * The library loaded with RTLD_GLOBAL (@path; NULL: none) runs nowhere in the tree: the
 * first process has it, as after fork(), the processes below it not when @left_out
 * (lib/restore_objects.c).
 */
static int objects_are(const struct pidtuple_restore *rs, int nodes, const char *path,
		       bool left_out)
{
	for (int i = 0; path && i < nodes; i++) {
		int pid = th_proc_pid(pidtuple_restore_pidfd(rs, (unsigned int)i));
		bool want = i == 0 || !left_out;

		TH_CHECK(maps_have(pid, path) == want, "node %d (%d): %s %s", i, pid, path,
			 want ? "missing" : "mapped");
	}
	return 0;
}

/* Every node's heap: the first process's is the caller's, the others' empty when @left_out.
 * @brk: malloc() takes the caller's data from the heap (a sanitizer's does not). */
static int heaps_are(const struct pidtuple_restore *rs, int nodes, bool brk, bool left_out)
{
	for (int i = 0; i < nodes; i++) {
		long rss;
		bool wipe;
		int pid = th_proc_pid(pidtuple_restore_pidfd(rs, (unsigned int)i));

		if (!heap_of(pid, &rss, &wipe)) {
			TH_CHECK(!brk, "node %d (%d): no [heap]", i, pid);
			continue;
		}
		if (i == 0 || !left_out) {
			TH_CHECK(!brk || rss >= BALLAST_MIB * 900,
				 "node %d: the caller's heap, %ld KiB", i, rss);
			TH_CHECK(!wipe || i == 0, "node %d: marked", i);
		} else {
			TH_CHECK(rss == 0 && wipe, "node %d: %ld KiB of heap, %s", i, rss,
				 wipe ? "marked" : "not marked");
		}
	}
	return 0;
}

/* Hands node NAMED a shell that checks the environment it inherited; it must then run. */
static int env_survives(struct pidtuple_restore *rs, const char *name, const char *value)
{
	char script[256];
	char *argv[] = { "sh", "-c", script, "sh", (char *)value, NULL };
	char path[64], comm[32] = "";
	int fd, n;

	snprintf(script, sizeof(script), "test \"$%s\" = \"$1\" && exec sleep 1000", name);
	TH_CHECK(pidtuple_restore_hand_over(rs, NAMED, "/bin/sh", argv, NULL) == 0, "hand-over");
	snprintf(path, sizeof(path), "/proc/%d/comm",
		 th_proc_pid(pidtuple_restore_pidfd(rs, NAMED)));
	for (int tries = 0; tries < 200 && strcmp(comm, "sleep\n"); tries++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : (int)read(fd, comm, sizeof(comm) - 1);
		if (fd >= 0)
			close(fd);
		comm[n > 0 ? n : 0] = '\0';
		if (strcmp(comm, "sleep\n"))
			usleep(10000);
	}
	TH_CHECK(!strcmp(comm, "sleep\n"), "node %d lost $%s: runs %s", NAMED, name, comm);
	return 0;
}

/* Whether the library binds the libc calls of the tree's processes when it is loaded. */
static bool bound_at_load(void)
{
#ifdef TEST_LAZY
	const char *env = getenv("LD_BIND_NOW");

	return env && *env;
#else
	return true; /* the shared library is linked with -z now */
#endif
}

/* Whether held processes leave out the objects the tree does not use: as the heap, but not
 * in a sanitizer's build (the library's code calls its runtime). */
static bool objects_left_out(int nodes)
{
#ifdef TH_HAVE_LSAN
	(void)nodes;
	return false;
#else
	return nodes >= 64 && bound_at_load();
#endif
}

/* The file @lib was loaded from, as /proc/PID/maps names it (links resolved); NULL for none. */
static const char *lib_path(void *lib)
{
	static char path[PATH_MAX];
	struct link_map *lm = NULL;

	if (!lib || dlinfo(lib, RTLD_DI_LINKMAP, &lm) < 0 || !lm || !realpath(lm->l_name, path))
		return NULL;
	return path;
}

/* A library the test does not link, loaded into the global scope. */
static void *dlopen_global(void)
{
	static const char *const names[] = { "libutil.so.1", "libdl.so.2", "libresolv.so.2" };
	void *h = NULL;

	for (size_t i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
	return h;
}

/* @set_env: the environment moves to the heap first (setenv()), which keeps the heap. */
static int restore_body(bool set_env, int nodes)
{
	struct pidtuple_tree *t = heap_tree(nodes);
	struct pidtuple_restore *rs = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	void **b = ballast(BALLAST_MIB), *lib = dlopen_global();
	const char *name = set_env ? "PIDTUPLE_HEAP_TEST" : "PATH";
	uintptr_t lo, hi;
	bool brk, left_out;
	int r;

	TH_CHECK(t && b, "set-up");
	if (!lib) /* a static program (the kernel matrix), or none of them there */
		fprintf(stderr, "no library loaded with RTLD_GLOBAL: %s\n", dlerror());
	if (set_env)
		TH_CHECK(setenv(name, "on the heap", 1) == 0, "setenv");
	TH_CHECK(getenv(name), "no $%s", name);
	own_heap(&lo, &hi);
	brk = in(b[0], lo, hi);
	left_out = nodes >= 64 && hi > lo && !heap_holds_needed(lo, hi) && bound_at_load();
	TH_CHECK(!set_env || !brk || !left_out, "the environment is not on the heap");
	/* The kernel matrix runs a dynamic build too, where it must be left out. */
	TH_CHECK(set_env || nodes < 64 || left_out || !bound_at_load() ||
			 !getenv("PIDTUPLE_TEST_REQUIRE_HEAP_LEFT_OUT"),
		 "the heap would be kept");
	r = pidtuple_tree_restore(t, &o, &rs);
	TH_CHECK(r == 0, "restore: %s: node %d: %s", pidtuple_strerror(r), d.node, d.message);
	TH_CHECK(pidtuple_restore_release(rs) == 0, "release");
	TH_CHECK(heaps_are(rs, nodes, brk, left_out) == 0, "heaps");
	TH_CHECK(objects_are(rs, nodes, lib_path(lib), objects_left_out(nodes)) == 0, "objects");
	if (nodes > NAMED) {
		TH_CHECK(th_tree_same_as_captured(t, rs) == 0, "names and threads");
		TH_CHECK(env_survives(rs, name, getenv(name)) == 0, "environment");
	}
	fprintf(stderr, "%d nodes, environment %s: heap %s%s\n", nodes,
		set_env ? "set" : "as started", left_out ? "left out" : "copied",
		brk ? "" : " (malloc() does not use it)");
	pidtuple_restore_kill(rs);
	pidtuple_restore_free(rs);
	pidtuple_tree_free(t);
	ballast_free(b);
	if (lib)
		dlclose(lib);
	return 0;
}

static int left_out_body(void *arg)
{
	(void)arg;
	return restore_body(false, NODES);
}

START_TEST(test_left_out)
{
	ck_assert_int_eq(th_in_pidns_clean(left_out_body, NULL), 0);
}
END_TEST

static int env_on_heap_body(void *arg)
{
	(void)arg;
	return restore_body(true, NODES);
}

START_TEST(test_env_on_heap)
{
	ck_assert_int_eq(th_in_pidns_clean(env_on_heap_body, NULL), 0);
}
END_TEST

/* Below 64 processes nothing is left out. */
static int small_body(void *arg)
{
	(void)arg;
	return restore_body(false, 20);
}

START_TEST(test_small)
{
	ck_assert_int_eq(th_in_pidns_clean(small_body, NULL), 0);
}
END_TEST

static Suite *heap_suite(void)
{
	Suite *s = suite_create("restore_heap");
	TCase *tc = tcase_create("heap");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_left_out);
	tcase_add_test(tc, test_env_on_heap);
	tcase_add_test(tc, test_small);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	th_require_privilege();
	return th_run_suite(heap_suite());
}
