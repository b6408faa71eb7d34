// Hostile and broken client traffic on raw sockets: request smuggling and
// framing tricks, oversized bodies, auth before the body, JSON tricks,
// slowloris, connection floods, pipelining, random bytes, a client that never
// reads, request ids, the access log and the disconnect watch. Every wait is
// bounded; everything talks to 127.0.0.1.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  errorOf,
  fdCount,
  parseHttpResponses,
  rssMiB,
  RawConn,
  RSS_LIMIT_MIB,
  SLOW_BUILD,
  startStack,
  waitFor,
  CLIENT_KEY,
} from './harness.mjs';

const MAX_BODY = 1 << 20;
const HEADER_TIMEOUT_S = 2;
const WRITE_TIMEOUT_S = 1;
// How long a server-side close may take to be seen here: generous, since the
// sanitizer build is slow and the machine is shared.
const CLOSE_MS = SLOW_BUILD ? 15000 : 5000;

const messages = [{ role: 'user', content: 'hi' }];
const CHAT = JSON.stringify({ model: 'gpt-4', messages });
const AUTH = `Authorization: Bearer ${CLIENT_KEY}\r\n`;

// A request that must never be answered when it rides behind a rejected one.
const SMUGGLED = `GET /v1/models HTTP/1.1\r\nHost: x\r\n${AUTH}\r\n`;

let stack;
before(async () => {
  stack = await startStack({
    maxBodyBytes: MAX_BODY,
    serverExtra: [
      `header_timeout_s: ${HEADER_TIMEOUT_S}`,
      `write_timeout_s: ${WRITE_TIMEOUT_S}`,
      'access_log: true',
    ],
  });
});
after(async () => {
  await stack?.stop();
});

function chunked(body, size = 7) {
  let out = '';
  for (let i = 0; i < body.length; i += size) {
    const piece = body.slice(i, i + size);
    out += `${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`;
  }
  return `${out}0\r\n\r\n`;
}

// Opens a connection, writes `payload`, and returns it once the server closed
// it or `ms` passed.
async function exchange(payload, ms = CLOSE_MS, port = stack.gateway.port) {
  const c = await RawConn.open(port);
  c.write(payload);
  await c.closedWithin(ms);
  c.destroy();
  return c;
}

// A response that ends its connection says so.
function assertConnectionClose(res) {
  assert.equal(res.headers.connection?.toLowerCase(), 'close', `no Connection: close on a closing response:\n${res.head}`);
}

async function assertServesNormally(s = stack) {
  const res = await s.postJson('/v1/chat/completions', CHAT);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).choices[0].message.content, 'Hello from mock');
}

function assertBounded(s = stack, what = '') {
  const rss = rssMiB(s.gateway.pid);
  assert.ok(rss < RSS_LIMIT_MIB, `gateway RSS ${rss.toFixed(1)} MiB ${what} (limit ${RSS_LIMIT_MIB})`);
}

