#!/usr/bin/env bash
# Partitions heal: five lodestoned, each in a network namespace of its own,
# peered over CurveZMQ TCP through veth pairs to two bridges of the test's
# own namespace. Each round splits the five into two random groups (a group's
# links move to the other bridge: no packet crosses), writes records with the
# real client on every daemon of both sides, then heals (every link back on
# one bridge) with the links impaired (tc netem loss, duplication and
# reordering; on a kernel without sch_netem, a 256 kbit/s rate with a 4-packet
# queue that drops bursts) and waits until the five hold the same record set:
# the same record count and set digest (status), and every record a client
# was acknowledged. Rounds: 20 (--short: 2). At the end, the ids each daemon
# lists (log) are compared with the acknowledged ids.
#
#   bash tests/reliability/partitions.sh [--short]
#
# Writes build/reliability/partitions.json. Needs root (ip netns, tc).
source "$(dirname "$0")/net.bash"

N=5
ROUNDS=20
PART_S=4 # seconds a partition lasts at least (writes happen in it)
# Records each daemon gets per round: the majority side's pushes to the
# other side (64 messages queued per peer, TCP buffers of 4 KiB) overflow
# the queues, so that only anti-entropy can heal, not TCP retransmission.
WRITES=25
CONVERGE_S=60 # the bound: a heal that takes longer fails the round
if [ "$SHORT" -eq 1 ]; then
	ROUNDS=2
	PART_S=2
	WRITES=15
	CONVERGE_S=20
fi
WHAT="five daemons in network namespaces over CurveZMQ TCP; $ROUNDS rounds of a random two-group partition with writes on every daemon, then a heal through impaired links; after each heal all five hold the same record set (count and set digest) within $CONVERGE_S s"

if ! need_netns; then
	echo "$NAME: skipped: needs root, ip and tc (network namespaces)"
	result true "what=$(jstr "$WHAT")" skipped=true "reason=$(jstr "needs root, ip and tc")"
	exit 0
fi

BRNS=${RUN_ID}br
bridge_ns "$BRNS" br0 br1 || {
	not_ok "make the bridge namespace"
	finish
}
for i in $(seq $N); do
	node_ns "${RUN_ID}n$i" "$BRNS" br0 "${RUN_ID}v$i" "10.77.0.$i" &&
		ip netns exec "${RUN_ID}n$i" sysctl -q -w net.ipv4.tcp_rmem="4096 4096 4096" \
			net.ipv4.tcp_wmem="4096 4096 4096" || {
		not_ok "make namespace $i"
		finish
	}
done
ok "namespaces: ${RUN_ID}br and ${RUN_ID}n1..n$N (TCP buffers 4 KiB), veth pairs to br0"

# What the kernel offers: netem, or the rate-limit fallback.
NETEM=false
if tc -n "$BRNS" qdisc add dev "${RUN_ID}v1" root netem loss 1% 2>/dev/null; then
	tc -n "$BRNS" qdisc del dev "${RUN_ID}v1" root
	NETEM=true
	IMPAIR="netem loss 10%, duplicate 5%, delay 10ms, reorder 25%"
else
	IMPAIR="no sch_netem in this kernel: htb 256 kbit/s with a 4-packet pfifo (bursts dropped); no duplication or reordering"
	echo "# $IMPAIR"
fi

# impair LINK...: the impairment on both ends of each veth; clear LINK...
impair() {
	local i
	for i in "$@"; do
		for side in "-n $BRNS ${RUN_ID}v$i" "-n ${RUN_ID}n$i eth0"; do
			set -- $side
			if $NETEM; then
				tc "$1" "$2" qdisc replace dev "$3" root netem loss 10% duplicate 5% \
					delay 10ms reorder 25% 50%
			else
				tc "$1" "$2" qdisc replace dev "$3" root handle 1: htb default 1 &&
					tc "$1" "$2" class replace dev "$3" parent 1: classid 1:1 htb \
						rate 256kbit burst 4k &&
					tc "$1" "$2" qdisc replace dev "$3" parent 1:1 handle 10: pfifo limit 4
			fi
		done
	done
}
clear_impair() {
	local i
	for i in "$@"; do
		IMPAIR_DROPS=$((IMPAIR_DROPS + $(qdisc_drops "$BRNS" "${RUN_ID}v$i") +
			$(qdisc_drops "${RUN_ID}n$i" eth0)))
		tc -n "$BRNS" qdisc del dev "${RUN_ID}v$i" root 2>/dev/null
		tc -n "${RUN_ID}n$i" qdisc del dev eth0 root 2>/dev/null
	done
	return 0
}

