// A scripted mock upstream that speaks the four provider protocols natively on
// one port, for the translation tests:
//
//   OpenAI     POST /v1/chat/completions (JSON or SSE; stream_options.include_usage
//              adds the usage chunk with choices: []), POST /v1/embeddings, GET /v1/models
//   Anthropic  POST /v1/messages (JSON or named SSE events), POST /v1/messages/count_tokens
//   Gemini     POST /v1beta/models/{m}:generateContent, :streamGenerateContent (?alt=sse:
//              SSE; without: one JSON array), :countTokens, :embedContent,
//              :batchEmbedContents; GET /v1beta/models
//   Ollama     POST /api/chat, /api/generate (NDJSON; `stream` defaults to true),
//              /api/embed, /api/show; GET /api/tags, /api/version
//
// What it answers is scripted by the last user turn (see script()):
//   - the last turn holds tool results  → a text that quotes every result (MOCK.resultText)
//   - the text contains "two tools"     → two parallel calls: get_weather {city: Paris}, get_time {tz: CET}
//   - the text contains "weather"       → one call: get_weather {city: Paris}
//   - the text contains "think"         → a reasoning part (MOCK.thinking), then MOCK.text
//   - anything else                     → MOCK.text[protocol], streamed in several pieces
// Usage is fixed per protocol (MOCK.usage), so tests can assert the translated numbers.
// Requests that the real API would refuse (or that break the script: a tool the
// request does not declare) get a 400 in the protocol's own error shape, saying why.
//
//   const mock = await startProtocolMock();
//   mock.url; mock.port; mock.requests   // [{protocol, method, url, path, query, headers, body}]
//   mock.reset(); await mock.close();

import http from 'node:http';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const MOCK = {
  text: {
    openai: 'Hello from the openai mock.',
    anthropic: 'Hello from the anthropic mock.',
    gemini: 'Hello from the gemini mock.',
    ollama: 'Hello from the ollama mock.',
  },
  thinking: 'Let me think about this first.',
  // The answer to a turn of tool results: quotes each result, in order.
  resultText: (protocol, results) => `The ${protocol} mock read: ${results.join(' | ')}`,
  // Normalised usage of every answer: input (prompt) and output (completion)
  // tokens. Gemini's thoughts are separate from its candidates (only on "think").
  // OpenAI's reasoning tokens are part of its 7 completion tokens.
  usage: {
    openai: { input: 11, output: 7, reasoning: 3 },
    anthropic: { input: 21, output: 9 },
    gemini: { input: 31, output: 12, thoughts: 5 },
    ollama: { input: 41, output: 15 },
  },
  countTokens: { anthropic: 21, gemini: 31 },
  embedding: [0.25, -0.5, 0.75, 0.125],
  // The calls the script makes, with the fragments their arguments stream in.
  calls: {
    get_weather: { name: 'get_weather', args: { city: 'Paris' }, fragments: ['{"ci', 'ty": "Pa', 'ris"}'] },
    get_time: { name: 'get_time', args: { tz: 'CET' }, fragments: ['{"tz"', ': "CET"}'] },
  },
  signature: 'EqMockSignature0123456789abcdefABCDEF==',
  ollamaVersion: '0.12.6',
};

// Splits a text into the pieces it is streamed in (words with their leading space).
export function pieces(text) {
  return text.match(/\s*\S+/g) ?? [text];
}

const WEATHER = MOCK.calls.get_weather;
const TIME = MOCK.calls.get_time;

// What to answer. `text` is the last user text; `results` the last turn's tool
// results (strings), or null when the last turn holds none.
function script(protocol, text, results) {
  if (results && results.length) return { kind: 'result', answer: MOCK.resultText(protocol, results) };
  const t = (text ?? '').toLowerCase();
  if (t.includes('two tools')) return { kind: 'tools', calls: [WEATHER, TIME] };
  if (t.includes('weather')) return { kind: 'tools', calls: [WEATHER] };
  if (t.includes('think')) return { kind: 'think', thinking: MOCK.thinking, answer: MOCK.text[protocol] };
  return { kind: 'text', answer: MOCK.text[protocol] };
}

class MockError extends Error {
  constructor(status, message, kind) {
    super(message);
    this.status = status;
    this.kind = kind; // a protocol-neutral hint: 'invalid', 'auth', 'not_found'
  }
}
const invalid = (message) => new MockError(400, `mock: ${message}`, 'invalid');

function requireTools(declared, calls) {
  for (const c of calls) {
    if (!declared.includes(c.name)) {
      throw invalid(`the script calls ${c.name}, but the request declares only [${declared.join(', ')}]`);
    }
  }
}

