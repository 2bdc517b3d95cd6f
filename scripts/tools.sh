#!/usr/bin/env bash
# Developer and test tools that are built from a pinned Go module instead of downloaded
# (only package registries are reachable here, and a module pin is reviewable in git).
#
#   bash scripts/tools.sh helm         build helm if missing; prints the binary's path on stdout
#   bash scripts/tools.sh actionlint   the same for actionlint (lints .github/workflows)
#
# Binaries go to ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/bin/<tool>-<version>-<hash>; the hash
# covers go.mod, go.sum and the link flags, so a changed pin rebuilds and an unchanged one is reused.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"
BIN_DIR="$CACHE_DIR/bin"

log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] ERROR: %s\n' "$*" >&2; exit 1; }
short_hash() { cat "$@" | sha256sum | cut -c1-12; }

# The version is read from go.mod so the pin lives in one place.
module_version() { # <module dir> <module path>
  awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"
}

# Link flags as in helm's own Makefile: without them `helm version` is empty and helm assumes
# Kubernetes v1.20 for .Capabilities and kubeVersion checks; use the client-go it is built with.
helm_ldflags() { # <version> <client-go version>
  local minor="${2#v0.}"; minor="${minor%%.*}"
  printf -- '-s -w -X helm.sh/helm/v3/internal/version.version=%s -X helm.sh/helm/v3/internal/version.gitTreeState=clean' "$1"
  local pkg
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    printf -- ' -X %s.k8sVersionMajor=1 -X %s.k8sVersionMinor=%s' "$pkg" "$pkg" "$minor"
  done
}

# Builds <package> of the module tools/<tool> into the cache once per go.mod/go.sum/ldflags hash.
go_tool() { # <tool> <version> <package> <ldflags>; prints the binary's path
  local tool="$1" version="$2" pkg="$3" ldflags="$4" dir="$ROOT/tools/$1" out
  out="$BIN_DIR/$tool-$version-$(short_hash "$dir/go.mod" "$dir/go.sum" <(echo "$ldflags"))"
  if [ ! -x "$out" ]; then
    command -v go >/dev/null || die "go is required to build $tool (tools/$tool)"
    mkdir -p "$BIN_DIR"
    log "$tool $version: building (cold: a few minutes)"
    # A unique temp name: two concurrent callers never write the same file; mv is atomic.
    local tmp="$out.tmp.$$"
    ( cd "$dir" && go build -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg" ) || { rm -f "$tmp"; die "$tool build failed"; }
    mv "$tmp" "$out"
  fi
  echo "$out"
}

build_helm() {
  local dir="$ROOT/tools/helm" version out
  version="$(module_version "$dir" helm.sh/helm/v3)"
  [ -n "$version" ] || die "tools/helm/go.mod does not require helm.sh/helm/v3"
  out="$(go_tool helm "$version" helm.sh/helm/v3/cmd/helm "$(helm_ldflags "$version" "$(module_version "$dir" k8s.io/client-go)")")"
  # Also a stable name, for people typing it by hand.
  ln -sfn "$(basename "$out")" "$BIN_DIR/helm-$version"
  echo "$out"
}

# actionlint lints .github/workflows (they cannot run here; the lint is what CI can check).
build_actionlint() {
  local version
  version="$(module_version "$ROOT/tools/actionlint" github.com/rhysd/actionlint)"
  [ -n "$version" ] || die "tools/actionlint/go.mod does not require github.com/rhysd/actionlint"
  go_tool actionlint "$version" github.com/rhysd/actionlint/cmd/actionlint "-s -w -X github.com/rhysd/actionlint.version=$version"
}

case "${1:-}" in
  helm) build_helm ;;
  actionlint) build_actionlint ;;
  *) echo "usage: $0 helm|actionlint" >&2; exit 2 ;;
esac
