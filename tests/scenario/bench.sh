#!/usr/bin/env bash
# The benchmarks in their short mode, so that a rule change that makes their
# generated chains invalid fails the tests instead of the next measurement:
# every lodestone-bench programme runs on a small ledger, exits 0 and prints
# its figures. The figures themselves are not judged here (a shared machine
# is noisy); `make bench` runs the full sizes.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/bench.sh
source "$(dirname "$0")/helpers.bash"

BENCH="$LODESTONE_BIN/lodestone-bench"
[ -x "$BENCH" ] || { not_ok "lodestone-bench is built"; finish; }

bench() { # bench FIGURE ARGS...: runs, then checks FIGURE is printed with a number
	local figure=$1
	shift
	if ! OUT=$(cd "$T" && timeout $((120 * TIME_SCALE)) "$BENCH" "$@" 2>"$T/bench.err"); then
		not_ok "lodestone-bench $* exits 0: $(head -c 300 "$T/bench.err")"
		return
	fi
	check "lodestone-bench $* reports $figure" grep -Eq "^$figure [0-9.]+ " <<<"$OUT"
}

bench ingest_vs_raw_verify ingest -n 2000
bench log_vs_nolog ingest -n 2000
bench ingest_vs_raw_threads ingest -n 2000
bench inclusion_build_us log -n 5000 -q 100
bench export_ms verify -n 300
bench api_vs_ingest api -n 1000
bench gossip_vs_ingest gossip -n 1000
bench cosign_rtt_us witness -n 400 -r 3
bench stream_bundle_ms stream -n 300 -c 1024
bench epcis_import_vs_ingest epcis -n 300
finish
