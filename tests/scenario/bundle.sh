#!/usr/bin/env bash
# Bundles admit what they could not use: a record cut from a bundle leaves
# the records after it unapplied and the verdict broken, naming them; the
# equivocation a node holds travels in the bundle; the text names the lot, and
# a bundle edited to name another lot fails; a lot whose maker has a long feed
# bundles small.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/bundle.sh
source "$(dirname "$0")/helpers.bash"

A="$T/node-a"
B="$T/node-b"
API_A="ipc://$A/api.sock"
API_B="ipc://$B/api.sock"

# bundle_drop IN OUT INDEX: IN without its record INDEX (Bundle.records).
# bundle_name IN OUT HEX: IN naming lot HEX (Bundle.lot).
bundle_edit() {
	perl -e '
		my ($in, $out, $op, $arg) = @ARGV;
		open(my $f, "<:raw", $in) or die "$in: $!";
		local $/; my $b = <$f>; close $f;
		sub varint { my ($s, $p) = @_; my ($v, $sh) = (0, 0);
			while (1) { my $c = ord(substr($s, $$p++, 1)); $v |= ($c & 0x7f) << $sh;
				last unless $c & 0x80; $sh += 7 } $v }
		my ($p, $rec, $o) = (0, 0, "");
		while ($p < length $b) {
			my $start = $p; my $tag = varint($b, \$p); my $len = varint($b, \$p);
			my $field = substr($b, $start, $p - $start + $len); $p += $len;
			if ($tag == 0x0a) { $o .= $field unless $op eq "drop" && $rec == $arg; $rec++ }
			elsif ($tag == 0x12 && $op eq "name") { $o .= "\x12\x20" . pack("H64", $arg) }
			else { $o .= $field }
		}
		open(my $g, ">:raw", $out) or die "$out: $!"; print $g $o; close $g;' "$@"
}
bundle_drop() { bundle_edit "$1" "$2" drop "$3"; }
bundle_name() { bundle_edit "$1" "$2" name "$3"; }
verdicts() { # "verdict code code ..." of a --json verify output on stdin
	json 'join(" ", $j->{verdict}, map { $_->{code} } @{$j->{reasons}})'
}

keygen auth mine sep imp
KA=$("$LSD" --data-dir "$A" --init) || { not_ok "node A inits"; finish; }
start_daemon "$A" --trust "$T/auth.key.pub" || { not_ok "node A starts"; finish; }
PID_A=$DAEMON_PID
ok "node A starts"
export LODESTONE_API=$API_A

echo "# a chain whose separator is certified after the policy"
expect 0 "certify the mine" cert issue -k "$T/auth.key" --subject "$mine_PK" --org "Bayan Obo" \
	--country CN --roles miner,exporter
cat >"$T/cn.json" <<'EOF'
{"format": "lodestone-policy/1", "policies": [
 {"ref": "cn", "jurisdiction": "CN", "name": "test: heavy rare earths",
  "effective_from": "2025-01-01", "controlled_elements": ["Dy", "Tb"],
  "controlled_categories": ["oxide"], "denied_end_uses": ["military"]}]}
EOF
expect 0 "publish the policy" policy publish -k "$T/auth.key" "$T/cn.json"
POL=$(grep -E '^[0-9a-f]{64}$' <<<"$OUT" | head -n1)
expect 0 "certify the separator (after the policy)" cert issue -k "$T/auth.key" --subject "$sep_PK" \
	--org "Baotou Separation" --country CN --roles processor,exporter
expect 0 "certify the importer" cert issue -k "$T/auth.key" --subject "$imp_PK" --org "Narva Magnets" \
	--country EE --roles importer,processor
expect 0 "register ore" lot register -k "$T/mine.key" --label ore-1 --site "Bayan Obo" --country CN \
	--category ore --grams 1000000 --composition Nd=50000,Dy=2000
ORE=$OUT
expect 0 "ship it to Baotou" lot transfer -k "$T/mine.key" ore-1 --grams 1000000 --to "$sep_PK"
expect 0 "Baotou receives" lot receive -k "$T/sep.key" "$OUT"
expect 0 "separate" lot transform -k "$T/sep.key" --in ore-1=1000000 \
	--out "Dy-oxide-1:oxide:2000:Dy=800000"
DYOX=$(sed -n 2p <<<"$OUT")

echo "# (a) a record cut from the bundle"
expect 1 "A: export for military use is denied" --json verify "$DYOX" --export-to EE \
	--end-use military
V_MIL=$(verdicts <<<"$OUT")
check "A: denied for the end use ($V_MIL)" grep -q "^denied .*end-use-denied" <<<"$V_MIL"
expect 0 "bundle of the Dy oxide" bundle "$DYOX" -o "$T/dy.bundle"
expect 1 "verify-bundle: the same denial" --json verify-bundle "$T/dy.bundle" --trust "$T/auth.key.pub" \
	--export-to EE --end-use military
