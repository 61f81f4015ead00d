#!/usr/bin/env bash
# Installs what hlctrace needs on a fresh Debian machine. Idempotent: a second run only checks.
# As root it installs Debian packages; otherwise it says what is missing and goes on (the tests
# that need those packages then skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages, by what needs them.
PACKAGES=(
  # build and tools
  maven
  # bpf/: compile the probe's programs; bpftool generates vmlinux.h from the running kernel's BTF
  clang llvm libbpf-dev libbpf1 bpftool
  gcc libc6-dev linux-libc-dev  # javaagent/: the JNI library that maps the probe's clock map
  # tests: network namespaces, packet captures, real peers
  iproute2 tcpdump curl python3
  # timeline report test: headless Chromium
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: not root, so these Debian packages are not installed: ${missing[*]}" >&2
    echo "setup: the tests that need them will skip; run as root (sudo) to install them." >&2
  fi
fi

# Kernel interfaces the probe uses; mounted when missing (root only).
if [ "$(id -u)" = 0 ]; then
  mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
  mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi
