# Sourced by the deploy scripts (images.sh, peers/registry.sh, peers/node.sh): installs the Debian
# packages a step needs when their command is missing, as scripts/peers.sh does for the base peers.
#   apt_need COMMAND:PACKAGE ...
apt_need() {
  local missing=() cp
  for cp in "$@"; do command -v "${cp%%:*}" >/dev/null || missing+=("${cp#*:}"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  printf '[apt] installing %s\n' "${missing[*]}" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  # RUNLEVEL=1: no init script starts a packaged service (containerd, docker-registry) on its own ports
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { printf '[apt] ERROR: apt-get install %s failed\n' "${missing[*]}" >&2; return 1; }
}
