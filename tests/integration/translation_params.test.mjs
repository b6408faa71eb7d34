// Translation rules beyond the SDK matrix (translation.test.mjs): parameters
// an upstream cannot honour (400 naming them, or dropped with drop_params),
// provider/model and provider://model names on every front door, and
// count_tokens (upstream endpoint, or an estimate where there is none).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLIENT_KEY, startGateway } from './harness.mjs';
import { MOCK, startProtocolMock } from './protocol_mock.mjs';

let mock;
let gateway;

function configYaml(url) {
  return `server:
  listen: 127.0.0.1:8080
  auth: keys
  shutdown_timeout_s: 3
keys:
  - name: test
    key: ${CLIENT_KEY}
providers:
  - id: p-openai
    type: openai
    base_url: ${url}/v1
    keys: [{id: k, value: up-key-openai}]
  - id: p-anthropic
    type: anthropic
    base_url: ${url}
    keys: [{id: k, value: up-key-anthropic}]
  - id: p-gemini
    type: gemini
    base_url: ${url}
    keys: [{id: k, value: up-key-gemini}]
  - id: p-ollama
    type: ollama
    base_url: ${url}
    keys: [{id: k, value: up-key-ollama}]
    drop_params: true
models:
  - name: strict-openai
    target: p-openai/gpt-up
  - name: loose-openai
    target: p-openai/gpt-up
    drop_params: true
  - name: strict-ollama
    target: p-ollama/llama-up
    drop_params: false
`;
}

before(async () => {
  mock = await startProtocolMock();
  gateway = await startGateway(configYaml(mock.url));
});

after(async () => {
  await mock?.close();
  if (gateway) {
    const result = await gateway.stop();
    assert.equal(result.code, 0, `switchyard exited with ${JSON.stringify(result)}`);
  }
});

async function post(path, body, headers = {}) {
  mock.reset();
  const res = await fetch(`${gateway.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}`, ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const anthropicBody = (model, extra = {}) => ({
  model,
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Say hello.' }],
  ...extra,
});

describe('parameters the upstream cannot honour', () => {
  it('top_k to an openai upstream is a 400 naming it, in the client\'s shape, and nothing goes upstream', async () => {
    const r = await post('/v1/messages', anthropicBody('strict-openai', { top_k: 5 }));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.type, 'error');
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.message, /top_k/);
    assert.match(r.json.error.message, /drop_params/);
    assert.equal(mock.requests.length, 0);
  });

  it('drop_params on the alias drops it and the request is served', async () => {
    const r = await post('/v1/messages', anthropicBody('loose-openai', { top_k: 5 }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.content[0].text, MOCK.text.openai);
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0].body.top_k, undefined);
    assert.equal(mock.requests[0].body.model, 'gpt-up');
  });

  it('frequency_penalty to an anthropic upstream is a 400 naming it (OpenAI shape, param set)', async () => {
    const r = await post('/v1/chat/completions', {
      model: 'p-anthropic/claude-up',
      messages: [{ role: 'user', content: 'Say hello.' }],
      frequency_penalty: 0.5,
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.param, 'frequency_penalty');
    assert.match(r.json.error.message, /anthropic/);
    assert.equal(mock.requests.length, 0);
  });

  it('the provider\'s drop_params applies unless the alias overrides it', async () => {
    const body = (model) => ({
      model,
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: 'required',
    });
    const dropped = await post('/v1/chat/completions', body('p-ollama/llama-up'));
    assert.equal(dropped.status, 200, dropped.text);
    assert.equal(mock.requests.length, 1);
    const strict = await post('/v1/chat/completions', body('strict-ollama'));
    assert.equal(strict.status, 400, strict.text);
    assert.equal(strict.json.error.param, 'tool_choice');
    assert.equal(mock.requests.length, 0);
  });
});

describe('provider/model and provider://model on every front door', () => {
  it('Gemini puts it in the path', async () => {
    const r = await post('/v1beta/models/p-anthropic/claude-up:generateContent', {
      contents: [{ role: 'user', parts: [{ text: 'Say hello.' }] }],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.candidates[0].content.parts[0].text, MOCK.text.anthropic);
    assert.equal(mock.requests[0].path, '/v1/messages');
    assert.equal(mock.requests[0].body.model, 'claude-up');
  });

  it('Ollama, Anthropic and Responses take both forms in the body', async () => {
    const ollama = await post('/api/chat', {
      model: 'p-gemini://gemini-up',
      stream: false,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    assert.equal(ollama.status, 200, ollama.text);
    assert.equal(ollama.json.message.content, MOCK.text.gemini);
    assert.match(mock.requests[0].path, /^\/v1beta\/models\/gemini-up:generateContent/);

    const anthropic = await post('/v1/messages', anthropicBody('p-ollama://llama-up'));
    assert.equal(anthropic.status, 200, anthropic.text);
    assert.equal(anthropic.json.content[0].text, MOCK.text.ollama);
    assert.equal(mock.requests[0].body.model, 'llama-up');

    const responses = await post('/v1/responses', { model: 'p-openai/gpt-up', input: 'Say hello.' });
    assert.equal(responses.status, 200, responses.text);
    assert.equal(responses.json.output.at(-1).content[0].text, MOCK.text.openai);
    assert.equal(mock.requests[0].body.model, 'gpt-up');
  });

  it('an Ollama name with :latest finds the alias', async () => {
    const r = await post('/api/chat', {
      model: 'strict-openai:latest',
      stream: false,
      messages: [{ role: 'user', content: 'Say hello.' }],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.model, 'strict-openai:latest');
    assert.equal(mock.requests[0].body.model, 'gpt-up');
  });
});

describe('count_tokens', () => {
  const body = {
    model: 'p-gemini/gemini-up',
    system: 'You are terse.',
    messages: [{ role: 'user', content: 'Count the tokens of this sentence, please.' }],
    tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object' } }],
  };

  it('goes to an upstream that has the endpoint (Gemini countTokens)', async () => {
    const r = await post('/v1/messages/count_tokens', body);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { input_tokens: MOCK.countTokens.gemini });
    assert.equal(mock.requests.length, 1);
    assert.match(mock.requests[0].path, /:countTokens$/);
  });

  it('is estimated for an upstream without one (OpenAI), counting system and tools', async () => {
    const r = await post('/v1/messages/count_tokens', { ...body, model: 'strict-openai' });
    assert.equal(r.status, 200, r.text);
    assert.equal(mock.requests.length, 0);
    assert.ok(r.json.input_tokens > 10, r.text);
    const bare = await post('/v1/messages/count_tokens', { model: 'strict-openai', messages: body.messages });
    assert.ok(bare.json.input_tokens < r.json.input_tokens, `${bare.text} vs ${r.text}`);
  });
});