check "verify-bundle's verdict = A's ($V_MIL)" test "$(verdicts <<<"$OUT")" = "$V_MIL"
expect 0 "bundle inspect lists the records" --json bundle inspect "$T/dy.bundle"
IDX=$(jget "my \$i = 0; for (@{\$j->{records}}) { last if \$_->{id} eq '$POL'; \$i++ } \$i" <<<"$OUT")
check "the policy is record $IDX of the bundle" \
	jtest "\$j->{records}[$IDX]{id} eq '$POL' && \$j->{lot} eq '$DYOX'" <<<"$OUT"
bundle_drop "$T/dy.bundle" "$T/nopol.bundle" "$IDX"
expect 0 "bundle inspect of the cut bundle" --json bundle inspect "$T/nopol.bundle"
check "the cut bundle lacks the policy" jtest "!grep { \$_->{id} eq '$POL' } @{\$j->{records}}" <<<"$OUT"
SEPCERT=$(jget '(map { $_->{id} } grep { $_->{type} eq "certificate" } @{$j->{records}})[1]' <<<"$OUT")
expect 1 "verify-bundle without the policy: not allowed" --json verify-bundle "$T/nopol.bundle" \
	--trust "$T/auth.key.pub" --export-to EE --end-use military
check "the export is denied, not allowed" jtest '$j->{verdict} eq "denied"' <<<"$OUT"
check "the record that waited for the policy is named, with the policy" jtest "
	grep { \$_->{code} eq 'missing-dependency' && \$_->{message} =~ /could not be applied/ &&
		(grep { \$_ eq '$POL' } @{\$_->{records}}) } @{\$j->{reasons}}" <<<"$OUT"
expect 1 "verify-bundle without the policy: provenance broken" verify-bundle "$T/nopol.bundle" \
	--trust "$T/auth.key.pub"
check "text: broken, with missing-dependency" \
	bash -c "sed -n 2p <<<\"\$1\" | grep -qx broken && grep -q 'missing-dependency: bundle record' <<<\"\$1\"" \
	_ "$OUT"
check "text: the separator's certificate waits for the policy" grep -q "${POL:0:16}" <<<"$OUT"
: "$SEPCERT"

echo "# (c) the text names the lot; a bundle edited to name another lot fails"
expect 0 "verify-bundle: valid" verify-bundle "$T/dy.bundle" --trust "$T/auth.key.pub"
check "the first line names the lot and its label" \
	test "$(sed -n 1p <<<"$OUT")" = "lot $DYOX 'Dy-oxide-1' (bundle '$T/dy.bundle')"
check "then the verdict" test "$(sed -n 2p <<<"$OUT")" = valid
# Renamed to its ancestor, a bundle whose lot went nowhere is the ancestor's
# proof as well (the same records); once the lot has moved, it is not.
expect 0 "Baotou ships 100 g of the Dy oxide to the mine" lot transfer -k "$T/sep.key" "$DYOX" \
	--grams 100 --to "$mine_PK"
expect 0 "the mine receives it" lot receive -k "$T/mine.key" "$OUT"
expect 0 "bundle of the shipped Dy oxide" bundle "$DYOX" -o "$T/dys.bundle"
expect 0 "verify-bundle of it: valid" verify-bundle "$T/dys.bundle" --trust "$T/auth.key.pub"
bundle_name "$T/dys.bundle" "$T/ore.bundle" "$ORE"
expect_err 1 "is not a proof of lot $ORE: bundle record [0-9]+ \\([0-9a-f]{64}\\) is not part of it" \
	"a bundle renamed to its ancestor lot fails" verify-bundle "$T/ore.bundle" \
	--trust "$T/auth.key.pub"
check "and says nothing on stdout" test -z "$OUT"
bundle_name "$T/dy.bundle" "$T/none.bundle" "$(printf '%064d' 7)"
expect_err 1 "names lot 0{63}7, which none of its records makes" \
	"a bundle naming a lot it does not hold fails" verify-bundle "$T/none.bundle" \
	--trust "$T/auth.key.pub"
expect 0 "--lot picks the ancestor explicitly" verify-bundle "$T/ore.bundle" --trust "$T/auth.key.pub" \
	--lot "$DYOX"
check "and checks the lot asked for" test "$(sed -n 1p <<<"$OUT" | cut -d' ' -f2)" = "$DYOX"

echo "# (d) a lot whose maker has a long feed bundles small"
N=300
for i in $(seq "$N"); do
	"$LS" lot register -k "$T/mine.key" --label "bulk-$i" --site "Bayan Obo" --country CN \
		--category ore --grams 10 --composition Nd=1000 >/dev/null 2>&1 || break
done
expect 0 "the mine registered $N more lots" --json status
expect 0 "register ore-2 after them" lot register -k "$T/mine.key" --label ore-2 --site "Bayan Obo" \
	--country CN --category ore --grams 5000 --composition Nd=50000,Dy=2000
