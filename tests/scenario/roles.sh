#!/usr/bin/env bash
# Roles and inputs mean something, through the real client and daemon:
# country codes are the assigned ISO 3166-1 alpha-2 codes (UK gets a hint to
# GB; XX, ZZ, EU are refused, naming the flag or field); the sender of a
# cross-border transfer needs the exporter role and its receiver the
# importer role; a key that may not receive (an auditor) is refused at once;
# a technology license needs no --max-grams.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/roles.sh
source "$(dirname "$0")/helpers.bash"

D="$T/node"
export LODESTONE_API="ipc://$D/api.sock"

keygen auth mine small sep imp works aud
start_daemon "$D" --trust "$T/auth.key.pub" || { not_ok "lodestoned starts"; finish; }
PID=$DAEMON_PID
ok "lodestoned starts"

echo "# country codes"
expect_err 2 "--country 'UK' is not an assigned ISO 3166-1 alpha-2 country code.*the United Kingdom is GB" \
	"cert issue --country UK: a hint to GB" cert issue -k "$T/auth.key" --subject "$imp_PK" \
	--org "Thames Magnets" --country UK --roles importer
expect_err 2 "--country 'ZZ' is not an assigned" "cert issue --country ZZ" cert issue \
	-k "$T/auth.key" --subject "$imp_PK" --org X --country ZZ --roles importer
expect_err 2 "--jurisdiction 'EU' is not an assigned.*member states" \
	"cert issue --jurisdiction EU" cert issue -k "$T/auth.key" --subject "$imp_PK" --org X \
	--country DE --roles authority --jurisdiction DE,EU
expect 0 "cert issue --country gb (lower case is taken as GB)" cert issue -k "$T/auth.key" \
	--subject "$imp_PK" --org "Thames Magnets" --country gb --roles importer,processor
expect_err 2 "--country 'XX'" "lot register --country XX" lot register -k "$T/mine.key" \
	--label x --site s --country XX --category ore --grams 1 --composition Nd=1
expect_err 2 "--destination 'XX'" "license issue --destination DE,XX" license issue \
	-k "$T/auth.key" --number L-X --licensee "$sep_PK" --destination DE,XX --end-use civilian \
	--items dy --max-grams 1
expect_err 2 "--no-reexport-to 'UK'.*GB" "license issue --no-reexport-to UK" license issue \
	-k "$T/auth.key" --number L-X --licensee "$sep_PK" --destination DE --end-use civilian \
	--items dy --max-grams 1 --no-reexport-to UK
cat >"$T/uk.json" <<'EOF'
{"format": "lodestone-policy/1", "policies": [
 {"ref": "uk", "jurisdiction": "UK", "name": "a policy of no country",
  "effective_from": "2025-01-01", "controlled_elements": ["Dy"]}]}
EOF
expect_err 2 "jurisdiction.*'UK' is not an assigned.*GB" "policy publish with jurisdiction UK" \
	policy publish -k "$T/auth.key" "$T/uk.json"

echo "# a chain"
expect 0 "certify the mine (miner, exporter)" cert issue -k "$T/auth.key" --subject "$mine_PK" \
	--org "Bayan Obo" --country CN --roles miner,exporter
expect 0 "certify a small mine (miner only)" cert issue -k "$T/auth.key" --subject "$small_PK" \
	--org "South Pit" --country CN --roles miner
expect 0 "certify the separator (processor only)" cert issue -k "$T/auth.key" \
	--subject "$sep_PK" --org "Baotou Separation" --country CN --roles processor
expect 0 "certify the works in Germany (processor only)" cert issue -k "$T/auth.key" \
	--subject "$works_PK" --org "Hanau Works" --country DE --roles processor
expect 0 "certify an auditor" cert issue -k "$T/auth.key" --subject "$aud_PK" --org "Audit" \
	--country CN --roles auditor
expect 0 "the small mine registers ore" lot register -k "$T/small.key" --label SP-ore-1 \
	--site "South Pit" --country CN --category ore --grams 1000 --composition Nd=300000
expect 0 "the mine registers ore" lot register -k "$T/mine.key" --label BO-ore-1 \
	--site "Bayan Obo" --country CN --category ore --grams 5000 --composition Nd=300000
expect_err 2 "--export-to 'XX' is not an assigned" "verify --export-to XX" verify BO-ore-1 \
	--export-to XX
expect_err 2 "--export-to 'UK'.*GB" "verify --export-to UK" verify BO-ore-1 --export-to UK
expect 0 "verify --export-to GB" verify BO-ore-1 --export-to GB

echo "# exporter and importer"
expect_err 1 "rejected: wrong-role.*CN -> DE is an export, which needs the exporter role" \
	"a miner-only key's cross-border transfer is refused" lot transfer -k "$T/small.key" \
	SP-ore-1 --grams 100 --to "$works_PK"
expect 0 "the same key ships at home, no exporter role needed" lot transfer -k "$T/small.key" \
	SP-ore-1 --grams 100 --to "$sep_PK"
expect 0 "a processor-only receiver receives at home" lot receive -k "$T/sep.key" "$OUT"
expect_err 1 "rejected: bad-receiver.*CN -> DE is an export.*needs the importer role" \
	"an exporter's transfer to a key without the importer role is refused" lot transfer \
	-k "$T/mine.key" BO-ore-1 --grams 100 --to "$works_PK"
expect 0 "exporter -> importer is accepted" lot transfer -k "$T/mine.key" BO-ore-1 --grams 1000 \
	--to "$imp_PK"
TR=$OUT
expect 0 "the importer receives" lot receive -k "$T/imp.key" "$TR"
expect 0 "provenance stands" verify BO-ore-1

echo "# a key that may not receive"
expect_err 1 "rejected: bad-receiver.*may not receive.*auditor" \
	"a transfer to an auditor-only key is refused at once" lot transfer -k "$T/mine.key" \
	BO-ore-1 --grams 100 --to "$aud_PK"
expect 0 "nothing is in transit: the mine still ships what it holds" lot transfer \
	-k "$T/mine.key" BO-ore-1 --grams 4000 --to "$sep_PK"

echo "# technology licenses"
expect 0 "license issue --items tech:separation without --max-grams" license issue \
	-k "$T/auth.key" --number TECH-1 --licensee "$sep_PK" --destination JP --end-use civilian \
	--items tech:separation
expect 0 "show the license" show "$OUT"
check "it licenses the technology" grep -q "tech:separation" <<<"$OUT"
expect_err 2 "--max-grams is required for the material item 'dy'" \
	"a license of technology and material still needs --max-grams" license issue \
	-k "$T/auth.key" --number TECH-2 --licensee "$sep_PK" --destination JP --end-use civilian \
	--items tech:separation,dy

stop_daemon "$PID"
check "lodestoned stops" test $? -eq 0
finish
