#!/usr/bin/env bash
# The picture: `trace --format dot` through the real client and daemon.
#
# A Chinese mine (whose certificate is later revoked, back to before it
# registered anything) sells 1 t of ore to a Chinese separator, which makes
# Dy oxide and exports 15 kg to Germany under license CN-LIC-77, and 1 kg to
# the US without one (recorded as a violation). The DOT of the oxide has the
# transformation as its own node, masses in kg and t, the license and both
# countries on the export, the faults in red with their reason codes and a
# legend; a hostile label does not break it; the same ledger gives the same
# bytes; svg and png go through Graphviz's dot, and without dot on PATH they
# fail with exit 2 saying how to install it.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/trace.sh
source "$(dirname "$0")/helpers.bash"

POLICY="$(cd "$(dirname "$0")/../.." && pwd)/contrib/policies/cn-2025-rare-earths.json"
D="$T/node"
export LODESTONE_API="ipc://$D/api.sock"
# A label that would end a DOT string, escape its end, or close the graph.
EVIL='ore "A" \ } \n {'

keygen auth mine sep imp us
start_daemon "$D" --trust "$T/auth.key.pub" || { not_ok "daemon starts"; finish; }
PID=$DAEMON_PID

echo "# the chain"
expect 0 "cert: the mine (CN)" cert issue -k "$T/auth.key" --subject "$mine_PK" \
	--org 'Mine "North" \ Ltd' --country CN --roles miner,exporter
expect 0 "cert: the separator (CN)" cert issue -k "$T/auth.key" --subject "$sep_PK" \
	--org "Baotou Separation" --country CN --roles processor,exporter
expect 0 "cert: the importer (DE)" cert issue -k "$T/auth.key" --subject "$imp_PK" \
	--org "Hanau Import" --country DE --roles importer,processor
expect 0 "cert: the US buyer" cert issue -k "$T/auth.key" --subject "$us_PK" --org "US Motors" \
	--country US --roles importer
expect 0 "policy: the CN 2025 controls" policy publish -k "$T/auth.key" "$POLICY"
expect_err 2 "control character" "a label with a newline is refused before it is signed" \
	lot register -k "$T/mine.key" --label $'two\nlines' --site X --country CN --category ore \
	--grams 1 --composition Dy=2000
expect 0 "1 t of ore, with a hostile label" lot register -k "$T/mine.key" --label "$EVIL" \
	--site "Bayan Obo" --country CN --category ore --grams 1000000 --composition Dy=20000,Fe=300000
ORE=$OUT
expect 0 "the ore to the separator" lot transfer -k "$T/mine.key" "$ORE" --grams 1000000 \
	--to "$sep_PK"
expect 0 "received" lot receive -k "$T/sep.key" "$OUT"
expect 0 "the separator makes 20 kg of Dy oxide" lot transform -k "$T/sep.key" --site Baotou \
	--in "$ORE=1000000" --out "BT-Dy2O3-9:oxide:20000:Dy=870000,O=130000"
TF=$(sed -n 1p <<<"$OUT")
OX=$(sed -n 2p <<<"$OUT")
check "it prints the transformation and its output" bash -c 'is_id() { [[ $1 =~ ^[0-9a-f]{64}$ ]]; }; is_id "$1" && is_id "$2"' _ "$TF" "$OX"
expect 0 "license CN-LIC-77: Dy oxide to DE" license issue -k "$T/auth.key" --number CN-LIC-77 \
	--licensee "$sep_PK" --destination DE --end-use civilian --items oxide,dy --max-grams 20000
expect 0 "15 kg to Germany under the license" lot transfer -k "$T/sep.key" "$OX" --grams 15000 \
	--to "$imp_PK" --license CN-LIC-77 --end-use civilian
TR_DE=$OUT
expect 0 "received" lot receive -k "$T/imp.key" "$TR_DE"
expect 0 "1 kg to the US without a license (recorded as a violation)" lot transfer \
	-k "$T/sep.key" "$OX" --grams 1000 --to "$us_PK" --record-violation
TR_US=$OUT
expect 0 "the authority revokes the mine, back to yesterday" cert revoke -k "$T/auth.key" \
	--subject "$mine_PK" --reason "forged assays" --effective "$(date -u -d yesterday +%F)"
