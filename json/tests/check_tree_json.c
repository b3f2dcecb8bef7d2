/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpidtuple-json: a tree description to JSON and back. Round trips are byte-identical;
 * every class of bad input fails with -EINVAL (or -E2BIG for size) and a diag that names the
 * place, leaves the out-parameter alone and leaks nothing (the valgrind variant of this suite
 * runs every case in one process). Creates no process: needs no privilege.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pidtuple-json.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A pointer no allocator returns: out-parameters must keep it on failure. */
#define SENTINEL_TREE ((struct pidtuple_tree *)(uintptr_t)0x5e5e5e5e)
#define SENTINEL_TEXT ((char *)(uintptr_t)0x5e5e5e5e)

#define HEAD "{\"format\":\"libpidtuple-tree\",\"version\":1,\"nodes\":["
/* The same for format version 2, which adds a node's "threads". */
#define HEAD2 "{\"format\":\"libpidtuple-tree\",\"version\":2,\"nodes\":["
#define TAIL "]}"
/* A node that is fine as a root; tests splice members around it. */
#define ROOT "{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"hold\"}"

static struct pidtuple *tup(const char *text)
{
	struct pidtuple *t = NULL;

	ck_assert_int_eq(pidtuple_parse(text, &t, NULL), 0);
	return t;
}

static struct pidtuple *ids(const pid_t *outer, size_t n)
{
	struct pidtuple *t = NULL;

	ck_assert_int_eq(pidtuple_from_ids(outer, n, &t), 0);
	return t;
}

struct spec {
	const char *tuple;
	int parent;
	bool newpid;
	pid_t pgid[4], sid[4]; /* outermost first; pgid[0] == 0: none (the parent's) */
	const char *path;      /* non-NULL: an exec node */
	char *const *argv;
	char *const *envp;
	const char *threads[4]; /* TID tuples, up to the first NULL */
};

/* Adds the threads of @s to @node; the tuples are freed with free_threads(). */
static void add_threads(const struct spec *s, struct pidtuple_node *node, struct pidtuple **threads)
{
	uint32_t n = 0;

	while (n < ARRAY_SIZE(s->threads) && s->threads[n]) {
		threads[n] = tup(s->threads[n]);
		n++;
	}
	node->threads = (const struct pidtuple *const *)threads;
	node->nthreads = n;
}

static void free_threads(struct pidtuple **threads, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		pidtuple_free(threads[k]);
}

static struct pidtuple_tree *build(const struct spec *s, size_t n)
{
	struct pidtuple_tree *tree = NULL;

	ck_assert_int_eq(pidtuple_tree_new(&tree), 0);
	for (size_t i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, node, .parent = s[i].parent);
		struct pidtuple *t = tup(s[i].tuple), *pg = NULL, *sd = NULL, *th[4];
		int levels = pidtuple_levels(t);

		node.tuple = t;
		node.flags = s[i].newpid ? PIDTUPLE_NODE_NEWPID : 0;
		if (s[i].pgid[0])
			node.pgid = pg = ids(s[i].pgid, (size_t)levels);
		if (s[i].sid[0])
			node.sid = sd = ids(s[i].sid, (size_t)levels);
		node.kind = s[i].path ? PIDTUPLE_NODE_EXEC : PIDTUPLE_NODE_HOLD;
		node.path = s[i].path;
		node.argv = s[i].argv;
		node.envp = s[i].envp;
		add_threads(&s[i], &node, th);
		ck_assert_int_eq(pidtuple_tree_add(tree, &node), (int)i);
		free_threads(th, node.nthreads);
		pidtuple_free(t);
		pidtuple_free(pg);
		pidtuple_free(sd);
	}
	return tree;
}

static char *const argv_echo[] = { "echo",
				   "a \"quoted\" word",
				   "back\\slash",
				   "tab\there",
				   "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7",
				   NULL };
static char *const envp_one[] = { "LANG=C.UTF-8", "EMPTY=", NULL };
static char *const argv_one[] = { "x", NULL };
static char *const envp_none[] = { NULL };
static char *const argv_sleep[] = { "sleep", "60", NULL };
static char *const envp_slash[] = { "A=b/c", NULL };

/* A root, a plain child, a namespace init, processes inside it, every kind of exec. */
static const struct spec sample[] = {
	{ .tuple = "4242", .parent = -1, .pgid = { 4242 }, .sid = { 4242 } },
	{ .tuple = "4243", .parent = 0 },
	{ .tuple = "4244/1", .parent = 0, .newpid = true, .pgid = { 4244, 1 }, .sid = { 4244, 1 } },
	{ .tuple = "4245/2",
	  .parent = 2,
	  .pgid = { 4245, 2 },
	  .sid = { 4244, 1 },
	  .path = "/bin/echo",
	  .argv = argv_echo,
	  .envp = envp_one },
	{ .tuple = "4246/3",
	  .parent = 2,
	  .pgid = { 4246, 3 },
	  .sid = { 4242, 0 }, /* the root's session, not visible in the new namespace */
	  .path = "/usr/bin/env",
	  .argv = argv_one,
	  .envp = envp_none },
	{ .tuple = "4247/4/1",
	  .parent = 4,
	  .newpid = true,
	  .pgid = { 4247, 4, 1 },
	  .sid = { 4247, 4, 1 } },
	{ .tuple = "4248",
	  .parent = 1,
	  .pgid = { 4242 },
	  .sid = { 4242 },
	  .path = "relative/prog",
	  .argv = argv_one },
};

static struct pidtuple_tree *sample_tree(void)
{
	return build(sample, ARRAY_SIZE(sample));
}

static bool strv_equal(char *const *a, char *const *b)
{
	if (!a || !b)
		return a == b;
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return !*a && !*b;
}

static bool tuple_same(const struct pidtuple *a, const struct pidtuple *b)
{
	pid_t x[PIDTUPLE_MAX_LEVELS], y[PIDTUPLE_MAX_LEVELS];
	int n;

	if (!a || !b)
		return a == b;
	/* pidtuple_equal() would do, but it is not meant for tuples with 0 levels. */
	n = pidtuple_to_outer(a, x, PIDTUPLE_MAX_LEVELS);
	return n == pidtuple_to_outer(b, y, PIDTUPLE_MAX_LEVELS) &&
	       memcmp(x, y, (size_t)n * sizeof(pid_t)) == 0;
}

static void assert_trees_equal(const struct pidtuple_tree *a, const struct pidtuple_tree *b)
{
	int n = pidtuple_tree_size(a);

	ck_assert_int_eq(pidtuple_tree_size(b), n);
	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, x);
		PIDTUPLE_OPTS(pidtuple_node, y);

		ck_assert_int_eq(pidtuple_tree_get(a, (unsigned int)i, &x), 0);
		ck_assert_int_eq(pidtuple_tree_get(b, (unsigned int)i, &y), 0);
		ck_assert_msg(x.flags == y.flags && x.parent == y.parent && x.kind == y.kind,
			      "node %d differs", i);
		ck_assert_msg(tuple_same(x.tuple, y.tuple), "node %d: tuple", i);
		ck_assert_msg(tuple_same(x.pgid, y.pgid), "node %d: pgid", i);
		ck_assert_msg(tuple_same(x.sid, y.sid), "node %d: sid", i);
		ck_assert_msg((!x.path && !y.path) || (x.path && y.path && !strcmp(x.path, y.path)),
			      "node %d: path", i);
		ck_assert_msg(strv_equal(x.argv, y.argv), "node %d: argv", i);
		ck_assert_msg(strv_equal(x.envp, y.envp), "node %d: env", i);
		ck_assert_msg(x.nthreads == y.nthreads, "node %d: %u threads, %u", i, x.nthreads,
			      y.nthreads);
		for (uint32_t k = 0; k < x.nthreads; k++)
			ck_assert_msg(tuple_same(x.threads[k], y.threads[k]), "node %d thread %u",
				      i, k);
	}
}

static char *to_json(const struct pidtuple_tree *tree, uint32_t flags)
{
	char *text = NULL;

	ck_assert_int_eq(pidtuple_tree_to_json(tree, flags, &text), 0);
	ck_assert_ptr_nonnull(text);
	return text;
}

