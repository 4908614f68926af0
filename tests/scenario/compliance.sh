#!/usr/bin/env bash
# Compliance profiles (issue 15): origin by stage, profiles as data, the
# provenance disclosure.
#
# Three chains through the real client and one daemon:
#   - Dy mined at Bayan Obo, separated at Baotou (CN), reduced and sintered
#     in Japan: DFARS 252.225-7052 as of 2027 bars it (mining and separation
#     in CN), the 2026 profile (melting and production only) does not;
#   - Mount Weld (AU) -> Kuantan (MY) -> Japan: compliant under both;
#   - Mount Weld ore separated at Baotou with a gram of iron scrap among the
#     inputs: still a separation in CN (recycling is the scrap's material's);
#   - that separation's oxide labelled scrap and "recycled" in Japan: the
#     separation is unknown, not hidden; an alloy made from ore: its maker
#     did the separation too;
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

keygen auth cnmine cnsep aumine mysep usmine eesep jpmag
export mysep_PK
start_daemon "$D" --trust "$T/auth.key.pub" || { not_ok "daemon starts"; finish; }

cert() { # KEY ORG CC ROLES
	expect 0 "cert: $2 ($3)" cert issue -k "$T/auth.key" --subject "$(eval echo "\$${1}_PK")" \
		--org "$2" --country "$3" --roles "$4"
}
cert cnmine "Bayan Obo Mine" CN miner,exporter
cert cnsep "Baotou Separation" CN processor,exporter,importer
cert aumine "Mount Weld Mine" AU miner,exporter
cert mysep "Lynas Malaysia" MY processor,exporter,importer
cert usmine "Mountain Pass Mine" US miner,exporter
cert eesep "Silmet" EE processor,exporter,importer
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
	--country CN --category ore --grams 1000000 --composition Dy=2500,Nd=30000
ship cnmine cnsep cn-ore 1000000
expect 0 "separated at Baotou" lot transform -k "$T/cnsep.key" --site Baotou \
	--in cn-ore=1000000 --out cn-dy-oxide:oxide:2300:Dy=870000
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

echo "# chain 2: Mount Weld -> Kuantan -> Japan"
expect 0 "AU ore" lot register -k "$T/aumine.key" --label au-ore --site "Mount Weld" \
	--country AU --category ore --grams 1000000 --composition Dy=2500,Nd=30000
ship aumine mysep au-ore 1000000
expect 0 "separated at Kuantan" lot transform -k "$T/mysep.key" --site Kuantan \
	--in au-ore=1000000 --out my-dy-oxide:oxide:2350:Dy=870000
ship mysep jpmag my-dy-oxide 2000
expect 0 "reduced and sintered in Japan" lot transform -k "$T/jpmag.key" --site Takefu \
	--in my-dy-oxide=2000 --out jp-magnet-2:magnet:20000:Dy=85000,Fe=660000

echo "# chain 2b: Mount Weld ore separated at Baotou with a gram of iron scrap thrown in"
expect 0 "AU ore" lot register -k "$T/aumine.key" --label au-ore-2 --site "Mount Weld" \
	--country AU --category ore --grams 1000000 --composition Dy=2500,Nd=30000
ship aumine cnsep au-ore-2 1000000
expect 0 "a gram of iron scrap" lot register -k "$T/cnmine.key" --label fe-scrap --site Baotou \
	--country CN --category scrap --grams 1 --composition Fe=1000000
ship cnmine cnsep fe-scrap 1
expect 0 "separated at Baotou, the scrap among the inputs" lot transform -k "$T/cnsep.key" \
	--site Baotou --in au-ore-2=1000000 --in fe-scrap=1 --out cn-dy-oxide-2:oxide:2300:Dy=870000
ship cnsep jpmag cn-dy-oxide-2 2000
expect 0 "reduced and sintered in Japan" lot transform -k "$T/jpmag.key" --site Takefu \
	--in cn-dy-oxide-2=2000 --out jp-magnet-4:magnet:20000:Dy=85000,Fe=660000
