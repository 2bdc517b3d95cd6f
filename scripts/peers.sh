#!/usr/bin/env bash
# Real peers on loopback for registry-bridge's tests and local demo (DESIGN.md section 7).
#
#   bash scripts/peers.sh up       install what is missing (cached), start every peer, wait, write the env file
#   bash scripts/peers.sh down     stop exactly the processes that `up` started (by pid)
#   bash scripts/peers.sh status   show each peer up/down
#   bash scripts/peers.sh env      print the env file's path and contents
#   bash scripts/peers.sh install  only install/build (no start)
#   bash scripts/peers.sh up redis-cluster|redis-sentinel|redis-tls|eureka-tls ...
#                                  start only these opt-in peers (base peers left alone), add their env keys
#   RB_PEERS_EXTRA=redis-cluster,redis-sentinel,redis-tls,eureka-tls bash scripts/peers.sh up
#                                  the base peers plus these (scripts/peers/extras.sh)
#
# Peers: Redis, etcd + kube-apiserver (with Istio's CRDs), two Consul dev agents (one with ACLs),
# two Eureka servers (response cache off / as shipped), moto (AWS Cloud Map API).
# Caches live outside the repo under ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}.
# See docs/local-peers.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=peers/lib.sh
. "$SCRIPT_DIR/peers/lib.sh"

# One script per peer under scripts/peers/ (each answers up|down|status|env|install|...; see
# scripts/peers/lib.sh): this file runs them together and writes the env file.
PEER_SCRIPTS=(redis kube consul eureka moto)
PEERS=(redis etcd kube-apiserver consul consul-acl eureka eureka-cached moto)
peer() { local script="$1"; shift; bash "$PEERS_DIR/$script.sh" "$@"; }

# ============================================================================================
# install
# ============================================================================================

install_apt() {
  local s
  # promtool (in Debian's prometheus package; no server is started) tests the chart's alert rules;
  # ip (iproute2) makes istiod's network namespace for the e2e's echo servers
  apt_need promtool:prometheus ip:iproute2
  for s in "${PEER_SCRIPTS[@]}"; do peer "$s" apt; done
}

# Run the install steps that take long side by side; fail loudly with each one's log.
run_bg() { # <name> <command...>
  local name="$1"; shift
  ( "$@" ) >"$INSTALL_LOG_DIR/$name.log" 2>&1 &
  BG_PIDS+=("$!"); BG_NAMES+=("$name")
}

do_install() {
  mkdir -p "$BIN_DIR" "$INSTALL_LOG_DIR"
  phase install-apt install_apt
  BG_PIDS=(); BG_NAMES=()
  local t0; t0="$(now)"
  run_bg kube-apiserver peer kube build
  run_bg consul peer consul build
  run_bg eureka-server peer eureka build
  run_bg moto peer moto build
  # istiod (pilot-discovery) is its own script; peers.sh builds and starts it unless RB_ISTIOD=0.
  [ "${RB_ISTIOD:-1}" = 0 ] || run_bg istiod bash "$PEERS_DIR/istiod.sh" install
  local i failed=0
  for i in "${!BG_PIDS[@]}"; do
    if wait "${BG_PIDS[$i]}"; then
      log "install ${BG_NAMES[$i]}: ok at $(elapsed "$t0") ($(grep -m1 -o '^\[peers\] .*' "$INSTALL_LOG_DIR/${BG_NAMES[$i]}.log" | sed 's/^\[peers\] //'))"
    else
      failed=1
      log "install ${BG_NAMES[$i]}: FAILED, last lines of $INSTALL_LOG_DIR/${BG_NAMES[$i]}.log:"
      tail -40 "$INSTALL_LOG_DIR/${BG_NAMES[$i]}.log" >&2
    fi
  done
  [ "$failed" -eq 0 ] || die "install failed"
}

# the opt-in peers start their processes here (scripts/peers/extras.sh), by the helpers of lib.sh
port_of() { extra_port_of "$1"; }
# shellcheck source=peers/extras.sh
. "$PEERS_DIR/extras.sh"

write_env() {
  local tmp="$ENV_FILE.tmp" s
  umask 077
  {
    echo "# written by scripts/peers.sh up at $(date -u +%Y-%m-%dT%H:%M:%SZ); sourceable; see docs/local-peers.md"
    for s in "${PEER_SCRIPTS[@]}"; do peer "$s" env; done
    echo "RB_PEERS_RUN_DIR=$RUN_DIR"
  } > "$tmp"
  mv "$tmp" "$ENV_FILE"
}

