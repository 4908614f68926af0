#!/usr/bin/env bash
# Every command of the client against a real daemon: what it prints, every
# exit code of CLI.md (0 1 2 3 4), and a clear one-line error for bad input
# (unknown lot, bad flag, malformed composition, unreadable key, wrong
# passphrase, daemon down).
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/cli.sh
source "$(dirname "$0")/helpers.bash"

POLICY="$(cd "$(dirname "$0")/../.." && pwd)/contrib/policies/cn-2025-rare-earths.json"
D="$T/node"
API="ipc://$D/api.sock"

echo "# keys"
keygen auth mine sep mag imp us nobody
expect 0 "keygen prints the public key" keygen -o "$T/k1.key" --no-passphrase
check "keygen output is 64 hex digits" is_id "$OUT"
check "secret key file has mode 0600" test "$(stat -c %a "$T/k1.key")" = 600
check "public key file exists" test -f "$T/k1.key.pub"
K1=$OUT
expect 0 "pubkey of the secret key file" pubkey "$T/k1.key"
check "pubkey FILE matches keygen" test "$OUT" = "$K1"
expect 0 "pubkey of FILE.pub" pubkey "$T/k1.key.pub"
check "pubkey FILE.pub matches keygen" test "$OUT" = "$K1"
expect 0 "pubkey --json" --json pubkey "$T/k1.key"
check "pubkey --json holds the key" test "$(jget '$j->{public_key}' <<<"$OUT")" = "$K1"
expect_err 2 "exists" "keygen refuses to overwrite a key" keygen -o "$T/k1.key" --no-passphrase
expect_err 2 "-o FILE" "keygen without -o" keygen --no-passphrase
expect_err 2 "no passphrase" "keygen with no passphrase source" keygen -o "$T/k2.key"
printf '\n' >"$T/empty.pass"
expect_err 2 "empty passphrase" "keygen refuses an empty passphrase" keygen -o "$T/k2.key" \
	--passphrase-file "$T/empty.pass"
printf 'correct horse\n' >"$T/good.pass"
printf 'wrong horse\n' >"$T/bad.pass"
expect 0 "keygen with --passphrase-file (encrypted)" keygen -o "$T/enc.key" --passphrase-file "$T/good.pass"
ENC_PK=$OUT
expect 0 "keygen --authority (Argon2id moderate)" keygen -o "$T/auth-strong.key" --authority \
	--passphrase-file "$T/good.pass"
check "  its file asks 3 passes over 256 MiB" test "$(od -An -tx1 -j37 -N16 "$T/auth-strong.key" |
	tr -d ' \n')" = "00000000000000030000000010000000"
expect_err 2 "--cost 'extreme': interactive, moderate or sensitive" "keygen with an unknown --cost" \
	keygen -o "$T/k3.key" --cost extreme --passphrase-file "$T/good.pass"
expect_err 2 "not with --no-passphrase" "keygen --authority --no-passphrase" \
	keygen -o "$T/k3.key" --authority --no-passphrase
expect_err 2 "no-such" "pubkey of a missing file" pubkey "$T/no-such.key"
printf 'not a key\n' >"$T/garbage.key"
expect_err 2 "garbage.key" "pubkey of a file that is not a key" pubkey "$T/garbage.key"
expect_err 2 "unknown option '--bogus'" "keygen with an unknown flag" keygen --bogus

echo "# global options and usage"
expect 0 "--help" --help
check "--help lists the commands" grep -q "lot register" <<<"$OUT"
for cmd in bundle "cert issue" "cert revoke" checkpoint import keygen "license issue" log \
	"lot receive" "lot register" "lot transfer" "lot transform" origin "policy publish" prove \
	pubkey show status "tech transfer" trace verify verify-bundle verify-proof; do
	# shellcheck disable=SC2086
	lsc $cmd --help
	if [ "$RC" -eq 0 ] && [[ $OUT == "usage: lodestone $cmd"* ]]; then ok "$cmd --help"; else
		not_ok "$cmd --help: exit $RC: $OUT"; fi
done
expect 0 "help lot register" help lot register
expect_err 2 "unknown command 'frobnicate'" "unknown command" frobnicate
expect_err 2 "which one" "a group without its subcommand" lot
expect_err 2 "unknown subcommand 'sell'" "an unknown subcommand" lot sell
expect_err 2 "unknown option '--bogus'" "an unknown global option" --bogus status
expect_err 2 "needs a value" "a global option without its value" --api
expect_err 2 "not an ipc:// or tcp:// endpoint" "a bad --api endpoint" --api http://x status
lsc
check "no command: exit 2 and usage on stderr" test "$RC" -eq 2 -a -n "$ERR"

echo "# daemon down (exit 4)"
expect_err 4 "cannot reach lodestoned at ipc://$T/home/.lodestone/api.sock" \
	"the default endpoint follows \$HOME" status
expect_err 4 "cannot reach lodestoned at $API" "status, daemon down" --api "$API" status
expect_err 4 "cannot reach lodestoned" "lot register, daemon down" --api "$API" lot register \
	-k "$T/mine.key" --label a --site s --country CN --category ore --grams 1 --composition Nd=1
expect_err 4 "cannot reach lodestoned" "verify, daemon down" --api "$API" verify abcdef12
LODESTONE_TIMEOUT=500ms expect_err 4 "cannot reach lodestoned at tcp://127.0.0.1:9" \
	"a tcp endpoint with nobody listening" --api tcp://127.0.0.1:9 status