expect 0 "origin --stages" origin jp-magnet-4 --stages --json
check "the Dy was separated in CN (the scrap brought none: it is not recycled Dy)" jtest \
	'my $s = $j->{elements}{dy}{stages}{separation}; $s->{by_country}{CN} == $j->{elements}{dy}{grams} && !exists $j->{elements}{dy}{stages}{recycling}' <<<"$OUT"
expect 0 "AU ore" lot register -k "$T/aumine.key" --label au-ore-3 --site "Mount Weld" \
	--country AU --category ore --grams 100000 --composition Dy=2500
ship aumine cnsep au-ore-3 100000
expect 0 "magnet scrap with Dy in it" lot register -k "$T/cnmine.key" --label dy-scrap \
	--site Baotou --country CN --category scrap --grams 250 --composition Dy=100000
ship cnmine cnsep dy-scrap 250
expect 0 "ore and Dy scrap separated together" lot transform -k "$T/cnsep.key" --site Baotou \
	--in au-ore-3=100000 --in dy-scrap=250 --out cn-dy-oxide-3:oxide:250:Dy=870000
expect 0 "origin --stages" origin cn-dy-oxide-3 --stages --json
check "recycling: the scrap's 1/11 of the Dy, in CN; separation: the ore's 10/11 in CN, the scrap's unknown" jtest \
	'my $e = $j->{elements}{dy}; my $g = $e->{grams}; my $st = $e->{stages}; my $r = $st->{recycling}; my $s = $st->{separation}; my $u = 0; $u += $_->{grams} for grep { !defined $_->{country} } @{$s->{places}}; $r->{grams} == $r->{by_country}{CN} && abs($r->{grams} * 11 - $g) <= 11 && abs($s->{by_country}{CN} * 11 - 10 * $g) <= 11 && $s->{by_country}{CN} + $u == $g && $s->{grams} == $g' <<<"$OUT"

echo "# chain 2c: the Baotou separation of Mount Weld ore labelled 'scrap', 'recycled' in Japan"
expect 0 "AU ore" lot register -k "$T/aumine.key" --label au-ore-4 --site "Mount Weld" \
	--country AU --category ore --grams 1000000 --composition Dy=2500,Nd=30000
ship aumine cnsep au-ore-4 1000000
expect 0 "separated at Baotou, the oxide called scrap" lot transform -k "$T/cnsep.key" \
	--site Baotou --in au-ore-4=1000000 --out cn-fake-scrap:scrap:2300:Dy=870000
ship cnsep jpmag cn-fake-scrap 2000
expect 0 "'recycled' into metal and sintered in Japan" lot transform -k "$T/jpmag.key" \
	--site Takefu --in cn-fake-scrap=2000 --out jp-dy-metal-5:metal:1700:Dy=999000
expect 0 "sintered in Japan" lot transform -k "$T/jpmag.key" --site Takefu \
	--in jp-dy-metal-5=1700 --out jp-magnet-5:magnet:20000:Dy=84000,Fe=660000
expect 0 "origin --stages" origin jp-magnet-5 --stages --json
check "separation is not shown by the ledger: unknown, named by the recycling" jtest \
	'my $e = $j->{elements}{dy}; my $s = $e->{stages}{separation}; $s->{grams} == $e->{grams} && @{$s->{places}} == 1 && !defined $s->{places}[0]{country}' <<<"$OUT"
expect 0 "AU ore reduced straight to an alloy in Malaysia" lot register -k "$T/aumine.key" \
	--label au-ore-5 --site "Mount Weld" --country AU --category ore --grams 100000 \
	--composition Dy=2500
ship aumine mysep au-ore-5 100000
expect 0 "an alloy made from ore" lot transform -k "$T/mysep.key" --site Kuantan \
	--in au-ore-5=100000 --out my-dy-alloy:alloy:200:Dy=900000
