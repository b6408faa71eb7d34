// Switchyard engine worker: runs one GGUF model with node-llama-cpp 3.21.1 and
// talks to the gateway over fd 3 in NDJSON. The protocol is in PROTOCOL.md.
// Nothing is written to stdout; diagnostics go to stderr, one line each.
import net from "node:net";
import readline from "node:readline";
import {
    getLlama, LlamaChat, LlamaCompletion, LlamaLogLevel, resolveChatWrapper, JinjaTemplateChatWrapper, NoBinaryFoundError
} from "node-llama-cpp";

const log = (msg) => {
    const line = String(msg).replace(/\s*\n\s*/g, " ").trim();
    if (line !== "") process.stderr.write(`worker: ${line}\n`);
};

// Specialized wrappers whose function-call syntax is the model's own (notes §9).
const NATIVE_TOOL_WRAPPERS = new Set([
    "Llama 3.1", "Llama 3.2 lightweight", "Qwen", "Mistral", "Functionary", "Harmony", "Gemma 4", "Seed",
    "DeepSeek", "Muse"
]);

class RequestError extends Error {
    constructor(code, message) {
        super(message);
        this.code = code;
    }
}

// ---- fd 3 transport ----
const io = new net.Socket({fd: 3, readable: true, writable: true});
io.on("error", (err) => {
    log(`fd 3 error: ${err.message}`);
    process.exit(0);
});
io.on("close", () => process.exit(0));
// See generate(): the longest a decided piece of text waits to be sent.
const COALESCE_MS = 5;
// A burst's prompts in one batch. node-llama-cpp dispatches queued decodes on
// the next event-loop turn, and a batch in flight holds the context until it
// is done. Requests that reach the worker together (clients that send at
// once) are each parsed, rendered and tokenized before their decode is
// queued, so the first prompt's decode started alone and the others waited
// for all of it: on a 3B model ~4 s, and 4 streams of 32 tokens ran at 0.89x
// of the same 4 started in one tick. While no request is generating yet
// (every busy sequence is on its prompt), a dispatch waits GATHER_MS for the
// rest of the burst; once any request generates, dispatches go on the next
// turn as before, so generation itself is never delayed.
const GATHER_MS = 3;
let generating = 0; // requests that have had their first token
function dispatchSchedule(dispatch) {
    if (generating === 0) setTimeout(dispatch, GATHER_MS);
    else setImmediate(dispatch);
}

const send = (obj) => {
    if (!io.destroyed) io.write(JSON.stringify(obj) + "\n");
};

process.on("unhandledRejection", (err) => log(`unhandled rejection: ${err?.stack ?? err}`));
process.on("uncaughtException", (err) => {
    log(`uncaught exception: ${err?.stack ?? err}`);
    process.exit(1);
});

// ---- state ----
let llama, model, context, embedContext, wrapper, toolsSupported = false;
let loaded = null; // Promise resolved when the model is ready
const slots = []; // {seq, chat, completion, busy, session, used}
const waiters = [];
const aborts = new Map(); // id -> AbortController
let clock = 0;

