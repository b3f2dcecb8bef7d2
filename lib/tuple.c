/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tuple object: construction, the text form, accessors. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "lib.h"
#include "syscall_shim.h"
#include "tuple.h"

int pt_tuple_new(const pid_t *pids, size_t n, bool outer_first, bool allow_zero,
		 struct pidtuple **ret)
{
	struct pidtuple *t;

	pt_return_if(!pids || !ret, -EINVAL);
	pt_return_if(n == 0 || n > PIDTUPLE_MAX_LEVELS, -EINVAL);
	for (size_t i = 0; i < n; i++)
		pt_return_if(pids[i] < (allow_zero ? 0 : 1), -EINVAL);
	t = pt_malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->n = (unsigned int)n;
	for (size_t i = 0; i < n; i++)
		t->pid[i] = outer_first ? pids[n - 1 - i] : pids[i];
	*ret = t;
	return 0;
}

PT_PUBLIC int pidtuple_from_inner(const pid_t *pids, size_t n, struct pidtuple **ret_tuple)
{
	return pt_tuple_new(pids, n, false, false, ret_tuple);
}

PT_PUBLIC int pidtuple_from_outer(const pid_t *pids, size_t n, struct pidtuple **ret_tuple)
{
	return pt_tuple_new(pids, n, true, false, ret_tuple);
}

PT_PUBLIC int pidtuple_from_ids(const pid_t *pids, size_t n, struct pidtuple **ret_tuple)
{
	pt_return_if(!pids || n > PIDTUPLE_MAX_LEVELS, -EINVAL);
	/* An id has numbers from its own level outwards: invisible levels are the inner end
	 * (all of them for a group or session made above the outermost level). The range of
	 * each number and of @n is pt_tuple_new()'s to check. */
	for (size_t i = 1; i < n; i++)
		pt_return_if(pids[i] > 0 && pids[i - 1] == 0, -EINVAL);
	return pt_tuple_new(pids, n, true, true, ret_tuple);
}

