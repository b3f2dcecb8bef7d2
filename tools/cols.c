/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The columns and tables of ps and tree, drawn with libsmartcols. */
#include <errno.h>
#include <langinfo.h>
#include <libsmartcols/libsmartcols.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "cols.h"

struct coldef {
	const char *name;
	double whint;
	int flags;
	int json; /* SCOLS_JSON_* */
	const char *help;
};

static const struct coldef coldefs[CLI_NCOLS] = {
	[COL_PID] = { "PID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		      "process ID in the caller's PID namespace" },
	[COL_TID] = { "TID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		      "thread ID there (--threads: a line per thread)" },
	[COL_PPID] = { "PPID", 5, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
		       "parent's PID there; 0 when the parent is outside" },
	[COL_TUPLE] = { "TUPLE", 8, 0, SCOLS_JSON_ARRAY_NUMBER,
			"PID tuple, outermost first (a thread's: its TID tuple)" },
	[COL_PGID] = { "PGID", 8, 0, SCOLS_JSON_ARRAY_NUMBER,
		       "process group ID tuple; 0 where not visible" },
	[COL_SID] = { "SID", 8, 0, SCOLS_JSON_ARRAY_NUMBER,
		      "session ID tuple; 0 where not visible" },
	[COL_NEWPID] = { "NEWPID", 3, 0, SCOLS_JSON_BOOLEAN,
			 "'new': the init of a PID namespace below the caller's" },
	[COL_NS_ID] = { "NS_ID", 10, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER,
			"inode number of its own PID namespace" },
	[COL_COMM] = { "COMM", 16, 0, SCOLS_JSON_STRING, "command name" },
};

void cli_cols_help(FILE *out)
{
	for (int i = 0; i < CLI_NCOLS; i++)
		fprintf(out, "  %-7s %s\n", coldefs[i].name, coldefs[i].help);
}

bool cli_view_option(struct cli_view *v, int opt, const char *arg)
{
	switch (opt) {
	case 'o':
		v->output = arg;
		return true;
	case 'r':
		v->raw = true;
		return true;
	case 'n':
		v->noheadings = true;
		return true;
	case CLI_OPT_LIST_COLUMNS:
		v->list_columns = true;
		return true;
	case CLI_OPT_NO_KTHREADS:
		v->no_kthreads = true;
		return true;
	default:
		return false;
	}
}

static int col_by_name(const char *name, size_t len)
{
	for (int i = 0; i < CLI_NCOLS; i++)
		if (strlen(coldefs[i].name) == len && strncasecmp(coldefs[i].name, name, len) == 0)
			return i;
	return -1;
}

static int unknown_column(const struct cli_view *v, const char *name, size_t len)
{
	const char *names[CLI_NCOLS];
	char word[64], hint[160];

	for (int i = 0; i < CLI_NCOLS; i++)
		names[i] = coldefs[i].name;
	snprintf(word, sizeof(word), "%.*s", (int)len, name);
	for (char *c = word; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
	cli_did_you_mean(word, names, CLI_NCOLS, "", hint, sizeof(hint));
	return cli_usage_error(v->cmd, "unknown column '%.*s'%s (see --list-columns)", (int)len,
			       name, hint);
}

/* -o LIST: names separated by commas, any case; "+LIST" adds them to the defaults. */
static int parse_columns(struct cli_view *v, const char *list)
{
	if (*list == '+')
		list++;
	else
		v->ncols = 0;
	while (*list) {
		size_t len = strcspn(list, ",");
		int c = col_by_name(list, len);

		if (c < 0)
			return unknown_column(v, list, len);
		if (v->ncols == CLI_MAX_COLS)
			return cli_usage_error(v->cmd, "more than %d columns", CLI_MAX_COLS);
		v->cols[v->ncols++] = c;
		list += len + (list[len] == ',');
	}
	if (!v->ncols)
		return cli_usage_error(v->cmd, "no column given to -o");
	return -1;
}

size_t cli_cols_with_tid(const int *cols, size_t n, bool threads, int *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		out[k++] = cols[i];
		if (cols[i] == COL_PID && threads)
			out[k++] = COL_TID;
	}
	return k;
}

int cli_view_setup(struct cli_view *v, const int *defaults, size_t ndefaults,
		   const int *json_defaults, size_t njson_defaults)
{
	if (v->list_columns) {
		cli_cols_help(stdout);
		return cli_flush(v->cmd, CLI_EXIT_OK);
	}
	if (cli_json && v->raw)
		return cli_usage_error(v->cmd, "--json and --raw exclude each other");
	if (cli_json) {
		defaults = json_defaults;
		ndefaults = njson_defaults;
	}
	memcpy(v->cols, defaults, ndefaults * sizeof(*defaults));
	v->ncols = ndefaults;
	return v->output ? parse_columns(v, v->output) : -1;
}

/* ---- the table -------------------------------------------------------------------------- */

static bool utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && strcmp(cs, "UTF-8") == 0;
}

/* The tree's branches: UTF-8 box drawing on a UTF-8 terminal or when asked for, ASCII
 * otherwise, in libsmartcols' style. */
static int set_glyphs(const struct cli_view *v, struct libscols_table *tb)
{
	struct libscols_symbols *sy;
	bool utf8 = v->glyphs == 'U' || (!v->glyphs && isatty(STDOUT_FILENO) && utf8_locale());
	int r;

	/* libsmartcols measures and passes UTF-8 only in a UTF-8 locale. */
	if (utf8 && !utf8_locale() && !setlocale(LC_CTYPE, "C.UTF-8"))
		utf8 = false;
	if (!utf8)
		return scols_table_enable_ascii(tb, 1);
	sy = scols_new_symbols();
	if (!sy)
		return -ENOMEM;
	r = scols_symbols_set_branch(sy, "\u251c\u2500");
	if (r == 0)
		r = scols_symbols_set_vertical(sy, "\u2502 ");
	if (r == 0)
		r = scols_symbols_set_right(sy, "\u2514\u2500");
	if (r == 0)
		r = scols_table_set_symbols(tb, sy);
	scols_unref_symbols(sy);
	return r;
}

static int add_column(const struct cli_view *v, struct libscols_table *tb, size_t i)
{
	const struct coldef *d = &coldefs[v->cols[i]];
	int flags = d->flags;
	struct libscols_column *cl;

	/* The first column carries the tree, as lsblk's NAME does; raw output has none. */
	if (i == 0 && v->tree && !v->raw)
		flags = (flags & ~SCOLS_FL_RIGHT) | SCOLS_FL_TREE;
	/* A JSON array: libsmartcols splits the cell at newlines. */
	if (cli_json && d->json == SCOLS_JSON_ARRAY_NUMBER)
		flags |= SCOLS_FL_WRAP;
	cl = scols_table_new_column(tb, d->name, d->whint, flags);
	if (!cl || scols_column_set_json_type(cl, d->json) < 0)
		return -ENOMEM;
	if (flags & SCOLS_FL_WRAP)
		return scols_column_set_wrapfunc(cl, scols_wrapnl_chunksize, scols_wrapnl_nextchunk,
						 NULL);
	return 0;
}

struct libscols_table *cli_view_table(const struct cli_view *v)
{
	struct libscols_table *tb;
	int r = 0;

	setlocale(LC_CTYPE, ""); /* command names in the user's character set */
	tb = scols_new_table();
	if (!tb)
		return NULL;
	scols_table_set_name(tb, "processes");
	scols_table_enable_json(tb, cli_json);
	scols_table_enable_raw(tb, v->raw);
	scols_table_enable_noheadings(tb, v->noheadings);
	if (v->tree && !cli_json && !v->raw)
		r = set_glyphs(v, tb);
	for (size_t i = 0; r == 0 && i < v->ncols; i++)
		r = add_column(v, tb, i);
	if (r == 0)
		return tb;
	scols_unref_table(tb);
	return NULL;
}

/* ---- a line ----------------------------------------------------------------------------- */

/* A tuple as text: "4242/17/1" in a table, one PID per line for a JSON array. */
static void tuple_cell(const struct pidtuple *t, char *buf, size_t size)
{
	cli_format(t, buf, size);
	if (cli_json)
		for (char *c = buf; *c; c++)
			*c = *c == '/' ? '\n' : *c;
}

/* The cell of column @col for @p, or for its thread @thread with --threads. In a tree, a
 * thread other than the leader is drawn below its process: its command name in braces, as
 * pstree(1) draws threads, and no NEWPID (a namespace begins at the process, not there). */
static void cell(const struct cli_view *v, const struct cli_proc *p, size_t thread, int col,
		 char *buf, size_t size)
{
	bool thr = p->nthreads > 0, below = v->tree && thread > 0;
	bool ns = (p->flags & PIDTUPLE_ENTRY_NS_INIT) && !below;

	switch (col) {
	case COL_PID:
		snprintf(buf, size, "%d", (int)p->pid);
		break;
	case COL_TID:
		snprintf(buf, size, "%d", (int)(thr ? p->threads[thread].tid : p->pid));
		break;
	case COL_PPID:
		snprintf(buf, size, "%d", (int)p->ppid);
		break;
	case COL_TUPLE:
		tuple_cell(thr ? p->threads[thread].tuple : p->tuple, buf, size);
		break;
	case COL_PGID:
		tuple_cell(p->pgid, buf, size);
		break;
	case COL_SID:
		tuple_cell(p->sid, buf, size);
		break;
	case COL_NEWPID:
		snprintf(buf, size, "%s", cli_json ? (ns ? "1" : "0") : (ns ? "new" : "-"));
		break;
	case COL_NS_ID:
		snprintf(buf, size, "%llu", (unsigned long long)p->ns_id);
		break;
	default:
		snprintf(buf, size, below && !cli_json ? "{%s}" : "%s", p->comm);
	}
}

struct libscols_line *cli_view_line(const struct cli_view *v, struct libscols_table *tb,
				    struct libscols_line *parent, const struct cli_proc *p,
				    size_t thread)
{
	struct libscols_line *ln = scols_table_new_line(tb, parent);
	char buf[CLI_TUPLE_TEXT_MAX + CLI_COMM_MAX + 2];

	for (size_t i = 0; ln && i < v->ncols; i++) {
		cell(v, p, thread, v->cols[i], buf, sizeof(buf));
		if (scols_line_set_data(ln, i, buf) < 0)
			return NULL; /* freed with the table */
	}
	return ln;
}

int cli_view_print(const struct cli_view *v, struct libscols_table *tb)
{
	int r = scols_print_table(tb);

	scols_unref_table(tb);
	if (r < 0) {
		cli_fail(v->cmd, &(struct cli_failure){ .err = r }, "cannot print the table");
		return CLI_EXIT_FAIL;
	}
	return cli_flush(v->cmd, CLI_EXIT_OK);
}