expect_err 2 "no-such.key" "a missing key is reported before the daemon" --api "$API" \
	lot register -k "$T/no-such.key" --label a --site s --country CN --category ore \
	--grams 1 --composition Nd=1

echo "# lodestoned options (usage errors exit 2 with one line naming the option)"
# daemon_err WANT PATTERN DESC ARGS...: lodestoned ARGS exits WANT, stderr matches.
daemon_err() {
	local want=$1 pat=$2 desc=$3
	shift 3
	run "$LSD" --data-dir "$T/optcheck" "$@"
	if [ "$RC" -eq "$want" ] && grep -qE -- "$pat" <<<"$ERR"; then ok "$desc (exit $RC)"; else
		not_ok "$desc: exit $RC, wanted $want; stderr: $ERR"; fi
}

daemon_err 2 "sync-interval.*'0' is not a number of seconds" "--sync-interval 0" --sync-interval 0
daemon_err 2 "sync-interval.*'x5'" "--sync-interval x5" --sync-interval x5
daemon_err 2 "checkpoint-interval.*'0' is not a number of seconds" "--checkpoint-interval 0" \
	--checkpoint-interval 0
daemon_err 2 "checkpoint-interval.*'3601'" "--checkpoint-interval 3601" --checkpoint-interval 3601
daemon_err 2 "witness.*'nokey'" "--witness that is no vkey" --witness nokey
daemon_err 2 "is not a witness key \\(type 0x04" "--witness with a log key (type 0x01)" \
	--witness "lodestone/0000000000000000+bdd19fe0+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
daemon_err 2 "witness-quorum.*'0' is not a number of witnesses" "--witness-quorum 0" \
	--witness-quorum 0
daemon_err 2 "witness-grace.*'-1'" "--witness-grace -1" --witness-grace -1
daemon_err 2 "'nothex@tcp://127.0.0.1:1' is not HEX@ENDPOINT" "--peer without a key" \
	--peer nothex@tcp://127.0.0.1:1
daemon_err 2 "is not an endpoint" "--peer with a bad endpoint" --peer "$K1@http://x"
daemon_err 2 "is not an endpoint" "--listen with a bad endpoint" --listen udp://x:1
daemon_err 2 "unknown option '--gossip'" "an unknown daemon option" --gossip
daemon_err 2 "needs a value" "--allow-peer without its value" --allow-peer

echo "# start lodestoned"
if ! start_daemon "$D" --trust "$T/auth.key.pub"; then
	not_ok "lodestoned starts"
	finish
fi
ok "lodestoned starts"
export LODESTONE_API=$API
expect 0 "status" status
check "status counts 0 records" grep -qE '^records +0$' <<<"$OUT"
expect 0 "status --json" status --json
check "status --json has records, peers, equivocations" \
	jtest '$j->{records} == 0 && ref $j->{peers} eq "ARRAY" && exists $j->{equivocations}' <<<"$OUT"
expect 0 "--api after the command" status --api "$API"
expect 0 "--json after the command" status --json
check "--json after the command is JSON" jtest 'exists $j->{records}' <<<"$OUT"

echo "# cert issue / revoke"
expect 0 "cert issue (miner)" cert issue -k "$T/auth.key" --subject "$mine_PK" --org "Bayan Obo Mine" \
	--country CN --roles miner,exporter
check "cert issue prints the record id" is_id "$OUT"
CERT_MINE=$OUT
expect 0 "cert issue with a .pub file, lower-case country" cert issue -k "$T/auth.key" \
	--subject "$T/sep.key.pub" --org "Baotou Separation" --country cn --roles processor,exporter
expect 0 "cert issue --json" --json cert issue -k "$T/auth.key" --subject "$mag_PK" \
	--org "Ningbo Magnets" --country CN --roles processor,exporter --valid-from 2025-01-01 \
	--valid-until 2035-01-01
check "cert issue --json has id and lots" jtest 'length($j->{id}) == 64 && @{$j->{lots}} == 0' <<<"$OUT"
expect 0 "cert issue (importer)" cert issue -k "$T/auth.key" --subject "$imp_PK" --org "Hanau Import" \
	--country DE --roles importer,processor,exporter
expect 0 "cert issue (US end user)" cert issue -k "$T/auth.key" --subject "$us_PK" --org "US Defence" \
	--country US --roles importer
expect 0 "cert issue (encrypted key's owner)" cert issue -k "$T/auth.key" --subject "$ENC_PK" \
	--org "Encrypted Miner" --country AU --roles miner
expect_err 2 "--org is required" "cert issue without --org" cert issue -k "$T/auth.key" \
	--subject "$mine_PK" --country CN --roles miner
expect_err 2 "unknown role 'digger'" "cert issue with a bad role" cert issue -k "$T/auth.key" \
	--subject "$mine_PK" --org X --country CN --roles digger
expect_err 2 "--country 'China'" "cert issue with a bad country" cert issue -k "$T/auth.key" \
	--subject "$mine_PK" --org X --country China --roles miner
expect_err 2 "--subject.*'cafe'" "cert issue with a bad subject" cert issue -k "$T/auth.key" \
	--subject cafe --org X --country CN --roles miner
expect_err 2 "--valid-from '2025-13-45'" "cert issue with a bad date" cert issue -k "$T/auth.key" \
	--subject "$mine_PK" --org X --country CN --roles miner --valid-from 2025-13-45
expect_err 2 "--valid-until is in the past" "cert issue ending in the past" cert issue \
	-k "$T/auth.key" --subject "$mine_PK" --org X --country CN --roles miner --valid-until 2020-01-01
