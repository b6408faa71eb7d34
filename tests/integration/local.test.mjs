// Local models (type: local): GGUF files served offline by the node-llama-cpp
// worker, through every front door, the Rust LLM Inference Service's API
// (sessions, WebSocket chat), and the engine's lifecycle (load on first use,
// keep_alive, max_loaded, queue bound, crash recovery).
//
// The models are the project's tiny random-weight GGUF (build/tiny_gguf):
// "tiny" may end at any point like a real model; "endless" never emits an
// end-of-generation token, so it always runs to max_tokens (exact usage,
// long streams to cut).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import WebSocket from 'ws';
import { ROOT, SLOW_BUILD, startGateway, waitFor } from './harness.mjs';

const TINY_GGUF = path.resolve(ROOT, process.env.TINY_GGUF_BIN || 'build/tiny_gguf');
// Bounds that fail a test rather than let it hang (never what it asserts).
const LOAD_MS = SLOW_BUILD ? 60000 : 30000;

function writeModels(dir, models) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, args] of Object.entries(models)) {
    execFileSync(TINY_GGUF, ['--out', path.join(dir, `${name}.gguf`), ...args]);
  }
}

function localConfig(modelsDir, lines = [], extra = '') {
  return `# written by tests/integration/local.test.mjs
server:
  listen: 127.0.0.1:8080
  auth: none
providers:
  - id: local
    type: local
    models_dir: ${modelsDir}
    threads: 1
    device: cpu
${lines.map((l) => `    ${l}\n`).join('')}${extra}`;
}

// The worker processes the gateway runs (children running worker.mjs).
function workerPids(gatewayPid) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== gatewayPid) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('worker.mjs')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function loadedNames(origin) {
  const res = await fetch(`${origin}/api/ps`);
  assert.equal(res.status, 200);
  return (await res.json()).models.map((m) => m.name).sort();
}

async function readiness(origin) {
  const res = await fetch(`${origin}/readiness`);
  return res.json();
}

