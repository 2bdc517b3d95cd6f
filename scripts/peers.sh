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
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
TOOLS_DIR="$REPO_ROOT/tools"
PEERS_DIR="$SCRIPT_DIR/peers"

CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"
BIN_DIR="$CACHE_DIR/bin"
RUN_DIR="$CACHE_DIR/run"
PID_DIR="$RUN_DIR/pids"
LOG_DIR="$RUN_DIR/logs"
INSTALL_LOG_DIR="$CACHE_DIR/install-logs"
ENV_FILE="$CACHE_DIR/peers.env"

# ---- fixed loopback ports, each overridable -------------------------------------------------
HOST=127.0.0.1
: "${RB_REDIS_PORT:=16379}"
: "${RB_ETCD_PORT:=12379}"
: "${RB_ETCD_PEER_PORT:=12380}"
: "${RB_KUBE_PORT:=16443}"
: "${RB_CONSUL_PORT:=18500}"          # dev agent, no ACLs
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
: "${RB_EUREKA_PORT:=18761}"          # response cache off, fast eviction, self-preservation off
: "${RB_EUREKA_CACHED_PORT:=18762}"   # as shipped: response cache on
: "${RB_EUREKA_EVICTION_MS:=1000}"
: "${RB_MOTO_PORT:=15000}"
: "${RB_UP_TIMEOUT:=180}"             # seconds to wait for each peer to answer

# ---- pinned versions (bump here and in tools/) ----------------------------------------------
KUBE_VERSION=v1.35.4                  # tools/kube-apiserver/go.mod
CONSUL_VERSION=v1.22.5                # tools/consul/go.mod
ISTIO_API_VERSION=v1.31.4             # Istio's CRDs: istio.io/api kubernetes/customresourcedefinitions.gen.yaml
MOTO_REQUIREMENTS="$PEERS_DIR/moto-requirements.txt"

log() { printf '[peers] %s\n' "$*" >&2; }
die() { printf '[peers] ERROR: %s\n' "$*" >&2; exit 1; }
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

# ============================================================================================
# install
# ============================================================================================

need_apt=()
apt_packages() {
  need_apt=()
  command -v redis-server >/dev/null || need_apt+=(redis-server)
  command -v redis-cli >/dev/null || need_apt+=(redis-tools)
  command -v etcd >/dev/null || need_apt+=(etcd-server)
  # the machine image may ship its own kubectl (package "kubectl"); Debian's is kubernetes-client
  command -v kubectl >/dev/null || need_apt+=(kubernetes-client)
  command -v openssl >/dev/null || need_apt+=(openssl)
  command -v curl >/dev/null || need_apt+=(curl)
  command -v java >/dev/null || need_apt+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || need_apt+=(maven)
  python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
  # promtool (in Debian's prometheus package; no server is started) tests the chart's alert rules
  command -v promtool >/dev/null || need_apt+=(prometheus)
  command -v ip >/dev/null || need_apt+=(iproute2)
}

install_apt() {
  apt_packages
  if [ "${#need_apt[@]}" -eq 0 ]; then log "apt: nothing missing"; return; fi
  log "apt: installing ${need_apt[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # no init system should start the packaged services on their default ports
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" \
    >"$INSTALL_LOG_DIR/apt.log" 2>&1 || { tail -30 "$INSTALL_LOG_DIR/apt.log" >&2; die "apt-get install failed"; }
}

KUBE_APISERVER_BIN=""
CONSUL_BIN=""
EUREKA_JAR=""
MOTO_VENV="$CACHE_DIR/moto-venv"

kube_ldflags() {
  local minor pkg
  minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  printf -- '-s -w'
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- ' -X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean' \
      "$pkg" "$KUBE_VERSION" "$pkg" "$pkg" "$minor" "$pkg"
  done
}
CONSUL_LDFLAGS="-s -w"