const textOfParts = (content) => {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .filter((p) => p && (p.type === 'text' || p.type === 'input_text') && typeof p.text === 'string')
      .map((p) => p.text)
      .join('');
  }
  return '';
};

// ---------------------------------------------------------------------------
// Response helpers

function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

// Writes each frame in two halves with a short pause in between, so the
// gateway sees frames split across reads as on a real network.
async function writeFrames(res, frames) {
  for (const f of frames) {
    if (res.destroyed) return;
    const cut = Math.max(1, Math.floor(f.length / 2));
    res.write(f.slice(0, cut));
    await sleep(1);
    res.write(f.slice(cut));
    await sleep(1);
  }
  res.end();
}

// ---------------------------------------------------------------------------
// OpenAI Chat Completions

function openaiError(res, e) {
  const type = e.status >= 500 ? 'server_error' : 'invalid_request_error';
  const code = e.kind === 'auth' ? 'invalid_api_key' : e.kind === 'not_found' ? 'model_not_found' : null;
  sendJson(res, e.status, { error: { message: e.message, type, param: null, code } });
}

function openaiAuth(req) {
  if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) {
    throw new MockError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.", 'auth');
  }
}

function openaiPrepare(body) {
  if (typeof body.model !== 'string' || !body.model) throw invalid("'model' is required");
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid("'messages' must be a non-empty array");
  const msgs = body.messages;
  // Tool messages must answer a call of the closest assistant message before them.
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(m.role)) throw invalid(`messages[${i}].role '${m.role}' is not valid`);
    if (m.role === 'assistant' && m.tool_calls !== undefined) {
      if (!Array.isArray(m.tool_calls)) throw invalid(`messages[${i}].tool_calls must be an array`);
      for (const [j, c] of m.tool_calls.entries()) {
        if (typeof c.id !== 'string' || !c.id) throw invalid(`messages[${i}].tool_calls[${j}].id is required`);
        if (c.id.length > 40) throw invalid(`messages[${i}].tool_calls[${j}].id: string too long, max 40`);
        if (typeof c.function?.name !== 'string') throw invalid(`messages[${i}].tool_calls[${j}].function.name is required`);
        if (typeof c.function?.arguments !== 'string') throw invalid(`messages[${i}].tool_calls[${j}].function.arguments must be a string`);
      }
    }
    if (m.role === 'tool') {
      let k = i - 1;
      while (k >= 0 && msgs[k].role === 'tool') k--;
      const ids = k >= 0 && msgs[k].role === 'assistant' ? (msgs[k].tool_calls ?? []).map((c) => c.id) : [];
      if (!ids.includes(m.tool_call_id)) {
        throw invalid(`messages[${i}]: tool_call_id '${m.tool_call_id}' does not answer a tool call of the preceding assistant message (ids: [${ids.join(', ')}])`);
      }
    }
  }
  let results = null;
  if (msgs.at(-1).role === 'tool') {
    let k = msgs.length - 1;
    results = [];
    while (k >= 0 && msgs[k].role === 'tool') results.unshift(textOfParts(msgs[k--].content));
  }
  const lastUser = [...msgs].reverse().find((m) => m.role === 'user');
  const s = script('openai', textOfParts(lastUser?.content), results);
  if (s.kind === 'tools') {
    const declared = (body.tools ?? []).map((t) => t?.function?.name).filter(Boolean);
    requireTools(declared, s.calls);
  }
  return s;
}

function openaiUsage(s) {
  const u = MOCK.usage.openai;
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: s.kind === 'think' ? u.reasoning : 0, audio_tokens: 0 },
  };
}

