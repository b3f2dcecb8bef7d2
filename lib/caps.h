/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the caller's capabilities allow, by the kernel's cap_capable() (caps.c). Calls nothing
 * of the library but the shim. */
#ifndef PIDTUPLE_CAPS_H
#define PIDTUPLE_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "syscall_shim.h"

#define PT_CAP_BIT(c) (1ull << (c))
/* Either one lets the caller pin a PID (set_tid, ns_last_pid) in a namespace it is
 * privileged over. */
#define PT_CAPS_PIN (PT_CAP_BIT(PT_CAP_SYS_ADMIN) | PT_CAP_BIT(PT_CAP_CHECKPOINT_RESTORE))

/* Capabilities the caller holds over user namespace @userns, given its own user namespace's
 * inode @own_ino and its effective set @cap_eff. */
uint64_t pt_caps_over(int userns, uint64_t own_ino, uint64_t cap_eff);
/* PIDTUPLE_LEVEL_CAP_* and _CAN_PIN for a capability set held over a level's owner. */
uint64_t pt_caps_level_flags(uint64_t caps);
/* Does the caller hold CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN over its active PID
 * namespace's owner (what writing ns_last_pid needs)? */
bool pt_can_pin_active(void);
/* Can the caller read every process's namespace links (CAP_SYS_PTRACE, as root)? */
bool pt_caps_see_all(void);

#endif