static struct pidtuple_tree *from_json(const char *text)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_tree *tree = NULL;
	int r = pidtuple_tree_from_json(text, &tree, &d);

	ck_assert_msg(r == 0, "from_json: %d: %s", r, d.message);
	ck_assert_int_eq(d.err, 0);
	ck_assert_int_eq(d.node, -1);
	ck_assert_str_eq(d.message, "");
	return tree;
}

/* tree -> json -> tree -> json gives the same bytes and the same tree. */
static void assert_round_trip(const struct pidtuple_tree *tree, uint32_t flags)
{
	char *a = to_json(tree, flags), *b;
	struct pidtuple_tree *back = from_json(a);

	b = to_json(back, flags);
	ck_assert_str_eq(a, b);
	assert_trees_equal(tree, back);
	pidtuple_tree_free(back);
	free(a);
	free(b);
}

/* ---- writing and round trips ---------------------------------------------------------- */

START_TEST(test_round_trip_sample)
{
	struct pidtuple_tree *tree = sample_tree();

	assert_round_trip(tree, 0);
	assert_round_trip(tree, PIDTUPLE_JSON_PRETTY);
	pidtuple_tree_free(tree);
}
END_TEST

START_TEST(test_round_trip_empty)
{
	struct pidtuple_tree *tree = build(NULL, 0);
	char *text = to_json(tree, 0);

	ck_assert_str_eq(text, HEAD TAIL);
	free(text);
	text = to_json(tree, PIDTUPLE_JSON_PRETTY);
	ck_assert_str_eq(text, "{\n  \"format\": \"libpidtuple-tree\",\n  \"version\": 1,\n"
			       "  \"nodes\": []\n}");
	free(text);
	assert_round_trip(tree, 0);
	pidtuple_tree_free(tree);
}
END_TEST

/* The format itself, byte for byte: docs/tree-json.md shows these. */
START_TEST(test_canonical_text)
{
	const struct spec s[] = {
		{ .tuple = "4242/17/1",
		  .parent = -1,
		  .pgid = { 4242, 17, 1 },
		  .sid = { 4242, 17, 1 } },
		{ .tuple = "4243/18/2", .parent = 0 },
		{ .tuple = "4244/19/3/1",
		  .parent = 1,
		  .newpid = true,
		  .pgid = { 4244, 19, 3, 1 },
		  .sid = { 4244, 19, 3, 1 },
		  .path = "/bin/sleep",
		  .argv = argv_sleep,
		  .envp = envp_slash },
	};
	struct pidtuple_tree *tree = build(s, ARRAY_SIZE(s));
	char *text = to_json(tree, 0);

	ck_assert_str_eq(
		text,
		HEAD "{\"tuple\":\"4242/17/1\",\"parent\":-1,\"newpid\":false,\"pgid\":[4242,17,1],"
		     "\"sid\":[4242,17,1],\"kind\":\"hold\"},"
		     "{\"tuple\":\"4243/18/2\",\"parent\":0,\"newpid\":false,\"kind\":\"hold\"},"
		     "{\"tuple\":\"4244/19/3/1\",\"parent\":1,\"newpid\":true,"
		     "\"pgid\":[4244,19,3,1],\"sid\":[4244,19,3,1],\"kind\":\"exec\","
		     "\"exec\":{\"path\":\"/bin/sleep\",\"argv\":[\"sleep\",\"60\"],"
		     "\"env\":[\"A=b/c\"]}}" TAIL);
	free(text);
	text = to_json(tree, PIDTUPLE_JSON_PRETTY);
	ck_assert_str_eq(text, "{\n"
			       "  \"format\": \"libpidtuple-tree\",\n"
			       "  \"version\": 1,\n"
			       "  \"nodes\": [\n"
			       "    {\n"
			       "      \"tuple\": \"4242/17/1\",\n"
			       "      \"parent\": -1,\n"
			       "      \"newpid\": false,\n"
			       "      \"pgid\": [4242, 17, 1],\n"
			       "      \"sid\": [4242, 17, 1],\n"
			       "      \"kind\": \"hold\"\n"
			       "    },\n"
			       "    {\n"
			       "      \"tuple\": \"4243/18/2\",\n"
			       "      \"parent\": 0,\n"
			       "      \"newpid\": false,\n"
			       "      \"kind\": \"hold\"\n"
			       "    },\n"
			       "    {\n"
			       "      \"tuple\": \"4244/19/3/1\",\n"
			       "      \"parent\": 1,\n"
			       "      \"newpid\": true,\n"
			       "      \"pgid\": [4244, 19, 3, 1],\n"
			       "      \"sid\": [4244, 19, 3, 1],\n"
			       "      \"kind\": \"exec\",\n"
			       "      \"exec\": {\n"
			       "        \"path\": \"/bin/sleep\",\n"
			       "        \"argv\": [\n"
			       "          \"sleep\",\n"
			       "          \"60\"\n"
			       "        ],\n"
			       "        \"env\": [\n"
			       "          \"A=b/c\"\n"
			       "        ]\n"
			       "      }\n"
			       "    }\n"
			       "  ]\n"
			       "}");
	free(text);
	pidtuple_tree_free(tree);
}
END_TEST

/* Hand-written text in another member order, with "newpid" left out, reads the same. */
START_TEST(test_member_order_and_defaults)
{
	static const char text[] =
		"{ \"nodes\" : [ { \"kind\" : \"hold\", \"parent\" : -1, \"tuple\" : \"7\" },\n"
		"\t{\"exec\": {\"env\": [], \"argv\": [\"a\"], \"path\": \"/a\"}, \"newpid\": "
		"true,\n"
		"\t \"kind\": \"exec\", \"parent\": 0, \"tuple\": \"8/1\"} ],\r\n"
		" \"version\" : 1, \"format\" : \"libpidtuple-tree\" }\n";
	struct pidtuple_tree *tree = from_json(text);
	char *out = to_json(tree, 0);

	ck_assert_str_eq(out, HEAD "{\"tuple\":\"7\",\"parent\":-1,\"newpid\":false,\"kind\":"
				   "\"hold\"},{\"tuple\":\"8/1\",\"parent\":0,\"newpid\":true,"
				   "\"kind\":\"exec\",\"exec\":{\"path\":\"/a\",\"argv\":[\"a\"],"
				   "\"env\":[]}}" TAIL);
	free(out);
	pidtuple_tree_free(tree);
}
END_TEST

/*
 * PGID and SID tuples hold 0 at the inner levels where the group or session is not visible
 * (a session made outside a namespace, as pidtuple_read() reports it).
 */
START_TEST(test_zero_levels)
{
	static const char text[] =
		HEAD "{\"tuple\":\"50/1\",\"parent\":-1,\"newpid\":true,\"pgid\":[50,0],"
		     "\"sid\":[50,0],\"kind\":\"hold\"}" TAIL;
	struct pidtuple_tree *tree = from_json(text);
	char *out = to_json(tree, 0);

	ck_assert_str_eq(out, text);
	free(out);
	pidtuple_tree_free(tree);
}
END_TEST

/*
 * A session made above the capturing process's namespace is 0 at every level, and
 * pidtuple_tree_capture() records it so (a shell's session around `unshare --pid --fork`).
 * What capture writes must read back.
 */
START_TEST(test_all_zero_levels)
{
	static const char text[] =
		HEAD "{\"tuple\":\"50/1\",\"parent\":-1,\"newpid\":true,\"pgid\":[0,0],"
		     "\"sid\":[0,0],\"kind\":\"hold\"}" TAIL;
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_tree *tree = NULL;
	char *out;
	int r = pidtuple_tree_from_json(text, &tree, &d);

	ck_assert_msg(r == 0, "an all-0 SID, as capture records it, does not read back: %d: %s", r,
		      d.message);
	out = to_json(tree, 0);
	ck_assert_str_eq(out, text);
	free(out);
	pidtuple_tree_free(tree);
}
END_TEST

