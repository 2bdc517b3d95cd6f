#!/usr/bin/env bash
# Consul agents on loopback, built from tools/consul (cached): the peers' two dev agents
# (scripts/peers.sh: `consul` without ACLs, `consul-acl` with ACLs on, default deny), or a private
# agent of a test (RB_PEER_DIR, see scripts/peers/lib.sh).
#
#   bash scripts/peers/consul.sh up|down|status|env|install|kill [SIGNAL]|freeze|thaw|wipe|pid
#
#   RB_CONSUL_INSTANCES   which agents (default "consul consul-acl"; a private agent: "consul")
#   RB_CONSUL_PORT, RB_CONSUL_HTTPS_PORT, RB_CONSUL_GRPC_PORT, ... (below)   the agent's ports
#   RB_CONSUL_NODE        node name of `consul` (default rb-consul)
#   RB_CONSUL_TLS_DIR     a directory with ca.crt, server.crt/key (scripts/peers/pki.sh): `consul` serves
#                         HTTPS only, on RB_CONSUL_HTTPS_PORT
#   RB_CONSUL_PERSIST     1: `consul` is a single server with a data dir, so a restart keeps its catalog
#                         (same index); default: a dev agent in memory, a restart is a wiped registry
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${RB_CONSUL_PORT:=18500}"          # dev agent, no ACLs
: "${RB_CONSUL_HTTPS_PORT:=-1}"       # off unless RB_CONSUL_TLS_DIR
: "${RB_CONSUL_GRPC_PORT:=18502}"
: "${RB_CONSUL_GRPC_TLS_PORT:=18503}"
: "${RB_CONSUL_DNS_PORT:=18600}"
: "${RB_CONSUL_SERVER_PORT:=18300}"
: "${RB_CONSUL_SERF_LAN_PORT:=18301}"
: "${RB_CONSUL_SERF_WAN_PORT:=18302}"
: "${RB_CONSUL_ACL_PORT:=18501}"      # dev agent, ACLs on, default deny
: "${RB_CONSUL_ACL_GRPC_PORT:=18512}"
: "${RB_CONSUL_ACL_GRPC_TLS_PORT:=18513}"
: "${RB_CONSUL_ACL_DNS_PORT:=18610}"
: "${RB_CONSUL_ACL_SERVER_PORT:=18310}"
: "${RB_CONSUL_ACL_SERF_LAN_PORT:=18311}"
: "${RB_CONSUL_ACL_SERF_WAN_PORT:=18312}"
: "${RB_CONSUL_NODE:=rb-consul}"
read -r -a PEER_INSTANCES <<< "${RB_CONSUL_INSTANCES:-consul consul-acl}"
PEER_DATA=("$RUN_DIR/consul")

# ---- pinned version (bump here and in tools/consul) -----------------------------------------
CONSUL_VERSION=v1.22.5                # tools/consul/go.mod
CONSUL_LDFLAGS="-s -w"
# The cached binary's name carries the version and a hash of go.mod, go.sum and the link flags:
# it is rebuilt when any of them changes, and reused otherwise.
CONSUL_BIN="$BIN_DIR/consul-$CONSUL_VERSION-$(short_hash "$TOOLS_DIR/consul/go.mod" "$TOOLS_DIR/consul/go.sum" <(echo "$CONSUL_LDFLAGS"))"
ACL_CONFIG="$RUN_DIR/consul/acl.hcl"

port_of() {
  case "$1" in
    consul) if [ -n "${RB_CONSUL_TLS_DIR:-}" ]; then echo "$RB_CONSUL_HTTPS_PORT"; else echo "$RB_CONSUL_PORT"; fi ;;
    consul-acl) echo "$RB_CONSUL_ACL_PORT" ;;
  esac
}
peer_apt() { apt_need curl:curl; }
peer_build() {
  [ -x "$CONSUL_BIN" ] && { log "consul $CONSUL_VERSION: cached"; return; }
  need_go consul
  log "consul $CONSUL_VERSION: building (cold: several minutes)"
  go_build "$TOOLS_DIR/consul" github.com/hashicorp/consul "$CONSUL_BIN" "$CONSUL_LDFLAGS"
}

