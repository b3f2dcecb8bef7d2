/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libpidtuple-json: a tree description to and from JSON text (docs/tree-json.md), on json-c. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "pidtuple-json.h"

#define FORMAT_NAME "libpidtuple-tree"
/* The first format version with members version 1 lacks: a node's "outside", "threads" and
 * "name". */
#define VERSION_THREADS 2
/* Root, nodes, node, exec, argv: 5 levels; deeper text is refused by the tokener itself. */
#define MAX_DEPTH 8
/* The kernel's limits for execve(): a path (PATH_MAX, NUL included) and one string. */
#define MAX_PATH_LEN (PATH_MAX - 1)
#define MAX_ARG_STRLEN (32 * 4096)
#define MSG_VALUE_MAX 40 /* bytes of a value quoted in a message */

/* ---- diagnostics: lib/diag.c, compiled into this library too ---- */

/* Fills @d with a verdict about node @node (-1: the document) and returns @err. */
static int __attribute__((format(printf, 5, 6)))
fail(struct pidtuple_diag *d, int err, uint32_t rule, int node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = pt_diagv(d, err, rule, -1, 0, 0, fmt, ap);
	va_end(ap);
	PT_OPTS_SET(d, node, node);
	return err;
}

/* One level of a tuple: its position outermost first and as an inner index. */
static void diag_level(struct pidtuple_diag *d, int levels, int pos, pid_t pid)
{
	if (!pt_diag_usable(d))
		return;
	PT_OPTS_SET(d, levels, levels);
	PT_OPTS_SET(d, nspid_pos, pos);
	PT_OPTS_SET(d, inner_index, pos >= 0 ? levels - 1 - pos : -1);
	PT_OPTS_SET(d, pid, pid);
}

/* ---- UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) ---- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* ---- the lexical rules json-c does not enforce ---- */

/*
 * json-c's strict mode still takes single-quoted strings and raw control characters inside
 * strings, and keeps the last of two equal keys. In text it has accepted, tracking only
 * double-quoted strings is enough to see all three: outside them, a quote can only open a
 * single-quoted string and a colon only follows a key. The same pass counts objects and
 * arrays, to refuse a text that would cost json-c far more memory than a tree needs.
 */
struct lex {
	size_t objects, arrays, colons;
	size_t bad_pos; /* first violation, or SIZE_MAX */
	const char *bad_what;
};

static void lex_bad(struct lex *lx, size_t pos, const char *what)
{
	lx->bad_pos = pos;
	lx->bad_what = what;
}

static void lex_scan(const char *s, size_t len, struct lex *lx)
{
	bool in_str = false;

	*lx = (struct lex){ .bad_pos = SIZE_MAX };
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			else if (c < 0x20 && lx->bad_pos == SIZE_MAX)
				lex_bad(lx, i,
					"a raw control character in a string (write \\u00XX)");
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
			lx->objects++;
			break;
		case '[':
			lx->arrays++;
			break;
		case ':':
			lx->colons++;
			break;
		case '\'':
			if (lx->bad_pos == SIZE_MAX)
				lex_bad(lx, i,
					"a single-quoted string (JSON strings use double quotes)");
			break;
		}
	}
}

/* The keys json-c kept, over every object. */
static size_t count_keys(json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		n = (size_t)json_object_object_length(o);
		json_object_object_foreach(o, k, v)
		{
			(void)k;
			n += count_keys(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += count_keys(json_object_array_get_idx(o, i));
	}
	return n;
}

struct dup_walk {
	const size_t *keys; /* colons of each object of the text, in opening order */
	size_t next;	    /* the next object, in the same order */
	char path[128];
};

/*
 * Walks json-c's objects in document order: the first whose key count falls short of the
 * text's holds a repeated key (objects before it are untouched by json-c's replacing).
 * Returns its opening index, or SIZE_MAX.
 */
static size_t find_dup(json_object *o, struct dup_walk *w, size_t plen)
{
	size_t r;

	if (json_object_is_type(o, json_type_object)) {
		size_t me = w->next++;

		if ((size_t)json_object_object_length(o) != w->keys[me])
			return me;
		json_object_object_foreach(o, k, v)
		{
			snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s", plen ? "." : "",
				 k);
			r = find_dup(v, w, strlen(w->path));
			if (r != SIZE_MAX)
				return r;
			w->path[plen] = '\0';
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			snprintf(w->path + plen, sizeof(w->path) - plen, "[%zu]", i);
			r = find_dup(json_object_array_get_idx(o, i), w, strlen(w->path));
			if (r != SIZE_MAX)
				return r;
			w->path[plen] = '\0';
		}
	}
	return SIZE_MAX;
}

/* Rare path: some object repeats a key. Says which one, and where it opens. */
static int report_dup(const char *s, size_t len, size_t objects, json_object *root,
		      struct pidtuple_diag *d)
{
	size_t *keys = calloc(objects ? objects : 1, sizeof(*keys));
	size_t *opened = calloc(objects ? objects : 1, sizeof(*opened));
	size_t stack[MAX_DEPTH + 1], depth = 0, n = 0, at;
	struct dup_walk w = { .keys = keys };
	bool in_str = false;
	int r;

