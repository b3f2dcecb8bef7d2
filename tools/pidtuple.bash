# bash completion for pidtuple(1), the command of libpidtuple.     -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Installed as "pidtuple" in bash-completion's completions directory, where it is loaded on
# first use; source it to try it by hand. It needs none of bash-completion's helpers, and uses
# _command_offset for the command of `pidtuple run` when bash-completion is there.

_pidtuple_commands="show ps tree check run features next-pid capture restore help"
_pidtuple_columns="PID TID PPID TUPLE PGID SID NEWPID NS_ID COMM"

# The options of subcommand $1.
_pidtuple_options() {
	local view="--output --list-columns --json --raw --noheadings --no-kthreads -o -J -r -n"
	case $1 in
	show) echo "--threads --pgid --sid --json --help -h" ;;
	ps) echo "--threads $view --help -h" ;;
	tree) echo "--ascii --unicode --threads $view -A --help -h" ;;
	check) echo "--newpid --newuser --ns --json --help -h" ;;
	run) echo "--newpid --newuser --cgroup --check --wait-free --ns --json --help -h" ;;
	features | next-pid) echo "--json --help -h" ;;
	capture) echo "--compact --json --help -h" ;;
	restore) echo "--check --wait --shell-job --share-vm --wait-free --ns --json --help -h" ;;
	esac
}

# COMPREPLY from the words $1 that begin with $2.
_pidtuple_reply() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# -o LIST: column names, any case, separated by commas; a leading '+' adds to the defaults.
_pidtuple_complete_columns() {
	local cur=$1 prefix=""
	if [[ $cur == *,* ]]; then
		prefix=${cur%,*},
	elif [[ $cur == +* ]]; then
		prefix=+
	fi
	cur=${cur#"$prefix"}
	mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$_pidtuple_columns" -- "${cur^^}")
	compopt -o nospace 2>/dev/null # a comma and more may follow
}

_pidtuple_pids() {
	local p
	for p in /proc/[0-9]*; do
		echo "${p#/proc/}"
	done
}

_pidtuple_features() {
	"${COMP_WORDS[0]}" features 2>/dev/null | while read -r name _; do
		echo "$name"
	done
}

# Completes the positional argument number $3 (from 1) of subcommand $1; $2 is the word.
_pidtuple_positional() {
	local cmd=$1 cur=$2 n=$3
	case $cmd in
	help) ((n == 1)) && _pidtuple_reply "$_pidtuple_commands" "$cur" ;;
	show | tree | capture) _pidtuple_reply "$(_pidtuple_pids)" "$cur" ;;
	features) _pidtuple_reply "$(_pidtuple_features)" "$cur" ;;
	restore) ((n == 1)) && mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	run) ((n == 2)) && mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
	esac
	return 0
}

_pidtuple() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" cmdpos=0 npos=0 ended="" i word
	COMPREPLY=()

	# The subcommand: the first word that is not a global option.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} != -* ]]; then
			cmd=${COMP_WORDS[i]}
			cmdpos=$i
			break
		fi
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			_pidtuple_reply "--help --version" "$cur"
		else
			_pidtuple_reply "$_pidtuple_commands" "$cur"
		fi
		return 0
	fi

	# Options may come anywhere until "--"; run's COMMAND ends them too, and what follows
	# it is the command's own.
	for ((i = cmdpos + 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ -z $ended ]]; then
			case $word in
			--)
				ended=1
				continue
				;;
			-o | --output | --cgroup | --wait-free | --ns)
				i=$((i + 1)) # its argument
				continue
				;;
			-*) continue ;;
			esac
		fi
		((npos++))
		if [[ $cmd == run ]] && ((npos == 2)); then
			if declare -F _command_offset >/dev/null; then
				_command_offset "$i"
			else
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			fi
			return 0
		fi
	done

	if [[ -z $ended ]]; then
		case $prev in
		-o | --output)
			_pidtuple_complete_columns "$cur"
			return 0
			;;
		--cgroup)
			mapfile -t COMPREPLY < <(compgen -d -- "$cur")
			return 0
			;;
		--wait-free) return 0 ;; # SECONDS: nothing to offer
		--ns)
			# A PID, or a namespace file such as /proc/PID/ns/pid.
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
			;;
		esac
		if [[ $cur == -* ]]; then
			_pidtuple_reply "$(_pidtuple_options "$cmd")" "$cur"
			return 0
		fi
	fi
	_pidtuple_positional "$cmd" "$cur" $((npos + 1))
}

complete -F _pidtuple pidtuple