write_consul_config() { # <file> <node> <http> <https> <grpc> <grpc_tls> <dns> <server> <serf_lan> <serf_wan> [acl token]
  local f="$1"
  cat > "$f" <<HCL
node_name = "$2"
bind_addr = "$HOST"
client_addr = "$HOST"
advertise_addr = "$HOST"
disable_update_check = true
log_level = "INFO"
ports {
  http     = $3
  https    = $4
  grpc     = $5
  grpc_tls = $6
  dns      = $7
  server   = $8
  serf_lan = $9
  serf_wan = ${10}
}
HCL
  if [ -n "${11:-}" ]; then
    cat >> "$f" <<HCL
acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = false
  tokens {
    initial_management = "${11}"
    agent              = "${11}"
  }
}
HCL
  fi
}

start_consul() {
  local http="$RB_CONSUL_PORT" mode=(-dev)
  mkdir -p "$RUN_DIR/consul"
  [ -n "${RB_CONSUL_TLS_DIR:-}" ] && http=-1
  write_consul_config "$RUN_DIR/consul/dev.hcl" "$RB_CONSUL_NODE" "$http" "$RB_CONSUL_HTTPS_PORT" "$RB_CONSUL_GRPC_PORT" \
    "$RB_CONSUL_GRPC_TLS_PORT" "$RB_CONSUL_DNS_PORT" "$RB_CONSUL_SERVER_PORT" "$RB_CONSUL_SERF_LAN_PORT" "$RB_CONSUL_SERF_WAN_PORT"
  if [ -n "${RB_CONSUL_TLS_DIR:-}" ]; then
    cat >> "$RUN_DIR/consul/dev.hcl" <<HCL
tls {
  defaults {
    ca_file         = "$RB_CONSUL_TLS_DIR/ca.crt"
    cert_file       = "$RB_CONSUL_TLS_DIR/server.crt"
    key_file        = "$RB_CONSUL_TLS_DIR/server.key"
    verify_incoming = false
  }
}
HCL
  fi
  [ "${RB_CONSUL_PERSIST:-0}" = 1 ] && mode=(-server -bootstrap-expect=1 "-data-dir=$RUN_DIR/consul/data")
  start_peer consul "$CONSUL_BIN" agent "${mode[@]}" -config-file="$RUN_DIR/consul/dev.hcl"
}
start_consul_acl() {
  mkdir -p "$RUN_DIR/consul"
  write_consul_config "$ACL_CONFIG" rb-consul-acl "$RB_CONSUL_ACL_PORT" -1 "$RB_CONSUL_ACL_GRPC_PORT" "$RB_CONSUL_ACL_GRPC_TLS_PORT" \
    "$RB_CONSUL_ACL_DNS_PORT" "$RB_CONSUL_ACL_SERVER_PORT" "$RB_CONSUL_ACL_SERF_LAN_PORT" "$RB_CONSUL_ACL_SERF_WAN_PORT" \
    "$(cat /proc/sys/kernel/random/uuid)"
  chmod 600 "$ACL_CONFIG"
  start_peer consul-acl "$CONSUL_BIN" agent -dev -config-file="$ACL_CONFIG"
}
# the ACL agent's management token lives only in its config file (never on a command line)
acl_token() { sed -n 's/^ *initial_management = "\(.*\)"$/\1/p' "$ACL_CONFIG"; }

consul_url() { # <path>
  if [ -n "${RB_CONSUL_TLS_DIR:-}" ]; then echo "https://$HOST:$RB_CONSUL_HTTPS_PORT$1"; else echo "http://$HOST:$RB_CONSUL_PORT$1"; fi
}
# leader elected and the catalog answers (the node has registered itself)
probe_consul() {
  local ca=(); [ -n "${RB_CONSUL_TLS_DIR:-}" ] && ca=(--cacert "$RB_CONSUL_TLS_DIR/ca.crt")
  curl -sf "${ca[@]}" "$(consul_url /v1/catalog/nodes)" | grep -q "\"$RB_CONSUL_NODE\""
}
probe_consul_acl() {
  local token; token="$(acl_token)"
  curl -sf -H "X-Consul-Token: $token" "http://$HOST:$RB_CONSUL_ACL_PORT/v1/acl/token/self" | grep -q AccessorID &&
    curl -sf -H "X-Consul-Token: $token" "http://$HOST:$RB_CONSUL_ACL_PORT/v1/catalog/nodes" | grep -q rb-consul-acl
}

env_consul() { echo "RB_CONSUL_ADDR=$(consul_url '')"; }
env_consul_acl() { echo "RB_CONSUL_ACL_ADDR=http://$HOST:$RB_CONSUL_ACL_PORT"; echo "RB_CONSUL_ACL_TOKEN=$(acl_token)"; }

peer_main "$@"
