#!/usr/bin/env bash
# The daemon's witnessed log through the real client and daemon: records are
# logged, a checkpoint follows within the checkpoint interval, signed by the
# log key that `status` shows; `prove` gives a c2sp.org/tlog-proof of a
# record that `verify-proof` checks offline, and that fails for another
# record, another key or a tampered file. The log key is the same after a
# restart (it is derived from the node key).
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/log.sh
source "$(dirname "$0")/helpers.bash"

D="$T/node"
API="ipc://$D/api.sock"

keygen auth mine other
# A checkpoint a second (scaled: records written one client command apart
# must fall in one checkpoint, as they do at full speed).
if ! start_daemon "$D" --trust "$T/auth.key.pub" --checkpoint-interval "$TIME_SCALE"; then
	not_ok "lodestoned starts"
	finish
fi
ok "lodestoned starts"
export LODESTONE_API=$API

echo "# before any record"
expect 0 "status" --json status
check "status: an empty log, no checkpoint" \
	jtest '$j->{log_size} == 0 && $j->{log_sealed} == 0 && !defined $j->{checkpoint_size}' <<<"$OUT"
VKEY=$(jget '$j->{log_vkey}' <<<"$OUT")
WKEY=$(jget '$j->{witness_vkey}' <<<"$OUT")
ORIGIN=$(jget '$j->{log_origin}' <<<"$OUT")
check "the log vkey names the origin lodestone/<16 hex>" \
	grep -qE '^lodestone/[0-9a-f]{16}\+[0-9a-f]{8}\+' <<<"$VKEY"
check "the witness vkey is lodestone-witness/<16 hex>" \
	grep -qE '^lodestone-witness/[0-9a-f]{16}\+[0-9a-f]{8}\+' <<<"$WKEY"
check "origin is the vkey's name" test "${VKEY%%+*}" = "$ORIGIN"
expect_err 2 "no checkpoint yet" "checkpoint before any record" checkpoint

echo "# records, then a checkpoint"
expect 0 "cert issue" cert issue -k "$T/auth.key" --subject "$mine_PK" --org "Bayan Obo Mine" \
	--country CN --roles miner,exporter
CERT=$OUT
expect 0 "lot register" lot register -k "$T/mine.key" --label conc-1 --site "Bayan Obo" \
	--country CN --category concentrate --grams 7500 --composition Nd=300000,Dy=20000
LOT=$OUT
got=
for i in $(seq $((50 * TIME_SCALE))); do
	lsc --json status
	if jtest '$j->{checkpoint_size} && $j->{checkpoint_size} >= 3' <<<"$OUT"; then got=1; break; fi
	sleep 0.2
done
check "a checkpoint of the two records and a heads leaf within $((10 * TIME_SCALE)) s" test -n "$got"
check "status: log size 3, sealed at 3" jtest '$j->{log_size} == 3 && $j->{log_sealed} == 3' <<<"$OUT"
expect 0 "status (text) shows the log" status
check "status text: the log, log vkey and witness vkey lines" \
	grep -qxF -e "log            $ORIGIN" <<<"$OUT"
check "status text: the log vkey line" grep -qxF -e "log vkey       $VKEY" <<<"$OUT"
check "status text: the witness vkey line" grep -qxF -e "witness vkey   $WKEY" <<<"$OUT"
check "status text: the log size line" grep -qxF -e "log size       3 leaves, sealed at 3" <<<"$OUT"
check "status text: the checkpoint line" grep -qE '^checkpoint +3 signed ' <<<"$OUT"

expect 0 "checkpoint --log-key VKEY (the signature checks)" checkpoint --log-key "$VKEY"
check "the note is a C2SP checkpoint: origin, size 3, root" \
	test "$(sed -n 1,2p <<<"$OUT" | tr '\n' ' ')" = "$ORIGIN 3 "
check "the note carries the log's signature line" grep -qE "^— $ORIGIN " <<<"$OUT"
printf '%s\n' "$VKEY" >"$T/log.vkey"
expect 0 "checkpoint --log-key FILE" checkpoint --log-key "$T/log.vkey"
expect 0 "checkpoint --json" --json checkpoint --log-key "$VKEY"
export ORIGIN
check "checkpoint --json: origin, size, root hex and base64, one signature, verified" \
	jtest '$j->{origin} eq $ENV{ORIGIN} && $j->{size} == 3 && $j->{root} =~ /^[0-9a-f]{64}$/
		&& length($j->{root_base64}) == 44 && @{$j->{signatures}} == 1
		&& $j->{signatures}[0]{name} eq $ENV{ORIGIN} && $j->{verified}' <<<"$OUT"
