# shellcheck shell=bash
# Shared by the per-peer scripts (redis.sh, kube.sh, consul.sh, eureka.sh, moto.sh) and scripts/peers.sh
# (sourced; not run alone): paths, logging, pid files, start/stop/wait, and the commands every peer
# script answers (peer_main).
#
# A peer script defines, then calls `peer_main "$@"`:
#   PEER_INSTANCES=(...)   its processes (pid file names)
#   port_of <instance>     the port an instance listens on (shown by status, checked before start)
#   peer_apt               apt_need for what it runs (fast when nothing is missing)
#   peer_build             build or install its binaries into the cache (no start)
#   start_<instance>, probe_<instance>, env_<instance>   start it; answers?; its KEY=value lines of
#                          the env file (or peer_start, peer_wait, peer_env for all instances at once)
#   PEER_DATA=(...)        the directories `wipe` removes (the peer's state on disk)
# and optionally peer_setup (after wait: e.g. the API server's CRDs).
#
# Two modes:
#   shared (default)  the peers of scripts/peers.sh, state under ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/run
#   private           RB_PEER_DIR=<dir>: an instance of its own (pid files, logs, data in <dir>) on the
#                     ports given by the RB_*_PORT variables, e.g. the fault suite's and the bench's
#                     (libs/test-peers ScriptPeer). The binaries come from the shared cache either way.

# shellcheck source=apt-need.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-need.sh"
# shellcheck source=pki.sh
. "$(dirname "${BASH_SOURCE[0]}")/pki.sh"

PEERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PEERS_DIR/../.." && pwd)"
TOOLS_DIR="$REPO_ROOT/tools"

CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"
BIN_DIR="$CACHE_DIR/bin"
INSTALL_LOG_DIR="$CACHE_DIR/install-logs"
ENV_FILE="$CACHE_DIR/peers.env"
RUN_DIR="${RB_PEER_DIR:-$CACHE_DIR/run}"
PID_DIR="$RUN_DIR/pids"
LOG_DIR="$RUN_DIR/logs"

HOST=127.0.0.1
: "${RB_UP_TIMEOUT:=180}"             # seconds to wait for each peer to answer

LOG_TAG="${LOG_TAG:-peers}"
log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Run a named phase and print its duration.
phase() {
  local name="$1"; shift
  local t0; t0="$(now)"
  log "phase $name ..."
  "$@"
  log "phase $name done in $(elapsed "$t0")"
}

short_hash() { cat "$@" | sha256sum | cut -c1-12; }

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

go_build() { # <module dir> <package> <output> <ldflags>
  local dir="$1" pkg="$2" out="$3" ldflags="$4"
  ( cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$out.tmp" "$pkg" ) && mv "$out.tmp" "$out"
}
need_go() { command -v go >/dev/null || die "go (1.25 or newer) is required to build $1"; }

# ============================================================================================
# process management: every process a script starts gets a pid file; stopping kills only those pids
# ============================================================================================

# start_peer <name> <cmd...>: runs in its own session, output to $LOG_DIR/<name>.log
start_peer() {
  local name="$1"; shift
  local logf="$LOG_DIR/$name.log"
  mkdir -p "$PID_DIR" "$LOG_DIR"
  setsid "$@" >"$logf" 2>&1 < /dev/null 9>&- &
  local pid=$!
  # pid file: pid, the executable it must still be (guards against pid reuse at `down`), its port
  printf '%s\n%s\n%s\n' "$pid" "$(readlink -f "$(command -v "$1")")" "$(port_of "$name")" > "$PID_DIR/$name.pid"
  log "started $name (pid $pid, log $logf)"
}

pid_alive() { # <name>: prints pid if the recorded process is still the one we started
  local f="$PID_DIR/$1.pid" pid exe
  [ -f "$f" ] || return 1
  pid="$(sed -n 1p "$f")"; exe="$(sed -n 2p "$f")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$exe" ] || return 1
  echo "$pid"
}

