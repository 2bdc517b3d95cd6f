#!/usr/bin/env bash
# moto's server mode (the AWS Cloud Map API) on loopback, from a Python venv in the cache: the peers'
# one (scripts/peers.sh), or a private instance of a test (RB_PEER_DIR, see scripts/peers/lib.sh).
#
#   bash scripts/peers/moto.sh up|down|status|env|install|kill [SIGNAL]|freeze|thaw|wipe|pid
#
#   RB_MOTO_PORT       port (default 15000)
#   RB_MOTO_TLS_DIR    a directory with server.crt/key (scripts/peers/pki.sh): HTTPS only
# In memory: a restart comes back empty.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${RB_MOTO_PORT:=15000}"
MOTO_REQUIREMENTS="$PEERS_DIR/moto-requirements.txt"
MOTO_VENV="$CACHE_DIR/moto-venv"
PEER_INSTANCES=(moto)
PEER_DATA=()

port_of() { echo "$RB_MOTO_PORT"; }
peer_apt() {
  apt_need curl:curl
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
}

peer_build() {
  local stamp; stamp="$(short_hash "$MOTO_REQUIREMENTS")"
  if [ -x "$MOTO_VENV/bin/moto_server" ] && [ "$(cat "$MOTO_VENV/.rb-stamp" 2>/dev/null)" = "$stamp" ]; then
    log "moto: cached"; return
  fi
  log "moto: installing into $MOTO_VENV"
  rm -rf "$MOTO_VENV"
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check -r "$MOTO_REQUIREMENTS"
  echo "$stamp" > "$MOTO_VENV/.rb-stamp"
}

scheme() { if [ -n "${RB_MOTO_TLS_DIR:-}" ]; then echo https; else echo http; fi; }

start_moto() {
  local tls=()
  [ -n "${RB_MOTO_TLS_DIR:-}" ] && tls=(-s -c "$RB_MOTO_TLS_DIR/server.crt" -k "$RB_MOTO_TLS_DIR/server.key")
  start_peer moto "$MOTO_VENV/bin/python" "$MOTO_VENV/bin/moto_server" -H "$HOST" -p "$RB_MOTO_PORT" "${tls[@]}"
}
probe_moto() {
  local ca=(); [ -n "${RB_MOTO_TLS_DIR:-}" ] && ca=(--cacert "$RB_MOTO_TLS_DIR/ca.crt")
  curl -sf "${ca[@]}" -X POST "$(scheme)://$HOST:$RB_MOTO_PORT/" -H 'Content-Type: application/x-amz-json-1.1' \
    -H 'X-Amz-Target: Route53AutoNaming_v20170314.ListNamespaces' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/servicediscovery/aws4_request, SignedHeaders=host, Signature=x' \
    -d '{}' | grep -q Namespaces
}

env_moto() {
  cat <<ENV
RB_CLOUDMAP_ENDPOINT=$(scheme)://$HOST:$RB_MOTO_PORT
RB_AWS_REGION=us-east-1
RB_AWS_ACCESS_KEY_ID=testing
RB_AWS_SECRET_ACCESS_KEY=testing
ENV
}

peer_main "$@"