expect 0 "origin --stages" origin my-dy-alloy --stages --json
check "the alloy maker did the separation too" jtest \
	'my $e = $j->{elements}{dy}; my $s = $e->{stages}{separation}; $s->{grams} == $e->{grams} && $s->{by_country}{MY} == $e->{grams} && $s->{places}[0]{site} eq "Kuantan"' <<<"$OUT"

echo "# check: DFARS 252.225-7052"
D27="$PROFILES/dfars-252.225-7052-2027.json"
D26="$PROFILES/dfars-252.225-7052-2026.json"
expect 1 "CN-separated Dy sintered in JP: non-compliant under DFARS 2027" \
	check jp-magnet-1 --profile "$D27" --at 2027-01-01
check "the text says non-compliant" grep -q "^non-compliant: lot " <<<"$OUT"
check "and names mining and separation in CN" \
	bash -c 'grep -q "non-compliant: rule covered-countries: Dy mining in CN" <<<"$1" && grep -q "Dy separation in CN: 1.68 kg of 1.68 kg (100.0 %)" <<<"$1"' _ "$OUT"
expect 1 "--json: the same" check jp-magnet-1 --profile "$D27" --at 2027-01-01 --json
J=$OUT
check "two findings, mining and separation in CN, each 100 % with its record" jtest \
	'my @f = @{$j->{findings}}; $j->{verdict} eq "non-compliant" && @f == 2 && (grep { $_->{country} eq "CN" && $_->{share_ppm} == 1000000 && @{$_->{records}} == 1 } @f) == 2 && join(",", sort map { $_->{stage} } @f) eq "mining,separation"' <<<"$J"
SEPREC=$(jget '(grep { $_->{stage} eq "separation" } @{$j->{findings}})[0]{records}[0]' <<<"$J")
lsc show "$SEPREC" --json
check "the separation finding's record is Baotou's transformation" jtest \
	'$j->{type} eq "transformation" && $j->{transformation}{site} eq "Baotou"' <<<"$OUT"
expect 0 "the same magnet: compliant under the 2026 profile" \
	check jp-magnet-1 --profile "$D26" --at 2026-06-01
check "the text says compliant" grep -q "^compliant: lot " <<<"$OUT"
expect 0 "the 2027 profile asked in 2026: compliant, the mining rule not yet in force" \
	check jp-magnet-1 --profile "$D27" --at 2026-06-01
check "it says which rules wait" grep -q "not yet in force: rule covered-countries for mining, from 2027-01-01" <<<"$OUT"
expect 0 "Mount Weld -> Kuantan -> Japan: compliant under DFARS 2027" \
	check jp-magnet-2 --profile "$D27" --at 2027-01-01
expect 1 "AU Dy separated in CN with a gram of scrap: still non-compliant under DFARS 2027" \
	check jp-magnet-4 --profile "$D27" --at 2027-01-01
check "separation in CN" grep -q "Dy separation in CN" <<<"$OUT"
expect 1 "the separation hidden behind a scrap label: unknown under DFARS 2027, not compliant" \
	check jp-magnet-5 --profile "$D27" --at 2027-01-01
check "unknown" grep -q "^unknown: lot " <<<"$OUT"
expect 2 "a date outside the profile's period is a usage error" \
	check jp-magnet-2 --profile "$D26" --at 2027-02-01
check "naming the period" grep -q "not in force at that date" <<<"$ERR"
expect 0 "an oxide is not a category DFARS covers: not-applicable, exit 0" \
	check cn-dy-oxide --profile "$D27" --at 2027-01-01
check "the text says not-applicable" grep -q "^not-applicable: " <<<"$OUT"

echo "# a blend in Estonia: 30 % of the Dy separated in CN, 35 % in MY, 35 % in EE"
expect 0 "US ore" lot register -k "$T/usmine.key" --label us-ore --site "Mountain Pass" \
	--country US --category ore --grams 1000000 --composition Dy=500
