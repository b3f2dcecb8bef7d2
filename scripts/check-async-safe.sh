#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-async-safe.sh NM OBJECT...
#
# The processes a tree restore creates are raw clone3() children of a caller that may have
# threads: until they execve() or _exit() they may call only async-signal-safe functions
# (signal-safety(7)), and nothing that fault injection could make fail. lib/restore_child.c
# holds all the code they run. This check fails when an OBJECT (that file's) references a
# function outside the allow-list below, read with `NM -u`:
#  - the shim's pt_raw_* wrappers, written for such children (never injected, no libc state);
#  - lib/thread_arch.c's pt_thread_arch_* (assembly: a system call, no memory, no libc);
#  - async-signal-safe libc per signal-safety(7), less what is unreliable in a raw clone3()
#    child (abort, raise, fork, pthread_*: the C library's cached thread id is the caller's);
#  - Linux system call wrappers that keep no libc state (close_range, dup3, prctl, mmap, ...);
#  - what the compiler emits: errno, CMSG_NXTHDR, the stack protector, the GOT, fortified
#    (__*_chk) and large-file (*64) variants of allowed functions, and ASan/UBSan hooks
#    (PIDTUPLE_SANITIZE builds).
# malloc, free, stdio, snprintf, pthread_* and the library's own functions all fail.
# NM may be empty (then nm); an OBJECT may be a ';'-separated list (as CMake passes
# $<TARGET_OBJECTS:...>). Exit status: 0 clean, 1 a forbidden reference, 2 usage.
set -eu

if [ "$#" -lt 2 ]; then
	echo "usage: $0 NM OBJECT..." >&2
	exit 2
fi
nm=${1:-nm}
shift

# signal-safety(7), less abort, fork, pthread_kill, pthread_self, pthread_sigmask, raise.
posix_safe='_Exit _exit accept access aio_error aio_return aio_suspend alarm bind cfgetispeed
cfgetospeed cfsetispeed cfsetospeed chdir chmod chown clock_gettime close connect creat dup dup2
execl execle execv execve faccessat fchdir fchmod fchmodat fchown fchownat fcntl fdatasync
fexecve ffs fstat fstatat fsync ftruncate futimens getegid geteuid getgid getgroups getpeername
getpgrp getpid getppid getsockname getsockopt getuid htonl htons kill link linkat listen longjmp
lseek lstat memccpy memchr memcmp memcpy memmove memset mkdir mkdirat mkfifo mkfifoat mknod
mknodat ntohl ntohs open openat pause pipe poll pselect read readlink readlinkat recv recvfrom
recvmsg rename renameat rmdir select sem_post send sendmsg sendto setgid setpgid setsid
setsockopt setuid shutdown sigaction sigaddset sigdelset sigemptyset sigfillset sigismember
siglongjmp signal sigpause sigpending sigprocmask sigqueue sigset sigsuspend sleep sockatmark
socket socketpair stat stpcpy stpncpy strcat strchr strcmp strcpy strcspn strlen strncat strncmp
strncpy strnlen strpbrk strrchr strspn strstr strtok_r symlink symlinkat tcdrain tcflow tcflush
tcgetattr tcgetpgrp tcsendbreak tcsetattr tcsetpgrp time timer_getoverrun timer_gettime
timer_settime times umask uname unlink unlinkat utime utimensat utimes wait waitid waitpid write'
# Linux system calls whose glibc wrappers keep no state.
linux_safe='accept4 close_range dup3 epoll_wait getrlimit madvise mmap mprotect munmap pipe2
ppoll prctl prlimit'
# Emitted by the compiler or the C library's headers.
emitted='__errno_location __cmsg_nxthdr __stack_chk_fail __stack_chk_guard _GLOBAL_OFFSET_TABLE_
environ __environ __fxstat __fxstat64 __fxstatat __fxstatat64'

allowed() {
	case $1 in
	pt_raw_* | pt_thread_arch_*) return 0 ;;
	__asan_* | __ubsan_* | __sanitizer_* | __lsan_*) return 0 ;;
	esac
	sym=$1
	case $sym in
	__*_chk)
		sym=${sym#__}
		sym=${sym%_chk}
		;;
	esac
	for name in $posix_safe $linux_safe $emitted; do
		if [ "$sym" = "$name" ] || [ "$sym" = "${name}64" ]; then
			return 0
		fi
	done
	return 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/objects"
set -f
for arg in "$@"; do
	old_ifs=$IFS
	IFS=';'
	for obj in $arg; do
		[ -n "$obj" ] && printf '%s\n' "$obj" >>"$tmp/objects"
	done
	IFS=$old_ifs
done
set +f
if [ ! -s "$tmp/objects" ]; then
	echo "FAIL: no object file to check" >&2
	exit 2
fi

fail=0
while IFS= read -r obj; do
	if [ ! -f "$obj" ]; then
		echo "FAIL: $obj does not exist" >&2
		exit 2
	fi
	"$nm" -u "$obj" >"$tmp/undefined"
	: >"$tmp/bad"
	awk '{ sub(/@.*/, "", $NF); print $NF }' "$tmp/undefined" | LC_ALL=C sort -u >"$tmp/names"
	while IFS= read -r sym; do
		allowed "$sym" || printf '  %s\n' "$sym" >>"$tmp/bad"
	done <"$tmp/names"
	if [ -s "$tmp/bad" ]; then
		echo "FAIL: $obj references what is not async-signal-safe:"
		cat "$tmp/bad"
		fail=1
	else
		echo "OK: $obj references only async-signal-safe functions" \
			"($(wc -l <"$tmp/undefined") undefined symbols)"
	fi
done <"$tmp/objects"
if [ "$fail" -ne 0 ]; then
	cat <<'MSG'
The processes of a restored tree run this code between clone3() and execve()/_exit(): use the
shim's pt_raw_* wrappers or async-signal-safe libc (signal-safety(7)) there, never anything that
allocates, locks or can be injected into (scripts/check-async-safe.sh has the list).
MSG
	exit 1
fi
