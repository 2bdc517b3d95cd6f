#!/usr/bin/env bash
# Builds the app images from the root Dockerfile (one target per app). Needs a Docker engine
# (BuildKit); not part of CI here, where deploy:test checks the Dockerfile against the built dist/.
#   bash deploy/docker/build-images.sh [app ...]     default: all four
# Env: RB_IMAGE_PREFIX (default registry-bridge), RB_IMAGE_TAG (default: package.json version).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v docker >/dev/null || { echo "docker-build: no docker CLI on this machine" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "docker-build: no reachable Docker engine" >&2; exit 1; }
prefix="${RB_IMAGE_PREFIX:-registry-bridge}"
tag="${RB_IMAGE_TAG:-$(node -p 'require("./package.json").version')}"
apps=("$@")
# Nx passes "{args.apps}" through literally when no --apps is given.
[ "${#apps[@]}" -gt 0 ] && [ -n "${apps[0]}" ] && [ "${apps[0]#\{}" = "${apps[0]}" ] || apps=(writer collector-consul collector-eureka collector-cloudmap)
for app in "${apps[@]}"; do
  DOCKER_BUILDKIT=1 docker build --target "$app" -t "$prefix/$app:$tag" .
done
