/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple restore FILE: create a whole process tree from its JSON description, each process
 * with its exact PIDs, group and session; print what the kernel reports back. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "pidtuple-json.h"

void help_restore(FILE *out)
{
	fputs("Usage: pidtuple restore [--check] [--wait] [--shell-job] [--share-vm]\n"
	      "       [--wait-free SECONDS] [--ns PID|PATH] [--json] FILE\n"
	      "\n"
	      "Create every process of the tree described in FILE, the JSON that\n"
	      "'pidtuple capture' prints ('-' reads standard input): each with exactly its\n"
	      "PIDs, created by its own parent, in its process group and session, hold\n"
	      "nodes with their other threads at exactly their TIDs; all or nothing. Then\n"
	      "release them: exec nodes run their programs, hold nodes keep their PIDs,\n"
	      "doing nothing, until they are killed. Print one line per process, in the\n"
	      "order of FILE: its PID here, a tab and its tuple as the kernel reports it (as\n"
	      "'pidtuple show' does).\n"
	      "\n"
	      "Without --wait, pidtuple exits once the tree runs and leaves it running: the\n"
	      "root is then reparented, like the child of a shell that exits. Hold nodes\n"
	      "keep none of pidtuple's files (their standard input, output and error are\n"
	      "/dev/null), so x=$(pidtuple restore FILE) returns once pidtuple exits. Exec\n"
	      "nodes keep pidtuple's standard input, output and error, as a background job\n"
	      "does: redirect them when their programs should not hold a pipe or terminal.\n"
	      "\n"
	      "Options:\n"
	      "      --check  only check whether the tree could be created here, and why not\n"
	      "               (a thread by its node, its index and the level); create nothing\n"
	      "      --wait   stay until the root exits and exit with its status; SIGINT,\n"
	      "               SIGTERM or SIGHUP sent to pidtuple kill the whole tree\n"
	      "      --shell-job  the root's session and process group, when no process of\n"
	      "               the tree leads them (a job started from a shell), become\n"
	      "               pidtuple's own, as CRIU's --shell-job does; the processes keep\n"
	      "               their PIDs but show pidtuple's session and group numbers;\n"
	      "               without it, restore names such a session or group when\n"
	      "               capture marked it \"outside\", and suggests this option\n"
	      "      --share-vm  a hold node without children or a session or group to lead,\n"
	      "               whose parent holds too, shares its parent's memory instead of\n"
	      "               a copy: most of a large tree is created several times faster.\n"
	      "               It takes a program like any other; leave this out when a tool\n"
	      "               will write each process's own memory (or oom_score_adj, or\n"
	      "               anything else Linux keeps per address space) into it\n"
	      "      --wait-free SECONDS\n"
	      "               when a wanted PID is held by a process that exited but is not\n"
	      "               reaped yet (a zombie), wait up to SECONDS for its parent to\n"
	      "               reap it; a living holder fails at once\n"
	      "      --ns PID|PATH\n"
	      "               create the tree in the PID namespace of process PID (a running\n"
	      "               container's init, say) or of the namespace file PATH, without\n"
	      "               entering it: the root is born there, the tuples pin levels from\n"
	      "               that namespace outward, and the levels between it and pidtuple's\n"
	      "               own are checked too (with --check: would the tree fit there)\n"
	      "      --json   print {\"processes\": [{\"pid\": N, \"tuple\": [...]}, ...]}\n"
	      "               (with --check, the verdict), or why it failed, as JSON\n"
	      "  -h, --help   show this help\n"
	      "\n"
	      "Exit status: 0 when the tree was created (with --check: when it could be);\n"
	      "1 when it could not be, or FILE is not a tree description (stderr says why\n"
	      "and names the node); 2 on a usage error. With --wait: the root's status, or\n"
	      "128+N when signal N ended the root or pidtuple.\n",
	      out);
}

/* The whole of FILE ('-': stdin), NUL-terminated; at most PIDTUPLE_JSON_MAX_TEXT bytes. */
static int read_file(const char *name, char **ret)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap + 1);
	int fd = strcmp(name, "-") == 0 ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0 || !buf) {
		err = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *more;

			if (cap > PIDTUPLE_JSON_MAX_TEXT) {
				err = -EFBIG;
				goto out;
			}
			cap *= 2;
			more = realloc(buf, cap + 1);
			if (!more) {
				err = -ENOMEM;
				goto out;
			}
			buf = more;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len > PIDTUPLE_JSON_MAX_TEXT)
		err = -EFBIG;
	else if (strlen(buf) != len)
		err = -EILSEQ; /* a NUL byte would end the text early */
