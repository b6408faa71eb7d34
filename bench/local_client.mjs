// bench/local_client.mjs: the measuring side of bench/local.sh (run it
// through local.sh, which starts the gateway and passes the settings).
//
//   node bench/local_client.mjs measure SETTINGS_JSON   rounds: throughput + sessions, gateway vs direct
//   node bench/local_client.mjs trace SETTINGS_JSON     per-token timing: worker NDJSON events vs SSE arrival
//   node bench/local_client.mjs report SETTINGS_JSON    print the summary of the results file
//
// SETTINGS_JSON: {origin, model_name, model, threads, context, parallel, tokens,
// rounds, turns, session_tokens, out, gateway_pid, trace_file, trace_rounds, note}.
// The gateway side is measured over plain HTTP with fetch; the direct side is
// bench/local_direct.mjs (node-llama-cpp in one process), forked here and
// driven by IPC. Both sides use the same prompt, sampling and max tokens, and
// alternate within each round (odd rounds gateway first, even rounds direct
// first). All times are process.hrtime (CLOCK_MONOTONIC, shared by every
// process of the machine), so worker, gateway and client timestamps compare.
import {fork, spawn} from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const [mode, settingsJson] = process.argv.slice(2);
const S = JSON.parse(settingsJson ?? "{}");

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (msg) => process.stderr.write(`${msg}\n`);

// Same sampling on both sides: greedy, fixed seed, no penalties.
const SAMPLING = {temperature: 0, seed: 42, top_k: 40, top_p: 1, min_p: 0, repeat_penalty: 1};
const SYSTEM = "You are a helpful assistant. Answer clearly and in detail.";
const PROMPT = "Explain how a bicycle stays upright while it is moving, and why it falls over when it stops. " +
    "Cover the role of steering, the trail of the front wheel, and the rider's balance, in plain words.";
// The session's user turns (turn 1 gets a per-run tag so no earlier run's cache serves it).
const TURN_TEXT = [
    "Tell me about the history of the bicycle.",
    "Who improved it in the nineteenth century?",
    "What changed with the safety bicycle?",
    "How did pneumatic tyres matter?",
    "What about gears and derailleurs?",
    "How are modern frames made?",
    "Which materials are lightest?",
    "How do disc brakes compare with rim brakes?",
    "What is the future of electric bicycles?",
    "Summarise our conversation in three sentences."
];

// ---------- statistics ----------
const median = (xs) => {
    const v = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
    if (v.length === 0) return null;
    const m = v.length >> 1;
    return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const pct = (xs, p) => {
    const v = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
    if (v.length === 0) return null;
    return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
};
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const diffs = (ts) => ts.slice(1).map((t, i) => t - ts[i]);
const r3 = (x) => (x == null ? null : Math.round(x * 1000) / 1000);

// ---------- CPU accounting from /proc (schedstat: ns on CPU, ns runnable but waiting) ----------
function threadsOf(pid) {
    const out = [];
    let tids = [];
    try {
        tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
        return out;
    }
    for (const tid of tids) {
        try {
            const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
            const comm = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
            out.push({tid: Number(tid), comm, run, wait});
        } catch {
            // gone meanwhile
        }
    }
    return out;
}
function cpuSnap(pids) {
    const snap = {};
    for (const [name, pid] of Object.entries(pids)) if (pid) snap[name] = threadsOf(pid);
    return snap;
}
// CPU ms per process between two snaps (all threads), plus each busy thread
// ("main" = the process's first thread: Node's JS thread; others by tid).
function cpuDelta(a, b, pids) {
    const out = {};
    for (const name of Object.keys(b)) {
        const before = new Map((a[name] ?? []).map((t) => [t.tid, t]));
        let run = 0, wait = 0;
        const threads = [];
        for (const t of b[name]) {
            const p = before.get(t.tid) ?? {run: 0, wait: 0};
            const dr = (t.run - p.run) / 1e6, dw = (t.wait - p.wait) / 1e6;
            run += dr;
            wait += dw;
            if (dr > 0.05) threads.push({tid: t.tid === pids[name] ? "main" : t.tid, cpu_ms: r3(dr), runq_wait_ms: r3(dw)});
        }
        threads.sort((x, y) => y.cpu_ms - x.cpu_ms);
        out[name] = {cpu_ms: r3(run), runq_wait_ms: r3(wait), threads};
    }
    return out;
}

// Waits (up to S.wait_idle seconds) for a second in which the processes that are
// not this benchmark's use under 15% of one CPU; returns what others used (in
// CPUs) in the last second looked at.
function procStatBusy() {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const ticks = 1e3 / 100; // USER_HZ is 100 on Linux: 10 ms per tick
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * ticks; // user nice system irq softirq steal, ms
}
function ownCpuMs(pids) {
    let ms = 0;
    for (const pid of Object.values(pids)) if (pid) for (const t of threadsOf(pid)) ms += t.run / 1e6;
    return ms;
}
async function waitIdle(pids) {
    const limit = (S.wait_idle ?? 0) * 1000;
    if (limit <= 0) return null;
    const t0 = now();
    let others = null;
    while (now() - t0 < limit) {
        const b0 = procStatBusy(), o0 = ownCpuMs(pids), w0 = now();
        await sleep(1000);
        others = Math.max(0, (procStatBusy() - b0) - (ownCpuMs(pids) - o0)) / (now() - w0);
        if (others < 0.15) break;
    }
    return {others_cpus: r3(others), waited_s: r3((now() - t0) / 1000)};
}

// The engine worker the gateway runs for the model (its child running a .mjs script).
function workerPid(gatewayPid) {
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid !== gatewayPid) continue;
            if (/\.m?js/.test(fs.readFileSync(`/proc/${entry}/cmdline`, "utf8"))) return Number(entry);
        } catch {
            // gone meanwhile
        }
    }
    return null;
}

