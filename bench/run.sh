#!/usr/bin/env bash
# bench/run.sh: measure, in one run on this machine, the mock upstream direct,
# nginx as a plain keep-alive reverse proxy in front of the mock, and
# Switchyard in front of the mock; report every Switchyard number as a ratio
# to nginx's from the same run, and check them against issue 2's targets.
# It also measures Switchyard's translated path (an Anthropic-SDK-shaped
# POST /v1/messages to the same OpenAI-protocol mock) against its own
# passthrough in the same run.
# See docs/benchmarks.md for what is measured and why.
#
#   bench/run.sh                 full run (~6-8 minutes)
#   bench/run.sh --quick         smoke run (~1.5 minutes) while developing
#   bench/run.sh --soak 600      full run, then 10 minutes of moderate load on
#                                Switchyard sampling its RSS every 10 s
#
# Options:
#   --quick            short durations, 1,000 idle conns instead of 5,000
#   --soak SECONDS     add the soak run (default off)
#   --rounds N         rounds of load measurements, alternating the order of
#                      the targets; medians are reported (default 5, quick 1)
#   --threads N        gateway threads and nginx workers (default 2)
#   --mock-threads N   mock upstream threads (default 1)
#   --targets LIST     comma list of direct,nginx,switchyard (default all)
#   --idle-conns N     idle keep-alive connections for the memory test
#   --wait-idle S      before each latency and first-chunk measurement, wait
#                      up to S seconds for the machine to be quiet (other
#                      processes under 15% CPU over 2 s); default 0 = don't
#   --no-build         do not run cmake/ninja first
#   --nice N           run every benchmark process (targets, mock, load
#                      generators alike) at this nice level (default -10,
#                      when root) so that others' compiles disturb it less;
#                      --nice 0 to leave priorities alone
#   --no-translation   skip the translated path (Anthropic /v1/messages in
#                      front of the OpenAI mock; measured by default whenever
#                      switchyard is a target)
#   --keep-tmp         keep the temp dir (configs, logs, raw outputs)
#   --fake-switchyard  plumbing test only: a second nginx in the switchyard
#                      slot; the report is marked FAKE. Never a result.
# Environment: BUILD_DIR (default build/) is where the binaries are built and
# found; SWITCHYARD_BIN, MOCK_BIN point at binaries to use as they are;
# BENCH_COMMIT labels the report when those were built from another tree.
#
# Everything listens on and talks to 127.0.0.1 only, on ports picked at run
# time; every process started here is killed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench

QUICK=0 SOAK=0 ROUNDS= THREADS=2 NICE=-10 WAIT_IDLE=0 MOCK_THREADS=1 BUILD=1 KEEP_TMP=0 FAKE_SY=0 TRANSLATION=1
TARGETS=direct,nginx,switchyard IDLE_CONNS=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --soak) SOAK=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --mock-threads) MOCK_THREADS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --idle-conns) IDLE_CONNS=$2; shift ;;
    --no-build) BUILD=0 ;;
    --nice) NICE=$2; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    --no-translation) TRANSLATION=0 ;;
    --keep-tmp) KEEP_TMP=1 ;;
    --fake-switchyard) FAKE_SY=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# Durations (seconds) and load shapes. Same parameters for every target.
# The full run measures in 5 short rounds, alternating the order of the
# targets; nginx and Switchyard always run back to back, each ratio is taken
# within a round and the median over rounds is reported. The machine is
# shared: a burst of someone else's work then spoils one round, not the result.
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1} WARM=1 TPUT=3 LAT=4 LAT_WARM=1 STREAM=3 TTFB_N=50 IDLE_CONNS=${IDLE_CONNS:-1000}
else
  ROUNDS=${ROUNDS:-5} WARM=1 TPUT=4 LAT=5 LAT_WARM=1 STREAM=4 TTFB_N=100 IDLE_CONNS=${IDLE_CONNS:-5000}
fi
CONNS=64          # wrk connections, throughput and streaming
WRK_THREADS=2     # wrk threads (the machine has 2 cores)
LAT_RATE=200      # offered rate for the latency run, req/s
LAT_CONNS=8       # h2load connections for the latency run
SOAK_RATE=200     # soak: non-streaming req/s ...
SOAK_STREAM_RATE=10  # ... plus 50-chunk streams/s
CLIENT_KEY=sk-bench-client-0123456789
CHAT_PATH=/v1/chat/completions
MSG_PATH=/v1/messages          # the translated path: Anthropic front door
ANTHROPIC_VERSION=2023-06-01

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- setup ---
need_pkgs=()
command -v nginx >/dev/null || need_pkgs+=(nginx-light)
command -v wrk >/dev/null || need_pkgs+=(wrk)
command -v h2load >/dev/null || need_pkgs+=(nghttp2-client)
command -v cc >/dev/null || need_pkgs+=(gcc libc6-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${need_pkgs[*]}; install them (apt-get install ${need_pkgs[*]}) or run as root"
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >/dev/null; }
fi
command -v python3 >/dev/null || die "python3 is needed"