out:
	if (fd > STDIN_FILENO)
		close(fd);
	if (err < 0) {
		free(buf);
		return err;
	}
	*ret = buf;
	return 0;
}

static int load_tree(const char *name, struct pidtuple_tree **ret)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	char *text;
	int r = read_file(name, &text);

	if (r == -EFBIG)
		cli_fail("restore", &(struct cli_failure){ .err = r },
			 "%s: larger than %u bytes, more than a tree description holds", name,
			 PIDTUPLE_JSON_MAX_TEXT);
	else if (r == -EILSEQ)
		cli_fail("restore", &(struct cli_failure){ .err = r },
			 "%s: contains a NUL byte: not JSON text", name);
	else if (r < 0)
		cli_fail("restore", &(struct cli_failure){ .err = r }, "cannot read %s", name);
	if (r < 0)
		return CLI_EXIT_FAIL;
	r = pidtuple_tree_from_json(text, ret, &diag);
	free(text);
	if (r < 0) {
		cli_fail("restore", &(struct cli_failure){ .err = r, .diag = &diag },
			 "%s is not a tree description", name);
		return CLI_EXIT_FAIL;
	}
	return 0;
}

/* {"file": FILE, "valid": bool, "nodes": N, "unverified": N} or {..., "error": {...}}. */
static int print_verdict(const char *name, const struct pidtuple_tree *tree, int r,
			 const struct cli_failure *f, const char *what)
{
	json_object *o = json_object_new_object();

	if (o && cli_json_put(o, "file", json_object_new_string(name)) &&
	    cli_json_put(o, "valid", json_object_new_boolean(r >= 0)) &&
	    (r < 0 ? cli_json_put(o, "error", cli_failure_json(f, what))
		   : cli_json_put(o, "nodes", json_object_new_int(pidtuple_tree_size(tree))) &&
			     cli_json_put(o, "unverified", json_object_new_int(r))))
		return cli_print_json("restore", o, r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK);
	json_object_put(o);
	return cli_print_json("restore", NULL, CLI_EXIT_FAIL);
}

/* --wait-free, when given (seconds < 0 otherwise). */
static struct cli_wait_free wait_free = { .seconds = -1 };
/* --ns: the target namespace's fd (with PIDTUPLE_FORK_JOIN_NS in the flags), else -1. */
static int ns_fd = -1;

static int check_only(const char *name, const struct pidtuple_tree *tree, uint64_t flags)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .flags = flags, .ns_fd = ns_fd);
	struct cli_failure f = { .diag = &diag };
	char what[PATH_MAX + 64];
	int r;

	do
		r = pidtuple_tree_check(tree, &opts, &diag);
	while (r < 0 && cli_wait_free_again(&wait_free, r, &diag));
	f.err = r;
	snprintf(what, sizeof(what), "%s cannot be restored here", name);
	if (r < 0) {
		cli_fail_text("restore", &f, what);
		cli_wait_free_report("restore", &wait_free, r, &diag);
	}
	if (r > 0)
		cli_error("restore",
			  "note: %d outer level(s) are not visible from here; the kernel will "
			  "check them",
			  r);
	if (cli_json)
		return print_verdict(name, tree, r, &f, what);
	if (r < 0)
		return CLI_EXIT_FAIL;
	printf("%s: valid (%d processes)\n", name, pidtuple_tree_size(tree));
	return cli_flush("restore", CLI_EXIT_OK);
}

/* What the kernel reports of a restored process. */
struct got {
	pid_t pid;
	struct pidtuple *tuple;
};

