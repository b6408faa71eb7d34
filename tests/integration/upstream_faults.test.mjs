// Upstream faults through the mock's fault modes (tools/mock_upstream): what a
// client sees when the upstream resets, lies about framing, never ends, or is
// too slow. Before any byte went to the client the answer is an OpenAI error
// (502, or 504 for a timeout); a non-stream body cut part-way aborts the client
// connection (never a kept-alive connection with a short body); a chunked
// stream that fails part-way ends with an SSE error event; a stream the
// upstream framed with Content-Length is aborted. After each case the gateway
// still serves, its memory stays bounded, and no error body names an internal
// address or file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  errorOf,
  parseHttpResponses,
  providerYaml,
  rssMiB,
  RawConn,
  RSS_LIMIT_MIB,
  SLOW_BUILD,
  startStack,
  CLIENT_KEY,
} from './harness.mjs';

const MAX_RESPONSE_BYTES = 100000;
const messages = [{ role: 'user', content: 'hi' }];

let stack;
let caDir;
let caFile;
before(async () => {
  // A CA bundle that cannot be loaded: its path must never reach a client.
  caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-ca-'));
  caFile = path.join(caDir, 'internal-ca-bundle.pem');
  fs.writeFileSync(caFile, 'not a certificate\n');
  // The mock's port is known only once it runs, hence the function.
  stack = await startStack({
    extraProviders: (mockPort) => [
      providerYaml('faulty', `http://127.0.0.1:${mockPort}/v1`, [
        'timeout_s: 1',
        `max_response_bytes: ${MAX_RESPONSE_BYTES}`,
      ]),
      // TLS to the plain-HTTP mock: the handshake fails.
      providerYaml('tlsbad', `https://127.0.0.1:${mockPort}/v1`, [`ca_file: ${caFile}`, 'connect_timeout_s: 2']),
    ],
  });
});
after(async () => {
  await stack?.stop();
  if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
});

// Every error body the gateway sends: no upstream address, port or CA path.
function assertNoInternals(text) {
  for (const secret of ['127.0.0.1', String(stack.mock.port), caFile, caDir]) {
    assert.ok(!text.includes(secret), `client-facing text names ${secret}: ${text.slice(0, 500)}`);
  }
}

// The gateway still answers an ordinary request, and its memory is bounded.
afterEach(async () => {
  const res = await stack.postJson('/v1/chat/completions', { model: 'gpt-4', messages });
  assert.equal(res.status, 200, 'the gateway stopped serving after the fault');
  assert.equal((await res.json()).choices[0].message.content, 'Hello from mock');
  const rss = rssMiB(stack.gateway.pid);
  assert.ok(rss < RSS_LIMIT_MIB, `gateway RSS ${rss.toFixed(1)} MiB after the fault (limit ${RSS_LIMIT_MIB})`);
});

const chat = (model, extra = {}) => stack.postJson('/v1/chat/completions', { model, messages, ...extra });

// A request whose answer must be an OpenAI error with `status`, that reached the mock.
async function expectError(model, status, extra = {}) {
  const res = await chat(`faulty/${model}`, extra);
  const text = await res.text();
  assert.equal(res.status, status, text.slice(0, 300));
  errorOf(text);
  assertNoInternals(text);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.equal((await stack.mock.stats()).last_model, model, 'the request never reached the mock');
  return text;
}

