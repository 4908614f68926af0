#!/usr/bin/env bash
# Nothing disappears: a receipt for less than was shipped sends the rest back
# to the sender, who takes it back (or declares it lost, with a reason), and
# `holdings` shows what each participant holds and has in transit, through
# the real client and daemon.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/holdings.sh
source "$(dirname "$0")/helpers.bash"

D="$T/node"
API="ipc://$D/api.sock"

keygen auth mine sep nobody
if ! start_daemon "$D" --trust "$T/auth.key.pub"; then
	not_ok "lodestoned starts"
	finish
fi
ok "lodestoned starts"
export LODESTONE_API=$API

expect 0 "cert issue (miner)" cert issue -k "$T/auth.key" --subject "$mine_PK" \
	--org "Bayan Obo Mine" --country CN --roles miner,exporter
expect 0 "cert issue (separator)" cert issue -k "$T/auth.key" --subject "$sep_PK" \
	--org "Baotou Separation" --country CN --roles processor,exporter
expect 0 "lot register 7,500 g" lot register -k "$T/mine.key" --label conc-1 --site "Bayan Obo" \
	--country CN --category concentrate --grams 7500 --composition Nd=300000,Dy=20000
LOT=$OUT

echo "# holdings before anything moves"
expect 0 "holdings -k (the key's own)" holdings -k "$T/mine.key"
check "the text names the lot and its mass in human units (7.5 kg)" grep -qE "'conc-1' concentrate +7.5 kg" <<<"$OUT"
expect 0 "holdings HEX --json" --json holdings "$mine_PK"
export LOT mine_PK sep_PK
check "holdings --json: the miner holds 7,500 g of the lot, nothing in transit" \
	jtest '$j->{holder} eq $ENV{mine_PK} && @{$j->{holds}} == 1 && $j->{holds}[0]{lot} eq $ENV{LOT}
		&& $j->{holds}[0]{grams} == 7500 && $j->{holds}[0]{label} eq "conc-1"
		&& $j->{holds}[0]{category} eq "concentrate" && @{$j->{incoming}} == 0
		&& @{$j->{outgoing}} == 0 && !$j->{more}{holds}' <<<"$OUT"

echo "# a transfer in transit"
expect 0 "transfer all 7,500 g" lot transfer -k "$T/mine.key" "$LOT" --grams 7500 --to "$sep_PK"
TR=$OUT
export TR
expect 0 "holdings of the sender" --json holdings -k "$T/mine.key"
check "the sender holds nothing and has 7,500 g outgoing to the receiver" \
	jtest '@{$j->{holds}} == 0 && @{$j->{outgoing}} == 1 && $j->{outgoing}[0]{transfer} eq $ENV{TR}
		&& $j->{outgoing}[0]{to} eq $ENV{sep_PK} && $j->{outgoing}[0]{grams} == 7500
		&& $j->{outgoing}[0]{lot} eq $ENV{LOT} && !$j->{outgoing}[0]{return}
		&& @{$j->{incoming}} == 0' <<<"$OUT"
expect 0 "holdings of the receiver" --json holdings "$sep_PK"
check "the receiver has 7,500 g incoming from the sender" \
	jtest '@{$j->{holds}} == 0 && @{$j->{incoming}} == 1 && $j->{incoming}[0]{transfer} eq $ENV{TR}
		&& $j->{incoming}[0]{from} eq $ENV{mine_PK} && $j->{incoming}[0]{grams} == 7500' <<<"$OUT"
expect 0 "holdings text of the receiver" holdings "$sep_PK"
check "the text says in transit from the miner" \
	grep -qE "'conc-1' +7.5 kg +from Bayan Obo Mine \(CN\)" <<<"$OUT"

echo "# a receipt for less than was shipped"
expect_err 2 "500 g short of the 7500 g shipped: say why with --reason" \
	"a short receipt without --reason is refused" lot receive -k "$T/sep.key" "$TR" --grams 7000
expect_err 2 "more than the 7500 g shipped" "a receipt of more than was shipped" \
	lot receive -k "$T/sep.key" "$TR" --grams 7501
expect 0 "receive 7,000 g, saying why" lot receive -k "$T/sep.key" "$TR" --grams 7000 \
	--reason "500 g wet, sent back"
RC1=$OUT
export RC1
expect 0 "show the receipt" --json show "$RC1"
check "show: the receipt says 7,000 g and why" \
	jtest '$j->{receipt}{grams} == 7000 && $j->{receipt}{reason} eq "500 g wet, sent back"' <<<"$OUT"