async function openaiChat(ctx, req, res, body) {
  openaiAuth(req);
  const s = openaiPrepare(body);
  const id = `chatcmpl-mock${ctx.n}`;
  const created = Math.floor(Date.now() / 1000);
  const callIds = (s.calls ?? []).map((_, i) => `call_mock${ctx.n}_${i}`);
  const finish = s.kind === 'tools' ? 'tool_calls' : 'stop';
  if (!body.stream) {
    const message = { role: 'assistant', content: s.kind === 'tools' ? null : s.answer, refusal: null };
    if (s.kind === 'think') message.reasoning_content = s.thinking;
    if (s.kind === 'tools') {
      message.tool_calls = s.calls.map((c, i) => ({
        id: callIds[i], type: 'function', function: { name: c.name, arguments: c.fragments.join('') },
      }));
    }
    sendJson(res, 200, {
      id, object: 'chat.completion', created, model: body.model, system_fingerprint: 'fp_mock',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage: openaiUsage(s),
    });
    return;
  }
  const includeUsage = body.stream_options?.include_usage === true;
  const chunk = (delta, finishReason = null) => {
    const c = {
      id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: 'fp_mock',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (includeUsage) c.usage = null;
    return `data: ${JSON.stringify(c)}\n\n`;
  };
  const frames = [];
  if (s.kind === 'tools') {
    // Each call opens with id + name, then the argument fragments of all calls
    // interleave, keyed by index only.
    s.calls.forEach((c, i) => {
      const delta = { tool_calls: [{ index: i, id: callIds[i], type: 'function', function: { name: c.name, arguments: '' } }] };
      frames.push(chunk(i === 0 ? { role: 'assistant', content: null, refusal: null, ...delta } : delta));
    });
    const longest = Math.max(...s.calls.map((c) => c.fragments.length));
    for (let f = 0; f < longest; f++) {
      s.calls.forEach((c, i) => {
        if (f < c.fragments.length) frames.push(chunk({ tool_calls: [{ index: i, function: { arguments: c.fragments[f] } }] }));
      });
    }
  } else {
    frames.push(chunk({ role: 'assistant', content: '', refusal: null }));
    if (s.kind === 'think') for (const p of pieces(s.thinking)) frames.push(chunk({ reasoning_content: p }));
    for (const p of pieces(s.answer)) frames.push(chunk({ content: p }));
  }
  frames.push(chunk({}, finish));
  if (includeUsage) {
    frames.push(`data: ${JSON.stringify({
      id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: 'fp_mock',
      choices: [], usage: openaiUsage(s),
    })}\n\n`);
  }
  frames.push('data: [DONE]\n\n');
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  await writeFrames(res, frames);
}

function openaiEmbeddings(ctx, req, res, body) {
  openaiAuth(req);
  if (typeof body.model !== 'string' || !body.model) throw invalid("'model' is required");
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  if (inputs.length === 0 || inputs.some((i) => i === undefined)) throw invalid("'input' is required");
  sendJson(res, 200, {
    object: 'list',
    // encoding_format base64 (what the openai SDK asks for): little-endian float32.
    data: inputs.map((_, index) => ({
      object: 'embedding', index,
      embedding: body.encoding_format === 'base64' ? Buffer.from(new Float32Array(MOCK.embedding).buffer).toString('base64') : MOCK.embedding,
    })),
    model: body.model,
    usage: { prompt_tokens: MOCK.usage.openai.input, total_tokens: MOCK.usage.openai.input },
  });
}

function openaiModels(ctx, req, res) {
  openaiAuth(req);
  sendJson(res, 200, {
    object: 'list',
    data: ['upstream-model-openai', 'gpt-4o-mini'].map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'mock' })),
  });
}

// ---------------------------------------------------------------------------
// Anthropic Messages

const ANTHROPIC_ERROR_TYPES = { 400: 'invalid_request_error', 401: 'authentication_error', 404: 'not_found_error' };

function anthropicError(res, e) {
  sendJson(res, e.status, {
    type: 'error',
    error: { type: ANTHROPIC_ERROR_TYPES[e.status] ?? 'api_error', message: e.message },
    request_id: 'req_mock',
  }, { 'request-id': 'req_mock' });
}

function anthropicAuth(req) {
  if (!req.headers['x-api-key'] && !/^Bearer \S+/.test(req.headers.authorization ?? '')) {
    throw new MockError(401, 'x-api-key header is required', 'auth');
  }
  if (!req.headers['anthropic-version']) throw invalid('anthropic-version: header is required');
}

function anthropicBlocks(content) {
  return typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : null;
}