	if (!keys || !opened) {
		free(keys);
		free(opened);
		return fail(d, -ENOMEM, PIDTUPLE_RULE_NONE, -1, "out of memory");
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if ((c == '{' || c == '[') && depth <= MAX_DEPTH) {
			stack[depth++] = c == '{' ? n : SIZE_MAX;
			if (c == '{')
				opened[n++] = i;
		} else if ((c == '}' || c == ']') && depth) {
			depth--;
		} else if (c == ':' && depth && stack[depth - 1] != SIZE_MAX) {
			keys[stack[depth - 1]]++;
		}
	}
	at = find_dup(root, &w, 0);
	for (char *c = w.path; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = '?'; /* keys on the way may hold anything; the message is one line */
	r = fail(d, -EINVAL, PIDTUPLE_RULE_SYNTAX, -1, "%s: an object names the same member twice",
		 w.path[0] ? w.path : "(document)");
	if (at != SIZE_MAX && pt_diag_usable(d))
		PT_OPTS_SET(d, text_pos, (int32_t)opened[at]);
	free(keys);
	free(opened);
	return r;
}

/* ---- parsing the text ---- */

static void line_col(const char *s, size_t pos, size_t *line, size_t *col)
{
	const char *nl = NULL;

	*line = 1;
	for (size_t i = 0; i < pos; i++) {
		if (s[i] == '\n') {
			(*line)++;
			nl = s + i;
		}
	}
	*col = (size_t)(s + pos - (nl ? nl + 1 : s)) + 1;
}

static int syntax_error(const char *s, size_t pos, const char *what, struct pidtuple_diag *d)
{
	size_t line, col;
	int r;

	line_col(s, pos, &line, &col);
	r = fail(d, -EINVAL, PIDTUPLE_RULE_SYNTAX, -1, "not valid JSON at line %zu, column %zu: %s",
		 line, col, what);
	if (pt_diag_usable(d))
		PT_OPTS_SET(d, text_pos, (int32_t)pos);
	return r;
}

static int parse_text(const char *s, size_t len, json_object **ret, struct pidtuple_diag *d)
{
	struct json_tokener *tok;
	json_object *root;
	struct lex lx;
	size_t end;
	enum json_tokener_error e;

	/* An empty object costs json-c some 770 bytes, an empty array 150: a tree needs at
	 * least 16 bytes of text for each node object and 8 for each array. */
	lex_scan(s, len, &lx);
	if (lx.objects * 16 + lx.arrays * 8 > len + 64)
		return fail(d, -EINVAL, PIDTUPLE_RULE_SYNTAX, -1,
			    "%zu objects and %zu arrays in %zu bytes: more than a tree "
			    "description holds",
			    lx.objects, lx.arrays, len);

	tok = json_tokener_new_ex(MAX_DEPTH);
	if (!tok)
		return fail(d, -ENOMEM, PIDTUPLE_RULE_NONE, -1, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* The NUL is part of the input: it ends a number at the end of the text. */
	root = json_tokener_parse_ex(tok, s, (int)len + 1);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (end > len)
		end = len; /* it counts the NUL it was given */
	if (!root && e == json_tokener_success)
		return fail(d, -EINVAL, PIDTUPLE_RULE_SYNTAX, -1,
			    "(document): null, not a JSON object");
	if (!root) {
		if (e == json_tokener_error_parse_eof || e == json_tokener_continue)
			return syntax_error(s, end, "the text ends inside a value (truncated?)", d);
		if (e == json_tokener_error_depth)
			return syntax_error(s, end, "nested deeper than a tree description", d);
		return syntax_error(s, end, json_tokener_error_desc(e), d);
	}
	if (end < len) {
		json_object_put(root);
		return syntax_error(s, end, "text after the JSON value", d);
	}
	if (lx.bad_pos != SIZE_MAX) {
		json_object_put(root);
		return syntax_error(s, lx.bad_pos, lx.bad_what, d);
	}
	if (count_keys(root) != lx.colons) {
		int r = report_dup(s, len, lx.objects, root, d);

		json_object_put(root);
		return r;
	}
	*ret = root;
	return 0;
}

/* ---- reading the document ---- */

struct reader {
	struct pidtuple_diag *diag;
	int64_t version; /* the document's format version */
	int node;	 /* the node being read, or -1 */
	char path[64];	 /* "nodes[3]" or "" */
	int *levels;	 /* levels of each node read so far */
};

static const char *type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number with a fraction or exponent";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "a value";
}

/* The value as JSON, cut to MSG_VALUE_MAX bytes at a character boundary. */
static const char *show(json_object *v, char *buf, size_t size)
{
	const char *j = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n = j ? strlen(j) : 0;

	if (n <= MSG_VALUE_MAX) {
		snprintf(buf, size, "%s", j ? j : "?");
		return buf;
	}
	n = MSG_VALUE_MAX;
	while (n && ((unsigned char)j[n] & 0xc0) == 0x80)
		n--;
	snprintf(buf, size, "%.*s...", (int)n, j);
	return buf;
}

static int __attribute__((format(printf, 4, 5)))
rfail(struct reader *rd, uint32_t rule, const char *member, const char *fmt, ...)
{
	char msg[PIDTUPLE_DIAG_MESSAGE_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(rd->diag, -EINVAL, rule, rd->node, "%s%s%s: %s", rd->path,
		    rd->path[0] && member[0] && member[0] != '[' ? "." : "", member, msg);
}

static int want_type(struct reader *rd, json_object *v, json_type type, const char *member,
		     const char *what)
{
	if (json_object_is_type(v, type))
		return 0;
	return rfail(rd, PIDTUPLE_RULE_SYNTAX, member, "expected %s, got %s", what, type_name(v));
}

/* Every member of @o must be one of @known (NULL-terminated). */
static int only_known(struct reader *rd, json_object *o, const char *const *known)
{
	json_object_object_foreach(o, k, v)
	{
		size_t i;

		(void)v;
		for (i = 0; known[i]; i++)
			if (strcmp(k, known[i]) == 0)
				break;
		if (!known[i]) {
			char name[MSG_VALUE_MAX + 8];

			snprintf(name, sizeof(name), "%.*s", MSG_VALUE_MAX, k);
			for (char *c = name; *c; c++)
				if ((unsigned char)*c < 0x20)
					*c = '?'; /* the message is one line */
			return rfail(rd, PIDTUPLE_RULE_SYNTAX, name, "unknown member");
		}
	}
	return 0;
}

static int get_member(struct reader *rd, json_object *o, const char *key, bool required,
		      json_object **ret)
{
	if (json_object_object_get_ex(o, key, ret))
		return 1;
	*ret = NULL;
	return required ? rfail(rd, PIDTUPLE_RULE_SYNTAX, key, "missing") : 0;
}

/* An integer in [lo, hi]; huge values come from json-c saturated, so they fail too. */
static int get_int(struct reader *rd, json_object *v, const char *member, int64_t lo, int64_t hi,
		   int64_t *ret)
{
	int r = want_type(rd, v, json_type_int, member, "an integer");
	char buf[MSG_VALUE_MAX + 8];

	if (r < 0)
		return r;
	*ret = json_object_get_int64(v);
	if (*ret >= lo && *ret <= hi)
		return 0;
	/* json-c saturates what does not fit 64 bits: do not quote the saturated value. */
	return rfail(rd, PIDTUPLE_RULE_SYNTAX, member,
		     "%s is out of range (%" PRId64 "..%" PRId64 ")",
		     *ret == INT64_MAX || *ret == INT64_MIN ? "a huge number"
							    : show(v, buf, sizeof(buf)),
		     lo, hi);
}

/* A string the kernel could take: no NUL, valid UTF-8, at most @max bytes. */
static int get_string(struct reader *rd, json_object *v, const char *member, size_t max,
		      const char **ret)
{
	int r = want_type(rd, v, json_type_string, member, "a string");
	size_t len;

	if (r < 0)
		return r;
	*ret = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(*ret) != len)
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, member,
			     "contains a NUL character (\\u0000)");
	if (!utf8_valid((const unsigned char *)*ret, len))
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, member, "not valid UTF-8");
	if (len > max)
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, member,
			     "%zu bytes, longer than execve() takes (%zu)", len, max);
	return 0;
}

