/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple run TUPLE -- CMD...: run a command with exactly the PIDs of a tuple, wait for it
 * and pass its exit status on. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

struct run_args {
	uint64_t clone_flags;
	uint64_t flags;
	const char *cgroup;
};

void help_run(FILE *out)
{
	fputs("Usage: pidtuple run [OPTION]... TUPLE [OPTION]... [--] COMMAND [ARG]...\n"
	      "\n"
	      "Run COMMAND as a new process with exactly the PIDs of TUPLE, wait for it and exit\n"
	      "with its status. TUPLE is outermost first, e.g. 4242/17/1; it pins the innermost\n"
	      "levels of the namespace the process is born in, and the kernel chooses the PIDs\n"
	      "of the outer levels it leaves out. A COMMAND without a slash is searched in PATH.\n"
	      "\n"
	      "Options:\n"
	      "      --newpid      make COMMAND the init of a new PID namespace (CLONE_NEWPID):\n"
	      "                    the innermost PID of TUPLE must be 1\n"
	      "      --newuser     also give COMMAND a new user namespace (CLONE_NEWUSER)\n"
	      "      --cgroup DIR  start COMMAND in the cgroup v2 directory DIR\n"
	      "      --check       run the whole validator before creating the process\n"
	      "  -h, --help        show this help\n"
	      "\n"
	      "Signals sent to pidtuple with kill(2) are passed on to COMMAND; those the\n"
	      "terminal sends reach COMMAND directly. The init of a PID namespace does not get\n"
	      "signals it has no handler for, except SIGKILL and SIGSTOP.\n"
	      "\n"
	      "Exit status: COMMAND's status, or 128+N when a signal N killed it; 1 when the\n"
	      "process could not be created (stderr says why); 126 when COMMAND could not be\n"
	      "executed; 127 when it was not found; 2 on a usage error.\n",
	      out);
}

/* Scans options until "--" or the first word that is not one; returns -1 to go on. */
static int scan_opts(int argc, char **argv, struct run_args *a)
{
	enum { OPT_NEWPID = 256, OPT_NEWUSER, OPT_CGROUP, OPT_CHECK };
	static const struct option longopts[] = {
		{ "newpid", no_argument, NULL, OPT_NEWPID },
		{ "newuser", no_argument, NULL, OPT_NEWUSER },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_NEWPID:
			a->clone_flags |= CLONE_NEWPID;
			break;
		case OPT_NEWUSER:
			a->clone_flags |= CLONE_NEWUSER;
			break;
		case OPT_CGROUP:
			a->cgroup = optarg;
			break;
		case OPT_CHECK:
			a->flags |= PIDTUPLE_FORK_CHECK;
			break;
		default:
			return cli_getopt_exit("run", opt, argv);
		}
	}
	return -1;
}

/* Like execvp(): the first regular, executable file named @cmd in $PATH. */
static int find_in_path(const char *cmd, char *buf, size_t size)
{
	const char *path = getenv("PATH");
	const char *p, *end;
	int err = -ENOENT;

	if (!path)
		path = "/bin:/usr/bin"; /* glibc's confstr(_CS_PATH) */
	for (p = path;; p = end + 1) {
		struct stat st;
		int len;

		end = strchrnul(p, ':');
		/* An empty element means the current directory. */
		if (end == p)
			len = snprintf(buf, size, "./%s", cmd);
		else
			len = snprintf(buf, size, "%.*s/%s", (int)(end - p), p, cmd);
		if (len > 0 && (size_t)len < size && stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (faccessat(AT_FDCWD, buf, X_OK, AT_EACCESS) == 0)
				return 0;
			err = -EACCES;
		}
		if (!*end)
			return err;
	}
}

static volatile sig_atomic_t child_pid;

/* Passes on signals a process sent with kill(); the terminal's (SI_KERNEL) reach the
 * command by themselves, as it is in the same process group. */
static void forward_signal(int sig, siginfo_t *info, void *uctx)
{
	int saved = errno;

	(void)uctx;
	if (info->si_code <= 0 && child_pid > 0)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

static void forward_signals(pid_t pid)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_sigaction = forward_signal,
				.sa_flags = SA_SIGINFO | SA_RESTART };

	child_pid = pid;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			cli_error("run", "cannot wait for PID %d: %s", (int)pid,
				  pidtuple_strerror(errno));
			return CLI_EXIT_FAIL;
		}
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static int spawn_and_wait(const struct pidtuple *t, const struct run_args *a, char **cmd)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .flags = a->flags, .clone_flags = a->clone_flags,
		      .cgroup_fd = -1, .diag = &diag);
	char path[PATH_MAX], text[CLI_TUPLE_TEXT_MAX];
	const char *prog = cmd[0];
	pid_t pid;
	int r;

	if (!strchr(cmd[0], '/')) {
		r = find_in_path(cmd[0], path, sizeof(path));
		if (r < 0) {
			cli_error("run", "%s: %s", cmd[0],
				  r == -ENOENT ? "command not found" : pidtuple_strerror(r));
			return r == -ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC;
		}
		prog = path;
	}
	if (a->cgroup) {
		opts.flags |= PIDTUPLE_FORK_INTO_CGROUP;
		opts.cgroup_fd = open(a->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (opts.cgroup_fd < 0) {
			cli_error("run", "cannot open the cgroup directory %s: %s", a->cgroup,
				  pidtuple_strerror(errno));
			return CLI_EXIT_FAIL;
		}
	}

	r = pidtuple_spawn(t, prog, cmd, NULL, &opts, &pid, NULL);
	if (opts.cgroup_fd >= 0)
		close(opts.cgroup_fd);
	if (r < 0 && diag.rule == PIDTUPLE_RULE_EXEC) {
		cli_error("run", "cannot execute %s: %s", prog, pidtuple_strerror(r));
		return r == -ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC;
	}
	if (r < 0) {
		pidtuple_format(t, text, sizeof(text));
		cli_error("run", "cannot create a process with PIDs %s: %s", text,
			  pidtuple_strerror(r));
		cli_print_diag("run", &diag);
		return CLI_EXIT_FAIL;
	}
	if (diag.notices & PIDTUPLE_NOTICE_CGROUP_AFTER)
		cli_error("run",
			  "note: this kernel has no CLONE_INTO_CGROUP; the process was "
			  "moved into %s after it started",
			  a->cgroup);

	forward_signals(pid);
	return wait_status(pid);
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	struct pidtuple *t;
	const char *tuple_text;
	int r;

	r = scan_opts(argc, argv, &a);
	if (r >= 0)
		return r;
	if (optind >= argc)
		return cli_usage_error("run", "no TUPLE given");
	tuple_text = argv[optind++];

	/* Options may follow TUPLE too, up to "--" or COMMAND: scan the rest as a new vector
	 * whose argv[0] is TUPLE. */
	if (optind < argc && argv[optind][0] == '-') {
		int base = optind - 1;

		optind = 0;
		r = scan_opts(argc - base, argv + base, &a);
		if (r >= 0)
			return r;
		optind += base;
	}
	if (optind >= argc)
		return cli_usage_error("run", "no COMMAND given");

	r = cli_parse_tuple("run", tuple_text, &t);
	if (r)
		return r;
	r = spawn_and_wait(t, &a, argv + optind);
	pidtuple_free(t);
	return r;
}
