#!/usr/bin/env bash
# Verdicts follow the material, and violations are not accepted in silence.
#
# A Chinese magnet maker ships 500 kg of Dy magnets to a German importer
# under a license, and 1 kg to a US buyer without one. The daemon refuses the
# unlicensed shipment (exit 3, as verify would answer) and a military one
# (exit 1) unless --record-violation records it, saying that it breaks
# provenance. Then: the importer's material is valid (the US shipment is a
# warning, not its fault) and its re-export question is license-required,
# not denied; the US buyer's material is broken; without --from every holder
# and the material in transit get their own verdict and the worst decides;
# --at before the lot existed says not-made.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/custody.sh
source "$(dirname "$0")/helpers.bash"

POLICY="$(cd "$(dirname "$0")/../.." && pwd)/contrib/policies/cn-2025-rare-earths.json"
D="$T/node"
export LODESTONE_API="ipc://$D/api.sock"

keygen auth mag imp us
start_daemon "$D" --trust "$T/auth.key.pub" || { not_ok "daemon starts"; finish; }
PID=$DAEMON_PID

echo "# the chain"
expect 0 "cert: magnet maker (CN)" cert issue -k "$T/auth.key" --subject "$mag_PK" \
	--org "Ningbo Magnets" --country CN --roles miner,processor,exporter
expect 0 "cert: importer (DE)" cert issue -k "$T/auth.key" --subject "$imp_PK" \
	--org "Hanau Import" --country DE --roles importer,processor,exporter
expect 0 "cert: buyer (US)" cert issue -k "$T/auth.key" --subject "$us_PK" --org "US Motors" \
	--country US --roles importer,exporter
expect 0 "policy: the CN 2025 controls" policy publish -k "$T/auth.key" "$POLICY"
expect 0 "a lot of Dy magnets" lot register -k "$T/mag.key" --label ndfeb-1 --site Ningbo \
	--country CN --category magnet --grams 600000 --composition Nd=290000,Dy=50000,Fe=640000
LOT=$OUT
expect 0 "a CN license for 550 kg to DE" license issue -k "$T/auth.key" --number CN-2026-0042 \
	--licensee "$mag_PK" --destination DE --end-use civilian --items magnet --max-grams 550000
expect 0 "500 kg to the importer under the license" lot transfer -k "$T/mag.key" "$LOT" \
	--grams 500000 --to "$imp_PK" --license CN-2026-0042 --end-use civilian
TR_DE=$OUT
expect 0 "the importer receives it" lot receive -k "$T/imp.key" "$TR_DE"

echo "# violations are refused, or recorded as such"
expect_err 3 "rejected: no-license: .*CN -> US" "1 kg to the US without a license is refused (exit 3)" \
	lot transfer -k "$T/mag.key" "$LOT" --grams 1000 --to "$us_PK"
lsc lot transfer -k "$T/mag.key" "$LOT" --grams 1000 --to "$us_PK"
check "the refusal says how to go on" grep -q -- "--record-violation" <<<"$ERR"
expect_err 1 "rejected: end-use-denied" "a military shipment is refused as denied (exit 1)" \
	lot transfer -k "$T/mag.key" "$LOT" --grams 1000 --to "$us_PK" --end-use military
expect 0 "--record-violation records the unlicensed shipment" lot transfer -k "$T/mag.key" "$LOT" \
	--grams 1000 --to "$us_PK" --record-violation
TR_US=$OUT
check "it prints the transfer id" is_id "$TR_US"
check "and warns that it breaks provenance" grep -q "warning: .*no-license: recorded although it breaks provenance" <<<"$ERR"
expect 0 "the US buyer receives it" lot receive -k "$T/us.key" "$TR_US"
expect 0 "2 kg more to the importer, not yet received" lot transfer -k "$T/mag.key" "$LOT" \
	--grams 2000 --to "$imp_PK" --license CN-2026-0042 --end-use civilian
TR_TRANSIT=$OUT

echo "# verdicts per holder"
expect 0 "the importer's material is valid" --json verify "$LOT" --from "$imp_PK"
export TR_US TR_DE TR_TRANSIT imp_PK us_PK mag_PK
check "the US shipment is a warning with its record, not a reason" jtest '
	$j->{verdict} eq "valid" &&
	grep({ $_->{code} eq "no-license" && grep({ $_ eq $ENV{TR_US} } @{$_->{records}}) }
		@{$j->{warnings}}) &&
	!grep({ $_->{code} ne "ok" } @{$j->{reasons}})' <<<"$OUT"
