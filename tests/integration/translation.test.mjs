// Protocol translation through the gateway: every front door (OpenAI chat,
// OpenAI Responses, Anthropic Messages, Gemini, Ollama) × every provider type
// (openai, anthropic, gemini, ollama), each driven by its official SDK, against
// tests/integration/protocol_mock.mjs, which answers natively in each protocol
// with fixed texts, tool calls and usage numbers (MOCK).
//
// Each cell checks what the client got (text, tool names and parsed arguments,
// the finish reason in the client's vocabulary, usage equal to the mock's
// numbers) and what the upstream got (native path, bare model name, provider key
// in the native header, no client key anywhere).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { CLIENT_KEY, errorOf, startGateway } from './harness.mjs';
import { MOCK, startProtocolMock } from './protocol_mock.mjs';

const PROVIDERS = ['openai', 'anthropic', 'gemini', 'ollama'];
const PROVIDER_KEYS = {
  openai: 'sk-up-openai-1111',
  anthropic: 'sk-ant-up-2222',
  gemini: 'AIza-up-gemini-3333',
  ollama: 'ollama-up-4444',
};
const alias = (p) => `m-${p}`;
const upstreamModel = (p) => `upstream-model-${p}`;

function configYaml(mockUrl) {
  const providers = PROVIDERS.map((p) => `  - id: p-${p}
    type: ${p}
    base_url: ${p === 'openai' ? `${mockUrl}/v1` : mockUrl}
    keys:
      - id: k1
        value: ${PROVIDER_KEYS[p]}
    timeout_s: 30
`).join('');
  const models = PROVIDERS.map((p) => `  - name: ${alias(p)}
    target: p-${p}/${upstreamModel(p)}
`).join('');
  return `# written by tests/integration/translation.test.mjs
server:
  listen: 127.0.0.1:8080   # overridden by --listen
  auth: keys
  shutdown_timeout_s: 3
keys:
  - name: test
    key: ${CLIENT_KEY}
providers:
${providers}models:
${models}`;
}

let mock;
let gateway;
const clients = {};

before(async () => {
  mock = await startProtocolMock();
  gateway = await startGateway(configYaml(mock.url));
  clients.openai = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gateway.baseURL, maxRetries: 0, timeout: 30000 });
  // apiKey: the 1.x SDK sends it as Authorization: Bearer; authToken null keeps the env out.
  clients.anthropic = new Anthropic({ apiKey: CLIENT_KEY, baseURL: gateway.origin, maxRetries: 0, timeout: 30000 });
  clients.gemini = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gateway.origin, timeout: 30000 } });
  clients.ollama = new Ollama({ host: gateway.origin, headers: { Authorization: `Bearer ${CLIENT_KEY}` } });
});

after(async () => {
  await mock?.close();
  if (gateway) {
    const result = await gateway.stop();
    assert.equal(result.code, 0, `switchyard exited with ${JSON.stringify(result)}; output:\n${gateway.child.output}`);
  }
});

// ---------------------------------------------------------------------------
// Shared expectations

const RESULTS = { get_weather: '18C and sunny in Paris', get_time: '14:05 CET' };
const SCHEMAS = {
  get_weather: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
  get_time: { type: 'object', properties: { tz: { type: 'string', description: 'Time zone' } }, required: ['tz'] },
};
const DESCRIPTIONS = { get_weather: 'Current weather in a city', get_time: 'Current time in a time zone' };
const PROMPTS = {
  plain: 'Say hello.',
  weather: 'What is the weather in Paris?',
  twoTools: 'Use two tools: the weather in Paris and the time in CET.',
  think: 'Please think before you answer.',
};

// The usage the client must see for an answer from `provider`, as {input, output}.
function expectedUsage(provider, kind = 'text') {
  const u = MOCK.usage[provider];
  // Gemini's thoughts are separate from its candidates: they count as output.
  const output = provider === 'gemini' && kind === 'think' ? u.output + u.thoughts : u.output;
  return { input: u.input, output };
}