/* "pgid" or "sid": one id per level of the node, outermost first, 0 only at inner levels. */
static int read_ids(struct reader *rd, json_object *v, const char *member, int levels,
		    struct pidtuple **ret)
{
	pid_t ids[PIDTUPLE_MAX_LEVELS];
	char elem[32];
	size_t n;
	int r;

	r = want_type(rd, v, json_type_array, member, "an array of PIDs, outermost first");
	if (r < 0)
		return r;
	n = json_object_array_length(v);
	if (n != (size_t)levels) {
		r = rfail(rd, PIDTUPLE_RULE_LEVEL_COUNT, member,
			  "%zu levels, but the node's tuple has %d", n, levels);
		if (pt_diag_usable(rd->diag))
			PT_OPTS_SET(rd->diag, levels, levels);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t id;

		snprintf(elem, sizeof(elem), "%s[%zu]", member, i);
		r = get_int(rd, json_object_array_get_idx(v, i), elem, 0, INT_MAX, &id);
		if (r < 0) {
			diag_level(rd->diag, levels, (int)i, 0);
			return r;
		}
		ids[i] = (pid_t)id;
		if (i && ids[i] && !ids[i - 1]) {
			r = rfail(rd, PIDTUPLE_RULE_TREE_GROUP, elem,
				  "%d inside a level where it is 0: a group or session visible in "
				  "a namespace is visible in every namespace above it",
				  (int)ids[i]);
			diag_level(rd->diag, levels, (int)i, ids[i]);
			return r;
		}
	}
	r = pidtuple_from_ids(ids, n, ret);
	if (r == -EINVAL)
		return rfail(rd, PIDTUPLE_RULE_TREE_GROUP, member,
			     "pidtuple_from_ids() refused it");
	return r == -ENOMEM ? fail(rd->diag, r, PIDTUPLE_RULE_NONE, rd->node, "out of memory") : r;
}

/* "tuple" or a thread's: the text form exactly as pidtuple_format() writes it. */
static int read_tuple(struct reader *rd, json_object *v, const char *member, struct pidtuple **ret)
{
	PIDTUPLE_OPTS(pidtuple_diag, pd);
	char buf[MSG_VALUE_MAX + 8], canon[PIDTUPLE_MAX_LEVELS * 12];
	const char *text;
	int r;

	r = want_type(rd, v, json_type_string, member, "a string such as \"4242/17/1\"");
	if (r < 0)
		return r;
	text = json_object_get_string(v);
	if (strlen(text) != (size_t)json_object_get_string_len(v))
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, member, "contains a NUL character");
	r = pidtuple_parse(text, ret, &pd);
	if (r == -ENOMEM)
		return fail(rd->diag, r, PIDTUPLE_RULE_NONE, rd->node, "out of memory");
	if (r < 0) {
		r = rfail(rd, pd.rule, member, "%s is not a PID tuple: %s",
			  show(v, buf, sizeof(buf)), pd.message);
		if (pt_diag_usable(rd->diag))
			PT_OPTS_SET(rd->diag, nspid_pos, pd.nspid_pos);
		return r;
	}
	pidtuple_format(*ret, canon, sizeof(canon));
	if (strcmp(canon, text) != 0) {
		pidtuple_free(*ret);
		*ret = NULL;
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, member, "%s: write it as \"%s\"",
			     show(v, buf, sizeof(buf)), canon);
	}
	return 0;
}

