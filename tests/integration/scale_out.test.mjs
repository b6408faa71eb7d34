// Scale-out and durability through the real binary: two instances on one
// PostgreSQL and one Redis (keys, revocation, rate limits and budgets shared),
// local limits without Redis, a database outage with no usage record lost, a
// restart in the middle of one, the SIGTERM flush on SQLite, and Redis going
// away and coming back.
//
// The shared-store tests need SWITCHYARD_TEST_PG_URL and
// SWITCHYARD_TEST_REDIS_URL (scripts/test.sh starts both through
// scripts/services.sh) and fail without them; they use a database of their own
// (sy_it_<random>, dropped at the end) and a Redis logical database of their
// own (1..15, flushed first). The outage tests start what they stop: a
// PostgreSQL cluster of their own (initdb in a temporary folder; as root the
// server runs as user postgres, as scripts/services.sh does) and a
// redis-server of their own, each on a free loopback port.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SLOW_BUILD, closedPort, startGateway, startMock } from './harness.mjs';

const PG_URL = process.env.SWITCHYARD_TEST_PG_URL;
const REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL;
const ADMIN_KEY = 'adm-scale-out-test-key-00112233';
const CFG_KEY = 'sk-scale-out-config-key-0123456789';
const CFG_KEY_ID = 'cfg_cfg';
const KEY_REFRESH_MS = 200;
// The sanitizer build is several times slower: deadlines stretch, nothing
// asserts wall-clock bounds there.
const SLOW = SLOW_BUILD ? 10 : 1;
// One chat answer from build/mock_upstream: 5 prompt and 4 completion tokens;
// at $100 per 1K tokens either way it costs $0.90.
const PRICE_PER_1K = 100;
const ONE_CALL = (5 + 4) * PRICE_PER_1K / 1000;
// GCRA: a limit of L per minute lets one more request in every 60/L s.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rand = () => crypto.randomBytes(5).toString('hex');

function requireServices() {
  assert.ok(PG_URL, 'SWITCHYARD_TEST_PG_URL is not set: run the tests through scripts/test.sh, or '
    + 'eval "$(scripts/services.sh start)" first');
  assert.ok(REDIS_URL, 'SWITCHYARD_TEST_REDIS_URL is not set: run the tests through scripts/test.sh, or '
    + 'eval "$(scripts/services.sh start)" first');
}

// Polls fn until it returns a truthy value; throws with `what` and the last
// value after timeoutMs.
async function until(what, fn, timeoutMs, intervalMs = 25) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) assert.fail(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

// ---- PostgreSQL and Redis helpers

function psql(url, sql) {
  return execFileSync('psql', [url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000,
  }).trim();
}

function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.href;
}

