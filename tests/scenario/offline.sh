#!/usr/bin/env bash
# Offline proofs between two nodes that never talk: a bundle made on node A
# is checked with the authority's public key alone (no daemon), imported into
# node B, which then gives the same verdicts as A; a tampered bundle is caught
# by both the offline check and the import.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/offline.sh
source "$(dirname "$0")/helpers.bash"

A="$T/node-a"
B="$T/node-b"
C="$T/node-c"
API_A="ipc://$A/api.sock"
API_B="ipc://$B/api.sock"
API_C="ipc://$C/api.sock"

keygen auth other mine sep imp
start_daemon "$A" --trust "$T/auth.key.pub" || { not_ok "node A starts"; finish; }
PID_A=$DAEMON_PID
start_daemon "$B" --trust "$T/auth.key.pub" || { not_ok "node B starts"; finish; }
PID_B=$DAEMON_PID
start_daemon "$C" --trust "$T/other.key.pub" || { not_ok "node C starts"; finish; }
PID_C=$DAEMON_PID
ok "three nodes start (A and B trust the authority, C trusts another key)"

echo "# a chain on node A"
export LODESTONE_API=$API_A
expect 0 "certify the mine" cert issue -k "$T/auth.key" --subject "$mine_PK" --org "Mount Weld" \
	--country AU --roles miner,exporter
expect 0 "certify the separator" cert issue -k "$T/auth.key" --subject "$sep_PK" --org "Lynas Kuantan" \
	--country MY --roles processor,importer,exporter
expect 0 "certify the importer" cert issue -k "$T/auth.key" --subject "$imp_PK" --org "Narva Magnets" \
	--country EE --roles importer,processor
cat >"$T/my.json" <<'EOF'
{"format": "lodestone-policy/1", "policies": [
 {"ref": "my", "jurisdiction": "MY", "name": "test: heavy rare earths from Malaysia",
  "effective_from": "2025-01-01", "controlled_elements": ["Dy", "Tb"],
  "controlled_categories": ["oxide"], "denied_end_uses": ["military"]}]}
EOF
expect 0 "publish a policy" policy publish -k "$T/auth.key" "$T/my.json"
expect 0 "register concentrate" lot register -k "$T/mine.key" --label MW-conc-9 --site "Mount Weld" \
	--country AU --category concentrate --grams 2000000 --composition Nd=150000,Pr=40000,Dy=3000
CONC=$OUT
expect 0 "ship it to Kuantan" lot transfer -k "$T/mine.key" MW-conc-9 --grams 2000000 --to "$sep_PK"
expect 0 "Kuantan receives" lot receive -k "$T/sep.key" "$OUT"
expect 0 "separate" lot transform -k "$T/sep.key" --site Kuantan --in MW-conc-9=2000000 \
	--out "KU-NdPr-oxide-1:oxide:300000:Nd=700000,Pr=180000" --out "KU-Dy-oxide-1:oxide:5000:Dy=800000"
DYOX=$(sed -n 3p <<<"$OUT")
expect 0 "license Dy oxide to Estonia" license issue -k "$T/auth.key" --number MY-2025-77 \
	--licensee "$sep_PK" --destination EE --end-use civilian --items oxide --max-grams 5000 \
	--no-reexport-to RU,BY --no-military
expect 0 "ship the Dy oxide to Narva under the license" lot transfer -k "$T/sep.key" KU-Dy-oxide-1 \
	--grams 5000 --to "$imp_PK" --license MY-2025-77
expect 0 "Narva receives" lot receive -k "$T/imp.key" "$OUT"

verdicts() { # prints "verdict code code ..." of a --json verify output on stdin
	json 'join(" ", $j->{verdict}, map { $_->{code} } @{$j->{reasons}})'
}
expect 0 "A: provenance of the Dy oxide" --json verify "$DYOX"
V_PROV=$(verdicts <<<"$OUT")
expect 1 "A: re-export to RU is denied" --json verify "$DYOX" --from "$imp_PK" --export-to RU
V_RU=$(verdicts <<<"$OUT")
check "A: the denial is the license's binding" grep -q reexport-barred <<<"$V_RU"

