/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tuple object, its text form, version and error helpers, the diag struct, and option
 * validation that happens before anything is forked. Needs no privilege; when privileged, the
 * calls that could fork run inside a private PID namespace anyway.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "pidtuple.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CANARY 0xa5

TH_LSAN_EXPLICIT_ONLY

/* A pointer no allocator returns: out-parameters must keep it on failure. */
#define SENTINEL ((struct pidtuple *)(uintptr_t)0x5e5e5e5e)

static struct pidtuple *parse_ok(const char *text)
{
	struct pidtuple *t = NULL;
	int r = pidtuple_parse(text, &t, NULL);

	ck_assert_msg(r == 0, "parse \"%s\": %d", text, r);
	ck_assert_ptr_nonnull(t);
	return t;
}

static void assert_text(const struct pidtuple *t, const char *want)
{
	char buf[512];
	int r = pidtuple_format(t, buf, sizeof(buf));

	ck_assert_int_eq(r, (int)strlen(want));
	ck_assert_str_eq(buf, want);
}

/* ---- construction and order ---------------------------------------------------------- */

START_TEST(test_from_inner_outer_order)
{
	const pid_t inner[] = { 1, 17, 4242 }, outer[] = { 4242, 17, 1 };
	struct pidtuple *a = NULL, *b = NULL;
	pid_t out[3];

	ck_assert_int_eq(pidtuple_from_inner(inner, 3, &a), 0);
	ck_assert_int_eq(pidtuple_from_outer(outer, 3, &b), 0);
	ck_assert_int_eq(pidtuple_levels(a), 3);
	ck_assert_int_eq(pidtuple_get(a, 0), 1);
	ck_assert_int_eq(pidtuple_get(a, 1), 17);
	ck_assert_int_eq(pidtuple_get(a, 2), 4242);
	ck_assert_int_eq(pidtuple_equal(a, b), 1);
	assert_text(a, "4242/17/1");
	assert_text(b, "4242/17/1");

	ck_assert_int_eq(pidtuple_to_inner(b, out, 3), 3);
	ck_assert_mem_eq(out, inner, sizeof(inner));
	ck_assert_int_eq(pidtuple_to_outer(a, out, 3), 3);
	ck_assert_mem_eq(out, outer, sizeof(outer));

	/* The same array read in the other order is a different tuple. */
	pidtuple_free(b);
	ck_assert_int_eq(pidtuple_from_outer(inner, 3, &b), 0);
	ck_assert_int_eq(pidtuple_equal(a, b), 0);
	assert_text(b, "1/17/4242");
	pidtuple_free(a);
	pidtuple_free(b);
}
END_TEST

START_TEST(test_from_bad_input)
{
	pid_t many[PIDTUPLE_MAX_LEVELS + 1];
	const pid_t zero[] = { 5, 0 }, neg[] = { -5 }, ok[] = { 7 };
	struct pidtuple *t = SENTINEL;

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (pid_t)(i + 1);
	for (int outer = 0; outer < 2; outer++) {
		int (*from)(const pid_t *, size_t, struct pidtuple **) =
			outer ? pidtuple_from_outer : pidtuple_from_inner;

		ck_assert_int_eq(from(ok, 0, &t), -EINVAL);
		ck_assert_int_eq(from(many, PIDTUPLE_MAX_LEVELS + 1, &t), -EINVAL);
		ck_assert_int_eq(from(many, SIZE_MAX, &t), -EINVAL);
		ck_assert_int_eq(from(zero, 2, &t), -EINVAL);
		ck_assert_int_eq(from(neg, 1, &t), -EINVAL);
		ck_assert_int_eq(from(NULL, 1, &t), -EINVAL);
		ck_assert_ptr_eq(t, SENTINEL);
		ck_assert_int_eq(from(ok, 1, NULL), -EINVAL);

		ck_assert_int_eq(from(many, PIDTUPLE_MAX_LEVELS, &t), 0);
		ck_assert_int_eq(pidtuple_levels(t), PIDTUPLE_MAX_LEVELS);
		pidtuple_free(t);
		t = SENTINEL;
	}
}
END_TEST

/* Group and session ids: zeros only at the inner end, or everywhere (made above the top). */
START_TEST(test_from_ids)
{
	const pid_t inner_zero[] = { 40, 0, 0 }, all_zero[] = { 0, 0 }, gap[] = { 40, 0, 3 },
		    neg[] = { 40, -1 }, lead0[] = { 0, 5 }, full[] = { 40, 7, 1 };
	struct pidtuple *t = SENTINEL;

	ck_assert_int_eq(pidtuple_from_ids(inner_zero, 3, &t), 0);
	ck_assert_int_eq(pidtuple_levels(t), 3);
	ck_assert_int_eq(pidtuple_get(t, 0), 0);
	ck_assert_int_eq(pidtuple_get(t, 2), 40);
	pidtuple_free(t);
	ck_assert_int_eq(pidtuple_from_ids(all_zero, 2, &t), 0);
	ck_assert_int_eq(pidtuple_get(t, 0), 0);
	ck_assert_int_eq(pidtuple_get(t, 1), 0);
	pidtuple_free(t);
	ck_assert_int_eq(pidtuple_from_ids(full, 3, &t), 0);
	ck_assert_int_eq(pidtuple_get(t, 0), 1);
	pidtuple_free(t);

	t = SENTINEL;
	ck_assert_int_eq(pidtuple_from_ids(gap, 3, &t), -EINVAL);
	ck_assert_int_eq(pidtuple_from_ids(neg, 2, &t), -EINVAL);
	ck_assert_int_eq(pidtuple_from_ids(lead0, 2, &t), -EINVAL);
	ck_assert_int_eq(pidtuple_from_ids(full, 0, &t), -EINVAL);
	ck_assert_int_eq(pidtuple_from_ids(full, PIDTUPLE_MAX_LEVELS + 1, &t), -EINVAL);
	ck_assert_int_eq(pidtuple_from_ids(NULL, 1, &t), -EINVAL);
	ck_assert_ptr_eq(t, SENTINEL);
	ck_assert_int_eq(pidtuple_from_ids(full, 3, NULL), -EINVAL);
}
END_TEST