expect_err 2 "no signing key" "cert issue without -k" cert issue --subject "$mine_PK" --org X \
	--country CN --roles miner
expect_err 2 "no-such.key" "cert issue with a missing key file" cert issue -k "$T/no-such.key" \
	--subject "$mine_PK" --org X --country CN --roles miner
expect_err 2 "garbage.key" "cert issue with a file that is not a key" cert issue \
	-k "$T/garbage.key" --subject "$mine_PK" --org X --country CN --roles miner
expect_err 2 "cannot read key file '$T/home'" "cert issue with a directory as the key file" cert issue \
	-k "$T/home" --subject "$mine_PK" --org X --country CN --roles miner
chmod 000 "$T/k1.key"
if [ "$(id -u)" -ne 0 ]; then
	expect_err 2 "k1.key" "cert issue with an unreadable key file" cert issue -k "$T/k1.key" \
		--subject "$mine_PK" --org X --country CN --roles miner
fi
chmod 600 "$T/k1.key"
expect_err 2 "k1.key.pub" "cert issue signing with a public key file" cert issue \
	-k "$T/k1.key.pub" --subject "$mine_PK" --org X --country CN --roles miner
expect_err 1 "rejected: wrong-role" "cert issue by a miner is rejected" cert issue -k "$T/mine.key" \
	--subject "$nobody_PK" --org X --country CN --roles miner
expect_err 1 "rejected: (no-certificate|untrusted)" "cert issue by a stranger is rejected" cert issue \
	-k "$T/nobody.key" --subject "$nobody_PK" --org X --country CN --roles authority

echo "# passphrases"
REG=(lot register --label enc-ore --site "Mount Weld" --country AU --category ore --grams 1000
	--composition Nd=30000,Dy=1000)
expect_err 2 "no passphrase" "an encrypted key with no passphrase source" "${REG[@]}" -k "$T/enc.key"
expect_err 2 "wrong passphrase for key file '$T/enc.key'" "a wrong --passphrase-file" "${REG[@]}" \
	-k "$T/enc.key" --passphrase-file "$T/bad.pass"
LODESTONE_PASSPHRASE='wrong horse' expect_err 2 "wrong passphrase" "a wrong \$LODESTONE_PASSPHRASE" \
	"${REG[@]}" -k "$T/enc.key"
expect_err 2 "cannot open passphrase file" "a missing --passphrase-file" "${REG[@]}" -k "$T/enc.key" \
	--passphrase-file "$T/no-such.pass"
expect 0 "the right --passphrase-file" "${REG[@]}" -k "$T/enc.key" --passphrase-file "$T/good.pass"
LODESTONE_PASSPHRASE='correct horse' expect 0 "the right \$LODESTONE_PASSPHRASE" lot register \
	-k "$T/enc.key" --label enc-ore-2 --site "Mount Weld" --country AU --category ore --grams 10 \
	--composition Nd=30000

echo "# policy publish"
expect 0 "policy publish of the CN 2025 file" policy publish -k "$T/auth.key" "$POLICY"
check "policy publish prints three ids" test "$(grep -cE '^[0-9a-f]{64}$' <<<"$OUT")" -eq 3
cat >"$T/p-syntax.json" <<'EOF'
{"policies": [ {"jurisdiction": "CN", } ]}
EOF
expect_err 2 "p-syntax.json:1:" "policy publish of broken JSON names the line" policy publish \
	-k "$T/auth.key" "$T/p-syntax.json"
cat >"$T/p-key.json" <<'EOF'
{"jurisdiction": "CN", "name": "x", "effective_from": "2025-01-01", "elemnts": ["Dy"]}
EOF
expect_err 2 "policies\[0\]\.elemnts: unknown key" "policy publish of an unknown key" policy publish \
	-k "$T/auth.key" "$T/p-key.json"
cat >"$T/p-el.json" <<'EOF'
{"jurisdiction": "CN", "name": "x", "effective_from": "2025-01-01", "controlled_elements": ["Dy", "Xx"]}
EOF
expect_err 2 "controlled_elements: entry 1 is not an element" "policy publish of a bad element" \
	policy publish -k "$T/auth.key" "$T/p-el.json"
cat >"$T/p-ref.json" <<'EOF'
{"jurisdiction": "CN", "name": "x", "effective_from": "2025-01-01",
 "suspends": [{"policy": "nothing", "from": "2025-01-01", "until": "2026-01-01"}]}
EOF
expect_err 2 "'nothing' is neither" "policy publish of a dangling ref" policy publish \
	-k "$T/auth.key" "$T/p-ref.json"
expect_err 2 "cannot read '$T/no-such.json'" "policy publish of a missing file" policy publish \
	-k "$T/auth.key" "$T/no-such.json"
cat >"$T/p-ok.json" <<'EOF'
{"jurisdiction": "US", "name": "test", "effective_from": "2025-01-01", "controlled_elements": ["Sm"]}
EOF
expect_err 1 "rejected: wrong-role" "policy publish by a miner is rejected" policy publish \
	-k "$T/mine.key" "$T/p-ok.json"

echo "# lot register"
expect 0 "lot register" lot register -k "$T/mine.key" --label ore-1 --site "Bayan Obo" --country CN \
	--category ore --grams 10000000 --composition Nd=30000,Pr=8000,Dy=2000,Fe=300000
