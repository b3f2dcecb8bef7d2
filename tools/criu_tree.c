/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A CRIU image's process tree (criu_img.c) as a libpidtuple tree description. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "criu_img.h"
#include "pidtuple.h"

/* One HOLD node: the process's PID, group and session, one level each. */
static int add_proc(struct pidtuple_tree *tree, const struct criu_proc *p, bool root)
{
	pid_t pid = (pid_t)p->pid, pgid = (pid_t)p->pgid, sid = (pid_t)p->sid;
	struct pidtuple *t = NULL, *g = NULL, *s = NULL;
	int r = pidtuple_from_outer(&pid, 1, &t);

	if (r == 0)
		r = pidtuple_from_ids(&pgid, 1, &g);
	if (r == 0)
		r = pidtuple_from_ids(&sid, 1, &s);
	if (r == 0) {
		PIDTUPLE_OPTS(pidtuple_node, node,
			      /* criu restore gives a PID 1 root a new PID namespace */
			      .flags = root && p->pid == 1 ? PIDTUPLE_NODE_NEWPID : 0,
			      .parent = p->parent, .kind = PIDTUPLE_NODE_HOLD, .tuple = t,
			      .pgid = g, .sid = s);

		r = pidtuple_tree_add(tree, &node);
	}
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