describe('request smuggling and framing', () => {
  // Most cases are a GET /v1/models whose framing is broken: a gateway that
  // let the framing pass would answer it 200 (see the controls below), so a
  // 400 here is about the framing and nothing else.
  const get = (headers, body = '', version = 'HTTP/1.1') => `GET /v1/models ${version}\r\nHost: x\r\n${AUTH}${headers}\r\n${body}`;
  const post = (headers, body) =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\n${headers}\r\n${body}`;
  const cases = {
    'Transfer-Encoding: chunked, chunked': get('Transfer-Encoding: chunked, chunked\r\n', '0\r\n\r\n'),
    'Transfer-Encoding: gzip': get('Transfer-Encoding: gzip\r\n', '0\r\n\r\n'),
    'Transfer-Encoding: identity': get('Transfer-Encoding: identity\r\n'),
    'Transfer-Encoding: gzip, chunked': get('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'),
    'two Transfer-Encoding: chunked lines': get('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    'Transfer-Encoding on HTTP/1.0': get('Transfer-Encoding: chunked\r\n', '0\r\n\r\n', 'HTTP/1.0'),
    'Content-Length with Transfer-Encoding': get('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    'Transfer-Encoding with Content-Length after it': get('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', '0\r\n\r\n'),
    'a chunked POST with a Content-Length': post(
      `Content-Length: ${chunked(CHAT).length}\r\nTransfer-Encoding: chunked\r\n`,
      chunked(CHAT),
    ),
    'two equal Content-Length headers': get('Content-Length: 0\r\nContent-Length: 0\r\n'),
    'two different Content-Length headers': get('Content-Length: 0\r\nContent-Length: 5\r\n', 'hello'),
    'a Content-Length list': get('Content-Length: 0, 0\r\n'),
    'bare LF line endings': get('X-A: 1\r\n').replaceAll('\r\n', '\n'),
    'a bare LF in one header line': get('X-A: 1\nX-B: 2\r\n'),
    'obs-fold (continuation line with a space)': get('X-Folded: a\r\n b\r\n'),
    'obs-fold (continuation line with a tab)': get('X-Folded: a\r\n\tb\r\n'),
    'a chunk-size line of 8 KiB': post(
      'Transfer-Encoding: chunked\r\n',
      `${'0'.repeat(8192)}${CHAT.length.toString(16)}\r\n${CHAT}\r\n0\r\n\r\n`,
    ),
    'a chunk extension of 8 KiB': post(
      'Transfer-Encoding: chunked\r\n',
      `${CHAT.length.toString(16)};ext=${'a'.repeat(8192)}\r\n${CHAT}\r\n0\r\n\r\n`,
    ),
  };

  // The controls: the same requests, well framed, are served; so are the
  // requests behind them.
  const controls = {
    'a GET with an empty chunked body': get('Transfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    'a GET with Content-Length: 0': get('Content-Length: 0\r\n'),
    'a GET with an ordinary extra header': get('X-A: 1\r\n'),
    'a chunked POST': post('Transfer-Encoding: chunked\r\n', chunked(CHAT)),
    'a chunked POST with a short chunk extension': post(
      'Transfer-Encoding: chunked\r\n',
      `${CHAT.length.toString(16)};ext=1\r\n${CHAT}\r\n0\r\n\r\n`,
    ),
  };
  for (const [name, payload] of Object.entries(controls)) {
    test(`control: ${name} is served, and the request behind it too`, async () => {
      const c = await exchange(payload + SMUGGLED.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
      const responses = parseHttpResponses(c.text);
      assert.deepEqual(responses.map((r) => r.status), [200, 200], c.text.slice(0, 500));
      assert.equal(JSON.parse(responses[1].body).object, 'list');
    });
  }

  for (const [name, payload] of Object.entries(cases)) {
    test(`${name}: 400, then closed, the request behind it unanswered`, async () => {
      const c = await exchange(payload + SMUGGLED);
      const responses = parseHttpResponses(c.text);
      assert.equal(responses[0]?.status, 400, c.text.slice(0, 400));
      errorOf(responses[0].body);
      assertConnectionClose(responses[0]);
      assert.ok(c.closed, 'the connection stayed open after the 400');
      assert.equal(responses.length, 1, `the smuggled request was answered:\n${c.text.slice(0, 1500)}`);
      assert.ok(!c.text.includes('"object":"list"'), 'the smuggled request was answered');
    });
  }

  test('the gateway still serves after the framing attacks', async () => {
    await assertServesNormally();
  });
});

describe('bodies over server.max_body_bytes', () => {
  const BIG = 20 << 20;

  test('a Content-Length over the limit is 413 at once, before the body is sent', async () => {
    const c = await RawConn.open(stack.gateway.port);
    c.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\n` +
        `Content-Length: ${BIG}\r\n\r\n`,
    );
    const answered = await c.until(() => parseHttpResponses(c.text)[0]?.complete, CLOSE_MS);
    const [res] = parseHttpResponses(c.text);
    assert.ok(answered, `no answer while the body was held back: ${c.text.slice(0, 300)}`);
    assert.equal(res.status, 413);
    errorOf(res.body);
    assertConnectionClose(res);
    assert.ok(await c.closedWithin(CLOSE_MS), 'the connection was not closed after the 413');
    c.destroy();
  });

  // Node's http client uploading 20 MiB: it must receive the 413 (the gateway
  // reads and drops the rest before closing), not EPIPE or ECONNRESET.
  function upload20MiB({ withLength }) {
    return new Promise((resolve, reject) => {
      let settled = false;
      const headers = { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' };
      if (withLength) headers['content-length'] = BIG;
      const req = http.request(`${stack.origin}/v1/chat/completions`, { method: 'POST', agent: false, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          settled = true;
          resolve({ status: res.statusCode, headers: res.headers, body });
        });
        res.on('error', () => {});
      });
      req.on('error', (e) => {
        if (!settled) reject(new Error(`upload failed before the response arrived: ${e.code ?? e.message}`));
      });
      req.setTimeout(SLOW_BUILD ? 60000 : 20000, () => req.destroy(new Error('timed out')));
      const piece = Buffer.alloc(1 << 20, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < BIG) {
          sent += piece.length;
          if (!req.write(piece)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
  }

  test('node http uploading 20 MiB with a Content-Length receives the 413', { timeout: 90000 }, async () => {
    const res = await upload20MiB({ withLength: true });
    assert.equal(res.status, 413, res.body);
    errorOf(res.body);
    assert.equal(res.headers.connection, 'close');
  });

  test('node http uploading 20 MiB chunked receives the 413', { timeout: 90000 }, async () => {
    const res = await upload20MiB({ withLength: false });
    assert.equal(res.status, 413, res.body);
    errorOf(res.body);
    assert.equal(res.headers.connection, 'close');
  });

  test('the openai SDK sending a 20 MiB message gets an APIError with status 413', { timeout: 90000 }, async () => {
    const client = stack.client({ timeout: SLOW_BUILD ? 60000 : 20000 });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'x'.repeat(BIG) }] }),
      (err) => {
        assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err}`);
        assert.equal(err.status, 413, String(err));
        return true;
      },
    );
  });

  test('the gateway still serves, with bounded memory, after the uploads', async () => {
    await assertServesNormally();
    assertBounded(stack, 'after 20 MiB uploads');
  });
});

describe('auth before the body', () => {
  const head = (key) =>
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${MAX_BODY - 1000}\r\nExpect: 100-continue\r\n\r\n`;

  test('a wrong key with Expect: 100-continue gets 401 and no 100 Continue, without the body', async () => {
    const c = await RawConn.open(stack.gateway.port);
    c.write(head('sk-wrong-key'));
    await c.until(() => parseHttpResponses(c.text).some((r) => r.status !== 100 && r.complete), CLOSE_MS);
    assert.ok(!/^HTTP\/1\.1 100/m.test(c.text), `100 Continue was sent to a wrong key:\n${c.text.slice(0, 300)}`);
    const [res] = parseHttpResponses(c.text);
    assert.equal(res?.status, 401, c.text.slice(0, 300));
    errorOf(res.body);
    if (await c.closedWithin(CLOSE_MS)) assertConnectionClose(res);
    c.destroy();
  });

  test('the right key with Expect: 100-continue gets 100 Continue, then the answer', async () => {
    const bare = JSON.stringify({ model: 'gpt-4', messages, pad: '' }).length;
    const body = JSON.stringify({ model: 'gpt-4', messages, pad: 'x'.repeat(MAX_BODY - 1000 - bare) });
    assert.equal(Buffer.byteLength(body), MAX_BODY - 1000);
    const c = await RawConn.open(stack.gateway.port);
    c.write(head(CLIENT_KEY));
    const continued = await c.until(() => c.text.startsWith('HTTP/1.1 100 '), CLOSE_MS);
    assert.ok(continued, `no 100 Continue for the right key: ${c.text.slice(0, 300)}`);
    c.write(body);
    await c.until(() => parseHttpResponses(c.text)[1]?.complete, CLOSE_MS);
    c.destroy();
    const [cont, res] = parseHttpResponses(c.text);
    assert.equal(cont.status, 100);
    assert.equal(res?.status, 200, c.text.slice(0, 500));
    assert.equal(JSON.parse(res.body).choices[0].message.content, 'Hello from mock');
  });
});

