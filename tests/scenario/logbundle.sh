#!/usr/bin/env bash
# Bundles proven in the daemon's log: a real lodestoned (no peers, so no
# witnesses) writes a bundle with its log proof as of a signed checkpoint;
# verify-bundle checks it and says the checkpoint is not witnessed; its
# verdict on the node says unwitnessed too. A bundle that leaves out the last
# record of an authority's feed (a revocation) fails, its head proof showing
# the later seq; a record cut without its proof, a checkpoint edited, a
# witness that did not cosign each fail with a reason naming it.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/logbundle.sh
source "$(dirname "$0")/helpers.bash"

A="$T/node-a"
API_A="ipc://$A/api.sock"

# log_edit IN OUT OP [ARG]: rewrites a bundle file.
#   drop INDEX:  without Bundle.records[INDEX] and its LogProof inclusion
#   droprec INDEX: without Bundle.records[INDEX] only
#   cp: one character of the checkpoint's size line changed
log_edit() {
	perl -e '
		my ($in, $out, $op, $arg) = @ARGV;
		open(my $f, "<:raw", $in) or die "$in: $!";
		local $/; my $b = <$f>; close $f;
		sub varint { my ($s, $p) = @_; my ($v, $sh) = (0, 0);
			while (1) { my $c = ord(substr($s, $$p++, 1)); $v |= ($c & 0x7f) << $sh;
				last unless $c & 0x80; $sh += 7 } $v }
		sub enc { my $v = shift; my $o = "";
			do { my $c = $v & 0x7f; $v >>= 7; $o .= chr($c | ($v ? 0x80 : 0)) } while ($v);
			$o }
		# The fields of a message: [tag, whole field bytes, payload].
		sub fields { my $s = shift; my ($p, @f) = (0);
			while ($p < length $s) { my $st = $p; my $t = varint($s, \$p);
				my $l = varint($s, \$p); push @f, [$t, substr($s, $st, $p - $st + $l),
				substr($s, $p, $l)]; $p += $l } @f }
		my ($rec, $o) = (0, "");
		for my $f (fields($b)) {
			my ($t, $whole, $pl) = @$f;
			if ($t == 0x0a) {
				$o .= $whole unless ($op eq "drop" || $op eq "droprec") && $rec == $arg;
				$rec++;
			} elsif ($t == 0x22) {
				my ($inc, $lp) = (0, "");
				for my $g (fields($pl)) {
					my ($gt, $gw, $gp) = @$g;
					if ($gt == 0x1a) { $lp .= $gw unless $op eq "drop" && $inc == $arg; $inc++ }
					elsif ($gt == 0x12 && $op eq "cp") {
						my @l = split /\n/, $gp, -1; $l[1] =~ s/(\d)$/$1 == 9 ? 8 : $1 + 1/e;
						my $n = join("\n", @l); $lp .= "\x12" . enc(length $n) . $n;
					} else { $lp .= $gw }
				}
				$o .= "\x22" . enc(length $lp) . $lp;
			} else { $o .= $whole }
		}
		open(my $g, ">:raw", $out) or die "$out: $!"; print $g $o; close $g;' "$@"
}

keygen auth mine sep old
start_daemon "$A" --trust "$T/auth.key.pub" --checkpoint-interval 1 ||
	{ not_ok "node A starts"; finish; }
PID_A=$DAEMON_PID
ok "node A starts"
export LODESTONE_API=$API_A

expect 0 "status" --json status
LOGVK=$(jget '$j->{log_vkey}' <<<"$OUT")
WITVK=$(jget '$j->{witness_vkey}' <<<"$OUT")
ORIGIN=${LOGVK%%+*}
check "the daemon names its log ($ORIGIN)" test -n "$ORIGIN"

echo "# a chain, and the authority's feed ending with a revocation"
expect 0 "certify the mine" cert issue -k "$T/auth.key" --subject "$mine_PK" --org "Bayan Obo" \
	--country CN --roles miner,exporter
cat >"$T/cn.json" <<'EOF'
{"format": "lodestone-policy/1", "policies": [
 {"ref": "cn", "jurisdiction": "CN", "name": "test: heavy rare earths",
  "effective_from": "2025-01-01", "controlled_elements": ["Dy", "Tb"],
  "controlled_categories": ["oxide"], "denied_end_uses": ["military"]}]}
EOF
expect 0 "publish the policy" policy publish -k "$T/auth.key" "$T/cn.json"
expect 0 "certify the separator" cert issue -k "$T/auth.key" --subject "$sep_PK" \
	--org "Baotou Separation" --country CN --roles processor,exporter
expect 0 "certify an old key" cert issue -k "$T/auth.key" --subject "$old_PK" --org "Old Mine" \
	--country CN --roles miner
expect 0 "register ore" lot register -k "$T/mine.key" --label ore-1 --site "Bayan Obo" --country CN \
	--category ore --grams 1000000 --composition Nd=50000,Dy=2000
expect 0 "ship it to Baotou" lot transfer -k "$T/mine.key" ore-1 --grams 1000000 --to "$sep_PK"
expect 0 "Baotou receives" lot receive -k "$T/sep.key" "$OUT"
expect 0 "separate" lot transform -k "$T/sep.key" --in ore-1=1000000 \
	--out "Dy-oxide-1:oxide:2000:Dy=800000"
