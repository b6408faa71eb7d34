// Streaming behaviour: chunks forwarded as they arrive, upstream cancelled when
// the client leaves, and many streams at once.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startStack, waitFor, SLOW_BUILD, CLIENT_KEY } from './harness.mjs';

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

const messages = [{ role: 'user', content: 'hi' }];

test('chunks are forwarded as they arrive, not buffered', async () => {
  // drip-150-5: five content chunks 150 ms apart upstream.
  const stream = await stack.client().chat.completions.create({ model: 'mock/drip-150-5', messages, stream: true });
  const t0 = Date.now();
  const arrivals = [];
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) arrivals.push(Date.now() - t0);
  }
  assert.equal(arrivals.length, 5);
  const spread = arrivals.at(-1) - arrivals[0];
  assert.ok(spread >= 400, `first chunk at ${arrivals[0]} ms, last at ${arrivals.at(-1)} ms: buffered?`);
});

test('client disconnect mid-stream closes the upstream connection', async () => {
  await stack.mock.reset();
  const body = JSON.stringify({ model: 'mock/drip-50', messages, stream: true });
  let received = '';
  await new Promise((resolve, reject) => {
    const req = http.request(
      `${stack.origin}/v1/chat/completions`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${CLIENT_KEY}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`status ${res.statusCode}`));
          return;
        }
        res.on('data', (d) => {
          received += d.toString();
          // Leave after the role chunk and a couple of content chunks.
          if ((received.match(/"tok\d+"/g) ?? []).length >= 2) {
            req.destroy();
            resolve();
          }
        });
        res.on('error', () => {});
        res.on('end', () => reject(new Error('stream ended before the client left')));
      },
    );
    req.on('error', () => {});
    req.end(body);
  });
  const t0 = Date.now();
  const stats = await waitFor(async () => {
    const s = await stack.mock.stats();
    return s.streams_aborted >= 1 ? s : null;
  }, SLOW_BUILD ? 20000 : 5000);
  assert.ok(stats, `mock never saw the upstream stream aborted: ${JSON.stringify(await stack.mock.stats())}`);
  assert.equal(stats.streams_completed, 0);
  if (!SLOW_BUILD) assert.ok(Date.now() - t0 < 2000, `upstream closed only after ${Date.now() - t0} ms`);
});

test('200 concurrent streams all complete with the right content', { timeout: 60000 }, async () => {
  await stack.mock.reset();
  const client = stack.client();
  const expected = Array.from({ length: 20 }, (_, i) => `tok${i}`).join('');
  const one = async () => {
    const stream = await client.chat.completions.create({ model: 'mock/chunks-20', messages, stream: true });
    let content = '';
    let finish = null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    return { content, finish };
  };
  const results = await Promise.all(Array.from({ length: 200 }, one));
  for (const r of results) {
    assert.equal(r.content, expected);
    assert.equal(r.finish, 'stop');
  }
  const stats = await stack.mock.stats();
  assert.equal(stats.streams_completed, 200);
  assert.equal(stats.streams_aborted, 0);
});

test('the gateway serves normally after all that', async () => {
  const res = await stack.client().chat.completions.create({ model: 'gpt-4', messages });
  assert.equal(res.choices[0].message.content, 'Hello from mock');
});