ship usmine eesep us-ore 1000000
expect 0 "separated at Sillamae" lot transform -k "$T/eesep.key" --site Sillamae \
	--in us-ore=1000000 --out ee-dy-oxide:oxide:350:Dy=870000
ship cnsep eesep cn-dy-oxide 300
ship mysep eesep my-dy-oxide 350
expect 0 "the blend reduced at Sillamae" lot transform -k "$T/eesep.key" --site Sillamae \
	--in cn-dy-oxide=300 --in my-dy-oxide=350 --in ee-dy-oxide=350 \
	--out ee-dy-metal:metal:900:Dy=966000
expect 0 "origin --stages of the blend" origin ee-dy-metal --stages --json
J=$OUT
check "separation: CN 30 %, MY 35 %, EE 35 %, adding up to the element" jtest \
	'my $e = $j->{elements}{dy}; my $s = $e->{stages}{separation}; my $t = 0; $t += $_ for values %{$s->{by_country}}; $t == $e->{grams} && $s->{grams} == $e->{grams} && abs($s->{by_country}{CN} / $e->{grams} - 0.30) < 0.002 && abs($s->{by_country}{MY} / $e->{grams} - 0.35) < 0.002 && abs($s->{by_country}{EE} / $e->{grams} - 0.35) < 0.002' <<<"$J"
check "three mines, three separations, one metal stage" jtest \
	'my $st = $j->{elements}{dy}{stages}; @{$st->{mining}{places}} == 3 && @{$st->{separation}{places}} == 3 && @{$st->{metal}{places}} == 1' <<<"$J"
expect 0 "the CRMA 65 % benchmark passes" check ee-dy-metal --profile "$PROFILES/crma-65.json"
sed 's/"max_ppm": 650000/"max_ppm": 250000/; s/65 %/25 %/' "$PROFILES/crma-65.json" >"$T/crma-25.json"
expect 1 "a 25 % rule fails" check ee-dy-metal --profile "$T/crma-25.json" --json
check "with the CN separation at 30 % among the findings, EE not counted" jtest \
	'my @f = @{$j->{findings}}; (grep { $_->{stage} eq "separation" && $_->{country} eq "CN" && abs($_->{share_ppm} - 300000) < 2000 } @f) == 1 && !(grep { ($_->{country} // "") eq "EE" } @f)' <<<"$OUT"

echo "# material from outside the ledger: unknown, never compliant"
expect 0 "an oxide registered as such (mined who knows where)" lot register -k "$T/usmine.key" \
	--label us-oxide --site "Mountain Pass" --country US --category oxide --grams 1000 \
	--composition Dy=800000
ship usmine jpmag us-oxide 1000
expect 0 "sintered in Japan" lot transform -k "$T/jpmag.key" --in us-oxide=1000 \
	--out jp-magnet-3:magnet:10000:Dy=80000,Fe=660000
expect 0 "origin --stages says mining is unknown" origin jp-magnet-3 --stages
check "in the text" grep -qE "^    unknown .*entered the ledger past this stage" <<<"$OUT"
expect 1 "DFARS 2027: unknown (exit 1)" check jp-magnet-3 --profile "$D27" --at 2027-01-01 --json
check "the verdict is unknown, the finding names the registration" jtest \
	'my $f = $j->{findings}[0]; $j->{verdict} eq "unknown" && @{$j->{findings}} == 1 && $f->{stage} eq "mining" && !defined($f->{country}) && $f->{share_ppm} == 1000000 && @{$f->{records}} == 1' <<<"$OUT"