/* ---- parsing ------------------------------------------------------------------------- */

static const char *const good_texts[] = {
	"4242/17/1",	      "4242/17/1\n", "NSpid:\t4242\t17\t1\n", "NSpid:\t4242\t17\t1",
	"NSpid: 4242 17 1\n", "4242 17 1",   "4242\t17\t1",	      "4242  17\t 1",
};

START_TEST(test_parse_forms)
{
	const pid_t outer[] = { 4242, 17, 1 };
	struct pidtuple *want = NULL, *t = NULL;
	struct pidtuple_diag d;

	ck_assert_int_eq(pidtuple_from_outer(outer, 3, &want), 0);
	for (size_t i = 0; i < ARRAY_SIZE(good_texts); i++) {
		const char *text = good_texts[i];

		memset(&d, CANARY, sizeof(d));
		d.sz = sizeof(d);
		ck_assert_msg(pidtuple_parse(text, &t, &d) == 0, "\"%s\" not parsed", text);
		ck_assert_msg(pidtuple_equal(t, want) == 1, "\"%s\" parsed wrong", text);
		/* A success resets the verdict. */
		ck_assert_msg(d.err == 0 && d.rule == PIDTUPLE_RULE_NONE, "\"%s\": diag %d/%u",
			      text, d.err, d.rule);
		pidtuple_free(t);
	}
	pidtuple_free(want);
}
END_TEST

START_TEST(test_parse_limits)
{
	char text[16 * (PIDTUPLE_MAX_LEVELS + 1)];
	struct pidtuple *t;
	size_t len = 0;

	t = parse_ok("1");
	ck_assert_int_eq(pidtuple_levels(t), 1);
	ck_assert_int_eq(pidtuple_get(t, 0), 1);
	pidtuple_free(t);

	t = parse_ok("2147483647/1");
	ck_assert_int_eq(pidtuple_get(t, 1), INT_MAX);
	pidtuple_free(t);

	for (int i = 0; i < PIDTUPLE_MAX_LEVELS; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, i ? "/%d" : "%d", 100 + i);
	t = parse_ok(text);
	ck_assert_int_eq(pidtuple_levels(t), PIDTUPLE_MAX_LEVELS);
	ck_assert_int_eq(pidtuple_get(t, 0), 100 + PIDTUPLE_MAX_LEVELS - 1);
	ck_assert_int_eq(pidtuple_get(t, PIDTUPLE_MAX_LEVELS - 1), 100);
	assert_text(t, text);
	pidtuple_free(t);
}
END_TEST

struct bad_text {
	const char *text;
	uint32_t rule;
	int nspid_pos; /* field, counted from the outermost */
	int text_pos;  /* byte offset */
};

static const struct bad_text bad_texts[] = {
	{ "", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "\n", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "0", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "5/0", PIDTUPLE_RULE_SYNTAX, 1, 2 },
	{ "-1", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "+1", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "1/-2", PIDTUPLE_RULE_SYNTAX, 1, 2 },
	{ "1//2", PIDTUPLE_RULE_SYNTAX, 1, 2 },
	{ "1/", PIDTUPLE_RULE_SYNTAX, 1, 2 },
	{ "/1", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "abc", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "1/2x", PIDTUPLE_RULE_SYNTAX, 1, 3 },
	{ "12 x", PIDTUPLE_RULE_SYNTAX, 1, 3 },
	{ "2147483648", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "7/99999999999999999999", PIDTUPLE_RULE_SYNTAX, 1, 2 },
	{ "1/2 3", PIDTUPLE_RULE_SYNTAX, 1, 3 },
	{ "1 2/3", PIDTUPLE_RULE_SYNTAX, 1, 3 },
	{ "01", PIDTUPLE_RULE_SYNTAX, 0, 0 },
	{ "3/007", PIDTUPLE_RULE_SYNTAX, 1, 2 },
	{ "1\n\n", PIDTUPLE_RULE_SYNTAX, 0, 1 },
	{ "NSpid:4242", PIDTUPLE_RULE_SYNTAX, 0, 6 },
	{ "NSpid:\t", PIDTUPLE_RULE_SYNTAX, 0, 7 },
};

/* 0 when @text fails as expected; else 1 with the reason appended to @why. */
static int parse_fails_as(const char *text, uint32_t rule, int nspid_pos, int text_pos, char *why,
			  size_t size)
{
	struct pidtuple *t = SENTINEL;
	struct pidtuple_diag d;
	size_t len = strlen(why);
	int r;

	memset(&d, CANARY, sizeof(d));
	d.sz = sizeof(d);
	r = pidtuple_parse(text, &t, &d);
	if (r == -EINVAL && t == SENTINEL && d.err == -EINVAL && d.rule == rule &&
	    d.nspid_pos == nspid_pos && d.text_pos == text_pos && d.inner_index == -1 &&
	    d.kernel_err == 0 && d.message[0] && memchr(d.message, '\0', sizeof(d.message)) &&
	    pidtuple_parse(text, &t, NULL) == -EINVAL && t == SENTINEL)
		return 0;
	snprintf(why + len, size - len,
		 "\n  \"%s\": returned %d, rule %s (want %s), nspid_pos %d (want %d), text_pos %d "
		 "(want %d), inner_index %d, kernel_err %d, tuple %s",
		 text, r, pidtuple_rule_name(d.rule), pidtuple_rule_name(rule), d.nspid_pos,
		 nspid_pos, d.text_pos, text_pos, d.inner_index, d.kernel_err,
		 t == SENTINEL ? "untouched" : "written");
	if (t != SENTINEL)
		pidtuple_free(t);
	return 1;
}