// ---------- SSE over fetch ----------
// Reads an SSE body; calls onEvent({event, data}, arrivalMs) for each event,
// arrivalMs being when the bytes carrying it were read.
async function readSse(res, onEvent) {
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
        const {value, done} = await reader.read();
        const t = now();
        if (done) break;
        buf += dec.decode(value, {stream: true});
        let end;
        while ((end = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let event = "message";
            const data = [];
            for (const line of block.split("\n")) {
                if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
                else if (line.startsWith("event:")) event = line.slice(6).trim();
            }
            if (data.length) onEvent({event, data: data.join("\n")}, t);
        }
    }
    return now();
}

// One streamed OpenAI chat completion. Times are absolute ms.
async function openaiChat(messages, maxTokens, keepTimes) {
    const body = JSON.stringify({
        model: S.model_name, messages, max_tokens: maxTokens, stream: true,
        stream_options: {include_usage: true}, ...SAMPLING
    });
    const t0 = now();
    const res = await fetch(`${S.origin}/v1/chat/completions`, {
        method: "POST", headers: {"content-type": "application/json"}, body
    });
    const headersAt = now();
    if (res.status !== 200) throw new Error(`gateway answered ${res.status}: ${await res.text()}`);
    let first = null, last = null, chunks = 0, text = "", usage = null, finish = null, error = null;
    const times = keepTimes ? [] : null;
    const end = await readSse(res, ({data}, t) => {
        if (data === "[DONE]") return;
        const j = JSON.parse(data);
        if (j.error) error = j.error;
        const c = j.choices?.[0];
        const piece = c?.delta?.content;
        if (piece) {
            first ??= t;
            last = t;
            chunks++;
            text += piece;
            times?.push(t);
        }
        if (c?.finish_reason) finish = c.finish_reason;
        if (j.usage) usage = j.usage;
    });
    if (error) throw new Error(`stream error: ${JSON.stringify(error)}`);
    if (usage == null) throw new Error("no usage in the stream (stream_options.include_usage)");
    return {
        t0, headers_at: headersAt, first, last: last ?? end, end, chunks, text, finish, times,
        tokens: usage.completion_tokens, prompt_tokens: usage.prompt_tokens,
        cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? null
    };
}

// One turn of the LLM-service API (POST /chat/completions with model-name and session-id).
async function llmserviceTurn(session, prompt, maxTokens) {
    const body = JSON.stringify({
        "model-name": S.model_name, prompt, "session-id": session, "max-token": maxTokens,
        temperature: SAMPLING.temperature, "top-p": SAMPLING.top_p, "top-k": SAMPLING.top_k,
        "repeat-penalty": SAMPLING.repeat_penalty, seed: SAMPLING.seed, "system-prompt": SYSTEM
    });
    const t0 = now();
    const res = await fetch(`${S.origin}/chat/completions`, {
        method: "POST", headers: {"content-type": "application/json"}, body
    });
    if (res.status !== 200) throw new Error(`gateway answered ${res.status}: ${await res.text()}`);
    let first = null, pieces = 0, text = "", error = null;
    const end = await readSse(res, ({event, data}, t) => {
        if (event === "error") {
            error = data;
            return;
        }
        if (data !== "") first ??= t;
        pieces++;
        text += data;
    });
    if (error) throw new Error(`stream error: ${error}`);
    return {ttft_ms: first == null ? null : first - t0, total_ms: end - t0, pieces, text};
}

// ---------- the direct side ----------
function startDirect() {
    const child = fork(path.join(HERE, "local_direct.mjs"), [], {stdio: ["ignore", "inherit", "inherit", "ipc"]});
    const pending = [];
    child.on("message", (m) => pending.shift()?.resolve(m));
    child.on("exit", (code) => {
        for (const p of pending.splice(0)) p.reject(new Error(`local_direct.mjs exited (${code})`));
    });
    return {
        pid: child.pid,
        call(msg) {
            return new Promise((resolve, reject) => {
                pending.push({resolve, reject});
                child.send(msg);
            }).then((m) => {
                if (!m.ok) throw new Error(`local_direct.mjs: ${m.error}`);
                return m;
            });
        },
        async stop() {
            child.send({cmd: "exit"});
            await new Promise((r) => child.once("exit", r));
        }
    };
}

