# syntax=docker/dockerfile:1
# One multi-target Dockerfile for the four apps: they share the workspace (lockfile, libs, Nx
# config), so the build context is the repo root and one build stage compiles all of them once;
# each target then copies only its own app and its production dependencies.
#
#   docker build --target writer -t registry-bridge/writer:0.1.0 .
#   docker build --target collector-consul -t registry-bridge/collector-consul:0.1.0 .
#   (also collector-eureka, collector-cloudmap; or `npx nx run <app>:docker-build`)
#
# Runtime: Node 24 LTS (package.json engines: >=24; a NODE_IMAGE override stays on 24.x), non-root
# (uid 10001, as the Helm chart runs it), tini as PID 1 so SIGTERM reaches node
# (NestJS shutdown hooks drain BullMQ workers and release the writer's Lease) and zombies are
# reaped. Nothing is written to the image at run time: read-only root filesystem.
#
# Two build arguments keep this one recipe for Docker and for builds without Docker Hub:
#   NODE_IMAGE     a Node 24 image with npm and a shell, for the build stage (default node:24-slim)
#   RUNTIME_IMAGE  the runtime base: Node 24, tini at /usr/bin/tini, uid/gid 10001; by default the
#                  node-runtime stage below makes it from NODE_IMAGE. scripts/images.sh passes bases
#                  made from Debian packages (no shell, no package manager) and builds with buildah.
#   VERSION, REVISION, SOURCE   the OCI labels.

ARG NODE_IMAGE=node:24-slim
ARG RUNTIME_IMAGE=node-runtime

FROM ${NODE_IMAGE} AS node-runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 rb \
 && useradd --uid 10001 --gid rb --no-create-home --shell /usr/sbin/nologin rb

FROM ${NODE_IMAGE} AS build
# A proxy's CA for npm, when the builder needs one (a build-stage-only variable).
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true
COPY package.json package-lock.json ./
# `npm install` (it keeps every pinned version): the lockfile is made where the registry serves
# only Linux builds of packages with per-platform optional dependencies, which `npm ci` rejects.
RUN npm install --no-audit --no-fund
COPY nx.json tsconfig.base.json jest.preset.js eslint.config.mjs webpack.app.js ./
COPY libs libs
COPY apps apps
RUN npx nx run-many -t build --projects=writer,collector-consul,collector-eureka,collector-cloudmap --parallel=2
# Production dependencies per app from the package.json/package-lock.json that the webpack build
# generates (generatePackageJson). `npm install`, not `npm ci`: Nx's pruned lockfile lacks the
# platform-specific optional packages, which `npm ci` rejects; every version it pins is kept.
# The SBOM (CycloneDX, from that lockfile and the installed tree) ships in the image as
# /app/sbom.cdx.json; scripts/images.sh and the release workflow publish it beside the image.
RUN for app in writer collector-consul collector-eureka collector-cloudmap; do \
      (cd "dist/apps/$app" && npm install --omit=dev --ignore-scripts --no-audit --no-fund && rm -f main.js.map \
        && npm sbom --omit=dev --sbom-format=cyclonedx > sbom.cdx.json) || exit 1; \
    done

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="registry-bridge" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
USER 10001:10001
EXPOSE 8080
# tini forwards signals to node and reaps children; `-g` signals the whole process group.
ENTRYPOINT ["/usr/bin/tini", "-g", "--"]

FROM runtime AS writer
COPY --from=build /src/dist/apps/writer/ /app/
CMD ["node", "/app/main.js"]

FROM runtime AS collector-consul
COPY --from=build /src/dist/apps/collector-consul/ /app/
CMD ["node", "/app/main.js"]

FROM runtime AS collector-eureka
COPY --from=build /src/dist/apps/collector-eureka/ /app/
CMD ["node", "/app/main.js"]

FROM runtime AS collector-cloudmap
COPY --from=build /src/dist/apps/collector-cloudmap/ /app/
CMD ["node", "/app/main.js"]
