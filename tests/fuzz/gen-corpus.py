#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpora under tests/fuzz/corpus/<target>/. Run by hand when a target's
input format changes; the fuzz runs never write here (scripts/run-fuzz.sh works on a copy).
Seeds are named after their content's purpose; files already there are kept."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def parse_seeds():
    s = {
        "one": "1", "three": "4242/17/1", "three-nl": "4242/17/1\n",
        "nspid-tabs": "NSpid:\t4242\t17\t1", "nspid-tabs-nl": "NSpid:\t4242\t17\t1\n",
        "nspid-space": "NSpid: 1", "nspid-trailing-tab": "NSpid:\t7\t1\t\n",
        "spaces": "1 2 3", "tab": "1\t2", "blank-runs": "5 \t 4\t\t3",
        "int-max": "2147483647", "int-max-plus-1": "2147483648", "eleven-digits": "99999999999",
        "zero": "0", "leading-zero": "01", "minus": "-1", "plus": "+1",
        "empty-field": "1//2", "trailing-slash": "1/", "leading-slash": "/1", "empty": "",
        "newline": "\n", "label-only": "NSpid:", "label-tab": "NSpid:\t", "label-no-blank":
        "NSpid:1", "mixed-slash-space": "1/2 3", "mixed-space-slash": "1 2/3",
        "trailing-space": "1 ", "trailing-tab-nl": "1\t\n", "two-newlines": "1\n\n",
        "junk": "1x", "crlf": "1\r\n", "label-slash": "NSpid:\t1/2", "leading-space": " 1",
        "pid-max": "4194303/4194304", "eight": "1/2/3/4/5/6/7/8", "embedded-nul": "1/2\x003",
        "lowercase-label": "nspid:\t1", "hex": "0x10", "utf8": "\u0661/2",
    }
    s["levels-32"] = "/".join(str(1000 + i) for i in range(32))
    s["levels-33"] = "/".join(str(1000 + i) for i in range(33))
    s["levels-32-nspid"] = "NSpid:\t" + "\t".join(str(i + 1) for i in range(32)) + "\n"
    s["levels-33-nspid"] = "NSpid:\t" + "\t".join(str(i + 1) for i in range(33)) + "\n"
    s["levels-33-junk"] = "/".join("1" for _ in range(33)) + "x"
    for name, text in s.items():
        write("fuzz_parse", name, text)


def real_status():
    with open("/proc/self/status", "rb") as f:
        return f.read()


def real_pidfd_fdinfo():
    fd = os.pidfd_open(os.getpid())
    try:
        with open("/proc/self/fdinfo/%d" % fd, "rb") as f:
            return f.read()
    finally:
        os.close(fd)