// Upstream requests since the test started, checked against the provider's
// native protocol. Returns them.
function checkUpstream(provider, { count = 1, stream = false } = {}) {
  const reqs = [...mock.requests];
  assert.equal(reqs.length, count, `upstream requests: ${JSON.stringify(reqs.map((r) => `${r.method} ${r.url}`))}`);
  for (const req of reqs) {
    const at = `${req.method} ${req.url}`;
    assert.equal(req.error, undefined, `the mock refused ${at}: ${req.error}`);
    assert.equal(req.method, 'POST', at);
    switch (provider) {
      case 'openai':
        assert.equal(req.path, '/v1/chat/completions', at);
        assert.equal(req.body.model, upstreamModel('openai'));
        assert.equal(req.headers.authorization, `Bearer ${PROVIDER_KEYS.openai}`);
        if (stream) assert.equal(req.body.stream, true, 'upstream not streamed');
        break;
      case 'anthropic':
        assert.equal(req.path, '/v1/messages', at);
        assert.equal(req.body.model, upstreamModel('anthropic'));
        assert.equal(req.headers['x-api-key'], PROVIDER_KEYS.anthropic);
        assert.ok(req.headers['anthropic-version'], 'no anthropic-version header upstream');
        if (stream) assert.equal(req.body.stream, true, 'upstream not streamed');
        break;
      case 'gemini':
        if (stream) {
          assert.equal(req.path, `/v1beta/models/${upstreamModel('gemini')}:streamGenerateContent`, at);
          assert.equal(req.query.alt, 'sse', at);
        } else {
          assert.equal(req.path, `/v1beta/models/${upstreamModel('gemini')}:generateContent`, at);
        }
        assert.equal(req.headers['x-goog-api-key'], PROVIDER_KEYS.gemini);
        break;
      case 'ollama':
        assert.equal(req.path, '/api/chat', at);
        assert.equal(req.body.model, upstreamModel('ollama'));
        assert.equal(req.headers.authorization, `Bearer ${PROVIDER_KEYS.ollama}`);
        if (stream) assert.notEqual(req.body.stream, false, 'upstream not streamed');
        break;
      default:
        assert.fail(`unknown provider ${provider}`);
    }
    assertNoClientKey(req);
  }
  return reqs;
}

function assertNoClientKey(req) {
  assert.ok(!req.url.includes(CLIENT_KEY), `client key in the upstream URL ${req.url}`);
  for (const [name, value] of Object.entries(req.headers)) {
    assert.ok(!String(value).includes(CLIENT_KEY), `client key in upstream header ${name}`);
  }
  assert.ok(!req.rawBody.includes(CLIENT_KEY), 'client key in the upstream body');
}

// The answer to a turn of tool results quotes each result, in order.
function assertQuotes(text, provider, names) {
  const prefix = MOCK.resultText(provider, []).trimEnd();
  assert.ok(text.startsWith(prefix), `answer ${JSON.stringify(text)} does not start with ${JSON.stringify(prefix)}`);
  let pos = 0;
  for (const n of names) {
    const i = text.indexOf(RESULTS[n], pos);
    assert.ok(i >= 0, `answer ${JSON.stringify(text)} does not quote ${JSON.stringify(RESULTS[n])} (in order)`);
    pos = i + RESULTS[n].length;
  }
}

function assertCalls(calls, names, { ids = true } = {}) {
  assert.deepEqual(calls.map((c) => c.name), names, `calls ${JSON.stringify(calls)}`);
  for (const c of calls) assert.deepEqual(c.args, MOCK.calls[c.name].args, `arguments of ${c.name}`);
  if (ids) {
    for (const c of calls) assert.ok(typeof c.id === 'string' && c.id.length > 0, `call ${c.name} has no id`);
    assert.equal(new Set(calls.map((c) => c.id)).size, calls.length, `call ids not unique: ${calls.map((c) => c.id)}`);
  }
}

// ---------------------------------------------------------------------------
// Stream validators: the event grammar each strict client relies on.

function checkAnthropicEvents(events) {
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'message_start', `events ${types}`);
  assert.equal(types.filter((t) => t === 'message_start').length, 1, 'more than one message_start');
  assert.equal(types.at(-1), 'message_stop', `events ${types}`);
  assert.equal(types.at(-2), 'message_delta', `events ${types}`);
  const open = new Map(); // index -> block type
  const done = new Set();
  const deltaFor = { text_delta: 'text', input_json_delta: 'tool_use', thinking_delta: 'thinking', signature_delta: 'thinking' };
  for (const e of events) {
    if (e.type === 'content_block_start') {
      assert.equal(open.size, 0, `block ${e.index} started while block ${[...open.keys()]} is open (blocks cannot interleave)`);
      assert.ok(!done.has(e.index), `block ${e.index} started twice`);
      if (e.content_block.type === 'tool_use') assert.deepEqual(e.content_block.input, {}, 'tool_use content_block_start must carry input: {}');
      open.set(e.index, e.content_block.type);
    } else if (e.type === 'content_block_delta') {
      assert.ok(open.has(e.index), `delta for block ${e.index}, which is not open`);
      assert.equal(deltaFor[e.delta.type], open.get(e.index), `${e.delta.type} inside a ${open.get(e.index)} block`);
    } else if (e.type === 'content_block_stop') {
      assert.ok(open.has(e.index), `stop for block ${e.index}, which is not open`);
      open.delete(e.index);
      done.add(e.index);
    }
  }
  assert.equal(open.size, 0, 'blocks left open at message_stop');
  assert.deepEqual([...done], [...done].map((_, i) => i), 'block indexes are not 0, 1, 2, ...');
}