# Keys: the authority, one miner per daemon (a key writes on one daemon
# only: the same key on two sides of a partition would fork its feed).
keygen auth
for i in $(seq $N); do
	keygen "m$i"
	"$LSD" --data-dir "$T/d$i" --init >"$T/node$i" || {
		not_ok "init d$i"
		finish
	}
done
for i in $(seq $N); do
	args=(--trust "$T/auth.key.pub" --listen "tcp://10.77.0.$i:7450" --sync-interval 1)
	for j in $(seq $N); do
		[ "$j" -ne "$i" ] && args+=(--peer "$(cat "$T/node$j")@tcp://10.77.0.$j:7450")
	done
	start_ns_daemon "${RUN_ID}n$i" "$T/d$i" "${args[@]}" || {
		not_ok "lodestoned $i starts"
		finish
	}
done
ok "five daemons started, each peered with the four others"

api() { echo "ipc://$T/d$1/api.sock"; }
ACKED="$T/acked" # the ids clients were given, one a line
: >"$ACKED"
lsc --api "$(api 1)" cert issue -k "$T/auth.key" --subject "$T/auth.key.pub" --org "Authority" \
	--country CN --roles authority && echo "$OUT" >>"$ACKED"
for i in $(seq $N); do
	lsc --api "$(api 1)" cert issue -k "$T/auth.key" --subject "$T/m$i.key.pub" --org "Mine $i" \
		--country CN --roles miner && echo "$OUT" >>"$ACKED"
done
check "the authority's and five miners' certificates stored" [ "$(grep -c '' "$ACKED")" -eq 6 ]

# converged: whether all five report the count and set digest of the
# acknowledged records, nothing pending. Sets SEEN (what each reported).
converged() {
	local i s first= want
	want=$(grep -c '' "$ACKED")
	SEEN=
	for i in $(seq $N); do
		s=$(status_of "$T/d$i")
		SEEN+="  d$i: ${s:-no answer}"$'\n'
		[ -n "$s" ] || return 1
		[ "${s%% *}" -eq "$want" ] || return 1
		set -- $s
		[ "$2" -eq 0 ] || return 1
		[ -z "$first" ] && first=$3
		[ "$3" = "$first" ] || return 1
	done
	return 0
}

