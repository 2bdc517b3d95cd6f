#!/usr/bin/env bash
# The test command of README.md: installs what is missing, starts the real peers, runs lint,
# unit tests, builds and the integration suites against the peers, then stops the peers.
set -euo pipefail
cd "$(dirname "$0")/.."

phase() { PHASE_NAME=$1; PHASE_START=$(date +%s); echo "==> $1"; }
done_phase() { echo "<== ${PHASE_NAME} took $(( $(date +%s) - PHASE_START ))s"; }

phase "Node runtime (scripts/node.sh: Node 24 LTS, installed from the npm registry if the machine's is older)"
NODE_BIN_DIR="$(bash scripts/node.sh bin)"
export PATH="$NODE_BIN_DIR:$PATH"
echo "node $(node --version) ($(command -v node)), npm $(npm --version)"
done_phase

phase "npm dependencies"
# `npm install`, not `npm ci`: the lockfile lacks per-platform optional packages that the registry
# here does not serve (e.g. darwin builds of @msgpackr-extract/msgpackr-extract), and `npm ci` rejects such a lockfile;
# `npm install` keeps every version the lockfile pins.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
done_phase

phase "dependency report (outdated and deprecated runtime dependencies; informative, never fails the run)"
# timeout bounds it: an unreachable registry costs at most this, and the report is skipped.
timeout 120 bash scripts/deps-report.sh || echo "(dependency report incomplete: exit $?; not a test failure)"
done_phase

phase "real peers (scripts/peers.sh up)"
bash scripts/peers.sh up
trap 'bash scripts/peers.sh down || true' EXIT
done_phase

export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=${NX_SKIP_NX_CACHE:-false}

phase "type check (every project with its specs: ts-jest does not check types), lint, unit tests, build"
npx tsc -p tsconfig.typecheck.json
npx nx run-many -t lint test build --parallel=2 --outputStyle=stream
done_phase

phase "Go tests of the e2e's xDS test tools (tools/xds-probe, tools/xds-grpc)"
(cd tools/xds-probe && go test ./...)
(cd tools/xds-grpc && go test ./...)
done_phase

phase "integration tests against the real peers"
npx nx run-many -t int-test --parallel=1 --outputStyle=stream
done_phase

phase "benchmark harness, small configuration (it prints numbers; no timing is asserted)"
npx nx run bench:bench-ci --outputStyle=stream
done_phase

phase "fault suite (faults injected into the real peers, Redis Sentinel/Cluster/TLS and Eureka over TLS too)"
bash scripts/peers.sh up redis-cluster redis-sentinel redis-tls eureka-tls
npx nx run e2e-faults:fault-test --outputStyle=stream
done_phase

phase "deploy suite (issue 18): images built here, the local OCI registry, the single-node Kubernetes running the chart"
# The node and the registry are stopped whatever the result, before the peers (the node's state
# lives in their etcd).
trap 'bash scripts/peers/node.sh down || true; bash scripts/peers/registry.sh down || true; bash scripts/peers.sh down || true' EXIT
npx nx run e2e-deploy:images --outputStyle=stream
bash scripts/peers/registry.sh up
bash scripts/peers/registry.sh push
bash scripts/peers/node.sh up
npx nx run e2e-deploy:cluster-test --exclude-task-dependencies --outputStyle=stream
done_phase
