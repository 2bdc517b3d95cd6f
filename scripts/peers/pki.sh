# shellcheck shell=bash
# The local PKIs of the peers (sourced by scripts/peers/lib.sh), and of the fault suite's private
# peers when run alone:
#
#   bash scripts/peers/pki.sh <dir> [CA common name] [extra subjectAltName...]
#                       a 30-day CA and server/client certificates in <dir> (as make_local_pki below)

# The openssl steps of every local PKI here (the API server's and the opt-in peers'), run inside
# the PKI's directory: a 30-day CA (ca.crt/key), and certificates it signs (<name>.crt/key).
pki_ca() { # <CA common name>
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=$1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
pki_cert() { # <name> <common name> <extensions, lines separated by \n>
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  printf '%b\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 30 -extfile "$1.ext"
}

# A per-run local CA in <dir>: ca.crt, server.crt/key for 127.0.0.1 and localhost (plus the extra
# names, e.g. DNS:server.dc1.consul), client.crt/key. The openssl output goes to <log>.
make_local_pki() { # <dir> <CA common name> <log file> [extra subjectAltName...]
  local dir="$1" cn="$2" logf="$3" san='IP:127.0.0.1,DNS:localhost' extra
  shift 3
  for extra in "$@"; do san="$san,$extra"; done
  rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  (
    cd "$dir"
    pki_ca "$cn"
    pki_cert server localhost "subjectAltName=$san\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment"
    pki_cert client registry-bridge-client 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment'
    chmod 600 ./*.key
  ) >"$logf" 2>&1 || { tail -20 "$logf" >&2; printf '[peers] ERROR: openssl failed for %s\n' "$dir" >&2; return 1; }
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ $# -ge 1 ] || { echo "usage: $0 <dir> [CA common name] [extra subjectAltName...]" >&2; exit 2; }
  dir="$1"; cn="${2:-registry-bridge-test-ca}"; shift; [ $# -gt 0 ] && shift
  make_local_pki "$dir" "$cn" "$dir.pki.log" "$@"
  rm -f "$dir.pki.log"
fi
