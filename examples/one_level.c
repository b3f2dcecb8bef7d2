/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * one_level.c: create a child with PID 4242 in the caller's own PID namespace.
 *
 * A one-level tuple pins the innermost level only: the namespace the child is born in, here
 * the caller's. If the caller itself lives in a nested namespace, the child's PIDs in the
 * namespaces above are chosen by the kernel as usual.
 *
 * Build:  cc -o one_level one_level.c $(pkg-config --cflags --libs libpidtuple)
 * Run it as root, preferably in a PID namespace of its own, where 4242 is surely free:
 *         unshare --pid --fork --kill-child ./one_level
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pidtuple.h>

#define WANTED "4242"

int main(void)
{
	/* Options and diagnostics are size-prefixed structs: PIDTUPLE_OPTS zeroes them and sets
	 * .sz. The diag explains a failure: which rule, at which level, and why. */
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag);
	uint64_t features = pidtuple_features();
	struct pidtuple *want = NULL, *got = NULL;
	char text[64];
	int pipefd[2], pidfd, status, r;
	pid_t pid, child_getpid = 0;

	/* Pinning a PID needs clone3() with set_tid (Linux 5.5) and CAP_CHECKPOINT_RESTORE or
	 * CAP_SYS_ADMIN. 77 is the conventional "skipped" exit code of test suites. */
	if (!(features & PIDTUPLE_FEATURE_SET_TID) ||
	    !(features &
	      (PIDTUPLE_FEATURE_CAP_CHECKPOINT_RESTORE | PIDTUPLE_FEATURE_CAP_SYS_ADMIN))) {
		fprintf(stderr, "one_level: needs clone3() set_tid and CAP_CHECKPOINT_RESTORE or "
				"CAP_SYS_ADMIN (run as root); skipped\n");
		return 77;
	}

	/* Text is outermost first, as NSpid in /proc/PID/status; one level here. */
	r = pidtuple_parse(WANTED, &want, NULL);
	if (r < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
		fprintf(stderr, "one_level: setup failed\n");
		return 1;
	}

	/* The child gets a copy of stdio's buffers: flush them so nothing is printed twice. */
	fflush(stdout);
	pid = pidtuple_fork(want, &opts, &pidfd);
	if (pid == 0) {
		/* The child. pidtuple_fork() is a raw clone3(): until execve() or _exit(), only
		 * async-signal-safe calls (write, getpid, _exit) are safe here. */
		pid_t me = getpid();

		close(pipefd[0]);
		(void)!write(pipefd[1], &me, sizeof(me));
		_exit(0);
	}
	if (pid < 0) {
		/* pid is a negative errno; the diag says which rule the tuple broke. */
		fprintf(stderr, "one_level: pidtuple_fork(%s): %s\n  rule %s: %s\n", WANTED,
			pidtuple_strerror(pid), pidtuple_rule_name(diag.rule), diag.message);
		pidtuple_free(want);
		return 1;
	}
	close(pipefd[1]);
	if (read(pipefd[0], &child_getpid, sizeof(child_getpid)) != sizeof(child_getpid))
		child_getpid = -1;
	close(pipefd[0]);

	/* Ask the kernel what the child got. The child may have exited already: until it is
	 * reaped, a zombie keeps its PIDs, and the pidfd still refers to it. */
	r = pidtuple_of_pidfd(pidfd, &got);
	if (r < 0) {
		fprintf(stderr, "one_level: pidtuple_of_pidfd: %s\n", pidtuple_strerror(r));
	} else {
		pidtuple_format(got, text, sizeof(text));
		printf("asked for:                      %s\n", WANTED);
		printf("pidtuple_fork() returned:       %d\n", (int)pid);
		printf("kernel, via the child's pidfd:  %s\n", text);
		printf("the child's own getpid():       %d\n", (int)child_getpid);
	}

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(pidfd);
	r = r == 0 && pidtuple_equal(want, got) == 1 && child_getpid == pid ? 0 : 1;
	pidtuple_free(got);
	pidtuple_free(want);
	return r;
}
