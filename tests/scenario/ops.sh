#!/usr/bin/env bash
# The daemon as an operator runs it: --version; --trust refuses a secret key
# file; log lines carry a time and a level; --detach returns once the daemon
# answers (no sleep needed) and leaves a pid file; readiness, reload and stop
# reach the service manager by the sd_notify protocol; SIGHUP reloads the
# configuration (log level, peers) without dropping the store or the clients,
# and a broken file keeps the running configuration.
#
#   LODESTONE_BIN=/abs/build/bin bash tests/scenario/ops.sh
source "$(dirname "$0")/helpers.bash"

keygen root
export root_PK

# --version and the secret key guard
run "$LSD" --version
check "lodestoned --version prints its name and version" [ "$RC" -eq 0 ]
check "  as 'lodestoned N.N'" grep -Eq '^lodestoned [0-9]+\.[0-9]+' <<<"$OUT"
run "$LSD" --data-dir "$T/x" --trust "$T/root.key"
check "--trust with a secret key file exits 1" [ "$RC" -eq 1 ]
check "  and says to give the .pub" grep -q "is a secret key file: give its public key file ($T/root.key.pub)" <<<"$ERR"
check "  before it makes anything" [ ! -e "$T/x" ]

# configuration errors name the line at fault
printf 'log-level = info\n[other]\n' >"$T/sec.conf"
run "$LSD" --data-dir "$T/x" --config "$T/sec.conf"
check "an unknown section is refused at its own line, with no setting under it" \
	grep -q "sec.conf' line 2: unknown section \[other\]" <<<"$ERR"
printf 'log-level = info\n  sync-interval = 5\n' >"$T/ind.conf"
run "$LSD" --data-dir "$T/x" --config "$T/ind.conf"
check "an indented line (inih would glue it to the value above) is refused at its line" \
	grep -q "ind.conf' line 2: an indented line" <<<"$ERR"
check "  exit 1, nothing made" [ "$RC" -eq 1 -a ! -e "$T/x" ]

# --detach: returns when ready; the client works at once; pid file; syslog
A="$T/a"
run "$LSD" --data-dir "$A" --trust "$T/root.key.pub" --detach
check "--detach exits 0" [ "$RC" -eq 0 ]
PID=$(cat "$A/lodestoned.pid" 2>/dev/null)
[ -n "$PID" ] && DAEMON_PIDS+=("$PID")
check "  leaving DATA_DIR/lodestoned.pid with a live pid" kill -0 "${PID:-0}"
lsc --api "ipc://$A/api.sock" status
check "  and the daemon answers at once" [ "$RC" -eq 0 ]
run "$LSD" --data-dir "$A" --trust "$T/root.key.pub" --detach
check "a second --detach on the same data dir exits 1" [ "$RC" -eq 1 ]
check "  naming the reason" grep -q "in use by another lodestoned" <<<"$ERR"
# Not our child: a stopped one may linger as a zombie where nothing reaps.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat"; }
kill -TERM "$PID"
for _ in $(seq $((50 * TIME_SCALE))); do alive "$PID" || break; sleep 0.1; done
dead() { ! alive "$1"; }
check "SIGTERM stops the detached daemon" dead "$PID"
check "  and its pid file goes" [ ! -e "$A/lodestoned.pid" ]
run "$LSD" --data-dir "$A" --init --detach
check "--detach with --init is a usage error (exit 2)" [ "$RC" -eq 2 ]

# sd_notify: a datagram socket the test reads, as systemd would
B="$T/b"
mkdir -p "$B"
NS="$T/notify.sock"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(float(sys.argv[3]))
with open(sys.argv[2], "a") as f:
    while True:
        try:
            m = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(m.replace("\n", " ") + "\n"); f.flush()
        if "STOPPING=1" in m:
            break