// A new database on the server of `url`; returns its URL and a drop().
function createDatabase(url) {
  const name = `sy_it_${rand()}`;
  psql(url, `CREATE DATABASE ${name}`);
  return {
    name,
    url: withDatabase(url, name),
    drop: () => {
      try {
        psql(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch { /* the server may be gone already */ }
    },
  };
}

// Usage rows of one key in the store: [rows, distinct request ids].
function usageRows(dbUrl, keyId) {
  const out = psql(dbUrl, `SELECT count(*), count(DISTINCT request_id) FROM usage WHERE key_id = '${keyId}'`);
  return out.split('|').map(Number);
}

function redisCli(url, ...args) {
  return execFileSync('redis-cli', ['-u', url, ...args], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000,
  }).trim();
}

function pgBin() {
  const dirs = fs.existsSync('/usr/lib/postgresql')
    ? fs.readdirSync('/usr/lib/postgresql').filter((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))
    : [];
  assert.ok(dirs.length > 0, 'PostgreSQL is not installed (scripts/setup.sh --test)');
  dirs.sort((a, b) => Number(a) - Number(b));
  return `/usr/lib/postgresql/${dirs.at(-1)}/bin`;
}

// Runs a PostgreSQL program as the user that may run the server: PostgreSQL
// refuses root, so as root it runs as 'postgres' (the package's user).
function asPg(program, args) {
  const bin = path.join(pgBin(), program);
  const r = process.getuid?.() === 0
    ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8', timeout: 120000 })
    : spawnSync(bin, args, { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

// A PostgreSQL cluster of this test's own, on a free loopback port, that it
// can stop and start.
async function startOwnPostgres() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-it-pg-'));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'pg');
  fs.mkdirSync(data);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', data]);
  asPg('initdb', ['-D', data, '-U', 'switchyard', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await closedPort();
  fs.appendFileSync(path.join(data, 'postgresql.auto.conf'), `port = ${port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${data}'
fsync = off
max_connections = 50
`);
  const pg = {
    port,
    url: `postgres://switchyard@127.0.0.1:${port}/postgres`,
    up: false,
    start() {
      asPg('pg_ctl', ['-D', data, '-l', path.join(data, 'server.log'), '-w', '-t', '60', 'start']);
      pg.up = true;
    },
    stop(mode = 'fast') {
      asPg('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
      pg.up = false;
    },
    destroy() {
      try {
        if (pg.up) pg.stop('immediate');
      } catch { /* gone */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  pg.start();
  return pg;
}

// A redis-server of this test's own on `port`, run in the foreground as our child.
async function startOwnRedis(port) {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  proc.on('error', (e) => (output += `cannot start redis-server: ${e.message}`));
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  const url = `redis://127.0.0.1:${port}`;
  await until(`redis-server on ${port} answers (${output})`, () => {
    try {
      return redisCli(url, 'ping') === 'PONG';
    } catch {
      return false;
    }
  }, 10000, 50);
  return {
    url,
    async stop() {
      if (proc.pid === undefined) return;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

// ---- the gateway

function configYaml(mockUrl, { store, redis, limits = [], flushMs = 20, keys = [] } = {}) {
  return `server:
  auth: keys
  admin_key: ${ADMIN_KEY}
  shutdown_timeout_s: 5
keys:
  - name: cfg
    key: ${CFG_KEY}
${keys.join('')}providers:
  - id: mock
    type: openai
    base_url: ${mockUrl}
    keys:
      - id: k1
        value: sk-upstream-secret
models:
  - name: gpt-4
    target: mock/gpt-4o
pricing:
  - model: gpt-4o
    input_per_1k: ${PRICE_PER_1K}
    output_per_1k: ${PRICE_PER_1K}
${store ? `store: ${store}\n` : ''}${redis ? `redis: ${redis}\n` : ''}limits:
${limits.map((l) => `  ${l}\n`).join('')}  redis_timeout_ms: 2000
usage:
  flush_interval_ms: ${flushMs}
  key_refresh_ms: ${KEY_REFRESH_MS}
`;
}

// A gateway and what the tests do with it.
async function gateway(configText, opts = {}) {
  const gw = await startGateway(configText, opts);
  const g = {
    gw,
    origin: gw.origin,
    admin(pathname, init = {}) {
      return fetch(`${gw.origin}${pathname}`, {
        ...init,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
    },
    async createKey(body) {
      const res = await g.admin('/admin/keys', { method: 'POST', body });
      const json = await res.json();
      assert.equal(res.status, 201, JSON.stringify(json));
      return json;
    },
    async knowsKey(id) {
      const res = await g.admin('/admin/keys');
      if (res.status !== 200) return false;
      return (await res.json()).keys.find((k) => k.id === id);
    },
    async status() {
      const res = await g.admin('/status');
      assert.equal(res.status, 200);
      return res.json();
    },
    async usageCount(keyId) {
      const res = await g.admin(`/admin/usage?${new URLSearchParams({ key_id: keyId })}`);
      const json = await res.json();
      assert.equal(res.status, 200, JSON.stringify(json));
      return json.summary.requests;
    },
    chat(key) {
      return fetch(`${gw.origin}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }),
      });
    },
    // Stops it with SIGTERM and asserts a clean exit.
    async stop() {
      const r = await gw.stop();
      assert.deepEqual(r, { code: 0, signal: null }, `gateway exit ${JSON.stringify(r)}:\n${gw.child.output}`);
    },
  };
  return g;
}

// Sends `n` chat requests at once, the i-th to gateways[i % gateways.length];
// returns the statuses and the error codes of the refusals.
async function burst(gateways, key, n) {
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const res = await gateways[i % gateways.length].chat(key);
    const body = await res.json();
    return { status: res.status, code: body.error?.code, at: i % gateways.length };
  }));
  return { results, ok: results.filter((r) => r.status === 200).length, elapsedMs: Date.now() - started };
}

// The most requests a GCRA limit of `limit`/min may let through in a burst
// that took elapsedMs: the limit, plus one for each emission interval that
// passed (none when the burst is quick, as it is unless the machine crawls).
function mostAllowed(limit, elapsedMs) {
  return limit + Math.floor(elapsedMs / (60000 / limit));
}

// Everything a test started, stopped in reverse order even when it fails.
// run() returns the first error (a gateway that did not exit cleanly: a
// sanitizer report, a crash) after it has stopped everything else.
function cleanup() {
  const list = [];
  return {
    add(fn) {
      list.push(fn);
    },
    async run() {
      let first;
      while (list.length) {
        try {
          await list.pop()();
        } catch (e) {
          first ??= e;
        }
      }
      return first;
    },
  };
}

// Runs body(done) and then done.run(); throws the body's error, else the
// first error of the cleanup.
async function withCleanup(body) {
  const done = cleanup();
  let error;
  try {
    await body(done);
  } catch (e) {
    error = e;
  }
  const stopError = await done.run();
  if (error) throw error;
  if (stopError) throw stopError;
}

// ---- the tests

describe('two instances on one PostgreSQL and one Redis', () => {
  let mock;
  let db;
  let redisUrl;
  let a;
  let b;
  const done = cleanup();

  before(async () => {
    requireServices();
    mock = await startMock();
    done.add(() => mock.stop());
    db = createDatabase(PG_URL);
    done.add(() => db.drop());
    redisUrl = withDatabase(REDIS_URL, String(1 + crypto.randomInt(15)));
    assert.equal(redisCli(redisUrl, 'FLUSHDB'), 'OK');
    const config = configYaml(mock.url, { store: db.url, redis: redisUrl, limits: ['instances: 2'] });
    a = await gateway(config);
    done.add(() => a.stop());
    b = await gateway(config);
    done.add(() => b.stop());
  });
  after(async () => {
    const e = await done.run();
    if (e) throw e;
  });

  it('a key made on A works on B within 1 s; revoked on A, it is refused on B within 1 s', async () => {
    const deadline = (1000 + KEY_REFRESH_MS) * SLOW;
    const { key, id } = await a.createKey({ name: 'shared' });
    assert.equal((await a.chat(key)).status, 200);
    await until('the new key works on B', async () => (await b.chat(key)).status === 200, deadline);

    const del = await a.admin(`/admin/keys/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal((await a.chat(key)).status, 401, 'refused on A at once');
    const res = await until('the revoked key is refused on B', async () => {
      const r = await b.chat(key);
      return r.status === 401 ? r : null;
    }, deadline);
    assert.match((await res.json()).error.message, /revoked/);
    // Both lists show it revoked; the config key is on both.
    for (const g of [a, b]) {
      const row = await g.knowsKey(id);
      assert.equal(row.revoked, true);
      assert.equal((await g.chat(CFG_KEY)).status, 200);
    }
  });

  it('rate_limit 10: 30 concurrent requests spread over both instances, exactly 10 get through', async () => {
    const { key, id } = await a.createKey({ name: 'rpm10', rate_limit: 10 });
    // B must know the key before the burst (read from its key list: no request spent).
    await until('B loads the key', () => b.knowsKey(id), 5000 * SLOW);
    const { results, ok, elapsedMs } = await burst([a, b], key, 30);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(ok + limited.length, 30, JSON.stringify(results));
    assert.ok(limited.every((r) => r.code === 'rate_limit_exceeded'), JSON.stringify(limited));
    assert.ok(ok >= 10 && ok <= mostAllowed(10, elapsedMs), `${ok} of 30 got through in ${elapsedMs} ms`);
    for (const g of [a, b]) {
      const s = await g.status();
      assert.deepEqual(s.limiter, { kind: 'redis', healthy: true });
      assert.equal(s.limits.degraded_decisions, 0, 'every decision was Redis\'s');
    }
    // Every request, answered or refused, is one usage row in the shared store, whichever instance took it
    // (each instance's admin API writes its own queue out before it reads; the other's within its flush interval).
    await until('all 30 usage rows are in the store', async () =>
      (await a.usageCount(id)) === 30 && (await b.usageCount(id)) === 30, 5000 * SLOW);
    assert.deepEqual(usageRows(db.url, id), [30, 30]);
    const refused = Number(psql(db.url, `SELECT count(*) FROM usage WHERE key_id = '${id}' AND status = 429`));
    assert.equal(refused, 30 - ok);
  });

  it('a budget spent through A is refused on B with insufficient_quota', async () => {
    const { key, id } = await a.createKey({ name: 'budget', budget_limit: ONE_CALL / 2, budget_period: 'daily' });
    await until('B loads the key', () => b.knowsKey(id), 5000 * SLOW);
    assert.equal((await a.chat(key)).status, 200);
    // The charge is in Redis once A's admin API reads it back (no request spent).
    await until('the spend reaches Redis', async () => {
      const row = await a.knowsKey(id);
      return row && Math.abs(row.current_spend - ONE_CALL) < 1e-9;
    }, 5000 * SLOW);
    const res = await b.chat(key);
    const body = await res.json();
    assert.equal(res.status, 429, JSON.stringify(body));
    assert.equal(body.error.code, 'insufficient_quota');
    assert.match(body.error.message, /budget/);
    assert.ok(Number(res.headers.get('retry-after')) > 0);
    const row = await b.knowsKey(id);
    assert.ok(Math.abs(row.current_spend - ONE_CALL) < 1e-9, `B sees the spend: ${row.current_spend}`);
    assert.equal((await a.chat(key)).status, 429, 'and A refuses it too');
    // The usage rows: one answered request with its cost, two refusals without, in the shared store.
    // Each instance writes its own queue (every usage.flush_interval_ms): wait for both.
    await until('all three usage rows are in the store', async () =>
      (await a.usageCount(id)) === 3 && (await b.usageCount(id)) === 3, 5000 * SLOW);
    const [rows] = usageRows(db.url, id);
    assert.equal(rows, 3);
    const cost = Number(psql(db.url, `SELECT sum(cost) FROM usage WHERE key_id = '${id}'`));
    assert.equal(cost, ONE_CALL * 1e6, 'micro-dollars');
  });
});

describe('two instances without Redis', () => {
  it('each instance enforces the limit on its own: 30 requests over two instances, 20 get through', async () => {
    await withCleanup(async (done) => {
      const mock = await startMock();
      done.add(() => mock.stop());
      const config = configYaml(mock.url, {
        store: 'none',
        keys: [`  - name: rpm10\n    key: sk-scale-out-rpm10-key-0000000001\n    rpm: 10\n`],
      });
      const a = await gateway(config);
      done.add(() => a.stop());
      const b = await gateway(config);
      done.add(() => b.stop());
      const { results, ok, elapsedMs } = await burst([a, b], 'sk-scale-out-rpm10-key-0000000001', 30);
      // Local limits: each instance lets 10 through (of its 15), so together twice the limit.
      for (const at of [0, 1]) {
        const mine = results.filter((r) => r.at === at && r.status === 200).length;
        assert.ok(mine >= 10 && mine <= mostAllowed(10, elapsedMs), `instance ${at}: ${mine} of 15`);
      }
      assert.ok(ok >= 20);
      assert.deepEqual((await a.status()).limiter, { kind: 'local', healthy: true });
    });
  });
});

describe('PostgreSQL outages (a PostgreSQL of the test\'s own)', () => {
  let pg;
  let mock;
  const done = cleanup();

  before(async () => {
    pg = await startOwnPostgres();
    done.add(() => pg.destroy());
    mock = await startMock();
    done.add(() => mock.stop());
  });
  after(async () => {
    const e = await done.run();
    if (e) throw e;
  });

  it('the database goes away: requests keep working, records are spooled, and every one lands once it is back',
    async () => {
      if (!pg.up) pg.start();
      const db = createDatabase(pg.url);
      const g = await gateway(configYaml(mock.url, { store: db.url }));
      let stopped = false;
      try {
        const { key, id } = await g.createKey({ name: 'outage' });
        const N = 8;
        const M = 12;
        for (let i = 0; i < N; i++) assert.equal((await g.chat(key)).status, 200);
        assert.equal(await g.usageCount(id), N);

        pg.stop('fast');
        // The request path never waits on the database: a key already loaded
        // keeps working, and so does a config key.
        const statuses = await Promise.all(Array.from({ length: M }, async (_, i) => {
          const res = await g.chat(i % 4 === 3 ? CFG_KEY : key);
          await res.arrayBuffer();
          return res.status;
        }));
        assert.deepEqual(statuses, Array(M).fill(200));
        const during = await until('/status shows the store down and the spool holding records', async () => {
          const s = await g.status();
          return s.store.ok === false && s.usage.store_ok === false && s.usage.spool_bytes > 8 && s.usage.queued === 0
            ? s : null;
        }, 10000 * SLOW);
        assert.equal(during.usage.dropped, 0);
        assert.ok(during.usage.spooled >= M, JSON.stringify(during.usage));
        // What needs the database says so rather than hanging.
        assert.equal((await g.admin(`/admin/usage?key_id=${id}`)).status, 503);

        pg.start();
        const drained = await until('the spool drains into the store', async () => {
          const s = await g.status();
          return s.usage.store_ok && s.usage.spool_bytes <= 8 && s.usage.queued === 0 && s.store.ok ? s : null;
        }, 15000 * SLOW, 100);
        assert.equal(drained.usage.dropped, 0);
        const cfgRows = M / 4;
        assert.deepEqual(usageRows(db.url, id), [N + M - cfgRows, N + M - cfgRows], 'rows, distinct request ids');
        assert.deepEqual(usageRows(db.url, CFG_KEY_ID), [cfgRows, cfgRows]);
        assert.equal(await g.usageCount(id), N + M - cfgRows);
        assert.equal((await g.chat(key)).status, 200, 'the key still works');
        await g.stop();
        stopped = true;
      } finally {
        if (!stopped) await g.gw.stop('SIGKILL');
        if (pg.up) db.drop();
      }
    });

  it('a restart during the outage: spooled by SIGTERM, started again with the database still down, all land once',
    async () => {
      if (!pg.up) pg.start();
      const db = createDatabase(pg.url);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-it-restart-'));
      const config = configYaml(mock.url, { store: db.url });
      const spool = path.join(dir, 'switchyard.usage-spool');
      let g = await gateway(config, { dir });
      let running = true;
      try {
        const N = 5;
        const M = 7;
        const P = 6;
        const { key, id } = await g.createKey({ name: 'restart' });
        for (let i = 0; i < N; i++) assert.equal((await g.chat(CFG_KEY)).status, 200);
        assert.equal(await g.usageCount(CFG_KEY_ID), N);

        pg.stop('fast');
        for (let i = 0; i < M; i++) assert.equal((await g.chat(i % 2 ? key : CFG_KEY)).status, 200);
        await g.stop();
        running = false;
        assert.ok(fs.statSync(spool).size > 8, 'SIGTERM left the records in the spool');

        // Started again while the database is down: it serves (config keys)
        // and keeps what it spools beside the records of the first run.
        g = await gateway(config, { dir });
        running = true;
        for (let i = 0; i < P; i++) assert.equal((await g.chat(CFG_KEY)).status, 200);
        await until('/status shows the store down', async () => {
          const s = await g.status();
          return s.store.ok === false && s.usage.spool_bytes > 8 ? s : null;
        }, 10000 * SLOW);

        pg.start();
        await until('the spool drains into the store', async () => {
          const s = await g.status();
          return s.usage.store_ok && s.usage.spool_bytes <= 8 && s.usage.queued === 0 ? s : null;
        }, 15000 * SLOW, 100);
        const keyRows = Math.floor(M / 2);
        assert.deepEqual(usageRows(db.url, CFG_KEY_ID), [N + M - keyRows + P, N + M - keyRows + P]);
        assert.deepEqual(usageRows(db.url, id), [keyRows, keyRows]);
        // The store's keys come back with the store.
        await until('the store key works again', async () => (await g.chat(key)).status === 200, 10000 * SLOW);
        const s = await g.status();
        assert.equal(s.usage.dropped, 0);
        await g.stop();
        running = false;
      } finally {
        if (running) await g.gw.stop('SIGKILL');
        if (pg.up) db.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  it('chat sessions: started with the database down, the session endpoints answer 503, never an empty history, '
    + 'and come back with it', async () => {
    if (!pg.up) pg.start();
    const db = createDatabase(pg.url);
    // The LLM service's sampling defaults (top_k, repeat_penalty) are local
    // models' parameters: dropped for this remote one.
    const config = configYaml(mock.url, { store: db.url }).replace('type: openai', 'type: openai\n    drop_params: true');
    let g = await gateway(config);
    let running = true;
    const turn = () => fetch(`${g.origin}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CFG_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ 'model-name': 'gpt-4', prompt: 'remember me', 'session-id': 'pg-1', 'max-token': 4 }),
    });
    const get = (pathname) => fetch(`${g.origin}${pathname}`, { headers: { authorization: `Bearer ${CFG_KEY}` } });
    try {
      const first = await turn();
      assert.equal(first.status, 200, await first.clone().text());
      await first.text();
      await g.stop();
      running = false;

      pg.stop('fast');
      g = await gateway(config);
      running = true;
      for (const pathname of ['/sessions', '/chat/history/pg-1']) {
        const res = await get(pathname);
        assert.equal(res.status, 503, pathname);
        assert.equal(res.headers.get('retry-after'), '5');
        assert.match((await res.json()).error, /sessions are unavailable/);
      }
      // A turn now would be answered without its history and recorded over it.
      const refused = await turn();
      assert.equal(refused.status, 503);
      await refused.text();
      assert.equal((await g.chat(CFG_KEY)).status, 200, 'other requests are served');

      pg.start();
      const history = await until('the session endpoints are back with the stored history', async () => {
        const res = await get('/chat/history/pg-1');
        return res.status === 200 ? res.json() : null;
      }, 40000 * SLOW, 200);
      assert.deepEqual(history.filter((m) => m.role === 'user').map((m) => m.content), ['remember me']);
      const second = await turn();
      assert.equal(second.status, 200);
      await second.text();
      const after = await (await get('/chat/history/pg-1')).json();
      assert.deepEqual(after.filter((m) => m.role === 'user').map((m) => m.content), ['remember me', 'remember me']);
      await g.stop();
      running = false;
    } finally {
      if (running) await g.gw.stop('SIGKILL');
      if (pg.up) db.drop();
    }
  });
});

describe('SIGTERM on SQLite', () => {
  it('a burst, then SIGTERM right after the last answer: after a restart every request is counted', async () => {
    await withCleanup(async (done) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-it-sigterm-'));
      done.add(() => fs.rmSync(dir, { recursive: true, force: true }));
      const mock = await startMock();
      done.add(() => mock.stop());
      // A flush interval far longer than the test: only the shutdown writes the queue.
      const config = configYaml(mock.url, { flushMs: 60000 });
      const g = await gateway(config, { dir });
      const N = 40;
      const statuses = await Promise.all(Array.from({ length: N }, async () => {
        const res = await g.chat(CFG_KEY);
        await res.arrayBuffer();
        return res.status;
      }));
      assert.deepEqual(statuses, Array(N).fill(200));
      await g.stop();
      assert.ok(fs.existsSync(path.join(dir, 'switchyard.db')));

      const again = await gateway(config, { dir });
      done.add(() => again.stop());
      assert.equal(await again.usageCount(CFG_KEY_ID), N);
    });
  });
});

describe('Redis goes away and comes back (a redis-server of the test\'s own)', () => {
  it('the gateways keep serving on their local share of the limit, and share it again once Redis is back', async () => {
    await withCleanup(async (done) => {
      const port = await closedPort();
      let redis = await startOwnRedis(port);
      done.add(() => redis.stop());
      const mock = await startMock();
      done.add(() => mock.stop());
      const keys = ['limited', 'again', 'probe'].map((name, i) =>
        `  - name: ${name}\n    key: sk-scale-out-${name}-key-000000000${i}\n    rpm: ${name === 'probe' ? 1000000 : 10}\n`);
      const keyOf = (name) => `sk-scale-out-${name}-key-000000000${['limited', 'again', 'probe'].indexOf(name)}`;
      const config = configYaml(mock.url, { store: 'none', redis: redis.url, limits: ['instances: 2'], keys });
      const a = await gateway(config);
      done.add(() => a.stop());
      const b = await gateway(config);
      done.add(() => b.stop());
      for (const g of [a, b]) assert.equal((await g.chat(keyOf('probe'))).status, 200);
      assert.deepEqual((await a.status()).limiter, { kind: 'redis', healthy: true });

      await redis.stop();
      // Each instance decides alone with limit / instances = 5: the two
      // together stay at the limit.
      const down = await burst([a, b], keyOf('limited'), 30);
      assert.ok(down.results.every((r) => r.status === 200 || (r.status === 429 && r.code === 'rate_limit_exceeded')),
        JSON.stringify(down.results));
      for (const at of [0, 1]) {
        const mine = down.results.filter((r) => r.at === at && r.status === 200).length;
        assert.ok(mine >= 5 && mine <= mostAllowed(5, down.elapsedMs), `instance ${at}: ${mine} of 15 got through`);
      }
      for (const g of [a, b]) {
        const s = await g.status();
        assert.deepEqual(s.limiter, { kind: 'redis', healthy: false });
        assert.ok(s.limits.degraded_decisions >= 15, JSON.stringify(s.limits));
      }

      redis = await startOwnRedis(port);
      // Each instance tries Redis again at most once a second, on a request.
      for (const g of [a, b]) {
        await until('the limiter is healthy again', async () => {
          assert.equal((await g.chat(keyOf('probe'))).status, 200);
          return (await g.status()).limiter.healthy;
        }, 10000 * SLOW, 200);
      }
      // Shared again: A alone gets the whole limit (not its local share of
      // 5), and B then finds the bucket A emptied.
      const degraded = (await a.status()).limits.degraded_decisions + (await b.status()).limits.degraded_decisions;
      const started = Date.now();
      const onA = await burst([a], keyOf('again'), 15);
      const onB = await burst([b], keyOf('again'), 5);
      const most = mostAllowed(10, Date.now() - started);
      assert.ok(onA.ok >= 10 && onA.ok + onB.ok <= most, `A let ${onA.ok} of 15 through, then B ${onB.ok} of 5`);
      for (const r of [...onA.results, ...onB.results]) {
        assert.ok(r.status === 200 || (r.status === 429 && r.code === 'rate_limit_exceeded'), JSON.stringify(r));
      }
      const later = (await a.status()).limits.degraded_decisions + (await b.status()).limits.degraded_decisions;
      assert.equal(later, degraded, 'every decision since was Redis\'s');
    });
  });
});
