#!/usr/bin/env bash
# fuzz.sh - every decoder of untrusted bytes under libFuzzer with ASan and
# UBSan and an RSS limit: records and bundles (envelope), gossip messages,
# C2SP notes and proofs (note, logproof), API requests and replies (api), key
# files (keyfile), the daemon's config file (config) and policy files
# (policy). Seeds come from tests/fuzz/corpus-NAME (kept in the repository);
# what a run finds new is kept in build/fuzz/corpus-NAME.
#
#   bash tests/reliability/fuzz.sh            10 minutes a target (make fuzz-long)
#   bash tests/reliability/fuzz.sh --short    8 s a target (CI)
#   FUZZ_TIME=60 bash tests/reliability/fuzz.sh
#
# Writes build/reliability/fuzz.json: per target the seconds, executions,
# coverage, crashes and the artifact of a crash. Exit 1 if any target crashed
# (a crash, leak, timeout or out-of-memory), 2 if libFuzzer is missing.
set -uo pipefail
cd "$(dirname "$0")/../.."

time_each=${FUZZ_TIME:-600}
[ "${1:-}" = "--short" ] && time_each=${FUZZ_TIME:-8}
targets=(envelope gossip note logproof api keyfile config policy)
out=build/reliability
mkdir -p "$out" "$out/fuzz-artifacts"

if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1 ||
	! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	echo "fuzz: clang with libFuzzer not found (apt-get install clang)" >&2
	exit 2
fi
make -s fuzz || exit 1

fail=0
json="["
for t in "${targets[@]}"; do
	corpus=build/fuzz/corpus-$t
	mkdir -p "$corpus"
	seeds=()
	[ -d tests/fuzz/corpus-$t ] && seeds=(tests/fuzz/corpus-$t)
	dict=()
	[ -f tests/fuzz/$t.dict ] && dict=(-dict=tests/fuzz/$t.dict)
	log=$out/fuzz-$t.log
	rm -f "$out/fuzz-artifacts/$t-"*
	start=$(date +%s)
	build/fuzz/fuzz_$t -max_total_time="$time_each" -rss_limit_mb=2048 -timeout=10 \
		-close_fd_mask=3 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$out/fuzz-artifacts/$t-" "$corpus" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	artifact=$(ls "$out/fuzz-artifacts/$t-"* 2>/dev/null | head -n 1)
	crashes=0
	if [ $rc -ne 0 ] || [ -n "$artifact" ]; then
		crashes=1
		fail=1
		echo "fuzz: $t FAILED (exit $rc): $artifact, log in $log" >&2
	fi
	printf 'fuzz: %-9s %4d s %10s executions, coverage %s, crashes %d\n' "$t" "$secs" \
		"${execs:-0}" "${cov:-0}" "$crashes"
	[ "$json" != "[" ] && json+=","
	json+=$(printf '{"target":"%s","seconds":%d,"executions":%s,"coverage":%s,"crashes":%d,"artifact":"%s"}' \
		"$t" "$secs" "${execs:-0}" "${cov:-0}" "$crashes" "$artifact")
done
json+="]"
printf '{"test":"fuzz","what":"each decoder of untrusted bytes under libFuzzer, ASan and UBSan, RSS limit 2048 MB, timeout 10 s a run","seconds_per_target":%d,"targets":%s,"passed":%s}\n' \
	"$time_each" "$json" "$([ $fail -eq 0 ] && echo true || echo false)" >"$out/fuzz.json"
echo "fuzz: results in $out/fuzz.json"
exit $fail
