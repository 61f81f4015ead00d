#!/usr/bin/env bash
# Runs one benchmark: hlctrace bench <hlc|agent|probe|timeline|sync>. Each prints ratios against a
# baseline measured in the same run; docs/benchmarks.md collects the figures.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
name="${1:-}"
[ -n "$name" ] || { echo "usage: hlctrace bench <hlc|agent|probe|timeline|sync>" >&2; exit 2; }
shift
script="$ROOT/scripts/bench-$name.sh"
[ -x "$script" ] || { echo "hlctrace bench: no benchmark named '$name' (looked for $script)" >&2; exit 2; }
exec "$script" "$@"
