/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tree descriptions and their check: building and reading a description, and every way a
 * description is refused before anything is created, with the node, the level and the rule
 * named: shape (levels, namespaces), PIDs claimed twice (and the same number in two different
 * namespaces, which is fine), sessions and groups that cannot be reproduced, and what the
 * machine says (taken PIDs, range, privilege).
 */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NEWPID PIDTUPLE_NODE_NEWPID
#define HOLD PIDTUPLE_NODE_HOLD

TH_LSAN_EXPLICIT_ONLY

static struct pidtuple *tp(const char *text)
{
	struct pidtuple *t = NULL;

	if (pidtuple_parse(text, &t, NULL) < 0)
		abort();
	return t;
}

/* A group or session tuple from text, outermost first; 0 where it is not visible. */
static struct pidtuple *ids(const char *text)
{
	struct pidtuple *t = NULL;
	pid_t v[PIDTUPLE_MAX_LEVELS];
	size_t n = 0;

	for (const char *p = text; *p && n < PIDTUPLE_MAX_LEVELS; p += *p == '/')
		v[n++] = (pid_t)strtol(p, (char **)&p, 10);
	if (pidtuple_from_ids(v, n, &t) < 0)
		abort();
	return t;
}

static int add(struct pidtuple_tree *tree, int parent, const char *tuple, uint64_t flags,
	       const char *pgid, const char *sid)
{
	struct pidtuple *t = tp(tuple), *g = pgid ? ids(pgid) : NULL, *s = sid ? ids(sid) : NULL;
	PIDTUPLE_OPTS(pidtuple_node, nd, .parent = parent, .tuple = t, .pgid = g, .sid = s,
		      .flags = flags, .kind = HOLD);
	int r = pidtuple_tree_add(tree, &nd);

	pidtuple_free(t);
	pidtuple_free(g);
	pidtuple_free(s);
	return r;
}

/* One node per line: parent, tuple, flags, pgid, sid. */
struct spec {
	int parent;
	const char *tuple;
	uint64_t flags;
	const char *pgid, *sid;
};

static struct pidtuple_tree *build(const struct spec *s, size_t n)
{
	struct pidtuple_tree *t = NULL;