/* A NULL-terminated vector of the array's strings (pointers into json-c's objects). */
static int read_strv(struct reader *rd, json_object *v, const char *member, bool nonempty,
		     char ***ret)
{
	char elem[32];
	size_t n;
	char **strv;
	int r;

	r = want_type(rd, v, json_type_array, member, "an array of strings");
	if (r < 0)
		return r;
	n = json_object_array_length(v);
	if (nonempty && n == 0)
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, member, "empty: argv[0] is needed");
	strv = calloc(n + 1, sizeof(*strv));
	if (!strv)
		return fail(rd->diag, -ENOMEM, PIDTUPLE_RULE_NONE, rd->node, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *s;

		snprintf(elem, sizeof(elem), "%s[%zu]", member, i);
		r = get_string(rd, json_object_array_get_idx(v, i), elem, MAX_ARG_STRLEN, &s);
		if (r < 0) {
			free(strv);
			return r;
		}
		strv[i] = (char *)s;
	}
	*ret = strv;
	return 0;
}

static const char *const exec_members[] = { "path", "argv", "env", NULL };

static int read_exec(struct reader *rd, json_object *v, struct pidtuple_node *node)
{
	json_object *m;
	char **argv = NULL, **envp = NULL;
	int r;

	r = want_type(rd, v, json_type_object, "exec", "an object");
	if (r < 0)
		return r;
	snprintf(rd->path + strlen(rd->path), sizeof(rd->path) - strlen(rd->path), ".exec");
	r = only_known(rd, v, exec_members);
	if (r >= 0)
		r = get_member(rd, v, "path", true, &m);
	if (r >= 0)
		r = get_string(rd, m, "path", MAX_PATH_LEN, &node->path);
	if (r >= 0 && !node->path[0])
		r = rfail(rd, PIDTUPLE_RULE_SYNTAX, "path", "empty");
	if (r >= 0)
		r = get_member(rd, v, "argv", true, &m);
	if (r >= 0)
		r = read_strv(rd, m, "argv", true, &argv);
	if (r >= 0)
		r = get_member(rd, v, "env", false, &m);
	if (r > 0)
		r = read_strv(rd, m, "env", false, &envp);
	*strrchr(rd->path, '.') = '\0';
	if (r < 0) {
		free(argv);
		return r;
	}
	node->argv = argv;
	node->envp = envp;
	return 0;
}

static const char *const node_members[] = { "tuple", "parent",	"newpid", "pgid", "sid", "threads",
					    "name",  "outside", "kind",	  "exec", NULL };

/* The words of "outside" and the marks they stand for, in the order the writer writes them. */
static const struct {
	const char *word;
	uint64_t flag;
} outside_words[] = {
	{ "group", PIDTUPLE_NODE_GROUP_OUTSIDE },
	{ "session", PIDTUPLE_NODE_SESSION_OUTSIDE },
};
#define OUTSIDE_FLAGS (PIDTUPLE_NODE_GROUP_OUTSIDE | PIDTUPLE_NODE_SESSION_OUTSIDE)

struct node_parts {
	struct pidtuple *tuple, *pgid, *sid;
	struct pidtuple **threads;
	uint32_t nthreads;
	char **argv, **envp;
};

static void node_parts_free(struct node_parts *p)
{
	pidtuple_free(p->tuple);
	pidtuple_free(p->pgid);
	pidtuple_free(p->sid);
	for (uint32_t k = 0; k < p->nthreads; k++)
		pidtuple_free(p->threads[k]);
	free(p->threads);
	free(p->argv);
	free(p->envp);
}

static int read_kind(struct reader *rd, json_object *v, uint32_t *ret)
{
	char buf[MSG_VALUE_MAX + 8];
	const char *s;
	int r = want_type(rd, v, json_type_string, "kind", "a string");

	if (r < 0)
		return r;
	s = json_object_get_string(v);
	if (strcmp(s, "hold") == 0)
		*ret = PIDTUPLE_NODE_HOLD;
	else if (strcmp(s, "exec") == 0)
		*ret = PIDTUPLE_NODE_EXEC;
	else if (strcmp(s, "callback") == 0)
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, "kind",
			     "\"callback\" has no JSON form (a function is not text)");
	else
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, "kind", "%s is not \"hold\" or \"exec\"",
			     show(v, buf, sizeof(buf)));
	return 0;
}

/* Thread @k of the node is the one that failed. */
static int thread_failed(struct reader *rd, int r, uint32_t k)
{
	if (pt_diag_usable(rd->diag))
		PT_OPTS_SET(rd->diag, thread, (int32_t)k);
	return r;
}

/* Thread @k: a TID tuple with the node's @levels; who else claims its TIDs is the check's. */
static int read_thread(struct reader *rd, json_object *v, uint32_t k, int levels,
		       struct pidtuple **ret)
{
	char elem[32];
	int r, n;

	snprintf(elem, sizeof(elem), "threads[%u]", k);
	r = read_tuple(rd, v, elem, ret);
	if (r < 0)
		return thread_failed(rd, r, k);
	n = pidtuple_levels(*ret);
	if (n == levels)
		return 0;
	r = rfail(rd, PIDTUPLE_RULE_TREE_SHAPE, elem,
		  "%d levels, but the node's tuple has %d: a thread lives in its process's "
		  "namespaces",
		  n, levels);
	if (pt_diag_usable(rd->diag))
		PT_OPTS_SET(rd->diag, levels, n);
	return thread_failed(rd, r, k);
}

/* Member @what, new in version 2 (an older document cannot have it), of the given type. */
static int want_v2(struct reader *rd, json_object *v, json_type type, const char *what,
		   const char *expect)
{
	if (rd->version < VERSION_THREADS)
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, what,
			     "new in format version %d; this document is version %" PRId64,
			     VERSION_THREADS, rd->version);
	return want_type(rd, v, type, what, expect);
}

/* One word of "outside": the mark it stands for, or 0. */
static uint64_t outside_flag(const char *word)
{
	for (size_t k = 0; k < sizeof(outside_words) / sizeof(outside_words[0]); k++)
		if (strcmp(word, outside_words[k].word) == 0)
			return outside_words[k].flag;
	return 0;
}

