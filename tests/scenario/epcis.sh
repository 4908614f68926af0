#!/usr/bin/env bash
# EPCIS 2.0 interchange: a chain exported, checked against the GS1 EPCIS 2.0
# JSON Schema, imported into a fresh daemon with the same keys and
# certificates, and exported again: the same events with the same event
# hashes. --since; a revocation backdated before the last receipt: that event
# carries an errorDeclaration, its eventID unchanged. Then hostile documents:
# clear errors, nothing written; a rejected event refuses the events of the
# import that depend on it (dependency-rejected), nothing left waiting.
#
# The chain: a CN mine registers ore and ships it to a CN separator, which
# transforms it into two oxides and exports one to a DE magnet maker under a
# license; the magnet maker receives less than was sent, saying why.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/epcis.sh
source "$(dirname "$0")/helpers.bash"

HERE="$(cd "$(dirname "$0")/.." && pwd)"
SCHEMA="$HERE/epcis/EPCIS-JSON-Schema.json"
# Debian's python3 (python3-jsonschema of make deps) before a user's own
PY=$(command -v /usr/bin/python3 || command -v python3)
POLICY="$HERE/../contrib/policies/cn-2025-rare-earths.json"
A="$T/a"
B="$T/b"
C="$T/c"
APIA="ipc://$A/api.sock"
APIB="ipc://$B/api.sock"
APIC="ipc://$C/api.sock"

keygen auth mine sep mag
start_daemon "$A" --trust "$T/auth.key.pub" || { not_ok "daemon A starts"; finish; }

echo "# the authority's records, in both daemons"
export LODESTONE_API=$APIA
expect 0 "cert: the mine (CN)" cert issue -k "$T/auth.key" --subject "$mine_PK" \
	--org "Bayan Obo Mine" --country CN --roles miner,exporter
expect 0 "cert: the separator (CN)" cert issue -k "$T/auth.key" --subject "$sep_PK" \
	--org "Baotou Separation" --country CN --roles processor,exporter
expect 0 "cert: the magnet maker (DE)" cert issue -k "$T/auth.key" --subject "$mag_PK" \
	--org "Hanau Magnets" --country DE --roles importer,processor
expect 0 "the CN 2025 policies" policy publish -k "$T/auth.key" "$POLICY"
expect 0 "a license for Dy oxide to DE" license issue -k "$T/auth.key" --number CN-EX-7 \
	--licensee "$sep_PK" --destination DE --end-use civilian --items oxide --max-grams 30000
# B is A as it is now: the same trust anchor, certificates, policies and license.
stop_daemon "$DAEMON_PID"
cp -a "$A" "$B"
rm -f "$B/api.sock"
cp -a "$A" "$C"
rm -f "$C/api.sock"
start_daemon "$A" --trust "$T/auth.key.pub" || { not_ok "daemon A restarts"; finish; }

echo "# the chain, in A"
expect 0 "the mine registers 10 t of ore" lot register -k "$T/mine.key" --label BO-ore-1 \
	--site "Bayan Obo" --country CN --category ore --grams 10000000 \
	--composition Nd=30000,Pr=8000,Dy=2000,Fe=300000 --value 250000
ORE=$OUT
expect 0 "it ships it to the separator" lot transfer -k "$T/mine.key" "$ORE" --grams 10000000 \
	--to "$sep_PK"
expect 0 "the separator receives it" lot receive -k "$T/sep.key" "$OUT"
expect 0 "and separates it into two oxides" lot transform -k "$T/sep.key" --site Baotou \
	--in "$ORE=10000000" --out "BT-NdPr-oxide:oxide:400000:Nd=600000,Pr=160000,O=240000" \
	--out "BT-Dy2O3:oxide:20001:Dy=870000,O=130000"
DY=$(sed -n 3p <<<"$OUT")
expect 0 "the Dy oxide goes to DE under the license" lot transfer -k "$T/sep.key" "$DY" \
	--grams 20001 --to "$mag_PK" --license CN-EX-7 --end-use civilian --description "2 drums"
expect 0 "the magnet maker receives 19.5 kg of it" lot receive -k "$T/mag.key" "$OUT" \
	--grams 19500 --reason "one drum damaged"

