#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need (Debian packages as root, Maven
# dependencies) and runs every test of every module, on JDK 17, with the agent's tests also on
# JDK 25. Idempotent. Tests that need root or the kernel say why they skip when not run as root.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
# The container tests (docs/docker.md) need the project's private Docker engine: as root, start it
# for this run (the first time it installs docker.io and builds the images, about a minute) and
# stop it afterwards if this run started it.
engine_started=""
if [ "$(id -u)" = 0 ] && ! "$ROOT/scripts/docker-engine.sh" status >/dev/null 2>&1; then
  if "$ROOT/scripts/docker-engine.sh" start >/dev/null; then
    engine_started=1
  else
    echo "test: the Docker engine did not start (see above); the container tests will fail and say why" >&2
  fi
fi
trap '[ -z "$engine_started" ] || "$ROOT/scripts/docker-engine.sh" stop >/dev/null' EXIT
mvn -B -ntp -Dstyle.color=never verify "$@"