// ---- load ----
async function load(req) {
    const gpu = {cpu: false, cuda: "cuda", vulkan: "vulkan", metal: "metal", auto: "auto"}[req.device ?? "cpu"];
    if (gpu === undefined) throw new Error(`unknown device "${req.device}"`);
    const fa = req.flash_attention ?? "auto";
    if (!["auto", "on", "off"].includes(fa)) throw new Error(`unknown flash_attention "${fa}"`);
    const threads = Math.max(1, req.threads | 0 || 1);
    const parallel = Math.max(1, req.parallel | 0 || 1);
    const t0 = Date.now();
    llama = await getLlama({
        gpu, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.warn,
        logger: (level, message) => log(`[llama ${level}] ${message}`), maxThreads: threads
    });
    const ctxSize = req.context_size > 0 ? req.context_size : undefined;
    model = await llama.loadModel({
        modelPath: req.model_path,
        gpuLayers: gpu === false ? 0 : {fitContext: {contextSize: ctxSize ? ctxSize * parallel : undefined,
            embeddingContext: !!req.embedding}},
        onLoadProgress: (p) => send({ev: "progress", progress: Math.round(p * 1000) / 1000})
    });
    const contextSize = ctxSize ?? model.trainContextSize;
    const batchSize = req.batch_size > 0 ? req.batch_size : undefined;
    // node-llama-cpp 3.21.1 leaves flash attention to llama.cpp ("auto"),
    // which turns it on for the CPU too, where it is the slower kernel: a
    // 50-token follow-up at ~1000 tokens of context takes 1.3-1.6x as long
    // and a generated token 1.2x (docs/benchmarks.md). So "auto" is off on
    // the CPU and llama.cpp's choice on a GPU.
    const faMode = fa === "auto" && llama.gpu === false ? "off" : fa; // on | off | auto (llama.cpp decides)
    const flashAttention = faMode === "auto" ? "auto" : faMode === "on";
    if (req.embedding) {
        embedContext = await model.createEmbeddingContext({contextSize, batchSize, threads});
    } else {
        context = await model.createContext({contextSize, sequences: parallel, batchSize, threads, flashAttention,
            batching: {dispatchSchedule}});
        wrapper = resolveChatWrapper(model);
        toolsSupported = wrapper instanceof JinjaTemplateChatWrapper
            ? wrapper.usingJinjaFunctionCallTemplate
            : NATIVE_TOOL_WRAPPERS.has(wrapper.wrapperName);
        for (let i = 0; i < context.totalSequences; i++) {
            const seq = context.getSequence();
            gateSequence(seq);
            slots.push({seq, chat: new LlamaChat({contextSequence: seq, chatWrapper: wrapper}),
                completion: null, busy: false, session: undefined, used: 0});
        }
    }
    const ready = {
        ev: "ready",
        context_size: context ? context.contextSize : embedContext._llamaContext?.contextSize ?? contextSize,
        train_context_size: model.trainContextSize,
        parallel: context ? context.totalSequences : 1,
        wrapper: wrapper?.wrapperName ?? "",
        tools: toolsSupported,
        gpu: llama.gpu,
        flash_attention: req.embedding ? "auto" : faMode,
        llama_cpp: llama.llamaCppRelease.release,
        embedding_size: model.embeddingVectorSize,
        bos: model.tokens.bosString ?? "",
        eos: model.tokens.eosString ?? ""
    };
    log(`loaded ${req.model_path} in ${Date.now() - t0} ms: llama.cpp ${ready.llama_cpp}, gpu ${ready.gpu}, ` +
        `${llama.buildType} binary, context ${ready.context_size} x ${ready.parallel}, wrapper ${ready.wrapper}, ` +
        `flash attention ${ready.flash_attention}`);
    send(ready);
}

// ---- the erase gate ----
// Reusing a sequence that holds another conversation (or the tail of an
// earlier answer) erases part of it, and node-llama-cpp 3.21.1 erases under
// the context's lock. LlamaContext.dispatchPendingBatch holds that lock for
// as long as any decode is queued, and with two or more sequences generating
// there is always one queued: a request arriving then waited until the others
// had finished (hundreds of ms on the tiny model; under steady load, without
// bound). So while an erase waits, every sequence's generation pauses before
// asking for its next token: the queue drains, the batch loop lets the lock
// go, the erase runs, and generation resumes, one decode step later. The
// wrappers go on our own sequence objects (their public evaluate, erase and
// adapt methods, which LlamaChat and LlamaCompletion call); the package itself
// is not changed.
let erasing = 0, eraseDone = null, endErase = null;

async function withEraseGate(erase) {
    if (erasing++ === 0) eraseDone = new Promise((resolve) => (endErase = resolve));
    try {
        return await erase();
    } finally {
        if (--erasing === 0) {
            eraseDone = null;
            endErase();
        }
    }
}

// The iterator's own next() while no erase waits (not a wrapping generator,
// whose extra promise hops per token would change how decodes batch).
function gatedTokens(tokens) {
    const next = tokens.next.bind(tokens);
    tokens.next = (input) => (eraseDone == null ? next(input) : eraseDone.then(() => tokens.next(input)));
    return tokens;
}