/* 10,000 nodes three levels deep: the size a big container has; fast both ways. */
START_TEST(test_big_tree)
{
	struct pidtuple_tree *tree = NULL, *back;
	struct timespec t0, t1;
	char *text, *again;
	double ms;

	ck_assert_int_eq(pidtuple_tree_new(&tree), 0);
	for (int i = 0; i < 10000; i++) {
		PIDTUPLE_OPTS(pidtuple_node, node, .parent = i ? (i - 1) / 4 : -1);
		pid_t outer[3] = { 1000 + i, 2000 + i, 3000 + i };
		struct pidtuple *t, *g;

		ck_assert_int_eq(pidtuple_from_outer(outer, 3, &t), 0);
		outer[1] = outer[2] = 7;
		ck_assert_int_eq(pidtuple_from_outer(outer, 3, &g), 0);
		node.tuple = t;
		node.pgid = g;
		node.sid = g;
		ck_assert_int_eq(pidtuple_tree_add(tree, &node), i);
		pidtuple_free(t);
		pidtuple_free(g);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	text = to_json(tree, PIDTUPLE_JSON_PRETTY);
	back = from_json(text);
	again = to_json(back, PIDTUPLE_JSON_PRETTY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	ck_assert_str_eq(text, again);
	ck_assert_msg(strlen(text) < PIDTUPLE_JSON_MAX_TEXT / 3, "%zu bytes", strlen(text));
	fprintf(stderr, "big tree: 10000 nodes, %zu bytes pretty, write+read+write %.0f ms\n",
		strlen(text), ms);
	free(text);
	free(again);
	pidtuple_tree_free(back);
	pidtuple_tree_free(tree);
}
END_TEST

START_TEST(test_to_json_refuses)
{
	PIDTUPLE_OPTS(pidtuple_node, node, .parent = -1);
	struct pidtuple_tree *tree = NULL, *bad = NULL;
	char *text = SENTINEL_TEXT;
	struct pidtuple *t = tup("9");

	ck_assert_int_eq(pidtuple_tree_new(&tree), 0);
	ck_assert_int_eq(pidtuple_tree_to_json(NULL, 0, &text), -EINVAL);
	ck_assert_int_eq(pidtuple_tree_to_json(tree, 0, NULL), -EINVAL);
	ck_assert_int_eq(pidtuple_tree_to_json(tree, 1u << 1, &text), -EINVAL);
	ck_assert_int_eq(pidtuple_tree_to_json(tree, ~0u, &text), -EINVAL);
	ck_assert_ptr_eq(text, SENTINEL_TEXT);

	/* A callback node: a function has no text form. */
	node.tuple = t;
	node.kind = PIDTUPLE_NODE_CALLBACK;
	node.fn = (int (*)(void *))abort;
	ck_assert_int_eq(pidtuple_tree_new(&bad), 0);
	ck_assert_int_eq(pidtuple_tree_add(bad, &node), 0);
	ck_assert_int_eq(pidtuple_tree_to_json(bad, 0, &text), -EINVAL);
	ck_assert_ptr_eq(text, SENTINEL_TEXT);
	pidtuple_tree_free(bad);

	/* A path that is not UTF-8 cannot be JSON text. */
	node.kind = PIDTUPLE_NODE_EXEC;
	node.fn = NULL;
	node.path = "/bin/\xff";
	node.argv = argv_one;
	ck_assert_int_eq(pidtuple_tree_new(&bad), 0);
	ck_assert_int_eq(pidtuple_tree_add(bad, &node), 0);
	ck_assert_int_eq(pidtuple_tree_to_json(bad, 0, &text), -EINVAL);
	pidtuple_tree_free(bad);
	node.path = "/bin/x";
	node.argv = (char *const[]){ "x", "\xc0\xaf", NULL }; /* an overlong '/' */
	ck_assert_int_eq(pidtuple_tree_new(&bad), 0);
	ck_assert_int_eq(pidtuple_tree_add(bad, &node), 0);
	ck_assert_int_eq(pidtuple_tree_to_json(bad, 0, &text), -EINVAL);
	ck_assert_ptr_eq(text, SENTINEL_TEXT);
	pidtuple_tree_free(bad);

	pidtuple_free(t);
	pidtuple_tree_free(tree);
}
END_TEST

/* ---- reading: every kind of bad input -------------------------------------------------- */

struct bad {
	const char *text;
	int err;
	uint32_t rule;
	int node;	 /* diag.node */
	const char *msg; /* the message starts with this */
	int text_pos;	 /* -2: do not check */
};

#define N(...) HEAD __VA_ARGS__ TAIL
#define R1(...) HEAD ROOT "," __VA_ARGS__ TAIL /* a second node after ROOT */
#define SYN PIDTUPLE_RULE_SYNTAX
#define SHAPE PIDTUPLE_RULE_TREE_SHAPE

static const struct bad bad_inputs[] = {
	/* not JSON, or not all of it */
	{ "", -EINVAL, SYN, -1, "not valid JSON at line 1, column 1: the text ends", 0 },
	{ "   \n\t", -EINVAL, SYN, -1, "not valid JSON at line 2, column 2: the text ends", 5 },
	{ "not json", -EINVAL, SYN, -1, "not valid JSON at line 1, column 2: null expected", 1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":1,\"nod", -EINVAL, SYN, -1,
	  "not valid JSON at line 1, column 46: the text ends inside a value", 45 },
	{ HEAD ROOT, -EINVAL, SYN, -1, "not valid JSON", -2 },
	{ N(ROOT) " x", -EINVAL, SYN, -1, "not valid JSON", -2 },
	{ N(ROOT) "{}", -EINVAL, SYN, -1, "not valid JSON", -2 },
	{ "{\"format\":\"libpidtuple-tree\",\n\"version\":1,\n\"nodes\":[,]}", -EINVAL, SYN, -1,
	  "not valid JSON at line 3, column 10:", 52 },
	{ N(ROOT ","), -EINVAL, SYN, -1, "not valid JSON", -2 },
	{ "/* c */" N(ROOT), -EINVAL, SYN, -1, "not valid JSON at line 1, column 1", 0 },
	{ N("{'tuple':\"100\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, -1,
	  "not valid JSON at line 1, column 52: a single-quoted string", 51 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"ho\tld\"}"), -EINVAL, SYN, -1,
	  "not valid JSON at line 1, column 88: a raw control character", 87 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"hold\",\"x\":NaN}"), -EINVAL, SYN, 0,
	  "nodes[0].x: unknown member", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":0x1,\"kind\":\"hold\"}"), -EINVAL, SYN, -1,
	  "not valid JSON", -2 },
	{ N("{\"tuple\":\"\xff\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, -1,
	  "not valid JSON at line 1, column 61: invalid utf-8", 60 },
	{ "null", -EINVAL, SYN, -1, "(document): null, not a JSON object", -1 },
	{ "[]", -EINVAL, SYN, -1, "(document): expected an object, got an array", -1 },
	{ "\"libpidtuple-tree\"", -EINVAL, SYN, -1, "(document): expected an object", -1 },
	{ "17", -EINVAL, SYN, -1, "(document): expected an object, got an integer", -1 },
	/* a key twice in one object: json-c would keep the last silently */
	{ "{\"format\":\"libpidtuple-tree\",\"version\":2,\"version\":1,\"nodes\":[]}", -EINVAL,
	  SYN, -1, "(document): an object names the same member twice", 0 },
	{ N(ROOT ",{\"tuple\":\"101\",\"parent\":0,\"kind\":\"hold\",\"parent\":0}"), -EINVAL, SYN,
	  -1, "nodes[1]: an object names the same member twice", 92 },
	{ N("{\"tuple\":\"7\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":[\"a\"],\"path\":\"/b\"}}"),
	  -EINVAL, SYN, -1, "nodes[0].exec: an object names the same member twice", 96 },
	{ HEAD "],\"a\\nb\":{\"x\":1,\"x\":2}}", -EINVAL, SYN, -1,
	  "a?b: an object names the same member twice", 59 },
	/* nested too deep, or a memory bomb for json-c */
	{ N("{\"tuple\":\"7\",\"parent\":-1,\"kind\":\"hold\",\"x\":[[[[[[1]]]]]]}"), -EINVAL, SYN,
	  -1, "not valid JSON at line 1, column ", -2 },
	{ N("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}"), -EINVAL, SYN, -1,
	  "19 objects and 1 arrays in 105 bytes: more than a tree", -1 },
	/* format and version */
	{ "{\"version\":1,\"nodes\":[]}", -EINVAL, SYN, -1, "format: missing", -1 },
	{ "{\"format\":\"criu-tree\",\"version\":1,\"nodes\":[]}", -EINVAL, SYN, -1,
	  "format: \"criu-tree\" is not \"libpidtuple-tree\"", -1 },
	{ "{\"format\":1,\"version\":1,\"nodes\":[]}", -EINVAL, SYN, -1,
	  "format: 1 is not \"libpidtuple-tree\"", -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"nodes\":[]}", -EINVAL, SYN, -1, "version: missing",
	  -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":3,\"nodes\":[],\"new\":1}", -EINVAL, SYN,
	  -1, "version: 3 is not supported (this libpidtuple-json reads versions 1..2)", -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":0,\"nodes\":[]}", -EINVAL, SYN, -1,
	  "version: 0 is not supported", -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":\"1\",\"nodes\":[]}", -EINVAL, SYN, -1,
	  "version: expected an integer, got a string", -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":1.0,\"nodes\":[]}", -EINVAL, SYN, -1,
	  "version: expected an integer, got a number with a fraction", -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":18446744073709551617,\"nodes\":[]}",
	  -EINVAL, SYN, -1, "version: ", -1 },
	/* the document's members */
	{ "{\"format\":\"libpidtuple-tree\",\"version\":1}", -EINVAL, SYN, -1, "nodes: missing",
	  -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":1,\"nodes\":{}}", -EINVAL, SYN, -1,
	  "nodes: expected an array, got an object", -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":1,\"nodes\":[],\"comment\":\"\"}", -EINVAL,
	  SYN, -1, "comment: unknown member", -1 },
	{ "{\"format\":\"libpidtuple-tree\",\"version\":1,\"nodes\":[],\"a\\nb\":0}", -EINVAL, SYN,
	  -1, "a?b: unknown member", -1 },
	{ N(ROOT ",[]"), -EINVAL, SYN, 1, "nodes[1]: expected an object, got an array", -1 },
	/* a node's members */
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"hold\",\"colour\":\"red\"}"), -EINVAL, SYN,
	  0, "nodes[0].colour: unknown member", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1}"), -EINVAL, SYN, 0, "nodes[0].kind: missing", -1 },
	{ N("{\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0, "nodes[0].tuple: missing", -1 },
	{ N("{\"tuple\":\"100\",\"kind\":\"hold\"}"), -EINVAL, SYN, 0, "nodes[0].parent: missing",
	  -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"zombie\"}"), -EINVAL, SYN, 0,
	  "nodes[0].kind: \"zombie\" is not \"hold\" or \"exec\"", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"callback\"}"), -EINVAL, SYN, 0,
	  "nodes[0].kind: \"callback\" has no JSON form", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":0}"), -EINVAL, SYN, 0,
	  "nodes[0].kind: expected a string, got an integer", -1 },
	{ N("{\"tuple\":100,\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: expected a string such as \"4242/17/1\", got an integer", -1 },
	{ N("{\"tuple\":[100],\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: expected a string", -1 },
	{ N("{\"tuple\":\"\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: \"\" is not a PID tuple: ", -1 },
	{ N("{\"tuple\":\"4242/0\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: \"4242/0\" is not a PID tuple: ", -1 },
	{ N("{\"tuple\":\"-1\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: \"-1\" is not a PID tuple", -1 },
	{ N("{\"tuple\":\"2147483648\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: \"2147483648\" is not a PID tuple", -1 },
	{ N("{\"tuple\":\"1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/23/24/25/26/"
	    "27/28/29/30/31/32/33\",\"parent\":-1,\"kind\":\"hold\"}"),
	  -EINVAL, PIDTUPLE_RULE_LEVEL_COUNT, 0, "nodes[0].tuple: \"1/2/3/4/5/6/7/8/9/10/11/12/13/",
	  -1 },
	{ N("{\"tuple\":\"4242\\t17\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: \"4242\\t17\": write it as \"4242/17\"", -1 },
	{ N("{\"tuple\":\"NSpid:\\t4242\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: \"NSpid:\\t4242\": write it as \"4242\"", -1 },
	{ N("{\"tuple\":\"4242\\n\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: \"4242\\n\": write it as \"4242\"", -1 },
	{ N("{\"tuple\":\"42\\u000042\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].tuple: contains a NUL character", -1 },
	/* parents */
	{ N("{\"tuple\":\"100\",\"parent\":\"-1\",\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].parent: expected an integer, got a string", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":null,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].parent: expected an integer, got null", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-2,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].parent: -2 is out of range (-1..2147483647)", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":99999999999999999999,\"kind\":\"hold\"}"), -EINVAL, SYN,
	  0, "nodes[0].parent: a huge number is out of range", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-99999999999999999999,\"kind\":\"hold\"}"), -EINVAL, SYN,
	  0, "nodes[0].parent: a huge number is out of range", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":2147483648,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].parent: 2147483648 is out of range", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":0,\"kind\":\"hold\"}"), -EINVAL, SHAPE, 0,
	  "nodes[0].parent: 0, but the first node is the root: its parent is -1", -1 },
	{ R1("{\"tuple\":\"101\",\"parent\":-1,\"kind\":\"hold\"}"), -EINVAL, SHAPE, 1,
	  "nodes[1].parent: -1 is not an earlier node (0..0)", -1 },
	{ R1("{\"tuple\":\"101\",\"parent\":1,\"kind\":\"hold\"}"), -EINVAL, SHAPE, 1,
	  "nodes[1].parent: 1 is not an earlier node (0..0)", -1 },
	{ R1("{\"tuple\":\"101\",\"parent\":2,\"kind\":\"hold\"}"), -EINVAL, SHAPE, 1,
	  "nodes[1].parent: 2 is not an earlier node", -1 },
	{ R1("{\"tuple\":\"101\",\"parent\":2147483647,\"kind\":\"hold\"}"), -EINVAL, SHAPE, 1,
	  "nodes[1].parent: 2147483647 is not an earlier node", -1 },
	/* levels and namespaces */
	{ R1("{\"tuple\":\"101/5\",\"parent\":0,\"kind\":\"hold\"}"), -EINVAL, SHAPE, 1,
	  "nodes[1].tuple: 2 levels, but its parent (node 0) has 1", -1 },
	{ R1("{\"tuple\":\"101\",\"parent\":0,\"newpid\":true,\"kind\":\"hold\"}"), -EINVAL, SHAPE,
	  1, "nodes[1].tuple: 1 levels, but its parent (node 0) has 1, and newpid adds one", -1 },
	{ R1("{\"tuple\":\"101/2\",\"parent\":0,\"newpid\":true,\"kind\":\"hold\"}"), -EINVAL,
	  PIDTUPLE_RULE_NEWPID_ONE, 1, "nodes[1].tuple: a newpid node is PID 1", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"newpid\":1,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].newpid: expected true or false, got an integer", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"newpid\":\"false\",\"kind\":\"hold\"}"), -EINVAL,
	  SYN, 0, "nodes[0].newpid: expected true or false, got a string", -1 },
	/* process groups and sessions */
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"pgid\":[100],\"kind\":\"hold\"}"), -EINVAL,
	  PIDTUPLE_RULE_LEVEL_COUNT, 0, "nodes[0].pgid: 1 levels, but the node's tuple has 2", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"sid\":[100,1],\"kind\":\"hold\"}"), -EINVAL,
	  PIDTUPLE_RULE_LEVEL_COUNT, 0, "nodes[0].sid: 2 levels, but the node's tuple has 1", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"sid\":[],\"kind\":\"hold\"}"), -EINVAL,
	  PIDTUPLE_RULE_LEVEL_COUNT, 0, "nodes[0].sid: 0 levels", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"pgid\":\"100\",\"kind\":\"hold\"}"), -EINVAL, SYN,
	  0, "nodes[0].pgid: expected an array of PIDs, outermost first, got a string", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"pgid\":null,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	  "nodes[0].pgid: expected an array", -1 },
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"pgid\":[100,-1],\"kind\":\"hold\"}"), -EINVAL,
	  SYN, 0, "nodes[0].pgid[1]: -1 is out of range (0..2147483647)", -1 },
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"pgid\":[100,\"2\"],\"kind\":\"hold\"}"), -EINVAL,
	  SYN, 0, "nodes[0].pgid[1]: expected an integer, got a string", -1 },
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"pgid\":[100,2.0],\"kind\":\"hold\"}"), -EINVAL,
	  SYN, 0, "nodes[0].pgid[1]: expected an integer", -1 },
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"sid\":[1e2,2],\"kind\":\"hold\"}"), -EINVAL, SYN,
	  0, "nodes[0].sid[0]: expected an integer", -1 },
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"sid\":[100,12345678901234567890123],"
	    "\"kind\":\"hold\"}"),
	  -EINVAL, SYN, 0, "nodes[0].sid[1]: a huge number is out of range", -1 },
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"sid\":[0,2],\"kind\":\"hold\"}"), -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP, 0, "nodes[0].sid[1]: 2 inside a level where it is 0", -1 },
	{ N("{\"tuple\":\"100/2\",\"parent\":-1,\"sid\":[[100],[2]],\"kind\":\"hold\"}"), -EINVAL,
	  SYN, 0, "nodes[0].sid[0]: expected an integer, got an array", -1 },
	/* exec */
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"hold\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":[\"a\"]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec: only an \"exec\" node has one", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\"}"), -EINVAL, SYN, 0,
	  "nodes[0].exec: missing", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":\"/bin/true\"}"), -EINVAL,
	  SYN, 0, "nodes[0].exec: expected an object, got a string", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"argv\":[\"a\"]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.path: missing", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"\","
	    "\"argv\":[\"a\"]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.path: empty", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\\u0000b\","
	    "\"argv\":[\"a\"]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.path: contains a NUL character", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":[\"/a\"],"
	    "\"argv\":[\"a\"]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.path: expected a string, got an array", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\"}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.argv: missing", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":[]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.argv: empty: argv[0] is needed", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":\"a\"}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.argv: expected an array of strings, got a string", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":[\"a\",null]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.argv[1]: expected a string, got null", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":[\"a\"],\"env\":[\"A=1\",2]}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.env[1]: expected a string, got an integer", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":[\"a\"],\"env\":null}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.env: expected an array of strings, got null", -1 },
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/a\","
	    "\"argv\":[\"a\"],\"cwd\":\"/\"}}"),
	  -EINVAL, SYN, 0, "nodes[0].exec.cwd: unknown member", -1 },
	/* the node's index is the failing one, not the first */
	{ N(ROOT ",{\"tuple\":\"101\",\"parent\":0,\"kind\":\"hold\"},"
		 "{\"tuple\":\"102\",\"parent\":1,\"kind\":\"hold\",\"pgid\":[1,2]}"),
	  -EINVAL, PIDTUPLE_RULE_LEVEL_COUNT, 2, "nodes[2].pgid: 2 levels", -1 },
};

