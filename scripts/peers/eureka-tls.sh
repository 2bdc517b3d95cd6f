# Opt-in Eureka server over HTTPS (sourced by scripts/peers/extras.sh; not run alone).
#
#   eureka-tls   the `eureka` peer's jar and settings (response cache and self-preservation off), HTTPS only,
#                client certificates required; PEM certificates from a per-run local CA handed to Spring
#                Boot's server.ssl.* properties on the command line, so no keystore and no change to the jar

: "${RB_EUREKA_TLS_PORT:=17301}"
EXTRA_KINDS+=(eureka-tls)
EUREKA_TLS_DIR="$RUN_DIR/eureka-tls"

peers_eureka_tls() { echo eureka-tls; }
port_eureka_tls() { echo "$RB_EUREKA_TLS_PORT"; }

start_eureka_tls() {
  # `up eureka-tls` alone skips the install phase: find the jar the `eureka` peer runs, building it if missing
  [ -n "$EUREKA_JAR" ] || resolve_artifacts
  [ -f "$EUREKA_JAR" ] || { mkdir -p "$BIN_DIR"; build_eureka; }
  make_local_pki "$EUREKA_TLS_DIR" registry-bridge-eureka-ca eureka-tls
  # server.port is the HTTPS port: with server.ssl.* set, Tomcat serves no plain HTTP at all
  start_peer eureka-tls java "${JAVA_OPTS_PEER[@]}" -jar "$EUREKA_JAR" \
    --server.port="$RB_EUREKA_TLS_PORT" \
    --server.ssl.certificate="file:$EUREKA_TLS_DIR/server.crt" \
    --server.ssl.certificate-private-key="file:$EUREKA_TLS_DIR/server.key" \
    --server.ssl.trust-certificate="file:$EUREKA_TLS_DIR/ca.crt" \
    --server.ssl.client-auth=need \
    "${EUREKA_FAST_OPTS[@]}"
}
probe_eureka_tls() {
  curl -sf --cacert "$EUREKA_TLS_DIR/ca.crt" --cert "$EUREKA_TLS_DIR/client.crt" --key "$EUREKA_TLS_DIR/client.key" \
    -H 'Accept: application/json' "https://$HOST:$RB_EUREKA_TLS_PORT/eureka/apps" | grep -q applications
}
wait_eureka_tls() { wait_for eureka-tls probe_eureka_tls; }

env_eureka_tls() {
  echo "RB_EUREKA_TLS_URL=https://$HOST:$RB_EUREKA_TLS_PORT/eureka"
  echo "RB_EUREKA_TLS_CA_FILE=$EUREKA_TLS_DIR/ca.crt"
  echo "RB_EUREKA_TLS_CERT_FILE=$EUREKA_TLS_DIR/client.crt"
  echo "RB_EUREKA_TLS_KEY_FILE=$EUREKA_TLS_DIR/client.key"
}