expect 1 "verify: broken" verify "$OX"

echo "# the DOT"
expect 0 "trace --format dot" trace "$OX" --format dot
DOT=$OUT
printf '%s\n' "$DOT" >"$T/ox.dot"
h() { printf '%.16s' "$1"; }
check "a digraph" grep -q '^digraph lodestone {$' <<<"$DOT"
check "the title gives the verdict and its codes" \
	grep -qE 'label="provenance of lot [0-9a-f]{16}: broken \(.*revoked.*\)"' <<<"$DOT"
check "the transformation is its own node" \
	grep -q "^  \"tf_$(h "$TF")\" \[shape=ellipse.*label=\"transformation $(printf '%.8s' "$TF")\\\\nby Baotou Separation (CN)\"" <<<"$DOT"
check "the separator's holding of the ore -> the transformation, 1 t" \
	grep -q "^  \"at_$(h "$ORE")_$(h "$sep_PK")\" -> \"tf_$(h "$TF")\" \[label=\"1 t\"\];" <<<"$DOT"
check "the transformation -> the oxide, 20 kg" \
	grep -q "^  \"tf_$(h "$TF")\" -> \"lot_$(h "$OX")\" \[label=\"20 kg\"\];" <<<"$DOT"
check "the oxide's node: label, category, mass in kg, maker" \
	grep -q "^  \"lot_$(h "$OX")\" .*label=\"BT-Dy2O3-9\\\\noxide, 20 kg\\\\nBaotou Separation (CN)" <<<"$DOT"
check "the export: both countries, the license number, 15 kg, in blue" \
	grep -q "^  \"lot_$(h "$OX")\" -> \"at_$(h "$OX")_$(h "$imp_PK")\" \[label=\"export CN -> DE\\\\nlicense CN-LIC-77\\\\n15 kg\", color=\"#1f4fbf\"" <<<"$DOT"
check "the unlicensed export: in red with its code, in transit (dashed)" \
	grep -q "\"at_$(h "$OX")_$(h "$us_PK")\" \[label=\"export CN -> US\\\\nno license\\\\n1 kg (in transit)\\\\nFAULT: no-license\", color=\"#d00000\".*style=dashed" <<<"$DOT"
check "the revoked mine's ore: in red with its code" \
	grep -q "^  \"lot_$(h "$ORE")\" .*FAULT: revoked\", fillcolor=\"[^\"]*\", color=\"#d00000\"" <<<"$DOT"
check "the domestic transfer of the ore: 1 t, by the revoked mine (red)" \
	grep -q "^  \"lot_$(h "$ORE")\" -> \"at_$(h "$ORE")_$(h "$sep_PK")\" \[label=\"transfer 1 t\\\\nFAULT: revoked\", color=\"#d00000\"" <<<"$DOT"
check "a legend" bash -c 'grep -q "subgraph cluster_legend" <<<"$1" && grep -q "label=\"legend\"" <<<"$1" &&
	grep -q "FAULT: reason code" <<<"$1"' _ "$DOT"
check "the hostile label is escaped: quotes and backslashes" \
	grep -qF 'label="ore \"A\" \\ } \\n {\nore, 1 t\nMine \"North\" \\ Ltd (CN)' <<<"$DOT"
check "one closing brace at the end" test "$(grep -c '^}$' <<<"$DOT")" = 1
check "every statement line ends as a statement" \
	bash -c '! grep -vE "^(digraph lodestone \{|\}|  .*[;{}])$" <<<"$1"' _ "$DOT"
expect 0 "the same ledger again" trace "$OX" --format dot
check "gives the same bytes" test "$OUT" = "$DOT"
expect 0 "trace --down --format dot from the ore" trace "$ORE" --down --format dot
printf '%s\n' "$OUT" >"$T/down.dot"
check "it reaches the oxide through the transformation" \
	grep -q "^  \"tf_$(h "$TF")\" -> \"lot_$(h "$OX")\"" <<<"$OUT"
expect 0 "trace --format json" trace "$OX" --format json
export TR_DE TR_US
check "json: the export's countries and license number" jtest '
	my ($x) = grep { $_->{record} eq $ENV{TR_DE} } @{$j->{transfers}};
	$x->{from_country} eq "CN" && $x->{to_country} eq "DE" && $x->{license_number} eq "CN-LIC-77"' <<<"$OUT"
