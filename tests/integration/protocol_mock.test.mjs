// Validates tests/integration/protocol_mock.mjs against the official SDK of each
// protocol, with no gateway in between: if these pass, the mock speaks the real
// wire formats (framing, event names, field names) well enough for each SDK.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { MOCK, startProtocolMock } from './protocol_mock.mjs';

const KEY = 'sk-mock-direct-key';
const WEATHER = MOCK.calls.get_weather;
const TIME = MOCK.calls.get_time;
const RESULTS = { get_weather: '18C and sunny in Paris', get_time: '14:05 CET' };
const PARAMS = {
  get_weather: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  get_time: { type: 'object', properties: { tz: { type: 'string' } }, required: ['tz'] },
};

let mock;
before(async () => {
  mock = await startProtocolMock();
});
after(async () => {
  await mock?.close();
});
beforeEach(() => mock.reset());

const lastRequest = () => {
  assert.ok(mock.requests.length > 0, 'the mock recorded no request');
  return mock.requests.at(-1);
};

describe('OpenAI chat completions (openai SDK)', () => {
  let client;
  before(() => {
    client = new OpenAI({ apiKey: KEY, baseURL: `${mock.url}/v1`, maxRetries: 0 });
  });
  const tools = Object.entries(PARAMS).map(([name, parameters]) => ({ type: 'function', function: { name, parameters } }));
  const u = MOCK.usage.openai;

  it('plain', async () => {
    const r = await client.chat.completions.create({ model: 'upstream-model-openai', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.choices[0].message.content, MOCK.text.openai);
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.model, 'upstream-model-openai');
    assert.deepEqual([r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens], [u.input, u.output, u.input + u.output]);
    const req = lastRequest();
    assert.equal(req.path, '/v1/chat/completions');
    assert.equal(req.headers.authorization, `Bearer ${KEY}`);
    assert.equal(req.body.model, 'upstream-model-openai');
  });

  it('stream with include_usage: several content chunks, then a usage chunk with choices: []', async () => {
    const stream = await client.chat.completions.create({
      model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let finish = null;
    let contentChunks = 0;
    let usageChunk = null;
    for await (const c of stream) {
      if (c.choices.length === 0) usageChunk = c;
      else assert.equal(c.usage, null);
      if (c.choices[0]?.delta?.content) contentChunks++;
      text += c.choices[0]?.delta?.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, MOCK.text.openai);
    assert.ok(contentChunks >= 3, `${contentChunks} content chunks`);
    assert.equal(finish, 'stop');
    assert.ok(usageChunk, 'no usage chunk');
    assert.equal(usageChunk.usage.prompt_tokens, u.input);
    assert.equal(usageChunk.usage.completion_tokens, u.output);
  });

  it('stream without include_usage has no usage chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const c of stream) {
      assert.equal(c.usage, undefined);
      assert.equal(c.choices.length, 1);
    }
  });

  it('tool call, then the result is quoted', async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const r = await client.chat.completions.create({ model: 'm', messages, tools });
    const msg = r.choices[0].message;
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.tool_calls.length, 1);
    assert.equal(msg.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(JSON.parse(msg.tool_calls[0].function.arguments), WEATHER.args);
    messages.push(msg, { role: 'tool', tool_call_id: msg.tool_calls[0].id, content: RESULTS.get_weather });
    const r2 = await client.chat.completions.create({ model: 'm', messages, tools });
    assert.equal(r2.choices[0].message.content, MOCK.resultText('openai', [RESULTS.get_weather]));
    assert.equal(r2.choices[0].finish_reason, 'stop');
  });

  it('tool undeclared → 400 in the OpenAI shape', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'weather?' }] }),
      (e) => e.status === 400 && /declares only/.test(e.error?.message),
    );
  });

  it('a tool message with an unknown tool_call_id → 400', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'm', tools,
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_2', content: 'x' },
        ],
      }),
      (e) => e.status === 400,
    );
  });

  it('streamed two tools: fragments interleave by index and accumulate into two calls', async () => {
    const stream = await client.chat.completions.create({
      model: 'm', messages: [{ role: 'user', content: 'use two tools' }], tools, stream: true, stream_options: { include_usage: true },
    });
    const calls = [];
    const indexOrder = [];
    let finish = null;
    for await (const c of stream) {
      for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
        indexOrder.push(tc.index);
        calls[tc.index] ??= { id: '', name: '', args: '' };
        if (tc.id) calls[tc.index].id = tc.id;
        if (tc.function?.name) calls[tc.index].name = tc.function.name;
        calls[tc.index].args += tc.function?.arguments ?? '';
      }
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(calls.map((c) => c.name), ['get_weather', 'get_time']);
    assert.deepEqual(calls.map((c) => JSON.parse(c.args)), [WEATHER.args, TIME.args]);
    assert.notEqual(calls[0].id, calls[1].id);
    // Interleaved: index 0 fragments come again after index 1 started.
    assert.ok(indexOrder.lastIndexOf(0) > indexOrder.indexOf(1), `order ${indexOrder}`);
  });

  it('stream helper (finalChatCompletion) on two tools and the results', async () => {
    const messages = [{ role: 'user', content: 'use two tools' }];
    const final = await client.chat.completions.stream({ model: 'm', messages, tools }).finalChatCompletion();
    const msg = final.choices[0].message;
    assert.deepEqual(msg.tool_calls.map((c) => [c.function.name, JSON.parse(c.function.arguments)]), [['get_weather', WEATHER.args], ['get_time', TIME.args]]);
    messages.push(msg, ...msg.tool_calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: RESULTS[c.function.name] })));
    const r = await client.chat.completions.stream({ model: 'm', messages, tools }).finalChatCompletion();
    assert.equal(r.choices[0].message.content, MOCK.resultText('openai', [RESULTS.get_weather, RESULTS.get_time]));
  });

  it('think: reasoning_content first', async () => {
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'think hard' }] });
    assert.equal(r.choices[0].message.reasoning_content, MOCK.thinking);
    assert.equal(r.choices[0].message.content, MOCK.text.openai);
    assert.equal(r.usage.completion_tokens_details.reasoning_tokens, u.reasoning);
  });

  it('embeddings and models', async () => {
    const e = await client.embeddings.create({ model: 'emb', input: ['a', 'b'] });
    assert.equal(e.data.length, 2);
    assert.deepEqual(e.data[1].embedding, MOCK.embedding);
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    assert.ok(models.includes('upstream-model-openai'));
  });
});

