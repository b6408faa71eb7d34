// bench/local_direct.mjs: the "direct" side of bench/local.sh: node-llama-cpp
// 3.21.1 called in this one Node process, loaded and driven the way
// engine/worker.mjs does it (getLlama with build "never", one context of
// `parallel` sequences, one LlamaChat per sequence kept across requests, the
// sequence picked by longest cached prefix, the model's own chat template),
// without the gateway, the worker protocol or HTTP.
//
// Run by bench/local_client.mjs with child_process.fork(); commands arrive as
// IPC messages and each gets one answer:
//   {cmd:"load", model, threads, context, parallel, flash_attention}
//       -> {ok, wrapper, context_size, load_ms, llama_cpp, flash_attention}
//   {cmd:"throughput", streams, system, user, max_tokens, sampling, keep_times}
//       -> {streams:[{tokens, first_ms, last_ms, text_events, times?}], wall_ms, tokens}
//   {cmd:"session", turns:[user text...], system, max_tokens, sampling}
//       -> {turns:[{ttft_ms, total_ms, tokens, prompt_tokens, cached_tokens, text}]}
//   {cmd:"exit"}
// Times come from process.hrtime (CLOCK_MONOTONIC, the same clock in every
// process of the machine); `times` are absolute hrtime values in ms.
import path from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NLC = pathToFileURL(path.join(ROOT, "engine/node_modules/node-llama-cpp/dist/index.js")).href;
const {getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper} = await import(NLC);

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms, monotonic
const log = (msg) => process.stderr.write(`local_direct: ${msg}\n`);

let llama, model, context, wrapper;
const slots = []; // {seq, chat, busy, used}
let clock = 0;

async function load({model: modelPath, threads, context: contextSize, parallel, flash_attention: fa = "auto"}) {
    const t0 = now();
    llama = await getLlama({
        gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.warn,
        logger: (level, message) => log(`[llama ${level}] ${String(message).trim()}`), maxThreads: threads
    });
    model = await llama.loadModel({modelPath, gpuLayers: 0});
    // The worker's rule: "auto" is off on the CPU (this side always is).
    const flashAttention = fa === "on";
    context = await model.createContext({
        contextSize: contextSize > 0 ? contextSize : model.trainContextSize, sequences: parallel, threads, flashAttention
    });
    wrapper = resolveChatWrapper(model);
    for (let i = 0; i < context.totalSequences; i++) {
        const seq = context.getSequence();
        slots.push({seq, chat: new LlamaChat({contextSequence: seq, chatWrapper: wrapper}), busy: false, used: 0});
    }
    return {ok: true, wrapper: wrapper.wrapperName, context_size: context.contextSize, load_ms: now() - t0,
        llama_cpp: llama.llamaCppRelease.release, parallel: context.totalSequences,
        flash_attention: flashAttention ? "on" : "off"};
}

// The options engine/worker.mjs builds from the protocol's sampling fields.
function options(sampling, maxTokens) {
    const s = sampling ?? {};
    const penalty = s.repeat_penalty ?? 1;
    return {
        temperature: s.temperature, topK: s.top_k, topP: s.top_p, minP: s.min_p, seed: s.seed,
        repeatPenalty: penalty === 1 ? false : {penalty, lastTokens: 64},
        maxTokens
    };
}

const promptTokensOf = (history) =>
    wrapper.generateContextState({chatHistory: history}).contextText.tokenize(model.tokenizer);

// The sequence engine/worker.mjs would pick (its pickSlot without a session):
// the idle one with the longest common token prefix, else the least recently
// used; so both sides reuse the KV cache alike.
function pickSlot(tokens) {
    const idle = slots.filter((s) => !s.busy);
    let best, bestLen = 0;
    for (const s of idle) {
        const n = s.seq.compareContextTokens(tokens).firstDifferentIndex;
        if (n > bestLen) [best, bestLen] = [s, n];
    }
    best ??= idle.reduce((a, b) => (b.used < a.used ? b : a));
    Object.assign(best, {busy: true, used: ++clock});
    return best;
}