expect 0 "trace (text)" trace "$OX"
check "text: the export with its license" grep -q "export CN -> DE, license CN-LIC-77" <<<"$OUT"

echo "# rendering"
NODOT="$T/nodot" # a PATH without dot (the client is run by its full path)
mkdir -p "$NODOT"
for f in svg png; do
	run env PATH="$NODOT" "$LS" trace "$OX" --format $f -o "$T/none.$f"
	check "--format $f without dot on PATH: exit 2, saying how to install it ($ERR)" \
		bash -c '[ "$1" = 2 ] && grep -q "sudo apt-get install graphviz" <<<"$2"' _ "$RC" "$ERR"
	check "no file is written" test ! -e "$T/none.$f"
done
expect_err 2 "unknown: text, json, dot, svg or png" "an unknown format" trace "$OX" --format gif
if command -v dot >/dev/null 2>&1; then
	check "dot parses the DOT (hostile label included)" \
		bash -c 'dot -Tsvg "$1" -o "$2" && grep -q "license CN&#45;LIC&#45;77" "$2"' _ "$T/ox.dot" "$T/ox.svg"
	check "the hostile label is drawn as written" grep -qF '} \n {' "$T/ox.svg"
	check "dot parses the --down DOT" \
		bash -c 'dot -Tsvg "$1" -o "$2" && grep -q "Dy2O3" "$2"' _ "$T/down.dot" "$T/down.svg"
	expect 0 "trace --format svg" trace "$OX" --format svg
	check "an SVG on stdout with the license" bash -c 'grep -q "<svg" <<<"$1" && grep -q "license CN&#45;LIC&#45;77" <<<"$1"' _ "$OUT"
	expect 0 "trace --format png -o FILE" trace "$OX" --format png -o "$T/ox.png"
	check "a PNG file" bash -c 'head -c 8 "$1" | od -An -c | grep -q "P   N   G"' _ "$T/ox.png"
else
	echo "# Graphviz is not installed: the render checks are skipped (apt-get install graphviz)"
fi

stop_daemon "$PID"

echo "# the demo's rotor graph: where the dysprosium came from, under which license it crossed"
DEMO="$(cd "$(dirname "$0")/../.." && pwd)/contrib/demo/demo.sh"
if LODESTONE_DEMO_OUT="$T/demo" timeout 120 bash "$DEMO" "$LODESTONE_BIN" >"$T/demo.log" 2>&1; then
	ok "the demo runs"
else
	not_ok "the demo runs: $(tail -n 5 "$T/demo.log")"
fi
R="$T/demo/rotors.dot"
check "the Dy path: Bayan Obo's ore, Dy oxide, Dy metal, the magnets, the rotors" bash -c '
	for l in "BO-ore-2025-117\\nore, 10 t\\nBayan Obo Rare Earth Mine (CN)" "BT-Dy2O3-12\\noxide, 20 kg" \
		"BT-Dy-metal-07\\nmetal, 17 kg" "NB-N42SH-2025-0415\\nmagnet, 1 t" \
		"HU-rotor-batch-7\\ncomponent, 1.6 t"; do
		grep -qF "label=\"$l" "$1" || { echo "no node $l"; exit 1; }; done' _ "$R"
check "one border crossed, CN -> DE, under CN-MOFCOM-2025-DE-0042, 400 kg" bash -c '
	[ "$(grep -v legend_ "$1" | grep -c "label=\"export ")" = 1 ] &&
	grep -qF "label=\"export CN -> DE\\nlicense CN-MOFCOM-2025-DE-0042\\n400 kg\"" "$1"' _ "$R"
check "no fault in the demo" bash -c '! grep -q "FAULT: [a-z]" <(grep -v legend_ "$1")' _ "$R"
if command -v dot >/dev/null 2>&1; then
	check "the demo drew it as SVG and PNG" bash -c 'grep -q "<svg" "$1/rotors.svg" &&
		head -c 8 "$1/rotors.png" | od -An -c | grep -q "P   N   G"' _ "$T/demo"
fi
finish
