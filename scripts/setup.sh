#!/usr/bin/env bash
# Installs what Switchyard needs to build, and with --test / --bench / --fuzz
# what its tests, benchmarks and fuzz targets (clang with libFuzzer) need.
# Idempotent and quiet: only missing Debian packages are installed (apt-get
# update runs only then), and `npm ci` runs only when node_modules is missing
# or package-lock.json changed.
#
#   scripts/setup.sh [--test] [--bench] [--fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_bench=0
want_fuzz=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    --fuzz) want_fuzz=1 ;;
    *) echo "usage: scripts/setup.sh [--test] [--bench] [--fuzz]" >&2; exit 2 ;;
  esac
done

packages=(build-essential cmake ninja-build pkg-config libboost-dev libssl-dev
  libyaml-cpp-dev libsimdjson-dev nlohmann-json3-dev libgtest-dev googletest
  libsqlite3-dev libpq-dev libhiredis-dev ca-certificates openssl curl)
# Node 20 may already be installed outside Debian's packages; never replace it.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# scripts/fuzz.sh (also run by test.sh): clang and libclang_rt.fuzzer.
if [[ $want_test == 1 || $want_fuzz == 1 ]]; then
  packages+=(clang libclang-rt-14-dev)
fi
# scripts/services.sh (test.sh): a real PostgreSQL and Redis for the store,
# limiter and multi-instance tests.
if [[ $want_test == 1 ]]; then
  packages+=(postgresql redis-server)
fi
if [[ $want_bench == 1 ]]; then
  packages+=(wrk nghttp2-client nginx-light libbenchmark-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Runs a command with its output kept back unless it fails.
quietly() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup.sh: failed: $*" >&2
    return 1
  fi
  rm -f "$log"
}

if [[ ${#missing[@]} -gt 0 ]]; then
  sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quietly "${sudo[@]}" apt-get update -q
  quietly "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ $want_test == 1 ]]; then
  stamp=node_modules/.switchyard-lock.sha256
  lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -d node_modules || ! -f $stamp || $(cat "$stamp") != "$lock_hash" ]]; then
    quietly npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" >"$stamp"
  fi
fi