function gateSequence(seq) {
    const evaluate = seq.evaluate.bind(seq);
    const erase = seq.eraseContextTokenRanges.bind(seq);
    const adapt = seq.adaptStateToTokens.bind(seq);
    seq.evaluate = (tokens, options) => gatedTokens(evaluate(tokens, options));
    seq.eraseContextTokenRanges = (ranges) => withEraseGate(() => erase(ranges));
    seq.adaptStateToTokens = (tokens, allowShift) =>
        seq.compareContextTokens(tokens).firstDifferentIndex < seq.nextTokenIndex
            ? withEraseGate(() => adapt(tokens, allowShift))
            : adapt(tokens, allowShift);
}

// ---- request helpers ----
function samplingOptions(req) {
    const opt = {temperature: req.temperature, topK: req.top_k, topP: req.top_p, minP: req.min_p, seed: req.seed};
    const penalty = req.repeat_penalty ?? 1, freq = req.frequency_penalty ?? 0, pres = req.presence_penalty ?? 0;
    opt.repeatPenalty = (penalty === 1 && freq === 0 && pres === 0)
        ? false
        : {penalty, frequencyPenalty: freq || undefined, presencePenalty: pres || undefined, lastTokens: 64};
    if (Array.isArray(req.stop)) {
        const stops = req.stop.filter((s) => typeof s === "string" && s !== "");
        if (stops.length > 0) opt.customStopTriggers = stops;
    }
    return opt;
}

function parseJson(text, what) {
    try {
        return JSON.parse(text);
    } catch {
        throw new RequestError("invalid_request", `${what} is not valid JSON`);
    }
}

// node-llama-cpp builds a grammar from any schema but checks what the model
// wrote against its types only after generating it: a type it does not know
// ("OBJECT" in Gemini's casing, "float") would fail the request then, as an
// engine error. Checked first, as the caller's mistake.
const SCHEMA_TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);
function checkSchemaTypes(schema, where) {
    if (schema == null || typeof schema !== "object") return;
    if (Array.isArray(schema)) {
        for (const s of schema) checkSchemaTypes(s, where);
        return;
    }
    if ("type" in schema) {
        for (const t of [schema.type].flat()) {
            if (!SCHEMA_TYPES.has(t))
                throw new RequestError("invalid_request", `${where}: unknown JSON schema type ${JSON.stringify(t)}`);
        }
    }
    for (const key of ["items", "additionalProperties", "not"]) checkSchemaTypes(schema[key], where);
    for (const key of ["prefixItems", "anyOf", "oneOf", "allOf"]) checkSchemaTypes(schema[key], where);
    for (const key of ["properties", "$defs", "definitions"]) {
        if (schema[key] != null && typeof schema[key] === "object") checkSchemaTypes(Object.values(schema[key]), where);
    }
}

// Protocol messages -> node-llama-cpp chat history (+ functions).
function buildChat(req) {
    if (!Array.isArray(req.messages)) throw new RequestError("invalid_request", "messages must be an array");
    const history = [];
    if (typeof req.system === "string" && req.system !== "") history.push({type: "system", text: req.system});
    const callsById = new Map();
    for (const m of req.messages) {
        const text = typeof m.text === "string" ? m.text : "";
        if (m.role === "system") history.push({type: "system", text});
        else if (m.role === "user") history.push({type: "user", text});
        else if (m.role === "assistant") {
            const response = text !== "" ? [text] : [];
            (m.tool_calls ?? []).forEach((c, i) => {
                const call = {type: "functionCall", name: c.name, params: parseJson(c.arguments || "{}",
                    `arguments of tool call ${c.id ?? c.name}`), result: null, startsNewChunk: i === 0 || undefined};
                if (c.id != null) callsById.set(c.id, call);
                response.push(call);
            });
            history.push({type: "model", response});
        } else if (m.role === "tool") {
            const call = callsById.get(m.id) ?? history.at(-1)?.response?.find?.(
                (c) => c.type === "functionCall" && c.name === m.name && c.result === null);
            if (call == null) throw new RequestError("invalid_request", `tool result ${m.id} has no matching tool call`);
            callsById.delete(m.id);
            try {
                call.result = JSON.parse(text);
            } catch {
                call.result = text;
            }
        } else throw new RequestError("invalid_request", `unknown message role "${m.role}"`);
    }
    history.push({type: "model", response: []});
    let functions;
    if (Array.isArray(req.tools) && req.tools.length > 0) {
        if (!toolsSupported)
            throw new RequestError("invalid_request", `the chat template (${wrapper.wrapperName}) has no native tool-call syntax`);
        if (req.json_schema) throw new RequestError("invalid_request", "tools and a JSON response format cannot be combined");
        functions = {};
        for (const t of req.tools) {
            checkSchemaTypes(t.parameters, `the parameters of tool ${t.name}`);
            functions[t.name] = {description: t.description, params: t.parameters};
        }
    }
    const tokens = wrapper.generateContextState({chatHistory: history, availableFunctions: functions})
        .contextText.tokenize(model.tokenizer);
    return {history, functions, tokens};
}