function post(origin, pathname, body, headers = {}) {
  return fetch(`${origin}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// The "data:" payloads of an SSE body, in order (multi-line data joined by \n).
function sseData(text) {
  const out = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.startsWith('data:'));
    if (lines.length) out.push(lines.map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n'));
  }
  return out;
}

describe('local models', () => {
  let dir;
  let gateway;
  let openai;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-local-'));
    writeModels(path.join(dir, 'models'), { tiny: [], endless: ['--never-end'], embed: ['--embedding'] });
    gateway = await startGateway(
      localConfig(path.join(dir, 'models'), ['parallel: 2', 'context_size: 512', 'keep_alive: -1']),
      { dir },
    );
    openai = new OpenAI({ apiKey: 'none', baseURL: gateway.baseURL, maxRetries: 0, timeout: LOAD_MS });
  });

  after(async () => {
    const result = await gateway?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(result?.code, 0, gateway?.child.output);
  });

  it('lists the folder\'s models with their GGUF facts', async () => {
    const list = await openai.models.list();
    const ids = list.data.map((m) => m.id).sort();
    assert.deepEqual(ids, ['embed', 'endless', 'tiny']);
    const tiny = list.data.find((m) => m.id === 'tiny');
    assert.equal(tiny.owned_by, 'local');
    assert.equal(tiny.context_length, 4096);

    const tags = await (await fetch(`${gateway.origin}/api/tags`)).json();
    const tag = tags.models.find((m) => m.name === 'tiny');
    assert.equal(tag.details.format, 'gguf');
    assert.equal(tag.details.family, 'llama');
    assert.equal(tag.details.quantization_level, 'F32');
    assert.ok(tag.size > 100000);

    const show = await (await post(gateway.origin, '/api/show', { model: 'tiny' })).json();
    assert.match(show.template, /im_start/);
    assert.equal(show.model_info['general.architecture'], 'llama');
    assert.equal(show.model_info['llama.context_length'], '4096');

    // The LLM service's shapes beside OpenAI's on the paths without /v1.
    const models = await (await fetch(`${gateway.origin}/models`)).json();
    assert.deepEqual([...models.models].sort(), ['embed', 'endless', 'tiny']);
    assert.equal(models.object, 'list');
    const one = await (await fetch(`${gateway.origin}/models/tiny`)).json();
    assert.equal(one.id, 'tiny');
    assert.equal(one.name, 'tiny');
    assert.equal(one.context_length, 4096);
    assert.equal(one.quantization, 'F32');
  });

  it('embeds with an embedding model: unit vectors, exact token usage; a chat model refuses', async () => {
    const res = await openai.embeddings.create({ model: 'embed', input: ['hello world', 'the test'] });
    assert.equal(res.data.length, 2);
    for (const d of res.data) {
      assert.equal(d.embedding.length, 64);
      const norm = Math.hypot(...d.embedding);
      assert.ok(Math.abs(norm - 1) < 1e-4, String(norm));
    }
    assert.ok(res.usage.prompt_tokens >= 4);
    const again = await openai.embeddings.create({ model: 'embed', input: 'hello world' });
    assert.deepEqual(again.data[0].embedding, res.data[0].embedding);
    assert.notDeepEqual(res.data[1].embedding, res.data[0].embedding);
    const show = await (await post(gateway.origin, '/api/show', { model: 'embed' })).json();
    assert.deepEqual(show.capabilities, ['embedding']);
    await assert.rejects(
      openai.embeddings.create({ model: 'tiny', input: 'x' }),
      (e) => e.status === 400,
    );
    await assert.rejects(
      openai.chat.completions.create({ model: 'embed', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
      (e) => e.status === 400,
    );
  });

  it('answers the OpenAI SDK, plain and streamed, by file name and as local/NAME', async () => {
    const plain = await openai.chat.completions.create({
      model: 'endless', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 8, temperature: 0,
    });
    assert.equal(plain.choices[0].finish_reason, 'length');
    assert.equal(plain.usage.completion_tokens, 8);
    assert.ok(plain.usage.prompt_tokens > 5);
    assert.ok(plain.choices[0].message.content.length > 0);

    const stream = await openai.chat.completions.create({
      model: 'local/endless', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 8, temperature: 0,
      stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    let finish;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        text += c.delta.content ?? '';
        if (c.finish_reason) finish = c.finish_reason;
      }
    }
    assert.equal(finish, 'length');
    assert.equal(usage.completion_tokens, 8);
    // Greedy decoding: the streamed answer is the plain one.
    assert.equal(text, plain.choices[0].message.content);
  });

  it('is deterministic: greedy decoding, and sampling with a fixed seed', async () => {
    const ask = (extra) => openai.chat.completions.create({
      model: 'endless', messages: [{ role: 'user', content: 'tell me a story' }], max_tokens: 16, ...extra,
    }).then((r) => r.choices[0].message.content);
    const [a, b] = await Promise.all([ask({ temperature: 0 }), ask({ temperature: 0 })]);
    assert.equal(a, b);
    const c = await ask({ temperature: 0 });
    assert.equal(a, c);
    const [s1, s2] = await Promise.all([ask({ temperature: 0.9, seed: 42 }), ask({ temperature: 0.9, seed: 42 })]);
    assert.equal(s1, s2);
    const s3 = await ask({ temperature: 0.9, seed: 43 });
    const s4 = await ask({ temperature: 0.9, seed: 42 });
    assert.equal(s4, s1);
    assert.notEqual(s3, s1);
  });

  it('reuses the cache of the earlier turns for a follow-up', async () => {
    const messages = [{ role: 'user', content: 'first question about the weather today' }];
    const first = await openai.chat.completions.create({ model: 'endless', messages, max_tokens: 6, temperature: 0 });
    messages.push({ role: 'assistant', content: first.choices[0].message.content });
    messages.push({ role: 'user', content: 'and tomorrow?' });
    const second = await openai.chat.completions.create({ model: 'endless', messages, max_tokens: 6, temperature: 0 });
    assert.ok(second.usage.prompt_tokens > first.usage.prompt_tokens);
    // Everything before the new turn was evaluated already.
    assert.ok(second.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens,
      JSON.stringify(second.usage));
  });

  it('stops on a stop sequence and says so', async () => {
    // Greedy: find what it says, then stop on a piece of it.
    const base = await openai.chat.completions.create({
      model: 'endless', messages: [{ role: 'user', content: 'stop test' }], max_tokens: 12, temperature: 0,
    });
    const text = base.choices[0].message.content;
    const cut = text.slice(3, 5);
    assert.ok(cut.length === 2, text);
    const stopped = await openai.chat.completions.create({
      model: 'endless', messages: [{ role: 'user', content: 'stop test' }], max_tokens: 12, temperature: 0, stop: [cut],
    });
    assert.equal(stopped.choices[0].finish_reason, 'stop');
    assert.equal(stopped.choices[0].message.content, text.slice(0, text.indexOf(cut)));
  });

  it('refuses a prompt longer than the context with a 400 that says so', async () => {
    const long = 'word '.repeat(2000);
    await assert.rejects(
      openai.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: long }], max_tokens: 4 }),
      (e) => e.status === 400 && /context/i.test(e.message),
    );
  });

  it('refuses tools on a template without a tool-call syntax', async () => {
    await assert.rejects(
      openai.chat.completions.create({
        model: 'tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4,
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      }),
      (e) => e.status === 400 && /tool/i.test(e.message),
    );
  });

  it('answers the Anthropic SDK, plain and streamed', async () => {
    const anthropic = new Anthropic({ apiKey: 'none', baseURL: gateway.origin, maxRetries: 0, timeout: LOAD_MS });
    const msg = await anthropic.messages.create({
      model: 'endless', max_tokens: 7, messages: [{ role: 'user', content: 'hi' }], temperature: 0,
    });
    assert.equal(msg.stop_reason, 'max_tokens');
    assert.equal(msg.usage.output_tokens, 7);
    const text = msg.content.map((b) => b.text).join('');
    const stream = anthropic.messages.stream({
      model: 'endless', max_tokens: 7, messages: [{ role: 'user', content: 'hi' }], temperature: 0,
    });
    let streamed = '';
    stream.on('text', (t) => { streamed += t; });
    const final = await stream.finalMessage();
    assert.equal(streamed, text);
    assert.equal(final.usage.output_tokens, 7);
  });

  it('answers the Google GenAI SDK, plain and streamed', async () => {
    const gemini = new GoogleGenAI({ apiKey: 'none', httpOptions: { baseUrl: gateway.origin, timeout: LOAD_MS } });
    const res = await gemini.models.generateContent({
      model: 'endless', contents: 'hi', config: { maxOutputTokens: 5, temperature: 0 },
    });
    assert.equal(res.candidates[0].finishReason, 'MAX_TOKENS');
    assert.equal(res.usageMetadata.candidatesTokenCount, 5);
    let streamed = '';
    for await (const chunk of await gemini.models.generateContentStream({
      model: 'endless', contents: 'hi', config: { maxOutputTokens: 5, temperature: 0 },
    })) {
      streamed += chunk.text ?? '';
    }
    assert.equal(streamed, res.text);
  });

  it('answers the Ollama SDK, plain and streamed, and shows the loaded models', async () => {
    const ollama = new Ollama({ host: gateway.origin });
    const res = await ollama.chat({
      model: 'endless', messages: [{ role: 'user', content: 'hi' }], options: { temperature: 0, num_predict: 6 },
    });
    assert.equal(res.done_reason, 'length');
    assert.equal(res.eval_count, 6);
    // Durations (ns) as the gateway saw them: clients divide by them.
    assert.ok(res.total_duration > 0 && res.eval_duration === res.total_duration, JSON.stringify(res));
    let streamed = '';
    let last;
    for await (const part of await ollama.chat({
      model: 'endless', messages: [{ role: 'user', content: 'hi' }], options: { temperature: 0, num_predict: 6 },
      stream: true,
    })) {
      streamed += part.message.content;
      last = part;
    }
    assert.equal(streamed, res.message.content);
    assert.equal(last.done, true);
    assert.ok(last.prompt_eval_duration > 0 && last.eval_duration > 0, JSON.stringify(last));
    assert.equal(last.total_duration, last.prompt_eval_duration + last.eval_duration);
    const ps = await ollama.ps();
    assert.ok(ps.models.some((m) => m.name === 'endless' && m.details.format === 'gguf'));
  });

  it('serves the LLM service\'s /completions, plain and streamed', async () => {
    const res = await post(gateway.origin, '/completions', { model: 'endless', prompt: 'Once upon', max_tokens: 6 });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.model, 'endless');
    assert.equal(body.tokens, 6);
    assert.equal(typeof body.text, 'string');

    const streamed = await post(gateway.origin, '/completions', {
      model: 'endless', prompt: 'Once upon', max_tokens: 6, temperature: 0, stream: true,
    });
    assert.equal(streamed.status, 200);
    assert.match(streamed.headers.get('content-type'), /text\/event-stream/);
    const pieces = sseData(await streamed.text());
    assert.ok(pieces.length >= 2 && pieces.length <= 6, JSON.stringify(pieces));
    // Each data: is text, not JSON.
    const greedy = await (await post(gateway.origin, '/completions', {
      model: 'endless', prompt: 'Once upon', max_tokens: 6, temperature: 0,
    })).json();
    assert.equal(pieces.join(''), greedy.text);

    // With /v1 it is OpenAI's completions API.
    const v1 = await openai.completions.create({ model: 'endless', prompt: 'Once upon', max_tokens: 6, temperature: 0 });
    assert.equal(v1.choices[0].text, greedy.text);
    assert.equal(v1.usage.completion_tokens, 6);
  });

  it('keeps LLM-service chat sessions: history, list, rollback, delete', async () => {
    const chat = (body) => post(gateway.origin, '/chat/completions', {
      'model-name': 'endless', 'max-token': 5, temperature: 0, ...body,
    });
    const first = await chat({ prompt: 'Hello!', 'session-id': 'it-session-1', 'system-prompt': 'You are terse.' });
    assert.equal(first.status, 200);
    assert.match(first.headers.get('content-type'), /text\/event-stream/);
    assert.equal(first.headers.get('x-session-id'), 'it-session-1');
    const answer1 = sseData(await first.text()).join('');
    assert.ok(answer1.length > 0);
    const second = await chat({ prompt: 'More?', 'session-id': 'it-session-1' });
    const answer2 = sseData(await second.text()).join('');

    const history = await (await fetch(`${gateway.origin}/chat/history/it-session-1`)).json();
    assert.deepEqual(history, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello!' },
      { role: 'assistant', content: answer1 },
      { role: 'user', content: 'More?' },
      { role: 'assistant', content: answer2 },
    ]);
    const sessions = await (await fetch(`${gateway.origin}/sessions`)).json();
    assert.ok(sessions.includes('it-session-1'));

    // A session without an id gets one, and the default system prompt.
    const fresh = await chat({ prompt: 'Hi' });
    const id = fresh.headers.get('x-session-id');
    await fresh.text();
    assert.ok(id);
    const freshHistory = await (await fetch(`${gateway.origin}/chat/history/${id}`)).json();
    assert.deepEqual(freshHistory[0], { role: 'system', content: 'You are a helpful AI assistant.' });

    const rolled = await post(gateway.origin, '/chat/history/it-session-1/rollback', { amount: 2 });
    assert.equal(rolled.status, 200);
    assert.deepEqual(await rolled.json(), { status: 'ok' });
    const after = await (await fetch(`${gateway.origin}/chat/history/it-session-1`)).json();
    assert.equal(after.length, 3);
    assert.equal(after[2].content, answer1);

    const deleted = await fetch(`${gateway.origin}/chat/history/${id}`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    const gone = await fetch(`${gateway.origin}/chat/history/${id}`);
    assert.equal(gone.status, 404);
    assert.match((await gone.json()).error, /not found/);

    const bad = await chat({ prompt: 'x', 'top-p': 7 });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /top-p/);
  });

  it('chats over WebSocket: pieces as frames, an empty frame at the end, errors as __ERROR__', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/chat/ws`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const frames = [];
    let ended;
    const done = new Promise((resolve) => { ended = resolve; });
    ws.on('message', (data) => {
      const text = data.toString();
      frames.push(text);
      if (text === '' || text.startsWith('__ERROR__')) ended();
    });
    ws.send(JSON.stringify({ 'model-name': 'endless', prompt: 'Hello!', 'session-id': 'ws-1', 'max-token': 5, temperature: 0 }));
    await done;
    assert.equal(frames.at(-1), '');
    const text = frames.slice(0, -1).join('');
    assert.ok(frames.length >= 3, JSON.stringify(frames));
    const history = await (await fetch(`${gateway.origin}/chat/history/ws-1`)).json();
    assert.equal(history.at(-1).content, text);

    frames.length = 0;
    const failed = new Promise((resolve) => { ended = resolve; });
    ws.send(JSON.stringify({ 'model-name': 'no-such-model', prompt: 'x' }));
    await failed;
    assert.equal(frames.length, 1);
    assert.match(frames[0], /^__ERROR__:.*no-such-model/);
    ws.close();
  });

  it('gives a stream cut by an engine crash its error at once; the next request works', async () => {
    const stream = await openai.chat.completions.create({
      model: 'endless', messages: [{ role: 'user', content: 'a long answer please' }], max_tokens: 3000, stream: true,
    });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    const pids = workerPids(gateway.pid);
    assert.ok(pids.length >= 1, 'no worker process found');
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await assert.rejects(async () => {
      for (;;) {
        const next = await it.next();
        if (next.done) throw new Error('the stream ended without an error');
      }
    }, (e) => /engine|stopped/i.test(String(e.message)));
    const again = await openai.chat.completions.create({
      model: 'endless', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3,
    });
    assert.equal(again.usage.completion_tokens, 3);
  });
});