/* Every bad text, reporting all the mismatches at once. */
START_TEST(test_parse_bad)
{
	char why[8192] = "";
	int failed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bad_texts); i++) {
		const struct bad_text *b = &bad_texts[i];

		failed += parse_fails_as(b->text, b->rule, b->nspid_pos, b->text_pos, why,
					 sizeof(why));
	}
	ck_assert_msg(!failed, "%d bad text(s) not refused as expected:%s", failed, why);
}
END_TEST

START_TEST(test_parse_too_many_levels)
{
	char why[1024] = "";
	int failed = 0;

	for (int tab = 0; tab < 2; tab++) {
		char text[8 * (PIDTUPLE_MAX_LEVELS + 2)];
		size_t len = 0, last = 0;

		for (int i = 0; i <= PIDTUPLE_MAX_LEVELS; i++) {
			if (i)
				text[len++] = tab ? '\t' : '/';
			last = len;
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%d", i + 1);
		}
		/* The 33rd field is the one that does not fit. */
		failed += parse_fails_as(text, PIDTUPLE_RULE_LEVEL_COUNT, PIDTUPLE_MAX_LEVELS,
					 (int)last, why, sizeof(why));
	}
	ck_assert_msg(!failed, "33 levels:%s", why);
}
END_TEST

START_TEST(test_parse_null)
{
	struct pidtuple *t = SENTINEL;
	struct pidtuple_diag d;

	memset(&d, CANARY, sizeof(d));
	d.sz = sizeof(d);
	ck_assert_int_eq(pidtuple_parse(NULL, &t, &d), -EINVAL);
	ck_assert_ptr_eq(t, SENTINEL);
	ck_assert_int_eq(d.err, -EINVAL);
	ck_assert_uint_eq(d.rule, PIDTUPLE_RULE_SYNTAX);
	ck_assert_int_eq(d.nspid_pos, -1);
	ck_assert_int_eq(d.text_pos, -1);
	ck_assert_int_eq(pidtuple_parse("1/2", NULL, &d), -EINVAL);
	ck_assert_int_eq(d.err, -EINVAL);
	ck_assert_int_eq(pidtuple_parse(NULL, NULL, NULL), -EINVAL);
}
END_TEST

/* ---- formatting ---------------------------------------------------------------------- */

