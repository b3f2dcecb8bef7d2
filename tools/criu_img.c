/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A hand-written reader of CRIU's inventory.img, pstree.img and core-TID.img: the image
 * framing (magic numbers, then entries of a 4-byte size and a protobuf message) and the
 * protobuf wire format, for the few messages and fields that hold PIDs and thread IDs.
 * docs/criu-images.md describes what is read and why it is read this way. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu_img.h"

/* One image file being read. */
struct img {
	const uint8_t *buf;
	size_t len;
	const char *name;
	struct criu_img_err *err;
};

enum {
	WIRE_VARINT = 0,
	WIRE_FIXED64 = 1,
	WIRE_LEN = 2,
	WIRE_GROUP_START = 3,
	WIRE_GROUP_END = 4,
	WIRE_FIXED32 = 5,
};

/* A field as it stands on the wire. */
struct pb_field {
	uint32_t num, wire;
	size_t at;	  /* its tag's offset in the file; 0 when the field is absent */
	uint64_t value;	  /* varint, fixed32 or fixed64 */
	size_t data, len; /* length-delimited: its bytes */
};

/* A field a message is read for. Fields not listed are checked for framing and skipped: a
 * later CRIU may add some. */
struct pb_spec {
	uint32_t num;
	uint32_t wire;
	bool required;
	const char *name;
};

struct pb_msg {
	const char *name;
	const struct pb_spec *fields;
	size_t n;
	/* Called for each field listed with WIRE_LEN and num @repeated_num, instead of storing. */
	uint32_t repeated_num;
	int (*repeated)(const struct img *im, const struct pb_field *f, void *arg);
	void *arg;
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static int __attribute__((format(printf, 3, 4)))
bad(const struct img *im, long long off, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (off >= 0)
		snprintf(im->err->msg, sizeof(im->err->msg), "%s: byte %lld: %s", im->name, off,
			 what);
	else
		snprintf(im->err->msg, sizeof(im->err->msg), "%s: %s", im->name, what);
	im->err->offset = off;
	return -1;
}

/* Arrays grow to @first (a power of two), then double: the new capacity when @n elements
 * fill the array, else 0. */
static size_t grow_to(size_t n, size_t first)
{
	if (n == 0)
		return first;
	return n >= first && (n & (n - 1)) == 0 ? 2 * n : 0;
}

static int no_memory(const struct img *im)
{
	snprintf(im->err->msg, sizeof(im->err->msg), "%s: out of memory", im->name);
	im->err->offset = -1;
	return -2;
}

/* ---- the protobuf wire format -------------------------------------------------------- */

static int read_varint(const struct img *im, size_t *pos, size_t end, uint64_t *ret)
{
	size_t start = *pos;
	uint64_t v = 0;

	for (unsigned int shift = 0;; shift += 7) {
		uint8_t b;

		if (*pos >= end)
			return bad(im, (long long)start,
				   "a varint runs past the end of its message (byte %zu)", end);
		b = im->buf[(*pos)++];
		if (shift == 63 && b > 1)
			return bad(im, (long long)start, "a varint longer than 64 bits");
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	*ret = v;
	return 0;
}

static int read_fixed(const struct img *im, size_t *pos, size_t end, struct pb_field *f)
{
	size_t n = f->wire == WIRE_FIXED64 ? 8 : 4;

	if (end - *pos < n)
		return bad(im, (long long)f->at,
			   "field %u: a %zu-byte value runs past the end of its message (byte %zu)",
			   f->num, n, end);
	f->value = 0;
	for (size_t i = n; i-- > 0;)
		f->value = f->value << 8 | im->buf[*pos + i]; /* little-endian on the wire */
	*pos += n;
	return 0;
}

/* Reads the field at *pos, which is below @end. */
static int pb_next(const struct img *im, size_t *pos, size_t end, struct pb_field *f)
{
	uint64_t tag, n;

	f->at = *pos;
	if (read_varint(im, pos, end, &tag) < 0)
		return -1;
	if (tag > UINT32_MAX || tag >> 3 == 0)
		return bad(im, (long long)f->at, "field number %llu is not a protobuf field number",
			   (unsigned long long)(tag >> 3));
	f->num = (uint32_t)(tag >> 3);
	f->wire = (uint32_t)(tag & 7);
	switch (f->wire) {
	case WIRE_VARINT:
		return read_varint(im, pos, end, &f->value);
	case WIRE_FIXED64:
	case WIRE_FIXED32:
		return read_fixed(im, pos, end, f);
	case WIRE_LEN:
		if (read_varint(im, pos, end, &n) < 0)
			return -1;
		if (n > end - *pos)
			return bad(
				im, (long long)f->at,
				"field %u: %llu bytes run past the end of its message (%zu bytes "
				"left)",
				f->num, (unsigned long long)n, end - *pos);
		f->data = *pos;
		f->len = (size_t)n;
		*pos += (size_t)n;
		return 0;
	case WIRE_GROUP_START:
	case WIRE_GROUP_END:
		return bad(im, (long long)f->at,
			   "field %u: wire type %u is a group, which CRIU's images never use",
			   f->num, f->wire);
	default:
		return bad(im, (long long)f->at,
			   "field %u: wire type %u is not a protobuf wire type", f->num, f->wire);
	}
}

static const char *wire_name(uint32_t wire)
{
	return wire == WIRE_VARINT ? "a varint" : wire == WIRE_LEN ? "length-delimited" : "fixed";
}

/* Stores a listed field in got[] (by its index in the spec), once. */
static int store_field(const struct img *im, const struct pb_msg *m, const struct pb_field *f,
		       struct pb_field *got)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct pb_spec *s = &m->fields[i];

		if (s->num != f->num)
			continue;
		if (m->repeated && f->num == m->repeated_num)
			return m->repeated(im, f, m->arg);
		if (f->wire != s->wire)
			return bad(im, (long long)f->at, "%s.%s (field %u) is %s, not %s", m->name,
				   s->name, f->num, wire_name(f->wire), wire_name(s->wire));
		if (got[i].at)
			return bad(im, (long long)f->at,
				   "%s.%s (field %u) appears twice (first at byte %zu)", m->name,
				   s->name, f->num, got[i].at);
		got[i] = *f;
		return 0;
	}
	return 0; /* not one this reader needs */
}

