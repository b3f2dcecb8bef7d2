/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple ps: every process of this PID namespace and those below it, with its tuples; and
 * the namespace scan that tree and show --threads share. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

void help_ps(FILE *out)
{
	fputs("Usage: pidtuple ps [--threads] [--json]\n"
	      "\n"
	      "List every process of the caller's PID namespace and of the namespaces below it,\n"
	      "one line per process, sorted by PID: its PID and its parent's as the caller's\n"
	      "namespace numbers them, its PID tuple, its process group and session tuples (0\n"
	      "at the levels where they are not visible), 'new' in the NS column when the\n"
	      "process is the init of a PID namespace below the caller's (a namespace begins\n"
	      "there), and its command name. Processes that exit meanwhile are left out.\n"
	      "\n"
	      "Options:\n"
	      "      --threads  one line per thread, with its TID and its TID tuple\n"
	      "      --json     print a JSON array of objects instead of a table\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Exit status: 0 when the list was printed; 1 when the namespace could not be\n"
	      "read; 2 on a usage error.\n",
	      out);
}

/* ---- the scan --------------------------------------------------------------------------- */

static int cmp_proc(const void *a, const void *b)
{
	const struct cli_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_thread(const void *a, const void *b)
{
	const struct cli_thread *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* Reads at most @size - 1 bytes of the file at @path; -errno on failure. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/*
 * The command name of process @pid (the caller's numbering). /proc may belong to an outer
 * PID namespace, where @pid names another process: the fdinfo of a pidfd gives the number
 * /proc uses, and the pidfd, still alive after the read, proves the number was not reused.
 * Returns 0, -ESRCH when the process has gone, or another -errno.
 */
static int read_comm(pid_t pid, char *comm, size_t size)
{
	char path[64], buf[512], *p;
	int pidfd, r = 0;
	long o;

	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (read_small(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "Pid:\t"))) {
		r = -ENOENT;
		goto out;
	}
	o = strtol(p + 5, NULL, 10);
	if (o <= 0) {
		r = -ESRCH; /* reaped */
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%ld/comm", o);
	if (read_small(path, comm, size) < 0 ||
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
		r = -ESRCH; /* gone: the number may name another process now */
		goto out;
	}
	comm[strcspn(comm, "\n")] = '\0';
out:
	close(pidfd);
	return r;
}

static void proc_clear(struct cli_proc *p)
{
	pidtuple_free(p->tuple);
	pidtuple_free(p->pgid);
	pidtuple_free(p->sid);
	for (size_t i = 0; i < p->nthreads; i++)
		pidtuple_free(p->threads[i].tuple);
	free(p->threads);
}

void cli_procs_free(struct cli_procs *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		proc_clear(&ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

static int add_thread(struct cli_proc *p, pid_t tid, const struct pidtuple *t)
{
	struct cli_thread *v;
	int r;

	v = realloc(p->threads, (p->nthreads + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->threads = v;
	v[p->nthreads].tid = tid;
	r = pidtuple_dup(t, &v[p->nthreads].tuple);
	if (r < 0)
		return r;
	p->nthreads++;
	return 0;
}

static int add_proc(struct cli_procs *ps, size_t *cap, const struct pidtuple_scan_entry *e,
		    unsigned int flags)
{
	struct cli_proc *p;
	int r;

	if (ps->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct cli_proc *v = realloc(ps->v, ncap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ps->v = v;
		*cap = ncap;
	}
	p = &ps->v[ps->n];
	*p = (struct cli_proc){
		.pid = e->pid, .ppid = e->ppid, .flags = e->flags, .ns_id = e->ns_id
	};
	if (flags & CLI_SCAN_COMM) {
		r = read_comm(e->pid, p->comm, sizeof(p->comm));
		if (r == -ESRCH)
			return 0; /* exited during the scan: skipped */
		if (r < 0)
			snprintf(p->comm, sizeof(p->comm), "?");
	}
	r = pidtuple_dup(e->tuple, &p->tuple);
	if (r == 0)
		r = pidtuple_dup(e->pgid_tuple, &p->pgid);
	if (r == 0)
		r = pidtuple_dup(e->sid_tuple, &p->sid);
	if (r == 0 && (flags & CLI_SCAN_THREADS))
		r = add_thread(p, e->tid, e->tuple);
	ps->n++; /* freed with the rest even when incomplete */
	return r;
}

int cli_scan(unsigned int flags, struct cli_procs *ret)
{
	PIDTUPLE_OPTS(pidtuple_scan_opts, opts,
		      .flags = (flags & CLI_SCAN_THREADS) ? PIDTUPLE_SCAN_THREADS : 0);
	struct pidtuple_scan_entry e = { .sz = sizeof(e) };
	struct cli_procs ps = { NULL, 0 };
	struct pidtuple_scan *scan;
	bool have_last = false;
	size_t cap = 0;
	int r;

	r = pidtuple_scan_new(&opts, &scan);
	if (r < 0)
		return r;
	while ((r = pidtuple_scan_next(scan, &e)) > 0) {
		if (e.flags & PIDTUPLE_ENTRY_THREAD) {
			/* Threads follow their leader; a skipped leader takes them along. */
			if (have_last && ps.v[ps.n - 1].pid == e.pid)
				r = add_thread(&ps.v[ps.n - 1], e.tid, e.tuple);
		} else {
			size_t n = ps.n;

			r = add_proc(&ps, &cap, &e, flags);
			have_last = ps.n > n;
		}
		if (r < 0)
			break;
	}
	pidtuple_scan_free(scan);
	if (r < 0) {
		cli_procs_free(&ps);
		return r;
	}
	if (ps.n)
		qsort(ps.v, ps.n, sizeof(*ps.v), cmp_proc);
	/* The leader (added with its process) stays first. */
	for (size_t i = 0; i < ps.n; i++)
		if (ps.v[i].nthreads > 2)
			qsort(ps.v[i].threads + 1, ps.v[i].nthreads - 1, sizeof(*ps.v[i].threads),
			      cmp_thread);
	*ret = ps;
	return 0;
}

struct cli_proc *cli_procs_find(const struct cli_procs *ps, pid_t pid)
{
	struct cli_proc key = { .pid = pid };

	if (!ps->n)
		return NULL;
	return bsearch(&key, ps->v, ps->n, sizeof(*ps->v), cmp_proc);
}

/* ---- output ----------------------------------------------------------------------------- */

static json_object *ids_json(const struct pidtuple *t)
{
	pid_t ids[PIDTUPLE_MAX_LEVELS];
	json_object *a = json_object_new_array();
	int n = pidtuple_to_outer(t, ids, PIDTUPLE_MAX_LEVELS);

	for (int i = 0; a && i < n; i++) {
		json_object *v = json_object_new_int(ids[i]);

		if (!v || json_object_array_add(a, v) < 0) {
			json_object_put(v);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

json_object *cli_proc_json(const struct cli_proc *p)
{
	char text[CLI_TUPLE_TEXT_MAX];
	json_object *o = json_object_new_object();

	cli_format(p->tuple, text, sizeof(text));
	if (o && cli_json_put(o, "pid", json_object_new_int(p->pid)) &&
	    cli_json_put(o, "ppid", json_object_new_int(p->ppid)) &&
	    cli_json_put(o, "tuple", json_object_new_string(text)) &&
	    cli_json_put(o, "comm", json_object_new_string(p->comm)) &&
	    cli_json_put(o, "newpid",
			 json_object_new_boolean(!!(p->flags & PIDTUPLE_ENTRY_NS_INIT))) &&
	    cli_json_put(o, "ns_id", json_object_new_uint64(p->ns_id)) &&
	    cli_json_put(o, "pgid", ids_json(p->pgid)) && cli_json_put(o, "sid", ids_json(p->sid)))
		return o;
	json_object_put(o);
	return NULL;
}

/* ---- ps --------------------------------------------------------------------------------- */

struct ps_row {
	pid_t pid, tid, ppid;
	const char *ns;
	char tuple[CLI_TUPLE_TEXT_MAX], pgid[CLI_TUPLE_TEXT_MAX], sid[CLI_TUPLE_TEXT_MAX];
	char comm[CLI_COMM_MAX];
};

struct ps_widths {
	int pid, tid, ppid, tuple, pgid, sid;
};

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static void row_fill(struct ps_row *row, const struct cli_proc *p, size_t thread)
{
	const struct pidtuple *t = p->nthreads ? p->threads[thread].tuple : p->tuple;

	row->pid = p->pid;
	row->tid = p->nthreads ? p->threads[thread].tid : p->pid;
	row->ppid = p->ppid;
	row->ns = p->flags & PIDTUPLE_ENTRY_NS_INIT ? "new" : "-";
	cli_format(t, row->tuple, sizeof(row->tuple));
	cli_format(p->pgid, row->pgid, sizeof(row->pgid));
	cli_format(p->sid, row->sid, sizeof(row->sid));
	cli_sanitize(p->comm, row->comm, sizeof(row->comm));
}

static void row_widths(const struct ps_row *row, struct ps_widths *w)
{
	char num[16];

	w->pid = max_int(w->pid, snprintf(num, sizeof(num), "%d", (int)row->pid));
	w->tid = max_int(w->tid, snprintf(num, sizeof(num), "%d", (int)row->tid));
	w->ppid = max_int(w->ppid, snprintf(num, sizeof(num), "%d", (int)row->ppid));
	w->tuple = max_int(w->tuple, (int)strlen(row->tuple));
	w->pgid = max_int(w->pgid, (int)strlen(row->pgid));
	w->sid = max_int(w->sid, (int)strlen(row->sid));
}

static void row_print(const struct ps_row *row, const struct ps_widths *w, bool threads)
{
	printf("%*d ", w->pid, (int)row->pid);
	if (threads)
		printf("%*d ", w->tid, (int)row->tid);
	printf("%*d %-*s %-*s %-*s %-3s %s\n", w->ppid, (int)row->ppid, w->tuple, row->tuple,
	       w->pgid, row->pgid, w->sid, row->sid, row->ns, row->comm);
}

static void ps_table(const struct cli_procs *ps, bool threads)
{
	struct ps_widths w = { 3, 3, 4, 5, 4, 3 }; /* the headers' widths */
	struct ps_row row;

	/* Two passes: widths first, so the table needs no memory of its own. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			printf("%*s ", w.pid, "PID");
			if (threads)
				printf("%*s ", w.tid, "TID");
			printf("%*s %-*s %-*s %-*s %-3s %s\n", w.ppid, "PPID", w.tuple, "TUPLE",
			       w.pgid, "PGID", w.sid, "SID", "NS", "COMM");
		}
		for (size_t i = 0; i < ps->n; i++) {
			const struct cli_proc *p = &ps->v[i];
			size_t n = threads && p->nthreads ? p->nthreads : 1;

			for (size_t k = 0; k < n; k++) {
				row_fill(&row, p, threads ? k : 0);
				if (pass == 0)
					row_widths(&row, &w);
				else
					row_print(&row, &w, threads);
			}
		}
	}
}

static json_object *threads_json(const struct cli_proc *p)
{
	json_object *a = json_object_new_array();

	for (size_t k = 0; a && k < p->nthreads; k++) {
		char text[CLI_TUPLE_TEXT_MAX];
		json_object *t = json_object_new_object();

		cli_format(p->threads[k].tuple, text, sizeof(text));
		if (!t || !cli_json_put(t, "tid", json_object_new_int(p->threads[k].tid)) ||
		    !cli_json_put(t, "tuple", json_object_new_string(text)) ||
		    json_object_array_add(a, t) < 0) {
			json_object_put(t);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static int ps_json(const struct cli_procs *ps, bool threads)
{
	json_object *root = json_object_new_array();
	int status;

	for (size_t i = 0; root && i < ps->n; i++) {
		json_object *o = cli_proc_json(&ps->v[i]);

		if (o && threads && !cli_json_put(o, "threads", threads_json(&ps->v[i]))) {
			json_object_put(o);
			o = NULL;
		}
		if (!o || json_object_array_add(root, o) < 0) {
			json_object_put(o);
			json_object_put(root);
			root = NULL;
		}
	}
	if (!root) {
		cli_error("ps", "cannot make the JSON text: %s", pidtuple_strerror(-ENOMEM));
		return CLI_EXIT_FAIL;
	}
	status = cli_print_json("ps", root);
	json_object_put(root);
	return status;
}

int cmd_ps(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_THREADS };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "threads", no_argument, NULL, OPT_THREADS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_procs ps;
	bool json = false, threads = false;
	int opt, r, status;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (opt == OPT_JSON)
			json = true;
		else if (opt == OPT_THREADS)
			threads = true;
		else
			return cli_getopt_exit("ps", opt, argv);
	}
	if (optind < argc)
		return cli_usage_error("ps", "unexpected argument '%s'", argv[optind]);

	r = cli_scan(CLI_SCAN_COMM | (threads ? CLI_SCAN_THREADS : 0), &ps);
	if (r < 0) {
		cli_error("ps", "cannot read the PID namespace: %s", pidtuple_strerror(r));
		return CLI_EXIT_FAIL;
	}
	if (json) {
		status = ps_json(&ps, threads);
	} else {
		ps_table(&ps, threads);
		status = CLI_EXIT_OK;
	}
	cli_procs_free(&ps);
	return cli_flush("ps", status);
}
