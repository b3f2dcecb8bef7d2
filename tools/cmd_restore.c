/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple restore FILE: create a whole process tree from its JSON description, each process
 * with its exact PIDs, group and session; print what the kernel reports back. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
	fputs("Usage: pidtuple restore [--check] [--wait] FILE\n"
	      "\n"
	      "Create every process of the tree described in FILE, the JSON that\n"
	      "'pidtuple capture' prints ('-' reads standard input): each with exactly its\n"
	      "PIDs, created by its own parent, in its process group and session; all or\n"
	      "nothing. Then release them: exec nodes run their programs, hold nodes keep\n"
	      "their PIDs, doing nothing, until they are killed. Print one line per process,\n"
	      "in the order of FILE: its PID here, a tab and its tuple as the kernel reports\n"
	      "it (as 'pidtuple show' does).\n"
	      "\n"
	      "Without --wait, pidtuple exits once the tree runs and leaves it running: the\n"
	      "root is then reparented, like the child of a shell that exits. Hold nodes\n"
	      "keep none of pidtuple's files (their standard input, output and error are\n"
	      "/dev/null), so x=$(pidtuple restore FILE) returns once pidtuple exits. Exec\n"
	      "nodes keep pidtuple's standard input, output and error, as a background job\n"
	      "does: redirect them when their programs should not hold a pipe or terminal.\n"
	      "\n"
	      "Options:\n"
	      "      --check  only check whether the tree could be created here, and why not;\n"
	      "               create nothing\n"
	      "      --wait   stay until the root exits and exit with its status; SIGINT,\n"
	      "               SIGTERM or SIGHUP sent to pidtuple kill the whole tree\n"
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

	if (r == -EFBIG) {
		cli_error("restore", "%s: larger than %u bytes, more than a tree description holds",
			  name, PIDTUPLE_JSON_MAX_TEXT);
		return CLI_EXIT_FAIL;
	}
	if (r == -EILSEQ) {
		cli_error("restore", "%s: contains a NUL byte: not JSON text", name);
		return CLI_EXIT_FAIL;
	}
	if (r < 0) {
		cli_error("restore", "cannot read %s: %s", name, pidtuple_strerror(r));
		return CLI_EXIT_FAIL;
	}
	r = pidtuple_tree_from_json(text, ret, &diag);
	free(text);
	if (r < 0) {
		cli_error("restore", "%s is not a tree description: %s", name,
			  diag.message[0] ? diag.message : pidtuple_strerror(r));
		return CLI_EXIT_FAIL;
	}
	return 0;
}

static int check_only(const char *name, const struct pidtuple_tree *tree)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	int r = pidtuple_tree_check(tree, NULL, &diag);

	if (r < 0) {
		cli_error("restore", "%s cannot be restored here: %s", name, pidtuple_strerror(r));
		cli_print_diag("restore", &diag);
		return CLI_EXIT_FAIL;
	}
	printf("%s: valid (%d processes)\n", name, pidtuple_tree_size(tree));
	if (r > 0)
		cli_error("restore",
			  "note: %d outer level(s) are not visible from here; the kernel will "
			  "check them",
			  r);
	return CLI_EXIT_OK;
}

/* Reads back what the kernel gave node @i and compares the levels both tuples cover. */
static int read_back(const struct pidtuple_tree *tree, const struct pidtuple_restore *rs,
		     unsigned int i, char *line, size_t size)
{
	PIDTUPLE_OPTS(pidtuple_node, node);
	char want[CLI_TUPLE_TEXT_MAX], got[CLI_TUPLE_TEXT_MAX];
	struct pidtuple *t = NULL;
	pid_t pid = pidtuple_restore_pid(rs, i);
	int fd = pidtuple_restore_pidfd(rs, i);
	int r = pid < 0 ? pid : fd < 0 ? fd : pidtuple_tree_get(tree, i, &node);

	if (r >= 0)
		r = pidtuple_of_pidfd(fd, &t);
	if (r < 0) {
		cli_error("restore", "node %u: cannot read back its PIDs: %s", i,
			  pidtuple_strerror(r));
		return -1;
	}
	pidtuple_format(node.tuple, want, sizeof(want));
	pidtuple_format(t, got, sizeof(got));
	for (int k = 0; k < pidtuple_levels(t) && k < pidtuple_levels(node.tuple); k++) {
		if (pidtuple_get(t, (unsigned int)k) != pidtuple_get(node.tuple, (unsigned int)k)) {
			cli_error("restore", "node %u: asked for %s, the kernel reports %s", i,
				  want, got);
			pidtuple_free(t);
			return -1;
		}
	}
	pidtuple_free(t);
	snprintf(line, size, "%d\t%s\n", (int)pid, got);
	return 0;
}