static void expect_bad_thread(const char *text, int err, uint32_t rule, int node, int thread,
			      const char *msg, int text_pos, const char *what)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_tree *tree = SENTINEL_TREE;
	int r;

	r = pidtuple_tree_from_json(text, &tree, &d);
	ck_assert_msg(r == err, "%s: got %d (%s), want %d", what, r, d.message, err);
	ck_assert_ptr_eq(tree, SENTINEL_TREE);
	ck_assert_msg(d.err == err, "%s: diag.err %d", what, d.err);
	ck_assert_msg(d.rule == rule, "%s: rule %s, want %s (%s)", what, pidtuple_rule_name(d.rule),
		      pidtuple_rule_name(rule), d.message);
	ck_assert_msg(d.node == node, "%s: node %d, want %d (%s)", what, d.node, node, d.message);
	ck_assert_msg(d.thread == thread, "%s: thread %d, want %d (%s)", what, d.thread, thread,
		      d.message);
	ck_assert_msg(strncmp(d.message, msg, strlen(msg)) == 0, "%s: message '%s', want '%s...'",
		      what, d.message, msg);
	ck_assert_msg(!strchr(d.message, '\n'), "%s: message on more than one line", what);
	if (text_pos != -2)
		ck_assert_msg(d.text_pos == text_pos, "%s: text_pos %d, want %d", what, d.text_pos,
			      text_pos);
	/* No diag at all: the same verdict. */
	tree = SENTINEL_TREE;
	ck_assert_int_eq(pidtuple_tree_from_json(text, &tree, NULL), err);
	ck_assert_ptr_eq(tree, SENTINEL_TREE);
}

