// The OpenAI endpoints through the official SDK, plus the gateway's own
// endpoints (/health, /readiness, /) and HTTP/1.1 basics.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import fs from 'node:fs';
import path from 'node:path';
import { errorOf, parseHttpResponses, rawExchange, startStack, CLIENT_KEY, ROOT } from './harness.mjs';

// The version and product name the binary was built with (src/version.h).
const versionHeader = fs.readFileSync(path.join(ROOT, 'src/version.h'), 'utf8');
const VERSION = /kVersion = "([^"]+)"/.exec(versionHeader)[1];
const PRODUCT_NAME = /kProductName = "([^"]+)"/.exec(versionHeader)[1];

let stack;
let client;
before(async () => {
  stack = await startStack();
  client = stack.client();
});
after(async () => {
  await stack?.stop();
});

const messages = [{ role: 'user', content: 'Say hello' }];

describe('chat completions', () => {
  test('non-streaming chat through an alias', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4', messages });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.choices[0].message.content, 'Hello from mock');
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.equal(res.usage.total_tokens, 9);
    const stats = await stack.mock.stats();
    assert.equal(stats.last_model, 'gpt-4o', 'the alias is rewritten to the target model upstream');
  });

  test('streaming chat arrives as several SSE events', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4', messages, stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const content = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(content, 'Hello from mock stream.');
    assert.ok(chunks.length >= 7, `expected role + 5 content + finish chunks, got ${chunks.length}`);
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  });

  test('streaming chat with include_usage ends with a usage chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.completion_tokens, 5);
  });

  test('a 50-chunk stream keeps every chunk in order', async () => {
    const stream = await client.chat.completions.create({ model: 'mock/chunks-50', messages, stream: true });
    const pieces = [];
    for await (const chunk of stream) {
      const c = chunk.choices[0]?.delta?.content;
      if (c) pieces.push(c);
    }
    assert.deepEqual(pieces, Array.from({ length: 50 }, (_, i) => `tok${i}`));
  });

  test('provider/model naming goes to that provider', async () => {
    const res = await client.chat.completions.create({ model: 'mock/gpt-4o-mini', messages });
    assert.equal(res.choices[0].message.content, 'Hello from mock');
    assert.equal((await stack.mock.stats()).last_model, 'gpt-4o-mini');
  });

  test('provider://model naming goes to that provider', async () => {
    const res = await client.chat.completions.create({ model: 'mock://gpt-4o', messages });
    assert.equal(res.choices[0].message.content, 'Hello from mock');
    assert.equal((await stack.mock.stats()).last_model, 'gpt-4o');
  });
});

describe('completions', () => {
  test('non-streaming completion', async () => {
    const res = await client.completions.create({ model: 'gpt-4', prompt: 'Say hello' });
    assert.equal(res.object, 'text_completion');
    assert.equal(res.choices[0].text, 'Hello from mock');
  });

  test('streaming completion', async () => {
    const stream = await client.completions.create({ model: 'gpt-4', prompt: 'Say hello', stream: true });
    let text = '';
    let n = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      n++;
    }
    assert.equal(text, 'Hello from mock stream.');
    assert.ok(n >= 5, `expected several chunks, got ${n}`);
  });
});

describe('embeddings', () => {
  const expected = [0.125, -0.25, 0.375, -0.5, 0.625, -0.75, 0.875, -1.0];

  test('string input (SDK default base64 encoding)', async () => {
    const res = await client.embeddings.create({ model: 'text-embedding', input: 'hello' });
    assert.equal(res.object, 'list');
    assert.equal(res.data.length, 1);
    assert.deepEqual(Array.from(res.data[0].embedding), expected);
    assert.equal((await stack.mock.stats()).last_model, 'text-embedding-3-small');
  });

  test('array input, float encoding', async () => {
    const res = await client.embeddings.create({
      model: 'text-embedding',
      input: ['a', 'b', 'c'],
      encoding_format: 'float',
    });
    assert.equal(res.data.length, 3);
    assert.deepEqual(res.data.map((d) => d.index), [0, 1, 2]);
    for (const d of res.data) assert.deepEqual(d.embedding, expected);
    assert.equal(res.usage.prompt_tokens, 3);
  });
});

describe('models', () => {
  test('list includes the configured aliases', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    for (const alias of ['gpt-4', 'echo', 'text-embedding']) {
      assert.ok(ids.includes(alias), `${alias} missing from ${JSON.stringify(ids)}`);
    }
  });

  test('retrieve an alias', async () => {
    const m = await client.models.retrieve('gpt-4');
    assert.equal(m.id, 'gpt-4');
    assert.equal(m.object, 'model');
  });

  test('retrieve an unknown model is 404 model_not_found', async () => {
    await assert.rejects(client.models.retrieve('no-such-model'), (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      return true;
    });
  });
});

describe('gateway endpoints', () => {
  test('GET /health reports the service and each configured provider', async () => {
    const res = await fetch(`${stack.origin}/health`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, 'healthy', JSON.stringify(body));
    assert.equal(body.version, VERSION);
    assert.equal(body.service, PRODUCT_NAME);
    // The harness config: provider "mock" carries the four aliases gpt-4, echo,
    // echo-alias and text-embedding; "mockslow" none. No name set: the id.
    assert.deepEqual(
      body.providers.map(({ id, name, healthy, models_count }) => ({ id, name, healthy, models_count })),
      [
        { id: 'mock', name: 'mock', healthy: true, models_count: 4 },
        { id: 'mockslow', name: 'mockslow', healthy: true, models_count: 0 },
      ],
      JSON.stringify(body),
    );
  });

  test('GET /readiness is 200 when serving', async () => {
    const res = await fetch(`${stack.origin}/readiness`);
    assert.equal(res.status, 200);
  });

  test('GET / names the service', async () => {
    const res = await fetch(`${stack.origin}/`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.name, PRODUCT_NAME);
    assert.equal(body.version, VERSION);
    assert.equal(body.status, 'running');
  });

  test('unknown path is 404 in OpenAI error shape', async () => {
    const res = await stack.fetch('/v1/no/such/path');
    assert.equal(res.status, 404);
    errorOf(await res.text());
  });
});

describe('HTTP/1.1 handling', () => {
  const chatBody = JSON.stringify({ model: 'gpt-4', messages });
  const request = (extra = '') =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(chatBody)}\r\n${extra}\r\n${chatBody}`;

  test('two requests on one keep-alive connection', async () => {
    const { data } = await rawExchange(stack.gateway.port, [request(), request('Connection: close\r\n')]);
    const responses = parseHttpResponses(data);
    assert.equal(responses.length, 2, data);
    for (const r of responses) {
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).choices[0].message.content, 'Hello from mock');
    }
  });
});
