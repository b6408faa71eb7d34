#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cc) with clang in build-fuzz/ and
# runs them. See docs/security.md, "Fuzzing".
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS] [-- LIBFUZZER_FLAG...]
#
# Each target runs for SECONDS (default 60) on a copy of its seed corpus
# fuzz/corpus/<target>/ in a temporary directory (the committed corpus is
# never written to). Prints one line per target:
#   PASS <target>: <runs> runs in <s> s (<n>/s), corpus <seeds> -> <n> inputs
#   FAIL <target>: ... crash artifacts in <dir>
# and exits 1 when any target failed. Flags after -- go to every libFuzzer
# run (e.g. -runs=10000000 for a campaign).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

target=all
seconds=60
extra=()
positional=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
      case $positional in
        0) target=$1 ;;
        1) seconds=$1 ;;
        *) echo "fuzz.sh: too many arguments" >&2; usage >&2; exit 2 ;;
      esac
      positional=$((positional + 1))
      ;;
  esac
  shift
done
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
  echo "fuzz.sh: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi

all_targets=()
for src in fuzz/*_fuzz.cc; do
  name=$(basename "$src" .cc)
  all_targets+=("$name")
done
if [[ $target == all ]]; then
  targets=("${all_targets[@]}")
elif [[ -f fuzz/$target.cc ]]; then
  targets=("$target")
else
  echo "fuzz.sh: no target '$target'; targets: ${all_targets[*]}" >&2
  exit 2
fi

# Longest input per target: enough for the limits each one checks.
max_len() {
  case "$1" in
    http_session_fuzz) echo 8192 ;;  # past its config's 2 KiB header and 4 KiB body limits
    url_fuzz) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

# ---- build
dir=build-fuzz
log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT
# RelWithDebInfo without -DNDEBUG: Boost's own assertions stay on.
if ! CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g" \
    -DSWITCHYARD_FUZZ=ON -DSWITCHYARD_TESTS=OFF >"$log" 2>&1; then
  cat "$log" >&2
  echo "fuzz.sh: cmake configure of $dir failed (needs clang; scripts/setup.sh --fuzz)" >&2
  exit 1
fi
ninja -C "$dir" -j "$(nproc)" --quiet "${targets[@]}"

# ---- run
failed=0
for t in "${targets[@]}"; do
  corpus=$work/$t/corpus
  mkdir -p "$corpus"
  seeds=0
  if [[ -d fuzz/corpus/$t ]]; then
    cp fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    seeds=$(find "$corpus" -type f | wc -l)
  fi
  artifacts=$dir/artifacts/$t-$(date +%Y%m%d-%H%M%S)
  mkdir -p "$artifacts"
  # Memory: the sanitizer's hard limit instead of libFuzzer's -rss_limit_mb,
  # whose report (a heap profile) can take many minutes; this one ends the run
  # at once with the input saved.
  flags=(-max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=30
         -rss_limit_mb=0 -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/")
  [[ -f fuzz/dict/$t.dict ]] && flags+=(-dict=fuzz/dict/"$t".dict)
  echo "== $t (${seconds} s, corpus of $seeds seeds)"
  rc=0
  # Inputs that once failed (fuzz/regressions/<target>/) run first, whole.
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=2560 timeout -s KILL 600 \
      "$dir/$t" -timeout=30 -rss_limit_mb=0 -artifact_prefix="$artifacts/" fuzz/regressions/"$t"/* \
      >"$work/$t.log" 2>&1 || rc=$?
  fi
  if [[ $rc -eq 0 ]]; then
    # The timeout only guards against a run that never ends; libFuzzer stops by itself.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=2560 timeout -s KILL $((seconds + 600)) \
      "$dir/$t" "${flags[@]}" "${extra[@]}" "$corpus" >"$work/$t.log" 2>&1 || rc=$?
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
  [[ -n $runs ]] || runs=$(grep -oE '^#[0-9]+' "$work/$t.log" | tail -1 | tr -d '#' || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log" | tail -1)
  took=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$work/$t.log" | tail -1)
  inputs=$(find "$corpus" -type f | wc -l)
  summary="${runs:-0} runs in ${took:-?} s (${rate:-?}/s), corpus $seeds -> $inputs inputs"
  if [[ $rc -eq 0 ]]; then
    rmdir "$artifacts" 2>/dev/null || true
    echo "PASS $t: $summary"
  else
    failed=$((failed + 1))
    cp "$work/$t.log" "$artifacts/fuzzer.log"
    grep -E '^(==[0-9]+==(ERROR|AddressSanitizer)|SUMMARY:|.*runtime error:|[a-z_]+_fuzz:)' "$work/$t.log" | head -5 || true
    echo "FAIL $t: $summary; libFuzzer exited $rc; crash artifacts and log in $artifacts"
  fi
done

[[ $failed -eq 0 ]] || exit 1
