/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A C program built against an installed libpidtuple-json (pkg-config libpidtuple-json, or
 * find_package(pidtuple COMPONENTS json)), as ISO C11 with -Wpedantic:
 * reads a small tree description from JSON, writes it back and compares, and reads one node
 * through the core library. No process is created.
 */
#include <pidtuple-json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The canonical one-line form (docs/tree-json.md): what the writer gives back, byte for byte. */
#define TREE                                                                                     \
	"{\"format\":\"libpidtuple-tree\",\"version\":1,\"nodes\":["                             \
	"{\"tuple\":\"4242\",\"parent\":-1,\"newpid\":false,\"pgid\":[4242],\"sid\":[4242],"     \
	"\"kind\":\"hold\"},"                                                                    \
	"{\"tuple\":\"4243\",\"parent\":0,\"newpid\":false,\"kind\":\"hold\"},"                  \
	"{\"tuple\":\"4244/1\",\"parent\":0,\"newpid\":true,\"pgid\":[4244,1],\"sid\":[4242,0]," \
	"\"kind\":\"exec\",\"exec\":{\"path\":\"/bin/sleep\",\"argv\":[\"sleep\",\"60\"]}}]}"

int main(void)
{
	struct pidtuple_diag diag = PIDTUPLE_OPTS_INIT(pidtuple_diag);
	struct pidtuple_node node = PIDTUPLE_OPTS_INIT(pidtuple_node);
	struct pidtuple_tree *tree = NULL;
	char *text = NULL;
	char buf[64] = "";
	int ret;

	ret = pidtuple_tree_from_json(TREE, &tree, &diag);
	if (ret < 0) {
		fprintf(stderr, "pidtuple_tree_from_json: %s: %s\n", pidtuple_strerror(ret),
			diag.message);
		return 1;
	}
	ret = pidtuple_tree_to_json(tree, 0, &text);
	if (ret < 0) {
		fprintf(stderr, "pidtuple_tree_to_json: %s\n", pidtuple_strerror(ret));
		pidtuple_tree_free(tree);
		return 1;
	}
	if (strcmp(text, TREE) != 0) {
		fprintf(stderr, "round trip:\n  read  %s\n  wrote %s\n", TREE, text);
		free(text);
		pidtuple_tree_free(tree);
		return 1;
	}
	free(text);

	/* The tree is the core library's: read the init node back through it. */
	ret = pidtuple_tree_get(tree, 2, &node);
	if (ret == 0)
		ret = pidtuple_format(node.tuple, buf, sizeof(buf));
	if (ret < 0 || pidtuple_tree_size(tree) != 3 || node.kind != PIDTUPLE_NODE_EXEC ||
	    !(node.flags & PIDTUPLE_NODE_NEWPID) || strcmp(buf, "4244/1") != 0) {
		fprintf(stderr, "node 2: '%s' kind %u (%d)\n", buf, node.kind, ret);
		pidtuple_tree_free(tree);
		return 1;
	}
	pidtuple_tree_free(tree);

	printf("json consumer: 3 nodes, format %d, libpidtuple %s\n", PIDTUPLE_JSON_FORMAT_VERSION,
	       pidtuple_version_string());
	return 0;
}
