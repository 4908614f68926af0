#!/usr/bin/env bash
# disk_full.sh - the data directory on a small tmpfs that fills up. Writes
# must fail with a clear error naming the full disk, the daemon must stay up
# and answer queries, nothing half-written may show (every acknowledged
# record there, the store opens after a restart), and writes must resume
# once space returns, without a restart.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/reliability/disk_full.sh [--short]
#
# Full: 5 rounds of fill and free; short: 1. Needs root (mount -t tmpfs).
# Writes build/reliability/disk_full.json.
source "$(dirname "$0")/../scenario/helpers.bash"

ROUNDS=${ROUNDS:-5}
[ "${1:-}" = "--short" ] && ROUNDS=1
RESULT="$(dirname "$0")/../../build/reliability/disk_full.json"
mkdir -p "$(dirname "$RESULT")"

DISK="$T/disk"
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=8m tmpfs "$DISK" 2>"$T/mount.err"; then
	echo "disk_full: cannot mount a tmpfs (root needed): $(cat "$T/mount.err")" >&2
	printf '{"test":"disk_full","skipped":"cannot mount a tmpfs","passed":false}\n' >"$RESULT"
	exit 2
fi
trap 'stop_daemon "$DAEMON_PID" >/dev/null 2>&1; umount -l "$DISK" 2>/dev/null; _cleanup' EXIT

D="$DISK" # the daemon's log, $D.log, is off the tmpfs
export LODESTONE_API="ipc://$D/api.sock"
ACKED="$T/acked"
: >"$ACKED"
n=0
PAD=$(head -c 150 /dev/zero | tr '\0' x) # bigger records fill the disk sooner
# register: one lot; appends its id to ACKED when the daemon acknowledged it.
# Sets RC, OUT and ERR (see run).
register() {
	n=$((n + 1))
	lsc lot register -k "$T/m.key" --label "full-$n-$PAD" --site "Mountain Pass $PAD" \
		--country US --category ore --grams 1000 --composition Nd=30000,Pr=8000
	[ $RC -eq 0 ] && echo "$OUT" >>"$ACKED"
	return 0
}

keygen auth m
if ! start_daemon "$D" --trust "$T/auth.key.pub"; then
	not_ok "lodestoned starts on the tmpfs"
	finish
fi
ok "lodestoned starts on an 8 MiB tmpfs"
expect 0 "certify the writer" cert issue -k "$T/auth.key" --subject "$T/m.key.pub" --org "Miner" \
	--country US --roles miner

refused_total=0
resumed_rounds=0
msg=
for round in $(seq "$ROUNDS"); do
	echo "# round $round: fill the disk"
	register
	check "a write before the disk is full is acknowledged" [ $RC -eq 0 ]
	# Take all the space left but what LMDB has already allocated.
	dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null
	# Later rounds leave some room, so that the disk fills in a stream
	# of acknowledged writes rather than at the first.
	[ "$round" -gt 1 ] && truncate -s "-$(((round - 1) * 64))K" "$DISK/filler"
	# LMDB reuses the pages it has freed: the first writes may still fit.
	refused=0
	for i in $(seq 400); do
		register
		if [ $RC -ne 0 ]; then
			refused=1
			msg=$ERR
			break
		fi
	done
	check "a write is refused once the disk is full" [ $refused -eq 1 ]
	check "the refusal exits 1 and names the full disk (got exit $RC: $ERR)" \
		eval '[ $RC -eq 1 ] && grep -qiE "full|space" <<<"$ERR"'
	refused_total=$((refused_total + refused))
	# An aborted commit gives its pages back: a later, smaller write may
	# fit. Each is acknowledged or refused as disk full, nothing else.
	other=0
	for i in 1 2 3; do
		register
		[ $RC -ne 0 ] && ! grep -qiE "full" <<<"$ERR" && other=$((other + 1))
	done
	check "writes while it is full: acknowledged or refused as full, the daemon up" \
		eval '[ $other -eq 0 ] && kill -0 $DAEMON_PID'
	lsc status
	check "status answers on a full disk" [ $RC -eq 0 ]
	first=$(head -n 1 "$ACKED")
	lsc show "$first"
	check "an acknowledged record reads on a full disk" [ $RC -eq 0 ]
	lsc verify "$first"
	check "verify answers on a full disk (exit $RC)" [ $RC -eq 0 ]
	echo "# round $round: space returns"
	rm -f "$DISK/filler"
	register
	check "a write succeeds once space returns, without a restart" [ $RC -eq 0 ]
	[ $RC -eq 0 ] && resumed_rounds=$((resumed_rounds + 1))
done

echo "# restart"
stop_daemon "$DAEMON_PID"
check "lodestoned stops cleanly (SIGTERM)" [ $? -eq 0 ]
if start_daemon "$D" --trust "$T/auth.key.pub"; then
	ok "the store opens after the full disk"
else
	not_ok "the store opens after the full disk"
fi
acked=$(grep -c '' "$ACKED")
missing=0
while read -r id; do
	lsc show "$id"
	[ $RC -eq 0 ] || missing=$((missing + 1))
done <"$ACKED"
check "all $acked acknowledged records are there after the restart" [ $missing -eq 0 ]
register
check "the feed goes on after the restart" [ $RC -eq 0 ]

passed=$([ "$FAIL" -eq 0 ] && echo true || echo false)
printf '{"test":"disk_full","what":"data directory on an 8 MiB tmpfs filled %d times: writes refused with a clear error, the daemon answering, every acknowledged record kept, writes resumed when space returned","rounds":%d,"records_acknowledged":%d,"writes_refused_rounds":%d,"resumed_rounds":%d,"lost":%d,"error":%s,"passed":%s}\n' \
	"$ROUNDS" "$ROUNDS" "$acked" "$refused_total" "$resumed_rounds" "$missing" \
	"$(printf '%s' "$msg" | perl -MJSON::PP -0777 -ne 'print JSON::PP->new->encode([$_])=~s/^\[|\]$//gr')" \
	"$passed" >"$RESULT"
finish
