// Integration test harness: starts the project's mock upstream and the real
// switchyard binary on free ports, writes the gateway's config, and stops both.
//
//   const stack = await startStack();         // mock + gateway with the default config
//   const client = stack.client();            // official openai SDK pointed at the gateway
//   ... await stack.stop();                   // SIGTERM both, returns the gateway's exit
//
// Binaries: $SWITCHYARD_BIN (default build/switchyard) and $MOCK_UPSTREAM_BIN
// (default build/mock_upstream), relative to the repository root.
// Set SWITCHYARD_TEST_LOG=1 to see the gateway's stderr live.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const GATEWAY_BIN = path.resolve(ROOT, process.env.SWITCHYARD_BIN || 'build/switchyard');
export const MOCK_BIN = path.resolve(ROOT, process.env.MOCK_UPSTREAM_BIN || 'build/mock_upstream');

export const CLIENT_KEY = 'sk-client-test-key-0123456789';
export const UPSTREAM_KEY = 'sk-upstream-secret';
// Sanitizer builds start and run several times slower, and use more memory
// (shadow memory, the quarantine of freed blocks): never assert wall-clock
// timings on them, and scale memory bounds with RSS_LIMIT_MIB.
export const SLOW_BUILD = /asan|sanitize/.test(GATEWAY_BIN);
const START_TIMEOUT_MS = SLOW_BUILD ? 30000 : 10000;
// Upper bound on the gateway's resident memory after hostile traffic.
export const RSS_LIMIT_MIB = SLOW_BUILD ? 512 : 200;

// A child process whose output is kept (the last 256 KiB) for failure messages.
class Child {
  constructor(name, bin, args, env = undefined) {
    this.name = name;
    this.output = '';
    this.proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : undefined });
    this.exited = once(this.proc, 'exit').then(([code, signal]) => ({ code, signal }));
    const keep = (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-256 * 1024);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    if (process.env.SWITCHYARD_TEST_LOG) this.proc.stderr.pipe(process.stderr);
  }

  get pid() {
    return this.proc.pid;
  }

  // Resolves with the match of `re` against stdout once a line matches.
  waitForLine(re, timeoutMs = START_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      let buf = '';
      const onData = (chunk) => {
        buf += chunk.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = re.exec(line);
          if (m) {
            done();
            resolve(m);
            return;
          }
        }
      };
      const onExit = (code, signal) => {
        done();
        reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before ready:\n${this.output}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.proc.stdout.off('data', onData);
        this.proc.off('exit', onExit);
      };
      this.proc.stdout.on('data', onData);
      this.proc.on('exit', onExit);
    });
  }

  // Sends `signal` and waits for the exit; SIGKILL after `graceMs`.
  async stop(signal = 'SIGTERM', graceMs = 15000) {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

// Starts build/mock_upstream on a free port.
export async function startMock() {
  const child = new Child('mock_upstream', MOCK_BIN, ['--listen', '127.0.0.1:0']);
  const m = await child.waitForLine(/^mock_upstream listening on 127\.0\.0\.1:(\d+)$/);
  const port = Number(m[1]);
  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    child,
    url: `${base}/v1`,
    async stats() {
      const res = await fetch(`${base}/_mock/stats`);
      return res.json();
    },
    async reset() {
      await fetch(`${base}/_mock/reset`, { method: 'POST' });
    },
    stop: () => child.stop(),
  };
}

// A port that nothing listens on (bound, then closed).
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// A provider entry (a YAML list item under providers:) of type openai with one
// key; `lines` are extra YAML lines for it, e.g. ['timeout_s: 1'].
export function providerYaml(id, baseUrl, lines = []) {
  return `  - id: ${id}
    type: openai
    base_url: ${baseUrl}
    keys:
      - id: key1
        value: ${UPSTREAM_KEY}
${lines.map((l) => `    ${l}\n`).join('')}`;
}

// The gateway config used by the tests. `opts` may set serverExtra (YAML lines
// under server:), extraProviders and extraModels (YAML list items;
// extraProviders may be a function of the mock's port returning them),
// maxBodyBytes (server.max_body_bytes, 65536 unless set) and shutdownTimeoutS.
export function gatewayConfig(mockPort, opts = {}) {
  const mockUrl = `http://127.0.0.1:${mockPort}/v1`;
  const extraProviders =
    typeof opts.extraProviders === 'function' ? opts.extraProviders(mockPort) : (opts.extraProviders ?? []);
  return `# written by tests/integration/harness.mjs
server:
  listen: 127.0.0.1:8080   # overridden by --listen
  auth: keys
  max_body_bytes: ${opts.maxBodyBytes ?? 65536}
  shutdown_timeout_s: ${opts.shutdownTimeoutS ?? 3}
${(opts.serverExtra ?? []).map((l) => `  ${l}\n`).join('')}keys:
  - name: test
    key: ${CLIENT_KEY}
providers:
  - id: mock
    type: openai
    base_url: ${mockUrl}
    keys:
      - id: key1
        value: ${UPSTREAM_KEY}
        weight: 1
    headers: {X-Extra: "yes"}
    timeout_s: 30
  - id: mockslow
    type: openai
    base_url: ${mockUrl}
    keys:
      - id: key1
        value: ${UPSTREAM_KEY}
    timeout_s: 2
${extraProviders.join('')}models:
  - name: gpt-4
    target: mock/gpt-4o
  - name: echo
    target: mock/echo
  - name: echo-alias
    target: mock/echo
  - name: text-embedding
    target: mock://text-embedding-3-small
${(opts.extraModels ?? []).join('')}`;
}

