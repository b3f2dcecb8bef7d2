/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A C program built against an installed libpidtuple (pkg-config or find_package): parses a
 * tuple, formats it back and checks the header and the library agree on the version.
 */
#include <pidtuple.h>
#include <stdio.h>
#include <string.h>

#define TEXT "4242/17/1"

int main(void)
{
	struct pidtuple *t = NULL;
	char buf[64];
	char hdr[32];
	int ret;

	ret = pidtuple_parse(TEXT, &t, NULL);
	if (ret < 0) {
		fprintf(stderr, "pidtuple_parse: %s\n", pidtuple_strerror(ret));
		return 1;
	}
	ret = pidtuple_format(t, buf, sizeof(buf));
	if (ret < 0 || strcmp(buf, TEXT) != 0 || pidtuple_levels(t) != 3 ||
	    pidtuple_get(t, 0) != 1) {
		fprintf(stderr, "round trip of %s gave '%s' (%d)\n", TEXT, buf, ret);
		pidtuple_free(t);
		return 1;
	}
	pidtuple_free(t);

	/* A consumer built against one header must run against the same library version. */
	snprintf(hdr, sizeof(hdr), "%d.%d.%d", PIDTUPLE_VERSION_MAJOR, PIDTUPLE_VERSION_MINOR,
		 PIDTUPLE_VERSION_PATCH);
	if (strcmp(hdr, pidtuple_version_string()) != 0 ||
	    pidtuple_version_major() != PIDTUPLE_VERSION_MAJOR ||
	    pidtuple_version_minor() != PIDTUPLE_VERSION_MINOR) {
		fprintf(stderr, "header %s, library %s\n", hdr, pidtuple_version_string());
		return 1;
	}
	printf("c consumer: %s, libpidtuple %s\n", buf, pidtuple_version_string());
	return 0;
}
