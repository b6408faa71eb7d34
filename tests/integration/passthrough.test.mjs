// What the gateway sends upstream, seen through the mock's `echo` model: the
// provider's key instead of the client's, the configured extra headers, and
// the body forwarded with only "model" rewritten.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack, CLIENT_KEY, UPSTREAM_KEY } from './harness.mjs';

let stack;
before(async () => {
  stack = await startStack();
});
after(async () => {
  await stack?.stop();
});

// The mock answers `echo` with the request it received, JSON-encoded, as content.
function upstreamRequest(chatResponse) {
  return JSON.parse(chatResponse.choices[0].message.content);
}

test('upstream gets the provider key, never the client key, plus extra headers', async () => {
  const res = await stack.client().chat.completions.create({
    model: 'echo',
    messages: [{ role: 'user', content: 'hi' }],
  });
  const seen = upstreamRequest(res);
  assert.equal(seen.method, 'POST');
  assert.equal(seen.path, '/v1/chat/completions');
  assert.equal(seen.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  assert.equal(seen.headers['x-extra'], 'yes');
  const everything = JSON.stringify(seen.headers);
  assert.ok(!everything.includes(CLIENT_KEY), `client key leaked upstream: ${everything}`);
  assert.equal(JSON.parse(seen.body).model, 'echo');
});

test('x-api-key from the client is not forwarded either', async () => {
  const res = await stack.postJson(
    '/v1/chat/completions',
    { model: 'echo', messages: [{ role: 'user', content: 'hi' }] },
    { headers: { authorization: undefined, 'x-api-key': CLIENT_KEY } },
  );
  assert.equal(res.status, 200);
  const seen = upstreamRequest(await res.json());
  assert.ok(!JSON.stringify(seen.headers).includes(CLIENT_KEY), JSON.stringify(seen.headers));
  assert.equal(seen.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
});

test('body is forwarded byte for byte except the model', async () => {
  // Odd spacing, unicode (raw and escaped), key order, numbers written unusually,
  // and fields the gateway does not know: all must survive untouched.
  const before = '{\n  "messages" :[ {"role":"user","content":"h\u00e9llo \u2603 \\u00e9 \\"q\\" 🚀"} ],\n\t"model"  :  ';
  const after = ' , "temperature": 1.50, "x_custom": {"nested": [1, 2.0e3, null, true]},  "max_tokens" :7 }';
  const raw = `${before}"echo-alias"${after}`;
  const res = await stack.postJson('/v1/chat/completions', raw);
  assert.equal(res.status, 200, await res.clone().text());
  const seen = upstreamRequest(await res.json());
  const body = seen.body;
  // echo-alias -> mock/echo: only the model value may differ (and, at most, the
  // spacing around it).
  const m = /"model"\s*:\s*"echo"/.exec(body);
  assert.ok(m, `model missing upstream: ${body}`);
  const prefix = body.slice(0, m.index);
  const suffix = body.slice(m.index + m[0].length);
  assert.equal(prefix, before.slice(0, before.indexOf('"model"')), 'bytes before the model changed');
  assert.equal(suffix, after, 'bytes after the model changed');
  assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
});

test('alias target is what upstream sees as the model', async () => {
  // gpt-4 -> mock/gpt-4o; the mock's stats record the model it was sent.
  await stack.mock.reset();
  const raw = '{"model":"gpt-4",   "messages":[{"role":"user","content":"x"}], "user":"u-1"}';
  const res = await stack.postJson('/v1/chat/completions', raw);
  assert.equal(res.status, 200);
  const stats = await stack.mock.stats();
  assert.equal(stats.last_model, 'gpt-4o');
  assert.equal(stats.requests, 1);
});

test('streaming echo carries the same upstream request', async () => {
  const stream = await stack.client().chat.completions.create({
    model: 'mock/echo',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  let content = '';
  for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
  const seen = JSON.parse(content);
  assert.equal(seen.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  assert.equal(JSON.parse(seen.body).stream, true);
  assert.equal(JSON.parse(seen.body).model, 'echo');
});
