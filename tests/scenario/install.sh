#!/usr/bin/env bash
# The build and install tree: a second `make` has nothing to do; `make
# install` into a staging DESTDIR with distribution paths puts every file
# where the Makefile promises (daemon in sbin, client in bin, three man
# pages, the systemd unit pointing at the installed daemon and config, the
# example config, the policies, the compliance profiles, the published .proto files, the bash
# completion); the installed client runs; `make uninstall` with the same
# variables removes all of it. The bash completion completes commands,
# subcommands and flags.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/install.sh
source "$(dirname "$0")/helpers.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$LODESTONE_BUILD
STAGE="$T/stage"
# A make of its own: not the jobserver of the `make test` that runs this.
MK=(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$ROOT" BUILD="$BUILD")
VARS=(DESTDIR="$STAGE" PREFIX=/usr SYSCONFDIR=/etc MANDIR=/usr/share/man)

check "a second make has nothing to rebuild" "${MK[@]}" -q all

run "${MK[@]}" install "${VARS[@]}"
check "make install DESTDIR=... PREFIX=/usr exits 0" [ "$RC" -eq 0 ]
[ "$RC" -eq 0 ] || printf '       %s\n' "$(tail -5 "$T/.err")"

want=$(cat <<LIST | sort
usr/bin/lodestone
usr/lib/systemd/system/lodestoned.service
usr/sbin/lodestoned
usr/share/bash-completion/completions/lodestone
usr/share/doc/lodestone/README.md
usr/share/doc/lodestone/lodestoned.conf.example
usr/share/man/man1/lodestone.1
usr/share/man/man5/lodestoned.conf.5
usr/share/man/man8/lodestoned.8
$(cd "$ROOT/contrib/policies" && ls | sed 's|^|usr/share/lodestone/policies/|')
$(cd "$ROOT/contrib/profiles" && ls | sed 's|^|usr/share/lodestone/profiles/|')
$(cd "$ROOT/proto" && ls ./*.proto | sed 's|^\./|usr/share/lodestone/proto/|')
LIST
)
got=$(cd "$STAGE" 2>/dev/null && find . -type f | sed 's|^\./||' | sort)
if [ "$got" = "$want" ]; then
	ok "the installed tree is exactly the promised files"
else
	not_ok "the installed tree: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
fi
check "the daemon and client are executable" [ -x "$STAGE/usr/sbin/lodestoned" -a \
	-x "$STAGE/usr/bin/lodestone" ]
check "the unit starts the installed daemon with the installed config" \
	grep -q '^ExecStart=/usr/sbin/lodestoned .*--config /etc/lodestone/lodestoned.conf' \
	"$STAGE/usr/lib/systemd/system/lodestoned.service"
run "$STAGE/usr/bin/lodestone" --version
check "the installed client runs (--version)" [ "$RC" -eq 0 -a -n "$OUT" ]
run "$STAGE/usr/sbin/lodestoned" --help
check "the installed daemon runs (--help)" [ "$RC" -eq 0 ]
if command -v man >/dev/null; then
	run man -l "$STAGE/usr/share/man/man5/lodestoned.conf.5"
	check "lodestoned.conf(5) renders and names its keys" grep -q 'witness-quorum' <<<"$OUT"
fi

run "${MK[@]}" uninstall "${VARS[@]}"
check "make uninstall exits 0" [ "$RC" -eq 0 ]
left=$(cd "$STAGE" && find . -type f)
check "make uninstall removes every installed file${left:+ (left: $left)}" [ -z "$left" ]
check "make uninstall removes its own directories" [ ! -e "$STAGE/usr/share/lodestone" -a \
	! -e "$STAGE/usr/share/doc/lodestone" ]

# The completion, through bash's completion variables.
complete_words() { # complete_words WORD...: the candidates for the last word
	PATH="$LODESTONE_BIN:$PATH" bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_lodestone; printf "%s\n" "${COMPREPLY[@]}"' _ "$ROOT/contrib/completion/lodestone.bash" "$@"
}
c=$(complete_words lodestone ver)
check "completion: 'ver' gives verify, verify-bundle, verify-proof" \
	[ "$(echo $c)" = "verify verify-bundle verify-proof" ]
c=$(complete_words lodestone lot tr)
check "completion: 'lot tr' gives transfer and transform" [ "$(echo $c)" = "transfer transform" ]
c=$(complete_words lodestone verify X --exp)
check "completion: 'verify X --exp' gives --export-to" [ "$(echo $c)" = "--export-to" ]
c=$(complete_words lodestone --ti)
check "completion: global '--ti' gives --timeout" [ "$(echo $c)" = "--timeout" ]
finish
