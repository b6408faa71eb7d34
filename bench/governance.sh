#!/usr/bin/env bash
# bench/governance.sh: what tenancy costs. Two Switchyard processes in front
# of the same mock upstream, measured in alternating rounds on this machine:
#
#   open       auth: none, store: none — the proxy alone
#   governed   a key from the store (SQLite; --store postgres: a PostgreSQL
#              started for the run), its rate limits (requests and tokens
#              per minute) and budget checked, the user's and the gateway's
#              limits, and every request's usage recorded
#
# and reports governed / open for throughput (non-streamed), streamed
# responses per second and CPU per request (medians over rounds). With
# --soak SECONDS it then holds the governed process at full load for that long,
# sampling its memory and usage queue every 10 s, and at the end counts the
# usage rows in the database against the requests the mock answered.
#
#   bench/governance.sh [--rounds 5] [--seconds 10] [--soak 600] [--no-build]
#                       [--store sqlite|postgres]
#
# With --store postgres the database's own work runs in its own processes:
# the CPU per request shown is the gateway's alone (PostgreSQL's is printed
# beside it), and the throughput is what the machine does with both.
#
# Needs wrk, python3 (scripts/setup.sh --bench). Loopback only; every process
# started here is killed on exit. Figures go to docs/benchmarks.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
ROUNDS=5 SECS=10 SOAK=0 BUILD=1 THREADS=2 CONNS=64 WRK_THREADS=2 NICE=-10 STORE=sqlite PG_PID=
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) ROUNDS=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    --soak) SOAK=$2; shift ;;
    --no-build) BUILD=0 ;;
    --conns) CONNS=$2; shift ;;
    --store) STORE=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "governance.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
