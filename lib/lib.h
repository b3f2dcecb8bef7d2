/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every module of the library needs. Non-static internal symbols carry the pt_ prefix:
 * a static archive cannot hide them. */
#ifndef PIDTUPLE_LIB_H
#define PIDTUPLE_LIB_H

#include "pidtuple.h"

#define PT_PUBLIC PIDTUPLE_API

/* sd-style argument check: return, never abort, never print. */
#define pt_return_if(cond, err)       \
	do {                          \
		if (cond)             \
			return (err); \
	} while (0)

#endif