	if (pidtuple_tree_new(&t) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (add(t, s[i].parent, s[i].tuple, s[i].flags, s[i].pgid, s[i].sid) != (int)i)
			abort();
	return t;
}

/* ---- the description ------------------------------------------------------------------- */

static int fn_noop(void *arg)
{
	(void)arg;
	return 0;
}

static int describe_body(void *arg)
{
	struct pidtuple_tree *t = NULL;
	struct pidtuple *a = tp("10/1"), *b = tp("11"), *z = NULL;
	char *argv[] = { "prog", "x", NULL }, *envp[] = { "A=1", NULL };
	char path[] = "/bin/true";
	PIDTUPLE_OPTS(pidtuple_node, nd, .parent = -1, .tuple = b);
	PIDTUPLE_OPTS(pidtuple_node, got);
	struct {
		struct pidtuple_node n;
		uint64_t extra;
	} big;
	char buf[64];

	(void)arg;
	TH_CHECK(pidtuple_tree_new(NULL) == -EINVAL, "NULL");
	TH_CHECK(pidtuple_tree_new(&t) == 0, "new");
	TH_CHECK(pidtuple_tree_size(t) == 0, "empty");
	TH_CHECK(pidtuple_tree_size(NULL) == -EINVAL, "size NULL");
	TH_CHECK(pidtuple_tree_add(NULL, &nd) == -EINVAL, "add to NULL");
	TH_CHECK(pidtuple_tree_add(t, NULL) == -EINVAL, "add NULL");

	/* The root must come first and be the only one. */
	nd.parent = 0;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a first node with a parent");
	nd.parent = -1;
	nd.kind = PIDTUPLE_NODE_EXEC;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "EXEC without path");
	nd.path = path;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "EXEC without argv");
	nd.argv = argv;
	nd.envp = envp;
	TH_CHECK(pidtuple_tree_add(t, &nd) == 0, "root");
	path[1] = 'X'; /* the tree has its own copies */
	argv[1] = "y";
	nd = (struct pidtuple_node){ .sz = sizeof(nd), .parent = -1, .tuple = a };
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a second root");
	nd.parent = 1;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a forward parent");
	nd.parent = 7;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a missing parent");
	nd.parent = 0;
	nd.kind = 3;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "bad kind");
	nd.kind = PIDTUPLE_NODE_CALLBACK;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "CALLBACK without fn");
	nd.fn = fn_noop;
	nd.flags = 1ull << 5;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "bad flags");
	nd.flags = NEWPID;
	nd.tuple = NULL;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "no tuple");
	nd.tuple = a;
	nd.sz = 0;
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "sz 0");
	memset(&big, 0, sizeof(big));
	big.n = nd;
	big.n.sz = sizeof(big);
	big.extra = 1;
	TH_CHECK(pidtuple_tree_add(t, &big.n) == -E2BIG, "unknown tail");
	big.extra = 0;
	TH_CHECK(pidtuple_tree_add(t, &big.n) == 1, "zero tail");
	pidtuple_free(a);
	pidtuple_free(b);
	TH_CHECK(pidtuple_tree_size(t) == 2, "size");

	/* A node tuple must name PIDs; a group tuple may have 0 where not visible. */
	TH_CHECK(pidtuple_read(getpid(), PIDTUPLE_KIND_PGID, NULL, &z) == 0, "read pgid");
	nd = (struct pidtuple_node){ .sz = sizeof(nd), .parent = 0, .tuple = z };
	TH_CHECK(pidtuple_tree_add(t, &nd) == -EINVAL, "a 0 in a node's tuple");
	nd.tuple = tp("12");
	nd.pgid = z;
	nd.sid = z;
	TH_CHECK(pidtuple_tree_add(t, &nd) == 2, "0 in its group and session");
	pidtuple_free((struct pidtuple *)nd.tuple);
	pidtuple_free(z);

	TH_CHECK(pidtuple_tree_get(t, 3, &got) == -ERANGE, "range");
	TH_CHECK(pidtuple_tree_get(NULL, 0, &got) == -EINVAL, "NULL");
	got.sz = 0;
	TH_CHECK(pidtuple_tree_get(t, 0, &got) == -EINVAL, "sz 0");
	got.sz = sizeof(got);
	TH_CHECK(pidtuple_tree_get(t, 0, &got) == 0, "get");
	TH_CHECK(got.parent == -1 && got.kind == PIDTUPLE_NODE_EXEC && !got.pgid && !got.sid,
		 "root read back");
	TH_CHECK(strcmp(got.path, "/bin/true") == 0 && strcmp(got.argv[1], "x") == 0 &&
			 !got.argv[2] && strcmp(got.envp[0], "A=1") == 0,
		 "strings were not copied");
	pidtuple_format(got.tuple, buf, sizeof(buf));
	TH_CHECK(strcmp(buf, "11") == 0, "tuple %s", buf);
	TH_CHECK(pidtuple_tree_get(t, 1, &got) == 0 && got.parent == 0 && got.flags == NEWPID &&
			 got.kind == PIDTUPLE_NODE_CALLBACK && got.fn == fn_noop && !got.path,
		 "node 1 read back");
	/* A smaller struct (an older header) gets only what it has room for. */
	{
		size_t small = offsetof(struct pidtuple_node, kind) + sizeof(uint32_t);
		struct pidtuple_node part;

		memset(&part, 0x55, sizeof(part));
		part.sz = small;
		TH_CHECK(pidtuple_tree_get(t, 1, &part) == 0, "small get");
		TH_CHECK(part.parent == 0 && part.kind == PIDTUPLE_NODE_CALLBACK, "small fields");
		TH_CHECK(*(unsigned char *)&part.tuple == 0x55, "written beyond sz");
	}
	pidtuple_tree_free(t);
	pidtuple_tree_free(NULL);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_describe)
{
	ck_assert_int_eq(th_in_pidns_clean(describe_body, NULL), 0);
}
END_TEST

