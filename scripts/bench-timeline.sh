#!/usr/bin/env bash
# Timeline benchmark: merge + verify throughput (events/s) on one core, beside the parse-only floor
# on the same files in the same run, as a ratio. Writes synthetic logs (default 5,000,000 events,
# 4 executors x 4 processes, about 1.2 GB) to a temporary directory and deletes them afterwards.
#   scripts/bench-timeline.sh [--events N] [--nodes N] [--procs N] [--rounds N] [--dir DIR] [LOG...]
# Given LOG files, it measures those instead. Figures: docs/timeline.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
JAR="$ROOT/timeline/target/hlctrace-timeline.jar"
JAVA="${JAVA:-java}"
if [ ! -e "$JAR" ]; then
  echo "bench-timeline: $JAR is missing; building the timeline module..." >&2
  (cd "$ROOT" && mvn -B -q -pl hlc,timeline -DskipTests package) >&2
fi
# One core: pin the JVM to CPU 0 and size it (GC included) for one processor.
PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c 0); fi
exec "${PIN[@]}" "$JAVA" -XX:ActiveProcessorCount=1 -XX:+UseSerialGC -Xms1g -Xmx1g \
  -cp "$JAR" io.hlctrace.timeline.Bench "$@"
