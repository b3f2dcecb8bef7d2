#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Help, version and usage errors: nothing here creates a process, so it needs no privilege.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin

P=$PIDTUPLE

for args in "--help" "-h" "help" "help help"; do
	# shellcheck disable=SC2086 # split on purpose
	expect_status 0 "pidtuple $args" -- "$P" $args &&
		expect_match "$out" "Usage: pidtuple [--help | --version] COMMAND" "pidtuple $args"
done
for cmd in show check run ps tree; do
	for form in "help $cmd" "$cmd --help" "$cmd -h"; do
		# shellcheck disable=SC2086
		expect_status 0 "pidtuple $form" -- "$P" $form &&
			expect_match "$out" "Usage: pidtuple $cmd" "pidtuple $form"
	done
done
# The main help lists the new commands.
expect_status 0 "pidtuple --help lists ps and tree" -- "$P" --help &&
	expect_match "$out" "  ps " "--help: ps" && expect_match "$out" "  tree " "--help: tree"
for opt in --threads --pgid --sid; do
	expect_status 0 "help show: $opt" -- "$P" help show && expect_match "$out" "$opt" "help show"
done
expect_status 0 "help ps" -- "$P" help ps &&
	expect_match "$out" "Usage: pidtuple ps [--threads] [--no-kthreads] [-o COLUMNS] [-J | -r] [-n]" \
		"help ps" &&
	expect_match "$out" "  NS_ID   inode number of its own PID namespace" "help ps: the columns"
expect_status 0 "help tree" -- "$P" help tree &&
	expect_match "$out" "Usage: pidtuple tree [--ascii | --unicode] [--threads] [--no-kthreads]" \
		"help tree" &&
	expect_match "$out" "  TUPLE   PID tuple" "help tree: the columns"
expect_status 0 "tree --list-columns" -- "$P" tree --list-columns &&
	expect_eq "$(wc -l <<<"$out")" 9 "tree --list-columns"
# Options after TUPLE are options too, --help included.
expect_status 0 "run TUPLE --help" -- "$P" run 5 --help &&
	expect_match "$out" "Usage: pidtuple run" "run TUPLE --help"

version_re='^pidtuple [0-9]+\.[0-9]+\.[0-9]+ \(libpidtuple [0-9]+\.[0-9]+\.[0-9]+\)$'
if expect_status 0 "--version" -- "$P" --version && ! [[ $out =~ $version_re ]]; then
	fail "--version printed '$out'"
fi
expect_status 0 "-V" -- "$P" -V

# Usage errors: exit 2, a message on stderr, nothing on stdout.
usage_error() {
	local what=$1 pattern=$2
	shift 2
	expect_status 2 "$what" -- "$P" "$@" || return
	expect_match "$err" "$pattern" "$what: stderr"
	expect_eq "$out" "" "$what: stdout"
}
usage_error "no command" "no command given"
usage_error "unknown command" "unknown command 'frobnicate'" frobnicate
usage_error "unknown global option" "unknown option '--bogus'" --bogus
usage_error "help of an unknown command" "unknown command 'nope'" help nope
usage_error "help with two commands" "too many arguments" help run show
usage_error "show without PID" "no PID given" show
usage_error "show of a word" "'abc' is not a PID" show abc
usage_error "show of 0" "'0' is not a PID" show 0
usage_error "show of a signed PID" "'+5' is not a PID" show +5
usage_error "show with junk" "'12x' is not a PID" show 12x
usage_error "show, unknown short option" "unknown option '-x'" show -x
usage_error "show, unknown long option" "unknown option '--bogus'" show --bogus 1
usage_error "show --threads without PID" "no PID given" show --threads
usage_error "show --pgid of a word" "'x' is not a PID" show --pgid x
usage_error "show, option with an argument" "option '--sid' takes no argument" show --sid=1 1
usage_error "ps, unknown option" "unknown option '--bogus'" ps --bogus
usage_error "ps, unknown short option" "unknown option '-x'" ps -x
usage_error "ps with an argument" "unexpected argument '1'" ps 1
usage_error "ps --json=yes" "option '--json' takes no argument" ps --json=yes
usage_error "ps -o without LIST" "option '-o' needs an argument" ps -o
usage_error "ps, unknown column" "unknown column 'x'" ps -o PID,x
usage_error "tree --unicode=yes" "option '--unicode' takes no argument" tree --unicode=yes
# -J and -r exclude each other; with --json, the usage error is JSON too.
expect_status 2 "ps -J -r" -- "$P" ps -J -r &&
	expect_match "$err" "--json and --raw exclude each other" "ps -J -r" &&
	expect_json_error "ps -J -r" usage=true