# signal_peers <signal> <name...>: send the signal, wait up to 15 s for each to exit, then KILL
# what is left; forget their pid files. TERM is `down`; KILL is a crash.
signal_peers() {
  local sig="$1"; shift
  local name pid i names=() pids=()
  for name in "$@"; do
    if pid="$(pid_alive "$name")"; then
      # a frozen process (SIGSTOP) acts on no signal but KILL until it runs again
      kill -s "$sig" "$pid" 2>/dev/null || true; kill -s CONT "$pid" 2>/dev/null || true
      names+=("$name"); pids+=("$pid")
    fi
  done
  for i in "${!pids[@]}"; do
    local n=0
    while kill -0 "${pids[$i]}" 2>/dev/null && [ "$n" -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      log "${names[$i]} (pid ${pids[$i]}) did not stop on $sig within 15s, sending KILL"
      kill -9 "${pids[$i]}" 2>/dev/null || true
    fi
    log "stopped ${names[$i]} (pid ${pids[$i]})"
  done
  for name in "$@"; do rm -f "$PID_DIR/$name.pid"; done
}
stop_peers() { signal_peers TERM "$@"; }

fail_peer() { # <name> <message>
  local name="$1" msg="$2"
  log "$name: $msg; last lines of $LOG_DIR/$name.log:"
  tail -40 "$LOG_DIR/$name.log" >&2 || true
  die "$name did not come up"
}

# wait_for <name> <probe function...>: probe until it succeeds, the process dies, or time runs out
wait_for() {
  local name="$1"; shift
  local t0 deadline; t0="$(now)"; deadline=$(( $(date +%s) + RB_UP_TIMEOUT ))
  while ! "$@" >/dev/null 2>&1; do
    pid_alive "$name" >/dev/null || fail_peer "$name" "process exited"
    [ "$(date +%s)" -lt "$deadline" ] || fail_peer "$name" "no answer within ${RB_UP_TIMEOUT}s"
    sleep 0.3
  done
  log "$name answers on $HOST:$(port_of "$name") (after $(elapsed "$t0"))"
}

# By default a script's instances each have start_<instance>, probe_<instance> and env_<instance>
# (dashes as underscores); a script may define peer_start, peer_wait and peer_env instead.
peer_start() { local name; for name in "${PEER_INSTANCES[@]}"; do "start_${name//-/_}"; done; }
peer_wait() { local name; for name in "${PEER_INSTANCES[@]}"; do wait_for "$name" "probe_${name//-/_}"; done; }
peer_env() { local name; for name in "${PEER_INSTANCES[@]}"; do "env_${name//-/_}"; done; }

check_ports_free() { # <name...>
  local name port
  for name in "$@"; do
    port="$(port_of "$name")"
    port_in_use "$port" && die "port $HOST:$port for $name is already in use by another process (override with the RB_*_PORT variables)"
  done
  return 0
}

status_line() { # <name> <width>: one line per instance, as scripts/peers.sh status prints it; fails when down
  local pid
  if pid="$(pid_alive "$1")"; then
    printf "%-${2}s up    pid %-8s %s:%s\n" "$1" "$pid" "$HOST" "$(sed -n 3p "$PID_DIR/$1.pid")"
  else
    printf "%-${2}s down\n" "$1"; return 3
  fi
}

# ============================================================================================
# the commands of every peer script
# ============================================================================================

peer_usage() {
  cat >&2 <<EOF
usage: $0 up|down|status|env|install|start|wait|kill [SIGNAL]|freeze|thaw|wipe|pid [INSTANCE]
  up        install what is missing, stop an earlier run, start, wait until it answers
  down      stop exactly the processes this script started (by pid)
  kill      send SIGNAL (default KILL: a crash) and forget the processes; \`up\` starts them again
  freeze    SIGSTOP: sockets stay open, nothing answers; thaw: SIGCONT
  wipe      down, then remove the peer's data
  pid       the pid of an instance (default: the first)
EOF
  exit 2
}

peer_install() { mkdir -p "$BIN_DIR" "$INSTALL_LOG_DIR"; peer_apt; peer_build; }

peer_main() {
  case "${1:-}" in
    up)
      peer_install
      stop_peers "${PEER_INSTANCES[@]}"
      check_ports_free "${PEER_INSTANCES[@]}"
      peer_start; peer_wait
      if declare -F peer_setup >/dev/null; then peer_setup; fi ;;
    start) check_ports_free "${PEER_INSTANCES[@]}"; peer_start ;;
    check) check_ports_free "${PEER_INSTANCES[@]}" ;;
    build) mkdir -p "$BIN_DIR"; peer_build ;;
    wait) peer_wait ;;
    setup) if declare -F peer_setup >/dev/null; then peer_setup; fi ;;
    down) stop_peers "${PEER_INSTANCES[@]}" ;;
    kill) signal_peers "${2:-KILL}" "${PEER_INSTANCES[@]}" ;;
    freeze)
      local name pid
      for name in "${PEER_INSTANCES[@]}"; do
        pid="$(pid_alive "$name")" || die "$name is not running"
        kill -s STOP "$pid"
      done ;;
    thaw) # a no-op for what is not running (a test's cleanup after a failed start)
      local name pid
      for name in "${PEER_INSTANCES[@]}"; do
        if pid="$(pid_alive "$name")"; then kill -s CONT "$pid"; fi
      done ;;
    wipe) stop_peers "${PEER_INSTANCES[@]}"; rm -rf "${PEER_DATA[@]}" ;;
    status)
      local name rc=0
      for name in "${PEER_INSTANCES[@]}"; do status_line "$name" 15 || rc=3; done
      return "$rc" ;;
    pid) pid_alive "${2:-${PEER_INSTANCES[0]}}" || die "${2:-${PEER_INSTANCES[0]}} is not running" ;;
    env) peer_env ;;
    install) peer_install ;;
    apt) peer_apt ;;
    *) peer_usage ;;
  esac
}