/* ---- refused descriptions ------------------------------------------------------------- */

struct bad {
	const char *what;
	struct spec nodes[8];
	size_t n;
	int err;
	uint32_t rule;
	int node, inner;
};

static const struct bad bads[] = {
	/* shape */
	{ "levels without CLONE_NEWPID",
	  { { -1, "100", 0, NULL, NULL }, { 0, "101/5", 0, NULL, NULL } },
	  2,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_SHAPE,
	  1,
	  -1 },
	{ "CLONE_NEWPID without a level more",
	  { { -1, "100", 0, NULL, NULL }, { 0, "101", NEWPID, NULL, NULL } },
	  2,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_SHAPE,
	  1,
	  -1 },
	{ "CLONE_NEWPID, innermost not 1",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "101", 0, NULL, NULL },
	    { 0, "102/7", NEWPID, NULL, NULL } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_NEWPID_ONE,
	  2,
	  0 },
	{ "a root in a new namespace, not 1",
	  { { -1, "100/2", NEWPID, NULL, NULL } },
	  1,
	  -EINVAL,
	  PIDTUPLE_RULE_NEWPID_ONE,
	  0,
	  0 },
	{ "a group tuple of other levels",
	  { { -1, "100", 0, NULL, NULL }, { 0, "101/1", NEWPID, "100", NULL } },
	  2,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_SHAPE,
	  1,
	  -1 },
	/* PIDs claimed twice */
	{ "siblings with one PID",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "101", 0, NULL, NULL },
	    { 0, "101", 0, NULL, NULL } },
	  3,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  2,
	  0 },
	{ "one PID in one new namespace",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, NULL, NULL },
	    { 1, "111/5", 0, NULL, NULL },
	    { 1, "112/5", 0, NULL, NULL } },
	  4,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  3,
	  0 },
	{ "a second PID 1 beside the namespace's init",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, NULL, NULL },
	    { 1, "111/1", 0, NULL, NULL } },
	  3,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  2,
	  0 },
	{ "an outer PID claimed by a deeper node",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, NULL, NULL },
	    { 1, "100/4", 0, NULL, NULL } },
	  3,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  2,
	  1 },
	{ "a dead leader with a node's PID further out",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "140/1", NEWPID, NULL, NULL },
	    { 1, "141/2", 0, "145/9", "145/9" },
	    { 0, "145", 0, NULL, NULL } },
	  4,
	  -EEXIST,
	  PIDTUPLE_RULE_TREE_DUPLICATE,
	  2,
	  -1 },
	/* sessions and groups */
	{ "a session leader in another's group",
	  { { -1, "100", 0, "100", "100" }, { 0, "101", 0, "100", "101" } },
	  2,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  1,
	  -1 },
	{ "a session named after a node that leads none",
	  { { -1, "100", 0, "100", "100" },
	    { 0, "101", 0, NULL, NULL },
	    { 0, "102", 0, "101", "101" } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  2,
	  -1 },
	{ "a group of another session",
	  { { -1, "100", 0, "100", "100" },
	    { 0, "101", 0, "101", "101" },
	    { 0, "102", 0, "101", "100" } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  2,
	  -1 },
	{ "a session led from a cousin, no way to fork into it",
	  { { -1, "100", 0, "100", "100" },
	    { 0, "101", 0, "101", "101" },
	    { 0, "102", 0, NULL, NULL },
	    { 2, "103", 0, "101", "101" } },
	  4,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  3,
	  -1 },
	{ "a group's number that names a node seen differently",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, NULL, NULL },
	    { 1, "111/2", 0, "112/2", NULL } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  2,
	  1 },
	/* the machine */
	{ "a PID in use (the test's init)",
	  { { -1, "100", 0, NULL, NULL }, { 0, "101", 0, NULL, NULL }, { 0, "1", 0, NULL, NULL } },
	  3,
	  -EEXIST,
	  PIDTUPLE_RULE_PID_TAKEN,
	  2,
	  0 },
	{ "a PID at or beyond pid_max",
	  { { -1, "100", 0, NULL, NULL }, { 0, "99999999", 0, NULL, NULL } },
	  2,
	  -EINVAL,
	  PIDTUPLE_RULE_PID_RANGE,
	  1,
	  0 },
	{ "beyond a new namespace's pid_max",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, NULL, NULL },
	    { 1, "111/9999999", 0, NULL, NULL } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_PID_RANGE,
	  2,
	  0 },
	{ "a dead session leader whose PID is in use",
	  { { -1, "100", 0, NULL, NULL }, { 0, "101", 0, "1", "1" } },
	  2,
	  -EEXIST,
	  PIDTUPLE_RULE_PID_TAKEN,
	  1,
	  0 },
	{ "the root's PID in use",
	  { { -1, "1", 0, NULL, NULL } },
	  1,
	  -EEXIST,
	  PIDTUPLE_RULE_PID_TAKEN,
	  0,
	  0 },
};