check "lot register prints one id" is_id "$OUT"
ORE=$OUT
expect 0 "lot register --json" --json lot register -k "$T/mine.key" --label ore-2 --site "Bayan Obo" \
	--country CN --category ore --grams 5000 --composition Nd=30000
check "lot register --json: the lot id is the record id" \
	jtest '$j->{id} eq $j->{lots}[0] && @{$j->{lots}} == 1' <<<"$OUT"
R=(lot register -k "$T/mine.key" --label x --site s --country CN --category ore --grams 10)
expect_err 2 "malformed composition 'Nd=abc'" "composition with a non-number" "${R[@]}" --composition Nd=abc
expect_err 2 "unknown element 'Xx'" "composition with an unknown element" "${R[@]}" --composition Xx=5
expect_err 2 "1\.\.1000000" "composition with ppm over 10^6" "${R[@]}" --composition Nd=2000000
expect_err 2 "over 1000000" "composition summing over 10^6" "${R[@]}" --composition Nd=600000,Fe=600000
expect_err 2 "expected EL=PPM" "composition without ppm" "${R[@]}" --composition Nd
expect_err 2 "listed twice" "composition listing an element twice" "${R[@]}" --composition Nd=5,nd=6
expect_err 2 "--composition is required" "lot register without --composition" "${R[@]}"
expect_err 2 "--grams '0'" "lot register of 0 g" lot register -k "$T/mine.key" --label x --site s \
	--country CN --category ore --grams 0 --composition Nd=1
expect_err 2 "--grams '-5' is not a whole number" "lot register of negative grams" lot register \
	-k "$T/mine.key" --label x --site s --country CN --category ore --grams -5 --composition Nd=1
expect_err 2 "--category 'rock' unknown" "lot register of a bad category" lot register \
	-k "$T/mine.key" --label x --site s --country CN --category rock --grams 5 --composition Nd=1
expect_err 2 "unknown option '--weight'" "lot register with a bad flag" "${R[@]}" --weight 5
expect_err 1 "rejected: wrong-role" "lot register by a processor is rejected" lot register \
	-k "$T/sep.key" --label x --site s --country CN --category ore --grams 5 --composition Nd=1
expect_err 1 "rejected: no-certificate" "lot register by an uncertified key is rejected" lot register \
	-k "$T/nobody.key" --label x --site s --country CN --category ore --grams 5 --composition Nd=1

pids=()
for i in 1 2 3 4 5 6; do
	"$LS" lot register -k "$T/mine.key" --label "parallel-$i" --site s --country CN --category ore \
		--grams 5 --composition Nd=1 >"$T/par-$i.out" 2>&1 &
	pids+=($!)
done
par_ok=true
for p in "${pids[@]}"; do wait "$p" || par_ok=false; done
check "six parallel writes with one key all succeed" $par_ok
lsc --json status
check "... without an equivocation" jtest '$j->{equivocations} == 0' <<<"$OUT"

echo "# lot transfer / receive"
expect 0 "lot transfer (domestic)" lot transfer -k "$T/mine.key" "$ORE" --grams 10000000 --to "$sep_PK"
TR1=$OUT
check "lot transfer prints the record id" is_id "$TR1"
expect 0 "lot receive" lot receive -k "$T/sep.key" "$TR1"
expect_err 1 "rejected: bad-receipt" "receiving twice is rejected" lot receive -k "$T/sep.key" "$TR1"
expect_err 2 "addressed to $sep_PK" "receiving someone else's transfer" lot receive -k "$T/imp.key" "$TR1"
expect_err 2 "unknown record 'feedfacefeedface'" "receiving an unknown transfer" lot receive \
	-k "$T/sep.key" feedfacefeedface
expect_err 2 "is a lot, not a transfer" "receiving a record that is not a transfer" lot receive \
	-k "$T/sep.key" "$ORE"
expect_err 2 "unknown lot 'no-such-lot'" "transfer of an unknown lot" lot transfer -k "$T/mine.key" \
	no-such-lot --grams 5 --to "$sep_PK"
expect_err 2 "has no valid certificate" "transfer to an uncertified key" lot transfer -k "$T/mine.key" \
	ore-2 --grams 5 --to "$nobody_PK"
expect_err 2 "unknown license 'NO-SUCH-1'" "transfer citing an unknown license" lot transfer \
	-k "$T/mine.key" ore-2 --grams 5 --to "$sep_PK" --license NO-SUCH-1
expect_err 1 "rejected: (overspend|not-holder)" "transfer of more than is held is rejected" \
	lot transfer -k "$T/mine.key" ore-2 --grams 999999 --to "$sep_PK"
expect_err 2 "--grams is required" "transfer without --grams" lot transfer -k "$T/mine.key" ore-2 \
	--to "$sep_PK"
expect_err 2 "which lot" "transfer without a lot" lot transfer -k "$T/mine.key" --grams 5 --to "$sep_PK"

echo "# lot transform"
expect 0 "lot transform (separation)" lot transform -k "$T/sep.key" --site Baotou --in "$ORE=10000000" \
	--out "NdPr-oxide:oxide:400000:Nd=600000,Pr=160000" --out "Dy-oxide:oxide:20000:Dy=870000"
check "lot transform prints the record and two lots" test "$(grep -cE '^[0-9a-f]{64}$' <<<"$OUT")" -eq 3
OX=$(sed -n 2p <<<"$OUT")
DYOX=$(sed -n 3p <<<"$OUT")
expect 0 "lot transform --json by labels" --json lot transform -k "$T/sep.key" \
	--in "NdPr-oxide=400000" --in "Dy-oxide=20000" \
	--out "magnet-alloy:alloy:300000:Nd=700000,Pr=200000,Dy=50000"