function checkResponsesEvents(events) {
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'response.created', `events ${types}`);
  assert.equal(types.at(-1), 'response.completed', `events ${types}`);
  for (let i = 1; i < events.length; i++) {
    assert.ok(events[i].sequence_number > events[i - 1].sequence_number, `sequence_number not increasing at ${types[i]}`);
  }
  const completed = events.at(-1).response;
  assert.ok(completed.id, 'response.completed has no response id');
  assert.ok(completed.usage, 'response.completed has no usage');
  // Every item announced is finished, with its full content (Codex builds the turn from output_item.done).
  const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => e.output_index);
  const doneItems = events.filter((e) => e.type === 'response.output_item.done');
  assert.deepEqual(doneItems.map((e) => e.output_index).sort(), [...added].sort(), 'output items added and done differ');
  assert.deepEqual([...added].sort((a, b) => a - b), added.map((_, i) => i), 'output_index not dense');
  const essence = (item) => ({
    type: item?.type,
    text: (item?.content ?? []).map((p) => p.text ?? '').join(''),
    ...(item?.type === 'function_call' ? { call_id: item.call_id, name: item.name, arguments: item.arguments } : {}),
  });
  for (const e of doneItems) {
    assert.ok(e.item.status, `output_item.done ${e.item.type} has no status`);
    assert.deepEqual(essence(completed.output[e.output_index]), essence(e.item), `response.completed output[${e.output_index}] differs from its output_item.done`);
  }
}

// ---------------------------------------------------------------------------
// Front doors. turn() sends `history` and returns, whatever the protocol:
//   {text, reasoning, calls: [{id, name, args}], finish, usage: {input, output, total?},
//    textDeltas, ...state for next()}
// next(history, result) appends the assistant turn and the tool results.

const tools = {
  openaiChat: Object.keys(SCHEMAS).map((name) => ({ type: 'function', function: { name, description: DESCRIPTIONS[name], parameters: SCHEMAS[name] } })),
  responses: Object.keys(SCHEMAS).map((name) => ({ type: 'function', name, description: DESCRIPTIONS[name], parameters: SCHEMAS[name], strict: false })),
  anthropic: Object.keys(SCHEMAS).map((name) => ({ name, description: DESCRIPTIONS[name], input_schema: SCHEMAS[name] })),
  gemini: [{ functionDeclarations: Object.keys(SCHEMAS).map((name) => ({ name, description: DESCRIPTIONS[name], parameters: SCHEMAS[name] })) }],
  ollama: Object.keys(SCHEMAS).map((name) => ({ type: 'function', function: { name, description: DESCRIPTIONS[name], parameters: SCHEMAS[name] } })),
};