describe('JSON tricks', () => {
  const bad = {
    'a duplicate top-level "model"': `{"model":"gpt-4","messages":${JSON.stringify(messages)},"model":"echo"}`,
    'a duplicate top-level "stream"': `{"model":"gpt-4","messages":${JSON.stringify(messages)},"stream":false,"stream":true}`,
    'nesting 65 levels deep': `{"model":"gpt-4","messages":${JSON.stringify(messages)},"x":${'['.repeat(64)}${']'.repeat(64)}}`,
    'nesting 30000 levels deep': `{"model":"gpt-4","messages":${JSON.stringify(messages)},"x":${'['.repeat(30000)}${']'.repeat(30000)}}`,
    'nesting 200 objects deep': `{"model":"gpt-4","messages":${JSON.stringify(messages)},"x":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}`,
  };
  for (const [name, body] of Object.entries(bad)) {
    test(`${name} is 400`, async () => {
      const res = await stack.postJson('/v1/chat/completions', body);
      const text = await res.text();
      assert.equal(res.status, 400, text.slice(0, 300));
      errorOf(text);
    });
  }

  test('nesting 20 levels deep is served (the control)', async () => {
    const body = `{"model":"gpt-4","messages":${JSON.stringify(messages)},"x":${'['.repeat(20)}${']'.repeat(20)}}`;
    const res = await stack.postJson('/v1/chat/completions', body);
    assert.equal(res.status, 200, await res.clone().text());
  });

  test('the gateway still serves after the JSON tricks', async () => {
    await assertServesNormally();
  });
});