# The cached binary's name carries the version and a hash of go.mod, go.sum and the link flags:
# it is rebuilt when any of them changes, and reused otherwise.
resolve_artifacts() {
  KUBE_APISERVER_BIN="$BIN_DIR/kube-apiserver-$KUBE_VERSION-$(short_hash "$TOOLS_DIR/kube-apiserver/go.mod" "$TOOLS_DIR/kube-apiserver/go.sum" <(kube_ldflags))"
  CONSUL_BIN="$BIN_DIR/consul-$CONSUL_VERSION-$(short_hash "$TOOLS_DIR/consul/go.mod" "$TOOLS_DIR/consul/go.sum" <(echo "$CONSUL_LDFLAGS"))"
  EUREKA_JAR="$BIN_DIR/eureka-server-$(cd "$TOOLS_DIR/eureka-server" && short_hash pom.xml $(find src -type f | sort)).jar"
}

go_build() { # <module dir> <package> <output> <ldflags>
  local dir="$1" pkg="$2" out="$3" ldflags="$4"
  ( cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$out.tmp" "$pkg" ) && mv "$out.tmp" "$out"
}

build_kube_apiserver() {
  [ -x "$KUBE_APISERVER_BIN" ] && { log "kube-apiserver $KUBE_VERSION: cached"; return; }
  log "kube-apiserver $KUBE_VERSION: building (cold: several minutes)"
  go_build "$TOOLS_DIR/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$KUBE_APISERVER_BIN" "$(kube_ldflags)"
}

build_consul() {
  [ -x "$CONSUL_BIN" ] && { log "consul $CONSUL_VERSION: cached"; return; }
  log "consul $CONSUL_VERSION: building (cold: several minutes)"
  go_build "$TOOLS_DIR/consul" github.com/hashicorp/consul "$CONSUL_BIN" "$CONSUL_LDFLAGS"
}

build_eureka() {
  [ -f "$EUREKA_JAR" ] && { log "eureka-server: cached"; return; }
  log "eureka-server: building with maven"
  local repo_opt=()
  [ -n "${RB_MAVEN_REPO:-}" ] && repo_opt=("-Dmaven.repo.local=$RB_MAVEN_REPO")
  mvn -B -q -DskipTests "${repo_opt[@]}" -Drb.build.dir="$CACHE_DIR/build/eureka-server" \
    -f "$TOOLS_DIR/eureka-server/pom.xml" package
  cp "$CACHE_DIR/build/eureka-server/eureka-server.jar" "$EUREKA_JAR.tmp" && mv "$EUREKA_JAR.tmp" "$EUREKA_JAR"
}

# istiod (pilot-discovery) is its own script; peers.sh builds and starts it unless RB_ISTIOD=0.
install_istiod() { bash "$PEERS_DIR/istiod.sh" install; }

install_moto() {
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

ISTIO_CRDS=""
fetch_istio_crds() {
  local dir
  dir="$(cd "$TOOLS_DIR/kube-apiserver" && go mod download -json "istio.io/api@$ISTIO_API_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  ISTIO_CRDS="$dir/kubernetes/customresourcedefinitions.gen.yaml"
  [ -f "$ISTIO_CRDS" ] || die "istio CRDs not found at $ISTIO_CRDS"
  log "istio CRDs: istio.io/api@$ISTIO_API_VERSION"
}

# Run the install steps that take long side by side; fail loudly with each one's log.
run_bg() { # <name> <function>
  local name="$1" fn="$2"
  ( "$fn" ) >"$INSTALL_LOG_DIR/$name.log" 2>&1 &
  BG_PIDS+=("$!"); BG_NAMES+=("$name")
}

do_install() {
  mkdir -p "$BIN_DIR" "$INSTALL_LOG_DIR"
  phase install-apt install_apt
  command -v go >/dev/null || die "go (1.25 or newer) is required to build kube-apiserver and consul"
  resolve_artifacts
  BG_PIDS=(); BG_NAMES=()
  local t0; t0="$(now)"
  run_bg kube-apiserver build_kube_apiserver
  run_bg consul build_consul
  run_bg eureka-server build_eureka
  run_bg moto install_moto
  [ "${RB_ISTIOD:-1}" = 0 ] || run_bg istiod install_istiod
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
  fetch_istio_crds
}

# ============================================================================================
# process management: every process `up` starts gets a pid file; `down` kills only those pids
# ============================================================================================

PEERS=(redis etcd kube-apiserver consul consul-acl eureka eureka-cached moto)

port_of() {
  case "$1" in
    redis) echo "$RB_REDIS_PORT" ;; etcd) echo "$RB_ETCD_PORT" ;; kube-apiserver) echo "$RB_KUBE_PORT" ;;
    consul) echo "$RB_CONSUL_PORT" ;; consul-acl) echo "$RB_CONSUL_ACL_PORT" ;;
    eureka) echo "$RB_EUREKA_PORT" ;; eureka-cached) echo "$RB_EUREKA_CACHED_PORT" ;; moto) echo "$RB_MOTO_PORT" ;;
    *) extra_port_of "$1" ;;
  esac
}