let configCounter = 0;

// Starts the gateway with `configText` on a free port. opts.env: extra
// environment variables; opts.dir: the folder for the config (and the default
// SQLite store beside it), kept on stop (default: a new temporary folder,
// removed on stop); opts.listen: HOST:PORT instead of a free port.
export async function startGateway(configText, opts = {}) {
  const ownDir = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-it-'));
  const configPath = opts.configPath ?? path.join(dir, `switchyard-${process.pid}-${configCounter++}.yaml`);
  fs.writeFileSync(configPath, configText);
  const child = new Child('switchyard', GATEWAY_BIN, [
    'serve', '--config', configPath, '--listen', opts.listen ?? '127.0.0.1:0',
  ], opts.env);
  let m;
  try {
    m = await child.waitForLine(/switchyard listening on 127\.0\.0\.1:(\d+)/);
  } catch (e) {
    await child.stop('SIGKILL');
    throw e;
  }
  const port = Number(m[1]);
  return {
    port,
    child,
    pid: child.pid,
    configPath,
    origin: `http://127.0.0.1:${port}`,
    baseURL: `http://127.0.0.1:${port}/v1`,
    dir,
    async stop(signal = 'SIGTERM') {
      const result = await child.stop(signal);
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
      return result;
    },
  };
}

// Mock + gateway. stop() returns the gateway's { code, signal } and throws if
// it did not exit cleanly (a sanitizer report, a crash, a hang).
export async function startStack(opts = {}) {
  const mock = await startMock();
  let gateway;
  try {
    gateway = await startGateway(gatewayConfig(mock.port, opts));
  } catch (e) {
    await mock.stop();
    throw e;
  }
  return {
    mock,
    gateway,
    origin: gateway.origin,
    baseURL: gateway.baseURL,
    client(options = {}) {
      return new OpenAI({
        apiKey: CLIENT_KEY,
        baseURL: gateway.baseURL,
        maxRetries: 0,
        timeout: 30000,
        ...options,
      });
    },
    // fetch against the gateway with the client key unless headers say otherwise.
    fetch(pathname, init = {}) {
      const headers = { authorization: `Bearer ${CLIENT_KEY}`, ...(init.headers ?? {}) };
      for (const k of Object.keys(headers)) if (headers[k] === undefined) delete headers[k];
      return fetch(`${gateway.origin}${pathname}`, { ...init, headers });
    },
    postJson(pathname, body, init = {}) {
      return this.fetch(pathname, {
        method: 'POST',
        ...init,
        headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    },
    async stop() {
      const result = await gateway.stop();
      await mock.stop();
      if (result.code !== 0) {
        throw new Error(`switchyard exited with ${JSON.stringify(result)}; output:\n${gateway.child.output}`);
      }
      return result;
    },
  };
}

// Resident memory (MiB) and open file descriptors of a live process, from /proc.
export function rssMiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

export function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

// Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns
// the last value.
export async function waitFor(fn, timeoutMs = 5000, intervalMs = 25) {
  const deadline = Date.now() + timeoutMs;
  let v;
  while (!(v = await fn()) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return v;
}

// Reads an SSE response body (fetch Response) into its `data:` payloads.
export async function readSse(res) {
  const text = await res.text();
  return text
    .split('\n\n')
    .map((ev) => ev.trim())
    .filter((ev) => ev.startsWith('data:'))
    .map((ev) => ev.slice(5).trim());
}

// Sends raw bytes on a new TCP connection to `port` and resolves with
// everything received until the server closes it or `idleMs` passes quietly.
export function rawExchange(port, payloads, idleMs = 1500) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let closed = false;
    let timer;
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: data.toString('latin1'), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    };
    sock.on('connect', () => {
      for (const p of Array.isArray(payloads) ? payloads : [payloads]) sock.write(p);
      arm();
    });
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      arm();
    });
    sock.on('end', () => {
      closed = true;
      finish();
    });
    sock.on('error', (e) => {
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') {
        closed = true;
        finish();
      } else {
        reject(e);
      }
    });
  });
}