describe('local model tool calls', () => {
  // "caller" (tiny_gguf --tool-calls) has Qwen2.5's tool template and starts
  // every answer with the opening of a call; the engine completes the call
  // under its grammar: a declared function, arguments that fit its schema.
  let dir;
  let gateway;
  let openai;
  // A fresh copy per request: the Gemini SDK rewrites a schema's types in
  // place ("object" -> "OBJECT").
  const weather = () => ({
    name: 'get_weather',
    description: 'Current weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] }, unit: { type: 'string', enum: ['C', 'F'] } },
      required: ['city', 'unit'],
    },
  });
  const question = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const checkArguments = (args) => {
    assert.ok(['Paris', 'Oslo'].includes(args.city), JSON.stringify(args));
    assert.ok(['C', 'F'].includes(args.unit), JSON.stringify(args));
    assert.deepEqual(Object.keys(args).sort(), ['city', 'unit']);
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-local-'));
    writeModels(path.join(dir, 'models'), { caller: ['--tool-calls'] });
    gateway = await startGateway(localConfig(path.join(dir, 'models'), ['context_size: 2048', 'keep_alive: -1']), { dir });
    openai = new OpenAI({ apiKey: 'none', baseURL: gateway.baseURL, maxRetries: 0, timeout: LOAD_MS });
  });

  after(async () => {
    const result = await gateway?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(result?.code, 0, gateway?.child.output);
  });

  it('generates a call through the OpenAI SDK and takes its result back', async () => {
    const res = await openai.chat.completions.create({
      model: 'caller', messages: question, max_tokens: 64, temperature: 0,
      tools: [{ type: 'function', function: weather() }],
    });
    const choice = res.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length >= 1, true);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.match(call.id, /^call_/);
    checkArguments(JSON.parse(call.function.arguments));
    assert.ok(res.usage.completion_tokens > 0);

    // The call and its result go back into the history: rendered by the
    // template (the prompt grows by both) and answered.
    const next = await openai.chat.completions.create({
      model: 'caller', max_tokens: 64, temperature: 0, tools: [{ type: 'function', function: weather() }],
      messages: [...question, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' }],
    });
    assert.ok(next.usage.prompt_tokens > res.usage.prompt_tokens + 10, JSON.stringify([res.usage, next.usage]));
    assert.equal(next.choices[0].finish_reason, 'tool_calls');
  });

  it('streams the call as tool_calls deltas', async () => {
    const stream = await openai.chat.completions.create({
      model: 'caller', messages: question, max_tokens: 64, temperature: 0, stream: true,
      tools: [{ type: 'function', function: weather() }],
    });
    let name = '';
    let args = '';
    let finish;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      for (const d of choice.delta?.tool_calls ?? []) {
        if (d.index !== 0) continue;
        name += d.function?.name ?? '';
        args += d.function?.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.equal(name, 'get_weather');
    checkArguments(JSON.parse(args));
  });

  it('generates the call through the Anthropic, Gemini and Ollama SDKs', async () => {
    const anthropic = new Anthropic({ apiKey: 'none', baseURL: gateway.origin, maxRetries: 0, timeout: LOAD_MS });
    const msg = await anthropic.messages.create({
      model: 'caller', max_tokens: 64, temperature: 0, messages: question,
      tools: [{ name: 'get_weather', description: weather().description, input_schema: weather().parameters }],
    });
    assert.equal(msg.stop_reason, 'tool_use');
    const use = msg.content.find((b) => b.type === 'tool_use');
    assert.equal(use.name, 'get_weather');
    checkArguments(use.input);

    const genai = new GoogleGenAI({ apiKey: 'none', httpOptions: { baseUrl: gateway.origin, timeout: LOAD_MS } });
    const gem = await genai.models.generateContent({
      model: 'caller', contents: 'What is the weather in Paris?',
      config: { maxOutputTokens: 64, temperature: 0, tools: [{ functionDeclarations: [weather()] }] },
    });
    const fc = gem.functionCalls?.[0];
    assert.equal(fc?.name, 'get_weather', JSON.stringify(gem));
    checkArguments(fc.args);

    const ollama = new Ollama({ host: gateway.origin });
    const chat = await ollama.chat({
      model: 'caller', messages: question, options: { temperature: 0, num_predict: 64 },
      tools: [{ type: 'function', function: weather() }],
    });
    const oc = chat.message.tool_calls?.[0];
    assert.equal(oc?.function.name, 'get_weather', JSON.stringify(chat));
    checkArguments(oc.function.arguments);
  });

  it('refuses a schema type the engine does not know with a 400 that names the tool', async () => {
    const bad = weather();
    bad.parameters.properties.city.type = 'STRING';
    const res = await post(gateway.origin, '/api/chat', {
      model: 'caller', stream: false, messages: question, tools: [{ type: 'function', function: bad }],
    });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /get_weather.*"STRING"/);
    await assert.rejects(
      openai.chat.completions.create({
        model: 'caller', messages: question, max_tokens: 4,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'float' } } },
      }),
      (e) => e.status === 400 && /"float"/.test(e.message),
    );
  });

  it('says the template has tools in /api/show', async () => {
    const res = await post(gateway.origin, '/api/show', { model: 'caller' });
    assert.equal(res.status, 200);
    const show = await res.json();
    assert.match(show.template, /<tool_call>/);
  });
});