static void expect_bad(const char *text, int err, uint32_t rule, int node, const char *msg,
		       int text_pos, const char *what)
{
	expect_bad_thread(text, err, rule, node, -1, msg, text_pos, what);
}

/* Row @i of the table named @table. */
static void expect_bad_row(const struct bad *b, const char *table, int i)
{
	char what[64];

	snprintf(what, sizeof(what), "%s[%d]", table, i);
	expect_bad(b->text, b->err, b->rule, b->node, b->msg, b->text_pos, what);
}

START_TEST(test_bad_input)
{
	expect_bad_row(&bad_inputs[_i], "bad_inputs", _i);
}
END_TEST

/* Every proper prefix of a valid document is invalid, and says so without crashing. */
START_TEST(test_every_truncation)
{
	struct pidtuple_tree *tree = sample_tree();
	char *text = to_json(tree, PIDTUPLE_JSON_PRETTY), *cut;
	size_t len = strlen(text);

	/* The text ends in '}': every shorter prefix lacks it. */
	cut = malloc(len + 1);
	ck_assert_ptr_nonnull(cut);
	for (size_t n = 0; n < len; n++) {
		PIDTUPLE_OPTS(pidtuple_diag, d);
		struct pidtuple_tree *t = SENTINEL_TREE;

		memcpy(cut, text, n);
		cut[n] = '\0';
		ck_assert_msg(pidtuple_tree_from_json(cut, &t, &d) == -EINVAL, "prefix %zu", n);
		ck_assert_ptr_eq(t, SENTINEL_TREE);
		ck_assert_int_eq(d.rule, PIDTUPLE_RULE_SYNTAX);
	}
	free(cut);
	free(text);
	pidtuple_tree_free(tree);
}
END_TEST

START_TEST(test_null_arguments)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_tree *tree = SENTINEL_TREE;

	ck_assert_int_eq(pidtuple_tree_from_json(NULL, &tree, &d), -EINVAL);
	ck_assert_int_eq(d.err, -EINVAL);
	ck_assert_str_eq(d.message, "NULL argument");
	ck_assert_ptr_eq(tree, SENTINEL_TREE);
	ck_assert_int_eq(pidtuple_tree_from_json(HEAD TAIL, NULL, &d), -EINVAL);
}
END_TEST

/* A diag from an older, smaller header is written only as far as its sz reaches. */
START_TEST(test_small_diag)
{
	union {
		struct pidtuple_diag d;
		unsigned char bytes[sizeof(struct pidtuple_diag)];
	} u;
	const size_t small = offsetof(struct pidtuple_diag, message);
	struct pidtuple_tree *tree = SENTINEL_TREE;

	memset(&u, 0xa5, sizeof(u));
	u.d.sz = small;
	ck_assert_int_eq(pidtuple_tree_from_json("[]", &tree, &u.d), -EINVAL);
	ck_assert_int_eq(u.d.err, -EINVAL);
	ck_assert_int_eq(u.d.rule, PIDTUPLE_RULE_SYNTAX);
	for (size_t i = small; i < sizeof(u); i++)
		ck_assert_msg(u.bytes[i] == 0xa5, "byte %zu beyond sz written", i);
	/* sz too small to hold even itself: ignored. */
	memset(&u, 0xa5, sizeof(u));
	u.d.sz = 4;
	ck_assert_int_eq(pidtuple_tree_from_json("[]", &tree, &u.d), -EINVAL);
	for (size_t i = sizeof(size_t); i < sizeof(u); i++)
		ck_assert_int_eq(u.bytes[i], 0xa5);
}
END_TEST

/* ---- threads (format version 2) ------------------------------------------------------- */

/* A process with two more threads, a namespace init with one, an exec node without any. */
static const struct spec with_threads[] = {
	{ .tuple = "4242",
	  .parent = -1,
	  .pgid = { 4242 },
	  .sid = { 4242 },
	  .threads = { "4250", "4251" } },
	{ .tuple = "4243/1", .parent = 0, .newpid = true, .threads = { "4252/2" } },
	{ .tuple = "4244/3", .parent = 1, .path = "/bin/sleep", .argv = argv_sleep },
};