describe('slowloris', () => {
  test('1000 connections dribbling headers are closed after header_timeout_s; others are served meanwhile', { timeout: 120000 }, async () => {
    const pid = stack.gateway.pid;
    const fdsBefore = fdCount(pid);
    const N = 1000;
    const head = `GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}`;
    const conns = [];
    for (let i = 0; i < N; i += 100) {
      conns.push(...(await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => RawConn.open(stack.gateway.port)))));
    }
    const t0 = Date.now();
    let pos = 0;
    const dribble = () => {
      for (const c of conns) if (!c.closed) c.write(head[pos % head.length]);
      pos++;
    };
    dribble();
    const timer = setInterval(dribble, 300);
    try {
      // Normal requests are served while the slowloris connections are held.
      const client = stack.client();
      for (let i = 0; i < 10; i++) {
        const res = await client.chat.completions.create({ model: 'gpt-4', messages });
        assert.equal(res.choices[0].message.content, 'Hello from mock');
      }
      const fdsDuring = fdCount(pid);
      assert.ok(fdsDuring <= fdsBefore + N + 50, `gateway fds ${fdsBefore} -> ${fdsDuring} with ${N} connections`);
      const allClosed = await waitFor(() => conns.every((c) => c.closed), HEADER_TIMEOUT_S * 1000 + (SLOW_BUILD ? 30000 : 6000), 100);
      const elapsed = Date.now() - t0;
      const open = conns.filter((c) => !c.closed).length;
      assert.ok(allClosed, `${open} of ${N} slowloris connections still open ${elapsed} ms in; header_timeout_s is ${HEADER_TIMEOUT_S}`);
      if (!SLOW_BUILD) {
        assert.ok(elapsed >= HEADER_TIMEOUT_S * 1000 - 300, `all closed after ${elapsed} ms: before header_timeout_s passed?`);
      }
      for (const c of conns) {
        assert.ok(!c.text.includes(' 200 '), 'a slowloris connection was answered');
      }
    } finally {
      clearInterval(timer);
      for (const c of conns) c.destroy();
    }
    const fdsAfter = await waitFor(() => {
      const n = fdCount(pid);
      return n <= fdsBefore + 20 ? n : 0;
    }, 5000, 100);
    assert.ok(fdsAfter, `gateway fds did not come back down: ${fdsBefore} before, ${fdCount(pid)} after`);
    assertBounded(stack, 'after slowloris');
    await assertServesNormally();
  });
});

