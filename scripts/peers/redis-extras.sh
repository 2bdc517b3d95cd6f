# Opt-in Redis peers for the scale-out and TLS tests (sourced by scripts/peers/extras.sh; not run alone).
#
#   redis-cluster   3 masters, no replicas (redis-server --cluster-enabled + redis-cli --cluster create)
#   redis-sentinel  1 master + 1 replica + 3 sentinels monitoring "$RB_REDIS_SENTINEL_MASTER"
#   redis-tls       TLS only (no plaintext port), a password, certificates from a local CA (openssl)

: "${RB_REDIS_CLUSTER_PORT:=17001}"    # 3 nodes: this port and the next two (cluster bus: +10000)
: "${RB_REDIS_SENTINEL_MASTER_PORT:=17101}"
: "${RB_REDIS_SENTINEL_REPLICA_PORT:=17102}"
: "${RB_REDIS_SENTINEL_PORT:=17111}"   # 3 sentinels: this port and the next two
: "${RB_REDIS_TLS_PORT:=17201}"
RB_REDIS_SENTINEL_MASTER=rb-master
EXTRA_KINDS+=(redis-cluster redis-sentinel redis-tls)

peers_redis_cluster() { echo redis-cluster-1 redis-cluster-2 redis-cluster-3; }
peers_redis_sentinel() { echo redis-sentinel-master redis-sentinel-replica redis-sentinel-1 redis-sentinel-2 redis-sentinel-3; }
peers_redis_tls() { echo redis-tls; }