def nspid_seeds():
    status = real_status()
    write("fuzz_nspid", "real-status", status)
    write("fuzz_nspid", "real-pidfd-fdinfo", real_pidfd_fdinfo())
    with open("/proc/self/fdinfo/0", "rb") as f:
        write("fuzz_nspid", "real-fdinfo-not-pidfd", f.read())
    fdinfo = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1234\nPid:\t%s\nNSpid:\t%s\n"
    s = {
        "fdinfo-nested": fdinfo % ("4242", "4242\t17\t1"),
        "fdinfo-reaped": fdinfo % ("-1", "-1"),
        "fdinfo-outside": fdinfo % ("0", "0"),
        "fdinfo-no-nspid": "pos:\t0\nflags:\t02000002\nPid:\t12\n",
        "status-nested": "Name:\tsh\nTgid:\t4242\nPid:\t4242\nPPid:\t4000\n"
                         "NStgid:\t4242\t17\t1\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\t17\t1\n"
                         "NSsid:\t4000\t3\t0\n",
        "tabs-and-spaces": "Pid: \t 7\nNSpid: \t7 \t 3\t\n",
        "huge": "Pid:\t2147483647\nNSpid:\t2147483647\t2147483648\n",
        "huge-99": "NSpid:\t99999999999999999999\n",
        "negative": "Pid:\t-5\nNSpid:\t-5\t-1\n",
        "minus-only": "NSpid:\t-\n",
        "missing-all": "Name:\tx\nState:\tR\n",
        "empty": "",
        "nspid-empty": "NSpid:\n",
        "nspid-empty-eof": "NSpid:",
        "no-newline": "Pid:\t1\nNSpid:\t1\t2",
        "nspid-first": "NSpid:\t9\t8\nPid:\t9\n",
        "nspid-twice": "NSpid:\t1\t2\nNSpid:\t3\n",
        "nspid-junk": "NSpid:\t1x\n",
        "nspid-slash": "NSpid:\t1/2\n",
        "nspid-leading-zero": "NSpid:\t007\t01\n",
        "nstgid-bad": "NSpid:\t1\nNStgid:\tzz\n",
        "nssid-bad": "NSsid:\t1\t-\nNSpid:\t1\n",
        "crlf": "Pid:\t1\r\nNSpid:\t1\r\n",
        "nul-inside": "Pid:\t1\nNS\x00pid:\t1\n",
        "pid-bad": "Pid:\tx\nNSpid:\t3\n",
        "ppid-tgid": "PPid:\t1\nTgid:\t2\nPid:\t2\nNSpid:\t2\n",
        "indented": " NSpid:\t1\n",
    }
    s["entries-32"] = "NSpid:\t" + "\t".join(str(i + 1) for i in range(32)) + "\n"
    s["entries-33"] = "NSpid:\t" + "\t".join(str(i + 1) for i in range(33)) + "\n"
    s["entries-34"] = "NSpid:\t" + "\t".join(str(i + 1) for i in range(34)) + "\n"
    s["entries-100"] = "NSpid:" + " 1" * 100 + "\n"
    for name, text in s.items():
        write("fuzz_nspid", name, text)
    # Around the 4 KiB the library reads: the NSpid line cut, just fitting, just beyond.
    pad = b"Pad:\t" + b"x" * 90 + b"\n"
    big = pad * 43  # 4128 bytes
    write("fuzz_nspid", "big-nspid-beyond-4k", big + b"NSpid:\t5\t4\n")
    line = b"NSpid:\t123\t45\n"
    fit = pad * 42 + b"Pad:\t" + b"y" * (4095 - len(pad) * 42 - 6 - len(line)) + b"\n" + line
    write("fuzz_nspid", "big-nspid-ends-at-4095", fit)
    write("fuzz_nspid", "big-nspid-cut-at-4095", fit[:-1] + b"7\n")
    write("fuzz_nspid", "big-status-padded", status + pad * 45)


# fuzz_opts input: the header of fuzz_opts.c, then the options bytes after sz.
M_ZERO_TAIL, M_KNOWN_FLAGS, M_NS_FLAGS, M_LOCK, M_UNLOCK, M_OPTS_DIAG, M_NULL_OPTS, \
    M_NULL_TUPLE = (1 << i for i in range(8))
NEWPID, NEWUSER, NEWNS = 0x20000000, 0x10000000, 0x00020000


def opts_input(sz=72, mode=0, pids=(1,), info_sz=40, diag_sz=304, diag2_sz=304, flags=0,
               clone_flags=0, exit_signal=0, cgroup_fd=0, retries=0, reserved=0, tail=b""):
    p = list(pids) + [0] * (4 - len(pids))
    head = struct.pack("<BBBBHH4i", sz, mode, len(pids) - 1, info_sz, diag_sz, diag2_sz, *p)
    body = struct.pack("<QQiiQQQQII", flags, clone_flags, exit_signal, cgroup_fd, 0, 0, 0, 0,
                       retries, reserved)
    return head + body + tail