check "lot transform --json has lots" jtest '@{$j->{lots}} == 1' <<<"$OUT"
ALLOY=$(jget '$j->{lots}[0]' <<<"$OUT")
export ALLOY
expect_err 2 "unknown lot 'no-such-lot'" "transform of an unknown lot" lot transform -k "$T/sep.key" \
	--in no-such-lot=5 --out "x:oxide:5:Dy=1"
expect_err 2 "expected LABEL:CAT:GRAMS" "transform with a malformed --out" lot transform \
	-k "$T/sep.key" --in "$ALLOY=5" --out "x:oxide"
expect_err 2 "--out composition: malformed composition" "transform with a malformed output composition" \
	lot transform -k "$T/sep.key" --in "$ALLOY=5" --out "x:oxide:5:Dy"
expect_err 2 "expected LOT=GRAMS" "transform with a malformed --in" lot transform -k "$T/sep.key" \
	--in "$ALLOY" --out "x:oxide:5:Dy=1"
expect_err 2 "--in is required" "transform without --in" lot transform -k "$T/sep.key" --out "x:oxide:5:Dy=1"
expect_err 1 "rejected: mass-balance" "transform putting out more Dy than went in is rejected" \
	lot transform -k "$T/sep.key" --in "$ALLOY=1000" --out "x:metal:1000:Dy=100000"
expect_err 1 "of 2 elements: Pr 200.5 g out but 200 g in; Dy 100 g out but 50 g in" \
	"a mass-balance rejection names every element out of balance, in grams as given" \
	lot transform -k "$T/sep.key" --in "$ALLOY=1000" --out "x:metal:1000:Dy=100000,Pr=200500"
expect_err 1 "rejected: overspend" "transform consuming more than held is rejected" lot transform \
	-k "$T/sep.key" --in "$ALLOY=400000" --out "x:metal:1:Dy=1"

echo "# license issue"
expect 0 "license issue" license issue -k "$T/auth.key" --number CN-2025-0001 --licensee "$sep_PK" \
	--destination DE,FR --end-use civilian --items alloy,dy --max-grams 200000 --no-reexport-to US \
	--no-military --valid-until 2035-01-01
LIC=$OUT
expect_err 1 "license number 'CN-2025-0001' is already used by your license ${LIC:0:16}" \
	"a second license of one authority under one number is refused, naming the first" \
	license issue -k "$T/auth.key" --number CN-2025-0001 --licensee "$sep_PK" \
	--destination JP --end-use civilian --items alloy --max-grams 1
expect 0 "license issue --general" license issue -k "$T/auth.key" --number CN-GEN-7 --licensee "$sep_PK" \
	--destination JP --end-use civilian --items tech:separation --max-grams 1 --general
expect_err 2 "--max-grams is required" "license issue without --max-grams" license issue -k "$T/auth.key" \
	--number X --licensee "$sep_PK" --destination DE --end-use civilian --items dy
expect_err 2 "unknown item 'unobtainium'" "license issue with a bad item" license issue -k "$T/auth.key" \
	--number X --licensee "$sep_PK" --destination DE --end-use civilian --items unobtainium --max-grams 1
expect_err 2 "--destination 'Deutschland'" "license issue with a bad destination" license issue \
	-k "$T/auth.key" --number X --licensee "$sep_PK" --destination Deutschland --end-use civilian \
	--items dy --max-grams 1
expect_err 1 "rejected: wrong-role" "license issue by a processor is rejected" license issue \
	-k "$T/sep.key" --number X --licensee "$sep_PK" --destination DE --end-use civilian --items dy \
	--max-grams 1

echo "# verify: every verdict and its exit code"
expect 0 "verify: provenance valid" verify "$ALLOY"
check "verify prints 'valid'" test "$(head -n1 <<<"$OUT")" = valid
expect 0 "verify --json" verify "$ALLOY" --json
check "verify --json shape" jtest '$j->{verdict} eq "valid" && ref $j->{reasons} eq "ARRAY"' <<<"$OUT"
expect 3 "verify: export to JP needs a license" verify "$ALLOY" --export-to JP
check "verify prints 'license-required'" test "$(head -n1 <<<"$OUT")" = license-required
expect 0 "verify: export to DE under the license is allowed" verify "$ALLOY" --export-to DE --end-use civilian
check "verify names the license" grep -q "CN-2025-0001" <<<"$OUT"
expect 1 "verify: military end use is denied" --json verify "$ALLOY" --export-to DE --end-use military
check "verify --json: denied, reason end-use-denied with record ids" \
	jtest '$j->{verdict} eq "denied" &&
		grep { $_->{code} eq "end-use-denied" && @{$_->{records}} > 0 } @{$j->{reasons}}' <<<"$OUT"