echo "# export"
expect 0 "epcis export --all" epcis export --all -o "$T/a.json"
check "it says how many events" grep -q "a.json: 6 events" <<<"$OUT"
check "valid against the GS1 EPCIS 2.0 JSON Schema" "$PY" "$HERE/epcis/validate.py" "$SCHEMA" "$T/a.json"
jq_events() { # FILE EXPR: an expression over the document
	perl -MJSON::PP -e 'my $d = JSON::PP->new->decode(do { local $/; open my $f, "<", $ARGV[0] or die; <$f> });
		my @e = @{$d->{epcisBody}{eventList}}; my $v = eval $ARGV[1]; die $@ if $@; print "$v\n"' "$1" "$2"
}
check "one event per record of the chain" [ "$(jq_events "$T/a.json" 'scalar @e')" = 6 ]
check "the events in the order of the chain" [ "$(jq_events "$T/a.json" 'join ",", map { $_->{type} . ":" . $_->{bizStep} } @e')" = \
	"ObjectEvent:commissioning,ObjectEvent:shipping,ObjectEvent:receiving,TransformationEvent:commissioning,ObjectEvent:shipping,ObjectEvent:receiving" ]
check "eventIDs are CBV 2.0 event hashes" [ "$(jq_events "$T/a.json" 'scalar grep { $_->{eventID} =~ m{^ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0$} } @e')" = 6 ]
check "each names its author's certificate by the EPCIS 2.0 name certificationInfo" [ "$(jq_events "$T/a.json" 'scalar grep { ($_->{certificationInfo} // "") =~ /^urn:lodestone:record:[0-9a-f]{64}$/ } @e')" = 6 ]
check "each names its Lodestone record" [ "$(jq_events "$T/a.json" 'scalar grep { $_->{"ls:recordID"} =~ /^urn:lodestone:record:[0-9a-f]{64}$/ } @e')" = 6 ]
check "quantities in kilograms, exactly" [ "$(jq_events "$T/a.json" '(grep { $_->{type} eq "TransformationEvent" } @e)[0]{outputQuantityList}[1]{quantity}')" = 20.001 ]
check "the license is a business transaction" [ "$(jq_events "$T/a.json" 'scalar grep { $_->{type} eq "urn:lodestone:btt:license" } map { @{$_->{bizTransactionList} || []} } @e')" = 1 ]
check "the ore's ILMD: country, label and site" [ "$(jq_events "$T/a.json" 'join ",", map { $_->{ilmd}{"cbvmda:countryOfOrigin"} . "/" . $_->{ilmd}{"cbvmda:lotNumber"} . "/" . $_->{ilmd}{"ls:site"} } grep { $_->{action} && $_->{action} eq "ADD" } @e')" = "CN/BO-ore-1/Bayan Obo" ]
expect 0 "epcis export of a lot (its ancestors)" epcis export "$DY"
check "the Dy oxide's trace: the ore, its transfer and receipt, the transformation, the oxide's transfer and receipt" \
	[ "$(printf '%s' "$OUT" > "$T/dy.json"; jq_events "$T/dy.json" 'scalar @e')" = 6 ]
expect 0 "the NdPr oxide's trace: no transfer of its own" epcis export BT-NdPr-oxide
check "4 events" [ "$(printf '%s' "$OUT" > "$T/ndpr.json"; jq_events "$T/ndpr.json" 'scalar @e')" = 4 ]
check "in the order of the chain too" [ "$(jq_events "$T/dy.json" 'join ",", map { $_->{type} . ":" . $_->{bizStep} } @e')" = \
	"ObjectEvent:commissioning,ObjectEvent:shipping,ObjectEvent:receiving,TransformationEvent:commissioning,ObjectEvent:shipping,ObjectEvent:receiving" ]
expect 0 "epcis export --down of the ore: everything after it" epcis export "$ORE" --down -o "$T/down.json"
check "the export of a lot is valid too" "$PY" "$HERE/epcis/validate.py" "$SCHEMA" "$T/dy.json" "$T/down.json"

expect 0 "a bundle of the Dy oxide" bundle "$DY" -o "$T/dy.bundle"

echo "# a bundle imported where its first record is refused: what depends on it is refused too"
start_daemon "$C" --trust "$T/auth.key.pub" || { not_ok "daemon C starts"; finish; }
export LODESTONE_API=$APIC
expect 0 "in C the mine's first record is another lot" lot register -k "$T/mine.key" \
	--label BO-ore-0 --site "Bayan Obo" --country CN --category ore --grams 1000 --composition Nd=30000