expect 0 "ship ore-2" lot transfer -k "$T/mine.key" ore-2 --grams 5000 --to "$sep_PK"
expect 0 "Baotou receives ore-2" lot receive -k "$T/sep.key" "$OUT"
expect 0 "separate ore-2" lot transform -k "$T/sep.key" --in ore-2=5000 --out "Dy-oxide-2:oxide:10:Dy=800000"
DY2=$(sed -n 2p <<<"$OUT")
expect 0 "bundle of Dy-oxide-2" --json bundle "$DY2" -o "$T/dy2.bundle"
NREC=$(jget '$j->{records}' <<<"$OUT")
check "the bundle holds $NREC records, not the mine's $N others" test "$NREC" -lt 30
expect 0 "verify-bundle of Dy-oxide-2" --json verify-bundle "$T/dy2.bundle" --trust "$T/auth.key.pub"
V_DY2=$(verdicts <<<"$OUT")
expect 0 "A's verdict on Dy-oxide-2" --json verify "$DY2"
check "verify-bundle's verdict = A's ($V_DY2)" test "$(verdicts <<<"$OUT")" = "$V_DY2"

echo "# (b) an equivocating mine: node A and a copy of it each take a different record at one seq"
stop_daemon "$PID_A"
check "node A stops" test $? -eq 0
cp -a "$A" "$B" && rm -f "$B/node.key" "$B/node.key.pub" "$B/api.sock"
KB=$("$LSD" --data-dir "$B" --init) || not_ok "node B inits"
start_daemon "$A" --trust "$T/auth.key.pub" || { not_ok "node A starts again"; finish; }
PID_A=$DAEMON_PID
start_daemon "$B" --trust "$T/auth.key.pub" || { not_ok "node B starts"; finish; }
PID_B=$DAEMON_PID
expect 0 "A: the mine registers fork-a" lot register -k "$T/mine.key" --label fork-a --site "Bayan Obo" \
	--country CN --category ore --grams 7 --composition Nd=1000
FA=$OUT
LODESTONE_API=$API_B expect 0 "B: the mine registers fork-b at the same seq" lot register \
	-k "$T/mine.key" --label fork-b --site "Bayan Obo" --country CN --category ore --grams 8 \
	--composition Nd=1000
stop_daemon "$PID_A"
stop_daemon "$PID_B"
PA=$((20000 + RANDOM % 20000))
PB=$((PA + 1))
start_daemon "$A" --trust "$T/auth.key.pub" --listen "tcp://127.0.0.1:$PA" \
	--peer "$KB@tcp://127.0.0.1:$PB" || { not_ok "node A starts with its peer"; finish; }
PID_A=$DAEMON_PID
start_daemon "$B" --trust "$T/auth.key.pub" --listen "tcp://127.0.0.1:$PB" \
	--peer "$KA@tcp://127.0.0.1:$PA" || { not_ok "node B starts with its peer"; finish; }
PID_B=$DAEMON_PID
for i in $(seq $((100 * TIME_SCALE))); do
	lsc --json status
	jtest '$j->{equivocations} >= 1' <<<"$OUT" && break
	sleep 0.2
done
check "A holds the equivocation" jtest '$j->{equivocations} >= 1' <<<"$OUT"
expect 1 "A: fork-a is broken (equivocation)" --json verify "$FA"
V_EQ=$(verdicts <<<"$OUT")
check "A's reason is the equivocation ($V_EQ)" grep -q "^broken .*equivocation" <<<"$V_EQ"
expect 0 "bundle of fork-a" bundle "$FA" -o "$T/fa.bundle"
expect 0 "bundle inspect: the evidence travels" --json bundle inspect "$T/fa.bundle"
check "one evidence pair, two records of the mine at one seq" jtest "
	@{\$j->{evidence}} == 1 && \$j->{evidence}[0][0]{author} eq '$mine_PK' &&
	\$j->{evidence}[0][0]{seq} == \$j->{evidence}[0][1]{seq} &&
	\$j->{evidence}[0][0]{id} ne \$j->{evidence}[0][1]{id}" <<<"$OUT"
expect 1 "verify-bundle of fork-a" --json verify-bundle "$T/fa.bundle" --trust "$T/auth.key.pub"
check "verify-bundle's verdict = A's ($V_EQ)" test "$(verdicts <<<"$OUT")" = "$V_EQ"
expect 1 "verify-bundle of fork-a, text" verify-bundle "$T/fa.bundle" --trust "$T/auth.key.pub"
check "text: broken (equivocation)" \
	bash -c "sed -n 2p <<<\"\$1\" | grep -qx broken && grep -q '^  equivocation: ' <<<\"\$1\"" _ "$OUT"
# Evidence whose records are not a pair breaks the bundle, named.
perl -0777 -pe 's/fork-b/fork-c/' "$T/fa.bundle" >"$T/badev.bundle"
expect 1 "verify-bundle with tampered evidence" --json verify-bundle "$T/badev.bundle" \
	--trust "$T/auth.key.pub"
check "the evidence pair is reported" jtest '
	grep { $_->{code} eq "bad-signature" && $_->{message} =~ /evidence pair 0/ } @{$j->{reasons}}' \
	<<<"$OUT"

stop_daemon "$PID_A"
check "node A stops" test $? -eq 0
stop_daemon "$PID_B"
check "node B stops" test $? -eq 0
finish
