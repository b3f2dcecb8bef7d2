/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * new_namespace.c: start a new PID namespace whose init has a chosen PID outside too, and
 * let that init create a child with a chosen PID inside.
 *
 *   this program (namespace P)
 *   `-- 4300/1   init of a new namespace N: PID 4300 in P, PID 1 in N (CLONE_NEWPID)
 *       `-- 42   its child: PID 42 in N; its PID in P is chosen by the kernel
 *
 * With CLONE_NEWPID the tuple gains a level: its innermost PID is the one in the new
 * namespace, and must be 1, since the first process of a namespace is its init.
 *
 * Build:  cc -o new_namespace new_namespace.c $(pkg-config --cflags --libs libpidtuple)
 * Run:    unshare --pid --fork --kill-child ./new_namespace     (as root)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pidtuple.h>

#define INIT_TUPLE "4300/1"
#define CHILD_TUPLE "42"

static void print_tuple(const char *who, int pidfd)
{
	struct pidtuple *t;
	char text[64];
	int r = pidtuple_of_pidfd(pidfd, &t);

	if (r < 0) {
		printf("%-44s cannot read it: %s\n", who, pidtuple_strerror(r));
		return;
	}
	pidtuple_format(t, text, sizeof(text));
	printf("%-44s %s\n", who, text);
	pidtuple_free(t);
}

static void fork_failed(const char *who, const char *tuple, int err,
			const struct pidtuple_diag *diag)
{
	fprintf(stderr, "%s: pidtuple_fork(%s): %s\n  rule %s: %s\n", who, tuple,
		pidtuple_strerror(err), pidtuple_rule_name(diag->rule), diag->message);
}

/*
 * Runs as PID 1 of the new namespace. It is the child of pidtuple_fork(), a raw clone3()
 * that skips the C library's fork handlers; that only matters when the parent has threads.
 * This program has none, so the init may use the C library (stdio, malloc, this library)
 * like any process.
 */
static int run_init(int go)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .diag = &diag);
	struct pidtuple *t = NULL;
	int pidfd, status;
	char c;
	pid_t pid;

	/* Wait until the parent has printed, to keep the output in order. */
	if (read(go, &c, 1) < 0)
		return 1;
	close(go);
	printf("%-44s %d\n", "init, its own getpid():", (int)getpid());

	/* A one-level tuple: PID 42 in this namespace, the init's own. */
	pidtuple_parse(CHILD_TUPLE, &t, NULL);
	fflush(stdout);
	pid = pidtuple_fork(t, &opts, &pidfd);
	if (pid == 0) {
		/* Async-signal-safe calls only in here; pause() until the init kills us. */
		for (;;)
			pause();
	}
	pidtuple_free(t);
	if (pid < 0) {
		fork_failed("init", CHILD_TUPLE, pid, &diag);
		return 1;
	}
	/* Relative to the init, the child's tuple has one level: this namespace. Its PID in
	 * the parent's namespace exists too, chosen by the kernel, but the init cannot see
	 * the parent's namespace. */
	printf("%-44s %d\n", "init, pidtuple_fork(\"" CHILD_TUPLE "\") returned:", (int)pid);
	print_tuple("init, the child's tuple via its pidfd:", pidfd);

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(pidfd);
	fflush(stdout);
	return pid == 42 ? 0 : 1;
}

int main(void)
{
	PIDTUPLE_OPTS(pidtuple_diag, diag);
	PIDTUPLE_OPTS(pidtuple_fork_opts, opts, .clone_flags = CLONE_NEWPID, .diag = &diag);
	uint64_t features = pidtuple_features();
	struct pidtuple *t = NULL;
	int go[2], pidfd, status;
	pid_t init;

	/* A new PID namespace needs CAP_SYS_ADMIN; pinning PIDs needs clone3() set_tid. */
	if (!(features & PIDTUPLE_FEATURE_SET_TID) ||
	    !(features & PIDTUPLE_FEATURE_CAP_SYS_ADMIN)) {
		fprintf(stderr, "new_namespace: needs clone3() set_tid and CAP_SYS_ADMIN (run as "
				"root); skipped\n");
		return 77;
	}
	if (pidtuple_parse(INIT_TUPLE, &t, NULL) < 0 || pipe2(go, O_CLOEXEC) < 0)
		return 1;

	fflush(stdout);
	init = pidtuple_fork(t, &opts, &pidfd);
	if (init == 0) {
		close(go[1]);
		fflush(stdout);
		_exit(run_init(go[0]));
	}
	pidtuple_free(t);
	if (init < 0) {
		fork_failed("new_namespace", INIT_TUPLE, init, &diag);
		return 1;
	}
	close(go[0]);

	/* From here, the init has two levels: 4300 here and 1 in its own namespace. */
	printf("%-44s %d\n", "parent, pidtuple_fork(\"" INIT_TUPLE "\") returned:", (int)init);
	print_tuple("parent, the init's tuple via its pidfd:", pidfd);
	fflush(stdout);
	(void)!write(go[1], "g", 1);
	close(go[1]);

	/* When a namespace's init exits, the kernel kills everything left in it. */
	while (waitpid(init, &status, 0) < 0 && errno == EINTR)
		;
	close(pidfd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "new_namespace: the init failed\n");
		return 1;
	}
	return init == 4300 ? 0 : 1;
}
