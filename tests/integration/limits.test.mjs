// Limits against bad input: body size, header size, header read timeout and
// idle keep-alive timeout. Runs its own gateway with small limits.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { errorOf, parseHttpResponses, rawExchange, startStack, RawConn, SLOW_BUILD, CLIENT_KEY } from './harness.mjs';

let stack;
before(async () => {
  stack = await startStack({
    // max_body_bytes is 65536 in every test config.
    serverExtra: ['max_header_bytes: 8192', 'header_timeout_s: 1', 'idle_timeout_s: 2'],
  });
});
after(async () => {
  await stack?.stop();
});

const messages = [{ role: 'user', content: 'hi' }];

function chatRequest(body, extra = '') {
  return (
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`
  );
}

// Connects, writes `payload`, and resolves with { ms, data } once the server
// closes the connection (or after `limitMs`, with ms = Infinity). Upper bounds
// on ms are checked only on the release build (SLOW_BUILD: sanitizers).
function timeUntilClosed(port, payload, limitMs) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let data = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.write(payload));
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ ms: Infinity, data });
    }, limitMs);
    const done = () => {
      clearTimeout(timer);
      resolve({ ms: Date.now() - t0, data });
    };
    sock.on('data', (d) => (data += d.toString('latin1')));
    sock.on('end', done);
    sock.on('error', done);
  });
}

test('body over server.max_body_bytes is 413', async () => {
  const big = JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'x'.repeat(70000) }] });
  const res = await stack.postJson('/v1/chat/completions', big);
  assert.equal(res.status, 413);
  errorOf(await res.text());
});

test('an oversized Content-Length is refused before the body is sent', async () => {
  const head =
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\n` +
    `Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n`;
  const { data } = await rawExchange(stack.gateway.port, head, 1500);
  const [res] = parseHttpResponses(data);
  assert.equal(res?.status, 413, data.slice(0, 300));
  errorOf(res.body);
});

test('body just under the limit is served', async () => {
  const ok = JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'x'.repeat(60000) }] });
  const res = await stack.postJson('/v1/chat/completions', ok);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).choices[0].message.content, 'Hello from mock');
});

// The 431 is owed even while the client is still sending the rest of the
// header block: the gateway answers, then closes (Connection: close) after
// reading and dropping what is still coming.
async function expect431(payload) {
  const c = await RawConn.open(stack.gateway.port);
  c.write(payload);
  const closed = await c.closedWithin(SLOW_BUILD ? 20000 : 8000);
  c.destroy();
  const [res] = parseHttpResponses(c.text);
  assert.equal(res?.status, 431, `closed ${closed}: ${c.text.slice(0, 300)}`);
  errorOf(res.body);
  assert.equal(res.headers.connection, 'close', res.head);
  assert.ok(closed, 'the connection stayed open after the 431');
}

test('a header block over max_header_bytes is 431, then closed', async () => {
  await expect431(chatRequest(JSON.stringify({ model: 'gpt-4', messages }), `X-Big: ${'a'.repeat(10000)}\r\n`));
});

test('a huge header block (256 KiB) is 431, then closed', async () => {
  await expect431(chatRequest(JSON.stringify({ model: 'gpt-4', messages }), `X-Huge: ${'a'.repeat(256 * 1024)}\r\n`));
});

test('headers that never finish are cut after header_timeout_s', async () => {
  const partial = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n`;
  const { ms, data } = await timeUntilClosed(stack.gateway.port, partial, SLOW_BUILD ? 20000 : 6000);
  assert.ok(ms >= 800 && ms < (SLOW_BUILD ? Infinity : 4000), `closed after ${ms} ms; header_timeout_s is 1`);
  if (data) assert.match(data, /^HTTP\/1\.1 408/, 'only a 408 may be sent');
});

test('an idle keep-alive connection is closed after idle_timeout_s', async () => {
  const { ms, data } = await timeUntilClosed(
    stack.gateway.port,
    chatRequest(JSON.stringify({ model: 'gpt-4', messages })),
    SLOW_BUILD ? 20000 : 8000,
  );
  assert.equal(parseHttpResponses(data)[0]?.status, 200, data.slice(0, 200));
  assert.ok(ms >= 1500 && ms < (SLOW_BUILD ? Infinity : 5000), `closed after ${ms} ms; idle_timeout_s is 2`);
});

test('the gateway still serves after all that', async () => {
  const res = await stack.postJson('/v1/chat/completions', { model: 'gpt-4', messages });
  assert.equal(res.status, 200);
});
