/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The test async-signal-safe-bites: scripts/check-async-safe.sh must refuse this object, which
 * is lib/restore_child.c as the library builds it plus one call the processes of a tree must
 * never make. Never linked into anything.
 */
#include "restore_child.c"

#include <stdlib.h>

void *pt_async_safe_selftest(size_t size);

void *pt_async_safe_selftest(size_t size)
{
	return malloc(size);
}
