#!/usr/bin/env bash
# Configures and builds Switchyard with CMake + Ninja on all cores.
#
#   scripts/build.sh [release|sanitize] [TARGET...]
#     release   build/       Release (default)
#     sanitize  build-asan/  Debug with AddressSanitizer + UBSan (SWITCHYARD_SANITIZE=ON)
#   With no TARGET every target is built (the binaries and the unit tests).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-release}
shift || true
targets=("$@")
case "$mode" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  sanitize) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DSWITCHYARD_SANITIZE=ON) ;;
  *) echo "usage: scripts/build.sh [release|sanitize] [TARGET...]" >&2; exit 2 ;;
esac

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! cmake -S . -B "$dir" -G Ninja "${flags[@]}" >"$log" 2>&1; then
  cat "$log" >&2
  echo "build.sh: cmake configure of $dir failed" >&2
  exit 1
fi
# --quiet: ninja prints only the output of failing commands.
ninja -C "$dir" -j "$(nproc)" --quiet "${targets[@]}"
