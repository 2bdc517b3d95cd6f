#!/usr/bin/env bash
# A local OCI registry on loopback (Debian's docker-registry, the CNCF distribution registry):
# the images of scripts/images.sh and the Helm chart are pushed here, and the cluster of
# scripts/peers/node.sh pulls from here, exactly as a user pulls from a public registry.
#
#   bash scripts/peers/registry.sh up       start it (idempotent), wait until /v2/ answers
#   bash scripts/peers/registry.sh down     stop exactly the process that `up` started (by pid)
#   bash scripts/peers/registry.sh status   up/down, address
#   bash scripts/peers/registry.sh push     images (scripts/images.sh push) and the chart (helm push, OCI)
#   bash scripts/peers/registry.sh env      the address, as KEY=value
#
# Plain HTTP on 127.0.0.1 only (RB_OCI_REGISTRY_PORT, default 15500); storage under
# ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/run/registry, kept across restarts.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=apt-need.sh
. "$SCRIPT_DIR/apt-need.sh"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"
RUN_DIR="$CACHE_DIR/run"
PID_FILE="$RUN_DIR/pids/oci-registry.pid"
LOG_FILE="$RUN_DIR/logs/oci-registry.log"
DATA_DIR="$RUN_DIR/registry"
HOST=127.0.0.1
: "${RB_OCI_REGISTRY_PORT:=15500}"
ADDR="$HOST:$RB_OCI_REGISTRY_PORT"

log() { printf '[registry] %s\n' "$*" >&2; }
die() { printf '[registry] ERROR: %s\n' "$*" >&2; exit 1; }

pid_alive() { # the recorded pid, if it is still our docker-registry
  [ -f "$PID_FILE" ] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  [ -d "/proc/$pid" ] && grep -q docker-registry "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

answers() { curl -sf "http://$ADDR/v2/" >/dev/null; }

up() {
  if pid_alive >/dev/null; then answers && { log "already up at $ADDR"; return; }; fi
  apt_need docker-registry:docker-registry skopeo:skopeo || die "docker-registry and skopeo are required (apt-get install docker-registry skopeo)"
  (exec 3<>"/dev/tcp/$HOST/$RB_OCI_REGISTRY_PORT") 2>/dev/null && die "$ADDR is taken by another process"
  mkdir -p "$DATA_DIR" "$(dirname "$PID_FILE")" "$(dirname "$LOG_FILE")"
  cat > "$RUN_DIR/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DATA_DIR
  delete:
    enabled: true
http:
  addr: $ADDR
YAML
  setsid docker-registry serve "$RUN_DIR/registry.yml" >"$LOG_FILE" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$PID_FILE"
  for _ in $(seq 1 100); do
    answers && { log "up at http://$ADDR"; return; }
    # The process itself, not its cmdline: right after the fork it is still bash, not yet
    # docker-registry.
    [ -d "/proc/$pid" ] || break
    sleep 0.1
  done
  tail -20 "$LOG_FILE" >&2
  die "docker-registry did not answer on $ADDR"
}

down() {
  local pid
  if pid="$(pid_alive)"; then
    kill "$pid"
    for _ in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    log "stopped (pid $pid)"
  fi
  rm -f "$PID_FILE"
}

push() {
  answers || die "the registry is not up: bash scripts/peers/registry.sh up"
  bash "$REPO_ROOT/scripts/images.sh" push "$ADDR"
  local helm dir
  helm="$(bash "$REPO_ROOT/scripts/tools.sh" helm)"
  dir="$(mktemp -d)"
  "$helm" package "$REPO_ROOT/deploy/helm/registry-bridge" -d "$dir" >/dev/null
  "$helm" push "$dir"/registry-bridge-*.tgz "oci://$ADDR/charts" --plain-http
  rm -rf "$dir"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) if pid_alive >/dev/null && answers; then echo "oci-registry up http://$ADDR (pid $(pid_alive))"; else echo "oci-registry down"; exit 3; fi ;;
  push) push ;;
  env) echo "RB_OCI_REGISTRY=$ADDR" ;;
  *) echo "usage: $0 up|down|status|push|env" >&2; exit 2 ;;
esac