/* Reads the message in [pos, end), which starts at @msg_at (its entry or field), into got[]:
 * every field well-formed, the listed ones of their wire type and at most once, the required
 * ones present. */
static int pb_read_msg(const struct img *im, size_t pos, size_t end, size_t msg_at,
		       const struct pb_msg *m, struct pb_field *got)
{
	memset(got, 0, m->n * sizeof(*got));
	while (pos < end) {
		struct pb_field f;
		int r = pb_next(im, &pos, end, &f);

		if (r == 0)
			r = store_field(im, m, &f, got);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->fields[i].required && !got[i].at)
			return bad(im, (long long)msg_at,
				   "%s has no %s (field %u), which is required", m->name,
				   m->fields[i].name, m->fields[i].num);
	return 0;
}

static int field_u32(const struct img *im, const struct pb_msg *m, size_t i,
		     const struct pb_field *f, uint32_t *ret)
{
	if (f->value > UINT32_MAX)
		return bad(im, (long long)f->at, "%s.%s (field %u): %llu does not fit in 32 bits",
			   m->name, m->fields[i].name, f->num, (unsigned long long)f->value);
	*ret = (uint32_t)f->value;
	return 0;
}

/* ---- the image framing ---------------------------------------------------------------- */

static const char *magic_name(uint32_t magic)
{
	switch (magic) {
	case CRIU_IMG_COMMON_MAGIC:
		return " (the head of CRIU's images)";
	case CRIU_IMG_SERVICE_MAGIC:
		return " (the head of CRIU's service files)";
	case CRIU_INVENTORY_MAGIC:
		return " (inventory's)";
	case CRIU_PSTREE_MAGIC:
		return " (pstree's)";
	case CRIU_CORE_MAGIC:
		return " (core's)";
	default:
		return "";
	}
}