expect 0 "verify by label" verify magnet-alloy
expect 0 "show takes a lot label" show magnet-alloy
check "  and shows the transformation that made it" grep -q "^lot $ALLOY is an output of this record" <<<"$OUT"
check "  with the author's organisation next to its key" grep -qE "^author +[0-9a-f]{64}  Baotou Separation \(CN\)$" <<<"$OUT"
check "  and each input lot's label next to its id" grep -qE "^input +[0-9a-f]{64} [0-9]+ g  '[^']+'$" <<<"$OUT"
expect 0 "show takes a lot id prefix" --json show "${ALLOY:0:12}"
check "  --json names the lot it made" jtest '$j->{made_lot} eq $ENV{ALLOY} && $j->{type} eq "transformation"' <<<"$OUT"
expect 0 "verify by id prefix" verify "${ALLOY:0:12}"
expect_err 2 "unknown lot 'no-such-lot'" "verify of an unknown lot" verify no-such-lot
expect_err 2 "unknown lot 'deadbeefdeadbeef'" "verify of an unknown id prefix" verify deadbeefdeadbeef
expect_err 2 "--export-to 'DEU'" "verify with a bad country" verify "$ALLOY" --export-to DEU
expect_err 2 "need --export-to" "verify --end-use without --export-to" verify "$ALLOY" --end-use military
expect_err 2 "unknown option '--to'" "verify with a bad flag" verify "$ALLOY" --to DE
lsc lot register -k "$T/mine.key" --label dup --site s --country CN --category ore --grams 5 --composition Nd=1
DUP1=$OUT
expect_err 1 "label 'dup' is already used by your lot ${DUP1:0:16}: give another" \
	"a second lot of one author under one label is refused, naming the first" \
	lot register -k "$T/mine.key" --label dup --site s --country CN --category ore --grams 6 \
	--composition Nd=1
lsc lot register -k "$T/enc.key" --passphrase-file "$T/good.pass" --label dup --site s --country AU \
	--category ore --grams 6 --composition Nd=1
DUP2=$OUT
expect_err 2 "ambiguous: 2 match: (${DUP1:0:16} lot, ${DUP2:0:16}|${DUP2:0:16} lot, ${DUP1:0:16}) lot; use an id" \
	"verify of a label two authors use lists the candidates (as git does)" verify dup

echo "# export with and without license, and a broken provenance"
expect 0 "transfer CN -> DE citing the license" lot transfer -k "$T/sep.key" "$ALLOY" --grams 100000 \
	--to "$imp_PK" --license CN-2025-0001 --end-use civilian
expect 0 "the importer receives" lot receive -k "$T/imp.key" "$OUT"
expect 0 "provenance still valid" verify "$ALLOY"
expect 1 "re-export DE -> US is barred by the license" verify "$ALLOY" --from "$imp_PK" --export-to US
check "reason reexport-barred" grep -q "reexport-barred" <<<"$OUT"
expect_err 3 "rejected: no-license" "transfer CN -> DE without a license is refused (exit 3)" \
	lot transfer -k "$T/sep.key" "$ALLOY" --grams 1000 --to "$imp_PK"
expect 0 "... and stored with --record-violation" lot transfer -k "$T/sep.key" "$ALLOY" \
	--grams 1000 --to "$imp_PK" --record-violation
expect 1 "... and the provenance is then broken" verify "$ALLOY"
check "verify prints 'broken' and no-license" grep -q "no-license" <<<"$OUT"

echo "# tech transfer"
expect 0 "tech transfer (domestic)" tech transfer -k "$T/sep.key" --item tech:separation --to "$mag_PK" \
	--description "solvent extraction training"
expect_err 2 "--item 'tech:cooking' unknown" "tech transfer of an unknown technology" tech transfer \
	-k "$T/sep.key" --item tech:cooking --to "$mag_PK"
expect_err 2 "--to is required" "tech transfer without --to" tech transfer -k "$T/sep.key" --item tech:magnet

echo "# trace, origin, show, log"
expect 0 "trace (text)" trace "$ALLOY"
check "trace shows the ore" grep -q "ore-1" <<<"$OUT"
expect 0 "trace --format json" trace "$ALLOY" --format json
check "trace json has nodes and edges" jtest '@{$j->{nodes}} >= 4 && @{$j->{edges}} >= 3' <<<"$OUT"
expect 0 "trace --format dot" trace "$ALLOY" --format dot
check "trace dot is a digraph" grep -q '^digraph lodestone {' <<<"$OUT"
if command -v dot >/dev/null; then
	printf '%s\n' "$OUT" >"$T/g.dot"
	check "graphviz accepts the DOT" dot -Tsvg "$T/g.dot" -o "$T/g.svg"
fi
expect 0 "trace --down from the ore" trace "$ORE" --down
check "trace --down reaches the alloy" grep -q "magnet-alloy" <<<"$OUT"
expect_err 2 "--format 'gif' unknown" "trace with a bad format" trace "$ALLOY" --format gif
expect 0 "trace --format dot -o FILE" trace "$ALLOY" --format dot -o "$T/alloy.dot"
check "the file holds the graph, stdout nothing" bash -c 'grep -q "^digraph lodestone {" "$1" &&
	[ -z "$2" ]' _ "$T/alloy.dot" "$OUT"
expect_err 2 "cannot write" "trace -o into a missing directory" trace "$ALLOY" -o "$T/no/such/x"
expect_err 2 "unknown lot" "trace of an unknown lot" trace no-such-lot
expect 0 "origin" origin "$ALLOY"
check "origin names Bayan Obo" grep -q "Bayan Obo" <<<"$OUT"
expect 0 "origin --json" --json origin "$ALLOY"
check "origin --json: every element's parts add up to its grams" jtest '
	my $ok = keys %{$j->{elements}} >= 3;
	for my $e (values %{$j->{elements}}) {
		for my $p (qw(by_country by_mine by_processing_country)) {
			my $sum = 0;
			$sum += $_ for values %{$e->{$p}};
			$ok &&= $sum == $e->{grams};
		}
	}
	$ok && $j->{elements}{dy}{grams} > 0 && $j->{elements}{dy}{by_mine}{"Bayan Obo"}' <<<"$OUT"
