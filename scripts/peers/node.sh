#!/usr/bin/env bash
# The single-node Kubernetes of issue 18 (opt-in; not started by scripts/peers.sh up).
#
#   bash scripts/peers/node.sh build    build kubelet, kube-controller-manager and kube-scheduler
#                                       (cached); prints their paths
#   bash scripts/peers/node.sh up       start the node (needs scripts/peers.sh up for etcd, the API
#                                       server binary and the registries, and scripts/peers/registry.sh up)
#   bash scripts/peers/node.sh down     stop the pods' containers and what `up` started (by pid)
#   bash scripts/peers/node.sh env      RB_NODE_KUBECONFIG=<the node's admin kubeconfig>
#   bash scripts/peers/node.sh istiod-env   the env file of the node's istiod (xDS address, xds-probe)
#
# The binaries come from k8s.io/kubernetes at the version of tools/kube-apiserver (v1.35.4),
# through the module tools/kube-node, and are cached like the API server under
# ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/bin/<name>-<version>-<hash>, the hash covering
# go.mod, go.sum and the link flags.
#
# The node: its own kube-apiserver (the peers' binary, on the peers' etcd under its own prefix, with
# ServiceAccount admission and the Node authorizer on, which the peers' API server has off) on
# 127.0.0.1:16444, kube-controller-manager and kube-scheduler, Debian's containerd (CRI) and runc,
# CNI bridge + host-local (pods get 10.244.0.0/24 on the bridge rbnode0), and the kubelet with
# failCgroupV1: false (this host is cgroup v1). The peers listen on 127.0.0.1 only: pods reach them
# at the bridge address 10.244.0.1 through DNAT (route_localnet on the bridge), and the API server at
# 10.96.0.1:443 (no kube-proxy). The pod sandbox is tools/pause, pushed to the local registry.
# State under ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/run/node. See docs/deploy.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=apt-need.sh
. "$SCRIPT_DIR/apt-need.sh"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
MODULE_DIR="$REPO_ROOT/tools/kube-node"
CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"
BIN_DIR="$CACHE_DIR/bin"
COMPONENTS=(kubelet kube-controller-manager kube-scheduler)

log() { printf '[node] %s\n' "$*" >&2; }
die() { printf '[node] ERROR: %s\n' "$*" >&2; exit 1; }

# The version a go.mod requires, in a require block or on a require line.
kube_version() { # [module dir]
  awk '$1 == "k8s.io/kubernetes" { print $2; exit } $1 == "require" && $2 == "k8s.io/kubernetes" { print $3; exit }' "${1:-$MODULE_DIR}/go.mod"
}

# The version stamps `kubelet --version` and the API server's node status report, as in
# Kubernetes' own build (hack/lib/version.sh); the same flags as the peers' kube-apiserver.
ldflags() { # <version>
  local minor="${1#v1.}" pkg
  minor="${minor%%.*}"
  printf -- '-s -w'
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- ' -X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean' "$pkg" "$1" "$pkg" "$pkg" "$minor" "$pkg"
  done
}

build() {
  local version flags hash name out
  version="$(kube_version)"
  [ -n "$version" ] || die "tools/kube-node/go.mod does not require k8s.io/kubernetes"
  [ "$version" = "$(kube_version "$REPO_ROOT/tools/kube-apiserver")" ] \
    || die "tools/kube-node pins k8s.io/kubernetes $version, tools/kube-apiserver another version: keep them equal"
  flags="$(ldflags "$version")"
  hash="$(cat "$MODULE_DIR/go.mod" "$MODULE_DIR/go.sum" <(echo "$flags") | sha256sum | cut -c1-12)"
  mkdir -p "$BIN_DIR"
  for name in "${COMPONENTS[@]}"; do
    out="$BIN_DIR/$name-$version-$hash"
    if [ ! -x "$out" ]; then
      command -v go >/dev/null || die "go is required to build $name (tools/kube-node)"
      log "$name $version: building (cold: several minutes)"
      local t0=$SECONDS
      ( cd "$MODULE_DIR" && go build -trimpath -ldflags="$flags" -o "$out.tmp.$$" "k8s.io/kubernetes/cmd/$name" ) || { rm -f "$out.tmp.$$"; die "$name build failed"; }
      mv "$out.tmp.$$" "$out"
      log "$name: built in $((SECONDS - t0)) s"
    fi
    echo "$out"
  done
}


