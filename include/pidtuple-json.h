/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file pidtuple-json.h
 * @brief libpidtuple-json: the JSON form of a process tree description (struct pidtuple_tree).
 *
 * An optional companion library (`libpidtuple-json.so.1`, pkg-config `libpidtuple-json`), so
 * that the core libpidtuple keeps linking the C library alone. The format is described,
 * versioned, in docs/tree-json.md (installed as the manual page pidtuple-json(5)):
 *
 *     {"format": "libpidtuple-tree", "version": 1,
 *      "nodes": [{"tuple": "4242/17/1", "parent": -1, "newpid": false,
 *                 "pgid": [4242, 17, 1], "sid": [4242, 0, 0], "kind": "hold"}]}
 *
 * The conventions of pidtuple.h hold here too: a value >= 0 on success, a negative errno on
 * failure, out-parameters named `ret_*` written only on success, thread-safe functions.
 */
#ifndef PIDTUPLE_JSON_H
#define PIDTUPLE_JSON_H

#include <stdint.h>

#include "pidtuple.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * PIDTUPLE_JSON_API marks a symbol exported from libpidtuple-json. A plain comment: Doxygen
 * predefines PIDTUPLE_JSON_API, skips this block, and would give a documentation comment here
 * to the next definition, PIDTUPLE_JSON_FORMAT_VERSION.
 */
#ifndef PIDTUPLE_JSON_API
#define PIDTUPLE_JSON_API __attribute__((visibility("default")))
#endif

/** The newest format version: pidtuple_tree_from_json() reads versions 1 up to it;
 * pidtuple_tree_to_json() writes version 2 for a tree that needs it (a node's `threads`,
 * `name` or `outside`, since 1.1) and version 1 otherwise, so that older readers still read
 * such trees. */
#define PIDTUPLE_JSON_FORMAT_VERSION 2

/** pidtuple_tree_to_json(): indent the text for a human (two spaces a level, a tuple's
 * numbers on one line). Without it the text is one line without spaces. */
#define PIDTUPLE_JSON_PRETTY (1u << 0)

/** Every pidtuple_tree_to_json() flag this version knows. */
#define PIDTUPLE_JSON_ALL_FLAGS PIDTUPLE_JSON_PRETTY

/** The longest text pidtuple_tree_from_json() reads, in bytes (8 MiB: about 35,000 processes
 * written with PIDTUPLE_JSON_PRETTY, twice as many without). */
#define PIDTUPLE_JSON_MAX_TEXT (8u * 1024 * 1024)

/**
 * @brief **pidtuple_tree_to_json()** writes a tree description as JSON text.
 *
 * The text is canonical: the same tree always gives the same bytes, members in the order of
 * docs/tree-json.md. A node's `pgid` and `sid` are written only when the node has them (NULL
 * means "the parent's" and is left out), its `threads` only when it has threads, its `name`
 * only when it has one, its `outside` only when it has PIDTUPLE_NODE_GROUP_OUTSIDE or
 * PIDTUPLE_NODE_SESSION_OUTSIDE (`["group", "session"]`, in that order); the document is
 * format version 2 when a node has any of these three, else version 1. The text has no
 * trailing newline.
 * @param tree The tree, from pidtuple_tree_new() or pidtuple_tree_capture().
 * @param flags 0 or PIDTUPLE_JSON_PRETTY.
 * @param ret_text On success, the NUL-terminated text; free it with free().
 * @return 0 on success. Errors: -EINVAL (NULL argument, an unknown flag, or a node the format
 * cannot represent: a PIDTUPLE_NODE_CALLBACK node, whose function has no text form, a node
 * flag or kind this version does not know, threads on a node that is not a
 * PIDTUPLE_NODE_HOLD node, or a path, argument or environment string that is not valid
 * UTF-8), -ENOMEM.
 */
PIDTUPLE_JSON_API int pidtuple_tree_to_json(const struct pidtuple_tree *tree, uint32_t flags,
					    char **ret_text);

/**
 * @brief **pidtuple_tree_from_json()** reads a tree description from JSON text.
 *
 * Reading is strict: the text must be one JSON object (RFC 8259: no comments, no single
 * quotes, no raw control characters in strings, no key twice in one object, UTF-8), with
 * `"format": "libpidtuple-tree"`, a `version` this library reads (1 or 2), and nodes that
 * carry only the members of docs/tree-json.md for that version, each of the right type.
 * Tuples are written as pidtuple_format() writes them (`4242/17/1`); `pgid` and `sid` are
 * arrays of integers, outermost first, one per level of the node's tuple, with 0 at the inner
 * levels where the group or session is not visible; `threads` (version 2, hold nodes only)
 * is an array of TID tuples with the node's levels; `outside` (version 2) is an array of
 * `"group"` and `"session"`, each at most once, read as the node flags
 * PIDTUPLE_NODE_GROUP_OUTSIDE and PIDTUPLE_NODE_SESSION_OUTSIDE. Parents come before their
 * children; the first node is the root (`"parent": -1`); a node has as many levels as its
 * parent, one more with `"newpid": true`, and then ends in PID 1. What the text cannot say
 * (whether the PIDs are free, privilege, a TID claimed twice) is left to
 * pidtuple_tree_check().
 * @param text NUL-terminated JSON text, at most PIDTUPLE_JSON_MAX_TEXT bytes.
 * @param ret_tree On success, the tree; free it with pidtuple_tree_free().
 * @param diag Optional (may be NULL): on failure, a message that names the place in the
 * document as a path (`nodes[3].pgid[1]: ...`), the rule (PIDTUPLE_RULE_SYNTAX for text that
 * is not JSON, a wrong type, a missing or unknown member, an unknown format or version;
 * PIDTUPLE_RULE_LEVEL_COUNT for a tuple of the wrong length; PIDTUPLE_RULE_TREE_SHAPE for a
 * parent or level count that does not fit, or threads on a node that is not a hold node; the
 * rule pidtuple_parse() gave for a bad tuple), the failing node's index in `node` (-1 for the
 * document), the failing thread's index in `thread` (-1 when the error is not in a thread's
 * tuple), and for JSON syntax errors the byte offset in `text_pos`.
 * @return 0 on success. Errors: -EINVAL (NULL argument, or a text that is not a valid tree
 * description), -E2BIG (text longer than PIDTUPLE_JSON_MAX_TEXT), -ENOMEM.
 */
PIDTUPLE_JSON_API int pidtuple_tree_from_json(const char *text, struct pidtuple_tree **ret_tree,
					      struct pidtuple_diag *diag);

#ifdef __cplusplus
}
#endif

#endif /* PIDTUPLE_JSON_H */