expect_err 2 "unknown lot" "origin of an unknown lot" origin no-such-lot
expect 0 "show" show "$CERT_MINE"
check "show prints the org" grep -q "Bayan Obo Mine" <<<"$OUT"
expect 0 "show --json by prefix" --json show "${LIC:0:16}"
check "show --json is the license" \
	jtest '$j->{type} eq "license" && $j->{license}{number} eq "CN-2025-0001" && $j->{signature_valid}' \
	<<<"$OUT"
expect_err 2 "unknown record" "show of an unknown record" show 0123456789abcdef
expect_err 2 "record" "show of a too short prefix" show abc
expect 0 "log" log
NREC=$(grep -c '' <<<"$OUT")
lsc --json status
check "log lists every record ($NREC)" test "$(jget '$j->{records}' <<<"$OUT")" -eq "$NREC"
expect 0 "log --json" --json log
check "log --json: one object per line with id, type, author, seq, timestamp" \
	jtest '@j > 10 && !grep { my $r = $_; grep { !exists $r->{$_} } qw(id type author seq timestamp) } @j' \
	<<<"$OUT"
expect 0 "log --json of lots" --json log --type lot
check "  compositions spell element symbols as origin --json does (lower case)" \
	jtest '@j > 0 && !grep { grep { $_ ne lc $_ } keys %{$_->{lot}{composition}} } @j' <<<"$OUT"
expect 0 "log --type lot --limit 2" log --type lot --limit 2
check "log --limit 2 prints 2 lines" test "$(grep -c '' <<<"$OUT")" -eq 2
expect 0 "log --author" --json log --author "$T/auth.key.pub"
check "log --author keeps that author's records" \
	jtest "@j > 5 && !grep { \$_->{author} ne '$auth_PK' } @j" <<<"$OUT"
expect 0 "log --reverse" --json log --reverse
REV=$OUT
expect 0 "log, newest first" --json log
check "log: the newest record first, --reverse the oldest first, each the other backwards" \
	test "$(jget 'join(",", map { $_->{id} } reverse @j)' <<<"$REV")" = \
	"$(jget 'join(",", map { $_->{id} } @j)' <<<"$OUT")"
check "  the first record of --reverse is the trust anchor's own first (seq 1)" \
	jtest '$j->{seq} == 1 && $j->{type} eq "certificate"' <<<"$REV"
expect 0 "log --type lot --author --limit 1 combine: the newest lot of one author" \
	--json log --type lot --author "$T/mine.key.pub" --limit 1
check "  one lot of that author, the newest of them" \
	jtest "@j == 1 && \$j->{type} eq 'lot' && \$j->{author} eq '$mine_PK' && \$j->{id} eq '$DUP1'" <<<"$OUT"
expect 0 "log --since the future" log --since 2999-01-01
check "log --since the future prints nothing" test -z "$OUT"
expect_err 2 "--type 'gold' unknown" "log with a bad type" log --type gold
expect_err 2 "--since 'yesterday'" "log with a bad date" log --since yesterday
expect_err 2 "--limit 'many'" "log with a bad limit" log --limit many

echo "# bundle, verify-bundle, import (this daemon)"
expect 0 "bundle" bundle "$OX" -o "$T/ox.bundle"
check "bundle file written" test -s "$T/ox.bundle"
check "bundle names its lot" grep -q "lot $OX" <<<"$OUT"
expect 0 "verify-bundle finds the lot the bundle names (Bundle.lot)" \
	--json verify-bundle "$T/ox.bundle" --trust "$T/auth.key.pub"
check "verify-bundle without --lot proves the bundled lot" jtest "\$j->{lot} eq '$OX'" <<<"$OUT"
expect 0 "verify-bundle --lot ID" --json verify-bundle "$T/ox.bundle" --trust "$T/auth.key.pub" --lot "$OX"
check "verify-bundle --json: valid, names the lot" jtest "\$j->{verdict} eq 'valid' && \$j->{lot} eq '$OX'" \
	<<<"$OUT"
expect 0 "verify-bundle --lot LABEL" verify-bundle "$T/ox.bundle" --trust "$T/auth.key.pub" --lot NdPr-oxide
check "verify-bundle names the lot it checked" \
	test "$(sed -n 1p <<<"$OUT")" = "lot $OX 'NdPr-oxide' (bundle '$T/ox.bundle')"
check "verify-bundle: valid" test "$(sed -n 2p <<<"$OUT")" = valid
expect 3 "verify-bundle --export-to JP (Dy oxide)" verify-bundle "$T/ox.bundle" \
	--trust "$T/auth.key.pub" --lot "${DYOX:0:10}" --export-to JP
expect 1 "the daemon: the alloy's history lacks a license" verify magnet-alloy
expect 0 "bundle of the alloy" bundle magnet-alloy -o "$T/alloy.bundle"
expect 1 "verify-bundle of a lot whose history lacks a license" verify-bundle "$T/alloy.bundle" \
	--trust "$T/auth.key.pub"
expect 1 "verify-bundle with the wrong trust key is broken" verify-bundle "$T/ox.bundle" \
	--trust "$T/nobody.key.pub" --lot "$OX"
expect_err 2 "--lot: no lot 'no-such-lot'" "verify-bundle --lot of a lot not in the bundle" verify-bundle \
	"$T/ox.bundle" --trust "$T/auth.key.pub" --lot no-such-lot