function anthropicValidateMessages(body) {
  if (typeof body.model !== 'string' || !body.model) throw invalid('model: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages: at least one message is required');
  if (body.system !== undefined && typeof body.system !== 'string') {
    if (!Array.isArray(body.system) || body.system.some((b) => b?.type !== 'text' || typeof b.text !== 'string' || b.text === '')) {
      throw invalid('system: must be a string or a list of non-empty text blocks');
    }
  }
  for (const [ti, t] of (body.tools ?? []).entries()) {
    if (typeof t.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) throw invalid(`tools.${ti}.name: invalid`);
    if (!t.type || t.type === 'custom') {
      if (typeof t.input_schema !== 'object' || t.input_schema === null) throw invalid(`tools.${ti}.custom.input_schema: Field required`);
    }
  }
  const msgs = body.messages;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i];
    if (m.role !== 'user' && m.role !== 'assistant') throw invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    const blocks = anthropicBlocks(m.content);
    if (!blocks) throw invalid(`messages.${i}.content: must be a string or a list of blocks`);
    if (m.role === 'user' && blocks.length === 0) throw invalid(`messages.${i}: user messages must have non-empty content`);
    for (const [j, b] of blocks.entries()) {
      if (b.type === 'text' && (typeof b.text !== 'string' || b.text === '')) throw invalid(`messages.${i}.content.${j}.text: text content blocks must be non-empty`);
      if (b.type === 'tool_use') {
        if (m.role !== 'assistant') throw invalid(`messages.${i}.content.${j}: tool_use only in assistant messages`);
        if (typeof b.id !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(b.id)) throw invalid(`messages.${i}.content.${j}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
        if (typeof b.input !== 'object' || b.input === null || Array.isArray(b.input)) throw invalid(`messages.${i}.content.${j}.tool_use.input: Input should be a valid dictionary`);
      }
      if (b.type === 'thinking' && typeof b.signature !== 'string') throw invalid(`messages.${i}.content.${j}.thinking.signature: Field required`);
      if (b.type === 'tool_result') {
        if (m.role !== 'user') throw invalid(`messages.${i}.content.${j}: tool_result only in user messages`);
      }
    }
    // Every tool_use must be answered by tool_result blocks at the start of the next user message.
    if (m.role === 'assistant') {
      const uses = blocks.filter((b) => b.type === 'tool_use').map((b) => b.id);
      if (uses.length) {
        const next = msgs[i + 1];
        if (next) {
          const nb = anthropicBlocks(next.content) ?? [];
          const answered = nb.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id);
          const firstNonResult = nb.findIndex((b) => b.type !== 'tool_result');
          const lastResult = nb.map((b) => b.type).lastIndexOf('tool_result');
          for (const u of uses) {
            if (!answered.includes(u)) throw invalid(`messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${u}`);
          }
          if (firstNonResult >= 0 && firstNonResult < lastResult) throw invalid(`messages.${i + 1}: tool_result blocks must come first in the user message`);
        }
      }
    }
    if (m.role === 'user') {
      const results = blocks.filter((b) => b.type === 'tool_result');
      if (results.length) {
        const prev = i > 0 ? anthropicBlocks(msgs[i - 1].content) ?? [] : [];
        const uses = msgs[i - 1]?.role === 'assistant' ? prev.filter((b) => b.type === 'tool_use').map((b) => b.id) : [];
        for (const r of results) {
          if (!uses.includes(r.tool_use_id)) throw invalid(`messages.${i}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${r.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`);
        }
      }
    }
  }
}

function anthropicPrepare(body) {
  anthropicValidateMessages(body);
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) throw invalid('max_tokens: Field required');
  const last = body.messages.at(-1);
  const blocks = anthropicBlocks(last.content);
  const results = last.role === 'user'
    ? blocks.filter((b) => b.type === 'tool_result').map((b) => textOfParts(b.content ?? ''))
    : [];
  const lastUser = [...body.messages].reverse().find((m) => m.role === 'user');
  const s = script('anthropic', textOfParts(anthropicBlocks(lastUser.content)), results.length ? results : null);
  if (s.kind === 'tools') requireTools((body.tools ?? []).map((t) => t.name), s.calls);
  return s;
}

async function anthropicMessages(ctx, req, res, body) {
  anthropicAuth(req);
  const s = anthropicPrepare(body);
  const u = MOCK.usage.anthropic;
  const id = `msg_mock${ctx.n}`;
  const toolIds = (s.calls ?? []).map((_, i) => `toolu_mock${ctx.n}_${i}`);
  const stopReason = s.kind === 'tools' ? 'tool_use' : 'end_turn';
  if (!body.stream) {
    const content = [];
    if (s.kind === 'think') content.push({ type: 'thinking', thinking: s.thinking, signature: MOCK.signature });
    if (s.kind === 'tools') {
      s.calls.forEach((c, i) => content.push({ type: 'tool_use', id: toolIds[i], name: c.name, input: c.args }));
    } else {
      content.push({ type: 'text', text: s.answer });
    }
    sendJson(res, 200, {
      id, type: 'message', role: 'assistant', model: body.model, content,
      stop_reason: stopReason, stop_sequence: null,
      usage: { input_tokens: u.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: u.output, service_tier: 'standard' },
    });
    return;
  }
  const ev = (name, data) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
  const frames = [ev('message_start', {
    message: {
      id, type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: u.input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1, service_tier: 'standard' },
    },
  })];
  let index = 0;
  let pinged = false;
  const start = (block) => {
    frames.push(ev('content_block_start', { index, content_block: block }));
    if (!pinged) {
      frames.push(ev('ping', {}));
      pinged = true;
    }
  };
  const delta = (d) => frames.push(ev('content_block_delta', { index, delta: d }));
  const stop = () => frames.push(ev('content_block_stop', { index: index++ }));
  if (s.kind === 'think') {
    start({ type: 'thinking', thinking: '', signature: '' });
    for (const p of pieces(s.thinking)) delta({ type: 'thinking_delta', thinking: p });
    delta({ type: 'signature_delta', signature: MOCK.signature });
    stop();
  }
  if (s.kind === 'tools') {
    s.calls.forEach((c, i) => {
      start({ type: 'tool_use', id: toolIds[i], name: c.name, input: {} });
      delta({ type: 'input_json_delta', partial_json: '' });
      for (const f of c.fragments) delta({ type: 'input_json_delta', partial_json: f });
      stop();
    });
  } else {
    start({ type: 'text', text: '' });
    for (const p of pieces(s.answer)) delta({ type: 'text_delta', text: p });
    stop();
  }
  frames.push(ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: u.output } }));
  frames.push(ev('message_stop', {}));
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_mock' });
  await writeFrames(res, frames);
}

function anthropicCountTokens(ctx, req, res, body) {
  anthropicAuth(req);
  anthropicValidateMessages(body);
  sendJson(res, 200, { input_tokens: MOCK.countTokens.anthropic });
}

// ---------------------------------------------------------------------------
// Gemini generateContent

const GEMINI_STATUS = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND' };

function geminiError(res, e) {
  sendJson(res, e.status, { error: { code: e.status, message: e.message, status: GEMINI_STATUS[e.status] ?? 'INTERNAL' } });
}

function geminiAuth(req, query) {
  if (!req.headers['x-goog-api-key'] && !query.key) {
    throw new MockError(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.", 'auth');
  }
}

function geminiValidateContents(contents, where = 'contents') {
  if (!Array.isArray(contents) || contents.length === 0) throw invalid(`${where} is not specified`);
  for (let i = 0; i < contents.length; i++) {
    const c = contents[i];
    const role = c.role ?? 'user';
    if (role !== 'user' && role !== 'model') throw invalid(`${where}[${i}].role: Please use a valid role: user, model.`);
    if (!Array.isArray(c.parts) || c.parts.length === 0) throw invalid(`${where}[${i}].parts: must not be empty`);
    for (const [j, p] of c.parts.entries()) {
      if (p.functionResponse) {
        const fr = p.functionResponse;
        if (typeof fr.name !== 'string' || fr.name === '') throw invalid(`${where}[${i}].parts[${j}].function_response.name: Name cannot be empty.`);
        if (typeof fr.response !== 'object' || fr.response === null || Array.isArray(fr.response)) {
          throw invalid(`${where}[${i}].parts[${j}].function_response.response: Proto field is not repeating, cannot start list / must be an object`);
        }
      }
      if (p.functionCall) {
        if (role !== 'model') throw invalid(`${where}[${i}].parts[${j}]: functionCall only in model turns`);
        if (typeof p.functionCall.args !== 'object' && p.functionCall.args !== undefined) throw invalid(`${where}[${i}].parts[${j}].function_call.args must be an object`);
      }
    }
    // The number of function response parts must equal the function call parts of the model turn before.
    const responses = c.parts.filter((p) => p.functionResponse);
    if (responses.length) {
      const prev = contents[i - 1];
      const calls = prev && prev.role === 'model' ? prev.parts.filter((p) => p.functionCall) : [];
      if (calls.length !== responses.length) {
        throw invalid(`Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn (${where}[${i}]: ${responses.length} responses, ${calls.length} calls).`);
      }
      const names = calls.map((p) => p.functionCall.name).sort();
      const got = responses.map((p) => p.functionResponse.name).sort();
      if (JSON.stringify(names) !== JSON.stringify(got)) throw invalid(`${where}[${i}]: function response names [${got}] do not match the calls [${names}]`);
    }
  }
}

function geminiPrepare(body) {
  geminiValidateContents(body.contents);
  if (body.systemInstruction !== undefined && !Array.isArray(body.systemInstruction?.parts)) throw invalid('systemInstruction.parts is required');
  const last = body.contents.at(-1);
  const responses = (last.role ?? 'user') === 'user' ? last.parts.filter((p) => p.functionResponse) : [];
  const results = responses.map((p) => JSON.stringify(p.functionResponse.response));
  const lastUser = [...body.contents].reverse().find((c) => (c.role ?? 'user') === 'user' && c.parts.some((p) => typeof p.text === 'string'));
  const text = lastUser ? lastUser.parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('') : '';
  const s = script('gemini', text, results.length ? results : null);
  if (s.kind === 'tools') {
    const declared = (body.tools ?? []).flatMap((t) => t.functionDeclarations ?? t.function_declarations ?? []).map((d) => d.name);
    requireTools(declared, s.calls);
  }
  return s;
}

function geminiUsage(s, candidates) {
  const u = MOCK.usage.gemini;
  const out = {
    promptTokenCount: u.input,
    candidatesTokenCount: candidates,
    totalTokenCount: u.input + candidates,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }],
  };
  if (s.kind === 'think') {
    out.thoughtsTokenCount = u.thoughts;
    out.totalTokenCount += u.thoughts;
  }
  return out;
}

async function geminiGenerate(ctx, req, res, body, model, stream, query) {
  geminiAuth(req, query);
  const s = geminiPrepare(body);
  const u = MOCK.usage.gemini;
  const responseId = `mockresp${ctx.n}`;
  const candidate = (parts, finishReason) => {
    const c = { content: { parts, role: 'model' } };
    if (finishReason) c.finishReason = finishReason;
    c.index = 0;
    return c;
  };
  const response = (parts, finishReason, candidates) => ({
    candidates: [candidate(parts, finishReason)],
    usageMetadata: geminiUsage(s, candidates),
    modelVersion: model,
    responseId,
  });
  if (!stream) {
    const parts = [];
    if (s.kind === 'think') parts.push({ text: s.thinking, thought: true });
    if (s.kind === 'tools') for (const c of s.calls) parts.push({ functionCall: { name: c.name, args: c.args } });
    else parts.push({ text: s.answer });
    sendJson(res, 200, response(parts, 'STOP', u.output));
    return;
  }
  // Chunks; usageMetadata is cumulative on each, the last one carries the totals.
  const chunks = [];
  if (s.kind === 'tools') {
    s.calls.forEach((c, i) => chunks.push(response([{ functionCall: { name: c.name, args: c.args } }], null, Math.round((u.output * (i + 1)) / (s.calls.length + 1)))));
    chunks.push(response([{ text: '' }], 'STOP', u.output));
  } else {
    if (s.kind === 'think') chunks.push(response([{ text: s.thinking, thought: true }], null, 0));
    const ps = pieces(s.answer);
    ps.forEach((p, i) => {
      const last = i === ps.length - 1;
      chunks.push(response([{ text: p }], last ? 'STOP' : null, last ? u.output : Math.max(1, Math.floor((u.output * (i + 1)) / ps.length) - 1)));
    });
  }
  if (query.alt === 'sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-disposition': 'attachment' });
    await writeFrames(res, chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`));
  } else {
    // Without alt=sse the stream is one JSON array, written element by element.
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    const frames = chunks.map((c, i) => `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(c, null, 2)}`);
    frames.push(']');
    await writeFrames(res, frames);
  }
}

