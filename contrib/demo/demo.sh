#!/usr/bin/env bash
# Lodestone demo: one rare-earth supply chain from a Chinese mine to a German
# rotor maker, played through the `lodestone` client against a real
# `lodestoned`, under China's 2025 export controls.
#
#   bash contrib/demo/demo.sh BIN_DIR        (what `make demo` runs)
#
# Needs no input: keys are made with --no-passphrase. The ledger lives in a
# temporary directory that is removed at the end; the provenance graph of the
# rotors (rotors.dot, and rotors.svg and rotors.png when Graphviz is
# installed) is written to $LODESTONE_DEMO_OUT (default: build/demo), which
# is printed at the end.
set -euo pipefail

BIN=${1:?usage: demo.sh BIN_DIR}
BIN=$(cd "$BIN" && pwd)
LS="$BIN/lodestone"
LSD="$BIN/lodestoned"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POLICY="$HERE/../policies/cn-2025-rare-earths.json"
OUT=${LODESTONE_DEMO_OUT:-build/demo}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

for f in "$LS" "$LSD" "$POLICY"; do
	[ -e "$f" ] || { echo "demo: $f is missing (run make first)" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lodestone-demo.XXXXXX")
DAEMON_PID=
PEER_PID=
stop_daemon() {
	local pid=$1
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
}
cleanup() {
	stop_daemon "$PEER_PID"
	stop_daemon "$DAEMON_PID"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export LODESTONE_API="ipc://$WORK/node/api.sock"
export LODESTONE_NO_TTY=1
K="$WORK/keys"
mkdir -p "$K"

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' N=$'\e[0m'; else B= G= R= Y= N=; fi
n=0
step() { n=$((n + 1)); printf '\n%s%2d. %s%s\n' "$B" "$n" "$*" "$N"; }
say() { printf '    %s\n' "$*"; }
# run CMD...: runs the client, shows its output indented, stops the demo on failure.
run() {
	local out
	if ! out=$("$LS" "$@" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/    /' >&2
		echo "demo: 'lodestone $*' failed" >&2
		exit 1
	fi
	RUN_OUT=$out
}
# verdict WANT CMD...: a verify whose verdict (and exit code) is part of the story.
verdict() {
	local want=$1 out rc colour
	shift
	set +e
	out=$("$LS" "$@" 2>&1)
	rc=$?
	set -e
	# verify-bundle names the lot and the bundle first.
	if [[ $out == "lot "* ]]; then out=$(printf '%s\n' "$out" | tail -n +2); fi
	case $rc in 0) colour=$G ;; 3) colour=$Y ;; *) colour=$R ;; esac
	printf '    %s=> %s%s (exit %d)\n' "$colour" "$(printf '%s\n' "$out" | head -n1)" "$N" "$rc"
	printf '%s\n' "$out" | tail -n +2 | grep -v '^    record ' | sed 's/^/       /' || true
	if [ "$(printf '%s\n' "$out" | head -n1)" != "$want" ]; then
		echo "demo: expected '$want' from 'lodestone $*'" >&2
		exit 1
	fi
}
short() { printf '%.16s' "$1"; }

echo "${B}Lodestone demo${N}: Bayan Obo ore -> Baotou oxide and metal -> Ningbo NdFeB magnets"
echo "-> Hanau rotors, under China's 2025 rare-earth export controls."

step "Key pairs for the authority and five participants (no passphrase: a demo)"
for who in authority mine separator magnets importer defence; do
	"$LS" keygen -o "$K/$who.key" --no-passphrase >/dev/null
	say "$(printf '%-10s %s' "$who" "$("$LS" pubkey "$K/$who.key")")"
done

step "Start lodestoned, trusting the authority's key; it will let Hanau's daemon replicate"
NODE_KEY=$("$LSD" --data-dir "$WORK/node" --init 2>/dev/null)
HANAU_KEY=$("$LSD" --data-dir "$WORK/hanau" --init 2>/dev/null)
GOSSIP="ipc://$WORK/gossip.sock"
"$LSD" --data-dir "$WORK/node" --trust "$K/authority.key.pub" --listen "$GOSSIP" \
	--allow-peer "$HANAU_KEY" 2>"$WORK/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 100); do
	"$LS" status >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.log" >&2; exit 1; }
	sleep 0.1
done
"$LS" status >/dev/null || { echo "demo: lodestoned did not come up" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
say "lodestoned (pid $DAEMON_PID) serves $LODESTONE_API"
say "node key $(short "$NODE_KEY"), gossip on $GOSSIP for node $(short "$HANAU_KEY") only"

step "The authority certifies the participants"
cert() { # key org country roles
	run cert issue -k "$K/authority.key" --subject "$K/$1.key.pub" --org "$2" --country "$3" --roles "$4"
	say "$(printf '%-42s %s  %-28s %s' "$2" "$3" "$4" "$(short "$RUN_OUT")")"
}
cert mine "Bayan Obo Rare Earth Mine" CN miner,exporter
cert separator "Baotou Separation and Smelting" CN processor,exporter
cert magnets "Ningbo NdFeB Magnet Works" CN processor,exporter
cert importer "Hanau Magnet Importers GmbH" DE importer,processor,exporter
cert defence "Fort Worth Defence Systems" US importer

step "The authority publishes the 2025 control policies (contrib/policies/cn-2025-rare-earths.json)"
run policy publish -k "$K/authority.key" "$POLICY"
say "No. 18 (Apr 2025: Sm Gd Tb Dy Lu Sc Y)         $(short "$(sed -n 1p <<<"$RUN_OUT")")"
say "No. 57/61/62 (Oct 2025: +Ho Er Tm Eu Yb, reach) $(short "$(sed -n 2p <<<"$RUN_OUT")")"
say "No. 70 (suspends Oct measures to 2026-11-10)     $(short "$(sed -n 3p <<<"$RUN_OUT")")"

step "Bayan Obo registers 10 t of ore (3 % Nd, 0.8 % Pr, 0.2 % Dy, 0.03 % Tb)"
run lot register -k "$K/mine.key" --label BO-ore-2025-117 --site "Bayan Obo" --country CN \
	--category ore --grams 10000000 --composition Nd=30000,Pr=8000,Dy=2000,Tb=300,Ce=50000,La=25000,Fe=300000
ORE=$RUN_OUT
say "lot BO-ore-2025-117 $(short "$ORE")"

step "The mine ships the ore to Baotou; Baotou receives it"
run lot transfer -k "$K/mine.key" "$ORE" --grams 10000000 --to "$K/separator.key.pub"
T=$RUN_OUT
run lot receive -k "$K/separator.key" "$T"
say "transfer $(short "$T"), receipt $(short "$RUN_OUT") (domestic: no license)"

step "Baotou separates the ore into NdPr oxide and Dy oxide"
run lot transform -k "$K/separator.key" --site Baotou --in "$ORE=10000000" \
	--out "BT-NdPr-oxide-88:oxide:400000:Nd=600000,Pr=160000,O=240000" \
	--out "BT-Dy2O3-12:oxide:20000:Dy=870000,O=130000"
NDPR_OX=$(sed -n 2p <<<"$RUN_OUT")
DY_OX=$(sed -n 3p <<<"$RUN_OUT")
say "NdPr oxide 400 kg $(short "$NDPR_OX"), Dy oxide 20 kg $(short "$DY_OX")"

step "Baotou reduces the oxides to NdPr metal and Dy metal"
run lot transform -k "$K/separator.key" --site Baotou --in "$NDPR_OX=400000" --in "$DY_OX=20000" \
	--out "BT-NdPr-metal-31:metal:300000:Nd=780000,Pr=205000,Fe=10000" \
	--out "BT-Dy-metal-07:metal:17000:Dy=999000"
NDPR_M=$(sed -n 2p <<<"$RUN_OUT")
DY_M=$(sed -n 3p <<<"$RUN_OUT")
say "NdPr metal 300 kg $(short "$NDPR_M"), Dy metal 17 kg $(short "$DY_M")"

step "Baotou ships both metals to the Ningbo magnet works, which receives them"
for lot in "$NDPR_M:300000" "$DY_M:17000"; do
	run lot transfer -k "$K/separator.key" "${lot%%:*}" --grams "${lot##*:}" --to "$K/magnets.key.pub"
	T=$RUN_OUT
	run lot receive -k "$K/magnets.key" "$T"
	say "transfer $(short "$T") of ${lot##*:} g received"
done

step "Ningbo sinters 1 t of N42SH NdFeB magnets (23 % Nd, 6 % Pr, 1.6 % Dy)"
run lot transform -k "$K/magnets.key" --site Ningbo --in "$NDPR_M=300000" --in "$DY_M=17000" \
	--out "NB-N42SH-2025-0415:magnet:1000000:Nd=230000,Pr=60000,Dy=16000,Fe=680000,B=10000"
MAG=$(sed -n 2p <<<"$RUN_OUT")
say "magnets $(short "$MAG")"

step "May Ningbo export the magnets to Germany for civilian use? (no license yet)"
verdict license-required verify "$MAG" --export-to DE --end-use civilian

step "The authority issues license CN-MOFCOM-2025-DE-0042: magnets to DE, civilian; no re-export to US, no military use"
run license issue -k "$K/authority.key" --number CN-MOFCOM-2025-DE-0042 --licensee "$K/magnets.key.pub" \
	--destination DE --end-use civilian --items magnet,dy,tb --max-grams 500000 \
	--no-reexport-to US --no-military
say "license $(short "$RUN_OUT")"
verdict allowed verify "$MAG" --export-to DE --end-use civilian

step "Ningbo ships 400 kg of magnets to Hanau citing the license; Hanau receives them"
run lot transfer -k "$K/magnets.key" "$MAG" --grams 400000 --to "$K/importer.key.pub" \
	--license CN-MOFCOM-2025-DE-0042 --end-use civilian
T=$RUN_OUT
run lot receive -k "$K/importer.key" "$T"
say "transfer $(short "$T"), receipt $(short "$RUN_OUT")"
verdict valid verify "$MAG"

step "May Hanau re-export the magnets to the US defence contractor for military use?"
verdict denied verify "$MAG" --from "$K/importer.key.pub" --export-to US --end-use military \
	--end-user "$K/defence.key.pub"

step "Hanau builds 1.6 t of EV motor rotors from the magnets (category: component)"
run lot transform -k "$K/importer.key" --site Hanau --in "$MAG=400000" \
	--out "HU-rotor-batch-7:component:1600000:Nd=57500,Pr=15000,Dy=4000,Fe=800000"
ROTORS=$(sed -n 2p <<<"$RUN_OUT")
say "rotors $(short "$ROTORS")"

step "May Hanau export the rotors to Japan for civilian use? (components are exempt)"
verdict allowed verify "$ROTORS" --export-to JP --end-use civilian

step "Where was the dysprosium in the rotors mined and processed?"
run origin "$ROTORS"
printf '%s\n' "$RUN_OUT" | grep -A3 '^Dy ' | sed 's/^/    /'

step "Offline proof: a bundle for the rotors, checked without the daemon"
run bundle "$ROTORS" -o "$WORK/rotors.bundle"
say "$RUN_OUT"
verdict valid verify-bundle "$WORK/rotors.bundle" --trust "$K/authority.key.pub" --lot "$ROTORS"

step "Provenance graph of the rotors: the dysprosium from Bayan Obo, the border it crossed under its license"
"$LS" trace "$ROTORS" --format dot -o "$OUT/rotors.dot"
say "DOT: $OUT/rotors.dot"
if command -v dot >/dev/null 2>&1; then
	"$LS" trace "$ROTORS" --format svg -o "$OUT/rotors.svg"
	"$LS" trace "$ROTORS" --format png -o "$OUT/rotors.png"
	say "SVG: $OUT/rotors.svg, PNG: $OUT/rotors.png"
else
	say "(install Graphviz for SVG and PNG: sudo apt-get install graphviz;"
	say " then lodestone trace LOT --format svg -o rotors.svg)"
fi
"$LS" trace "$ROTORS" | sed 's/^/    /'

step "Hanau starts its own lodestoned, naming the first by node key; it fetches the ledger"
HANAU_API="ipc://$WORK/hanau/api.sock"
"$LSD" --data-dir "$WORK/hanau" --trust "$K/authority.key.pub" \
	--peer "$NODE_KEY@$GOSSIP" 2>"$WORK/hanau.log" &
PEER_PID=$!
want=$("$LS" --json status | sed -n 's/.*"records": *\([0-9]*\).*/\1/p')
got=0
for _ in $(seq 150); do
	got=$("$LS" --api "$HANAU_API" --json status 2>/dev/null |
		sed -n 's/.*"records": *\([0-9]*\).*/\1/p') || true
	[ "${got:-0}" = "$want" ] && break
	sleep 0.1
done
if [ "${got:-0}" != "$want" ]; then
	echo "demo: Hanau's daemon holds ${got:-0} of $want records" >&2
	cat "$WORK/hanau.log" >&2
	exit 1
fi
say "Hanau's daemon holds all $want records, each checked again on arrival:"
"$LS" --api "$HANAU_API" status | sed -n '/^peers/,$p' | sed 's/^/    /'
say "and answers the rotor question itself:"
verdict allowed --api "$HANAU_API" verify "$ROTORS" --export-to JP --end-use civilian

step "The ledger"
"$LS" status | sed -n '1,3p' | sed 's/^/    /'

printf '\n%sDemo finished.%s Graph written to %s\n' "$B" "$N" "$OUT"