BIN_OVERRIDE=${MOCK_BIN:+1}${SWITCHYARD_BIN:+1}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MOCK_BIN=${MOCK_BIN:-$BUILD_DIR/mock_upstream}
SWITCHYARD_BIN=${SWITCHYARD_BIN:-$BUILD_DIR/switchyard}
want_sy=0; [[ ",$TARGETS," == *",switchyard,"* && $FAKE_SY = 0 ]] && want_sy=1
[ $want_sy = 1 ] || TRANSLATION=0  # only Switchyard translates (not a fake one)
if [ "$BUILD" = 1 ] && [ -z "$BIN_OVERRIDE" ]; then
  build_targets=(mock_upstream); [ $want_sy = 1 ] && build_targets+=(switchyard)
  log "building ${build_targets[*]} (Release)"
  if ! { [ -f "$BUILD_DIR/build.ninja" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$BUILD_DIR.bench.log" 2>&1; } ||
     ! ninja -C "$BUILD_DIR" "${build_targets[@]}" >>"$BUILD_DIR.bench.log" 2>&1; then
    log "WARNING: build failed (see $BUILD_DIR.bench.log); using the binaries already there, if any"
  fi
fi
[ -x "$MOCK_BIN" ] || die "no mock upstream at $MOCK_BIN"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
[ -n "$BIN_OVERRIDE" ] && BUILD_TYPE="given binaries"
[ "$BUILD_TYPE" = Release ] || [ -n "$BIN_OVERRIDE" ] ||
  log "WARNING: $BUILD_DIR is a '${BUILD_TYPE:-unknown}' build, not Release: numbers will not be representative"
[ $want_sy = 0 ] || [ -x "$SWITCHYARD_BIN" ] || die "no switchyard at $SWITCHYARD_BIN (use --targets direct,nginx to bench without it)"

# Every process started from here on inherits the priority.
if [ "$NICE" != 0 ] && [ "$(id -u)" = 0 ]; then renice -n "$NICE" -p $$ >/dev/null || NICE=0; else NICE=0; fi

# 5,000 idle connections need file descriptors, here and in the servers.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((IDLE_CONNS + 1024)) ] || die "ulimit -n is $(ulimit -n); need $((IDLE_CONNS + 1024))"

TMP=$(mktemp -d /tmp/sybench.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  exec 9>&- 2>/dev/null || true
  local kids=()
  for pid in "${PIDS[@]}"; do kids+=($(pgrep -P "$pid" 2>/dev/null || true)); done  # nginx workers
  PIDS+=("${kids[@]}")
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 30); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$KEEP_TMP" = 1 ] || [ $rc != 0 ]; then log "temp dir kept: $TMP"; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$TMP/ttfb_probe" "$BENCH/ttfb_probe.c" || die "cannot build ttfb_probe"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_line FILE REGEX SECONDS PID: wait until FILE has a line matching REGEX.
wait_line() {
  local i
  for i in $(seq $(($3 * 10))); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { cat "$1" >&2; die "process $4 exited while starting"; }
    sleep 0.1
  done
  cat "$1" >&2; die "timed out waiting for '$2' in $1"
}

wait_port() {
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  die "nothing listening on port $1"
}

# Request bodies: identical bytes for every target. The gateway config maps
# the model names "bench" and "chunks-50" to mock/bench and mock/chunks-50, so
# what reaches the mock is the same whichever way the request went.
BODY_CHAT=$TMP/body_chat.json
BODY_STREAM=$TMP/body_stream.json
printf '%s' '{"model":"bench","messages":[{"role":"system","content":"You are a concise assistant for a freight logistics team."},{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7,"max_tokens":128,"user":"bench-client-01"}' >"$BODY_CHAT"
printf '%s' '{"model":"chunks-50","messages":[{"role":"system","content":"You are a concise assistant for a freight logistics team."},{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7,"max_tokens":128,"stream":true,"user":"bench-client-01"}' >"$BODY_STREAM"
# The translated path: the same conversation as an Anthropic SDK sends it
# (system as a string, one user message), to Switchyard's /v1/messages; the
# gateway translates it into an OpenAI chat request to the same mock models
# (adding stream_options.include_usage when streaming) and the answer back.
BODY_MSG=$TMP/body_msg.json
BODY_MSG_STREAM=$TMP/body_msg_stream.json
printf '%s' '{"model":"bench","max_tokens":128,"system":"You are a concise assistant for a freight logistics team.","messages":[{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7}' >"$BODY_MSG"
printf '%s' '{"model":"chunks-50","max_tokens":128,"system":"You are a concise assistant for a freight logistics team.","messages":[{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7,"stream":true}' >"$BODY_MSG_STREAM"

# -------------------------------------------------------------- targets ---
declare -A PORT PID_OF

start_mock() {
  "$MOCK_BIN" --listen 127.0.0.1:0 --threads "$MOCK_THREADS" >"$TMP/mock.log" 2>&1 &
  PID_OF[mock]=$!; PIDS+=($!)
  wait_line "$TMP/mock.log" 'mock_upstream listening on 127\.0\.0\.1:[0-9]+' 10 "${PID_OF[mock]}"
  PORT[mock]=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$TMP/mock.log" | head -1 | sed 's/.*://')
  PORT[direct]=${PORT[mock]}; PID_OF[direct]=${PID_OF[mock]}
  log "mock upstream pid ${PID_OF[mock]} on port ${PORT[mock]} ($MOCK_THREADS thread(s))"
}

# start_nginx NAME: nginx in the foreground with its own prefix under $TMP.
start_nginx() {
  local name=$1 prefix=$TMP/$1 port user_line=
  port=$(free_port)
  mkdir -p "$prefix/tmp"
  [ "$(id -u)" = 0 ] && user_line="user root root;"
  sed -e "s|@USER_LINE@|$user_line|" -e "s|@WORKERS@|$THREADS|" -e "s|@PREFIX@|$prefix|g" \
      -e "s|@UPSTREAM_PORT@|${PORT[mock]}|" -e "s|@LISTEN_PORT@|$port|" -e "s|@LISTEN_OPTS@|reuseport|" \
      "$BENCH/nginx.conf.template" >"$prefix/nginx.conf"
  nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" >"$prefix/stdout.log" 2>&1 &
  PID_OF[$name]=$!; PIDS+=($!); PORT[$name]=$port
  wait_port "$port"
  log "$name (nginx master pid ${PID_OF[$name]}, $THREADS workers) on port $port"
}

start_switchyard() {
  local port cfg=$TMP/switchyard.yaml
  port=$(free_port)
  cat >"$cfg" <<EOF
# Written by bench/run.sh: Switchyard in front of the mock upstream, as a
# proxy: config keys, no store (bench/governance.sh measures the cost of
# store keys, limits and usage records against this).
server:
  listen: 127.0.0.1:$port
  auth: keys
  threads: $THREADS
store: none
keys:
  - name: bench
    key: $CLIENT_KEY
providers:
  - id: mock
    type: openai
    base_url: http://127.0.0.1:${PORT[mock]}/v1
    keys:
      - id: k1
        value: sk-mock-provider-key
        weight: 1
models:
  - name: bench
    target: mock/bench
  - name: chunks-50          # the streaming alias: same name as the mock model
    target: mock/chunks-50   # so every target sends identical bodies
EOF
  "$SWITCHYARD_BIN" validate --config "$cfg" >"$TMP/switchyard.validate" 2>&1 ||
    { cat "$TMP/switchyard.validate" >&2; die "switchyard rejected the bench config"; }
  "$SWITCHYARD_BIN" serve --config "$cfg" --listen "127.0.0.1:$port" >"$TMP/switchyard.log" 2>&1 &
  PID_OF[switchyard]=$!; PIDS+=($!)
  wait_line "$TMP/switchyard.log" 'switchyard listening on 127\.0\.0\.1:[0-9]+' 15 "${PID_OF[switchyard]}"
  PORT[switchyard]=$(grep -oE 'listening on 127\.0\.0\.1:[0-9]+' "$TMP/switchyard.log" | head -1 | sed 's/.*://')
  log "switchyard pid ${PID_OF[switchyard]} on port ${PORT[switchyard]}"
}

# set_req T: how a load target is reached. Every target takes the OpenAI
# chat request, except "translated": the switchyard process reached through
# its Anthropic front door (REQ_PROC is the process whose CPU is counted).
set_req() {
  REQ_PROC=$1 REQ_PATH=$CHAT_PATH REQ_PROTO=openai REQ_BODY=$BODY_CHAT REQ_SBODY=$BODY_STREAM
  REQ_AUTH=(-H "Authorization: Bearer $CLIENT_KEY")
  if [ "$1" = translated ]; then
    REQ_PROC=switchyard REQ_PATH=$MSG_PATH REQ_PROTO=anthropic REQ_BODY=$BODY_MSG REQ_SBODY=$BODY_MSG_STREAM
    REQ_AUTH=(-H "x-api-key: $CLIENT_KEY" -H "anthropic-version: $ANTHROPIC_VERSION")
  fi
}

# All processes of a target: nginx's master and workers; the others are one
# process (threads are included in /proc/PID/stat and VmRSS).
pids_of() {
  local p=${PID_OF[$1]}
  echo "$p"
  [ -d "$TMP/$1" ] && pgrep -P "$p" || true
}

# CPU ticks (utime + stime, 1/CLK_TCK s) summed over a target's processes.
cpu_ticks() {
  local total=0 p f
  for p in $(pids_of "$1"); do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f
    total=$((total + ${12} + ${13}))
  done
  echo $total
}
# For the mock alone (the direct target is the mock).
mock_ticks() { local f; f=$(sed 's/.*) //' "/proc/${PID_OF[mock]}/stat"); set -- $f; echo $((${12} + ${13})); }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

rss_kb() {
  local total=0 p v
  for p in $(pids_of "$1"); do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
    total=$((total + ${v:-0}))
  done
  echo $total
}

# "busy idle" jiffies of the whole machine, to tell how busy it was during a
# low-load measurement (latency, first chunk), where our own share is small.
cpu_busy_idle() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit}' /proc/stat; }
busy_pct() {  # busy_pct "B0 I0" "B1 I1"
  python3 -c "b0, i0, b1, i1 = map(int, '$1 $2'.split()); print(round(100.0 * (b1 - b0) / max(1, b1 - b0 + i1 - i0), 1))"
}

# wait_idle: up to WAIT_IDLE seconds for a 2-second window under 15% busy.
wait_idle() {
  [ "$WAIT_IDLE" -gt 0 ] || return 0
  local start=$SECONDS c0 pct
  while [ $((SECONDS - start)) -lt "$WAIT_IDLE" ]; do
    c0=$(cpu_busy_idle); sleep 2
    pct=$(busy_pct "$c0" "$(cpu_busy_idle)")
    python3 -c "import sys; sys.exit(0 if $pct < 15 else 1)" && return 0
  done
  log "  machine still busy after ${WAIT_IDLE}s (${pct}%); measuring anyway"
}

RAW=$TMP/raw.tsv
: >"$RAW"
ROUND=0
CUR_TARGET=direct
record() { printf '%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$2" "$3" >>"$RAW"; }

# check_target T: one plain and one streaming request must look right.
check_target() {
  local t=$1 out
  out=$(curl -sS --max-time 10 -H "Authorization: Bearer $CLIENT_KEY" -H 'Content-Type: application/json' \
        --data-binary @"$BODY_CHAT" "http://127.0.0.1:${PORT[$t]}$CHAT_PATH" 2>&1) || true
  [[ $out == *'Hello from mock'* ]] || die "$t: unexpected chat response: ${out:0:300}"
  out=$(curl -sS -N --max-time 10 -H "Authorization: Bearer $CLIENT_KEY" -H 'Content-Type: application/json' \
        --data-binary @"$BODY_STREAM" "http://127.0.0.1:${PORT[$t]}$CHAT_PATH" 2>&1) || true
  [[ $out == *'tok49'* && $out == *'[DONE]'* ]] || die "$t: unexpected stream response: ${out:0:300}"
}

# check_translated: Switchyard's Anthropic front door in front of the OpenAI
# mock must answer a message and a complete 50-chunk event stream; and the
# mock's stream, asked the way the gateway asks it (include_usage), must end
# with a finish_reason and [DONE], or the translated stream could not end.
check_translated() {
  local out
  out=$(curl -sS -N --max-time 10 -H 'Content-Type: application/json' --data-binary \
        '{"model":"chunks-50","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}' \
        "http://127.0.0.1:${PORT[mock]}$CHAT_PATH" 2>&1) || true
  [[ $out == *'"finish_reason":"stop"'* && $out == *'data: [DONE]'* ]] ||
    die "mock: stream does not end with a finish_reason and [DONE]: ${out: -300}"
  if [[ $out == *'"usage":{'* ]]; then MOCK_USAGE=1; else MOCK_USAGE=0; fi
  out=$(curl -sS --max-time 10 -H "x-api-key: $CLIENT_KEY" -H "anthropic-version: $ANTHROPIC_VERSION" \
        -H 'Content-Type: application/json' --data-binary @"$BODY_MSG" "http://127.0.0.1:${PORT[switchyard]}$MSG_PATH" 2>&1) || true
  [[ $out == *'"type":"message"'* && $out == *'Hello from mock'* ]] ||
    die "translated: unexpected message response: ${out:0:300}"
  out=$(curl -sS -N --max-time 10 -H "x-api-key: $CLIENT_KEY" -H "anthropic-version: $ANTHROPIC_VERSION" \
        -H 'Content-Type: application/json' --data-binary @"$BODY_MSG_STREAM" "http://127.0.0.1:${PORT[switchyard]}$MSG_PATH" 2>&1) || true
  [[ $out == *'event: message_stop'* && $out == *'tok49'* ]] ||
    die "translated: unexpected stream response: ${out: -300}"
  TR_EVENTS=$(grep -c '^event:' <<<"$out" || true)
  TR_USAGE=$(grep -o '"output_tokens":[0-9]*' <<<"$out" | tail -1 | cut -d: -f2 || true)
  log "translated path OK: $TR_EVENTS events per stream, final output_tokens ${TR_USAGE:-none}; mock sends usage when asked: $([ $MOCK_USAGE = 1 ] && echo yes || echo no)"
}

# alive T: the target's process (and the mock) must still be running.
alive() {
  local name
  for name in mock "$1"; do
    [ "$name" = direct ] && continue
    kill -0 "${PID_OF[$name]}" 2>/dev/null && continue
    local logf=$TMP/$name.log; [ -d "$TMP/$name" ] && logf=$TMP/$name/error.log
    tail -5 "$logf" >&2 2>/dev/null || true
    die "$name (pid ${PID_OF[$name]}) is gone; something stopped it (log: $logf)"
  done
}

# ----------------------------------------------------------- measurements ---
# run_wrk PORT BODY SECONDS OUTFILE (path and protocol: REQ_PATH, REQ_PROTO from set_req)
run_wrk() {
  alive "$CUR_TARGET"
  SY_BENCH_BODY_FILE=$2 SY_BENCH_KEY=$CLIENT_KEY SY_BENCH_PROTOCOL=$REQ_PROTO \
    timeout $(($3 + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${3}s" --timeout 5s -s "$BENCH/post_chat.lua" \
    "http://127.0.0.1:$1$REQ_PATH" >"$4" 2>&1 || { alive "$CUR_TARGET"; cat "$4" >&2; die "wrk failed"; }
  alive "$CUR_TARGET"
}
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_requests() { awk '/ requests in / {print $1}' "$1"; }
wrk_errors() {
  awk '/Non-2xx or 3xx responses:/ {e += $NF}
       /Socket errors:/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10}
       END {print e + 0}' "$1"
}

measure_throughput() {
  set_req "$1"; CUR_TARGET=$REQ_PROC; alive "$REQ_PROC"
  local t=$1 port=${PORT[$REQ_PROC]} out=$TMP/wrk_$1_r$ROUND.txt c0 c1 m0 m1 n
  run_wrk "$port" "$REQ_BODY" "$WARM" "$out.warm"
  c0=$(cpu_ticks "$REQ_PROC"); m0=$(mock_ticks)
  run_wrk "$port" "$REQ_BODY" "$TPUT" "$out"
  c1=$(cpu_ticks "$REQ_PROC"); m1=$(mock_ticks)
  n=$(wrk_requests "$out")
  record "$t" rps "$(wrk_rps "$out")"
  record "$t" rps_requests "$n"
  record "$t" rps_errors "$(wrk_errors "$out")"
  record "$t" cpu_us_per_req "$(python3 -c "print(($c1 - $c0) * $TICK_US / max($n, 1))")"
  [ "$t" = direct ] || record "$t" mock_cpu_us_per_req "$(python3 -c "print(($m1 - $m0) * $TICK_US / max($n, 1))")"
  log "  $t throughput: $(wrk_rps "$out") req/s, $(wrk_errors "$out") errors, $(( (c1 - c0) * TICK_US / (n > 0 ? n : 1) )) us CPU/req"
}

measure_stream() {
  set_req "$1"; CUR_TARGET=$REQ_PROC; alive "$REQ_PROC"
  local t=$1 port=${PORT[$REQ_PROC]} out=$TMP/wrk_stream_$1_r$ROUND.txt c0 c1 n
  run_wrk "$port" "$REQ_SBODY" "$WARM" "$out.warm"
  c0=$(cpu_ticks "$REQ_PROC")
  run_wrk "$port" "$REQ_SBODY" "$STREAM" "$out"
  c1=$(cpu_ticks "$REQ_PROC")
  n=$(wrk_requests "$out")
  record "$t" stream_rps "$(wrk_rps "$out")"
  record "$t" stream_errors "$(wrk_errors "$out")"
  record "$t" stream_cpu_us_per_resp "$(python3 -c "print(($c1 - $c0) * $TICK_US / max($n, 1))")"
  log "  $t streaming: $(wrk_rps "$out") resp/s, $(wrk_errors "$out") errors"
}

# Latency at a fixed offered rate. h2load has no request-rate option, so each
# of the LAT_CONNS clients follows a timing script (one request every
# LAT_CONNS/LAT_RATE s), and -r 1 --rate-period staggers the clients' starts
# by 1/LAT_RATE s so that requests arrive evenly spaced, not in bursts.
# The first LAT_WARM seconds are dropped; percentiles come from h2load's
# per-request log.
measure_latency() {
  set_req "$1"; CUR_TARGET=$REQ_PROC; alive "$REQ_PROC"
  local t=$1 port=${PORT[$REQ_PROC]} script=$TMP/timing_$1.txt log=$TMP/h2load_$1_r$ROUND.tsv out
  local per_client=$(( (LAT + LAT_WARM) * LAT_RATE / LAT_CONNS ))
  local interval_ms stagger_ms cpu0
  interval_ms=$(python3 -c "print(1000 * $LAT_CONNS / $LAT_RATE)")
  stagger_ms=$(python3 -c "print(max(1, round(1000 / $LAT_RATE)))")
  python3 -c "
for i in range($per_client): print(f'{i * $interval_ms:.3f}\thttp://127.0.0.1:$port$REQ_PATH')" >"$script"
  wait_idle
  cpu0=$(cpu_busy_idle)
  out=$(timeout $((LAT + LAT_WARM + 60)) h2load --h1 -t 1 -c "$LAT_CONNS" -r 1 --rate-period="${stagger_ms}ms" \
        --timing-script-file="$script" -d "$REQ_BODY" -H 'Content-Type: application/json' \
        "${REQ_AUTH[@]}" --log-file="$log" "http://127.0.0.1:$port$REQ_PATH" 2>&1) ||
    { echo "$out" >&2; die "h2load failed"; }
  record "$t" lat_machine_busy_pct "$(busy_pct "$cpu0" "$(cpu_busy_idle)")"
  python3 - "$log" "$LAT_WARM" "$LAT" "$t" "$ROUND" >>"$RAW" <<'PY'
import sys
log, warm, dur, target, rnd = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = [l.split("\t") for l in open(log) if l.strip()]
t0 = min(int(r[0]) for r in rows)
keep = [r for r in rows if int(r[0]) >= t0 + warm * 1e6]
ok = sorted(int(r[2]) for r in keep if r[1] == "200")
def pct(p):
    return ok[min(len(ok) - 1, int(p * len(ok)))] if ok else -1
for k, v in (("lat_p50_us", pct(0.50)), ("lat_p99_us", pct(0.99)), ("lat_rate", round(len(keep) / dur, 1)),
             ("lat_failed", len(keep) - len(ok))):
    print(f"{rnd}\t{target}\t{k}\t{v}")
PY
  log "  $t latency: $(awk -F'\t' -v t="$t" -v r="$ROUND" '$1==r && $2==t && $3 ~ /^lat_/ {printf "%s=%s ", $3, $4}' "$RAW")"
}

measure_ttfb() {
  CUR_TARGET=$1; alive "$1"
  local t=$1 out k v cpu0
  wait_idle
  cpu0=$(cpu_busy_idle)
  out=$("$TMP/ttfb_probe" 127.0.0.1 "${PORT[$t]}" "$CHAT_PATH" "$BODY_STREAM" "Bearer $CLIENT_KEY" "$TTFB_N" 10) ||
    die "$t: ttfb probe failed: $out"
  record "$t" ttfb_machine_busy_pct "$(busy_pct "$cpu0" "$(cpu_busy_idle)")"
  for kv in $out; do
    k=${kv%%=*}; v=${kv#*=}
    case $k in
      first_p50_us) record "$t" ttfb_p50_us "$v" ;;
      first_p90_us) record "$t" ttfb_p90_us "$v" ;;
      hdr_p50_us) record "$t" ttfb_hdr_p50_us "$v" ;;
      events) record "$t" stream_events "$v" ;;
    esac
  done
  log "  $t first chunk: $out"
}

