/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple features: what this kernel and sandbox allow, and why not (like criu check). */
#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void help_features(FILE *out)
{
	fputs("Usage: pidtuple features [--json] [FEATURE]...\n"
	      "\n"
	      "Show what this kernel and sandbox allow: clone3, set_tid, the nsfs PID ioctls,\n"
	      "per-namespace pid_max, a writable ns_last_pid, the capabilities held. For each\n"
	      "feature that is missing, the reason its probe found (ENOSYS: no clone3 or a "
	      "seccomp\n"
	      "filter; EPERM: a filter or no privilege; E2BIG: clone3 without set_tid; ...).\n"
	      "With FEATURE names, show only those; the exit status is then 1 if one is missing.\n"
	      "\n"
	      "Options:\n"
	      "  --json      print a JSON object instead of a table\n"
	      "  -h, --help  show this help\n",
	      out);
}

static int feature_bit(const char *name, uint64_t *ret)
{
	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;

		if ((bit & PIDTUPLE_FEATURE_ALL) && strcmp(pidtuple_feature_name(bit), name) == 0) {
			*ret = bit;
			return 0;
		}
	}
	return -1;
}

int cmd_features(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t want = 0, have = pidtuple_features();
	bool json = false;
	json_object *root = NULL;
	int opt, missing = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (opt == OPT_JSON)
			json = true;
		else
			return cli_getopt_exit("features", opt, argv);
	}
	for (int i = optind; i < argc; i++) {
		uint64_t bit;

		if (feature_bit(argv[i], &bit) < 0)
			return cli_usage_error("features", "unknown feature '%s'", argv[i]);
		want |= bit;
	}
	if (!want)
		want = PIDTUPLE_FEATURE_ALL;
	if (json)
		root = json_object_new_object();
	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;
		bool present = have & bit;

		if (!(bit & want))
			continue;
		if (!present)
			missing++;
		if (json) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "present", json_object_new_boolean(present));
			if (!present) {
				json_object_object_add(
					f, "errno",
					json_object_new_int(-pidtuple_feature_error(bit)));
				json_object_object_add(
					f, "reason",
					json_object_new_string(pidtuple_feature_reason(bit)));
			}
			json_object_object_add(root, pidtuple_feature_name(bit), f);
		} else {
			printf("%-24s %s\n", pidtuple_feature_name(bit),
			       present ? "yes" : pidtuple_feature_reason(bit));
		}
	}
	if (json) {
		int st = cli_print_json("features", root);

		json_object_put(root);
		if (st != CLI_EXIT_OK)
			return st;
	}
	/* A plain listing always succeeds; named features are a question. */
	return cli_flush("features", optind < argc && missing ? CLI_EXIT_FAIL : CLI_EXIT_OK);
}
