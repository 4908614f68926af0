#!/usr/bin/env bash
# valgrind.sh - the test suite under valgrind memcheck (make valgrind): every
# unit test binary, and every daemon and client they and the scenario tests
# start (LODESTONE_BIN points at wrappers that run the build's programs under
# memcheck). No memcheck error and no definite or indirect leak may remain.
#
#   bash tests/reliability/valgrind.sh             the whole suite (an hour or more)
#   bash tests/reliability/valgrind.sh --short     three small unit tests (make test)
#   bash tests/reliability/valgrind.sh test_store cli.sh    the tests named
#
# Writes build/reliability/valgrind.json: per test its exit, the memcheck
# errors and the bytes definitely and indirectly lost, over every process it
# ran. Exit 1 if any test failed or any process had an error or a leak.
set -uo pipefail
cd "$(dirname "$0")/../.."

if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: valgrind not found (apt-get install valgrind)" >&2
	exit 2
fi
make -s all $(ls tests/test_*.c | sed 's|tests/\(.*\)\.c|build/tests/\1|') build/tests/tlog_tool ||
	exit 1

out=build/reliability
# Each run has a directory of its own (wrappers, logs, outputs), so that two
# runs at once (make test's --short during a make valgrind) do not remove
# each other's wrappers; build/valgrind/last names the newest but --short
# ones. Runs older than a day are removed; a --short run that passes removes
# its own.
mkdir -p "$out" build/valgrind
find build/valgrind -mindepth 1 -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null
vg=$(mktemp -d build/valgrind/run.XXXXXX) || exit 1
[ "${1:-}" = "--short" ] || ln -sfn "$(basename "$vg")" build/valgrind/last
mkdir -p "$vg/bin" "$vg/logs"
bin=$(pwd)/build/bin
logs=$(pwd)/$vg/logs
# valgrind by its path: tests run the wrappers with a PATH of their own
# (trace.sh, without dot)
VG=("$(command -v valgrind)" --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --track-fds=no --child-silent-after-fork=yes
	--vgdb=no
	--suppressions="$(pwd)/tests/reliability/valgrind.supp")
for p in lodestone lodestoned lodestone-bench; do
	cat >"$vg/bin/$p" <<WRAP
#!/bin/sh
exec ${VG[*]} --log-file=$logs/\${VG_TEST:-unnamed}.$p.%p.log $bin/$p "\$@"
WRAP
	chmod +x "$vg/bin/$p"
done
cat >"$vg/bin/tlog_tool" <<WRAP
#!/bin/sh
exec ${VG[*]} --log-file=$logs/\${VG_TEST:-unnamed}.tlog_tool.%p.log $(pwd)/build/tests/tlog_tool "\$@"
WRAP
chmod +x "$vg/bin/tlog_tool"
export LODESTONE_BIN=$(pwd)/$vg/bin
# interop.sh's tool (not beside the programs: it is a test's); the build
# tree for the scenarios that run make (install.sh, doc.sh)
export TLOG_TOOL=$LODESTONE_BIN/tlog_tool
export LODESTONE_BUILD=$(pwd)/build
# Programs under memcheck run ten to fifty times slower: every time bound of
# the tests (tests/helper_fixture.h fx_time_scale, tests/scenario/helpers.bash
# TIME_SCALE) is multiplied by this.
export LS_TEST_TIME_SCALE=${LS_TEST_TIME_SCALE:-20}

tests=()
if [ "${1:-}" = "--short" ]; then
	tests=(test_note test_units test_country)
elif [ $# -gt 0 ]; then
	tests=("$@")
else
	for t in tests/test_*.c; do tests+=("$(basename "$t" .c)"); done
	for t in tests/scenario/*.sh; do tests+=("$(basename "$t")"); done
fi

fail=0
json="["
for t in "${tests[@]}"; do
	export VG_TEST=$t
	start=$(date +%s)
	case $t in
	*.sh) VG_TEST=$t bash "tests/scenario/$t" >"$vg/$t.out" 2>&1 ;;
	*) "${VG[@]}" --log-file="$logs/$t.test.%p.log" "build/tests/$t" >"$vg/$t.out" 2>&1 ;;
	esac
	rc=$?
	secs=$(($(date +%s) - start))
	errors=0 definite=0 indirect=0 procs=0
	for l in "$logs/$t".*.log; do
		[ -e "$l" ] || continue
		procs=$((procs + 1))
		e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$l" | tr -d , | tail -n 1)
		d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$l" | tr -d , | tail -n 1)
		i=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$l" | tr -d , | tail -n 1)
		# a process killed (SIGKILL tests) writes no summary: count the
		# errors it wrote
		[ -z "$e" ] && e=$(grep -c '^==[0-9]*== \(Invalid\|Conditional\|Use of\|Syscall\|Mismatched\)' "$l")
		errors=$((errors + ${e:-0}))
		definite=$((definite + ${d:-0}))
		indirect=$((indirect + ${i:-0}))
	done
	ok=true
	if [ $rc -ne 0 ] || [ $errors -ne 0 ] || [ $definite -ne 0 ] || [ $indirect -ne 0 ]; then
		ok=false
		fail=1
	fi
	printf 'valgrind: %-24s %5d s exit %d, %d processes, %d errors, %d + %d bytes lost%s\n' \
		"$t" "$secs" $rc $procs $errors $definite $indirect "$([ $ok = true ] || echo '  FAILED')"
	[ "$json" != "[" ] && json+=","
	json+=$(printf '{"test":"%s","seconds":%d,"exit":%d,"processes":%d,"errors":%d,"definitely_lost":%d,"indirectly_lost":%d,"passed":%s}' \
		"$t" "$secs" $rc $procs $errors $definite $indirect $ok)
done
json+="]"
printf '{"test":"valgrind","what":"the test suite under valgrind memcheck, every daemon and client it starts included","runs":%s,"passed":%s}\n' \
	"$json" "$([ $fail -eq 0 ] && echo true || echo false)" >"$vg/valgrind.json"
cp "$vg/valgrind.json" "$out/valgrind.json"
if [ "${1:-}" = "--short" ] && [ $fail -eq 0 ]; then
	rm -rf "$vg"
	echo "valgrind: results in $out/valgrind.json"
else
	echo "valgrind: results in $out/valgrind.json (and $vg), logs in $vg/logs"
fi
exit $fail
