#!/usr/bin/env bash
# Crash loop (issue 14): lodestoned is killed with SIGKILL at a random point,
# CRASH_ROUNDS times (default 100), while 4 writers submit records through its
# API, a reader asks for the log, and a gossip peer (a second daemon, never
# killed, with a writer of its own) pushes records to it. After every restart:
# the store opens, every record a writer was acknowledged (the client printed
# its id) in any round so far is there, the writers go on where their feeds
# stopped, and reads still work (stale LMDB readers of the killed process are
# cleared: 126 reader slots would be gone long before 100 rounds otherwise).
# At the end the peer's acknowledged records are all there too.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/reliability/crash_loop.sh [--short]
#   --short: 8 rounds (make test); CRASH_ROUNDS=N, CRASH_SEED=N (the kill points),
#   CRASH_MAX_MS=2000 (the latest kill point in a round),
#   CRASH_JSON=FILE (the result: rounds, records acknowledged, lost, ...;
#   default build/reliability/crash_loop.json)
source "$(dirname "$0")/../scenario/helpers.bash"

ROUNDS=${CRASH_ROUNDS:-100}
MAX_MS=${CRASH_MAX_MS:-2000} # the latest kill point of a round
if [ "${1:-}" = "--short" ]; then # make test
	ROUNDS=${CRASH_ROUNDS:-8}
	MAX_MS=${CRASH_MAX_MS:-1000}
fi
SEED=${CRASH_SEED:-$(date +%s)}
JSON=${CRASH_JSON:-$(cd "$(dirname "$0")/../.." && pwd)/build/reliability/crash_loop.json}
mkdir -p "$(dirname "$JSON")"
RANDOM=$SEED
A="$T/a"
B="$T/b"
WRITERS=(w1 w2 w3 w4)
START=$(date +%s)
echo "# $ROUNDS rounds, seed $SEED (CRASH_SEED=$SEED repeats the kill points)"

# writer KEY ACKED API: registers lots until the daemon goes away (exit 4);
# appends each printed id to ACKED, any other failure to ACKED.err.
writer() {
	local key=$1 acked=$2 api=$3 i=0 id rc
	while [ $i -lt 100000 ]; do
		i=$((i + 1))
		id=$(LODESTONE_TIMEOUT=3s timeout -k 2 20 "$LS" --api "$api" lot register \
			-k "$T/$key.key" --label "loop-$key-$ROUND-$i" --site "Mountain Pass" \
			--country US --category ore --grams 1000 --composition Nd=30000 \
			2>>"$acked.stderr")
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "$id" >>"$acked"
		elif [ $rc -eq 4 ]; then
			return 0
		else
			echo "round $ROUND: exit $rc after $i records" >>"$acked.err"
			return 1
		fi
		if [ -n "${STOP_FILE:-}" ]; then # the peer's writer: stop when told, and pace
			[ -e "$STOP_FILE" ] && return 0
			sleep 0.05
		fi
	done
}

# reader API: asks for the last records until the daemon goes away.
reader() {
	while LODESTONE_TIMEOUT=5s timeout -k 2 20 "$LS" --api "$1" log --limit 20 \
		>/dev/null 2>&1; do :; done
}

# ids_of API FILE: every record id the daemon's log holds, sorted, into FILE
# (each JSON line starts with its id: grep, where JSON::PP would take seconds
# for the thousands of lines of a long run).
ids_of() {
	LODESTONE_TIMEOUT=30s timeout -k 2 60 "$LS" --api "$1" --json log 2>"$T/log.err" |
		grep -oE '^\{"id":"[0-9a-f]{64}"' | cut -c8-71 | sort >"$2"
}

# lost ACKED_FILES...: how many acknowledged ids are not in $T/present.
lost_of() {
	cat "$@" 2>/dev/null | grep -E '^[0-9a-f]{64}$' | sort -u | comm -23 - "$T/present" | grep -c '' || true
}

keygen auth "${WRITERS[@]}" wb
A_NODE=$("$LSD" --data-dir "$A" --init 2>/dev/null)
B_NODE=$("$LSD" --data-dir "$B" --init 2>/dev/null)
A_API="ipc://$A/api.sock"
B_API="ipc://$B/api.sock"
A_ARGS=(--trust "$T/auth.key.pub" --listen "ipc://$T/a-gossip.sock" --allow-peer "$B_NODE"
	--sync-interval 1)
if ! start_daemon "$A" "${A_ARGS[@]}"; then
	not_ok "lodestoned A starts"
	finish
fi
A_PID=$DAEMON_PID
if ! start_daemon "$B" --trust "$T/auth.key.pub" --peer "$A_NODE@ipc://$T/a-gossip.sock" \
	--sync-interval 1; then
	not_ok "lodestoned B (the gossip peer) starts"
	finish
fi
B_PID=$DAEMON_PID
ok "two daemons start, B peered with A"
for w in "${WRITERS[@]}" wb; do
	expect 0 "certify writer $w" --api "$A_API" cert issue -k "$T/auth.key" \
		--subject "$T/$w.key.pub" --org "Miner $w" --country US --roles miner
done
# the peer's writer needs its certificate at B: gossip brings it
for i in $(seq 100); do
	LODESTONE_TIMEOUT=5s "$LS" --api "$B_API" --json status 2>/dev/null |
		jtest '$j->{records} >= 5' && break
	sleep 0.1
done

# The peer's writer runs through every round (its daemon is never killed).
ROUND=peer
STOP_FILE="$T/stop-peer"
: >"$T/acked-peer"
writer wb "$T/acked-peer" "$B_API" &
PEER_WRITER=$!
STOP_FILE=