lsc --json import "$T/dy.bundle"
check "import of the bundle: exit 1" [ "$RC" = 1 ]
check "the ore's registration (the mine's seq 1 again) and the five records after it rejected, none pending" \
	jtest '$j->{rejected} == 6 && $j->{dependency_rejected} == 5 && $j->{pending} == 0' <<<"$OUT"
check "each names the rejected record it depends on" \
	jtest '5 == grep { $_->{code} eq "dependency-rejected" && $_->{dependency} =~ /^[0-9a-f]{64}$/ && index($_->{message}, $_->{dependency}) >= 0 } @{$j->{rejections}}' <<<"$OUT"
lsc import "$T/dy.bundle"
check "in text: exit 1, each rejection on its line" [ "$RC" = 1 ]
check "the transfer of the ore names its registration" \
	grep -q "^rejected [0-9a-f]*: dependency-rejected: names lot [0-9a-f]\{64\}, refused in the same submission (equivocation)$" <<<"$OUT"
check "the receipt names the transfer, and the cause" \
	grep -q "^rejected [0-9a-f]*: dependency-rejected: names transfer [0-9a-f]\{64\}, refused in the same submission because lot [0-9a-f]\{16\} was (equivocation)$" <<<"$OUT"
check "the summary counts them" grep -q "rejected (5 of them for depending on a rejected record)" <<<"$OUT"
check "the daemon holds none of them waiting" [ "$("$LS" status --json | perl -MJSON::PP -e 'print JSON::PP->new->decode(<STDIN>)->{pending}')" = 0 ]
stop_daemon "$DAEMON_PID"

echo "# import into B, a fresh daemon with the same keys and certificates"
start_daemon "$B" --trust "$T/auth.key.pub" || { not_ok "daemon B starts"; finish; }
export LODESTONE_API=$APIB
expect 0 "--dry-run as the mine: what would be written" epcis import "$T/a.json" -k "$T/mine.key" --dry-run
check "two records, the separator's and the maker's left to them" \
	grep -q "2 of 6 events would be written; 0 already there, 0 not importable, 4 signed by other participants" <<<"$OUT"
check "--dry-run wrote nothing" [ "$("$LS" --api "$APIB" log --author "$mine_PK" | grep -c .)" = 0 ]
expect 0 "the mine's events" epcis import "$T/a.json" -k "$T/mine.key"
check "2 accepted" grep -q "2 accepted" <<<"$OUT"
expect 0 "the separator's" epcis import "$T/a.json" -k "$T/sep.key"
expect 0 "the magnet maker's" epcis import "$T/a.json" -k "$T/mag.key"
expect 0 "importing again changes nothing" epcis import "$T/a.json" -k "$T/mag.key"
check "it is all known" grep -q "0 accepted, 1 already known" <<<"$OUT"
expect 0 "--json: the counts" --json epcis import "$T/a.json" -k "$T/sep.key" --dry-run
check "3 known, 3 others', nothing to write" jtest '$j->{known} == 3 && $j->{other_signers} == 3 && $j->{would_write} == 0' <<<"$OUT"
expect 0 "epcis export --all of B" epcis export --all -o "$T/b.json"
same_events() {
	perl -MJSON::PP -e 'my $j = JSON::PP->new->canonical;
		my @d = map { my $f = $_; $j->decode(do { local $/; open my $h, "<", $f or die; <$h> }) } @ARGV;
		exit($j->encode($d[0]{epcisBody}{eventList}) eq $j->encode($d[1]{epcisBody}{eventList}) ? 0 : 1)' "$1" "$2"
}
check "the same events, with the same event hashes" same_events "$T/a.json" "$T/b.json"
expect 0 "B verifies the Dy oxide as A does" verify "$DY"

