#!/usr/bin/env bash
# A Kubernetes API server on loopback, the envtest way (etcd + kube-apiserver built from
# tools/kube-apiserver, no controller-manager, no scheduler, no kubelet), with Istio's CRDs and the
# namespaces istio-system and registry-bridge: the peers' one (scripts/peers.sh), or a private one
# (RB_PEER_DIR, see scripts/peers/lib.sh). Every start has a fresh etcd, PKI and tokens.
#
#   bash scripts/peers/kube.sh up|down|status|env|install|kill [SIGNAL]|freeze|thaw|wipe|pid
#   bash scripts/peers/kube.sh setup   after `start` and `wait`: Istio's CRDs and the namespaces (`up` does it)
#
#   RB_ETCD_PORT, RB_ETCD_PEER_PORT, RB_KUBE_PORT   ports (default 12379, 12380, 16443)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${RB_ETCD_PORT:=12379}"
: "${RB_ETCD_PEER_PORT:=12380}"
: "${RB_KUBE_PORT:=16443}"
PEER_INSTANCES=(etcd kube-apiserver)
KUBE_DIR="$RUN_DIR/kube"
PEER_DATA=("$RUN_DIR/etcd" "$KUBE_DIR")

# ---- pinned versions (bump here and in tools/) ----------------------------------------------
KUBE_VERSION=v1.35.4                  # tools/kube-apiserver/go.mod
ISTIO_API_VERSION=v1.31.4             # Istio's CRDs: istio.io/api kubernetes/customresourcedefinitions.gen.yaml

kube_ldflags() {
  local minor pkg
  minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  printf -- '-s -w'
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- ' -X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean' \
      "$pkg" "$KUBE_VERSION" "$pkg" "$pkg" "$minor" "$pkg"
  done
}
# The cached binary's name carries the version and a hash of go.mod, go.sum and the link flags:
# it is rebuilt when any of them changes, and reused otherwise.
KUBE_APISERVER_BIN="$BIN_DIR/kube-apiserver-$KUBE_VERSION-$(short_hash "$TOOLS_DIR/kube-apiserver/go.mod" "$TOOLS_DIR/kube-apiserver/go.sum" <(kube_ldflags))"

port_of() {
  case "$1" in etcd) echo "$RB_ETCD_PORT" ;; kube-apiserver) echo "$RB_KUBE_PORT" ;; esac
}
# the machine image may ship its own kubectl (package "kubectl"); Debian's is kubernetes-client
peer_apt() { apt_need etcd:etcd-server kubectl:kubernetes-client openssl:openssl curl:curl; }

peer_build() {
  if [ -x "$KUBE_APISERVER_BIN" ]; then log "kube-apiserver $KUBE_VERSION: cached"; else
    need_go kube-apiserver
    log "kube-apiserver $KUBE_VERSION: building (cold: several minutes)"
    go_build "$TOOLS_DIR/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$KUBE_APISERVER_BIN" "$(kube_ldflags)"
  fi
  istio_crds >/dev/null
}

istio_crds() { # prints the path of Istio's CRDs (the module cache downloads them once)
  local dir crds
  dir="$(cd "$TOOLS_DIR/kube-apiserver" && go mod download -json "istio.io/api@$ISTIO_API_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  crds="$dir/kubernetes/customresourcedefinitions.gen.yaml"
  [ -f "$crds" ] || die "istio CRDs not found at $crds"
  echo "$crds"
}

start_etcd() {
  rm -rf "$RUN_DIR/etcd"; mkdir -p "$RUN_DIR/etcd"; chmod 700 "$RUN_DIR/etcd"
  start_peer etcd etcd --name rb --data-dir "$RUN_DIR/etcd" \
    --listen-client-urls "http://$HOST:$RB_ETCD_PORT" --advertise-client-urls "http://$HOST:$RB_ETCD_PORT" \
    --listen-peer-urls "http://$HOST:$RB_ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$HOST:$RB_ETCD_PEER_PORT" \
    --initial-cluster "rb=http://$HOST:$RB_ETCD_PEER_PORT" --initial-cluster-state new \
    --logger zap --log-level warn
}
probe_etcd() { curl -sf "http://$HOST:$RB_ETCD_PORT/health" | grep -q '"health":"true"'; }