// Splits raw HTTP/1.1 response text into responses:
// [{status, headers, body, complete, head}]. Handles Content-Length and chunked
// bodies; `complete` is false for a response whose body was cut short (fewer
// bytes than its Content-Length, no terminating chunk, a malformed chunk).
// `head` is the raw header block; `headers` keeps the last value of a name.
export function parseHttpResponses(text) {
  const out = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const lines = head.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    rest = rest.slice(end + 4);
    let body = '';
    let complete = false;
    if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      for (;;) {
        const nl = rest.indexOf('\r\n');
        if (nl < 0) break;
        const size = parseInt(rest.slice(0, nl), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          const trailerEnd = rest.indexOf('\r\n\r\n', nl);
          if (trailerEnd < 0) break;
          rest = rest.slice(trailerEnd + 4);
          complete = true;
          break;
        }
        if (rest.length < nl + 2 + size + 2) {
          body += rest.slice(nl + 2);
          rest = '';
          break;
        }
        body += rest.slice(nl + 2, nl + 2 + size);
        rest = rest.slice(nl + 2 + size + 2);
      }
    } else {
      const len = Number(headers['content-length'] ?? 0);
      body = rest.slice(0, len);
      rest = rest.slice(len);
      complete = body.length === len;
    }
    out.push({ status, headers, body, complete, head });
    if (!complete) break;
  }
  return out;
}

// A raw TCP connection to 127.0.0.1:`port` that keeps what it receives (the
// first 16 MiB; `bytes` counts all).
//   const c = await RawConn.open(port); c.write(bytes);
//   await c.until(() => c.text.includes('\r\n\r\n'), 2000);  // true when it held in time
//   await c.closedWithin(2000);  // true once the server closed (EOF or reset)
export class RawConn {
  static open(port, opts = {}) {
    return new Promise((resolve, reject) => {
      const c = new RawConn(net.connect(port, '127.0.0.1'), opts);
      c.sock.once('connect', () => resolve(c));
      c.sock.once('error', (e) => {
        if (!c.connected) reject(e);
      });
    });
  }

  // `keep`: bytes kept for `text` (the rest is only counted in `bytes`);
  // `read: false`: never read (the socket is paused).
  constructor(sock, { read = true, keep = 16 << 20 } = {}) {
    this.sock = sock;
    this.chunks = [];
    this.kept = 0;
    this.keep = keep;
    this.bytes = 0;
    this.closed = false;   // EOF or reset from the server
    this.closeKind = null; // 'end' | 'reset' | the error code
    this.connected = false;
    this.waiters = new Set();
    sock.on('connect', () => (this.connected = true));
    sock.on('data', (d) => {
      if (this.kept < this.keep) {
        const part = d.subarray(0, this.keep - this.kept);
        this.chunks.push(part);
        this.kept += part.length;
      }
      this.bytes += d.length;
      this.notify();
    });
    sock.on('end', () => this.markClosed('end'));
    // 'close' also follows our own destroy(): that is not the server closing.
    sock.on('close', () => {
      if (!this.destroyedHere) this.markClosed('close');
    });
    sock.on('error', (e) => this.markClosed(e.code === 'ECONNRESET' ? 'reset' : e.code ?? 'error'));
    if (!read) sock.pause();
  }

  markClosed(kind) {
    if (!this.closed) {
      this.closed = true;
      this.closeKind = kind;
    }
    this.notify();
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  get text() {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks.length ? this.chunks[0].toString('latin1') : '';
  }

  write(data) {
    if (!this.sock.destroyed) this.sock.write(data);
  }

  // Resolves true once pred() holds, false after `ms` or once the connection
  // closed with pred() still false.
  until(pred, ms) {
    return new Promise((resolve) => {
      let timer;
      const check = () => {
        const ok = pred();
        if (ok || this.closed) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(!!ok);
        }
      };
      timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(!!pred());
      }, ms);
      this.waiters.add(check);
      check();
    });
  }

  // Resolves true once the server closed the connection (EOF or reset), false after `ms`.
  closedWithin(ms) {
    return this.until(() => this.closed, ms);
  }

  destroy() {
    this.destroyedHere = true;
    this.sock.destroy();
  }
}

// Asserts an OpenAI-shaped error body and returns its error object.
export function errorOf(body) {
  const parsed = typeof body === 'string' ? JSON.parse(body) : body;
  if (!parsed || typeof parsed.error !== 'object' || parsed.error === null) {
    throw new Error(`not an OpenAI error body: ${JSON.stringify(body)}`);
  }
  const { message, type, code } = parsed.error;
  if (typeof message !== 'string' || message.length === 0) throw new Error(`error.message missing: ${JSON.stringify(body)}`);
  if (typeof type !== 'string' || type.length === 0) throw new Error(`error.type missing: ${JSON.stringify(body)}`);
  if (!('code' in parsed.error)) throw new Error(`error.code missing: ${JSON.stringify(body)}`);
  return parsed.error;
}