/* The format with threads, byte for byte: docs/tree-json.md shows the pretty form. */
START_TEST(test_threads_canonical)
{
	struct pidtuple_tree *tree = build(with_threads, ARRAY_SIZE(with_threads));
	char *text = to_json(tree, 0);

	ck_assert_str_eq(text,
			 HEAD2 "{\"tuple\":\"4242\",\"parent\":-1,\"newpid\":false,"
			       "\"pgid\":[4242],\"sid\":[4242],\"threads\":[\"4250\",\"4251\"],"
			       "\"kind\":\"hold\"},"
			       "{\"tuple\":\"4243/1\",\"parent\":0,\"newpid\":true,"
			       "\"threads\":[\"4252/2\"],\"kind\":\"hold\"},"
			       "{\"tuple\":\"4244/3\",\"parent\":1,\"newpid\":false,"
			       "\"kind\":\"exec\",\"exec\":{\"path\":\"/bin/sleep\","
			       "\"argv\":[\"sleep\",\"60\"]}}" TAIL);
	free(text);
	text = to_json(tree, PIDTUPLE_JSON_PRETTY);
	ck_assert_str_eq(text, "{\n"
			       "  \"format\": \"libpidtuple-tree\",\n"
			       "  \"version\": 2,\n"
			       "  \"nodes\": [\n"
			       "    {\n"
			       "      \"tuple\": \"4242\",\n"
			       "      \"parent\": -1,\n"
			       "      \"newpid\": false,\n"
			       "      \"pgid\": [4242],\n"
			       "      \"sid\": [4242],\n"
			       "      \"threads\": [\n"
			       "        \"4250\",\n"
			       "        \"4251\"\n"
			       "      ],\n"
			       "      \"kind\": \"hold\"\n"
			       "    },\n"
			       "    {\n"
			       "      \"tuple\": \"4243/1\",\n"
			       "      \"parent\": 0,\n"
			       "      \"newpid\": true,\n"
			       "      \"threads\": [\n"
			       "        \"4252/2\"\n"
			       "      ],\n"
			       "      \"kind\": \"hold\"\n"
			       "    },\n"
			       "    {\n"
			       "      \"tuple\": \"4244/3\",\n"
			       "      \"parent\": 1,\n"
			       "      \"newpid\": false,\n"
			       "      \"kind\": \"exec\",\n"
			       "      \"exec\": {\n"
			       "        \"path\": \"/bin/sleep\",\n"
			       "        \"argv\": [\n"
			       "          \"sleep\",\n"
			       "          \"60\"\n"
			       "        ]\n"
			       "      }\n"
			       "    }\n"
			       "  ]\n"
			       "}");
	free(text);
	assert_round_trip(tree, 0);
	assert_round_trip(tree, PIDTUPLE_JSON_PRETTY);
	pidtuple_tree_free(tree);
}
END_TEST

/*
 * Version 2 only where it is needed: a tree without threads is written as version 1, so that
 * older readers keep reading it. Both versions are read; a version 2 document without threads
 * (or with an empty list) comes back as version 1.
 */
START_TEST(test_threads_version)
{
	static const char v2[] = HEAD2 ROOT ",{\"tuple\":\"101\",\"parent\":0,\"threads\":[],"
					    "\"kind\":\"hold\"}" TAIL;
	struct pidtuple_tree *tree = sample_tree();
	char *text = to_json(tree, 0);

	ck_assert_msg(strncmp(text, HEAD, strlen(HEAD)) == 0, "%s", text);
	free(text);
	pidtuple_tree_free(tree);

	tree = from_json(v2);
	text = to_json(tree, 0);
	ck_assert_str_eq(text, HEAD "{\"tuple\":\"100\",\"parent\":-1,\"newpid\":false,"
				    "\"kind\":\"hold\"},{\"tuple\":\"101\",\"parent\":0,"
				    "\"newpid\":false,\"kind\":\"hold\"}" TAIL);
	free(text);
	pidtuple_tree_free(tree);

	/* Threads on the last node alone still make the whole document version 2. */
	tree = from_json(HEAD2 ROOT ",{\"tuple\":\"101\",\"parent\":0,\"threads\":[\"102\"],"
				    "\"kind\":\"hold\"}" TAIL);
	text = to_json(tree, 0);
	ck_assert_msg(strncmp(text, HEAD2, strlen(HEAD2)) == 0, "%s", text);
	free(text);
	pidtuple_tree_free(tree);

	/* A name makes it version 2 too, and reads back; it follows "threads". */
	static const char named[] =
		HEAD2 "{\"tuple\":\"100\",\"parent\":-1,\"newpid\":false,"
		      "\"threads\":[\"102\"],\"name\":\"sleep\",\"kind\":\"hold\"}" TAIL;
	tree = from_json(named);
	text = to_json(tree, 0);
	ck_assert_str_eq(text, named);
	free(text);
	pidtuple_tree_free(tree);
}
END_TEST

/* Whether a TID is claimed twice is not the text's to say: the tree reads, its check refuses. */
START_TEST(test_threads_left_to_the_check)
{
	PIDTUPLE_OPTS(pidtuple_diag, d);
	struct pidtuple_tree *tree;

	tree = from_json(HEAD2 ROOT
			 ",{\"tuple\":\"101\",\"parent\":0,\"threads\":[\"102\",\"100\"],"
			 "\"kind\":\"hold\"}" TAIL);
	ck_assert_int_eq(pidtuple_tree_check(tree, NULL, &d), -EEXIST);
	ck_assert_int_eq(d.rule, PIDTUPLE_RULE_TREE_DUPLICATE);
	ck_assert_int_eq(d.node, 1);
	ck_assert_int_eq(d.thread, 1);
	pidtuple_tree_free(tree);
}
END_TEST

/* The writer refuses threads the reader would refuse: an exec node's. */
START_TEST(test_threads_writer_refuses)
{
	static const struct spec s[] = {
		{ .tuple = "9",
		  .parent = -1,
		  .path = "/bin/true",
		  .argv = argv_one,
		  .threads = { "10" } },
	};
	struct pidtuple_tree *tree = build(s, ARRAY_SIZE(s));
	char *text = SENTINEL_TEXT;

	ck_assert_int_eq(pidtuple_tree_to_json(tree, 0, &text), -EINVAL);
	ck_assert_ptr_eq(text, SENTINEL_TEXT);
	pidtuple_tree_free(tree);
}
END_TEST

#define N2(...) HEAD2 __VA_ARGS__ TAIL
/* A root of one level whose "threads" is @__VA_ARGS__. */
#define T2(...) \
	N2("{\"tuple\":\"100\",\"parent\":-1,\"threads\":" __VA_ARGS__ ",\"kind\":\"hold\"}")
#define R2(...) HEAD2 ROOT "," __VA_ARGS__ TAIL
#define TSHAPE PIDTUPLE_RULE_TREE_SHAPE