/* Reads back what the kernel gave node @i and compares the levels both tuples cover. */
static int read_back(const struct pidtuple_tree *tree, const struct pidtuple_restore *rs,
		     unsigned int i, struct got *g)
{
	PIDTUPLE_OPTS(pidtuple_node, node);
	char want[CLI_TUPLE_TEXT_MAX], got[CLI_TUPLE_TEXT_MAX];
	int fd = pidtuple_restore_pidfd(rs, i);
	int r;

	g->pid = pidtuple_restore_pid(rs, i);
	r = g->pid < 0 ? g->pid : fd < 0 ? fd : pidtuple_tree_get(tree, i, &node);
	if (r >= 0)
		r = pidtuple_of_pidfd(fd, &g->tuple);
	if (r < 0) {
		cli_fail("restore", &(struct cli_failure){ .err = r, .pid = g->pid },
			 "node %u: cannot read back its PIDs", i);
		return -1;
	}
	for (int k = 0; k < pidtuple_levels(g->tuple) && k < pidtuple_levels(node.tuple); k++) {
		if (pidtuple_get(g->tuple, (unsigned int)k) !=
		    pidtuple_get(node.tuple, (unsigned int)k)) {
			cli_format(node.tuple, want, sizeof(want));
			cli_format(g->tuple, got, sizeof(got));
			cli_fail("restore", &(struct cli_failure){ .err = -EBUSY, .pid = g->pid },
				 "node %u: asked for %s, the kernel reports %s", i, want, got);
			return -1;
		}
	}
	return 0;
}

/* Blocks SIGINT, SIGTERM and SIGHUP and returns a signalfd for them, or -1. */
static int stop_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0)
		cli_fail("restore", &(struct cli_failure){ .err = -errno }, "cannot wait");
	return fd;
}

/* Waits for the root; SIGINT, SIGTERM and SIGHUP kill the tree instead. */
static int wait_root(struct pidtuple_restore *rs)
{
	pid_t root = pidtuple_restore_pid(rs, 0);
	struct pollfd pfd[2] = { { .fd = pidtuple_restore_pidfd(rs, 0), .events = POLLIN },
				 { .fd = -1, .events = POLLIN } };
	struct signalfd_siginfo si;
	int st;

	/* Blocked only now: the tree's processes must not inherit the mask. */
	pfd[1].fd = stop_signals();
	if (pfd[1].fd < 0)
		return CLI_EXIT_FAIL;
	while (poll(pfd, 2, -1) < 0) {
		if (errno != EINTR) {
			cli_fail("restore", &(struct cli_failure){ .err = -errno }, "cannot wait");
			close(pfd[1].fd);
			return CLI_EXIT_FAIL;
		}
	}
	if (!(pfd[0].revents & POLLIN) && read(pfd[1].fd, &si, sizeof(si)) == sizeof(si)) {
		close(pfd[1].fd);
		pidtuple_restore_kill(rs);
		return 128 + (int)si.ssi_signo;
	}
	close(pfd[1].fd);
	while (waitpid(root, &st, 0) < 0) {
		if (errno != EINTR) {
			cli_fail("restore", &(struct cli_failure){ .err = -errno, .pid = root },
				 "cannot wait for PID %d", (int)root);
			return CLI_EXIT_FAIL;
		}
	}
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* The restorer keeps a descriptor per process (its pidfd): a big tree needs more than the
 * usual soft limit of 1024, so take what the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* One line per process, "PID\tTUPLE", or {"processes": [{"pid": N, "tuple": [...]}]}. */
static int print_got(const struct got *g, int n)
{
	char text[CLI_TUPLE_TEXT_MAX];
	json_object *root, *arr;

	if (!cli_json) {
		for (int i = 0; i < n; i++) {
			cli_format(g[i].tuple, text, sizeof(text));
			printf("%d\t%s\n", (int)g[i].pid, text);
		}
		return cli_flush("restore", CLI_EXIT_OK);
	}
	root = json_object_new_object();
	arr = json_object_new_array();
	for (int i = 0; arr && i < n; i++) {
		json_object *o = json_object_new_object();

		if (!o || !cli_json_put(o, "pid", json_object_new_int(g[i].pid)) ||
		    !cli_json_put(o, "tuple", cli_tuple_json(g[i].tuple)) ||
		    json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			json_object_put(arr);
			arr = NULL;
		}
	}
	if (!root || !cli_json_put(root, "processes", arr)) {
		json_object_put(root);
		root = NULL;
	}
	return cli_print_json("restore", root, CLI_EXIT_OK);
}

static void got_free(struct got *g, int n)
{
	for (int i = 0; i < n; i++)
		pidtuple_free(g[i].tuple);
	free(g);
}

/* Creates the tree and reads back every PID; NULL (and the tree gone) on failure. */
static struct pidtuple_restore *create(const char *name, const struct pidtuple_tree *tree,
				       uint64_t flags, struct got *g)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .flags = flags, .diag = &diag, .ns_fd = ns_fd);
	struct pidtuple_restore *rs;
	int r;

	raise_nofile();
	fflush(NULL); /* the tree's processes get copies of pidtuple's memory */
	/* All or nothing: a failed attempt leaves no process; try again while a zombie holds
	 * a wanted PID. */
	do
		r = pidtuple_tree_restore(tree, &opts, &rs);
	while (r < 0 && cli_wait_free_again(&wait_free, r, &diag));
	if (r < 0) {
		cli_fail("restore", &(struct cli_failure){ .err = r, .diag = &diag },
			 "cannot restore %s", name);
		cli_wait_free_report("restore", &wait_free, r, &diag);
		return NULL;
	}
	for (int i = 0; i < pidtuple_tree_size(tree); i++) {
		if (read_back(tree, rs, (unsigned int)i, &g[i]) < 0) {
			pidtuple_restore_kill(rs);
			pidtuple_restore_free(rs);
			return NULL;
		}
	}
	return rs;
}