def opts_seeds():
    s = {"default": opts_input(), "null-opts": opts_input(mode=M_NULL_OPTS),
         "null-tuple": opts_input(mode=M_NULL_TUPLE)}
    for sz in (0, 4, 7, 8, 12, 16, 24, 28, 32, 36, 40, 48, 56, 64, 68, 72, 80, 128, 255):
        s["size-%d" % sz] = opts_input(sz=sz, mode=M_ZERO_TAIL)
    s["tail-set"] = opts_input(sz=80, tail=b"\x01" + b"\0" * 7)
    s["tail-zero"] = opts_input(sz=200, mode=M_ZERO_TAIL)
    s["reserved"] = opts_input(reserved=1)
    s["lock-only"] = opts_input(mode=M_LOCK)
    s["unlock-only"] = opts_input(mode=M_UNLOCK)
    s["lock-both"] = opts_input(mode=M_LOCK | M_UNLOCK)
    s["lock-both-short"] = opts_input(sz=48, mode=M_LOCK | M_UNLOCK)
    s["opts-diag"] = opts_input(sz=8, mode=M_OPTS_DIAG, diag2_sz=304)
    s["opts-diag-small"] = opts_input(sz=200, mode=M_OPTS_DIAG, diag2_sz=20, tail=b"\x02")
    for bit in range(6):
        s["flag-%d" % bit] = opts_input(flags=1 << bit)
    s["flags-random"] = opts_input(flags=0xdeadbeefcafe, mode=M_KNOWN_FLAGS)
    s["newpid-1"] = opts_input(clone_flags=NEWPID, pids=(1,))
    s["newpid-2"] = opts_input(clone_flags=NEWPID, pids=(2,))
    s["newpid-newuser"] = opts_input(clone_flags=NEWPID | NEWUSER, pids=(1, 300))
    s["newns"] = opts_input(clone_flags=NEWNS)
    s["clone-vm"] = opts_input(clone_flags=0x100)
    s["clone-random-masked"] = opts_input(clone_flags=0xffffffffffffffff, mode=M_NS_FLAGS)
    for sig in (0, 17, 64, 65, -1):
        s["exit-signal-%d" % sig] = opts_input(flags=1, exit_signal=sig)
    s["exit-signal-uncovered"] = opts_input(sz=24, flags=1)
    for fd in (-1, 0, 3, 1000):
        s["cgroup-fd-%d" % fd] = opts_input(flags=2, cgroup_fd=fd)
    s["cgroup-uncovered"] = opts_input(sz=28, flags=2, cgroup_fd=5)
    s["levels-2"] = opts_input(pids=(5000, 1))
    s["levels-4"] = opts_input(pids=(1, 1, 1, 1))
    s["pid-max"] = opts_input(pids=(4194304,))
    s["pid-int-max"] = opts_input(pids=(2147483647,))
    s["pid-negative"] = opts_input(pids=(-3,))
    s["pid-self-ish"] = opts_input(pids=(1, 2))
    s["retries"] = opts_input(retries=5, flags=8)
    for sz in (0, 4, 8, 12, 16, 47, 48, 303, 304, 305, 308, 311, 312, 376):
        s["diag-%d" % sz] = opts_input(diag_sz=sz, flags=1 << 40)
    for sz in (0, 8, 12, 16, 20, 24, 32, 40, 48, 104):
        s["info-%d" % sz] = opts_input(info_sz=sz)
    for name, data in s.items():
        write("fuzz_opts", name, data)


# fuzz_read_opts input: the header of fuzz_read_opts.c.
R_NULL_READ, R_NULL_SCAN, R_READ_KNOWN, R_SCAN_KNOWN, R_READ_NSFD, R_SCAN_NSFD, R_POKE_TAIL, \
    R_SKIP_SCAN = (1 << i for i in range(8))


def read_input(read_sz=24, kind=0, scan_sz=24, entry_sz=64, mode=0, next_calls=1,
               rflags=0, source=0, rns_fd=0, sflags=0, sns_fd=0, reserved=0):
    head = struct.pack("<BBBBBBxx", read_sz, kind, scan_sz, entry_sz, mode, next_calls)
    rbody = struct.pack("<QIi", rflags, source, rns_fd).ljust(24, b"\0")
    sbody = struct.pack("<QiI", sflags, sns_fd, reserved).ljust(24, b"\0")
    return head + rbody + sbody