echo "# disclose: the report and its proof"
expect 0 "disclose --json" disclose jp-magnet-1 --json
DJ=$OUT
check "lodestone-disclosure/1: its one crossing (CN -> JP; not the oxide shipped to EE) and the certificates" jtest \
	'$j->{format} eq "lodestone-disclosure/1" && (grep { $_->{org} eq "Baotou Separation" } @{$j->{certificates}}) && @{$j->{crossings}} == 1 && $j->{crossings}[0]{from} eq "CN" && $j->{crossings}[0]{to} eq "JP" && $j->{crossings}[0]{grams} == 2000 && !(grep { $_->{org} eq "Silmet" } @{$j->{certificates}})' <<<"$DJ"
lsc origin jp-magnet-1 --stages --json
OJ=$OUT
export OJ
check "every stage figure matches origin --stages" jtest \
	'my $o = JSON::PP->new->decode($ENV{OJ}); my $ok = 1; for my $el (keys %{$o->{elements}}) { $ok &&= JSON::PP->new->canonical->encode($o->{elements}{$el}{stages}) eq JSON::PP->new->canonical->encode($j->{elements}{$el}{stages}) && $o->{elements}{$el}{grams} == $j->{elements}{$el}{grams} } $ok && keys %{$j->{elements}} == keys %{$o->{elements}}' <<<"$DJ"
jget '$j->{bundle}{base64}' <<<"$DJ" | base64 -d >"$T/disclosed.bundle"
export LODESTONE_API="ipc://$T/nobody/api.sock" # offline: no daemon
expect 0 "the disclosure's bundle verifies offline" verify-bundle "$T/disclosed.bundle" \
	--trust "$T/auth.key.pub"
check "every record the report names is in the bundle" bash -c '
	for id in $(perl -MJSON::PP -e "my \$j = decode_json(<STDIN>); for my \$e (values %{\$j->{elements}}) { for my \$s (values %{\$e->{stages}}) { print \"\$_->{record}\n\" for @{\$s->{places}} } } print \"\$_->{id}\n\" for @{\$j->{certificates}}; print \"\$_->{transfer}\n\" for @{\$j->{crossings}}" <<<"$1"); do
		"$2" bundle inspect "$3" | grep -q "$id" || { echo "missing $id"; exit 1; }
	done' _ "$DJ" "$LS" "$T/disclosed.bundle"
export LODESTONE_API="ipc://$D/api.sock"
expect 0 "disclose --html -o FILE" disclose jp-magnet-1 --html -o "$T/report.html"
check "the HTML shows the separation at Baotou with its share" \
	grep -q "<tr><td>separation</td><td>CN</td><td>100.0 %</td><td>1680</td><td>Baotou</td>" "$T/report.html"
check "and carries the bundle" grep -q 'href="data:application/octet-stream;base64,' "$T/report.html"
check "-o also writes FILE.bundle" test -s "$T/report.html.bundle"
expect 0 "disclose (text)" disclose jp-magnet-1
check "the text lists the stages and the crossing" bash -c 'grep -q "^  separation, 1.68 kg:" <<<"$1" && grep -q "^  CN -> JP, 2 kg (Baotou Separation -> Shin-Etsu Magnetics)" <<<"$1"' _ "$OUT"

echo "# disclose --html: every string from the ledger is escaped"
keygen evil
cert evil '<script>alert(1)</script> & "Co"' JP processor,importer
ship jpmag evil jp-magnet-2 1000
expect 0 "a component made by it" lot transform -k "$T/evil.key" \
	--site '"><img src=x onerror=alert(2)>' --in jp-magnet-2=1000 \
	--out '<b>rotor</b>:component:1000:Dy=85000,Fe=660000'
expect 0 "disclose --html" disclose '<b>rotor</b>' --html -o "$T/evil.html"
check "no tag from the ledger, the names escaped" bash -c '! grep -qiE "<script|<img|<b>" "$1" && grep -qF "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;" "$1" && grep -qF "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" "$1"' _ "$T/evil.html"

