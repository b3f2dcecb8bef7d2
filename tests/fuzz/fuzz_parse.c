/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidtuple_parse() on any text. Beyond "no crash": the verdict must match a reference parser
 * written another way (digit runs and separators), a refusal must leave the out-parameter alone
 * and say where, and an accepted tuple must survive pidtuple_format() at every buffer size, a
 * re-parse, the NSpid form and the array conversions.
 */
#include <limits.h>

#include "fuzz_common.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The documented grammar; returns the levels (outermost first in @outer), or -1. */
static int ref_parse(const char *s, pid_t *outer)
{
	size_t len = strlen(s), i = 0;
	char kind = 0; /* the separator of this text: '/' or ' ' for a run of blanks */
	int n = 0;

	if (strncmp(s, "NSpid:", 6) == 0) {
		if (!is_blank(s[6]))
			return -1;
		kind = ' ';
		s += 6;
		len -= 6;
		while (is_blank(*s)) {
			s++;
			len--;
		}
	}
	if (len && s[len - 1] == '\n')
		len--;
	while (i < len) {
		size_t start = i;
		long long v = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (i - start == 10)
				return -1; /* 11 digits without a leading zero: above INT_MAX */
			v = v * 10 + (s[i++] - '0');
		}
		if (i == start || s[start] == '0' || v > INT_MAX || n == PIDTUPLE_MAX_LEVELS)
			return -1;
		outer[n++] = (pid_t)v;
		if (i == len)
			break;
		if (s[i] == '/' && kind != ' ') {
			kind = '/';
			if (++i == len)
				return -1; /* a trailing slash leaves an empty field */
		} else if (is_blank(s[i]) && kind != '/') {
			kind = ' ';
			while (i < len && is_blank(s[i]))
				i++;
		} else {
			return -1;
		}
	}
	return n ? n : -1;
}

static void check_refused(const char *text, int r, const struct pidtuple_diag *d)
{
	fuzz_assert(r == -EINVAL);
	fuzz_assert(d->err == -EINVAL);
	fuzz_assert(d->rule == PIDTUPLE_RULE_SYNTAX || d->rule == PIDTUPLE_RULE_LEVEL_COUNT);
	fuzz_assert(d->text_pos >= 0 && (size_t)d->text_pos <= strlen(text));
	fuzz_assert(d->nspid_pos >= 0 &&
		    d->nspid_pos <= PIDTUPLE_MAX_LEVELS); /* the 33rd field too */
	fuzz_assert(d->message[0] != '\0');
	fuzz_assert(d->node == -1);
}

/* pidtuple_format() into exactly @size bytes must give the first size-1 bytes of @full. */
static void check_format_size(const struct pidtuple *t, const char *full, size_t size)
{
	size_t len = strlen(full), keep;
	char *buf = malloc(size ? size : 1);

	fuzz_assert(buf);
	memset(buf, FUZZ_CANARY, size ? size : 1);
	fuzz_assert(pidtuple_format(t, buf, size) == (int)len);
	if (size == 0) {
		fuzz_assert((unsigned char)buf[0] == FUZZ_CANARY);
	} else {
		keep = len < size - 1 ? len : size - 1;
		fuzz_assert(memcmp(buf, full, keep) == 0 && buf[keep] == '\0');
	}
	free(buf);
}