/* "outside" (format version 2): "group", "session" or both, each once: what capture saw led
 * by a process that is no node of the tree. */
static int read_outside(struct reader *rd, json_object *v, struct pidtuple_node *node)
{
	char elem[32], buf[MSG_VALUE_MAX + 8];
	size_t n;
	int r;

	r = want_v2(rd, v, json_type_array, "outside", "an array of \"group\" and \"session\"");
	if (r < 0)
		return r;
	n = json_object_array_length(v);
	for (size_t k = 0; k < n; k++) {
		json_object *w = json_object_array_get_idx(v, k);
		uint64_t flag;

		snprintf(elem, sizeof(elem), "outside[%zu]", k);
		r = want_type(rd, w, json_type_string, elem, "\"group\" or \"session\"");
		if (r < 0)
			return r;
		flag = outside_flag(json_object_get_string(w));
		if (!flag ||
		    strlen(json_object_get_string(w)) != (size_t)json_object_get_string_len(w))
			return rfail(rd, PIDTUPLE_RULE_SYNTAX, elem,
				     "%s is not \"group\" or \"session\"",
				     show(w, buf, sizeof(buf)));
		if (node->flags & flag)
			return rfail(rd, PIDTUPLE_RULE_SYNTAX, elem, "%s is named twice",
				     show(w, buf, sizeof(buf)));
		node->flags |= flag;
	}
	return 0;
}

/* "threads" (format version 2): the TID tuples of a hold node's other threads. */
static int read_threads(struct reader *rd, json_object *v, const struct pidtuple_node *node,
			int levels, struct node_parts *parts)
{
	size_t n;
	int r;

	r = want_v2(rd, v, json_type_array, "threads",
		    "an array of TID tuples such as \"4243/18/2\"");
	if (r < 0)
		return r;
	n = json_object_array_length(v);
	if (n && node->kind != PIDTUPLE_NODE_HOLD)
		return rfail(rd, PIDTUPLE_RULE_TREE_SHAPE, "threads",
			     "only a \"hold\" node has threads (execve() would end them)");
	/* 8 MiB of text hold fewer than 2^22 of them: n fits. */
	parts->threads = calloc(n ? n : 1, sizeof(*parts->threads));
	if (!parts->threads)
		return fail(rd->diag, -ENOMEM, PIDTUPLE_RULE_NONE, rd->node, "out of memory");
	for (size_t k = 0; k < n; k++) {
		r = read_thread(rd, json_object_array_get_idx(v, k), (uint32_t)k, levels,
				&parts->threads[k]);
		parts->nthreads = (uint32_t)k + 1; /* freed with the parts, even the failed one */
		if (r < 0)
			return r;
	}
	return 0;
}

/* "name" (format version 2): the command name a hold node takes, 1 to 15 bytes. */
static int read_name(struct reader *rd, json_object *v, struct pidtuple_node *node)
{
	size_t len;
	int r;

	r = want_v2(rd, v, json_type_string, "name", "a string");
	if (r < 0)
		return r;
	len = strlen(json_object_get_string(v));
	if (node->kind != PIDTUPLE_NODE_HOLD)
		return rfail(rd, PIDTUPLE_RULE_TREE_SHAPE, "name",
			     "only a \"hold\" node takes a name (a program names itself)");
	if (len < 1 || len > 15 || len != (size_t)json_object_get_string_len(v))
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, "name",
			     "%zu bytes: a command name has 1 to 15, no NUL (the kernel keeps 15)",
			     (size_t)json_object_get_string_len(v));
	node->name = json_object_get_string(v);
	return 0;
}

/* The members that refer to the node's @levels, and what it runs. */
static int read_node_rest(struct reader *rd, json_object *o, struct pidtuple_node *node, int levels,
			  struct node_parts *parts)
{
	json_object *m;
	int r;

	r = get_member(rd, o, "pgid", false, &m);
	if (r > 0)
		r = read_ids(rd, m, "pgid", levels, &parts->pgid);
	if (r >= 0)
		r = get_member(rd, o, "sid", false, &m);
	if (r > 0)
		r = read_ids(rd, m, "sid", levels, &parts->sid);
	if (r >= 0)
		r = get_member(rd, o, "threads", false, &m);
	if (r > 0)
		r = read_threads(rd, m, node, levels, parts);
	if (r >= 0)
		r = get_member(rd, o, "name", false, &m);
	if (r > 0)
		r = read_name(rd, m, node);
	if (r >= 0)
		r = get_member(rd, o, "outside", false, &m);
	if (r > 0)
		r = read_outside(rd, m, node);
	if (r < 0)
		return r;
	node->pgid = parts->pgid;
	node->sid = parts->sid;
	node->threads = (const struct pidtuple *const *)parts->threads;
	node->nthreads = parts->nthreads;

	r = get_member(rd, o, "exec", node->kind == PIDTUPLE_NODE_EXEC, &m);
	if (r > 0 && node->kind != PIDTUPLE_NODE_EXEC)
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, "exec", "only an \"exec\" node has one");
	if (r > 0)
		r = read_exec(rd, m, node);
	if (r < 0)
		return r;
	parts->argv = (char **)node->argv;
	parts->envp = (char **)node->envp;
	return 0;
}

/* Reads node @i into @node and @parts; checks what the node says about its own shape. */
static int read_node(struct reader *rd, json_object *o, int i, struct pidtuple_node *node,
		     struct node_parts *parts)
{
	json_object *m;
	int64_t parent;
	int r, levels;