function geminiCountTokens(ctx, req, res, body, model, query) {
  geminiAuth(req, query);
  const contents = body.contents ?? body.generateContentRequest?.contents;
  geminiValidateContents(contents);
  const n = MOCK.countTokens.gemini;
  sendJson(res, 200, { totalTokens: n, promptTokensDetails: [{ modality: 'TEXT', tokenCount: n }] });
}

function geminiEmbed(ctx, req, res, body, model, query) {
  geminiAuth(req, query);
  if (!Array.isArray(body.content?.parts) || body.content.parts.length === 0) throw invalid('content.parts is required');
  sendJson(res, 200, { embedding: { values: MOCK.embedding } });
}

function geminiBatchEmbed(ctx, req, res, body, model, query) {
  geminiAuth(req, query);
  if (!Array.isArray(body.requests) || body.requests.length === 0) throw invalid('requests is required');
  for (const [i, r] of body.requests.entries()) {
    if (r.model !== `models/${model}`) throw invalid(`requests[${i}].model '${r.model}' must be 'models/${model}'`);
    if (!Array.isArray(r.content?.parts) || r.content.parts.length === 0) throw invalid(`requests[${i}].content.parts is required`);
  }
  sendJson(res, 200, { embeddings: body.requests.map(() => ({ values: MOCK.embedding })) });
}

