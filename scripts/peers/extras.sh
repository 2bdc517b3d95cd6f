# Opt-in peers (sourced by scripts/peers.sh after scripts/peers/lib.sh; not run alone). Started by `bash scripts/peers.sh up <kind...>`
# (only these, the base peers are left alone) or with the base peers by `RB_PEERS_EXTRA=<kind,...> bash scripts/peers.sh up`.
# Each writes its keys into the env file (docs/local-peers.md).
#
# A kind's file adds it to EXTRA_KINDS and defines, with the kind's dashes as underscores:
#   peers_<kind>          its peer (pid file) names
#   port_<kind> <peer>    the port of one of them
#   start_<kind>, wait_<kind>
#   env_<kind>            its KEY=value lines for the env file
EXTRA_KINDS=()

# shellcheck source=redis-extras.sh
. "$PEERS_DIR/redis-extras.sh"
# shellcheck source=eureka-tls.sh
. "$PEERS_DIR/eureka-tls.sh"

is_extra_kind() { local k; for k in "${EXTRA_KINDS[@]}"; do [ "$k" = "$1" ] && return 0; done; return 1; }
extra_peers_of() { # <kind>
  is_extra_kind "$1" || die "unknown extra peer '$1' (known: ${EXTRA_KINDS[*]})"
  "peers_${1//-/_}"
}
all_extra_peers() { local k; for k in "${EXTRA_KINDS[@]}"; do extra_peers_of "$k"; done | tr ' ' '\n'; }
extra_port_of() { # <peer>
  local k p
  for k in "${EXTRA_KINDS[@]}"; do
    for p in $("peers_${k//-/_}"); do [ "$p" = "$1" ] && { "port_${k//-/_}" "$1"; return; }; done
  done
}
extra_env_keys() { "env_${1//-/_}" | cut -d= -f1; }

# Replace the extra's keys in the env file (created if absent), keeping every other line.
write_extra_env() { # <kind>
  local tmp="$ENV_FILE.tmp" key
  umask 077
  { [ -f "$ENV_FILE" ] && cat "$ENV_FILE"; true; } > "$tmp"
  for key in $(extra_env_keys "$1"); do sed -i "/^$key=/d" "$tmp"; done
  "env_${1//-/_}" >> "$tmp"
  mv "$tmp" "$ENV_FILE"
}

# Start the named extras (stopping an earlier run of them first), wait for them, write their keys.
up_extras() { # <kind...>
  local kind name
  for kind in "$@"; do is_extra_kind "$kind" || die "unknown extra peer '$kind' (known: ${EXTRA_KINDS[*]})"; done
  for kind in "$@"; do
    # shellcheck disable=SC2046
    stop_peers $(extra_peers_of "$kind")
    for name in $(extra_peers_of "$kind"); do
      port_in_use "$(extra_port_of "$name")" && die "port $HOST:$(extra_port_of "$name") for $name is in use (override with its RB_*_PORT variable, docs/local-peers.md)"
    done
  done
  mkdir -p "$PID_DIR" "$LOG_DIR"
  for kind in "$@"; do "start_${kind//-/_}"; done
  for kind in "$@"; do
    local t0; t0="$(now)"
    "wait_${kind//-/_}"; write_extra_env "$kind"; log "$kind up (waited $(elapsed "$t0"))"
  done
}
