#!/usr/bin/env bash
# Kernel probe overhead: ping-pong (1-byte request/response round trips) and streaming (64 KiB
# writes) between two network namespaces joined by veth, each with its own cgroup and executor,
# with the probe attached and detached in the same run, alternating, reported as ratios; attached
# twice per round: the daemons on the workload's CPU (worst case) and on another CPU.
# Usage (root): hlctrace bench probe [ROUNDS] [SECONDS_PER_MEASUREMENT]
# Each attached phase starts the two daemons (one per executor) and warms them up first.
# After each attached ping-pong measurement, one more ping-pong run (not in the ratios) is profiled:
# kernel.bpf_stats_enabled is switched on just for it (and restored), giving the probe's BPF cost
# per program run, and the daemons' CPU time per event (from /proc); the script prints both.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${1:-3}"
SECS="${2:-3}"
[ "$(id -u)" = 0 ] || { echo "bench probe: needs root (network namespaces, cgroups, BPF)" >&2; exit 2; }
# HLCTRACE_PROBE_JAR runs another build of the daemon (e.g. to compare with an older one)
JAR="${HLCTRACE_PROBE_JAR:-$ROOT/kernel-probe/target/hlctrace-probe.jar}"
if [ ! -e "$JAR" ]; then (cd "$ROOT" && mvn -B -q -pl hlc,bpf,kernel-probe -am install -DskipTests >&2); fi
# The daemon's formatting cost per event, against the String path it replaced, in the same run
# (kernel-probe/src/test/java/io/hlctrace/probe/FormatterBench.java; uses $JAR's formatter).
[ -e "$ROOT/kernel-probe/target/test-classes/io/hlctrace/probe/FormatterBench.class" ] \
  || (cd "$ROOT" && mvn -B -q -pl kernel-probe test-compile >&2)
FORMAT_LINE="$(taskset -c "${BENCH_CPU:-0}" java -cp "$JAR:$ROOT/kernel-probe/target/test-classes" io.hlctrace.probe.FormatterBench)"

ID="htqb$$"
NS_A="${ID}a"; NS_B="${ID}b"; VA="${ID}va"; VB="${ID}vb"
CG=/sys/fs/cgroup/unified
WORK="$(mktemp -d /tmp/htq-bench.XXXXXX)"
PIDS=()
PROBES=()
BPF_STATS_BEFORE="$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || echo 0)"
cleanup() {
  echo "$BPF_STATS_BEFORE" > /proc/sys/kernel/bpf_stats_enabled 2>/dev/null || true
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
ip -n "$NS_A" addr add 10.204.250.1/24 dev "$VA"; ip -n "$NS_B" addr add 10.204.250.2/24 dev "$VB"
for n in "$NS_A" "$NS_B"; do ip -n "$n" link set lo up; done
ip -n "$NS_A" link set "$VA" up; ip -n "$NS_B" link set "$VB" up
mkdir -p "$CG/${ID}a" "$CG/${ID}b"

cat > "$WORK/server.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.204.250.2", 7100)); s.listen(16)
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
c = socket.create_connection(("10.204.250.2", 7100))
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