function geminiModels(ctx, req, res, query) {
  geminiAuth(req, query);
  sendJson(res, 200, {
    models: ['upstream-model-gemini', 'gemini-embedding-001'].map((m) => ({
      name: `models/${m}`, version: '001', displayName: m, inputTokenLimit: 1048576, outputTokenLimit: 65536,
      supportedGenerationMethods: ['generateContent', 'countTokens'],
    })),
  });
}

// ---------------------------------------------------------------------------
// Ollama

function ollamaError(res, e) {
  sendJson(res, e.status, { error: e.message });
}

const ollamaTimings = (u) => ({
  total_duration: 123456789, load_duration: 1234567, prompt_eval_count: u.input, prompt_eval_duration: 2345678,
  eval_count: u.output, eval_duration: 34567890,
});

function ollamaChatPrepare(body) {
  if (typeof body.model !== 'string' || !body.model) throw invalid('model is required');
  if (!Array.isArray(body.messages)) throw invalid('messages is required');
  const msgs = body.messages;
  for (const [i, m] of msgs.entries()) {
    if (!['system', 'user', 'assistant', 'tool'].includes(m.role)) throw invalid(`messages[${i}]: invalid role '${m.role}'`);
    if (m.content !== undefined && typeof m.content !== 'string') {
      throw new MockError(400, `json: cannot unmarshal ${Array.isArray(m.content) ? 'array' : typeof m.content} into Go struct field Message.messages.content of type string`, 'invalid');
    }
    for (const c of m.tool_calls ?? []) {
      if (typeof c.function?.arguments !== 'object' || c.function.arguments === null || Array.isArray(c.function.arguments)) {
        throw new MockError(400, 'json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments', 'invalid');
      }
    }
  }
  let results = null;
  if (msgs.length && msgs.at(-1).role === 'tool') {
    let k = msgs.length - 1;
    results = [];
    while (k >= 0 && msgs[k].role === 'tool') results.unshift(msgs[k--].content ?? '');
    if (k < 0 || msgs[k].role !== 'assistant' || !(msgs[k].tool_calls ?? []).length) throw invalid('tool messages must follow an assistant message with tool_calls');
  }
  const lastUser = [...msgs].reverse().find((m) => m.role === 'user');
  const s = script('ollama', lastUser?.content ?? '', results);
  if (s.kind === 'tools') requireTools((body.tools ?? []).map((t) => t?.function?.name).filter(Boolean), s.calls);
  return s;
}