	r = only_known(rd, o, node_members);
	if (r >= 0)
		r = get_member(rd, o, "kind", true, &m);
	if (r >= 0)
		r = read_kind(rd, m, &node->kind);
	if (r >= 0)
		r = get_member(rd, o, "tuple", true, &m);
	if (r >= 0)
		r = read_tuple(rd, m, "tuple", &parts->tuple);
	if (r >= 0)
		r = get_member(rd, o, "parent", true, &m);
	if (r >= 0)
		r = get_int(rd, m, "parent", -1, INT_MAX, &parent);
	if (r >= 0)
		r = get_member(rd, o, "newpid", false, &m);
	if (r > 0) {
		r = want_type(rd, m, json_type_boolean, "newpid", "true or false");
		if (r >= 0 && json_object_get_boolean(m))
			node->flags |= PIDTUPLE_NODE_NEWPID;
	}
	if (r < 0)
		return r;

	node->tuple = parts->tuple;
	node->parent = (int32_t)parent;
	levels = pidtuple_levels(parts->tuple);
	rd->levels[i] = levels;
	if (i == 0 && parent != -1)
		return rfail(rd, PIDTUPLE_RULE_TREE_SHAPE, "parent",
			     "%" PRId64 ", but the first node is the root: its parent is -1",
			     parent);
	if (i > 0 && (parent < 0 || parent >= i))
		return rfail(rd, PIDTUPLE_RULE_TREE_SHAPE, "parent",
			     "%" PRId64 " is not an earlier node (0..%d): parents come first and "
			     "a tree has one root",
			     parent, i - 1);
	if (i > 0) {
		int want = rd->levels[parent] + !!(node->flags & PIDTUPLE_NODE_NEWPID);

		if (levels != want) {
			r = rfail(rd, PIDTUPLE_RULE_TREE_SHAPE, "tuple",
				  "%d levels, but its parent (node %" PRId64 ") has %d%s", levels,
				  parent, rd->levels[parent],
				  node->flags & PIDTUPLE_NODE_NEWPID ? ", and newpid adds one"
								     : "");
			if (pt_diag_usable(rd->diag))
				PT_OPTS_SET(rd->diag, levels, levels);
			return r;
		}
	}
	if ((node->flags & PIDTUPLE_NODE_NEWPID) && pidtuple_get(parts->tuple, 0) != 1) {
		r = rfail(rd, PIDTUPLE_RULE_NEWPID_ONE, "tuple",
			  "a newpid node is PID 1 in its new namespace: the tuple ends in /1");
		diag_level(rd->diag, levels, levels - 1, pidtuple_get(parts->tuple, 0));
		return r;
	}

	return read_node_rest(rd, o, node, levels, parts);
}

static int read_nodes(struct reader *rd, json_object *nodes, struct pidtuple_tree *tree)
{
	size_t n = json_object_array_length(nodes);
	int r = 0;

	if (n > INT_MAX)
		return rfail(rd, PIDTUPLE_RULE_SYNTAX, "nodes", "too many nodes");
	rd->levels = calloc(n ? n : 1, sizeof(*rd->levels));
	if (!rd->levels)
		return fail(rd->diag, -ENOMEM, PIDTUPLE_RULE_NONE, -1, "out of memory");
	for (size_t i = 0; i < n && r >= 0; i++) {
		PIDTUPLE_OPTS(pidtuple_node, node);
		struct node_parts parts = { 0 };
		json_object *o = json_object_array_get_idx(nodes, i);

		rd->node = (int)i;
		snprintf(rd->path, sizeof(rd->path), "nodes[%zu]", i);
		if (!json_object_is_type(o, json_type_object))
			r = rfail(rd, PIDTUPLE_RULE_SYNTAX, "", "expected an object, got %s",
				  type_name(o));
		if (r >= 0)
			r = read_node(rd, o, (int)i, &node, &parts);
		if (r >= 0) {
			r = pidtuple_tree_add(tree, &node);
			if (r == -ENOMEM)
				fail(rd->diag, r, PIDTUPLE_RULE_NONE, rd->node, "out of memory");
			else if (r < 0)
				fail(rd->diag, r, PIDTUPLE_RULE_TREE_SHAPE, rd->node,
				     "nodes[%zu]: pidtuple_tree_add() refused it: %s", i,
				     pidtuple_strerror(r));
		}
		node_parts_free(&parts);
	}
	free(rd->levels);
	rd->levels = NULL;
	return r < 0 ? r : 0;
}

static const char *const root_members[] = { "format", "version", "nodes", NULL };

static int read_root(json_object *root, struct pidtuple_tree *tree, struct pidtuple_diag *d)
{
	struct reader rd = { .diag = d, .node = -1 };
	json_object *m;
	char buf[MSG_VALUE_MAX + 8];
	int r;

	if (!json_object_is_type(root, json_type_object))
		return fail(d, -EINVAL, PIDTUPLE_RULE_SYNTAX, -1,
			    "(document): expected an object, got %s", type_name(root));
	/* Format and version first: a newer document fails as such, not on a new member. */
	r = get_member(&rd, root, "format", true, &m);
	if (r >= 0 && (!json_object_is_type(m, json_type_string) ||
		       strcmp(json_object_get_string(m), FORMAT_NAME) != 0))
		r = rfail(&rd, PIDTUPLE_RULE_SYNTAX, "format", "%s is not \"" FORMAT_NAME "\"",
			  show(m, buf, sizeof(buf)));
	if (r >= 0)
		r = get_member(&rd, root, "version", true, &m);
	if (r >= 0)
		r = want_type(&rd, m, json_type_int, "version", "an integer");
	if (r >= 0) {
		rd.version = json_object_get_int64(m);
		if (rd.version < 1 || rd.version > PIDTUPLE_JSON_FORMAT_VERSION)
			r = rfail(&rd, PIDTUPLE_RULE_SYNTAX, "version",
				  "%s is not supported (this libpidtuple-json reads versions "
				  "1..%d)",
				  show(m, buf, sizeof(buf)), PIDTUPLE_JSON_FORMAT_VERSION);
	}
	if (r >= 0)
		r = only_known(&rd, root, root_members);
	if (r >= 0)
		r = get_member(&rd, root, "nodes", true, &m);
	if (r >= 0)
		r = want_type(&rd, m, json_type_array, "nodes", "an array");
	if (r >= 0)
		r = read_nodes(&rd, m, tree);
	return r;
}

