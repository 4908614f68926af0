#!/usr/bin/env bash
# Replies of any size come in chunks: a lot whose bundle is over the old
# 16 MiB reply cap is bundled by `lodestone bundle` out of a daemon and the
# file passes verify-bundle; the same bundle pulled in 4 KiB chunks is the
# same bytes; trace and log of the whole chain stream too; a bundle cut off
# by the daemon's death leaves no file behind, nor does an unknown lot.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/stream.sh
# N=100000 runs it at the size of the issue (make bench does, through
# lodestone-bench stream).
source "$(dirname "$0")/helpers.bash"

N=${N:-21000}
BENCH="$LODESTONE_BIN/lodestone-bench"
[ -x "$BENCH" ] || { not_ok "lodestone-bench is built"; finish; }

echo "# a chain of $N ancestors, bundled through lodestoned (1 MiB chunks)"
if ! OUT=$(timeout $((300 * TIME_SCALE)) "$BENCH" stream -n "$N" -k -d "$T" 2>"$T/bench.err"); then
	not_ok "lodestone-bench stream -n $N: $(head -c 300 "$T/bench.err")"
	finish
fi
fig() { sed -n "s/^$1 \([^ ]*\).*/\1/p" <<<"$OUT"; }
D=$(fig stream_dir)
check "the bundle is over the old 16 MiB cap ($(fig stream_bundle_bytes) bytes)" \
	test "$(fig stream_over_old_cap)" = 1
check "verify-bundle accepts it (exit $(fig stream_verify_exit))" test "$(fig stream_verify_exit)" = 0
if ldd "$LS" | grep -q 'libasan\|libtsan'; then
	# a sanitizer's shadow memory and quarantine are not the client's
	ok "# skip: the client's peak RSS under a sanitizer ($(fig stream_client_rss_kb) kB)"
else
	check "the client's peak RSS ($(fig stream_client_rss_kb) kB) is less than the bundle it wrote" \
		test "$(fig stream_client_rss_kb)" -lt $(($(fig stream_bundle_bytes) / 1024))
fi
[ -n "$D" ] && [ -f "$D/lot.bundle" ] || { not_ok "the bench kept its directory"; finish; }
LOT=$(perl -e 'open(my $f, "<:raw", $ARGV[0]) or die; local $/; my $b = <$f>;
	sub v { my ($p) = @_; my ($x, $s) = (0, 0);
		while (1) { my $c = ord(substr($b, $$p++, 1)); $x |= ($c & 0x7f) << $s;
			last unless $c & 0x80; $s += 7 } $x }
	my $p = 0; while ($p < length $b) { my $t = v(\$p); my $l = v(\$p);
		if ($t == 0x12) { print unpack("H64", substr($b, $p, $l)); last } $p += $l }' "$D/lot.bundle")
check "the bundle names its lot" is_id "$LOT"

DATA="$D/data"
export LODESTONE_API="ipc://$DATA/api.sock"
start_daemon "$DATA" --trust "$D/authority.pub" --stream-chunk 4096 || { not_ok "daemon starts"; finish; }
PID=$DAEMON_PID
ok "the daemon starts with 4 KiB chunks"

CMD_TIMEOUT=$((120 * TIME_SCALE))
expect 0 "bundle in 4 KiB chunks" bundle "$LOT" -o "$T/small.bundle"
check "it is the same bytes as the 1 MiB-chunk bundle" cmp -s "$T/small.bundle" "$D/lot.bundle"
check "bundle reports $((N + 1)) records" grep -q "$((N + 1)) records" <<<"$OUT"
check "no temporary file is left" test -z "$(ls "$T" | grep '\.tmp\.')"

expect 0 "trace of the whole chain" trace "$LOT" --format json
check "the trace has $N lots" test "$(jget 'scalar @{$j->{nodes}}' <<<"$OUT")" = "$N"
expect 0 "log of every record" log
check "the log lists $((N + 1)) records" test "$(grep -c '' <<<"$OUT")" = "$((N + 1))"
expect 0 "log --limit 10 (the rest of the stream is cancelled)" log --limit 10
check "it lists 10" test "$(grep -c '' <<<"$OUT")" = 10
expect 0 "status" status --json
check "no stream is left open" jtest '$j->{streams_open} == 0'

echo "# Ctrl-C leaves no temporary file or directory"
mkdir -p "$T/vtmp"
TMPDIR="$T/vtmp" "$LS" verify-bundle "$T/small.bundle" --trust "$D/authority.pub" \
	>/dev/null 2>"$T/int.err" &
CLIENT=$!
# its own temporary store, lodestone-verify-XXXXXX (not whatever else a
# wrapper such as valgrind keeps in TMPDIR)
vtmp() { ls "$T/vtmp" | grep '^lodestone-verify-'; }
for _ in $(seq $((50 * TIME_SCALE))); do [ -n "$(vtmp)" ] && break; sleep 0.05; done
if kill -0 "$CLIENT" 2>/dev/null && [ -n "$(vtmp)" ]; then
	kill -INT "$CLIENT"
	wait "$CLIENT"
	RC=$?
	check "verify-bundle interrupted by SIGINT dies of it (exit $RC)" test "$RC" -eq 130
	check "  and removes its temporary store" test -z "$(vtmp)"
else
	wait "$CLIENT"
	ok "# skip: verify-bundle finished before it could be interrupted"
fi
"$LS" bundle "$LOT" -o "$T/int.bundle" >/dev/null 2>&1 &
CLIENT=$!
for _ in $(seq $((100 * TIME_SCALE))); do ls "$T" | grep -q 'int\.bundle\.tmp\.' && break; sleep 0.02; done
if kill -0 "$CLIENT" 2>/dev/null; then
	kill -INT "$CLIENT"
	wait "$CLIENT"
	RC=$?
	check "bundle interrupted by SIGINT (exit $RC) leaves no temporary file" \
		test -z "$(ls "$T" | grep 'int\.bundle\.tmp\.')"
else
	wait "$CLIENT"
	ok "# skip: the bundle finished before it could be interrupted"
fi

echo "# failures leave no file"
expect_err 2 "unknown lot" "the bundle of an unknown lot" bundle \
	0000000000000000000000000000000000000000000000000000000000000000 -o "$T/none.bundle"
check "no file for it" test ! -e "$T/none.bundle"
stop_daemon "$PID"
start_daemon "$DATA" --trust "$D/authority.pub" --stream-chunk 256 --stream-memory 1 ||
	{ not_ok "daemon restarts"; finish; }
PID=$DAEMON_PID
echo "# a daemon whose streams may hold 1 MiB in all"
expect_err 1 "past their 1048576 bytes" "a trace of $N lots is refused, saying why" trace "$LOT"
"$LS" bundle "$LOT" -o "$T/cut.bundle" >"$T/cut.out" 2>"$T/cut.err" &
CLIENT=$!
sleep 0.3
if kill -0 "$CLIENT" 2>/dev/null; then
	kill -KILL "$PID"
	wait "$CLIENT"
	RC=$?
	check "a bundle cut off by the daemon's death fails (exit $RC: $(head -c 120 "$T/cut.err"))" \
		test "$RC" -ne 0
	check "and leaves no file" test ! -e "$T/cut.bundle"
	check "nor a temporary one" test -z "$(ls "$T" | grep '\.tmp\.')"
else
	wait "$CLIENT"
	ok "# skip: the 256-byte-chunk bundle finished before the daemon was killed"
fi
rm -rf "$D"
finish
