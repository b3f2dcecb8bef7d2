/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A CRIU image's process tree (criu_img.c) as a libpidtuple tree description. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "criu_img.h"
#include "pidtuple.h"

/* The process's other threads (its own TID, listed first, is its PID), one level each. */
static int thread_tuples(const struct criu_proc *p, struct pidtuple ***ret, uint32_t *ret_n)
{
	struct pidtuple **v = calloc(p->n_threads ? p->n_threads : 1, sizeof(*v));
	uint32_t n = 0;

	if (!v)
		return -ENOMEM;
	*ret = v;
	for (size_t k = 0; k < p->n_threads; k++) {
		pid_t tid = (pid_t)p->threads[k].tid;
		int r;

		if (p->threads[k].tid == p->pid)
			continue;
		r = pidtuple_from_outer(&tid, 1, &v[n]);
		if (r < 0) {
			*ret_n = n;
			return r;
		}
		n++;
	}
	*ret_n = n;
	return 0;
}

static void free_tuples(struct pidtuple **v, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		pidtuple_free(v[k]);
	free(v);
}

/* The process's command name, when the kernel would keep it whole. */
static const char *name_of(const struct criu_proc *p)
{
	const char *comm = p->n_threads ? p->threads[0].comm : "";

	return comm[0] && strlen(comm) <= 15 ? comm : NULL;
}

/* One HOLD node: the process's PID, group, session, threads and name, one level each. */
static int add_proc(struct pidtuple_tree *tree, const struct criu_proc *p, bool root)
{
	pid_t pid = (pid_t)p->pid, pgid = (pid_t)p->pgid, sid = (pid_t)p->sid;
	struct pidtuple *t = NULL, *g = NULL, *s = NULL, **thr = NULL;
	uint32_t nthr = 0;
	int r = pidtuple_from_outer(&pid, 1, &t);

	if (r == 0)
		r = pidtuple_from_ids(&pgid, 1, &g);
	if (r == 0)
		r = pidtuple_from_ids(&sid, 1, &s);
	if (r == 0)
		r = thread_tuples(p, &thr, &nthr);
	if (r == 0) {
		PIDTUPLE_OPTS(pidtuple_node, node,
			      /* criu restore gives a PID 1 root a new PID namespace */
			      .flags = root && p->pid == 1 ? PIDTUPLE_NODE_NEWPID : 0,
			      .parent = p->parent, .kind = PIDTUPLE_NODE_HOLD, .tuple = t,
			      .pgid = g, .sid = s, .threads = (const struct pidtuple *const *)thr,
			      .nthreads = nthr, .name = name_of(p));

		r = pidtuple_tree_add(tree, &node);
	}
	free_tuples(thr, nthr);
	pidtuple_free(t);
	pidtuple_free(g);
	pidtuple_free(s);
	return r < 0 ? r : 0;
}

int criu_img_to_tree(const struct criu_image *img, struct pidtuple_tree **ret_tree, char *msg,
		     size_t size)
{
	struct pidtuple_tree *tree = NULL;
	int r = pidtuple_tree_new(&tree);

	for (size_t i = 0; r == 0 && i < img->n_procs; i++) {
		r = add_proc(tree, &img->procs[i], i == 0);
		if (r < 0)
			snprintf(msg, size, "process %u (node %zu): cannot describe it: %s",
				 img->procs[i].pid, i, pidtuple_strerror(r));
	}
	if (r < 0) {
		if (!tree)
			snprintf(msg, size, "%s", pidtuple_strerror(r));
		pidtuple_tree_free(tree);
		return r;
	}
	*ret_tree = tree;
	return 0;
}