def read_opts_seeds():
    s = {"default": read_input(), "null-both": read_input(mode=R_NULL_READ | R_NULL_SCAN)}
    for kind in range(6):
        for source in range(5):
            s["kind-%d-source-%d" % (kind, source)] = read_input(kind=kind, source=source,
                                                                 mode=R_SKIP_SCAN)
    for kind in range(4):
        s["kind-%d-nsfd" % kind] = read_input(kind=kind, rflags=1, mode=R_READ_NSFD |
                                              R_SKIP_SCAN)
    s["read-nsfd-bad"] = read_input(rflags=1, rns_fd=0, mode=R_SKIP_SCAN)
    s["read-nsfd-negative"] = read_input(rflags=1, rns_fd=-1, mode=R_SKIP_SCAN)
    s["read-nsfd-uncovered"] = read_input(read_sz=16, rflags=1, mode=R_SKIP_SCAN)
    s["read-flags-unknown"] = read_input(rflags=6, mode=R_SKIP_SCAN)
    for sz in (0, 4, 8, 12, 16, 20, 24, 32, 64, 255):
        s["read-size-%d" % sz] = read_input(read_sz=sz, mode=R_SKIP_SCAN)
        s["read-size-%d-tail" % sz] = read_input(read_sz=sz, mode=R_SKIP_SCAN | R_POKE_TAIL)
    for sz in (0, 4, 8, 16, 20, 24, 32, 255):
        s["scan-size-%d" % sz] = read_input(scan_sz=sz, mode=R_NULL_READ)
        s["scan-size-%d-tail" % sz] = read_input(scan_sz=sz, mode=R_NULL_READ | R_POKE_TAIL)
    s["scan-threads"] = read_input(sflags=1, next_calls=3, mode=R_NULL_READ)
    s["scan-nsfd"] = read_input(sflags=2, mode=R_NULL_READ | R_SCAN_NSFD)
    s["scan-nsfd-bad"] = read_input(sflags=2, sns_fd=1, mode=R_NULL_READ)
    s["scan-uring"] = read_input(sflags=4, mode=R_NULL_READ)
    s["scan-reserved"] = read_input(reserved=1, mode=R_NULL_READ)
    s["scan-flags-unknown"] = read_input(sflags=1 << 9, mode=R_NULL_READ)
    for sz in (0, 1, 7, 8, 12, 16, 24, 32, 40, 48, 56, 64, 65, 128):
        s["entry-%d" % sz] = read_input(entry_sz=sz, next_calls=3, mode=R_NULL_READ)
    for name, data in s.items():
        write("fuzz_read_opts", name, data)


def criu_img_seeds():
    """fuzz_criu_img: the images CRIU made (tests/data/criu) and a few made here."""
    data = os.path.join(HERE, "..", "data", "criu")
    for d in ("sessions", "threads", "subtree"):
        for f in sorted(os.listdir(os.path.join(data, d))):
            if f in ("pstree.img", "inventory.img", "core-1.img", "core-42.img",
                     "core-5055.img") or (d, f) == ("subtree", "core-5000.img"):
                with open(os.path.join(data, d, f), "rb") as src:
                    write("fuzz_criu_img", "%s-%s" % (d, f[:-4]), src.read())
    head = struct.pack("<II", 0x54564319, 0x50273030)

    def entry(body):
        return struct.pack("<I", len(body)) + body

    # pid 5, ppid 0, pgid 5, sid 5; threads packed [5, 6]; field 99, as a later CRIU may add
    write("fuzz_criu_img", "pstree-packed-threads",
          head + entry(bytes([8, 5, 16, 0, 24, 5, 32, 5, 42, 2, 5, 6, 0x98, 6, 42])))
    # a child of 5, and a thread that has another process's PID
    write("fuzz_criu_img", "pstree-child", head + entry(bytes([8, 5, 16, 0, 24, 5, 32, 5])) +
          entry(bytes([8, 6, 16, 5, 24, 6, 32, 5])))
    write("fuzz_criu_img", "pstree-tid-twice", head +
          entry(bytes([8, 5, 16, 0, 24, 5, 32, 5, 40, 5, 40, 6])) +
          entry(bytes([8, 6, 16, 5, 24, 5, 32, 5])))
    write("fuzz_criu_img", "inventory-v1", struct.pack("<I", 0x58313116) + entry(bytes([8, 1])))


if __name__ == "__main__":
    parse_seeds()
    nspid_seeds()
    opts_seeds()
    read_opts_seeds()
    criu_img_seeds()
    sys.exit(0)
