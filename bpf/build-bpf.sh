#!/usr/bin/env bash
# Compiles the probe's BPF programs for the running kernel (called by the Maven build of bpf/).
#   build-bpf.sh SRC_DIR OUT_DIR GEN_DIR
# vmlinux.h is generated from the running kernel's BTF (never committed). When clang, bpftool or
# the kernel's BTF is missing, the build says so, writes the reason to OUT_DIR/UNAVAILABLE (the
# probe and its tests report it) and still succeeds, so machines without the toolchain can build
# the rest of hlctrace.
set -uo pipefail
src="$1"; out="$2"; gen="$3"
BTF="${HLCTRACE_BTF:-/sys/kernel/btf/vmlinux}"
mkdir -p "$out" "$gen"
rm -f "$out"/UNAVAILABLE "$out"/*.bpf.o

unavailable() {
  echo "[bpf] WARNING: BPF programs not built: $1" >&2
  echo "[bpf] the kernel probe will refuse to start and its tests will skip with this reason." >&2
  printf '%s\n' "$1" > "$out/UNAVAILABLE"
  exit 0
}

command -v clang >/dev/null || unavailable "clang is not installed (Debian: apt-get install clang llvm; scripts/setup.sh does it as root)"
command -v bpftool >/dev/null || unavailable "bpftool is not installed (Debian: apt-get install bpftool)"
[ -r "$BTF" ] || unavailable "the kernel has no BTF at $BTF (needs CONFIG_DEBUG_INFO_BTF=y)"
[ -r /usr/include/bpf/bpf_helpers.h ] || unavailable "libbpf headers are missing (Debian: apt-get install libbpf-dev)"

if [ ! -s "$gen/vmlinux.h" ] || [ "$BTF" -nt "$gen/vmlinux.h" ]; then
  bpftool btf dump file "$BTF" format c > "$gen/vmlinux.h.tmp" || unavailable "bpftool could not dump $BTF"
  mv "$gen/vmlinux.h.tmp" "$gen/vmlinux.h"
fi

for c in "$src"/*.bpf.c; do
  name="$(basename "$c" .c)"
  if ! clang -target bpf -O2 -g -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Wno-unused-function \
       -I"$gen" -I"$src" -c "$c" -o "$out/$name.o"; then
    echo "[bpf] ERROR: clang failed on $c" >&2
    exit 1
  fi
  echo "[bpf] built $name.o"
done