expect_err 2 "--reason holds a control character" "a reason with a control character" \
	lot receive -k "$T/sep.key" "$TR" --grams 1 --reason "$(printf 'a\tb')"

expect_err 1 "rejected: bad-receipt.*already received" "a second receipt is refused" \
	lot receive -k "$T/sep.key" "$TR" --grams 500 --reason again
expect 0 "holdings of the receiver after the receipt" --json holdings "$sep_PK"
check "the receiver holds 7,000 g; 500 g go back to the sender" \
	jtest '@{$j->{holds}} == 1 && $j->{holds}[0]{grams} == 7000 && @{$j->{incoming}} == 0
		&& @{$j->{outgoing}} == 1 && $j->{outgoing}[0]{return} && $j->{outgoing}[0]{grams} == 500
		&& $j->{outgoing}[0]{receipt} eq $ENV{RC1} && $j->{outgoing}[0]{transfer} eq $ENV{TR}
		&& $j->{outgoing}[0]{to} eq $ENV{mine_PK}
		&& $j->{outgoing}[0]{reason} eq "500 g wet, sent back"' <<<"$OUT"
expect 0 "holdings of the sender after the receipt" --json holdings -k "$T/mine.key"
check "the sender has the 500 g incoming, back from the receiver" \
	jtest '@{$j->{holds}} == 0 && @{$j->{outgoing}} == 0 && @{$j->{incoming}} == 1
		&& $j->{incoming}[0]{return} && $j->{incoming}[0]{grams} == 500
		&& $j->{incoming}[0]{from} eq $ENV{sep_PK}' <<<"$OUT"
expect 0 "trace --format json" trace "$LOT" --down --format json
check "trace: 7,500 g shipped, 7,000 g received, 500 g on their way back, with the reason" \
	jtest 'my ($t) = grep { $_->{record} eq $ENV{TR} } @{$j->{transfers}};
		$t && $t->{grams} == 7500 && $t->{received_grams} == 7000 && $t->{returning_grams} == 500
		&& $t->{returned_grams} == 0 && $t->{lost_grams} == 0
		&& $t->{reason} eq "500 g wet, sent back" && $t->{receipt} eq $ENV{RC1}' <<<"$OUT"
expect 0 "trace text" trace "$LOT" --down
check "trace text: received 7000 g; 500 g short, returning" \
	grep -qE "received 7000 g; 500 g short: 500 g wet, sent back" <<<"$OUT"
check "trace text: 500 g returning to the sender" grep -qE "500 g returning to the sender" <<<"$OUT"
expect_err 1 "rejected: overspend|rejected: not-holder" \
	"the sender cannot ship the 500 g before taking them back" lot transfer -k "$T/mine.key" \
	"$LOT" --grams 500 --to "$sep_PK"

echo "# the sender takes the shortfall back"
expect_err 2 "returns grams to $mine_PK, not to the key" "the receiver cannot take it back" \
	lot receive -k "$T/sep.key" "$RC1"
expect 0 "the sender takes back 500 g" lot receive -k "$T/mine.key" "$RC1"
expect_err 1 "rejected: bad-receipt.*already taken back" "taking it back twice is refused" \
	lot receive -k "$T/mine.key" "$RC1" --grams 1 --reason twice
expect 0 "holdings of the sender after taking back" --json holdings -k "$T/mine.key"
check "the sender holds 500 g again, nothing in transit" \
	jtest '@{$j->{holds}} == 1 && $j->{holds}[0]{grams} == 500 && $j->{holds}[0]{lot} eq $ENV{LOT}
		&& @{$j->{incoming}} == 0 && @{$j->{outgoing}} == 0' <<<"$OUT"
expect 0 "holdings of the receiver after the sender took back" --json holdings "$sep_PK"
check "the receiver still holds 7,000 g, nothing in transit" \
	jtest '$j->{holds}[0]{grams} == 7000 && @{$j->{incoming}} == 0 && @{$j->{outgoing}} == 0' \
	<<<"$OUT"
expect 0 "trace after taking back" trace "$LOT" --down --format json
check "trace: 500 g returned, none lost, none on the way" \
	jtest 'my ($t) = grep { $_->{record} eq $ENV{TR} } @{$j->{transfers}};
		$t->{returned_grams} == 500 && $t->{returning_grams} == 0 && $t->{lost_grams} == 0' <<<"$OUT"