# ---- the node: its own API server (on the peers' etcd, its own prefix), controllers, containerd, kubelet
HOST=127.0.0.1
RUN_DIR="$CACHE_DIR/run/node"
PID_DIR="$RUN_DIR/pids"
LOG_DIR="$RUN_DIR/logs"
PKI="$RUN_DIR/pki"
: "${RB_NODE_API_PORT:=16444}"
: "${RB_NODE_ETCD:=http://127.0.0.1:12379}"
: "${RB_OCI_REGISTRY:=127.0.0.1:15500}"
POD_CIDR=10.244.0.0/24
BRIDGE=rbnode0
BRIDGE_IP=10.244.0.1
SERVICE_CIDR=10.96.0.0/24
PAUSE_IMAGE="$RB_OCI_REGISTRY/registry-bridge/pause:1"

start_bg() { # <name> <cmd...>: one process, its pid recorded, output in its log
  local name="$1"; shift
  mkdir -p "$PID_DIR" "$LOG_DIR"
  setsid "$@" >"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$PID_DIR/$name.pid"
}

wait_until() { # <what> <seconds> <cmd...>
  local what="$1" secs="$2"; shift 2
  for _ in $(seq 1 $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  die "$what did not come up within ${secs}s (logs: $LOG_DIR)"
}

pki() {
  [ -f "$PKI/admin.kubeconfig" ] && return
  rm -rf "$PKI"; mkdir -p "$PKI"; chmod 700 "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=registry-bridge-node-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
    printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,IP:%s,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' "$BRIDGE_IP" > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 30 -extfile apiserver.ext
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    printf '%s,admin,admin,"system:masters"\n' "$(openssl rand -hex 24)" > tokens.csv
    chmod 600 ./*.key tokens.csv
  ) >"$LOG_DIR/pki.log" 2>&1 || die "openssl failed (log: $LOG_DIR/pki.log)"
  cat > "$PKI/admin.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: node
  cluster: { server: "https://$HOST:$RB_NODE_API_PORT", certificate-authority: "$PKI/ca.crt" }
users:
- name: admin
  user: { token: "$(cut -d, -f1 "$PKI/tokens.csv")" }
contexts:
- name: node
  context: { cluster: node, user: admin }
current-context: node
KC
  chmod 600 "$PKI/admin.kubeconfig"
}

pause_image() {
  skopeo inspect --tls-verify=false "docker://$PAUSE_IMAGE" >/dev/null 2>&1 && return
  local bin ctr
  bin="$RUN_DIR/pause"
  ( cd "$REPO_ROOT/tools/pause" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin" . ) || die "pause build failed"
  ctr="$(buildah from scratch)"
  buildah copy --quiet "$ctr" "$bin" /pause >/dev/null
  buildah config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  buildah commit --quiet --rm "$ctr" localhost/registry-bridge/pause:1 >/dev/null
  skopeo copy --quiet --dest-tls-verify=false containers-storage:localhost/registry-bridge/pause:1 "docker://$PAUSE_IMAGE"
}

containerd_config() {
  mkdir -p "$RUN_DIR/cni" "$RUN_DIR/containerd"
  cat > "$RUN_DIR/cni/10-rb-node.conflist" <<JSON
{ "cniVersion": "1.0.0", "name": "rb-node", "plugins": [
  { "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
    "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$BRIDGE_IP" }]], "routes": [{ "dst": "0.0.0.0/0" }],
              "dataDir": "$RUN_DIR/cni-ipam" } },
  { "type": "portmap", "capabilities": { "portMappings": true } } ] }
JSON
  cat > "$RUN_DIR/containerd/config.toml" <<TOML
version = 2
root = "$RUN_DIR/containerd/root"
state = "/run/rb-node-containerd"
[grpc]
  address = "/run/rb-node-containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The kubelet asks for oom_score_adj -998 for sandboxes; this machine refuses lowering it
  # ("failed to update /proc/self/oom_score_adj: Permission denied"): keep containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN_DIR/cni"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$RB_OCI_REGISTRY"]
    endpoint = ["http://$RB_OCI_REGISTRY"]
TOML
}

kubelet_config() {
  cat > "$RUN_DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# Kubernetes 1.35's kubelet refuses cgroup v1 hosts unless told otherwise; this machine is one.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix:///run/rb-node-containerd/containerd.sock
address: $HOST
port: 20250
readOnlyPort: 0
healthzBindAddress: $HOST
healthzPort: 20248
authentication: { anonymous: { enabled: false }, webhook: { enabled: false } }
authorization: { mode: AlwaysAllow }
failSwapOn: false
resolvConf: /etc/resolv.conf
staticPodPath: ""
enforceNodeAllocatable: []
evictionHard: { memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
YAML
}

# Pods reach the loopback peers and this API server through the bridge address: DNAT from the pod
# subnet only, with route_localnet on the bridge (a pod's own 127.0.0.1 is its own namespace).
nat_rules() { # -A | -D
  local op="$1" port
  for port in 16379 18500 18501 18761 18762 15000 "$RB_NODE_API_PORT"; do
    iptables -t nat "$op" PREROUTING -s "$POD_CIDR" -d "$BRIDGE_IP" -p tcp --dport "$port" -j DNAT --to-destination "$HOST:$port" 2>/dev/null || true
  done
  iptables -t nat "$op" PREROUTING -s "$POD_CIDR" -d 10.96.0.1 -p tcp --dport 443 -j DNAT --to-destination "$HOST:$RB_NODE_API_PORT" 2>/dev/null || true
  # From 127.0.0.1 as the peers see it: Redis' protected mode refuses other sources. Locally
  # delivered packets skip POSTROUTING, hence SNAT in nat INPUT.
  iptables -t nat "$op" INPUT -s "$POD_CIDR" -d "$HOST" -j SNAT --to-source "$HOST" 2>/dev/null || true
}

node_ready() { kubectl --kubeconfig "$PKI/admin.kubeconfig" get node rb-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True; }

alive() { [ -f "$PID_DIR/$1.pid" ] && [ -d "/proc/$(cat "$PID_DIR/$1.pid")" ]; }

# The node's state lives in the peers' etcd. `scripts/peers.sh up` after a `down` starts a fresh
# etcd under a still running API server: the kubelet registers the node again and it turns Ready,
# but the CRDs, the bootstrap RBAC and every object are gone. A marker written by `up` (its id also
# kept in RUN_DIR) tells a live node from such a stale one.
STATE_ID_FILE="$RUN_DIR/state-id"
state_current() {
  [ -s "$STATE_ID_FILE" ] || return 1
  local id
  id="$(kubectl --kubeconfig "$PKI/admin.kubeconfig" -n kube-system get configmap rb-node-state -o jsonpath='{.data.id}' 2>/dev/null)" || return 1
  [ "$id" = "$(cat "$STATE_ID_FILE")" ]
}

# A clean start: the node's keys in etcd (its own prefix, nobody else's) are removed, through etcd's
# JSON gateway (no etcdctl needed), so objects of a run that broke do not come back as pods.
wipe_state() {
  local key end
  key="$(printf '/registry-bridge-node/' | base64 -w0)"
  end="$(printf '/registry-bridge-node0' | base64 -w0)"  # '0' follows '/': the end of the prefix range
  curl -sf -X POST "$RB_NODE_ETCD/v3/kv/deleterange" -d "{\"key\":\"$key\",\"range_end\":\"$end\"}" >/dev/null \
    || die "could not clear the node's state in etcd at $RB_NODE_ETCD (is scripts/peers.sh up?)"
  rm -f "$STATE_ID_FILE"
  # containerd's images too: an image rebuilt under the same tag would otherwise run stale
  # (IfNotPresent finds the old one); pulls from the local registry take seconds.
  rm -rf "$RUN_DIR/containerd/root"
}

up() {
  local bins apiserver
  apt_need containerd:containerd runc:runc iptables:iptables /usr/lib/cni/bridge:containernetworking-plugins \
    || die "containerd, runc, iptables and the CNI plugins are required (apt-get install containerd runc iptables containernetworking-plugins)"
  if alive kubelet && alive apiserver && node_ready && state_current; then
    log "already up: KUBECONFIG=$PKI/admin.kubeconfig"
    return
  fi
  # Whatever is left of an earlier run (processes, pods, their state in etcd) is stopped and
  # cleared first: the node always starts empty.
  if alive apiserver || [ -s "$STATE_ID_FILE" ]; then log "stale or partial node (API server, kubelet or state gone): starting it afresh"; fi
  down
  wipe_state
  mapfile -t bins < <(build)
  apiserver="$(ls "$BIN_DIR"/kube-apiserver-"$(kube_version)"-* 2>/dev/null | head -1)"
  [ -x "$apiserver" ] || die "kube-apiserver is not built: bash scripts/peers.sh up (it builds it)"
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  pki
  start_bg apiserver "$apiserver" --bind-address="$HOST" --advertise-address="$HOST" --secure-port="$RB_NODE_API_PORT" \
    --cert-dir="$PKI" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --etcd-servers="$RB_NODE_ETCD" --etcd-prefix=/registry-bridge-node \
    --service-cluster-ip-range="$SERVICE_CIDR" --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --token-auth-file="$PKI/tokens.csv" --authorization-mode=Node,RBAC --allow-privileged=true --v=1
  wait_until "the node's API server" 60 kubectl --kubeconfig "$PKI/admin.kubeconfig" get --raw /readyz
  # Istio's CRDs, the same published definitions the peers' API server gets.
  local istio_api crds
  istio_api="$(sed -n 's/^ISTIO_API_VERSION=\([^ ]*\).*/\1/p' "$SCRIPT_DIR/kube.sh")"
  [ -n "$istio_api" ] || die "no ISTIO_API_VERSION in scripts/peers/kube.sh (the peers' pin of Istio's CRDs)"
  crds="$(cd "$REPO_ROOT/tools/kube-apiserver" && go mod download -json "istio.io/api@$istio_api" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/kubernetes/customresourcedefinitions.gen.yaml"
  kubectl --kubeconfig "$PKI/admin.kubeconfig" apply --server-side -f "$crds" >/dev/null || die "could not apply Istio's CRDs ($crds)"
  local state_id
  state_id="$(openssl rand -hex 8)"
  wait_until "the kube-system namespace" 30 kubectl --kubeconfig "$PKI/admin.kubeconfig" get namespace kube-system
  kubectl --kubeconfig "$PKI/admin.kubeconfig" -n kube-system create configmap rb-node-state --from-literal=id="$state_id" >/dev/null \
    || die "could not write the node's state marker"
  echo "$state_id" > "$STATE_ID_FILE"
  start_bg controller-manager "${bins[1]}" --kubeconfig="$PKI/admin.kubeconfig" --bind-address="$HOST" --secure-port=20257 \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" --use-service-account-credentials=false \
    --leader-elect=false --controllers='*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller' --v=1
  start_bg scheduler "${bins[2]}" --kubeconfig="$PKI/admin.kubeconfig" --bind-address="$HOST" --secure-port=20259 --leader-elect=false --v=1
  pause_image
  containerd_config
  # The bridge made here, not by the CNI plugin at the first pod: route_localnet must be on
  # before any pod dials a DNATed peer, and the sysctl exists only with the interface (the CNI
  # bridge plugin adopts an existing bridge and its gateway address).
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge || die "could not create the bridge $BRIDGE"
  ip addr replace "$BRIDGE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  sysctl -qw "net.ipv4.conf.$BRIDGE.route_localnet=1" || die "could not set route_localnet on $BRIDGE"
  start_bg containerd containerd --config "$RUN_DIR/containerd/config.toml"
  wait_until containerd 30 test -S /run/rb-node-containerd/containerd.sock
  kubelet_config
  start_bg kubelet "${bins[0]}" --config="$RUN_DIR/kubelet.yaml" --kubeconfig="$PKI/admin.kubeconfig" \
    --hostname-override=rb-node --node-ip="$HOST" --root-dir="$RUN_DIR/kubelet" --v=1
  wait_until "the node" 120 node_ready
  nat_rules -A
  istiod up
  log "node Ready: KUBECONFIG=$PKI/admin.kubeconfig; istiod: bash $0 istiod-env"
}

# istiod for this node: the peers' pilot-discovery and its script (scripts/peers/istiod.sh) as a
# second instance, watching this node's API server, on its own ports, without the echo servers'
# network namespace (the peers' istiod owns that one).
ISTIOD_ENV_FILE="$RUN_DIR/istiod.env"
istiod() { # up | down
  if [ "$1" = up ]; then
    kubectl --kubeconfig "$PKI/admin.kubeconfig" create namespace istio-system >/dev/null 2>&1 || true
  fi
  RB_PEER_DIR="$RUN_DIR/istiod" RB_ISTIOD_KUBECONFIG="$PKI/admin.kubeconfig" RB_ISTIOD_ENV_FILE="$ISTIOD_ENV_FILE" RB_ISTIOD_ECHO_NETNS=0 \
    RB_ISTIOD_XDS_PORT="${RB_NODE_ISTIOD_XDS_PORT:-26010}" RB_ISTIOD_XDS_TLS_PORT="${RB_NODE_ISTIOD_XDS_TLS_PORT:-26012}" \
    RB_ISTIOD_HTTP_PORT="${RB_NODE_ISTIOD_HTTP_PORT:-28081}" RB_ISTIOD_MONITORING_PORT="${RB_NODE_ISTIOD_MONITORING_PORT:-26014}" \
    RB_ISTIOD_HTTPS_PORT="${RB_NODE_ISTIOD_HTTPS_PORT:-26017}" \
    bash "$SCRIPT_DIR/istiod.sh" "$1" || { [ "$1" = down ] || die "istiod for the node did not start (log: $RUN_DIR/istiod/logs/istiod.log)"; }
}

# The pods' containers outlive containerd (their shims are separate processes): stop them first.
stop_containers() {
  local sock=/run/rb-node-containerd/containerd.sock id
  [ -S "$sock" ] || return 0
  for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  sleep 1
  for id in $(ctr -a "$sock" -n k8s.io containers ls -q 2>/dev/null); do
    ctr -a "$sock" -n k8s.io tasks delete "$id" >/dev/null 2>&1 || true
    ctr -a "$sock" -n k8s.io containers delete "$id" >/dev/null 2>&1 || true
  done
}

down() {
  local name pid
  istiod down >/dev/null 2>&1 || true
  if [ -f "$PID_DIR/kubelet.pid" ]; then kill "$(cat "$PID_DIR/kubelet.pid")" 2>/dev/null || true; rm -f "$PID_DIR/kubelet.pid"; fi
  stop_containers
  for name in scheduler controller-manager containerd apiserver; do
    [ -f "$PID_DIR/$name.pid" ] || continue
    pid="$(cat "$PID_DIR/$name.pid")"
    kill "$pid" 2>/dev/null || true
    rm -f "$PID_DIR/$name.pid"
  done
  nat_rules -D
  # What the killed kubelet and containerd could not tear down: the pods' volume mounts (secrets
  # are tmpfs), their network namespaces (only empty cni-* ones: containerd's CRI names them so),
  # the addresses host-local handed out, the bridge.
  local m ns
  for m in $(awk -v k="$RUN_DIR/kubelet/" -v c="$RUN_DIR/containerd/" 'index($2, k) == 1 || index($2, c) == 1 { print $2 }' /proc/mounts | sort -r); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$RUN_DIR/kubelet/pods" "$RUN_DIR/cni-ipam"
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ { print $1 }'); do
    [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && ip netns del "$ns" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  env) echo "RB_NODE_KUBECONFIG=$PKI/admin.kubeconfig" ;;
  istiod-env) cat "$ISTIOD_ENV_FILE" ;;
  *) echo "usage: $0 build|up|down|env|istiod-env" >&2; exit 2 ;;
esac