describe('Anthropic messages (@anthropic-ai/sdk)', () => {
  let client;
  before(() => {
    client = new Anthropic({ apiKey: KEY, baseURL: mock.url, maxRetries: 0 });
  });
  const tools = Object.entries(PARAMS).map(([name, input_schema]) => ({ name, description: name, input_schema }));
  const u = MOCK.usage.anthropic;

  it('plain', async () => {
    const r = await client.messages.create({ model: 'upstream-model-anthropic', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.content.length, 1);
    assert.equal(r.content[0].type, 'text');
    assert.equal(r.content[0].text, MOCK.text.anthropic);
    assert.equal(r.stop_reason, 'end_turn');
    assert.equal(r.usage.input_tokens, u.input);
    assert.equal(r.usage.output_tokens, u.output);
    const req = lastRequest();
    assert.equal(req.path, '/v1/messages');
    // SDK 1.x sends the api key as a Bearer token (0.x sent x-api-key).
    assert.ok(req.headers['x-api-key'] === KEY || req.headers.authorization === `Bearer ${KEY}`, JSON.stringify(req.headers));
    assert.ok(req.headers['anthropic-version']);
  });

  it('x-api-key auth (as Claude Code sends it)', async () => {
    const c = new Anthropic({ baseURL: mock.url, maxRetries: 0, defaultHeaders: { 'x-api-key': KEY } });
    const r = await c.messages.create({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.content[0].text, MOCK.text.anthropic);
    assert.equal(lastRequest().headers['x-api-key'], KEY);
    assert.equal(lastRequest().headers.authorization, undefined);
  });

  it('tool call, then the result is quoted', async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const r = await client.messages.create({ model: 'm', max_tokens: 100, messages, tools });
    assert.equal(r.stop_reason, 'tool_use');
    const uses = r.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1);
    assert.equal(uses[0].name, 'get_weather');
    assert.deepEqual(uses[0].input, WEATHER.args);
    messages.push({ role: 'assistant', content: r.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: RESULTS.get_weather }] });
    const r2 = await client.messages.create({ model: 'm', max_tokens: 100, messages, tools });
    assert.equal(r2.content[0].text, MOCK.resultText('anthropic', [RESULTS.get_weather]));
    assert.equal(r2.stop_reason, 'end_turn');
  });

  it('stream: the real event sequence and finalMessage()', async () => {
    const stream = client.messages.stream({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    const types = [];
    stream.on('streamEvent', (ev) => types.push(ev.type));
    const final = await stream.finalMessage();
    assert.equal(final.content[0].text, MOCK.text.anthropic);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.input_tokens, u.input);
    assert.equal(final.usage.output_tokens, u.output);
    assert.equal(types[0], 'message_start');
    assert.equal(types[1], 'content_block_start');
    assert.ok(types.filter((t) => t === 'content_block_delta').length >= 3);
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('stream two tools: two sequential tool_use blocks built from input_json_delta, results quoted', async () => {
    const messages = [{ role: 'user', content: 'use two tools' }];
    const stream = client.messages.stream({ model: 'm', max_tokens: 100, messages, tools });
    let jsonDeltas = 0;
    stream.on('streamEvent', (ev) => {
      if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') jsonDeltas++;
    });
    const final = await stream.finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    assert.deepEqual(final.content.map((b) => [b.type, b.name, b.input]), [['tool_use', 'get_weather', WEATHER.args], ['tool_use', 'get_time', TIME.args]]);
    assert.ok(jsonDeltas >= 5, `${jsonDeltas} input_json_delta events`);
    messages.push({ role: 'assistant', content: final.content });
    messages.push({ role: 'user', content: final.content.map((b) => ({ type: 'tool_result', tool_use_id: b.id, content: RESULTS[b.name] })) });
    const r = await client.messages.stream({ model: 'm', max_tokens: 100, messages, tools }).finalMessage();
    assert.equal(r.content[0].text, MOCK.resultText('anthropic', [RESULTS.get_weather, RESULTS.get_time]));
  });

  it('stream think: a thinking block with its signature, then text', async () => {
    const final = await client.messages.stream({ model: 'm', max_tokens: 2000, messages: [{ role: 'user', content: 'think about it' }] }).finalMessage();
    assert.equal(final.content[0].type, 'thinking');
    assert.equal(final.content[0].thinking, MOCK.thinking);
    assert.equal(final.content[0].signature, MOCK.signature);
    assert.equal(final.content[1].text, MOCK.text.anthropic);
  });

  it('count_tokens', async () => {
    const r = await client.messages.countTokens({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.input_tokens, MOCK.countTokens.anthropic);
    assert.equal(lastRequest().path, '/v1/messages/count_tokens');
  });

  it('errors in the Anthropic shape: missing max_tokens, unanswered tool_use', async () => {
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    await assert.rejects(
      client.messages.create({
        model: 'm', max_tokens: 10, tools,
        messages: [
          { role: 'user', content: 'weather' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
          { role: 'user', content: 'no result' },
        ],
      }),
      (e) => e.status === 400,
    );
  });
});

describe('Gemini generateContent (@google/genai)', () => {
  let ai;
  before(() => {
    ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: mock.url } });
  });
  const functionDeclarations = Object.entries(PARAMS).map(([name, parameters]) => ({ name, description: name, parameters }));
  const config = { tools: [{ functionDeclarations }] };
  const u = MOCK.usage.gemini;

  it('plain', async () => {
    const r = await ai.models.generateContent({ model: 'upstream-model-gemini', contents: 'hi' });
    assert.equal(r.text, MOCK.text.gemini);
    assert.equal(r.candidates[0].finishReason, 'STOP');
    assert.equal(r.usageMetadata.promptTokenCount, u.input);
    assert.equal(r.usageMetadata.candidatesTokenCount, u.output);
    const req = lastRequest();
    assert.equal(req.path, '/v1beta/models/upstream-model-gemini:generateContent');
    assert.equal(req.headers['x-goog-api-key'], KEY);
  });

  it('stream (alt=sse): several chunks, cumulative usage, STOP on the last', async () => {
    const chunks = [];
    for await (const c of await ai.models.generateContentStream({ model: 'upstream-model-gemini', contents: 'hi' })) chunks.push(c);
    assert.ok(chunks.length >= 3);
    assert.equal(chunks.map((c) => c.text ?? '').join(''), MOCK.text.gemini);
    assert.equal(chunks.at(-1).candidates[0].finishReason, 'STOP');
    const counts = chunks.map((c) => c.usageMetadata.candidatesTokenCount);
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'cumulative');
    assert.equal(counts.at(-1), u.output);
    assert.equal(lastRequest().url, '/v1beta/models/upstream-model-gemini:streamGenerateContent?alt=sse');
  });

  it('tool call (no id), then the functionResponse is quoted', async () => {
    const contents = [{ role: 'user', parts: [{ text: 'What is the weather in Paris?' }] }];
    const r = await ai.models.generateContent({ model: 'm', contents, config });
    assert.equal(r.candidates[0].finishReason, 'STOP');
    assert.equal(r.functionCalls.length, 1);
    assert.equal(r.functionCalls[0].name, 'get_weather');
    assert.deepEqual(r.functionCalls[0].args, WEATHER.args);
    contents.push(r.candidates[0].content);
    contents.push({ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: RESULTS.get_weather } } }] });
    const r2 = await ai.models.generateContent({ model: 'm', contents, config });
    assert.ok(r2.text.includes(RESULTS.get_weather), r2.text);
  });

  it('stream two tools: whole functionCall parts, then an empty STOP chunk', async () => {
    const chunks = [];
    for await (const c of await ai.models.generateContentStream({ model: 'm', contents: 'use two tools', config })) chunks.push(c);
    const calls = chunks.flatMap((c) => c.functionCalls ?? []);
    assert.deepEqual(calls.map((c) => [c.name, c.args]), [['get_weather', WEATHER.args], ['get_time', TIME.args]]);
    const last = chunks.at(-1);
    assert.equal(last.candidates[0].finishReason, 'STOP');
    assert.equal(last.functionCalls, undefined);
    assert.equal(last.usageMetadata.candidatesTokenCount, u.output);
  });

  it('think: a thought part and thoughtsTokenCount', async () => {
    const r = await ai.models.generateContent({ model: 'm', contents: 'think first' });
    const parts = r.candidates[0].content.parts;
    assert.equal(parts[0].thought, true);
    assert.equal(parts[0].text, MOCK.thinking);
    assert.equal(parts[1].text, MOCK.text.gemini);
    assert.equal(r.usageMetadata.thoughtsTokenCount, u.thoughts);
  });

  it('countTokens and embedContent', async () => {
    const c = await ai.models.countTokens({ model: 'm', contents: 'hi' });
    assert.equal(c.totalTokens, MOCK.countTokens.gemini);
    const e = await ai.models.embedContent({ model: 'emb', contents: ['a', 'b'] });
    assert.equal(e.embeddings.length, 2);
    assert.deepEqual(e.embeddings[0].values, MOCK.embedding);
    assert.match(lastRequest().path, /^\/v1beta\/models\/emb:(batchEmbedContents|embedContent)$/);
  });

  it('streamGenerateContent without alt=sse is one JSON array; errors in the Google shape', async () => {
    const res = await fetch(`${mock.url}/v1beta/models/m:streamGenerateContent`, {
      method: 'POST', headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    assert.match(res.headers.get('content-type'), /application\/json/);
    const arr = await res.json();
    assert.ok(Array.isArray(arr) && arr.length >= 3);
    assert.equal(arr.map((c) => c.candidates[0].content.parts[0].text).join(''), MOCK.text.gemini);
    await assert.rejects(
      ai.models.generateContent({
        model: 'm', config,
        contents: [
          { role: 'user', parts: [{ text: 'weather' }] },
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: {} } }] },
          { role: 'user', parts: [{ functionResponse: { name: '', response: { r: 1 } } }] },
        ],
      }),
      (e) => e.status === 400,
    );
    const bad = await fetch(`${mock.url}/v1beta/models/m:generateContent`, { method: 'POST', body: '{}', headers: { 'x-goog-api-key': KEY } });
    assert.equal(bad.status, 400);
    const b = await bad.json();
    assert.equal(b.error.code, 400);
    assert.equal(b.error.status, 'INVALID_ARGUMENT');
  });
});