# Memory with IDLE_CONNS idle keep-alive client connections, each of which has
# carried one real request.
measure_idle_conns() {
  CUR_TARGET=$1; alive "$1"
  local t=$1 out=$TMP/idle_$1.out fifo=$TMP/idle_$1.fifo pid before after i
  before=$(rss_kb "$t")
  mkfifo "$fifo"
  python3 "$BENCH/idle_conns.py" 127.0.0.1 "${PORT[$t]}" "$CHAT_PATH" "$BODY_CHAT" "Bearer $CLIENT_KEY" "$IDLE_CONNS" <"$fifo" >"$out" 2>&1 &
  pid=$!; PIDS+=($pid)
  exec 9>"$fifo"
  for i in $(seq 1200); do
    grep -q '^ready' "$out" && break
    kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; die "idle_conns.py failed"; }
    sleep 0.1
  done
  grep -q '^ready' "$out" || die "idle_conns.py did not get ready in 120 s"
  sleep 1
  after=$(rss_kb "$t")
  echo >&9; exec 9>&-
  wait "$pid" || true
  record "$t" rss_pre_conns_kb "$before"
  record "$t" rss_conns_kb "$after"
  record "$t" conns_opened "$(awk '/^ready/ {print $2}' "$out")"
  record "$t" conns_ok "$(awk '/^ready/ {print $3}' "$out")"
  record "$t" conns_alive "$(awk '/^alive/ {print $2}' "$out")"
  log "  $t idle conns: $(head -1 "$out"), $(tail -1 "$out"); RSS $before -> $after KiB"
}

