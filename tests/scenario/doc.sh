#!/usr/bin/env bash
# The doc test: every command the README shows (its ```sh blocks) and every
# command of the man pages' EXAMPLES runs as written, in order, as one shell
# session per document, in a scratch home where `lodestone` and `lodestoned`
# are on PATH (with /usr/bin before a user's own python3, as on a fresh
# Debian), `contrib/` and `tests/` are where the README says, and
# LODESTONE_PASSPHRASE answers the passphrase prompts. A command that fails
# fails the test with its document line. `make` runs in the repository with
# this build; `make test` (what runs this test) is not run again.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/doc.sh
source "$(dirname "$0")/helpers.bash"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$LODESTONE_BUILD

# Daemons started with --detach are not our children: stop them by their
# pid files at the end.
stop_detached() {
	local f pid
	for f in $(find "$T" -name lodestoned.pid 2>/dev/null); do
		pid=$(cat "$f" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null
	done
	for _ in $(seq $((50 * TIME_SCALE))); do
		[ -z "$(find "$T" -name lodestoned.pid 2>/dev/null)" ] && break
		sleep 0.1
	done
}
trap 'stop_detached; _cleanup' EXIT

# commands FILE KIND: the commands of a document, one logical line each,
# prefixed with its line number ("NN<TAB>command").
commands() {
	case $2 in
	md)
		awk '/^```/ { if (inb) { inb = 0 } else if ($0 == "```sh") { inb = 1 }; next }
		     inb { print NR "\t" $0 }' "$1"
		;;
	man)
		awk '/^\.Sh / { ex = ($2 == "EXAMPLES") }
		     ex && /^\.Bd -literal/ { inb = 1; next }
		     ex && /^\.Ed/ { inb = 0; next }
		     inb && /^\$ / { print NR "\t" substr($0, 3) }
		     inb && !/^\$ / && prev ~ /\\e$/ { print NR "\t" $0 }
		     { prev = $0 }' "$1" | sed 's/\\e/\\/g; s/\\-/-/g'
		;;
	esac | awk -F '\t' '
		{ line = $0; sub(/^[0-9]+\t/, "", line) }
		cont { cmd = cmd " " line } !cont { n = $1; cmd = line }
		{ cont = (line ~ /\\$/); if (cont) sub(/\\$/, "", cmd) }
		!cont { print n "\t" cmd }'
}

# session FILE KIND: runs the document's commands in one shell.
session() {
	local doc=$1 kind=$2 name
	name=${doc#"$ROOT"/}
	local home="$T/home-${name//\//-}" work="$T/work-${name//\//-}"
	mkdir -p "$home" "$work"
	ln -s "$ROOT/contrib" "$work/contrib"
	ln -s "$ROOT/tests" "$work/tests"
	{
		echo "cd '$work' || exit 1"
		echo "export HOME='$home' PATH='$LODESTONE_BIN:/usr/bin:$PATH' LODESTONE_PASSPHRASE=doc-test"
		echo "unset MAKEFLAGS MFLAGS MAKELEVEL"
		echo "make() { if [ \"\$1\" = test ]; then echo '(make test: running now)'; return 0; fi"
		echo "  command make --no-print-directory -C '$ROOT' BUILD='$BUILD' \"\$@\"; }"
		commands "$doc" "$kind" | while IFS=$'\t' read -r n cmd; do
			printf '{ %s\n} </dev/null || { echo "@@fail %s:%s: exit $?"; exit 1; }\n' \
				"$cmd" "$name" "$n"
			printf 'echo "@@ran %s:%s"\n' "$name" "$n"
		done
	} >"$T/session-${name//\//-}.sh"
	timeout -k 5 $((600 * TIME_SCALE)) bash "$T/session-${name//\//-}.sh" >"$T/session.out" 2>&1
	local ran failed
	ran=$(grep -c '^@@ran ' "$T/session.out")
	failed=$(grep '^@@fail ' "$T/session.out" | head -1)
	if [ -n "$failed" ]; then
		not_ok "$name: ${failed#@@fail } (after $ran commands)"
		grep -v '^@@' "$T/session.out" | tail -8 | sed 's/^/       /'
	elif [ "$ran" -eq 0 ]; then
		not_ok "$name: no commands found"
	else
		ok "$name: all $ran commands run as written"
	fi
	stop_detached
}

session "$ROOT/README.md" md
session "$ROOT/client/lodestone.1" man
session "$ROOT/daemon/lodestoned.8" man
finish
