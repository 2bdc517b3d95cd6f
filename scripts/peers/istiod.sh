#!/usr/bin/env bash
# istiod (pilot-discovery) on loopback against the local API server of scripts/peers.sh, so the
# e2e suite (e2e/istio) can ask it what a sidecar would receive for what the writer wrote.
#
#   bash scripts/peers/istiod.sh up       build (cached) and start istiod, wait until it answers, write its env file
#   bash scripts/peers/istiod.sh down     stop exactly the process that `up` started (by pid)
#   bash scripts/peers/istiod.sh status   up/down, pid, RSS
#   bash scripts/peers/istiod.sh install  only build (no start): istiod and the e2e's Go tools
#   bash scripts/peers/istiod.sh env      print the env file the e2e reads
#
# Another instance (scripts/peers/node.sh runs one for its own API server): RB_PEER_DIR (its pid and
# log dir), other RB_ISTIOD_*_PORT values, RB_ISTIOD_KUBECONFIG (instead of the peers' admin one),
# RB_ISTIOD_ENV_FILE (its env file) and RB_ISTIOD_ECHO_NETNS=0 (no echo servers' namespace: that one
# belongs to the peers' istiod).
# Needs `bash scripts/peers.sh up` first (the API server with Istio's CRDs), and again after each
# such `up`: it recreates the API server's tokens. Minimal istiod: no webhooks, no Gateway API
# controllers, no analysis; its CA is the self-signed one istiod makes at start (it needs one to
# serve xDS over TLS on its 15012; the e2e uses the plaintext xDS port, istiod's 15010).
# Caches live outside the repo under ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}. See docs/istio-proof.md.
set -euo pipefail

LOG_TAG=istiod
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PEERS_ENV="$ENV_FILE"
ISTIOD_ENV="${RB_ISTIOD_ENV_FILE:-$CACHE_DIR/istiod.env}"
: "${RB_ISTIOD_ECHO_NETNS:=1}"
ISTIOD_DIR="$RUN_DIR/istiod"

# ---- fixed loopback ports, each overridable (istiod's defaults + 20000, clear of other peers) --
: "${RB_ISTIOD_XDS_PORT:=25010}"        # plaintext gRPC xDS (istiod's 15010): what the e2e's ADS client uses
: "${RB_ISTIOD_XDS_TLS_PORT:=25012}"    # TLS gRPC xDS (istiod's 15012)
: "${RB_ISTIOD_HTTP_PORT:=28080}"       # HTTP: /ready, /debug/* (istiod's 8080)
: "${RB_ISTIOD_MONITORING_PORT:=25014}" # Prometheus metrics (istiod's 15014)
: "${RB_ISTIOD_HTTPS_PORT:=25017}"      # webhook port (istiod's 15017): nothing registers it
: "${RB_ISTIOD_UP_TIMEOUT:=180}"

# ---- pinned build (bump here and in tools/istiod/go.mod) ------------------------------------
ISTIO_VERSION=1.31-eed52ebb66ad       # istio.io/istio v0.0.0-20260827124520-eed52ebb66ad
ISTIOD_TAGS=vtprotobuf,disable_pgv     # Istio's own STANDARD_TAGS for pilot-discovery
ISTIOD_LDFLAGS="-s -w -X istio.io/istio/pkg/version.buildVersion=$ISTIO_VERSION -X istio.io/istio/pkg/version.buildGitRevision=eed52ebb66ad -X istio.io/istio/pkg/version.buildStatus=Clean -X istio.io/istio/pkg/version.buildTag=$ISTIO_VERSION"

# The cached binary's name carries the version and a hash of go.mod, go.sum, tags and link flags.
ISTIOD_BIN="$BIN_DIR/pilot-discovery-$ISTIO_VERSION-$(short_hash "$TOOLS_DIR/istiod/go.mod" "$TOOLS_DIR/istiod/go.sum" <(echo "$ISTIOD_TAGS $ISTIOD_LDFLAGS"))"
XDS_PROBE_BIN="$BIN_DIR/xds-probe-$(short_hash "$TOOLS_DIR/xds-probe/go.mod" "$TOOLS_DIR/xds-probe/go.sum" "$TOOLS_DIR/xds-probe/main.go")"
XDS_GRPC_BIN="$BIN_DIR/xds-grpc-$(short_hash "$TOOLS_DIR/xds-grpc/go.mod" "$TOOLS_DIR/xds-grpc/go.sum" "$TOOLS_DIR/xds-grpc/main.go")"

build_istiod() {
  [ -x "$ISTIOD_BIN" ] && { log "pilot-discovery $ISTIO_VERSION: cached"; return; }
  command -v go >/dev/null || die "go (1.26+) is required to build pilot-discovery"
  log "pilot-discovery $ISTIO_VERSION: building (cold: see docs/istio-proof.md for the measured time)"
  local t0; t0="$(now)"
  ( cd "$TOOLS_DIR/istiod" && CGO_ENABLED=0 go build -trimpath -tags="$ISTIOD_TAGS" -ldflags="$ISTIOD_LDFLAGS" \
      -o "$ISTIOD_BIN.tmp" istio.io/istio/pilot/cmd/pilot-discovery ) && mv "$ISTIOD_BIN.tmp" "$ISTIOD_BIN"
  log "pilot-discovery built in $(elapsed "$t0"), $(du -h "$ISTIOD_BIN" | cut -f1)"
}

