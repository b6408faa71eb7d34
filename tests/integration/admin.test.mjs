// The admin API's config, provider, log and management endpoints through the
// real binary: TruckLLM's /admin/v1/* (config with masked secrets, validate,
// apply, reload, provider key usage, request log), GhostLLM's
// /admin/providers and /status, llm-mux's /v0/management/* with
// X-Management-Key and `switchyard init`; who may use them; SIGHUP; and
// config swaps of every kind while requests stream through.
//
// Secrets in the configs are unique strings (SECRET.*) so that a test can
// assert that none of them appears anywhere in an answer.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { CLIENT_KEY, GATEWAY_BIN, SLOW_BUILD, closedPort, startGateway, startMock, waitFor } from './harness.mjs';

const RUN = crypto.randomBytes(4).toString('hex');
const SECRET = {
  admin: `adm-it-admin-${RUN}-a1`,
  upstream: `sk-it-upstream-${RUN}-b2`,
  header: `hdr-it-value-${RUN}-c3`,
  envHeader: `env-it-header-${RUN}-d4`,  // the value of ${ADM_IT_HEADER}
  pg: `pg-it-pass-${RUN}-e5`,
  redis: `redis-it-pass-${RUN}-f6`,
};
const MASK = '****';
const ENV = { ADM_IT_HEADER: SECRET.envHeader, ADM_IT_MUX_UPSTREAM: SECRET.upstream };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The gateway config: two openai providers on the mock (mock: a literal key,
// a literal header and one from ${ADM_IT_HEADER}; mock2), aliases chat ->
// mock, chat2 -> mock2, echo -> mock/echo, plus opts.models ([name, target]),
// opts.keys (extra YAML key items), opts.store / opts.redis lines.
function configYaml(mockUrl, opts = {}) {
  const models = [['chat', 'mock/gpt-4o'], ['chat2', 'mock2/gpt-4o'], ['echo', 'mock/echo'], ...(opts.models ?? [])];
  return `server:
  auth: keys
  admin_key: ${SECRET.admin}
keys:
  - name: cfg
    key: ${CLIENT_KEY}
${opts.keys ?? ''}providers:
  - id: mock
    name: Mock One
    type: openai
    base_url: ${mockUrl}
    keys:
      - id: key1
        value: ${SECRET.upstream}
    headers: {X-Extra: ${SECRET.header}, X-From-Env: "\${ADM_IT_HEADER}"}
  - id: mock2
    type: openai
    base_url: ${mockUrl}
    keys:
      - id: k2
        value: ${SECRET.upstream}
models:
${models.map(([n, t]) => `  - name: ${n}\n    target: ${t}\n`).join('')}${opts.store ? `store: ${opts.store}\n` : ''}${
  opts.redis ? `redis: ${opts.redis}\n` : ''}usage:
  flush_interval_ms: 20
  key_refresh_ms: 100
`;
}

// Mock + gateway (opts.config(mockUrl) gives the config text; default
// configYaml) with admin helpers.
async function startAdmin(opts = {}) {
  const mock = await startMock();
  const text = (opts.config ?? configYaml)(mock.url);
  let gw;
  try {
    gw = await startGateway(text, { env: { ...ENV, ...opts.env }, dir: opts.dir, configPath: opts.configPath });
  } catch (e) {
    await mock.stop();
    throw e;
  }
  const t = {
    gw,
    mock,
    // An admin call: Bearer admin key unless opts.headers replaces it; an object body is sent as JSON.
    async admin(pathname, { method = 'GET', body, headers } = {}) {
      const res = await fetch(`${gw.origin}${pathname}`, {
        method,
        headers: headers ?? { authorization: `Bearer ${SECRET.admin}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, text, json, headers: res.headers };
    },
    async chat(model, key = CLIENT_KEY, stream = false) {
      const res = await fetch(`${gw.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      return { status: res.status, text: await res.text() };
    },
    file: () => fs.readFileSync(gw.configPath, 'utf8'),
    writeFile: (text) => fs.writeFileSync(gw.configPath, text),
    yaml: (o) => configYaml(mock.url, o),
    async config() {
      const r = await t.admin('/admin/v1/config');
      assert.equal(r.status, 200, r.text);
      return r.json;
    },
    aliases: async () => (await t.config()).models.map((m) => m.name),
    async reloads() {
      return (await t.admin('/status')).json.config_reloads;
    },
    async stop() {
      const r = await gw.stop();
      await mock.stop();
      assert.equal(r.code, 0, `gateway exit ${JSON.stringify(r)}:\n${gw.child.output}`);
    },
  };
  return t;
}

function assertNoSecret(text, what, secrets = Object.values(SECRET)) {
  for (const s of secrets) assert.ok(!text.includes(s), `${what} shows a secret (${s}):\n${text}`);
}

// The file holds every secret as written (the literal values, the ${VAR}
// reference rather than its value) and no mask.
function assertFileRestored(text, extra = []) {
  for (const s of [SECRET.admin, CLIENT_KEY, SECRET.upstream, SECRET.header, '${ADM_IT_HEADER}', ...extra]) {
    assert.ok(text.includes(s), `the config file lost ${s}:\n${text}`);
  }
  assert.ok(!text.includes(MASK), `the config file holds a mask:\n${text}`);
  assert.ok(!text.includes(SECRET.envHeader), 'the environment value was written into the file');
}

// Runs `switchyard init`; returns { code, out, key }.
function runInit(configPath, force = false) {
  const r = spawnSync(GATEWAY_BIN, ['init', '--config', configPath, ...(force ? ['--force'] : [])], { encoding: 'utf8', env: { ...process.env, ...ENV } });
  const m = /^(sya_\S+)$/m.exec(r.stdout);
  return { code: r.status, out: r.stdout + r.stderr, key: m?.[1] };
}

describe('TruckLLM /admin/v1', () => {
  let t;
  let schema;
  const pgUrl = process.env.SWITCHYARD_TEST_PG_URL;
  const psql = (sql) => execFileSync('psql', [pgUrl, '-qc', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
  before(async () => {
    assert.ok(pgUrl, 'SWITCHYARD_TEST_PG_URL is not set (scripts/services.sh start)');
    // The store is a PostgreSQL whose URL holds a password (trust auth ignores it),
    // in a fresh schema; the redis URL holds one too (nothing listens: limits degrade, unused).
    schema = `sy_admin_it_${RUN}`;
    psql(`CREATE SCHEMA ${schema}`);
    const u = new URL(pgUrl);
    u.password = SECRET.pg;
    u.searchParams.set('options', `-csearch_path=${schema}`);
    const redis = `redis://:${SECRET.redis}@127.0.0.1:${await closedPort()}/0`;
    t = await startAdmin({ config: (url) => configYaml(url, { store: u.toString(), redis }) });
  });
  after(async () => {
    try {
      await t?.stop();
    } finally {
      if (schema) psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });

  it('GET /admin/v1/config is the running config as JSON with every secret masked', async () => {
    const r = await t.admin('/admin/v1/config');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /application\/json/);
    assertNoSecret(r.text, 'GET /admin/v1/config', [...Object.values(SECRET), CLIENT_KEY]);
    const c = r.json;
    assert.equal(c.server.admin_key, MASK);
    assert.equal(c.keys[0].name, 'cfg');
    assert.equal(c.keys[0].key, MASK);
    const mock = c.providers.find((p) => p.id === 'mock');
    assert.deepEqual(mock.keys.map((k) => [k.id, k.value]), [['key1', MASK]]);
    assert.deepEqual(mock.headers, { 'X-Extra': MASK, 'X-From-Env': MASK });
    assert.equal(mock.name, 'Mock One');
    assert.match(c.store, new RegExp(`^postgres://switchyard:\\*\\*\\*\\*@127\\.0\\.0\\.1:\\d+/`));
    assert.match(c.redis, /^redis:\/\/:\*\*\*\*@127\.0\.0\.1:\d+\/0$/);
    assert.deepEqual(c.models.map((m) => m.name), ['chat', 'chat2', 'echo']);
    assert.equal(c.usage.key_refresh_ms, 100);
  });

  it('POST /admin/v1/config/validate: {valid:true, errors:[]} for a good document, path and message for each problem, nothing changes', async () => {
    const before = t.file();
    const good = await t.config();
    good.models.push({ name: 'validated-only', target: 'mock/x' });
    const ok = await t.admin('/admin/v1/config/validate', { method: 'POST', body: good });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { valid: true, errors: [] });
    const bad = await t.config();
    bad.models.push({ name: 'dangling', target: 'nowhere/x' });
    bad.server.shoe_size = 9;
    const no = await t.admin('/admin/v1/config/validate', { method: 'POST', body: bad });
    assert.equal(no.status, 200, no.text);
    assert.equal(no.json.valid, false);
    assert.ok(no.json.errors.length >= 2, no.text);
    for (const e of no.json.errors) assert.deepEqual(Object.keys(e).sort(), ['message', 'path']);
    assert.ok(no.json.errors.some((e) => e.path === 'server.shoe_size'), no.text);
    assert.ok(no.json.errors.some((e) => e.path.startsWith('models[3]')), no.text);
    const yamlBad = await t.admin('/admin/v1/config/validate', { method: 'POST', body: 'server: [unclosed' });
    assert.equal(yamlBad.json.valid, false);
    assert.equal(t.file(), before, 'validation writes nothing');
    assert.ok(!(await t.aliases()).includes('validated-only'), 'validation applies nothing');
  });

  it('POST /admin/v1/config with the GET output edited is applied, written with the secrets restored, the old file kept as .previous',
    async () => {
      const previous = t.file();
      const doc = await t.config();
      doc.models.push({ name: 'added-by-post', target: 'mock/echo' });
      const r = await t.admin('/admin/v1/config', { method: 'POST', body: doc });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, 'ok');
      assert.deepEqual(r.json.restart_required, []);
      const answer = await t.chat('added-by-post');
      assert.equal(answer.status, 200, answer.text);
      // The upstream got the real key and header values, not the masks.
      const echoed = JSON.parse(answer.text).choices[0].message.content.toLowerCase();
      assert.ok(echoed.includes(`bearer ${SECRET.upstream}`), echoed);
      assert.ok(echoed.includes(SECRET.header) && echoed.includes(SECRET.envHeader), echoed);
      const file = t.file();
      assertFileRestored(file, [SECRET.pg, SECRET.redis]);
      assert.ok(file.includes('added-by-post'));
      assert.equal(fs.readFileSync(`${t.gw.configPath}.previous`, 'utf8'), previous);
      assertNoSecret((await t.admin('/admin/v1/config')).text, 'GET after POST');
    });

  it('POST /admin/v1/config with an invalid document: 400 with each error, the old config still serving and the file untouched',
    async () => {
      const file = t.file();
      const doc = await t.config();
      doc.models = [{ name: 'only', target: 'ghost/x' }];
      const r = await t.admin('/admin/v1/config', { method: 'POST', body: doc });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.ok(r.json.errors.some((e) => e.path === 'models[0].target'), r.text);
      // A mask with nothing to restore it from is an error too, naming its path.
      const masked = await t.config();
      masked.providers.push({ id: 'newp', type: 'openai', base_url: 'http://127.0.0.1:1/v1', keys: [{ id: 'x', value: MASK }] });
      const m = await t.admin('/admin/v1/config', { method: 'POST', body: masked });
      assert.equal(m.status, 400, m.text);
      assert.match(m.json.error.message, /providers\[2\]\.keys\[0\]\.value/);
      for (const body of ['{not json', '[1, 2]', '']) {
        assert.equal((await t.admin('/admin/v1/config', { method: 'POST', body })).status, 400, body);
      }
      assert.equal(t.file(), file);
      assert.equal((await t.chat('chat')).status, 200);
      assert.ok(!(await t.aliases()).includes('only'));
    });

  it('POST /admin/v1/reload applies the file as edited on disk; a broken file gets 400 and the old config stays', async () => {
    const original = t.file();
    t.writeFile(original.replace('models:\n', 'models:\n  - name: from-disk\n    target: mock/gpt-4o\n'));
    const r = await t.admin('/admin/v1/reload', { method: 'POST' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'ok');
    assert.equal((await t.chat('from-disk')).status, 200);
    t.writeFile(original.replace('models:\n', 'models:\n  - name: broken-one\n    target: mock/gpt-4o\n  bogus: 1\n'));
    const bad = await t.admin('/admin/v1/reload', { method: 'POST' });
    assert.equal(bad.status, 400, bad.text);
    assert.ok(bad.json.errors.length > 0);
    assertNoSecret(bad.text, 'the reload error');
    assert.equal((await t.chat('from-disk')).status, 200, 'the old config stays');
    assert.ok(!(await t.aliases()).includes('broken-one'));
    t.writeFile(original);
    assert.equal((await t.admin('/admin/v1/reload', { method: 'POST' })).status, 200);
    assert.equal((await t.chat('from-disk')).status, 404);
    assert.equal((await t.admin('/admin/v1/reload')).status, 405);
  });

  it('GET /admin/v1/providers: usage_req, usage_tokens and errors of each provider key move with requests', async () => {
    const keyOf = async (provider) => {
      const r = await t.admin('/admin/v1/providers');
      assert.equal(r.status, 200);
      const p = r.json.providers.find((x) => x.id === provider);
      assert.equal(p.status, 'healthy');
      assertNoSecret(r.text, 'GET /admin/v1/providers');
      return p.keys[0];
    };
    assert.deepEqual(Object.keys(await keyOf('mock')).sort(), ['errors', 'id', 'usage_req', 'usage_tokens']);
    const before = await keyOf('mock');
    const other = await keyOf('mock2');
    assert.equal(before.id, 'key1');
    assert.equal((await t.chat('chat')).status, 200);  // 5 + 4 tokens
    assert.equal((await t.chat('chat')).status, 200);
    assert.equal((await t.chat('chat', CLIENT_KEY, true)).status, 200);  // a stream: 5 + 5
    assert.equal((await t.chat('mock/status-500')).status, 502);  // an upstream 5xx is a 502
    const want = { id: 'key1', usage_req: before.usage_req + 4, usage_tokens: before.usage_tokens + 28, errors: before.errors + 1 };
    const got = await waitFor(async () => {
      const k = await keyOf('mock');
      return JSON.stringify(k) === JSON.stringify(want) && k;
    });
    assert.deepEqual(got || (await keyOf('mock')), want);
    assert.deepEqual(await keyOf('mock2'), other, 'the other provider\'s key did not move');
  });

  it('GET /admin/v1/logs?limit&provider&level: the latest requests with provider, model, latency, status and tokens', async () => {
    const tag = `logs-${RUN}`;
    for (let i = 0; i < 3; i++) assert.equal((await t.chat(`mock/${tag}-${i}`)).status, 200);
    assert.equal((await t.chat(`chat2`)).status, 200);
    assert.equal((await t.chat('mock/status-500')).status, 502);
    const r = await t.admin('/admin/v1/logs?limit=4&provider=mock');
    assert.equal(r.status, 200, r.text);
    const logs = r.json.logs;
    assert.equal(logs.length, 4);
    assert.ok(logs.every((l) => l.provider === 'mock'), r.text);
    assert.deepEqual(logs.map((l) => l.model), ['mock/status-500', `mock/${tag}-2`, `mock/${tag}-1`, `mock/${tag}-0`],
      'the latest first, mock2\'s request left out');
    const ok = logs[1];
    assert.equal(ok.status, 200);
    assert.equal(ok.tokens, 9);
    assert.equal(ok.level, 'info');
    assert.ok(Number.isInteger(ok.latency_ms) && ok.latency_ms >= 0);
    assert.ok(!Number.isNaN(Date.parse(ok.timestamp)));
    const errors = (await t.admin('/admin/v1/logs?level=error&limit=1000')).json.logs;
    assert.ok(errors.length >= 1);
    assert.ok(errors.every((l) => l.level === 'error' && l.status >= 500), JSON.stringify(errors));
    assert.equal(errors[0].model, 'mock/status-500');
    assert.ok(errors[0].error);
    assert.equal((await t.admin('/admin/v1/logs?provider=mock2&limit=1')).json.logs[0].model, 'chat2');
    assert.equal((await t.admin('/admin/v1/logs?limit=0')).status, 400);
    assert.equal((await t.admin('/admin/v1/logs?level=loud')).status, 400);
  });
});

describe('GhostLLM /admin/providers and /status', () => {
  let t;
  before(async () => {
    t = await startAdmin();
  });
  after(() => t.stop());

  it('GET /admin/providers lists id, name, type, enabled, base_url, models and health_status', async () => {
    const r = await t.admin('/admin/providers');
    assert.equal(r.status, 200);
    assertNoSecret(r.text, 'GET /admin/providers');
    const [mock, mock2] = r.json.providers;
    for (const f of ['id', 'name', 'type', 'enabled', 'base_url', 'models', 'health_status']) assert.ok(f in mock, f);
    assert.deepEqual([mock.id, mock.name, mock.type, mock.enabled, mock.base_url, mock.health_status],
      ['mock', 'Mock One', 'openai', true, t.mock.url, 'healthy']);
    assert.deepEqual(mock.models.sort(), ['chat', 'echo']);
    assert.deepEqual([mock2.name, mock2.models], ['mock2', ['chat2']]);
  });

  it('PUT {enabled:false}: that provider\'s models answer 503 in the caller\'s protocol; {enabled:true} brings them back', async () => {
    const off = await t.admin('/admin/providers/mock', { method: 'PUT', body: { enabled: false } });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.json.providers[0].enabled, false);
    assert.equal(off.json.providers[0].health_status, 'disabled');
    const openai = await t.chat('chat');
    assert.equal(openai.status, 503);
    assert.equal(typeof JSON.parse(openai.text).error.message, 'string');
    const post = (p, body, headers = {}) => fetch(`${t.gw.origin}${p}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const anthropic = await post('/v1/messages', { model: 'chat', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] },
      { 'anthropic-version': '2023-06-01' });
    assert.equal(anthropic.status, 503);
    const ab = await anthropic.json();
    assert.equal(ab.type, 'error');
    assert.equal(ab.error.type, 'overloaded_error');
    const gemini = await post('/v1beta/models/chat:generateContent', { contents: [{ parts: [{ text: 'hi' }] }] });
    assert.equal(gemini.status, 503);
    assert.equal((await gemini.json()).error.status, 'UNAVAILABLE');
    assert.equal((await t.chat('chat2')).status, 200, 'the other provider still serves');
    assert.match(t.file(), /enabled: false/);
    const on = await t.admin('/admin/providers/mock', { method: 'PUT', body: { enabled: true } });
    assert.equal(on.status, 200);
    assert.equal((await t.chat('chat')).status, 200);
  });

  it('PUT {name}, {config:{timeout}}, {config:{api_key}} are applied and persist to the config file', async () => {
    const newKey = `sk-it-rotated-${RUN}`;
    let r = await t.admin('/admin/providers/mock2', { method: 'PUT', body: { name: 'Mock Two', config: { timeout: 42 } } });
    assert.equal(r.status, 200, r.text);
    const p = r.json.providers.find((x) => x.id === 'mock2');
    assert.deepEqual([p.name, p.timeout], ['Mock Two', 42]);
    r = await t.admin('/admin/providers/mock', { method: 'PUT', body: { config: { api_key: newKey } } });
    assert.equal(r.status, 200, r.text);
    assert.ok(!r.text.includes(newKey), 'the new key is not echoed');
    const file = t.file();
    assert.match(file, /name: Mock Two/);
    assert.match(file, /timeout_s: 42/);
    assert.ok(file.includes(newKey));
    assert.ok(file.includes('${ADM_IT_HEADER}'), 'other secrets keep their references');
    assert.ok(!file.includes(MASK), file);
    // The upstream gets the new key at once.
    const echoed = JSON.parse((await t.chat('echo')).text).choices[0].message.content;
    assert.ok(echoed.includes(`Bearer ${newKey}`), echoed);
    const listed = (await t.admin('/admin/providers')).json.providers;
    assert.equal(listed.find((x) => x.id === 'mock2').name, 'Mock Two');
  });

  it('PUT with unknown fields or bad values is 400, an unknown provider 404; nothing changes', async () => {
    const file = t.file();
    for (const body of [{ colour: 'red' }, { config: { retries: 3 } }, { enabled: 'yes' }, { name: '' },
      { config: { timeout: 0 } }, { config: { api_key: 7 } }, '[]']) {
      const r = await t.admin('/admin/providers/mock', { method: 'PUT', body });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
    const missing = await t.admin('/admin/providers/nobody', { method: 'PUT', body: { enabled: false } });
    assert.equal(missing.status, 404);
    assert.equal(t.file(), file);
  });

  it('GET /status: status, version, uptime, counts, requests today, reloads', async () => {
    await t.chat('chat');
    const s = (await t.admin('/status')).json;
    assert.equal(s.status, 'running');
    assert.match(s.version, /^\d+\.\d+\.\d+/);
    assert.ok(Number.isInteger(s.uptime_seconds) && s.uptime_seconds >= 0);
    assert.equal(s.providers_count, 2);
    assert.equal(s.models_count, 3);
    assert.ok(s.requests_today >= 1);
    assert.ok('cache_hit_rate' in s);
    assert.equal(s.store.kind, 'sqlite');
    const n = s.config_reloads;
    assert.equal((await t.admin('/admin/v1/reload', { method: 'POST' })).status, 200);
    assert.equal(await t.reloads(), n + 1);
  });

  it('a user key (made with POST /admin/keys) gets 403 on every admin path; no key gets 401; nothing changes', async () => {
    const made = await t.admin('/admin/keys', { method: 'POST', body: { name: 'plain-user' } });
    assert.equal(made.status, 201, made.text);
    const userKey = made.json.key;
    const file = t.file();
    const calls = [
      ['GET', '/admin/v1/config'], ['POST', '/admin/v1/config', t.yaml({ models: [['nope', 'mock/x']] })],
      ['POST', '/admin/v1/config/validate', '{}'], ['POST', '/admin/v1/reload'], ['GET', '/admin/v1/providers'],
      ['GET', '/admin/v1/logs'], ['GET', '/admin/providers'], ['PUT', '/admin/providers/mock', '{"enabled":false}'],
      ['GET', '/status'], ['GET', '/admin/keys'], ['POST', '/admin/keys', '{"name":"x","type":"admin"}'],
      ['GET', '/admin/users'], ['GET', '/admin/usage'], ['GET', '/v0/management/config'],
      ['GET', '/v0/management/config.yaml'], ['PUT', '/v0/management/config.yaml', t.yaml()],
      ['GET', '/v0/management/usage'], ['GET', '/v0/management/api-keys'], ['PUT', '/v0/management/api-keys', '{"name":"y"}'],
      ['DELETE', '/v0/management/api-keys?id=x'], ['GET', '/v0/management/logs'], ['DELETE', '/v0/management/logs'],
      ['GET', '/v0/management/debug'], ['PUT', '/v0/management/debug', '{"value":true}'], ['GET', '/admin/nothing-here'],
    ];
    for (const [method, p, body] of calls) {
      for (const key of [userKey, CLIENT_KEY]) {
        for (const headers of [{ authorization: `Bearer ${key}` }, { 'x-management-key': key }]) {
          const r = await t.admin(p, { method, body, headers });
          assert.equal(r.status, 403, `${method} ${p} with ${Object.keys(headers)[0]}: ${r.text}`);
        }
      }
      const anon = await t.admin(p, { method, body, headers: {} });
      assert.equal(anon.status, 401, `${method} ${p} without a key`);
      const wrong = await t.admin(p, { method, body, headers: { 'x-management-key': 'sya_not-a-key' } });
      assert.equal(wrong.status, 401, `${method} ${p} with a wrong key`);
    }
    assert.equal(t.file(), file);
    assert.ok(!(await t.aliases()).includes('nope'));
    assert.equal((await t.admin('/v0/management/debug')).json.debug, false);
  });
});

describe('llm-mux /v0/management', () => {
  let t;
  let dir;
  let initKey;
  const mgmt = (key) => ({ 'x-management-key': key, 'content-type': 'application/json' });
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-admin-mux-'));
    const configPath = path.join(dir, 'switchyard.yaml');
    // The upstream key is a ${VAR} reference here.
    const config = (url) => configYaml(url).replace(`value: ${SECRET.upstream}\n    headers`, 'value: ${ADM_IT_MUX_UPSTREAM}\n    headers');
    fs.writeFileSync(configPath, config('http://127.0.0.1:1/v1'));  // the real one is written at start
    const init = runInit(configPath);
    assert.equal(init.code, 0, init.out);
    assert.match(init.out, /shown once/);
    initKey = init.key;
    assert.ok(initKey, init.out);
    t = await startAdmin({ config, dir, configPath });
  });
  after(async () => {
    await t.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('X-Management-Key works with the key printed by `switchyard init` and with server.admin_key', async () => {
    for (const key of [initKey, SECRET.admin]) {
      const r = await t.admin('/v0/management/config', { headers: mgmt(key) });
      assert.equal(r.status, 200, r.text);
    }
    const listed = (await t.admin('/v0/management/api-keys', { headers: mgmt(initKey) })).json['api-keys'];
    const row = listed.find((k) => k.name === 'management');
    assert.equal(row.type, 'admin');
    assert.ok(!JSON.stringify(listed).includes(initKey));
  });

  it('`init` again without --force fails; with --force prints a new key and the old one stops working within 1 s', async () => {
    const again = runInit(t.gw.configPath);
    assert.equal(again.code, 1, again.out);
    assert.match(again.out, /exists already.*--force/);
    assert.equal(again.key, undefined);
    assert.equal((await t.admin('/status', { headers: mgmt(initKey) })).status, 200, 'the old key still works');
    const forced = runInit(t.gw.configPath, true);
    assert.equal(forced.code, 0, forced.out);
    assert.ok(forced.key && forced.key !== initKey);
    const gone = await waitFor(async () => (await t.admin('/status', { headers: mgmt(initKey) })).status === 401,
      SLOW_BUILD ? 5000 : 1000);
    assert.ok(gone, 'the replaced key still works');
    assert.equal((await t.admin('/status', { headers: mgmt(forced.key) })).status, 200);
    initKey = forced.key;
  });

  it('GET config is the running config, masked; GET config.yaml is the file, masked, ${VAR} references kept', async () => {
    const c = await t.admin('/v0/management/config', { headers: mgmt(initKey) });
    assert.equal(c.status, 200);
    assertNoSecret(c.text, 'GET config');
    assert.equal(c.json.providers[0].keys[0].value, MASK);
    const y = await t.admin('/v0/management/config.yaml', { headers: mgmt(initKey) });
    assert.equal(y.status, 200);
    assert.match(y.headers.get('content-type'), /yaml/);
    assertNoSecret(y.text, 'GET config.yaml', [...Object.values(SECRET), CLIENT_KEY]);
    assert.match(y.text, /value: \$\{ADM_IT_MUX_UPSTREAM\}/);
    assert.match(y.text, /X-From-Env: "?\$\{ADM_IT_HEADER\}"?[,}\n]/);
    assert.match(y.text, /admin_key: "\*\*\*\*"/);
  });

  it('PUT config.yaml with the masked file edited is applied, written with the secrets restored, .previous kept', async () => {
    const previous = t.file();
    const masked = (await t.admin('/v0/management/config.yaml', { headers: mgmt(initKey) })).text;
    const edited = masked.replace('models:\n', 'models:\n  - name: via-yaml\n    target: mock2/gpt-4o\n');
    const r = await t.admin('/v0/management/config.yaml', { method: 'PUT', body: edited, headers: mgmt(initKey) });
    assert.equal(r.status, 200, r.text);
    assert.equal((await t.chat('via-yaml')).status, 200);
    const file = t.file();
    assert.ok(file.includes('via-yaml'));
    assert.match(file, /id: key1\n\s+value: \$\{ADM_IT_MUX_UPSTREAM\}\n/, 'the reference stays a reference');
    assertFileRestored(file);
    assert.equal(fs.readFileSync(`${t.gw.configPath}.previous`, 'utf8'), previous);
    const bad = await t.admin('/v0/management/config.yaml', { method: 'PUT', body: 'models: 7\n', headers: mgmt(initKey) });
    assert.equal(bad.status, 400);
    assert.equal(t.file(), file);
  });

  it('api-keys: PUT without id creates (the key shown once), PUT with id updates limits, DELETE ?id= revokes (401)', async () => {
    const made = await t.admin('/v0/management/api-keys', { method: 'PUT', body: { name: 'mux-client' }, headers: mgmt(initKey) });
    assert.equal(made.status, 201, made.text);
    const { id, key } = made.json;
    assert.match(key, /^syu_/);
    assert.equal((await t.chat('chat', key)).status, 200);
    const list = (await t.admin('/v0/management/api-keys', { headers: mgmt(initKey) })).json['api-keys'];
    assert.ok(list.some((k) => k.id === id && k.key === undefined));
    assert.ok(!JSON.stringify(list).includes(key));
    const upd = await t.admin('/v0/management/api-keys', { method: 'PUT', body: { id, rate_limit: 1 }, headers: mgmt(initKey) });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.json.rate_limit, 1);
    assert.equal(upd.json.key, undefined);
    assert.equal((await t.chat('chat', key)).status, 200);
    assert.equal((await t.chat('chat', key)).status, 429, 'the new limit applies');
    const usage = await t.admin(`/v0/management/usage?key_id=${id}`, { headers: mgmt(initKey) });
    assert.equal(usage.status, 200, usage.text);
    assert.equal(usage.json.usage.summary.requests, 3);
    assert.equal(usage.json.usage.summary.tokens, 18);
    assert.equal(usage.json.usage.by_model[0].model, 'chat');
    const missing = await t.admin('/v0/management/api-keys', { method: 'PUT', body: { id: 'key_nobody', rate_limit: 1 }, headers: mgmt(initKey) });
    assert.equal(missing.status, 404);
    const del = await t.admin(`/v0/management/api-keys?id=${id}`, { method: 'DELETE', headers: mgmt(initKey) });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json, { id, revoked: true });
    assert.equal((await t.chat('chat', key)).status, 401);
    assert.equal((await t.admin('/v0/management/api-keys', { method: 'DELETE', headers: mgmt(initKey) })).status, 400);
  });

  it('logs: GET shows the server\'s lines, DELETE clears them, new events show again; debug GET/PUT', async () => {
    const lines = (await t.admin('/v0/management/logs', { headers: mgmt(initKey) })).json.logs;
    assert.ok(lines.some((l) => /serving on/.test(l.message)), JSON.stringify(lines));
    assert.deepEqual(Object.keys(lines[0]).sort(), ['level', 'message', 'timestamp']);
    assertNoSecret(JSON.stringify(lines), 'the server log');
    const del = await t.admin('/v0/management/logs', { method: 'DELETE', headers: mgmt(initKey) });
    assert.equal(del.status, 200);
    const after = (await t.admin('/v0/management/logs', { headers: mgmt(initKey) })).json.logs;
    assert.ok(!after.some((l) => /serving on/.test(l.message)), 'cleared');
    assert.deepEqual((await t.admin('/v0/management/debug', { headers: mgmt(initKey) })).json, { debug: false });
    const on = await t.admin('/v0/management/debug', { method: 'PUT', body: { value: true }, headers: mgmt(initKey) });
    assert.deepEqual(on.json, { debug: true });
    assert.deepEqual((await t.admin('/v0/management/debug', { headers: mgmt(initKey) })).json, { debug: true });
    const again = (await t.admin('/v0/management/logs?search=debug+logging', { headers: mgmt(initKey) })).json.logs;
    assert.equal(again.length, 1, JSON.stringify(again));
    assert.match(again[0].message, /debug logging on/);
    const off = await t.admin('/v0/management/debug', { method: 'PUT', body: { value: false }, headers: mgmt(initKey) });
    assert.deepEqual(off.json, { debug: false });
    assert.equal((await t.admin('/v0/management/debug', { method: 'PUT', body: { value: 'yes' }, headers: mgmt(initKey) })).status, 400);
  });
});

describe('reloading while serving', () => {
  let t;
  before(async () => {
    t = await startAdmin();
  });
  after(() => t.stop());

  it('SIGHUP reloads the file; a broken file keeps the old config and the server serving', async () => {
    const n = await t.reloads();
    t.writeFile(t.yaml({ models: [['by-sighup', 'mock/gpt-4o']] }));
    process.kill(t.gw.pid, 'SIGHUP');
    assert.ok(await waitFor(async () => (await t.reloads()) === n + 1, 10000), 'reloaded');
    assert.equal((await t.chat('by-sighup')).status, 200);
    t.writeFile(t.yaml({ models: [['half-done', 'mock/gpt-4o']] }).replace('providers:', 'providers: [oops'));
    process.kill(t.gw.pid, 'SIGHUP');
    assert.ok(await waitFor(() => /SIGHUP: .* problem\(s\); the running configuration stays/.test(t.gw.child.output), 10000),
      t.gw.child.output);
    assert.equal(await t.reloads(), n + 1);
    assert.equal((await t.chat('by-sighup')).status, 200);
    assert.ok(!(await t.aliases()).includes('half-done'));
    assertNoSecret(t.gw.child.output, 'the gateway log');
    t.writeFile(t.yaml());
    process.kill(t.gw.pid, 'SIGHUP');
    assert.ok(await waitFor(async () => (await t.reloads()) === n + 2, 10000));
  });

  it('config swaps of every kind under load: every request succeeds, the last config posted is the one running', async (tc) => {
    const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: t.gw.baseURL, maxRetries: 0, timeout: 30000 });
    let stop = false;
    const failures = [];
    let done = 0;
    const loop = async (id) => {
      for (let i = 0; !stop; i++) {
        const model = i % 3 === 2 ? 'chat2' : 'chat';
        try {
          if ((i + id) % 2) {
            let text = '';
            const s = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] });
            for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
            assert.equal(text, 'Hello from mock stream.');
          } else {
            const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
            assert.equal(r.choices[0].message.content, 'Hello from mock');
          }
          done++;
        } catch (e) {
          failures.push(`${model}: ${e.status ?? ''} ${e.message}`);
        }
      }
    };
    // Each swap: `chat` moves between the providers, a marker alias and an extra client key change.
    const version = (i) => ({
      models: [[`swap-${i}`, 'mock/gpt-4o']],
      keys: `  - name: extra-${i}\n    key: sk-extra-${RUN}-${i}\n`,
    });
    const yamlOf = (i) => t.yaml(version(i)).replace('name: chat\n    target: mock/', `name: chat\n    target: ${i % 2 ? 'mock2' : 'mock'}/`);
    const base = await t.config();
    const swap = async (i, kind) => {
      let r;
      if (kind === 0) {
        const doc = structuredClone(base);
        doc.models.find((m) => m.name === 'chat').target = `${i % 2 ? 'mock2' : 'mock'}/gpt-4o`;
        doc.models.push({ name: `swap-${i}`, target: 'mock/gpt-4o' });
        doc.keys.push({ name: `extra-${i}`, key: `sk-extra-${RUN}-${i}` });
        r = await t.admin('/admin/v1/config', { method: 'POST', body: doc });
      } else if (kind === 1) {
        r = await t.admin('/v0/management/config.yaml', { method: 'PUT', body: yamlOf(i), headers: { 'x-management-key': SECRET.admin } });
      } else if (kind === 2) {
        t.writeFile(yamlOf(i));
        r = await t.admin('/admin/v1/reload', { method: 'POST' });
      } else {
        const n = await t.reloads();
        t.writeFile(yamlOf(i));
        process.kill(t.gw.pid, 'SIGHUP');
        assert.ok(await waitFor(async () => (await t.reloads()) > n, 10000), `SIGHUP ${i} applied`);
        return;
      }
      assert.equal(r.status, 200, `swap ${i} (${kind}): ${r.text}`);
    };
    const loops = [0, 1, 2, 3].map(loop);
    const started = Date.now();
    let i = 0;
    try {
      while (i < 20 || Date.now() - started < 3000) {
        await swap(i, i % 4);
        i++;
        await sleep(20);
      }
      await swap(i, 0);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    tc.diagnostic(`${i + 1} swaps, ${done} requests`);
    assert.deepEqual(failures, []);
    assert.ok(done > 20, `${done} requests`);
    const names = await t.aliases();
    assert.deepEqual(names.filter((n) => n.startsWith('swap-')), [`swap-${i}`]);
    assert.equal((await t.config()).keys.at(-1).name, `extra-${i}`);
    assert.equal((await t.chat(`swap-${i}`)).status, 200);
    assert.match(t.file(), new RegExp(`swap-${i}\\b`));
  });
});