// The tokens LlamaCompletion evaluates for a raw prompt (BOS + text).
function completionTokens(prompt) {
    const bos = model.tokens.shouldPrependBosToken && model.tokens.bos != null;
    const tokens = model.tokenize(prompt, false, bos ? "trimLeadingSpace" : undefined);
    return bos ? [model.tokens.bos, ...tokens] : tokens;
}

function checkFits(promptTokens) {
    // LlamaChat needs one free cell after the prompt, or it silently drops history (notes §5).
    if (promptTokens + 1 >= context.contextSize)
        throw new RequestError("context_length_exceeded",
            `the prompt is ${promptTokens} tokens; the context holds ${context.contextSize} (including at least one generated token)`);
}

function pickSlot(tokens, session) {
    const idle = slots.filter((s) => !s.busy);
    if (idle.length === 0) return null;
    let best = session != null ? idle.find((s) => s.session === session) : undefined;
    if (best == null && tokens != null) {
        let bestLen = 0;
        for (const s of idle) {
            const n = s.seq.compareContextTokens(tokens).firstDifferentIndex;
            if (n > bestLen) [best, bestLen] = [s, n];
        }
    }
    return best ?? idle.reduce((a, b) => (b.used < a.used ? b : a));
}

async function acquire(tokens, session) {
    for (;;) {
        const s = pickSlot(tokens, session);
        if (s != null) {
            Object.assign(s, {busy: true, session, used: ++clock});
            return s;
        }
        await new Promise((resolve) => waiters.push(resolve));
    }
}

function release(slot) {
    slot.busy = false;
    waiters.shift()?.();
}

const FINISH = {eogToken: "stop", stopGenerationTrigger: "stop", customStopTrigger: "stop_sequence",
    maxTokens: "length", functionCalls: "tool_calls", abort: "abort"};

