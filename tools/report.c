/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How pidtuple reports a failure: a headline per rule and the library's sentence on stderr,
 * and with --json one error object on stdout. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

bool cli_json;

static const char *const headlines[_PIDTUPLE_RULE_MAX] = {
	[PIDTUPLE_RULE_SYNTAX] = "syntax error",
	[PIDTUPLE_RULE_LEVEL_COUNT] = "wrong number of levels",
	[PIDTUPLE_RULE_TOO_DEEP] = "more levels than the namespace has",
	[PIDTUPLE_RULE_PID_RANGE] = "PID out of range",
	[PIDTUPLE_RULE_NEWPID_ONE] = "a new namespace's init must be PID 1",
	[PIDTUPLE_RULE_NO_INIT] = "the namespace has no init yet",
	[PIDTUPLE_RULE_INIT_DEAD] = "the namespace's init has died",
	[PIDTUPLE_RULE_PRIVILEGE] = "not permitted to pin that PID",
	[PIDTUPLE_RULE_PID_TAKEN] = "PID already in use",
	[PIDTUPLE_RULE_FLAGS] = "unsupported flags",
	[PIDTUPLE_RULE_NS_PRIVILEGE] = "not permitted to create namespaces",
	[PIDTUPLE_RULE_NEWPID_UNSHARED] = "no new PID namespace after setns() or unshare()",
	[PIDTUPLE_RULE_EXIT_SIGNAL] = "invalid exit signal",
	[PIDTUPLE_RULE_CGROUP] = "unusable cgroup",
	[PIDTUPLE_RULE_OPTIONS] = "invalid options",
	[PIDTUPLE_RULE_UNSUPPORTED] = "PIDs cannot be pinned here",
	[PIDTUPLE_RULE_UNVERIFIED] = "levels left unchecked",
	[PIDTUPLE_RULE_KERNEL] = "refused by the kernel",
	[PIDTUPLE_RULE_NS_DEPTH] = "PID namespaces nested too deep",
	[PIDTUPLE_RULE_EXEC] = "cannot execute the program",
	[PIDTUPLE_RULE_PID_MISMATCH] = "the child got another PID",
	[PIDTUPLE_RULE_FALLBACK] = "ns_last_pid cannot be used",
	[PIDTUPLE_RULE_TREE_SHAPE] = "inconsistent tree",
	[PIDTUPLE_RULE_TREE_DUPLICATE] = "PID claimed twice",
	[PIDTUPLE_RULE_TREE_GROUP] = "process group or session cannot be reproduced",
	[PIDTUPLE_RULE_TREE_NODE] = "a process of the tree could not be created",
};

const char *cli_rule_headline(uint32_t rule)
{
	return rule < _PIDTUPLE_RULE_MAX ? headlines[rule] : NULL;
}

/* The thread of a tree node that @d names, or -1: the node's process itself, or no tree. */
static int32_t diag_thread(const struct pidtuple_diag *d)
{
	return d && d->node >= 0 && d->thread >= 0 ? d->thread : -1;
}

/* The headline of @d's rule, said of a TID when a thread failed. */
static const char *diag_headline(const struct pidtuple_diag *d)
{
	if (!d)
		return NULL;
	if (diag_thread(d) >= 0) {
		switch (d->rule) {
		case PIDTUPLE_RULE_PID_RANGE:
			return "TID out of range";
		case PIDTUPLE_RULE_PID_TAKEN:
			return "TID already in use";
		case PIDTUPLE_RULE_TREE_DUPLICATE:
			return "TID claimed twice";
		default:
			break;
		}
	}
	return cli_rule_headline(d->rule);
}

#ifndef HAVE_STRERRORNAME_NP
/* The C library has no strerrorname_np(): the codes libpidtuple and pidtuple report. */
static const char *errno_table(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },	      { ENOENT, "ENOENT" },   { ESRCH, "ESRCH" },
		{ EINTR, "EINTR" },	      { EIO, "EIO" },	      { E2BIG, "E2BIG" },
		{ EBADF, "EBADF" },	      { ECHILD, "ECHILD" },   { EAGAIN, "EAGAIN" },
		{ ENOMEM, "ENOMEM" },	      { EACCES, "EACCES" },   { EBUSY, "EBUSY" },
		{ EEXIST, "EEXIST" },	      { ENOTDIR, "ENOTDIR" }, { EINVAL, "EINVAL" },
		{ EMFILE, "EMFILE" },	      { EFBIG, "EFBIG" },     { ENOSPC, "ENOSPC" },
		{ EROFS, "EROFS" },	      { ERANGE, "ERANGE" },   { ENOSYS, "ENOSYS" },
		{ EOPNOTSUPP, "EOPNOTSUPP" }, { EILSEQ, "EILSEQ" },   { ENOTTY, "ENOTTY" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return NULL;
}
#endif

const char *cli_errno_name(int err)
{
#ifdef HAVE_STRERRORNAME_NP
	const char *name = strerrorname_np(err < 0 ? -err : err);
#else
	const char *name = errno_table(err < 0 ? -err : err);
#endif

	return name ? name : "E?";
}

/* ---- text ------------------------------------------------------------------------------- */