// One generateResponse on `slot` (picked when not given); token count as the
// worker counts it (onToken sum, or the sequence's token meter when higher).
async function generate(history, maxTokens, sampling, keepTimes, slot = null) {
    const t0 = now();
    const prompt = promptTokensOf(history);
    slot ??= pickSlot(prompt);
    slot.busy = true;
    const promptTokens = prompt.length;
    const meter = slot.seq.tokenMeter.getState();
    let tokens = 0, first = null, last = null, textEvents = 0;
    const times = keepTimes ? [] : null;
    let res;
    try {
        res = await slot.chat.generateResponse(history, {
            ...options(sampling, Math.min(maxTokens, context.contextSize - promptTokens)),
            onToken: (t) => {
                tokens += t.length;
            },
            onTextChunk: (text) => {
                if (text === "") return;
                const t = now();
                first ??= t;
                last = t;
                textEvents++;
                times?.push(t);
            }
        });
    } finally {
        slot.busy = false;
    }
    const end = now();
    const used = slot.seq.tokenMeter.diff(meter);
    return {
        t0, end, first, last: last ?? end, text_events: textEvents, times, slot,
        tokens: Math.max(tokens, used.usedOutputTokens),
        prompt_tokens: promptTokens,
        cached_tokens: Math.max(0, promptTokens - (used.usedInputTokens + 1)),
        stop: res.metadata.stopReason, text: res.response
    };
}

async function throughput({streams, system, user, max_tokens: maxTokens, sampling, keep_times: keepTimes}) {
    const history = () => [{type: "system", text: system}, {type: "user", text: user}, {type: "model", response: []}];
    const t0 = now();
    const runs = await Promise.all(Array.from({length: streams}, () =>
        generate(history(), maxTokens, sampling, keepTimes)));
    const last = Math.max(...runs.map((r) => r.last));
    return {
        t0, wall_ms: last - t0, tokens: runs.reduce((a, r) => a + r.tokens, 0),
        streams: runs.map((r) => ({
            tokens: r.tokens, first_ms: r.first == null ? null : r.first - t0, last_ms: r.last - t0,
            end_ms: r.end - t0, text_events: r.text_events, stop: r.stop, prompt_tokens: r.prompt_tokens,
            cached_tokens: r.cached_tokens, times: r.times
        }))
    };
}

// A conversation on one sequence (picked for its first turn as the worker
// would, then kept): each turn appends the previous answer and the next user
// message to the history, as a client of the OpenAI API would.
async function session({turns, system, max_tokens: maxTokens, sampling}) {
    const history = [{type: "system", text: system}];
    const out = [];
    let slot = null;
    for (const user of turns) {
        history.push({type: "user", text: user}, {type: "model", response: []});
        const r = await generate(history, maxTokens, sampling, false, slot);
        slot = r.slot;
        history[history.length - 1] = {type: "model", response: [r.text]};
        out.push({ttft_ms: r.first == null ? null : r.first - r.t0, total_ms: r.end - r.t0, tokens: r.tokens,
            prompt_tokens: r.prompt_tokens, cached_tokens: r.cached_tokens, stop: r.stop, text: r.text});
    }
    return {turns: out};
}

const commands = {load, throughput, session};
process.on("message", async (msg) => {
    if (msg?.cmd === "exit") {
        await context?.dispose();
        await model?.dispose();
        process.exit(0);
    }
    try {
        const fn = commands[msg?.cmd];
        if (fn == null) throw new Error(`unknown command ${msg?.cmd}`);
        process.send({ok: true, ...(await fn(msg))});
    } catch (err) {
        process.send({ok: false, error: String(err?.stack ?? err)});
    }
});
process.on("disconnect", () => process.exit(0));
if (process.send == null) {
    log("run by bench/local_client.mjs (child_process.fork), not by hand");
    process.exit(2);
}