describe('pipelining', () => {
  test('three requests in one write, one a POST with a body, get three responses in order', async () => {
    const payload =
      `GET /health HTTP/1.1\r\nHost: x\r\n\r\n` +
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(CHAT)}\r\n\r\n${CHAT}` +
      `GET /v1/models HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`;
    const c = await exchange(payload);
    const responses = parseHttpResponses(c.text);
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200], c.text.slice(0, 800));
    assert.equal(JSON.parse(responses[0].body).status, 'healthy');
    assert.equal(JSON.parse(responses[1].body).choices[0].message.content, 'Hello from mock');
    assert.equal(JSON.parse(responses[2].body).object, 'list');
    assert.ok(c.closed, 'Connection: close was not honoured');
  });
});

// Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('random bytes', () => {
  // Each buffer on its own connection, 100 at a time; `check` sees each
  // connection once the server closed it, or (with `untilAnswered`) once a
  // complete response came, at the latest after header_timeout_s and a margin.
  async function fire(buffers, check, { untilAnswered = false } = {}) {
    const one = async (b) => {
      const c = await RawConn.open(stack.gateway.port);
      c.write(b);
      await c.until(() => untilAnswered && parseHttpResponses(c.text)[0]?.complete, HEADER_TIMEOUT_S * 1000 + CLOSE_MS);
      c.destroy();
      return c;
    };
    for (let i = 0; i < buffers.length; i += 100) {
      const conns = await Promise.all(buffers.slice(i, i + 100).map(one));
      conns.forEach((c, j) => check(c, i + j));
    }
  }
  const hex = (b) => b.subarray(0, 64).toString('hex');

  test('300 seeded random buffers each get a 400 or a close', { timeout: 180000 }, async () => {
    const next = rng(0x5eed);
    const buffers = Array.from({ length: 300 }, () => {
      const b = Buffer.alloc(1 + Math.floor(next() * 2048));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(next() * 256);
      return b;
    });
    await fire(buffers, (c, i) => {
      assert.ok(c.closed, `buffer #${i} (${hex(buffers[i])}...): connection left open`);
      if (c.text.length > 0) {
        const [res] = parseHttpResponses(c.text);
        assert.equal(res?.status, 400, `buffer #${i} (${hex(buffers[i])}...): ${c.text.slice(0, 200)}`);
      }
    });
    assert.equal(process.kill(stack.gateway.pid, 0), true);
    await assertServesNormally();
  });

  test('300 seeded mutations of a valid request never get a 5xx and never crash the gateway', { timeout: 180000 }, async () => {
    const next = rng(0xbadc0de);
    const valid = Buffer.from(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(CHAT)}\r\nConnection: close\r\n\r\n${CHAT}`,
      'latin1',
    );
    const buffers = Array.from({ length: 300 }, () => {
      const b = Buffer.from(valid);
      const flips = 1 + Math.floor(next() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      return b;
    });
    // A mutation may still be a valid request (kept alive, or waiting for a
    // longer body): only the statuses are judged.
    await fire(buffers, (c, i) => {
      for (const res of parseHttpResponses(c.text)) {
        assert.ok(res.status >= 200 && res.status < 500, `mutation #${i}: status ${res.status}\n${buffers[i].toString('latin1').slice(0, 300)}`);
      }
    }, { untilAnswered: true });
    assert.equal(process.kill(stack.gateway.pid, 0), true);
    await assertServesNormally();
  });
});

