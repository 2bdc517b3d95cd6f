# Opt-in Eureka server over HTTPS (sourced by scripts/peers/extras.sh; not run alone).
#
#   eureka-tls   the `eureka` peer's jar and settings (response cache and self-preservation off), HTTPS only,
#                client certificates required: the `eureka-tls` server of scripts/peers/eureka.sh

: "${RB_EUREKA_TLS_PORT:=17301}"
EXTRA_KINDS+=(eureka-tls)

peers_eureka_tls() { echo eureka-tls; }
port_eureka_tls() { echo "$RB_EUREKA_TLS_PORT"; }

eureka_tls() { RB_EUREKA_INSTANCES=eureka-tls bash "$PEERS_DIR/eureka.sh" "$@"; }
# `up eureka-tls` alone skips the install phase: the jar the `eureka` peer runs is built if missing
start_eureka_tls() { eureka_tls install; eureka_tls start; }
wait_eureka_tls() { eureka_tls wait; }
env_eureka_tls() { eureka_tls env; }