echo "# the bundle, offline"
expect 0 "bundle of the Dy oxide" bundle "$DYOX" -o "$T/dy.bundle"
NREC=$(sed -n 's/.*: \([0-9]*\) records.*/\1/p' <<<"$OUT")
check "bundle reports its record count ($NREC)" test -n "$NREC"
stop_daemon "$PID_A"
check "node A stops" test $? -eq 0
expect_err 4 "cannot reach lodestoned" "node A is down" verify "$DYOX"
expect 0 "verify-bundle with A down" --json verify-bundle "$T/dy.bundle" --trust "$T/auth.key.pub" \
	--lot "$DYOX"
check "offline provenance verdict = A's ($V_PROV)" test "$(verdicts <<<"$OUT")" = "$V_PROV"
expect 1 "verify-bundle: re-export to RU" --json verify-bundle "$T/dy.bundle" --trust "$T/auth.key.pub" \
	--lot "$DYOX" --from "$imp_PK" --export-to RU
check "offline export verdict = A's ($V_RU)" test "$(verdicts <<<"$OUT")" = "$V_RU"
expect 1 "verify-bundle trusting another authority: broken" verify-bundle "$T/dy.bundle" \
	--trust "$T/other.key.pub" --lot "$DYOX"

echo "# import into node B"
export LODESTONE_API=$API_B
expect_err 2 "unknown lot" "B does not know the lot yet" verify "$DYOX"
expect 0 "import into B" import "$T/dy.bundle"
check "import: all $NREC accepted" grep -qx "$NREC accepted, 0 already known, 0 pending, 0 rejected" <<<"$OUT"
expect 0 "B: provenance" --json verify "$DYOX"
check "B's provenance verdict = A's" test "$(verdicts <<<"$OUT")" = "$V_PROV"
expect 1 "B: re-export to RU" --json verify "$DYOX" --from "$imp_PK" --export-to RU
check "B's export verdict = A's" test "$(verdicts <<<"$OUT")" = "$V_RU"
expect 0 "import again" --json import "$T/dy.bundle"
check "import again: all already known" jtest "\$j->{known} == $NREC && \$j->{accepted} == 0 && \$j->{rejected} == 0" \
	<<<"$OUT"
expect 0 "B: the importer goes on (a transform on B)" lot transform -k "$T/imp.key" --site Narva \
	--in "$DYOX=5000" --out "NV-DyFe-1:alloy:6000:Dy=660000,Fe=340000"

echo "# tampering"
perl -0777 -pe 's/KU-Dy-oxide-1/KU-Dy-oxide-7/' "$T/dy.bundle" >"$T/tampered.bundle"
check "the tampered bundle differs" bash -c "! cmp -s '$T/dy.bundle' '$T/tampered.bundle'"
expect 1 "verify-bundle of a tampered bundle" --json verify-bundle "$T/tampered.bundle" \
	--trust "$T/auth.key.pub" --lot KU-NdPr-oxide-1
check "the tampered record is reported as bad-signature" \
	jtest 'grep { $_->{code} eq "bad-signature" } @{$j->{reasons}}' <<<"$OUT"
expect_err 1 "records of '.*tampered.bundle' rejected" "import of a tampered bundle into B" \
	import "$T/tampered.bundle"
check "import lists the rejection with its reason" grep -qE '^rejected [0-9a-f]{64}: bad-signature: ' <<<"$OUT"
check "import counts it" grep -qE '^0 accepted, [0-9]+ already known, [0-9]+ pending, 1 rejected$' <<<"$OUT"
head -c 100 "$T/dy.bundle" >"$T/truncated.bundle"
expect_err 2 "not a bundle file" "verify-bundle of a truncated bundle" verify-bundle "$T/truncated.bundle" \
	--trust "$T/auth.key.pub"
expect_err 2 "not a bundle file" "import of a truncated bundle" import "$T/truncated.bundle"

echo "# import into a node that trusts someone else"
export LODESTONE_API=$API_C
lsc --json import "$T/dy.bundle"
check "node C accepts none of the bundle (exit $RC)" jtest '$j->{accepted} == 0' <<<"$OUT"
check "node C's refusals are counted and explained (exit 1 when any is rejected)" jtest "
	\$j->{rejected} + \$j->{pending} == $NREC && (\$j->{rejected} > 0) == ($RC == 1) &&
	!grep { !length \$_->{message} } @{\$j->{rejections}}" <<<"$OUT"

stop_daemon "$PID_B"
check "node B stops" test $? -eq 0
stop_daemon "$PID_C"
check "node C stops" test $? -eq 0
finish
