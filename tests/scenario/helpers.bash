# tests/scenario/helpers.bash - sourced by the scenario tests (not a test: no .sh).
#
# Every test runs a real lodestoned in a mktemp directory and drives the real
# client binary. Helpers here: a scratch directory and cleanup, daemons started
# and stopped with timeouts, command runs bounded by `timeout`, and checks that
# count passes and failures and end with an "N passed, M failed" line.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/NAME.sh
#
# KEEP=1 keeps the scratch directory (keys, data dirs, daemon logs) for a look.

set -u
: "${LODESTONE_BIN:?set LODESTONE_BIN to the directory holding lodestone and lodestoned}"
LS="$LODESTONE_BIN/lodestone"
LSD="$LODESTONE_BIN/lodestoned"
# The build tree the programs come from (make runs in it; its tests/ holds
# the test tools): LODESTONE_BUILD, else LODESTONE_BIN's parent.
# tests/reliability/valgrind.sh sets it, its LODESTONE_BIN being a directory
# of memcheck wrappers.
LODESTONE_BUILD=${LODESTONE_BUILD:-$(dirname "$LODESTONE_BIN")}
[ -x "$LS" ] && [ -x "$LSD" ] || { echo "no lodestone/lodestoned in $LODESTONE_BIN" >&2; exit 2; }

SCENARIO=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/lodestone-$SCENARIO.XXXXXX")
PASS=0
FAIL=0
DAEMON_PIDS=()
# How many times slower than normal this run is (LS_TEST_TIME_SCALE, which
# tests/reliability/valgrind.sh sets for memcheck): every time bound of a
# scenario is multiplied by it.
TIME_SCALE=${LS_TEST_TIME_SCALE:-1}
[[ $TIME_SCALE =~ ^[1-9][0-9]{0,2}$ ]] || { echo "LS_TEST_TIME_SCALE '$TIME_SCALE' is not 1 to 999" >&2; exit 2; }
CMD_TIMEOUT=${CMD_TIMEOUT:-$((30 * TIME_SCALE))} # seconds for one client command
OUT=
ERR=
RC=0

# The environment must not leak into the tests.
unset LODESTONE_API LODESTONE_HOME LODESTONE_KEY LODESTONE_PASSPHRASE LODESTONE_TIMEOUT
export LODESTONE_NO_TTY=1 # never block on a passphrase prompt
export HOME="$T/home"     # so that the default endpoint is ours and empty
mkdir -p "$HOME"

_cleanup() {
	local pid
	for pid in "${DAEMON_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then
		echo "$SCENARIO: kept $T (KEEP is set)"
	else
		rm -rf "$T"
	fi
}
trap _cleanup EXIT
trap 'echo "$SCENARIO: interrupted" >&2; exit 130' INT TERM

ok() {
	PASS=$((PASS + 1))
	echo "ok   $*"
}

not_ok() {
	FAIL=$((FAIL + 1))
	echo "FAIL $*"
}

# check DESC CONDITION...: passes when the condition (a command) succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# run CMD...: runs with a timeout; sets OUT, ERR and RC.
run() {
	timeout -k 2 "$CMD_TIMEOUT" "$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}

# lsc ARGS...: runs the client (see run).
lsc() {
	run "$LS" "$@"
}

# expect WANT DESC ARGS...: the client exits WANT (0, or a verdict exit code
# whose explanation goes to stdout).
expect() {
	local want=$1 desc=$2
	shift 2
	lsc "$@"
	if [ "$RC" -eq "$want" ]; then
		ok "$desc (exit $RC)"
	else
		not_ok "$desc: exit $RC, wanted $want"
		[ -n "$ERR" ] && printf '       stderr: %s\n' "$ERR"
		[ -n "$OUT" ] && printf '       stdout: %s\n' "$(head -c 400 <<<"$OUT")"
	fi
}

# expect_err WANT PATTERN DESC ARGS...: the client exits WANT and stderr is
# exactly one line, starting with "lodestone: " and holding PATTERN (grep -E).
expect_err() {
	local want=$1 pat=$2 desc=$3 lines
	shift 3
	lsc "$@"
	lines=$(printf '%s' "$ERR" | grep -c '' || true)
	if [ "$RC" -ne "$want" ]; then
		not_ok "$desc: exit $RC, wanted $want; stderr: $ERR"
	elif [ "$lines" -ne 1 ]; then
		not_ok "$desc: $lines lines on stderr, wanted 1: $ERR"
	elif [[ $ERR != "lodestone: "* ]]; then
		not_ok "$desc: stderr does not start with 'lodestone: ': $ERR"
	elif ! grep -qE -- "$pat" <<<"$ERR"; then
		not_ok "$desc: stderr lacks /$pat/: $ERR"
	else
		ok "$desc (exit $RC: ${ERR#lodestone: })"
	fi
}

# json EXPR: reads JSON documents, one per line, on stdin and evaluates the
# Perl expression EXPR with @j holding them and $j the first (JSON::PP, which
# build-essential brings through dpkg-dev: no jq needed). Prints the value (an
# array one item per line) and succeeds when it is true. Variables of the
# caller reach EXPR as $ENV{NAME} when exported.
json() {
	perl -MJSON::PP -e '
		my $js = JSON::PP->new->allow_nonref;
		my @j = map { $js->decode($_) } grep { /\S/ } <STDIN>;
		my $j = $j[0];
		my $v = eval $ARGV[0];
		die "json: $ARGV[0]: $@" if $@;
		print ref($v) eq "ARRAY" ? join("", map { "$_\n" } @$v) : defined($v) ? "$v\n" : "";
		exit($v ? 0 : 1);' "$1"
}

# jtest EXPR: whether EXPR (see json) is true; prints nothing.
jtest() {
	json "$1" >/dev/null
}

# jget EXPR: the value of EXPR (see json), whether true or not.
jget() {
	json "$1" || true
}

# is_id STRING: 64 lower-case hex digits.
is_id() {
	[[ $1 =~ ^[0-9a-f]{64}$ ]]
}

# start_daemon DIR [ARGS...]: starts lodestoned on DIR (socket DIR/api.sock)
# in the background and waits (10 s at most, times TIME_SCALE) until it answers. Sets
# DAEMON_PID; the daemon's stderr goes to DIR.log.
start_daemon() {
	local dir=$1 i
	shift
	"$LSD" --data-dir "$dir" "$@" 2>>"$dir.log" &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	for i in $(seq $((100 * TIME_SCALE))); do
		if "$LS" --api "ipc://$dir/api.sock" status >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "lodestoned on $dir exited at start:" >&2
			tail -n 5 "$dir.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "lodestoned on $dir did not answer within $((10 * TIME_SCALE)) s" >&2
	return 1
}

# stop_daemon PID: SIGTERM, then SIGKILL after 10 s (times TIME_SCALE).
# Returns the exit status.
stop_daemon() {
	local pid=$1 i rc=0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq $((100 * TIME_SCALE))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "lodestoned $pid ignored SIGTERM for $((10 * TIME_SCALE)) s: killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return $rc
}

# keygen NAME...: plain key pairs $T/NAME.key (+ .pub); sets NAME_PK.
keygen() {
	local n
	for n in "$@"; do
		"$LS" keygen -o "$T/$n.key" --no-passphrase >/dev/null || return 1
		printf -v "${n}_PK" '%s' "$("$LS" pubkey "$T/$n.key.pub")"
	done
}

# finish: the summary line, and the exit status.
finish() {
	echo "$SCENARIO: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}
