/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --wait-free SECONDS of run and restore: try again while a wanted PID is held by a process
 * that exited but is not reaped yet, which frees it once its parent waits for it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* What the library's pid-taken message says of such a holder ("a zombie of 18562, not yet
 * reaped"); it and this tool ship together. A living holder gets no such words. */
#define HOLDER_NOT_REAPED "not yet reaped"
#define RETRY_MS 10

int cli_parse_seconds(const char *s, double *ret)
{
	char *end;
	double v;

	/* No sign, no space, no hex, no inf or nan: a plain decimal number. */
	if (*s < '0' || *s > '9' || strpbrk(s, "xXpP"))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v > CLI_WAIT_FREE_MAX)
		return -EINVAL;
	*ret = v;
	return 0;
}

void cli_wait_free_option(struct cli_args *a, struct cli_wait_free *w, const char *arg)
{
	/* Remembered like an unknown option, so that a --json after it still counts. */
	if (cli_parse_seconds(arg, &w->seconds) < 0 && !a->action) {
		a->action = '?';
		snprintf(a->error, sizeof(a->error),
			 "--wait-free wants a number of seconds (0 to %.0f), not '%s'",
			 CLI_WAIT_FREE_MAX, arg);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool cli_held_by_exited(int err, const struct pidtuple_diag *d)
{
	return err == -EEXIST && d->rule == PIDTUPLE_RULE_PID_TAKEN &&
	       strstr(d->message, HOLDER_NOT_REAPED);
}

bool cli_wait_free_again(struct cli_wait_free *w, int err, const struct pidtuple_diag *d)
{
	struct timespec ts = { 0, RETRY_MS * 1000000L };
	double t = now();

	w->timed_out = false;
	if (w->seconds < 0 || !cli_held_by_exited(err, d))
		return false; /* not asked, or a living holder: no use waiting */
	if (!w->started) {
		w->started = true;
		w->end = t + w->seconds;
	}
	if (t >= w->end) {
		w->timed_out = true;
		return false;
	}
	if (t + RETRY_MS / 1e3 > w->end)
		ts.tv_nsec = (long)((w->end - t) * 1e9);
	nanosleep(&ts, NULL);
	return true;
}

void cli_wait_free_report(const char *cmd, const struct cli_wait_free *w, int err,
			  const struct pidtuple_diag *d)
{
	if (w->timed_out)
		cli_error(cmd, "gave up after waiting %g s (--wait-free) for PID %d to be reaped",
			  w->seconds, (int)d->pid);
	else if (w->seconds < 0 && cli_held_by_exited(err, d))
		cli_error(cmd, "note: --wait-free SECONDS waits for its parent to reap it");
}