# ============================================================================================
# commands
# ============================================================================================

cmd_down() {
  local name any=0
  bash "$PEERS_DIR/istiod.sh" down >&2 || true
  # The opt-in node (scripts/peers/node.sh) runs its API server on our etcd: stop it first.
  if [ -z "${RB_PEER_DIR:-}" ] && { [ -f "$CACHE_DIR/run/node/pids/apiserver.pid" ] || [ -f "$CACHE_DIR/run/node/pids/kubelet.pid" ]; }; then bash "$PEERS_DIR/node.sh" down >&2 || true; fi
  for name in "${PEERS[@]}"; do [ -f "$PID_DIR/$name.pid" ] && any=1; done
  if [ "$any" -eq 0 ]; then log "nothing to stop"; else
    # every peer's script at once (kube.sh stops the API server before etcd)
    local s pids=()
    for s in "${PEER_SCRIPTS[@]}"; do peer "$s" down & pids+=("$!"); done
    for s in "${pids[@]}"; do wait "$s" || true; done
  fi
  # shellcheck disable=SC2046
  stop_peers $(all_extra_peers)
  rm -f "$ENV_FILE"
}

# every port is checked before anything starts; the API server's script waits for its etcd
start_all() {
  local s
  for s in "${PEER_SCRIPTS[@]}"; do peer "$s" check; done
  for s in redis consul eureka moto kube; do peer "$s" start; done
}

wait_all() {
  local s
  for s in redis consul moto kube eureka; do peer "$s" wait; done
}

cmd_up() {
  local t0; t0="$(now)"
  mkdir -p "$CACHE_DIR"
  phase install do_install
  # a previous `up` may have left peers running: stop those (by pid) so every run starts clean
  phase stop-previous cmd_down
  rm -rf "$LOG_DIR"; mkdir -p "$PID_DIR" "$LOG_DIR"
  # a failed `up` leaves nothing running (RB_KEEP_ON_FAILURE=1 keeps the peers for a look)
  trap 'if [ -z "${UP_DONE:-}" ] && [ -z "${RB_KEEP_ON_FAILURE:-}" ]; then log "up failed: stopping what it started"; cmd_down; fi' EXIT
  phase start start_all
  phase wait wait_all
  phase kube-setup peer kube setup
  write_env
  # 9>&-: istiod must not inherit this script's lock, or a later `down` would wait for it forever
  [ "${RB_ISTIOD:-1}" = 0 ] || phase istiod bash "$PEERS_DIR/istiod.sh" up 9>&-
  local extras=()
  [ -n "${RB_PEERS_EXTRA:-}" ] && IFS=, read -r -a extras <<< "$RB_PEERS_EXTRA"
  [ "${#extras[@]}" -eq 0 ] || phase extras up_extras "${extras[@]}"
  UP_DONE=1
  log "all peers up in $(elapsed "$t0"); env file: $ENV_FILE"
}

cmd_status() {
  local name rc=0
  for name in "${PEERS[@]}"; do status_line "$name" 15 || rc=3; done
  # opt-in peers are listed only when started
  for name in $(all_extra_peers); do
    [ -f "$PID_DIR/$name.pid" ] || continue
    status_line "$name" 22 || rc=3
  done
  [ -f "$PID_DIR/istiod.pid" ] && { bash "$PEERS_DIR/istiod.sh" status || rc=3; }
  [ -f "$ENV_FILE" ] && echo "env file: $ENV_FILE" || echo "env file: (none)"
  return "$rc"
}

cmd_env() {
  [ -f "$ENV_FILE" ] || die "no env file at $ENV_FILE: run \`bash scripts/peers.sh up\`"
  echo "# $ENV_FILE"
  cat "$ENV_FILE"
}

# up, down and install of one cache dir run one at a time (the peers do not inherit the lock)
lock() {
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.peers.lock"
  flock -w 1200 9 || die "another scripts/peers.sh holds $CACHE_DIR/.peers.lock"
}

case "${1:-}" in
  up) lock; if [ $# -gt 1 ]; then shift; up_extras "$@"; else cmd_up; fi ;;
  down) lock; cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  install) lock; phase install do_install ;;
  *) echo "usage: $0 up|down|status|env|install" >&2; exit 2 ;;
esac; exit # on one line: bash has read all it runs, so editing this file while it runs is harmless
