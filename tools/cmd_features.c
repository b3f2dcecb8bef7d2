/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pidtuple features: what this kernel and sandbox allow, and why not (like criu check). */
#include <errno.h>
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
	      "feature that is missing, the reason its probe found (ENOSYS: no clone3 or a\n"
	      "seccomp filter; EPERM: a filter or no privilege; E2BIG: clone3 without set_tid;\n"
	      "...).\n"
	      "With FEATURE names, show only those; the exit status is then 1 if one is missing.\n"
	      "\n"
	      "Options:\n"
	      "      --json  print a JSON object keyed by feature name instead of a table; when\n"
	      "              a FEATURE asked for is missing, an \"error\" member says which\n"
	      "  -h, --help  show this help\n",
	      out);
}

static int feature_bit(const char *name, uint64_t *ret)
{
	const char *names[64];
	char hint[160];
	size_t n = 0;

	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;

		if (!(bit & PIDTUPLE_FEATURE_ALL))
			continue;
		names[n++] = pidtuple_feature_name(bit);
		if (strcmp(names[n - 1], name) == 0) {
			*ret = bit;
			return 0;
		}
	}
	cli_did_you_mean(name, names, n, "", hint, sizeof(hint));
	return cli_usage_error("features", "unknown feature '%s'%s", name, hint);
}

/* {"present": bool, "errno": N, "reason": "..."} of one feature. */
static json_object *feature_json(uint64_t bit, bool present)
{
	json_object *f = json_object_new_object();

	if (f && cli_json_put(f, "present", json_object_new_boolean(present)) &&
	    (present ||
	     (cli_json_put(f, "errno", json_object_new_int(-pidtuple_feature_error(bit))) &&
	      cli_json_put(f, "reason", json_object_new_string(pidtuple_feature_reason(bit))))))
		return f;
	json_object_put(f);
	return NULL;
}

/* The features asked about that are missing, as the error of the JSON answer. */
static bool add_missing(json_object *root, uint64_t missing)
{
	char what[512] = "missing:";
	int err = 0;

	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;
		size_t len = strlen(what);

		if (!(missing & bit))
			continue;
		if (!err)
			err = pidtuple_feature_error(bit);
		snprintf(what + len, sizeof(what) - len, " %s", pidtuple_feature_name(bit));
	}
	return cli_json_put(
		root, "error",
		cli_failure_json(&(struct cli_failure){ .err = err ? err : -ENOSYS }, what));
}

/* Lists the features of @want; returns those missing. */
static uint64_t list(uint64_t want, json_object *root)
{
	uint64_t have = pidtuple_features(), missing = 0;

	for (int i = 0; i < 64; i++) {
		uint64_t bit = 1ull << i;
		bool present = have & bit;

		if (!(bit & want))
			continue;
		if (!present)
			missing |= bit;
		if (root)
			cli_json_put(root, pidtuple_feature_name(bit), feature_json(bit, present));
		else
			printf("%-24s %s\n", pidtuple_feature_name(bit),
			       present ? "yes" : pidtuple_feature_reason(bit));
	}
	return missing;
}

int cmd_features(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t want = 0, missing;
	json_object *root = NULL;
	struct cli_args a;
	int r, status;

	cli_args_init(&a, "features", argc, argv, 0);
	while (cli_args_next(&a, "-:h", longopts) != -1)
		;
	r = cli_args_done(&a);
	if (r >= 0)
		return r;
	for (int i = 0; i < a.npos; i++) {
		uint64_t bit = 0;

		r = feature_bit(a.pos[i], &bit);
		if (r)
			return r;
		want |= bit;
	}
	if (cli_json)
		root = json_object_new_object();
	missing = list(want ? want : PIDTUPLE_FEATURE_ALL, root);
	/* A plain listing always succeeds; named features are a question. */
	status = a.npos && missing ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	if (!cli_json)
		return cli_flush("features", status);
	if (status && root && !add_missing(root, missing)) {
		json_object_put(root);
		root = NULL;
	}
	return cli_print_json("features", root, status);
}