const DOORS = {
  'openai chat': {
    finish: { text: 'stop', tools: 'tool_calls' },
    start: (prompt) => [{ role: 'user', content: prompt }],
    next: (history, r) => [
      ...history,
      r.assistant,
      ...r.calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: RESULTS[c.name] })),
    ],
    async turn({ model, history, stream, withTools, think }) {
      const params = { model, messages: history };
      if (withTools) params.tools = tools.openaiChat;
      if (think) params.reasoning_effort = 'low';
      if (!stream) {
        const r = await clients.openai.chat.completions.create(params);
        const m = r.choices[0].message;
        return {
          text: m.content ?? '',
          reasoning: m.reasoning_content ?? m.reasoning ?? '',
          calls: (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) })),
          finish: r.choices[0].finish_reason,
          usage: { input: r.usage?.prompt_tokens, output: r.usage?.completion_tokens, total: r.usage?.total_tokens },
          assistant: m,
        };
      }
      const s = await clients.openai.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
      let text = '';
      let reasoning = '';
      let finish = null;
      let usage = null;
      let textDeltas = 0;
      const acc = [];
      const ids = new Set();
      for await (const c of s) {
        ids.add(c.id);
        if (c.usage) usage = c.usage;
        const ch = c.choices[0];
        if (!ch) continue;
        if (ch.delta?.content) {
          text += ch.delta.content;
          textDeltas++;
        }
        reasoning += ch.delta?.reasoning_content ?? ch.delta?.reasoning ?? '';
        for (const tc of ch.delta?.tool_calls ?? []) {
          assert.equal(typeof tc.index, 'number', `tool call fragment without index: ${JSON.stringify(tc)}`);
          if (!acc[tc.index]) {
            assert.ok(tc.id && tc.function?.name, `first fragment of call ${tc.index} lacks id or name: ${JSON.stringify(tc)}`);
            acc[tc.index] = { id: tc.id, name: tc.function.name, args: '' };
          }
          acc[tc.index].args += tc.function?.arguments ?? '';
        }
        if (ch.finish_reason) finish = ch.finish_reason;
      }
      assert.equal(ids.size, 1, `chunks carry several ids: ${[...ids]}`);
      const calls = acc.map((c) => ({ id: c.id, name: c.name, args: JSON.parse(c.args), raw: c.args }));
      return {
        text, reasoning, calls, finish, textDeltas,
        usage: { input: usage?.prompt_tokens, output: usage?.completion_tokens, total: usage?.total_tokens },
        assistant: {
          role: 'assistant',
          content: text || null,
          ...(calls.length ? { tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.raw } })) } : {}),
        },
      };
    },
  },

  'openai responses': {
    finish: { text: 'completed', tools: 'completed' },
    start: (prompt) => [{ role: 'user', content: prompt }],
    next: (history, r) => [
      ...history,
      ...r.output.map((item) => {
        const copy = JSON.parse(JSON.stringify(item));
        delete copy.parsed_arguments;
        return copy;
      }),
      ...r.calls.map((c) => ({ type: 'function_call_output', call_id: c.id, output: RESULTS[c.name] })),
    ],
    async turn({ model, history, stream, withTools, think }) {
      const params = { model, input: history, store: false };
      if (withTools) params.tools = tools.responses;
      if (think) params.reasoning = { effort: 'low', summary: 'auto' };
      let r;
      let textDeltas = 0;
      if (!stream) {
        r = await clients.openai.responses.create(params);
      } else {
        const s = clients.openai.responses.stream(params);
        const events = [];
        s.on('event', (e) => events.push(e));
        r = await s.finalResponse();
        checkResponsesEvents(events);
        textDeltas = events.filter((e) => e.type === 'response.output_text.delta').length;
      }
      const joined = (parts, type) => (parts ?? []).filter((p) => typeof p.text === 'string' && (!type || p.type === type)).map((p) => p.text).join('');
      // A reasoning item carries its text as content (reasoning_text) or as a summary.
      const reasoningText = (item) => joined(item.content) || joined(item.summary);
      const calls = r.output.filter((i) => i.type === 'function_call');
      for (const c of calls) {
        assert.ok(c.call_id, 'function_call item without call_id');
        if (c.id !== undefined) assert.ok(c.id.startsWith('fc'), `function_call item id ${c.id} does not begin with fc`);
      }
      return {
        text: r.output.filter((i) => i.type === 'message').map((i) => joined(i.content, 'output_text')).join(''),
        reasoning: r.output.filter((i) => i.type === 'reasoning').map(reasoningText).join(''),
        calls: calls.map((c) => ({ id: c.call_id, name: c.name, args: JSON.parse(c.arguments) })),
        finish: r.status,
        usage: { input: r.usage?.input_tokens, output: r.usage?.output_tokens, total: r.usage?.total_tokens },
        textDeltas,
        output: r.output,
      };
    },
  },

  anthropic: {
    finish: { text: 'end_turn', tools: 'tool_use' },
    start: (prompt) => [{ role: 'user', content: prompt }],
    next: (history, r) => [
      ...history,
      { role: 'assistant', content: r.content },
      { role: 'user', content: r.calls.map((c) => ({ type: 'tool_result', tool_use_id: c.id, content: RESULTS[c.name] })) },
    ],
    async turn({ model, history, stream, withTools, think }) {
      const params = { model, max_tokens: 2048, messages: history };
      if (withTools) params.tools = tools.anthropic;
      if (think) params.thinking = { type: 'enabled', budget_tokens: 1024 };
      let m;
      let textDeltas = 0;
      let startInput;
      if (!stream) {
        m = await clients.anthropic.messages.create(params);
      } else {
        const s = clients.anthropic.messages.stream(params);
        const events = [];
        s.on('streamEvent', (e) => events.push(e));
        m = await s.finalMessage();
        checkAnthropicEvents(events);
        textDeltas = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'text_delta').length;
        startInput = events[0].message.usage.input_tokens;
      }
      for (const b of m.content.filter((b) => b.type === 'tool_use')) {
        assert.match(b.id, /^[a-zA-Z0-9_-]{1,64}$/, `tool_use id ${b.id}`);
      }
      return {
        text: m.content.filter((b) => b.type === 'text').map((b) => b.text).join(''),
        reasoning: m.content.filter((b) => b.type === 'thinking').map((b) => b.thinking).join(''),
        calls: m.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: b.id, name: b.name, args: b.input })),
        finish: m.stop_reason,
        usage: { input: m.usage.input_tokens, output: m.usage.output_tokens },
        textDeltas,
        startInput,
        content: m.content,
      };
    },
  },

  gemini: {
    finish: { text: 'STOP', tools: 'STOP' },
    start: (prompt) => [{ role: 'user', parts: [{ text: prompt }] }],
    next: (history, r) => [
      ...history,
      { role: 'model', parts: r.parts.filter((p) => !(p.text === '' && !p.functionCall)) },
      {
        role: 'user',
        parts: r.calls.map((c) => ({ functionResponse: { ...(c.id ? { id: c.id } : {}), name: c.name, response: { result: RESULTS[c.name] } } })),
      },
    ],
    async turn({ model, history, stream, withTools, think }) {
      const config = {};
      if (withTools) config.tools = tools.gemini;
      if (think) config.thinkingConfig = { includeThoughts: true };
      const params = { model, contents: history, config };
      let responses;
      if (!stream) {
        responses = [await clients.gemini.models.generateContent(params)];
      } else {
        responses = [];
        for await (const c of await clients.gemini.models.generateContentStream(params)) responses.push(c);
      }
      const parts = responses.flatMap((r) => r.candidates?.[0]?.content?.parts ?? []);
      const withFinish = responses.filter((r) => r.candidates?.[0]?.finishReason);
      const withUsage = responses.filter((r) => r.usageMetadata);
      const usage = withUsage.at(-1)?.usageMetadata ?? {};
      return {
        text: parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join(''),
        reasoning: parts.filter((p) => p.thought).map((p) => p.text).join(''),
        calls: parts.filter((p) => p.functionCall).map((p) => ({ id: p.functionCall.id, name: p.functionCall.name, args: p.functionCall.args ?? {} })),
        finish: withFinish.at(-1)?.candidates[0].finishReason,
        usage: {
          input: usage.promptTokenCount,
          output: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
          total: usage.totalTokenCount,
        },
        textDeltas: responses.filter((r) => (r.candidates?.[0]?.content?.parts ?? []).some((p) => p.text && !p.thought)).length,
        parts,
        ids: false,
      };
    },
  },

  ollama: {
    finish: { text: 'stop', tools: 'stop' },
    start: (prompt) => [{ role: 'user', content: prompt }],
    next: (history, r) => [
      ...history,
      { role: 'assistant', content: r.text, tool_calls: r.toolCalls },
      ...r.calls.map((c) => ({ role: 'tool', tool_name: c.name, ...(c.id ? { tool_call_id: c.id } : {}), content: RESULTS[c.name] })),
    ],
    async turn({ model, history, stream, withTools, think }) {
      const params = { model, messages: history, stream };
      if (withTools) params.tools = tools.ollama;
      if (think) params.think = true;
      let text = '';
      let reasoning = '';
      let toolCalls = [];
      let last;
      let textDeltas = 0;
      if (!stream) {
        last = await clients.ollama.chat(params);
        text = last.message.content;
        reasoning = last.message.thinking ?? '';
        toolCalls = last.message.tool_calls ?? [];
      } else {
        for await (const part of await clients.ollama.chat(params)) {
          if (part.message?.content) textDeltas++;
          text += part.message?.content ?? '';
          reasoning += part.message?.thinking ?? '';
          toolCalls.push(...(part.message?.tool_calls ?? []));
          last = part;
        }
      }
      assert.equal(last?.done, true, 'no done: true at the end');
      for (const c of toolCalls) assert.equal(typeof c.function.arguments, 'object', 'Ollama tool arguments must be an object');
      return {
        text, reasoning, textDeltas, toolCalls,
        calls: toolCalls.map((c) => ({ id: c.id, name: c.function.name, args: c.function.arguments })),
        finish: last.done_reason,
        usage: { input: last.prompt_eval_count, output: last.eval_count },
        ids: false,
      };
    },
  },
};

