/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the caller's capabilities allow over a namespace, by the kernel's cap_capable(). Below
 * nsctx.c and features.c: it calls nothing of the library but the shim. */
#include <fcntl.h>
#include <unistd.h>

#include "caps.h"
#include "pidtuple.h"
#include "proc.h"
#include "syscall_shim.h"

/*
 * The caller's own effective set over its own namespace or a descendant of it; every
 * capability over a child namespace it owns by euid; nothing above or beside.
 */
uint64_t pt_caps_over(int userns, uint64_t own_ino, uint64_t cap_eff)
{
	uint64_t result = 0;
	int cur;

	if (pt_fd_ino(userns) == own_ino)
		return cap_eff; /* the common case, without walking */
	cur = pt_dup(userns);
	while (cur >= 0) {
		uint64_t ino = pt_fd_ino(cur);
		uid_t owner;
		int parent;

		if (ino == own_ino) {
			result = cap_eff;
			break;
		}
		parent = pt_ns_get_parent(cur);
		if (parent < 0) /* above or beside the caller's namespace: no privilege */
			break;
		if (pt_fd_ino(parent) == own_ino && pt_ns_get_owner_uid(cur, &owner) == 0 &&
		    owner == geteuid()) {
			result = ~0ull;
			pt_close(parent);
			break;
		}
		pt_close(cur);
		cur = parent;
	}
	if (cur >= 0)
		pt_close(cur);
	return result;
}

uint64_t pt_caps_level_flags(uint64_t caps)
{
	uint64_t f = 0;

	if (caps & PT_CAP_BIT(PT_CAP_CHECKPOINT_RESTORE))
		f |= PIDTUPLE_LEVEL_CAP_CHECKPOINT_RESTORE;
	if (caps & PT_CAP_BIT(PT_CAP_SYS_ADMIN))
		f |= PIDTUPLE_LEVEL_CAP_SYS_ADMIN;
	if (caps & PT_CAPS_PIN)
		f |= PIDTUPLE_LEVEL_CAN_PIN;
	return f;
}

bool pt_can_pin_active(void)
{
	uint64_t cap_eff = 0, own_ino;
	int fd, userns;
	bool ok;

	if (pt_sys_cap_effective(&cap_eff) < 0 || !(cap_eff & PT_CAPS_PIN))
		return false;
	fd = pt_proc_ns_open(-1, 0, "user");
	if (fd < 0)
		return false;
	own_ino = pt_fd_ino(fd);
	pt_close(fd);
	fd = pt_proc_ns_open(-1, 0, "pid");
	if (fd < 0)
		return false;
	userns = pt_ns_get_userns(fd);
	pt_close(fd);
	if (userns < 0)
		return false;
	ok = pt_caps_over(userns, own_ino, cap_eff) & PT_CAPS_PIN;
	pt_close(userns);
	return ok;
}

bool pt_caps_see_all(void)
{
	uint64_t caps = 0;

	return pt_sys_cap_effective(&caps) == 0 && (caps & PT_CAP_BIT(PT_CAP_SYS_PTRACE));
}
