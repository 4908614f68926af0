# bash completion for lodestone(1): commands and subcommands, each command's
# flags (read from its --help), key files for -k, and lot labels from the
# daemon (`lodestone log --json`, within two seconds; nothing when it is not
# running). Installed by `make install` in the bash-completion directory.

_lodestone_labels()
{
	command lodestone --timeout 2s --json log --type lot --limit 1000 2>/dev/null |
		sed -n 's/.*"label": *"\([^"]*\)".*/\1/p' | sort -u
}

_lodestone()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
	fi

	case $prev in
	-k | --key | --passphrase-file | -o | --output | --file | --profile)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--api | --timeout | --at | --since | --limit | --author | --from | --end-user | \
		--export-to | --license)
		return
		;;
	esac

	# The command (and subcommand) typed so far, after the global options.
	local i cmd= sub=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--api | --timeout | -k | --passphrase-file) ((i++)) ;;
		-*) ;;
		*)
			if [ -z "$cmd" ]; then
				cmd=${words[i]}
			elif [ -z "$sub" ]; then
				sub=${words[i]}
			fi
			;;
		esac
	done

	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--api --json -k --passphrase-file --timeout --help
				--version' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(command lodestone --help 2>&1 |
				sed -n 's/^  \([a-z-]*\) .*/\1/p' | sort -u)" -- "$cur"))
		fi
		return
	fi

	local subs
	subs=$(command lodestone --help 2>&1 | sed -n "s/^  $cmd \([a-z-]*\) .*/\1/p")
	if [ -n "$subs" ] && [ -z "$sub" ] && [[ $cur != -* ]]; then
		# `bundle LOT` as well as `bundle inspect FILE`
		[ "$cmd" = bundle ] && subs="$subs $(_lodestone_labels)"
		COMPREPLY=($(compgen -W "$subs" -- "$cur"))
		return
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(command lodestone $cmd ${subs:+$sub} --help 2>&1 |
			grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
		return
	fi
	case $cmd in
	verify | origin | trace | bundle | show | prove | check | disclose)
		[ "$cmd $sub" = "bundle inspect" ] && {
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		}
		COMPREPLY=($(compgen -W "$(_lodestone_labels)" -- "$cur"))
		;;
	lot)
		COMPREPLY=($(compgen -W "$(_lodestone_labels)" -- "$cur"))
		;;
	epcis)
		if [ "$sub" = import ]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_lodestone_labels)" -- "$cur"))
		fi
		;;
	verify-bundle | verify-proof | import | pubkey | policy)
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
}
complete -F _lodestone lodestone