static int restore(const char *name, const struct pidtuple_tree *tree, uint64_t flags, bool wait)
{
	int n = pidtuple_tree_size(tree), r;
	struct pidtuple_restore *rs;
	struct got *g = calloc(n > 0 ? (size_t)n : 1, sizeof(*g));

	if (!g) {
		cli_fail("restore", &(struct cli_failure){ .err = -ENOMEM }, "cannot restore %s",
			 name);
		return CLI_EXIT_FAIL;
	}
	rs = create(name, tree, flags, g);
	if (!rs) {
		got_free(g, n);
		return CLI_EXIT_FAIL;
	}
	pidtuple_restore_release(rs);
	r = print_got(g, n); /* on failure the tree runs all the same */
	got_free(g, n);
	if (wait)
		r = wait_root(rs);
	pidtuple_restore_free(rs);
	return r;
}

int cmd_restore(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_WAIT, OPT_SHELL_JOB, OPT_SHARE_VM, OPT_WAIT_FREE, OPT_NS };
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "shell-job", no_argument, NULL, OPT_SHELL_JOB },
		{ "share-vm", no_argument, NULL, OPT_SHARE_VM },
		{ "wait-free", required_argument, NULL, OPT_WAIT_FREE },
		{ "ns", required_argument, NULL, OPT_NS },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	PIDTUPLE_OPTS(pidtuple_fork_opts, target);
	struct pidtuple_tree *tree;
	bool check = false, wait = false;
	const char *ns = NULL;
	uint64_t flags = 0;
	struct cli_args a;
	int opt, r;

	cli_args_init(&a, "restore", argc, argv, 0);
	while ((opt = cli_args_next(&a, "-:h", longopts)) != -1) {
		if (opt == OPT_CHECK)
			check = true;
		else if (opt == OPT_WAIT)
			wait = true;
		else if (opt == OPT_SHELL_JOB)
			flags |= PIDTUPLE_FORK_SHELL_JOB;
		else if (opt == OPT_SHARE_VM)
			flags |= PIDTUPLE_FORK_SHARE_VM;
		else if (opt == OPT_WAIT_FREE)
			cli_wait_free_option(&a, &wait_free, optarg);
		else if (opt == OPT_NS)
			ns = optarg;
	}
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	if (a.npos == 0)
		return cli_usage_error("restore", "no FILE given");
	if (a.npos > 1)
		return cli_usage_error("restore", "too many arguments");
	if (check && wait)
		return cli_usage_error("restore", "--check creates nothing to wait for");
	r = load_tree(a.pos[0], &tree);
	if (r)
		return r;
	r = cli_ns_open("restore", ns, &target);
	if (r == 0) {
		ns_fd = target.ns_fd;
		flags |= target.flags;
		r = check ? check_only(a.pos[0], tree, flags)
			  : restore(a.pos[0], tree, flags, wait);
	}
	cli_ns_close(&target);
	pidtuple_tree_free(tree);
	return r;
}