PIDTUPLE_JSON_API int pidtuple_tree_from_json(const char *text, struct pidtuple_tree **ret_tree,
					      struct pidtuple_diag *diag)
{
	struct pidtuple_tree *tree = NULL;
	json_object *root = NULL;
	size_t len;
	int r;

	pt_diag_reset(diag, 0);
	if (!text || !ret_tree)
		return fail(diag, -EINVAL, PIDTUPLE_RULE_NONE, -1, "NULL argument");
	len = strnlen(text, (size_t)PIDTUPLE_JSON_MAX_TEXT + 1);
	if (len > PIDTUPLE_JSON_MAX_TEXT)
		return fail(diag, -E2BIG, PIDTUPLE_RULE_SYNTAX, -1,
			    "(document): longer than %u bytes", PIDTUPLE_JSON_MAX_TEXT);
	r = parse_text(text, len, &root, diag);
	if (r < 0)
		return r;
	r = pidtuple_tree_new(&tree);
	if (r < 0) {
		json_object_put(root);
		return fail(diag, r, PIDTUPLE_RULE_NONE, -1, "out of memory");
	}
	r = read_root(root, tree, diag);
	json_object_put(root);
	if (r < 0) {
		pidtuple_tree_free(tree);
		return r;
	}
	*ret_tree = tree;
	return 0;
}

/* ---- writing ---- */

/* An array on one line even when pretty: of integers (a tuple), or of plain ASCII words. */
static int one_line_array(json_object *jso, struct printbuf *pb, int flags, bool words)
{
	const char *sep = flags & JSON_C_TO_STRING_SPACED ? ", " : ",";
	size_t n = json_object_array_length(jso);

	if (printbuf_strappend(pb, "[") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(jso, i);
		int r = words ? sprintbuf(pb, "%s\"%s\"", i ? sep : "", json_object_get_string(v))
			      : sprintbuf(pb, "%s%" PRId64, i ? sep : "", json_object_get_int64(v));

		if (r < 0)
			return -1;
	}
	return printbuf_strappend(pb, "]");
}

static int inline_ints(json_object *jso, struct printbuf *pb, int level, int flags)
{
	(void)level;
	return one_line_array(jso, pb, flags, false);
}

/* The words of "outside". */
static int inline_words(json_object *jso, struct printbuf *pb, int level, int flags)
{
	(void)level;
	return one_line_array(jso, pb, flags, true);
}

static json_object *inline_array(void)
{
	json_object *a = json_object_new_array();

	if (a)
		json_object_set_serializer(a, inline_ints, NULL, NULL);
	return a;
}

