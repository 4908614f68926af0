#!/usr/bin/env bash
# Durability: lodestoned is killed with SIGKILL in the middle of a stream of
# submissions. Every record whose id the client printed (= the daemon
# acknowledged it) must be there after a restart, the store must open
# cleanly, and the feeds must go on where they stopped. Two rounds.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/crash.sh
source "$(dirname "$0")/helpers.bash"

D="$T/node"
export LODESTONE_API="ipc://$D/api.sock"
ROUNDS=2
WRITERS=(m1 m2)

# writer KEY ACKED: registers lots until the daemon goes away (exit 4) or
# 20000 records; appends each printed id to ACKED, other failures to ACKED.err.
writer() {
	local key=$1 acked=$2 i=0 id rc
	while [ $i -lt 20000 ]; do
		i=$((i + 1))
		id=$(LODESTONE_TIMEOUT=$((3 * TIME_SCALE))s timeout -k 2 $((20 * TIME_SCALE)) "$LS" lot register -k "$T/$key.key" \
			--label "crash-$key-$ROUND-$i" --site "Mountain Pass" --country US --category ore \
			--grams 1000 --composition Nd=30000,Pr=8000 2>>"$acked.stderr")
		rc=$?
		if [ $rc -eq 0 ]; then
			echo "$id" >>"$acked"
		elif [ $rc -eq 4 ]; then
			return 0
		else
			echo "exit $rc after $i records" >>"$acked.err"
			return 1
		fi
	done
}

# wait_lines FILE N SECONDS: until FILE has N lines (or the time, times
# TIME_SCALE, is up).
wait_lines() {
	local i
	for i in $(seq $(($3 * 10 * TIME_SCALE))); do
		[ -f "$1" ] && [ "$(grep -c '' "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

keygen auth "${WRITERS[@]}"
if ! start_daemon "$D" --trust "$T/auth.key.pub"; then
	not_ok "lodestoned starts"
	finish
fi
ok "lodestoned starts"
for w in "${WRITERS[@]}"; do
	expect 0 "certify writer $w" cert issue -k "$T/auth.key" --subject "$T/$w.key.pub" --org "Miner $w" \
		--country US --roles miner
done

for ROUND in $(seq $ROUNDS); do
	echo "# round $ROUND: SIGKILL during submissions"
	pids=()
	for w in "${WRITERS[@]}"; do
		: >"$T/acked-$ROUND-$w"
		writer "$w" "$T/acked-$ROUND-$w" &
		pids+=($!)
	done
	check "the writers got acknowledgements before the kill" \
		wait_lines "$T/acked-$ROUND-${WRITERS[0]}" 40 20
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	ok "lodestoned killed with SIGKILL"
	writers_ok=true
	for p in "${pids[@]}"; do
		wait "$p" || writers_ok=false
	done
	check "the writers stopped on 'cannot reach lodestoned' (exit 4) and nothing else" $writers_ok
	cat "$T"/acked-"$ROUND"-*.err 2>/dev/null | sed 's/^/       /'
	check "the writers' last error names the daemon" \
		grep -q "cannot reach lodestoned" "$T/acked-$ROUND-${WRITERS[0]}.stderr"
	cat "$T"/acked-"$ROUND"-m? | grep -vE '^[0-9a-f]{64}$' | head -3 | sed 's/^/       not an id: /'
	acked=$(cat "$T"/acked-"$ROUND"-m? | grep -c '')
	echo "       $acked records acknowledged in round $ROUND"

	expect_err 4 "cannot reach lodestoned" "a client while the daemon is dead" status

	if ! start_daemon "$D" --trust "$T/auth.key.pub"; then
		not_ok "lodestoned restarts on the killed store"
		finish
	fi
	ok "lodestoned restarts on the killed store"

	missing=0
	while read -r id; do
		if ! timeout -k 2 $((10 * TIME_SCALE)) "$LS" show "$id" >/dev/null 2>"$T/show.err"; then
			missing=$((missing + 1))
			[ $missing -le 3 ] && echo "       lost: $id: $(cat "$T/show.err")"
		fi
	done < <(cat "$T"/acked-*-m?)
	total=$(cat "$T"/acked-*-m? | grep -c '')
	check "every acknowledged record is there ($total checked with 'lodestone show', $missing missing)" \
		test $missing -eq 0

	expect 0 "status after the restart" --json status
	records=$(jget '$j->{records}' <<<"$OUT")
	check "the store counts at least the acknowledged records ($records >= $total + certificates)" \
		test "$records" -ge $((total + ${#WRITERS[@]}))
	expect 0 "log after the restart" --json log
	check "log reads every stored record back ($(grep -c '' <<<"$OUT") of $records)" \
		test "$(grep -c '' <<<"$OUT")" -eq "$records"
	check "every logged record decodes with id, type and seq" \
		jtest '!grep { length($_->{id}) != 64 || !defined $_->{type} || $_->{seq} < 1 } @j' <<<"$OUT"
	for w in "${WRITERS[@]}"; do
		expect 0 "writer $w goes on after the restart (feed continuity)" lot register -k "$T/$w.key" \
			--label "after-$w-$ROUND" --site "Mountain Pass" --country US --category ore \
			--grams 5 --composition Nd=1000
	done
	expect 0 "verify of an acknowledged lot" verify "$(tail -n1 "$T/acked-$ROUND-m1")"
done

echo "# clean shutdown"
stop_daemon "$DAEMON_PID"
check "lodestoned exits 0 on SIGTERM" test $? -eq 0
if start_daemon "$D" --trust "$T/auth.key.pub"; then
	expect 0 "status after a clean restart" --json status
	check "nothing was lost by the clean stop" \
		test "$(jget '$j->{records}' <<<"$OUT")" -eq $((records + ${#WRITERS[@]}))
	stop_daemon "$DAEMON_PID"
else
	not_ok "lodestoned starts after a clean stop"
fi

finish
