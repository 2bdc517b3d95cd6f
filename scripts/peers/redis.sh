#!/usr/bin/env bash
# Redis (Debian's redis-server) on loopback: the peers' one (scripts/peers.sh), or a private instance
# of a test or the bench (RB_PEER_DIR, see scripts/peers/lib.sh).
#
#   bash scripts/peers/redis.sh up|down|status|env|install|kill [SIGNAL]|freeze|thaw|wipe|pid
#
#   RB_REDIS_PORT      port (default 16379)
#   RB_REDIS_PERSIST   1: an append-only file fsync'd at every write, so a crash (kill) loses nothing;
#                      default: in memory, a restart comes back empty
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${RB_REDIS_PORT:=16379}"
PEER_INSTANCES=(redis)
PEER_DATA=("$RUN_DIR/redis")

port_of() { echo "$RB_REDIS_PORT"; }
peer_apt() { apt_need redis-server:redis-server redis-cli:redis-tools; }
peer_build() { :; }

start_redis() {
  local persistence=(--appendonly no)
  [ "${RB_REDIS_PERSIST:-0}" = 1 ] && persistence=(--appendonly yes --appendfsync always)
  mkdir -p "$RUN_DIR/redis"
  start_peer redis redis-server --bind "$HOST" --port "$RB_REDIS_PORT" --save "" "${persistence[@]}" \
    --dir "$RUN_DIR/redis" --daemonize no --protected-mode yes --logfile ""
}
probe_redis() { [ "$(redis-cli -h "$HOST" -p "$RB_REDIS_PORT" ping)" = PONG ]; }

env_redis() { echo "RB_REDIS_URL=redis://$HOST:$RB_REDIS_PORT"; }

peer_main "$@"
