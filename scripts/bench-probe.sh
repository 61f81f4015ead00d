#!/usr/bin/env bash
# Kernel probe overhead: ping-pong (1-byte request/response round trips) and streaming (64 KiB
# writes) between two network namespaces joined by veth, each with its own cgroup and executor,
# with the probe attached and detached in the same run, alternating, reported as ratios.
# Usage (root): hlctrace bench probe [ROUNDS] [SECONDS_PER_MEASUREMENT]
# Each attached phase starts the two daemons (one per executor) and warms them up first.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${1:-3}"
SECS="${2:-3}"
[ "$(id -u)" = 0 ] || { echo "bench probe: needs root (network namespaces, cgroups, BPF)" >&2; exit 2; }
JAR="$ROOT/kernel-probe/target/hlctrace-probe.jar"
if [ ! -e "$JAR" ]; then (cd "$ROOT" && mvn -B -q -pl hlc,bpf,kernel-probe -am install -DskipTests >&2); fi

ID="htpb$$"
NS_A="${ID}a"; NS_B="${ID}b"; VA="${ID}va"; VB="${ID}vb"
CG=/sys/fs/cgroup/unified
WORK="$(mktemp -d /tmp/htp-bench.XXXXXX)"
PIDS=()
PROBES=()
cleanup() {
  for p in "${PROBES[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  for c in "$CG/${ID}a" "$CG/${ID}b"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$c" 2>/dev/null && break; sleep 0.2; done
  done
  rm -rf "/sys/fs/bpf/hlctrace/${ID}a" "/sys/fs/bpf/hlctrace/${ID}b" "/run/hlctrace/${ID}a" "/run/hlctrace/${ID}b" "$WORK"
}
trap cleanup EXIT

ip netns add "$NS_A"; ip netns add "$NS_B"
ip link add "$VA" type veth peer name "$VB"
ip link set "$VA" netns "$NS_A"; ip link set "$VB" netns "$NS_B"
ip -n "$NS_A" addr add 10.201.250.1/24 dev "$VA"; ip -n "$NS_B" addr add 10.201.250.2/24 dev "$VB"
for n in "$NS_A" "$NS_B"; do ip -n "$n" link set lo up; done
ip -n "$NS_A" link set "$VA" up; ip -n "$NS_B" link set "$VB" up
mkdir -p "$CG/${ID}a" "$CG/${ID}b"

cat > "$WORK/server.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.201.250.2", 7100)); s.listen(16)
while True:
    c, _ = s.accept()
    mode = c.recv(1)
    if mode == b"p":                      # ping-pong: echo each byte
        while True:
            d = c.recv(1)
            if not d: break
            c.send(d)
    else:                                 # streaming: sink
        while c.recv(1 << 20):
            pass
    c.close()
PY
cat > "$WORK/client.py" <<'PY'
import socket, sys, time
mode, secs = sys.argv[1], float(sys.argv[2])
c = socket.create_connection(("10.201.250.2", 7100))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.send(mode.encode())
end = time.monotonic() + secs
n = 0
if mode == "p":
    while time.monotonic() < end:
        for _ in range(100):
            c.send(b"x"); c.recv(1)
        n += 100
    print(n / secs)
else:
    buf = b"y" * 65536
    while time.monotonic() < end:
        for _ in range(16):
            c.sendall(buf)
        n += 16 * len(buf)
    print(n / secs / 1e6)
c.close()
PY

sh -c "echo \$\$ > $CG/${ID}b/cgroup.procs && exec ip netns exec $NS_B python3 $WORK/server.py" &
PIDS+=($!)
sleep 0.5

for x in a b; do
  cat > "$WORK/$x.yml" <<YML
executor: ${ID}$x
event_log: $WORK/$x.jsonl
clock_socket: off
max_offset: 3h
targets:
  cgroups: [$CG/${ID}$x]
YML
done

start_probe() {
  for x in a b; do
    java --enable-native-access=ALL-UNNAMED -jar "$JAR" --config "$WORK/$x.yml" 2>"$WORK/$x.err" &
    PROBES+=($!)
  done
  for x in a b; do
    for _ in $(seq 100); do grep -q running "$WORK/$x.err" 2>/dev/null && break; sleep 0.1; done
    grep -q running "$WORK/$x.err" || { cat "$WORK/$x.err" >&2; exit 1; }
  done
  # The daemons' JIT warms up on the first few hundred thousand events: run traffic, not measured.
  measure p >/dev/null
  measure p >/dev/null
}
stop_probe() {
  for p in "${PROBES[@]}"; do kill -TERM "$p"; wait "$p" || true; done
  PROBES=()
  rm -f "$WORK"/*.err
}
measure() { sh -c "echo \$\$ > $CG/${ID}a/cgroup.procs && exec ip netns exec $NS_A python3 $WORK/client.py $1 $SECS"; }

declare -A R
for r in $(seq "$ROUNDS"); do
  for state in detached attached; do
    [ "$state" = attached ] && start_probe
    R[$state,p,$r]=$(measure p)
    R[$state,s,$r]=$(measure s)
    [ "$state" = attached ] && stop_probe
    echo "round $r $state: ping-pong ${R[$state,p,$r]} round trips/s, streaming ${R[$state,s,$r]} MB/s" >&2
  done
done
events=$(cat "$WORK"/a.jsonl "$WORK"/b.jsonl | grep -c '"kind":"send"\|"kind":"recv"' || true)
drops=$(cat "$WORK"/a.jsonl "$WORK"/b.jsonl | awk -F'"dropped":' 'NF > 1 { split($2, a, /[,}]/); s += a[1] } END { print s + 0 }')

python3 - "$ROUNDS" "$events" "${drops:-0}" <<PY
import statistics, sys
rounds = int(sys.argv[1])
R = {}
$(for k in "${!R[@]}"; do echo "R['$k'] = float('${R[$k]}')"; done)
def med(state, kind): return statistics.median(R[f"{state},{kind},{r}"] for r in range(1, rounds + 1))
print(f"| workload (median of {rounds}) | probe detached | probe attached | attached / detached |")
print("|---|---|---|---|")
for kind, name, unit in (("p", "ping-pong, 1-byte round trips", "round trips/s"), ("s", "streaming, 64 KiB writes", "MB/s")):
    d, a = med("detached", kind), med("attached", kind)
    print(f"| {name} | {d:,.0f} {unit} | {a:,.0f} {unit} | {a / d:.3f} |")
print(f"\nprobe events written while attached: {sys.argv[2]}, ring-buffer drops: {sys.argv[3]}")
PY