echo "# a document from another system: its own lot and despatch ids"
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
cat >"$T/erp.json" <<JSON
{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument",
 "schemaVersion":"2.0","creationDate":"$NOW","epcisBody":{"eventList":[
 {"type":"ObjectEvent","eventTime":"$NOW","eventTimeZoneOffset":"+08:00","action":"ADD","bizStep":"urn:epcglobal:cbv:bizstep:commissioning",
  "quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.L7","quantity":0.0125,"uom":"TNE"}],
  "ilmd":{"cbvmda:lotNumber":"ERP-L7","cbvmda:countryOfOrigin":"cn","ls:site":"Bayan Obo","ls:category":"concentrate","ls:composition":{"nd":30000,"dy":2000}}},
 {"type":"ObjectEvent","eventTime":"$NOW","eventTimeZoneOffset":"+08:00","action":"OBSERVE","bizStep":"shipping",
  "quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.L7","quantity":5,"uom":"KGM"}],
  "bizTransactionList":[{"type":"desadv","bizTransaction":"urn:epcglobal:cbv:bt:4012345000009:ASN7"}],
  "destinationList":[{"type":"owning_party","destination":"urn:lodestone:party:$sep_PK"}]}
]}}
JSON
expect 0 "the mine imports an ERP's registration and shipment (an LGTIN lot, in tonnes)" \
	epcis import "$T/erp.json" -k "$T/mine.key"
check "both accepted" grep -q "2 accepted" <<<"$OUT"
expect 0 "the lot is there" --json show ERP-L7
check "0.0125 t: 12,500 g of concentrate, CN" jtest '$j->{lot}{grams} == 12500 && $j->{lot}{country} eq "CN"' <<<"$OUT"
export sep_PK; export ERP_LOT=$(jget '$j->{id}' <<<"$OUT")
expect 0 "the shipment is the mine's newest record" --json log --author "$mine_PK" --limit 1
check "5 kg of that lot (its LGTIN in the document) to the separator" \
	jtest '$j->{type} eq "transfer" && $j->{transfer}{grams} == 5000 && $j->{transfer}{lot} eq $ENV{ERP_LOT} && $j->{transfer}{to} eq $ENV{sep_PK}' <<<"$OUT"

echo "# question time, in A: a revocation declares the events after it wrong"
export LODESTONE_API=$APIA
expect 0 "epcis export --since a date long past: everything" epcis export --since 2000-01-01 -o "$T/since.json"
check "the same events as --all" same_events "$T/a.json" "$T/since.json"
expect 0 "--since tomorrow: nothing" epcis export --since "$(date -u -d tomorrow +%Y-%m-%d)" -o "$T/none.json"
check "an empty list" [ "$(jq_events "$T/none.json" 'scalar @e')" = 0 ]
expect 0 "the authority revokes the magnet maker from an hour ago" cert revoke -k "$T/auth.key" \
	--subject "$mag_PK" --reason "key stolen" --effective "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)"
expect 0 "epcis export --all again" epcis export --all -o "$T/revoked.json"
check "the maker's receipt carries an errorDeclaration" [ "$(jq_events "$T/revoked.json" \
	'scalar grep { $_->{errorDeclaration} && $_->{errorDeclaration}{reason} eq "incorrect_data" && $_->{errorDeclaration}{"ls:revocation"} =~ /^urn:lodestone:record:/ } @e')" = 1 ]
check "on the receiving event, the others have none" [ "$(jq_events "$T/revoked.json" \
	'join ",", map { $_->{bizStep} } grep { $_->{errorDeclaration} } @e')" = receiving ]
check "its eventID is the event's as before (the hash leaves the declaration out)" \
	[ "$(jq_events "$T/revoked.json" 'join ",", map { $_->{eventID} } @e')" = "$(jq_events "$T/a.json" 'join ",", map { $_->{eventID} } @e')" ]
check "still valid against the schema" "$PY" "$HERE/epcis/validate.py" "$SCHEMA" "$T/revoked.json"
export LODESTONE_API=$APIB

