#!/usr/bin/env bash
# A private Docker engine for hlctrace's container demo and tests (docs/docker.md).
#
#   scripts/docker-engine.sh start    install docker.io if missing, start dockerd, build the base images
#   scripts/docker-engine.sh stop     stop the dockerd this script started (and the bridges it created)
#   scripts/docker-engine.sh status   is it running; which images exist (exit 0 running, 3 not running)
#   scripts/docker-engine.sh images   build the base images on the running engine (cached)
#   scripts/docker-engine.sh env      print DOCKER_HOST=... for `eval` / the tests
#   scripts/docker-engine.sh mirror [RELEASE]  the Debian mirror of this machine's apt sources
#
# The engine is kept local: its own socket, exec root and data root, no iptables/ip-forward/masquerade
# changes to the host, no registry: the images htk/python:1 and htk/jvm:1 are built from the Debian
# mirror named in this machine's apt sources (debootstrap) and from the host's JDK 17; htk/probe:1
# adds the host's libbpf for the kernel probe (docker/docker-compose.yml).
#
# Exit codes: 0 done; 1 failed (the message says what and why); 3 `status`: not running;
# 77 cannot run here because this is not root (the container tests skip on it).
set -euo pipefail

readonly EXIT_NOT_ROOT=77
readonly EXIT_NOT_RUNNING=3

RUN_DIR="${HTK_DOCKER_RUN_DIR:-/run/hlctrace-docker}"
DATA_ROOT="${HTK_DOCKER_DATA_ROOT:-/var/lib/hlctrace-docker}"
SOCKET="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
LOG="$RUN_DIR/dockerd.log"
STATE="$RUN_DIR/started-by-hlctrace"   # written only when this script started the daemon
LINKS_BEFORE="$RUN_DIR/links-before-start"
BUILD_DIR="$DATA_ROOT-build"
readonly PYTHON_IMAGE="htk/python:1"
readonly JVM_IMAGE="htk/jvm:1"
readonly PROBE_IMAGE="htk/probe:1"
ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
APT_ETC="${HTK_APT_ETC:-/etc/apt}"   # where the apt sources are read (the tests point it at samples)

export DOCKER_HOST="unix://$SOCKET"
# The classic builder: a Dockerfile FROM a local image must not need BuildKit or a registry.
export DOCKER_BUILDKIT=0

say() { echo "docker-engine: $*" >&2; }
fail() { say "$*"; exit 1; }

# The docker.io client matches the daemon; another client on PATH (e.g. /usr/local/bin) negotiates down.
docker_cli() {
  if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi
}

require_root() {
  if [ "$(id -u)" != 0 ]; then
    say "not root (uid $(id -u)): '$1' needs root: it installs docker.io, runs dockerd and keeps images under $DATA_ROOT."
    say "Run it as root: sudo $0 $1 (the container tests skip on this exit code, $EXIT_NOT_ROOT, and say why)."
    exit "$EXIT_NOT_ROOT"
  fi
}

