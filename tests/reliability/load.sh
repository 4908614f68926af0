#!/usr/bin/env bash
# load.sh - four clients at a fixed rate through a real lodestoned for five
# minutes (lodestone-bench load): no errors, every acknowledged record
# stored, the acknowledgement latency (p50, p99, max) and the daemon's
# memory sampled every second, with its slope over the second half.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/reliability/load.sh [--short]
#
# Full: 10,000 records/s (a client that falls behind sends at once, so on a
# machine that cannot keep up this is its maximum) for 300 s; short: 2,000
# records/s for 8 s. LOAD_RATE and LOAD_SECONDS override. Passes when no
# request failed, none was lost, and (full) the heap (RssAnon) stayed under
# 64 MiB. Writes build/reliability/load.json.
set -uo pipefail
: "${LODESTONE_BIN:?set LODESTONE_BIN to the directory holding lodestone-bench}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RESULT="$ROOT/build/reliability/load.json"
mkdir -p "$(dirname "$RESULT")"

rate=${LOAD_RATE:-10000} secs=${LOAD_SECONDS:-300} short=false
if [ "${1:-}" = "--short" ]; then
	rate=${LOAD_RATE:-2000} secs=${LOAD_SECONDS:-8} short=true
fi
out=$("$LODESTONE_BIN/lodestone-bench" load -c 4 -R "$rate" -t "$secs")
rc=$?
echo "$out"
fig() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
errors=$(fig load_errors) lost=$(fig load_lost) anon=$(fig load_rss_anon_max_kib)
passed=true
if [ $rc -ne 0 ] || [ "${errors:-1}" != 0 ] || [ "${lost:-1}" != 0 ]; then
	passed=false
fi
if ! $short && [ "${anon:-999999}" -ge 65536 ]; then
	passed=false
fi
{
	printf '{"test":"load","what":"4 clients at %s records/s for %s s through lodestoned: errors, acknowledgement latency, daemon memory every second, every acknowledged record stored"' \
		"$rate" "$secs"
	awk '{ printf ",\"%s\":%s", $1, $2 }' <<<"$out"
	printf ',"passed":%s}\n' "$passed"
} >"$RESULT"
echo "load: $($passed && echo passed || echo FAILED), results in $RESULT"
$passed