echo "# --from HOLDER: the material one holder holds"
ship jpmag mysep jp-magnet-1 5000
expect 0 "origin --stages --from the Malaysian holder" origin jp-magnet-1 --stages \
	--from "$mysep_PK" --json
check "5 kg of the magnet: 420 g of Dy, every stage of it adding up to 420 g" jtest \
	'my $e = $j->{elements}{dy}; my $ok = $j->{grams} == 5000 && $e->{grams} == 420 && keys %{$e->{stages}} == 4; for my $s (values %{$e->{stages}}) { my $t = 0; $t += $_ for values %{$s->{by_country}}; $ok &&= $s->{grams} == 420 && $t == 420 } $ok' <<<"$OUT"
expect 1 "check --from: the holder's material, non-compliant under DFARS 2027" \
	check jp-magnet-1 --from "$mysep_PK" --profile "$D27" --at 2027-01-01 --json
check "judged on its 5 kg" jtest '$j->{grams} == 5000 && $j->{holder} eq $ENV{mysep_PK} && $j->{findings}[0]{of_grams} == 420' <<<"$OUT"
lsc origin jp-magnet-1 --stages --from "$mysep_PK" --json
OJ=$OUT
expect 0 "disclose --from the Malaysian holder" disclose jp-magnet-1 --from "$mysep_PK" --json
check "its figures are origin --stages --from's" jtest \
	'my $o = JSON::PP->new->decode($ENV{OJ}); my $ok = $j->{grams} == 5000; for my $el (keys %{$o->{elements}}) { $ok &&= JSON::PP->new->canonical->encode($o->{elements}{$el}{stages}) eq JSON::PP->new->canonical->encode($j->{elements}{$el}{stages}) && $o->{elements}{$el}{grams} == $j->{elements}{$el}{grams} } $ok && keys %{$j->{elements}} == keys %{$o->{elements}}' <<<"$OUT"
expect_err 1 "holds none" "disclose --from a key that holds none of it" \
	disclose jp-magnet-1 --from "$cnsep_PK"
expect_err 1 "holds none" "check --from a key that holds none of it" \
	check jp-magnet-1 --from "$cnsep_PK" --profile "$D27" --at 2027-01-01

echo "# the Chinese regime of 2026: the 22 June list, subsidiaries, the No. 70 extension"
stop_daemon "$DAEMON_PID"
D2="$T/node2"
export LODESTONE_API="ipc://$D2/api.sock"
keygen cnauth usauth cnmag mp mpsub usare fwm jpbuy
start_daemon "$D2" --trust "$T/auth.key.pub" || { not_ok "second daemon starts"; finish; }
cert cnauth "MOFCOM" CN authority
cert usauth "US Department of Commerce" US authority
cert cnmag "Ningbo Magnets" CN miner,processor,exporter
cert mp "MP Materials" US importer,processor
cert mpsub "MP Magnetics" US importer,processor
cert usare "USA Rare Earth" US importer,processor
cert fwm "Fort Worth Magnets" US importer,processor
cert jpbuy "Tokyo Motors" JP importer,exporter,processor
lsc policy publish -k "$T/cnauth.key" "$ROOT/contrib/policies/cn-2025-rare-earths.json"
check "the 2025 regime is published by the CN authority" test "$RC" -eq 0
NO61=$(sed -n 2p <<<"$OUT")
expect 0 "the 22 June 2026 list" policy publish -k "$T/cnauth.key" \
	"$ROOT/contrib/policies/cn-2026-export-control-list.json"
expect 0 "a Dy magnet lot made in CN" lot register -k "$T/cnmag.key" --label cn-mag --site Ningbo \
	--country CN --category magnet --grams 100000 --composition Nd=290000,Dy=50000,Fe=640000
expect 3 "to MP Magnetics, not listed, before any ownership record: license-required" \
	verify cn-mag --export-to US --end-user "$mpsub_PK"