engine_pid() {
  [ -r "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null || return 1
  # a killed dockerd whose parent (PID 1 of a container) does not reap it stays a zombie
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  echo "$pid"
}

engine_ready() { docker_cli version --format '{{.Server.Version}}' >/dev/null 2>&1; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  ((${#missing[@]})) || return 0
  say "installing Debian packages: ${missing[*]}"
  # docker.io's maintainer scripts would start a system dockerd (with iptables rules) through
  # invoke-rc.d; a policy-rc.d that denies service starts keeps that from happening.
  local policy_created=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_created=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  { apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>"$RUN_DIR/apt.err" \
    || { apt-get update -q >/dev/null 2>>"$RUN_DIR/apt.err" \
         && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>>"$RUN_DIR/apt.err"; }; } || rc=$?
  [ -n "$policy_created" ] && rm -f /usr/sbin/policy-rc.d
  if [ "$rc" != 0 ]; then
    cat "$RUN_DIR/apt.err" >&2
    fail "apt-get could not install ${missing[*]} (exit $rc, output above). Check the machine's apt sources and network."
  fi
  command -v dockerd >/dev/null 2>&1 || fail "docker.io is installed but dockerd is not on PATH ($PATH)"
}

# Starts dockerd and waits until its API answers; returns non-zero (log shown) when it does not.
launch_dockerd() {
  say "starting dockerd ($DOCKER_HOST, data root $DATA_ROOT, log $LOG)"
  # setsid + no inherited stdio: the daemon outlives the caller (a test JVM, a shell); it must not
  # inherit fd 9 either, or it would hold this script's lock for its whole life
  setsid dockerd \
    --host "$DOCKER_HOST" \
    --pidfile "$PIDFILE" \
    --exec-root "$RUN_DIR/exec" \
    --data-root "$DATA_ROOT" \
    --storage-driver overlay2 \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --log-level warn \
    </dev/null >"$LOG" 2>&1 9>&- &
  local launcher=$!
  local deadline=$((SECONDS + 60))
  until engine_ready; do
    if ! kill -0 "$launcher" 2>/dev/null && ! engine_pid >/dev/null; then
      say "dockerd exited during startup; the end of its log:"
      tail -n 30 "$LOG" >&2 || true
      return 1
    fi
    if ((SECONDS > deadline)); then
      say "dockerd did not answer on $SOCKET within 60 s; the end of its log:"
      tail -n 30 "$LOG" >&2 || true
      kill -TERM "$launcher" 2>/dev/null
      return 1
    fi
    sleep 0.2
  done
}

start_engine() {
  if engine_pid >/dev/null && engine_ready; then
    say "engine already running (pid $(engine_pid), $DOCKER_HOST)"
    return 0
  fi
  if [ -S "$SOCKET" ] && engine_ready; then
    say "an engine already answers on $SOCKET (not started by this script; it will not be stopped by it)"
    return 0
  fi
  # leftovers of a dockerd that died (killed, machine crash): its pidfile would stop the new one
  rm -f "$SOCKET" "$STATE" "$PIDFILE"
  mkdir -p "$DATA_ROOT" "$RUN_DIR/exec"
  # stop deletes only the bridges that appear from now on; kept from an earlier start whose daemon
  # died, so its bridges still count as this script's
  [ -e "$LINKS_BEFORE" ] || ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' >"$LINKS_BEFORE" || true
  # cgroup v1 hierarchies may be missing on a bare machine; dockerd (cgroupfs driver) needs them
  mountpoint -q /sys/fs/cgroup 2>/dev/null || say "note: /sys/fs/cgroup is not mounted; dockerd may fail (see $LOG)"
  local attempt
  for attempt in 1 2; do
    launch_dockerd && break
    # after a dockerd was killed, its containerd may still be going away: the first start then
    # times out waiting for a new containerd; a second one works
    ((attempt == 1)) || fail "dockerd did not start (its log above, all of it in $LOG); stop leftovers with: $0 stop"
    say "dockerd did not start; trying once more in 2 s"
    rm -f "$PIDFILE"; sleep 2
  done
  echo "$(engine_pid)" >"$STATE"
  say "engine ready: docker $(docker_cli version --format '{{.Server.Version}}'), storage $(docker_cli info --format '{{.Driver}}' 2>/dev/null)"
}

# The Debian mirror of this machine's apt sources for the running release (never a hard-coded host):
# the first enabled `deb` entry with that suite and component main, deb822 (*.sources) or one-line (*.list).
debian_mirror() {
  local codename="$1" f
  for f in "$APT_ETC"/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v want="$codename" '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " want " ") && (" " comps " ") ~ / main / && uris != "") {
          split(uris, u, " "); print u[1]; found = 1; exit
        }
        types = uris = suites = comps = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
        if (key == "types") types = $0; else if (key == "uris") uris = $0
        else if (key == "suites") suites = $0; else if (key == "components") comps = $0
        else if (key == "enabled") enabled = tolower($0) }
      END { if (!found) flush() }' "$f" | head -n 1 | grep . && return 0
  done
  for f in "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    # deb [options] URI SUITE COMPONENT...
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" \
      | awk -v want="$codename" '$1 == "deb" && $3 == want { for (i = 4; i <= NF; i++) if ($i == "main") { print $2; exit } }' \
      | head -n 1 | grep . && return 0
  done
  return 1
}

host_jdk17() {
  if [ -n "${HTK_JDK:-}" ]; then echo "$HTK_JDK"; return; fi
  local d
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-*; do
    [ -x "$d/bin/java" ] && { echo "$d"; return; }
  done
  d="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  "$d/bin/java" -version 2>&1 | grep -q 'version "17' && { echo "$d"; return; }
  return 1
}

image_exists() { docker_cli image inspect "$1" >/dev/null 2>&1; }

build_python_image() {
  if image_exists "$PYTHON_IMAGE"; then say "image $PYTHON_IMAGE: cached"; return; fi
  local codename mirror rootfs="$BUILD_DIR/rootfs"
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [ -n "$codename" ] || fail "cannot tell the Debian release (no VERSION_CODENAME in /etc/os-release); debootstrap needs it"
  mirror="$(debian_mirror "$codename")" \
    || fail "no enabled 'deb' source for '$codename' with component main in $APT_ETC/sources.list(.d); debootstrap needs the machine's Debian mirror"
  say "building $PYTHON_IMAGE: debootstrap --variant=minbase $codename from $mirror (about 40 s)"
  rm -rf "$rootfs"; mkdir -p "$BUILD_DIR"
  if ! debootstrap --variant=minbase --include=python3,curl "$codename" "$rootfs" "$mirror" >"$BUILD_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$BUILD_DIR/debootstrap.log" >&2
    fail "debootstrap failed (its log above, all of it in $BUILD_DIR/debootstrap.log)"
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
  tar -C "$rootfs" --numeric-owner -c . | docker_cli import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'LABEL io.hlctrace.image=python' \
    --change "LABEL io.hlctrace.source=debootstrap-minbase-$codename" \
    --change 'CMD ["/bin/bash"]' - "$PYTHON_IMAGE" >/dev/null
  rm -rf "$rootfs"
  say "image $PYTHON_IMAGE: built"
}

build_jvm_image() {
  if image_exists "$JVM_IMAGE"; then say "image $JVM_IMAGE: cached"; return; fi
  local jdk ctx="$BUILD_DIR/jvm-context"
  jdk="$(host_jdk17)" || fail "no JDK 17 on this machine (looked in /usr/lib/jvm/java-17-openjdk-*); install openjdk-17-jdk-headless or set HTK_JDK"
  say "building $JVM_IMAGE: $PYTHON_IMAGE + the host JDK $jdk"
  rm -rf "$ctx"; mkdir -p "$ctx/java"
  cp "$ROOT/docker/jvm/Dockerfile" "$ctx/Dockerfile"
  # -h dereferences the Debian JDK's links into /etc (conf, cacerts); sources, docs and jmods stay out
  (cd "$jdk" && tar -ch --exclude=lib/src.zip bin conf lib release) | tar -C "$ctx/java" -x
  if ! docker_cli build -q --build-arg "BASE=$PYTHON_IMAGE" -t "$JVM_IMAGE" "$ctx" >"$BUILD_DIR/jvm-build.log" 2>&1; then
    cat "$BUILD_DIR/jvm-build.log" >&2
    fail "building $JVM_IMAGE failed (output above)"
  fi
  rm -rf "$ctx"
  say "image $JVM_IMAGE: built"
}

build_probe_image() {
  if image_exists "$PROBE_IMAGE"; then say "image $PROBE_IMAGE: cached"; return; fi
  local libbpf libelf ctx="$BUILD_DIR/probe-context"
  libbpf="$(readlink -f /usr/lib/x86_64-linux-gnu/libbpf.so.1 2>/dev/null)" && [ -f "$libbpf" ] || {
    say "image $PROBE_IMAGE: skipped, the host has no libbpf.so.1 (install libbpf1: scripts/setup.sh); only docker-compose's probe service needs it"
    return 0
  }
  libelf="$(readlink -f /usr/lib/x86_64-linux-gnu/libelf.so.1)"
  say "building $PROBE_IMAGE: $JVM_IMAGE + the host's libbpf.so.1 and libelf.so.1"
  rm -rf "$ctx"; mkdir -p "$ctx/lib"
  cp "$ROOT/docker/probe/Dockerfile" "$ctx/Dockerfile"
  cp -L "$libbpf" "$ctx/lib/libbpf.so.1"
  cp -L "$libelf" "$ctx/lib/libelf.so.1"
  if ! docker_cli build -q --build-arg "BASE=$JVM_IMAGE" -t "$PROBE_IMAGE" "$ctx" >"$BUILD_DIR/probe-build.log" 2>&1; then
    cat "$BUILD_DIR/probe-build.log" >&2
    fail "building $PROBE_IMAGE failed (output above)"
  fi
  rm -rf "$ctx"
  say "image $PROBE_IMAGE: built"
}

build_images() {
  engine_ready || fail "no engine answers on $SOCKET; start it first: $0 start"
  mkdir -p "$BUILD_DIR"
  build_python_image
  build_jvm_image
  build_probe_image
}

# Bridges that appeared while this script's dockerd ran (docker0, br-<network>) are its own.
delete_own_bridges() {
  [ -r "$LINKS_BEFORE" ] || return 0
  local link
  for link in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//'); do
    case "$link" in docker0|br-*) grep -qx "$link" "$LINKS_BEFORE" || ip link del "$link" 2>/dev/null || true ;; esac
  done
}

stop_engine() {
  local pid
  if ! pid="$(engine_pid)"; then
    if [ -e "$STATE" ] || [ -e "$LINKS_BEFORE" ]; then
      say "the dockerd this script started is not running any more; removing what it left (bridges, socket, pidfile)"
      delete_own_bridges
      rm -f "$STATE" "$SOCKET" "$PIDFILE" "$LINKS_BEFORE"
    else
      say "no engine started by this script is running"
    fi
    return 0
  fi
  if [ ! -e "$STATE" ]; then
    say "dockerd pid $pid on $SOCKET was not started by this script; leaving it running"
    return 0
  fi
  say "stopping dockerd (pid $pid); it stops its containers and its containerd"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 30))
  while engine_pid >/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if engine_pid >/dev/null; then
    say "dockerd did not stop within 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  delete_own_bridges
  rm -f "$STATE" "$SOCKET" "$PIDFILE" "$LINKS_BEFORE"
  say "stopped (images stay cached in $DATA_ROOT)"
}

