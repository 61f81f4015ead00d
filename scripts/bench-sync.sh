#!/usr/bin/env bash
# Clock-sync benchmark: achieved offset error between three executors in network namespaces over
# veth (no injected delay) and the probe traffic, against the goal of < 200 us (docs/clock-sync.md).
# Needs root (ip netns, veth). Usage: scripts/bench-sync.sh [--seconds 20] [--heartbeat 100ms] [--monitor-interval 500ms]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JAVA="${JAVA:-java}"
if [ "$(id -u)" != 0 ]; then
  echo "bench sync: needs root to create network namespaces and veth pairs; run: sudo $0 $*" >&2
  exit 2
fi
cd "$ROOT"
mvn -o -q -pl clock-sync test-compile >&2 || mvn -q -pl clock-sync test-compile >&2
cpfile="$ROOT/clock-sync/target/bench-classpath.txt"
mvn -o -q -pl clock-sync dependency:build-classpath -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=test >&2
exec "$JAVA" -cp "$ROOT/clock-sync/target/classes:$ROOT/clock-sync/target/test-classes:$(cat "$cpfile")" io.hlctrace.sync.SyncBench "$@"