describe('a client that never reads', () => {
  test('a big stream to a socket that never reads is dropped after write_timeout_s; others are served meanwhile', { timeout: 120000 }, async () => {
    await stack.mock.reset();
    const body = JSON.stringify({ model: 'mock/big-stream-64', messages, stream: true });
    const c = await RawConn.open(stack.gateway.port, { read: false });
    const t0 = Date.now();
    c.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    try {
      const started = await waitFor(async () => (await stack.mock.stats()).streams_started >= 1, CLOSE_MS, 50);
      assert.ok(started, 'the big stream never started upstream');
      // Others are served while that client is stuck.
      for (let i = 0; i < 5; i++) await assertServesNormally();
      const stats = await waitFor(async () => {
        const s = await stack.mock.stats();
        return s.streams_aborted >= 1 ? s : null;
      }, WRITE_TIMEOUT_S * 1000 + (SLOW_BUILD ? 40000 : 10000), 100);
      const elapsed = Date.now() - t0;
      assert.ok(stats, `the stuck client was not dropped ${elapsed} ms in: ${JSON.stringify(await stack.mock.stats())}`);
      assert.equal(stats.streams_completed, 0, '64 MiB cannot have reached a client that reads nothing');
      if (!SLOW_BUILD) assert.ok(elapsed >= WRITE_TIMEOUT_S * 1000, `dropped after ${elapsed} ms, before write_timeout_s`);
      // Reading now: what was buffered, then the end, without a final chunk.
      c.sock.resume();
      assert.ok(await c.closedWithin(CLOSE_MS), 'the gateway kept the stuck connection open');
      assert.ok(c.bytes < 64 << 20);
      assert.ok(!c.text.endsWith('0\r\n\r\n'), 'a dropped stream ended as if complete');
      assertBounded(stack, 'after a 64 MiB stream to a stuck client');
    } finally {
      c.destroy();
    }
  });
});

