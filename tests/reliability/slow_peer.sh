#!/usr/bin/env bash
# Slow and stopped peers: a stopped reader never blocks the sender. Three
# lodestoned in network namespaces of their own (one bridge), A dialling B
# and C over CurveZMQ TCP, the links' TCP buffers 4 KiB so that a reader's
# queue fills within seconds. B is stopped (SIGSTOP) while a client keeps
# writing on A: A acknowledges every write at the latency it had before, the
# pushes it cannot queue for B are dropped and counted (status: B's
# "dropped"), and C, which reads, keeps up. Then B goes on (SIGCONT) and
# anti-entropy brings it everything: the same record count and set digest as
# A, within a bound. B is stopped for 60 s (--short: 8 s).
#
#   bash tests/reliability/slow_peer.sh [--short]
#
# Writes build/reliability/slow_peer.json. Needs root (ip netns).
source "$(dirname "$0")/net.bash"

STOP_S=60
RECOVER_S=60 # the bound on B's catching up
if [ "$SHORT" -eq 1 ]; then
	STOP_S=8
	RECOVER_S=20
fi
WHAT="a peer stopped by SIGSTOP for $STOP_S s while a client writes on the daemon that pushes to it: every write acknowledged at its usual latency, pushes to the stopped peer dropped and counted in status, a reading peer keeps up, and after SIGCONT anti-entropy gives the stopped peer the same record set (count and set digest) within $RECOVER_S s"

if ! need_netns; then
	echo "$NAME: skipped: needs root and ip (network namespaces)"
	result true "what=$(jstr "$WHAT")" skipped=true "reason=$(jstr "needs root and ip")"
	exit 0
fi

BRNS=${RUN_ID}br
bridge_ns "$BRNS" br0 || {
	not_ok "make the bridge namespace"
	finish
}
NODES=(a b c)
for n in 1 2 3; do
	ns=${RUN_ID}n$n
	node_ns "$ns" "$BRNS" br0 "${RUN_ID}v$n" "10.77.0.$n" || {
		not_ok "make namespace $n"
		finish
	}
	ip netns exec "$ns" sysctl -q -w net.ipv4.tcp_rmem="4096 4096 4096" \
		net.ipv4.tcp_wmem="4096 4096 4096" || {
		not_ok "small TCP buffers in $ns"
		finish
	}
done
ok "namespaces ${RUN_ID}n1..n3 (TCP buffers 4 KiB) on a bridge in ${RUN_ID}br"

keygen auth m
for n in 1 2 3; do
	"$LSD" --data-dir "$T/${NODES[$((n - 1))]}" --init >"$T/node$n" || {
		not_ok "init ${NODES[$((n - 1))]}"
		finish
	}
done
A="$T/a" B="$T/b" C="$T/c"
start_ns_daemon "${RUN_ID}n2" "$B" --trust "$T/auth.key.pub" --listen tcp://10.77.0.2:7450 \
	--allow-peer "$(cat "$T/node1")" --sync-interval 1 && B_PID=$DAEMON_PID &&
	start_ns_daemon "${RUN_ID}n3" "$C" --trust "$T/auth.key.pub" --listen tcp://10.77.0.3:7450 \
		--allow-peer "$(cat "$T/node1")" --sync-interval 1 &&
	start_ns_daemon "${RUN_ID}n1" "$A" --trust "$T/auth.key.pub" --sync-interval 1 \
		--peer "$(cat "$T/node2")@tcp://10.77.0.2:7450" \
		--peer "$(cat "$T/node3")@tcp://10.77.0.3:7450" || {
	not_ok "three daemons start"
	finish
}
ok "A dials B and C"

export LODESTONE_API="ipc://$A/api.sock"
expect 0 "the authority's certificate" cert issue -k "$T/auth.key" --subject "$T/auth.key.pub" \
	--org Authority --country CN --roles authority
expect 0 "the miner's certificate" cert issue -k "$T/auth.key" --subject "$T/m.key.pub" \
	--org Mine --country CN --roles miner