static int check_magic(const struct img *im, size_t off, uint32_t want, const char *what)
{
	uint32_t got;

	if (im->len - off < 4)
		return bad(im, (long long)off,
			   "the file ends %zu byte(s) into %s: not a CRIU image, or truncated",
			   im->len - off, what);
	memcpy(&got, im->buf + off, 4); /* host order, as CRIU writes it */
	if (got == want)
		return 0;
	if (got == __builtin_bswap32(want))
		return bad(im, (long long)off,
			   "%s 0x%08x is in the other byte order: the image was written on a "
			   "machine of the other endianness",
			   what, got);
	return bad(im, (long long)off, "%s is 0x%08x%s, not 0x%08x%s", what, got, magic_name(got),
		   want, magic_name(want));
}

/* The head of every image but inventory.img: CRIU's image magic, then the file's own. */
static int check_head(const struct img *im, uint32_t want, size_t *ret_pos)
{
	if (check_magic(im, 0, CRIU_IMG_COMMON_MAGIC, "the image magic") < 0 ||
	    check_magic(im, 4, want, "the file's magic") < 0)
		return -1;
	*ret_pos = 8;
	return 0;
}

/* The entry at *pos: a 4-byte size in host order, then that many bytes. */
static int next_entry(const struct img *im, size_t *pos, size_t *ret_body, size_t *ret_end)
{
	uint32_t size;

	if (im->len - *pos < 4)
		return bad(im, (long long)*pos,
			   "an entry's 4-byte size is cut off after %zu byte(s): the file is "
			   "truncated",
			   im->len - *pos);
	memcpy(&size, im->buf + *pos, 4);
	if (size > im->len - *pos - 4)
		return bad(im, (long long)*pos,
			   "an entry of %u bytes runs past the end of the file (%zu bytes follow "
			   "its size): the file is truncated",
			   size, im->len - *pos - 4);
	*ret_body = *pos + 4;
	*ret_end = *pos + 4 + size;
	*pos = *ret_end;
	return 0;
}

/* The one entry of a file that holds one (inventory.img, core-TID.img). */
static int only_entry(const struct img *im, size_t pos, size_t *ret_at, size_t *ret_body,
		      size_t *ret_end)
{
	if (pos == im->len)
		return bad(im, (long long)pos, "the file ends before its entry");
	*ret_at = pos;
	if (next_entry(im, &pos, ret_body, ret_end) < 0)
		return -1;
	if (pos != im->len)
		return bad(im, (long long)pos,
			   "%zu more byte(s) after the entry: this file holds one entry",
			   im->len - pos);
	return 0;
}

/* ---- inventory.img -------------------------------------------------------------------- */

static const struct pb_spec inventory_fields[] = {
	{ 1, WIRE_VARINT, true, "img_version" },
};

int criu_img_parse_inventory(const void *buf, size_t len, const char *name, struct criu_image *img,
			     struct criu_img_err *err)
{
	const struct img im = { buf, len, name, err };
	const struct pb_msg m = {
		"inventory_entry", inventory_fields, N_ELEMS(inventory_fields), 0, NULL, NULL
	};
	struct pb_field got[N_ELEMS(inventory_fields)];
	size_t at = 0, body = 0, end = 0;
	uint32_t version = 0;

	if (check_magic(&im, 0, CRIU_INVENTORY_MAGIC, "the file's magic") < 0 ||
	    only_entry(&im, 4, &at, &body, &end) < 0 ||
	    pb_read_msg(&im, body, end, at, &m, got) < 0 ||
	    field_u32(&im, &m, 0, &got[0], &version) < 0)
		return -1;
	if (version != CRIU_IMAGES_V1_1)
		return bad(&im, (long long)got[0].at,
			   "image version %u: only version %u is read (the one CRIU has written "
			   "since 1.6, in 2015)",
			   version, CRIU_IMAGES_V1_1);
	img->img_version = version;
	return 0;
}

/* ---- pstree.img ----------------------------------------------------------------------- */

static const struct pb_spec pstree_fields[] = {
	{ 1, WIRE_VARINT, true, "pid" },   { 2, WIRE_VARINT, true, "ppid" },
	{ 3, WIRE_VARINT, true, "pgid" },  { 4, WIRE_VARINT, true, "sid" },
	{ 5, WIRE_LEN, false, "threads" },
};