status() {
  local pid
  if pid="$(engine_pid)" && engine_ready; then
    echo "running: dockerd pid $pid, DOCKER_HOST=$DOCKER_HOST$([ -e "$STATE" ] && echo ", started by this script")"
    local img
    for img in "$PYTHON_IMAGE" "$JVM_IMAGE" "$PROBE_IMAGE"; do
      if image_exists "$img"; then echo "image $img: present"; else echo "image $img: missing (build: $0 images)"; fi
    done
    return 0
  fi
  if [ "$(id -u)" != 0 ] && [ -S "$SOCKET" ]; then
    echo "unknown: $SOCKET exists but only root may use it"
  else
    echo "not running (start: $0 start)"
  fi
  return "$EXIT_NOT_RUNNING"
}

cmd="${1:-}"
case "$cmd" in
  start)
    require_root start
    mkdir -p "$RUN_DIR"
    exec 9>"$RUN_DIR/lock"; flock -w 300 9 || fail "another docker-engine.sh has held $RUN_DIR/lock for 5 minutes (ps aux | grep docker-engine)"
    install_packages
    start_engine
    build_images
    echo "DOCKER_HOST=$DOCKER_HOST"
    ;;
  images)
    require_root images
    mkdir -p "$RUN_DIR"
    exec 9>"$RUN_DIR/lock"; flock -w 300 9 || fail "another docker-engine.sh has held $RUN_DIR/lock for 5 minutes (ps aux | grep docker-engine)"
    build_images
    ;;
  stop)
    require_root stop
    mkdir -p "$RUN_DIR"
    exec 9>"$RUN_DIR/lock"; flock -w 120 9 || fail "another docker-engine.sh holds $RUN_DIR/lock"
    stop_engine
    ;;
  status) status ;;
  env) echo "DOCKER_HOST=$DOCKER_HOST" ;;
  mirror)
    # the Debian mirror debootstrap would use, from the apt sources (for people and the tests)
    codename="${2:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}"
    debian_mirror "$codename" || fail "no enabled 'deb' source for '$codename' with component main in $APT_ETC/sources.list(.d)"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