# shellcheck source=peers/extras.sh
. "$PEERS_DIR/extras.sh"

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# start_peer <name> <cmd...>: runs in its own session, output to $LOG_DIR/<name>.log
start_peer() {
  local name="$1"; shift
  local logf="$LOG_DIR/$name.log"
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

# TERM the recorded processes together, wait up to 15 s, then KILL what is left; forget their pid files.
stop_peers() {
  local name pid i names=() pids=()
  for name in "$@"; do
    if pid="$(pid_alive "$name")"; then
      kill "$pid" 2>/dev/null || true
      names+=("$name"); pids+=("$pid")
    fi
  done
  for i in "${!pids[@]}"; do
    local n=0
    while kill -0 "${pids[$i]}" 2>/dev/null && [ "$n" -lt 150 ]; do sleep 0.1; n=$((n + 1)); done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      log "${names[$i]} (pid ${pids[$i]}) did not stop on TERM within 15s, sending KILL"
      kill -9 "${pids[$i]}" 2>/dev/null || true
    fi
    log "stopped ${names[$i]} (pid ${pids[$i]})"
  done
  for name in "$@"; do rm -f "$PID_DIR/$name.pid"; done
}

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

# ============================================================================================
# peers
# ============================================================================================

start_redis() {
  mkdir -p "$RUN_DIR/redis"
  start_peer redis redis-server --bind "$HOST" --port "$RB_REDIS_PORT" --save "" --appendonly no \
    --dir "$RUN_DIR/redis" --daemonize no --protected-mode yes --logfile ""
}
probe_redis() { [ "$(redis-cli -h "$HOST" -p "$RB_REDIS_PORT" ping)" = PONG ]; }

start_etcd() {
  rm -rf "$RUN_DIR/etcd"; mkdir -p "$RUN_DIR/etcd"; chmod 700 "$RUN_DIR/etcd"
  start_peer etcd etcd --name rb --data-dir "$RUN_DIR/etcd" \
    --listen-client-urls "http://$HOST:$RB_ETCD_PORT" --advertise-client-urls "http://$HOST:$RB_ETCD_PORT" \
    --listen-peer-urls "http://$HOST:$RB_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$HOST:$RB_ETCD_PEER_PORT" \
    --initial-cluster "rb=http://$HOST:$RB_ETCD_PEER_PORT" --initial-cluster-state new \
    --logger zap --log-level warn
}
probe_etcd() { curl -sf "http://$HOST:$RB_ETCD_PORT/health" | grep -q '"health":"true"'; }

KUBE_DIR="$RUN_DIR/kube"
gen_kube_pki() {
  rm -rf "$KUBE_DIR"; mkdir -p "$KUBE_DIR"; chmod 700 "$KUBE_DIR"
  (
    cd "$KUBE_DIR"
    pki_ca registry-bridge-peers-ca
    pki_cert apiserver kube-apiserver 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment'
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >"$LOG_DIR/kube-pki.log" 2>&1 || { tail -20 "$LOG_DIR/kube-pki.log" >&2; die "openssl failed"; }
  KUBE_ADMIN_TOKEN="$(openssl rand -hex 24)"
  KUBE_WRITER_TOKEN="$(openssl rand -hex 24)"
  # token,user,uid[,"groups"]: the writer gets no group beyond system:authenticated
  printf '%s,admin,admin,"system:masters"\n%s,registry-bridge-writer,registry-bridge-writer\n' \
    "$KUBE_ADMIN_TOKEN" "$KUBE_WRITER_TOKEN" > "$KUBE_DIR/tokens.csv"
  chmod 600 "$KUBE_DIR"/*.key "$KUBE_DIR/tokens.csv"
  write_kubeconfig "$KUBE_DIR/admin.kubeconfig" admin "$KUBE_ADMIN_TOKEN"
  write_kubeconfig "$KUBE_DIR/writer.kubeconfig" registry-bridge-writer "$KUBE_WRITER_TOKEN"
}

write_kubeconfig() { # <file> <user> <token>
  umask 077
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: registry-bridge-peers
  cluster:
    server: https://$HOST:$RB_KUBE_PORT
    certificate-authority-data: $(base64 -w0 < "$KUBE_DIR/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: $2@registry-bridge-peers
  context:
    cluster: registry-bridge-peers
    user: $2
    namespace: default
current-context: $2@registry-bridge-peers
EOF
}

start_kube_apiserver() {
  # The envtest way: no controller-manager, no scheduler, no kubelet.
  # ServiceAccount admission is off (no token controller); NamespaceLifecycle stays on.
  start_peer kube-apiserver "$KUBE_APISERVER_BIN" \
    --bind-address="$HOST" --advertise-address="$HOST" --secure-port="$RB_KUBE_PORT" \
    --cert-dir="$KUBE_DIR" --tls-cert-file="$KUBE_DIR/apiserver.crt" --tls-private-key-file="$KUBE_DIR/apiserver.key" \
    --client-ca-file="$KUBE_DIR/ca.crt" \
    --etcd-servers="http://$HOST:$RB_ETCD_PORT" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$KUBE_DIR/sa.pub" \
    --service-account-signing-key-file="$KUBE_DIR/sa.key" \
    --token-auth-file="$KUBE_DIR/tokens.csv" \
    --authorization-mode=RBAC \
    --disable-admission-plugins=ServiceAccount \
    --allow-privileged=true \
    --endpoint-reconciler-type=none \
    --v=1
}
probe_kube() { curl -sf --cacert "$KUBE_DIR/ca.crt" -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" "https://$HOST:$RB_KUBE_PORT/readyz" | grep -q ok; }

kubectl_admin() { kubectl --kubeconfig "$KUBE_DIR/admin.kubeconfig" "$@"; }

setup_kube() {
  local out="$LOG_DIR/kube-setup.log"
  {
    # RBAC bootstrap roles are created by the API server's own post-start hook; wait for them too.
    local i
    for i in $(seq 1 100); do kubectl_admin get clusterrole cluster-admin >/dev/null 2>&1 && break; sleep 0.3; done
    kubectl_admin apply --server-side --force-conflicts --field-manager=registry-bridge-peers -f "$ISTIO_CRDS"
    kubectl_admin wait --for condition=established --timeout=120s -f "$ISTIO_CRDS"
    for ns in istio-system registry-bridge; do
      kubectl_admin create namespace "$ns"
    done
    # discovery must list the new groups before clients use them
    for i in $(seq 1 100); do kubectl_admin api-resources --api-group=networking.istio.io 2>/dev/null | grep -q serviceentries && break; sleep 0.3; done
    kubectl_admin api-resources --api-group=networking.istio.io | grep -q serviceentries
  } >"$out" 2>&1 || { log "kube setup failed; last lines of $out and of the API server's log:"; tail -30 "$out" >&2; fail_peer kube-apiserver "setup failed"; }
  log "istio CRDs established: $(kubectl_admin get crd -o name | grep -c istio.io) CRDs; namespaces istio-system, registry-bridge created"
}

write_consul_config() { # <file> <node> <http> <grpc> <grpc_tls> <dns> <server> <serf_lan> <serf_wan> [acl token]
  local f="$1"
  cat > "$f" <<EOF
node_name = "$2"
bind_addr = "$HOST"
client_addr = "$HOST"
advertise_addr = "$HOST"
disable_update_check = true
log_level = "INFO"
ports {
  http     = $3
  grpc     = $4
  grpc_tls = $5
  dns      = $6
  server   = $7
  serf_lan = $8
  serf_wan = $9
}
EOF
  if [ -n "${10:-}" ]; then
    cat >> "$f" <<EOF
acl {
  enabled                  = true
  default_policy           = "deny"
  enable_token_persistence = false
  tokens {
    initial_management = "${10}"
    agent              = "${10}"
  }
}
EOF
  fi
}

start_consul() {
  mkdir -p "$RUN_DIR/consul"
  write_consul_config "$RUN_DIR/consul/dev.hcl" rb-consul "$RB_CONSUL_PORT" "$RB_CONSUL_GRPC_PORT" "$RB_CONSUL_GRPC_TLS_PORT" \
    "$RB_CONSUL_DNS_PORT" "$RB_CONSUL_SERVER_PORT" "$RB_CONSUL_SERF_LAN_PORT" "$RB_CONSUL_SERF_WAN_PORT"
  start_peer consul "$CONSUL_BIN" agent -dev -config-file="$RUN_DIR/consul/dev.hcl"
}
start_consul_acl() {
  mkdir -p "$RUN_DIR/consul"
  CONSUL_ACL_TOKEN="$(cat /proc/sys/kernel/random/uuid)"
  write_consul_config "$RUN_DIR/consul/acl.hcl" rb-consul-acl "$RB_CONSUL_ACL_PORT" "$RB_CONSUL_ACL_GRPC_PORT" "$RB_CONSUL_ACL_GRPC_TLS_PORT" \
    "$RB_CONSUL_ACL_DNS_PORT" "$RB_CONSUL_ACL_SERVER_PORT" "$RB_CONSUL_ACL_SERF_LAN_PORT" "$RB_CONSUL_ACL_SERF_WAN_PORT" "$CONSUL_ACL_TOKEN"
  chmod 600 "$RUN_DIR/consul/acl.hcl"
  start_peer consul-acl "$CONSUL_BIN" agent -dev -config-file="$RUN_DIR/consul/acl.hcl"
}
# leader elected and the catalog answers (the node has registered itself)
probe_consul() { curl -sf "http://$HOST:$RB_CONSUL_PORT/v1/catalog/nodes" | grep -q rb-consul; }
probe_consul_acl() {
  curl -sf -H "X-Consul-Token: $CONSUL_ACL_TOKEN" "http://$HOST:$RB_CONSUL_ACL_PORT/v1/acl/token/self" | grep -q AccessorID &&
    curl -sf -H "X-Consul-Token: $CONSUL_ACL_TOKEN" "http://$HOST:$RB_CONSUL_ACL_PORT/v1/catalog/nodes" | grep -q rb-consul-acl
}

JAVA_OPTS_PEER=(-Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto)
# fast: response cache off (reads see writes at once), self-preservation off, eviction every RB_EUREKA_EVICTION_MS
EUREKA_FAST_OPTS=(--eureka.server.use-read-only-response-cache=false --eureka.server.enable-self-preservation=false
  --eureka.server.eviction-interval-timer-in-ms="$RB_EUREKA_EVICTION_MS")
start_eureka() {
  start_peer eureka java "${JAVA_OPTS_PEER[@]}" -jar "$EUREKA_JAR" --server.port="$RB_EUREKA_PORT" "${EUREKA_FAST_OPTS[@]}"
}
start_eureka_cached() {
  # as shipped: read-only response cache on (30 s refresh), self-preservation on, eviction every 60 s
  start_peer eureka-cached java "${JAVA_OPTS_PEER[@]}" -jar "$EUREKA_JAR" \
    --server.port="$RB_EUREKA_CACHED_PORT"
}
probe_eureka() { curl -sf -H 'Accept: application/json' "http://$HOST:$RB_EUREKA_PORT/eureka/apps" | grep -q applications; }
probe_eureka_cached() { curl -sf -H 'Accept: application/json' "http://$HOST:$RB_EUREKA_CACHED_PORT/eureka/apps" | grep -q applications; }

start_moto() {
  start_peer moto "$MOTO_VENV/bin/python" "$MOTO_VENV/bin/moto_server" -H "$HOST" -p "$RB_MOTO_PORT"
}
probe_moto() {
  curl -sf -X POST "http://$HOST:$RB_MOTO_PORT/" -H 'Content-Type: application/x-amz-json-1.1' \
    -H 'X-Amz-Target: Route53AutoNaming_v20170314.ListNamespaces' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/servicediscovery/aws4_request, SignedHeaders=host, Signature=x' \
    -d '{}' | grep -q Namespaces
}

write_env() {
  local tmp="$ENV_FILE.tmp"
  umask 077
  cat > "$tmp" <<EOF
# written by scripts/peers.sh up at $(date -u +%Y-%m-%dT%H:%M:%SZ); sourceable; see docs/local-peers.md
RB_REDIS_URL=redis://$HOST:$RB_REDIS_PORT
RB_ETCD_URL=http://$HOST:$RB_ETCD_PORT
RB_KUBE_SERVER=https://$HOST:$RB_KUBE_PORT
RB_KUBECONFIG_ADMIN=$KUBE_DIR/admin.kubeconfig
RB_KUBECONFIG_WRITER=$KUBE_DIR/writer.kubeconfig
RB_KUBE_CA_FILE=$KUBE_DIR/ca.crt
RB_KUBE_ADMIN_TOKEN=$KUBE_ADMIN_TOKEN
RB_KUBE_WRITER_USER=registry-bridge-writer
RB_KUBE_WRITER_TOKEN=$KUBE_WRITER_TOKEN
RB_CONSUL_ADDR=http://$HOST:$RB_CONSUL_PORT
RB_CONSUL_ACL_ADDR=http://$HOST:$RB_CONSUL_ACL_PORT
RB_CONSUL_ACL_TOKEN=$CONSUL_ACL_TOKEN
RB_EUREKA_URL=http://$HOST:$RB_EUREKA_PORT/eureka
RB_EUREKA_CACHED_URL=http://$HOST:$RB_EUREKA_CACHED_PORT/eureka
RB_EUREKA_EVICTION_MS=$RB_EUREKA_EVICTION_MS
RB_CLOUDMAP_ENDPOINT=http://$HOST:$RB_MOTO_PORT
RB_AWS_REGION=us-east-1
RB_AWS_ACCESS_KEY_ID=testing
RB_AWS_SECRET_ACCESS_KEY=testing
RB_PEERS_RUN_DIR=$RUN_DIR
EOF
  mv "$tmp" "$ENV_FILE"
}

# ============================================================================================
# commands
# ============================================================================================

cmd_down() {
  local name any=0
  bash "$PEERS_DIR/istiod.sh" down >&2 || true
  for name in "${PEERS[@]}"; do [ -f "$PID_DIR/$name.pid" ] && any=1; done
  if [ "$any" -eq 0 ]; then log "nothing to stop"; else
    # the API server first, while etcd still answers (it drains against etcd); then the rest together
    stop_peers kube-apiserver
    stop_peers redis etcd consul consul-acl eureka eureka-cached moto
  fi
  # shellcheck disable=SC2046
  stop_peers $(all_extra_peers)
  rm -f "$ENV_FILE"
}

start_all() {
  local name port
  for name in "${PEERS[@]}"; do
    port="$(port_of "$name")"
    port_in_use "$port" && die "port $HOST:$port for $name is already in use by another process (override with the RB_*_PORT variables)"
  done
  start_redis; start_etcd; start_consul; start_consul_acl; start_eureka; start_eureka_cached; start_moto
  gen_kube_pki
  wait_for etcd probe_etcd
  start_kube_apiserver
}

wait_all() {
  wait_for redis probe_redis
  wait_for consul probe_consul
  wait_for consul-acl probe_consul_acl
  wait_for moto probe_moto
  wait_for kube-apiserver probe_kube
  wait_for eureka probe_eureka
  wait_for eureka-cached probe_eureka_cached
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
  phase kube-setup setup_kube
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
  local name pid rc=0
  for name in "${PEERS[@]}"; do
    if pid="$(pid_alive "$name")"; then
      printf '%-15s up    pid %-8s %s:%s\n' "$name" "$pid" "$HOST" "$(sed -n 3p "$PID_DIR/$name.pid")"
    else
      printf '%-15s down\n' "$name"; rc=3
    fi
  done
  # opt-in peers are listed only when started
  for name in $(all_extra_peers); do
    [ -f "$PID_DIR/$name.pid" ] || continue
    if pid="$(pid_alive "$name")"; then printf '%-22s up    pid %-8s %s:%s\n' "$name" "$pid" "$HOST" "$(sed -n 3p "$PID_DIR/$name.pid")"
    else printf '%-22s down\n' "$name"; rc=3; fi
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