case $STORE in sqlite|postgres) ;; *) echo "governance.sh: --store sqlite|postgres" >&2; exit 2 ;; esac
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
if [ "$BUILD" = 1 ]; then bash "$ROOT/scripts/build.sh" release switchyard mock_upstream >/dev/null; fi
SY=${SWITCHYARD_BIN:-$BUILD_DIR/switchyard}
MOCK=${MOCK_BIN:-$BUILD_DIR/mock_upstream}
[ "$(id -u)" = 0 ] || NICE=0
TMP=$(mktemp -d /tmp/sy-gov-bench.XXXXXX)
PIDS=()
SERVICES_DIR=
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$SERVICES_DIR" ] || bash "$ROOT/scripts/services.sh" stop "$SERVICES_DIR" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "error: $*"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_ticks() { local f; f=$(sed 's/.*) //' "/proc/$1/stat"); set -- $f; echo $((${12} + ${13})); }
# The database's CPU (--store postgres): the postmaster, its live children,
# and the children it has reaped.
pg_ticks() {
  [ -n "$PG_PID" ] || { echo 0; return; }
  local total=0 f c
  f=$(sed 's/.*) //' "/proc/$PG_PID/stat"); set -- $f; total=$((${12} + ${13} + ${14} + ${15}))
  for c in $(pgrep -P "$PG_PID"); do
    f=$(sed 's/.*) //' "/proc/$c/stat" 2>/dev/null) || continue; set -- $f; total=$((total + ${12} + ${13}))
  done
  echo "$total"
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
wait_line() {
  for _ in $(seq 150); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  cat "$1" >&2; die "timed out waiting for $2 in $1"
}
ADMIN_KEY=adm-bench-governance-0000
OPEN_KEY=unused

mport=$(free_port)
nice -n "$NICE" "$MOCK" --listen "127.0.0.1:$mport" >"$TMP/mock.log" 2>&1 &
PIDS+=($!)
wait_line "$TMP/mock.log" 'listening'

common_providers="providers:
  - id: mock
    type: openai
    base_url: http://127.0.0.1:$mport/v1
    keys:
      - id: k1
        value: sk-mock-provider-key
models:
  - name: bench
    target: mock/bench
  - name: chunks-50
    target: mock/chunks-50"

start_sy() {  # NAME CONFIG_TEXT
  local dir=$TMP/$1 port
  mkdir -p "$dir"
  printf '%s\n' "$2" >"$dir/switchyard.yaml"
  port=$(free_port)
  nice -n "$NICE" "$SY" serve --config "$dir/switchyard.yaml" --listen "127.0.0.1:$port" >"$dir/log" 2>&1 &
  PIDS+=($!)
  eval "PID_$1=$!; PORT_$1=$port"
  wait_line "$dir/log" 'switchyard listening'
}

start_sy open "server:
  auth: none
  threads: $THREADS
store: none
$common_providers"

STORE_LINE=
if [ "$STORE" = postgres ]; then
  eval "$(bash "$ROOT/scripts/services.sh" start)"
  SERVICES_DIR=$SWITCHYARD_SERVICES_DIR
  STORE_LINE="store: $SWITCHYARD_TEST_PG_URL"
  PG_PID=$(head -1 "$(find "$SERVICES_DIR" -name postmaster.pid | head -1)")
fi
start_sy governed "$STORE_LINE
server:
  auth: keys
  admin_key: $ADMIN_KEY
  threads: $THREADS
limits:
  rpm: 1000000000
  tpm: 1000000000000
pricing:
  - model: bench
    input_per_1m: 2.5
    output_per_1m: 10
  - model: chunks-50
    input_per_1m: 2.5
    output_per_1m: 10
$common_providers"

admin() { curl -sf -H "Authorization: Bearer $ADMIN_KEY" -H 'content-type: application/json' "$@"; }
user=$(admin -X POST "http://127.0.0.1:$PORT_governed/admin/users" \
  -d '{"username":"bench","budget_limit":1000000,"rpm_limit":1000000000,"tpm_limit":1000000000000}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
GOV_KEY=$(admin -X POST "http://127.0.0.1:$PORT_governed/admin/keys" \
  -d "{\"name\":\"bench\",\"user_id\":\"$user\",\"rate_limit\":1000000000,\"tpm_limit\":1000000000000,\"budget_limit\":1000000,\"budget_period\":\"monthly\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
log "mock :$mport, open :$PORT_open, governed :$PORT_governed (store key ${GOV_KEY:0:8}..., user $user)"

BODY=$TMP/body.json STREAM_BODY=$TMP/stream.json
printf '%s' '{"model":"bench","messages":[{"role":"system","content":"You are a concise assistant for a freight logistics team."},{"role":"user","content":"Summarise in two sentences why rail switchyards matter for moving goods across a continent."}],"temperature":0.7,"max_tokens":128,"user":"bench-client-01"}' >"$BODY"
printf '%s' '{"model":"chunks-50","messages":[{"role":"user","content":"Stream fifty chunks."}],"stream":true}' >"$STREAM_BODY"

run_wrk() {  # PORT KEY BODY SECONDS OUT
  SY_BENCH_BODY_FILE=$3 SY_BENCH_KEY=$2 nice -n "$NICE" timeout $(($4 + 30)) \
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${4}s" --timeout 5s -s "$BENCH/post_chat.lua" \
    "http://127.0.0.1:$1/v1/chat/completions" >"$5" 2>&1 || { cat "$5" >&2; die "wrk failed"; }
  local errors
  errors=$(awk '/Non-2xx or 3xx responses:/ {e += $NF} /Socket errors:/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10} END {print e + 0}' "$5")
  [ "$errors" = 0 ] || { cat "$5" >&2; die "wrk saw $errors errors"; }
}
wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
wrk_n() { awk '/ requests in / {print $1}' "$1"; }

RAW=$TMP/raw.tsv
measure() {  # NAME KIND(plain|stream) ROUND
  local pid port key body out c0 c1 n
  eval "pid=\$PID_$1 port=\$PORT_$1"
  key=$([ "$1" = governed ] && echo "$GOV_KEY" || echo "$OPEN_KEY")
  body=$([ "$2" = stream ] && echo "$STREAM_BODY" || echo "$BODY")
  out=$TMP/wrk_$1_$2_$3.txt
  run_wrk "$port" "$key" "$body" 2 "$out.warm"
  c0=$(cpu_ticks "$pid") p0=$(pg_ticks)
  run_wrk "$port" "$key" "$body" "$SECS" "$out"
  c1=$(cpu_ticks "$pid") p1=$(pg_ticks)
  n=$(wrk_n "$out")
  if [ "$1" = governed ] && [ -n "$PG_PID" ]; then
    log "  round $3 $1 $2: PostgreSQL's own CPU $(python3 -c "print(round(($p1 - $p0) * $TICK_US / max($n, 1), 1))") us/req"
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$3" "$1" "$2" "$(wrk_rps "$out")" \
    "$(python3 -c "print(($c1 - $c0) * $TICK_US / max($n, 1))")" >>"$RAW"
  log "  round $3 $1 $2: $(wrk_rps "$out") req/s, $(python3 -c "print(round(($c1 - $c0) * $TICK_US / max($n, 1), 1))") us CPU/req"
}

for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order=(open governed); else order=(governed open); fi
  for kind in plain stream; do
    for t in "${order[@]}"; do measure "$t" "$kind" "$r"; done
  done
done

python3 - "$RAW" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
by = {}
for r, name, kind, rps, cpu in rows:
    by.setdefault((r, kind), {})[name] = (float(rps), float(cpu))
for kind in ("plain", "stream"):
    tput = [v["governed"][0] / v["open"][0] for (r, k), v in by.items() if k == kind]
    cpu = [v["governed"][1] / v["open"][1] for (r, k), v in by.items() if k == kind]
    o = statistics.median([v["open"][0] for (r, k), v in by.items() if k == kind])
    g = statistics.median([v["governed"][0] for (r, k), v in by.items() if k == kind])
    oc = statistics.median([v["open"][1] for (r, k), v in by.items() if k == kind])
    gc = statistics.median([v["governed"][1] for (r, k), v in by.items() if k == kind])
    print(f"{kind:6s} open {o:9.0f}/s {oc:6.1f} us/req | governed {g:9.0f}/s {gc:6.1f} us/req | "
          f"throughput ratio median {statistics.median(tput):.3f} (rounds {', '.join(f'{x:.2f}' for x in tput)}) | "
          f"CPU ratio median {statistics.median(cpu):.3f} (rounds {', '.join(f'{x:.2f}' for x in cpu)})")
PY

status() { admin "http://127.0.0.1:$PORT_governed/status"; }
if [ "$SOAK" -gt 0 ]; then
  curl -sf -X POST "http://127.0.0.1:$mport/_mock/reset" >/dev/null
  before=$(status | python3 -c 'import json,sys; print(json.load(sys.stdin)["usage"]["recorded"])')
  log "soak: ${SOAK}s of full load on governed ($CONNS conns), sampling every 10 s"
  SY_BENCH_BODY_FILE=$BODY SY_BENCH_KEY=$GOV_KEY nice -n "$NICE" timeout $((SOAK + 60)) \
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"${SOAK}s" --timeout 5s -s "$BENCH/post_chat.lua" \
    "http://127.0.0.1:$PORT_governed/v1/chat/completions" >"$TMP/soak.txt" 2>&1 &
  wrk_pid=$!
  printf 't_s\trss_kb\tqueued\tspooled\tdropped\n' >"$TMP/soak.tsv"
  t=0
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 10; t=$((t + 10))
    s=$(status)
    printf '%s\t%s\t%s\n' "$t" "$(rss_kb "$PID_governed")" \
      "$(python3 -c 'import json,sys; u=json.loads(sys.argv[1])["usage"]; print("%d\t%d\t%d" % (u["queued"], u["spooled"], u["dropped"]))' "$s")" >>"$TMP/soak.tsv"
  done
  wait "$wrk_pid" || true
  grep -E 'requests in|Requests/sec|Non-2xx|Socket errors' "$TMP/soak.txt" >&2 || true
  for _ in $(seq 100); do
    q=$(status | python3 -c 'import json,sys; print(json.load(sys.stdin)["usage"]["queued"])')
    [ "$q" = 0 ] && break; sleep 0.1
  done
  sleep 1
  mock_requests=$(curl -sf "http://127.0.0.1:$mport/_mock/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"] - 1)')
  s=$(status)
  if [ "$STORE" = postgres ]; then
    rows=$(psql "$SWITCHYARD_TEST_PG_URL" -tAc 'select count(*) from usage')
  else
    rows=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute("select count(*) from usage").fetchone()[0])' "$TMP/governed/switchyard.db")
  fi
  python3 - "$TMP/soak.tsv" "$s" "$before" "$mock_requests" "$rows" <<'PY'
import json, sys
samples = [l.split("\t") for l in open(sys.argv[1]).read().split("\n")[1:] if l]
st = json.loads(sys.argv[2])["usage"]
before, mock, rows = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rss = [int(s[1]) for s in samples]
queued = [int(s[2]) for s in samples]
print(f"soak: {len(samples)} samples; RSS first {rss[0]} KiB, max {max(rss)} KiB, last {rss[-1]} KiB; "
      f"queue max {max(queued)} records; spooled {st['spooled']}, dropped {st['dropped']}")
print(f"soak: mock answered {mock} requests during the soak; the gateway recorded {st['recorded'] - before} "
      f"(in total {st['recorded']}, written {st['written']}); rows in the database: {rows} "
      f"({'all there' if rows == st['recorded'] and st['written'] == st['recorded'] else 'MISMATCH'})")
print("samples (t_s rss_kb queued):", " ".join(f"{s[0]}:{s[1]}:{s[2]}" for s in samples))
PY
fi