// ---------- the raw worker: engine/worker.mjs driven over its fd 3 NDJSON, no gateway ----------
// The same worker the gateway runs, spawned here with fd 3 a Unix socket pair
// (libuv makes stdio pipes with socketpair), loaded and asked exactly what the
// gateway asks (EncodeChat's fields); tokens are counted from its events.
function startRawWorker() {
    const child = spawn(process.execPath, ["--no-warnings", S.worker ?? path.join(HERE, "..", "engine", "worker.mjs")],
        {stdio: ["ignore", "ignore", "pipe", "pipe"]});
    const io = child.stdio[3];
    let stderr = "";
    child.stderr.on("data", (d) => {
        stderr = (stderr + d).slice(-4000);
    });
    const waiting = new Map(); // id -> handler(ev, t)
    let onReady = null;
    let buf = "";
    io.on("data", (d) => {
        const t = now();
        buf += d;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const ev = JSON.parse(line);
            if (ev.ev === "ready" || ev.ev === "load_failed") onReady?.(ev);
            else if (ev.id != null) waiting.get(ev.id)?.(ev, t);
        }
    });
    let nextId = 1;
    return {
        pid: child.pid,
        load() {
            return new Promise((resolve, reject) => {
                onReady = (ev) => (ev.ev === "ready" ? resolve(ev) : reject(new Error(`raw worker: ${ev.message}\n${stderr}`)));
                child.once("exit", (code) => reject(new Error(`raw worker exited (${code}): ${stderr}`)));
                io.write(JSON.stringify({op: "load", model_path: S.model, context_size: S.context, parallel: S.parallel,
                    threads: S.threads, device: "cpu", flash_attention: S.flash_attention, embedding: false}) + "\n");
            });
        },
        chat(maxTokens, keepTimes) {
            const id = nextId++;
            const t0 = now();
            return new Promise((resolve, reject) => {
                let first = null, last = null, events = 0;
                const times = keepTimes ? [] : null;
                waiting.set(id, (ev, t) => {
                    if (ev.ev === "text") {
                        first ??= t;
                        last = t;
                        events++;
                        times?.push(t);
                    } else if (ev.ev === "done") {
                        waiting.delete(id);
                        resolve({t0, first, last: last ?? t, end: t, events, times, tokens: ev.completion_tokens,
                            prompt_tokens: ev.prompt_tokens, cached_tokens: ev.cached_tokens, finish: ev.finish});
                    } else if (ev.ev === "error") {
                        waiting.delete(id);
                        reject(new Error(`raw worker: ${ev.code}: ${ev.message}`));
                    }
                });
                io.write(JSON.stringify({op: "chat", id, system: SYSTEM, messages: [{role: "user", text: PROMPT}],
                    max_tokens: maxTokens, ...SAMPLING}) + "\n");
            });
        },
        async stop() {
            io.end();
            await new Promise((r) => (child.exitCode != null ? r() : child.once("exit", r)));
        }
    };
}

async function rawThroughput(raw, streams, maxTokens, keepTimes = false) {
    const t0 = now();
    const runs = await Promise.all(Array.from({length: streams}, () => raw.chat(maxTokens, keepTimes)));
    const last = Math.max(...runs.map((r) => r.last));
    const tokens = runs.reduce((a, r) => a + r.tokens, 0);
    return {
        t0, wall_ms: last - t0, tokens, tok_s: tokens / ((last - t0) / 1000),
        streams: runs.map((r) => ({tokens: r.tokens, ttft_ms: r.first - r.t0, last_ms: r.last - t0, end_ms: r.end - t0,
            text_events: r.events, finish: r.finish, prompt_tokens: r.prompt_tokens, cached_tokens: r.cached_tokens,
            times: r.times}))
    };
}

// ---------- measurements ----------
const messages = () => [{role: "system", content: SYSTEM}, {role: "user", content: PROMPT}];

// Throughput through the gateway: `streams` concurrent requests; tok/s =
// total completion tokens / (last content chunk of any stream - first send).
async function gwThroughput(streams, maxTokens, keepTimes = false) {
    const t0 = now();
    const runs = await Promise.all(Array.from({length: streams}, () => openaiChat(messages(), maxTokens, keepTimes)));
    const last = Math.max(...runs.map((r) => r.last));
    const tokens = runs.reduce((a, r) => a + r.tokens, 0);
    return {
        t0, wall_ms: last - t0, tokens, tok_s: tokens / ((last - t0) / 1000),
        streams: runs.map((r) => ({
            tokens: r.tokens, ttft_ms: r.first - r.t0, last_ms: r.last - t0, end_ms: r.end - t0,
            headers_ms: r.headers_at - r.t0, chunks: r.chunks, finish: r.finish,
            prompt_tokens: r.prompt_tokens, cached_tokens: r.cached_tokens, times: r.times
        }))
    };
}

async function directThroughput(direct, streams, maxTokens, keepTimes = false) {
    const r = await direct.call({cmd: "throughput", streams, system: SYSTEM, user: PROMPT, max_tokens: maxTokens,
        sampling: SAMPLING, keep_times: keepTimes});
    return {
        t0: r.t0, wall_ms: r.wall_ms, tokens: r.tokens, tok_s: r.tokens / (r.wall_ms / 1000),
        streams: r.streams.map((s) => ({...s, ttft_ms: s.first_ms}))
    };
}