/* Waits for the root; SIGINT, SIGTERM and SIGHUP kill the tree instead. */
static int wait_root(struct pidtuple_restore *rs)
{
	pid_t root = pidtuple_restore_pid(rs, 0);
	struct pollfd pfd[2] = { { .fd = pidtuple_restore_pidfd(rs, 0), .events = POLLIN },
				 { .fd = -1, .events = POLLIN } };
	struct signalfd_siginfo si;
	sigset_t set;
	int st;

	/* Blocked only now: the tree's processes must not inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pfd[1].fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (pfd[1].fd < 0) {
		cli_error("restore", "cannot wait: %s", pidtuple_strerror(errno));
		return CLI_EXIT_FAIL;
	}
	while (poll(pfd, 2, -1) < 0) {
		if (errno != EINTR) {
			cli_error("restore", "cannot wait: %s", pidtuple_strerror(errno));
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
			cli_error("restore", "cannot wait for PID %d: %s", (int)root,
				  pidtuple_strerror(errno));
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

struct line {
	char s[CLI_TUPLE_TEXT_MAX + 16];
};

static int restore(const char *name, const struct pidtuple_tree *tree, bool wait)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag);
	struct pidtuple_restore *rs;
	int n = pidtuple_tree_size(tree), r;
	struct line *lines;

	lines = calloc(n > 0 ? (size_t)n : 1, sizeof(*lines));
	if (!lines) {
		cli_error("restore", "%s", pidtuple_strerror(-ENOMEM));
		return CLI_EXIT_FAIL;
	}
	raise_nofile();
	fflush(NULL); /* the tree's processes get copies of pidtuple's memory */
	r = pidtuple_tree_restore(tree, &opts, &rs);
	if (r < 0) {
		cli_error("restore", "cannot restore %s: %s", name, pidtuple_strerror(r));
		cli_print_diag("restore", &diag);
		free(lines);
		return CLI_EXIT_FAIL;
	}
	for (int i = 0; i < n; i++) {
		if (read_back(tree, rs, (unsigned int)i, lines[i].s, sizeof(lines[i].s)) < 0) {
			pidtuple_restore_kill(rs);
			pidtuple_restore_free(rs);
			free(lines);
			return CLI_EXIT_FAIL;
		}
	}
	pidtuple_restore_release(rs);
	for (int i = 0; i < n; i++)
		fputs(lines[i].s, stdout);
	free(lines);
	r = cli_flush("restore", CLI_EXIT_OK); /* on failure the tree runs all the same */
	if (wait)
		r = wait_root(rs);
	pidtuple_restore_free(rs);
	return r;
}

int cmd_restore(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_WAIT };
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pidtuple_tree *tree;
	bool check = false, wait = false;
	const char *name;
	int opt, r;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CHECK:
			check = true;
			break;
		case OPT_WAIT:
			wait = true;
			break;
		default:
			return cli_getopt_exit("restore", opt, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("restore", "no FILE given");
	if (argc - optind > 1)
		return cli_usage_error("restore", "too many arguments");
	if (check && wait)
		return cli_usage_error("restore", "--check creates nothing to wait for");
	name = argv[optind];

	r = load_tree(name, &tree);
	if (r)
		return r;
	r = check ? check_only(name, tree) : restore(name, tree, wait);
	pidtuple_tree_free(tree);
	return r;
}