// Sends one chat request on a raw connection and returns the connection once
// the server closed it, the first response is complete, or `ms` passed;
// `then` is written after the first response head arrives (a pipelined next
// request).
async function rawChat(model, { stream = false, then = null, ms = 10000 } = {}) {
  const body = JSON.stringify({ model, messages, stream });
  const c = await RawConn.open(stack.gateway.port);
  c.write(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  if (then) {
    await c.until(() => c.text.includes('\r\n\r\n'), ms);
    c.write(then);
  }
  await c.until(() => parseHttpResponses(c.text)[0]?.complete, ms);
  if (!c.closed) await c.closedWithin(100); // an abort right after a "complete" head
  c.destroy();
  return c;
}

// The client connection was aborted: a 200 head, a body cut short, the
// connection closed, nothing after it (no second response on it).
function assertAborted(c, what) {
  const text = c.text;
  assert.ok(c.closed, `${what}: the connection was left open: ${text.slice(0, 300)}`);
  const [res, ...more] = parseHttpResponses(text);
  assert.ok(res, `${what}: no response head at all: ${text.slice(0, 300)}`);
  assert.equal(res.status, 200, `${what}: ${text.slice(0, 300)}`);
  assert.equal(res.complete, false, `${what}: the cut-off body was framed as complete: ${res.head}`);
  assert.equal(more.length, 0, `${what}: more responses followed on an aborted connection`);
  assert.ok(!text.slice(res.head.length).includes('HTTP/1.1 '), `${what}: a response followed the cut body`);
  return res;
}

describe('before any byte reached the client', () => {
  test('upstream reset before its headers is 502', async () => {
    await expectError('reset-headers', 502);
  });

  test('upstream reset before its headers on a stream request is 502', async () => {
    await expectError('reset-headers', 502, { stream: true });
  });

  test('upstream answering garbage instead of HTTP is 502', async () => {
    await expectError('garbage', 502);
  });

  test('an endless upstream header block is 502', async () => {
    await expectError('endless-headers', 502);
  });

  test('invalid chunked encoding before any body is 502', async () => {
    await expectError('badchunk-first', 502);
  });

  test('invalid chunked encoding before any body of a stream is 502', async () => {
    await expectError('badchunk-first', 502, { stream: true });
  });

  test('an upstream body slower than timeout_s is 504', async () => {
    // The head comes at once, the body after 5 s; timeout_s is 1.
    await expectError('slow-body-5000', 504);
  });

  test('a Content-Length over max_response_bytes is 502 before any of it is sent', async () => {
    await expectError(`big-body-${MAX_RESPONSE_BYTES * 2}`, 502);
  });

  test('a TLS failure does not name the ca_file or the address', async () => {
    const res = await chat('tlsbad/gpt-4o');
    const text = await res.text();
    assert.ok(res.status >= 502 && res.status <= 504, `status ${res.status}: ${text.slice(0, 300)}`);
    errorOf(text);
    assertNoInternals(text);
  });

  test('the SDK sees a 502 as an APIError with that status', async () => {
    await assert.rejects(stack.client().chat.completions.create({ model: 'faulty/reset-headers', messages }), (err) => {
      assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
      assert.equal(err.status, 502);
      assertNoInternals(String(err.message));
      return true;
    });
  });
});

describe('a non-stream body cut part-way aborts the client connection', () => {
  test('upstream reset mid-body: the client sees a short body and the connection closed', async () => {
    const c = await rawChat('faulty/reset-body');
    const res = assertAborted(c, 'reset-body');
    assert.ok(res.body.length > 0, 'the body bytes that did arrive were not forwarded');
    assertNoInternals(res.body);
  });

  test('upstream reset mid-body: a pipelined request is not answered on the corrupt connection', async () => {
    const c = await rawChat('faulty/reset-body', { then: 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' });
    assertAborted(c, 'reset-body + pipelined GET');
  });

  test('upstream reset mid-body: fetch fails reading the body', async () => {
    const res = await chat('faulty/reset-body');
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), 'a cut body was read as if complete');
  });

  test('upstream reset mid-body: the SDK throws', async () => {
    await assert.rejects(stack.client().chat.completions.create({ model: 'faulty/reset-body', messages }));
  });

  for (const mode of ['endless-body-chunked', 'endless-body-close']) {
    test(`an ${mode} upstream is cut past max_response_bytes`, { timeout: 60000 }, async () => {
      const c = await rawChat(`faulty/${mode}`, { ms: SLOW_BUILD ? 40000 : 15000 });
      assert.ok(
        c.bytes <= MAX_RESPONSE_BYTES + 64 * 1024,
        `${c.bytes} bytes went out with max_response_bytes ${MAX_RESPONSE_BYTES}`,
      );
      assertAborted(c, mode);
    });
  }
});

describe('a stream that fails part-way', () => {
  for (const mode of ['reset-stream', 'badchunk-mid']) {
    test(`${mode}: the chunks so far, then an SSE error event, then the end`, async () => {
      const res = await chat(`faulty/${mode}`, { stream: true });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const text = await res.text(); // rejects if the stream was not ended properly
      const events = text
        .split('\n\n')
        .map((e) => e.trim())
        .filter((e) => e.startsWith('data:'))
        .map((e) => e.slice(5).trim());
      assert.ok(events.some((e) => e.includes('"tok1"')), `the chunks before the fault are missing: ${text.slice(0, 500)}`);
      const last = events.at(-1);
      assert.ok(last && last.includes('"error"'), `no SSE error event at the end: ${text.slice(-500)}`);
      errorOf(last);
      assertNoInternals(last);
      assert.ok(!text.includes('[DONE]'), 'a failed stream must not claim [DONE]');
      assert.equal((await stack.mock.stats()).last_model, mode);
    });

    test(`${mode}: the raw stream ends with its terminating chunk`, async () => {
      const c = await rawChat(`faulty/${mode}`, { stream: true });
      const [res] = parseHttpResponses(c.text);
      assert.equal(res?.status, 200, c.text.slice(0, 300));
      assert.equal(res.complete, true, `the stream was not ended: ${c.text.slice(-300)}`);
      assert.match(res.body, /data: \{"error":/);
    });

    test(`${mode}: the SDK throws an APIError while iterating`, async () => {
      const stream = await stack.client().chat.completions.create({ model: `faulty/${mode}`, messages, stream: true });
      const pieces = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta?.content ?? '');
        })(),
        (err) => {
          assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
          return true;
        },
      );
      assert.ok(pieces.includes('tok0') && pieces.includes('tok1'), JSON.stringify(pieces));
    });
  }

  test('a stream the upstream framed with Content-Length that ends early is aborted, no error event', async () => {
    const c = await rawChat('faulty/short-stream', { stream: true });
    const res = assertAborted(c, 'short-stream');
    assert.ok(res.body.includes('"tok1"'), `the events before the cut are missing: ${res.body.slice(0, 300)}`);
    assert.ok(!res.body.includes('"error"'), `an error event was appended to an aborted stream: ${res.body.slice(-300)}`);
    assert.equal((await stack.mock.stats()).last_model, 'short-stream');
  });
});