static void check_round_trip(const struct pidtuple *t, const pid_t *ref, int n)
{
	pid_t inner[PIDTUPLE_MAX_LEVELS + 1], outer[PIDTUPLE_MAX_LEVELS + 1];
	char canon[PIDTUPLE_MAX_LEVELS * 12], nspid[PIDTUPLE_MAX_LEVELS * 12 + 16], *full;
	struct pidtuple *t2 = NULL;
	size_t pos = 0, npos;
	int len;

	fuzz_assert(pidtuple_levels(t) == n);
	/* The canonical text, built without the library. */
	npos = (size_t)snprintf(nspid, sizeof(nspid), "NSpid:");
	for (int i = 0; i < n; i++) {
		pos += (size_t)snprintf(canon + pos, sizeof(canon) - pos, i ? "/%d" : "%d", ref[i]);
		npos += (size_t)snprintf(nspid + npos, sizeof(nspid) - npos, "\t%d", ref[i]);
	}
	snprintf(nspid + npos, sizeof(nspid) - npos, "\n");

	len = pidtuple_format(t, NULL, 0);
	fuzz_assert(len > 0 && (size_t)len == pos);
	full = malloc((size_t)len + 1);
	fuzz_assert(full);
	fuzz_assert(pidtuple_format(t, full, (size_t)len + 1) == len);
	fuzz_assert(strcmp(full, canon) == 0);
	fuzz_assert(pidtuple_format(t, NULL, 1) == -EINVAL);
	fuzz_assert(pidtuple_format(NULL, full, (size_t)len + 1) == -EINVAL);
	{
		const size_t sizes[] = { 0,
					 1,
					 2,
					 (size_t)len / 2,
					 (size_t)len,
					 (size_t)len + 1,
					 (size_t)len + 2,
					 (size_t)len + 64 };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			check_format_size(t, full, sizes[i]);
	}

	fuzz_assert(pidtuple_parse(full, &t2, NULL) == 0);
	fuzz_assert(pidtuple_equal(t, t2) == 1);
	pidtuple_free(t2);
	fuzz_assert(pidtuple_parse(nspid, &t2, NULL) == 0);
	fuzz_assert(pidtuple_equal(t, t2) == 1);
	pidtuple_free(t2);
	free(full);

	/* Arrays: a short one is refused untouched, the exact one filled, orders reversed. */
	memset(inner, 0, sizeof(inner));
	fuzz_assert(pidtuple_to_inner(t, inner, (size_t)n - 1) == -ERANGE);
	fuzz_assert(pidtuple_to_outer(t, outer, (size_t)n - 1) == -ERANGE);
	fuzz_assert(inner[0] == 0);
	fuzz_assert(pidtuple_to_inner(t, inner, (size_t)n) == n);
	fuzz_assert(pidtuple_to_outer(t, outer, (size_t)n) == n);
	for (int i = 0; i < n; i++) {
		fuzz_assert(outer[i] == ref[i]);
		fuzz_assert(inner[i] == ref[n - 1 - i]);
		fuzz_assert(pidtuple_get(t, (unsigned int)i) == inner[i]);
	}
	fuzz_assert(pidtuple_get(t, (unsigned int)n) == -ERANGE);

	fuzz_assert(pidtuple_from_inner(inner, (size_t)n, &t2) == 0);
	fuzz_assert(pidtuple_equal(t, t2) == 1);
	pidtuple_free(t2);
	fuzz_assert(pidtuple_from_outer(outer, (size_t)n, &t2) == 0);
	fuzz_assert(pidtuple_equal(t, t2) == 1);
	pidtuple_free(t2);
	fuzz_assert(pidtuple_dup(t, &t2) == 0);
	fuzz_assert(pidtuple_equal(t, t2) == 1);
	pidtuple_free(t2);
}

/* Stands for "no tuple written": out-parameters are written only on success. */
static char sentinel;
#define untouched ((struct pidtuple *)&sentinel)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pidtuple *t = untouched, *t2 = untouched;
	pid_t ref[PIDTUPLE_MAX_LEVELS];
	struct fuzz_sized full, odd;
	char *text = malloc(size + 1);
	int r, n;

	fuzz_assert(text);
	memcpy(text, data, size);
	text[size] = '\0';
	n = ref_parse(text, ref);

	fuzz_sized_new(&full, sizeof(struct pidtuple_diag));
	r = pidtuple_parse(text, &t, (struct pidtuple_diag *)full.p);
	fuzz_diag_check(&full, true);
	if (r < 0) {
		if (n >= 0)
			fprintf(stderr, "refused, but the reference reads %d levels\n", n);
		fuzz_assert(n < 0);
		fuzz_assert(t == untouched);
		check_refused(text, r, (const struct pidtuple_diag *)full.p);
	} else {
		const struct pidtuple_diag *d = (const void *)full.p;

		if (n < 0)
			fprintf(stderr, "accepted, but the reference refuses it\n");
		fuzz_assert(r == 0 && n > 0);
		fuzz_assert(d->err == 0 && d->rule == PIDTUPLE_RULE_NONE && d->text_pos == -1);
		fuzz_assert(d->node == -1);
		check_round_trip(t, ref, n);
	}

	/* The same verdict with no diag and with a diag of any size, written only within sz. */
	fuzz_assert(pidtuple_parse(text, &t2, NULL) == r);
	pidtuple_free(t2 == untouched ? NULL : t2);
	t2 = untouched;
	fuzz_sized_new(&odd, (size + (size ? data[0] : 0u)) %
				     (sizeof(struct pidtuple_diag) + FUZZ_SLACK));
	fuzz_assert(pidtuple_parse(text, &t2, (struct pidtuple_diag *)odd.p) == r);
	fuzz_diag_check(&odd, true);
	pidtuple_free(t2 == untouched ? NULL : t2);

	fuzz_assert(pidtuple_parse(NULL, &t2, NULL) == -EINVAL);
	fuzz_assert(pidtuple_parse(text, NULL, NULL) == -EINVAL);

	fuzz_sized_free(&odd);
	fuzz_sized_free(&full);
	pidtuple_free(t == untouched ? NULL : t);
	free(text);
	return 0;
}