/* Adds @v (NULL: out of memory) as @key of @o; false when something is missing. */
static bool put(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return false;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

static bool push(json_object *a, json_object *v)
{
	if (!v)
		return false;
	if (json_object_array_add(a, v) < 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

static int ids_json(const struct pidtuple *t, json_object **ret)
{
	pid_t ids[PIDTUPLE_MAX_LEVELS];
	json_object *a;
	int n = pidtuple_to_outer(t, ids, PIDTUPLE_MAX_LEVELS);

	if (n < 0)
		return -EINVAL;
	a = inline_array();
	if (!a)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (!push(a, json_object_new_int(ids[i]))) {
			json_object_put(a);
			return -ENOMEM;
		}
	}
	*ret = a;
	return 0;
}

static json_object *string_json(const char *s, int *err)
{
	json_object *v;

	if (!utf8_valid((const unsigned char *)s, strlen(s))) {
		*err = -EINVAL;
		return NULL;
	}
	v = json_object_new_string(s);
	if (!v)
		*err = -ENOMEM;
	return v;
}

static int strv_json(char *const *strv, json_object **ret)
{
	json_object *a = json_object_new_array();
	int err = -ENOMEM;

	if (!a)
		return -ENOMEM;
	if (!strv[0])
		json_object_set_serializer(a, inline_ints, NULL, NULL);
	for (size_t i = 0; strv[i]; i++) {
		if (!push(a, string_json(strv[i], &err))) {
			json_object_put(a);
			return err;
		}
	}
	*ret = a;
	return 0;
}

static int exec_json(const struct pidtuple_node *n, json_object **ret)
{
	json_object *e = json_object_new_object(), *v = NULL;
	int err = -ENOMEM;

	if (!e)
		return -ENOMEM;
	if (!n->path || !n->argv) {
		err = -EINVAL;
		goto fail;
	}
	if (!put(e, "path", string_json(n->path, &err)))
		goto fail;
	err = strv_json(n->argv, &v);
	if (err < 0 || !put(e, "argv", v))
		goto fail;
	if (n->envp) {
		err = strv_json(n->envp, &v);
		if (err < 0 || !put(e, "env", v))
			goto fail;
	}
	*ret = e;
	return 0;
fail:
	json_object_put(e);
	return err < 0 ? err : -ENOMEM;
}

/* A hold node's threads: their TID tuples as text, as "tuple" is written. */
static int threads_json(const struct pidtuple_node *n, json_object **ret)
{
	char text[PIDTUPLE_MAX_LEVELS * 12];
	json_object *a;

	if (n->kind != PIDTUPLE_NODE_HOLD || !n->threads)
		return -EINVAL; /* the reader would refuse it: execve() ends threads */
	a = json_object_new_array_ext((int)n->nthreads);
	if (!a)
		return -ENOMEM;
	for (uint32_t k = 0; k < n->nthreads; k++) {
		if (!n->threads[k] || pidtuple_format(n->threads[k], text, sizeof(text)) < 0) {
			json_object_put(a);
			return -EINVAL;
		}
		if (!push(a, json_object_new_string(text))) {
			json_object_put(a);
			return -ENOMEM;
		}
	}
	*ret = a;
	return 0;
}

/* "outside": the node's marks as words, in the order of outside_words. */
static int outside_json(const struct pidtuple_node *n, json_object **ret)
{
	json_object *a = json_object_new_array();

	if (!a)
		return -ENOMEM;
	json_object_set_serializer(a, inline_words, NULL, NULL);
	for (size_t k = 0; k < sizeof(outside_words) / sizeof(outside_words[0]); k++)
		if ((n->flags & outside_words[k].flag) &&
		    !push(a, json_object_new_string(outside_words[k].word))) {
			json_object_put(a);
			return -ENOMEM;
		}
	*ret = a;
	return 0;
}

static int node_json(const struct pidtuple_node *n, json_object **ret)
{
	char text[PIDTUPLE_MAX_LEVELS * 12];
	json_object *o, *v = NULL;
	int err = -ENOMEM;

	if (!n->tuple || (n->flags & ~(uint64_t)PIDTUPLE_NODE_ALL_FLAGS) ||
	    (n->kind != PIDTUPLE_NODE_HOLD && n->kind != PIDTUPLE_NODE_EXEC))
		return -EINVAL; /* CALLBACK, or what this version does not know */
	if (pidtuple_format(n->tuple, text, sizeof(text)) < 0)
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	if (!put(o, "tuple", json_object_new_string(text)) ||
	    !put(o, "parent", json_object_new_int(n->parent)) ||
	    !put(o, "newpid", json_object_new_boolean(!!(n->flags & PIDTUPLE_NODE_NEWPID))))
		goto fail;
	if (n->pgid) {
		err = ids_json(n->pgid, &v);
		if (err < 0 || !put(o, "pgid", v))
			goto fail;
	}
	if (n->sid) {
		err = ids_json(n->sid, &v);
		if (err < 0 || !put(o, "sid", v))
			goto fail;
	}
	if (n->nthreads) {
		err = threads_json(n, &v);
		if (err < 0 || !put(o, "threads", v))
			goto fail;
	}
	err = -ENOMEM;
	if (n->name && !put(o, "name", json_object_new_string(n->name)))
		goto fail;
	if (n->flags & OUTSIDE_FLAGS) {
		err = outside_json(n, &v);
		if (err < 0 || !put(o, "outside", v))
			goto fail;
	}
	err = -ENOMEM;
	if (!put(o, "kind",
		 json_object_new_string(n->kind == PIDTUPLE_NODE_EXEC ? "exec" : "hold")))
		goto fail;
	if (n->kind == PIDTUPLE_NODE_EXEC) {
		err = exec_json(n, &v);
		if (err < 0 || !put(o, "exec", v))
			goto fail;
	}
	*ret = o;
	return 0;
fail:
	json_object_put(o);
	return err < 0 ? err : -ENOMEM;
}

/* Every node of @tree into @nodes; *ret_version: the oldest format version that holds them. */
static int nodes_json(const struct pidtuple_tree *tree, int n, json_object *nodes, int *ret_version)
{
	int version = 1;

	for (int i = 0; i < n; i++) {
		PIDTUPLE_OPTS(pidtuple_node, node);
		json_object *v;
		int err = pidtuple_tree_get(tree, (unsigned int)i, &node);

		if (err < 0)
			return -EINVAL;
		err = node_json(&node, &v);
		if (err < 0)
			return err;
		if (!push(nodes, v))
			return -ENOMEM;
		if (node.nthreads || node.name || (node.flags & OUTSIDE_FLAGS))
			version = VERSION_THREADS;
	}
	*ret_version = version;
	return 0;
}

PIDTUPLE_JSON_API int pidtuple_tree_to_json(const struct pidtuple_tree *tree, uint32_t flags,
					    char **ret_text)
{
	json_object *root, *nodes, *version;
	const char *s;
	size_t len;
	char *text;
	int n, v, err = -ENOMEM;
	int jflags = flags & PIDTUPLE_JSON_PRETTY
			     ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			     : JSON_C_TO_STRING_PLAIN;

	jflags |= JSON_C_TO_STRING_NOSLASHESCAPE;
	if (!tree || !ret_text || (flags & ~PIDTUPLE_JSON_ALL_FLAGS))
		return -EINVAL;
	n = pidtuple_tree_size(tree);
	if (n < 0)
		return -EINVAL;
	root = json_object_new_object();
	if (!root)
		return -ENOMEM;
	if (!put(root, "format", json_object_new_string(FORMAT_NAME)))
		goto out;
	/* Version 1 unless a node needs more: a reader of version 1 still reads the rest. */
	version = json_object_new_int(1);
	if (!put(root, "version", version))
		goto out;
	nodes = json_object_new_array_ext(n ? n : 1);
	if (!put(root, "nodes", nodes))
		goto out;
	if (!n)
		json_object_set_serializer(nodes, inline_ints, NULL, NULL);
	err = nodes_json(tree, n, nodes, &v);
	if (err < 0)
		goto out;
	err = -ENOMEM;
	if (json_object_set_int(version, v) != 1)
		goto out;
	s = json_object_to_json_string_length(root, jflags, &len);
	if (!s)
		goto out;
	text = malloc(len + 1);
	if (!text)
		goto out;
	memcpy(text, s, len + 1);
	*ret_text = text;
	err = 0;
out:
	json_object_put(root);
	return err;
}