expect 0 "as text, the warning is marked" verify "$LOT" --from "$imp_PK"
check "text: first line valid, a warning line" \
	bash -c '[ "$(head -n1 <<<"$1")" = valid ] && grep -q "warning: no-license" <<<"$1"' _ "$OUT"
expect 1 "the US buyer's material is broken" --json verify "$LOT" --from "$us_PK"
check "broken by the unlicensed hop" jtest '$j->{verdict} eq "broken" &&
	grep({ $_->{code} eq "no-license" } @{$j->{reasons}})' <<<"$OUT"
expect 3 "the importer's re-export to FR needs a license (not denied)" \
	verify "$LOT" --from "$imp_PK" --export-to FR
expect 1 "the US buyer's re-export is denied (broken provenance)" \
	verify "$LOT" --from "$us_PK" --export-to CA
expect 1 "without --from: the worst holder decides" --json verify "$LOT"
check "one verdict per holder and per transfer in transit" jtest '
	my %h = map { ($_->{in_transit} ? "T" . $_->{transfer} : $_->{holder}) => $_ } @{$j->{holders}};
	$j->{verdict} eq "broken" && @{$j->{holders}} == 4 &&
	$h{$ENV{imp_PK}}{verdict} eq "valid" && $h{$ENV{imp_PK}}{grams} == 500000 &&
	$h{$ENV{us_PK}}{verdict} eq "broken" && $h{$ENV{us_PK}}{grams} == 1000 &&
	$h{$ENV{mag_PK}}{verdict} eq "valid" && $h{$ENV{mag_PK}}{grams} == 97000 &&
	$h{"T$ENV{TR_TRANSIT}"}{verdict} eq "valid" && $h{"T$ENV{TR_TRANSIT}"}{grams} == 2000' <<<"$OUT"
expect 1 "as text" verify "$LOT"
check "text lists the holders" bash -c 'grep -q "by holder" <<<"$1" &&
	grep -q "broken: 1000 g held by $2" <<<"$1" &&
	grep -q "valid: 2000 g in transit to $3 by transfer $4" <<<"$1"' _ "$OUT" "$us_PK" "$imp_PK" "$TR_TRANSIT"
expect 0 "material in transit is judged for its receiver" verify "$LOT" --from "$imp_PK"

echo "# dates"
expect 1 "verify --at before the lot existed" --json verify "$LOT" --at 2020-01-01
check "says not-made" jtest '$j->{verdict} eq "broken" &&
	grep({ $_->{code} eq "not-made" } @{$j->{reasons}})' <<<"$OUT"
expect 1 "an export question before the lot existed is denied" verify "$LOT" --from "$imp_PK" \
	--export-to FR --at 2020-01-01
check "naming not-made" grep -q "not-made" <<<"$OUT"

echo "# tainted material mixed into a clean holding taints it"
expect 0 "the US buyer re-ships its 1 kg to the importer (recorded as a violation)" \
	lot transfer -k "$T/us.key" "$LOT" --grams 1000 --to "$imp_PK" --record-violation
TR_BACK=$OUT
expect 0 "the importer receives it" lot receive -k "$T/imp.key" "$TR_BACK"
expect 1 "the importer's holding is now broken" --json verify "$LOT" --from "$imp_PK"
export TR_BACK
check "by both hops of the tainted kilogram" jtest '$j->{verdict} eq "broken" &&
	grep({ grep({ $_ eq $ENV{TR_US} } @{$_->{records}}) } @{$j->{reasons}}) &&
	grep({ grep({ $_ eq $ENV{TR_BACK} } @{$_->{records}}) } @{$j->{reasons}})' <<<"$OUT"

echo "# origin of the material a holder holds"
expect 0 "origin --from the importer" --json origin "$LOT" --from "$imp_PK"
check "the importer's 501 kg: 25,050 g of Dy, all mined in CN" jtest '
	$j->{grams} == 501000 && $j->{holder} eq $ENV{imp_PK} && $j->{elements}{dy}{grams} == 25050 &&
	$j->{elements}{dy}{by_country}{CN} == 25050' <<<"$OUT"
expect 0 "origin of the whole lot" --json origin "$LOT"
check "the lot's 600 kg: 30,000 g of Dy" jtest '$j->{grams} == 600000 &&
	$j->{elements}{dy}{grams} == 30000' <<<"$OUT"
expect_err 1 "holds none of lot" "origin --from a key that holds none" origin "$LOT" --from "$auth_PK"
expect_err 2 "origin takes --from and --stages only" "origin with an export flag" origin "$LOT" --export-to DE

stop_daemon "$PID"
check "daemon stops" test $? -eq 0
finish
