/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The CRIU image reader of pidtuple import-criu (tools/criu_img.c) on any bytes, read as
 * pstree.img, as inventory.img and as core-TID.img of a process and of one of its threads.
 * Beyond "no crash, no leak": a refusal is -1 (or -2, no memory) with a one-line message that
 * names the file and, where a byte is at fault, an offset inside the file; an accepted
 * pstree.img is a tree (one root first, parents earlier, the process first among its threads,
 * no ID twice), becomes a tree description (tools/criu_tree.c) that libpidtuple-json writes,
 * and that text reads back.
 */
#include "fuzz_common.h"
#include "criu_img.h"
#include "pidtuple-json.h"

#define NAME "dir/x.img"

static void check_refusal(int r, const struct criu_img_err *err, size_t len)
{
	char want[64];

	fuzz_assert(r == -1 || r == -2);
	fuzz_assert(err->offset >= -1 && err->offset <= (long long)len);
	snprintf(want, sizeof(want), "%s: %s", NAME, err->offset >= 0 ? "byte " : "");
	fuzz_assert(strncmp(err->msg, want, strlen(want)) == 0);
	fuzz_assert(!strchr(err->msg, '\n'));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* What criu_img_parse_pstree() promises of a tree it accepts. */
static void check_image(const struct criu_image *img)
{
	uint32_t *ids = calloc(img->n_threads, sizeof(*ids));
	size_t k = 0;

	fuzz_assert(ids && img->n_procs >= 1 && img->procs[0].parent == -1);
	for (size_t i = 0; i < img->n_procs; i++) {
		const struct criu_proc *p = &img->procs[i];

		fuzz_assert(p->pid > 0 && p->pgid > 0 && p->sid > 0 && p->pid <= INT32_MAX);
		fuzz_assert(p->n_threads >= 1 && p->threads[0].tid == p->pid);
		fuzz_assert(i == 0 || (p->parent >= 0 && (size_t)p->parent < i &&
				       img->procs[p->parent].pid == p->ppid));
		for (size_t t = 0; t < p->n_threads; t++)
			ids[k++] = p->threads[t].tid;
	}
	fuzz_assert(k == img->n_threads);
	qsort(ids, k, sizeof(*ids), cmp_u32);
	for (size_t i = 1; i < k; i++)
		fuzz_assert(ids[i - 1] != ids[i]);
	free(ids);
}

/* The image as a tree description, written as JSON and read back. */
static void check_tree(const struct criu_image *img)
{
	struct pidtuple_tree *tree = NULL, *back = NULL;
	char msg[256], *text = NULL;
	int r = criu_img_to_tree(img, &tree, msg, sizeof(msg));

	if (r == -ENOMEM)
		return;
	fuzz_assert(r == 0 && pidtuple_tree_size(tree) == (int)img->n_procs);
	r = pidtuple_tree_to_json(tree, PIDTUPLE_JSON_PRETTY, &text);
	fuzz_assert(r == 0 || r == -ENOMEM);
	if (r == 0) {
		r = pidtuple_tree_from_json(text, &back, NULL);
		fuzz_assert(r == 0 || r == -ENOMEM);
	}
	pidtuple_tree_free(back);
	free(text);
	pidtuple_tree_free(tree);
}

static void fuzz_pstree(const uint8_t *data, size_t size)
{
	struct criu_img_err err = { .offset = -1 };
	struct criu_image img = { 0 };
	int r = criu_img_parse_pstree(data, size, NAME, &img, &err);

	if (r == 0) {
		check_image(&img);
		check_tree(&img);
	} else {
		check_refusal(r, &err, size);
	}
	criu_img_free(&img);
}

/* core-TID.img as the process's own (t = 0) and as its second thread's. */
static void fuzz_core(const uint8_t *data, size_t size)
{
	struct criu_thread threads[2] = { { .tid = 7 }, { .tid = 8 } };
	struct criu_proc p = { .pid = 7,
			       .ppid = 0,
			       .pgid = 7,
			       .sid = 7,
			       .threads = threads,
			       .n_threads = 2,
			       .parent = -1 };

	for (size_t t = 0; t < 2; t++) {
		struct criu_img_err err = { .offset = -1 };
		int r = criu_img_parse_core(data, size, NAME, &p, t, &err);

		if (r == 0) {
			fuzz_assert(t == 1 || p.task_state != 0);
			fuzz_assert(strlen(threads[t].comm) < CRIU_COMM_MAX);
		} else {
			check_refusal(r, &err, size);
		}
	}
}

static void fuzz_inventory(const uint8_t *data, size_t size)
{
	struct criu_img_err err = { .offset = -1 };
	struct criu_image img = { 0 };
	int r = criu_img_parse_inventory(data, size, NAME, &img, &err);

	if (r == 0)
		fuzz_assert(img.img_version == CRIU_IMAGES_V1_1 && img.n_procs == 0);
	else
		check_refusal(r, &err, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_pstree(data, size);
	fuzz_core(data, size);
	fuzz_inventory(data, size);
	return 0;
}