# wait_converged SECONDS: polls every 100 ms; sets WAITED_MS.
wait_converged() {
	local start end
	start=$(now_ms)
	end=$((start + $1 * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		if converged; then
			WAITED_MS=$(($(now_ms) - start))
			return 0
		fi
		sleep 0.1
	done
	WAITED_MS=$(($(now_ms) - start))
	return 1
}

if wait_converged 30; then
	ok "the certificates reached all five in $WAITED_MS ms"
else
	not_ok "the certificates did not reach all five within 30 s:"$'\n'"$SEEN"
	finish
fi

RANDOM=$(($$ % 32768))
CONVERGE_MS=()
IMPAIR_DROPS=0 # packets the impaired links dropped (tc -s)
CONVERGED=0
WRITTEN=0
WRITE_FAIL=0
for round in $(seq $ROUNDS); do
	# Two groups: a random order, split after 1 or 2 daemons.
	order=($(seq $N | shuf --random-source=<(yes "$round$$")))
	k=$((1 + RANDOM % 2))
	minority=("${order[@]:0:$k}")
	for i in "${minority[@]}"; do
		ip -n "$BRNS" link set "${RUN_ID}v$i" master br1
	done
	echo "# round $round: {${minority[*]}} | {${order[*]:$k}} for ${PART_S} s"
	t_end=$(($(now_ms) + PART_S * 1000))
	w=0
	while [ $w -lt "$WRITES" ]; do
		w=$((w + 1))
		for i in $(seq $N); do
			lsc --api "$(api "$i")" lot register -k "$T/m$i.key" --label "r$round-d$i-$w" \
				--site "Mine $i" --country CN --category ore --grams 1000 \
				--composition Nd=30000,Dy=2000
			if [ "$RC" -eq 0 ] && is_id "$OUT"; then
				echo "$OUT" >>"$ACKED"
				WRITTEN=$((WRITTEN + 1))
			else
				WRITE_FAIL=$((WRITE_FAIL + 1))
				echo "  write on d$i failed: exit $RC: $ERR"
			fi
		done
	done
	while [ "$(now_ms)" -lt "$t_end" ]; do sleep 0.1; done
	# The sides differ: the minority lacks the majority's new records.
	a=$(status_of "$T/d${minority[0]}")
	b=$(status_of "$T/d${order[$k]}")
	if [ -n "$a" ] && [ -n "$b" ] && [ "${a#* * }" != "${b#* * }" ]; then
		ok "round $round: the two sides hold different sets while split"
	else
		not_ok "round $round: the sides do not differ while split: '$a' / '$b'"
	fi
	# Heal through impaired links.
	impair $(seq $N)
	for i in "${minority[@]}"; do
		ip -n "$BRNS" link set "${RUN_ID}v$i" master br0
	done
	if wait_converged "$CONVERGE_S"; then
		CONVERGED=$((CONVERGED + 1))
		CONVERGE_MS+=("$WAITED_MS")
		ok "round $round: all five hold the same set $WAITED_MS ms after the heal"
	else
		not_ok "round $round: not converged within $CONVERGE_S s of the heal:"$'\n'"$SEEN"
	fi
	clear_impair $(seq $N)
done

# Every acknowledged id on every daemon, and nothing else.
sort -u "$ACKED" >"$T/acked.sorted"
for i in $(seq $N); do
	LODESTONE_TIMEOUT=10s "$LS" --api "$(api "$i")" --json log 2>/dev/null |
		perl -MJSON::PP -ne 'print JSON::PP->new->decode($_)->{id}, "\n" if /\S/' |
		sort >"$T/ids$i"
	check "d$i lists exactly the $(grep -c '' "$T/acked.sorted") acknowledged records" \
		cmp -s "$T/acked.sorted" "$T/ids$i"
done
check "no write failed on either side of a partition ($WRITE_FAIL failures)" [ "$WRITE_FAIL" -eq 0 ]
# The pushes the daemons could not queue during the partitions: what
# anti-entropy had to make up for.
PUSH_DROPS=0
for i in $(seq $N); do
	d=$(LODESTONE_TIMEOUT=5s "$LS" --api "$(api "$i")" --json status 2>/dev/null |
		jget 'my $n = 0; $n += $_->{dropped} for @{$j->{peers}}; $n')
	PUSH_DROPS=$((PUSH_DROPS + ${d:-0}))
done
check "messages dropped for unreachable peers during the partitions ($PUSH_DROPS): anti-entropy healed" \
	[ "$PUSH_DROPS" -gt 0 ]
check "the impaired links dropped packets during the heals ($IMPAIR_DROPS)" [ "$IMPAIR_DROPS" -gt 0 ]
check "the five daemons stop cleanly (SIGTERM, exit 0)" stop_all

P50=$(percentile 50 "${CONVERGE_MS[@]}")
MAX=$(percentile 100 "${CONVERGE_MS[@]}")
echo "$NAME: $CONVERGED/$ROUNDS rounds converged; time to converge p50 $P50 ms, max $MAX ms; $WRITTEN records written"
PASSED=false
[ "$FAIL" -eq 0 ] && PASSED=true
result "$PASSED" "what=$(jstr "$WHAT")" "impairment=$(jstr "$IMPAIR")" "netem=$NETEM" \
	daemons=$N rounds=$ROUNDS rounds_converged=$CONVERGED converge_ms_p50=$P50 \
	converge_ms_max=$MAX converge_bound_s=$CONVERGE_S records_written=$WRITTEN \
	write_failures=$WRITE_FAIL \
	impairment_drops=$IMPAIR_DROPS messages_dropped=$PUSH_DROPS "partition=$(jstr "a group's links moved to a second bridge")"
finish