# Another log's key (the witness key is of another type; a key of the same
# name and another public key gets another key id).
expect_err 1 "not the key's name|not signed" "checkpoint with the witness vkey fails" \
	checkpoint --log-key "$WKEY"
expect_err 2 "neither a verifier key" "checkpoint --log-key garbage" checkpoint --log-key nonsense

echo "# inclusion proofs"
expect 0 "prove LOT -o FILE --log-key VKEY" prove "$LOT" -o "$T/lot.proof" --log-key "$VKEY"
check "prove names the file, index and checkpoint" \
	grep -qE "lot.proof: record $LOT, index 1 of checkpoint 3, verified" <<<"$OUT"
check "the file is a c2sp.org/tlog-proof" test "$(head -n 1 "$T/lot.proof")" = "c2sp.org/tlog-proof@v1"
expect 0 "verify-proof FILE --log-key VKEY --record LOT" verify-proof "$T/lot.proof" \
	--log-key "$VKEY" --record "$LOT"
check "verify-proof says valid" grep -qE "record $LOT: in checkpoint 3 of $ORIGIN at index 1 .*valid$" <<<"$OUT"
expect 1 "verify-proof with another record fails" verify-proof "$T/lot.proof" \
	--log-key "$VKEY" --record "$CERT"
check "it says why" grep -q "does not show the record" <<<"$OUT"
expect 1 "verify-proof with the witness key fails" verify-proof "$T/lot.proof" \
	--log-key "$WKEY" --record "$LOT"
sed 's/^index 1$/index 0/' "$T/lot.proof" >"$T/moved.proof"
expect 1 "verify-proof of a proof moved to another index fails" verify-proof "$T/moved.proof" \
	--log-key "$VKEY" --record "$LOT"
expect 0 "prove CERT (by prefix), to stdout" prove "${CERT:0:12}"
printf '%s\n' "$OUT" >"$T/cert.proof"
expect 0 "its proof verifies" verify-proof "$T/cert.proof" --log-key "$VKEY" --record "$CERT"
expect 0 "prove --json" --json prove "$CERT"
export CERT
check "prove --json: record, index 0, size 3, the proof text" \
	jtest '$j->{record} eq $ENV{CERT} && $j->{index} == 0 && $j->{size} == 3
		&& $j->{proof} =~ /^c2sp.org\/tlog-proof\@v1\n/' <<<"$OUT"
expect_err 2 "no record" "prove an unknown record" prove "$(printf '%064d' 0)"
expect_err 2 "not a record id" "prove a bad id" prove xyz
expect_err 2 "--record ID is required" "verify-proof without --record" \
	verify-proof "$T/lot.proof" --log-key "$VKEY"
printf 'c2sp.org/tlog-proof@v1\nindex x\n' >"$T/bad.proof"
expect 1 "verify-proof of a malformed file fails" verify-proof "$T/bad.proof" \
	--log-key "$VKEY" --record "$LOT"

echo "# a record after the checkpoint, then the next checkpoint"
expect 0 "another lot" lot register -k "$T/mine.key" --label conc-2 --site "Bayan Obo" \
	--country CN --category concentrate --grams 10 --composition Nd=300000
LOT2=$OUT
got=
for i in $(seq $((50 * TIME_SCALE))); do
	lsc prove "$LOT2" --log-key "$VKEY"
	if [ "$RC" -eq 0 ]; then got=1; break; fi
	sleep 0.2
done
check "the new record is proven in the next checkpoint (size 5)" test -n "$got"
printf '%s\n' "$OUT" >"$T/lot2.proof"
check "its checkpoint has size 5" grep -qx 5 "$T/lot2.proof"
expect 0 "and verifies offline" verify-proof "$T/lot2.proof" --log-key "$VKEY" --record "$LOT2"
expect 0 "the first record proves against the new checkpoint" prove "$LOT" --log-key "$VKEY"

echo "# the log key survives a restart"
stop_daemon "$DAEMON_PID"
check "lodestoned stops cleanly" test $? -eq 0
if ! start_daemon "$D" --trust "$T/auth.key.pub"; then
	not_ok "lodestoned restarts"
	finish
fi
expect 0 "status after the restart" --json status
check "the same log vkey, log size 5, checkpoint 5 signed before this start" \
	jtest "\$j->{log_vkey} eq '$VKEY' && \$j->{log_size} == 5 && \$j->{checkpoint_size} == 5
		&& !defined \$j->{checkpoint_time}" <<<"$OUT"
expect 0 "the old checkpoint still checks" checkpoint --log-key "$VKEY"
finish
