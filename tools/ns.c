/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --ns PID|PATH: the PID namespace run, check and restore create their processes in, named
 * as nsenter -t names it (a PID) or by a namespace file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

int cli_ns_open(const char *cmd, const char *arg, struct pidtuple_fork_opts *opts)
{
	bool is_pid;
	pid_t pid;
	int fd;

	if (!arg)
		return 0;
	/* A PID as a pidfd: it names the process in our own namespace, whatever /proc is. */
	is_pid = cli_parse_pid(arg, &pid) == 0;
	if (is_pid)
		fd = (int)syscall(SYS_pidfd_open, pid, 0);
	else
		fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_fail(cmd, &(struct cli_failure){ .err = -errno }, "--ns %s: cannot open %s",
			 arg, is_pid ? "that process" : "that namespace file");
		return CLI_EXIT_FAIL;
	}
	opts->flags |= PIDTUPLE_FORK_JOIN_NS;
	opts->ns_fd = fd;
	return 0;
}

void cli_ns_close(struct pidtuple_fork_opts *opts)
{
	if (opts->flags & PIDTUPLE_FORK_JOIN_NS)
		close(opts->ns_fd);
	opts->flags &= ~PIDTUPLE_FORK_JOIN_NS;
	opts->ns_fd = -1;
}