function turnsFor(tag, n) {
    return Array.from({length: n}, (_, i) => (i === 0 ? `[${tag}] ` : "") + TURN_TEXT[i % TURN_TEXT.length]);
}

async function gwSessionOpenai(tag) {
    const msgs = [{role: "system", content: SYSTEM}];
    const out = [];
    for (const user of turnsFor(tag, S.turns)) {
        msgs.push({role: "user", content: user});
        const r = await openaiChat(msgs, S.session_tokens, false);
        msgs.push({role: "assistant", content: r.text});
        out.push({ttft_ms: r.first == null ? null : r.first - r.t0, total_ms: r.end - r.t0, tokens: r.tokens,
            prompt_tokens: r.prompt_tokens, cached_tokens: r.cached_tokens});
    }
    return {turns: out};
}

async function gwSessionLlmservice(tag) {
    const out = [];
    const session = `bench-${tag}`.replace(/[^A-Za-z0-9._:-]/g, "-");
    for (const user of turnsFor(tag, S.turns)) out.push(await llmserviceTurn(session, user, S.session_tokens));
    return {turns: out};
}

async function directSession(direct, tag) {
    const r = await direct.call({cmd: "session", turns: turnsFor(tag, S.turns), system: SYSTEM,
        max_tokens: S.session_tokens, sampling: SAMPLING});
    return {turns: r.turns.map(({text, ...t}) => t)};
}

const strip = (r) => ({...r, streams: r.streams.map(({times, ...s}) => s)});

async function withCpu(pids, fn) {
    const a = cpuSnap(pids);
    const result = await fn();
    result.cpu = cpuDelta(a, cpuSnap(pids), pids);
    return result;
}

function loadResults() {
    try {
        return JSON.parse(fs.readFileSync(S.out, "utf8"));
    } catch {
        return null;
    }
}

function saveResults(results) {
    fs.mkdirSync(path.dirname(S.out), {recursive: true});
    fs.writeFileSync(S.out, JSON.stringify(results, null, 1) + "\n");
}

async function measure() {
    const direct = startDirect();
    const loadInfo = await direct.call({cmd: "load", model: S.model, threads: S.threads, context: S.context,
        parallel: S.parallel, flash_attention: S.flash_attention});
    say(`direct: loaded in ${loadInfo.load_ms.toFixed(0)} ms (llama.cpp ${loadInfo.llama_cpp}, wrapper ${loadInfo.wrapper}, ` +
        `context ${loadInfo.context_size} x ${loadInfo.parallel}, flash attention ${loadInfo.flash_attention})`);
    // The first gateway request loads the model in the worker.
    const t = now();
    await openaiChat(messages(), 4, false);
    say(`gateway: first request (model load included) ${(now() - t).toFixed(0)} ms`);
    let raw = null;
    if (S.raw_worker) {
        raw = startRawWorker();
        await raw.load();
    }
    const pids = {gateway: S.gateway_pid, worker: workerPid(S.gateway_pid), client: process.pid, direct: direct.pid,
        raw: raw?.pid};
    if (!pids.worker) say("warning: the gateway's engine worker process was not found; its CPU is not accounted");

    // Warm-up: every side, both shapes, short.
    for (const streams of [1, S.parallel]) {
        await gwThroughput(streams, 32);
        await directThroughput(direct, streams, 32);
        if (raw) await rawThroughput(raw, streams, 32);
    }

    const rounds = [];
    const runTag = Date.now().toString(36);
    for (let round = 1; round <= S.rounds; round++) {
        // Order: gateway and direct swap every round; the raw worker moves around them.
        const order = round % 2 === 1 ? ["gateway", "direct"] : ["direct", "gateway"];
        if (raw) order.splice((round - 1) % 3, 0, "raw");
        const idle = await waitIdle(pids);
        const r = {round, order: order.join(","), load_avg: os.loadavg()[0], idle};
        const sides = {
            gateway: async () => {
                r.gw1 = strip(await withCpu(pids, () => gwThroughput(1, S.tokens)));
                r.gw4 = strip(await withCpu(pids, () => gwThroughput(S.parallel, S.tokens)));
            },
            direct: async () => {
                r.d1 = strip(await withCpu(pids, () => directThroughput(direct, 1, S.tokens)));
                r.d4 = strip(await withCpu(pids, () => directThroughput(direct, S.parallel, S.tokens)));
            },
            raw: async () => {
                r.w1 = strip(await withCpu(pids, () => rawThroughput(raw, 1, S.tokens)));
                r.w4 = strip(await withCpu(pids, () => rawThroughput(raw, S.parallel, S.tokens)));
            }
        };
        for (const side of order) await sides[side]();
        say(`round ${round} (${r.order}, load ${r.load_avg.toFixed(1)}${idle ? `, others ${idle.others_cpus} CPU after ${idle.waited_s} s` : ""}): ` +
            `1 stream ${r.gw1.tok_s.toFixed(1)} vs ${r.d1.tok_s.toFixed(1)} tok/s (${(r.gw1.tok_s / r.d1.tok_s).toFixed(3)}x), ` +
            `${S.parallel} streams ${r.gw4.tok_s.toFixed(1)} vs ${r.d4.tok_s.toFixed(1)} tok/s (${(r.gw4.tok_s / r.d4.tok_s).toFixed(3)}x)` +
            (raw ? `; raw worker ${r.w1.tok_s.toFixed(1)}, ${r.w4.tok_s.toFixed(1)} tok/s` : ""));
        // Sessions: OpenAI API, LLM-service API, direct; order rotated per round.
        // Each turn 1 is tagged with its side and round first, so that no
        // side's turn 1 finds a longer cached prefix in another's sequence
        // (with the run's tag first, the LLM-service session reused ~10 tokens
        // of the OpenAI session's turn 1 and its turn 1 looked faster).
        const sessionSides = {
            openai: async () => {
                r.s_openai = await gwSessionOpenai(`oa${round}-${runTag}`);
            },
            llmservice: async () => {
                try {
                    r.s_llmservice = await gwSessionLlmservice(`ls${round}-${runTag}`);
                } catch (e) {
                    r.s_llmservice = {error: String(e.message ?? e)};
                }
            },
            direct: async () => {
                r.s_direct = await directSession(direct, `d${round}-${runTag}`);
            }
        };
        const sessionOrder = ["openai", "llmservice", "direct"];
        for (let i = 0; i < (round - 1) % 3; i++) sessionOrder.push(sessionOrder.shift());
        for (const side of sessionOrder) await sessionSides[side]();
        const ratio = (s) => (s?.turns ? s.turns.at(-1).ttft_ms / s.turns[0].ttft_ms : null);
        say(`round ${round} sessions (${sessionOrder.join(",")}): TTFT turn ${S.turns}/turn 1: openai ${ratio(r.s_openai)?.toFixed(2)}, ` +
            `llmservice ${r.s_llmservice?.error ? "error" : ratio(r.s_llmservice)?.toFixed(2)}, direct ${ratio(r.s_direct)?.toFixed(2)}`);
        rounds.push(r);
    }
    await direct.stop();
    await raw?.stop();
    const results = loadResults() ?? {};
    Object.assign(results, {
        when: new Date().toISOString(), settings: {...S, sampling: SAMPLING, system: SYSTEM, prompt: PROMPT},
        machine: {cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, node: process.version},
        direct_load: loadInfo, rounds
    });
    delete results.trace;
    saveResults(results);
}