static const struct {
	struct bad b;
	int thread; /* diag.thread */
} bad_threads[] = {
	/* a member of version 2 only: a reader of version 1 would have refused it */
	{ { N("{\"tuple\":\"100\",\"parent\":-1,\"threads\":[\"101\"],\"kind\":\"hold\"}"), -EINVAL,
	    SYN, 0, "nodes[0].threads: new in format version 2; this document is version 1", -1 },
	  -1 },
	{ { N("{\"tuple\":\"100\",\"parent\":-1,\"threads\":[],\"kind\":\"hold\"}"), -EINVAL, SYN,
	    0, "nodes[0].threads: new in format version 2", -1 },
	  -1 },
	/* types */
	{ { T2("\"101\""), -EINVAL, SYN, 0,
	    "nodes[0].threads: expected an array of TID tuples such as \"4243/18/2\", got a string",
	    -1 },
	  -1 },
	{ { T2("{\"0\":\"101\"}"), -EINVAL, SYN, 0,
	    "nodes[0].threads: expected an array of TID tuples such as \"4243/18/2\", got an "
	    "object",
	    -1 },
	  -1 },
	{ { T2("null"), -EINVAL, SYN, 0, "nodes[0].threads: expected an array", -1 }, -1 },
	{ { T2("[\"101\",102]"), -EINVAL, SYN, 0,
	    "nodes[0].threads[1]: expected a string such as \"4242/17/1\", got an integer", -1 },
	  1 },
	{ { T2("[[101]]"), -EINVAL, SYN, 0,
	    "nodes[0].threads[0]: expected a string such as \"4242/17/1\", got an array", -1 },
	  0 },
	{ { T2("[\"101\",\"102\",null]"), -EINVAL, SYN, 0,
	    "nodes[0].threads[2]: expected a string such as \"4242/17/1\", got null", -1 },
	  2 },
	/* tuples, as "tuple" is read */
	{ { T2("[\"\"]"), -EINVAL, SYN, 0, "nodes[0].threads[0]: \"\" is not a PID tuple: ", -1 },
	  0 },
	{ { T2("[\"101\",\"0\"]"), -EINVAL, SYN, 0,
	    "nodes[0].threads[1]: \"0\" is not a PID tuple: ", -1 },
	  1 },
	{ { T2("[\"NSpid:\\t101\"]"), -EINVAL, SYN, 0,
	    "nodes[0].threads[0]: \"NSpid:\\t101\": write it as \"101\"", -1 },
	  0 },
	{ { T2("[\"10\\u00001\"]"), -EINVAL, SYN, 0,
	    "nodes[0].threads[0]: contains a NUL character", -1 },
	  0 },
	{ { T2("[\"1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17/18/19/20/21/22/23/24/25/26/27/28/29/"
	       "30/31/32/33\"]"),
	    -EINVAL, PIDTUPLE_RULE_LEVEL_COUNT, 0, "nodes[0].threads[0]: \"1/2/3/4/5/6/7/", -1 },
	  0 },
	/* a thread lives in its process's namespaces, and only a hold node has threads */
	{ { T2("[\"101/5\"]"), -EINVAL, TSHAPE, 0,
	    "nodes[0].threads[0]: 2 levels, but the node's tuple has 1: a thread lives in its "
	    "process's namespaces",
	    -1 },
	  0 },
	{ { R2("{\"tuple\":\"101/1\",\"parent\":0,\"newpid\":true,\"kind\":\"hold\","
	       "\"threads\":[\"102/2\",\"103/3\",\"104\"]}"),
	    -EINVAL, TSHAPE, 1, "nodes[1].threads[2]: 1 levels, but the node's tuple has 2", -1 },
	  2 },
	{ { R2("{\"tuple\":\"101\",\"parent\":0,\"kind\":\"exec\",\"threads\":[\"102\"],"
	       "\"exec\":{\"path\":\"/a\",\"argv\":[\"a\"]}}"),
	    -EINVAL, TSHAPE, 1,
	    "nodes[1].threads: only a \"hold\" node has threads (execve() would end them)", -1 },
	  -1 },
	/* "name", version 2 too: 1 to 15 bytes, hold nodes only */
	{ { N("{\"tuple\":\"100\",\"parent\":-1,\"name\":\"sh\",\"kind\":\"hold\"}"), -EINVAL, SYN,
	    0, "nodes[0].name: new in format version 2; this document is version 1", -1 },
	  -1 },
	{ { N2("{\"tuple\":\"100\",\"parent\":-1,\"name\":\"sixteen-bytes-xx\",\"kind\":"
	       "\"hold\"}"),
	    -EINVAL, SYN, 0, "nodes[0].name: 16 bytes: a command name has 1 to 15", -1 },
	  -1 },
	{ { N2("{\"tuple\":\"100\",\"parent\":-1,\"name\":\"\",\"kind\":\"hold\"}"), -EINVAL, SYN,
	    0, "nodes[0].name: 0 bytes", -1 },
	  -1 },
	{ { N2("{\"tuple\":\"100\",\"parent\":-1,\"name\":7,\"kind\":\"hold\"}"), -EINVAL, SYN, 0,
	    "nodes[0].name: expected a string", -1 },
	  -1 },
	{ { R2("{\"tuple\":\"101\",\"parent\":0,\"kind\":\"exec\",\"name\":\"a\","
	       "\"exec\":{\"path\":\"/a\",\"argv\":[\"a\"]}}"),
	    -EINVAL, TSHAPE, 1, "nodes[1].name: only a \"hold\" node takes a name", -1 },
	  -1 },
	/* a key twice, as anywhere */
	{ { T2("[\"101\"],\"threads\":[\"102\"]"), -EINVAL, SYN, -1,
	    "nodes[0]: an object names the same member twice", -2 },
	  -1 },
};

START_TEST(test_bad_threads)
{
	const struct bad *b = &bad_threads[_i].b;
	char what[64];

	snprintf(what, sizeof(what), "bad_threads[%d]", _i);
	expect_bad_thread(b->text, b->err, b->rule, b->node, bad_threads[_i].thread, b->msg,
			  b->text_pos, what);
}
END_TEST

/* ---- what capture saw led from outside the tree (format version 2) ---------------------- */

/* A node with @flags, under ROOT when @child, else the root. */
static struct pidtuple_tree *marked(uint64_t root_flags, uint64_t child_flags)
{
	PIDTUPLE_OPTS(pidtuple_node, node, .parent = -1, .flags = root_flags);
	struct pidtuple_tree *tree = NULL;
	struct pidtuple *t = tup("100"), *c = tup("101");

	ck_assert_int_eq(pidtuple_tree_new(&tree), 0);
	node.tuple = t;
	ck_assert_int_eq(pidtuple_tree_add(tree, &node), 0);
	node.tuple = c;
	node.parent = 0;
	node.flags = child_flags;
	ck_assert_int_eq(pidtuple_tree_add(tree, &node), 1);
	pidtuple_free(t);
	pidtuple_free(c);
	return tree;
}

/* The marks are written as "outside", after "name", in one order, and read back as flags. */
START_TEST(test_outside_round_trip)
{
	static const char want[] = HEAD2 "{\"tuple\":\"100\",\"parent\":-1,\"newpid\":false,"
					 "\"outside\":[\"group\",\"session\"],\"kind\":\"hold\"},"
					 "{\"tuple\":\"101\",\"parent\":0,\"newpid\":false,"
					 "\"outside\":[\"session\"],\"kind\":\"hold\"}" TAIL;
	struct pidtuple_tree *tree =
		marked(PIDTUPLE_NODE_GROUP_OUTSIDE | PIDTUPLE_NODE_SESSION_OUTSIDE,
		       PIDTUPLE_NODE_SESSION_OUTSIDE);
	char *text = to_json(tree, 0);
	PIDTUPLE_OPTS(pidtuple_node, node);

	ck_assert_str_eq(text, want);
	free(text);
	text = to_json(tree, PIDTUPLE_JSON_PRETTY);
	ck_assert_msg(strstr(text, "\n      \"outside\": [\"group\", \"session\"],\n"), "%s", text);
	free(text);
	assert_round_trip(tree, 0);
	assert_round_trip(tree, PIDTUPLE_JSON_PRETTY);
	pidtuple_tree_free(tree);

	/* Any order reads; the writer's is one. An empty list is no mark. */
	tree = from_json(HEAD2 "{\"tuple\":\"100\",\"parent\":-1,\"outside\":[\"session\","
			       "\"group\"],\"kind\":\"hold\"},{\"tuple\":\"101\",\"parent\":0,"
			       "\"outside\":[\"session\"],\"kind\":\"hold\"}" TAIL);
	text = to_json(tree, 0);
	ck_assert_str_eq(text, want);
	free(text);
	pidtuple_tree_free(tree);
	tree = from_json(HEAD2 "{\"tuple\":\"100\",\"parent\":-1,\"outside\":[],"
			       "\"kind\":\"hold\"}" TAIL);
	ck_assert_int_eq(pidtuple_tree_get(tree, 0, &node), 0);
	ck_assert_uint_eq(node.flags, 0);
	pidtuple_tree_free(tree);
}
END_TEST