port_redis_cluster() { echo $((RB_REDIS_CLUSTER_PORT + ${1##*-} - 1)); }
port_redis_sentinel() {
  case "$1" in
    redis-sentinel-master) echo "$RB_REDIS_SENTINEL_MASTER_PORT" ;;
    redis-sentinel-replica) echo "$RB_REDIS_SENTINEL_REPLICA_PORT" ;;
    *) echo $((RB_REDIS_SENTINEL_PORT + ${1##*-} - 1)) ;;
  esac
}
port_redis_tls() { echo "$RB_REDIS_TLS_PORT"; }

redis_common=(--bind "$HOST" --save "" --appendonly no --daemonize no --protected-mode yes --logfile "")

start_redis_cluster() {
  local i port dir
  for i in 1 2 3; do
    port="$(extra_port_of "redis-cluster-$i")"; dir="$RUN_DIR/redis-cluster/$i"
    rm -rf "$dir"; mkdir -p "$dir"
    start_peer "redis-cluster-$i" redis-server "${redis_common[@]}" --port "$port" --dir "$dir" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 3000
  done
}
wait_redis_cluster() {
  local i nodes=()
  for i in 1 2 3; do
    wait_for "redis-cluster-$i" probe_port_ping "$(extra_port_of "redis-cluster-$i")"
    nodes+=("$HOST:$(extra_port_of "redis-cluster-$i")")
  done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$LOG_DIR/redis-cluster-create.log" 2>&1 ||
    { tail -20 "$LOG_DIR/redis-cluster-create.log" >&2; die "redis-cli --cluster create failed"; }
  wait_for redis-cluster-1 probe_cluster_ok
}
probe_port_ping() { [ "$(redis-cli -h "$HOST" -p "$1" ping)" = PONG ]; }
probe_cluster_ok() { redis-cli -h "$HOST" -p "$RB_REDIS_CLUSTER_PORT" cluster info | grep -q 'cluster_state:ok'; }

start_redis_sentinel() {
  local dir="$RUN_DIR/redis-sentinel" i port
  rm -rf "$dir"; mkdir -p "$dir"
  start_peer redis-sentinel-master redis-server "${redis_common[@]}" --port "$RB_REDIS_SENTINEL_MASTER_PORT" --dir "$dir"
  start_peer redis-sentinel-replica redis-server "${redis_common[@]}" --port "$RB_REDIS_SENTINEL_REPLICA_PORT" --dir "$dir" \
    --replicaof "$HOST" "$RB_REDIS_SENTINEL_MASTER_PORT"
  for i in 1 2 3; do
    port="$(extra_port_of "redis-sentinel-$i")"
    # a sentinel rewrites its config file, so each gets its own; quorum 2 of 3, failover in seconds
    cat > "$dir/sentinel-$i.conf" <<EOF
bind $HOST
port $port
dir $dir
sentinel monitor $RB_REDIS_SENTINEL_MASTER $HOST $RB_REDIS_SENTINEL_MASTER_PORT 2
sentinel down-after-milliseconds $RB_REDIS_SENTINEL_MASTER 2000
sentinel failover-timeout $RB_REDIS_SENTINEL_MASTER 10000
sentinel parallel-syncs $RB_REDIS_SENTINEL_MASTER 1
EOF
    start_peer "redis-sentinel-$i" redis-server "$dir/sentinel-$i.conf" --sentinel
  done
}
wait_redis_sentinel() {
  local i
  wait_for redis-sentinel-master probe_port_ping "$RB_REDIS_SENTINEL_MASTER_PORT"
  wait_for redis-sentinel-replica probe_port_ping "$RB_REDIS_SENTINEL_REPLICA_PORT"
  for i in 1 2 3; do wait_for "redis-sentinel-$i" probe_sentinel "$(extra_port_of "redis-sentinel-$i")"; done
}
# the sentinel knows the master, the replica and the two other sentinels
probe_sentinel() {
  redis-cli -h "$HOST" -p "$1" sentinel master "$RB_REDIS_SENTINEL_MASTER" | tr '\n' ' ' |
    grep -q 'num-slaves 1 .*num-other-sentinels 2 '
}

REDIS_TLS_DIR="$RUN_DIR/redis-tls"
REDIS_TLS_PASSWORD=""
start_redis_tls() {
  make_local_pki "$REDIS_TLS_DIR" registry-bridge-redis-ca "$LOG_DIR/redis-tls-pki.log" || die "openssl failed for redis-tls"
  REDIS_TLS_PASSWORD="$(openssl rand -hex 16)"
  # the password goes in a config file, not on the command line (visible in ps)
  printf 'requirepass %s\n' "$REDIS_TLS_PASSWORD" > "$REDIS_TLS_DIR/auth.conf"; chmod 600 "$REDIS_TLS_DIR/auth.conf"
  start_peer redis-tls redis-server "$REDIS_TLS_DIR/auth.conf" "${redis_common[@]}" --dir "$REDIS_TLS_DIR" \
    --port 0 --tls-port "$RB_REDIS_TLS_PORT" --tls-cert-file "$REDIS_TLS_DIR/server.crt" --tls-key-file "$REDIS_TLS_DIR/server.key" \
    --tls-ca-cert-file "$REDIS_TLS_DIR/ca.crt" --tls-auth-clients optional
}
probe_redis_tls() {
  [ "$(REDISCLI_AUTH="$REDIS_TLS_PASSWORD" redis-cli --tls --cacert "$REDIS_TLS_DIR/ca.crt" -h "$HOST" -p "$RB_REDIS_TLS_PORT" ping)" = PONG ]
}
wait_redis_tls() { wait_for redis-tls probe_redis_tls; }

env_redis_cluster() {
  echo "RB_REDIS_CLUSTER_NODES=$HOST:$RB_REDIS_CLUSTER_PORT,$HOST:$((RB_REDIS_CLUSTER_PORT + 1)),$HOST:$((RB_REDIS_CLUSTER_PORT + 2))"
}
env_redis_sentinel() {
  echo "RB_REDIS_SENTINELS=$HOST:$RB_REDIS_SENTINEL_PORT,$HOST:$((RB_REDIS_SENTINEL_PORT + 1)),$HOST:$((RB_REDIS_SENTINEL_PORT + 2))"
  echo "RB_REDIS_SENTINEL_MASTER=$RB_REDIS_SENTINEL_MASTER"
}
env_redis_tls() {
  echo "RB_REDIS_TLS_URL=rediss://localhost:$RB_REDIS_TLS_PORT"
  echo "RB_REDIS_TLS_CA_FILE=$REDIS_TLS_DIR/ca.crt"
  echo "RB_REDIS_TLS_CERT_FILE=$REDIS_TLS_DIR/client.crt"
  echo "RB_REDIS_TLS_KEY_FILE=$REDIS_TLS_DIR/client.key"
  echo "RB_REDIS_TLS_PASSWORD=$REDIS_TLS_PASSWORD"
}
