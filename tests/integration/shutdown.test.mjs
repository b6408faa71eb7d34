// SIGTERM: the gateway stops accepting, lets in-flight streams finish (for at
// most server.shutdown_timeout_s, 3 s here), and exits 0. Each test starts its
// own gateway since each one ends it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { startStack, SLOW_BUILD, CLIENT_KEY } from './harness.mjs';

const messages = [{ role: 'user', content: 'hi' }];

// Starts a stream on a fresh connection. `firstChunk` resolves once a content
// chunk has arrived; `done` resolves with { status, text, ended } when the
// response ends or the connection drops.
function startStream(origin, model) {
  const body = JSON.stringify({ model, messages, stream: true });
  let onFirst;
  const firstChunk = new Promise((r) => (onFirst = r));
  const done = new Promise((resolve, reject) => {
    const req = http.request(
      `${origin}/v1/chat/completions`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${CLIENT_KEY}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d.toString();
          if (text.includes('"tok0"')) onFirst();
        });
        res.on('end', () => resolve({ status: res.statusCode, text, ended: true }));
        res.on('error', () => resolve({ status: res.statusCode, text, ended: false }));
        res.on('aborted', () => resolve({ status: res.statusCode, text, ended: false }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  return { firstChunk, done };
}

// GET /readiness on a fresh connection: the status, or the error code.
function readiness(origin) {
  return new Promise((resolve) => {
    const req = http.get(`${origin}/readiness`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', (e) => resolve(e.code ?? 'error'));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve('timeout');
    });
  });
}

test('SIGTERM lets an in-flight stream finish, refuses new work, exits 0', { timeout: 30000 }, async () => {
  const stack = await startStack({ shutdownTimeoutS: 3 });
  try {
    // drip-100-10: ten content chunks 100 ms apart, about 1 s in all.
    const stream = startStream(stack.origin, 'mock/drip-100-10');
    await stream.firstChunk;
    const t0 = Date.now();
    stack.gateway.child.proc.kill('SIGTERM');

    // New work is refused soon: connection refused, or readiness no longer 200.
    let ready = 200;
    const tries = SLOW_BUILD ? 200 : 20;
    for (let i = 0; i < tries && ready === 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await readiness(stack.origin);
    }
    assert.notEqual(ready, 200, `still ready ${tries * 50} ms after SIGTERM`);

    const result = await stream.done;
    assert.equal(result.status, 200);
    assert.ok(result.ended, 'stream was cut');
    for (let i = 0; i < 10; i++) assert.ok(result.text.includes(`"tok${i}"`), `tok${i} missing`);
    assert.ok(result.text.includes('data: [DONE]'), 'no [DONE]');

    const exit = await stack.gateway.child.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    if (!SLOW_BUILD) assert.ok(Date.now() - t0 < 3000, `exit took ${Date.now() - t0} ms for a 1 s stream`);
  } finally {
    await stack.gateway.child.stop('SIGKILL');
    await stack.mock.stop();
  }
});

test('SIGTERM cuts a stream that outlasts shutdown_timeout_s, then exits 0', { timeout: 30000 }, async () => {
  const stack = await startStack({ shutdownTimeoutS: 3 });
  try {
    // drip-100-100: about 10 s, longer than the 3 s shutdown timeout.
    const stream = startStream(stack.origin, 'mock/drip-100-100');
    await stream.firstChunk;
    const t0 = Date.now();
    stack.gateway.child.proc.kill('SIGTERM');
    const exit = await stack.gateway.child.exited;
    const elapsed = Date.now() - t0;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(elapsed >= 2500, `exited ${elapsed} ms after SIGTERM; shutdown_timeout_s is 3`);
    if (!SLOW_BUILD) assert.ok(elapsed < 6000, `exited ${elapsed} ms after SIGTERM; shutdown_timeout_s is 3`);
    const result = await stream.done;
    assert.ok(!result.text.includes('data: [DONE]'), 'a 10 s stream cannot have finished');
    assert.ok(result.text.includes('"tok5"'), 'the stream should have kept flowing during the grace period');
  } finally {
    await stack.gateway.child.stop('SIGKILL');
    await stack.mock.stop();
  }
});

test('SIGTERM with nothing in flight exits 0 at once', { timeout: 30000 }, async () => {
  const stack = await startStack({ shutdownTimeoutS: 3 });
  try {
    const res = await stack.client().chat.completions.create({ model: 'gpt-4', messages });
    assert.equal(res.choices[0].message.content, 'Hello from mock');
    const t0 = Date.now();
    stack.gateway.child.proc.kill('SIGTERM');
    const exit = await stack.gateway.child.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    // The SDK's idle keep-alive connection must not hold shutdown up.
    if (!SLOW_BUILD) assert.ok(Date.now() - t0 < 1500, `exit took ${Date.now() - t0} ms with only idle connections`);
  } finally {
    await stack.gateway.child.stop('SIGKILL');
    await stack.mock.stop();
  }
});