# The workload runs on one CPU (BENCH_CPU, default 0): client and server. Unpinned, the scheduler
# put them on one CPU for some measurements and on two for others, and on this VM a wakeup across
# CPUs costs tens of microseconds: ping-pong ran at ~100,000-160,000 or at ~15,000 round trips/s,
# with or without the probe, so medians of a few rounds were noise. The probe is measured in two
# placements of its daemons, alternating with the detached runs in every round:
#   attached: the daemons on the workload's CPU too, so every cycle the probe costs (BPF in the
#     traced path, and the daemons' draining and writing) is taken from the workload: the worst case;
#   apart: the daemons on the other CPUs (a host with a core to spare), so the ratio is the cost
#     in the traced path only. Skipped on a one-CPU machine.
BENCH_CPU="${BENCH_CPU:-0}"
OTHER_CPUS="$(python3 -c "import os; print(','.join(str(c) for c in sorted(os.sched_getaffinity(0)) if c != $BENCH_CPU))")"
STATES="detached attached"
[ -n "$OTHER_CPUS" ] && STATES="$STATES apart"
DAEMON_PIN=()
sh -c "echo \$\$ > $CG/${ID}b/cgroup.procs && exec taskset -c $BENCH_CPU ip netns exec $NS_B python3 $WORK/server.py" &
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
    "${DAEMON_PIN[@]}" java --enable-native-access=ALL-UNNAMED -jar "$JAR" --config "$WORK/$x.yml" 2>"$WORK/$x.err" &
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
# The logs of one attached phase are counted, then deleted: the daemons write about 100 MB/s at
# this message rate, and left in place the gigabytes of earlier phases were still being written
# back to disk during later ones, taking CPU from whichever phase came later. Each phase now starts
# from the same state (its own writes are still paid for, including their write-back).
EVENTS=0
DROPS=0
stop_probe() {
  for p in "${PROBES[@]}"; do kill -TERM "$p"; wait "$p" || true; done
  PROBES=()
  rm -f "$WORK"/*.err
  EVENTS=$((EVENTS + $(cat "$WORK"/a.jsonl "$WORK"/b.jsonl | grep -c '"kind":"send"\|"kind":"recv"' || true)))
  DROPS=$((DROPS + $(cat "$WORK"/a.jsonl "$WORK"/b.jsonl | awk -F'"dropped":' 'NF > 1 { split($2, a, /[,}]/); s += a[1] } END { print s + 0 }')))
  rm -f "$WORK"/a.jsonl "$WORK"/b.jsonl
}
# The probe's own BPF programs (from the daemons' fdinfo) as "id name run_time_ns run_cnt", and
# "cpu TICKS" for the daemons' user+system time.
snapshot() {
  local ids
  ids="$(for p in "${PROBES[@]}"; do grep -h '^prog_id:' /proc/"$p"/fdinfo/* 2>/dev/null | awk '{print $2}'; done | sort -u | tr '\n' ' ')"
  bpftool -j prog show | IDS="$ids" python3 -c '
import json, os, sys
ids = set(os.environ["IDS"].split())
for p in json.load(sys.stdin):
    if str(p["id"]) in ids: print(p["id"], p["name"], p.get("run_time_ns", 0), p.get("run_cnt", 0))'
  local t=0
  for p in "${PROBES[@]}"; do t=$((t + $(awk '{print $14 + $15}' /proc/"$p"/stat))); done
  echo "cpu $t"
}
profile() {
  echo 1 > /proc/sys/kernel/bpf_stats_enabled
  snapshot > "$WORK/prof.before"
  measure p > /dev/null
  snapshot > "$WORK/prof.after"
  echo "$BPF_STATS_BEFORE" > /proc/sys/kernel/bpf_stats_enabled
  python3 - "$WORK/prof.before" "$WORK/prof.after" >> "$WORK/profile" <<'PY'
import sys
def load(f):
    d = {}
    for l in open(f):
        w = l.split()
        if not w:
            continue
        if w[0] == "cpu":
            d["cpu"] = [int(w[1])]
        else:
            d[(w[0], w[1])] = [int(w[2]), int(w[3])]
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
for k, v in b.items():
    if k in a:
        d = [y - x for x, y in zip(a[k], v)]
        print("cpu", d[0]) if k == "cpu" else print(k[1], d[0], d[1])
PY
}
measure() { sh -c "echo \$\$ > $CG/${ID}a/cgroup.procs && exec taskset -c $BENCH_CPU ip netns exec $NS_A python3 $WORK/client.py $1 $SECS"; }

declare -A R
for r in $(seq "$ROUNDS"); do
  for state in $STATES; do
    case "$state" in
      attached) DAEMON_PIN=(taskset -c "$BENCH_CPU"); start_probe ;;
      apart) DAEMON_PIN=(taskset -c "$OTHER_CPUS"); start_probe ;;
    esac
    R[$state,p,$r]=$(measure p)
    [ "$state" = attached ] && profile
    R[$state,s,$r]=$(measure s)
    [ "$state" = detached ] || stop_probe
    echo "round $r $state: ping-pong ${R[$state,p,$r]} round trips/s, streaming ${R[$state,s,$r]} MB/s" >&2
  done
done

python3 - "$ROUNDS" "$EVENTS" "$DROPS" "$WORK/profile" "$FORMAT_LINE" <<PY
import statistics, sys
rounds = int(sys.argv[1])
R = {}
$(for k in "${!R[@]}"; do echo "R['$k'] = float('${R[$k]}')"; done)
def med(state, kind): return statistics.median(R[f"{state},{kind},{r}"] for r in range(1, rounds + 1))
apart = f"apart,p,1" in R
print(f"| workload (median of {rounds}) | probe detached | attached, daemons on the workload's CPU | / detached |"
      + (" attached, daemons on another CPU | / detached |" if apart else ""))
print("|---|---|---|---|" + ("---|---|" if apart else ""))
for kind, name, unit in (("p", "ping-pong, 1-byte round trips", "round trips/s"), ("s", "streaming, 64 KiB writes", "MB/s")):
    d, a = med("detached", kind), med("attached", kind)
    row = f"| {name} | {d:,.0f} {unit} | {a:,.0f} {unit} | {a / d:.3f} |"
    if apart:
        x = med("apart", kind)
        row += f" {x:,.0f} {unit} | {x / d:.3f} |"
    print(row)
d = med("detached", "p")
print()
for state, where in (("attached", "daemons on the workload's CPU"), ("apart", "daemons on another CPU")):
    if f"{state},p,1" in R:
        a = med(state, "p")
        print(f"ping-pong, {where}: the probe adds {(1 / a - 1 / d) * 1e6:.2f} us per round trip, {(1 / a - 1 / d) * 1e6 / 2:.2f} us per message "
              "(a send and a receive event, an option written and merged)")
print(f"\nprobe events written while attached: {sys.argv[2]}, ring-buffer drops: {sys.argv[3]}")
print(sys.argv[5])
# per-event costs from the profiled ping-pong runs (bpf_stats on; both executors summed)
ns, runs, cpu = {}, {}, 0
for line in open(sys.argv[4]):
    w = line.split()
    if w[0] == "cpu":
        cpu += int(w[1])
    else:
        ns[w[0]] = ns.get(w[0], 0) + int(w[1]); runs[w[0]] = runs.get(w[0], 0) + int(w[2])
events = runs.get("hlc_on_send", 0) + runs.get("hlc_on_recv", 0)
print("\nprofiled ping-pong (not in the ratios): BPF ns per program run: "
      + ", ".join(f"{k} {ns[k] / runs[k]:.0f}" for k in sorted(ns) if runs[k]))
if events:
    print(f"sock_ops runs per event {runs.get('hlc_sockops', 0) / events:.2f}; daemons' CPU per event {cpu * 1e4 / events:.2f} us ({events} events)")
PY