static void __attribute__((format(printf, 2, 0)))
vreport(const char *cmd, const char *fmt, va_list ap)
{
	fputs("pidtuple: ", stderr);
	if (cmd)
		fprintf(stderr, "%s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
}

/* The tuple text with a caret under byte @pos, when it is plain printable text. */
static void print_caret(const char *text, int pos)
{
	size_t len = strlen(text);

	if (pos < 0 || (size_t)pos > len || len > 120)
		return;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
			return;
	fprintf(stderr, "    %s\n    %*s^\n", text, pos, "");
}

void cli_fail_text(const char *cmd, const struct cli_failure *f, const char *what)
{
	const struct pidtuple_diag *d = f->diag;
	const char *headline = diag_headline(d);

	if (!headline) {
		cli_error(cmd, "%s: %s", what,
			  d && d->message[0] ? d->message : pidtuple_strerror(f->err));
		return;
	}
	cli_error(cmd, "%s: %s (rule %s)", what, headline, pidtuple_rule_name(d->rule));
	if (d->message[0] && d->kernel_err < 0 && d->kernel_err != d->err)
		cli_error(cmd, "%s (the kernel returned %s)", d->message,
			  cli_errno_name(d->kernel_err));
	else if (d->message[0])
		cli_error(cmd, "%s", d->message);
	if (f->text)
		print_caret(f->text, d->text_pos);
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* Adds @key: @v, or null when @have is false. */
static bool put_int(json_object *o, const char *key, bool have, int64_t v)
{
	json_object *j = NULL;

	if (have && !(j = json_object_new_int64(v)))
		return false;
	if (json_object_object_add(o, key, j) == 0)
		return true;
	json_object_put(j);
	return false;
}

static bool put_str(json_object *o, const char *key, const char *s)
{
	json_object *j = NULL;

	if (s && !(j = json_object_new_string(s)))
		return false;
	if (json_object_object_add(o, key, j) == 0)
		return true;
	json_object_put(j);
	return false;
}

/* The members that come from the diag: null without one. */
static bool put_diag(json_object *o, const struct pidtuple_diag *d, pid_t pid, const char *headline)
{
	bool rule = d && d->rule != PIDTUPLE_RULE_NONE;

	if (d)
		pid = d->pid;
	return put_str(o, "rule", rule ? pidtuple_rule_name(d->rule) : NULL) &&
	       put_int(o, "rule_number", rule, rule ? d->rule : 0) &&
	       put_str(o, "headline", headline) &&
	       put_int(o, "node", d && d->node >= 0, d ? d->node : 0) &&
	       put_int(o, "thread", diag_thread(d) >= 0, diag_thread(d)) &&
	       put_int(o, "level", d && d->inner_index >= 0, d ? d->inner_index : 0) &&
	       put_int(o, "levels", d && d->levels > 0, d ? d->levels : 0) &&
	       put_int(o, "nspid_field", d && d->nspid_pos >= 0, d ? d->nspid_pos + 1 : 0) &&
	       put_int(o, "pid", pid > 0, pid) &&
	       put_int(o, "byte", d && d->text_pos >= 0, d ? d->text_pos : 0) &&
	       put_int(o, "kernel_errno", d && d->kernel_err < 0, d ? -d->kernel_err : 0);
}

json_object *cli_failure_json(const struct cli_failure *f, const char *what)
{
	const struct pidtuple_diag *d = f->diag;
	const char *headline = diag_headline(d);
	char message[PIDTUPLE_DIAG_MESSAGE_SIZE + 512];
	json_object *o = json_object_new_object();

	if (!headline)
		headline = pidtuple_strerror(f->err);
	if (d && d->message[0])
		snprintf(message, sizeof(message), "%s", d->message);
	else if (f->usage)
		snprintf(message, sizeof(message), "%s", what);
	else
		snprintf(message, sizeof(message), "%s: %s", what, pidtuple_strerror(f->err));
	if (o && put_int(o, "errno", true, f->err < 0 ? -f->err : f->err) &&
	    put_str(o, "errno_name", cli_errno_name(f->err)) && put_diag(o, d, f->pid, headline) &&
	    cli_json_put(o, "usage", json_object_new_boolean(f->usage)) &&
	    put_str(o, "message", message))
		return o;
	json_object_put(o);
	return NULL;
}

void cli_fail_json(const char *cmd, const struct cli_failure *f, const char *what)
{
	json_object *root = json_object_new_object();

	if (root && !cli_json_put(root, "error", cli_failure_json(f, what))) {
		json_object_put(root);
		root = NULL;
	}
	cli_print_json(cmd, root, CLI_EXIT_OK);
}

void cli_fail(const char *cmd, const struct cli_failure *f, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cli_fail_text(cmd, f, what);
	if (cli_json)
		cli_fail_json(cmd, f, what);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cli_error(cmd, "%s", what);
	if (cmd)
		fprintf(stderr, "Try 'pidtuple help %s' for more information.\n", cmd);
	else
		fputs("Try 'pidtuple --help' for more information.\n", stderr);
	if (cli_json)
		cli_fail_json(cmd, &(struct cli_failure){ .err = -EINVAL, .usage = true }, what);
	return CLI_EXIT_USAGE;
}
