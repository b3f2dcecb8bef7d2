/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The /proc readers of lib/proc.c on any file content. pt_parse_status() gets the input as a
 * string; then the input becomes a memfd read through /proc/self/fd/N, so the real
 * open/read/parse path (pt_read_file_at(), pt_read_status_at()) runs on status-like and
 * fdinfo-like text. Checks: entry counts in range, no access outside the caller's buffer, the
 * file path agreeing with the string path, and every NSpid line that pidtuple_parse() accepts
 * read back with the same PIDs.
 */
#include <fcntl.h>
#include <sys/mman.h>

#include "fuzz_common.h"
#include "internal.h"

#define READ_SIZE 4096 /* what the library reads a status or fdinfo file into */

static int memfd = -1, fddir = -1;

static void put_file(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (memfd < 0) {
		memfd = memfd_create("fuzz_nspid", MFD_CLOEXEC);
		fddir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	fuzz_assert(memfd >= 0 && fddir >= 0);
	fuzz_assert(ftruncate(memfd, 0) == 0);
	while (done < size) {
		ssize_t w = pwrite(memfd, data + done, size - done, (off_t)done);

		fuzz_assert(w > 0);
		done += (size_t)w;
	}
}

/* The NSpid line pt_parse_status() keeps: the last one up to the first "NSsid:" line, where
 * it stops. NULL when there is none. */
static char *kept_nspid_line(const char *text)
{
	const char *found = NULL;

	for (const char *line = text; line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, "NSpid:", 6) == 0)
			found = line;
		if (strncmp(line, "NSsid:", 6) == 0)
			break;
	}
	if (!found)
		return NULL;
	return strndup(found, strcspn(found, "\n"));
}

/* -ESRCH (a task being released) only for a positive Pid with a 0 among the NSpid numbers. */
static bool released(const struct pt_status *st)
{
	for (int i = 0; st->has_pid && st->pid > 0 && i < st->n[PT_NSPID]; i++)
		if (st->ids[PT_NSPID][i] == 0)
			return true;
	return false;
}

static void check_status(const struct pt_status *st, int r)
{
	fuzz_assert(r == 0 || r == -EIO || r == -ESRCH);
	if (r == -EIO)
		return; /* the counts are unspecified after a failure */
	for (int k = 0; k < 4; k++)
		fuzz_assert(st->n[k] >= -1 && st->n[k] <= PIDTUPLE_MAX_LEVELS + 1);
	fuzz_assert((r == -ESRCH) == released(st));
}

/* A status read agrees with parsing the bytes it read: the verdict, and every id. */
static void check_same(int r_read, const struct pt_status *rd, int r, const struct pt_status *st)
{
	fuzz_assert(r_read == r);
	if (r < 0)
		return;
	fuzz_assert(rd->has_pid == st->has_pid && rd->has_ppid == st->has_ppid &&
		    rd->has_tgid == st->has_tgid);
	fuzz_assert((!st->has_pid || rd->pid == st->pid) &&
		    (!st->has_ppid || rd->ppid == st->ppid) &&
		    (!st->has_tgid || rd->tgid == st->tgid));
	fuzz_assert(memcmp(rd->n, st->n, sizeof(st->n)) == 0);
	for (int k = 0; k < 4; k++)
		fuzz_assert(st->n[k] <= 0 ||
			    memcmp(rd->ids[k], st->ids[k], (size_t)st->n[k] * sizeof(pid_t)) == 0);
}

/* pidtuple_parse() is the strict reader: whatever it accepts, the /proc reader agrees on. */
static void check_against_parse(const char *text, const struct pt_status *st, int r)
{
	char *line = kept_nspid_line(text);
	struct pidtuple *t = NULL;

	if (line && r == 0 && pidtuple_parse(line, &t, NULL) == 0) {
		int n = pidtuple_levels(t);

		if (st->n[PT_NSPID] != n)
			fprintf(stderr, "'%s' parses to %d levels, pt_parse_status() reads %d\n",
				line, n, st->n[PT_NSPID]);
		fuzz_assert(st->n[PT_NSPID] == n);
		for (int i = 0; i < n; i++)
			fuzz_assert(pidtuple_get(t, (unsigned int)(n - 1 - i)) ==
				    st->ids[PT_NSPID][i]);
		pidtuple_free(t);
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bufsz = 1 + size % 64, want;
	char path[64], name[16], *text, *buf;
	struct pt_status st, st_file, st_read;
	int fd0, r, r_file;

	/* The parser on the whole input as a string. */
	text = malloc(size + 1);
	fuzz_assert(text);
	memcpy(text, data, size);
	text[size] = '\0';
	r = pt_parse_status(text, &st);
	check_status(&st, r);
	check_against_parse(text, &st, r);

	/* The same bytes as a file: what the library reads is the first 4095 bytes. */
	put_file(data, size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	snprintf(name, sizeof(name), "%d", memfd);
	fd0 = fuzz_lowest_free_fd();

	buf = malloc(READ_SIZE);
	fuzz_assert(buf);
	want = size < READ_SIZE - 1 ? size : READ_SIZE - 1;
	fuzz_assert(pt_read_file_at(-1, path, buf, READ_SIZE) == (int)want);
	fuzz_assert(memcmp(buf, data, want) == 0 && buf[want] == '\0');
	r_file = pt_parse_status(buf, &st_file);
	check_status(&st_file, r_file);
	if (want == size) { /* nothing cut: the file and the string say the same */
		fuzz_assert(r_file == r);
		fuzz_assert(r < 0 || memcmp(st_file.n, st.n, sizeof(st.n)) == 0);
	}
	free(buf);

	/* A buffer of exactly @bufsz bytes, relative to a directory fd: never overrun. */
	buf = malloc(bufsz);
	fuzz_assert(buf);
	want = size < bufsz - 1 ? size : bufsz - 1;
	fuzz_assert(pt_read_file_at(fddir, name, buf, bufsz) == (int)want);
	fuzz_assert(memcmp(buf, data, want) == 0 && buf[want] == '\0');
	free(buf);

	/* The status read itself, by path and relative to a directory fd. */
	check_same(pt_read_status_at(-1, path, &st_read), &st_read, r_file, &st_file);
	check_same(pt_read_status_at(fddir, name, &st_read), &st_read, r_file, &st_file);
	fuzz_assert(pt_read_status_at(-1, "/proc/self/fd/-1", &st_read) < 0);
	fuzz_assert(fuzz_lowest_free_fd() == fd0);
	free(text);
	return 0;
}
