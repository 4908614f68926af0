#!/usr/bin/env bash
# ack_durable.sh - an acknowledgement means the record is on disk. The
# daemon runs with an LD_PRELOAD shim (tests/reliability/ackshim.c) that logs
# every fdatasync/fsync with its start and end time, and can slow each one
# down or make it fail with EIO.
#
#   1. Sequential submissions, each sync slowed by 40 ms: every acknowledged
#      submission's window (request sent .. id printed) holds a sync that
#      began after the request and ended before the acknowledgement, and no
#      acknowledgement comes sooner than the delay.
#   2. Syncs failing (EIO, a disk that loses writes): no submission is
#      acknowledged; the daemon stays up; when syncs work again, writes are
#      acknowledged again and every acknowledged record is there after a
#      restart.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/reliability/ack_durable.sh [--short]
#
# Full: 200 submissions; short: 20. Writes build/reliability/ack_durable.json.
source "$(dirname "$0")/../scenario/helpers.bash"

N=200
[ "${1:-}" = "--short" ] && N=20
DELAY_MS=40
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RESULT="$ROOT/build/reliability/ack_durable.json"
mkdir -p "$(dirname "$RESULT")"
SHIM="$T/ackshim.so"
if ! cc -shared -fPIC -O2 -o "$SHIM" "$ROOT/tests/reliability/ackshim.c" -ldl 2>"$T/cc.err"; then
	echo "ack_durable: cannot build the shim: $(cat "$T/cc.err")" >&2
	exit 2
fi

D="$T/node"
export LODESTONE_API="ipc://$D/api.sock"
export ACKSHIM_LOG="$T/syncs" ACKSHIM_FAIL="$T/fail" ACKSHIM_DELAY_MS=0
mkdir -p "$D"
keygen auth m
# A sanitizer build's runtime must come first among the preloaded libraries.
PRELOAD=$SHIM
asan=$(ldd "$LSD" 2>/dev/null | awk '/libasan/ { print $3 }')
[ -n "$asan" ] && PRELOAD="$asan $SHIM"
# No checkpoints (their commits sync too) in the time of the test.
start_d() {
	LD_PRELOAD="$PRELOAD" start_daemon "$D" --trust "$T/auth.key.pub" --checkpoint-interval 3600
}
if ! start_d; then
	not_ok "lodestoned starts with the shim"
	finish
fi
ok "lodestoned starts with the sync shim"
expect 0 "certify the writer" cert issue -k "$T/auth.key" --subject "$T/m.key.pub" --org "Miner" \
	--country US --roles miner
check "the shim sees the daemon's syncs" [ -s "$T/syncs" ]

n=0
register() {
	n=$((n + 1))
	lsc lot register -k "$T/m.key" --label "ack-$n" --site "Mountain Pass" --country US \
		--category ore --grams 1000 --composition Nd=30000,Pr=8000
}

echo "# 1: $N submissions, each sync $DELAY_MS ms slower"
# The delay is read by the daemon at each call from its environment: restart
# it with the delay.
stop_daemon "$DAEMON_PID"
ACKSHIM_DELAY_MS=$DELAY_MS start_d || not_ok "lodestoned restarts with the delay"
: >"$T/windows"
: >"$T/acked"
for i in $(seq "$N"); do
	t0=$(date +%s%N)
	register
	t1=$(date +%s%N)
	if [ $RC -eq 0 ]; then
		echo "$t0 $t1" >>"$T/windows"
		echo "$OUT" >>"$T/acked"
	fi
done
acked1=$(grep -c '' "$T/acked")
check "all $N submissions acknowledged" [ "$acked1" -eq "$N" ]
# Each window must hold a sync that began after its request and ended before
# its acknowledgement.
read -r covered early min_ms < <(perl -e '
	open my $s, "<", $ARGV[0] or die; my @s = map { [split] } <$s>;
	open my $w, "<", $ARGV[1] or die; my ($c, $e, $min) = (0, 0, 1e18);
	while (<$w>) {
		my ($t0, $t1) = split;
		my $ms = ($t1 - $t0) / 1e6; $min = $ms if $ms < $min;
		$e++ if $ms < $ARGV[2];
		for (@s) { if ($_->[1] >= $t0 && $_->[2] <= $t1 && $_->[3] == 0) { $c++; last } }
	}
	printf "%d %d %.0f\n", $c, $e, $min;' "$T/syncs" "$T/windows" "$DELAY_MS")
check "every acknowledgement follows a sync begun after its request ($covered of $acked1)" \
	[ "$covered" -eq "$acked1" ]
check "no acknowledgement sooner than the sync delay (fastest $min_ms ms, $early early)" \
	[ "$early" -eq 0 ]

echo "# 2: syncs fail with EIO"
touch "$T/fail"
refused=0
for i in 1 2 3 4 5; do
	register
	if [ $RC -ne 0 ]; then refused=$((refused + 1)); else echo "$OUT" >>"$T/acked"; fi
done
check "no submission is acknowledged while syncs fail ($refused of 5 refused: $ERR)" \
	[ "$refused" -eq 5 ]
lsc status
check "the daemon answers while syncs fail" [ $RC -eq 0 ]
rm -f "$T/fail"
register
[ $RC -eq 0 ] && echo "$OUT" >>"$T/acked"
check "writes are acknowledged again when syncs work" [ $RC -eq 0 ]

echo "# restart"
stop_daemon "$DAEMON_PID"
start_d || not_ok "lodestoned restarts"
acked=$(grep -c '' "$T/acked")
missing=0
while read -r id; do
	lsc show "$id"
	[ $RC -eq 0 ] || missing=$((missing + 1))
done <"$T/acked"
check "all $acked acknowledged records are there after the restart" [ "$missing" -eq 0 ]

syncs=$(grep -c '' "$T/syncs")
passed=$([ "$FAIL" -eq 0 ] && echo true || echo false)
printf '{"test":"ack_durable","what":"every acknowledgement of a submission follows a completed fdatasync begun after the request (LD_PRELOAD shim, each sync %d ms slower); with syncs failing (EIO) nothing is acknowledged","submissions":%d,"acknowledged":%d,"acks_after_their_sync":%d,"acks_sooner_than_the_delay":%d,"fastest_ack_ms":%s,"refused_while_sync_failed":%d,"syncs":%d,"lost_after_restart":%d,"passed":%s}\n' \
	"$DELAY_MS" "$N" "$acked1" "$covered" "$early" "$min_ms" "$refused" "$syncs" "$missing" \
	"$passed" >"$RESULT"
finish