describe('Ollama (ollama SDK)', () => {
  let ollama;
  before(() => {
    ollama = new Ollama({ host: mock.url, headers: { Authorization: `Bearer ${KEY}` } });
  });
  const tools = Object.entries(PARAMS).map(([name, parameters]) => ({ type: 'function', function: { name, description: name, parameters } }));
  const u = MOCK.usage.ollama;

  it('chat plain', async () => {
    const r = await ollama.chat({ model: 'upstream-model-ollama', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.message.content, MOCK.text.ollama);
    assert.equal(r.done, true);
    assert.equal(r.done_reason, 'stop');
    assert.equal(r.prompt_eval_count, u.input);
    assert.equal(r.eval_count, u.output);
    const req = lastRequest();
    assert.equal(req.path, '/api/chat');
    assert.equal(req.body.stream, false);
    assert.equal(req.headers.authorization, `Bearer ${KEY}`);
  });

  it('chat stream', async () => {
    let text = '';
    let last;
    let n = 0;
    for await (const part of await ollama.chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      text += part.message.content;
      last = part;
      n++;
    }
    assert.equal(text, MOCK.text.ollama);
    assert.ok(n >= 4);
    assert.equal(last.done, true);
    assert.equal(last.done_reason, 'stop');
    assert.equal(last.eval_count, u.output);
  });

  it('tool call (arguments object), then the tool result is quoted', async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const r = await ollama.chat({ model: 'm', messages, tools });
    assert.equal(r.message.tool_calls.length, 1);
    assert.equal(r.message.tool_calls[0].function.name, 'get_weather');
    assert.deepEqual(r.message.tool_calls[0].function.arguments, WEATHER.args);
    assert.equal(r.done_reason, 'stop');
    messages.push(r.message, { role: 'tool', tool_name: 'get_weather', content: RESULTS.get_weather });
    const r2 = await ollama.chat({ model: 'm', messages, tools });
    assert.equal(r2.message.content, MOCK.resultText('ollama', [RESULTS.get_weather]));
  });

  it('stream two tools as complete calls', async () => {
    const calls = [];
    for await (const part of await ollama.chat({ model: 'm', messages: [{ role: 'user', content: 'two tools please' }], tools, stream: true })) {
      calls.push(...(part.message.tool_calls ?? []));
    }
    assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]), [['get_weather', WEATHER.args], ['get_time', TIME.args]]);
  });

  it('a stringified tool-call argument in history → 400 {error}', async () => {
    await assert.rejects(
      ollama.chat({
        model: 'm', tools,
        messages: [
          { role: 'user', content: 'weather' },
          { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', content: 'x' },
        ],
      }),
      (e) => e.status_code === 400 && /cannot unmarshal string/.test(e.error),
    );
  });

  it('think: message.thinking', async () => {
    const r = await ollama.chat({ model: 'm', messages: [{ role: 'user', content: 'think' }], think: true });
    assert.equal(r.message.thinking, MOCK.thinking);
    assert.equal(r.message.content, MOCK.text.ollama);
  });

  it('generate, embed, list', async () => {
    const g = await ollama.generate({ model: 'm', prompt: 'hi' });
    assert.equal(g.response, MOCK.text.ollama);
    assert.equal(g.done_reason, 'stop');
    const e = await ollama.embed({ model: 'm', input: ['a', 'b'] });
    assert.equal(e.embeddings.length, 2);
    const l = await ollama.list();
    assert.equal(l.models[0].name, 'upstream-model-ollama:latest');
  });

  it('stream defaults to true: NDJSON when the body has no stream field', async () => {
    for (const [path, body] of [
      ['/api/chat', { model: 'm', messages: [{ role: 'user', content: 'hi' }] }],
      ['/api/generate', { model: 'm', prompt: 'hi' }],
    ]) {
      const res = await fetch(`${mock.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
      assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
      const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.length >= 3, path);
      assert.equal(lines.at(-1).done, true);
      assert.ok(lines.slice(0, -1).every((l) => l.done === false));
    }
  });
});

describe('the mock records requests', () => {
  it('method, path + query, headers and parsed body; reset() empties the list in place', async () => {
    const list = mock.requests;
    await fetch(`${mock.url}/v1beta/models/x:streamGenerateContent?alt=sse&key=abc`, {
      method: 'POST', body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }), headers: { 'x-test': '1' },
    }).then((r) => r.text());
    assert.equal(list.length, 1);
    assert.equal(list[0].method, 'POST');
    assert.equal(list[0].url, '/v1beta/models/x:streamGenerateContent?alt=sse&key=abc');
    assert.equal(list[0].query.key, 'abc');
    assert.equal(list[0].headers['x-test'], '1');
    assert.equal(list[0].body.contents[0].parts[0].text, 'hi');
    assert.equal(list[0].protocol, 'gemini');
    mock.reset();
    assert.equal(mock.requests.length, 0);
    assert.equal(list, mock.requests);
  });
});