// ---------- trace: worker NDJSON event times (from the trace wrapper) vs SSE arrival ----------
async function dumpWorkerTrace(pid) {
    try {
        fs.rmSync(S.trace_file, {force: true});
    } catch {
        // none
    }
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 200; i++) {
        await sleep(25);
        try {
            const text = fs.readFileSync(S.trace_file, "utf8");
            if (text.endsWith("#end\n")) return text;
        } catch {
            // not yet
        }
    }
    throw new Error("the trace wrapper did not write its trace");
}

function parseTrace(text) {
    const ops = new Map(), events = new Map();
    for (const line of text.split("\n")) {
        const [kind, t, id, name, tokens] = line.split(" ");
        if (kind === "op") ops.set(Number(id), {t: Number(t), op: name});
        else if (kind === "ev") {
            if (!events.has(Number(id))) events.set(Number(id), []);
            events.get(Number(id)).push({t: Number(t), ev: name, tokens: Number(tokens)});
        }
    }
    return {ops, events};
}

// Per-token comparison for one gateway run (streams with arrival times) against
// the worker's own events for the same requests (matched by order of the op lines).
function traceAnalysis(run, trace, idsInOrder) {
    const perStream = run.streams.map((s, i) => {
        const id = idsInOrder[i];
        const evs = (trace.events.get(id) ?? []);
        const texts = evs.filter((e) => e.ev === "text").map((e) => e.t);
        const done = evs.find((e) => e.ev === "done")?.t ?? null;
        const op = trace.ops.get(id)?.t ?? null;
        const n = Math.min(texts.length, s.times.length);
        const lat = Array.from({length: n}, (_, k) => s.times[k] - texts[k]);
        return {
            id, worker_text_events: texts.length, sse_chunks: s.times.length,
            // client send -> worker received the op line
            send_to_op_ms: op == null ? null : op - (run.t0),
            // worker: op received -> first text event written
            worker_ttft_ms: op == null || texts.length === 0 ? null : texts[0] - op,
            client_ttft_ms: s.ttft_ms,
            worker_interval_ms: {median: median(diffs(texts)), mean: mean(diffs(texts)), p90: pct(diffs(texts), 90)},
            sse_interval_ms: {median: median(diffs(s.times)), mean: mean(diffs(s.times)), p90: pct(diffs(s.times), 90)},
            worker_event_to_client_ms: {median: median(lat), p90: pct(lat, 90), p99: pct(lat, 99), max: Math.max(...lat)},
            worker_span_ms: texts.length ? texts.at(-1) - texts[0] : null,
            client_span_ms: s.times.length ? s.times.at(-1) - s.times[0] : null,
            last_text_to_done_ms: done == null || !texts.length ? null : done - texts.at(-1)
        };
    });
    return perStream;
}