expect 1 "to MP Materials, listed: denied" verify cn-mag --export-to US --end-user "$mp_PK"
expect 1 "a US authority cannot state an ownership for CN's policies (untrusted)" \
	ownership state -k "$T/usauth.key" --owner "MP Materials" --subsidiary "MP Magnetics" \
	--share 100 --jurisdiction CN
check "the refusal says why" grep -q "untrusted" <<<"$ERR$OUT"
expect 0 "a US authority's ownership record for US: USA Rare Earth owns Fort Worth Magnets" \
	ownership state -k "$T/usauth.key" --owner "USA Rare Earth" --subsidiary "Fort Worth Magnets" \
	--share 80 --jurisdiction US
expect 3 "which does not extend CN's denial to Fort Worth Magnets" \
	verify cn-mag --export-to US --end-user "$fwm_PK"
expect 0 "MOFCOM: MP Materials owns 60 % of MP Magnetics" ownership state -k "$T/cnauth.key" \
	--owner "MP Materials" --subsidiary "MP Magnetics" --share 60% --jurisdiction CN
OWN=$OUT
expect 0 "MOFCOM: and 40 % of a minority holding (below 50 %)" ownership state -k "$T/cnauth.key" \
	--owner "MP Materials" --subsidiary "Tokyo Motors" --share 40 --jurisdiction CN
expect 1 "the subsidiary of a listed firm is denied" verify cn-mag --export-to US --end-user "$mpsub_PK" --json
export OWN
check "end-user-denied, naming the ownership record" jtest \
	'my @r = grep { $_->{code} eq "end-user-denied" } @{$j->{reasons}}; @r && $r[0]{message} =~ /subsidiary/ && (grep { $_ eq $ENV{OWN} } @{$r[0]{records}})' <<<"$OUT"
expect 3 "a 40 % holding does not extend it" verify cn-mag --export-to JP --end-user "$jpbuy_PK"
expect_err 1 "end-user-denied" "admission refuses a transfer to the subsidiary" \
	lot transfer -k "$T/cnmag.key" cn-mag --grams 1000 --to "$mpsub_PK"
expect 0 "recorded as a violation" lot transfer -k "$T/cnmag.key" cn-mag --grams 1000 \
	--to "$mpsub_PK" --record-violation
expect 0 "the bundle of the lot" bundle cn-mag -o "$T/cn-mag.bundle"
lsc bundle inspect "$T/cn-mag.bundle"
check "carries the ownership record the verdict used" grep -q "$OWN" <<<"$OUT"
export LODESTONE_API="ipc://$T/nobody/api.sock"
expect 1 "verify-bundle offline: broken by the denied transfer" verify-bundle "$T/cn-mag.bundle" \
	--trust "$T/auth.key.pub" --json
check "end-user-denied in the offline verdict" jtest \
	'grep { $_->{code} eq "end-user-denied" } @{$j->{reasons}}' <<<"$OUT"
export LODESTONE_API="ipc://$D2/api.sock"

echo "# the No. 70 suspension: ended on 10 November 2026, an extension loads as data"
expect 0 "a JP buyer holds CN magnets (licensed)" license issue -k "$T/cnauth.key" \
	--number CN-2026-JP-1 --licensee "$cnmag_PK" --destination JP --end-use civilian \
	--items magnet --max-grams 50000
expect 0 "10 kg to Tokyo Motors under it" lot transfer -k "$T/cnmag.key" cn-mag --grams 10000 \
	--to "$jpbuy_PK" --license CN-2026-JP-1 --end-use civilian
expect 0 "received" lot receive -k "$T/jpbuy.key" "$OUT"
# The lot is made today (after 10 November 2026): the question is asked now.
expect 3 "its re-export to DE needs a CN license" \
	verify cn-mag --from "$jpbuy_PK" --export-to DE --json
J=$OUT
check "Nos. 57/61/62 among the reasons: in force again since the suspension ended" jtest \
	'grep { $_->{message} =~ m{No\. 57/61/62} } @{$j->{reasons}}' <<<"$J"
