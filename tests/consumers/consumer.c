/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A C program built against an installed libpidtuple (pkg-config or find_package), as ISO C11
 * with -Wpedantic: parses a tuple, formats it back, has an options struct made with
 * PIDTUPLE_OPTS_INIT() refused for the right reason, and checks the header and the library
 * agree on the version. Creates no process.
 */
#include <errno.h>
#include <pidtuple.h>
#include <stdio.h>
#include <string.h>

#define TEXT "4242/17/1"

/* An unknown flag: the library must see a whole, well-sized struct to get as far as the flags
 * (a wrong sz would be rule "options"). */
#define BAD_FLAG (1ull << 63)

int main(void)
{
	struct pidtuple_diag diag = PIDTUPLE_OPTS_INIT(pidtuple_diag);
	struct pidtuple_fork_opts opts =
		PIDTUPLE_OPTS_INIT(pidtuple_fork_opts, .flags = BAD_FLAG, .diag = &diag);
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
	ret = pidtuple_check(t, &opts, &diag);
	pidtuple_free(t);
	if (ret != -EINVAL || diag.rule != PIDTUPLE_RULE_FLAGS) {
		fprintf(stderr, "pidtuple_check with flag 0x%llx: %d, rule %s: %s\n", BAD_FLAG, ret,
			pidtuple_rule_name(diag.rule), diag.message);
		return 1;
	}

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