struct thread_sink {
	struct criu_proc *proc;
	size_t *total; /* threads of the whole image so far */
};

static int add_thread(const struct img *im, struct thread_sink *s, size_t at, uint64_t tid)
{
	struct criu_proc *p = s->proc;

	if (tid == 0 || tid > INT32_MAX)
		return bad(im, (long long)at, "pstree_entry.threads: %llu is not a thread ID",
			   (unsigned long long)tid);
	if (*s->total >= CRIU_IMG_MAX_IDS)
		return bad(im, (long long)at, "more than %u threads: more than Linux has PIDs",
			   CRIU_IMG_MAX_IDS);
	if (grow_to(p->n_threads, 4)) {
		struct criu_thread *t = realloc(p->threads, grow_to(p->n_threads, 4) * sizeof(*t));

		if (!t)
			return no_memory(im);
		p->threads = t;
	}
	memset(&p->threads[p->n_threads], 0, sizeof(p->threads[0]));
	p->threads[p->n_threads++].tid = (uint32_t)tid;
	(*s->total)++;
	return 0;
}

/* pstree_entry.threads: packed (one length-delimited run of varints) or one varint a field;
 * protobuf readers must take both. */
static int pstree_threads(const struct img *im, const struct pb_field *f, void *arg)
{
	size_t pos = f->data, end = f->data + f->len;
	uint64_t tid;

	if (f->wire == WIRE_VARINT)
		return add_thread(im, arg, f->at, f->value);
	if (f->wire != WIRE_LEN)
		return bad(im, (long long)f->at,
			   "pstree_entry.threads (field 5) is %s, not a varint",
			   wire_name(f->wire));
	while (pos < end) {
		size_t at = pos;
		int r = read_varint(im, &pos, end, &tid);

		if (r == 0)
			r = add_thread(im, arg, at, tid);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_ids(const struct img *im, const struct pb_msg *m, const struct pb_field *got,
		    struct criu_proc *p)
{
	uint32_t *dst[] = { &p->pid, &p->ppid, &p->pgid, &p->sid };

	for (size_t i = 0; i < N_ELEMS(dst); i++) {
		if (field_u32(im, m, i, &got[i], dst[i]) < 0)
			return -1;
		if (*dst[i] > INT32_MAX)
			return bad(im, (long long)got[i].at, "pstree_entry.%s: %u is not a PID",
				   m->fields[i].name, *dst[i]);
	}
	if (p->pid == 0)
		return bad(im, (long long)got[0].at, "pstree_entry.pid is 0");
	if (p->pgid == 0 || p->sid == 0)
		return bad(im, (long long)got[p->pgid == 0 ? 2 : 3].at,
			   "process %u: its %s is 0, outside its PID namespace: CRIU dumps no "
			   "such process",
			   p->pid, p->pgid == 0 ? "process group" : "session");
	return 0;
}

/* Reads one pstree_entry into the new last element of img->procs. */
static int pstree_entry(const struct img *im, struct criu_image *img, size_t at, size_t body,
			size_t end)
{
	struct criu_proc *procs, *p;
	struct thread_sink sink;
	struct pb_msg m = { "pstree_entry", pstree_fields, N_ELEMS(pstree_fields), 5,
			    pstree_threads, &sink };
	struct pb_field got[N_ELEMS(pstree_fields)];

	if (img->n_procs >= CRIU_IMG_MAX_IDS)
		return bad(im, (long long)at, "more than %u processes: more than Linux has PIDs",
			   CRIU_IMG_MAX_IDS);
	if (grow_to(img->n_procs, 8)) {
		procs = realloc(img->procs, grow_to(img->n_procs, 8) * sizeof(*procs));
		if (!procs)
			return no_memory(im);
		img->procs = procs;
	}
	p = &img->procs[img->n_procs++];
	memset(p, 0, sizeof(*p));
	p->entry_offset = at;
	p->parent = -1;
	sink = (struct thread_sink){ p, &img->n_threads };
	if (pb_read_msg(im, body, end, at, &m, got) < 0 || read_ids(im, &m, got, p) < 0)
		return -1;
	if (p->n_threads == 0)
		return add_thread(im, &sink, at, p->pid);
	if (p->threads[0].tid != p->pid)
		return bad(im, (long long)at,
			   "process %u: its threads begin with %u, not with the process itself",
			   p->pid, p->threads[0].tid);
	return 0;
}

/* Every ID of the image: each process's threads, the process itself first. */
struct id_ref {
	uint32_t id;
	uint32_t proc, thread;
};

static int cmp_id(const void *a, const void *b)
{
	const struct id_ref *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void describe(const struct criu_image *img, const struct id_ref *r, char *buf, size_t size)
{
	if (r->thread == 0)
		snprintf(buf, size, "process %u", r->id);
	else
		snprintf(buf, size, "thread %u of process %u", r->id, img->procs[r->proc].pid);
}

/* No ID twice: a PID or TID is unique in its namespace. @ids is sorted on return. */
static int check_unique(const struct img *im, const struct criu_image *img, struct id_ref *ids,
			size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < img->n_procs; i++)
		for (size_t t = 0; t < img->procs[i].n_threads; t++)
			ids[k++] = (struct id_ref){ img->procs[i].threads[t].tid, (uint32_t)i,
						    (uint32_t)t };
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < n; i++) {
		const struct id_ref *a = &ids[i - 1], *b = &ids[i];
		char da[64], db[64];

		if (a->id != b->id)
			continue;
		if (a->proc > b->proc || (a->proc == b->proc && a->thread > b->thread)) {
			const struct id_ref *c = a;

			a = b;
			b = c;
		}
		describe(img, a, da, sizeof(da));
		describe(img, b, db, sizeof(db));
		return bad(im, (long long)img->procs[b->proc].entry_offset,
			   "%s has the ID of %s: an ID is unique in its PID namespace", db, da);
	}
	return 0;
}

/* The root comes first; every other process's parent is an earlier process. */
static int check_parent(const struct img *im, struct criu_image *img, size_t i,
			const struct id_ref *ids, size_t n)
{
	struct criu_proc *p = &img->procs[i];
	const struct id_ref key = { p->ppid, 0, 0 }, *found;

	if (i == 0 && p->ppid != 0)
		return bad(im, (long long)p->entry_offset,
			   "the first process, %u, has parent %u: pstree.img begins with the root "
			   "(parent 0)",
			   p->pid, p->ppid);
	if (i == 0)
		return 0;
	if (p->ppid == 0)
		return bad(im, (long long)p->entry_offset,
			   "process %u has parent 0 too: a second root (the first is %u)", p->pid,
			   img->procs[0].pid);
	found = bsearch(&key, ids, n, sizeof(*ids), cmp_id);
	if (!found || found->thread != 0 || found->proc >= i)
		return bad(im, (long long)p->entry_offset, "process %u: its parent %u is %s",
			   p->pid, p->ppid,
			   !found	   ? "not in the image"
			   : found->thread ? "a thread, not a process"
					   : "not an earlier process: CRIU writes parents first");
	p->parent = (int)found->proc;
	return 0;
}

static int check_tree(const struct img *im, struct criu_image *img)
{
	struct id_ref *ids = calloc(img->n_threads, sizeof(*ids));
	int r = 0;

	if (!ids)
		return no_memory(im);
	r = check_unique(im, img, ids, img->n_threads);
	for (size_t i = 0; r == 0 && i < img->n_procs; i++)
		r = check_parent(im, img, i, ids, img->n_threads);
	free(ids);
	return r;
}

int criu_img_parse_pstree(const void *buf, size_t len, const char *name, struct criu_image *img,
			  struct criu_img_err *err)
{
	const struct img im = { buf, len, name, err };
	size_t pos;

	if (check_head(&im, CRIU_PSTREE_MAGIC, &pos) < 0)
		return -1;
	while (pos < len) {
		size_t at = pos, body = 0, end = 0;
		int r = next_entry(&im, &pos, &body, &end);

		if (r == 0)
			r = pstree_entry(&im, img, at, body, end);
		if (r < 0)
			return r;
	}
	if (img->n_procs == 0)
		return bad(&im, (long long)pos, "the file ends before its first entry: no process");
	return check_tree(&im, img);
}

/* ---- core-TID.img --------------------------------------------------------------------- */

static const struct pb_spec core_fields[] = {
	{ 1, WIRE_VARINT, true, "mtype" },
	{ 3, WIRE_LEN, false, "tc" },
	{ 5, WIRE_LEN, false, "thread_core" },
};

static const struct pb_spec task_core_fields[] = {
	{ 1, WIRE_VARINT, true, "task_state" },	 { 2, WIRE_VARINT, true, "exit_code" },
	{ 3, WIRE_VARINT, true, "personality" }, { 4, WIRE_VARINT, true, "flags" },
	{ 5, WIRE_VARINT, true, "blk_sigset" },	 { 6, WIRE_LEN, true, "comm" },
};

static const struct pb_spec thread_core_fields[] = {
	{ 1, WIRE_VARINT, true, "futex_rla" },
	{ 2, WIRE_VARINT, true, "futex_rla_len" },
	{ 13, WIRE_LEN, false, "comm" },
};

static void copy_comm(const struct img *im, const struct pb_field *f, char *dst)
{
	size_t n = f->len < CRIU_COMM_MAX - 1 ? f->len : CRIU_COMM_MAX - 1;

	memcpy(dst, im->buf + f->data, n);
	dst[n] = '\0'; /* a NUL inside ends it */
}

static int read_task_core(const struct img *im, const struct pb_field *tc, struct criu_proc *p,
			  char *comm)
{
	const struct pb_msg m = {
		"task_core_entry", task_core_fields, N_ELEMS(task_core_fields), 0, NULL, NULL
	};
	struct pb_field got[N_ELEMS(task_core_fields)];
	uint32_t state = 0;

	if (pb_read_msg(im, tc->data, tc->data + tc->len, tc->at, &m, got) < 0 ||
	    field_u32(im, &m, 0, &got[0], &state) < 0)
		return -1;
	if (state == 0)
		return bad(im, (long long)got[0].at, "task_core_entry.task_state is 0");
	p->task_state = state;
	copy_comm(im, &got[5], comm);
	return 0;
}

static int read_thread_core(const struct img *im, const struct pb_field *tc, char *comm)
{
	const struct pb_msg m = {
		"thread_core_entry", thread_core_fields, N_ELEMS(thread_core_fields), 0, NULL, NULL
	};
	struct pb_field got[N_ELEMS(thread_core_fields)];

	if (pb_read_msg(im, tc->data, tc->data + tc->len, tc->at, &m, got) < 0)
		return -1;
	if (got[2].at)
		copy_comm(im, &got[2], comm);
	return 0;
}

int criu_img_parse_core(const void *buf, size_t len, const char *name, struct criu_proc *proc,
			size_t t, struct criu_img_err *err)
{
	const struct img im = { buf, len, name, err };
	const struct pb_msg m = { "core_entry", core_fields, N_ELEMS(core_fields), 0, NULL, NULL };
	struct pb_field got[N_ELEMS(core_fields)];
	char *comm = proc->threads[t].comm;
	size_t pos = 0, at = 0, body = 0, end = 0;

	if (check_head(&im, CRIU_CORE_MAGIC, &pos) < 0 ||
	    only_entry(&im, pos, &at, &body, &end) < 0 ||
	    pb_read_msg(&im, body, end, at, &m, got) < 0)
		return -1;
	if (t == 0 && !got[1].at)
		return bad(&im, (long long)at,
			   "core_entry of process %u has no tc (field 3): the task's own core "
			   "needs it",
			   proc->pid);
	if (t == 0 && read_task_core(&im, &got[1], proc, comm) < 0)
		return -1;
	if (got[2].at && read_thread_core(&im, &got[2], comm) < 0)
		return -1;
	if (!comm[0] && t > 0)
		strcpy(comm, proc->threads[0].comm); /* a thread without a name of its own */
	return 0;
}

/* ---- the directory -------------------------------------------------------------------- */

struct file {
	char path[4096 + 64];
	uint8_t *buf;
	size_t len;
	int errnum; /* why it could not be read, 0 when it was not the system's doing */
};

static int file_error(struct criu_img_err *err, struct file *f, const char *what, int e)
{
	f->errnum = e;
	snprintf(err->msg, sizeof(err->msg), "%s: %s%s%s", f->path, what, e ? ": " : "",
		 e ? strerror(e) : "");
	err->offset = -1;
	return e == ENOMEM ? -2 : -1;
}

static int read_fd(int fd, struct file *f, struct criu_img_err *err)
{
	size_t cap = 0;

	for (;;) {
		ssize_t n;

		if (f->len == cap) {
			uint8_t *more;

			if (cap >= CRIU_IMG_MAX_FILE)
				return file_error(
					err, f, "64 MiB or more: larger than this reader takes", 0);
			cap = cap ? cap * 2 : 65536;
			more = realloc(f->buf, cap);
			if (!more)
				return file_error(err, f, "cannot read", ENOMEM);
			f->buf = more;
		}
		n = read(fd, f->buf + f->len, cap - f->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return file_error(err, f, "cannot read", errno);
		if (n == 0)
			return 0;
		f->len += (size_t)n;
	}
}

/* Reads DIR/@base whole into @f. */
static int read_image(int dirfd, const char *dir, const char *base, struct file *f,
		      struct criu_img_err *err)
{
	struct stat st;
	int fd, r;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s%s%s", dir,
		 dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", base);
	fd = openat(dirfd, base, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return file_error(err, f, "cannot open", errno);
	if (fstat(fd, &st) < 0)
		r = file_error(err, f, "cannot read", errno);
	else if (!S_ISREG(st.st_mode))
		r = file_error(err, f, "not a regular file", 0);
	else
		r = 0;
	if (r < 0) {
		close(fd);
		return r;
	}
	r = read_fd(fd, f, err);
	close(fd);
	if (r < 0) {
		free(f->buf);
		f->buf = NULL;
	}
	return r;
}

static int load_cores(int dirfd, const char *dir, struct criu_image *img, struct criu_img_err *err)
{
	for (size_t i = 0; i < img->n_procs; i++) {
		struct criu_proc *p = &img->procs[i];

		for (size_t t = 0; t < p->n_threads; t++) {
			char base[32];
			struct file f;
			int r;

			snprintf(base, sizeof(base), "core-%u.img", p->threads[t].tid);
			r = read_image(dirfd, dir, base, &f, err);
			if (r < 0 && f.errnum == ENOENT) {
				size_t n = strlen(err->msg);

				snprintf(err->msg + n, sizeof(err->msg) - n,
					 " (pstree.img lists thread %u of process %u)",
					 p->threads[t].tid, p->pid);
			}
			if (r == 0)
				r = criu_img_parse_core(f.buf, f.len, f.path, p, t, err);
			free(f.buf);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int criu_img_load(const char *dir, struct criu_image *img, struct criu_img_err *err)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct file f;
	int r;

	memset(img, 0, sizeof(*img));
	if (dirfd < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot open the directory: %s", dir,
			 strerror(errno));
		err->offset = -1;
		return -1;
	}
	r = read_image(dirfd, dir, "inventory.img", &f, err);
	if (r == 0)
		r = criu_img_parse_inventory(f.buf, f.len, f.path, img, err);
	free(f.buf);
	if (r == 0)
		r = read_image(dirfd, dir, "pstree.img", &f, err);
	if (r == 0) {
		r = criu_img_parse_pstree(f.buf, f.len, f.path, img, err);
		free(f.buf);
	}
	if (r == 0)
		r = load_cores(dirfd, dir, img, err);
	close(dirfd);
	if (r < 0)
		criu_img_free(img);
	return r;
}

void criu_img_free(struct criu_image *img)
{
	for (size_t i = 0; i < img->n_procs; i++)
		free(img->procs[i].threads);
	free(img->procs);
	memset(img, 0, sizeof(*img));
}
