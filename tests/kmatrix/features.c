/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prints what pidtuple_features() finds in the guest, so the log shows which fallbacks ran. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <sys/utsname.h>

#include "pidtuple.h"

int main(void)
{
	uint64_t have = pidtuple_features();
	struct utsname u;

	if (uname(&u) == 0)
		printf("kernel %s %s\n", u.release, u.version);
	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;

		if (!(PIDTUPLE_FEATURE_ALL & bit))
			continue;
		printf("feature %-22s %s%s%s\n", pidtuple_feature_name(bit),
		       (have & bit) ? "yes" : "no", (have & bit) ? "" : ": ",
		       (have & bit) ? "" : pidtuple_feature_reason(bit));
	}
	return 0;
}