# the tokens live only in tokens.csv and the kubeconfigs (mode 600), never on a command line
token_of() { awk -F, -v u="$1" '$2 == u { print $1 }' "$KUBE_DIR/tokens.csv"; }

gen_kube_pki() {
  rm -rf "$KUBE_DIR"; mkdir -p "$KUBE_DIR" "$LOG_DIR"; chmod 700 "$KUBE_DIR"
  (
    cd "$KUBE_DIR"
    pki_ca registry-bridge-peers-ca
    pki_cert apiserver kube-apiserver 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment'
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
  ) >"$LOG_DIR/kube-pki.log" 2>&1 || { tail -20 "$LOG_DIR/kube-pki.log" >&2; die "openssl failed"; }
  # token,user,uid[,"groups"]: the writer gets no group beyond system:authenticated
  printf '%s,admin,admin,"system:masters"\n%s,registry-bridge-writer,registry-bridge-writer\n' \
    "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" > "$KUBE_DIR/tokens.csv"
  chmod 600 "$KUBE_DIR"/*.key "$KUBE_DIR/tokens.csv"
  write_kubeconfig "$KUBE_DIR/admin.kubeconfig" admin "$(token_of admin)"
  write_kubeconfig "$KUBE_DIR/writer.kubeconfig" registry-bridge-writer "$(token_of registry-bridge-writer)"
}

write_kubeconfig() { # <file> <user> <token>
  umask 077
  cat > "$1" <<YAML
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
YAML
}

start_kube_apiserver() {
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
probe_kube() { curl -sf --cacert "$KUBE_DIR/ca.crt" -H "Authorization: Bearer $(token_of admin)" "https://$HOST:$RB_KUBE_PORT/readyz" | grep -q ok; }

# the API server needs etcd answering before it starts
peer_start() {
  start_etcd
  gen_kube_pki
  wait_for etcd probe_etcd
  start_kube_apiserver
}
peer_wait() { wait_for kube-apiserver probe_kube; }

kubectl_admin() { kubectl --kubeconfig "$KUBE_DIR/admin.kubeconfig" "$@"; }

peer_setup() {
  local out="$LOG_DIR/kube-setup.log" crds
  crds="$(istio_crds)"
  {
    # RBAC bootstrap roles are created by the API server's own post-start hook; wait for them too.
    local i
    for i in $(seq 1 100); do kubectl_admin get clusterrole cluster-admin >/dev/null 2>&1 && break; sleep 0.3; done
    kubectl_admin apply --server-side --force-conflicts --field-manager=registry-bridge-peers -f "$crds"
    kubectl_admin wait --for condition=established --timeout=120s -f "$crds"
    for ns in istio-system registry-bridge; do
      kubectl_admin create namespace "$ns"
    done
    # discovery must list the new groups before clients use them
    for i in $(seq 1 100); do kubectl_admin api-resources --api-group=networking.istio.io 2>/dev/null | grep -q serviceentries && break; sleep 0.3; done
    kubectl_admin api-resources --api-group=networking.istio.io | grep -q serviceentries
  } >"$out" 2>&1 || { log "kube setup failed; last lines of $out and of the API server's log:"; tail -30 "$out" >&2; fail_peer kube-apiserver "setup failed"; }
  log "istio CRDs established: $(kubectl_admin get crd -o name | grep -c istio.io) CRDs; namespaces istio-system, registry-bridge created"
}

peer_env() {
  cat <<ENV
RB_ETCD_URL=http://$HOST:$RB_ETCD_PORT
RB_KUBE_SERVER=https://$HOST:$RB_KUBE_PORT
RB_KUBECONFIG_ADMIN=$KUBE_DIR/admin.kubeconfig
RB_KUBECONFIG_WRITER=$KUBE_DIR/writer.kubeconfig
RB_KUBE_CA_FILE=$KUBE_DIR/ca.crt
RB_KUBE_ADMIN_TOKEN=$(token_of admin)
RB_KUBE_WRITER_USER=registry-bridge-writer
RB_KUBE_WRITER_TOKEN=$(token_of registry-bridge-writer)
ENV
}

# `down` stops the API server first, while etcd still answers (it drains against etcd)
if [ "${1:-}" = down ]; then stop_peers kube-apiserver; fi
peer_main "$@"
