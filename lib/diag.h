/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Diagnostics: struct pidtuple_diag, written member by member as far as the caller's struct
 * holds each one whole (opts.h). Compiled into libpidtuple and libpidtuple-json alike. */
#ifndef PIDTUPLE_DIAG_H
#define PIDTUPLE_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "opts.h"
#include "pidtuple.h"

/* A diag the library may write to: not NULL, and sz covers at least sz itself. */
bool pt_diag_usable(const struct pidtuple_diag *diag);
/* Clears @diag (may be NULL) to "nothing failed" for a tuple of @levels levels. */
void pt_diag_reset(struct pidtuple_diag *diag, unsigned int levels);

/* Fills @diag (may be NULL) and returns @err, so failures read `return pt_diag(...)`. A verdict
 * replaces whatever an earlier step wrote; callers add details after it. */
int pt_diag(struct pidtuple_diag *diag, int err, uint32_t rule, int inner_index,
	    unsigned int levels, pid_t pid, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
int pt_diagv(struct pidtuple_diag *diag, int err, uint32_t rule, int inner_index,
	     unsigned int levels, pid_t pid, const char *fmt, va_list ap)
	__attribute__((format(printf, 7, 0)));

void pt_diag_set_kernel_err(struct pidtuple_diag *diag, int kernel_err);
void pt_diag_add_notice(struct pidtuple_diag *diag, uint32_t notice);
void pt_diag_set_unverified(struct pidtuple_diag *diag, int unverified);
void pt_diag_set_text_pos(struct pidtuple_diag *diag, int pos, int field);

#endif
