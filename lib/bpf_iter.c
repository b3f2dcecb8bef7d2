/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BPF task iterator of the scan (bpf/scan.bpf.c, embedded at build time), loaded through
 * libbpf.so.1 opened at run time: the only file that knows libbpf. The library links libc
 * alone; where libbpf is not installed, or the object was not built, the scan reads /proc.
 *
 * Loaded once per process and kept: the object and its link live until exit, their fds are
 * O_CLOEXEC (the kernel creates every BPF fd so) and never leave this file; each scan gets an
 * iterator fd of its own from the link.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>

#include "caps.h"
#include "scan_bpf.h"
#include "syscall_shim.h"

#ifdef PIDTUPLE_WITH_BPF
#include <dlfcn.h>
#include <sys/stat.h>

extern const unsigned char pt_scan_bpf_obj[];
extern const size_t pt_scan_bpf_obj_len;

typedef int (*pt_bpf_print_fn)(int level, const char *fmt, va_list ap);

/* The libbpf calls used, by the names it exports (libbpf 0.0.9 and later have them all);
 * iterators themselves are made with bpf(BPF_ITER_CREATE) (syscall_shim.c). */
struct pt_libbpf {
	void *(*open_mem)(const void *buf, size_t n, const void *opts);
	int (*load)(void *obj);
	void *(*find_prog)(const void *obj, const char *name);
	void *(*attach_iter)(const void *prog, const void *opts);
	int (*link_fd)(const void *link);
	pt_bpf_print_fn (*set_print)(pt_bpf_print_fn fn);
	void (*close)(void *obj);
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int link_fd = -1;
/* Kept, and reachable (leak checkers), for the process's lifetime; volatile: never read. */
static void *volatile bpf_obj, *volatile bpf_link;
static int load_err; /* 0: not tried, or tried and transient */

static int quiet(int level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static int resolve(void *h, struct pt_libbpf *b)
{
	*(void **)&b->open_mem = dlsym(h, "bpf_object__open_mem");
	*(void **)&b->load = dlsym(h, "bpf_object__load");
	*(void **)&b->find_prog = dlsym(h, "bpf_object__find_program_by_name");
	*(void **)&b->attach_iter = dlsym(h, "bpf_program__attach_iter");
	*(void **)&b->link_fd = dlsym(h, "bpf_link__fd");
	*(void **)&b->set_print = dlsym(h, "libbpf_set_print");
	*(void **)&b->close = dlsym(h, "bpf_object__close");
	return b->open_mem && b->load && b->find_prog && b->attach_iter && b->link_fd &&
			       b->set_print && b->close
		       ? 0
		       : -EOPNOTSUPP;
}

/* libbpf 1.x: NULL with errno, or a negative errno. */
static int err_of(int r)
{
	return r < 0 ? r : errno > 0 ? -errno : -EIO;
}

/* Opens, loads and attaches the object: the link's fd, or -errno. Kept when it works. */
static int load_link(const struct pt_libbpf *b)
{
	void *obj, *prog, *link = NULL;
	int r;

	obj = b->open_mem(pt_scan_bpf_obj, pt_scan_bpf_obj_len, NULL);
	if (!obj)
		return err_of(0);
	r = b->load(obj);
	prog = r < 0 ? NULL : b->find_prog(obj, "pt_scan");
	if (prog)
		link = b->attach_iter(prog, NULL);
	if (!link) {
		r = err_of(r);
		b->close(obj); /* frees the programs too */
		return r;
	}
	bpf_obj = obj;
	bpf_link = link;
	return b->link_fd(link);
}

static bool transient(int err)
{
	return err == -ENOMEM || err == -EMFILE || err == -ENFILE || err == -EAGAIN ||
	       err == -EINTR;
}

/* Called with the lock held. */
static int load_once(void)
{
	struct pt_libbpf b;
	pt_bpf_print_fn old;
	void *h;
	int r;

	if (link_fd >= 0 || load_err)
		return link_fd >= 0 ? 0 : load_err;
	h = dlopen("libbpf.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return load_err = -EOPNOTSUPP;
	r = resolve(h, &b);
	if (r < 0)
		return load_err = r;
	/* libbpf logs to stderr by default: not ours to print. Put back what the program had. */
	old = b.set_print(quiet);
	r = load_link(&b);
	b.set_print(old);
	if (r >= 0)
		link_fd = r;
	else if (!transient(r))
		load_err = r;
	return r < 0 ? r : 0;
}

/*
 * Whoever holds the link may iterate it, privileged or not (fork() hands it to children that
 * may then drop their privilege or enter a user namespace), and the iterator shows every task
 * of the namespace, hidepid or not: only a caller that could load the program now uses it.
 */
static int privileged_now(void)
{
	const uint64_t bpf = PT_CAP_BIT(PT_CAP_BPF) | PT_CAP_BIT(PT_CAP_PERFMON);
	uint64_t caps = 0;
	struct stat st;
	int r = pt_sys_cap_effective(&caps);

	if (r < 0)
		return r;
	if (!(caps & PT_CAP_BIT(PT_CAP_SYS_ADMIN)) && (caps & bpf) != bpf)
		return -EPERM;
	/* Capabilities count in the initial user namespace only; its inode is fixed. */
	r = pt_stat("/proc/self/ns/user", &st);
	if (r < 0)
		return r == -ENOENT ? -EOPNOTSUPP : r;
	return st.st_ino == PT_INIT_USER_NS_INO ? 0 : -EPERM;
}

int pt_bpf_iter_error(void)
{
	int r = privileged_now();

	if (r < 0)
		return r;
	pthread_mutex_lock(&lock);
	r = load_once();
	pthread_mutex_unlock(&lock);
	return r;
}

int pt_bpf_iter_new(void)
{
	int r = pt_bpf_iter_error();

	if (r < 0)
		return r;
	return pt_bpf_iter_fd(link_fd);
}

#else

int pt_bpf_iter_error(void)
{
	return -EOPNOTSUPP;
}

int pt_bpf_iter_new(void)
{
	return -EOPNOTSUPP;
}

#endif