function assertUsage(r, provider, kind = 'text') {
  const want = expectedUsage(provider, kind);
  assert.deepEqual({ input: r.usage.input, output: r.usage.output }, want, `usage ${JSON.stringify(r.usage)}`);
  if (r.usage.total !== undefined) assert.equal(r.usage.total, want.input + want.output, 'total tokens');
}

// ---------------------------------------------------------------------------
// The matrix

for (const [doorName, door] of Object.entries(DOORS)) {
  describe(`front door: ${doorName}`, () => {
    for (const provider of PROVIDERS) {
      describe(`provider: ${provider}`, () => {
        const model = alias(provider);

        for (const stream of [false, true]) {
          const mode = stream ? 'streamed' : 'plain';

          it(`${mode} chat`, async () => {
            mock.reset();
            const r = await door.turn({ model, history: door.start(PROMPTS.plain), stream });
            assert.equal(r.text, MOCK.text[provider]);
            assert.equal(r.finish, door.finish.text);
            assert.deepEqual(r.calls, []);
            assertUsage(r, provider);
            if (stream) assert.ok(r.textDeltas >= 2, `text came in ${r.textDeltas} delta(s): buffered?`);
            if (stream && doorName === 'anthropic') assert.ok(r.startInput > 0, 'message_start input_tokens must be the real prompt count, not 0');
            checkUpstream(provider, { stream });
          });

          // Plain: one call, its result sent back. Streamed: two parallel calls and both results.
          const names = stream ? ['get_weather', 'get_time'] : ['get_weather'];
          it(`${mode} tool call${stream ? 's (two, parallel)' : ''}, then the result${stream ? 's' : ''} and the final answer`, async () => {
            mock.reset();
            const history = door.start(stream ? PROMPTS.twoTools : PROMPTS.weather);
            const r = await door.turn({ model, history, stream, withTools: true });
            assertCalls(r.calls, names, { ids: r.ids !== false });
            assert.equal(r.finish, door.finish.tools);
            assert.equal(r.text, '');
            assertUsage(r, provider);
            const r2 = await door.turn({ model, history: door.next(history, r), stream, withTools: true });
            assertQuotes(r2.text, provider, names);
            assert.equal(r2.finish, door.finish.text);
            assert.deepEqual(r2.calls, []);
            assertUsage(r2, provider);
            checkUpstream(provider, { count: 2, stream });
          });
        }

        it('streamed reasoning comes first, then the answer', async () => {
          mock.reset();
          const r = await door.turn({ model, history: door.start(PROMPTS.think), stream: true, think: true });
          assert.equal(r.reasoning, MOCK.thinking);
          assert.equal(r.text, MOCK.text[provider]);
          assert.equal(r.finish, door.finish.text);
          assertUsage(r, provider, 'think');
          if (doorName === 'anthropic') {
            assert.equal(r.content[0].type, 'thinking', 'the thinking block must come first');
            if (provider === 'anthropic') assert.equal(r.content[0].signature, MOCK.signature, 'signature not kept verbatim');
          }
          if (doorName === 'gemini') assert.equal(r.parts[0].thought, true, 'the thought part must come first');
          checkUpstream(provider, { stream: true });
        });
      });
    }
  });
}

