/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple run TUPLE -- CMD...: run a command with exactly the PIDs of a tuple, wait for it
 * and pass its exit status on. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
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
	const char *ns; /* --ns */
	struct cli_wait_free wait_free;
};

void help_run(FILE *out)
{
	fputs("Usage: pidtuple run [OPTION]... TUPLE [OPTION]... [--] COMMAND [ARG]...\n"
	      "\n"
	      "Run COMMAND as a new process with exactly the PIDs of TUPLE, wait for it and exit\n"
	      "with its status. TUPLE is outermost first, e.g. 4242/17/1; it pins the innermost\n"
	      "levels of the namespace the process is born in, and the kernel chooses the PIDs\n"
	      "of the outer levels it leaves out. A COMMAND without a slash is searched in PATH.\n"
	      "Options may come before and after TUPLE; COMMAND, or '--', ends them: what\n"
	      "follows is COMMAND's own.\n"
	      "\n"
	      "Options:\n"
	      "      --newpid      make COMMAND the init of a new PID namespace (CLONE_NEWPID):\n"
	      "                    the innermost PID of TUPLE must be 1\n"
	      "      --newuser     also give COMMAND a new user namespace (CLONE_NEWUSER)\n"
	      "      --cgroup DIR  start COMMAND in the cgroup v2 directory DIR\n"
	      "      --check       run the whole validator before creating the process\n"
	      "      --ns PID|PATH create the process in the PID namespace of process PID (a\n"
	      "                    running container's init, say) or of the namespace file PATH\n"
	      "                    (/proc/PID/ns/pid), without entering it: pidtuple takes no\n"
	      "                    PID there, and TUPLE pins levels from that namespace outward\n"
	      "      --wait-free SECONDS\n"
	      "                    when a PID of TUPLE is held by a process that exited but is\n"
	      "                    not reaped yet (a zombie), wait up to SECONDS for its parent\n"
	      "                    to reap it; a living holder fails at once\n"
	      "      --json        when the process cannot be created, say why as JSON on\n"
	      "                    standard output\n"
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

/* Options before and after TUPLE, up to "--" or COMMAND: the second positional argument
 * ends them, and COMMAND's own are its own. -1 to go on, or the exit status. */
static int scan_opts(struct cli_args *a, int argc, char **argv, struct run_args *r)
{
	enum { OPT_NEWPID = 256, OPT_NEWUSER, OPT_CGROUP, OPT_CHECK, OPT_WAIT_FREE, OPT_NS };
	static const struct option longopts[] = {
		{ "newpid", no_argument, NULL, OPT_NEWPID },
		{ "newuser", no_argument, NULL, OPT_NEWUSER },
		{ "cgroup", required_argument, NULL, OPT_CGROUP },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "wait-free", required_argument, NULL, OPT_WAIT_FREE },
		{ "ns", required_argument, NULL, OPT_NS },
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	cli_args_init(a, "run", argc, argv, 2);
	while ((opt = cli_args_next(a, "-:h", longopts)) != -1) {
		if (opt == OPT_NEWPID)
			r->clone_flags |= CLONE_NEWPID;
		else if (opt == OPT_NEWUSER)
			r->clone_flags |= CLONE_NEWUSER;
		else if (opt == OPT_CGROUP)
			r->cgroup = optarg;
		else if (opt == OPT_CHECK)
			r->flags |= PIDTUPLE_FORK_CHECK;
		else if (opt == OPT_WAIT_FREE)
			cli_wait_free_option(a, &r->wait_free, optarg);
		else if (opt == OPT_NS)
			r->ns = optarg;
	}
	return cli_args_done(a);
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

static volatile sig_atomic_t child_pid, pending_sig;

/* Passes on signals a process sent with kill(); the terminal's (SI_KERNEL) reach the
 * command by themselves, as it is in the same process group. Before the command exists,
 * any of them is kept for later: a signal that arrived while the spawn had every signal
 * blocked must not end pidtuple and leave the new command behind. */
static void forward_signal(int sig, siginfo_t *info, void *uctx)
{
	int saved = errno;

	(void)uctx;
	if (child_pid <= 0)
		pending_sig = sig;
	else if (info->si_code <= 0)
		kill((pid_t)child_pid, sig);
	errno = saved;
}

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };

/* Before the spawn: the handler (the command gets the default actions back at exec). */
static void forward_signals(void)
{
	struct sigaction sa = { .sa_sigaction = forward_signal,
				.sa_flags = SA_SIGINFO | SA_RESTART };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
}

/* After it: a signal kept meanwhile goes to the command (@pid > 0), or, when there is
 * none, ends pidtuple as it would have without the handler. */
static void forward_pending(pid_t pid)
{
	sigset_t all, old;
	int sig;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child_pid = pid;
	sig = pending_sig;
	pending_sig = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (sig && pid > 0) {
		kill(pid, sig);
	} else if (sig) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			cli_fail("run", &(struct cli_failure){ .err = -errno, .pid = pid },
				 "cannot wait for PID %d", (int)pid);
			return CLI_EXIT_FAIL;
		}
	}
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* The command could not be executed: one line, and the rule exec in the JSON. */
static int __attribute__((format(printf, 2, 3))) exec_failed(int err, const char *fmt, ...)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag, .err = err, .rule = PIDTUPLE_RULE_EXEC,
		      .inner_index = -1, .nspid_pos = -1, .text_pos = -1, .node = -1, .thread = -1);
	struct cli_failure f = { .err = err, .diag = &diag };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(diag.message, sizeof(diag.message), fmt, ap);
	va_end(ap);
	cli_error("run", "%s", diag.message);
	if (cli_json)
		cli_fail_json("run", &f, diag.message);
	return err == -ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_CANNOT_EXEC;
}