describe('local model sessions survive a restart', () => {
  it('keeps history in the store (SQLite by default)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-local-'));
    writeModels(path.join(dir, 'models'), { endless: ['--never-end'] });
    const config = localConfig(path.join(dir, 'models'));
    try {
      let gateway = await startGateway(config, { dir });
      const res = await post(gateway.origin, '/chat/completions', {
        'model-name': 'endless', prompt: 'remember me', 'session-id': 'restart-1', 'max-token': 4,
      });
      const answer = sseData(await res.text()).join('');
      assert.equal((await gateway.stop()).code, 0);
      gateway = await startGateway(config, { dir });
      const history = await (await fetch(`${gateway.origin}/chat/history/restart-1`)).json();
      assert.deepEqual(history.slice(1), [
        { role: 'user', content: 'remember me' },
        { role: 'assistant', content: answer },
      ]);
      assert.equal((await gateway.stop()).code, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('local model lifecycle', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-local-'));
    writeModels(path.join(dir, 'models'), { a: ['--never-end'], b: ['--never-end', '--seed', '2'] });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const ask = (origin, model, max = 3) => new OpenAI({ apiKey: 'none', baseURL: `${origin}/v1`, maxRetries: 0, timeout: LOAD_MS })
    .chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: max });

  it('unloads after keep_alive idle and loads again on the next request', async () => {
    const gateway = await startGateway(localConfig(path.join(dir, 'models'), ['keep_alive: 1s']), { dir });
    try {
      assert.deepEqual(await loadedNames(gateway.origin), []);
      await ask(gateway.origin, 'a');
      assert.deepEqual(await loadedNames(gateway.origin), ['a']);
      const unloaded = await waitFor(async () => (await loadedNames(gateway.origin)).length === 0, 15000, 100);
      assert.ok(unloaded, 'still loaded after keep_alive');
      assert.equal(workerPids(gateway.pid).length, 0);
      const again = await ask(gateway.origin, 'a');
      assert.equal(again.usage.completion_tokens, 3);
      assert.equal((gateway.child.output.match(/model a: loading \(/g) ?? []).length, 2);
      // flash_attention: auto (the default) is off on the CPU.
      assert.match(gateway.child.output, /model a: ready \([^)]*, CPU, flash attention off/);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it('keeps at most max_loaded models, unloading the least recently used', async () => {
    const gateway = await startGateway(
      localConfig(path.join(dir, 'models'), ['max_loaded: 1', 'flash_attention: on']), { dir });
    try {
      await ask(gateway.origin, 'a');
      assert.deepEqual(await loadedNames(gateway.origin), ['a']);
      await ask(gateway.origin, 'b');
      assert.deepEqual(await loadedNames(gateway.origin), ['b']);
      assert.equal(workerPids(gateway.pid).length, 1);
      await ask(gateway.origin, 'a');
      assert.deepEqual(await loadedNames(gateway.origin), ['a']);
      assert.match(gateway.child.output, /model a: unloading to make room for b/);
      assert.match(gateway.child.output, /model b: ready \([^)]*, CPU, flash attention on/);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it('queues beyond parallel up to max_queue, then answers 503 with Retry-After', async () => {
    const gateway = await startGateway(
      localConfig(path.join(dir, 'models'), ['parallel: 1', 'max_queue: 1', 'keep_alive: -1']), { dir });
    try {
      await ask(gateway.origin, 'a', 1);  // loaded
      const client = new OpenAI({ apiKey: 'none', baseURL: gateway.baseURL, maxRetries: 0, timeout: LOAD_MS });
      const long = () => client.chat.completions.create({
        model: 'a', messages: [{ role: 'user', content: 'go on' }], max_tokens: 2500, stream: true,
      });
      const running = await long();
      const it = running[Symbol.asyncIterator]();
      assert.equal((await it.next()).done, false);  // generating: the one sequence is taken
      const queued = long();
      const waiting = await waitFor(async () => (await readiness(gateway.origin)).models.find((m) => m.name === 'a')?.queued === 1, 10000);
      assert.ok(waiting, JSON.stringify(await readiness(gateway.origin)));
      const refused = await post(gateway.origin, '/v1/chat/completions', {
        model: 'a', messages: [{ role: 'user', content: 'one more' }], max_tokens: 2,
      });
      assert.equal(refused.status, 503);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.match((await refused.json()).error.message, /busy/);
      // The queued one runs once the first is done.
      await running.controller.abort();
      const second = await queued;
      const it2 = second[Symbol.asyncIterator]();
      assert.equal((await it2.next()).done, false);
      await second.controller.abort();
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it('starts a new conversation at once while other sequences are generating', async () => {
    // Reusing a sequence that holds another conversation erases it under
    // node-llama-cpp's context lock, which its batch loop keeps while two or
    // more sequences generate; without the worker's erase gate the short
    // request below waited for both long streams to finish.
    const gateway = await startGateway(
      localConfig(path.join(dir, 'models'), ['parallel: 3', 'keep_alive: -1']), { dir });
    try {
      const client = new OpenAI({ apiKey: 'none', baseURL: gateway.baseURL, maxRetries: 0, timeout: LOAD_MS });
      const chat = (content, max, stream = false) => client.chat.completions.create({
        model: 'a', messages: [{ role: 'user', content }], max_tokens: max, stream,
      });
      // Three at once: each of the three sequences now holds a conversation.
      await Promise.all(['first topic', 'second topic', 'third topic'].map((c) => chat(c, 4)));
      const done = [false, false];
      const longs = [];
      for (const [i, topic] of ['a long story', 'another long story'].entries()) {
        const stream = await chat(topic, 3000, true);
        const it = stream[Symbol.asyncIterator]();
        assert.equal((await it.next()).done, false);  // generating
        longs.push({ stream, drained: (async () => { while (!(await it.next()).done); done[i] = true; })() });
      }
      const short = await chat('a new question', 4);
      assert.equal(short.usage.completion_tokens, 4);
      assert.deepEqual(done, [false, false], 'the new conversation waited for the long streams to end');
      for (const { stream, drained } of longs) {
        stream.controller.abort();
        await drained.catch(() => {});
      }
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it('reuses the cached answer on a follow-up turn when it tokenizes back the same', async () => {
    // A --whole-words model's answers tokenize back to the tokens it generated
    // (as a trained model's do): the follow-up evaluates only the new turn.
    const words = path.join(dir, 'words');
    writeModels(words, { w: ['--never-end', '--whole-words'] });
    const gateway = await startGateway(localConfig(words, ['parallel: 1', 'keep_alive: -1']), { dir });
    try {
      const client = new OpenAI({ apiKey: 'none', baseURL: gateway.baseURL, maxRetries: 0, timeout: LOAD_MS });
      const messages = [{ role: 'user', content: 'tell me something' }];
      const first = await client.chat.completions.create({ model: 'w', messages, max_tokens: 16 });
      assert.equal(first.usage.completion_tokens, 16);
      messages.push({ role: 'assistant', content: first.choices[0].message.content }, { role: 'user', content: 'more' });
      const second = await client.chat.completions.create({ model: 'w', messages, max_tokens: 4 });
      // All of turn 1's prompt and its answer but the last token (generated, never evaluated) are cached.
      assert.equal(second.usage.prompt_tokens_details.cached_tokens, first.usage.prompt_tokens + 16 - 1);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it('limits requests per client address when auth is off (limits.ip_rpm)', async () => {
    const gateway = await startGateway(localConfig(path.join(dir, 'models'), [], 'limits:\n  ip_rpm: 2\n'), { dir });
    try {
      const statuses = [];
      let last;
      for (let i = 0; i < 3; i++) {
        last = await post(gateway.origin, '/completions', { model: 'a', prompt: 'x', max_tokens: 1 });
        statuses.push(last.status);
        if (i < 2) await last.text();
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.equal(last.headers.get('x-ratelimit-limit'), '2');
      assert.equal(last.headers.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(last.headers.get('x-ratelimit-reset')) > Date.now() / 1000);
      assert.ok((await last.json()).error);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });

  it('runs any OpenAI-compatible server from a command template (engine: command)', async () => {
    const mock = path.resolve(ROOT, process.env.MOCK_UPSTREAM_BIN || 'build/mock_upstream');
    const gateway = await startGateway(localConfig(path.join(dir, 'models'), [
      'engine: command', `command: "${mock} --listen 127.0.0.1:{port}"`,
    ]), { dir });
    try {
      const res = await ask(gateway.origin, 'a', 5);
      assert.ok(res.choices[0].message.content.length > 0);
      assert.ok(res.usage.completion_tokens > 0);
      assert.match(gateway.child.output, /engine command started/);
    } finally {
      assert.equal((await gateway.stop()).code, 0);
    }
  });
});