expect 0 "origin of the lot" --json origin "$LOT"
check "origin still counts the whole lot (its shares do not change with custody)" \
	jtest '$j->{elements}{dy}{grams} == 150 && $j->{elements}{dy}{by_country}{CN} == 150' <<<"$OUT"
expect 0 "the sender ships the returned 500 g again" lot transfer -k "$T/mine.key" "$LOT" \
	--grams 500 --to "$sep_PK"
TR2=$OUT
export TR2

echo "# a shortfall declared lost"
expect 0 "refuse the whole consignment (0 g)" lot receive -k "$T/sep.key" "$TR2" --grams 0 \
	--reason "wrong grade, refused"
RC2=$OUT
expect_err 2 "200 g short of the 500 g returned: say why with --reason \(the rest is lost\)" \
	"a partial take-back needs a reason" lot receive -k "$T/mine.key" "$RC2" --grams 300
expect 0 "take back 300 g, 200 g lost" lot receive -k "$T/mine.key" "$RC2" --grams 300 \
	--reason "200 g spilled in transport"
expect 0 "trace of the lost grams" trace "$LOT" --down --format json
check "trace: 500 g shipped, 0 received, 300 g returned, 200 g lost with the reason" \
	jtest 'my ($t) = grep { $_->{record} eq $ENV{TR2} } @{$j->{transfers}};
		$t->{grams} == 500 && $t->{received_grams} == 0 && $t->{returned_grams} == 300
		&& $t->{lost_grams} == 200 && $t->{loss_reason} eq "200 g spilled in transport"
		&& $t->{reason} eq "wrong grade, refused"' <<<"$OUT"
expect 0 "trace text of the lost grams" trace "$LOT" --down
check "trace text: 200 g lost, with the reason" \
	grep -qE "200 g lost: 200 g spilled in transport" <<<"$OUT"
expect 0 "holdings of the sender" --json holdings -k "$T/mine.key"
check "the sender holds the 300 g back" jtest '$j->{holds}[0]{grams} == 300' <<<"$OUT"
check "every gram is accounted for: 7000 held + 300 held + 200 lost = 7500" \
	test "$((7000 + $(jget '$j->{holds}[0]{grams}' <<<"$OUT") + 200))" -eq 7500

echo "# paging and bad input"
lsc holdings --help
check "holdings --help prints its usage" test "$RC" -eq 0 -a "${OUT#usage: lodestone holdings}" != "$OUT"
for i in 1 2 3; do
	lsc lot register -k "$T/mine.key" --label "page-$i" --site s --country CN --category ore \
		--grams "$i" --composition Nd=1
done
expect 0 "holdings --limit 2" --json holdings -k "$T/mine.key" --limit 2
check "two lots, and more to come" jtest '@{$j->{holds}} == 2 && $j->{more}{holds}' <<<"$OUT"
LAST=$(jget '$j->{holds}[1]{lot}' <<<"$OUT")
expect 0 "holdings --after the last lot" --json holdings -k "$T/mine.key" --limit 2 --after "$LAST"
check "the next page: the other two lots, no more" \
	jtest '@{$j->{holds}} == 2 && !$j->{more}{holds}' <<<"$OUT"
expect 0 "holdings text --limit 1" holdings -k "$T/mine.key" --limit 1
check "the text says how to go on" grep -qE "more: go on with --after [0-9a-f]{64}" <<<"$OUT"
expect 0 "holdings of a stranger" --json holdings "$nobody_PK"
check "a stranger holds nothing" \
	jtest '@{$j->{holds}} == 0 && @{$j->{incoming}} == 0 && @{$j->{outgoing}} == 0' <<<"$OUT"
expect_err 2 "whose holdings\? give HEX or -k KEY" "holdings without HEX or -k" holdings
expect_err 2 "HEX" "holdings of a bad key" holdings cafe
expect_err 2 "--limit 0 is not between 1 and 1000" "holdings --limit 0" holdings "$sep_PK" --limit 0
expect_err 2 "--limit 1001 is not between 1 and 1000" "holdings --limit 1001" holdings "$sep_PK" \
	--limit 1001
expect_err 2 "--after 'xyz' is not an id" "holdings --after junk" holdings "$sep_PK" --after xyz
expect_err 2 "unexpected argument" "holdings with two keys" holdings "$sep_PK" "$mine_PK"
stop_daemon "$DAEMON_PID"
expect_err 4 "cannot reach lodestoned" "holdings, daemon down" holdings "$sep_PK"

finish
