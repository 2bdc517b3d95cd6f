# Sourced by the deploy scripts (images.sh, peers/registry.sh, peers/node.sh) and the peers' scripts
# (peers/lib.sh): installs the Debian packages a step needs when their command is missing.
#   apt_need COMMAND:PACKAGE ...
#   apt_install PACKAGE ...   (when no command tells, e.g. python3-venv)
apt_need() {
  local missing=() cp
  for cp in "$@"; do command -v "${cp%%:*}" >/dev/null || missing+=("${cp#*:}"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  apt_install "${missing[@]}"
}
apt_install() {
  printf '[apt] installing %s\n' "$*" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  # RUNLEVEL=1: no init script starts a packaged service (containerd, docker-registry, redis-server) on its own ports
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { printf '[apt] ERROR: apt-get install %s failed\n' "$*" >&2; return 1; }
}