# The example extends to 10 November 2027; the test extends further so that
# it holds whenever it runs.
sed "s/POLICY_ID/$NO61/; s/2027-11-10/2099-01-01/" \
	"$ROOT/contrib/policies/cn-2026-no70-extension.example.json" >"$T/no70-ext.json"
expect 1 "the US authority cannot load China's extension (untrusted)" \
	policy publish -k "$T/usauth.key" "$T/no70-ext.json"
expect 0 "the CN authority loads it" policy publish -k "$T/cnauth.key" "$T/no70-ext.json"
expect 3 "with the extension: still license-required, the 22 June list reaches it" \
	verify cn-mag --from "$jpbuy_PK" --export-to DE --json
check "but Nos. 57/61/62 are suspended again" bash -c '! grep -q "No. 57/61/62" <<<"$1" && grep -q "export-control list" <<<"$1"' _ "$OUT"

echo "# profile files with bad fields: file, line and field"
bad() { # DESC PATTERN FILE-CONTENT
	printf '%s\n' "$3" >"$T/bad.json"
	expect_err 2 "$2" "$1" check jp-magnet-2 --profile "$T/bad.json"
}
bad "an unassigned country code, with the hint" 'bad.json:6: rules\[0\]\.countries\[1\]: .UK. is not an assigned .*GB' \
'{"format": "lodestone-profile/1", "name": "x", "effective_from": "2020-01-01",
 "rules": [
  {"kind": "no-stage-in",
   "stages": ["mining"],
   "countries": ["CN",
                 "UK"]}]}'
bad "an unknown stage" 'bad.json:4: rules\[0\]\.stages\[1\]\.stage: .smelting. is not a stage' \
'{"format": "lodestone-profile/1", "name": "x", "effective_from": "2020-01-01",
 "rules": [{"kind": "no-stage-in", "countries": ["CN"],
   "stages": ["mining",
     {"stage": "smelting", "from": "2027-01-01"}]}]}'
bad "a share over 100 %" 'bad.json:3: rules\[0\]\.max_ppm: expected a whole number 0\.\.1000000' \
'{"format": "lodestone-profile/1", "name": "x", "effective_from": "2020-01-01",
 "rules": [{"kind": "max-share", "stages": ["magnet"],
            "max_ppm": 1650000}]}'
bad "an unknown key" 'bad.json:2: rules\[0\]\.country: unknown key for a no-stage-in rule' \
'{"format": "lodestone-profile/1", "name": "x", "effective_from": "2020-01-01", "rules": [
{"kind": "no-stage-in", "stages": ["magnet"], "country": ["CN"]}]}'
bad "a bad date" 'bad.json:1: effective_from: .2020-13-01. is not a date' \
'{"format": "lodestone-profile/1", "name": "x", "effective_from": "2020-13-01", "rules": []}'
bad "a missing format" 'bad.json:1: format: required: "lodestone-profile/1"' \
'{"name": "x", "effective_from": "2020-01-01", "rules": []}'
bad "a JSON syntax error" 'bad.json:2:' \
'{"format": "lodestone-profile/1",
  "name": "x" "effective_from": "2020-01-01"}'
bad "nesting 100,000 deep" 'bad.json:1:2049: maximum parsing depth' "$(printf '[%.0s' {1..100000})"
bad "a share as a fraction" 'bad.json:2: rules\[0\]\.max_ppm: expected a whole number' \
'{"format": "lodestone-profile/1", "name": "x", "effective_from": "2020-01-01",
 "rules": [{"kind": "max-share", "stages": ["magnet"], "max_ppm": 650000.5}]}'
expect_err 2 "cannot read .*: Is a directory" "a directory is not called an oversized profile" \
	check jp-magnet-2 --profile "$T"

stop_daemon "$DAEMON_PID"
finish
