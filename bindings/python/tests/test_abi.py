# SPDX-License-Identifier: LGPL-2.1-or-later
"""The ctypes mirrors against include/pidtuple.h: functions, constants, struct layouts.

The header is found in $PIDTUPLE_INCLUDE_DIR, else in the source tree; without it these tests
are skipped. The layout test also needs a C compiler and is skipped without one.
"""

import ctypes
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import pidtuple
from pidtuple import _json, _lib


def _header():
    d = os.environ.get("PIDTUPLE_INCLUDE_DIR") or Path(__file__).resolve().parents[3] / "include"
    h = Path(d) / "pidtuple.h"
    if not h.is_file():
        pytest.skip(f"pidtuple.h not found in {d}")
    return h


@pytest.fixture(scope="module")
def header():
    return _header().read_text()


def _defines(text, prefix):
    """{NAME: value} of `#define PREFIXNAME (1ull << N)` / plain numbers."""
    out = {}
    for name, val in re.findall(rf"#define {prefix}(\w*)\s+\(?([0-9xa-fA-Fu<l ]+?)\)?\s*$",
                                text, re.M):
        val = val.replace("ull", "").replace("u", "")
        out[name] = eval(val, {})  # digits, hex, << only (the regex allows nothing else)
    return out


def test_every_function_is_declared(header):
    funcs = set(re.findall(r"PIDTUPLE_API\s[^;{]*?\b(pidtuple_\w+)\s*\(", header))
    assert funcs, "no PIDTUPLE_API functions found in the header"
    assert funcs == set(_lib.PROTOTYPES), "ctypes prototypes out of sync with pidtuple.h"


def test_rules_match(header):
    body = re.search(r"enum pidtuple_rule \{(.*?)\};", header, re.S).group(1)
    rules = {n: int(v) for n, v in re.findall(r"(?<!_)PIDTUPLE_RULE_(\w+)\s*=\s*(\d+)", body)}
    assert rules == {n: i for i, n in enumerate(_lib.RULES)}
    assert int(re.search(r"_PIDTUPLE_RULE_MAX\s*=\s*(\d+)", body).group(1)) == len(_lib.RULES)
    for rule in pidtuple.Rule:
        assert pidtuple._rule_name(rule) != "unknown"


def test_enums_match_the_lists():
    assert {r.name: r.value for r in pidtuple.Rule} == {n: i for i, n in enumerate(_lib.RULES)}
    assert {f.name: f.value for f in pidtuple.Feature} == {
        n: 1 << i for i, n in enumerate(_lib.FEATURES)}
    assert {f.name: f.value for f in pidtuple.LevelFlag} == {
        n: 1 << i for i, n in enumerate(_lib.LEVEL_FLAGS)}
    assert {k.name: k.value for k in pidtuple.NodeKind} == {
        "HOLD": _lib.NODE_HOLD, "EXEC": _lib.NODE_EXEC, "CALLBACK": _lib.NODE_CALLBACK}


def test_node_constants_match(header):
    assert _defines(header, "PIDTUPLE_NODE_") == {
        "HOLD": _lib.NODE_HOLD, "EXEC": _lib.NODE_EXEC, "CALLBACK": _lib.NODE_CALLBACK,
        "NEWPID": _lib.NODE_NEWPID, "GROUP_OUTSIDE": _lib.NODE_GROUP_OUTSIDE,
        "SESSION_OUTSIDE": _lib.NODE_SESSION_OUTSIDE}


def test_json_functions_and_constants_match():
    h = _header().with_name("pidtuple-json.h")
    if not h.is_file():
        pytest.skip(f"pidtuple-json.h not found beside {_header()}")
    text = h.read_text()
    funcs = set(re.findall(r"PIDTUPLE_JSON_API\s[^;{]*?\b(pidtuple_\w+)\s*\(", text))
    assert funcs and funcs == set(_json.PROTOTYPES)
    defs = _defines(text, "PIDTUPLE_JSON_")
    assert (defs["PRETTY"], defs["FORMAT_VERSION"]) == (_json.PRETTY, _json.FORMAT_VERSION)
    assert re.search(r"#define PIDTUPLE_JSON_MAX_TEXT \(8u \* 1024 \* 1024\)", text)
    assert _json.MAX_TEXT == 8 * 1024 * 1024


