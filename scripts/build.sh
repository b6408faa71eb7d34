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
if [[ ${SWITCHYARD_BUILD_PROGRESS:-0} == 1 ]]; then
  # Progress for people waiting (scripts/run.sh): a line at every tenth of
  # the work, with the step count; a failing command's output in full.
  echo "build.sh: compiling $dir (${targets[*]:-all targets}) on $(nproc) cores; a first build takes a few minutes"
  NINJA_STATUS="[%f/%t] " ninja -C "$dir" -j "$(nproc)" "${targets[@]}" | awk '
    /^\[[0-9]+\/[0-9]+\] / {
      split(substr($1, 2, length($1) - 2), p, "/");
      pct = int(100 * p[1] / p[2]);
      if (pct >= next_pct) { printf "build.sh: %3d%% (%d of %d steps)\n", pct, p[1], p[2]; fflush(); next_pct = pct - pct % 10 + 10 }
      next
    }
    /^ninja: no work to do/ { print "build.sh: up to date"; next }
    /^ninja: (Entering|build stopped)/ { next }
    { print; fflush() }'
else
  # --quiet: ninja prints only the output of failing commands.
  ninja -C "$dir" -j "$(nproc)" --quiet "${targets[@]}"
fi
