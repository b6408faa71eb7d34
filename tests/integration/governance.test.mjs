// Tenancy through the real binary on its default store (SQLite beside the
// config): keys made with the admin API, revocation, expiry, permissions,
// budgets with their reset, rate limits and their headers, and usage and cost
// recorded for every request through every front door — streams, translated
// answers and disconnects included — read back from the admin API.
//
// Prices are set in the config so that costs are exact: every upstream model
// costs $1 per 1K input tokens and $2 per 1K output tokens, and the protocol
// mock's usage is fixed (MOCK.usage).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { CLIENT_KEY, startGateway, startMock } from './harness.mjs';
import { MOCK, startProtocolMock } from './protocol_mock.mjs';

const ADMIN_KEY = 'adm-governance-test-key-000111';
const PROVIDERS = ['openai', 'anthropic', 'gemini', 'ollama'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Dollars of a usage at $1/1K input and $2/1K output.
const costOf = (u) => (u.input * 1 + u.output * 2) / 1000;

function configYaml(protocolMockUrl, mockUrl, extra = '') {
  const providers = PROVIDERS.map((p) => `  - id: p-${p}
    type: ${p}
    base_url: ${p === 'openai' ? `${protocolMockUrl}/v1` : protocolMockUrl}
    keys:
      - id: k1
        value: up-${p}-secret
`).join('');
  const models = PROVIDERS.map((p) => `  - name: m-${p}
    target: p-${p}/up-${p}
`).join('');
  const pricing = PROVIDERS.map((p) => `  - model: up-${p}
    input_per_1k: 1
    output_per_1k: 2
`).join('');
  return `server:
  auth: keys
  admin_key: ${ADMIN_KEY}
keys:
  - name: cfg
    key: ${CLIENT_KEY}
providers:
${providers}  - id: drip
    type: openai
    base_url: ${mockUrl}
models:
${models}  - name: dripper
    target: drip/drip-150-40
pricing:
${pricing}  - model: drip-150-40
    input_per_1m: 1000
    output_per_1m: 2000
usage:
  flush_interval_ms: 20
  key_refresh_ms: 100
${extra}`;
}

// One gateway with its mocks and an admin client.
async function startTenancy({ extra = '', env = {} } = {}) {
  const pmock = await startProtocolMock();
  const mock = await startMock();
  const clockFile = path.join(fs.mkdtempSync('/tmp/sy-clock-'), 'offset');
  fs.writeFileSync(clockFile, '0');
  const gw = await startGateway(configYaml(pmock.url, mock.url, extra), {
    env: { SWITCHYARD_TEST_CLOCK_FILE: clockFile, ...env },
  });
  const t = {
    gw,
    pmock,
    mock,
    async setClock(seconds) {
      fs.writeFileSync(clockFile, String(seconds));
      await sleep(250);  // the clock re-reads the file at most every 100 ms
    },
    admin(pathname, init = {}) {
      return fetch(`${gw.origin}${pathname}`, {
        ...init,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    },
    async createKey(body) {
      const res = await t.admin('/admin/keys', { method: 'POST', body });
      const json = await res.json();
      assert.equal(res.status, 201, JSON.stringify(json));
      return json;
    },
    openai: (key, opts = {}) => new OpenAI({ apiKey: key, baseURL: gw.baseURL, maxRetries: 0, ...opts }),
    anthropic: (key) => new Anthropic({ apiKey: key, baseURL: gw.origin, maxRetries: 0 }),
    gemini: (key) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: gw.origin } }),
    ollama: (key) => new Ollama({ host: gw.origin, headers: { authorization: `Bearer ${key}` } }),
    post(pathname, key, body, headers = {}) {
      return fetch(`${gw.origin}${pathname}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    },
    chat(key, model = 'm-openai', extraBody = {}) {
      return t.post('/v1/chat/completions', key, { model, messages: [{ role: 'user', content: 'hi' }], ...extraBody });
    },
    async usage(query) {
      const res = await t.admin(`/admin/usage?${new URLSearchParams(query)}`);
      const json = await res.json();
      assert.equal(res.status, 200, JSON.stringify(json));
      return json;
    },
    async logs(query = {}) {
      const res = await t.admin(`/admin/v1/logs?${new URLSearchParams({ limit: '1000', ...query })}`);
      assert.equal(res.status, 200);
      return (await res.json()).logs;
    },
    async stop() {
      const r = await gw.stop();
      await pmock.close();
      await mock.stop();
      assert.equal(r.code, 0, `gateway exit ${JSON.stringify(r)}:\n${gw.child.output}`);
    },
  };
  return t;
}

// Each protocol's error, from each SDK: [status, what identifies the error].
async function refusalIn(t, protocol, key, model) {
  try {
    switch (protocol) {
      case 'openai':
        await t.openai(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
        break;
      case 'anthropic':
        await t.anthropic(key).messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
        break;
      case 'gemini':
        await t.gemini(key).models.generateContent({ model, contents: 'hi' });
        break;
      case 'ollama':
        await t.ollama(key).chat({ model, messages: [{ role: 'user', content: 'hi' }] });
        break;
    }
  } catch (e) {
    const status = e.status ?? e.status_code ?? e.code;
    let kind;
    if (protocol === 'openai') kind = e.code ?? e.error?.code;
    if (protocol === 'anthropic') kind = e.error?.error?.type;
    if (protocol === 'gemini') kind = JSON.parse(e.message.slice(e.message.indexOf('{'))).error.status;
    if (protocol === 'ollama') kind = e.error;
    return [status, kind, e];
  }
  assert.fail(`${protocol}: the request was not refused`);
}

describe('keys from the store', () => {
  let t;
  before(async () => {
    t = await startTenancy();
  });
  after(() => t.stop());

  it('a key made with the admin API works at once through all four front doors, and is shown only at creation',
    async () => {
      const created = await t.createKey({ name: 'four-doors' });
      assert.match(created.key, /^syu_[0-9A-Za-z]{38}$/);
      assert.equal(created.type, 'user');
      const key = created.key;
      const o = await t.openai(key).chat.completions.create({ model: 'm-openai', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(o.choices[0].message.content, MOCK.text.openai);
      const a = await t.anthropic(key).messages.create({ model: 'm-anthropic', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(a.content[0].text, MOCK.text.anthropic);
      const g = await t.gemini(key).models.generateContent({ model: 'm-gemini', contents: 'hi' });
      assert.equal(g.text, MOCK.text.gemini);
      const l = await t.ollama(key).chat({ model: 'm-ollama', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(l.message.content, MOCK.text.ollama);

      const list = await (await t.admin('/admin/keys')).json();
      const row = list.keys.find((k) => k.id === created.id);
      assert.ok(row, 'listed');
      assert.equal(row.key, undefined, 'the secret is never listed');
      assert.ok(!JSON.stringify(list).includes(key), 'the secret appears nowhere in the list');
      assert.equal(row.key_prefix, created.key_prefix);
      assert.ok(row.key_prefix.startsWith('syu_') && row.key_prefix.includes('...'));
      // Config keys are listed beside store keys.
      assert.ok(list.keys.some((k) => k.source === 'config' && k.name === 'cfg'));
    });

  it('a revoked key gets 401 invalid_api_key at once, in each protocol\'s shape', async () => {
    const { key, id } = await t.createKey({ name: 'to-revoke' });
    assert.equal((await t.chat(key)).status, 200);
    const del = await t.admin(`/admin/keys/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.deepEqual(await del.json(), { id, revoked: true });
    const expected = { openai: 'invalid_api_key', anthropic: 'authentication_error', gemini: 'UNAUTHENTICATED', ollama: undefined };
    for (const p of PROVIDERS) {
      const [status, kind, e] = await refusalIn(t, p, key, `m-${p}`);
      assert.equal(status, 401, `${p}: ${e}`);
      if (expected[p]) assert.equal(kind, expected[p], p);
      else assert.match(String(kind), /revoked/, p);
    }
    const res = await t.chat(key);
    assert.match((await res.json()).error.message, /revoked/);
    // A bad checksum is refused without a lookup, like an unknown key.
    const forged = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    assert.equal((await t.chat(forged)).status, 401);
  });

  it('a key expires at its expires_at (the clock moved past it)', async () => {
    const soon = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const { key } = await t.createKey({ name: 'expiring', expires_at: soon });
    assert.equal((await t.chat(key)).status, 200);
    await t.setClock(7200);
    const res = await t.chat(key);
    assert.equal(res.status, 401);
    assert.match((await res.json()).error.message, /expired/);
    await t.setClock(0);
    assert.equal((await t.chat(key)).status, 200, 'back before the expiry');
  });

  it('a key limited to some models gets 403 for the others, in each protocol\'s shape', async () => {
    const { key } = await t.createKey({ name: 'only-openai', permissions: { models: ['m-open*'] } });
    assert.equal((await t.chat(key, 'm-openai')).status, 200);
    const expected = { openai: 'permission_denied', anthropic: 'permission_error', gemini: 'PERMISSION_DENIED' };
    for (const p of ['anthropic', 'gemini', 'ollama']) {
      const [status, kind, e] = await refusalIn(t, p, key, `m-${p}`);
      assert.equal(status, 403, `${p}: ${e}`);
      if (expected[p]) assert.equal(kind, expected[p], p);
      else assert.match(String(kind), /not allowed to use model/, p);
    }
    // The provider/model spelling is matched too.
    const { key: k2 } = await t.createKey({ name: 'by-target', permissions: { models: ['p-gemini/*'] } });
    assert.equal((await t.chat(k2, 'p-gemini/up-gemini')).status, 200);
    assert.equal((await t.chat(k2, 'm-gemini')).status, 200, 'an alias whose target matches');
    assert.equal((await t.chat(k2, 'm-openai')).status, 403);
  });

  it('endpoint permissions: a key without chat gets 403 on every chat endpoint, embeddings still work', async () => {
    const { key } = await t.createKey({ name: 'embed-only', permissions: { chat_completions: false } });
    const chat = await t.chat(key);
    assert.equal(chat.status, 403);
    const body = await chat.json();
    assert.equal(body.error.code, 'permission_denied');
    assert.equal(body.error.type, 'permission_error');
    const msg = await t.post('/v1/messages', key, { model: 'm-anthropic', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      { 'anthropic-version': '2023-06-01' });
    assert.equal(msg.status, 403);
    assert.equal((await msg.json()).error.type, 'permission_error');
    const emb = await t.post('/v1/embeddings', key, { model: 'm-openai', input: 'x' });
    assert.equal(emb.status, 200, await emb.text());
  });

  it('a user key gets 403 on the admin API; no key gets 401; the server admin key and admin keys get in', async () => {
    const { key } = await t.createKey({ name: 'plain' });
    const res = await fetch(`${t.gw.origin}/admin/keys`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 403);
    assert.equal((await fetch(`${t.gw.origin}/admin/keys`)).status, 401);
    assert.equal((await fetch(`${t.gw.origin}/status`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).status, 403);
    const { key: adminKey } = await t.createKey({ name: 'ops', type: 'admin' });
    assert.match(adminKey, /^sya_/);
    const st = await fetch(`${t.gw.origin}/status`, { headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(st.status, 200);
    const status = await st.json();
    assert.equal(status.status, 'running');
    assert.ok(status.keys_count >= 2);
    assert.equal(status.store.kind, 'sqlite');
  });

  it('users: created, listed with pagination and search, and their keys counted', async () => {
    const u = await (await t.admin('/admin/users', { method: 'POST', body: { email: 'ada@example.com', username: 'ada', name: 'Ada', budget_limit: 10 } })).json();
    assert.match(u.id, /^user_[0-9a-f]{16}$/);
    assert.equal(u.budget_limit, 10);
    const dup = await t.admin('/admin/users', { method: 'POST', body: { email: 'ada@example.com' } });
    assert.equal(dup.status, 409);
    const bad = await t.admin('/admin/users', { method: 'POST', body: { email: 'x@example.com', shoe_size: 9 } });
    assert.equal(bad.status, 400, 'unknown fields are refused, not ignored');
    for (let i = 0; i < 3; i++) {
      await t.admin('/admin/users', { method: 'POST', body: { username: `bob${i}` } });
    }
    await t.createKey({ name: 'ada-key', user_id: u.id });
    const page = await (await t.admin('/admin/users?page=1&limit=2')).json();
    assert.equal(page.users.length, 2);
    assert.equal(page.pagination.total, 4);
    assert.equal(page.pagination.pages, 2);
    const found = await (await t.admin('/admin/users?search=ADA')).json();
    assert.equal(found.users.length, 1);
    assert.equal(found.users[0].api_keys_count, 1);
    assert.deepEqual(Object.keys(found.users[0].usage_this_month).sort(), ['cost', 'requests', 'tokens']);
    const missing = await t.admin('/admin/keys', { method: 'POST', body: { name: 'x', user_id: 'user_nobody' } });
    assert.equal(missing.status, 400);
  });
});

describe('budgets and rate limits', () => {
  let t;
  before(async () => {
    t = await startTenancy();
  });
  after(() => t.stop());

  it('a budget is checked before and charged after: the call that crosses it finishes, the next gets 429 insufficient_quota; it resets with its window',
    async () => {
      // One m-openai answer costs costOf(MOCK.usage.openai) = $0.025.
      const one = costOf(MOCK.usage.openai);
      const { key, id } = await t.createKey({ name: 'budgeted', budget_limit: one * 1.5, budget_period: 'daily' });
      assert.equal((await t.chat(key)).status, 200);
      // Spent $0.025 of $0.0375: the next is admitted, and it streams to its end.
      const stream = await t.openai(key).chat.completions.create({ model: 'm-openai', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      assert.equal(text, MOCK.text.openai);
      const [status, code] = await refusalIn(t, 'openai', key, 'm-openai');
      assert.equal(status, 429);
      assert.equal(code, 'insufficient_quota');
      const res = await t.chat(key);
      const body = await res.json();
      assert.match(body.error.message, /budget/);
      assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After: until the window resets');
      // In the other protocols' shapes too.
      const [as, at] = await refusalIn(t, 'anthropic', key, 'm-anthropic');
      assert.deepEqual([as, at], [429, 'billing_error']);
      const [gs, gt] = await refusalIn(t, 'gemini', key, 'm-gemini');
      assert.deepEqual([gs, gt], [429, 'RESOURCE_EXHAUSTED']);
      const [ls] = await refusalIn(t, 'ollama', key, 'm-ollama');
      assert.equal(ls, 429);
      // The key's listing shows what it spent.
      const row = (await (await t.admin('/admin/keys')).json()).keys.find((k) => k.id === id);
      assert.ok(Math.abs(row.current_spend - 2 * one) < 1e-9, `current_spend ${row.current_spend}`);
      // A day later the daily window is a new one.
      await t.setClock(86400);
      assert.equal((await t.chat(key)).status, 200);
      await t.setClock(0);
    });

  it('a user budget covers all of the user\'s keys', async () => {
    const u = await (await t.admin('/admin/users', { method: 'POST', body: { username: 'carol', budget_limit: 0.03, budget_period: 'monthly' } })).json();
    const { key: k1 } = await t.createKey({ name: 'c1', user_id: u.id });
    const { key: k2 } = await t.createKey({ name: 'c2', user_id: u.id });
    assert.equal((await t.chat(k1)).status, 200);  // $0.025
    assert.equal((await t.chat(k2)).status, 200);  // $0.050: crossed while running
    const res = await t.chat(k1);
    assert.equal(res.status, 429);
    assert.equal((await res.json()).error.code, 'insufficient_quota');
  });

  it('requests per minute: X-RateLimit-* on every response, 429 with Retry-After past the limit', async () => {
    const { key } = await t.createKey({ name: 'rpm3', rate_limit: 3 });
    const remaining = [];
    for (let i = 0; i < 3; i++) {
      const res = i === 1
        ? await fetch(`${t.gw.origin}/v1/models`, { headers: { authorization: `Bearer ${key}` } })
        : await t.chat(key);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-ratelimit-limit'), '3');
      remaining.push(res.headers.get('x-ratelimit-remaining'));
      const reset = Number(res.headers.get('x-ratelimit-reset'));
      assert.ok(reset >= Math.floor(Date.now() / 1000) && reset <= Math.ceil(Date.now() / 1000) + 61, `reset ${reset}`);
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const res = await t.chat(key);
    assert.equal(res.status, 429);
    const body = await res.json();
    assert.equal(body.error.code, 'rate_limit_exceeded');
    assert.match(body.error.message, /requests per minute on this API key/);
    const retry = Number(res.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 20, `Retry-After ${retry}`);
    assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
    // The OpenAI SDK sees a RateLimitError.
    await assert.rejects(t.openai(key).chat.completions.create({ model: 'm-openai', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 429);
  });

  it('tokens per minute: a request whose estimate exceeds the limit is refused; a key without limits gets no headers', async () => {
    const { key } = await t.createKey({ name: 'tpm', tpm_limit: 5 });
    const res = await t.chat(key, 'm-openai', { messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    assert.equal(res.status, 429);
    assert.match((await res.json()).error.message, /tokens/);
    const { key: free } = await t.createKey({ name: 'free' });
    const ok = await t.chat(free);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-ratelimit-limit'), null);
  });
});

describe('usage and cost', () => {
  let t;
  before(async () => {
    t = await startTenancy();
  });
  after(() => t.stop());

  it('every request through every front door is recorded with exact tokens and cost, streams included', async () => {
    const { key, id } = await t.createKey({ name: 'metered' });
    // Passthrough (same protocol) and translated (OpenAI client to the other providers), each plain and streamed.
    const o = t.openai(key);
    await o.chat.completions.create({ model: 'm-openai', messages: [{ role: 'user', content: 'hi' }] });
    // An OpenAI stream without include_usage: the client sees no usage chunk, the record has the usage.
    const chunks = [];
    for await (const c of await o.chat.completions.create({ model: 'm-openai', stream: true, messages: [{ role: 'user', content: 'hi' }] })) chunks.push(c);
    assert.ok(chunks.length > 1);
    assert.ok(chunks.every((c) => !c.usage && c.choices.length === 1), 'no usage chunk the client did not ask for');
    // With include_usage the client gets its usage chunk.
    const withUsage = [];
    for await (const c of await o.chat.completions.create({ model: 'm-openai', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] })) withUsage.push(c);
    assert.equal(withUsage.at(-1).usage.prompt_tokens, MOCK.usage.openai.input);
    await t.anthropic(key).messages.create({ model: 'm-anthropic', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    const as = await t.anthropic(key).messages.create({ model: 'm-anthropic', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const _ of as) { /* drain */ }
    await t.gemini(key).models.generateContent({ model: 'm-gemini', contents: 'hi' });
    for await (const _ of await t.gemini(key).models.generateContentStream({ model: 'm-gemini', contents: 'hi' })) { /* drain */ }
    await t.ollama(key).chat({ model: 'm-ollama', messages: [{ role: 'user', content: 'hi' }] });
    for await (const _ of await t.ollama(key).chat({ model: 'm-ollama', stream: true, messages: [{ role: 'user', content: 'hi' }] })) { /* drain */ }
    // Translated: the OpenAI client to the three other providers, plain and streamed.
    for (const p of ['anthropic', 'gemini', 'ollama']) {
      await o.chat.completions.create({ model: `m-${p}`, messages: [{ role: 'user', content: 'hi' }] });
      for await (const _ of await o.chat.completions.create({ model: `m-${p}`, stream: true, messages: [{ role: 'user', content: 'hi' }] })) { /* drain */ }
    }
    const expected = {
      'm-openai': { n: 3, ...MOCK.usage.openai },
      'm-anthropic': { n: 4, ...MOCK.usage.anthropic },
      'm-gemini': { n: 4, ...MOCK.usage.gemini },
      'm-ollama': { n: 4, ...MOCK.usage.ollama },
    };
    const report = await t.usage({ key_id: id });
    assert.equal(report.summary.requests, 15);
    let cost = 0;
    let tokens = 0;
    for (const [model, e] of Object.entries(expected)) {
      const row = report.by_model.find((r) => r.model === model);
      assert.ok(row, `${model} in by_model: ${JSON.stringify(report.by_model)}`);
      assert.equal(row.requests, e.n, model);
      assert.equal(row.prompt_tokens, e.n * e.input, `${model} prompt tokens`);
      assert.equal(row.completion_tokens, e.n * e.output, `${model} completion tokens`);
      assert.ok(Math.abs(row.cost - e.n * costOf(e)) < 1e-6, `${model} cost ${row.cost}`);
      cost += e.n * costOf(e);
      tokens += e.n * (e.input + e.output);
    }
    assert.equal(report.summary.tokens, tokens);
    assert.ok(Math.abs(report.summary.cost - cost) < 1e-6);
    assert.equal(report.by_provider.length, 4);
    assert.equal(report.daily_breakdown.length, 1);
    // The request log has one row per request, each with its provider and latency.
    const logs = await t.logs({ provider: 'p-anthropic' });
    assert.ok(logs.filter((l) => l.model === 'm-anthropic').length >= 4);
    assert.ok(logs.every((l) => l.provider === 'p-anthropic' && l.status === 200 && l.latency_ms >= 0));
  });

  it('a client that leaves mid-stream is billed for what was generated; a failed request is recorded with no cost', async () => {
    const { key, id } = await t.createKey({ name: 'leaver' });
    const ac = new AbortController();
    const res = await fetch(`${t.gw.origin}/v1/chat/completions`, {
      method: 'POST',
      signal: ac.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dripper', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = res.body.getReader();
    let got = '';
    while ((got.match(/"content"/g) ?? []).length < 3) got += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    // A failing upstream: status-503 from the mock.
    const failed = await t.chat(key, 'drip/status-503');
    assert.equal(failed.status, 503);
    await sleep(500);  // the gateway notices the disconnect and settles
    const rows = (await t.logs()).filter((l) => l.model === 'dripper' || l.model === 'drip/status-503');
    const left = rows.find((l) => l.model === 'dripper');
    assert.ok(left, JSON.stringify(rows));
    assert.equal(left.error, 'client_disconnected');
    assert.ok(left.tokens > 0, 'what was generated is counted');
    assert.ok(left.cost > 0, 'and billed');
    const fail = rows.find((l) => l.model === 'drip/status-503');
    assert.equal(fail.status, 503);
    assert.ok(fail.error);
    assert.equal(fail.cost, 0);
    const report = await t.usage({ key_id: id });
    assert.equal(report.summary.requests, 2);
  });

  it('an Anthropic client that leaves a translated stream is billed too; one that stays is billed from the upstream usage',
    async () => {
      const { key, id } = await t.createKey({ name: 'anthropic-leaver' });
      const ac = new AbortController();
      const res = await fetch(`${t.gw.origin}/v1/messages`, {
        method: 'POST',
        signal: ac.signal,
        headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'dripper', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(res.status, 200);
      const reader = res.body.getReader();
      let got = '';
      while ((got.match(/text_delta/g) ?? []).length < 3) got += new TextDecoder().decode((await reader.read()).value);
      ac.abort();
      // The same stream to its end through the Anthropic SDK: the upstream's usage.
      const stream = await t.anthropic(key).messages.create({ model: 'm-openai', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] });
      for await (const _ of stream) { /* drain */ }
      await sleep(500);
      const rows = (await t.logs()).filter((l) => l.endpoint === 'messages');
      const left = rows.find((l) => l.model === 'dripper');
      assert.ok(left, JSON.stringify(rows));
      assert.equal(left.error, 'client_disconnected');
      assert.ok(left.tokens > 0 && left.cost > 0, JSON.stringify(left));
      const stayed = rows.find((l) => l.model === 'm-openai');
      assert.equal(stayed.tokens, MOCK.usage.openai.input + MOCK.usage.openai.output);
      assert.ok(Math.abs(stayed.cost - costOf(MOCK.usage.openai)) < 1e-9);
      const report = await t.usage({ key_id: id });
      assert.equal(report.summary.requests, 2);
    });

  it('/v1/models shows provider, context_length, pricing and capabilities', async () => {
    const res = await fetch(`${t.gw.origin}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    const list = await res.json();
    const m = list.data.find((x) => x.id === 'm-openai');
    assert.equal(m.provider, 'p-openai');
    assert.deepEqual(m.pricing, { input_per_1k: 1, output_per_1k: 2 });
    assert.deepEqual(Object.keys(m.capabilities).sort(), ['functions', 'streaming', 'vision']);
    assert.ok('context_length' in m);
  });
});
