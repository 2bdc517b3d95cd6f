#!/usr/bin/env bash
# The single-node Kubernetes of issue 18 (opt-in; not started by scripts/peers.sh up).
#
#   bash scripts/peers/node.sh build    build kubelet, kube-controller-manager and kube-scheduler
#                                       (cached); prints their paths
#
# The binaries come from k8s.io/kubernetes at the version of tools/kube-apiserver (v1.35.4),
# through the module tools/kube-node, and are cached like the API server under
# ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/bin/<name>-<version>-<hash>, the hash covering
# go.mod, go.sum and the link flags. Starting the node (containerd + runc + CNI, the kubelet with
# failCgroupV1: false on this cgroup v1 host) is not done yet: see docs/deploy.md, "Single-node
# cluster", for what is left and why.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
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

case "${1:-}" in
  build) build ;;
  *) echo "usage: $0 build" >&2; exit 2 ;;
esac