# ------------------------------------------------------------------ run ---
IFS=, read -r -a TLIST <<<"$TARGETS"
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
start_mock
for t in "${TLIST[@]}"; do
  case $t in
    direct) ;;
    nginx) start_nginx nginx ;;
    switchyard) if [ "$FAKE_SY" = 1 ]; then start_nginx switchyard; else start_switchyard; fi ;;
    *) die "unknown target $t" ;;
  esac
done
sleep 1
for t in "${TLIST[@]}"; do
  record "$t" rss_idle_kb "$(rss_kb "$t")"
  check_target "$t"
done
# The load targets: the processes, plus Switchyard's translated path right
# beside its passthrough (so the two stay back to back in every round).
MOCK_USAGE=none TR_EVENTS=None  # (set by check_translated; Python literals for meta.json)
LOAD_T=()
for t in "${TLIST[@]}"; do
  LOAD_T+=("$t")
  if [ "$t" = switchyard ] && [ "$TRANSLATION" = 1 ]; then LOAD_T+=(translated); fi
done
if [ "$TRANSLATION" = 1 ]; then check_translated; fi

log "memory: $IDLE_CONNS idle keep-alive connections per target"
for t in "${TLIST[@]}"; do measure_idle_conns "$t"; done

for ROUND in $(seq "$ROUNDS"); do
  order=("${LOAD_T[@]}")
  if [ $((ROUND % 2)) = 0 ]; then  # alternate the order to cancel drift
    order=(); for ((i = ${#LOAD_T[@]} - 1; i >= 0; i--)); do order+=("${LOAD_T[$i]}"); done
  fi
  log "round $ROUND/$ROUNDS: throughput (${TPUT}s, $CONNS conns, after ${WARM}s warm-up)"
  for t in "${order[@]}"; do measure_throughput "$t"; done
  log "round $ROUND/$ROUNDS: latency at $LAT_RATE req/s on $LAT_CONNS conns (${LAT}s + ${LAT_WARM}s warm-up)"
  for t in "${order[@]}"; do measure_latency "$t"; done
  log "round $ROUND/$ROUNDS: streaming, 50 chunks (${STREAM}s, $CONNS conns)"
  for t in "${order[@]}"; do measure_stream "$t"; done
  log "round $ROUND/$ROUNDS: time to first chunk ($TTFB_N sequential requests)"
  for t in "${order[@]}"; do [ "$t" = translated ] || measure_ttfb "$t"; done
done
sleep 1
for t in "${TLIST[@]}"; do record "$t" rss_after_load_kb "$(rss_kb "$t")"; done

# Soak: constant moderate load on the gateway, RSS sampled every 10 s.
SOAK_JSON=null
if [ "$SOAK" -gt 0 ] && [[ " ${TLIST[*]} " == *" switchyard "* ]]; then
  log "soak: ${SOAK}s at $SOAK_RATE req/s + $SOAK_STREAM_RATE streams/s on switchyard"
  port=${PORT[switchyard]}
  python3 -c "
for i in range($SOAK * $SOAK_RATE // 8): print(f'{i * 8000 / $SOAK_RATE:.3f}\thttp://127.0.0.1:$port$CHAT_PATH')" >"$TMP/soak_chat.txt"
  python3 -c "
for i in range($SOAK * $SOAK_STREAM_RATE // 2): print(f'{i * 2000 / $SOAK_STREAM_RATE:.3f}\thttp://127.0.0.1:$port$CHAT_PATH')" >"$TMP/soak_stream.txt"
  h2load --h1 -t 1 -c 8 -r 1 --rate-period="$(python3 -c "print(max(1, round(1000 / $SOAK_RATE)))")ms" \
    --timing-script-file="$TMP/soak_chat.txt" -d "$BODY_CHAT" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $CLIENT_KEY" "http://127.0.0.1:$port$CHAT_PATH" >"$TMP/soak_chat.out" 2>&1 &
  s1=$!; PIDS+=($s1)
  h2load --h1 -t 1 -c 2 --timing-script-file="$TMP/soak_stream.txt" -d "$BODY_STREAM" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $CLIENT_KEY" "http://127.0.0.1:$port$CHAT_PATH" >"$TMP/soak_stream.out" 2>&1 &
  s2=$!; PIDS+=($s2)
  samples=()
  start=$SECONDS
  while kill -0 $s1 2>/dev/null || kill -0 $s2 2>/dev/null; do
    sleep 10
    [ $((SECONDS - start)) -gt $((SOAK + 60)) ] && { log "soak overran; stopping"; kill $s1 $s2 2>/dev/null || true; break; }
    samples+=("$(rss_kb switchyard)")
    log "  soak t=$((SECONDS - start))s RSS ${samples[-1]} KiB"
  done
  wait $s1 || true; wait $s2 || true
  SOAK_JSON=$(python3 - "$SOAK" "$SOAK_RATE" "$SOAK_STREAM_RATE" "$TMP/soak_chat.out" "$TMP/soak_stream.out" "${samples[@]}" <<'PY'
import json, re, sys
secs, rate, srate, f1, f2 = sys.argv[1:6]
samples = [float(x) for x in sys.argv[6:]] or [0.0]
req = failed = 0
for f in (f1, f2):
    m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", open(f).read())
    if m:
        req += int(m.group(1)); failed += int(m.group(1)) - int(m.group(2))
print(json.dumps({"seconds": int(secs), "rate": int(rate), "stream_rate": int(srate), "samples_kb": samples,
                  "rss_first_kb": samples[0], "rss_last_kb": samples[-1], "rss_max_kb": max(samples),
                  "requests": req, "failed": failed}))
PY
)
fi

# --------------------------------------------------------------- report ---
TS=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH/results"
MACHINE="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo) GiB RAM, Linux $(uname -r)"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && COMMIT="$COMMIT (dirty tree)"
COMMIT=${BENCH_COMMIT:-$COMMIT}
TOOLS="$(nginx -v 2>&1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); h2load $(h2load --version | awk '{print $NF}')"
python3 - "$TMP/meta.json" "$MACHINE" "$COMMIT" "$TOOLS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$SOAK_JSON" <<PY
import json, sys
out, machine, commit, tools, loadavg_end, soak = sys.argv[1:7]
meta = {
  "timestamp": "$TS", "mode": "quick" if $QUICK else "full", "rounds": $ROUNDS,
  "machine": machine, "commit": commit, "tools": tools,
  "threads": $THREADS, "mock_threads": $MOCK_THREADS, "wrk_threads": $WRK_THREADS, "conns": $CONNS,
  "lat_rate": $LAT_RATE, "lat_conns": $LAT_CONNS, "idle_conns": $IDLE_CONNS,
  "durations_s": {"warmup": $WARM, "throughput": $TPUT, "latency": $LAT, "latency_warmup": $LAT_WARM, "stream": $STREAM},
  "ttfb_requests": $TTFB_N, "nice": $NICE, "build": "$BUILD_TYPE", "targets": "$TARGETS".split(","), "fake_switchyard": bool($FAKE_SY),
  "loadavg_start": "$LOADAVG_START", "loadavg_end": loadavg_end, "soak": json.loads(soak),
  "translation": bool($TRANSLATION), "anthropic_version": "$ANTHROPIC_VERSION",
  "translated_stream_events": $TR_EVENTS, "mock_sends_stream_usage": {"1": True, "0": False}.get("$MOCK_USAGE"),
}
json.dump(meta, open(out, "w"), indent=2)
PY
python3 "$BENCH/report.py" "$RAW" "$TMP/meta.json" "$BENCH/results/$TS"
cp "$RAW" "$BENCH/results/$TS.raw.tsv"
log "written bench/results/$TS.md, .json and .raw.tsv"
