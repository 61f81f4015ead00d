#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need (Debian packages as root, Maven
# dependencies) and runs every test of every module, on JDK 17, with the agent's tests also on
# JDK 25. Idempotent. Tests that need root or the kernel say why they skip when not run as root.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
exec mvn -B -ntp -Dstyle.color=never verify "$@"