# The e2e's Go test tools (tools/<name>), cached by content hash: the pretend sidecar (xds-probe)
# and the proxyless gRPC client and echo server (xds-grpc).
build_tool() { # name, cached binary path
  [ -x "$2" ] && { log "$1: cached"; return; }
  command -v go >/dev/null || die "go (1.26+) is required to build $1"
  log "$1: building"
  local t0; t0="$(now)"
  ( cd "$TOOLS_DIR/$1" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$2.tmp" . ) && mv "$2.tmp" "$2"
  log "$1 built in $(elapsed "$t0")"
}

do_install() {
  mkdir -p "$BIN_DIR" "$INSTALL_LOG_DIR"
  build_istiod
  build_tool xds-probe "$XDS_PROBE_BIN"
  build_tool xds-grpc "$XDS_GRPC_BIN"
}

# ============================================================================================
# process management: scripts/peers/lib.sh's pid file (pid, executable, port)
# ============================================================================================

rss_mib() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }

do_down() {
  # The network namespace is the machine's, not this cache dir's: only the `up` that recorded a pid
  # here made it, so a `down` of another cache dir (RB_CACHE_DIR) never removes a running one's.
  [ -f "$PID_DIR/istiod.pid" ] || { log "istiod: not running"; rm -f "$ISTIOD_ENV"; return 0; }
  # istiod drains for --shutdownDuration (1s below) before it exits
  stop_peers istiod
  rm -f "$ISTIOD_ENV"
  [ "$RB_ISTIOD_ECHO_NETNS" = 0 ] || echo_netns_down
}

probe_ready() { curl -sf -o /dev/null "http://$HOST:$RB_ISTIOD_HTTP_PORT/ready"; }

# The e2e's gRPC echo servers are registry instances, and the writer drops loopback endpoints (a
# sidecar would dial its own pod). They run in a network namespace of their own instead, joined to
# this one by a veth pair, so every request stays inside this machine on addresses this script made.
: "${RB_ECHO_NETNS:=rb-echo}"
: "${RB_ECHO_HOST_ADDR:=198.18.0.1}"   # 198.18.0.0/15: reserved for network benchmark tests
: "${RB_ECHO_ADDR:=198.18.0.2}"
echo_netns_down() {
  ip netns del "$RB_ECHO_NETNS" 2>/dev/null || true
  ip link del "$RB_ECHO_NETNS-h" 2>/dev/null || true
}
echo_netns_up() {
  command -v ip >/dev/null || die "ip (Debian's iproute2) is needed for the echo servers' network namespace"
  echo_netns_down
  ip netns add "$RB_ECHO_NETNS"
  ip link add "$RB_ECHO_NETNS-h" type veth peer name "$RB_ECHO_NETNS-n"
  ip link set "$RB_ECHO_NETNS-n" netns "$RB_ECHO_NETNS"
  ip addr add "$RB_ECHO_HOST_ADDR/24" dev "$RB_ECHO_NETNS-h"
  ip link set "$RB_ECHO_NETNS-h" up
  ip netns exec "$RB_ECHO_NETNS" ip addr add "$RB_ECHO_ADDR/24" dev "$RB_ECHO_NETNS-n"
  ip netns exec "$RB_ECHO_NETNS" ip link set "$RB_ECHO_NETNS-n" up
  ip netns exec "$RB_ECHO_NETNS" ip link set lo up
}

write_mesh_config() {
  mkdir -p "$ISTIOD_DIR"
  # Minimal mesh: defaults for all the e2e does not look at; auto mTLS on as in a real mesh.
  cat > "$ISTIOD_DIR/mesh.yaml" <<EOF
rootNamespace: istio-system
trustDomain: cluster.local
enableAutoMtls: true
defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
EOF
  : > "$ISTIOD_DIR/mesh-networks.yaml"
}

