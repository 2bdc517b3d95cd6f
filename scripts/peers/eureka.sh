#!/usr/bin/env bash
# Eureka servers (Spring Cloud Netflix, tools/eureka-server, built with Maven and cached) on loopback:
# the peers' two (scripts/peers.sh: `eureka` with the response cache off, `eureka-cached` as shipped),
# the opt-in `eureka-tls` (scripts/peers/eureka-tls.sh), or a private one of a test (RB_PEER_DIR,
# see scripts/peers/lib.sh).
#
#   bash scripts/peers/eureka.sh up|down|status|env|install|kill [SIGNAL]|freeze|thaw|wipe|pid
#
#   RB_EUREKA_INSTANCES   which servers (default "eureka eureka-cached"; a private one: "eureka")
#   RB_EUREKA_PORT, RB_EUREKA_CACHED_PORT, RB_EUREKA_TLS_PORT   their ports
# In memory: a restart comes back with no applications.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${RB_EUREKA_PORT:=18761}"          # response cache off, fast eviction, self-preservation off
: "${RB_EUREKA_CACHED_PORT:=18762}"   # as shipped: response cache on
: "${RB_EUREKA_TLS_PORT:=17301}"      # as `eureka`, HTTPS only, client certificates required
: "${RB_EUREKA_EVICTION_MS:=1000}"
read -r -a PEER_INSTANCES <<< "${RB_EUREKA_INSTANCES:-eureka eureka-cached}"
PEER_DATA=()
EUREKA_TLS_DIR="$RUN_DIR/eureka-tls"

port_of() {
  case "$1" in
    eureka) echo "$RB_EUREKA_PORT" ;; eureka-cached) echo "$RB_EUREKA_CACHED_PORT" ;; eureka-tls) echo "$RB_EUREKA_TLS_PORT" ;;
  esac
}
peer_apt() { apt_need java:openjdk-17-jdk-headless mvn:maven curl:curl openssl:openssl; }

# The cached jar's name carries a hash of the pom and the sources.
EUREKA_JAR="$BIN_DIR/eureka-server-$(cd "$TOOLS_DIR/eureka-server" && short_hash pom.xml $(find src -type f | sort)).jar"
peer_build() {
  [ -f "$EUREKA_JAR" ] && { log "eureka-server: cached"; return; }
  log "eureka-server: building with maven"
  local repo_opt=()
  [ -n "${RB_MAVEN_REPO:-}" ] && repo_opt=("-Dmaven.repo.local=$RB_MAVEN_REPO")
  mvn -B -q -DskipTests "${repo_opt[@]}" -Drb.build.dir="$CACHE_DIR/build/eureka-server" \
    -f "$TOOLS_DIR/eureka-server/pom.xml" package
  cp "$CACHE_DIR/build/eureka-server/eureka-server.jar" "$EUREKA_JAR.tmp" && mv "$EUREKA_JAR.tmp" "$EUREKA_JAR"
}

JAVA_OPTS_PEER=(-Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto)
# fast: response cache off (reads see writes at once), self-preservation off, eviction every RB_EUREKA_EVICTION_MS
EUREKA_FAST_OPTS=(--eureka.server.use-read-only-response-cache=false --eureka.server.enable-self-preservation=false
  --eureka.server.eviction-interval-timer-in-ms="$RB_EUREKA_EVICTION_MS")
start_eureka() {
  start_peer eureka java "${JAVA_OPTS_PEER[@]}" -jar "$EUREKA_JAR" --server.port="$RB_EUREKA_PORT" "${EUREKA_FAST_OPTS[@]}"
}
start_eureka_cached() {
  # as shipped: read-only response cache on (30 s refresh), self-preservation on, eviction every 60 s
  start_peer eureka-cached java "${JAVA_OPTS_PEER[@]}" -jar "$EUREKA_JAR" \
    --server.port="$RB_EUREKA_CACHED_PORT"
}
# PEM certificates from a per-run local CA handed to Spring Boot's server.ssl.* properties on the
# command line, so no keystore and no change to the jar
start_eureka_tls() {
  make_local_pki "$EUREKA_TLS_DIR" registry-bridge-eureka-ca "$LOG_DIR/eureka-tls-pki.log" || die "openssl failed for eureka-tls"
  # server.port is the HTTPS port: with server.ssl.* set, Tomcat serves no plain HTTP at all
  start_peer eureka-tls java "${JAVA_OPTS_PEER[@]}" -jar "$EUREKA_JAR" \
    --server.port="$RB_EUREKA_TLS_PORT" \
    --server.ssl.certificate="file:$EUREKA_TLS_DIR/server.crt" \
    --server.ssl.certificate-private-key="file:$EUREKA_TLS_DIR/server.key" \
    --server.ssl.trust-certificate="file:$EUREKA_TLS_DIR/ca.crt" \
    --server.ssl.client-auth=need \
    "${EUREKA_FAST_OPTS[@]}"
}
probe_apps() { # <base url> [curl options...]
  local url="$1"; shift
  curl -sf "$@" -H 'Accept: application/json' "$url/eureka/apps" | grep -q applications
}
probe_eureka() { probe_apps "http://$HOST:$RB_EUREKA_PORT"; }
probe_eureka_cached() { probe_apps "http://$HOST:$RB_EUREKA_CACHED_PORT"; }
probe_eureka_tls() {
  probe_apps "https://$HOST:$RB_EUREKA_TLS_PORT" \
    --cacert "$EUREKA_TLS_DIR/ca.crt" --cert "$EUREKA_TLS_DIR/client.crt" --key "$EUREKA_TLS_DIR/client.key"
}

env_eureka() { echo "RB_EUREKA_URL=http://$HOST:$RB_EUREKA_PORT/eureka"; }
env_eureka_cached() {
  echo "RB_EUREKA_CACHED_URL=http://$HOST:$RB_EUREKA_CACHED_PORT/eureka"
  echo "RB_EUREKA_EVICTION_MS=$RB_EUREKA_EVICTION_MS"
}
env_eureka_tls() {
  echo "RB_EUREKA_TLS_URL=https://$HOST:$RB_EUREKA_TLS_PORT/eureka"
  echo "RB_EUREKA_TLS_CA_FILE=$EUREKA_TLS_DIR/ca.crt"
  echo "RB_EUREKA_TLS_CERT_FILE=$EUREKA_TLS_DIR/client.crt"
  echo "RB_EUREKA_TLS_KEY_FILE=$EUREKA_TLS_DIR/client.key"
}

peer_main "$@"
