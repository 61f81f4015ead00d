#!/usr/bin/env bash
# JMH benchmarks of the clock (hlc/src/test/java/io/hlctrace/hlc/bench/ClockBenchmark.java), at 1
# and 2 threads, printed as ratios against the physical clock read and the in-process cell of the
# same run. Usage: hlctrace bench hlc [extra JMH args]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
mvn -B -q -pl hlc -am test-compile >/dev/null
CP="$ROOT/hlc/target/test-classes:$ROOT/hlc/target/classes:$(mvn -B -q -pl hlc dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout)"
OUT="$ROOT/hlc/target/jmh"
mkdir -p "$OUT"
for t in 1 2; do
  java -cp "$CP" org.openjdk.jmh.Main ClockBenchmark -t "$t" -rf json -rff "$OUT/threads-$t.json" "$@" >"$OUT/threads-$t.log"
done
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
print("| threads | benchmark | ns/op | / physical read | / in-process same op |")
print("|---|---|---|---|---|")
for t in (1, 2):
    rows = {r["benchmark"].rsplit(".", 1)[1]: r["primaryMetric"]["score"] for r in json.load(open(os.path.join(out, f"threads-{t}.json")))}
    floor = rows["physicalClockRead"]
    for name in ("physicalClockRead", "lamportAtomicIncrement", "inProcessNow", "inProcessUpdate", "mappedFileNow", "mappedFileUpdate"):
        v = rows[name]
        same = {"mappedFileNow": "inProcessNow", "mappedFileUpdate": "inProcessUpdate"}.get(name)
        rel = f"{v / rows[same]:.2f}x" if same else ""
        print(f"| {t} | {name} | {v:.1f} | {v / floor:.2f}x | {rel} |")
PY
