# tests/reliability/net.bash - sourced by partitions.sh and slow_peer.sh (not
# a test: no .sh). Daemons in network namespaces of their own, joined by
# veth pairs to bridges in one more namespace; everything is made by the test
# on this machine, named after the run, and removed on exit.
#
# Needs root (ip netns, tc). Sources tests/scenario/helpers.bash, which sets
# up the scratch directory $T, ok/not_ok/finish, run/lsc and json/jget.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${LODESTONE_BIN:=$ROOT/build/bin}"
export LODESTONE_BIN
source "$ROOT/tests/scenario/helpers.bash"

NAME=$SCENARIO
RESULT_DIR="$ROOT/build/reliability"
RESULT="$RESULT_DIR/$NAME.json"
mkdir -p "$RESULT_DIR"
SHORT=0
for a in "$@"; do
	case $a in
	--short) SHORT=1 ;;
	*)
		echo "usage: $0 [--short]" >&2
		exit 2
		;;
	esac
done

# A prefix unique to the run for namespace and link names (link names are
# at most 15 bytes: "lsXXXXX" + a short suffix).
RUN_ID=$(printf 'ls%05d' $(($$ % 100000)))
NETNS=() # namespaces made by this run, removed by net_cleanup

net_cleanup() {
	local ns pid
	for pid in "${DAEMON_PIDS[@]}"; do
		kill -CONT "$pid" 2>/dev/null || true # a stopped daemon cannot die
		kill -TERM "$pid" 2>/dev/null || true
	done
	for _ in $(seq 50); do
		pid=
		for p in "${DAEMON_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && pid=$p; done
		[ -z "$pid" ] && break
		sleep 0.1
	done
	for ns in "${NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	_cleanup
}
trap net_cleanup EXIT

# result PASSED KEY=VALUE...: writes $RESULT; VALUEs are JSON (numbers,
# true/false, or quoted strings) except "what", given as plain text.
result() {
	local passed=$1 kv k v body
	shift
	body=$(printf '"test":"%s","short":%s' "$NAME" "$([ "$SHORT" -eq 1 ] && echo true || echo false)")
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		body+=$(printf ',"%s":%s' "$k" "$v")
	done
	printf '{%s,"elapsed_s":%d,"passed":%s}\n' "$body" "$SECONDS" "$passed" >"$RESULT"
	echo "$NAME: wrote $RESULT"
}

# jstr TEXT: TEXT as a JSON string.
jstr() {
	perl -MJSON::PP -e 'print JSON::PP->new->allow_nonref->encode($ARGV[0])' "$1"
}

# need_netns: whether this machine lets the test make namespaces (root, ip).
need_netns() {
	if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
		return 1
	fi
	ip netns add "${RUN_ID}probe" 2>/dev/null || return 1
	ip netns del "${RUN_ID}probe"
}

# netns_add NAME: a namespace with its loopback up.
netns_add() {
	ip netns add "$1" || return 1
	NETNS+=("$1")
	ip -n "$1" link set lo up
}

# bridge_ns NS BRIDGE...: NS gets the bridges, up.
bridge_ns() {
	local ns=$1 br
	shift
	netns_add "$ns" || return 1
	for br in "$@"; do
		ip -n "$ns" link add "$br" type bridge || return 1
		ip -n "$ns" link set "$br" up || return 1
	done
}

# node_ns NS BRNS BRIDGE PORT ADDR: NS with eth0 (ADDR/24), its other end
# PORT in BRNS, a port of BRIDGE.
node_ns() {
	local ns=$1 brns=$2 br=$3 port=$4 addr=$5
	netns_add "$ns" || return 1
	ip -n "$brns" link add "$port" type veth peer name eth0 netns "$ns" || return 1
	ip -n "$brns" link set "$port" master "$br" up || return 1
	ip -n "$ns" addr add "$addr/24" dev eth0 || return 1
	ip -n "$ns" link set eth0 up
}

# start_ns_daemon NS DIR ARGS...: lodestoned on DIR inside NS (its API on
# DIR/api.sock, reachable from here: a socket file is not in a network
# namespace). Sets DAEMON_PID (ip netns exec execs the daemon).
start_ns_daemon() {
	local ns=$1 dir=$2 i
	shift 2
	ip netns exec "$ns" "$LSD" --data-dir "$dir" "$@" 2>>"$dir.log" &
	DAEMON_PID=$!
	DAEMON_PIDS+=("$DAEMON_PID")
	for i in $(seq 100); do
		"$LS" --api "ipc://$dir/api.sock" status >/dev/null 2>&1 && return 0
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "lodestoned on $dir exited at start:" >&2
			tail -n 5 "$dir.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "lodestoned on $dir did not answer within 10 s" >&2
	return 1
}

# status_of DIR: "RECORDS PENDING SET_DIGEST" of the daemon on DIR.
status_of() {
	LODESTONE_TIMEOUT=2s timeout -k 1 5 "$LS" --api "ipc://$1/api.sock" --json status 2>/dev/null |
		jget '"$j->{records} $j->{pending} $j->{set_digest}"'
}

# stop_all: SIGTERM to every daemon of the run; passes when each exits 0.
stop_all() {
	local pid rc=0
	for pid in "${DAEMON_PIDS[@]}"; do
		stop_daemon "$pid" || rc=1
	done
	DAEMON_PIDS=()
	return $rc
}

# qdisc_drops NS DEV: packets the leaf qdisc (pfifo or netem) of DEV in NS
# dropped so far.
qdisc_drops() {
	tc -n "$1" -s qdisc show dev "$2" 2>/dev/null |
		awk '/^qdisc/ { leaf = ($2 == "pfifo" || $2 == "netem") }
		     leaf && /dropped/ { for (i = 1; i < NF; i++) if ($i == "(dropped") { sub(/,/, "", $(i + 1)); n += $(i + 1) } }
		     END { print n + 0 }'
}

# now_ms: milliseconds, monotonic enough for the figures.
now_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# percentile P VALUES...: the P-th percentile (nearest rank) of the values.
percentile() {
	local p=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR]=$1} END {
		if (NR == 0) { print 0; exit }
		r = int((p * NR + 99) / 100); if (r < 1) r = 1; print v[r] }'
}