async function ollamaChat(ctx, req, res, body) {
  const s = ollamaChatPrepare(body);
  const u = MOCK.usage.ollama;
  const created = new Date().toISOString();
  const toolCalls = (s.calls ?? []).map((c, i) => ({ function: { index: i, name: c.name, arguments: c.args } }));
  const done = { model: body.model, created_at: created, done: true, done_reason: 'stop', ...ollamaTimings(u) };
  if (body.stream === false) {
    const message = { role: 'assistant', content: s.kind === 'tools' ? '' : s.answer };
    if (s.kind === 'think') message.thinking = s.thinking;
    if (s.kind === 'tools') message.tool_calls = toolCalls;
    sendJson(res, 200, { model: body.model, created_at: created, message, ...done });
    return;
  }
  const line = (message) => `${JSON.stringify({ model: body.model, created_at: created, message: { role: 'assistant', ...message }, done: false })}\n`;
  const frames = [];
  if (s.kind === 'think') for (const p of pieces(s.thinking)) frames.push(line({ content: '', thinking: p }));
  if (s.kind === 'tools') {
    // Complete calls; two calls come in two lines.
    for (const tc of toolCalls) frames.push(line({ content: '', tool_calls: [tc] }));
  } else {
    for (const p of pieces(s.answer)) frames.push(line({ content: p }));
  }
  frames.push(`${JSON.stringify({ model: body.model, created_at: created, message: { role: 'assistant', content: '' }, ...done })}\n`);
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  await writeFrames(res, frames);
}

async function ollamaGenerate(ctx, req, res, body) {
  if (typeof body.model !== 'string' || !body.model) throw invalid('model is required');
  if (body.prompt !== undefined && typeof body.prompt !== 'string') throw invalid('prompt must be a string');
  const s = script('ollama', body.prompt ?? '', null);
  if (s.kind === 'tools') throw invalid('/api/generate has no tools');
  const u = MOCK.usage.ollama;
  const created = new Date().toISOString();
  const done = { model: body.model, created_at: created, response: '', done: true, done_reason: 'stop', context: [1, 2, 3], ...ollamaTimings(u) };
  if (body.stream === false) {
    const out = { ...done, response: s.answer };
    if (s.kind === 'think') out.thinking = s.thinking;
    sendJson(res, 200, out);
    return;
  }
  const frames = [];
  if (s.kind === 'think') for (const p of pieces(s.thinking)) frames.push(`${JSON.stringify({ model: body.model, created_at: created, response: '', thinking: p, done: false })}\n`);
  for (const p of pieces(s.answer)) frames.push(`${JSON.stringify({ model: body.model, created_at: created, response: p, done: false })}\n`);
  frames.push(`${JSON.stringify(done)}\n`);
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  await writeFrames(res, frames);
}

function ollamaEmbed(ctx, req, res, body) {
  if (typeof body.model !== 'string' || !body.model) throw invalid('model is required');
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  if (inputs.length === 0 || inputs.some((i) => typeof i !== 'string')) throw invalid('input must be a string or a list of strings');
  sendJson(res, 200, {
    model: body.model, embeddings: inputs.map(() => MOCK.embedding),
    total_duration: 1234567, load_duration: 12345, prompt_eval_count: MOCK.usage.ollama.input,
  });
}

