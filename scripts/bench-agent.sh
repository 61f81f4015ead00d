#!/usr/bin/env bash
# The agent benchmark: the same workload with and without -javaagent in one run, printed as ratios.
#   hlctrace bench agent [ROUNDS] [STREAM_MIB]      (defaults 20000 round trips, 2048 MiB)
# Workloads (javaagent/src/test/java/io/hlctrace/agent/bench/AgentBench.java): 1 KiB ping-pong over
# java.net.Socket and over a blocking SocketChannel (p50/p99 round trip), 64 KiB writes streamed
# one way (MB/s), and start-up time of a JVM that opens one connection (median of 7).
# The agent logs every message; its event log goes to a temporary directory.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JAVA="${JAVA:-java}"
ROUNDS="${1:-20000}"
MIB="${2:-2048}"
JAR="$ROOT/javaagent/target/hlctrace-agent.jar"
CLASSES="$ROOT/javaagent/target/test-classes"
if [ ! -f "$JAR" ] || [ ! -f "$CLASSES/io/hlctrace/agent/bench/AgentBench.class" ]; then
  echo "bench-agent: building the agent jar and the benchmark (mvn package)..." >&2
  (cd "$ROOT" && mvn -B -q -pl hlc,javaagent -am install -DskipTests) >&2
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/agent.yml" <<YML
node: bench
clock: $WORK/clock
logDir: $WORK/logs
YML
AGENT="-javaagent:$JAR=$WORK/agent.yml"

echo "hlctrace agent benchmark: $("$JAVA" -version 2>&1 | head -1), $(nproc) cores, $ROUNDS round trips, $MIB MiB streamed"
"$JAVA" -cp "$CLASSES" io.hlctrace.agent.bench.AgentBench "$ROUNDS" "$MIB" > "$WORK/off.txt"
"$JAVA" "$AGENT" -cp "$CLASSES" io.hlctrace.agent.bench.AgentBench "$ROUNDS" "$MIB" > "$WORK/on.txt" 2> "$WORK/on.err" \
  || { cat "$WORK/on.err" >&2; exit 1; }

startup() { # median wall time in ms of 7 runs
  local t=()
  for _ in 1 2 3 4 5 6 7; do
    local s e
    s=$(date +%s%N); "$JAVA" "$@" -cp "$CLASSES" io.hlctrace.agent.bench.Noop 2>/dev/null; e=$(date +%s%N)
    t+=($(( (e - s) / 1000000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | sed -n 4p
}
S_OFF=$(startup)
S_ON=$(startup "$AGENT")

awk -v soff="$S_OFF" -v son="$S_ON" '
  FNR == NR { for (i = 2; i <= NF; i++) { split($i, kv, "="); off[$1 " " kv[1]] = kv[2] } next }
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); on[$1 " " kv[1]] = kv[2] } }
  END {
    printf "%-28s %12s %12s %8s\n", "metric", "agent off", "agent on", "on/off"
    n = split("pingpong-socket p50_us,pingpong-socket p99_us,pingpong-nio p50_us,pingpong-nio p99_us,stream-socket MBps", keys, ",")
    for (k = 1; k <= n; k++) printf "%-28s %12.2f %12.2f %8.3f\n", keys[k], off[keys[k]], on[keys[k]], on[keys[k]] / off[keys[k]]
    printf "%-28s %12d %12d %8s  (added %d ms)\n", "startup_ms (median of 7)", soff, son, "", son - soff
  }' "$WORK/off.txt" "$WORK/on.txt"
echo "events logged by the agent run: $(cat "$WORK"/logs/*.jsonl | wc -l), dropped: $(grep -ho '"dropped":[0-9]*' "$WORK"/logs/*.jsonl | awk -F: '{s+=$2} END {print s+0}')"