/* Version 2 only for a tree with marks; a flag no version knows is refused on the way in. */
START_TEST(test_outside_version)
{
	PIDTUPLE_OPTS(pidtuple_node, node, .parent = -1, .flags = 1ull << 3);
	struct pidtuple_tree *tree = marked(0, PIDTUPLE_NODE_GROUP_OUTSIDE);
	char *text = to_json(tree, 0);

	ck_assert_msg(strncmp(text, HEAD2, strlen(HEAD2)) == 0, "%s", text);
	free(text);
	pidtuple_tree_free(tree);
	tree = marked(0, 0);
	text = to_json(tree, 0);
	ck_assert_msg(strncmp(text, HEAD, strlen(HEAD)) == 0, "%s", text);
	free(text);
	node.tuple = tup("9");
	ck_assert_int_eq(pidtuple_tree_add(tree, &node), -EINVAL);
	pidtuple_free((struct pidtuple *)node.tuple);
	pidtuple_tree_free(tree);
}
END_TEST

/* A root of one level whose "outside" is @__VA_ARGS__. */
#define O2(...) \
	N2("{\"tuple\":\"100\",\"parent\":-1,\"outside\":" __VA_ARGS__ ",\"kind\":\"hold\"}")

static const struct bad bad_outside[] = {
	{ N("{\"tuple\":\"100\",\"parent\":-1,\"outside\":[\"group\"],\"kind\":\"hold\"}"), -EINVAL,
	  SYN, 0, "nodes[0].outside: new in format version 2; this document is version 1", -1 },
	{ O2("\"group\""), -EINVAL, SYN, 0,
	  "nodes[0].outside: expected an array of \"group\" and \"session\", got a string", -1 },
	{ O2("[\"group\",1]"), -EINVAL, SYN, 0,
	  "nodes[0].outside[1]: expected \"group\" or \"session\", got an integer", -1 },
	{ O2("[\"pgrp\"]"), -EINVAL, SYN, 0,
	  "nodes[0].outside[0]: \"pgrp\" is not \"group\" or \"session\"", -1 },
	{ O2("[\"group\\u0000\"]"), -EINVAL, SYN, 0, "nodes[0].outside[0]: ", -1 },
	{ O2("[\"session\",\"group\",\"session\"]"), -EINVAL, SYN, 0,
	  "nodes[0].outside[2]: \"session\" is named twice", -1 },
	{ R2("{\"tuple\":\"101\",\"parent\":0,\"kind\":\"hold\",\"outside\":[\"Group\"]}"), -EINVAL,
	  SYN, 1, "nodes[1].outside[0]: \"Group\" is not", -1 },
};

START_TEST(test_bad_outside)
{
	expect_bad_row(&bad_outside[_i], "bad_outside", _i);
}
END_TEST

/* ---- size ------------------------------------------------------------------------------ */

static char *filled(size_t len, char c)
{
	char *s = malloc(len + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, c, len);
	s[len] = '\0';
	return s;
}

/* @body, whose text holds "@@" once, with the @@ replaced by @n bytes of @c. */
static char *with_fill(const char *body, size_t n, char c)
{
	const char *at = strstr(body, "@@");
	size_t head = (size_t)(at - body), tail = strlen(at + 2);
	char *s = malloc(head + n + tail + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, body, head);
	memset(s + head, c, n);
	memcpy(s + head + n, at + 2, tail + 1);
	return s;
}

START_TEST(test_ten_megabytes)
{
	const size_t ten = 10u << 20;
	char *s;

	/* Over the limit, whatever it holds. */
	s = with_fill(N("{\"tuple\":\"1\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/"
			"@@\",\"argv\":[\"a\"]}}"),
		      ten, 'a');
	expect_bad(s, -E2BIG, SYN, -1, "(document): longer than 8388608 bytes", -1, "10 MB path");
	free(s);
	s = filled(ten, ' ');
	expect_bad(s, -E2BIG, SYN, -1, "(document): longer than", -1, "10 MB of blanks");
	free(s);
	s = filled(ten, '[');
	expect_bad(s, -E2BIG, SYN, -1, "(document): longer than", -1, "10 MB of [");
	free(s);

	/* Exactly at the limit, the text is read; one byte more is refused unread. */
	s = with_fill(N(ROOT) "@@", PIDTUPLE_JSON_MAX_TEXT - strlen(N(ROOT)), '\n');
	ck_assert_uint_eq(strlen(s), PIDTUPLE_JSON_MAX_TEXT);
	pidtuple_tree_free(from_json(s));
	free(s);
	s = with_fill(N(ROOT) "@@", PIDTUPLE_JSON_MAX_TEXT - strlen(N(ROOT)) + 1, '\n');
	expect_bad(s, -E2BIG, SYN, -1, "(document): longer than", -1, "limit + 1");
	free(s);

	/* Under the limit: strings the kernel would not take, and bombs. */
	s = with_fill(N("{\"tuple\":\"1\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/"
			"@@\",\"argv\":[\"a\"]}}"),
		      4096, 'p');
	expect_bad(s, -EINVAL, SYN, 0,
		   "nodes[0].exec.path: 4097 bytes, longer than execve() takes (4095)", -1,
		   "long path");
	free(s);
	s = with_fill(N("{\"tuple\":\"1\",\"parent\":-1,\"kind\":\"exec\",\"exec\":{\"path\":\"/"
			"a\",\"argv\":[\"a\",\"@@\"]}}"),
		      7u << 20, 'x');
	expect_bad(s, -EINVAL, SYN, 0,
		   "nodes[0].exec.argv[1]: 7340032 bytes, longer than execve() takes (131072)", -1,
		   "7 MB argument");
	free(s);
	s = with_fill("{\"x\":[[[[[[[[[[@@]]]]]]]]]]}", 7u << 20, ' ');
	expect_bad(s, -EINVAL, SYN, -1, "not valid JSON at line 1, column 13: nested deeper", 12,
		   "nesting in 7 MB");
	free(s);
	s = filled(7u << 20, '{');
	expect_bad(s, -EINVAL, SYN, -1, "7340032 objects and 0 arrays", -1, "7 MB of {");
	free(s);
}
END_TEST

/* An object or array bomb under the limit is refused before json-c allocates for it. */
START_TEST(test_bombs)
{
	static const char *const units[] = { "{},", "[],", "{\"a\":{}},", "[[],[]]," };

	for (size_t u = 0; u < ARRAY_SIZE(units); u++) {
		size_t ul = strlen(units[u]), n = (6u << 20) / ul, len = 0;
		char *s = malloc(n * ul + 64);

		ck_assert_ptr_nonnull(s);
		len += (size_t)sprintf(s, "%s", HEAD);
		for (size_t i = 0; i < n; i++, len += ul)
			memcpy(s + len, units[u], ul);
		memcpy(s + len - 1, TAIL, sizeof(TAIL));
		expect_bad(s, -EINVAL, SYN, -1, "", -1, units[u]);
		free(s);
	}
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("tree_json");
	TCase *tc;

	tc = tcase_create("write");
	tcase_add_test(tc, test_round_trip_sample);
	tcase_add_test(tc, test_round_trip_empty);
	tcase_add_test(tc, test_canonical_text);
	tcase_add_test(tc, test_member_order_and_defaults);
	tcase_add_test(tc, test_to_json_refuses);
	tcase_add_test(tc, test_big_tree);
	suite_add_tcase(s, tc);

	tc = tcase_create("zero_levels");
	tcase_add_test(tc, test_zero_levels);
	tcase_add_test(tc, test_all_zero_levels);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_loop_test(tc, test_bad_input, 0, (int)ARRAY_SIZE(bad_inputs));
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_null_arguments);
	tcase_add_test(tc, test_small_diag);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_test(tc, test_threads_canonical);
	tcase_add_test(tc, test_threads_version);
	tcase_add_test(tc, test_threads_left_to_the_check);
	tcase_add_test(tc, test_threads_writer_refuses);
	tcase_add_loop_test(tc, test_bad_threads, 0, (int)ARRAY_SIZE(bad_threads));
	suite_add_tcase(s, tc);

	tc = tcase_create("outside");
	tcase_add_test(tc, test_outside_round_trip);
	tcase_add_test(tc, test_outside_version);
	tcase_add_loop_test(tc, test_bad_outside, 0, (int)ARRAY_SIZE(bad_outside));
	suite_add_tcase(s, tc);

	tc = tcase_create("size");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ten_megabytes);
	tcase_add_test(tc, test_bombs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