// ---------------------------------------------------------------------------
// Protocol-specific checks

const gw = (pathname, init = {}) => fetch(`${gateway.origin}${pathname}`, init);
const postJson = (pathname, body, headers = {}) => gw(pathname, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const bearer = { authorization: `Bearer ${CLIENT_KEY}` };

describe('anthropic front door', () => {
  for (const p of PROVIDERS) {
    it(`count_tokens via ${p} (system + tools)`, async () => {
      const r = await clients.anthropic.messages.countTokens({
        model: alias(p),
        system: 'You are terse.',
        tools: tools.anthropic,
        messages: [{ role: 'user', content: PROMPTS.plain }],
      });
      assert.ok(Number.isInteger(r.input_tokens) && r.input_tokens > 0, JSON.stringify(r));
    });
  }

  it('GET /v1/models with anthropic-version lists every alias in the Anthropic shape', async () => {
    const ids = [];
    for await (const m of clients.anthropic.models.list()) {
      assert.equal(m.type, 'model');
      ids.push(m.id);
    }
    for (const p of PROVIDERS) assert.ok(ids.includes(alias(p)), `${alias(p)} not in ${ids}`);
  });

  it('x-api-key auth (Claude Code) and ?beta=true', async () => {
    mock.reset();
    const res = await postJson('/v1/messages?beta=true', {
      model: alias('anthropic'), max_tokens: 100, messages: [{ role: 'user', content: PROMPTS.plain }],
    }, { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
    assert.equal(res.status, 200, await res.clone().text());
    const body = await res.json();
    assert.equal(body.type, 'message');
    assert.equal(body.content[0].text, MOCK.text.anthropic);
    checkUpstream('anthropic');
  });

  for (const p of PROVIDERS) {
    it(`raw SSE via ${p}: event: lines naming each data.type, no [DONE], two tool_use blocks in turn`, async () => {
      const res = await postJson('/v1/messages', {
        model: alias(p), max_tokens: 100, stream: true, messages: [{ role: 'user', content: PROMPTS.twoTools }], tools: tools.anthropic,
      }, { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      const text = await res.text();
      assert.ok(!text.includes('[DONE]'), 'no [DONE] on the Anthropic door');
      const events = text.split(/\r?\n\r?\n/).filter((b) => b.trim()).map((block) => {
        const name = /^event: ?(.+)$/m.exec(block)?.[1];
        const data = /^data: ?(.+)$/m.exec(block)?.[1];
        assert.ok(name && data, `SSE block without event: or data: line: ${block}`);
        const ev = JSON.parse(data);
        assert.equal(ev.type, name, 'data.type must repeat the event name');
        return ev;
      }).filter((e) => e.type !== 'ping');
      checkAnthropicEvents(events);
      const starts = events.filter((e) => e.type === 'content_block_start').map((e) => e.content_block.name);
      assert.deepEqual(starts, ['get_weather', 'get_time']);
      assert.equal(events.find((e) => e.type === 'message_delta').delta.stop_reason, 'tool_use');
    });
  }
});

describe('gemini front door', () => {
  it('GET /v1beta/models lists every alias', async () => {
    const res = await gw('/v1beta/models', { headers: { 'x-goog-api-key': CLIENT_KEY } });
    assert.equal(res.status, 200);
    const names = (await res.json()).models.map((m) => m.name);
    for (const p of PROVIDERS) assert.ok(names.includes(`models/${alias(p)}`), `models/${alias(p)} not in ${names}`);
  });

  for (const p of PROVIDERS) {
    it(`via ${p}: the ?key= query authenticates, and never goes upstream`, async () => {
      mock.reset();
      const res = await postJson(`/v1beta/models/${alias(p)}:generateContent?key=${CLIENT_KEY}`, {
        contents: [{ role: 'user', parts: [{ text: PROMPTS.plain }] }],
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await res.json()).candidates[0].content.parts[0].text, MOCK.text[p]);
      checkUpstream(p);
    });

    it(`via ${p}: streamGenerateContent without alt=sse returns one JSON array`, async () => {
      const res = await postJson(`/v1beta/models/${alias(p)}:streamGenerateContent`, {
        contents: [{ role: 'user', parts: [{ text: PROMPTS.plain }] }],
      }, { 'x-goog-api-key': CLIENT_KEY });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^application\/json/);
      const arr = JSON.parse(await res.text());
      assert.ok(Array.isArray(arr) && arr.length >= 1, 'not a JSON array');
      assert.equal(arr.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []).map((x) => x.text ?? '').join(''), MOCK.text[p]);
      assert.equal(arr.filter((c) => c.candidates?.[0]?.finishReason).at(-1)?.candidates[0].finishReason, 'STOP');
    });

    it(`via ${p}: streamGenerateContent?alt=sse never sends [DONE]`, async () => {
      const res = await postJson(`/v1beta/models/${alias(p)}:streamGenerateContent?alt=sse`, {
        contents: [{ role: 'user', parts: [{ text: PROMPTS.plain }] }],
      }, { 'x-goog-api-key': CLIENT_KEY });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type'), /^text\/event-stream/);
      const text = await res.text();
      assert.ok(!text.includes('[DONE]'), '[DONE] on the Gemini door');
      assert.ok(text.includes('data:'), 'no data: line');
    });

    it(`via ${p}: countTokens`, async () => {
      const r = await clients.gemini.models.countTokens({ model: alias(p), contents: PROMPTS.plain });
      assert.ok(Number.isInteger(r.totalTokens) && r.totalTokens > 0, JSON.stringify(r));
    });
  }

  for (const p of ['openai', 'gemini', 'ollama']) {
    it(`via ${p}: embedContent (batchEmbedContents)`, async () => {
      const r = await clients.gemini.models.embedContent({ model: alias(p), contents: ['one', 'two'] });
      assert.equal(r.embeddings.length, 2);
      assert.deepEqual(r.embeddings[0].values, MOCK.embedding);
    });
  }
});

describe('ollama front door', () => {
  it('GET /api/tags lists every alias', async () => {
    const list = await clients.ollama.list();
    const names = list.models.map((m) => m.name);
    for (const p of PROVIDERS) {
      assert.ok(names.includes(alias(p)) || names.includes(`${alias(p)}:latest`), `${alias(p)} not in ${names}`);
    }
  });

  it('GET /api/version and POST /api/show', async () => {
    const v = await gw('/api/version', { headers: bearer });
    assert.equal(v.status, 200);
    assert.equal(typeof (await v.json()).version, 'string');
    const show = await postJson('/api/show', { model: alias('openai') }, bearer);
    assert.equal(show.status, 200);
    const missing = await postJson('/api/show', { model: 'no-such-model' }, bearer);
    assert.equal(missing.status, 404);
    assert.equal(typeof (await missing.json()).error, 'string');
  });

  for (const p of PROVIDERS) {
    for (const [pathname, body, field] of [
      ['/api/chat', { model: alias(p), messages: [{ role: 'user', content: PROMPTS.plain }] }, (l) => l.message?.content ?? ''],
      ['/api/generate', { model: alias(p), prompt: PROMPTS.plain }, (l) => l.response ?? ''],
    ]) {
      it(`via ${p}: ${pathname} without a stream field streams NDJSON`, async () => {
        const res = await postJson(pathname, body, bearer);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type'), /^application\/x-ndjson/);
        const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
        assert.ok(lines.length >= 2, `${lines.length} line(s)`);
        assert.equal(lines.map(field).join(''), MOCK.text[p]);
        assert.ok(lines.slice(0, -1).every((l) => l.done === false), 'done before the end');
        const last = lines.at(-1);
        assert.equal(last.done, true);
        assert.equal(last.done_reason, 'stop');
        assert.equal(last.prompt_eval_count, MOCK.usage[p].input);
        assert.equal(last.eval_count, MOCK.usage[p].output);
      });
    }

    it(`via ${p}: /api/generate, not streamed`, async () => {
      const r = await clients.ollama.generate({ model: alias(p), prompt: PROMPTS.plain, stream: false });
      assert.equal(r.response, MOCK.text[p]);
      assert.equal(r.done_reason, 'stop');
      assert.equal(r.prompt_eval_count, MOCK.usage[p].input);
      assert.equal(r.eval_count, MOCK.usage[p].output);
    });
  }

  for (const p of ['openai', 'gemini', 'ollama']) {
    it(`via ${p}: /api/embed`, async () => {
      const r = await clients.ollama.embed({ model: alias(p), input: ['one', 'two'] });
      assert.equal(r.embeddings.length, 2);
      assert.deepEqual(r.embeddings[1], MOCK.embedding);
    });
  }
});

describe('errors in each front door\'s shape', () => {
  const anthropicHeaders = { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' };

  it('unknown model → 404', async () => {
    mock.reset();
    const chat = await postJson('/v1/chat/completions', { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, bearer);
    assert.equal(chat.status, 404);
    errorOf(await chat.text());

    const resp = await postJson('/v1/responses', { model: 'no-such-model', input: 'hi' }, bearer);
    assert.equal(resp.status, 404);
    errorOf(await resp.text());

    const ant = await postJson('/v1/messages', { model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, anthropicHeaders);
    assert.equal(ant.status, 404);
    const a = await ant.json();
    assert.equal(a.type, 'error');
    assert.equal(a.error.type, 'not_found_error');
    assert.equal(typeof a.error.message, 'string');

    const gem = await postJson('/v1beta/models/no-such-model:generateContent', { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, { 'x-goog-api-key': CLIENT_KEY });
    assert.equal(gem.status, 404);
    const g = await gem.json();
    assert.equal(g.error.code, 404);
    assert.equal(g.error.status, 'NOT_FOUND');
    assert.equal(typeof g.error.message, 'string');

    const oll = await postJson('/api/chat', { model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }, bearer);
    assert.equal(oll.status, 404);
    const o = await oll.json();
    assert.equal(typeof o.error, 'string');
    assert.ok(o.error.includes('no-such-model'), o.error);

    assert.equal(mock.requests.length, 0, 'an unknown model went upstream');
  });

  it('unknown model → 404 through each SDK', async () => {
    await assert.rejects(clients.openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }), (e) => e.status === 404);
    await assert.rejects(clients.openai.responses.create({ model: 'no-such-model', input: 'hi' }), (e) => e.status === 404);
    await assert.rejects(clients.anthropic.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }), (e) => e.status === 404 && e.error?.error?.type === 'not_found_error');
    await assert.rejects(clients.gemini.models.generateContent({ model: 'no-such-model', contents: 'hi' }), (e) => e.status === 404);
    await assert.rejects(clients.ollama.chat({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }), (e) => e.status_code === 404);
  });

  it('wrong client key → 401 in each shape', async () => {
    const wrong = 'sk-wrong-key';
    const chat = await postJson('/v1/chat/completions', { model: alias('openai'), messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${wrong}` });
    assert.equal(chat.status, 401);
    errorOf(await chat.text());

    const ant = await postJson('/v1/messages', { model: alias('anthropic'), max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }, { 'x-api-key': wrong, 'anthropic-version': '2023-06-01' });
    assert.equal(ant.status, 401);
    const a = await ant.json();
    assert.equal(a.type, 'error');
    assert.equal(a.error.type, 'authentication_error');

    const gem = await postJson(`/v1beta/models/${alias('gemini')}:generateContent`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }, { 'x-goog-api-key': wrong });
    assert.equal(gem.status, 401);
    const g = await gem.json();
    assert.equal(g.error.code, 401);
    assert.equal(g.error.status, 'UNAUTHENTICATED');

    const oll = await postJson('/api/chat', { model: alias('ollama'), messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${wrong}` });
    assert.equal(oll.status, 401);
    assert.equal(typeof (await oll.json()).error, 'string');
  });
});
