/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A reader of the few CRIU image files that hold PIDs and thread IDs: inventory.img,
 * pstree.img and core-TID.img (docs/criu-images.md). Written by hand from the format: a magic
 * header, then entries of a 4-byte size and a protobuf message. Everything malformed is
 * refused with a message naming the file and the byte offset. Links the C library only. */
#ifndef PIDTUPLE_CRIU_IMG_H
#define PIDTUPLE_CRIU_IMG_H

#include <stddef.h>
#include <stdint.h>

/* CRIU's image magic numbers (criu/include/magic.h). */
#define CRIU_IMG_COMMON_MAGIC 0x54564319u
#define CRIU_IMG_SERVICE_MAGIC 0x55105940u
#define CRIU_INVENTORY_MAGIC 0x58313116u
#define CRIU_PSTREE_MAGIC 0x50273030u
#define CRIU_CORE_MAGIC 0x55053847u

/* inventory.img's img_version that has the common magic in every other file's head. */
#define CRIU_IMAGES_V1_1 2u

/* The largest image file read: far beyond a pstree.img of a million processes. */
#define CRIU_IMG_MAX_FILE (64u * 1024 * 1024)
/* A command name as CRIU records it, with its NUL: the kernel's TASK_COMM_LEN. Longer names
 * are cut, a NUL byte ends one. */
#define CRIU_COMM_MAX 16
/* At most as many processes and threads as Linux has PIDs (PID_MAX_LIMIT): every one is a PID. */
#define CRIU_IMG_MAX_IDS (4u * 1024 * 1024)

/* The first error met: "FILE: byte N: what" (or "FILE: what" when no byte is at fault). */
struct criu_img_err {
	char msg[4096 + 512];
	long long offset; /* the byte in that file; -1 when no byte is at fault */
};

struct criu_thread {
	uint32_t tid;
	char comm[CRIU_COMM_MAX]; /* from core-TID.img; "" until it was read */
};

struct criu_proc {
	uint32_t pid, ppid, pgid, sid; /* the innermost numbers, as pstree.img has them */
	size_t entry_offset;	       /* where its entry starts in pstree.img */
	/* Its threads as pstree.img lists them, the process itself first; never empty (an
	 * entry without threads gets its PID as the only one). */
	struct criu_thread *threads;
	size_t n_threads;
	uint32_t task_state; /* task_core_entry.task_state of core-PID.img; 0 until read */
	int parent;	     /* index of the parent in criu_image::procs; -1 for the root */
};

struct criu_image {
	uint32_t img_version; /* from inventory.img */
	struct criu_proc *procs;
	size_t n_procs;
	size_t n_threads; /* over all processes */
};

/* CRIU's task states (task_core_entry.task_state). */
#define CRIU_TASK_ALIVE 1u
#define CRIU_TASK_DEAD 2u
#define CRIU_TASK_STOPPED 3u
#define CRIU_TASK_ZOMBIE 6u

/* Each parser reads one file's bytes; @name is used in messages only. Return 0, or -1 with
 * @err filled in (-2 for no memory, also with @err). */

/* inventory.img: its magic (no common magic before it) and img_version, which must be 2. */
int criu_img_parse_inventory(const void *buf, size_t len, const char *name, struct criu_image *img,
			     struct criu_img_err *err);

/* pstree.img: appends one criu_proc per entry to @img and checks the tree: one root first,
 * every parent an earlier process, no PID or TID twice, the process first among its threads,
 * no 0 where CRIU writes a number. */
int criu_img_parse_pstree(const void *buf, size_t len, const char *name, struct criu_image *img,
			  struct criu_img_err *err);

/* core-TID.img of thread @t of @proc: its magic, its entries' framing, the command name; for
 * the process's own core, the task_core_entry (task state and command name) it must have. */
int criu_img_parse_core(const void *buf, size_t len, const char *name, struct criu_proc *proc,
			size_t t, struct criu_img_err *err);

/* Reads the directory @dir: inventory.img, pstree.img and core-TID.img of every thread. */
int criu_img_load(const char *dir, struct criu_image *img, struct criu_img_err *err);

/* Frees what the parsers allocated; @img may then be used again. */
void criu_img_free(struct criu_image *img);

/* criu_tree.c, with libpidtuple: @img as a tree description, one HOLD node per process in
 * pstree.img's order (so node i is procs[i]), each with one level, the innermost numbers
 * CRIU records; the root starts a new PID namespace when it is PID 1, as criu restore gives
 * it one. Returns 0, or a negative errno with a message in @msg. */
struct pidtuple_tree;
int criu_img_to_tree(const struct criu_image *img, struct pidtuple_tree **ret_tree, char *msg,
		     size_t size);

#endif