START_TEST(test_format_snprintf)
{
	struct pidtuple *t = parse_ok("4242/17/1");
	const char *full = "4242/17/1";
	const int len = (int)strlen(full);
	char buf[32];

	ck_assert_int_eq(pidtuple_format(t, NULL, 0), len);
	memset(buf, CANARY, sizeof(buf));
	ck_assert_int_eq(pidtuple_format(t, buf, 0), len);
	ck_assert_int_eq((unsigned char)buf[0], CANARY);

	/* Every size from 1 to beyond the text: a prefix, NUL-terminated, nothing past size. */
	for (size_t size = 1; size < sizeof(buf) - 4; size++) {
		size_t copied = size - 1 < (size_t)len ? size - 1 : (size_t)len;

		memset(buf, CANARY, sizeof(buf));
		ck_assert_int_eq(pidtuple_format(t, buf, size), len);
		ck_assert_msg(strlen(buf) == copied && memcmp(buf, full, copied) == 0,
			      "size %zu: \"%s\"", size, buf);
		for (size_t i = size; i < sizeof(buf); i++)
			ck_assert_msg((unsigned char)buf[i] == CANARY, "size %zu wrote byte %zu",
				      size, i);
	}
	memset(buf, CANARY, sizeof(buf));
	ck_assert_int_eq(pidtuple_format(t, buf, (size_t)len), len);
	ck_assert_str_eq(buf, "4242/17/");
	ck_assert_int_eq(pidtuple_format(t, buf, (size_t)len + 1), len);
	ck_assert_str_eq(buf, full);

	ck_assert_int_eq(pidtuple_format(t, NULL, 5), -EINVAL);
	ck_assert_int_eq(pidtuple_format(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(pidtuple_format(NULL, NULL, 0), -EINVAL);
	pidtuple_free(t);

	/* The longest text: 32 levels of INT_MAX. */
	{
		pid_t big[PIDTUPLE_MAX_LEVELS];
		char out[PIDTUPLE_MAX_LEVELS * 11 + 1];

		for (int i = 0; i < PIDTUPLE_MAX_LEVELS; i++)
			big[i] = INT_MAX;
		ck_assert_int_eq(pidtuple_from_inner(big, PIDTUPLE_MAX_LEVELS, &t), 0);
		/* 32 fields of 10 digits and 31 slashes. */
		ck_assert_int_eq(pidtuple_format(t, out, sizeof(out)), 351);
		ck_assert_uint_eq(strlen(out), 351);
		pidtuple_free(t);
	}
}
END_TEST

/* ---- accessors ----------------------------------------------------------------------- */

START_TEST(test_levels_get)
{
	struct pidtuple *t = parse_ok("300/20/1");

	ck_assert_int_eq(pidtuple_levels(t), 3);
	ck_assert_int_eq(pidtuple_get(t, 0), 1);
	ck_assert_int_eq(pidtuple_get(t, 1), 20);
	ck_assert_int_eq(pidtuple_get(t, 2), 300);
	ck_assert_int_eq(pidtuple_get(t, 3), -ERANGE);
	ck_assert_int_eq(pidtuple_get(t, UINT_MAX), -ERANGE);
	ck_assert_int_eq(pidtuple_get(NULL, 0), -EINVAL);
	ck_assert_int_eq(pidtuple_levels(NULL), -EINVAL);
	pidtuple_free(t);
}
END_TEST

START_TEST(test_equal)
{
	struct pidtuple *a = parse_ok("300/20/1"), *b = parse_ok("NSpid:\t300\t20\t1\n");
	struct pidtuple *c = parse_ok("20/1"), *d = parse_ok("300/20/2"), *e = parse_ok("1/20/300");

	ck_assert_int_eq(pidtuple_equal(a, a), 1);
	ck_assert_int_eq(pidtuple_equal(a, b), 1);
	ck_assert_int_eq(pidtuple_equal(b, a), 1);
	ck_assert_int_eq(pidtuple_equal(a, c), 0); /* a prefix of the inner levels */
	ck_assert_int_eq(pidtuple_equal(c, a), 0);
	ck_assert_int_eq(pidtuple_equal(a, d), 0);
	ck_assert_int_eq(pidtuple_equal(a, e), 0);
	ck_assert_int_eq(pidtuple_equal(a, NULL), -EINVAL);
	ck_assert_int_eq(pidtuple_equal(NULL, a), -EINVAL);
	ck_assert_int_eq(pidtuple_equal(NULL, NULL), -EINVAL);
	pidtuple_free(a);
	pidtuple_free(b);
	pidtuple_free(c);
	pidtuple_free(d);
	pidtuple_free(e);
}
END_TEST

START_TEST(test_copy_out)
{
	struct pidtuple *t = parse_ok("300/20/1");
	pid_t buf[5];

	for (int outer = 0; outer < 2; outer++) {
		int (*to)(const struct pidtuple *, pid_t *, size_t) =
			outer ? pidtuple_to_outer : pidtuple_to_inner;

		/* Too small: -ERANGE, nothing written. */
		for (size_t n = 0; n < 3; n++) {
			memset(buf, CANARY, sizeof(buf));
			ck_assert_int_eq(to(t, buf, n), -ERANGE);
			for (size_t i = 0; i < sizeof(buf); i++)
				ck_assert_int_eq(((unsigned char *)buf)[i], CANARY);
		}
		memset(buf, CANARY, sizeof(buf));
		ck_assert_int_eq(to(t, buf, 5), 3);
		ck_assert_int_eq(buf[0], outer ? 300 : 1);
		ck_assert_int_eq(buf[1], 20);
		ck_assert_int_eq(buf[2], outer ? 1 : 300);
		for (size_t i = 3 * sizeof(pid_t); i < sizeof(buf); i++)
			ck_assert_int_eq(((unsigned char *)buf)[i], CANARY);
		ck_assert_int_eq(to(NULL, buf, 5), -EINVAL);
		ck_assert_int_eq(to(t, NULL, 5), -EINVAL);
	}
	pidtuple_free(t);
}
END_TEST

START_TEST(test_dup_free)
{
	struct pidtuple *t = parse_ok("9/8/7/6"), *c = SENTINEL;

	ck_assert_int_eq(pidtuple_dup(t, &c), 0);
	ck_assert_ptr_ne(c, t);
	ck_assert_int_eq(pidtuple_equal(t, c), 1);
	pidtuple_free(t); /* the copy is independent */
	assert_text(c, "9/8/7/6");
	pidtuple_free(c);

	c = SENTINEL;
	ck_assert_int_eq(pidtuple_dup(NULL, &c), -EINVAL);
	ck_assert_ptr_eq(c, SENTINEL);
	t = parse_ok("1");
	ck_assert_int_eq(pidtuple_dup(t, NULL), -EINVAL);
	pidtuple_free(t);
	pidtuple_free(NULL);
}
END_TEST

/* ---- version, errors, rule names ----------------------------------------------------- */

START_TEST(test_version)
{
	char want[64];

	ck_assert_int_eq(pidtuple_version_major(), PIDTUPLE_VERSION_MAJOR);
	ck_assert_int_eq(pidtuple_version_minor(), PIDTUPLE_VERSION_MINOR);
	snprintf(want, sizeof(want), "%d.%d.%d", PIDTUPLE_VERSION_MAJOR, PIDTUPLE_VERSION_MINOR,
		 PIDTUPLE_VERSION_PATCH);
	ck_assert_ptr_nonnull(pidtuple_version_string());
	ck_assert_str_eq(pidtuple_version_string(), want);
	ck_assert(PIDTUPLE_CHECK_VERSION(PIDTUPLE_VERSION_MAJOR, PIDTUPLE_VERSION_MINOR));
	ck_assert(PIDTUPLE_CHECK_VERSION(PIDTUPLE_VERSION_MAJOR, 0));
	ck_assert(PIDTUPLE_CHECK_VERSION(0, 99));
	ck_assert(!PIDTUPLE_CHECK_VERSION(PIDTUPLE_VERSION_MAJOR, PIDTUPLE_VERSION_MINOR + 1));
	ck_assert(!PIDTUPLE_CHECK_VERSION(PIDTUPLE_VERSION_MAJOR + 1, 0));
}
END_TEST

START_TEST(test_strerror)
{
	const int codes[] = { 0,     EINVAL, EEXIST,  EPERM,  EOPNOTSUPP, E2BIG,   ERANGE,
			      ESRCH, ENOSPC, ENOMEM,  ENOENT, EBADF,	  ENOTDIR, EAGAIN,
			      EINTR, EACCES, ENOEXEC, EMFILE, ENFILE,	  ENOSYS };
	const char *first = pidtuple_strerror(-EEXIST);

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		const char *pos = pidtuple_strerror(codes[i]);
		const char *neg = pidtuple_strerror(-codes[i]);

		ck_assert_msg(pos && pos[0], "strerror(%d)", codes[i]);
		ck_assert_msg(neg && neg[0], "strerror(%d)", -codes[i]);
		ck_assert_str_eq(pos, neg); /* the sign does not matter */
	}
	/* Static text: still there after other calls. */
	ck_assert_str_eq(first, pidtuple_strerror(EEXIST));
	/* The library's own wording differs from one code to the next. */
	ck_assert_str_ne(pidtuple_strerror(-EEXIST), pidtuple_strerror(-EPERM));
	ck_assert_str_ne(pidtuple_strerror(-EINVAL), pidtuple_strerror(-E2BIG));
}
END_TEST

/* Codes no C library knows: the text must stay valid ("static") after later calls. */
START_TEST(test_strerror_unknown)
{
	const int codes[] = { 4095, 12345, -12346, 1 << 20, INT_MAX, -INT_MAX };
	const char *texts[ARRAY_SIZE(codes)];
	char copies[ARRAY_SIZE(codes)][128];

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		texts[i] = pidtuple_strerror(codes[i]);
		ck_assert_msg(texts[i] && texts[i][0], "strerror(%d)", codes[i]);
		snprintf(copies[i], sizeof(copies[i]), "%s", texts[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		ck_assert_msg(strcmp(texts[i], copies[i]) == 0,
			      "strerror(%d) changed after later calls: \"%s\"", codes[i],
			      copies[i]);
}
END_TEST

/* The one int whose negation overflows. */
START_TEST(test_strerror_int_min)
{
	const char *s = pidtuple_strerror(INT_MIN);

	ck_assert_msg(s && s[0], "strerror(INT_MIN)");
	s = pidtuple_strerror(INT_MIN + 1);
	ck_assert_msg(s && s[0], "strerror(INT_MIN + 1)");
}
END_TEST

START_TEST(test_rule_names)
{
	static const struct {
		uint32_t rule;
		const char *name;
	} known[] = {
		{ PIDTUPLE_RULE_NONE, "none" },
		{ PIDTUPLE_RULE_SYNTAX, "syntax" },
		{ PIDTUPLE_RULE_LEVEL_COUNT, "level-count" },
		{ PIDTUPLE_RULE_NEWPID_ONE, "newpid-needs-1" },
		{ PIDTUPLE_RULE_PID_TAKEN, "pid-taken" },
		{ PIDTUPLE_RULE_FLAGS, "flags" },
		{ PIDTUPLE_RULE_EXIT_SIGNAL, "exit-signal" },
		{ PIDTUPLE_RULE_CGROUP, "cgroup" },
		{ PIDTUPLE_RULE_OPTIONS, "options" },
		{ PIDTUPLE_RULE_EXEC, "exec" },
	};
	const uint32_t out_of_range[] = { _PIDTUPLE_RULE_MAX, _PIDTUPLE_RULE_MAX + 1, 1000,
					  INT32_MAX, UINT32_MAX };

	for (uint32_t r = 0; r < _PIDTUPLE_RULE_MAX; r++) {
		const char *n = pidtuple_rule_name(r);

		ck_assert_msg(n && n[0], "rule %u has no name", r);
		ck_assert_str_ne(n, "unknown");
		ck_assert_msg(strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(n),
			      "rule %u: \"%s\" is not kebab-case", r, n);
		for (uint32_t s = 0; s < r; s++)
			ck_assert_str_ne(n, pidtuple_rule_name(s));
	}
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		ck_assert_str_eq(pidtuple_rule_name(known[i].rule), known[i].name);
	for (size_t i = 0; i < ARRAY_SIZE(out_of_range); i++)
		ck_assert_str_eq(pidtuple_rule_name(out_of_range[i]), "unknown");
}
END_TEST

/* ---- diag written only as far as sz covers ------------------------------------------- */

#define COVERS(sz, field) \
	((sz) >= offsetof(struct pidtuple_diag, field) + sizeof(((struct pidtuple_diag *)0)->field))

union diag_buf {
	struct pidtuple_diag d;
	unsigned char b[sizeof(struct pidtuple_diag) + 64];
};

static void assert_untouched_from(const union diag_buf *u, size_t from, size_t sz)
{
	for (size_t i = from; i < sizeof(u->b); i++)
		ck_assert_msg(u->b[i] == CANARY, "diag sz %zu: byte %zu written", sz, i);
}

START_TEST(test_diag_truncated)
{
	/* Every size from 0 to beyond the struct ("a newer header"). */
	for (size_t sz = 0; sz <= sizeof(union diag_buf); sz++) {
		union diag_buf u;
		struct pidtuple *t = SENTINEL;
		size_t known = sz < sizeof(u.d) ? sz : sizeof(u.d);

		memset(&u, CANARY, sizeof(u));
		if (sz >= sizeof(size_t))
			u.d.sz = sz;
		else
			memset(u.b, 0, sizeof(size_t)); /* sz 0: the caller wants nothing */
		ck_assert_int_eq(pidtuple_parse("1/2x", &t, &u.d), -EINVAL);
		ck_assert_ptr_eq(t, SENTINEL);
		assert_untouched_from(&u, sz < sizeof(size_t) ? sizeof(size_t) : known, sz);
		if (COVERS(sz, err))
			ck_assert_int_eq(u.d.err, -EINVAL);
		if (COVERS(sz, rule))
			ck_assert_uint_eq(u.d.rule, PIDTUPLE_RULE_SYNTAX);
		if (COVERS(sz, nspid_pos))
			ck_assert_int_eq(u.d.nspid_pos, 1);
		if (COVERS(sz, text_pos))
			ck_assert_int_eq(u.d.text_pos, 3);
		if (COVERS(sz, message))
			ck_assert_ptr_nonnull(memchr(u.d.message, '\0', sizeof(u.d.message)));
		/* Partly covered fields stay whole: no byte of them is written. */
		if (!COVERS(sz, message) && sz > offsetof(struct pidtuple_diag, message))
			assert_untouched_from(&u, offsetof(struct pidtuple_diag, message), sz);
	}
}
END_TEST

/* ---- option validation before any fork ----------------------------------------------- */

/* A fork_opts from a "newer header": four more fields. */
struct big_opts {
	struct pidtuple_fork_opts o;
	uint64_t extra[4];
};

enum entry { E_CHECK, E_FORK, E_SPAWN, E_CLONE, E_COUNT };
static const char *const entry_names[] = { "pidtuple_check", "pidtuple_fork", "pidtuple_spawn",
					   "pidtuple_clone" };

struct opts_case {
	const char *what;
	const char *tuple;
	uint64_t flags, clone_flags;
	int exit_signal, cgroup_fd;
	bool raw_sz; /* use sz as given, else sizeof(struct pidtuple_fork_opts) */
	size_t sz;
	int big; /* 1: big_opts with a zero tail, 2: with a non-zero tail */
	uint32_t reserved;
	bool lock_only; /* a lock callback without an unlock one */
	int err;
	uint32_t rule; /* checked when the diag is reachable */
	int inner_index, nspid_pos;
	pid_t pid;
};

#define SIGCHLD_BITS 17ull
/* The lowest flag bit this header does not know. */
#define UNKNOWN_FLAG (~PIDTUPLE_FORK_ALL_FLAGS & (PIDTUPLE_FORK_ALL_FLAGS + 1))
static const struct opts_case opts_cases[] = {
	{ "sz 0", "4242", .raw_sz = true, .sz = 0, .err = -EINVAL, .rule = PIDTUPLE_RULE_OPTIONS },
	{ "sz 4", "4242", .raw_sz = true, .sz = 4, .err = -EINVAL, .rule = PIDTUPLE_RULE_OPTIONS },
	{ "non-zero tail", "4242", .big = 2, .err = -E2BIG, .rule = PIDTUPLE_RULE_OPTIONS },
	/* A zero tail is accepted: the call gets as far as the last static rule. */
	{ "zero tail", "5", .big = 1, .clone_flags = CLONE_NEWPID, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_NEWPID_ONE, .inner_index = 0, .nspid_pos = 0, .pid = 5 },
	{ "reserved field", "4242", .reserved = 1, .err = -EINVAL, .rule = PIDTUPLE_RULE_OPTIONS },
	{ "lock without unlock", "4242", .lock_only = true, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_OPTIONS },
	{ "lowest unknown flag", "4242", .flags = UNKNOWN_FLAG, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "flag bit 63", "4242", .flags = 1ull << 63, .err = -EINVAL, .rule = PIDTUPLE_RULE_FLAGS },
	{ "CLONE_VM", "4242", .clone_flags = 0x100, .err = -EINVAL, .rule = PIDTUPLE_RULE_FLAGS },
	{ "CLONE_THREAD", "4242", .clone_flags = 0x10000, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "CLONE_SETTLS", "4242", .clone_flags = 0x80000, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "CLONE_PARENT", "4242", .clone_flags = 0x8000, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "CLONE_PIDFD", "4242", .clone_flags = 0x1000, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "CLONE_VFORK", "4242", .clone_flags = 0x4000, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "SIGCHLD in clone_flags", "4242", .clone_flags = SIGCHLD_BITS, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "raw CLONE_INTO_CGROUP", "4242", .clone_flags = 1ull << 33, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "clone bit 40", "4242", .clone_flags = 1ull << 40, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_FLAGS },
	{ "clone bit 63 with NEWPID", "1", .clone_flags = (1ull << 63) | CLONE_NEWPID,
	  .err = -EINVAL, .rule = PIDTUPLE_RULE_FLAGS },
	{ "exit signal 65", "4242", .flags = PIDTUPLE_FORK_EXIT_SIGNAL, .exit_signal = 65,
	  .err = -EINVAL, .rule = PIDTUPLE_RULE_EXIT_SIGNAL },
	{ "exit signal -1", "4242", .flags = PIDTUPLE_FORK_EXIT_SIGNAL, .exit_signal = -1,
	  .err = -EINVAL, .rule = PIDTUPLE_RULE_EXIT_SIGNAL },
	{ "exit signal INT_MIN", "4242", .flags = PIDTUPLE_FORK_EXIT_SIGNAL, .exit_signal = INT_MIN,
	  .err = -EINVAL, .rule = PIDTUPLE_RULE_EXIT_SIGNAL },
	/* Without the flag the field is ignored. */
	{ "exit signal 65 unflagged", "5", .exit_signal = 65, .clone_flags = CLONE_NEWPID,
	  .err = -EINVAL, .rule = PIDTUPLE_RULE_NEWPID_ONE, .inner_index = 0, .nspid_pos = 0,
	  .pid = 5 },
	{ "cgroup fd -1", "4242", .flags = PIDTUPLE_FORK_INTO_CGROUP, .cgroup_fd = -1,
	  .err = -EBADF, .rule = PIDTUPLE_RULE_CGROUP },
	{ "cgroup fd INT_MIN", "4242", .flags = PIDTUPLE_FORK_INTO_CGROUP, .cgroup_fd = INT_MIN,
	  .err = -EBADF, .rule = PIDTUPLE_RULE_CGROUP },
	{ "NEWPID innermost 5", "5", .clone_flags = CLONE_NEWPID, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_NEWPID_ONE, .inner_index = 0, .nspid_pos = 0, .pid = 5 },
	{ "NEWPID innermost 7 of 3", "4242/17/7", .clone_flags = CLONE_NEWPID, .err = -EINVAL,
	  .rule = PIDTUPLE_RULE_NEWPID_ONE, .inner_index = 0, .nspid_pos = 2, .pid = 7 },
	{ "NEWUSER|NEWPID innermost 2", "2", .clone_flags = CLONE_NEWPID | CLONE_NEWUSER,
	  .err = -EINVAL, .rule = PIDTUPLE_RULE_NEWPID_ONE, .inner_index = 0, .nspid_pos = 0,
	  .pid = 2 },
	{ "no tuple", NULL, .err = -EINVAL },
};

static int child_fn(void *arg)
{
	(void)arg;
	return 99;
}

static int lock_cb(void *arg)
{
	(void)arg;
	return 0;
}

/* Calls one entry point; a child it should never have made exits at once. */
static int call_entry(enum entry e, const struct pidtuple *t, const struct pidtuple_fork_opts *o,
		      struct pidtuple_diag *d, pid_t *ret_pid, int *ret_pidfd)
{
	char *const argv[] = { "true", NULL };
	pid_t pid;

	switch (e) {
	case E_CHECK:
		return pidtuple_check(t, o, d);
	case E_FORK:
		pid = pidtuple_fork(t, o, ret_pidfd);
		if (pid == 0)
			_exit(99);
		if (pid > 0)
			*ret_pid = pid;
		return pid;
	case E_SPAWN:
		return pidtuple_spawn(t, "/bin/true", argv, NULL, o, ret_pid, ret_pidfd);
	default:
		return pidtuple_clone(t, child_fn, NULL, o, ret_pid, ret_pidfd);
	}
}

struct opts_run {
	const struct opts_case *c;
	enum entry e;
};

static int opts_one(const struct opts_run *run)
{
	const struct opts_case *c = run->c;
	const char *name = entry_names[run->e];
	struct big_opts big;
	struct pidtuple_diag d;
	struct pidtuple *t = NULL;
	pid_t pid = -12345;
	int pidfd = -12345, fds = th_count_fds(), r;
	bool diag_reachable;

	if (c->tuple)
		TH_CHECK(pidtuple_parse(c->tuple, &t, NULL) == 0, "%s", c->tuple);
	memset(&big, 0, sizeof(big));
	big.o.sz = c->big ? sizeof(big) : c->raw_sz ? c->sz : sizeof(big.o);
	big.o.flags = c->flags;
	big.o.clone_flags = c->clone_flags;
	big.o.exit_signal = c->exit_signal;
	big.o.cgroup_fd = c->cgroup_fd;
	big.o.diag = &d;
	big.o.reserved = c->reserved;
	if (c->lock_only)
		big.o.lock = lock_cb;
	if (c->big == 2)
		big.extra[2] = 1;
	memset(&d, CANARY, sizeof(d));
	d.sz = sizeof(d);
	/* With a too-small sz the diag pointer is beyond what the library may read. */
	diag_reachable = run->e == E_CHECK || big.o.sz >= sizeof(big.o);

	r = call_entry(run->e, t, &big.o, &d, &pid, &pidfd);
	if (r > 0 || (r == 0 && run->e != E_CHECK))
		th_kill_children();
	TH_CHECK(r == c->err, "%s, %s: got %d (%s), want %d", name, c->what, r,
		 pidtuple_strerror(r), c->err);
	TH_CHECK(pid == -12345 && pidfd == -12345, "%s, %s: out-parameters written", name, c->what);
	if (diag_reachable) {
		TH_CHECK(d.err == c->err, "%s, %s: diag err %d", name, c->what, d.err);
		if (c->rule)
			TH_CHECK(d.rule == c->rule, "%s, %s: rule %s, want %s", name, c->what,
				 pidtuple_rule_name(d.rule), pidtuple_rule_name(c->rule));
		TH_CHECK(d.kernel_err == 0, "%s, %s: the kernel was asked (%d)", name, c->what,
			 d.kernel_err);
		if (c->rule == PIDTUPLE_RULE_NEWPID_ONE)
			TH_CHECK(d.inner_index == c->inner_index && d.nspid_pos == c->nspid_pos &&
					 d.pid == c->pid,
				 "%s, %s: level inner %d nspid %d pid %d", name, c->what,
				 d.inner_index, d.nspid_pos, d.pid);
		TH_CHECK(d.message[0] != '\0', "%s, %s: no message", name, c->what);
	}
	pidtuple_free(t);
	TH_CHECK(th_count_children() == 0, "%s, %s: a child was created", name, c->what);
	TH_CHECK(th_count_fds() == fds, "%s, %s: fd leaked", name, c->what);
	return 0;
}

/* One case through every entry point. */
static int opts_body(void *arg)
{
	for (int e = 0; e < E_COUNT; e++) {
		struct opts_run run = { arg, (enum entry)e };

		if (opts_one(&run))
			return 1;
	}
	return 0;
}

/* Inside a private PID namespace when we may make one: a wrongly accepted call forks there. */
static int run_guarded(int (*fn)(void *), void *arg)
{
	return th_privileged() ? th_in_pidns_leakfree(fn, arg) : th_run_leak_checked(fn, arg);
}

START_TEST(test_fork_opts_rejected)
{
	ck_assert_msg(run_guarded(opts_body, (void *)&opts_cases[_i]) == 0, "%s",
		      opts_cases[_i].what);
}
END_TEST

/* NULL opts mean defaults; NULL program, argv or callback are refused before forking. */
static int null_args_body(void *arg)
{
	char *const argv[] = { "true", NULL };
	struct pidtuple *t = NULL;
	struct pidtuple_diag d;
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .diag = &d);
	pid_t pid = -1;
	int pidfd = -1, fds = th_count_fds();

	(void)arg;
	TH_CHECK(pidtuple_parse("4242", &t, NULL) == 0, "parse");
	memset(&d, CANARY, sizeof(d));
	d.sz = sizeof(d);
	TH_CHECK(pidtuple_spawn(t, NULL, argv, NULL, &o, &pid, &pidfd) == -EINVAL, "NULL path");
	TH_CHECK(d.err == -EINVAL, "diag err %d", d.err);
	TH_CHECK(pidtuple_spawn(t, "/bin/true", NULL, NULL, &o, &pid, &pidfd) == -EINVAL,
		 "NULL argv");
	TH_CHECK(pidtuple_spawn(NULL, "/bin/true", argv, NULL, &o, &pid, &pidfd) == -EINVAL,
		 "NULL tuple");
	TH_CHECK(pidtuple_clone(t, NULL, NULL, &o, &pid, &pidfd) == -EINVAL, "NULL fn");
	TH_CHECK(pidtuple_clone(NULL, child_fn, NULL, NULL, &pid, &pidfd) == -EINVAL, "NULL tuple");
	TH_CHECK(pidtuple_fork(NULL, NULL, &pidfd) == -EINVAL, "fork NULL tuple");
	TH_CHECK(pidtuple_check(NULL, NULL, NULL) == -EINVAL, "check NULL tuple");
	TH_CHECK(pid == -1 && pidfd == -1, "out-parameters written");
	pidtuple_free(t);
	TH_CHECK(th_count_children() == 0, "a child was created");
	TH_CHECK(th_count_fds() == fds, "fd leaked");
	return 0;
}

START_TEST(test_null_arguments)
{
	ck_assert_int_eq(run_guarded(null_args_body, NULL), 0);
}
END_TEST

/* The diag of a fork call may come from an older header, too. */
static int truncated_fork_diag_one(size_t sz)
{
	union diag_buf u;
	struct pidtuple *t = NULL;
	PIDTUPLE_OPTS(pidtuple_fork_opts, o, .flags = UNKNOWN_FLAG, .diag = &u.d);
	int r;

	TH_CHECK(pidtuple_parse("4242", &t, NULL) == 0, "parse");
	memset(&u, CANARY, sizeof(u));
	u.d.sz = sz;
	r = pidtuple_fork(t, &o, NULL);
	if (r == 0)
		_exit(99);
	pidtuple_free(t);
	TH_CHECK(r == -EINVAL, "sz %zu: %d", sz, r);
	for (size_t i = sz; i < sizeof(u.b); i++)
		TH_CHECK(u.b[i] == CANARY, "sz %zu: byte %zu written", sz, i);
	if (COVERS(sz, rule))
		TH_CHECK(u.d.rule == PIDTUPLE_RULE_FLAGS, "sz %zu: rule %u", sz, u.d.rule);
	TH_CHECK(th_count_children() == 0, "a child was created");
	return 0;
}

static int truncated_fork_diag_body(void *arg)
{
	const size_t sizes[] = { sizeof(size_t), offsetof(struct pidtuple_diag, rule),
				 offsetof(struct pidtuple_diag, inner_index),
				 offsetof(struct pidtuple_diag, message) + 3,
				 sizeof(struct pidtuple_diag) };

	(void)arg;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		if (truncated_fork_diag_one(sizes[i]))
			return 1;
	return 0;
}

START_TEST(test_fork_diag_truncated)
{
	ck_assert_int_eq(run_guarded(truncated_fork_diag_body, NULL), 0);
}
END_TEST

/* Runs in Check's test process, after each test of the pure cases. */
static void no_leaks(void)
{
	ck_assert_msg(th_leak_check() == 0, "memory leaked");
}

static Suite *tuple_suite(void)
{
	Suite *s = suite_create("tuple");
	TCase *tc = tcase_create("tuple");

	tcase_add_checked_fixture(tc, NULL, no_leaks);

	tcase_add_test(tc, test_from_inner_outer_order);
	tcase_add_test(tc, test_from_bad_input);
	tcase_add_test(tc, test_from_ids);
	tcase_add_test(tc, test_parse_forms);
	tcase_add_test(tc, test_parse_limits);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_parse_too_many_levels);
	tcase_add_test(tc, test_parse_null);
	tcase_add_test(tc, test_format_snprintf);
	tcase_add_test(tc, test_levels_get);
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_copy_out);
	tcase_add_test(tc, test_dup_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_checked_fixture(tc, NULL, no_leaks);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_strerror_unknown);
	tcase_add_test(tc, test_strerror_int_min);
	tcase_add_test(tc, test_rule_names);
	tcase_add_test(tc, test_diag_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("fork_opts");
	tcase_add_loop_test(tc, test_fork_opts_rejected, 0, (int)ARRAY_SIZE(opts_cases));
	tcase_add_test(tc, test_null_arguments);
	tcase_add_test(tc, test_fork_diag_truncated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return th_run_suite(tuple_suite());
}
