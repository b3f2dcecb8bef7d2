/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The validator (check.c). */
#ifndef PIDTUPLE_VALIDATOR_H
#define PIDTUPLE_VALIDATOR_H

#include "forkopts.h"
#include "nsctx.h"
#include "pidtuple.h"

/* Checks that cost no syscall: the fork path runs these on every call. */
int pt_check_static(const struct pidtuple *t, const struct pt_fork_opts *o,
		    struct pidtuple_diag *diag);
int pt_check_ctx(const struct pidtuple_nsctx *ctx, const struct pidtuple *t,
		 struct pidtuple_diag *diag);
/* Explains a kernel failure of a fork with the validator; returns the error to report. */
int pt_explain_failure(const struct pidtuple *t, const struct pt_fork_opts *o, int kernel_err);

#endif