describe('x-request-id', () => {
  const VALID = /^[\x21-\x7e]{1,128}$/;

  test('every response carries one', async () => {
    const requests = [
      () => fetch(`${stack.origin}/health`),
      () => fetch(`${stack.origin}/`),
      () => stack.fetch('/v1/models'),
      () => stack.postJson('/v1/chat/completions', CHAT),
      () => stack.postJson('/v1/chat/completions', { model: 'gpt-4', messages, stream: true }),
      () => stack.postJson('/v1/chat/completions', CHAT, { headers: { authorization: 'Bearer nope' } }),
      () => stack.fetch('/v1/no/such/path'),
      () => stack.postJson('/v1/chat/completions', '{"model":'),
      () => stack.postJson('/v1/chat/completions', { model: 'mock/status-500', messages }),
    ];
    const ids = [];
    for (const request of requests) {
      const res = await request();
      await res.arrayBuffer();
      const id = res.headers.get('x-request-id');
      assert.ok(id && VALID.test(id), `${res.url} ${res.status}: x-request-id ${JSON.stringify(id)}`);
      ids.push(id);
    }
    assert.equal(new Set(ids).size, ids.length, `request ids repeat: ${ids}`);
  });

  test('a 400 for broken framing and a 413 carry one too', async () => {
    for (const payload of [
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello`,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: ${MAX_BODY + 1}\r\n\r\n`,
    ]) {
      const c = await exchange(payload);
      const [res] = parseHttpResponses(c.text);
      assert.ok(res && res.status >= 400, c.text.slice(0, 300));
      assert.ok(VALID.test(res.headers['x-request-id'] ?? ''), `no x-request-id on:\n${res.head}`);
    }
  });

  test('a valid client id is echoed, on success and on error', async () => {
    const ok = await stack.postJson('/v1/chat/completions', CHAT, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-request-id'), 'abc-123');
    const err = await stack.postJson('/v1/chat/completions', CHAT, {
      headers: { 'x-request-id': 'abc-124', authorization: 'Bearer nope' },
    });
    assert.equal(err.status, 401);
    assert.equal(err.headers.get('x-request-id'), 'abc-124');
  });

  const invalid = {
    '300 characters': 'a'.repeat(300),
    'a space': 'abc 123',
    'a tab': 'abc\t123',
    'a control character': 'abc\x01123',
    'a DEL': 'abc\x7f123',
    'a quote and a semicolon': 'abc";x=1',
  };
  for (const [name, value] of Object.entries(invalid)) {
    test(`an id with ${name} is replaced by a generated one`, async () => {
      const c = await exchange(`GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${value}\r\nConnection: close\r\n\r\n`);
      const [res] = parseHttpResponses(c.text);
      assert.ok(res, c.text.slice(0, 300));
      const id = res.headers['x-request-id'];
      assert.ok(id && VALID.test(id), `x-request-id ${JSON.stringify(id)} on:\n${res.head}`);
      assert.notEqual(id, value.trim());
      assert.ok(!res.head.includes(value), 'the invalid id was echoed');
    });
  }
});

// The gateway's output (stdout and stderr) holds the access log; the line for
// a request is found by its request id.
async function accessLine(s, id) {
  const line = await waitFor(
    () => s.gateway.child.output.split('\n').find((l) => l.includes(id)),
    SLOW_BUILD ? 10000 : 3000,
  );
  assert.ok(line, `no access log line with id ${id}; output ends:\n${s.gateway.child.output.slice(-1000)}`);
  return line;
}

describe('access log', () => {
  test('the line for a request has its request id and the client address', async () => {
    const res = await stack.postJson('/v1/chat/completions', CHAT, { headers: { 'x-request-id': 'log-line-1' } });
    assert.equal(res.status, 200);
    const line = await accessLine(stack, 'log-line-1');
    assert.match(line, /127\.0\.0\.1/);
    assert.match(line, /\b200\b/);
  });

  test('a key in the query string is not logged', async () => {
    const res = await stack.fetch('/v1/models?key=SECRET123&x=1', { headers: { 'x-request-id': 'log-secret-1' } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await accessLine(stack, 'log-secret-1');
    assert.ok(!stack.gateway.child.output.includes('SECRET123'), 'SECRET123 is in the gateway output');
  });

  test('without trusted_proxies, X-Forwarded-For is ignored', async () => {
    const res = await stack.fetch('/v1/models', { headers: { 'x-request-id': 'log-xff-1', 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(res.status, 200);
    const line = await accessLine(stack, 'log-xff-1');
    assert.match(line, /127\.0\.0\.1/);
    assert.ok(!line.includes('203.0.113.7'), line);
  });

  test('with trusted_proxies 127.0.0.1/32, the X-Forwarded-For address is logged', async () => {
    const s = await startStack({ serverExtra: ['access_log: true', 'trusted_proxies: ["127.0.0.1/32"]'] });
    try {
      const res = await s.fetch('/v1/models', { headers: { 'x-request-id': 'log-xff-2', 'x-forwarded-for': '203.0.113.7' } });
      assert.equal(res.status, 200);
      const line = await accessLine(s, 'log-xff-2');
      assert.match(line, /203\.0\.113\.7/);
    } finally {
      await s.stop();
    }
  });
});

describe('disconnect watch', () => {
  test('a client leaving after sending pipelined bytes mid-stream aborts the upstream stream', { timeout: 90000 }, async () => {
    await stack.mock.reset();
    // drip-30000-3: the first content chunk at once, the next 30 s later, so
    // only the watch (not a failed write) can notice the client leaving.
    const body = JSON.stringify({ model: 'mock/drip-30000-3', messages, stream: true });
    const c = await RawConn.open(stack.gateway.port);
    c.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    assert.ok(await c.until(() => c.text.includes('"tok0"'), CLOSE_MS), `no first chunk: ${c.text.slice(0, 300)}`);
    // The watch's first read gets these bytes; it must keep watching after it.
    c.write('GET /health HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 300));
    c.destroy();
    const stats = await waitFor(async () => {
      const s = await stack.mock.stats();
      return s.streams_aborted >= 1 ? s : null;
    }, SLOW_BUILD ? 20000 : 8000, 100);
    assert.ok(stats, `the upstream stream was not aborted: ${JSON.stringify(await stack.mock.stats())}`);
    assert.equal(stats.streams_completed, 0);
  });
});

describe('connection flood past server.max_connections', () => {
  const CAP = 100;
  let flood;
  before(async () => {
    flood = await startStack({ serverExtra: [`max_connections: ${CAP}`] });
  });
  after(async () => {
    await flood?.stop();
  });

  test('300 sockets: those past the cap are closed at once without a response; then normal service', { timeout: 120000 }, async () => {
    const pid = flood.gateway.pid;
    const fdsBefore = fdCount(pid);
    const conns = [];
    for (let i = 0; i < 300; i++) {
      const c = await RawConn.open(flood.gateway.port);
      c.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      conns.push(c);
    }
    try {
      // Accepted ones are answered and kept alive (idle_timeout_s is 75 s); the rest closed.
      await waitFor(() => conns.every((c) => c.closed || parseHttpResponses(c.text)[0]?.complete), CLOSE_MS, 50);
      const closed = conns.filter((c) => c.closed);
      const open = conns.filter((c) => !c.closed);
      assert.ok(open.length <= CAP, `${open.length} connections held with max_connections ${CAP}`);
      assert.ok(open.length >= CAP - 10, `only ${open.length} connections held with max_connections ${CAP}`);
      for (const c of closed) assert.equal(c.text, '', `a connection past the cap got a response: ${c.text.slice(0, 200)}`);
      for (const c of open) assert.equal(parseHttpResponses(c.text)[0]?.status, 200);
      assert.ok(fdCount(pid) <= fdsBefore + CAP + 20, `gateway fds ${fdsBefore} -> ${fdCount(pid)}`);
      assertBounded(flood, 'during the flood');
      // /health counts them (it needs a connection of its own: one held one goes).
      open[0].destroy();
      await waitFor(() => fdCount(pid) < fdsBefore + open.length, CLOSE_MS, 20);
      const health = await (await fetch(`${flood.origin}/health`)).json();
      assert.equal(health.connections?.max, CAP, JSON.stringify(health));
      assert.equal(health.connections.rejected_total, closed.length, JSON.stringify(health));
    } finally {
      for (const c of conns) c.destroy();
    }
    const settled = await waitFor(() => fdCount(pid) <= fdsBefore + 5, CLOSE_MS, 50);
    assert.ok(settled, `gateway fds did not come back down: ${fdsBefore} before, ${fdCount(pid)} after`);
    for (let i = 0; i < 5; i++) await assertServesNormally(flood);
  });

  test('while fewer than max_connections sockets are held open, normal requests are served', { timeout: 60000 }, async () => {
    const held = [];
    for (let i = 0; i < CAP - 10; i++) held.push(await RawConn.open(flood.gateway.port));
    try {
      // Long enough for a close "at once" to have arrived.
      await new Promise((r) => setTimeout(r, SLOW_BUILD ? 3000 : 1000));
      assert.equal(held.filter((c) => c.closed).length, 0, 'connections under the cap were closed');
      for (let i = 0; i < 5; i++) await assertServesNormally(flood);
      const res = await flood.client().chat.completions.create({ model: 'gpt-4', messages });
      assert.equal(res.choices[0].message.content, 'Hello from mock');
    } finally {
      for (const c of held) c.destroy();
    }
  });
});
