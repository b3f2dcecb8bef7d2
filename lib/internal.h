/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An umbrella over the private headers, each of one role, for the test and fuzz programs that
 * link the library statically and reach into it (check_faults: pt_features_reprobe()). Library
 * sources include the role headers they need, never this file.
 */
#ifndef PIDTUPLE_INTERNAL_H
#define PIDTUPLE_INTERNAL_H

#include "caps.h"
#include "cgroup.h"
#include "diag.h"
#include "fallback.h"
#include "forkopts.h"
#include "lib.h"
#include "nsctx.h"
#include "opts.h"
#include "pidns.h"
#include "pidtuple.h"
#include "probe.h"
#include "proc.h"
#include "scan_uring.h"
#include "syscall_shim.h"
#include "tuple.h"
#include "validator.h"

#endif
