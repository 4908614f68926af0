#!/usr/bin/env bash
# Ack means durable (issue 14): lodestoned runs under strace while a client
# registers ACK_RECORDS lots (default 50), one command (one connection) each.
# For every one, the answer to its submission must follow the completion of
# an fdatasync of the store's data file after the submission arrived: the
# commit that holds the record is on disk before the client hears "accepted".
#
#   LODESTONE_BIN=/abs/build/bin bash tests/reliability/ack_durable.sh
#   ACK_RECORDS=N, ACK_JSON=FILE (the result)
# Skips (exit 0, saying so) where strace is missing or may not trace.
source "$(dirname "$0")/../scenario/helpers.bash"

N=${ACK_RECORDS:-50}
JSON=${ACK_JSON:-}
D="$T/node"
if ! command -v strace >/dev/null || ! strace -f -o /dev/null true 2>/dev/null; then
	echo "ack_durable: strace is missing or may not trace here: skipped"
	exit 0
fi

keygen auth m
"$LSD" --data-dir "$D" --init >/dev/null 2>&1
strace -f -tt -s 96 -o "$T/trace" -e trace=openat,accept,accept4,recvfrom,sendto,close,fdatasync,fsync,msync \
	"$LSD" --data-dir "$D" --trust "$T/auth.key.pub" 2>>"$D.log" &
DAEMON_PID=$!
DAEMON_PIDS+=("$DAEMON_PID")
for i in $(seq 100); do
	"$LS" --api "ipc://$D/api.sock" status >/dev/null 2>&1 && break
	sleep 0.1
done
export LODESTONE_API="ipc://$D/api.sock"
expect 0 "certify the writer" cert issue -k "$T/auth.key" --subject "$T/m.key.pub" --org Mine \
	--country US --roles miner
acked=0
for i in $(seq "$N"); do
	if id=$(timeout -k 2 30 "$LS" lot register -k "$T/m.key" --label "ack-$i" --site Pit \
		--country US --category ore --grams 1000 --composition Nd=30000 2>>"$T/err"); then
		is_id "$id" && acked=$((acked + 1))
	fi
done
check "$N lots registered, each acknowledged with its id ($acked)" test "$acked" -eq "$N"
# SIGTERM to the daemon itself (strace would detach and leave it running)
LSD_PID=$(cat "$D/lodestoned.pid" 2>/dev/null || awk 'NR == 1 { print $1 }' "$T/trace")
kill -TERM "$LSD_PID"
wait "$DAEMON_PID"
check "lodestoned under strace exits 0 on SIGTERM" test $? -eq 0

# Every answer to a submission (a Response whose kind is submit: the bytes
# 08 01 52, "\10\1R" as strace prints them) must come after an fdatasync of
# data.mdb that completed after the submission (a Request 08 01 52) arrived
# on the same connection.
perl -e '
	my (%data, %conn, $ok, $bad, $seq);
	($ok, $bad) = (0, 0);
	while (<>) {
		$seq++;
		next unless /^\d+\s+\S+\s+(?:<\.\.\. (\w+) resumed>.*|(\w+)\((.*))\)\s+=\s+(-?\d+)/;
		my ($call, $args, $ret) = ($1 // $2, $3 // "", $4);
		if ($call eq "openat" && $args =~ /data\.mdb"/ && $ret >= 0) { $data{$ret} = 1 }
		elsif (($call eq "accept4" || $call eq "accept") && $ret >= 0) { $conn{$ret} = { req => 0, sync => 0 } }
		elsif ($call eq "close" && $args =~ /^(\d+)/) { delete $conn{$1} }
		elsif ($call eq "recvfrom" && $args =~ /^(\d+),/ && $conn{$1} && index($args, q(\10\1R)) >= 0) {
			$conn{$1}{req} = $seq;
		} elsif ($call eq "sendto" && $args =~ /^(\d+),/ && $conn{$1} && index($args, q(\10\1R)) >= 0) {
			my $c = $conn{$1};
			if ($c->{req} && $c->{sync} > $c->{req}) { $ok++ } else { $bad++; print STDERR "not synced: line $seq\n" }
		} elsif ($call eq "fdatasync" || $call eq "fsync") {
			# its completion: the whole line, or the resumed one (whose fd
			# is on the unfinished line: any counts)
			$_->{sync} = $seq for ($args =~ /^(\d+)/ && !$data{$1}) ? () : values %conn;
		}
	}
	print "$ok $bad\n";
' "$T/trace" >"$T/result" 2>"$T/result.err"
head -3 "$T/result.err" | sed 's/^/       /'
read -r good bad <"$T/result"
echo "       $good acknowledgements after their commit's fdatasync, $bad before"
check "every acknowledgement of a submission followed its commit's fdatasync ($good, $bad not)" \
	test "$bad" -eq 0 -a "$good" -ge "$N"
check "the trace saw fdatasync of the store's data file" grep -q 'fdatasync' "$T/trace"

if [ -n "$JSON" ]; then
	mkdir -p "$(dirname "$JSON")"
	cat >"$JSON" <<EOF
{
  "test": "ack_durable",
  "what": "lodestoned under strace -f while a client registers $N lots, one connection each",
  "checked": ["every answer to a submission is sent after an fdatasync of data.mdb that completed after the submission arrived on its connection"],
  "records": $N,
  "acknowledged": $acked,
  "acks_after_fdatasync": $good,
  "acks_before_fdatasync": $bad,
  "passed": $([ "$FAIL" -eq 0 ] && echo true || echo false)
}
EOF
	echo "# result in $JSON"
fi
finish