static int bad_body(void *arg)
{
	const struct bad *b = &bads[(intptr_t)arg];
	struct pidtuple_tree *t = build(b->nodes, b->n);
	struct pidtuple_diag d = { .sz = sizeof(d) };
	int r = pidtuple_tree_check(t, NULL, &d);

	TH_CHECK(r == b->err && d.err == b->err && d.rule == b->rule && d.node == b->node &&
			 d.inner_index == b->inner,
		 "%s: got %d rule %s node %d inner %d, want %d rule %s node %d inner %d: %s",
		 b->what, r, pidtuple_rule_name(d.rule), d.node, d.inner_index, b->err,
		 pidtuple_rule_name(b->rule), b->node, b->inner, d.message);
	TH_CHECK(d.message[0] != '\0', "%s: no message", b->what);
	if (getenv("TREE_VERBOSE"))
		fprintf(stderr, "%-50s %-15s node %d inner %2d: %s\n", b->what,
			pidtuple_rule_name(d.rule), d.node, d.inner_index, d.message);
	if (b->inner >= 0)
		TH_CHECK(d.nspid_pos == d.levels - 1 - d.inner_index, "%s: nspid_pos", b->what);
	/* The restore refuses it the same way, creating nothing. */
	{
		struct pidtuple_restore *rs = NULL;
		PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);

		r = pidtuple_tree_restore(t, &o, &rs);
		TH_CHECK(r == b->err && d.node == b->node && !rs, "%s: restore %d", b->what, r);
		TH_CHECK(th_count_children() == 0, "children");
	}
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_bad)
{
	ck_assert_int_eq(th_in_pidns_clean(bad_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- accepted descriptions -------------------------------------------------------------- */

struct good {
	const char *what;
	struct spec nodes[8];
	size_t n;
};

static const struct good goods[] = {
	{ "a lone root", { { -1, "100", 0, NULL, NULL } }, 1 },
	{ "one number in two namespaces",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "120/1", NEWPID, NULL, NULL },
	    { 1, "121/5", 0, NULL, NULL },
	    { 0, "130/1", NEWPID, NULL, NULL },
	    { 3, "131/5", 0, NULL, NULL },
	    { 3, "132/6/1", NEWPID, NULL, NULL },
	    { 5, "133/7/5", 0, NULL, NULL } },
	  7 },
	{ "a root that starts a namespace",
	  { { -1, "100/1", NEWPID, NULL, NULL }, { 0, "101/2", 0, NULL, NULL } },
	  2 },
	{ "sessions before and after setsid, a group from another branch",
	  { { -1, "100", 0, "100", "100" },
	    { 0, "101", 0, "101", "101" },
	    { 1, "102", 0, "100", "100" }, /* keeps its parent's old session */
	    { 0, "103", 0, "104", "100" },
	    { 0, "104", 0, "104", "100" } },
	  5 },
	{ "dead leaders: a session and a group",
	  { { -1, "100", 0, "100", "100" },
	    { 0, "101", 0, "150", "150" },
	    { 1, "102", 0, NULL, NULL },
	    { 0, "103", 0, "151", "100" } },
	  4 },
	{ "a session led by a sibling",
	  { { -1, "100/1", NEWPID, NULL, NULL },
	    { 0, "101/2", 0, "101/2", "101/2" },
	    { 0, "102/3", 0, "101/2", "101/2" } },
	  3 },
};

static int good_body(void *arg)
{
	const struct good *g = &goods[(intptr_t)arg];
	struct pidtuple_tree *t = build(g->nodes, g->n);
	struct pidtuple_diag d = { .sz = sizeof(d) };
	int r = pidtuple_tree_check(t, NULL, &d);

	TH_CHECK(r == 0, "%s: %d rule %s node %d: %s", g->what, r, pidtuple_rule_name(d.rule),
		 d.node, d.message);
	TH_CHECK(d.node == -1 && d.rule == PIDTUPLE_RULE_NONE, "%s: diag", g->what);
	TH_CHECK(pidtuple_tree_check(t, NULL, NULL) == 0, "%s: without diag", g->what);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_good)
{
	ck_assert_int_eq(th_in_pidns_clean(good_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- the order of the nodes ------------------------------------------------------------ */

/*
 * Trees whose forks must fit around a parent's moves: the plan may not depend on the order of
 * the nodes. Every order of the nodes (parents first) must be accepted.
 */
static const struct good orders[] = {
	/* The root forks 55 in the caller's group, then founds 38, then forks 29/1 and 60. */
	{ "children before and after the parent founds its group",
	  { { -1, "38", 0, "38", "0" },
	    { 0, "29/1", NEWPID, "38/0", "0/0" },
	    { 0, "55", 0, "0", "0" },
	    { 0, "60", 0, "38", "0" } },
	  4 },
	/* 102 brings the dead leader 150 back to fork 103/1; the root, a session leader, cannot
	 * move: its child 101 joins group 150 and forks 104/1 with CLONE_PARENT. */
	{ "a dead group leader brought back deeper, needed by the root's child",
	  { { -1, "100", 0, "100", "100" },
	    { 0, "101", 0, "150", "100" },
	    { 1, "102", 0, "150", "100" },
	    { 2, "103/1", NEWPID, "150/0", "100/0" },
	    { 0, "104/1", NEWPID, "150/0", "100/0" } },
	  5 },
};

static void swap(int *a, int *b)
{
	int t = *a;

	*a = *b;
	*b = t;
}

/* Next permutation of @v (lexicographic); false after the last. */
static bool next_perm(int *v, int n)
{
	int i = n - 2, j = n - 1;

	while (i >= 0 && v[i] >= v[i + 1])
		i--;
	if (i < 0)
		return false;
	while (v[j] <= v[i])
		j--;
	swap(&v[i], &v[j]);
	for (int a = i + 1, b = n - 1; a < b; a++, b--)
		swap(&v[a], &v[b]);
	return true;
}

/* The description @g with its nodes in the order @order (order[new] = old), parents first;
 * NULL when a parent would come after its child. */
static struct pidtuple_tree *build_order(const struct good *g, const int *order)
{
	struct spec s[8];
	int at[8];

	for (size_t i = 0; i < g->n; i++)
		at[order[i]] = (int)i;
	for (size_t i = 0; i < g->n; i++) {
		s[i] = g->nodes[order[i]];
		if (s[i].parent >= 0)
			s[i].parent = at[s[i].parent];
		if (s[i].parent >= (int)i)
			return NULL;
	}
	return build(s, g->n);
}

static int order_body(void *arg)
{
	const struct good *g = &orders[(intptr_t)arg];
	int order[8] = { 0 }, tried = 0;

	for (size_t i = 0; i < g->n; i++)
		order[i] = (int)i;
	do {
		struct pidtuple_tree *t = build_order(g, order);
		struct pidtuple_diag d = { .sz = sizeof(d) };
		int r;

		if (!t)
			continue;
		r = pidtuple_tree_check(t, NULL, &d);
		TH_CHECK(r == 0, "%s, order %d %d %d %d %d: %d rule %s node %d: %s", g->what,
			 order[0], order[1], order[2], order[3], order[4], r,
			 pidtuple_rule_name(d.rule), d.node, d.message);
		pidtuple_tree_free(t);
		tried++;
	} while (next_perm(order + 1, (int)g->n - 1));
	TH_CHECK(tried > 1, "%s: %d orders", g->what, tried);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_order)
{
	ck_assert_int_eq(th_in_pidns_clean(order_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- an init in a group or session led inside its own namespace -------------------------- */

/*
 * Killed, such an init could never finish exiting: the kernel ends a namespace only once every
 * number in it is free, and the init holds its group's. These are checked only, never restored
 * (a tree restored from one could never be removed).
 */
static const struct bad init_hazards[] = {
	{ "an init in its child's group",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, "111/2", NULL },
	    { 1, "111/2", 0, "111/2", NULL } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  1,
	  -1 },
	{ "a root init in its child's group",
	  { { -1, "100/1", NEWPID, "101/2", NULL }, { 0, "101/2", 0, "101/2", NULL } },
	  2,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  0,
	  -1 },
	{ "an init in a group led in a namespace below its own",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, "121/3", NULL },
	    { 1, "120/2/1", NEWPID, "120/2/1", NULL },
	    { 2, "121/3/2", 0, "121/3/2", NULL } },
	  4,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  1,
	  -1 },
	{ "an init in a group whose dead leader lived in its namespace",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, "115/5", NULL },
	    { 1, "111/2", 0, "115/5", NULL } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  1,
	  -1 },
	{ "an init in its child's session",
	  { { -1, "100", 0, NULL, NULL },
	    { 0, "110/1", NEWPID, "111/2", "111/2" },
	    { 1, "111/2", 0, "111/2", "111/2" } },
	  3,
	  -EINVAL,
	  PIDTUPLE_RULE_TREE_GROUP,
	  1,
	  -1 },
};

static int init_hazard_body(void *arg)
{
	const struct bad *b = &init_hazards[(intptr_t)arg];
	struct pidtuple_tree *t = build(b->nodes, b->n);
	struct pidtuple_diag d = { .sz = sizeof(d) };
	int r = pidtuple_tree_check(t, NULL, &d);

	TH_CHECK(r == b->err && d.err == b->err && d.rule == b->rule && d.node == b->node,
		 "%s: got %d rule %s node %d, want %d rule %s node %d: %s", b->what, r,
		 pidtuple_rule_name(d.rule), d.node, b->err, pidtuple_rule_name(b->rule), b->node,
		 d.message);
	TH_CHECK(strstr(d.message, "the init of a PID namespace") &&
			 strstr(d.message, "could never end the namespace"),
		 "%s: the message does not say why: %s", b->what, d.message);
	if (getenv("TREE_VERBOSE"))
		fprintf(stderr, "%-50s %s\n", b->what, d.message);
	pidtuple_tree_free(t);
	TH_CHECK(th_leak_check() == 0, "memory leaked");
	return 0;
}

START_TEST(test_init_hazard)
{
	ck_assert_int_eq(th_in_pidns_clean(init_hazard_body, (void *)(intptr_t)_i), 0);
}
END_TEST

/* ---- options and privilege --------------------------------------------------------------- */

static int options_body(void *arg)
{
	static const struct spec one[] = { { -1, "100", 0, NULL, NULL } };
	struct pidtuple_tree *t = build(one, 1), *empty = NULL;
	struct pidtuple_diag d = { .sz = sizeof(d) };
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .clone_flags = CLONE_NEWNS);
	struct {
		struct pidtuple_fork_opts o;
		uint64_t extra;
	} big = { .o = { .sz = sizeof(big) }, .extra = 1 };

	(void)arg;
	TH_CHECK(pidtuple_tree_check(t, &o, &d) == -EINVAL && d.rule == PIDTUPLE_RULE_FLAGS,
		 "clone_flags: %s", d.message);
	TH_CHECK(pidtuple_tree_check(t, &big.o, &d) == -E2BIG, "options tail");
	o.clone_flags = 0;
	o.flags = PIDTUPLE_FORK_EXIT_SIGNAL;
	o.exit_signal = 99;
	TH_CHECK(pidtuple_tree_check(t, &o, &d) == -EINVAL && d.rule == PIDTUPLE_RULE_EXIT_SIGNAL &&
			 d.node == 0,
		 "exit signal: %s", d.message);
	pidtuple_tree_new(&empty);
	TH_CHECK(pidtuple_tree_check(empty, NULL, &d) == -EINVAL &&
			 d.rule == PIDTUPLE_RULE_TREE_SHAPE,
		 "empty tree");
	TH_CHECK(pidtuple_tree_check(NULL, NULL, &d) == -EINVAL, "NULL tree");
	d.sz = 0;
	TH_CHECK(pidtuple_tree_check(t, NULL, &d) == -EINVAL, "diag sz 0");
	TH_CHECK(strcmp(pidtuple_rule_name(PIDTUPLE_RULE_TREE_SHAPE), "tree-shape") == 0 &&
			 strcmp(pidtuple_rule_name(PIDTUPLE_RULE_TREE_DUPLICATE),
				"tree-duplicate") == 0 &&
			 strcmp(pidtuple_rule_name(PIDTUPLE_RULE_TREE_GROUP), "tree-group") == 0 &&
			 strcmp(pidtuple_rule_name(PIDTUPLE_RULE_TREE_NODE), "tree-node") == 0,
		 "rule names");
	pidtuple_tree_free(empty);
	pidtuple_tree_free(t);
	return 0;
}

START_TEST(test_options)
{
	ck_assert_int_eq(th_in_pidns_clean(options_body, NULL), 0);
}
END_TEST

/* Without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE no level can be pinned. */
static int unprivileged_child(void)
{
	static const struct spec two[] = { { -1, "100", 0, NULL, NULL },
					   { 0, "101/1", NEWPID, NULL, NULL } };
	struct {
		uint32_t version;
		int pid;
	} hdr = { 0x20080522, 0 };
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2];
	struct pidtuple_tree *t = build(two, 2);
	struct pidtuple_diag d = { .sz = sizeof(d) };
	int r;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return 2;
	data[0].effective &= ~(1u << 21);	 /* CAP_SYS_ADMIN */
	data[1].effective &= ~(1u << (40 - 32)); /* CAP_CHECKPOINT_RESTORE */
	if (syscall(SYS_capset, &hdr, data) < 0)
		return 3;
	r = pidtuple_tree_check(t, NULL, &d);
	pidtuple_tree_free(t);
	if (r != -EPERM || d.rule != PIDTUPLE_RULE_PRIVILEGE || d.node != 0) {
		fprintf(stderr, "unprivileged: %d %s node %d: %s\n", r, pidtuple_rule_name(d.rule),
			d.node, d.message);
		return 1;
	}
	return 0;
}

static int privilege_body(void *arg)
{
	pid_t pid;
	int st;

	(void)arg;
	pid = fork();
	if (pid == 0)
		_exit(unprivileged_child());
	TH_CHECK(pid > 0 && waitpid(pid, &st, 0) == pid, "fork");
	TH_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	return 0;
}

START_TEST(test_privilege)
{
	ck_assert_int_eq(th_in_pidns_clean(privilege_body, NULL), 0);
}
END_TEST

static Suite *tree_suite(void)
{
	Suite *s = suite_create("tree");
	TCase *tc = tcase_create("describe");

	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bad, 0, (int)ARRAY_SIZE(bads));
	tcase_add_loop_test(tc, test_good, 0, (int)ARRAY_SIZE(goods));
	tcase_add_loop_test(tc, test_init_hazard, 0, (int)ARRAY_SIZE(init_hazards));
	tcase_add_loop_test(tc, test_order, 0, (int)ARRAY_SIZE(orders));
	tcase_add_test(tc, test_privilege);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	th_require_privilege();
	sr = srunner_create(tree_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
