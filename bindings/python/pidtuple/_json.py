# SPDX-License-Identifier: LGPL-2.1-or-later
"""libpidtuple-json through ctypes: the JSON form of a tree description (docs/tree-json.md).

The library is optional: it is loaded on first use, so that ``import pidtuple`` works
without it, and a call that needs it raises :class:`JsonUnavailableError` saying what was
tried. It is found through $PIDTUPLE_JSON_LIBRARY (a path; then nothing else is tried),
else beside the loaded libpidtuple (an installed pair, or a build tree's json/), else the
dynamic loader's search (ctypes.util.find_library, then the SONAME libpidtuple-json.so.1).

Internal module.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any, List, Optional

from . import _lib

SONAME = "libpidtuple-json.so.1"

PRETTY = 1 << 0  # PIDTUPLE_JSON_PRETTY
FORMAT_VERSION = 2  # PIDTUPLE_JSON_FORMAT_VERSION: the newest read (2 adds threads)
MAX_TEXT = 8 * 1024 * 1024  # PIDTUPLE_JSON_MAX_TEXT

_P = ctypes.POINTER
# name: (restype, argtypes); the text pidtuple_tree_to_json() returns is freed with free(),
# so it comes back as a plain pointer.
PROTOTYPES = {
    "pidtuple_tree_to_json": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint32,
                                             _P(ctypes.c_void_p)]),
    "pidtuple_tree_from_json": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_void_p),
                                               _P(_lib.Diag)]),
}


class JsonUnavailableError(NotImplementedError):
    """libpidtuple-json (Debian: libpidtuple-json1) could not be loaded, so trees cannot be
    read or written as JSON; the rest of the binding works without it."""


def candidates() -> List[str]:
    """Where the library is looked for, in order."""
    path = os.environ.get("PIDTUPLE_JSON_LIBRARY")
    if path:
        return [path]
    out = []
    if "/" in _lib.PATH:
        here = os.path.dirname(os.path.realpath(_lib.PATH))
        out += [os.path.join(here, SONAME), os.path.join(here, "json", SONAME)]
    found = ctypes.util.find_library("pidtuple-json")
    if found:
        out.append(found)
    out.append(SONAME)
    return out


_lib_json: Optional[Any] = None
PATH: Optional[str] = None


def lib() -> Any:
    """The loaded library, loading it the first time; JsonUnavailableError when it cannot."""
    global _lib_json, PATH
    if _lib_json is not None:
        return _lib_json
    errors = []
    for path in candidates():
        if "/" in path and not os.path.exists(path):
            errors.append(f"{path}: no such file")
            continue
        try:
            dll = ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
            continue
        try:
            for name, (restype, argtypes) in PROTOTYPES.items():
                fn = getattr(dll, name)
                fn.restype = restype
                fn.argtypes = argtypes
        except AttributeError as e:
            errors.append(f"{path}: {e}")
            continue
        _lib_json, PATH = dll, path
        return dll
    raise JsonUnavailableError(
        "pidtuple: libpidtuple-json is not available, so trees cannot be read or written as "
        "JSON (install libpidtuple-json1, or set PIDTUPLE_JSON_LIBRARY to its path); tried: "
        + "; ".join(errors))


def available() -> bool:
    """True when libpidtuple-json can be loaded."""
    try:
        lib()
    except JsonUnavailableError:
        return False
    return True


_libc = ctypes.CDLL(None)
_libc.free.restype = None
_libc.free.argtypes = [ctypes.c_void_p]


def free(ptr: int) -> None:
    """free() of the text pidtuple_tree_to_json() returned."""
    _libc.free(ptr)