/* @cmd as execve() needs it: a name without a slash is looked up in PATH. */
static int resolve(const char *cmd, char *path, size_t size, const char **ret)
{
	int r;

	*ret = cmd;
	if (strchr(cmd, '/'))
		return 0;
	r = find_in_path(cmd, path, size);
	if (r < 0)
		return exec_failed(r, "%s: %s", cmd,
				   r == -ENOENT ? "command not found" : pidtuple_strerror(r));
	*ret = path;
	return 0;
}

static int open_cgroup(const char *dir, struct pidtuple_fork_opts *opts)
{
	opts->flags |= PIDTUPLE_FORK_INTO_CGROUP;
	opts->cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (opts->cgroup_fd >= 0)
		return 0;
	cli_fail("run", &(struct cli_failure){ .err = -errno },
		 "cannot open the cgroup directory %s", dir);
	return CLI_EXIT_FAIL;
}

static int spawn_and_wait(const struct pidtuple *t, struct run_args *a, char **cmd)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .flags = a->flags, .clone_flags = a->clone_flags,
		      .cgroup_fd = -1, .diag = &diag);
	char path[PATH_MAX], text[CLI_TUPLE_TEXT_MAX];
	const char *prog;
	pid_t pid;
	int r;

	r = resolve(cmd[0], path, sizeof(path), &prog);
	if (r == 0 && a->cgroup)
		r = open_cgroup(a->cgroup, &opts);
	if (r == 0)
		r = cli_ns_open("run", a->ns, &opts);
	if (r) {
		if (opts.cgroup_fd >= 0)
			close(opts.cgroup_fd);
		return r;
	}
	/* Nothing is left of a failed attempt: try again while a zombie holds a PID (and no
	 * signal asked us to stop). */
	forward_signals();
	do
		r = pidtuple_spawn(t, prog, cmd, NULL, &opts, &pid, NULL);
	while (r < 0 && !pending_sig && cli_wait_free_again(&a->wait_free, r, &diag));
	forward_pending(r < 0 ? 0 : pid);
	if (opts.cgroup_fd >= 0)
		close(opts.cgroup_fd);
	cli_ns_close(&opts);
	if (r < 0 && diag.rule == PIDTUPLE_RULE_EXEC)
		return exec_failed(r, "cannot execute %s: %s", prog, pidtuple_strerror(r));
	if (r < 0) {
		cli_format(t, text, sizeof(text));
		cli_fail("run", &(struct cli_failure){ .err = r, .diag = &diag },
			 "cannot create a process with PIDs %s", text);
		cli_wait_free_report("run", &a->wait_free, r, &diag);
		return CLI_EXIT_FAIL;
	}
	if (diag.notices & PIDTUPLE_NOTICE_CGROUP_AFTER)
		cli_error("run",
			  "note: this kernel has no CLONE_INTO_CGROUP; the process was "
			  "moved into %s after it started",
			  a->cgroup);

	return wait_status(pid);
}

int cmd_run(int argc, char **argv)
{
	struct run_args ra = { .wait_free.seconds = -1 };
	struct cli_args a;
	struct pidtuple *t;
	int r;

	r = scan_opts(&a, argc, argv, &ra);
	if (r >= 0)
		return r;
	if (a.npos == 0)
		return cli_usage_error("run", "no TUPLE given");
	if (a.npos == 1)
		return cli_usage_error("run", "no COMMAND given");
	r = cli_parse_tuple("run", a.pos[0], &t);
	if (r)
		return r;
	r = spawn_and_wait(t, &ra, a.pos + 1);
	pidtuple_free(t);
	return r;
}