echo "# hostile documents: clear errors, nothing written"
before=$("$LS" status --json | perl -MJSON::PP -e 'print JSON::PP->new->decode(<STDIN>)->{records}')
printf '{"type":"EPCISDocument","epcisBody":{"eventList":[' >"$T/bad.json"
expect_err 2 "not JSON: line 1" "malformed JSON" epcis import "$T/bad.json" -k "$T/mine.key"
printf '{"type":"EPCISDocument","epcisBody":{"eventList":{"a":1}}}' >"$T/bad.json"
expect_err 2 "eventList is not a list" "eventList of the wrong type" epcis import "$T/bad.json" -k "$T/mine.key"
printf '{"type":"EPCISDocument","epcisBody":{"eventList":[7]}}' >"$T/bad.json"
expect_err 2 "event 1 is not a JSON object" "an event of the wrong type" epcis import "$T/bad.json" -k "$T/mine.key"
perl -e 'print "{\"type\":\"EPCISDocument\",\"x\":", "[" x 5000, "]" x 5000, "}"' >"$T/bad.json"
expect_err 2 "nests deeper than 32 levels" "5,000 levels deep" epcis import "$T/bad.json" -k "$T/mine.key"
truncate -s 65M "$T/huge.json"
expect_err 2 "huge.json.* larger than 67108864 bytes" "a 65 MiB document" epcis import "$T/huge.json" -k "$T/mine.key"
rm -f "$T/huge.json"
perl -MJSON::PP -e 'my $j = JSON::PP->new; my $d = $j->decode(do { local $/; <STDIN> });
	my $e = $d->{epcisBody}{eventList}; push @$e, $e->[0]; print $j->encode($d)' <"$T/a.json" >"$T/dup.json"
expect_err 2 "events 1 and 7 have one eventID" "two events with one eventID" epcis import "$T/dup.json" -k "$T/mine.key"
# another participant's shipment, its ls:signer and ls:recordID taken away:
# its sourceList still names the separator, so the mine does not sign it
perl -MJSON::PP -e 'my $j = JSON::PP->new; my $d = $j->decode(do { local $/; <STDIN> });
	my @e = grep { $_->{bizStep} eq "shipping" && $_->{"ls:signer"} =~ /$ARGV[0]/ } @{$d->{epcisBody}{eventList}};
	delete @{$e[0]}{"ls:signer", "ls:recordID", "eventID"}; $d->{epcisBody}{eventList} = [$e[0]];
	print $j->encode($d)' "$sep_PK" <"$T/a.json" >"$T/theirs.json"
expect 0 "the separator's shipment without ls:signer, as the mine" epcis import "$T/theirs.json" -k "$T/mine.key" --dry-run
check "left to the separator, whose sourceList it is" grep -q "0 of 1 events would be written; 0 already there, 0 not importable, 1 signed by other participants" <<<"$OUT"
perl -pi -e 's/("destinationList")/"ls:signer":["urn:lodestone:party:$ENV{sep_PK}"],$1/' "$T/theirs.json"
lsc epcis import "$T/theirs.json" -k "$T/mine.key"
check "an ls:signer that is a list: not importable, exit 1" [ "$RC" = 1 ]
check "it says why" grep -q "event 1: ls:signer is not a string urn:lodestone:party:" <<<"$ERR"
cat >"$T/mixed.json" <<JSON
{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument",
 "schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z","epcisBody":{"eventList":[
 {"type":"AggregationEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"ADD","parentID":"urn:epc:id:sscc:4012345.1112223334"},
 {"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"ADD","bizStep":"commissioning",
  "quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.L1","quantity":12,"uom":"EA"}],
  "ilmd":{"cbvmda:lotNumber":"L1","cbvmda:countryOfOrigin":"CN","ls:site":"Mine","ls:category":"ore","ls:composition":{"nd":30000}}},
 {"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE","bizStep":"shipping",
  "quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.NOPE","quantity":1,"uom":"KGM"}],
  "destinationList":[{"type":"owning_party","destination":"urn:lodestone:party:$sep_PK"}]},
 {"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","action":"ADD","bizStep":"commissioning",
  "quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.L2","quantity":2.5,"uom":"LBR"}],
  "ilmd":{"cbvmda:lotNumber":"L2","cbvmda:countryOfOrigin":"CN","ls:site":"Mine","ls:category":"ore","ls:composition":{"nd":30000}}}
]}}
JSON
lsc epcis import "$T/mixed.json" -k "$T/mine.key"
check "events without a record: exit 1" [ "$RC" = 1 ]
check "the AggregationEvent, by position" grep -q "event 1: AggregationEvent has no Lodestone record" <<<"$ERR"
check "a count, not a mass" grep -q "event 2: unit 'EA' is not a unit of mass" <<<"$ERR"
check "an unknown lot" grep -q "event 3: unknown lot 'urn:epc:class:lgtin:4012345.012345.NOPE'" <<<"$ERR"
check "2.5 lb is not a whole number of grams" grep -q "event 4: LBR quantity is not a whole number of grams" <<<"$ERR"
check "nothing of them signed" grep -q "0 accepted.*4 not importable" <<<"$OUT"
after=$("$LS" status --json | perl -MJSON::PP -e 'print JSON::PP->new->decode(<STDIN>)->{records}')
check "no record was written by any of it ($before before, $after after)" [ "$before" = "$after" ]
# the mine's shipment with another quantity under its own ls:recordID: not "known"
perl -MJSON::PP -e 'my $j = JSON::PP->new; my $d = $j->decode(do { local $/; <STDIN> });
	my @e = grep { $_->{bizStep} eq "shipping" && $_->{"ls:signer"} =~ /$ARGV[0]/ } @{$d->{epcisBody}{eventList}};
	$e[0]{quantityList}[0]{quantity} = 9000; $d->{epcisBody}{eventList} = [$e[0]];
	print $j->encode($d)' "$mine_PK" <"$T/a.json" >"$T/edited.json"