expect_err 2 "--trust FILE.pub is required" "verify-bundle without --trust" verify-bundle "$T/ox.bundle"
expect_err 2 "no-such.bundle" "verify-bundle of a missing file" verify-bundle "$T/no-such.bundle" \
	--trust "$T/auth.key.pub"
expect_err 2 "not a bundle file" "verify-bundle of a file that is not a bundle" verify-bundle \
	"$T/garbage.key" --trust "$T/auth.key.pub"
expect_err 2 "-o FILE is required" "bundle without -o" bundle "$OX"
expect_err 2 "unknown lot" "bundle of an unknown lot" bundle no-such-lot -o "$T/x.bundle"
expect 0 "import of records already known" import "$T/ox.bundle"
check "import counts them as known" grep -qE '^0 accepted, [0-9]+ already known, 0 pending, 0 rejected$' <<<"$OUT"
expect_err 2 "not a bundle file" "import of a file that is not a bundle" import "$T/garbage.key"

echo "# authorities act only within their scope; a revoked key is refused"
keygen deauth cnfake
expect 0 "cert issue (a German authority)" cert issue -k "$T/auth.key" --subject "$deauth_PK" \
	--org "BAFA" --country DE --roles authority --jurisdiction DE
expect_err 2 "--jurisdiction is for a key with the authority role" \
	"cert issue --jurisdiction for a miner" cert issue -k "$T/auth.key" --subject "$cnfake_PK" \
	--org X --country CN --roles miner --jurisdiction CN
expect_err 2 "--jurisdiction 'Germany' is not a two-letter country code" "cert issue with a bad --jurisdiction" cert issue \
	-k "$T/auth.key" --subject "$cnfake_PK" --org X --country DE --roles authority \
	--jurisdiction Germany
expect_err 1 "rejected: untrusted" "the German authority publishing China's policies" \
	policy publish -k "$T/deauth.key" "$POLICY"
expect_err 1 "rejected: untrusted" "the German authority certifying a Chinese miner" \
	cert issue -k "$T/deauth.key" --subject "$cnfake_PK" --org "Fake Mine" --country CN \
	--roles miner
expect_err 1 "rejected: untrusted" "the German authority revoking a key it did not certify" \
	cert revoke -k "$T/deauth.key" --subject "$mine_PK"
expect_err 1 "rejected: untrusted" "the German authority revoking the trust anchor" \
	cert revoke -k "$T/deauth.key" --subject "$auth_PK"
expect 0 "the trust anchor revokes the encrypted key's owner" cert revoke -k "$T/auth.key" \
	--subject "$ENC_PK" --reason "mine closed"
LODESTONE_PASSPHRASE='correct horse' expect_err 1 "rejected: revoked" \
	"a revoked key's record is refused with the reason" lot register -k "$T/enc.key" \
	--label enc-ore-3 --site "Mount Weld" --country AU --category ore --grams 10 \
	--composition Nd=30000

echo "# the daemon stops cleanly"
stop_daemon "$DAEMON_PID"
check "lodestoned exits 0 on SIGTERM" test $? -eq 0
expect_err 4 "cannot reach lodestoned" "status after the daemon stopped" status
expect 0 "verify-bundle needs no daemon" verify-bundle "$T/ox.bundle" --trust "$T/auth.key.pub" --lot "$OX"
expect_err 4 "cannot reach lodestoned" "import with the daemon down" import "$T/ox.bundle"

echo "# lodestoned --reindex rebuilds every table from the stored records"
run "$LSD" --data-dir "$D" --trust "$T/auth.key.pub" --reindex
check "--reindex exits 0" test "$RC" -eq 0
check "--reindex reports what it read and stored" \
	grep -qE "^reindexed '.*': [0-9]+ records read, [0-9]+ stored, 0 waiting" <<<"$OUT"
if ! start_daemon "$D" --trust "$T/auth.key.pub"; then
	not_ok "lodestoned starts on the reindexed store"
	finish
fi
ok "lodestoned starts on the reindexed store"
expect 0 "provenance after the reindex" verify "$OX"
check "provenance after the reindex: valid" test "$(head -n1 <<<"$OUT")" = valid
run "$LSD" --data-dir "$D" --trust "$T/auth.key.pub" --reindex
check "--reindex while lodestoned runs: exit 1, stop it first" \
	test "$RC" -eq 1 -a -n "$(grep -E 'in use: stop lodestoned first' <<<"$ERR")"
stop_daemon "$DAEMON_PID"

echo "# the map is address space: a 4 GiB address-space limit still opens the store"
# (skipped for sanitizer builds, whose shadow memory needs more address space)
if ldd "$LSD" | grep -q 'libasan\|libtsan'; then
	ok "# skip: sanitizer build"
else
	(
		ulimit -v 4000000
		start_daemon "$D" --trust "$T/auth.key.pub" &&
			"$LS" --api "ipc://$D/api.sock" verify "$OX" >/dev/null
		rc=$?
		stop_daemon "$DAEMON_PID"
		exit $rc
	)
	check "lodestoned under ulimit -v 4000000 opens the store and answers" test $? -eq 0
fi

echo "# --timeout and LODESTONE_TIMEOUT take a duration"
expect_err 2 "timeout 'soon' .* is not a duration" "--timeout soon" --timeout soon status
LODESTONE_TIMEOUT=-1 expect_err 2 "timeout '-1' .* is not a duration" \
	"LODESTONE_TIMEOUT=-1" status
expect_err 2 "is not a duration" "--timeout over a day" --timeout 1441m status

finish