do_up() {
  local kubeconfig="${RB_ISTIOD_KUBECONFIG:-}"
  if [ -z "$kubeconfig" ]; then
    [ -f "$PEERS_ENV" ] || die "no $PEERS_ENV: start the API server first: bash scripts/peers.sh up"
    kubeconfig="$(sed -n 's/^RB_KUBECONFIG_ADMIN=//p' "$PEERS_ENV" | tr -d "\"'")"
  fi
  [ -f "$kubeconfig" ] || die "admin kubeconfig missing: bash scripts/peers.sh up"
  kubectl --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1 \
    || die "the local API server does not answer: bash scripts/peers.sh up"
  do_install
  # `up` restarts clean, like peers.sh: stop what we started before, refuse foreign port users
  do_down 2>/dev/null || true
  local p
  for p in "$RB_ISTIOD_XDS_PORT" "$RB_ISTIOD_XDS_TLS_PORT" "$RB_ISTIOD_HTTP_PORT" "$RB_ISTIOD_MONITORING_PORT" "$RB_ISTIOD_HTTPS_PORT"; do
    port_in_use "$p" && die "port $HOST:$p is in use by a process this script did not start"
  done
  mkdir -p "$PID_DIR" "$LOG_DIR"
  write_mesh_config
  local logf="$LOG_DIR/istiod.log" t0; t0="$(now)"
  # No webhooks to patch (no injector, no validation), no Gateway API controllers (no Gateway API
  # CRDs here), no analysis; everything else as shipped, including the push debounce
  # (100 ms quiet, 10 s max) that the latency numbers include.
  env POD_NAME=istiod-local POD_NAMESPACE=istio-system REVISION=default CLUSTER_ID=Kubernetes \
    INJECTION_WEBHOOK_CONFIG_NAME= VALIDATION_WEBHOOK_CONFIG_NAME= \
    PILOT_ENABLE_GATEWAY_API=false PILOT_ENABLE_GATEWAY_API_STATUS=false \
    PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER=false PILOT_ENABLE_GATEWAY_API_GATEWAYCLASS_CONTROLLER=false \
    PILOT_ENABLE_ANALYSIS=false PILOT_CERT_PROVIDER=istiod \
    setsid "$ISTIOD_BIN" discovery \
      --kubeconfig "$kubeconfig" \
      --meshConfig "$ISTIOD_DIR/mesh.yaml" --networksConfig "$ISTIOD_DIR/mesh-networks.yaml" \
      --grpcAddr "$HOST:$RB_ISTIOD_XDS_PORT" --secureGRPCAddr "$HOST:$RB_ISTIOD_XDS_TLS_PORT" \
      --httpAddr "$HOST:$RB_ISTIOD_HTTP_PORT" --httpsAddr "$HOST:$RB_ISTIOD_HTTPS_PORT" \
      --monitoringAddr "$HOST:$RB_ISTIOD_MONITORING_PORT" \
      --domain cluster.local --clusterID Kubernetes --shutdownDuration 1s \
      --log_output_level "${RB_ISTIOD_LOG_LEVEL:-default:info}" \
      >"$logf" 2>&1 </dev/null &
  local pid=$!
  printf '%s\n%s\n%s\n' "$pid" "$(readlink -f "$ISTIOD_BIN")" "$RB_ISTIOD_XDS_PORT" > "$PID_DIR/istiod.pid"
  log "started istiod (pid $pid, log $logf)"
  local deadline=$(( $(date +%s) + RB_ISTIOD_UP_TIMEOUT ))
  until probe_ready; do
    pid_alive istiod >/dev/null || { log "istiod exited; last lines of $logf:"; tail -40 "$logf" >&2; die "istiod did not come up"; }
    [ "$(date +%s)" -lt "$deadline" ] || { log "no answer within ${RB_ISTIOD_UP_TIMEOUT}s; last lines of $logf:"; tail -40 "$logf" >&2; die "istiod did not come up"; }
    sleep 0.2
  done
  local ready_s; ready_s="$(elapsed "$t0")"
  [ "$RB_ISTIOD_ECHO_NETNS" = 0 ] || echo_netns_up || die "could not create the network namespace $RB_ECHO_NETNS for the e2e's echo servers"
  umask 077
  cat > "$ISTIOD_ENV" <<EOF
# written by scripts/peers/istiod.sh up; read by e2e/istio
RB_ISTIOD_XDS_ADDR=$HOST:$RB_ISTIOD_XDS_PORT
RB_ISTIOD_DEBUG_URL=http://$HOST:$RB_ISTIOD_HTTP_PORT
RB_ISTIOD_METRICS_URL=http://$HOST:$RB_ISTIOD_MONITORING_PORT/metrics
RB_ISTIOD_PID=$pid
RB_ISTIOD_VERSION=$ISTIO_VERSION
RB_XDS_PROBE_BIN=$XDS_PROBE_BIN
RB_XDS_GRPC_BIN=$XDS_GRPC_BIN
RB_ECHO_NETNS=$RB_ECHO_NETNS
RB_ECHO_ADDR=$RB_ECHO_ADDR
EOF
  log "istiod $ISTIO_VERSION ready on $HOST:$RB_ISTIOD_XDS_PORT (xDS), $HOST:$RB_ISTIOD_HTTP_PORT (debug) in $ready_s, RSS $(rss_mib "$pid") MiB; env: $ISTIOD_ENV"
}

do_status() {
  local pid
  if pid="$(pid_alive istiod)"; then
    if probe_ready; then echo "istiod: up (pid $pid, RSS $(rss_mib "$pid") MiB, xDS $HOST:$RB_ISTIOD_XDS_PORT)"
    else echo "istiod: running, not ready (pid $pid)"; fi
  else
    echo "istiod: down"; return 1
  fi
}

case "${1:-}" in
  up) do_up ;;
  down) do_down ;;
  status) do_status ;;
  install) do_install ;;
  env) cat "$ISTIOD_ENV" ;;
  *) echo "usage: $0 up|down|status|install|env" >&2; exit 2 ;;
esac