' "$NS" "$T/notify.log" $((120 * TIME_SCALE)) &
NOTIFY_PID=$!
for _ in $(seq $((50 * TIME_SCALE))); do [ -S "$NS" ] && break; sleep 0.1; done
cat >"$T/b.conf" <<CONF
log-level = info
CONF
NOTIFY_SOCKET="$NS" start_daemon "$B" --trust "$T/root.key.pub" --config "$T/b.conf"
BPID=$DAEMON_PID
waitfor() { # waitfor PATTERN FILE: up to 10 s
	for _ in $(seq $((100 * TIME_SCALE))); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
check "the service manager hears READY=1 with a status and the main pid" \
	waitfor "READY=1 STATUS=serving $B on ipc://$B/api.sock MAINPID=$BPID" "$T/notify.log"
check "log lines carry a UTC time and a level" \
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z lodestoned: info: serving ' "$B.log"

# a record before the reload, to see the store is kept
keygen mine
lsc --api "ipc://$B/api.sock" cert issue -k "$T/root.key" --subject "$T/root.key.pub" --org Root \
	--country CN --roles authority
check "a record is stored before the reload" [ "$RC" -eq 0 ]
lsc --api "ipc://$B/api.sock" lot register -k "$T/mine.key" --label ore --site s --country CN \
	--category ore --grams 5 --composition Nd=1
check "a submission by an uncertified key is rejected" [ "$RC" -eq 1 ]
check "  and the daemon logs it once, with its reason" \
	waitfor "info: rejected lot [0-9a-f]\{16\} from a client: no-certificate: " "$B.log"

# SIGHUP with a new log level and a new peer
C="$T/c"
C_PK=$("$LSD" --data-dir "$C" --init 2>/dev/null)
PORT=$((20000 + RANDOM % 20000))
start_daemon "$C" --trust "$T/root.key.pub" --listen "tcp://127.0.0.1:$PORT" \
	--allow-peer "$("$LSD" --data-dir "$B" --init 2>/dev/null)"
CPID=$DAEMON_PID
cat >"$T/b.conf" <<CONF
log-level = debug
peer = $C_PK@tcp://127.0.0.1:$PORT
CONF
kill -HUP "$BPID"
check "SIGHUP: the daemon says it reloaded" waitfor "configuration reloaded: log level debug, 1 peer" "$B.log"
check "  it is still running (SIGHUP is not a stop)" kill -0 "$BPID"
check "  the service manager heard RELOADING=1 then READY=1" \
	waitfor "RELOADING=1" "$T/notify.log"
check "  the debug level is in force" waitfor "debug: " "$B.log"
lsc --api "ipc://$B/api.sock" --json status
check "  the store is kept (the record is still there)" jtest '$j->{records} >= 1' <<<"$OUT"
check "status names the trusted authorities, with their organisation" \
	jtest '@{$j->{trusted}} == 1 && $j->{trusted}[0]{key} eq $ENV{root_PK} &&
		$j->{trusted}[0]{name} eq "Root (CN)"' <<<"$OUT"
peer_up() {
	for _ in $(seq $((100 * TIME_SCALE))); do
		lsc --api "ipc://$C/api.sock" --json status
		jtest '$j->{records} >= 1' <<<"$OUT" && return 0
		sleep 0.2
	done
	return 1
}
check "  the new peer gets the record by gossip" peer_up

# reloads in a burst while clients ask: every answer whole, the daemon up
( for _ in $(seq 40); do kill -HUP "$BPID" 2>/dev/null; sleep 0.02; done ) &
HUPS=$!
okc=0
for _ in $(seq 10); do
	lsc --api "ipc://$B/api.sock" --json log
	[ "$RC" -eq 0 ] && jtest '@j >= 1' <<<"$OUT" && okc=$((okc + 1))
done
wait "$HUPS"
check "40 SIGHUPs during 10 log requests: every answer whole ($okc of 10)" [ "$okc" -eq 10 ]
check "  and the daemon still runs" kill -0 "$BPID"

# a broken file is refused whole
printf 'log-level = loud\n' >"$T/b.conf"
kill -HUP "$BPID"
check "a broken config on SIGHUP is refused, naming the line" \
	waitfor "reload: .*b.conf.*line 1.*the running configuration is kept" "$B.log"
lsc --api "ipc://$B/api.sock" status
check "  and the daemon goes on serving" [ "$RC" -eq 0 ]

stop_daemon "$BPID"
check "SIGTERM after reloads: exit 0" [ $? -eq 0 ]
check "  the service manager heard STOPPING=1" waitfor "STOPPING=1" "$T/notify.log"
stop_daemon "$CPID"
wait "$NOTIFY_PID" 2>/dev/null
finish
