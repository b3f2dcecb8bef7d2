/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Diagnostics. libpidtuple-json compiles this file too: nothing here may call into the rest of
 * the library. */
#include <stdio.h>

#include "diag.h"

bool pt_diag_usable(const struct pidtuple_diag *diag)
{
	return diag && diag->sz >= sizeof(size_t);
}

void pt_diag_reset(struct pidtuple_diag *diag, unsigned int levels)
{
	if (!pt_diag_usable(diag))
		return;
	PT_OPTS_SET(diag, err, 0);
	PT_OPTS_SET(diag, rule, PIDTUPLE_RULE_NONE);
	PT_OPTS_SET(diag, inner_index, -1);
	PT_OPTS_SET(diag, nspid_pos, -1);
	PT_OPTS_SET(diag, levels, (int32_t)levels);
	PT_OPTS_SET(diag, pid, 0);
	PT_OPTS_SET(diag, kernel_err, 0);
	PT_OPTS_SET(diag, notices, 0);
	PT_OPTS_SET(diag, unverified, 0);
	PT_OPTS_SET(diag, text_pos, -1);
	PT_OPTS_SET(diag, node, -1);
	PT_OPTS_SET(diag, reserved, 0);
	PT_OPTS_SET(diag, thread, -1);
	PT_OPTS_SET(diag, reserved2, 0);
	if (PT_OPTS_HAS(diag, message))
		diag->message[0] = '\0';
}

int pt_diagv(struct pidtuple_diag *diag, int err, uint32_t rule, int inner_index,
	     unsigned int levels, pid_t pid, const char *fmt, va_list ap)
{
	if (!pt_diag_usable(diag))
		return err;
	pt_diag_reset(diag, levels);
	PT_OPTS_SET(diag, err, err);
	PT_OPTS_SET(diag, rule, rule);
	PT_OPTS_SET(diag, inner_index, inner_index);
	PT_OPTS_SET(diag, nspid_pos,
		    inner_index >= 0 && levels > 0 ? (int32_t)levels - 1 - inner_index : -1);
	PT_OPTS_SET(diag, levels, (int32_t)levels);
	PT_OPTS_SET(diag, pid, pid);
	if (PT_OPTS_HAS(diag, message))
		vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
	return err;
}

int pt_diag(struct pidtuple_diag *diag, int err, uint32_t rule, int inner_index,
	    unsigned int levels, pid_t pid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = pt_diagv(diag, err, rule, inner_index, levels, pid, fmt, ap);
	va_end(ap);
	return err;
}

void pt_diag_set_kernel_err(struct pidtuple_diag *diag, int kernel_err)
{
	if (pt_diag_usable(diag))
		PT_OPTS_SET(diag, kernel_err, kernel_err);
}

void pt_diag_add_notice(struct pidtuple_diag *diag, uint32_t notice)
{
	if (pt_diag_usable(diag) && PT_OPTS_HAS(diag, notices))
		diag->notices |= notice;
}

void pt_diag_set_unverified(struct pidtuple_diag *diag, int unverified)
{
	if (pt_diag_usable(diag))
		PT_OPTS_SET(diag, unverified, unverified);
}

void pt_diag_set_text_pos(struct pidtuple_diag *diag, int pos, int field)
{
	if (!pt_diag_usable(diag))
		return;
	PT_OPTS_SET(diag, text_pos, pos);
	PT_OPTS_SET(diag, nspid_pos, field);
}