const OLLAMA_DETAILS = { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '8.0B', quantization_level: 'Q4_K_M' };

function ollamaTags(ctx, req, res) {
  sendJson(res, 200, {
    models: ['upstream-model-ollama:latest'].map((name) => ({
      name, model: name, modified_at: '2025-01-01T00:00:00Z', size: 4920753328,
      digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72', details: OLLAMA_DETAILS,
    })),
  });
}

function ollamaShow(ctx, req, res, body) {
  if (typeof (body.model ?? body.name) !== 'string') throw invalid('model is required');
  sendJson(res, 200, {
    modelfile: '', parameters: '', template: '{{ .Prompt }}', details: OLLAMA_DETAILS,
    model_info: { 'general.architecture': 'llama', 'llama.context_length': 131072 },
    capabilities: ['completion', 'tools', 'thinking'], modified_at: '2025-01-01T00:00:00Z',
  });
}

// ---------------------------------------------------------------------------
// Routing

function route(method, pathname) {
  const post = method === 'POST';
  const get = method === 'GET';
  if (pathname === '/v1/chat/completions' && post) return ['openai', openaiChat];
  if (pathname === '/v1/embeddings' && post) return ['openai', openaiEmbeddings];
  if (pathname === '/v1/models' && get) return ['openai', openaiModels];
  if (pathname === '/v1/messages' && post) return ['anthropic', anthropicMessages];
  if (pathname === '/v1/messages/count_tokens' && post) return ['anthropic', anthropicCountTokens];
  if (pathname === '/v1beta/models' && get) return ['gemini', (ctx, req, res, body, query) => geminiModels(ctx, req, res, query)];
  const g = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/.exec(pathname);
  if (g && post) {
    const model = decodeURIComponent(g[1]);
    const handlers = {
      generateContent: (ctx, req, res, body, query) => geminiGenerate(ctx, req, res, body, model, false, query),
      streamGenerateContent: (ctx, req, res, body, query) => geminiGenerate(ctx, req, res, body, model, true, query),
      countTokens: (ctx, req, res, body, query) => geminiCountTokens(ctx, req, res, body, model, query),
      embedContent: (ctx, req, res, body, query) => geminiEmbed(ctx, req, res, body, model, query),
      batchEmbedContents: (ctx, req, res, body, query) => geminiBatchEmbed(ctx, req, res, body, model, query),
    };
    if (handlers[g[2]]) return ['gemini', handlers[g[2]]];
    return ['gemini', null];
  }
  if (pathname === '/api/chat' && post) return ['ollama', ollamaChat];
  if (pathname === '/api/generate' && post) return ['ollama', ollamaGenerate];
  if (pathname === '/api/embed' && post) return ['ollama', ollamaEmbed];
  if (pathname === '/api/show' && post) return ['ollama', ollamaShow];
  if (pathname === '/api/tags' && get) return ['ollama', ollamaTags];
  if (pathname === '/api/version' && get) return ['ollama', (ctx, req, res) => sendJson(res, 200, { version: MOCK.ollamaVersion })];
  if (pathname.startsWith('/v1beta/')) return ['gemini', null];
  if (pathname.startsWith('/api/')) return ['ollama', null];
  if (pathname.startsWith('/v1/messages')) return ['anthropic', null];
  return ['openai', null];
}

const ERROR_WRITERS = { openai: openaiError, anthropic: anthropicError, gemini: geminiError, ollama: ollamaError };

export async function startProtocolMock() {
  const requests = [];
  let counter = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const u = new URL(req.url, 'http://mock');
      const query = Object.fromEntries(u.searchParams);
      const [protocol, handler] = route(req.method, u.pathname);
      const entry = {
        protocol, method: req.method, url: req.url, path: u.pathname, query,
        headers: { ...req.headers }, rawBody: raw, body: null,
      };
      requests.push(entry);
      const ctx = { n: ++counter };
      try {
        if (!handler) throw new MockError(404, `mock: no route for ${req.method} ${u.pathname}`, 'not_found');
        let body = {};
        if (req.method === 'POST') {
          try {
            body = JSON.parse(raw);
          } catch {
            throw invalid(`the body is not JSON: ${raw.slice(0, 200)}`);
          }
          entry.body = body;
          if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object');
        }
        await handler(ctx, req, res, body, query);
      } catch (e) {
        if (!(e instanceof MockError)) {
          e = new MockError(500, `mock: ${e.stack ?? e}`, 'internal');
        }
        entry.error = e.message;
        if (res.headersSent) res.destroy();
        else ERROR_WRITERS[protocol](res, e);
      }
    });
  });
  server.keepAliveTimeout = 30000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    // Empties `requests` in place (references to it stay valid).
    reset() {
      requests.length = 0;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