function directTimes(run) {
    return run.streams.map((s) => ({
        text_events: s.times.length, ttft_ms: s.first_ms,
        interval_ms: {median: median(diffs(s.times)), mean: mean(diffs(s.times)), p90: pct(diffs(s.times), 90)},
        span_ms: s.times.at(-1) - s.times[0]
    }));
}

async function trace() {
    const direct = startDirect();
    await direct.call({cmd: "load", model: S.model, threads: S.threads, context: S.context, parallel: S.parallel,
        flash_attention: S.flash_attention});
    await openaiChat(messages(), 4, false);
    const wpid = workerPid(S.gateway_pid);
    if (!wpid) throw new Error("trace: the worker process was not found");
    const pids = {gateway: S.gateway_pid, worker: wpid, client: process.pid, direct: direct.pid};
    for (const streams of [1, S.parallel]) {
        await gwThroughput(streams, 32);
        await directThroughput(direct, streams, 32);
    }
    const out = [];
    for (let round = 1; round <= S.trace_rounds; round++) {
        for (const streams of [1, S.parallel]) {
            const r = {round, streams, idle: await waitIdle(pids)};
            const gw = async () => {
                await dumpWorkerTrace(wpid); // clears the wrapper's buffer
                const run = await withCpu(pids, () => gwThroughput(streams, S.tokens, true));
                const tr = parseTrace(await dumpWorkerTrace(wpid));
                const ids = [...tr.ops.entries()].filter(([, o]) => o.op === "chat").sort((a, b) => a[1].t - b[1].t).map(([id]) => id);
                // Streams finish in any order; match each client stream to its worker request by first-event order.
                const byFirst = [...ids].sort((a, b) => (tr.events.get(a)?.[0]?.t ?? 0) - (tr.events.get(b)?.[0]?.t ?? 0));
                const streamOrder = run.streams.map((s, i) => [i, s.times[0] ?? Infinity]).sort((a, b) => a[1] - b[1]);
                const matched = new Array(run.streams.length);
                streamOrder.forEach(([i], k) => {
                    matched[i] = byFirst[k];
                });
                r.gateway = {tok_s: run.tok_s, wall_ms: run.wall_ms, tokens: run.tokens, cpu: run.cpu,
                    per_stream: traceAnalysis(run, tr, matched)};
            };
            const d = async () => {
                const run = await withCpu(pids, () => directThroughput(direct, streams, S.tokens, true));
                r.direct = {tok_s: run.tok_s, wall_ms: run.wall_ms, tokens: run.tokens, cpu: run.cpu,
                    per_stream: directTimes(run)};
            };
            if (round % 2 === 1) {
                await gw();
                await d();
            } else {
                await d();
                await gw();
            }
            const g0 = r.gateway.per_stream[0];
            say(`trace round ${round}, ${streams} stream(s): gateway ${r.gateway.tok_s.toFixed(1)} tok/s, direct ${r.direct.tok_s.toFixed(1)} tok/s; ` +
                `token interval median: worker events ${g0.worker_interval_ms.median?.toFixed(3)} ms, SSE ${g0.sse_interval_ms.median?.toFixed(3)} ms, ` +
                `direct ${r.direct.per_stream[0].interval_ms.median?.toFixed(3)} ms; worker event -> client median ${g0.worker_event_to_client_ms.median?.toFixed(3)} ms`);
            out.push(r);
        }
    }
    await direct.stop();
    const results = loadResults() ?? {};
    results.trace = {settings: {...S}, rounds: out};
    saveResults(results);
}

// ---------- report ----------
function pad(s, n) {
    s = String(s);
    return s.length >= n ? s : s + " ".repeat(n - s.length);
}
function lpad(s, n) {
    s = String(s);
    return s.length >= n ? s : " ".repeat(n - s.length) + s;
}
const f = (x, d = 1) => (x == null ? "-" : x.toFixed(d));