DYOX=$(sed -n 2p <<<"$OUT")
expect 0 "the authority revokes the old key (its last record)" cert revoke -k "$T/auth.key" \
	--subject "$old_PK" --reason "mine closed"
REV=$(grep -E '^[0-9a-f]{64}$' <<<"$OUT" | head -n1)
check "the revocation's id" is_id "$REV"

echo "# the daemon: unwitnessed"
expect 0 "verify on the node: valid" --json verify "$DYOX"
check "with the unwitnessed warning" jtest '$j->{verdict} eq "valid" &&
	grep { $_->{code} eq "unwitnessed" } @{$j->{warnings}}' <<<"$OUT"

echo "# the bundle, with its log proof"
expect 0 "bundle of the Dy oxide (waits for the checkpoint that holds it)" bundle "$DYOX" \
	-o "$T/dy.bundle"
expect 0 "bundle inspect" --json bundle inspect "$T/dy.bundle"
check "it carries a log proof of the daemon's log, signed" jtest "\$j->{log}{log} eq '$ORIGIN' &&
	\$j->{log}{signed_by_log_key} && \$j->{log}{cosignatures} == 0 &&
	\$j->{log}{inclusions} == scalar(@{\$j->{records}}) && \$j->{log}{head_proofs} >= 1" <<<"$OUT"
IDX=$(jget "my \$i = 0; for (@{\$j->{records}}) { last if \$_->{id} eq '$REV'; \$i++ } \$i" <<<"$OUT")
check "the revocation is record $IDX of the bundle" jtest "\$j->{records}[$IDX]{id} eq '$REV'" \
	<<<"$OUT"
expect 0 "bundle inspect (text)" bundle inspect "$T/dy.bundle"
check "text: the log proof summary" grep -q "^log proof: checkpoint [0-9]* of log $ORIGIN" <<<"$OUT"

expect 0 "verify-bundle without witnesses: valid" --json verify-bundle "$T/dy.bundle" \
	--trust "$T/auth.key.pub"
check "the checkpoint is named, not witnessed" jtest "\$j->{verdict} eq 'valid' &&
	\$j->{log}{log} eq '$ORIGIN' && !\$j->{log}{witnessed} &&
	\$j->{log}{statement} =~ /^checkpoint \\d+ of log / &&
	index(\$j->{log}{statement}, ' of log $ORIGIN, not witnessed') > 0 &&
	grep { \$_->{code} eq 'unwitnessed' && \$_->{message} =~ /not witnessed/ } @{\$j->{warnings}}" \
	<<<"$OUT"
expect 0 "verify-bundle (text)" verify-bundle "$T/dy.bundle" --trust "$T/auth.key.pub"
check "text: valid, as of the checkpoint" bash -c "sed -n 2p <<<\"\$1\" | grep -qx valid &&
	grep -q '  as of checkpoint [0-9]* of log $ORIGIN, not witnessed' <<<\"\$1\"" _ "$OUT"

expect 1 "verify-bundle with the daemon's own witness key: nobody cosigned" --json verify-bundle \
	"$T/dy.bundle" --trust "$T/auth.key.pub" --witness "$WITVK"
check "unwitnessed, naming the witness" jtest "\$j->{verdict} eq 'broken' &&
	grep { \$_->{code} eq 'unwitnessed' && index(\$_->{message}, '${WITVK%%+*}') >= 0 }
	@{\$j->{reasons}}" <<<"$OUT"
expect_err 2 "--quorum 2 is more than the 1 witnesses given" "--quorum above the witnesses" \
	verify-bundle "$T/dy.bundle" --trust "$T/auth.key.pub" --witness "$WITVK" --quorum 2
expect_err 2 "is a key of type 0x01, not a witness key" "the log key as a witness" \
	verify-bundle "$T/dy.bundle" --trust "$T/auth.key.pub" --witness "$LOGVK"

echo "# omission and tampering"
log_edit "$T/dy.bundle" "$T/norev.bundle" drop "$IDX"
expect 1 "without the revocation (and its proof): broken" --json verify-bundle "$T/norev.bundle" \
	--trust "$T/auth.key.pub"
check "the head proof shows the later seq, naming the revocation" jtest "
	grep { \$_->{code} eq 'missing-dependency' && \$_->{message} =~ /are left out/ &&
		(grep { \$_ eq '$REV' } @{\$_->{records}}) } @{\$j->{reasons}}" <<<"$OUT"
log_edit "$T/dy.bundle" "$T/cut.bundle" droprec "$IDX"
expect 1 "a record cut, its proof left: broken" --json verify-bundle "$T/cut.bundle" \
	--trust "$T/auth.key.pub"
check "the proofs no longer match the records" jtest "
	grep { \$_->{code} eq 'log-proof' } @{\$j->{reasons}}" <<<"$OUT"
log_edit "$T/dy.bundle" "$T/cp.bundle" cp
expect 1 "the checkpoint edited: broken" --json verify-bundle "$T/cp.bundle" \
	--trust "$T/auth.key.pub"
check "its signature fails" jtest "
	grep { \$_->{code} eq 'log-proof' && \$_->{message} =~ /checkpoint/ } @{\$j->{reasons}}" \
	<<<"$OUT"

stop_daemon "$PID_A" && ok "node A stops" || not_ok "node A stops"
finish