static int parse_fail(struct pidtuple_diag *diag, const char *text, const char *at, int field,
		      uint32_t rule, const char *what)
{
	int pos = (int)(at - text);

	pt_diag(diag, -EINVAL, rule, -1, 0, 0, "tuple text, field %d (byte %d): %s", field + 1, pos,
		what);
	pt_diag_set_text_pos(diag, pos, field);
	return -EINVAL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool at_end(const char *p)
{
	return *p == '\0' || (*p == '\n' && p[1] == '\0');
}

/* Field @n at *@p: a decimal PID without sign or leading zero; *@p moves past it. */
static int parse_field(struct pidtuple_diag *diag, const char *text, const char **p, int n,
		       pid_t *ret)
{
	const char *start = *p, *q = *p;
	long long v = 0;

	if (*q < '0' || *q > '9') {
		const char *what = *q == '-' || *q == '+' ? "a sign is not allowed"
				   : *q == '\0' || *q == '\n' || *q == '/' || is_blank(*q)
					   ? "empty field"
					   : "not a decimal PID";
		return parse_fail(diag, text, q, n, PIDTUPLE_RULE_SYNTAX, what);
	}
	if (*q == '0')
		return parse_fail(diag, text, q, n, PIDTUPLE_RULE_SYNTAX,
				  q[1] >= '0' && q[1] <= '9' ? "leading zero"
							     : "PID 0 is not a PID");
	while (*q >= '0' && *q <= '9') {
		v = v * 10 + (*q - '0');
		if (v > INT_MAX)
			return parse_fail(diag, text, start, n, PIDTUPLE_RULE_SYNTAX,
					  "value beyond INT_MAX");
		q++;
	}
	if (n == PIDTUPLE_MAX_LEVELS)
		return parse_fail(diag, text, start, n, PIDTUPLE_RULE_LEVEL_COUNT,
				  "more than 32 levels");
	*ret = (pid_t)v;
	*p = q;
	return 0;
}

/* After field @n: 1 at the end of the text, 0 past a separator, -EINVAL. The first separator
 * fixes *@sep: '/' or ' ' (any run of blanks). */
static int parse_separator(struct pidtuple_diag *diag, const char *text, const char **p, int n,
			   char *sep)
{
	const char *q = *p;

	if (at_end(q))
		return 1;
	if (*q == '/' && *sep != ' ') {
		*sep = '/';
		*p = q + 1;
		return 0;
	}
	if (is_blank(*q) && *sep != '/') {
		*sep = ' ';
		while (is_blank(*q))
			q++;
		*p = q;
		return at_end(q); /* trailing blanks of an NSpid line */
	}
	return parse_fail(diag, text, q, n, PIDTUPLE_RULE_SYNTAX,
			  *q == '/' || is_blank(*q) ? "mixed separators"
						    : "trailing characters after the PID");
}

PT_PUBLIC int pidtuple_parse(const char *text, struct pidtuple **ret_tuple,
			     struct pidtuple_diag *diag)
{
	pid_t outer[PIDTUPLE_MAX_LEVELS];
	const char *p = text;
	char sep = 0;
	int n = 0, r;

	pt_diag_reset(diag, 0);
	if (!text || !ret_tuple)
		return pt_diag(diag, -EINVAL, PIDTUPLE_RULE_SYNTAX, -1, 0, 0,
			       "tuple text: NULL argument");
	if (strncmp(p, "NSpid:", 6) == 0) {
		p += 6;
		if (!is_blank(*p))
			return parse_fail(diag, text, p, 0, PIDTUPLE_RULE_SYNTAX,
					  "expected a tab or space after 'NSpid:'");
		sep = ' ';
		while (is_blank(*p))
			p++;
	}
	if (at_end(p))
		return parse_fail(diag, text, p, 0, PIDTUPLE_RULE_SYNTAX, "empty tuple");
	do {
		r = parse_field(diag, text, &p, n, &outer[n]);
		if (r < 0)
			return r;
		r = parse_separator(diag, text, &p, n++, &sep);
		if (r < 0)
			return r;
	} while (r == 0);
	return pt_tuple_new(outer, (size_t)n, true, false, ret_tuple);
}

PT_PUBLIC int pidtuple_format(const struct pidtuple *tuple, char *buf, size_t size)
{
	size_t len = 0;

	pt_return_if(!tuple || (!buf && size), -EINVAL);
	if (size)
		buf[0] = '\0';
	for (unsigned int i = tuple->n; i-- > 0;) {
		char field[16];
		int k = snprintf(field, sizeof(field), i + 1 == tuple->n ? "%d" : "/%d",
				 (int)tuple->pid[i]);

		if (len + 1 < size) {
			size_t room = size - len - 1;
			size_t c = (size_t)k < room ? (size_t)k : room;

			memcpy(buf + len, field, c);
			buf[len + c] = '\0';
		}
		len += (size_t)k;
	}
	return (int)len;
}

PT_PUBLIC int pidtuple_levels(const struct pidtuple *tuple)
{
	pt_return_if(!tuple, -EINVAL);
	return (int)tuple->n;
}

PT_PUBLIC pid_t pidtuple_get(const struct pidtuple *tuple, unsigned int inner_index)
{
	pt_return_if(!tuple, -EINVAL);
	pt_return_if(inner_index >= tuple->n, -ERANGE);
	return tuple->pid[inner_index];
}

PT_PUBLIC int pidtuple_equal(const struct pidtuple *a, const struct pidtuple *b)
{
	pt_return_if(!a || !b, -EINVAL);
	return a->n == b->n && memcmp(a->pid, b->pid, a->n * sizeof(pid_t)) == 0;
}

static int copy_out(const struct pidtuple *t, pid_t *pids, size_t n, bool outer_first)
{
	pt_return_if(!t || !pids, -EINVAL);
	pt_return_if(n < t->n, -ERANGE);
	for (unsigned int i = 0; i < t->n; i++)
		pids[i] = outer_first ? t->pid[t->n - 1 - i] : t->pid[i];
	return (int)t->n;
}

PT_PUBLIC int pidtuple_to_inner(const struct pidtuple *tuple, pid_t *pids, size_t n)
{
	return copy_out(tuple, pids, n, false);
}

PT_PUBLIC int pidtuple_to_outer(const struct pidtuple *tuple, pid_t *pids, size_t n)
{
	return copy_out(tuple, pids, n, true);
}

PT_PUBLIC int pidtuple_dup(const struct pidtuple *tuple, struct pidtuple **ret_tuple)
{
	pt_return_if(!tuple, -EINVAL);
	return pt_tuple_new(tuple->pid, tuple->n, false, true, ret_tuple);
}

PT_PUBLIC void pidtuple_free(struct pidtuple *tuple)
{
	free(tuple);
}
