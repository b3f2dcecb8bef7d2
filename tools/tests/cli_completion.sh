#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# cli_completion.sh COMPLETION: the bash completion of pidtuple, sourced into this shell and
# asked as bash asks it (COMP_WORDS, COMP_CWORD). Creates nothing; needs no privilege.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin

completion=${1:?usage: cli_completion.sh COMPLETION}
# shellcheck source=../pidtuple.bash
source "$completion" || exit 1
# As installed, the command is found by name.
mkdir "$t_tmp/bin"
ln -s "$PIDTUPLE" "$t_tmp/bin/pidtuple"
PATH=$t_tmp/bin:$PATH

# The lines of stdin, sorted, on one line.
words() {
	sort | tr '\n' ' ' | sed 's/ $//'
}

# comp WORD...: what completing the last WORD of `WORD...` offers, sorted, on one line.
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_pidtuple
	[ "${#COMPREPLY[@]}" -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | words
}

[[ $(complete -p pidtuple) == "complete -F _pidtuple pidtuple" ]] ||
	fail "complete -p pidtuple: $(complete -p pidtuple 2>&1)"

expect_eq "$(comp pidtuple res)" "restore" "pidtuple res"
expect_eq "$(comp pidtuple r)" "restore run" "pidtuple r"
expect_eq "$(comp pidtuple --ver)" "--version" "pidtuple --ver"
expect_eq "$(comp pidtuple help ch)" "check" "pidtuple help ch"
expect_eq "$(comp pidtuple tree --uni)" "--unicode" "pidtuple tree --uni"
expect_eq "$(comp pidtuple tree --th)" "--threads" "pidtuple tree --th"
expect_eq "$(comp pidtuple ps --no)" "--no-kthreads --noheadings" "pidtuple ps --no"
expect_eq "$(comp pidtuple check 4242/1 --new)" "--newpid --newuser" "options after TUPLE"
expect_eq "$(comp pidtuple check -- --new)" "" "nothing after --"
expect_eq "$(comp pidtuple ps -o PID,tu)" "PID,TUPLE" "pidtuple ps -o PID,tu"
expect_eq "$(comp pidtuple tree --output +NS)" "+NS_ID" "pidtuple tree --output +NS"
expect_eq "$(comp pidtuple features set_t)" "set_tid" "pidtuple features set_t"
expect_eq "$(comp pidtuple show $$)" "$$" "pidtuple show PID"
expect_match " $(comp pidtuple run --newpid 77/1 ech) " " echo " "run: COMMAND"
# After COMMAND, its own words: pidtuple's options are not offered.
[[ " $(comp pidtuple run 5 -- ls --new) " != *" --newpid "* ]] ||
	fail "run: pidtuple's options offered after COMMAND"
# --wait-free's SECONDS is not a positional: COMMAND still comes second.
expect_eq "$(comp pidtuple run --wait-free 5 "")" "" "run --wait-free SECONDS"
expect_match " $(comp pidtuple run --wait-free 5 77 ech) " " echo " "run --wait-free: COMMAND"
touch "$t_tmp/tree.json"
expect_eq "$(comp pidtuple restore --check "$t_tmp/tre")" "$t_tmp/tree.json" "restore FILE"

# Every option the help of a command lists is offered, and nothing it does not list.
for cmd in show ps tree check run features next-pid capture restore; do
	help=$("$PIDTUPLE" help "$cmd" 2>/dev/null) || continue # capture, restore: not built
	want=$(grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' <<<"$help" | grep -oE -- '-{1,2}[A-Za-z-]+' |
		words)
	expect_eq "$(comp pidtuple "$cmd" -)" "$want" "$cmd: the options of its help"
done

finish
