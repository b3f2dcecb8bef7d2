/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel feature probes, cached, with the errno that ruled out each absent one (features.c). */
#ifndef PIDTUPLE_PROBE_H
#define PIDTUPLE_PROBE_H

#include <stdint.h>

/* The kernel's and the sandbox's PIDTUPLE_FEATURE_* bits, without the per-call capability and
 * ns_last_pid privilege bits that pidtuple_features() adds. */
uint64_t pt_features_cached(void);
/* The negative errno that ruled out one feature bit, 0 when present. */
int pt_feature_err(uint64_t feature);
/* Forgets the cached probe results and probes again. */
uint64_t pt_features_reprobe(void);

#endif