lsc epcis import "$T/edited.json" -k "$T/mine.key" --dry-run
check "an event edited under its record's id: not importable, exit 1" [ "$RC" = 1 ]
check "it says the event is not that record's" grep -q "event 1: ls:recordID names record urn:lodestone:record:[0-9a-f]*, and the event is not that record's" <<<"$ERR"
check "not counted as already there" grep -q "0 of 1 events would be written; 0 already there, 1 not importable" <<<"$OUT"
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
cat >"$T/rej.json" <<JSON
{"type":"EPCISDocument","epcisBody":{"eventList":[
 {"type":"ObjectEvent","eventTime":"$NOW","action":"OBSERVE","bizStep":"shipping",
  "quantityList":[{"epcClass":"urn:lodestone:lot:$ORE","quantity":1,"uom":"GRM"}],
  "destinationList":[{"type":"owning_party","destination":"urn:lodestone:party:$sep_PK"}]},
 {"type":"ObjectEvent","eventTime":"$NOW","action":"ADD","bizStep":"commissioning",
  "quantityList":[{"epcClass":"urn:x:after","quantity":5,"uom":"KGM"}],
  "ilmd":{"cbvmda:lotNumber":"AFTER","cbvmda:countryOfOrigin":"CN","ls:site":"Mine","ls:category":"ore","ls:composition":{"nd":30000}}}
]}}
JSON
pending_before=$("$LS" status --json | perl -MJSON::PP -e 'print JSON::PP->new->decode(<STDIN>)->{pending}')
lsc --json epcis import "$T/rej.json" -k "$T/mine.key"
check "a shipment of ore the mine no longer holds: rejected, exit 1" [ "$RC" = 1 ]
check "the registration signed after it (its feed names the shipment) is rejected too" \
	jtest '$j->{rejected} == 2 && $j->{dependency_rejected} == 1' <<<"$OUT"
check "nothing waits in the daemon for the rejected shipment" \
	jtest '$j->{pending} == 0 && $j->{after_rejected} == 0' <<<"$OUT"
check "the shipment, by event, with its reason" \
	grep -q "event 1: record [0-9a-f]* rejected: not-holder: " <<<"$ERR"
check "the registration, by event, naming the event it depends on" \
	grep -q "event 2: record [0-9a-f]* rejected: dependency-rejected: it depends on event 1, rejected in this import (names transfer [0-9a-f]\{64\}, refused in the same submission (not-holder))" <<<"$ERR"
pending_after=$("$LS" status --json | perl -MJSON::PP -e 'print JSON::PP->new->decode(<STDIN>)->{pending}')
check "the daemon's pending set is as it was ($pending_before before, $pending_after after)" \
	[ "$pending_before" = "$pending_after" ]
lsc epcis import "$T/rej.json" -k "$T/mine.key"
check "in text: exit 1, and the count says why" [ "$RC" = 1 ]
check "the summary counts the dependants" \
	grep -q "0 accepted, 0 already known, 0 waiting for a record, 2 rejected (1 of them for depending on a rejected event)" <<<"$OUT"
expect_err 2 "which file" "import without a file" epcis import -k "$T/mine.key"
expect_err 2 "not both" "a lot and --all" epcis export "$ORE" --all
expect_err 2 "nope.json" "a file that is not there" epcis import "$T/nope.json" -k "$T/mine.key"

finish