// Shared by chat and complete: acquire a sequence, generate, stream, report usage.
async function generate(req, promptTokens, tokensForPick, run) {
    checkFits(promptTokens);
    const ctrl = aborts.get(req.id);
    const slot = await acquire(tokensForPick, req.session);
    const meter = slot.seq.tokenMeter.getState();
    let pendingTokens = 0, completionTokens = 0, streamed = "";
    // Text goes out at once when this request's last text event left at
    // least COALESCE_MS ago; pieces decided faster than that are gathered
    // (each kept whole in "pieces") and sent together when the time is up or
    // before "done". A write per token costs the generation loop a wake-up of
    // the gateway each time (10-20% of a fast model's speed on 2 cores); a
    // model slower than one token per COALESCE_MS is never delayed.
    let pieces = [], pieceTokens = 0, lastSent = -Infinity, flushTimer = null;
    const flush = () => {
        if (flushTimer) clearTimeout(flushTimer);
        flushTimer = null;
        if (pieces.length === 0) return;
        const text = pieces.join("");
        send(pieces.length === 1 ? {ev: "text", id: req.id, text, tokens: pieceTokens}
            : {ev: "text", id: req.id, text, pieces, tokens: pieceTokens});
        pieces = [];
        pieceTokens = 0;
        lastSent = performance.now();
    };
    const onToken = (tokens) => {
        if (completionTokens === 0 && tokens.length > 0) generating++; // its first token: see GATHER_MS
        pendingTokens += tokens.length;
        completionTokens += tokens.length;
    };
    const onTextChunk = (text) => {
        if (text === "") return;
        streamed += text;
        pieces.push(text);
        pieceTokens += pendingTokens;
        pendingTokens = 0;
        const since = performance.now() - lastSent;
        if (since >= COALESCE_MS) flush();
        else flushTimer ??= setTimeout(flush, COALESCE_MS - since);
    };
    const limit = context.contextSize - promptTokens;
    const opts = {
        ...samplingOptions(req), signal: ctrl.signal, stopOnAbortSignal: true,
        maxTokens: req.max_tokens > 0 ? Math.min(req.max_tokens, limit) : limit
    };
    let res = null;
    try {
        if (ctrl.signal.aborted) throw ctrl.signal.reason;
        res = await run(slot, opts, onToken, onTextChunk);
    } catch (err) {
        if (!ctrl.signal.aborted) {
            if (flushTimer) clearTimeout(flushTimer);
            throw err;
        }
    } finally {
        if (completionTokens > 0) generating--;
        release(slot);
    }
    flush();
    const used = slot.seq.tokenMeter.diff(meter);
    const evaluated = used.usedInputTokens + used.usedOutputTokens > 0;
    const md = res?.metadata ?? {stopReason: "abort"};
    const toolCalls = (res?.functionCalls ?? []).map((c) => ({name: c.functionName, arguments: JSON.stringify(c.params ?? {})}));
    send({
        ev: "done", id: req.id, finish: FINISH[md.stopReason] ?? "stop",
        stop_sequence: md.stopReason === "customStopTrigger"
            ? md.customStopTrigger.map((p) => (typeof p === "string" ? p : model.detokenize([p], true))).join("")
            : "",
        prompt_tokens: promptTokens,
        cached_tokens: evaluated ? Math.max(0, promptTokens - (used.usedInputTokens + 1)) : 0,
        // The meter counts every generated token; onToken misses stop-sequence tokens and dropped partial UTF-8.
        completion_tokens: Math.max(completionTokens, used.usedOutputTokens),
        text: res?.response ?? streamed,
        ...(toolCalls.length > 0 ? {tool_calls: toolCalls} : {})
    });
}

// The grammar for a `json_schema` (plain JSON for {"type":"object"} without
// properties), made once per schema text.
const grammars = new Map();
async function grammarFor(schema) {
    if (schema == null) return undefined;
    if (typeof schema !== "object") throw new RequestError("invalid_request", "json_schema must be an object");
    checkSchemaTypes(schema, "the response format's JSON schema");
    const key = JSON.stringify(schema);
    let grammar = grammars.get(key);
    if (grammar == null) {
        const plain = schema.type === "object" && schema.properties == null;
        try {
            grammar = plain ? await llama.getGrammarFor("json") : await llama.createGrammarForJsonSchema(schema);
        } catch (e) {
            throw new RequestError("invalid_request", `the JSON schema cannot be used: ${e?.message ?? e}`);
        }
        if (grammars.size > 64) grammars.clear();
        grammars.set(key, grammar);
    }
    return grammar;
}

