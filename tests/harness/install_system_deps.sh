#!/usr/bin/env bash
# Installs the Debian servers the integration tests start (private ports, throwaway dirs).
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
# mosquitto_pub: the compose broker healthcheck is tested with it (tests/deploy).
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# The packages start system-wide services on the default ports; the tests never use those.
# Real MicroPython (WebAssembly port) for the edge-node tests, pinned by its package-lock.json.
mp_runner="$(cd "$(dirname "$0")" && pwd)/micropython"
if [ ! -f "$mp_runner/node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs" ]; then
  echo "installing the MicroPython runner (npm ci in $mp_runner)"
  (cd "$mp_runner" && npm ci --no-audit --no-fund --loglevel=error)
fi