def test_bit_constants_match(header):
    feats = {n: v for n, v in _defines(header, "PIDTUPLE_FEATURE_").items() if n != "ALL"}
    assert feats == {n: 1 << i for i, n in enumerate(_lib.FEATURES)}
    assert _defines(header, "PIDTUPLE_LEVEL_") == {
        n: 1 << i for i, n in enumerate(_lib.LEVEL_FLAGS)}
    forks = _defines(header, "PIDTUPLE_FORK_")
    assert forks == {n: getattr(_lib, "FORK_" + n) for n in forks}
    assert _defines(header, "PIDTUPLE_THREAD_") == {
        "SETTLS": _lib.THREAD_SETTLS, "CHECK": _lib.THREAD_CHECK,
        "STACK_MIN": _lib.THREAD_STACK_MIN}
    assert _defines(header, "PIDTUPLE_NOTICE_") == {
        "CGROUP_AFTER": _lib.NOTICE_CGROUP_AFTER, "PIDFD_AFTER": _lib.NOTICE_PIDFD_AFTER}
    assert _defines(header, "PIDTUPLE_MAX_LEVELS")[""] == _lib.MAX_LEVELS
    assert _defines(header, "PIDTUPLE_DIAG_MESSAGE_SIZE")[""] == _lib.DIAG_MESSAGE_SIZE
    assert _defines(header, "PIDTUPLE_KIND_") == {n.upper(): i for i, n in enumerate(_lib.KINDS)}
    assert _defines(header, "PIDTUPLE_SOURCE_") == {
        n.upper(): i for i, n in enumerate(_lib.SOURCES)}
    assert _defines(header, "PIDTUPLE_READ_") == {"NS_FD": _lib.READ_NS_FD}
    assert _defines(header, "PIDTUPLE_SCAN_") == {
        "THREADS": _lib.SCAN_THREADS, "NS_FD": _lib.SCAN_NS_FD, "URING": _lib.SCAN_URING}
    assert _defines(header, "PIDTUPLE_ENTRY_") == {
        "NS_INIT": _lib.ENTRY_NS_INIT, "THREAD": _lib.ENTRY_THREAD,
        "KTHREAD_KNOWN": _lib.ENTRY_KTHREAD_KNOWN, "KTHREAD": _lib.ENTRY_KTHREAD}
    ns = re.search(r"#define PIDTUPLE_CLONE_NS_FLAGS\s*\\?\s*\((.*?)\)\n", header, re.S)
    mask = 0
    for v in re.findall(r"0x[0-9a-fA-F]+", ns.group(1)):
        mask |= int(v, 16)
    ours = 0
    for n in ("NEWNS", "NEWCGROUP", "NEWUTS", "NEWIPC", "NEWUSER", "NEWPID", "NEWNET",
              "NEWTIME"):
        ours |= getattr(pidtuple, "CLONE_" + n)
    assert mask == ours


STRUCTS = {
    "pidtuple_diag": _lib.Diag,
    "pidtuple_fork_opts": _lib.ForkOpts,
    "pidtuple_level_info": _lib.LevelInfo,
    "pidtuple_read_opts": _lib.ReadOpts,
    "pidtuple_scan_opts": _lib.ScanOpts,
    "pidtuple_node": _lib.Node,
    "pidtuple_scan_entry": _lib.ScanEntry,
    "pidtuple_thread_opts": _lib.ThreadOpts,
}


def test_struct_layouts_match_the_compiler(tmp_path):
    h = _header()
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which(cc.split()[0]):
        pytest.skip("no C compiler to compare struct layouts with")
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "pidtuple.h"',
             "int main(void)", "{"]
    expect = []
    for cname, cls in STRUCTS.items():
        lines.append(f'\tprintf("{cname} * %zu %zu\\n", sizeof(struct {cname}), '
                     f"_Alignof(struct {cname}));")
        expect.append(f"{cname} * {ctypes.sizeof(cls)} {ctypes.alignment(cls)}")
        for fname, _ in cls._fields_:
            lines.append(f'\tprintf("{cname} {fname} %zu %zu\\n", '
                         f"offsetof(struct {cname}, {fname}), "
                         f"sizeof(((struct {cname} *)0)->{fname}));")
            f = getattr(cls, fname)
            expect.append(f"{cname} {fname} {f.offset} {f.size}")
    lines += ["\treturn 0;", "}"]
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text("\n".join(lines) + "\n")
    subprocess.run(cc.split() + ["-std=gnu11", f"-I{h.parent}", str(src), "-o", str(exe)],
                   check=True)
    got = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    assert got.splitlines() == expect


def test_every_struct_is_mirrored(header):
    structs = set(re.findall(r"^struct (pidtuple_\w+) \{", header, re.M))
    assert structs == set(STRUCTS), "ctypes structs out of sync with pidtuple.h"
    for name, cls in STRUCTS.items():
        body = re.search(rf"^struct {name} \{{(.*?)^\}};", header, re.M | re.S).group(1)
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        fields = re.findall(r"([A-Za-z_]\w*)(?:\[\w+\])?;", body)
        fields += re.findall(r"\(\*(\w+)\)\(", body)  # function pointers
        assert sorted(fields) == sorted(f for f, _ in cls._fields_), name


def test_sz_is_set():
    for cls in STRUCTS.values():
        assert cls().sz == ctypes.sizeof(cls)
