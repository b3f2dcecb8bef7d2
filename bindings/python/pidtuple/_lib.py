# SPDX-License-Identifier: LGPL-2.1-or-later
"""ctypes declarations for libpidtuple.so.1: structs, constants and function prototypes.

Internal module; the public API is in pidtuple/__init__.py. The library is found through
the environment variable PIDTUPLE_LIBRARY (a path), else the dynamic loader's search
(ctypes.util.find_library, then the SONAME libpidtuple.so.1).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any, Dict, List, Set, Tuple

SONAME = "libpidtuple.so.1"
ABI_MAJOR = 1

MAX_LEVELS = 32
DIAG_MESSAGE_SIZE = 256

pid_t = ctypes.c_int


# Mirrors of the size-prefixed structs in pidtuple.h. The trailing `size_t : 0` there only
# rounds the size up to a multiple of size_t, which the natural alignment already does on
# every Linux ABI; tests/test_abi.py compares these layouts with a C compiler's.
class Diag(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("err", ctypes.c_int32),
        ("rule", ctypes.c_uint32),
        ("inner_index", ctypes.c_int32),
        ("nspid_pos", ctypes.c_int32),
        ("levels", ctypes.c_int32),
        ("pid", ctypes.c_int32),
        ("kernel_err", ctypes.c_int32),
        ("notices", ctypes.c_uint32),
        ("unverified", ctypes.c_int32),
        ("text_pos", ctypes.c_int32),
        ("message", ctypes.c_char * DIAG_MESSAGE_SIZE),
        ("node", ctypes.c_int32),
        ("reserved", ctypes.c_uint32),
        ("thread", ctypes.c_int32),  # since 1.1
        ("reserved2", ctypes.c_uint32),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(Diag)
        # "none" for the fields an older library does not know (and so never writes).
        self.inner_index = self.nspid_pos = self.text_pos = self.node = self.thread = -1


class ForkOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("flags", ctypes.c_uint64),
        ("clone_flags", ctypes.c_uint64),
        ("exit_signal", ctypes.c_int32),
        ("cgroup_fd", ctypes.c_int32),
        ("diag", ctypes.POINTER(Diag)),
        ("lock", ctypes.c_void_p),  # int (*)(void *): the binding leaves the hooks NULL
        ("unlock", ctypes.c_void_p),  # void (*)(void *)
        ("lock_arg", ctypes.c_void_p),
        ("fallback_retries", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
        ("ns_fd", ctypes.c_int32),  # since 1.1
        ("reserved2", ctypes.c_uint32),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(ForkOpts)
        self.ns_fd = -1


class ThreadOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("flags", ctypes.c_uint64),
        ("tls", ctypes.c_uint64),
        ("tid_futex", ctypes.POINTER(pid_t)),
        ("diag", ctypes.POINTER(Diag)),
        ("reserved", ctypes.c_uint64),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(ThreadOpts)


class ReadOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("flags", ctypes.c_uint64),
        ("source", ctypes.c_uint32),
        ("ns_fd", ctypes.c_int32),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(ReadOpts)


class ScanOpts(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("flags", ctypes.c_uint64),
        ("ns_fd", ctypes.c_int32),
        ("reserved", ctypes.c_uint32),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(ScanOpts)


class ScanEntry(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("pid", ctypes.c_int32),
        ("tid", ctypes.c_int32),
        ("ppid", ctypes.c_int32),
        ("pgid", ctypes.c_int32),
        ("sid", ctypes.c_int32),
        ("flags", ctypes.c_uint32),
        ("ns_id", ctypes.c_uint64),
        ("tuple", ctypes.c_void_p),  # const struct pidtuple *, owned by the scan
        ("pgid_tuple", ctypes.c_void_p),
        ("sid_tuple", ctypes.c_void_p),
        ("comm", ctypes.c_char_p),  # since 1.1; owned by the scan; NULL where not given
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(ScanEntry)


class LevelInfo(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("flags", ctypes.c_uint64),
        ("pid_max", ctypes.c_int32),
        ("abs_level", ctypes.c_int32),
        ("ns_id", ctypes.c_uint64),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(LevelInfo)


class Node(ctypes.Structure):
    _fields_ = [
        ("sz", ctypes.c_size_t),
        ("flags", ctypes.c_uint64),
        ("parent", ctypes.c_int32),
        ("kind", ctypes.c_uint32),
        ("tuple", ctypes.c_void_p),
        ("pgid", ctypes.c_void_p),
        ("sid", ctypes.c_void_p),
        ("path", ctypes.c_char_p),
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("envp", ctypes.POINTER(ctypes.c_char_p)),
        ("fn", ctypes.c_void_p),  # int (*)(void *): the binding leaves callbacks NULL
        ("arg", ctypes.c_void_p),
        # since 1.1: const struct pidtuple *const *, the TID tuples of a HOLD node's other
        # threads; an older library takes the node while they are NULL and 0
        ("threads", ctypes.POINTER(ctypes.c_void_p)),
        ("name", ctypes.c_char_p),  # since 1.1: a HOLD node's command name, NULL: the caller's
        ("nthreads", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.sz = ctypes.sizeof(Node)


# enum pidtuple_rule (stable ABI values)
RULES = (
    "NONE", "SYNTAX", "LEVEL_COUNT", "TOO_DEEP", "PID_RANGE", "NEWPID_ONE", "NO_INIT",
    "INIT_DEAD", "PRIVILEGE", "PID_TAKEN", "FLAGS", "NS_PRIVILEGE", "NEWPID_UNSHARED",
    "EXIT_SIGNAL", "CGROUP", "OPTIONS", "UNSUPPORTED", "UNVERIFIED", "KERNEL", "NS_DEPTH",
    "EXEC", "PID_MISMATCH", "FALLBACK", "TREE_SHAPE", "TREE_DUPLICATE", "TREE_GROUP",
    "TREE_NODE", "JOIN_NS",
)

NODE_HOLD = 0
NODE_EXEC = 1
NODE_CALLBACK = 2
NODE_NEWPID = 1 << 0
NODE_GROUP_OUTSIDE = 1 << 1
NODE_SESSION_OUTSIDE = 1 << 2

NOTICE_CGROUP_AFTER = 1 << 0
NOTICE_PIDFD_AFTER = 1 << 1

FORK_EXIT_SIGNAL = 1 << 0
FORK_INTO_CGROUP = 1 << 1
FORK_CHECK = 1 << 2
FORK_NO_FALLBACK = 1 << 3
FORK_LOCK = 1 << 4
FORK_CHECK_SCAN = 1 << 5
FORK_SHELL_JOB = 1 << 6
FORK_JOIN_NS = 1 << 7
FORK_SHARE_VM = 1 << 8

# pidtuple_thread_create(): declared only, no wrapper (README: "Threads").
THREAD_SETTLS = 1 << 0
THREAD_CHECK = 1 << 1
THREAD_STACK_MIN = 1024

# The kernel's values; PIDTUPLE_CLONE_NS_FLAGS accepts exactly these.
CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

KINDS = ("tid", "tgid", "pgid", "sid")  # PIDTUPLE_KIND_* values 0..3
SOURCES = ("auto", "status", "fdinfo", "nsfs")  # PIDTUPLE_SOURCE_* values 0..3
READ_NS_FD = 1 << 0
SCAN_THREADS = 1 << 0
SCAN_NS_FD = 1 << 1
SCAN_URING = 1 << 2
ENTRY_NS_INIT = 1 << 0
ENTRY_THREAD = 1 << 1
ENTRY_KTHREAD_KNOWN = 1 << 2
ENTRY_KTHREAD = 1 << 3

FEATURES = (  # bit i of pidtuple_features()
    "CLONE3", "SET_TID", "PIDFD", "INTO_CGROUP", "NS_PID_IOCTLS", "PIDFD_GET_INFO",
    "PER_NS_PID_MAX", "CAP_CHECKPOINT_RESTORE", "CAP_SYS_ADMIN", "NS_LAST_PID", "BPF_SCAN",
)

LEVEL_FLAGS = (  # bit i of pidtuple_level_info::flags
    "NEW", "CALLER", "HAS_INIT", "INIT_DEAD", "INIT_UNKNOWN", "PID_MAX_EXACT", "CAN_PIN",
    "CAP_CHECKPOINT_RESTORE", "CAP_SYS_ADMIN",
)

_P = ctypes.POINTER
_tuple_p = ctypes.c_void_p  # struct pidtuple * (opaque)
_nsctx_p = ctypes.c_void_p  # struct pidtuple_nsctx * (opaque)
_scan_p = ctypes.c_void_p  # struct pidtuple_scan * (opaque)
_tree_p = ctypes.c_void_p  # struct pidtuple_tree * (opaque)
_restore_p = ctypes.c_void_p  # struct pidtuple_restore * (opaque)

# name: (restype, argtypes)
PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    "pidtuple_version_major": (ctypes.c_int, []),
    "pidtuple_version_minor": (ctypes.c_int, []),
    "pidtuple_version_string": (ctypes.c_char_p, []),
    "pidtuple_strerror": (ctypes.c_char_p, [ctypes.c_int]),
    "pidtuple_rule_name": (ctypes.c_char_p, [ctypes.c_uint32]),
    "pidtuple_from_inner": (ctypes.c_int, [_P(pid_t), ctypes.c_size_t, _P(_tuple_p)]),
    "pidtuple_from_outer": (ctypes.c_int, [_P(pid_t), ctypes.c_size_t, _P(_tuple_p)]),
    "pidtuple_from_ids": (ctypes.c_int, [_P(pid_t), ctypes.c_size_t, _P(_tuple_p)]),
    "pidtuple_parse": (ctypes.c_int, [ctypes.c_char_p, _P(_tuple_p), _P(Diag)]),
    "pidtuple_format": (ctypes.c_int, [_tuple_p, ctypes.c_char_p, ctypes.c_size_t]),
    "pidtuple_levels": (ctypes.c_int, [_tuple_p]),
    "pidtuple_get": (pid_t, [_tuple_p, ctypes.c_uint]),
    "pidtuple_equal": (ctypes.c_int, [_tuple_p, _tuple_p]),
    "pidtuple_to_inner": (ctypes.c_int, [_tuple_p, _P(pid_t), ctypes.c_size_t]),
    "pidtuple_to_outer": (ctypes.c_int, [_tuple_p, _P(pid_t), ctypes.c_size_t]),
    "pidtuple_dup": (ctypes.c_int, [_tuple_p, _P(_tuple_p)]),
    "pidtuple_free": (None, [_tuple_p]),
    "pidtuple_of_pid": (ctypes.c_int, [pid_t, _P(_tuple_p)]),
    "pidtuple_of_pidfd": (ctypes.c_int, [ctypes.c_int, _P(_tuple_p)]),
    "pidtuple_read": (ctypes.c_int, [pid_t, ctypes.c_uint32, _P(ReadOpts), _P(_tuple_p)]),
    "pidtuple_read_pidfd": (ctypes.c_int, [ctypes.c_int, ctypes.c_uint32, _P(ReadOpts),
                                           _P(_tuple_p)]),
    "pidtuple_scan_new": (ctypes.c_int, [_P(ScanOpts), _P(_scan_p)]),
    "pidtuple_scan_next": (ctypes.c_int, [_scan_p, _P(ScanEntry)]),
    "pidtuple_scan_free": (None, [_scan_p]),
    "pidtuple_fork": (pid_t, [_tuple_p, _P(ForkOpts), _P(ctypes.c_int)]),
    "pidtuple_spawn": (ctypes.c_int, [_tuple_p, ctypes.c_char_p, _P(ctypes.c_char_p),
                                      _P(ctypes.c_char_p), _P(ForkOpts), _P(pid_t),
                                      _P(ctypes.c_int)]),
    "pidtuple_clone": (ctypes.c_int, [_tuple_p, ctypes.c_void_p, ctypes.c_void_p,
                                      _P(ForkOpts), _P(pid_t), _P(ctypes.c_int)]),
    # int (*fn)(void *) runs on a thread the C library (and Python) does not know: a C
    # function pointer only, never a ctypes callback (README: "Threads").
    "pidtuple_thread_create": (ctypes.c_int, [_tuple_p, ctypes.c_void_p, ctypes.c_void_p,
                                              ctypes.c_void_p, ctypes.c_size_t,
                                              _P(ThreadOpts), _P(pid_t)]),
    # A C thread function (hold_thread() passes its address to pidtuple_thread_create()).
    "pidtuple_thread_park": (ctypes.c_int, [ctypes.c_void_p]),
    "pidtuple_nsctx_new": (ctypes.c_int, [_P(ForkOpts), _P(_nsctx_p)]),
    "pidtuple_nsctx_levels": (ctypes.c_int, [_nsctx_p]),
    "pidtuple_nsctx_level": (ctypes.c_int, [_nsctx_p, ctypes.c_uint, _P(LevelInfo)]),
    "pidtuple_nsctx_free": (None, [_nsctx_p]),
    "pidtuple_check": (ctypes.c_int, [_tuple_p, _P(ForkOpts), _P(Diag)]),
    "pidtuple_check_in": (ctypes.c_int, [_nsctx_p, _tuple_p, _P(Diag)]),
    "pidtuple_features": (ctypes.c_uint64, []),
    "pidtuple_feature_error": (ctypes.c_int, [ctypes.c_uint64]),
    "pidtuple_feature_name": (ctypes.c_char_p, [ctypes.c_uint64]),
    "pidtuple_feature_reason": (ctypes.c_char_p, [ctypes.c_uint64]),
    "pidtuple_get_next_pid": (ctypes.c_int, []),
    "pidtuple_set_next_pid": (ctypes.c_int, [pid_t, _P(ForkOpts)]),
    "pidtuple_tree_new": (ctypes.c_int, [_P(_tree_p)]),
    "pidtuple_tree_add": (ctypes.c_int, [_tree_p, _P(Node)]),
    "pidtuple_tree_size": (ctypes.c_int, [_tree_p]),
    "pidtuple_tree_get": (ctypes.c_int, [_tree_p, ctypes.c_uint, _P(Node)]),
    "pidtuple_tree_free": (None, [_tree_p]),
    "pidtuple_tree_check": (ctypes.c_int, [_tree_p, _P(ForkOpts), _P(Diag)]),
    "pidtuple_tree_restore": (ctypes.c_int, [_tree_p, _P(ForkOpts), _P(_restore_p)]),
    "pidtuple_restore_pid": (pid_t, [_restore_p, ctypes.c_uint]),
    "pidtuple_restore_pidfd": (ctypes.c_int, [_restore_p, ctypes.c_uint]),
    "pidtuple_restore_release": (ctypes.c_int, [_restore_p]),
    "pidtuple_restore_hand_over": (ctypes.c_int, [_restore_p, ctypes.c_uint, ctypes.c_char_p,
                                                  _P(ctypes.c_char_p), _P(ctypes.c_char_p)]),
    "pidtuple_restore_kill": (ctypes.c_int, [_restore_p]),
    "pidtuple_restore_free": (None, [_restore_p]),
    "pidtuple_tree_capture": (ctypes.c_int, [pid_t, _P(_tree_p)]),
}


def library_path() -> str:
    """Path or name the library is loaded from."""
    path = os.environ.get("PIDTUPLE_LIBRARY")
    if path:
        return path
    return ctypes.util.find_library("pidtuple") or SONAME


# Functions newer than ABI 1.0: a library without them still loads; calling one of their
# wrappers raises NotImplementedError.
OPTIONAL = frozenset({
    "pidtuple_from_ids", "pidtuple_read", "pidtuple_read_pidfd", "pidtuple_scan_new", "pidtuple_scan_next",
    "pidtuple_scan_free", "pidtuple_tree_new", "pidtuple_tree_add", "pidtuple_tree_size",
    "pidtuple_tree_get", "pidtuple_tree_free", "pidtuple_tree_check", "pidtuple_tree_restore",
    "pidtuple_restore_pid", "pidtuple_restore_pidfd", "pidtuple_restore_release",
    "pidtuple_restore_hand_over", "pidtuple_restore_kill", "pidtuple_restore_free",
    "pidtuple_tree_capture", "pidtuple_thread_create", "pidtuple_thread_park",
})
missing: Set[str] = set()


def _declare(dll: Any) -> Any:
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(dll, name)
        except AttributeError:
            if name not in OPTIONAL:
                raise ImportError(f"pidtuple: {dll._name} lacks {name}") from None
            missing.add(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return dll


def need(name: str) -> None:
    """Raises NotImplementedError when the loaded library lacks function @name."""
    if name in missing:
        raise NotImplementedError(f"{name}() is not in {PATH}: the library is too old for it")


def _load() -> Tuple[str, Any, Any]:
    path = library_path()
    try:
        # use_errno is pointless: the library returns negative errnos.
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            f"pidtuple: cannot load {path}: {e} (set PIDTUPLE_LIBRARY to the library's path)"
        ) from e
    _declare(lib)
    major = lib.pidtuple_version_major()
    if major != ABI_MAJOR:
        raise ImportError(f"pidtuple: {path} has ABI {major}, this binding needs {ABI_MAJOR}")
    # A second handle on the same library whose calls keep the GIL: fork() needs the child
    # to return from the C call already holding it (see pidtuple.fork).
    lib_gil = _declare(ctypes.PyDLL(path))
    return path, lib, lib_gil


PATH, lib, lib_gil = _load()