# same DIR1 DIR2: both report one record count and set digest, nothing pending.
same() {
	local x y
	x=$(status_of "$1")
	y=$(status_of "$2")
	[ -n "$x" ] && [ "$x" = "$y" ] && [ "$(echo "$x" | cut -d' ' -f2)" = 0 ]
}
# wait_same DIR1 DIR2 SECONDS: polls every 100 ms; sets WAITED_MS.
wait_same() {
	local start end
	start=$(now_ms)
	end=$((start + $3 * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		if same "$1" "$2"; then
			WAITED_MS=$(($(now_ms) - start))
			return 0
		fi
		sleep 0.1
	done
	WAITED_MS=$(($(now_ms) - start))
	return 1
}

# write TAG: one lot registration on A, timed; appends the latency (ms) to
# $T/lat.TAG and the id to $T/acked.
WRITES=0
write() {
	local t0 t1
	t0=$(now_ms)
	lsc lot register -k "$T/m.key" --label "$1-$WRITES" --site Mine --country CN --category ore \
		--grams 1000 --composition Nd=30000,Dy=2000
	t1=$(now_ms)
	WRITES=$((WRITES + 1))
	if [ "$RC" -eq 0 ] && is_id "$OUT"; then
		echo $((t1 - t0)) >>"$T/lat.$1"
		echo "$OUT" >>"$T/acked"
	else
		echo "$RC $ERR" >>"$T/fail.$1"
	fi
}
: >"$T/lat.before"
: >"$T/lat.stopped"
check "B and C hold A's records before the test" wait_same "$A" "$B" 20
check "C too" wait_same "$A" "$C" 20

# Before: 30 writes, the usual latency.
for i in $(seq 30); do write before; done
wait_same "$A" "$B" 20 || not_ok "B did not follow A before the stop"

# B stops reading.
kill -STOP "$B_PID"
echo "# B stopped for $STOP_S s"
t_end=$(($(now_ms) + STOP_S * 1000))
while [ "$(now_ms)" -lt "$t_end" ]; do write stopped; done
STOPPED_ACKED=$(grep -c '' "$T/lat.stopped")
STOPPED_FAILED=$( (cat "$T/fail.stopped" 2>/dev/null || true) | grep -c '')
all_acked() { [ "$STOPPED_FAILED" -eq 0 ] && [ "$STOPPED_ACKED" -gt 0 ]; }
check "every write on A acknowledged while B was stopped ($STOPPED_ACKED, $STOPPED_FAILED failed)" \
	all_acked

P50_BEFORE=$(percentile 50 $(cat "$T/lat.before"))
P99_BEFORE=$(percentile 99 $(cat "$T/lat.before"))
P50_STOPPED=$(percentile 50 $(cat "$T/lat.stopped"))
P99_STOPPED=$(percentile 99 $(cat "$T/lat.stopped"))
MAX_STOPPED=$(percentile 100 $(cat "$T/lat.stopped"))
echo "# ack latency: before p50 $P50_BEFORE ms p99 $P99_BEFORE ms; B stopped p50 $P50_STOPPED ms p99 $P99_STOPPED ms max $MAX_STOPPED ms"
# Normal latency: the median within twice the median before (plus 20 ms
# for a busy machine), and no write held for a second.
check "ack latency while B is stopped: p50 $P50_STOPPED ms within 2 x $P50_BEFORE + 20 ms" \
	[ "$P50_STOPPED" -le $((2 * P50_BEFORE + 20)) ]
check "no write waited a second while B was stopped (max $MAX_STOPPED ms)" [ "$MAX_STOPPED" -lt 1000 ]

B_KEY=$(cat "$T/node2")
export B_KEY
DROPPED=$(LODESTONE_TIMEOUT=5s "$LS" --json status | jget '(grep { $_->{key} eq $ENV{B_KEY} } @{$j->{peers}})[0]->{dropped} // -1')
check "A counts the messages it dropped for B ($DROPPED)" [ "${DROPPED:--1}" -gt 0 ]
check "C, which reads, kept up with A while B was stopped" wait_same "$A" "$C" 5

# B reads again.
kill -CONT "$B_PID"
t0=$(now_ms)
if wait_same "$A" "$B" "$RECOVER_S"; then
	RECOVER_MS=$WAITED_MS
	ok "B holds A's record set $RECOVER_MS ms after SIGCONT"
else
	RECOVER_MS=$WAITED_MS
	not_ok "B did not catch up within $RECOVER_S s: A '$(status_of "$A")' B '$(status_of "$B")'"
fi
ACKED=$(grep -c '' "$T/acked")
b_records=$(status_of "$B" | cut -d' ' -f1)
check "B holds every acknowledged record ($ACKED lots and 2 certificates: $b_records)" \
	[ "${b_records:-0}" -eq $((ACKED + 2)) ]
check "the three daemons stop cleanly (SIGTERM, exit 0)" stop_all

echo "$NAME: $STOPPED_ACKED writes acknowledged while B was stopped (p50 $P50_STOPPED ms, before $P50_BEFORE ms), $DROPPED messages dropped for B, recovered in $RECOVER_MS ms"
PASSED=false
[ "$FAIL" -eq 0 ] && PASSED=true
result "$PASSED" "what=$(jstr "$WHAT")" stopped_s=$STOP_S \
	writes_acked_while_stopped=$STOPPED_ACKED writes_failed_while_stopped=$STOPPED_FAILED \
	ack_ms_p50_before=$P50_BEFORE ack_ms_p99_before=$P99_BEFORE \
	ack_ms_p50_stopped=$P50_STOPPED ack_ms_p99_stopped=$P99_STOPPED \
	ack_ms_max_stopped=$MAX_STOPPED dropped=$DROPPED recover_ms=$RECOVER_MS \
	recover_bound_s=$RECOVER_S records_acked=$ACKED
finish
