#!/usr/bin/env bash
# The main job, locally (README's first command): the real peers, an example seeded into Consul,
# Eureka and Cloud Map, the four apps, and a live table of the Istio resources they write.
#   bash scripts/local-run.sh          live view; Ctrl-C stops everything it started
#   bash scripts/local-run.sh --once   sync, print the resources as YAML, stop, exit 0
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ONCE=0
[ "${1:-}" = "--once" ] && ONCE=1
CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"
RUN="$CACHE_DIR/local-run"
NS="${RB_DEMO_NAMESPACE:-registry-bridge-demo}"
mkdir -p "$RUN"
PIDS=()
PEERS_STARTED=0

log() { printf '\033[1m[local-run]\033[0m %s\n' "$*" >&2; }

cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
  if [ "$PEERS_STARTED" = 1 ] && [ "${RB_KEEP_PEERS:-0}" != 1 ]; then bash scripts/peers.sh down >&2 || true; fi
  log "stopped everything it started"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Node 24 LTS for npm and the apps (scripts/node.sh installs it when the machine's Node is older).
PATH="$(bash scripts/node.sh bin):$PATH"
export PATH
log "node $(node --version) ($(command -v node))"

log "npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm install --no-audit --no-fund; fi

log "real peers (first run builds kube-apiserver, consul and the Eureka server: see docs/local-peers.md)"
bash scripts/peers.sh up >&2
PEERS_STARTED=1
# shellcheck disable=SC1091
set -a; . "$CACHE_DIR/peers.env"; set +a

log "building the apps"
NX_DAEMON=false npx nx run-many -t build -p writer collector-consul collector-eureka collector-cloudmap --outputStyle=static >&2

KUBECTL=(kubectl --kubeconfig "$RB_KUBECONFIG_ADMIN")
"${KUBECTL[@]}" create namespace "$NS" --dry-run=client -o yaml | "${KUBECTL[@]}" apply -f - >/dev/null

cat > "$RUN/writer.yaml" <<YAML
installation: local
http: { port: 18080, host: 127.0.0.1 }
redis: { url: $RB_REDIS_URL }
kubernetes: { kubeconfig: $RB_KUBECONFIG_ADMIN }
leaderElection: { namespace: registry-bridge }
reconcile: { fullResyncSeconds: 30 }
deletion: { gracePeriodSeconds: 10 }
defaults: { namespace: $NS }
sources:
  consul-dc1: { kind: consul }
  eureka-local: { kind: eureka, endpointMode: workloadEntry }
  cloudmap-local: { kind: cloudmap }
YAML
cat > "$RUN/collector-consul.yaml" <<YAML
http: { port: 18081, host: 127.0.0.1 }
redis: { url: $RB_REDIS_URL }
sources:
  - name: consul-dc1
    address: $RB_CONSUL_ADDR
YAML
cat > "$RUN/collector-eureka.yaml" <<YAML
http: { port: 18082, host: 127.0.0.1 }
redis: { url: $RB_REDIS_URL }
sources:
  - name: eureka-local
    serviceUrls: [$RB_EUREKA_URL]
    pollIntervalSeconds: 2
YAML
cat > "$RUN/collector-cloudmap.yaml" <<YAML
http: { port: 18083, host: 127.0.0.1 }
redis: { url: $RB_REDIS_URL }
sources:
  - name: cloudmap-local
    region: $RB_AWS_REGION
    endpoint: $RB_CLOUDMAP_ENDPOINT
    intervals: { inventorySeconds: 5, revisionSeconds: 1, healthSeconds: 5 }
YAML

log "seeding the example into Consul, Eureka and Cloud Map"
node scripts/local/seed.mjs "$CACHE_DIR/peers.env" >&2

start_app() {
  local app=$1
  RB_CONFIG_FILE="$RUN/$app.yaml" AWS_ACCESS_KEY_ID="$RB_AWS_ACCESS_KEY_ID" AWS_SECRET_ACCESS_KEY="$RB_AWS_SECRET_ACCESS_KEY" \
    AWS_REGION="$RB_AWS_REGION" node "dist/apps/$app/main.js" >"$RUN/$app.log" 2>&1 &
  PIDS+=($!)
  log "started $app (pid $!, log $RUN/$app.log)"
}
for app in writer collector-consul collector-eureka collector-cloudmap; do start_app "$app"; done

EXPECTED=6   # web, payments-api, ledger-db, orders, inventory-service, catalog
count_ses() { "${KUBECTL[@]}" get serviceentries -n "$NS" -o name 2>/dev/null | wc -l; }
check_alive() {
  local i=0
  for app in writer collector-consul collector-eureka collector-cloudmap; do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then log "$app exited; last lines of its log:"; tail -20 "$RUN/$app.log" >&2; exit 1; fi
    i=$((i + 1))
  done
}

if [ "$ONCE" = 1 ]; then
  deadline=$(( $(date +%s) + ${RB_ONCE_TIMEOUT:-120} ))
  until [ "$(count_ses)" -ge "$EXPECTED" ]; do
    check_alive
    [ "$(date +%s)" -gt "$deadline" ] && { log "timed out: $(count_ses) of $EXPECTED ServiceEntries"; exit 1; }
    sleep 1
  done
  sleep 3 # let the WorkloadEntries and health filtering settle
  "${KUBECTL[@]}" get serviceentries,workloadentries -n "$NS" -o yaml --show-managed-fields=false
  exit 0
fi

log "live view (Ctrl-C to stop); writer status: http://127.0.0.1:18080/status"
while true; do
  check_alive
  out=$("${KUBECTL[@]}" get serviceentries,workloadentries -n "$NS" -o json | node scripts/local/table.mjs)
  printf '\033[H\033[2J'
  printf 'registry-bridge local run: namespace %s  (%s)\n\n%s\n\nTry: curl -X PUT %s/v1/agent/check/fail/check-web-1   (an endpoint disappears)\n' "$NS" "$(date +%T)" "$out" "$RB_CONSUL_ADDR"
  sleep 2
done