function report() {
    const R = loadResults();
    if (!R?.rounds) {
        say("no results");
        process.exit(1);
    }
    const s = R.settings;
    const lines = [];
    lines.push(`Local model benchmark: ${path.basename(s.model)}, ${s.tokens} tokens/request, ${s.rounds} rounds, ` +
        `threads ${s.threads}, context ${s.context} x ${s.parallel} sequences, CPU, ${s.priority}${s.note ? `, ${s.note}` : ""}`);
    if (s.worker && !s.worker.endsWith("/engine/worker.mjs")) lines.push(`worker script: ${s.worker}`);
    lines.push(`(${R.machine.cpus} CPUs, ${R.machine.cpu_model}, Node ${R.machine.node}; load average during rounds: ` +
        `${R.rounds.map((r) => r.load_avg.toFixed(1)).join(", ")})`);
    lines.push("");
    lines.push("Throughput (tok/s = generated tokens / time from sending to the last token; medians over rounds,");
    lines.push("ratio = median of the per-round ratios; target >= 0.95x)");
    const hasRaw = R.rounds.every((r) => r.w1);
    lines.push(`  ${pad("streams", 9)}${lpad("Switchyard", 12)}${lpad("direct", 10)}${lpad("ratio", 8)}   per round` +
        (hasRaw ? "            raw worker (NDJSON, no gateway): tok/s, /direct, Switchyard/it" : ""));
    const tp = {};
    for (const [label, gk, dk, wk] of [["1", "gw1", "d1", "w1"], [String(s.parallel), "gw4", "d4", "w4"]]) {
        const gw = median(R.rounds.map((r) => r[gk].tok_s));
        const d = median(R.rounds.map((r) => r[dk].tok_s));
        const ratios = R.rounds.map((r) => r[gk].tok_s / r[dk].tok_s);
        tp[label] = {gateway_tok_s: gw, direct_tok_s: d, ratio: median(ratios), ratios};
        let line = `  ${pad(label, 9)}${lpad(f(gw), 12)}${lpad(f(d), 10)}${lpad(f(median(ratios), 3) + "x", 8)}   ` +
            `${pad(ratios.map((x) => x.toFixed(3)).join(" ") + (median(ratios) >= 0.95 ? " PASS" : " MISS"), 22)}`;
        if (hasRaw) {
            const w = median(R.rounds.map((r) => r[wk].tok_s));
            const wd = median(R.rounds.map((r) => r[wk].tok_s / r[dk].tok_s));
            const gwW = median(R.rounds.map((r) => r[gk].tok_s / r[wk].tok_s));
            tp[label].raw_worker_tok_s = w;
            tp[label].raw_worker_over_direct = wd;
            tp[label].gateway_over_raw_worker = gwW;
            line += ` ${f(w)}, ${f(wd, 3)}x, ${f(gwW, 3)}x`;
        }
        lines.push(line);
    }
    const tokCheck = R.rounds.map((r) => [r.gw1, r.gw4, r.d1, r.d4].map((x) => x.tokens).join("/")).join(" ");
    lines.push(`  generated tokens per measurement (gw1/gw${s.parallel}/d1/d${s.parallel}): ${tokCheck}`);
    lines.push(`  TTFT in these runs (median ms): gateway ${f(median(R.rounds.map((r) => r.gw1.streams[0].ttft_ms)), 2)}, ` +
        `direct ${f(median(R.rounds.map((r) => r.d1.streams[0].ttft_ms)), 2)} (1 stream)`);
    // Streams of a concurrent run whose first token came later than a quarter of
    // the run: they waited for other streams to end instead of being batched.
    const late = (run) => (run ? run.streams.filter((x) => x.ttft_ms != null &&
        x.ttft_ms > 0.25 * Math.max(...run.streams.map((y) => y.last_ms))).length : 0);
    const lateLine = [["Switchyard", "gw4"], ["direct", "d4"], ...(hasRaw ? [["raw worker", "w4"]] : [])].map(([label, k]) =>
        `${label} ${R.rounds.reduce((a, r) => a + late(r[k]), 0)} (max TTFT ${f(median(R.rounds.map((r) => Math.max(...r[k].streams.map((x) => x.ttft_ms)))), 1)} ms median, ` +
        `${f(Math.max(...R.rounds.map((r) => Math.max(...r[k].streams.map((x) => x.ttft_ms)))), 0)} ms worst)`).join("; ");
    lines.push(`  ${s.parallel}-stream runs, streams that started late (first token after 1/4 of the run; all rounds): ${lateLine}`);
    // CPU per generated token, by process
    const cpuPerTok = (key, proc) => median(R.rounds.map((r) => (r[key].cpu?.[proc]?.cpu_ms ?? NaN) / r[key].tokens * 1000));
    lines.push(`  CPU µs per generated token (1 stream): gateway ${f(cpuPerTok("gw1", "gateway"))}, worker ${f(cpuPerTok("gw1", "worker"))}, ` +
        `client ${f(cpuPerTok("gw1", "client"))} | direct ${f(cpuPerTok("d1", "direct"))}` +
        (hasRaw ? ` | raw worker ${f(cpuPerTok("w1", "raw"))}` : ""));
    lines.push(`  CPU µs per generated token (${s.parallel} streams): gateway ${f(cpuPerTok("gw4", "gateway"))}, worker ${f(cpuPerTok("gw4", "worker"))}, ` +
        `client ${f(cpuPerTok("gw4", "client"))} | direct ${f(cpuPerTok("d4", "direct"))}` +
        (hasRaw ? ` | raw worker ${f(cpuPerTok("w4", "raw"))}` : ""));
    const thr = (key, proc, main) => median(R.rounds.map((r) => (r[key].cpu?.[proc]?.threads ?? [])
        .filter((t) => (t.tid === "main") === main).reduce((a, t) => a + t.cpu_ms, 0) / r[key].tokens * 1000));
    for (const [label, g, d, w] of [["1 stream", "gw1", "d1", "w1"], [`${s.parallel} streams`, "gw4", "d4", "w4"]]) {
        lines.push(`  by thread, µs per token (${label}): worker JS thread ${f(thr(g, "worker", true))}, worker other threads ${f(thr(g, "worker", false))} | ` +
            `direct JS thread ${f(thr(d, "direct", true))}, direct other threads ${f(thr(d, "direct", false))}` +
            (hasRaw ? ` | raw worker JS thread ${f(thr(w, "raw", true))}, other threads ${f(thr(w, "raw", false))}` : ""));
    }
    const idles = R.rounds.map((r) => r.idle?.others_cpus).filter((x) => x != null);
    if (idles.length) lines.push(`  other processes' CPU use just before each round (CPUs): ${idles.join(", ")}`);
    lines.push("");
    lines.push(`Sessions: TTFT (ms) per turn, ${s.session_tokens} tokens per answer, median over rounds; target turn ${s.turns}/turn 1 <= 1.2x`);
    const sess = {};
    const kinds = [["OpenAI API", "s_openai"], ["LLM-service API", "s_llmservice"], ["direct", "s_direct"]];
    let header = `  ${pad("", 17)}`;
    for (let i = 1; i <= s.turns; i++) header += lpad(`t${i}`, 7);
    lines.push(header + lpad(`t${s.turns}/t1`, 9) + "   per round");
    for (const [label, key] of kinds) {
        const ok = R.rounds.filter((r) => r[key]?.turns);
        if (ok.length === 0) {
            lines.push(`  ${pad(label, 17)}error: ${R.rounds[0][key]?.error ?? "not measured"}`);
            sess[key] = {error: R.rounds[0][key]?.error ?? "not measured"};
            continue;
        }
        const perTurn = Array.from({length: s.turns}, (_, i) => median(ok.map((r) => r[key].turns[i]?.ttft_ms)));
        const ratios = ok.map((r) => r[key].turns.at(-1).ttft_ms / r[key].turns[0].ttft_ms);
        sess[key] = {ttft_ms_per_turn: perTurn, ratio: median(ratios), ratios};
        lines.push(`  ${pad(label, 17)}${perTurn.map((x) => lpad(f(x, 1), 7)).join("")}${lpad(f(median(ratios), 2) + "x", 9)}   ` +
            `${ratios.map((x) => x.toFixed(2)).join(" ")} ${median(ratios) <= 1.2 ? "PASS" : "MISS"}`);
    }
    const cached = (key) => {
        const r = R.rounds.find((x) => x[key]?.turns?.[0]?.prompt_tokens != null);
        return r ? r[key].turns.map((t) => `${t.prompt_tokens - (t.cached_tokens ?? 0)}`).join(" ") : "-";
    };
    lines.push(`  prompt tokens evaluated per turn (prompt - cached), round 1: OpenAI ${cached("s_openai")}; direct ${cached("s_direct")}`);
    if (R.trace) {
        lines.push("");
        lines.push(`Trace (worker run under a wrapper that timestamps its NDJSON lines; ${R.trace.rounds.length / 2} rounds):`);
        for (const streams of [1, s.parallel]) {
            const rs = R.trace.rounds.filter((r) => r.streams === streams);
            const g = (fn) => median(rs.flatMap((r) => r.gateway.per_stream.map(fn)));
            const d = (fn) => median(rs.flatMap((r) => r.direct.per_stream.map(fn)));
            lines.push(`  ${streams} stream(s): tok/s gateway ${f(median(rs.map((r) => r.gateway.tok_s)))} direct ${f(median(rs.map((r) => r.direct.tok_s)))}; ` +
                `text events per stream gw ${g((p) => p.worker_text_events)} / SSE chunks ${g((p) => p.sse_chunks)} / direct ${d((p) => p.text_events)}`);
            lines.push(`    token interval ms (median/mean): worker NDJSON ${f(g((p) => p.worker_interval_ms.median), 3)}/${f(g((p) => p.worker_interval_ms.mean), 3)}, ` +
                `SSE arrival ${f(g((p) => p.sse_interval_ms.median), 3)}/${f(g((p) => p.sse_interval_ms.mean), 3)}, ` +
                `direct ${f(d((p) => p.interval_ms.median), 3)}/${f(d((p) => p.interval_ms.mean), 3)}`);
            lines.push(`    worker event -> client arrival ms: median ${f(g((p) => p.worker_event_to_client_ms.median), 3)}, ` +
                `p90 ${f(g((p) => p.worker_event_to_client_ms.p90), 3)}, p99 ${f(g((p) => p.worker_event_to_client_ms.p99), 3)}; ` +
                `send -> worker got op ${f(g((p) => p.send_to_op_ms), 3)}; worker TTFT ${f(g((p) => p.worker_ttft_ms), 2)} vs client TTFT ${f(g((p) => p.client_ttft_ms), 2)} ` +
                `vs direct ${f(d((p) => p.ttft_ms), 2)}`);
        }
    }
    const text = lines.join("\n");
    process.stdout.write(text + "\n");
    R.summary = {throughput: tp, sessions: sess, text};
    saveResults(R);
}

const modes = {measure, trace, report};
if (!modes[mode]) {
    say("usage: node bench/local_client.mjs measure|trace|report SETTINGS_JSON (run bench/local.sh)");
    process.exit(2);
}
try {
    await modes[mode]();
    process.exit(0);
} catch (err) {
    say(`local_client.mjs ${mode}: ${err?.stack ?? err}`);
    process.exit(1);
}