expect_status 2 "tree --raw --json" -- "$P" tree --raw --json &&
	expect_match "$err" "--json and --raw exclude each other" "tree --raw --json"
usage_error "tree, unknown option" "unknown option '--bogus'" tree --bogus
usage_error "tree, unknown short option" "unknown option '-x'" tree -x
usage_error "tree of a word" "'abc' is not a PID" tree abc
usage_error "tree of 0" "'0' is not a PID" tree 0
usage_error "tree of a signed PID" "'-5' is not a PID" tree -- -5
usage_error "tree of two PIDs" "too many arguments" tree 1 2
usage_error "check without TUPLE" "no TUPLE given" check
usage_error "check, two tuples" "too many arguments" check 5 6
usage_error "check, bad syntax" "rule syntax" check 5//1
usage_error "check, zero PID" "is not a PID tuple" check 0
usage_error "check, unknown option" "unknown option '--newnet'" check --newnet 5
usage_error "run without TUPLE" "no TUPLE given" run
usage_error "run without COMMAND" "no COMMAND given" run 5
usage_error "run without COMMAND after --" "no COMMAND given" run 5 --
usage_error "run, --cgroup without DIR" "option '--cgroup' needs an argument" run --cgroup
usage_error "run, bad TUPLE" "rule syntax" run 5/x -- true
usage_error "run, unknown option after TUPLE" "unknown option '--bogus'" run 5 --bogus -- true

# Did you mean: a mistyped command or long option gets the nearest names.
usage_error "mistyped command" "unknown command 'restor'; did you mean 'restore'?" restor
usage_error "swapped letters" "unknown command 'sohw'; did you mean 'show'?" sohw
usage_error "help of a mistyped command" "unknown command 'chek'; did you mean 'check'?" \
	help chek
usage_error "nothing near" "unknown command 'x'"$'\n' x
usage_error "mistyped option" "unknown option '--newpdi'; did you mean '--newpid'?" \
	check --newpdi 5
usage_error "option given an argument" "option '--json' takes no argument" check --json=1 5

# One argument rule: options before or after the arguments, "--" ends them.
usage_error "check, option after two tuples" "too many arguments: '6'" check 5 6 --newpid
usage_error "check -- --newpid" "'--newpid' is not a PID tuple" check -- --newpid
usage_error "show, -- then a dash" "'-1' is not a PID" show -- -1
expect_status 0 "check TUPLE --help" -- "$P" check 5 --help &&
	expect_match "$out" "Usage: pidtuple check" "check 5 --help"
# The first problem wins: an unknown option before --help is an error.
usage_error "unknown option, then --help" "unknown option '--bogus'" check --bogus --help

# --json makes a usage error a JSON object on stdout too, wherever --json is.
for args in "check --json" "check --bogus --json" "show --json 0" "tree 1 2 --json" \
	"ps --json x" "next-pid --json x" "features --json nope" "run --json" "run 5 --json"; do
	# shellcheck disable=SC2086 # split on purpose
	expect_status 2 "$args" -- "$P" $args &&
		expect_json_error "$args" usage=true errno=22 errno_name='"EINVAL"' rule=null
done

finish
