#!/usr/bin/env bash
# The Node runtime of the tests, the local run and the benchmarks: Node 24 LTS, pinned.
#
#   bash scripts/node.sh bin       prints the directory of a Node >= 24 `node` (installs it if needed)
#   bash scripts/node.sh version   prints the pinned version
#
# When the machine's `node` is already >= the required major it is used as it is. Otherwise the
# pinned build comes from the npm registry (the package node-linux-<arch>, the official Linux build)
# and is unpacked once under ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/node/<version>; later
# calls reuse it. No other download: only the npm registry is reachable here. Callers put the
# printed directory first on PATH, so `node`, `npm` and `npx` (npm's scripts start with
# `#!/usr/bin/env node`) all run on it.
#   RB_NODE_BIN=/dir   use this directory's node instead (e.g. to run the bench on another Node)
set -euo pipefail

NODE_VERSION=24.22.3
REQUIRED_MAJOR=${NODE_VERSION%%.*}
CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"

log() { printf '[node] %s\n' "$*" >&2; }
die() { printf '[node] ERROR: %s\n' "$*" >&2; exit 1; }

major_of() { # <node binary> -> major version, or nothing
  "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true
}

arch() {
  case "$(uname -m)" in
    x86_64) echo x64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "no Node build for $(uname -m) in the npm registry; install Node >= $REQUIRED_MAJOR yourself" ;;
  esac
}

install_pinned() {
  local dir="$CACHE_DIR/node/$NODE_VERSION-$(arch)"
  if [ ! -x "$dir/bin/node" ]; then
    command -v npm >/dev/null || die "npm is needed once to fetch node-linux-$(arch)@$NODE_VERSION"
    mkdir -p "$CACHE_DIR/node"
    # One installer at a time (two test commands may start together); the loser reuses the result.
    exec 9>"$CACHE_DIR/node/.lock"
    flock 9
    if [ ! -x "$dir/bin/node" ]; then
      local tmp
      tmp="$(mktemp -d "$CACHE_DIR/node/.tmp.XXXXXX")"
      log "installing Node $NODE_VERSION from the npm registry (node-linux-$(arch), ~50 MB, once)"
      # npm pack checks the tarball against the registry's integrity hash.
      ( cd "$tmp" && npm pack "node-linux-$(arch)@$NODE_VERSION" --silent >/dev/null ) \
        || { rm -rf "$tmp"; die "npm pack node-linux-$(arch)@$NODE_VERSION failed (is the npm registry reachable?)"; }
      tar -xzf "$tmp"/node-linux-*.tgz -C "$tmp" && rm -f "$tmp"/node-linux-*.tgz
      [ "$("$tmp/package/bin/node" --version)" = "v$NODE_VERSION" ] \
        || { rm -rf "$tmp"; die "the unpacked node is not v$NODE_VERSION"; }
      rm -rf "$dir"
      mv "$tmp/package" "$dir"
      rm -rf "$tmp"
    fi
    exec 9>&-
  fi
  echo "$dir/bin"
}

node_bin() {
  if [ -n "${RB_NODE_BIN:-}" ]; then
    [ -x "$RB_NODE_BIN/node" ] || die "RB_NODE_BIN=$RB_NODE_BIN has no executable node"
    echo "$RB_NODE_BIN"
    return
  fi
  local current major=""
  current="$(command -v node || true)"
  [ -z "$current" ] || major="$(major_of "$current")"
  if [ -n "$major" ] && [ "$major" -ge "$REQUIRED_MAJOR" ]; then
    dirname "$current"
  else
    install_pinned
  fi
}

case "${1:-}" in
  bin) node_bin ;;
  version) echo "$NODE_VERSION" ;;
  *) echo "usage: $0 bin|version" >&2; exit 2 ;;
esac