// ---- ops ----
const ops = {
    async chat(req) {
        if (context == null) throw new RequestError("invalid_request", "an embedding model cannot chat");
        const {history, functions, tokens} = buildChat(req);
        const grammar = await grammarFor(req.json_schema);
        await generate(req, tokens.length, tokens, (slot, opts, onToken, onTextChunk) =>
            slot.chat.generateResponse(history, {...opts, onToken, onTextChunk, functions, grammar}));
    },
    async complete(req) {
        if (context == null) throw new RequestError("invalid_request", "an embedding model cannot complete");
        if (typeof req.prompt !== "string") throw new RequestError("invalid_request", "prompt must be a string");
        const grammar = await grammarFor(req.json_schema);
        const tokens = completionTokens(req.prompt);
        await generate(req, tokens.length, tokens, (slot, opts, onToken, onTextChunk) => {
            slot.completion ??= new LlamaCompletion({contextSequence: slot.seq});
            // maxTokens - 1 at the context's edge: LlamaCompletion may run one token past maxTokens when
            // the last one is an incomplete UTF-8 byte.
            return slot.completion.generateCompletionWithMeta(req.prompt, {...opts, onToken, onTextChunk, grammar,
                maxTokens: Math.min(opts.maxTokens, context.contextSize - tokens.length - 1),
                disableContextShift: true, contextShiftSize: 1});
        });
    },
    async embed(req) {
        if (embedContext == null) throw new RequestError("invalid_request", "this is a chat model, not an embedding model");
        if (!Array.isArray(req.inputs)) throw new RequestError("invalid_request", "inputs must be an array");
        const vectors = [];
        let promptTokens = 0;
        for (const input of req.inputs) {
            const n = embedContext.calculateInputLength(String(input));
            if (n >= (embedContext._llamaContext?.contextSize ?? Infinity))
                throw new RequestError("context_length_exceeded", `an input is ${n} tokens, longer than the context`);
            promptTokens += n;
            const v = (await embedContext.getEmbeddingFor(String(input))).vector;
            const norm = Math.hypot(...v) || 1;
            vectors.push(Array.from(v, (x) => x / norm));
        }
        send({ev: "embedding", id: req.id, vectors, prompt_tokens: promptTokens});
    },
    async count(req) {
        const tokens = typeof req.prompt === "string" ? completionTokens(req.prompt).length
            : context == null ? 0 : buildChat(req).tokens.length;
        send({ev: "count", id: req.id, tokens});
    },
    abort(req) {
        aborts.get(req.id)?.abort();
    }
};

async function handle(req) {
    try {
        if (!Number.isInteger(req.id)) throw new RequestError("invalid_request", "id must be an integer");
        const op = Object.hasOwn(ops, req.op) ? ops[req.op] : null;
        if (op == null) throw new RequestError("invalid_request", `unknown op "${req.op}"`);
        if (req.op === "chat" || req.op === "complete") aborts.set(req.id, new AbortController());
        await loaded;
        await op(req);
    } catch (err) {
        if (!(err instanceof RequestError)) log(`request ${req.id} (${req.op}) failed: ${err?.stack ?? err}`);
        if (req.id != null) send({ev: "error", id: req.id, code: err.code ?? "internal", message: String(err?.message ?? err)});
    } finally {
        if (req.op !== "abort") aborts.delete(req.id);
    }
}

readline.createInterface({input: io, crlfDelay: Infinity}).on("line", (line) => {
    if (line.trim() === "") return;
    let req;
    try {
        req = JSON.parse(line);
        if (req === null || typeof req !== "object" || Array.isArray(req)) throw new Error("not an object");
    } catch (err) {
        const id = /"id"\s*:\s*(-?\d+)/.exec(line)?.[1];
        if (id != null) send({ev: "error", id: Number(id), code: "invalid_request", message: `malformed line: ${err.message}`});
        else log(`malformed line ignored: ${err.message}`);
        return;
    }
    if (req.op === "load") {
        if (loaded != null) return log("duplicate load ignored");
        loaded = load(req).catch((err) => {
            log(`load failed: ${err?.stack ?? err}`);
            const message = err instanceof NoBinaryFoundError
                ? `no usable prebuilt llama.cpp binary for device "${req.device}" (NoBinaryFoundError)`
                : String(err?.message ?? err);
            io.end(JSON.stringify({ev: "load_failed", message}) + "\n", () => process.exit(1));
            return new Promise(() => {}); // requests queued behind a failed load never run
        });
        return;
    }
    if (loaded == null && req.op !== "abort") {
        if (req.id != null) send({ev: "error", id: req.id, code: "invalid_request", message: "no model loaded yet"});
        return;
    }
    handle(req);
});
io.on("end", () => process.exit(0));