lost=0
restarts=0
bad_rounds=0
quiet_rounds=0
min_ms=999999
max_ms=0
for ROUND in $(seq "$ROUNDS"); do
	pids=()
	for w in "${WRITERS[@]}"; do
		writer "$w" "$T/acked-$ROUND-$w" "$A_API" &
		pids+=($!)
	done
	reader "$A_API" &
	rpid=$!
	# a random point: 0.2 s to MAX_MS into the round's writes
	ms=$((200 + RANDOM % (MAX_MS - 200)))
	[ $ms -lt $min_ms ] && min_ms=$ms
	[ $ms -gt $max_ms ] && max_ms=$ms
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$A_PID"
	t_kill=$(date +%s%N)
	wait "$A_PID" 2>/dev/null
	writers_ok=true
	for p in "${pids[@]}"; do
		wait "$p" || writers_ok=false
	done
	t_w=$(date +%s%N)
	kill "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	if ! start_daemon "$A" "${A_ARGS[@]}"; then
		not_ok "round $ROUND: lodestoned restarts on the killed store"
		bad_rounds=$((bad_rounds + 1))
		break
	fi
	A_PID=$DAEMON_PID
	restarts=$((restarts + 1))
	t_up=$(date +%s%N)
	ids_of "$A_API" "$T/present"
	t_read=$(date +%s%N)
	round_acked=$(cat "$T"/acked-"$ROUND"-w? 2>/dev/null | grep -c '' || true)
	all_acked=$(cat "$T"/acked-*-w? 2>/dev/null | grep -c '' || true)
	round_lost=$(lost_of "$T"/acked-*-w?)
	lost=$((lost + round_lost))
	echo "       round $ROUND: killed after $ms ms, $round_acked acknowledged" \
		"($all_acked in all), $(grep -c '' "$T/present") stored, $round_lost lost;" \
		"writers done in $(((t_w - t_kill) / 1000000)) ms, up again in $(((t_up - t_kill) / 1000000)) ms, read back in $(((t_read - t_up) / 1000000)) ms"
	[ "$round_acked" -eq 0 ] && quiet_rounds=$((quiet_rounds + 1))
	if [ "$round_lost" -ne 0 ] || ! $writers_ok; then
		bad_rounds=$((bad_rounds + 1))
		$writers_ok || cat "$T"/acked-"$ROUND"-*.err 2>/dev/null | sed 's/^/       /'
		[ "$round_lost" -ne 0 ] && cat "$T"/acked-*-w? | sort -u | comm -23 - "$T/present" |
			head -3 | sed 's/^/       lost: /'
	fi
done
acked=$(cat "$T"/acked-*-w? 2>/dev/null | grep -c '' || true)
check "lodestoned restarted after each of the $ROUNDS kills ($restarts)" test "$restarts" -eq "$ROUNDS"
check "every round: writers stopped only on 'cannot reach lodestoned', none lost ($bad_rounds bad rounds; $quiet_rounds killed before any acknowledgement)" \
	test "$bad_rounds" -eq 0
check "every one of the $acked acknowledged records is there after every restart ($lost lost)" \
	test "$lost" -eq 0
for w in "${WRITERS[@]}"; do
	expect 0 "writer $w goes on after the last restart (feed continuity)" --api "$A_API" \
		lot register -k "$T/$w.key" --label "after-$w" --site "Mountain Pass" --country US \
		--category ore --grams 5 --composition Nd=1000
done

# the peer: its writer stops, and A holds everything it was acknowledged
touch "$T/stop-peer"
wait "$PEER_WRITER"
peer_ok=$?
peer_acked=$(grep -c '' "$T/acked-peer" || true)
check "the peer's writer ran without an error ($peer_acked records acknowledged at B)" \
	test "$peer_ok" -eq 0 -a "$peer_acked" -gt 0
peer_lost=$peer_acked
for i in $(seq 60); do
	ids_of "$A_API" "$T/present"
	peer_lost=$(lost_of "$T/acked-peer")
	[ "$peer_lost" -eq 0 ] && break
	sleep 0.5
done
check "A holds every record acknowledged at its peer B ($peer_lost missing)" test "$peer_lost" -eq 0
expect 0 "A answers a verification after the loop" --api "$A_API" \
	verify "$(tail -n1 "$T/acked-$ROUNDS-w1" 2>/dev/null || tail -n1 "$T/acked-1-w1")"
stop_daemon "$A_PID"
check "A exits 0 on SIGTERM after the loop" test $? -eq 0
stop_daemon "$B_PID"

if [ -n "$JSON" ]; then
	mkdir -p "$(dirname "$JSON")"
	cat >"$JSON" <<EOF
{
  "test": "crash_loop",
  "what": "lodestoned killed with SIGKILL at a random point of each round while 4 writers submit through its API, a reader reads its log and a gossip peer pushes; restarted after each kill",
  "checked": [
    "the store opens after every kill",
    "every acknowledged record is present after every restart",
    "writers stop only on 'cannot reach lodestoned' and go on where their feeds stopped",
    "reads go on working (stale readers of the killed process cleared)",
    "every record acknowledged at the gossip peer reaches the killed daemon"
  ],
  "rounds": $ROUNDS,
  "seed": $SEED,
  "kill_after_ms": {"min": $min_ms, "max": $max_ms},
  "restarts": $restarts,
  "writers": ${#WRITERS[@]},
  "records_acknowledged": $acked,
  "records_lost": $lost,
  "peer_records_acknowledged": $peer_acked,
  "peer_records_missing": $peer_lost,
  "bad_rounds": $bad_rounds,
  "rounds_killed_before_any_ack": $quiet_rounds,
  "seconds": $(($(date +%s) - START)),
  "passed": $([ "$FAIL" -eq 0 ] && echo true || echo false)
}
EOF
	echo "# result in $JSON"
fi
finish
